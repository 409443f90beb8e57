#!/bin/bash
# tests/tui/t_console_streaming.sh - WAL streaming in the console (TAP).
#
# A PostgreSQL 15 cluster with archive_mode = off and a replication slot;
# cellar streams its WAL (streaming_archiver = on, archiver = off) and runs
# as the barman OS user. The console opens with no receiver running: the
# servers pane's Last WAL column says "stream DOWN". `w` starts the receiver
# in the background (receive-wal --detach): PostgreSQL shows it streaming
# into the slot, and the pane shows its lag behind the server in bytes and
# seconds (from replication-status, read by a background job). After the
# console quits the receiver goes on; started again, the console shows it,
# and `w` stops it: PostgreSQL shows no receiver and the pane says "stream
# DOWN" again.
# Run: tests/run.sh tests/tui/t_console_streaming.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/lib/console.sh"
harness_init || exit 1
tap_plan 9

command -v tmux >/dev/null || tap_bail "tmux is not installed"
[ "$(id -u)" -eq 0 ] || tap_bail "needs root (cellar becomes barman_user)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"
home=$T/home
conf=$T/cellar.conf
mkdir -p "$home" && chown barman: "$home" || tap_bail "cannot create $home"
pg_start main 'archive_mode = off' || tap_bail "cannot start PostgreSQL"
{
    printf '[barman]\nbarman_home = %s\nbarman_user = barman\n' "$home"
    printf 'log_file = %s/cellar.log\npath_prefix = %s\n\n' "$home" "$PG_BINDIR"
    printf '[main]\ndescription = "streamed cluster"\n'
    printf 'conninfo = %s\n' "$PG_MAIN_CONNINFO"
    printf 'backup_method = local-rsync\n'
    printf 'archiver = off\nstreaming_archiver = on\nslot_name = cellar_console\n'
} >"$conf" && chmod 0644 "$conf" || tap_bail "cannot write $conf"
"$CELLAR" -c "$conf" receive-wal --create-slot main >&2 || tap_bail "cannot create the slot"
harness_at_exit "$CELLAR" -c "$conf" receive-wal --stop main

receivers() {
    pg_sql main "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'barman_receive_wal'"
}
receiving() { [ "$(receivers)" = 1 ]; }
not_receiving() { [ "$(receivers)" = 0 ]; }
streamed_row() { screen_row "streamed cluster"; }

console_start 120x30 "./cellar -c $(printf %q "$conf")"
ok "no receiver runs: the servers pane says stream DOWN" wait_screen "stream DOWN" 30
keys w
ok "w starts the receiver: PostgreSQL shows it streaming" wait_for 60 receiving
ok "the pane shows the receiver's lag in bytes and seconds" \
    wait_screen_re "stream [0-9.]+ [KMGT]?i?B [0-9]+s" 60
like "$(streamed_row)" "stream [0-9.]+ [KMGT]?i?B [0-9]+s" "on the streamed server's row"
keys q
ok "the console quits" wait_screen "console-exited=0" 30
ok "the receiver goes on without the console" receiving

console_start 120x30 "./cellar -c $(printf %q "$conf")"
wait_screen_re "stream [0-9.]+ [KMGT]?i?B [0-9]+s" 60 >/dev/null
keys w
ok "w on a running receiver stops it" wait_for 60 not_receiving
ok "and the pane says stream DOWN again" wait_screen "stream DOWN" 30
keys q
ok "the console quits" wait_screen "console-exited=0" 30
