#!/bin/bash
# tests/integration/t_xlogdb_styles.sh - the WAL catalogue of each Barman
# release, with a real cluster pushing WAL (TAP).
#
# One PostgreSQL 15 cluster archives every WAL file into three servers of
# one home (archive_command: `cellar put-wal` three times), each backed up
# once by cellar (local-rsync), then made the home of one Barman release as
# that release leaves it (tests/fixtures/README.md says where the formats
# come from):
#   s34   Barman 3.4: wals/xlog.db, 4 fields; left as cellar wrote it.
#   s313  Barman 3.13: xlogdb_directory set in the configuration; cellar's
#         first access moves wals/xlog.db to <xlogdb_directory>/s313-xlog.db
#         and deletes it, as Barman 3.13 would; backup.info gets the keys of
#         tests/fixtures/barman-3.13's (Barman 3.11's).
#   s314  Barman 3.14+: the catalogue rewritten by hand as
#         wals/s314-xlog.db with 5 fields (encryption None), the old one
#         deleted; backup.info gets the keys of tests/fixtures/barman-3.14's.
# On each: list-backup lists the backup; show-backup shows the newer keys;
# check has no failed WAL item and no second catalogue; one more row is
# committed and archived (switch-wal, archive-wal) and the catalogue keeps
# its file and its number of fields, with the new segments in it; with a
# stale wals/xlog.db beside s314's, check says which one is used; recover
# to the end of the WAL gives a cluster that starts with both rows.
# Then Barman 3.4 (Debian's) reads the 3.4 home cellar wrote to:
# list-backup, check's WAL items (wal size is read from xlog.db), get-wal
# byte-identical to cellar's, show-backup.
# Needs root (the clusters run as postgres).
# Run: tests/run.sh tests/integration/t_xlogdb_styles.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 41

fixtures=$HARNESS_TOP/tests/fixtures
home=$T/home
conf=$T/cellar.conf
bconf=$T/barman.conf
xdir=$home/xlogdb
servers="s34 s313 s314"
for s in $servers; do mkdir -p "$home/$s/incoming"; done
chown -R postgres: "$home"

# write_conf [XLOGDB_DIRECTORY] - cellar's configuration (s313's
# xlogdb_directory once it is "upgraded" to Barman 3.13), and Barman 3.4's
# (s34 only: Barman 3.4 knows no xlogdb_directory)
write_conf() {
    local s port=${PG_MAIN_PORT:-1}
    {
        printf '[barman]\nbarman_home = %s\nbarman_user = root\n' "$home"
        printf 'log_file = %s/cellar.log\npath_prefix = %s\n' "$T" "$PG_BINDIR"
        for s in $servers; do
            printf '\n[%s]\ndescription = "%s"\n' "$s" "$s"
            printf 'conninfo = host=127.0.0.1 port=%s user=postgres dbname=postgres\n' "$port"
            printf 'backup_method = local-rsync\nimmediate_checkpoint = true\narchiver = on\n'
            [ "$s" = s313 ] && [ -n "${1:-}" ] && printf 'xlogdb_directory = %s\n' "$1"
        done
    } >"$conf"
    {
        printf '[barman]\nbarman_home = %s\nbarman_user = root\n' "$home"
        printf 'log_file = %s/barman.log\npath_prefix = %s\n' "$T" "$PG_BINDIR"
        printf '\n[s34]\nconninfo = host=127.0.0.1 port=%s user=postgres dbname=postgres\n' "$port"
        printf 'backup_method = local-rsync\nbackup_options = concurrent_backup\narchiver = on\n'
    } >"$bconf"
    chmod 0644 "$conf" "$bconf"
}

write_conf
PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal s34 %p && $CELLAR -c $conf put-wal s313 %p"
PG_ARCHIVE_COMMAND+=" && $CELLAR -c $conf put-wal s314 %p"
export PG_ARCHIVE_COMMAND
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf # now with the cluster's port
pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text)" >/dev/null || tap_bail "no table"
add_row main p0

# archive_all - switch WAL, wait for PostgreSQL to archive it, archive-wal each server
archive_all() {
    local s
    archive_now main s34 || return 1
    for s in s313 s314; do "$CELLAR" -c "$conf" archive-wal "$s" >&2 || return 1; done
}

