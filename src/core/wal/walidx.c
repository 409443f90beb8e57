/*
 * walidx.c - the recovery-target index beside xlog.db (format in walidx.h).
 *
 * Parsing is strict, line by line: a line we cannot read is an error for
 * the whole file (the caller then rebuilds it from the archive, which is
 * always possible), never a guess. Segments are kept sorted so lookups are
 * binary searches; points follow their segments, so putting a segment again
 * removes its old points first.
 */
#include <errno.h>
#include <inttypes.h>

#include "storage.h"
#include "walidx.h"

#define WIDX_HEADER "# cellar recovery targets 1"
#define WIDX_TAIL "#T\t" /* a comment to readers before tail lines */
/* as xlog.db's cap: the index has a line per segment too, a little longer */
#define WIDX_MAX ((size_t)1 << 31)

static int cmp_seg(const void *a, const void *b)
{
    return strcmp(((const struct widx_segment *)a)->name, ((const struct widx_segment *)b)->name);
}

const struct widx_segment *widx_find(const struct widx *idx, const char *segment)
{
    struct widx_segment key;
    if (cel_strlcpy(key.name, segment, sizeof key.name) >= sizeof key.name || !idx->n)
        return NULL;
    return bsearch(&key, idx->segs, idx->n, sizeof *idx->segs, cmp_seg);
}

/* Remove the points of segment. */
static void drop_points(struct widx *idx, const char *segment)
{
    size_t k = 0;
    for (size_t i = 0; i < idx->n_points; i++)
        if (strcmp(idx->points[i].segment, segment) != 0)
            idx->points[k++] = idx->points[i];
    idx->n_points = k;
}

static void add_point(struct widx *idx, const struct widx_point *p)
{
    idx->points = cel_xrealloc_array(idx->points, idx->n_points + 1, sizeof *idx->points);
    /* keep segment order: insert after the last point of a segment <= p's */
    size_t at = idx->n_points;
    while (at > 0 && strcmp(idx->points[at - 1].segment, p->segment) > 0)
        at--;
    memmove(&idx->points[at + 1], &idx->points[at], (idx->n_points - at) * sizeof *idx->points);
    idx->points[at] = *p;
    idx->n_points++;
}

/* The entry for name, created (in order) when missing. */
static struct widx_segment *put_segment(struct widx *idx, const char *name)
{
    size_t lo = 0, hi = idx->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(idx->segs[mid].name, name);
        if (c == 0)
            return &idx->segs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    idx->segs = cel_xrealloc_array(idx->segs, idx->n + 1, sizeof *idx->segs);
    memmove(&idx->segs[lo + 1], &idx->segs[lo], (idx->n - lo) * sizeof *idx->segs);
    memset(&idx->segs[lo], 0, sizeof *idx->segs);
    cel_strlcpy(idx->segs[lo].name, name, sizeof idx->segs[lo].name);
    idx->n++;
    return &idx->segs[lo];
}

/* The timeline a restore point is reached on: the segment file's that
 * holds it, not the one its page header names. A promotion's first segment
 * starts as a copy of the parent timeline's pages (headers and all), and
 * what is written after the switch goes on those pages too, so a point made
 * on the new timeline can sit on a page that says the old one. */
static uint32_t point_tli(const char *segment, const struct walrec_point *p)
{
    struct wal_name w;
    return wal_name_parse(segment, &w, NULL) == 0 ? w.tli : p->tli;
}

static void set_cut(struct widx_segment *e, const struct walrec_cut *cut)
{
    free(e->cut);
    e->cut = NULL;
    if (cut) {
        e->cut = cel_xmalloc(sizeof *e->cut);
        *e->cut = *cut;
    }
}

const struct walrec_cut *widx_cut_before(const struct widx *idx, const char *segment)
{
    size_t lo = 0, hi = idx->n;
    while (lo < hi) { /* the first entry >= segment */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(idx->segs[mid].name, segment) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo-- > 0) /* skip .partial files: a whole segment comes before them */
        if (strlen(idx->segs[lo].name) == 24)
            return idx->segs[lo].cut;
    return NULL;
}

void widx_put(struct widx *idx, const char *segment, const struct walrec_summary *s)
{
    struct widx_segment *e = put_segment(idx, segment);
    set_cut(e, s->cut);
    e->n_commits = s->n_commits;
    e->first_commit = s->first_commit;
    e->last_commit = s->last_commit;
    drop_points(idx, segment);
    for (size_t i = 0; i < s->n_points; i++) {
        struct widx_point p = {.lsn = s->points[i].lsn,
                               .time = s->points[i].time,
                               .tli = point_tli(segment, &s->points[i])};
        cel_strlcpy(p.segment, segment, sizeof p.segment);
        cel_strlcpy(p.name, s->points[i].name, sizeof p.name);
        add_point(idx, &p);
    }
}

