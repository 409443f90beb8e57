/*
 * show_server.c - `cellar show-server SERVER|all`: every effective option of
 * a server (after inheritance and defaults, passwords masked), the derived
 * directories, and what PostgreSQL reports about itself, one "key: value"
 * per line in key order, as Barman's show-server does.
 */
#include "ops.h"
#include "pg.h"

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
    add(m, "disabled", s->disabled ? "True" : "False");
    add_diags(m, cfg, s->name, CFG_NOTE, "ignored_barman_options");
    add_diags(m, cfg, s->name, CFG_ERROR, "configuration_errors");
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
        if (!req->no_connect && !servers[i]->disabled)
            add_remote(servers[i], &m);
        qsort(m.items, m.n, sizeof *m.items, cmp_kv);
        struct op_result result = {"show-server", &m, render_text, render_json};
        op_result(ctx, &result);
        model_free(&m);
    }
    free(servers);
    return 0;
}
