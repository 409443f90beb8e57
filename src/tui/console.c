/*
 * console.c - the console's loop, layout and drawing (the only curses code).
 *
 * One loop over one model (C10): each turn reads what the child jobs wrote
 * (tui_jobs_poll with no wait), applies finished results to the model,
 * redraws the whole screen into stdscr and lets curses send only the
 * difference (wnoutrefresh + doupdate: no flicker), then waits at most
 * 100 ms for a key. Work never runs in this process: backup, check,
 * archive-wal and delete are child `cellar --batch --format json` jobs.
 * The servers' WAL lag (list-server's wal_archive: a tail of xlog.db and a
 * listing of incoming/) is read again every ARCHIVE_REFRESH seconds and
 * when a job ends.
 * The layout is recomputed from the terminal size on every draw, so a
 * resize (KEY_RESIZE) is just a redraw; below 60x16 a message asks for a
 * larger terminal.
 */
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "fmt.h"
#include "tui/draw.h"
#include "tui/first_run.h"
#include "tui/job.h"
#include "tui/keys.h"
#include "tui/model.h"
#include "tui/theme.h"
#include "tui/tui.h"
#include "tui/wizard.h"
#include "tui/wizard_draw.h"

/* curses last: the core headers refuse to be read after it */
#include <curses.h>

enum pane { PANE_SERVERS, PANE_BACKUPS, PANE_DETAILS, PANE_ACTIVITY, PANE_COUNT };
enum mode {
    MODE_NORMAL,
    MODE_FILTER,
    MODE_CONFIRM_DELETE,
    MODE_CONFIRM_QUIT,
    MODE_HELP,
    MODE_LOG,
    MODE_WIZARD
};
enum sort_col {
    SORT_ID,
    SORT_END,
    SORT_SIZE,
    SORT_DEDUP,
    SORT_WAL,
    SORT_STATUS,
    SORT_RET,
    SORT_COUNT
};

#define MIN_ROWS 16
#define MIN_COLS 60
/* seconds between two readings of the WAL archives' state (list-server) */
#define ARCHIVE_REFRESH 5

struct console {
    const struct cfg *cfg;
    char exe[PATH_MAX];
    struct tui_model model;
    struct tui_jobs jobs;
    struct tui_draw dr; /* theme, colours, UTF-8 */
    enum pane focus;
    enum mode mode;
    size_t srv_sel, srv_top;
    size_t *view; /* indices into the selected server's backups, filtered and sorted */
    size_t n_view;
    size_t bk_sel, bk_top;
    enum sort_col sort;
    bool sort_rev;
    char filter[128];
    char input[128];
    json_t *details; /* show-backup data of details_id */
    char *details_id;
    char *details_server;
    struct op_window win; /* the recoverable window of details_server */
    bool has_win;
    size_t det_top;
    size_t act_sel;
    size_t log_top;
    char *pending_delete;
    struct wizard wz; /* the recovery wizard, while mode is MODE_WIZARD */
    bool wz_quits;    /* opened by recover --wizard: closing it ends the console */
    char *wz_command; /* the wizard's last reviewed command line, printed on exit */
    struct cel_err wz_err; /* recover --wizard: how its recovery failed (its exit status) */
    char status[512];
    enum tui_role status_role;
    double status_at;
    double archive_at; /* when the WAL lag was last read */
};

static volatile sig_atomic_t quit_signal;

static void on_quit_signal(int sig)
{
    quit_signal = sig;
}

static void set_status(struct console *c, enum tui_role role, const char *fmt, ...)
    CEL_PRINTF(3, 4);
static void set_status(struct console *c, enum tui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->status, sizeof c->status, fmt, ap);
    va_end(ap);
    c->status_role = role;
    c->status_at = tui_now();
}

/* ---- the backups view: filter and sort --------------------------------------------- */

static struct tui_server *cur_server(struct console *c)
{
    return c->model.n_servers ? &c->model.servers[c->srv_sel] : NULL;
}

static struct console *sort_ctx;

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_backup(const void *pa, const void *pb)
{
    const struct tui_server *s = cur_server(sort_ctx);
    const struct tui_backup *a = &s->backups[*(const size_t *)pa];
    const struct tui_backup *b = &s->backups[*(const size_t *)pb];
    int r = 0;
    switch (sort_ctx->sort) {
    case SORT_END:
        r = (a->end_ts > b->end_ts) - (a->end_ts < b->end_ts);
        break;
    case SORT_SIZE:
        r = (a->size > b->size) - (a->size < b->size);
        break;
    case SORT_DEDUP:
        r = (a->dedup_size > b->dedup_size) - (a->dedup_size < b->dedup_size);
        break;
    case SORT_WAL:
        r = (a->wal_size > b->wal_size) - (a->wal_size < b->wal_size);
        break;
    case SORT_STATUS:
        r = cmp_str(a->status, b->status);
        break;
    case SORT_RET:
        r = cmp_str(a->retention, b->retention);
        break;
    default:
        break;
    }
    if (!r)
        r = cmp_str(a->id, b->id);
    /* newest (largest) first unless reversed */
    return sort_ctx->sort_rev ? r : -r;
}

static bool matches(const struct tui_backup *b, const char *f)
{
    if (!*f)
        return true;
    return strstr(b->id, f) || (b->name && strstr(b->name, f)) || strstr(b->status, f) ||
           (b->retention && strstr(b->retention, f));
}

/* Rebuild the view of the selected server's backups, keeping the selected
 * backup selected when it is still there. */
static void rebuild_view(struct console *c)
{
    const struct tui_server *s = cur_server(c);
    char *keep = NULL;
    if (s && c->bk_sel < c->n_view && c->view[c->bk_sel] < s->n_backups)
        keep = NULL; /* indices may be stale after a reload: keep by id below */
    free(c->view);
    c->view = NULL;
    c->n_view = 0;
    if (!s) {
        free(keep);
        return;
    }
    c->view = s->n_backups ? cel_xcalloc(s->n_backups, sizeof *c->view) : NULL;
    for (size_t i = 0; i < s->n_backups; i++)
        if (matches(&s->backups[i], c->filter))
            c->view[c->n_view++] = i;
    sort_ctx = c;
    if (c->n_view)
        qsort(c->view, c->n_view, sizeof *c->view, cmp_backup);
    if (c->bk_sel >= c->n_view)
        c->bk_sel = c->n_view ? c->n_view - 1 : 0;
    free(keep);
}

