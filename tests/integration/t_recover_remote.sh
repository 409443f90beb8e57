#!/bin/bash
# tests/integration/t_recover_remote.sh - `cellar recover` over ssh, and --get-wal (TAP).
#
# A PostgreSQL 15 cluster with a tablespace archives through `cellar
# put-wal` into a zstd archive; one backup, then rows a and b with an LSN L
# between them. Recoveries (each started with pg_start_datadir and queried):
#
# - over the private sshd on 127.0.0.1 (--remote-ssh-command "$SSH_COMMAND",
#   which logs in as postgres): to the end of the WAL, the tablespace
#   relocated with --tablespace; the files arrive owned by postgres (so they
#   came through ssh, not a local copy as root), DEST/pg_wal holds the
#   segments decompressed;
# - --dry-run over ssh: exit 0, nothing written on the other host, the free
#   space read with df over ssh, the WAL counted decompressed (whole
#   segments, though the archive is zstd);
# - over ssh to --target-lsn L with --target-action promote: the WAL goes to
#   DEST/barman_wal, which recovery_end_command removes;
# - locally with --get-wal to --target-lsn L: no WAL copied, restore_command
#   runs `cellar -c CONF get-wal main %f > %p` as the postgres user, CONF
#   being a path with spaces, quotes and "$(touch ...)" (quoted, and never
#   run; the same path in the ssh form below, quoted twice). For that
#   the configuration file is world-readable and the archive (barman_home)
#   and the log file belong to postgres: the test chowns them after the last
#   archive-wal (commands run as root keep working);
# - over ssh with --standby-mode and --get-wal: standby.signal instead of
#   recovery.signal, and a restore_command that runs cellar get-wal back on
#   this host over ssh (as barman_user); the standby replays the archive
#   through it (part 4 says how postgres's ssh reaches our sshd).
# Needs root (sshd, clusters run as postgres). Run: tests/run.sh tests/integration/t_recover_remote.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 43

sshd_start || tap_bail "cannot start sshd"
home=$T/home
conf=$T/cellar.conf
tbs=$T/tbs1
remote=$T/remote # the "other host": where postgres may write
mkdir -p "$home/main/incoming" "$tbs" "$remote"
chown -R postgres: "$home" "$tbs" "$remote"
touch "$T/cellar.log"
chmod 0666 "$T/cellar.log" # root and postgres (put-wal, get-wal) both log there
write_conf() {
    backup_conf "$conf" cellar "$home" "${PG_MAIN_PORT:-1}" "remote recoveries" \
        'backup_method = local-rsync' 'immediate_checkpoint = true' 'compression = zstd'
}
write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
pg_sql main "CREATE TABLESPACE tbs1 LOCATION '$tbs'" >/dev/null || tap_bail "no tablespace"
pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text);
             CREATE TABLE in_tbs (i int) TABLESPACE tbs1;
             INSERT INTO in_tbs SELECT generate_series(1, 300)" >/dev/null || tap_bail "no tables"
oid=$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")
add_row main p0
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "the backup failed"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
add_row main a
L_AB=$(pg_sql main "SELECT pg_current_wal_insert_lsn()")
add_row main b
archive_now main main || tap_bail "WAL not archived"
wal1=$(backup_info "$conf" main "$id" begin_wal)
like "$(awk -v w="$wal1" '$1 == w {print $4}' "$home/main/wals/xlog.db")" '^zstd$' \
    "the archive is zstd-compressed"

# start_rec NAME DIR STATE - start a recovered data directory, wait for STATE
start_rec() {
    pg_start_datadir "$1" "$2" || return 1
    wait_for 60 "$3" "$1" || { diag "$(tail -n 15 "$(_pg_get "$1" LOG)")"; return 1; }
}

# ---- 0. --dry-run over ssh ------------------------------------------------------------------
d=$remote/r_plan
"$CELLAR" -c "$conf" -f json recover --dry-run --remote-ssh-command "$SSH_COMMAND" \
    --tablespace "tbs1:$remote/r_plan_tbs" main "$id" "$d" </dev/null >"$T/plan.json" 2>&1
is "$?" 0 "recover --dry-run --remote-ssh-command: exit status 0"
diag "$(cat "$T/plan.json")"
ok "nothing was written on the other host" test ! -e "$d" -a ! -e "$remote/r_plan_tbs"
is "$(plan_field "$T/plan.json" '[d["remote"], type(d["free_bytes"]).__name__]')" \
    "[\"$SSH_COMMAND\", \"int\"]" "the free space was read over ssh (df -Pk)"
