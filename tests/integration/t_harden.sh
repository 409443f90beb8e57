#!/bin/bash
# tests/integration/t_harden.sh - recover, backup and the catalogue against
# faults and hostile input (TAP).
#
# A PostgreSQL 15 cluster archives through `cellar put-wal`; one backup,
# then a row. rsync is reached through a wrapper on the server's
# path_prefix ($T/bin/rsync) that does what $T/rsync.mode says: "fail-once"
# fails its first run (exit 12) and then copies; "slow" makes each worker
# that copies files record its pid in $T/rsync.started and copy at 1 KB/s
# with its output in a file, as an rsync busy with one big file prints
# nothing for a long time (so neither the test's timing nor a closed pipe
# ends it); anything else copies. Checked:
#
# - a backup.info with xlog_segment_size=0 makes recover, recover --dry-run
#   and list-files stop with an error naming the file, the line and the key
#   (they died of SIGFPE), and writes nothing;
# - list-files of a backup whose end_wal is FFFFFFFFFFFFFFFF000000FF
#   finishes and lists the backup's files and the archived segments from
#   begin_wal on its timeline (it walked every name up to end_wal);
# - recover --retry-times 1 --retry-sleep 0 retries the failed copy at once
#   (basebackup_retry_sleep is 30) and succeeds; --no-retry stops at the
#   first failure though basebackup_retry_times is 2; the output's pg_ctl
#   line quotes a DEST holding a space, and the copy starts and holds the
#   rows of the archive;
# - recover and backup killed with SIGKILL while rsync copies: no rsync of
#   this test is left running (each one went on copying into the
#   destination or the FAILED backup), and cron marks the backup FAILED.
# Needs root (the cluster runs as postgres). Run: tests/run.sh tests/integration/t_harden.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 30

home=$T/home
conf=$T/cellar.conf
{ mkdir -p "$home/main/incoming" && chown -R postgres: "$home"; } || tap_bail "cannot create $home"
write_conf() { # write_conf [EXTRA LINE...]
    backup_conf "$conf" cellar "$home" "${PG_MAIN_PORT:-1}" "hostile input" \
        'backup_method = local-rsync' 'immediate_checkpoint = true' \
        "path_prefix = $T/bin:$PG_BINDIR" "$@"
}
write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text)" >/dev/null || tap_bail "no table"
mkdir -p "$T/bin"
cat >"$T/bin/rsync" <<EOF
#!/bin/sh
case "\$(cat "$T/rsync.mode" 2>/dev/null)" in
fail-once) rm -f "$T/rsync.mode"; echo "rsync wrapper: failing once" >&2; exit 12 ;;
slow) case " \$* " in *" -lpt "*) # a worker copying files: slowly, and quietly
        echo \$\$ >>"$T/rsync.started"
        exec /usr/bin/rsync --bwlimit=1 "\$@" >>"$T/rsync.out" 2>&1 ;;
    esac ;;
esac
exec /usr/bin/rsync "\$@"
EOF
chmod 0755 "$T/bin/rsync"
write_conf
add_row main p0
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "the backup failed"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
add_row main a
archive_now main main || tap_bail "WAL not archived"
info=$home/main/base/$id/backup.info
cp "$info" "$T/backup.info.good"

# ---- xlog_segment_size = 0 --------------------------------------------------------------------
sed -i 's/^xlog_segment_size=.*/xlog_segment_size=0/' "$info"
line=$(grep -n '^xlog_segment_size=' "$info" | cut -d: -f1)
why="$info:$line: xlog_segment_size: invalid WAL segment size 0 bytes: not a power of two"
rec_run main "$id" "$T/r_bad"
is "$REC_RC" 1 "recover of a backup with xlog_segment_size=0 exits 1 (no SIGFPE)"
ok "naming the file, the line and the key" has_text "$REC_OUT" "$why"
unlike "$REC_OUT" "is EMPTY" "(not: the backup is EMPTY)"
ok "and writes nothing" test ! -e "$T/r_bad"
rec_run --force main "$id" "$T/r_bad"
is "$REC_RC" 1 "recover --force of that backup exits 1 too"
ok "with the same message" has_text "$REC_OUT" "$why"
rec_run --dry-run main "$id" "$T/r_bad"
is "$REC_RC" 1 "recover --dry-run exits 1 too"
ok "with the same message" has_text "$REC_OUT" "$why"
out=$("$CELLAR" -c "$conf" list-files main "$id" 2>&1)
is "$?" 1 "list-files exits 1"
ok "with the same message" has_text "$out" "$why"
cp "$T/backup.info.good" "$info"

