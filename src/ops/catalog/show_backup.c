/*
 * show_backup.c - `cellar show-backup SERVER ID`: everything the catalogue
 * knows about one backup, laid out as Barman's show-backup prints it (the
 * same labels, order, padding and number formats), so a DBA's eyes and
 * scripts find each line where they expect it.
 *
 * The WAL figures come from xlog.db: the files the backup needs (begin_wal
 * to end_wal), and those archived after it up to the next backup.
 *
 * A backup.info written by Barman >= 3.11 has keys 3.4 does not know
 * (cluster_size, data_checksums, summarize_wal, parent_backup_id,
 * children_backup_ids, and 3.14's encryption): their lines are shown where
 * Barman 3.21's show-backup shows them (barman/output.py,
 * render_show_backup_*), and only for such a backup, so a 3.4 backup's
 * output stays Barman 3.4's.
 */
#include "catalog_json.h"
#include "fmt.h"
#include "ops.h"

struct model {
    const struct cfg_server *server;
    const struct cat_backup *b;
    bool newer;             /* b has Barman >= 3.11's keys */
    const char *root;       /* incremental backups: the chain's full backup */
    size_t chain_size;      /* backups in the chain, b included */
    const char *previous; /* ID, NULL when none */
    const char *next;
    struct xdb_wal_info wal;
    enum ret_mark mark; /* RET_MARK_NONE without a policy */
};

/* "  Label                  : value" (Barman's "  {:<23}: {}") */
static void row(struct strbuf *out, const char *label, const char *value)
{
    sb_appendf(out, "  %-23s: %s\n", label, value ? value : "None");
}

/* "    Label                : value" (Barman's "    {:<21}: {}") */
static void nested(struct strbuf *out, const char *label, const char *value)
{
    sb_appendf(out, "    %-21s: %s\n", label, value ? value : "None");
}

static void nested_int(struct strbuf *out, const char *label, struct cat_int v)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)v.v);
    nested(out, label, v.set ? text : NULL);
}

static void nested_time(struct strbuf *out, const char *label, struct cat_time t)
{
    char text[TS_MAX];
    if (t.set)
        ts_format(&t.t, text);
    nested(out, label, t.set ? text : NULL);
}

/* Copy time and throughput from copy_stats, as Barman derives them
 * (cloud-backup-show prints them too). */
void op_show_copy_stats(const struct cat_backup *b, struct strbuf *out)
{
    double copy_time = 0;
    if (!py_as_double(py_dict_get(b->copy_stats, "copy_time"), &copy_time) || copy_time == 0)
        return;
    struct strbuf v = {0};
    ts_human_delta(copy_time, &v);
    double analysis = 0;
    if (py_as_double(py_dict_get(b->copy_stats, "analysis_time"), &analysis) && analysis >= 1) {
        sb_append(&v, " + ");
        ts_human_delta(analysis, &v);
        sb_append(&v, " startup");
    }
    nested(out, "Copy time", sb_str(&v));
    sb_reset(&v);
    struct cat_int size = b->deduplicated_size.set && b->deduplicated_size.v ? b->deduplicated_size
                                                                             : b->size;
    if (size.set) {
        fmt_size((double)size.v / copy_time, &v);
        sb_append(&v, "/s");
        double workers = 1;
        if (py_as_double(py_dict_get(b->copy_stats, "number_of_workers"), &workers) &&
            workers > 1)
            sb_appendf(&v, " (%.0f jobs)", workers);
        nested(out, "Estimated throughput", sb_str(&v));
    }
    sb_free(&v);
}

/* Barman's BackupInfo.backup_type. */
static const char *backup_type(const struct cat_backup *b)
{
    const char *mode = b->mode ? b->mode : "";
    if (cel_str_starts(mode, "snapshot"))
        return "snapshot";
    if (cel_str_starts(mode, "rsync"))
        return "rsync";
    return cat_extra_get(b, "parent_backup_id") ? "incremental" : "full";
}

/* children_backup_ids as Python prints the list Barman loads from it:
 * "['ID1', 'ID2']". */
static void children_repr(const char *ids, struct strbuf *out)
{
    sb_appendc(out, '[');
    for (const char *p = ids;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        sb_appendf(out, "%s'%.*s'", p == ids ? "" : ", ", (int)n, p);
        if (!comma)
            break;
        p = comma + 1;
    }
    sb_appendc(out, ']');
}

