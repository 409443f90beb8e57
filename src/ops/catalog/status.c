/*
 * status.c - `cellar status SERVER|all`: one screen about each server, in
 * Barman's layout ("Server NAME:" then "\tLabel: value" lines, reference
 * section 6.3), so scripts reading `barman status` read cellar's: the
 * description, whether it is active, PostgreSQL's version, state, size and
 * current WAL, archiving (command, last archived file, failures, rate),
 * retention, the backups available and minimum redundancy. cellar adds
 * the count of each retention mark at the end.
 */
#include <stdlib.h>
#include <time.h>

#include "fmt.h"
#include "ops.h"
#include "pg.h"
#include "server_select.h"

struct line {
    const char *label;
    char *value;
};

struct model {
    const char *server;
    struct line *lines;
    size_t n;
};

static void add(struct model *m, const char *label, const char *fmt, ...) CEL_PRINTF(3, 4);

static void add(struct model *m, const char *label, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    m->lines = cel_xrealloc_array(m->lines, m->n + 1, sizeof *m->lines);
    m->lines[m->n].label = label;
    m->lines[m->n].value = cel_xvasprintf(fmt, ap);
    m->n++;
    va_end(ap);
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    sb_appendf(out, "Server %s:\n", m->server);
    for (size_t i = 0; i < m->n; i++)
        sb_appendf(out, "\t%s: %s\n", m->lines[i].label, m->lines[i].value);
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    json_t *o = json_object();
    for (size_t i = 0; i < m->n; i++)
        json_object_set_new(o, m->lines[i].label, json_string(m->lines[i].value));
    return json_pack("{s:s, s:o}", "server", m->server, "status", o);
}

static const char *or_none(const char *v)
{
    return v ? v : "None";
}

/* What PostgreSQL says, in Barman's words. */
static void add_postgres(const struct cfg_server *s, struct model *m)
{
    struct cel_err err = {0};
    struct pg_conn *conn = NULL;
    struct pg_status st = {0};
    if (!s->conninfo || pg_connect(s->conninfo, s->check_timeout, &conn, &err) < 0 ||
        pg_get_status(conn, &st, &err) < 0) {
        add(m, "PostgreSQL", "FAILED (%s)", s->conninfo ? err.msg : "conninfo is not set");
        pg_status_free(&st);
        pg_close(conn);
        return;
    }
    add(m, "PostgreSQL version", "%s", or_none(pg_status_get(&st, "server_txt_version")));
    const char *rec = pg_status_get(&st, "is_in_recovery");
    add(m, "Cluster state", "%s",
        rec && strcmp(rec, "True") == 0 ? "in archive recovery" : "in production");
    const char *size = pg_status_get(&st, "current_size");
    struct strbuf sb = {0};
    if (size)
        fmt_size(strtod(size, NULL), &sb);
    add(m, "Current data size", "%s", size ? sb_str(&sb) : "None");
    sb_free(&sb);
    add(m, "PostgreSQL Data directory", "%s", or_none(pg_status_get(&st, "data_directory")));
    add(m, "Current WAL segment", "%s", or_none(pg_status_get(&st, "current_xlog")));
    add(m, "PostgreSQL 'archive_command' setting", "%s",
        or_none(pg_status_get(&st, "archive_command")));
    const char *last = pg_status_get(&st, "last_archived_wal");
    const char *when = pg_status_get(&st, "last_archived_time");
    struct ts t;
    char at[TS_MAX] = "";
    if (when && ts_parse(when, &t, NULL) == 0)
        ts_format_ctime(&t, at);
    if (last)
        add(m, "Last archived WAL", "%s, at %s", last, at[0] ? at : or_none(when));
    else
        add(m, "Last archived WAL", "No WAL segment shipped yet");
    add(m, "Failures of WAL archiver", "%s", or_none(pg_status_get(&st, "failed_count")));
    /* Barman's rate: files archived since the statistics were reset, per hour */
    const char *count = pg_status_get(&st, "archived_count");
    const char *reset = pg_status_get(&st, "stats_reset");
    struct ts r;
    if (count && reset && ts_parse(reset, &r, NULL) == 0) {
        double seconds = (double)time(NULL) - ts_epoch(&r);
        if (seconds > 0)
            add(m, "Server WAL archiving rate", "%.2f/hour", strtod(count, NULL) / seconds * 3600);
    }
    pg_status_free(&st);
    pg_close(conn);
}

