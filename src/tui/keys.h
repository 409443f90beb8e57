/*
 * keys.h - the console's key bindings and their help, in one table.
 *
 * The help screen (`?`) and doc/console.md are generated from / checked
 * against this table, so a key never lacks its text. Each action that runs
 * work names the batch command line it runs, so the console teaches the CLI.
 */
#ifndef CEL_TUI_KEYS_H
#define CEL_TUI_KEYS_H

#include <stddef.h>

enum tui_action {
    TUI_ACT_NONE,
    TUI_ACT_UP,
    TUI_ACT_DOWN,
    TUI_ACT_NEXT_PANE,
    TUI_ACT_PREV_PANE,
    TUI_ACT_DETAILS,
    TUI_ACT_SORT,
    TUI_ACT_SORT_REVERSE,
    TUI_ACT_FILTER,
    TUI_ACT_BACKUP,
    TUI_ACT_CHECK,
    TUI_ACT_ARCHIVE,
    TUI_ACT_STREAM,
    TUI_ACT_DELETE,
    TUI_ACT_KEEP,
    TUI_ACT_RECOVER,
    TUI_ACT_DISMISS,
    TUI_ACT_LOG,
    TUI_ACT_RELOAD,
    TUI_ACT_HELP,
    TUI_ACT_QUIT,
    TUI_ACT_COUNT /* not an action: how many there are (tests/unit/test_tui_keys.c) */
};

struct tui_key {
    int key;            /* the character (curses KEY_* codes are mapped separately) */
    const char *label;  /* as shown in the help: "j / Down" */
    enum tui_action action;
    const char *help;   /* what it does */
    const char *batch;  /* the equivalent command line, NULL when none */
};

extern const struct tui_key tui_keys[];
extern const size_t tui_n_keys;

/* The action bound to character ch (TUI_ACT_NONE when none). */
enum tui_action tui_key_action(int ch);

#endif
