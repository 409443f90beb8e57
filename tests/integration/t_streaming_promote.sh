#!/bin/bash
# tests/integration/t_streaming_promote.sh - WAL streamed from a standby
# that is then promoted: the old timeline's .partial and the new timeline
# (TAP).
#
# A PostgreSQL 15 primary with archive_mode = off and a standby made from it
# with pg_basebackup -R. cellar streams from the standby: conninfo and
# streaming_conninfo point at it, primary_conninfo at the primary, and the
# slot is on the standby (receive-wal --create-slot). cron starts the
# receiver; a postgres-method backup is taken from the standby; rows are
# written on the primary and reach the receiver through the standby. Then
# the failover: the receiver is killed, the primary stopped, the standby
# promoted (pg_ctl promote) to timeline 2, a row written on it. cron starts
# a new receiver: pg_receivewal finds its place from streaming/ (the old
# timeline's .partial), finishes timeline 1 up to the switch point and goes
# on on timeline 2. (A receiver left running follows the switch by itself,
# the same files result.) One snapshot of the server's directory, copied
# twice: Barman 3.4's archive-wal on one copy and cellar's on the other
# leave the same files, as Barman's StreamingWalArchiver decides
# (wal_archiver.py: of several .partial files the newest stays, the older
# ones are archived under their .partial name), and list-server counted
# those files as waiting before (the old .partial among them, which it
# used to leave out). On the live home, rows are
# written on the new primary and switch-wal --archive archives its
# segments; archive-wal has archived the old timeline's last segment as
# <segment>.partial in its hash directory, kept the new timeline's .partial
# in streaming/, archived 00000002.history, and no segment is missing on
# either timeline (timeline 1 from the backup's first segment to the one
# before the .partial, timeline 2 from the switch segment to the last
# archived). Recovered to the end (cellar picks timeline 2, the latest),
# the copy starts and holds every row written before and after the
# promotion.
# Run: tests/run.sh tests/integration/t_streaming_promote.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 33

home=$T/home
conf=$T/cellar.conf
mkdir -p "$home" || tap_bail "cannot create $home"
pg_start main 'archive_mode = off' || tap_bail "cannot start the primary"
pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text)" >/dev/null || tap_bail "no table"
add_row main a

sb=$T/standby
mkdir -p "$sb" && chown postgres: "$sb" && chmod 0700 "$sb" || tap_bail "cannot create $sb"
runuser -u postgres -- "$PG_BINDIR/pg_basebackup" -D "$sb" -h 127.0.0.1 -p "$PG_MAIN_PORT" \
    -U postgres -R -X stream -c fast >&2 || tap_bail "pg_basebackup -R failed"
pg_start_datadir standby "$sb" || tap_bail "cannot start the standby"
is "$(pg_sql standby "SELECT pg_is_in_recovery()")" t "the standby is in recovery"

primary_ci="host=127.0.0.1 port=$PG_MAIN_PORT user=postgres dbname=postgres"
write_conf() { # write_conf [LINE...]: cellar streams from the standby
    backup_conf "$conf" cellar "$home" "$PG_STANDBY_PORT" "promoted standby" \
        'backup_method = postgres' 'immediate_checkpoint = true' \
        "streaming_conninfo = host=127.0.0.1 port=$PG_STANDBY_PORT user=postgres" \
        'archiver = off' 'streaming_archiver = on' 'slot_name = cellar_promote' "$@"
}
write_conf "primary_conninfo = $primary_ci"
harness_at_exit "$CELLAR" -c "$conf" receive-wal --stop main

