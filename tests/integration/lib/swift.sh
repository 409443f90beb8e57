# tests/integration/lib/swift.sh - a private OpenStack Swift with s3api on 127.0.0.1.
#
# Usage:
#     . tests/integration/lib/swift.sh      # common.sh sources it for every test
#     swift_start                           # build, start, wait; sets the variables below
#     swift_make_bucket cellar              # create a bucket (boto3, path-style)
#     barman-cloud-wal-archive --endpoint-url "$S3_ENDPOINT_URL" s3://cellar/pg main WAL
#     swift_stop_store                      # stop the servers, keep the objects
#     swift_start_store                     # start them again on the same ports
#     swift_stop_store object               # only the object server: the proxy answers 503
#     swift_start_store object              # ... and it is back
#     swift_ratelimit on|off                # refuse every object write with 503 SlowDown
#     swift_log_tail                        # last lines of each server's log, on stderr
#     swift_copy_prefix cellar pg/ pg2/     # server-side copies of every object under pg/
#     swift_stop                            # stop by PID, remove the temp dir
#
# swift_start makes a temp dir SWIFT_DIR (${TMPDIR:-/tmp}/cellar-swift.XXXXXX):
#     etc/       swift.conf (a random hash path prefix and suffix, one storage
#                policy), the four server configurations, the rings built with
#                swift-ring-builder (one device, one replica)
#     srv/d1/    the one storage device, owned by swift when we are root
#     log/       proxy.log, account.log, container.log, object.log
# and runs four servers on free ports of 127.0.0.1, each one process
# (workers = 0) started as a background job of this shell, as user swift when
# we are root (setpriv execs, so $! is the server itself). The machine's
# /etc/swift is never read or written: the servers are started through
# swift_server.py (next to this file), which points Swift at SWIFT_DIR/etc and
# sends Swift's log records to stderr (so to SWIFT_DIR/log) instead of syslog,
# and which provides the in-memory cache that tempauth needs, so no memcached
# is required.
#
# The proxy pipeline is catch_errors gatekeeper healthcheck proxy-logging
# cache listing_formats s3api tempauth copy slo dlo versioned_writes
# proxy-logging proxy-server: s3api in front of tempauth (user test:tester,
# key testing, .admin), slo for multipart uploads, accounts created on first
# use; s3api also takes virtual-hosted requests for BUCKET.localhost.
# swift_ratelimit on adds ratelimit after tempauth. When a chosen port turns out to be taken, everything is rebuilt on
# other ports (a few attempts).
#
# Variables set by swift_start (the AWS ones are exported, so boto3,
# barman-cloud and cellar find them):
#     S3_ENDPOINT_URL        http://127.0.0.1:PORT (the proxy)
#     AWS_ACCESS_KEY_ID      test:tester
#     AWS_SECRET_ACCESS_KEY  testing
#     AWS_DEFAULT_REGION     us-east-1
#     SWIFT_DIR              the temp dir
#     SWIFT_PROXY_PORT, SWIFT_ACCOUNT_PORT, SWIFT_CONTAINER_PORT, SWIFT_OBJECT_PORT
#     SWIFT_PROXY_PID, SWIFT_ACCOUNT_PID, SWIFT_CONTAINER_PID, SWIFT_OBJECT_PID
#                            ("" while stopped)
#
# Environment read:
#     SWIFT_PYTHON           the Python with Debian's swift and boto3 modules
#                            (default /usr/bin/python3: a python3 earlier in
#                            PATH may be another installation)
#     SWIFT_START_TIMEOUT    seconds to wait for the servers (default 60)
#     TMPDIR                 where the temp dir goes (default /tmp)
#
# Functions print errors on stderr and return non-zero; they never exit.
# harness_init (common.sh) calls swift_stop from its EXIT trap, so no server
# outlives a test. Call swift_start from the main shell, not from $(...).

# shellcheck shell=bash

SWIFT_PYTHON=${SWIFT_PYTHON:-/usr/bin/python3}
SWIFT_DIR=""
_SWIFT_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_SWIFT_SERVERS=(account container object proxy) # start order: backends first

