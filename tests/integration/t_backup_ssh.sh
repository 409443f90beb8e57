#!/bin/bash
# tests/integration/t_backup_ssh.sh - a base backup over ssh (TAP).
#
# The same proof as t_backup.sh, with the copy made from the "database
# host" through a real sshd on 127.0.0.1: backup_method = rsync and
# ssh_command = ssh postgres@127.0.0.1. pgbench writes during the copy;
# the backup reaches DONE, passes pg_verifybackup and restores by hand into
# a cluster holding the row counts of the end of the backup. Then a backup
# killed with SIGKILL while its rsync workers copy (slowed by a wrapper on
# path_prefix, their output in a file, as a worker busy with one big file
# prints nothing for a long time): the local rsync, its ssh and the rsync
# that ssh started on the database host all end, and cron marks the backup
# FAILED.
# Run: tests/run.sh tests/integration/t_backup_ssh.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
harness_init || exit 1
tap_plan 15

sshd_start || tap_bail "cannot start sshd"
home=$T/home
conf=$T/cellar.conf
tbs=$T/tbs1
mkdir -p "$home/main/incoming" "$tbs"
chown -R postgres: "$home" "$tbs"
write_conf() { # write_conf [EXTRA LINE...]
    backup_conf "$conf" cellar "$home" "${PG_MAIN_PORT:-1}" "backups over ssh" \
        'backup_method = rsync' "ssh_command = $SSH_COMMAND" 'parallel_jobs = 2' \
        'network_compression = true' 'bandwidth_limit = 8000' 'immediate_checkpoint = true' "$@"
}
write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
pg_sql main "CREATE TABLESPACE tbs1 LOCATION '$tbs'" >/dev/null || tap_bail "no tablespace"
"$PG_BINDIR/pgbench" -q -i -s 2 --tablespace=tbs1 -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres postgres \
    >"$T/pgbench-init.log" 2>&1 || tap_bail "pgbench -i failed"
counts() {
    pg_sql "$1" "SELECT (SELECT count(*) FROM pgbench_history), (SELECT sum(abalance) FROM pgbench_accounts)"
}

before=$(counts main)
"$PG_BINDIR/pgbench" -n -T 2 -c 2 -h 127.0.0.1 -p "$PG_MAIN_PORT" -U postgres postgres >"$T/pgbench.log" 2>&1 &
bench=$!
sleep 0.3
ok "backup over ssh with pgbench writing" "$CELLAR" -c "$conf" backup --wait --wait-timeout 60 main
wait "$bench"
after=$(counts main)
ok "pgbench wrote while the backup ran ($before -> $after)" test "$after" != "$before"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
is "$(backup_info "$conf" main "$id" status)" DONE "the backup is DONE"
dir=$(backup_dir "$conf" main "$id")
oid=$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")
ok "the tablespace came over ssh" test -d "$(echo "$dir/$oid"/PG_15_*)"
ok "postmaster.pid was not copied" test ! -e "$dir/data/postmaster.pid"
ok "cellar verify-backup passes" "$CELLAR" -c "$conf" verify-backup main "$id"
like "$(grep -c 'ssh' "$T/cellar.log")" '^[1-9]' "the log says the copy went over ssh"
ok "restore by hand: files plus WAL" plain_restore "$conf" main "$id" "$T/restore"
ok "the restored cluster starts" pg_start_datadir rec "$T/restore/data"
is "$(counts rec)" "$after" "it holds the rows and balances of the end of the backup"
pg_stop rec
is "$(backup_info "$conf" main "$id" pgdata)" "$PG_MAIN_DATA" "pgdata is the server's path"

# ---- a backup killed with SIGKILL while rsync copies over ssh ---------------------------------
mkdir -p "$T/bin"
cat >"$T/bin/rsync" <<EOF
#!/bin/sh
case " \$* " in *" -lpt "*) # a worker copying files: slowly (its own limit), and quietly
    echo \$\$ >>"$T/rsync.started"
    for a; do shift; case "\$a" in --bwlimit=*) ;; *) set -- "\$@" "\$a" ;; esac; done
    exec /usr/bin/rsync --bwlimit=1 "\$@" >>"$T/rsync.out" 2>&1 ;;
esac
exec /usr/bin/rsync "\$@"
EOF
chmod 0755 "$T/bin/rsync"
write_conf "path_prefix = $T/bin:$PG_BINDIR"
# descendants PID - the PIDs of every process below PID
descendants() { local p; for p in $(pgrep -P "$1"); do echo "$p"; descendants "$p"; done; }
# remote_rsyncs - the rsyncs that our sshd started (their arguments travel
# inside the protocol, -s: their command lines name no path)
remote_rsyncs() {
    local p
    for p in $(descendants "$SSHD_PID"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = rsync ] && echo "$p"
    done
    return 0
}
# copy_procs - the local rsyncs (naming the data directory), the ssh they
# run (with our sshd's key) and the remote rsyncs
copy_procs() {
    [ -n "$PG_MAIN_DATA" ] && [ -n "$SSHD_PID" ] || return 0
    pgrep -f -- "rsync .*$PG_MAIN_DATA"
    pgrep -f -- "$SSHD_KEY.* rsync --server"
    remote_rsyncs
}
none_left() { [ -z "$(copy_procs)" ]; }
kill_leftovers() { local p; for p in $(copy_procs); do kill -KILL "$p" 2>/dev/null; done; }
harness_at_exit kill_leftovers
rsync_started() { [ -s "$T/rsync.started" ]; }
remote_rsync() { [ -n "$(remote_rsyncs)" ]; }
sleep 1 # a new second: a new backup ID
"$CELLAR" -c "$conf" backup main </dev/null >"$T/killed.log" 2>&1 &
victim=$!
wait_for 60 rsync_started || diag "rsync did not start: $(cat "$T/killed.log")"
ok "(a remote rsync, started through ssh, is copying)" wait_for 30 remote_rsync
kill -KILL "$victim"
wait "$victim" 2>/dev/null
ok "after a SIGKILL of backup no rsync or ssh of the copy is left, here or remote" \
    wait_for 30 none_left
kill_leftovers
write_conf
idk=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
ok "cron runs" "$CELLAR" -c "$conf" cron
is "$(backup_info "$conf" main "$idk" status)" FAILED "and marks the killed backup ($idk) FAILED"
