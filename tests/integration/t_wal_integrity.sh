#!/bin/bash
# tests/integration/t_wal_integrity.sh - the WAL archive never hands out,
# records or loses what it cannot vouch for (TAP).
#
# Real WAL segments from a PostgreSQL 15 cluster; cellar runs as the barman
# OS user with two servers:
#   a. a server archived with compression = custom (xz filters and magic)
#      whose filters are then removed from the configuration: get-wal
#      refuses (non-zero, nothing written), check fails with the fix,
#      rebuild-xlogdb does not record the files as uncompressed; with the
#      decompression filter back, get-wal returns the segments again;
#   b. an xlog.db whose last line a killed writer cut short (in its fields,
#      in its name): archive-wal repairs it (the damaged file kept, the
#      segment it named catalogued again) and archives on; check reports it;
#   c. worse damage (a blank line): archive-wal fails naming file and line
#      and rebuild-xlogdb, loses nothing, check reports it with that fix;
#   d. with compression none the segment is moved into the archive (the
#      same inode), not copied, unless it belongs to another user or has
#      another name outside incoming/ (a hard link);
#   e. `backup` (root, local-rsync) exits non-zero when its own archiving
#      step fails, and keeps the backup.
# Run: tests/run.sh tests/integration/t_wal_integrity.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
harness_init || exit 1
tap_plan 53

ref=$T/ref
home=$T/home
conf=$T/cellar.conf
mkdir -p "$ref" "$home"
chown barman: "$home"

# --- the reference: real WAL from a real cluster ---------------------------------
pg_start src || tap_bail "cannot start PostgreSQL"
pg_sql src "CREATE TABLE t (id int, v text)" >/dev/null || tap_bail "cannot create a table"
for ((i = 0; i < 10; i++)); do
    pg_sql src "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 2000) g;
                SELECT pg_switch_wal();" >/dev/null || tap_bail "cannot write WAL"
done
src_archived() { ! compgen -G "$PG_SRC_DATA/pg_wal/archive_status/*.ready" >/dev/null; }
wait_for 60 src_archived || tap_bail "PostgreSQL did not archive its WAL"
cp "$PG_SRC_ARCHIVE"/0*[0-9A-F] "$ref/" || tap_bail "cannot copy the reference WAL"
pg_stop src
mapfile -t REF < <(ls "$ref" | grep -E '^[0-9A-F]{24}$')
[ "${#REF[@]}" -ge 9 ] || tap_bail "only ${#REF[@]} reference segments"
chmod -R a+rX "$ref"

# write_conf CUSTOM_LINE... - two servers: plain (compression none) and cust
# (its compression lines given)
write_conf() {
    {
        printf '[barman]\nbarman_home = %s\nbarman_user = barman\nlog_file = %s/cellar.log\n' \
            "$home" "$home"
        printf '\n[plain]\ndescription = "no compression"\n'
        printf 'conninfo = host=127.0.0.1 dbname=postgres\ncompression = none\n'
        printf '\n[cust]\ndescription = "custom compression"\n'
        printf 'conninfo = host=127.0.0.1 dbname=postgres\n'
        printf '%s\n' "$@"
    } >"$conf"
    chmod 0644 "$conf"
}
CUSTOM=('compression = custom' 'custom_compression_filter = xz -c'
    'custom_decompression_filter = xz -dc' 'custom_compression_magic = 0xfd377a585a00')
