/*
 * job.h - operations the console runs as child processes (no curses).
 *
 * Each job is `cellar --batch --format json -c CONF COMMAND ARGS` started
 * with the process runner; its stdout lines are the JSON events of
 * src/batch.c ({"event": "phase"|"progress"|"log"|"result"|"end", ...}) and
 * drive the job's state; its stderr lines go to the job's log. The console
 * polls every job without blocking (tui_jobs_poll with timeout 0) from its
 * loop, so the screen never waits for work.
 */
#ifndef CEL_TUI_JOB_H
#define CEL_TUI_JOB_H

#include <jansson.h>

#include "proc.h"
#include "strbuf.h"

enum tui_job_state { TUI_JOB_RUNNING, TUI_JOB_OK, TUI_JOB_FAILED };

struct tui_job {
    char *title;   /* "backup pg" */
    char *command; /* "backup" */
    char *server;  /* the server concerned, NULL when none */
    struct proc *proc;
    enum tui_job_state state;
    double started, ended; /* monotonic seconds */
    char *phase;           /* text of the last phase event */
    bool has_progress;
    uint64_t bytes_done, bytes_total, files_done, files_total;
    double rate;
    char *current;
    char *outcome;   /* when finished: "ok" or the error message (and hint) */
    int code;        /* when FAILED: the child's error number (its end event's
                        error.number), CEL_E_PROC when it reported none */
    json_t *result;  /* data of the result events, NULL when none: a result
                        of the same command as the one before, both objects,
                        is merged into it (`check all` gives one result per
                        server, keyed by its name); any other replaces it */
    char *result_command;
    char **log;      /* every event as text and every stderr line */
    size_t n_log;
    char **warnings; /* the text of its log events at WARNING and above */
    size_t n_warnings;
    bool end_seen;
    bool auto_dismiss; /* remove when it ends ok (the check run at start) */
    /* the console's bookkeeping: what it has already applied to its model */
    unsigned seen_phases;
    bool seen_end;
    unsigned changes;  /* bumped whenever something visible changed */
    unsigned phases;   /* bumped on each phase event (the model may have changed) */
    struct strbuf pending; /* the pieces of a stdout line longer than PROC_LINE_PIECE
                              read so far (job.c, on_line) */
};

/* Feed one line of the child's output (stream 1: JSON events, 2: stderr). */
void tui_job_feed(struct tui_job *j, int stream, const char *line);
/* A job not started yet: title, command and server copied. */
struct tui_job *tui_job_new(const char *title, const char *command, const char *server);
/* Start argv for j (NULL-terminated); on failure j is FAILED with the error
 * as its outcome and -CEL_E_PROC is returned. Does not block. */
int tui_job_start(struct tui_job *j, const char *const argv[], struct cel_err *err);
/* Start `exe --batch --format json [-c conf] args...` (args NULL-terminated;
 * conf NULL: cellar's own search) for j, as tui_job_start. */
int tui_job_start_batch(struct tui_job *j, const char *exe, const char *conf,
                        const char *const args[], struct cel_err *err);
/* Ask a running job to stop (SIGTERM to its process group). */
void tui_job_stop(struct tui_job *j);
/* Free a job; a running one is stopped and reaped first (this blocks up
 * to the runner's kill grace). */
void tui_job_free(struct tui_job *j);

struct tui_jobs {
    struct tui_job **v;
    size_t n;
};
void tui_jobs_add(struct tui_jobs *js, struct tui_job *j);
/* Remove job i (freeing it). */
void tui_jobs_remove(struct tui_jobs *js, size_t i);
size_t tui_jobs_running(const struct tui_jobs *js);
/* Read what the running jobs wrote, waiting up to timeout_ms (0: not at
 * all); reap those that ended (their state becomes OK or FAILED). Returns
 * true when any job changed. */
bool tui_jobs_poll(struct tui_jobs *js, int timeout_ms);
void tui_jobs_free(struct tui_jobs *js);

/* Monotonic clock in seconds. */
double tui_now(void);

#endif
