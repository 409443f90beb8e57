/*
 * replication_status.c - `cellar replication-status SERVER|all [--target
 * hot-standby|wal-streamer|all] [--minimal]`: the streaming clients
 * attached to each server, read live from pg_stat_replication, in Barman's
 * layout so scripts that read `barman replication-status` read cellar's.
 *
 * One query per server gives every WAL sender joined with its physical
 * replication slot and the server's own position (pg_current_wal_lsn() on
 * a primary, pg_last_wal_receive_lsn() on a standby), ordered as Barman
 * orders them (synchronous first, then by priority). A client that reports
 * a replay position is a hot standby; one that does not is a WAL streamer
 * such as pg_receivewal. The distance of each position from the server's
 * is shown as Barman does (sizes, negative when behind), and the "sync
 * stage" names the furthest step the client has reached: sent, written,
 * flushed (2-safe) or replayed (hot standby). The JSON adds the write and
 * flush lags in bytes and in seconds (pg_stat_replication's write_lag and
 * flush_lag); the console shows the write lag of cellar's own receiver
 * (pg_receivewal flushes only at the end of a segment).
 */
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "ops.h"
#include "pg.h"
#include "server_select.h"
#include "ts.h"
#include "wal.h"

/* One streaming client: the columns of the query, as text (NULL: SQL NULL). */
enum col {
    C_PID,
    C_USENAME,
    C_APPNAME,
    C_ADDR,
    C_HOSTNAME,
    C_PORT,
    C_START,
    C_XMIN,
    C_STATE,
    C_SENT,
    C_WRITE,
    C_FLUSH,
    C_REPLAY,
    C_PRIO,
    C_SYNC,
    C_SLOT,
    C_CURRENT,   /* the server's position when the row was read */
    C_WRITE_LAG, /* pg_stat_replication.write_lag in seconds */
    C_FLUSH_LAG, /* pg_stat_replication.flush_lag in seconds */
    C_COUNT
};

static const char *const col_names[C_COUNT] = {
    "pid",       "usename",  "application_name", "client_addr", "client_hostname", "client_port",
    "backend_start", "backend_xmin", "state", "sent_lsn", "write_lsn", "flush_lsn",
    "replay_lsn", "sync_priority", "sync_state", "slot_name", "current_lsn", "write_lag_seconds", "flush_lag_seconds"};

struct model {
    const char *server;
    enum op_repl_target target;
    bool minimal;
    char *server_lsn; /* NULL when the server could not say */
    size_t n;
    const char *(*rows)[C_COUNT];
};

static const char *target_word(enum op_repl_target t)
{
    return t == OP_REPL_HOT_STANDBY ? "hot-standby"
           : t == OP_REPL_WAL_STREAMER ? "wal-streamer"
                                       : "all";
}

static const char *title(enum op_repl_target t)
{
    return t == OP_REPL_HOT_STANDBY    ? "hot standby servers"
           : t == OP_REPL_WAL_STREAMER ? "WAL streamers"
                                       : "streaming clients";
}

/* lsn minus the server's position in bytes; false when either is unknown. */
static bool lsn_diff(const char *lsn, const char *server, double *out)
{
    uint64_t a, b;
    if (!lsn || !server || wal_lsn_parse(lsn, &a, NULL) < 0 || wal_lsn_parse(server, &b, NULL) < 0)
        return false;
    *out = a >= b ? (double)(a - b) : -(double)(b - a);
    return true;
}

/* Barman's sync stage of a client, as "N/M text". */
static void sync_stage(const char *const *r, const char *current, struct strbuf *out)
{
    double d;
    bool standby = r[C_REPLAY] != NULL;
    int max = standby ? 5 : 3;
    if (standby && lsn_diff(r[C_REPLAY], current, &d) && d == 0)
        sb_append(out, "5/5 Hot standby (max)");
    else if (standby && lsn_diff(r[C_FLUSH], current, &d) && d == 0)
        sb_append(out, "4/5 2-safe");
    else if (lsn_diff(r[C_WRITE], current, &d) && d == 0)
        sb_appendf(out, "3/%d Remote write", max);
    else if (lsn_diff(r[C_SENT], current, &d) && d == 0)
        sb_appendf(out, "2/%d WAL Sent (min)", max);
    else
        sb_appendf(out, "1/%d 1-safe", max);
}

/* "     Sent LSN   : X/Y (diff: -16.0 KiB)" when the client reports lsn
 * (labels padded as Barman pads them). */
static void lsn_line(struct strbuf *out, const char *label, const char *lsn, const char *current)
{
    if (!lsn)
        return;
    double d;
    sb_appendf(out, "     %s: %s (diff: ", label, lsn);
    if (lsn_diff(lsn, current, &d))
        fmt_size(d, out);
    else
        sb_append(out, "None");
    sb_append(out, ")\n");
}

/* backend_start as Python prints a datetime (Barman prints the value its
 * driver gave it), else as PostgreSQL wrote it. */