slot_active() {
    pg_sql standby "SELECT active FROM pg_replication_slots WHERE slot_name = 'cellar_promote'"
}
receiving() { # the receiver streams from the standby through the slot
    [ "$(pg_sql standby "SELECT count(*) FROM pg_stat_replication
                         WHERE application_name = 'barman_receive_wal'")" = 1 ] &&
        [ "$(slot_active)" = t ]
}
streaming_dir=$home/main/streaming
in_streaming() { compgen -G "$streaming_dir/$1" >/dev/null; }
timeline() { pg_sql "$1" "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"; }
archived() { awk -v w="$1" '$1 == w {f = 1} END {exit !f}' "$home/main/wals/xlog.db"; }
# segments TLI FIRST LAST: the segments of xlog.db on timeline TLI form one
# run without a gap from FIRST to LAST (16 MiB segments, names without
# .partial)
segments() {
    python3 - "$home/main/wals/xlog.db" "$@" <<'EOF'
import sys
db, tli, first, last = sys.argv[1:]
num = lambda n: int(n[8:16], 16) * 256 + int(n[16:24], 16)
segs = sorted(num(l.split()[0]) for l in open(db)
              if len(l.split()[0]) == 24 and l.split()[0][:8] == tli)
want = list(range(num(first), num(last) + 1))
print("timeline %s: %d segments %s, expected %s..%s" % (tli, len(segs),
      [hex(s) for s in segs], first, last), file=sys.stderr)
sys.exit(0 if segs == want else 1)
EOF
}

# ---- the slot on the standby, the receiver, a backup from the standby ----------------
"$CELLAR" -c "$conf" receive-wal --create-slot main >&2
is "$(pg_sql standby "SELECT slot_type FROM pg_replication_slots WHERE slot_name = 'cellar_promote'")" \
    physical "receive-wal --create-slot makes a physical slot on the standby"
is "$(pg_sql main "SELECT count(*) FROM pg_replication_slots")" 0 "and none on the primary"
out=$("$CELLAR" -c "$conf" cron 2>&1)
diag "$out"
like "$out" "receive-wal started \(PID [0-9]+\)" "cron starts a receiver"
ok "it streams from the standby through the slot" wait_for 60 receiving

add_row main b
out=$("$CELLAR" -c "$conf" backup --wait --wait-timeout 120 main 2>&1)
is "$?" 0 "a postgres-method backup from the standby succeeds"
diag "$out"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
is "$(backup_info "$conf" main "$id" status)/$(backup_info "$conf" main "$id" timeline)" DONE/1 \
    "it is DONE, on timeline 1"
begin_wal=$(backup_info "$conf" main "$id" begin_wal)

# more rows on the primary, then a switch: the standby and the receiver
# get them on timeline 1
add_row main c
pg_sql main "SELECT pg_switch_wal()" >/dev/null
add_row main d
replayed() { [ "$(rows standby)" = "$(rows main)" ]; }
ok "the standby has replayed every row of the primary" wait_for 60 replayed
pg_sql main "SELECT pg_switch_wal()" >/dev/null
add_row main e
ok "and the last one" wait_for 60 replayed
received_all() { # the receiver has what the standby replayed
    local lsn
    lsn=$(pg_sql standby "SELECT pg_last_wal_replay_lsn()")
    [ "$(pg_sql standby "SELECT write_lsn >= '$lsn' FROM pg_stat_replication
                         WHERE application_name = 'barman_receive_wal'")" = t ]
}
ok "the receiver has written everything the standby replayed" wait_for 60 received_all
old=$(cd "$streaming_dir" && ls -- 00000001*.partial)
diag "timeline 1 is received into $old"

# ---- failover: the primary stops, the standby is promoted -----------------------------------
# the receiver goes down with the old primary (it would otherwise follow
# the switch by itself): cron must start one that finds its place from
# the files of streaming/, on timeline 1, and crosses to timeline 2
lock=$home/.main-receive-wal.lock
lock_free() { flock -n "$lock" true; }
receiver=$(head -1 "$lock")
kill -KILL "$receiver"
ok "the receiver is killed: its lock is free" wait_for 60 lock_free
slot_idle() { [ "$(slot_active)" = f ]; }
wait_for 60 slot_idle || diag "the slot is still active"
pg_stop main >&2
runuser -u postgres -- "$PG_BINDIR/pg_ctl" promote -w -D "$sb" >&2
ok "pg_ctl promote: the standby leaves recovery" wait_for 60 promoted standby
is "$(timeline standby)" 00000002 "it writes timeline 2"
add_row standby f
# the promoted server is the primary now: no primary_conninfo any more
write_conf
out=$("$CELLAR" -c "$conf" cron 2>&1)
diag "$out"
like "$out" "receive-wal started \(PID [0-9]+\)" "cron starts a new receiver"
ok "it streams from the promoted server through the slot" wait_for 60 receiving
ok "and has crossed to timeline 2 in streaming/" wait_for 60 in_streaming '00000002*.partial'
diag "streaming/: $(ls "$streaming_dir" | tr '\n' ' ')"

