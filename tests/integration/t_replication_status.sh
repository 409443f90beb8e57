#!/bin/bash
# tests/integration/t_replication_status.sh - `cellar replication-status`
# against real streaming clients (TAP).
#
# A PostgreSQL 15 primary has two streaming clients: a hot standby made with
# pg_basebackup -R, and pg_receivewal streaming into a physical replication
# slot. cellar runs as the barman OS user with three servers configured:
# the primary, the standby and one nobody listens for. replication-status
# lists both clients of the primary with Barman's labels (the standby as a
# standby, pg_receivewal as a WAL streamer with its slot), --target keeps
# one kind, --minimal prints Barman's one line per client, JSON gives the
# same clients; the standby has no clients; the dead server fails by name
# while the others are still shown; a bad --target is a usage error. Last,
# Barman 3.4 on the same configuration prints the same lines, positions and
# PIDs aside.
# Run: tests/run.sh tests/integration/t_replication_status.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 28

pg_start primary || tap_bail "cannot start the primary"

# the standby
sb=$T/standby
mkdir -p "$sb" && chown postgres: "$sb" && chmod 0700 "$sb"
runuser -u postgres -- "$PG_BINDIR/pg_basebackup" -D "$sb" -h 127.0.0.1 \
    -p "$PG_PRIMARY_PORT" -U postgres -R -X stream -c fast >&2 || tap_bail "pg_basebackup failed"
pg_start_datadir standby "$sb" || tap_bail "cannot start the standby"

# pg_receivewal into a slot, as a WAL streamer does
pg_sql primary "SELECT pg_create_physical_replication_slot('cellar_rs')" >/dev/null
mkdir -p "$T/streamed" && chown postgres: "$T/streamed"
runuser -u postgres -- "$PG_BINDIR/pg_receivewal" -D "$T/streamed" -h 127.0.0.1 \
    -p "$PG_PRIMARY_PORT" -U postgres -S cellar_rs --no-loop 2>"$T/receivewal.log" &
rw_pid=$!
harness_at_exit kill "$rw_pid"

# both stream and have reported back: until its first feedback message a
# standby shows no replay position, and would be listed as a WAL streamer
clients() {
    pg_sql primary "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'
                    AND (replay_lsn IS NOT NULL OR application_name = 'pg_receivewal')
                    AND flush_lsn IS NOT NULL"
}
two_clients() { [ "$(clients)" = 2 ]; }
wait_for 60 two_clients || tap_bail "the two clients do not stream"

home=$T/home
mkdir -p "$home"
chown barman: "$home"
conf=$T/cellar.conf
{
    printf '[barman]\nbarman_home = %s\nbarman_user = barman\nlog_file = %s/cellar.log\n' "$home" "$home"
    printf 'path_prefix = %s\n' "$PG_BINDIR"
    for s in primary standby; do
        port=$PG_PRIMARY_PORT
        [ "$s" = standby ] && port=$PG_STANDBY_PORT
        printf '\n[%s]\ndescription = "%s"\nconninfo = host=127.0.0.1 port=%s user=postgres dbname=postgres\n' \
            "$s" "$s" "$port"
        printf 'streaming_conninfo = host=127.0.0.1 port=%s user=postgres\nbackup_method = postgres\n' "$port"
        printf 'archiver = on\n'
    done
    printf '\n[down]\ndescription = "nobody listens"\nconninfo = host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2\n'
    printf 'streaming_conninfo = host=127.0.0.1 port=1 user=postgres\nbackup_method = postgres\narchiver = on\n'
} >"$conf"
chmod 0644 "$conf"

# rs ARGS... - cellar replication-status as barman; sets OUT, ERR and RC.
rs() {
    OUT=$(runuser -u barman -- "$CELLAR" -c "$conf" "$@" 2>"$T/stderr")
    RC=$?
    ERR=$(cat "$T/stderr")
}

# ---- the primary's two clients -------------------------------------------------
rs replication-status primary
is "$RC" 0 "replication-status of the primary exits 0"
is "$(printf '%s\n' "$OUT" | head -1)" "Status of streaming clients for server 'primary':" \
    "Barman's first line"
