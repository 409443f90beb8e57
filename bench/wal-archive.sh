#!/bin/bash
# bench/wal-archive.sh - archiving WAL: cellar against Barman 3.4, pgBackRest
# 2.45 and a cp+fsync floor, on the same real WAL segments.
#
# The input: a throwaway PostgreSQL 15 cluster (data checksums on, so hint
# bits are WAL-logged; full_page_writes on, wal_compression off) produces
# real 16 MiB segments in three phases:
#   load    pgbench -i -s 10 (COPY of 1M rows, primary keys, VACUUM);
#   update  UPDATE pgbench_accounts SET filler = two random md5 strings, so
#           rows are not pgbench's blank padding (which compresses 30:1);
#   oltp    pgbench, half TPC-B transactions, half inserts of a row with two
#           random md5 strings into an indexed table, 4 clients, with a
#           CHECKPOINT every 3 s so most page changes carry a full-page image.
# No pg_switch_wal: every segment is full of WAL records. The last SEGMENTS
# complete segments are copied aside; every tool archives those same files.
# The script prints how many come from each phase.
#
# What is timed, per tool and compression (default levels everywhere:
# gzip 6, bzip2 9, zstd 3, lz4 1):
#   floor       cp of each segment into a directory, `sync FILE` after each
#               (fsync), `sync DIR` once at the end: the least any archiver
#               that keeps a plain durable copy can do.
#   cellar      `cellar archive-wal SERVER` over SEGMENTS files waiting in
#               incoming/, with the default worker count (one per CPU) and
#               with --jobs 1. Informative: `cellar put-wal` once per
#               segment (archive_command's half of the job: a durable copy
#               into incoming/).
#   barman      `barman archive-wal SERVER`, the command `barman cron` starts
#               in the background for each server (cron itself returns at
#               once, so archive-wal is what can be timed). gzip and bzip2
#               run the gzip/bzip2 programs, one per segment; pigz (multi-
#               threaded gzip, level 6) when the pigz program is installed.
#   pgbackrest  `pgbackrest archive-push` per segment, one process per
#               segment as archive_command runs it ("1 proc/seg"); and with
#               archive-async=y process-max=2: every segment is marked .ready
#               in a pg_wal directory (a backlog of SEGMENTS segments), then
#               archive-push runs for each in WAL order as PostgreSQL would;
#               the first call starts the async process, which pushes all of
#               them with 2 local processes while the caller polls for its
#               .ok file; later calls find theirs. The time ends when the
#               last call returns, i.e. when every segment is pushed.
#               archive-push is run directly, not through sh -c.
# cellar and Barman timings cover incoming/ -> archive; pgBackRest's cover
# pg_wal -> repository, which is the whole path. The put-wal row is what
# cellar's archive_command adds to that (Barman's equivalent is rsync or
# barman-wal-archive, not measured here). cellar and Barman also remove each
# incoming file, which pgBackRest does not have to do.
#
# Honesty rules. Everybody fsyncs; fsync calls seen with strace: cellar, each
# archived file, then once per run its wals/<hash>/ directory, xlog.db and
# incoming/; Barman, per segment the file, wals/<hash>/, incoming/, xlog.db
# (5 fsyncs per segment); pgBackRest, per segment the file and its directory
# (storage/posix/write.c). The incoming/ copies are plain copies made and
# synced before the clock starts, and the input is read once before each
# timed run, so the page cache is warm for everyone. Before any timing, each
# row archives two segments and gets them back byte-identical (cellar
# get-wal, barman get-wal, pgbackrest archive-get); after each timed run
# every segment must be archived (and indexed in xlog.db) and the first, a
# middle and the last one are fetched back and compared.
#
# Rates: segments per second and MiB/s of input (16 MiB per segment); ratio
# = archived bytes / input bytes. Timing goes in rounds over all rows, so
# that a slow spell of the machine (this is a shared VM: repeated runs of the
# same row vary by up to 2x) hits every tool alike; the reported time is the
# median. Rows whose first run takes over WALBENCH_LONG_RUN seconds (10) run
# once: their relative noise is smaller, and bzip2 would triple the time.
#
#   bench/wal-archive.sh [SEGMENTS [RUNS]]     defaults: 64 3
#   WALBENCH_ALGOS="gzip zstd lz4"             a subset (none gzip bzip2 zstd lz4)
# About 10 minutes on 2 CPUs with the defaults (bzip2 is 4 of them).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
CELLAR=$top/cellar
# another cellar binary (e.g. one built from the previous commit) adds rows
# "cellar-base" with the same algorithms, for a before/after in one run
BASELINE=${WALBENCH_BASELINE:-}
SEGMENTS=${1:-64}
RUNS=${2:-3}
LONG_RUN=${WALBENCH_LONG_RUN:-10}
ALGOS=${WALBENCH_ALGOS:-none gzip bzip2 zstd lz4}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
for c in barman pgbackrest gzip bzip2; do
    command -v "$c" >/dev/null || { echo "$c is not installed (make deps)" >&2; exit 1; }
