#!/bin/bash
# tests/integration/t_recover_refusals.sh - what `cellar recover` refuses (TAP).
#
# One cluster with a tablespace, one backup, a few segments of WAL after
# it. A time, an xid and an LSN are recorded before the backup. Each refusal
# must exit with the right status (2: a bad or impossible target; 1: missing
# WAL, a destination that is not empty), say what is wrong, and write
# nothing: DEST stays absent (or exactly as it was), and so does the
# --tablespace directory. Refused: a target time before the backup's end,
# an xid older than the backup's start, an LSN before its end_xlog (before
# the backup and inside it), an LSN or a time beyond the archived WAL, an
# LSN that is not one; a destination that is not empty (also with
# --force), a tablespace location that is not empty (the live server's,
# or the --tablespace directory); a gap in the archive between the backup and the end of the WAL
# (a segment and its xlog.db line removed), with and without a target after
# the gap. --force skips the target check, not the destination check.
#
# --dry-run (with a configuration whose pre_recovery_script leaves a mark,
# and a segment waiting in incoming/): on a good request it exits 0, writes
# nothing, runs no hook, leaves incoming/ alone, and its JSON plan names the
# backup auto picked and why, the sizes (data = backup.info's size, WAL =
# whole segments, needed = their sum, free space known) and the relocated
# tablespace; its text form ends "Nothing was written (--dry-run)."; it
# refuses a bad target and a destination that is not empty as the real run
# does. The real recovery with --force and the same configuration does run
# the hook. A recovery into a 1 MiB tmpfs is refused for want of free space,
# naming both figures, and writes nothing there; --force skips that check.
# Run: tests/run.sh tests/integration/t_recover_refusals.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 84

home=$T/home
conf=$T/cellar.conf
tbs=$T/tbs1
mkdir -p "$home/main/incoming" "$tbs"
chown -R postgres: "$home" "$tbs"
write_conf() {
    backup_conf "$conf" cellar "$home" "${PG_MAIN_PORT:-1}" "refused recoveries" \
        'backup_method = local-rsync' 'immediate_checkpoint = true'
}
write_conf
export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf
pg_sql main "CREATE TABLESPACE tbs1 LOCATION '$tbs'" >/dev/null || tap_bail "no tablespace"
pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text) TABLESPACE tbs1" >/dev/null || tap_bail "no table"

# before the backup: a time, an xid, an LSN
X_OLD=$(pg_sql main "INSERT INTO t (tag) VALUES ('old') RETURNING txid_current()")
T_OLD=$(utc_now main)
L_OLD=$(pg_sql main "SELECT pg_current_wal_insert_lsn()")
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "the backup failed"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
for tag in a b c; do
    add_row main "$tag"
    L_LAST=$(pg_sql main "SELECT pg_current_wal_insert_lsn()") # in the segment archive_now ships
    archive_now main main || tap_bail "WAL not archived"
done
begin_xlog=$(backup_info "$conf" main "$id" begin_xlog)
diag "backup $id (begins at $begin_xlog); before it: T=$T_OLD X=$X_OLD L=$L_OLD; last row at $L_LAST"

nt=$T/nt # the --tablespace directory of every attempt: must never appear
# refused NAME RC REGEX DEST ARG... - recover ARG... into DEST must exit RC with
# output matching REGEX (case-insensitive), leaving DEST and $nt absent
refused() {
    local name=$1 rc=$2 re=$3 dest=$4
    shift 4
    rec_run --tablespace "tbs1:$nt" "$@" main "$id" "$dest"
    is "$REC_RC" "$rc" "$name: exit status $rc"
    like "${REC_OUT,,}" "$re" "$name: the message says why"
    ok "$name: nothing written" test ! -e "$dest" -a ! -e "$nt"
}

refused "target time before the backup's end" 2 "target.time.*before" \
    "$T/d_time" --target-time "$T_OLD"
refused "target xid older than the backup's start" 2 "xid.*(before|older)" \
    "$T/d_xid" --target-xid "$X_OLD"
refused "target LSN before the backup's start" 2 "lsn.*before" \
    "$T/d_lsn" --target-lsn "$L_OLD"
refused "target LSN inside the backup (its begin_xlog, before end_xlog)" 2 "lsn.*before" \
    "$T/d_lsn2" --target-lsn "$begin_xlog"
refused "target LSN beyond the archived WAL" 2 "lsn.*(beyond|archive)" \
    "$T/d_far" --target-lsn FF/0
refused "target time after the archived WAL" 2 "target.time.*(after|beyond)" \
    "$T/d_late" --target-time "2099-01-01 00:00:00+00:00"
refused "a target LSN that is not one" 2 "invalid" \
    "$T/d_bad" --target-lsn not-an-lsn
