/*
 * tar_write.h - the headers of a tar archive being written: the writer's
 * half of tar_read.h.
 *
 * A member is one ustar header block, preceded by a GNU long-name block
 * ('L', then the name in as many blocks as it needs) when the name does
 * not fit ustar's 100-byte name and 155-byte prefix; sizes past ustar's 11
 * octal digits (8 GiB) are written in GNU's base-256. That is what GNU tar
 * and Python's tarfile (barman-cloud-restore) read, and tar_read.c too.
 * The content follows the header, padded with zeros to a 512-byte block;
 * the archive ends with two zero blocks (TAR_END_LEN).
 *
 * Pure functions: nothing here does I/O, allocates or prints.
 */
#ifndef CEL_TAR_WRITE_H
#define CEL_TAR_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define TAR_BLOCK 512
#define TAR_END_LEN (2 * TAR_BLOCK)
/* A member name (and link target) longer than this is refused. */
#define TAR_NAME_MAX 4096
/* Room for the header of any member: a long-name block, the name's blocks
 * and the ustar block. */
#define TAR_HEADER_MAX (TAR_BLOCK * (2 + (TAR_NAME_MAX + TAR_BLOCK) / TAR_BLOCK))

/* What a header says about a member. */
struct tar_entry {
    const char *name; /* relative path; directories without a trailing '/' */
    const char *link; /* '2' symlink's target, else NULL */
    char type;        /* '0' file, '2' symlink, '5' directory */
    mode_t mode;      /* permission bits */
    uid_t uid;
    gid_t gid;
    const char *uname, *gname; /* may be NULL */
    uint64_t size;             /* '0' only */
    int64_t mtime;
};

/* Write the header of e into out (room for TAR_HEADER_MAX bytes): returns
 * its length (a multiple of TAR_BLOCK), or -CEL_E_INVALID with err for an
 * empty name, a name or link of more than TAR_NAME_MAX bytes, a link that
 * does not fit ustar's 100 bytes, or an unknown type. */
ssize_t tar_header(const struct tar_entry *e, unsigned char *out, struct cel_err *err);

/* The zero bytes that pad a member of size bytes to its block (0-511). */
size_t tar_padding(uint64_t size);

#endif
