#!/bin/bash
# bench/cloud.sh - object storage (issue 18): cellar's cloud commands
# against barman-cloud 3.4 on the same Swift s3api store and cluster.
#
# The store: tests/integration/lib/swift.sh (a private Swift with s3api on
# 127.0.0.1, one replica, its storage under BENCH_DIR). The cluster:
# tests/integration/lib/pg.sh (initdb -k, loopback only, fsync = off,
# archive_command /bin/true: the backups are timed, not the WAL), a pgbench
# database (pgbench -i -s CLOUDBENCH_SCALE, every index in the tablespace
# bench_tbs, so both tools write a tablespace archive too).
#
# Part 1, backup upload, in CLOUDBENCH_RUNS (3) rounds of two rows each (a
# round times each row once, so a slow spell of this shared machine hits
# both alike; the median is reported):
#   cellar      cellar cloud-backup COMP -J CLOUDBENCH_JOBS --immediate-checkpoint
#   barman      barman-cloud-backup COMP -J CLOUDBENCH_JOBS --immediate-checkpoint
# COMP is CLOUDBENCH_COMP: gzip (-z, the default), bzip2 (-j) or none. Both
# read the same PGDATA and upload into the same bucket under their own
# prefix. Before each run: CHECKPOINT, every source file read once (warm
# page cache). The time is the wall time of the command; MiB/s is the
# size of PGDATA (pg_wal left out, as both tools leave it) and the
# tablespace (du) over it. After each run, untimed:
# exit status 0, and barman-cloud-backup-list lists the backup DONE.
# Goal (issue 18): cellar's upload throughput at least 2x barman-cloud's
# (barman / cellar >= 2).
#
# (WAL push and restore, the issue's other rows, are left to their commands'
# authors: they append their parts here.)
#
# Printed: a table, the ratio, the goal as met or not (never asserted).
# Exit status 1 when a row failed.
#
#   bench/cloud.sh                                   scale 20 (about 300 MiB), 3 rounds
#   CLOUDBENCH_SCALE=5 CLOUDBENCH_RUNS=1 bench/cloud.sh   a quick end-to-end run
# Environment:
#   CLOUDBENCH_SCALE   pgbench scale (20)
#   CLOUDBENCH_RUNS    rounds (3)
#   CLOUDBENCH_COMP    gzip, bzip2 or none (gzip)
#   CLOUDBENCH_JOBS    -J of both tools (2, barman-cloud's default)
#   CLOUDBENCH_CELLAR  the cellar binary (./cellar)
#   BENCH_DIR          where the cluster and the store live (/var/tmp)
set -eu
NAME=cloud
TOP=$(cd "$(dirname "$0")/.." && pwd)
CELLAR=${CLOUDBENCH_CELLAR:-$TOP/cellar}
SCALE=${CLOUDBENCH_SCALE:-20}
RUNS=${CLOUDBENCH_RUNS:-3}
COMP=${CLOUDBENCH_COMP:-gzip}
JOBS=${CLOUDBENCH_JOBS:-2}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

die() {
    echo "$NAME: $*" >&2
    exit 1
}
for c in barman-cloud-backup barman-cloud-backup-list; do
    command -v "$c" >/dev/null || die "$c is not installed (make deps)"
done
[ -x "$PG_BINDIR/pgbench" ] || die "no pgbench in $PG_BINDIR (make deps)"
[ "$(id -u)" -eq 0 ] || die "run as root (the store runs as swift, PostgreSQL as postgres)"
[ -x "$CELLAR" ] || die "no program $CELLAR: build cellar first (make)"
for v in SCALE RUNS JOBS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "CLOUDBENCH_$v must be a positive whole number (is '${!v}')"
done
case $COMP in
gzip) FLAG=(-z) ;;
bzip2) FLAG=(-j) ;;
none) FLAG=() ;;
*) die "CLOUDBENCH_COMP must be gzip, bzip2 or none (is '$COMP')" ;;
esac
"$CELLAR" cloud-backup --help >/dev/null 2>&1 || die "this cellar has no cloud-backup command"

. "$TOP/tests/integration/lib/pg.sh"
. "$TOP/tests/integration/lib/swift.sh"

work=""
cleanup() {
    set +e
    pg_cleanup_all
    swift_stop
    [ -n "$work" ] && rm -rf "$work"
}
base=${BENCH_DIR:-/var/tmp}
[ -d "$base" ] || die "BENCH_DIR '$base' is not a directory"
work=$(mktemp -d "$base/cellar-cloudbench-XXXXXX") || die "cannot make a directory under $base"
chmod 0755 "$work"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
export TMPDIR=$work

