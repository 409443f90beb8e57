/*
 * show_server.c - `cellar show-server SERVER|all`: every effective option of
 * a server (after inheritance and defaults, passwords masked), the derived
 * directories, and what PostgreSQL reports about itself, one "key: value"
 * per line in key order, as Barman's show-server does.
 */
#include "fmt.h"
#include "ops.h"
#include "server.h"
#include "pg.h"
#include "server_select.h"
#include "storage.h"
#include "wal.h"
#include "wal_archive.h"

struct kv {
    char *key;
    char *value; /* NULL prints as None */
};

struct model {
    const char *server;
    struct kv *items;
    size_t n;
};

static void add(struct model *m, const char *key, const char *value)
{
    m->items = cel_xrealloc_array(m->items, m->n + 1, sizeof *m->items);
    m->items[m->n].key = cel_xstrdup(key);
    m->items[m->n].value = value ? cel_xstrdup(value) : NULL;
    m->n++;
}

static void add_cb(void *m, const char *key, const char *value)
{
    add(m, key, value);
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

static void model_free(struct model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i].key);
        free(m->items[i].value);
    }
    free(m->items);
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    sb_appendf(out, "Server %s:\n", m->server);
    for (size_t i = 0; i < m->n; i++)
        sb_appendf(out, "\t%s: %s\n", m->items[i].key,
                   m->items[i].value ? m->items[i].value : "None");
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    json_t *opts = json_object();
    for (size_t i = 0; i < m->n; i++)
        json_object_set_new(opts, m->items[i].key,
                            m->items[i].value ? json_string(m->items[i].value) : json_null());
    return json_pack("{s:s, s:o}", "server", m->server, "settings", opts);
}

/* Add key listing the server's diagnostics of exactly level: the option
 * names for notes (Barman options cellar ignores), the messages otherwise.
 * Nothing is added when there are none. */
static void add_diags(struct model *m, const struct cfg *cfg, const char *server,
                      enum cfg_diag_level level, const char *key)
{
    struct strbuf list = {0};
    for (size_t i = 0; i < cfg->n_diags; i++) {
        const struct cfg_diag *d = &cfg->diags[i];
        if (d->level != level || !d->server || strcmp(d->server, server) != 0)
            continue;
        sb_append(&list, list.len ? (level == CFG_NOTE ? ", " : "; ") : "");
        sb_append(&list, level == CFG_NOTE ? d->option : d->text);
    }
    if (list.len)
        add(m, key, sb_str(&list));
    sb_free(&list);
}

/* Options, derived values and configuration problems of one server. */
static void add_config(const struct op_ctx *ctx, const struct cfg_server *s, struct model *m)
{
    const struct cfg *cfg = ctx->cfg;
    for (size_t i = 0; i < cfg_option_count; i++) {
        const struct cfg_option *opt = &cfg_options[i];
        if (cfg_option_is_global(opt) || opt->type == CFG_T_IGNORED)
            continue;
        if (cfg_value_is_null(opt, s)) {
            add(m, opt->name, NULL);
            continue;
        }
        struct strbuf v = {0};
        cfg_format_value(opt, s, false, &v);
        add(m, opt->name, sb_str(&v));
        sb_free(&v);
    }
    add(m, "barman_home", cfg->global.barman_home);
    add(m, "barman_lock_directory", cfg->global.barman_lock_directory);
    add(m, "configuration_file", cfg->path);
    /* Barman >= 3.10 shows the model config-switch made active */
    if (s->active_model || cfg->n_models)
        add(m, "active_model", s->active_model);
    add(m, "disabled", s->disabled ? "True" : "False");
    add_diags(m, cfg, s->name, CFG_NOTE, "ignored_barman_options");
    add_diags(m, cfg, s->name, CFG_ERROR, "configuration_errors");
}

/* Number of visible entries of dir ("0" when it does not exist). */
static size_t count_visible(const char *dir)
{
    struct stor_names names;
    if (stor_list_dir(dir, NULL, NULL, &names, NULL) < 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < names.n; i++)
        if (names.names[i][0] != '.')
            n++;
    stor_names_free(&names);
    return n;
}

/* The archive's figures: what xlog.db lists, what waits in incoming/ (the
 * files archive-wal would take), what was rejected into errors/. */
