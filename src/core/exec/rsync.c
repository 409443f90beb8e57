/*
 * rsync.c - parallel rsync copies of a directory tree, locally or over ssh.
 *
 * A copy runs in four steps, each with rsync started through proc.c from an
 * argv array (never a shell; the DBA's ssh_command is handed to rsync as the
 * value of -e, which rsync splits itself, and the remote side is written
 * ":path", the user@host being part of ssh_command, as Barman does).
 *
 * 1. Listing. A local source is walked with lstat: symbolic links are
 *    recorded as links, never followed (a tablespace link in pg_tblspc is
 *    copied as a link); sockets, fifos and devices are left out, as rsync
 *    -lpt would skip them. A remote source is listed with `rsync -r
 *    --list-only --no-human-readable -e SSH :src/` run with TZ=UTC0, so that
 *    the dates the local rsync prints are UTC; without -l the link lines
 *    carry no " -> target" and the name is the whole rest of the line.
 *    Names with unusual bytes come back as \#ooo escapes, decoded here.
 *
 * 2. Filters. Our own matcher applies the job's patterns with rsync's rules:
 *    the includes first, then the excludes, the first match deciding; a
 *    leading '/' anchors a pattern at the source root, a trailing '/' makes
 *    it match directories only, a pattern without '/' matches a name at any
 *    depth, one with '/' the last components of the path; '*' stops at '/',
 *    '**' does not, and "dir/" followed by three stars is "dir/" plus
 *    everything under it. An excluded directory is not descended into, so
 *    excluding "everything in /pg_wal/" keeps pg_wal (created empty) and
 *    leaves out all of its contents. The remote listing also gets the
 *    patterns (so rsync prunes excluded trees over the wire), and the
 *    result is filtered again here so both kinds of source agree. The file
 *    lists are authoritative: the copying workers get no filters.
 *
 * 3. Directories, then files. One rsync creates every listed directory
 *    (-d with --files-from; "." is listed so the root gets its mode and
 *    mtime, and a filter rule that excludes every non-directory plus the
 *    job's patterns keep the contents of "." that -d would add to the
 *    directories that are listed anyway), so empty directories exist in
 *    the copy. Then the regular files and links
 *    are split by size into `workers` lists (rsync_split) and copied by one
 *    rsync each, -lpt --files-from=- --from0, the list fed on stdin. With
 *    reuse, --link-dest/--copy-dest name the earlier copy by absolute path.
 *    Files whose mtime is at or after safe_horizon form separate lists run
 *    with --ignore-times, so size+mtime can never make rsync skip or link a
 *    file changed within the mtime granularity of the earlier copy; those
 *    lists wait for a free worker slot, so at most `workers` rsyncs run at
 *    once. After the files, the directory pass runs again: writing files
 *    changed the directories' mtimes, and the second pass puts them back.
 *
 *    The rsync options: -lpt (links as links, permissions, times) and
 *    nothing more: not owner and group, which belong to whoever runs the
 *    copy (Barman's -rLKpts does the same), not devices; no --inplace, so a
 *    file hard-linked from an earlier backup is never rewritten in place;
 *    no --delete, the destination is expected to be new. With ssh, -s keeps
 *    the remote shell from splitting our paths.
 *
 * 4. Durability. With a local destination, one syncfs(2) on the
 *    destination's file system flushes every file and directory written:
 *    one call instead of an fsync per file, which for tens of thousands of
 *    files is both much faster and no weaker (syncfs reports write-back
 *    errors since Linux 5.8). Remote destinations are not synced.
 *
 * Progress. Workers print one "CEL <itemize> <length> <name>" line per file
 * they transfer (--out-format); each line credits that file's listed size
 * once. Files rsync leaves alone (unchanged, hard-linked, vanished) print
 * nothing, so when a worker ends successfully every file of its list not
 * yet credited is credited. Progress is therefore monotonic and ends with
 * bytes_done == bytes_total. transferred_bytes sums the length of the files
 * whose data rsync sent (itemize '>' or '<' with type 'f'): the size of the
 * files copied, not reused; with the delta algorithm over ssh fewer bytes
 * may cross the wire.
 *
 * Scheduling and failures. Tasks (listing, directory pass, file lists) run
 * through one loop: start what is ready while fewer than `workers` run,
 * proc_poll() them 200 ms at a time, check *cancel between polls. Exit
 * status 0 and 24 (files vanished) are success; so is 23 when every error
 * line rsync printed is about a vanished file (a relation dropped between
 * the listing and the copy), as Barman decides. Vanished-file lines go to
 * on_log. Any other failure puts the task back with a not-before time
 * retry_sleep seconds ahead (the others keep running; cancel is checked
 * while waiting), up to retry_times times; then the other workers get
 * SIGTERM and the copy fails naming the exit status and rsync's last error
 * lines.
 *
 * The parts: rsync_list.c (step 1 and the split), rsync_filter.c (step 2),
 * rsync_progress.c (progress and error lines), rsync_remote.c (commands on
 * the ssh host); rsync_int.h is what they share.
 */
