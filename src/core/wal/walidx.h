/*
 * walidx.h - the archive's index of recovery targets: for each archived
 * segment read, its named restore points and its first and last commit
 * times (walrec.h), kept in wals/xlog.db.cellar-targets beside xlog.db.
 *
 * The name starts with "xlog.db" on purpose: Barman's rebuild-xlogdb skips
 * every name with that prefix in wals/ (it also takes its own lock file for
 * one of them), and reads nothing else from the top of wals/ but history
 * files, so a Barman working on the same home never sees the file; cellar's
 * rebuild-xlogdb skips it for the same reason. Barman does not maintain
 * it: segments it archives are missing from the index until cellar reads
 * them (op_targets_load, "built on first need").
 *
 * Text, one line per item, fields separated by tabs:
 *     # cellar recovery targets 1
 *     S <segment> <commits> <first commit> <last commit>
 *     P <segment> <LSN X/X> <time> <timeline> <name>
 * times in Unix epoch seconds with 6 decimals (0 when there is none), name
 * last with '%', tab, newline, other control bytes and DEL as %XX. A P line
 * belongs to the S line of its segment before it: dropping a segment
 * drops its points, and a later S line for the same segment (appended when
 * it is read again) replaces the earlier one and its points.
 *
 * A segment that ends inside a record of possible interest (walrec.h, a
 * restore point made as the segment filled) also has a tail line, with the
 * record's start, where it continues, its timeline and its first bytes in
 * lower-case hex:
 *     #T <segment> <LSN X/X> <LSN X/X> <timeline> <hex>
 * The next segment, read later (the next archive-wal batch), completes the
 * record from it and reports it as its own P line (its LSN is in the
 * segment before). The line starts with '#' so that older cellar readers,
 * which skip comment lines, still read the file; it belongs to the S line
 * before it as P lines do, and is at most one per segment. Written
 * durably (storage.h), appended or rewritten, by whoever holds the
 * server's xlogdb lock.
 */
#ifndef CEL_WALIDX_H
#define CEL_WALIDX_H

#include "strbuf.h"
#include "wal.h"
#include "walrec.h"
#include "xlogdb.h"

#define WIDX_FILE "xlog.db.cellar-targets"

struct widx_segment {
    char name[WAL_NAME_MAX];
    uint64_t n_commits;
    double first_commit, last_commit; /* 0 when n_commits == 0 */
    struct walrec_cut *cut;           /* the record it ends inside of, or NULL */
};

struct widx_point {
    char segment[WAL_NAME_MAX];
    char name[WALREC_NAME_MAX];
    uint64_t lsn;
    double time;
    uint32_t tli;
};

struct widx {
    struct widx_segment *segs; /* sorted by name */
    size_t n;
    struct widx_point *points; /* in segment order, then WAL order */
    size_t n_points;
};

/* Parse the file's text. -CEL_E_FORMAT naming the line (a bad field, a
 * name that is not a segment's, a point of a segment without its S line
 * before it) on garbage; *out is then empty. Free with widx_free. */
int widx_parse(const char *text, size_t len, struct widx *out, struct cel_err *err);
/* The text of idx, appended to out. */
void widx_format(const struct widx *idx, struct strbuf *out);
/* Read wals_dir/WIDX_FILE: a missing file is an empty index (0);
 * -CEL_E_FORMAT (as widx_parse, naming the file) or -CEL_E_IO. */
int widx_read(const char *wals_dir, struct widx *out, struct cel_err *err);
/* Append what each of the n segments holds (segments[i], sums[i]) to
 * wals_dir/WIDX_FILE (stor_append_file: the index of a large archive is
 * never rewritten for a few new segments), with the header line first when
 * the file is new. An S line for a segment already in the file replaces
 * what the file said of it. -CEL_E_IO. */
int widx_append(const char *wals_dir, const char *const *segments,
                const struct walrec_summary *sums, size_t n, struct cel_err *err);
/* Write idx to wals_dir/WIDX_FILE durably. -CEL_E_IO. */
int widx_write(const char *wals_dir, const struct widx *idx, struct cel_err *err);
void widx_free(struct widx *idx);

/* The segment's entry, NULL when it has not been read. */
const struct widx_segment *widx_find(const struct widx *idx, const char *segment);
/* The cut record of the segment indexed just before segment (name order,
 * whole segments only), NULL when it has none: what walrec_join may
 * complete from segment's start (it checks that it does continue there). */
const struct walrec_cut *widx_cut_before(const struct widx *idx, const char *segment);
/* Record what segment holds (replacing what was recorded for it). */
void widx_put(struct widx *idx, const char *segment, const struct walrec_summary *s);
/* Drop every segment (and its points) that xdb does not list: purged WAL.
 * Returns how many were dropped. */
size_t widx_keep_only(struct widx *idx, const struct xdb *xdb);

/* The restore points called name, in WAL order: indexes into idx->points
 * through *out (caller frees), their count returned. */
size_t widx_points_named(const struct widx *idx, const char *name, size_t **out);

#endif
