#!/bin/bash
# tests/integration/t_cloud_copy.sh - a server's copy in a bucket
# (cloud_destination): cron and `cellar cloud-upload` upload its archived WAL
# and DONE backups in barman-cloud 3.4's layout to a private Swift s3api, and
# barman-cloud reads them back (TAP).
#
# Two servers, main (cloud_destination) and other (none), barman_user =
# barman, barman_home owned by barman; the credentials are only in
# ~barman/.aws/credentials (the AWS variables are unset for cellar), and cron
# runs as root, becoming barman. Shown:
#   - after two backups of main (backup_method = postgres: a plain copy, then
#     a gzip tar copy) and WAL, cron uploads; barman-cloud-backup-list lists
#     both DONE; every WAL file of xlog.db is in the bucket; other has none;
#   - a second cron with nothing new sends no LIST (the Swift proxy's log);
#   - barman-cloud-restore of each backup with barman-cloud-wal-restore as
#     restore_command gives a cluster that starts and holds exactly the rows;
#   - cron paused (SIGSTOP) after its first WAL upload, the store stopped,
#     cron resumed: it fails, check fails naming the access key ID and the
#     credentials file, the state records the error; with an old last upload
#     the "cloud upload age" check fails too; the store back, a rerun uploads
#     every WAL segment, none missing;
#   - cloud-upload killed (SIGKILL) once it logged the start of a backup's
#     upload: the backup is not listed; the rerun lists it once, complete;
#   - REDUNDANCY 2: a third backup makes the first obsolete, cron deletes it
#     locally and in the bucket;
#   - the backup server lost: with main's home deleted, a bucket server
#     (cloud_source) on what cron uploaded lists the newest backup, recovers
#     it as root becoming barman, and the copy, its WAL fetched from the
#     bucket by restore_command, starts holding every row.
# Run: tests/run.sh tests/integration/t_cloud_copy.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
[ "$(id -u)" -eq 0 ] || tap_bail "needs root (cron as root becoming barman)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"
tap_plan 53

ok "swift_start" swift_start || tap_bail "cannot start Swift"
ok "swift_make_bucket cellar" swift_make_bucket cellar || tap_bail "cannot create a bucket"
url=s3://cellar/pg
ep=(--endpoint-url "$S3_ENDPOINT_URL")
key_id=$AWS_ACCESS_KEY_ID
secret=$AWS_SECRET_ACCESS_KEY

# ---- the credentials in barman's home only ------------------------------------
bhome=$(getent passwd barman | cut -d: -f6)
aws_saved=""
if [ -e "$bhome/.aws" ]; then
    aws_saved=$T/aws-saved
    mv "$bhome/.aws" "$aws_saved"
fi
restore_aws() {
    rm -rf "$bhome/.aws"
    [ -n "$aws_saved" ] && mv "$aws_saved" "$bhome/.aws"
    return 0
}
harness_at_exit restore_aws
mkdir -p "$bhome/.aws"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$key_id" "$secret" \
    >"$bhome/.aws/credentials"
chown -R barman: "$bhome/.aws" && chmod 0700 "$bhome/.aws" && chmod 0600 "$bhome/.aws/credentials"
# barman-cloud (run by the test) gets them from the environment; cellar never
with_creds() { AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret "$@"; }
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# ---- two clusters archiving into incoming directories barman reads -------------
chmod 0755 "$T"
home=$T/home
mkdir -p "$home" "$T/log" && chown barman: "$home" "$T/log"
for n in main other; do mkdir -m 0777 "$T/in-$n"; done
archive_into() { # the archive_command: a readable file, renamed when whole
    printf 'test ! -f %s/%%f && cp %%p %s/.%%f.tmp && chmod 0644 %s/.%%f.tmp && mv %s/.%%f.tmp %s/%%f' \
        "$1" "$1" "$1" "$1" "$1"
}
PG_ARCHIVE_COMMAND=$(archive_into "$T/in-main") pg_start main || tap_bail "cannot start main"
PG_ARCHIVE_COMMAND=$(archive_into "$T/in-other") pg_start other || tap_bail "cannot start other"
pg_sql main "CREATE TABLE t (i int)" >/dev/null

