#!/bin/bash
# tests/integration/t_output.sh - what the batch front end writes, as a cron
# log receives it (TAP).
#
#   1. a configuration error is printed once, not once as a diagnostic and
#      again as the final error; with two errors each is printed once and
#      the hint counts them;
#   2. a backup whose rsync fails (barman_home on a full 4 MiB tmpfs), with
#      stdout and stderr redirected to the SAME file: the lines come in the
#      order they happened (the phases before the ERROR they led to), and
#      rsync's error is in the file once, not three times; the same in
#      --batch mode;
#   3. `backup all` with two servers on that cluster, both failing: each
#      server's failure is printed once (backup all used to print the
#      second one's again after it).
# Needs root (the cluster runs as postgres, the tmpfs is mounted).
# Run: tests/run.sh tests/integration/t_output.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
harness_init || exit 1
tap_plan 21

# count TEXT FILE - the number of lines of FILE containing TEXT (no regex)
count() { grep -cF -- "$1" "$2"; }
# line_of TEXT FILE - the number of the first line of FILE containing TEXT
line_of() { grep -nF -m1 -- "$1" "$2" | cut -d: -f1; }

# ---- 1. configuration errors ------------------------------------------------------------
printf '[barman]\nbarman_home = %s/home\ncompression = nonsense\n' "$T" >"$T/bad.conf"
"$CELLAR" -c "$T/bad.conf" list-server >"$T/out1" 2>&1
is "$?" 2 "a configuration error exits 2"
diag "$(cat "$T/out1")"
is "$(count "compression: invalid value 'nonsense'" "$T/out1")" 1 \
    "the configuration error is printed once"
is "$(wc -l <"$T/out1")" 1 "and nothing else is printed"

printf '[barman\nbarman_home = %s/home\n' "$T" >"$T/bad2.conf"
"$CELLAR" -c "$T/bad2.conf" list-server >"$T/out2" 2>&1
diag "$(cat "$T/out2")"
is "$(count "invalid section header" "$T/out2")" 1 "with two errors, the first is printed once"
is "$(count "barman_home is not set" "$T/out2")" 1 "and so is the second"
is "$(tail -1 "$T/out2")" "HINT: 2 errors in the configuration; fix them and run again" \
    "the hint counts them, last"

# ---- 2. a backup whose rsync fails ----------------------------------------------------------
pg_start main || tap_bail "cannot start PostgreSQL"
home=$T/home
mkdir -p "$home" || tap_bail "cannot create $home"
mount -t tmpfs -o size=4m cellar-test "$home" || tap_bail "cannot mount a tmpfs on $home"
harness_at_exit umount "$home"
conf=$T/cellar.conf
backup_conf "$conf" cellar "$home" "$(_pg_get main PORT)" "output test" \
    'backup_method = local-rsync' 'archiver = off' 'immediate_checkpoint = true'

# the run's checks; $1 names the mode in the test names, $2 is the log
check_log() {
    local mode=$1 f=$2 phase err
    diag "$mode:"
    diag "$(cut -c1-300 "$f")"
    phase=$(line_of "copying PGDATA" "$f")
    err=$(line_of "ERROR:" "$f")
    ok "$mode: the phase lines are in the file" test -n "$phase"
    ok "$mode: the ERROR comes after the phase that led to it" \
        test -n "$err" -a "${phase:-0}" -lt "${err:-0}"
    is "$(count "No space left on device" "$f")" 1 "$mode: rsync's error is printed once"
    is "$(count "ERROR:" "$f")" 1 "$mode: one ERROR line"
}

"$CELLAR" -c "$conf" backup main >"$T/log1" 2>&1
is "$?" 1 "the backup into a full filesystem fails (exit 1)"
check_log "to a file" "$T/log1"
rm -rf "${home:?}/main/base/"* # the failed copy filled the filesystem
"$CELLAR" -c "$conf" --batch backup main >"$T/log2" 2>&1
check_log "--batch" "$T/log2"

# ---- 3. backup all, two servers failing -------------------------------------------------------
rm -rf "${home:?}/main/base/"*
# twin's directory is on a full filesystem of its own, so that it fails as
# main does (in the copy), and not earlier for lack of room main left
mkdir -p "$T/twin" && mount -t tmpfs -o size=4m cellar-test "$T/twin" ||
    tap_bail "cannot mount a tmpfs on $T/twin"
harness_at_exit umount "$T/twin"
printf '\n[twin]\ndescription = "the same cluster"\nconninfo = host=127.0.0.1 port=%s user=postgres dbname=postgres\nbackup_method = local-rsync\narchiver = off\nbackup_directory = %s\n' \
    "$(_pg_get main PORT)" "$T/twin" >>"$conf"
"$CELLAR" -c "$conf" backup all >"$T/log3" 2>&1
is "$?" 1 "backup all exits 1"
diag "$(cut -c1-300 "$T/log3")"
is "$(grep -c '^ERROR: main: backup .* FAILED' "$T/log3")" 1 "main's failure is printed once"
is "$(grep -c '^ERROR: twin: backup .* FAILED' "$T/log3")" 1 "twin's failure is printed once"
is "$(grep -c '^ERROR: 2 of 2 servers failed: main, twin$' "$T/log3")" 1 \
    "and the last line names the servers that failed"
is "$(count "ERROR:" "$T/log3")" 3 "three ERROR lines in all"

# ---- 4. the first server of all failing: its name is on the line (it was the bare final error)
printf '\n[adown]\ndescription = "nobody listens"\nconninfo = host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=5\nbackup_method = local-rsync\narchiver = off\n' >>"$conf"
"$CELLAR" -c "$conf" backup all >"$T/log4" 2>&1
diag "$(cut -c1-300 "$T/log4")"
like "$(cat "$T/log4")" "ERROR: adown: " "the error of the first server in all names it"
