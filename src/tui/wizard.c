/*
 * wizard.c - the recovery wizard's steps, answers and checks (see wizard.h).
 *
 * Nothing here draws or blocks: a local catalogue is read in-process
 * through op_window_load (files only, as the console's model does), a
 * bucket server's by a child `cellar --batch --format json recover
 * --window SERVER` (its store may be slow or not answer), and whatever may
 * wait on another host runs as a child `cellar --batch --format json
 * recover [--dry-run] ...`, built by wz_argv, the same argv that the
 * review shows as a command line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/server.h"
#include "tui/wizard.h"

const char *const wz_actions[WZ_N_ACTIONS] = {"", "pause", "promote", "shutdown"};
const char *const wz_timelines[WZ_N_TIMELINES] = {"", "current", "latest"};

static void say(struct wizard *w, enum wz_level level, const char *fmt, ...) CEL_PRINTF(3, 4);
static void say(struct wizard *w, enum wz_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof w->msg, fmt, ap);
    va_end(ap);
    w->msg_level = level;
}

static void quiet(struct wizard *w)
{
    w->msg[0] = '\0';
    w->msg_level = WZ_MSG_NONE;
}

const struct cfg_server *wz_server(const struct wizard *w)
{
    return w->server < w->cfg->n_servers ? &w->cfg->servers[w->server] : NULL;
}

const struct cat_backup *wz_backup(const struct wizard *w)
{
    if (!w->has_win || w->backup < 0 || (size_t)w->backup >= w->win.cat.list.n)
        return NULL;
    return &w->win.cat.list.items[w->backup];
}

/* The kind chosen on the target step: its row of the target table. */
static const struct rc_target_def *target_def(const struct wizard *w)
{
    return &rc_target_defs[w->target];
}

static enum rc_target_kind kind(const struct wizard *w)
{
    return target_def(w)->kind;
}

static bool has_value(const struct wizard *w)
{
    return target_def(w)->prompt != NULL;
}

double wz_target_epoch(const struct wizard *w)
{
    if (kind(w) == RC_TARGET_TIME && w->tgt_ok && w->tgt.kind == RC_TARGET_TIME)
        return w->tgt.epoch;
    if (kind(w) == RC_TARGET_NONE && w->has_win)
        return w->win.end;
    return 0;
}

size_t *wz_done_backups(const struct wizard *w, size_t *n)
{
    *n = 0;
    if (!w->has_win)
        return NULL;
    const struct cat_list *l = &w->win.cat.list;
    size_t *v = cel_xcalloc(l->n ? l->n : 1, sizeof *v);
    for (size_t i = l->n; i-- > 0;)
        if (!l->failed[i] && l->items[i].status == CAT_DONE)
            v[(*n)++] = i;
    return v;
}

/* ---- the server and its window ------------------------------------------------------ */

static void free_window(struct wizard *w)
{
    if (w->has_win) {
        op_window_free(&w->win);
        op_xids_free(&w->xids);
    }
    w->has_win = false;
    w->backup = -1;
    w->backup_picked = false;
}

/* A sink that keeps the text of error lines (the reason a load failed). */
static void keep_errors(void *ctx, const struct op_event *ev)
{
    struct strbuf *sb = ctx;
    if (ev->kind == OP_EV_LOG && ev->level >= LOG_ERROR && ev->text) {
        if (sb->len)
            sb_append(sb, "; ");
        sb_append(sb, ev->text);
    }
}

/* The window has arrived (has_win): the target step opens, unless the
 * server has no DONE backup. */
static void window_ready(struct wizard *w)
{
    const struct cfg_server *s = wz_server(w);
    w->has_win = true;
    op_xids_init(&w->xids, s, &w->win.cat.list);
    if (w->win.oldest_done < 0) {
        say(w, WZ_MSG_ERROR,
            "server %s has no DONE backup, so there is nothing to recover: take one with "
            "cellar backup %s (b in the console)",
            s->name, s->name);
        return;
    }
    quiet(w);
    w->step = WZ_TARGET;
}

static bool run_job(struct wizard *w, const char *const *args, const char *title,
                    const char *command);

/* Read the server's window: a local catalogue here (files only), a bucket
 * server's by a child `recover --window SERVER`, as its store may be slow
 * or not answer; its result reaches window_arrived through wz_tick. */
static void load_window(struct wizard *w)
{
    free_window(w);
    const struct cfg_server *s = wz_server(w);
    if (!s) {
        say(w, WZ_MSG_ERROR, "no server is configured: add one to %s first",
            w->cfg->path ? w->cfg->path : "the configuration");
        return;
    }
    if (s->cloud_source) {
        const char *args[] = {"recover", "--window", s->name, NULL};
        char *title = cel_xasprintf("recover --window %s", s->name);
        if (run_job(w, args, title, "recover"))
            say(w, WZ_MSG_INFO, "reading the catalogue of %s from %s ...", s->name,
                s->cloud_source);
        free(title);
        return;
    }
    struct strbuf errors = {0};
    struct op_sink sink = {keep_errors, &errors};
    struct op_ctx ctx = {.cfg = w->cfg, .sink = &sink};
    struct cel_err err = {0};
    int rc = op_window_load(&ctx, s, &w->win, &err);
    if (rc < 0) {
        op_window_free(&w->win);
        say(w, WZ_MSG_ERROR, "cannot read the catalogue of %s: %s%s%s", s->name, err.msg,
            errors.len ? "; " : "", sb_str(&errors));
        sb_free(&errors);
        return;
    }
    sb_free(&errors);
    window_ready(w);
}

