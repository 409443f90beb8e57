#!/bin/bash
# tests/integration/t_server_states.sh - commands on inactive and disabled servers (TAP).
#
# doc/configuration.md says what happens to a server with active = false
# (listed, no operation runs on it) and to one disabled by a bad value
# (commands naming it fail with exit status 2, 'all' skips it and exits 2).
# Every command is run on both, by name and through 'all', and its exit
# status and message are checked against that table; the operations must
# leave the inactive server's directories untouched. No PostgreSQL is needed:
# the servers point at a closed port, and the commands must refuse before
# they try to connect.
# Run: tests/run.sh tests/integration/t_server_states.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 51

conf=$T/cellar.conf
cat >"$conf" <<EOF
[barman]
barman_home = $T/home
barman_user = $(id -un)

[off]
description = "switched off"
conninfo = host=127.0.0.1 port=1 connect_timeout=2
active = false

[bad]
description = "a bad value"
conninfo = host=127.0.0.1 port=1 connect_timeout=2
retention_policy = REDUNDANCY two
EOF
head -c 16777216 /dev/zero >"$T/000000010000000000000001"
run() { # run CMD... - capture OUT and RC
    OUT=$("$CELLAR" -c "$conf" "$@" 2>&1 </dev/null)
    RC=$?
}

# the commands that do something with a server: refused by name with exit
# status 2, for both kinds of server
operations=(
    "archive-wal S" "backup S" "delete S 20250101T000000" "get-wal S 000000010000000000000001"
    "put-wal S $T/000000010000000000000001" "rebuild-xlogdb S"
    "recover S 20250101T000000 $T/dest" "switch-wal S" "verify-backup S 20250101T000000"
)
for cmd in "${operations[@]}"; do
    # shellcheck disable=SC2086 # the words of the command line
    run ${cmd//S/off}
    is "$RC" 2 "${cmd%% *} on an inactive server: exit 2"
    like "$OUT" "ERROR: server 'off' is inactive \\(active = false\\)" "and it says the server is inactive"
    # shellcheck disable=SC2086
    run ${cmd//S/bad}
    is "$RC" 2 "${cmd%% *} on a disabled server: exit 2"
done
ok "no operation touched the inactive server's directories" test ! -e "$T/home/off"
ok "nor recovered anything" test ! -e "$T/dest"

# the listings of the catalogue serve an inactive server (the console shows
# its backups), not a disabled one
run list-backup off
is "$RC" 0 "list-backup on an inactive server: exit 0"
for cmd in "show-backup S latest" "list-files S 20250101T000000"; do
    # shellcheck disable=SC2086
    run ${cmd//S/off}
    like "$OUT" "ERROR: (unknown backup '[0-9a-zT]+' for server 'off'|server 'off' has no complete backup)" \
        "${cmd%% *} on an inactive server looks for the backup (there is none)"
    # shellcheck disable=SC2086
    run ${cmd//S/bad}
    is "$RC" 2 "${cmd%% *} on a disabled server: exit 2"
done
run list-backup bad
is "$RC" 2 "list-backup on a disabled server: exit 2"
run list-backup all
is "$RC" 2 "list-backup all: exit 2 (the disabled server)"
unlike "$OUT" "off: skipped" "list-backup all lists the inactive server too"

# 'all': the inactive server is left out without an error, the disabled one
# is reported and makes the exit status 2
for cmd in archive-wal backup rebuild-xlogdb; do
    run "$cmd" all
    is "$RC" 2 "$cmd all: exit 2 (the disabled server)"
    like "$OUT" "off: skipped: the server is inactive \\(active = false\\)" "$cmd all leaves the inactive server out"
done

# the reporting commands show both
run list-server
is "$RC" 0 "list-server: exit 0"
like "$OUT" "off - switched off \\(inactive\\)" "it marks the inactive server"
run show-server off
is "$RC" 0 "show-server on the inactive server: exit 0"
run status off
is "$RC" 0 "status on the inactive server: exit 0"
run check off
is "$RC" 0 "check on the inactive server: exit 0 (its failures do not count)"
run check bad
is "$RC" 3 "check on the disabled server: exit 3 (a failed check)"
run show-server bad
is "$RC" 0 "show-server on the disabled server: exit 0"
run cron
is "$RC" 2 "cron: exit 2 (the disabled server), the inactive one is left out"
