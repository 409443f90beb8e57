#!/bin/bash
# tests/tui/t_console_screens.sh - the console's screens that need no
# PostgreSQL, driven through tmux (TAP).
#
# - help: `?` lists every key of the key table (src/tui/keys.c, as
#   build/tests/tui_golden --keys prints it; tests/unit/test_tui_keys.c
#   checks the table itself: labels, help texts, unique keys) with its text;
# - first run: `cellar` with no configuration file anywhere it looks (a
#   private mount namespace hides the host's /etc/barman.conf and the like
#   behind /dev/null, HOME is empty) shows what cellar is, every path it
#   looked at, a minimal configuration and where to go next, at 80x24, and
#   q quits with status 0; a -c FILE that does not exist is still an error;
#   so is a configuration with an error, which names file, line and option;
# - a configuration without servers: the main screen says how to add one.
# Run: tests/run.sh tests/tui/t_console_screens.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/lib/console.sh"
harness_init || exit 1
tap_plan 21

command -v tmux >/dev/null || tap_bail "tmux is not installed"
conf=$T/cellar.conf
printf '[cellar]\nbarman_home = %s\nbarman_user = %s\n\n[pg]\ndescription = "help test"\nconninfo = host=127.0.0.1 port=1\n' \
    "$T/home" "$(id -un)" >"$conf"

# ---- help: every key of the table, with its text -----------------------------
# one entry of the table per line: label TAB help (from the table itself)
keys_bin=$HARNESS_TOP/build/tests/tui_golden
[ -x "$keys_bin" ] || tap_bail "$keys_bin is missing: make build/tests/tui_golden"
mapfile -t entries < <("$keys_bin" --keys)
n_table=${#entries[@]}
ok "every entry of tui_keys has a label and a help text ($n_table keys)" \
    test "$(printf '%s\n' "${entries[@]}" | grep -c $'^[^\t][^\t]*\t..*')" -eq "$n_table" -a "$n_table" -ge 10

console_start 100x30 "./cellar -c $(printf %q "$conf")"
ok "the console opens" wait_screen "help test"
keys '?'
ok "? opens the help" wait_screen "Help: keys and the commands they run"
missing=
for e in "${entries[@]}"; do
    label=${e%%$'\t'*} help=${e#*$'\t'}
    # the key's column is 12 wide, its text follows (cut to the width)
    screen | grep -qF -- "$(printf '%-12s%s' "$label" "${help:0:30}")" || missing+="$label: $help"$'\n'
done
is "$missing" "" "the help lists every key of tui_keys with its text"
keys Escape
ok "any key closes the help" wait_screen_gone "Help: keys"
keys q
ok "q quits" wait_screen "console-exited=0"

# ---- first run: no configuration file at all --------------------------------
mkdir -p "$T/empty-home"
# the places cellar looks outside HOME (src/core/config/config.c)
etc_paths=(/etc/cellar.conf /etc/cellar/cellar.conf /etc/barman.conf /etc/barman/barman.conf)
cat >"$T/noconf.sh" <<EOF
#!/bin/bash
# hide the host's configuration files in this mount namespace only
for f in ${etc_paths[*]}; do
    [ -e "\$f" ] && { mount --bind /dev/null "\$f" || exit 99; }
done
export HOME=$(printf %q "$T/empty-home")
exec "\$@"
EOF
chmod +x "$T/noconf.sh"
if ! unshare -m "$T/noconf.sh" true 2>/dev/null; then
    for t in "the first-run screen opens" "it lists every place cellar looked" \
        "it shows a minimal configuration" "it points to make demo, --help and the docs" \
        "it fits 80 columns" "q quits it with status 0"; do
        skip "$t" "cannot hide /etc's configuration files (unshare -m needs root)"
    done
else
    console_start 80x24 "unshare -m $(printf %q "$T/noconf.sh") ./cellar"
    ok "the first-run screen opens" wait_screen "No configuration file was found. cellar looked for:"
    s=$(screen)
    missing=
    for p in "$T/empty-home/.cellar.conf" "$T/empty-home/.barman.conf" "${etc_paths[@]}"; do
        grep -qF -- "$p" <<<"$s" || missing+="$p "
    done
    is "$missing" "" "it lists every place cellar looked"
    ok "it shows a minimal configuration" \
        eval 'grep -q "^ *\[cellar\]$" <<<"$s" && grep -qF "backup_method = local-rsync" <<<"$s" && grep -qF "archive_command = '"'"'cellar put-wal pg %p'"'"'" <<<"$s"'
    ok "it points to make demo, --help and the docs" \
        eval 'grep -qF "make demo" <<<"$s" && grep -qF "cellar --help" <<<"$s" && grep -qF "doc/tutorial.md" <<<"$s"'
    ok "it fits 80 columns" test "$(wc -L <<<"$s")" -le 80
    keys q
    ok "q quits it with status 0" wait_screen "console-exited=0"
fi

# a -c FILE that does not exist is an error, not the first-run screen
console_start 80x24 "./cellar -c $(printf %q "$T/missing.conf")"
ok "-c with a missing file is an error, exit status 2" wait_screen "console-exited=2"
like "$(screen)" "cannot read the configuration" "and says so"

# a configuration with an error: today's message, naming file, line and option
printf '[cellar]\nbarman_home = %s\nlog_level = LOUD\n' "$T/home" >"$T/bad.conf"
console_start 100x30 "./cellar -c $(printf %q "$T/bad.conf")"
ok "a configuration error stops the console, exit status 2" wait_screen "console-exited=2"
like "$(screen)" "ERROR: $T/bad.conf:3: \[cellar\] log_level: invalid log level 'LOUD'" \
    "the error names the file, the line and the option"

# ---- a configuration without servers ------------------------------------------
printf '[cellar]\nbarman_home = %s\nbarman_user = %s\n' "$T/home" "$(id -un)" >"$T/none.conf"
console_start 80x24 "./cellar -c $(printf %q "$T/none.conf")"
ok "a configuration without servers opens the console" wait_screen "0 server(s)"
ok "which says no server is configured in that file" \
    wait_screen "No server is configured in $T/none.conf."
s=$(screen)
ok "and how to add one: an example section and what to do next" \
    eval 'grep -qF "[pg]" <<<"$s" && grep -qF "conninfo = host=127.0.0.1" <<<"$s" && grep -qF "then quit (q) and run cellar again" <<<"$s"'
ok "the frames are whole at 80x24" frames_whole 3
keys q
ok "q quits" wait_screen "console-exited=0"
