/*
 * job.c - child operations and their JSON event streams.
 *
 * tui_job_feed() is the whole protocol: it is called for every line the
 * child writes (from proc_poll's on_line callback, or directly by tests)
 * and turns events into job fields. The outcome comes from the "end"
 * event; a child that ends without one (it crashed, or could not start)
 * gets the runner's description of how it ended.
 */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cel.h"
#include "log.h"
#include "strbuf.h"
#include "tui/job.h"

double tui_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_add(struct tui_job *j, char *line)
{
    j->log = cel_xrealloc_array(j->log, j->n_log + 1, sizeof *j->log);
    j->log[j->n_log++] = line;
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? cel_xstrdup(s) : NULL;
}

static uint64_t u64(const json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (uint64_t)v : 0;
}

/* The first outcome decides. A failure without the child's error number
 * (it could not start, crashed, or said nothing) counts as a failed
 * external program. */
static void finish(struct tui_job *j, bool ok, const char *outcome)
{
    if (j->state != TUI_JOB_RUNNING)
        return;
    j->state = ok ? TUI_JOB_OK : TUI_JOB_FAILED;
    if (!ok && j->code <= 0)
        j->code = CEL_E_PROC;
    j->ended = tui_now();
    set_str(&j->outcome, outcome);
}

/* A log level name (src/core/common/log.c) at WARNING or above: what a job warns about. */
static bool is_warning(const char *level)
{
    return strcmp(level, "WARNING") == 0 || strcmp(level, "ERROR") == 0 ||
           strcmp(level, "CRITICAL") == 0;
}

void tui_job_feed(struct tui_job *j, int stream, const char *line)
{
    j->changes++;
    if (stream != 1) {
        log_add(j, cel_xasprintf("stderr: %s", line));
        return;
    }
    json_t *o = json_loads(line, 0, NULL);
    const char *ev = json_string_value(json_object_get(o, "event"));
    if (!ev) {
        log_add(j, cel_xstrdup(line));
        json_decref(o);
        return;
    }
    const char *text = json_string_value(json_object_get(o, "text"));
    if (strcmp(ev, "phase") == 0) {
        set_str(&j->phase, text);
        j->phases++;
        log_add(j, cel_xasprintf("%s", text ? text : ""));
    } else if (strcmp(ev, "progress") == 0) {
        j->has_progress = true;
        j->bytes_done = u64(o, "bytes_done");
        j->bytes_total = u64(o, "bytes_total");
        j->files_done = u64(o, "files_done");
        j->files_total = u64(o, "files_total");
        j->rate = json_number_value(json_object_get(o, "rate"));
        set_str(&j->current, json_string_value(json_object_get(o, "current")));
    } else if (strcmp(ev, "log") == 0) {
        const char *level = json_string_value(json_object_get(o, "level"));
        const char *server = json_string_value(json_object_get(o, "server"));
        log_add(j, cel_xasprintf("%s: %s%s%s", level ? level : "LOG", server ? server : "",
                                 server ? ": " : "", text ? text : ""));
        if (level && text && is_warning(level)) {
            j->warnings = cel_xrealloc_array(j->warnings, j->n_warnings + 1, sizeof *j->warnings);
            j->warnings[j->n_warnings++] = cel_xstrdup(text);
        }
    } else if (strcmp(ev, "result") == 0) {
        json_t *data = json_object_get(o, "data");
        const char *command = json_string_value(json_object_get(o, "command"));
        if (json_is_object(j->result) && json_is_object(data) && command && j->result_command &&
            strcmp(command, j->result_command) == 0) {
            /* one result per server (check all): keep every server's */
            json_t *merged = json_copy(j->result);
            json_object_update(merged, data);
            json_decref(j->result);
            j->result = merged;
        } else {
            json_decref(j->result);
            j->result = json_incref(data);
        }
        set_str(&j->result_command, command);
        char *dump = json_dumps(data, JSON_COMPACT); /* this event's, as it came */
        log_add(j, cel_xasprintf("result %s: %s", j->result_command ? j->result_command : "?",
                                 dump ? dump : "null"));
        free(dump);
    } else if (strcmp(ev, "end") == 0) {
        j->end_seen = true;
        const char *status = json_string_value(json_object_get(o, "status"));
        bool ok = status && strcmp(status, "ok") == 0;
        const json_t *e = json_object_get(o, "error");
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *hint = json_string_value(json_object_get(e, "hint"));
        json_int_t number = json_integer_value(json_object_get(e, "number"));
        if (!ok && j->state == TUI_JOB_RUNNING && number > 0 && number <= INT_MAX)
            j->code = (int)number;
        char *outcome = ok ? cel_xstrdup("ok")
                           : cel_xasprintf("%s%s%s", msg ? msg : "failed", hint ? " (HINT: " : "",
                                           hint ? hint : "");
        if (hint) {
            char *o2 = cel_xasprintf("%s)", outcome);
            free(outcome);
            outcome = o2;
        }
        log_add(j, cel_xasprintf("end: %s", outcome));
        finish(j, ok, outcome);
        free(outcome);
    } else {
        log_add(j, cel_xstrdup(line));
    }
    json_decref(o);
}

/* The runner hands a line longer than PROC_LINE_PIECE over in pieces (more
 * set until its last one): an event that long (a result holding a whole
 * catalogue, as list-backup or recover --window of a bucket with many
 * backups writes) is put together again before it is read. */
