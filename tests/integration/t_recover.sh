#!/bin/bash
# tests/integration/t_recover.sh - `cellar recover` on the same host (TAP).
#
# A PostgreSQL 15 cluster with a tablespace archives through `cellar
# put-wal` into a gzip archive. After a first backup, one row at a time is
# committed into table t, with a recovery target between each two:
#
#     p0 | backup 1 | a | time T | b | xid X: c | d | restore point before_e |
#     e | LSN L | f | backup 2 (named "second")
#
# Each recovery is started with pg_start_datadir and queried; the rows of t
# must be exactly those before the target: the end of the WAL (all of them,
# replayed from DEST/pg_wal, decompressed), --target-time T with
# --target-action promote (and BACKUP_ID auto, which must pick backup 1),
# --target-xid X (inclusive, then --exclusive), --target-name before_e,
# --target-lsn L, --target-immediate (BACKUP_ID oldest). Every recovery of
# backup 1 relocates the tablespace with --tablespace (the original location
# is the live cluster's); at the end the cluster is stopped and backup 2 (by
# its name) is recovered into the tablespace's original location. Also
# checked: the files recover writes (recovery.signal, barman_wal with its
# restore_command and recovery_end_command, archive_command commented with
# #BARMAN# and set to false), and that the output ends with
# `pg_ctl -D DEST start`.
# Needs root (the clusters run as postgres). Run: tests/run.sh tests/integration/t_recover.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 60

rec_cluster "local recoveries" 1 'compression = gzip'
oid=$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")
add_row main p0

# ---- the history: backup 1, then one commit between each two targets -------------------
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "backup 1 failed"
id1=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
sleep 1 # T is then well after the backup's end_time, whatever its precision
add_row main a
T_AB=$(utc_now main)
add_row main b
X_C=$(pg_sql main "INSERT INTO t (tag) VALUES ('c') RETURNING txid_current()")
add_row main d
pg_sql main "SELECT pg_create_restore_point('before_e')" >/dev/null
add_row main e
L_EF=$(pg_sql main "SELECT pg_current_wal_insert_lsn()")
add_row main f
archive_now main main || tap_bail "WAL not archived"
sleep 1 # a new second: a new backup ID
"$CELLAR" -c "$conf" backup --wait --name second main >&2 || tap_bail "backup 2 failed"
id2=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
diag "backup 1 $id1, backup 2 $id2, T=$T_AB X=$X_C L=$L_EF"
like "$T_AB$X_C$L_EF" '^[0-9]{4}-.*\+00:00[0-9]+[0-9A-F]+/[0-9A-F]+$' "the targets were recorded"
begin1=$(backup_info "$conf" main "$id1" begin_xlog)
begin2=$(backup_info "$conf" main "$id2" begin_xlog)
wal1=$(backup_info "$conf" main "$id1" begin_wal)

tbs_location() {
    pg_sql "$1" "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'tbs1'"
}

# ---- 1. to the end of the WAL, into an existing empty directory ---------------------------
d=$T/r_end
mkdir "$d"
recover_ok "recover to the end of the WAL into an empty directory" \
    --jobs 2 --bwlimit 200000 --retry-times 1 --tablespace "tbs1:$T/r_end_tbs" main "$id1" "$d"
ok "the output ends with what to do next: pg_ctl -D $d start" \
    has_text "$(tail -n 5 <<<"$REC_OUT")" "pg_ctl -D $d start"
ok "the backup's first segment is in DEST/pg_wal" test -f "$d/pg_wal/$wal1"
like "$(awk -v w="$wal1" '$1 == w {print $4}' "$home/main/wals/xlog.db")" '^gzip$' \
    "(it is gzip-compressed in the archive)"
"$CELLAR" -c "$conf" get-wal main "$wal1" >"$T/seg"
ok "DEST/pg_wal holds it decompressed, identical to get-wal's" cmp "$T/seg" "$d/pg_wal/$wal1"
is "$(readlink "$d/pg_tblspc/$oid")" "$T/r_end_tbs" "pg_tblspc/$oid links to the --tablespace directory"
ok "the tablespace was copied there" test -d "$(echo "$T/r_end_tbs"/PG_15_*)"
like "$(cat "$d/postgresql.conf")" $'(^|\n)#BARMAN#archive_command = [^\n]*put-wal' \
    "the old archive_command is commented out with #BARMAN#"
ok "the recovered cluster starts and finishes recovery" start_rec rend "$d" promoted
is "$(rows rend)" "p0 a b c d e f" "it holds every row, also those written after the backup"
is "$(pg_sql rend "SELECT count(*) FROM in_tbs")" 300 "the table in the tablespace is readable"
is "$(tbs_location rend)" "$T/r_end_tbs" "pg_tablespace_location shows the new directory"
is "$(pg_sql rend "SHOW archive_command")" false "archive_command is false"
pg_stop rend

# ---- 2. to a time between a and b; auto picks backup 1; promote ---------------------------------
d=$T/r_time
recover_ok "recover --target-time T --target-action promote, BACKUP_ID auto" \
    --target-time "$T_AB" --target-action promote --tablespace "tbs1:$T/r_time_tbs" main auto "$d"
