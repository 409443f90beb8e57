#!/bin/bash
# tests/lint/man.sh - the man pages, the bash completion and the example
# configuration agree with the tables in the code (TAP).
#
# The command and option sections of build/man/cellar.1 and cellar.conf.5
# are generated from the tables by build/mkman; this checks the result from
# the other side, against what the binary says (`cellar --help`, `cellar
# COMMAND --help`) and the option table's source: every command, alias and
# option is documented. The hand-written parts (doc/*.in, the completion
# template, doc/cellar.conf.example) may name no command, option or
# configuration option the code lacks. The pages render without a groff or
# man warning, and both example configurations load.
cd "$(dirname "$0")/../.." || exit 1
unset MAKEFLAGS MFLAGS MAKELEVEL
n=0
fails=0
check() { # check DESCRIPTION OUTPUT-OF-VIOLATIONS
    n=$((n + 1))
    if [ -z "$2" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        printf '%s\n' "$2" | sed 's/^/# /'
        fails=$((fails + 1))
    fi
}
echo "1..12"

MAN1=build/man/cellar.1
MAN5=build/man/cellar.conf.5
COMP=build/completion/cellar
built=$(make --no-print-directory -s cellar man completion 2>&1 >/dev/null)
for f in cellar "$MAN1" "$MAN5" "$COMP"; do
    [ -s "$f" ] || built="$built${built:+
}missing: $f"
done
check "cellar, the man pages and the completion build" "$built"
[ -z "$built" ] || exit 1
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

# plain FILE - roff without comments, font changes, \- and \& (what a
# reader sees, one source line per line)
plain() {
    grep -v '^\.\\"' "$1" | sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\(aq/'"'"'/g'
}
plain "$MAN1" >"$T/man1"
plain "$MAN5" >"$T/man5"
plain doc/cellar.1.in >"$T/in1"
plain doc/cellar.conf.5.in >"$T/in5"

# --- what the binary says ---------------------------------------------------
./cellar --help >"$T/help"
commands=$(sed -n '/^Commands:/,/^$/p' "$T/help" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
globals=$(sed -n '/^Options:/,/^$/p' "$T/help" | grep -oE '^ +(-[a-z], )?--[a-z-]+' | grep -oE -- '-[a-z]\b|--[a-z-]+')
all_opts=$(for c in $commands; do
    ./cellar "$c" --help | sed -n '/^Command options:/,$p' | grep -oE '^ +(-[A-Za-z], )?--[a-z-]+' |
        grep -oE -- '--[a-z-]+'
done | sort -u)
aliases=$(for c in $commands; do ./cellar "$c" --help | sed -n 's/^Also called: //p'; done | tr ' ' '\n')

# section FILE NAME - the lines of command NAME's section of a plain page
section() {
    awk -v want=".SS $2" '$0 == want { on = 1; next } /^\.S[SH]/ { on = 0 } on' "$1"
}

out=""
[ -n "$commands" ] || out="cellar --help lists no command"
for c in $commands; do
    grep -qxF ".SS $c" "$T/man1" || out="$out${out:+
}no section for command $c"
done
for a in $aliases; do
    grep -qE "^Also called.* $a(,|\.)" "$T/man1" || out="$out${out:+
}alias $a is not named"
done
check "cellar.1 documents every command and alias of cellar --help" "$out"

out=""
for c in $commands; do
    section "$T/man1" "$c" >"$T/sec"
    for o in $(./cellar "$c" --help | sed -n '/^Command options:/,$p' |
        grep -oE '^ +(-[A-Za-z], )?--[a-z0-9-]+' | grep -oE -- '-[A-Za-z]\b|--[a-z0-9-]+'); do
        grep -qE -- "(^|[ ,])$o([ ,]|$)" "$T/sec" || out="$out${out:+
}$c: option $o is not documented"
    done
done
check "cellar.1 documents every option of every command" "$out"

out=""
awk '/^\.SH OPTIONS/ { on = 1; next } /^\.SH/ { on = 0 } on' "$T/man1" >"$T/globals"
for o in $globals; do
    grep -qE -- "(^|[ ,])$o([ ,]|$)" "$T/globals" || out="$out${out:+
}global option $o is not documented"
done
for o in $(grep -oE -- '--[a-z-]+' "$T/globals" | sort -u); do
    printf '%s\n' $globals | grep -qxF -- "$o" || out="$out${out:+
}OPTIONS documents $o, which cellar --help does not list"
done
check "cellar.1 documents exactly the global options of cellar --help" "$out"

# --- the hand-written parts name nothing the code lacks ------------------------
out=""
known_cmds=$(printf '%s\n' $commands $aliases help)
# commands named in the pages' bold text and examples, and in the guide's code
named_cmds() {
    local f
    for f in doc/cellar.1.in doc/cellar.conf.5.in; do
        grep -oE '\\fBcellar [a-z]([a-z]|\\-)*' "$f" | sed 's/\\-/-/g'
        plain "$f" | awk '/^\.nf/ { on = 1 } /^\.fi/ { on = 0 } on' | grep -oE "(^|[ '])cellar [a-z][a-z-]*"
    done
    grep -oE "[\`'\"]cellar [a-z][a-z-]*" doc/migrating-from-barman.md
    awk '/^```/ { on = !on; next } on' doc/migrating-from-barman.md | grep -oE '(^|\$ )cellar [a-z][a-z-]*'
}
for w in $(named_cmds | awk '{ print $NF }' | sort -u); do
    printf '%s\n' "$known_cmds" | grep -qxF -- "$w" || out="$out${out:+
}'cellar $w' names no command"
done
for o in $(cat "$T/in1" "$T/in5" doc/migrating-from-barman.md | grep -oE -- '(^|[^a-z-])--[a-z][a-z-]*' |
    grep -oE -- '--[a-z-]+' | sort -u); do
    printf '%s\n' $globals $all_opts | grep -qxF -- "$o" || out="$out${out:+
}$o is no option of cellar"
done
check "the hand-written pages and the migration guide name only existing commands and options" "$out"