static void on_line(void *ctx, int stream, const char *line, size_t len, bool more)
{
    struct tui_job *j = ctx;
    if (stream != 1 || (!j->pending.len && !more)) {
        tui_job_feed(j, stream, line);
        return;
    }
    sb_appendn(&j->pending, line, len);
    if (more)
        return;
    tui_job_feed(j, 1, sb_str(&j->pending));
    sb_reset(&j->pending);
}

struct tui_job *tui_job_new(const char *title, const char *command, const char *server)
{
    struct tui_job *j = cel_xcalloc(1, sizeof *j);
    j->title = cel_xstrdup(title);
    j->command = cel_xstrdup(command);
    j->server = server ? cel_xstrdup(server) : NULL;
    j->started = tui_now();
    return j;
}

int tui_job_start(struct tui_job *j, const char *const argv[], struct cel_err *err)
{
    struct strbuf cmd = {0};
    for (size_t i = 0; argv[i]; i++)
        sb_appendf(&cmd, "%s%s", i ? " " : "", argv[i]);
    log_add(j, cel_xasprintf("$ %s", sb_str(&cmd)));
    sb_free(&cmd);
    struct proc_opts opts = {.out_mode = PROC_LINES,
                             .err_mode = PROC_LINES,
                             .on_line = on_line,
                             .ctx = j,
                             .kill_grace_ms = 3000};
    int rc = proc_start(argv, &opts, &j->proc, err);
    if (rc < 0) {
        j->proc = NULL;
        log_add(j, cel_xasprintf("error: %s", err->msg));
        finish(j, false, err->msg);
    }
    j->changes++;
    return rc;
}

int tui_job_start_batch(struct tui_job *j, const char *exe, const char *conf,
                        const char *const args[], struct cel_err *err)
{
    size_t n = 0;
    while (args[n])
        n++;
    const char **argv = cel_xcalloc(n + 7, sizeof *argv);
    size_t k = 0;
    argv[k++] = exe;
    argv[k++] = "--batch";
    argv[k++] = "--format";
    argv[k++] = "json";
    if (conf) {
        argv[k++] = "-c";
        argv[k++] = conf;
    }
    for (size_t i = 0; i < n; i++)
        argv[k++] = args[i];
    int rc = tui_job_start(j, argv, err);
    free(argv);
    return rc;
}

void tui_job_stop(struct tui_job *j)
{
    if (j->proc && j->state == TUI_JOB_RUNNING)
        proc_kill(j->proc, SIGTERM);
}

/* Reap j's ended child and settle its outcome. */
static void reap(struct tui_job *j)
{
    struct proc_result res = {0};
    struct cel_err err = {0};
    int rc = proc_finish(j->proc, &res, &err);
    j->proc = NULL;
    if (j->pending.len) { /* the child ended within a long line: what came of it */
        tui_job_feed(j, 1, sb_str(&j->pending));
        sb_reset(&j->pending);
    }
    if (j->state == TUI_JOB_RUNNING) {
        struct strbuf how = {0};
        if (rc < 0)
            sb_append(&how, err.msg);
        else
            proc_describe(&res, 0, &how);
        if (!j->end_seen)
            sb_append(&how, " without reporting an outcome");
        finish(j, false, sb_str(&how));
        log_add(j, cel_xasprintf("end: %s", sb_str(&how)));
        sb_free(&how);
    }
    proc_result_free(&res);
    j->changes++;
}

void tui_job_free(struct tui_job *j)
{
    if (!j)
        return;
    if (j->proc) {
        tui_job_stop(j);
        reap(j);
    }
    for (size_t i = 0; i < j->n_log; i++)
        free(j->log[i]);
    free(j->log);
    for (size_t i = 0; i < j->n_warnings; i++)
        free(j->warnings[i]);
    free(j->warnings);
    free(j->title);
    free(j->command);
    free(j->server);
    free(j->phase);
    free(j->current);
    free(j->outcome);
    free(j->result_command);
    json_decref(j->result);
    sb_free(&j->pending);
    free(j);
}

void tui_jobs_add(struct tui_jobs *js, struct tui_job *j)
{
    js->v = cel_xrealloc_array(js->v, js->n + 1, sizeof *js->v);
    js->v[js->n++] = j;
}

void tui_jobs_remove(struct tui_jobs *js, size_t i)
{
    tui_job_free(js->v[i]);
    memmove(&js->v[i], &js->v[i + 1], (js->n - i - 1) * sizeof *js->v);
    js->n--;
}

size_t tui_jobs_running(const struct tui_jobs *js)
{
    size_t n = 0;
    for (size_t i = 0; i < js->n; i++)
        n += js->v[i]->proc != NULL;
    return n;
}

bool tui_jobs_poll(struct tui_jobs *js, int timeout_ms)
{
    struct proc *procs[64];
    struct tui_job *owners[64];
    size_t n = 0;
    unsigned before = 0;
    for (size_t i = 0; i < js->n; i++) {
        before += js->v[i]->changes;
        if (js->v[i]->proc && n < CEL_ARRAY_LEN(procs)) {
            owners[n] = js->v[i];
            procs[n++] = js->v[i]->proc;
        }
    }
    if (!n)
        return false;
    proc_poll(procs, n, timeout_ms);
    for (size_t i = 0; i < n; i++)
        if (proc_done(procs[i]))
            reap(owners[i]);
    unsigned after = 0;
    for (size_t i = 0; i < js->n; i++)
        after += js->v[i]->changes;
    return after != before;
}

void tui_jobs_free(struct tui_jobs *js)
{
    for (size_t i = 0; i < js->n; i++)
        tui_job_free(js->v[i]);
    free(js->v);
    js->v = NULL;
    js->n = 0;
}
