/*
 * xlogdb_walinfo.c - the WAL of each backup as Barman's get_wal_info
 * counts it (xdb_backup_wal_info), from a loaded index or in one streaming
 * pass over the file (xdb_scan_wal_info).
 *
 * The streaming pass is what list-backup uses: on an archive of a million
 * segments, loading the index costs ~150 MiB and most of a second, for
 * sums that need one line at a time. It reads the file in 1 MiB chunks and
 * keeps no entry. A backup's range is [begin_wal, the next backup's
 * end_wal]: ranges follow one another, so for each line the backups whose
 * range holds it are found by a binary search on begin_wal and a short
 * walk back. Whatever the pass cannot answer exactly as the loaded way
 * would (a last line cut short, which the loaded way repairs; a line that
 * does not parse, which it reports; ranges out of order) makes it give up,
 * and the caller loads the index: the answers and the messages stay the
 * loaded way's.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "lock.h"
#include "xlogdb.h"
#include "xlogdb_int.h"

#define SCAN_CHUNK ((size_t)1 << 20)

/* Where entry e (segment w) falls for backup b (begin its begin_wal,
 * parsed), whose range ends at next_end_wal (NULL: no end). */
enum fall { FALL_NONE, FALL_WAL, FALL_UNTIL_NEXT, FALL_AFTER };

static enum fall fall_of(const struct xdb_entry *e, const struct wal_name *w,
                         const struct cat_backup *b, const struct wal_name *begin,
                         const char *next_end_wal)
{
    if (w->kind != WAL_KIND_SEGMENT || w->tli > begin->tli)
        return FALL_NONE;
    if (next_end_wal && strcmp(e->name, next_end_wal) > 0)
        return FALL_AFTER;
    return strcmp(e->name, b->end_wal) <= 0 ? FALL_WAL : FALL_UNTIL_NEXT;
}

/* Count e into out. */
static void count(struct xdb_wal_info *out, const struct cat_backup *b, const struct xdb_entry *e,
                  enum fall f)
{
    if (strcmp(e->name, b->begin_wal) == 0) {
        out->first = e->name;
        out->first_time = e->time;
    }
    if (f == FALL_WAL) {
        out->wal_num++;
        out->wal_size += e->size;
    } else {
        out->until_next_num++;
        out->until_next_size += e->size;
    }
}

/* The rate and ratios, once the counts are in. */
static void finish(struct xdb_wal_info *out, const struct cat_backup *b)
{
    if (!out->first || !out->last)
        return;
    double seconds = out->last_time - out->first_time;
    if (seconds > 0)
        out->wals_per_second = (double)(out->wal_num + out->until_next_num) / seconds;
    double segsize = b->xlog_segment_size.set ? (double)b->xlog_segment_size.v : 16777216.0;
    if (out->wal_num)
        out->compression_ratio = 1.0 - (double)out->wal_size / ((double)out->wal_num * segsize);
    if (out->until_next_num)
        out->until_next_compression_ratio =
            1.0 - (double)out->until_next_size / ((double)out->until_next_num * segsize);
}

void xdb_backup_wal_info(const struct xdb *db, const struct cat_backup *b,
                         const char *next_end_wal, struct xdb_wal_info *out)
{
    memset(out, 0, sizeof *out);
    if (!b->begin_wal || !b->end_wal)
        return;
    struct wal_name begin;
    if (wal_name_parse(b->begin_wal, &begin, NULL) < 0)
        return;
    for (size_t i = xdb_lower_bound(db, b->begin_wal); i < db->n; i++) {
        const struct xdb_entry *e = &db->entries[i];
        struct wal_name w;
        if (wal_name_parse(e->name, &w, NULL) < 0)
            continue;
        enum fall f = fall_of(e, &w, b, &begin, next_end_wal);
        if (f == FALL_AFTER)
            break; /* sorted: every later name is after too */
        if (f == FALL_NONE)
            continue;
        count(out, b, e, f);
        out->last = e->name;
        out->last_time = e->time;
    }
    finish(out, b);
}

/* ---- the streaming pass ------------------------------------------------------------ */

struct scan {
    struct xdb_wal_scan *scans;
    size_t *ord;  /* indexes into scans of the backups with a range, by begin_wal */
    size_t n_ord;
    struct wal_name *begin; /* begin[k]: scans[ord[k]].b->begin_wal parsed */
};

static int cmp_begin(const void *a, const void *b, void *scans)
{
    const struct xdb_wal_scan *s = scans;
    return strcmp(s[*(const size_t *)a].b->begin_wal, s[*(const size_t *)b].b->begin_wal);
}

/* Order the backups that have a range by begin_wal; false when their ranges'
 * ends are not in the same order (then a line's backups are not found by
 * one walk back) or a range without an end is not the last. */
