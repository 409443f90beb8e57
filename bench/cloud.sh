#!/bin/bash
# bench/cloud.sh - object storage (issue 18): cellar's cloud commands
# against barman-cloud 3.4 on one Swift s3api store and one cluster.
#
# The store: tests/integration/lib/swift.sh (a private Swift with s3api on
# 127.0.0.1, one replica, its storage under BENCH_DIR), one bucket. The
# cluster: tests/integration/lib/pg.sh (initdb -k, loopback only, fsync =
# off), a pgbench database (pgbench -i -s CLOUDBENCH_SCALE, every index in
# the tablespace bench_tbs, so both tools handle a tablespace too), then
# CLOUDBENCH_LOAD (5) seconds of pgbench load so the balances are not all
# zero. archive_command copies each segment into a local directory: those
# copies are the real 16 MiB segments of part 1, and the WAL of the
# recovery checks (restore_command cp), so neither tool's WAL code is
# trusted by a check. Nothing writes to the database after the load.
#
# Part 1, WAL, per segment: the last CLOUDBENCH_SEGMENTS (16) segments,
# once with no compression and once with gzip (-z):
#   archive   cellar cloud-wal-archive / barman-cloud-wal-archive, one
#             process per segment as archive_command runs it, each tool
#             into its own server name; the order alternates from segment
#             to segment so a slow spell hits both alike.
#   restore   cellar cloud-wal-restore / barman-cloud-wal-restore of the
#             same objects (those barman-cloud-wal-archive wrote), one
#             process per segment as restore_command runs it, no
#             prefetching; each file restored is compared with the
#             original (cmp) and a difference fails the row.
# Then, untimed, every object cellar archived is read back by boto3 in one
# Python process, decompressed and compared with its segment.
# The time of a row is the median of its per-segment wall times.
# Goals (issue 18): WAL push at least 3x barman-cloud's per segment; for
# restore the same 2x as a whole backup's restore.
#
# Part 2, base backups, CLOUDBENCH_COMP (gzip; bzip2 or none), -J
# CLOUDBENCH_JOBS (2, barman-cloud-backup's default) for both tools, in
# CLOUDBENCH_RUNS (2) rounds of one run of each row (the median is
# reported; of an even count, the mean of the middle two):
#   backup    cellar cloud-backup / barman-cloud-backup --immediate-checkpoint
#             (before each: CHECKPOINT, every source file read once); each
#             must be listed DONE by barman-cloud-backup-list. Without a
#             cloud-backup command in this cellar (`cloud-backup --help`
#             fails) the cellar row says "skipped: cloud-backup not built".
#             MiB/s is PGDATA (pg_wal left out) and the tablespace over the
#             time.
#   restore   cellar cloud-restore / barman-cloud-restore of the first
#             barman-cloud-backup (the tablespace relocated with
#             --tablespace); each tree (paths, types, modes, sizes, MD5 of
#             every file) must equal the first barman-cloud-restore's.
# Then, untimed, the data is checked: cellar's last restore, and cellar's
# first backup restored by barman-cloud-restore, are started by PostgreSQL
# (recovery_target = 'immediate' with the copied WAL) and must answer
# the same row counts and sums of every pgbench table as the source.
# Goals (issue 18): backup upload throughput and restore at least 2x
# barman-cloud's.
#
# Printed: a table of medians and ratios (barman / cellar; the ratios are
# the result, the seconds vary with the machine) and the goals as met or not
# (never asserted). Exit status 1 when a row failed (a skipped row is not a
# failure). Every process started here (Swift's servers, the clusters) is
# stopped by PID at exit.
#
#   bench/cloud.sh                         about 5 minutes on 2 CPUs
#   CLOUDBENCH_SCALE=5 CLOUDBENCH_SEGMENTS=4 CLOUDBENCH_RUNS=1 bench/cloud.sh   a quick run
# Environment:
#   CLOUDBENCH_SCALE     pgbench scale (20: about 320 MiB)
#   CLOUDBENCH_SEGMENTS  WAL segments timed in part 1 (16)
#   CLOUDBENCH_LOAD      seconds of pgbench load after -i (5)
#   CLOUDBENCH_RUNS      rounds of part 2 (2)
#   CLOUDBENCH_COMP      compression of part 2: gzip, bzip2 or none (gzip)
#   CLOUDBENCH_JOBS      -J of both backup tools (2)
#   CLOUDBENCH_CELLAR    the cellar binary (./cellar of this tree)
#   CLOUDBENCH_KEEP      set: keep the temporary directory (logs)
#   BENCH_DIR            where the cluster, the store and the copies live (/var/tmp)
#   PG_BINDIR            PostgreSQL 15 programs (/usr/lib/postgresql/15/bin)
set -eu
NAME=cloud
TOP=$(cd "$(dirname "$0")/.." && pwd)
CELLAR=${CLOUDBENCH_CELLAR:-$TOP/cellar}
SCALE=${CLOUDBENCH_SCALE:-20}
SEGMENTS=${CLOUDBENCH_SEGMENTS:-16}
LOAD=${CLOUDBENCH_LOAD:-5}
RUNS=${CLOUDBENCH_RUNS:-2}
COMP=${CLOUDBENCH_COMP:-gzip}
JOBS=${CLOUDBENCH_JOBS:-2}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

