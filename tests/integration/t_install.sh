#!/bin/bash
# tests/integration/t_install.sh - make install and make uninstall (TAP).
#
# In a copy of the source tree (so the working tree's build is left alone,
# and the install is proven to start from sources only):
# `make install DESTDIR=$T/root PREFIX=/usr` puts exactly the binary, both
# man pages, the example configuration and the bash completion under
# $T/root/usr, and nothing else; the installed binary answers --help and
# --version; `man -l` renders both installed pages without a warning, and
# man finds them by name under the installed MANPATH; the man page names
# the data directory compiled into the build (/usr/share/cellar). A second
# install with a theme file in themes/ installs it under
# share/cellar/themes. `make uninstall` with the same DESTDIR leaves no
# file behind, nor cellar's own directories.
# Run: tests/run.sh tests/integration/t_install.sh
# shellcheck source-path=SCRIPTDIR
set -u
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/common.sh"
harness_init || exit 1
tap_plan 16

command -v man >/dev/null || tap_bail "man is not installed (make deps)"
unset MAKEFLAGS MFLAGS MAKELEVEL
SRC=$T/src
ROOT=$T/root
mkdir -p "$SRC" "$ROOT" || tap_bail "no scratch directories"
tar -C "$HARNESS_TOP" --exclude=./build --exclude=./cellar --exclude=./.git -cf - . |
    tar -C "$SRC" -xf - || tap_bail "cannot copy the source tree"
rm -f "$SRC"/themes/*.theme

# files - every file and link under ROOT, relative, sorted
files() {
    (cd "$ROOT" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
}

ok "make install DESTDIR=... PREFIX=/usr" \
    make -C "$SRC" -s --no-print-directory -j"$(nproc)" install DESTDIR="$ROOT" PREFIX=/usr
is "$(files)" "usr/bin/cellar
usr/share/bash-completion/completions/cellar
usr/share/doc/cellar/cellar.conf.example
usr/share/man/man1/cellar.1
usr/share/man/man5/cellar.conf.5" "exactly the binary, man pages, example and completion are installed"
ok "the binary is executable" test -x "$ROOT/usr/bin/cellar"
ok "no themes directory without themes" test ! -e "$ROOT/usr/share/cellar"

out=$(cd / && "$ROOT/usr/bin/cellar" --version 2>&1)
is "$out" "cellar $("$CELLAR" --version | awk '{ print $2 }')" "the installed binary prints its version"
out=$(cd / && "$ROOT/usr/bin/cellar" --help 2>&1)
like "$out" "Commands:.*list-backup" "the installed binary prints its help"

for page in man1/cellar.1 man5/cellar.conf.5; do
    f=$ROOT/usr/share/man/$page
    warn=$(MANWIDTH=80 man -l --warnings "$f" 2>&1 >"$T/rendered")
    is "$warn" "" "man -l renders $page without warnings"
done
like "$(cat "$T/rendered")" "CELLAR.CONF\(5\).*barman_home" "the rendered cellar.conf(5) documents barman_home"
is "$(man -M "$ROOT/usr/share/man" -w cellar.conf 2>&1)" "$ROOT/usr/share/man/man5/cellar.conf.5" \
    "man finds cellar.conf(5) under the installed MANPATH"
like "$(grep -F 'themes/' "$ROOT/usr/share/man/man1/cellar.1")" "^\.I /usr/share/cellar/themes/" \
    "cellar(1) names the data directory compiled in for PREFIX=/usr"
like "$(bash -c '. "$1" && complete -p cellar' _ "$ROOT/usr/share/bash-completion/completions/cellar" 2>&1)" \
    "_cellar_complete cellar$" "the installed completion registers itself"

# themes, when there are some
printf 'header white blue bold\n' >"$SRC/themes/test.theme"
make -C "$SRC" -s --no-print-directory install DESTDIR="$ROOT" PREFIX=/usr >&2
ok "a theme in themes/ is installed under share/cellar/themes" \
    test -f "$ROOT/usr/share/cellar/themes/test.theme"

ok "make uninstall DESTDIR=... PREFIX=/usr" \
    make -C "$SRC" -s --no-print-directory uninstall DESTDIR="$ROOT" PREFIX=/usr
is "$(files)" "" "uninstall leaves no file behind"
left=$(cd "$ROOT" && find . -path '*cellar*')
is "$left" "" "nor any of cellar's directories"
