/*
 * console.c - the console's loop, layout, focus ring and modes.
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
 *
 * The panes are objects (pane.h, one file each): this file lays them out
 * by their slots, draws each into its rectangle, sends a key first to the
 * focused pane and acts on it only when the pane leaves it (the keys that
 * start work, the modes, the focus ring). The layout is recomputed from
 * the terminal size on every draw, so a resize (KEY_RESIZE) is just a
 * redraw (a pane whose rectangle changed size hears it first); below 60x16
 * a message asks for a larger terminal. The modes (filter, the delete and
 * quit questions, the help, an operation's log, the recovery wizard) are
 * this file's: they take every key while they are on.
 */
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "fmt.h"
#include "tui/console.h"
#include "tui/first_run.h"
#include "tui/keys.h"
#include "tui/theme.h"
#include "tui/tui.h"
#include "tui/wizard_draw.h"

/* curses last: the core headers refuse to be read after it */
#include <curses.h>

#define MIN_ROWS 16
#define MIN_COLS 60
/* seconds between two readings of the WAL archives' state (list-server) */
#define ARCHIVE_REFRESH 5

/* the panes, in focus order (pane.h) */
#define TUI_PANE_ENTRY(name) &pane_##name,
static const struct pane_ops *const pane_table[] = {TUI_PANES(TUI_PANE_ENTRY)};
#undef TUI_PANE_ENTRY

static volatile sig_atomic_t quit_signal;

static void on_quit_signal(int sig)
{
    quit_signal = sig;
}

void con_status(struct console *c, enum tui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->status, sizeof c->status, fmt, ap);
    va_end(ap);
    c->status_role = role;
    c->status_at = tui_now();
}

int64_t con_now(const struct console *c)
{
    return c->fixed_now ? c->fixed_now : (int64_t)time(NULL);
}

void pane_scroll_to(size_t sel, size_t *top, int rows)
{
    if (sel < *top)
        *top = sel;
    if (rows > 0 && sel >= *top + (size_t)rows)
        *top = sel - (size_t)rows + 1;
}

/* ---- the selection: a server and the view of its backups ------------------------- */

struct tui_server *con_server(struct console *c)
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
    const struct tui_server *s = con_server(sort_ctx);
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

/* Rebuild the view of the selected server's backups (the selection stays
 * at its place in the view, within it). */
void con_rebuild_view(struct console *c)
{
    const struct tui_server *s = con_server(c);
    free(c->view);
    c->view = NULL;
    c->n_view = 0;
    if (!s)
        return;
    c->view = s->n_backups ? cel_xcalloc(s->n_backups, sizeof *c->view) : NULL;
    for (size_t i = 0; i < s->n_backups; i++)
        if (matches(&s->backups[i], c->filter))
            c->view[c->n_view++] = i;
    sort_ctx = c;
    if (c->n_view)
        qsort(c->view, c->n_view, sizeof *c->view, cmp_backup);
    if (c->bk_sel >= c->n_view)
        c->bk_sel = c->n_view ? c->n_view - 1 : 0;
}

void con_select_server(struct console *c, size_t i)
{
    c->srv_sel = i;
    c->bk_sel = 0;
    con_rebuild_view(c);
}

const struct tui_backup *con_backup(struct console *c)
{
    const struct tui_server *s = con_server(c);
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
    if (!s || s->cloud_source) /* a bucket server's would wait on its store */
        return;
    if (op_window_load(&ctx, s, &c->win, &err) == 0) {
        c->has_win = true;
    } else {
        op_window_free(&c->win);
        con_status(c, TUI_ROLE_WARN, "recoverable window of %s: %s", c->details_server, err.msg);
    }
}

/* Reselect backup id (if it is still in the view) of the selected server. */
static void reselect(struct console *c, const char *id)
{
    const struct tui_server *s = con_server(c);
    for (size_t k = 0; s && id && k < c->n_view; k++)
        if (strcmp(s->backups[c->view[k]].id, id) == 0)
            c->bk_sel = k;
}

