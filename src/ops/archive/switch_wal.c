/*
 * switch_wal.c - `cellar switch-wal SERVER [--force] [--archive]`: close
 * the current WAL segment with pg_switch_wal(), so PostgreSQL archives it
 * now rather than when it fills up; with --archive, also wait until the
 * segment has arrived and is archived (running the archiver meanwhile), up
 * to --archive-timeout seconds. --force runs a CHECKPOINT first, so there is
 * always some WAL to switch, as Barman's --force does.
 *
 * With streaming_archiver = on the segment arrives through pg_receivewal
 * in streaming/, where the archiver leaves the newest complete segment
 * until the next one has begun (pg_receivewal finds its position there).
 * On a quiet server the next segment may not begin for a long time, so
 * switch-wal --archive writes one small WAL record after the switch (a
 * transaction that takes an ID and commits) to begin it.
 */
#include <time.h>

#include "ops.h"
#include "pg.h"
#include "server_select.h"
#include "wal_archive.h"

struct model {
    const char *server;
    const char *segment; /* closed segment, NULL when no switch was needed */
    bool archived;       /* --archive: it reached the archive */
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    if (!m->segment) {
        sb_appendf(out, "No switch required for server '%s'\n", m->server);
        return;
    }
    sb_appendf(out, "The WAL file %s has been closed on server '%s'\n", m->segment, m->server);
    if (m->archived)
        sb_appendf(out, "The WAL file %s has been archived for server '%s'\n", m->segment,
                   m->server);
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:s?, s:b}", "server", m->server, "segment", m->segment, "archived",
                     m->archived);
}

/* Close the current segment; *segment gets its name, NULL when there was
 * no WAL to switch. */
static int do_switch(const struct cfg_server *s, bool force, bool nudge, char **segment,
                     struct cel_err *err)
{
    *segment = NULL;
    if (!s->conninfo)
        return cel_err_set(err, CEL_E_CONFIG, "server '%s' has no conninfo", s->name);
    struct pg_conn *conn = NULL;
    int rc = pg_connect(s->conninfo, s->check_timeout, &conn, err);
    if (rc < 0)
        return rc;
    char *recovery = NULL, *before = NULL, *switched = NULL;
    if ((rc = pg_query_value(conn, "SELECT pg_catalog.pg_is_in_recovery()", &recovery, err)) < 0)
        goto out;
    if (recovery && strcmp(recovery, "t") == 0) {
        rc = cel_err_set(err, CEL_E_PG, "server '%s' is a standby: WAL cannot be switched there",
                         s->name);
        goto out;
    }
    if (force && (rc = pg_exec(conn, "CHECKPOINT", err)) < 0)
        goto out;
    if ((rc = pg_query_value(conn,
                             "SELECT pg_catalog.pg_walfile_name("
                             "pg_catalog.pg_current_wal_insert_lsn())",
                             &before, err)) < 0 ||
        (rc = pg_query_value(conn, "SELECT pg_catalog.pg_walfile_name(pg_catalog.pg_switch_wal())",
                             &switched, err)) < 0)
        goto out;
    /* with no WAL written since the last switch, pg_switch_wal() returns the
     * start of the current segment, whose "previous" file is not the one we
     * were in */
    if (before && switched && strcmp(before, switched) == 0) {
        *segment = switched;
        switched = NULL;
        char *xid = NULL;
        if (nudge && s->streaming_archiver)
            rc = pg_query_value(conn, "SELECT pg_catalog.txid_current()", &xid, err);
        free(xid);
    }
out:
    free(recovery);
    free(before);
    free(switched);
    pg_close(conn);
    return rc;
}

/* Whether name is in the server's xlog.db. */
static bool is_archived(const struct op_ctx *ctx, const struct cfg_server *s, const char *name)
{
    struct xdb db;
    if (op_xdb_load(ctx, s, &db, NULL) < 0)
        return false;
    bool found = xdb_find(&db, name) != NULL;
    xdb_free(&db);
    return found;
}

int op_switch_wal(const struct op_ctx *ctx, const struct op_switch_wal_req *req,
                  struct cel_err *err)
{
    const struct cfg_server *s = NULL;
    int rc = op_one_server(ctx, req->server, "switch-wal", &s, err);
    if (rc < 0)
        return rc;
    char *segment = NULL;
    if ((rc = do_switch(s, req->force, req->archive, &segment, err)) < 0)
        return rc;
    struct model m = {.server = s->name, .segment = segment};
    if (segment && req->archive) {
        int timeout = req->archive_timeout > 0 ? req->archive_timeout : 30;
        op_phase(ctx, s->name, "wait",
                 "Waiting for the WAL file %s from server '%s' (max: %d "
                 "seconds)",
                 segment, s->name, timeout);
        time_t deadline = time(NULL) + timeout;
        for (;;) {
            struct op_archive_summary sum;
            struct cel_err aerr = {0};
            if (op_archive_server(ctx, s, 0, &sum, &aerr) < 0)
                op_log(ctx, LOG_WARNING, s->name, "%s", aerr.msg);
            if (is_archived(ctx, s, segment)) {
                m.archived = true;
                break;
            }
            if (time(NULL) >= deadline) {
                rc = cel_err_set(err, CEL_E_TIMEOUT,
                                 "the WAL file %s has not been archived for server '%s' within "
                                 "%d seconds",
                                 segment, s->name, timeout);
                if (s->streaming_archiver && !s->archiver)
                    cel_err_hint(err,
                                 "Check that receive-wal runs (cellar check %s; cron starts "
                                 "it) and its messages in the log.",
                                 s->name);
                else
                    cel_err_hint(err,
                                 "Check PostgreSQL's archive_command and its log, and that it "
                                 "puts files in %s.",
                                 s->incoming_wals_directory);
                break;
            }
            struct timespec pause = {0, 200 * 1000000L};
            nanosleep(&pause, NULL);
        }
    } else if (!segment && req->archive) {
        op_log(ctx, LOG_INFO, s->name, "no WAL was written since the last switch; use --force");
    }
    struct op_result result = {"switch-wal", &m, render_text, render_json};
    op_result(ctx, &result);
    free(segment);
    return rc;
}
