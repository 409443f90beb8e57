# cellar - build, test, demo.
#
#   make          build ./cellar
#   make deps     install the Debian packages cellar needs (only the missing ones)
#   make check    deps + build and run every test; ends with "N passed, N failed"
#   make demo     deps + a sandbox PostgreSQL cluster + cellar on it
#   make bench    the benchmarks in bench/ (cellar against barman on the same data)
#
# check and demo first run `make deps`, then build in a sub-make: on a fresh
# machine pkg-config and the libraries only exist once deps has run, and the
# sub-make reads their flags anew.
#
# Sources are found by wildcard: a new src/core/foo.c or tests/unit/test_foo.c
# needs no change here. Unit tests link the code built with AddressSanitizer
# and UndefinedBehaviorSanitizer into build/asan/.

CC      ?= cc
# V=1 shows every command; the default prints one short line per step.
ifeq ($(V),1)
Q :=
else
Q := @
endif
PREFIX  ?= /usr/local
BUILD   := build

PKGS      := libpq zlib libzstd liblz4 jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lbz2
TUI_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
TUI_LIBS   := $(shell pkg-config --libs ncursesw 2>/dev/null)

WARN := -Wall -Wextra -Wconversion -Wcast-qual -Wvla -Wstrict-prototypes \
        -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wshadow -Werror
STD  := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(STD) $(WARN) $(CFLAGS) -Isrc -Isrc/core $(PKG_CFLAGS) -MMD -MP
ASAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRC  := $(wildcard src/core/*.c src/ops/*.c) $(filter-out src/main.c,$(wildcard src/*.c))
TUI_SRC  := $(wildcard src/tui/*.c)
MAIN_SRC := src/main.c

OBJ      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC) $(TUI_SRC) $(MAIN_SRC))
ASAN_OBJ := $(patsubst src/%.c,$(BUILD)/asan/%.o,$(LIB_SRC))
ASAN_LIB := $(BUILD)/asan/libcellar.a

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TEST_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
               -g -O1 $(ASAN) -Isrc -Isrc/core -Itests/unit $(PKG_CFLAGS)

.PHONY: all deps check check-all check-unit check-integration check-lint unit demo demo-stop \
        bench clean

all: cellar

cellar: $(OBJ)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $(OBJ) $(PKG_LIBS) $(TUI_LIBS)

$(BUILD)/obj/tui/%.o: src/tui/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(TUI_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC/ASAN $<"
	$(Q)$(CC) $(STD) $(WARN) -g -O1 $(ASAN) -Isrc -Isrc/core $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(ASAN_LIB): $(ASAN_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $(ASAN_OBJ)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(ASAN_LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $< $(ASAN_LIB) $(PKG_LIBS) -lcmocka

unit: $(UNIT_BIN)

deps:
	./scripts/deps.sh

# Every test, in order: unit tests (sanitized), layering lint, integration
# tests against a real PostgreSQL. tests/run.sh prints the summary line.
check:
	@./scripts/deps.sh
	@$(MAKE) --no-print-directory check-all

check-all: cellar $(UNIT_BIN)
	@tests/run.sh $(UNIT_BIN) $(sort $(wildcard tests/lint/*.sh)) \
	    $(sort $(wildcard tests/integration/t_*.sh))

check-unit: $(UNIT_BIN)
	@tests/run.sh $(UNIT_BIN)

check-lint:
	@tests/run.sh $(sort $(wildcard tests/lint/*.sh))

check-integration: cellar
	@tests/run.sh $(sort $(wildcard tests/integration/t_*.sh))

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

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d)