/* Reload server i and keep the selected backup (by ID) selected. */
static void reload_server(struct console *c, size_t i)
{
    const struct tui_backup *b = con_backup(c);
    char *id = b && i == c->srv_sel ? cel_xstrdup(b->id) : NULL;
    struct cel_err err = {0};
    if (tui_model_reload_server(&c->model, i, &err) < 0)
        con_status(c, TUI_ROLE_ERROR, "%s: %s", c->model.servers[i].name, err.msg);
    if (i == c->srv_sel) {
        con_rebuild_view(c);
        reselect(c, id);
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
        con_status(c, TUI_ROLE_ERROR, "list-server: %s", err.msg);
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
        con_status(c, TUI_ROLE_ERROR, "%s: %s", title, err.msg);
    else
        con_status(c, TUI_ROLE_NORMAL, "started: %s", title);
    tui_jobs_add(&c->jobs, j);
    return j;
}

/* The lag of each running receiver, from pg_stat_replication: one quiet
 * `replication-status --target wal-streamer SERVER` job per streaming
 * server whose receiver runs, each time the archive state is read again
 * (never two at once for a server). They say nothing in the status line,
 * and leave the activity pane when they end, failed or not. */
static void poll_streams(struct console *c)
{
    for (size_t i = 0; i < c->model.n_servers; i++) {
        const struct tui_server *s = &c->model.servers[i];
        if (!s->streaming || !s->receiver_pid || s->disabled) {
            tui_model_forget_replication(&c->model, i);
            continue;
        }
        bool running = false;
        for (size_t k = 0; k < c->jobs.n && !running; k++)
            running = c->jobs.v[k]->state == TUI_JOB_RUNNING &&
                      strcmp(c->jobs.v[k]->command, "replication-status") == 0 &&
                      c->jobs.v[k]->server && strcmp(c->jobs.v[k]->server, s->name) == 0;
        if (running)
            continue;
        char title[200];
        snprintf(title, sizeof title, "replication-status %s", s->name);
        const char *args[] = {"replication-status", "--target", "wal-streamer", s->name, NULL};
        struct tui_job *j = tui_job_new(title, args[0], s->name);
        struct cel_err err = {0};
        if (tui_job_start_batch(j, c->exe, c->cfg->path, args, &err) < 0) {
            tui_job_free(j);
            continue;
        }
        j->auto_dismiss = true;
        tui_jobs_add(&c->jobs, j);
    }
}

/* The running job of command for server (NULL when none runs). */
static struct tui_job *running_job(struct console *c, const char *command, const char *server)
{
    for (size_t k = 0; k < c->jobs.n; k++) {
        struct tui_job *j = c->jobs.v[k];
        if (j->state == TUI_JOB_RUNNING && strcmp(j->command, command) == 0 && j->server &&
            strcmp(j->server, server) == 0)
            return j;
    }
    return NULL;
}

/* Start a quiet job (it leaves the activity pane when it ends, failed or
 * not; what it found reaches the panes by settle_quiet_job). */
static void start_quiet_job(struct console *c, const char *server, const char *const *args)
{
    struct strbuf title = {0};
    for (size_t i = 0; args[i]; i++)
        sb_appendf(&title, "%s%s", i ? " " : "", args[i]);
    struct tui_job *j = tui_job_new(sb_str(&title), args[0], server);
    sb_free(&title);
    struct cel_err err = {0};
    if (tui_job_start_batch(j, c->exe, c->cfg->path, args, &err) < 0) {
        /* it ended already: settle_quiet_job reports why */
    }
    j->auto_dismiss = true;
    tui_jobs_add(&c->jobs, j);
}

/* A bucket server's backups are listed by a child `list-backup SERVER`
 * (its object store may be slow or not answer): one per server marked
 * loading, never two at once; one asked for while another runs starts
 * when that one ends (tui_model_take_backups leaves it loading). */
static void load_buckets(struct console *c)
{
    for (size_t i = 0; i < c->model.n_servers; i++) {
        struct tui_server *s = &c->model.servers[i];
        if (!s->loading || running_job(c, "list-backup", s->name))
            continue;
        s->load_started = s->load_gen;
        const char *args[] = {"list-backup", s->name, NULL};
        start_quiet_job(c, s->name, args);
    }
}

/* The details of a bucket server's backup arrived (show-backup's JSON
 * data): the details pane shows its fields, one a line. */
static void take_details(struct console *c, const struct tui_job *j)
{
    json_t *data = j->result;
    const char *id = json_string_value(json_object_get(data, "backup_id"));
    struct strbuf text = {0};
    sb_appendf(&text, "Backup %s:\n", id ? id : "?");
    const char *bucket = json_string_value(json_object_get(data, "bucket"));
    const struct cfg_server *cs = cfg_server_find(c->cfg, j->server);
    if (bucket && cs) /* as show-backup's Location line */
        sb_appendf(&text, "  Location             : bucket %s, server %s\n", bucket,
                   cs->cloud_server_name);
    const char *key;
    const json_t *v;
    json_object_foreach(data, key, v) {
        if (json_is_object(v) || json_is_array(v) || !strcmp(key, "bucket"))
            continue;
        char *val =
            json_is_string(v) ? cel_xstrdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
        sb_appendf(&text, "  %-21s: %s\n", key, val ? val : "");
        free(val);
    }
    free(c->details);
    c->details = sb_detach(&text);
    free(c->details_id);
    c->details_id = cel_xstrdup(id ? id : "?");
    free(c->details_server);
    c->details_server = cel_xstrdup(j->server);
    c->details_gen++;
    load_window(c);
    con_focus_pane(c, "details");
}

/* A quiet job has ended: a bucket server's listing (or why it failed)
 * reaches the model, a show-backup's the details pane; the job goes. */
static bool settle_quiet_job(struct console *c, struct tui_job *j)
{
    bool list = strcmp(j->command, "list-backup") == 0;
    if (!j->auto_dismiss || (!list && strcmp(j->command, "show-backup") != 0))
        return false;
    ssize_t s = j->server ? tui_model_find(&c->model, j->server) : -1;
    if (list && s >= 0) {
        const struct tui_backup *b = con_backup(c);
        char *id = b && (size_t)s == c->srv_sel ? cel_xstrdup(b->id) : NULL;
        bool ok = j->state == TUI_JOB_OK && j->result_command &&
                  strcmp(j->result_command, "list-backup") == 0;
        tui_model_take_backups(&c->model, (size_t)s, ok ? j->result : NULL,
                               j->outcome ? j->outcome : "list-backup failed");
        if ((size_t)s == c->srv_sel) {
            con_rebuild_view(c);
            reselect(c, id);
        }
        free(id);
    } else if (!list && j->state == TUI_JOB_OK && json_is_object(j->result)) {
        take_details(c, j);
    } else if (!list) {
        con_status(c, TUI_ROLE_ERROR, "show-backup: %s", j->outcome ? j->outcome : "failed");
    }
    j->state = TUI_JOB_OK; /* auto-dismissed below, whatever happened */
    return true;
}

/* A replication-status job has ended: its lag reaches the model, or is
 * forgotten when it failed; the job goes. */
static bool settle_stream_job(struct console *c, struct tui_job *j)
{
    if (strcmp(j->command, "replication-status") != 0)
        return false;
    ssize_t s = j->server ? tui_model_find(&c->model, j->server) : -1;
    if (j->state == TUI_JOB_OK && j->result)
        tui_model_apply_replication(&c->model, j->result);
    else if (s >= 0)
        tui_model_forget_replication(&c->model, (size_t)s);
    j->state = TUI_JOB_OK; /* auto-dismissed below, whatever happened */
    return true;
}

/* What changed in the jobs reaches the model: new backups appear as soon as
 * a phase starts, results are applied when a job ends. */
static void settle_jobs(struct console *c)
{
    for (size_t i = 0; i < c->jobs.n; i++) {
        struct tui_job *j = c->jobs.v[i];
        ssize_t s = j->server ? tui_model_find(&c->model, j->server) : -1;
        if (j->auto_dismiss && j->state != TUI_JOB_RUNNING && !j->seen_end &&
            settle_quiet_job(c, j)) {
            j->seen_end = true;
            continue;
        }
        if (j->phases != j->seen_phases && strcmp(j->command, "list-backup") != 0 &&
            strcmp(j->command, "show-backup") != 0) {
            j->seen_phases = j->phases;
            if (s >= 0 && strcmp(j->command, "check") != 0)
                reload_server(c, (size_t)s);
        }
        if (j->state == TUI_JOB_RUNNING || j->seen_end)
            continue;
        j->seen_end = true;
        if (settle_stream_job(c, j))
            continue;
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
            con_status(c, TUI_ROLE_OK, "%s: done", j->title);
        else
            con_status(c, TUI_ROLE_ERROR, "%s: %s", j->title, j->outcome ? j->outcome : "failed");
        if (c->details_id && strcmp(j->command, "delete") == 0) {
            free(c->details);
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

/* ---- the panes: focus and layout --------------------------------------------------- */

void con_open_details(struct console *c)
{
    const struct tui_backup *b = con_backup(c);
    if (!b) {
        con_status(c, TUI_ROLE_WARN, "no backup selected");
        return;
    }
    const struct tui_server *s = con_server(c);
    if (s->bucket) { /* from its object store: a child job, take_details shows it */
        if (!running_job(c, "show-backup", s->name)) {
            const char *args[] = {"show-backup", s->name, b->id, NULL};
            start_quiet_job(c, s->name, args);
        }
        con_status(c, TUI_ROLE_NORMAL, "loading %s from %s ...", b->id, s->bucket);
        return;
    }
    struct cel_err err = {0};
    char *text = NULL;
    tui_model_show_backup(&c->model, c->srv_sel, b->id, NULL, &text, &err);
    if (!text) {
        con_status(c, TUI_ROLE_ERROR, "show-backup: %s", err.msg);
        return;
    }
    free(c->details);
    c->details = text;
    free(c->details_id);
    c->details_id = cel_xstrdup(b->id);
    free(c->details_server);
    c->details_server = cel_xstrdup(con_server(c)->name);
    c->details_gen++;
    load_window(c);
    con_focus_pane(c, "details");
}

void con_focus_pane(struct console *c, const char *name)
{
    for (size_t i = 0; i < CON_N_PANES; i++)
        if (strcmp(c->panes[i].ops->name, name) == 0)
            c->focus = i;
}

static bool pane_focused(const struct console *c, const char *name)
{
    return strcmp(c->panes[c->focus].ops->name, name) == 0;
}

bool con_open_log(struct console *c)
{
    if (!c->jobs.n)
        return false;
    c->mode = MODE_LOG;
    c->log_top = 0;
    return true;
}

/* The height pane p takes in its band on H lines (3 when it does not say). */
static int band_height(const struct console *c, const struct pane *p, int H)
{
    return p->ops->height ? p->ops->height(c, H) : 3;
}

/* Split the rectangle r among the n panes idx[] of one slot: side by side
 * when across, else stacked; the last one takes what is left. */
static void split(const size_t *idx, size_t n, struct tui_rect r, bool across, struct tui_rect *out)
{
    for (size_t k = 0; k < n; k++) {
        struct tui_rect q = r;
        if (across) {
            int each = r.w / (int)n;
            q.x = r.x + each * (int)k;
            q.w = k + 1 == n ? r.w - each * (int)k : each;
        } else {
            int each = r.h / (int)n;
            q.y = r.y + each * (int)k;
            q.h = k + 1 == n ? r.h - each * (int)k : each;
        }
        out[idx[k]] = q;
    }
}

/* Where each pane goes on an H x W screen (rect h 0: not shown). The top
 * and bottom bands take the heights their panes ask for (the servers up to
 * a fifth of the screen, the activity up to a quarter); the main and side
 * areas share the rest:
 * side by side at 120 columns and more (main 3/5), else stacked (main half,
 * at least 5 lines). */
static void layout(struct console *c, int H, int W, struct tui_rect *out, struct tui_rect *mid)
{
    size_t by_slot[4][CON_N_PANES];
    size_t n_slot[4] = {0};
    for (size_t i = 0; i < CON_N_PANES; i++) {
        enum pane_slot s = c->panes[i].ops->slot;
        by_slot[s][n_slot[s]++] = i;
        out[i] = (struct tui_rect){0, 0, 0, 0};
    }
    /* under the title line: the top band; above the status line: the bottom band */
    int y = 1, bottom_h = 0;
    for (size_t k = 0; k < n_slot[PANE_SLOT_TOP]; k++) {
        size_t i = by_slot[PANE_SLOT_TOP][k];
        out[i] = (struct tui_rect){y, 0, band_height(c, &c->panes[i], H), W};
        y += out[i].h;
    }
    for (size_t k = 0; k < n_slot[PANE_SLOT_BOTTOM]; k++)
        bottom_h += band_height(c, &c->panes[by_slot[PANE_SLOT_BOTTOM][k]], H);
    *mid = (struct tui_rect){y, 0, H - 1 - y - bottom_h, W};
    int by = mid->y + mid->h;
    for (size_t k = 0; k < n_slot[PANE_SLOT_BOTTOM]; k++) {
        size_t i = by_slot[PANE_SLOT_BOTTOM][k];
        out[i] = (struct tui_rect){by, 0, band_height(c, &c->panes[i], H), W};
        by += out[i].h;
    }
    struct tui_rect main_r = *mid, side_r = *mid;
    if (!n_slot[PANE_SLOT_SIDE]) {
        side_r.h = 0;
    } else if (!n_slot[PANE_SLOT_MAIN]) {
        main_r.h = 0;
    } else if (W >= 120) {
        main_r.w = W * 3 / 5;
        side_r.x = main_r.w;
        side_r.w = W - main_r.w;
    } else {
        main_r.h = mid->h / 2 > 5 ? mid->h / 2 : 5;
        side_r.y = mid->y + main_r.h;
        side_r.h = mid->h - main_r.h;
    }
    split(by_slot[PANE_SLOT_MAIN], n_slot[PANE_SLOT_MAIN], main_r, W >= 120, out);
    split(by_slot[PANE_SLOT_SIDE], n_slot[PANE_SLOT_SIDE], side_r, false, out);
}

/* ---- the modes' screens -------------------------------------------------------------- */

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
                 c->pending_delete, con_server(c) ? con_server(c)->name : "");
        return;
    case MODE_CONFIRM_KEEP:
        if (c->pending_keep_release)
            tui_putf(&c->dr, y, 0, w, TUI_ROLE_STATUS, true,
                     "Release the keep of backup %s of server %s (retention may then delete "
                     "it)? (y/N)",
                     c->pending_keep, con_server(c) ? con_server(c)->name : "");
        else
            tui_putf(&c->dr, y, 0, w, TUI_ROLE_STATUS, true,
                     "Keep backup %s of server %s whatever the retention policy says (target "
                     "full)? (y/N)",
                     c->pending_keep, con_server(c) ? con_server(c)->name : "");
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

void con_draw(struct console *c)
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
    struct tui_rect r[CON_N_PANES], mid;
    layout(c, H, W, r, &mid);
    for (size_t i = 0; i < CON_N_PANES; i++) {
        struct pane *p = &c->panes[i];
        /* without servers, the Getting started pane takes the middle */
        bool middle = p->ops->slot == PANE_SLOT_MAIN || p->ops->slot == PANE_SLOT_SIDE;
        if (r[i].h < 2 || (middle && !c->model.n_servers))
            continue;
        if ((r[i].h != p->rect.h || r[i].w != p->rect.w) && p->ops->resize)
            p->ops->resize(c, p, r[i].h, r[i].w);
        p->rect = r[i];
        p->ops->draw(c, p, r[i], i == c->focus);
    }
    if (!c->model.n_servers)
        tui_draw_no_servers(&c->dr, mid.y, 0, mid.h, W, c->cfg->path);
    draw_status(c, H - 1, W);
    if (c->mode == MODE_HELP)
        draw_help(c);
    else if (c->mode == MODE_LOG)
        draw_log(c);
    wnoutrefresh(stdscr);
    doupdate();
}

/* ---- the recovery wizard ------------------------------------------------------------ */

void con_open_wizard(struct console *c, ssize_t server)
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
            con_status(c, TUI_ROLE_NORMAL, "%s goes on in the activity pane", j->title);
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
    const struct tui_server *s = con_server(c);
    switch (a) {
    case TUI_ACT_UP:
    case TUI_ACT_DOWN:
    case TUI_ACT_DETAILS:
        break; /* the focused pane's: it did not take it */
    case TUI_ACT_NEXT_PANE:
        c->focus = (c->focus + 1) % CON_N_PANES;
        break;
    case TUI_ACT_PREV_PANE:
        c->focus = (c->focus + CON_N_PANES - 1) % CON_N_PANES;
        break;
    case TUI_ACT_SORT:
        c->sort = (enum con_sort)((c->sort + 1) % SORT_COUNT);
        con_rebuild_view(c);
        break;
    case TUI_ACT_SORT_REVERSE:
        c->sort_rev = !c->sort_rev;
        con_rebuild_view(c);
        break;
    case TUI_ACT_FILTER:
        snprintf(c->input, sizeof c->input, "%s", c->filter);
        c->mode = MODE_FILTER;
        break;
    case TUI_ACT_BACKUP:
        if (s && s->bucket) {
            con_status(c, TUI_ROLE_WARN,
                       "%s is a bucket server: its backups are taken by barman-cloud-backup "
                       "or cellar cloud-backup on the server that uploads them",
                       s->name);
        } else if (s) {
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
        if (s && s->bucket) {
            con_status(c, TUI_ROLE_WARN,
                       "%s is a bucket server: its WAL is in %s, nothing is archived here", s->name,
                       s->bucket);
        } else if (s) {
            char title[200];
            snprintf(title, sizeof title, "archive-wal %s", s->name);
            const char *args[] = {"archive-wal", s->name, NULL};
            start_job(c, title, s->name, args);
        }
        break;
    case TUI_ACT_STREAM:
        if (s && s->bucket) {
            con_status(c, TUI_ROLE_WARN,
                       "%s is a bucket server: its WAL is in %s, nothing streams here", s->name,
                       s->bucket);
        } else if (s && !s->streaming) {
            con_status(c, TUI_ROLE_WARN,
                       "%s does not stream WAL: set streaming_archiver = on (doc/streaming.md)",
                       s->name);
        } else if (s) {
            /* the receiver outlives the console: --detach starts it as cron
             * does; the job only waits until it runs */
            bool running = s->receiver_pid != 0;
            char title[200];
            snprintf(title, sizeof title, "receive-wal %s %s", running ? "--stop" : "--detach",
                     s->name);
            const char *args[] = {"receive-wal", running ? "--stop" : "--detach", s->name, NULL};
            start_job(c, title, s->name, args);
        }
        break;
    case TUI_ACT_DELETE: {
        const struct tui_backup *b = con_backup(c);
        if (!b) {
            con_status(c, TUI_ROLE_WARN, "select a backup to delete (Tab to the backups pane)");
            break;
        }
        free(c->pending_delete);
        c->pending_delete = cel_xstrdup(b->id);
        c->mode = MODE_CONFIRM_DELETE;
        break;
    }
    case TUI_ACT_KEEP: {
        const struct tui_backup *b = con_backup(c);
        if (!b) {
            con_status(c, TUI_ROLE_WARN, "select a backup to keep (Tab to the backups pane)");
            break;
        }
        if (s && s->bucket) {
            con_status(c, TUI_ROLE_WARN,
                       "%s is a bucket server: keep its backups with cellar cloud-backup-keep",
                       s->name);
            break;
        }
        if (!b->keep && strcmp(b->status, "DONE") != 0) {
            con_status(c, TUI_ROLE_WARN, "only DONE backups can be kept; %s is %s", b->id,
                       b->status);
            break;
        }
        free(c->pending_keep);
        c->pending_keep = cel_xstrdup(b->id);
        c->pending_keep_release = b->keep != NULL;
        c->mode = MODE_CONFIRM_KEEP;
        break;
    }
    case TUI_ACT_RECOVER:
        con_open_wizard(c, (ssize_t)c->srv_sel);
        break;
    case TUI_ACT_DISMISS: {
        size_t i = c->act_sel;
        if (i >= c->jobs.n || c->jobs.v[i]->state == TUI_JOB_RUNNING)
            for (i = 0; i < c->jobs.n && c->jobs.v[i]->state == TUI_JOB_RUNNING; i++)
                ;
        if (i < c->jobs.n)
            tui_jobs_remove(&c->jobs, i);
        else
            con_status(c, TUI_ROLE_WARN, "no finished operation to dismiss");
        if (c->act_sel >= c->jobs.n)
            c->act_sel = c->jobs.n ? c->jobs.n - 1 : 0;
        break;
    }
    case TUI_ACT_LOG:
        if (c->jobs.n) {
            if (!pane_focused(c, "activity"))
                c->act_sel = c->jobs.n - 1;
            con_open_log(c);
        } else {
            con_status(c, TUI_ROLE_WARN, "no operation to show the log of");
        }
        break;
    case TUI_ACT_RELOAD:
        for (size_t i = 0; i < c->model.n_servers; i++)
            reload_server(c, i);
        reload_archive(c);
        con_status(c, TUI_ROLE_NORMAL, "catalogue reloaded");
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
    case TUI_ACT_COUNT:
        break;
    }
    return true;
}

/* One key; returns false to quit. */
bool con_key(struct console *c, int ch)
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
        c->bk_sel = 0;
        con_rebuild_view(c);
        return true;
    }
    case MODE_CONFIRM_DELETE:
        c->mode = MODE_NORMAL;
        if ((ch == 'y' || ch == 'Y') && con_server(c)) {
            const char *server = con_server(c)->name;
            char title[256];
            snprintf(title, sizeof title, "delete %s %s", server, c->pending_delete);
            const char *args[] = {"delete", server, c->pending_delete, NULL};
            start_job(c, title, server, args);
        } else {
            con_status(c, TUI_ROLE_NORMAL, "delete cancelled");
        }
        return true;
    case MODE_CONFIRM_KEEP:
        c->mode = MODE_NORMAL;
        if ((ch == 'y' || ch == 'Y') && con_server(c)) {
            const char *server = con_server(c)->name;
            bool release = c->pending_keep_release;
            char title[256];
            snprintf(title, sizeof title, "keep %s %s %s", release ? "--release" : "--target full",
                     server, c->pending_keep);
            const char *keep[] = {"keep", "--target", "full", server, c->pending_keep, NULL};
            const char *rel[] = {"keep", "--release", server, c->pending_keep, NULL};
            start_job(c, title, server, release ? rel : keep);
        } else {
            con_status(c, TUI_ROLE_NORMAL, "keep cancelled");
        }
        return true;
    case MODE_CONFIRM_QUIT:
        c->mode = MODE_NORMAL;
        return !(ch == 'y' || ch == 'Y');
    case MODE_NORMAL:
        break;
    }
    enum tui_action a;
    int times = 1;
    switch (ch) {
    case KEY_UP:
        a = TUI_ACT_UP;
        break;
    case KEY_DOWN:
        a = TUI_ACT_DOWN;
        break;
    case KEY_BTAB:
    case KEY_LEFT:
        a = TUI_ACT_PREV_PANE;
        break;
    case KEY_RIGHT:
        a = TUI_ACT_NEXT_PANE;
        break;
    case KEY_ENTER:
    case '\r':
        a = TUI_ACT_DETAILS;
        break;
    case KEY_NPAGE: /* ten lines: the pane moves by one, ten times */
        a = TUI_ACT_DOWN, times = 10;
        break;
    case KEY_PPAGE:
        a = TUI_ACT_UP, times = 10;
        break;
    case 27:
        if (c->filter[0]) {
            c->filter[0] = '\0';
            con_rebuild_view(c);
        }
        return true;
    default:
        a = tui_key_action(ch);
        break;
    }
    /* the focused pane first; what it leaves is the console's */
    struct pane *p = &c->panes[c->focus];
    unsigned flags = 0;
    for (int i = 0; i < times; i++)
        flags |= p->ops->key ? p->ops->key(c, p, a, ch) : 0;
    if (flags & PANE_QUIT)
        return false;
    if (flags & PANE_HANDLED)
        return true;
    if (a == TUI_ACT_UP || a == TUI_ACT_DOWN)
        return true; /* a page key on a pane without a list */
    return act(c, a);
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
            con_status(c, TUI_ROLE_ERROR, "theme: %s; using the default theme", err.msg);
    }
}