/* What recover --window brought: the window, or why there is none. */
static void window_arrived(struct wizard *w, const struct tui_job *j)
{
    const char *name = wz_server(w)->name;
    struct cel_err err = {0};
    free_window(w);
    if (j->state != TUI_JOB_OK) {
        say(w, WZ_MSG_ERROR, "cannot read the catalogue of %s: %s", name,
            j->outcome ? j->outcome : "see its log");
    } else if (!j->result_command || strcmp(j->result_command, "recover-window") != 0) {
        say(w, WZ_MSG_ERROR, "cannot read the catalogue of %s: recover --window gave no window",
            name);
    } else if (op_window_from_json(j->result, &w->win, &err) < 0) {
        op_window_free(&w->win);
        say(w, WZ_MSG_ERROR, "cannot read the catalogue of %s: recover --window: %s", name,
            err.msg);
    } else {
        window_ready(w);
    }
}

/* ---- the value ----------------------------------------------------------------------- */

static void value_say(struct wizard *w, enum wz_level level, const char *fmt, ...) CEL_PRINTF(3, 4);
static void value_say(struct wizard *w, enum wz_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->value_msg, sizeof w->value_msg, fmt, ap);
    va_end(ap);
    w->value_level = level;
}

/* The restore point the value names in the archive's index (its last
 * occurrence), NULL when the index does not hold it. */
static const struct widx_point *indexed_point(const struct wizard *w)
{
    const struct widx_point *rp = NULL;
    if (w->tgt.kind != RC_TARGET_NAME || !w->tgt_ok || !w->has_win ||
        op_restore_point_find(&w->win.points, w->tgt.text, "", &rp, NULL) < 0)
        return NULL;
    return rp;
}

/* The end of the oldest DONE backup: no recovery is consistent before it. */
static const struct cat_backup *oldest_done(const struct wizard *w)
{
    return w->win.oldest_done >= 0 ? &w->win.cat.list.items[w->win.oldest_done] : NULL;
}

bool wz_check_value(struct wizard *w)
{
    w->value_msg[0] = '\0';
    w->value_level = WZ_MSG_NONE;
    struct cel_err err = {0};
    w->tgt_ok = rc_target_parse(kind(w), has_value(w) ? w->value : NULL, NULL, &w->tgt, &err) == 0;
    if (!has_value(w))
        return true;
    if (!w->value[0]) {
        value_say(w, WZ_MSG_INFO, "type the %s", target_def(w)->prompt);
        return false;
    }
    if (!w->tgt_ok) {
        value_say(w, WZ_MSG_ERROR, "%s%s%s", err.msg, *err.hint ? " " : "", err.hint);
        return false;
    }
    const struct cat_backup *first = w->has_win ? oldest_done(w) : NULL;
    if (kind(w) == RC_TARGET_TIME) {
        const struct ts *t = &w->tgt.time;
        double e = w->tgt.epoch;
        char a[TS_MAX], b[TS_MAX];
        if (first && first->end_time.set && e < ts_epoch(&first->end_time.t)) {
            ts_format(&first->end_time.t, a);
            value_say(w, WZ_MSG_ERROR,
                      "before the recoverable window: the oldest DONE backup (%s) ended at %s, "
                      "and no recovery is consistent before a backup's end",
                      first->id, a);
            return false;
        }
        /* recover needs a segment archived after the target: the end itself is out */
        if (w->has_win && w->win.end > 0 && e >= w->win.end) {
            tui_fmt_epoch(w->win.end, b, sizeof b);
            value_say(w, WZ_MSG_ERROR,
                      "after the recoverable window: the last archived WAL (%s) arrived at %s; "
                      "choose an earlier time, or the end of the WAL",
                      w->win.last_wal, b);
            return false;
        }
        if (!t->has_offset) {
            value_say(w, WZ_MSG_WARN,
                      "no time zone: read as this machine's local time; PostgreSQL reads it in "
                      "the recovered server's TimeZone (add +00 or another offset to be sure)");
            return true;
        }
        ts_format(t, a);
        value_say(w, WZ_MSG_INFO, "in the recoverable window (%s)", a);
        return true;
    }
    if (kind(w) == RC_TARGET_LSN) {
        uint64_t lsn = w->tgt.lsn, end = 0;
        if (first && first->end_xlog && wal_lsn_parse(first->end_xlog, &end, NULL) == 0 &&
            lsn < end) {
            value_say(w, WZ_MSG_ERROR,
                      "before the recoverable window: the oldest DONE backup (%s) ends at %s",
                      first->id, first->end_xlog);
            return false;
        }
        if (w->has_win && w->win.end_lsn && lsn >= w->win.end_lsn) {
            char e[WAL_LSN_MAX];
            wal_lsn_format(w->win.end_lsn, e);
            value_say(w, WZ_MSG_ERROR,
                      "after the recoverable window: the archived WAL ends at %s (segment %s)", e,
                      w->win.last_wal);
            return false;
        }
        value_say(w, WZ_MSG_INFO, "in the recoverable window");
        return true;
    }
    if (kind(w) == RC_TARGET_NAME) {
        const struct widx_point *rp = indexed_point(w);
        uint64_t end = 0;
        char at[WAL_LSN_MAX], when[TS_MAX];
        if (rp) {
            wal_lsn_format(rp->lsn, at);
            tui_fmt_epoch(rp->time, when, sizeof when);
            if (first && first->end_xlog && wal_lsn_parse(first->end_xlog, &end, NULL) == 0 &&
                rp->lsn < end) {
                value_say(w, WZ_MSG_ERROR,
                          "before the recoverable window: restore point %s (at %s, made %s) is "
                          "before the end of the oldest DONE backup (%s, at %s)",
                          w->tgt.text, at, when, first->id, first->end_xlog);
                return false;
            }
            value_say(w, WZ_MSG_INFO, "a restore point in the archived WAL: at %s, made %s", at,
                      when);
            return true;
        }
        if (w->has_win && w->win.points_unread == 0 && w->win.points.n) {
            value_say(w, WZ_MSG_ERROR,
                      "no restore point of that name in the archived WAL: choose one of the "
                      "names listed below");
            return false;
        }
        for (size_t i = 0; w->has_win && i < w->win.n_restore_points; i++)
            if (strcmp(w->win.restore_points[i], w->tgt.text) == 0) {
                value_say(w, WZ_MSG_INFO, "a restore point the catalogue knows");
                return true;
            }
        if (w->has_win && w->win.points_unread) {
            value_say(w, WZ_MSG_WARN,
                      "not among the restore points read so far (%zu archived segment%s not "
                      "read yet): the dry run reads them and refuses a name the WAL does not "
                      "hold",
                      w->win.points_unread, w->win.points_unread == 1 ? "" : "s");
            return true;
        }
        value_say(w, WZ_MSG_WARN,
                  "not a restore point the catalogue knows (those are the backups' barman_ID "
                  "points); if the WAL never reaches it, PostgreSQL stops with an error at the "
                  "end of the WAL");
        return true;
    }
    /* XID: against the backups' NextXIDs (pg_controldata, once per backup) */
    struct strbuf why = {0};
    int i = w->has_win ? op_recover_pick(&w->win.cat.list, &w->tgt, wz_server(w)->name, &w->xids,
                                         NULL, &why, &err)
                       : -1;
    if (i < 0 && err.msg[0]) {
        value_say(w, WZ_MSG_ERROR, "%s: no backup can reach it", err.msg);
        sb_free(&why);
        return false;
    }
    if (i >= 0 && op_xids_known(&w->xids, (size_t)i))
        value_say(w, WZ_MSG_INFO, "backup %s started before it (its first free transaction ID "
                                  "was %llu)",
                  w->win.cat.list.items[i].id, (unsigned long long)w->xids.next[i]);
    else
        value_say(w, WZ_MSG_INFO, "the backups' transaction IDs cannot be read here: the dry run "
                                  "checks it against the backup");
    sb_free(&why);
    return true;
}