write_conf "${CUSTOM[@]}"
# as_barman ARG... - cellar as the barman OS user
as_barman() {
    runuser -u barman -- "$CELLAR" -c "$conf" "$@"
}
# put SERVER NAME... - reference segments into SERVER's incoming/, as PostgreSQL would
put() {
    local s=$1 n
    shift
    for n in "$@"; do
        runuser -u barman -- cp "$ref/$n" "$home/$s/incoming/$n" || return 1
    done
}
# xlogdb_matches SERVER - xlog.db names exactly the files of wals/, with their sizes
xlogdb_matches() {
    local w=$home/$1/wals
    diff <(awk '{print $1, $2}' "$w/xlog.db" | sort) \
        <(find "$w" -mindepth 2 -type f ! -name '.*' -printf '%f %s\n' | sort) >&2
}
# get_identical SERVER NAME... - get-wal returns each NAME as in ref/
get_identical() {
    local s=$1 n
    shift
    for n in "$@"; do
        as_barman get-wal "$s" "$n" >"$T/got" 2>"$T/got.err" || { diag "$(cat "$T/got.err")"; return 1; }
        cmp -s "$ref/$n" "$T/got" || { diag "get-wal $s $n differs"; return 1; }
    done
}
as_barman check plain >/dev/null 2>&1 # creates the directories, as barman
runuser -u barman -- mkdir -p "$home/plain/incoming" "$home/cust/incoming"

# --- a. custom compression whose filters were removed --------------------------------
s0=${REF[0]} s1=${REF[1]}
put cust "$s0" "$s1"
as_barman archive-wal cust >"$T/out" 2>&1
is "$?" 0 "archive-wal with compression = custom (xz)"
is "$(cut -f4 "$home/cust/wals/xlog.db" | sort -u)" custom "xlog.db records them as custom"
ok "get-wal returns them through the filter" get_identical cust "$s0" "$s1"

write_conf 'compression = none' # the filters and the magic are gone
as_barman get-wal cust "$s0" >"$T/got" 2>"$T/got.err"
is "$?" 2 "without custom_decompression_filter, get-wal refuses (exit 2, a configuration error)"
is "$(stat -c %s "$T/got")" 0 "and writes nothing to standard output"
like "$(cat "$T/got.err")" "cannot read $s0 .*custom_decompression_filter is not set" \
    "and says why"
mkdir -p "$T/dest" && chown barman: "$T/dest"
as_barman get-wal -o "$T/dest" cust "$s0" >/dev/null 2>&1
ok "get-wal --output-directory refuses too" test "$?" != 0
is "$(ls -A "$T/dest")" "" "and leaves nothing in the directory"
as_barman check cust >"$T/check.out" 2>&1
ok "check fails" test "$?" != 0
like "$(cat "$T/check.out")" \
    $'compression settings: FAILED \\(2 archived WAL files are custom-compressed \\('"$s0"', \.\.\.\) and no custom_decompression_filter is set' \
    "check: the archive holds custom-compressed files and no decompression filter is set"
like "$(cat "$T/check.out")" "fix: set custom_decompression_filter .* for server cust" \
    "check gives the fix"
as_barman rebuild-xlogdb cust >"$T/out" 2>&1
is "$?" 0 "rebuild-xlogdb runs"
is "$(cut -f4 "$home/cust/wals/xlog.db" | sort -u)" custom \
    "rebuild-xlogdb keeps them custom (the old xlog.db's record)"
rm "$home/cust/wals/xlog.db"
as_barman rebuild-xlogdb cust >"$T/out" 2>&1
is "$(cut -f4 "$home/cust/wals/xlog.db" | sort -u)" custom \
    "without an old xlog.db, files that are neither plain WAL nor of a known magic are recorded custom"
like "$(cat "$T/out")" "$s0' is not a plain WAL file and starts with no known compression magic: recorded as custom" \
    "and rebuild-xlogdb names them"
write_conf 'compression = none' 'custom_decompression_filter = xz -dc'
ok "with custom_decompression_filter back, get-wal returns them identical" get_identical cust "$s0" "$s1"
as_barman check cust >"$T/check.out" 2>&1
unlike "$(cat "$T/check.out")" "compression settings: FAILED" "and check's compression settings pass"
write_conf "${CUSTOM[@]}"

# --- b. a last xlog.db line cut short by a killed writer ---------------------------------
pw=$home/plain/wals
put plain "${REF[@]:0:3}"
as_barman archive-wal plain >"$T/out" 2>&1
is "$?" 0 "archive-wal plain: three segments"
# what a writer killed in its append leaves: the last line without its end
head -c -30 "$pw/xlog.db" >"$T/cut" && cat "$T/cut" >"$pw/xlog.db"
cp "$pw/xlog.db" "$T/damaged"
# a reader repairs it: list-backup (any command that reads xlog.db) goes on
as_barman list-backup plain >"$T/out" 2>&1
is "$?" 0 "list-backup reads past a cut last line: it repairs it"
like "$(cat "$T/out")" "xlog.db' line 3 was cut short .* repaired.* 1 archived file named '${REF[2]}' catalogued again" \
    "and warns, naming the line and the segment catalogued again"
