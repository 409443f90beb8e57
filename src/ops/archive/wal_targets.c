/*
 * wal_targets.c - keeping the archive's recovery-target index (walidx.h)
 * up to date: what each archived segment holds (restore points, commit
 * times), read once per segment.
 *
 * Three ways in. archive-wal reads each segment it archives from the plain
 * file in incoming/ before removing it (op_targets_note_archived), so the
 * index grows with the archive at the cost of one pass over bytes already
 * in the page cache. rebuild-xlogdb reads every archived segment again
 * (op_targets_refresh, from scratch). Everything else that needs the index
 * (recover --target-name, the wizard) calls op_targets_load, which reads
 * the segments the index does not know yet (a Barman home, or segments
 * Barman archived) from the archive, decompressed, and saves the result:
 * the index is built on first need. Every change is made holding the
 * server's xlogdb lock, the lock of xlog.db that the index follows; a
 * failure to save it is a warning, never a failed archive or recovery.
 *
 * A record cut by the end of a segment (walrec.h) is completed when the
 * next segment is read: from the segment before it in the same
 * archive-wal batch, else from the tail the index keeps for it
 * (widx_cut_before). When a segment with a cut record is read after the
 * segment that continues it (the index lacked it: Barman archived it, or
 * the index was lost), that next segment is read again, so the order in
 * which segments reach the index does not matter.
 */
#include "lock.h"
#include "ops.h"
#include "server.h"
#include "storage.h"
#include "wal_archive.h"
#include "walidx.h"

/* The biggest segment PostgreSQL writes (1 GiB) and some slack. */
#define SEGMENT_MAX ((size_t)1 << 30)

static bool indexable(const char *name)
{
    struct wal_name w;
    return wal_name_parse(name, &w, NULL) == 0 &&
           (w.kind == WAL_KIND_SEGMENT || w.kind == WAL_KIND_PARTIAL);
}

/* Where the previous segment's cut record comes from, for scan(). */
struct prev_cut {
    const struct walrec_cut *cut; /* known already (same batch, the index in memory) */
    const char *wals_dir;         /* else read the index there, once, when needed */
    struct widx idx;
    bool loaded;
};

/* The cut record the segment name continues, if any is known. */
static const struct walrec_cut *find_prev(struct prev_cut *prev, const char *name)
{
    if (prev->cut || !prev->wals_dir)
        return prev->cut;
    if (!prev->loaded && widx_read(prev->wals_dir, &prev->idx, NULL) < 0)
        widx_free(&prev->idx); /* rebuilt by the next refresh */
    prev->loaded = true;
    return widx_cut_before(&prev->idx, name);
}

/* Scan buf (the segment name, read from where) into out, completing the
 * record the previous segment's cut began (walrec_join). */
static int scan(const char *where, const char *name, const unsigned char *buf, size_t len,
                struct prev_cut *prev, struct walrec_summary *out, struct cel_err *err)
{
    struct cel_err why = {0};
    if (walrec_scan(buf, len, out, &why) < 0)
        return cel_err_set(err, CEL_E_FORMAT, "'%s': %s", where, why.msg);
    /* cont_len: nothing begun before, or too long to have been kept */
    if (out->cont_len && out->cont_len < WALREC_CUT_MAX) {
        const struct walrec_cut *cut = find_prev(prev, name);
        if (cut)
            walrec_join(cut, buf, len, out);
    }
    /* each point's timeline is its file's: widx_put and widx_append
     * (point_tli) take it from the segment name */
    return 0;
}

/* Scan the plain WAL file at path. */
static int scan_plain(const char *path, const char *name, struct prev_cut *prev,
                      struct walrec_summary *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    char *buf = NULL;
    size_t len = 0;
    int rc = stor_read_file(path, SEGMENT_MAX, &buf, &len, err);
    if (rc == 0)
        rc = scan(path, name, (const unsigned char *)buf, len, prev, out, err);
    free(buf);
    return rc;
}

/* Scan archived file name of s, decompressed. */
static int scan_archived(const struct op_ctx *ctx, const struct cfg_server *s,
                         const struct xdb *xdb, const char *name, struct prev_cut *prev,
                         struct walrec_summary *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = op_wal_read(ctx, s, xdb, name, SEGMENT_MAX, &buf, &len, err);
    if (rc == 0) {
        char *path = op_wal_path(s, name);
        rc = scan(path, name, buf, len, prev, out, err);
        free(path);
    }
    free(buf);
    return rc;
}

