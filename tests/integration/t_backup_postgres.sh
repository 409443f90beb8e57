#!/bin/bash
# tests/integration/t_backup_postgres.sh - backup_method = postgres (TAP).
#
# A PostgreSQL 15 cluster with a tablespace archives through `cellar
# put-wal`; cellar backs it up with pg_basebackup through the replication
# protocol. Checked: `check` lists the pg_basebackup items and the streaming
# connection; the backup's layout is Barman's (data/ with pg_basebackup's
# backup_label and backup_manifest, the tablespace in base/<id>/<oid>,
# backup.info with mode=postgres, the tablespace list, WAL and LSNs, the
# timeline, copy_stats); progress events come from pg_basebackup's
# --progress; the backup becomes DONE once its WAL is archived;
# verify-backup passes; rows written after it are recovered exactly (the
# tablespace relocated) and the copy starts. Then the failures: a
# streaming_conninfo that cannot connect gives pg_basebackup's error and a
# FAILED backup; pg_basebackup killed with SIGKILL in the middle of a copy
# leaves the backup FAILED, never DONE; reuse_backup with this method
# disables the server. A tar backup (backup_compression = gzip) is laid out
# as Barman's and recovered the same way. At the end Barman 3.4, on the
# same home, lists, shows and recovers the cellar postgres-method backup,
# and cellar recovers a postgres-method backup Barman took.
# Needs root (the clusters run as postgres). Run: tests/run.sh tests/integration/t_backup_postgres.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 98

# rec_cluster writes its configuration with this: the postgres method
_rec_write_conf() {
    backup_conf "$conf" barman "$home" "${PG_MAIN_PORT:-1}" "$1" \
        'backup_method = postgres' 'immediate_checkpoint = true' 'compression = gzip' \
        'archiver = on' "${@:2}"
}
rec_cluster "postgres method" 1
oid=$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")
add_row main p0

"$CELLAR" -c "$conf" switch-wal --force --archive main >&2 || tap_bail "no first WAL archived"

# ---- check -----------------------------------------------------------------------------------
out=$("$CELLAR" -c "$conf" check main 2>&1)
rc=$?
diag "$out"
is "$rc" 0 "check passes with backup_method = postgres"
like "$out" $'\tpg_basebackup: OK' "check: pg_basebackup found"
like "$out" $'\tpg_basebackup compatible: OK' "check: pg_basebackup compatible"
like "$out" $'\tPostgreSQL streaming: OK' "check: the streaming connection works"
unlike "$out" "not supported" "check no longer refuses the method"

# ---- a plain backup ----------------------------------------------------------------------------
out=$("$CELLAR" -c "$conf" -f json backup --wait main 2>&1)
rc=$?
diag "$(grep -v '"progress"' <<<"$out" | tail -n 30)"
is "$rc" 0 "cellar backup --wait (postgres method)"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
dir=$(backup_dir "$conf" main "$id")
like "$(grep -c '"bytes_done"' <<<"$out")" '^[1-9]' "progress events from pg_basebackup --progress"
is "$(backup_info "$conf" main "$id" mode)" postgres "backup.info: mode=postgres"
is "$(backup_info "$conf" main "$id" status)" DONE "backup.info: DONE once its WAL is archived"
is "$(backup_info "$conf" main "$id" tablespaces)" "[('tbs1', $oid, '$tbs')]" \
    "backup.info: the tablespace list"
like "$(backup_info "$conf" main "$id" begin_wal)$(backup_info "$conf" main "$id" end_wal)" \
    '^00000001[0-9A-F]{16}00000001[0-9A-F]{16}$' "backup.info: begin and end WAL"
begin=$(backup_info "$conf" main "$id" begin_xlog)
is "$begin" "$(label_start "$dir/data")" "begin_xlog is backup_label's START WAL LOCATION"
like "$(backup_info "$conf" main "$id" end_xlog)" '^[0-9A-F]+/[0-9A-F]+$' "backup.info: end LSN"
is "$(backup_info "$conf" main "$id" timeline)" 1 "backup.info: timeline"
like "$(backup_info "$conf" main "$id" backup_label)" "^'START WAL LOCATION: .*LABEL: pg_basebackup base backup" \
    "backup.info: the backup_label pg_basebackup wrote"
