# cellar - build, test, demo.
#
#   make          build ./cellar, its man pages (build/man/) and bash completion
#                 (build/completion/cellar)
#   make install  install them under PREFIX (/usr/local; DESTDIR honoured);
#                 make uninstall removes exactly what install put there
#   make deps     install the Debian packages cellar needs (only the missing ones)
#   make check    deps + build and run every test; ends with "N passed, N failed"
#                 (check-unit, check-fuzz, check-lint, check-integration, check-tui:
#                 one kind)
#   make fuzz     run every fuzz target longer (FUZZ_SECONDS each, default 60)
#   make demo     deps + a sandbox PostgreSQL cluster + cellar on it
#   make bench    the benchmarks in bench/ (cellar against barman on the same data)
#   make golden   record the console's golden screens again (tests/tui/golden/)
#
# check and demo first run `make deps`, then build in a sub-make: on a fresh
# machine pkg-config and the libraries only exist once deps has run, and the
# sub-make reads their flags anew.
#
# Sources are found by wildcard: a new src/core/wal/foo.c (in any family folder)
# or tests/unit/test_foo.c needs no change here. Unit tests link the code built with AddressSanitizer
# and UndefinedBehaviorSanitizer into build/asan/.
#
# The command and option sections of the man pages, and the command tables of
# the bash completion, are generated from the tables in src/cli.c and
# src/core/config/config_options.c by build/mkman (tools/mkman.c, linked with every
# object of cellar but main.o) from the templates doc/*.in and
# completion/cellar.bash.in.

CC      ?= cc
# V=1 shows every command; the default prints one short line per step.
ifeq ($(V),1)
Q :=
else
Q := @
endif
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/cellar
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/cellar
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
BUILD   := build

PKGS      := libpq zlib libdeflate libzstd liblz4 jansson libcurl libcrypto expat gpgme
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lbz2 -pthread
TUI_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
TUI_LIBS   := $(shell pkg-config --libs ncursesw 2>/dev/null)

WARN := -Wall -Wextra -Wconversion -Wcast-qual -Wvla -Wstrict-prototypes \
        -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wshadow -Werror