die() {
    echo "$NAME: $*" >&2
    exit 1
}

# ---- what is needed -------------------------------------------------------------
for c in barman-cloud-wal-archive barman-cloud-wal-restore barman-cloud-backup \
    barman-cloud-backup-list barman-cloud-restore swift-ring-builder curl; do
    command -v "$c" >/dev/null || die "$c is not installed (make deps)"
done
[ -x "$PG_BINDIR/pgbench" ] || die "no pgbench in $PG_BINDIR (make deps)"
[ "$(id -u)" -eq 0 ] || die "run as root (the store runs as swift, PostgreSQL as postgres)"
[ -x "$CELLAR" ] || die "no program $CELLAR: build cellar first (make)"
for v in SCALE SEGMENTS RUNS JOBS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "CLOUDBENCH_$v must be a positive whole number (is '${!v}')"
done
[[ $LOAD =~ ^[0-9]+$ ]] || die "CLOUDBENCH_LOAD must be a whole number (is '$LOAD')"
case $COMP in
gzip) FLAG=(-z) ;;
bzip2) FLAG=(-j) ;;
none) FLAG=() ;;
*) die "CLOUDBENCH_COMP must be gzip, bzip2 or none (is '$COMP')" ;;
esac
for c in cloud-wal-archive cloud-wal-restore cloud-restore; do
    "$CELLAR" "$c" --help >/dev/null 2>&1 || die "this cellar has no $c command"
done
HAVE_BACKUP=0
"$CELLAR" cloud-backup --help >/dev/null 2>&1 && HAVE_BACKUP=1

# ---- the work directory, cleaned up at exit -----------------------------------------
# shellcheck source=tests/integration/lib/pg.sh
. "$TOP/tests/integration/lib/pg.sh"
# shellcheck source=tests/integration/lib/swift.sh
. "$TOP/tests/integration/lib/swift.sh"

work=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    set +e
    pg_cleanup_all # every cluster started here, by PID
    swift_stop     # Swift's four servers, by PID
    if [ -n "$work" ] && [ -n "${CLOUDBENCH_KEEP:-}" ]; then
        echo "$NAME: kept $work (logs)" >&2
    elif [ -n "$work" ]; then
        rm -rf "$work"
    fi
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
LOG=$work/tools.log
: >"$LOG"

now() { echo "${EPOCHREALTIME/[.,]/}"; } # microseconds
pgbench() { "$PG_BINDIR/pgbench" -h 127.0.0.1 -p "$PG_BENCH_PORT" -U postgres "$@" postgres; }
tail_log() { tail -n 2 "$LOG" | tr '\n' ' '; }

# ---- the store, the cluster, the segments ----------------------------------------------
echo "$NAME: Swift s3api..." >&2
swift_start >"$work/swift.out" 2>&1 || die "cannot start Swift: $(tail -3 "$work/swift.out")"
swift_make_bucket bench >/dev/null 2>&1 || die "cannot create the bucket"
EP=(--endpoint-url "$S3_ENDPOINT_URL")

WAL=$work/wal
mkdir "$WAL" && chown postgres:postgres "$WAL"
echo "$NAME: PostgreSQL 15, pgbench -i -s $SCALE and $LOAD s of load..." >&2
PG_ARCHIVE_COMMAND="cp %p $WAL/.%f.tmp && mv $WAL/.%f.tmp $WAL/%f" \
    pg_start bench 'shared_buffers = 128MB' 'max_wal_size = 2GB' 'checkpoint_timeout = 1h' \
    'autovacuum = off' 'log_checkpoints = off' || die "cannot start PostgreSQL"
