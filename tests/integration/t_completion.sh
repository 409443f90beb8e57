#!/bin/bash
# tests/integration/t_completion.sh - the bash completion of cellar (TAP).
#
# Sources build/completion/cellar in this non-interactive bash, sets
# COMP_WORDS and COMP_CWORD as bash does for a TAB, calls the completion
# function and reads COMPREPLY. Against a prepared catalogue (no
# PostgreSQL): a configuration with two servers, alpha with two backups and
# beta with one, each a minimal backup.info. Checks command names, global
# options and their values, server names read through the -c/--config on the
# line, the backup IDs of the server named on the line with the shortcuts
# (and auto for recover), the options of backup, the values of
# --reuse-backup, list-files --target and recover --target-action, and
# directories for recover's destination.
# Run: tests/run.sh tests/integration/t_completion.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 24

COMP_FILE=$HARNESS_TOP/build/completion/cellar
[ -x "$CELLAR" ] || tap_bail "no cellar binary at $CELLAR (run make)"
[ -s "$COMP_FILE" ] || tap_bail "no $COMP_FILE (run make)"

# --- the catalogue ------------------------------------------------------------------
CONF=$T/cellar.conf
cat >"$CONF" <<EOF
[cellar]
barman_home = $T/home
barman_user = $(id -un)
log_file = $T/cellar.log

[alpha]
description = "first server"

[beta]
description = "second server"
EOF

# backup SERVER ID - a minimal DONE backup.info
backup() {
    local dir=$T/home/$1/base/$2
    mkdir -p "$dir" "$T/home/$1/wals" || return 1
    cat >"$dir/backup.info" <<EOF
status=DONE
server_name=$1
begin_time=2026-11-01 01:00:00+00:00
end_time=2026-11-01 01:05:00.250000+00:00
begin_wal=000000010000000000000002
end_wal=000000010000000000000002
begin_xlog=0/2000028
end_xlog=0/2000100
size=1048576
timeline=1
version=150000
xlog_segment_size=16777216
pgdata=/srv/pg/15/main
mode=rsync-concurrent
EOF
}
backup alpha 20261101T010000 && backup alpha 20261108T010000 && backup beta 20261115T010000 ||
    tap_bail "cannot write the catalogue"
is "$("$CELLAR" -c "$CONF" list-backup --minimal alpha 2>&1)" "20261108T010000
20261101T010000" "the catalogue lists alpha's two backups"

# --- the completion -----------------------------------------------------------------
ok "the completion file is valid bash" bash -n "$COMP_FILE"
# shellcheck source=/dev/null
. "$COMP_FILE"
like "$(complete -p cellar 2>&1)" "-F _cellar_complete cellar$" "sourcing it registers _cellar_complete for cellar"

# comp WORD... - complete the last WORD (the one under the cursor, '' for an
# empty one) of the command line WORD...; prints the candidates sorted, one
# line, space-separated
comp() {
    COMP_WORDS=("$CELLAR" "$@")
    COMP_CWORD=$#
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _cellar_complete
    printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
}

# the commands of cellar --help, and their aliases
commands=$("$CELLAR" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
aliases=$(for c in $commands; do "$CELLAR" "$c" --help | sed -n 's/^Also called: //p'; done)
expected=$(printf '%s\n' $commands $aliases help | sort | tr '\n' ' ' | sed 's/ $//')
is "$(comp '')" "$expected" "a command: every command, alias and help"
is "$(comp list-)" "list-backup list-backups list-files list-processes list-server list-servers" "a command by prefix"
got=$(comp --)
missing=""
for o in --config --format --quiet --debug --batch --theme --version --help; do
    [[ " $got " == *" $o "* ]] || missing="$missing $o"
done
is "$missing" "" "global options"
is "$(comp -f '')" "json text" "values of --format"

# servers, through the -c/--config of the line
is "$(comp -c "$CONF" show-server '')" "all alpha beta" "servers (and all) through -c CONF"
is "$(comp --config = "$CONF" list-backup '')" "all alpha beta" "servers through --config=CONF (split at = as bash does)"
is "$(comp -c "$CONF" show-server a)" "all alpha" "servers by prefix"
unlike "$(HOME=$T/nohome comp show-server '')" "alpha" "without -c, the prepared configuration is not read"
is "$(comp -c "$CONF" backup alpha '')" "all alpha beta" "backup takes more servers after the first"
is "$(comp -c "$CONF" backup --jobs 4 '')" "all alpha beta" "an option's value is not taken for a server"
is "$(comp -c "$CONF" delete '')" "alpha beta" "delete takes one server, not all"

# backup IDs of the server on the line, and the shortcuts
is "$(comp -c "$CONF" show-backup alpha '')" \
    "20261101T010000 20261108T010000 first last last-failed latest oldest" \
    "alpha's backup IDs and the shortcuts"
is "$(comp -c "$CONF" delete beta '')" "20261115T010000 first last last-failed latest oldest" \
    "beta's backup IDs, not alpha's"
is "$(comp -c "$CONF" list-files alpha 202611)" "20261101T010000 20261108T010000" "backup IDs by prefix"
like "$(comp -c "$CONF" recover alpha '')" "(^| )auto( |$)" "recover also offers auto"
is "$(comp -c "$CONF" recover alpha latest "$T/ho")" "$T/home" "recover's destination is a directory"

# command options and their values
expected=$( { "$CELLAR" backup --help | sed -n '/^Command options:/,$p' |
    grep -oE '^ +(-[A-Za-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'; echo --help; } | sort | tr '\n' ' ' |
    sed 's/ $//')
is "$(comp -c "$CONF" backup --)" "$expected" "the options of backup"
is "$(comp -c "$CONF" backup --reuse-backup '')" "copy link off" "values of backup --reuse-backup"
is "$(comp -c "$CONF" backup --reuse-backup = l)" "link" "--reuse-backup=VALUE by prefix"
is "$(comp -c "$CONF" list-files --target '')" "data full standalone wal" "values of list-files --target"
is "$(comp -c "$CONF" recover --target-action '')" "pause promote shutdown" \
    "values of recover --target-action"
