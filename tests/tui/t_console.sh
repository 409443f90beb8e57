#!/bin/bash
# tests/tui/t_console.sh - the console on a real cluster, driven through tmux (TAP).
#
# A PostgreSQL 15 cluster archives through `cellar put-wal` and has one DONE
# backup (reuse_backup = link, so the next one hard-links what did not
# change). cellar runs without a command inside a detached tmux session
# (100x30, UTF-8); keys are sent with send-keys and the screen is read with
# capture-pane, polling until the expected text shows (never fixed sleeps):
# the servers pane lists the server with a plausible WAL lag, a switched
# WAL segment shows as waiting until `a` archives it; the backups pane
# lists the DONE backup; Enter shows show-backup's fields; `b` runs a
# backup whose result appears in the activity pane and which is DONE in
# list-backup, with the Size and Dedup list-backup gives it and a Dedup
# smaller than the full backup's; a resize to 80x24 redraws with whole
# frames, `?` lists the keys with their batch commands, `r` opens the
# recovery wizard and Esc closes it, a resize to 200x60 redraws the wide layout (details beside
# the backups); `q` quits; a bad theme falls back with a message.
# Run: tests/run.sh tests/tui/t_console.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/lib/console.sh"
harness_init || exit 1
tap_plan 33

command -v tmux >/dev/null || tap_bail "tmux is not installed"
home=$T/home
conf=$T/cellar.conf
mkdir -p "$home/main/incoming"
chown -R postgres: "$home"
write_conf() {
    {
        printf '[cellar]\nbarman_home = %s\nbarman_user = root\nlog_file = %s\n' "$home" "$T/cellar.log"
        printf 'path_prefix = %s\n\n' "$PG_BINDIR"
        printf '[main]\ndescription = "console test cluster"\n'
        printf 'conninfo = host=127.0.0.1 port=%s user=postgres dbname=postgres\n' "${PG_MAIN_PORT:-1}"
        printf 'backup_method = local-rsync\nimmediate_checkpoint = true\nreuse_backup = link\n'
        printf 'last_backup_maximum_age = 1 day\n'
        printf '%s\n' "$@"
    } >"$conf"
    chmod 0644 "$conf"
}
write_conf
touch "$T/cellar.log" && chmod 0666 "$T/cellar.log"
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
# reuse_backup = link copies again what changed at or after the previous
# backup's start (to the second): let the clock pass the newest file of the
# fresh cluster, so that the second backup has something to link
newest_mtime() { find "$PG_MAIN_DATA" -path "$PG_MAIN_DATA/pg_wal" -prune -o -type f -printf '%T@\n' | sort -n | tail -n1 | cut -d. -f1; }
clock_past_newest() { [ "$(date +%s)" -gt "$(newest_mtime)" ]; }
wait_for 5 clock_past_newest || tap_bail "the cluster's files keep changing"
"$CELLAR" -c "$conf" backup --wait --wait-timeout 60 main >"$T/first-backup.log" 2>&1 ||
    tap_bail "the first backup failed: $(cat "$T/first-backup.log")"
first=$("$CELLAR" -c "$conf" list-backup --minimal main | head -n1)

# the server's Last WAL cell (columns 43-60 of its row in the servers pane)
wal_cell() { local row; row=$(screen_row "console test cluster"); printf '%s' "${row:42:18}"; }
# wait_wal_cell REGEX [S] - poll until the Last WAL cell matches REGEX
wait_wal_cell() {
    local end=$((SECONDS + ${2:-10}))
    while [ "$SECONDS" -lt "$end" ]; do
        [[ $(wal_cell) =~ $1 ]] && return 0
        sleep 0.1
    done
    diag "Last WAL cell: '$(wal_cell)', expected /$1/"
    return 1
}
# "27.6 MiB" -> bytes
to_bytes() { awk -v v="$1" 'BEGIN { split(v, a, " "); m["B"] = 1; m["KiB"] = 1024; m["MiB"] = 1048576; m["GiB"] = 1073741824; printf "%d\n", a[1] * m[a[2]] }'; }
trim() { local s=$1; s=${s%"${s##*[! ]}"}; printf '%s' "${s#"${s%%[! ]*}"}"; }

console_start 100x30 "./cellar -c $(printf %q "$conf")"
ok "the servers pane shows the server" wait_screen "console test cluster"
ok "the backups pane shows the backup, DONE" wait_screen "$first"
like "$(screen_row "$first")" "DONE" "the backup's row says DONE"
ok "the frames are whole at 100x30" frames_whole 4
like "$(screen_row "Server ")" "Last WAL" "the servers pane has a Last WAL column"
# the backup waited for its WAL: archived seconds or minutes ago (what
# PostgreSQL sent after the backup's end may still wait in incoming/)
like "$(wal_cell)" '^[0-9]+[sm]( \+[0-9]+ waiting)? *$' "Last WAL is the age of the newest archived file"
"$CELLAR" -c "$conf" archive-wal main >&2
ok "once archived, nothing waits (read again within 5 s)" wait_wal_cell '^[0-9]+[sm] *$' 15

