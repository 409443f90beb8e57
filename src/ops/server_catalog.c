/*
 * server_catalog.c - loading a server's catalogue for an op: its backups
 * (unreadable ones reported as warnings) and, when asked, xlog.db under
 * its lock; the backup a command names; Barman's WAL statistics of a
 * backup.
 */
#include "bucket_server.h"
#include "server.h"
#include "server_catalog.h"
#include "server_select.h"
#include "wal_archive.h"

int op_catalog_load(const struct op_ctx *ctx, const struct cfg_server *s, bool with_wal,
                    struct op_catalog *out, struct cel_err *err)
{
    if (s->cloud_source)
        return op_bucket_catalog_load(ctx, s, with_wal, out, err);
    memset(out, 0, sizeof *out);
    int rc = cat_list_load(s->basebackups_directory, &out->list, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < out->list.n; i++)
        if (out->list.failed[i])
            op_log(ctx, LOG_WARNING, s->name, "backup %s cannot be read: %s", out->list.items[i].id,
                   out->list.errors[i].msg);
    if (with_wal) {
        rc = op_xdb_load(ctx, s, &out->xdb, err);
        if (rc < 0) {
            cat_list_free(&out->list);
            return rc;
        }
        out->xdb_loaded = true;
    }
    return 0;
}

void op_catalog_free(struct op_catalog *c)
{
    cat_list_free(&c->list);
    xdb_free(&c->xdb);
    free(c->keep);
    c->keep = NULL;
}

void op_catalog_wal_info(const struct op_catalog *c, size_t i, struct xdb_wal_info *out)
{
    struct xdb_wal_scan one;
    op_catalog_scan_of(c, i, &one);
    xdb_backup_wal_info(&c->xdb, one.b, one.next_end_wal, out);
}

int op_catalog_wal_scan(const struct op_ctx *ctx, const struct cfg_server *s,
                        struct op_catalog *c, struct xdb_wal_scan *scans, size_t n,
                        struct cel_err *err)
{
    if (!c->xdb_loaded) {
        struct xdb_home home = op_xdb_home(ctx->cfg, s);
        if (xdb_scan_wal_info(&home, scans, n))
            return 0;
        /* the loaded way: it repairs a cut line, or says what is wrong */
        int rc = op_xdb_load(ctx, s, &c->xdb, err);
        if (rc < 0)
            return rc;
        c->xdb_loaded = true;
    }
    for (size_t k = 0; k < n; k++)
        xdb_backup_wal_info(&c->xdb, scans[k].b, scans[k].next_end_wal, &scans[k].info);
    return 0;
}

void op_catalog_scan_of(const struct op_catalog *c, size_t i, struct xdb_wal_scan *out)
{
    int next = cat_next(&c->list, i);
    memset(out, 0, sizeof *out);
    out->b = &c->list.items[i];
    out->next_end_wal = next >= 0 ? c->list.items[next].end_wal : NULL;
}

int op_backup_open(const struct op_ctx *ctx, const char *server, const char *backup,
                   const char *command, bool with_wal, const struct cfg_server **s,
                   struct op_catalog *cat, struct cel_err *err)
{
    int rc = op_one_server(ctx, server, command, s, err);
    if (rc == 0)
        rc = op_catalog_load(ctx, *s, with_wal, cat, err);
    if (rc < 0)
        return rc;
    int i = cat_resolve(&cat->list, backup, (*s)->name, err);
    if (i >= 0 && cat->list.failed[i]) {
        *err = cat->list.errors[i];
        i = -(int)err->code;
    }
    if (i < 0)
        op_catalog_free(cat);
    return i;
}