# ---- Barman 3.4's streaming archiver on a copy of these files ----------------------------------
# one snapshot of the server's directory, twice: Barman's archive-wal runs
# on one copy, cellar's on the other, and they must leave the same files
mkdir -p "$T/bm" && cp -a "$home/main" "$T/bm/" && cp -a "$T/bm" "$T/cel" ||
    tap_bail "cannot copy $home/main"
for copy in bm cel; do
    sed -e "s|^barman_home = .*|barman_home = $T/$copy|" -e "s|^log_file = .*|log_file = $T/$copy.log|" \
        -e 's|^\[cellar\]|[barman]|' "$conf" >"$T/$copy.conf"
done
waiting() { # the files list-server counts as waiting for archive-wal in copy $1
    "$CELLAR" -c "$T/$1.conf" -f json list-server | python3 -c '
import json, sys
for line in sys.stdin:
    ev = json.loads(line)
    if ev.get("event") == "result":
        print(ev["data"]["main"]["wal_archive"]["waiting_wals"])'
}
indexed() { wc -l <"$T/$1/main/wals/xlog.db"; }
before=$(indexed cel)
waiting=$(waiting cel)
barman -c "$T/bm.conf" archive-wal main >&2
"$CELLAR" -c "$T/cel.conf" archive-wal main >&2
is "$waiting" "$(($(indexed cel) - before))" \
    "list-server counted as waiting the files archive-wal took (the old .partial among them)"
files() { (cd "$T/$1/main" && find wals streaming -type f ! -name '.*' ! -name xlog.db | sort); }
xlog_names() { cut -f1 "$T/$1/main/wals/xlog.db" | sort; }
diag "Barman 3.4 left: $(files bm | tr '\n' ' ')"
like "$(files bm)" "wals/${old:0:16}/$old" "Barman 3.4 archives the old timeline's .partial under its name"
is "$(files cel)" "$(files bm)" "cellar's archive-wal leaves the same files in wals/ and streaming/"
is "$(xlog_names cel)" "$(xlog_names bm)" "and the same names in xlog.db"

add_row standby g
out=$("$CELLAR" -c "$conf" switch-wal --archive --archive-timeout 120 main 2>&1)
is "$?" 0 "switch-wal --archive on the promoted server exits 0"
diag "$out"
add_row standby h
out=$("$CELLAR" -c "$conf" switch-wal --archive --archive-timeout 120 main 2>&1)
is "$?" 0 "and again after one more row"
last=$(printf '%s\n' "$out" | sed -n 's/.*The WAL file \([0-9A-F]\{24\}\) has been archived.*/\1/p')
diag "last archived: $last"
"$CELLAR" -c "$conf" archive-wal main >&2

# ---- what archive-wal made of the two timelines --------------------------------------------
ok "the old timeline's last segment is archived as $old" archived "$old"
ok "in its hash directory, under that name" test -f "$home/main/wals/${old:0:16}/$old"
ok "it has left streaming/" test ! -e "$streaming_dir/$old"
ok "the newest .partial (timeline 2) stays in streaming/" in_streaming '00000002*.partial'
ok "00000002.history is archived" archived 00000002.history
ok "timeline 1 has every segment from the backup's first to the one before the .partial" \
    segments 00000001 "$begin_wal" "$(printf '%s%08X%08X' 00000001 \
    $(((16#${old:8:8} * 256 + 16#${old:16:8} - 1) / 256)) \
    $(((16#${old:8:8} * 256 + 16#${old:16:8} - 1) % 256)))"
ok "timeline 2 has every segment from the switch to the last archived" \
    segments 00000002 "00000002${old:8:16}" "$last"

# ---- recovery to the end follows the new timeline -------------------------------------------
expected=$(rows standby)
d=$T/rec
recover_ok "the backup recovers to the end of the archive" main "$id" "$d"
ok "the copy starts and finishes recovery" start_rec rec "$d" promoted
is "$(rows rec)" "$expected" "it holds every row, before and after the promotion ($expected)"
is "$(timeline rec)" 00000003 "and goes on on a new timeline after timeline 2"
pg_stop rec >&2
