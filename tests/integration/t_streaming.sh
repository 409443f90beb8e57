#!/bin/bash
# tests/integration/t_streaming.sh - WAL streaming with pg_receivewal and a
# replication slot, Barman 3's streaming_archiver (TAP).
#
# A PostgreSQL 15 cluster with archive_mode = off: its WAL reaches cellar
# only through `receive-wal`. The server section has archiver = off,
# streaming_archiver = on and slot_name. receive-wal --create-slot creates
# the slot; cron starts the receiver (detached, under Barman's receive-wal
# lock) and a second cron starts no second one; check reports the
# streaming checks; rows are written around a base backup (local-rsync);
# switch-wal --archive waits for the streamed segment. Then the receiver
# is killed with SIGKILL in the middle of a segment: while it is down the
# slot keeps the WAL (restart_lsn does not move, the segment stays in
# pg_wal) though more WAL is written and a checkpoint runs; cron starts a
# new receiver, and no segment is missing from the archive (xlog.db is one
# contiguous run of segments). Recovery to the end, and to a time between
# two batches of rows, start and hold exactly the rows. Barman 3.4 on the same configuration sees cellar's receiver
# (its receive-wal leaves at once) and its --stop stops it; cellar's
# receive-wal --stop stops the next one; the older of two .partial files (a
# promoted server's old timeline) is archived as <segment>.partial while
# the newest stays; --drop-slot drops the slot.
# cellar is started as root with barman_user = barman, as the tutorial runs
# it: the receiver, its files and the archive belong to barman, and
# backups copy over ssh as postgres. Needs root, the barman OS user and
# sshd. Run: tests/run.sh tests/integration/t_streaming.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 88

[ "$(id -u)" -eq 0 ] || tap_bail "needs root (cellar becomes barman_user)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"
sshd_start || tap_bail "cannot start sshd"
home=$T/home
logdir=$T/log
conf=$T/cellar.conf
mkdir -p "$home" "$logdir" "$T/keys" && chown barman: "$home" "$logdir" && chmod 0750 "$home" ||
    tap_bail "cannot create $home"
cp "$SSHD_KEY" "$T/keys/barman" && chown barman: "$T/keys/barman" && chmod 0600 "$T/keys/barman" ||
    tap_bail "cannot copy the ssh key"
chmod 0755 "$T/keys"
pg_start main 'archive_mode = off' || tap_bail "cannot start PostgreSQL"
{
    printf '[barman]\nbarman_home = %s\nbarman_user = barman\n' "$home"
    printf 'log_file = %s/cellar.log\npath_prefix = %s\n\n' "$logdir" "$PG_BINDIR"
    printf '[main]\ndescription = "streamed, archive_mode off"\n'
    printf 'conninfo = %s\n' "$PG_MAIN_CONNINFO"
    printf 'ssh_command = ssh -i %s -p %s -o IdentitiesOnly=yes -o StrictHostKeyChecking=no' \
        "$T/keys/barman" "$SSHD_PORT"
    printf ' -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR postgres@127.0.0.1\n'
    printf 'backup_method = rsync\nimmediate_checkpoint = true\ncompression = gzip\n'
    printf 'archiver = off\nstreaming_archiver = on\nslot_name = cellar_test\n'
} >"$conf" && chmod 0644 "$conf" || tap_bail "cannot write $conf"
lock=$home/.main-receive-wal.lock
pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text)" >/dev/null || tap_bail "no table"

slot_field() { # slot_field COLUMN
    pg_sql main "SELECT $1 FROM pg_replication_slots WHERE slot_name = 'cellar_test'"
}
receivers() { # walsenders of the receiver's application name
    pg_sql main "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'barman_receive_wal'"
}
receiving() { [ "$(receivers)" = 1 ] && [ "$(slot_field active)" = t ]; }
not_receiving() { [ "$(receivers)" = 0 ] && [ "$(slot_field active)" = f ]; }
lock_free() { flock -n "$lock" true; }
holder() { head -1 "$lock"; }
bm() { runuser -u barman -- barman -c "$conf" "$@"; }
# rootless - nothing under barman_home belongs to root
rootless() {
    local found
    found=$(find "$home" -user root)
    [ -z "$found" ] || { diag "owned by root: $found"; return 1; }
}
archived() { awk -v w="$1" '$1 == w {f = 1} END {exit !f}' "$home/main/wals/xlog.db"; }
# contiguous: the segments of xlog.db (timeline 1) form one run without a gap
contiguous() {
    python3 - "$home/main/wals/xlog.db" <<'EOF'
import sys
segs = sorted(int(l.split()[0][8:16], 16) * 256 + int(l.split()[0][16:24], 16)
              for l in open(sys.argv[1]) if len(l.split()[0]) == 24)
gaps = [s for a, s in zip(segs, segs[1:]) if s != a + 1]
print("%d segments, gaps before: %s" % (len(segs), gaps), file=sys.stderr)
sys.exit(1 if gaps or not segs else 0)
EOF
}