# _swift_err MSG... - print an error on stderr; always returns 1.
_swift_err() {
    printf 'swift.sh: %s\n' "$*" >&2
    return 1
}

# _swift_get SERVER FIELD / _swift_set SERVER FIELD VALUE - SWIFT_<SERVER>_<FIELD>.
_swift_get() {
    local var="SWIFT_${1^^}_$2"
    printf '%s' "${!var:-}"
}
_swift_set() {
    printf -v "SWIFT_${1^^}_$2" '%s' "$3"
}

# _swift_alive PID - true when PID is a live, non-zombie process.
_swift_alive() {
    local stat
    [ -n "$1" ] || return 1
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# _swift_port_in_use PORT - true when something accepts connections on it.
_swift_port_in_use() {
    (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _swift_pick_ports - set SWIFT_<SERVER>_PORT for every server to distinct
# ports nobody listens on, below the kernel's ephemeral range. Racy by
# nature: swift_start retries when a server cannot bind.
_swift_pick_ports() {
    local s p i used=" "
    for s in "${_SWIFT_SERVERS[@]}"; do
        for ((i = 0; i < 100; i++)); do
            p=$((15000 + RANDOM % 15000))
            [[ $used == *" $p "* ]] && continue
            _swift_port_in_use "$p" || break
        done
        [ "$i" -lt 100 ] || _swift_err "no free TCP port found" || return 1
        used+="$p "
        _swift_set "$s" PORT "$p"
    done
}

# _swift_user - the user the servers run as: swift when we are root (the
# Debian packages create it), ourselves otherwise.
_swift_user() {
    if [ "$(id -u)" -eq 0 ]; then
        printf 'swift\n'
    else
        id -un
    fi
}

# _swift_common_conf NAME PORT - the [DEFAULT] section every server shares.
# workers = 0 keeps each server in one process, whose PID we know.
_swift_common_conf() {
    cat <<EOF
# written by tests/integration/lib/swift.sh
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
user = $(_swift_user)
swift_dir = $SWIFT_DIR/etc
devices = $SWIFT_DIR/srv
mount_check = false
disable_fallocate = true
fallocate_reserve = 0
log_name = $1
log_level = INFO
EOF
}

# _swift_write_conf - swift.conf and the four server configurations.
_swift_write_conf() {
    local etc="$SWIFT_DIR/etc" s
    cat >"$etc/swift.conf" <<EOF || return 1
# written by tests/integration/lib/swift.sh
[swift-hash]
swift_hash_path_prefix = cellar-test-$RANDOM$RANDOM
swift_hash_path_suffix = cellar-test-$RANDOM$RANDOM

[storage-policy:0]
name = Policy-0
default = yes
EOF
    for s in account container object; do
        {
            _swift_common_conf "$s-server" "$(_swift_get "$s" PORT)"
            printf '\n[pipeline:main]\npipeline = %s-server\n' "$s"
            printf '\n[app:%s-server]\nuse = egg:swift#%s\n' "$s" "$s"
        } >"$etc/$s-server.conf" || return 1
    done
    {
        _swift_common_conf proxy-server "$SWIFT_PROXY_PORT"
        cat <<'EOF'

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
# Each ring has one device: a proxy that stopped asking it after a few
# errors (the default, for a minute) would answer 503 long after a server
# stopped by swift_stop_store is back, and a test could not say when the
# store is whole again.
error_suppression_limit = 1000000

# Off unless swift_ratelimit on puts it in the pipeline: every object PUT,
# POST and DELETE refused at once (498, which s3api answers as 503 SlowDown).
[filter:ratelimit]
use = egg:swift#ratelimit
container_ratelimit_0 = 1
max_sleep_time_seconds = 0

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

# in-memory stand-in for memcache (see swift_server.py)
[filter:cache]
use = call:swift_server:cache_filter_factory

[filter:listing_formats]
use = egg:swift#listing_formats

# storage_domain: virtual-hosted addressing too (BUCKET.localhost:PORT,
# which libcurl resolves to the loopback itself); 127.0.0.1 stays path-style
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
storage_domain = localhost

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
EOF
    } >"$etc/proxy-server.conf" || return 1
    chmod 0644 "$etc"/*.conf
}

# _swift_build_ring TYPE - build TYPE.ring.gz with swift-ring-builder: one
# device (d1), one replica, on the port chosen for the TYPE server. Output
# goes to log/ring-TYPE.log.
_swift_build_ring() {
    local etc="$SWIFT_DIR/etc" log="$SWIFT_DIR/log/ring-$1.log" rc
    swift-ring-builder "$etc/$1.builder" create 6 1 1 >"$log" 2>&1 &&
        swift-ring-builder "$etc/$1.builder" add \
            "r1z1-127.0.0.1:$(_swift_get "$1" PORT)/d1" 100 >>"$log" 2>&1 ||
        _swift_err "swift-ring-builder failed for the $1 ring (see $log)" || return 1
    swift-ring-builder "$etc/$1.builder" rebalance >>"$log" 2>&1
    rc=$?
    # 1 is a warning (e.g. about balance); 2 and above are errors
    [ "$rc" -le 1 ] && [ -f "$etc/$1.ring.gz" ] ||
        _swift_err "rebalancing the $1 ring failed (see $log)" || return 1
    chmod 0644 "$etc/$1.ring.gz"
}

# _swift_build_rings - the account, container and object rings, built at
# the same time (each swift-ring-builder run costs about a second of Python
# start-up, nine of them in a row were most of swift_start's time).
_swift_build_rings() {
    local s pids=() rc=0
    rm -f "$SWIFT_DIR"/etc/*.builder "$SWIFT_DIR"/etc/*.ring.gz
    rm -rf "$SWIFT_DIR/etc/backups"
    for s in account container object; do
        _swift_build_ring "$s" &
        pids+=("$!")
    done
    for s in "${pids[@]}"; do
        wait "$s" || rc=1
    done
    return "$rc"
}

# _swift_spawn SERVER - start one server in the background, stderr and stdout
# appended to its log; sets SWIFT_<SERVER>_PID.
_swift_spawn() {
    local s=$1 log="$SWIFT_DIR/log/$1.log"
    local argv=("$SWIFT_PYTHON" "$_SWIFT_LIB/swift_server.py" "$SWIFT_DIR/etc"
        "$SWIFT_DIR/etc/$s-server.conf" "$s-server")
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && PYTHONPATH=$_SWIFT_LIB exec setpriv --reuid=swift --regid=swift \
            --init-groups -- "${argv[@]}") </dev/null >>"$log" 2>&1 &
    else
        (cd / && PYTHONPATH=$_SWIFT_LIB exec "${argv[@]}") </dev/null >>"$log" 2>&1 &
    fi
    _swift_set "$s" PID "$!"
}

# _swift_healthy - true when the proxy answers its healthcheck.
_swift_healthy() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
        "http://127.0.0.1:$SWIFT_PROXY_PORT/healthcheck")" = 200 ]
}

# _swift_wait_ready SERVER... - wait until each server accepts connections
# (and the proxy passes its healthcheck). Returns 0 when all are ready, 2
# when one died (3 when it died because its port was taken), 1 on timeout.
_swift_wait_ready() {
    local deadline=$((SECONDS + ${SWIFT_START_TIMEOUT:-60})) s pid ready
    while :; do
        ready=1
        for s in "$@"; do
            pid=$(_swift_get "$s" PID)
            if ! _swift_alive "$pid"; then
                wait "$pid" 2>/dev/null
                _swift_set "$s" PID ""
                grep -q 'Address already in use' "$SWIFT_DIR/log/$s.log" && return 3
                _swift_err "the $s server exited during start-up"
                return 2
            fi
            _swift_port_in_use "$(_swift_get "$s" PORT)" || ready=0
        done
        if [ "$ready" -eq 1 ] && { [[ " $* " != *" proxy "* ]] || _swift_healthy; }; then
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            _swift_err "the servers were not ready after ${SWIFT_START_TIMEOUT:-60} s"
            return 1
        fi
        sleep 0.1
    done
}

# swift_log_tail - print the last lines of every server's log on stderr.
swift_log_tail() {
    local f
    [ -n "$SWIFT_DIR" ] || return 0
    for f in "$SWIFT_DIR"/log/*.log; do
        [ -s "$f" ] || continue
        printf 'swift.sh: last lines of %s:\n' "$f" >&2
        tail -n 20 "$f" | sed 's/^/    /' >&2
    done
}

# swift_procs - print the PIDs of the running servers started by this shell.
swift_procs() {
    local s pid
    for s in "${_SWIFT_SERVERS[@]}"; do
        pid=$(_swift_get "$s" PID)
        _swift_alive "$pid" && printf '%s\n' "$pid"
    done
    return 0
}

# swift_stop_store [SERVER...] - stop the servers (all by default; names are
# proxy, account, container, object) by PID: SIGTERM, then SIGKILL after
# 10 s. The objects, rings and ports are kept for swift_start_store.
swift_stop_store() {
    local s pid deadline pids=() servers=("$@")
    [ ${#servers[@]} -gt 0 ] || servers=("${_SWIFT_SERVERS[@]}")
    for s in "${servers[@]}"; do
        pid=$(_swift_get "$s" PID)
        if _swift_alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null
            pids+=("$pid")
        fi
    done
    deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
        while _swift_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.1
        done
        _swift_alive "$pid" && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for s in "${servers[@]}"; do
        pid=$(_swift_get "$s" PID)
        if [ -n "$pid" ] && _swift_alive "$pid"; then
            _swift_err "the $s server (PID $pid) would not stop"
            return 1
        fi
        _swift_set "$s" PID ""
    done
    return 0
}

# swift_start_store [SERVER...] - start the stopped servers again (all by
# default) on the ports they had, and wait until they answer. The ports are
# in the rings and in S3_ENDPOINT_URL, so this fails if another process took
# one meanwhile.
swift_start_store() {
    local s servers=("$@") started=()
    [ -n "$SWIFT_DIR" ] || _swift_err "swift_start_store: swift_start first" || return 1
    [ ${#servers[@]} -gt 0 ] || servers=("${_SWIFT_SERVERS[@]}")
    for s in "${servers[@]}"; do
        _swift_alive "$(_swift_get "$s" PID)" && continue
        _swift_spawn "$s"
        started+=("$s")
    done
    [ ${#started[@]} -gt 0 ] || return 0
    if ! _swift_wait_ready "${started[@]}"; then
        swift_log_tail
        return 1
    fi
}

# swift_ratelimit on|off - put Swift's ratelimit middleware in the proxy
# pipeline (after tempauth, where requests have their Swift paths) or take
# it out, and restart the proxy on its port. With it, every object PUT,
# POST and DELETE is refused at once: max_sleep_time_seconds = 0 lets no
# request wait for its turn, so the refusal does not depend on timing. The
# rate is counted in the cache swift_server.py provides.
swift_ratelimit() {
    local conf="$SWIFT_DIR/etc/proxy-server.conf" want
    [ -n "$SWIFT_DIR" ] || _swift_err "swift_ratelimit: swift_start first" || return 1
    case ${1:-} in
    on) want='s/ tempauth \(ratelimit \)\?/ tempauth ratelimit /' ;;
    off) want='s/ tempauth ratelimit / tempauth /' ;;
    *) _swift_err "usage: swift_ratelimit on|off" || return 1 ;;
    esac
    sed -i "/^pipeline = catch_errors/$want" "$conf" || return 1
    swift_stop_store proxy && swift_start_store proxy
}

# swift_start - see the top of this file.
swift_start() {
    local attempt rc s
    [ -z "$SWIFT_DIR" ] || _swift_err "swift is already started ($SWIFT_DIR)" || return 1
    command -v swift-ring-builder >/dev/null ||
        _swift_err "swift-ring-builder not found (make deps installs swift-proxy and friends)" ||
        return 1
    SWIFT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cellar-swift.XXXXXX") ||
        _swift_err "cannot create a temp dir under ${TMPDIR:-/tmp}" || return 1
    if ! { chmod 0755 "$SWIFT_DIR" && mkdir -p "$SWIFT_DIR/etc" "$SWIFT_DIR/log" \
        "$SWIFT_DIR/srv/d1"; }; then
        swift_stop
        return 1
    fi
    if [ "$(id -u)" -eq 0 ] && ! chown -R swift:swift "$SWIFT_DIR/srv"; then
        swift_stop
        return 1
    fi
    for attempt in 1 2 3 4 5; do
        if ! { _swift_pick_ports && _swift_write_conf && _swift_build_rings; }; then
            swift_stop
            return 1
        fi
        for s in "${_SWIFT_SERVERS[@]}"; do
            _swift_spawn "$s"
        done
        _swift_wait_ready "${_SWIFT_SERVERS[@]}"
        rc=$?
        [ "$rc" -eq 0 ] && break
        swift_stop_store "${_SWIFT_SERVERS[@]}"
        if [ "$rc" -ne 3 ]; then
            swift_log_tail
            swift_stop
            return 1
        fi
        printf 'swift.sh: a port was taken, trying other ports (attempt %s)\n' "$attempt" >&2
        for s in "${_SWIFT_SERVERS[@]}"; do
            : >"$SWIFT_DIR/log/$s.log"
        done
    done
    if [ "$rc" -ne 0 ]; then
        _swift_err "no usable ports after $attempt attempts"
        swift_stop
        return 1
    fi
    export S3_ENDPOINT_URL="http://127.0.0.1:$SWIFT_PROXY_PORT"
    export AWS_ACCESS_KEY_ID=test:tester
    export AWS_SECRET_ACCESS_KEY=testing
    export AWS_DEFAULT_REGION=us-east-1
    return 0
}

# swift_make_bucket NAME - create bucket NAME through s3api (boto3, path-style).
swift_make_bucket() {
    [ -n "${1:-}" ] || _swift_err "usage: swift_make_bucket NAME" || return 1
    [ -n "${S3_ENDPOINT_URL:-}" ] || _swift_err "swift_make_bucket: swift_start first" || return 1
    swift_s3py "
import sys
s3.create_bucket(Bucket=sys.argv[1])
" "$1"
}

# swift_s3py CODE [ARG...] - run Python CODE with SWIFT_PYTHON, with `s3`
# bound to a boto3 client for the store (path-style, us-east-1) and ARGs in
# sys.argv[1:]. For tests that need an S3 call the tools do not make.
swift_s3py() {
    local code=${1:-}
    shift
    "$SWIFT_PYTHON" -c "
import os, boto3, botocore.config
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT_URL'],
                  config=botocore.config.Config(s3={'addressing_style': 'path'}))
$code" "$@"
}

# swift_copy_prefix BUCKET FROM TO - copy every object under FROM to the
# same key with FROM replaced by TO (server-side copies): an identical set
# of objects for a tool to work on beside the original.
swift_copy_prefix() {
    swift_s3py "
import sys
b, f, t = sys.argv[1:4]
for page in s3.get_paginator('list_objects_v2').paginate(Bucket=b, Prefix=f):
    for o in page.get('Contents', []):
        s3.copy_object(Bucket=b, Key=t + o['Key'][len(f):], CopySource={'Bucket': b, 'Key': o['Key']})
" "$1" "$2" "$3"
}

# swift_stop - stop every server by PID and remove SWIFT_DIR. Safe to call
# when nothing runs. Returns non-zero if a server would not stop.
swift_stop() {
    local rc=0
    swift_stop_store "${_SWIFT_SERVERS[@]}" || rc=1
    if [ -n "$SWIFT_DIR" ] && [ -d "$SWIFT_DIR" ]; then
        rm -rf "$SWIFT_DIR"
    fi
    SWIFT_DIR=""
    return "$rc"
}
