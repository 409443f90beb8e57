#!/bin/bash
# tests/integration/t_cloud_wal.sh - cloud-wal-archive, cloud-wal-restore and
# cloud-check-wal-archive against Swift s3api on loopback, both ways with
# barman-cloud 3.4 (TAP).
#
# A real PostgreSQL 15 cluster archives with `cellar cloud-wal-archive -z`
# as its archive_command, run by the postgres OS user with the credentials
# of the environment the harness gives the server and no cellar
# configuration; barman-cloud-wal-restore reads what it stored. Every
# compression goes both ways through cellar, barman-cloud's gzip and bzip2
# objects are read by cellar, an identical re-archive succeeds and a
# different file under an archived name is refused. The store stopped
# while the cluster archives makes archive_command fail (pg_stat_archiver
# counts it) and, once it is back, every segment arrives. A wrong secret
# is refused naming the key ID, never the secret. Finally a base backup of
# the cluster recovers with `cellar cloud-wal-restore --parallel 4` as
# restore_command and holds exactly the rows.
# Run: tests/run.sh tests/integration/t_cloud_wal.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 64

ok "swift_start" swift_start || tap_bail "cannot start Swift"
ok "swift_make_bucket cellar" swift_make_bucket cellar || tap_bail "cannot create a bucket"
EP=(--endpoint-url "$S3_ENDPOINT_URL")
URL=s3://cellar/pg

# keys under PREFIX in the bucket, one a line
keys() {
    swift_s3py "
import sys
for p in s3.get_paginator('list_objects_v2').paginate(Bucket='cellar', Prefix=sys.argv[1]):
    for o in p.get('Contents', []):
        print(o['Key'])
" "$1"
}

# ---- the command line -------------------------------------------------------
for c in cloud-wal-archive cloud-wal-restore cloud-check-wal-archive; do
    "$CELLAR" "$c" --help >"$T/help.out" 2>"$T/help.err"
    rc=$?
    ok "$c --help exits 0 with the help on stdout only" \
        test "$rc" -eq 0 -a -s "$T/help.out" -a ! -s "$T/help.err"
done
ok "cloud-wal-archive -t checks the store and the bucket" \
    "$CELLAR" cloud-wal-archive -t "${EP[@]}" "$URL" main
"$CELLAR" cloud-wal-archive -t "${EP[@]}" s3://nosuchbucket/pg main 2>"$T/nob.err"
is "$?" 1 "cloud-wal-archive -t on a bucket that does not exist exits 1"
ok "cloud-check-wal-archive passes on an empty bucket" \
    "$CELLAR" cloud-check-wal-archive "${EP[@]}" "$URL" main

# ---- a bad WAL name ---------------------------------------------------------
mkdir -p "$T/bad" && head -c 1024 /dev/urandom >"$T/bad/not-a-wal"
"$CELLAR" cloud-wal-archive "${EP[@]}" "$URL" main "$T/bad/not-a-wal" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
is "$rc" 3 "a bad WAL name is refused with barman-cloud's exit status for a bad command line"
like "$(cat "$T/bad.err")" "not the name of a WAL file: nothing uploaded" "... saying why"
is "$(keys pg/)" "" "... and nothing is uploaded"

# ---- a real cluster's archive_command ---------------------------------------
mkdir -m 0777 "$T/walcopy"
export PG_ARCHIVE_COMMAND="cp %p $T/walcopy/%f && $CELLAR cloud-wal-archive -z --endpoint-url $S3_ENDPOINT_URL $URL main %p"
ok "pg_start main with cellar cloud-wal-archive -z as archive_command" pg_start main ||
    tap_bail "cannot start the cluster"
unset PG_ARCHIVE_COMMAND
pg_sql main "CREATE TABLE t (i int)" >/dev/null

# make N segments and wait until they are archived; prints their names
switch_segments() {
    local i seg
    for ((i = 0; i < $1; i++)); do
        pg_sql main "INSERT INTO t SELECT generate_series(1, 1000)" >/dev/null
        seg=$(pg_sql main "SELECT pg_walfile_name(pg_switch_wal())")
        printf '%s\n' "$seg"
    done
}
archived() { [ -f "$T/walcopy/$1" ] && [ "$(pg_sql main "SELECT last_archived_wal >= '$1' FROM pg_stat_archiver")" = t ]; }

