/*
 * cron.c - `cellar cron`: the periodic maintenance of every server, run
 * from cron every minute: it archives the WAL of each server, marks FAILED
 * the backups whose process was killed, DONE those whose WAL has all been
 * archived, and deletes the backups its retention policy made obsolete
 * (catalog/retention_apply.c). --dry-run changes nothing and says what retention would
 * delete.
 *
 * With streaming_archiver = on, cron also keeps one WAL receiver per
 * server running, as Barman's cron does: when nobody holds the server's
 * receive-wal lock it starts `cellar receive-wal SERVER` detached (it
 * outlives cron; its messages go to the log), and the receiver's own lock
 * makes a second one leave at once. With streaming_archiver = off a
 * receiver still running is stopped.
 *
 * At its end, with lock_directory_cleanup on (Barman's default), it removes
 * the lock files nobody holds (server_processes.c).
 *
 * Two crons never overlap: a global lock (.cron.lock) makes the second one
 * leave at once, and each server also takes Barman's .<server>-cron.lock so
 * a Barman cron on the same home does not work on it at the same time. A
 * server that fails does not stop the others; each gets one summary line;
 * the exit status is 1 when any server failed.
 */
#include <errno.h>
#include <unistd.h>

#include "backup_int.h"
#include "bucket_server.h"
#include "lock.h"
#include "proc.h"
#include "ops.h"
#include "server.h"
#include "storage.h"
#include "wal_archive.h"

/* What cron did for one server: its one summary line. */
struct summary {
    const char *server;
    bool dry_run;
    struct op_archive_summary archive;
    struct bk_settle_summary settle;
    struct op_retention_summary retention;
    const char *bucket;   /* a bucket server's cloud_source, NULL for the others */
    const char *receiver; /* "started", "running", "stopped" or NULL */
    long receiver_pid;
    bool cloud; /* cloud_destination: the copy's step ran */
    struct op_cloud_upload_summary upload;
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct summary *m = p;
    if (m->dry_run) {
        sb_appendf(out, "%s: dry run: ", m->server);
        if (!m->retention.n_ids)
            sb_append(out, "retention would delete nothing");
        for (size_t i = 0; i < m->retention.n_ids; i++)
            sb_appendf(out, "%s%s", i ? ", " : "retention would delete ", m->retention.ids[i]);
        sb_append(out, "\n");
        return;
    }
    if (m->bucket)
        sb_appendf(out, "%s: bucket %s", m->server, m->bucket);
    else
        op_archive_summary_text(&m->archive, out);
    const struct bk_settle_summary *st = &m->settle;
    if (st->completed)
        sb_appendf(out, "; %zu backup%s DONE", st->completed, st->completed == 1 ? "" : "s");
    if (st->reaped + st->failed_wal)
        sb_appendf(out, "; %zu backup%s marked FAILED", st->reaped + st->failed_wal,
                   st->reaped + st->failed_wal == 1 ? "" : "s");
    for (size_t i = 0; i < m->retention.n_ids; i++)
        sb_appendf(out, "%s%s", i ? ", " : "; obsolete backups deleted: ", m->retention.ids[i]);
    if (m->retention.failed)
        sb_append(out, "; retention stopped (see the log)");
    if (m->receiver)
        sb_appendf(out, "; receive-wal %s (PID %ld)", m->receiver, m->receiver_pid);
    if (m->cloud) {
        sb_append(out, "; ");
        op_cloud_upload_summary_text(&m->upload, out);
    }
    sb_append(out, "\n");
}

static json_t *render_json(const void *p)
{
    const struct summary *m = p;
    json_t *ids = json_array();
    for (size_t i = 0; i < m->retention.n_ids; i++)
        json_array_append_new(ids, json_string(m->retention.ids[i]));
    json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:o}", "server", m->server, "dry_run",
                          m->dry_run, "backups_done", (json_int_t)m->settle.completed,
                          "backups_failed",
                          (json_int_t)(m->settle.reaped + m->settle.failed_wal),
                          m->dry_run ? "would_delete" : "deleted", ids);
    if (m->bucket)
        json_object_set_new(o, "bucket", json_string(m->bucket));
    else if (!m->dry_run)
        json_object_set_new(o, "archive", op_archive_summary_json(&m->archive));
    if (m->receiver)
        json_object_set_new(o, "receive_wal",
                            json_pack("{s:s, s:I}", "state", m->receiver, "pid",
                                      (json_int_t)m->receiver_pid));
    if (m->cloud)
        json_object_set_new(o, "cloud_upload", op_cloud_upload_summary_json(&m->upload));
    return o;
}

/* Barman's cron_receive_wal: a receiver for a streaming server, none for
 * the others. */
