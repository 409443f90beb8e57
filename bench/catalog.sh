#!/bin/bash
# bench/catalog.sh - reading the catalogue: cellar against Barman 3.4 on the
# same Barman home.
#
# It builds a synthetic Barman home (BACKUPS backups, one every 6 hours, and
# an xlog.db with SEGMENTS archived WAL segments between them), points both
# tools at the same configuration, and times the commands a DBA and the
# console run most: list-backup (every backup's sizes need the WAL index)
# and show-backup of the newest backup, and archive-wal with nothing waiting
# (what every cron minute runs). Each command runs RUNS times; the median
# wall time is reported with the ratio barman/cellar, and the peak resident
# memory of one more run of each (/usr/bin/time).
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
# shellcheck source=bench/lib/synthetic.sh
. "$top/bench/lib/synthetic.sh"
synthetic_home "$work" "$BACKUPS" "$SEGMENTS"

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

# the outputs must agree before the timings mean anything (cellar adds the
# deduplicated size of backups that share files; Barman's line does not)
if ! diff <(barman -c "$work/bench.conf" list-backup bench 2>/dev/null) \
          <("$CELLAR" -c "$work/bench.conf" list-backup bench |
             sed 's/ (deduplicated: [^)]*)//') >/dev/null; then
    echo "list-backup outputs differ between barman and cellar" >&2
    exit 1
fi

# peak resident memory in MiB of one run of a command
peak_mib() {
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1 | awk '{printf "%.0f", $1 / 1024}'
}

mkdir -p "$work/home/bench/incoming" # archive-wal: nothing waits there
printf '%s backups, %s WAL segments in xlog.db, median of %s runs\n' "$BACKUPS" "$SEGMENTS" "$RUNS"
printf '%-26s %10s %10s %8s %12s %12s\n' command barman cellar ratio "barman MiB" "cellar MiB"
for cmd in "list-backup bench" "show-backup bench latest" "archive-wal bench"; do
    # shellcheck disable=SC2086
    b=$(median barman -c "$work/bench.conf" $cmd)
    # shellcheck disable=SC2086
    c=$(median "$CELLAR" -c "$work/bench.conf" $cmd)
    # shellcheck disable=SC2086
    bm=$(peak_mib barman -c "$work/bench.conf" $cmd)
    # shellcheck disable=SC2086
    cm=$(peak_mib "$CELLAR" -c "$work/bench.conf" $cmd)
    printf '%-26s %9ss %9ss %7.1fx %12s %12s\n' "$cmd" "$b" "$c" \
        "$(awk -v b="$b" -v c="$c" 'BEGIN {print b / c}')" "$bm" "$cm"
done