STD  := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
CFLAGS ?= -O2 -g
# Where the installed binary finds its data (themes): compiled in, so it
# needs no source tree. PATHS_STAMP changes when an installation directory
# does, and everything that uses them is rebuilt.
DEFS := -DCEL_DATADIR='"$(DATADIR)"'
PATHS_STAMP := $(BUILD)/paths.stamp
PATHS := $(PREFIX) $(DATADIR) $(DOCDIR) $(MANDIR) $(BASHCOMPDIR)
# Sources live in family folders (src/core/wal/, src/ops/backup/, ...) and
# include each other's headers by bare name. The search path follows the
# layers: a core file sees only core's folders, so an include of an ops or
# console header from core does not compile; ops see core and ops; the front
# ends (batch, cli, tui) and the tests see everything, and name ops and tui
# headers by path ("ops/ops.h", "tui/draw.h").
CORE_DIRS := $(sort $(dir $(shell find src/core -name '*.[ch]')))
OPS_DIRS  := $(sort $(dir $(shell find src/ops -name '*.[ch]')))
CORE_INC  := -Isrc $(addprefix -I,$(CORE_DIRS:/=))
ALL_INC   := $(CORE_INC) $(addprefix -I,$(OPS_DIRS:/=))
# the include path of one source file, by its layer
inc_for = $(if $(filter src/core/%,$(1)),$(CORE_INC),$(ALL_INC))
ALL_CFLAGS := $(STD) $(WARN) $(CFLAGS) $(DEFS) $(PKG_CFLAGS) -MMD -MP
ASAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRC  := $(sort $(shell find src/core src/ops -name '*.c')) $(filter-out src/main.c,$(wildcard src/*.c))
TUI_SRC  := $(wildcard src/tui/*.c)
# the console's parts that do not draw (model, themes, jobs, keys, timeline,
# wizard): no curses, so they are also in the sanitized library the unit
# tests link
TUI_PURE := $(wildcard src/tui/model.c src/tui/theme.c src/tui/job.c src/tui/keys.c \
                        src/tui/timeline.c src/tui/wizard.c)
MAIN_SRC := src/main.c

OBJ      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC) $(TUI_SRC) $(MAIN_SRC))
ASAN_OBJ := $(patsubst src/%.c,$(BUILD)/asan/%.o,$(LIB_SRC) $(TUI_PURE))
ASAN_LIB := $(BUILD)/asan/libcellar.a

MKMAN     := $(BUILD)/mkman
MKMAN_OBJ := $(BUILD)/obj/tools/mkman.o $(filter-out $(BUILD)/obj/main.o,$(OBJ))
MKMAN_DEFS := -D PREFIX=$(PREFIX) -D DOCDIR=$(DOCDIR)
MAN_PAGES := $(BUILD)/man/cellar.1 $(BUILD)/man/cellar.conf.5
COMPLETION := $(BUILD)/completion/cellar
THEMES    := $(wildcard themes/*.theme)

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TEST_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
               -g -O1 $(ASAN) $(ALL_INC) -Itests/unit $(PKG_CFLAGS)

.PHONY: all deps check check-all check-unit check-fuzz check-integration check-lint check-tui unit demo \
        fuzz fuzz-build test-tools \
        demo-stop bench clean man completion install uninstall golden FORCE

all: cellar man completion

cellar: $(OBJ)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $(OBJ) $(PKG_LIBS) $(TUI_LIBS)

$(BUILD)/obj/tui/%.o: src/tui/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_INC) $(TUI_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(call inc_for,$<) -c -o $@ $<

$(BUILD)/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC/ASAN $<"
	$(Q)$(CC) $(STD) $(WARN) $(DEFS) -g -O1 $(ASAN) $(call inc_for,$<) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_INC) -c -o $@ $<

# rewritten only when an installation directory changed
$(PATHS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(PATHS)' | cmp -s - $@ || echo '$(PATHS)' >$@

$(OBJ) $(ASAN_OBJ) $(BUILD)/obj/tools/mkman.o: $(PATHS_STAMP)

# ---- man pages and completion, generated from the tables -------------------

$(MKMAN): $(MKMAN_OBJ)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $(MKMAN_OBJ) $(PKG_LIBS) $(TUI_LIBS)

$(BUILD)/man/%: doc/%.in $(MKMAN) $(PATHS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  MKMAN   $@"
	$(Q)$(MKMAN) $(MKMAN_DEFS) $< $@

$(COMPLETION): completion/cellar.bash.in $(MKMAN)
	@mkdir -p $(dir $@)
	@echo "  MKMAN   $@"
	$(Q)$(MKMAN) $(MKMAN_DEFS) $< $@

man: $(MAN_PAGES)

completion: $(COMPLETION)

# ---- install ---------------------------------------------------------------------
# The binary, the man pages, the themes (themes/*.theme, when there are any),
# the example configuration and the bash completion. uninstall removes those
# files, and the directories that are cellar's own when they are left empty.

install: all
	install -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1' '$(DESTDIR)$(MANDIR)/man5' \
	    '$(DESTDIR)$(DOCDIR)' '$(DESTDIR)$(BASHCOMPDIR)'
	install -m 0755 cellar '$(DESTDIR)$(BINDIR)/cellar'
	install -m 0644 $(BUILD)/man/cellar.1 '$(DESTDIR)$(MANDIR)/man1/cellar.1'
	install -m 0644 $(BUILD)/man/cellar.conf.5 '$(DESTDIR)$(MANDIR)/man5/cellar.conf.5'
	install -m 0644 doc/cellar.conf.example '$(DESTDIR)$(DOCDIR)/cellar.conf.example'
	install -m 0644 $(COMPLETION) '$(DESTDIR)$(BASHCOMPDIR)/cellar'
ifneq ($(THEMES),)
	install -d '$(DESTDIR)$(DATADIR)/themes'
	install -m 0644 $(THEMES) '$(DESTDIR)$(DATADIR)/themes/'
endif

uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/cellar' '$(DESTDIR)$(MANDIR)/man1/cellar.1' \
	    '$(DESTDIR)$(MANDIR)/man5/cellar.conf.5' '$(DESTDIR)$(DOCDIR)/cellar.conf.example' \
	    '$(DESTDIR)$(BASHCOMPDIR)/cellar' $(foreach t,$(notdir $(THEMES)),'$(DESTDIR)$(DATADIR)/themes/$(t)')
	rmdir '$(DESTDIR)$(DATADIR)/themes' '$(DESTDIR)$(DATADIR)' '$(DESTDIR)$(DOCDIR)' 2>/dev/null || true

$(ASAN_LIB): $(ASAN_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $(ASAN_OBJ)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $< $(ASAN_LIB) $(PKG_LIBS) -lcmocka

unit: $(UNIT_BIN)

# ---- golden screens (tests/tui/t_golden.sh) ---------------------------------------
# The console's screens drawn off-screen from a fixed catalogue by
# build/tests/tui_golden (tests/tui/golden_screens.c, linked with every
# object of cellar but main.o, curses included), compared with
# tests/tui/golden/. `make golden` records them again after a wanted change.
GOLDEN := $(BUILD)/tests/tui_golden

$(GOLDEN): tests/tui/golden_screens.c $(filter-out $(BUILD)/obj/main.o,$(OBJ))
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_INC) $(TUI_CFLAGS) -o $@ $< \
	    $(filter-out $(BUILD)/obj/main.o,$(OBJ)) $(PKG_LIBS) $(TUI_LIBS)

golden: $(GOLDEN)
	@tests/tui/t_golden.sh --record

# ---- test tools (tests/tools/*.c) --------------------------------------------------
# Programs the integration tests drive a core module through, linked like
# the golden screens: build/tests/s3tool is the S3 client (src/core/cloud)
# on the command line, for tests/integration/t_s3_client.sh and
# t_s3_faults.sh.
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(wildcard tests/tools/*.c))

$(BUILD)/tests/%: tests/tools/%.c $(filter-out $(BUILD)/obj/main.o,$(OBJ))
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_INC) -o $@ $< \
	    $(filter-out $(BUILD)/obj/main.o,$(OBJ)) $(PKG_LIBS) $(TUI_LIBS)

test-tools: $(TEST_TOOLS)

# ---- fuzz targets (tests/fuzz/fuzz_*.c) ---------------------------------------
# Each parser of outside input has a libFuzzer target. They are built with
# clang (libFuzzer is clang's) against the same sources compiled with
# -fsanitize=fuzzer-no-link plus ASan and UBSan into build/fuzz/. make check
# runs each one for a fixed number of inputs from a fixed seed over its seed
# corpus (tests/fuzz/t_fuzz.sh); `make fuzz FUZZ_SECONDS=600` runs them
# longer, keeping what they find in build/fuzz/corpus/.
FUZZ_CC    ?= clang
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_OBJ   := $(patsubst src/%.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRC) $(TUI_PURE))
FUZZ_LIB   := $(BUILD)/fuzz/libcellar.a
FUZZ_SECONDS ?= 60

# the library is compiled without -Werror: gcc's build above holds the
# warnings; clang's differ and would only make this build fragile
$(BUILD)/fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC/FUZZ $<"
	$(Q)$(FUZZ_CC) $(STD) -w $(DEFS) -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(call inc_for,$<) \
	    $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $(FUZZ_OBJ)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(STD) -Wall -Wextra -Werror -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer \
	    $(ALL_INC) -Itests/fuzz $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus/$$n; \
	    echo "== $$n ($(FUZZ_SECONDS) s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz/corpus/$$n \
	        tests/fuzz/corpus/$${n#fuzz_} || exit 1; done

deps:
	./scripts/deps.sh

# Every test, in order: unit tests (sanitized), layering lint, integration
# tests against a real PostgreSQL, console tests through tmux (tests/tui).
# tests/run.sh prints the summary line.
check:
	@./scripts/deps.sh
	@$(MAKE) --no-print-directory check-all

check-all: all $(UNIT_BIN) $(FUZZ_BIN) $(GOLDEN) $(TEST_TOOLS)
	@tests/run.sh $(UNIT_BIN) tests/fuzz/t_fuzz.sh $(sort $(wildcard tests/lint/*.sh)) \
	    $(sort $(wildcard tests/integration/t_*.sh)) $(sort $(wildcard tests/tui/t_*.sh))

check-unit: $(UNIT_BIN)
	@tests/run.sh $(UNIT_BIN)

check-fuzz: $(FUZZ_BIN)
	@tests/run.sh tests/fuzz/t_fuzz.sh

check-lint: all
	@tests/run.sh $(sort $(wildcard tests/lint/*.sh))

check-integration: all $(TEST_TOOLS)
	@tests/run.sh $(sort $(wildcard tests/integration/t_*.sh))

check-tui: all $(GOLDEN)
	@tests/run.sh $(sort $(wildcard tests/tui/t_*.sh))

demo:
	@./scripts/deps.sh
	@$(MAKE) --no-print-directory cellar
	@./scripts/demo.sh

demo-stop:
	@./scripts/demo.sh stop

bench: cellar
	@for b in bench/*.sh; do echo "== $$b"; "$$b" || exit 1; done

clean:
	rm -rf $(BUILD) cellar

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d) $(BUILD)/obj/tools/mkman.d
