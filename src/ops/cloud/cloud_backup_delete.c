/*
 * cloud_backup_delete.c - `cellar cloud-backup-delete`: delete a backup of
 * a bucket, or every backup a retention policy makes OBSOLETE, and the WAL
 * objects no remaining backup needs, by barman-cloud-backup-delete 3.4's
 * rules (barman/clients/cloud_backup_delete.py and
 * BackupManager.should_remove_wals):
 *
 *  - a catalogue with an unreadable backup.info is not touched at all: what
 *    that backup needs cannot be known;
 *  - -b refuses a backup with a keep annotation; -r never selects one
 *    (ret_classify marks it KEEP);
 *  - a backup's objects go first (its tar objects, then backup.info), then
 *    its WAL: only when no older backup needs them. Walking back from the
 *    deleted backup, a backup without keep, or kept "full", needs all the
 *    WAL after it, so nothing is removed; one kept "standalone" needs only
 *    its own begin_wal..end_wal, which is protected, and the walk goes on
 *    (with -b the walk stops there instead, keeping everything, as
 *    barman-cloud's skip_wal_cleanup_if_standalone does). When the walk
 *    ends without such a backup, the WAL before the next backup's begin_wal
 *    (the deleted one's own when it is the newest) is removed, except
 *    history files, segments of any timeline another backup is on (other
 *    than that next backup's), and the protected ranges;
 *  - with --dry-run the objects that would go are printed as barman-cloud
 *    prints them ("Skipping deletion of objects [...] due to --dry-run
 *    option") and the catalogue is updated in memory only, so the backups
 *    -r deletes after the first are judged as the real run judges them.
 * Deletions go through s3_delete_many (DeleteObjects, 1,000 keys a batch).
 */
#include <stdlib.h>
#include <string.h>

#include "cloud_catalog.h"
#include "cloud_wal_cleanup.h"
#include "retention_policy.h"

struct run {
    const struct op_ctx *ctx;
    struct cloud_target *t;
    struct cloud_catalog *cat;
    bool *gone; /* per backup: deleted (or would be, in a dry run) */
    struct cloud_wal *wals;
    size_t n_wals;
    bool wals_listed;
    bool *wal_gone;
    bool dry_run;
};

/* Delete keys (or print them in a dry run, as Python prints a list). */
static int remove_keys(struct run *r, const char *const *keys, size_t n, struct cel_err *err)
{
    if (n == 0)
        return 0;
    if (!r->dry_run)
        return s3_delete_many(r->t->s3, keys, n, err);
    struct strbuf sb = {0};
    sb_append(&sb, "Skipping deletion of objects [");
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_append(&sb, ", ");
        py_repr_str(keys[i], strlen(keys[i]), &sb);
    }
    sb_append(&sb, "] due to --dry-run option");
    op_log(r->ctx, LOG_INFO, NULL, "%s", sb_str(&sb));
    sb_free(&sb);
    return 0;
}

static int remove_wals(struct run *r, size_t del, bool skip_if_standalone, struct cel_err *err)
{
    const struct cat_list *list = &r->cat->list;
    struct cloud_wal_range *ranges = cel_xcalloc(list->n + 1, sizeof *ranges);
    size_t n_ranges = 0;
    int rc = 0;
    const char **keys = NULL;
    int until = cloud_wal_cleanup_until(r->cat, r->gone, del, skip_if_standalone, ranges,
                                        &n_ranges);
    if (until < 0)
        goto out;
    if (!r->wals_listed) {
        rc = cloud_catalog_wals(r->t, &r->wals, &r->n_wals, err);
        if (rc < 0) {
            cel_err_prefix(err, "cannot clean up WALs for backup %s because an error occurred "
                                "listing WALs",
                           list->items[del].id);
            goto out;
        }
        r->wal_gone = cel_xcalloc(r->n_wals + 1, sizeof *r->wal_gone);
        r->wals_listed = true;
    }
    keys = cel_xcalloc(r->n_wals + 1, sizeof *keys);
    size_t n_keys = cloud_wal_cleanup_select(r->cat, r->gone, del, (size_t)until, ranges,
                                             n_ranges, r->wals, r->n_wals, r->wal_gone, keys);
    /* the listing is in key order already, as sorted() leaves them */
    rc = remove_keys(r, keys, n_keys, err);
    if (rc < 0)
        cel_err_prefix(err, "could not delete the WALs of backup %s", list->items[del].id);
out:
    free(keys);
    free(ranges);
    return rc;
}