like "$(backup_info "$conf" main "$id" copy_stats)" "^\{'copy_time': [0-9.]+, 'total_time': [0-9.]+\}$" \
    "backup.info: copy_stats as Barman writes them for this method"
ok "data/backup_manifest kept" test -s "$dir/data/backup_manifest"
ok "the tablespace is in base/<id>/$oid" test -d "$(echo "$dir/$oid"/PG_15_*)"
is "$(readlink "$dir/data/pg_tblspc/$oid")" "../../$oid" "data/pg_tblspc/$oid links to it"
ok "pg_wal is empty (--wal-method=none)" test -z "$(find "$dir/data/pg_wal" -mindepth 1 ! -name archive_status)"
ok "verify-backup passes" "$CELLAR" -c "$conf" verify-backup main "$id"

# ---- rows after it, recovered exactly ---------------------------------------------------------------
add_row main a
add_row main b
archive_now main main || tap_bail "WAL not archived"
expect=$(rows main)
d=$T/r_end
recover_ok "recover the postgres-method backup (tablespace relocated)" \
    --tablespace "tbs1:$T/r_end_tbs" main "$id" "$d"
is "$(readlink "$d/pg_tblspc/$oid")" "$T/r_end_tbs" "pg_tblspc/$oid links to the --tablespace directory"
ok "the recovered copy starts and reaches the end of the WAL" start_rec rec "$d" promoted
is "$(rows rec)" "$expect" "it holds exactly the rows: $expect"
is "$(pg_sql rec "SELECT count(*) FROM in_tbs")" 300 "the tablespace's table is there"
pg_stop rec >/dev/null 2>&1

# ---- tar format, gzip-compressed by pg_basebackup ---------------------------------------------
conf_plain=$conf
conf=$T/tar.conf
sed 's/^\[main\]$/&\nbackup_compression = gzip\nparallel_jobs = 4/' "$conf_plain" >"$conf"
add_row main c
sleep 1
out=$("$CELLAR" -c "$conf" backup --wait main 2>&1)
rc=$?
diag "$out"
is "$rc" 0 "cellar backup --wait with backup_compression = gzip"
like "$out" "parallel_jobs = 4 ignored: pg_basebackup copies through one connection" \
    "parallel_jobs is ignored with a warning"
tid=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
tdir=$(backup_dir "$conf" main "$tid")
is "$(backup_info "$conf" main "$tid" compression)" gzip "backup.info: compression=gzip"
is "$(backup_info "$conf" main "$tid" status)" DONE "the tar backup is DONE"
ok "data/base.tar.gz, data/$oid.tar.gz and data/backup_manifest, as Barman lays them out" \
    test -s "$tdir/data/base.tar.gz" -a -s "$tdir/data/$oid.tar.gz" -a -s "$tdir/data/backup_manifest"
like "$(backup_info "$conf" main "$tid" backup_label)" "^'START WAL LOCATION: $(backup_info "$conf" main "$tid" begin_xlog) " \
    "backup_label read from base.tar.gz"
out=$("$CELLAR" -c "$conf" verify-backup main "$tid" 2>&1)
rc=$?
diag "$out"
is "$rc" 0 "verify-backup passes on the tar backup"
like "$out" "backup successfully verified" "every member of its archives matches backup_manifest"
unlike "$out" "pg_verifybackup" "cellar checked the archives itself (pg_verifybackup 15 reads plain backups only)"

# corrupt_member ARCHIVE MEMBER - flip one byte of MEMBER's content inside
# the gzip-compressed tar ARCHIVE and compress it again
corrupt_member() {
    python3 - "$1" "$2" <<'PY'
import gzip, sys, tarfile
path, member = sys.argv[1], sys.argv[2]
raw = bytearray(gzip.open(path).read())
with tarfile.open(path) as t:
    off = t.getmember(member).offset_data
raw[off] ^= 0xff
with open(path, "wb") as f:
    f.write(gzip.compress(bytes(raw)))
PY
}
cp -p "$tdir/data/base.tar.gz" "$T/base.tar.gz.good"
corrupt_member "$tdir/data/base.tar.gz" PG_VERSION || diag "cannot corrupt base.tar.gz"
mv "$tdir/data/$oid.tar.gz" "$T/tbs.tar.gz.good"
out=$("$CELLAR" -c "$conf" verify-backup main "$tid" 2>&1)
rc=$?
diag "$out"
is "$rc" 3 "verify-backup fails on a corrupted tar backup (exit 3: a check failed)"
like "$out" 'checksum mismatch for file "PG_VERSION" in base.tar.gz' \
    "the member with a flipped byte is named (checksum mismatch)"