static const struct tui_backup *cur_backup(struct console *c)
{
    const struct tui_server *s = cur_server(c);
    if (!s || c->bk_sel >= c->n_view)
        return NULL;
    return &s->backups[c->view[c->bk_sel]];
}

/* (Re)load the recoverable window of details_server for the details pane.
 * It reads all of xlog.db, so it is done when details open and when a job
 * changed that server, not on every draw. */
static void load_window(struct console *c)
{
    if (c->has_win)
        op_window_free(&c->win);
    c->has_win = false;
    ssize_t i = c->details_server ? tui_model_find(&c->model, c->details_server) : -1;
    if (i < 0)
        return;
    struct op_sink quiet = {0};
    struct op_ctx ctx = {.cfg = c->cfg, .sink = &quiet};
    struct cel_err err = {0};
    const struct cfg_server *s = cfg_server_find(c->cfg, c->details_server);
    if (!s)
        return;
    if (op_window_load(&ctx, s, &c->win, &err) == 0) {
        c->has_win = true;
    } else {
        op_window_free(&c->win);
        set_status(c, TUI_ROLE_WARN, "recoverable window of %s: %s", c->details_server, err.msg);
    }
}

/* Reload server i and keep the selected backup (by ID) selected. */
static void reload_server(struct console *c, size_t i)
{
    const struct tui_backup *b = cur_backup(c);
    char *id = b && i == c->srv_sel ? cel_xstrdup(b->id) : NULL;
    struct cel_err err = {0};
    if (tui_model_reload_server(&c->model, i, &err) < 0)
        set_status(c, TUI_ROLE_ERROR, "%s: %s", c->model.servers[i].name, err.msg);
    if (i == c->srv_sel) {
        rebuild_view(c);
        const struct tui_server *s = cur_server(c);
        for (size_t k = 0; id && k < c->n_view; k++)
            if (strcmp(s->backups[c->view[k]].id, id) == 0)
                c->bk_sel = k;
    }
    free(id);
    if (c->details_server && strcmp(c->details_server, c->model.servers[i].name) == 0)
        load_window(c);
}

/* Read the WAL archive state of every server again (list-server: the
 * tail of each xlog.db and a listing of incoming/). */
static void reload_archive(struct console *c)
{
    struct cel_err err = {0};
    if (tui_model_reload_archive(&c->model, &err) < 0)
        set_status(c, TUI_ROLE_ERROR, "list-server: %s", err.msg);
    c->archive_at = tui_now();
}

/* ---- jobs ------------------------------------------------------------------------ */

/* Start `cellar --batch --format json -c CONF args...` (NULL-terminated) as a job. */
static struct tui_job *start_job(struct console *c, const char *title, const char *server,
                                 const char *const *args)
{
    struct tui_job *j = tui_job_new(title, args[0], server);
    struct cel_err err = {0};
    if (tui_job_start_batch(j, c->exe, c->cfg->path, args, &err) < 0)
        set_status(c, TUI_ROLE_ERROR, "%s: %s", title, err.msg);
    else
        set_status(c, TUI_ROLE_NORMAL, "started: %s", title);
    tui_jobs_add(&c->jobs, j);
    return j;
}

/* What changed in the jobs reaches the model: new backups appear as soon as
 * a phase starts, results are applied when a job ends. */
static void settle_jobs(struct console *c)
{
    for (size_t i = 0; i < c->jobs.n; i++) {
        struct tui_job *j = c->jobs.v[i];
        ssize_t s = j->server ? tui_model_find(&c->model, j->server) : -1;
        if (j->phases != j->seen_phases) {
            j->seen_phases = j->phases;
            if (s >= 0 && strcmp(j->command, "check") != 0)
                reload_server(c, (size_t)s);
        }
        if (j->state == TUI_JOB_RUNNING || j->seen_end)
            continue;
        j->seen_end = true;
        if (j->result && j->result_command && strcmp(j->result_command, "check") == 0)
            tui_model_apply_check(&c->model, j->result);
        if (s >= 0)
            reload_server(c, (size_t)s);
        else if (strcmp(j->command, "check") != 0)
            for (size_t k = 0; k < c->model.n_servers; k++)
                reload_server(c, k);
        reload_archive(c);
        if (j->state == TUI_JOB_OK && j->auto_dismiss)
            ; /* the background check: its marks say it all */
        else if (j->state == TUI_JOB_OK)
            set_status(c, TUI_ROLE_OK, "%s: done", j->title);
        else
            set_status(c, TUI_ROLE_ERROR, "%s: %s", j->title, j->outcome ? j->outcome : "failed");
        if (c->details_id && strcmp(j->command, "delete") == 0) {
            json_decref(c->details);
            c->details = NULL;
            free(c->details_id);
            c->details_id = NULL;
        }
    }
    for (size_t i = c->jobs.n; i-- > 0;)
        if (c->jobs.v[i]->auto_dismiss && c->jobs.v[i]->state == TUI_JOB_OK &&
            c->jobs.v[i]->seen_end)
            tui_jobs_remove(&c->jobs, i);
    if (c->act_sel >= c->jobs.n)
        c->act_sel = c->jobs.n ? c->jobs.n - 1 : 0;
}

/* ---- panes --------------------------------------------------------------------- */

