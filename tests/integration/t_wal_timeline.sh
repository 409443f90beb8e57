#!/bin/bash
# tests/integration/t_wal_timeline.sh - archiving across a promotion (TAP).
#
# A PostgreSQL 15 primary archives with `cellar put-wal` (its
# archive_command also keeps a copy of every file it ships). A standby made
# with pg_basebackup -R inherits archive_mode = on and the same
# archive_command, streams from the primary, and is promoted once the
# primary is stopped (a failover). PostgreSQL then ships 00000002.history,
# the last segment of timeline 1 as <segment>.partial, and the segments of
# timeline 2, all through cellar put-wal; cellar archive-wal archives them.
# Checks: the history file is at the top of wals/, in xlog.db, and get-wal
# returns it identical to the promoted cluster's pg_wal/00000002.history;
# the .partial keeps its suffix, in the timeline 1 hash directory, and
# get-wal (also get-wal --partial by its segment name) returns it
# identical; timeline 2 segments are archived identical; rebuild-xlogdb
# counts one history file and one partial. Last, a copy of the base backup
# recovers from the archive alone (restore_command = cellar get-wal,
# recovery_target_timeline = latest): it follows the history file onto
# timeline 2 (whose first segment begins with timeline 1's pages up to the
# switch point) and finds the rows written there.
# Needs root (the clusters run as postgres). Run: tests/run.sh tests/integration/t_wal_timeline.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 33

home=$T/home
copy=$T/copy # what archive_command shipped, byte for byte
conf=$T/cellar.conf
mkdir -p "$home/tl/incoming" "$copy"
chown -R postgres: "$home/tl" "$copy"
cat >"$conf" <<EOF
[cellar]
barman_home = $home
barman_user = $(id -un)

[tl]
description = "a primary, then its promoted standby"
conninfo = host=127.0.0.1 user=postgres dbname=postgres
compression = gzip
EOF
chmod 0644 "$conf"
wals=$home/tl/wals

# the copy first: cp refuses nothing, put-wal might; a file put-wal refused
# is shipped again, and the copy is then simply rewritten with the same bytes
export PG_ARCHIVE_COMMAND="cp %p $copy/%f && $CELLAR -c $conf put-wal tl %p"
ok "pg_start primary (archive_command: cellar put-wal)" pg_start primary ||
    tap_bail "cannot start PostgreSQL"

# no_ready DATA - PostgreSQL has nothing left to archive
no_ready() {
    ! compgen -G "$1/pg_wal/archive_status/*.ready" >/dev/null
}
# caught_up - the standby has replayed everything the primary wrote
caught_up() {
    [ "$(pg_sql standby "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" = t ]
}
# archived_same NAME - get-wal returns NAME identical to what PostgreSQL shipped
archived_same() {
    "$CELLAR" -c "$conf" get-wal tl "$1" >"$T/got" && cmp "$copy/$1" "$T/got"
}

pg_sql primary "CREATE TABLE t (id int, v text)" >/dev/null
for i in 1 2; do
    pg_sql primary "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 10000) g;
                    SELECT pg_switch_wal();" >/dev/null
done

# --- the standby: a base backup with -R, started with the same settings ------------
sb=$T/standby
mkdir -p "$sb" && chown postgres: "$sb" && chmod 0700 "$sb"
ok "pg_basebackup -R of the primary" \
    runuser -u postgres -- "$PG_BINDIR/pg_basebackup" -D "$sb" -h 127.0.0.1 \
    -p "$PG_PRIMARY_PORT" -U postgres -R -X stream -c fast
# a pristine copy of the base backup, for the recovery at the end
cp -a "$sb" "$T/restore"
ok "the standby inherits archive_mode = on and the put-wal archive_command" \
    grep -q "put-wal tl" "$sb/postgresql.conf"
ok "pg_start_datadir standby" pg_start_datadir standby "$sb" || tap_bail "no standby"
is "$(pg_sql standby "SELECT pg_is_in_recovery()")" t "the standby is in recovery"

pg_sql primary "INSERT INTO t SELECT g, 'before failover' FROM generate_series(1, 5000) g;
                SELECT pg_switch_wal();" >/dev/null
pg_sql primary "INSERT INTO t SELECT g, 'last on timeline 1' FROM generate_series(1, 100) g" >/dev/null
target=$(pg_sql primary "SELECT pg_current_wal_lsn()")
ok "the standby catches up with the primary" wait_for 30 caught_up
ok "the primary archived all it had to" wait_for 30 no_ready "$PG_PRIMARY_DATA"
"$CELLAR" -c "$conf" archive-wal tl >"$T/out" 2>&1
ok "archive-wal on timeline 1" test $? = 0

# --- failover: the primary goes, the standby is promoted ---------------------------------
ok "the primary stops" pg_stop primary
is "$(pg_sql standby "SELECT pg_promote()")" t "pg_promote() on the standby"
is "$(pg_sql standby "SELECT pg_is_in_recovery()")" f "the standby is now a primary"
is "$(pg_sql standby "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)")" 00000002 \
    "writing timeline 2"
