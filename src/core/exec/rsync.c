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
 * Remote commands (rsync_remote_run) are the one place a command line is
 * built for a shell: the remote one. Each argument is single-quoted, and
 * the quoted line reaches ssh in an environment variable, so the local
 * shell only ever parses the DBA's ssh_command.
 */
#define _GNU_SOURCE /* syncfs, timegm */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "rsync.h"
#include "storage.h"
#include "strbuf.h"
#include "ts.h"

#define POLL_MS 200        /* longest wait between two looks at *cancel */
#define ERR_LINES 3        /* rsync error lines kept for the message */
#define ERR_LINE_MAX 200   /* each truncated to this many bytes */
#define OUT_TAG "CEL "     /* start of our --out-format lines */
#define STOP_GRACE_MS 5000 /* SIGTERM to SIGKILL when workers are stopped */

/* ---- small helpers ------------------------------------------------------- */

static double seconds_since(int64_t start)
{
    return (double)(ts_monotonic_ms() - start) / 1000.0;
}

static bool cancelled(const struct rsync_opts *o)
{
    return o->cancel && *o->cancel;
}

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

/* Decode rsync's \#ooo escapes (how it prints bytes it deems unprintable). */
static char *unescape(const char *s)
{
    struct strbuf sb = {0};
    sb_append(&sb, ""); /* a result even for "" */
    while (*s) {
        if (s[0] == '\\' && s[1] == '#' && s[2] >= '0' && s[2] <= '3' && s[3] >= '0' &&
            s[3] <= '7' && s[4] >= '0' && s[4] <= '7') {
            sb_appendc(&sb, (char)((s[2] - '0') * 64 + (s[3] - '0') * 8 + (s[4] - '0')));
            s += 5;
        } else {
            sb_appendc(&sb, *s++);
        }
    }
    return sb_detach(&sb);
}

/* ---- filters ------------------------------------------------------------- */

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

static void filters_add(struct filters *f, const char *pattern, bool include)
{
    size_t len = strlen(pattern);
    if (len == 0)
        return;
    /* "dir/" and three stars is "dir/" and "dir/" with two stars at once
     * (rsync's shorthand). */
    if (len > 4 && cel_str_ends(pattern, "/***")) {
        char *dir = cel_xstrndup(pattern, len - 3);
        filters_add(f, dir, include);
        free(dir);
    }
    struct rule r = {.include = include};
    const char *p = pattern;
    if (*p == '/') {
        r.anchored = true;
        p++;
        len--;
    }
    if (len > 0 && p[len - 1] == '/') {
        r.dir_only = true;
        len--;
    }
    r.pat = cel_xstrndup(p, len);
    r.dblstar = strstr(r.pat, "**") != NULL;
    for (const char *c = r.pat; *c; c++)
        r.slashes += *c == '/';
    f->r = cel_xrealloc_array(f->r, f->n + 1, sizeof *f->r);
    f->r[f->n++] = r;
}

/* Includes first: with rsync's first-match rule, an include wins. */
static void filters_build(struct filters *f, const struct rsync_opts *o)
{
    for (const char *const *p = o->include; p && *p; p++)
        filters_add(f, *p, true);
    for (const char *const *p = o->exclude; p && *p; p++)
        filters_add(f, *p, false);
}

static void filters_free(struct filters *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->r[i].pat);
    free(f->r);
    memset(f, 0, sizeof *f);
}

/* A bracket expression at p ('[') against c: 1 match, 0 no match, -1 when
 * it is not a well-formed class (then '[' is an ordinary character). *end
 * is set to its closing ']'. */
static int class_match(const char *p, unsigned char c, const char **end)
{
    const char *q = p + 1;
    bool neg = *q == '!' || *q == '^';
    bool hit = false;
    if (neg)
        q++;
    for (bool first = true; *q && (first || *q != ']'); first = false) {
        if (*q == '\\' && q[1])
            q++;
        unsigned char lo = (unsigned char)*q;
        if (q[1] == '-' && q[2] && q[2] != ']') {
            unsigned char hi = (unsigned char)q[2];
            hit = hit || (c >= lo && c <= hi);
            q += 3;
        } else {
            hit = hit || c == lo;
            q++;
        }
    }
    if (*q != ']')
        return -1;
    *end = q;
    return hit != neg;
}

/* rsync-style wildcard match of the whole text t against pattern p: '*'
 * any run of characters but '/', "**" any run, '?' one character but '/',
 * "[...]" a class, '\' quotes the next character. Patterns are short; the
 * backtracking is fine. */
