/*
 * cloud_tar.c - a tar archive streamed through a compressor into a
 * multipart upload.
 *
 * Two threads per open part. The caller's thread builds the tar (headers
 * from tar_write.h, file contents read in 1 MiB pieces), compresses it
 * (comp_stream.h) and writes the result into one end of a socket pair; an
 * upload thread runs s3_upload, whose read callback takes the bytes from
 * the other end and whose own workers send the parts in parallel. A socket
 * pair rather than a pipe so that a write after the upload thread gave up
 * fails with EPIPE instead of raising SIGPIPE (MSG_NOSIGNAL).
 *
 * Ending a part: the writer closes its end; the reader sees the end of the
 * stream and s3_upload completes the object. Abandoning a part: the writer
 * sets `abandoned` before closing, and the reader then answers the end of
 * the stream with an error, so s3_upload aborts the multipart upload and
 * no truncated archive is ever stored under the name. When the upload
 * fails first, its thread closes its end, the writer's next send fails,
 * and the writer reports the upload's error, the real cause.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <grp.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cel.h"
#include "cloud_tar.h"
#include "comp_stream.h"
#include "rsync.h"
#include "tar_write.h"
#include "ts.h"

#define READ_CHUNK (1u << 20)

/* One part being uploaded. */
struct part {
    int fd[2]; /* [0] the writer's end, [1] the upload thread's */
    pthread_t thread;
    bool started;
    char *key;
    atomic_bool abandoned;
    int rc;
    struct cel_err err;
    struct s3_upload_result res;
    double t0, t1;
};

struct cloud_tar {
    struct cloud_tar_opts o;
    struct comp_stream *cs;
    struct part *cur;
    unsigned part_no;
    unsigned char *buf;
    struct cloud_tar_stats st;
    uint64_t part_stored; /* bytes written into the current part */
    bool failed;
    /* one-entry caches of the owner names */
    uid_t uid;
    gid_t gid;
    char uname[33], gname[33];
    bool have_uid, have_gid;
};

/* ---- the upload thread -------------------------------------------------- */

static ssize_t part_read(void *ctx, void *buf, size_t len, struct cel_err *err)
{
    struct part *p = ctx;
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(p->fd[1], (char *)buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cel_err_sys(err, CEL_E_IO, errno, "reading the archive for %s", p->key);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got < len && atomic_load(&p->abandoned))
        return cel_err_set(err, CEL_E_IO, "the archive %s was abandoned", p->key);
    return (ssize_t)got;
}

struct upload_args {
    struct part *p;
    struct s3_client *s3;
    int parallel;
};

static void *part_upload(void *arg)
{
    struct upload_args *a = arg;
    struct part *p = a->p;
    struct s3_upload_opts uo = {.parallel = a->parallel};
    p->t0 = ts_monotonic();
    p->rc = s3_upload(a->s3, p->key, part_read, p, &uo, &p->res, &p->err);
    p->t1 = ts_monotonic();
    /* the writer's next send fails rather than waits */
    shutdown(p->fd[1], SHUT_RDWR);
    free(a);
    return NULL;
}

/* ---- parts ---------------------------------------------------------------- */

