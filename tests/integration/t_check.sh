#!/bin/bash
# tests/integration/t_check.sh - `cellar check` against a real cluster (TAP).
#
# A healthy PostgreSQL 15 server (archive_command = cellar put-wal, one
# backup taken with --wait, the archive up to date) passes every check and
# exits 0, in Barman's layout and with --nagios. Then each check is made to
# fail on purpose and must say why and how to fix it, and exit 3 (2 and a
# CRITICAL line with --nagios): minimum_redundancy 2 with one backup, an old
# last backup, an unreachable ssh_command (and a reachable one passing), a
# file rejected into errors/, a missing directory (created by check, as the
# tutorial says) and one that cannot be created, a role without the backup
# privileges (and the fix's GRANT making it pass), archive_mode off.
# Run: tests/run.sh tests/integration/t_check.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
harness_init || exit 1
tap_plan 66

home=$T/home
conf=$T/cellar.conf
mkdir -p "$home/main/incoming"
chown -R postgres: "$home"
port=1
write_conf() { # write_conf [EXTRA LINE...]
    backup_conf "$conf" cellar "$home" "$port" "checked" \
        'backup_method = local-rsync' 'minimum_redundancy = 1' 'immediate_checkpoint = true' "$@"
}
# run ARGS... - cellar check with the configuration; sets OUT, ERR and RC.
run() {
    OUT=$("$CELLAR" -c "$conf" check "$@" 2>"$T/stderr")
    RC=$?
    ERR=$(cat "$T/stderr")
}

write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
port=$PG_MAIN_PORT
write_conf
"$CELLAR" -c "$conf" backup --wait --wait-timeout 60 main >"$T/backup.log" 2>&1 || tap_bail "backup failed"
"$CELLAR" -c "$conf" archive-wal main >/dev/null 2>&1
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)

# ---- healthy --------------------------------------------------------------------
run main
is "$RC" 0 "a healthy server passes: exit 0"
is "$(printf '%s\n' "$OUT" | head -1)" "Server main:" "Barman's first line: Server NAME:"
names=$(printf '%s\n' "$OUT" | sed -n 's/^\t\([^:]*\): OK.*/\1/p' | tr '\n' '|')
is "$names" "PostgreSQL|superuser or standard user with backup privileges|wal_level|directories|free disk space|retention policy settings|backup maximum age|backup minimum size|wal maximum age|wal size|compression settings|failed backups|minimum redundancy requirements|local PGDATA|rsync|systemid coherence|archive_mode|archive_command|continuous archiving|archiver errors|" \
    "every check is OK, with Barman's names in Barman's order"
unlike "$OUT" "FAILED" "nothing failed"
like "$OUT" $'\tminimum redundancy requirements: OK \\(have 1 backups, expected at least 1\\)\n' \
    "a check's reason is in parentheses, as Barman prints it"
like "$OUT" $'\tbackup maximum age: OK \\(no last_backup_maximum_age provided\\)' "backup maximum age without a limit"
is "$ERR" "" "nothing on stderr"
run --nagios main
is "$RC" 0 "--nagios on a healthy server exits 0"
like "$OUT" '^BARMAN OK - Ready to serve the Espresso backup for main\|main=[1-9][0-9]*B main_wals=[0-9]+B$' \
    "--nagios prints Barman's OK line with the performance data"
OUT=$("$CELLAR" -c "$conf" -f json check main 2>/dev/null)
json_check() {
    python3 -c 'import json, sys
lines = [json.loads(l) for l in sys.argv[1].splitlines()]
res = [l for l in lines if l["event"] == "result"][0]
assert res["command"] == "check", res
c = res["data"]["main"]
assert c["postgresql"] == {"status": "OK", "hint": ""}, c["postgresql"]
assert c["superuser_or_standard_user_with_backup_privileges"]["status"] == "OK"
assert c["minimum_redundancy_requirements"]["hint"] == "have 1 backups, expected at least 1"
assert lines[-1]["exit"] == 0, lines[-1]
' "$1"
}
ok "JSON: Barman's mangled check names with status and hint" json_check "$OUT"

