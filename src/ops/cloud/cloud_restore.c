/*
 * cloud_restore.c - `cellar cloud-restore`: a backup of a bucket into a
 * directory, as barman-cloud-restore 3.4 leaves it, without a staging copy.
 *
 * Each tar object (data.tar and data_NNNN.tar into RECOVERY_DIR, OID.tar
 * and its parts into the tablespace's location, or the one --tablespace
 * gives) is one job. A job is a pipeline of threads, so that fetching,
 * decompressing and writing run on different CPUs:
 *
 *     GET (curl) --socket pair--> decompress --ring--> untar + write
 *
 * The download thread GETs the object; a compressed object goes through a
 * socket pair to a thread running cellar's decompressor
 * (comp_decompress_fd_each); the plain bytes (an uncompressed object's
 * straight from the download) go into a ring of a few 1 MiB slots read by
 * the job's own thread, which feeds them to the streaming tar reader
 * (tar_read.h), whose callbacks create each directory, file, symbolic and
 * hard link under the target as it goes by. Memory is a few MiB per job
 * whatever the backup's size, and the disk sees each byte once. Jobs run
 * `parallel` at a time (default: one per CPU), each worker with its own S3
 * client (a client serves one thread).
 *
 * Durability, one pass at the end: while a file is written its dirty pages
 * are handed to the kernel for write-back every few MiB and at its end
 * (sync_file_range, which does not wait), so the write-back overlaps the
 * download; when a job's archive is complete, it fsyncs every file it
 * wrote, then every directory it created or added an entry to. Nothing of
 * other programs' is flushed (no syncfs).
 *
 * Progress goes to the op's sink from the calling thread only, four times
 * a second and once at the end: bytes of the tar objects fetched against
 * the sum of their sizes in the listing, objects done, the member being
 * written.
 *
 * Then, as barman-cloud-restore does: pg_tblspc/OID links to each
 * tablespace's location, and an empty pg_wal when the archive has none.
 * Every target (RECOVERY_DIR and the tablespaces' locations) must be
 * missing or empty before anything is written.
 *
 * Member names are checked: an absolute name or one with a ".." component
 * is refused, so an archive cannot write outside its target.
 */
#define _GNU_SOURCE /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cloud_catalog.h"
#include "compress.h"
#include "par.h"
#include "storage.h"
#include "tar_read.h"
#include "ts.h"

#define RING_SLOTS 4
#define RING_SLOT (1024 * 1024)
#define FLUSH_EVERY (8 * 1024 * 1024) /* bytes of a file between write-back kicks */

/* What every job shares: the queue of jobs, and what progress reports. */
struct pool {
    const struct cloud_target_opts *store;
    struct job *jobs;
    size_t n;
    size_t next;
    size_t done;      /* jobs finished */
    size_t running;   /* workers still going */
    bool failed;      /* stop taking jobs; running ones stop at their next member */
    uint64_t bytes;   /* bytes of the objects fetched */
    uint64_t members; /* members started, numbering job.current_no */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a worker ended */
};

struct job {
    struct pool *pool;
    const struct cloud_file *file;
    char *dir; /* where it is extracted */
    int rc;
    bool stopped; /* it failed because another job did, or the op was cancelled */
    bool running;
    char current[PATH_MAX]; /* the member being written (under pool.mu) */
    uint64_t current_no;    /* its number among the pool's members */
    struct cel_err err;
};

/* ---- the ring: plain bytes from the producer to the job's thread --------- */

struct ring {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char *slot[RING_SLOTS];
    size_t len[RING_SLOTS];
    uint64_t head, tail; /* slots published, slots consumed */
    bool eof;            /* the producer is done (no more slots) */
    bool stop;           /* the consumer quit: the producer stops */
    unsigned char *cur;  /* the producer's slot being filled (slot[head % RING_SLOTS]) */
    size_t cur_len;
};

static void ring_init(struct ring *r)
{
    *r = (struct ring){0};
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
}

static void ring_free(struct ring *r)
{
    for (size_t i = 0; i < RING_SLOTS; i++)
        free(r->slot[i]);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
}

