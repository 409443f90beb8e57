/*
 * cloud_restore.c - `cellar cloud-restore`: a backup of a bucket into a
 * directory, as barman-cloud-restore 3.4 leaves it, without a staging copy.
 *
 * Each tar object (data.tar and data_NNNN.tar into RECOVERY_DIR, OID.tar
 * and its parts into the tablespace's location, or the one --tablespace
 * gives) is one job. A job runs two threads joined by a socket pair: one
 * GETs the object and writes its bytes into the socket; the other reads
 * them through cellar's decompressor (comp_decompress_fd_each) into the
 * streaming tar reader (tar_read.h), whose callbacks create each directory,
 * file, symbolic and hard link under the target as it goes by. So memory
 * is a chunk or two per job whatever the backup's size, and the disk sees
 * each byte once. Jobs run `parallel` at a time, each worker with its own
 * S3 client (a client serves one thread).
 *
 * Then, as barman-cloud-restore does: pg_tblspc/OID links to each
 * tablespace's location, and an empty pg_wal when the archive has none.
 * Every target (RECOVERY_DIR and the tablespaces' locations) must be
 * missing or empty before anything is written; at the end each target's
 * file system is synced once (syncfs), not each file.
 *
 * Member names are checked: an absolute name or one with a ".." component
 * is refused, so an archive cannot write outside its target.
 */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud_catalog.h"
#include "compress.h"
#include "storage.h"
#include "tar_read.h"

struct job {
    const struct cloud_file *file;
    char *dir; /* where it is extracted */
    int rc;
    struct cel_err err;
};

struct pool {
    const struct cloud_target_opts *store;
    struct job *jobs;
    size_t n;
    size_t next;
    bool failed; /* stop taking jobs */
    pthread_mutex_t mu;
};

/* ---- extraction: the tar reader's callbacks ------------------------------ */

struct xtract {
    const char *dir;
    const char *what;
    int fd; /* the regular file being written, -1 between members */
    char path[PATH_MAX];
    unsigned mode;
    int64_t mtime;
};

static bool name_safe(const char *name)
{
    if (name[0] == '/')
        return false;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += n;
        while (*p == '/')
            p++;
    }
    return true;
}

/* Create the parent directories of path (inside the target) when missing. */
static int make_parent(const char *path, struct cel_err *err)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    return stor_mkdir_p(parent, 0700, err);
}