# ---- minimum_redundancy 2 with one backup -----------------------------------------
write_conf 'minimum_redundancy = 2'
run main
is "$RC" 3 "minimum_redundancy 2 with one backup: exit 3"
like "$OUT" $'\tminimum redundancy requirements: FAILED \\(have 1 backups, expected at least 2\\)\n\t\tfix: take 1 more backup: cellar backup main\n' \
    "the failure gives the reason and the command that fixes it"
is "$ERR" "ERROR: 1 check failed on server main
HINT: The line under each FAILED check says how to fix it." "stderr sums it up"
run --nagios main
is "$RC" 2 "--nagios: exit 2 (CRITICAL)"
like "$OUT" '^BARMAN CRITICAL - server main has issues \* main FAILED: minimum redundancy requirements\|main=[0-9]+B main_wals=[0-9]+B
main\.minimum redundancy requirements: FAILED \(have 1 backups, expected at least 2\)$' \
    "--nagios: Barman's CRITICAL line and a detail line per failure"
is "$ERR" "" "--nagios prints nothing on stderr"
OUT=$("$CELLAR" -c "$conf" -f json check --nagios main 2>/dev/null)
like "$(printf '%s\n' "$OUT" | tail -1)" '"exit":2,"error":\{"code":"CHECK_CRITICAL"' "JSON --nagios ends with exit 2 and CHECK_CRITICAL"

# ---- an old last backup -------------------------------------------------------------
write_conf 'last_backup_maximum_age = 1 hours'
run main
like "$OUT" $'\tbackup maximum age: OK \\(interval provided: 1 hour, latest backup age: ' "a fresh backup is young enough"
info="$(backup_dir "$conf" main "$id")/backup.info"
cp "$info" "$T/backup.info.saved"
old=$(date -d '-3 hours -5 minutes' '+%Y-%m-%d %H:%M:%S%:z')
sed -i "s/^end_time=.*/end_time=$old/" "$info"
run main
is "$RC" 3 "a last backup older than last_backup_maximum_age: exit 3"
like "$OUT" $'\tbackup maximum age: FAILED \\(interval provided: 1 hour, latest backup age: 3 hours, 5 minutes(, [0-9]+ seconds?)?\\)\n\t\tfix: take a backup now \\(cellar backup main\\) and schedule backups more often than every 1 hour' \
    "the smelly backup: its age, the limit and the fix"
cp "$T/backup.info.saved" "$info"

# ---- ssh -------------------------------------------------------------------------------
write_conf 'ssh_command = ssh -p 1 -o BatchMode=yes -o ConnectTimeout=5 postgres@127.0.0.1'
run main
is "$RC" 3 "an unreachable ssh_command: exit 3"
like "$OUT" $'\tssh: FAILED \\(\'true\' on ssh -p 1 [^)]*exited with status 255: ssh: connect to host 127.0.0.1 port 1: Connection refused\\)\n\t\tfix: run \'ssh -p 1 -o BatchMode=yes -o ConnectTimeout=5 postgres@127.0.0.1 true\' by hand as root' \
    "ssh: ssh's own error and the command to try by hand"
like "$OUT" $'\trsync: OK\n' "rsync here is still checked"
unlike "$OUT" "remote rsync" "no remote rsync check without ssh"
if sshd_start; then
    write_conf "ssh_command = $SSH_COMMAND" 'backup_method = rsync'
    run main
    is "$RC" 0 "a reachable ssh_command passes"
    like "$OUT" $'\tssh: OK \\(PostgreSQL server\\)\n\tremote rsync: OK\n\trsync: OK\n' "ssh, remote rsync and rsync are OK"
else
    skip "a reachable ssh_command passes" "no sshd"
    skip "ssh, remote rsync and rsync are OK" "no sshd"
fi

# ---- compression filters that do not round-trip; a check that runs out of time -------------------
write_conf 'compression = custom' 'custom_compression_filter = gzip -c' 'custom_decompression_filter = cat'
run main
is "$RC" 3 "custom compression filters that do not give the data back: exit 3"
like "$OUT" $'\tcompression settings: FAILED \\(custom_decompression_filter does not give back what custom_compression_filter was given\\)\n\t\tfix: ' \
    "compression settings: the filters are tried on a sample"
write_conf 'conninfo = host=127.0.0.1 port=1 usr=postgres'
run main
like "$OUT" $'\tPostgreSQL: FAILED \\(no usable conninfo: the \\[main\\] section has configuration errors\\)' \
    "an invalid conninfo is not reported as a missing one"
