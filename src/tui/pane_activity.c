/*
 * pane_activity.c - the activity pane: every operation started from the
 * console, running ones with a progress line, finished ones with their
 * outcome until dismissed. Up/Down select an operation; Enter shows its
 * log. It asks for a line per operation (two while one runs).
 */
#include "tui/console.h"

static int job_lines(const struct tui_job *j)
{
    return j->state == TUI_JOB_RUNNING ? 2 : 1;
}

/* A line per operation (two while it runs), at least one, up to a
 * quarter of the screen (two lines on a small one), and the frame. */
static int activity_height(const struct console *c, int H)
{
    int n = 0;
    for (size_t i = 0; i < c->jobs.n; i++)
        n += job_lines(c->jobs.v[i]);
    int max = H / 4 > 2 ? H / 4 : 2;
    if (n < 1)
        n = 1;
    return (n > max ? max : n) + 2;
}

static void activity_draw(struct console *c, struct pane *p, struct tui_rect rc, bool focused)
{
    (void)p;
    const struct tui_draw *d = &c->dr;
    int y = rc.y, x = rc.x;
    size_t running = tui_jobs_running(&c->jobs);
    char title[64];
    snprintf(title, sizeof title, "Activity (%zu running)", running);
    tui_pane_frame(d, y, x, rc.h, rc.w, title, focused);
    int iw = rc.w - 2, rows = rc.h - 2;
    if (!c->jobs.n) {
        tui_put(d, y + 1, x + 2, iw - 1, TUI_ROLE_DIM,
                "no operations: b backup, c check, a archive", false);
        return;
    }
    /* keep the selected job visible: start from the first job that lets it fit */
    size_t first = 0;
    for (;;) {
        int need = 0;
        for (size_t i = first; i <= c->act_sel && i < c->jobs.n; i++)
            need += job_lines(c->jobs.v[i]);
        if (need <= rows || first >= c->act_sel)
            break;
        first++;
    }
    int r = 0;
    double now = tui_now();
    for (size_t i = first; i < c->jobs.n && r < rows; i++) {
        const struct tui_job *j = c->jobs.v[i];
        /* the selection shows only while the pane has the focus */
        bool sel = focused && i == c->act_sel;
        enum tui_role base = sel ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
        int yy = y + 1 + r;
        tui_put(d, yy, x + 1, iw, base, "", true);
        const char *tag = j->state == TUI_JOB_RUNNING ? "running"
                          : j->state == TUI_JOB_OK    ? "ok"
                                                      : "FAILED";
        enum tui_role trole = sel                           ? base
                              : j->state == TUI_JOB_RUNNING ? TUI_ROLE_WARN
                              : j->state == TUI_JOB_OK      ? TUI_ROLE_OK
                                                            : TUI_ROLE_ERROR;
        int used = tui_put(d, yy, x + 1, 10, trole, tag, true);
        double secs = (j->state == TUI_JOB_RUNNING ? now : j->ended) - j->started;
        struct strbuf sb = {0};
        sb_appendf(&sb, "%s  %d:%02d  ", j->title, (int)secs / 60, (int)secs % 60);
        if (j->state == TUI_JOB_RUNNING)
            sb_append(&sb, j->phase ? j->phase : "starting");
        else
            sb_append(&sb, j->outcome ? j->outcome : "");
        tui_put(d, yy, x + 1 + used + 1, iw - used - 1, base, sb_str(&sb), true);
        sb_free(&sb);
        r++;
        if (j->state == TUI_JOB_RUNNING && r < rows) {
            tui_put(d, y + 1 + r, x + 1, iw, TUI_ROLE_NORMAL, "", true);
            if (j->has_progress)
                tui_progress(d, y + 1 + r, x + 3, iw - 2, j);
            else
                tui_put(d, y + 1 + r, x + 3, iw - 2, TUI_ROLE_DIM, "waiting for progress", false);
            r++;
        }
    }
}

static unsigned activity_key(struct console *c, struct pane *p, enum tui_action a, int ch)
{
    (void)p, (void)ch;
    switch (a) {
    case TUI_ACT_UP:
        if (c->act_sel > 0)
            c->act_sel--;
        return PANE_HANDLED | PANE_REDRAW;
    case TUI_ACT_DOWN:
        if (c->act_sel + 1 < c->jobs.n)
            c->act_sel++;
        return PANE_HANDLED | PANE_REDRAW;
    case TUI_ACT_DETAILS:
        con_open_log(c);
        return PANE_HANDLED | PANE_REDRAW;
    default:
        return 0;
    }
}

const struct pane_ops pane_activity = {
    .name = "activity",
    .slot = PANE_SLOT_BOTTOM,
    .height = activity_height,
    .draw = activity_draw,
    .key = activity_key,
};
