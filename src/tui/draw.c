/*
 * draw.c - the console's drawing primitives (see draw.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fmt.h"
#include "ops/ops.h"
#include "tui/draw.h"
#include "tui/pane.h"
#include "tui/timeline.h"

/* curses last: the core headers refuse to be read after it */
#include <curses.h>

static attr_t role_attr(const struct tui_draw *c, enum tui_role r)
{
    const struct tui_style *st = &c->theme.roles[r];
    attr_t a = A_NORMAL;
    if (st->attrs & TUI_ATTR_BOLD)
        a |= A_BOLD;
    if (st->attrs & TUI_ATTR_REVERSE)
        a |= A_REVERSE;
    if (st->attrs & TUI_ATTR_UNDERLINE)
        a |= A_UNDERLINE;
    if (st->attrs & TUI_ATTR_DIM)
        a |= A_DIM;
    if (c->colors)
        return a | COLOR_PAIR((short)(r + 1));
    /* no colours: the roles that colour alone tells apart get reverse, but
     * the selection of a pane without the focus only an underline, so that
     * the focused list's stands out */
    if (!st->attrs && (r == TUI_ROLE_SELECTED || r == TUI_ROLE_TITLE || r == TUI_ROLE_STATUS ||
                       r == TUI_ROLE_PROGRESS))
        a |= A_REVERSE;
    if (!st->attrs && r == TUI_ROLE_SELECTED_IDLE)
        a |= A_UNDERLINE;
    return a;
}

void tui_draw_apply_theme(const struct tui_draw *c)
{
    if (!c->colors)
        return;
    for (int r = 0; r < TUI_ROLE_COUNT; r++)
        init_pair((short)(r + 1), (short)c->theme.roles[r].fg, (short)c->theme.roles[r].bg);
    bkgdset(' ' | role_attr(c, TUI_ROLE_NORMAL));
}

/* Draw s at y,x in at most w columns (UTF-8 aware), padding with spaces
 * to w when pad. Returns the columns used. */
int tui_put(const struct tui_draw *c, int y, int x, int w, enum tui_role role, const char *s,
            bool pad)
{
    if (w <= 0)
        return 0;
    attr_t a = role_attr(c, role);
    attron(a);
    move(y, x);
    int used = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    const char *p = s ? s : "";
    size_t left = strlen(p);
    while (left) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, p, left, &st);
        if (n == (size_t)-1 || n == (size_t)-2) {
            wc = L'?';
            n = 1;
            memset(&st, 0, sizeof st);
        } else if (n == 0) {
            break;
        }
        int cw = wcwidth(wc);
        if (cw < 0 || wc < L' ') {
            wc = L'?';
            cw = 1;
        }
        if (used + cw > w)
            break;
        addnwstr(&wc, 1);
        used += cw;
        p += n;
        left -= n;
    }
    if (pad)
        for (; used < w; used++)
            addch(' ');
    attroff(a);
    return used;
}

int tui_putf(const struct tui_draw *c, int y, int x, int w, enum tui_role role, bool pad,
             const char *fmt, ...)
{
    struct strbuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vappendf(&sb, fmt, ap);
    va_end(ap);
    int used = tui_put(c, y, x, w, role, sb_str(&sb), pad);
    sb_free(&sb);
    return used;
}

void tui_hline(const struct tui_draw *c, int y, int x, int n)
{
    if (n <= 0)
        return;
    if (c->utf8) {
        cchar_t h;
        setcchar(&h, L"\u2500", 0, 0, NULL);
        mvhline_set(y, x, &h, n);
    } else {
        mvhline(y, x, '-', n);
    }
}

static void corner(const struct tui_draw *c, int y, int x, const wchar_t *u, char a)
{
    if (c->utf8) {
        cchar_t ch;
        setcchar(&ch, u, 0, 0, NULL);
        mvadd_wch(y, x, &ch);
    } else {
        mvaddch(y, x, (chtype)a);
    }
}

