#!/bin/bash
# tests/integration/t_wal_faults.sh - the WAL archive under faults (TAP).
#
# Real WAL segments from a PostgreSQL 15 cluster (writes + pg_switch_wal) are
# kept aside as the reference; then cellar archive-wal is hurt in every way
# its design comment (src/ops/archive/archive_wal.c) promises to survive:
#   0. killed at exact points (strace injects SIGKILL at a chosen system
#      call): before the first rename, between renames, before the xlog.db
#      append, after it but before incoming/ is emptied, in the middle of an
#      xlog.db rewrite; and a worker process killed while it compresses;
#   a. killed with SIGKILL after a random delay (0-300 ms), RUNS times (30),
#      with gzip, zstd and no compression in turn, each time followed by a
#      run to completion (where a kill lands is left to chance: only the
#      outcome is asserted, never how often a kill hit a running archiver);
#   a'. killed with SIGKILL at a known point: while its workers compress,
#      held there by a custom compression filter that waits for the test
#      (with 1 to 3 workers, holding the files from a chosen one on), so
#      what the kill leaves is known exactly; and a second archiver started
#      while the first is held there is skipped;
#   b. two archivers started at once, several rounds (and archive-wal with
#      rebuild-xlogdb at once);
#   c. a full filesystem (tmpfs, or a loop-mounted ext4 image when tmpfs
#      cannot be mounted): archive-wal fails clearly and loses nothing, also
#      when the disk fills up exactly when xlog.db is written; put-wal fails
#      and leaves nothing behind;
#   d. content that must be refused that t_wal_archive.sh does not try: a
#      segment whose header has another timeline or another position, a
#      zero-filled segment, a .history or .backup file that is not one,
#      compressed garbage under a segment name.
# After each part the archive must hold every reference segment exactly once,
# byte-identical through get-wal, xlog.db must list each archived file exactly
# once and nothing else, incoming/ and errors/ must be empty, wals/ must hold
# no temporary file, and rebuild-xlogdb must give the same xlog.db.
#
# On temporaries: the archiver compresses into wals/<hash>/.<name>.cellar-tmp
# and renames it into place; a killed run leaves these only for segments it
# had not renamed yet, whose incoming copy is still there, so the next run
# reuses (recreates and renames) every one of them. After a completed run no
# .cellar-tmp file may remain, and nothing else hidden either.
#
# Needs root (mount, strace). Run: tests/run.sh tests/integration/t_wal_faults.sh
# WAL_FAULTS_RUNS=N changes the number of random kills (default 30).
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 111

RUNS=${WAL_FAULTS_RUNS:-30}
ref=$T/ref
home=$T/home
conf=$T/cellar.conf
mkdir -p "$ref" "$home"

# --- the reference: real WAL from a real cluster ---------------------------------
pg_start src || tap_bail "cannot start PostgreSQL"
pg_sql src "CREATE TABLE t (id int, v text)" >/dev/null || tap_bail "cannot create a table"
for ((i = 0; i < 30; i++)); do
    pg_sql src "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
                SELECT pg_switch_wal();" >/dev/null || tap_bail "cannot write WAL"
done
src_archived() { # PostgreSQL has nothing left to archive
    ! compgen -G "$PG_SRC_DATA/pg_wal/archive_status/*.ready" >/dev/null
}
wait_for 60 src_archived || tap_bail "PostgreSQL did not archive its WAL"
cp "$PG_SRC_ARCHIVE"/0* "$ref/" || tap_bail "cannot copy the reference WAL"
pg_stop src
mapfile -t REF < <(ls "$ref")
[ "${#REF[@]}" -ge 30 ] || tap_bail "only ${#REF[@]} reference segments"
diag "reference: ${#REF[@]} segments, ${REF[0]} to ${REF[-1]}"

# write_conf COMPRESSION - the configuration; COMPRESSION is for server kill
write_conf() {
    cat >"$conf" <<EOF
[barman]
barman_home = $home
barman_user = $(id -un)
log_file = $T/cellar.log

[crash]
description = "killed at exact points"
conninfo = host=127.0.0.1 dbname=postgres
compression = gzip

[kill]
description = "killed at random points"
conninfo = host=127.0.0.1 dbname=postgres
compression = $1

[pair]
description = "two archivers at once"
conninfo = host=127.0.0.1 dbname=postgres
compression = gzip

[check]
description = "content checks"
conninfo = host=127.0.0.1 dbname=postgres
compression = gzip

[hold]
description = "killed at known points"
conninfo = host=127.0.0.1 dbname=postgres
compression = custom
custom_compression_filter = $T/hold-filter $T/hold
custom_decompression_filter = gzip -dc
custom_compression_magic = 0x1f8b08
EOF
}
write_conf gzip

# --- helpers ---------------------------------------------------------------------