done
[ -x "$PG_BINDIR/pgbench" ] || { echo "no pgbench in $PG_BINDIR (make deps)" >&2; exit 1; }
[ -x "$CELLAR" ] || { echo "build cellar first (make)" >&2; exit 1; }
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || { echo "WALBENCH_BASELINE: no program '$BASELINE'" >&2; exit 1; }
[ "$SEGMENTS" -ge 4 ] || { echo "SEGMENTS must be at least 4" >&2; exit 1; }
HAVE_PIGZ=0
command -v pigz >/dev/null && HAVE_PIGZ=1

# shellcheck source=tests/integration/lib/pg.sh
. "$top/tests/integration/lib/pg.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/cellar-walbench-XXXXXX")
chmod 0755 "$work"
ckpt_pid=""
cleanup() {
    [ -n "$ckpt_pid" ] && kill "$ckpt_pid" 2>/dev/null
    pg_cleanup_all
    pgbr_wait_idle 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

die() {
    echo "wal-archive: $*" >&2
    exit 1
}

# ---- the input: real segments from a real cluster ------------------------------

segname() { printf '00000001%08X%08X' $(($1 / 256)) $(($1 % 256)); }
# segment number of the current insert position
cur_segno() { pg_sql gen "SELECT (pg_current_wal_lsn() - '0/0')::bigint / 16777216"; }

echo "generating WAL with PostgreSQL 15 and pgbench..." >&2
pg_start gen 'max_wal_size = 8GB' 'checkpoint_timeout = 1h' 'autovacuum = off' \
    'full_page_writes = on' 'wal_compression = off' || die "cannot start PostgreSQL"
pgbench() { "$PG_BINDIR/pgbench" -h 127.0.0.1 -p "$PG_GEN_PORT" -U postgres "$@" postgres; }
pgbench -i -s 10 -q >"$work/pgbench.log" 2>&1 || die "pgbench -i failed: $(tail -3 "$work/pgbench.log")"
seg_load_end=$(cur_segno)
pg_sql gen "UPDATE pgbench_accounts SET filler = md5(random()::text) || md5(random()::text)" >/dev/null
pg_sql gen "VACUUM pgbench_accounts" >/dev/null
seg_update_end=$(cur_segno)
pg_sql gen "CREATE TABLE bench_log (id bigserial PRIMARY KEY, aid int, ts timestamptz DEFAULT now(), note text);
            CREATE INDEX ON bench_log (aid); CHECKPOINT" >/dev/null
cat >"$work/insert.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
INSERT INTO bench_log (aid, note) VALUES (:aid, md5(random()::text) || ' ' || md5(random()::text));
SQL
chmod 0644 "$work/insert.sql"
(while sleep 3; do pg_sql gen CHECKPOINT >/dev/null 2>&1 || exit 0; done) &
ckpt_pid=$!
# the last complete segment must be number SEGMENTS + 1 or later, so that the
# set never includes initdb's first segment
while [ $(($(cur_segno) - 1)) -lt $((SEGMENTS + 1)) ]; do
    pgbench -n -c 4 -j 2 -T 5 -b tpcb-like@1 -f "$work/insert.sql@1" >>"$work/pgbench.log" 2>&1 ||
        die "pgbench failed: $(tail -3 "$work/pgbench.log")"
done
kill "$ckpt_pid" 2>/dev/null
wait "$ckpt_pid" 2>/dev/null || true
ckpt_pid=""
last=$(($(cur_segno) - 1))
first=$((last - SEGMENTS + 1))
names=()
for ((n = first; n <= last; n++)); do names+=("$(segname "$n")"); done
archived_all() {
    local f
    for f in "${names[@]}"; do [ -f "$PG_GEN_ARCHIVE/$f" ] || return 1; done
}
for ((i = 0; i < 600; i++)); do archived_all && break; sleep 0.2; done
archived_all || die "PostgreSQL did not archive the segments in time"
input=$work/input
mkdir "$input"
for f in "${names[@]}"; do cp "$PG_GEN_ARCHIVE/$f" "$input/$f"; done
n_load=0 n_update=0 n_oltp=0
for ((n = first; n <= last; n++)); do
    if [ "$n" -le "$seg_load_end" ]; then n_load=$((n_load + 1))
    elif [ "$n" -le "$seg_update_end" ]; then n_update=$((n_update + 1))
    else n_oltp=$((n_oltp + 1)); fi
done
sysid=$(pg_sql gen "SELECT system_identifier FROM pg_control_system()")

# ---- pgBackRest needs a stanza made against the running cluster ----------------

pgbr=$work/pgbr
mkdir -p "$pgbr/pg/global" "$pgbr/pg/pg_wal/archive_status" "$pgbr/log" "$pgbr/lock" "$pgbr/spool"
cat >"$work/pgbackrest.conf" <<CONF
[global]
repo1-path=$pgbr/repo
log-path=$pgbr/log
lock-path=$pgbr/lock
spool-path=$pgbr/spool
log-level-console=warn

[bench]
pg1-path=$pgbr/pg
pg1-port=$PG_GEN_PORT
pg1-socket-path=$PG_GEN_DIR
pg1-user=postgres
CONF
PGBR=(pgbackrest "--config=$work/pgbackrest.conf" --stanza=bench)
"${PGBR[@]}" "--pg1-path=$PG_GEN_DATA" stanza-create >"$work/stanza.log" 2>&1 ||
    die "pgbackrest stanza-create failed: $(cat "$work/stanza.log")"
cp -a "$pgbr/repo" "$pgbr/repo.empty"
# pgBackRest reads pg_control from pg1-path and the segments from the
# directory of the path it is given: a pg1-path of its own holds both
cp "$PG_GEN_DATA/global/pg_control" "$pgbr/pg/global/pg_control"
for f in "${names[@]}"; do ln "$input/$f" "$pgbr/pg/pg_wal/$f"; done
pg_stop gen || die "cannot stop PostgreSQL"

# ---- the tools' configurations ---------------------------------------------------

user=$(id -un)
write_conf() { # write_conf FILE HOME SERVER...
    local file=$1 home=$2 s
    shift 2
    {
        printf '[barman]\nbarman_home = %s\nbarman_user = %s\nlog_file = %s/log\nlog_level = INFO\n' \
            "$home" "$user" "$home"
        for s in "$@"; do
            printf '\n[%s]\ndescription = WAL benchmark\nconninfo = host=127.0.0.1 port=1 user=postgres\n' "$s"
            printf 'backup_method = local-rsync\nbackup_options = concurrent_backup\narchiver = on\n'
            printf 'compression = %s\n' "$s"
        done
    } >"$file"
    mkdir -p "$home"
}
CELLAR_ALGOS=$ALGOS
BARMAN_ALGOS="" PGBR_ALGOS=""
for a in $ALGOS; do
    case $a in
        gzip) BARMAN_ALGOS="$BARMAN_ALGOS gzip"; [ "$HAVE_PIGZ" = 1 ] && BARMAN_ALGOS="$BARMAN_ALGOS pigz"
              PGBR_ALGOS="$PGBR_ALGOS gz" ;;
        bzip2) BARMAN_ALGOS="$BARMAN_ALGOS bzip2"; PGBR_ALGOS="$PGBR_ALGOS bz2" ;;
        zstd) PGBR_ALGOS="$PGBR_ALGOS zst" ;;
        lz4) PGBR_ALGOS="$PGBR_ALGOS lz4" ;;
        none) ;;
        *) die "unknown algorithm '$a' in WALBENCH_ALGOS" ;;
    esac