archive_all || tap_bail "WAL not archived"
declare -A id
for s in $servers; do
    "$CELLAR" -c "$conf" backup --wait "$s" >&2 || tap_bail "backup of $s failed"
    id[$s]=$("$CELLAR" -c "$conf" list-backup --minimal "$s" | head -1)
done
archive_all || tap_bail "WAL not archived"
diag "backups: s34 ${id[s34]}, s313 ${id[s313]}, s314 ${id[s314]}"

# add_keys SERVER FIXTURE_INFO KEY=VALUE... - add to SERVER's backup.info the
# keys of FIXTURE_INFO that it lacks, with the values given (Barman writes
# every key, sorted by name); fails when the keys given are not exactly
# those, so the test follows the fixture
add_keys() {
    local info=$home/$1/base/${id[$1]}/backup.info fixture=$2 missing given
    shift 2
    missing=$(comm -13 <(sed 's/=.*//' "$info" | LC_ALL=C sort) \
        <(sed 's/=.*//' "$fixture" | LC_ALL=C sort) | tr '\n' ' ')
    given=$(printf '%s\n' "$@" | sed 's/=.*//' | LC_ALL=C sort | tr '\n' ' ')
    [ "$missing" = "$given" ] || { diag "fixture keys '$missing', given '$given'"; return 1; }
    { cat "$info"; printf '%s\n' "$@"; } | LC_ALL=C sort >"$info.new" && mv "$info.new" "$info"
}

# fields FILE - the numbers of fields of FILE's lines, each once
fields() {
    awk -F'\t' '{print NF}' "$1" | sort -u | tr '\n' ' '
}

size313=$(backup_info "$conf" s313 "${id[s313]}" size)
size314=$(backup_info "$conf" s314 "${id[s314]}" size)
ok "s313's backup.info gets the keys of the 3.13 fixture" \
    add_keys s313 "$fixtures/barman-3.13/pg/base/20250310T100000/backup.info" \
    children_backup_ids=None "cluster_size=$size313" data_checksums=off parent_backup_id=None \
    summarize_wal=off
ok "s314's backup.info gets the keys of the 3.14 fixture" \
    add_keys s314 "$fixtures/barman-3.14/pg/base/20250601T100000/backup.info" \
    children_backup_ids=None "cluster_size=$size314" data_checksums=off encryption=None \
    parent_backup_id=None summarize_wal=off

# s314: the catalogue as Barman 3.14 leaves it (to_xlogdb_line, 5 fields)
w314=$home/s314/wals
awk -F'\t' 'BEGIN {OFS = "\t"} NF == 4 {print $0, "None"}' "$w314/xlog.db" >"$w314/s314-xlog.db"
rm -f "$w314/xlog.db"
is "$(fields "$w314/s314-xlog.db")" "5 " "s314: its catalogue is wals/s314-xlog.db, 5 fields a line"

# s313: Barman 3.13 configured; cellar's first access moves the catalogue
before313=$(cat "$home/s313/wals/xlog.db")
write_conf "$xdir"
list313=$("$CELLAR" -c "$conf" list-backup s313 2>&1)
like "$list313" "^s313 ${id[s313]} " "s313: list-backup lists the backup"
ok "s313: the old wals/xlog.db is gone (moved, as Barman 3.13 does)" \
    test ! -e "$home/s313/wals/xlog.db"
is "$(cat "$xdir/s313-xlog.db")" "$before313" "s313: $xdir/s313-xlog.db holds its lines"

for s in s34 s314; do
    like "$("$CELLAR" -c "$conf" list-backup "$s" 2>&1)" "^$s ${id[$s]} " "$s: list-backup lists the backup"
done
show=$("$CELLAR" -c "$conf" show-backup s314 latest 2>&1)
like "$show" "Estimated Cluster Size : " "s314: show-backup shows the estimated cluster size"
like "$show" $'Server information:\n    Checksums            : off' "s314: and the checksums"
like "$("$CELLAR" -c "$conf" -f json show-backup s314 latest 2>&1 | result_field show-backup \
    'd["encryption"], d["cluster_size"], d["backup_type"]')" "^\[null, $size314, \"rsync\"\]$" \
    "s314: show-backup's JSON has encryption, cluster_size and backup_type"
