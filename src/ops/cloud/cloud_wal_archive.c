/*
 * cloud_wal_archive.c - cloud-wal-archive: one WAL file into the bucket,
 * for archive_command, as barman-cloud-wal-archive 3.4 stores it.
 *
 * PostgreSQL removes a WAL file once archive_command exits 0, so 0 means
 * the object is in the store and is this file: after the PUT a HEAD must
 * show the size sent and, the body going as one PUT, an ETag equal to the
 * body's MD5. Every failure is a non-zero exit and PostgreSQL retries.
 *
 * archive_command may run again for a file already stored (a crash after
 * the upload, before PostgreSQL noted it), so before uploading the
 * objects already under this name (any compression, one LIST) are looked
 * at: the same key with the same size and MD5 is success without a PUT;
 * any other object under the name is fetched and its content compared
 * with the file: the same WAL is success, a different one is refused and
 * nothing is overwritten (two different files under one WAL name mean two
 * clusters share a destination, or a timeline went wrong).
 *
 * The body is the file itself (no compression) or a compressed copy in
 * $TMPDIR (else /tmp), removed at the end. Requests: LIST, PUT, HEAD.
 * Nothing here reads a cellar configuration: it runs as PostgreSQL's user.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud_wal_io.h"
#include "cloud_wal_pick.h"
#include "ops.h"
#include "s3_query.h"

/* The temporary files' directory. */
static const char *tmp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

/* Whether the object o holds the same WAL as the file at path: fetched and
 * decompressed into $TMPDIR, then compared byte for byte. */
static int same_wal(struct s3_client *s3, const struct cloud_wal_obj *o, const char *path,
                    bool *same, struct cel_err *err)
{
    char *copy = cel_xasprintf("%s/cellar-wal-%ld-%s", tmp_dir(), (long)getpid(), o->k.wal);
    int rc = cloud_fetch_to(s3, o->key, o->k.comp, copy, NULL, err);
    if (rc == 0)
        rc = comp_same_content(COMP_NONE, copy, path, NULL, same, err);
    unlink(copy);
    free(copy);
    return rc;
}

/* The work once the target is open and the WAL name checked. */
static int archive(const struct op_ctx *ctx, const struct op_cloud_wal_archive_req *req,
                   const struct cloud_target *t, const char *name, struct cel_err *err)
{
    enum comp_kind kind;
    int rc = cloud_comp_kind(req->comp, &kind, err);
    if (rc < 0)
        return rc;
    char *key = cloud_wal_key(t->url.prefix, t->server, name, req->comp, err);
    char *plain_key = cloud_wal_key(t->url.prefix, t->server, name, CLOUD_COMP_NONE, err);
    if (!key || !plain_key) {
        free(key);
        free(plain_key);
        return -CEL_E_INVALID;
    }
    char *tmp = NULL;
    const char *body = req->wal_path;
    int fd = -1;
    if (kind != COMP_NONE) {
        tmp = cel_xasprintf("%s/cellar-wal-%ld-%s%s", tmp_dir(), (long)getpid(), name,
                            cloud_comp_ext(req->comp));
        rc = comp_compress_file(kind, req->wal_path, tmp, NULL, NULL, err);
        body = tmp;
    }
    if (rc == 0) {
        fd = open(body, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", body);
    }
    /* the MD5 to check the stored object's ETag against */
    struct s3_file_digest dg = {0};
    struct stat st;
    uint64_t size = 0;
    if (rc == 0 && (fstat(fd, &st) != 0 || s3_file_digest(fd, (uint64_t)st.st_size, &dg) < 0))
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", body);
    if (rc == 0)
        size = (uint64_t)st.st_size;
    const char *md5 = dg.md5_hex;

    /* what is already stored under this name, whatever its compression */
    struct cloud_wal_list l = {0};
    if (rc == 0)
        rc = cloud_wal_list_keys(t->s3, t->url.prefix, plain_key, &l, NULL, err);
    const struct cloud_wal_obj *have = NULL;
    for (size_t i = 0; rc == 0 && i < l.n && !have; i++)
        if (strcmp(l.v[i].k.wal, name) == 0)
            have = &l.v[i];
    if (rc == 0 && !have) {
        rc = cloud_put_verified(t, key, fd, body, size, md5, err);
        if (rc == 0)
            op_log(ctx, LOG_DEBUG, t->server, "archived '%s' as '%s' (%llu bytes, %s)",
                   req->wal_path, key, (unsigned long long)size, cloud_comp_name(req->comp));
    } else if (rc == 0) {
        /* the same key, size and MD5 is the same body; else compare the WAL */
        bool same = strcmp(have->key, key) == 0 && have->size == size &&
                    cloud_etag_is(have->etag, md5);
        if (!same)
            rc = same_wal(t->s3, have, req->wal_path, &same, err);
        if (rc == 0 && same)
            op_log(ctx, LOG_DEBUG, t->server, "'%s' is already archived as '%s' (the same WAL)",
                   name, have->key);
        else if (rc == 0)
            rc = cel_err_set(err, CEL_E_CONFLICT,
                             "WAL file %s is already archived as '%s' with different content: "
                             "refusing to overwrite it",
                             name, have->key);
        if (rc == -CEL_E_CONFLICT)
            cel_err_hint(err, "Two clusters may be archiving to the same destination and server "
                              "name, or the cluster's timeline was reused; give this one its "
                              "own SERVER_NAME or check it with cloud-check-wal-archive.");
    }
    cloud_wal_list_free(&l);
    if (fd >= 0)
        close(fd);
    if (tmp)
        unlink(tmp);
    free(tmp);
    free(key);
    free(plain_key);
    return rc;
}

int op_cloud_wal_archive(const struct op_ctx *ctx, const struct op_cloud_wal_archive_req *req,
                         struct cel_err *err)
{
    char *copy = cel_xstrdup(req->wal_path ? req->wal_path : "");
    const char *name = basename(copy);
    int rc = 0;
    if (!req->store.test) {
        if (!req->wal_path)
            rc = cel_err_set(err, CEL_E_USAGE, "cloud-wal-archive: give WAL_PATH (%%p)");
        else if (wal_name_parse(name, &(struct wal_name){0}, err) < 0)
            rc = cel_err_set(err, CEL_E_INVALID, "'%s' is not the name of a WAL file: nothing "
                                                 "uploaded",
                             req->wal_path);
    }
    struct cloud_target t;
    if (rc == 0)
        rc = cloud_store_open(&req->store, &t, err);
    if (rc != 0) {
        free(copy);
        return rc < 0 ? rc : 0;
    }
    rc = archive(ctx, req, &t, name, err);
    cloud_target_explain(&t, err);
    cloud_target_close(&t);
    free(copy);
    return rc;
}
