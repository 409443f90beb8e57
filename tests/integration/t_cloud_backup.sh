#!/bin/bash
# tests/integration/t_cloud_backup.sh - `cellar cloud-backup` against a
# private Swift s3api, read back by barman-cloud 3.4 (TAP).
#
# A PostgreSQL 15 cluster with a tablespace archives its WAL with
# barman-cloud-wal-archive. cellar cloud-backup -z runs while pgbench
# writes; barman-cloud-backup-list and -backup-show list it DONE with its
# fields; barman-cloud-restore restores it and, with barman-cloud-wal-restore
# as restore_command, the copy starts and holds exactly the rows of the
# source once pgbench stopped. An uncompressed backup split by
# --max-archive-size into data.tar, data_0001.tar, ... restores too. With
# the store stopped while a backup runs (cellar is paused with SIGSTOP once
# it logged its start, the store stopped, cellar resumed: no timing), the
# backup fails with a non-zero exit and nothing is listed DONE; once the
# store is back a rerun works.
# Run: tests/run.sh tests/integration/t_cloud_backup.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 40

ok "swift_start" swift_start || tap_bail "cannot start Swift"
ok "swift_make_bucket cellar" swift_make_bucket cellar || tap_bail "cannot create a bucket"
url=s3://cellar/pg
ep=(--endpoint-url "$S3_ENDPOINT_URL")

tbs=$T/tbs1
mkdir -p "$tbs" && chown postgres: "$tbs"
export PG_ARCHIVE_COMMAND="barman-cloud-wal-archive --endpoint-url $S3_ENDPOINT_URL $url main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
unset PG_ARCHIVE_COMMAND
pg_sql main "CREATE TABLESPACE tbs1 LOCATION '$tbs'" >/dev/null || tap_bail "no tablespace"
"$PG_BINDIR/pgbench" -q -i -s 4 --tablespace=tbs1 -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres \
    postgres >"$T/pgbench-init.log" 2>&1 || tap_bail "pgbench -i failed"
pg_sql main "CREATE TABLE outside (i int); INSERT INTO outside SELECT generate_series(1, 1000)" >/dev/null
oid=$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")
sysid=$(pg_sql main "SELECT system_identifier FROM pg_control_system()")

counts() { # counts NAME - what the data holds, in one line
    pg_sql "$1" "SELECT (SELECT count(*) FROM pgbench_history), (SELECT sum(abalance) FROM pgbench_accounts),
                        (SELECT count(*) FROM outside)"
}
keys() { # keys PREFIX - the keys under PREFIX, one per line
    swift_s3py "
import sys
p = s3.get_paginator('list_objects_v2')
for page in p.paginate(Bucket='cellar', Prefix=sys.argv[1]):
    for o in page.get('Contents', []):
        print(o['Key'])
" "$1"
}
# list_json - barman-cloud-backup-list --format json: "ID STATUS NAME" per backup
list_json() {
    barman-cloud-backup-list "${ep[@]}" --format json "$url" main 2>"$T/list.err" |
        "$SWIFT_PYTHON" -c "
import json, sys
for b in json.load(sys.stdin)['backups_list']:
    print(b['backup_id'], b['status'], b.get('backup_name') or '-')
"
}
cloud_backup() { # cloud_backup [OPTION...] - cellar cloud-backup of main into $url
    "$CELLAR" cloud-backup "${ep[@]}" -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres "$@" "$url" main
}
# archived SEGMENT - true once SEGMENT is in the bucket
archived() {
    keys "pg/main/wals/${1:0:16}/" | grep -q "/$1"
}
# settle - switch WAL and wait until the closed segment is in the bucket
settle() {
    local seg
    seg=$(pg_sql main "SELECT pg_walfile_name(pg_switch_wal())")
    wait_for 120 archived "$seg"
}

# ---- a compressed backup while pgbench writes ----------------------------------
before=$(counts main)
"$PG_BINDIR/pgbench" -n -T 3 -c 2 -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres postgres \
    >"$T/pgbench.log" 2>&1 &
