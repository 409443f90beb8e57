#!/bin/bash
# bench/streaming.sh - WAL streaming and backup_method = postgres: cellar
# against Barman 3.4 on one live PostgreSQL 15 cluster (issue 17).
#
# The cluster: tests/integration/lib/pg.sh (initdb -k, loopback only,
# fsync = off), synchronous_commit = on (pg.sh turns it off; off would let
# the WAL writer hold each commit's WAL back for up to wal_writer_delay,
# 200 ms, before any WAL sender may send it), autovacuum off, a pgbench
# database (pgbench -i -s STREAMBENCH_SCALE, every index in the tablespace
# bench_tbs, so pg_basebackup maps a tablespace too).
#
# Three homes, each with its own configuration file in the temporary
# directory, all archiving the same cluster at the same time:
#   cellar-stream  streaming_archiver = on, archiver = off, slot_name =
#                  cellar_bench, streaming_archiver_name = cellar_receive_wal:
#                  `cellar receive-wal bench`, started by this script (not
#                  by cron, so that the script knows the PID it stops).
#   cellar-cmd     archiver = on: PostgreSQL's archive_command is
#                  `cellar put-wal bench %p`, run as postgres (incoming/ is
#                  group postgres, mode 2770, as doc/archiving.md says).
#   barman         Barman 3.4, streaming_archiver = on, archiver = off,
#                  slot_name = barman_bench, streaming_archiver_name =
#                  barman_receive_wal: `barman receive-wal bench`, started
#                  by this script.
# Each receiver has its own physical slot (`receive-wal --create-slot` of
# each tool). While the load runs, `archive-wal` runs for each home every
# STREAMBENCH_ARCHIVE_EVERY (5) seconds, as cron would (cron runs once a
# minute; the positions below count incoming/ and streaming/ too, so how
# often it runs does not change them).
#
# Part 1, archive lag. pg_switch_wal (so that every tool starts from the
# same finished segment), then pgbench -n -c 2 -j 2 -R STREAMBENCH_RATE
# (300 transactions a second, TPC-B-like, fixed rate) for
# STREAMBENCH_SECONDS (60). bench/lib/archive_lag.py samples every 0.5 s
# how far each archive's newest position is behind pg_current_wal_lsn(), in
# bytes and in seconds (the age of the newest WAL the archive has: the time
# since the primary wrote it; see that file for how both are computed):
#   cellar streaming   what is in cellar's streaming/ (the .partial up to
#                      the last byte received) or wals/
#   cellar put-wal     the newest segment archive_command handed to
#                      `cellar put-wal` (incoming/ or wals/): a segment only
#                      leaves PostgreSQL when it is full, so this lag is
#                      the time a segment takes to fill, a sawtooth
#   barman streaming   what is in Barman's streaming/ or wals/
#   ... pg_stat_replication write_lsn / flush_lsn of each receiver:
#                      informative, what PostgreSQL is told. pg_receivewal
#                      reports every --status-interval (10 s) and, without
#                      --synchronous, its flush position only moves when it
#                      closes a segment; the console's lag columns come from
#                      these.
# Goal (issue 17): cellar streaming lag under 1 s (at the 95th percentile).
#
# Part 2, backup time, in STREAMBENCH_RUNS (3) rounds of three rows each (a
# round times each row once, so a slow spell of this shared machine hits
# every row alike; the median is reported), receivers still running, no
# load:
#   cellar postgres    cellar backup, backup_method = postgres (plain)
#   barman postgres    barman backup, backup_method = postgres (plain)
#   cellar rsync       cellar backup, backup_method = local-rsync,
#                      parallel_jobs = STREAMBENCH_RSYNC_JOBS (1: one copy
#                      stream, as pg_basebackup)
# All with immediate_checkpoint = true, no compression, reuse_backup = off,
# into the same file system; before each run: archive-wal of every home,
# CHECKPOINT, every source file read once (warm page cache), `sync`. The
# time is the wall time of the one command (Barman's includes the check it
# runs first and the archive-wal it runs after the copy; cellar's the WAL
# switch at the end). After each run, untimed: exit status 0, the backup's
# status DONE or WAITING_FOR_WALS (`cellar list-backup`, Barman's
# backup.info), `cellar verify-backup` for cellar's (pg_verifybackup on the
# manifest pg_basebackup or cellar wrote); then the backup is deleted.
# Goal (issue 17): postgres-method backup no slower than Barman's
# (barman / cellar >= 1).
#
# Printed: one table per part, ratios, the goals as met or not (never
# asserted). Exit status 1 when a row failed.
#
#   bench/streaming.sh                         scale 20, 60 s, 3 rounds: about 3 minutes on 2 CPUs
#   STREAMBENCH_SCALE=5 STREAMBENCH_SECONDS=20 STREAMBENCH_RUNS=1   a quick end-to-end run
# Environment:
#   STREAMBENCH_SCALE         pgbench scale (20: about 300 MiB copied)
#   STREAMBENCH_SECONDS       seconds of load in part 1 (60)
#   STREAMBENCH_RATE          pgbench transactions a second (300)
#   STREAMBENCH_RUNS          rounds of part 2 (3)
#   STREAMBENCH_ARCHIVE_EVERY seconds between archive-wal runs in part 1 (5)
#   STREAMBENCH_RSYNC_JOBS    parallel_jobs of the rsync row (1)
#   BENCH_DIR                 where the temporary directory goes (/var/tmp)
#   STREAMBENCH_CELLAR        the cellar binary (default: ./cellar of this tree)
#   STREAMBENCH_KEEP          set: keep the temporary directory (the tools'
#                             logs and homes; the cluster is stopped)
#   PG_BINDIR                 PostgreSQL 15 programs (/usr/lib/postgresql/15/bin)
set -eu
NAME=streaming
TOP=$(cd "$(dirname "$0")/.." && pwd)
CELLAR=${STREAMBENCH_CELLAR:-$TOP/cellar}
SCALE=${STREAMBENCH_SCALE:-20}
SECS=${STREAMBENCH_SECONDS:-60}
RATE=${STREAMBENCH_RATE:-300}
RUNS=${STREAMBENCH_RUNS:-3}
ARCHIVE_EVERY=${STREAMBENCH_ARCHIVE_EVERY:-5}
RSYNC_JOBS=${STREAMBENCH_RSYNC_JOBS:-1}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PYTHON=/usr/bin/python3 # Debian's, which has psycopg2 (Barman needs it)
SERVER=bench

