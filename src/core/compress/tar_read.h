/*
 * tar_read.h - a streaming reader of tar archives (ustar, with the GNU and
 * pax extensions for long names and sizes), fed in pieces of any size.
 *
 * verify-backup reads a tar backup (pg_basebackup's base.tar.gz and
 * <oid>.tar.gz) through the decompressors of compress.h straight into this
 * reader, so each member's bytes are checked as they go by and the backup
 * is never extracted. The reader calls back once per member with its name,
 * type and size, then with its content in pieces, then at its end; it keeps
 * at most one 512-byte block and one extended header (GNU 'L'/'K', pax 'x',
 * at most 1 MiB) in memory, whatever the archive's size.
 *
 * Read as GNU tar reads: the name is prefix "/" name of a ustar header, a
 * GNU long name or a pax "path" replaces it; the size is octal, base-256
 * (GNU, above 8 GiB: pg_basebackup writes it so) or a pax "size"; the
 * archive ends at its first zero block (what follows is not looked at). A
 * header whose checksum is wrong, and an archive that ends inside a header
 * or a member, are -CEL_E_FORMAT naming the archive and the offset.
 * Nothing here blocks or prints.
 */
#ifndef CEL_TAR_READ_H
#define CEL_TAR_READ_H

#include "compress.h"
#include "error.h"

/* One member, as the header (and any extended header before it) says. */
struct tar_member {
    const char *name; /* without a leading "./"; valid during the member callback */
    const char *link; /* symbolic and hard links' target, else "" */
    char type;        /* ustar typeflag: '0' file ('\0' and '7' read as '0'), '2' symlink,
                       * '5' directory, ... */
    uint64_t size;    /* bytes of content that follow (0 for links and directories) */
    uint64_t offset;  /* of its header in the uncompressed archive */
    unsigned mode;    /* permission bits (07777) of the header; 0 when unreadable */
    int64_t mtime;    /* modification time of the header (seconds); 0 when unreadable */
};

/* The callbacks; any may be NULL. Each returns 0 to go on, or a negative
 * CEL_E code with err set, which tar_read_feed returns at once. */
struct tar_read_cb {
    int (*member)(void *ctx, const struct tar_member *m, struct cel_err *err);
    int (*data)(void *ctx, const unsigned char *buf, size_t len, struct cel_err *err);
    int (*member_end)(void *ctx, struct cel_err *err); /* after the last piece */
    void *ctx;
};

struct tar_read;

/* A reader; what names the archive in messages (copied). Free with
 * tar_read_free. */
struct tar_read *tar_read_new(const struct tar_read_cb *cb, const char *what);
void tar_read_free(struct tar_read *t);
/* The next len bytes of the archive. 0, a callback's error, or
 * -CEL_E_FORMAT for a damaged header. */
int tar_read_feed(struct tar_read *t, const unsigned char *buf, size_t len, struct cel_err *err);
/* The archive is over: 0 when it ended between members (at its zero block,
 * or at the end of a member when the zero blocks are missing, as GNU tar
 * accepts), -CEL_E_FORMAT "unexpected end of archive" otherwise. */
int tar_read_finish(struct tar_read *t, struct cel_err *err);
/* Members seen so far. */
uint64_t tar_read_members(const struct tar_read *t);

/* The content of the regular-file member name of the tar archive at path,
 * compressed with kind (COMP_NONE: a plain tar), read only as far as that
 * member: *out (NUL-terminated, caller frees) and *len (may be NULL). Takes
 * the first member of that name. -CEL_E_NOT_FOUND when there is none,
 * -CEL_E_FORMAT when it is longer than max bytes or the archive is damaged;
 * decompression errors as comp_decompress_each's. Blocks. */
int tar_read_member(const char *path, enum comp_kind kind, const char *name, size_t max,
                    char **out, size_t *len, struct cel_err *err);

#endif
