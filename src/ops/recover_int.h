/*
 * recover_int.h - the destination of a recovery, local or on the host of
 * --remote-ssh-command, behind one small interface (recover_dest.c), so
 * recover.c says what to do once. Only src/ops/recover*.c use it.
 */
#ifndef CEL_OPS_RECOVER_INT_H
#define CEL_OPS_RECOVER_INT_H

#include "ops.h"
#include "rsync.h"

struct rdest {
    const char *ssh;         /* NULL: local */
    const char *path_prefix;
    char *stage;             /* local scratch directory for remote writes */
};

int rd_init(struct rdest *d, const char *ssh, const char *path_prefix, struct cel_err *err);
void rd_free(struct rdest *d);
/* 0 when path is absent or an empty directory; -CEL_E_CONFLICT naming what
 * (what: "destination", "tablespace tbs1 location") when it holds something. */
int rd_check_empty(const struct rdest *d, const char *path, const char *what,
                   struct cel_err *err);
/* mkdir -p, mode 0700. */
int rd_mkdir(const struct rdest *d, const char *path, struct cel_err *err);
/* link -> target (replacing link). */
int rd_symlink(const struct rdest *d, const char *target, const char *link, struct cel_err *err);
/* The contents of path; *out NULL (and 0) when it does not exist. */
int rd_read(const struct rdest *d, const char *path, char **out, struct cel_err *err);
/* Write path (durably when local; over rsync when remote). */
int rd_write(const struct rdest *d, const char *path, const char *data, size_t len,
             struct cel_err *err);
/* rsync options reaching the destination. */
void rd_rsync_opts(const struct rdest *d, struct rsync_opts *o);

#endif
