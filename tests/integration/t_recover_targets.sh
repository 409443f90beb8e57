#!/bin/bash
# tests/integration/t_recover_targets.sh - recovery targets cellar must honour and
# check before writing anything: --target-tli alone, restore points (TAP).
#
# A PostgreSQL 15 cluster (main) archives through `cellar put-wal`. History:
#
#     p0 | backup 1 | a | restore point rp_x | b | backup 2 | (timeline 1 goes on: c)
#
# A restore point counts only on the timeline the recovery follows: rp_x
# (timeline 1, after the branch) is refused when timeline 2 is followed
# (PostgreSQL's default, latest) and accepted with --target-tli 1; on_tl2,
# made on timeline 2, the other way round (dry runs).
# Restore points: archive-wal indexes rp_x in wals/xlog.db.cellar-targets;
# recover --target-name rp_x with BACKUP_ID auto chooses backup 1 (backup 2
# ended after the restore point) and the copy holds p0 a; refused, writing
# nothing: a name the archive does not hold (the message lists the names it
# does), rp_x with backup 2, a name with a newline. Without the index (a
# Barman home), recover builds it on first need (also run as the barman OS
# user on a home it owns: the index is then barman's, 0600); rebuild-xlogdb
# rebuilds it. The configuration has a second server.
#
# Timeline 2: backup 1 is recovered with --target-immediate --target-action
# promote; the copy (cluster tl2) promotes onto timeline 2 at the end of
# the backup (rows: p0), its archive_command is switched to put-wal into
# the same server, and it commits "two" and archives its history file and
# WAL there. Then, from backup 1:
#   --target-tli 2 alone: recovery.signal and recovery_target_timeline = 2
#     are written, and the copy starts with timeline 2's rows (p0 two);
#   --target-tli 1 and --target-tli current: timeline 1's rows (p0 a b c);
#   --target-tli 7 (no 00000007.history in the archive), --target-tli 0,
#   and --target-tli 2 with backup 2 (which ended on timeline 1 after
#     timeline 2 branched off): refused (exit 1 / 2) naming the problem,
#     and DEST is never created.
# Needs root (the clusters run as postgres). Run: tests/run.sh tests/integration/t_recover_targets.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 66

# a second server, so that nothing here relies on there being only one
rec_cluster "recovery targets" 1 'compression = gzip' '' '[other]' \
    'description = "a second server, never reached"' 'conninfo = host=127.0.0.1 port=1'
add_row main p0
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "backup 1 failed"
id1=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
add_row main a
pg_sql main "SELECT pg_create_restore_point('rp_x')" >/dev/null
add_row main b
archive_now main main || tap_bail "WAL not archived"
sleep 1 # a new second: a new backup ID
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "backup 2 failed"
id2=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
idx=$home/main/wals/xlog.db.cellar-targets

# ---- restore points -----------------------------------------------------------------------------
ok "archive-wal indexed restore point rp_x beside xlog.db" \
    grep -q $'^P\t[0-9A-F]*\t[0-9A-F]*/[0-9A-F]*\t[0-9.]*\t1\trp_x$' "$idx"
d=$T/r_rp
recover_ok "recover --target-name rp_x, BACKUP_ID auto" --target-name rp_x --target-action promote \
    --tablespace "tbs1:$T/r_rp_tbs" main auto "$d"
ok "auto chose backup 1, which ended before the restore point (backup 2 ended after it)" \
    has_text "$REC_OUT" "Recovery of backup $id1 of server main"
ok "the copy starts and ends its recovery at rp_x" start_rec r_rp "$d" promoted
is "$(rows r_rp)" "p0 a" "it holds the rows committed before rp_x"
pg_stop r_rp
# --staging-wal-directory (Barman 3.13): the WAL waits outside DEST, in a
# path that needs quoting, and the end of recovery removes it
d=$T/r_stage
mkdir -p "$T/pgstage" && chown postgres: "$T/pgstage" # PostgreSQL removes it at the end
stage="$T/pgstage/wal stage's"
recover_ok "recover --target-name rp_x --staging-wal-directory (a path with a space and a quote)" \
    --target-name rp_x --target-action promote --staging-wal-directory "$stage" \
    --tablespace "tbs1:$T/r_stage_tbs" main "$id1" "$d"
ok "the WAL was copied into the staging directory" compgen -G "$stage/0000000*"
ok "and not into DEST/barman_wal" test ! -e "$d/barman_wal"
chown -R postgres: "$stage"
ok "the copy starts, replays from the staging directory and promotes" start_rec r_stage "$d" promoted
is "$(rows r_stage)" "p0 a" "it holds the rows committed before rp_x"
ok "the end of recovery removed the staging directory" wait_for 30 test ! -e "$stage"
pg_stop r_stage
mkdir -p "$T/full_stage" && touch "$T/full_stage/keepme"
rec_run --target-name rp_x --staging-wal-directory "$T/full_stage" \
    --tablespace "tbs1:$T/r_nope_tbs" main "$id1" "$T/r_nope2"
