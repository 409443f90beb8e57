#!/bin/bash
# tests/integration/t_backup.sh - base backups of a real cluster, locally (TAP).
#
# A PostgreSQL 15 cluster with a tablespace archives through `cellar
# put-wal`; pgbench writes while `cellar backup` copies (the copy is slowed
# by bandwidth_limit so the writes land in the middle of it). The backup
# must reach DONE, pass pg_verifybackup, and restore by hand (its files plus
# its WAL) into a cluster that starts and holds the row counts and balances
# of the end of the backup. Then: reuse_backup = link hard-links unchanged
# files and reports the deduplicated size; hooks see Barman's environment;
# a backup killed with SIGKILL stays STARTED until the next command marks it
# FAILED, one stopped with SIGTERM is FAILED at once, and neither is offered
# as `latest`; delete refuses to go below minimum_redundancy and removes the
# WAL only the oldest backup needed.
# Run: tests/run.sh tests/integration/t_backup.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
harness_init || exit 1
tap_plan 56

home=$T/home
conf=$T/cellar.conf
tbs=$T/tbs1
mkdir -p "$home/main/incoming" "$tbs"
chown -R postgres: "$home" "$tbs"
write_conf() { # write_conf [EXTRA LINE...]
    backup_conf "$conf" cellar "$home" "${PG_MAIN_PORT:-1}" "local backups" \
        'backup_method = local-rsync' 'parallel_jobs = 2' 'minimum_redundancy = 1' \
        'immediate_checkpoint = true' "pre_backup_script = env > $T/pre.env" \
        "post_backup_script = env > $T/post.env" "$@"
}
write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
pg_sql main "CREATE TABLESPACE tbs1 LOCATION '$tbs'" >/dev/null || tap_bail "no tablespace"
"$PG_BINDIR/pgbench" -q -i -s 2 --tablespace=tbs1 -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres postgres \
    >"$T/pgbench-init.log" 2>&1 || tap_bail "pgbench -i failed"
pg_sql main "CREATE TABLE outside (i int); INSERT INTO outside SELECT generate_series(1, 1000)" >/dev/null

counts() { # counts NAME - what the data holds, in one line
    pg_sql "$1" "SELECT (SELECT count(*) FROM pgbench_history), (SELECT sum(abalance) FROM pgbench_accounts),
                        (SELECT count(*) FROM outside)"
}
json_status() { # json_status ID - the backup's status
    backup_info "$conf" main "$1" status
}

# ---- a backup with writes during the copy ------------------------------------------
before=$(counts main)
# ~25 MB at 8 MB/s: about 3 s of copy; pgbench writes during the first 1.5 s
write_conf 'bandwidth_limit = 8000'
"$PG_BINDIR/pgbench" -n -T 2 -c 2 -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres postgres >"$T/pgbench.log" 2>&1 &
bench=$!
sleep 0.3
ok "backup with pgbench writing during the copy" "$CELLAR" -c "$conf" backup --wait --wait-timeout 60 main
wait "$bench"
write_conf
id1=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
like "$id1" '^[0-9]{8}T[0-9]{6}$' "the backup is listed"
is "$(json_status "$id1")" DONE "it is DONE once its WAL is archived"
after=$(counts main)
ok "pgbench wrote while the backup ran ($before -> $after)" test "$after" != "$before"
is "$(backup_info "$conf" main "$id1" mode)" rsync-concurrent "mode is rsync-concurrent, as Barman writes"
like "$(backup_info "$conf" main "$id1" tablespaces)" "^\[\('tbs1', [0-9]+, '$tbs'\)\]$" "the tablespace is recorded"
like "$(backup_info "$conf" main "$id1" backup_label)" "^'START WAL LOCATION: " "backup_label comes from the stop"
dir1=$(backup_dir "$conf" main "$id1")
oid=$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")
is "$(readlink "$dir1/data/pg_tblspc/$oid")" "../../$oid" "pg_tblspc/<oid> links to the tablespace copy"
ok "the tablespace copy holds PG_15_*" test -d "$(echo "$dir1/$oid"/PG_15_*)"
ok "postmaster.pid was not copied" test ! -e "$dir1/data/postmaster.pid"
is "$(ls -A "$dir1/data/pg_wal" | grep -v archive_status)" "" "pg_wal is empty"
ok "pg_replslot exists, empty" test -d "$dir1/data/pg_replslot"
ok "backup_label is in data/" grep -q "^START WAL LOCATION" "$dir1/data/backup_label"
ok "global/pg_control was copied" test -s "$dir1/data/global/pg_control"
ok "pg_verifybackup -n passes" "$PG_BINDIR/pg_verifybackup" -n "$dir1/data"
ok "cellar verify-backup passes" "$CELLAR" -c "$conf" verify-backup main "$id1"
like "$(cat "$T/pre.env")" "BARMAN_STATUS=EMPTY" "pre_backup_script sees status EMPTY"
like "$(grep BARMAN_BACKUP_ID "$T/post.env")" "=$id1\$" "post_backup_script gets BARMAN_BACKUP_ID"
like "$(grep -E 'BARMAN_(PHASE|STATUS|BACKUP_DIR|VERSION)=' "$T/post.env" | sort | tr '\n' ' ')" \
    "BARMAN_BACKUP_DIR=$dir1 BARMAN_PHASE=post BARMAN_STATUS=DONE BARMAN_VERSION=3.4.0" \
    "post_backup_script sees the directory, phase, status and Barman version"