/* The backups: retention, how many, the first and last, redundancy. */
static void add_backups(const struct op_ctx *ctx, const struct cfg_server *s, struct model *m)
{
    add(m, "Passive node", "False");
    char policy[64];
    ret_policy_format(&s->retention_policy, policy, sizeof policy);
    if (s->retention_policy.kind == RET_NONE)
        add(m, "Retention policies", "not enforced");
    else
        add(m, "Retention policies", "enforced (mode: auto, retention: %s, WAL retention: MAIN)",
            policy);
    struct op_catalog cat;
    struct cel_err err = {0};
    if (op_catalog_load(ctx, s, false, &cat, &err) < 0) {
        add(m, "No. of available backups", "unknown (%s)", err.msg);
        return;
    }
    size_t done = 0, first = 0, last = 0;
    for (size_t i = 0; i < cat.list.n; i++)
        if (!cat.list.failed[i] && cat.list.items[i].status == CAT_DONE) {
            if (!done)
                first = i;
            last = i;
            done++;
        }
    add(m, "No. of available backups", "%zu", done);
    add(m, "First available backup", "%s", done ? cat.list.items[first].id : "None");
    add(m, "Last available backup", "%s", done ? cat.list.items[last].id : "None");
    if (s->minimum_redundancy > 0)
        add(m, "Minimum redundancy requirements", "%s (%zu/%d)",
            done >= (size_t)s->minimum_redundancy ? "satisfied" : "FAILED", done,
            s->minimum_redundancy);
    else
        add(m, "Minimum redundancy requirements", "satisfied (%zu/0)", done);
    if (s->retention_policy.kind != RET_NONE) {
        enum ret_mark *marks = cel_xcalloc(cat.list.n ? cat.list.n : 1, sizeof *marks);
        op_retention_marks(ctx, s, &cat, marks);
        size_t counts[RET_MARK_KEEP_STANDALONE + 1] = {0};
        for (size_t i = 0; i < cat.list.n; i++)
            counts[marks[i]]++;
        add(m, "Retention marks", "%zu VALID, %zu OBSOLETE, %zu POTENTIALLY_OBSOLETE, %zu KEEP",
            counts[RET_MARK_VALID], counts[RET_MARK_OBSOLETE],
            counts[RET_MARK_POTENTIALLY_OBSOLETE],
            counts[RET_MARK_KEEP_FULL] + counts[RET_MARK_KEEP_STANDALONE]);
        free(marks);
    }
    op_catalog_free(&cat);
}

static int status_one(const struct op_ctx *ctx, const struct cfg_server *s, const void *arg,
                      struct cel_err *err)
{
    (void)arg;
    (void)err;
    struct model m = {.server = s->name};
    add(&m, "Description", "%s", or_none(s->description));
    add(&m, "Active", "%s", s->active ? "True" : "False");
    add(&m, "Disabled", "%s", s->disabled ? "True" : "False");
    if (s->cloud_source) { /* a bucket server: where, never a secret */
        add(&m, "Bucket server", "%s", s->cloud_source);
        add(&m, "Bucket endpoint", "%s", s->cloud_endpoint_url ? s->cloud_endpoint_url : "AWS");
        add(&m, "Bucket server name", "%s", s->cloud_server_name);
    } else if (s->active && !s->disabled) {
        add_postgres(s, &m);
    }
    add_backups(ctx, s, &m);
    struct op_result res = {"status", &m, render_text, render_json};
    op_result(ctx, &res);
    for (size_t i = 0; i < m.n; i++)
        free(m.lines[i].value);
    free(m.lines);
    return 0;
}

int op_status(const struct op_ctx *ctx, const struct op_status_req *req, struct cel_err *err)
{
    return op_each_server(ctx, req->server, true, status_one, NULL, err);
}
