/*
 * cloud_backup_list.c - `cellar cloud-backup-list`: the backups of a
 * server in a bucket, as barman-cloud-backup-list 3.4 prints them.
 *
 * Console: a header and one row per DONE backup in ID order, in columns of
 * 20, 25, 30, 17 and 20 characters (ID, end time, begin WAL, KEEP:TARGET,
 * name), padded as Python's "{:<N}" pads. JSON: {"backups_list": [...]}
 * with every readable backup, whatever its status, as BackupInfo.to_json.
 * Either way the text goes to stdout as the result; warnings (an
 * unreadable backup.info) go to the sink's log, which is stderr.
 */
#include <stdlib.h>
#include <string.h>

#include "cloud_catalog.h"

struct model {
    const struct cloud_catalog *cat;
    bool json;
};

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    json_t *list = json_array();
    for (size_t i = 0; i < m->cat->list.n; i++)
        json_array_append_new(list, cloud_backup_json(&m->cat->list.items[i]));
    return json_pack("{s:o}", "backups_list", list);
}

static void column(struct strbuf *out, const char *text, int width)
{
    sb_appendf(out, "%-*s", width, text ? text : "None");
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    if (m->json) {
        json_t *o = render_json(p);
        cloud_json_text(o, out);
        json_decref(o);
        return;
    }
    column(out, "Backup ID", 20);
    column(out, "End Time", 25);
    column(out, "Begin Wal", 30);
    column(out, "Archival Status", 17);
    column(out, "Name", 20);
    sb_append(out, "\n");
    for (size_t i = 0; i < m->cat->list.n; i++) {
        const struct cat_backup *b = &m->cat->list.items[i];
        if (b->status != CAT_DONE)
            continue;
        char end[TS_MAX] = "None";
        if (b->end_time.set) {
            ts_format(&b->end_time.t, end);
            end[19] = '\0'; /* "%Y-%m-%d %H:%M:%S" */
        }
        char keep[48] = "";
        if (m->cat->objs[i].keep[0]) {
            snprintf(keep, sizeof keep, "KEEP:%s", m->cat->objs[i].keep);
            for (char *c = keep; *c; c++)
                if (*c >= 'a' && *c <= 'z')
                    *c = (char)(*c - 'a' + 'A');
        }
        column(out, b->id, 20);
        column(out, end, 25);
        column(out, b->begin_wal, 30);
        column(out, keep, 17);
        column(out, b->backup_name ? b->backup_name : "", 20);
        sb_append(out, "\n");
    }
}

int op_cloud_backup_list(const struct op_ctx *ctx, const struct op_cloud_list_req *req,
                         struct cel_err *err)
{
    struct cloud_target t;
    struct cloud_catalog cat;
    int rc = cloud_catalog_open(ctx, &req->store, &t, &cat, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    struct model m = {.cat = &cat, .json = req->json};
    op_result(ctx, &(struct op_result){.command = "cloud-backup-list",
                                       .model = &m,
                                       .render_text = render_text,
                                       .render_json = render_json});
    cloud_catalog_free(&cat);
    cloud_target_close(&t);
    return 0;
}