static void render_base(const struct model *m, struct strbuf *out)
{
    const struct cat_backup *b = m->b;
    struct strbuf v = {0};
    sb_append(out, "  Base backup information:\n");
    const char *encryption = cat_extra_get(b, "encryption");
    if (encryption)
        nested(out, "Encryption", encryption);
    if (m->newer && b->mode && strcmp(b->mode, "postgres") == 0)
        nested(out, "Backup Type", backup_type(b));
    if (b->size.set) {
        fmt_size((double)b->size.v, &v);
        sb_append(&v, " (");
        fmt_size((double)b->size.v + (double)m->wal.wal_size, &v);
        sb_append(&v, " with WALs)");
        nested(out, "Disk usage", sb_str(&v));
        sb_reset(&v);
    }
    if (b->deduplicated_size.set && b->size.set && b->size.v > 0) {
        fmt_size((double)b->deduplicated_size.v, &v);
        sb_append(&v, " (-");
        fmt_percent(1.0 - (double)b->deduplicated_size.v / (double)b->size.v, &v);
        sb_append(&v, ")");
        nested(out, "Incremental size", sb_str(&v));
        sb_reset(&v);
    }
    nested_int(out, "Timeline", b->timeline);
    nested(out, "Begin WAL", b->begin_wal);
    nested(out, "End WAL", b->end_wal);
    sb_appendf(&v, "%llu", (unsigned long long)m->wal.wal_num);
    nested(out, "WAL number", sb_str(&v));
    sb_reset(&v);
    if (m->wal.compression_ratio > 0) {
        fmt_percent(m->wal.compression_ratio, &v);
        nested(out, "WAL compression ratio", sb_str(&v));
        sb_reset(&v);
    }
    nested_time(out, "Begin time", b->begin_time);
    nested_time(out, "End time", b->end_time);
    op_show_copy_stats(b, out);
    nested_int(out, "Begin Offset", b->begin_offset);
    nested_int(out, "End Offset", b->end_offset);
    nested(out, "Begin LSN", b->begin_xlog);
    nested(out, "End LSN", b->end_xlog);
    sb_append(out, "\n");
    sb_free(&v);
}

static void render_wal(const struct model *m, struct strbuf *out)
{
    struct strbuf v = {0};
    sb_append(out, "  WAL information:\n");
    sb_appendf(&v, "%llu", (unsigned long long)m->wal.until_next_num);
    nested(out, "No of files", sb_str(&v));
    sb_reset(&v);
    fmt_size((double)m->wal.until_next_size, &v);
    nested(out, "Disk usage", sb_str(&v));
    sb_reset(&v);
    if (m->wal.wals_per_second > 0) {
        sb_appendf(&v, "%.2f/hour", m->wal.wals_per_second * 3600);
        nested(out, "WAL rate", sb_str(&v));
        sb_reset(&v);
    }
    if (m->wal.until_next_compression_ratio > 0) {
        fmt_percent(m->wal.until_next_compression_ratio, &v);
        nested(out, "Compression ratio", sb_str(&v));
        sb_reset(&v);
    }
    nested(out, "Last available", m->wal.last);
    sb_append(out, "\n");
    sb_free(&v);
}

