/*
 * generate_manifest.c - `cellar generate-manifest SERVER BACKUP_ID`: a
 * backup_manifest (PostgreSQL's format, SHA-256 checksums, the backup's WAL
 * range) for a backup that lacks one, such as an rsync backup taken by a
 * Barman older than 3.x's autogenerate_manifest, so that verify-backup and
 * pg_verifybackup can check it. As Barman's generate-manifest, an existing
 * manifest is never replaced.
 *
 * Only a complete backup (DONE, or WAITING_FOR_WALS: its files are all
 * there) in plain format gets one: a manifest of a FAILED copy would
 * certify whatever it left, and a tar backup's data/ holds archives, whose
 * manifest pg_basebackup already wrote inside.
 */
#include <unistd.h>

#include "backup_int.h"
#include "manifest.h"
#include "server.h"
#include "storage.h"

struct model {
    const char *server, *id;
    const char *path;
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    /* Barman's line */
    sb_appendf(out, "Backup manifest for backup '%s' successfully generated for server %s\n",
               m->id, m->server);
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:s, s:s}", "server", m->server, "backup_id", m->id, "manifest",
                     m->path);
}

int op_generate_manifest(const struct op_ctx *ctx, const struct op_generate_manifest_req *req,
                         struct cel_err *err)
{
    const struct cfg_server *s;
    struct op_catalog cat;
    int i = op_backup_open(ctx, req->server, req->backup, "generate-manifest", false, &s, &cat,
                           err);
    if (i < 0)
        return i;
    const struct cat_backup *b = &cat.list.items[i];
    char *data = op_backup_dir(s, b->id, "data");
    char *path = cel_xasprintf("%s/backup_manifest", data);
    struct manifest_wal_range range;
    int rc = 0;
    if (b->status != CAT_DONE && b->status != CAT_WAITING_FOR_WALS) {
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "backup %s of server %s is %s: only a complete backup (DONE or "
                         "WAITING_FOR_WALS) gets a manifest",
                         b->id, s->name, cat_status_name(b->status));
    } else if (b->compression) {
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "backup %s of server %s is in tar format (compression=%s): its "
                         "backup_manifest is the one pg_basebackup wrote",
                         b->id, s->name, b->compression);
    } else if (access(path, F_OK) == 0) {
        rc = cel_err_set(err, CEL_E_CONFLICT, "File %s already exists.", path); /* Barman's */
        cel_err_hint(err, "Check the backup against it with cellar verify-backup %s %s.",
                     s->name, b->id);
    } else if ((rc = bk_wal_range(b, &range, err)) == 0) {
        op_phase(ctx, s->name, "manifest", "writing backup_manifest (checksums of every file)");
        rc = manifest_write(data, &range, 1, err);
    }
    if (rc == 0) {
        struct model m = {s->name, b->id, path};
        struct op_result r = {"generate-manifest", &m, render_text, render_json};
        op_result(ctx, &r);
    }
    free(path);
    free(data);
    op_catalog_free(&cat);
    return rc;
}
