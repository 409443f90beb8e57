#!/bin/bash
# tests/integration/t_s3_faults.sh - the S3 client's retries and fault
# handling (src/core/cloud/s3_*) against a real OpenStack Swift with s3api
# on 127.0.0.1 (TAP). Nothing here is a fake server, and nothing asserts on
# timing: every fault is made by the store or the network at a known point,
# and the checks are on outcomes (exit status, message, the object's bytes,
# how many objects) and on the logs of the proxy and the relay.
#
# - 5xx: only Swift's object server is stopped; the proxy stays up and
#   answers 503. A PUT started then is retried until the object server is
#   back (restarted once the proxy has logged a 503 for that key), and the
#   object is whole and there once. With the object server kept down, the
#   retries run out: a clear error, exit 1, and exactly 1 + retries
#   requests in the proxy's log.
# - 503 SlowDown: Swift's ratelimit middleware (swift_ratelimit) refuses
#   every object write; s3api answers 503 SlowDown, which is retried and,
#   kept up, ends in a clear error; once the limit is lifted (after a logged
#   SlowDown) a PUT that was being retried succeeds.
# - Dropped connections: tests/tools/tcp_relay.py sits between s3tool and
#   the proxy and cuts a chosen connection after N bytes in one direction.
#   A GET cut mid-body resumes with a Range (206 in the proxy's log) and the
#   bytes are identical; if the object changes between the cut and the
#   resumption (the relay holds the retry until the test has overwritten
#   it), If-Match makes the read fail instead of mixing two objects. A PUT
#   cut mid-body, a multipart part cut mid-body and a completion whose reply
#   is cut are retried, and the stored object is complete, identical and
#   listed once. A part cut on every attempt fails the upload, which is
#   aborted: no object, no upload left in progress, no later part sent.
# - A 403 (wrong secret) is not retried: one request in the proxy's log.
#
# Run: make build/tests/s3tool && tests/run.sh tests/integration/t_s3_faults.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1

tool=$HARNESS_TOP/build/tests/s3tool
[ -x "$tool" ] || tap_bail "$tool is missing: make build/tests/s3tool"
tap_plan 66

swift_start || tap_bail "cannot start Swift"
export S3_ENDPOINT=$S3_ENDPOINT_URL S3_BUCKET=faults S3_REGION=us-east-1
export S3_ACCESS_KEY=$AWS_ACCESS_KEY_ID S3_SECRET_KEY=$AWS_SECRET_ACCESS_KEY
proxy_log=$SWIFT_DIR/log/proxy.log
s3() { "$tool" "$@"; }
same() { s3 get "$1" >"$T/got" && cmp "$T/got" "$2" >&2; }
md5_of() { md5sum "$1" | cut -d' ' -f1; }
# logged METHOD PATH STATUS - how many requests the proxy logged with them
logged() { grep -cF " $1 /faults/$2 HTTP/1.0 $3 " "$proxy_log"; }

# via_relay CMD... - s3tool through the relay
via_relay() { S3_ENDPOINT=$RELAY_EP "$tool" "$@"; }
cuts() { grep -c ' cut ' "$RELAY_LOG"; }

s3 mkbucket || tap_bail "cannot create the bucket"
head -c $((8 << 20)) /dev/urandom >"$T/8m"
head -c $((8 << 20)) /dev/urandom >"$T/8m-other"
head -c $((12 << 20)) /dev/urandom >"$T/12m"

# ---- 503 from the proxy: the object server stopped -------------------------------
s3 put there "$T/8m" || tap_bail "cannot PUT"
ok "only the object server stops" swift_stop_store object
S3_RETRIES=30 S3_RETRY_MS=200 s3 put during "$T/8m" 2>"$T/during.err" &
put=$!
ok "  a PUT started then meets a 503 (the proxy's log)" \
    wait_for 60 grep -qF " PUT /faults/during HTTP/1.0 503 " "$proxy_log"
ok "the object server starts again" swift_start_store object
wait "$put"
is "$?" 0 "  the PUT, retried, succeeds"
ok "  the object reads back identical" same during "$T/8m"
is "$(s3 list during | cut -f1)" "during" "  and is listed once"
is "$(s3 head during)" "8388608 \"$(md5_of "$T/8m")\"" "  HEAD: its size and MD5"

