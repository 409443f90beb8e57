#!/bin/bash
# tests/tui/t_console_delete.sh - deleting backups from the console (TAP).
#
# A synthetic Barman home (bench/lib/synthetic.sh: three DONE backups and
# their WAL in xlog.db, no PostgreSQL) with minimum_redundancy = 2. In a
# 200x50 tmux session: the oldest backup is selected, `d` asks a question
# naming its ID, `n` cancels (the backup stays, on screen and in
# list-backup), `d` then `y` deletes it (gone from the backups pane and
# from list-backup); deleting the next one would leave one backup, below
# minimum_redundancy: the console shows the refusal and its reason, and the
# backup stays.
# Run: tests/run.sh tests/tui/t_console_delete.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/lib/console.sh"
# shellcheck source=bench/lib/synthetic.sh
. "$(dirname "$0")/../../bench/lib/synthetic.sh"
harness_init || exit 1
tap_plan 14

command -v tmux >/dev/null || tap_bail "tmux is not installed"
synthetic_home "$T" 3 30 >&2
conf=$T/bench.conf
printf 'minimum_redundancy = 2\n' >>"$conf" # the [bench] section is the last one
mapfile -t ids < <("$CELLAR" -c "$conf" list-backup --minimal bench) # newest first
[ "${#ids[@]}" -eq 3 ] || tap_bail "the synthetic home has ${#ids[@]} backups, not 3"
newest=${ids[0]} middle=${ids[1]} oldest=${ids[2]}

# the backups pane's row of a backup (rows start right after the frame)
pane_has() { screen | grep -q "^│$1 "; }
listed() { "$CELLAR" -c "$conf" list-backup --minimal bench | grep -qx "$1"; }

console_start 200x50 "./cellar -c $(printf %q "$conf")"
ok "the console lists the three backups" wait_screen "$oldest"

keys Tab Down Down d
ok "d asks, naming the selected (oldest) backup" \
    wait_screen "Delete backup $oldest of server bench? (y/N)"
keys n
ok "n cancels" wait_screen "delete cancelled"
ok "the backup is still in the backups pane" pane_has "$oldest"
ok "and in list-backup" listed "$oldest"

keys d
ok "d asks again" wait_screen "Delete backup $oldest of server bench? (y/N)"
keys y
ok "y deletes it: the operation ends ok" wait_screen "delete bench $oldest: done" 30
ok "the backup is gone from the backups pane" wait_for 10 eval '! pane_has "$oldest"'
ok "and from list-backup" eval '! listed "$oldest"'

# the selection stays on the last row: now the middle backup
keys d
ok "d on the next one names it" wait_screen "Delete backup $middle of server bench? (y/N)"
keys y
ok "a delete below minimum_redundancy is refused with the reason" \
    wait_screen "delete bench $middle: Skipping delete of backup $middle for server bench due to minimum redundancy requirements (minimum redundancy = 2, current redundancy = 2)" 30
like "$(screen_row "delete bench $middle  ")" "^│FAILED" "the activity pane marks the delete FAILED"
ok "the refused backup is still listed" listed "$middle"

keys q
ok "q quits" wait_screen "console-exited=0"
