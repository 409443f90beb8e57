/*
 * list_backup.c - `cellar list-backup SERVER|all`: a server's backups,
 * newest first, one line each, in Barman's format:
 *
 *   pg 20261124T034239 'nightly' - Tue Nov 24 03:42:40 2026 - Size: 25.5 MiB -
 *     WAL Size: 48.2 KiB (tablespaces: tbs1:/srv/pg/tbs1)
 *
 * with " (deduplicated: 3.5 MiB)" after Size for a backup that hard-linked
 * unchanged files from the previous one (reuse_backup = link).
 *
 * Size is the backup's size plus the WAL it needs to be consistent; WAL Size
 * the WAL archived after it up to the next backup. Both come from one read of
 * xlog.db per server, not one per backup (Barman issue #91).
 *
 * When the server has a retention policy, the line of a complete backup that
 * is not VALID ends with its mark, as in Barman: " - OBSOLETE",
 * " - OBSOLETE*", " - KEEP:FULL" or " - KEEP:STANDALONE".
 */
#include "catalog_json.h"
#include "fmt.h"
#include "ops.h"
#include "server_select.h"

struct row {
    const struct cat_backup *b;
    bool unreadable;
    uint64_t size, wal_size;
    enum ret_mark mark; /* RET_MARK_NONE without a policy */
    const char *keep;   /* the keep target ("full", "standalone"), NULL when not kept */
};

struct model {
    const char *server;
    const char *bucket; /* a bucket server's cloud_source, NULL for the others */
    bool minimal;
    struct row *rows; /* newest first */
    size_t n;
};

/* Did the backup reuse files of another one by hard links? */
static bool linked(const struct cat_backup *b)
{
    return b->deduplicated_size.set && b->size.set && b->deduplicated_size.v < b->size.v;
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    for (size_t i = 0; i < m->n; i++) {
        const struct row *r = &m->rows[i];
        const struct cat_backup *b = r->b;
        if (m->minimal) {
            sb_appendf(out, "%s\n", b->id);
            continue;
        }
        /* Barman prints the server name recorded in backup.info (the
         * section name when it has none), not the section it was read from */
        sb_appendf(out, "%s %s ", b->server_name ? b->server_name : m->server, b->id);
        if (b->backup_name)
            sb_appendf(out, "'%s' - ", b->backup_name);
        else
            sb_append(out, "- ");
        if (r->unreadable) {
            sb_append(out, "UNREADABLE\n");
            continue;
        }
        if (!cat_status_copy_done(b->status)) {
            sb_appendf(out, "%s\n", cat_status_name(b->status));
            continue;
        }
        char end[TS_MAX] = "unknown end time";
        if (b->end_time.set)
            ts_format_ctime(&b->end_time.t, end);
        sb_appendf(out, "%s - Size: ", end);
        fmt_size((double)r->size, out);
        /* a backup that reused the previous one by hard links takes only
         * its new files' space: Barman's line does not say so, cellar's does */
        if (linked(b)) {
            sb_append(out, " (deduplicated: ");
            fmt_size((double)b->deduplicated_size.v, out);
            sb_appendc(out, ')');
        }
        sb_append(out, " - WAL Size: ");
        fmt_size((double)r->wal_size, out);
        if (b->n_tablespaces) {
            sb_append(out, " (tablespaces: ");
            for (size_t t = 0; t < b->n_tablespaces; t++)
                sb_appendf(out, "%s%s:%s", t ? ", " : "", b->tablespaces[t].name,
                           b->tablespaces[t].location);
            sb_appendc(out, ')');
        }
        /* Barman's line does not say it; cellar's does (show-backup's
         * "Encryption" line in both) */
        if (cat_extra_get(b, "encryption"))
            sb_appendf(out, " - encrypted (%s)", cat_extra_get(b, "encryption"));
        if (b->status == CAT_WAITING_FOR_WALS)
            sb_append(out, " - WAITING_FOR_WALS");
        if (r->mark != RET_MARK_NONE && r->mark != RET_MARK_VALID)
            sb_appendf(out, " - %s", ret_mark_short(r->mark));
        sb_appendc(out, '\n');
    }
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    json_t *list = json_array();
    for (size_t i = 0; i < m->n; i++) {
        const struct row *r = &m->rows[i];
        const struct cat_backup *b = r->b;
        if (m->minimal) {
            json_array_append_new(list, json_string(b->id));
            continue;
        }
        json_t *o = json_pack("{s:s}", "backup_id", b->id);
        if (b->backup_name)
            json_object_set_new(o, "backup_name", json_string(b->backup_name));
        json_object_set_new(o, "status",
                            json_string(r->unreadable ? "UNREADABLE" : cat_status_name(b->status)));
        if (!r->unreadable && cat_status_copy_done(b->status)) {
            struct strbuf s = {0}, w = {0};
            fmt_size((double)r->size, &s);
            fmt_size((double)r->wal_size, &w);
            char end[TS_MAX] = "";
            if (b->end_time.set)
                ts_format_ctime(&b->end_time.t, end);
            json_object_set_new(o, "end_time", b->end_time.set ? json_string(end) : json_null());
            json_object_set_new(o, "end_time_timestamp",
                                b->end_time.set
                                    ? json_sprintf("%lld", (long long)b->end_time.t.sec)
                                    : json_null());
            json_object_set_new(o, "size_bytes", json_integer((json_int_t)r->size));
            json_object_set_new(o, "wal_size_bytes", json_integer((json_int_t)r->wal_size));
            json_object_set_new(o, "deduplicated_size_bytes",
                                b->deduplicated_size.set
                                    ? json_integer((json_int_t)b->deduplicated_size.v)
                                    : json_null());
            json_object_set_new(o, "size", json_string(sb_str(&s)));
            json_object_set_new(o, "wal_size", json_string(sb_str(&w)));
            json_t *tbs = json_array();
            for (size_t t = 0; t < b->n_tablespaces; t++)
                json_array_append_new(tbs, json_pack("{s:s, s:s}", "name", b->tablespaces[t].name,
                                                     "location", b->tablespaces[t].location));
            json_object_set_new(o, "tablespaces", tbs);
            json_object_set_new(o, "encryption", op_json_str(cat_extra_get(b, "encryption")));
            /* Barman's JSON says "-" for VALID too; cellar names it */
            json_object_set_new(o, "retention_status", json_string(ret_mark_name(r->mark)));
            /* kept whatever the policy (retention_status says KEEP only with one) */
            json_object_set_new(o, "keep", r->keep ? json_string(r->keep) : json_null());
            sb_free(&s);
            sb_free(&w);
        }
        json_array_append_new(list, o);
    }
    json_t *res = json_pack("{s:s, s:o}", "server", m->server, "backups", list);
    if (m->bucket)
        json_object_set_new(res, "bucket", json_string(m->bucket));
    return res;
}