#define _GNU_SOURCE /* syncfs */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "rsync_int.h"
#include "storage.h"

#define POLL_MS 200        /* longest wait between two looks at *cancel */
#define STOP_GRACE_MS 5000 /* SIGTERM to SIGKILL when workers are stopped */

/* ---- small helpers ------------------------------------------------------- */

/* A growing NULL-terminated argv whose strings it owns. */
struct args {
    char **v;
    size_t n, cap;
};

static void args_take(struct args *a, char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = cel_xrealloc_array(a->v, a->cap, sizeof *a->v);
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void args_add(struct args *a, const char *s)
{
    args_take(a, cel_xstrdup(s));
}

static void args_addf(struct args *a, const char *fmt, ...) CEL_PRINTF(2, 3);
static void args_addf(struct args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    args_take(a, cel_xvasprintf(fmt, ap));
    va_end(ap);
}

static void args_free(struct args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* argv as proc_start wants it (const strings). */
static const char *const *args_argv(const struct args *a)
{
    union {
        char **m;
        const char *const *c;
    } u = {.m = a->v};
    return u.c;
}

/* The patterns as rsync options, includes first. */
static void args_filters(struct args *a, const struct rsync_opts *o)
{
    for (const char *const *p = o->include; p && *p; p++)
        args_addf(a, "--include=%s", *p);
    for (const char *const *p = o->exclude; p && *p; p++)
        args_addf(a, "--exclude=%s", *p);
}

/* The way rsync must see one side of the copy: ":path" on the ssh host, a
 * local path made unambiguous otherwise ("./" in front of a relative path,
 * so a name with ':' is not taken for host:path nor one with a leading '-'
 * for an option). dir adds the trailing '/' that means "the contents". */
static char *side_arg(const char *path, bool remote, bool dir)
{
    const char *slash = dir && !cel_str_ends(path, "/") ? "/" : "";
    if (remote)
        return cel_xasprintf(":%s%s", path, slash);
    return cel_xasprintf("%s%s%s", path[0] == '/' ? "" : "./", path, slash);
}

/* path made absolute against the current directory (rsync takes a relative
 * --link-dest relative to the destination, never what the caller meant). */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return cel_xstrdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return cel_xstrdup(path);
    return cel_xasprintf("%s/%s", cwd, path);
}

/* ---- the job ------------------------------------------------------------- */

static void job_free(struct job *job)
{
    rsync_job_clear_list(job);
    free(job->files);
    free(job->dirs);
    free(job->src_arg);
    free(job->dst_arg);
    free(job->reuse_abs);
    rsync_filters_free(&job->filters);
}

/* ---- one rsync ----------------------------------------------------------- */

/* The options every rsync of the job gets. -s (protect/secluded args) keeps
 * the remote shell from splitting or expanding our paths. */
static void args_common(struct args *a, const struct job *job)
{
    args_add(a, "rsync");
    if (job->remote) {
        args_add(a, "-e");
        args_add(a, job->o->ssh_command);
        args_add(a, "-s");
    }
    if (job->o->compress)
        args_add(a, "-z");
    if (job->bwlimit > 0)
        args_addf(a, "--bwlimit=%d", job->bwlimit);
}

static void task_argv(const struct task *t, struct args *a)
{
    const struct job *job = t->job;
    args_common(a, job);
    switch (t->kind) {
    case TASK_LIST:
        args_add(a, "-r");
        args_add(a, "--list-only");
        args_add(a, "--no-human-readable");
        args_filters(a, job->o);
        args_add(a, "--");
        args_add(a, job->src_arg);
        return;
    case TASK_DIRS:
        /* -d with "." in the list would also bring the files at the top:
         * the first rule leaves out every non-directory, the patterns the
         * directories we left out. */
        args_add(a, "-dpt");
        args_add(a, "--files-from=-");
        args_add(a, "--from0");
        args_add(a, "--filter=-! */");
        args_filters(a, job->o);
        break;
    case TASK_FILES:
        args_add(a, "-lpt");
        args_add(a, "--files-from=-");
        args_add(a, "--from0");
        args_add(a, "--out-format=" OUT_TAG "%i %l %n");
        if (job->reuse_abs)
            args_addf(a, "--%s-dest=%s", job->o->reuse == RSYNC_REUSE_LINK ? "link" : "copy",
                      job->reuse_abs);
        if (t->check)
            args_add(a, "--ignore-times");
        break;
    case TASK_ONE:
        /* one named file (pg_control, a configuration file): a link is
         * followed, as Barman's -L does, or the copy would hold a link to
         * the server's file */
        args_add(a, "-Lpt");
        break;
    }
    args_add(a, "--");
    args_add(a, job->src_arg);
    args_add(a, job->dst_arg);
}

static int task_start(struct task *t, struct cel_err *err)
{
    struct job *job = t->job;
    struct args a = {0};
    static const char *const tz_utc[] = {"TZ=UTC0", NULL};
    task_argv(t, &a);
    if (t->kind == TASK_LIST)
        rsync_job_clear_list(job);
    t->vanished = t->errors = t->nerr_lines = 0;
    t->attempts++;
    struct proc_opts po = {
        .env = t->kind == TASK_LIST ? tz_utc : NULL,
        .path_prefix = job->o->path_prefix,
        .stdin_data = t->list.len ? t->list.buf : NULL,
        .stdin_len = t->list.len,
        .out_mode = t->kind == TASK_LIST || t->kind == TASK_FILES ? PROC_LINES : PROC_DISCARD,
        .err_mode = PROC_LINES,
        .on_line = rsync_on_line,
        .ctx = t,
    };
    int rc = proc_start(args_argv(&a), &po, &t->proc, err);
    args_free(&a);
    return rc;
}

/* Whether an ended attempt counts as success (see the top of the file). */
static bool attempt_ok(const struct task *t, const struct proc_result *res)
{
    if (res->status == 0 || res->status == 24)
        return true;
    bool tolerant = t->kind == TASK_FILES || t->kind == TASK_DIRS;
    return tolerant && res->status == 23 && t->errors == 0 && t->vanished > 0;
}

/* "worker 2", "listing", "directory pass", "copy": the task in messages. */
static void task_name(const struct task *t, struct strbuf *sb)
{
    switch (t->kind) {
    case TASK_LIST:
        sb_append(sb, "listing");
        return;
    case TASK_DIRS:
        sb_append(sb, "directory pass");
        return;
    case TASK_FILES:
        sb_appendf(sb, "worker %d", t->id);
        return;
    case TASK_ONE:
        sb_append(sb, "copy");
        return;
    }
}

/* Collect an ended attempt: done, retried later, or the job's error. */
static int task_end(struct task *t, struct cel_err *err)
{
    struct job *job = t->job;
    struct proc_result res;
    proc_finish(t->proc, &res, NULL); /* no time-out is set: it cannot fail */
    t->proc = NULL;
    if (attempt_ok(t, &res)) {
        proc_result_free(&res);
        if (t->kind == TASK_LIST && job->bad_line)
            return cel_err_set(err, CEL_E_FORMAT,
                               "cannot parse the listing of '%s': unexpected line '%.300s'",
                               job->src_arg, job->bad_line);
        t->done = true;
        /* a file gone before the listing saw it is not missing from the copy */
        if (t->kind != TASK_LIST)
            job->vanished += t->vanished;
        if (t->kind == TASK_FILES)
            rsync_credit_task(job, t);
        return 0;
    }

    struct strbuf how = {0};
    task_name(t, &how);
    sb_append(&how, " ");
    proc_describe(&res, 0, &how);
    proc_result_free(&res);
    int rc = 0;
    if (t->attempts <= job->o->retry_times) {
        char *msg = cel_xasprintf("rsync %s; retrying in %d s (retry %d of %d)", sb_str(&how),
                                  job->o->retry_sleep, t->attempts, job->o->retry_times);
        rsync_log_line(job, msg);
        free(msg);
        t->not_before = ts_monotonic_ms() + (int64_t)job->o->retry_sleep * 1000;
    } else {
        if (t->attempts > 1)
            sb_appendf(&how, " after %d attempts", t->attempts);
        for (size_t i = 0; i < t->nerr_lines; i++)
            sb_appendf(&how, "%s%s", i ? " / " : ": ", t->err_lines[i]);
        if (t->kind == TASK_LIST)
            rc = cel_err_set(err, CEL_E_PROC, "cannot list '%s': rsync %s", job->src_arg,
                             sb_str(&how));
        else
            rc = cel_err_set(err, CEL_E_PROC, "cannot copy '%s' to '%s': rsync %s", job->src_arg,
                             job->dst_arg, sb_str(&how));
    }
    sb_free(&how);
    return rc;
}

/* Stop every running task and reap it: SIGTERM to its process group (rsync
 * and the ssh it started), SIGKILL for what is still there STOP_GRACE_MS
 * later, so a hung ssh cannot hold the caller. */
static void tasks_stop(struct task *tasks, size_t n)
{
    struct proc **procs = cel_xcalloc(n ? n : 1, sizeof *procs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (tasks[i].proc) {
            proc_kill(tasks[i].proc, SIGTERM);
            procs[k++] = tasks[i].proc;
            tasks[i].proc = NULL;
        }
    int64_t kill_at = ts_monotonic_ms() + STOP_GRACE_MS;
    bool killed = false;
    while (k > 0 && proc_poll(procs, k, POLL_MS) < k) {
        if (!killed && ts_monotonic_ms() >= kill_at) {
            for (size_t i = 0; i < k; i++)
                if (!proc_done(procs[i]))
                    proc_kill(procs[i], SIGKILL);
            killed = true;
        }
    }
    for (size_t i = 0; i < k; i++)
        proc_finish(procs[i], NULL, NULL);
    free(procs);
}

/* Start what may start: ready tasks, in order, while fewer than conc run.
 * Returns how many run, or a negative error. */
static int tasks_start_ready(struct task *tasks, size_t n, size_t conc, struct cel_err *err)
{
    size_t running = 0;
    int64_t now = ts_monotonic_ms();
    for (size_t i = 0; i < n; i++)
        running += tasks[i].proc != NULL;
    for (size_t i = 0; i < n && running < conc; i++) {
        struct task *t = &tasks[i];
        if (t->done || t->proc || t->not_before > now)
            continue;
        int rc = task_start(t, err);
        if (rc < 0)
            return rc;
        running++;
    }
    return (int)running;
}

/* Milliseconds until the next retry may start (POLL_MS at most). */
static int next_wait(const struct task *tasks, size_t n)
{
    int64_t now = ts_monotonic_ms(), wait = POLL_MS;
    for (size_t i = 0; i < n; i++)
        if (!tasks[i].done && !tasks[i].proc && tasks[i].not_before - now < wait)
            wait = tasks[i].not_before - now;
    return wait < 1 ? 1 : (int)wait;
}

/* Run the tasks, at most conc at once, to the end; see the top of the file. */
int rsync_tasks_run(struct job *job, struct task *tasks, size_t n, size_t conc)
{
    struct proc **procs = cel_xcalloc(n ? n : 1, sizeof *procs);
    struct task **owner = cel_xcalloc(n ? n : 1, sizeof *owner);
    int rc = 0;
    for (;;) {
        if (rsync_cancelled(job->o)) {
            rc = cel_err_set(job->err, CEL_E_PROC, "cancelled");
            break;
        }
        int running = tasks_start_ready(tasks, n, conc, job->err);
        if (running < 0) {
            rc = running;
            break;
        }
        size_t left = 0, k = 0;
        for (size_t i = 0; i < n; i++) {
            left += !tasks[i].done;
            if (tasks[i].proc) {
                procs[k] = tasks[i].proc;
                owner[k++] = &tasks[i];
            }
        }
        if (left == 0)
            break;
        if (k == 0) { /* only retries waiting for their time */
            poll(NULL, 0, next_wait(tasks, n));
            continue;
        }
        proc_poll(procs, k, POLL_MS);
        for (size_t i = 0; i < k && rc == 0; i++)
            if (proc_done(owner[i]->proc))
                rc = task_end(owner[i], job->err);
        if (rc < 0)
            break;
    }
    tasks_stop(tasks, n);
    free(owner);
    free(procs);
    return rc;
}

static void tasks_free(struct task *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(tasks[i].files);
        sb_free(&tasks[i].list);
    }
    free(tasks);
}

/* ---- the copy ------------------------------------------------------------ */

static void list_append(struct strbuf *list, const char *name)
{
    sb_appendn(list, name, strlen(name) + 1); /* with its NUL: --from0 */
}

/* The directory pass: every listed directory, "." first. */
static int copy_dirs(struct job *job)
{
    struct task t = {.job = job, .kind = TASK_DIRS, .id = 1};
    for (size_t i = 0; i < job->ndirs; i++)
        list_append(&t.list, job->dirs[i]);
    int rc = rsync_tasks_run(job, &t, 1, 1);
    sb_free(&t.list);
    return rc;
}

/* Split the indexes idx[0..n) into up to `workers` balanced lists, appended
 * to *tasks as TASK_FILES tasks. */
static void add_file_tasks(struct job *job, const size_t *idx, size_t n, int workers, bool check,
                           struct task **tasks, size_t *ntasks)
{
    if (n == 0)
        return;
    uint64_t *sizes = cel_xcalloc(n, sizeof *sizes);
    int *group = cel_xcalloc(n, sizeof *group);
    for (size_t i = 0; i < n; i++)
        sizes[i] = job->files[idx[i]].size;
    size_t k = (size_t)rsync_split(sizes, n, workers, group);
    *tasks = cel_xrealloc_array(*tasks, *ntasks + k, sizeof **tasks);
    struct task *base = *tasks + *ntasks;
    for (size_t g = 0; g < k; g++)
        base[g] = (struct task){.job = job,
                                .kind = TASK_FILES,
                                .id = (int)(*ntasks + g + 1),
                                .check = check,
                                .files = cel_xcalloc(n, sizeof(size_t))};
    for (size_t i = 0; i < n; i++) {
        struct task *t = &base[group[i]];
        t->files[t->nfiles++] = idx[i];
        list_append(&t->list, job->files[idx[i]].path);
    }
    *ntasks += k;
    free(group);
    free(sizes);
}

/* Copy the files: lists balanced by size, the safe ones and the ones to
 * check in full (mtime at or after safe_horizon) apart. */
static int copy_files(struct job *job, int workers)
{
    size_t *safe = cel_xcalloc(job->nfiles + 1, sizeof *safe);
    size_t *check = cel_xcalloc(job->nfiles + 1, sizeof *check);
    size_t nsafe = 0, ncheck = 0, ntasks = 0;
    struct task *tasks = NULL;
    for (size_t i = 0; i < job->nfiles; i++) {
        const struct file *f = &job->files[i];
        if (job->o->safe_horizon && !f->link && f->mtime >= job->o->safe_horizon)
            check[ncheck++] = i;
        else
            safe[nsafe++] = i;
    }
    add_file_tasks(job, safe, nsafe, workers, false, &tasks, &ntasks);
    add_file_tasks(job, check, ncheck, workers, true, &tasks, &ntasks);
    int rc = rsync_tasks_run(job, tasks, ntasks, (size_t)workers);
    tasks_free(tasks, ntasks);
    free(check);
    free(safe);
    return rc;
}

/* Make the destination directory exist (the directory pass creates only
 * the last component). */
static int make_dest(struct job *job)
{
    if (!job->o->remote_is_dest || !job->remote)
        return stor_mkdir_p(job->dst, 0700, job->err);
    const char *const argv[] = {"mkdir", "-p", "--", job->dst, NULL};
    return rsync_remote_run(job->o->ssh_command, job->o->path_prefix, argv, NULL, job->err);
}

/* One syncfs on the destination's file system: see the top of the file. */
static int sync_dest(const char *dst, struct cel_err *err)
{
    int fd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open directory '%s'", dst);
    int rc = 0;
    if (syncfs(fd) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot sync the file system of '%s'", dst);
    close(fd);
    return rc;
}

static const struct rsync_opts default_opts;

/* Set up what every copy needs. */
static void job_init(struct job *job, const char *src, const char *dst, const struct rsync_opts *o,
                     bool dirs, struct cel_err *err)
{
    memset(job, 0, sizeof *job);
    job->o = o;
    job->src = src;
    job->dst = dst;
    job->err = err;
    job->remote = o->ssh_command && o->ssh_command[0];
    job->src_arg = side_arg(src, job->remote && !o->remote_is_dest, dirs);
    job->dst_arg = side_arg(dst, job->remote && o->remote_is_dest, dirs);
    if (o->reuse != RSYNC_REUSE_OFF && o->reuse_dir && o->reuse_dir[0])
        job->reuse_abs = absolute(o->reuse_dir);
    rsync_filters_build(&job->filters, o);
    job->copy_start = ts_monotonic_ms();
}

/* bwlimit is for the whole job: each of the concurrent rsyncs gets its share. */
static int share_bwlimit(int total, int workers)
{
    if (total <= 0)
        return 0;
    int each = total / (workers > 0 ? workers : 1);
    return each < 1 ? 1 : each;
}

int rsync_copy(const char *src, const char *dst, const struct rsync_opts *opts,
               struct rsync_stats *stats, struct cel_err *err)
{
    const struct rsync_opts *o = opts ? opts : &default_opts;
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!src || !dst || !src[0] || !dst[0])
        return cel_err_set(err, CEL_E_INTERNAL,
                           "invalid call to rsync_copy: no source or "
                           "destination");
    if (rsync_cancelled(o))
        return cel_err_set(err, CEL_E_PROC, "cancelled");

    struct job job;
    job_init(&job, src, dst, o, true, err);
    int64_t t0 = ts_monotonic_ms();
    int rc = rsync_list_source(&job);
    if (rc < 0)
        goto out;
    if (job.nfiles > 0) /* files is NULL then, which qsort must not get */
        qsort(job.files, job.nfiles, sizeof *job.files, rsync_file_cmp_path);
    for (size_t i = 0; i < job.nfiles; i++)
        job.bytes_total += job.files[i].size;
    int workers = o->workers > 0 ? o->workers : 1;
    if ((size_t)workers > job.nfiles)
        workers = (int)job.nfiles;
    job.bwlimit = share_bwlimit(o->bwlimit_kbps, workers);
    double analysis = rsync_seconds_since(t0);

    int64_t t1 = ts_monotonic_ms();
    job.copy_start = t1;
    rsync_report(&job, NULL);
    rc = make_dest(&job);
    if (rc == 0)
        rc = copy_dirs(&job);
    if (rc == 0 && job.nfiles > 0)
        rc = copy_files(&job, workers);
    if (rc == 0)
        rc = copy_dirs(&job); /* the files changed the directories' mtimes */
    if (rc == 0 && !(job.remote && o->remote_is_dest))
        rc = sync_dest(dst, err);
    if (rc == 0 && stats) {
        *stats = (struct rsync_stats){
            .files = job.nfiles,
            .bytes = job.bytes_total,
            .transferred_bytes = job.transferred,
            .vanished = job.vanished,
            .analysis_seconds = analysis,
            .copy_seconds = rsync_seconds_since(t1),
            .workers = workers,
        };
    }
out:
    job_free(&job);
    return rc;
}

/* fsync a local file just copied, and its directory. */
static int sync_file(const char *path, struct cel_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ELOOP)
        return stor_fsync_parent(path, err); /* a link: nothing to sync in it */
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", path);
    int rc = 0;
    if (fsync(fd) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", path);
    close(fd);
    return rc < 0 ? rc : stor_fsync_parent(path, err);
}

int rsync_copy_file(const char *src, const char *dst, const struct rsync_opts *opts,
                    struct cel_err *err)
{
    const struct rsync_opts *o = opts ? opts : &default_opts;
    if (!src || !dst || !src[0] || !dst[0])
        return cel_err_set(err, CEL_E_INTERNAL,
                           "invalid call to rsync_copy_file: no source or "
                           "destination");
    if (rsync_cancelled(o))
        return cel_err_set(err, CEL_E_PROC, "cancelled");
    struct job job;
    job_init(&job, src, dst, o, false, err);
    job.bwlimit = share_bwlimit(o->bwlimit_kbps, 1);
    struct task t = {.job = &job, .kind = TASK_ONE, .id = 1};
    int rc = rsync_tasks_run(&job, &t, 1, 1);
    if (rc == 0 && !(job.remote && o->remote_is_dest))
        rc = sync_file(dst, err);
    job_free(&job);
    return rc;
}