mapfile -t segs < <(switch_segments 3)
ok "three segments are archived" wait_for 60 archived "${segs[2]}"
is "$(pg_sql main "SELECT failed_count FROM pg_stat_archiver")" 0 "no archive_command failed"
is "$(keys "pg/main/wals/" | grep -c '\.gz$')" "$(ls "$T/walcopy" | grep -c .)" \
    "every archived file is in the bucket, gzip-compressed"
bad=0
for s in "${segs[@]}"; do
    barman-cloud-wal-restore "${EP[@]}" "$URL" main "$s" "$T/bc.$s" 2>>"$T/bc.err" &&
        cmp -s "$T/walcopy/$s" "$T/bc.$s" || bad=$((bad + 1))
done
is "$bad" 0 "barman-cloud-wal-restore reads every segment cellar archived, byte-identical"
"$CELLAR" cloud-check-wal-archive "${EP[@]}" "$URL" main 2>"$T/check.err"
is "$?" 1 "cloud-check-wal-archive fails once the server has WAL in the bucket"
like "$(cat "$T/check.err")" "expected an empty archive" "... saying the archive is not empty"
ok "cloud-check-wal-archive --timeline 2 passes (the WAL is of timeline 1)" \
    "$CELLAR" cloud-check-wal-archive --timeline 2 "${EP[@]}" "$URL" main
ok "barman-cloud-check-wal-archive agrees (fails without --timeline)" \
    test "$(barman-cloud-check-wal-archive "${EP[@]}" "$URL" main 2>/dev/null; echo $?)" -ne 0