like "$out" "\"pg_tblspc/$oid/PG_15_[0-9]+/.*\" is present in the manifest but not in the backup" \
    "the files of the missing tablespace archive are missing"
like "$out" "the archive of tablespace tbs1, $oid.tar.gz, is missing" "the missing archive is named"
like "$out" "its tar archives do not match backup_manifest" "the summary says the backup failed"
mv "$T/base.tar.gz.good" "$tdir/data/base.tar.gz"
mv "$T/tbs.tar.gz.good" "$tdir/data/$oid.tar.gz"
ok "verify-backup passes again once the archives are put back" "$CELLAR" -c "$conf" verify-backup main "$tid"

add_row main d
archive_now main main || tap_bail "WAL not archived"
expect=$(rows main)
d=$T/r_tar
recover_ok "recover the tar backup (tablespace relocated)" --tablespace "tbs1:$T/r_tar_tbs" main "$tid" "$d"
ok "the copy from the tar backup starts" start_rec rtar "$d" promoted
is "$(rows rtar)" "$expect" "it holds exactly the rows: $expect"
is "$(pg_sql rtar "SELECT count(*) FROM in_tbs")" 300 "the tablespace's table is there"
pg_stop rtar >/dev/null 2>&1

# ---- the tar backup recovered over ssh (--remote-ssh-command) ----------------------------------
# each archive is decompressed here and streamed into tar -x on the other
# host: the files arrive owned by the ssh user (postgres), nothing staged
if sshd_start; then
    remote=$T/remote
    mkdir -p "$remote" && chown postgres: "$remote"
    d=$remote/r_tar
    recover_ok "recover the tar backup over ssh (tablespace relocated)" \
        --remote-ssh-command "$SSH_COMMAND" --tablespace "tbs1:$remote/r_tar_tbs" main "$tid" "$d"
    is "$(stat -c %U "$d/PG_VERSION" "$remote/r_tar_tbs")" "postgres
postgres" "the data directory and the tablespace were written by the ssh user (postgres)"
    is "$(readlink "$d/pg_tblspc/$oid")" "$remote/r_tar_tbs" "pg_tblspc/$oid links to the relocated tablespace"
    ok "no tablespace_map was extracted" test -f "$d/PG_VERSION" -a ! -e "$d/tablespace_map"
    ok "the copy recovered over ssh starts" start_rec rtarssh "$d" promoted
    is "$(rows rtarssh)" "$expect" "it holds exactly the rows: $expect"
    is "$(pg_sql rtarssh "SELECT count(*) FROM in_tbs")" 300 "the tablespace's table is there"
    pg_stop rtarssh >/dev/null 2>&1
else
    for n in 1 2 3 4 5 6 7; do skip "remote tar recovery $n" "cannot start sshd"; done
fi

# ---- lz4 and zstd tar backups ----------------------------------------------------------------
for kind in lz4 zstd; do
    kconf=$T/$kind.conf
    sed "s/^\[main\]\$/&\nbackup_compression = $kind/" "$conf_plain" >"$kconf"
    add_row main "$kind"
    sleep 1
    out=$("$CELLAR" -c "$kconf" backup --wait main 2>&1)
    rc=$?
    diag "$out"
    is "$rc" 0 "cellar backup --wait with backup_compression = $kind"
    kid=$("$CELLAR" -c "$kconf" list-backup --minimal main | head -1)
    kdir=$(backup_dir "$kconf" main "$kid")
    like "$("$CELLAR" -c "$kconf" list-backup main | grep " $kid ")" "^main $kid .* - Size: " \
        "list-backup lists the $kind backup"
    is "$(backup_info "$kconf" main "$kid" compression)/$(backup_info "$kconf" main "$kid" status)" \
        "$kind/DONE" "backup.info: compression=$kind, DONE"
    sfx=$([ "$kind" = lz4 ] && echo tar.lz4 || echo tar.zst)
    ok "data/base.$sfx and data/$oid.$sfx" test -s "$kdir/data/base.$sfx" -a -s "$kdir/data/$oid.$sfx"
    ok "verify-backup passes on the $kind backup" "$CELLAR" -c "$kconf" verify-backup main "$kid"
    add_row main "after_$kind"
    archive_now main main || tap_bail "WAL not archived"
    expect=$(rows main)
    d=$T/r_$kind
    recover_ok "recover the $kind backup (tablespace relocated)" \
        --tablespace "tbs1:$T/r_${kind}_tbs" main "$kid" "$d"
    ok "the copy from the $kind backup starts" start_rec "r$kind" "$d" promoted
    is "$(rows "r$kind")" "$expect" "it holds exactly the rows: $expect"
    is "$(pg_sql "r$kind" "SELECT count(*) FROM in_tbs")" 300 "the tablespace's table is there"
    pg_stop "r$kind" >/dev/null 2>&1
