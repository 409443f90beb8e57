# tests/integration/lib/sshd.sh - a private sshd on 127.0.0.1 for tests (needs root).
#
# Usage:
#     . tests/integration/lib/sshd.sh
#     sshd_start                          # start it; sets the variables below
#     $SSH_COMMAND id -un                 # -> postgres
#     rsync -a -e "$SSH_RSH" FILE postgres@127.0.0.1:DEST
#     $SSH_RSH root@127.0.0.1 true        # root may log in with the same key
#     sshd_stop                           # stop it by PID, remove its temp dir
#
# sshd_start makes a temp dir SSHD_DIR (${TMPDIR:-/tmp}/cellar-sshd.XXXXXX) with a
# fresh host key, a fresh client key pair, an authorized_keys file holding the
# client's public key (it serves every user, so both postgres and root accept
# the key), sshd_config (UsePAM no, StrictModes no, PasswordAuthentication no,
# PidFile and AuthorizedKeysFile inside SSHD_DIR) and sshd.log. sshd runs in
# the foreground (-D) as a background job of this shell, on a free port of
# 127.0.0.1; another port is tried when the chosen one is taken.
#
# Variables set:
#     SSHD_PORT     the port
#     SSHD_PID      sshd's PID ("" once stopped)
#     SSHD_DIR      the temp dir
#     SSHD_KEY      the client private key
#     SSH_RSH       ssh and its options, without a destination (rsync -e)
#     SSH_COMMAND   "$SSH_RSH postgres@127.0.0.1", usable as Barman's ssh_command
#
# One machine-level change may be made: with UsePAM off, OpenSSH refuses
# accounts whose password field starts with "!" ("account is locked"), and
# Debian creates the postgres account that way. When the field is exactly "!"
# or "!*" (locked, with no password behind it) sshd_start sets it to "*",
# which still allows no password login, and says so on stderr. It refuses to
# touch an account that has a real password hash.
#
# Functions print errors on stderr and return non-zero; they never exit.
# harness_init (common.sh) calls sshd_stop from its EXIT trap.

# shellcheck shell=bash

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}
SSHD_PID=""
SSHD_DIR=""

# _sshd_err MSG... - print an error on stderr; always returns 1.
_sshd_err() {
    printf 'sshd.sh: %s\n' "$*" >&2
    return 1
}

# _sshd_alive PID - true when PID is a live, non-zombie process.
_sshd_alive() {
    local stat
    [ -n "$1" ] || return 1
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# _sshd_unlock_user USER - make USER acceptable to sshd without PAM (see the
# top of this file). No-op when the account is not locked.
_sshd_unlock_user() {
    local hash
    hash=$(getent shadow "$1" | cut -d: -f2) ||
        _sshd_err "cannot read the shadow entry of '$1'" || return 1
    case "$hash" in
        '!' | '!*')
            printf 'sshd.sh: %s\n' >&2 \
                "account $1 is locked (\"$hash\"), which sshd refuses without PAM;" \
                "setting its password field to \"*\" (still no password login)"
            usermod -p '*' "$1" || _sshd_err "usermod -p '*' $1 failed" || return 1
            ;;
        '!'*)
            _sshd_err "account $1 is locked but has a password; unlock it yourself (usermod -U $1)"
            return 1
            ;;
    esac
    return 0
}

# _sshd_write_config PORT - write SSHD_DIR/sshd_config for PORT.
_sshd_write_config() {
    cat >"$SSHD_DIR/sshd_config" <<EOF
# written by tests/integration/lib/sshd.sh
Port $1
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_ed25519_key
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
}

# _sshd_keys - generate the host key and the client key pair, authorise the
# client key.
_sshd_keys() {
    ssh-keygen -q -t ed25519 -N '' -C cellar-test-host -f "$SSHD_DIR/host_ed25519_key" &&
        ssh-keygen -q -t ed25519 -N '' -C cellar-test-client -f "$SSHD_DIR/client_key" &&
        cp "$SSHD_DIR/client_key.pub" "$SSHD_DIR/authorized_keys" &&
        chmod 0644 "$SSHD_DIR/authorized_keys"
}