/* A pane's frame with its title; the focused pane's frame stands out. */
void tui_frame(const struct tui_draw *c, int y, int x, int h, int w, const char *title,
               bool focused)
{
    if (h < 2 || w < 2)
        return;
    attr_t a = role_attr(c, focused ? TUI_ROLE_BORDER_FOCUS : TUI_ROLE_BORDER);
    attron(a);
    tui_hline(c, y, x + 1, w - 2);
    tui_hline(c, y + h - 1, x + 1, w - 2);
    for (int i = 1; i < h - 1; i++) {
        corner(c, y + i, x, L"\u2502", '|');
        corner(c, y + i, x + w - 1, L"\u2502", '|');
    }
    corner(c, y, x, L"\u250c", '+');
    corner(c, y, x + w - 1, L"\u2510", '+');
    corner(c, y + h - 1, x, L"\u2514", '+');
    corner(c, y + h - 1, x + w - 1, L"\u2518", '+');
    attroff(a);
    tui_putf(c, y, x + 2, w - 4, focused ? TUI_ROLE_BORDER_FOCUS : TUI_ROLE_BORDER, false, " %s ",
             title);
}

void tui_pane_frame(const struct tui_draw *d, int y, int x, int h, int w, const char *title,
                    bool focused)
{
    if (!focused) {
        tui_frame(d, y, x, h, w, title, false);
        return;
    }
    char *t = cel_xasprintf("%s %s", title, d->utf8 ? TUI_FOCUS_MARK_UTF8 : TUI_FOCUS_MARK_ASCII);
    tui_frame(d, y, x, h, w, t, true);
    free(t);
}

void tui_fmt_bytes(uint64_t v, char *buf, size_t n)
{
    struct strbuf sb = {0};
    fmt_size((double)v, &sb);
    snprintf(buf, n, "%s", sb_str(&sb));
    sb_free(&sb);
}

static void fmt_eta(double secs, struct strbuf *out)
{
    if (secs < 0 || secs > 360000)
        return;
    int s = (int)secs;
    sb_appendf(out, ", ETA %d:%02d", s / 60, s % 60);
}

void tui_progress(const struct tui_draw *c, int y, int x, int w, const struct tui_job *j)
{
    struct strbuf line = {0};
    int bar = w >= 60 ? 20 : 10;
    double frac = j->bytes_total ? (double)j->bytes_done / (double)j->bytes_total : 0;
    if (frac > 1)
        frac = 1;
    int fill = (int)(frac * bar);
    tui_put(c, y, x, 1, TUI_ROLE_NORMAL, "[", false);
    if (c->utf8) {
        /* full blocks in the progress colour (its pair reversed: the block
         * is drawn in what is the bar's background), light shade for the
         * rest, so the bar shows in a text capture and without colours */
        attr_t a = role_attr(c, TUI_ROLE_PROGRESS) ^ A_REVERSE;
        attron(a);
        for (int i = 0; i < fill; i++)
            mvaddstr(y, x + 1 + i, "\u2588");
        attroff(a);
        a = role_attr(c, TUI_ROLE_DIM);
        attron(a);
        for (int i = fill; i < bar; i++)
            mvaddstr(y, x + 1 + i, "\u2591");
        attroff(a);
    } else {
        char cells[64];
        memset(cells, '#', sizeof cells);
        cells[fill < (int)sizeof cells ? fill : (int)sizeof cells - 1] = '\0';
        tui_put(c, y, x + 1, fill, TUI_ROLE_PROGRESS, cells, true);
        memset(cells, '.', sizeof cells);
        cells[bar - fill < (int)sizeof cells ? bar - fill : (int)sizeof cells - 1] = '\0';
        tui_put(c, y, x + 1 + fill, bar - fill, TUI_ROLE_DIM, cells, true);
    }
    tui_put(c, y, x + 1 + bar, 1, TUI_ROLE_NORMAL, "]", false);
    if (j->bytes_total)
        sb_appendf(&line, " %3.0f%% ", frac * 100);
    else
        sb_append(&line, " ");
    fmt_size((double)j->bytes_done, &line);
    if (j->bytes_total) {
        sb_append(&line, " of ");
        fmt_size((double)j->bytes_total, &line);
    }
    if (j->rate > 0) {
        sb_append(&line, ", ");
        fmt_size(j->rate, &line);
        sb_append(&line, "/s");
        if (j->bytes_total > j->bytes_done)
            fmt_eta((double)(j->bytes_total - j->bytes_done) / j->rate, &line);
    }
    if (j->current)
        sb_appendf(&line, "  %s", j->current);
    tui_put(c, y, x + bar + 2, w - bar - 2, TUI_ROLE_NORMAL, sb_str(&line), true);
    sb_free(&line);
}

