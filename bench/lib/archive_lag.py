#!/usr/bin/python3
# bench/lib/archive_lag.py - how far WAL archives are behind a live
# PostgreSQL primary, sampled while a load runs (bench/streaming.sh).
#
# Every INTERVAL seconds, one query on a kept connection reads
# pg_current_wal_lsn() and, for each --app, the write_lsn and flush_lsn
# pg_stat_replication shows for that application_name; then each --dir row
# is read: the newest position that is in the row's directories.
#   a complete segment (24 hex digits, in any of the directories or in a
#   16-hex-digit subdirectory of one: wals/<hash>/) counts up to its end;
#   a <segment>.partial (pg_receivewal's file being received) counts up to
#   its last byte that is not zero: pg_receivewal creates the file full of
#   zeros and writes what it receives at once (write(2), no buffering), so
#   the received prefix is what is not zero. The 8 KiB WAL pages received
#   start with a page header (never zero), so a binary search over page
#   starts finds the last page received, then the last non-zero byte in it.
#   A record whose last bytes are zero counts a few bytes short.
# The files are read through the page cache: "received" means written by
# pg_receivewal, not fsynced (pg_receivewal fsyncs a segment when it
# completes it, or every write with --synchronous).
#
# The lag of an observation (position P seen at time t):
#   bytes   = the primary's position at t (pg_current_wal_lsn interpolated
#             between the samples around t) - P, at least 0
#   seconds = t - the time the primary's position reached P (interpolated
#             the same way), at least 0: the age of the newest WAL the row
#             has.
# Only observations made while the file START exists are counted (the
# script creates it when the load begins, after a pg_switch_wal, so every
# counted P lies inside the sampled timeline); sampling ends when the file
# STOP exists. Then one line per row on stdout, tab-separated:
#   ROW  OBSERVATIONS  MEDIAN_BYTES  P95_BYTES  MEDIAN_S  P95_S  MAX_S
# and one line "wal  BYTES  SECONDS" (WAL written while counting).
# p95: the nearest-rank 95th percentile.
#
# Usage: archive_lag.py --conninfo C --interval 0.5 --start FILE --stop FILE
#            [--dir ROW=DIR[,DIR...]]... [--app ROW=APPLICATION_NAME]...
# (--app ROW makes two rows: ROW.write and ROW.flush)
# Run by /usr/bin/python3 (psycopg2 comes with Debian's Barman).
import argparse
import os
import re
import sys
import time

import psycopg2

SEG_RE = re.compile(r"^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial)?$")
HASH_RE = re.compile(r"^[0-9A-F]{16}$")
PAGE = 8192


def parse_lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def received_bytes(path, size):
    """Bytes of a .partial received: up to its last non-zero byte."""
    try:
        with open(path, "rb") as f:
            def page_used(n):
                f.seek(n * PAGE)
                return f.read(2) not in (b"", b"\0\0")
            lo, hi = -1, size // PAGE  # page lo is used (or -1), page hi is not
            if page_used(0):
                lo = 0
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if page_used(mid):
                        lo = mid
                    else:
                        hi = mid
            if lo < 0:
                return 0
            f.seek(lo * PAGE)
            data = f.read(PAGE).rstrip(b"\0")
            return lo * PAGE + len(data)
    except OSError:
        return None


def newest_position(dirs, segsize):
    best = None
    for top in dirs:
        try:
            entries = os.listdir(top)
        except OSError:
            continue
        for name in entries:
            names = [(top, name)]
            if HASH_RE.match(name):
                try:
                    names = [(os.path.join(top, name), n) for n in os.listdir(os.path.join(top, name))]
                except OSError:
                    continue
            for d, n in names:
                m = SEG_RE.match(n)
                if not m:
                    continue
                log, seg = int(m.group(2), 16), int(m.group(3), 16)
                start = (log * (0x100000000 // segsize) + seg) * segsize
                if m.group(4):
                    got = received_bytes(os.path.join(d, n), segsize)
                    if got is None:
                        continue
                    pos = start + got
                else:
                    pos = start + segsize
                if best is None or pos > best:
                    best = pos
    return best


def interp(xs, ys, x):
    """y at x on the polyline (xs ascending), clamped at the ends."""
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    lo, hi = 0, len(xs) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    if xs[hi] == xs[lo]:
        return ys[hi]
    return ys[lo] + (ys[hi] - ys[lo]) * (x - xs[lo]) / (xs[hi] - xs[lo])


def time_reached(ts, lsns, pos):
    """When the primary's position first reached pos (None: not yet)."""
    for i, lsn in enumerate(lsns):
        if lsn >= pos:
            if i == 0 or lsns[i] == lsns[i - 1]:
                return ts[i]
            return ts[i - 1] + (ts[i] - ts[i - 1]) * (pos - lsns[i - 1]) / (lsns[i] - lsns[i - 1])
    return None


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conninfo", required=True)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--start", required=True)
    ap.add_argument("--stop", required=True)
    ap.add_argument("--dir", action="append", default=[])
    ap.add_argument("--app", action="append", default=[])
    a = ap.parse_args()
    dir_rows = [(r.split("=", 1)[0], r.split("=", 1)[1].split(",")) for r in a.dir]
    app_rows = [tuple(r.split("=", 1)) for r in a.app]

    conn = psycopg2.connect(a.conninfo)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'")
    segsize = cur.fetchone()[0]

    ts, lsns = [], []  # the primary's timeline
    obs = []  # (row, t, position)
    counting_from = None

    def sample():
        t1 = time.time()
        cur.execute("SELECT pg_current_wal_lsn()::text, "
                    "(SELECT json_object_agg(application_name, json_build_array("
                    "write_lsn::text, flush_lsn::text)) FROM pg_stat_replication)")
        lsn, rep = cur.fetchone()
        t2 = time.time()
        t = (t1 + t2) / 2
        ts.append(t)
        lsns.append(parse_lsn(lsn))
        return t, rep or {}

    while not os.path.exists(a.stop):
        tick = time.time()
        t, rep = sample()
        counting = os.path.exists(a.start)
        if counting and counting_from is None:
            counting_from = t
        for row, app in app_rows:
            w, f = rep.get(app, [None, None])
            if counting and w:
                obs.append((row + ".write", t, parse_lsn(w)))
            if counting and f:
                obs.append((row + ".flush", t, parse_lsn(f)))
        for row, dirs in dir_rows:
            pos = newest_position(dirs, segsize)
            t_obs = time.time()
            if counting and pos is not None:
                obs.append((row, t_obs, pos))
        time.sleep(max(0.0, a.interval - (time.time() - tick)))
    t_end, _ = sample()  # brackets the last observations

    rows = [r for r, _ in dir_rows] + [r + s for r, _ in app_rows for s in (".write", ".flush")]
    for row in rows:
        b, s = [], []
        for r, t, pos in obs:
            if r != row:
                continue
            b.append(max(0.0, interp(ts, lsns, t) - pos))
            reached = time_reached(ts, lsns, pos)
            s.append(0.0 if reached is None else max(0.0, t - reached))
        if not b:
            print("%s\t0\t-\t-\t-\t-\t-" % row)
            continue
        print("%s\t%d\t%.0f\t%.0f\t%.3f\t%.3f\t%.3f"
              % (row, len(b), pct(b, 50), pct(b, 95), pct(s, 50), pct(s, 95), max(s)))
    if counting_from is not None:
        print("wal\t%.0f\t%.1f" % (lsns[-1] - interp(ts, lsns, counting_from), t_end - counting_from))
    else:
        print("wal\t0\t0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
