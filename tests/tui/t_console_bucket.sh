#!/bin/bash
# tests/tui/t_console_bucket.sh - the console with a bucket server
# (cloud_source) beside a local one, through tmux (TAP).
#
# One Swift s3api store and one PostgreSQL 15 cluster whose archive_command
# is barman-cloud-wal-archive; barman-cloud-backup takes one backup, rows
# are written after it and their WAL archived. cellar runs as root with
# barman_user = barman on two servers: `local` (an ordinary server, no
# backup) and `bkt` (cloud_source = s3://cellar/pg, cloud_server_name =
# main). In a 160x45 console:
#  - the servers pane marks bkt "bucket"; its backup appears in the
#    backups pane (listed by a child list-backup job);
#  - Enter shows its details, with the bucket as its location;
#  - b, a and w say why they do not apply to a bucket server;
#  - with the store stopped, R shows list-backup's error in the backups
#    pane, and the console still answers keys (Tab, ?);
#  - with the store stopped, the wizard (r, Enter on bkt) shows the error
#    of the child that reads bkt's catalogue (recover --window), and Esc
#    closes it;
#  - with the store started again, R lists the backup again; with its
#    proxy stopped (SIGSTOP), the wizard says it reads the catalogue from
#    the bucket and Esc stops that; with the proxy back, Enter brings the
#    window, the bucket's backup and the review; the wizard recovers it
#    into a directory; the copy starts (restore_command: cellar
#    cloud-wal-restore from the bucket) and holds every row;
#  - d then y deletes the backup from the bucket (cellar delete), and the
#    backups pane, listed again, says the bucket has none.
# Needs root. Run: tests/run.sh tests/tui/t_console_bucket.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/../integration/lib/tap.sh"
. "$(dirname "$0")/../integration/lib/common.sh"
. "$(dirname "$0")/../integration/lib/recover.sh"
harness_init || exit 1
. "$(dirname "$0")/lib/console.sh"
tap_plan 42

command -v tmux >/dev/null || tap_bail "tmux is not installed"
[ "$(id -u)" -eq 0 ] || tap_bail "needs root (cellar becomes barman_user = barman)"
id barman >/dev/null 2>&1 || tap_bail "needs the barman OS user"
swift_start || tap_bail "cannot start Swift"
swift_make_bucket cellar || tap_bail "cannot create a bucket"
URL=s3://cellar/pg
export PG_ARCHIVE_COMMAND="barman-cloud-wal-archive --endpoint-url $S3_ENDPOINT_URL $URL main %p"
pg_start main || tap_bail "cannot start PostgreSQL"
unset PG_ARCHIVE_COMMAND
pg_sql main "CREATE TABLE t (id serial PRIMARY KEY, tag text)" >/dev/null || tap_bail "no table"
add_row main a1
barman-cloud-backup --endpoint-url "$S3_ENDPOINT_URL" -h 127.0.0.1 -p "$PG_MAIN_PORT" \
    -U postgres --immediate-checkpoint "$URL" main >"$T/bc-backup.log" 2>&1 ||
    tap_bail "barman-cloud-backup failed: $(cat "$T/bc-backup.log")"