int con_open(struct console *c, const struct cfg *cfg, struct cel_err *err)
{
    c->cfg = cfg;
    for (size_t i = 0; i < CON_N_PANES; i++) {
        c->panes[i].ops = pane_table[i];
        c->panes[i].state = pane_table[i]->state_size ? cel_xcalloc(1, pane_table[i]->state_size)
                                                      : NULL;
    }
    int rc = tui_model_load(&c->model, cfg, err);
    if (rc < 0)
        return rc;
    con_rebuild_view(c);
    c->archive_at = tui_now(); /* tui_model_load has just read it */
    return 0;
}

void con_close(struct console *c)
{
    if (c->mode == MODE_WIZARD)
        close_wizard(c);
    tui_jobs_free(&c->jobs); /* stops and reaps what still runs */
    free(c->details);
    free(c->details_id);
    free(c->details_server);
    if (c->has_win)
        op_window_free(&c->win);
    free(c->pending_delete);
    free(c->pending_keep);
    free(c->view);
    free(c->wz_command);
    for (size_t i = 0; i < CON_N_PANES; i++)
        free(c->panes[i].state);
    tui_model_free(&c->model);
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
    int rc = c.cfg ? con_open(&c, c.cfg, err) : 0;
    if (rc < 0) {
        con_close(&c);
        return rc;
    }
    const char *theme = opts->theme ? opts->theme : c.cfg ? c.cfg->global.theme : NULL;
    load_theme(&c, theme && *theme ? theme : "default");
    for (size_t i = 0; c.cfg && i < c.cfg->n_diags; i++)
        if (c.cfg->diags[i].level == CFG_ERROR)
            con_status(&c, TUI_ROLE_ERROR, "%s", c.cfg->diags[i].text);

    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    c.dr.utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    if (!initscr()) {
        con_close(&c);
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
        con_close(&c);
        return 0;
    }

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
        con_open_wizard(&c, (ssize_t)c.srv_sel);
        c.wz_quits = c.wz.close_quits = true;
    }

    bool running = true;
    while (running && !quit_signal) {
        load_buckets(&c);
        if (tui_jobs_poll(&c.jobs, 0) || c.jobs.n)
            settle_jobs(&c);
        if (c.mode == MODE_WIZARD && c.wz.jobs.n) {
            tui_jobs_poll(&c.wz.jobs, 0);
            wz_tick(&c.wz);
        }
        if (tui_now() - c.archive_at >= ARCHIVE_REFRESH) {
            reload_archive(&c);
            poll_streams(&c);
        }
        /* q was pressed while a job was running, and it has ended since */
        if (c.mode == MODE_CONFIRM_QUIT && !tui_jobs_running(&c.jobs))
            break;
        con_draw(&c);
        int ch = getch();
        if (ch == ERR)
            continue;
        if (ch == KEY_RESIZE) {
            clearok(curscr, TRUE);
            continue;
        }
        if (ch == '\r')
            ch = '\n';
        running = con_key(&c, ch);
    }
    endwin();
    if (c.mode == MODE_WIZARD)
        close_wizard(&c);
    if (c.wz_command) /* so it can be copied from the terminal */
        printf("The recovery wizard's command line:\n  %s", c.wz_command);
    /* recover --wizard fails as the batch recover it ran did */
    rc = 0;
    if (c.wz_quits && c.wz_err.code) {
        *err = c.wz_err;
        rc = -c.wz_err.code;
    }
    con_close(&c);
    return rc;
}