die() {
    echo "$NAME: $*" >&2
    exit 1
}

# ---- what is needed -------------------------------------------------------------------
for c in barman rsync jq runuser flock; do
    command -v "$c" >/dev/null || die "$c is not installed (make deps)"
done
for c in pgbench pg_receivewal pg_basebackup initdb; do
    [ -x "$PG_BINDIR/$c" ] || die "no $c in $PG_BINDIR (make deps)"
done
"$PYTHON" -c 'import psycopg2' 2>/dev/null || die "$PYTHON cannot import psycopg2 (python3-psycopg2)"
[ "$(id -u)" -eq 0 ] || die "run as root (cellar and Barman run as root, PostgreSQL as postgres)"
[ -x "$CELLAR" ] || die "no program $CELLAR: build cellar first (make)"
for v in SCALE SECS RATE RUNS ARCHIVE_EVERY RSYNC_JOBS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "STREAMBENCH_$v must be a positive whole number (is '${!v}')"
done
runuser -u postgres -- test -x "$CELLAR" || die "the postgres user cannot run $CELLAR (archive_command runs it)"
"$CELLAR" receive-wal --help >/dev/null 2>&1 || die "this cellar has no receive-wal command (issue 17 not built)"

# ---- the work directory, cleaned up at exit --------------------------------------------
# shellcheck source=tests/integration/lib/pg.sh
. "$TOP/tests/integration/lib/pg.sh"

