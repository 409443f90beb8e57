#!/bin/bash
# tests/integration/t_cloud_catalog.sh - cellar's readers of a bucket's
# backups (cloud-backup-list, -show, cloud-restore, cloud-backup-delete,
# cloud-backup-keep) on what barman-cloud 3.4 wrote, compared with
# barman-cloud's own tools (TAP).
#
# One Swift s3api store and one PostgreSQL 15 cluster with a tablespace:
# barman-cloud-wal-archive is the cluster's archive_command and
# barman-cloud-backup makes three backups (gzip, plain and named, bzip2)
# with rows written between them. Then:
#  - cloud-backup-list in both formats against barman-cloud-backup-list
#    (the console text byte for byte, the JSON field by field), and
#    cloud-backup-show likewise;
#  - cloud-restore of the first backup with its tablespace relocated, and
#    PostgreSQL recovering with barman-cloud-wal-restore as restore_command
#    to the end (every row) and to a time between two batches of rows
#    (exactly the rows before it);
#  - cloud-backup-keep, read back by barman-cloud-backup-keep --status;
#  - cloud-backup-delete -r and -b, --dry-run first (nothing goes), then
#    for real, each against barman-cloud-backup-delete on an identical copy
#    of the server's objects under another path: the same objects printed,
#    the same objects left; a kept backup survives -r and refuses -b;
#  - faults: a garbage backup.info is skipped with a warning (and stops
#    delete), restore into a non-empty directory is refused, and wrong
#    credentials give a clear error without the secret.
# Run: tests/run.sh tests/integration/t_cloud_catalog.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 62

ok "swift_start" swift_start || tap_bail "cannot start Swift"
ok "swift_make_bucket cellar" swift_make_bucket cellar || tap_bail "cannot create a bucket"
EP=(--endpoint-url "$S3_ENDPOINT_URL")
URL=s3://cellar/pg

export PG_ARCHIVE_COMMAND="barman-cloud-wal-archive --endpoint-url $S3_ENDPOINT_URL $URL main %p"
ok "pg_start main with barman-cloud-wal-archive as archive_command" pg_start main ||
    tap_bail "cannot start PostgreSQL"
unset PG_ARCHIVE_COMMAND
mkdir "$T/tbs" && chown postgres: "$T/tbs" 2>/dev/null
pg_sql main "CREATE TABLESPACE tbs1 LOCATION '$T/tbs'" >/dev/null
pg_sql main "CREATE TABLE t (i int) TABLESPACE tbs1" >/dev/null
rows() { pg_sql "$1" "SELECT count(*) FROM t"; }
batch() { pg_sql main "INSERT INTO t SELECT generate_series(1, 100)" >/dev/null; }

# keys PREFIX - the keys under PREFIX, one per line
keys() {
    swift_s3py "
import sys
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='cellar', Prefix=sys.argv[1]):
    for o in page.get('Contents', []):
        print(o['Key'])
" "$1"
}
bc_backup() {
    barman-cloud-backup "${EP[@]}" -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres \
        --immediate-checkpoint "$@" "$URL" main >>"$T/bc-backup.log" 2>&1
}
seg_in_bucket() { keys "pg/main/wals/${1:0:16}/$1" | grep -q .; }

