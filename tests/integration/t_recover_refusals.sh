#!/bin/bash
# tests/integration/t_recover_refusals.sh - what `cellar recover` refuses (TAP).
#
# One cluster with a tablespace, one backup, a few segments of WAL after
# it. A time, an xid and an LSN are recorded before the backup. Each refusal
# must exit with the right status (2: a bad or impossible target; 1: missing
# WAL, a destination that is not empty), say what is wrong, and write
# nothing: DEST stays absent (or exactly as it was), and so does the
# --tablespace directory. Refused: a target time before the backup's end,
# an xid older than the backup's start, an LSN before its end_xlog (before
# the backup and inside it), an LSN or a time beyond the archived WAL, an
# LSN that is not one; a destination that is not empty (also with
# --force), a tablespace location that is not empty (the live server's,
# or the --tablespace directory); a gap in the archive between the backup and the end of the WAL
# (a segment and its xlog.db line removed), with and without a target after
# the gap. --force skips the target check, not the destination check.
# Run: tests/run.sh tests/integration/t_recover_refusals.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 45

home=$T/home
conf=$T/cellar.conf
tbs=$T/tbs1
mkdir -p "$home/main/incoming" "$tbs"
chown -R postgres: "$home" "$tbs"
write_conf() {
    backup_conf "$conf" cellar "$home" "${PG_MAIN_PORT:-1}" "refused recoveries" \
        'backup_method = local-rsync' 'immediate_checkpoint = true'
}
write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
pg_sql main "CREATE TABLESPACE tbs1 LOCATION '$tbs'" >/dev/null || tap_bail "no tablespace"
pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text) TABLESPACE tbs1" >/dev/null || tap_bail "no table"

# before the backup: a time, an xid, an LSN
X_OLD=$(pg_sql main "INSERT INTO t (tag) VALUES ('old') RETURNING txid_current()")
T_OLD=$(utc_now main)
L_OLD=$(pg_sql main "SELECT pg_current_wal_insert_lsn()")
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "the backup failed"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
for tag in a b c; do
    add_row main "$tag"
    L_LAST=$(pg_sql main "SELECT pg_current_wal_insert_lsn()") # in the segment archive_now ships
    archive_now main main || tap_bail "WAL not archived"
done
begin_xlog=$(backup_info "$conf" main "$id" begin_xlog)
diag "backup $id (begins at $begin_xlog); before it: T=$T_OLD X=$X_OLD L=$L_OLD; last row at $L_LAST"

nt=$T/nt # the --tablespace directory of every attempt: must never appear
# refused NAME RC REGEX DEST ARG... - recover ARG... into DEST must exit RC with
# output matching REGEX (case-insensitive), leaving DEST and $nt absent
refused() {
    local name=$1 rc=$2 re=$3 dest=$4
    shift 4
    rec_run --tablespace "tbs1:$nt" "$@" main "$id" "$dest"
    is "$REC_RC" "$rc" "$name: exit status $rc"
    like "${REC_OUT,,}" "$re" "$name: the message says why"
    ok "$name: nothing written" test ! -e "$dest" -a ! -e "$nt"
}

refused "target time before the backup's end" 2 "target.time.*before" \
    "$T/d_time" --target-time "$T_OLD"
refused "target xid older than the backup's start" 2 "xid.*(before|older)" \
    "$T/d_xid" --target-xid "$X_OLD"
refused "target LSN before the backup's start" 2 "lsn.*before" \
    "$T/d_lsn" --target-lsn "$L_OLD"
refused "target LSN inside the backup (its begin_xlog, before end_xlog)" 2 "lsn.*before" \
    "$T/d_lsn2" --target-lsn "$begin_xlog"
refused "target LSN beyond the archived WAL" 2 "lsn.*(beyond|archive)" \
    "$T/d_far" --target-lsn FF/0
refused "target time after the archived WAL" 2 "target.time.*(after|beyond)" \
    "$T/d_late" --target-time "2099-01-01 00:00:00+00:00"
refused "a target LSN that is not one" 2 "invalid" \
    "$T/d_bad" --target-lsn not-an-lsn

# a destination that is not empty; the target time refused above, with --force
d=$T/d_full
mkdir "$d"
echo precious >"$d/keep"
rec_run main "$id" "$d"
is "$REC_RC" 1 "a destination that is not empty: exit status 1"
like "$REC_OUT" "not empty" "the message says it is not empty"
is "$(ls -A "$d")/$(cat "$d/keep")" "keep/precious" "the destination is untouched"
rec_run --force main "$id" "$d"
is "$REC_RC" 1 "--force does not skip the destination check: exit status 1"
is "$(ls -A "$d")/$(cat "$d/keep")" "keep/precious" "the destination is untouched"

# a tablespace location that is not empty: the live server's own, or a relocation
rec_run main "$id" "$T/d_live"
is "$REC_RC" 1 "the tablespace's original location is the live server's: exit status 1"
like "$REC_OUT" "$tbs.*not empty|not empty.*$tbs" "the message names it as not empty"
ok "nothing written" test ! -e "$T/d_live"
mkdir "$T/full_tbs"
echo precious >"$T/full_tbs/keep"
rec_run --tablespace "tbs1:$T/full_tbs" main "$id" "$T/d_tbs"
is "$REC_RC" 1 "a --tablespace directory that is not empty: exit status 1"
is "$(ls -A "$T/full_tbs")/$(cat "$T/full_tbs/keep")" "keep/precious" "it is untouched"
ok "nothing written" test ! -e "$T/d_tbs"

d=$T/d_empty
mkdir "$d"
rec_run --tablespace "tbs1:$nt" --target-time "$T_OLD" main "$id" "$d"
is "$REC_RC" 2 "an empty destination and a target time before the end: exit status 2"
is "$(ls -A "$d")" "" "the empty destination stays empty"
rec_run --force --tablespace "tbs1:$nt" --target-time "$T_OLD" main "$id" "$d"
is "$REC_RC" 0 "--force skips the target check"
ok "and recovers" test -f "$d/PG_VERSION"
rm -rf "$d" "$nt"

# ---- a gap in the archive ---------------------------------------------------------------------
wals=$home/main/wals
end_wal=$(backup_info "$conf" main "$id" end_wal)
gap=$(next_seg "$end_wal")
after=$(next_seg "$gap")
ok "the archive has $gap and a segment after it ($after)" \
    test -f "$wals/${gap:0:16}/$gap" -a -f "$wals/${after:0:16}/$after"
mv "$wals/${gap:0:16}/$gap" "$T/$gap"
cp "$wals/xlog.db" "$T/xlog.db.orig"
grep -v "^$gap"$'\t' "$T/xlog.db.orig" >"$wals/xlog.db"
refused "a segment missing from the archive (no target)" 1 "${gap,,}" "$T/d_gap"
refused "a segment missing before the target" 1 "${gap,,}" "$T/d_gap2" --target-lsn "$L_LAST"
# put it back: the same recovery now works
mv "$T/$gap" "$wals/${gap:0:16}/$gap"
cp "$T/xlog.db.orig" "$wals/xlog.db"
rec_run --tablespace "tbs1:$nt" main "$id" "$T/d_ok"
is "$REC_RC" 0 "with the segment back, the same recovery succeeds"
ok "it wrote the segment into DEST/pg_wal" test -f "$T/d_ok/pg_wal/$gap"
