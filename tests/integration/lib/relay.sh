# tests/integration/lib/relay.sh - start and stop tests/tools/tcp_relay.py
# (a TCP relay that cuts chosen connections) in front of the Swift proxy.
#
# Usage (after swift_start; common.sh sources this file):
#     relay_start [--hold-after-cut FILE] [--cut RULE]...
#     S3_ENDPOINT=$RELAY_EP build/tests/s3tool get KEY    # through the relay
#     grep ' cut ' "$RELAY_LOG"                           # what it cut
#     relay_stop
#
# relay_start runs the relay in the background (one at a time), waits for
# the port it listens on and sets RELAY_EP (http://127.0.0.1:PORT),
# RELAY_LOG (its log of connections and cuts) and RELAY_PID. The options
# are tcp_relay.py's; see the top of that file. relay_stop kills it by its
# PID; harness_init's EXIT trap calls it, so no relay outlives a test.
# Functions return non-zero on failure and never exit.

# shellcheck shell=bash

RELAY_PID=""
RELAY_EP=""
RELAY_LOG=""
_RELAY_N=0
_RELAY_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tools" && pwd)/tcp_relay.py

relay_start() {
    local port_file
    [ -n "${SWIFT_PROXY_PORT:-}" ] || { echo "relay.sh: swift_start first" >&2; return 1; }
    relay_stop
    _RELAY_N=$((_RELAY_N + 1))
    RELAY_LOG=$T/relay$_RELAY_N.log
    port_file=$T/relay$_RELAY_N.port
    "$SWIFT_PYTHON" "$_RELAY_PY" --target "127.0.0.1:$SWIFT_PROXY_PORT" \
        --port-file "$port_file" --log "$RELAY_LOG" "$@" 2>>"$T/relay.err" &
    RELAY_PID=$!
    if ! wait_for 30 test -s "$port_file"; then
        echo "relay.sh: the relay did not start (see $T/relay.err)" >&2
        relay_stop
        return 1
    fi
    # shellcheck disable=SC2034 # for the tests that source this file
    RELAY_EP=http://127.0.0.1:$(cat "$port_file")
}

relay_stop() {
    [ -n "$RELAY_PID" ] || return 0
    kill "$RELAY_PID" 2>/dev/null
    wait "$RELAY_PID" 2>/dev/null
    RELAY_PID=""
}
