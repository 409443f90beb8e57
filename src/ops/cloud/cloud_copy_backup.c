/*
 * cloud_copy_backup.c - the backup part of a server's copy in its bucket:
 * every DONE backup of the local catalogue that the bucket does not hold
 * DONE, laid out as barman-cloud-backup 3.4 lays one out, so
 * barman-cloud-backup-list lists it and barman-cloud-restore restores it.
 *
 * What is sent, per backup (base/ID/ in the bucket):
 *   - a plain copy (backup_method = rsync, or postgres without
 *     backup_compression): each tablespace base/ID/<oid>/ as OID.tar, then
 *     base/ID/data/ as data.tar (with backup_label, which the copy holds;
 *     without the pg_tblspc links, which barman-cloud-restore makes, nor
 *     tablespace_map or backup_manifest), tarred and compressed with
 *     cloud_compression while they stream into multipart uploads
 *     (cloud_tar.h);
 *   - a tar copy (backup_method = postgres with backup_compression):
 *     data/base.tar[.gz] as data.tar[.gz], as stored (pg_basebackup's tar
 *     is what barman-cloud-restore extracts). lz4 and zstd tars, which
 *     barman-cloud 3.4 cannot read, and tar copies with tablespaces (whose
 *     base.tar holds pg_tblspc links and a tablespace_map) are refused with
 *     a message and left waiting;
 *   - a keep annotation when the backup has one (annotations/keep), so
 *     retention in the bucket keeps it too;
 *   - backup.info last, in barman-cloud's form (server_name "cloud", no
 *     compression): until it is there, the backup is no backup to
 *     barman-cloud-backup-list nor cellar.
 * Objects already under base/ID/ (a run killed mid-upload) are deleted
 * first, so the backup is redone whole. An archive whose upload fails is
 * aborted (cloud_tar.h, s3_upload): nothing half-written appears.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud_catalog.h"
#include "cloud_copy.h"
#include "cloud_tar.h"
#include "server.h"
#include "storage.h"
#include "ts.h"

/* What is not copied from a plain copy's data/ (rsync_filter patterns). */
static const char *const data_exclude[] = {"/pg_tblspc/*", "/tablespace_map", "/backup_manifest",
                                           NULL};

static struct cloud_tar_opts tar_opts(const struct cloud_copy *c, const char *id,
                                      enum cloud_key_kind kind, uint32_t oid)
{
    return (struct cloud_tar_opts){
        .s3 = c->t.s3,
        .prefix = c->t.url.prefix,
        .server = c->t.server,
        .backup_id = id,
        .kind = kind,
        .oid = oid,
        .comp = c->s->cloud_compression,
        .max_size = 100ull << 30,
        .parallel = 2,
        .cancel = c->ctx->cancel,
    };
}

/* One directory into one archive. */
static int tar_dir(struct cloud_copy *c, const char *id, enum cloud_key_kind kind, uint32_t oid,
                   const char *src, const char *const *exclude, struct cel_err *err)
{
    struct cloud_tar_opts o = tar_opts(c, id, kind, oid);
    struct cloud_tar *tar = NULL;
    int rc = cloud_tar_open(&o, &tar, err);
    if (rc == 0)
        rc = cloud_tar_add_tree(tar, src, NULL, exclude, err);
    if (rc == 0)
        rc = cloud_tar_close(tar, err);
    if (rc == 0) {
        struct cloud_tar_stats st;
        cloud_tar_get_stats(tar, &st);
        c->bytes += st.stored;
        char name[32];
        if (kind == CLOUD_KEY_DATA_TAR)
            snprintf(name, sizeof name, "data");
        else
            snprintf(name, sizeof name, "%u", oid);
        op_log(c->ctx, LOG_INFO, c->s->name,
               "uploaded %s as %s.tar%s: %llu members, %llu bytes stored in %u archive%s", src,
               name, cloud_comp_ext(o.comp), (unsigned long long)st.members,
               (unsigned long long)st.stored, st.archives, st.archives == 1 ? "" : "s");
    }
    cloud_tar_free(tar);
    return rc;
}

