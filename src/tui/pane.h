/*
 * pane.h - the main screen's panes as objects behind one small interface.
 *
 * A pane is a table of operations (struct pane_ops) and a block of private
 * state the console allocates for it. The console keeps the loop, the
 * layout, the focus ring and the modes; a pane only draws itself into the
 * rectangle the layout gives it, answers the keys sent while it has the
 * focus, and hears when its rectangle changed size. A key handler returns
 * flags saying what happened (handled, redraw, relayout, quit), so the
 * loop, not the pane, decides what to do next. (The loop today draws and
 * lays out every turn, so REDRAW and RELAYOUT cost nothing to return; they
 * are what a loop that draws less often would rely on.)
 *
 * The panes, in focus order, are listed once in TUI_PANES below: a new
 * pane is one file (src/tui/pane_NAME.c defining `const struct pane_ops
 * pane_NAME`) and one X(NAME) line here (and its key in keys.c, if any).
 * Where it goes on the screen is its slot; panes sharing a slot share its
 * space. Nothing here includes curses.
 */
#ifndef CEL_TUI_PANE_H
#define CEL_TUI_PANE_H

#include <stdbool.h>
#include <stddef.h>

#include "tui/keys.h"

struct console;

/* What a key did (bits; 0: the pane did not take it, the console may). */
enum pane_flag {
    PANE_HANDLED = 1u,  /* taken: the console does nothing more with it */
    PANE_REDRAW = 2u,   /* what the pane shows changed */
    PANE_RELAYOUT = 4u, /* the panes' sizes may have to change */
    PANE_QUIT = 8u,     /* the console should end */
};

/* A rectangle of the screen, frame included. */
struct tui_rect {
    int y, x, h, w;
};

/* Where the layout puts a pane: the top band (under the title line), the
 * main area (left or upper half), the side area (right of the main area at
 * 120 columns and more, else under it) and the bottom band (above the
 * status line). The bands are as high as their panes ask (height). */
enum pane_slot { PANE_SLOT_TOP, PANE_SLOT_MAIN, PANE_SLOT_SIDE, PANE_SLOT_BOTTOM };

struct pane {
    const struct pane_ops *ops;
    void *state;          /* ops->state_size zeroed bytes, the pane's own */
    struct tui_rect rect; /* where it was last laid out */
};

struct pane_ops {
    const char *name; /* "backups": for con_focus_pane and the tests */
    enum pane_slot slot;
    size_t state_size; /* private state, allocated zeroed by the console */
    /* For the top and bottom bands: the height the pane takes on a screen
     * of H lines, frame included (it caps itself); NULL for the main and
     * side areas, which share what the bands leave. */
    int (*height)(const struct console *c, int H);
    /* Draw into r (frame included); focused: the keys go to this pane, and
     * its frame, title and selection must say so. */
    void (*draw)(struct console *c, struct pane *p, struct tui_rect r, bool focused);
    /* A key while the pane has the focus: the action the key table (or a
     * curses key) maps it to, and the key itself. Returns enum pane_flag
     * bits; 0 leaves the key to the console. */
    unsigned (*key)(struct console *c, struct pane *p, enum tui_action a, int ch);
    /* The pane's rectangle changed size (NULL: nothing to do). */
    void (*resize)(struct console *c, struct pane *p, int h, int w);
};

/* The panes, in focus order (Tab goes down the list). */
#define TUI_PANES(X) X(servers) X(backups) X(details) X(activity)

#define TUI_PANE_DECLARE(name) extern const struct pane_ops pane_##name;
TUI_PANES(TUI_PANE_DECLARE)
#undef TUI_PANE_DECLARE

/* The focused pane's title carries this marker after its name (UTF-8 or
 * ASCII), so focus shows in a text capture and without colours. */
#define TUI_FOCUS_MARK_UTF8 "\u25c0"
#define TUI_FOCUS_MARK_ASCII "<"

/* Helpers for list panes: keep sel within [top, top + rows) by moving top. */
void pane_scroll_to(size_t sel, size_t *top, int rows);

#endif
