#!/bin/bash
# tests/integration/t_barman_compat.sh - cellar reads what Barman 3.4 wrote (TAP).
#
# A real PostgreSQL 15 cluster archives WAL (archive_command -> Barman's
# incoming directory); Barman takes two real backups with the postgres method
# (pg_basebackup over the replication connection), the second one named
# "nightly", and both reach DONE. Then cellar runs on the same configuration
# file and Barman home and must agree with Barman:
#   a. list-backup output byte-identical;
#   b. the main show-backup lines identical, label and value, for each backup;
#   c. show-backup latest names the same backup;
#   d. --format json list-backup prints JSON lines: a "result" event with the
#      backups, then an "end" event saying the command succeeded
#      and mentions each backup ID.
# Barman's own outputs are copied into the test log (build/test-logs/).
# Needs root (Barman runs as barman_user = root; the cluster runs as postgres).
# Run: tests/run.sh tests/integration/t_barman_compat.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 61

SERVER=main
CONF="$T/barman.conf"
# What cellar and barman show-backup must agree on ("Disk usage" = the first,
# base backup one; the "Backup <id>:" header is compared separately).
FIELDS=("Backup Name" "Server Name" "System Id" "Status" "PostgreSQL Version"
    "PGDATA directory" "Timeline" "Begin WAL" "End WAL" "Begin time" "End time"
    "Begin Offset" "End Offset" "Begin LSN" "End LSN" "Disk usage")

# bm ARG... - barman on the test configuration.
bm() {
    barman -c "$CONF" "$@"
}

# newest_id - the newest backup ID Barman knows, or nothing. (The filters in
# this file read their whole input: a reader that quits early makes Barman
# die of EPIPE.)
newest_id() {
    bm list-backup --minimal "$SERVER" | sed -n 1p
}

# backup_field ID LABEL - the value of LABEL in barman show-backup ID.
backup_field() {
    bm show-backup "$SERVER" "$1" | show_line "$2" | sed 's/^[^:]*: //'
}

# show_line LABEL - from show-backup output on stdin, print the first line
# whose label (text before the first colon, blanks trimmed) is LABEL.
show_line() {
    awk -v label="$1" '!found {
        l = $0; sub(/^ +/, "", l); sub(/ *:.*/, "", l)
        if (l == label) { print; found = 1 }
    }'
}

# show_header - the "Backup <id>:" line of show-backup output on stdin.
show_header() {
    awk '!found && /^Backup / { print; found = 1 }'
}

# take_backup [OPTION...] - barman backup, then close and archive the current
# WAL segment so that end_wal is certainly archived, then check-backup, which
# moves the backup from WAITING_FOR_WALS to DONE. Sets BACKUP_ID.
take_backup() {
    local before
    before=$(newest_id)
    bm backup --immediate-checkpoint "$@" "$SERVER" || return 1
    BACKUP_ID=$(newest_id)
    if [ -z "$BACKUP_ID" ] || [ "$BACKUP_ID" = "$before" ]; then
        diag "no new backup after barman backup"
        return 1
    fi
    bm switch-wal --force --archive --archive-timeout 20 "$SERVER" &&
        bm check-backup "$SERVER" "$BACKUP_ID"
}

# clock_past ID - true once the local time, as a backup ID, sorts after ID
# (Barman's IDs have one-second resolution: two backups in the same second
# would collide).
clock_past() {
    [[ $(date +%Y%m%dT%H%M%S) > $1 ]]
}

# same_file NAME EXPECTED GOT - pass when the files are byte-identical; show a
# diff otherwise.
same_file() {
    if cmp -s "$2" "$3"; then
        pass "$1"
        return 0
    fi
    fail "$1"
    diag "$(diff -u "$2" "$3" 2>&1 | head -n 40)"
    return 1
}

# valid_json_lines FILE - every line of FILE is a JSON document (and there is one).
valid_json_lines() {
    [ -s "$1" ] && python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$1"
}

# result_then_end FILE - the next-to-last line is the "result" event of
# list-backup and the last is {"event": "end", "status": "ok", "exit": 0}.
result_then_end() {
    python3 -c 'import json,sys
lines = [json.loads(l) for l in sys.stdin.read().splitlines()]
ok = (len(lines) >= 2 and lines[-2].get("event") == "result"
      and lines[-2].get("command") == "list-backup"
      and lines[-1] == {"event": "end", "status": "ok", "exit": 0, "error": None})
sys.exit(0 if ok else 1)' <"$1"
}

# --- a cluster that archives into Barman's incoming directory ---------------------
# Barman's default incoming_wals_directory is barman_home/SERVER/incoming; it is
# created here, for postgres, before the cluster first tries to archive.
incoming="$T/home/$SERVER/incoming"
mkdir -p "$incoming" || tap_bail "cannot create $incoming"
chmod 0755 "$T/home" "$T/home/$SERVER"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$incoming"
fi
# (copy under a temporary name, then rename: Barman must not pick up a
# half-copied segment)
# shellcheck disable=SC2034 # read by pg_start
PG_ARCHIVE_COMMAND=$(pg_archive_command "$incoming")
ok "pg_start $SERVER archiving into Barman's incoming dir" pg_start "$SERVER" ||
    tap_bail "cannot start PostgreSQL"
cellar_config "$CONF" "$SERVER"
is "$(bm show-server "$SERVER" | sed -n 's/^\tincoming_wals_directory: //p')" "$incoming" \
    "Barman's incoming_wals_directory is where archive_command copies"

