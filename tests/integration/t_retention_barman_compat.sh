#!/bin/bash
# tests/integration/t_retention_barman_compat.sh - cellar's retention marks
# are Barman 3.4's (TAP).
#
# A synthetic catalogue, no PostgreSQL: hand-written backup.info files whose
# end times lie between 45 days and 1 day before now (DONE, FAILED and one
# WAITING_FOR_WALS between them) and an xlog.db covering their WAL, copied
# under one server per retention policy (REDUNDANCY 2, REDUNDANCY 1 raised by
# minimum_redundancy 2, RECOVERY WINDOW OF 7 DAYS / 1 WEEKS / 2 WEEKS /
# 1 MONTHS, 7 DAYS with minimum_redundancy 4, no policy), and a second copy
# with keep annotations (standalone and full) under three more. For each
# server:
#   a. the marks Barman's list-backup prints (the trailing " - OBSOLETE",
#      " - OBSOLETE*", " - KEEP:..." of each line) are the ones worked out by
#      hand from Barman's rules (so the catalogue exercises every mark);
#   b. cellar's marks (retention_status in `cellar -f json list-backup`) are
#      Barman's (skipped when cellar has no such field);
#   c. cellar's list-backup text is Barman's, byte for byte.
# Then the "Retention Policy" line of show-backup for every backup of three
# servers, and the warning both tools log when minimum_redundancy raises
# REDUNDANCY 1 (in the log file only, not on the terminal).
# End times are hours away from every window edge, so the seconds between
# writing the catalogue and reading it cannot change a mark.
# Run: tests/run.sh tests/integration/t_retention_barman_compat.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 39

command -v barman >/dev/null || tap_bail "barman is not installed"
[ -x "$CELLAR" ] || tap_bail "no cellar binary at $CELLAR (run make)"

CONF="$T/barman.conf"
LOG="$T/tools.log"
HOME_DIR="$T/home"
NOW=$(date +%s)

# --- the catalogue ------------------------------------------------------------------
# One backup per line, oldest first: hours before now, status, keep target
# of the "kept" copy ("-" for none). Backup k uses WAL segment 2k.
BACKUPS=(
    "1080 DONE full"
    "792 DONE -"
    "732 DONE -"
    "696 FAILED -"
    "480 DONE -"
    "288 DONE full"
    "216 DONE -"
    "120 FAILED -"
    "96 DONE standalone"
    "48 WAITING_FOR_WALS -"
    "24 DONE -"
    "5 FAILED -"
)
IDS=()

# seg N - the WAL segment name of number N on timeline 1.
seg() {
    printf '00000001000000%010X' "$1"
}