void wz_window_text(const struct wizard *w, struct strbuf *out)
{
    const struct cat_backup *first = w->has_win ? oldest_done(w) : NULL;
    if (!first)
        return;
    if (kind(w) == RC_TARGET_TIME && first->end_time.set && w->win.end > 0) {
        char a[TS_MAX], b[TS_MAX];
        ts_format(&first->end_time.t, a);
        tui_fmt_epoch(w->win.end, b, sizeof b);
        sb_appendf(out,
                   "Recoverable from %s, when the oldest DONE backup (%s) ended, to before %s, "
                   "when the last archived WAL (%s) arrived.",
                   a, first->id, b, w->win.last_wal);
    } else if (kind(w) == RC_TARGET_LSN && first->end_xlog && w->win.end_lsn) {
        char e[WAL_LSN_MAX];
        wal_lsn_format(w->win.end_lsn, e);
        sb_appendf(out,
                   "Recoverable from %s, where the oldest DONE backup (%s) ends, to before %s, "
                   "where the archived WAL ends (segment %s).",
                   first->end_xlog, first->id, e, w->win.last_wal);
    }
}

/* ---- the backup ---------------------------------------------------------------------- */

/* The backup the auto rule picks for the target; false with the reason in
 * the message when none fits. */
static bool pick_backup(struct wizard *w)
{
    struct strbuf why = {0};
    struct cel_err err = {0};
    /* a restore point the index holds: the newest backup that ended before it */
    const struct widx *points = indexed_point(w) ? &w->win.points : NULL;
    int i = op_recover_pick(&w->win.cat.list, &w->tgt, wz_server(w)->name, &w->xids, points, &why,
                            &err);
    if (i < 0) {
        say(w, WZ_MSG_ERROR, "%s: choose another target", err.msg);
        sb_free(&why);
        return false;
    }
    w->backup = i;
    snprintf(w->backup_why, sizeof w->backup_why, "%s", sb_str(&why));
    sb_free(&why);
    return true;
}

/* Can the chosen backup reach the target? The rule and its message are
 * op_target_fits's, as on the command line. */
static bool backup_fits(struct wizard *w)
{
    if (!wz_backup(w) || !w->tgt_ok)
        return false;
    struct cel_err err = {0};
    if (op_target_fits(&w->win.cat.list, (size_t)w->backup, &w->tgt, &w->xids, indexed_point(w),
                       &err) == 0)
        return true;
    say(w, WZ_MSG_ERROR, "%s%s%s", err.msg, *err.hint ? " " : "", err.hint);
    return false;
}

