/*
 * cloud_wal_io.c - one WAL file between a local file and an object (see
 * cloud_wal_io.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cloud_wal_io.h"
#include "storage.h"

bool cloud_etag_is(const char *etag, const char *hex)
{
    size_t len = strlen(etag);
    if (len >= 2 && etag[0] == '"' && etag[len - 1] == '"') {
        etag++;
        len -= 2;
    }
    return len == strlen(hex) && strncasecmp(etag, hex, len) == 0;
}

static int write_fd(void *ctx, const void *buf, size_t len, struct cel_err *err)
{
    int fd = *(int *)ctx;
    if (stor_write_all(fd, buf, len) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot write a fetched WAL file");
    return 0;
}

int cloud_get_to_fd(struct s3_client *s3, const char *key, int fd, struct cel_err *err)
{
    return s3_get(s3, key, 0, 0, write_fd, &fd, err);
}

/* A temporary file beside dest: DIR/.BASE.PID.SUFFIX. */
static char *beside(const char *dest, const char *suffix)
{
    char *copy1 = cel_xstrdup(dest), *copy2 = cel_xstrdup(dest);
    char *p = cel_xasprintf("%s/.%s.%ld.%s", dirname(copy1), basename(copy2), (long)getpid(),
                            suffix);
    free(copy1);
    free(copy2);
    return p;
}

int cloud_fetch_to(struct s3_client *s3, const char *key, enum cloud_comp comp,
                   const char *dest, uint64_t *out_size, struct cel_err *err)
{
    enum comp_kind kind;
    int rc = cloud_comp_kind(comp, &kind, err);
    if (rc < 0)
        return rc;
    char *zpath = kind == COMP_NONE ? NULL : beside(dest, "z");
    char *part = beside(dest, "part");
    int zfd = -1;
    uint64_t bytes = 0;
    int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", part);
        goto out;
    }
    if (!zpath) {
        rc = cloud_get_to_fd(s3, key, fd, err);
    } else {
        zfd = open(zpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (zfd < 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", zpath);
        if (rc == 0)
            rc = cloud_get_to_fd(s3, key, zfd, err);
        if (rc == 0)
            rc = comp_decompress_to_fd(kind, zpath, fd, NULL, &bytes, err);
    }
    if (rc == 0 && !zpath) {
        off_t end = lseek(fd, 0, SEEK_CUR);
        bytes = end > 0 ? (uint64_t)end : 0;
    }
    if (rc == 0 && fsync(fd) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", part);
    if (close(fd) < 0 && rc == 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot write '%s'", part);
    if (rc == 0 && rename(part, dest) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot rename '%s' to '%s'", part, dest);
    if (rc == 0)
        rc = stor_fsync_parent(dest, err);
out:
    if (zfd >= 0)
        close(zfd);
    if (zpath)
        unlink(zpath);
    if (rc < 0)
        unlink(part);
    else if (out_size)
        *out_size = bytes;
    free(zpath);
    free(part);
    return rc;
}

struct collect_ctx {
    struct cloud_wal_list *l;
    const char *prefix;
};

static int collect(void *ctx, const struct s3_entry *e, struct cel_err *err)
{
    (void)err;
    struct collect_ctx *c = ctx;
    if (!e->is_prefix)
        cloud_wal_list_add(c->l, c->prefix, e->key, e->size, e->etag);
    return 0;
}

int cloud_wal_list_keys(struct s3_client *s3, const char *url_prefix, const char *key_prefix,
                        struct cloud_wal_list *l, bool *no_bucket, struct cel_err *err)
{
    struct collect_ctx c = {l, url_prefix};
    struct s3_list_opts lo = {.prefix = key_prefix};
    int rc = s3_list(s3, &lo, collect, &c, err);
    if (no_bucket)
        *no_bucket = rc == -CEL_E_NOT_FOUND;
    if (rc == -CEL_E_NOT_FOUND) {
        cel_err_clear(err);
        rc = 0;
    }
    return rc;
}

int cloud_put_verified(const struct cloud_target *t, const char *key, int fd, const char *body,
                       uint64_t size, const char *md5, struct cel_err *err)
{
    int rc = s3_put_fd(t->s3, key, fd, err);
    if (rc == -CEL_E_NOT_FOUND && strstr(err->msg, "NoSuchBucket")) {
        cel_err_clear(err);
        rc = s3_bucket_create(t->s3, err);
        if (rc == 0)
            rc = s3_put_fd(t->s3, key, fd, err);
    }
    if (rc < 0)
        return rc;
    struct s3_head h;
    rc = s3_head(t->s3, key, &h, err);
    if (rc < 0)
        return rc;
    if (!h.exists)
        return cel_err_set(err, CEL_E_CLOUD, "'%s' is not in the bucket after its upload", key);
    if (h.size != size || !cloud_etag_is(h.etag, md5))
        return cel_err_set(err, CEL_E_CLOUD,
                           "the object '%s' does not match what was sent from '%s': %llu bytes "
                           "with ETag %s, expected %llu bytes with MD5 %s",
                           key, body, (unsigned long long)h.size, h.etag,
                           (unsigned long long)size, md5);
    return 0;
}
