#!/bin/bash
# tests/tui/t_console_backup_postgres.sh - a backup_method = postgres backup
# followed in the console's activity pane (TAP).
#
# A PostgreSQL 15 cluster with archive_mode = off whose WAL cellar streams
# (streaming_archiver = on, a slot, the receiver started with receive-wal
# --detach), cellar running as the barman OS user, as in
# t_console_streaming.sh, and a first segment archived (switch-wal
# --archive); the server backs up with backup_method =
# postgres (pg_basebackup). bandwidth_limit (pg_basebackup's --max-rate)
# makes the copy of the fresh cluster last several seconds, so that its
# progress shows. `b` starts the backup: the activity pane names it
# ("backup main"), shows its copy phase (copying with pg_basebackup) with a
# progress line in bytes (done, total, rate), then the backup ends ok, in
# the activity row and the status line; the backups pane lists the new
# backup DONE, and list-backup has it as a postgres-method backup. `l`
# shows the operation's log: its phases in order, from the start naming
# the backup ID to the end.
# Run: tests/run.sh tests/tui/t_console_backup_postgres.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/../integration/lib/backup.sh"
. "$(dirname "$0")/lib/console.sh"
harness_init || exit 1
tap_plan 15

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
    printf '[main]\ndescription = "postgres method cluster"\n'
    printf 'conninfo = %s\n' "$PG_MAIN_CONNINFO"
    printf 'streaming_conninfo = host=127.0.0.1 port=%s user=postgres\n' "$PG_MAIN_PORT"
    printf 'backup_method = postgres\nimmediate_checkpoint = true\n'
    # 2 MiB/s: the fresh cluster's 22 MiB take about ten seconds
    printf 'bandwidth_limit = 2048\n'
    printf 'archiver = off\nstreaming_archiver = on\nslot_name = cellar_console\n'
} >"$conf" && chmod 0644 "$conf" || tap_bail "cannot write $conf"
"$CELLAR" -c "$conf" receive-wal --create-slot main >&2 || tap_bail "cannot create the slot"
harness_at_exit "$CELLAR" -c "$conf" receive-wal --stop main
"$CELLAR" -c "$conf" receive-wal --detach main >&2 || tap_bail "cannot start the receiver"
receiving() {
    [ "$(pg_sql main "SELECT count(*) FROM pg_stat_replication
                      WHERE application_name = 'barman_receive_wal'")" = 1 ]
}
wait_for 60 receiving || tap_bail "the receiver does not stream"
# a first archived segment: check passes (its WAL archive check wants one)
"$CELLAR" -c "$conf" switch-wal --archive --archive-timeout 60 main >&2 ||
    tap_bail "the first streamed segment is not archived"

console_start 120x30 "./cellar -c $(printf %q "$conf")"
ok "the servers pane shows the server" wait_screen "postgres method cluster" 30
keys b
ok "b starts a backup: the activity pane names it" wait_screen "backup main" 30
like "$(screen_row "backup main")" "running +backup main +[0-9]+:[0-9]{2} " "as running"
ok "the activity row shows the copy phase: pg_basebackup" \
    wait_screen_re "backup main +[0-9]+:[0-9]{2} +copying with [^ ]*pg_basebackup \(immediate checkpoint\)" 60
ok "under it a progress line in bytes: done, total and rate" \
    wait_screen_re "\] +[0-9]+% [0-9.]+ (B|KiB|MiB) of [0-9.]+ (KiB|MiB|GiB), [0-9.]+ (B|KiB|MiB)/s" 60
ok "while it copies, the backups pane lists it as STARTED" \
    wait_screen_re "[0-9]{8}T[0-9]{6} .*STARTED" 30
ok "the backup ends ok: the status line says done" wait_screen "backup main: done" 180
like "$(screen_row "backup main")" "ok +backup main +[0-9]+:[0-9]{2} +ok" "the activity row says ok"
unlike "$(screen)" "waiting for progress|copying with|FAILED" \
    "no progress line or copy phase is left, and nothing failed"

id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -n1)
is "$(backup_info "$conf" main "$id" mode)/$(backup_info "$conf" main "$id" status)" postgres/DONE \
    "list-backup has the console's backup: postgres method, DONE"
ok "the backups pane shows it" wait_screen "$id" 30
like "$(screen_row "$id")" "DONE" "its row says DONE"

keys l
ok "l shows the operation's log, which names the backup" \
    wait_screen "starting backup $id of server main" 30
is "$(screen | grep -oE "starting backup $id|copying with [^ ]*pg_basebackup|reading the backup label|end: ok" |
    sed 's/with .*pg_basebackup/with pg_basebackup/' | paste -sd,)" \
    "starting backup $id,copying with pg_basebackup,reading the backup label,end: ok" \
    "then, in order, the copy phase, the stop phase and the end"
keys Escape q
ok "the console quits" wait_screen "console-exited=0" 30
