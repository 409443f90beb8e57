#!/bin/bash
# tests/run.sh PROGRAM... - run test programs that speak TAP, count the results.
#
# Each program prints "1..N" and one "ok N - name" / "not ok N - name" line per
# test on stdout. Its stderr (and the TAP "#" diagnostics) go to a log under
# build/test-logs/, shown when something fails. A program that dies early, or
# exits non-zero without reporting a failure, counts as one failed test, so a
# crash can never pass unnoticed. A test reported "ok ... # SKIP reason" ran
# nothing: it is counted neither as passed nor as failed, and listed with its
# reason. The last line is always "N passed, N failed".
set -u
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
top=$(cd "$(dirname "$0")/.." && pwd)
logdir="$top/build/test-logs"
mkdir -p "$logdir"

passed=0
failed=0
failures=()
skips=()

for prog in "$@"; do
    name=$(basename "$prog")
    log="$logdir/$name.log"
    out=$("$prog" 2>"$log")
    rc=$?
    plan=$(printf '%s\n' "$out" | sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' | head -n1)
    ok=$(printf '%s\n' "$out" | grep '^ok ' | grep -vc ' # SKIP')
    skipped=$(printf '%s\n' "$out" | grep '^ok ' | grep -c ' # SKIP')
    nok=$(printf '%s\n' "$out" | grep -c '^not ok ')
    while IFS= read -r line; do
        [ -n "$line" ] && skips+=("$name: ${line#ok }")
    done < <(printf '%s\n' "$out" | grep '^ok .* # SKIP')
    printf '%s\n' "$out" | grep -v -e '^ok ' -e '^1\.\.' >>"$log"
    passed=$((passed + ok))
    failed=$((failed + nok))
    status="ok"
    if [ "$nok" -gt 0 ]; then
        status="FAILED"
        while IFS= read -r line; do failures+=("$name: ${line#not ok }"); done \
            < <(printf '%s\n' "$out" | grep '^not ok ')
    fi
    if [ -z "$plan" ] || [ $((ok + skipped + nok)) -lt "$plan" ] || { [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; }; then
        failed=$((failed + 1))
        status="FAILED"
        failures+=("$name: stopped early (exit status $rc, ${ok} ok of plan ${plan:-none})")
    fi
    printf '%-32s %3d ok %3d failed  %s%s\n' "$name" "$ok" "$nok" "$status" \
        "$([ "$skipped" -gt 0 ] && echo "  ($skipped skipped)")"
    if [ "$status" != ok ]; then
        sed 's/^/    | /' "$log" | tail -n 40
    fi
done

if [ ${#skips[@]} -gt 0 ]; then
    echo
    echo "skipped (not counted as passed):"
    printf '  %s\n' "${skips[@]}"
fi
if [ ${#failures[@]} -gt 0 ]; then
    echo
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
