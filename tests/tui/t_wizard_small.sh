#!/bin/bash
# tests/tui/t_wizard_small.sh - the recovery wizard on small terminals, and
# the exit status of `recover --wizard` (TAP).
#
# A PostgreSQL 15 cluster with three tablespaces archives through `cellar
# put-wal`; three backups are taken, then rows are committed with a time
# between them, and one more segment is left waiting in incoming/ so that
# the dry run warns about it:
#
#     p0 | backup x3 | a | time T1 | b | archived | c | waiting in incoming/
#
# `cellar recover --wizard main` runs in an 80x24 tmux window. At each step
# the test reads the screen: the frames are whole, the key line is there in
# full, and so is what the step must show (each target's help, the value's
# prompt, message and window, every backup, the destination's fields and
# the end of a long path being typed, the options). The timeline's window
# starts at the oldest backup's end, as the value check says. The review
# does not fit: it says "more below", scrolls with Down to its end and back
# with PgUp, shows the dry run's warning, and its command line, read across
# the scrolled screens, is the one printed when the wizard closes. Between
# the review and the run, a file appears in the destination: the recovery
# fails and says so; once the file is gone it runs again and succeeds, so
# the wizard exits 0, and the recovered cluster holds the rows before T1.
# At the value and backup steps the window shrinks to 60x16 and the wizard
# still draws (title, whole frame, what the step asks).
#
# Then two short sessions: a recovery that fails and is left makes
# `recover --wizard` exit with the status the same batch recover gives,
# printing that it failed; closing the wizard at once exits 0.
# Needs root (the clusters run as postgres). Run: tests/run.sh tests/tui/t_wizard_small.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/../integration/lib/backup.sh"
. "$(dirname "$0")/../integration/lib/recover.sh"
harness_init || exit 1
. "$(dirname "$0")/lib/console.sh"
tap_plan 72

command -v tmux >/dev/null || tap_bail "tmux is not installed"
# shot NAME - with CEL_WIZARD_SHOTS=DIR, keep the screen as DIR/small-NAME.txt
# (the 80x24 captures in doc/wizard.md come from there)
shot() { [ -z "${CEL_WIZARD_SHOTS:-}" ] || screen >"$CEL_WIZARD_SHOTS/small-$1.txt"; }
rec_cluster "small screen test" 3
add_row main p0
for n in 1 2 3; do
    "$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "backup $n failed"
done
mapfile -t ids < <("$CELLAR" -c "$conf" list-backup --minimal main) # newest first
[ "${#ids[@]}" -eq 3 ] || tap_bail "expected 3 backups, got ${#ids[*]}"
oldest=${ids[2]} newest=${ids[0]}
sleep 1 # the target is then well after the last backup's end
add_row main a
T1=$(utc_now main)
add_row main b
archive_now main main || tap_bail "WAL not archived"
# one more segment archived by PostgreSQL into incoming/, left there: the
# dry run warns that it leaves it out, the recovery archives it first
add_row main c
pg_sql main "SELECT pg_switch_wal()" >/dev/null
wait_for 60 compgen -G "$home/main/incoming/0*" >/dev/null || tap_bail "nothing in incoming/"
diag "backups ${ids[*]}, T1=$T1"