like "$OUT" "cellar.conf:[0-9]+: \[main\] conninfo: invalid connection string .*invalid connection option \"usr\"" "the configuration item names the line and the bad option"
write_conf 'check_timeout = 1' 'ssh_command = sleep 10 #'
run main
is "$RC" 3 "an ssh_command that hangs: exit 3"
unlike "$OUT" $'\tssh: OK' "the hanging ssh check does not pass"
like "$OUT" $'\tssh: FAILED \\(\'true\' on sleep 10 # timed out after [0-9.]+ s\\)\n.*\tcheck timeout: FAILED \\(cellar check timed out after 1 s\\)\n\t\tfix: find what is slow \\(PostgreSQL, ssh, a compression filter\\), or raise check_timeout or --check-timeout \\(now 1 s\\)$' \
    "the ssh check is cut at check_timeout and Barman's check timeout fails"
write_conf 'check_timeout = 300' 'ssh_command = sleep 10 #'
OUT=$("$CELLAR" -c "$conf" check --check-timeout 1 main 2>&1)
like "$OUT" $'\tcheck timeout: FAILED \\(cellar check timed out after 1 s\\)' \
    "check --check-timeout 1 overrides check_timeout = 300 (Barman 3.15)"
"$CELLAR" -c "$conf" check --check-timeout 0 main >/dev/null 2>&1
is "$?" 2 "--check-timeout 0 is a usage error"

# ---- a file rejected into errors/ ------------------------------------------------------------
write_conf
echo junk >"$home/main/incoming/not-a-wal-file"
"$CELLAR" -c "$conf" archive-wal main >/dev/null 2>&1
ok "archive-wal rejected it into errors/" compgen -G "$home/main/errors/not-a-wal-file.*.unknown"
run main
is "$RC" 3 "a WAL file in errors/ since the last backup: exit 3"
like "$OUT" $'\tarchiver errors: FAILED \\(unknown: 1\\)\n\t\tfix: look at the files in \''"$home/main/errors"$'\'' \
    "archiver errors: Barman's summary and where to look"

# ---- directories -------------------------------------------------------------------------------
rm -rf "$home/main/errors"
run main
is "$RC" 0 "a missing directory is created by check: exit 0"
like "$OUT" $'\tdirectories: OK \\(created \''"$home/main/errors"$'\'\\)\n' "check says it created it"
ok "the directory exists now" test -d "$home/main/errors"
like "$OUT" $'\tarchiver errors: OK$' "and the archiver errors went with it"
run main
like "$OUT" $'\tdirectories: OK\n' "the next run finds it: plain OK"
touch "$T/afile"
write_conf "errors_directory = $T/afile/errors"
run main
is "$RC" 3 "a directory that cannot be created: exit 3"
like "$OUT" $'\tdirectories: FAILED \\(cannot create directory \''"$T/afile"$'\': a file of that name exists\\)\n\t\tfix: create \''"$T/afile/errors"$'\' as a directory root can write, or set errors_directory' \
    "directories: the system's reason and the option to change"

# ---- privileges -----------------------------------------------------------------------------------
pg_sql main "CREATE ROLE limited LOGIN" >/dev/null || tap_bail "cannot create the role"
write_conf
sed -i "s/user=postgres/user=limited/" "$conf"
run main
is "$RC" 3 "a role without backup privileges: exit 3"
like "$OUT" $'\tno access to backup functions: FAILED \\(privileges for PostgreSQL backup functions are required \\(see documentation\\)\\)\n\t\tfix: as a superuser, run: GRANT EXECUTE ON FUNCTION pg_backup_start\\(text, boolean\\), pg_backup_stop\\(boolean\\), pg_switch_wal\\(\\), pg_create_restore_point\\(text\\) TO limited; GRANT pg_monitor TO limited;\n' \
    "Barman's failure name and reason, and the GRANTs to run"
grants=$(printf '%s\n' "$OUT" | sed -n 's/^\t\tfix: as a superuser, run: //p')
ok "the GRANTs of the fix run" pg_sql main "$grants"
run main
like "$OUT" $'\tsuperuser or standard user with backup privileges: OK\n' "after them the role passes the privileges check"

