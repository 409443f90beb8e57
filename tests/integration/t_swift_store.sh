#!/bin/bash
# tests/integration/t_swift_store.sh - the Swift s3api harness (lib/swift.sh),
# proved with barman-cloud 3.4 (TAP).
#
# A private Swift with s3api on 127.0.0.1 takes a real cluster's WAL from
# barman-cloud-wal-archive as archive_command, a barman-cloud-backup of the
# cluster, lists it with barman-cloud-backup-list --format json and gives a
# segment back byte-identical through barman-cloud-wal-restore. It also pins
# down what cellar's S3 client must meet on this store: a signed request
# without x-amz-content-sha256 is refused while the same request with it is
# accepted, DeleteObjects needs Content-MD5, a 12 MiB multipart upload
# (5 MiB parts, which needs slo in the pipeline) reads back identical, and
# multipart uploads have at most 1,000 parts of at least 5 MiB but the last.
# swift_stop_store/swift_start_store keep the objects across a restart, and
# every server is gone, by PID, at the end.
# Run: tests/run.sh tests/integration/t_swift_store.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 29

ok "swift_start" swift_start || tap_bail "cannot start Swift"
like "$S3_ENDPOINT_URL" '^http://127\.0\.0\.1:[0-9]+$' "S3_ENDPOINT_URL is the proxy on 127.0.0.1"
is "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY:$AWS_DEFAULT_REGION" \
    "test:tester:testing:us-east-1" "the AWS variables name the tempauth user and us-east-1"
is "$(swift_procs | wc -l)" 4 "four server processes run (proxy, account, container, object)"
ok "swift_make_bucket cellar" swift_make_bucket cellar || tap_bail "cannot create a bucket"

# ---- what the store enforces ------------------------------------------------
# Hand-made requests, signed with SigV4 by botocore and sent with
# http.client, so that exactly the headers we choose go out. send() prints
# "STATUS CODE" (CODE is the S3 error code, "-" for none). The S3 signer
# adds x-amz-content-sha256 (and signs it); the generic one does not.
signed_py="
import base64, hashlib, http.client, os, re, urllib.parse
from botocore.auth import SigV4Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
creds = Credentials(os.environ['AWS_ACCESS_KEY_ID'], os.environ['AWS_SECRET_ACCESS_KEY'])
base = os.environ['S3_ENDPOINT_URL']
def send(method, path, body=b'', signer=S3SigV4Auth, headers=None):
    req = AWSRequest(method=method, url=base + path, data=body, headers=headers or {})
    signer(creds, 's3', 'us-east-1').add_auth(req)
    conn = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=30)
    conn.request(method, path, body=body, headers=dict(req.headers.items()))
    resp = conn.getresponse()
    code = re.search('<Code>([^<]*)</Code>', resp.read().decode('utf-8', 'replace'))
    return '%d %s' % (resp.status, code.group(1) if code else '-')
