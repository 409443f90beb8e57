#!/bin/bash
# tests/integration/t_wal_barman_compat.sh - one WAL archive, two tools (TAP).
#
# A PostgreSQL 15 cluster ships each WAL file three ways (archive_command):
# a plain copy kept as the reference, `cellar put-wal cel`, and a safe cp
# into the incoming directory of server bm. One configuration file serves
# both tools.
#   a. Barman 3.4 on cellar's archive: cellar archives server cel with gzip,
#      then bzip2; barman get-wal returns every file byte-identical; barman
#      rebuild-xlogdb writes the same names, sizes and compressions as
#      cellar's xlog.db (times compared as floats), and leaves cellar's
#      xlog.db.cellar-targets as it was; barman check reports no
#      archiver error. zstd and lz4, which Barman 3.4 does not know: with
#      the configuration cellar used (compression = zstd / lz4) barman
#      get-wal exits 0 and writes the compressed bytes as they are (a
#      restore would get garbage) and barman check fails "compression
#      settings"; with compression = custom, custom_decompression_filter and
#      custom_compression_magic it returns the original bytes; without the
#      magic, an uncompressed file in the same archive is sent through the
#      filter and is lost to Barman.
#   b. cellar on Barman's archive: barman archive-wal (gzip, then bzip2)
#      archives server bm; cellar get-wal returns every file identical;
#      cellar rebuild-xlogdb on a copy writes Barman's names, sizes and
#      compressions; a following cellar archive-wal appends to Barman's
#      xlog.db without touching its lines, and Barman reads the result.
# Needs root (Barman runs as barman_user = root; the cluster as postgres).
# Run: tests/run.sh tests/integration/t_wal_barman_compat.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 41

home=$T/home
copy=$T/copy
conf=$T/both.conf
mkdir -p "$home/cel/incoming" "$home/bm/incoming" "$copy"
chmod 0755 "$home"
chown -R postgres: "$home/cel" "$home/bm" "$copy"

# write_conf CEL_COMPRESSION BM_COMPRESSION - the configuration both tools read
write_conf() {
    cat >"$conf" <<EOF
[barman]
barman_home = $home
barman_user = $(id -un)
log_file = $T/barman.log
path_prefix = $PG_BINDIR

[cel]
description = "archived by cellar"
conninfo = ${PG_MAIN_CONNINFO:-host=127.0.0.1}
streaming_conninfo = ${PG_MAIN_CONNINFO:-host=127.0.0.1}
backup_method = postgres
archiver = on
compression = $1

[bm]
description = "archived by Barman"
conninfo = ${PG_MAIN_CONNINFO:-host=127.0.0.1}
streaming_conninfo = ${PG_MAIN_CONNINFO:-host=127.0.0.1}
backup_method = postgres
archiver = on
compression = $2

[z]
description = "archived by cellar with zstd"
conninfo = ${PG_MAIN_CONNINFO:-host=127.0.0.1}
backup_method = postgres
archiver = on
compression = ${3:-zstd}

[l]
description = "archived by cellar with lz4"
conninfo = ${PG_MAIN_CONNINFO:-host=127.0.0.1}
backup_method = postgres
archiver = on
compression = lz4
EOF
    chmod 0644 "$conf"
}
write_conf gzip gzip

to_bm=$(pg_archive_command "$home/bm/incoming") || tap_bail "no archive_command"
export PG_ARCHIVE_COMMAND="cp %p $copy/%f && $CELLAR -c $conf put-wal cel %p && $to_bm"
pg_start main || tap_bail "cannot start PostgreSQL"
write_conf gzip gzip # now with the port

bm() { barman -c "$conf" "$@"; }
cel() { "$CELLAR" -c "$conf" "$@"; }
no_ready() { ! compgen -G "$PG_MAIN_DATA/pg_wal/archive_status/*.ready" >/dev/null; }
# make_wal N - N rounds of writes, each closed with pg_switch_wal; wait until shipped
make_wal() {
    local i
    for ((i = 0; i < $1; i++)); do
        pg_sql main "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g" &&
            pg_sql main "SELECT pg_switch_wal()" >/dev/null || return 1
    done
    wait_for 30 no_ready
}
# same_through TOOL SERVER NAME... - TOOL get-wal returns each NAME identical to the copy
same_through() {
    local tool=$1 s=$2 n bad=""
    shift 2
    for n in "$@"; do
        "$tool" get-wal "$s" "$n" >"$T/got" 2>"$T/got.err" && cmp -s "$copy/$n" "$T/got" ||
            bad+=" $n"
    done
    [ -z "$bad" ] || diag "$tool get-wal $s: not identical:$bad"
    [ -z "$bad" ]
}
# xlogdb_agree A B - two xlog.db files list the same names, sizes and
# compressions, in the same order, with times equal as floats (to 1 µs)
xlogdb_agree() {
    python3 - "$1" "$2" <<'EOF'
import sys
def load(p):
    rows = []
    for line in open(p):
        f = line.split()
        rows.append((f[0], int(f[1]), float(f[2]), f[3] if len(f) > 3 else "None"))
    return rows
a, b = load(sys.argv[1]), load(sys.argv[2])
bad = [(x, y) for x, y in zip(a, b) if x[0] != y[0] or x[1] != y[1] or x[3] != y[3]
       or abs(x[2] - y[2]) > 1e-6]
exact = sum(1 for x, y in zip(a, b) if x[2] == y[2])
print(f"# {len(a)} and {len(b)} lines, {exact} times bit-identical", file=sys.stderr)
for x, y in bad[:5]:
    print(f"# {x} != {y}", file=sys.stderr)
sys.exit(0 if len(a) == len(b) and not bad else 1)
EOF
}
# shipped - the names of the WAL files PostgreSQL shipped, sorted
shipped() { (cd "$copy" && ls | LC_ALL=C sort); }