/* Put the list cursor on the chosen backup. */
static void cursor_to_backup(struct wizard *w)
{
    size_t n;
    size_t *v = wz_done_backups(w, &n);
    for (size_t k = 0; k < n; k++)
        if ((int)v[k] == w->backup)
            w->backup_cursor = k;
    free(v);
}

/* The tablespaces of the chosen backup, keeping the relocations already
 * typed for tablespaces of the same name. */
static void prepare_tablespaces(struct wizard *w)
{
    const struct cat_backup *b = wz_backup(w);
    size_t n = b ? b->n_tablespaces : 0;
    char(*tbs)[1024] = n ? cel_xcalloc(n, sizeof *tbs) : NULL;
    char(*names)[64] = n ? cel_xcalloc(n, sizeof *names) : NULL;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "%s", b->tablespaces[i].name);
        for (size_t k = 0; k < w->n_tbs; k++)
            if (strcmp(w->tbs_name[k], names[i]) == 0)
                memcpy(tbs[i], w->tbs[k], sizeof tbs[i]);
    }
    free(w->tbs);
    free(w->tbs_name);
    w->tbs = tbs;
    w->tbs_name = names;
    w->n_tbs = n;
}

static void enter_backup_step(struct wizard *w)
{
    w->step = WZ_BACKUP;
    quiet(w);
    if (!w->backup_picked || !wz_backup(w)) {
        w->backup_picked = false;
        if (!pick_backup(w))
            return;
    } else if (!backup_fits(w)) {
        return;
    }
    cursor_to_backup(w);
}

/* ---- the command ----------------------------------------------------------------- */

static void push(char ***v, size_t *n, const char *s)
{
    *v = cel_xrealloc_array(*v, *n + 2, sizeof **v);
    (*v)[(*n)++] = cel_xstrdup(s);
    (*v)[*n] = NULL;
}

char **wz_argv(const struct wizard *w, bool dry_run)
{
    char **v = NULL;
    size_t n = 0;
    const struct cat_backup *b = wz_backup(w);
    push(&v, &n, "recover");
    if (dry_run)
        push(&v, &n, "--dry-run");
    if (w->remote && w->ssh[0]) {
        push(&v, &n, "--remote-ssh-command");
        push(&v, &n, w->ssh);
    }
    const struct rc_target_def *t = target_def(w);
    if (t->option) {
        push(&v, &n, t->option);
        if (t->prompt)
            push(&v, &n, w->tgt.text);
    }
    if (w->exclusive && t->inclusive)
        push(&v, &n, "--exclusive");
    if (w->timeline > 0) {
        push(&v, &n, "--target-tli");
        push(&v, &n, wz_timelines[w->timeline]);
    }
    if (w->action > 0 && t->kind != RC_TARGET_NONE) {
        push(&v, &n, "--target-action");
        push(&v, &n, wz_actions[w->action]);
    }
    if (w->get_wal >= 0)
        push(&v, &n, w->get_wal ? "--get-wal" : "--no-get-wal");
    for (size_t i = 0; b && i < w->n_tbs && i < b->n_tablespaces; i++)
        if (w->tbs[i][0]) {
            char *spec = cel_xasprintf("%s:%s", b->tablespaces[i].name, w->tbs[i]);
            push(&v, &n, "--tablespace");
            push(&v, &n, spec);
            free(spec);
        }
    push(&v, &n, wz_server(w) ? wz_server(w)->name : "");
    push(&v, &n, b ? b->id : "auto");
    push(&v, &n, w->dest);
    return v;
}

void wz_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

void wz_command_line(const struct wizard *w, struct strbuf *out)
{
    sb_append(out, "cellar");
    if (w->cfg->path) {
        sb_append(out, " -c ");
        sb_append_shell_word(out, w->cfg->path);
    }
    char **v = wz_argv(w, false);
    for (size_t i = 0; v[i]; i++) {
        sb_append(out, " ");
        sb_append_shell_word(out, v[i]);
    }
    wz_argv_free(v);
}

void wz_next_steps(const struct wizard *w, struct strbuf *out)
{
    if (w->copy_running && w->check_result) {
        const char *connect = json_string_value(json_object_get(w->check_result, "connect"));
        const char *stop = json_string_value(json_object_get(w->check_result, "stop"));
        sb_appendf(out, "the copy runs on 127.0.0.1 for checks: %s\n", connect ? connect : "");
        sb_appendf(out, "stop it before starting it for real: %s\n", stop ? stop : "");
    }
    const struct cat_backup *b = wz_backup(w);
    char *pg_ctl = op_pg_tool("pg_ctl", b && b->version.set ? (long)b->version.v : 0);
    const char *tool = pg_ctl ? pg_ctl : "pg_ctl";
    char owner[64];
    bool chown_first = !w->remote && op_recovered_needs_chown(owner, sizeof owner);
    if (w->remote)
        sb_appendf(out, "on the host of '%s', as the database's owner:\n", w->ssh);
    else if (chown_first) {
        sb_append(out, "chown -R postgres: ");
        sb_append_shell_word(out, w->dest);
        sb_appendf(out, "%s\n", w->n_tbs ? " (and the tablespace directories)" : "");
    }
    /* a command to paste into a shell: the paths quoted when needed */
    char *log = cel_xasprintf("%s/recovery.log", w->dest);
    sb_appendf(out, "%s%s -D ", chown_first ? "as postgres: " : "", tool);
    sb_append_shell_word(out, w->dest);
    sb_append(out, " -l ");
    sb_append_shell_word(out, log);
    sb_append(out, " start\n");
    free(log);
    if (kind(w) != RC_TARGET_NONE && w->action == 0)
        sb_append(out, "it pauses at the target: check the data, then "
                       "SELECT pg_wal_replay_resume(); ends the recovery\n");
    free(pg_ctl);
}

