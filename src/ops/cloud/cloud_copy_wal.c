/*
 * cloud_copy_wal.c - the WAL part of a server's copy in its bucket: every
 * file xlog.db lists that the bucket lacks, uploaded as stored in
 * wals_directory (already compressed by the server's `compression`) under
 * barman-cloud's key with the matching suffix (.gz, .bz2; none), so
 * barman-cloud-wal-restore and cloud-wal-restore read it.
 *
 * The state file (cloud_copy_state.c) says how far the upload got:
 * wal_upto, the last name uploaded with every xlog.db entry before it, and
 * wal_count, how many entries xlog.db listed up to it then. A run uploads
 * the entries after wal_upto in name order (xlog.db is sorted), one PUT and
 * one HEAD each (the stored size and ETag must be the file's size and MD5),
 * and moves the mark after each: a run killed or cut off by the store loses
 * nothing, the next one carries on at the first file not marked (and a
 * file uploaded just before the kill is put again, the same bytes).
 *
 * When the state is missing, damaged, or describes another destination, or
 * when xlog.db now lists more entries up to wal_upto than it did (a
 * rebuild-xlogdb found files, a file was archived out of order), the copy
 * is reconciled: one listing of wals/ in the bucket, and every entry of
 * xlog.db it lacks is uploaded. Fewer entries is retention, which removes
 * the oldest: the count follows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud_catalog.h"
#include "cloud_copy.h"
#include "cloud_wal_io.h"
#include "s3_query.h"
#include "server.h"
#include "ts.h"

/* Save the state every this many uploads (and at the end). */
#define SAVE_EVERY 32

