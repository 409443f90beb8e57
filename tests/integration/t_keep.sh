#!/bin/bash
# tests/integration/t_keep.sh - `cellar keep`, Barman's keep annotation (TAP).
#
# A synthetic catalogue, no PostgreSQL: three DONE backups and a FAILED one
# under server `main` (REDUNDANCY 1), and a second server `other` with the
# same backups and no retention policy, in a home owned by the `barman` OS user (barman_user =
# barman); cellar runs as root and becomes barman. Shown:
#   - keep --target full writes base/ID/annotations/keep as Barman 3.4 does
#     (owned by barman), and Barman 3.4's keep --status reads it; cellar's
#     --status prints what Barman's prints, for full, standalone and nokeep;
#   - a backup kept by a Barman >= 3.13.3 (meta/ID-keep) is kept for cellar
#     too: --status, delete refused, cron's retention leaves it;
#   - cron's retention deletes the unkept obsolete backups and leaves the
#     kept one; after --release (both places removed, annotations/ gone) the
#     next cron deletes it; the other server is untouched;
#   - a FAILED backup cannot be kept (Barman's message, exit 1); a command
#     line with none or two of --target, --status, --release, or a bad
#     target, exits 2 and writes nothing.
# Run: tests/run.sh tests/integration/t_keep.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 26

[ "$(id -u)" -eq 0 ] || tap_bail "needs root (cellar becomes the barman user)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"
command -v barman >/dev/null || tap_bail "barman is not installed"

home=$T/home
conf=$T/cellar.conf
NOW=$(date +%s)
seg() { printf '00000001000000%010X' "$1"; }

# catalogue DIR - backups 1..4 (hours ago 96, 72, 48, 24; the third FAILED)
# and an xlog.db covering their WAL
catalogue() {
    local dir=$1 k end id status
    mkdir -p "$dir/base" "$dir/wals" "$dir/incoming" "$dir/streaming" "$dir/errors" || return 1
    IDS=()
    for k in 1 2 3 4; do
        end=$((NOW - (5 - k) * 24 * 3600))
        id=$(date -u -d "@$((end - 60))" +%Y%m%dT%H%M%S)
        IDS+=("$id")
        status=DONE
        [ "$k" = 3 ] && status=FAILED
        mkdir -p "$dir/base/$id" || return 1
        {
            printf 'status=%s\nserver_name=%s\n' "$status" "$(basename "$dir")"
            printf 'begin_time=%s\n' "$(date -u -d "@$((end - 60))" '+%Y-%m-%d %H:%M:%S+00:00')"
            printf 'end_time=%s\n' "$(date -u -d "@$end" '+%Y-%m-%d %H:%M:%S+00:00')"
            printf 'begin_wal=%s\nend_wal=%s\n' "$(seg $((2 * k)))" "$(seg $((2 * k)))"
            printf 'begin_xlog=0/%X000028\nend_xlog=0/%X000100\n' $((2 * k)) $((2 * k))
            printf 'size=1048576\ntimeline=1\nversion=150000\nxlog_segment_size=16777216\n'
            printf 'pgdata=/srv/pg/15/main\nmode=rsync-concurrent\n'
        } >"$dir/base/$id/backup.info"
    done
    for ((k = 1; k <= 9; k++)); do
        printf '%s\t16777216\t%d.5\tNone\n' "$(seg "$k")" $((NOW - 200 * 3600 + k * 3600))
    done >"$dir/wals/xlog.db"
}
catalogue "$home/main" || tap_bail "cannot write main's catalogue"
catalogue "$home/other" || tap_bail "cannot write other's catalogue"
chown -R barman: "$home"
{
    printf '[barman]\nbarman_home = %s\nbarman_user = barman\nlog_file = %s/cellar.log\n' \
        "$home" "$home"
    for s in main other; do
        printf '\n[%s]\ndescription = "keep %s"\n' "$s" "$s"
        printf 'conninfo = host=/nonexistent dbname=postgres\nbackup_method = postgres\n'
        printf 'archiver = on\n'
        [ "$s" = main ] && printf 'retention_policy = REDUNDANCY 1\n'
    done
} >"$conf"
chmod 644 "$conf"
touch "$home/cellar.log" && chown barman: "$home/cellar.log"
b1=${IDS[0]} b2=${IDS[1]} b3=${IDS[2]} b4=${IDS[3]}

