/*
 * rsync_list.c - the file list of a copy: the source listed, each file
 * looked up by path, and the list split among the workers.
 *
 * Listing. A local source is walked with lstat: symbolic links are
 * recorded as links, never followed (a tablespace link in pg_tblspc is
 * copied as a link); sockets, fifos and devices are left out, as rsync
 * -lpt would skip them. A remote source is listed with `rsync -r
 * --list-only --no-human-readable -e SSH :src/` run with TZ=UTC0, so that
 * the dates the local rsync prints are UTC; without -l the link lines
 * carry no " -> target" and the name is the whole rest of the line.
 * Names with unusual bytes come back as \#ooo escapes, decoded here.
 *
 * Splitting. The regular files and links are split by size into `workers`
 * lists (rsync_split): the largest files first, each into the lightest list.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "rsync_int.h"
#include "storage.h"

/* Decode rsync's \#ooo escapes (how it prints bytes it deems unprintable). */
char *rsync_unescape(const char *s)
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
    e->path = rsync_unescape(p + 1);
    return 0;
bad:
    memset(e, 0, sizeof *e);
    return cel_err_set(err, CEL_E_FORMAT, "cannot parse rsync --list-only output line '%.300s'",
                       line);
}

void rsync_job_add_file(struct job *job, const char *path, uint64_t size, time_t mtime, bool link)
{
    if (job->nfiles == job->files_cap) {
        job->files_cap = job->files_cap ? job->files_cap * 2 : 256;
        job->files = cel_xrealloc_array(job->files, job->files_cap, sizeof *job->files);
    }
    job->files[job->nfiles++] =
        (struct file){.path = cel_xstrdup(path), .size = size, .mtime = mtime, .link = link};
}

void rsync_job_add_dir(struct job *job, const char *path)
{
    if (job->ndirs == job->dirs_cap) {
        job->dirs_cap = job->dirs_cap ? job->dirs_cap * 2 : 64;
        job->dirs = cel_xrealloc_array(job->dirs, job->dirs_cap, sizeof *job->dirs);
    }
    job->dirs[job->ndirs++] = cel_xstrdup(path);
}

/* Forget what a listing found (before it is retried). */
void rsync_job_clear_list(struct job *job)
{
    for (size_t i = 0; i < job->nfiles; i++)
        free(job->files[i].path);
    for (size_t i = 0; i < job->ndirs; i++)
        free(job->dirs[i]);
    job->nfiles = job->ndirs = 0;
    free(job->bad_line);
    job->bad_line = NULL;
}

int rsync_file_cmp_path(const void *a, const void *b)
{
    return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

struct file *rsync_job_find(struct job *job, const char *path)
{
    struct file key = {.path = (char *)(uintptr_t)path};
    if (job->nfiles == 0)
        return NULL;
    return bsearch(&key, job->files, job->nfiles, sizeof *job->files, rsync_file_cmp_path);
}

/* A listing line of a remote source: parsed, filtered, recorded. */
void rsync_on_list_line(struct job *job, const char *line)
{
    struct rsync_entry e;
    if (job->bad_line)
        return;
    if (rsync_parse_list_line(line, &e, NULL) < 0) {
        job->bad_line = cel_xstrdup(line);
        return;
    }
    if (strcmp(e.path, ".") != 0 && (e.type == 'd' || e.type == '-' || e.type == 'l') &&
        !rsync_filtered_out_path(&job->filters, e.path, e.type == 'd')) {
        if (e.type == 'd')
            rsync_job_add_dir(job, e.path);
        else
            rsync_job_add_file(job, e.path, e.size, e.mtime, e.type == 'l');
    }
    free(e.path);
}

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
        } else if (S_ISDIR(st.st_mode) && !rsync_filtered_out(&job->filters, path, true)) {
            rsync_job_add_dir(job, path);
            subdirs.names = cel_xrealloc_array(subdirs.names, subdirs.n + 1, sizeof(char *));
            subdirs.names[subdirs.n++] = cel_xstrdup(path);
        } else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) &&
                   !rsync_filtered_out(&job->filters, path, false)) {
            rsync_job_add_file(job, path, (uint64_t)st.st_size, st.st_mtime, S_ISLNK(st.st_mode));
        }
        free(path);
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read directory '%s'", dir);
    closedir(d);
    /* Descend after closing, so the depth of the tree costs no descriptors. */
    for (size_t i = 0; i < subdirs.n && rc == 0; i++)
        rc = rsync_cancelled(job->o) ? cel_err_set(err, CEL_E_PROC, "cancelled")
                               : walk(job, subdirs.names[i], err);
out:
    stor_names_free(&subdirs);
    free(dir);
    return rc;
}

int rsync_list_source(struct job *job)
{
    if (job->remote && !job->o->remote_is_dest) {
        struct task t = {.job = job, .kind = TASK_LIST, .id = 1};
        int rc = rsync_tasks_run(job, &t, 1, 1);
        /* The root goes first in the directory list (each attempt of the
         * listing started from an empty one). */
        rsync_job_add_dir(job, ".");
        char *root = job->dirs[job->ndirs - 1];
        memmove(job->dirs + 1, job->dirs, (job->ndirs - 1) * sizeof *job->dirs);
        job->dirs[0] = root;
        return rc;
    }
    rsync_job_add_dir(job, ".");
    struct stat st;
    if (stat(job->src, &st) < 0)
        return cel_err_sys(job->err, CEL_E_IO, errno, "cannot read source directory '%s'",
                           job->src);
    if (!S_ISDIR(st.st_mode))
        return cel_err_set(job->err, CEL_E_IO, "source '%s' is not a directory", job->src);
    return walk(job, "", job->err);
}
