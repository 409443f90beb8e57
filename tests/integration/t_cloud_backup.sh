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
tap_plan 39

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
# (an immediate checkpoint: a spread one paces its writes over minutes)
cloud_backup() { # cloud_backup [OPTION...] - cellar cloud-backup of main into $url
    "$CELLAR" cloud-backup "${ep[@]}" -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres \
        --immediate-checkpoint "$@" "$url" main
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
    cloud_backup -z -J 2 --name nightly 2>"$T/backup1.err" ||
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

# ---- uncompressed, split by --max-archive-size -----------------------------------
ok "cellar cloud-backup uncompressed with --max-archive-size 4MB" \
    cloud_backup -S 4MB 2>"$T/backup2.err" || cat "$T/backup2.err" >&2
list=$(list_json)
is "$(wc -l <<<"$list")" 2 "barman-cloud-backup-list shows two backups" || cat "$T/list.err" >&2
id2=$(tail -n 1 <<<"$list")
like "$id2" '^[0-9]{8}T[0-9]{6} DONE -$' "the second is DONE, without a name"
id2=${id2%% *}
objs=$(keys "pg/main/base/$id2/" | sed "s|pg/main/base/$id2/||")
ok "data.tar and data_0001.tar were written" grep -qx 'data_0001.tar' <<<"$objs"
ok "the tablespace was split too ($oid.tar, ${oid}_0001.tar)" grep -qx "${oid}_0001.tar" <<<"$objs"
ok "no compressed archive in an uncompressed backup" test -z "$(grep '\.gz$' <<<"$objs")"
rest=$T/rest2
ok "barman-cloud-restore of the split backup" \
    barman-cloud-restore "${ep[@]}" --tablespace "tbs1:$T/rest2_tbs" "$url" main "$id2" "$rest"
cat >>"$rest/postgresql.auto.conf" <<CONF
restore_command = 'barman-cloud-wal-restore --endpoint-url $S3_ENDPOINT_URL $url main %f %p'
recovery_target_action = 'promote'
archive_mode = off
CONF
touch "$rest/recovery.signal"
chown -R postgres: "$rest" "$T/rest2_tbs"
ok "the WAL up to now is archived" settle
ok "the restored split copy starts" pg_start_datadir rest2 "$rest"
done_recovery2() { [ "$(pg_sql rest2 "SELECT pg_is_in_recovery()")" = f ]; }
ok "its recovery ends" wait_for 120 done_recovery2
is "$(counts rest2)" "$after" "it holds the rows of the source"
pg_stop rest2

# ---- the store stopped during a backup -----------------------------------------
# bzip2 keeps the backup busy for seconds; cellar is paused once it logged
# the start of the backup, the store stopped, and cellar resumed
cloud_backup -j -J 2 >"$T/backup3.out" 2>"$T/backup3.err" &
pid=$!
started() { grep -q 'backup start at LSN' "$T/backup3.out"; }
ok "the backup logs its start" wait_for 60 started
kill -STOP "$pid"
ok "swift_stop_store while the backup runs" swift_stop_store
kill -CONT "$pid"
wait "$pid"
status=$?
ok "cellar cloud-backup exits non-zero (status $status)" test "$status" -ne 0
like "$(cat "$T/backup3.err")" "backup failed uploading data" "it says the backup failed"
ok "swift_start_store" swift_start_store
list=$(list_json)
is "$(grep -c ' DONE ' <<<"$list")" 2 "still two DONE backups listed: the failed one is not DONE"
ok "a rerun works" cloud_backup -z 2>"$T/backup4.err" || cat "$T/backup4.err" >&2
list=$(list_json)
is "$(grep -c ' DONE ' <<<"$list")" 3 "three DONE backups listed"

# ---- options ---------------------------------------------------------------------
ok "cloud-backup --help exits 0" "$CELLAR" cloud-backup --help
is "$("$CELLAR" cloud-backup "${ep[@]}" -z -j "$url" main >/dev/null 2>&1; echo $?)" 2 \
    "-z and -j together are a usage error"
ok "cloud-backup --test checks the store only" "$CELLAR" cloud-backup "${ep[@]}" --test "$url" main
