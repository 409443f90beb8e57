#!/bin/bash
# tests/lint/docs.sh - the option table in doc/configuration.md and the one in
# src/core/config/config_options.c name the same options (TAP).
cd "$(dirname "$0")/../.." || exit 1
code=$(sed -n '/^const struct cfg_option cfg_options/,/^};/p' src/core/config/config_options.c \
       | grep -oE '^\s*(\{|IGNORED\(|UNSUPPORTED\(|HOOK\()"[a-z_]+"' \
       | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
doc=$( { grep -oE '^\| `[a-z_]+`' doc/configuration.md | tr -d '|` ';
         sed -n '/^Barman options that cellar accepts/,$p' doc/configuration.md \
           | grep -oE '`[a-z_]+`' | tr -d '`'; } | sort -u)
echo "1..2"
missing=$(comm -23 <(echo "$code") <(echo "$doc"))
stale=$(comm -13 <(echo "$code") <(echo "$doc"))
if [ -z "$missing" ]; then echo "ok 1 - every option in the code is documented"; else
    echo "not ok 1 - every option in the code is documented"; echo "$missing" | sed 's/^/# undocumented: /'; fi
if [ -z "$stale" ]; then echo "ok 2 - the documentation names no option the code lacks"; else
    echo "not ok 2 - the documentation names no option the code lacks"; echo "$stale" | sed 's/^/# not in the code: /'; fi
[ -z "$missing$stale" ]
