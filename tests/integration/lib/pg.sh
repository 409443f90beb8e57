# tests/integration/lib/pg.sh - throwaway PostgreSQL 15 clusters for tests and demos.
#
# Usage:
#     . tests/integration/lib/pg.sh
#     pg_start main ['work_mem = 8MB' ...]  # initdb + start; extra postgresql.conf lines
#     pg_sql main "SELECT 1"                # psql -XAtq; prints the result
#     pg_stop main                          # fast shutdown by PID (SIGKILL after 30 s)
#     pg_start_datadir rec /some/pgdata     # start an existing data directory
#     pg_procs main                         # PIDs of the cluster's processes
#     pg_archive_command /some/dir          # print a safe archive_command into a dir
#     pg_cleanup_all                        # stop every cluster, remove temp dirs
#
# pg_start NAME creates a temp dir DIR = ${TMPDIR:-/tmp}/cellar-pg-NAME.XXXXXX
# holding data/ (initdb with data checksums, superuser "postgres"),
# archive/ (target of the default archive_command), the unix socket and
# server.log. The server listens on 127.0.0.1 only, on a free port (another
# port is tried when the chosen one turns out to be taken), and trusts
# 127.0.0.1/32 for all users, for normal and for replication connections.
# initdb and the server run as the postgres OS user when we are root (initdb
# via runuser, the server via setpriv, see _pg_spawn), as ourselves otherwise. After a successful start these are set, NAME
# upper-cased (pg_start main -> PG_MAIN_PORT):
#     PG_<NAME>_PORT      TCP port on 127.0.0.1
#     PG_<NAME>_DATA      data directory
#     PG_<NAME>_DIR       the temp dir (removed by pg_cleanup_all)
#     PG_<NAME>_ARCHIVE   DIR/archive ("" for pg_start_datadir clusters)
#     PG_<NAME>_CONNINFO  "host=127.0.0.1 port=N user=postgres dbname=postgres"
#     PG_<NAME>_LOG       server log file
#     PG_<NAME>_PID       postmaster PID ("" once stopped)
#
# Environment read by the functions:
#     PG_BINDIR           PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#     PG_ARCHIVE_COMMAND  archive_command for pg_start (%p and %f as usual);
#                         default: $(pg_archive_command DIR/archive)
#     PG_PORT_HINT        port to try first (then free ports are picked)
#     PG_START_TIMEOUT    seconds to wait for "ready" (default 60)
#     PG_STOP_TIMEOUT     seconds pg_stop waits after SIGINT (default 30)
#     TMPDIR              where temp dirs go (default /tmp)
#
# pg_start_datadir NAME DATADIR starts an existing data directory (a copy, a
# restored backup) the same way: ownership and mode fixed, a free port, the
# socket and log in a new temp dir. Its archive settings are left exactly as
# the data directory has them (a recovery test must see what the recovery
# wrote); PG_<NAME>_ARCHIVE is "". DATADIR itself is never deleted.
#
# Errors are reported on stderr (with the tail of the server log when the
# server would not start) and as a non-zero return; no function exits the
# caller, and nothing here depends on tap.sh, so scripts such as the demo can
# use this file as well. Install pg_cleanup_all as an EXIT trap (harness_init
# in common.sh does) so that no server outlives the script.
#
# The postmaster is started directly (not through pg_ctl) as a background job
# of the calling shell, so call pg_start from the main shell, not from $(...).
#
# Paths must consist of [A-Za-z0-9_./+-] only (checked): the default
# archive_command uses them unquoted.

# shellcheck shell=bash

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
_PG_NAMES=()  # every cluster started in this shell, in start order

# _pg_err MSG... - print an error on stderr; always returns 1.
_pg_err() {
    printf 'pg.sh: %s\n' "$*" >&2
    return 1
}

# _pg_upper NAME - print NAME upper-cased after checking it is a valid suffix
# for a shell variable name.
_pg_upper() {
    [[ $1 =~ ^[A-Za-z][A-Za-z0-9_]*$ ]] ||
        _pg_err "invalid cluster name '$1' (letters, digits, _; starts with a letter)" || return 1
    printf '%s\n' "${1^^}"
}

# _pg_get NAME FIELD - print PG_<NAME>_<FIELD>, or nothing if unset.
_pg_get() {
    local var="PG_${1^^}_$2"
    printf '%s' "${!var:-}"
}

# _pg_set NAME FIELD VALUE - set the global PG_<NAME>_<FIELD>.
_pg_set() {
    printf -v "PG_${1^^}_$2" '%s' "$3"
}

