/*
 * pane_servers.c - the servers pane: every configured server with its
 * health mark, backups, age of the last backup, WAL lag, check summary and
 * description. Up/Down select a server (its backups follow); Enter goes to
 * its backups. It asks for one line per server (the layout caps it).
 */
#include <string.h>

#include "tui/console.h"

struct servers_state {
    size_t top; /* first server shown */
};

/* A line per server (at least one), up to a fifth of the screen, below
 * the frame's top and the heading. */
static int servers_height(const struct console *c, int H)
{
    int rows = c->model.n_servers ? (int)c->model.n_servers : 1;
    if (rows > H / 5)
        rows = H / 5 > 1 ? H / 5 : 1;
    return rows + 3;
}

static void servers_draw(struct console *c, struct pane *p, struct tui_rect rc, bool focused)
{
    struct servers_state *st = p->state;
    const struct tui_draw *d = &c->dr;
    int y = rc.y, x = rc.x, w = rc.w;
    tui_pane_frame(d, y, x, rc.h, w, "Servers", focused);
    int iw = w - 2, rows = rc.h - 3;
    tui_putf(d, y + 1, x + 1, iw, TUI_ROLE_HEADER, true, "  %-16s %7s  %-12s %-22s %-10s %s",
             "Server", "Backups", "Last backup", "Last WAL", "Check", "Description");
    if (!c->model.n_servers) {
        tui_put(d, y + 2, x + 2, iw - 1, TUI_ROLE_DIM, "no servers configured", false);
        return;
    }
    pane_scroll_to(c->srv_sel, &st->top, rows);
    int64_t now = con_now(c);
    for (int r = 0; r < rows && st->top + (size_t)r < c->model.n_servers; r++) {
        size_t i = st->top + (size_t)r;
        const struct tui_server *s = &c->model.servers[i];
        bool sel = i == c->srv_sel;
        enum tui_role base =
            sel ? (focused ? TUI_ROLE_SELECTED : TUI_ROLE_SELECTED_IDLE) : TUI_ROLE_NORMAL;
        int yy = y + 2 + r, xx = x + 1;
        tui_put(d, yy, xx, iw, base, "", true);
        const char *mark;
        enum tui_role mrole;
        if (s->disabled) {
            mark = d->utf8 ? "\u2718" : "x", mrole = TUI_ROLE_ERROR;
        } else if (s->health == TUI_HEALTH_OK) {
            mark = d->utf8 ? "\u2714" : "+", mrole = TUI_ROLE_OK;
        } else if (s->health == TUI_HEALTH_FAILED) {
            mark = d->utf8 ? "\u2718" : "x", mrole = TUI_ROLE_ERROR;
        } else {
            mark = "?", mrole = TUI_ROLE_DIM;
        }
        tui_put(d, yy, xx, 1, sel ? base : mrole, mark, false);
        tui_putf(d, yy, xx + 2, 16, base, true, "%s", s->name);
        tui_putf(d, yy, xx + 19, 7, base, true, "%7zu", s->n_backups);
        struct strbuf age = {0};
        int64_t last = tui_server_last_backup(s);
        if (last)
            tui_fmt_age(now - last, &age);
        else
            sb_append(&age, "none");
        bool old = tui_server_backup_too_old(s, now);
        if (old)
            sb_append(&age, " !");
        tui_put(d, yy, xx + 28, 12, old && !sel ? TUI_ROLE_WARN : base, sb_str(&age), true);
        sb_free(&age);
        /* the WAL archive's lag: age of the newest archived file, files waiting */
        struct strbuf wal = {0};
        bool lag = !s->bucket && tui_server_wal_lag(s, (double)now, &wal);
        if (s->bucket) /* its WAL is in the bucket: nothing archives here */
            sb_append(&wal, "bucket");
        tui_put(d, yy, xx + 41, 22, lag && !sel ? TUI_ROLE_WARN : base, sb_str(&wal), true);
        sb_free(&wal);
        struct strbuf chk = {0};
        if (s->disabled)
            sb_append(&chk, "disabled");
        else if (s->health == TUI_HEALTH_OK)
            sb_append(&chk, "ok");
        else if (s->health == TUI_HEALTH_FAILED)
            sb_appendf(&chk, "%zu failed", s->checks_failed);
        else
            sb_append(&chk, "...");
        tui_put(d, yy, xx + 64, 10, sel ? base : mrole, sb_str(&chk), true);
        sb_free(&chk);
        /* a copy in a bucket (cloud_destination): the age of its last
         * upload, or that the last run failed, before the description */
        int dx = xx + 75, dw = iw - 75;
        if (s->cloud_copy && dw > 0) {
            struct strbuf cl = {0};
            if (s->cloud_error) {
                sb_append(&cl, "cloud FAILED");
            } else if (s->cloud_last_upload > 0) {
                sb_append(&cl, "cloud ");
                tui_fmt_age(now - (int64_t)s->cloud_last_upload, &cl);
            } else {
                sb_append(&cl, "cloud none");
            }
            sb_append(&cl, " ");
            int n = (int)cl.len < dw ? (int)cl.len : dw;
            tui_put(d, yy, dx, n, s->cloud_error && !sel ? TUI_ROLE_WARN : base, sb_str(&cl),
                    true);
            dx += n;
            dw -= n;
            sb_free(&cl);
        }
        if (dw > 0)
            tui_put(d, yy, dx, dw, base, s->description ? s->description : "", true);
    }
}

/* A new height: the selected server stays in sight. */
static void servers_resize(struct console *c, struct pane *p, int h, int w)
{
    (void)w;
    struct servers_state *st = p->state;
    pane_scroll_to(c->srv_sel, &st->top, h - 3);
}

static unsigned servers_key(struct console *c, struct pane *p, enum tui_action a, int ch)
{
    (void)p, (void)ch;
    switch (a) {
    case TUI_ACT_UP:
        if (c->srv_sel > 0)
            con_select_server(c, c->srv_sel - 1);
        return PANE_HANDLED | PANE_REDRAW;
    case TUI_ACT_DOWN:
        if (c->srv_sel + 1 < c->model.n_servers)
            con_select_server(c, c->srv_sel + 1);
        return PANE_HANDLED | PANE_REDRAW;
    case TUI_ACT_DETAILS:
        con_focus_pane(c, "backups");
        return PANE_HANDLED | PANE_REDRAW;
    default:
        return 0;
    }
}

const struct pane_ops pane_servers = {
    .name = "servers",
    .slot = PANE_SLOT_TOP,
    .state_size = sizeof(struct servers_state),
    .height = servers_height,
    .draw = servers_draw,
    .key = servers_key,
    .resize = servers_resize,
};
