# bench/lib/backup.sh - what bench/full-backup.sh and bench/incremental.sh
# share: one throwaway PostgreSQL 15 cluster holding a pgbench database, WAL
# archiving into cellar, Barman 3.4 and pgBackRest 2.45 at once, and a timed,
# verified backup with each tool. Sourced, not run (make bench runs
# bench/*.sh only).
#
# The cluster (tests/integration/lib/pg.sh: initdb -k, so data checksums are
# on; loopback only; fsync = off, which does not matter here because every
# timed run starts after a `sync`):
#   pgbench -i -s SCALE --partitions PARTITIONS --index-tablespace bench_tbs
#   pgbench_accounts is range-partitioned (10 partitions), so its 100000*SCALE
#   rows are 10 sets of files instead of one; every index lives in the
#   tablespace bench_tbs (a directory outside PGDATA, behind a pg_tblspc
#   link), so every tool copies a tablespace too. autovacuum is off, so
#   nothing changes the data between runs but the write burst.
# WAL made by pgbench -i is thrown away (archive_command = /bin/true); then
# archive_command becomes, as the postgres user, the chain
#   cp %p CELLAR_INCOMING/.%f.tmp && mv -f ... CELLAR_INCOMING/%f &&
#   cp %p BARMAN_INCOMING/.%f.tmp && mv -f ... BARMAN_INCOMING/%f &&
#   pgbackrest --stanza=bench archive-push %p
# so each tool receives every later segment the way it is used to (cellar's
# and Barman's archive-wal pick the copies up from incoming/; pgBackRest
# pushes into its repository). The chain runs for every tool's backup alike:
# each backup ends with pg_backup_stop, which waits until the backup's last
# segment is archived by the whole chain.
#
# The tools, all local, all with 2 copy processes, no compression:
#   floor       cp -a of PGDATA (every entry but pg_wal, which no backup
#               copies) and of the tablespace directory, then `sync -f` on
#               the destination (syncfs: one flush of everything written).
#               cellar, Barman and pgBackRest all make their copy durable
#               (cellar fsyncs the copy, Barman fsyncs every file and
#               directory, pgBackRest every file), so the floor must too;
#               syncfs is the cheapest way to do it.
#   cellar      cellar backup bench: backup_method = local-rsync (no
#               ssh_command: cellar copies locally), parallel_jobs = 2,
#               immediate_checkpoint = true, reuse_backup = off (full) or
#               link (incremental: unchanged files hard-linked to the
#               previous backup). cellar also writes backup_manifest (CRC32C
#               of every file) so pg_verifybackup can check the copy.
#   barman      barman backup bench with the same configuration keys:
#               backup_method = local-rsync (Barman 3.4 accepts it: rsync
#               without ssh, so both copy locally and the comparison is fair
#               without an sshd), parallel_jobs = 2, immediate_checkpoint,
#               reuse_backup off / link. Barman runs `barman check` before
#               every backup and archive-wal after it; that is part of what
#               `barman backup` costs.
#   pgbackrest  pgbackrest backup --type=full / --type=incr, as the postgres
#               user (as in a normal installation: archive-push runs as
#               postgres and writes to the same repository), process-max=2,
#               compress-type=none, start-fast=y, repository on the same file
#               system. Its defaults stay on: archive-check (waits until the
#               backup's WAL is in the repository; here that is immediate,
#               pg_backup_stop has waited for the chain already), a SHA-1 of
#               every file and checksum-page (checks every page's checksum).
#               Incremental: files changed since the last backup only (file
#               level, like rsync's reuse).
#
# Same start for every timed run: incoming/ of cellar and Barman emptied
# (archive-wal), CHECKPOINT, every source file read once (warm page cache,
# as in bench/wal-archive.sh; BACKUPBENCH_CACHE=cold drops the page cache
# instead, when /proc/sys/vm/drop_caches can be written), `sync`. The time is
# the wall time of the one command. After each timed run, untimed, the
# backup is checked: exit status 0; cellar: its new backup is listed by
# `cellar -f json list-backup` as DONE or WAITING_FOR_WALS and passes
# `cellar verify-backup` when that command exists, else pg_verifybackup -n on
# its data directory; Barman: backup.info says DONE or WAITING_FOR_WALS;
# pgBackRest: `pgbackrest info` lists the new set without error (and
# `pgbackrest verify` passes once at the end); floor: the same number of
# files and bytes as the source.
#
# Environment:
#   BACKUPBENCH_SCALE       pgbench scale (default 70: about 1.1 GB)
#   BACKUPBENCH_PARTITIONS  partitions of pgbench_accounts (10)
#   BACKUPBENCH_RUNS        rounds: timed runs of each row, the median is
#                           reported (3: at scale 70 a round takes well under
#                           a minute, and single runs on this shared machine
#                           vary by more than the differences measured)
#   BACKUPBENCH_CACHE       warm (default) or cold
#   BENCH_DIR               where the temporary directory goes (/var/tmp);
#                           everything is made in a new directory under it,
#                           removed at exit
#   BACKUPBENCH_CELLAR      the cellar binary (default: ./cellar of this tree)
#   PG_BINDIR               PostgreSQL 15 programs (/usr/lib/postgresql/15/bin)

