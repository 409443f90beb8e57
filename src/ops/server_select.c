/*
 * server_select.c - which servers a command works on. A SERVER argument is
 * a name or "all"; disabled servers (configuration errors) and inactive
 * ones (active = false) are refused when named and skipped under "all",
 * except by the reports that show every server. op_each_server runs an op
 * on each selected server and goes on past a failure, so one unreachable
 * server does not stop a cron run for the others.
 */
#include "server_select.h"

/* The commands a bucket server serves: what reads or changes its bucket. */
static const char *const bucket_commands[] = {
    "list-backup", "show-backup", "recover", "delete", "check", "show-server", "list-server",
    "status",      "cron",        "diagnose", "get-wal", NULL};

/* Why the others do not, for the commands DBAs will try. */
static const struct {
    const char *command, *why;
} bucket_refusals[] = {
    {"backup", "its backups are taken on the PostgreSQL host with cellar cloud-backup or "
               "barman-cloud-backup"},
    {"put-wal", "its WAL is archived into the bucket by cloud-wal-archive (archive_command)"},
    {"archive-wal", "its WAL is archived into the bucket by cloud-wal-archive "
                    "(archive_command)"},
    {"receive-wal", "cellar does not stream its WAL"},
    {"switch-wal", "cellar has no PostgreSQL connection for it"},
    {"replication-status", "cellar has no PostgreSQL connection for it"},
    {"rebuild-xlogdb", "its WAL is listed in the bucket, it has no xlog.db"},
    {"verify-backup", "its backups are tar objects in the bucket, not local copies"},
    {"list-files", "its backups are tar objects in the bucket, not local copies"},
    {"check-backup", "its WAL is in the bucket, not in a local archive"},
    {"keep", "its keep annotations are in the bucket: use cellar cloud-backup-keep"},
};

bool op_bucket_serves(const char *command)
{
    for (size_t i = 0; command && bucket_commands[i]; i++)
        if (strcmp(bucket_commands[i], command) == 0)
            return true;
    return false;
}

int op_bucket_refuse(const struct cfg_server *s, const char *command, struct cel_err *err)
{
    if (!s->cloud_source || op_bucket_serves(command))
        return 0;
    const char *why = "this command needs PostgreSQL or a local archive, which it has not";
    for (size_t i = 0; command && i < sizeof bucket_refusals / sizeof *bucket_refusals; i++)
        if (strcmp(bucket_refusals[i].command, command) == 0)
            why = bucket_refusals[i].why;
    int rc = cel_err_set(err, CEL_E_USAGE, "server '%s' is a bucket server (cloud_source = %s): "
                                           "%s%s%s",
                         s->name, s->cloud_source, command ? command : "", command ? ": " : "",
                         why);
    struct strbuf serves = {0};
    for (size_t i = 0; bucket_commands[i]; i++)
        sb_appendf(&serves, "%s%s", i ? ", " : "", bucket_commands[i]);
    cel_err_hint(err, "A bucket server serves %s.", sb_str(&serves));
    sb_free(&serves);
    return rc;
}

/* op_select_servers for command (NULL: not known), which decides whether a
 * bucket server is served. */
static int select_servers(const struct op_ctx *ctx, const char *arg, enum op_servers which,
                          const char *command, const struct cfg_server ***out, size_t *n,
                          size_t *skipped, struct cel_err *err)
{
    const struct cfg *cfg = ctx->cfg;
    bool include_disabled = which == OP_SERVERS_ALL;
    bool include_inactive = which != OP_SERVERS_ACTIVE;
    *out = NULL;
    *n = 0;
    if (skipped)
        *skipped = 0;
    if (strcmp(arg, "all") == 0) {
        const struct cfg_server **list = cel_xcalloc(cfg->n_servers + 1, sizeof *list);
        for (size_t i = 0; i < cfg->n_servers; i++) {
            const struct cfg_server *s = &cfg->servers[i];
            if (s->disabled && !include_disabled) {
                op_log(ctx, LOG_ERROR, s->name,
                       "skipped: the server is disabled by configuration errors");
                if (skipped)
                    (*skipped)++;
                continue;
            }
            if (!s->active && !include_inactive) {
                op_log(ctx, LOG_INFO, s->name, "skipped: the server is inactive (active = false)");
                continue;
            }
            if (s->cloud_source && which == OP_SERVERS_ACTIVE && !op_bucket_serves(command)) {
                op_log(ctx, LOG_INFO, s->name, "skipped: a bucket server (cloud_source)");
                continue;
            }
            list[(*n)++] = s;
        }
        *out = list;
        return 0;
    }
    const struct cfg_server *s = cfg_server_find(cfg, arg);
    if (!s) {
        struct strbuf names = {0};
        for (size_t i = 0; i < cfg->n_servers; i++)
            sb_appendf(&names, "%s%s", i ? ", " : "", cfg->servers[i].name);
        int rc = cel_err_set(err, CEL_E_NOT_FOUND, "unknown server '%s'", arg);
        if (cfg->n_servers)
            cel_err_hint(err, "Configured servers: %s (or 'all').", sb_str(&names));
        else
            cel_err_hint(err, "'%s' defines no server section.", cfg->path);
        sb_free(&names);
        return rc;
    }
    if (s->disabled && !include_disabled) {
        int rc = cel_err_set(err, CEL_E_CONFIG,
                             "server '%s' is disabled by configuration errors", arg);
        cel_err_hint(err, "Fix the errors reported for [%s] in '%s'.", arg, cfg->path);
        return rc;
    }
    if (!s->active && !include_inactive) {
        int rc = cel_err_set(err, CEL_E_CONFIG, "server '%s' is inactive (active = false)", arg);
        cel_err_hint(err, "Set active = true in [%s] of '%s' to run this command on it.", arg,
                     cfg->path);
        return rc;
    }
    if (which == OP_SERVERS_ACTIVE) {
        int rc = op_bucket_refuse(s, command, err);
        if (rc < 0)
            return rc;
    }
    const struct cfg_server **list = cel_xcalloc(2, sizeof *list);
    list[0] = s;
    *out = list;
    *n = 1;
    return 0;
}