add_row main a2
seg_in_bucket() {
    swift_s3py "
import sys
r = s3.list_objects_v2(Bucket='cellar', Prefix='pg/main/wals/' + sys.argv[1][:16] + '/' + sys.argv[1])
sys.exit(0 if r.get('Contents') else 1)" "$1"
}
seg=$(pg_sql main "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 120 seg_in_bucket "$seg" || tap_bail "the WAL of the rows is not in the bucket"
all_rows=$(rows main)

home=$T/home
out=$T/out
mkdir -p "$home" "$out" && chown barman: "$home" "$out" || tap_bail "cannot create $home"
conf=$T/cellar.conf
cat >"$conf" <<EOF
[barman]
barman_home = $home
barman_user = barman
log_file = $home/cellar.log
path_prefix = $PG_BINDIR

[local]
description = "an ordinary server"
conninfo = $(_pg_get main CONNINFO)
backup_method = postgres
archiver = on

[bkt]
description = "the bucket"
cloud_source = $URL
cloud_endpoint_url = $S3_ENDPOINT_URL
cloud_server_name = main
EOF
chmod 0644 "$conf"
B=$("$CELLAR" -c "$conf" list-backup --minimal bkt)
[ -n "$B" ] || tap_bail "list-backup bkt lists nothing"

console_start 160x45 "./cellar -c $(printf %q "$conf")"
ok "the console opens" wait_screen "Servers"
like "$(screen_row "the bucket")" "bkt .* bucket " "the servers pane marks bkt as a bucket server"
# select bkt (the servers are in name order: bkt first)
ok "bkt's backup appears in the backups pane (a child list-backup)" wait_screen "Backups of bkt"
ok "... its ID" wait_screen "$B" 60
# the background check's marks first: its end would take the status line
checked() { screen_row "$1" | grep -qE " (ok|[0-9]+ failed) "; }
ok "the background check marks both servers" \
    wait_for 120 eval 'checked "an ordinary server" && checked "the bucket"'

keys b
ok "b says why a bucket server takes no backup here" wait_screen "bkt is a bucket server: its backups are taken by"
keys a
ok "a says why nothing is archived here" wait_screen "bkt is a bucket server: its WAL is in $URL, nothing is archived here"
keys w
ok "w says why nothing streams here" wait_screen "nothing streams here"

keys Tab
wait_screen_re "^│$B " >/dev/null
keys Enter
ok "Enter shows the details of the backup (a child show-backup)" wait_screen "Details of $B" 60
ok "... with where it is" wait_screen "bucket $URL, server main"

# a store that does not answer: its proxy stopped (SIGSTOP), connections hang
proxy=$(_swift_get proxy PID)
kill -STOP "$proxy" || tap_bail "cannot SIGSTOP the proxy"
keys R
ok "R with the store hanging: the backups pane says it is loading from the bucket" \
    wait_screen "loading from $URL ..."
keys '?'
ok "... and the console answers keys: ? opens the help" wait_screen "Help: keys and the commands"
keys Escape
ok "... any key closes it" wait_screen_gone "Help: keys and the commands"
keys /
ok "... / opens the filter prompt" wait_screen "filter backups: _"
keys Escape
ok "... still loading" wait_screen "loading from $URL ..."
kill -CONT "$proxy"
ok "the store answers again: the backup is listed" wait_screen_re "^│$B " 120

swift_stop_store || tap_bail "cannot stop the store"
keys R
ok "with the store stopped, R shows list-backup's error in the backups pane" \
    wait_screen "bucket server bkt: cannot list bucket 'cellar'" 300
ok "the backup is no longer listed" eval '! screen | grep -q "^│$B "'
keys '?'
ok "the console answers keys: ? opens the help" wait_screen "Help: keys and the commands"
keys Escape
wait_screen_gone "Help: keys and the commands" >/dev/null
# the wizard on bkt reads its catalogue in a child recover --window: its error
keys r
ok "with the store stopped, r opens the wizard" wait_screen "Which server's backups"
keys Enter
ok "... Enter on bkt ends in the child's error, on the server step" \
    wait_screen "cannot read the catalogue of bkt: bucket server bkt: cannot list bucket 'cellar'" 300
keys Escape
ok "... and the wizard answers keys: Esc closes it" wait_screen "Activity"
swift_start_store || tap_bail "cannot start the store again"
keys R
ok "with the store started, R lists the backup again" wait_screen_re "^│$B " 120

d=$out/copy
# the store hanging (its proxy stopped): the wizard waits for the child
# that reads bkt's catalogue, and keeps answering keys
proxy=$(_swift_get proxy PID)
kill -STOP "$proxy" || tap_bail "cannot SIGSTOP the proxy"
keys r
ok "r opens the wizard" wait_screen "Which server's backups"
keys Enter
ok "Enter on bkt: the wizard says it reads the catalogue from the bucket (a child)" \
    wait_screen "reading the catalogue of bkt from $URL ..."
ok "... the key line says Esc stops it" wait_screen "Esc stops reading the catalogue"
keys Escape
ok "... Esc stops it: the wizard answers while the store hangs" \
    wait_screen "stopped reading the catalogue: Enter reads it again"
kill -CONT "$proxy"
wait_screen "Up/Down choose  Enter next  Esc close" 120 >/dev/null # the stopped child ended
keys Enter
ok "Enter again: the window arrives from the child" wait_screen "Recoverable window:" 60
like "$(screen_row "Recoverable window:")" "\(last WAL [0-9A-F]{24}\)" \
    "... up to the bucket's last WAL"
keys Enter # the end of the archived WAL
wait_screen 'Chosen as `recover ... auto` does' 60 >/dev/null
ok "the backup step lists the bucket's backup" wait_screen_re "^│ +(> +)?$B "
keys Enter
wait_screen "Data directory" >/dev/null
keys C-u "$d" Enter
wait_screen "Target action" 60 >/dev/null
keys Enter
ok "the review shows the recovery of the bucket's backup" \
    wait_screen "The same recovery from a shell:" 60
ok "... and its command line" wait_screen "recover bkt $B $d"
keys Enter
ok "the wizard's recovery of the bucket's backup runs to its end screen" \
    wait_screen "is recovered into" 300
ok "restore_command fetches WAL from the bucket" \
    grep -q "cloud-wal-restore.*$URL main" "$d/postgresql.auto.conf"
start_rec copy "$d" promoted
is "$(rows copy)" "$all_rows" "the copy starts and holds every row ($all_rows)"
pg_stop copy
keys q
ok "q closes the wizard back to the console" wait_screen "Activity"
like "$(screen_row "recover bkt $d")" "ok +recover bkt $d" \
    "the wizard's recovery is in the activity pane, ok"
keys d
ok "d asks before deleting the bucket's backup" \
    wait_screen "Delete backup $B of server bkt? (y/N)"
keys y
ok "y deletes it (cellar delete): the operation ends ok" wait_screen "delete bkt $B: done" 120
ok "the backups pane, listed again from the bucket, has no backup left" \
    wait_screen "no backups in $URL" 120
is "$("$CELLAR" -c "$conf" list-backup --minimal bkt)" "" "list-backup bkt lists nothing"
keys q
ok "q quits" wait_screen "console-exited=0" 30