TBS=$work/tbs
mkdir "$TBS" && chown postgres:postgres "$TBS"
pg_sql bench "CREATE TABLESPACE bench_tbs LOCATION '$TBS'" >/dev/null || die "CREATE TABLESPACE failed"
pgbench -i -q -s "$SCALE" --index-tablespace bench_tbs >"$work/pgbench.log" 2>&1 ||
    die "pgbench -i failed: $(tail -3 "$work/pgbench.log")"
[ "$LOAD" -eq 0 ] || pgbench -n -c 2 -j 2 -T "$LOAD" >>"$work/pgbench.log" 2>&1 ||
    die "pgbench failed: $(tail -3 "$work/pgbench.log")"
segcount() { find "$WAL" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l; }
# more load until there are enough finished segments (a small scale)
for ((i = 0; i < 50 && $(segcount) <= SEGMENTS; i++)); do
    pgbench -n -c 2 -j 2 -t 2000 >>"$work/pgbench.log" 2>&1 || die "pgbench failed"
    pg_sql bench "SELECT pg_switch_wal()" >/dev/null
    sleep 1
done
pg_sql bench CHECKPOINT >/dev/null
# what every copy must answer: rows and sums of each pgbench table
FINGERPRINT_SQL="SELECT (SELECT count(*) || '/' || sum(abalance) || '/' || sum(aid) FROM pgbench_accounts)
 || ' ' || (SELECT count(*) || '/' || sum(bbalance) FROM pgbench_branches)
 || ' ' || (SELECT count(*) || '/' || sum(tbalance) FROM pgbench_tellers)
 || ' ' || (SELECT count(*) || '/' || coalesce(sum(delta), 0) FROM pgbench_history)"
SOURCE_FP=$(pg_sql bench "$FINGERPRINT_SQL") || die "cannot read the source's rows"
BYTES=$(du -sb --exclude=pg_wal "$PG_BENCH_DATA" "$TBS" | awk '{s += $1} END {print s}')
mapfile -t SEGS < <(find "$WAL" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9A-F]{24}' \
    -printf '%f\n' | sort | tail -n "$SEGMENTS")
[ "${#SEGS[@]}" -eq "$SEGMENTS" ] || die "only ${#SEGS[@]} segments archived, $SEGMENTS wanted"

declare -A TIMES FAILED SKIPPED
add_time() { TIMES[$1]="${TIMES[$1]:-}${TIMES[$1]:+ }$2"; }
fail() { # ROW WHY - the first reason a row failed is kept
    [ -n "${FAILED[$1]:-}" ] || FAILED[$1]=$2
    echo "$NAME: $1: $2" >&2
}