work=""
PIDS=() # every background process this script started
cleanup() {
    local p
    set +e
    if [ -n "$work" ]; then
        [ -f "$work/lag.stop" ] || : >"$work/lag.stop" 2>/dev/null
        "$CELLAR" -c "$work/cellar-stream.conf" receive-wal --stop "$SERVER" >/dev/null 2>&1
        barman -c "$work/barman.conf" receive-wal --stop "$SERVER" >/dev/null 2>&1
    fi
    for p in "${PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null || continue
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    pg_cleanup_all
    if [ -n "$work" ] && [ -n "${STREAMBENCH_KEEP:-}" ]; then
        echo "$NAME: kept $work (logs, homes, configurations)" >&2
    elif [ -n "$work" ]; then
        rm -rf "$work"
    fi
}
base=${BENCH_DIR:-/var/tmp}
[ -d "$base" ] || die "BENCH_DIR '$base' is not a directory"
work=$(mktemp -d "$base/cellar-streambench-XXXXXX") || die "cannot make a directory under $base"
chmod 0755 "$work"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
TMPDIR=$work # pg.sh puts the cluster here: the same file system as the backups
LOG=$work/tools.log
: >"$LOG"

now() { echo "${EPOCHREALTIME/[.,]/}"; } # microseconds
pgbench() { "$PG_BINDIR/pgbench" -h 127.0.0.1 -p "$PG_BENCH_PORT" -U postgres "$@" postgres; }
sql() { pg_sql bench "$1"; }
cs() { "$CELLAR" -c "$work/cellar-stream.conf" "$@"; }
cr() { "$CELLAR" -c "$work/cellar-rsync.conf" "$@"; }
cc() { "$CELLAR" -c "$work/cellar-cmd.conf" "$@"; }
bm() { barman -c "$work/barman.conf" "$@"; }
tail_log() { tail -n "${1:-3}" "$LOG" | tr '\n' ' '; }

# ---- the cluster and the database --------------------------------------------------------
echo "$NAME: PostgreSQL 15 and pgbench -i -s $SCALE..." >&2
PG_ARCHIVE_COMMAND=/bin/true pg_start bench 'synchronous_commit = on' 'shared_buffers = 128MB' \
    'max_wal_size = 2GB' 'checkpoint_timeout = 1h' 'autovacuum = off' 'log_checkpoints = off' \
    'max_replication_slots = 10' || die "cannot start PostgreSQL"
TBS=$work/tbs
mkdir "$TBS" && chown postgres:postgres "$TBS"
sql "CREATE TABLESPACE bench_tbs LOCATION '$TBS'" >/dev/null || die "CREATE TABLESPACE failed"
pgbench -i -q -s "$SCALE" --index-tablespace bench_tbs >"$work/pgbench-init.log" 2>&1 ||
    die "pgbench -i failed: $(tail -3 "$work/pgbench-init.log")"
sql CHECKPOINT >/dev/null

# ---- the homes and their configurations ------------------------------------------------------
# conf FILE HOME [LINE...] - a global section and the server section
conf() {
    local file=$1 home=$2
    shift 2
    {
        printf '[barman]\nbarman_home = %s\nbarman_user = %s\nlog_file = %s.log\nlog_level = INFO\n' \
            "$home" "$(id -un)" "$home"
        printf 'path_prefix = %s\n\n' "$PG_BINDIR"
        printf '[%s]\ndescription = streaming benchmark\nconninfo = %s\n' "$SERVER" "$PG_BENCH_CONNINFO"
        printf 'streaming_conninfo = %s\nimmediate_checkpoint = true\nnetwork_compression = false\n' \
            "$PG_BENCH_CONNINFO"
        printf 'reuse_backup = off\n'
        printf '%s\n' "$@"
    } >"$file"
    chmod 0644 "$file"
}
STREAM=('archiver = off' 'streaming_archiver = on')
conf "$work/cellar-stream.conf" "$work/cs" "${STREAM[@]}" 'slot_name = cellar_bench' \
    'streaming_archiver_name = cellar_receive_wal' 'backup_method = postgres'
conf "$work/cellar-rsync.conf" "$work/cs" "${STREAM[@]}" 'slot_name = cellar_bench' \
    'streaming_archiver_name = cellar_receive_wal' 'backup_method = local-rsync' \
    "parallel_jobs = $RSYNC_JOBS"
conf "$work/cellar-cmd.conf" "$work/cc" 'archiver = on' 'backup_method = local-rsync'
conf "$work/barman.conf" "$work/bm" "${STREAM[@]}" 'slot_name = barman_bench' \
    'streaming_archiver_name = barman_receive_wal' 'backup_method = postgres'
