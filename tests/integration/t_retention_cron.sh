#!/bin/bash
# tests/integration/t_retention_cron.sh - cron enforces retention policies (TAP).
#
# A real PostgreSQL 15 cluster, archiving through `cellar put-wal`, gets
# several small backups with WAL between them. Then:
#   - RECOVERY WINDOW OF 1 DAYS, with the first two backups' times moved 5
#     and 3 days into the past: cron deletes exactly the first (the second
#     is the one that reaches back to the start of the window);
#   - `cron --dry-run` says what it would delete and deletes nothing;
#   - REDUNDANCY 1 raised by minimum_redundancy = 2 deletes nothing;
#   - REDUNDANCY 2 with three backups leaves two: the WAL before the oldest
#     kept backup is gone while every segment it needs is there, and a
#     recovery from it starts and holds its data;
#   - two crons at once both succeed and leave xlog.db matching the files.
# Run: tests/run.sh tests/integration/t_retention_cron.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
harness_init || exit 1
tap_plan 26

home=$T/home
conf=$T/cellar.conf
mkdir -p "$home/main/incoming"
chown -R postgres: "$home"
write_conf() { # write_conf [EXTRA LINE...]
    backup_conf "$conf" cellar "$home" "${PG_MAIN_PORT:-1}" "retention" \
        'backup_method = local-rsync' 'immediate_checkpoint = true' 'compression = gzip' "$@"
}
write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
pg_sql main "CREATE TABLE t (i int)" >/dev/null
cel() { "$CELLAR" -c "$conf" "$@"; }
ids() { cel list-backup --minimal main | tac | tr '\n' ' '; }
# backup_with_rows N - N rows more, a WAL switch, then a backup
backup_with_rows() {
    pg_sql main "INSERT INTO t SELECT generate_series(1, $1)" >/dev/null
    pg_sql main "SELECT pg_switch_wal()" >/dev/null
    sleep 1 # a new second: a new backup ID
    cel backup --wait main >/dev/null 2>&1
}
# move_back ID DAYS - rewrite the backup's begin and end times DAYS days back
move_back() {
    local when dir
    when=$(date -u -d "$2 days ago" '+%Y-%m-%d %H:%M:%S+00:00')
    dir=$(backup_dir "$conf" main "$1")
    sed -i "s/^end_time=.*/end_time=$when/; s/^begin_time=.*/begin_time=$when/" "$dir/backup.info"
}

ok "first backup" backup_with_rows 100
ok "second backup" backup_with_rows 100
ok "third backup" backup_with_rows 100
read -r b1 b2 b3 <<<"$(ids)"
move_back "$b1" 5
move_back "$b2" 3

# ---- a recovery window -------------------------------------------------------------------
write_conf 'retention_policy = RECOVERY WINDOW OF 1 DAYS'
like "$(cel list-backup main | grep "$b1")" " - OBSOLETE\$" "list-backup marks the oldest OBSOLETE"
out=$(cel cron --dry-run 2>&1)
like "$out" "main: dry run: retention would delete $b1\$" "cron --dry-run names the backup it would delete"
is "$(ids)" "$b1 $b2 $b3 " "and deletes nothing"
ok "cron" cel cron
is "$(ids)" "$b2 $b3 " "the window keeps the backup that reaches back to its start, and the newer one"
like "$(cat "$T/cellar.log")" "retention \(RECOVERY WINDOW OF 1 DAYS\): deleting backup $b1 \(OBSOLETE\)" \
    "the decision is logged"

# ---- minimum redundancy wins -------------------------------------------------------------------
write_conf 'retention_policy = REDUNDANCY 1' 'minimum_redundancy = 2'
like "$(cel cron --dry-run 2>&1)" "retention would delete nothing" "REDUNDANCY 1 raised to minimum_redundancy 2 deletes nothing"

# ---- redundancy --------------------------------------------------------------------------------------
ok "fourth backup" backup_with_rows 100
read -r _ _ b4 <<<"$(ids)"
write_conf 'retention_policy = REDUNDANCY 2' 'minimum_redundancy = 1'
out=$(cel cron 2>&1)
like "$out" "obsolete backups deleted: $b2" "cron deletes the oldest of three with REDUNDANCY 2"
is "$(ids)" "$b3 $b4 " "two backups are left"
begin3=$(backup_info "$conf" main "$b3" begin_wal)
end3=$(backup_info "$conf" main "$b3" end_wal)
older=$(awk -v b="$begin3" '$1 < b && $1 !~ /history/' "$home/main/wals/xlog.db" | wc -l)
is "$older" 0 "no WAL older than the oldest kept backup is left in xlog.db"
missing=0
for ((seg = 16#${begin3:16:8}; seg <= 16#${end3:16:8}; seg++)); do
    name=$(printf '%s%08X' "${begin3:0:16}" "$seg")
    [ -f "$home/main/wals/${name:0:16}/$name" ] || missing=1
done
is "$missing" 0 "every segment the oldest kept backup needs is there"
ok "recover the oldest kept backup" cel recover main "$b3" "$T/rec"
ok "it starts" pg_start_datadir rec "$T/rec"
is "$(pg_sql rec "SELECT count(*) FROM t")" "400" "and holds the rows written before and since (all WAL replayed)"
pg_stop rec

# ---- two crons at once ---------------------------------------------------------------------------
pg_sql main "INSERT INTO t SELECT 1; SELECT pg_switch_wal()" >/dev/null
cel cron >"$T/cron1" 2>&1 &
c1=$!
cel cron >"$T/cron2" 2>&1 &
c2=$!
wait "$c1"
r1=$?
wait "$c2"
r2=$?
is "$r1 $r2" "0 0" "two crons at once both succeed"
matches() {
    diff <(awk '{print $1}' "$home/main/wals/xlog.db" | sort) \
        <(find "$home/main/wals" -type f ! -name 'xlog.db*' -printf '%f\n' | sort)
}
ok "xlog.db names exactly the archived files" matches
is "$(ids)" "$b3 $b4 " "and the catalogue is unchanged"

# ---- status shows retention and the backups -----------------------------------------------------
out=$(cel status main)
like "$out" $'\tRetention policies: enforced \\(mode: auto, retention: REDUNDANCY 2, WAL retention: MAIN\\)' \
    "status: the retention policy, in Barman's words"
like "$out" $'\tNo. of available backups: 2\n\tFirst available backup: '"$b3"$'\n\tLast available backup: '"$b4" \
    "status: the backups available"
like "$out" $'\tMinimum redundancy requirements: satisfied \\(2/1\\)' "status: minimum redundancy"
like "$out" $'\tCluster state: in production' "status: what PostgreSQL says"
like "$out" $'\tRetention marks: 2 VALID, 0 OBSOLETE' "status: the retention marks"
