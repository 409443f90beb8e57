#!/bin/bash
# tests/integration/t_backup_barman_compat.sh - Barman 3 reads cellar's backups (TAP).
#
# cellar takes a backup (with a tablespace); Barman 3.4 from Debian, pointed
# at the same configuration and home, lists it, shows it and recovers it;
# the recovered cluster (tablespace relocated by Barman) starts and holds
# the data. cellar's backup.info has only keys Barman knows, or Barman
# would refuse the catalogue.
# Run: tests/run.sh tests/integration/t_backup_barman_compat.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
harness_init || exit 1
tap_plan 10

command -v barman >/dev/null || tap_bail "barman is not installed (make deps)"
home=$T/home
conf=$T/cellar.conf
tbs=$T/tbs1
mkdir -p "$home/main/incoming" "$tbs"
chown -R postgres: "$home" "$tbs"
write_conf() {
    backup_conf "$conf" barman "$home" "${PG_MAIN_PORT:-1}" "cellar backups, read by barman" \
        'backup_method = local-rsync' 'archiver = on' 'compression = gzip' \
        'immediate_checkpoint = true'
}
write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
pg_sql main "CREATE TABLESPACE tbs1 LOCATION '$tbs'" >/dev/null || tap_bail "no tablespace"
pg_sql main "CREATE TABLE far (i int, v text) TABLESPACE tbs1;
             INSERT INTO far SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
             CREATE TABLE near AS SELECT generate_series(1, 700) AS i" >/dev/null || tap_bail "no data"

ok "cellar backup" "$CELLAR" -c "$conf" backup --wait main
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
bm() { barman -c "$conf" "$@"; }
like "$(bm list-backup main 2>/dev/null)" "^main $id - .* - Size: .* - WAL Size: .* \(tablespaces: tbs1:$tbs\)" \
    "barman list-backup lists it"
out=$(bm show-backup main "$id" 2>&1)
like "$out" "Status +: DONE" "barman show-backup: DONE"
like "$out" "tbs1 +: $tbs \(oid: [0-9]+\)" "barman show-backup: the tablespace"
like "$out" "Begin WAL +: $(backup_info "$conf" main "$id" begin_wal)" "barman show-backup: begin WAL"
unlike "$out" "[Ee]rror|Traceback" "barman show-backup: no error"

mkdir -p "$T/rec" "$T/rectbs"
ok "barman recover (tablespace relocated)" bm recover --tablespace "tbs1:$T/rectbs" main "$id" "$T/rec/data"
printf 'archive_mode = off\n' >>"$T/rec/data/postgresql.conf"
ok "the recovered cluster starts" pg_start_datadir rec "$T/rec/data"
is "$(pg_sql rec "SELECT (SELECT count(*) FROM far), (SELECT count(*) FROM near)")" "5000|700" \
    "it holds the data, the tablespace's included"
like "$(pg_sql rec "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'tbs1'")" \
    "^$T/rectbs\$" "the tablespace is where Barman put it"