# shellcheck shell=bash

BB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CELLAR=${BACKUPBENCH_CELLAR:-$BB_TOP/cellar}
SCALE=${BACKUPBENCH_SCALE:-70}
PARTITIONS=${BACKUPBENCH_PARTITIONS:-10}
RUNS=${BACKUPBENCH_RUNS:-3}
CACHE=${BACKUPBENCH_CACHE:-warm}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
JOBS=2
SERVER=bench

bb_die() {
    echo "$BB_NAME: $*" >&2
    exit 1
}

# bb_require - the programs, the cellar binary; sets CELLAR_BACKUP (1 when
# this cellar has a backup command) and CELLAR_VERIFY (verify-backup).
bb_require() {
    local c
    for c in barman pgbackrest rsync jq runuser; do
        command -v "$c" >/dev/null || bb_die "$c is not installed (make deps)"
    done
    for c in pgbench pg_verifybackup initdb; do
        [ -x "$PG_BINDIR/$c" ] || bb_die "no $c in $PG_BINDIR (make deps)"
    done
    [ "$(id -u)" -eq 0 ] || bb_die "run as root (Barman and cellar run as root, PostgreSQL and pgBackRest as postgres)"
    [ -x "$CELLAR" ] || bb_die "no program $CELLAR: build cellar first (make)"
    [[ $SCALE =~ ^[1-9][0-9]*$ ]] || bb_die "BACKUPBENCH_SCALE must be a positive whole number"
    [[ $PARTITIONS =~ ^[1-9][0-9]*$ ]] || bb_die "BACKUPBENCH_PARTITIONS must be a positive whole number"
    [[ $RUNS =~ ^[1-9][0-9]*$ ]] || bb_die "BACKUPBENCH_RUNS must be a positive whole number"
    case $CACHE in
        warm) ;;
        cold) [ -w /proc/sys/vm/drop_caches ] || bb_die "BACKUPBENCH_CACHE=cold: cannot write /proc/sys/vm/drop_caches" ;;
        *) bb_die "BACKUPBENCH_CACHE must be warm or cold" ;;
    esac
    CELLAR_BACKUP=0 CELLAR_VERIFY=0
    "$CELLAR" backup --help >/dev/null 2>&1 && CELLAR_BACKUP=1
    "$CELLAR" verify-backup --help >/dev/null 2>&1 && CELLAR_VERIFY=1
    if [ "$CELLAR_BACKUP" = 0 ]; then
        echo "$BB_NAME: cellar backup: not available in this build ($CELLAR); the other rows run, the cellar rows fail" >&2
    fi
}

# ---- the work directory, the cluster, the tools' configurations ----------------

# shellcheck source=tests/integration/lib/pg.sh
. "$BB_TOP/tests/integration/lib/pg.sh"