like "$OUT" $'\n  Current LSN on master: [0-9A-F]+/[0-9A-F]+\n' "the primary's current LSN"
like "$OUT" $'\n  Number of streaming clients: 2\n' "two streaming clients"
like "$OUT" $'\n  [12]\\. Async standby\n' "the standby is listed as an asynchronous standby"
like "$OUT" $'\n  [12]\\. Async WAL streamer\n' "pg_receivewal is listed as a WAL streamer"
like "$OUT" $'\n     Application name: pg_receivewal\n' "with its application name"
like "$OUT" $'\n     Replication slot: cellar_rs\n' "the streamer's replication slot is named"
like "$OUT" $'\n     Communication   : TCP/IP\n     IP Address      : 127.0.0.1 / Port: [0-9]+ / Host: -\n' \
    "the clients' address"
like "$OUT" $'\n     Current state   : streaming \\(async\\)\n' "their state"
like "$OUT" $'\n     Replay LSN : [0-9A-F]+/[0-9A-F]+ \\(diff: -?[0-9.]+ [KMG]?i?B\\)\n' \
    "the standby's replay position and its distance"
like "$OUT" $'\n     Sync stage      : [1-5]/[35] ' "a sync stage for each"
pid=$(pg_sql primary "SELECT pid FROM pg_stat_replication WHERE application_name = 'pg_receivewal'")
like "$OUT" $'\n     WAL sender PID  : '"$pid"$'\n' "the WAL sender's PID is pg_stat_replication's"

rs replication-status --target hot-standby primary
like "$OUT" $'\n  Number of hot standby servers: 1\n' "--target hot-standby keeps the standby"
unlike "$OUT" "WAL streamer" "and not the WAL streamer"
rs replication-status --target wal-streamer primary
like "$OUT" $'\n  Number of WAL streamers: 1\n' "--target wal-streamer keeps pg_receivewal"
unlike "$OUT" "Async standby" "and not the standby"

rs replication-status --minimal primary
like "$OUT" "^Streaming clients for master 'primary' \\(LSN @ [0-9A-F]+/[0-9A-F]+\\):" \
    "--minimal: Barman's header"
like "$OUT" $'\n  [12]\\. W\\) postgres@127\\.0\\.0\\.1 S:[0-9A-F/]+ W:[0-9A-F/]+ P:0 AN:pg_receivewal' \
    "--minimal: the WAL streamer's line"
like "$OUT" $'\n  [12]\\. A\\) postgres@127\\.0\\.0\\.1 S:[0-9A-F/]+ F:[0-9A-F/]+ R:[0-9A-F/]+ P:0 AN:' \
    "--minimal: the standby's line"

rs --format json replication-status primary
types=$(printf '%s\n' "$OUT" | python3 -c '
import json, sys
for line in sys.stdin:
    ev = json.loads(line)
    if ev.get("event") == "result":
        print(" ".join(sorted(c["type"] for c in ev["data"]["clients"])))' 2>&1)
is "$types" "standby wal-streamer" "JSON: the same two clients, with their kind"

# ---- the standby, the dead server, a bad option ----------------------------------
rs replication-status standby
is "$RC" 0 "the standby: exit 0"
like "$OUT" $'\n  No streaming clients attached' "the standby has no clients"

rs replication-status all
isnt_zero() { [ "$1" -ne 0 ]; }
ok "all: the dead server makes the command fail" isnt_zero "$RC"
like "$ERR" "unable to connect to server down" "the failing server is named"
like "$OUT" "Status of streaming clients for server 'primary'" "the other servers are still shown"

rs replication-status --target standby primary
is "$RC" 2 "a bad --target is a usage error (exit 2): $ERR"

# ---- Barman 3.4 prints the same lines --------------------------------------------
# positions, PIDs, ports, times and so the sync stage can move between the
# two runs (WAL written in between): compare the rest
mask() { sed -E 's#[0-9A-F]+/[0-9A-F]+#LSN#g; s#[0-9]+(\.[0-9]+)? [KMGT]?i?B#SIZE#g; s#: [0-9]+$#: N#;
                 s#Port: [0-9]+#Port: N#; s#Started at      : .*#Started at      : T#
                 s#Sync stage      : .*#Sync stage      : S#' | sort; }
rs replication-status primary
ours=$(printf '%s\n' "$OUT" | mask)
theirs=$(runuser -u barman -- barman -c "$conf" replication-status primary 2>"$T/barman.err" | mask)
if [ "$ours" = "$theirs" ]; then
    pass "Barman 3.4 prints the same lines (positions, PIDs and times aside)"
else
    fail "Barman 3.4 prints the same lines (positions, PIDs and times aside)"
    diff <(printf '%s\n' "$theirs") <(printf '%s\n' "$ours") | sed 's/^/# /' >&2
    sed 's/^/# barman: /' "$T/barman.err" >&2
fi