# (two commands: in one -c string the switch would come before the commit)
for i in 1 2 3; do
    pg_sql standby "INSERT INTO t SELECT g, 'timeline 2' FROM generate_series(1, 10000) g" &&
        pg_sql standby "SELECT pg_switch_wal()" >/dev/null
done
ok "the promoted cluster archived all it had to" wait_for 30 no_ready "$sb" ||
    diag "$(tail -n 12 "$PG_STANDBY_LOG")"
"$CELLAR" -c "$conf" archive-wal tl >"$T/out" 2>&1
ok "archive-wal after the promotion" test $? = 0
diag "$(cat "$T/out")"

# --- the history file ------------------------------------------------------------------------
ok "00000002.history is at the top of wals/" test -f "$wals/00000002.history"
like "$(cut -f1,4 "$wals/xlog.db")" $'(^|\n)00000002.history\tgzip(\n|$)' \
    "xlog.db lists 00000002.history (gzip)"
"$CELLAR" -c "$conf" get-wal tl 00000002.history >"$T/got"
ok "get-wal returns it identical to the promoted cluster's pg_wal/00000002.history" \
    cmp "$sb/pg_wal/00000002.history" "$T/got"
like "$(cat "$T/got")" $'^1\t[0-9A-F]+/[0-9A-F]+\tno recovery target specified' \
    "it says timeline 2 branched from timeline 1"

# --- the .partial of timeline 1 ------------------------------------------------------------
partial=$(cd "$copy" && ls -- *.partial 2>/dev/null)
like "$partial" '^00000001[0-9A-F]{16}\.partial$' "PostgreSQL shipped one .partial of timeline 1"
seg=${partial%.partial}
ok "it is archived with its suffix in the timeline 1 hash directory" \
    test -f "$wals/${seg:0:16}/$partial"
like "$(cut -f1 "$wals/xlog.db")" $'(^|\n)'"$partial"$'(\n|$)' "xlog.db lists it with its suffix"
ok "get-wal NAME.partial returns it identical" archived_same "$partial"
"$CELLAR" -c "$conf" get-wal tl "$seg" >/dev/null 2>&1
is "$?" 1 "the segment itself is not in the archive (get-wal exits 1)"
"$CELLAR" -c "$conf" get-wal --partial tl "$seg" >"$T/got"
ok "get-wal --partial SEGMENT returns the .partial" cmp "$copy/$partial" "$T/got"

# --- timeline 2 segments and the whole archive ---------------------------------------------
mapfile -t tl2 < <(find "$copy" -name '00000002????????????????' -printf '%f\n')
ok "timeline 2 segments were shipped (${#tl2[@]})" test "${#tl2[@]}" -ge 3
bad=""
for f in "$copy"/*; do
    archived_same "$(basename "$f")" >/dev/null 2>&1 || bad+=" $(basename "$f")"
done
is "$bad" "" "every file PostgreSQL shipped (both timelines) comes back identical from get-wal"
diff <(ls "$copy" | LC_ALL=C sort) <(cut -f1 "$wals/xlog.db") >&2
ok "xlog.db lists exactly what PostgreSQL shipped, in order" test $? = 0
"$CELLAR" -c "$conf" rebuild-xlogdb tl >"$T/out" 2>&1
like "$(cat "$T/out")" "history: 1, backup_labels: 1, wal_file: [0-9]+, partial: 1\)" \
    "rebuild-xlogdb counts one history file, one partial, the base backup's label"

# --- recovery from the archive alone follows the new timeline -------------------------------
ok "the promoted cluster stops" pg_stop standby
# restore_command runs as postgres, which must read the archive (Barman's
# barman-wal-restore would fetch it over ssh as the archive's owner)
chown -R postgres: "$home"
rs=$T/restore
rm -f "$rs/standby.signal"
touch "$rs/recovery.signal"
cat >>"$rs/postgresql.auto.conf" <<EOF
primary_conninfo = ''
archive_mode = off
restore_command = '$CELLAR -c $conf get-wal tl %f > %p'
recovery_target_timeline = 'latest'
EOF
chown -R postgres: "$rs"
ok "a copy of the base backup recovers with restore_command = cellar get-wal" \
    pg_start_datadir restore "$rs"
done_recovering() {
    [ "$(pg_sql restore "SELECT pg_is_in_recovery()")" = f ]
}
ok "recovery ends (the end of the archive)" wait_for 60 done_recovering
is "$(pg_sql restore "SELECT count(*) FROM t WHERE v = 'timeline 2'")" 30000 \
    "it followed 00000002.history onto timeline 2 and replayed its rows"
# (the primary switched out and archived its last segment when it stopped)
is "$(pg_sql restore "SELECT count(*) FROM t WHERE v = 'last on timeline 1'")" 100 \
    "and the rows written last on timeline 1"