# ---- the slot --------------------------------------------------------------------------
out=$("$CELLAR" -c "$conf" receive-wal --create-slot main 2>&1)
is "$?" 0 "receive-wal --create-slot exits 0"
like "$out" "Replication slot 'cellar_test' created" "it says the slot was created"
is "$(slot_field slot_type)" physical "a physical slot cellar_test exists"
out=$("$CELLAR" -c "$conf" receive-wal --create-slot main 2>&1)
is "$?" 1 "a second --create-slot fails"
like "$out" "Replication slot 'cellar_test' already exists" "saying the slot already exists"
out=$("$CELLAR" -c "$conf" receive-wal --create-slot --if-not-exists main 2>&1)
is "$?" 0 "with --if-not-exists an existing slot is no error (Barman 3.15)"
like "$out" "Replication slot 'cellar_test' already exists" "and it says so"
"$CELLAR" -c "$conf" receive-wal --if-not-exists main >/dev/null 2>&1
is "$?" 2 "--if-not-exists without --create-slot is a usage error"

# ---- cron starts one receiver -------------------------------------------------------
out=$("$CELLAR" -c "$conf" cron 2>&1)
diag "$out"
like "$out" "receive-wal started \(PID [0-9]+\)" "cron starts a receiver"
ok "it streams into the slot" wait_for 60 receiving
ok "it holds Barman's receive-wal lock" wait_for 10 eval '! lock_free'
pid1=$(holder)
out=$("$CELLAR" -c "$conf" cron 2>&1)
like "$out" "receive-wal running \(PID $pid1\)" "a second cron finds it running"
sleep 1
is "$(receivers)" 1 "and starts no second one"
out=$("$CELLAR" -c "$conf" receive-wal main 2>&1)
like "$out" "Another receive-wal process is already running for server main" \
    "a manual receive-wal leaves at once"
out=$("$CELLAR" -c "$conf" check main 2>&1)
diag "$out"
like "$out" $'\treplication slot: OK' "check: replication slot OK"
like "$out" $'\tpg_receivexlog: OK' "check: pg_receivexlog OK"
like "$out" $'\tpg_receivexlog compatible: OK' "check: pg_receivexlog compatible OK"
like "$out" $'\treceive-wal running: OK' "check: receive-wal running OK"
unlike "$out" "archive_mode" "no archive_command checks for a streaming-only server"
out=$("$CELLAR" -c "$conf" show-server main 2>&1)
like "$out" "streaming_archiver: True" "show-server: streaming_archiver"
like "$out" "slot_name: cellar_test" "show-server: slot_name"
like "$out" "pg_receivexlog_compatible: True" "show-server: pg_receivexlog_compatible (Barman's key)"

# ---- rows, a backup, more rows, switch-wal --archive ------------------------------------
add_row main a
add_row main b
"$CELLAR" -c "$conf" backup main >&2 || tap_bail "backup failed"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
add_row main c
add_row main d
out=$("$CELLAR" -c "$conf" switch-wal --archive --archive-timeout 120 main 2>&1)
is "$?" 0 "switch-wal --archive exits 0"
like "$out" "The WAL file [0-9A-F]{24} has been archived" "the streamed segment was archived"
"$CELLAR" -c "$conf" cron >&2
is "$(backup_info "$conf" main "$id" status)" DONE "the backup is DONE with streamed WAL"
ok "xlog.db has no gap" contiguous
is "$(stat -c %U "$home/main/streaming/$(cd "$home/main/streaming" && ls | tail -1)")" barman \
    "the streamed files belong to barman"
ok "nothing in barman_home belongs to root" rootless

# ---- the receiver killed mid-segment ------------------------------------------------------
T_DE=$(utc_now main)
add_row main e
add_row main f
partial=$(cd "$home/main/streaming" && ls -- *.partial | tail -1)
restart=$(slot_field restart_lsn)
diag "receiving into $partial, slot restart_lsn $restart"
kill -KILL "$pid1"
ok "after SIGKILL the receiver is gone" wait_for 60 not_receiving
ok "and its lock is free" wait_for 10 lock_free
for tag in g h i; do
    add_row main "$tag"
    pg_sql main "SELECT pg_switch_wal()" >/dev/null