static int x_member(void *ctx, const struct tar_member *m, struct cel_err *err)
{
    struct xtract *x = ctx;
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s", m->name);
    size_t len = strlen(name);
    while (len > 0 && name[len - 1] == '/')
        name[--len] = '\0';
    if (len == 0 || strcmp(name, ".") == 0)
        return 0; /* the archive's root: the target itself */
    if (!name_safe(name))
        return cel_err_set(err, CEL_E_FORMAT, "'%s' holds member '%s' outside its target",
                           x->what, name);
    if ((size_t)snprintf(x->path, sizeof x->path, "%s/%s", x->dir, name) >= sizeof x->path)
        return cel_err_set(err, CEL_E_FORMAT, "'%s': member name too long: '%s'", x->what,
                           name);
    x->mode = m->mode;
    x->mtime = m->mtime;
    int rc = 0;
    switch (m->type) {
    case '5':
        if (mkdir(x->path, 0700) < 0) {
            if (errno == ENOENT) {
                rc = make_parent(x->path, err);
                if (rc == 0 && mkdir(x->path, 0700) < 0 && errno != EEXIST)
                    rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", x->path);
            } else if (errno != EEXIST) {
                rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", x->path);
            }
        }
        if (rc == 0 && m->mode && chmod(x->path, m->mode & 07777) < 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot set the mode of '%s'", x->path);
        return rc;
    case '0': {
        int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW;
        x->fd = open(x->path, flags, 0600);
        if (x->fd < 0 && errno == ENOENT) {
            rc = make_parent(x->path, err);
            if (rc < 0)
                return rc;
            x->fd = open(x->path, flags, 0600);
        }
        if (x->fd < 0)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", x->path);
        return 0;
    }
    case '2':
        if (symlink(m->link, x->path) == 0)
            return 0;
        if (errno == ENOENT) {
            rc = make_parent(x->path, err);
            if (rc < 0)
                return rc;
            if (symlink(m->link, x->path) == 0)
                return 0;
        }
        if (errno == EEXIST && unlink(x->path) == 0 && symlink(m->link, x->path) == 0)
            return 0;
        return cel_err_sys(err, CEL_E_IO, errno, "cannot create link '%s'", x->path);
    case '1': {
        char target[PATH_MAX];
        if (!name_safe(m->link) ||
            (size_t)snprintf(target, sizeof target, "%s/%s", x->dir, m->link) >= sizeof target)
            return cel_err_set(err, CEL_E_FORMAT, "'%s': bad hard link target '%s'", x->what,
                               m->link);
        (void)unlink(x->path);
        if (link(target, x->path) < 0)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot link '%s'", x->path);
        return 0;
    }
    default:
        return 0; /* devices, FIFOs: a backup of PGDATA has none worth making */
    }
}

static int x_data(void *ctx, const unsigned char *buf, size_t len, struct cel_err *err)
{
    struct xtract *x = ctx;
    if (x->fd < 0)
        return 0;
    if (stor_write_all(x->fd, buf, len) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot write '%s'", x->path);
    return 0;
}

static int x_member_end(void *ctx, struct cel_err *err)
{
    struct xtract *x = ctx;
    if (x->fd < 0)
        return 0;
    int rc = 0;
    if (x->mode && fchmod(x->fd, x->mode & 07777) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot set the mode of '%s'", x->path);
    struct timespec times[2] = {{.tv_sec = x->mtime}, {.tv_sec = x->mtime}};
    if (rc == 0 && x->mtime > 0 && futimens(x->fd, times) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot set the time of '%s'", x->path);
    if (close(x->fd) < 0 && rc == 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot write '%s'", x->path);
    x->fd = -1;
    return rc;
}

static int feed_tar(void *ctx, const unsigned char *data, size_t len, struct cel_err *err)
{
    return tar_read_feed(ctx, data, len, err);
}

/* ---- one job: GET | decompress | untar ------------------------------------ */

struct download {
    struct cloud_target *t;
    const char *key;
    int fd; /* the socket's writing end, closed when done */
    int rc;
    struct cel_err err;
};

static int send_all(void *ctx, const void *buf, size_t len, struct cel_err *err)
{
    struct download *d = ctx;
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(d->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) /* the reader stopped: its error is the one to report */
            return cel_err_sys(err, CEL_E_IO, errno, "extraction of '%s' stopped", d->key);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void *download_main(void *arg)
{
    struct download *d = arg;
    d->rc = s3_get(d->t->s3, d->key, 0, 0, send_all, d, &d->err);
    close(d->fd);
    return NULL;
}

static int run_job(struct cloud_target *t, struct job *j, struct cel_err *err)
{
    enum comp_kind kind;
    int rc = cloud_comp_kind(j->file->comp, &kind, err);
    if (rc < 0) {
        cel_err_prefix(err, "cannot restore '%s'", j->file->key);
        return rc;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot make a socket pair");
    struct download d = {.t = t, .key = j->file->key, .fd = sv[1]};
    pthread_t th;
    if (pthread_create(&th, NULL, download_main, &d) != 0) {
        close(sv[0]);
        close(sv[1]);
        return cel_err_set(err, CEL_E_NOMEM, "cannot start a download thread");
    }
    struct xtract x = {.dir = j->dir, .what = j->file->key, .fd = -1};
    struct tar_read *tr = tar_read_new(&(struct tar_read_cb){.member = x_member,
                                                            .data = x_data,
                                                            .member_end = x_member_end,
                                                            .ctx = &x},
                                       j->file->key);
    rc = comp_decompress_fd_each(kind, sv[0], j->file->key, feed_tar, tr, NULL, err);
    if (rc == 0)
        rc = tar_read_finish(tr, err);
    close(sv[0]); /* a download still sending stops at once */
    pthread_join(th, NULL);
    if (x.fd >= 0)
        close(x.fd);
    tar_read_free(tr);
    if (d.rc < 0 && (rc == 0 || d.err.code != CEL_E_IO || !strstr(d.err.msg, "stopped"))) {
        *err = d.err;
        rc = d.rc;
    }
    return rc;
}

static void *worker_main(void *arg)
{
    struct pool *p = arg;
    struct cloud_target t;
    struct cel_err open_err = {0};
    int open_rc = cloud_target_open(p->store, &t, &open_err);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        struct job *j = p->failed || p->next == p->n ? NULL : &p->jobs[p->next++];
        pthread_mutex_unlock(&p->mu);
        if (!j)
            break;
        if (open_rc < 0) {
            j->rc = open_rc;
            j->err = open_err;
        } else {
            j->rc = run_job(&t, j, &j->err);
        }
        if (j->rc < 0) {
            pthread_mutex_lock(&p->mu);
            p->failed = true;
            pthread_mutex_unlock(&p->mu);
        }
    }
    if (open_rc == 0)
        cloud_target_close(&t);
    return NULL;
}

/* ---- the op ------------------------------------------------------------------- */

static bool dir_nonempty(const char *dir)
{
    struct stor_names names = {0};
    struct cel_err e = {0};
    if (!stor_exists(dir))
        return false;
    if (stor_list_dir(dir, NULL, NULL, &names, &e) < 0)
        return true; /* not a directory we can read: not a place to restore into */
    bool full = names.n > 0;
    stor_names_free(&names);
    return full;
}

static char *absolute(const char *path)
{
    struct strbuf sb = {0};
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd))
            sb_appendf(&sb, "%s/", cwd);
    }
    sb_append(&sb, path);
    return sb_detach(&sb);
}

/* The location of tablespace b->tablespaces[k]: a --tablespace rule's, or
 * the backup's. NULL when the rules are bad (err set). */
static char *tbs_location(const struct op_cloud_restore_req *req, const struct cat_tablespace *ts)
{
    const char *loc = ts->location;
    for (size_t r = 0; r < req->n_tablespaces; r++) {
        const char *colon = strchr(req->tablespaces[r], ':');
        if (colon && (size_t)(colon - req->tablespaces[r]) == strlen(ts->name) &&
            strncmp(req->tablespaces[r], ts->name, strlen(ts->name)) == 0)
            loc = colon + 1;
    }
    return absolute(loc);
}

static int sync_dir(const char *dir, struct cel_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", dir);
    int rc = syncfs(fd) < 0 ? cel_err_sys(err, CEL_E_IO, errno, "cannot sync '%s'", dir) : 0;
    close(fd);
    return rc;
}

static int restore(const struct op_ctx *ctx, const struct op_cloud_restore_req *req,
                   const struct cat_backup *b, const struct cloud_backup_objs *o,
                   const char *server, struct cel_err *err)
{
    if (b->snapshots_info)
        return cel_err_set(err, CEL_E_INVALID,
                           "backup %s is a snapshot backup: cellar restores object store "
                           "backups only",
                           b->id);
    size_t n_tbs = b->n_tablespaces;
    char **dirs = cel_xcalloc(n_tbs + 1, sizeof *dirs); /* [0] PGDATA, [1 + k] tablespace k */
    struct job *jobs = cel_xcalloc(o->n_files + 1, sizeof *jobs);
    size_t n_jobs = 0;
    int rc = 0;
    dirs[0] = absolute(req->dest);
    for (size_t k = 0; k < n_tbs; k++)
        dirs[1 + k] = tbs_location(req, &b->tablespaces[k]);
    for (size_t d = 0; d <= n_tbs && rc == 0; d++) {
        uint32_t oid = d == 0 ? 0 : (uint32_t)b->tablespaces[d - 1].oid;
        bool found = false;
        for (size_t f = 0; f < o->n_files; f++)
            if (o->files[f].oid == oid) {
                found = true;
                jobs[n_jobs++] = (struct job){.file = &o->files[f], .dir = dirs[d]};
            }
        if (!found)
            rc = cel_err_set(err, CEL_E_NOT_FOUND, "missing file %s.tar* of backup %s for server %s",
                             d == 0 ? "data" : b->tablespaces[d - 1].name, b->id, server);
        else if (dir_nonempty(dirs[d])) {
            rc = cel_err_set(err, CEL_E_CONFLICT, "destination '%s' already exists and it is not "
                                                  "empty",
                             dirs[d]);
            cel_err_hint(err, "Restore into a new or empty directory; nothing was written.");
        }
    }
    for (size_t d = 0; d <= n_tbs && rc == 0; d++)
        rc = stor_mkdir_p(dirs[d], 0700, err);
    if (rc == 0 && chmod(dirs[0], 0700) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot set the mode of '%s'", dirs[0]);
    if (rc < 0)
        goto out;

    int parallel = req->parallel > 0 ? req->parallel : 2;
    if ((size_t)parallel > n_jobs)
        parallel = (int)n_jobs;
    struct pool pool = {.store = &req->store.target, .jobs = jobs, .n = n_jobs};
    pthread_mutex_init(&pool.mu, NULL);
    pthread_t *th = cel_xcalloc((size_t)parallel, sizeof *th);
    int started = 0;
    for (; started < parallel; started++)
        if (pthread_create(&th[started], NULL, worker_main, &pool) != 0)
            break;
    if (started == 0)
        worker_main(&pool); /* no thread to be had: do it here */
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    pthread_mutex_destroy(&pool.mu);
    for (size_t j = 0; j < n_jobs && rc == 0; j++)
        if (jobs[j].rc < 0) {
            *err = jobs[j].err;
            rc = jobs[j].rc;
        }
    for (size_t j = 0; j < n_jobs && rc == 0; j++)
        op_log(ctx, LOG_DEBUG, server, "extracted %s into %s (%s)", jobs[j].file->key,
               jobs[j].dir, cloud_comp_name(jobs[j].file->comp));
    if (rc < 0)
        goto out;

    /* pg_tblspc/OID -> location, as barman-cloud-restore links them */
    for (size_t k = 0; k < n_tbs && rc == 0; k++) {
        char link_path[PATH_MAX];
        snprintf(link_path, sizeof link_path, "%s/pg_tblspc", dirs[0]);
        rc = stor_mkdir_p(link_path, 0700, err);
        snprintf(link_path, sizeof link_path, "%s/pg_tblspc/%lld", dirs[0],
                 (long long)b->tablespaces[k].oid);
        struct stat st;
        if (rc == 0 && lstat(link_path, &st) == 0 && S_ISLNK(st.st_mode))
            (void)unlink(link_path);
        if (rc == 0 && symlink(dirs[1 + k], link_path) < 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot link '%s' to '%s'", link_path,
                             dirs[1 + k]);
    }
    if (rc == 0) {
        char wal[PATH_MAX];
        bool old = b->version.set && b->version.v < 100000;
        snprintf(wal, sizeof wal, "%s/%s", dirs[0], old ? "pg_xlog" : "pg_wal");
        if (!stor_exists(wal) && mkdir(wal, 0700) < 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", wal);
    }
    for (size_t d = 0; d <= n_tbs && rc == 0; d++)
        rc = sync_dir(dirs[d], err);
out:
    for (size_t d = 0; d <= n_tbs; d++)
        free(dirs[d]);
    free(dirs);
    free(jobs);
    return rc;
}

int op_cloud_restore(const struct op_ctx *ctx, const struct op_cloud_restore_req *req,
                     struct cel_err *err)
{
    for (size_t r = 0; r < req->n_tablespaces; r++)
        if (!strchr(req->tablespaces[r], ':')) {
            int rc = cel_err_set(err, CEL_E_USAGE, "invalid tablespace relocation rule '%s'",
                                 req->tablespaces[r]);
            cel_err_hint(err, "The valid syntax for a relocation rule is NAME:LOCATION.");
            return rc;
        }
    struct cloud_target t;
    struct cloud_catalog cat;
    int rc = cloud_catalog_open(ctx, &req->store, &t, &cat, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    int i = cloud_catalog_find(&cat, req->backup, t.server, err);
    if (i < 0)
        rc = i;
    else
        rc = restore(ctx, req, &cat.list.items[i], &cat.objs[i], t.server, err);
    cloud_catalog_free(&cat);
    cloud_target_close(&t);
    return rc;
}