static int upload_plain(struct cloud_copy *c, const struct cat_backup *b, struct cel_err *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < b->n_tablespaces; i++) {
        char oid[24];
        snprintf(oid, sizeof oid, "%lld", (long long)b->tablespaces[i].oid);
        char *src = op_backup_dir(c->s, b->id, oid);
        rc = tar_dir(c, b->id, CLOUD_KEY_TBS_TAR, (uint32_t)b->tablespaces[i].oid, src, NULL, err);
        free(src);
    }
    if (rc == 0) {
        char *data = op_backup_dir(c->s, b->id, "data");
        rc = tar_dir(c, b->id, CLOUD_KEY_DATA_TAR, 0, data, data_exclude, err);
        free(data);
    }
    return rc;
}

static ssize_t read_fd(void *ctx, void *buf, size_t len, struct cel_err *err)
{
    ssize_t n;
    do
        n = read(*(int *)ctx, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot read a backup archive");
    return n;
}

/* A tar copy's data/base.tar[.gz|.bz2] as data.tar[...], as stored. */
static int upload_tar(struct cloud_copy *c, const struct cat_backup *b, const char *base,
                      enum cloud_comp comp, struct cel_err *err)
{
    char *key = cloud_backup_key(c->t.url.prefix, c->t.server, b->id, CLOUD_KEY_DATA_TAR, 0, 0,
                                 comp, err);
    if (!key)
        return -CEL_E_INVALID;
    int rc = 0;
    int fd = open(base, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", base);
    struct s3_upload_result res = {0};
    if (rc == 0)
        rc = s3_upload(c->t.s3, key, read_fd, &fd,
                       &(struct s3_upload_opts){.expected_size = (uint64_t)st.st_size,
                                                .parallel = 2},
                       &res, err);
    if (rc == 0) {
        c->bytes += res.size;
        op_log(c->ctx, LOG_INFO, c->s->name, "uploaded %s as '%s': %llu bytes", base, key,
               (unsigned long long)res.size);
    }
    if (fd >= 0)
        close(fd);
    free(key);
    return rc;
}

/* Which kind of copy b is: *tar_path the tar copy's base.tar (NULL for a
 * plain copy). -CEL_E_INVALID for a tar compression barman-cloud 3.4 does
 * not read, or a tar copy with tablespaces. Looks at local files only. */
static int copy_kind(const struct cloud_copy *c, const struct cat_backup *b, char **tar_path,
                     enum cloud_comp *comp, struct cel_err *err)
{
    static const struct {
        const char *name;
        enum cloud_comp comp;
    } tars[] = {{"base.tar", CLOUD_COMP_NONE},
                {"base.tar.gz", CLOUD_COMP_GZIP},
                {"base.tar.bz2", CLOUD_COMP_BZIP2}};
    *tar_path = NULL;
    if (cat_extra_get(b, "encryption"))
        return cel_err_set(err, CEL_E_INVALID,
                           "backup %s is encrypted (encryption = %s), which barman-cloud 3.4 "
                           "cannot read: not uploaded",
                           b->id, cat_extra_get(b, "encryption"));
    for (size_t i = 0; i < CEL_ARRAY_LEN(tars); i++) {
        char *sub = cel_xasprintf("data/%s", tars[i].name);
        char *p = op_backup_dir(c->s, b->id, sub);
        free(sub);
        if (stor_is_file(p) && b->n_tablespaces) {
            free(p);
            return cel_err_set(err, CEL_E_INVALID,
                               "backup %s is a tar copy with tablespaces, which cellar does not "
                               "copy to a bucket yet: not uploaded",
                               b->id);
        }
        if (stor_is_file(p)) {
            *tar_path = p;
            *comp = tars[i].comp;
            return 0;
        }
        free(p);
    }
    static const char *const unread[] = {"data/base.tar.lz4", "data/base.tar.zst"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(unread); i++) {
        char *p = op_backup_dir(c->s, b->id, unread[i]);
        bool there = stor_is_file(p);
        free(p);
        if (there)
            return cel_err_set(err, CEL_E_INVALID,
                               "backup %s is a tar copy compressed with %s, which barman-cloud "
                               "3.4 cannot read: not uploaded",
                               b->id, strrchr(unread[i], '.') + 1);
    }
    return 0;
}

static int collect_key(void *ctx, const struct s3_entry *e, struct cel_err *err)
{
    (void)err;
    struct stor_names *keys = ctx;
    if (!e->is_prefix) {
        keys->names = cel_xrealloc_array(keys->names, keys->n + 1, sizeof *keys->names);
        keys->names[keys->n++] = cel_xstrdup(e->key);
    }
    return 0;
}

/* Delete what a run killed mid-upload left under base/ID/. */
static int clear_leftovers(struct cloud_copy *c, const char *id, struct cel_err *err)
{
    char *prefix = cloud_backup_prefix(c->t.url.prefix, c->t.server, id, err);
    if (!prefix)
        return -CEL_E_INVALID;
    struct stor_names keys = {0};
    int rc = s3_list(c->t.s3, &(struct s3_list_opts){.prefix = prefix}, collect_key, &keys, err);
    if (rc == 0 && keys.n) {
        op_log(c->ctx, LOG_INFO, c->s->name,
               "deleting %zu object%s of an earlier upload of backup %s that did not finish",
               keys.n, keys.n == 1 ? "" : "s", id);
        rc = s3_delete_many(c->t.s3, (const char *const *)keys.names, keys.n, err);
    }
    stor_names_free(&keys);
    free(prefix);
    return rc;
}

static int put_small(struct cloud_copy *c, const char *key, const char *text, size_t len,
                     struct cel_err *err)
{
    op_log(c->ctx, LOG_DEBUG, c->s->name, "uploading '%s'", key);
    return s3_put(c->t.s3, key, text, len, err);
}

/* The keep annotation, when the backup has one. */
static int upload_keep(struct cloud_copy *c, const char *id, struct cel_err *err)
{
    char *path = op_backup_dir(c->s, id, "annotations/keep");
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (stor_is_file(path)) {
        rc = stor_read_file(path, 4096, &text, &len, err);
        char *key = rc == 0 ? cloud_keep_key(&c->t, id, err) : NULL;
        if (rc == 0 && !key)
            rc = -CEL_E_INVALID;
        if (rc == 0)
            rc = put_small(c, key, text, len, err);
        free(key);
    }
    free(text);
    free(path);
    return rc;
}

/* backup.info in barman-cloud's form, from the local one. */
static int upload_info(struct cloud_copy *c, const char *id, struct cel_err *err)
{
    char *dir = op_backup_dir(c->s, id, NULL);
    struct cat_backup b = {0};
    int rc = cat_info_read(dir, &b, err);
    char *key = NULL;
    if (rc == 0) {
        free(b.server_name);
        b.server_name = cel_xstrdup("cloud"); /* what barman-cloud writes */
        free(b.compression);
        b.compression = NULL;
        key = cloud_backup_key(c->t.url.prefix, c->t.server, id, CLOUD_KEY_BACKUP_INFO, 0, 0,
                               CLOUD_COMP_NONE, err);
        if (!key)
            rc = -CEL_E_INVALID;
    }
    if (rc == 0) {
        struct strbuf text = {0};
        cat_info_format(&b, &text);
        rc = put_small(c, key, sb_str(&text), text.len, err);
        sb_free(&text);
    }
    free(key);
    cat_backup_clear(&b);
    free(dir);
    return rc;
}

static int upload_backup(struct cloud_copy *c, const struct cat_backup *b, struct cel_err *err)
{
    char *tar = NULL;
    enum cloud_comp comp = CLOUD_COMP_NONE;
    int rc = copy_kind(c, b, &tar, &comp, err);
    if (rc == 0)
        op_phase(c->ctx, c->s->name, "cloud-upload-backup", "uploading backup %s to %s", b->id,
                 c->s->cloud_destination);
    if (rc == 0)
        rc = clear_leftovers(c, b->id, err);
    if (rc == 0)
        rc = tar ? upload_tar(c, b, tar, comp, err) : upload_plain(c, b, err);
    if (rc == 0)
        rc = upload_keep(c, b->id, err);
    if (rc == 0)
        rc = upload_info(c, b->id, err);
    if (rc < 0)
        cel_err_prefix(err, "cannot upload backup %s", b->id);
    else
        op_log(c->ctx, LOG_INFO, c->s->name, "backup %s is in %s", b->id,
               c->s->cloud_destination);
    free(tar);
    return rc;
}

static bool waits(const struct cat_list *list, size_t i, const struct cloud_copy_state *st)
{
    return !list->failed[i] && list->items[i].status == CAT_DONE &&
           !cloud_ids_has(&st->backups, list->items[i].id) &&
           !cloud_ids_has(&st->retired, list->items[i].id);
}

int cloud_copy_waiting(const struct op_ctx *ctx, const struct cfg_server *s,
                       const struct cloud_copy_state *st, size_t *wals, size_t *backups,
                       struct cel_err *err)
{
    (void)ctx;
    *wals = *backups = 0;
    struct cat_list list = {0};
    int rc = cat_list_load(s->basebackups_directory, &list, err);
    for (size_t i = 0; rc == 0 && i < list.n; i++)
        *backups += waits(&list, i, st);
    cat_list_free(&list);
    if (rc < 0)
        return rc;
    struct xdb_home h = op_xdb_home(ctx->cfg, s);
    struct xdb db = {0};
    rc = xdb_load(&h, &db, err);
    if (rc < 0)
        return rc;
    size_t upto = st->wal_upto[0] ? xdb_lower_bound(&db, st->wal_upto) : 0;
    if (st->wal_upto[0] && upto < db.n && strcmp(db.entries[upto].name, st->wal_upto) == 0)
        upto++;
    *wals = db.n - upto;
    xdb_free(&db);
    return 0;
}

int cloud_copy_backups(struct cloud_copy *c, struct cel_err *err)
{
    struct cat_list list = {0};
    int rc = cat_list_load(c->s->basebackups_directory, &list, err);
    if (rc < 0)
        return rc;
    /* what cannot go is said without a request, and asks for no listing */
    bool *refused = cel_xcalloc(list.n + 1, sizeof *refused);
    size_t pending = 0;
    for (size_t i = 0; i < list.n; i++) {
        if (!waits(&list, i, &c->st))
            continue;
        char *tar = NULL;
        enum cloud_comp comp;
        struct cel_err kerr = {0};
        refused[i] = copy_kind(c, &list.items[i], &tar, &comp, &kerr) < 0;
        if (refused[i])
            op_log(c->ctx, LOG_WARNING, c->s->name, "%s", kerr.msg);
        free(tar);
        pending += !refused[i];
        c->backups_waiting += refused[i];
    }
    if (pending == 0 && !c->reconcile) {
        free(refused);
        cat_list_free(&list);
        return 0;
    }
    /* one listing of base/: the backups the bucket holds DONE already */
    struct cloud_catalog cat = {0};
    rc = cloud_catalog_load(c->ctx, &c->t, &cat, err);
    if (rc == -CEL_E_NOT_FOUND && !c->dry_run) {
        cel_err_clear(err);
        rc = s3_bucket_create(c->t.s3, err);
    } else if (rc == -CEL_E_NOT_FOUND) {
        cel_err_clear(err);
        rc = 0;
    }
    if (rc < 0) {
        free(refused);
        cat_list_free(&list);
        return rc;
    }
    for (size_t i = 0; i < cat.list.n; i++)
        if (cat.list.items[i].status == CAT_DONE)
            cloud_ids_add(&c->st.backups, cat.list.items[i].id);
    for (size_t i = 0; rc == 0 && i < list.n; i++) {
        if (refused[i] || !waits(&list, i, &c->st))
            continue;
        c->backups_waiting++;
        if (c->dry_run)
            continue;
        rc = upload_backup(c, &list.items[i], err);
        if (rc < 0)
            break;
        c->backups++;
        c->backups_waiting--;
        cloud_ids_add(&c->st.backups, list.items[i].id);
        struct cel_err serr = {0};
        if (cloud_copy_state_save(c->s, &c->st, &serr) < 0)
            op_log(c->ctx, LOG_WARNING, c->s->name, "%s", serr.msg);
    }
    free(refused);
    cloud_catalog_free(&cat);
    cat_list_free(&list);
    return rc;
}
