/*
 * theme.h - colour themes: semantic roles mapped to colours (no curses).
 *
 * A theme file (themes/NAME.theme) is INI text: "role = fg,bg,attrs" per
 * line, with colours default, black, red, green, yellow, blue, magenta,
 * cyan, white and attributes bold, reverse, underline, dim or none (several
 * joined with '+' or spaces). Sections and ';'/'#' comments are ignored.
 * Roles a file does not name keep the built-in default. Parsing knows
 * nothing of curses; the console maps a theme onto colour pairs.
 */
#ifndef CEL_TUI_THEME_H
#define CEL_TUI_THEME_H

#include "error.h"

enum tui_role {
    TUI_ROLE_NORMAL,
    TUI_ROLE_BORDER,
    TUI_ROLE_BORDER_FOCUS,
    TUI_ROLE_TITLE,
    TUI_ROLE_HEADER,
    TUI_ROLE_SELECTED,
    TUI_ROLE_SELECTED_IDLE,
    TUI_ROLE_OK,
    TUI_ROLE_WARN,
    TUI_ROLE_ERROR,
    TUI_ROLE_DIM,
    TUI_ROLE_PROGRESS,
    TUI_ROLE_STATUS,
    TUI_ROLE_KEY,
    TUI_ROLE_COUNT
};

/* -1 is the terminal's default colour; 0..7 the curses colour numbers. */
enum tui_color {
    TUI_COLOR_DEFAULT = -1,
    TUI_COLOR_BLACK,
    TUI_COLOR_RED,
    TUI_COLOR_GREEN,
    TUI_COLOR_YELLOW,
    TUI_COLOR_BLUE,
    TUI_COLOR_MAGENTA,
    TUI_COLOR_CYAN,
    TUI_COLOR_WHITE
};

#define TUI_ATTR_BOLD 1u
#define TUI_ATTR_REVERSE 2u
#define TUI_ATTR_UNDERLINE 4u
#define TUI_ATTR_DIM 8u

struct tui_style {
    int fg, bg; /* enum tui_color */
    unsigned attrs;
};

struct tui_theme {
    char name[64];
    struct tui_style roles[TUI_ROLE_COUNT];
};

/* The built-in default theme (what themes/default.theme also says). */
void tui_theme_default(struct tui_theme *t);
/* The role's name in theme files ("border_focus"), NULL when out of range. */
const char *tui_role_name(enum tui_role r);

/* Parse theme text over the default (name: for messages, "dark.theme").
 * On error: -CEL_E_CONFIG with err naming file, line and the problem, and
 * *t is the default theme. */
int tui_theme_parse(const char *text, const char *name, struct tui_theme *t, struct cel_err *err);

/* Find NAME.theme in the directories dirs (n of them, first match wins) and
 * parse it. A NAME with '/' or that is empty is refused. Not found:
 * -CEL_E_NOT_FOUND listing where it looked. On any error *t is the default
 * theme. */
int tui_theme_load(const char *name, const char *const *dirs, size_t n, struct tui_theme *t,
                   struct cel_err *err);

#endif
