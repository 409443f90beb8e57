#!/bin/bash
# tests/integration/t_encryption.sh - encryption = gpg for archived WAL (TAP).
#
# Barman 3.14's format, as its encryption.py writes it: each archived WAL
# file is compressed first (compression = gzip here), then a binary OpenPGP
# message to encryption_key_id, under its WAL name; xlog.db's fifth field is
# "gpg". A real PostgreSQL 15 cluster archives through `cellar put-wal`; a
# real throw-away GnuPG home ($T/gnupg, its agent told to cache no
# passphrase) holds a key with a passphrase.
#
#     p0 | backup (encryption = none) | switch to gpg, no key yet: a's WAL
#     stays in incoming | key made, cron archives it encrypted | b | T | c
#
# Checked: the missing key's error and nothing lost; the archived files are
# OpenPGP messages that `gpg --decrypt` with the passphrase turns into the
# gzip of the exact WAL (a copy kept by archive_command); get-wal gives the
# exact WAL back; a file encrypted with the gpg command line as Barman does
# is read by get-wal; a wrong passphrase, or none configured, is a clear
# error and writes nothing; backup refuses the encrypted local-rsync server
# (t_encrypted_backup.sh has the encrypted postgres tar backups); root's
# archive-wal and get-wal with barman_user = barman run with barman's own
# GnuPG home (public key only: archives, and "no private key" until the
# private key is imported); a segment from streaming/ (streaming_archiver =
# on) is archived encrypted too; recover with a wrong passphrase fails
# naming the file; a recovery
# to T through get-wal (as restore_command, run by PostgreSQL as postgres
# with its own GnuPG home) and one with copied WAL hold exactly p0 a b.
# Needs root (the clusters run as postgres). Run: tests/run.sh tests/integration/t_encryption.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 35

command -v gpg >/dev/null || tap_bail "needs gpg (Debian gnupg)"
PASS='correct horse battery staple'
KEY=wal@example.com
export GNUPGHOME=$T/gnupg
mkdir -m 0700 "$GNUPGHOME" || tap_bail "cannot create $GNUPGHOME"
# no cached passphrase: a wrong one must be asked and refused every time
printf 'default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n' >"$GNUPGHOME/gpg-agent.conf"
harness_at_exit env GNUPGHOME="$GNUPGHOME" gpgconf --kill gpg-agent
printf '%s\n' "$PASS" >"$T/pass"
chown root:postgres "$T/pass" && chmod 0640 "$T/pass"

mkdir -p "$T/plain" && chown postgres: "$T/plain"
rec_cluster "encrypted WAL" 1 'compression = gzip'
add_row main p0
"$CELLAR" -c "$conf" backup --wait main >&2 || tap_bail "backup failed"
id1=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
# from now on, archive_command also keeps a plain copy of each segment
pg_sql main "ALTER SYSTEM SET archive_command = 'cp %p $T/plain/%f && $CELLAR -c $conf put-wal main %p'" >/dev/null
pg_sql main "SELECT pg_reload_conf()" >/dev/null
sleep 1

gpg_conf() { # gpg_conf PASSPHRASE_COMMAND - $conf with encryption = gpg
    _rec_write_conf "encrypted WAL" 'compression = gzip' 'encryption = gpg' \
        "encryption_key_id = $KEY" ${1:+"encryption_passphrase_command = $1"}
}

# ---- 1. configuration -------------------------------------------------------------
_rec_write_conf "encrypted WAL" 'encryption = gpg'
out=$("$CELLAR" -c "$conf" show-server main 2>&1)
like "$out" "encryption: gpg needs encryption_key_id" "gpg without encryption_key_id is an error"
like "$out" "$conf:[0-9]+" "(naming the file and line)"
gpg_conf "cat $T/pass"

# ---- 2. no key yet: the WAL stays in incoming ---------------------------------------
add_row main a
out=$(archive_now main main 2>&1)
diag "$out"
like "$out" "no usable public key '$KEY'" "archive-wal without the key says which key is missing"
seg_a=$(cd "$home/main/incoming" && ls | grep -E '^[0-9A-F]{24}$' | head -1)
ok "the segment stays in incoming ($seg_a)" test -n "$seg_a" -a -f "$home/main/incoming/$seg_a"

# ---- 3. the key exists: cron archives it, encrypted -----------------------------------
gpg --batch --pinentry-mode loopback --passphrase "$PASS" \
    --quick-gen-key "cellar test <$KEY>" default default never 2>&1 | sed 's/^/# /' >&2
"$CELLAR" -c "$conf" cron >&2
ok "cron archived it once the key existed" test ! -e "$home/main/incoming/$seg_a"
arch=$home/main/wals/${seg_a:0:16}/$seg_a
xdb=$home/main/wals/xlog.db
[ -f "$home/main-xlog.db" ] && xdb=$home/main-xlog.db
is "$(awk -v w="$seg_a" '$1 == w {print $4 " " $5}' "$xdb")" "gzip gpg" \
    "xlog.db says gzip then gpg for it"