bench=$!
sleep 0.5
ok "cellar cloud-backup -z --name nightly, pgbench writing" \
    cloud_backup -z -J 2 --immediate-checkpoint --name nightly 2>"$T/backup1.err" ||
    cat "$T/backup1.err" >&2
wait "$bench"
after=$(counts main)
ok "pgbench wrote while the backup ran ($before -> $after)" test "$after" != "$before"
ok "the WAL up to now is archived" settle
list=$(list_json)
like "$list" '^[0-9]{8}T[0-9]{6} DONE nightly$' \
    "barman-cloud-backup-list shows the backup DONE with its name" || cat "$T/list.err" >&2
id1=${list%% *}
objs=$(keys "pg/main/base/$id1/" | sed "s|pg/main/base/$id1/||" | sort | tr '\n' ' ')
is "$objs" "$oid.tar.gz backup.info data.tar.gz " \
    "the backup wrote data.tar.gz, OID.tar.gz and backup.info"
show=$(barman-cloud-backup-show "${ep[@]}" --format json "$url" main "$id1" 2>"$T/show.err" |
    "$SWIFT_PYTHON" -c "
import json, sys
d = json.load(sys.stdin)['cloud']
t = d['tablespaces']
print(d['status'], d['timeline'], d['systemid'], d['server_name'], d['backup_name'],
      d['begin_wal'] <= d['end_wal'], str(d['version'])[:2],
      t[0][0] if t else '-', t[0][1] if t else '-', d['xlog_segment_size'])
" 2>&1)
is "$show" "DONE 1 $sysid cloud nightly True 15 tbs1 $oid 16777216" \
    "barman-cloud-backup-show: status, timeline, systemid, server, name, WAL, version, tablespace"
info=$(swift_s3py "
import sys
print(s3.get_object(Bucket='cellar', Key=sys.argv[1])['Body'].read().decode())
" "pg/main/base/$id1/backup.info")
like "$info" "backup_label='START WAL LOCATION: " "backup.info holds backup_label"
like "$info" "copy_stats=\{'total_time': " "backup.info holds copy_stats"
like "$info" "begin_time=20" "backup.info holds begin_time"
members=$(swift_s3py "
import sys, tarfile, io
body = s3.get_object(Bucket='cellar', Key=sys.argv[1])['Body'].read()
names = tarfile.open(fileobj=io.BytesIO(body), mode='r:gz').getnames()
print(' '.join(n for n in ('backup_label', 'global/pg_control', 'PG_VERSION', 'pg_wal', 'pg_replslot',
                            'postmaster.pid', 'postmaster.opts', 'pg_tblspc/$oid') if n in names),
      len([n for n in names if n.startswith('pg_wal/')]))
" "pg/main/base/$id1/data.tar.gz" 2>&1)
is "$members" "backup_label global/pg_control PG_VERSION pg_wal pg_replslot 0" \
    "data.tar.gz holds backup_label, pg_control, empty pg_wal and pg_replslot, no postmaster.pid, no tablespace link"

# ---- barman-cloud-restore and the WAL from the bucket --------------------------
rest=$T/rest1
ok "barman-cloud-restore of cellar's backup" \
    barman-cloud-restore "${ep[@]}" --tablespace "tbs1:$T/rest1_tbs" "$url" main "$id1" "$rest"
ok "the tablespace was restored into its new location" test -d "$(echo "$T/rest1_tbs"/PG_15_*)"
cat >>"$rest/postgresql.auto.conf" <<CONF
restore_command = 'barman-cloud-wal-restore --endpoint-url $S3_ENDPOINT_URL $url main %f %p'
recovery_target_action = 'promote'
archive_mode = off
CONF
touch "$rest/recovery.signal"
chown -R postgres: "$rest" "$T/rest1_tbs"
ok "the restored copy starts" pg_start_datadir rest1 "$rest"
done_recovery() { [ "$(pg_sql rest1 "SELECT pg_is_in_recovery()")" = f ]; }
ok "its recovery ends" wait_for 120 done_recovery
is "$(counts rest1)" "$after" "it holds exactly the rows of the source"
pg_stop rest1