# _pg_safe_path PATH - fail unless PATH needs no quoting.
_pg_safe_path() {
    [[ $1 =~ ^[A-Za-z0-9_./+-]+$ ]] ||
        _pg_err "path '$1' has characters the harness does not quote; set TMPDIR to a plain path"
}

# _pg_is_root - true when we run as root (and must switch to postgres).
_pg_is_root() {
    [ "$(id -u)" -eq 0 ]
}

# _pg_as_owner CMD [ARG...] - run CMD as the cluster owner, from /, so that
# an unreadable current directory (e.g. /root) does not bother it.
_pg_as_owner() {
    if _pg_is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# _pg_chown PATH... - give PATHs to the postgres user when we are root.
_pg_chown() {
    if _pg_is_root; then
        chown postgres:postgres "$@"
    fi
}

# _pg_alive PID - true when PID is a live process (a zombie counts as dead:
# our PID 1 might not reap reparented postmasters).
_pg_alive() {
    local stat
    [ -n "$1" ] || return 1
    if [ -d /proc/self ]; then
        read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
        stat=${stat##*) }
        [ "${stat%% *}" != Z ]
    else
        kill -0 "$1" 2>/dev/null
    fi
}

# _pg_port_in_use PORT - true when something accepts connections on it.
_pg_port_in_use() {
    (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _pg_pick_port - set _PG_PORT to a port nobody listens on, below the
# kernel's ephemeral range. The check is racy by nature; callers retry.
_pg_pick_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        _PG_PORT=$((15000 + RANDOM % 15000))
        _pg_port_in_use "$_PG_PORT" || return 0
    done
    _pg_err "no free TCP port found"
}

# _pg_log_tail LOG - print the last lines of a log on stderr, indented.
_pg_log_tail() {
    [ -f "$1" ] || return 0
    printf 'pg.sh: last lines of %s:\n' "$1" >&2
    tail -n 20 "$1" | sed 's/^/    /' >&2
}

# _pg_runs_in PID DATA - true when PID is alive and its working directory is
# DATA (a postmaster chdirs to its data directory), so a stale PID that was
# recycled by an unrelated process is never signalled.
_pg_runs_in() {
    local cwd
    [[ $1 =~ ^[0-9]+$ ]] && _pg_alive "$1" || return 1
    [ -e "/proc/$1/cwd" ] || return 0 # no /proc: trust the PID
    cwd=$(readlink "/proc/$1/cwd" 2>/dev/null) || return 1
    [ "$cwd" = "$(cd "$2" 2>/dev/null && pwd -P)" ]
}

# _pg_pidfile_pid DATA - print the PID in DATA/postmaster.pid if that process
# is alive and really runs in DATA.
_pg_pidfile_pid() {
    local pid
    [ -r "$1/postmaster.pid" ] || return 1
    read -r pid <"$1/postmaster.pid" || return 1
    _pg_runs_in "$pid" "$1" || return 1
    printf '%s\n' "$pid"
}

# pg_procs NAME - print the PIDs of every live process whose working directory
# is the cluster's data directory: the postmaster and all its children, even
# children orphaned by a killed postmaster. (Zombies have no cwd.)
pg_procs() {
    local data
    data=$(_pg_get "${1:-}" DATA)
    [ -n "$data" ] || _pg_err "pg_procs: unknown cluster '${1:-}'" || return 1
    [ -d "$data" ] || return 0
    data=$(cd "$data" && pwd -P) || return 1
    find /proc/[0-9]*/cwd -maxdepth 0 -lname "$data" 2>/dev/null |
        sed -n 's|^/proc/\([0-9]*\)/cwd$|\1|p'
    return 0
}

# _pg_spawn LOG CMD [ARG...] - run CMD in the background as the cluster
# owner, stdin from /dev/null, output appended to LOG; $! is CMD's PID. We use
# setpriv, which execs (runuser forks and waits), so that the postmaster is a
# child of this shell and gets reaped when it exits: PID 1 of a container
# may never reap it, which would leave a zombie.
_pg_spawn() {
    local log=$1
    shift
    if _pg_is_root; then
        (cd / && exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@") \
            </dev/null >>"$log" 2>&1 &
    else
        (cd / && exec "$@") </dev/null >>"$log" 2>&1 &
    fi
}

# _pg_wait_ready DATA PID SECONDS - poll DATA/postmaster.pid until PID reports
# itself "ready" (or "standby") there, as pg_ctl -w does. Returns 0 when
# ready, 2 when the process died, 1 on timeout (the process is then killed).
_pg_wait_ready() {
    local data=$1 pid=$2 deadline=$(($3 + SECONDS)) lines
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! _pg_alive "$pid"; then
            wait "$pid" 2>/dev/null
            return 2
        fi
        lines=()
        [ -r "$data/postmaster.pid" ] && mapfile -t lines <"$data/postmaster.pid"
        if [ "${#lines[@]}" -ge 8 ] && [ "${lines[0]}" = "$pid" ]; then
            case "${lines[7]%% *}" in
                ready | standby) return 0 ;;
            esac
        fi
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
}

# _pg_launch NAME DATA DIR [POSTGRES_ARG...] - start the postmaster on a free
# port, retrying with another port when the chosen one is taken, and wait
# until it accepts connections (PG_START_TIMEOUT seconds, default 60).
# POSTGRES_ARGs are extra postgres options (argv, no shell involved).
# Sets PG_<NAME>_PORT, _PID and _LOG.
_pg_launch() {
    local name=$1 data=$2 dir=$3 log="$3/server.log" attempt pid rc
    shift 3
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        if [ "$attempt" -eq 1 ] && [ -n "${PG_PORT_HINT:-}" ]; then
            _PG_PORT=$PG_PORT_HINT
        else
            _pg_pick_port || return 1
        fi
        : >"$log" || _pg_err "cannot write $log" || return 1
        _pg_spawn "$log" "$PG_BINDIR/postgres" -D "$data" -p "$_PG_PORT" "$@"
        pid=$!
        _pg_wait_ready "$data" "$pid" "${PG_START_TIMEOUT:-60}"
        rc=$?
        if [ "$rc" -eq 0 ]; then
            _pg_set "$name" PORT "$_PG_PORT"
            _pg_set "$name" PID "$pid"
            _pg_set "$name" LOG "$log"
            return 0
        fi
        if [ "$rc" -eq 2 ] &&
            grep -qE 'could not bind|could not create any TCP/IP sockets' "$log"; then
            printf 'pg.sh: port %s is taken, trying another one\n' "$_PG_PORT" >&2
            continue
        fi
        if [ "$rc" -eq 1 ]; then
            _pg_err "cluster '$name' was not ready after ${PG_START_TIMEOUT:-60} s; killed it"
        else
            _pg_err "cluster '$name' did not start (postgres exited)"
        fi
        _pg_log_tail "$log"
        return 1
    done
    _pg_err "cluster '$name' did not start: no usable port after $attempt attempts"
    _pg_log_tail "$log"
    return 1
}

# _pg_conninfo NAME - the libpq connection string of a running cluster.
_pg_conninfo() {
    printf 'host=127.0.0.1 port=%s user=postgres dbname=postgres' "$(_pg_get "$1" PORT)"
}

# _pg_new_dir NAME - create the temp dir of cluster NAME (mode 0755, owned by
# postgres when we are root) and print its path.
_pg_new_dir() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/cellar-pg-$1.XXXXXX") ||
        _pg_err "cannot create a temp dir under ${TMPDIR:-/tmp}" || return 1
    if ! _pg_safe_path "$dir"; then
        rm -rf "$dir"
        return 1
    fi
    if ! { chmod 0755 "$dir" && _pg_chown "$dir"; }; then
        rm -rf "$dir"
        return 1
    fi
    printf '%s\n' "$dir"
}

# _pg_register NAME DIR DATA ARCHIVE - record a cluster's variables and add
# it to the list pg_cleanup_all walks.
_pg_register() {
    local n
    for n in "${_PG_NAMES[@]}"; do
        [ "$n" = "$1" ] && break
    done
    [ "${n:-}" = "$1" ] || _PG_NAMES+=("$1")
    _pg_set "$1" DIR "$2"
    _pg_set "$1" DATA "$3"
    _pg_set "$1" ARCHIVE "$4"
    _pg_set "$1" PORT ""
    _pg_set "$1" PID ""
    _pg_set "$1" LOG "$2/server.log"
    _pg_set "$1" CONNINFO ""
}

# _pg_check_free NAME - fail if a cluster of that name is running already.
_pg_check_free() {
    local pid
    pid=$(_pg_get "$1" PID)
    if [ -n "$pid" ] && _pg_alive "$pid"; then
        _pg_err "cluster '$1' is already running (PID $pid); pg_stop it first"
        return 1
    fi
    return 0
}

# pg_archive_command DIR - print an archive_command that copies each WAL file
# into DIR under a hidden temporary name and then renames it, refusing to
# overwrite. Whoever watches DIR (a test, Barman's archive-wal picking up its
# incoming directory) thus never sees a half-copied segment; a plain
# "cp %p DIR/%f" let Barman archive a 6 MB piece of a 16 MB segment.
pg_archive_command() {
    [ -n "${1:-}" ] || _pg_err "usage: pg_archive_command DIR" || return 1
    _pg_safe_path "$1" || return 1
    printf 'test ! -f %s/%%f && cp %%p %s/.%%f.tmp && mv %s/.%%f.tmp %s/%%f\n' \
        "$1" "$1" "$1" "$1"
}

# _pg_conf_string VALUE - quote VALUE as a postgresql.conf string literal.
_pg_conf_string() {
    local v=${1//\\/\\\\}
    printf "'%s'" "${v//\'/\'\'}"
}

# _pg_write_conf DIR DATA [LINE...] - the harness settings: appended to
# postgresql.conf (later lines win, so caller LINEs override ours) and a
# pg_hba.conf that trusts local and 127.0.0.1/32 connections.
_pg_write_conf() {
    local dir=$1 data=$2 archive_cmd line
    shift 2
    archive_cmd=${PG_ARCHIVE_COMMAND:-$(pg_archive_command "$dir/archive")}
    {
        printf '\n# added by tests/integration/lib/pg.sh\n'
        printf "listen_addresses = '127.0.0.1'\n"
        printf "unix_socket_directories = '%s'\n" "$dir"
        printf 'wal_level = replica\n'
        printf 'archive_mode = on\n'
        printf 'archive_command = %s\n' "$(_pg_conf_string "$archive_cmd")"
        printf 'max_wal_senders = 10\n'
        printf 'max_connections = 30\n'
        printf 'fsync = off\n'
        printf 'synchronous_commit = off\n'
        printf 'shared_buffers = 16MB\n'
        printf "log_line_prefix = '%%m [%%p] '\n"
        for line in "$@"; do
            printf '%s\n' "$line"
        done
    } >>"$data/postgresql.conf" || return 1
    # Truncating the existing file keeps its owner (postgres) and mode.
    cat >"$data/pg_hba.conf" <<'EOF' || return 1
# written by tests/integration/lib/pg.sh: trust everything local
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   trust
host    replication  all   127.0.0.1/32   trust
EOF
}

# pg_start NAME [CONF_LINE...] - create and start a fresh cluster; see the top
# of this file. Returns non-zero (temp dir removed) when anything fails.
pg_start() {
    local name=${1:-} dir data
    _pg_upper "$name" >/dev/null || return 1
    shift
    _pg_check_free "$name" || return 1
    [ -x "$PG_BINDIR/initdb" ] || _pg_err "no initdb in PG_BINDIR=$PG_BINDIR" || return 1
    dir=$(_pg_new_dir "$name") || return 1
    data="$dir/data"
    _pg_register "$name" "$dir" "$data" "$dir/archive"
    if ! { mkdir "$dir/archive" && _pg_chown "$dir/archive"; }; then
        _pg_forget "$name"
        return 1
    fi
    if ! _pg_as_owner "$PG_BINDIR/initdb" -D "$data" -U postgres -A trust -k -E UTF8 \
        --locale=C --no-sync --no-instructions >"$dir/initdb.log" 2>&1; then
        _pg_err "initdb failed for cluster '$name'"
        _pg_log_tail "$dir/initdb.log"
        _pg_forget "$name"
        return 1
    fi
    if ! _pg_write_conf "$dir" "$data" "$@"; then
        _pg_err "cannot write the configuration of cluster '$name'"
        _pg_forget "$name"
        return 1
    fi
    if ! _pg_launch "$name" "$data" "$dir"; then
        _pg_forget "$name"
        return 1
    fi
    _pg_set "$name" CONNINFO "$(_pg_conninfo "$name")"
}

# pg_start_datadir NAME DATADIR - start an existing data directory on a free
# port (see the top of this file). DATADIR is chowned to postgres and set to
# mode 0700 when we are root; its archive settings are not touched.
pg_start_datadir() {
    local name=${1:-} data=${2:-} dir pid link
    _pg_upper "$name" >/dev/null || return 1
    _pg_check_free "$name" || return 1
    [ -f "$data/PG_VERSION" ] ||
        _pg_err "'$data' is not a PostgreSQL data directory (no PG_VERSION)" || return 1
    data=$(cd "$data" && pwd -P) && _pg_safe_path "$data" || return 1
    if pid=$(_pg_pidfile_pid "$data"); then
        _pg_err "a postmaster (PID $pid) already runs in '$data'"
        return 1
    fi
    if _pg_is_root; then
        chown -R postgres:postgres "$data" || _pg_err "cannot chown '$data'" || return 1
        # tablespaces live outside DATADIR, behind the pg_tblspc symlinks
        for link in "$data"/pg_tblspc/*; do
            [ -L "$link" ] || continue
            chown -R postgres:postgres "$(readlink -f "$link")" ||
                _pg_err "cannot chown tablespace '$link'" || return 1
        done
    fi
    chmod 0700 "$data" || _pg_err "cannot chmod '$data'" || return 1
    dir=$(_pg_new_dir "$name") || return 1
    _pg_register "$name" "$dir" "$data" ""
    # Command-line settings win over the data directory's own files: the copy
    # must not listen elsewhere or put its socket in a directory that is gone.
    if ! _pg_launch "$name" "$data" "$dir" \
        -c listen_addresses=127.0.0.1 -c "unix_socket_directories=$dir"; then
        _pg_forget "$name"
        return 1
    fi
    _pg_set "$name" CONNINFO "$(_pg_conninfo "$name")"
}

# pg_sql NAME SQL - run SQL with psql -XAtq (stop at the first error) and
# print the result. Non-zero on a connection or SQL error.
pg_sql() {
    local port
    [ $# -eq 2 ] || _pg_err "usage: pg_sql NAME SQL" || return 1
    port=$(_pg_get "$1" PORT)
    [ -n "$port" ] || _pg_err "pg_sql: cluster '$1' is not running" || return 1
    PGCONNECT_TIMEOUT=10 "$PG_BINDIR/psql" -XAtq -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$2"
}

# _pg_wait_gone SECONDS PID... - poll until none of the PIDs is alive.
_pg_wait_gone() {
    local deadline=$((SECONDS + $1)) p left
    shift
    while :; do
        left=0
        for p in "$@"; do
            _pg_alive "$p" && left=1
        done
        [ "$left" -eq 0 ] && return 0
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# pg_stop NAME - stop the cluster by PID: SIGINT (fast shutdown), wait up to
# PG_STOP_TIMEOUT (30) s, then SIGKILL the postmaster and its children.
# Returns 0 only when no process of the cluster is left. Stopping a stopped
# cluster is not an error.
pg_stop() {
    local name=${1:-} data pid procs=()
    data=$(_pg_get "$name" DATA)
    [ -n "$data" ] || _pg_err "pg_stop: unknown cluster '$name'" || return 1
    pid=$(_pg_pidfile_pid "$data") || pid=$(_pg_get "$name" PID)
    if _pg_runs_in "$pid" "$data"; then
        mapfile -t procs < <(pg_procs "$name")
        kill -INT "$pid" 2>/dev/null
        if ! _pg_wait_gone "${PG_STOP_TIMEOUT:-30}" "$pid"; then
            printf 'pg.sh: cluster %s (PID %s) ignored SIGINT for %s s; killing it\n' \
                "$name" "$pid" "${PG_STOP_TIMEOUT:-30}" >&2
            kill -KILL "$pid" "${procs[@]}" 2>/dev/null
        fi
    fi
    if [ -n "$pid" ] && ! _pg_alive "$pid"; then
        wait "$pid" 2>/dev/null # reap it if it is our child
    fi
    # After a SIGKILL (or a crash) children may outlive the postmaster briefly.
    mapfile -t procs < <(pg_procs "$name")
    if [ "${#procs[@]}" -gt 0 ] && ! _pg_wait_gone 5 "${procs[@]}"; then
        kill -KILL "${procs[@]}" 2>/dev/null
        if ! _pg_wait_gone 5 "${procs[@]}"; then
            _pg_err "cluster '$name' still has processes: ${procs[*]}"
            return 1
        fi
    fi
    _pg_set "$name" PID ""
    _pg_set "$name" PORT ""
    return 0
}

# _pg_forget NAME - stop NAME if needed, delete its temp dir and drop it from
# the cleanup list. Used when a start fails and by pg_cleanup_all.
_pg_forget() {
    local name=$1 dir n keep=()
    pg_stop "$name" 2>/dev/null
    dir=$(_pg_get "$name" DIR)
    [ -n "$dir" ] && rm -rf "$dir"
    for n in "${_PG_NAMES[@]}"; do
        [ "$n" = "$name" ] || keep+=("$n")
    done
    _PG_NAMES=("${keep[@]}")
    _pg_set "$name" DIR ""
}

# pg_cleanup_all - stop every cluster started from this shell and remove the
# temp dirs (data directories given to pg_start_datadir are left in place).
# Returns non-zero if some cluster could not be stopped.
pg_cleanup_all() {
    local name rc=0
    for name in "${_PG_NAMES[@]}"; do
        pg_stop "$name" || rc=1
        _pg_forget "$name"
    done
    return "$rc"
}