work=""
bb_cleanup() {
    pg_cleanup_all
    [ -n "$work" ] && rm -rf "$work"
}

bb_setup_dir() {
    local base=${BENCH_DIR:-/var/tmp}
    [ -d "$base" ] || bb_die "BENCH_DIR '$base' is not a directory"
    work=$(mktemp -d "$base/cellar-backupbench-XXXXXX") || bb_die "cannot make a directory under $base"
    chmod 0755 "$work"
    trap bb_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    # pg.sh puts the cluster under TMPDIR: the same file system as the backups
    TMPDIR=$work
    : >"$work/tools.log"
}

now() { echo "${EPOCHREALTIME/[.,]/}"; } # microseconds

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

pgbench() { "$PG_BINDIR/pgbench" -h 127.0.0.1 -p "$PG_BENCH_PORT" -U postgres "$@" postgres; }

# bytes and files of the data every tool copies: PGDATA but pg_wal, and the
# tablespace
src_files() {
    find "$PG_BENCH_DATA" -path "$PG_BENCH_DATA/pg_wal" -prune -o -type f -printf '%P\t%s\t%T@\n'
    find "$TBS" -type f -printf 'TBS/%P\t%s\t%T@\n'
}
sum_sizes() { awk -F'\t' '{n++; s += $2} END {printf "%d %d\n", n, s}'; }

cellar_cmd() { "$CELLAR" -c "$work/cellar-$1.conf" "${@:2}"; }
barman_cmd() { barman -c "$work/barman-$1.conf" "${@:2}"; }
pgbr_cmd() { as_postgres pgbackrest "--config=$work/pgbr/pgbackrest.conf" --stanza=bench "$@"; }

# write_conf FILE HOME REUSE - the same server section for cellar and Barman
write_conf() {
    cat >"$1" <<CONF
[barman]
barman_home = $2
barman_user = $(id -un)
log_file = $2.log
log_level = INFO
path_prefix = $PG_BINDIR

[$SERVER]
description = backup benchmark
conninfo = $PG_BENCH_CONNINFO
backup_method = local-rsync
backup_options = concurrent_backup
archiver = on
parallel_jobs = $JOBS
immediate_checkpoint = true
network_compression = false
reuse_backup = $3
CONF
}

