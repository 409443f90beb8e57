#!/bin/bash
# tests/integration/t_barman_user.sh - the DBA's flow with barman_user = barman (TAP).
#
# The tutorial's set-up on one machine: two real PostgreSQL 15 clusters whose
# archive_command ships each segment with rsync over a real sshd to
# barman@127.0.0.1, into the servers' incoming directories; backups go over
# ssh as postgres@127.0.0.1 with barman's own key; barman_home belongs to the
# barman OS user. Root runs check (which creates the server directories) and
# cron (which archives WAL); then barman runs cron, backup and check: all
# succeed, because cellar started as root became barman and left nothing
# owned by root in barman_home. Also: a barman_user that does not exist
# stops root with a clear message before anything is written; another
# non-root user is refused; check's ssh fix names barman's key and postgres
# on the database host; symbolic links planted in barman_home are not
# followed (a link in incoming/ goes to errors/, xlog.db is not appended
# through a link, nothing is archived under a wals/<hash> link); recover as
# root works as barman too.
# Run: tests/run.sh tests/integration/t_barman_user.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 63

[ "$(id -u)" -eq 0 ] || tap_bail "needs root (the point is root becoming barman)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"
sshd_start || tap_bail "cannot start sshd"
# sshd without PAM refuses a locked account: the tutorial logs in as barman
_sshd_unlock_user barman || tap_bail "cannot make the barman account usable by sshd"

home=$T/home
logdir=$T/log
keys=$T/keys
mkdir -p "$home" "$logdir" "$keys"
chown barman:barman "$home" "$logdir"
chmod 0750 "$home"
# each user's own copy of the client key, as each would have its own key
for u in barman postgres; do
    cp "$SSHD_KEY" "$keys/$u" && chown "$u:" "$keys/$u" && chmod 0600 "$keys/$u" ||
        tap_bail "cannot copy the ssh key for $u"
done
chmod 0755 "$keys"
ssh_opts() { # ssh_opts USER - ssh and its options with USER's key
    printf 'ssh -i %s -p %s -o IdentitiesOnly=yes -o StrictHostKeyChecking=no' "$keys/$1" "$SSHD_PORT"
    printf ' -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR'
}

# archive_command as in the tutorial: rsync -a %p barman@backup:INCOMING/%f
for name in one two; do
    export PG_ARCHIVE_COMMAND="rsync -a -e \"$(ssh_opts postgres)\" %p barman@127.0.0.1:$home/$name/incoming/%f"
    pg_start "$name" || tap_bail "cannot start PostgreSQL $name"
done
unset PG_ARCHIVE_COMMAND

conf=$T/cellar.conf
write_conf() { # write_conf FILE BARMAN_USER
    {
        printf '[barman]\nbarman_home = %s\nbarman_user = %s\n' "$home" "$2"
        printf 'log_file = %s/cellar.log\npath_prefix = %s\n' "$logdir" "$PG_BINDIR"
        for name in one two; do
            printf '\n[%s]\ndescription = "tutorial server %s"\n' "$name" "$name"
            printf 'conninfo = %s\n' "$(_pg_get "$name" CONNINFO)"
            printf 'ssh_command = %s postgres@127.0.0.1\n' "$(ssh_opts barman)"
            printf 'backup_method = rsync\narchiver = on\nretention_policy = REDUNDANCY 2\n'
        done
    } >"$1"
    chmod 0644 "$1"
}
write_conf "$conf" barman
as_barman() { runuser -u barman -- "$@"; }
run() { # run CMD... - capture OUT and RC
    OUT=$("$@" 2>&1)
    RC=$?
}
# rootless - nothing under barman_home or the log directory belongs to root
rootless() {
    local found
    found=$(find "$home" "$logdir" -user root)
    [ -z "$found" ] || { printf '# owned by root: %s\n' $found >&2; return 1; }
}
# ready_gone NAME - PostgreSQL NAME has no WAL left to archive
ready_gone() {
    [ -z "$(ls "$(_pg_get "$1" DATA)/pg_wal/archive_status/" | grep '\.ready$')" ]
}
make_wal() { # make_wal - one switched segment per cluster, shipped to incoming/
    local name
    for name in one two; do
        pg_sql "$name" "CREATE TABLE IF NOT EXISTS t (i int); INSERT INTO t SELECT generate_series(1, 1000);
                        SELECT pg_switch_wal();" >/dev/null
    done
    wait_for 60 ready_gone one && wait_for 60 ready_gone two
}
archived() { # archived NAME - how many segments NAME's xlog.db lists
    if [ -f "$home/$1/wals/xlog.db" ]; then wc -l <"$home/$1/wals/xlog.db"; else echo 0; fi
}