is "$(awk -v w="$seg_a" '$1 == w {print $2}' "$xdb")" "$(stat -c %s "$arch")" \
    "(with the size of the encrypted file)"
ok "the archived file is an OpenPGP message to the key" \
    bash -c "gpg --batch --pinentry-mode error --list-packets '$arch' 2>&1 | grep -q 'pubkey enc packet'"
is "$(od -An -tx1 -N1 "$arch" | tr -d ' ')" 85 "(binary, not armored: a public-key session key packet)"
gpg --batch --pinentry-mode loopback --passphrase-fd 0 --decrypt "$arch" <"$T/pass" 2>/dev/null |
    gzip -dc >"$T/dec_a"
ok "gpg --decrypt with the passphrase gives the gzip of the exact WAL" cmp "$T/dec_a" "$T/plain/$seg_a"

# ---- 4. get-wal -----------------------------------------------------------------------
"$CELLAR" -c "$conf" get-wal main "$seg_a" >"$T/get_a"
ok "get-wal decrypts and decompresses it: the exact WAL" cmp "$T/get_a" "$T/plain/$seg_a"
mkdir "$T/out"
"$CELLAR" -c "$conf" get-wal -o "$T/out" main "$seg_a" >&2
ok "get-wal -o DIR too" cmp "$T/out/$seg_a" "$T/plain/$seg_a"

# a file encrypted by the gpg command line as Barman's encryption.py does (plain
# here: Barman encrypts what it did not compress as it is)
add_row main b
T_BC=$(utc_now main)
add_row main c
archive_now main main >&2 || tap_bail "WAL not archived"
seg_c=$(awk '$5 == "gpg" && length($1) == 24 {n = $1} END {print n}' "$xdb")
arch_c=$home/main/wals/${seg_c:0:16}/$seg_c
gpg --yes --batch --pinentry-mode loopback --compress-level 0 --recipient "$KEY" --encrypt \
    --output "$T/barman_c" "$T/plain/$seg_c" 2>/dev/null
cp "$T/barman_c" "$arch_c"
"$CELLAR" -c "$conf" get-wal main "$seg_c" >"$T/get_c"
ok "a file encrypted with gpg as Barman does is read by get-wal" cmp "$T/get_c" "$T/plain/$seg_c"

# ---- 5. wrong or missing passphrase: clear error, nothing written -------------------------
gpg_conf "echo wrong"
mkdir "$T/bad"
out=$("$CELLAR" -c "$conf" get-wal -o "$T/bad" main "$seg_a" 2>&1)
rc=$?
isnt "$rc" 0 "a wrong passphrase fails"
like "$out" "bad passphrase" "(saying so)"
unlike "$out" "wrong" "(without printing the passphrase)"
is "$(ls -A "$T/bad")" "" "and writes nothing into the output directory"
"$CELLAR" -c "$conf" get-wal main "$seg_a" >"$T/bad_stdout" 2>/dev/null
is "$(stat -c %s "$T/bad_stdout")" 0 "nor anything to standard output"
gpg_conf ""
out=$("$CELLAR" -c "$conf" get-wal main "$seg_a" 2>&1 >/dev/null)
like "$out" "no encryption_passphrase_command is configured" \
    "without encryption_passphrase_command: a clear error"
gpg_conf "cat $T/pass"

# ---- 6. backups that cannot be encrypted are refused ------------------------------------------
out=$("$CELLAR" -c "$conf" backup main 2>&1)
like "$out" "Encryption is set as gpg, but backup_method != postgres" \
    "backup refuses an encrypted local-rsync server (Barman encrypts postgres tar backups only)"
is "$("$CELLAR" -c "$conf" list-backup --minimal main | wc -l)" 1 "(and writes no backup)"

# ---- 7. cellar started as root, running as barman_user = barman -------------------------
# barman's own GnuPG home (GNUPGHOME kept when root becomes barman) with the
# public key only: it archives, and cannot decrypt until the private key is there
bgh=$T/b/gnupg
mkdir -p "$T/b/home/main/incoming" "$bgh" && chmod 0700 "$bgh"
cp "$GNUPGHOME/gpg-agent.conf" "$bgh/"
gpg --export "$KEY" >"$T/b/pub"
gpg --batch --pinentry-mode loopback --passphrase "$PASS" --export-secret-keys "$KEY" >"$T/sec"
chown -R barman: "$T/b"
bgpg() { GNUPGHOME=$bgh runuser -u barman -- gpg --batch "$@"; }
bgpg --import "$T/b/pub" 2>/dev/null
# a key imported from elsewhere must be trusted, as for Barman's gpg --encrypt
fpr=$(gpg --with-colons --fingerprint "$KEY" | awk -F: '$1 == "fpr" {print $10; exit}')
printf '%s:6:\n' "$fpr" | bgpg --import-ownertrust 2>/dev/null
harness_at_exit env GNUPGHOME="$bgh" runuser -u barman -- gpgconf --kill gpg-agent
conf_b=$T/b/cellar.conf
# no compression here: the archived file is the GnuPG message of the WAL itself
backup_conf "$conf_b" barman "$T/b/home" 1 "as barman" 'encryption = gpg' \
    "encryption_key_id = $KEY" "encryption_passphrase_command = cat $T/pass"
