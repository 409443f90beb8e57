#!/bin/bash
# scripts/demo.sh - the sandbox behind `make demo`.
#
#   scripts/demo.sh        start (or restart) the sandbox, back it up, open the console
#   scripts/demo.sh stop   stop the sandbox cluster and remove it
#
# The sandbox lives in build/demo/: a PostgreSQL 15 cluster on 127.0.0.1
# (started with the integration tests' own library, run as the postgres OS
# user when we are root) whose archive_command is `cellar put-wal demo %p`,
# a cellar home, and build/demo/cellar.conf pointing at both. It takes a
# first backup and opens the console on it; quitting the console stops the
# sandbox cluster and removes it. Without a terminal (or with
# DEMO_NO_CONSOLE=1) the cluster keeps running and `make demo-stop` stops it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
demo=$top/build/demo
state=$demo/state.sh
CELLAR=$top/cellar
# shellcheck source=../tests/integration/lib/pg.sh
. "$top/tests/integration/lib/pg.sh"

stop_sandbox() {
    if [ -f "$state" ]; then
        # shellcheck disable=SC1090
        . "$state"
        pg_stop demo >/dev/null 2>&1 || true
    fi
    rm -rf "$demo"
}

if [ "${1:-}" = stop ]; then
    stop_sandbox
    echo "demo: sandbox stopped and removed"
    exit 0
fi

stop_sandbox
mkdir -p "$demo"
chmod 0755 "$demo"
home=$demo/home
incoming=$home/demo/incoming
mkdir -p "$incoming" "$home/demo/wals" "$home/demo/errors" "$home/demo/base"
# the cluster runs as postgres and writes WAL into incoming/
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$home"
    chown root: "$home"
fi
chmod 0755 "$home" "$home/demo"

export TMPDIR=$demo
conf=$demo/cellar.conf
# write_conf [CONNINFO] - the configuration (the port is known only once
# the cluster runs, and put-wal needs no conninfo)
write_conf() {
    cat >"$conf" <<CONF
; cellar demo configuration (a Barman-style file: cellar reads both)
[cellar]
barman_home = $home
barman_user = $(id -un)
log_file = $demo/cellar.log

[demo]
description = "cellar demo cluster"
${1:+conninfo = $1}
compression = zstd
retention_policy = RECOVERY WINDOW OF 7 DAYS
CONF
    chmod 0644 "$conf"
}
write_conf
# put-wal runs as the postgres user: it must be able to write the log
touch "$demo/cellar.log"
[ "$(id -u)" -eq 0 ] && chown postgres: "$demo/cellar.log"
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal demo %p"
echo "demo: starting a PostgreSQL 15 sandbox cluster ..."
pg_start demo "log_min_messages = warning" || { echo "demo: the cluster did not start" >&2; exit 1; }
# remember what demo-stop needs (variables of pg.sh)
declare -p PG_DEMO_DATA PG_DEMO_DIR PG_DEMO_PID PG_DEMO_PORT PG_DEMO_LOG >"$state"
write_conf "$PG_DEMO_CONNINFO"

pg_sql demo "CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric);
             INSERT INTO accounts SELECT g, 'owner ' || g, g * 10 FROM generate_series(1, 1000) g;
             SELECT pg_switch_wal();" >/dev/null
# wait until PostgreSQL has handed its WAL to put-wal
for _ in $(seq 1 100); do
    ls "$PG_DEMO_DATA/pg_wal/archive_status/" | grep -q '\.ready$' || break
    sleep 0.1
done

run() {
    echo
    echo "\$ ./cellar -c build/demo/cellar.conf $*"
    "$CELLAR" -c "$demo/cellar.conf" "$@"
}
run list-server
run archive-wal demo
run backup --wait --wait-timeout 120 demo
run list-backup demo

if [ ! -t 0 ] || [ ! -t 1 ] || [ -n "${DEMO_NO_CONSOLE:-}" ]; then
    cat <<MSG

The sandbox is running: PostgreSQL 15 on 127.0.0.1 port $PG_DEMO_PORT, archiving
its WAL with 'cellar put-wal demo %p' into build/demo/home/demo.
Open the console with: ./cellar -c build/demo/cellar.conf
Stop the sandbox with: make demo-stop
MSG
    exit 0
fi

echo
echo "demo: opening the console (q quits; the sandbox cluster stops then)"
sleep 1
"$CELLAR" -c "$demo/cellar.conf"
status=$?
stop_sandbox
echo "demo: console closed, sandbox cluster stopped and removed"
exit "$status"