size_t widx_keep_only(struct widx *idx, const struct xdb *xdb)
{
    size_t k = 0, dropped = 0;
    for (size_t i = 0; i < idx->n; i++) {
        if (xdb_find(xdb, idx->segs[i].name)) {
            idx->segs[k++] = idx->segs[i];
            continue;
        }
        drop_points(idx, idx->segs[i].name);
        set_cut(&idx->segs[i], NULL);
        dropped++;
    }
    idx->n = k;
    return dropped;
}

size_t widx_points_named(const struct widx *idx, const char *name, size_t **out)
{
    size_t n = 0;
    *out = NULL;
    for (size_t i = 0; i < idx->n_points; i++) {
        if (strcmp(idx->points[i].name, name) != 0)
            continue;
        *out = cel_xrealloc_array(*out, n + 1, sizeof **out);
        (*out)[n++] = i;
    }
    return n;
}

void widx_free(struct widx *idx)
{
    for (size_t i = 0; i < idx->n; i++)
        free(idx->segs[i].cut);
    free(idx->segs);
    free(idx->points);
    memset(idx, 0, sizeof *idx);
}

/* ---- text ------------------------------------------------------------------- */

static bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == 0x7F || c == '%';
}

static void put_name(struct strbuf *out, const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (needs_escape(*p))
            sb_appendf(out, "%%%02X", *p);
        else
            sb_appendc(out, (char)*p);
    }
}

static void put_segment_line(struct strbuf *out, const char *name, uint64_t commits, double first,
                             double last)
{
    sb_appendf(out, "S\t%s\t%" PRIu64 "\t%.6f\t%.6f\n", name, commits, first, last);
}

static void put_point_line(struct strbuf *out, const char *segment, uint64_t lsn, double time,
                           uint32_t tli, const char *name)
{
    char at[WAL_LSN_MAX];
    wal_lsn_format(lsn, at);
    sb_appendf(out, "P\t%s\t%s\t%.6f\t%" PRIu32 "\t", segment, at, time, tli);
    put_name(out, name);
    sb_appendc(out, '\n');
}

static void put_tail_line(struct strbuf *out, const char *segment, const struct walrec_cut *c)
{
    char at[WAL_LSN_MAX], next[WAL_LSN_MAX];
    wal_lsn_format(c->lsn, at);
    wal_lsn_format(c->next_lsn, next);
    sb_appendf(out, WIDX_TAIL "%s\t%s\t%s\t%" PRIu32 "\t", segment, at, next, c->tli);
    for (size_t i = 0; i < c->len; i++)
        sb_appendf(out, "%02x", c->bytes[i]);
    sb_appendc(out, '\n');
}

void widx_format(const struct widx *idx, struct strbuf *out)
{
    sb_append(out, WIDX_HEADER "\n");
    size_t p = 0;
    for (size_t i = 0; i < idx->n; i++) {
        const struct widx_segment *s = &idx->segs[i];
        put_segment_line(out, s->name, s->n_commits, s->first_commit, s->last_commit);
        while (p < idx->n_points && strcmp(idx->points[p].segment, s->name) < 0)
            p++; /* a point without its segment: not written */
        for (; p < idx->n_points && strcmp(idx->points[p].segment, s->name) == 0; p++) {
            const struct widx_point *pt = &idx->points[p];
            put_point_line(out, pt->segment, pt->lsn, pt->time, pt->tli, pt->name);
        }
        if (s->cut)
            put_tail_line(out, s->name, s->cut);
    }
}

int widx_append(const char *wals_dir, const char *const *segments,
                const struct walrec_summary *sums, size_t n, struct cel_err *err)
{
    char *path = cel_xasprintf("%s/" WIDX_FILE, wals_dir);
    struct strbuf text = {0};
    if (!stor_exists(path))
        sb_append(&text, WIDX_HEADER "\n");
    for (size_t i = 0; i < n; i++) {
        const struct walrec_summary *s = &sums[i];
        put_segment_line(&text, segments[i], s->n_commits, s->first_commit, s->last_commit);
        for (size_t k = 0; k < s->n_points; k++)
            put_point_line(&text, segments[i], s->points[k].lsn, s->points[k].time,
                           point_tli(segments[i], &s->points[k]), s->points[k].name);
        if (s->cut)
            put_tail_line(&text, segments[i], s->cut);
    }
    int rc = n ? stor_append_file(path, text.buf, text.len, err) : 0;
    sb_free(&text);
    free(path);
    return rc;
}

/* Decode an escaped name into out; false when malformed or too long. */
static bool get_name(const char *s, char out[WALREC_NAME_MAX])
{
    size_t n = 0;
    for (; *s; s++) {
        char c = *s;
        if (c == '%') {
            int hi = cel_hex_digit(s[1]), lo = hi < 0 ? -1 : cel_hex_digit(s[2]);
            if (lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            s += 2;
        } else if (needs_escape((unsigned char)c)) {
            return false;
        }
        if (c == '\0' || n + 1 >= WALREC_NAME_MAX)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n > 0;
}

static bool segment_name(const char *s)
{
    struct wal_name w;
    return strlen(s) < WAL_NAME_MAX && wal_name_parse(s, &w, NULL) == 0 &&
           (w.kind == WAL_KIND_SEGMENT || w.kind == WAL_KIND_PARTIAL);
}

/* Split line (modified) at tabs into at most max fields; the count. */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max + 1; p++)
        if (*p == '\t') {
            *p = '\0';
            if (n == max)
                return max + 1; /* too many */
            f[n++] = p + 1;
        }
    return n;
}