# bb_setup - the cluster, the database, archiving into all three tools
bb_setup() {
    local archive_cmd d
    bb_setup_dir
    echo "$BB_NAME: PostgreSQL 15 and pgbench -i -s $SCALE --partitions $PARTITIONS..." >&2
    PG_ARCHIVE_COMMAND=/bin/true pg_start bench 'shared_buffers = 128MB' 'max_wal_size = 4GB' \
        'checkpoint_timeout = 1h' 'autovacuum = off' 'log_checkpoints = off' ||
        bb_die "cannot start PostgreSQL"
    TBS=$work/tbs
    mkdir "$TBS" && chown postgres:postgres "$TBS"
    pg_sql bench "CREATE TABLESPACE bench_tbs LOCATION '$TBS'" >/dev/null || bb_die "CREATE TABLESPACE failed"
    pgbench -i -q -s "$SCALE" --partitions "$PARTITIONS" --index-tablespace bench_tbs \
        >"$work/pgbench-init.log" 2>&1 || bb_die "pgbench -i failed: $(tail -3 "$work/pgbench-init.log")"
    pg_sql bench CHECKPOINT >/dev/null

    # the tools' homes; incoming/ written by archive_command as postgres
    for d in cellar barman; do
        mkdir -p "$work/$d/$SERVER/incoming"
        chown postgres:postgres "$work/$d/$SERVER/incoming"
        write_conf "$work/$d-full.conf" "$work/$d" off
        write_conf "$work/$d-incr.conf" "$work/$d" link
    done
    mkdir -p "$work/pgbr/repo" "$work/pgbr/log" "$work/pgbr/lock"
    cat >"$work/pgbr/pgbackrest.conf" <<CONF
[global]
repo1-path=$work/pgbr/repo
repo1-retention-full=9999
log-path=$work/pgbr/log
lock-path=$work/pgbr/lock
log-level-console=warn
log-level-file=info
process-max=$JOBS
compress-type=none
start-fast=y

[bench]
pg1-path=$PG_BENCH_DATA
pg1-port=$PG_BENCH_PORT
pg1-socket-path=$PG_BENCH_DIR
pg1-user=postgres
CONF
    chown -R postgres:postgres "$work/pgbr"
    pgbr_cmd stanza-create >>"$work/tools.log" 2>&1 ||
        bb_die "pgbackrest stanza-create failed: $(tail -3 "$work/tools.log")"

    archive_cmd="cp %p $work/cellar/$SERVER/incoming/.%f.tmp && mv -f $work/cellar/$SERVER/incoming/.%f.tmp $work/cellar/$SERVER/incoming/%f"
    archive_cmd+=" && cp %p $work/barman/$SERVER/incoming/.%f.tmp && mv -f $work/barman/$SERVER/incoming/.%f.tmp $work/barman/$SERVER/incoming/%f"
    archive_cmd+=" && pgbackrest --config=$work/pgbr/pgbackrest.conf --stanza=bench archive-push %p"
    if ! pg_sql bench "ALTER SYSTEM SET archive_command = '$archive_cmd'" >/dev/null ||
        ! pg_sql bench "SELECT pg_reload_conf()" >/dev/null; then
        bb_die "cannot set archive_command"
    fi
    sleep 1
    # pgbackrest check switches WAL and waits until pgBackRest has the segment
    pgbr_cmd check >>"$work/tools.log" 2>&1 || bb_die "pgbackrest check failed: $(tail -5 "$work/tools.log")"
    wait_archived || bb_die "WAL archiving does not work: $(pg_sql bench 'SELECT * FROM pg_stat_archiver')"
    drain_incoming || bb_die "archive-wal failed: $(tail -5 "$work/tools.log")"
    barman_cmd full check "$SERVER" >"$work/barman-check.log" 2>&1 ||
        bb_die "barman check fails: $(grep -i failed "$work/barman-check.log")"

    read -r SRC_FILES SRC_BYTES < <(src_files | sum_sizes)
    read -r TBS_FILES TBS_BYTES < <(find "$TBS" -type f -printf 'x\t%s\n' | sum_sizes)
    WAL_BYTES=$(find "$PG_BENCH_DATA/pg_wal" -maxdepth 1 -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')
}

# wait until PostgreSQL has no segment left to archive
wait_archived() {
    local i
    for ((i = 0; i < 600; i++)); do
        [ -z "$(find "$PG_BENCH_DATA/pg_wal/archive_status" -name '*.ready' -print -quit)" ] && return 0
        sleep 0.1
    done
    return 1
}

# cellar's and Barman's incoming/ into their archives
drain_incoming() {
    "$CELLAR" -c "$work/cellar-full.conf" archive-wal "$SERVER" >>"$work/tools.log" 2>&1 &&
        barman_cmd full archive-wal "$SERVER" >>"$work/tools.log" 2>&1
}

# the same start for every timed run
bb_prepare() {
    pg_sql bench CHECKPOINT >/dev/null || bb_die "CHECKPOINT failed"
    wait_archived || bb_die "PostgreSQL does not archive WAL any more"
    drain_incoming || bb_die "archive-wal failed: $(tail -5 "$work/tools.log")"
    sync
    if [ "$CACHE" = cold ]; then
        echo 3 >/proc/sys/vm/drop_caches
    else
        find "$PG_BENCH_DATA" "$TBS" -path "$PG_BENCH_DATA/pg_wal" -prune -o -type f -print0 |
            xargs -0 cat >/dev/null
    fi
}

# ---- the timed commands --------------------------------------------------------

floor_run() { # DEST
    local entries=()
    mkdir "$1" "$1/data"
    mapfile -d '' entries < <(find "$PG_BENCH_DATA" -mindepth 1 -maxdepth 1 ! -name pg_wal -print0)
    cp -a "${entries[@]}" "$1/data/" &&
        mkdir -p "$1/data/pg_wal/archive_status" &&
        cp -a "$TBS" "$1/tbs" &&
        sync -f "$1"
}

# tool_run TOOL KIND - KIND full or incr
tool_run() {
    case $1 in
        floor) floor_run "$work/floor" >>"$work/tools.log" 2>&1 ;;
        cellar) cellar_cmd "$2" backup "$SERVER" >>"$work/tools.log" 2>&1 ;;
        barman) barman_cmd "$2" backup "$SERVER" >>"$work/tools.log" 2>&1 ;;
        pgbackrest) pgbr_cmd "--type=$2" backup >>"$work/tools.log" 2>&1 ;;
    esac
}