static void draw_servers(struct console *c, int y, int x, int h, int w)
{
    tui_frame(&c->dr, y, x, h, w, "Servers", c->focus == PANE_SERVERS);
    int iw = w - 2, rows = h - 3;
    tui_putf(&c->dr, y + 1, x + 1, iw, TUI_ROLE_HEADER, true, "  %-16s %7s  %-12s %-18s %-10s %s",
             "Server", "Backups", "Last backup", "Last WAL", "Check", "Description");
    if (!c->model.n_servers) {
        tui_put(&c->dr, y + 2, x + 2, iw - 1, TUI_ROLE_DIM, "no servers configured", false);
        return;
    }
    if (c->srv_sel < c->srv_top)
        c->srv_top = c->srv_sel;
    if (rows > 0 && c->srv_sel >= c->srv_top + (size_t)rows)
        c->srv_top = c->srv_sel - (size_t)rows + 1;
    int64_t now = (int64_t)time(NULL);
    for (int r = 0; r < rows && c->srv_top + (size_t)r < c->model.n_servers; r++) {
        size_t i = c->srv_top + (size_t)r;
        const struct tui_server *s = &c->model.servers[i];
        bool sel = i == c->srv_sel;
        enum tui_role base =
            sel ? (c->focus == PANE_SERVERS ? TUI_ROLE_SELECTED : TUI_ROLE_SELECTED_IDLE)
                : TUI_ROLE_NORMAL;
        int yy = y + 2 + r, xx = x + 1;
        tui_put(&c->dr, yy, xx, iw, base, "", true);
        const char *mark;
        enum tui_role mrole;
        if (s->disabled) {
            mark = c->dr.utf8 ? "\u2718" : "x", mrole = TUI_ROLE_ERROR;
        } else if (s->health == TUI_HEALTH_OK) {
            mark = c->dr.utf8 ? "\u2714" : "+", mrole = TUI_ROLE_OK;
        } else if (s->health == TUI_HEALTH_FAILED) {
            mark = c->dr.utf8 ? "\u2718" : "x", mrole = TUI_ROLE_ERROR;
        } else {
            mark = "?", mrole = TUI_ROLE_DIM;
        }
        tui_put(&c->dr, yy, xx, 1, sel ? base : mrole, mark, false);
        tui_putf(&c->dr, yy, xx + 2, 16, base, true, "%s", s->name);
        tui_putf(&c->dr, yy, xx + 19, 7, base, true, "%7zu", s->n_backups);
        struct strbuf age = {0};
        int64_t last = tui_server_last_backup(s);
        if (last)
            tui_fmt_age(now - last, &age);
        else
            sb_append(&age, "none");
        bool old = tui_server_backup_too_old(s, now);
        if (old)
            sb_append(&age, " !");
        tui_put(&c->dr, yy, xx + 28, 12, old && !sel ? TUI_ROLE_WARN : base, sb_str(&age), true);
        sb_free(&age);
        /* the WAL archive's lag: age of the newest archived file, files waiting */
        struct strbuf wal = {0};
        bool lag = tui_server_wal_lag(s, (double)now, &wal);
        tui_put(&c->dr, yy, xx + 41, 18, lag && !sel ? TUI_ROLE_WARN : base, sb_str(&wal), true);
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
        tui_put(&c->dr, yy, xx + 60, 10, sel ? base : mrole, sb_str(&chk), true);
        sb_free(&chk);
        tui_put(&c->dr, yy, xx + 71, iw - 71, base, s->description ? s->description : "", true);
    }
}

struct column {
    const char *title;
    int width;
    enum sort_col sort;
    int prio; /* 1 first: the columns that fit are taken in this order */
};

/* Drawn in this order; a narrow pane drops the columns of lowest priority
 * first (WAL, gone at 80 columns; then Dedup). Sizes take 10 columns
 * ("1023.9 MiB"). */
static const struct column bk_cols[] = {
    {"ID", 15, SORT_ID, 1},         {"End time", 16, SORT_END, 3}, {"Size", 10, SORT_SIZE, 4},
    {"Dedup", 10, SORT_DEDUP, 6},   {"WAL", 10, SORT_WAL, 7},      {"Status", 8, SORT_STATUS, 2},
    {"Retention", 10, SORT_RET, 5},
};

static void draw_backups(struct console *c, int y, int x, int h, int w)
{
    const struct tui_server *s = cur_server(c);
    char title[256];
    snprintf(title, sizeof title, "Backups of %s%s%s%s", s ? s->name : "-",
             c->filter[0] ? " [filter: " : "", c->filter, c->filter[0] ? "]" : "");
    tui_frame(&c->dr, y, x, h, w, title, c->focus == PANE_BACKUPS);
    int iw = w - 2, rows = h - 3;
    int xx = x + 1;
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
    tui_put(&c->dr, y + 1, xx, iw, TUI_ROLE_HEADER, "", true);
    int cx = xx;
    for (size_t i = 0; i < CEL_ARRAY_LEN(bk_cols); i++) {
        if (!shown[i])
            continue;
        char t[32];
        snprintf(t, sizeof t, "%s%s", bk_cols[i].title,
                 bk_cols[i].sort == c->sort ? (c->sort_rev ? "^" : "v") : "");
        tui_put(&c->dr, y + 1, cx, bk_cols[i].width, TUI_ROLE_HEADER, t, true);
        cx += bk_cols[i].width + 1;
    }
    if (name_col)
        tui_put(&c->dr, y + 1, cx, iw - used - 1, TUI_ROLE_HEADER, "Name", true);
    if (!s)
        return;
    if (s->load_error) {
        tui_put(&c->dr, y + 2, xx + 1, iw - 1, TUI_ROLE_ERROR, s->load_error, false);
        return;
    }
    if (!c->n_view) {
        tui_put(&c->dr, y + 2, xx + 1, iw - 1, TUI_ROLE_DIM,
                s->n_backups ? "no backup matches the filter" : "no backups (b: take one)", false);
        return;
    }
    if (c->bk_sel < c->bk_top)
        c->bk_top = c->bk_sel;
    if (rows > 0 && c->bk_sel >= c->bk_top + (size_t)rows)
        c->bk_top = c->bk_sel - (size_t)rows + 1;
    for (int r = 0; r < rows && c->bk_top + (size_t)r < c->n_view; r++) {
        size_t vi = c->bk_top + (size_t)r;
        const struct tui_backup *b = &s->backups[c->view[vi]];
        bool sel = vi == c->bk_sel;
        enum tui_role base =
            sel ? (c->focus == PANE_BACKUPS ? TUI_ROLE_SELECTED : TUI_ROLE_SELECTED_IDLE)
                : TUI_ROLE_NORMAL;
        int yy = y + 2 + r;
        tui_put(&c->dr, yy, xx, iw, base, "", true);
        char cell[64];
        cx = xx;
        for (size_t i = 0; i < CEL_ARRAY_LEN(bk_cols); i++) {
            if (!shown[i])
                continue;
            enum tui_role role = base;
            cell[0] = '\0';
            switch (bk_cols[i].sort) {
            case SORT_ID:
                snprintf(cell, sizeof cell, "%s", b->id);
                break;
            case SORT_END:
                if (b->end_ts) {
                    time_t t = (time_t)b->end_ts;
                    struct tm tm;
                    localtime_r(&t, &tm);
                    strftime(cell, sizeof cell, "%Y-%m-%d %H:%M", &tm);
                }
                break;
            case SORT_SIZE:
                if (b->has_size)
                    tui_fmt_bytes(b->size, cell, sizeof cell);
                break;
            case SORT_DEDUP:
                if (b->has_size && b->has_dedup)
                    tui_fmt_bytes(b->dedup_size, cell, sizeof cell);
                break;
            case SORT_WAL:
                if (b->has_size)
                    tui_fmt_bytes(b->wal_size, cell, sizeof cell);
                break;
            case SORT_STATUS:
                snprintf(cell, sizeof cell, "%s",
                         strcmp(b->status, "WAITING_FOR_WALS") == 0 ? "WAITING" : b->status);
                if (!sel)
                    role = strcmp(b->status, "DONE") == 0     ? TUI_ROLE_OK
                           : strcmp(b->status, "FAILED") == 0 ? TUI_ROLE_ERROR
                                                              : TUI_ROLE_WARN;
                break;
            case SORT_RET:
                snprintf(cell, sizeof cell, "%s",
                         !b->retention                                       ? ""
                         : strcmp(b->retention, "POTENTIALLY_OBSOLETE") == 0 ? "OBSOLETE*"
                         : strcmp(b->retention, "NONE") == 0                 ? ""
                                                                             : b->retention);
                if (!sel && b->retention && strncmp(b->retention, "OBSOLETE", 8) == 0)
                    role = TUI_ROLE_WARN;
                break;
            default:
                break;
            }
            tui_put(&c->dr, yy, cx, bk_cols[i].width, role, cell, true);
            cx += bk_cols[i].width + 1;
        }
        if (name_col)
            tui_put(&c->dr, yy, cx, iw - used - 1, base, b->name ? b->name : "", true);
    }
}