# ---- part 1: WAL, per segment ---------------------------------------------------------
WURL=s3://bench/wal
wal_archive() { # TOOL COMP SEG
    local z=()
    [ "$2" = gzip ] && z=(-z)
    case $1 in
    cellar) "$CELLAR" cloud-wal-archive "${z[@]}" "${EP[@]}" "$WURL" "c-$2" "$WAL/$3" ;;
    barman) barman-cloud-wal-archive "${z[@]}" "${EP[@]}" "$WURL" "b-$2" "$WAL/$3" ;;
    esac
}
wal_restore() { # TOOL COMP SEG DEST - both read barman-cloud's objects
    case $1 in
    cellar) "$CELLAR" cloud-wal-restore "${EP[@]}" "$WURL" "b-$2" "$3" "$4" ;;
    barman) barman-cloud-wal-restore "${EP[@]}" "$WURL" "b-$2" "$3" "$4" ;;
    esac
}
timed_wal() { # KIND TOOL COMP SEG
    local row="wal_$1_$2_$3" t0 t1 dest=$work/walout/$2.$4
    [ -z "${FAILED[$row]:-}" ] || return 0
    rm -f "$dest"
    t0=$(now)
    if [ "$1" = archive ]; then
        wal_archive "$2" "$3" "$4" >>"$LOG" 2>&1 || { fail "$row" "exit status $? on $4: $(tail_log)"; return 0; }
    else
        wal_restore "$2" "$3" "$4" "$dest" >>"$LOG" 2>&1 || { fail "$row" "exit status $? on $4: $(tail_log)"; return 0; }
    fi
    t1=$(now)
    if [ "$1" = restore ]; then
        cmp -s "$WAL/$4" "$dest" || { fail "$row" "$4 restored differs from the original"; return 0; }
        rm -f "$dest"
    fi
    add_time "$row" $((t1 - t0))
}
mkdir "$work/walout"
for comp in none gzip; do
    for kind in archive restore; do
        echo "$NAME: part 1: WAL $kind, $comp, ${#SEGS[@]} segments..." >&2
        for ((i = 0; i < ${#SEGS[@]}; i++)); do
            if ((i % 2 == 0)); then order=(cellar barman); else order=(barman cellar); fi
            for tool in "${order[@]}"; do
                timed_wal "$kind" "$tool" "$comp" "${SEGS[i]}"
            done
        done
    done
done
# every object cellar archived, read back by boto3 and compared
echo "$NAME: checking cellar's WAL objects with boto3..." >&2
for comp in none gzip; do
    bad=$(swift_s3py "
import gzip, os, sys
wal, srv = sys.argv[1], sys.argv[2]
bad, seen = [], set()
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='bench', Prefix='wal/' + srv + '/wals/'):
    for o in page.get('Contents', []):
        key = o['Key']
        data = s3.get_object(Bucket='bench', Key=key)['Body'].read()
        name = key.rsplit('/', 1)[1]
        if name.endswith('.gz'):
            name, data = name[:-3], gzip.decompress(data)
        seen.add(name)
        if data != open(os.path.join(wal, name), 'rb').read():
            bad.append(name)
missing = [s for s in sys.argv[3:] if s not in seen]
print(' '.join(bad + ['missing:' + m for m in missing]))
" "$WAL" "c-$comp" "${SEGS[@]}" 2>>"$LOG") || bad="boto3 could not read them: $(tail_log)"
    [ -z "$bad" ] || fail "wal_archive_cellar_$comp" "objects wrong: $bad"
done

# ---- part 2: base backups and restores ----------------------------------------------------
BURL=s3://bench/base
PGOPTS=(-h 127.0.0.1 -p "$PG_BENCH_PORT" -U postgres --immediate-checkpoint -J "$JOBS")
backup_ids() { # TOOL - the DONE backups of TOOL's server, oldest first
    barman-cloud-backup-list "${EP[@]}" --format json "$BURL" "$1" 2>>"$LOG" |
        "$SWIFT_PYTHON" -c "import json, sys
for b in json.load(sys.stdin)['backups_list']:
    if b['status'] == 'DONE':
        print(b['backup_id'])" | sort
}
warm() {
    find "$PG_BENCH_DATA" "$TBS" -path "$PG_BENCH_DATA/pg_wal" -prune -o -type f -print0 |
        xargs -0 cat >/dev/null 2>&1 || true
}
timed_backup() { # TOOL
    local row=backup_$1 before t0 t1 rc
    [ -z "${FAILED[$row]:-}" ] || return 0
    pg_sql bench CHECKPOINT >/dev/null
    warm
    before=$(backup_ids "$1" | wc -l)
    echo "$NAME:   backup, $1..." >&2
    t0=$(now)
    rc=0
    case $1 in
    cellar) "$CELLAR" cloud-backup "${EP[@]}" "${FLAG[@]}" "${PGOPTS[@]}" "$BURL" cellar >>"$LOG" 2>&1 || rc=$? ;;
    barman) barman-cloud-backup "${EP[@]}" "${FLAG[@]}" "${PGOPTS[@]}" "$BURL" barman >>"$LOG" 2>&1 || rc=$? ;;
    esac
    t1=$(now)
    [ "$rc" -eq 0 ] || { fail "$row" "exit status $rc: $(tail_log)"; return 0; }
    [ "$(backup_ids "$1" | wc -l)" -eq $((before + 1)) ] ||
        { fail "$row" "barman-cloud-backup-list shows no new DONE backup"; return 0; }
    add_time "$row" $((t1 - t0))
    sleep 1 # backup IDs have a one-second resolution
}
# tree DIR - each entry's path, type, mode, size, link target, and every
# file's MD5; DIR itself left out (a tablespace location cellar creates is
# 0700 like PGDATA, barman-cloud-restore's follows the umask)
tree() {
    (cd "$1" && find . -mindepth 1 -printf '%P %y %m %s %l\n' | sort &&
        find . -type f -print0 | sort -z | xargs -0 md5sum)
}
restore_cmd() { # TOOL SERVER ID DIR
    case $1 in
    cellar) "$CELLAR" cloud-restore "${EP[@]}" --tablespace "bench_tbs:$4.tbs" "$BURL" "$2" "$3" "$4" ;;
    barman) barman-cloud-restore "${EP[@]}" --tablespace "bench_tbs:$4.tbs" "$BURL" "$2" "$3" "$4" ;;
    esac
}
timed_restore() { # TOOL ROUND
    local row=restore_$1 dir=$work/restore/$1.$2 t0 t1 rc=0
    [ -z "${FAILED[$row]:-}" ] || return 0
    echo "$NAME:   restore, $1..." >&2
    sync
    t0=$(now)
    restore_cmd "$1" barman "$RESTORE_ID" "$dir" >>"$LOG" 2>&1 || rc=$?
    t1=$(now)
    [ "$rc" -eq 0 ] || { fail "$row" "exit status $rc: $(tail_log)"; return 0; }
    { tree "$dir" && tree "$dir.tbs"; } | sed "s|$dir|DIR|g" >"$work/restore/$1.$2.tree"
    if [ ! -f "$work/restore/reference.tree" ]; then
        mv "$work/restore/$1.$2.tree" "$work/restore/reference.tree"
    elif ! cmp -s "$work/restore/reference.tree" "$work/restore/$1.$2.tree"; then
        fail "$row" "the restored tree differs from the first barman-cloud-restore's ($work/restore/$1.$2.tree)"
        return 0
    fi
    add_time "$row" $((t1 - t0))
    LAST_RESTORE[$1]=$dir
    # keep the disk small: only the newest restore of each tool stays
    [ -z "${PREV_RESTORE[$1]:-}" ] || rm -rf "${PREV_RESTORE[$1]}" "${PREV_RESTORE[$1]}.tbs"
    PREV_RESTORE[$1]=$dir
}
declare -A LAST_RESTORE PREV_RESTORE
mkdir "$work/restore"
[ "$HAVE_BACKUP" = 1 ] || SKIPPED[backup_cellar]="skipped: cloud-backup not built"
for ((r = 1; r <= RUNS; r++)); do
    echo "$NAME: part 2: round $r of $RUNS..." >&2
    if ((r % 2 == 1)); then order=(cellar barman); else order=(barman cellar); fi
    for tool in "${order[@]}"; do
        [ -n "${SKIPPED[backup_$tool]:-}" ] || timed_backup "$tool"
    done
    if [ -z "${RESTORE_ID:-}" ]; then
        RESTORE_ID=$(backup_ids barman | head -1)
        [ -n "$RESTORE_ID" ] || { fail restore_cellar "no barman-cloud-backup to restore"; fail restore_barman "no backup"; }
    fi
    # barman first in round 1: its tree is the reference
    if ((r % 2 == 1)); then order=(barman cellar); else order=(cellar barman); fi
    for tool in "${order[@]}"; do
        [ -z "${RESTORE_ID:-}" ] || timed_restore "$tool" "$r"
    done