# write_catalogue DIR KEPT - the backups (with keep annotations when KEPT is
# 1) and xlog.db under DIR (a server's barman_home directory).
write_catalogue() {
    local dir=$1 kept=$2 k=0 line hours status keep end id
    mkdir -p "$dir/base" "$dir/wals" "$dir/incoming" "$dir/streaming" "$dir/errors" || return 1
    IDS=()
    for line in "${BACKUPS[@]}"; do
        k=$((k + 1))
        read -r hours status keep <<<"$line"
        end=$((NOW - hours * 3600))
        id=$(date -u -d "@$((end - 60))" +%Y%m%dT%H%M%S)
        IDS+=("$id")
        mkdir -p "$dir/base/$id" || return 1
        if [ "$status" = FAILED ] && [ "$hours" -lt 24 ]; then
            # a failed start: nothing but the status
            printf 'status=FAILED\nserver_name=%s\nerror=boom\n' "$(basename "$dir")" \
                >"$dir/base/$id/backup.info"
            continue
        fi
        {
            printf 'status=%s\n' "$status"
            printf 'server_name=%s\n' "$(basename "$dir")"
            printf 'begin_time=%s\n' "$(date -u -d "@$((end - 60))" '+%Y-%m-%d %H:%M:%S+00:00')"
            printf 'end_time=%s\n' "$(date -u -d "@$end" '+%Y-%m-%d %H:%M:%S.250000+00:00')"
            printf 'begin_wal=%s\nend_wal=%s\n' "$(seg $((2 * k)))" "$(seg $((2 * k)))"
            printf 'begin_xlog=0/%X000028\nend_xlog=0/%X000100\n' $((2 * k)) $((2 * k))
            printf 'size=%d\n' $((k * 1048576))
            printf 'timeline=1\nversion=150000\nxlog_segment_size=16777216\n'
            printf 'pgdata=/srv/pg/15/main\nmode=rsync-concurrent\n'
        } >"$dir/base/$id/backup.info"
        if [ "$kept" = 1 ] && [ "$keep" != - ]; then
            mkdir -p "$dir/base/$id/annotations" &&
                printf '%s' "$keep" >"$dir/base/$id/annotations/keep"
        fi
    done
    for ((k = 1; k <= 2 * ${#BACKUPS[@]} + 1; k++)); do
        printf '%s\t16777216\t%d.5\tNone\n' "$(seg "$k")" $((NOW - 1100 * 3600 + k * 3600))
    done >"$dir/wals/xlog.db"
}

# --- the servers: name, policy, minimum_redundancy, catalogue copy, marks -------------
# Expected marks, oldest backup first: "." when list-backup prints none
# (VALID, not DONE, or no policy), else the mark printed. Worked out by hand:
# DONE backups newest first are 24h, 96h (kept standalone in the kept copy),
# 216h, 288h (kept full), 480h, 732h, 792h, 1080h (kept full).
SERVERS=(
    "r2|REDUNDANCY 2|0|0|OBSOLETE OBSOLETE OBSOLETE . OBSOLETE OBSOLETE OBSOLETE . . . . ."
    "r1m2|REDUNDANCY 1|2|0|OBSOLETE OBSOLETE OBSOLETE . OBSOLETE OBSOLETE OBSOLETE . . . . ."
    "w7d|RECOVERY WINDOW OF 7 DAYS|0|0|OBSOLETE OBSOLETE OBSOLETE . OBSOLETE OBSOLETE . . . . . ."
    "w1w|RECOVERY WINDOW OF 1 WEEKS|0|0|OBSOLETE OBSOLETE OBSOLETE . OBSOLETE OBSOLETE . . . . . ."
    "w2w|RECOVERY WINDOW OF 2 WEEKS|0|0|OBSOLETE OBSOLETE OBSOLETE . . . . . . . . ."
    "w1m|RECOVERY WINDOW OF 1 MONTHS|0|0|OBSOLETE . . . . . . . . . . ."
    "w7dm4|RECOVERY WINDOW OF 7 DAYS|4|0|OBSOLETE OBSOLETE OBSOLETE . OBSOLETE OBSOLETE* . . . . . ."
    "none||0|0|. . . . . . . . . . . ."
    "r2k|REDUNDANCY 2|0|1|KEEP:FULL OBSOLETE OBSOLETE . OBSOLETE KEEP:FULL OBSOLETE . KEEP:STANDALONE . . ."
    "w7dm4k|RECOVERY WINDOW OF 7 DAYS|4|1|KEEP:FULL OBSOLETE OBSOLETE . OBSOLETE KEEP:FULL . . KEEP:STANDALONE . . ."
    "w7dm5k|RECOVERY WINDOW OF 7 DAYS|5|1|KEEP:FULL OBSOLETE OBSOLETE . OBSOLETE* KEEP:FULL . . KEEP:STANDALONE . . ."
)

{
    printf '[barman]\nbarman_home = %s\nbarman_user = %s\nlog_file = %s\n' \
        "$HOME_DIR" "$(id -un)" "$LOG"
    for entry in "${SERVERS[@]}"; do
        IFS='|' read -r name policy minred kept _ <<<"$entry"
        printf '\n[%s]\ndescription = "retention %s"\n' "$name" "${policy:-none}"
        printf 'conninfo = host=/nonexistent dbname=postgres\n'
        printf 'streaming_conninfo = host=/nonexistent\n'
        printf 'backup_method = postgres\narchiver = on\n'
        [ -n "$policy" ] && printf 'retention_policy = %s\n' "$policy"
        printf 'minimum_redundancy = %s\n' "$minred"
    done
} >"$CONF"
for entry in "${SERVERS[@]}"; do
    IFS='|' read -r name policy minred kept _ <<<"$entry"
    write_catalogue "$HOME_DIR/$name" "$kept" || tap_bail "cannot write the catalogue of $name"
done
diag "backups, oldest first: ${IDS[*]}"

# barman_marks - from Barman's list-backup text on stdin, "ID MARK" per
# backup, oldest first ("." when the line ends with no retention mark).
barman_marks() {
    python3 -c 'import sys
marks = ("OBSOLETE", "OBSOLETE*", "KEEP:FULL", "KEEP:STANDALONE")
rows = []
for line in sys.stdin.read().splitlines():
    words = line.split(" ")
    last = line.rsplit(" - ", 1)[-1]
    rows.append((words[1], last if last in marks else "."))
for bid, mark in sorted(rows):
    print(bid, mark)'
}

# cellar_marks - from `cellar -f json list-backup` on stdin, "ID MARK" per
# backup, oldest first, in Barman's spelling; "NO_FIELD" when a copy-done
# backup has no retention_status.
cellar_marks() {
    python3 -c 'import json, sys
spell = {"VALID": ".", "-": ".", "POTENTIALLY_OBSOLETE": "OBSOLETE*"}
rows = []
for line in sys.stdin.read().splitlines():
    ev = json.loads(line)
    if ev.get("event") != "result":
        continue
    for b in ev["data"]["backups"]:
        if b.get("status") in ("DONE", "WAITING_FOR_WALS"):
            rs = b.get("retention_status", "NO_FIELD")
            rows.append((b["backup_id"], spell.get(rs, rs)))
        else:
            rows.append((b["backup_id"], "."))
for bid, mark in sorted(rows):
    print(bid, mark)'
}

# expected_marks MARKS - "ID MARK" lines from the space-separated MARKS.
expected_marks() {
    local -a m
    read -r -a m <<<"$1"
    for ((k = 0; k < ${#IDS[@]}; k++)); do
        printf '%s %s\n' "${IDS[k]}" "${m[k]}"
    done
}

NO_MARKS="cellar list-backup has no retention marks yet"
have_marks=1
for entry in "${SERVERS[@]}"; do
    IFS='|' read -r name policy minred kept marks <<<"$entry"
    what="$name (${policy:-no policy}, minimum_redundancy $minred$([ "$kept" = 1 ] && echo ', keep annotations'))"
    barman -c "$CONF" list-backup "$name" >"$T/$name.barman" 2>"$T/$name.barman.err"
    "$CELLAR" -c "$CONF" list-backup "$name" >"$T/$name.cellar" 2>"$T/$name.cellar.err"
    "$CELLAR" -c "$CONF" -f json list-backup "$name" >"$T/$name.json" 2>>"$T/$name.cellar.err"
    diag "barman list-backup $name:"
    diag "$(cat "$T/$name.barman" "$T/$name.barman.err")"

    is "$(barman_marks <"$T/$name.barman")" "$(expected_marks "$marks")" \
        "a. $what: Barman's marks are the hand-worked ones"
    got=$(cellar_marks <"$T/$name.json")
    if [ -z "$got" ] || [[ $got == *NO_FIELD* ]]; then
        have_marks=0
        skip "b. $what: cellar's marks are Barman's" "$NO_MARKS"
        skip "c. $what: cellar list-backup is Barman's byte for byte" "$NO_MARKS"
        continue
    fi
    is "$got" "$(barman_marks <"$T/$name.barman")" "b. $what: cellar's marks are Barman's"
    same_out=0
    cmp -s "$T/$name.barman" "$T/$name.cellar" || same_out=1
    if [ "$same_out" = 0 ]; then
        pass "c. $what: cellar list-backup is Barman's byte for byte"
    else
        fail "c. $what: cellar list-backup is Barman's byte for byte"
        diag "$(diff -u "$T/$name.barman" "$T/$name.cellar" | head -n 40)"
    fi
done

# --- show-backup: "Retention Policy" of every backup --------------------------------
# retention_line TOOL SERVER ID - the value of that line (nothing for a
# backup whose show-backup has no catalogue block: FAILED).
retention_line() {
    "$@" | sed -n 's/^    Retention Policy     : //p'
}

for name in w7dm4 r2k none; do
    if [ "$have_marks" = 0 ]; then
        skip "show-backup $name: every backup's Retention Policy line is Barman's" "$NO_MARKS"
        continue
    fi
    want="" got=""
    for id in "${IDS[@]}"; do
        want+="$id=$(retention_line barman -c "$CONF" show-backup "$name" "$id") "
        got+="$id=$(retention_line "$CELLAR" -c "$CONF" show-backup "$name" "$id") "
    done
    diag "barman show-backup $name, Retention Policy: $want"
    is "$got" "$want" "show-backup $name: every backup's Retention Policy line is Barman's"
done

# --- the warning when minimum_redundancy raises the redundancy ------------------------
like "$(grep 'barman.retention_policies WARNING' "$LOG")" \
    'Retention policy redundancy \(1\) is lower than the required minimum redundancy \(2\)' \
    "Barman logged that minimum_redundancy 2 raises REDUNDANCY 1"
if [ "$have_marks" = 1 ]; then
    like "$(grep ' cellar WARNING' "$LOG")" \
        'r1m2: retention policy redundancy \(1\) is lower than the required minimum redundancy \(2\): enforcing 2' \
        "cellar logged it too"
else
    skip "cellar logged it too" "$NO_MARKS"
fi
is "$(cat "$T/r1m2.cellar.err" "$T/r1m2.barman.err")" "" \
    "neither said it on the terminal"
