/*
 * pane_backups.c - the backups pane: the selected server's backups as the
 * console's view filters and sorts them (console.h), one a line, in as
 * many columns as fit. Up/Down select a backup; Enter shows its details.
 */
#include <string.h>
#include <time.h>

#include "tui/console.h"

struct backups_state {
    size_t top; /* first backup of the view shown */
};

struct column {
    const char *title;
    int width;
    enum con_sort sort;
    int prio; /* 1 first: the columns that fit are taken in this order */
};

/* Drawn in this order; a narrow pane drops the columns of lowest priority
 * first (WAL, gone at 80 columns; then Dedup). Sizes take 10 columns
 * ("1023.9 MiB"); Status takes 7 ("WAITING", "STARTED") so that at 80
 * columns Retention ("KEEP:STANDALONE") and Dedup both fit. */
static const struct column bk_cols[] = {
    {"ID", 15, SORT_ID, 1},         {"End time", 16, SORT_END, 3}, {"Size", 10, SORT_SIZE, 4},
    {"Dedup", 10, SORT_DEDUP, 6},   {"WAL", 10, SORT_WAL, 7},      {"Status", 7, SORT_STATUS, 2},
    {"Retention", 15, SORT_RET, 5}, /* "KEEP:STANDALONE" */
};

/* A keep target as list-backup's retention marks spell it. */
static const char *keep_mark(const char *keep)
{
    return strcmp(keep, "standalone") == 0 ? "KEEP:STANDALONE" : "KEEP:FULL";
}

/* The text of backup b's cell in column col, and its role (base unless the
 * value has a colour of its own and the row is not selected). */

static enum tui_role cell_text(const struct tui_backup *b, enum con_sort col, bool sel,
                               enum tui_role base, char *cell, size_t n)
{
    enum tui_role role = base;
    cell[0] = '\0';
    switch (col) {
    case SORT_ID:
        snprintf(cell, n, "%s", b->id);
        break;
    case SORT_END:
        if (b->end_ts) {
            time_t t = (time_t)b->end_ts;
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(cell, n, "%Y-%m-%d %H:%M", &tm);
        }
        break;
    case SORT_SIZE:
        if (b->has_size)
            tui_fmt_bytes(b->size, cell, n);
        break;
    case SORT_DEDUP:
        if (b->has_size && b->has_dedup)
            tui_fmt_bytes(b->dedup_size, cell, n);
        break;
    case SORT_WAL:
        if (b->has_size)
            tui_fmt_bytes(b->wal_size, cell, n);
        break;
    case SORT_STATUS:
        snprintf(cell, n, "%s", strcmp(b->status, "WAITING_FOR_WALS") == 0 ? "WAITING" : b->status);
        if (!sel)
            role = strcmp(b->status, "DONE") == 0     ? TUI_ROLE_OK
                   : strcmp(b->status, "FAILED") == 0 ? TUI_ROLE_ERROR
                                                      : TUI_ROLE_WARN;
        break;
    case SORT_RET:
        /* a kept backup says so even on a server without a policy */
        snprintf(cell, n, "%s",
                 b->keep                                             ? keep_mark(b->keep)
                 : !b->retention                                     ? ""
                 : strcmp(b->retention, "POTENTIALLY_OBSOLETE") == 0 ? "OBSOLETE*"
                 : strcmp(b->retention, "NONE") == 0                 ? ""
                                                                     : b->retention);
        if (!sel && b->retention && strncmp(b->retention, "OBSOLETE", 8) == 0)
            role = TUI_ROLE_WARN;
        break;
    default:
        break;
    }
    return role;
}

