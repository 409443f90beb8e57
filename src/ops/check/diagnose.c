/*
 * diagnose.c - `cellar diagnose`: one JSON document with what a bug report
 * needs: versions (cellar, rsync, ssh, libpq, kernel, OS), the effective
 * configuration (passwords masked) with its diagnostics, and per server the
 * PostgreSQL status, the catalogue, the WAL archive summary, how many
 * backups carry each retention mark, and the results of `cellar check`
 * (without creating missing directories; --no-connect leaves out the checks
 * that need PostgreSQL or ssh).
 *
 * As in Barman the text form is the JSON itself, indented with sorted keys.
 */
#include <sys/utsname.h>

#include <libpq-fe.h>

#include "catalog_json.h"
#include "ops.h"
#include "pg.h"
#include "proc.h"

/* First line of a program's --version output (stdout or stderr), or null. */
static json_t *program_version(const char *const argv[])
{
    struct proc_result res = {0};
    json_t *v = json_null();
    if (proc_run(argv, &(struct proc_opts){.timeout_ms = 5000}, &res, NULL) == 0 &&
        res.status == 0) {
        const char *text = res.out && res.out[0] ? res.out : res.err;
        if (text) {
            json_decref(v);
            v = json_stringn(text, strcspn(text, "\n"));
        }
    }
    proc_result_free(&res);
    return v;
}

/* PRETTY_NAME of /etc/os-release, or null. */
static json_t *os_release(void)
{
    FILE *f = fopen("/etc/os-release", "r");
    if (!f)
        return json_null();
    char line[512];
    json_t *v = json_null();
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0)
            continue;
        char *s = line + 12;
        s[strcspn(s, "\n")] = '\0';
        size_t len = strlen(s);
        if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
            s[len - 1] = '\0';
            s++;
        }
        json_decref(v);
        v = json_string(s);
        break;
    }
    fclose(f);
    return v;
}

static json_t *system_info(void)
{
    json_t *o = json_object();
    struct utsname u;
    if (uname(&u) == 0)
        json_object_set_new(o, "kernel",
                            json_sprintf("%s %s %s %s %s", u.sysname, u.nodename, u.release,
                                         u.version, u.machine));
    json_object_set_new(o, "os", os_release());
    json_object_set_new(o, "cellar_version", json_string(CEL_VERSION));
    int pq = PQlibVersion();
    json_object_set_new(o, "libpq_version", json_sprintf("%d.%d", pq / 10000, pq % 10000));
    const char *rsync[] = {"rsync", "--version", NULL};
    const char *ssh[] = {"ssh", "-V", NULL};
    json_object_set_new(o, "rsync_version", program_version(rsync));
    json_object_set_new(o, "ssh_version", program_version(ssh));
    struct ts now;
    ts_now(&now);
    char text[TS_MAX];
    ts_format_iso(&now, text);
    json_object_set_new(o, "timestamp", json_string(text));
    return o;
}

/* One option's value as JSON: typed for booleans and integers, the
 * show-server text for the rest, null when unset. */
static json_t *option_json(const struct cfg_option *opt, const void *base)
{
    if (cfg_value_is_null(opt, base))
        return json_null();
    const void *f = cfg_value_ptr(opt, base);
    if (opt->type == CFG_T_BOOL)
        return json_boolean(*(const bool *)f);
    if (opt->type == CFG_T_INT)
        return json_integer(*(const int *)f);
    struct strbuf v = {0};
    cfg_format_value(opt, base, false, &v);
    json_t *j = json_string(sb_str(&v));
    sb_free(&v);
    return j;
}

/* The options whose values live in base: the global struct or a server's. */
static json_t *config_json(const void *base, bool global)
{
    json_t *o = json_object();
    for (size_t i = 0; i < cfg_option_count; i++) {
        const struct cfg_option *opt = &cfg_options[i];
        if (cfg_option_is_global(opt) == global && opt->type != CFG_T_IGNORED)
            json_object_set_new(o, opt->name, option_json(opt, base));
    }
    return o;
}

static json_t *diags_json(const struct cfg *cfg, const char *server)
{
    static const char *const levels[] = {"note", "warning", "error"};
    json_t *a = json_array();
    for (size_t i = 0; i < cfg->n_diags; i++) {
        const struct cfg_diag *d = &cfg->diags[i];
        bool mine = server ? (d->server && strcmp(d->server, server) == 0) : !d->server;
        if (mine)
            json_array_append_new(a, json_pack("{s:s, s:s}", "level", levels[d->level], "message",
                                               d->text));
    }
    return a;
}

static json_t *pg_json(const struct cfg_server *s)
{
    json_t *o = json_object();
    if (!s->conninfo) {
        json_object_set_new(o, "connection_error", json_string("conninfo is not set"));
        return o;
    }
    struct cel_err err = {0};
    struct pg_conn *conn = NULL;
    struct pg_status st = {0};
    if (pg_connect(s->conninfo, s->check_timeout, &conn, &err) < 0 ||
        pg_get_status(conn, &st, &err) < 0) {
        json_object_set_new(o, "connection_error", json_string(err.msg));
    } else {
        for (size_t i = 0; i < st.n; i++)
            json_object_set_new(o, st.items[i].key,
                                st.items[i].value ? json_string(st.items[i].value) : json_null());
    }
    pg_status_free(&st);
    pg_close(conn);
    return o;
}