/* "#T" segment, start, next, timeline, hex: the cut record of the segment. */
static bool parse_tail(char *line, struct widx *idx)
{
    char *f[6];
    struct walrec_cut c = {0};
    uint64_t tli;
    if (split(line, f, 6) != 6 || !segment_name(f[1]) || wal_lsn_parse(f[2], &c.lsn, NULL) < 0 ||
        wal_lsn_parse(f[3], &c.next_lsn, NULL) < 0 || c.lsn >= c.next_lsn || !cel_parse_u64(f[4], &tli) ||
        tli == 0 || tli > UINT32_MAX)
        return false;
    c.tli = (uint32_t)tli;
    size_t hex = strlen(f[5]);
    if (hex == 0 || hex % 2 || hex / 2 >= WALREC_CUT_MAX)
        return false;
    for (size_t i = 0; i < hex; i += 2) {
        int hi = cel_hex_digit(f[5][i]), lo = cel_hex_digit(f[5][i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        c.bytes[c.len++] = (unsigned char)(hi * 16 + lo);
    }
    if (!widx_find(idx, f[1]))
        return false; /* no S line before it */
    struct widx_segment *e = put_segment(idx, f[1]);
    if (e->cut)
        return false; /* a second tail */
    set_cut(e, &c);
    return true;
}

static bool parse_line(char *line, struct widx *idx)
{
    char *f[6];
    size_t n = split(line, f, 6);
    if (n == 5 && strcmp(f[0], "S") == 0) {
        uint64_t commits;
        double first, last;
        if (!segment_name(f[1]) || !cel_parse_u64(f[2], &commits) || !cel_parse_epoch(f[3], &first) ||
            !cel_parse_epoch(f[4], &last))
            return false;
        drop_points(idx, f[1]); /* read again: this line replaces the earlier one */
        struct widx_segment *e = put_segment(idx, f[1]);
        set_cut(e, NULL);
        e->n_commits = commits;
        e->first_commit = first;
        e->last_commit = last;
        return true;
    }
    if (n == 6 && strcmp(f[0], "P") == 0) {
        struct widx_point p = {0};
        uint64_t tli;
        if (!segment_name(f[1]) || !widx_find(idx, f[1]) || wal_lsn_parse(f[2], &p.lsn, NULL) < 0 ||
            !cel_parse_epoch(f[3], &p.time) || !cel_parse_u64(f[4], &tli) || tli == 0 || tli > UINT32_MAX ||
            !get_name(f[5], p.name))
            return false;
        p.tli = (uint32_t)tli;
        cel_strlcpy(p.segment, f[1], sizeof p.segment);
        add_point(idx, &p);
        return true;
    }
    return false;
}

int widx_parse(const char *text, size_t len, struct widx *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    if (memchr(text, '\0', len))
        return cel_err_set(err, CEL_E_FORMAT, "contains a NUL byte");
    char *copy = cel_xstrndup(text, len);
    int rc = 0, lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (strncmp(line, WIDX_TAIL, strlen(WIDX_TAIL)) == 0) {
            if (!parse_tail(line, out)) {
                rc = cel_err_set(err, CEL_E_FORMAT, "line %d is not understood", lineno);
                break;
            }
            continue;
        }
        if (line[0] == '#')
            continue;
        if (!parse_line(line, out)) {
            rc = cel_err_set(err, CEL_E_FORMAT, "line %d is not understood", lineno);
            break;
        }
    }
    free(copy);
    if (rc < 0)
        widx_free(out);
    return rc;
}

int widx_read(const char *wals_dir, struct widx *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    char *path = cel_xasprintf("%s/" WIDX_FILE, wals_dir);
    char *text = NULL;
    size_t len = 0;
    struct cel_err why = {0};
    int rc = stor_read_file(path, WIDX_MAX, &text, &len, &why);
    if (rc == -CEL_E_NOT_FOUND) {
        rc = 0;
    } else if (rc < 0) {
        rc = cel_err_set(err, -rc, "%s", why.msg);
    } else if ((rc = widx_parse(text, len, out, &why)) < 0) {
        rc = cel_err_set(err, CEL_E_FORMAT, "'%s': %s", path, why.msg);
        cel_err_hint(err, "cellar rebuild-xlogdb rebuilds it from the archive.");
    }
    free(text);
    free(path);
    return rc;
}

int widx_write(const char *wals_dir, const struct widx *idx, struct cel_err *err)
{
    struct strbuf text = {0};
    widx_format(idx, &text);
    char *path = cel_xasprintf("%s/" WIDX_FILE, wals_dir);
    int rc = stor_write_file(path, sb_str(&text), text.len, 0600, err);
    free(path);
    sb_free(&text);
    return rc;
}
