/*
 * timeline.c - the recoverable window as a row of cells (see timeline.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "tui/timeline.h"

void tui_tl_span(struct tui_tl *tl)
{
    double from = tl->win_begin, to = tl->win_end;
    for (size_t i = 0; i < tl->n_backups; i++) {
        const struct tui_tl_backup *b = &tl->backups[i];
        if (b->begin > 0 && (from == 0 || b->begin < from))
            from = b->begin;
        if (b->end > to)
            to = b->end;
        if (b->begin > to)
            to = b->begin;
    }
    if (tl->target > 0 && from > 0 && tl->target > to)
        to = tl->target;
    if (from == 0 || to < from)
        from = to = 0;
    tl->from = from;
    tl->to = to;
}

int tui_tl_cell_of(const struct tui_tl *tl, int width, double t)
{
    if (width <= 1 || tl->to <= tl->from)
        return 0;
    double f = (t - tl->from) / (tl->to - tl->from);
    int c = (int)(f * width);
    if (c < 0)
        return 0;
    return c >= width ? width - 1 : c;
}

/* Mark cells of [a, b] with kind. */
static void paint(const struct tui_tl *tl, int width, unsigned char *cells, double a, double b,
                  enum tui_tl_cell kind)
{
    int ca = tui_tl_cell_of(tl, width, a), cb = tui_tl_cell_of(tl, width, b);
    for (int i = ca; i <= cb; i++)
        cells[i] = (unsigned char)kind;
}

void tui_tl_cells(const struct tui_tl *tl, int width, unsigned char *cells)
{
    for (int i = 0; i < width; i++)
        cells[i] = TUI_TL_EMPTY;
    if (tl->to == 0 && tl->from == 0)
        return;
    if (tl->win_begin > 0 && tl->win_end >= tl->win_begin)
        paint(tl, width, cells, tl->win_begin, tl->win_end, TUI_TL_WINDOW);
    /* not-DONE backups first, then DONE ones, then the selected one on top */
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < tl->n_backups; i++) {
            const struct tui_tl_backup *b = &tl->backups[i];
            if (b->begin <= 0 || b->end < b->begin)
                continue;
            if ((pass == 0 && !b->done && !b->selected) || (pass == 1 && b->done && !b->selected) ||
                (pass == 2 && b->selected))
                paint(tl, width, cells, b->begin, b->end,
                      pass == 0   ? TUI_TL_OTHER
                      : pass == 1 ? TUI_TL_BACKUP
                                  : TUI_TL_SELECTED);
        }
    /* a restore point outside the span is not drawn (clamping would put it
     * on an edge where it never was) */
    for (size_t i = 0; i < tl->n_points; i++)
        if (tl->points[i] >= tl->from && tl->points[i] <= tl->to)
            paint(tl, width, cells, tl->points[i], tl->points[i], TUI_TL_POINT);
    if (tl->target > 0)
        paint(tl, width, cells, tl->target, tl->target, TUI_TL_TARGET);
}

void tui_fmt_epoch(double e, char *buf, size_t n)
{
    if (e <= 0) {
        snprintf(buf, n, "-");
        return;
    }
    struct ts t;
    ts_from_epoch((int64_t)e, 0, &t);
    char s[TS_MAX];
    ts_format(&t, s);
    snprintf(buf, n, "%s", s);
}

static double backup_epoch(const struct cat_time *t)
{
    return t->set ? ts_epoch(&t->t) : 0;
}

void tui_tl_from_window(const struct op_window *w, const char *selected_id, double target,
                        struct tui_tl *tl)
{
    const struct cat_list *l = &w->cat.list;
    memset(tl, 0, sizeof *tl);
    struct tui_tl_backup *b = cel_xcalloc(l->n ? l->n : 1, sizeof *b);
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->failed[i])
            continue;
        const struct cat_backup *c = &l->items[i];
        b[n].begin = backup_epoch(&c->begin_time);
        b[n].end = backup_epoch(&c->end_time);
        if (b[n].end == 0)
            b[n].end = b[n].begin; /* still running: a point at its start */
        b[n].done = c->status == CAT_DONE;
        b[n].selected = selected_id && c->id && strcmp(c->id, selected_id) == 0;
        n++;
    }
    tl->backups = b;
    tl->n_backups = n;
    tl->win_begin = w->begin;
    tl->win_end = w->end;
    tl->target = target;
    if (w->points.n_points) {
        tl->points = cel_xcalloc(w->points.n_points, sizeof *tl->points);
        for (size_t i = 0; i < w->points.n_points; i++)
            if (w->points.points[i].time > 0)
                tl->points[tl->n_points++] = w->points.points[i].time;
    }
    tui_tl_span(tl);
}

void tui_tl_free(struct tui_tl *tl)
{
    free(tl->backups);
    tl->backups = NULL;
    tl->n_backups = 0;
    free(tl->points);
    tl->points = NULL;
    tl->n_points = 0;
}