# ---- every compression, both ways -------------------------------------------
s=${segs[0]}
mkdir -p "$T/c" && cp "$T/walcopy/$s" "$T/c/$s"
for opt in none -z -j --zstd --lz4; do
    srv=comp${opt//-/}
    args=()
    [ "$opt" = none ] || args=("$opt")
    "$CELLAR" cloud-wal-archive "${args[@]}" "${EP[@]}" "$URL" "$srv" "$T/c/$s" 2>"$T/c.err" &&
        "$CELLAR" cloud-wal-restore "${EP[@]}" "$URL" "$srv" "$s" "$T/c/back.$srv" \
            >"$T/c.out" 2>>"$T/c.err" && cmp -s "$T/c/$s" "$T/c/back.$srv" && [ ! -s "$T/c.out" ]
    ok "cellar archives and restores a segment with $opt, identical, nothing on stdout" test $? -eq 0
done
ext=$(keys pg/compj/ | sed 's/.*\.//')
is "$ext" bz2 "-j stores .bz2"
ok "barman-cloud-wal-restore reads cellar's uncompressed and bzip2 objects" \
    bash -c "barman-cloud-wal-restore ${EP[*]} $URL compnone $s $T/c/bc1 && cmp $T/c/$s $T/c/bc1 &&
             barman-cloud-wal-restore ${EP[*]} $URL compj $s $T/c/bc2 && cmp $T/c/$s $T/c/bc2"
for opt in -z -j; do
    barman-cloud-wal-archive "$opt" "${EP[@]}" "$URL" "bc$opt" "$T/c/$s" 2>"$T/bca.err" &&
        "$CELLAR" cloud-wal-restore "${EP[@]}" "$URL" "bc$opt" "$s" "$T/c/fromb$opt" 2>>"$T/bca.err" &&
        cmp -s "$T/c/$s" "$T/c/fromb$opt"
    ok "cellar cloud-wal-restore reads barman-cloud-wal-archive $opt's object, identical" test $? -eq 0
done
"$CELLAR" cloud-wal-restore "${EP[@]}" "$URL" main 0000000100000000000000FE "$T/c/missing" \
    >"$T/miss.out" 2>"$T/miss.err"
is "$?" 1 "a WAL not in the bucket exits 1, as barman-cloud-wal-restore"
ok "... writes nothing at the destination nor on stdout" test ! -e "$T/c/missing" -a ! -s "$T/miss.out"
is "$(wc -l <"$T/miss.err")" 1 "... and says so in one line"

# ---- the spool of --parallel -----------------------------------------------
SP=(--spool-directory "$T/sp")
ok "cloud-wal-restore --parallel 3 restores ${segs[0]}" \
    "$CELLAR" cloud-wal-restore --parallel 3 "${SP[@]}" "${EP[@]}" "$URL" main "${segs[0]}" "$T/sp0"
spooldir=$(ls -d "$T"/sp/main-* 2>/dev/null | head -1)
is "$(ls "$spooldir" 2>/dev/null | tr '\n' ' ')" "${segs[1]} ${segs[2]} " \
    "... and fetches the next two segments into the spool, complete files only"
# what a fetch killed midway leaves: swept by the next call that fetches ahead
deadpid=$(sh -c 'echo $$') # a process that has ended
head -c 100 /dev/urandom >"$spooldir/.${segs[1]}.$deadpid.part"
head -c 100 /dev/urandom >"$spooldir/.${segs[1]}.$$.part"
ok "cloud-wal-restore --parallel 3 of ${segs[0]} again" \
    "$CELLAR" cloud-wal-restore --parallel 3 "${SP[@]}" "${EP[@]}" "$URL" main "${segs[0]}" "$T/sp0"
is "$(LC_ALL=C ls -A "$spooldir" | tr '\n' ' ')" ".${segs[1]}.$$.part ${segs[1]} ${segs[2]} " \
    "... removes the temporary file of a dead fetch, keeps a live one's and the spooled files"
rm -f "$spooldir/.${segs[1]}.$$.part"
ok "the next call is served from the spool without the store (a dead endpoint)" \
    "$CELLAR" cloud-wal-restore --parallel 3 "${SP[@]}" --endpoint-url http://127.0.0.1:1 \
    "$URL" main "${segs[1]}" "$T/sp1"
ok "... byte-identical" cmp "$T/walcopy/${segs[1]}" "$T/sp1"
ok "... and what was served is gone from the spool" test ! -e "$spooldir/${segs[1]}"
# a half-fetched file and another source's file of the same name are never served
head -c 100 /dev/urandom >"$spooldir/.${segs[2]}.999.part"
rm -f "$spooldir/${segs[2]}"
mkdir -p "$T/sp/main-0000000000000000" && head -c 100 /dev/urandom >"$T/sp/main-0000000000000000/${segs[2]}"
"$CELLAR" cloud-wal-restore --parallel 3 "${SP[@]}" "${EP[@]}" "$URL" main "${segs[2]}" "$T/sp2" &&
    cmp -s "$T/walcopy/${segs[2]}" "$T/sp2"
ok "a partial spool file or another source's is never served: the store's segment is" test $? -eq 0

# ---- re-archiving -----------------------------------------------------------
ok "archiving the same segment again succeeds (archive_command re-run after a crash)" \
    "$CELLAR" cloud-wal-archive -z "${EP[@]}" "$URL" main "$T/walcopy/$s"
ok "... also with another compression, the content being the same" \
    "$CELLAR" cloud-wal-archive -j "${EP[@]}" "$URL" main "$T/walcopy/$s"
is "$(keys "pg/main/wals/" | grep -c "$s")" 1 "... which stores nothing more"
mkdir -p "$T/diff" && head -c $((16 << 20)) /dev/urandom >"$T/diff/$s"
before=$(swift_s3py "import sys; print(s3.head_object(Bucket='cellar', Key=sys.argv[1])['ETag'])" \
    "$(keys "pg/main/wals/" | grep "$s")")
"$CELLAR" cloud-wal-archive -z "${EP[@]}" "$URL" main "$T/diff/$s" 2>"$T/diff.err"
is "$?" 1 "a different file under an archived WAL name is refused"
like "$(cat "$T/diff.err")" "already archived as .* with different content: refusing to overwrite" \
    "... saying so"
is "$(swift_s3py "import sys; print(s3.head_object(Bucket='cellar', Key=sys.argv[1])['ETag'])" \
    "$(keys "pg/main/wals/" | grep "$s")")" "$before" "... and the stored object is unchanged"

# ---- wrong credentials ------------------------------------------------------
AWS_SECRET_ACCESS_KEY=NotTheSecret4242 "$CELLAR" cloud-wal-archive "${EP[@]}" "$URL" main \
    "$T/walcopy/${segs[1]}" >"$T/cred.out" 2>"$T/cred.err"
is "$?" 4 "a wrong secret fails (exit 4, barman-cloud's for a refused request)"
like "$(cat "$T/cred.err")" "access key ID 'test:tester'" "... naming the access key ID"
unlike "$(cat "$T/cred.err" "$T/cred.out")" "NotTheSecret4242" "... never the secret"

"$CELLAR" cloud-wal-restore "${EP[0]}" http://127.0.0.1:1 "$URL" main "${segs[1]}" "$T/dead" 2>"$T/dead.err"
is "$?" 2 "a store that cannot be reached exits 2, as barman-cloud"

# ---- the store stopped while the cluster archives ---------------------------
ok "swift_stop_store" swift_stop_store
fails0=$(pg_sql main "SELECT failed_count FROM pg_stat_archiver")
mapfile -t down < <(switch_segments 2)
failing() { [ "$(pg_sql main "SELECT failed_count FROM pg_stat_archiver")" -gt "$fails0" ]; }
ok "archive_command fails while the store is down (pg_stat_archiver counts it)" wait_for 60 failing
ok "... and no segment made then is marked archived" test "$(pg_sql main \
    "SELECT last_archived_wal < '${down[0]}' FROM pg_stat_archiver")" = t
ok "swift_start_store" swift_start_store
ok "once the store is back, the segments made meanwhile are archived" \
    wait_for 120 archived "${down[1]}"
missing=""
for f in "$T"/walcopy/*; do
    n=$(basename "$f")
    keys "pg/main/wals/" | grep -q "/$n\\.gz\$" || missing+=" $n"
done
is "$missing" "" "every segment PostgreSQL archived is in the bucket, none missing"

# ---- recovery with cloud-wal-restore --parallel as restore_command ----------
ok "pg_basebackup of main (WAL from the archive only)" \
    "$PG_BINDIR/pg_basebackup" -d "$PG_MAIN_CONNINFO" -D "$T/rec" -X none -c fast
pg_sql main "INSERT INTO t SELECT generate_series(1, 5000)" >/dev/null
rows=$(pg_sql main "SELECT count(*) FROM t")
mapfile -t last < <(switch_segments 4)
rows=$(pg_sql main "SELECT count(*) FROM t")
ok "the segments after the backup are archived" wait_for 60 archived "${last[3]}"
mkdir -m 0777 "$T/spool"
{
    printf "restore_command = '%s cloud-wal-restore --parallel 4 --spool-directory %s --endpoint-url %s %s main %%f %%p'\n" \
        "$CELLAR" "$T/spool" "$S3_ENDPOINT_URL" "$URL"
    printf "archive_mode = off\n"
} >>"$T/rec/postgresql.auto.conf"
touch "$T/rec/recovery.signal"
ok "the backup starts with cellar cloud-wal-restore --parallel 4 as restore_command" \
    pg_start_datadir rec "$T/rec"
promoted() { [ "$(pg_sql rec "SELECT pg_is_in_recovery()")" = f ]; }
ok "it replays the archive to its end and promotes" wait_for 120 promoted
is "$(pg_sql rec "SELECT count(*) FROM t")" "$rows" "the recovered cluster holds exactly the rows"
ok "segments were fetched ahead: the spool directory of the source exists" \
    test -d "$(ls -d "$T"/spool/main-* 2>/dev/null | head -1)"
is "$(find "$T/spool" -name '*.part' -o -name '*.z' | wc -l)" 0 "no partial file is left in the spool"
like "$(grep -c 'restored log file' "$PG_REC_LOG")" '^[1-9]' "PostgreSQL restored the segments"