mkdir -p "$work/cs" "$work/bm"
# put-wal runs as postgres: it passes through the home and writes incoming/
mkdir -p "$work/cc/$SERVER/incoming"
chmod 0711 "$work/cc" "$work/cc/$SERVER"
chgrp postgres "$work/cc/$SERVER/incoming"
chmod 2770 "$work/cc/$SERVER/incoming"
touch "$work/cc.log" && chmod 0666 "$work/cc.log"
if ! sql "ALTER SYSTEM SET archive_command = '$CELLAR -c $work/cellar-cmd.conf put-wal $SERVER %p'" >/dev/null ||
    ! sql "SELECT pg_reload_conf()" >/dev/null; then
    die "cannot set archive_command"
fi

# ---- the receivers ----------------------------------------------------------------------------
cs receive-wal --create-slot "$SERVER" >>"$LOG" 2>&1 || die "cellar receive-wal --create-slot failed: $(tail_log)"
bm receive-wal --create-slot "$SERVER" >>"$LOG" 2>&1 || die "barman receive-wal --create-slot failed: $(tail_log)"
cs receive-wal "$SERVER" >>"$work/cellar-receive-wal.out" 2>&1 &
PIDS+=($!)
bm receive-wal "$SERVER" >>"$work/barman-receive-wal.out" 2>&1 &
PIDS+=($!)
streaming() { # APPLICATION_NAME
    [ "$(sql "SELECT count(*) FROM pg_stat_replication WHERE application_name = '$1' AND state = 'streaming'")" = 1 ]
}
for ((i = 0; i < 300; i++)); do
    streaming cellar_receive_wal && streaming barman_receive_wal && break
    sleep 0.1
done
streaming cellar_receive_wal || die "cellar's receiver does not stream: $(tail -3 "$work/cellar-receive-wal.out")"
streaming barman_receive_wal || die "Barman's receiver does not stream: $(tail -3 "$work/barman-receive-wal.out")"

# each archive gets one finished segment, and the checks see it
sql "CREATE TABLE IF NOT EXISTS bench_tick (t timestamptz)" >/dev/null
cs switch-wal --force --archive --archive-timeout 60 "$SERVER" >>"$LOG" 2>&1 ||
    die "cellar switch-wal --archive (streaming) failed: $(tail_log)"
cc archive-wal "$SERVER" >>"$LOG" 2>&1 || die "cellar archive-wal (put-wal home) failed: $(tail_log)"
bm switch-wal --force --archive --archive-timeout 60 "$SERVER" >>"$LOG" 2>&1 ||
    die "barman switch-wal --archive failed: $(tail_log)"
[ -n "$(ls "$work/cc/$SERVER/wals"/*/ 2>/dev/null)" ] ||
    die "no WAL reached cellar through put-wal: $(sql 'SELECT last_failed_wal FROM pg_stat_archiver')"
bm check "$SERVER" >"$work/barman-check.log" 2>&1 ||
    echo "$NAME: barman check reports failures: $(grep -i failed "$work/barman-check.log" | tr '\n' ' ')" >&2
cs check "$SERVER" >"$work/cellar-check.log" 2>&1 ||
    echo "$NAME: cellar check reports failures: $(grep -i failed "$work/cellar-check.log" | tr '\n' ' ')" >&2

archive_all() {
    cs archive-wal "$SERVER" >>"$LOG" 2>&1 &&
        cc archive-wal "$SERVER" >>"$LOG" 2>&1 &&
        bm archive-wal "$SERVER" >>"$LOG" 2>&1
}

# ---- part 1: archive lag under load ---------------------------------------------------------------
echo "$NAME: part 1: pgbench -c 2 -R $RATE for $SECS s, archive lag sampled every 0.5 s..." >&2
rm -f "$work/lag.start" "$work/lag.stop"
"$PYTHON" "$TOP/bench/lib/archive_lag.py" --conninfo "$PG_BENCH_CONNINFO" --interval 0.5 \
    --start "$work/lag.start" --stop "$work/lag.stop" \
    --dir "cellar_stream=$work/cs/$SERVER/streaming,$work/cs/$SERVER/wals" \
    --dir "cellar_cmd=$work/cc/$SERVER/incoming,$work/cc/$SERVER/wals" \
    --dir "barman_stream=$work/bm/$SERVER/streaming,$work/bm/$SERVER/wals" \
    --app "cellar_app=cellar_receive_wal" --app "barman_app=barman_receive_wal" \
    >"$work/lag.out" 2>"$work/lag.err" &
