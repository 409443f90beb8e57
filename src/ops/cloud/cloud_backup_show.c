/*
 * cloud_backup_show.c - `cellar cloud-backup-show`: one backup of a bucket
 * as barman-cloud-backup-show 3.4 prints it.
 *
 * barman-cloud renders BackupInfo.to_dict() with the show-backup layout of
 * Barman (output.py render_show_backup), so only the lines whose data a
 * backup.info holds appear: the general block, tablespaces, and the base
 * backup block without sizes (barman-cloud records none) and without the
 * WAL and catalogue blocks, which need a local archive. JSON is
 * {"<server_name of backup.info>": BackupInfo.to_json()}.
 */
#include "cloud_catalog.h"

struct model {
    const struct cat_backup *b;
    bool json;
};

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    const char *server = m->b->server_name ? m->b->server_name : "None";
    return json_pack("{s:o}", server, cloud_backup_json(m->b));
}

static void row(struct strbuf *out, const char *label, const char *value)
{
    sb_appendf(out, "  %-23s: %s\n", label, value ? value : "None");
}

static void nested(struct strbuf *out, const char *label, const char *value)
{
    sb_appendf(out, "    %-21s: %s\n", label, value ? value : "None");
}

static void nested_int(struct strbuf *out, const char *label, struct cat_int v)
{
    char text[32] = "None";
    if (v.set)
        snprintf(text, sizeof text, "%lld", (long long)v.v);
    nested(out, label, text);
}

static void nested_time(struct strbuf *out, const char *label, struct cat_time t)
{
    char text[TS_MAX] = "None";
    if (t.set)
        ts_format(&t.t, text);
    nested(out, label, text);
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    const struct cat_backup *b = m->b;
    if (m->json) {
        json_t *o = render_json(p);
        cloud_json_text(o, out);
        json_decref(o);
        return;
    }
    sb_appendf(out, "Backup %s:\n", b->id);
    if (b->backup_name)
        row(out, "Backup Name", b->backup_name);
    row(out, "Server Name", b->server_name);
    if (b->systemid && *b->systemid)
        row(out, "System Id", b->systemid);
    row(out, "Status", cat_status_name(b->status));
    if (!cat_status_copy_done(b->status)) {
        if (b->error)
            row(out, "Error", b->error);
        return;
    }
    char version[32] = "None";
    if (b->version.set)
        snprintf(version, sizeof version, "%lld", (long long)b->version.v);
    row(out, "PostgreSQL Version", version);
    row(out, "PGDATA directory", b->pgdata);
    sb_append(out, "\n");
    if (b->n_tablespaces) {
        sb_append(out, "  Tablespaces:\n");
        for (size_t i = 0; i < b->n_tablespaces; i++) {
            struct strbuf v = {0};
            sb_appendf(&v, "%s (oid: %lld)", b->tablespaces[i].location,
                       (long long)b->tablespaces[i].oid);
            nested(out, b->tablespaces[i].name, sb_str(&v));
            sb_free(&v);
        }
        sb_append(out, "\n");
    }
    sb_append(out, "  Base backup information:\n");
    nested_int(out, "Timeline", b->timeline);
    nested(out, "Begin WAL", b->begin_wal);
    nested(out, "End WAL", b->end_wal);
    nested_time(out, "Begin time", b->begin_time);
    nested_time(out, "End time", b->end_time);
    op_show_copy_stats(b, out);
    nested_int(out, "Begin Offset", b->begin_offset);
    nested_int(out, "End Offset", b->end_offset);
    nested(out, "Begin LSN", b->begin_xlog);
    nested(out, "End LSN", b->end_xlog);
    sb_append(out, "\n");
}

int op_cloud_backup_show(const struct op_ctx *ctx, const struct op_cloud_show_req *req,
                         struct cel_err *err)
{
    struct cloud_target t;
    struct cloud_catalog cat;
    int rc = cloud_catalog_open(ctx, &req->store, &t, &cat, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    int i = cloud_catalog_find(&cat, req->backup, t.server, err);
    if (i < 0) {
        rc = i;
    } else {
        struct model m = {.b = &cat.list.items[i], .json = req->json};
        op_result(ctx, &(struct op_result){.command = "cloud-backup-show",
                                           .model = &m,
                                           .render_text = render_text,
                                           .render_json = render_json});
    }
    cloud_catalog_free(&cat);
    cloud_target_close(&t);
    return rc;
}