# ---- the checks after each run (untimed) ------------------------------------------

newest_id() { # TOOL
    case $1 in
        cellar) cellar_cmd full list-backup --minimal "$SERVER" 2>/dev/null | head -1 ;;
        barman) barman_cmd full list-backup --minimal "$SERVER" 2>/dev/null | head -1 ;;
        pgbackrest) pgbr_cmd info --output=json 2>/dev/null | jq -r '.[0].backup[-1].label // empty' ;;
    esac
}

backup_dir() { # TOOL ID
    case $1 in
        cellar | barman) echo "$work/$1/$SERVER/base/$2" ;;
        pgbackrest) echo "$work/pgbr/repo/backup/bench/$2" ;;
        floor) echo "$work/floor" ;;
    esac
}

# pg_verifybackup -n on a backup in Barman's layout (data/, and <oid>/ for
# each tablespace beside it; Barman leaves data/pg_tblspc/ empty, recovery
# makes the links). When data/pg_tblspc/<oid> is missing or does not lead to
# <oid>/ of the backup, the check runs on a hard-linked view whose links do.
verify_manifest() { # DIR
    local dir=$1 view tdir oid target
    [ -f "$dir/data/backup_manifest" ] || { echo "no backup_manifest in $dir/data" >&2; return 1; }
    view=$dir/data
    for tdir in "$dir"/[0-9]*; do
        [ -d "$tdir" ] || continue
        oid=${tdir##*/}
        target=$(readlink -f "$dir/data/pg_tblspc/$oid" || true)
        [ "$target" = "$(readlink -f "$tdir")" ] && continue
        if [ "$view" = "$dir/data" ]; then
            view=$work/verify-view
            rm -rf "$view"
            cp -al "$dir/data" "$view"
        fi
        mkdir -p "$view/pg_tblspc"
        rm -f "$view/pg_tblspc/$oid"
        ln -s "$dir/$oid" "$view/pg_tblspc/$oid"
    done
    "$PG_BINDIR/pg_verifybackup" -n "$view" >>"$work/tools.log" 2>&1 ||
        { echo "pg_verifybackup -n failed: $(tail -5 "$work/tools.log")" >&2; rm -rf "$work/verify-view"; return 1; }
    rm -rf "$work/verify-view"
}

# tool_check TOOL PREVIOUS_ID - prints the new backup's ID; fails when there
# is none, or it is not good
tool_check() {
    local tool=$1 prev=$2 id status got
    if [ "$tool" = floor ]; then
        got=$( (cd "$work/floor/data" && find . -path ./pg_wal -prune -o -type f -printf 'x\t%s\n'
                cd "$work/floor/tbs" && find . -type f -printf 'x\t%s\n') | sum_sizes)
        [ "$got" = "$SRC_FILES $SRC_BYTES" ] ||
            { echo "floor: the copy has files and bytes '$got', the source '$SRC_FILES $SRC_BYTES'" >&2; return 1; }
        echo "floor -"
        return 0
    fi
    id=$(newest_id "$tool")
    if [ -z "$id" ] || [ "$id" = "$prev" ]; then
        echo "$tool: no new backup in the catalogue" >&2
        return 1
    fi
    case $tool in
        cellar)
            status=$(cellar_cmd full -f json list-backup "$SERVER" |
                jq -r --arg id "$id" 'select(.event == "result") | .data.backups[] | select(.backup_id == $id) | .status')
            case $status in DONE | WAITING_FOR_WALS) ;; *) echo "cellar: backup $id has status '$status'" >&2; return 1 ;; esac
            if [ "$CELLAR_VERIFY" = 1 ]; then
                cellar_cmd full verify-backup "$SERVER" "$id" >>"$work/tools.log" 2>&1 ||
                    { echo "cellar verify-backup $id failed: $(tail -5 "$work/tools.log")" >&2; return 1; }
            else
                verify_manifest "$(backup_dir cellar "$id")" || return 1
            fi ;;
        barman)
            status=$(sed -n 's/^status=//p' "$(backup_dir barman "$id")/backup.info")
            case $status in DONE | WAITING_FOR_WALS) ;; *) echo "barman: backup $id has status '$status'" >&2; return 1 ;; esac ;;
        pgbackrest)
            status=$(pgbr_cmd info --output=json | jq -r --arg id "$id" '.[0].status.code, (.[0].backup[] | select(.label == $id) | .error)' | tr '\n' ' ')
            [ "$status" = "0 false " ] || { echo "pgbackrest: info says '$status' for $id" >&2; return 1; }
            status=ok ;;
    esac
    echo "$id $status"
}

