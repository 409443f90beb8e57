/*
 * rsync_int.h - what the parts of the rsync runner share, and nothing
 * outside src/core/exec/rsync*.c includes: the job and its tasks, the
 * filters, and the functions one part offers another.
 *
 *   rsync.c           the runner: a copy's steps, its rsyncs started,
 *                     retried, stopped, and the destination synced
 *   rsync_list.c      the file list: the source listed (local walk or
 *                     remote listing), looked up, and split among workers
 *   rsync_filter.c    the include and exclude patterns, with rsync's rules
 *   rsync_progress.c  what the children print: progress and error lines
 *   rsync_remote.c    a command run on the ssh host
 */
#ifndef CEL_RSYNC_INT_H
#define CEL_RSYNC_INT_H

#include <time.h>

#include "proc.h"
#include "rsync.h"
#include "strbuf.h"
#include "ts.h"

#define ERR_LINES 3        /* rsync error lines kept for the message */
#define ERR_LINE_MAX 200   /* each truncated to this many bytes */
#define OUT_TAG "CEL "     /* start of our --out-format lines */

/* Seconds since start (ts_monotonic_ms). */
static inline double rsync_seconds_since(int64_t start)
{
    return (double)(ts_monotonic_ms() - start) / 1000.0;
}

/* Has the caller asked the copy to stop? */
static inline bool rsync_cancelled(const struct rsync_opts *o)
{
    return o->cancel && *o->cancel;
}

/* ---- filters (rsync_filter.c) ------------------------------------------- */

/* One include or exclude pattern, compiled. */
struct rule {
    char *pat; /* without the anchoring '/' and the directory-only '/' */
    bool include;
    bool anchored; /* leading '/': matched against the whole path */
    bool dir_only; /* trailing '/': matches directories only */
    bool dblstar;  /* contains "**": tried at every component boundary */
    int slashes;   /* '/' in pat: the path's last slashes+1 components are tried */
};

struct filters {
    struct rule *r;
    size_t n;
};

/* Compile the job's include and exclude patterns. */
void rsync_filters_build(struct filters *f, const struct rsync_opts *o);
void rsync_filters_free(struct filters *f);
/* Is the entry path (relative to the source) excluded? The first
 * matching rule decides; its parents are not looked at. */
bool rsync_filtered_out(const struct filters *f, const char *path, bool is_dir);
/* Is the entry or one of its parent directories excluded? (for a listing
 * that came from rsync, which may not have pruned as we do) */
bool rsync_filtered_out_path(const struct filters *f, char *path, bool is_dir);

/* ---- the job ------------------------------------------------------------ */

/* A regular file or symbolic link of the source. */
struct file {
    char *path; /* relative to the source */
    uint64_t size;
    time_t mtime;
    bool link;
    bool credited; /* counted in the progress */
};

enum task_kind {
    TASK_LIST,  /* rsync --list-only of a remote source */
    TASK_DIRS,  /* create the directories, set their modes and mtimes */
    TASK_FILES, /* copy a list of files */
    TASK_ONE,   /* rsync_copy_file */
};

struct job;

/* One rsync to run, maybe several times. */
struct task {
    struct job *job;
    enum task_kind kind;
    int id;        /* 1-based, in messages */
    size_t *files; /* TASK_FILES: indexes into job->files */
    size_t nfiles;
    bool check;         /* --ignore-times (files at or after safe_horizon) */
    struct strbuf list; /* NUL-separated names, fed on stdin */
    int attempts;       /* runs started */
    int64_t not_before; /* monotonic ms: a retry waits until then */
    struct proc *proc;  /* while running */
    bool done;
    /* Of the current attempt: */
    size_t vanished; /* vanished-file lines */
    size_t errors;   /* other error lines (not summaries) */
    char err_lines[ERR_LINES][ERR_LINE_MAX];
    size_t nerr_lines; /* lines kept so far (the last ERR_LINES) */
};

struct job {
    const struct rsync_opts *o;
    const char *src, *dst;   /* as the caller gave them */
    char *src_arg, *dst_arg; /* as rsync sees them (side_arg) */
    bool remote;             /* ssh_command set */
    char *reuse_abs;         /* absolute reuse_dir, or NULL */
    int bwlimit;             /* per rsync process, KB/s; 0: none */
    struct filters filters;
    struct file *files;
    size_t nfiles, files_cap;
    char **dirs; /* relative paths of the directories, "." first */
    size_t ndirs, dirs_cap;
    char *bad_line; /* first listing line that could not be parsed */
    uint64_t bytes_total, bytes_done, files_done, transferred;
    size_t vanished;
    int64_t copy_start;
    struct cel_err *err;
};

/* ---- the file list (rsync_list.c) --------------------------------------- */

void rsync_job_add_file(struct job *job, const char *path, uint64_t size, time_t mtime, bool link);
void rsync_job_add_dir(struct job *job, const char *path);
/* Forget what a listing found (before it is retried). */
void rsync_job_clear_list(struct job *job);
/* qsort order of job->files, which rsync_job_find needs. */
int rsync_file_cmp_path(const void *a, const void *b);
/* The listed file path, or NULL. */
struct file *rsync_job_find(struct job *job, const char *path);
/* Step 1: list the source into job (a remote one with a TASK_LIST rsync).
 * Returns 0 or a negative code with job->err set. */
int rsync_list_source(struct job *job);
/* A listing line of a remote source: parsed, filtered, recorded. */
void rsync_on_list_line(struct job *job, const char *line);
/* Decode rsync's \#ooo escapes (caller frees). */
char *rsync_unescape(const char *s);

/* ---- the children's output (rsync_progress.c) --------------------------- */

/* Send a progress report (current: the file just done). */
void rsync_report(struct job *job, const char *current);
/* A worker ended well: everything in its list is done, printed or not. */
void rsync_credit_task(struct job *job, const struct task *t);
/* Hand one of rsync's lines to the caller's on_log. */
void rsync_log_line(const struct job *job, const char *line);
/* The proc line callback of every task (ctx: the task). */
void rsync_on_line(void *ctx, int stream, const char *line, size_t len, bool more);

/* ---- the runner (rsync.c) ----------------------------------------------- */

/* Run n tasks, at most conc at once, retrying failures; 0 or a negative
 * code with job->err set. */
int rsync_tasks_run(struct job *job, struct task *tasks, size_t n, size_t conc);

#endif