done
pg_sql main "CHECKPOINT" >/dev/null
is "$(slot_field restart_lsn)" "$restart" "the slot's restart_lsn stayed while nobody received"
is "$(slot_field wal_status)" reserved "the slot's WAL is reserved"
ok "pg_wal still holds the segment being received ($partial)" \
    test -f "$PG_MAIN_DATA/pg_wal/${partial%.partial}"
out=$("$CELLAR" -c "$conf" cron 2>&1)
like "$out" "receive-wal started \(PID [0-9]+\)" "cron starts a new receiver"
ok "it streams again" wait_for 60 receiving
add_row main j
out=$("$CELLAR" -c "$conf" switch-wal --archive --archive-timeout 120 main 2>&1)
is "$?" 0 "switch-wal --archive after the restart exits 0"
"$CELLAR" -c "$conf" archive-wal main >&2
ok "no segment is missing: xlog.db is contiguous" contiguous
ok "the segment that was being received is archived" archived "${partial%.partial}"

# ---- recovery to the end --------------------------------------------------------------------
d=$T/rec
mkdir "$d" && chown barman: "$d"
recover_ok "recover the backup to the end of the archived WAL" main "$id" "$d"
ok "the recovered cluster starts and finishes recovery" start_rec rend "$d" promoted
is "$(rows rend)" "a b c d e f g h i j" "it holds exactly the rows"
pg_stop rend
d=$T/rec_time
mkdir "$d" && chown barman: "$d"
recover_ok "recover to a time between two batches of rows" \
    --target-time "$T_DE" --target-action promote main "$id" "$d"
ok "that copy starts and is promoted at the target" start_rec rtime "$d" promoted
is "$(rows rtime)" "a b c d" "it holds exactly the rows written before that time"
pg_stop rtime

# ---- Barman 3.4 on the same home --------------------------------------------------------------
pid2=$(holder)
out=$(bm receive-wal main 2>&1)
diag "$out"
like "$out" "Another receive-wal process is already running for server main" \
    "barman receive-wal sees cellar's receiver and leaves"
out=$(bm receive-wal --stop main 2>&1)
diag "$out"
like "$out" "Stopped process receive-wal\($pid2\)" "barman receive-wal --stop stops cellar's receiver"
ok "it is gone" wait_for 60 not_receiving
"$CELLAR" -c "$conf" cron >&2
ok "cron starts a receiver again" wait_for 60 receiving

# ---- pg_receivewal itself killed -------------------------------------------------------------
wait_for 10 eval '! lock_free'
pid3=$(holder)
child=$(cat "/proc/$pid3/task/$pid3/children" 2>/dev/null)
diag "receiver $pid3 runs pg_receivewal $child"
like "$(cat "/proc/${child%% *}/cmdline" 2>/dev/null | tr '\0' ' ')" \
    "pg_receivewal --dbname=.*application_name='barman_receive_wal'.* --verbose --no-loop --no-password --directory=$home/main/streaming --slot=cellar_test" \
    "the receiver runs pg_receivewal with Barman's arguments"
like "$(cat "/proc/${child%% *}/cmdline" 2>/dev/null | tr '\0' ' ')" "--status-interval=1" \
    "and reports its position every second"
kill -KILL ${child%% *}
ok "when pg_receivewal is killed the receiver ends and frees its lock" wait_for 60 lock_free
like "$(cat "$logdir/cellar.log")" "pg_receivewal terminated by signal: 9" "the log says how it ended"
"$CELLAR" -c "$conf" cron >&2
ok "cron starts a receiver once more" wait_for 60 receiving

# ---- list-processes and terminate-process (Barman 3.14) ---------------------------------------
wait_for 10 eval '! lock_free'
pid4=$(holder)
out=$("$CELLAR" -c "$conf" list-processes main 2>&1)
is "$out" "$(printf 'Active subprocesses for server main:\n%s receive-wal' "$pid4")" \
    "list-processes names the receiver and its PID, as Barman prints them"
like "$("$CELLAR" -c "$conf" -f json list-processes main)" "\"main\":\\[\\{\"pid\":$pid4,\"name\":\"receive-wal\"\\}\\]" \
    "its JSON is Barman's: {SERVER: [{pid, name}]}"
out=$("$CELLAR" -c "$conf" terminate-process main receive-wal 2>&1)
is "$?" 0 "terminate-process main receive-wal exits 0"
like "$out" "Stopped process receive-wal\($pid4\)" "naming what it stopped"
ok "the receiver is gone" wait_for 60 not_receiving
is "$("$CELLAR" -c "$conf" list-processes main 2>&1)" "No active subprocesses found for server main." \
    "list-processes then finds none"
