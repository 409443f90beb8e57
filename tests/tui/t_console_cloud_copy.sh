#!/bin/bash
# tests/tui/t_console_cloud_copy.sh - the servers pane shows a server's
# copy in a bucket (cloud_destination) (TAP).
#
# A synthetic Barman home (bench/lib/synthetic.sh, no PostgreSQL, no store)
# whose server has cloud_destination; the copy's state is its state file
# (<backup_directory>/cloud/upload.state, which cron's upload writes), so
# the test writes it as an upload would have left it. Shown: list-server's
# JSON carries the copy's state; before any upload the servers pane says
# "cloud none"; after an upload 3 minutes ago "cloud 3m"; after a failed
# run "cloud FAILED", and the console reads it again by itself (every few
# seconds, no key pressed).
# Run: tests/run.sh tests/tui/t_console_cloud_copy.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/lib/console.sh"
# shellcheck source=bench/lib/synthetic.sh
. "$(dirname "$0")/../../bench/lib/synthetic.sh"
harness_init || exit 1
tap_plan 6

command -v tmux >/dev/null || tap_bail "tmux is not installed"
synthetic_home "$T" 2 20 >&2
conf=$T/bench.conf
printf 'cloud_destination = s3://bkt/pg\ncloud_endpoint_url = http://127.0.0.1:1\n' >>"$conf"
state=$T/home/bench/cloud/upload.state
write_state() { # write_state LAST_UPLOAD [ERROR]
    mkdir -p "$(dirname "$state")"
    {
        printf 'destination=s3://bkt/pg\nserver_name=bench\nendpoint=http://127.0.0.1:1\n'
        printf 'wal_upto=000000010000000000000005\nwal_count=5\nbackups=\nretired=\n'
        printf 'last_upload=%s\nlast_attempt=%s\nlast_retention=0.000\n' "$1" "$(date +%s).000"
        if [ $# -ge 2 ]; then printf 'last_error=%s\n' "$2"; fi
    } >"$state.tmp" && mv "$state.tmp" "$state"
}
row() { screen | grep "^│. bench "; }

like "$("$CELLAR" -c "$conf" -f json list-server)" '"cloud_copy":\{"destination":"s3://bkt/pg"' \
    "list-server's JSON has the copy's state"
console_start 200x50 "./cellar -c $(printf %q "$conf")"
ok "before any upload the servers pane says cloud none" wait_for 20 eval 'row | grep -q "cloud none"'
write_state "$(($(date +%s) - 180)).000"
like "$("$CELLAR" -c "$conf" -f json list-server)" '"wal_upto":"000000010000000000000005"' \
    "list-server's JSON names the last WAL uploaded"
ok "after an upload 3 minutes ago: cloud 3m (read again without a key)" \
    wait_for 20 eval 'row | grep -q "cloud 3m"'
write_state "$(($(date +%s) - 600)).000" "store unreachable"
ok "after a failed run: cloud FAILED" wait_for 20 eval 'row | grep -q "cloud FAILED"'
keys q
ok "q quits" wait_screen "console-exited=0"
