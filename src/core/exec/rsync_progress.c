/*
 * rsync_progress.c - what the copying rsyncs print, read line by line:
 * progress lines credit their files, error lines are kept for the message,
 * vanished-file lines go to the caller's log.
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
 */
#include "rsync_int.h"

void rsync_report(struct job *job, const char *current)
{
    if (!job->o->on_progress)
        return;
    double secs = rsync_seconds_since(job->copy_start);
    struct rsync_progress p = {
        .bytes_done = job->bytes_done,
        .bytes_total = job->bytes_total,
        .files_done = job->files_done,
        .files_total = job->nfiles,
        .rate = secs > 0 ? (double)job->bytes_done / secs : 0,
        .current = current,
    };
    job->o->on_progress(job->o->ctx, &p);
}

static bool credit(struct job *job, struct file *f)
{
    if (f->credited)
        return false;
    f->credited = true;
    job->files_done++;
    job->bytes_done += f->size;
    return true;
}

/* A worker ended well: everything in its list is done, printed or not. */
void rsync_credit_task(struct job *job, const struct task *t)
{
    const char *last = NULL;
    for (size_t i = 0; i < t->nfiles; i++)
        if (credit(job, &job->files[t->files[i]]))
            last = job->files[t->files[i]].path;
    if (last)
        rsync_report(job, last);
}

void rsync_log_line(const struct job *job, const char *line)
{
    if (job->o->on_log)
        job->o->on_log(job->o->ctx, line);
}

/* "CEL <itemize> <length> <name>" from a worker: credit that file. */
static void on_files_line(struct job *job, const char *line)
{
    if (!cel_str_starts(line, OUT_TAG))
        return; /* "created directory ...", "skipping ...": not ours */
    const char *item = line + strlen(OUT_TAG);
    const char *sp = strchr(item, ' ');
    if (!sp)
        return;
    char *end;
    unsigned long long len = strtoull(sp + 1, &end, 10);
    if (end == sp + 1 || *end != ' ')
        return;
    char *name = rsync_unescape(end + 1);
    struct file *f = rsync_job_find(job, name);
    if (f) {
        if ((item[0] == '>' || item[0] == '<') && item[1] == 'f')
            job->transferred += len;
        if (credit(job, f))
            rsync_report(job, f->path);
    }
    free(name);
}

/* rsync's messages about a file that disappeared under it: normal while
 * PostgreSQL runs (Barman's VANISHED_RE). */
static bool vanished_line(const char *line)
{
    if (cel_str_starts(line, "file has vanished: ") ||
        (cel_str_starts(line, "rsync: ") && strstr(line, "file has vanished: ")))
        return true;
    if (cel_str_starts(line, "rsync: ") && strstr(line, "link_stat \"") &&
        cel_str_ends(line, "failed: No such file or directory (2)"))
        return true;
    return cel_str_starts(line, "rsync: ") && strstr(line, "read errors mapping \"") &&
           cel_str_ends(line, "No data available (61)");
}

static void on_err_line(struct task *t, const char *line)
{
    if (!*line)
        return;
    if (vanished_line(line)) {
        t->vanished++;
        rsync_log_line(t->job, line);
        return;
    }
    /* The closing "rsync error: ... (code 23)" is not an error of its own. */
    if (!cel_str_starts(line, "rsync error: ") && !cel_str_starts(line, "rsync warning: "))
        t->errors++;
    if (t->nerr_lines == ERR_LINES) {
        memmove(t->err_lines[0], t->err_lines[1], sizeof t->err_lines[0] * (ERR_LINES - 1));
        t->nerr_lines--;
    }
    cel_strlcpy(t->err_lines[t->nerr_lines++], line, ERR_LINE_MAX);
}

void rsync_on_line(void *ctx, int stream, const char *line, size_t len, bool more)
{
    struct task *t = ctx;
    (void)len;
    (void)more; /* rsync's lines (paths, stats, errors) are far shorter than a piece */
    if (stream == 2)
        on_err_line(t, line);
    else if (t->kind == TASK_LIST)
        rsync_on_list_line(t->job, line);
    else if (t->kind == TASK_FILES)
        on_files_line(t->job, line);
}