/* ---- jobs -------------------------------------------------------------------------- */

/* Start `cellar --batch --format json ARGS` as the wizard's job, for the
 * current step. */
static bool run_job(struct wizard *w, const char *const *args, const char *title,
                    const char *command)
{
    if (w->jobs.n && w->job_step == WZ_RUN) /* a recovery: the activity pane's */
        tui_jobs_add(&w->runs, w->jobs.v[--w->jobs.n]);
    while (w->jobs.n) /* only finished ones: nothing starts while one runs */
        tui_jobs_remove(&w->jobs, 0);
    struct tui_job *j = tui_job_new(title, command, wz_server(w)->name);
    struct cel_err err = {0};
    if (tui_job_start_batch(j, w->exe, w->cfg->path, args, &err) < 0) {
        say(w, WZ_MSG_ERROR, "cannot start %s: %s", w->exe, err.msg);
        tui_job_free(j);
        return false;
    }
    tui_jobs_add(&w->jobs, j);
    w->job_step = w->step;
    return true;
}

static bool start(struct wizard *w, bool dry_run)
{
    char **args = wz_argv(w, dry_run);
    char *title = cel_xasprintf("recover %s %s", wz_server(w)->name, w->dest);
    bool ok = run_job(w, (const char *const *)args, title, "recover");
    if (ok && dry_run)
        say(w, WZ_MSG_INFO, "checking (cellar recover --dry-run) ...");
    else if (ok)
        quiet(w);
    free(title);
    wz_argv_free(args);
    return ok;
}

static struct tui_job *job(const struct wizard *w)
{
    return w->jobs.n ? w->jobs.v[w->jobs.n - 1] : NULL;
}

static bool busy(const struct wizard *w)
{
    return job(w) && job(w)->state == TUI_JOB_RUNNING;
}

struct tui_job *wz_take_job(struct wizard *w)
{
    if (job(w) && w->job_step == WZ_RUN)
        tui_jobs_add(&w->runs, w->jobs.v[--w->jobs.n]);
    if (!w->runs.n)
        return NULL;
    struct tui_job *j = w->runs.v[0];
    memmove(&w->runs.v[0], &w->runs.v[1], (w->runs.n - 1) * sizeof *w->runs.v);
    w->runs.n--;
    return j;
}

static bool field_shown(const struct wizard *w, int f);
static void move_field(struct wizard *w, int delta, int count);

/* Keep how the recovery ended: `recover --wizard` exits with the status a
 * failed batch recover gives (the job's error number), 0 when the last one
 * succeeded. */
static void note_run(struct wizard *w, const struct tui_job *j)
{
    cel_err_clear(&w->run_err);
    if (j->state != TUI_JOB_OK)
        cel_err_set(&w->run_err, (enum cel_code)(j->code > 0 ? j->code : CEL_E_PROC),
                    "the recovery failed: %s", j->outcome ? j->outcome : "see its log");
}

static void free_warnings(struct wizard *w)
{
    for (size_t i = 0; i < w->n_plan_warnings; i++)
        free(w->plan_warnings[i]);
    free(w->plan_warnings);
    w->plan_warnings = NULL;
    w->n_plan_warnings = 0;
}

/* The dry run's warnings go with its plan to the review (the job itself is
 * dropped when the next one starts). */
static void keep_warnings(struct wizard *w, const struct tui_job *j)
{
    free_warnings(w);
    if (!j->n_warnings)
        return;
    w->plan_warnings = cel_xcalloc(j->n_warnings, sizeof *w->plan_warnings);
    for (size_t i = 0; i < j->n_warnings; i++)
        w->plan_warnings[i] = cel_xstrdup(j->warnings[i]);
    w->n_plan_warnings = j->n_warnings;
}

/* What start-recovered or stop-recovered did. */
static void end_job_done(struct wizard *w, const struct tui_job *j)
{
    bool stopping = w->check == WZ_CHECK_STOPPING;
    if (j->state != TUI_JOB_OK) {
        say(w, WZ_MSG_ERROR, "%s%s", stopping ? "could not stop the copy: " : "",
            j->outcome ? j->outcome : "see its log");
        w->check = stopping ? WZ_CHECK_DONE : WZ_CHECK_NONE;
        return;
    }
    w->check = WZ_CHECK_DONE;
    if (stopping) {
        w->copy_running = false;
        say(w, WZ_MSG_INFO, "the copy is stopped; start it for real with the pg_ctl line");
        return;
    }
    json_decref(w->check_result);
    w->check_result = j->result ? json_incref(j->result) : NULL;
    const char *state = json_string_value(json_object_get(w->check_result, "state"));
    w->copy_running = json_object_get(w->check_result, "connect") &&
                      !json_is_null(json_object_get(w->check_result, "connect"));
    quiet(w);
    if (state && strcmp(state, "shutdown") == 0)
        say(w, WZ_MSG_WARN, "the copy shut down at its target (target action shutdown): "
                            "nothing to query");
}

