#!/bin/bash
# tests/integration/t_tutorial.sh - doc/tutorial.md is executable (TAP).
#
# Every "$ " line of the tutorial's console blocks runs, in order, against a
# real PostgreSQL 15 cluster, and must succeed; the tutorial's ini block is
# the configuration. Only what a sandbox needs is changed: the server's port
# (5432) and the recovered copy's (5433), the directories (/var/lib/cellar
# and /srv under the test's scratch directory) and the user (root). The
# recovered copy must hold the 1000 orders of the restore point.
# Run: tests/run.sh tests/integration/t_tutorial.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1

tutorial=$HARNESS_TOP/doc/tutorial.md
# the "$ " lines of ```console blocks, and the first ```ini block
commands=$(awk '/^```console/ {c = 1; next} /^```/ {c = 0} c && /^\$ / {sub(/^\$ /, ""); print}' "$tutorial")
config=$(awk '/^```ini/ && !done {c = 1; next} /^```/ && c {c = 0; done = 1} c' "$tutorial")
n=$(printf '%s\n' "$commands" | wc -l)
tap_plan $((n + 2))

export HOME=$T # ~/.cellar.conf
home=$T/home
mkdir -p "$home/pg/incoming"
chown -R postgres: "$home"
conf=$T/.cellar.conf
write_conf() {
    printf '%s\n' "$config" |
        sed -e "s|/var/lib/cellar|$home|g" -e "s|port=5432|port=${PG_MAIN_PORT:-5432}|" \
            -e "s|^barman_user = barman|barman_user = root|" >"$conf"
    chmod 0644 "$conf"
}
write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal pg %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
like "$(cat "$conf")" "port=$PG_MAIN_PORT" "the tutorial's configuration, pointed at the test cluster"

rport=$((PG_MAIN_PORT + 101))
restored=$T/pg-restored
harness_at_exit sh -c "[ ! -f $restored/postmaster.pid ] || runuser -u postgres -- $PG_BINDIR/pg_ctl -D $restored -m immediate stop"
export PATH="$HARNESS_TOP:$PG_BINDIR:$PATH"
count=""
while IFS= read -r line; do
    cmd=${line//-p 5432/-p $PG_MAIN_PORT}
    cmd=${cmd//-p 5433/-p $rport}
    cmd=${cmd//\/srv\/pg-restored/$restored}
    out=$(bash -c "$cmd" 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] || diag "$out"
    is "$rc" 0 "tutorial: $line"
    case $line in *"SELECT count(*) FROM orders"*) count=$out ;; esac
done <<<"$commands"
like "$count" $'\n +1000\n' "the recovered copy holds the 1000 orders of the restore point"