static void ring_publish(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    r->len[r->head % RING_SLOTS] = r->cur_len;
    r->head++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    r->cur = NULL;
}

/* Producer: copy len bytes in. false when the consumer has quit. */
static bool ring_put(struct ring *r, const unsigned char *data, size_t len)
{
    while (len > 0) {
        if (!r->cur) {
            pthread_mutex_lock(&r->mu);
            while (r->head - r->tail == RING_SLOTS && !r->stop)
                pthread_cond_wait(&r->cv, &r->mu);
            bool stop = r->stop;
            size_t i = r->head % RING_SLOTS;
            pthread_mutex_unlock(&r->mu);
            if (stop)
                return false;
            if (!r->slot[i])
                r->slot[i] = cel_xmalloc(RING_SLOT);
            r->cur = r->slot[i];
            r->cur_len = 0;
        }
        size_t n = RING_SLOT - r->cur_len < len ? RING_SLOT - r->cur_len : len;
        memcpy(r->cur + r->cur_len, data, n);
        r->cur_len += n;
        data += n;
        len -= n;
        if (r->cur_len == RING_SLOT)
            ring_publish(r);
    }
    return true;
}

/* Producer: no more bytes. */
static void ring_close(struct ring *r)
{
    if (r->cur && r->cur_len > 0)
        ring_publish(r);
    pthread_mutex_lock(&r->mu);
    r->eof = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Consumer: quit; a producer waiting for room returns false. */
static void ring_stop(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Consumer: the next slot's bytes (*len 0 at the end), valid until
 * ring_done. */
static const unsigned char *ring_take(struct ring *r, size_t *len)
{
    pthread_mutex_lock(&r->mu);
    while (r->head == r->tail && !r->eof)
        pthread_cond_wait(&r->cv, &r->mu);
    const unsigned char *p = NULL;
    *len = 0;
    if (r->head != r->tail) {
        p = r->slot[r->tail % RING_SLOTS];
        *len = r->len[r->tail % RING_SLOTS];
    }
    pthread_mutex_unlock(&r->mu);
    return p;
}

static void ring_done(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    r->tail++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* ---- extraction: the tar reader's callbacks ------------------------------ */

struct xtract {
    struct job *job;
    const char *dir;
    const char *what;
    int fd; /* the regular file being written, -1 between members */
    char path[PATH_MAX];
    unsigned mode;
    int64_t mtime;
    uint64_t written, kicked; /* bytes of the file written, handed to write-back */
    /* what the durability pass syncs: files written, directories changed */
    char **files, **dirs;
    size_t n_files, n_dirs, cap_files, cap_dirs;
};

static void x_note(char ***list, size_t *n, size_t *cap, const char *path)
{
    if (*n > 0 && strcmp((*list)[*n - 1], path) == 0)
        return; /* tar order: the same directory again and again */
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *list = cel_xrealloc(*list, *cap * sizeof **list);
    }
    (*list)[(*n)++] = cel_xstrdup(path);
}

/* The directory holding x->path changed. */
static void x_note_parent(struct xtract *x)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", x->path);
    char *slash = strrchr(parent, '/');
    if (slash) {
        *slash = '\0';
        x_note(&x->dirs, &x->n_dirs, &x->cap_dirs, parent);
    }
}

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
    struct pool *p = x->job->pool;
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s", m->name);
    size_t len = strlen(name);
    while (len > 0 && name[len - 1] == '/')
        name[--len] = '\0';
    if (len == 0 || strcmp(name, ".") == 0)
        return 0; /* the archive's root: the target itself */
    if (!name_safe(name))
        return cel_err_set(err, CEL_E_FORMAT, "'%s' holds member '%s' outside its target", x->what,
                           name);
    if ((size_t)snprintf(x->path, sizeof x->path, "%s/%s", x->dir, name) >= sizeof x->path)
        return cel_err_set(err, CEL_E_FORMAT, "'%s': member name too long: '%s'", x->what, name);
    pthread_mutex_lock(&p->mu);
    bool stop = p->failed;
    if (!stop) {
        cel_strlcpy(x->job->current, x->path, sizeof x->job->current);
        x->job->current_no = ++p->members;
    }
    pthread_mutex_unlock(&p->mu);
    if (stop) { /* another job failed, or the op was cancelled: its error is reported */
        x->job->stopped = true;
        return cel_err_set(err, CEL_E_PROC, "extraction of '%s' stopped", x->what);
    }
    x->mode = m->mode;
    x->mtime = m->mtime;
    x_note_parent(x);
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
        if (rc == 0)
            x_note(&x->dirs, &x->n_dirs, &x->cap_dirs, x->path);
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
        x->written = x->kicked = 0;
        x_note(&x->files, &x->n_files, &x->cap_files, x->path);
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

/* Start the write-back of what was written since the last kick; it does
 * not wait, and a failure shows at the fsync of the durability pass. */
static void x_kick(struct xtract *x)
{
    if (x->written > x->kicked)
        (void)sync_file_range(x->fd, (off_t)x->kicked, (off_t)(x->written - x->kicked),
                              SYNC_FILE_RANGE_WRITE);
    x->kicked = x->written;
}

static int x_data(void *ctx, const unsigned char *buf, size_t len, struct cel_err *err)
{
    struct xtract *x = ctx;
    if (x->fd < 0)
        return 0;
    if (stor_write_all(x->fd, buf, len) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot write '%s'", x->path);
    x->written += len;
    if (x->written - x->kicked < FLUSH_EVERY)
        return 0;
    x_kick(x);
    /* a large file: see whether the others still go on, as at each member */
    struct pool *p = x->job->pool;
    pthread_mutex_lock(&p->mu);
    bool stop = p->failed;
    pthread_mutex_unlock(&p->mu);
    if (stop) {
        x->job->stopped = true;
        return cel_err_set(err, CEL_E_PROC, "extraction of '%s' stopped", x->what);
    }
    return 0;
}

static int x_member_end(void *ctx, struct cel_err *err)
{
    struct xtract *x = ctx;
    if (x->fd < 0)
        return 0;
    int rc = 0;
    x_kick(x);
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

/* fsync one file written (a mode without read permission: opened for
 * writing instead, as root is not the only user restoring). */
static int sync_file(const char *path, struct cel_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == EACCES)
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ELOOP)
        return 0; /* a later member of that name was a symbolic link */
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", path);
    int rc = fsync(fd) < 0 ? cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", path) : 0;
    close(fd);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fsync a list of files from several threads at once: each fsync of a new
 * file waits for a journal commit, and the file system commits the
 * concurrent ones together. */
#define SYNC_THREADS 8

struct sync_list {
    char **paths;
    size_t n, next;
    int rc;
    struct cel_err err;
    pthread_mutex_t mu;
};

static void *sync_main(void *arg)
{
    struct sync_list *l = arg;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        size_t i = l->rc == 0 && l->next < l->n ? l->next++ : l->n;
        pthread_mutex_unlock(&l->mu);
        if (i == l->n)
            return NULL;
        struct cel_err e = {0};
        if (sync_file(l->paths[i], &e) < 0) {
            pthread_mutex_lock(&l->mu);
            if (l->rc == 0) {
                l->rc = -e.code;
                l->err = e;
            }
            pthread_mutex_unlock(&l->mu);
        }
    }
}

static int sync_files(char **paths, size_t n, struct cel_err *err)
{
    struct sync_list l = {.paths = paths, .n = n};
    pthread_mutex_init(&l.mu, NULL);
    pthread_t th[SYNC_THREADS];
    size_t started = 0;
    while (started < SYNC_THREADS && started < n &&
           pthread_create(&th[started], NULL, sync_main, &l) == 0)
        started++;
    if (started == 0)
        sync_main(&l);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&l.mu);
    if (l.rc < 0)
        *err = l.err;
    return l.rc;
}