static void start_time(const char *text, struct strbuf *out)
{
    struct ts t;
    char buf[TS_MAX];
    if (text && ts_parse(text, &t, NULL) == 0) {
        ts_format(&t, buf);
        sb_append(out, buf);
    } else {
        sb_append(out, text ? text : "None");
    }
}

static const char *or_none(const char *v)
{
    return v ? v : "None";
}

/* text as Python's str.capitalize() gives it (Barman's minimal titles:
 * "Wal streamers"), into out of size n. */
static void capitalize(const char *text, char *out, size_t n)
{
    size_t i = 0;
    for (; text[i] && i + 1 < n; i++) {
        char c = text[i];
        if (i == 0 && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (i > 0 && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[i] = c;
    }
    out[i] = '\0';
}

static void render_minimal(const struct model *m, struct strbuf *out)
{
    const char *t = title(m->target);
    char cap[32];
    capitalize(t, cap, sizeof cap);
    if (m->server_lsn)
        sb_appendf(out, "%s for master '%s' (LSN @ %s):\n", cap, m->server, m->server_lsn);
    else
        sb_appendf(out, "%s for slave '%s':\n", cap, m->server);
    if (!m->n) {
        sb_appendf(out, "  No %s attached\n", t);
        return;
    }
    for (size_t i = 0; i < m->n; i++) {
        const char *const *r = m->rows[i];
        const char *addr = r[C_ADDR] ? r[C_ADDR] : "socket";
        if (!r[C_REPLAY])
            sb_appendf(out, "  %zu. W) %s@%s S:%s W:%s P:%s AN:%s\n", i + 1, or_none(r[C_USENAME]),
                       addr, or_none(r[C_SENT]), or_none(r[C_WRITE]), or_none(r[C_PRIO]),
                       or_none(r[C_APPNAME]));
        else
            sb_appendf(out, "  %zu. %c) %s@%s S:%s F:%s R:%s P:%s AN:%s\n", i + 1,
                       r[C_SYNC] && r[C_SYNC][0] >= 'a' && r[C_SYNC][0] <= 'z'
                           ? (char)(r[C_SYNC][0] - 'a' + 'A')
                           : '?',
                       or_none(r[C_USENAME]), addr, or_none(r[C_SENT]), or_none(r[C_FLUSH]),
                       or_none(r[C_REPLAY]), or_none(r[C_PRIO]), or_none(r[C_APPNAME]));
    }
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    if (m->minimal) {
        render_minimal(m, out);
        return;
    }
    const char *t = title(m->target);
    sb_appendf(out, "Status of %s for server '%s':\n", t, m->server);
    if (m->server_lsn)
        sb_appendf(out, "  Current LSN on master: %s\n", m->server_lsn);
    if (!m->n) {
        sb_appendf(out, "  No %s attached\n", t);
        return;
    }
    sb_appendf(out, "  Number of %s: %zu\n", t, m->n);
    for (size_t i = 0; i < m->n; i++) {
        const char *const *r = m->rows[i];
        const char *current = r[C_CURRENT];
        const char *kind = r[C_REPLAY] ? "standby" : "WAL streamer";
        char sync[32];
        capitalize(or_none(r[C_SYNC]), sync, sizeof sync);
        sb_append(out, "\n");
        long prio = r[C_PRIO] ? strtol(r[C_PRIO], NULL, 10) : 0;
        if (prio > 0)
            sb_appendf(out, "  %zu. #%ld %s %s\n", i + 1, prio, sync, kind);
        else
            sb_appendf(out, "  %zu. %s %s\n", i + 1, sync, kind);
        sb_appendf(out, "     Application name: %s\n", or_none(r[C_APPNAME]));
        sb_append(out, "     Sync stage      : ");
        sync_stage(r, current, out);
        sb_append(out, "\n");
        if (r[C_ADDR]) {
            sb_append(out, "     Communication   : TCP/IP\n");
            sb_appendf(out, "     IP Address      : %s / Port: %s / Host: %s\n", r[C_ADDR],
                       or_none(r[C_PORT]), r[C_HOSTNAME] ? r[C_HOSTNAME] : "-");
        } else {
            sb_append(out, "     Communication   : Unix domain socket\n");
        }
        sb_appendf(out, "     User name       : %s\n", or_none(r[C_USENAME]));
        sb_appendf(out, "     Current state   : %s (%s)\n", or_none(r[C_STATE]),
                   or_none(r[C_SYNC]));
        if (r[C_SLOT])
            sb_appendf(out, "     Replication slot: %s\n", r[C_SLOT]);
        sb_appendf(out, "     WAL sender PID  : %s\n", or_none(r[C_PID]));
        sb_append(out, "     Started at      : ");
        start_time(r[C_START], out);
        sb_append(out, "\n");
        if (r[C_XMIN])
            sb_appendf(out, "     Standby's xmin  : %s\n", r[C_XMIN]);
        lsn_line(out, "Sent LSN   ", r[C_SENT], current);
        lsn_line(out, "Write LSN  ", r[C_WRITE], current);
        lsn_line(out, "Flush LSN  ", r[C_FLUSH], current);
        lsn_line(out, "Replay LSN ", r[C_REPLAY], current);
    }
}

/* How many bytes lsn is behind the server's position, for the JSON; null
 * when either is unknown. */
static json_t *lag_json(const char *lsn, const char *current)
{
    double d;
    return lsn_diff(lsn, current, &d) ? json_real(-d) : json_null();
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    json_t *clients = json_array();
    for (size_t i = 0; i < m->n; i++) {
        json_t *c = json_object();
        for (int k = 0; k < C_COUNT; k++) {
            const char *v = m->rows[i][k];
            bool seconds = k == C_WRITE_LAG || k == C_FLUSH_LAG;
            json_object_set_new(c, col_names[k],
                                !v ? json_null()
                                   : seconds ? json_real(strtod(v, NULL)) : json_string(v));
        }
        json_object_set_new(c, "type", json_string(m->rows[i][C_REPLAY] ? "standby" : "wal-streamer"));
        struct strbuf stage = {0};
        const char *current = m->rows[i][C_CURRENT];
        sync_stage(m->rows[i], current, &stage);
        json_object_set_new(c, "sync_stage", json_string(sb_str(&stage)));
        sb_free(&stage);
        json_object_set_new(c, "replay_lag_bytes", lag_json(m->rows[i][C_REPLAY], current));
        json_object_set_new(c, "write_lag_bytes", lag_json(m->rows[i][C_WRITE], current));
        json_object_set_new(c, "flush_lag_bytes", lag_json(m->rows[i][C_FLUSH], current));
        json_array_append_new(clients, c);
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "server", m->server, "target", target_word(m->target),
                     "current_lsn", m->server_lsn ? json_string(m->server_lsn) : json_null(),
                     "clients", clients);
}

/* The query, as Barman 3.4 writes it for PostgreSQL 10 and later, with
 * the client kind filter of target. */
static char *query(enum op_repl_target t)
{
    struct strbuf sql = {0};
    sb_append(&sql, "SELECT ");
    for (int k = 0; k < C_CURRENT; k++)
        sb_appendf(&sql, "%s%s.%s", k ? ", " : "", k == C_SLOT ? "rs" : "r", col_names[k]);
    sb_append(&sql, ", CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() "
                    "ELSE pg_current_wal_lsn() END AS current_lsn, "
                    "extract(epoch FROM r.write_lag)::text AS write_lag_seconds, "
                    "extract(epoch FROM r.flush_lag)::text AS flush_lag_seconds "
                    "FROM pg_stat_replication r "
                    "LEFT JOIN pg_replication_slots rs ON (r.pid = rs.active_pid) "
                    "WHERE (rs.slot_type IS NULL OR rs.slot_type = 'physical')");
    if (t == OP_REPL_HOT_STANDBY)
        sb_append(&sql, " AND r.replay_lsn IS NOT NULL");
    else if (t == OP_REPL_WAL_STREAMER)
        sb_append(&sql, " AND r.replay_lsn IS NULL");
    sb_append(&sql, " ORDER BY r.sync_state DESC, r.sync_priority");
    return sb_detach(&sql);
}

static int status_one(const struct op_ctx *ctx, const struct cfg_server *s, const void *arg,
                      struct cel_err *err)
{
    const struct op_replication_status_req *req = arg;
    if (!s->conninfo)
        return cel_err_set(err, CEL_E_CONFIG, "server '%s': conninfo is not set", s->name);
    struct pg_conn *conn = NULL;
    struct pg_rows rows = {0};
    int rc = pg_connect(s->conninfo, s->check_timeout, &conn, err);
    if (rc < 0) {
        pg_close(conn);
        return cel_err_set(err, CEL_E_PG, "unable to connect to server %s: %s", s->name, err->msg);
    }
    struct model m = {.server = s->name, .target = req->target, .minimal = req->minimal};
    /* the server's own position, also when nobody is attached */
    rc = pg_query_value(conn,
                        "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                        "ELSE pg_current_wal_lsn() END",
                        &m.server_lsn, err);
    char *sql = query(req->target);
    if (rc == 0)
        rc = pg_query(conn, sql, NULL, 0, &rows, err);
    free(sql);
    pg_close(conn);
    if (rc < 0) {
        free(m.server_lsn);
        pg_rows_free(&rows);
        return rc;
    }
    m.n = rows.nrows;
    m.rows = cel_xcalloc(m.n ? m.n : 1, sizeof *m.rows);
    for (size_t i = 0; i < m.n; i++)
        for (int k = 0; k < C_COUNT; k++)
            m.rows[i][k] = pg_rows_get(&rows, i, col_names[k]);
    struct op_result res = {"replication-status", &m, render_text, render_json};
    op_result(ctx, &res);
    free(m.rows);
    free(m.server_lsn);
    pg_rows_free(&rows);
    return 0;
}

int op_replication_status(const struct op_ctx *ctx, const struct op_replication_status_req *req,
                          struct cel_err *err)
{
    return op_each_server(ctx, req->server, OP_SERVERS_ACTIVE, status_one, req, err);
}
