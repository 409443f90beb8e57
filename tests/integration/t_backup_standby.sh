#!/bin/bash
# tests/integration/t_backup_standby.sh - rsync backups from a standby
# (TAP).
#
# A PostgreSQL 15 primary with a tablespace archives through `cellar
# put-wal`; a standby made from it with pg_basebackup -R (its tablespace
# mapped elsewhere) streams from it. cellar's conninfo points at the
# standby and primary_conninfo at the primary, as in Barman 3.8: the seed
# tutorial's local-rsync backup with backup_options = concurrent_backup is
# taken from the standby while the primary takes writes. PostgreSQL's stop
# on a standby switches no WAL, so cellar switches it on the primary: the
# backup says which segment it waits for and becomes DONE (with --wait),
# its backup_label says it was taken from a standby, and the restore point
# barman_<ID> is made on the primary. Recovered to the end of the archive,
# the copy starts and holds every row committed before the last archived
# segment, the tablespace's rows included. The same with backup_method =
# postgres (pg_basebackup against the standby, under writes): DONE, WAL
# switched on the primary, recovered with every row. Then the refusals: a
# primary_conninfo that points at the standby (in recovery), one that is
# another cluster (another system identifier), primary_conninfo with a
# conninfo at the primary; and without primary_conninfo the backup warns
# that its last segment waits for the primary's own switch.
# Run: tests/run.sh tests/integration/t_backup_standby.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 29

rec_cluster "standby backups" 1
add_row main before
pg_sql main "CHECKPOINT" >/dev/null

# the standby, its tablespace mapped to another directory
sb=$T/standby
mkdir -p "$sb" "$T/sb-tbs1" && chown postgres: "$sb" "$T/sb-tbs1" && chmod 0700 "$sb"
runuser -u postgres -- "$PG_BINDIR/pg_basebackup" -D "$sb" -h 127.0.0.1 -p "$PG_MAIN_PORT" \
    -U postgres -R -X stream -c fast --tablespace-mapping="$T/tbs1=$T/sb-tbs1" >&2 ||
    tap_bail "pg_basebackup -R failed"
pg_start_datadir standby "$sb" || tap_bail "cannot start the standby"
is "$(pg_sql standby "SELECT pg_is_in_recovery()")" t "the standby is in recovery"

primary_ci="host=127.0.0.1 port=$PG_MAIN_PORT user=postgres dbname=postgres"
standby_conf() { # standby_conf [LINE...]: conninfo at the standby
    backup_conf "$conf" cellar "$home" "$PG_STANDBY_PORT" "standby backups" \
        'backup_method = local-rsync' 'backup_options = concurrent_backup' \
        'immediate_checkpoint = true' "$@"
}
standby_conf "primary_conninfo = $primary_ci"

# writes on the primary for the whole backup
writer() {
    local i=0
    while [ ! -e "$T/stop-writer" ]; do
        pg_sql main "INSERT INTO t (tag) VALUES ('load$i'); INSERT INTO in_tbs VALUES ($i)" \
            >/dev/null 2>&1
        i=$((i + 1))
        sleep 0.05
    done
}
harness_at_exit touch "$T/stop-writer"
# backup_under_writes: cellar backup --wait while writer runs; sets out, rc
backup_under_writes() {
    rm -f "$T/stop-writer"
    writer &
    local writer_pid=$!
    out=$("$CELLAR" -c "$conf" backup --wait --wait-timeout 120 main 2>&1)
    rc=$?
    diag "$out"
    touch "$T/stop-writer"
    wait "$writer_pid"
}

backup_under_writes
is "$rc" 0 "a backup from the standby with primary_conninfo succeeds"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
is "$(backup_info "$conf" main "$id" status)" DONE "it is DONE once its last segment is archived"
like "$out" "backing up a standby: WAL is switched on the primary" "it says it backs up a standby"
like "$out" "switched WAL on the primary \\(closed [0-9A-F]{24}\\)" \
    "and switches WAL on the primary after the stop"
end_wal=$(backup_info "$conf" main "$id" end_wal)
like "$out" "waiting for $end_wal to be archived|$end_wal" "it names the segment it waits for"
dir=$(backup_dir "$conf" main "$id")
like "$(cat "$dir/data/backup_label")" "BACKUP FROM: standby" "backup_label: taken from a standby"
is "$(pg_sql main "SELECT count(*) FROM pg_stat_replication")" 1 \
    "the primary still has its standby"
ok "verify-backup passes on it" "$CELLAR" -c "$conf" verify-backup main "$id"

# rows committed after the backup, archived from the primary
add_row main after
expected=$(rows main)
ntbs=$(pg_sql main "SELECT count(*) FROM in_tbs")
archive_now main main >/dev/null 2>&1 || diag "archive_now failed"