# auto with a target XID reads the backups' NextXID: none started before X_OLD
rec_run --target-xid "$X_OLD" main auto "$T/d_xid_auto"
is "$REC_RC" 1 "auto for a target xid older than every backup: exit status 1"
like "$REC_OUT" "transaction $X_OLD was assigned before the oldest DONE backup of server main" \
    "auto for that xid: the message names the transaction and the oldest backup"
ok "auto for that xid: nothing written" test ! -e "$T/d_xid_auto"

# a destination that is not empty; the target time refused above, with --force
d=$T/d_full
mkdir "$d"
echo precious >"$d/keep"
rec_run main "$id" "$d"
is "$REC_RC" 1 "a destination that is not empty: exit status 1"
like "$REC_OUT" "not empty" "the message says it is not empty"
is "$(ls -A "$d")/$(cat "$d/keep")" "keep/precious" "the destination is untouched"
rec_run --force main "$id" "$d"
is "$REC_RC" 1 "--force does not skip the destination check: exit status 1"
is "$(ls -A "$d")/$(cat "$d/keep")" "keep/precious" "the destination is untouched"

# a tablespace location that is not empty: the live server's own, or a relocation
rec_run main "$id" "$T/d_live"
is "$REC_RC" 1 "the tablespace's original location is the live server's: exit status 1"
like "$REC_OUT" "$tbs.*not empty|not empty.*$tbs" "the message names it as not empty"
ok "nothing written" test ! -e "$T/d_live"
mkdir "$T/full_tbs"
echo precious >"$T/full_tbs/keep"
rec_run --tablespace "tbs1:$T/full_tbs" main "$id" "$T/d_tbs"
is "$REC_RC" 1 "a --tablespace directory that is not empty: exit status 1"
is "$(ls -A "$T/full_tbs")/$(cat "$T/full_tbs/keep")" "keep/precious" "it is untouched"
ok "nothing written" test ! -e "$T/d_tbs"

# ---- a destination inside barman_home ---------------------------------------------------------
refused "DEST inside barman_home (the catalogue)" 2 "inside barman_home" "$home/main/base/restored"
refused "DEST reaching barman_home through .." 2 "inside barman_home" "$T/nt2/../home/restored"

# ---- --dry-run ----------------------------------------------------------------------------------
hookconf=$T/cellar-hook.conf # [main] is the last section: the hook goes there
{ cat "$conf"; printf 'pre_recovery_script = touch %s/hook_ran\n' "$T"; } >"$hookconf"
add_row main d
pg_sql main "SELECT pg_switch_wal()" >/dev/null
incoming_waits() { compgen -G "$home/main/incoming/0*" >/dev/null; }
wait_for 60 incoming_waits || tap_bail "no segment arrived in incoming/"
incoming=$(ls "$home/main/incoming")
"$CELLAR" -c "$hookconf" -f json recover --dry-run --tablespace "tbs1:$nt" main auto "$T/d_plan" \
    </dev/null >"$T/plan.json" 2>&1
is "$?" 0 "--dry-run of a good recovery: exit status 0"
diag "$(cat "$T/plan.json")"
ok "--dry-run wrote nothing: DEST and the --tablespace directory are absent" \
    test ! -e "$T/d_plan" -a ! -e "$nt"
ok "--dry-run ran no hook" test ! -e "$T/hook_ran"
is "$(ls "$home/main/incoming")" "$incoming" "--dry-run left incoming/ alone ($incoming)"
like "$(cat "$T/plan.json")" "incoming/ alone: the recovery archives the 1 file waiting" "and says so"
is "$(plan_field "$T/plan.json" 'd["backup_id"]')" "\"$id\"" "the plan names the backup"
like "$(plan_field "$T/plan.json" 'd["backup_reason"]')" '^"the newest DONE backup \(no target' \
    "and why auto picked it"
is "$(plan_field "$T/plan.json" 'd["data_bytes"]')" "$(backup_info "$conf" main "$id" size)" \
    "data_bytes is the backup's size"
is "$(plan_field "$T/plan.json" 'd["wal_files"] > 0 and d["wal_bytes"] == d["wal_files"] * 16777216')" \
    true "wal_bytes counts whole segments, wal_files of them"
is "$(plan_field "$T/plan.json" 'd["needed_bytes"] == d["data_bytes"] + d["wal_bytes"]')" true \
    "needed_bytes is data plus WAL"
is "$(plan_field "$T/plan.json" 'type(d["free_bytes"]).__name__')" '"int"' "free_bytes is known"
is "$(plan_field "$T/plan.json" '[(t["name"], t["location"]) for t in d["tablespaces"]]')" \
    "[[\"tbs1\", \"$nt\"]]" "the tablespace goes to its relocation"