bool wz_tick(struct wizard *w)
{
    struct tui_job *j = job(w);
    if (!j || j->state == TUI_JOB_RUNNING || j->seen_end)
        return false;
    j->seen_end = true;
    if (w->job_step == WZ_END) {
        end_job_done(w, j);
        return true;
    }
    if (w->job_step == WZ_RUN) {
        note_run(w, j);
        if (j->state == TUI_JOB_OK) {
            w->step = WZ_END;
            quiet(w);
        } else {
            say(w, WZ_MSG_ERROR, "the recovery failed: %s (Esc goes back to the review)",
                j->outcome ? j->outcome : "see its log");
        }
        return true;
    }
    if (w->step != w->job_step)
        return true; /* the DBA went back meanwhile: the answer no longer applies */
    if (w->job_step == WZ_SERVER) {
        window_arrived(w, j);
        return true;
    }
    if (j->state != TUI_JOB_OK) {
        say(w, WZ_MSG_ERROR, "%s", j->outcome ? j->outcome : "the check failed");
        return true;
    }
    json_decref(w->plan);
    w->plan = j->result ? json_incref(j->result) : NULL;
    keep_warnings(w, j);
    quiet(w);
    w->step = w->step == WZ_DEST ? WZ_OPTIONS : WZ_REVIEW;
    w->field = 0;
    w->review_top = 0;
    if (!field_shown(w, 0))
        move_field(w, 1, WZ_N_OPT_FIELDS);
    return true;
}

/* ---- keys -------------------------------------------------------------------------- */

static void edit(char *buf, size_t size, enum wz_key k, int ch)
{
    size_t n = strlen(buf);
    if (k == WZ_KEY_CHAR && ch == 0x15) /* Ctrl-U, as in a shell: erase the field */
        buf[0] = '\0';
    else if (k == WZ_KEY_BACKSPACE && n)
        buf[n - 1] = '\0';
    else if (k == WZ_KEY_CHAR && ch >= 32 && ch < 127 && n + 1 < size) {
        buf[n] = (char)ch;
        buf[n + 1] = '\0';
    }
}

static int dest_fields(const struct wizard *w)
{
    return WZ_F_TBS + (int)w->n_tbs;
}

/* Skip the ssh field of a local destination and exclusive when it does not apply. */
static bool field_shown(const struct wizard *w, int f)
{
    if (w->step == WZ_DEST)
        return f != WZ_F_SSH || w->remote;
    if (w->step == WZ_OPTIONS && f == WZ_F_ACTION)
        return kind(w) != RC_TARGET_NONE; /* PostgreSQL acts at a target only */
    if (w->step == WZ_OPTIONS && f == WZ_F_EXCLUSIVE)
        return target_def(w)->inclusive;
    return true;
}

static void move_field(struct wizard *w, int delta, int count)
{
    int f = w->field;
    do
        f += delta;
    while (f >= 0 && f < count && !field_shown(w, f));
    if (f >= 0 && f < count)
        w->field = f;
}

static void cycle(int *v, int n, int delta)
{
    *v = (*v + delta + n) % n;
}

static bool dest_ready(struct wizard *w)
{
    if (w->dest[0] != '/') {
        w->field = WZ_F_DEST;
        say(w, WZ_MSG_ERROR,
            "the destination must be an absolute path (a new or empty "
            "directory for the recovered data directory)");
        return false;
    }
    if (w->remote && !w->ssh[0]) {
        w->field = WZ_F_SSH;
        say(w, WZ_MSG_ERROR,
            "a remote destination needs the ssh command that reaches its host "
            "(for example: ssh postgres@db2)");
        return false;
    }
    for (size_t i = 0; i < w->n_tbs; i++)
        if (w->tbs[i][0] && w->tbs[i][0] != '/') {
            w->field = WZ_F_TBS + (int)i;
            say(w, WZ_MSG_ERROR,
                "a tablespace location must be an absolute path (or empty to "
                "keep the original)");
            return false;
        }
    return true;
}

static void go_back(struct wizard *w)
{
    quiet(w);
    w->field = 0;
    switch (w->step) {
    case WZ_TARGET:
        w->step = WZ_SERVER;
        break;
    case WZ_VALUE:
        w->step = WZ_TARGET;
        break;
    case WZ_BACKUP:
        w->step = has_value(w) ? WZ_VALUE : WZ_TARGET;
        break;
    case WZ_DEST:
        w->step = WZ_BACKUP;
        cursor_to_backup(w);
        break;
    case WZ_OPTIONS:
        w->step = WZ_DEST;
        break;
    case WZ_REVIEW:
        w->step = WZ_OPTIONS;
        break;
    case WZ_RUN:
        w->step = WZ_REVIEW;
        break;
    default:
        break;
    }
}

static void key_list(size_t *sel, size_t n, enum wz_key k)
{
    if ((k == WZ_KEY_UP || k == WZ_KEY_LEFT) && *sel > 0)
        (*sel)--;
    else if ((k == WZ_KEY_DOWN || k == WZ_KEY_RIGHT || k == WZ_KEY_TAB) && *sel + 1 < n)
        (*sel)++;
}

static void key_backup(struct wizard *w, enum wz_key k)
{
    size_t n;
    size_t *v = wz_done_backups(w, &n);
    size_t before = w->backup_cursor;
    key_list(&w->backup_cursor, n, k);
    if (w->backup_cursor != before && w->backup_cursor < n) {
        w->backup = (int)v[w->backup_cursor];
        w->backup_picked = true;
        quiet(w);
        backup_fits(w);
    }
    free(v);
    if (k == WZ_KEY_ENTER && backup_fits(w)) {
        prepare_tablespaces(w);
        quiet(w);
        w->field = WZ_F_DEST;
        w->step = WZ_DEST;
    }
}