dest=$T/rec
recover_ok "the standby's backup recovers to the end of the archive" main "$id" "$dest" \
    --tablespace "tbs1:$T/rec-tbs1"
start_rec rec "$dest" promoted || tap_bail "the recovered copy does not start"
is "$(rows rec)" "$expected" "the copy holds every row committed on the primary, in order"
is "$(pg_sql rec "SELECT count(*) FROM in_tbs")" "$ntbs" "and the tablespace's rows"
is "$(pg_sql rec "SELECT count(*) FROM pg_tablespace WHERE spcname = 'tbs1'")" 1 \
    "the tablespace is there"
pg_stop rec >&2

# ---- backup_method = postgres from the standby -------------------------------------
backup_conf "$conf" cellar "$home" "$PG_STANDBY_PORT" "standby backups" \
    'backup_method = postgres' 'immediate_checkpoint = true' \
    "streaming_conninfo = host=127.0.0.1 port=$PG_STANDBY_PORT user=postgres" \
    "primary_conninfo = $primary_ci"
backup_under_writes
is "$rc" 0 "a postgres-method backup (pg_basebackup) from the standby succeeds"
pid=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
is "$(backup_info "$conf" main "$pid" mode)/$(backup_info "$conf" main "$pid" status)" postgres/DONE \
    "it is a postgres-method backup, DONE"
like "$out" "switched WAL on the primary \\(closed [0-9A-F]{24}\\)" "WAL was switched on the primary"
like "$(cat "$(backup_dir "$conf" main "$pid")/data/backup_label")" "BACKUP FROM: standby" \
    "its backup_label: taken from a standby"
add_row main after-postgres
expected=$(rows main)
ntbs=$(pg_sql main "SELECT count(*) FROM in_tbs")
archive_now main main >/dev/null 2>&1 || diag "archive_now failed"
recover_ok "the postgres-method backup recovers to the end of the archive" main "$pid" "$T/rec2" \
    --tablespace "tbs1:$T/rec2-tbs1"
start_rec rec2 "$T/rec2" promoted || tap_bail "the second recovered copy does not start"
is "$(rows rec2)" "$expected" "the copy holds every row committed on the primary"
is "$(pg_sql rec2 "SELECT count(*) FROM in_tbs")" "$ntbs" "and the tablespace's rows"
pg_stop rec2 >&2

# ---- refusals and the warning ----------------------------------------------------
standby_conf "primary_conninfo = host=127.0.0.1 port=$PG_STANDBY_PORT user=postgres dbname=postgres"
out=$("$CELLAR" -c "$conf" backup main 2>&1)
is "$?" 2 "primary_conninfo at a server in recovery is refused (exit 2)"
like "$out" "primary_conninfo points at a server in recovery" "saying why"
out=$("$CELLAR" -c "$conf" check main 2>&1)
like "$out" $'\tprimary_conninfo: FAILED \\(server main: primary_conninfo points at a server in recovery' \
    "check fails primary_conninfo too, with the reason"

pg_start other || tap_bail "cannot start another cluster"
standby_conf "primary_conninfo = host=127.0.0.1 port=$PG_OTHER_PORT user=postgres dbname=postgres"
out=$("$CELLAR" -c "$conf" backup main 2>&1)
like "$out" "primary_conninfo's system identifier [0-9]+ is not the standby's [0-9]+" \
    "primary_conninfo at another cluster is refused, naming both identifiers"

backup_conf "$conf" cellar "$home" "$PG_MAIN_PORT" "standby backups" \
    'backup_method = local-rsync' 'immediate_checkpoint = true' "primary_conninfo = $primary_ci"
out=$("$CELLAR" -c "$conf" backup main 2>&1)
like "$out" "primary_conninfo is set but conninfo points at a primary" \
    "primary_conninfo with conninfo at the primary is refused"
is "$("$CELLAR" -c "$conf" list-backup --minimal main | wc -l)" 2 "none of the refusals made a backup"

standby_conf
out=$("$CELLAR" -c "$conf" backup --wait --wait-timeout 2 main 2>&1)
like "$out" "primary_conninfo is not set: the backup's last WAL segment is archived only when the primary switches WAL" \
    "without primary_conninfo the backup warns that its last segment waits for the primary"
standby_conf "primary_conninfo = $primary_ci"
"$CELLAR" -c "$conf" check main >"$T/check.out" 2>&1
is "$?" 0 "check passes on the standby's configuration: $(grep -c OK "$T/check.out") checks OK"
like "$(cat "$T/check.out")" $'\tprimary_conninfo: OK' "check: the standby and its primary are paired"
