#!/bin/bash
# tests/tui/t_wizard.sh - the recovery wizard, end to end, through tmux (TAP).
#
# A PostgreSQL 15 cluster with a tablespace archives through `cellar
# put-wal`. After a backup, rows are committed into table t with two
# recovery targets between them:
#
#     p0 | backup | a | time T1 | b | time T2 | c | archived
#
# `cellar recover --wizard main` runs in a tmux session (120x40). The test
# walks every step with keys and reads the screen, polling: a transaction ID
# assigned before the backup is refused as it is typed, a later one names
# the backup; a time before
# the recoverable window is refused in place and Enter stays on the step;
# T1 is accepted and the backup is chosen with its reason; a destination
# that is not empty is refused in place by the dry run; going back and
# changing the target to T2 keeps the destination and the tablespace
# relocation typed before; with an empty destination the options (promote)
# and the review (with its command line) follow, and Enter runs the
# recovery, whose end screen gives the pg_ctl line. There `s` starts the
# copy on loopback (start-recovered) with a check query typed in the
# wizard, which shows exactly the rows before T2 (p0 a b); `x` stops it.
# Started again by the test, the recovered cluster holds the same rows,
# with the tablespace where the wizard put it. The command line
# the review showed (printed again when the wizard closes) is then run in
# batch into a second directory and gives the same rows. Finally `r` in
# the console opens the wizard and Esc closes it back to the main screen.
# Needs root (the clusters run as postgres). Run: tests/run.sh tests/tui/t_wizard.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/../integration/lib/backup.sh"
. "$(dirname "$0")/../integration/lib/recover.sh"
harness_init || exit 1
. "$(dirname "$0")/lib/console.sh"
tap_plan 40

command -v tmux >/dev/null || tap_bail "tmux is not installed"
# shot NAME - with CEL_WIZARD_SHOTS=DIR, keep the screen as DIR/NAME.txt (the
# captures in doc/wizard.md come from there)
shot() { [ -z "${CEL_WIZARD_SHOTS:-}" ] || screen >"$CEL_WIZARD_SHOTS/$1.txt"; }
rec_cluster "wizard test cluster" 1
X0=$(pg_sql main "INSERT INTO t (tag) VALUES ('p0') RETURNING txid_current()")
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "the backup failed"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
sleep 1 # the targets are then well after the backup's end_time
XA=$(pg_sql main "INSERT INTO t (tag) VALUES ('a') RETURNING txid_current()")
T1=$(utc_now main)
add_row main b
T2=$(utc_now main)
add_row main c
archive_now main main || tap_bail "WAL not archived"
diag "backup $id, T1=$T1, T2=$T2"

full=$T/full # a destination that is not empty
mkdir -p "$full" && touch "$full/keep-me"
d1=$T/w1
d2=$T/w2

console_start 120x40 "./cellar -c $(printf %q "$conf") recover --wizard main"
ok "recover --wizard opens on the server step" wait_screen "Which server's backups"
shot 1-server
like "$(screen_row "wizard test cluster")" "main" "the server is listed with its description"
keys Enter
ok "Enter: the target step, with the recoverable window" wait_screen "Recoverable window:"
shot 1b-target
# a transaction ID is checked against the backups' pg_control as it is typed
keys Down Down Enter
ok "a transaction ID: the value step" wait_screen "Transaction ID (a number)"
keys C-u "$X0"
ok "one assigned before the backup started is refused as it is typed" \
    wait_screen "was assigned before the oldest DONE backup"
keys C-u "$XA"
ok "one assigned after it names the backup that can reach it" \
    wait_screen "backup $id started before it"
keys Escape Up Enter
ok "a point in time: the value step" wait_screen "Time (YYYY-MM-DD"

# a time before the window: refused in place
keys C-u "2000-01-01 00:00:00+00"
ok "a time before the window is refused as it is typed" wait_screen "before the recoverable window"
shot 3-value-refused
keys Enter
ok "and Enter stays on the value step" wait_screen "before the recoverable window"

keys C-u "$T1"
ok "T1 is in the window" wait_screen "in the recoverable window"
shot 2-value
keys Enter
ok "the backup step gives the auto rule's choice and its reason" \
    wait_screen 'Chosen as `recover ... auto` does'
