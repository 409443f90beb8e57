# tests/integration/lib/tap.sh - a tiny TAP producer for bash tests.
#
# Usage (in a test script):
#     . "$(dirname "$0")/lib/tap.sh"
#     tap_plan 3
#     ok   "server answers"   pg_sql main "SELECT 1"    # ok if the command exits 0
#     is   "$got" "expected"  "value matches"          # exact string comparison
#     isnt "$rc" 0            "it failed"              # the strings differ
#     like "$got" '^[0-9]+$'  "looks like a number"    # bash ERE (=~)
#     unlike "$got" 'ERROR'   "no error"
#     pass "name" / fail "name"                        # unconditional results
#     skip "name" "why"                                # "ok N - name # SKIP why"
#     diag "text"                                      # "# text" on stderr
#     tap_bail "cannot go on"                          # "Bail out!" and exit 255
#
# Output is what tests/run.sh counts: "1..N" first, then one "ok N - name" or
# "not ok N - name" line per test on stdout. Diagnostics go to stderr as "# "
# lines, so they land in the test log in the order they happen. The commands
# given to `ok` have their stdout sent to stderr too: nothing a command prints
# can be mistaken for a test result.
#
# Every assertion returns 0 when it passes and 1 when it fails, so a test can
# write `ok "start" pg_start main || tap_bail "no cluster"`.
#
# Exit status: sourcing this file installs an EXIT trap (harness_init in
# common.sh replaces it with one that also cleans up and then calls
# tap_exit_status). The script then exits non-zero when any test failed or
# when the number of tests run differs from the plan, and with the script's
# own status otherwise.

# shellcheck shell=bash

_TAP_RUN=0     # tests run so far
_TAP_FAILED=0  # tests that failed
_TAP_PLANNED=  # the N of "1..N", empty until tap_plan

# A command the script runs that does not exist (an assertion helper
# nobody defined, a typo) fails the script: bash alone would print "command
# not found" and count nothing, so the check it stood for would pass
# unseen. Bash runs this handler in a subshell: the name goes to a file
# that tap_exit_status reads.
_TAP_UNKNOWN=${TMPDIR:-/tmp}/.tap-unknown-commands.$$
rm -f "$_TAP_UNKNOWN"
command_not_found_handle() {
    printf '%s\n' "$1" >>"$_TAP_UNKNOWN"
    printf '# command not found: %s\n' "$1" >&2
    return 127
}

# tap_plan N - announce how many tests this script runs.
tap_plan() {
    _TAP_PLANNED=$1
    printf '1..%s\n' "$1"
}

# _tap_result STATUS NAME - print one result line (STATUS 0 = ok) and count it.
_tap_result() {
    _TAP_RUN=$((_TAP_RUN + 1))
    if [ "$1" -eq 0 ]; then
        printf 'ok %d - %s\n' "$_TAP_RUN" "$2"
        return 0
    fi
    _TAP_FAILED=$((_TAP_FAILED + 1))
    printf 'not ok %d - %s\n' "$_TAP_RUN" "$2"
    diag "Failed test $_TAP_RUN: '$2'"
    return 1
}

# diag TEXT... - print TEXT on stderr, every line prefixed with "# ".
diag() {
    local line
    while IFS= read -r line; do
        printf '# %s\n' "$line" >&2
    done <<<"$*"
}

# ok NAME CMD [ARG...] - run CMD in this shell (so variables it sets stay
# set); the test passes when it exits 0. CMD's stdout goes to stderr.
ok() {
    local name=$1 rc
    shift
    "$@" >&2
    rc=$?
    [ "$rc" -eq 0 ] || diag "command exited with status $rc: $*"
    _tap_result "$rc" "$name"
}

# pass NAME / fail NAME - record a result decided by the caller.
pass() { _tap_result 0 "$1"; }
fail() { _tap_result 1 "$1"; }

# skip NAME WHY - a test that cannot run here: TAP counts it as run, and
# tests/run.sh lists it as skipped, never as passed,
# with TAP's "# SKIP" directive saying why, so the reason is in the output.
skip() { _tap_result 0 "$1 # SKIP $2"; }

# is GOT EXPECTED NAME - pass when the two strings are identical.
is() {
    if [ "$1" == "$2" ]; then
        _tap_result 0 "$3"
        return 0
    fi
    _tap_result 1 "$3"
    diag "     got: '$1'"
    diag "expected: '$2'"
    return 1
}

# isnt GOT UNEXPECTED NAME - pass when the two strings differ.
isnt() {
    if [ "$1" != "$2" ]; then
        _tap_result 0 "$3"
        return 0
    fi
    _tap_result 1 "$3"
    diag "     got: '$1' (which it should not be)"
    return 1
}

# like GOT REGEX NAME - pass when GOT matches the bash extended REGEX.
like() {
    if [[ $1 =~ $2 ]]; then
        _tap_result 0 "$3"
        return 0
    fi
    _tap_result 1 "$3"
    diag "                  '$1'"
    diag "  doesn't match   '$2'"
    return 1
}

# unlike GOT REGEX NAME - pass when GOT does not match REGEX.
unlike() {
    if ! [[ $1 =~ $2 ]]; then
        _tap_result 0 "$3"
        return 0
    fi
    _tap_result 1 "$3"
    diag "                  '$1'"
    diag "        matches   '$2'"
    return 1
}

# tap_bail MSG - stop the whole test script now ("Bail out!" is TAP's word for
# it). The EXIT trap still runs, so clusters and temp dirs are cleaned up.
tap_bail() {
    printf 'Bail out! %s\n' "$*"
    diag "bailing out: $*"
    exit 255
}

# tap_exit_status [RC] - the status the script should exit with: 1 when a test
# failed or the plan was not met, else RC (the script's own status, default 0).
# Called from the EXIT trap; prints a diagnostic explaining a non-zero result.
tap_exit_status() {
    local rc=${1:-0}
    if [ -s "$_TAP_UNKNOWN" ]; then
        diag "the script ran commands that do not exist: $(sort -u "$_TAP_UNKNOWN" | tr '\n' ' ')"
        rm -f "$_TAP_UNKNOWN"
        return 1
    fi
    rm -f "$_TAP_UNKNOWN"
    if [ "$_TAP_FAILED" -gt 0 ]; then
        diag "$_TAP_FAILED of $_TAP_RUN tests failed"
        return 1
    fi
    if [ -n "$_TAP_PLANNED" ] && [ "$_TAP_RUN" -ne "$_TAP_PLANNED" ]; then
        diag "planned $_TAP_PLANNED tests but ran $_TAP_RUN"
        [ "$rc" -ne 0 ] && return "$rc"
        return 1
    fi
    return "$rc"
}

# _tap_on_exit - EXIT trap used when common.sh's harness_init is not.
_tap_on_exit() {
    local rc=$?
    tap_exit_status "$rc"
    exit $?
}
trap _tap_on_exit EXIT