# ---- restore it by hand and compare ------------------------------------------------
# the end of the backup is when writes had stopped: the counts now
ok "restore by hand: files plus WAL" plain_restore "$conf" main "$id1" "$T/restore1"
ok "the restored cluster starts" pg_start_datadir rec1 "$T/restore1/data"
is "$(counts rec1)" "$after" "it holds the rows and balances of the end of the backup"
pg_stop rec1

# ---- reuse_backup = link -----------------------------------------------------------------
"$PG_BINDIR/pgbench" -n -t 50 -c 1 -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres postgres >/dev/null 2>&1
sleep 1 # a new second, a new backup ID
"$CELLAR" -c "$conf" -f json backup --reuse-backup link --wait main >"$T/backup2.json" 2>&1
is "$?" 0 "second backup with --reuse-backup link (JSON events)"
last_progress=$(grep '"event":"progress"' "$T/backup2.json" | grep -v '"bytes_total":0' | head -1)
like "$last_progress" '"bytes_done":[0-9]+,"bytes_total":[1-9][0-9]*' "the copy reports progress (bytes done of the total) as JSON events"
is "$(tail -1 "$T/backup2.json" | grep -o '"status":"[a-z]*"')" '"status":"ok"' "the JSON stream ends with an ok end event"
id2=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
dir2=$(backup_dir "$conf" main "$id2")
is "$(stat -c %i "$dir2/data/PG_VERSION")" "$(stat -c %i "$dir1/data/PG_VERSION")" "an unchanged file is a hard link to the previous backup's"
hist=$(pg_sql main "SELECT pg_relation_filepath('pgbench_history')")
isnt_same_inode() { [ "$(stat -c %i "$dir2/data/$hist")" != "$(stat -c %i "$dir1/data/$hist")" ]; }
ok "a changed file is a new copy" isnt_same_inode
size2=$(backup_info "$conf" main "$id2" size)
dedup2=$(backup_info "$conf" main "$id2" deduplicated_size)
ok "deduplicated_size ($dedup2) is below size ($size2)" test "$dedup2" -lt "$size2"
like "$("$CELLAR" -c "$conf" list-backup main | head -1)" "^main $id2 - .* - Size: [0-9.]+ [KMG]iB \(deduplicated: [0-9.]+ [KMG]?i?B\) - WAL Size: " \
    "list-backup shows the deduplicated size"
like "$("$CELLAR" -c "$conf" show-backup main "$id2")" "Incremental size +: [0-9.]+ [KMG]?i?B \(-[0-9.]+%\)" "show-backup shows the incremental size"
ok "pg_verifybackup passes on the linked backup" "$CELLAR" -c "$conf" verify-backup main "$id2"

# ---- generate-manifest: a backup without backup_manifest (an older Barman's) gets one --------
mv "$dir1/data/backup_manifest" "$T/manifest1.orig"
out=$("$CELLAR" -c "$conf" generate-manifest main "$id1" 2>&1)
is "$?" 0 "generate-manifest on a backup without a manifest exits 0"
like "$out" "Backup manifest for backup '$id1' successfully generated for server main" "with Barman's line"
ok "pg_verifybackup -n passes with the new manifest (tablespace included)" \
    "$PG_BINDIR/pg_verifybackup" -n "$dir1/data"
