/*
 * wal.h - WAL file names, segment arithmetic and LSNs.
 *
 * A WAL segment name is 24 hex digits: timeline, "log" (the high 32 bits of
 * the segment number space, PostgreSQL's xlogid) and segment within the log,
 * 8 digits each. The archive also holds history files (8 hex + ".history"),
 * backup labels (segment + "." + 8 hex offset + ".backup") and partial
 * segments (segment + ".partial"). Names are accepted in either hex case, as
 * Barman's regular expression does, and formatted upper-case as PostgreSQL
 * writes them.
 *
 * Segment numbers ("segno") count segments from LSN 0 for a given
 * wal_segment_size: segno = lsn / segsize, and a log holds 2^32 / segsize
 * segments. Every function taking a segsize expects a valid one (a power of
 * two from 1 MiB to 1 GiB); check user-supplied sizes with wal_segsize_check.
 */
#ifndef CEL_WAL_H
#define CEL_WAL_H

#include "error.h"

/* Room for the longest name ("<24 hex>.<8 hex>.backup" = 40) and a NUL. */
#define WAL_NAME_MAX 48
/* Room for "FFFFFFFF/FFFFFFFF" and a NUL. */
#define WAL_LSN_MAX 18
/* PostgreSQL's default wal_segment_size (16 MiB), Barman's default too. */
#define WAL_DEFAULT_SEGSIZE ((uint64_t)16 * 1024 * 1024)

enum wal_kind {
    WAL_KIND_SEGMENT,      /* 000000010000000000000002 */
    WAL_KIND_PARTIAL,      /* 000000010000000000000002.partial */
    WAL_KIND_BACKUP_LABEL, /* 000000010000000000000002.00000028.backup */
    WAL_KIND_HISTORY,      /* 00000002.history */
};

struct wal_name {
    enum wal_kind kind;
    uint32_t tli;
    uint32_t log;    /* 0 for history files */
    uint32_t seg;    /* 0 for history files */
    uint32_t offset; /* byte offset of a backup label; 0 otherwise */
};

/* Parse a bare file name (no directory). Returns 0, or -CEL_E_INVALID with a
 * message naming the name and what was wrong (length, a non-hex digit, an
 * unknown suffix, timeline 0); *out is written only on success. Does not
 * check seg against a segment size. Any NUL-terminated bytes are safe; the
 * message shows at most 64 characters of the name, with unprintable bytes
 * escaped as \xNN. Stricter than Barman's Python regular expression in two
 * corners it accepts by accident: a trailing newline and non-ASCII digits. */
int wal_name_parse(const char *name, struct wal_name *out, struct cel_err *err);
/* True when name parses as any kind of WAL archive file. */
bool wal_name_is_valid(const char *name);
/* Canonical upper-case name of w into out. */
void wal_name_format(const struct wal_name *w, char out[WAL_NAME_MAX]);
/* The name of segment segno on timeline tli. segno is at most
 * wal_lsn_to_segno(UINT64_MAX, segsize); a larger one has its log number
 * truncated to 32 bits. */
void wal_segment_name(uint32_t tli, uint64_t segno, uint64_t segsize, char out[WAL_NAME_MAX]);

/* 0 if segsize is a power of two between 1 MiB and 1 GiB, else -CEL_E_INVALID
 * with a message giving the size and the reason, and a hint with the range. */
int wal_segsize_check(uint64_t segsize, struct cel_err *err);
/* Segments in one log: 2^32 / segsize. */
uint64_t wal_segs_per_log(uint64_t segsize);
/* 0 if w's segment exists for segsize (seg < segs per log), else -CEL_E_INVALID
 * ("segment '000000010000000000000100' does not exist with 16 MiB segments
 * ..."). A history file has no segment and always passes. */
int wal_name_check_segsize(const struct wal_name *w, uint64_t segsize, struct cel_err *err);
/* Segment number of w (segment, partial or label kinds; 0 for a history
 * file). Meaningful only when wal_name_check_segsize(w, segsize) passes; never
 * overflows, since log * segs per log + seg < 2^45. */
uint64_t wal_segno(const struct wal_name *w, uint64_t segsize);
/* Fill out with the segment segno of timeline tli (kind SEGMENT); segno as
 * for wal_segment_name. */
void wal_from_segno(uint32_t tli, uint64_t segno, uint64_t segsize, struct wal_name *out);

/* The segment that contains lsn (XLByteToSeg). */
uint64_t wal_lsn_to_segno(uint64_t lsn, uint64_t segsize);
/* The segment that contains the byte before lsn (XLByteToPrevSeg), which is
 * what pg_walfile_name() reports for a backup's stop LSN. For lsn 0, which has
 * no byte before it, returns 0 (PostgreSQL's macro would wrap around). */
uint64_t wal_lsn_to_prev_segno(uint64_t lsn, uint64_t segsize);
/* Offset of lsn inside its segment. */
uint64_t wal_lsn_offset(uint64_t lsn, uint64_t segsize);
/* First LSN of segment segno (segno at most wal_lsn_to_segno(UINT64_MAX,
 * segsize), so the product cannot overflow). */
uint64_t wal_segno_to_lsn(uint64_t segno, uint64_t segsize);

/* The hash directory an archived file lives in: timeline + log of a
 * segment, partial or label name as 16 upper-case hex digits (Barman's
 * "%08X%08X", so a lower-case name still maps to an upper-case directory);
 * "" for a history file, which lives at the top of wals/. Returns 0, or the
 * -CEL_E_INVALID of wal_name_parse with out set to "": an invalid name has no
 * directory. */
int wal_hash_dir(const char *name, char out[17], struct cel_err *err);

/* Parse "X/Y" (1 to 8 hex digits each side, either case; no spaces, sign or
 * "0x"). Returns 0, or -CEL_E_INVALID with a message quoting the text (cut and
 * escaped as for names); *out is written only on success. */
int wal_lsn_parse(const char *text, uint64_t *out, struct cel_err *err);
/* Format as PostgreSQL does: "%X/%X" (upper case, no leading zeros). */
void wal_lsn_format(uint64_t lsn, char out[WAL_LSN_MAX]);

#endif