int op_targets_refresh(const struct op_ctx *ctx, const struct cfg_server *s, const struct xdb *xdb,
                       bool from_scratch, struct widx *idx, struct cel_err *err)
{
    memset(idx, 0, sizeof *idx);
    struct cel_err rerr = {0};
    if (!from_scratch && widx_read(s->wals_directory, idx, &rerr) < 0) {
        op_log(ctx, LOG_WARNING, s->name, "%s: reading the archive again", rerr.msg);
        widx_free(idx);
    }
    bool changed = widx_keep_only(idx, xdb) > 0 || from_scratch;
    size_t missing = 0;
    for (size_t i = 0; i < xdb->n; i++)
        if (indexable(xdb->entries[i].name) && !widx_find(idx, xdb->entries[i].name))
            missing++;
    if (missing > 1)
        op_phase(ctx, s->name, "targets",
                 "reading %zu archived WAL segments for their restore points and commit times",
                 missing);
    bool reread = false; /* the segment before was just read and ends inside a record */
    for (size_t i = 0; i < xdb->n; i++) {
        const char *name = xdb->entries[i].name;
        if (!indexable(name))
            continue;
        bool known = widx_find(idx, name) != NULL;
        if (known && !reread)
            continue;
        reread = false;
        struct walrec_summary sum;
        struct cel_err serr = {0};
        struct prev_cut prev = {.cut = widx_cut_before(idx, name)};
        if (scan_archived(ctx, s, xdb, name, &prev, &sum, &serr) < 0) {
            /* recorded as read, with nothing in it: the file is what it is,
             * and reading it again each time would not change that */
            op_log(ctx, LOG_WARNING, s->name, "cannot read the records of %s: %s", name, serr.msg);
            walrec_summary_free(&sum);
        } else if (sum.truncated) {
            op_log(ctx, LOG_WARNING, s->name,
                   "%s: records unreadable after %zu restore point%s and %zu commit%s; the rest "
                   "of the segment is ignored",
                   name, sum.n_points, sum.n_points == 1 ? "" : "s", sum.n_commits,
                   sum.n_commits == 1 ? "" : "s");
        }
        reread = sum.cut != NULL;
        widx_put(idx, name, &sum);
        walrec_summary_free(&sum);
        changed = true;
    }
    if (changed) {
        struct cel_err werr = {0};
        if (widx_write(s->wals_directory, idx, &werr) < 0)
            op_log(ctx, LOG_WARNING, s->name, "the recovery-target index was not saved: %s",
                   werr.msg);
    }
    (void)err;
    return 0;
}

int op_targets_load(const struct op_ctx *ctx, const struct cfg_server *s, struct widx *idx,
                    struct cel_err *err)
{
    memset(idx, 0, sizeof *idx);
    struct lock *lock = NULL;
    int rc = xdb_lock(ctx->cfg->global.barman_lock_directory, s->name, &lock, err);
    if (rc < 0)
        return rc;
    struct xdb xdb;
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    rc = xdb_read(&home, &xdb, err);
    if (rc == 0)
        rc = op_targets_refresh(ctx, s, &xdb, false, idx, err);
    xdb_free(&xdb);
    lock_release(lock);
    return rc;
}

void op_targets_note_archived(const struct op_ctx *ctx, const struct cfg_server *s,
                              const char *const *names, const char *const *plain, size_t n)
{
    const char **read = cel_xcalloc(n + 1, sizeof *read);
    struct walrec_summary *sums = cel_xcalloc(n + 1, sizeof *sums);
    size_t k = 0;
    /* the cut record of the segment before: in this batch, else in the index */
    struct prev_cut prev = {0};
    for (size_t i = 0; i < n; i++) {
        if (!indexable(names[i]))
            continue;
        struct cel_err serr = {0};
        prev.cut = k ? sums[k - 1].cut : NULL;
        prev.wals_dir = k ? NULL : s->wals_directory;
        if (scan_plain(plain[i], names[i], &prev, &sums[k], &serr) < 0) {
            op_log(ctx, LOG_WARNING, s->name, "cannot read the records of %s: %s", names[i],
                   serr.msg);
            walrec_summary_free(&sums[k]);
            continue; /* read from the archive on first need */
        }
        read[k++] = names[i];
    }
    /* appended, not rewritten: this runs for every batch archived */
    struct cel_err err = {0};
    if (widx_append(s->wals_directory, read, sums, k, &err) < 0)
        op_log(ctx, LOG_WARNING, s->name, "the recovery-target index was not saved: %s", err.msg);
    for (size_t i = 0; i < k; i++)
        walrec_summary_free(&sums[i]);
    widx_free(&prev.idx);
    free(sums);
    free(read);
}
