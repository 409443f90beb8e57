#!/bin/bash
# tests/integration/t_cli.sh - the cellar command line end to end (TAP).
#
# Against a real PostgreSQL 15 cluster: help and version, exit statuses,
# configuration errors as the DBA sees them (file, line, option, value,
# accepted values), a disabled server beside a working one, show-server with
# PostgreSQL up and down, diagnose, passwords never shown, JSON events, -q,
# and a damaged backup.info in an otherwise good catalogue.
# Run: tests/run.sh tests/integration/t_cli.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 63

# run ARGS... - run cellar; sets OUT, ERR and RC.
run() {
    OUT=$("$CELLAR" "$@" 2>"$T/stderr")
    RC=$?
    ERR=$(cat "$T/stderr")
}

# --- no configuration needed ------------------------------------------------
run --version
is "$OUT" "cellar 0.1.0" "--version prints the version"
is "$RC" 0 "--version exits 0"
run --help
like "$OUT" "list-backup +list the backups" "--help lists list-backup"
like "$OUT" "show-server +show the effective configuration" "--help lists show-server"
like "$OUT" "Exit status: 0 done, 1 the operation failed, 2 usage" "--help gives the exit statuses"
run list-backup --help
like "$OUT" "Usage: cellar \[OPTIONS\] list-backup \[COMMAND OPTIONS\] SERVER\|all" "command help has a usage line"
like "$OUT" "--minimal +print only the names" "command help lists its options"
run help show-backup
like "$OUT" "BACKUP_ID may be latest, oldest" "cellar help COMMAND works"
run frobnicate
is "$RC" 2 "an unknown command exits 2"
is "$ERR" "ERROR: unknown command 'frobnicate'
HINT: Run 'cellar --help' for the commands." "an unknown command is named, with a hint"
run -c /nonexistent/cellar.conf list-server
is "$RC" 2 "a missing configuration file exits 2"
is "$ERR" "ERROR: cannot read the configuration: cannot open '/nonexistent/cellar.conf': No such file or directory" \
    "a missing configuration file is named"
run
is "$RC" 2 "no command and no terminal exits 2"
like "$ERR" "the console needs a terminal; give a command" "no command without a terminal says the console needs one"

# --- a real cluster and a configuration with a bad server --------------------
pg_start main || tap_bail "cannot start PostgreSQL"
conf=$T/cellar.conf
cat >"$conf" <<EOF
[barman]
barman_home = $T/home
barman_user = root
log_file = $T/cellar.log

[main]
description = "Main DB"
conninfo = $PG_MAIN_CONNINFO password=Sup3rSecret
archiver = on

[broken]
description = bad values
conninfo = host=127.0.0.1
retention_policy = REDUNDANCY two
compression = rar
EOF

run -c "$conf" list-server
is "$RC" 0 "list-server exits 0 with a disabled server"
is "$OUT" "broken - bad values (WARNING: disabled)
main - Main DB" "list-server marks the disabled server as Barman does"
like "$ERR" "ERROR: $conf:14: \[broken\] retention_policy: invalid retention policy 'REDUNDANCY two': expected 'REDUNDANCY n' or 'RECOVERY WINDOW OF n DAYS\|WEEKS\|MONTHS', n >= 1" \
    "a bad retention policy names file, line, section, option, value and accepted forms"
like "$ERR" "ERROR: $conf:15: \[broken\] compression: invalid value 'rar': expected gzip, bzip2, zstd, lz4, custom or none" \
    "an unknown compression names file, line and accepted values"
# a short option's value in the next argument is taken whole, whatever it
# holds ("-c" used to peek 8 bytes into "-c" itself and split at a '=')
mkdir -p "$T/abc=" && cp "$conf" "$T/abc=/cellar.conf"
OUT=$(cd "$T" && "$CELLAR" -c ./abc=/cellar.conf list-server --minimal 2>"$T/stderr")
RC=$?
is "$RC" 0 "-c FILE takes a path holding '=' whole"
is "$OUT" "broken
main" "and reads that file"
run -c "$conf" list-backup broken
is "$RC" 2 "a command on the disabled server exits 2"
like "$ERR" "ERROR: server 'broken' is disabled by configuration errors" "and says why"
run -c "$conf" list-backup all
is "$RC" 2 "list-backup all exits 2 when a server was skipped"
like "$ERR" "ERROR: broken: skipped: the server is disabled by configuration errors" "all reports the skipped server"
run -c "$conf" list-backup nosuch
is "$RC" 1 "an unknown server exits 1"
like "$(echo "$ERR" | head -n1)" "^ERROR: $conf:14: " "configuration errors are reported before the command's own error"
like "$ERR" "ERROR: unknown server 'nosuch'
HINT: Configured servers: broken, main \(or 'all'\)." "an unknown server lists the configured ones"

