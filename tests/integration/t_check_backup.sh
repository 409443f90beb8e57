#!/bin/bash
# tests/integration/t_check_backup.sh - `cellar check-backup` against
# Barman 3.4's (TAP).
#
# A synthetic catalogue, no PostgreSQL, in a home owned by the `barman` OS
# user (barman_user = barman; cellar runs as root and becomes barman), two
# servers. Backups (oldest first): A DONE on segments 2-3, B DONE on 5-6,
# C WAITING_FOR_WALS on 9-10 with only up to segment 9 archived, D on
# timeline 2 where nothing is archived, E STARTED (no end_wal). Each
# archived segment is a real file in wals/<hash>/. For each case cellar's
# check-backup runs on the home and Barman 3.4's on a copy of it: the
# status each leaves in backup.info is the same, and so is the error when
# a segment file was removed from disk (xlog.db still listing it); cellar's
# exit status is 0 only for DONE, its message names the missing segment,
# and backup.info stays owned by barman. The other server is untouched.
# Run: tests/run.sh tests/integration/t_check_backup.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 23

[ "$(id -u)" -eq 0 ] || tap_bail "needs root (cellar becomes the barman user)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"
command -v barman >/dev/null || tap_bail "barman is not installed"

NOW=$(date +%s)
seg() { printf '%08X00000000%08X' "${2:-1}" "$1"; }

# catalogue DIR - the backups and archived WAL described above
catalogue() {
    local dir=$1 k line id status b e tli n=0
    mkdir -p "$dir/base" "$dir/wals/0000000100000000" "$dir/incoming" "$dir/streaming" \
        "$dir/errors" || return 1
    for line in "A DONE 2 3 1" "B DONE 5 6 1" "C WAITING_FOR_WALS 9 10 1" "D DONE 3 4 2" \
        "E STARTED 11 - 1"; do
        read -r id status b e tli <<<"$line"
        n=$((n + 1))
        id=$(date -u -d "@$((NOW - (10 - n) * 3600))" +%Y%m%dT%H%M%S)
        mkdir -p "$dir/base/$id"
        {
            printf 'status=%s\nserver_name=%s\n' "$status" "$(basename "$dir")"
            printf 'begin_time=%s\n' "$(date -u -d "@$((NOW - (10 - n) * 3600))" '+%Y-%m-%d %H:%M:%S+00:00')"
            printf 'begin_wal=%s\nbegin_xlog=0/%X000028\n' "$(seg "$b" "$tli")" "$b"
            if [ "$e" != - ]; then
                printf 'end_time=%s\n' "$(date -u -d "@$((NOW - (10 - n) * 3600 + 60))" '+%Y-%m-%d %H:%M:%S+00:00')"
                printf 'end_wal=%s\nend_xlog=0/%X000100\n' "$(seg "$e" "$tli")" "$e"
            fi
            printf 'size=1048576\ntimeline=%s\nversion=150000\nxlog_segment_size=16777216\n' "$tli"
            printf 'pgdata=/srv/pg/15/main\nmode=rsync-concurrent\n'
        } >"$dir/base/$id/backup.info"
    done
    for k in 1 2 3 4 5 6 7 8 9; do
        head -c 16 /dev/zero >"$dir/wals/0000000100000000/$(seg "$k")"
        printf '%s\t16777216\t%d.5\tNone\n' "$(seg "$k")" $((NOW - 20 * 3600 + k * 60))
    done >"$dir/wals/xlog.db"
}
home=$T/home
catalogue "$home/main" || tap_bail "cannot write main's catalogue"
catalogue "$home/other" || tap_bail "cannot write other's catalogue"
chown -R barman: "$home"
conf_for() { # conf_for HOME
    printf '[barman]\nbarman_home = %s\nbarman_user = barman\nlog_file = %s/cellar.log\n' "$1" "$1"
    for s in main other; do
        printf '\n[%s]\ndescription = "check-backup %s"\n' "$s" "$s"
        printf 'conninfo = host=/nonexistent dbname=postgres\nbackup_method = postgres\narchiver = on\n'
    done
}
conf_for "$home" >"$T/cellar.conf"
touch "$home/cellar.log" && chown barman: "$home/cellar.log"
mapfile -t IDS < <(ls "$home/main/base")
A=${IDS[0]} B=${IDS[1]} C=${IDS[2]} D=${IDS[3]} E=${IDS[4]}

