# tests/integration/lib/recover.sh - helpers for the tests of `cellar recover`.
#
# They use the globals CELLAR (common.sh) and conf (the test's configuration
# file), and a table t (id serial, tag text) in the clusters they query:
#
#     rec_cluster DESCRIPTION NTBS [CONF_LINE...]
#                             the recovery tests' cluster: $conf (barman_home
#                             $home, server main on the cluster, local-rsync
#                             with an immediate checkpoint, then CONF_LINEs),
#                             cluster main archiving through `cellar put-wal`,
#                             tablespaces tbs1..tbsNTBS in $T/tbsN, table t
#                             (id serial, tag text) and table in_tbs (300
#                             rows, in tbs1); sets home, conf and tbs
#                             ($T/tbs1); bails out when something fails
#     rec_schema NTBS         in the running cluster main: tablespaces
#                             tbs1..tbsNTBS in $T/tbsN, table t and table
#                             in_tbs (300 rows, in tbs1), as rec_cluster makes
#                             them; bails out when something fails
#     rec_run ARG...          run `$CELLAR -c $conf recover ARG...` (stdin from
#                             /dev/null); REC_OUT = stdout and stderr, REC_RC =
#                             its exit status; the output goes to the log
#     recover_ok NAME ARG...  assertion: rec_run ARG... exits 0
#     add_row NAME TAG        INSERT one row into t (its own transaction)
#     rows NAME               the tags of t in id order, space-separated
#     utc_now NAME            clock_timestamp() of cluster NAME in UTC with an
#                             explicit "+00:00", taken between two 0.2 s pauses,
#                             so it lies strictly between the commits around it
#     archive_now NAME SERVER pg_switch_wal(), wait until PostgreSQL has archived
#                             every segment, then `cellar archive-wal SERVER`
#     promoted NAME           true when cluster NAME is out of recovery
#     paused NAME             true when NAME's replay is paused (at its target)
#     start_rec NAME DIR STATE  start the recovered data directory DIR as
#                             cluster NAME and wait until it is promoted
#                             (STATE promoted) or paused at its target
#                             (STATE paused); the log's end on failure
#     has_text TEXT STRING    true when TEXT contains STRING (no regex)
#     label_start DIR         the "START WAL LOCATION" LSN of DIR/backup_label
#     next_seg SEG            the name of the 16 MiB segment after SEG
#     result_field CMD EXPR   from `cellar -f json` output on stdin: EXPR (a
#                             Python expression over d, the data of the result
#                             of command CMD), printed in json.dumps form
#     plan_field FILE EXPR    from `cellar -f json recover --dry-run` output in
#                             FILE: the Python expression EXPR over d, the data
#                             of its recover-plan result (json.dumps form, so
#                             null, true, 123, "text"); nothing when there is none

# shellcheck shell=bash

_rec_write_conf() {
    backup_conf "$conf" cellar "$home" "${PG_MAIN_PORT:-1}" "$1" \
        'backup_method = local-rsync' 'immediate_checkpoint = true' "${@:2}"
}

rec_cluster() {
    local description=$1 ntbs=$2
    shift 2
    home=$T/home
    conf=$T/cellar.conf
    tbs=$T/tbs1
    { mkdir -p "$home/main/incoming" && chown -R postgres: "$home"; } ||
        tap_bail "cannot create $home"
    _rec_write_conf "$description" "$@"
    export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
    pg_start main || tap_bail "cannot start PostgreSQL"
    _rec_write_conf "$description" "$@" # now with the cluster's port
    rec_schema "$ntbs"
}

rec_schema() {
    local ntbs=$1 n
    for ((n = 1; n <= ntbs; n++)); do
        { mkdir -p "$T/tbs$n" && chown postgres: "$T/tbs$n"; } || tap_bail "cannot create $T/tbs$n"
        pg_sql main "CREATE TABLESPACE tbs$n LOCATION '$T/tbs$n'" >/dev/null ||
            tap_bail "no tablespace tbs$n"
    done
    pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text);
                 CREATE TABLE in_tbs (i int) TABLESPACE tbs1;
                 INSERT INTO in_tbs SELECT generate_series(1, 300)" >/dev/null ||
        tap_bail "no tables"
}

rec_run() {
    # shellcheck disable=SC2154 # conf is the test's configuration file
    REC_OUT=$("$CELLAR" -c "$conf" recover "$@" </dev/null 2>&1)
    REC_RC=$?
    diag "cellar recover $* -> exit $REC_RC"
    diag "$REC_OUT"
}

recover_ok() {
    local name=$1
    shift
    rec_run "$@"
    is "$REC_RC" 0 "$name"
}

add_row() {
    pg_sql "$1" "INSERT INTO t (tag) VALUES ('$2')" >/dev/null
}

rows() {
    pg_sql "$1" "SELECT string_agg(tag, ' ' ORDER BY id) FROM t"
}

utc_now() {
    local ts
    ts=$(pg_sql "$1" "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')
                      FROM pg_sleep(0.2)") || return 1
    sleep 0.2
    printf '%s+00:00\n' "$ts"
}

_rec_nothing_ready() {
    ! compgen -G "$1/pg_wal/archive_status/*.ready" >/dev/null
}

archive_now() {
    local data
    data=$(_pg_get "$1" DATA)
    pg_sql "$1" "SELECT pg_switch_wal()" >/dev/null || return 1
    wait_for 60 _rec_nothing_ready "$data" || { diag "WAL of $1 not archived after 60 s"; return 1; }
    # shellcheck disable=SC2154
    "$CELLAR" -c "$conf" archive-wal "$2" >&2
}

promoted() {
    [ "$(pg_sql "$1" "SELECT pg_is_in_recovery()")" = f ]
}

paused() {
    [ "$(pg_sql "$1" "SELECT pg_get_wal_replay_pause_state()")" = paused ]
}

has_text() {
    [[ $1 == *"$2"* ]]
}

label_start() {
    sed -n 's/^START WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p' "$1/backup_label"
}

next_seg() {
    local n=$((16#${1:8:8} * 256 + 16#${1:16:8} + 1))
    printf '%s%08X%08X\n' "${1:0:8}" $((n / 256)) $((n % 256))
}

result_field() {
    python3 -c 'import json, sys
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "result" and e.get("command") == sys.argv[1]:
        d = e["data"]
        print(json.dumps(eval(sys.argv[2])))' "$1" "$2"
}

plan_field() {
    result_field recover-plan "$2" <"$1"
}

start_rec() {
    pg_start_datadir "$1" "$2" || return 1
    wait_for 60 "$3" "$1" || { diag "$(tail -n 15 "$(_pg_get "$1" LOG)")"; return 1; }
}