# ---- a barman_user that does not exist: root stops before writing anything ----------
write_conf "$T/nosuch.conf" nosuchuser
run "$CELLAR" -c "$T/nosuch.conf" cron
is "$RC" 2 "root, barman_user = nosuchuser: cron exits 2"
like "$OUT" "ERROR: barman_user 'nosuchuser' does not exist" "and says which user does not exist"
run "$CELLAR" -c "$T/nosuch.conf" check all
is "$RC" 2 "check as root with that user: exit 2 as well"
is "$(find "$home" "$logdir" -mindepth 1 | wc -l)" 0 "nothing was written: barman_home and the log directory are still empty"

# ---- another user than root and barman is refused -----------------------------------
run runuser -u postgres -- "$CELLAR" -c "$conf" list-server
is "$RC" 2 "postgres running cellar with barman_user = barman: exit 2"
like "$OUT" "ERROR: cellar runs as barman_user 'barman', not as 'postgres'" "the message names both users"

# ---- '~' in the configuration is barman's home for root too --------------------------
# root reads the file before it becomes barman: a path under '~' must still
# be barman's (what barman running the same command, the console's
# operations and get-wal over ssh read), not root's
sed "s|^barman_home = .*|barman_home = ~/cellar-tilde-probe|" "$conf" >"$T/tilde.conf"
chmod 0644 "$T/tilde.conf"
tilde_home() { "$@" -c "$T/tilde.conf" show-server one 2>&1 | sed -n 's/^[[:space:]]*barman_home: //p'; }
is "$(tilde_home "$CELLAR")" "$(getent passwd barman | cut -d: -f6)/cellar-tilde-probe" \
    "root: '~/x' in barman_home is barman's home"
is "$(tilde_home "$CELLAR")" "$(tilde_home as_barman "$CELLAR")" "the same path as for barman"

# ---- root: check creates the directories, as barman --------------------------------
run "$CELLAR" -c "$conf" check all
like "$OUT" "directories: OK \\(created '$home/one'" "check as root creates the server directories"
is "$(stat -c %U "$home/one/incoming")" barman "incoming/ belongs to barman"
ok "nothing in barman_home or the log directory belongs to root after check as root" rootless

# now archive_command's rsync (as barman over ssh) can deliver
ok "PostgreSQL ships WAL into incoming/ with rsync as barman" make_wal
ok "root: cron archives WAL of both servers" "$CELLAR" -c "$conf" cron
ok "server one has archived WAL" test "$(archived one)" -ge 1
ok "server two has archived WAL" test "$(archived two)" -ge 1
is "$(stat -c %U:%a "$home/one/wals/xlog.db")" barman:600 "xlog.db belongs to barman"
ok "nothing in barman_home or the log directory belongs to root after cron as root" rootless

# ---- barman: cron, backup, check --------------------------------------------------
ok "more WAL shipped" make_wal
n1=$(archived one)
run as_barman "$CELLAR" -c "$conf" cron
is "$RC" 0 "barman: cron after root's runs succeeds (no Permission denied)"
ok "and archives the new WAL" test "$(archived one)" -gt "$n1" -a -z "$(ls "$home/one/incoming")"
run as_barman "$CELLAR" -c "$conf" backup --wait --wait-timeout 60 all
is "$RC" 0 "barman: backup all succeeds"
[ "$RC" = 0 ] || diag "$OUT"
is "$(as_barman "$CELLAR" -c "$conf" list-backup --minimal two | wc -l)" 1 "server two has a backup"
run as_barman "$CELLAR" -c "$conf" check all
is "$RC" 0 "barman: check all passes"
[ "$RC" = 0 ] || diag "$OUT"
run "$CELLAR" -c "$conf" check all
is "$RC" 0 "root: check all passes too, as barman"
ok "nothing in barman_home or the log directory belongs to root" rootless