is "$REC_RC" 1 "a staging directory that holds files is refused (exit 1): recovery would remove it"
ok "and left as it was" test -e "$T/full_stage/keepme"
rec_run --staging-wal-directory relative/dir --target-name rp_x main "$id1" "$T/r_nope2"
is "$REC_RC" 2 "a relative staging directory is a usage error"
rec_run --staging-wal-directory "$T/s2" main "$id1" "$T/r_nope2"
is "$REC_RC" 2 "--staging-wal-directory without a target is a usage error"
like "$REC_OUT" "is for a point-in-time recovery whose WAL is copied" "saying when it applies"
d=$T/r_nope
rec_run --target-name nope --tablespace "tbs1:$T/r_nope_tbs" main "$id1" "$d"
is "$REC_RC" 2 "--target-name nope (no such restore point): refused (exit 2)"
like "$REC_OUT" "holds no restore point of that name \(it holds: barman_$id1, rp_x[,)]" \
    "the refusal lists the restore points the archive holds"
ok "DEST was not created" test ! -e "$d"
rec_run --target-name rp_x --tablespace "tbs1:$T/r_nope_tbs" main "$id2" "$d"
is "$REC_RC" 2 "--target-name rp_x with backup 2, which ended after it: refused (exit 2)"
like "$REC_OUT" "restore point \(at [0-9A-F]+/[0-9A-F]+\) is before the end of backup $id2" \
    "the refusal says the restore point is before the end of the backup"
rec_run --target-name $'rp_x\nrecovery_target_action = promote' main "$id1" "$d"
is "$REC_RC" 2 "a --target-name with a newline: refused (exit 2)"
like "$REC_OUT" "contains the control character 0x0A" "the refusal names the control character"
ok "DEST was not created" test ! -e "$d"
# a Barman home has no index: it is built on first need
rm -f "$idx"
rec_run --dry-run --target-name rp_x --tablespace "tbs1:$T/r_nope_tbs" main auto "$d"
is "$REC_RC" 0 "without the index, --target-name rp_x --dry-run still finds the restore point"
ok "and the index is built from the archive" grep -q $'\trp_x$' "$idx"
rm -f "$idx"
# the home belongs to the barman user, who builds the index on first need:
# the file is then barman's, 0600
chown -R barman: "$home" && touch "$T/cellar.log" && chown barman: "$T/cellar.log"
rm -f "$idx"
REC_OUT=$(runuser -u barman -- "$CELLAR" -c "$conf" recover --dry-run --target-name rp_x \
    --tablespace "tbs1:$T/r_nope_tbs" main auto "$d" </dev/null 2>&1)
is "$?" 0 "as the barman user, --target-name rp_x --dry-run builds the index and finds rp_x"
diag "$REC_OUT"
is "$(stat -c '%U %a' "$idx")" "barman 600" "the index belongs to barman, mode 0600"
chown -R postgres: "$home" # as rec_cluster left it: the cluster's put-wal writes there
"$CELLAR" -c "$conf" rebuild-xlogdb main >"$T/out" 2>&1
like "$(cat "$T/out")" "Recovery-target index rebuilt: [2-9] restore points" \
    "rebuild-xlogdb rebuilds the index too (rp_x, barman_<ID> of the backups)"
ok "the rebuilt index holds rp_x" grep -q $'\trp_x$' "$idx"

# ---- timeline 2: a promoted copy of backup 1, archiving into the same server ----------------
d=$T/tl2
rec_run --target-immediate --target-action promote --tablespace "tbs1:$T/tl2_tbs" main "$id1" "$d"
is "$REC_RC" 0 "backup 1 recovered with --target-immediate --target-action promote"
ok "the copy starts and promotes" start_rec tl2 "$d" promoted
is "$(pg_sql tl2 "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)")" 00000002 \
    "it writes timeline 2"
pg_sql tl2 "ALTER SYSTEM SET archive_command = '$CELLAR -c $conf put-wal main %p'" &&
    pg_sql tl2 "SELECT pg_reload_conf()" >/dev/null
pg_sql tl2 "SELECT pg_create_restore_point('on_tl2')" >/dev/null
add_row tl2 two
archive_now tl2 main || tap_bail "timeline 2 not archived"
ok "00000002.history is in the server's archive" test -f "$home/main/wals/00000002.history"
pg_stop tl2
# timeline 1 goes on after the branch
add_row main c
archive_now main main || tap_bail "WAL not archived"