static bool wild(const char *p, const char *t)
{
    for (; *p; p++, t++) {
        if (*p == '*') {
            bool any = p[1] == '*';
            while (*p == '*')
                p++;
            if (!*p)
                return any || !strchr(t, '/');
            for (;; t++) {
                if (wild(p, t))
                    return true;
                if (!*t || (!any && *t == '/'))
                    return false;
            }
        }
        if (!*t)
            return false;
        if (*p == '?') {
            if (*t == '/')
                return false;
            continue;
        }
        if (*p == '[' && *t != '/') {
            const char *end;
            int m = class_match(p, (unsigned char)*t, &end);
            if (m == 0)
                return false;
            if (m == 1) {
                p = end;
                continue;
            }
        }
        if (*p == '\\' && p[1])
            p++;
        if (*p != *t)
            return false;
    }
    return !*t;
}

static bool rule_matches(const struct rule *r, const char *path, bool is_dir)
{
    if (r->dir_only && !is_dir)
        return false;
    if (r->anchored)
        return wild(r->pat, path);
    if (r->dblstar) {
        for (const char *s = path; s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL)
            if (wild(r->pat, s))
                return true;
        return false;
    }
    /* The last slashes+1 components of path. */
    int need = r->slashes + 1, seen = 0;
    const char *q = path + strlen(path);
    while (q > path && !(q[-1] == '/' && ++seen == need))
        q--;
    if (q == path && seen + 1 < need)
        return false;
    return wild(r->pat, q);
}

/* True when the entry itself is excluded (its parents are not looked at). */
static bool filtered_out(const struct filters *f, const char *path, bool is_dir)
{
    for (size_t i = 0; i < f->n; i++)
        if (rule_matches(&f->r[i], path, is_dir))
            return !f->r[i].include;
    return false;
}

/* True when the entry or one of its parent directories is excluded (for a
 * listing that came from rsync, which may not have pruned as we do). */
static bool filtered_out_path(const struct filters *f, char *path, bool is_dir)
{
    for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        bool out = filtered_out(f, path, true);
        *s = '/';
        if (out)
            return true;
    }
    return filtered_out(f, path, is_dir);
}

/* The patterns as rsync options, includes first. */
static void args_filters(struct args *a, const struct rsync_opts *o)
{
    for (const char *const *p = o->include; p && *p; p++)
        args_addf(a, "--include=%s", *p);
    for (const char *const *p = o->exclude; p && *p; p++)
        args_addf(a, "--exclude=%s", *p);
}

/* ---- splitting ----------------------------------------------------------- */

struct sized {
    uint64_t size;
    size_t index;
};

static int by_size_desc(const void *a, const void *b)
{
    const struct sized *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int rsync_split(const uint64_t *sizes, size_t n, int lists, int *group_of)
{
    if (n == 0)
        return 0;
    size_t k = lists < 1 ? 1 : (size_t)lists;
    if (k > n)
        k = n;
    struct sized *order = cel_xcalloc(n, sizeof *order);
    uint64_t *load = cel_xcalloc(k, sizeof *load);
    for (size_t i = 0; i < n; i++)
        order[i] = (struct sized){.size = sizes[i], .index = i};
    qsort(order, n, sizeof *order, by_size_desc);
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t g = 1; g < k; g++)
            if (load[g] < load[best])
                best = g;
        load[best] += order[i].size;
        group_of[order[i].index] = (int)best;
    }
    free(load);
    free(order);
    return (int)k;
}

/* ---- parsing a remote listing -------------------------------------------- */

static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Read the date at *p in either of rsync's formats into tm; advance *p. */
static bool parse_date(const char **p, struct tm *tm)
{
    int used = 0;
    if (sscanf(*p, "%4d/%2d/%2d %2d:%2d:%2d%n", &tm->tm_year, &tm->tm_mon, &tm->tm_mday,
               &tm->tm_hour, &tm->tm_min, &tm->tm_sec, &used) == 6 &&
        used > 0) {
        *p += used;
        return true;
    }
    char wday[4], mon[4];
    used = 0;
    if (sscanf(*p, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &tm->tm_mday, &tm->tm_hour,
               &tm->tm_min, &tm->tm_sec, &tm->tm_year, &used) != 7 ||
        used == 0)
        return false;
    for (int m = 0; m < 12; m++)
        if (strcmp(mon, month_names[m]) == 0) {
            tm->tm_mon = m + 1;
            *p += used;
            return true;
        }
    return false;
}

