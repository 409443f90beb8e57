#!/bin/bash
# tests/tui/t_golden.sh - the console's screens, drawn off-screen from a
# fixed catalogue, against the saved ones in tests/tui/golden/ (TAP).
#
# build/tests/tui_golden (tests/tui/golden_screens.c) draws each pane
# focused, the help, the filter prompt, the Getting started pane and the
# recovery wizard's steps up to the review at 80x24 and 120x40, with a
# fixed clock and TZ, as text plus a map of the theme role of every cell. One test per screen; a
# difference prints the diff (saved on the left, drawn on the right).
#
# Run:     make build/tests/tui_golden && tests/run.sh tests/tui/t_golden.sh
# Record:  make golden   (tests/tui/t_golden.sh --record: after a wanted
#          change of the screens; review `git diff tests/tui/golden/`)
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
harness_init || exit 1

bin=$HARNESS_TOP/build/tests/tui_golden
golden=$HARNESS_TOP/tests/tui/golden
[ -x "$bin" ] || tap_bail "$bin is missing: make build/tests/tui_golden"
mkdir -p "$T/out" "$T/work"
export TZ=UTC
"$bin" "$T/out" "$T/work" || tap_bail "tui_golden failed"

if [ "${1:-}" = --record ]; then
    rm -f "$golden"/*.txt
    cp "$T/out"/*.txt "$golden"/
    echo "recorded $(ls "$T/out" | wc -l) screens in tests/tui/golden/" >&2
    tap_plan 1
    pass "recorded"
    exit 0
fi

mapfile -t drawn < <(cd "$T/out" && ls ./*.txt | sed 's|^\./||')
mapfile -t saved < <(cd "$golden" && ls ./*.txt 2>/dev/null | sed 's|^\./||')
tap_plan $((${#drawn[@]} + 1))
is "$(printf '%s\n' "${saved[@]}")" "$(printf '%s\n' "${drawn[@]}")" \
    "every screen drawn has a saved screen and the other way round (${#drawn[@]})"
for f in "${drawn[@]}"; do
    if cmp -s "$golden/$f" "$T/out/$f"; then
        pass "$f"
    else
        diff -u "$golden/$f" "$T/out/$f" | sed 's/^/    /' >&2
        fail "$f differs from tests/tui/golden/$f (make golden records it after a wanted change)"
    fi
done