ok "the object server stops again" swift_stop_store object
err=$(S3_RETRIES=2 S3_RETRY_MS=1 s3 put gaveup "$T/8m" 2>&1 >/dev/null)
is "$?" 1 "a PUT whose retries run out fails"
is "$err" "s3tool: CLOUD: S3 PUT 'gaveup': 503 ServiceUnavailable: Please reduce your request rate." \
    "  with the store's reason"
is "$(logged PUT gaveup 503)" 3 "  after the first request and 2 retries"
err=$(S3_RETRIES=1 S3_RETRY_MS=1 s3 get there 2>&1 >/dev/null)
like "$err" "^s3tool: CLOUD: S3 GET 'there': 503 ServiceUnavailable" "a GET fails the same way"
is "$(logged GET there 503)" 2 "  after 1 retry"
ok "the object server starts" swift_start_store object
is "$(s3 head gaveup)" "missing" "  the failed PUT made no object"

# ---- 503 SlowDown: Swift's ratelimit ----------------------------------------------
ok "the ratelimit middleware refuses every object write" swift_ratelimit on
err=$(S3_RETRIES=2 S3_RETRY_MS=1 s3 put slow "$T/8m" 2>&1 >/dev/null)
is "$?" 1 "a PUT refused with SlowDown until its retries run out fails"
is "$err" "s3tool: CLOUD: S3 PUT 'slow': 503 SlowDown: Please reduce your request rate." \
    "  with SlowDown as the reason"
is "$(logged PUT slow 503)" 3 "  after the first request and 2 retries"
S3_RETRIES=30 S3_RETRY_MS=200 s3 put slow "$T/8m" 2>"$T/slow.err" &
put=$!
slowdown_seen() { [ "$(logged PUT slow 503)" -ge 4 ]; }
ok "  a PUT retried while SlowDown lasts (the proxy's log)" wait_for 60 slowdown_seen
ok "the limit is lifted after a SlowDown was logged" swift_ratelimit off
wait "$put"
is "$?" 0 "  the PUT, retried, succeeds"
ok "  the object reads back identical" same slow "$T/8m"

# ---- connections cut by the relay ------------------------------------------------
s3 put g "$T/8m" || tap_bail "cannot PUT"
relay_start --cut 'down:3000000:GET /faults/g ' ||
    tap_bail "cannot start the relay"
via_relay get g >"$T/got"
is "$?" 0 "a GET cut after 3,000,000 bytes of its reply succeeds"
ok "  the bytes are identical" cmp "$T/got" "$T/8m"
is "$(grep ' cut ' "$RELAY_LOG")" "conn 1 cut down after 3000000 bytes of 'GET /faults/g '" \
    "  the relay cut that connection, once"
is "$(logged GET g 206)" 1 "  the rest was read with a Range (206)"
relay_stop

s3 put gc "$T/8m" || tap_bail "cannot PUT"
relay_start --hold-after-cut "$T/release" --cut 'down:3000000:GET /faults/gc ' ||
    tap_bail "cannot start the relay"
via_relay get gc >"$T/got" 2>"$T/gc.err" &
get=$!
ok "a GET is cut mid-body" wait_for 60 grep -q ' cut down ' "$RELAY_LOG"
ok "  the object is replaced before the read resumes" s3 put gc "$T/8m-other"
touch "$T/release"
wait "$get"
is "$?" 1 "  the resumed read fails"
is "$(cat "$T/gc.err")" "s3tool: CONFLICT: S3 GET 'gc': the object changed while it was read" \
    "  the object changed (If-Match on the first reply's ETag)"
is "$(logged GET gc 412)" 1 "  the store refused the resumption: 412"
relay_stop

relay_start --cut 'up:4000000:PUT /faults/p ' ||
    tap_bail "cannot start the relay"
ok "a PUT cut after 4,000,000 bytes of its request succeeds" via_relay put p "$T/8m"
is "$(cuts)" 1 "  the relay cut one connection"
is "$(grep -F ' PUT /faults/p HTTP/1.0 ' "$proxy_log" | grep -vcF ' HTTP/1.0 200 ')" 1 \
    "  the store saw the cut request and stored nothing of it"
is "$(logged PUT p 200)" 1 "  the retry stored the object"
ok "  the object reads back identical" same p "$T/8m"
is "$(s3 list p | cut -f2)" 8388608 "  listed once, complete: no truncated object"
relay_stop

relay_start --cut 'up:2000000:PUT /faults/mp?partNumber=2&' ||
    tap_bail "cannot start the relay"
is "$(via_relay upload mp $((5 << 20)) 1 <"$T/12m")" "12582912 3" \
    "a multipart upload whose part 2 is cut mid-body succeeds"