static void render_catalog(const struct model *m, struct strbuf *out)
{
    sb_append(out, "  Catalog information:\n");
    /* with a policy, Barman prints the mark even when it is "-" (a backup
     * WAITING_FOR_WALS) */
    nested(out, "Retention Policy",
           m->server->retention_policy.kind == RET_NONE ? "not enforced"
                                                        : ret_mark_short(m->mark));
    nested(out, "Previous Backup", m->previous ? m->previous : "- (this is the oldest base backup)");
    nested(out, "Next Backup", m->next ? m->next : "- (this is the latest base backup)");
    const struct cat_backup *b = m->b;
    const char *parent = cat_extra_get(b, "parent_backup_id");
    if (m->newer && parent) {
        char size[32];
        snprintf(size, sizeof size, "%zu", m->chain_size);
        nested(out, "Root Backup", m->root);
        nested(out, "Parent Backup", parent);
        nested(out, "Backup chain size", size);
    }
    const char *children = cat_extra_get(b, "children_backup_ids");
    if (m->newer && children && b->mode && strcmp(b->mode, "postgres") == 0) {
        struct strbuf v = {0};
        children_repr(children, &v);
        nested(out, "Children Backup(s)", sb_str(&v));
        sb_free(&v);
    }
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    const struct cat_backup *b = m->b;
    char version[32];
    snprintf(version, sizeof version, "%lld", (long long)b->version.v);
    sb_appendf(out, "Backup %s:\n", b->id);
    if (b->backup_name)
        row(out, "Backup Name", b->backup_name);
    /* a backup.info without server_name belongs to this server (Barman's default) */
    row(out, "Server Name", b->server_name ? b->server_name : m->server->name);
    if (m->server->cloud_source) { /* a bucket server's: where it is (cellar's line) */
        char *where = cel_xasprintf("bucket %s, server %s", m->server->cloud_source,
                                    m->server->cloud_server_name);
        row(out, "Location", where);
        free(where);
    }
    if (b->systemid && *b->systemid)
        row(out, "System Id", b->systemid);
    row(out, "Status", cat_status_name(b->status));
    if (!cat_status_copy_done(b->status)) {
        if (b->error)
            row(out, "Error", b->error);
        return;
    }
    row(out, "PostgreSQL Version", b->version.set ? version : NULL);
    row(out, "PGDATA directory", b->pgdata);
    const char *cluster_size = cat_extra_get(b, "cluster_size");
    char *stop = NULL;
    double cluster = cluster_size ? strtod(cluster_size, &stop) : 0;
    if (cluster_size && !*stop && cluster > 0) {
        struct strbuf v = {0};
        fmt_size(cluster, &v);
        row(out, "Estimated Cluster Size", sb_str(&v));
        sb_free(&v);
    }
    sb_append(out, "\n");
    const char *checksums = cat_extra_get(b, "data_checksums");
    const char *summarizer = cat_extra_get(b, "summarize_wal");
    if (checksums || summarizer) {
        sb_append(out, "  Server information:\n");
        if (checksums)
            nested(out, "Checksums", checksums);
        if (summarizer)
            nested(out, "WAL summarizer", summarizer);
        sb_append(out, "\n");
    }
    if (b->n_tablespaces) {
        sb_append(out, "  Tablespaces:\n");
        for (size_t i = 0; i < b->n_tablespaces; i++) {
            char *v = cel_xasprintf("%s (oid: %lld)", b->tablespaces[i].location,
                                    (long long)b->tablespaces[i].oid);
            nested(out, b->tablespaces[i].name, v);
            free(v);
        }
        sb_append(out, "\n");
    }
    render_base(m, out);
    render_wal(m, out);
    render_catalog(m, out);
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    json_t *o = op_backup_json(m->b);
    json_object_set_new(o, "server", json_string(m->server->name));
    if (m->server->cloud_source)
        json_object_set_new(o, "bucket", json_string(m->server->cloud_source));
    if (cat_status_copy_done(m->b->status)) {
        json_object_set_new(o, "previous_backup_id",
                            m->previous ? json_string(m->previous) : json_null());
        json_object_set_new(o, "next_backup_id", m->next ? json_string(m->next) : json_null());
        json_object_set_new(o, "retention_status", json_string(ret_mark_name(m->mark)));
        if (m->newer) {
            json_object_set_new(o, "backup_type", json_string(backup_type(m->b)));
            json_object_set_new(o, "root_backup_id", json_string(m->root));
            json_object_set_new(o, "chain_size", json_integer((json_int_t)m->chain_size));
        }
        json_object_set_new(
            o, "wal",
            json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:s?}", "wal_num",
                      (json_int_t)m->wal.wal_num, "wal_size", (json_int_t)m->wal.wal_size,
                      "wal_until_next_num", (json_int_t)m->wal.until_next_num,
                      "wal_until_next_size", (json_int_t)m->wal.until_next_size,
                      "wal_compression_ratio", m->wal.compression_ratio,
                      "wal_until_next_compression_ratio", m->wal.until_next_compression_ratio,
                      "wals_per_second", m->wal.wals_per_second, "wal_last", m->wal.last));
    }
    return o;
}

/* The chain of backup i up to its root (Barman's walk_to_root): parents by
 * parent_backup_id, as far as the catalogue has them; a loop is cut. */
static void chain(const struct cat_list *list, size_t i, struct model *m)
{
    m->root = list->items[i].id;
    m->chain_size = 1;
    const char *parent = cat_extra_get(&list->items[i], "parent_backup_id");
    while (parent && m->chain_size <= list->n) {
        size_t k = 0;
        while (k < list->n && strcmp(list->items[k].id, parent) != 0)
            k++;
        if (k == list->n)
            break;
        m->root = list->items[k].id;
        m->chain_size++;
        parent = cat_extra_get(&list->items[k], "parent_backup_id");
    }
}

int op_show_backup(const struct op_ctx *ctx, const struct op_show_backup_req *req,
                   struct cel_err *err)
{
    const struct cfg_server *s = NULL;
    struct op_catalog cat;
    /* a local server's WAL is counted by a pass over xlog.db (below), a
     * bucket server's comes with its catalogue */
    const struct cfg_server *named = cfg_server_find(ctx->cfg, req->server);
    bool bucket = named && named->cloud_source;
    int i = op_backup_open(ctx, req->server, req->backup, "show-backup", bucket, &s, &cat, err);
    if (i < 0)
        return i;
    struct xdb_wal_scan one;
    struct model m = {.server = s, .b = &cat.list.items[i]};
    if (cat_status_copy_done(m.b->status)) {
        int prev = cat_previous(&cat.list, (size_t)i), next = cat_next(&cat.list, (size_t)i);
        m.previous = prev >= 0 ? cat.list.items[prev].id : NULL;
        m.next = next >= 0 ? cat.list.items[next].id : NULL;
        op_catalog_scan_of(&cat, (size_t)i, &one);
        int rc = op_catalog_wal_scan(ctx, s, &cat, &one, 1, err);
        if (rc < 0) {
            op_catalog_free(&cat);
            return rc;
        }
        m.wal = one.info;
        m.newer = cat_has_newer_keys(m.b);
        chain(&cat.list, (size_t)i, &m);
        enum ret_mark *marks = cel_xcalloc(cat.list.n, sizeof *marks);
        op_retention_marks(ctx, s, &cat, marks);
        m.mark = marks[i];
        free(marks);
    }
    struct op_result result = {"show-backup", &m, render_text, render_json};
    op_result(ctx, &result);
    op_catalog_free(&cat);
    return 0;
}
