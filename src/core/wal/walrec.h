/*
 * walrec.h - what a WAL segment says happened: its named restore points
 * and the commit times of the transactions it holds.
 *
 * A recovery target that names a restore point, or a time, can only be
 * checked against the archive when the archive knows what its segments
 * hold. walrec_scan reads one segment's records (PostgreSQL 9.5 to 17 page
 * and record layout, host byte order, as walcheck.h reads headers) and
 * reports the records a target can stop at:
 *   - XLOG_RESTORE_POINT (resource manager XLOG), written by
 *     pg_create_restore_point(): its name, time and LSN;
 *   - XLOG_XACT_COMMIT and XLOG_XACT_COMMIT_PREPARED (resource manager
 *     Transaction): the first and last commit time of the segment.
 * Records of interest are accepted only when their CRC-32C matches, as
 * PostgreSQL's own reader does.
 *
 * The segment is outside input: every length is checked against the
 * buffer, garbage ends the scan (never a crash, never a read past len), and
 * what was found before it is kept. The scan stops where the valid WAL
 * stops: a zero record length (the unused end of the last page written), a
 * page whose header is not the next page of this segment (a recycled
 * segment's old pages), or a record that goes past the end of the buffer.
 *
 * A record that starts in one segment and continues into the next (a
 * restore point made just as a segment fills) is whole in neither. When a
 * full segment ends inside a record that may be of interest (its header
 * says restore point or commit, or is itself cut so nobody can tell yet)
 * and that record is at most WALREC_CUT_MAX bytes long, the scan hands back
 * the bytes it has (out->cut). walrec_join completes it from the next
 * segment, whose first page continues it (XLP_FIRST_IS_CONTRECORD,
 * xlp_rem_len): the joined record is checked (lengths, CRC) and reported by
 * that next segment, at its own start LSN, which is in the segment before.
 * Longer cut records (large commit records) stay unreported; the next
 * segment's scan skips its part of any cut record.
 */
#ifndef CEL_WALREC_H
#define CEL_WALREC_H

#include "error.h"

/* PostgreSQL's NAMEDATALEN: a restore point name is at most 63 bytes. */
#define WALREC_NAME_MAX 64
/* Seconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC). */
#define WALREC_PG_EPOCH 946684800

struct walrec_point {
    char name[WALREC_NAME_MAX]; /* NUL-terminated (PostgreSQL's own terminator) */
    uint64_t lsn;               /* where the record starts */
    double time;                /* Unix epoch seconds, microsecond precision */
    uint32_t tli;               /* the timeline of the page the record starts on */
};

/* Longest cut record carried into the next segment: a restore point is 98
 * bytes (101 with a replication origin), a commit a few hundred. */
#define WALREC_CUT_MAX 1024

/* The first bytes of a record cut by the end of its segment. */
struct walrec_cut {
    uint64_t lsn;      /* where the record starts */
    uint64_t next_lsn; /* where it continues: the end of its segment */
    uint32_t tli;      /* the timeline of the page it starts on */
    size_t len;        /* bytes held, 1 to WALREC_CUT_MAX - 1 */
    unsigned char bytes[WALREC_CUT_MAX];
};

struct walrec_summary {
    uint64_t segsize;    /* from the long page header */
    uint64_t start_lsn;  /* the segment's first byte */
    size_t n_commits;    /* commit records found */
    double first_commit; /* Unix epoch seconds; 0 when n_commits == 0 */
    double last_commit;
    struct walrec_point *points; /* restore points in WAL order (caller frees) */
    size_t n_points;
    bool truncated;         /* the scan stopped at garbage rather than at the end */
    uint32_t cont_len;      /* the first page continues a record: xlp_rem_len, else 0 */
    struct walrec_cut *cut; /* a record of possible interest cut at the end, or NULL */
};

/* Scan the len bytes of one WAL segment (or .partial), fully decompressed,
 * into *out (zeroed first; free with walrec_summary_free, also after a
 * failure). Returns 0, also when the scan stopped early at garbage
 * (out->truncated tells); -CEL_E_FORMAT only when the first page is not a
 * WAL segment's (too short, bad magic, no long header, bad sizes), with the
 * reason. Never blocks, never reads outside buf. */
int walrec_scan(const unsigned char *buf, size_t len, struct walrec_summary *out,
                struct cel_err *err);
void walrec_summary_free(struct walrec_summary *s);

/* Complete the record prev began with the continuation that the segment in
 * buf (len bytes, as walrec_scan) starts with, and note it in out (the
 * summary of that segment: a restore point goes first, a commit time counts
 * as its first). Returns whether a record was completed and checked (its
 * CRC matches), whatever it was; false when buf does not continue prev
 * (another LSN, lengths that do not add up) or is garbage. Never reads
 * outside buf. */
bool walrec_join(const struct walrec_cut *prev, const unsigned char *buf, size_t len,
                 struct walrec_summary *out);

/* CRC-32C (Castagnoli, reflected, as PostgreSQL's pg_crc32c): start with
 * crc = 0xFFFFFFFF, feed pieces, and finish with ~crc. */
uint32_t walrec_crc32c(uint32_t crc, const unsigned char *p, size_t n);

#endif