"
sha_check=$(swift_s3py "$signed_py
print('with', send('GET', '/cellar') + ', without', send('GET', '/cellar', signer=SigV4Auth))
" 2>&1)
is "$sha_check" "with 200 -, without 400 InvalidRequest" \
    "a request without x-amz-content-sha256 is refused (400 InvalidRequest), with it accepted"

# DeleteObjects of two keys, without and then with Content-MD5
md5_check=$(swift_s3py "$signed_py
for k in ('md5/a', 'md5/b'):
    s3.put_object(Bucket='cellar', Key=k, Body=b'x')
body = (b'<Delete><Quiet>true</Quiet><Object><Key>md5/a</Key></Object>'
        b'<Object><Key>md5/b</Key></Object></Delete>')
md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
print('without', send('POST', '/cellar?delete', body) + ', with',
      send('POST', '/cellar?delete', body, headers={'Content-MD5': md5}) + ', left',
      s3.list_objects_v2(Bucket='cellar', Prefix='md5/')['KeyCount'])
" 2>&1)
is "$md5_check" "without 400 InvalidRequest, with 200 -, left 0" \
    "DeleteObjects without Content-MD5 is refused (400), with it deletes both keys"

# 12 MiB of random bytes in three parts of 5, 5 and 2 MiB
head -c $((12 * 1024 * 1024)) /dev/urandom >"$T/big.bin"
mpu=$(swift_s3py "
import hashlib, sys
from boto3.s3.transfer import TransferConfig
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024,
                     multipart_chunksize=5 * 1024 * 1024, use_threads=False)
s3.upload_file(sys.argv[1], 'cellar', 'multipart/big.bin', Config=cfg)
etag = s3.head_object(Bucket='cellar', Key='multipart/big.bin')['ETag'].strip('\"')
body = s3.get_object(Bucket='cellar', Key='multipart/big.bin')['Body'].read()
same = hashlib.sha256(body).digest() == hashlib.sha256(open(sys.argv[1], 'rb').read()).digest()
print(etag.split('-')[-1] if '-' in etag else 'single', len(body), same)
" "$T/big.bin" 2>&1)
is "$mpu" "3 12582912 True" \
    "a 12 MiB multipart upload in 5 MiB parts is stored as 3 parts and reads back identical"

# Swift's multipart limits: part numbers up to 1,000 (AWS: 10,000), and
# every part but the last at least 5 MiB, checked when the upload completes
limits=$(swift_s3py "
import botocore.exceptions as E
def code(f, **kw):
    try:
        f(**kw)
        return 'ok'
    except E.ClientError as e:
        return e.response['Error']['Code']
up = s3.create_multipart_upload(Bucket='cellar', Key='limits/x')['UploadId']
a = code(s3.upload_part, Bucket='cellar', Key='limits/x', UploadId=up, PartNumber=1001, Body=b'x')
b = code(s3.upload_part, Bucket='cellar', Key='limits/x', UploadId=up, PartNumber=1000, Body=b'x')
e1 = s3.upload_part(Bucket='cellar', Key='limits/x', UploadId=up, PartNumber=1,
                    Body=b'a' * 1024)['ETag']
e2 = s3.upload_part(Bucket='cellar', Key='limits/x', UploadId=up, PartNumber=2,
                    Body=b'b' * 1024)['ETag']
c = code(s3.complete_multipart_upload, Bucket='cellar', Key='limits/x', UploadId=up,
         MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1},
                                    {'PartNumber': 2, 'ETag': e2}]})
s3.abort_multipart_upload(Bucket='cellar', Key='limits/x', UploadId=up)
print('part 1001', a + ', part 1000', b + ', 1 KiB first part', c)
" 2>&1)
is "$limits" "part 1001 InvalidArgument, part 1000 ok, 1 KiB first part EntityTooSmall" \
    "multipart: part 1001 is refused, 1000 accepted; a part under 5 MiB but the last is refused"

# ---- barman-cloud-wal-archive as a real cluster's archive_command ----------
# Each segment is also copied locally first, to compare with what comes back.
mkdir "$T/walcopy" && chown postgres: "$T/walcopy" 2>/dev/null
export PG_ARCHIVE_COMMAND="cp %p $T/walcopy/%f && barman-cloud-wal-archive --endpoint-url $S3_ENDPOINT_URL s3://cellar/pg main %p"
ok "pg_start main with barman-cloud-wal-archive as archive_command" pg_start main ||
    tap_bail "cannot start PostgreSQL"
unset PG_ARCHIVE_COMMAND

segs=()
for i in 1 2 3; do
    pg_sql main "CREATE TABLE IF NOT EXISTS t (i int); INSERT INTO t SELECT generate_series(1, 1000)" >/dev/null
    # the switch record ends the segment it closes, so this names that segment
    segs+=("$(pg_sql main "SELECT pg_walfile_name(pg_switch_wal())")")
done
is "$(printf '%s\n' "${segs[@]}" | sort -u | wc -l)" 3 "three different segments were switched"
diag "switched segments: ${segs[*]}"

# the keys under a prefix of the bucket, one per line
keys() {
    swift_s3py "
import sys
p = s3.get_paginator('list_objects_v2')
for page in p.paginate(Bucket='cellar', Prefix=sys.argv[1]):
    for o in page.get('Contents', []):
        print(o['Key'])
" "$1"
}
# segs_in_bucket - true once every switched segment is listed, under
# pg/main/wals/<first 16 hex>/<segment>
segs_in_bucket() {
    local listed s
    listed=$(keys pg/main/wals/) || return 1
    for s in "${segs[@]}"; do
        grep -qx "pg/main/wals/${s:0:16}/$s" <<<"$listed" || return 1
    done
}
ok "the three switched segments arrive in the bucket as pg/main/wals/<16 hex>/<segment>" \
    wait_for 120 segs_in_bucket || { keys pg/main/ >&2; tail -n 20 "$PG_MAIN_LOG" >&2; }