# --- Barman: first WAL, check, two backups --------------------------------------------
# "barman check" fails ("WAL archive: FAILED") until a first WAL is archived.
ok "barman switch-wal --force --archive" \
    bm switch-wal --force --archive --archive-timeout 20 "$SERVER"
ok "barman check passes" bm check "$SERVER" || tap_bail "barman check fails"

pg_sql "$SERVER" "CREATE TABLE t1 AS SELECT g FROM generate_series(1, 10000) g" >&2
ok "barman backup" take_backup || tap_bail "barman backup failed"
id1=$BACKUP_ID
is "$(backup_field "$id1" Status)" DONE "the first backup is DONE"

# Some WAL between the two backups, so that the first one has a WAL size.
pg_sql "$SERVER" "CREATE TABLE t2 AS SELECT g FROM generate_series(1, 50000) g" >&2
bm switch-wal --force --archive --archive-timeout 20 "$SERVER" >&2
wait_for 3 clock_past "$id1"
ok "barman backup --name nightly" take_backup --name nightly ||
    tap_bail "second barman backup failed"
id2=$BACKUP_ID
is "$(backup_field "$id2" Status)" DONE "the second backup is DONE"
is "$(backup_field "$id2" "Backup Name")" nightly "the second backup is named nightly"
is "$(bm list-backup --minimal "$SERVER" | tr '\n' ' ')" "$id2 $id1 " \
    "barman lists the two backups, newest first"
is "$(awk '$1 ~ /^[0-9A-F]{24}$/ && $2 != 16777216' "$T/home/$SERVER/wals/xlog.db")" "" \
    "every WAL segment in Barman's xlog.db is complete (16 MiB)"

# Barman's outputs, for the log and for whoever matches them in cellar; raw
# copies (with cellar's) are kept in build/test-logs/t_barman_compat.out/.
bm list-backup "$SERVER" >"$T/barman-list.txt"
diag "barman list-backup $SERVER:"
diag "$(cat "$T/barman-list.txt")"
for id in "$id1" "$id2"; do
    bm show-backup "$SERVER" "$id" >"$T/barman-show-$id.txt"
    diag "barman show-backup $SERVER $id:"
    diag "$(cat "$T/barman-show-$id.txt")"
done

# --- cellar on the same configuration and home ----------------------------------------
# a. list-backup, byte for byte
"$CELLAR" -c "$CONF" list-backup "$SERVER" >"$T/cellar-list.txt"
same_file "cellar list-backup is byte-identical to barman's" \
    "$T/barman-list.txt" "$T/cellar-list.txt"

# b. show-backup, line by line, for each backup
for id in "$id1" "$id2"; do
    "$CELLAR" -c "$CONF" show-backup "$SERVER" "$id" >"$T/cellar-show-$id.txt"
    missing=""
    for f in "${FIELDS[@]}"; do
        [ "$f" = "Backup Name" ] && [ "$id" = "$id1" ] && continue # unnamed
        [ -n "$(show_line "$f" <"$T/barman-show-$id.txt")" ] || missing+=" '$f'"
    done
    is "$missing" "" "barman show-backup $id has every field compared"
    is "$(show_header <"$T/cellar-show-$id.txt")" "$(show_header <"$T/barman-show-$id.txt")" \
        "show-backup $id: header"
    for f in "${FIELDS[@]}"; do
        is "$(show_line "$f" <"$T/cellar-show-$id.txt")" \
            "$(show_line "$f" <"$T/barman-show-$id.txt")" "show-backup $id: $f"
    done
done

# c. latest
is "$("$CELLAR" -c "$CONF" show-backup "$SERVER" latest | show_header)" \
    "$(bm show-backup "$SERVER" latest | show_header)" "show-backup latest names the same backup"

# d. JSON lines
"$CELLAR" -c "$CONF" --format json list-backup "$SERVER" >"$T/cellar-list.json"
ok "cellar --format json list-backup prints valid JSON lines" valid_json_lines "$T/cellar-list.json"
ok "the JSON lines end with the result, then an ok end event" result_then_end "$T/cellar-list.json"
for id in "$id1" "$id2"; do
    ok "the JSON output contains $id" grep -qF "$id" "$T/cellar-list.json"
done

# e. list-files names the same files as Barman's for every target. Barman
#    walks the backup with os.walk, whose order of subdirectories depends on
#    the filesystem, so the lists are compared sorted.
for id in "$id1" "$id2"; do
    for target in standalone data wal full; do
        is "$("$CELLAR" -c "$CONF" list-files --target "$target" "$SERVER" "$id" | sort)" \
            "$(bm list-files --target "$target" "$SERVER" "$id" 2>/dev/null | sort)" \
            "list-files --target $target $id names the same files as barman"
    done
done

# Keep both tools' outputs, Barman's backup.info files, xlog.db and the
# configuration for whoever works on the differences (build/ is not committed).
out="$HARNESS_TOP/build/test-logs/t_barman_compat.out"
rm -rf "$out" && mkdir -p "$out" && cp "$T"/barman-*.txt "$T"/cellar-*.* "$out/" 2>/dev/null
for id in "$id1" "$id2"; do
    cp "$T/home/$SERVER/base/$id/backup.info" "$out/backup.info-$id"
done
cp "$T/home/$SERVER/wals/xlog.db" "$CONF" "$out/"