pg_sql main "CREATE TABLE t (id int, v text)" >/dev/null

# --- a. Barman 3.4 on cellar's archive -----------------------------------------------
make_wal 3 || tap_bail "no WAL"
ok "cellar archive-wal cel (gzip)" cel archive-wal cel
write_conf bzip2 gzip
make_wal 3 || tap_bail "no WAL"
ok "cellar archive-wal cel (bzip2)" cel archive-wal cel
mapfile -t first < <(shipped)
like "$(cut -f4 "$home/cel/wals/xlog.db" | sort -u | tr '\n' ' ')" "^bzip2 gzip $" \
    "cellar's xlog.db records gzip and bzip2"
ok "barman get-wal returns every segment of cellar's archive identical" \
    same_through bm cel "${first[@]}"
cp "$home/cel/wals/xlog.db" "$T/cel.xlog.db"
ok "cellar's recovery-target index is beside xlog.db" \
    cp "$home/cel/wals/xlog.db.cellar-targets" "$T/cel.targets"
ok "barman rebuild-xlogdb on cellar's archive" bm rebuild-xlogdb cel
ok "Barman leaves the index alone (its rebuild skips every xlog.db* name)" \
    cmp "$T/cel.targets" "$home/cel/wals/xlog.db.cellar-targets"
ok "Barman's rebuilt xlog.db has cellar's names, sizes, compressions and times" \
    xlogdb_agree "$T/cel.xlog.db" "$home/cel/wals/xlog.db"
bm check cel >"$T/check.out" 2>&1
diag "$(cat "$T/check.out")"
like "$(cat "$T/check.out")" $'\tarchiver errors: OK' "barman check: archiver errors OK"
unlike "$(cat "$T/check.out")" "WAL archive: FAILED|compression settings: FAILED" \
    "barman check: WAL archive and compression settings not FAILED"

# zstd and lz4: what Barman 3.4 does with them
for s in z l; do
    mkdir -p "$home/$s/incoming"
done
# two uncompressed files first in z (an archive whose compression changed)
write_conf bzip2 gzip none
cp "$copy/${first[0]}" "$copy/${first[1]}" "$home/z/incoming/"
ok "cellar archive-wal z (no compression)" cel archive-wal z
write_conf bzip2 gzip zstd
for n in "${first[@]:2}"; do cp "$copy/$n" "$home/z/incoming/"; done
for n in "${first[@]}"; do cp "$copy/$n" "$home/l/incoming/"; done
ok "cellar archive-wal z (zstd) and l (lz4)" cel archive-wal z l
zs=${first[2]}
bm get-wal z "$zs" >"$T/got" 2>"$T/got.err"
is "$?" 0 "barman get-wal of a zstd file, compression = zstd: exits 0"
is "$(head -c 4 "$T/got" | od -An -tx1 | tr -d ' \n')" 28b52ffd \
    "and writes the zstd bytes as they are, not the WAL segment"
ok "which are the archived file, byte for byte" cmp "$T/got" "$home/z/wals/${zs:0:16}/$zs"
bm get-wal l "$zs" >"$T/got" 2>/dev/null
is "$(head -c 4 "$T/got" | od -An -tx1 | tr -d ' \n')" 04224d18 \
    "barman get-wal of an lz4 file, compression = lz4: the lz4 bytes as they are"
like "$(bm check z 2>&1)" "compression settings: FAILED" \
    "barman check says compression = zstd is not a setting it knows"

