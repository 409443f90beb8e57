#!/bin/bash
# tests/integration/t_start_recovered.sh - `cellar start-recovered` and
# `cellar stop-recovered` on recovered data directories (TAP).
#
# A PostgreSQL 15 cluster with a tablespace archives through `cellar
# put-wal`. After a backup, rows are committed into table t:
#
#     p0 | backup | a | time T | b
#
# Then:
#   1. a recovery to T (it pauses there) is started by start-recovered with
#      a check query: the query sees "p0 a"; the server is paused, listens on
#      127.0.0.1 only, does not archive, keeps its socket in a private
#      directory owned by postgres; the data directory's configuration is
#      unchanged; a second start is refused; a writing query is refused
#      (read-only); stop-recovered stops it and removes the directory;
#   2. a recovery to the end of the WAL, started with --stop: promoted,
#      "p0 a b", stopped afterwards;
#   3. a recovery to T with target action shutdown: reported as shut down at
#      its target, no query;
#   4. refusals: a relative path, a directory that is not a data directory,
#      an unknown OS user; a copy that cannot start (a missing
#      shared_preload_libraries) fails with its log's FATAL line, and no
#      server is left behind;
#   5. as the barman OS user (uid 103, whose name is no role of the cluster,
#      made with initdb -U postgres), with two servers configured, on a copy
#      given to barman: start-recovered connects as postgres by default and
#      works; --db-user with a role that does not exist fails with the
#      connection error (not a wait for --timeout) and stops the server.
# Needs root (the clusters run as postgres).
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 56

rec_cluster "start-recovered" 1 'compression = gzip'
add_row main p0
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "backup failed"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
sleep 1
add_row main a
T_AB=$(utc_now main)
add_row main b
archive_now main main || tap_bail "WAL not archived"