is "$(grep ' cut ' "$RELAY_LOG" | sed 's/^conn [0-9]* //')" \
    "cut up after 2000000 bytes of 'PUT /faults/mp?partNumber=2&'" "  the relay cut part 2, once"
ok "  the object reads back identical" same mp "$T/12m"
is "$(s3 list mp | cut -f2)" 12582912 "  listed once, complete"
relay_stop

relay_start --cut 'down:0:POST /faults/mc?uploadId=' ||
    tap_bail "cannot start the relay"
is "$(via_relay upload mc $((5 << 20)) 1 <"$T/12m")" "12582912 3" \
    "a multipart upload whose completion reply is cut succeeds"
is "$(grep ' cut ' "$RELAY_LOG" | sed 's/^conn [0-9]* //')" \
    "cut down after 0 bytes of 'POST /faults/mc?uploadId='" "  the relay cut the completion"
ok "  the object reads back identical" same mc "$T/12m"
is "$(s3 list mc | cut -f2)" 12582912 "  listed once, complete"
like "$(s3 head mc)" '^12582912 "[0-9a-f]{32}-3"$' "  one multipart object of 3 parts"
relay_stop

relay_start --cut 'up:1000000x2:PUT /faults/ma?partNumber=2&' ||
    tap_bail "cannot start the relay"
err=$(S3_RETRIES=1 S3_RETRY_MS=1 via_relay upload ma $((5 << 20)) 1 <"$T/12m" 2>&1 >/dev/null)
is "$?" 1 "a multipart upload whose part 2 is cut on every attempt fails"
like "$err" "^s3tool: IO: S3 PUT 'ma': cannot reach the store at '$RELAY_EP/faults': " \
    "  saying the store could not be reached"
is "$(cuts)" 2 "  the relay cut part 2 twice (the request and its retry)"
is "$(grep -cF ' PUT /faults/ma%3FpartNumber%3D2%26' "$proxy_log")" 2 "  part 2 reached the store twice"
is "$(grep -cF ' PUT /faults/ma%3FpartNumber%3D3%26' "$proxy_log")" 0 "  part 3 was never sent"
is "$(grep -cE ' DELETE /faults/ma%3FuploadId%3D[^ ]* HTTP/1.0 204 ' "$proxy_log")" 1 \
    "  the upload was aborted"
is "$(s3 head ma)" "missing" "  no object"
is "$(swift_s3py "print(len(s3.list_multipart_uploads(Bucket='faults').get('Uploads', [])))")" 0 \
    "  and no upload left in progress"
relay_stop
err=$(S3_ENDPOINT=$RELAY_EP s3 head there 2>&1 >/dev/null)
is "$err" "s3tool: IO: S3 HEAD 'there': cannot reach the store at '$RELAY_EP/faults': \
Couldn't connect to server" "nothing listening (the relay gone): a clear error"

# ---- requests as the store checks them ------------------------------------------------
printf 'x' >"$T/x"
odd=("a&b" "c<d>e" "f'g\"h")
for k in "${odd[@]}"; do s3 put "del/$k" "$T/x" || tap_bail "cannot PUT"; done
ok "DeleteObjects of keys XML must escape, and of a key not there" \
    s3 delete-many "del/${odd[0]}" "del/${odd[1]}" "del/${odd[2]}" del/none
is "$(s3 list del/)" "" "  all are gone"
is "$(grep -cF ' POST /faults/%3Fdelete' "$proxy_log")" 1 "  in one request (Content-MD5 accepted)"
ok "a session token is sent and signed (the store checks the signature over it)" \
    env S3_SESSION_TOKEN='T0KEN/+=' "$tool" put tok "$T/x"
S3_VHOST=1 S3_ENDPOINT="http://localhost:$SWIFT_PROXY_PORT" s3 get there >"$T/got"
is "$?" 0 "virtual-hosted addressing: the bucket in the host name"
ok "  reads back identical" cmp "$T/got" "$T/8m"
is "$(grep -c ' GET /there HTTP/1.0 200 ' "$proxy_log")" 1 "  the path held only the key"

# ---- 403 --------------------------------------------------------------------------
secret="wr0ng-s3cret-value"
err=$(S3_SECRET_KEY=$secret s3 head there 2>&1 >/dev/null)
is "$?" 1 "a wrong secret fails"
unlike "$err" "$secret" "  the secret is not in the error"
is "$(logged HEAD there 403)" 1 "  one request: a 403 is not retried"
