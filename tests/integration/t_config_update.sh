#!/bin/bash
# tests/integration/t_config_update.sh - `cellar config-update JSON`
# (Barman 3.10): changes written to Barman's <barman_home>/.barman.auto.conf
# through Barman's queue (TAP).
#
# No PostgreSQL: three servers (pg in cluster c1, other, third) in a home
# owned by the `barman` OS user. config-update run as root (cellar becomes
# barman) and as barman changes one server's option: the auto file and the
# queue are owned by barman, the queue is left empty ([]), show-server
# shows the new value and the other servers keep theirs. A model created by
# config-update, then changed, is applied with config-switch. Bad JSON, an
# unknown option, an invalid value and an unknown server are each refused
# with a clear message and nothing is written. A queue Barman left behind
# is applied by cron. A bad line written by hand into the auto file is
# named by file and line.
# Run: tests/run.sh tests/integration/t_config_update.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 32

[ "$(id -u)" -eq 0 ] || tap_bail "needs root (cellar becomes the barman user)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"

home=$T/home
conf=$T/cellar.conf
auto=$home/.barman.auto.conf
queue=$home/cfg_changes.queue
mkdir -p "$home" && chown barman: "$home"
{
    printf '[barman]\nbarman_home = %s\nbarman_user = barman\nlog_file = %s/cellar.log\n' \
        "$home" "$home"
    printf '\n[pg]\ndescription = "main"\nconninfo = host=/nonexistent dbname=postgres\n'
    printf 'cluster = c1\nbandwidth_limit = 10\nminimum_redundancy = 1\n'
    printf '\n[other]\nconninfo = host=/nonexistent dbname=other\nbandwidth_limit = 7\n'
    printf '\n[third]\nconninfo = host=/nonexistent dbname=third\nbandwidth_limit = 3\n'
} >"$conf"
chmod 644 "$conf"
touch "$home/cellar.log" && chown barman: "$home/cellar.log"
cel() { "$CELLAR" -c "$conf" "$@"; }
as_barman() { runuser -u barman -- "$@"; }
opt() { cel show-server "$1" 2>/dev/null | sed -n "s/^[[:space:]]*$2: //p"; } # opt SERVER OPTION

# ---- a server's option, as root and as barman --------------------------------
out=$(cel config-update '[{"scope": "server", "server_name": "pg", "bandwidth_limit": "20"}]' 2>&1)
is "$?" 0 "root: config-update exits 0"
like "$out" "Changing value of option 'bandwidth_limit' for section 'pg' from '10' to '20' through config-update." \
    "it says what changes, in Barman's words"
is "$(cat "$auto")" "$(printf '[pg]\nbandwidth_limit = 20')" "Barman's .barman.auto.conf holds the change"
is "$(stat -c %U "$auto")" barman "the auto file is owned by barman"
is "$(cat "$queue")" "[]" "Barman's queue is left empty"
is "$(stat -c %U "$queue")" barman "the queue is owned by barman"
is "$(opt pg bandwidth_limit)" 20 "show-server shows the new value"
is "$(opt pg minimum_redundancy)" 1 "the server's other options are untouched"
is "$(opt other bandwidth_limit)" 7 "the other servers keep theirs"
is "$(opt third bandwidth_limit)" 3 "all of them"

out=$(as_barman "$CELLAR" -c "$conf" config-update \
    '[{"scope": "server", "server_name": "other", "bandwidth_limit": 70, "immediate_checkpoint": true}]' 2>&1)
is "$?" 0 "barman: config-update exits 0"
is "$(opt other bandwidth_limit)" 70 "show-server shows barman's change"
is "$(opt other immediate_checkpoint)" True "a JSON boolean is taken"
is "$(opt pg bandwidth_limit)" 20 "root's change of pg stays"
is "$(stat -c %U "$auto")" barman "the auto file is still barman's"

# ---- a model, created, changed, applied ---------------------------------------
out=$(cel config-update '[{"scope": "model", "model_name": "fast", "cluster": "c1", "bandwidth_limit": "0"}]' 2>&1)
is "$?" 0 "a new model is created"
out=$(cel config-update '[{"scope": "model", "model_name": "fast", "minimum_redundancy": "2"}]' 2>&1)
is "$?" 0 "and changed"
like "$(cat "$auto")" "model = on" "a new model gets model = on"
out=$(cel config-switch pg fast 2>&1)
like "$out" "Applying model 'fast' to server 'pg'" "config-switch applies the model config-update wrote"
is "$(opt pg minimum_redundancy)" 2 "its values are the server's now"

# ---- refusals: a clear message and nothing written -----------------------------
before=$(sha256sum "$auto" "$queue")
refused() { # refused JSON MESSAGE DESCRIPTION
    local o rc
    o=$(cel config-update "$1" 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ] && [[ $o == *"$2"* ]] && [ "$(sha256sum "$auto" "$queue")" = "$before" ]; then
        pass "$3"
    else
        fail "$3"
        diag "exit $rc: $o"
    fi
}
refused '[{"scope": "server", "server_name": "pg"' "invalid JSON" "bad JSON is refused"
refused '[{"scope": "server", "server_name": "pg", "bandwith_limit": "5"}]' \
    "Invalid option 'bandwith_limit' for server 'pg'" "an unknown option is refused"
refused '[{"scope": "server", "server_name": "pg", "bandwidth_limit": "fast"}]' \
    ".barman.auto.conf:2: [pg] bandwidth_limit: invalid value 'fast'" \
    "an invalid value is refused with the loader's message"
refused '[{"scope": "server", "server_name": "nosuch", "archiver": "on"}]' \
    "Unknown server 'nosuch'" "an unknown server is refused"
refused '[{"scope": "model", "model_name": "slow", "bandwidth_limit": "5"}]' \
    "new model 'slow' but 'cluster' is missing" "a new model without cluster is refused"
is "$(opt pg bandwidth_limit)" 0 "the configuration is as before the refusals"

# ---- a queue left behind (by Barman) is applied by cron ---------------------------
cat >"$queue" <<EOF
[
  {
    "section": "third",
    "changes_set": [
      {
        "key": "bandwidth_limit",
        "value": "33",
        "config_file": "$T/cellar.conf"
      }
    ]
  }
]
EOF
chown barman: "$queue"
cel cron >/dev/null 2>&1
is "$(cat "$queue")" "[]" "cron applies a queue left behind"
is "$(opt third bandwidth_limit)" 33 "its change is in effect"
like "$(cat "$auto")" "\[third\]" "written to .barman.auto.conf"

# ---- a bad line in the auto file -------------------------------------------------
line=$(($(wc -l <"$auto") + 3))
printf '[other]\n\nbandwidth_limit = plenty\n' >>"$auto"
out=$(cel show-server other 2>&1)
want="$auto:$line: [other] bandwidth_limit: invalid value 'plenty'"
if [[ $out == *"$want"* ]]; then pass "a bad line in the auto file is named by file, line and option"; else
    fail "a bad line in the auto file is named by file, line and option"
    diag "$out"
fi
like "$out" "disabled: True" "the server is disabled until it is fixed"
is "$(opt pg bandwidth_limit)" 0 "the other servers load"