static bool order_ranges(struct scan *sc, size_t n)
{
    sc->ord = cel_xcalloc(n + 1, sizeof *sc->ord);
    sc->begin = cel_xcalloc(n + 1, sizeof *sc->begin);
    for (size_t i = 0; i < n; i++) {
        const struct cat_backup *b = sc->scans[i].b;
        struct wal_name w;
        if (b->begin_wal && b->end_wal && wal_name_parse(b->begin_wal, &w, NULL) == 0)
            sc->ord[sc->n_ord++] = i;
    }
    qsort_r(sc->ord, sc->n_ord, sizeof *sc->ord, cmp_begin, sc->scans);
    for (size_t k = 0; k < sc->n_ord; k++) {
        const struct xdb_wal_scan *s = &sc->scans[sc->ord[k]];
        (void)wal_name_parse(s->b->begin_wal, &sc->begin[k], NULL);
        if (k + 1 == sc->n_ord)
            break;
        const char *end = s->next_end_wal, *next = sc->scans[sc->ord[k + 1]].next_end_wal;
        if (!end || (next && strcmp(end, next) > 0))
            return false;
    }
    return true;
}

/* Count one line's entry (segment w) into every backup whose range holds it. */
static void scan_entry(struct scan *sc, const struct xdb_entry *e, const struct wal_name *w)
{
    if (w->kind != WAL_KIND_SEGMENT)
        return;
    /* hi: the number of backups whose begin_wal <= e->name */
    size_t lo = 0, hi = sc->n_ord;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sc->scans[sc->ord[mid]].b->begin_wal, e->name) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k-- > 0;) {
        struct xdb_wal_scan *s = &sc->scans[sc->ord[k]];
        enum fall f = fall_of(e, w, s->b, &sc->begin[k], s->next_end_wal);
        if (f == FALL_AFTER)
            break; /* the ranges before end earlier still */
        if (f == FALL_NONE)
            continue;
        count(&s->info, s->b, e, f);
        if (s->info.first == e->name) { /* e is gone after this line: keep its name */
            memcpy(s->first, e->name, sizeof s->first);
            s->info.first = s->first;
        }
        if (!s->info.last || strcmp(e->name, s->last) >= 0) {
            memcpy(s->last, e->name, sizeof s->last);
            s->info.last = s->last;
            s->info.last_time = e->time;
        }
    }
}

/* Read path in chunks, each whole line through scan_entry. false on
 * anything the loaded way would handle differently. */
static bool scan_file(struct scan *sc, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT; /* nothing archived yet: every count 0 */
    char *buf = cel_xmalloc(SCAN_CHUNK);
    size_t have = 0;
    int lineno = 0;
    bool ok = true;
    for (;;) {
        ssize_t got = read(fd, buf + have, SCAN_CHUNK - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            ok = false;
            break;
        }
        if (got == 0) {
            ok = have == 0; /* a last line without its newline: cut short */
            break;
        }
        have += (size_t)got;
        const char *s = buf, *end = buf + have, *nl;
        while (ok && (nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
            struct xdb_entry e;
            struct wal_name w;
            struct cel_err ignored = {0};
            ok = xdb_parse_line(s, nl, path, ++lineno, &e, &w, &ignored) == 0;
            if (ok)
                scan_entry(sc, &e, &w);
            s = nl + 1;
        }
        if (!ok)
            break;
        have = (size_t)(end - s);
        if (have == SCAN_CHUNK) { /* a line longer than a chunk: not xlog.db's */
            ok = false;
            break;
        }
        memmove(buf, s, have);
    }
    free(buf);
    close(fd);
    return ok;
}

bool xdb_scan_wal_info(const struct xdb_home *h, struct xdb_wal_scan *scans, size_t n)
{
    struct scan sc = {.scans = scans};
    for (size_t i = 0; i < n; i++) {
        memset(&scans[i].info, 0, sizeof scans[i].info);
        scans[i].first[0] = scans[i].last[0] = '\0';
    }
    bool ok = order_ranges(&sc, n);
    /* with no backup to count for, only a cut last line sends the caller
     * to the loaded way (which repairs it, as every reader does) */
    if (ok && !sc.n_ord)
        ok = !xdb_is_cut(h);
    if (ok && sc.n_ord && xdb_exists(h)) {
        struct lock *l = NULL;
        struct xdb_place place = {0};
        struct cel_err ignored = {0};
        ok = xdb_lock(h->lock_dir, h->server, &l, &ignored) == 0;
        /* as the loaded way: a home due a migration is migrated first */
        ok = ok && xdb_migrate(h, &ignored) == 0 && xdb_place(h, &place, &ignored) == 0;
        ok = ok && scan_file(&sc, place.path);
        if (place.path)
            xdb_place_free(&place);
        if (l)
            lock_release(l);
    }
    for (size_t k = 0; ok && k < sc.n_ord; k++)
        finish(&scans[sc.ord[k]].info, scans[sc.ord[k]].b);
    free(sc.ord);
    free(sc.begin);
    return ok;
}