int cloud_copy_wal_comp(const struct cfg_server *s, const char *xdb_compression,
                        enum cloud_comp *out, struct cel_err *err)
{
    enum comp_kind kind;
    int rc = comp_parse_name(xdb_compression, &kind, err);
    if (rc < 0)
        return rc;
    switch (kind) {
    case COMP_NONE:
        *out = CLOUD_COMP_NONE;
        return 0;
    case COMP_GZIP:
        *out = CLOUD_COMP_GZIP;
        return 0;
    case COMP_BZIP2:
        *out = CLOUD_COMP_BZIP2;
        return 0;
    case COMP_ZSTD:
        *out = CLOUD_COMP_ZSTD;
        return 0;
    case COMP_LZ4:
        *out = CLOUD_COMP_LZ4;
        return 0;
    case COMP_CUSTOM:
        break;
    }
    rc = cel_err_set(err, CEL_E_CONFIG,
                     "server %s: WAL compressed with compression = custom cannot be read by "
                     "barman-cloud: nothing is uploaded to cloud_destination",
                     s->name);
    cel_err_hint(err, "Use compression = gzip or bzip2 (or none) for a server with "
                      "cloud_destination; the files archived so far stay custom.");
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names the bucket holds, sorted (one listing of wals/). A bucket that
 * does not exist holds none. */
static int list_names(struct cloud_copy *c, char ***names, size_t *n, struct cel_err *err)
{
    struct cloud_wal *w = NULL;
    size_t nw = 0;
    *names = NULL;
    *n = 0;
    int rc = cloud_catalog_wals(&c->t, &w, &nw, err);
    if (rc == -CEL_E_NOT_FOUND) {
        cel_err_clear(err);
        return 0;
    }
    if (rc < 0)
        return rc;
    char **v = cel_xcalloc(nw + 1, sizeof *v);
    for (size_t i = 0; i < nw; i++)
        v[i] = cel_xstrdup(w[i].name);
    qsort(v, nw, sizeof *v, cmp_name);
    cloud_wals_free(w, nw);
    *names = v;
    *n = nw;
    return 0;
}

/* Upload one archived file as stored, verified by HEAD. */
static int put_one(struct cloud_copy *c, const struct xdb_entry *e, struct cel_err *err)
{
    if (e->encryption[0])
        return cel_err_set(err, CEL_E_CONFIG,
                           "WAL file %s is encrypted (%s), which barman-cloud cannot read: not "
                           "uploaded",
                           e->name, e->encryption);
    enum cloud_comp comp;
    int rc = cloud_copy_wal_comp(c->s, e->compression, &comp, err);
    if (rc < 0)
        return rc;
    char *key = cloud_wal_key(c->t.url.prefix, c->t.server, e->name, comp, err);
    if (!key)
        return -CEL_E_INVALID;
    char *path = op_wal_path(c->s, e->name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    struct s3_file_digest dg = {0};
    if (fd < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", path);
    else if (fstat(fd, &st) != 0 || s3_file_digest(fd, (uint64_t)st.st_size, &dg) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", path);
    if (rc == 0)
        rc = cloud_put_verified(&c->t, key, fd, path, (uint64_t)st.st_size, dg.md5_hex, err);
    if (rc == 0) {
        c->bytes += (uint64_t)st.st_size;
        op_log(c->ctx, LOG_DEBUG, c->s->name, "uploaded WAL file %s as '%s'", e->name, key);
    } else {
        cel_err_prefix(err, "cannot upload WAL file %s", e->name);
    }
    if (fd >= 0)
        close(fd);
    free(path);
    free(key);
    return rc;
}

/* Move the mark past entry i of db (all entries before it are stored). */
static void mark(struct cloud_copy *c, const struct xdb *db, size_t i)
{
    cel_strlcpy(c->st.wal_upto, db->entries[i].name, sizeof c->st.wal_upto);
    c->st.wal_count = i + 1;
}

int cloud_copy_wals(struct cloud_copy *c, struct cel_err *err)
{
    struct xdb_home h = op_xdb_home(c->ctx->cfg, c->s);
    struct xdb db = {0};
    int rc = xdb_load(&h, &db, err);
    if (rc < 0)
        return rc;
    size_t upto = 0; /* entries named up to wal_upto */
    if (c->st.wal_upto[0]) {
        upto = xdb_lower_bound(&db, c->st.wal_upto);
        if (upto < db.n && strcmp(db.entries[upto].name, c->st.wal_upto) == 0)
            upto++;
    }
    if (!c->reconcile && upto > c->st.wal_count) {
        op_log(c->ctx, LOG_INFO, c->s->name,
               "xlog.db lists %zu WAL files up to %s, the upload state %llu: comparing with the "
               "bucket",
               upto, c->st.wal_upto, (unsigned long long)c->st.wal_count);
        c->reconcile = true;
    }
    size_t from = c->reconcile ? 0 : upto;
    if (!c->reconcile)
        c->st.wal_count = upto; /* retention removed the oldest ones */
    char **have = NULL;
    size_t n_have = 0;
    if (c->reconcile && from < db.n)
        rc = list_names(c, &have, &n_have, err);
    size_t since_save = 0;
    for (size_t i = from; rc == 0 && i < db.n; i++) {
        const char *name = db.entries[i].name;
        if (n_have && bsearch(&name, have, n_have, sizeof *have, cmp_name)) {
            if (!c->dry_run)
                mark(c, &db, i);
            continue;
        }
        c->wal_waiting++;
        if (c->dry_run)
            continue;
        if (op_cancelled(c->ctx)) {
            rc = cel_err_set(err, CEL_E_IO, "interrupted");
            break;
        }
        rc = put_one(c, &db.entries[i], err);
        if (rc < 0)
            break;
        c->wals++;
        c->wal_waiting--;
        mark(c, &db, i);
        if (++since_save == SAVE_EVERY) {
            since_save = 0;
            struct cel_err serr = {0};
            if (cloud_copy_state_save(c->s, &c->st, &serr) < 0)
                op_log(c->ctx, LOG_WARNING, c->s->name, "%s", serr.msg);
        }
    }
    /* a reconciled run that uploaded nothing marks everything it found */
    if (rc == 0 && !c->dry_run && db.n && c->wal_waiting == 0)
        mark(c, &db, db.n - 1);
    for (size_t i = 0; i < n_have; i++)
        free(have[i]);
    free(have);
    xdb_free(&db);
    return rc;
}
