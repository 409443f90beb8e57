/*
 * pg.c - libpq wrapper.
 *
 * Connections always set application_name = cellar (so the DBA sees who is
 * connected in pg_stat_activity) and connect_timeout, unless the conninfo
 * sets them. Status collection runs a handful of catalogue queries, each of
 * which may fail on its own without failing the whole collection (a
 * non-superuser cannot read some settings; a standby cannot answer
 * pg_current_wal_lsn()).
 */
#include <libpq-fe.h>

#include "log.h"
#include "pg.h"
#include "strbuf.h"

struct pg_conn {
    PGconn *conn;
    int version;
    bool replication; /* a walsender connection: simple query protocol only */
    char sqlstate[6]; /* of the last statement that failed */
};

/* Remember the SQLSTATE of a failed result. */
static void keep_sqlstate(struct pg_conn *c, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
}

/* libpq messages end with a newline; keep the first line only. */
static void set_pg_error(struct cel_err *err, const char *what, const char *msg)
{
    size_t len = strcspn(msg, "\n");
    cel_err_set(err, CEL_E_PG, "%s: %.*s", what, (int)len, msg);
}

/* The server's notices ("all required WAL segments have been archived")
 * go to the log at debug level: libpq's default prints them on stderr,
 * and core never prints. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_msg(LOG_DEBUG, "PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

/* Connect; replication adds replication=true after the DBA's conninfo. */
static int connect_as(const char *conninfo, int timeout_s, bool replication,
                      struct pg_conn **out, struct cel_err *err)
{
    *out = NULL;
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", timeout_s > 0 ? timeout_s : 10);
    /* libpq processes keys in order and the last value of a key wins; the
     * dbname entry is expanded as a whole connection string, so putting it
     * last lets the DBA's conninfo override our defaults (replication, which
     * must hold, comes after it) */
    const char *keys[] = {"application_name", "connect_timeout", "dbname",
                          replication ? "replication" : NULL, NULL};
    const char *values[] = {"cellar", timeout, conninfo, replication ? "true" : NULL, NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn)
        return cel_err_set(err, CEL_E_PG, "cannot connect to PostgreSQL: out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
        set_pg_error(err, "cannot connect to PostgreSQL", PQerrorMessage(conn));
        cel_err_hint(err, "Check conninfo, that PostgreSQL is running and that pg_hba.conf "
                          "lets this host in.");
        PQfinish(conn);
        return -CEL_E_PG;
    }
    PQsetNoticeProcessor(conn, on_notice, NULL);
    struct pg_conn *c = cel_xcalloc(1, sizeof *c);
    c->conn = conn;
    c->version = PQserverVersion(conn);
    c->replication = replication;
    *out = c;
    return 0;
}

int pg_connect(const char *conninfo, int timeout_s, struct pg_conn **out, struct cel_err *err)
{
    return connect_as(conninfo, timeout_s, false, out, err);
}

int pg_connect_replication(const char *conninfo, int timeout_s, struct pg_conn **out,
                           struct cel_err *err)
{
    return connect_as(conninfo, timeout_s, true, out, err);
}

char *pg_conninfo_with(const char *conninfo, const char *key, const char *value, char **password)
{
    if (password)
        *password = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (!opts)
        return NULL;
    struct strbuf out = {0};
    bool present = false;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (password && strcmp(o->keyword, "password") == 0) {
            free(*password);
            *password = cel_xstrdup(o->val);
            continue;
        }
        present = present || strcmp(o->keyword, key) == 0;
        /* key='value' with \ and ' escaped: libpq's own quoting */
        sb_appendf(&out, "%s%s='", out.len ? " " : "", o->keyword);
        for (const char *p = o->val; *p; p++) {
            if (*p == '\\' || *p == '\'')
                sb_appendc(&out, '\\');
            sb_appendc(&out, *p);
        }
        sb_appendc(&out, '\'');
    }
    PQconninfoFree(opts);
    if (!present) {
        sb_appendf(&out, "%s%s='", out.len ? " " : "", key);
        for (const char *p = value; *p; p++) {
            if (*p == '\\' || *p == '\'')
                sb_appendc(&out, '\\');
            sb_appendc(&out, *p);
        }
        sb_appendc(&out, '\'');
    }
    return sb_detach(&out);
}

