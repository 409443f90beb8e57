#!/bin/bash
# tests/integration/t_s3_client.sh - cellar's S3 client (src/core/cloud/s3_*)
# against a real OpenStack Swift with s3api on 127.0.0.1 (TAP).
#
# Everything goes through build/tests/s3tool (tests/tools/s3tool.c), which
# is the client on the command line. Round trips must be byte-identical:
# a small object, an empty one, 16 MiB in one PUT (streamed from a file and
# from memory), 40 MiB as a multipart upload with parallel 5 MiB parts and
# with the default growing part size, and ranged GETs. Keys with spaces,
# non-ASCII letters, '+', '&', '=', '?', '#' and '%' go in the path and in
# the listing's prefix unharmed. A listing of 1,050 keys crosses pages (the
# store's 1,000, and max-keys 100) with every key once, in order; common
# prefixes come back with a delimiter. DeleteObjects (Swift checks its
# Content-MD5) removes them all, in two batches. A wrong secret gives a
# clear error that does not hold the secret. The store stopped in the middle
# of a multipart upload gives an error and leaves no object; the same upload
# after the restart succeeds; and a PUT sent while the store is down
# succeeds through the client's retries once the store is back. Each fault
# happens at a known point (the proxy's or the relay's log), never after a
# sleep. The faults one server, a rate limit or the network make are in
# t_s3_faults.sh.
#
# Run: make build/tests/s3tool && tests/run.sh tests/integration/t_s3_client.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1

tool=$HARNESS_TOP/build/tests/s3tool
[ -x "$tool" ] || tap_bail "$tool is missing: make build/tests/s3tool"
tap_plan 54

swift_start || tap_bail "cannot start Swift"
export S3_ENDPOINT=$S3_ENDPOINT_URL S3_BUCKET=client S3_REGION=us-east-1
export S3_ACCESS_KEY=$AWS_ACCESS_KEY_ID S3_SECRET_KEY=$AWS_SECRET_ACCESS_KEY
s3() { "$tool" "$@"; }
# same KEY FILE - the object reads back identical to FILE
same() { s3 get "$1" >"$T/got" && cmp "$T/got" "$2" >&2; }
md5_of() { md5sum "$1" | cut -d' ' -f1; }

ok "the client creates the bucket" s3 mkbucket
ok "creating it again is no error" s3 mkbucket

# ---- round trips ----------------------------------------------------------------
printf 'hello, store\n' >"$T/small"
: >"$T/empty"
head -c $((16 << 20)) /dev/urandom >"$T/16m"
head -c $((40 << 20)) /dev/urandom >"$T/40m"

ok "PUT of a small file" s3 put small "$T/small"
ok "  reads back identical" same small "$T/small"
ok "PUT of an empty file" s3 put empty "$T/empty"
ok "  reads back identical (0 bytes)" same empty "$T/empty"
is "$(s3 head empty)" "0 \"$(md5_of "$T/empty")\"" "  HEAD: size 0 and the MD5 ETag"
ok "PUT of 16 MiB streamed from the file, one request" s3 put m16 "$T/16m"
ok "  reads back identical" same m16 "$T/16m"
is "$(s3 head m16)" "16777216 \"$(md5_of "$T/16m")\"" "  HEAD: its size and MD5 (one PUT, not parts)"
ok "PUT of 16 MiB from memory" s3 putmem m16mem "$T/16m"
ok "  reads back identical" same m16mem "$T/16m"

is "$(s3 upload big $((5 << 20)) 4 <"$T/40m")" "41943040 8" \
    "40 MiB uploaded in 8 parts of 5 MiB, 4 at a time"
ok "  reads back identical" same big "$T/40m"
like "$(s3 head big)" '^41943040 "[0-9a-f]{32}-8"$' "  HEAD: the size and a multipart ETag of 8 parts"
is "$(s3 upload big16 <"$T/40m")" "41943040 3" \
    "40 MiB of unknown size: the default 16 MiB parts (16 + 16 + 8)"
ok "  reads back identical" same big16 "$T/40m"
is "$(s3 upload fits 0 4 <"$T/small")" "13 0" "a stream shorter than a part goes as one PUT"

s3 get big 1000 5000 >"$T/range"
tail -c +1001 "$T/40m" | head -c 5000 >"$T/range.want"
ok "a ranged GET gives exactly those bytes" cmp "$T/range" "$T/range.want"
s3 get big $(((40 << 20) - 7)) 100 >"$T/range"
tail -c 7 "$T/40m" >"$T/range.want"
ok "a range past the end stops at the end" cmp "$T/range" "$T/range.want"
s3 get big $((12 << 20)) 0 >"$T/range"
tail -c +$(((12 << 20) + 1)) "$T/40m" >"$T/range.want"
ok "a range from an offset to the end" cmp "$T/range" "$T/range.want"

# ---- keys that need encoding ----------------------------------------------------
keys=("odd/sp ace+plus&amp=eq?q#h%p.txt" "odd/ünïcödé/日本語" "odd/a+b" "odd/~tilde_-.")
for k in "${keys[@]}"; do
    printf '%s' "$k" >"$T/k"
    s3 put "$k" "$T/k" || tap_bail "cannot PUT '$k'"
done
listed=$(s3 list odd/ | cut -f1)
is "$listed" "$(printf '%s\n' "${keys[@]}" | LC_ALL=C sort)" \
    "keys with spaces, unicode, '+', '&', '=', '?', '#', '%' are listed exactly"
