#!/bin/bash
# tests/tui/t_console_wizard.sh - the console with two servers, and the
# recovery wizard opened from it, through tmux (TAP).
#
# A PostgreSQL 15 cluster archives through `cellar put-wal` and has one DONE
# backup. The configuration has two servers: main (the cluster) and spare
# (nothing listens on its port). cellar runs without a command (120x40):
#   1. the background `check all` marks both servers: main and spare each
#      show their check result in the servers pane (not "..." for all but
#      the last);
#   2. `r` opens the wizard on main; the end of the WAL, the backup and an
#      empty destination lead to the recovery, which ends. The test then
#      makes the copy a standby (standby.signal), so its recovery never
#      ends; `s` starts it and waits; once its postmaster runs, Esc stops
#      the wait, and the copy's postmaster is gone (start-recovered stopped
#      it);
#   3. closing the wizard, the recovery it ran is in the activity pane, ok,
#      as any other operation;
#   4. the console run by the barman OS user (uid 103, barman_user = barman,
#      the catalogue given to it; barman is no role of the cluster, made
#      with initdb -U postgres): the wizard's recovery, then `s` queries the
#      copy as postgres, the user= of the server's conninfo, and shows its
#      rows (it used to connect as barman and wait 600 s); `x` stops it.
# Needs root (the cluster runs as postgres). Run: tests/run.sh tests/tui/t_console_wizard.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/../integration/lib/backup.sh"
. "$(dirname "$0")/../integration/lib/recover.sh"
harness_init || exit 1
. "$(dirname "$0")/lib/console.sh"
tap_plan 17

command -v tmux >/dev/null || tap_bail "tmux is not installed"
rec_cluster "console wizard cluster" 1 \
    '' '[spare]' 'description = "nothing listens here"' \
    'conninfo = host=127.0.0.1 port=1 user=postgres dbname=postgres'
add_row main p0
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "the backup failed"
add_row main a
archive_now main main || tap_bail "WAL not archived"
d=$T/copy
# wait_screen_row ROW TEXT [S] - poll until the screen line naming ROW contains TEXT
row_has() { screen_row "$1" | grep -qF -- "$2"; }
wait_screen_row() {
    wait_for "${3:-10}" row_has "$1" "$2" && return 0
    diag "screen while waiting for '$2' in the row of '$1':"
    screen | sed 's/^/    /' >&2
    return 1
}

console_start 120x40 "./cellar -c $(printf %q "$conf")"
ok "the console opens" wait_screen "Servers"
# ---- 1. both servers get their check mark ----------------------------------------------
ok "the background check marks spare" wait_screen_row "nothing listens here" "failed" 60
like "$(screen_row "console wizard cluster")" " (ok|[0-9]+ failed) " \
    "and main, checked in the same run, has its mark too"

# ---- 2. the wizard's recovery, then s and Esc ---------------------------------------------
keys r
ok "r opens the wizard" wait_screen "Which server's backups"
keys Enter
ok "the target step" wait_screen "Recoverable window:"
keys Enter # the end of the archived WAL
wait_screen 'Chosen as `recover ... auto` does' >/dev/null
keys Enter
wait_screen "Data directory" >/dev/null
keys C-u "$d" Down "$d-tbs" Enter
wait_screen "Target action" 30 >/dev/null
keys Enter
wait_screen "The same recovery from a shell:" 30 >/dev/null
keys Enter
ok "the recovery runs to its end screen" wait_screen "is recovered into" 120
touch "$d/standby.signal" # a standby: its recovery never ends, start-recovered waits
harness_at_exit "$CELLAR" stop-recovered "$d" # should Esc leave it running
keys s
wait_screen "> SELECT datname" >/dev/null
keys Enter
ok "s starts the copy and waits for the end of its recovery" \
    wait_screen "waiting for the end of its recovery"
# the copy's postmaster, once it runs
pm_pid() { local p; p=$(head -1 "$d/postmaster.pid" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; }
wait_for 60 pm_pid >/dev/null || diag "no postmaster started in $d"
pid=$(pm_pid)
diag "the copy's postmaster: ${pid:-none}"
ok "the copy's postmaster runs" test -n "$pid"
keys Escape
ok "Esc: the wait ends, stopped" wait_screen "stopped before the recovery ended" 60
gone() { ! kill -0 "$pid" 2>/dev/null; }
ok "the copy's postmaster is gone" wait_for 30 gone
ok "no postmaster.pid is left in the copy" test ! -e "$d/postmaster.pid"

# ---- 3. the recovery in the activity pane --------------------------------------------------
keys q
ok "q closes the wizard back to the console" wait_screen "Activity"
like "$(screen_row "recover main $d")" "ok +recover main $d" \
    "the wizard's recovery is in the activity pane, ok"
keys q
wait_screen "console-exited=0" >/dev/null

# ---- 4. the console and the wizard as the barman OS user ------------------------------------
conf2=$T/barman.conf
sed 's/^barman_user = .*/barman_user = barman/' "$conf" >"$conf2" && chmod 0644 "$conf2"
d2=$T/bcopy
{ chown -R barman: "$home" && touch "$T/cellar.log" && chown barman: "$T/cellar.log" &&
    mkdir "$d2" "$d2-tbs" && chown barman: "$d2" "$d2-tbs"; } || tap_bail "cannot give the files to barman"
harness_at_exit "$CELLAR" stop-recovered "$d2"
console_start 120x40 "runuser -u barman -- ./cellar -c $(printf %q "$conf2")"
wait_screen "Servers" >/dev/null
keys r
wait_screen "Which server's backups" >/dev/null
keys Enter
wait_screen "Recoverable window:" >/dev/null
keys Enter
wait_screen 'Chosen as `recover ... auto` does' >/dev/null
keys Enter
wait_screen "Data directory" >/dev/null
keys C-u "$d2" Down "$d2-tbs" Enter
wait_screen "Target action" 30 >/dev/null
keys Enter
wait_screen "The same recovery from a shell:" 30 >/dev/null
keys Enter
ok "as barman, the wizard's recovery runs to its end screen" wait_screen "is recovered into" 120
keys s
wait_screen "> SELECT datname" >/dev/null
keys C-u "SELECT current_user || ' sees ' || string_agg(tag, ' ' ORDER BY id) AS who FROM t" Enter
ok "s queries the copy as postgres, the user= of the server's conninfo" \
    wait_screen "postgres sees p0 a" 120
is "$(stat -c %U "$d2")" barman "the copy is barman's (it ran it)"
keys x
ok "x stops it" wait_screen "the copy is stopped" 60
keys q