is "$(label_start "$d")" "$begin1" "auto chose backup 1, the last one that ended before T"
ok "recovery.signal is there" test -f "$d/recovery.signal"
ok "the WAL is in DEST/barman_wal" test -f "$d/barman_wal/$wal1"
auto=$(cat "$d/postgresql.auto.conf")
like "$auto" $'(^|\n)restore_command = \'cp barman_wal/%f %p\'' "restore_command copies from barman_wal"
like "$auto" $'(^|\n)recovery_end_command = \'rm -fr barman_wal\'' "recovery_end_command removes it"
like "$auto" $'(^|\n)recovery_target_time = \'' "recovery_target_time is set"
like "$auto" $'(^|\n)recovery_target_action = \'?promote' "recovery_target_action is promote"
like "$auto$(cat "$d/postgresql.conf")" $'(^|\n)archive_command = \'?false' "archive_command = false"
ok "it starts and is promoted at the target" start_rec rtime "$d" promoted
is "$(rows rtime)" "p0 a" "a is there, b is not"
ok "recovery_end_command removed barman_wal" test -f "$d/PG_VERSION" -a ! -e "$d/barman_wal"
pg_stop rtime
rm -rf "$d" "$T/r_time_tbs"

# ---- 3. to the xid of c (inclusive) --------------------------------------------------------------------
d=$T/r_xid
recover_ok "recover --target-xid X" --target-xid "$X_C" --tablespace "tbs1:$T/r_xid_tbs" main "$id1" "$d"
like "$(cat "$d/postgresql.auto.conf")" $'(^|\n)recovery_target_xid = \'?'"$X_C" "recovery_target_xid is set"
ok "it starts and pauses at the target (the default action)" start_rec rxid "$d" paused
is "$(rows rxid)" "p0 a b c" "X's row is there, the next transaction's is not"
pg_stop rxid
rm -rf "$d" "$T/r_xid_tbs"

# ---- 4. the same xid, exclusive ----------------------------------------------------------------------
d=$T/r_xidx
recover_ok "recover --target-xid X --exclusive" \
    --target-xid "$X_C" --exclusive --tablespace "tbs1:$T/r_xidx_tbs" main "$id1" "$d"
like "$(cat "$d/postgresql.auto.conf")" $'(^|\n)recovery_target_inclusive = \'?(false|off)' \
    "recovery_target_inclusive is false"
ok "it starts and pauses" start_rec rxidx "$d" paused
is "$(rows rxidx)" "p0 a b" "X's row is not there"
pg_stop rxidx
rm -rf "$d" "$T/r_xidx_tbs"

# ---- 5. to the restore point before_e ------------------------------------------------------------
d=$T/r_name
recover_ok "recover --target-name before_e" \
    --target-name before_e --tablespace "tbs1:$T/r_name_tbs" main "$id1" "$d"
like "$(cat "$d/postgresql.auto.conf")" $'(^|\n)recovery_target_name = \'before_e\'' "recovery_target_name is set"
ok "it starts and pauses" start_rec rname "$d" paused
is "$(rows rname)" "p0 a b c d" "d is there, e is not"
pg_stop rname
rm -rf "$d" "$T/r_name_tbs"

# ---- 6. to the LSN between e and f ----------------------------------------------------------------
d=$T/r_lsn
recover_ok "recover --target-lsn L --target-tli current" \
    --target-lsn "$L_EF" --target-tli current --tablespace "tbs1:$T/r_lsn_tbs" main "$id1" "$d"
like "$(cat "$d/postgresql.auto.conf")" $'(^|\n)recovery_target_lsn = \'?'"$L_EF" "recovery_target_lsn is set"
like "$(cat "$d/postgresql.auto.conf")" $'(^|\n)recovery_target_timeline = \'?current' "recovery_target_timeline is current"
ok "it starts and pauses" start_rec rlsn "$d" paused
is "$(rows rlsn)" "p0 a b c d e" "e is there, f is not"
is "$(pg_sql rlsn "SELECT count(*) FROM in_tbs")" 300 "the relocated tablespace is readable"
pg_stop rlsn
rm -rf "$d" "$T/r_lsn_tbs"

# ---- 7. --target-immediate, BACKUP_ID oldest ----------------------------------------------------
d=$T/r_imm
recover_ok "recover --target-immediate, BACKUP_ID oldest" \
    --target-immediate --tablespace "tbs1:$T/r_imm_tbs" main oldest "$d"
is "$(label_start "$d")" "$begin1" "oldest is backup 1"
like "$(cat "$d/postgresql.auto.conf")" $'(^|\n)recovery_target = \'immediate\'' "recovery_target = 'immediate'"
ok "it starts and pauses once consistent" start_rec rimm "$d" paused
is "$(rows rimm)" "p0" "it holds nothing written after the backup"
pg_stop rimm
rm -rf "$d" "$T/r_imm_tbs"

# ---- 8. auto without a target: the latest DONE backup --------------------------------------------
d=$T/r_auto
recover_ok "recover main auto DEST (no target)" --tablespace "tbs1:$T/r_auto_tbs" main auto "$d"
is "$(label_start "$d")" "$begin2" "auto without a target is the latest backup, backup 2"
rm -rf "$d" "$T/r_auto_tbs"
rm -rf "$T/r_end" "$T/r_end_tbs"

# ---- 9. the tablespace's original location, backup 2 by its name --------------------------------
ok "the cluster stops (its tablespace directory is now free)" pg_stop main
rm -rf "${tbs:?}"/*
d=$T/r_orig
recover_ok "recover the backup named 'second' without --tablespace" --target-immediate main second "$d"
is "$(label_start "$d")" "$begin2" "the name designates backup 2"
is "$(readlink "$d/pg_tblspc/$oid")" "$tbs" "pg_tblspc/$oid links to the original location"
ok "the tablespace was copied back there" test -d "$(echo "$tbs"/PG_15_*)"
ok "it starts and pauses once consistent" start_rec rorig "$d" paused
is "$(rows rorig)" "p0 a b c d e f" "it holds every row written before backup 2"
is "$(pg_sql rorig "SELECT count(*) FROM in_tbs")" 300 "the table in the tablespace is readable"
is "$(tbs_location rorig)" "$tbs" "pg_tablespace_location is the original directory"
pg_stop rorig