# ---- check's ssh fix names barman's key and postgres on the database host -----------
sed "s|^ssh_command = .*|ssh_command = ssh -p 1 -o BatchMode=yes -o ConnectTimeout=5 postgres@127.0.0.1|" \
    "$conf" >"$T/nossh.conf"
run "$CELLAR" -c "$T/nossh.conf" check one
is "$RC" 3 "an ssh_command that cannot log in: check fails"
like "$OUT" "fix: run 'ssh -p 1 -o BatchMode=yes -o ConnectTimeout=5 postgres@127.0.0.1 true' by hand as barman: " \
    "the fix says to try it as barman"
like "$OUT" "barman's public key /var/lib/barman/\\.ssh/id_[a-z0-9]+\\.pub to ~postgres/\\.ssh/authorized_keys on 127\\.0\\.0\\.1" \
    "and names barman's key and postgres's authorized_keys on the database host"

# ---- a symbolic link in incoming/ goes to errors/, its target untouched -------------
seg=$(ls "$home/one/wals/"*/ | grep -E '^[0-9A-F]{24}$' | head -1)
hashdir=$(ls -d "$home/one/wals/"*/ | head -1)
mkdir -p "$T/outside" && chown barman: "$T/outside"
as_barman cp "$hashdir/$seg" "$T/outside/secret"
link=000000010000000000000F00 # a WAL name nothing else uses
as_barman ln -s "$T/outside/secret" "$home/one/incoming/$link"
run "$CELLAR" -c "$conf" archive-wal one
like "$OUT" "'$link' is a symbolic link, not a WAL file: moved to $home/one/errors without following it" \
    "archive-wal refuses a symbolic link in incoming/ with a warning"
moved=$(ls "$home/one/errors/" | grep "^$link\\..*\\.symlink$")
ok "the link is kept in errors/ as NAME.STAMP.symlink, still a link" test -L "$home/one/errors/$moved"
ok "its target is untouched" cmp -s "$T/outside/secret" "$hashdir/$seg"
ok "nothing was archived under that name" test -z "$(find "$home/one/wals" -name "$link*")"
ok "the link is gone from incoming/" test ! -e "$home/one/incoming/$link" -a ! -L "$home/one/incoming/$link"

# ---- xlog.db is not appended through a symbolic link -------------------------------
as_barman mv "$home/two/wals/xlog.db" "$T/outside/xlog.db.real"
as_barman touch "$T/outside/victim"
as_barman ln -s "$T/outside/victim" "$home/two/wals/xlog.db"
ok "WAL waits in incoming/ of two" make_wal
waiting=$(ls "$home/two/incoming" | wc -l)
run "$CELLAR" -c "$conf" archive-wal two
is "$RC" 1 "archive-wal with xlog.db a symbolic link fails"
like "$OUT" "'$home/two/wals/xlog.db' is a symbolic link: cellar does not write through links" \
    "and says xlog.db is a link"
is "$(stat -c %s "$T/outside/victim")" 0 "the file the link points to was not written"
is "$(ls "$home/two/incoming" | wc -l)" "$waiting" "the WAL is still waiting in incoming/ (nothing lost)"
as_barman rm "$home/two/wals/xlog.db"
as_barman mv "$T/outside/xlog.db.real" "$home/two/wals/xlog.db"
ok "with the link replaced by the real file, archive-wal archives it" "$CELLAR" -c "$conf" archive-wal two
ok "incoming/ of two is empty again" test -z "$(ls "$home/two/incoming")"