/* key=value with barman-cloud's quote_conninfo: quoted only when needed. */
static void conninfo_part(struct strbuf *out, const char *key, const char *value)
{
    if (!value)
        return;
    sb_appendf(out, "%s%s=", out->len ? " " : "", key);
    if (!value[0]) {
        sb_append(out, "''");
        return;
    }
    if (!strpbrk(value, " \t\n\r\f\v")) {
        sb_append(out, value);
        return;
    }
    sb_appendc(out, '\'');
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '\'')
            sb_appendc(out, '\\');
        sb_appendc(out, *p);
    }
    sb_appendc(out, '\'');
}

char *pg_conninfo_build(const char *host, const char *port, const char *user, const char *dbname)
{
    if (dbname && (!dbname[0] || strchr(dbname, '=')))
        return cel_xstrdup(dbname);
    struct strbuf out = {0};
    conninfo_part(&out, "host", host && host[0] ? host : NULL);
    conninfo_part(&out, "port", port && port[0] ? port : NULL);
    conninfo_part(&out, "user", user && user[0] ? user : NULL);
    conninfo_part(&out, "dbname", dbname);
    return out.len ? sb_detach(&out) : cel_xstrdup("");
}

const char *pg_last_sqlstate(const struct pg_conn *c)
{
    return c->sqlstate;
}

bool pg_accepting(const char *conninfo, int timeout_s)
{
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", timeout_s > 0 ? timeout_s : 10);
    const char *keys[] = {"connect_timeout", "dbname", NULL};
    const char *values[] = {timeout, conninfo, NULL};
    return PQpingParams(keys, values, 1) == PQPING_OK;
}

void pg_close(struct pg_conn *c)
{
    if (!c)
        return;
    PQfinish(c->conn);
    free(c);
}

int pg_server_version(const struct pg_conn *c)
{
    return c->version;
}

int pg_query_value(struct pg_conn *c, const char *sql, char **out, struct cel_err *err)
{
    *out = NULL;
    PGresult *res = PQexec(c->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_pg_error(err, "query failed", PQresultErrorMessage(res));
        keep_sqlstate(c, res);
        PQclear(res);
        return -CEL_E_PG;
    }
    if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
        *out = cel_xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int pg_exec(struct pg_conn *c, const char *sql, struct cel_err *err)
{
    PGresult *res = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char *what = cel_xasprintf("'%s' failed", sql);
        set_pg_error(err, what, PQresultErrorMessage(res));
        keep_sqlstate(c, res);
        free(what);
        rc = -CEL_E_PG;
    }
    PQclear(res);
    return rc;
}

int pg_query(struct pg_conn *c, const char *sql, const char *const params[], size_t nparams,
             struct pg_rows *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    /* a walsender speaks the simple query protocol only */
    PGresult *res = c->replication && nparams == 0
                        ? PQexec(c->conn, sql)
                        : PQexecParams(c->conn, sql, (int)nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_pg_error(err, "query failed", PQresultErrorMessage(res));
        keep_sqlstate(c, res);
        PQclear(res);
        return -CEL_E_PG;
    }
    out->nrows = (size_t)PQntuples(res);
    out->ncols = (size_t)PQnfields(res);
    out->names = cel_xcalloc(out->ncols ? out->ncols : 1, sizeof *out->names);
    size_t cells = out->nrows * out->ncols;
    out->values = cel_xcalloc(cells > 0 ? cells : 1, sizeof *out->values);
    for (size_t col = 0; col < out->ncols; col++)
        out->names[col] = cel_xstrdup(PQfname(res, (int)col));
    for (size_t row = 0; row < out->nrows; row++)
        for (size_t col = 0; col < out->ncols; col++)
            if (!PQgetisnull(res, (int)row, (int)col))
                out->values[row * out->ncols + col] =
                    cel_xstrdup(PQgetvalue(res, (int)row, (int)col));
    PQclear(res);
    return 0;
}