conf=$T/cellar.conf
write_conf() { # write_conf [LINE...] - extra lines for main
    {
        printf '[barman]\nbarman_home = %s\nbarman_user = barman\n' "$home"
        printf 'log_file = %s/log/cellar.log\nlog_level = DEBUG\npath_prefix = %s\n' "$T" "$PG_BINDIR"
        for n in other main; do # main last: the lines below are main's
            printf '\n[%s]\nconninfo = %s\nbackup_method = postgres\n' "$n" "$(_pg_get "$n" CONNINFO)"
            printf 'incoming_wals_directory = %s/in-%s\ncompression = gzip\n' "$T" "$n"
            printf 'retention_policy = REDUNDANCY 2\n'
        done
        printf 'cloud_destination = %s\ncloud_endpoint_url = %s\ncloud_compression = gzip\n' \
            "$url" "$S3_ENDPOINT_URL"
        printf '%s\n' "$@"
    } >"$conf" && chmod 0644 "$conf"
}
write_conf
as_barman() { runuser -u barman -- "$@"; }
cel() { "$CELLAR" -c "$conf" "$@"; }

rows() { pg_sql "$1" "SELECT count(*), coalesce(sum(i), 0) FROM t"; }
add_rows() { pg_sql main "INSERT INTO t SELECT generate_series(1, $1)" >/dev/null; }
switch() { pg_sql main "SELECT pg_walfile_name(pg_switch_wal())"; }
backup() { # backup - a backup of main as root (becoming barman), waiting for its WAL
    cel backup --wait main >>"$T/backup.log" 2>&1 || return 1
    cel list-backup --minimal main | head -n1
}
keys() { # keys PREFIX - the keys under PREFIX
    with_creds swift_s3py "
import sys
p = s3.get_paginator('list_objects_v2')
for page in p.paginate(Bucket='cellar', Prefix=sys.argv[1]):
    for o in page.get('Contents', []):
        print(o['Key'])
" "$1"
}
bucket_list() { # "ID STATUS" per backup, as barman-cloud-backup-list sees them
    with_creds barman-cloud-backup-list "${ep[@]}" --format json "$url" main 2>"$T/list.err" |
        "$SWIFT_PYTHON" -c "
import json, sys
for b in json.load(sys.stdin)['backups_list']:
    print(b['backup_id'], b['status'])
"
}
# missing_wals - the xlog.db entries of main not in the bucket, one per line
missing_wals() {
    local db
    db=$(ls "$home"/main/wals/xlog.db "$home"/main-xlog.db 2>/dev/null | head -n1)
    keys pg/main/wals/ | sed 's|.*/||; s|\.gz$||; s|\.bz2$||' | sort >"$T/have"
    awk '{print $1}' "$db" | sort | comm -23 - "$T/have"
}
n_lists() { grep -c 'list-type=2' "$SWIFT_DIR"/log/proxy.log || true; }

cel check main >"$T/check1.out" 2>&1
ok "check as root creates main's directories (as barman)" test -d "$home/main/wals"
add_rows 100
id1=$(backup)
like "$id1" '^[0-9]{8}T[0-9]{6}$' "backup 1 (a plain copy) is DONE: $id1"
add_rows 200
write_conf "backup_compression = gzip" "backup_compression_format = tar"
sleep 1 # backup IDs are seconds
id2=$(backup)
like "$id2" '^[0-9]{8}T[0-9]{6}$' "backup 2 (a gzip tar copy) is DONE: $id2"
ok "backup 2 is a tar copy" test -f "$home/main/base/$id2/data/base.tar.gz"
add_rows 300
switch >/dev/null
wait_for 60 test -n "$(ls "$T/in-main")"

# ---- cron as root, becoming barman, with barman's credentials -----------------
OUT=$(cel cron 2>&1)
RC=$?
is "$RC" 0 "cron as root exits 0"
like "$(grep '^main:' <<<"$OUT")" "; uploaded [0-9]+ WAL files and 2 backups to $url" "cron's line for main says what it uploaded"
unlike "$(grep '^other:' <<<"$OUT")" "uploaded" "other has no cloud_destination: nothing uploaded"
is "$(stat -c %U "$home/main/cloud/upload.state")" barman "the state file belongs to barman"
is "$(bucket_list | sort | tr '\n' ' ')" "$id1 DONE $id2 DONE " "barman-cloud-backup-list lists both backups DONE"
is "$(missing_wals | wc -l)" 0 "every WAL file of xlog.db is in the bucket"
is "$(keys pg/other/ | wc -l)" 0 "nothing of other in the bucket"

lists=$(n_lists)
OUT=$(cel cron 2>&1)
like "$OUT" "; uploaded 0 WAL files and 0 backups" "a second cron has nothing to upload"
is "$(n_lists)" "$lists" "and sends no LIST to the store"