# the same archives, with Barman configured for custom compression
custom=$T/barman-custom.conf
# custom_conf ZMAGIC LMAGIC - Barman-only configuration for z and l
custom_conf() {
    cat >"$custom" <<EOF
[barman]
barman_home = $home
barman_user = $(id -un)
log_file = $T/barman.log

[z]
description = "zstd as Barman 3.4 can read it"
conninfo = $PG_MAIN_CONNINFO
backup_method = postgres
archiver = on
compression = custom
custom_compression_filter = zstd -c
custom_decompression_filter = zstd -dc
$1

[l]
description = "lz4 as Barman 3.4 can read it"
conninfo = $PG_MAIN_CONNINFO
backup_method = postgres
archiver = on
compression = custom
custom_compression_filter = lz4 -c
custom_decompression_filter = lz4 -dc
$2
EOF
}
bmc() { barman -c "$custom" "$@"; }
custom_conf "custom_compression_magic = 0x28b52ffd" "custom_compression_magic = 0x04224d18"
ok "barman get-wal with compression = custom + filter + magic: zstd files identical" \
    same_through bmc z "${first[@]:2}"
ok "the uncompressed files of the same archive identical too" \
    same_through bmc z "${first[@]:0:2}"
ok "lz4 files identical" same_through bmc l "${first[@]}"
custom_conf "" ""
bmc get-wal z "${first[0]}" >"$T/got" 2>"$T/got.err"
rc=$?
diag "barman get-wal of an uncompressed file, custom without magic: exit $rc, $(wc -c <"$T/got") bytes: $(head -c 300 "$T/got.err")"
is "$rc" 1 "without the magic, barman get-wal of an uncompressed file fails"
like "$(cat "$T/got.err")" "Error decompressing WAL" \
    "because Barman takes every file it cannot identify for custom-compressed"
ok "zstd files still come back (every unknown file is assumed custom)" \
    same_through bmc z "${first[@]:2:2}"

# --- b. cellar on Barman's archive --------------------------------------------------------
ok "barman archive-wal bm (gzip)" bm archive-wal bm
write_conf bzip2 bzip2
make_wal 2 || tap_bail "no WAL"
ok "barman archive-wal bm (bzip2)" bm archive-wal bm
bw=$home/bm/wals
like "$(cut -f4 "$bw/xlog.db" | sort -u | tr '\n' ' ')" "^bzip2 gzip $" \
    "Barman's xlog.db records gzip and bzip2"
mapfile -t all < <(shipped)
is "$(cut -f1 "$bw/xlog.db" | tr '\n' ' ')" "$(printf '%s ' "${all[@]}")" \
    "Barman archived everything PostgreSQL shipped"
ok "cellar get-wal returns every segment of Barman's archive identical" \
    same_through cel bm "${all[@]}"

# rebuild on a copy of Barman's archive
mkdir -p "$T/home2"
cp -a "$home/bm" "$T/home2/bm"
sed "s|^barman_home = .*|barman_home = $T/home2|" "$conf" >"$T/home2.conf"
ok "cellar rebuild-xlogdb on a copy of Barman's archive" \
    "$CELLAR" -c "$T/home2.conf" rebuild-xlogdb bm
ok "it writes Barman's names, sizes, compressions and times" \
    xlogdb_agree "$bw/xlog.db" "$T/home2/bm/wals/xlog.db"

# cellar appends to Barman's xlog.db
cp "$bw/xlog.db" "$T/bm.xlog.db"
make_wal 2 || tap_bail "no WAL"
ok "cellar archive-wal bm after Barman" cel archive-wal bm
n_old=$(wc -l <"$T/bm.xlog.db")
ok "Barman's lines are untouched, at the start" \
    cmp "$T/bm.xlog.db" <(head -n "$n_old" "$bw/xlog.db")
mapfile -t all < <(shipped)
is "$(cut -f1 "$bw/xlog.db" | tr '\n' ' ')" "$(printf '%s ' "${all[@]}")" \
    "cellar's lines follow for the new files, sorted, each once"
like "$(tail -n 2 "$bw/xlog.db" | cut -f4 | sort -u)" "^bzip2$" \
    "with the configured compression, as Barman names it"
ok "barman get-wal reads the files cellar added" same_through bm bm "${all[@]: -2}"
ok "cellar get-wal still reads them all" same_through cel bm "${all[@]}"
cp "$bw/xlog.db" "$T/mixed.xlog.db"
ok "barman rebuild-xlogdb on the mixed archive" bm rebuild-xlogdb bm
ok "Barman agrees with the xlog.db both tools wrote" xlogdb_agree "$T/mixed.xlog.db" "$bw/xlog.db"
like "$(bm check bm 2>&1)" $'\tarchiver errors: OK' "barman check bm: archiver errors OK"
make_wal 1 || tap_bail "no WAL"
ok "and Barman's archive-wal goes on after cellar's" bm archive-wal bm
mapfile -t all < <(shipped)
is "$(cut -f1 "$bw/xlog.db" | tr '\n' ' ')" "$(printf '%s ' "${all[@]}")" \
    "xlog.db lists every shipped file once, in order"