const char *pg_rows_get(const struct pg_rows *r, size_t row, const char *name)
{
    if (row >= r->nrows)
        return NULL;
    for (size_t col = 0; col < r->ncols; col++)
        if (strcmp(r->names[col], name) == 0)
            return r->values[row * r->ncols + col];
    return NULL;
}

void pg_rows_free(struct pg_rows *r)
{
    for (size_t i = 0; i < r->ncols; i++)
        free(r->names[i]);
    for (size_t i = 0; i < r->nrows * r->ncols; i++)
        free(r->values[i]);
    free(r->names);
    free(r->values);
    memset(r, 0, sizeof *r);
}

static void status_add(struct pg_status *st, const char *key, const char *value)
{
    st->items = cel_xrealloc_array(st->items, st->n + 1, sizeof *st->items);
    st->items[st->n].key = cel_xstrdup(key);
    st->items[st->n].value = value ? cel_xstrdup(value) : NULL;
    st->n++;
}

/* The type oid of boolean (pg_type.h is a server header). */
#define PG_BOOLOID 16

/* Run a one-row query and add each column as a key (column name). Booleans
 * read "True" and "False", as Barman prints Python's. */
static void add_row(struct pg_conn *c, struct pg_status *st, const char *sql)
{
    PGresult *res = PQexec(c->conn, sql);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0) {
        for (int i = 0; i < PQnfields(res); i++) {
            const char *v = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
            if (v && PQftype(res, i) == PG_BOOLOID)
                v = strcmp(v, "t") == 0 ? "True" : "False";
            status_add(st, PQfname(res, i), v);
        }
    }
    PQclear(res);
}

/* has_backup_privileges, Barman's test: a superuser, or a role that may
 * read the settings and statistics (pg_monitor, or pg_read_all_settings and
 * pg_read_all_stats) and execute the backup, WAL switch and restore point
 * functions of its version. */
static void add_backup_privileges(struct pg_conn *c, struct pg_status *st)
{
    const char *start = c->version >= 150000 ? "pg_backup_start(text, boolean)"
                                             : "pg_start_backup(text, boolean, boolean)";
    const char *stop = c->version >= 150000 ? "pg_backup_stop(boolean)"
                                            : "pg_stop_backup(boolean, boolean)";
    char *sql = cel_xasprintf(
        "SELECT rolsuper OR ("
        "(pg_catalog.pg_has_role(current_user, 'pg_monitor', 'MEMBER') "
        "OR (pg_catalog.pg_has_role(current_user, 'pg_read_all_settings', 'MEMBER') "
        "AND pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER'))) "
        "AND pg_catalog.has_function_privilege(current_user, '%s', 'EXECUTE') "
        "AND pg_catalog.has_function_privilege(current_user, '%s', 'EXECUTE') "
        "AND pg_catalog.has_function_privilege(current_user, 'pg_switch_wal()', 'EXECUTE') "
        "AND pg_catalog.has_function_privilege(current_user, "
        "'pg_create_restore_point(text)', 'EXECUTE')) AS has_backup_privileges "
        "FROM pg_catalog.pg_roles WHERE rolname = current_user",
        start, stop);
    add_row(c, st, sql);
    free(sql);
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct pg_kv *)a)->key, ((const struct pg_kv *)b)->key);
}

