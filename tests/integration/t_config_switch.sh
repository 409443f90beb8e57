#!/bin/bash
# tests/integration/t_config_switch.sh - configuration models and
# `cellar config-switch` (Barman 3.10) (TAP).
#
# No PostgreSQL: two servers (pg in cluster c1, other) and three models
# (fast, for c1; elsewhere, for another cluster; broken, which sets a path)
# in a home owned by the `barman` OS user, cellar run as root becoming
# barman. config-switch pg fast writes Barman's .active-model.auto (owned
# by barman) and says what changes in Barman's words; from then on every
# command sees the model's values (show-server); a second switch is
# skipped; a model of another cluster, an unknown model and an unusable
# one are refused; with the model's section gone the server is disabled
# with Barman's message, and --reset brings it back; the other server is
# never touched.
# Run: tests/run.sh tests/integration/t_config_switch.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 20

[ "$(id -u)" -eq 0 ] || tap_bail "needs root (cellar becomes the barman user)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"

home=$T/home
conf=$T/cellar.conf
mkdir -p "$home" && chown barman: "$home"
write_conf() { # write_conf [MODELS...]: the servers, then the model sections named
    {
        printf '[barman]\nbarman_home = %s\nbarman_user = barman\nlog_file = %s/cellar.log\n' \
            "$home" "$home"
        printf '\n[pg]\ndescription = "main"\nconninfo = host=/nonexistent dbname=postgres\n'
        printf 'cluster = c1\nbandwidth_limit = 10\nminimum_redundancy = 1\n'
        printf '\n[other]\nconninfo = host=/nonexistent dbname=other\nbandwidth_limit = 7\n'
        for m in "$@"; do
            case $m in
            fast) printf '\n[fast]\nmodel = true\ncluster = c1\nbandwidth_limit = 0\nminimum_redundancy = 2\nconninfo = host=/elsewhere dbname=postgres password=s3cret\n' ;;
            elsewhere) printf '\n[elsewhere]\nmodel = true\ncluster = c2\nbandwidth_limit = 5\n' ;;
            broken) printf '\n[broken]\nmodel = true\ncluster = c1\nwals_directory = /tmp/w\n' ;;
            esac
        done
    } >"$conf"
    chmod 644 "$conf"
}
write_conf fast elsewhere broken
touch "$home/cellar.log" && chown barman: "$home/cellar.log"
cel() { "$CELLAR" -c "$conf" "$@"; }
opt() { cel show-server "$1" 2>/dev/null | sed -n "s/^[[:space:]]*$2: //p"; } # opt SERVER OPTION

is "$(opt pg bandwidth_limit)" 10 "before: pg's own bandwidth_limit"
out=$(cel config-switch pg fast 2>&1)
is "$?" 0 "config-switch pg fast exits 0"
like "$out" "Applying model 'fast' to server 'pg'" "Barman's first line"
like "$out" "Changing value of option 'bandwidth_limit' for server 'pg' from '10' to '0' through the model 'fast'" \
    "and what changes, in Barman's words"
unlike "$out" "s3cret" "a connection string's value is not shown"
is "$(cat "$home/pg/.active-model.auto")" fast "Barman's .active-model.auto names the model"
is "$(stat -c %U "$home/pg/.active-model.auto")" barman "owned by barman"
is "$(opt pg bandwidth_limit)" 0 "every command now sees the model's bandwidth_limit"
is "$(opt pg minimum_redundancy)" 2 "and its minimum_redundancy"
is "$(opt pg active_model)" fast "show-server names the active model"
is "$(opt other bandwidth_limit)" 7 "the other server keeps its own"
like "$(cel config-switch pg fast 2>&1)" "Model 'fast' is already active for server 'pg', skipping..." \
    "switching to the active model again is skipped"
out=$(cel config-switch pg elsewhere 2>&1)
is "$?" 1 "a model of another cluster is refused (exit 1)"
like "$out" "Model 'elsewhere' has 'cluster=c2', which is not compatible with 'cluster=c1' from server 'pg'" \
    "with Barman's message"
like "$(cel config-switch pg nosuch 2>&1)" "Unknown model 'nosuch'" "an unknown model: Barman's message"
like "$(cel config-switch pg broken 2>&1)" "model 'broken' cannot be used" "a model that sets a path is refused"
write_conf elsewhere broken # fast is gone while active
like "$(cel show-server pg 2>&1)" "Model 'fast' is set as the active model for the server 'pg' but the model does not exist." \
    "with its model gone the server is disabled, with Barman's message"
out=$(cel config-switch pg --reset 2>&1)
like "$out" "Resetting the active model for the server pg" "config-switch --reset: Barman's line"
ok "the file is gone" test ! -e "$home/pg/.active-model.auto"
is "$(opt pg bandwidth_limit)" 10 "and pg has its own settings again"