# ---- several servers, an inactive one ----------------------------------------------------------------
write_conf 'minimum_redundancy = 2'
printf '\n[spare]\ndescription = "inactive"\nactive = false\nconninfo = host=127.0.0.1 port=1 user=postgres connect_timeout=2\nbackup_method = local-rsync\narchiver = on\n' >>"$conf"
run main
is "$RC" 3 "main still fails with minimum_redundancy 2"
run spare
is "$RC" 0 "an inactive server's failures do not count: exit 0"
like "$OUT" $'^Server spare \\(inactive\\):\n\tWAL archive: FAILED' "it is shown as inactive, with its failures"
run --nagios all
is "$RC" 2 "--nagios all with one active server failing: exit 2"
like "$(printf '%s\n' "$OUT" | head -1)" '^BARMAN CRITICAL - 2 server out of 2 have issues \* main FAILED: minimum redundancy requirements \* spare FAILED: WAL archive, PostgreSQL\|main=' \
    "--nagios all: Barman's summary of servers with issues"
run --nagios main spare
like "$(printf '%s\n' "$OUT" | head -1)" '^BARMAN CRITICAL - 2 server out of 2 have issues \* main FAILED' "--nagios with several names makes one report"
run --nagios nosuch
is "$RC:$OUT" "2:BARMAN CRITICAL - unknown server 'nosuch'" "--nagios of an unknown server: a CRITICAL line naming it"
write_conf
printf '\n[spare]\nactive = false\nconninfo = host=127.0.0.1 port=1 user=postgres connect_timeout=2\nbackup_method = local-rsync\n' >>"$conf"
run --nagios all
is "$RC" 0 "--nagios all: only the inactive server fails: exit 0"
like "$OUT" '^BARMAN OK - Ready to serve the Espresso backup for main \* IGNORING: spare\|main=' "the inactive server is IGNORING"

# ---- diagnose carries the checks and the retention marks ------------------------------------------------
write_conf 'retention_policy = REDUNDANCY 1'
OUT=$("$CELLAR" -c "$conf" diagnose 2>/dev/null)
diag_check() {
    python3 -c 'import json, sys
d = json.loads(sys.argv[1])["servers"]["main"]
assert d["check"]["minimum_redundancy_requirements"]["status"] == "OK", d["check"]
assert d["check"]["postgresql"]["status"] == "OK", d["check"]
assert d["check_failures"] == 0, d["check_failures"]
assert d["retention"] == {"policy": "REDUNDANCY 1", "VALID": 1}, d["retention"]
' "$1"
}
ok "diagnose has each server's checks and retention marks" diag_check "$OUT"

# ---- archive_mode off (a restart) ---------------------------------------------------------------------
pg_sql main "ALTER SYSTEM SET archive_mode = off" >/dev/null
pg_stop main
pg_start_datadir main2 "$PG_MAIN_DATA" || tap_bail "cannot restart PostgreSQL"
port=$PG_MAIN2_PORT
write_conf
run main
is "$RC" 3 "archive_mode off: exit 3"
like "$OUT" $'\tarchive_mode: FAILED \\(please set it to \'on\' or \'always\'\\)\n\t\tfix: set archive_mode = on in postgresql.conf and restart PostgreSQL\n' \
    "archive_mode: Barman's reason and the setting to change"
like "$OUT" $'\tarchive_command: FAILED \\(please set it accordingly to documentation\\)\n\t\tfix: archive_mode is off: set archive_mode = on' \
    "archive_command reads (disabled) while archive_mode is off: the fix says so"
run --nagios main
like "$(printf '%s\n' "$OUT" | head -1)" '^BARMAN CRITICAL - server main has issues \* main FAILED: archive_mode, archive_command\|' \
    "--nagios names both failed checks"

# ---- PostgreSQL down ------------------------------------------------------------------------------------
pg_stop main2
run main
is "$RC" 3 "PostgreSQL down: exit 3"
like "$OUT" $'\tPostgreSQL: FAILED \\(cannot connect to PostgreSQL: connection to server at "127.0.0.1", port [0-9]+ failed: Connection refused\\)\n\t\tfix: check conninfo in \\[main\\], that PostgreSQL is running' \
    "PostgreSQL: libpq's reason and what to look at"
unlike "$OUT" "archive_mode" "the checks that need PostgreSQL are left out"