shot 4-backup
like "$(screen_row "$id")" "$id" "the backup is listed"

keys Enter
ok "the destination step" wait_screen "Data directory"
keys C-u "$full" Down "$d1-tbs" Enter
ok "a destination that is not empty is refused in place" wait_screen "not empty" 30
shot 5-destination-refused
like "$(screen)" "Data directory" "and the wizard stays on the destination step"

# back to the value: change the target, the other answers stay
keys Escape Escape
ok "Esc Esc: back to the value step, T1 still there" wait_screen "$T1"
keys C-u "$T2" Enter
ok "T2 is accepted" wait_screen "Chosen as"
keys Enter
ok "the destination typed before is kept" wait_screen "$full"
like "$(screen)" "$d1-tbs" "and so is the tablespace relocation"

keys C-u "$d1" Enter
ok "an empty destination passes the dry run: the options step" wait_screen "Target action" 30
keys Right Right
ok "the target action can be set to promote" wait_screen "< promote >"
shot 6-options
keys Enter
ok "the review shows the command line" wait_screen "The same recovery from a shell:" 30
shot 7-review
# the frame's text as one line: the command line may wrap (at spaces)
joined() { screen | sed 's/^│ //; s/ *│$//' | tr '\n' ' '; }
ok "the command line has the target, the options and the relocation chosen" has_text "$(joined)" \
    "--target-time '$T2' --target-action promote --tablespace tbs1:$d1-tbs main $id $d1"

keys Enter
ok "Enter runs the recovery to its end screen" wait_screen "is recovered into" 120
shot 8-end
like "$(screen)" "-D $d1" "the end screen gives the pg_ctl line for the data directory"
# s: start the copy on loopback and query it from the wizard
keys s
ok "s asks for the check query, prefilled" wait_screen "> SELECT datname"
keys C-u "SELECT string_agg(tag, ' ' ORDER BY id) AS tags FROM t" Enter
ok "Enter starts the copy and waits for the end of its recovery" wait_screen "is promoted" 120
shot 9-check
ok "the check query shows the rows before T2" has_text "$(screen)" "p0 a b"
unlike "$(screen)" "p0 a b c" "and not the row after T2"
like "$(screen)" "runs on 127.0.0.1 for checks: psql -h /[^ ]*/cellar-check\\." \
    "it says how to connect to the copy"
keys x
ok "x stops the copy" wait_screen "the copy is stopped" 60
ok "no server runs in the destination any more" test ! -e "$d1/postmaster.pid"
keys q
ok "any key closes the wizard, which ends cellar" wait_screen "console-exited=0"

# the recovered cluster holds the rows before T2
ok "the recovered cluster starts and is promoted" start_rec w1 "$d1" promoted
is "$(rows w1)" "p0 a b" "it holds the rows committed before T2, not the one after"
is "$(readlink "$d1/pg_tblspc/$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")")" \
    "$d1-tbs" "the tablespace was relocated where the wizard was told"
pg_stop w1 >&2

# the review's command line, run in batch, gives the same result
cmd=$(tm capture-pane -p -J -t console | sed -n '/recovery wizard.s command line:/{n;p}' | sed 's/^ *//')
diag "the wizard's command: $cmd"
cmd=${cmd//$d1/$d2}
(cd "$HARNESS_TOP" && eval "./$cmd" </dev/null >&2)
is "$?" 0 "the wizard's command line runs in batch (into another directory)"
start_rec w2 "$d2" promoted && is "$(rows w2)" "p0 a b" "and gives the same rows" ||
    fail "the batch recovery did not start"

# r in the console opens the wizard; Esc on its first step closes it
console_start 120x40 "./cellar -c $(printf %q "$conf")"
# the backups pane is drawn once the console has read the catalogue: keys
# sent before that could arrive while it still starts
wait_screen "Backups of main" 30 >/dev/null
keys r
ok "r in the console opens the wizard" wait_screen "Which server's backups" 30
keys Escape
ok "Esc on the first step goes back to the main screen" wait_screen "Backups of main" 30
keys q