done
# shellcheck disable=SC2046,SC2086 # "none" for the put-wal row
write_conf "$work/cellar.conf" "$work/cellar" none $(printf '%s\n' $CELLAR_ALGOS | grep -vx none)
# shellcheck disable=SC2086
write_conf "$work/cellar-base.conf" "$work/cellar-base" $CELLAR_ALGOS
# shellcheck disable=SC2086
write_conf "$work/barman.conf" "$work/barman" $BARMAN_ALGOS

# ---- helpers -----------------------------------------------------------------------

now() { echo "${EPOCHREALTIME/[.,]/}"; } # microseconds
warm() { cat "$input"/* >/dev/null; sync; }
# sum of the sizes of the files under DIR whose names match GLOB
bytes_under() { find "$1" -type f -name "$2" -printf '%s\n' | awk '{s += $1} END {printf "%d", s}'; }
# check_list: the first, a middle and the last segment
check_list() { printf '%s\n' "${names[0]}" "${names[$((SEGMENTS / 2))]}" "${names[$((SEGMENTS - 1))]}"; }

# fill_incoming HOME SERVER COUNT - a fresh server directory whose incoming/
# holds plain copies of the first COUNT input segments, synced
fill_incoming() {
    local i
    rm -rf "${1:?}/$2"
    mkdir -p "$1/$2/incoming"
    for ((i = 0; i < $3; i++)); do cp "$input/${names[$i]}" "$1/$2/incoming/"; done
    sync
}

# cellar and barman: archive-wal, get-wal
cellar_archive() { # SERVER JOBS [BINARY CONF]
    local jobs=()
    [ "$2" = default ] || jobs=(--jobs "$2")
    "${3:-$CELLAR}" -c "${4:-$work/cellar.conf}" archive-wal "${jobs[@]}" "$1" >>"$work/cellar.out" 2>&1
}
cellar_get() { "$CELLAR" -c "$work/cellar.conf" get-wal "$1" "$2"; }
cellar-base_get() { "$BASELINE" -c "$work/cellar-base.conf" get-wal "$1" "$2"; }
barman_archive() { barman -c "$work/barman.conf" archive-wal "$1" >>"$work/barman.out" 2>&1; }
barman_get() { barman -c "$work/barman.conf" get-wal "$1" "$2" 2>>"$work/barman.out"; }

# archived_ok TOOL HOME SERVER COUNT - COUNT segments in wals/ and xlog.db,
# incoming/ empty, the checked ones byte-identical through get-wal
archived_ok() {
    local tool=$1 home=$2 s=$3 count=$4 f got lines
    got=$(find "$home/$s/wals" -mindepth 2 -type f ! -name '.*' | wc -l)
    [ "$got" -eq "$count" ] || { echo "$tool $s: $got segments archived, expected $count" >&2; return 1; }
    lines=$(wc -l <"$home/$s/wals/xlog.db")
    [ "$lines" -eq "$count" ] || { echo "$tool $s: xlog.db has $lines lines, expected $count" >&2; return 1; }
    [ -z "$(ls -A "$home/$s/incoming")" ] || { echo "$tool $s: incoming/ is not empty" >&2; return 1; }
    for f in $(if [ "$count" -eq "$SEGMENTS" ]; then check_list; else printf '%s\n' "${names[@]:0:$count}"; fi); do
        "${tool}_get" "$s" "$f" >"$work/got" || { echo "$tool $s: get-wal $f failed" >&2; return 1; }
        cmp -s "$work/got" "$input/$f" || { echo "$tool $s: $f differs after get-wal" >&2; return 1; }
    done
}

# pgBackRest: a fresh repository from the empty stanza; MODE sync or async
pgbr_reset() {
    rm -rf "$pgbr/repo" "$pgbr/spool" "$pgbr/pg/pg_wal/archive_status"
    cp -a "$pgbr/repo.empty" "$pgbr/repo"
    mkdir -p "$pgbr/spool" "$pgbr/pg/pg_wal/archive_status"
    sync
}
# wait until no pgBackRest async process holds the stanza's archive lock
pgbr_wait_idle() {
    local lock=$pgbr/lock/bench-archive.lock i
    [ -e "$lock" ] || return 0
    for ((i = 0; i < 600; i++)); do
        flock -n "$lock" true && return 0
        sleep 0.1
    done
    return 1
}
pgbr_push() { # ALGO MODE COUNT
    local i opts=(--compress-type="$1")
    [ "$2" = async ] && opts+=(--archive-async --process-max=2)
    if [ "$2" = async ]; then
        for ((i = 0; i < $3; i++)); do : >"$pgbr/pg/pg_wal/archive_status/${names[$i]}.ready"; done
    fi
    for ((i = 0; i < $3; i++)); do
        "${PGBR[@]}" "${opts[@]}" archive-push "$pgbr/pg/pg_wal/${names[$i]}" >>"$work/pgbr.out" 2>&1 ||
            { echo "pgbackrest archive-push ${names[$i]} failed: $(tail -3 "$work/pgbr.out")" >&2; return 1; }
    done
}
pgbr_ok() { # COUNT
    local f got
    got=$(find "$pgbr/repo/archive/bench" -mindepth 3 -type f -name '0000*' | wc -l)
    [ "$got" -eq "$1" ] || { echo "pgbackrest: $got segments in the repository, expected $1" >&2; return 1; }
    for f in $(if [ "$1" -eq "$SEGMENTS" ]; then check_list; else printf '%s\n' "${names[@]:0:$1}"; fi); do
        rm -f "$work/got"
        "${PGBR[@]}" archive-get "$f" "$work/got" >>"$work/pgbr.out" 2>&1 ||
            { echo "pgbackrest archive-get $f failed" >&2; return 1; }
        cmp -s "$work/got" "$input/$f" || { echo "pgbackrest: $f differs after archive-get" >&2; return 1; }
    done
}

# the floor: cp + fsync per file, fsync of the directory at the end (into
# an empty DIR)
floor_run() { # DIR COUNT
    local i
    for ((i = 0; i < $2; i++)); do
        cp "$input/${names[$i]}" "$1/" && sync "$1/${names[$i]}"
    done
    sync "$1"
}
floor_ok() { # DIR COUNT
    local i
    for ((i = 0; i < $2; i++)); do cmp -s "$1/${names[$i]}" "$input/${names[$i]}" || return 1; done
}

# cellar put-wal once per segment (archive_command), into an empty incoming/
putwal_run() { # COUNT
    local i
    for ((i = 0; i < $1; i++)); do
        "$CELLAR" -c "$work/cellar.conf" put-wal none "$input/${names[$i]}" >>"$work/cellar.out" 2>&1 ||
            { echo "cellar put-wal ${names[$i]} failed" >&2; return 1; }
    done
}
putwal_ok() { # COUNT
    local i
    for ((i = 0; i < $1; i++)); do
        cmp -s "$work/cellar/none/incoming/${names[$i]}" "$input/${names[$i]}" || return 1
    done
}

# ---- the measurements -----------------------------------------------------------------

# A row is KEY = TOOL:ALGO:MODE. For each row: row_prepare (untimed: fresh
# directories, incoming/ filled, synced), row_run (timed), row_verify
# (untimed: everything archived, a few segments fetched back). Every row is
# first checked on two segments. Rounds interleave the rows, so that a slow
# spell of the machine hits every tool alike: round 1 runs every row, later
# rounds only the rows whose first run took less than LONG_RUN seconds.
declare -A T B N LABEL ALGO MODE
ROWS=()
add_row() { # add_row KEY LABEL ALGO MODE
    ROWS+=("$1")
    LABEL[$1]=$2 ALGO[$1]=$3 MODE[$1]=$4
}

row_prepare() { # KEY COUNT
    local tool algo mode
    IFS=: read -r tool algo mode <<<"$1"
    case $tool in
        floor) rm -rf "$work/floor"; mkdir -p "$work/floor" ;;
        putwal) rm -rf "$work/cellar/none"; mkdir -p "$work/cellar/none/incoming" ;;
        cellar | cellar-base | barman) fill_incoming "$work/$tool" "$algo" "$2" ;;
        pgbackrest) pgbr_reset ;;
    esac
    warm
}
row_run() { # KEY COUNT
    local tool algo mode
    IFS=: read -r tool algo mode <<<"$1"
    case $tool in
        floor) floor_run "$work/floor" "$2" ;;
        putwal) putwal_run "$2" ;;
        cellar) cellar_archive "$algo" "$mode" ;;
        cellar-base) cellar_archive "$algo" "$mode" "$BASELINE" "$work/cellar-base.conf" ;;
        barman) barman_archive "$algo" ;;
        pgbackrest) pgbr_push "$algo" "$mode" "$2" ;;
    esac
}
row_verify() { # KEY COUNT - also records the archived bytes in B[KEY]
    local tool algo mode
    IFS=: read -r tool algo mode <<<"$1"
    case $tool in
        floor)
            floor_ok "$work/floor" "$2" || { echo "floor: the copies differ" >&2; return 1; }
            B[$1]=$(bytes_under "$work/floor" '0*') ;;
        putwal)
            putwal_ok "$2" || { echo "cellar put-wal: incoming/ differs" >&2; return 1; }
            B[$1]=$(bytes_under "$work/cellar/none/incoming" '0*') ;;
        cellar | cellar-base | barman)
            archived_ok "$tool" "$work/$tool" "$algo" "$2" || return 1
            B[$1]=$(bytes_under "$work/$tool/$algo/wals" '0*') ;;
        pgbackrest)
            pgbr_wait_idle || { echo "the pgBackRest async process did not finish" >&2; return 1; }
            pgbr_ok "$2" || return 1
            B[$1]=$(bytes_under "$pgbr/repo/archive/bench" '0*') ;;
    esac
}

add_row floor::sync "cp + fsync" none "1 proc/seg"
add_row putwal:none:sync "cellar put-wal" none "1 proc/seg"
for a in $CELLAR_ALGOS; do
    add_row "cellar:$a:default" "cellar archive-wal" "$a" "jobs=$(nproc) (default)"
    add_row "cellar:$a:1" "cellar archive-wal" "$a" "jobs=1"
    if [ -n "$BASELINE" ]; then
        add_row "cellar-base:$a:default" "cellar-base archive-wal" "$a" "jobs=$(nproc) (default)"
        add_row "cellar-base:$a:1" "cellar-base archive-wal" "$a" "jobs=1"
    fi
done
for a in $BARMAN_ALGOS; do
    if [ "$a" = pigz ]; then
        add_row "barman:$a:1" "barman archive-wal" "$a" "1 pigz/seg, threaded"
    else
        add_row "barman:$a:1" "barman archive-wal" "$a" "1 proc/seg"
    fi
done
for a in $PGBR_ALGOS; do
    add_row "pgbackrest:$a:sync" "pgbackrest archive-push" "$a" "1 proc/seg"
    add_row "pgbackrest:$a:async" "pgbackrest archive-push" "$a" "async, process-max=2"
done

echo "checking every tool on two segments..." >&2
for key in "${ROWS[@]}"; do
    row_prepare "$key" 2
    row_run "$key" 2 || die "$key: the check run failed"
    row_verify "$key" 2 || die "$key: the check run is wrong"
done

declare -A TIMES
for ((r = 0; r < RUNS; r++)); do
    echo "timing, round $((r + 1)) of up to $RUNS..." >&2
    for key in "${ROWS[@]}"; do
        if [ "$r" -gt 0 ]; then
            first=${TIMES[$key]%% *}
            [ "$first" -lt $((LONG_RUN * 1000000)) ] || continue
        fi
        row_prepare "$key" "$SEGMENTS"
        t0=$(now)
        row_run "$key" "$SEGMENTS" || die "$key failed"
        t1=$(now)
        row_verify "$key" "$SEGMENTS" || die "$key: the timed run is wrong"
        TIMES[$key]="${TIMES[$key]:-}${TIMES[$key]:+ }$((t1 - t0))"
    done
done
for key in "${ROWS[@]}"; do
    # shellcheck disable=SC2086
    N[$key]=$(wc -w <<<"${TIMES[$key]}")
    T[$key]=$(tr ' ' '\n' <<<"${TIMES[$key]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
done

# ---- the report ----------------------------------------------------------------------------

in_bytes=$((SEGMENTS * 16777216))
rate() { awk -v us="${T[$1]}" -v n="$SEGMENTS" 'BEGIN {printf "%.2f", n / (us / 1e6)}'; }
printf '\n%s segments %s..%s (%s MiB) from PostgreSQL 15 (system %s): %s load, %s update, %s oltp\n' \
    "$SEGMENTS" "${names[0]}" "${names[$((SEGMENTS - 1))]}" $((SEGMENTS * 16)) "$sysid" \
    "$n_load" "$n_update" "$n_oltp"
printf '%s CPUs; default compression levels; seconds: the median of up to %s runs (a row whose\n' "$(nproc)" "$RUNS"
printf 'first run takes over %s s runs once)\n\n' "$LONG_RUN"
printf '%-24s %-6s %-22s %4s %8s %7s %7s %6s\n' tool comp mode runs seconds seg/s MiB/s ratio
for key in "${ROWS[@]}"; do
    label=${LABEL[$key]} algo=${ALGO[$key]} mode=${MODE[$key]}
    awk -v us="${T[$key]}" -v n="$SEGMENTS" -v b="${B[$key]}" -v in_b="$in_bytes" -v runs="${N[$key]}" \
        -v label="$label" -v algo="$algo" -v mode="$mode" 'BEGIN {
        s = us / 1e6
        printf "%-24s %-6s %-22s %4d %8.2f %7.2f %7.1f %6.3f\n", label, algo, mode, runs, s, n / s, n * 16 / s, b / in_b
    }'
done

# goals: rate ratios (the same input, so time ratios); "-" when a row is missing
ratio() { # ratio A B - rate(A) / rate(B)
    if [ -n "${T[$1]:-}" ] && [ -n "${T[$2]:-}" ]; then
        awk -v a="${T[$1]}" -v b="${T[$2]}" 'BEGIN {printf "%.2fx", b / a}'
    else
        printf -- -
    fi
}
cpus=$(nproc)
printf '\ngoal 1: cellar gzip rate / Barman gzip rate (goal >= 2x)\n'
printf '  cellar jobs=%s: %s   cellar jobs=1: %s\n' "$cpus" \
    "$(ratio cellar:gzip:default barman:gzip:1)" "$(ratio cellar:gzip:1 barman:gzip:1)"
printf 'goal 2: cellar rate / pgBackRest rate, same algorithm (goal >= 1x)\n'
printf '  %-6s %-29s %-29s\n' "" "cellar jobs=$cpus vs pgBackRest" "cellar jobs=1 vs pgBackRest"
printf '  %-6s %-14s %-14s %-14s %-14s\n' algo "1 proc/seg" "async pm=2" "1 proc/seg" "async pm=2"
for pair in gzip:gz zstd:zst lz4:lz4 bzip2:bz2; do
    c=${pair%%:*} p=${pair#*:}
    printf '  %-6s %-14s %-14s %-14s %-14s\n' "$c" \
        "$(ratio "cellar:$c:default" "pgbackrest:$p:sync")" "$(ratio "cellar:$c:default" "pgbackrest:$p:async")" \
        "$(ratio "cellar:$c:1" "pgbackrest:$p:sync")" "$(ratio "cellar:$c:1" "pgbackrest:$p:async")"
done