# _sshd_try PORT - start sshd on PORT and wait (10 s at most) until it has
# written its PID file, which it does once it listens. Returns 0 when up,
# 2 when the port was taken, 1 on any other failure.
_sshd_try() {
    local port=$1 deadline=$((SECONDS + 10)) pid
    _sshd_write_config "$port" || return 1
    "$SSHD_BIN" -t -f "$SSHD_DIR/sshd_config" 2>"$SSHD_DIR/sshd-t.err" ||
        _sshd_err "sshd rejects its configuration: $(cat "$SSHD_DIR/sshd-t.err")" || return 1
    rm -f "$SSHD_DIR/sshd.pid" "$SSHD_DIR/sshd.log"
    "$SSHD_BIN" -D -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" \
        </dev/null >/dev/null 2>&1 &
    pid=$!
    while [ "$SECONDS" -lt "$deadline" ]; do
        if [ -s "$SSHD_DIR/sshd.pid" ] && _sshd_alive "$pid"; then
            SSHD_PID=$pid
            return 0
        fi
        if ! _sshd_alive "$pid"; then
            wait "$pid" 2>/dev/null
            grep -q 'Address already in use' "$SSHD_DIR/sshd.log" 2>/dev/null && return 2
            _sshd_err "sshd exited at startup:"
            sed 's/^/    /' "$SSHD_DIR/sshd.log" >&2
            return 1
        fi
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    _sshd_err "sshd did not write $SSHD_DIR/sshd.pid within 10 s"
    return 1
}

# sshd_start - start the private sshd; see the top of this file.
sshd_start() {
    local attempt port rc
    if _sshd_alive "$SSHD_PID"; then
        _sshd_err "sshd already running (PID $SSHD_PID)"
        return 1
    fi
    [ "$(id -u)" -eq 0 ] || _sshd_err "sshd_start needs root (to log in as postgres)" || return 1
    [ -x "$SSHD_BIN" ] || _sshd_err "no sshd at $SSHD_BIN" || return 1
    _sshd_unlock_user postgres || return 1
    # privilege separation directory: must exist, root-owned, not writable by others
    mkdir -p /run/sshd && chmod 0755 /run/sshd || return 1
    SSHD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cellar-sshd.XXXXXX") ||
        _sshd_err "cannot create a temp dir" || return 1
    if ! [[ $SSHD_DIR =~ ^[A-Za-z0-9_./+-]+$ ]]; then
        _sshd_err "temp dir '$SSHD_DIR' needs quoting; set TMPDIR to a plain path"
        sshd_stop
        return 1
    fi
    # postgres reads authorized_keys itself, so the dir must be traversable
    if ! { chmod 0755 "$SSHD_DIR" && _sshd_keys; }; then
        sshd_stop
        return 1
    fi
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$((15000 + RANDOM % 15000))
        (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
        _sshd_try "$port"
        rc=$?
        [ "$rc" -eq 2 ] && continue
        [ "$rc" -eq 0 ] && break
        sshd_stop
        return 1
    done
    if [ -z "$SSHD_PID" ]; then
        _sshd_err "no usable port for sshd after $attempt attempts"
        sshd_stop
        return 1
    fi
    SSHD_PORT=$port
    SSHD_KEY="$SSHD_DIR/client_key"
    SSH_RSH="ssh -i $SSHD_KEY -p $SSHD_PORT -o IdentitiesOnly=yes"
    SSH_RSH+=" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
    SSH_RSH+=" -o BatchMode=yes -o LogLevel=ERROR"
    # shellcheck disable=SC2034 # for the scripts that source this file
    SSH_COMMAND="$SSH_RSH postgres@127.0.0.1"
    return 0
}

# sshd_stop - stop sshd by PID (SIGTERM, SIGKILL after 10 s) and remove its
# temp dir. Safe to call when nothing runs.
sshd_stop() {
    local pid=$SSHD_PID deadline=$((SECONDS + 10))
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null
        while _sshd_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.05
        done
        if _sshd_alive "$pid"; then
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
        if _sshd_alive "$pid"; then
            _sshd_err "sshd (PID $pid) is still running"
            return 1
        fi
    fi
    SSHD_PID=""
    [ -n "$SSHD_DIR" ] && rm -rf "$SSHD_DIR"
    SSHD_DIR=""
    return 0
}