int op_select_servers(const struct op_ctx *ctx, const char *arg, enum op_servers which,
                      const struct cfg_server ***out, size_t *n, size_t *skipped,
                      struct cel_err *err)
{
    return select_servers(ctx, arg, which, ctx->command, out, n, skipped, err);
}

int op_each_server(const struct op_ctx *ctx, const char *arg, enum op_servers which,
                   op_server_fn fn, const void *fn_arg, struct cel_err *err)
{
    const struct cfg_server **servers = NULL;
    size_t n = 0, skipped = 0;
    int rc = op_select_servers(ctx, arg, which, &servers, &n, &skipped, err);
    if (rc < 0)
        return rc;
    int first = 0;
    size_t failed = 0;
    struct strbuf names = {0};
    for (size_t i = 0; i < n; i++) {
        struct cel_err one = {0};
        if (op_cancelled(ctx)) { /* interrupted: the next servers are not started */
            if (first == 0)
                first = cel_err_set(err, CEL_E_PROC, "interrupted by signal %d before server %s",
                                    *ctx->cancel, servers[i]->name);
            break;
        }
        int r = fn(ctx, servers[i], fn_arg, &one);
        if (r >= 0)
            continue;
        if (n == 1) {
            first = r;
            *err = one;
            continue;
        }
        /* several servers: each failure is said with its server's name as
         * it happens (a cron log must tell which server could not be
         * reached), and the final error lists them */
        op_log(ctx, LOG_ERROR, servers[i]->name, "%s", one.msg);
        sb_appendf(&names, "%s%s", failed++ ? ", " : "", servers[i]->name);
        if (first == 0) {
            first = r;
            *err = one;
        }
    }
    if (failed) {
        enum cel_code code = err->code ? (enum cel_code)err->code : CEL_E_PROC;
        cel_err_set(err, code, "%zu of %zu servers failed: %s", failed, n, sb_str(&names));
        err->hint[0] = '\0';
    }
    sb_free(&names);
    free(servers);
    if (first == 0 && skipped)
        return cel_err_set(err, CEL_E_CONFIG,
                           "%zu server%s skipped: disabled by configuration errors", skipped,
                           skipped == 1 ? "" : "s");
    return first;
}

int op_one_server(const struct op_ctx *ctx, const char *arg, const char *command,
                  const struct cfg_server **out, struct cel_err *err)
{
    *out = NULL;
    if (strcmp(arg, "all") == 0)
        return cel_err_set(err, CEL_E_USAGE, "%s needs one server, not 'all'", command);
    /* the listings of the catalogue also serve inactive servers */
    bool listing = strcmp(command, "show-backup") == 0 || strcmp(command, "list-files") == 0;
    const struct cfg_server **servers = NULL;
    size_t n = 0;
    int rc = select_servers(ctx, arg, listing ? OP_SERVERS_LISTABLE : OP_SERVERS_ACTIVE, command,
                            &servers, &n, NULL, err);
    if (rc == 0) /* the listings too (list-files) */
        rc = op_bucket_refuse(servers[0], command, err);
    if (rc == 0)
        *out = servers[0];
    free(servers);
    return rc;
}
