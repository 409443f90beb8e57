#!/bin/bash
# tests/integration/t_harness_pg.sh - tests of lib/pg.sh itself (TAP).
#
# Two clusters at once on different ports; SQL; WAL archiving through the
# default archive_command; pg_stop leaves no process; pg_start_datadir starts
# a copy of a stopped cluster on a new port; a taken port is retried; a failed
# start returns an error and leaves no temp dir; pg_cleanup_all removes
# everything. Run: tests/run.sh tests/integration/t_harness_pg.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 23

# no_procs NAME - true when the cluster has no process left.
no_procs() {
    [ -z "$(pg_procs "$1")" ]
}

# gone PID - true when PID is no longer a live process.
gone() {
    ! _pg_alive "$1"
}

# archived FILE - true when FILE exists and has a full WAL segment's size.
archived() {
    [ "$(stat -c %s "$1" 2>/dev/null)" = 16777216 ]
}

# --- two clusters at once -------------------------------------------------
ok "pg_start a" pg_start a || tap_bail "cannot start a cluster"
ok "pg_start b with an extra setting" pg_start b "work_mem = '7MB'" ||
    tap_bail "cannot start a second cluster"
ok "the two clusters listen on different ports" test "$PG_A_PORT" != "$PG_B_PORT"
is "$(pg_sql a 'SELECT 1')" 1 "SQL works on a"
is "$(pg_sql b 'SHOW work_mem')" 7MB "extra postgresql.conf lines are applied"
is "$(pg_sql a 'SHOW data_checksums')" on "data checksums are on"
settings=$(pg_sql a "SELECT string_agg(setting, ' ' ORDER BY name) FROM pg_settings
    WHERE name IN ('archive_mode', 'listen_addresses', 'wal_level')")
is "$settings" "on 127.0.0.1 replica" \
    "listens on 127.0.0.1 only, wal_level replica, archive_mode on"
is "$PG_A_CONNINFO" "host=127.0.0.1 port=$PG_A_PORT user=postgres dbname=postgres" \
    "PG_A_CONNINFO"
is "$(pg_sql b "SELECT count(*) FROM pg_stat_replication")" 0 \
    "SQL works on b"
ok "replication connections are trusted" \
    "$PG_BINDIR/psql" -XAtq -d "host=127.0.0.1 port=$PG_A_PORT user=postgres replication=true" \
    -c "IDENTIFY_SYSTEM"

# --- archiving --------------------------------------------------------------
pg_sql a "CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g" >&2
seg=$(pg_sql a "SELECT pg_walfile_name(pg_switch_wal())")
like "$seg" '^[0-9A-F]{24}$' "pg_switch_wal names the closed segment"
ok "the segment reaches PG_A_ARCHIVE within 20 s" wait_for 20 archived "$PG_A_ARCHIVE/$seg"

# --- pg_stop ----------------------------------------------------------------
pid_a=$PG_A_PID
ok "pg_stop a" pg_stop a
ok "the postmaster of a is gone" gone "$pid_a"
ok "no process of a is left" no_procs a
is "$(pg_sql b 'SELECT 2')" 2 "b still answers after a stopped"

# --- pg_start_datadir on a copy ----------------------------------------------
cp -a "$PG_A_DATA" "$T/copy"
ok "pg_start_datadir c on a copy of a" pg_start_datadir c "$T/copy"
ok "c listens on a port of its own" test "$PG_C_PORT" != "$PG_B_PORT"
is "$(pg_sql c 'SELECT count(*) FROM t')" 1000 "the copy answers with a's data"

# --- a taken port is retried ---------------------------------------------------
PG_PORT_HINT=$PG_B_PORT ok "pg_start d when the first port tried is taken" pg_start d
ok "d found another port" test -n "$PG_D_PORT" -a "$PG_D_PORT" != "$PG_B_PORT"

# --- failure is reported, not fatal ------------------------------------------
err=$(PG_BINDIR=/nonexistent pg_start e 2>&1; echo "status=$?")
like "$err" 'no initdb in PG_BINDIR=/nonexistent.*status=1' \
    "a failed pg_start returns 1 with a message"

# --- cleanup ----------------------------------------------------------------
dirs=("$PG_A_DIR" "$PG_B_DIR" "$PG_C_DIR" "$PG_D_DIR")
pg_cleanup_all
left=$(ls -d "${dirs[@]}" 2>/dev/null; pg_procs b; pg_procs c; pg_procs d)
is "$left" "" "pg_cleanup_all stops every cluster and removes every temp dir"
