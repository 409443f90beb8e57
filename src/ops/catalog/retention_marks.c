/*
 * retention_marks.c - the retention marks of a server's backups, as
 * list-backup and show-backup print them (and as cron will act on them).
 *
 * The classification itself is core's ret_classify; this file gathers what
 * it needs from the catalogue and the disk: each backup's status and end
 * time, and its keep annotation (base/<id>/annotations/keep, the file
 * `barman keep` writes). The keep file is read as Barman reads it: its whole
 * content, unstripped, is the target; exactly "standalone" is
 * KEEP:STANDALONE, an empty file is no keep at all, anything else KEEP:FULL.
 */
#include <errno.h>

#include "log.h"
#include "ops.h"
#include "server.h"
#include "storage.h"

/* The keep mark of backup id of s. A keep file that exists but cannot be
 * read (Barman would fail) counts as KEEP:FULL: the safe side. */
static enum ret_mark read_keep(const struct op_ctx *ctx, const struct cfg_server *s, const char *id)
{
    char *path = op_backup_dir(s, id, "annotations/keep");
    char *text = NULL;
    size_t len = 0;
    struct cel_err err = {0};
    enum ret_mark keep = RET_MARK_NONE;
    if (stor_read_file(path, 4096, &text, &len, &err) < 0) {
        if (err.sys_errno != ENOENT) {
            op_log(ctx, LOG_WARNING, s->name,
                   "backup %s: %s; treating the backup as kept (KEEP:FULL)", id, err.msg);
            keep = RET_MARK_KEEP_FULL;
        }
    } else if (len == strlen("standalone") && memcmp(text, "standalone", len) == 0) {
        keep = RET_MARK_KEEP_STANDALONE;
    } else if (len > 0) {
        keep = RET_MARK_KEEP_FULL; /* "full", or any other target, for safety */
    }
    free(text);
    free(path);
    return keep;
}

void op_retention_marks(const struct op_ctx *ctx, const struct cfg_server *s,
                        const struct op_catalog *cat, enum ret_mark *marks)
{
    const struct cat_list *list = &cat->list;
    for (size_t i = 0; i < list->n; i++)
        marks[i] = RET_MARK_NONE;
    if (s->retention_policy.kind == RET_NONE || list->n == 0)
        return;
    struct ret_backup *in = cel_xcalloc(list->n, sizeof *in);
    for (size_t i = 0; i < list->n; i++) {
        const struct cat_backup *b = &list->items[i];
        in[i].done = !list->failed[i] && b->status == CAT_DONE;
        if (!in[i].done)
            continue;
        in[i].end_time = b->end_time.set ? ts_epoch(&b->end_time.t) : 0;
        in[i].keep = cat->keep ? cat->keep[i] : read_keep(ctx, s, b->id);
    }
    struct ts now;
    ts_now(&now);
    unsigned min_redundancy = s->minimum_redundancy > 0 ? (unsigned)s->minimum_redundancy : 0;
    bool raised = false;
    unsigned effective = ret_classify(&s->retention_policy, min_redundancy, ts_epoch(&now), in,
                                      list->n, marks, &raised);
    /* Barman puts this in its log only, every time it classifies */
    if (raised)
        log_msg(LOG_WARNING,
                "%s: retention policy redundancy (%u) is lower than the required minimum "
                "redundancy (%u): enforcing %u",
                s->name, s->retention_policy.n, min_redundancy, effective);
    free(in);
}
