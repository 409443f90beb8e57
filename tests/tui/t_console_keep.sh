#!/bin/bash
# tests/tui/t_console_keep.sh - keeping and releasing backups from the
# console (TAP).
#
# A synthetic Barman home (bench/lib/synthetic.sh: three DONE backups, no
# PostgreSQL, no retention policy). In a 200x50 tmux session: the oldest
# backup is selected; `K` asks whether to keep it, `n` cancels (nothing
# written); `K` then `y` keeps it: the backups pane marks it KEEP:FULL
# (with no retention policy, where list-backup's marks say nothing) and
# `cellar keep --status` says full; `K` on the kept backup asks to release
# it and `y` releases it: the mark goes and --status says nokeep; the
# keep of a backup kept outside the console (standalone) shows as
# KEEP:STANDALONE after R reloads; `d` on a kept backup is refused with the
# reason. The middle backup's backup.info says encryption=gpg (as Barman
# 3.14 writes it for an encrypted backup): its row says [gpg] and the
# details pane's Encryption line says gpg; the others say nothing of it.
# Run: tests/run.sh tests/tui/t_console_keep.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/lib/console.sh"
# shellcheck source=bench/lib/synthetic.sh
. "$(dirname "$0")/../../bench/lib/synthetic.sh"
harness_init || exit 1
tap_plan 17

command -v tmux >/dev/null || tap_bail "tmux is not installed"
synthetic_home "$T" 3 30 >&2
conf=$T/bench.conf
mapfile -t ids < <("$CELLAR" -c "$conf" list-backup --minimal bench) # newest first
[ "${#ids[@]}" -eq 3 ] || tap_bail "the synthetic home has ${#ids[@]} backups, not 3"
newest=${ids[0]} middle=${ids[1]} oldest=${ids[2]}
echo "encryption=gpg" >>"$T/home/bench/base/$middle/backup.info"
status() { "$CELLAR" -c "$conf" keep bench "$1" --status | tail -1 | tr -d '\t'; }
row() { screen | grep "^│$1 "; }

console_start 200x50 "./cellar -c $(printf %q "$conf")"
ok "the console lists the three backups" wait_screen "$oldest"

keys Tab Down Down K
ok "K asks, naming the selected (oldest) backup" \
    wait_screen "Keep backup $oldest of server bench whatever the retention policy says (target full)? (y/N)"
keys n
ok "n cancels" wait_screen "keep cancelled"
is "$(status "$oldest")" "Keep: nokeep" "nothing was kept"

keys K
ok "K asks again" wait_screen "Keep backup $oldest of server bench"
keys y
ok "y keeps it: the operation ends ok" wait_screen "keep --target full bench $oldest: done" 30
ok "the backups pane marks it KEEP:FULL" wait_for 10 eval 'row "$oldest" | grep -q "KEEP:FULL"'
is "$(status "$oldest")" "Keep: full" "cellar keep --status says full"

keys d y
ok "d on the kept backup is refused with the reason" \
    wait_screen "delete bench $oldest: backup $oldest of server bench is kept (keep): it cannot be deleted" 30

keys K
ok "K on a kept backup asks to release it" \
    wait_screen "Release the keep of backup $oldest of server bench (retention may then delete it)? (y/N)"
keys y
ok "y releases it" wait_screen "keep --release bench $oldest: done" 30
ok "the mark is gone" wait_for 10 eval '! row "$oldest" | grep -q KEEP'
is "$(status "$oldest")" "Keep: nokeep" "cellar keep --status says nokeep"

"$CELLAR" -c "$conf" keep bench "$newest" --target standalone >/dev/null
keys R
ok "a keep made outside the console shows as KEEP:STANDALONE after R" \
    wait_for 10 eval 'row "$newest" | grep -q "KEEP:STANDALONE"'

ok "the encrypted backup's row says [gpg]" wait_for 10 eval 'row "$middle" | grep -qF "[gpg]"'
ok "the others' rows do not" eval '! row "$oldest" | grep -qF "[gpg]" && ! row "$newest" | grep -qF "[gpg]"'
keys Up Enter
ok "its details say Encryption: gpg" wait_screen_re "Encryption +: gpg"