is "$(plan_field "$T/plan.json" 'd["wal_files"] > 0 and d["wal_bytes"] == d["wal_files"] * 16777216')" \
    true "the zstd WAL is counted as whole segments, as it is restored"

# ---- 1. over ssh, to the end of the WAL, tablespace relocated ------------------------------
d=$remote/r_end
recover_ok "recover --remote-ssh-command to the end of the WAL" \
    --remote-ssh-command "$SSH_COMMAND" --tablespace "tbs1:$remote/r_end_tbs" main "$id" "$d"
ok "the output ends with pg_ctl -D $d start" has_text "$(tail -n 5 <<<"$REC_OUT")" "pg_ctl -D $d start"
is "$(stat -c %U "$d/PG_VERSION")" postgres "the files were written by the ssh user (postgres)"
is "$(stat -c %U "$remote/r_end_tbs")" postgres "and the tablespace too"
"$CELLAR" -c "$conf" get-wal main "$wal1" >"$T/seg"
ok "DEST/pg_wal holds the backup's first segment decompressed" cmp "$T/seg" "$d/pg_wal/$wal1"
is "$(readlink "$d/pg_tblspc/$oid")" "$remote/r_end_tbs" "pg_tblspc/$oid links to the --tablespace directory"
ok "the recovered cluster starts and finishes recovery" start_rec rend "$d" promoted
is "$(rows rend)" "p0 a b" "it holds every row, also those written after the backup"
is "$(pg_sql rend "SELECT count(*) FROM in_tbs")" 300 "the table in the tablespace is readable"
is "$(pg_sql rend "SELECT pg_tablespace_location($oid)")" "$remote/r_end_tbs" \
    "pg_tablespace_location shows the new directory"
is "$(pg_sql rend "SHOW archive_command")" false "archive_command is false"
pg_stop rend
rm -rf "$d" "$remote/r_end_tbs"

# ---- 2. over ssh, to the LSN between a and b, promote --------------------------------------------
d=$remote/r_lsn
recover_ok "recover --remote-ssh-command --target-lsn L --target-action promote" \
    --remote-ssh-command "$SSH_COMMAND" --target-lsn "$L_AB" --target-action promote \
    --tablespace "tbs1:$remote/r_lsn_tbs" main "$id" "$d"
ok "the output ends with pg_ctl -D $d start" has_text "$(tail -n 5 <<<"$REC_OUT")" "pg_ctl -D $d start"
is "$(stat -c %U "$d/barman_wal/$wal1")" postgres "the WAL is in DEST/barman_wal, written over ssh"
ok "recovery.signal is there" test -f "$d/recovery.signal"
like "$(cat "$d/postgresql.auto.conf")" $'(^|\n)restore_command = \'cp barman_wal/%f %p\'' \
    "restore_command copies from barman_wal"
ok "it starts and is promoted at the target" start_rec rlsn "$d" promoted
is "$(rows rlsn)" "p0 a" "a is there, b is not"
ok "recovery_end_command removed barman_wal" test -f "$d/PG_VERSION" -a ! -e "$d/barman_wal"
pg_stop rlsn
rm -rf "$d" "$remote/r_lsn_tbs"

# ---- the configuration at a hostile path, for parts 3 and 4 -----------------------------------
# recover is given the configuration through a path that a shell would split
# at its spaces, unquote at its quotes and run "$(touch ...)" in: the
# restore_command it writes must hand that path to get-wal unchanged (or
# every WAL fetch fails), and nothing in it may run. The expected lines are
# the path quoted for sh (' as '\''), and for ssh the remote command quoted
# once more, then the whole quoted as a postgresql.conf string (' as '',
# \ as \\).
hostile="$T/conf \$(touch $T/pwned) it's/x'y"
{ mkdir -p "$hostile" && cp "$conf" "$hostile/cellar.conf"; } || tap_bail "cannot copy $conf"
conf=$hostile/cellar.conf
sh_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
conf_quote() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\'\'}"; }

# ---- 3. locally with --get-wal ----------------------------------------------------------------
# restore_command runs cellar as postgres: it must read the configuration,
# the archive and write the log (the log file is 0666 already)
chown -R postgres: "$home"
ok "(postgres can run cellar get-wal)" \
    runuser -u postgres -- "$CELLAR" -c "$conf" get-wal -o "$remote" main "$wal1"
