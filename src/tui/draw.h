/*
 * draw.h - the console's drawing primitives, shared by the main screen
 * (console.c) and the recovery wizard (wizard_draw.c).
 *
 * Everything draws into stdscr through a struct tui_draw, which says how
 * roles look (the theme), whether the terminal has colours and whether it
 * takes UTF-8. Text is cut to a width in screen columns, never past it, so
 * a pane never spills into its neighbour. Only draw.c and the other
 * drawing files include curses; this header does not.
 */
#ifndef CEL_TUI_DRAW_H
#define CEL_TUI_DRAW_H

#include <stdbool.h>
#include <stdint.h>

#include "cel.h"
#include "tui/job.h"
#include "tui/theme.h"

struct tui_draw {
    struct tui_theme theme;
    bool colors; /* the terminal has colours (else roles become attributes) */
    bool utf8;   /* box drawing and marks in UTF-8, else ASCII */
};

/* Make the theme's colour pairs and the background (after start_color). */
void tui_draw_apply_theme(const struct tui_draw *d);

/* Draw s at y,x in at most w columns (UTF-8 aware, control characters as
 * '?'), padding with spaces to w when pad. Returns the columns used. */
int tui_put(const struct tui_draw *d, int y, int x, int w, enum tui_role role, const char *s,
            bool pad);
int tui_putf(const struct tui_draw *d, int y, int x, int w, enum tui_role role, bool pad,
             const char *fmt, ...) CEL_PRINTF(7, 8);

/* A horizontal line of n cells. */
void tui_hline(const struct tui_draw *d, int y, int x, int n);
/* A frame with its title; the focused frame stands out. */
void tui_frame(const struct tui_draw *d, int y, int x, int h, int w, const char *title,
               bool focused);
/* A pane's frame: as tui_frame, and the focused pane's title ends with
 * the focus mark (pane.h), so the focus shows without colours too. */
void tui_pane_frame(const struct tui_draw *d, int y, int x, int h, int w, const char *title,
                    bool focused);
/* A centred box over the screen (at most 100 columns wide), cleared, with
 * its frame; *y, *x, *h, *w say where it is. */
void tui_popup(const struct tui_draw *d, int *y, int *x, int *h, int *w, const char *title);

/* One line of a job's progress in w columns: a bar, percent, bytes done of
 * the total, rate, ETA and the current file. */
void tui_progress(const struct tui_draw *d, int y, int x, int w, const struct tui_job *j);

struct op_window;
/* The recoverable window of win as a timeline at y, x in w columns: a
 * heading with its bounds (from the end of the oldest DONE backup, the
 * first time a recovery can reach, to the archive time of the last WAL)
 * and last WAL, the row of cells (the backup
 * called selected and the target at epoch target marked; NULL / 0: none),
 * the times at its ends, and with legend a line saying what the marks are.
 * Returns the lines drawn (3, or 4 with the legend; 0 when w is too
 * narrow). */
int tui_timeline(const struct tui_draw *d, int y, int x, int w, const struct op_window *win,
                 const char *selected, double target, bool legend);

/* v as a human size ("1.2 GiB") in buf. */
void tui_fmt_bytes(uint64_t v, char *buf, size_t n);

#endif