static int delete_backup(struct run *r, size_t i, bool skip_if_standalone, struct cel_err *err)
{
    const struct cloud_backup_objs *o = &r->cat->objs[i];
    const char **keys = cel_xcalloc(o->n_files + 1, sizeof *keys);
    for (size_t f = 0; f < o->n_files; f++)
        keys[f] = o->files[f].key;
    int rc;
    if (r->dry_run) {
        keys[o->n_files] = o->info_key;
        rc = remove_keys(r, keys, o->n_files + 1, err);
    } else {
        rc = remove_keys(r, keys, o->n_files, err);
        const char *info = o->info_key;
        if (rc == 0)
            rc = remove_keys(r, &info, 1, err);
        if (rc < 0)
            cel_err_prefix(err, "could not delete backup %s", r->cat->list.items[i].id);
    }
    free(keys);
    if (rc < 0)
        return rc;
    if (!r->dry_run)
        op_log(r->ctx, LOG_DEBUG, r->t->server, "deleted backup %s", r->cat->list.items[i].id);
    rc = remove_wals(r, i, skip_if_standalone, err);
    r->gone[i] = true;
    return rc;
}

static int by_policy(struct run *r, const struct ret_policy *p, unsigned min_redundancy,
                     struct cel_err *err)
{
    int rc = 0;
    size_t n = r->cat->list.n;
    struct ret_backup *rb = cel_xcalloc(n + 1, sizeof *rb);
    enum ret_mark *marks = cel_xcalloc(n + 1, sizeof *marks);
    for (size_t i = 0; i < n; i++) {
        const struct cat_backup *b = &r->cat->list.items[i];
        rb[i] = (struct ret_backup){.done = b->status == CAT_DONE,
                                    .end_time = b->end_time.set ? ts_epoch(&b->end_time.t) : 0,
                                    .keep = cloud_keep_mark(r->cat->objs[i].keep)};
    }
    struct ts now;
    ts_now(&now);
    ret_classify(p, min_redundancy, ts_epoch(&now), rb, n, marks, NULL);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (marks[i] == RET_MARK_OBSOLETE)
            rc = delete_backup(r, i, false, err);
    free(rb);
    free(marks);
    return rc;
}

/* A catalogue with an unreadable backup.info is not touched at all. */
static int refuse_unreadable(const struct cloud_catalog *cat, struct cel_err *err)
{
    struct strbuf ids = {0};
    for (size_t i = 0; i < cat->n_unreadable; i++)
        sb_appendf(&ids, "%s%s", i ? ", " : "", cat->unreadable[i]);
    int rc = cel_err_set(err, CEL_E_FORMAT,
                         "cannot read the backup.info of %s: unsafe to proceed with deletion "
                         "due to failure reading backup catalog",
                         sb_str(&ids));
    sb_free(&ids);
    return rc;
}

static void run_free(struct run *r)
{
    cloud_wals_free(r->wals, r->n_wals);
    free(r->wal_gone);
    free(r->gone);
}

int cloud_delete_obsolete(const struct op_ctx *ctx, struct cloud_target *t,
                          struct cloud_catalog *cat, const struct ret_policy *p,
                          unsigned min_redundancy, bool dry_run, bool *gone,
                          struct cel_err *err)
{
    if (cat->n_unreadable)
        return refuse_unreadable(cat, err);
    struct run r = {.ctx = ctx, .t = t, .cat = cat, .dry_run = dry_run};
    r.gone = cel_xcalloc(cat->list.n + 1, sizeof *r.gone);
    int rc = by_policy(&r, p, min_redundancy, err);
    if (gone)
        memcpy(gone, r.gone, cat->list.n * sizeof *gone);
    run_free(&r);
    return rc;
}

int op_cloud_backup_delete(const struct op_ctx *ctx, const struct op_cloud_delete_req *req,
                           struct cel_err *err)
{
    if (!req->backup == !req->policy)
        return cel_err_set(err, CEL_E_USAGE,
                           "cloud-backup-delete: give one of -b BACKUP_ID and -r POLICY");
    struct cloud_target t;
    struct cloud_catalog cat;
    int rc = cloud_catalog_open(ctx, &req->store, &t, &cat, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    struct run r = {.ctx = ctx, .t = &t, .cat = &cat, .dry_run = req->dry_run};
    r.gone = cel_xcalloc(cat.list.n + 1, sizeof *r.gone);
    struct ret_policy p;
    if (cat.n_unreadable) {
        rc = refuse_unreadable(&cat, err);
    } else if (req->backup) {
        int i = cloud_catalog_find(&cat, req->backup, t.server, err);
        if (i < 0)
            rc = i;
        else if (cat.objs[i].keep[0])
            rc = cel_err_set(err, CEL_E_CONFLICT,
                             "skipping delete of backup %s for server %s as it has a current "
                             "keep request",
                             cat.list.items[i].id, t.server);
        if (rc == -CEL_E_CONFLICT)
            cel_err_hint(err, "To delete it, release the keep first: cellar cloud-backup-keep "
                              "--release.");
        if (rc == 0)
            rc = delete_backup(&r, (size_t)i, true, err);
    } else {
        rc = ret_policy_parse(req->policy, &p, err);
        if (rc == 0)
            rc = by_policy(&r, &p, req->min_redundancy, err);
    }
    run_free(&r);
    cloud_catalog_free(&cat);
    cloud_target_close(&t);
    return rc;
}
