#!/bin/bash
# tests/integration/t_wal_archive.sh - WAL archiving end to end (TAP).
#
# A real PostgreSQL 15 cluster whose archive_command is `cellar put-wal` (run
# by PostgreSQL as the postgres user) and, for a second server section,
# rsync into its incoming directory, as the tutorial sets it up. Real writes
# produce WAL; `cellar archive-wal` archives it with each compression in
# turn; every segment fetched back with get-wal is byte-identical to the
# copy archive_command also kept; xlog.db matches the files and survives
# rebuild-xlogdb unchanged; garbage, damaged and duplicate files end in
# errors/ with a reason; put-wal refuses what it must refuse.
# Run: tests/run.sh tests/integration/t_wal_archive.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 65

home=$T/home
copy=$T/copy
mkdir -p "$home/main/incoming" "$home/viarsync/incoming" "$copy"
chown -R postgres: "$home/main" "$home/viarsync" "$copy"
conf=$T/cellar.conf
write_conf() { # write_conf COMPRESSION
    cat >"$conf" <<EOF
[cellar]
barman_home = $home
barman_user = root

[main]
description = "archived with cellar put-wal"
conninfo = host=127.0.0.1 port=\${PGPORT} user=postgres dbname=postgres
compression = $1
custom_compression_filter = gzip -c
custom_decompression_filter = gzip -dc

[viarsync]
description = "archived with rsync, as in the tutorial"
conninfo = host=127.0.0.1 port=\${PGPORT} user=postgres dbname=postgres
compression = $1
custom_compression_filter = gzip -c
custom_decompression_filter = gzip -dc
EOF
    sed -i "s/\${PGPORT}/${PG_MAIN_PORT:-1}/" "$conf"
    chmod 0644 "$conf"
}
write_conf none

export PG_ARCHIVE_COMMAND="$CELLAR -c $conf put-wal main %p && cp %p $copy/%f && rsync -a %p $home/viarsync/incoming/%f"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf none