static void backups_draw(struct console *c, struct pane *p, struct tui_rect rc, bool focused)
{
    struct backups_state *st = p->state;
    const struct tui_draw *d = &c->dr;
    const struct tui_server *s = con_server(c);
    int y = rc.y, w = rc.w;
    char title[256];
    snprintf(title, sizeof title, "Backups of %s%s%s%s", s ? s->name : "-",
             c->filter[0] ? " [filter: " : "", c->filter, c->filter[0] ? "]" : "");
    tui_pane_frame(d, y, rc.x, rc.h, w, title, focused);
    int iw = w - 2, rows = rc.h - 3;
    int xx = rc.x + 1;
    int ncols = 0, used = 0;
    bool shown[CEL_ARRAY_LEN(bk_cols)] = {false};
    for (int prio = 1; prio <= (int)CEL_ARRAY_LEN(bk_cols); prio++) {
        size_t i = 0;
        while (i < CEL_ARRAY_LEN(bk_cols) && bk_cols[i].prio != prio)
            i++;
        if (i == CEL_ARRAY_LEN(bk_cols) || used + bk_cols[i].width + (ncols ? 1 : 0) > iw)
            break;
        used += bk_cols[i].width + (ncols ? 1 : 0);
        shown[i] = true;
        ncols++;
    }
    bool name_col = iw - used >= 8;
    tui_put(d, y + 1, xx, iw, TUI_ROLE_HEADER, "", true);
    int cx = xx;
    for (size_t i = 0; i < CEL_ARRAY_LEN(bk_cols); i++) {
        if (!shown[i])
            continue;
        char t[32];
        snprintf(t, sizeof t, "%s%s", bk_cols[i].title,
                 bk_cols[i].sort == c->sort ? (c->sort_rev ? "^" : "v") : "");
        tui_put(d, y + 1, cx, bk_cols[i].width, TUI_ROLE_HEADER, t, true);
        cx += bk_cols[i].width + 1;
    }
    if (name_col)
        tui_put(d, y + 1, cx, iw - used - 1, TUI_ROLE_HEADER, "Name", true);
    if (!s)
        return;
    if (s->loading) { /* a bucket server's: a child job lists them */
        tui_putf(d, y + 2, xx + 1, iw - 1, TUI_ROLE_DIM, false, "loading from %s ...", s->bucket);
        return;
    }
    if (s->load_error) {
        tui_put(d, y + 2, xx + 1, iw - 1, TUI_ROLE_ERROR, s->load_error, false);
        return;
    }
    if (!c->n_view) {
        if (s->n_backups)
            tui_put(d, y + 2, xx + 1, iw - 1, TUI_ROLE_DIM, "no backup matches the filter", false);
        else if (s->bucket)
            tui_putf(d, y + 2, xx + 1, iw - 1, TUI_ROLE_DIM, false, "no backups in %s", s->bucket);
        else
            tui_put(d, y + 2, xx + 1, iw - 1, TUI_ROLE_DIM, "no backups (b: take one)", false);
        return;
    }
    pane_scroll_to(c->bk_sel, &st->top, rows);
    for (int r = 0; r < rows && st->top + (size_t)r < c->n_view; r++) {
        size_t vi = st->top + (size_t)r;
        const struct tui_backup *b = &s->backups[c->view[vi]];
        bool sel = vi == c->bk_sel;
        enum tui_role base =
            sel ? (focused ? TUI_ROLE_SELECTED : TUI_ROLE_SELECTED_IDLE) : TUI_ROLE_NORMAL;
        int yy = y + 2 + r;
        tui_put(d, yy, xx, iw, base, "", true);
        char cell[64];
        cx = xx;
        for (size_t i = 0; i < CEL_ARRAY_LEN(bk_cols); i++) {
            if (!shown[i])
                continue;
            enum tui_role role = cell_text(b, bk_cols[i].sort, sel, base, cell, sizeof cell);
            tui_put(d, yy, cx, bk_cols[i].width, role, cell, true);
            cx += bk_cols[i].width + 1;
        }
        if (name_col) { /* an encrypted backup says so before its name */
            char name[256];
            snprintf(name, sizeof name, "%s%s%s%s", b->encryption ? "[" : "",
                     b->encryption ? b->encryption : "", b->encryption ? "] " : "",
                     b->name ? b->name : "");
            tui_put(d, yy, cx, iw - used - 1, base, name, true);
        }
    }
}

/* A new height: the selected backup stays in sight. */
static void backups_resize(struct console *c, struct pane *p, int h, int w)
{
    (void)w;
    struct backups_state *st = p->state;
    pane_scroll_to(c->bk_sel, &st->top, h - 3);
}

static unsigned backups_key(struct console *c, struct pane *p, enum tui_action a, int ch)
{
    (void)p, (void)ch;
    switch (a) {
    case TUI_ACT_UP:
        if (c->bk_sel > 0)
            c->bk_sel--;
        return PANE_HANDLED | PANE_REDRAW;
    case TUI_ACT_DOWN:
        if (c->bk_sel + 1 < c->n_view)
            c->bk_sel++;
        return PANE_HANDLED | PANE_REDRAW;
    case TUI_ACT_DETAILS:
        con_open_details(c);
        return PANE_HANDLED | PANE_REDRAW;
    default:
        return 0;
    }
}

const struct pane_ops pane_backups = {
    .name = "backups",
    .slot = PANE_SLOT_MAIN,
    .state_size = sizeof(struct backups_state),
    .draw = backups_draw,
    .key = backups_key,
    .resize = backups_resize,
};