int rsync_parse_list_line(const char *line, struct rsync_entry *e, struct cel_err *err)
{
    memset(e, 0, sizeof *e);
    const char *p = line;
    while (*p && *p != ' ')
        p++;
    if (p - line < 10)
        goto bad;
    e->type = line[0];
    while (*p == ' ')
        p++;
    if (*p < '0' || *p > '9')
        goto bad;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t digit = (uint64_t)(*p - '0');
        if (e->size > (UINT64_MAX - digit) / 10)
            goto bad;
        e->size = e->size * 10 + digit;
    }
    if (*p != ' ')
        goto bad;
    while (*p == ' ')
        p++;
    struct tm tm = {0};
    if (!parse_date(&p, &tm) || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_year < 1900)
        goto bad;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    e->mtime = timegm(&tm);
    if (p[0] != ' ' || p[1] == '\0')
        goto bad;
    e->path = unescape(p + 1);
    return 0;
bad:
    memset(e, 0, sizeof *e);
    return cel_err_set(err, CEL_E_FORMAT, "cannot parse rsync --list-only output line '%.300s'",
                       line);
}

/* ---- the job ------------------------------------------------------------- */

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

static void job_add_file(struct job *job, const char *path, uint64_t size, time_t mtime, bool link)
{
    if (job->nfiles == job->files_cap) {
        job->files_cap = job->files_cap ? job->files_cap * 2 : 256;
        job->files = cel_xrealloc_array(job->files, job->files_cap, sizeof *job->files);
    }
    job->files[job->nfiles++] =
        (struct file){.path = cel_xstrdup(path), .size = size, .mtime = mtime, .link = link};
}

static void job_add_dir(struct job *job, const char *path)
{
    if (job->ndirs == job->dirs_cap) {
        job->dirs_cap = job->dirs_cap ? job->dirs_cap * 2 : 64;
        job->dirs = cel_xrealloc_array(job->dirs, job->dirs_cap, sizeof *job->dirs);
    }
    job->dirs[job->ndirs++] = cel_xstrdup(path);
}

/* Forget what a listing found (before it is retried). */
static void job_clear_list(struct job *job)
{
    for (size_t i = 0; i < job->nfiles; i++)
        free(job->files[i].path);
    for (size_t i = 0; i < job->ndirs; i++)
        free(job->dirs[i]);
    job->nfiles = job->ndirs = 0;
    free(job->bad_line);
    job->bad_line = NULL;
}

