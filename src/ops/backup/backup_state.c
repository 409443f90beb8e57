/*
 * backup_state.c - moving backups on after their process has gone:
 * WAITING_FOR_WALS becomes DONE when every segment from begin_wal to
 * end_wal is archived (or FAILED when one is missing and later WAL has
 * already arrived, so it never will), and a backup left EMPTY or STARTED
 * by a process that no longer runs (killed, even with SIGKILL; the machine
 * rebooted) becomes FAILED, so it is never offered for recovery.
 *
 * A running backup holds .<server>-backup.lock for its whole life (Barman
 * holds the same lock), so "no process runs it" is "the lock is free".
 */
#include "backup_int.h"
#include "lock.h"
#include "manifest.h"
#include "server.h"
#include "wal.h"
#include "wal_archive.h"

void bk_mark_failed(const struct op_ctx *ctx, const struct cfg_server *s, const char *dir,
                    struct cat_backup *b, const char *error)
{
    b->status = CAT_FAILED;
    free(b->error);
    b->error = cel_xstrdup(error);
    struct cel_err err = {0};
    if (cat_info_write(dir, b, &err) < 0)
        op_log(ctx, LOG_ERROR, s->name, "cannot record the failure of backup %s: %s", b->id,
               err.msg);
    op_log(ctx, LOG_ERROR, s->name, "backup %s FAILED: %s", b->id, error);
}

enum bk_wal_state bk_wal_state(const struct xdb *xdb, const struct cat_backup *b,
                               char first_missing[WAL_NAME_MAX])
{
    struct wal_name begin, end;
    uint64_t segsize = (uint64_t)b->xlog_segment_size.v; /* checked by cat_info_parse */
    first_missing[0] = '\0';
    if (!b->begin_wal || !b->end_wal || wal_name_parse(b->begin_wal, &begin, NULL) < 0 ||
        wal_name_parse(b->end_wal, &end, NULL) < 0)
        return BK_WAL_MISSING;
    uint64_t from = wal_segno(&begin, segsize), to = wal_segno(&end, segsize);
    for (uint64_t seg = from; seg <= to; seg++) {
        char name[WAL_NAME_MAX];
        wal_segment_name(end.tli, seg, segsize, name);
        /* the first segment may be on the previous timeline when the backup
         * started right at a promotion */
        if (xdb_find(xdb, name) || (seg == from && xdb_find(xdb, b->begin_wal)))
            continue;
        snprintf(first_missing, WAL_NAME_MAX, "%s", name);
        break;
    }
    if (!first_missing[0])
        return BK_WAL_COMPLETE;
    /* end_wal or a later segment was archived: PostgreSQL archives in
     * order, so archiving went past the hole, which will not be filled */
    for (size_t i = xdb_lower_bound(xdb, b->end_wal); i < xdb->n; i++) {
        struct wal_name w;
        if (wal_name_parse(xdb->entries[i].name, &w, NULL) == 0 && w.kind == WAL_KIND_SEGMENT &&
            w.tli == end.tli)
            return BK_WAL_MISSING;
    }
    return BK_WAL_WAITING;
}

/* Is dir/backup.info still in status? The catalogue was read before the
 * lock was probed: a backup that finished in between has moved on, and
 * its new record must not be overwritten with the old one. */
static bool status_unchanged(const char *dir, enum cat_status status)
{
    struct cat_backup now = {0};
    bool same = cat_info_read(dir, &now, NULL) == 0 && now.status == status;
    cat_backup_clear(&now);
    return same;
}

/* Does the backup lock show a live backup process? */
static bool backup_running(const struct op_ctx *ctx, const struct cfg_server *s)
{
    pid_t holder = 0;
    /* an error probing counts as running: never reap on a doubt */
    return op_server_lock_probe(ctx, s, "backup", &holder, NULL) != 0;
}

int bk_settle(const struct op_ctx *ctx, const struct cfg_server *s, bool holding_backup_lock,
              const char *skip_id, struct bk_settle_summary *sum, struct cel_err *err)
{
    memset(sum, 0, sizeof *sum);
    struct op_catalog cat;
    int rc = op_catalog_load(ctx, s, false, &cat, err);
    if (rc < 0)
        return rc;
    bool any_waiting = false, any_started = false;
    for (size_t i = 0; i < cat.list.n; i++) {
        if (cat.list.failed[i] || (skip_id && strcmp(cat.list.items[i].id, skip_id) == 0))
            continue;
        enum cat_status st = cat.list.items[i].status;
        any_waiting |= st == CAT_WAITING_FOR_WALS;
        any_started |= st == CAT_STARTED || st == CAT_EMPTY;
    }
    bool dead = any_started && (holding_backup_lock || !backup_running(ctx, s));
    if (any_waiting) {
        rc = op_xdb_load(ctx, s, &cat.xdb, err);
        cat.xdb_loaded = rc == 0;
    }
    for (size_t i = 0; rc == 0 && i < cat.list.n; i++) {
        struct cat_backup *b = &cat.list.items[i];
        if (cat.list.failed[i] || (skip_id && strcmp(b->id, skip_id) == 0))
            continue;
        char *dir = op_backup_dir(s, b->id, NULL);
        if ((b->status == CAT_STARTED || b->status == CAT_EMPTY) && dead &&
            status_unchanged(dir, b->status)) {
            if (s->encryption == CFG_ENC_GPG) /* what pg_basebackup left in clear */
                bk_drop_clear_tars(ctx, s, dir);
            bk_mark_failed(ctx, s, dir, b,
                           "the backup process ended before the backup was complete (killed, "
                           "or the machine stopped)");
            sum->reaped++;
        } else if (b->status == CAT_WAITING_FOR_WALS) {
            char missing[WAL_NAME_MAX];
            enum bk_wal_state ws = bk_wal_state(&cat.xdb, b, missing);
            if (!status_unchanged(dir, CAT_WAITING_FOR_WALS)) {
                /* changed under us (another cron, a Barman check-backup) */
            } else if (ws == BK_WAL_COMPLETE) {
                b->status = CAT_DONE;
                rc = cat_info_write(dir, b, err);
                if (rc == 0) {
                    op_log(ctx, LOG_INFO, s->name, "backup %s is DONE: its WAL is archived", b->id);
                    sum->completed++;
                }
            } else if (ws == BK_WAL_MISSING) {
                char *msg = cel_xasprintf("At least one WAL file is missing. The first missing "
                                          "WAL file is %s",
                                          missing[0] ? missing : "unknown");
                bk_mark_failed(ctx, s, dir, b, msg);
                free(msg);
                sum->failed_wal++;
            }
        }
        free(dir);
    }
    op_catalog_free(&cat);
    return rc;
}

int bk_wal_range(const struct cat_backup *b, struct manifest_wal_range *out, struct cel_err *err)
{
    uint64_t begin = 0, end = 0;
    if (!b->timeline.set || !b->begin_xlog || !b->end_xlog ||
        wal_lsn_parse(b->begin_xlog, &begin, NULL) < 0 ||
        wal_lsn_parse(b->end_xlog, &end, NULL) < 0)
        return cel_err_set(err, CEL_E_FORMAT,
                           "backup %s: backup.info lacks a valid timeline, begin_xlog or end_xlog",
                           b->id);
    *out = (struct manifest_wal_range){(uint32_t)b->timeline.v, begin, end};
    return 0;
}
