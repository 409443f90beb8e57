#!/bin/bash
# tests/integration/t_cloud_server.sh - a server that is a bucket
# (cloud_source): the ordinary commands on what barman-cloud 3.4 stored (TAP).
#
# One Swift s3api store and one PostgreSQL 15 cluster whose archive_command
# is barman-cloud-wal-archive; barman-cloud-backup takes three backups
# (gzip, plain, bzip2) with rows written between them. cellar runs as root
# with barman_user = barman (so as barman) on a configuration with two
# servers: `local`, an ordinary server, and `bkt`, cloud_source =
# s3://cellar/pg with cloud_server_name = main, the AWS credentials in the
# environment. Then:
#  - list-backup and show-backup (text and JSON) give the IDs, end times
#    and statuses barman-cloud-backup-list and -show give;
#  - recover of the first backup to the end and to a time between two rows:
#    the copy (restore_command: cellar cloud-wal-restore from the bucket)
#    starts and holds exactly the expected rows;
#  - check passes, and fails clearly with the store stopped and with a bad
#    secret (which is never printed); status, show-server and list-server
#    say it is a bucket server;
#  - delete removes exactly the keys barman-cloud-backup-delete -b removes
#    from an identical copy of the objects, and cron's retention
#    (REDUNDANCY 1) exactly those barman-cloud-backup-delete -r removes;
#  - get-wal fetches from the bucket what barman-cloud-wal-restore restores;
#  - backup, archive-wal, switch-wal, receive-wal, rebuild-xlogdb, list-files
#    refuse it with one line saying why; archive-wal all skips it.
# Run: tests/run.sh tests/integration/t_cloud_server.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 74

[ "$(id -u)" -eq 0 ] || tap_bail "needs root (cellar becomes barman_user = barman)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"
ok "swift_start" swift_start || tap_bail "cannot start Swift"
ok "swift_make_bucket cellar" swift_make_bucket cellar || tap_bail "cannot create a bucket"
EP=(--endpoint-url "$S3_ENDPOINT_URL")
URL=s3://cellar/pg

export PG_ARCHIVE_COMMAND="barman-cloud-wal-archive --endpoint-url $S3_ENDPOINT_URL $URL main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
unset PG_ARCHIVE_COMMAND
mkdir "$T/tbs" && chown postgres: "$T/tbs" || tap_bail "cannot create $T/tbs"
pg_sql main "CREATE TABLESPACE tbs1 LOCATION '$T/tbs'" >/dev/null || tap_bail "no tablespace"
pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text) TABLESPACE tbs1" >/dev/null ||
    tap_bail "no table"
oid=$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")
keys() { # keys PREFIX - the keys under PREFIX, one per line
    swift_s3py "
import sys
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='cellar', Prefix=sys.argv[1]):
    for o in page.get('Contents', []):
        print(o['Key'])
" "$1"
}
seg_in_bucket() { keys "pg/main/wals/${1:0:16}/$1" | grep -q .; }
switch_archived() { # switch_archived - switch WAL and wait until the segment is in the bucket
    local seg
    seg=$(pg_sql main "SELECT pg_walfile_name(pg_switch_wal())")
    wait_for 120 seg_in_bucket "$seg"
}
bc_backup() {
    barman-cloud-backup "${EP[@]}" -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres \
        --immediate-checkpoint "$@" "$URL" main >>"$T/bc-backup.log" 2>&1
}

add_row main a1
ok "barman-cloud-backup -z (backup A)" bc_backup -z || cat "$T/bc-backup.log" >&2
add_row main a2
target=$(pg_sql main "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC',
                      'YYYY-MM-DD HH24:MI:SS.US') FROM pg_sleep(0.3)")+00:00