static void job_free(struct job *job)
{
    job_clear_list(job);
    free(job->files);
    free(job->dirs);
    free(job->src_arg);
    free(job->dst_arg);
    free(job->reuse_abs);
    filters_free(&job->filters);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

static struct file *job_find(struct job *job, const char *path)
{
    struct file key = {.path = (char *)(uintptr_t)path};
    if (job->nfiles == 0)
        return NULL;
    return bsearch(&key, job->files, job->nfiles, sizeof *job->files, by_path);
}

/* ---- progress ------------------------------------------------------------ */

static void report(struct job *job, const char *current)
{
    if (!job->o->on_progress)
        return;
    double secs = seconds_since(job->copy_start);
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
static void credit_task(struct job *job, const struct task *t)
{
    const char *last = NULL;
    for (size_t i = 0; i < t->nfiles; i++)
        if (credit(job, &job->files[t->files[i]]))
            last = job->files[t->files[i]].path;
    if (last)
        report(job, last);
}

static void log_line(const struct job *job, const char *line)
{
    if (job->o->on_log)
        job->o->on_log(job->o->ctx, line);
}

/* ---- output of the children ---------------------------------------------- */

/* A listing line of a remote source: parsed, filtered, recorded. */
static void on_list_line(struct job *job, const char *line)
{
    struct rsync_entry e;
    if (job->bad_line)
        return;
    if (rsync_parse_list_line(line, &e, NULL) < 0) {
        job->bad_line = cel_xstrdup(line);
        return;
    }
    if (strcmp(e.path, ".") != 0 && (e.type == 'd' || e.type == '-' || e.type == 'l') &&
        !filtered_out_path(&job->filters, e.path, e.type == 'd')) {
        if (e.type == 'd')
            job_add_dir(job, e.path);
        else
            job_add_file(job, e.path, e.size, e.mtime, e.type == 'l');
    }
    free(e.path);
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
    char *name = unescape(end + 1);
    struct file *f = job_find(job, name);
    if (f) {
        if ((item[0] == '>' || item[0] == '<') && item[1] == 'f')
            job->transferred += len;
        if (credit(job, f))
            report(job, f->path);
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
        log_line(t->job, line);
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

static void on_line(void *ctx, int stream, const char *line, size_t len)
{
    struct task *t = ctx;
    (void)len;
    if (stream == 2)
        on_err_line(t, line);
    else if (t->kind == TASK_LIST)
        on_list_line(t->job, line);
    else if (t->kind == TASK_FILES)
        on_files_line(t->job, line);
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
        job_clear_list(job);
    t->vanished = t->errors = t->nerr_lines = 0;
    t->attempts++;
    struct proc_opts po = {
        .env = t->kind == TASK_LIST ? tz_utc : NULL,
        .path_prefix = job->o->path_prefix,
        .stdin_data = t->list.len ? t->list.buf : NULL,
        .stdin_len = t->list.len,
        .out_mode = t->kind == TASK_LIST || t->kind == TASK_FILES ? PROC_LINES : PROC_DISCARD,
        .err_mode = PROC_LINES,
        .on_line = on_line,
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
            credit_task(job, t);
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
        log_line(job, msg);
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
static int tasks_run(struct job *job, struct task *tasks, size_t n, size_t conc)
{
    struct proc **procs = cel_xcalloc(n ? n : 1, sizeof *procs);
    struct task **owner = cel_xcalloc(n ? n : 1, sizeof *owner);
    int rc = 0;
    for (;;) {
        if (cancelled(job->o)) {
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

/* ---- listing ------------------------------------------------------------- */

/* Walk the local directory src/rel ("" for the root), recording directories,
 * files and links that the filters keep. Entries that vanish meanwhile are
 * skipped: the source may be a running PGDATA. */
static int walk(struct job *job, const char *rel, struct cel_err *err)
{
    char *dir = rel[0] ? cel_xasprintf("%s/%s", job->src, rel) : cel_xstrdup(job->src);
    struct stor_names subdirs = {0};
    int rc = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (!(rel[0] && (errno == ENOENT || errno == ENOTDIR)))
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read directory '%s'", dir);
        goto out;
    }
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *path = rel[0] ? cel_xasprintf("%s/%s", rel, de->d_name) : cel_xstrdup(de->d_name);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT) {
                rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s/%s'", dir, de->d_name);
                free(path);
                break;
            }
        } else if (S_ISDIR(st.st_mode) && !filtered_out(&job->filters, path, true)) {
            job_add_dir(job, path);
            subdirs.names = cel_xrealloc_array(subdirs.names, subdirs.n + 1, sizeof(char *));
            subdirs.names[subdirs.n++] = cel_xstrdup(path);
        } else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) &&
                   !filtered_out(&job->filters, path, false)) {
            job_add_file(job, path, (uint64_t)st.st_size, st.st_mtime, S_ISLNK(st.st_mode));
        }
        free(path);
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read directory '%s'", dir);
    closedir(d);
    /* Descend after closing, so the depth of the tree costs no descriptors. */
    for (size_t i = 0; i < subdirs.n && rc == 0; i++)
        rc = cancelled(job->o) ? cel_err_set(err, CEL_E_PROC, "cancelled")
                               : walk(job, subdirs.names[i], err);
out:
    stor_names_free(&subdirs);
    free(dir);
    return rc;
}

static int list_source(struct job *job)
{
    if (job->remote && !job->o->remote_is_dest) {
        struct task t = {.job = job, .kind = TASK_LIST, .id = 1};
        int rc = tasks_run(job, &t, 1, 1);
        /* The root goes first in the directory list (each attempt of the
         * listing started from an empty one). */
        job_add_dir(job, ".");
        char *root = job->dirs[job->ndirs - 1];
        memmove(job->dirs + 1, job->dirs, (job->ndirs - 1) * sizeof *job->dirs);
        job->dirs[0] = root;
        return rc;
    }
    job_add_dir(job, ".");
    struct stat st;
    if (stat(job->src, &st) < 0)
        return cel_err_sys(job->err, CEL_E_IO, errno, "cannot read source directory '%s'",
                           job->src);
    if (!S_ISDIR(st.st_mode))
        return cel_err_set(job->err, CEL_E_IO, "source '%s' is not a directory", job->src);
    return walk(job, "", job->err);
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
    int rc = tasks_run(job, &t, 1, 1);
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
    int rc = tasks_run(job, tasks, ntasks, (size_t)workers);
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
    filters_build(&job->filters, o);
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
    if (cancelled(o))
        return cel_err_set(err, CEL_E_PROC, "cancelled");

    struct job job;
    job_init(&job, src, dst, o, true, err);
    int64_t t0 = ts_monotonic_ms();
    int rc = list_source(&job);
    if (rc < 0)
        goto out;
    if (job.nfiles > 0) /* files is NULL then, which qsort must not get */
        qsort(job.files, job.nfiles, sizeof *job.files, by_path);
    for (size_t i = 0; i < job.nfiles; i++)
        job.bytes_total += job.files[i].size;
    int workers = o->workers > 0 ? o->workers : 1;
    if ((size_t)workers > job.nfiles)
        workers = (int)job.nfiles;
    job.bwlimit = share_bwlimit(o->bwlimit_kbps, workers);
    double analysis = seconds_since(t0);

    int64_t t1 = ts_monotonic_ms();
    job.copy_start = t1;
    report(&job, NULL);
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
            .copy_seconds = seconds_since(t1),
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
    if (cancelled(o))
        return cel_err_set(err, CEL_E_PROC, "cancelled");
    struct job job;
    job_init(&job, src, dst, o, false, err);
    job.bwlimit = share_bwlimit(o->bwlimit_kbps, 1);
    struct task t = {.job = &job, .kind = TASK_ONE, .id = 1};
    int rc = tasks_run(&job, &t, 1, 1);
    if (rc == 0 && !(job.remote && o->remote_is_dest))
        rc = sync_file(dst, err);
    job_free(&job);
    return rc;
}

/* ---- remote commands ----------------------------------------------------- */

/* The first line of a child's stderr, for a message. */
/* The first line of s, without its end (ssh ends its messages with "\r\n"). */
static const char *first_line(const char *s, size_t *len)
{
    if (!s)
        s = "";
    *len = strcspn(s, "\r\n");
    return s;
}

int rsync_remote_run(const char *ssh_command, const char *path_prefix, const char *const argv[],
                     char **out, struct cel_err *err)
{
    return rsync_remote_run_timed(ssh_command, path_prefix, argv, 0, out, err);
}

int rsync_remote_run_timed(const char *ssh_command, const char *path_prefix,
                           const char *const argv[], int timeout_ms, char **out,
                           struct cel_err *err)
{
    if (out)
        *out = NULL;
    if (!argv || !argv[0])
        return cel_err_set(err, CEL_E_INTERNAL, "invalid call to rsync_remote_run: no command");
    struct proc_opts po = {.path_prefix = path_prefix, .out_mode = PROC_CAPTURE,
                           .timeout_ms = timeout_ms};
    struct proc_result res;
    int rc;
    bool remote = ssh_command && ssh_command[0];
    if (remote) {
        /* The remote command line travels in the environment: the local
         * shell expands "$CEL_REMOTE_COMMAND" as one argument of ssh, and
         * only the remote shell parses it. Each word starts with a quote, so
         * ssh never takes one for an option. */
        struct strbuf cmd = {0}, env = {0};
        for (size_t i = 0; argv[i]; i++) {
            if (i)
                sb_appendc(&cmd, ' ');
            sb_append_shell_quoted(&cmd, argv[i]);
        }
        sb_appendf(&env, "CEL_REMOTE_COMMAND=%s", sb_str(&cmd));
        const char *const envv[] = {sb_str(&env), NULL};
        char *line = cel_xasprintf("%s \"$CEL_REMOTE_COMMAND\"", ssh_command);
        po.env = envv;
        rc = proc_run_shell(line, &po, &res, err);
        free(line);
        sb_free(&env);
        sb_free(&cmd);
    } else {
        rc = proc_run(argv, &po, &res, err);
    }
    if (rc < 0 && rc != -CEL_E_TIMEOUT)
        return rc;
    if (rc < 0 || res.status != 0) {
        struct strbuf how = {0};
        size_t len;
        const char *e = first_line(res.err, &len);
        proc_describe(&res, timeout_ms, &how);
        rc = cel_err_set(err, rc < 0 ? CEL_E_TIMEOUT : CEL_E_PROC, "'%s'%s%s %s%s%.*s", argv[0],
                         remote ? " on " : "", remote ? ssh_command : "", sb_str(&how),
                         len ? ": " : "", (int)len, e);
        sb_free(&how);
    } else if (out) {
        *out = res.out;
        res.out = NULL;
    }
    proc_result_free(&res);
    return rc;
}