static void key_dest(struct wizard *w, enum wz_key k, int ch)
{
    int count = dest_fields(w);
    if (k == WZ_KEY_UP)
        move_field(w, -1, count);
    else if (k == WZ_KEY_DOWN || k == WZ_KEY_TAB)
        move_field(w, 1, count);
    else if (w->field == WZ_F_WHERE &&
             (k == WZ_KEY_LEFT || k == WZ_KEY_RIGHT || (k == WZ_KEY_CHAR && ch == ' ')) &&
             wz_server(w)->cloud_source && !w->remote)
        say(w, WZ_MSG_WARN,
            "%s is a bucket server: its backups are restored on this host "
            "(recover refuses --remote-ssh-command for it)",
            wz_server(w)->name);
    else if (w->field == WZ_F_WHERE &&
             (k == WZ_KEY_LEFT || k == WZ_KEY_RIGHT || (k == WZ_KEY_CHAR && ch == ' ')))
        w->remote = !w->remote;
    else if (w->field == WZ_F_DEST)
        edit(w->dest, sizeof w->dest, k, ch);
    else if (w->field == WZ_F_SSH)
        edit(w->ssh, sizeof w->ssh, k, ch);
    else if (w->field >= WZ_F_TBS && (size_t)(w->field - WZ_F_TBS) < w->n_tbs)
        edit(w->tbs[w->field - WZ_F_TBS], sizeof w->tbs[0], k, ch);
    if (k == WZ_KEY_ENTER && dest_ready(w))
        start(w, true);
    else if (k != WZ_KEY_ENTER && w->msg_level == WZ_MSG_ERROR)
        quiet(w);
}

static void key_options(struct wizard *w, enum wz_key k, int ch)
{
    int delta = k == WZ_KEY_LEFT                                         ? -1
                : (k == WZ_KEY_RIGHT || (k == WZ_KEY_CHAR && ch == ' ')) ? 1
                                                                         : 0;
    if (k == WZ_KEY_UP)
        move_field(w, -1, WZ_N_OPT_FIELDS);
    else if (k == WZ_KEY_DOWN || k == WZ_KEY_TAB)
        move_field(w, 1, WZ_N_OPT_FIELDS);
    else if (delta && w->field == WZ_F_ACTION)
        cycle(&w->action, WZ_N_ACTIONS, delta);
    else if (delta && w->field == WZ_F_EXCLUSIVE)
        w->exclusive = !w->exclusive;
    else if (delta && w->field == WZ_F_TIMELINE)
        cycle(&w->timeline, WZ_N_TIMELINES, delta);
    else if (delta && w->field == WZ_F_GETWAL && wz_server(w)->cloud_source)
        say(w, WZ_MSG_INFO,
            "%s is a bucket server: its WAL is always fetched from the bucket "
            "while replaying (recover refuses --no-get-wal for it)",
            wz_server(w)->name);
    else if (delta && w->field == WZ_F_GETWAL) {
        int g = w->get_wal + 1; /* -1..1 as 0..2 */
        cycle(&g, 3, delta);
        w->get_wal = g - 1;
    }
    if (k == WZ_KEY_ENTER)
        start(w, true);
}

/* The end step: s, the query, x; any other key closes the wizard. */
static bool key_end(struct wizard *w, enum wz_key k, int ch)
{
    if (w->check == WZ_CHECK_QUERY) {
        if (k == WZ_KEY_ESC) {
            w->check = WZ_CHECK_NONE;
            quiet(w);
        } else if (k == WZ_KEY_ENTER && w->query[0]) {
            /* connect as the role cellar backs the server up with, which the
             * copy has; without one, start-recovered's default (postgres) */
            const char *role = wz_server(w)->conninfo_user;
            const char *args[7] = {"start-recovered", "--query", w->query};
            size_t n = 3;
            if (role) {
                args[n++] = "--db-user";
                args[n++] = role;
            }
            args[n] = w->dest;
            char *title = cel_xasprintf("start-recovered %s", w->dest);
            bool started = run_job(w, args, title, "start-recovered");
            if (started) {
                w->check = WZ_CHECK_STARTING;
                say(w, WZ_MSG_INFO, "starting the copy on 127.0.0.1 and waiting for the end of "
                                    "its recovery ...");
            }
            free(title);
        } else {
            edit(w->query, sizeof w->query, k, ch);
        }
        return true;
    }
    if (k == WZ_KEY_CHAR && ch == 's' && !w->copy_running) {
        if (w->remote) {
            say(w, WZ_MSG_WARN, "starting the copy from here is offered for destinations on "
                                "this host only: use the lines below on '%s'",
                w->ssh);
            return true;
        }
        if (!w->query[0])
            snprintf(w->query, sizeof w->query, "%s", op_start_recovered_default_query);
        w->check = WZ_CHECK_QUERY;
        quiet(w);
        return true;
    }
    if (k == WZ_KEY_CHAR && ch == 'x' && w->copy_running) {
        const char *args[] = {"stop-recovered", w->dest, NULL};
        char *title = cel_xasprintf("stop-recovered %s", w->dest);
        if (run_job(w, args, title, "stop-recovered")) {
            w->check = WZ_CHECK_STOPPING;
            say(w, WZ_MSG_INFO, "stopping the copy ...");
        }
        free(title);
        return true;
    }
    return false;
}