lag_pid=$!
PIDS+=("$lag_pid")
( # archive-wal as cron would run it
    while [ ! -f "$work/lag.stop" ]; do
        archive_all || true
        sleep "$ARCHIVE_EVERY"
    done
) &
PIDS+=($!)
archiver_pid=$!
sleep 1
sql "SELECT pg_switch_wal()" >/dev/null
# the switched segment reaches every archive before counting starts
for ((i = 0; i < 300; i++)); do
    [ -z "$(find "$PG_BENCH_DATA/pg_wal/archive_status" -name '*.ready' -print -quit)" ] && break
    sleep 0.1
done
sleep 1
: >"$work/lag.start"
pgbench -n -c 2 -j 2 -T "$SECS" -R "$RATE" >"$work/pgbench-load.log" 2>&1 ||
    echo "$NAME: pgbench ended with an error: $(tail -3 "$work/pgbench-load.log")" >&2
: >"$work/lag.stop"
wait "$lag_pid" || die "archive_lag.py failed: $(tail -5 "$work/lag.err")"
wait "$archiver_pid" || true
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench-load.log" | head -1)

# ---- part 2: backup time ------------------------------------------------------------------------------
declare -A TIMES FAILED STATUS
newest_id() { # KEY
    case $1 in
        cellar_pg | cellar_rsync) cs list-backup --minimal "$SERVER" 2>/dev/null | head -1 ;;
        barman_pg) bm list-backup --minimal "$SERVER" 2>/dev/null | head -1 ;;
    esac
}
run_backup() { # KEY
    case $1 in
        cellar_pg) cs backup "$SERVER" >>"$LOG" 2>&1 ;;
        cellar_rsync) cr backup "$SERVER" >>"$LOG" 2>&1 ;;
        barman_pg) bm backup "$SERVER" >>"$LOG" 2>&1 ;;
    esac
}
check_backup() { # KEY ID - prints the status; fails when the backup is not good
    local key=$1 id=$2 status
    case $key in
        cellar_*)
            status=$(cs -f json list-backup "$SERVER" |
                jq -r --arg id "$id" 'select(.event == "result") | .data.backups[] | select(.backup_id == $id) | .status')
            case $status in DONE | WAITING_FOR_WALS) ;; *) echo "cellar: backup $id has status '$status'"; return 1 ;; esac
            cs verify-backup "$SERVER" "$id" >>"$LOG" 2>&1 ||
                { echo "cellar verify-backup $id failed: $(tail_log 5)"; return 1; } ;;
        barman_pg)
            status=$(sed -n 's/^status=//p' "$work/bm/$SERVER/base/$id/backup.info")
            case $status in DONE | WAITING_FOR_WALS) ;; *) echo "barman: backup $id has status '$status'"; return 1 ;; esac ;;
    esac
    echo "$status"
}
delete_backup() { # KEY ID
    case $1 in
        cellar_*) cs delete "$SERVER" "$2" >>"$LOG" 2>&1 ;;
        barman_pg) bm delete "$SERVER" "$2" >>"$LOG" 2>&1 ;;
    esac
}
prepare() {
    archive_all || echo "$NAME: archive-wal failed: $(tail_log)" >&2
    sql CHECKPOINT >/dev/null || die "CHECKPOINT failed"
    find "$PG_BENCH_DATA" "$TBS" -path "$PG_BENCH_DATA/pg_wal" -prune -o -type f -print0 |
        xargs -0 cat >/dev/null 2>&1 || true
    sync
}
timed() { # KEY
    local key=$1 prev id t0 t1 out
    [ -z "${FAILED[$key]:-}" ] || return 1
    prev=$(newest_id "$key")
    prepare
    echo "$NAME:   $key..." >&2
    t0=$(now)
    if ! run_backup "$key"; then
        FAILED[$key]="backup failed: $(tail_log)"
        echo "$NAME: $key: ${FAILED[$key]}" >&2
        return 1
    fi
    t1=$(now)
    id=$(newest_id "$key")
    if [ -z "$id" ] || [ "$id" = "$prev" ]; then
        FAILED[$key]="no new backup in the catalogue"
        return 1
    fi
    if ! out=$(check_backup "$key" "$id"); then
        FAILED[$key]=$out
        echo "$NAME: $key: $out" >&2
        return 1
    fi
    STATUS[$key]="${STATUS[$key]:-}${STATUS[$key]:+,}$out"
    TIMES[$key]="${TIMES[$key]:-}${TIMES[$key]:+ }$((t1 - t0))"
    delete_backup "$key" "$id" || echo "$NAME: cannot delete $key backup $id: $(tail_log)" >&2
}
have() { [ -n "${TIMES[$1]:-}" ] && [ -z "${FAILED[$1]:-}" ]; }
median() { tr ' ' '\n' <<<"${TIMES[$1]}" | sort -n | awk '{a[NR] = $1} END {printf "%.2f", a[int((NR + 1) / 2)] / 1e6}'; }
spread() { tr ' ' '\n' <<<"${TIMES[$1]}" | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo / 1e6, hi / 1e6}'; }
nruns() { wc -w <<<"${TIMES[$1]:-}" | tr -d ' '; }
ratio() { # A B - median(A) / median(B), or -
    if have "$1" && have "$2"; then awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {printf "%.2f", a / b}'; else printf -- -; fi
}
# goal TEXT VALUE OP LIMIT - "goal ...: yes/no/cannot tell"
goal() {
    local met
    if [ "$2" = - ]; then
        met="cannot tell (a row is missing)"
    elif awk -v r="$2" -v l="$4" -v op="$3" 'BEGIN {exit !((op == "<=") ? r <= l : (op == ">=") ? r >= l : (op == "<") ? r < l : r > l)}'; then
        met=yes
    else
        met=no
    fi
    printf 'goal: %s: %s\n' "$1" "$met"
}