sed -i 's/^barman_user = root$/barman_user = barman/' "$conf_b"
install -o barman -g barman -m 0600 "$T/plain/$seg_a" "$T/b/home/main/incoming/$seg_a"
GNUPGHOME=$bgh "$CELLAR" -c "$conf_b" archive-wal main >&2
barch=$T/b/home/main/wals/${seg_a:0:16}/$seg_a
is "$(stat -c %U "$barch" 2>&1)" barman "root's archive-wal ran as barman with barman's GnuPG home"
ok "(uncompressed, encrypted: None and gpg in the 3.14 catalogue)" \
    grep -qE "^$seg_a	[0-9]+	[0-9.]+	None	gpg\$" "$T/b/home/main-xlog.db" "$T/b/home/main/wals/xlog.db"
gpg --batch --pinentry-mode loopback --passphrase-fd 0 --decrypt "$barch" <"$T/pass" \
    2>/dev/null >"$T/b_dec"
ok "gpg --decrypt gives the exact WAL" cmp "$T/b_dec" "$T/plain/$seg_a"
chgrp barman "$T/pass"
out=$(GNUPGHOME=$bgh "$CELLAR" -c "$conf_b" get-wal main "$seg_a" 2>&1 >/dev/null)
like "$out" "GnuPG has no private key it was encrypted to" "without the private key: a clear error"
bgpg --import "$T/sec" 2>/dev/null
GNUPGHOME=$bgh "$CELLAR" -c "$conf_b" get-wal main "$seg_a" >"$T/b_get"
ok "with it, get-wal as barman gives the exact WAL" cmp "$T/b_get" "$T/plain/$seg_a"
chgrp postgres "$T/pass"

# ---- 8. the streaming archiver's directory goes the same way ---------------------------
conf_s=$T/s/cellar.conf
mkdir -p "$T/s/home/main/streaming"
backup_conf "$conf_s" barman "$T/s/home" 1 "streamed" 'encryption = gpg' \
    "encryption_key_id = $KEY" "encryption_passphrase_command = cat $T/pass" \
    'streaming_archiver = on' 'slot_name = s1'
cp "$T/plain/$seg_a" "$T/s/home/main/streaming/$seg_a"
: >"$T/s/home/main/streaming/$(next_seg "$seg_a").partial" # what pg_receivewal is writing
"$CELLAR" -c "$conf_s" archive-wal main >&2
sarch=$T/s/home/main/wals/${seg_a:0:16}/$seg_a
ok "a segment from streaming/ is archived as an OpenPGP message" \
    bash -c "gpg --batch --pinentry-mode error --list-packets '$sarch' 2>&1 | grep -q 'pubkey enc packet'"
"$CELLAR" -c "$conf_s" get-wal main "$seg_a" >"$T/s_get"
ok "(get-wal gives the exact WAL back)" cmp "$T/s_get" "$T/plain/$seg_a"

# ---- 9. recoveries to T ---------------------------------------------------------------
pg_stop main || tap_bail "cannot stop the cluster"
# PostgreSQL runs get-wal as postgres: its own GnuPG home with the key
cp -a "$GNUPGHOME" "$T/gnupg-pg" && rm -f "$T/gnupg-pg"/S.* && chown -R postgres: "$T/gnupg-pg"
harness_at_exit env GNUPGHOME="$T/gnupg-pg" runuser -u postgres -- gpgconf --kill gpg-agent
d=$T/r_getwal
recover_ok "recover --get-wal to T" --get-wal --target-time "$T_BC" \
    --tablespace "tbs1:$T/r_getwal_tbs" main "$id1" "$d"
chown -R postgres: "$d" "$T/r_getwal_tbs"
# get-wal runs as postgres here (no ssh): let it read root's archive
chmod -R a+rX "$home" && chmod a+rw "$T/cellar.log"
GNUPGHOME=$T/gnupg-pg start_rec main "$d" paused || diag "the get-wal recovery did not start"
is "$(rows main)" "p0 a b" "the get-wal recovery holds exactly the rows before T"
pg_stop main

gpg_conf "echo wrong"
rec_run --target-time "$T_BC" --tablespace "tbs1:$T/r_bad_tbs" main "$id1" "$T/r_bad"
isnt "$REC_RC" 0 "recover with a wrong passphrase fails"
like "$REC_OUT" "cannot decrypt WAL file [0-9A-F]+: bad passphrase" "(saying which file and why)"
gpg_conf "cat $T/pass"

d=$T/r_copy
recover_ok "recover with copied WAL to T" --target-time "$T_BC" \
    --tablespace "tbs1:$T/r_copy_tbs" main "$id1" "$d"
ok "the encrypted segment is decrypted into DEST/barman_wal" cmp "$d/barman_wal/$seg_a" "$T/plain/$seg_a"
start_rec main "$d" paused || diag "the copied-WAL recovery did not start"
is "$(rows main)" "p0 a b" "the copied-WAL recovery holds exactly the rows before T"
pg_stop main
