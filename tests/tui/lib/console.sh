# tests/tui/lib/console.sh - the console driven through tmux, for tests/tui/t_*.sh.
#
# Usage (after tests/integration/lib/tap.sh, common.sh and harness_init):
#     . "$(dirname "$0")/lib/console.sh"
#     console_start 100x30 "./cellar -c $conf"    # in a fresh tmux session
#     wait_screen "Backups of main"               # poll until it shows
#     keys Tab Enter                              # tmux send-keys
#     is "$(screen_row "$id")" ...                # the screen line naming $id
#
#   console_start WxH CMD   run the shell command line CMD in the project's
#                           top directory, in a detached tmux session
#                           "console" of W columns and H lines on a private
#                           tmux server (killed at exit), with a UTF-8
#                           locale and TERM=screen-256color; when CMD ends,
#                           "console-exited=STATUS" shows on the screen
#   console_resize WxH      resize the window (the console gets SIGWINCH)
#   keys KEY...             send keys (tmux key names: Tab, Enter, Escape, Down)
#   screen                  the screen as text (capture-pane)
#   screen_row TEXT         the first screen line containing TEXT
#   wait_screen TEXT [S]    poll the screen every 0.1 s until TEXT shows
#                           (S seconds, default 10); on timeout the screen
#                           goes to the test log
#   wait_screen_gone TEXT [S]  until TEXT no longer shows
#   frames_whole [N]        every line that starts a frame (┌│└) ends one
#                           (┐│┘), and at least N lines (default 3) hold top
#                           borders reaching both edges
#
# Never a fixed sleep: every wait polls the screen for what should appear.

# shellcheck shell=bash

# the screen is UTF-8 (frames): grep, wc -L and ${row:i:n} count characters
export LC_ALL=C.UTF-8
_TUI_SOCK=cellar-tui-$$
tm() { tmux -L "$_TUI_SOCK" "$@"; }

console_start() {
    local size=$1 cmd=$2
    tm kill-session -t console 2>/dev/null
    if [ -z "${_TUI_CLEANUP:-}" ]; then
        harness_at_exit tmux -L "$_TUI_SOCK" kill-server
        _TUI_CLEANUP=1
    fi
    tm new-session -d -s console -x "${size%x*}" -y "${size#*x}" \
        "cd $(printf %q "$HARNESS_TOP") && LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color $cmd; echo console-exited=\$?; sleep 600"
}

console_resize() { tm resize-window -t console -x "${1%x*}" -y "${1#*x}"; }
keys() { tm send-keys -t console "$@"; }
screen() { tm capture-pane -p -t console 2>/dev/null; }
screen_row() { screen | grep -F -m1 -- "$1"; }

# _wait_screen_grep GREP-FLAG PATTERN [SECONDS] - poll the screen until grep
# finds PATTERN (fixed string -F, or extended regex -E); the screen on failure
_wait_screen_grep() {
    local end=$((SECONDS + ${3:-10}))
    while [ "$SECONDS" -lt "$end" ]; do
        screen | grep -q "$1" -- "$2" && return 0
        sleep 0.1
    done
    diag "screen while waiting for '$2':"
    screen | sed 's/^/    /' >&2
    return 1
}

wait_screen() { _wait_screen_grep -F "$@"; }

# wait_screen_re REGEX [SECONDS] - as wait_screen, for an extended regex
wait_screen_re() { _wait_screen_grep -E "$@"; }

wait_screen_gone() {
    local end=$((SECONDS + ${2:-10}))
    while [ "$SECONDS" -lt "$end" ]; do
        screen | grep -qF -- "$1" || return 0
        sleep 0.1
    done
    diag "screen while waiting for '$1' to go:"
    screen | sed 's/^/    /' >&2
    return 1
}

frames_whole() {
    local s bad
    s=$(screen)
    bad=$(printf '%s\n' "$s" | grep -E '^[┌│└]' | grep -vE '[┐│┘]$')
    [ -z "$bad" ] || { printf 'cut frame lines:\n%s\n' "$bad" >&2; return 1; }
    [ "$(printf '%s\n' "$s" | grep -cE '^┌.*┐$')" -ge "${1:-3}" ]
}
