#!/bin/bash
# tests/integration/t_encrypted_backup.sh - encrypted tar backups (TAP).
#
# Barman 3.14's encryption = gpg for backup_method = postgres with
# backup_compression = gzip and backup_compression_format = tar: each tar
# file pg_basebackup wrote in data/ (base.tar.gz, OID.tar.gz) becomes
# NAME.gpg, a binary OpenPGP message to encryption_key_id, and backup.info
# says encryption=gpg. A real PostgreSQL 15 cluster with a tablespace; cellar
# runs as barman_user = barman (started as root), with barman's own GnuPG
# home holding a key with a passphrase (its agent caches none); two servers:
# main (the encrypted tar server, its WAL archived encrypted too) and other
# (encryption = gpg with local-rsync, which cannot encrypt).
#
# Checked: check's encryption line (OK for main, Barman's reason and the fix
# for other); backup of other is refused and writes nothing; backup of main
# leaves only OpenPGP messages (not gzip) owned by barman, no clear archive;
# gpg --decrypt as barman gives the gzip of a tar holding the backup_label
# of the backup; list-backup and show-backup say it is encrypted;
# verify-backup refuses clearly; check-backup works; recover with a wrong
# passphrase or no passphrase command fails clearly and writes nothing into
# the destination or the tablespace location; with the archives encrypted
# again by the gpg command line as Barman does, recover to a time between two
# rows gives a copy that starts and holds exactly the rows before it, locally
# and over --remote-ssh-command (to postgres@127.0.0.1 on a real sshd).
# Needs root (the cluster runs as postgres). Run:
# tests/run.sh tests/integration/t_encrypted_backup.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/backup.sh"
. "$(dirname "$0")/lib/recover.sh"
harness_init || exit 1
tap_plan 46

command -v gpg >/dev/null || tap_bail "needs gpg (Debian gnupg)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"
PASS='correct horse battery staple'
KEY=backup@example.com

# ---- barman's GnuPG home, with a key that has a passphrase -------------------------------
bgh=$T/bgnupg
mkdir -m 0700 "$bgh" || tap_bail "cannot create $bgh"
printf 'default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n' >"$bgh/gpg-agent.conf"
chown -R barman: "$bgh"
export GNUPGHOME=$bgh # kept when cellar, started as root, becomes barman
harness_at_exit env GNUPGHOME="$bgh" runuser -u barman -- gpgconf --kill gpg-agent
bgpg() { runuser -u barman -- env GNUPGHOME="$bgh" gpg --batch "$@"; }
bgpg --pinentry-mode loopback --passphrase "$PASS" \
    --quick-gen-key "cellar backups <$KEY>" default default never 2>&1 | sed 's/^/# /' >&2
printf '%s\n' "$PASS" >"$T/pass"
chown root:barman "$T/pass" && chmod 0640 "$T/pass"

# ---- the cluster, archiving into main's incoming/ -----------------------------------------
home=$T/home
conf=$T/cellar.conf
rec=$T/rec # where barman recovers
mkdir -p "$home/main/incoming" "$home/other/incoming" "$rec"
chown -R barman: "$home" "$rec" && chmod 0755 "$home" "$home/main" && chmod 0777 "$home/main/incoming"
export PG_ARCHIVE_COMMAND="install -m 0644 %p $home/main/incoming/%f"
pg_start main || tap_bail "cannot start PostgreSQL"
unset PG_ARCHIVE_COMMAND
write_conf() { # write_conf PASSPHRASE_COMMAND [MAIN'S KEY]
    {
        printf '[barman]\nbarman_home = %s\nbarman_user = barman\n' "$home"
        printf 'log_file = %s/cellar.log\npath_prefix = %s\n' "$T" "$PG_BINDIR"
        printf '\n[main]\ndescription = "encrypted tar backups"\n'
        printf 'conninfo = host=127.0.0.1 port=%s user=postgres dbname=postgres\n' "$PG_MAIN_PORT"
        printf 'backup_method = postgres\nbackup_compression = gzip\n'
        printf 'backup_compression_format = tar\ncompression = gzip\narchiver = on\n'
        printf 'immediate_checkpoint = true\nencryption = gpg\nencryption_key_id = %s\n' "${2:-$KEY}"
        [ -n "$1" ] && printf 'encryption_passphrase_command = %s\n' "$1"
        printf '\n[other]\ndescription = "cannot encrypt"\n'
        printf 'conninfo = host=127.0.0.1 port=%s user=postgres dbname=postgres\n' "$PG_MAIN_PORT"
        printf 'backup_method = local-rsync\narchiver = on\nencryption = gpg\n'
        printf 'encryption_key_id = %s\n' "$KEY"
    } >"$conf"
    chmod 0644 "$conf"
}
write_conf "cat $T/pass"
touch "$T/cellar.log" && chown barman: "$T/cellar.log"
rec_schema 1
oid=$(pg_sql main "SELECT oid FROM pg_tablespace WHERE spcname = 'tbs1'")
add_row main p0
archive_now main main || tap_bail "no first WAL archived"

