/*
 * retention_marks.c - the retention marks of a server's backups, as
 * list-backup and show-backup print them (and as cron will act on them).
 *
 * The classification itself is core's ret_classify; this file gathers what
 * it needs from the catalogue and the disk: each backup's status and end
 * time, and its keep annotation (keep.c).
 */
#include <errno.h>

#include "log.h"
#include "ops.h"
#include "server.h"
#include "server_catalog.h"
#include "storage.h"

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
        in[i].keep = cat->keep ? cat->keep[i] : op_keep_mark(ctx, s, b->id);
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