# ---- barman-cloud restores each backup, with its WAL --------------------------
want=$(rows main)
n=0
for id in "$id1" "$id2"; do
    n=$((n + 1))
    dest=$T/rest$n
    with_creds barman-cloud-restore "${ep[@]}" "$url" main "$id" "$dest" >"$T/restore$n.log" 2>&1
    ok "barman-cloud-restore of $id" test -f "$dest/PG_VERSION"
    chown -R postgres: "$dest" && chmod 0700 "$dest"
    mkdir -p "$dest/pg_wal"
    cat >>"$dest/postgresql.auto.conf" <<EOF
restore_command = 'AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret barman-cloud-wal-restore --endpoint-url $S3_ENDPOINT_URL $url main %f %p'
recovery_target_action = 'promote'
archive_mode = off
EOF
    touch "$dest/recovery.signal"
    chown postgres: "$dest/recovery.signal" "$dest/postgresql.auto.conf"
    pg_start_datadir "r$n" "$dest" >"$T/start$n.log" 2>&1
    wait_for 120 test "$(pg_sql "r$n" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f
    is "$(rows "r$n")" "$want" "the copy of $id starts and holds exactly the rows"
    pg_stop "r$n"
done

# ---- the store stopped in the middle of an upload -------------------------------
# A relay in front of the store cuts the upload of the third new segment and
# holds the retry: there, with two segments uploaded, the store is stopped.
add_rows 400
segs=()
for i in 1 2 3 4; do
    add_rows 10
    segs+=("$(switch)")
done
wait_for 60 test -f "$T/in-main/${segs[3]}"
seg3=${segs[2]}
relay_start --hold-after-cut "$T/release" --cut "up:100:PUT /cellar/pg/main/wals/${seg3:0:16}/$seg3.gz " ||
    tap_bail "cannot start the relay"
write_conf "backup_compression = gzip" "backup_compression_format = tar" \
    "cloud_endpoint_url = $RELAY_EP"
cel cron >"$T/cron-stop.out" 2>&1 &
cron_pid=$!
wait_for 120 grep -q ' cut ' "$RELAY_LOG"
swift_stop_store
touch "$T/release"
wait "$cron_pid"
RC=$?
relay_stop
isnt "$RC" 0 "cron with the store stopped mid-upload fails"
like "$(cat "$T/cron-stop.out")" "cloud upload" "and says the cloud upload failed"
like "$(sed -n 's/^last_error=//p' "$home/main/cloud/upload.state")" "$seg3" "the state records the error, naming the segment"
is "$(sed -n 's/^wal_upto=//p' "$home/main/cloud/upload.state")" "${segs[1]}" "the state marks the upload up to the segment before"
write_conf "backup_compression = gzip" "backup_compression_format = tar"
OUT=$(cel check main 2>&1)
like "$OUT" "cloud destination: FAILED" "check: the cloud destination fails with the store stopped"
like "$OUT" "access key ID '$key_id' from .*$bhome/.aws/credentials" \
    "the failure names the access key ID and the credentials file"
unlike "$OUT" "$secret" "and never the secret"
# an old last upload, with WAL waiting: the age check fails
write_conf "backup_compression = gzip" "backup_compression_format = tar" \
    "cloud_last_upload_maximum_age = 1 HOURS"
as_barman sed -i 's/^last_upload=.*/last_upload=1000000000.000/' "$home/main/cloud/upload.state"
like "$(cel check main 2>&1)" "cloud upload age: FAILED" "check: cloud upload age fails with WAL waiting and an old last upload"
swift_start_store || tap_bail "cannot restart the store"
OUT=$(cel cron 2>&1)
is "$?" 0 "the store back, cron succeeds"
is "$(missing_wals | wc -l)" 0 "every WAL segment is in the bucket, none missing"
OUT=$(cel check main 2>&1)
like "$OUT" "cloud destination: OK" "check: the cloud destination passes"
like "$OUT" "cloud upload age: OK" "check: cloud upload age passes"

# ---- cloud-upload killed mid-backup; retention in the bucket ---------------------
add_rows 500
sleep 1
id3=$(backup)
like "$id3" '^[0-9]{8}T[0-9]{6}$' "backup 3 is DONE: $id3"
# backup 3 made backup 1 obsolete locally; the bucket still has it until the copy runs
relay_start --hold-after-cut "$T/release2" --cut "up:10:PUT /cellar/pg/main/base/$id3/backup.info " ||
    tap_bail "cannot start the relay"
write_conf "backup_compression = gzip" "backup_compression_format = tar" \
    "cloud_endpoint_url = $RELAY_EP"
# (env and setpriv exec: $! is cellar itself)
env HOME="$bhome" setpriv --reuid barman --regid barman --init-groups -- \
    "$CELLAR" -c "$conf" cloud-upload main >"$T/kill.out" 2>&1 &
