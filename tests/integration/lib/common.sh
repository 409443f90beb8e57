# tests/integration/lib/common.sh - setup shared by every integration test.
#
# Usage (at the top of tests/integration/t_*.sh):
#     #!/bin/bash
#     set -u
#     . "$(dirname "$0")/lib/tap.sh"
#     . "$(dirname "$0")/lib/common.sh"     # also sources pg.sh, sshd.sh, swift.sh, relay.sh
#     harness_init
#     tap_plan 5
#     pg_start main
#     cellar_config "$T/cellar.conf" main
#     "$CELLAR" -c "$T/cellar.conf" list-backup main
#
# harness_init sets
#     HARNESS_TOP  the project's top directory
#     CELLAR       $HARNESS_TOP/cellar (the binary under test)
#     T            a scratch dir for this test, ${TMPDIR:-/tmp}/cellar-test.XXXXXX,
#                  mode 0755 so that the postgres user can reach into it
# and installs an EXIT trap (plus INT/TERM/HUP traps that exit through it)
# which stops every PostgreSQL cluster, the sshd and the Swift started by this shell,
# removes their temp dirs and T, and then exits with tap_exit_status when
# tap.sh is loaded. A failing, bailing or interrupted test leaves nothing
# behind.
#
# Other helpers:
#     cellar_config FILE NAME...   Barman/cellar configuration for running clusters
#     wait_for SECONDS CMD [ARG...] poll CMD (every 0.1 s) until it succeeds
#     harness_at_exit CMD [ARG...] run CMD from the EXIT trap (last registered
#                                  first), before clusters stop and T goes:
#                                  e.g. unmount what the test mounted under T

# shellcheck shell=bash

# shellcheck source-path=SCRIPTDIR
_HARNESS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$_HARNESS_LIB/pg.sh"
. "$_HARNESS_LIB/sshd.sh"
. "$_HARNESS_LIB/swift.sh"
. "$_HARNESS_LIB/relay.sh"

# harness_init - find the project, make the scratch dir T, install the traps.
harness_init() {
    HARNESS_TOP=$(cd "$_HARNESS_LIB/../../.." && pwd)
    # shellcheck disable=SC2034 # for the tests that source this file
    CELLAR="$HARNESS_TOP/cellar"
    T=$(mktemp -d "${TMPDIR:-/tmp}/cellar-test.XXXXXX") || {
        printf 'common.sh: cannot create a scratch dir under %s\n' "${TMPDIR:-/tmp}" >&2
        return 1
    }
    chmod 0755 "$T"
    trap _harness_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

_HARNESS_AT_EXIT=() # commands for harness_cleanup, each one quoted (printf %q)

# harness_at_exit CMD [ARG...] - have harness_cleanup run CMD (no shell
# string: the words are kept as given). Commands run last registered first;
# their failure is reported on stderr and does not stop the cleanup.
harness_at_exit() {
    [ $# -ge 1 ] || { printf 'usage: harness_at_exit CMD [ARG...]\n' >&2; return 1; }
    _HARNESS_AT_EXIT+=("$(printf '%q ' "$@")")
}

# harness_cleanup - run the harness_at_exit commands, stop clusters, sshd, the relay and Swift,
# remove their temp dirs and T.
harness_cleanup() {
    local i
    for ((i = ${#_HARNESS_AT_EXIT[@]} - 1; i >= 0; i--)); do
        eval "${_HARNESS_AT_EXIT[i]}" >&2 ||
            printf 'common.sh: cleanup command failed: %s\n' "${_HARNESS_AT_EXIT[i]}" >&2
    done
    _HARNESS_AT_EXIT=()
    pg_cleanup_all
    sshd_stop
    relay_stop
    # a failing test shows what Swift logged before its temp dir goes
    [ "${_TAP_FAILED:-0}" -gt 0 ] && swift_log_tail
    swift_stop
    if [ -n "${T:-}" ] && [ -d "$T" ]; then
        rm -rf "$T"
    fi
}

# _harness_exit - the EXIT trap: clean up, then pick the exit status.
_harness_exit() {
    local rc=$?
    trap "" INT TERM HUP # let a second Ctrl-C not cut the cleanup short
    harness_cleanup
    if declare -F tap_exit_status >/dev/null; then
        tap_exit_status "$rc"
        rc=$?
    fi
    exit "$rc"
}

# wait_for SECONDS CMD [ARG...] - run CMD every 0.1 s until it exits 0
# (returns 0) or SECONDS have passed (returns 1). CMD's output is discarded.
wait_for() {
    local deadline=$((SECONDS + ${1:-0}))
    [ $# -ge 2 ] || { printf 'usage: wait_for SECONDS CMD [ARG...]\n' >&2; return 1; }
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
    return 0
}

# cellar_config FILE NAME... - write a cellar/Barman configuration for the
# running clusters NAME...: a [barman] section (barman_home $T/home,
# barman_user = whoever runs the test, log_file $T/cellar.log, path_prefix =
# PG_BINDIR so both tools find the PostgreSQL 15 client programs) and one
# section per cluster, named like the cluster, using the postgres backup
# method and the archive_command archiver. Needs harness_init first.
cellar_config() {
    local file=${1:-} name conninfo
    if [ -z "$file" ] || [ $# -lt 2 ]; then
        printf 'usage: cellar_config FILE NAME...\n' >&2
        return 1
    fi
    shift
    for name in "$@"; do
        [ -n "$(_pg_get "$name" PORT)" ] ||
            { printf 'cellar_config: cluster %s is not running\n' "$name" >&2; return 1; }
    done
    {
        printf '# written by tests/integration/lib/common.sh (cellar_config)\n'
        printf '[barman]\n'
        printf 'barman_home = %s\n' "$T/home"
        printf 'barman_user = %s\n' "$(id -un)"
        printf 'log_file = %s\n' "$T/cellar.log"
        printf 'path_prefix = %s\n' "$PG_BINDIR"
        for name in "$@"; do
            conninfo=$(_pg_get "$name" CONNINFO)
            printf '\n[%s]\n' "$name"
            printf 'description = "test cluster %s"\n' "$name"
            printf 'conninfo = %s\n' "$conninfo"
            printf 'streaming_conninfo = %s\n' "$conninfo"
            printf 'backup_method = postgres\n'
            printf 'archiver = on\n'
        done
    } >"$file"
}