done

# ---- the data of the copies, untimed -----------------------------------------------------
# check_copy NAME DIR - start DIR with the copied WAL, up to the end of the
# backup; FP gets its fingerprint, or why there is none. Called in the main
# shell, so that pg_cleanup_all knows the cluster if anything goes wrong.
check_copy() {
    local i
    FP="(did not start, see $LOG)"
    {
        printf "restore_command = 'cp %s/%%f %%p'\n" "$WAL"
        printf "archive_mode = off\nrecovery_target = 'immediate'\nrecovery_target_action = 'promote'\n"
    } >>"$2/postgresql.auto.conf"
    touch "$2/recovery.signal"
    pg_start_datadir "$1" "$2" >>"$LOG" 2>&1 || return 0
    for ((i = 0; i < 600; i++)); do
        [ "$(pg_sql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && break
        sleep 0.1
    done
    FP=$(pg_sql "$1" "$FINGERPRINT_SQL" 2>>"$LOG") || FP="(no answer, see $LOG)"
    pg_stop "$1" >>"$LOG" 2>&1 || true
}
echo "$NAME: checking the restored data with PostgreSQL..." >&2
pg_sql bench "SELECT pg_switch_wal()" >/dev/null # the backups' last WAL reaches the copies' restore_command
for ((i = 0; i < 300; i++)); do
    [ -z "$(find "$PG_BENCH_DATA/pg_wal/archive_status" -name '*.ready' -print -quit)" ] && break
    sleep 0.1
done
if [ -n "${LAST_RESTORE[cellar]:-}" ]; then
    check_copy rcellar "${LAST_RESTORE[cellar]}"
    [ "$FP" = "$SOURCE_FP" ] || fail restore_cellar "the copy answers '$FP', the source '$SOURCE_FP'"
fi
if [ -n "${TIMES[backup_cellar]:-}" ]; then
    id=$(backup_ids cellar | head -1)
    dir=$work/restore/of-cellar
    if restore_cmd barman cellar "$id" "$dir" >>"$LOG" 2>&1; then
        check_copy bcellar "$dir"
    else
        FP="(barman-cloud-restore failed: $(tail_log))"
    fi
    [ "$FP" = "$SOURCE_FP" ] ||
        fail backup_cellar "cellar's backup $id restored by barman-cloud-restore answers '$FP', the source '$SOURCE_FP'"
fi

# ---- the report ----------------------------------------------------------------------------
have() { [ -n "${TIMES[$1]:-}" ] && [ -z "${FAILED[$1]:-}" ]; }
median() { tr ' ' '\n' <<<"${TIMES[$1]}" | sort -n | awk '{a[NR] = $1} END {printf "%.3f", (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2e6}'; }
cell() { # ROW - the median, or why there is none
    if have "$1"; then
        median "$1"
    elif [ -n "${SKIPPED[$1]:-}" ]; then
        printf '%s' "${SKIPPED[$1]}"
    else
        printf 'FAILED: %s' "${FAILED[$1]:-not run}"
    fi
}
ratio() { # CELLAR_ROW BARMAN_ROW - barman / cellar, or -
    if have "$1" && have "$2"; then
        awk -v c="$(median "$1")" -v b="$(median "$2")" 'BEGIN {printf "%.2f", b / c}'
    else
        printf -- -
    fi
}
goal() { # RATIO LIMIT
    if [ "$1" = - ]; then printf 'cannot tell'; elif awk -v r="$1" -v l="$2" 'BEGIN {exit !(r >= l)}'; then
        printf 'met (>= %s)' "$2"; else printf 'NOT met (>= %s)' "$2"; fi
}
row() { # LABEL CELLAR_ROW BARMAN_ROW N GOAL - a cell too long for the table
    # (a failure, a skip) shows as "-" with its text on a line of its own
    local r c b notes=()
    r=$(ratio "$2" "$3")
    c=$(cell "$2") b=$(cell "$3")
    [ ${#c} -le 10 ] || { notes+=("    cellar: $c"); c=-; }
    [ ${#b} -le 10 ] || { notes+=("    barman: $b"); b=-; }
    printf '%-34s %5s %10s %10s %7s  %s\n' "$1" "$4" "$c" "$b" "$r" "$(goal "$r" "$5")"
    [ ${#notes[@]} -eq 0 ] || printf '%s\n' "${notes[@]}"
}
mib=$(awk -v b="$BYTES" 'BEGIN {printf "%.0f", b / 1048576}')
printf '\nSwift s3api on 127.0.0.1 (one replica), PostgreSQL 15, pgbench scale %s (%s MiB, indexes in a tablespace), %s CPUs\n' \
    "$SCALE" "$mib" "$(nproc)"
printf 'medians in seconds (a shared machine: the seconds vary, the ratios are the result); ratio = barman-cloud / cellar\n\n'
printf '%-34s %5s %10s %10s %7s  %s\n' "what (per segment / per backup)" runs cellar barman ratio goal
for comp in none gzip; do
    row "WAL archive, $comp" "wal_archive_cellar_$comp" "wal_archive_barman_$comp" "${#SEGS[@]}" 3
done
for comp in none gzip; do
    row "WAL restore, $comp" "wal_restore_cellar_$comp" "wal_restore_barman_$comp" "${#SEGS[@]}" 2
done
row "backup, $COMP, -J $JOBS" backup_cellar backup_barman "$RUNS" 2
row "restore of a $COMP backup" restore_cellar restore_barman "$RUNS" 2
for t in cellar barman; do
    if have "backup_$t"; then
        printf '  backup throughput, %s: %s MiB/s\n' "$t" \
            "$(awk -v b="$BYTES" -v s="$(median "backup_$t")" 'BEGIN {printf "%.1f", b / 1048576 / s}')"
    fi
done
printf '\nchecks a row passed: every WAL file restored byte-identical; every object cellar archived read back by boto3 and\n'
printf 'identical; every restored tree equal to the first barman-cloud-restore'"'"'s; cellar'"'"'s last restore, and cellar'"'"'s\n'
printf 'first backup restored by barman-cloud-restore, started by PostgreSQL and answering the source'"'"'s rows and sums\n'
printf '(%s)\n' "$SOURCE_FP"

for k in "${!FAILED[@]}"; do
    [ -z "${FAILED[$k]}" ] || exit 1
done
exit 0