# the oldest backup's end, as the value check says it, and rounded up to
# the second as the timeline's heading shows it
oldest_end=$(backup_info "$conf" main "$oldest" end_time)
secs=$(date -d "$oldest_end" +%s.%N)
up=${secs%.*}
[[ ${secs#*.} =~ ^0+$ ]] || up=$((up + 1))
window_start=$(date -d "@$up" '+%Y-%m-%d %H:%M:%S%:z') # the console's time zone: ours

d1=$T/w1
# inside - the frame's rows without borders and trailing blanks
inside() { screen | sed -n '/^┌/,/^└/p' | sed '1d;$d' | sed 's/^│ //; s/ *│$//'; }
# joined - the frame's text as one line (wrapped lines meet at a space),
# runs of spaces as one
joined() { inside | sed '/^$/d' | tr '\n' ' ' | tr -s ' '; }
# under - the message rows under the frame, as one line
under() { screen | sed -n '/^└/,$p' | sed '1d;$d' | sed 's/^ *//; s/ *$//' | tr '\n' ' '; }
keyline() { screen | tail -n 1 | sed 's/ *$//'; }
shows() { has_text "$(joined)" "$1"; }
wait_keys() { # the key line reads exactly $1
    local end=$((SECONDS + 10))
    while [ "$SECONDS" -lt "$end" ]; do
        [ "$(keyline)" = "$1" ] && return 0
        sleep 0.1
    done
    diag "key line: '$(keyline)', expected '$1'"
    return 1
}
# redrawn COLS - poll until the console has drawn for COLS columns: its
# frame spans them, whole (just after a resize the screen still holds the
# old drawing, cut or narrower)
redrawn() {
    local end=$((SECONDS + 10))
    while [ "$SECONDS" -lt "$end" ]; do
        [ "$(screen | grep -m1 '^┌' | wc -L)" -eq "$1" ] && frames_whole 1 2>/dev/null && return 0
        sleep 0.1
    done
    diag "the screen was not redrawn for $1 columns:"
    screen | sed 's/^/    /' >&2
    return 1
}
# at_60x16 NAME TEXT - shrink to 60x16: the wizard still runs and draws its
# title, a whole frame and TEXT (shot NAME); then back to 80x24
at_60x16() {
    console_resize 60x16
    redrawn 60 && has_text "$(screen)" "cellar recovery wizard" && has_text "$(screen)" "$2" &&
        ! has_text "$(screen)" "console-exited="
    local rc=$?
    shot "$1"
    console_resize 80x24
    redrawn 80 || rc=1
    return $rc
}

console_start 80x24 "./cellar -c $(printf %q "$conf") recover --wizard main"
ok "80x24: the server step" wait_screen "Which server's backups"
ok "its key line is whole" wait_keys "Up/Down choose  Enter next  Esc close"
ok "and its frame too" frames_whole 1

keys Enter
ok "the target step, with the recoverable window" wait_screen "Recoverable window:"
ok "the window starts at the oldest backup's end (to the second above)" \
    has_text "$(screen_row "Recoverable window:")" "Recoverable window: $window_start .. "
ok "the frame is whole" frames_whole 1
ok "its key line is whole" wait_keys "Up/Down choose  Enter next  Esc back"
helps=("replay everything archived: the latest state the archive holds"
    "stop before a mistake: the last commit at or before a time"
    "stop at the commit of one transaction (txid_current() showed it)"
    "stop at a pg_create_restore_point() name (each backup makes one)"
    "stop at a position in the WAL, such as one pg_current_wal_lsn() gave"
    "only what the backup holds, consistent: the quickest recovery")
whole=0
for i in "${!helps[@]}"; do
    [ "$i" -gt 0 ] && keys Down
    wait_screen "${helps[$i]}" 3 >/dev/null && whole=$((whole + 1))
done
is "$whole" 6 "each target's help shows whole when it is chosen"
keys Up Up Up Up
ok "back on a point in time" wait_screen "${helps[1]}"
shot target
keys Enter

ok "the value step" wait_screen "(--target-time):"
ok "its prompt is whole" shows "Time (YYYY-MM-DD HH:MM:SS with an offset such as +00) (--target-time):"
ok "its key line is whole" wait_keys "type the value  Backspace / Ctrl-U erase  Enter next  Esc back"
keys C-u "2000-01-01 00:00:00+00"
ok "a time before the window is refused" wait_screen "before the recoverable window"
ok "the whole message shows, with the oldest backup's end" \
    shows "before the recoverable window: the oldest DONE backup ($oldest) ended at $oldest_end, and no recovery is consistent before a backup's end"
ok "and the window in words, from that same end" \
    shows "Recoverable from $oldest_end, when the oldest DONE backup ($oldest) ended, to before"
shot value-refused
ok "the frame is whole" frames_whole 1
ok "60x16: the value step still draws, prompt and all" at_60x16 60x16-value "Time (YYYY-MM-DD"
keys C-u "$T1"
ok "T1 is in the window" wait_screen "in the recoverable window"
keys Enter

# shellcheck disable=SC2016 # the backquotes are on the screen
ok "the backup step" wait_screen 'Chosen as `recover ... auto` does'
found=0
for id in "${ids[@]}"; do [ -n "$(screen_row "$id")" ] && found=$((found + 1)); done
is "$found" 3 "every backup is listed"
ok "the header of the list shows" shows "Backup Ended Size End LSN Name"
ok "the frame is whole" frames_whole 1
ok "60x16: the backup step still lists the chosen backup" at_60x16 60x16-backup "$newest"
keys Down Down
ok "Down Down chooses the oldest backup" wait_screen "Chosen by you: backup $oldest"
keys Up Up
ok "Up Up the newest again" wait_screen "Chosen by you: backup $newest"
keys Enter

ok "the destination step" wait_screen "Data directory"
ok "its key line is whole" wait_keys "Up/Down field  Ctrl-U erase  Left/Right local/remote  Enter check  Esc back"
ok "what Enter does is whole" \
    shows "Enter checks the destination (emptiness, free space, tablespaces) with cellar recover --dry-run."
n=0
for t in tbs1 tbs2 tbs3; do [ -n "$(screen_row "Tablespace $t")" ] && n=$((n + 1)); done
is "$n" 3 "a field for each of the three tablespaces"
long=/tmp/$(printf 'd%.0s' {1..90})/end-of-a-long-path
keys C-u "$long"
ok "a long path being typed shows its end" wait_screen "end-of-a-long-path_"
keys C-u "$d1" Down "$d1-t1" Down "$d1-t2" Down "$d1-t3"
ok "the fields hold what was typed" wait_screen "$d1-t3_"
shot destination
ok "the frame is whole" frames_whole 1
keys Enter
ok "the dry run passes: the options step" wait_screen "Target action" 30
ok "each option shows whole" shows "Target action < default (PostgreSQL pauses at a target) >"
ok "the WAL option too" shows "WAL < as the server's recovery_options say >"
ok "its key line is whole" wait_keys "Up/Down field  Left/Right change  Enter review  Esc back"
keys Right Right
ok "promote" wait_screen "< promote >"
keys Enter

ok "the review" wait_screen "Server       main" 30
shot review
ok "it does not fit, and says so" wait_screen "more below ↓"
ok "its key line says it scrolls" wait_keys "Up/Down PgUp/PgDn scroll  Enter run  Esc back"
ok "the frame is whole (the mark sits on its border)" frames_whole 1
# read the review across its screens: Down, one line at a time, to its end
mapfile -t review < <(inside)
rows=${#review[@]}
prev=$(screen)
steps=0
while has_text "$prev" "more below" && [ "$steps" -lt 60 ]; do
    keys Down
    end=$((SECONDS + 5))
    while [ "$(screen)" = "$prev" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
    prev=$(screen)
    mapfile -t now < <(inside)
    review+=("${now[rows - 1]}")
    steps=$((steps + 1))
done
diag "the review, $rows rows on the screen, ${#review[@]} in all:"
diag "$(printf '%s\n' "${review[@]}")"
ok "Down scrolls it to its end" wait_screen_gone "more below"
ok "where it says there is more above" wait_screen "more above ↑"
shot review-end
ok "60x16: the review still draws, scrolled" at_60x16 60x16-review "more above"
like "$(printf '%s\n' "${review[@]}" | tr '\n' ' ')" "The dry run warned: WARNING: --dry-run leaves incoming/ alone" \
    "the dry run's warning is on the review"
review_cmd=$(printf '%s\n' "${review[@]}" | sed -n '/^The same recovery from a shell:$/,/^$/p' |
    sed '1d;$d' | tr '\n' ' ' | sed 's/ *$//')
diag "the review's command line: $review_cmd"
ok "the review's command line is whole: the target, the relocations, the destination" has_text "$review_cmd" \
    "recover --target-time '$T1' --target-action promote --tablespace tbs1:$d1-t1 --tablespace tbs2:$d1-t2 --tablespace tbs3:$d1-t3 main $newest $d1"
keys PPage PPage PPage
ok "PgUp goes back to its top" wait_screen_gone "more above"
ok "where its first line shows again" wait_screen "Server       main"

# the destination is no longer empty when the recovery runs
mkdir -p "$d1" && touch "$d1/stray"
keys Enter
ok "a recovery that fails says so" wait_screen "the recovery failed" 60
shot run-failed
like "$(under)" "the recovery failed: the destination '?$d1'? is not empty" "with the reason, under the frame"
rm -rf "$d1"
keys Enter
ok "Enter: back to the review" wait_screen "Server       main"
keys Enter
ok "run again, it reaches its end screen" wait_screen "is recovered into" 120
shot end
ok "the end screen's frame is whole" frames_whole 1
like "$(screen)" "recovered into" "its first line wraps rather than being cut"
# s with the default query: the copy's databases, at 80x24
keys s Enter
ok "s Enter: the copy starts and its recovery ends" wait_screen "The copy is" 120
shot end-check
like "$(screen)" "database +\\| size" "the default check query's columns are shown"
like "$(screen)" "postgres +\\| [0-9]" "and its rows"
ok "the frame is still whole" frames_whole 1
keys x
ok "x stops the copy" wait_screen "the copy is stopped" 60
keys q
ok "the wizard exits 0: its last recovery succeeded" wait_screen "console-exited=0"
printed=$(tm capture-pane -p -J -t console | sed -n '/recovery wizard.s command line:/{n;p}' | sed 's/^ *//')
is "$printed" "$review_cmd" "the command line printed at exit is the review's"
ok "the recovered cluster starts and is promoted" start_rec w1 "$d1" promoted
is "$(rows w1)" "p0 a" "it holds the rows committed before T1"
pg_stop w1 >&2

# a recovery that fails, and the wizard left: its exit status is the batch's
d2=$T/w2
console_start 80x24 "./cellar -c $(printf %q "$conf") recover --wizard main"
wait_screen "Which server's backups" >/dev/null
keys Enter
wait_screen "Recoverable window:" >/dev/null
keys Enter # the end of the archived WAL
# shellcheck disable=SC2016
ok "second session: the backup step" wait_screen 'Chosen as `recover ... auto` does'
keys Enter
wait_screen "Data directory" >/dev/null
keys C-u "$d2" Down "$d2-t1" Down "$d2-t2" Down "$d2-t3" Enter
ok "the options step" wait_screen "Target action" 30
keys Enter
ok "the review" wait_screen "Server       main" 30
mkdir -p "$d2" && touch "$d2/stray"
keys Enter
ok "the recovery fails" wait_screen "the recovery failed" 60
for _ in 1 2 3 4 5 6 7 8; do
    screen | grep -q "console-exited=" && break
    keys Escape
    sleep 0.3
done
ok "Esc on every step closes the wizard" wait_screen "console-exited="
wizard_rc=$(screen | sed -n 's/.*console-exited=\([0-9]*\).*/\1/p' | head -n 1)
wizard_out=$(tm capture-pane -p -J -t console)
(cd "$HARNESS_TOP" && ./cellar -c "$conf" recover --tablespace "tbs1:$d2-t1" \
    --tablespace "tbs2:$d2-t2" --tablespace "tbs3:$d2-t3" main auto "$d2" </dev/null >&2)
batch_rc=$?
is "$wizard_rc" "$batch_rc" "recover --wizard exits with the status of the batch recover that fails alike"
if [ -n "$wizard_rc" ] && [ "$wizard_rc" -ne 0 ]; then pass "which is not 0"; else fail "which is not 0"; fi
like "$wizard_out" "ERROR: the recovery failed: the destination '?$d2'? is not empty" \
    "and it prints that the recovery failed, and why"

# the wizard closed at once: nothing ran, exit 0
console_start 80x24 "./cellar -c $(printf %q "$conf") recover --wizard main"
wait_screen "Which server's backups" >/dev/null
keys Escape
ok "closing the wizard without a recovery exits 0" wait_screen "console-exited=0"