is "$(python3 -c 'import json,sys; print(sorted(f["Path"] for f in json.load(open(sys.argv[1]))["Files"]) == sorted(f["Path"] for f in json.load(open(sys.argv[2]))["Files"]))' "$dir1/data/backup_manifest" "$T/manifest1.orig")" \
    True "it lists the same files as the manifest the backup was taken with"
out=$("$CELLAR" -c "$conf" generate-manifest main "$id1" 2>&1)
is "$?" 1 "a second generate-manifest is refused (exit 1)"
like "$out" "File $dir1/data/backup_manifest already exists." "with Barman's message"

# ---- killed backups -----------------------------------------------------------------------
# slow the copy down so the kill lands in the middle of it
write_conf 'bandwidth_limit = 500'
started() { [ "$(json_status "$(ls "$home/main/base" | tail -1)")" = STARTED ]; }
sleep 1
"$CELLAR" -c "$conf" backup main >"$T/killed.log" 2>&1 &
victim=$!
wait_for 30 started
kill -KILL "$victim"
wait "$victim" 2>/dev/null
idk=$(ls "$home/main/base" | tail -1)
is "$(json_status "$idk")" STARTED "a backup killed with SIGKILL is left STARTED"
ok "cron notices it" "$CELLAR" -c "$conf" cron
is "$(json_status "$idk")" FAILED "and marks it FAILED"
like "$(backup_info "$conf" main "$idk" error)" "backup process ended" "with a reason"
sleep 1
"$CELLAR" -c "$conf" backup main >"$T/termed.log" 2>&1 &
victim=$!
wait_for 30 started
idt=$(ls "$home/main/base" | tail -1)
kill -TERM "$victim"
wait "$victim"
rc=$?
is "$rc" 1 "a backup stopped with SIGTERM exits 1"
is "$(json_status "$idt")" FAILED "and is FAILED at once"
like "$(backup_info "$conf" main "$idt" error)" "failure copying files \(interrupted by signal 15" "the error names the signal"
is "$("$CELLAR" -c "$conf" list-backup --minimal main | head -3 | tr '\n' ' ')" "$idt $idk $id2 " "failed backups stay listed"
like "$("$CELLAR" -c "$conf" show-backup main latest)" "Backup $id2:" "latest is the last good backup"
write_conf

# ---- delete ---------------------------------------------------------------------------------
first_wal=$(backup_info "$conf" main "$id1" begin_wal)
ok "the oldest backup can be deleted" "$CELLAR" -c "$conf" delete main "$id1"
ok "its directory is gone" test ! -e "$dir1"
begin2=$(backup_info "$conf" main "$id2" begin_wal)
older=$(awk -v b="$begin2" '$1 < b && $1 !~ /history/' "$home/main/wals/xlog.db" | wc -l)
is "$older" 0 "the WAL before the next backup is gone from xlog.db"
ok "and from the disk ($first_wal)" test ! -e "$home/main/wals/${first_wal:0:16}/$first_wal"
out=$("$CELLAR" -c "$conf" delete main "$id2" 2>&1)
like "$out" "minimum redundancy requirements \(minimum redundancy = 1, current redundancy = 1\)" \
    "deleting the last DONE backup is refused (minimum_redundancy = 1)"
ok "the backup is still there" test -d "$dir2/data"

# ---- refusals before any copy -----------------------------------------------------------------
write_conf 'pre_backup_retry_script = exit 63'
sleep 1
"$CELLAR" -c "$conf" backup main >"$T/abort.log" 2>&1
is "$?" 1 "a pre_backup_retry_script exiting 63 stops the backup (exit 1)"
ida=$(ls "$home/main/base" | tail -1)
is "$(backup_info "$conf" main "$ida" error)" \
    "failure starting backup (Abort 'pre_backup_retry_script' retry hook script (exit 63, exit code: 63))" \
    "it is FAILED with Barman's message"
write_conf 'backup_options = exclusive_backup'
out=$("$CELLAR" -c "$conf" backup main 2>&1)
is "$?" 2 "backup_options = exclusive_backup on PostgreSQL 15 is a configuration error (exit 2)"
like "$out" "PostgreSQL 15 has no exclusive backups \(they were removed in 15" "the message says why"