cel() { "$CELLAR" -c "$conf" "$@"; }
bar() { runuser -u barman -- barman -c "$conf" "$@"; }

# --- keep, as Barman 3.4 writes and reads it -----------------------------------------
ok "keep --target full exits 0" cel keep main "$b1" --target full
is "$(cat "$home/main/base/$b1/annotations/keep")" "full" "the annotation says full, as Barman's"
is "$(stat -c %U "$home/main/base/$b1/annotations/keep")" "barman" "and is owned by barman"
is "$(bar keep main "$b1" --status 2>&1)" "$(printf 'Server main:\n\tKeep: full')" \
    "Barman 3.4 reads cellar's keep"
is "$(cel keep main "$b1" --status)" "$(printf 'Server main:\n\tKeep: full')" \
    "cellar's --status prints Barman's lines"
bar keep main "$b2" --target standalone >/dev/null 2>&1
like "$(cel keep main "$b2" --status)" "Keep: standalone" "cellar reads Barman's standalone keep"
is "$(cel keep main "$b4" --status)" "$(bar keep main "$b4" --status 2>&1)" \
    "an unkept backup: cellar's --status is Barman's (nokeep)"
like "$(cel -f json keep main "$b2" --status)" '"keep":"standalone"' "JSON gives the target"

# --- refusals ------------------------------------------------------------------------
out=$(cel keep main "$b3" --target full 2>&1)
is "$?" 1 "keeping a FAILED backup exits 1"
like "$out" "Cannot add keep to backup $b3 because it has status FAILED. Only backups with status DONE can be kept." \
    "with Barman's message"
ok "and writes nothing" test ! -e "$home/main/base/$b3/annotations"
cel keep main "$b4" >/dev/null 2>"$T/usage.err"
is "$?" 2 "keep with none of --target, --status, --release exits 2"
like "$(cat "$T/usage.err")" "give exactly one of --target" "saying what to give"
cel keep main "$b4" --target forever >/dev/null 2>"$T/usage.err"
is "$?" 2 "a bad --target exits 2"
ok "and writes nothing" test ! -e "$home/main/base/$b4/annotations"

# --- a newer Barman's place: meta/ID-keep --------------------------------------------
# release b2 (Barman 3.4's place) and keep b2 again where Barman >= 3.13.3 puts it
ok "--release exits 0" cel keep main "$b2" --release
ok "release removes the annotation and its empty directory" \
    test ! -e "$home/main/base/$b2/annotations"
runuser -u barman -- mkdir -p "$home/main/meta"
printf 'full' | runuser -u barman -- tee "$home/main/meta/$b2-keep" >/dev/null
like "$(cel keep main "$b2" --status)" "Keep: full" "a keep in meta/ID-keep (Barman >= 3.13.3) is read"
out=$(cel delete main "$b2" 2>&1)
is "$?" 1 "delete refuses a backup kept in meta/"
like "$out" "is kept" "saying it is kept"

# --- retention in cron ---------------------------------------------------------------
# REDUNDANCY 1: b4 is the one backup needed; b1 and b2 are kept; nothing else DONE
cel keep main "$b1" --release >/dev/null
cel cron >"$T/cron1.out" 2>&1
ok "with b1 released, cron deletes it (obsolete under REDUNDANCY 1)" test ! -e "$home/main/base/$b1"
ok "and leaves b2, kept in meta/" test -e "$home/main/base/$b2/backup.info"
ok "--release of b2 exits 0" cel keep main "$b2" --release
ok "and removes meta/ID-keep" test ! -e "$home/main/meta/$b2-keep"
cel cron >"$T/cron2.out" 2>&1
ok "the next cron deletes b2" test ! -e "$home/main/base/$b2"
is "$(cel list-backup --minimal other | wc -l)" 4 "the other server (no policy) keeps its four backups"