/* List one server: a result event of its own. */
static int list_one(const struct op_ctx *ctx, const struct cfg_server *s, const void *arg,
                    struct cel_err *err)
{
    bool minimal = *(const bool *)arg;
    struct op_catalog cat;
    /* a local server's WAL sums come from a pass over xlog.db (below),
     * a bucket server's with its catalogue */
    int rc = op_catalog_load(ctx, s, !minimal && s->cloud_source, &cat, err);
    if (rc < 0)
        return rc;
    /* the WAL sums of the backups shown (wal[k] for backup k) */
    struct xdb_wal_scan *scans = cel_xcalloc(cat.list.n + 1, sizeof *scans);
    size_t *wal = cel_xcalloc(cat.list.n + 1, sizeof *wal), n_scans = 0;
    for (size_t k = 0; !minimal && k < cat.list.n; k++)
        if (!cat.list.failed[k] && cat_status_copy_done(cat.list.items[k].status)) {
            wal[k] = n_scans;
            op_catalog_scan_of(&cat, k, &scans[n_scans++]);
        }
    if (!minimal && (rc = op_catalog_wal_scan(ctx, s, &cat, scans, n_scans, err)) < 0) {
        free(scans);
        free(wal);
        op_catalog_free(&cat);
        return rc;
    }
    struct model m = {.server = s->name, .bucket = s->cloud_source, .minimal = minimal};
    m.rows = cel_xcalloc(cat.list.n + 1, sizeof *m.rows);
    enum ret_mark *marks = cel_xcalloc(cat.list.n + 1, sizeof *marks);
    if (!minimal && !cat.keep) {
        /* each backup's keep, read once: for the keep field and for the
         * retention marks (a bucket server's came with its catalogue) */
        cat.keep = cel_xcalloc(cat.list.n + 1, sizeof *cat.keep);
        for (size_t k = 0; k < cat.list.n; k++)
            if (!cat.list.failed[k] && cat_status_copy_done(cat.list.items[k].status))
                cat.keep[k] = op_keep_mark(ctx, s, cat.list.items[k].id);
    }
    if (!minimal)
        op_retention_marks(ctx, s, &cat, marks);
    for (size_t k = cat.list.n; k-- > 0;) {
        struct row *r = &m.rows[m.n++];
        r->b = &cat.list.items[k];
        r->unreadable = cat.list.failed[k];
        r->mark = marks[k];
        if (r->unreadable || minimal || !cat_status_copy_done(r->b->status))
            continue;
        r->keep = cat.keep[k] == RET_MARK_KEEP_STANDALONE ? "standalone"
                  : cat.keep[k] == RET_MARK_KEEP_FULL     ? "full"
                                                          : NULL;
        const struct xdb_wal_info *wi = &scans[wal[k]].info;
        r->size = (uint64_t)(r->b->size.set ? r->b->size.v : 0) + wi->wal_size;
        r->wal_size = wi->until_next_size;
    }
    struct op_result result = {"list-backup", &m, render_text, render_json};
    op_result(ctx, &result);
    free(marks);
    free(wal);
    free(scans);
    free(m.rows);
    op_catalog_free(&cat);
    return 0;
}

int op_list_backup(const struct op_ctx *ctx, const struct op_list_backup_req *req,
                   struct cel_err *err)
{
    bool minimal = req->minimal;
    return op_each_server(ctx, req->server, OP_SERVERS_LISTABLE, list_one, &minimal, err);
}
