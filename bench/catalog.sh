#!/bin/bash
# bench/catalog.sh - reading the catalogue: cellar against Barman 3.4 on the
# same Barman home.
#
# It builds a synthetic Barman home (BACKUPS backups, one every 6 hours, and
# an xlog.db with SEGMENTS archived WAL segments between them), points both
# tools at the same configuration, and times the commands a DBA and the
# console run most: list-backup (every backup's sizes need the WAL index)
# and show-backup of the newest backup. Each command runs RUNS times; the
# median wall time is reported with the ratio barman/cellar.
#
# pgBackRest and cp have no equivalent of reading a Barman catalogue, so
# they are not part of this benchmark (they are in the copy benchmarks).
#
#   bench/catalog.sh [BACKUPS [SEGMENTS [RUNS]]]   defaults: 100 100000 3
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
CELLAR=$top/cellar
BACKUPS=${1:-100}
SEGMENTS=${2:-100000}
RUNS=${3:-3}
command -v barman >/dev/null || { echo "barman is not installed (make deps)" >&2; exit 1; }
[ -x "$CELLAR" ] || { echo "build cellar first (make)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cellar-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
home=$work/home
mkdir -p "$home/bench/base" "$home/bench/wals"
cat >"$work/bench.conf" <<CONF
[barman]
barman_home = $home
barman_user = $(id -un)
log_file = $work/barman.log

[bench]
description = synthetic catalogue
conninfo = host=127.0.0.1 port=1 user=postgres
backup_method = local-rsync
backup_options = concurrent_backup
archiver = on
CONF

# SEGMENTS segments of 16 MiB on timeline 1, gzip-sized, one every
# 10 seconds; a backup every SEGMENTS/BACKUPS segments.
awk -v segs="$SEGMENTS" -v backups="$BACKUPS" -v home="$home/bench" '
function segname(n) { return sprintf("00000001%08X%08X", int(n / 256), n % 256) }
BEGIN {
    t0 = 1790000000
    xlog = home "/wals/xlog.db"
    for (n = 1; n <= segs; n++) {
        name = segname(n)
        printf "%s\t%d\t%.6f\tgzip\n", name, 16400 + n % 97, t0 + n * 10 >> xlog
    }
    step = int(segs / backups)
    for (b = 0; b < backups; b++) {
        begin = 1 + b * step; end = begin + 1
        t = t0 + begin * 10
        id = strftime("%Y%m%dT%H%M%S", t, 1)
        dir = home "/base/" id
        system("mkdir -p " dir)
        f = dir "/backup.info"
        printf "backup_label=None\nbegin_offset=40\nbegin_time=%s+00:00\n", strftime("%Y-%m-%d %H:%M:%S", t, 1) > f
        printf "begin_wal=%s\nbegin_xlog=%X/%X\ncompression=None\nconfig_file=/pg/postgresql.conf\n", segname(begin), int(begin / 256), (begin % 256) * 16777216 + 40 > f
        printf "copy_stats={\x27copy_time\x27: 12.5, \x27total_time\x27: 13.0}\ndeduplicated_size=%d\n", 1000000 + b, 1000000 + b > f
        printf "end_offset=256\nend_time=%s+00:00\nend_wal=%s\nend_xlog=%X/%X\n", strftime("%Y-%m-%d %H:%M:%S", t + 12, 1), segname(end), int(end / 256), (end % 256) * 16777216 + 256 > f
        printf "error=None\nhba_file=/pg/pg_hba.conf\nident_file=/pg/pg_ident.conf\nincluded_files=None\nmode=rsync-concurrent\n" > f
        printf "pgdata=/pg\nserver_name=bench\nsize=%d\nstatus=DONE\nsystemid=7000000000000000001\ntablespaces=None\n", 50000000 + b > f
        printf "timeline=1\nversion=150018\nxlog_segment_size=16777216\n" > f
        close(f)
    }
}'
mkdir -p "$home/bench/wals/0000000100000000"

# median wall time in seconds of RUNS runs of a command
median() {
    local times=() i start end
    for ((i = 0; i < RUNS; i++)); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        times+=("$(((end - start) / 1000))")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1e6}'
}

# the outputs must agree before the timings mean anything
if ! diff <(barman -c "$work/bench.conf" list-backup bench 2>/dev/null) \
          <("$CELLAR" -c "$work/bench.conf" list-backup bench) >/dev/null; then
    echo "list-backup outputs differ between barman and cellar" >&2
    exit 1
fi

printf '%s backups, %s WAL segments in xlog.db, median of %s runs\n' "$BACKUPS" "$SEGMENTS" "$RUNS"
printf '%-24s %10s %10s %8s\n' command barman cellar ratio
for cmd in "list-backup bench" "show-backup bench latest"; do
    # shellcheck disable=SC2086
    b=$(median barman -c "$work/bench.conf" $cmd)
    # shellcheck disable=SC2086
    c=$(median "$CELLAR" -c "$work/bench.conf" $cmd)
    printf '%-24s %9ss %9ss %7.1fx\n' "$cmd" "$b" "$c" "$(awk -v b="$b" -v c="$c" 'BEGIN {print b / c}')"
done