# ---- nor written under a wals/<hash> directory that is a symbolic link ---------------
hashdir=$(ls -d "$home/two/wals/"*/ | head -1)
hashdir=${hashdir%/}
as_barman mv "$hashdir" "$T/outside/hash"
as_barman ln -s "$T/outside/hash" "$hashdir"
before=$(ls "$T/outside/hash" | wc -l)
ok "WAL waits in incoming/ of two again" make_wal
run "$CELLAR" -c "$conf" archive-wal two
like "$OUT" "'$hashdir' is a symbolic link: cellar does not archive through links" \
    "archive-wal refuses to archive into a wals/<hash> directory that is a link"
is "$(ls "$T/outside/hash" | wc -l)" "$before" "nothing was written where the link points"
ok "the WAL is still waiting in incoming/" test -n "$(ls "$home/two/incoming")"
as_barman rm "$hashdir"
as_barman mv "$T/outside/hash" "$hashdir"
ok "with the directory back, archive-wal archives it" "$CELLAR" -c "$conf" archive-wal two

# ---- recover as root runs as barman too (it archives incoming/ first) ---------------
ok "WAL waits in incoming/ of one" make_wal
id=$(as_barman "$CELLAR" -c "$conf" list-backup --minimal one | head -1)
mkdir -p "$T/rootonly" && chmod 0700 "$T/rootonly"
run "$CELLAR" -c "$conf" recover one "$id" "$T/rootonly/pgdata"
is "$RC" 1 "recover as root into a directory barman cannot write fails"
like "$OUT" "'$T/rootonly/pgdata'.*Permission denied" "saying which directory it could not write"
like "$OUT" "HINT: Started as root, cellar runs as barman_user 'barman'" \
    "and that it ran as barman, not as root"
run "$CELLAR" -c "$conf" recover one "$id" "$T/outside/restored"
is "$RC" 0 "recover as root into a directory barman owns"
is "$(stat -c %U "$T/outside/restored/PG_VERSION")" barman "the recovered files are barman's"
like "$OUT" "chown -R postgres: $T/outside/restored +# the files belong to barman" \
    "and the advice says to give them to postgres before pg_ctl start"
ok "the WAL waiting in incoming/ was archived, by barman" test -z "$(ls "$home/one/incoming")"
ok "nothing in barman_home or the log directory belongs to root at the end" rootless

# ---- what an earlier version run as root left: check names it and the fix ----------
chown root: "$home/one/wals/xlog.db"
chmod 0600 "$home/one/wals/xlog.db"
run as_barman "$CELLAR" -c "$conf" check one
ok "check as barman fails on a root-owned xlog.db left by an old root run" test "$RC" != 0
like "$OUT" "directories: FAILED \\('$home/one/wals/xlog.db' belongs to root, not to barman\\)" \
    "naming the file and its owner"
like "$OUT" "chown -R barman: '$home/one'" "with the chown that gives it back"
chown barman: "$home/one/wals/xlog.db"
run as_barman "$CELLAR" -c "$conf" check one
unlike "$OUT" "directories: FAILED" "given back, the directories check passes"

# ---- put-wal run by PostgreSQL's user (archive_command on the same host) -----------
# incoming/ shared with postgres, as doc/archiving.md says: 2770, group postgres
chgrp postgres "$home/one/incoming" && chmod 2770 "$home/one/incoming"
chmod 0711 "$home" "$home/one" # postgres may pass through, not list
printf '1\t0/3000000\tno recovery target specified\n' >"$T/00000009.history"
chmod 0644 "$T/00000009.history"
run runuser -u postgres -- "$CELLAR" -c "$conf" put-wal one "$T/00000009.history"
is "$RC" 0 "put-wal run by postgres (not barman_user) stores the file in incoming/" || diag "$OUT"
is "$(stat -c '%U %a' "$home/one/incoming/00000009.history" 2>&1)" "postgres 644" \
    "readable by barman_user, in a directory only barman and postgres enter"
ok "barman's archive-wal archives it" as_barman "$CELLAR" -c "$conf" archive-wal one
ok "it is in the archive" test -f "$home/one/wals/00000009.history"
run runuser -u postgres -- "$CELLAR" -c "$conf" list-backup one
like "$OUT" "cellar runs as barman_user 'barman', not as 'postgres'" \
    "other commands run by postgres are still refused"