# archived_names WALS - visible files under WALS except the indexes (xlog.db and
# cellar's xlog.db.cellar-targets), one name a line, sorted (a file archived twice would show twice)
archived_names() {
    find "$1" -mindepth 1 -type f ! -name 'xlog.db*' ! -name '.*' -printf '%f\n' | sort
}
# indexed_names WALS - the names in WALS/xlog.db, sorted
indexed_names() {
    [ -f "$1/xlog.db" ] || return 0
    cut -f1 "$1/xlog.db" | sort
}
# hidden_files WALS - hidden files anywhere under WALS (temporaries)
hidden_files() {
    find "$1" -name '.*' -printf '%P\n' | sort
}
# state WALS INCOMING - a one-line summary of an archive
state() {
    printf 'incoming=%s tmp=%s archived=%s indexed=%s' \
        "$(ls -A "$2" | wc -l)" "$(hidden_files "$1" | wc -l)" \
        "$(archived_names "$1" | wc -l)" "$(indexed_names "$1" | wc -l)"
}
# xlogdb_matches WALS - xlog.db names exactly the files of WALS, with their sizes
xlogdb_matches() {
    diff <(awk '{print $1, $2}' "$1/xlog.db" | sort) \
        <(find "$1" -mindepth 1 -type f ! -name 'xlog.db*' ! -name '.*' -printf '%f %s\n' | sort) >&2
}
# get_wal_identical CONF SERVER NAME... - get-wal returns each NAME as in ref/
get_wal_identical() {
    local c=$1 s=$2 n bad=0
    shift 2
    for n in "$@"; do
        if ! "$CELLAR" -c "$c" get-wal "$s" "$n" >"$T/got" 2>"$T/got.err"; then
            diag "get-wal $s $n failed: $(cat "$T/got.err")"
            bad=1
        elif ! cmp -s "$ref/$n" "$T/got"; then
            diag "get-wal $s $n differs from the reference"
            bad=1
        fi
    done
    [ "$bad" = 0 ]
}
# check_archive LABEL CONF SERVER WALS INCOMING ERRORS NAME... - the
# invariants every part ends with (8 tests): NAMEs are exactly the archive
check_archive() {
    local label=$1 c=$2 s=$3 wals=$4 in=$5 errs=$6
    shift 6
    is "$(archived_names "$wals")" "$(printf '%s\n' "$@" | sort)" \
        "$label: every segment is archived exactly once, and nothing else"
    ok "$label: get-wal returns every segment byte-identical" get_wal_identical "$c" "$s" "$@"
    is "$(indexed_names "$wals" | uniq -d)" "" "$label: xlog.db names no file twice"
    ok "$label: xlog.db lists exactly the archived files, with their sizes" xlogdb_matches "$wals"
    is "$(ls -A "$in")" "" "$label: incoming/ is empty"
    is "$(ls -A "$errs" 2>/dev/null)" "" "$label: errors/ is empty"
    is "$(hidden_files "$wals")" "" "$label: no temporary file is left in wals/"
    sort "$wals/xlog.db" >"$T/xlog.before"
    if "$CELLAR" -c "$c" rebuild-xlogdb "$s" >"$T/rebuild.out" 2>&1; then
        same_file "$label: rebuild-xlogdb writes the same xlog.db" "$T/xlog.before" \
            <(sort "$wals/xlog.db")
    else
        fail "$label: rebuild-xlogdb writes the same xlog.db"
        diag "$(cat "$T/rebuild.out")"
    fi
}
# same_file NAME EXPECTED GOT - pass when the files are identical, else show a diff
same_file() {
    local d
    if d=$(diff "$2" "$3" 2>&1); then
        pass "$1"
        return 0
    fi
    fail "$1"
    diag "$d"
    return 1
}
# put SERVER_INCOMING NAME... - copy reference segments into an incoming dir
put() {
    local in=$1 n
    shift
    for n in "$@"; do
        cp "$ref/$n" "$in/$n" || return 1
    done
}
# group_alive PGID - some live (non-zombie) process is in process group PGID
group_alive() {
    local p st
    for p in $(pgrep -g "$1"); do
        read -r st 2>/dev/null <"/proc/$p/stat" || continue
        st=${st##*) }
        [ "${st%% *}" != Z ] && return 0
    done
    return 1
}
# group_gone PGID - the opposite, for wait_for
group_gone() {
    ! group_alive "$1"
}
# archived_count OUTPUT - the N of "N WAL files archived" (0 when skipped)
archived_count() {
    local n
    n=$(sed -n 's/^[a-z]*: \([0-9][0-9]*\) WAL files\{0,1\} archived.*/\1/p' <<<"$1")
    echo "${n:-0}"
}

# --- 0. killed at exact points -------------------------------------------------------
# strace runs the archiver and, at the chosen system call, delivers SIGKILL on
# entry: the call itself does not happen. The workers are followed (-f) but
# the calls chosen here are the parent's, except in the last case.
cw=$home/crash/wals
cin=$home/crash/incoming
mkdir -p "$cin"
# crash_at WHAT STRACE_ARG... - run archive-wal crash killed by strace
crash_at() {
    local what=$1
    shift
    strace -f -qq -o /dev/null "$@" "$CELLAR" -c "$conf" archive-wal crash >"$T/crash.out" 2>&1
    is "$?" 137 "killed $what"
}
# complete - archive-wal crash to the end; then the state must be settled
complete() {
    "$CELLAR" -c "$conf" archive-wal crash >"$T/crash.out" 2>&1 ||
        diag "archive-wal crash: exit $?: $(cat "$T/crash.out")"
}
hash=${REF[0]:0:16}

put "$cin" "${REF[@]:3:3}"
crash_at "before the first rename" -e trace=rename -e inject=rename:signal=KILL:when=1
is "$(state "$cw" "$cin")" "incoming=3 tmp=3 archived=0 indexed=0" \
    "only temporaries exist, incoming/ is intact"
complete
is "$(state "$cw" "$cin")" "incoming=0 tmp=0 archived=3 indexed=3" \
    "the next run archives them all and reuses the temporaries"

put "$cin" "${REF[@]:6:3}"
crash_at "between two renames" -e trace=rename -e inject=rename:signal=KILL:when=2
is "$(state "$cw" "$cin")" "incoming=3 tmp=2 archived=4 indexed=3" \
    "one renamed file is not indexed yet, its incoming copy is kept"
complete
is "$(state "$cw" "$cin")" "incoming=0 tmp=0 archived=6 indexed=6" \
    "the next run indexes the renamed file once and archives the others"

put "$cin" "${REF[@]:9:3}"
crash_at "before the xlog.db append" -P "$cw/xlog.db" -e trace=write \
    -e inject=write:signal=KILL:when=1
is "$(state "$cw" "$cin")" "incoming=3 tmp=0 archived=9 indexed=6" \
    "every file renamed, none indexed, incoming/ intact"
complete
is "$(state "$cw" "$cin")" "incoming=0 tmp=0 archived=9 indexed=9" \
    "the next run indexes each of them once"

put "$cin" "${REF[@]:12:3}"
crash_at "after the xlog.db append, before incoming/ is emptied" \
    -P "$cin/${REF[12]}" -e trace=unlink -e inject=unlink:signal=KILL:when=1
is "$(state "$cw" "$cin")" "incoming=3 tmp=0 archived=12 indexed=12" \
    "archived and indexed, the incoming copies still there"
complete
is "$(state "$cw" "$cin")" "incoming=0 tmp=0 archived=12 indexed=12" \
    "the next run drops the incoming copies as identical duplicates"

# names below the last indexed one: xlog.db is rewritten (temp file, rename)
put "$cin" "${REF[@]:0:3}"
# (three renames of segments, then the fourth: the new xlog.db over the old)
crash_at "before the rewritten xlog.db is renamed into place" \
    -e trace=rename -e inject=rename:signal=KILL:when=4
is "$(state "$cw" "$cin" | sed 's/ tmp=[0-9]*//')" "incoming=3 archived=15 indexed=12" \
    "the old xlog.db is intact, the new files are not indexed"
complete
is "$(state "$cw" "$cin")" "incoming=0 tmp=0 archived=15 indexed=15" \
    "the next run indexes them, and leaves no temporary xlog.db behind"

# a worker (not the archiver) killed while it writes its compressed copy
put "$cin" "${REF[@]:15:2}"
strace -f -qq -o /dev/null -P "$cw/$hash/.${REF[16]}.cellar-tmp" -e trace=write \
    -e inject=write:signal=KILL:when=1 \
    "$CELLAR" -c "$conf" archive-wal --jobs 2 crash >"$T/crash.out" 2>&1
is "$?" 1 "a worker killed while compressing: archive-wal exits 1"
like "$(cat "$T/crash.out")" "cannot archive ${REF[16]} \(left in incoming\): the worker process died" \
    "and names the segment it could not archive"
is "$(state "$cw" "$cin" | sed 's/ tmp=[0-9]*//')" "incoming=1 archived=16 indexed=16" \
    "the other segment is archived, this one stays in incoming/"
complete
check_archive "exact kill points" "$conf" crash "$cw" "$cin" "$home/crash/errors" "${REF[@]:0:17}"

# --- a. SIGKILL at random points ---------------------------------------------------------
kw=$home/kill/wals
kin=$home/kill/incoming
mkdir -p "$kin"
mapfile -t order < <(printf '%s\n' "${REF[@]}" | shuf)
per=$(((${#REF[@]} + RUNS - 1) / RUNS))
COMPS=(gzip zstd none)
# A run archives a handful of files in well under 300 ms with zstd or no
# compression: a delay drawn from 0-300 ms would mostly strike a finished
# process. So the delay is drawn from 0 to the time one uninterrupted run of
# 4 new segments takes with that compression (at most 300 ms), measured here
# on a scratch server.
declare -A CAP
for comp in "${COMPS[@]}"; do
    write_conf "$comp"
    sed -i 's/^\[kill\]$/[measure]/' "$conf"
    mkdir -p "$home/measure/incoming"
    put "$home/measure/incoming" "${REF[@]:0:4}"
    t0=${EPOCHREALTIME/./}
    "$CELLAR" -c "$conf" archive-wal measure >/dev/null 2>&1 || diag "archive-wal measure failed"
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    CAP[$comp]=$((ms < 300 ? ms : 300))
    rm -rf "$home/measure"
done
diag "delay caps: gzip ${CAP[gzip]} ms, zstd ${CAP[zstd]} ms, none ${CAP[none]} ms"
hits=0 orphans=0 problems="" seen_tmp=0 seen_unindexed=0 seen_waiting=0
for ((r = 0; r < RUNS; r++)); do
    comp=${COMPS[r % 3]}
    write_conf "$comp"
    # this run's share of the shuffled reference, plus 3 to 7 random others
    # (archived already, or not yet: duplicates must be dropped, not doubled)
    mapfile -t pick < <({
        printf '%s\n' "${order[@]:r*per:per}"
        printf '%s\n' "${REF[@]}" | shuf -n $((3 + RANDOM % 5))
    } | sort -u)
    put "$kin" "${pick[@]}"
    before=$(indexed_names "$kw")
    delay=$((RANDOM % (CAP[$comp] + 1)))
    setsid "$CELLAR" -c "$conf" archive-wal kill >"$T/killed.out" 2>&1 &
    pid=$!
    sleep "$(printf '0.%03d' "$delay")"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    [ "$rc" = 137 ] && hits=$((hits + 1))
    wait_for 10 group_gone "$pid" || { orphans=$((orphans + 1)); diag "run $r: workers outlived the archiver"; }
    # what the kill left (before the next run repairs it)
    left_tmp=$(hidden_files "$kw" | wc -l)
    unindexed=$(comm -23 <(archived_names "$kw") <(indexed_names "$kw") | wc -l)
    waiting=$(comm -12 <(ls "$kin" | sort) <(comm -13 <(echo "$before") <(indexed_names "$kw")) | wc -l)
    [ "$left_tmp" -gt 0 ] && seen_tmp=$((seen_tmp + 1))
    [ "$unindexed" -gt 0 ] && seen_unindexed=$((seen_unindexed + 1))
    [ "$waiting" -gt 0 ] && seen_waiting=$((seen_waiting + 1))
    diag "run $r: $comp, ${#pick[@]} files, SIGKILL after $delay ms:" \
        "$([ "$rc" = 137 ] && echo killed || echo "had ended ($rc)"):" \
        "$left_tmp temporaries, $unindexed archived but not indexed, $waiting indexed but still in incoming"
    # the run to completion
    if ! "$CELLAR" -c "$conf" archive-wal kill >"$T/run.out" 2>&1; then
        problems+="run $r: archive-wal exited $?: $(tail -n 3 "$T/run.out")"$'\n'
    fi
    [ -z "$(ls -A "$kin")" ] || problems+="run $r: incoming not empty: $(ls -A "$kin" | tr '\n' ' ')"$'\n'
    missing=$(comm -23 <(printf '%s\n' "${pick[@]}") <(archived_names "$kw"))
    [ -z "$missing" ] || problems+="run $r: not archived: $missing"$'\n'
    missing=$(comm -23 <(printf '%s\n' "${pick[@]}") <(indexed_names "$kw"))
    [ -z "$missing" ] || problems+="run $r: not in xlog.db: $missing"$'\n'
    dups=$(indexed_names "$kw" | uniq -d)
    [ -z "$dups" ] || problems+="run $r: twice in xlog.db: $dups"$'\n'
    left=$(hidden_files "$kw")
    [ -z "$left" ] || problems+="run $r: temporaries left: $left"$'\n'
done
diag "$hits of $RUNS kills hit a running archiver; the kills left temporaries $seen_tmp times," \
    "archived but unindexed files $seen_unindexed times, indexed files still in incoming $seen_waiting times"
is "$problems" "" "after each of $RUNS random kills the next run completes and repairs everything"
is "$orphans" 0 "the workers of every killed archiver died with it"
check_archive "random kills" "$conf" kill "$kw" "$kin" "$home/kill/errors" "${REF[@]}"

# --- a'. SIGKILL at a known point: while the workers compress ----------------------------
# The hold server's compression filter is gzip, except that while
# $T/hold/from exists, a file whose name sorts at or after the name it holds
# waits (its pid in $T/hold/held.<name>) until $T/hold/open exists. Items go
# to the workers in WAL order, and a worker takes the next one only when
# done, so once J files are held (J workers), every new file before "from"
# has its finished temporary, the J held ones have theirs, and no later one
# has one.
mkdir -p "$T/hold"
cat >"$T/hold-filter" <<'FILTER'
#!/bin/bash
# hold-filter DIR - gzip -c, held at DIR's gate (see t_wal_faults.sh)
dir=$1
name=$(basename "$(readlink "/proc/$$/fd/0")")
if [ -f "$dir/from" ] && [[ ! $name < $(cat "$dir/from") ]]; then
    echo $$ >"$dir/held.$name"
    while [ ! -e "$dir/open" ]; do sleep 0.05; done
fi
exec gzip -c
FILTER
chmod +x "$T/hold-filter"
hw=$home/hold/wals
hin=$home/hold/incoming
mkdir -p "$hin"
# held_count - how many filters wait at the gate
held_count() {
    local f n=0
    for f in "$T"/hold/held.*; do
        [ -e "$f" ] && n=$((n + 1))
    done
    echo "$n"
}
held_is() { [ "$(held_count)" = "$1" ]; }
# held_gone - every held filter has ended (after the gate opened)
held_gone() {
    local f
    for f in "$T"/hold/held.*; do
        [ -e "$f" ] || continue
        kill -0 "$(cat "$f")" 2>/dev/null && return 1
    done
    return 0
}
# release - open the gate, wait for the held filters to end, close it again
release() {
    touch "$T/hold/open"
    rm -f "$T/hold/from"
    wait_for 60 held_gone || diag "held filters did not end"
    rm -f "$T"/hold/held.* "$T/hold/open"
}
write_conf gzip
HOLD_ROUNDS=6
mapfile -t order < <(printf '%s\n' "${REF[@]}" | shuf)
per=$(((${#REF[@]} - 1) / HOLD_ROUNDS)) # at least 4 (3 workers and one more); at least 1 left over
problems="" exact="" orphans=0
for ((r = 0; r < HOLD_ROUNDS; r++)); do
    jobs=$((r % 3 + 1))
    mapfile -t new < <(printf '%s\n' "${order[@]:r*per:per}" | sort)
    # hold from a file that leaves one file per worker from it on
    k=$((RANDOM % (${#new[@]} - jobs + 1)))
    from=${new[k]}
    old=()
    [ "$r" -gt 0 ] && mapfile -t old < <(printf '%s\n' "${order[@]:0:r*per}" | shuf -n 2)
    put "$hin" "${new[@]}" "${old[@]}"
    echo "$from" >"$T/hold/from"
    setsid "$CELLAR" -c "$conf" archive-wal --jobs "$jobs" hold >"$T/held.out" 2>&1 &
    pid=$!
    wait_for 120 held_is "$jobs" ||
        problems+="round $r: $(held_count) filters held, expected $jobs: $(cat "$T/held.out")"$'\n'
    kill -KILL "$pid"
    wait "$pid"
    rc=$?
    # exactly what the kill leaves: the temporaries of the new files before
    # "from" and of the held ones; nothing renamed, indexed or taken out
    got="rc=$rc $(state "$hw" "$hin") tmps: $(hidden_files "$hw" | sed 's|.*/\.||; s|\.cellar-tmp$||' | sort | tr '\n' ' ')"
    want="rc=137 incoming=$((${#new[@]} + ${#old[@]})) tmp=$((k + jobs)) archived=$((r * per)) indexed=$((r * per)) tmps: $(printf '%s ' "${new[@]:0:k+jobs}")"
    [ "$got" = "$want" ] || exact+="round $r ($jobs workers, held from $from): got $got; want $want"$'\n'
    diag "round $r: $jobs workers, ${#new[@]} new files, held from file $((k + 1)) on: $got"
    release
    wait_for 10 group_gone "$pid" || { orphans=$((orphans + 1)); diag "round $r: workers outlived the archiver"; }
    "$CELLAR" -c "$conf" archive-wal hold >"$T/run.out" 2>&1 ||
        problems+="round $r: archive-wal exited $?: $(tail -n 3 "$T/run.out")"$'\n'
    [ -z "$(ls -A "$hin")" ] || problems+="round $r: incoming not empty"$'\n'
    missing=$(comm -23 <(printf '%s\n' "${new[@]}") <(indexed_names "$hw"))
    [ -z "$missing" ] || problems+="round $r: not in xlog.db: $missing"$'\n'
    [ -z "$(hidden_files "$hw")" ] || problems+="round $r: temporaries left"$'\n'
done
is "$exact" "" "$HOLD_ROUNDS kills while 1 to 3 workers compress leave exactly the temporaries of the files begun, and nothing else"
is "$orphans" 0 "the workers of every archiver killed at a known point died with it"
is "$problems" "" "after each such kill the next run completes and repairs everything"

# a second archiver while the first is held mid-run: skipped, not run
rest=("${order[@]:HOLD_ROUNDS*per}")
put "$hin" "${rest[@]}"
echo "${rest[0]}" >"$T/hold/from"
"$CELLAR" -c "$conf" archive-wal --jobs 1 hold >"$T/first.out" 2>&1 &
pid=$!
wait_for 120 held_is 1 || diag "the first archiver was not held: $(cat "$T/first.out")"
"$CELLAR" -c "$conf" archive-wal hold >"$T/second.out" 2>&1
is "$?" 0 "a second archiver started while the first runs exits 0"
like "$(cat "$T/second.out")" "hold: skipped: another archiver is running \\(PID $pid\\)" \
    "and says it skipped, naming the first one"
release
wait "$pid"
is "$?" 0 "the first one, released, completes"
like "$(cat "$T/first.out")" "${#rest[@]} WAL files? archived" "and archives the rest"
check_archive "known kill points" "$conf" hold "$hw" "$hin" "$home/hold/errors" "${REF[@]}"

# --- b. two archivers at once ------------------------------------------------------------
pw=$home/pair/wals
pin=$home/pair/incoming
mkdir -p "$pin"
ROUNDS=6
mapfile -t order < <(printf '%s\n' "${REF[@]}" | shuf)
per=$(((${#REF[@]} + ROUNDS - 1) / ROUNDS))
problems="" skipped=0 both=0
for ((r = 0; r < ROUNDS; r++)); do
    new=("${order[@]:r*per:per}")
    put "$pin" "${new[@]}"
    # after the first round, also 2 files archived already (to be dropped)
    [ "$r" -gt 0 ] && put "$pin" "${order[@]:0:2}"
    "$CELLAR" -c "$conf" archive-wal pair >"$T/a1.out" 2>&1 &
    p1=$!
    # the second one at once, or up to 250 ms later
    [ "$r" -gt 0 ] && sleep "$(printf '0.%03d' $((r * 50)))"
    "$CELLAR" -c "$conf" archive-wal pair >"$T/a2.out" 2>&1 &
    p2=$!
    wait "$p1"; rc1=$?
    wait "$p2"; rc2=$?
    o1=$(cat "$T/a1.out") o2=$(cat "$T/a2.out")
    n1=$(archived_count "$o1") n2=$(archived_count "$o2")
    if [[ $o1$o2 == *"skipped: another archiver is running"* ]]; then
        skipped=$((skipped + 1))
    else
        both=$((both + 1))
    fi
    diag "round $r: ${#new[@]} new files: first archiver archived $n1 (exit $rc1), second $n2 (exit $rc2)" \
        "$(grep -o 'skipped: another archiver is running.*' "$T/a1.out" "$T/a2.out")"
    [ "$rc1" = 0 ] && [ "$rc2" = 0 ] || problems+="round $r: exit statuses $rc1 and $rc2: $o1 $o2"$'\n'
    [ $((n1 + n2)) = "${#new[@]}" ] ||
        problems+="round $r: ${#new[@]} new files but $n1 + $n2 archived"$'\n'
    [ -z "$(ls -A "$pin")" ] || problems+="round $r: incoming not empty"$'\n'
done
is "$problems" "" "$ROUNDS rounds of two archivers at once: both exit 0, each new file archived by exactly one"
# (whether the two overlapped is left to chance here: part a' shows the skip
# at a known point)
diag "$skipped rounds where one archiver found the other running, $both where both ran in turn"

# archive-wal and rebuild-xlogdb at once (both take the xlogdb lock)
problems=""
for ((r = 0; r < 3; r++)); do
    # take two archived files out of the archive and offer them again
    for n in "${order[@]:r*2:2}"; do
        rm -f "$pw/${n:0:16}/$n"
    done
    "$CELLAR" -c "$conf" rebuild-xlogdb pair >/dev/null 2>&1 || problems+="round $r: rebuild-xlogdb failed"$'\n'
    put "$pin" "${order[@]:r*2:2}"
    "$CELLAR" -c "$conf" archive-wal pair >"$T/a1.out" 2>&1 &
    p1=$!
    "$CELLAR" -c "$conf" rebuild-xlogdb pair >"$T/a2.out" 2>&1 &
    p2=$!
    wait "$p1" || problems+="round $r: archive-wal exited $?: $(cat "$T/a1.out")"$'\n'
    wait "$p2" || problems+="round $r: rebuild-xlogdb exited $?: $(cat "$T/a2.out")"$'\n'
    xlogdb_matches "$pw" 2>/dev/null || problems+="round $r: xlog.db does not match wals/"$'\n'
done
is "$problems" "" "archive-wal and rebuild-xlogdb at once leave xlog.db matching the files"
check_archive "two archivers" "$conf" pair "$pw" "$pin" "$home/pair/errors" "${REF[@]}"

# --- c. a full filesystem ---------------------------------------------------------------
full=$T/full
fin=$T/full-incoming # PostgreSQL's side: on the big disk, so more WAL than fits waits there
mkdir -p "$full" "$fin"
fs=""
# (WAL_FAULTS_FS=loop tries the loop-mounted ext4 image first)
if [ "${WAL_FAULTS_FS:-}" != loop ] &&
    mount -t tmpfs -o size=112m,mode=0755 tmpfs "$full" 2>"$T/mount.err"; then
    fs=tmpfs
elif truncate -s 112M "$T/full.img" && mkfs.ext4 -q -F -m 0 "$T/full.img" &&
    mount -o loop "$T/full.img" "$full" 2>>"$T/mount.err"; then
    fs="loop-mounted ext4"
fi
FULL_TESTS=27
if [ -z "$fs" ]; then
    diag "cannot mount a small filesystem here: $(cat "$T/mount.err")"
    for ((i = 0; i < FULL_TESTS; i++)); do
        skip "full filesystem test $((i + 1))" "neither tmpfs nor a loop device can be mounted"
    done
else
    harness_at_exit umount -l "$full"
    diag "the archive is on a 112 MiB $fs"
    fconf=$T/full.conf
    cat >"$fconf" <<EOF
[barman]
barman_home = $full/home
barman_user = $(id -un)
log_file = $T/cellar-full.log

[full]
description = "archive on a small filesystem"
conninfo = host=127.0.0.1 dbname=postgres
compression = none
incoming_wals_directory = $fin

[fullput]
description = "incoming on a small filesystem"
conninfo = host=127.0.0.1 dbname=postgres
compression = none
EOF
    fw=$full/home/full/wals
    ferr=$full/home/full/errors
    # ballast BYTES_FREE - make a ballast file that leaves BYTES_FREE free
    ballast() {
        local avail bsize
        rm -f "$full/ballast"
        sync -f "$full"
        read -r avail bsize < <(stat -f -c '%a %S' "$full")
        fallocate -l $((avail * bsize - $1)) "$full/ballast"
    }
    # ballast_for FILE - make a ballast that leaves room for a copy of FILE
    # and not one block more (found by trying: ext4 needs a few blocks of
    # metadata beyond the data, tmpfs none)
    ballast_for() {
        local size k bsize
        size=$(stat -c %s "$1")
        bsize=$(stat -f -c %S "$full")
        for ((k = 0; k < 64; k++)); do
            ballast $((size + k * bsize))
            if cp "$1" "$full/probe" 2>/dev/null && sync -f "$full"; then
                rm -f "$full/probe"
                return 0
            fi
            rm -f "$full/probe"
        done
        return 1
    }
    # no_loss NAME... - each NAME is archived (identical through get-wal) or
    # still waiting in incoming/ (identical to the reference), never both lost
    no_loss() {
        local n bad=0
        for n in "$@"; do
            if [ -f "$fw/${n:0:16}/$n" ]; then
                get_wal_identical "$fconf" full "$n" || bad=1
            elif ! cmp -s "$ref/$n" "$fin/$n"; then
                diag "$n is neither archived nor in incoming/"
                bad=1
            fi
        done
        [ "$bad" = 0 ]
    }

    # c1. the disk fills up exactly when xlog.db is written: one segment
    # archived, a second one (named before it) needs xlog.db rewritten
    put "$fin" "${REF[5]}"
    "$CELLAR" -c "$fconf" archive-wal full >"$T/full.out" 2>&1
    ok "archive-wal on the small filesystem" test $? = 0
    put "$fin" "${REF[4]}"
    ballast_for "$ref/${REF[4]}" || diag "cannot size the ballast"
    "$CELLAR" -c "$fconf" archive-wal full >"$T/full.out" 2>&1
    is "$?" 1 "no room left for xlog.db: archive-wal exits 1"
    like "$(cat "$T/full.out")" "xlog\.db.*: No space left on device" \
        "and says that xlog.db could not be written"
    ok "the segment is still in incoming/" cmp "$ref/${REF[4]}" "$fin/${REF[4]}"
    ok "xlog.db still lists exactly the archived files" xlogdb_matches "$fw"
    is "$(hidden_files "$fw")" "" "no temporary file is left in wals/"

    # c2. more WAL than fits: room for about one segment and a half
    put "$fin" "${REF[@]:6:4}"
    ballast $((24 * 1024 * 1024))
    "$CELLAR" -c "$fconf" archive-wal full >"$T/full.out" 2>&1
    is "$?" 1 "more WAL than fits: archive-wal exits 1"
    diag "$(cat "$T/full.out")"
    like "$(cat "$T/full.out")" \
        "cannot archive 0000000[0-9A-F]{17} \(left in incoming\): cannot write '[^']*': No space left on device" \
        "the error names the segment, the file and \"No space left on device\""
    ok "nothing is lost: each segment is archived and readable, or still in incoming/" \
        no_loss "${REF[@]:4:6}"
    n_left=$(ls "$fin" | wc -l)
    # (how many got in depends on the workers: two compressing at once may
    # both run out of room where one alone would have fitted)
    ok "the disk did fill up: $n_left of 5 segments wait in incoming/" test "$n_left" -ge 1
    ok "xlog.db lists exactly the archived files" xlogdb_matches "$fw"
    is "$(hidden_files "$fw")" "" "the failed temporaries are removed"
    is "$(ls -A "$ferr" 2>/dev/null)" "" "nothing was moved to errors/"
    "$CELLAR" -c "$fconf" archive-wal full >"$T/full.out" 2>&1
    is "$?" 1 "a run on the still-full disk fails again"
    ok "and still loses nothing" no_loss "${REF[@]:4:6}"

    # c3. space freed: the rest is archived
    rm -f "$full/ballast"
    "$CELLAR" -c "$fconf" archive-wal full >"$T/full.out" 2>&1
    ok "after freeing space, archive-wal archives the rest" test $? = 0
    diag "$(cat "$T/full.out")"
    check_archive "full disk" "$fconf" full "$fw" "$fin" "$ferr" "${REF[@]:4:6}"

    # c4. put-wal onto the full filesystem
    ballast $((8 * 1024 * 1024))
    "$CELLAR" -c "$fconf" put-wal fullput "$ref/${REF[20]}" 2>"$T/put.err"
    is "$?" 1 "put-wal onto a full filesystem exits 1"
    like "$(cat "$T/put.err")" "No space left on device" "and says why"
    is "$(ls -A "$full/home/fullput/incoming")" "" "and leaves nothing in incoming/"
    rm -f "$full/ballast"
fi

# --- d. content that must be refused --------------------------------------------------
dw=$home/check/wals
din=$home/check/incoming
derr=$home/check/errors
mkdir -p "$din"
s7=${REF[7]}
# timeline 2 in the header (another cluster's, or a later timeline's), 1 in
# the name; the reverse is legal: a timeline's first segment begins with its
# parent's pages (t_wal_timeline.sh)
cp "$ref/$s7" "$T/tl2"
printf '\002\000\000\000' | dd of="$T/tl2" bs=1 seek=4 conv=notrunc 2>/dev/null
tl2=$s7
moved=${s7:0:16}$(printf '%08X' $((16#${s7:16:8} + 2))) # 2 segments further on
cp "$T/tl2" "$din/$tl2"
cp "$ref/$s7" "$din/$moved"
head -c 16777216 /dev/zero >"$din/${REF[20]}"
printf 'this is not\na history file\n' >"$din/00000005.history"
printf 'START TIME: 2024-01-01 00:00:00 UTC\nLABEL: not a label\n' >"$din/${REF[21]}.00000028.backup"
# compressed garbage: random bytes after a magic no PostgreSQL uses (random
# first bytes look like a WAL page magic, 0xD0xx or 0xD1xx, once in 128 runs)
{ printf '\377\377' && head -c 16777214 /dev/urandom; } | gzip -c >"$din/${REF[22]}"
gzip -c "$ref/${REF[23]}" >"$din/${REF[23]}"              # a compressed segment: fine
cp "$ref/${REF[24]}" "$din/${REF[24]}.partial"             # a full-size .partial: fine
touch -d '10 minutes ago' "$din"/*
# and a young compressed segment cut short: maybe still being copied
gzip -c "$ref/${REF[25]}" | head -c 100000 >"$din/${REF[25]}"
"$CELLAR" -c "$conf" archive-wal check >"$T/check.out" 2>&1
is "$?" 0 "archive-wal refuses bad content without failing"
out=$(cat "$T/check.out")
errs=$(ls "$derr")
for n in "$tl2" "$moved" "${REF[20]}" 00000005.history "${REF[21]}.00000028.backup" "${REF[22]}"; do
    like "$errs" "$n\.[0-9]{8}T[0-9]{6}Z\.invalid" "$n goes to errors/ as .invalid"
done
like "$out" "$tl2 rejected, .*: timeline 2 in the header, 1 in the name" \
    "the reason: the header's timeline is not the name's"
like "$out" "$moved rejected, .*: the header says the segment starts at 0/[0-9A-F]+, the name says" \
    "the reason: the header's position is not the name's"
like "$out" "${REF[20]} rejected, .*: not a WAL segment: bad magic 0x0000" "the reason: no WAL header"
like "$out" "00000005.history rejected, .*not a history file" "the reason: not a history file"
like "$out" "${REF[21]}.00000028.backup rejected, .*not a backup history file" \
    "the reason: not a backup label"
like "$out" "${REF[22]} rejected, .*: not a WAL segment: bad magic" \
    "compressed garbage is checked on its decompressed bytes"
like "$out" "1 left for the next run" "a young compressed segment cut short is left for later"
ok "it is still in incoming/" test -f "$din/${REF[25]}"
touch -d '10 minutes ago' "$din/${REF[25]}"
"$CELLAR" -c "$conf" archive-wal check >"$T/check.out" 2>&1
like "$(cat "$T/check.out")" "${REF[25]} rejected, .*: invalid gzip data in '[^']*': unexpected end of file" \
    "once old, it goes to errors/ as .invalid: the gzip stream is cut short"
is "$(archived_names "$dw" | tr '\n' ' ')" "${REF[23]} ${REF[24]}.partial " \
    "only the compressed segment and the .partial are archived"
ok "get-wal returns the segment that arrived compressed identical" \
    get_wal_identical "$conf" check "${REF[23]}"
"$CELLAR" -c "$conf" get-wal --partial check "${REF[24]}" >"$T/got" 2>/dev/null
ok "get-wal --partial returns the .partial identical" cmp "$ref/${REF[24]}" "$T/got"
"$CELLAR" -c "$conf" put-wal check --name "$tl2" <"$T/tl2" 2>"$T/put.err"
is "$?" 1 "put-wal refuses a segment whose header has another timeline"
printf 'this is not\na history file\n' >"$T/00000006.history"
"$CELLAR" -c "$conf" put-wal check "$T/00000006.history" 2>"$T/put.err"
is "$?" 1 "put-wal refuses a .history file that is not one"
like "$(cat "$T/put.err")" "refusing 00000006.history: .*not a history file" "and says why"
is "$(ls -A "$din")" "" "refused put-wal calls leave nothing in incoming/"