ok "xlog.db lists the three segments again" xlogdb_matches plain
as_barman check plain >"$T/check.out" 2>&1
unlike "$(cat "$T/check.out")" "WAL archive: FAILED" "check then finds the archive sound"
# cut again: the archiver repairs it as well, and archives on
head -c -30 "$pw/xlog.db" >"$T/cut" && cat "$T/cut" >"$pw/xlog.db"
put plain "${REF[3]}"
as_barman archive-wal plain >"$T/out" 2>&1
is "$?" 0 "archive-wal repairs it and archives on"
like "$(cat "$T/out")" "xlog.db' line 3 was cut short .* repaired" "and warns"
ok "xlog.db lists the four segments with their sizes" xlogdb_matches plain
is "$(cut -f1 "$pw/xlog.db" | sort | uniq -d)" "" "no segment twice"
copies=("$pw"/xlog.db.damaged-*)
is "${#copies[@]}" 2 "each damaged file is kept (two repairs, even within one second)"
ok "the first one as it was" cmp "$T/damaged" "$(ls -tr "$pw"/xlog.db.damaged-* | head -1)"
is "$(stat -c '%U %a' "${copies[0]}")" "barman 600" "owned by barman, mode 0600"
# cut inside the name: the file it named is found by what is left of it
sed -i '$d' "$pw/xlog.db" && printf '%s' "${REF[3]:0:20}" >>"$pw/xlog.db"
as_barman archive-wal plain >"$T/out" 2>&1
is "$?" 0 "a line cut inside its name: archive-wal repairs it"
ok "the segment is catalogued again" xlogdb_matches plain
ok "get-wal returns the four segments" get_identical plain "${REF[@]:0:4}"

# --- c. worse damage ---------------------------------------------------------------------
sed -i '2i\\' "$pw/xlog.db" # a blank line
put plain "${REF[4]}"
as_barman archive-wal plain >"$T/out" 2>&1
ok "a blank line in xlog.db: archive-wal fails" test "$?" != 0
like "$(cat "$T/out")" "$pw/xlog.db:2: expected 'name size time \[compression \[encryption\]\]'" \
    "naming the file and the line"
like "$(cat "$T/out")" "rebuild-xlogdb plain" "and saying to run rebuild-xlogdb"
ok "the segment waits in incoming/" cmp "$ref/${REF[4]}" "$home/plain/incoming/${REF[4]}"
as_barman check plain >"$T/check.out" 2>&1
like "$(cat "$T/check.out")" "WAL archive: FAILED \\($pw/xlog.db:2: expected" "check reports it"
like "$(cat "$T/check.out")" "fix: run 'cellar rebuild-xlogdb plain'" "with rebuild-xlogdb as the fix"
as_barman rebuild-xlogdb plain >/dev/null 2>&1
as_barman archive-wal plain >"$T/out" 2>&1
is "$?" 0 "after rebuild-xlogdb, archive-wal archives the waiting segment"
ok "xlog.db lists the five segments" xlogdb_matches plain

# --- d. compression none: moved, not copied ----------------------------------------------
put plain "${REF[5]}"
inode=$(stat -c %i "$home/plain/incoming/${REF[5]}")
as_barman archive-wal plain >"$T/out" 2>&1
is "$?" 0 "archive-wal plain: one more segment"
is "$(stat -c '%i %h %U %a' "$pw/${REF[5]:0:16}/${REF[5]}")" "$inode 1 barman 600" \
    "the archived file is the incoming file itself (same inode, no other name), mode 0600"