# ---- a bogus end_wal ----------------------------------------------------------------------------
begin=$(backup_info "$conf" main "$id" begin_wal)
sed -i 's/^end_wal=.*/end_wal=FFFFFFFFFFFFFFFF000000FF/' "$info"
# bounded only so that the old endless walk fails here instead of hanging
timeout 120 "$CELLAR" -c "$conf" list-files main "$id" >"$T/files" 2>"$T/files.err"
is "$?" 0 "list-files of a backup whose end_wal is FFFFFFFFFFFFFFFF000000FF finishes (exit 0)"
want=$(awk -v b="$begin" '$1 >= b && length($1) == 24 && $1 ~ /^00000001[0-9A-F]+$/ {print $1}' \
    "$home/main/wals/xlog.db")
is "$(grep '/wals/' "$T/files" | xargs -r -n1 basename)" "$want" \
    "it lists the archived segments from begin_wal ($begin) on timeline 1"
is "$(grep -c "/base/$id/data/" "$T/files")" "$(find "$home/main/base/$id/data" -type f | wc -l)" \
    "and every file of the backup"
cp "$T/backup.info.good" "$info"

# ---- recover --retry-times 1 --retry-sleep 0, --no-retry -------------------------------------------
d="$T/r retry"
echo fail-once >"$T/rsync.mode"
recover_ok "recover --retry-times 1 --retry-sleep 0 gets past a failed copy" \
    --retry-times 1 --retry-sleep 0 main "$id" "$d"
ok "the wrapper failed once" test ! -e "$T/rsync.mode"
ok "the copy was retried at once (--retry-sleep 0 wins over basebackup_retry_sleep = 30)" \
    has_text "$REC_OUT" "retrying in 0 s (retry 1 of 1)"
ok "the pg_ctl line quotes DEST" has_text "$REC_OUT" "pg_ctl -D '$d' start"
mv "$d" "$T/r_retry" # the harness starts clusters from paths without spaces
ok "the copy starts" start_rec rretry "$T/r_retry" promoted
is "$(rows rretry)" "p0 a" "and holds the rows of the archive"
pg_stop rretry
write_conf 'basebackup_retry_times = 2' 'basebackup_retry_sleep = 0'
echo fail-once >"$T/rsync.mode"
rec_run --no-retry main "$id" "$T/r_noretry"
is "$REC_RC" 1 "recover --no-retry fails at the first failed copy (basebackup_retry_times = 2)"
unlike "$REC_OUT" "retrying" "without retrying"
ok "the error is the rsync failure" has_text "$REC_OUT" "exited with status 12"
write_conf

# ---- SIGKILL while rsync copies ---------------------------------------------------------------
# this_rsyncs - the rsync processes of this test (their command lines name $T)
this_rsyncs() { if [ -n "$T" ]; then pgrep -f -- "rsync .*$T/" || true; fi; }
no_rsync_left() { [ -z "$(this_rsyncs)" ]; }
kill_leftovers() { local p; for p in $(this_rsyncs); do kill -KILL "$p" 2>/dev/null; done; }
harness_at_exit kill_leftovers
rsync_started() { [ -s "$T/rsync.started" ]; }

echo slow >"$T/rsync.mode"
rm -f "$T/rsync.started"
"$CELLAR" -c "$conf" recover main "$id" "$T/r_killed" </dev/null >"$T/killed.log" 2>&1 &
victim=$!
wait_for 60 rsync_started || diag "rsync did not start: $(cat "$T/killed.log")"
ok "(recover's rsync is copying)" test -n "$(this_rsyncs)"
kill -KILL "$victim"
wait "$victim" 2>/dev/null
ok "recover killed with SIGKILL leaves no rsync copying into DEST" wait_for 30 no_rsync_left
kill_leftovers

rm -f "$T/rsync.started"
sleep 1 # a new second: a new backup ID
"$CELLAR" -c "$conf" backup main </dev/null >"$T/killed.log" 2>&1 &
victim=$!
wait_for 60 rsync_started || diag "rsync did not start: $(cat "$T/killed.log")"
ok "(backup's rsync is copying)" test -n "$(this_rsyncs)"
kill -KILL "$victim"
wait "$victim" 2>/dev/null
ok "backup killed with SIGKILL leaves no rsync copying into the backup" wait_for 30 no_rsync_left
kill_leftovers
rm -f "$T/rsync.mode"
idk=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
isnt_first() { [ "$idk" != "$id" ]; }
ok "the killed backup is listed ($idk)" isnt_first
ok "cron runs" "$CELLAR" -c "$conf" cron
is "$(backup_info "$conf" main "$idk" status)" FAILED "and marks it FAILED"
like "$("$CELLAR" -c "$conf" show-backup main latest)" "Backup $id:" "latest is still the good backup"