# pgbackrest verify: the whole repository (every backup set and the WAL). It
# exits 0 even when it finds damage, so its report is read: "status: ok" and
# every set "status: valid".
pgbr_verify() {
    pgbr_cmd verify --output=text --verbose >"$work/pgbr-verify.log" 2>&1 &&
        grep -qx 'status: ok' "$work/pgbr-verify.log" &&
        ! grep -E '^ +backup: ' "$work/pgbr-verify.log" | grep -qv 'status: valid,'
}

# bytes of a backup; with BASE, only those not hard-linked to BASE
backup_bytes() { # TOOL ID [BASE_ID]
    if [ -n "${3:-}" ]; then
        du -sb "$(backup_dir "$1" "$3")" "$(backup_dir "$1" "$2")" | tail -1 | cut -f1
    else
        du -sb "$(backup_dir "$1" "$2")" | cut -f1
    fi
}

# "Incremental size" of show-backup (cellar and Barman)
incr_size() { # TOOL ID
    "${1}_cmd" full show-backup "$SERVER" "$2" 2>/dev/null | sed -n 's/^ *Incremental size *: *//p' | head -1
}

# remove a backup so that the next incremental starts from the same base
tool_delete() { # TOOL ID
    case $1 in
        floor) rm -rf "$work/floor" ;;
        cellar) cellar_cmd full delete "$SERVER" "$2" >>"$work/tools.log" 2>&1 ;;
        barman) barman_cmd full delete "$SERVER" "$2" >>"$work/tools.log" 2>&1 ;;
        pgbackrest) pgbr_cmd expire "--set=$2" >>"$work/tools.log" 2>&1 ;;
    esac
}

# ---- timing ------------------------------------------------------------------------