unlike "$("$CELLAR" -c "$conf" show-backup s34 latest 2>&1)" "Cluster Size|Server information" \
    "s34: a Barman 3.4 backup.info shows what Barman 3.4 shows"

# check: nothing about the WAL archive fails, one catalogue each
for s in $servers; do
    out=$("$CELLAR" -c "$conf" check "$s" 2>&1)
    diag "$out"
    unlike "$out" "WAL archive: FAILED|WAL catalogue|compression settings: FAILED" \
        "$s: check finds the archive and one catalogue"
done

# archive into each: the catalogue keeps its file and its fields
add_row main a
archive_all || tap_bail "WAL not archived"
last=$(awk -F'\t' 'length($1) == 24 {n = $1} END {print n}' "$xdir/s313-xlog.db")
diag "newest segment: $last"
ok "s34: still wals/xlog.db, no s34-xlog.db" \
    test -f "$home/s34/wals/xlog.db" -a ! -e "$home/s34/wals/s34-xlog.db"
is "$(fields "$home/s34/wals/xlog.db")" "4 " "s34: 4 fields a line"
ok "s313: still $xdir/s313-xlog.db, no wals/xlog.db" \
    test -f "$xdir/s313-xlog.db" -a ! -e "$home/s313/wals/xlog.db" -a ! -e "$home/s313/wals/s313-xlog.db"
is "$(fields "$xdir/s313-xlog.db")" "4 " "s313: 4 fields a line"
ok "s314: still wals/s314-xlog.db, no wals/xlog.db" \
    test -f "$w314/s314-xlog.db" -a ! -e "$w314/xlog.db"
is "$(fields "$w314/s314-xlog.db")" "5 " "s314: 5 fields a line"
for f in "$home/s34/wals/xlog.db" "$w314/s314-xlog.db"; do
    ok "the newest segment $last is in $f" grep -q "^$last"$'\t' "$f"
done

# two catalogues (a Barman 3.4 archiving into s314 again): the new one
# counts, as in Barman 3.13+, and check says so; cellar leaves the old one
head -n 1 "$home/s34/wals/xlog.db" >"$w314/xlog.db"
out=$("$CELLAR" -c "$conf" check s314 2>&1)
like "$out" "WAL catalogue: OK \\(two WAL catalogues: '$w314/s314-xlog.db' is used \\(a 3.14-style home\\) and '$w314/xlog.db' is ignored" \
    "s314 with a wals/xlog.db too: check says which catalogue is used"
is "$(wc -l <"$w314/xlog.db")" 1 "the ignored one is left as it was"
rm -f "$w314/xlog.db"

# recover each to the end of its WAL
n=0
for s in $servers; do
    n=$((n + 1))
    d=$T/r_$s
    recover_ok "$s: recover to the end of the WAL" "$s" "${id[$s]}" "$d"
    ok "$s: the recovered cluster starts and is promoted" start_rec "r$n" "$d" promoted
    is "$(rows "r$n")" "p0 a" "$s: it has both rows"
    pg_stop "r$n" >&2
done

# Barman 3.4 on the 3.4 home cellar wrote to
bm() { barman -c "$bconf" "$@"; }
like "$(bm list-backup s34 2>&1)" "^s34 ${id[s34]} " "barman 3.4 list-backup lists cellar's backup"
bm check s34 >"$T/check.out" 2>&1
diag "$(cat "$T/check.out")"
like "$(cat "$T/check.out")" $'\tarchiver errors: OK' "barman 3.4 check: archiver errors OK"
like "$(cat "$T/check.out")" $'\twal size: OK \\([1-9]' "barman 3.4 check: wal size OK, read from xlog.db"
unlike "$(cat "$T/check.out")" "WAL archive: FAILED|compression settings: FAILED" \
    "barman 3.4 check: WAL archive and compression settings not FAILED"
bm get-wal s34 "$last" >"$T/bm.seg"
is "$?" 0 "barman 3.4 get-wal of the newest segment"
"$CELLAR" -c "$conf" get-wal s34 "$last" >"$T/cel.seg"
ok "byte-identical to cellar's get-wal" cmp "$T/bm.seg" "$T/cel.seg"
ok "barman 3.4 show-backup reads the home" bm show-backup s34 "${id[s34]}"