done
conf=$conf_plain

# ---- a streaming connection that does not work ---------------------------------------------
conf_ok=$conf
conf=$T/bad.conf
sed 's/^\[main\]$/&\nstreaming_conninfo = host=127.0.0.1 port=1 user=postgres/' "$conf_ok" >"$conf"
sleep 1
out=$("$CELLAR" -c "$conf" backup main 2>&1)
rc=$?
diag "$out"
isnt_zero() { [ "$1" != 0 ]; }
ok "a bad streaming_conninfo fails the backup" isnt_zero "$rc"
like "$out" "pg_basebackup exited with status 1: .*connection to server at \"127.0.0.1\", port 1 failed" \
    "the error is pg_basebackup's own"
bad=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
is "$(backup_info "$conf" main "$bad" status)" FAILED "the backup is FAILED"
like "$(backup_info "$conf" main "$bad" error)" "^failure copying files \(data transfer failure on directory '.*/data'" \
    "its error says the copy failed, as Barman words it"
out=$("$CELLAR" -c "$conf" check main 2>&1)
like "$out" $'\tPostgreSQL streaming: FAILED' "check: PostgreSQL streaming FAILED"
conf=$conf_ok

# ---- pg_basebackup killed with SIGKILL in the middle of the copy ---------------------------------
pg_sql main "CREATE TABLE bulk AS SELECT g, md5(g::text) AS v FROM generate_series(1, 200000) g" >/dev/null
conf=$T/slow.conf
cinfo=$(sed -n 's/^conninfo = //p' "$conf_ok")
sed "s/^\[main\]\$/&\nbandwidth_limit = 200\nstreaming_conninfo = $cinfo password=s3cret/" "$conf_ok" >"$conf"
sleep 1
"$CELLAR" -c "$conf" -f json backup main >"$T/killed.out" 2>&1 &
cellar_pid=$!
has_progress() { grep -q '"bytes_done"' "$T/killed.out"; }
wait_for 60 has_progress || diag "no progress from the slow backup"
bb_pid=$(ps -o pid= --ppid "$cellar_pid" | tr -d ' ' | head -1)
diag "cellar $cellar_pid, pg_basebackup $bb_pid ($(ps -o args= -p "$bb_pid" 2>/dev/null | cut -c1-60))"
like "$(ps -o comm= -p "$bb_pid" 2>/dev/null)" '^pg_basebackup' "pg_basebackup is copying (a known point)"
unlike "$(tr '\0' ' ' <"/proc/$bb_pid/cmdline" 2>/dev/null)" "s3cret" \
    "the conninfo's password is not on pg_basebackup's command line"
kill -KILL "$bb_pid"
wait "$cellar_pid"
rc=$?
diag "$(grep -v '"progress"' "$T/killed.out" | tail -n 8)"
ok "the backup fails" isnt_zero "$rc"
killed=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
is "$(backup_info "$conf" main "$killed" status)" FAILED "the killed backup is FAILED, never DONE"
like "$(backup_info "$conf" main "$killed" error)" "killed by signal 9" "its error says pg_basebackup was killed"
conf=$conf_ok

