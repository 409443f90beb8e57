/*
 * copy_report.h - how an op's rsync copies report: progress events (at most
 * four a second, and the last one always), rsync's notes as log lines, and
 * the op's cancel flag. Shared by backup and recover.
 */
#ifndef CEL_OPS_COPY_REPORT_H
#define CEL_OPS_COPY_REPORT_H

#include "ops.h"
#include "rsync.h"

struct op_copy_report {
    const struct op_ctx *ctx;
    const char *server;
    double last; /* when the last progress event went out */
};

/* Point o's on_progress, on_log, ctx and cancel at rep (which must outlive
 * the copy). */
void op_copy_report_opts(struct op_copy_report *rep, struct rsync_opts *o);

#endif
