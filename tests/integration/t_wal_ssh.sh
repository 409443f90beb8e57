#!/bin/bash
# tests/integration/t_wal_ssh.sh - put-wal over ssh from the PostgreSQL host (TAP).
#
# PostgreSQL's archive_command pipes each WAL file through a real ssh
# connection (a private sshd on 127.0.0.1) into `cellar put-wal SERVER --name
# %f` run as another user on the "backup host": the way a DBA archives from a
# separate database server. Every segment must arrive intact.
# Run: tests/run.sh tests/integration/t_wal_ssh.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 6

sshd_start || tap_bail "cannot start sshd"
# PostgreSQL runs as postgres: it needs a copy of the client key it can read
cp "$SSHD_KEY" "$T/pgkey"
chown postgres: "$T/pgkey"
chmod 0600 "$T/pgkey"
home=$T/home
conf=$T/cellar.conf
mkdir -p "$T/copy"
chown postgres: "$T/copy"
cat >"$conf" <<EOF
[cellar]
barman_home = $home
barman_user = $(id -un)

[main]
compression = lz4
EOF
chmod 0644 "$conf"
ssh="ssh -i $T/pgkey -p $SSHD_PORT -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR root@127.0.0.1"
# the reference copy is made copy-then-rename: a file seen in $T/copy is complete
export PG_ARCHIVE_COMMAND="$ssh '$CELLAR -c $conf put-wal main --name %f' < %p && $(pg_archive_command "$T/copy")"
pg_start main || tap_bail "cannot start PostgreSQL"
pg_sql main "CREATE TABLE t AS SELECT md5(g::text) v FROM generate_series(1, 100000) g;
             SELECT pg_switch_wal();" >/dev/null
pg_sql main "INSERT INTO t SELECT md5(g::text) FROM generate_series(1, 100000) g;
             SELECT pg_switch_wal();" >/dev/null
# copied N - PostgreSQL's archive_command has handled at least N files
copied() { [ "$(ls "$T/copy" | wc -l)" -ge "$1" ]; }
ok "PostgreSQL archives through ssh" wait_for 30 copied 2
is "$(pg_sql main "SELECT failed_count FROM pg_stat_archiver")" 0 "no archive_command failed"
is "$(stat -c %U "$home/main/incoming/$(ls "$home/main/incoming" | head -n1)")" root \
    "the files arrived as the backup host's user"
"$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>&1
is "$?" 0 "archive-wal archives them"
bad=0
for f in "$T/copy"/*; do
    "$CELLAR" -c "$conf" get-wal main "$(basename "$f")" | cmp -s - "$f" || bad=1
done
is "$bad" 0 "every segment sent over ssh comes back from get-wal byte-identical"
ok "the archive is lz4-compressed" test "$(cut -f4 "$home/main/wals/xlog.db" | sort -u)" = lz4