# make_wal N - write data and switch WAL N times; wait until archived by PG
make_wal() {
    local i
    for ((i = 0; i < $1; i++)); do
        pg_sql main "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
                     SELECT pg_switch_wal();" >/dev/null
    done
    wait_for 30 archived_all
}
# archived_all - PostgreSQL has no WAL left to archive
archived_all() {
    [ -z "$(ls "$PG_MAIN_DATA/pg_wal/archive_status/" | grep '\.ready$')" ]
}
# same_as_copy SERVER - every copied segment comes back identical from get-wal
same_as_copy() {
    local f name bad=0
    for f in "$copy"/*; do
        name=$(basename "$f")
        "$CELLAR" -c "$conf" get-wal "$1" "$name" >"$T/got" || { echo "# get-wal $name failed" >&2; bad=1; continue; }
        cmp -s "$f" "$T/got" || { echo "# $name differs" >&2; bad=1; }
    done
    [ "$bad" = 0 ]
}
# xlogdb_matches SERVER - xlog.db names the files of wals/ with their sizes
# (xlog.db* names are the index files: xlog.db and cellar's xlog.db.cellar-targets)
xlogdb_matches() {
    local wals=$home/$1/wals
    diff <(awk '{print $1, $2}' "$wals/xlog.db" | sort) \
         <(find "$wals" -mindepth 1 -type f ! -name 'xlog.db*' ! -name '.*' -printf '%f %s\n' | sort) >&2
}

pg_sql main "CREATE TABLE t (id int, v text)" >/dev/null
for comp in none gzip bzip2 zstd lz4 custom; do
    write_conf "$comp"
    make_wal 2
    "$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>&1
    ok "archive-wal with $comp compression" test $? = 0
    "$CELLAR" -c "$conf" archive-wal viarsync >/dev/null 2>&1
    last=$(ls "$copy" | tail -n1)
    magic=$(head -c4 "$(find "$home/main/wals" -name "$last")" | od -An -tx1 | tr -d ' \n')
    # none: the WAL page magic 0xD110, little-endian
    case $comp in
        none) expect=^10d1 ;; gzip | custom) expect=^1f8b ;; bzip2) expect=^425a68 ;;
        zstd) expect=^28b52ffd ;; lz4) expect=^04224d18 ;;
    esac
    like "$magic" "$expect" "the newest segment is stored with $comp"
done
ok "every segment from get-wal is byte-identical to PostgreSQL's (put-wal)" same_as_copy main
ok "every segment from get-wal is byte-identical to PostgreSQL's (rsync)" same_as_copy viarsync
ok "xlog.db lists exactly the archived files (put-wal)" xlogdb_matches main
ok "xlog.db lists exactly the archived files (rsync)" xlogdb_matches viarsync
is "$(ls "$home/main/incoming" | wc -l)" 0 "incoming/ is empty after archiving"
like "$(sort -c "$home/main/wals/xlog.db" 2>&1 && echo sorted)" "sorted" "xlog.db is sorted"
like "$(cut -f4 "$home/main/wals/xlog.db" | sort -u | tr '\n' ' ')" "None.*bzip2.*custom.*gzip.*lz4.*zstd|None bzip2 custom gzip lz4 zstd" \
    "xlog.db records each compression"

# --- rebuild-xlogdb gives the same index ------------------------------------------
cp "$home/main/wals/xlog.db" "$T/xlog.before"
"$CELLAR" -c "$conf" rebuild-xlogdb main >"$T/out" 2>&1
ok "rebuild-xlogdb exits 0" test $? = 0
like "$(cat "$T/out")" "Done rebuilding xlogdb for server main \(history: 0, backup_labels: 0, wal_file: [0-9]+, partial: 0\)" \
    "rebuild-xlogdb reports what it found"
# rebuilding knows compressions only by their magic bytes: files the custom
# filter (gzip -c here) wrote are recorded as what they are, gzip
sed 's/\tcustom$/\tgzip/' "$T/xlog.before" >"$T/xlog.expected"
ok "the rebuilt xlog.db is the archiver's (custom files recorded by their magic)" \
    cmp "$T/xlog.expected" "$home/main/wals/xlog.db"

# --- get-wal details -------------------------------------------------------------------
"$CELLAR" -c "$conf" get-wal main 0000000100000000000000FF >/dev/null 2>"$T/err"
is "$?" 1 "get-wal of a segment the archive does not have exits 1"
like "$(cat "$T/err")" "ERROR: 0000000100000000000000FF is not in the WAL archive of server 'main'" \
    "and says so"
first=$(ls "$copy" | head -n1)
mkdir -p "$T/restore"
"$CELLAR" -c "$conf" get-wal -o "$T/restore" main "$first" >/dev/null
ok "get-wal --output-directory writes the file" cmp "$copy/$first" "$T/restore/$first"
"$CELLAR" -c "$conf" get-wal main not-a-wal >/dev/null 2>&1
is "$?" 2 "get-wal of an invalid name is a usage error (exit 2)"
"$CELLAR" -c "$conf" -f json get-wal main "$first" >/dev/null 2>&1
is "$?" 2 "get-wal refuses JSON on standard output"

# --- put-wal refusals and retries --------------------------------------------------------
seg=$(ls "$copy" | tail -n1)
"$CELLAR" -c "$conf" put-wal main "$copy/$seg" 2>"$T/err"
is "$?" 0 "put-wal of an already archived segment with the same bytes succeeds (a retry)"
cp "$copy/$seg" "$T/changed"
printf 'X' | dd of="$T/changed" bs=1 seek=100000 conv=notrunc 2>/dev/null
"$CELLAR" -c "$conf" put-wal main --name "$seg" <"$T/changed" 2>"$T/err"
is "$?" 1 "put-wal of different bytes under an archived name fails"
like "$(cat "$T/err")" "a different $seg is already archived" "and says why"
head -c 1000000 "$copy/$seg" >"$T/short"
next=${seg:0:16}$(printf '%08X' $((16#${seg:16:8} + 1)))
"$CELLAR" -c "$conf" put-wal main --name "$next" <"$T/short" 2>"$T/err"
is "$?" 1 "put-wal of a truncated segment fails, so PostgreSQL retries"
like "$(cat "$T/err")" "refusing $next: size is 1000000 bytes, the header announces 16777216-byte segments" \
    "and names the reason"
"$CELLAR" -c "$conf" put-wal main --name garbage <"$T/short" 2>"$T/err"
is "$?" 2 "put-wal of a name that is not a WAL name is refused"
is "$(ls -A "$home/main/incoming")" "" "refused put-wal calls leave nothing in incoming/"

# --- what the archiver rejects -----------------------------------------------------------------
in=$home/main/incoming
echo "not a wal" >"$in/garbage.txt"
cp "$T/short" "$in/$next"
touch -d '10 minutes ago' "$in/$next"
cp "$copy/$first" "$in/$first"                  # identical duplicate
cp "$T/changed" "$in/$seg"                      # different duplicate
"$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>"$T/err"
is "$?" 0 "archive-wal handles garbage, damaged and duplicate files without failing"
errs=$(ls "$home/main/errors")
like "$errs" "garbage\.txt\.[0-9]{8}T[0-9]{6}Z\.unknown" "a file with a bad name goes to errors/ as .unknown"
like "$errs" "$next\.[0-9]{8}T[0-9]{6}Z\.invalid" "a damaged segment goes to errors/ as .invalid"
like "$errs" "$seg\.[0-9]{8}T[0-9]{6}Z\.duplicate" "a different duplicate goes to errors/ as .duplicate"
like "$(cat "$T/err")" "WARNING: main: $seg rejected, moved to .*: a different $seg is already archived" \
    "a different duplicate raises a warning"
like "$(cat "$T/err")" "WARNING: main: $next rejected, moved to .*: size is 1000000 bytes" \
    "the warning for a damaged segment gives the reason"
like "$(cat "$T/out")" "1 duplicate dropped, 3 rejected" "the summary counts duplicates and rejections"
is "$(ls -A "$in")" "" "incoming/ is empty again"
ok "the archived copy of the duplicate is untouched" same_as_copy main

# a young segment of the wrong size may still be being copied: left for later
cp "$T/short" "$in/$next"
"$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>&1
ok "a young segment of the wrong size stays in incoming/" test -f "$in/$next"
like "$(cat "$T/out")" "1 left for the next run" "the summary says so"
rm -f "$in/$next"

# --- show-server and list-files report the archive ------------------------------------------
out=$("$CELLAR" -c "$conf" show-server main)
like "$out" $'\tarchive_wal_count: [0-9]+' "show-server reports the number of archived files"
like "$out" $'\tarchive_last_wal: '"$seg" "show-server reports the newest archived segment"
like "$out" $'\terrors_count: 3' "show-server counts the rejected files"

# --- locks ----------------------------------------------------------------------------------
exec 9>"$home/.main-archive-wal.lock"
flock -n 9 && echo $$ >&9
out=$("$CELLAR" -c "$conf" archive-wal main 2>&1)
like "$out" "main: skipped: another archiver is running \(PID $$\)" \
    "a second archiver leaves while the lock is held"
exec 9>&-

# --- cron ----------------------------------------------------------------------------------
make_wal 1
"$CELLAR" -c "$conf" cron >"$T/out" 2>&1
is "$?" 0 "cron exits 0"
like "$(cat "$T/out")" "main: [0-9]+ WAL files? archived" "cron archives main"
like "$(cat "$T/out")" "viarsync: [0-9]+ WAL files? archived" "cron archives viarsync"
ok "after cron, get-wal still returns every segment identical" same_as_copy main

# --- switch-wal --------------------------------------------------------------------
out=$("$CELLAR" -c "$conf" switch-wal --force --archive main 2>&1)
is "$?" 0 "switch-wal --force --archive exits 0"
closed=$(echo "$out" | sed -n "s/^The WAL file \([0-9A-F]*\) has been closed on server 'main'$/\1/p")
like "$closed" "^[0-9A-F]{24}$" "switch-wal names the closed segment"
like "$out" "The WAL file $closed has been archived for server 'main'" "and waits until it is archived"
ok "the closed segment is in xlog.db" grep -q "^$closed	" "$home/main/wals/xlog.db"

# --- a file of another database system, compressed arrivals, stale temporaries ------
sysid=$(pg_sql main "SELECT system_identifier FROM pg_control_system()")
make_wal 1 # a new segment waits in incoming/, put there by PostgreSQL's put-wal
new=$(ls "$copy" | tail -n1)
printf '{\n    "systemid": "%s",\n    "version": "15"\n}\n' "$((sysid + 1))" >"$home/main/identity.json"
"$CELLAR" -c "$conf" put-wal main --name "$new" <"$copy/$new" 2>"$T/err"
is "$?" 1 "put-wal refuses a segment of another database system"
like "$(cat "$T/err")" "refusing $new: it belongs to the database system $sysid, server 'main' archives $((sysid + 1)) \(identity.json\)" \
    "and names both systems"
"$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>"$T/err"
like "$(cat "$T/err")" "$new rejected, moved to .*: it belongs to the database system $sysid" \
    "the archiver rejects a segment of another database system"
printf '{\n    "systemid": "%s",\n    "version": "15"\n}\n' "$sysid" >"$home/main/identity.json"
mv "$home/main/errors/$new".*.invalid "$in/$new"
"$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>&1
like "$(cat "$T/out")" "1 WAL file archived" "with the right identity.json it is archived"

gzip -c "$copy/$new" >"$in/$new"
"$CELLAR" -c "$conf" archive-wal main >"$T/out" 2>&1
like "$(cat "$T/out")" "1 duplicate dropped, 0 rejected" "an identical duplicate that arrives compressed is dropped"

touch "$in/.$new.put.AbCdEf" "$in/.$new.put.young1"
touch -d '2 hours ago' "$in/.$new.put.AbCdEf"
"$CELLAR" -c "$conf" archive-wal main >/dev/null 2>&1
ok "a put-wal temporary older than an hour is removed" test ! -e "$in/.$new.put.AbCdEf"
ok "a young one (a put-wal still running) is left alone" test -e "$in/.$new.put.young1"
rm -f "$in/.$new.put.young1"
ok "get-wal still returns every segment identical" same_as_copy main