static void keep_receiver(const struct op_ctx *ctx, const struct cfg_server *s,
                          bool keep_descriptors, struct summary *m)
{
    pid_t holder = 0;
    struct cel_err err = {0};
    int held = op_server_lock_probe(ctx, s, "receive-wal", &holder, &err);
    if (held < 0) {
        op_log(ctx, LOG_WARNING, s->name, "%s", err.msg);
        return;
    }
    if (!s->streaming_archiver) {
        pid_t stopped = 0;
        if (held == 1 && op_server_task_stop(ctx, s, "receive-wal", false, &stopped, &err) < 0)
            op_log(ctx, LOG_WARNING, s->name, "%s", err.msg);
        if (stopped) {
            m->receiver = "stopped";
            m->receiver_pid = (long)stopped;
        }
        return;
    }
    if (held == 1) {
        m->receiver = "running";
        m->receiver_pid = (long)holder;
        return;
    }
    op_log(ctx, LOG_INFO, s->name, "Starting streaming archiver for server %s", s->name);
    pid_t pid = 0;
    if (op_receive_wal_spawn(ctx, s, keep_descriptors, &pid, &err) < 0) {
        op_log(ctx, LOG_ERROR, s->name, "%s", err.msg);
        return;
    }
    m->receiver = "started";
    m->receiver_pid = (long)pid;
}

/* One server's cron work: archive, settle the backups, enforce retention. */
static int cron_work(const struct op_ctx *ctx, const struct cfg_server *s, int workers,
                     struct summary *m, struct cel_err *err)
{
    if (m->dry_run)
        return op_enforce_retention(ctx, s, true, &m->retention, err);
    int rc = op_archive_server(ctx, s, workers, &m->archive, err);
    /* then the backups: dead ones FAILED, those whose WAL has arrived DONE */
    struct cel_err serr = {0};
    int src = bk_settle(ctx, s, false, NULL, &m->settle, &serr);
    if (src < 0 && rc == 0) {
        rc = src;
        *err = serr;
    }
    if (src == 0 && m->settle.completed) {
        struct cel_err perr = {0};
        if (op_wal_purge_before_first(ctx, s, &perr) < 0)
            op_log(ctx, LOG_WARNING, s->name, "%s", perr.msg);
    }
    struct cel_err rerr = {0};
    int rrc = op_enforce_retention(ctx, s, false, &m->retention, &rerr);
    if (rrc < 0 && rc == 0) {
        rc = rrc;
        *err = rerr;
    }
    /* the copy in cloud_destination (cloud/cloud_copy.c), after the local
     * work: its failure is logged and fails cron, after everything else */
    if (s->cloud_destination) {
        struct cel_err cerr = {0};
        m->cloud = true;
        int crc = op_cloud_upload_server(ctx, s, false, &m->upload, &cerr);
        if (crc < 0)
            op_log(ctx, LOG_ERROR, s->name, "cloud upload: %s", cerr.msg);
        if (crc < 0 && rc == 0) {
            rc = crc;
            *err = cerr;
        }
    }
    return rc;
}

static int cron_server(const struct op_ctx *ctx, const struct cfg_server *s, int workers,
                       bool dry_run, bool keep_descriptors, struct cel_err *err)
{
    struct lock *lock = NULL;
    int rc = op_server_lock(ctx, s, "cron", false, &lock, err);
    if (rc == -CEL_E_LOCKED) {
        op_log(ctx, LOG_INFO, s->name, "skipped: %s", err->msg);
        return 0;
    }
    if (rc < 0)
        return rc;
    struct summary m = {.server = s->name, .dry_run = dry_run, .bucket = s->cloud_source};
    m.archive.server = s->name;
    /* a bucket server has nothing local to archive or settle: its
     * retention is applied to the bucket */
    if (s->cloud_source)
        rc = op_bucket_retention(ctx, s, dry_run, &m.retention, err);
    else
        rc = cron_work(ctx, s, workers, &m, err);
    if (!dry_run && !s->cloud_source)
        keep_receiver(ctx, s, keep_descriptors, &m);
    struct op_result res = {"cron", &m, render_text, render_json};
    op_result(ctx, &res);
    op_retention_summary_free(&m.retention);
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
    /* as Barman's cron: changes config-update left in the queue first (they
     * take effect at the next load) */
    struct cel_err qerr = {0};
    if (!req->dry_run && op_config_queue_process(ctx, &qerr) < 0)
        op_log(ctx, LOG_WARNING, NULL, "config-update queue: %s", qerr.msg);
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
        if (cron_server(ctx, s, req->workers, req->dry_run, req->keep_descriptors, &one) < 0) {
            op_log(ctx, LOG_ERROR, s->name, "%s", one.msg);
            failed++;
        }
    }
    if (ctx->cfg->global.lock_directory_cleanup && !req->dry_run) {
        struct cel_err lerr = {0};
        size_t removed = 0;
        if (op_lock_directory_cleanup(ctx, false, &removed, &lerr) < 0)
            op_log(ctx, LOG_WARNING, NULL, "lock directory cleanup: %s", lerr.msg);
        else if (removed)
            op_log(ctx, LOG_DEBUG, NULL, "lock directory cleanup: %zu unused lock file%s removed",
                   removed, removed == 1 ? "" : "s");
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