/* Backups, and the WAL archive summarised per timeline. */
static void add_catalog(const struct op_ctx *ctx, const struct cfg_server *s, json_t *srv)
{
    struct op_catalog cat;
    struct cel_err err = {0};
    if (op_catalog_load(ctx, s, true, &cat, &err) < 0) {
        json_object_set_new(srv, "catalog_error", json_string(err.msg));
        return;
    }
    json_t *backups = json_object();
    size_t done = 0;
    for (size_t i = 0; i < cat.list.n; i++) {
        if (cat.list.failed[i]) {
            json_object_set_new(backups, cat.list.items[i].id,
                                json_pack("{s:s}", "error", cat.list.errors[i].msg));
            continue;
        }
        if (cat.list.items[i].status == CAT_DONE)
            done++;
        json_object_set_new(backups, cat.list.items[i].id, op_backup_json(&cat.list.items[i]));
    }
    json_object_set_new(srv, "backups", backups);
    json_t *per_tli = json_object();
    uint64_t total = 0;
    for (size_t i = 0; i < cat.xdb.n; i++) {
        const struct xdb_entry *e = &cat.xdb.entries[i];
        total += e->size;
        if (strlen(e->name) < 8 || cel_str_ends(e->name, ".history"))
            continue;
        char tli[9];
        memcpy(tli, e->name, 8);
        tli[8] = '\0';
        /* entries are sorted, so the last one seen per timeline is the newest */
        json_object_set_new(per_tli, tli,
                            json_pack("{s:s, s:I, s:f, s:s?}", "name", e->name, "size",
                                      (json_int_t)e->size, "time", e->time, "compression",
                                      e->compression[0] ? e->compression : NULL));
    }
    json_object_set_new(srv, "wals",
                        json_pack("{s:o, s:I, s:I}", "last_archived_wal_per_timeline", per_tli,
                                  "count", (json_int_t)cat.xdb.n, "size", (json_int_t)total));
    json_object_set_new(srv, "summary",
                        json_pack("{s:I, s:I}", "backups", (json_int_t)cat.list.n, "done",
                                  (json_int_t)done));
    /* retention: the policy and how many backups carry each mark */
    char policy[64];
    ret_policy_format(&s->retention_policy, policy, sizeof policy);
    json_t *ret = json_pack("{s:o}", "policy", policy[0] ? json_string(policy) : json_null());
    enum ret_mark *marks = cel_xcalloc(cat.list.n + 1, sizeof *marks);
    op_retention_marks(ctx, s, &cat, marks);
    for (size_t i = 0; i < cat.list.n; i++) {
        if (marks[i] == RET_MARK_NONE)
            continue;
        const char *name = ret_mark_name(marks[i]);
        json_object_set_new(ret, name,
                            json_integer(json_integer_value(json_object_get(ret, name)) + 1));
    }
    free(marks);
    json_object_set_new(srv, "retention", ret);
    op_catalog_free(&cat);
}

static void render_text(const void *p, struct strbuf *out)
{
    char *text = json_dumps(p, JSON_INDENT(4) | JSON_SORT_KEYS);
    if (text) {
        sb_append(out, text);
        sb_appendc(out, '\n');
        free(text);
    }
}

static json_t *render_json(const void *p)
{
    return json_incref((json_t *)(uintptr_t)p);
}

int op_diagnose(const struct op_ctx *ctx, const struct op_diagnose_req *req, struct cel_err *err)
{
    (void)err;
    const struct cfg *cfg = ctx->cfg;
    json_t *global = json_object();
    json_object_set_new(global, "config", config_json(&cfg->global, true));
    json_object_set_new(global, "configuration_file", json_string(cfg->path));
    json_object_set_new(global, "diagnostics", diags_json(cfg, NULL));
    json_object_set_new(global, "system_info", system_info());
    json_t *servers = json_object();
    for (size_t i = 0; i < cfg->n_servers; i++) {
        const struct cfg_server *s = &cfg->servers[i];
        json_t *srv = json_object();
        json_object_set_new(srv, "config", config_json(s, false));
        json_object_set_new(srv, "disabled", json_boolean(s->disabled));
        json_object_set_new(srv, "diagnostics", diags_json(cfg, s->name));
        if (!req->no_connect && !s->disabled)
            json_object_set_new(srv, "status", pg_json(s));
        if (!s->disabled)
            add_catalog(ctx, s, srv);
        /* the checks, without their side effect (creating directories) */
        struct op_check_report report;
        op_check_server(ctx, s, &(struct op_check_opts){.connect = !req->no_connect}, &report);
        json_object_set_new(srv, "check", op_check_json(&report));
        json_object_set_new(srv, "check_failures",
                            json_integer((json_int_t)op_check_failures(&report)));
        op_check_report_free(&report);
        json_object_set_new(servers, s->name, srv);
    }
    json_t *doc = json_pack("{s:o, s:o}", "global", global, "servers", servers);
    struct op_result result = {"diagnose", doc, render_text, render_json};
    op_result(ctx, &result);
    json_decref(doc);
    return 0;
}