batch
ok "barman-cloud-backup -z (backup A, with the tablespace)" bc_backup -z
batch
sleep 1.2
target=$(pg_sql main "SELECT now()")
sleep 1.2
batch
seg=$(pg_sql main "SELECT pg_walfile_name(pg_switch_wal())")
ok "the WAL of the three batches is archived" wait_for 120 seg_in_bucket "$seg"
ok "barman-cloud-backup -n mynamed (backup B, plain)" bc_backup -n mynamed
ok "barman-cloud-backup -j (backup C, bzip2)" bc_backup -j
seg=$(pg_sql main "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 120 seg_in_bucket "$seg"
barman-cloud-backup-list "${EP[@]}" --format json "$URL" main >"$T/bc-list.json" 2>/dev/null
mapfile -t ids < <("$SWIFT_PYTHON" -c "
import json, sys
for b in json.load(open(sys.argv[1]))['backups_list']:
    print(b['backup_id'])" "$T/bc-list.json")
is "${#ids[@]}" 3 "barman-cloud-backup-list sees three backups" || cat "$T/bc-backup.log" >&2
A=${ids[0]} B=${ids[1]} C=${ids[2]}

# ---- list and show -----------------------------------------------------------
"$CELLAR" cloud-backup-list "${EP[@]}" "$URL" main >"$T/list.txt" 2>"$T/list.err"
barman-cloud-backup-list "${EP[@]}" "$URL" main >"$T/bc-list.txt" 2>/dev/null
ok "cloud-backup-list prints barman-cloud-backup-list's table byte for byte" \
    diff "$T/bc-list.txt" "$T/list.txt"
"$CELLAR" cloud-backup-list "${EP[@]}" --format json "$URL" main >"$T/list.json" 2>"$T/list.err"
# same_json A B - the same keys and values (floats to 9 significant digits)
same_json() {
    "$SWIFT_PYTHON" -c "
import json, sys
def norm(v):
    if isinstance(v, float): return float('%.9g' % v)
    if isinstance(v, dict): return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list): return [norm(x) for x in v]
    return v
a, b = (norm(json.load(open(f))) for f in sys.argv[1:3])
if a != b:
    print('differ:', json.dumps(a)[:2000], json.dumps(b)[:2000], file=sys.stderr)
    sys.exit(1)
" "$1" "$2"
}
ok "cloud-backup-list --format json equals barman-cloud-backup-list's field by field" \
    same_json "$T/bc-list.json" "$T/list.json"
is "$(cat "$T/list.err")" "" "cloud-backup-list --format json writes nothing on stderr"
for id in "$A" "$B"; do
    "$CELLAR" cloud-backup-show "${EP[@]}" "$URL" main "$id" >"$T/show.txt" 2>&1
    barman-cloud-backup-show "${EP[@]}" "$URL" main "$id" >"$T/bc-show.txt" 2>&1
    ok "cloud-backup-show $id prints barman-cloud-backup-show's text" \
        diff "$T/bc-show.txt" "$T/show.txt"
    "$CELLAR" cloud-backup-show "${EP[@]}" --format json "$URL" main "$id" >"$T/show.json"
    barman-cloud-backup-show "${EP[@]}" --format json "$URL" main "$id" >"$T/bc-show.json"
    ok "cloud-backup-show --format json $id equals barman-cloud's" \
        same_json "$T/bc-show.json" "$T/show.json"
done
like "$("$CELLAR" cloud-backup-show "${EP[@]}" "$URL" main mynamed | head -n1)" "^Backup $B:" \
    "a backup name resolves to its ID"
like "$("$CELLAR" cloud-backup-show "${EP[@]}" "$URL" main latest | head -n1)" "^Backup $C:" \
    "latest resolves to the newest backup"

# ---- restore and recovery ------------------------------------------------------
mkdir -p "$T/full" && touch "$T/full/junk"
out=$("$CELLAR" cloud-restore "${EP[@]}" "$URL" main "$A" "$T/full" 2>&1)
rc=$?
ok "cloud-restore into a non-empty directory is refused" test "$rc" -ne 0
like "$out" "not empty" "... saying the destination is not empty"
is "$(ls "$T/full")" junk "... and writes nothing there"

# recover_copy NAME DIR [EXTRA_CONF...] - restore A into DIR (tablespace in
# DIR.tbs), recover with barman-cloud-wal-restore; ROWS gets the rows once
# promoted. Call it in the main shell: pg_start_datadir registers the cluster.
recover_copy() {
    ROWS=""
    local name=$1 dir=$2
    shift 2
    "$CELLAR" cloud-restore "${EP[@]}" --tablespace "tbs1:$dir.tbs" "$URL" main "$A" "$dir" ||
        return 1
    {
        printf "restore_command = 'barman-cloud-wal-restore --endpoint-url %s %s main %%f %%p'\n" \
            "$S3_ENDPOINT_URL" "$URL"
        printf "archive_mode = off\nrecovery_target_action = 'promote'\n"
        printf '%s\n' "$@"
    } >>"$dir/postgresql.auto.conf"
    touch "$dir/recovery.signal"
    pg_start_datadir "$name" "$dir" || return 1
    wait_for 180 promoted_ "$name" || return 1
    ROWS=$(rows "$name")
}
promoted_() { [ "$(pg_sql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]; }

recover_copy end "$T/end"
is "$ROWS" 300 "restore A + recovery to the end holds all 300 rows"
oid=$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")
is "$(readlink "$T/end/pg_tblspc/$oid")" "$T/end.tbs" \
    "pg_tblspc/OID links to the --tablespace location"
ok "the tablespace's files are in its location" test -d "$T/end.tbs/PG_15_"*
recover_copy pitr "$T/pitr" "recovery_target_time = '$target'"
is "$ROWS" 200 \
    "restore A + recovery to a time between batches holds exactly the 200 rows before it"
pg_stop end
pg_stop pitr

# the same backup (C, bzip2) restored by both tools: the same tree
# tree DIR - each entry's path, type, mode, size, link target and checksum
tree() {
    (cd "$1" && find . -printf '%P %y %m %s %l\n' | sort &&
        find . -type f -print0 | sort -z | xargs -0 md5sum)
}
t0=$(date +%s.%N)
ok "cloud-restore C (bzip2)" "$CELLAR" cloud-restore "${EP[@]}" --tablespace "tbs1:$T/cc.tbs" \
    "$URL" main "$C" "$T/cc"
t1=$(date +%s.%N)
barman-cloud-restore "${EP[@]}" --tablespace "tbs1:$T/bc.tbs" "$URL" main "$C" "$T/bc" 2>&1
t2=$(date +%s.%N)
diag "$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "restore of C: cellar %.2f s, barman-cloud-restore %.2f s", b - a, c - b }')"
ok "... gives barman-cloud-restore's tree (paths, types, modes, sizes, contents)" \
    diff <(tree "$T/bc" | sed "s|$T/bc.tbs|TBS|") <(tree "$T/cc" | sed "s|$T/cc.tbs|TBS|")
# a location cellar creates is 0700 like PGDATA (barman-cloud's follows the umask)
ok "... and the tablespace's tree (its location 0700)" \
    diff <(tree "$T/bc.tbs" | grep -v '^ d ') <(tree "$T/cc.tbs" | grep -v '^ d ')
is "$(stat -c %a "$T/cc.tbs")" 700 "... its location 0700"

# progress: B (uncompressed) with --format json, one object at a time
"$CELLAR" --format json cloud-restore "${EP[@]}" -J 1 --tablespace "tbs1:$T/bj.tbs" "$URL" main \
    "$B" "$T/bj" >"$T/bj.json" 2>"$T/bj.err"
is "$?" 0 "cloud-restore --format json -J 1 of B"
# sizes: the size of each tar object of B, from the listing
sizes=$(swift_s3py "
import sys
for o in s3.list_objects_v2(Bucket='cellar', Prefix='pg/main/base/' + sys.argv[1] + '/')['Contents']:
    if '.tar' in o['Key']:
        print(o['Size'])
" "$B")
is "$("$SWIFT_PYTHON" -c "
import json, sys
sizes = [int(s) for s in sys.argv[2].split()]
ev = [json.loads(l) for l in open(sys.argv[1])]
pr = [e for e in ev if e['event'] == 'progress']
last = pr[-1] if pr else {}
done = [p['bytes_done'] for p in pr]
print(len(pr) > 0, done == sorted(done), last.get('bytes_done') == sum(sizes),
      last.get('bytes_total') == sum(sizes), last.get('files_done'), last.get('files_total'),
      ev[-1].get('status'))
" "$T/bj.json" "$sizes")" "True True True True 2 2 ok" \
    "... progress events, bytes done never going back, the last one every byte of the listing's objects, all objects done"
is "$(wc -w <<<"$sizes")" 2 "... B's two tar objects (PGDATA and the tablespace) are what the listing holds"
ok "... and the same tree as barman-cloud-restore's of B" \
    diff <(barman-cloud-restore "${EP[@]}" --tablespace "tbs1:$T/bb.tbs" "$URL" main "$B" "$T/bb" &&
        tree "$T/bb" | sed "s|$T/bb.tbs|TBS|") <(tree "$T/bj" | sed "s|$T/bj.tbs|TBS|")
out=$("$CELLAR" cloud-restore "${EP[@]}" -J 0 "$URL" main "$B" "$T/j0" 2>&1)
rc=$?
ok "cloud-restore -J 0 is refused" test "$rc" -ne 0 -a ! -e "$T/j0"
like "$out" "jobs" "... naming the option"

# a download cut mid-object resumes where it stopped (a Range GET) and the
# tree is whole; one cut on every attempt fails with the store's error,
# not the truncated stream the decompressor and the tar reader then see
relay_start --cut "down:1000000:GET /cellar/pg/main/base/$B/data.tar " ||
    tap_bail "cannot start the relay"
ok "cloud-restore of B with its data.tar cut after 1,000,000 bytes succeeds" \
    "$CELLAR" cloud-restore --endpoint-url "$RELAY_EP" --tablespace "tbs1:$T/bk.tbs" "$URL" main \
    "$B" "$T/bk"
is "$(grep -c ' cut ' "$RELAY_LOG")" 1 "... the relay cut it once"
ok "... and the tree is barman-cloud-restore's" \
    diff <(tree "$T/bb" | sed "s|$T/bb.tbs|TBS|") <(tree "$T/bk" | sed "s|$T/bk.tbs|TBS|")
relay_start --cut "down:100000x50:GET /cellar/pg/main/base/$A/data.tar.gz " ||
    tap_bail "cannot start the relay"
out=$("$CELLAR" cloud-restore --endpoint-url "$RELAY_EP" --tablespace "tbs1:$T/ak.tbs" "$URL" main \
    "$A" "$T/ak" 2>&1)
rc=$?
relay_stop
ok "cloud-restore of A with data.tar.gz cut on every attempt fails" test "$rc" -ne 0
like "$out" "cannot reach the store" "... with the store's error"
unlike "$out" "unexpected end|truncated|stopped" "... not what the later stages saw"

# ---- keep --------------------------------------------------------------------------
ok "cloud-backup-keep --target standalone A" \
    "$CELLAR" cloud-backup-keep "${EP[@]}" --target standalone "$URL" main "$A"
is "$(barman-cloud-backup-keep "${EP[@]}" --status "$URL" main "$A" 2>&1)" "Keep: standalone" \
    "barman-cloud-backup-keep --status reads cellar's annotation"
is "$("$CELLAR" cloud-backup-keep "${EP[@]}" --status "$URL" main "$B")" "Keep: nokeep" \
    "cloud-backup-keep --status of an unkept backup: Keep: nokeep"

# ---- faults: garbage backup.info, wrong credentials ----------------------------
swift_s3py "s3.put_object(Bucket='cellar', Key='pg/main/base/20200101T000000/backup.info',
                          Body=b'this is not = a backup.info\\n\\x01garbage')"
"$CELLAR" cloud-backup-list "${EP[@]}" "$URL" main >"$T/g.txt" 2>"$T/g.err"
ok "with a garbage backup.info, cloud-backup-list still lists the others" \
    diff <(sed 's/KEEP:STANDALONE/               /' "$T/g.txt") "$T/bc-list.txt"
like "$(cat "$T/g.err")" "Unable to open backup.info file for 20200101T000000" \
    "... and warns about the unreadable one"
out=$("$CELLAR" cloud-backup-delete "${EP[@]}" -r "REDUNDANCY 1" "$URL" main 2>&1)
rc=$?
ok "cloud-backup-delete refuses to work on a catalogue with an unreadable backup" \
    test "$rc" -ne 0 -a -n "$(keys pg/main/base/"$B"/)"
swift_s3py "s3.delete_object(Bucket='cellar', Key='pg/main/base/20200101T000000/backup.info')"
out=$(AWS_SECRET_ACCESS_KEY=not-the-Secret-42 "$CELLAR" cloud-backup-list "${EP[@]}" "$URL" main 2>&1)
rc=$?
ok "wrong credentials fail" test "$rc" -ne 0
diag "wrong credentials: $out"
like "$out" "403 (SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId).*HINT: .*(credentials|access key)" "... with the store's refusal and a hint"
unlike "$out" "not-the-Secret-42" "... and without the secret"

# ---- delete, against barman-cloud-backup-delete on a copy ----------------------
swift_copy_prefix cellar pg/main/ pg2/main/
same_keys() { diff <(keys pg/main/ | sed 's|^pg/|X/|') <(keys pg2/main/ | sed 's|^pg2/|X/|'); }
ok "the copy under pg2/ holds the same keys" same_keys
# dry_lines FILE PREFIX - the objects a dry run printed, PREFIX made X
dry_lines() { grep -o "Skipping deletion of objects .*" "$1" | sed "s|'$2/|'X/|g"; }
before=$(keys pg/main/)
"$CELLAR" cloud-backup-delete "${EP[@]}" --dry-run -r "RECOVERY WINDOW OF 7 DAYS" "$URL" main \
    >"$T/w" 2>&1
barman-cloud-backup-delete "${EP[@]}" --dry-run -r "RECOVERY WINDOW OF 7 DAYS" s3://cellar/pg2 \
    main >"$T/bw" 2>&1
is "$(dry_lines "$T/w" pg)|$(dry_lines "$T/bw" pg2)" "|" \
    "-r 'RECOVERY WINDOW OF 7 DAYS' finds nothing obsolete, as barman-cloud's"
"$CELLAR" cloud-backup-delete "${EP[@]}" --dry-run -r "REDUNDANCY 1" "$URL" main >"$T/d1" 2>&1
barman-cloud-backup-delete "${EP[@]}" --dry-run -r "REDUNDANCY 1" s3://cellar/pg2 main \
    >"$T/bd1" 2>&1
is "$(keys pg/main/)" "$before" "cloud-backup-delete --dry-run -r deletes nothing"
ok "... and prints the objects barman-cloud-backup-delete --dry-run prints" \
    diff <(dry_lines "$T/bd1" pg2) <(dry_lines "$T/d1" pg)
like "$(cat "$T/d1")" "base/$B/backup.info" "... B's among them (A is kept, C is the newest)"
like "$(cat "$T/d1")" "wals/" "... and WAL objects"
ok "cloud-backup-delete -r 'REDUNDANCY 1'" \
    "$CELLAR" cloud-backup-delete "${EP[@]}" -r "REDUNDANCY 1" "$URL" main
barman-cloud-backup-delete "${EP[@]}" -r "REDUNDANCY 1" s3://cellar/pg2 main
ok "... leaves exactly what barman-cloud-backup-delete leaves" same_keys
ok "... the kept backup A stays" grep -q "base/$A/backup.info" <(keys pg/main/)
out=$("$CELLAR" cloud-backup-delete "${EP[@]}" -b "$A" "$URL" main 2>&1)
like "$out" "keep" "cloud-backup-delete -b of a kept backup is refused"
"$CELLAR" cloud-backup-keep "${EP[@]}" --release "$URL" main "$A"
barman-cloud-backup-keep "${EP[@]}" --release s3://cellar/pg2 main "$A"
"$CELLAR" cloud-backup-delete "${EP[@]}" --dry-run -b "$A" "$URL" main >"$T/d2" 2>&1
barman-cloud-backup-delete "${EP[@]}" --dry-run -b "$A" s3://cellar/pg2 main >"$T/bd2" 2>&1
ok "cloud-backup-delete --dry-run -b prints what barman-cloud's prints" \
    diff <(dry_lines "$T/bd2" pg2) <(dry_lines "$T/d2" pg)
like "$(cat "$T/d2")" "base/$A/data.tar.gz', 'pg/main/base/$A/[0-9]+.tar.gz', 'pg/main/base/$A/backup.info'" \
    "... A's tar objects (PGDATA, then the tablespace) and backup.info"
diag "$(cat "$T/d1" "$T/d2")"
"$CELLAR" cloud-backup-delete "${EP[@]}" -b "$A" "$URL" main
barman-cloud-backup-delete "${EP[@]}" -b "$A" s3://cellar/pg2 main
ok "cloud-backup-delete -b leaves exactly what barman-cloud-backup-delete leaves" same_keys

pg_stop main
swift_stop
