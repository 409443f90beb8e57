#!/bin/bash
# scripts/demo.sh - the sandbox behind `make demo`.
#
#   scripts/demo.sh        start (or restart) the sandbox and show cellar on it
#   scripts/demo.sh stop   stop the sandbox cluster and remove it
#
# The sandbox lives in build/demo/: a PostgreSQL 15 cluster on 127.0.0.1
# (started with the integration tests' own library, run as the postgres OS
# user when we are root) whose archive_command drops WAL into the cellar
# home's incoming directory, a cellar home, and build/demo/cellar.conf
# pointing at both. The cluster keeps running after this script ends so you
# can try commands on it; `make demo-stop` stops it.
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
mkdir -p "$incoming"
# the cluster runs as postgres and writes WAL into incoming/
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$home"
    chown root: "$home"
fi
chmod 0755 "$home" "$home/demo"

export TMPDIR=$demo
PG_ARCHIVE_COMMAND=$(pg_archive_command "$incoming") || exit 1
export PG_ARCHIVE_COMMAND
echo "demo: starting a PostgreSQL 15 sandbox cluster ..."
pg_start demo "log_min_messages = warning" || { echo "demo: the cluster did not start" >&2; exit 1; }
# remember what demo-stop needs (variables of pg.sh)
declare -p PG_DEMO_DATA PG_DEMO_DIR PG_DEMO_PID PG_DEMO_PORT PG_DEMO_LOG >"$state"

pg_sql demo "CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric);
             INSERT INTO accounts SELECT g, 'owner ' || g, g * 10 FROM generate_series(1, 1000) g;
             SELECT pg_switch_wal();" >/dev/null

cat >"$demo/cellar.conf" <<CONF
; cellar demo configuration (a Barman-style file: cellar reads both)
[cellar]
barman_home = $home
barman_user = $(id -un)
log_file = $demo/cellar.log

[demo]
description = "cellar demo cluster"
conninfo = $PG_DEMO_CONNINFO
archiver = on
compression = gzip
retention_policy = RECOVERY WINDOW OF 7 DAYS
CONF

run() {
    echo
    echo "\$ ./cellar -c build/demo/cellar.conf $*"
    "$CELLAR" -c "$demo/cellar.conf" "$@"
}
run list-server
run show-server demo
run list-backup demo

cat <<MSG

The sandbox is running: PostgreSQL 15 on 127.0.0.1 port $PG_DEMO_PORT, with WAL
archiving into build/demo/home/demo/incoming. Try:

  ./cellar -c build/demo/cellar.conf diagnose
  ./cellar -c build/demo/cellar.conf -f json show-server demo
  psql "$PG_DEMO_CONNINFO"

The console, backups and WAL archiving are not built yet, so there is no
backup to list and no console to open; both arrive with the next issues.
Stop the sandbox with: make demo-stop
MSG
