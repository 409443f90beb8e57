#!/bin/bash
# tests/lint/layers.sh - the architecture rules that a grep can enforce (TAP).
#
# 1. only src/tui includes curses;
# 2. core includes nothing from ops, batch or tui; ops nothing from batch or tui;
# 3. core and ops never print to stdout/stderr and never exit();
# 4. system(), popen() and "sh -c" never appear outside the one runner function;
# 5. core never includes jansson (core is libc/POSIX, libpq and compression only).
cd "$(dirname "$0")/../.." || exit 1
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
echo "1..6"
check "only src/tui includes curses" \
    "$(grep -rnE '#include *[<"](n?curses|ncursesw/n?curses|term)\.h' src --include='*.[ch]' | grep -v '^src/tui/')"
check "core does not include ops, batch or tui headers" \
    "$(grep -rnE '#include *"(\.\./)?(ops|tui)/|#include *"(batch|cli|sink)\.h"' src/core)"
check "ops do not include batch or tui headers" \
    "$(grep -rnE '#include *"(\.\./)?tui/|#include *"(\.\./)?(batch|cli)\.h"' src/ops)"
check "core and ops never print or exit" \
    "$(grep -rnE '\b(printf|puts|putchar|perror|exit|_exit) *\(|\bf(printf|puts) *\( *std(out|err)' src/core src/ops \
        | grep -v -e 'src/core/common/mem.c:.*fprintf(stderr, "cellar: out of memory' \
                  -e 'src/core/exec/proc.c:.*_exit(127)' \
                  -e 'src/core/exec/par.c:.*_exit([01]);' \
                  -e 'src/core/exec/proc_detach.c:.*_exit(')"
check "no system() or popen() in src" \
    "$(grep -rnE '\b(system|popen) *\(' src --include='*.c' | grep -v '#pragma GCC poison')"
check "core does not include jansson" \
    "$(grep -rn '#include *<jansson.h>' src/core)"
[ "$fails" -eq 0 ]