# ---- rsync-only options disable the server ------------------------------------------------------
conf=$T/reuse.conf
sed 's/^\[main\]$/&\nreuse_backup = link/' "$conf_ok" >"$conf"
out=$("$CELLAR" -c "$conf" backup main 2>&1)
like "$out" "reuse_backup: not supported by backup_method = postgres" \
    "reuse_backup = link with the postgres method is refused, naming the option"
conf=$conf_ok

# ---- started as root with barman_user = barman: pg_basebackup writes as barman ----------------
if id barman >/dev/null 2>&1; then
    mkdir -p "$T/bu/home" && chown -R barman: "$T/bu"
    backup_conf "$T/bu.conf" barman "$T/bu/home" "$PG_MAIN_PORT" "as barman" \
        'backup_method = postgres' 'immediate_checkpoint = true'
    sed -i 's/^barman_user = root$/barman_user = barman/' "$T/bu.conf"
    out=$("$CELLAR" -c "$T/bu.conf" backup main 2>&1)
    rc=$?
    diag "$out"
    is "$rc" 0 "root runs a postgres-method backup with barman_user = barman"
    buid=$("$CELLAR" -c "$T/bu.conf" list-backup --minimal main | head -1)
    is "$(find "$T/bu/home" ! -user barman | head -3)" "" "everything in barman_home belongs to barman"
    is "$(stat -c %U "$T/bu/home/main/base/$buid/$oid")" barman "the tablespace copy too"
else
    for n in 1 2 3; do skip "barman user $n" "no barman OS user"; done
fi

# ---- Barman 3.4 reads the cellar postgres-method backup ---------------------------------------------
if command -v barman >/dev/null; then
    bm() { barman -c "$conf" "$@"; }
    like "$(bm list-backup main 2>/dev/null | grep "^main $id ")" "^main $id - .* - Size: .* \(tablespaces: tbs1:$tbs\)" \
        "barman list-backup lists it"
    out=$(bm show-backup main "$id" 2>&1)
    like "$out" "Status +: DONE" "barman show-backup: DONE"
    mkdir -p "$T/brec" "$T/brectbs"
    ok "barman recover (tablespace relocated)" bm recover --tablespace "tbs1:$T/brectbs" main "$id" "$T/brec/data"
    printf 'archive_mode = off\n' >>"$T/brec/data/postgresql.conf"
    ok "the copy Barman recovered starts" pg_start_datadir brec "$T/brec/data"
    wait_for 60 promoted brec
    is "$(pg_sql brec "SELECT count(*) FROM in_tbs")" 300 "it holds the tablespace's table"
    pg_stop brec >/dev/null 2>&1

    # Barman recovers the cellar tar+gzip backup (through its staging path)
    expect=$(rows main)
    mkdir -p "$T/btar" "$T/btartbs" "$T/bstage"
    ok "barman recover of the cellar tar+gzip backup (--recovery-staging-path)" \
        bm recover --recovery-staging-path "$T/bstage" --tablespace "tbs1:$T/btartbs" \
        main "$tid" "$T/btar/data"
    printf 'archive_mode = off\n' >>"$T/btar/data/postgresql.conf"
    ok "the copy Barman recovered from the tar backup starts" pg_start_datadir btar "$T/btar/data"
    wait_for 60 promoted btar
    is "$(rows btar)" "$expect" "it holds exactly the rows: $expect"
    is "$(pg_sql btar "SELECT count(*) FROM in_tbs")" 300 "and the tablespace's table"
    pg_stop btar >/dev/null 2>&1

    # ...and cellar recovers a postgres-method backup Barman took
    add_row main e
    sleep 1
    ok "barman backup (postgres method) on the same home" bm backup main
    bid=$(bm list-backup --minimal main | head -1)
    is "$(backup_info "$conf" main "$bid" mode)" postgres "Barman's backup.info says mode=postgres"
    add_row main f
    archive_now main main || diag "WAL not archived"
    bm check-backup main "$bid" >&2
    expect=$(rows main)
    recover_ok "cellar recovers Barman's backup (tablespace relocated)" \
        --tablespace "tbs1:$T/rb_tbs" main "$bid" "$T/rb"
    ok "the copy starts" start_rec rb "$T/rb" promoted
    is "$(rows rb)" "$expect" "it holds exactly the rows: $expect"
    pg_stop rb >/dev/null 2>&1
else
    for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do skip "barman $n" "barman is not installed"; done
fi