cel() { "$CELLAR" -c "$T/cellar.conf" "$@"; }
tree_sum() { (cd "$1" && find . -type f -exec md5sum {} + | sort); }
other_sum=$(tree_sum "$home/other")
field() { sed -n "s/^$2=//p" "$1/main/base/$3/backup.info"; } # field HOME KEY ID
# barman_check ID - Barman 3.4's check-backup on a fresh copy of the home
barman_check() {
    rm -rf "$T/bhome" && cp -a "$home" "$T/bhome" && conf_for "$T/bhome" >"$T/barman.conf" &&
        chmod 644 "$T/barman.conf" &&
        runuser -u barman -- barman -c "$T/barman.conf" check-backup main "$1" >"$T/barman.out" 2>&1
}

out=$(cel check-backup main "$A" 2>&1)
is "$?" 0 "A, every segment archived: exit 0"
like "$out" "Backup $A of server main: DONE; 2 of the 2 WAL segments it needs are archived" "and says so"
barman_check "$A"
is "$(field "$home" status "$A")" "$(field "$T/bhome" status "$A")" "A: the status Barman leaves (DONE)"

out=$(cel check-backup main "$C" 2>&1)
is "$?" 1 "C, end_wal not archived yet: exit 1 (as Barman 3.21)"
like "$out" "is WAITING_FOR_WALS: the WAL up to $(seg 10) is not archived yet" "saying what it waits for"
barman_check "$C"
is "$(field "$home" status "$C")" "$(field "$T/bhome" status "$C")" "C: Barman's status (WAITING_FOR_WALS)"

out=$(cel check-backup main "$D" 2>&1)
is "$?" 1 "D, nothing archived on its timeline: exit 1"
is "$(field "$home" status "$D")" WAITING_FOR_WALS "D becomes WAITING_FOR_WALS"
barman_check "$D"
is "$(field "$home" status "$D")" "$(field "$T/bhome" status "$D")" "as Barman makes it"

out=$(cel check-backup main "$E" 2>&1)
is "$?" 1 "E, still running (no end_wal): exit 1"
like "$out" "has no end_wal yet" "nothing to check while it runs"
is "$(field "$home" status "$E")" STARTED "and its status is untouched"

# a segment file removed by hand; xlog.db still lists it
rm "$home/main/wals/0000000100000000/$(seg 6)"
grep -q "$(seg 6)" "$home/main/wals/xlog.db" || tap_bail "xlog.db lost segment 6"
out=$(cel check-backup main "$B" 2>&1)
is "$?" 1 "B with segment 6's file removed: exit 1"
like "$out" "This backup has been marked as FAILED due to the following reason: At least one WAL file is missing. The first missing WAL file is $(seg 6)" \
    "with Barman's message, naming the file"
is "$(field "$home" status "$B")" FAILED "B is FAILED"
barman_check "$B"
is "$(field "$home" status "$B")" "$(field "$T/bhome" status "$B")" "as Barman makes it"
is "$(field "$home" error "$B")" "$(field "$T/bhome" error "$B")" "with Barman's error in backup.info"
is "$(stat -c %U "$home/main/base/$B/backup.info")" barman "backup.info is still barman's"
like "$(cel list-backup main)" "$B - FAILED" "list-backup shows it FAILED"
like "$(cel -f json check-backup main "$A")" '"status":"DONE"' "JSON: A is DONE"
like "$(cel -f json check-backup main "$A")" '"wal_needed":2,"wal_archived":2' "JSON counts the segments"
cel check-backup main nosuchid >/dev/null 2>"$T/err"
is "$?" 1 "an unknown backup exits 1"
is "$(tree_sum "$home/other")" "$other_sum" "the other server's files are untouched"
