/*
 * cloud_backup_keep.c - `cellar cloud-backup-keep`: the keep annotation of
 * a backup in a bucket, as barman-cloud-backup-keep 3.4 writes it.
 *
 * The annotation is the object PATH/SERVER/base/ID/annotations/keep
 * holding the target's name ("full" or "standalone", no newline).
 * Retention never marks a kept backup OBSOLETE and cloud-backup-delete -b
 * refuses it; --release deletes the object. Only a DONE backup can be
 * kept, as barman-cloud says.
 */
#include <stdlib.h>
#include <string.h>

#include "cloud_catalog.h"

static void render_status(const void *p, struct strbuf *out)
{
    const char *keep = p;
    sb_appendf(out, "Keep: %s\n", *keep ? keep : "nokeep");
}

static json_t *status_json(const void *p)
{
    const char *keep = p;
    return json_pack("{s:s}", "keep", *keep ? keep : "nokeep");
}

int op_cloud_backup_keep(const struct op_ctx *ctx, const struct op_cloud_keep_req *req,
                         struct cel_err *err)
{
    if (req->action == OP_CLOUD_KEEP_ADD &&
        (!req->target ||
         (strcmp(req->target, "full") != 0 && strcmp(req->target, "standalone") != 0)))
        return cel_err_set(err, CEL_E_USAGE,
                           "cloud-backup-keep: unsupported recovery target '%s': expected full "
                           "or standalone",
                           req->target ? req->target : "");
    struct cloud_target t;
    struct cloud_catalog cat;
    int rc = cloud_catalog_open(ctx, &req->store, &t, &cat, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    char *key = NULL;
    int i = cloud_catalog_find(&cat, req->backup, t.server, err);
    if (i < 0) {
        rc = i;
        goto out;
    }
    const struct cat_backup *b = &cat.list.items[i];
    key = cloud_keep_key(&t, b->id, err);
    if (!key) {
        rc = -CEL_E_INVALID;
        goto out;
    }
    switch (req->action) {
    case OP_CLOUD_KEEP_STATUS:
        op_result(ctx, &(struct op_result){.command = "cloud-backup-keep",
                                           .model = cat.objs[i].keep,
                                           .render_text = render_status,
                                           .render_json = status_json});
        break;
    case OP_CLOUD_KEEP_RELEASE:
        rc = s3_delete(t.s3, key, err);
        break;
    case OP_CLOUD_KEEP_ADD:
        if (b->status != CAT_DONE) {
            rc = cel_err_set(err, CEL_E_CONFLICT,
                             "cannot add keep to backup %s because it has status %s: only "
                             "backups with status DONE can be kept",
                             b->id, cat_status_name(b->status));
            break;
        }
        rc = s3_put(t.s3, key, req->target, strlen(req->target), err);
        break;
    }
out:
    free(key);
    cloud_catalog_free(&cat);
    cloud_target_close(&t);
    return rc;
}