rm -f "$remote/$wal1"
d=$T/r_getwal
recover_ok "recover --get-wal --target-lsn L" \
    --get-wal --target-lsn "$L_AB" --tablespace "tbs1:$T/r_getwal_tbs" main "$id" "$d"
ok "no WAL was copied into DEST/pg_wal" test -d "$d/pg_wal" -a ! -e "$d/pg_wal/$wal1"
ok "nor into DEST/barman_wal" test -f "$d/PG_VERSION" -a ! -e "$d/barman_wal"
auto=$(cat "$d/postgresql.auto.conf")
cmd="$CELLAR -c $(sh_quote "$conf") get-wal main %f > %p"
ok "restore_command = $cmd (the path quoted)" \
    has_text "$auto"$'\n' "restore_command = $(conf_quote "$cmd")"$'\n'
like "$auto" $'(^|\n)recovery_target_lsn = \'?'"$L_AB" "recovery_target_lsn is set"
ok "it starts and pauses at the target" start_rec rgw "$d" paused
is "$(rows rgw)" "p0 a" "a is there, b is not: the WAL came through get-wal"
like "$(cat "$PG_RGW_LOG")" "restored log file \"$wal1\" from archive" \
    "the server log shows the restore_command fetching the backup's first segment"
ok "the \$(touch ...) in the configuration path never ran" test ! -e "$T/pwned"
pg_stop rgw
rm -rf "$d" "$T/r_getwal_tbs"

# ---- 4. --standby-mode and --get-wal, over ssh --------------------------------------------------
# A remote recovery's restore_command runs cellar get-wal back on this host
# over ssh, as barman_user (root here): `ssh -o BatchMode=yes root@HOSTNAME
# 'CELLAR -c CONF get-wal main %f' > %p`. The recovered server (postgres) has
# no key for that and our sshd listens on another port, so the server's PATH
# gets an ssh wrapper that adds the harness's client key (a copy postgres can
# read), port and host; nothing else is changed (no ~postgres/.ssh).
mkdir -p "$T/bin"
cp "$SSHD_KEY" "$T/bin/key" && chown postgres: "$T/bin/key" && chmod 0600 "$T/bin/key"
printf '#!/bin/sh\nexec /usr/bin/ssh -i %s -p %s -o IdentitiesOnly=yes -o StrictHostKeyChecking=no %s "$@"\n' \
    "$T/bin/key" "$SSHD_PORT" "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o HostName=127.0.0.1" \
    >"$T/bin/ssh"
chmod 0755 "$T/bin/ssh"
d=$remote/r_sb
recover_ok "recover --standby-mode --get-wal over ssh" \
    --remote-ssh-command "$SSH_COMMAND" --standby-mode --get-wal \
    --tablespace "tbs1:$remote/r_sb_tbs" main "$id" "$d"
ok "standby.signal is there" test -f "$d/standby.signal"
ok "recovery.signal is not" test -f "$d/PG_VERSION" -a ! -e "$d/recovery.signal"
ok "no WAL was copied" test -d "$d/pg_wal" -a ! -e "$d/pg_wal/$wal1" -a ! -e "$d/barman_wal"
auto=$(cat "$d/postgresql.auto.conf")
like "$auto" $'(^|\n)restore_command = \'ssh -o BatchMode=yes root@'"$(hostname)"' ' \
    "restore_command connects back to this host as barman_user (root)"
cmd="ssh -o BatchMode=yes root@$(hostname) $(sh_quote "$CELLAR -c $(sh_quote "$conf") get-wal main %f") > %p"
ok "and runs '$CELLAR -c CONF get-wal main %f' there, CONF quoted twice" \
    has_text "$auto"$'\n' "restore_command = $(conf_quote "$cmd")"$'\n'
# all_replayed NAME - the standby has replayed every row of the archive
all_replayed() { [ "$(rows "$1")" = "p0 a b" ]; }
PATH="$T/bin:$PATH" start_rec rsb "$d" all_replayed
ok "it starts as a standby and replays the whole archive through ssh and get-wal" test $? = 0
is "$(pg_sql rsb "SELECT pg_is_in_recovery()")" t "and stays in recovery, waiting for more"
pg_stop rsb
ok "the \$(touch ...) in the configuration path never ran over ssh either" test ! -e "$T/pwned"