code_opts=$(sed -n '/^const struct cfg_option cfg_options/,/^};/p' src/core/config/config_options.c |
    grep -oE '^\s*(\{|IGNORED\(|HOOK\()"[a-z_]+"' | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
ignored=$(sed -n '/^const struct cfg_option cfg_options/,/^};/p' src/core/config/config_options.c |
    grep -oE '^\s*IGNORED\("[a-z_]+"' | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
# names with an underscore that are not configuration options: PostgreSQL
# settings and files, programs, values of options and of BARMAN_HOOK
not_options="archive_command archive_mode restore_command backup_label backup_manifest
tablespace_map pg_controldata pg_verifybackup pg_receivewal concurrent_backup exclusive_backup
ignored_barman_options wal_delete archive_script backup_script backup_retry_script
pre_operation_script post_operation_script"
out=""
for w in $(cat "$T/in1" "$T/in5" | grep -oE '\b[a-z][a-z0-9]*(_[a-z0-9]+)+\b' | sort -u); do
    printf '%s\n' $code_opts $not_options | grep -qxF -- "$w" || out="$out${out:+
}'$w' is no configuration option (if it is no option at all, add it to not_options)"
done
check "the hand-written pages name only existing configuration options" "$out"

out=""
for o in $code_opts; do
    if printf '%s\n' $ignored | grep -qxF "$o"; then
        awk '/^\.SS "Barman options cellar accepts/ { on = 1; next } /^\.S[SH]/ { on = 0 } on' "$T/man5" |
            grep -qE "(^|[ ,])$o([,.]|$)" || out="$out${out:+
}ignored option $o is not listed"
    else
        grep -qxF ".B $o" "$T/man5" || out="$out${out:+
}option $o has no entry"
    fi
done
check "cellar.conf.5 documents every option of the table" "$out"

# --- rendering ----------------------------------------------------------------------
out=""
for f in "$MAN1" "$MAN5"; do
    w=$(groff -man -ww -z "$f" 2>&1)
    [ -z "$w" ] || out="$out${out:+
}$f: groff: $w"
    w=$(MANWIDTH=80 man -l --warnings "$f" 2>&1 >/dev/null)
    [ -z "$w" ] || out="$out${out:+
}$f: man: $w"
done
check "the man pages render without warnings" "$out"

# --- the example configurations -----------------------------------------------------
# load FILE - cellar show-server all on it: exit status 0, no configuration
# diagnostic (they name the file), no error, no disabled server
load() {
    local rc so se
    so=$(./cellar -c "$1" show-server all --no-connect 2>"$T/stderr")
    rc=$?
    se=$(cat "$T/stderr")
    [ "$rc" -eq 0 ] || echo "$1: exit status $rc: $se"
    printf '%s\n' "$se" | grep -E "^ERROR|$(basename "$1"):" || true
    printf '%s\n' "$so" | grep -E 'disabled: True' || true
    printf '%s\n' "$so" | grep -q '^Server ' || echo "$1: no server shown"
}
check "doc/cellar.conf.example loads without a problem" "$(load doc/cellar.conf.example)"

out=""
for w in $(grep -oE '^[;#]?[a-z_]+ *=' doc/cellar.conf.example | tr -d ';#= ' | sort -u); do
    printf '%s\n' $code_opts | grep -qxF -- "$w" || out="$out${out:+
}doc/cellar.conf.example sets '$w', which is no option"
done
check "doc/cellar.conf.example names only existing options" "$out"

awk '/^\.SH EXAMPLE/ { on = 1 } on && /^\.fi/ { exit } on && p { print } on && /^\.nf/ { p = 1 }' "$T/man5" \
    >"$T/example.conf"
if [ -s "$T/example.conf" ]; then
    check "the example of cellar.conf.5 loads without a problem" "$(load "$T/example.conf")"
else
    check "the example of cellar.conf.5 loads without a problem" "no example found"
fi

# --- the completion ------------------------------------------------------------------
out=$(bash -n "$COMP" 2>&1)
listed=$(bash -c '. "$1"; printf "%s\n" $_cellar_commands' _ "$COMP")
for c in $commands $aliases; do
    printf '%s\n' "$listed" | grep -qxF -- "$c" || out="$out${out:+
}completion lacks command $c"
done
# the values written by hand in the template: each command has the option,
# and its help names each value
while IFS= read -r line; do
    cmd=${line%%:*}
    rest=${line#*:}
    opt=${rest%%)*}
    opt=${opt%% *}
    values=$(printf '%s\n' "$rest" | sed -n "s/.*echo 'words \(.*\)'.*/\1/p")
    if [ -z "$cmd" ]; then
        printf '%s\n' $globals | grep -qxF -- "$opt" || out="$out${out:+
}completion: $opt is no global option"
        continue
    fi
    help=$(./cellar "$cmd" --help 2>/dev/null | grep -E -- "^ +(-[A-Za-z], )?$opt ")
    if [ -z "$help" ]; then
        out="$out${out:+
}completion: $cmd has no option $opt"
        continue
    fi
    for v in $values; do
        printf '%s\n' "$help" | grep -qw -- "$v" || out="$out${out:+
}completion: the help of $cmd $opt does not name '$v'"
    done
done < <(sed -n '/^_cellar_values()/,/^}/p' completion/cellar.bash.in | grep -E '^ +[a-z-]*:-' |
    sed 's/^ *//')
check "the completion parses, has every command, and its hand-written values exist" "$out"

[ "$fails" -eq 0 ]
