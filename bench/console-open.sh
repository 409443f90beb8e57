#!/bin/bash
# bench/console-open.sh - how long the console takes to open on a large
# catalogue (issue 7: 10,000 backups and an xlog.db of 1,000,000 lines must
# open in under a second).
#
# It builds the synthetic Barman home of bench/lib/synthetic.sh, starts
# `cellar` (the console) in a detached tmux window of 120x40, and polls the
# screen every 20 ms until the backups pane shows the newest backup's ID:
# the time from the start of the process to that screen is what a DBA
# waits. For reference it also times `cellar list-backup` (the op the
# console's backups pane runs) and prints the lines of both. No peer has a
# console, so there is no ratio; the goal line says whether it is met.
#
#   bench/console-open.sh [BACKUPS [SEGMENTS [RUNS]]]   defaults: 10000 1000000 3
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
CELLAR=$top/cellar
BACKUPS=${1:-10000}
SEGMENTS=${2:-1000000}
RUNS=${3:-3}
command -v tmux >/dev/null || { echo "tmux is not installed (make deps)" >&2; exit 1; }
[ -x "$CELLAR" ] || { echo "build cellar first (make)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cellar-bench-XXXXXX")
session=cellar-bench-$$
# stop the console and wait until its process has gone: killing the tmux
# session returns at once, and a console still exiting would write into
# $work (its log, its locks) after the rm below removed it
stop_console() {
    local pid
    pid=$(tmux list-panes -t "$session" -F '#{pane_pid}' 2>/dev/null | head -n1)
    tmux kill-session -t "$session" 2>/dev/null || true
    [ -n "$pid" ] || return 0
    for _ in $(seq 500); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.02
    done
    kill -KILL "$pid" 2>/dev/null || true
}
trap 'stop_console; rm -rf "$work"' EXIT
# shellcheck source=bench/lib/synthetic.sh
. "$top/bench/lib/synthetic.sh"
echo "building $BACKUPS backups and $SEGMENTS WAL segments..." >&2
synthetic_home "$work" "$BACKUPS" "$SEGMENTS"
newest=$(ls "$work/home/bench/base" | tail -1)

# seconds from the start of the console to the newest backup on its screen
open_time() {
    local start end
    stop_console
    start=$(date +%s%N)
    tmux new-session -d -s "$session" -x 120 -y 40 "LANG=C.UTF-8 $CELLAR -c $work/bench.conf"
    until tmux capture-pane -p -t "$session" 2>/dev/null | grep -q "$newest"; do
        [ $(($(date +%s%N) - start)) -lt 60000000000 ] || { echo "the console did not show $newest within 60 s" >&2; exit 1; }
        sleep 0.02
    done
    end=$(date +%s%N)
    stop_console
    echo $(((end - start) / 1000))
}
list_time() {
    local start end
    start=$(date +%s%N)
    "$CELLAR" -c "$work/bench.conf" list-backup bench >/dev/null
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
}
median() { sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1e6}'; }

o=$(for ((i = 0; i < RUNS; i++)); do open_time; done | median)
l=$(for ((i = 0; i < RUNS; i++)); do list_time; done | median)
printf '%s backups, %s WAL segments in xlog.db (%s MiB), median of %s runs\n' "$BACKUPS" "$SEGMENTS" \
    "$(($(stat -c %s "$work/home/bench/wals/xlog.db") / 1048576))" "$RUNS"
printf '%-44s %9ss\n' "console: start to the newest backup on screen" "$o" "list-backup bench" "$l"
printf 'goal: the console opens in under a second: %s\n' "$(awk -v o="$o" 'BEGIN {print (o < 1) ? "yes" : "no"}')"