# ---- restore points and timelines: only those on the timeline followed ---------------------
d=$T/r_rp_tl
# rp_x was made on timeline 1 after timeline 2 branched off (at backup 1's end)
rec_run --dry-run --target-name rp_x --tablespace "tbs1:$T/r_rp_tl_tbs" main "$id1" "$d"
is "$REC_RC" 2 "--target-name rp_x now that timeline 2 exists (followed by default): refused"
like "$REC_OUT" "restore point \(at [0-9A-F]+/[0-9A-F]+\) is on timeline 1, which the recovery does not replay: it follows timeline 2" \
    "the refusal names both timelines (and the hint --target-tli 1)"
rec_run --dry-run --target-name rp_x --target-tli 1 --tablespace "tbs1:$T/r_rp_tl_tbs" main "$id1" "$d"
is "$REC_RC" 0 "--target-name rp_x --target-tli 1: accepted"
rec_run --dry-run --target-name on_tl2 --tablespace "tbs1:$T/r_rp_tl_tbs" main "$id1" "$d"
is "$REC_RC" 0 "--target-name on_tl2 (made on timeline 2, followed by default): accepted"
rec_run --dry-run --target-name on_tl2 --target-tli current --tablespace "tbs1:$T/r_rp_tl_tbs" main "$id1" "$d"
is "$REC_RC" 2 "--target-name on_tl2 --target-tli current (timeline 1): refused"

# ---- --target-tli alone ---------------------------------------------------------------------
d=$T/r_tli2
recover_ok "recover --target-tli 2 alone" --target-tli 2 --tablespace "tbs1:$T/r_tli2_tbs" \
    main "$id1" "$d"
ok "recovery.signal is written" test -f "$d/recovery.signal"
ok "recovery_target_timeline = 2 is written" \
    grep -qx 'recovery_target_timeline = 2' "$d/postgresql.auto.conf"
ok "00000002.history is among the WAL prepared" test -f "$d/barman_wal/00000002.history"
ok "the copy starts and ends its recovery" start_rec r_tli2 "$d" promoted
is "$(rows r_tli2)" "p0 two" "it holds timeline 2's rows"
pg_stop r_tli2

for tli in 1 current; do
    d=$T/r_tli_$tli
    recover_ok "recover --target-tli $tli alone" --target-tli "$tli" \
        --tablespace "tbs1:${d}_tbs" main "$id1" "$d"
    ok "--target-tli $tli: the copy starts and ends its recovery" start_rec "r_tli_$tli" "$d" promoted
    is "$(rows "r_tli_$tli")" "p0 a b c" "--target-tli $tli: it holds timeline 1's rows"
    pg_stop "r_tli_$tli"
done

# ---- no target at all: the newest timeline, as PostgreSQL's default ------------------------
# a crash recovery from pg_wal would stay on timeline 1 and bring back its
# abandoned rows; recover follows timeline 2, which branched after backup 1
d=$T/r_none
recover_ok "recover without a target, from backup 1" --tablespace "tbs1:${d}_tbs" main "$id1" "$d"
like "$REC_OUT" "the archive holds timeline 2, which branched off timeline 1 after backup $id1" \
    "it says it follows timeline 2"
ok "recovery_target_timeline = latest is written" \
    grep -qx 'recovery_target_timeline = latest' "$d/postgresql.auto.conf"
ok "the copy starts and ends its recovery" start_rec r_none "$d" promoted
is "$(rows r_none)" "p0 two" "it holds timeline 2's rows, not timeline 1's abandoned ones"
pg_stop r_none
# backup 2 ended on timeline 1 after the branch: timeline 2 cannot be followed from it
d=$T/r_none2
recover_ok "recover without a target, from backup 2" --tablespace "tbs1:${d}_tbs" main "$id2" "$d"
like "$REC_OUT" "the archive holds timeline 2, which this recovery cannot follow from backup $id2" \
    "it warns that the copy stays on timeline 1"

# ---- refusals: nothing written ---------------------------------------------------------------
d=$T/r_tli7
rec_run --target-tli 7 --tablespace "tbs1:$T/r_tli7_tbs" main "$id1" "$d"
is "$REC_RC" 1 "--target-tli 7 without 00000007.history: refused (exit 1)"
like "$REC_OUT" "has no 00000007.history" "the refusal names the missing history file"
ok "DEST was not created" test ! -e "$d"
rec_run --target-tli 0 --tablespace "tbs1:$T/r_tli7_tbs" main "$id1" "$d"
is "$REC_RC" 2 "--target-tli 0: refused (exit 2)"
ok "DEST was not created" test ! -e "$d"
# backup 2 ended on timeline 1 after timeline 2 branched off (at backup 1's end)
rec_run --target-tli 2 --tablespace "tbs1:$T/r_tli7_tbs" main "$id2" "$d"
is "$REC_RC" 2 "--target-tli 2 with backup 2, which ended after timeline 2 branched off: refused"
like "$REC_OUT" "--target-tli 2 branched off timeline 1 at [0-9A-F]+/[0-9A-F]+, before backup $id2 ended" \
    "the refusal says where timeline 2 branched off"
ok "DEST was not created" test ! -e "$d"
