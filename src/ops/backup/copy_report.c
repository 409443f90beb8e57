/*
 * copy_report.c - progress and notes of an rsync copy, as op events.
 */
#include <time.h>

#include "copy_report.h"
#include "ts.h"

static void on_progress(void *p, const struct rsync_progress *rp)
{
    struct op_copy_report *rep = p;
    double now = ts_monotonic();
    bool last = rp->files_done == rp->files_total;
    if (!last && now - rep->last < 0.25)
        return;
    rep->last = now;
    struct op_progress op = {.bytes_done = rp->bytes_done,
                             .bytes_total = rp->bytes_total,
                             .files_done = rp->files_done,
                             .files_total = rp->files_total,
                             .rate = rp->rate,
                             .current = rp->current};
    op_progress(rep->ctx, rep->server, &op);
}

static void on_log(void *p, const char *line)
{
    struct op_copy_report *rep = p;
    op_log(rep->ctx, LOG_INFO, rep->server, "rsync: %s", line);
}

void op_copy_report_opts(struct op_copy_report *rep, struct rsync_opts *o)
{
    o->on_progress = on_progress;
    o->on_log = on_log;
    o->ctx = rep;
    o->cancel = rep->ctx->cancel;
}