static int part_start(struct cloud_tar *t, struct cel_err *err)
{
    char *key = cloud_backup_key(t->o.prefix, t->o.server, t->o.backup_id, t->o.kind, t->o.oid,
                                 t->part_no, t->o.comp, err);
    if (!key)
        return -CEL_E_INVALID;
    struct part *p = cel_xcalloc(1, sizeof *p);
    p->key = key;
    atomic_init(&p->abandoned, false);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->fd) < 0) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "socketpair");
        free(p->key);
        free(p);
        return rc;
    }
    /* room for a few chunks in flight */
    int sz = 1 << 20;
    setsockopt(p->fd[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(p->fd[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    struct upload_args *a = cel_xcalloc(1, sizeof *a);
    a->p = p;
    a->s3 = t->o.s3;
    a->parallel = t->o.parallel;
    int e = pthread_create(&p->thread, NULL, part_upload, a);
    if (e != 0) {
        free(a);
        close(p->fd[0]);
        close(p->fd[1]);
        free(p->key);
        free(p);
        return cel_err_sys(err, CEL_E_IO, e, "cannot start the upload thread");
    }
    p->started = true;
    t->cur = p;
    t->part_stored = 0;
    t->st.archives++;
    return 0;
}

/* End the current part: completed (abandon false) or aborted. Returns the
 * upload's result. */
static int part_end(struct cloud_tar *t, bool abandon, struct cel_err *err)
{
    struct part *p = t->cur;
    if (!p)
        return 0;
    t->cur = NULL;
    if (abandon)
        atomic_store(&p->abandoned, true);
    close(p->fd[0]);
    pthread_join(p->thread, NULL);
    close(p->fd[1]);
    int rc = p->rc;
    if (rc < 0 && !abandon && err)
        *err = p->err;
    if (t->st.archives == 1 || p->t0 < t->st.start)
        t->st.start = p->t0;
    t->st.end = p->t1;
    t->st.serialized += p->t1 - p->t0;
    t->st.stored += p->res.size;
    free(p->key);
    free(p);
    return abandon ? 0 : rc;
}

/* Compressed bytes to the upload thread. */
static int send_out(void *ctx, const void *buf, size_t len, struct cel_err *err)
{
    struct cloud_tar *t = ctx;
    const char *b = buf;
    while (len > 0) {
        ssize_t n = send(t->cur->fd[0], b, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            /* the upload thread stopped: its error says why */
            struct part *p = t->cur;
            close(p->fd[0]);
            p->fd[0] = -1;
            pthread_join(p->thread, NULL);
            p->started = false;
            if (p->rc < 0) {
                *err = p->err;
                return p->rc;
            }
            return cel_err_sys(err, CEL_E_IO, e, "sending the archive to %s", p->key);
        }
        b += n;
        len -= (size_t)n;
        t->part_stored += (uint64_t)n;
    }
    return 0;
}

static int stream_start(struct cloud_tar *t, struct cel_err *err)
{
    int rc = part_start(t, err);
    if (rc < 0)
        return rc;
    enum comp_kind kind;
    rc = cloud_comp_kind(t->o.comp, &kind, err);
    if (rc < 0)
        return rc;
    t->cs = comp_stream_new(kind, 0, send_out, t, err);
    return t->cs ? 0 : -CEL_E_INVALID;
}

/* The tar trailer and the compressor's end into the current part. */
static int stream_finish(struct cloud_tar *t, struct cel_err *err)
{
    static const unsigned char zeros[TAR_END_LEN];
    int rc = comp_stream_write(t->cs, zeros, sizeof zeros, err);
    if (rc == 0)
        rc = comp_stream_finish(t->cs, err);
    t->st.tar_bytes += comp_stream_in(t->cs);
    comp_stream_free(t->cs);
    t->cs = NULL;
    return rc;
}

/* A failure: the part in flight is abandoned; the tar can take nothing more. */
static int fail(struct cloud_tar *t, int rc)
{
    t->failed = true;
    if (t->cs) {
        t->st.tar_bytes += comp_stream_in(t->cs);
        comp_stream_free(t->cs);
        t->cs = NULL;
    }
    if (t->cur && !t->cur->started) {
        /* send_out already joined the thread */
        struct part *p = t->cur;
        t->cur = NULL;
        if (p->fd[0] >= 0)
            close(p->fd[0]);
        close(p->fd[1]);
        free(p->key);
        free(p);
    } else {
        part_end(t, true, NULL);
    }
    return rc;
}

/* Before each member: refuse after a failure, stop on cancel, and start the
 * next part when this one has grown past max_size. */
static int before_member(struct cloud_tar *t, struct cel_err *err)
{
    if (t->failed)
        return cel_err_set(err, CEL_E_INTERNAL, "the archive failed already");
    if (t->o.cancel && *t->o.cancel)
        return fail(t, cel_err_set(err, CEL_E_IO, "cancelled"));
    if (!t->o.max_size || t->part_stored <= t->o.max_size)
        return 0;
    int rc = stream_finish(t, err);
    if (rc == 0)
        rc = part_end(t, false, err);
    if (rc == 0) {
        t->part_no++;
        rc = stream_start(t, err);
    }
    return rc < 0 ? fail(t, rc) : 0;
}

int cloud_tar_open(const struct cloud_tar_opts *o, struct cloud_tar **out, struct cel_err *err)
{
    *out = NULL;
    if (o->comp != CLOUD_COMP_NONE && o->comp != CLOUD_COMP_GZIP && o->comp != CLOUD_COMP_BZIP2)
        return cel_err_set(err, CEL_E_INVALID, "cloud-backup cannot write %s archives",
                           cloud_comp_name(o->comp));
    struct cloud_tar *t = cel_xcalloc(1, sizeof *t);
    t->o = *o;
    t->buf = cel_xmalloc(READ_CHUNK);
    int rc = stream_start(t, err);
    if (rc < 0) {
        fail(t, rc);
        cloud_tar_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* The owner names, as tar writes them (empty when unknown). */
static void owner_names(struct cloud_tar *t, uid_t uid, gid_t gid, struct tar_entry *e)
{
    if (!t->have_uid || t->uid != uid) {
        struct passwd *pw = getpwuid(uid);
        snprintf(t->uname, sizeof t->uname, "%s", pw ? pw->pw_name : "");
        t->uid = uid;
        t->have_uid = true;
    }
    if (!t->have_gid || t->gid != gid) {
        struct group *gr = getgrgid(gid);
        snprintf(t->gname, sizeof t->gname, "%s", gr ? gr->gr_name : "");
        t->gid = gid;
        t->have_gid = true;
    }
    e->uname = t->uname;
    e->gname = t->gname;
}

static int write_header(struct cloud_tar *t, struct tar_entry *e, const struct stat *st,
                        struct cel_err *err)
{
    unsigned char h[TAR_HEADER_MAX];
    e->uid = st->st_uid;
    e->gid = st->st_gid;
    e->mtime = (int64_t)st->st_mtime;
    owner_names(t, st->st_uid, st->st_gid, e);
    ssize_t n = tar_header(e, h, err);
    if (n < 0)
        return (int)n;
    t->st.members++;
    return comp_stream_write(t->cs, h, (size_t)n, err);
}

static int write_padding(struct cloud_tar *t, uint64_t size, struct cel_err *err)
{
    static const unsigned char zeros[TAR_BLOCK];
    size_t pad = tar_padding(size);
    return pad ? comp_stream_write(t->cs, zeros, pad, err) : 0;
}

/* The content of the file open at fd: size bytes, padded with zeros when
 * it ends sooner, cut when it is longer. */
static int write_content(struct cloud_tar *t, int fd, const char *path, uint64_t size,
                         struct cel_err *err)
{
    uint64_t done = 0;
    bool short_file = false;
    while (done < size) {
        size_t want = size - done < READ_CHUNK ? (size_t)(size - done) : READ_CHUNK;
        size_t got = 0;
        while (!short_file && got < want) {
            ssize_t n = read(fd, t->buf + got, want - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", path);
            if (n == 0)
                short_file = true;
            got += (size_t)n;
        }
        if (got < want)
            memset(t->buf + got, 0, want - got);
        int rc = comp_stream_write(t->cs, t->buf, want, err);
        if (rc < 0)
            return rc;
        done += want;
    }
    if (short_file)
        t->st.truncated++;
    return write_padding(t, size, err);
}

int cloud_tar_add_path(struct cloud_tar *t, const char *path, const char *arcname, bool *added,
                       struct cel_err *err)
{
    if (added)
        *added = false;
    int rc = before_member(t, err);
    if (rc < 0)
        return rc;
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT) {
            t->st.vanished++;
            return 0;
        }
        return fail(t, cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", path));
    }
    struct tar_entry e = {.name = arcname, .mode = st.st_mode & 07777};
    char target[TAR_NAME_MAX + 1];
    int fd = -1;
    if (S_ISLNK(st.st_mode)) {
        struct stat ts;
        if (stat(path, &ts) == 0 && S_ISDIR(ts.st_mode)) {
            e.type = '5';
            e.mode = ts.st_mode & 07777;
        } else {
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n < 0 && errno == ENOENT) {
                t->st.vanished++;
                return 0;
            }
            if (n < 0)
                return fail(t, cel_err_sys(err, CEL_E_IO, errno, "cannot read the link '%s'",
                                           path));
            target[n] = '\0';
            e.type = '2';
            e.link = target;
        }
    } else if (S_ISDIR(st.st_mode)) {
        e.type = '5';
    } else if (S_ISREG(st.st_mode)) {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
            t->st.vanished++;
            return 0;
        }
        if (fd < 0)
            return fail(t, cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", path));
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        e.type = '0';
        e.size = (uint64_t)st.st_size;
    } else {
        return 0; /* sockets, FIFOs, devices: not part of a backup */
    }
    rc = write_header(t, &e, &st, err);
    if (rc == 0 && fd >= 0)
        rc = write_content(t, fd, path, e.size, err);
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        return fail(t, rc);
    if (added)
        *added = true;
    return 0;
}

int cloud_tar_add_data(struct cloud_tar *t, const char *arcname, const void *buf, size_t len,
                       const struct stat *st, struct cel_err *err)
{
    int rc = before_member(t, err);
    if (rc < 0)
        return rc;
    struct tar_entry e = {.name = arcname, .type = '0', .mode = 0600, .size = len};
    rc = write_header(t, &e, st, err);
    if (rc == 0)
        rc = comp_stream_write(t->cs, buf, len, err);
    if (rc == 0)
        rc = write_padding(t, len, err);
    return rc < 0 ? fail(t, rc) : 0;
}

int cloud_tar_close(struct cloud_tar *t, struct cel_err *err)
{
    if (t->failed)
        return cel_err_set(err, CEL_E_INTERNAL, "the archive failed already");
    int rc = stream_finish(t, err);
    if (rc < 0)
        return fail(t, rc);
    rc = part_end(t, false, err);
    if (rc < 0)
        t->failed = true;
    return rc;
}

void cloud_tar_get_stats(const struct cloud_tar *t, struct cloud_tar_stats *out)
{
    *out = t->st;
}

const char *cloud_tar_key(const struct cloud_tar *t)
{
    return t->cur ? t->cur->key : "";
}

void cloud_tar_free(struct cloud_tar *t)
{
    if (!t)
        return;
    if (t->cs || t->cur)
        fail(t, 0);
    free(t->buf);
    free(t);
}

/* ---- --max-archive-size ----------------------------------------------------- */

int cloud_size_parse(const char *text, uint64_t *out, struct cel_err *err)
{
    char up[64];
    size_t len = text ? strlen(text) : 0;
    if (len == 0 || len >= sizeof up)
        goto bad;
    for (size_t i = 0; i <= len; i++)
        up[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32 : text[i]);
    double mult = 1;
    size_t num_len = len;
    if (up[len - 1] == 'B') {
        /* "KiB" is read as powers of 1000 and "KB" of 1024: barman-cloud
         * 3.4's check_size reads them so */
        bool si = len >= 2 && up[len - 2] == 'I';
        double base = si ? 1000 : 1024;
        size_t idx = si ? 3 : 2;
        const char *prefixes = "KMGTPEZY";
        const char *pp = len >= idx ? strchr(prefixes, up[len - idx]) : NULL;
        if (pp && up[len - idx] != '\0') {
            for (const char *q = prefixes; q <= pp; q++)
                mult *= base;
            num_len = len - idx;
        } else {
            num_len = len - idx + 1; /* "1234B" */
        }
    }
    if (num_len == 0)
        goto bad;
    char num[64];
    memcpy(num, up, num_len);
    num[num_len] = '\0';
    char *end;
    errno = 0;
    double v;
    if (mult == 1) {
        unsigned long long iv = strtoull(num, &end, 10);
        if (*end || errno || num[0] == '-')
            goto bad;
        v = (double)iv;
    } else {
        v = strtod(num, &end);
        if (*end || errno)
            goto bad;
        v *= mult;
    }
    if (!(v >= 1) || v > 1.8e19)
        goto bad;
    *out = (uint64_t)v;
    return 0;
bad:
    return cel_err_set(err, CEL_E_INVALID, "'%s' is not a valid size string",
                       text ? text : "");
}

/* Walk dir (its path relative to the archive's root is rel, "" for the
 * root) into tar: each entry the filter keeps, directories before what
 * they hold, in name order; an excluded directory is not descended. */
static int walk(struct cloud_tar *tar, const struct rsync_filter *f, const char *dir,
                const char *rel, struct cel_err *err)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        /* a directory that vanished: WAL replay recreates what it held */
        if (errno == ENOENT)
            return 0;
        return cel_err_sys(err, CEL_E_IO, errno, "cannot list '%s'", dir);
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (rc < 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        char *path = cel_xasprintf("%s/%s", dir, name);
        char *arc = rel[0] ? cel_xasprintf("%s/%s", rel, name) : cel_xstrdup(name);
        struct stat st;
        if (lstat(path, &st) == 0) {
            bool is_dir = S_ISDIR(st.st_mode);
            if (!rsync_filter_excludes(f, arc, is_dir)) {
                bool added = false;
                rc = cloud_tar_add_path(tar, path, arc, &added, err);
                if (rc == 0 && added && is_dir)
                    rc = walk(tar, f, path, arc, err);
            }
        } else if (errno != ENOENT) {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", path);
        }
        free(arc);
        free(path);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int cloud_tar_add_tree(struct cloud_tar *tar, const char *src, const char *const *include,
                       const char *const *exclude, struct cel_err *err)
{
    struct rsync_filter *f = rsync_filter_new(include, exclude);
    int rc = cloud_tar_add_path(tar, src, ".", NULL, err);
    if (rc == 0)
        rc = walk(tar, f, src, "", err);
    rsync_filter_free(f);
    return rc;
}