is "$(pg_sql main "SELECT failed_count FROM pg_stat_archiver")" 0 "no archive_command failed"

# ---- barman-cloud-backup, -backup-list, -wal-restore ------------------------
ok "barman-cloud-backup of the cluster" \
    barman-cloud-backup --endpoint-url "$S3_ENDPOINT_URL" -h 127.0.0.1 -p "$PG_MAIN_PORT" \
    -U postgres --immediate-checkpoint s3://cellar/pg main
barman-cloud-backup-list --endpoint-url "$S3_ENDPOINT_URL" --format json s3://cellar/pg main \
    >"$T/list.json" 2>"$T/list.err"
list=$("$SWIFT_PYTHON" -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d['backups_list']), d['backups_list'][0]['status'], d['backups_list'][0]['backup_id'])
" "$T/list.json" 2>&1)
like "$list" '^1 DONE [0-9]{8}T[0-9]{6}$' \
    "barman-cloud-backup-list --format json shows one DONE backup" || cat "$T/list.err" >&2
backup_id=${list##* }
base=$(keys "pg/main/base/$backup_id/")
ok "the backup wrote pg/main/base/ID/backup.info" \
    grep -qxF "pg/main/base/$backup_id/backup.info" <<<"$base"
ok "the backup wrote pg/main/base/ID/data.tar" \
    grep -qxF "pg/main/base/$backup_id/data.tar" <<<"$base"
is "$(swift_s3py "
import sys, tarfile, io
body = s3.get_object(Bucket='cellar', Key=sys.argv[1])['Body'].read()
print('backup_label' in tarfile.open(fileobj=io.BytesIO(body)).getnames())
" "pg/main/base/$backup_id/data.tar" 2>&1)" True "data.tar holds backup_label"

ok "barman-cloud-wal-restore fetches ${segs[1]}" \
    barman-cloud-wal-restore --endpoint-url "$S3_ENDPOINT_URL" s3://cellar/pg main \
    "${segs[1]}" "$T/restored"
ok "the restored segment is byte-identical to the archived one" \
    cmp "$T/walcopy/${segs[1]}" "$T/restored"
is "$(barman-cloud-wal-restore --endpoint-url "$S3_ENDPOINT_URL" s3://cellar/pg main \
    000000010000000000000099 "$T/absent" >/dev/null 2>&1; echo $?)" 1 \
    "barman-cloud-wal-restore of a segment not in the bucket exits 1"

# ---- stopping and restarting the store ------------------------------------
before=$(swift_procs | tr '\n' ' ')
ok "swift_stop_store" swift_stop_store
is "$(swift_procs)" "" "no server runs while the store is stopped"
proxy_down() { ! curl -s -o /dev/null --max-time 2 "$S3_ENDPOINT_URL/healthcheck"; }
ok "the proxy refuses connections while stopped" proxy_down
ok "swift_start_store" swift_start_store
is "$(swift_s3py "
import hashlib, sys
body = s3.get_object(Bucket='cellar', Key='multipart/big.bin')['Body'].read()
print(hashlib.sha256(body).hexdigest())
" 2>&1)" "$(sha256sum <"$T/big.bin" | cut -d' ' -f1)" "objects survive the restart, on the same endpoint"

# ---- everything stops ----------------------------------------------------
# PostgreSQL first: its archiver would otherwise retry against a stopped
# store, and a fast shutdown waits for the archiver.
ok "pg_stop main (no process of the cluster left)" pg_stop main
after=$(swift_procs | tr '\n' ' ')
diag "server PIDs before the restart: $before; after: $after"
dir=$SWIFT_DIR
swift_stop
left=""
for p in $before $after; do
    [ -d "/proc/$p" ] && left+="$p "
done
is "$left" "" "swift_stop leaves none of the servers' PIDs alive"
ok "swift_stop removes the temp dir" test ! -e "$dir"
