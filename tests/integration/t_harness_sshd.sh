#!/bin/bash
# tests/integration/t_harness_sshd.sh - tests of lib/sshd.sh itself (TAP).
#
# The private sshd lets the client key in as postgres and as root, prints
# nothing on a bare command (Barman's "ssh output clean" check), carries rsync,
# and sshd_stop stops it by PID. Run: tests/run.sh tests/integration/t_harness_sshd.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 10

ok "sshd_start" sshd_start || tap_bail "cannot start sshd"
like "$SSHD_PORT" '^[0-9]+$' "SSHD_PORT is set"
like "$SSH_COMMAND" "^ssh .*-p $SSHD_PORT .*postgres@127\.0\.0\.1\$" \
    "SSH_COMMAND ends in postgres@127.0.0.1"
# shellcheck disable=SC2086 # SSH_COMMAND and SSH_RSH are command lines, split on purpose
ok "\$SSH_COMMAND true" $SSH_COMMAND true
is "$($SSH_COMMAND true 2>&1)" "" "a bare command prints nothing (clean output)"
is "$($SSH_COMMAND id -un)" postgres "\$SSH_COMMAND id -un prints postgres"
is "$($SSH_RSH root@127.0.0.1 id -un)" root "the key also logs in as root"

# rsync a file of random bytes into a directory postgres owns
head -c 300000 /dev/urandom >"$T/src.bin"
mkdir "$T/dest" && chown postgres: "$T/dest"
ok "rsync -e \"\$SSH_RSH\" to postgres@127.0.0.1" \
    rsync -a -e "$SSH_RSH" "$T/src.bin" "postgres@127.0.0.1:$T/dest/"
ok "the copy has the same bytes" cmp "$T/src.bin" "$T/dest/src.bin"

pid=$SSHD_PID
sshd_stop
ok "sshd_stop stops it by PID" test ! -d "/proc/$pid"