out=$("$CELLAR" -c "$conf" terminate-process main receive-wal 2>&1)
is "$?" 1 "terminating a task with no process exits 1"
like "$out" "Termination of receive-wal failed: no such process for server main" "with Barman's words"
"$CELLAR" -c "$conf" terminate-process main nonsense >/dev/null 2>&1
is "$?" 2 "an unknown task is a usage error"
touch "$home/.gone-backup.lock"
out=$("$CELLAR" -c "$conf" lock-directory-cleanup 2>&1)
like "$out" "Removed [1-9][0-9]* unused lock files? from $home" "lock-directory-cleanup removes unused lock files"
ok "among them a stale one" test ! -e "$home/.gone-backup.lock"
"$CELLAR" -c "$conf" cron >&2
ok "cron starts a receiver again" wait_for 60 receiving
ok "whose lock file cron's cleanup left (it is held)" wait_for 10 eval '! lock_free'

# ---- --reset and --stop -----------------------------------------------------------------------
out=$("$CELLAR" -c "$conf" receive-wal --reset main 2>&1)
like "$out" "Unable to reset the status of receive-wal for server main. Process is still running" \
    "--reset while the receiver runs changes nothing"
wait_for 10 eval '! lock_free'
pid2=$(holder)
out=$("$CELLAR" -c "$conf" receive-wal --stop main 2>&1)
is "$?" 0 "receive-wal --stop exits 0"
like "$out" "Stopped process receive-wal\($pid2\)" "it names the process it stopped"
ok "the receiver is gone" wait_for 60 not_receiving
ok "its lock is free" lock_free

# ---- --detach (the console's w key), and list-server's receiver state ------------------------
receiver_state() {
    "$CELLAR" -c "$conf" --format json list-server | python3 -c '
import json, sys
for line in sys.stdin:
    ev = json.loads(line)
    if ev.get("event") == "result":
        a = ev["data"]["main"]["wal_archive"]
        print("streaming=%s receiver=%s" % (a["streaming"], "pid" if a["receiver_pid"] else None))'
}
is "$(receiver_state)" "streaming=True receiver=None" "list-server: main streams and its receiver is stopped"
out=$("$CELLAR" -c "$conf" receive-wal --detach main 2>&1)
is "$?" 0 "receive-wal --detach exits 0"
like "$out" "receive-wal started in the background for server main \(PID [0-9]+\)" \
    "it says it started the receiver, with its PID"
ok "the detached receiver streams into the slot" wait_for 60 receiving
is "$(receiver_state)" "streaming=True receiver=pid" "list-server: the receiver runs"
out=$("$CELLAR" -c "$conf" receive-wal --detach main 2>&1)
like "$out" "receive-wal is already running for server main" "a second --detach starts no second one"
is "$(receivers)" 1 "one receiver only"
"$CELLAR" -c "$conf" receive-wal --stop main >&2
ok "--stop stops the detached receiver" wait_for 60 not_receiving
out=$("$CELLAR" -c "$conf" receive-wal --reset main 2>&1)
diag "$out"
like "$out" "Nothing to do. Position of receive-wal is aligned." \
    "--reset after a clean stop finds streaming/ aligned with the slot"
out=$("$CELLAR" -c "$conf" receive-wal --stop main 2>&1)
is "$?" 1 "a second --stop fails"
like "$out" "no such process for server main" "saying no receiver runs"

# ---- two .partial files: the older is archived as .partial ----------------------------------------
old=$(cd "$home/main/streaming" && ls -- *.partial | tail -1)
newer=$(next_seg "${old%.partial}")
: >"$home/main/streaming/$newer.partial"
"$CELLAR" -c "$conf" archive-wal main >&2
ok "the older .partial is archived as $old" archived "$old"
ok "it is in the hash directory" test -f "$home/main/wals/${old:0:16}/$old"
ok "the newest .partial stays in streaming/" test -f "$home/main/streaming/$newer.partial"
rm -f "$home/main/streaming/$newer.partial"

# ---- --drop-slot ----------------------------------------------------------------------------
out=$("$CELLAR" -c "$conf" receive-wal --drop-slot main 2>&1)
is "$?" 0 "receive-wal --drop-slot exits 0"
is "$(pg_sql main "SELECT count(*) FROM pg_replication_slots")" 0 "the slot is gone"
out=$("$CELLAR" -c "$conf" receive-wal --drop-slot main 2>&1)
like "$out" "Replication slot 'cellar_test' does not exist" "a second --drop-slot says it does not exist"