up_pid=$!
wait_for 120 grep -q ' cut ' "$RELAY_LOG"
kill -KILL "$up_pid"
wait "$up_pid" 2>/dev/null
relay_stop
write_conf "backup_compression = gzip" "backup_compression_format = tar"
ok "killed before backup 3's backup.info: its data.tar.gz is stored" \
    test -n "$(keys "pg/main/base/$id3/data.tar.gz")"
unlike "$(bucket_list)" "$id3" "cloud-upload killed mid-backup: backup 3 is not listed"
OUT=$(as_barman "$CELLAR" -c "$conf" cloud-upload main 2>&1)
is "$?" 0 "the rerun as barman exits 0"
is "$(bucket_list | grep -c "^$id3 DONE")" 1 "backup 3 is listed once, DONE"
is "$(bucket_list | grep -c "^$id1 ")" 0 "retention deleted the obsolete backup 1 from the bucket"
is "$(keys "pg/main/base/$id1/" | wc -l)" 0 "none of backup 1's objects is left"
OUT=$(cel cron 2>&1)
like "$OUT" "obsolete backups deleted: $id1; uploaded [0-9]+ WAL files? and 0 backups" \
    "cron: local retention deletes backup 1, and it is not uploaded again"
is "$(missing_wals | wc -l)" 0 "every WAL segment still listed in xlog.db is in the bucket"
OUT=$(cel show-server main 2>&1)
like "$OUT" "cloud_upload_wal_upto: [0-9A-F]{24}" "show-server shows how far the WAL upload got"
like "$OUT" "cloud_upload_backups_waiting: 0" "show-server: no backup waits"
unlike "$OUT" "$secret" "show-server shows no secret"

# ---- a backup barman-cloud 3.4 cannot read is refused, the rest goes on -----------
write_conf "backup_compression = lz4" "backup_compression_format = tar"
add_rows 600
sleep 1
id4=$(backup)
ok "backup 4 is an lz4 tar copy" test -f "$home/main/base/$id4/data/base.tar.lz4"
OUT=$(as_barman "$CELLAR" -c "$conf" cloud-upload main 2>&1)
is "$?" 0 "cloud-upload with an lz4 tar backup exits 0"
like "$OUT" "backup $id4 is a tar copy compressed with lz4, which barman-cloud 3.4 cannot read: not uploaded" \
    "and says why backup 4 is not uploaded"
is "$(bucket_list | grep -c "^$id4 ")" 0 "backup 4 is not in the bucket"
is "$(missing_wals | wc -l)" 0 "its WAL is, as every WAL segment"

# ---- the backup server lost: recovery from the bucket alone --------------------
# main's newest backup in the bucket is backup 3 (backup 4 was not uploaded);
# rows written after it are in WAL cron uploads.
add_rows 700
switch >/dev/null
wait_for 60 test -n "$(ls "$T/in-main")"
OUT=$(cel cron 2>&1)
is "$?" 0 "cron uploads the WAL of the last rows" || diag "$OUT"
is "$(missing_wals | wc -l)" 0 "every WAL segment is in the bucket"
want=$(rows main)
rm -rf "$home/main"
conf2=$T/frombucket.conf
cat >"$conf2" <<EOC
[barman]
barman_home = $home
barman_user = barman
log_file = $T/log/cellar.log
path_prefix = $PG_BINDIR

[frombucket]
description = "main's copy, its home lost"
cloud_source = $url
cloud_endpoint_url = $S3_ENDPOINT_URL
cloud_server_name = main
EOC
chmod 0644 "$conf2"
OUT=$("$CELLAR" -c "$conf2" list-backup --minimal frombucket 2>&1)
is "$(head -n1 <<<"$OUT")" "$id3" "the home deleted, the bucket server lists backup 3 as the newest" || diag "$OUT"
mkdir -m 0755 "$T/rec" && chown barman: "$T/rec" # where barman may write
dest=$T/rec/lost
OUT=$("$CELLAR" -c "$conf2" recover frombucket "$id3" "$dest" 2>&1)
is "$?" 0 "recover of backup 3 from the bucket alone exits 0" || diag "$OUT"
with_creds pg_start_datadir lost "$dest" || diag "$(tail -n 20 "$(_pg_get lost LOG)")"
wait_for 120 test "$(pg_sql lost "SELECT pg_is_in_recovery()" 2>/dev/null)" = f
is "$(rows lost)" "$want" "the copy holds every row, those after backup 3 from the bucket's WAL"
pg_stop lost
