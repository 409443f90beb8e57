/*
 * server_processes.c - the processes working on a server, found by the
 * locks they hold (Barman 3.14's list-processes and terminate-process),
 * and the lock directory's cleanup (Barman 3.10's lock-directory-cleanup,
 * also run by cron when lock_directory_cleanup is on).
 *
 * A task's process is the holder of the server's lock for it
 * (".<server>-<task>.lock", the PID in the file), whether cellar or Barman
 * took it: the two share the files.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "lock.h"
#include "ops.h"
#include "server.h"
#include "server_select.h"

/* The tasks Barman's ProcessManager knows that run under a lock of this
 * name; cellar takes the first four. */
static const char *const tasks[] = {"receive-wal", "backup", "cron", "archive-wal", "sync-wal"};

static bool known_task(const char *task)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(tasks); i++)
        if (strcmp(tasks[i], task) == 0)
            return true;
    return false;
}

int op_server_task_stop(const struct op_ctx *ctx, const struct cfg_server *s, const char *task,
                        bool must_exist, pid_t *stopped, struct cel_err *err)
{
    if (stopped)
        *stopped = 0;
    pid_t pid = 0;
    int held = op_server_lock_probe(ctx, s, task, &pid, err);
    if (held < 0)
        return held;
    if (held == 0 || pid <= 0) {
        if (!must_exist)
            return 0;
        return cel_err_set(err, CEL_E_NOT_FOUND,
                           "Termination of %s failed: no such process for server %s", task,
                           s->name);
    }
    /* SIGINT, as Barman sends: a receiver passes it on to pg_receivewal,
     * which flushes and ends; a backup marks itself FAILED */
    if (kill(pid, SIGINT) < 0 && errno != ESRCH)
        return cel_err_sys(err, CEL_E_IO, errno, "Cannot terminate process %s(%ld)", task,
                           (long)pid);
    pid_t now = 0;
    for (int i = 0; i < 100; i++) {
        if (kill(pid, 0) < 0 && errno == ESRCH)
            break;
        if (op_server_lock_probe(ctx, s, task, &now, NULL) == 0)
            break;
        struct timespec pause = {0, 100 * 1000000L};
        nanosleep(&pause, NULL);
    }
    if (op_server_lock_probe(ctx, s, task, &now, NULL) == 1 && now == pid)
        return cel_err_set(err, CEL_E_TIMEOUT, "Cannot terminate process %s(%ld)", task,
                           (long)pid);
    if (stopped)
        *stopped = pid;
    op_log(ctx, LOG_INFO, s->name, "Stopped process %s(%ld)", task, (long)pid);
    return 0;
}

/* ---- list-processes ---------------------------------------------------------- */

struct proc_row {
    long pid;
    const char *task;
};

struct list_model {
    const char *server;
    struct proc_row rows[CEL_ARRAY_LEN(tasks)];
    size_t n;
};

static void list_text(const void *p, struct strbuf *out)
{
    const struct list_model *m = p;
    if (!m->n) {
        sb_appendf(out, "No active subprocesses found for server %s.\n", m->server);
        return;
    }
    sb_appendf(out, "Active subprocesses for server %s:\n", m->server);
    for (size_t i = 0; i < m->n; i++)
        sb_appendf(out, "%ld %s\n", m->rows[i].pid, m->rows[i].task);
}

/* Barman's JSON: {"SERVER": [{"pid": N, "name": TASK}, ...]} */
static json_t *list_json(const void *p)
{
    const struct list_model *m = p;
    json_t *list = json_array();
    for (size_t i = 0; i < m->n; i++)
        json_array_append_new(list, json_pack("{s:I, s:s}", "pid", (json_int_t)m->rows[i].pid,
                                              "name", m->rows[i].task));
    return json_pack("{s:o}", m->server, list);
}

int op_list_processes(const struct op_ctx *ctx, const char *server, struct cel_err *err)
{
    const struct cfg_server *s;
    int rc = op_one_server(ctx, server, "list-processes", &s, err);
    if (rc < 0)
        return rc;
    struct list_model m = {.server = s->name};
    for (size_t i = 0; rc == 0 && i < CEL_ARRAY_LEN(tasks); i++) {
        pid_t pid = 0;
        int held = op_server_lock_probe(ctx, s, tasks[i], &pid, err);
        if (held < 0)
            rc = held;
        else if (held && pid > 0)
            m.rows[m.n++] = (struct proc_row){(long)pid, tasks[i]};
    }
    if (rc == 0) {
        struct op_result r = {"list-processes", &m, list_text, list_json};
        op_result(ctx, &r);
    }
    return rc;
}

/* ---- terminate-process ------------------------------------------------------- */

struct stop_model {
    const char *server, *task;
    long pid;
};

static void stop_text(const void *p, struct strbuf *out)
{
    const struct stop_model *m = p;
    sb_appendf(out, "Stopped process %s(%ld)\n", m->task, m->pid);
}

static json_t *stop_json(const void *p)
{
    const struct stop_model *m = p;
    return json_pack("{s:s, s:s, s:I}", "server", m->server, "task", m->task, "pid",
                     (json_int_t)m->pid);
}

int op_terminate_process(const struct op_ctx *ctx, const char *server, const char *task,
                         struct cel_err *err)
{
    const struct cfg_server *s;
    int rc = op_one_server(ctx, server, "terminate-process", &s, err);
    if (rc < 0)
        return rc;
    if (!known_task(task)) {
        rc = cel_err_set(err, CEL_E_USAGE, "terminate-process: unknown task '%s'", task);
        cel_err_hint(err, "The tasks are receive-wal, backup, cron, archive-wal and sync-wal "
                          "(cellar list-processes %s shows the running ones).",
                     s->name);
        return rc;
    }
    pid_t pid = 0;
    rc = op_server_task_stop(ctx, s, task, true, &pid, err);
    if (rc == 0) {
        struct stop_model m = {s->name, task, (long)pid};
        struct op_result r = {"terminate-process", &m, stop_text, stop_json};
        op_result(ctx, &r);
    }
    return rc;
}

/* ---- lock-directory-cleanup --------------------------------------------------- */

struct cleanup_model {
    const char *dir;
    size_t removed;
};

static void cleanup_text(const void *p, struct strbuf *out)
{
    const struct cleanup_model *m = p;
    sb_appendf(out, "Removed %zu unused lock file%s from %s\n", m->removed,
               m->removed == 1 ? "" : "s", m->dir);
}

static json_t *cleanup_json(const void *p)
{
    const struct cleanup_model *m = p;
    return json_pack("{s:s, s:I}", "lock_directory", m->dir, "removed", (json_int_t)m->removed);
}

int op_lock_directory_cleanup(const struct op_ctx *ctx, bool report, size_t *removed,
                              struct cel_err *err)
{
    struct cleanup_model m = {.dir = ctx->cfg->global.barman_lock_directory};
    int rc = lock_cleanup(m.dir, &m.removed, err);
    if (removed)
        *removed = m.removed;
    if (rc == 0 && report) {
        struct op_result r = {"lock-directory-cleanup", &m, cleanup_text, cleanup_json};
        op_result(ctx, &r);
    }
    return rc;
}