sleep 0.3
add_row main b1
ok "the WAL of the rows is archived" switch_archived
ok "barman-cloud-backup (backup B, plain)" bc_backup
add_row main c1
ok "barman-cloud-backup -j (backup C, bzip2)" bc_backup -j
add_row main c2
switch_archived
all_rows=$(rows main)
barman-cloud-backup-list "${EP[@]}" --format json "$URL" main >"$T/bc-list.json" 2>/dev/null
mapfile -t ids < <("$SWIFT_PYTHON" -c "
import json, sys
for b in json.load(open(sys.argv[1]))['backups_list']:
    print(b['backup_id'])" "$T/bc-list.json")
is "${#ids[@]}" 3 "barman-cloud-backup-list sees three backups" || tap_bail "no backups"
A=${ids[0]} B=${ids[1]} C=${ids[2]}

# ---- the configuration: a local server and a bucket server, as barman --------
home=$T/home
out=$T/out
mkdir -p "$home" "$out" && chown barman: "$home" "$out" || tap_bail "cannot create $home"
conf=$T/cellar.conf
cat >"$conf" <<EOF
[barman]
barman_home = $home
barman_user = barman
log_file = $home/cellar.log
path_prefix = $PG_BINDIR

[local]
description = "an ordinary server"
conninfo = $(_pg_get main CONNINFO)
backup_method = postgres
archiver = on

[bkt]
description = "the bucket"
cloud_source = $URL
cloud_endpoint_url = $S3_ENDPOINT_URL
cloud_server_name = main
retention_policy = REDUNDANCY 1
minimum_redundancy = 1
last_backup_maximum_age = 1 DAYS
EOF
chmod 0644 "$conf"
run() { # run CMD... - capture OUT and RC
    OUT=$("$@" 2>&1)
    RC=$?
}
cel() { "$CELLAR" -c "$conf" "$@"; }
# bc_json FILE EXPR - EXPR over d, the backups of barman-cloud-backup-list's
# JSON, in json.dumps form as result_field (lib/recover.sh) prints cellar's
bc_json() {
    "$SWIFT_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))["backups_list"]
print(json.dumps(eval(sys.argv[2])))' "$1" "$2"
}

# ---- list-backup and show-backup ---------------------------------------------
run cel list-backup bkt
is "$RC" 0 "list-backup bkt" || diag "$OUT"
is "$(printf '%s\n' "$OUT" | awk '{print $2}' | tr '\n' ' ')" "$C $B $A " \
    "list-backup lists barman-cloud's three IDs, newest first"
cel -f json list-backup bkt >"$T/list.jsonl" 2>&1
is "$(result_field list-backup '" ".join(b["backup_id"] + ":" + b["status"] + ":" + b["end_time"] for b in reversed(d["backups"]))' <"$T/list.jsonl")" \
    "$(bc_json "$T/bc-list.json" '" ".join(b["backup_id"] + ":" + b["status"] + ":" + b["end_time"] for b in d)')" \
    "list-backup --format json: the IDs, statuses and end times of barman-cloud-backup-list"
run cel list-backup all
is "$RC:$(printf '%s\n' "$OUT" | grep -c "$A")" 0:1 "list-backup all: the local server (no backup) and the bucket's" ||
    diag "$OUT"
barman-cloud-backup-show "${EP[@]}" --format json "$URL" main "$B" >"$T/bc-show.json" 2>/dev/null
bc_show() { "$SWIFT_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))["cloud"]
print(json.dumps(eval(sys.argv[2])))' "$T/bc-show.json" "$1"; }
cel -f json show-backup bkt "$B" >"$T/show.jsonl" 2>&1
fields='" ".join(str(d[k]) for k in ("status", "begin_wal", "end_wal", "begin_xlog", "end_xlog", "timeline"))'
is "$(result_field show-backup "$fields" <"$T/show.jsonl")" "$(bc_show "$fields")" \
    "show-backup --format json: status, WAL and LSN range, timeline of barman-cloud-backup-show"
run cel show-backup bkt latest
like "$OUT" "^Backup $C:" "show-backup bkt latest is C"
like "$OUT" "Status +: DONE" "... DONE"
like "$OUT" "Retention Policy +: VALID" "... VALID under REDUNDANCY 1"
like "$OUT" "WAL number" "... with its WAL figures from the bucket's listing"
like "$OUT" "Location +: bucket $URL, server main" "... and where it is"

# ---- status, show-server, list-server ----------------------------------------
run cel status bkt
like "$OUT" "Bucket server: +$URL" "status says it is a bucket server, and its URL"
like "$OUT" "No. of available backups: +3" "... and counts its backups"
run cel show-server bkt
like "$OUT" "bucket_server: True" "show-server: bucket_server True"
like "$OUT" "cloud_endpoint_url: $S3_ENDPOINT_URL" "... and the endpoint"
run cel list-server
like "$OUT" "bkt - the bucket - bucket server: $URL" "list-server marks the bucket server"
unlike "$OUT" "testing" "none of them prints the secret"

# ---- recover ---------------------------------------------------------------
run cel recover bkt "$A" "$out/end"
ok "recover without --tablespace into the live tablespace's location is refused" \
    test "$RC" -ne 0
like "$OUT" "Relocate it with --tablespace tbs1:" "... naming the tablespace" || diag "$OUT"
run cel recover bkt "$A" "$out/end" --tablespace "tbs1:$out/end.tbs"
is "$RC" 0 "recover bkt A to the end of the WAL, tablespace relocated" || diag "$OUT"
is "$(readlink "$out/end/pg_tblspc/$oid")" "$out/end.tbs" "pg_tblspc/OID links to the relocation"
like "$OUT" "cloud-wal-restore from $URL" "... WAL fetched from the bucket by restore_command"
auto=$(cat "$out/end/postgresql.auto.conf")
like "$auto" "restore_command = '.*cloud-wal-restore --parallel [0-9]+ --spool-directory barman_wal --endpoint-url $S3_ENDPOINT_URL $URL main %f %p'" \
    "postgresql.auto.conf: restore_command = cellar cloud-wal-restore with endpoint, URL and server"
ok "recovery.signal is written" test -f "$out/end/recovery.signal"
ok "recovery_end_command removes the copy's spool" \
    grep -qxF "recovery_end_command = 'rm -fr barman_wal'" "$out/end/postgresql.auto.conf"
like "$(grep archive_command "$out/end/postgresql.auto.conf" "$out/end/postgresql.conf")" "#BARMAN#" \
    "archive_command is disabled in the copy"
is "$(stat -c %U "$out/end/PG_VERSION")" barman "the recovered files are barman's"
start_rec end "$out/end" promoted
is "$(rows end)" "$all_rows" "the copy recovered to the end holds every row ($all_rows)"
ok "... and its spool is gone" test ! -e "$out/end/barman_wal"
pg_stop end

run cel recover bkt "$A" "$out/pitr" --target-time "$target" --target-action promote \
    --tablespace "tbs1:$out/pitr.tbs"
is "$RC" 0 "recover bkt A --target-time (between a2 and b1)" || diag "$OUT"
ok "... the target is written as local recover writes it" \
    grep -qxF "recovery_target_time = '$target'" "$out/pitr/postgresql.auto.conf"
start_rec pitr "$out/pitr" promoted
is "$(rows pitr)" "a1 a2" "the copy recovered to the target holds exactly a1 a2"
pg_stop pitr

mkdir -p "$out/full" && touch "$out/full/junk" && chown -R barman: "$out/full"
run cel recover bkt "$A" "$out/full"
ok "recover into a non-empty directory is refused" test "$RC" -ne 0
is "$(ls "$out/full")" junk "... and writes nothing there"
run cel recover bkt "$A" "$out/remote" --remote-ssh-command "ssh postgres@localhost"
like "$OUT" "bucket server.*--remote-ssh-command" "recover --remote-ssh-command is refused for a bucket server"

# ---- check ---------------------------------------------------------------------
run cel check bkt
is "$RC" 0 "check bkt passes" || diag "$OUT"
like "$OUT" "bucket: OK" "... the bucket answers"
like "$OUT" "minimum redundancy requirements: OK" "... minimum_redundancy is met"
like "$OUT" "WAL archive: OK" "... the WAL is in the bucket"
unlike "$OUT" "PostgreSQL|ssh|directories" "... and no check of PostgreSQL or local directories runs"
run env AWS_SECRET_ACCESS_KEY=wrong-Secret-77 "$CELLAR" -c "$conf" check bkt
ok "check bkt with a bad secret fails" test "$RC" -ne 0
like "$OUT" "bucket: FAILED.*403" "... the bucket check fails with the store's refusal"
like "$OUT" "access key ID 'test:tester' \(from environment\)" \
    "... naming the access key ID and where it came from"
unlike "$OUT" "wrong-Secret-77" "... never the secret"
like "$OUT" "ERROR: 1 check failed on server bkt" "... and only that check fails, once"
swift_stop_store
run cel check bkt
swift_start_store
ok "check bkt with the store stopped fails" test "$RC" -ne 0
like "$OUT" "bucket: FAILED \(bucket server bkt: cannot list bucket 'cellar'" \
    "... saying the bucket cannot be listed"

# ---- get-wal from the bucket ---------------------------------------------------------
seg=$(keys pg/main/wals/ | sed -n 's|.*/\([0-9A-F]\{24\}\)\.gz$|\1|p;s|.*/\([0-9A-F]\{24\}\)$|\1|p' | head -n 1)
barman-cloud-wal-restore "${EP[@]}" "$URL" main "$seg" "$T/bc-$seg" 2>/dev/null
run cel get-wal bkt "$seg" -o "$out"
is "$RC" 0 "get-wal bkt $seg -o DIR" || diag "$OUT"
ok "... writes what barman-cloud-wal-restore restores" cmp "$T/bc-$seg" "$out/$seg"
cel get-wal bkt "$seg" >"$T/stdout-$seg" 2>"$T/get-wal.err"
ok "get-wal bkt $seg to standard output: the same bytes" cmp "$T/bc-$seg" "$T/stdout-$seg"
run cel get-wal bkt 0000000100000000000000FE
is "$RC" 1 "get-wal of a WAL the bucket does not hold exits 1 (the end of the archive)"

# ---- commands that do not apply ---------------------------------------------------
for cmd in "backup bkt" "archive-wal bkt" "switch-wal bkt" "receive-wal bkt" \
    "rebuild-xlogdb bkt" "list-files bkt $A"; do
    # shellcheck disable=SC2086 # the words of the command
    run cel $cmd
    ok "$cmd is refused ($(printf '%s' "$OUT" | tail -n 1 | cut -c1-60)...)" \
        eval '[ "$RC" -ne 0 ] && [[ $OUT == *"server '"'"'bkt'"'"' is a bucket server (cloud_source = $URL): ${cmd%% *}"* ]]'
done
run cel archive-wal all
is "$RC" 0 "archive-wal all works on the local server and skips the bucket server" ||
    diag "$OUT"

# ---- delete and retention, against barman-cloud-backup-delete on a copy --------------
swift_copy_prefix cellar pg/main/ pg2/main/
same_keys() { diff <(keys pg/main/ | sed 's|^pg/|X/|') <(keys pg2/main/ | sed 's|^pg2/|X/|'); }
ok "a copy of the objects under pg2/" same_keys
run cel delete bkt "$A"
is "$RC" 0 "delete bkt A" || diag "$OUT"
barman-cloud-backup-delete "${EP[@]}" -b "$A" s3://cellar/pg2 main >/dev/null 2>&1
ok "... removes exactly what barman-cloud-backup-delete -b removes" same_keys
run cel cron --dry-run
like "$OUT" "bkt: dry run: retention would delete $B" "cron --dry-run: retention would delete B"
run cel cron
is "$RC" 0 "cron" || diag "$OUT"
like "$OUT" "bkt: bucket $URL; obsolete backups deleted: $B" "cron applies REDUNDANCY 1 to the bucket"
barman-cloud-backup-delete "${EP[@]}" -r "REDUNDANCY 1" s3://cellar/pg2 main >/dev/null 2>&1
ok "... removing exactly what barman-cloud-backup-delete -r 'REDUNDANCY 1' removes" same_keys
run cel delete bkt "$C"
ok "delete of the last backup is refused (minimum_redundancy = 1)" test "$RC" -ne 0
like "$OUT" "minimum redundancy" "... saying why"
is "$(keys "pg/main/base/$C/" | grep -c backup.info)" 1 "... and C is still there"
