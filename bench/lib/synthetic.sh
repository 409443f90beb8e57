# bench/lib/synthetic.sh - a synthetic Barman home for the catalogue benchmarks.
#
# synthetic_home WORK BACKUPS SEGMENTS writes WORK/bench.conf (server
# "bench", Barman's [barman] section) and WORK/home/bench: an xlog.db of
# SEGMENTS archived 16 MiB segments on timeline 1 (gzip-sized, one every
# 10 seconds) and BACKUPS DONE backups spread evenly over them, each with a
# complete Barman 3 backup.info. Both Barman and cellar read it.

# shellcheck shell=bash

synthetic_home() {
local work=$1 backups=$2 segments=$3
local home=$work/home
mkdir -p "$home/bench/base" "$home/bench/wals"
cat >"$work/bench.conf" <<CONF
[barman]
barman_home = $home
barman_user = $(id -un)
log_file = $work/barman.log

[bench]
description = synthetic catalogue
conninfo = host=127.0.0.1 port=1 user=postgres
backup_method = local-rsync
backup_options = concurrent_backup
archiver = on
CONF

# SEGMENTS segments of 16 MiB on timeline 1, gzip-sized, one every
# 10 seconds; a backup every SEGMENTS/BACKUPS segments.
awk -v segs="$segments" -v backups="$backups" -v home="$home/bench" '
function segname(n) { return sprintf("00000001%08X%08X", int(n / 256), n % 256) }
BEGIN {
    t0 = 1790000000
    xlog = home "/wals/xlog.db"
    for (n = 1; n <= segs; n++) {
        name = segname(n)
        printf "%s\t%d\t%.6f\tgzip\n", name, 16400 + n % 97, t0 + n * 10 >> xlog
    }
    step = int(segs / backups)
    for (b = 0; b < backups; b++) {
        begin = 1 + b * step; end = begin + 1
        t = t0 + begin * 10
        id = strftime("%Y%m%dT%H%M%S", t, 1)
        dir = home "/base/" id
        system("mkdir -p " dir)
        f = dir "/backup.info"
        printf "backup_label=None\nbegin_offset=40\nbegin_time=%s+00:00\n", strftime("%Y-%m-%d %H:%M:%S", t, 1) > f
        printf "begin_wal=%s\nbegin_xlog=%X/%X\ncompression=None\nconfig_file=/pg/postgresql.conf\n", segname(begin), int(begin / 256), (begin % 256) * 16777216 + 40 > f
        printf "copy_stats={\x27copy_time\x27: 12.5, \x27total_time\x27: 13.0}\ndeduplicated_size=%d\n", 1000000 + b, 1000000 + b > f
        printf "end_offset=256\nend_time=%s+00:00\nend_wal=%s\nend_xlog=%X/%X\n", strftime("%Y-%m-%d %H:%M:%S", t + 12, 1), segname(end), int(end / 256), (end % 256) * 16777216 + 256 > f
        printf "error=None\nhba_file=/pg/pg_hba.conf\nident_file=/pg/pg_ident.conf\nincluded_files=None\nmode=rsync-concurrent\n" > f
        printf "pgdata=/pg\nserver_name=bench\nsize=%d\nstatus=DONE\nsystemid=7000000000000000001\ntablespaces=None\n", 50000000 + b > f
        printf "timeline=1\nversion=150018\nxlog_segment_size=16777216\n" > f
        close(f)
    }
}'
mkdir -p "$home/bench/wals/0000000100000000"
}
