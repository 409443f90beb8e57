#!/bin/bash
# tests/integration/t_recover_target_boundary.sh - a restore point whose WAL
# record starts in one segment and ends in the next (TAP).
#
# A PostgreSQL 15 cluster (main) archives through `cellar put-wal`. After
# backup 1 and row a, non-transactional logical messages
# (pg_logical_emit_message) fill segment N until the next record starts 48
# bytes before N's end; pg_create_restore_point('edgeK') then writes its
# 98-byte record across the boundary (24-byte header and 24 bytes of data in
# N, the rest of the name in N+1). The placement is computed inside the
# server from pg_current_wal_insert_lsn(), and checked afterwards from the
# LSN the restore point returns; should another backend have written WAL in
# between, it is done again with the next name (edge1, edge2, ...), and the
# test uses the one that straddles.
#
# N is archived alone (archive-wal as soon as PostgreSQL has handed it over):
# the index keeps its cut record as a #T line and lists no point yet. N+1,
# archived in the next batch with row b, completes it from that tail: the
# index lists the restore point under N+1, at its LSN in N. recover
# --target-name accepts it and the copy holds p0 a. Built on first need
# (no index; then an index without N's lines, so that N is read after N+1,
# which is read again), and by rebuild-xlogdb, the index holds it too.
# Needs root (the clusters run as postgres). Run: tests/run.sh tests/integration/t_recover_target_boundary.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 16

rec_cluster "restore point at a segment boundary" 1 '[other]' \
    'description = "a second server, never reached"' 'conninfo = host=127.0.0.1 port=1'
add_row main p0
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "backup 1 failed"
id1=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
add_row main a
idx=$home/main/wals/xlog.db.cellar-targets
data=$(_pg_get main DATA)
lacks() { ! grep -q $'\t'"$1"'$' "$2"; } # lacks NAME FILE: no line of FILE ends in a tab and NAME

# place_rp(held, name): the restore point name, its record starting held
# bytes before the end of a segment; "start end segment" of the record.
pg_sql main "
CREATE FUNCTION place_rp(held int, rp_name text) RETURNS text LANGUAGE plpgsql AS \$f\$
DECLARE
    seg bigint := (SELECT s.setting::bigint FROM pg_settings s WHERE s.name = 'wal_segment_size');
    o int := 55; -- a message record's bytes besides the message: corrected as we go
    p pg_lsn; q pg_lsn; want bigint; len int; e pg_lsn;
BEGIN
    FOR i IN 1..200 LOOP
        p := pg_current_wal_insert_lsn();
        want := seg - (p - '0/0'::pg_lsn)::bigint % seg - held;
        IF want = 0 THEN
            e := pg_create_restore_point(rp_name);
            RETURN p::text || ' ' || e::text || ' ' || pg_walfile_name(p);
        END IF;
        IF want < 300 THEN     -- too close: on to the next segment
            PERFORM pg_logical_emit_message(false, 'x', repeat('x', 8000));
        ELSIF want > 4000 THEN -- far: most of the way (page headers make it rough)
            PERFORM pg_logical_emit_message(false, 'x', repeat('x', least(want - 2000, 4000000)::int));
        ELSE                   -- on the last page: exactly, learning o
            len := want - o;
            PERFORM pg_logical_emit_message(false, 'x', repeat('x', len));
            q := pg_current_wal_insert_lsn();
            o := (q - p)::int - len;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'could not place the restore point';
END \$f\$" >/dev/null || tap_bail "cannot create place_rp"

name=
for k in 1 2 3 4 5; do
    read -r start end seg < <(pg_sql main "SELECT place_rp(48, 'edge$k')") || tap_bail "place_rp failed"
    # it straddles when it starts 48 bytes before the end of its segment and
    # ends (MAXALIGNed 98 bytes) after the next segment's 40-byte header
    straddles=$(pg_sql main "SELECT ('$end'::pg_lsn - '$start'::pg_lsn) = 48 + 40 + 56
        AND pg_walfile_name('$end') <> '$seg'")
    diag "edge$k: $start to $end (segment $seg): straddles=$straddles"
    if [ "$straddles" = t ]; then
        name=edge$k
        break
    fi
done
[ -n "$name" ] || tap_bail "no restore point could be placed across a segment boundary"
pass "restore point $name: its record starts 48 bytes before the end of $seg and ends in the next"
seg2=$(next_seg "$seg")

# N alone: PostgreSQL hands it over as soon as it is full
segment_done() { test -f "$data/pg_wal/archive_status/$seg.done"; }
wait_for 60 segment_done || tap_bail "$seg not archived by PostgreSQL"
"$CELLAR" -c "$conf" archive-wal main >&2
ok "archive-wal of $seg keeps its cut record as a #T line" \
    grep -q $'^#T\t'"$seg"$'\t'"$start"$'\t' "$idx"
ok "and lists no restore point $name yet" lacks "$name" "$idx"
ok "$seg2 is not archived yet" test ! -e "$home/main/wals/${seg2:0:16}/$seg2"

add_row main b
archive_now main main || tap_bail "WAL not archived"
ok "archive-wal of $seg2 (the next batch) completes it: P line under $seg2 at $start" \
    grep -q $'^P\t'"$seg2"$'\t'"$start"$'\t[0-9.]*\t1\t'"$name"'$' "$idx"

d=$T/r_edge
recover_ok "recover --target-name $name (across the boundary) is accepted" --target-name "$name" \
    --target-action promote --tablespace "tbs1:$T/r_edge_tbs" main "$id1" "$d"
like "$REC_OUT" "$name" "the output names the restore point"
ok "the copy starts and ends its recovery at $name" start_rec r_edge "$d" promoted
is "$(rows r_edge)" "p0 a" "it holds the rows committed before $name"
pg_stop r_edge

# built on first need, in WAL order
rm -f "$idx"
rec_run --dry-run --target-name "$name" --tablespace "tbs1:$T/r_no_tbs" main "$id1" "$T/r_no"
is "$REC_RC" 0 "without the index, recover --dry-run --target-name $name finds it"
ok "the index built holds it under $seg2" grep -q $'^P\t'"$seg2"$'\t'"$start"$'\t.*\t'"$name"'$' "$idx"

# N read after N+1: N+1 is read again
# as if N had reached the index after N+1 (Barman archived it): N's lines
# gone, N+1's without the restore point
grep -v -e $'\t'"$seg"$'\t' -e $'\t'"$name"'$' "$idx" >"$T/idx" && cat "$T/idx" >"$idx"
ok "an index without $seg's lines (nor the point under $seg2) no longer holds it" \
    lacks "$name" "$idx"
rec_run --dry-run --target-name "$name" --tablespace "tbs1:$T/r_no_tbs" main "$id1" "$T/r_no"
is "$REC_RC" 0 "reading $seg on first need reads $seg2 again: --target-name $name is found"
ok "the index holds it again" grep -q $'^P\t'"$seg2"$'\t'"$start"$'\t.*\t'"$name"'$' "$idx"

"$CELLAR" -c "$conf" rebuild-xlogdb main >"$T/out" 2>&1
diag "$(cat "$T/out")"
ok "rebuild-xlogdb: the rebuilt index holds it" \
    grep -q $'^P\t'"$seg2"$'\t'"$start"$'\t.*\t'"$name"'$' "$idx"
ok "and keeps $seg's tail" grep -q $'^#T\t'"$seg"$'\t'"$start"$'\t' "$idx"