read -r SRC_BYTES < <( (find "$PG_BENCH_DATA" -path "$PG_BENCH_DATA/pg_wal" -prune -o -type f -printf '%s\n'
    find "$TBS" -type f -printf '%s\n') | awk '{s += $1} END {printf "%d\n", s}')
echo "$NAME: part 2: backups, $RUNS round(s)..." >&2
KEYS=(cellar_pg barman_pg cellar_rsync)
for ((r = 1; r <= RUNS; r++)); do
    echo "$NAME: round $r of $RUNS" >&2
    for key in "${KEYS[@]}"; do
        timed "$key" || true
    done
done

# ---- the report ----------------------------------------------------------------------------------------
lagf() { awk -F'\t' -v r="$1" -v c="$2" '$1 == r {print $c}' "$work/lag.out"; }
read -r _ wal_bytes wal_secs < <(grep '^wal' "$work/lag.out" | tr '\t' ' ')
printf '\nPostgreSQL 15, pgbench scale %s (indexes in a tablespace), %s CPUs (a shared machine: figures vary from run to run)\n' \
    "$SCALE" "$(nproc)"
printf '\npart 1: archive lag behind pg_current_wal_lsn(), pgbench -c 2 -R %s for %s s (%s tps), samples every 0.5 s\n' \
    "$RATE" "$SECS" "${tps:-?}"
printf 'WAL written while sampling: %s MiB in %s s (%s KiB/s; a 16 MiB segment fills in %s s)\n' \
    "$(awk -v b="$wal_bytes" 'BEGIN {printf "%.1f", b / 1048576}')" "$wal_secs" \
    "$(awk -v b="$wal_bytes" -v s="$wal_secs" 'BEGIN {printf "%.0f", (s > 0 ? b / 1024 / s : 0)}')" \
    "$(awk -v b="$wal_bytes" -v s="$wal_secs" 'BEGIN {printf "%.0f", (b > 0 ? 16777216 * s / b : 0)}')"
