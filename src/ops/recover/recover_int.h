/*
 * recover_int.h - what the recovery's files share: the destination of a
 * recovery, local or on the host of --remote-ssh-command, behind one small
 * interface (recover_dest.c), so recover.c says what to do once; and a
 * backup's NextXID (recover_window.c). Only the files in src/ops/recover/ use it.
 */
#ifndef CEL_OPS_RECOVER_INT_H
#define CEL_OPS_RECOVER_INT_H

#include "compress.h"
#include "ops.h"
#include "rsync.h"

struct rdest {
    const char *ssh;         /* NULL: local */
    const char *path_prefix;
    char *stage;             /* local scratch directory for remote writes */
};

/* stage: create the local scratch directory remote writes go through (a
 * --dry-run, which writes nothing, does without). */
int rd_init(struct rdest *d, const char *ssh, const char *path_prefix, bool stage,
            struct cel_err *err);
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
/* Options of rd_untar; zero is the default. */
struct rd_untar_opts {
    const char *const *exclude; /* member names left out (tar's --exclude) */
    /* called as the bytes go (after each piece, at most 1 MiB apart) with
     * the total decompressed so far */
    void (*progress)(void *ctx, uint64_t bytes);
    void *ctx;
    /* not NULL: the archive is a GnuPG message (encryption = gpg), decrypted
     * here with this passphrase (pass_len bytes) as it is read */
    const char *pass;
    size_t pass_len;
};

/* Extract the tar archive `archive` (a file here, compressed with kind)
 * into dir, which exists, where the destination is: decompressed here by
 * cellar's own decompressors and streamed into `tar -x -C dir` there
 * (through ssh_command for a remote destination, the archive on its
 * standard input), so nothing is staged; with opts->pass the archive is a
 * GnuPG message, decrypted here as it is read (a bad passphrase is
 * -CEL_E_CONFIG). *bytes (may be NULL) gets the
 * archive's size decompressed. -CEL_E_PROC with tar's first error line
 * when tar (or ssh) fails, -CEL_E_FORMAT when the archive does not
 * decompress. Blocks. */
int rd_untar(const struct rdest *d, const char *archive, enum comp_kind kind, const char *dir,
             const struct rd_untar_opts *opts, uint64_t *bytes, struct cel_err *err);
/* The bytes free on the filesystem holding path, or its nearest existing
 * ancestor when path does not exist (yet): statvfs's f_bavail locally, the
 * Available column of `df -Pk` on the remote host; both leave out the blocks
 * reserved for root. -CEL_E_IO (statvfs), -CEL_E_PROC (df or ssh failed) or
 * -CEL_E_FORMAT (df's output not understood) when it cannot tell. Blocks
 * (a remote command). */
int rd_free_space(const struct rdest *d, const char *path, uint64_t *out, struct cel_err *err);
/* The Available figure of `df -Pk` output, in bytes: the last line's
 * number before its "NN%" capacity field (so a filesystem name with spaces
 * does not shift it). -CEL_E_FORMAT when there is none. */
int rd_parse_df(const char *text, uint64_t *out, struct cel_err *err);
/* rsync options reaching the destination. */
void rd_rsync_opts(const struct rdest *d, struct rsync_opts *o);

/* The first transaction ID that was free when backup b of s started (the
 * NextXID of its pg_control, read with pg_controldata): a target XID below
 * it committed before the backup. 0 when it cannot be told. */
uint64_t op_backup_next_xid(const struct cfg_server *s, const struct cat_backup *b);

#endif