/* The durability pass of one job: its files, then its directories (each
 * once). */
static int x_sync(struct xtract *x, struct cel_err *err)
{
    int rc = sync_files(x->files, x->n_files, err);
    x_note(&x->dirs, &x->n_dirs, &x->cap_dirs, x->dir);
    qsort(x->dirs, x->n_dirs, sizeof *x->dirs, cmp_str);
    for (size_t i = 0; i < x->n_dirs && rc == 0; i++)
        if (i == 0 || strcmp(x->dirs[i], x->dirs[i - 1]) != 0)
            rc = stor_fsync_dir(x->dirs[i], err);
    return rc;
}

static void x_free(struct xtract *x)
{
    if (x->fd >= 0)
        close(x->fd);
    for (size_t i = 0; i < x->n_files; i++)
        free(x->files[i]);
    for (size_t i = 0; i < x->n_dirs; i++)
        free(x->dirs[i]);
    free(x->files);
    free(x->dirs);
}

/* ---- one job: GET | decompress | untar ------------------------------------ */

/* A stage that failed because the stage after it quit says so: the error
 * to report is the later stage's. */
struct stage {
    int rc;
    bool stopped;
    struct cel_err err;
};

struct download {
    struct cloud_target *t;
    struct job *job;
    const char *key;
    int fd;            /* compressed: the socket's writing end, closed when done */
    struct ring *ring; /* plain: the ring */
    struct stage st;
};