static void add_archive(const struct op_ctx *ctx, const struct cfg_server *s, struct model *m)
{
    struct xdb db;
    struct cel_err err = {0};
    if (op_xdb_load(ctx, s, &db, &err) < 0) {
        add(m, "archive_error", err.msg);
        return;
    }
    uint64_t size = 0, segments = 0, segment_bytes = 0;
    const char *last = NULL;
    for (size_t i = 0; i < db.n; i++) {
        const struct xdb_entry *e = &db.entries[i];
        size += e->size;
        struct wal_name w;
        if (wal_name_parse(e->name, &w, NULL) == 0 && w.kind == WAL_KIND_SEGMENT) {
            segments++;
            segment_bytes += e->size;
            last = e->name; /* sorted: the last segment is the newest */
        }
    }
    char text[64];
    snprintf(text, sizeof text, "%zu", db.n);
    add(m, "archive_wal_count", text);
    struct strbuf v = {0};
    fmt_size((double)size, &v);
    add(m, "archive_wal_size", sb_str(&v));
    sb_reset(&v);
    add(m, "archive_last_wal", last);
    if (segments) {
        fmt_percent(1.0 - (double)segment_bytes / ((double)segments * (double)WAL_DEFAULT_SEGSIZE),
                    &v);
        add(m, "archive_compression_ratio", sb_str(&v));
    } else {
        add(m, "archive_compression_ratio", NULL);
    }
    sb_free(&v);
    size_t waiting = 0;
    op_wal_waiting_count(s->incoming_wals_directory, false, &waiting, NULL, NULL);
    snprintf(text, sizeof text, "%zu", waiting);
    add(m, "incoming_wal_count", text);
    snprintf(text, sizeof text, "%zu", count_visible(s->errors_directory));
    add(m, "errors_count", text);
    xdb_free(&db);
}

/* What PostgreSQL says, or why it could not be asked. */
static void add_remote(const struct cfg_server *s, struct model *m)
{
    if (!s->conninfo) {
        add(m, "connection_error", "conninfo is not set");
        return;
    }
    struct cel_err err = {0};
    struct pg_conn *conn = NULL;
    struct pg_status st = {0};
    if (pg_connect(s->conninfo, s->check_timeout, &conn, &err) < 0 ||
        pg_get_status(conn, &st, &err) < 0) {
        add(m, "connection_error", err.msg);
    } else {
        for (size_t i = 0; i < st.n; i++)
            add(m, st.items[i].key, st.items[i].value);
    }
    pg_status_free(&st);
    pg_close(conn);
}

/* With streaming_archiver: Barman's pg_receivexlog_* keys (installed,
 * path, version, compatible, supports_slots, synchronous; the last one
 * left out: it needs the receiver's own checks). */
static void add_receiver(const struct cfg_server *s, struct model *m)
{
    const char *v = NULL;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->items[i].key, "version") == 0)
            v = m->items[i].value;
    long version = v ? strtol(v, NULL, 10) : 0;
    struct op_pg_tool tool;
    if (op_pg_tool_find(version && version < 100000 ? "pg_receivexlog" : "pg_receivewal",
                        version, s->path_prefix, &tool) < 0) {
        add(m, "pg_receivexlog_installed", "False");
        return;
    }
    add(m, "pg_receivexlog_installed", "True");
    add(m, "pg_receivexlog_path", tool.path);
    const char *full = strstr(tool.version_text, "(PostgreSQL) ");
    add(m, "pg_receivexlog_version", full ? full + strlen("(PostgreSQL) ") : tool.version_text);
    if (version && tool.version) {
        bool compatible = tool.version / 100 >= version / 100;
        add(m, "pg_receivexlog_compatible", compatible ? "True" : "False");
        add(m, "pg_receivexlog_supports_slots", compatible ? "True" : "False");
    }
    op_pg_tool_free(&tool);
}

int op_show_server(const struct op_ctx *ctx, const struct op_show_server_req *req,
                   struct cel_err *err)
{
    const struct cfg_server **servers = NULL;
    size_t n = 0;
    int rc = op_select_servers(ctx, req->server, true, &servers, &n, NULL, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct model m = {.server = servers[i]->name};
        add_config(ctx, servers[i], &m);
        /* a bucket server: its options say where (cloud_source,
         * cloud_endpoint_url, cloud_profile); it has no local archive and no
         * PostgreSQL to ask */
        bool bucket = servers[i]->cloud_source != NULL;
        if (bucket) /* cellar's key; Barman has no such server */
            add(&m, "bucket_server", "True");
        if (!servers[i]->disabled && !bucket)
            add_archive(ctx, servers[i], &m);
        if (!servers[i]->disabled)
            op_cloud_copy_show(ctx, servers[i], add_cb, &m);
        if (!req->no_connect && !servers[i]->disabled && !bucket)
            add_remote(servers[i], &m);
        if (!req->no_connect && !servers[i]->disabled && servers[i]->streaming_archiver)
            add_receiver(servers[i], &m);
        qsort(m.items, m.n, sizeof *m.items, cmp_kv);
        struct op_result result = {"show-server", &m, render_text, render_json};
        op_result(ctx, &result);
        model_free(&m);
    }
    free(servers);
    return 0;
}
