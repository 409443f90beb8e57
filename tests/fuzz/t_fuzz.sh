#!/bin/bash
# tests/fuzz/t_fuzz.sh - a short, repeatable run of every libFuzzer target (TAP).
#
# Each target in build/fuzz/ (built from tests/fuzz/fuzz_*.c by make) first
# replays its seed corpus tests/fuzz/corpus/NAME/ (real files: configurations,
# backup.info, xlog.db, WAL headers, themes, events), then tries
# FUZZ_RUNS mutated inputs (default 20000) from a fixed seed, so a run is the
# same every time. libFuzzer works in a scratch copy of the corpus: the
# tracked seeds never change. A target passes when libFuzzer found nothing:
# no crash, leak, sanitizer report or time-out. On a failure the log shows
# libFuzzer's report and the input that failed is kept in build/fuzz/crashes/.
set -u
cd "$(dirname "$0")/../.." || exit 1
runs=${FUZZ_RUNS:-20000}
targets=(build/fuzz/fuzz_*)
echo "1..${#targets[@]}"
n=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cellar-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
mkdir -p build/fuzz/crashes
for bin in "${targets[@]}"; do
    n=$((n + 1))
    name=$(basename "$bin")
    seeds="tests/fuzz/corpus/${name#fuzz_}"
    work="$scratch/$name"
    mkdir -p "$work"
    [ -d "$seeds" ] && cp -- "$seeds"/* "$work"/ 2>/dev/null
    # -timeout: one input taking 10 s is a hang (a loop that does not end),
    # not slowness; -rss_limit_mb bounds a parser that grows without end
    if "$bin" -seed=1 -runs="$runs" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
        -artifact_prefix=build/fuzz/crashes/"$name"- "$work" >"$scratch/$name.log" 2>&1; then
        echo "ok $n - $name: $runs inputs, nothing found"
    else
        echo "not ok $n - $name: libFuzzer found a failing input (build/fuzz/crashes/)"
        grep -E -m 40 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x|Test unit written|artifact' \
            "$scratch/$name.log" | sed 's/^/# /'
    fi
done