# ---- check ------------------------------------------------------------------------------------
out=$("$CELLAR" -c "$conf" check main 2>&1)
diag "$out"
like "$out" $'\tencryption: OK \\(encryption test succeeded\\)' "check main: encryption OK (Barman's line)"
out=$("$CELLAR" -c "$conf" check other 2>&1)
diag "$out"
like "$out" $'\tencryption: FAILED \\(Encryption is set as gpg, but backup_method != postgres\\)' \
    "check other: encryption FAILED with Barman's reason"
like "$out" "backup_compression_format = tar" "(and the fix)"

# ---- other cannot encrypt: refused ---------------------------------------------------------
out=$("$CELLAR" -c "$conf" backup other 2>&1)
rc=$?
diag "$out"
isnt "$rc" 0 "backup of other (local-rsync, encryption = gpg) is refused"
like "$out" "server other: Encryption is set as gpg, but backup_method != postgres" \
    "(naming the option)"
like "$out" "set backup_method = postgres" "(and saying what to set)"
is "$(ls -A "$home/other/base" 2>/dev/null)" "" "(no backup written)"

# ---- the encrypted backup ----------------------------------------------------------------------
out=$("$CELLAR" -c "$conf" backup --wait main 2>&1)
rc=$?
diag "$out"
is "$rc" 0 "backup --wait of main (postgres, tar, gzip, encryption = gpg)"
id=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
dir=$home/main/base/$id
is "$(backup_info "$conf" main "$id" encryption)" gpg "backup.info: encryption=gpg"
is "$(backup_info "$conf" main "$id" compression)" gzip "(compression=gzip)"
is "$(cd "$dir/data" && ls | sort | tr '\n' ' ')" "$oid.tar.gz.gpg backup_manifest base.tar.gz.gpg " \
    "data/ holds base.tar.gz.gpg, OID.tar.gz.gpg and backup_manifest, nothing in clear"
ok "the archives belong to barman" \
    test "$(stat -c %U "$dir/data/base.tar.gz.gpg" "$dir/data/$oid.tar.gz.gpg" | sort -u)" = barman
for f in base "$oid"; do
    head2=$(od -An -tx1 -N2 "$dir/data/$f.tar.gz.gpg" | tr -d ' ')
    isnt "$head2" 1f8b "$f.tar.gz.gpg is not gzip (starts with $head2)"
    ok "$f.tar.gz.gpg is an OpenPGP message to the key" \
        bash -c "GNUPGHOME=$bgh runuser -u barman -- gpg --batch --pinentry-mode error --list-packets '$dir/data/$f.tar.gz.gpg' 2>&1 | grep -q 'pubkey enc packet'"
done
# GnuPG's own decryption, as Barman's recover runs it, gives the compressed tar
bgpg --pinentry-mode loopback --passphrase-fd 0 --decrypt "$dir/data/base.tar.gz.gpg" \
    <"$T/pass" 2>/dev/null >"$T/base.tar.gz"
is "$(od -An -tx1 -N2 "$T/base.tar.gz" | tr -d ' ')" 1f8b "gpg --decrypt gives a gzip file"
start=$(tar -xzOf "$T/base.tar.gz" backup_label 2>/dev/null |
    sed -n 's/^START WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p')
is "$start" "$(backup_info "$conf" main "$id" begin_xlog)" \
    "(the tar of the data directory, whose backup_label is this backup's)"

out=$("$CELLAR" -c "$conf" list-backup main 2>&1)
like "$out" "$id .* - encrypted \\(gpg\\)" "list-backup says it is encrypted"
is "$("$CELLAR" -c "$conf" -f json list-backup main | result_field list-backup 'd["backups"][0]["encryption"]')" \
    '"gpg"' "(JSON: encryption)"
out=$("$CELLAR" -c "$conf" show-backup main "$id" 2>&1)
like "$out" "Encryption +: gpg" "show-backup has Barman's Encryption line"
out=$("$CELLAR" -c "$conf" verify-backup main "$id" 2>&1)
rc=$?
isnt "$rc" 0 "verify-backup of an encrypted backup fails"
like "$out" "is encrypted \\(encryption = gpg\\): verify-backup does not decrypt" "(saying why)"
"$CELLAR" -c "$conf" check-backup main "$id" >&2
is "$?" 0 "check-backup works on it (its WAL is all there)"

# a backup whose encryption fails (no such key) keeps nothing in clear
write_conf "cat $T/pass" nobody@example.com
out=$("$CELLAR" -c "$conf" backup main 2>&1)
rc=$?
diag "$out"
isnt "$rc" 0 "a backup to a key GnuPG does not have fails"
like "$out" "cannot encrypt .*no usable public key 'nobody@example.com'" "(saying which key)"
failed=$("$CELLAR" -c "$conf" list-backup --minimal main | head -1)
is "$(backup_info "$conf" main "$failed" status)" FAILED "(the backup is FAILED)"
is "$(cd "$home/main/base/$failed/data" && ls | grep tar | tr '\n' ' ')" "" \
    "(and its data/ holds no archive, clear or temporary)"
