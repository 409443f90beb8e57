/*
 * cron.c - `cellar cron`: the periodic maintenance of every server, run
 * from cron every minute: it archives the WAL of each server, marks FAILED
 * the backups whose process was killed, and DONE those whose WAL has all
 * been archived (the retention of a later issue joins it here).
 *
 * Two crons never overlap: a global lock (.cron.lock) makes the second one
 * leave at once, and each server also takes Barman's .<server>-cron.lock so
 * a Barman cron on the same home does not work on it at the same time. A
 * server that fails does not stop the others; each gets one summary line;
 * the exit status is 1 when any server failed.
 */
#include "backup_int.h"
#include "lock.h"
#include "ops.h"
#include "storage.h"

/* One server's cron work. */
static int cron_server(const struct op_ctx *ctx, const struct cfg_server *s, int workers,
                       struct cel_err *err)
{
    const char *lock_dir = ctx->cfg->global.barman_lock_directory;
    char name[LOCK_NAME_MAX];
    lock_name(s->name, "cron", name);
    struct lock *lock = NULL;
    int rc = lock_acquire(lock_dir, name, false, &lock, err);
    if (rc == -CEL_E_LOCKED) {
        op_log(ctx, LOG_INFO, s->name, "skipped: %s", err->msg);
        return 0;
    }
    if (rc < 0)
        return rc;
    struct op_archive_summary sum;
    rc = op_archive_server(ctx, s, workers, &sum, err);
    op_archive_report(ctx, &sum);
    /* then the backups: dead ones FAILED, those whose WAL has arrived DONE */
    struct bk_settle_summary settle;
    struct cel_err serr = {0};
    int src = bk_settle(ctx, s, false, NULL, &settle, &serr);
    if (src < 0 && rc == 0) {
        rc = src;
        *err = serr;
    }
    if (src == 0 && settle.completed) {
        struct cel_err perr = {0};
        if (op_wal_purge_before_first(ctx, s, &perr) < 0)
            op_log(ctx, LOG_WARNING, s->name, "%s", perr.msg);
    }
    lock_release(lock);
    return rc;
}

int op_cron(const struct op_ctx *ctx, const struct op_cron_req *req, struct cel_err *err)
{
    const char *lock_dir = ctx->cfg->global.barman_lock_directory;
    int rc = stor_mkdir_p(lock_dir, 0700, err);
    if (rc < 0)
        return rc;
    struct lock *global = NULL;
    rc = lock_acquire(lock_dir, ".cron.lock", false, &global, err);
    if (rc == -CEL_E_LOCKED) {
        op_log(ctx, LOG_INFO, NULL, "another cron is running: %s", err->msg);
        cel_err_clear(err);
        return 0;
    }
    if (rc < 0)
        return rc;
    size_t failed = 0, disabled = 0;
    for (size_t i = 0; i < ctx->cfg->n_servers; i++) {
        const struct cfg_server *s = &ctx->cfg->servers[i];
        if (!s->active)
            continue;
        if (s->disabled) {
            op_log(ctx, LOG_ERROR, s->name,
                   "skipped: the server is disabled by configuration errors");
            disabled++;
            continue;
        }
        struct cel_err one = {0};
        if (cron_server(ctx, s, req->workers, &one) < 0) {
            op_log(ctx, LOG_ERROR, s->name, "%s", one.msg);
            failed++;
        }
    }
    lock_release(global);
    if (failed)
        return cel_err_set(err, CEL_E_IO, "cron failed for %zu server%s", failed,
                           failed == 1 ? "" : "s");
    if (disabled)
        return cel_err_set(err, CEL_E_CONFIG, "%zu server%s skipped: disabled by configuration "
                                              "errors", disabled, disabled == 1 ? "" : "s");
    return 0;
}
