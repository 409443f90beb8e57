/*
 * timeline.h - the recoverable window of a server as one row of cells
 * (no curses), for the details pane and the recovery wizard.
 *
 * The row spans from the earliest backup's begin to the end of the archived
 * WAL (or the newest backup's end, when later), one cell per equal slice of
 * time. Each cell says what is there: nothing recoverable, the recoverable
 * window (oldest DONE backup's begin to the last archived WAL), a DONE
 * backup, a backup that is not DONE, the selected backup, a named restore
 * point the archive's index holds, or the target.
 * Later kinds win when they share a cell, so a backup is never hidden by
 * the window and the target never by a backup. Drawing maps the kinds to
 * characters and roles.
 */
#ifndef CEL_TUI_TIMELINE_H
#define CEL_TUI_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tui_tl_cell {
    TUI_TL_EMPTY,    /* outside the window: no recovery can reach it */
    TUI_TL_WINDOW,   /* recoverable: WAL archived from a DONE backup */
    TUI_TL_OTHER,    /* a backup that is not DONE (FAILED, STARTED ...) */
    TUI_TL_BACKUP,   /* a DONE backup, begin to end */
    TUI_TL_SELECTED, /* the selected backup */
    TUI_TL_POINT,    /* a named restore point of the archived WAL */
    TUI_TL_TARGET,   /* the recovery target */
};

struct tui_tl_backup {
    double begin, end; /* epoch seconds; 0: unknown (the backup is not drawn) */
    bool done;
    bool selected;
};

struct tui_tl {
    double from, to;           /* what the row spans */
    double win_begin, win_end; /* the recoverable window; 0: none */
    struct tui_tl_backup *backups;
    size_t n_backups;
    double target; /* 0: none */
    double *points; /* the times of the archive's restore points (op_window.points) */
    size_t n_points;
};

/* The span of a timeline: from the earliest known backup begin (or the
 * window's begin) to the latest of the window's end and the backups' ends.
 * Sets tl->from and tl->to; both 0 when nothing is known. */
void tui_tl_span(struct tui_tl *tl);

/* Fill cells[0..width) (width >= 1). A span of zero length puts everything
 * in the first cell. */
void tui_tl_cells(const struct tui_tl *tl, int width, unsigned char *cells);

/* The cell a time falls in (clamped to the row). */
int tui_tl_cell_of(const struct tui_tl *tl, int width, double t);

/* Epoch seconds e as "YYYY-MM-DD HH:MM:SS+HH:MM" in local time, "-" for 0
 * (unknown), in buf. */
void tui_fmt_epoch(double e, char *buf, size_t n);

struct op_window;
/* The timeline of a server's recoverable window (see ops.h): every backup
 * of the catalogue, the one called selected_id (NULL: none) marked, the
 * restore points of the window's index, and the target at epoch target (0:
 * none); the span set. Allocates tl->backups and tl->points: free with
 * tui_tl_free. */
void tui_tl_from_window(const struct op_window *w, const char *selected_id, double target,
                        struct tui_tl *tl);
void tui_tl_free(struct tui_tl *tl);

#endif
