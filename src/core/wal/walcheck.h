/*
 * walcheck.h - is this file really the WAL segment its name says?
 *
 * A file arriving in incoming/ is accepted only when its content agrees
 * with its name. Every WAL segment starts with a long page header
 * (XLogLongPageHeaderData) holding a magic number, the timeline, the
 * address of the page, the cluster's system identifier, the segment size
 * and the block size. A segment (or .partial) is accepted when:
 *   - its size equals the segment size its header announces, which is a
 *     power of two from 1 MiB to 1 GiB;
 *   - the header's magic is a PostgreSQL WAL magic (0xD0xx or 0xD1xx),
 *     its long-header flag is set, its timeline is the name's or an earlier
 *     one (the first segment of a timeline begins with its parent's pages,
 *     up to the switch point, so its first page carries the parent's
 *     timeline), and its page address is the first byte of the segment the
 *     name designates;
 *   - the block size is a power of two from 1 KiB to 64 KiB.
 * A history file must be text lines "TLI<tab>LSN<tab>reason" (or comments);
 * a backup label text must hold "START WAL LOCATION:".
 *
 * The header is read in the host's byte order, as PostgreSQL writes it: the
 * archive must run on a machine of the same endianness as the cluster.
 */
#ifndef CEL_WALCHECK_H
#define CEL_WALCHECK_H

#include "error.h"
#include "wal.h"

struct walcheck_info {
    uint64_t size;        /* bytes in the file */
    uint64_t segsize;     /* segment size from the header (segments only) */
    uint64_t sysid;       /* system identifier from the header (segments only) */
    uint32_t block_size;  /* block size from the header (segments only) */
};

/* Check the file at path against name (already parsed into w). Returns 0 and
 * fills *info (may be NULL); -CEL_E_FORMAT with the reason ("size is
 * 8388608 bytes, the header announces 16777216-byte segments", "timeline
 * 2 in the header, 1 in the name", "not a WAL segment: bad magic 0x0000")
 * when the content does not match; -CEL_E_IO when it cannot be read. */
int walcheck_file(const char *path, const struct wal_name *w, struct walcheck_info *info,
                  struct cel_err *err);

/* The same check on a file already open (fd at any position; it is read
 * with pread and not closed), of known size. */
int walcheck_fd(int fd, uint64_t size, const struct wal_name *w, struct walcheck_info *info,
                struct cel_err *err);

/* One line of a timeline history file: timeline tli ended (switched to the
 * next) at LSN switchpoint. */
struct walcheck_history_entry {
    uint32_t tli;
    uint64_t switchpoint;
};

/* Parse the text of a history file (NUL-terminated): its lines
 * "parentTLI<blank>LSN<blank>reason", comments and blank lines, into *out
 * (caller frees) and *n, in file order (oldest ancestor first). Returns 0,
 * or -CEL_E_FORMAT ("line 3 is not 'timeline<TAB>LSN<TAB>reason': not a
 * history file", "line 2 has no valid switch LSN: ...", "holds no timeline
 * switch: ...") with *out NULL. */
int walcheck_history_parse(const char *text, struct walcheck_history_entry **out, size_t *n,
                           struct cel_err *err);

#endif