write_conf "cat $T/pass"

add_row main a
T_AB=$(utc_now main)
add_row main b
archive_now main main || tap_bail "WAL not archived"

# ---- recover: no passphrase, a wrong one ---------------------------------------------------
pg_stop main || tap_bail "cannot stop the cluster"
write_conf ""
rec_run --target-time "$T_AB" --tablespace "tbs1:$rec/none_tbs" main "$id" "$rec/none"
isnt "$REC_RC" 0 "recover without encryption_passphrase_command fails"
like "$REC_OUT" "encrypted backup '$id' detected, but no encryption_passphrase_command is configured for server 'main'" \
    "(saying so)"
ok "(and writes nothing)" test ! -e "$rec/none" -a ! -e "$rec/none_tbs"

write_conf "echo wrong"
rec_run --target-time "$T_AB" --tablespace "tbs1:$rec/bad_tbs" main "$id" "$rec/bad"
isnt "$REC_RC" 0 "recover with a wrong passphrase fails"
like "$REC_OUT" "cannot decrypt base.tar.gz.gpg: bad passphrase" "(saying which file and why)"
unlike "$REC_OUT" "wrong" "(without printing the passphrase)"
ok "(and writes nothing into the destination or the tablespace location)" \
    test ! -e "$rec/bad" -a ! -e "$rec/bad_tbs"
mkdir "$rec/bad_empty" && chown barman: "$rec/bad_empty"
rec_run --target-time "$T_AB" --tablespace "tbs1:$rec/bad_tbs" main "$id" "$rec/bad_empty"
like "$REC_OUT" "bad passphrase" "recover into an existing empty destination fails the same way"
is "$(ls -A "$rec/bad_empty")" "" "(an existing empty destination stays empty)"

# ---- recover to a time between a and b ----------------------------------------------------
# The reverse direction first: the backup's archives encrypted again by the
# gpg command line exactly as Barman's encryption.py runs it, so what is
# recovered below is what Barman would have written.
for f in "$dir"/data/*.tar.gz.gpg; do
    bgpg --pinentry-mode loopback --passphrase-fd 0 --decrypt "$f" <"$T/pass" 2>/dev/null \
        >"$T/clear.tar.gz" && chmod 0644 "$T/clear.tar.gz" &&
        bgpg --yes --pinentry-mode loopback --compress-level 0 --recipient "$KEY" --encrypt \
            --output "$f" "$T/clear.tar.gz" || diag "cannot encrypt $f again as Barman does"
    rm -f "$T/clear.tar.gz"
done
write_conf "cat $T/pass"
d=$rec/r1
recover_ok "recover to T (decrypting the tar files gpg encrypted as Barman does, and the WAL)" --target-time "$T_AB" \
    --tablespace "tbs1:$rec/r1_tbs" main "$id" "$d"
like "$REC_OUT" "Recovery of backup $id of server main into $d done" "(its summary)"
ok "the data directory is extracted" test -f "$d/PG_VERSION" -a -f "$d/global/pg_control"
chown -R postgres: "$d" "$rec/r1_tbs"
start_rec main "$d" paused || diag "the recovered copy did not start"
is "$(rows main)" "p0 a" "the recovered copy holds exactly the rows before T"
is "$(pg_sql main "SELECT count(*) FROM in_tbs")" 300 "(and the table in the tablespace)"
pg_stop main

# ---- the same over --remote-ssh-command (decrypted here, the tar over ssh) ----------------
sshd_start || tap_bail "cannot start sshd"
mkdir -p "$T/keys" "$T/remote" && chown postgres: "$T/remote"
cp "$SSHD_KEY" "$T/keys/barman" && chown barman: "$T/keys/barman" && chmod 0600 "$T/keys/barman"
chmod 0755 "$T/keys"
ssh_b="ssh -i $T/keys/barman -p $SSHD_PORT -o IdentitiesOnly=yes -o StrictHostKeyChecking=no"
ssh_b+=" -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR postgres@127.0.0.1"
write_conf "echo wrong"
rec_run --remote-ssh-command "$ssh_b" --target-time "$T_AB" --tablespace "tbs1:$T/remote/bad_tbs" \
    main "$id" "$T/remote/bad"
like "$REC_OUT" "cannot decrypt base.tar.gz.gpg: bad passphrase" \
    "a remote recovery with a wrong passphrase fails the same way"
ok "(and writes nothing on the other host)" test ! -e "$T/remote/bad" -a ! -e "$T/remote/bad_tbs"
write_conf "cat $T/pass"
d=$T/remote/r2
recover_ok "a remote recovery to T" --remote-ssh-command "$ssh_b" --target-time "$T_AB" \
    --tablespace "tbs1:$T/remote/r2_tbs" main "$id" "$d"
start_rec main "$d" paused || diag "the remote copy did not start"
is "$(rows main)" "p0 a" "the remote copy holds exactly the rows before T"
pg_stop main