# shellcheck disable=SC2034 # BYTES, INCR, IDS, STATUS: for the scripts
declare -A TIMES BYTES IDS STATUS FAILED INCR
# bb_timed KEY TOOL KIND - prepare, time, check; records TIMES[KEY] (a list
# of microseconds), IDS[KEY] (the new backup's ID) and STATUS[KEY] (its
# status: DONE, WAITING_FOR_WALS, ok for pgBackRest); a failure marks
# FAILED[KEY] and later calls for KEY do nothing
bb_timed() {
    local key=$1 tool=$2 kind=$3 t0 t1 out id status prev=""
    [ -z "${FAILED[$key]:-}" ] || return 1
    if [ "$tool" = cellar ] && [ "$CELLAR_BACKUP" = 0 ]; then
        FAILED[$key]="cellar backup: not available in this build"
        return 1
    fi
    if [ "$tool" = floor ]; then
        rm -rf "$work/floor"
    else
        prev=$(newest_id "$tool")
    fi
    bb_prepare
    echo "$BB_NAME:   $key..." >&2
    t0=$(now)
    if ! tool_run "$tool" "$kind"; then
        FAILED[$key]="$tool failed: $(tail -3 "$work/tools.log" | tr '\n' ' ')"
        echo "$BB_NAME: ${FAILED[$key]}" >&2
        return 1
    fi
    t1=$(now)
    if ! out=$(tool_check "$tool" "$prev" 2>"$work/check.err"); then
        FAILED[$key]=$(cat "$work/check.err")
        echo "$BB_NAME: $key: ${FAILED[$key]}" >&2
        return 1
    fi
    read -r id status <<<"$out"
    TIMES[$key]="${TIMES[$key]:-}${TIMES[$key]:+ }$((t1 - t0))"
    # shellcheck disable=SC2034
    IDS[$key]=$id STATUS[$key]=$status
}

median() { # KEY - median seconds
    tr ' ' '\n' <<<"${TIMES[$1]}" | sort -n | awk '{a[NR] = $1} END {printf "%.2f", a[int((NR + 1) / 2)] / 1e6}'
}
spread() { # KEY - fastest-slowest seconds
    tr ' ' '\n' <<<"${TIMES[$1]}" | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo / 1e6, hi / 1e6}'
}
nruns() { wc -w <<<"${TIMES[$1]:-}" | tr -d ' '; }
have() { [ -n "${TIMES[$1]:-}" ] && [ -z "${FAILED[$1]:-}" ]; }

mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

# row KEY LABEL MODE [SIZE_COLUMNS...] - one line of the table
row() {
    local key=$1 label=$2 mode=$3
    shift 3
    if have "$key"; then
        printf '%-11s %-40s %4s %8s %11s %8s' "$label" "$mode" "$(nruns "$key")" "$(median "$key")" "$(spread "$key")" \
            "$(awk -v s="$(median "$key")" -v b="$SRC_BYTES" 'BEGIN {printf "%.1f", b / 1048576 / s}')"
        printf ' %s' "$@"
        printf '\n'
    else
        printf '%-11s %-40s %s\n' "$label" "$mode" "FAILED: ${FAILED[$key]:-not run}"
    fi
}

# ratio A B - median(A) / median(B), or "-"
ratio() {
    if have "$1" && have "$2"; then
        awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {printf "%.2f", a / b}'
    else
        printf -- -
    fi
}
# goal TEXT RATIO OP LIMIT - "goal ...: yes/no/cannot tell"
goal() {
    local met
    if [ "$2" = - ]; then
        met="cannot tell (a row is missing)"
    elif awk -v r="$2" -v l="$4" -v op="$3" 'BEGIN {exit !((op == "<=") ? r <= l : (op == ">=") ? r >= l : r > l)}'; then
        met=yes
    else
        met=no
    fi
    printf 'goal: %s: %s\n' "$1" "$met"
}

bb_header() {
    printf '\npgbench scale %s (pgbench_accounts in %s partitions), PostgreSQL 15, data checksums on\n' "$SCALE" "$PARTITIONS"
    printf 'data copied: %s MiB in %s files (tablespace bench_tbs, every index: %s MiB in %s files); pg_wal (%s MiB) is not copied\n' \
        "$(mib "$SRC_BYTES")" "$SRC_FILES" "$(mib "$TBS_BYTES")" "$TBS_FILES" "$(mib "$WAL_BYTES")"
    printf '%s CPUs, %s page cache at the start of each run; seconds: the median of %s run(s), min-max: the fastest and slowest; MiB/s: the data above / median\n' \
        "$(nproc)" "$CACHE" "$RUNS"
    printf 'every tool: %s copy processes, no compression, local copy, durable (fsync or syncfs)\n\n' "$JOBS"
}