static void fetched(struct download *d, size_t len)
{
    struct pool *p = d->job->pool;
    pthread_mutex_lock(&p->mu);
    p->bytes += len;
    pthread_mutex_unlock(&p->mu);
}

static int send_all(void *ctx, const void *buf, size_t len, struct cel_err *err)
{
    struct download *d = ctx;
    const char *p = buf;
    fetched(d, len);
    while (len > 0) {
        ssize_t n = send(d->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) { /* the decompressor stopped: its error is the one to report */
            d->st.stopped = true;
            return cel_err_sys(err, CEL_E_IO, errno, "extraction of '%s' stopped", d->key);
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A stage's bytes into the ring; when the tar reader has quit, the stage
 * stops too. */
static int stage_put(struct stage *st, struct ring *r, const char *key, const void *buf, size_t len,
                     struct cel_err *err)
{
    if (ring_put(r, buf, len))
        return 0;
    st->stopped = true;
    return cel_err_set(err, CEL_E_IO, "extraction of '%s' stopped", key);
}

static int put_ring(void *ctx, const void *buf, size_t len, struct cel_err *err)
{
    struct download *d = ctx;
    fetched(d, len);
    return stage_put(&d->st, d->ring, d->key, buf, len, err);
}

static void *download_main(void *arg)
{
    struct download *d = arg;
    d->st.rc = s3_get(d->t->s3, d->key, 0, 0, d->ring ? put_ring : send_all, d, &d->st.err);
    if (d->ring)
        ring_close(d->ring);
    else
        close(d->fd);
    return NULL;
}

struct inflater {
    enum comp_kind kind;
    int fd; /* the socket's reading end */
    const char *key;
    struct ring *ring;
    struct stage st;
};

static int inflated(void *ctx, const unsigned char *data, size_t len, struct cel_err *err)
{
    struct inflater *f = ctx;
    return stage_put(&f->st, f->ring, f->key, data, len, err);
}

static void *inflate_main(void *arg)
{
    struct inflater *f = arg;
    f->st.rc = comp_decompress_fd_each(f->kind, f->fd, f->key, inflated, f, NULL, &f->st.err);
    ring_close(f->ring);
    shutdown(f->fd, SHUT_RD); /* a download still sending stops at once */
    return NULL;
}

/* The job's thread: the ring's bytes into the tar reader. */
static int untar(struct ring *ring, struct tar_read *tr, struct cel_err *err)
{
    for (;;) {
        size_t len;
        const unsigned char *p = ring_take(ring, &len);
        if (len == 0)
            return tar_read_finish(tr, err);
        int rc = tar_read_feed(tr, p, len, err);
        ring_done(ring);
        if (rc < 0)
            return rc;
    }
}

static int run_job(struct cloud_target *t, struct job *j, struct cel_err *err)
{
    enum comp_kind kind;
    int rc = cloud_comp_kind(j->file->comp, &kind, err);
    if (rc < 0) {
        cel_err_prefix(err, "cannot restore '%s'", j->file->key);
        return rc;
    }
    struct ring ring;
    ring_init(&ring);
    struct download d = {.t = t, .job = j, .key = j->file->key, .fd = -1};
    struct inflater f = {.kind = kind, .key = j->file->key, .ring = &ring, .fd = -1};
    pthread_t dl, fl;
    bool have_fl = false;
    if (kind == COMP_NONE) {
        d.ring = &ring;
    } else {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            ring_free(&ring);
            return cel_err_sys(err, CEL_E_IO, errno, "cannot make a socket pair");
        }
        f.fd = sv[0];
        d.fd = sv[1];
        have_fl = pthread_create(&fl, NULL, inflate_main, &f) == 0;
        if (!have_fl) {
            close(sv[0]);
            close(sv[1]);
            ring_free(&ring);
            return cel_err_set(err, CEL_E_NOMEM, "cannot start a decompression thread");
        }
    }
    if (pthread_create(&dl, NULL, download_main, &d) != 0) {
        if (d.fd >= 0)
            close(d.fd); /* the decompressor sees the end and closes the ring */
        else
            ring_close(&ring);
        ring_stop(&ring);
        if (have_fl)
            pthread_join(fl, NULL);
        if (f.fd >= 0)
            close(f.fd);
        ring_free(&ring);
        return cel_err_set(err, CEL_E_NOMEM, "cannot start a download thread");
    }
    struct xtract x = {.job = j, .dir = j->dir, .what = j->file->key, .fd = -1};
    struct tar_read *tr = tar_read_new(
        &(struct tar_read_cb){
            .member = x_member, .data = x_data, .member_end = x_member_end, .ctx = &x},
        j->file->key);
    rc = untar(&ring, tr, err);
    ring_stop(&ring); /* producers still going stop at once */
    if (have_fl) {
        pthread_join(fl, NULL);
        close(f.fd);
    }
    pthread_join(dl, NULL);
    tar_read_free(tr);
    /* the first stage that failed on its own is the cause: a cut download
     * makes the decompressor and the tar reader see a truncated stream */
    if (d.st.rc < 0 && !d.st.stopped) {
        *err = d.st.err;
        rc = d.st.rc;
    } else if (f.st.rc < 0 && !f.st.stopped) {
        *err = f.st.err;
        rc = f.st.rc;
    }
    if (rc == 0)
        rc = x_sync(&x, err);
    x_free(&x);
    ring_free(&ring);
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
        if (j)
            j->running = true;
        pthread_mutex_unlock(&p->mu);
        if (!j)
            break;
        if (open_rc < 0) {
            j->rc = open_rc;
            j->err = open_err;
        } else {
            j->rc = run_job(&t, j, &j->err);
        }
        pthread_mutex_lock(&p->mu);
        j->running = false;
        p->done++;
        if (j->rc < 0)
            p->failed = true;
        pthread_mutex_unlock(&p->mu);
    }
    if (open_rc == 0)
        cloud_target_close(&t);
    pthread_mutex_lock(&p->mu);
    p->running--;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Report the pool's progress: called with p->mu held, which it lets go
 * while the sink works, so a slow reader of the events never holds up a
 * worker. */
static void report(const struct op_ctx *ctx, const char *server, struct pool *p, uint64_t total,
                   double t0)
{
    double secs = ts_monotonic() - t0;
    const struct job *cur = NULL; /* the running job that started a member last */
    for (size_t i = 0; i < p->n; i++)
        if (p->jobs[i].running && p->jobs[i].current[0] &&
            (!cur || p->jobs[i].current_no > cur->current_no))
            cur = &p->jobs[i];
    char current[PATH_MAX];
    cel_strlcpy(current, cur ? cur->current : "", sizeof current);
    struct op_progress pr = {.bytes_done = p->bytes,
                             .bytes_total = total > p->bytes ? total : p->bytes,
                             .files_done = p->done,
                             .files_total = p->n,
                             .rate = secs > 0 ? (double)p->bytes / secs : 0,
                             .current = current[0] ? current : NULL};
    pthread_mutex_unlock(&p->mu);
    op_progress(ctx, server, &pr);
    pthread_mutex_lock(&p->mu);
}

/* Run the jobs, `parallel` at a time, reporting progress from this thread
 * and stopping them when the op is cancelled. */
static void run_pool(const struct op_ctx *ctx, const char *server, struct pool *p, int parallel,
                     uint64_t total)
{
    pthread_t *th = cel_xcalloc((size_t)parallel, sizeof *th);
    double t0 = ts_monotonic();
    int started = 0;
    for (; started < parallel; started++) {
        pthread_mutex_lock(&p->mu);
        p->running++;
        pthread_mutex_unlock(&p->mu);
        if (pthread_create(&th[started], NULL, worker_main, p) != 0) {
            pthread_mutex_lock(&p->mu);
            p->running--;
            pthread_mutex_unlock(&p->mu);
            break;
        }
    }
    if (started == 0) {
        p->running = 1;
        worker_main(p); /* no thread to be had: do it here */
    }
    pthread_mutex_lock(&p->mu);
    while (p->running > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000 * 1000;
        if (until.tv_nsec >= 1000 * 1000 * 1000) {
            until.tv_sec++;
            until.tv_nsec -= 1000 * 1000 * 1000;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &until);
        if (op_cancelled(ctx))
            p->failed = true;
        if (p->running > 0)
            report(ctx, server, p, total, t0);
    }
    bool ok = !p->failed;
    if (ok)
        report(ctx, server, p, total, t0); /* the last: every byte */
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
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
            rc =
                cel_err_set(err, CEL_E_NOT_FOUND, "missing file %s.tar* of backup %s for server %s",
                            d == 0 ? "data" : b->tablespaces[d - 1].name, b->id, server);
        else if (dir_nonempty(dirs[d])) {
            rc = cel_err_set(err, CEL_E_CONFLICT,
                             "destination '%s' already exists and it is not "
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

    int parallel = req->parallel > 0 ? req->parallel : par_cpus();
    if ((size_t)parallel > n_jobs)
        parallel = (int)n_jobs;
    struct pool pool = {.store = &req->store.target, .jobs = jobs, .n = n_jobs};
    uint64_t total = 0;
    for (size_t j = 0; j < n_jobs; j++) {
        jobs[j].pool = &pool;
        total += jobs[j].file->size;
    }
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.cv, NULL);
    op_phase(ctx, server, "restore", "restoring backup %s: %zu objects, %llu bytes, %d at a time",
             b->id, n_jobs, (unsigned long long)total, parallel);
    run_pool(ctx, server, &pool, parallel, total);
    pthread_cond_destroy(&pool.cv);
    pthread_mutex_destroy(&pool.mu);
    if (op_cancelled(ctx)) {
        rc = cel_err_set(err, CEL_E_PROC, "interrupted by signal %d", *ctx->cancel);
        cel_err_hint(err, "The destination holds a partial restore: remove it before trying "
                          "again.");
    }
    /* the first job that failed on its own: the others stopped because of it */
    for (size_t j = 0; j < n_jobs && rc == 0; j++)
        if (jobs[j].rc < 0 && !jobs[j].stopped) {
            *err = jobs[j].err;
            rc = jobs[j].rc;
        }
    for (size_t j = 0; j < n_jobs && rc == 0; j++)
        if (jobs[j].rc < 0) {
            *err = jobs[j].err;
            rc = jobs[j].rc;
        }
    for (size_t j = 0; j < n_jobs && rc == 0; j++)
        op_log(ctx, LOG_DEBUG, server, "extracted %s into %s (%s)", jobs[j].file->key, jobs[j].dir,
               cloud_comp_name(jobs[j].file->comp));
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
    /* the jobs synced what they wrote; the links and pg_wal are entries of
     * these two directories */
    if (rc == 0 && n_tbs > 0) {
        char tblspc[PATH_MAX];
        snprintf(tblspc, sizeof tblspc, "%s/pg_tblspc", dirs[0]);
        rc = stor_fsync_dir(tblspc, err);
    }
    if (rc == 0)
        rc = stor_fsync_dir(dirs[0], err);
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