n=0
for k in "${keys[@]}"; do
    [ "$(s3 get "$k")" = "$k" ] && n=$((n + 1))
done
is "$n" "${#keys[@]}" "  and each reads back under its own key"
is "$(s3 list "odd/sp ace+" | cut -f1)" "${keys[0]}" "a prefix with a space and '+' selects its key"

# ---- listing across pages ----------------------------------------------------
ok "1,050 objects under r/" s3 fill r/ 1050
s3 list r/ >"$T/list1000"
is "$(wc -l <"$T/list1000")" 1050 "listed with the store's pages of 1,000: every key"
is "$(cut -f1 "$T/list1000" | LC_ALL=C sort -u | wc -l)" 1050 "  each once"
is "$(head -n1 "$T/list1000"; tail -n1 "$T/list1000")" "$(printf 'r/00000\t7\nr/01049\t7')" \
    "  in order, with their sizes"
s3 list r/ "" 100 >"$T/list100"
ok "with max-keys 100 (11 pages) the same listing" cmp "$T/list1000" "$T/list100"
is "$(s3 list "" / | cut -f1 | tr '\n' ' ')" \
    "big big16 empty fits m16 m16mem odd/ r/ small " \
    "a delimiter gives objects and common prefixes, in order"
is "$(s3 list "" / 2 | cut -f1 | tr '\n' ' ')" \
    "big big16 empty fits m16 m16mem odd/ r/ small " "  also two at a time"

# ---- deletes ----------------------------------------------------------------------
posts_before=$(grep -c 'POST /client/%3Fdelete' "$SWIFT_DIR/log/proxy.log")
ok "DeleteObjects of the 1,050 keys" bash -c "cut -f1 '$T/list1000' | '$tool' delete-many -"
is "$(s3 list r/ | wc -l)" 0 "  none is left"
posts=$(($(grep -c 'POST /client/%3Fdelete' "$SWIFT_DIR/log/proxy.log") - posts_before))
is "$posts" 2 "  in two DeleteObjects requests (1,000 + 50), Content-MD5 accepted"
ok "deleting a key that is not there succeeds" s3 delete no/such/key
ok "DELETE of one key" s3 delete small
is "$(s3 head small)" "missing" "  HEAD then says missing"
err=$(s3 get small 2>&1 >/dev/null)
like "$err" "^s3tool: NOT_FOUND: S3 GET 'small': 404 NoSuchKey: " "GET of a missing key: NOT_FOUND"

# ---- credentials --------------------------------------------------------------
secret="wr0ng-s3cret-value"
err=$(S3_SECRET_KEY=$secret s3 list 2>&1 >/dev/null)
rc=$?
is "$rc" 1 "a wrong secret fails"
like "$err" "S3 GET on bucket 'client': 403 SignatureDoesNotMatch: " "  with the store's reason"
like "$err" "HINT: Check the access key, the secret key" "  and a hint"
unlike "$err" "$secret" "  and the secret is nowhere in it"

# ---- the store stopped --------------------------------------------------------
# Known points, not sleeps: the upload reads its stream from a FIFO; the
# first part and one byte more are written, part 1 is stored (the proxy's
# log says so), then the store is stopped and the rest written, so part 2
# meets a dead store.
export S3_RETRIES=2 S3_RETRY_MS=100
mkfifo "$T/stream"
s3 upload halfway $((5 << 20)) 2 <"$T/stream" >"$T/upload.out" 2>"$T/upload.err" &
upload=$!
exec 3>"$T/stream"
head -c $(((5 << 20) + 1)) "$T/40m" >&3
ok "part 1 of an upload is stored (the proxy's log)" \
    wait_for 60 grep -qE ' PUT /client/halfway%3FpartNumber%3D1%26[^ ]* HTTP/1.0 200 ' \
    "$SWIFT_DIR/log/proxy.log"
ok "the store stops in the middle of a multipart upload" swift_stop_store
tail -c +$(((5 << 20) + 2)) "$T/40m" >&3
exec 3>&-
wait "$upload"
rc=$?
is "$rc" 1 "  the upload fails"
like "$(cat "$T/upload.err")" "cannot reach the store at '$S3_ENDPOINT_URL/client': Couldn't connect" \
    "  saying the store cannot be reached"
ok "the store starts again" swift_start_store
is "$(s3 head halfway)" "missing" "  no object was made of the failed upload"
is "$(s3 upload halfway $((5 << 20)) 2 <"$T/40m")" "41943040 8" "the same upload again succeeds"
ok "  and reads back identical" same halfway "$T/40m"

# A PUT sent while the store is down, through the relay (lib/relay.sh): the
# relay cannot reach the proxy and drops the client's connection, which it
# logs - the known point at which the PUT has met the outage. The retries
# carry it over once the store is back.
ok "the store stops" swift_stop_store
relay_start || tap_bail "cannot start the relay"
S3_ENDPOINT=$RELAY_EP S3_RETRIES=30 S3_RETRY_MS=200 s3 put during "$T/16m" 2>"$T/during.err" &
put=$!
ok "  a PUT sent then meets it (the relay's log)" \
    wait_for 60 grep -q 'cannot reach the target' "$RELAY_LOG"
swift_start_store || tap_bail "Swift does not start again"
wait "$put"
is "$?" 0 "a PUT sent while the store was down succeeds once it is back"
ok "  and reads back identical" same during "$T/16m"
relay_stop