is "$(plan_field "$T/plan.json" '[d["target"], d["get_wal"], d["remote"]]')" "[null, false, null]" \
    "no target, WAL copied, local"

rec_run --dry-run --tablespace "tbs1:$nt" --target-lsn "$L_LAST" main "$id" "$T/d_plan"
is "$REC_RC" 0 "--dry-run in text: exit status 0"
is "$(tail -n 1 <<<"$REC_OUT")" "Nothing was written (--dry-run)." \
    "the text plan ends saying nothing was written"
like "$REC_OUT" "Target +: --target-lsn $L_LAST" "it names the target"
ok "nothing written" test ! -e "$T/d_plan" -a ! -e "$nt"
refused "--dry-run: target time before the backup's end" 2 "target.time.*before" \
    "$T/d_plan" --dry-run --target-time "$T_OLD"
d=$T/d_full
rec_run --dry-run --tablespace "tbs1:$nt" main "$id" "$d"
is "$REC_RC" 1 "--dry-run into a destination that is not empty: exit status 1, as the real run"
like "$REC_OUT" "destination $d is not empty" "the message says so"
is "$(ls -A "$d")/$(cat "$d/keep")" "keep/precious" "the destination is untouched"

# ---- free space ---------------------------------------------------------------------------------
small=$T/small
mkdir "$small"
if mount -t tmpfs -o size=1m cellar-test "$small"; then
    harness_at_exit umount "$small"
    rec_run --tablespace "tbs1:$small/tbs" main "$id" "$small/dest"
    is "$REC_RC" 1 "a recovery into a 1 MiB tmpfs: exit status 1"
    like "$REC_OUT" "not enough free space for $small/dest: 1\.0 MiB free, the recovery needs [0-9.]+ MiB \(backup $id: [0-9.]+ MiB, WAL: [0-9.]+ MiB\)" \
        "the message gives both figures"
    like "$REC_OUT" "HINT: Free space .*--force skips this check" "the hint says what to do"
    is "$(ls -A "$small")" "" "nothing was written there"
    rec_run --force --dry-run --tablespace "tbs1:$small/tbs" main "$id" "$small/dest"
    is "$REC_RC" 0 "--force skips the free space check (--dry-run --force: exit status 0)"
    like "$REC_OUT" "--force: the recovery goes on into $small/dest with 1\.0 MiB free" \
        "and warns instead"
else
    for t in "exit status 1" "both figures" "the hint" "nothing written" "--force" "its warning"; do
        skip "free space in a 1 MiB tmpfs: $t" "cannot mount a tmpfs here"
    done
fi

d=$T/d_empty
mkdir "$d"
rec_run --tablespace "tbs1:$nt" --target-time "$T_OLD" main "$id" "$d"
is "$REC_RC" 2 "an empty destination and a target time before the end: exit status 2"
is "$(ls -A "$d")" "" "the empty destination stays empty"
conf=$hookconf rec_run --force --tablespace "tbs1:$nt" --target-time "$T_OLD" main "$id" "$d"
is "$REC_RC" 0 "--force skips the target check"
ok "and recovers" test -f "$d/PG_VERSION"
ok "the real recovery ran the pre_recovery_script that --dry-run did not" test -e "$T/hook_ran"
rm -rf "$d" "$nt"

# ---- a gap in the archive ---------------------------------------------------------------------
wals=$home/main/wals
end_wal=$(backup_info "$conf" main "$id" end_wal)
gap=$(next_seg "$end_wal")
after=$(next_seg "$gap")
ok "the archive has $gap and a segment after it ($after)" \
    test -f "$wals/${gap:0:16}/$gap" -a -f "$wals/${after:0:16}/$after"
mv "$wals/${gap:0:16}/$gap" "$T/$gap"
cp "$wals/xlog.db" "$T/xlog.db.orig"
grep -v "^$gap"$'\t' "$T/xlog.db.orig" >"$wals/xlog.db"
refused "a segment missing from the archive (no target)" 1 "${gap,,}" "$T/d_gap"
refused "a segment missing before the target" 1 "${gap,,}" "$T/d_gap2" --target-lsn "$L_LAST"
# put it back: the same recovery now works
mv "$T/$gap" "$wals/${gap:0:16}/$gap"
cp "$T/xlog.db.orig" "$wals/xlog.db"
rec_run --tablespace "tbs1:$nt" main "$id" "$T/d_ok"
is "$REC_RC" 0 "with the segment back, the same recovery succeeds"
ok "it wrote the segment into DEST/pg_wal" test -f "$T/d_ok/pg_wal/$gap"