# --- show-server against PostgreSQL ------------------------------------------
run -c "$conf" show-server main
is "$RC" 0 "show-server exits 0"
like "$OUT" "^Server main:" "show-server starts with the server line"
like "$OUT" $'\twal_level: replica' "show-server reports PostgreSQL's wal_level"
like "$OUT" $'\tarchive_mode: on' "show-server reports archive_mode"
like "$OUT" $'\tserver_txt_version: 15\\.' "show-server reports the server version"
like "$OUT" $'\tserver_txt_version: 15\\.[0-9]+\n' "as Barman: the number alone, without the packager's suffix"
like "$OUT" $'\tis_superuser: True\n' "show-server writes PostgreSQL's booleans as Barman does"
like "$OUT" $'\tis_in_recovery: False\n\tis_superuser' "is_in_recovery too"
size=$(pg_sql main "SELECT sum(pg_tablespace_size(oid)) FROM pg_tablespace")
like "$OUT" $'\tcurrent_size: '"$size"$'\n' "show-server's current_size is Barman's: every tablespace, pg_global included"
like "$OUT" $'\tbasebackups_directory: '"$T/home/main/base" "show-server shows the derived base directory"
like "$OUT" $'\tincoming_wals_directory: '"$T/home/main/incoming" "show-server shows the derived incoming directory"
like "$OUT" "password=\*\*\*\*\*\*\*\*" "show-server masks the password"
unlike "$OUT$ERR" "Sup3rSecret" "show-server never prints the password"
# a role that may not measure every database (CONNECT revoked on one, no
# pg_read_all_stats) still gets the rest of the status
pg_sql main "CREATE ROLE limited LOGIN" && pg_sql main "CREATE DATABASE closed" &&
    pg_sql main "REVOKE CONNECT ON DATABASE closed FROM PUBLIC" || tap_bail "cannot create the role"
sed "s/^conninfo = .*Sup3rSecret\$/conninfo = $PG_MAIN_CONNINFO user=limited/" "$conf" >"$T/limited.conf"
run -c "$T/limited.conf" show-server main
like "$OUT" $'\tserver_txt_version: 15\\.' "show-server reports the version to a role that cannot size every database"
like "$OUT" $'\tis_superuser: False\n' "and that the role is not a superuser, as Barman writes it"
run -c "$conf" show-server broken
like "$OUT" $'\tconfiguration_errors: .*retention_policy' "show-server of a disabled server lists its errors"
# several servers: one unknown does not stop the others, and the error
# reported is the first failure's, matching the exit status
run -c "$conf" show-server nosuch1 main nosuch2
is "$RC" 1 "show-server of an unknown server among good ones exits 1"
like "$OUT" "^Server main:" "show-server still shows the good server after an unknown one"
like "$ERR" "nosuch1" "the error names the first unknown server"

# --- diagnose -------------------------------------------------------------------
run -c "$conf" diagnose
is "$RC" 0 "diagnose exits 0"
diag_check() {
    python3 -c 'import json, sys
d = json.loads(sys.argv[1])
si = d["global"]["system_info"]
assert si["cellar_version"] == "0.1.0", si
assert si["rsync_version"].startswith("rsync"), si
assert si["ssh_version"].startswith("OpenSSH"), si
assert si["libpq_version"].startswith("15."), si
assert si["os"], si
main = d["servers"]["main"]
assert main["status"]["wal_level"] == "replica", main["status"]
assert main["config"]["archiver"] is True
assert main["config"]["parallel_jobs"] == 1
assert "********" in main["config"]["conninfo"]
assert d["servers"]["broken"]["disabled"] is True
assert any("retention_policy" in x["message"] for x in d["servers"]["broken"]["diagnostics"])
assert d["global"]["config"]["barman_home"].endswith("/home")
' "$1"
}
ok "diagnose prints one JSON document with versions, status and configuration" diag_check "$OUT"
unlike "$OUT" "Sup3rSecret" "diagnose never prints the password"

# --- PostgreSQL down ----------------------------------------------------------------
pg_stop main
run -c "$conf" show-server main
is "$RC" 0 "show-server still works with PostgreSQL down"
like "$OUT" $'\tconnection_error: cannot connect to PostgreSQL: connection to server at "127.0.0.1", port [0-9]+ failed: Connection refused' \
    "and says why PostgreSQL cannot be reached"

# --- JSON and quiet -------------------------------------------------------------------
run -c "$conf" -f json show-backup main latest
is "$RC" 1 "show-backup of a server without backups exits 1"
end_line=$(echo "$OUT" | tail -n1)
is "$end_line" '{"event":"end","status":"failed","exit":1,"error":{"code":"NOT_FOUND","number":30,"message":"server '"'main'"' has no complete backup (latest)","hint":"'"'cellar list-backup main'"' lists the backups and their IDs."}}' \
    "the JSON end event carries the error code, message and hint"
like "$(echo "$OUT" | head -n1)" '^\{"event":"log","level":"ERROR","server":null,"text":".*cellar.conf:14: \[broken\] retention_policy' \
    "configuration errors become JSON log events"
run -q -c "$conf" list-server
is "$OUT" "" "-q prints no result"
like "$ERR" "ERROR: .*retention_policy" "-q still prints errors"

# --- a damaged backup.info among good ones ------------------------------------
base=$T/home/main/base
mkdir -p "$base/20260101T000000" "$base/20260102T000000"
printf 'status=FAILED\nerror=failure copying files\nserver_name=main\n' >"$base/20260101T000000/backup.info"
printf 'status=DONE\nend_time=2026-01-02 00:0' >"$base/20260102T000000/backup.info"
run -c "$conf" list-backup main
is "$RC" 0 "list-backup goes on past a damaged backup.info"
is "$OUT" "main 20260102T000000 - UNREADABLE
main 20260101T000000 - FAILED" "the damaged backup is listed as UNREADABLE"
like "$ERR" "WARNING: main: backup 20260102T000000 cannot be read: $base/20260102T000000/backup.info:2: end_time: " \
    "the warning names the file, line and key"
run -c "$conf" show-backup main 20260102T000000
is "$RC" 1 "show-backup of the damaged backup exits 1"
like "$ERR" "ERROR: $base/20260102T000000/backup.info:2: end_time: " "and names the file, line and key"
run -c "$conf" show-backup main last-failed
is "$OUT" "Backup 20260101T000000:
  Server Name            : main
  Status                 : FAILED
  Error                  : failure copying files" "show-backup last-failed shows the failed backup and its error"
like "$(cat "$T/cellar.log")" "cellar ERROR: show-backup: " "errors are written to log_file"