printf '%-48s %7s %12s %12s %9s %9s %9s\n' "archive (what counts)" samples "median B" "p95 B" "median s" "p95 s" "max s"
lagrow() { # ROW LABEL
    if [ -z "$(lagf "$1" 2)" ] || [ "$(lagf "$1" 2)" = 0 ]; then
        printf '%-48s %s\n' "$2" "FAILED: no sample (see $work/lag.err)"
        return
    fi
    printf '%-48s %7s %12s %12s %9s %9s %9s\n' "$2" "$(lagf "$1" 2)" "$(lagf "$1" 3)" "$(lagf "$1" 4)" \
        "$(lagf "$1" 5)" "$(lagf "$1" 6)" "$(lagf "$1" 7)"
}
lagrow cellar_stream "cellar streaming (streaming/ + .partial, wals/)"
lagrow cellar_cmd "cellar archive_command (put-wal: incoming/, wals/)"
lagrow barman_stream "barman streaming (streaming/ + .partial, wals/)"
lagrow cellar_app.write "  cellar receiver, pg_stat_replication write_lsn"
lagrow cellar_app.flush "  cellar receiver, pg_stat_replication flush_lsn"
lagrow barman_app.write "  barman receiver, pg_stat_replication write_lsn"
lagrow barman_app.flush "  barman receiver, pg_stat_replication flush_lsn"
lag_ratio() { # A B COLUMN - A / B; "-" when a row is missing, "=" when
    # both are seconds under 10 ms (the ratio of two such values is noise)
    local a b
    a=$(lagf "$1" "$3") b=$(lagf "$2" "$3")
    if [ "$3" -ge 5 ] && [[ $a =~ ^[0-9.]+$ ]] && [[ $b =~ ^[0-9.]+$ ]] &&
        awk -v a="$a" -v b="$b" 'BEGIN {exit !(a < 0.01 && b < 0.01)}'; then
        printf '= (both under 10 ms)'
    elif [[ $a =~ ^[0-9.]+$ ]] && [[ $b =~ ^[0-9.]+$ ]] && awk -v b="$b" 'BEGIN {exit !(b > 0)}'; then
        awk -v a="$a" -v b="$b" 'BEGIN {printf "%.1f", a / b}'
    else
        printf -- -
    fi
}
printf '\nlag ratios (medians; a few milliseconds or a few KiB are within what 0.5 s sampling can tell apart)\n'
printf '  barman streaming / cellar streaming, seconds  %s\n' "$(lag_ratio barman_stream cellar_stream 5)"
printf '  barman streaming / cellar streaming, bytes    %s\n' "$(lag_ratio barman_stream cellar_stream 3)"
printf '  cellar put-wal / cellar streaming, seconds    %s\n' "$(lag_ratio cellar_cmd cellar_stream 5)"
p95=$(lagf cellar_stream 6)
[[ ${p95:-} =~ ^[0-9.]+$ ]] || p95=-
goal "cellar streaming archive lag under 1 s (p95 < 1 s)" "$p95" '<' 1

bsize=$(awk -v b="$SRC_BYTES" 'BEGIN {printf "%.1f", b / 1048576}')
printf '\npart 2: backup time, %s MiB of data (PGDATA without pg_wal, and the tablespace); median of %s round(s)\n' "$bsize" "$RUNS"
printf '%-15s %-52s %4s %8s %13s %8s %s\n' tool "what is timed" runs seconds min-max MiB/s status
brow() { # KEY LABEL WHAT
    if have "$1"; then
        printf '%-15s %-52s %4s %8s %13s %8s %s\n' "$2" "$3" "$(nruns "$1")" "$(median "$1")" "$(spread "$1")" \
            "$(awk -v s="$(median "$1")" -v b="$SRC_BYTES" 'BEGIN {printf "%.1f", b / 1048576 / s}')" "${STATUS[$1]}"
    else
        printf '%-15s %-52s %s\n' "$2" "$3" "FAILED: ${FAILED[$1]:-not run}"
    fi
}
brow cellar_pg "cellar postgres" "cellar backup, backup_method = postgres, plain"
brow barman_pg "barman postgres" "barman backup, backup_method = postgres, plain"
brow cellar_rsync "cellar rsync" "cellar backup, local-rsync, parallel_jobs $RSYNC_JOBS"
r_pg=$(ratio barman_pg cellar_pg)
printf '\ntime ratios\n'
printf '  barman postgres / cellar postgres   %s\n' "$r_pg"
printf '  cellar rsync / cellar postgres      %s\n\n' "$(ratio cellar_rsync cellar_pg)"
goal "postgres-method backup no slower than Barman's (barman / cellar >= 1)" "$r_pg" '>=' 1

for key in "${KEYS[@]}"; do
    [ -z "${FAILED[$key]:-}" ] || exit 1
done
[ "$p95" != - ] || exit 1
exit 0