echo "$NAME: Swift s3api..." >&2
swift_start >"$work/swift.out" 2>&1 || die "cannot start Swift: $(tail -3 "$work/swift.out")"
swift_make_bucket bench >/dev/null 2>&1 || die "cannot create the bucket"
echo "$NAME: PostgreSQL 15 and pgbench -i -s $SCALE..." >&2
PG_ARCHIVE_COMMAND=/bin/true pg_start bench 'shared_buffers = 128MB' 'max_wal_size = 2GB' \
    'checkpoint_timeout = 1h' 'autovacuum = off' || die "cannot start PostgreSQL"
TBS=$work/tbs
mkdir "$TBS" && chown postgres:postgres "$TBS"
pg_sql bench "CREATE TABLESPACE bench_tbs LOCATION '$TBS'" >/dev/null || die "CREATE TABLESPACE failed"
"$PG_BINDIR/pgbench" -h 127.0.0.1 -p "$PG_BENCH_PORT" -U postgres -i -q -s "$SCALE" \
    --index-tablespace bench_tbs postgres >"$work/pgbench-init.log" 2>&1 ||
    die "pgbench -i failed: $(tail -3 "$work/pgbench-init.log")"
pg_sql bench CHECKPOINT >/dev/null
bytes=$(du -sb --exclude=pg_wal "$PG_BENCH_DATA" "$TBS" | awk '{s += $1} END {print s}')

now() { echo "${EPOCHREALTIME/[.,]/}"; } # microseconds
warm() { find "$PG_BENCH_DATA" "$TBS" -type f -exec cat {} + >/dev/null 2>&1 || true; }
pgopts=(-h 127.0.0.1 -p "$PG_BENCH_PORT" -U postgres --immediate-checkpoint -J "$JOBS")
ep=(--endpoint-url "$S3_ENDPOINT_URL")
run_row() { # ROW - the command of a row
    case $1 in
    cellar) "$CELLAR" cloud-backup "${ep[@]}" "${FLAG[@]}" "${pgopts[@]}" s3://bench/cellar "$SERVER" ;;
    barman) barman-cloud-backup "${ep[@]}" "${FLAG[@]}" "${pgopts[@]}" s3://bench/barman "$SERVER" ;;
    esac
}
done_count() { # ROW - DONE backups barman-cloud-backup-list shows under the row's prefix
    barman-cloud-backup-list "${ep[@]}" --format json "s3://bench/$1" "$SERVER" 2>/dev/null |
        "$SWIFT_PYTHON" -c "import json, sys
print(sum(b['status'] == 'DONE' for b in json.load(sys.stdin)['backups_list']))"
}
SERVER=main
declare -A TIMES FAILED
for ((r = 1; r <= RUNS; r++)); do
    for row in cellar barman; do
        pg_sql bench CHECKPOINT >/dev/null
        warm
        before=$(done_count "$row" || echo 0)
        echo "$NAME: round $r/$RUNS: $row..." >&2
        t0=$(now)
        if run_row "$row" >"$work/$row.$r.log" 2>&1; then
            t1=$(now)
            if [ "$(done_count "$row")" = $((before + 1)) ]; then
                TIMES[$row]="${TIMES[$row]:-} $((t1 - t0))"
            else
                FAILED[$row]="no new DONE backup listed"
            fi
        else
            FAILED[$row]="exit status $?: $(tail -2 "$work/$row.$r.log" | tr '\n' ' ')"
        fi
        sleep 1 # backup IDs have a one-second resolution
    done
done

median() { tr ' ' '\n' <<<"${TIMES[$1]}" | grep . | sort -n | awk '{a[NR] = $1} END {printf "%.2f", a[int((NR + 1) / 2)] / 1e6}'; }
have() { [ -n "${TIMES[$1]:-}" ] && [ -z "${FAILED[$1]:-}" ]; }
printf '\nbackup upload, %s, -J %s, %s MiB (PGDATA and tablespace), median of %s\n' \
    "$COMP" "$JOBS" "$((bytes >> 20))" "$RUNS"
printf '%-10s %9s %9s\n' tool seconds MiB/s
status=0
for row in cellar barman; do
    if have "$row"; then
        m=$(median "$row")
        printf '%-10s %9s %9s\n' "$row" "$m" "$(awk -v b="$bytes" -v s="$m" 'BEGIN {printf "%.1f", b / 1048576 / s}')"
    else
        printf '%-10s %s\n' "$row" "FAILED: ${FAILED[$row]:-no run}"
        status=1
    fi
done
if have cellar && have barman; then
    ratio=$(awk -v a="$(median barman)" -v b="$(median cellar)" 'BEGIN {printf "%.2f", a / b}')
    met=$(awk -v r="$ratio" 'BEGIN {print (r >= 2) ? "met" : "not met"}')
    printf '\nbarman / cellar: %s (goal: at least 2, %s)\n' "$ratio" "$met"
fi
exit $status