/* The first line the review can show: lines past the last page never are. */
static int clamp_top(int top, int rows, int lines)
{
    int max = lines > rows ? lines - rows : 0;
    return top < 0 ? 0 : top > max ? max : top;
}

void wz_review_view(struct wizard *w, int rows, int lines)
{
    w->review_rows = rows > 0 ? rows : 0;
    w->review_lines = lines > 0 ? lines : 0;
    w->review_top = clamp_top(w->review_top, w->review_rows, w->review_lines);
}

/* A page keeps one line of the previous one in sight. */
static void scroll_review(struct wizard *w, enum wz_key k)
{
    int page = w->review_rows > 2 ? w->review_rows - 1 : 1;
    int delta = k == WZ_KEY_UP     ? -1
                : k == WZ_KEY_DOWN ? 1
                : k == WZ_KEY_PGUP ? -page
                : k == WZ_KEY_PGDN ? page
                                   : 0;
    w->review_top = clamp_top(w->review_top + delta, w->review_rows, w->review_lines);
}

bool wz_key(struct wizard *w, enum wz_key k, int ch)
{
    if (w->step == WZ_END && !busy(w))
        return key_end(w, k, ch);
    if (busy(w) && w->step == WZ_END) {
        if (k == WZ_KEY_ESC && w->check == WZ_CHECK_STARTING) {
            tui_job_stop(job(w)); /* start-recovered stops the copy it started */
            say(w, WZ_MSG_INFO, "stopping the copy ...");
        }
        return true;
    }
    if (busy(w)) {
        if (w->step == WZ_RUN && k == WZ_KEY_ESC && w->close_quits) {
            /* recover --wizard: closing would end cellar and stop the recovery */
            say(w, WZ_MSG_WARN, "the recovery is running: wait for it to end");
            return true;
        }
        if (w->step == WZ_RUN && k == WZ_KEY_ESC)
            return false; /* the recovery goes on in the activity pane */
        if (k == WZ_KEY_ESC) {
            tui_job_stop(job(w));
            if (w->job_step == WZ_SERVER)
                say(w, WZ_MSG_INFO, "stopped reading the catalogue: Enter reads it again");
            else
                say(w, WZ_MSG_INFO, "check stopped: change what you need and press Enter again");
            w->job_step = WZ_STEP_COUNT; /* abandoned: its answer no longer counts */
        }
        return true;
    }
    if (k == WZ_KEY_ESC) {
        if (w->step == WZ_SERVER)
            return false;
        go_back(w);
        return true;
    }
    switch (w->step) {
    case WZ_SERVER:
        key_list(&w->server, w->cfg->n_servers, k);
        if (k == WZ_KEY_ENTER)
            load_window(w);
        break;
    case WZ_TARGET:
        key_list(&w->target, rc_target_n_defs, k);
        if (k == WZ_KEY_ENTER) {
            quiet(w);
            if (has_value(w)) {
                if (!w->value[0] && kind(w) == RC_TARGET_TIME && w->win.end > 0) {
                    char t[TS_MAX];
                    tui_fmt_epoch(w->win.end - 1, t, sizeof t); /* within the window */
                    snprintf(w->value, sizeof w->value, "%s", t);
                }
                w->step = WZ_VALUE;
                wz_check_value(w);
            } else if (wz_check_value(w)) { /* the kind alone */
                enter_backup_step(w);
            }
        }
        break;
    case WZ_VALUE:
        if (k == WZ_KEY_ENTER) {
            if (wz_check_value(w))
                enter_backup_step(w);
        } else {
            edit(w->value, sizeof w->value, k, ch);
            wz_check_value(w);
        }
        break;
    case WZ_BACKUP:
        key_backup(w, k);
        break;
    case WZ_DEST:
        key_dest(w, k, ch);
        break;
    case WZ_OPTIONS:
        key_options(w, k, ch);
        break;
    case WZ_REVIEW:
        if (k == WZ_KEY_ENTER) {
            w->step = WZ_RUN; /* first: the job belongs to the run step */
            if (!start(w, false))
                w->step = WZ_REVIEW;
        } else {
            scroll_review(w, k);
        }
        break;
    case WZ_RUN:
        if (k == WZ_KEY_ENTER)
            go_back(w);
        break;
    default:
        break;
    }
    return true;
}

int wz_open(struct wizard *w, const struct cfg *cfg, const char *exe, ssize_t server)
{
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->exe = cel_xstrdup(exe);
    w->backup = -1;
    w->get_wal = -1;
    w->server = server >= 0 && (size_t)server < cfg->n_servers ? (size_t)server : 0;
    w->step = WZ_SERVER;
    if (!cfg->n_servers)
        say(w, WZ_MSG_ERROR, "no server is configured: add one to %s first",
            cfg->path ? cfg->path : "the configuration");
    return 0;
}

void wz_free(struct wizard *w)
{
    tui_jobs_free(&w->jobs);
    tui_jobs_free(&w->runs);
    free_window(w);
    json_decref(w->plan);
    json_decref(w->check_result);
    free_warnings(w);
    free(w->tbs);
    free(w->tbs_name);
    free(w->exe);
    memset(w, 0, sizeof *w);
}