# a switched segment reaches incoming/ through put-wal: it waits for the archiver
pg_sql main "CREATE TABLE lag AS SELECT 1 AS i" >&2
pg_sql main "SELECT pg_switch_wal()" >&2
ok "a switched WAL segment shows as waiting" wait_wal_cell '^[0-9]+[sm] \+1 waiting' 30
keys a
ok "a archives it: nothing waits any more" wait_wal_cell '^[0-9]+[sm] *$' 30

keys Tab Enter
ok "Enter shows show-backup's fields" wait_screen "Server Name            : main"
unlike "$(screen)" "begin_offset|copy_stats" "as show-backup prints them, not backup.info's raw keys"
like "$(screen_row "Recoverable window:")" "Recoverable window: [0-9-]+ [0-9:]+.* \.\. [0-9-]+ [0-9:]+.*last WAL 0000" \
    "above them, the server's recoverable window with its bounds and last WAL"
like "$(screen)" "Details of $first" "the details pane names the backup"

keys Tab Tab Tab b
ok "b starts a backup in the activity pane" wait_screen "backup main"
ok "the backup ends ok in the activity pane" wait_screen "backup main: done" 90
second=$("$CELLAR" -c "$conf" list-backup --minimal main | head -n1)
is "$("$CELLAR" -c "$conf" -f json show-backup main "$second" | sed -n 's/.*"status":"\([A-Z_]*\)".*/\1/p' | head -n1)" \
    "DONE" "list-backup has the console's backup, DONE"
ok "the new backup shows in the backups pane" wait_screen "$second"

# Size and Dedup of the linked backup, as list-backup says them; columns at
# 100x30: Size 35-44, Dedup 46-55
row=$(screen_row "$second")
line=$("$CELLAR" -c "$conf" list-backup main | grep -F "$second")
is "$(trim "${row:34:10}")" "$(printf '%s\n' "$line" | sed -n 's/.* - Size: \([0-9.]* [KMG]*i*B\).*/\1/p')" \
    "the Size column is list-backup's Size"
is "$(trim "${row:45:10}")" "$(printf '%s\n' "$line" | sed -n 's/.*(deduplicated: \([^)]*\)).*/\1/p')" \
    "the Dedup column is list-backup's deduplicated size of the linked backup"
full=$(screen_row "$first")
full=$(trim "${full:45:10}")
linked=$(trim "${row:45:10}")
diag "Dedup: full backup $full, linked backup $linked"
ok "the linked backup's Dedup is less than half the full backup's" \
    test "$(to_bytes "$linked")" -gt 0 -a "$(to_bytes "$linked")" -lt $(($(to_bytes "$full") / 2))

console_resize 80x24
ok "after a resize to 80x24 the console redraws whole frames" wait_for 10 frames_whole 4
header=$(screen_row "End time")
like "$header" "Size +Dedup +Status" "at 80 columns the backups keep their Dedup column"
unlike "$header" " WAL " "and drop the WAL size, the column of lowest priority"
is "$(screen | wc -L)" 80 "nothing is drawn beyond 80 columns"

keys '?'
ok "? shows the help with the batch commands" wait_screen "cellar backup --wait SERVER"
keys Escape r
ok "r opens the recovery wizard" wait_screen "Which server's backups"
keys Escape
ok "Esc on the wizard's first step returns to the main screen" wait_screen "Backups of main"

console_resize 200x60
ok "a resize to 200x60 redraws the wide layout: details beside the backups" \
    wait_screen "┐┌─ Details of $first"
ok "the frames are whole at 200x60" frames_whole 3
is "$(screen | wc -L)" 200 "the frames reach column 200"
is "$(screen | wc -l)" 60 "the screen has 60 lines"

keys q
ok "q quits the console" wait_screen "console-exited=0"

# a theme file with an error: reported, the default used
mkdir -p "$T/bin/themes"
cp "$CELLAR" "$T/bin/cellar"
printf 'ok = green,nocolour\n' >"$T/bin/themes/broken.theme"
console_start 100x30 "$(printf %q "$T/bin/cellar") --theme broken -c $(printf %q "$conf")"
ok "a broken theme is reported and the default used" wait_screen "unknown colour 'nocolour'"
keys q