# sr ARG... - run `cellar -f json start-recovered ARG...`; SR_OUT, SR_RC
sr() {
    SR_OUT=$("$CELLAR" -c "$conf" -f json start-recovered "$@" </dev/null 2>&1)
    SR_RC=$?
    diag "start-recovered $* -> exit $SR_RC"
    diag "$SR_OUT"
}
# field EXPR - EXPR over the data of SR_OUT's start-recovered result
field() { result_field start-recovered "$1" <<<"$SR_OUT"; }
# running DIR - a postmaster runs in DIR
running() {
    local pid
    pid=$(head -1 "$1/postmaster.pid" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# ---- 1. paused at T, queried, left running, then stopped ---------------------------------
d1=$T/r1
recover_ok "recover to T (pauses there)" --target-time "$T_AB" \
    --tablespace "tbs1:$T/r1_tbs" main "$id" "$d1"
auto_before=$(md5sum "$d1/postgresql.auto.conf" "$d1/postgresql.conf")
sr --query "SELECT string_agg(tag, ' ' ORDER BY id) AS tags FROM t" "$d1"
is "$SR_RC" 0 "start-recovered exits 0"
is "$(field 'd["state"]')" '"paused"' "the server is paused at its target"
is "$(field 'd["columns"]')" '["tags"]' "the query's column"
is "$(field 'd["rows"]')" '[["p0 a"]]' "the query sees the rows before T, not after"
ok "the server still runs" running "$d1"
sock=$(field 'd["socket_dir"]' | tr -d '"')
port=$(field 'd["port"]')
like "$sock" "^/.*/cellar-check\.[A-Za-z0-9]{6}$" "its socket is in a private directory"
is "$(stat -c '%a %U' "$sock")" "700 postgres" "the directory is 0700 and belongs to postgres"
is "$(stat -c '%U' "$d1" "$T/r1_tbs" | sort -u)" "postgres" \
    "the data directory and the tablespace belong to postgres"
psql_sock() {
    runuser -u postgres -- "$PG_BINDIR/psql" -XAtq -h "$sock" -p "$port" -U postgres \
        -d postgres -c "$1"
}
is "$(psql_sock "SHOW listen_addresses")" "127.0.0.1" "it listens on 127.0.0.1 only"
is "$(psql_sock "SHOW archive_mode")" "off" "it does not archive"
is "$(md5sum "$d1/postgresql.auto.conf" "$d1/postgresql.conf")" "$auto_before" \
    "the data directory's configuration files are unchanged"
ok "the connect line is psql on the socket" \
    has_text "$(field 'd["connect"]')" "psql -h $sock -p $port"
is "$(field 'd["stop"]')" "\"cellar stop-recovered $d1\"" "the stop line"
sr "$d1"
ok "a second start of the same directory is refused" test "$SR_RC" -ne 0
ok "it says a server runs there, and how to stop it" \
    has_text "$SR_OUT" "already runs in $d1"
out=$("$CELLAR" -f json stop-recovered "$d1" 2>&1)
is "$?" 0 "stop-recovered exits 0 (no configuration needed)"
ok "it reports the server was running" has_text "$out" '"was_running":true'
ok "no server runs in it any more" bash -c "! kill -0 \$(head -1 '$d1/postmaster.pid' 2>/dev/null) 2>/dev/null"
ok "its private directory is gone" test ! -e "$sock"
out=$("$CELLAR" stop-recovered "$d1" 2>&1)
is "$?" 0 "stop-recovered on a stopped directory exits 0"
ok "and says nothing was running" has_text "$out" "No server was running in $d1"
# a server start-recovered did not start (the live cluster itself) is never stopped
out=$("$CELLAR" stop-recovered "$PG_MAIN_DATA" 2>&1)
isnt_rc=$?
ok "stop-recovered refuses the live cluster" test "$isnt_rc" -ne 0
ok "saying start-recovered did not start it" has_text "$out" "was not started by start-recovered"
ok "and the live cluster still runs" pg_sql main "SELECT 1"
sr "$PG_MAIN_DATA"
ok "start-recovered on the live cluster does not send the DBA to stop-recovered" \
    bash -c "! grep -q 'cellar stop-recovered' <<<\"\$1\"" _ "$SR_OUT"

# ---- 2. the end of the WAL, promoted, stopped after the check -----------------------------
d2=$T/r2
recover_ok "recover to the end of the WAL" --tablespace "tbs1:$T/r2_tbs" main "$id" "$d2"
sr --stop --query "SELECT string_agg(tag, ' ' ORDER BY id) FROM t" "$d2"
is "$SR_RC" 0 "start-recovered --stop exits 0"
is "$(field '[d["state"], d["rows"], d["stopped"]]')" '["promoted", [["p0 a b"]], true]' \
    "promoted, every row, and stopped"
ok "no server is left in it" bash -c "! test -e '$d2/postmaster.pid'"

# ---- 3. shut down at the target ----------------------------------------------------------
d3=$T/r3
recover_ok "recover to T with target action shutdown" --target-time "$T_AB" \
    --target-action shutdown --tablespace "tbs1:$T/r3_tbs" main "$id" "$d3"
sr "$d3"
is "$SR_RC" 0 "start-recovered exits 0"
is "$(field '[d["state"], d["query"], d["rows_total"]]')" '["shutdown", null, 0]' \
    "reported as shut down at its target, without a query"
ok "promptly (under 10 s)" python3 -c "import sys; sys.exit(0 if $(field 'd["seconds"]') < 10 else 1)"

# ---- 4. refusals ---------------------------------------------------------------------------
sr relative/dir
is "$SR_RC" 2 "a relative path is a usage error"
mkdir "$T/notpg"
sr "$T/notpg"
ok "a directory without PG_VERSION is refused" has_text "$SR_OUT" "not a PostgreSQL data directory"
sr --user no_such_user_here "$d2"
ok "an unknown OS user is refused" has_text "$SR_OUT" "no OS user called 'no_such_user_here'"
sr --query "CREATE TABLE x (i int)" "$d2"
ok "a writing check query fails (read-only)" test "$SR_RC" -ne 0
ok "with PostgreSQL's reason" has_text "$SR_OUT" "read-only transaction"
ok "and the server is not left running" bash -c "! test -e '$d2/postmaster.pid'"
echo "shared_preload_libraries = 'no_such_library_here'" >>"$d2/postgresql.auto.conf"
sr "$d2"
ok "a copy that cannot start fails" test "$SR_RC" -ne 0
ok "with its log's FATAL line" has_text "$SR_OUT" "no_such_library_here"
# the private directory of the copy that could not start stays for its log: remove it
kept=$(sed -n 's|.*ended; from \(/[^ ]*/cellar-check\.[A-Za-z0-9]*\)/server\.log.*|\1|p' <<<"$SR_OUT" | head -1)
ok "the error names the log in the private directory, which stays" test -f "$kept/server.log"
[ -n "$kept" ] && rm -rf "$kept"

# ---- 5. as the barman OS user ----------------------------------------------------------
d5=$T/r5
recover_ok "recover to the end of the WAL, for barman" --tablespace "tbs1:$T/r5_tbs" main "$id" "$d5"
printf '\n[spare]\ndescription = "a second server"\nconninfo = host=127.0.0.1 port=1 user=postgres\n' \
    >>"$conf"
chown -R barman: "$d5" "$T/r5_tbs" || tap_bail "cannot give $d5 to barman"
harness_at_exit "$CELLAR" stop-recovered "$d5" # should a failed check leave it running
# sr_barman ARG... - sr, as the barman OS user
sr_barman() {
    SR_OUT=$(cd / && runuser -u barman -- "$CELLAR" -c "$conf" -f json start-recovered "$@" \
        </dev/null 2>&1)
    SR_RC=$?
    diag "start-recovered (as barman) $* -> exit $SR_RC"
    diag "$SR_OUT"
}
sr_barman --timeout 120 --stop --query "SELECT current_user || ' ' || string_agg(tag, ' ' ORDER BY id) FROM t" "$d5"
is "$SR_RC" 0 "as barman, start-recovered connects as postgres by default and exits 0"
is "$(field '[d["state"], d["user"], d["rows"], d["stopped"]]')" \
    '["promoted", "barman", [["postgres p0 a b"]], true]' \
    "run by barman, queried as postgres, every row, stopped"
ok "no server is left in it" bash -c "! test -e '$d5/postmaster.pid'"
sr_barman --timeout 120 --db-user no_such_role "$d5"
ok "a role that does not exist fails" test "$SR_RC" -ne 0
ok "with the connection error, naming the role" \
    has_text "$SR_OUT" "cannot connect to the recovered server as role 'no_such_role'"
ok "and PostgreSQL's reason" has_text "$SR_OUT" 'role \"no_such_role\" does not exist'
unlike "$SR_OUT" "has not ended after" "not a wait for the time-out"
ok "and the server is stopped" bash -c "! test -e '$d5/postmaster.pid'"

# ---- 6. a server that cannot start: the cause from its log, whole lines -------------------------
# the port is the live cluster's: the copy's postmaster cannot listen there
sr --timeout 120 --port "$PG_MAIN_PORT" "$d5"
ok "start-recovered on a port in use fails" test "$SR_RC" -ne 0
like "$SR_OUT" 'FATAL: +could not (create|bind)[^"]*' "the message carries PostgreSQL's FATAL line"
ok "no line of it is cut short (each log line ends with its text, not mid-timestamp)" \
    bash -c '! printf "%s" "$1" | grep -Eq "\\\\n[0-9]{4}-[0-9]{0,2}\"|\\\\n[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]*\""' _ "$SR_OUT"
ok "and no server is left in it" bash -c "! test -e '$d5/postmaster.pid'"