/* A centred box for the help and the log. */
void tui_popup(const struct tui_draw *c, int *y, int *x, int *h, int *w, const char *title)
{
    int H = LINES, W = COLS;
    *w = W - 4 < 100 ? W - 4 : 100;
    *h = H - 4;
    *y = 2;
    *x = (W - *w) / 2;
    for (int i = 0; i < *h; i++)
        tui_put(c, *y + i, *x, *w, TUI_ROLE_NORMAL, "", true);
    tui_frame(c, *y, *x, *h, *w, title, true);
}

/* The first time a recovery can reach: the end of the oldest DONE backup
 * (none is consistent before it, and the wizard refuses earlier targets),
 * rounded up to the second so that the time shown is one a target may
 * take; the window's begin when that end is unknown. */
static double window_start(const struct op_window *win)
{
    if (win->oldest_done < 0 || (size_t)win->oldest_done >= win->cat.list.n)
        return win->begin;
    const struct cat_backup *b = &win->cat.list.items[win->oldest_done];
    if (!b->end_time.set)
        return win->begin;
    double e = ts_epoch(&b->end_time.t), whole = (double)(long long)e;
    return whole < e ? whole + 1 : whole;
}

int tui_timeline(const struct tui_draw *d, int y, int x, int w, const struct op_window *win,
                 const char *selected, double target, bool legend)
{
    if (w < 10)
        return 0;
    struct tui_tl tl;
    tui_tl_from_window(win, selected, target, &tl);
    char a[TS_MAX + 8], b[TS_MAX + 8];
    tui_fmt_epoch(window_start(win), a, sizeof a);
    tui_fmt_epoch(win->end, b, sizeof b);
    tui_putf(d, y, x, w, TUI_ROLE_HEADER, true, "Recoverable window: %s .. %s%s%s%s", a, b,
             win->last_wal[0] ? "  (last WAL " : "", win->last_wal, win->last_wal[0] ? ")" : "");
    unsigned char cells[512];
    int n = w < (int)sizeof cells ? w : (int)sizeof cells;
    tui_tl_cells(&tl, n, cells);
    static const char *const u[] = {" ",      "\u2500", "\u2591", "\u2588",
                                    "\u25c6", "\u2502", "\u25bc"};
    static const char *const asc[] = {" ", "-", "x", "#", "@", "|", "V"};
    static const enum tui_role roles[] = {TUI_ROLE_DIM,    TUI_ROLE_OK,       TUI_ROLE_ERROR,
                                          TUI_ROLE_NORMAL, TUI_ROLE_SELECTED, TUI_ROLE_HEADER,
                                          TUI_ROLE_WARN};
    for (int i = 0; i < n; i++)
        tui_put(d, y + 1, x + i, 1, roles[cells[i]], d->utf8 ? u[cells[i]] : asc[cells[i]], false);
    tui_fmt_epoch(tl.from, a, sizeof a);
    tui_fmt_epoch(tl.to, b, sizeof b);
    tui_put(d, y + 2, x, w, TUI_ROLE_DIM, a, true);
    int bl = (int)strlen(b);
    if (bl < w - (int)strlen(a))
        tui_put(d, y + 2, x + w - bl, bl, TUI_ROLE_DIM, b, false);
    tui_tl_free(&tl);
    if (!legend)
        return 3;
    tui_putf(d, y + 3, x, w, TUI_ROLE_DIM, true,
             "%s backup  %s selected  %s not DONE  %s recoverable  %s target%s%s",
             d->utf8 ? "\u2588" : "#", d->utf8 ? "\u25c6" : "@", d->utf8 ? "\u2591" : "x",
             d->utf8 ? "\u2500" : "-", d->utf8 ? "\u25bc" : "V",
             win->points.n_points ? (d->utf8 ? "  \u2502 " : "  | ") : "",
             win->points.n_points ? "restore point" : "");
    return 4;
}
