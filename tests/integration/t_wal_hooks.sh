#!/bin/bash
# tests/integration/t_wal_hooks.sh - archive hooks (TAP).
#
# pre_archive_script and post_archive_script run for each archived file with
# Barman's environment (the tutorial's variables); a failing hook is logged
# and changes nothing; a pre_archive_retry_script that exits 63 stops the
# batch before its file, which stays in incoming/ for the next run.
# Run: tests/run.sh tests/integration/t_wal_hooks.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 24

home=$T/home
mkdir -p "$home/main/incoming" "$T/env"
chown -R postgres: "$home/main"
mkdir -p "$T/wal"
chown postgres: "$T/wal"
# copy-then-rename: a file the test sees in $T/wal is complete
PG_ARCHIVE_COMMAND=$(pg_archive_command "$T/wal") || tap_bail "no archive command"
export PG_ARCHIVE_COMMAND
pg_start main || tap_bail "cannot start PostgreSQL"
pg_sql main "CREATE TABLE t (v text); INSERT INTO t SELECT md5(g::text) FROM generate_series(1, 50000) g;
             SELECT pg_switch_wal();" >/dev/null
pg_sql main "INSERT INTO t SELECT md5(g::text) FROM generate_series(1, 50000) g; SELECT pg_switch_wal();" >/dev/null
# archived N - PostgreSQL's archive_command has handled at least N files
archived() { [ "$(ls "$T/wal" | wc -l)" -ge "$1" ]; }
wait_for 30 archived 2 || tap_bail "PostgreSQL archived nothing"

conf=$T/cellar.conf
# the hooks write their environment, one file per phase and segment
cat >"$conf" <<EOF
[cellar]
barman_home = $home
barman_user = $(id -un)
log_file = $T/cellar.log

[main]
conninfo = $PG_MAIN_CONNINFO
compression = gzip
pre_archive_script = env | grep -E '^(BARMAN|CELLAR)_' | sort > $T/env/pre.\$BARMAN_SEGMENT
post_archive_script = env | grep -E '^(BARMAN|CELLAR)_' | sort > $T/env/post.\$BARMAN_SEGMENT; exit 5
EOF
segs=$(ls "$T/wal" | head -n2)
first=$(echo "$segs" | head -n1)
second=$(echo "$segs" | tail -n1)
cp "$T/wal/$first" "$T/wal/$second" "$home/main/incoming/"
mtime=$(stat -c %Y "$home/main/incoming/$first")

"$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>"$T/err"
is "$?" 0 "archive-wal exits 0 although the post hook fails"
like "$(cat "$T/out")" "2 WAL files archived" "both files are archived"
pre=$(cat "$T/env/pre.$first")
post=$(cat "$T/env/post.$first")
like "$pre" "BARMAN_SEGMENT=$first" "pre hook: BARMAN_SEGMENT is the segment"
like "$pre" "BARMAN_FILE=$home/main/incoming/$first" "pre hook: BARMAN_FILE is the incoming file"
like "$pre" "BARMAN_SIZE=16777216" "pre hook: BARMAN_SIZE is the incoming size"
like "$pre" "BARMAN_TIMESTAMP=$mtime(\\.[0-9]+)?" "pre hook: BARMAN_TIMESTAMP is the file's mtime"
like "$pre" "BARMAN_COMPRESSION=
" "pre hook: BARMAN_COMPRESSION is empty"
like "$pre" "BARMAN_PHASE=pre" "pre hook: BARMAN_PHASE"
like "$pre" "BARMAN_SERVER=main" "pre hook: BARMAN_SERVER"
like "$pre" "BARMAN_CONFIGURATION=$conf" "pre hook: BARMAN_CONFIGURATION"
like "$pre" "BARMAN_VERSION=3.4.0" "pre hook: BARMAN_VERSION"
like "$pre" "BARMAN_ERROR=
" "pre hook: BARMAN_ERROR is empty"
like "$pre" "BARMAN_HOOK=archive_script" "pre hook: BARMAN_HOOK"
like "$post" "BARMAN_FILE=$home/main/wals/0000000100000000/$first" "post hook: BARMAN_FILE is the archived file"
size=$(stat -c %s "$home/main/wals/0000000100000000/$first")
like "$post" "BARMAN_SIZE=$size
" "post hook: BARMAN_SIZE is the compressed size"
like "$post" "BARMAN_COMPRESSION=gzip" "post hook: BARMAN_COMPRESSION is gzip"
like "$post" "BARMAN_PHASE=post" "post hook: BARMAN_PHASE"
ok "the post hook ran for the second file too" test -f "$T/env/post.$second"
like "$(cat "$T/cellar.log")" "post archive_script '.*' failed with exit status 5 \\(ignored\\)" \
    "the failing hook is logged"

# --- a retry hook that says "stop" ----------------------------------------------
rm -f "$T/env"/*
pg_sql main "INSERT INTO t SELECT md5(g::text) FROM generate_series(1, 50000) g; SELECT pg_switch_wal();" >/dev/null
pg_sql main "INSERT INTO t SELECT md5(g::text) FROM generate_series(1, 50000) g; SELECT pg_switch_wal();" >/dev/null
wait_for 30 archived 4 || tap_bail "PostgreSQL archived nothing more"
third=$(ls "$T/wal" | sed -n 3p)
fourth=$(ls "$T/wal" | sed -n 4p)
cp "$T/wal/$third" "$T/wal/$fourth" "$home/main/incoming/"
cat >>"$conf" <<EOF
pre_archive_retry_script = [ "\$BARMAN_SEGMENT" = "$fourth" ] && exit 63; exit 0
EOF
"$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>"$T/err"
is "$?" 0 "archive-wal exits 0 when a retry hook stops the batch"
like "$(cat "$T/out")" "1 WAL file archived" "the file before the stop is archived"
ok "the file the hook stopped at stays in incoming/" test -f "$home/main/incoming/$fourth"
like "$(cat "$T/err")" "pre_archive_retry_script asked to stop: archiving ends before $fourth" \
    "the stop is reported"
sed -i '/pre_archive_retry_script/d' "$conf"
"$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>&1
like "$(cat "$T/out")" "1 WAL file archived" "without the hook, the next run archives it"
