#!/bin/bash
# tests/integration/t_console.sh - the console driven through tmux (TAP).
#
# A PostgreSQL 15 cluster archives through `cellar put-wal` and has one
# DONE backup. cellar runs without a command inside a detached tmux session
# (100x30, UTF-8); keys are sent with send-keys and the screen is read with
# capture-pane, polling until the expected text shows (never fixed sleeps):
# the servers pane lists the server, the backups pane its DONE backup,
# Enter shows show-backup's fields, `b` runs a backup whose result appears
# in the activity pane and which is DONE in list-backup, a resize to 80x24
# redraws with whole frames, `?` lists the keys with their batch commands,
# `r` says the wizard is not built, a bad theme falls back with a message,
# and `q` quits (ending the session).
# Run: tests/run.sh tests/integration/t_console.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 17

command -v tmux >/dev/null || tap_bail "tmux is not installed"
home=$T/home
conf=$T/cellar.conf
mkdir -p "$home/main/incoming"
chown -R postgres: "$home"
write_conf() {
    {
        printf '[cellar]\nbarman_home = %s\nbarman_user = root\nlog_file = %s\n' "$home" "$T/cellar.log"
        printf 'path_prefix = %s\n\n' "$PG_BINDIR"
        printf '[main]\ndescription = "console test cluster"\n'
        printf 'conninfo = host=127.0.0.1 port=%s user=postgres dbname=postgres\n' "${PG_MAIN_PORT:-1}"
        printf 'backup_method = local-rsync\nimmediate_checkpoint = true\n'
        printf 'last_backup_maximum_age = 1 day\n'
        printf '%s\n' "$@"
    } >"$conf"
    chmod 0644 "$conf"
}
write_conf
touch "$T/cellar.log" && chmod 0666 "$T/cellar.log"
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
"$CELLAR" -c "$conf" backup --wait --wait-timeout 60 main >"$T/first-backup.log" 2>&1 ||
    tap_bail "the first backup failed: $(cat "$T/first-backup.log")"
first=$("$CELLAR" -c "$conf" list-backup --minimal main | head -n1)

sock=cellar-console-$$
tm() { tmux -L "$sock" "$@"; }
harness_at_exit tmux -L "$sock" kill-server
screen() { tm capture-pane -p -t console 2>/dev/null; }
# wait_for TEXT [SECONDS] - poll the screen until TEXT shows
wait_for() {
    local end=$((SECONDS + ${2:-10}))
    while [ "$SECONDS" -lt "$end" ]; do
        screen | grep -qF -- "$1" && return 0
        sleep 0.2
    done
    diag "screen while waiting for '$1':"
    screen | sed 's/^/    /' >&2
    return 1
}
# frames_whole - every line of the screen that starts a frame ends one
frames_whole() {
    local s bad
    s=$(screen)
    bad=$(printf '%s\n' "$s" | grep -E '^[┌│└]' | grep -vE '[┐│┘]$')
    [ -z "$bad" ] || { printf '%s\n' "$bad" >&2; return 1; }
    # the frames reach the right edge exactly
    [ "$(printf '%s\n' "$s" | grep -cE '^┌.*┐$')" -ge 4 ]
}

tm new-session -d -s console -x 100 -y 30 \
    "cd $(printf %q "$HARNESS_TOP") && LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color ./cellar -c $(printf %q "$conf"); echo console-exited; sleep 30"
ok "the servers pane shows the server" wait_for "console test cluster"
ok "the backups pane shows the backup, DONE" wait_for "$first" 
like "$(screen | grep -F "$first")" "DONE" "the backup's row says DONE"
ok "the frames are whole at 100x30" frames_whole

tm send-keys -t console Tab Enter
ok "Enter shows show-backup's fields" wait_for "begin_wal"
like "$(screen)" "Details of $first" "the details pane names the backup"

tm send-keys -t console Tab Tab Tab b
ok "b starts a backup in the activity pane" wait_for "backup main"
ok "the backup ends ok in the activity pane" wait_for "backup main: done" 90
second=$("$CELLAR" -c "$conf" list-backup --minimal main | head -n1)
is "$("$CELLAR" -c "$conf" -f json show-backup main "$second" | sed -n 's/.*"status":"\([A-Z_]*\)".*/\1/p' | head -n1)" \
    "DONE" "list-backup has the console's backup, DONE"
ok "the new backup shows in the backups pane" wait_for "$second"

tm resize-window -t console -x 80 -y 24
sleep 0.3
ok "after a resize to 80x24 the frames are whole" wait_for "Activity"
ok "and the borders are intact" frames_whole
is "$(screen | LC_ALL=C.UTF-8 wc -L)" 80 "nothing is drawn beyond 80 columns"

tm send-keys -t console '?'
ok "? shows the help with the batch commands" wait_for "cellar backup --wait SERVER"
tm send-keys -t console Escape r
ok "r says the recovery wizard is not built" wait_for "recovery wizard is not built yet"

tm send-keys -t console q
ok "q quits the console" wait_for "console-exited"

# a theme file with an error: reported, the default used
mkdir -p "$T/bin/themes"
cp "$CELLAR" "$T/bin/cellar"
printf 'ok = green,nocolour\n' >"$T/bin/themes/broken.theme"
tm kill-session -t console
tm new-session -d -s console -x 100 -y 30 \
    "LANG=C.UTF-8 TERM=screen-256color $(printf %q "$T/bin/cellar") --theme broken -c $(printf %q "$conf"); sleep 30"
ok "a broken theme is reported and the default used" wait_for "unknown colour 'nocolour'"
tm send-keys -t console q