int pg_get_status(struct pg_conn *c, struct pg_status *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    if (c->version < 100000)
        return cel_err_set(err, CEL_E_PG,
                           "PostgreSQL %d.%d is not supported (cellar needs 10 or later)",
                           c->version / 10000, c->version % 10000 / 100);
    static const char *const settings[] = {
        "archive_command", "archive_mode",     "archive_timeout", "checkpoint_timeout",
        "config_file",     "data_checksums",   "data_directory",  "hba_file",
        "hot_standby",     "ident_file",       "max_replication_slots", "max_wal_senders",
        "synchronous_standby_names", "wal_compression", "wal_keep_size", "wal_level",
    };
    struct strbuf sql = {0};
    sb_append(&sql, "SELECT name, setting FROM pg_catalog.pg_settings WHERE name IN (");
    for (size_t i = 0; i < CEL_ARRAY_LEN(settings); i++)
        sb_appendf(&sql, "%s'%s'", i ? ", " : "", settings[i]);
    sb_append(&sql, ")");
    PGresult *res = PQexec(c->conn, sb_str(&sql));
    sb_free(&sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_pg_error(err, "cannot read pg_settings", PQresultErrorMessage(res));
        PQclear(res);
        return -CEL_E_PG;
    }
    for (int i = 0; i < PQntuples(res); i++)
        status_add(out, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);

    add_row(c, out,
            "SELECT split_part(current_setting('server_version'), ' ', 1) "
            "AS server_txt_version, "
            "current_setting('server_version_num') AS version, "
            "(SELECT setting::bigint * CASE unit WHEN 'B' THEN 1 WHEN '8kB' THEN 8192 "
            "  WHEN 'MB' THEN 1048576 ELSE 1 END FROM pg_catalog.pg_settings "
            "  WHERE name = 'wal_segment_size') AS xlog_segment_size, "
            "pg_catalog.pg_is_in_recovery() AS is_in_recovery, "
            "(SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) "
            "AS is_superuser");
    add_backup_privileges(c, out);
    /* alone: sizing needs privileges (pg_read_all_stats, or CREATE on each
     * tablespace) that a backup role may lack. Barman's measure: every
     * tablespace, pg_global included */
    add_row(c, out,
            "SELECT sum(pg_catalog.pg_tablespace_size(oid)) AS current_size "
            "FROM pg_catalog.pg_tablespace");
    add_row(c, out, "SELECT system_identifier AS postgres_systemid "
                    "FROM pg_catalog.pg_control_system()");
    add_row(c, out, "SELECT timeline_id AS timeline FROM pg_catalog.pg_control_checkpoint()");
    add_row(c, out,
            "SELECT CASE WHEN pg_catalog.pg_is_in_recovery() "
            "THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_lsn() END "
            "AS current_lsn, "
            "CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL "
            "ELSE pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()) END AS current_xlog");
    /* is_archiving as Barman computes it: archive_mode on and no failure
     * since the last success (a failed history file of an older timeline
     * does not count) */
    add_row(c, out,
            "SELECT archived_count, last_archived_wal, last_archived_time, failed_count, "
            "last_failed_wal, last_failed_time, stats_reset, "
            "current_setting('archive_mode') IN ('on', 'always') "
            "AND (last_failed_wal IS NULL "
            "OR last_failed_wal LIKE '%.history' "
            "AND substring(last_failed_wal from 1 for 8) "
            "<= substring(last_archived_wal from 1 for 8) "
            "OR last_failed_time <= last_archived_time) AS is_archiving "
            "FROM pg_catalog.pg_stat_archiver");
    qsort(out->items, out->n, sizeof *out->items, cmp_kv);
    return 0;
}

const char *pg_status_get(const struct pg_status *st, const char *key)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->items[i].key, key) == 0)
            return st->items[i].value;
    return NULL;
}

void pg_status_free(struct pg_status *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->items[i].key);
        free(st->items[i].value);
    }
    free(st->items);
    memset(st, 0, sizeof *st);
}

int pg_replication_identify(const char *conninfo, int timeout_s, char **systemid,
                            struct cel_err *err)
{
    if (systemid)
        *systemid = NULL;
    struct pg_conn *c = NULL;
    struct pg_rows rows;
    int rc = connect_as(conninfo, timeout_s, true, &c, err);
    if (rc == 0)
        rc = pg_query(c, "IDENTIFY_SYSTEM", NULL, 0, &rows, err);
    if (rc == 0) {
        if (rows.nrows < 1 || rows.ncols < 1)
            rc = cel_err_set(err, CEL_E_PG, "IDENTIFY_SYSTEM returned no row");
        else if (systemid && rows.values[0])
            *systemid = cel_xstrdup(rows.values[0]);
        pg_rows_free(&rows);
    }
    pg_close(c);
    return rc;
}