/* Append the details lines of JSON value v under key prefix. */
static void details_lines(const char *prefix, json_t *v, char ***lines, size_t *n)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *sub;
        json_object_foreach(v, k, sub)
        {
            char *p = prefix ? cel_xasprintf("%s.%s", prefix, k) : cel_xstrdup(k);
            details_lines(p, sub, lines, n);
            free(p);
        }
        return;
    }
    char *val;
    if (json_is_string(v))
        val = cel_xstrdup(json_string_value(v));
    else if (json_is_null(v))
        val = cel_xstrdup("-");
    else {
        char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        val = cel_xstrdup(d ? d : "?");
        free(d);
    }
    /* multi-line values (backup_label) on one line */
    for (char *p = val; *p; p++)
        if (*p == '\n')
            *p = ' ';
    *lines = cel_xrealloc_array(*lines, *n + 1, sizeof **lines);
    (*lines)[(*n)++] = cel_xasprintf("%-28s %s", prefix ? prefix : "", val);
    free(val);
}

static void draw_details(struct console *c, int y, int x, int h, int w)
{
    char title[128];
    snprintf(title, sizeof title, "Details%s%s", c->details_id ? " of " : "",
             c->details_id ? c->details_id : "");
    tui_frame(&c->dr, y, x, h, w, title, c->focus == PANE_DETAILS);
    int iw = w - 2, rows = h - 2;
    if (!c->details) {
        tui_put(&c->dr, y + 1, x + 2, iw - 1, TUI_ROLE_DIM,
                "Enter on a backup shows everything show-backup knows", false);
        return;
    }
    /* the server's recoverable window on top, when there is room for it */
    if (c->has_win && rows >= 8) {
        int used =
            tui_timeline(&c->dr, y + 1, x + 2, iw - 2, &c->win, c->details_id, 0, rows >= 14);
        y += used + 1;
        rows -= used + 1;
    }
    char **lines = NULL;
    size_t n = 0;
    details_lines(NULL, c->details, &lines, &n);
    if (c->det_top + (size_t)rows > n)
        c->det_top = n > (size_t)rows ? n - (size_t)rows : 0;
    for (int r = 0; r < rows && c->det_top + (size_t)r < n; r++)
        tui_put(&c->dr, y + 1 + r, x + 1, iw, TUI_ROLE_NORMAL, lines[c->det_top + (size_t)r], true);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

static int job_lines(const struct tui_job *j)
{
    return j->state == TUI_JOB_RUNNING ? 2 : 1;
}

static void draw_activity(struct console *c, int y, int x, int h, int w)
{
    size_t running = tui_jobs_running(&c->jobs);
    char title[64];
    snprintf(title, sizeof title, "Activity (%zu running)", running);
    tui_frame(&c->dr, y, x, h, w, title, c->focus == PANE_ACTIVITY);
    int iw = w - 2, rows = h - 2;
    if (!c->jobs.n) {
        tui_put(&c->dr, y + 1, x + 2, iw - 1, TUI_ROLE_DIM,
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
        bool sel = c->focus == PANE_ACTIVITY && i == c->act_sel;
        enum tui_role base = sel ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
        int yy = y + 1 + r;
        tui_put(&c->dr, yy, x + 1, iw, base, "", true);
        const char *tag = j->state == TUI_JOB_RUNNING ? "running"
                          : j->state == TUI_JOB_OK    ? "ok"
                                                      : "FAILED";
        enum tui_role trole = sel                           ? base
                              : j->state == TUI_JOB_RUNNING ? TUI_ROLE_WARN
                              : j->state == TUI_JOB_OK      ? TUI_ROLE_OK
                                                            : TUI_ROLE_ERROR;
        int used = tui_put(&c->dr, yy, x + 1, 10, trole, tag, true);
        double secs = (j->state == TUI_JOB_RUNNING ? now : j->ended) - j->started;
        struct strbuf sb = {0};
        sb_appendf(&sb, "%s  %d:%02d  ", j->title, (int)secs / 60, (int)secs % 60);
        if (j->state == TUI_JOB_RUNNING)
            sb_append(&sb, j->phase ? j->phase : "starting");
        else
            sb_append(&sb, j->outcome ? j->outcome : "");
        tui_put(&c->dr, yy, x + 1 + used + 1, iw - used - 1, base, sb_str(&sb), true);
        sb_free(&sb);
        r++;
        if (j->state == TUI_JOB_RUNNING && r < rows) {
            tui_put(&c->dr, y + 1 + r, x + 1, iw, TUI_ROLE_NORMAL, "", true);
            if (j->has_progress)
                tui_progress(&c->dr, y + 1 + r, x + 3, iw - 2, j);
            else
                tui_put(&c->dr, y + 1 + r, x + 3, iw - 2, TUI_ROLE_DIM, "waiting for progress",
                        false);
            r++;
        }
    }
}

static void draw_help(struct console *c)
{
    int y, x, h, w;
    tui_popup(&c->dr, &y, &x, &h, &w, "Help: keys and the commands they run (any key closes)");
    int r = 1;
    /* key, what it does, the batch command (never cut: the help teaches the CLI) */
    int bw = 29, hw = w - 4 - 12 - bw - 1;
    tui_put(&c->dr, y + r, x + 2, 12, TUI_ROLE_HEADER, "Key", true);
    tui_put(&c->dr, y + r, x + 14, hw, TUI_ROLE_HEADER, "Action", true);
    tui_put(&c->dr, y + r++, x + 15 + hw, bw, TUI_ROLE_HEADER, "Batch command", true);
    for (size_t i = 0; i < tui_n_keys && r < h - 1; i++, r++) {
        const struct tui_key *k = &tui_keys[i];
        tui_put(&c->dr, y + r, x + 2, 12, TUI_ROLE_KEY, k->label, true);
        tui_put(&c->dr, y + r, x + 14, hw, TUI_ROLE_NORMAL, k->help, true);
        tui_put(&c->dr, y + r, x + 15 + hw, bw, TUI_ROLE_DIM, k->batch ? k->batch : "", true);
    }
    if (r < h - 1)
        tui_putf(&c->dr, y + r, x + 2, w - 4, TUI_ROLE_DIM, false,
                 "Operations run as: cellar --batch --format json -c %s COMMAND ...",
                 c->cfg->path ? c->cfg->path : "CONF");
}

static void draw_log(struct console *c)
{
    if (c->act_sel >= c->jobs.n) {
        c->mode = MODE_NORMAL;
        return;
    }
    const struct tui_job *j = c->jobs.v[c->act_sel];
    char title[256];
    snprintf(title, sizeof title, "Log of %s (j/k scroll, q closes)", j->title);
    int y, x, h, w;
    tui_popup(&c->dr, &y, &x, &h, &w, title);
    int rows = h - 2;
    if (c->log_top + (size_t)rows > j->n_log)
        c->log_top = j->n_log > (size_t)rows ? j->n_log - (size_t)rows : 0;
    for (int r = 0; r < rows && c->log_top + (size_t)r < j->n_log; r++)
        tui_put(&c->dr, y + 1 + r, x + 1, w - 2, TUI_ROLE_NORMAL, j->log[c->log_top + (size_t)r],
                true);
}

static void draw_status(struct console *c, int y, int w)
{
    const char *hint =
        "Tab pane  Enter details  b backup  c check  a archive  d delete  ? help  q quit";
    switch (c->mode) {
    case MODE_FILTER:
        tui_putf(&c->dr, y, 0, w, TUI_ROLE_STATUS, true,
                 "filter backups: %s_  (Enter keeps, Esc clears)", c->input);
        return;
    case MODE_CONFIRM_DELETE:
        tui_putf(&c->dr, y, 0, w, TUI_ROLE_STATUS, true, "Delete backup %s of server %s? (y/N)",
                 c->pending_delete, cur_server(c) ? cur_server(c)->name : "");
        return;
    case MODE_CONFIRM_QUIT:
        tui_putf(&c->dr, y, 0, w, TUI_ROLE_STATUS, true,
                 "%zu operation(s) running: quit and stop them? (y/N)", tui_jobs_running(&c->jobs));
        return;
    default:
        break;
    }
    /* errors stay until a key is pressed, other messages for 8 seconds */
    if (c->status[0] && (c->status_role == TUI_ROLE_ERROR || tui_now() - c->status_at < 8))
        tui_put(&c->dr, y, 0, w,
                c->status_role == TUI_ROLE_NORMAL ? TUI_ROLE_STATUS : c->status_role, c->status,
                true);
    else
        tui_put(&c->dr, y, 0, w, TUI_ROLE_STATUS, hint, true);
}

static void draw(struct console *c)
{
    erase();
    int H = LINES, W = COLS;
    if (H < MIN_ROWS || W < MIN_COLS) {
        tui_putf(&c->dr, 0, 0, W, TUI_ROLE_WARN, false,
                 "cellar: enlarge the terminal to at least %dx%d", MIN_COLS, MIN_ROWS);
        tui_putf(&c->dr, 1, 0, W, TUI_ROLE_NORMAL, false, "(now %dx%d; q quits)", W, H);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    if (c->mode == MODE_WIZARD) {
        tui_wizard_draw(&c->dr, &c->wz);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    tui_putf(&c->dr, 0, 0, W, TUI_ROLE_TITLE, true, " cellar %s  %zu server(s)  theme %s  %s",
             CEL_VERSION, c->model.n_servers, c->dr.theme.name, c->cfg->path ? c->cfg->path : "");
    int srv_rows = (int)c->model.n_servers;
    if (srv_rows < 1)
        srv_rows = 1;
    if (srv_rows > H / 5)
        srv_rows = H / 5 > 1 ? H / 5 : 1;
    int srv_h = srv_rows + 3;
    int act_lines = 0;
    for (size_t i = 0; i < c->jobs.n; i++)
        act_lines += job_lines(c->jobs.v[i]);
    int act_max = H / 4 > 2 ? H / 4 : 2;
    if (act_lines < 1)
        act_lines = 1;
    if (act_lines > act_max)
        act_lines = act_max;
    int act_h = act_lines + 2;
    int mid_y = 1 + srv_h, mid_h = H - 1 - srv_h - act_h - 1;
    draw_servers(c, 1, 0, srv_h, W);
    if (!c->model.n_servers) {
        tui_draw_no_servers(&c->dr, mid_y, 0, mid_h, W, c->cfg->path);
    } else if (W >= 120) {
        int bw = W * 3 / 5;
        draw_backups(c, mid_y, 0, mid_h, bw);
        draw_details(c, mid_y, bw, mid_h, W - bw);
    } else {
        int bh = mid_h / 2 > 5 ? mid_h / 2 : 5;
        draw_backups(c, mid_y, 0, bh, W);
        draw_details(c, mid_y + bh, 0, mid_h - bh, W);
    }
    draw_activity(c, mid_y + mid_h, 0, act_h, W);
    draw_status(c, H - 1, W);
    if (c->mode == MODE_HELP)
        draw_help(c);
    else if (c->mode == MODE_LOG)
        draw_log(c);
    wnoutrefresh(stdscr);
    doupdate();
}

/* ---- actions --------------------------------------------------------------------- */

static void open_details(struct console *c)
{
    const struct tui_backup *b = cur_backup(c);
    if (!b) {
        set_status(c, TUI_ROLE_WARN, "no backup selected");
        return;
    }
    struct cel_err err = {0};
    json_t *d = tui_model_show_backup(&c->model, c->srv_sel, b->id, &err);
    if (!d) {
        set_status(c, TUI_ROLE_ERROR, "show-backup: %s", err.msg);
        return;
    }
    json_decref(c->details);
    c->details = d;
    free(c->details_id);
    c->details_id = cel_xstrdup(b->id);
    free(c->details_server);
    c->details_server = cel_xstrdup(cur_server(c)->name);
    load_window(c);
    c->det_top = 0;
    c->focus = PANE_DETAILS;
}

static void move_sel(struct console *c, int delta)
{
    switch (c->focus) {
    case PANE_SERVERS:
        if (delta < 0 && c->srv_sel > 0)
            c->srv_sel--;
        else if (delta > 0 && c->srv_sel + 1 < c->model.n_servers)
            c->srv_sel++;
        else
            return;
        c->bk_sel = c->bk_top = 0;
        rebuild_view(c);
        break;
    case PANE_BACKUPS:
        if (delta < 0 && c->bk_sel > 0)
            c->bk_sel--;
        else if (delta > 0 && c->bk_sel + 1 < c->n_view)
            c->bk_sel++;
        break;
    case PANE_DETAILS:
        if (delta < 0 && c->det_top > 0)
            c->det_top--;
        else if (delta > 0)
            c->det_top++;
        break;
    case PANE_ACTIVITY:
        if (delta < 0 && c->act_sel > 0)
            c->act_sel--;
        else if (delta > 0 && c->act_sel + 1 < c->jobs.n)
            c->act_sel++;
        break;
    default:
        break;
    }
}

/* ---- the recovery wizard ------------------------------------------------------------ */

static void open_wizard(struct console *c, ssize_t server)
{
    wz_open(&c->wz, c->cfg, c->exe, server);
    c->mode = MODE_WIZARD;
}

/* Close the wizard: the recoveries it ran, running or ended, move to the
 * activity pane. */
static void close_wizard(struct console *c)
{
    if (c->wz.step >= WZ_REVIEW) {
        struct strbuf cmd = {0};
        wz_command_line(&c->wz, &cmd);
        sb_append(&cmd, "\n");
        if (c->wz.step == WZ_END) { /* recover --wizard leaves them on the terminal */
            sb_append(&cmd, "Next:\n");
            struct strbuf next = {0};
            wz_next_steps(&c->wz, &next);
            for (const char *p = sb_str(&next); *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                sb_appendf(&cmd, "  %.*s\n", (int)len, p);
                p += len + (nl ? 1 : 0);
            }
            sb_free(&next);
        }
        free(c->wz_command);
        c->wz_command = sb_detach(&cmd);
    }
    c->wz_err = c->wz.run_err;
    struct tui_job *j;
    while ((j = wz_take_job(&c->wz))) {
        if (c->wz_quits && j->state == TUI_JOB_RUNNING)
            /* cellar ends (a signal) and stops it with the other jobs */
            cel_err_set(&c->wz_err, CEL_E_PROC,
                        "the recovery was stopped before its end: cellar was asked to quit");
        tui_jobs_add(&c->jobs, j); /* in the activity pane, as any other operation */
        c->act_sel = c->jobs.n - 1;
        if (j->state == TUI_JOB_RUNNING)
            set_status(c, TUI_ROLE_NORMAL, "%s goes on in the activity pane", j->title);
    }
    wz_free(&c->wz);
    c->mode = MODE_NORMAL;
}

/* A curses key as the wizard's key (WZ_KEY_CHAR with ch for text). */
static enum wz_key wizard_key(int ch)
{
    switch (ch) {
    case KEY_UP:
    case KEY_BTAB:
        return WZ_KEY_UP;
    case KEY_DOWN:
        return WZ_KEY_DOWN;
    case KEY_PPAGE:
        return WZ_KEY_PGUP;
    case KEY_NPAGE:
        return WZ_KEY_PGDN;
    case KEY_LEFT:
        return WZ_KEY_LEFT;
    case KEY_RIGHT:
        return WZ_KEY_RIGHT;
    case '\t':
        return WZ_KEY_TAB;
    case '\n':
    case KEY_ENTER:
        return WZ_KEY_ENTER;
    case 27:
        return WZ_KEY_ESC;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        return WZ_KEY_BACKSPACE;
    default:
        return WZ_KEY_CHAR;
    }
}

/* Run a key in normal mode; returns false to quit. */
static bool act(struct console *c, enum tui_action a)
{
    const struct tui_server *s = cur_server(c);
    switch (a) {
    case TUI_ACT_UP:
        move_sel(c, -1);
        break;
    case TUI_ACT_DOWN:
        move_sel(c, 1);
        break;
    case TUI_ACT_NEXT_PANE:
        c->focus = (enum pane)((c->focus + 1) % PANE_COUNT);
        break;
    case TUI_ACT_PREV_PANE:
        c->focus = (enum pane)((c->focus + PANE_COUNT - 1) % PANE_COUNT);
        break;
    case TUI_ACT_DETAILS:
        if (c->focus == PANE_SERVERS)
            c->focus = PANE_BACKUPS;
        else if (c->focus == PANE_BACKUPS)
            open_details(c);
        else if (c->focus == PANE_ACTIVITY && c->jobs.n) {
            c->mode = MODE_LOG;
            c->log_top = 0;
        }
        break;
    case TUI_ACT_SORT:
        c->sort = (enum sort_col)((c->sort + 1) % SORT_COUNT);
        rebuild_view(c);
        break;
    case TUI_ACT_SORT_REVERSE:
        c->sort_rev = !c->sort_rev;
        rebuild_view(c);
        break;
    case TUI_ACT_FILTER:
        snprintf(c->input, sizeof c->input, "%s", c->filter);
        c->mode = MODE_FILTER;
        break;
    case TUI_ACT_BACKUP:
        if (s) {
            char title[200];
            snprintf(title, sizeof title, "backup %s", s->name);
            /* --wait: the job ends when the backup is DONE (its WAL archived) */
            const char *args[] = {"backup", "--wait", "--wait-timeout", "600", s->name, NULL};
            start_job(c, title, s->name, args);
        }
        break;
    case TUI_ACT_CHECK:
        if (s) {
            char title[200];
            snprintf(title, sizeof title, "check %s", s->name);
            const char *args[] = {"check", s->name, NULL};
            start_job(c, title, s->name, args);
        }
        break;
    case TUI_ACT_ARCHIVE:
        if (s) {
            char title[200];
            snprintf(title, sizeof title, "archive-wal %s", s->name);
            const char *args[] = {"archive-wal", s->name, NULL};
            start_job(c, title, s->name, args);
        }
        break;
    case TUI_ACT_DELETE: {
        const struct tui_backup *b = cur_backup(c);
        if (!b) {
            set_status(c, TUI_ROLE_WARN, "select a backup to delete (Tab to the backups pane)");
            break;
        }
        free(c->pending_delete);
        c->pending_delete = cel_xstrdup(b->id);
        c->mode = MODE_CONFIRM_DELETE;
        break;
    }
    case TUI_ACT_RECOVER:
        open_wizard(c, (ssize_t)c->srv_sel);
        break;
    case TUI_ACT_DISMISS: {
        size_t i = c->act_sel;
        if (i >= c->jobs.n || c->jobs.v[i]->state == TUI_JOB_RUNNING)
            for (i = 0; i < c->jobs.n && c->jobs.v[i]->state == TUI_JOB_RUNNING; i++)
                ;
        if (i < c->jobs.n)
            tui_jobs_remove(&c->jobs, i);
        else
            set_status(c, TUI_ROLE_WARN, "no finished operation to dismiss");
        if (c->act_sel >= c->jobs.n)
            c->act_sel = c->jobs.n ? c->jobs.n - 1 : 0;
        break;
    }
    case TUI_ACT_LOG:
        if (c->jobs.n) {
            if (c->focus != PANE_ACTIVITY)
                c->act_sel = c->jobs.n - 1;
            c->mode = MODE_LOG;
            c->log_top = 0;
        } else {
            set_status(c, TUI_ROLE_WARN, "no operation to show the log of");
        }
        break;
    case TUI_ACT_RELOAD:
        for (size_t i = 0; i < c->model.n_servers; i++)
            reload_server(c, i);
        reload_archive(c);
        set_status(c, TUI_ROLE_NORMAL, "catalogue reloaded");
        break;
    case TUI_ACT_HELP:
        c->mode = MODE_HELP;
        break;
    case TUI_ACT_QUIT:
        if (tui_jobs_running(&c->jobs)) {
            c->mode = MODE_CONFIRM_QUIT;
            break;
        }
        return false;
    case TUI_ACT_NONE:
        break;
    }
    return true;
}

/* One key; returns false to quit. */
static bool handle_key(struct console *c, int ch)
{
    if (c->status_role == TUI_ROLE_ERROR)
        c->status[0] = '\0';
    switch (c->mode) {
    case MODE_HELP:
        c->mode = MODE_NORMAL;
        return true;
    case MODE_WIZARD:
        if (!wz_key(&c->wz, wizard_key(ch), ch)) {
            close_wizard(c);
            return !c->wz_quits;
        }
        return true;
    case MODE_LOG:
        if (ch == 'j' || ch == KEY_DOWN)
            c->log_top++;
        else if ((ch == 'k' || ch == KEY_UP) && c->log_top)
            c->log_top--;
        else if (ch == KEY_NPAGE)
            c->log_top += 10;
        else if (ch == KEY_PPAGE)
            c->log_top = c->log_top > 10 ? c->log_top - 10 : 0;
        else
            c->mode = MODE_NORMAL;
        return true;
    case MODE_FILTER: {
        size_t n = strlen(c->input);
        if (ch == 27) {
            c->input[0] = '\0';
            c->mode = MODE_NORMAL;
        } else if (ch == '\n' || ch == KEY_ENTER) {
            c->mode = MODE_NORMAL;
        } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n) {
            c->input[n - 1] = '\0';
        } else if (ch >= 32 && ch < 127 && n + 1 < sizeof c->input) {
            c->input[n] = (char)ch;
            c->input[n + 1] = '\0';
        }
        snprintf(c->filter, sizeof c->filter, "%s", c->input);
        c->bk_sel = c->bk_top = 0;
        rebuild_view(c);
        return true;
    }
    case MODE_CONFIRM_DELETE:
        c->mode = MODE_NORMAL;
        if ((ch == 'y' || ch == 'Y') && cur_server(c)) {
            const char *server = cur_server(c)->name;
            char title[256];
            snprintf(title, sizeof title, "delete %s %s", server, c->pending_delete);
            const char *args[] = {"delete", server, c->pending_delete, NULL};
            start_job(c, title, server, args);
        } else {
            set_status(c, TUI_ROLE_NORMAL, "delete cancelled");
        }
        return true;
    case MODE_CONFIRM_QUIT:
        c->mode = MODE_NORMAL;
        return !(ch == 'y' || ch == 'Y');
    case MODE_NORMAL:
        break;
    }
    switch (ch) {
    case KEY_UP:
        return act(c, TUI_ACT_UP);
    case KEY_DOWN:
        return act(c, TUI_ACT_DOWN);
    case KEY_BTAB:
    case KEY_LEFT:
        return act(c, TUI_ACT_PREV_PANE);
    case KEY_RIGHT:
        return act(c, TUI_ACT_NEXT_PANE);
    case KEY_ENTER:
    case '\r':
        return act(c, TUI_ACT_DETAILS);
    case KEY_NPAGE:
        for (int i = 0; i < 10; i++)
            move_sel(c, 1);
        return true;
    case KEY_PPAGE:
        for (int i = 0; i < 10; i++)
            move_sel(c, -1);
        return true;
    case 27:
        if (c->filter[0]) {
            c->filter[0] = '\0';
            rebuild_view(c);
        }
        return true;
    default:
        return act(c, tui_key_action(ch));
    }
}

/* ---- setup and the loop ------------------------------------------------------------ */

static void load_theme(struct console *c, const char *name)
{
    char bindir[PATH_MAX + 8];
    snprintf(bindir, sizeof bindir, "%s", c->exe);
    char *slash = strrchr(bindir, '/');
    if (slash)
        snprintf(slash, sizeof bindir - (size_t)(slash - bindir), "/themes");
    const char *dirs[] = {slash ? bindir : NULL, "themes",
#ifdef CEL_DATADIR
                          CEL_DATADIR "/themes"
#else
                          NULL
#endif
    };
    struct cel_err err = {0};
    if (tui_theme_load(name, dirs, CEL_ARRAY_LEN(dirs), &c->dr.theme, &err) < 0) {
        tui_theme_default(&c->dr.theme);
        /* the built-in default needs no file */
        if (strcmp(name, "default") != 0 || err.code != CEL_E_NOT_FOUND)
            set_status(c, TUI_ROLE_ERROR, "theme: %s; using the default theme", err.msg);
    }
}

int tui_run(const struct tui_opts *opts, struct cel_err *err)
{
    struct console c;
    memset(&c, 0, sizeof c);
    c.cfg = opts->cfg;
    ssize_t n = readlink("/proc/self/exe", c.exe, sizeof c.exe - 1);
    if (n <= 0)
        snprintf(c.exe, sizeof c.exe, "cellar");
    else
        c.exe[n] = '\0';
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return cel_err_set(err, CEL_E_USAGE, "the console needs a terminal; give a command");
    int rc = c.cfg ? tui_model_load(&c.model, c.cfg, err) : 0;
    if (rc < 0) {
        tui_model_free(&c.model);
        return rc;
    }
    const char *theme = opts->theme ? opts->theme : c.cfg ? c.cfg->global.theme : NULL;
    load_theme(&c, theme && *theme ? theme : "default");
    for (size_t i = 0; c.cfg && i < c.cfg->n_diags; i++)
        if (c.cfg->diags[i].level == CFG_ERROR)
            set_status(&c, TUI_ROLE_ERROR, "%s", c.cfg->diags[i].text);

    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    c.dr.utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    if (!initscr()) {
        tui_model_free(&c.model);
        return cel_err_set(err, CEL_E_USAGE, "cannot initialise the terminal");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(50);
    timeout(100);
    c.dr.colors = has_colors();
    if (c.dr.colors) {
        start_color();
        use_default_colors();
    }
    tui_draw_apply_theme(&c.dr);
    if (!c.cfg) {
        tui_first_run(&c.dr, opts->searched, &quit_signal);
        endwin();
        return 0;
    }
    rebuild_view(&c);
    c.archive_at = tui_now(); /* tui_model_load has just read it */

    /* the health marks: a check of every server in the background */
    char keep[sizeof c.status];
    snprintf(keep, sizeof keep, "%s", c.status);
    enum tui_role keep_role = c.status_role;
    const char *args[] = {"check", "all", NULL};
    struct tui_job *j = start_job(&c, "check all", NULL, args);
    j->auto_dismiss = true;
    snprintf(c.status, sizeof c.status, "%s", keep); /* a theme or configuration error */
    c.status_role = keep_role;
    if (opts->wizard_server) {
        c.srv_sel = (size_t)tui_model_find(&c.model, opts->wizard_server);
        open_wizard(&c, (ssize_t)c.srv_sel);
        c.wz_quits = c.wz.close_quits = true;
    }

    bool running = true;
    while (running && !quit_signal) {
        if (tui_jobs_poll(&c.jobs, 0) || c.jobs.n)
            settle_jobs(&c);
        if (c.mode == MODE_WIZARD && c.wz.jobs.n) {
            tui_jobs_poll(&c.wz.jobs, 0);
            wz_tick(&c.wz);
        }
        if (tui_now() - c.archive_at >= ARCHIVE_REFRESH)
            reload_archive(&c);
        /* q was pressed while a job was running, and it has ended since */
        if (c.mode == MODE_CONFIRM_QUIT && !tui_jobs_running(&c.jobs))
            break;
        draw(&c);
        int ch = getch();
        if (ch == ERR)
            continue;
        if (ch == KEY_RESIZE) {
            clearok(curscr, TRUE);
            continue;
        }
        if (ch == '\r')
            ch = '\n';
        running = handle_key(&c, ch);
    }
    endwin();
    if (c.mode == MODE_WIZARD)
        close_wizard(&c);
    if (c.wz_command) /* so it can be copied from the terminal */
        printf("The recovery wizard's command line:\n  %s", c.wz_command);
    free(c.wz_command);
    /* recover --wizard fails as the batch recover it ran did */
    rc = 0;
    if (c.wz_quits && c.wz_err.code) {
        *err = c.wz_err;
        rc = -c.wz_err.code;
    }
    tui_jobs_free(&c.jobs); /* stops and reaps what still runs */
    json_decref(c.details);
    free(c.details_id);
    free(c.details_server);
    if (c.has_win)
        op_window_free(&c.win);
    free(c.pending_delete);
    free(c.view);
    tui_model_free(&c.model);
    return rc;
}