ok "get-wal returns it identical" get_identical plain "${REF[5]}"
# a file of another user (root here) is copied: the archive holds barman's files only
cp "$ref/${REF[6]}" "$home/plain/incoming/${REF[6]}" && chmod 0644 "$home/plain/incoming/${REF[6]}"
inode=$(stat -c %i "$home/plain/incoming/${REF[6]}")
as_barman archive-wal plain >"$T/out" 2>&1
is "$?" 0 "archive-wal plain: a segment that belongs to root"
f=$pw/${REF[6]:0:16}/${REF[6]}
is "$([ "$(stat -c %i "$f")" != "$inode" ] && echo copied) $(stat -c '%U %a' "$f")" "copied barman 600" \
    "is copied into a file of barman's, mode 0600"
# a file that has another name outside incoming/ (archive_command = 'ln %p
# ...', or barman_user running PostgreSQL) is copied: linked, the archive
# would share it with a file PostgreSQL recycles and overwrites in place
mkdir -p "$T/outside" && chown barman: "$T/outside"
runuser -u barman -- cp "$ref/${REF[7]}" "$T/outside/${REF[7]}"
runuser -u barman -- ln "$T/outside/${REF[7]}" "$home/plain/incoming/${REF[7]}"
as_barman archive-wal plain >"$T/out" 2>&1
is "$?" 0 "archive-wal plain: a segment with a second name outside incoming/"
f=$pw/${REF[7]:0:16}/${REF[7]}
is "$(stat -c %h "$f") $(stat -c %h "$T/outside/${REF[7]}")" "1 1" \
    "is copied: the archived file shares its bytes with no file outside the archive"
# what a run killed after link_plain leaves: the temporary, a second name of
# the incoming file; the next run takes it from there (it refused the file
# as "compressed into itself", run after run, with WAL piling up)
put plain "${REF[8]}"
stale=$pw/${REF[8]:0:16}/.${REF[8]}.cellar-tmp
runuser -u barman -- ln "$home/plain/incoming/${REF[8]}" "$stale" || diag "cannot make the stale link"
as_barman archive-wal plain >"$T/out" 2>&1
rc_stale=$?
is "$rc_stale" 0 "archive-wal plain: a segment whose temporary a killed run left as its link"
ok "it is archived, and the stale temporary is gone" \
    bash -c "test -f '$pw/${REF[8]:0:16}/${REF[8]}' && test ! -e '$stale'"

# --- e. backup: its archiving step fails ------------------------------------------------
bhome=$T/bhome
bconf=$T/backup.conf
mkdir -p "$bhome/main/incoming"
chown -R postgres: "$bhome"
backup_conf "$bconf" cellar "$bhome" 1 "backup" 'backup_method = local-rsync' \
    'immediate_checkpoint = true'
export PG_ARCHIVE_COMMAND="$CELLAR -c $bconf put-wal main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
backup_conf "$bconf" cellar "$bhome" "$PG_MAIN_PORT" "backup" 'backup_method = local-rsync' \
    'immediate_checkpoint = true'
"$CELLAR" -c "$bconf" switch-wal --force --archive main >"$T/out" 2>&1 || diag "$(cat "$T/out")"
printf '\n' >>"$bhome/main/wals/xlog.db" # a blank last line: archiving fails
"$CELLAR" -c "$bconf" backup main >"$T/backup.out" 2>&1
rc=$?
ok "backup without --wait exits non-zero when its archiving step fails" test "$rc" != 0 || diag "$(cat "$T/backup.out")"
like "$(cat "$T/backup.out")" "backup [0-9T]+ of server main is complete \\(WAITING_FOR_WALS\\), but archiving its WAL failed: .*xlog.db:[0-9]+:" \
    "and says the copy is complete but archiving failed, and why"
id=$("$CELLAR" -c "$bconf" list-backup --minimal main 2>/dev/null | head -1)
is "$(backup_info "$bconf" main "$id" status)" WAITING_FOR_WALS "the backup is kept, waiting for its WAL"
"$CELLAR" -c "$bconf" rebuild-xlogdb main >/dev/null 2>&1
ok "once xlog.db is rebuilt, archive-wal works again" "$CELLAR" -c "$bconf" archive-wal main
pg_stop main
