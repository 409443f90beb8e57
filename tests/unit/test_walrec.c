/*
 * Unit tests of src/core/wal/walrec.c on synthetic WAL segments.
 *
 * struct seg writes records the way PostgreSQL lays them out: page headers
 * every BLCKSZ bytes (long on the first page), records 8-byte aligned and
 * split across pages with XLP_FIRST_IS_CONTRECORD and xlp_rem_len on the
 * pages they continue onto, each with its CRC-32C. Garbage is then made
 * from good segments (cut anywhere, bytes flipped, random bytes), and every
 * scan runs under ASan/UBSan: it must never read outside the buffer.
 * The buffer holds two segments in a row, so that a record can be written
 * across their boundary as PostgreSQL does (walrec_join).
 */
#include "unit.h"

#include "walrec.h"

#define BLCKSZ 8192u
#define SEGSIZE (1024u * 1024u)
#define SEG_LSN ((uint64_t)3 * SEGSIZE) /* segment 3 */
#define MAGIC_15 0xD110
#define PG_T(sec) ((int64_t)((sec)-WALREC_PG_EPOCH) * 1000000)

struct seg {
    unsigned char buf[2 * SEGSIZE]; /* segment 3, then segment 4 */
    size_t pos;                     /* physical write position */
    uint32_t tli;                   /* written into the page headers */
};

static void put16(unsigned char *p, uint16_t v)
{
    memcpy(p, &v, 2);
}
static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static void put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* The page header at s->pos (which is a page boundary). rem: bytes of a
 * record continued onto this page (0: none). */
static void page_header(struct seg *s, uint32_t rem)
{
    unsigned char *h = s->buf + s->pos;
    bool first = s->pos % SEGSIZE == 0;
    put16(h, MAGIC_15);
    put16(h + 2, (uint16_t)((first ? 0x0002 : 0) | (rem ? 0x0001 : 0)));
    put32(h + 4, s->tli);
    put64(h + 8, SEG_LSN + s->pos);
    put32(h + 16, rem);
    if (first) {
        put64(h + 24, 7401234567890123456ULL);
        put32(h + 32, SEGSIZE);
        put32(h + 36, BLCKSZ);
    }
    s->pos += first ? 40 : 24;
}

static void seg_init(struct seg *s)
{
    memset(s, 0, sizeof *s);
    s->tli = 1;
    page_header(s, 0);
}

/* Write n bytes of a record whose remaining length (these bytes included)
 * is rem, across page boundaries; false when the segment is full. */
static bool put_bytes(struct seg *s, const unsigned char *p, size_t n, size_t rem)
{
    while (n) {
        if (s->pos % BLCKSZ == 0) {
            if (s->pos >= sizeof s->buf)
                return false;
            page_header(s, (uint32_t)rem);
        }
        size_t room = BLCKSZ - s->pos % BLCKSZ, k = n < room ? n : room;
        memcpy(s->buf + s->pos, p, k);
        s->pos += k;
        p += k;
        n -= k;
        rem -= k;
    }
    return true;
}

/* Start the next record on an 8-byte boundary (a new page when the old one
 * is full); its LSN. */
static uint64_t align(struct seg *s)
{
    s->pos = (s->pos + 7) & ~(size_t)7;
    if (s->pos % BLCKSZ == 0)
        page_header(s, 0);
    return SEG_LSN + s->pos;
}

/* A whole record: header + (headers) + (block data) + main data; CRC set.
 * Returns its LSN. */
static uint64_t put_record(struct seg *s, uint8_t rmid, uint8_t info, const unsigned char *hdrs,
                           size_t hdrs_len, size_t block_data, const unsigned char *main,
                           size_t main_len)
{
    size_t tot = 24 + hdrs_len + block_data + main_len;
    unsigned char *rec = calloc(1, tot);
    assert_non_null(rec);
    put32(rec, (uint32_t)tot);
    put32(rec + 4, 742);
    rec[16] = info;
    rec[17] = rmid;
    memcpy(rec + 24, hdrs, hdrs_len);
    memset(rec + 24 + hdrs_len, 0xAB, block_data);
    memcpy(rec + tot - main_len, main, main_len);
    uint32_t crc = walrec_crc32c(0xFFFFFFFFu, rec + 24, tot - 24);
    put32(rec + 20, ~walrec_crc32c(crc, rec, 20));
    uint64_t lsn = align(s);
    assert_true(put_bytes(s, rec, tot, tot));
    free(rec);
    return lsn;
}

/* A restore point record (main data: time, 64-byte name). */
static uint64_t put_restore_point(struct seg *s, const char *name, int64_t pg_us)
{
    unsigned char main[72] = {0}, hdrs[2] = {255, 72};
    memcpy(main, &pg_us, 8);
    memcpy(main + 8, name, strlen(name));
    return put_record(s, 0, 0x70, hdrs, sizeof hdrs, 0, main, sizeof main);
}

/* A commit record, with an origin header and one block reference with a
 * compressed full-page image with a hole (every header kind skipped). */
static uint64_t put_commit(struct seg *s, int64_t pg_us, uint8_t info)
{
    unsigned char main[16] = {0};
    memcpy(main, &pg_us, 8);
    unsigned char hdrs[64];
    size_t n = 0;
    hdrs[n++] = 0;       /* block 0 */
    hdrs[n++] = 0x30;    /* HAS_IMAGE | HAS_DATA, not SAME_REL */
    put16(hdrs + n, 10); /* data_length */
    n += 2;
    put16(hdrs + n, 100); /* image length */
    n += 2;
    put16(hdrs + n, 40); /* hole offset */
    n += 2;
    hdrs[n++] = 0x01 | 0x04; /* HAS_HOLE | COMPRESS_PGLZ */
    put16(hdrs + n, 300);    /* hole length */
    n += 2;
    memset(hdrs + n, 1, 12); /* RelFileNode */
    n += 12;
    put32(hdrs + n, 9); /* BlockNumber */
    n += 4;
    hdrs[n++] = 253; /* origin */
    put16(hdrs + n, 1);
    n += 2;
    hdrs[n++] = 252; /* top-level xid */
    put32(hdrs + n, 741);
    n += 4;
    hdrs[n++] = 255;
    hdrs[n++] = sizeof main;
    return put_record(s, 1, info, hdrs, n, 110, main, sizeof main);
}

/* A record nobody looks at, big enough to cross pages. */
static void put_filler(struct seg *s, size_t main_len)
{
    unsigned char *main = calloc(1, main_len);
    assert_non_null(main);
    unsigned char hdrs[5] = {254};
    put32(hdrs + 1, (uint32_t)main_len);
    put_record(s, 10, 0x00, hdrs, sizeof hdrs, 0, main, main_len);
    free(main);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_walrec_crc32c_known_value(void **state)
{
    (void)state;
    /* the CRC-32C check value of "123456789" (RFC 3720, iSCSI) */
    assert_int_equal(~walrec_crc32c(0xFFFFFFFFu, (const unsigned char *)"123456789", 9),
                     0xE3069283u);
}

static struct seg *good_segment(uint64_t *rp1, uint64_t *rp2)
{
    struct seg *s = calloc(1, sizeof *s);
    assert_non_null(s);
    seg_init(s);
    put_commit(s, PG_T(1764000000), 0x00);
    *rp1 = put_restore_point(s, "before upgrade", PG_T(1764000010));
    put_filler(s, 3 * BLCKSZ + 123);              /* across three page boundaries */
    put_commit(s, PG_T(1764000020), 0x30 | 0x80); /* COMMIT_PREPARED | HAS_INFO */
    /* abort and an XLOG record of another kind: not commits, not points */
    unsigned char abort_main[8] = {0}, hdrs[2] = {255, 8};
    put_record(s, 1, 0x20, hdrs, 2, 0, abort_main, 8);
    put_record(s, 0, 0x10, hdrs, 2, 0, abort_main, 8);
    /* a restore point whose record straddles a page boundary */
    while ((s->pos + 60) % BLCKSZ > 40)
        put_filler(s, 16);
    *rp2 = put_restore_point(s, "x", PG_T(1764000030));
    return s;
}

static void test_walrec_scan_finds_points_and_commits(void **state)
{
    (void)state;
    uint64_t rp1, rp2;
    struct seg *s = good_segment(&rp1, &rp2);
    struct walrec_summary out;
    struct cel_err err = {0};
    assert_int_equal(walrec_scan(s->buf, SEGSIZE, &out, &err), 0);
    assert_false(out.truncated);
    assert_int_equal(out.segsize, SEGSIZE);
    assert_int_equal(out.start_lsn, SEG_LSN);
    assert_int_equal(out.n_commits, 2);
    assert_true(out.first_commit == 1764000000.0);
    assert_true(out.last_commit == 1764000020.0);
    assert_int_equal(out.n_points, 2);
    assert_string_equal(out.points[0].name, "before upgrade");
    assert_int_equal(out.points[0].lsn, rp1);
    assert_true(out.points[0].time == 1764000010.0);
    assert_int_equal(out.points[0].tli, 1);
    assert_string_equal(out.points[1].name, "x");
    assert_int_equal(out.points[1].lsn, rp2);
    assert_true(rp2 / BLCKSZ != (rp2 + 98) / BLCKSZ); /* it did straddle */
    walrec_summary_free(&out);
    assert_null(out.points);
    free(s);
}

static void test_walrec_scan_skips_a_record_from_the_previous_segment(void **state)
{
    (void)state;
    struct seg *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->tli = 2;
    /* 9000 bytes of a record begun in segment 2 continue here, over the
     * first page into the second */
    page_header(s, 9000);
    size_t rem = 9000;
    unsigned char junk[9000];
    memset(junk, 0x55, sizeof junk);
    /* the bytes look like a restore point header: they must not be read as one */
    put_bytes(s, junk, sizeof junk, rem);
    uint64_t lsn = put_restore_point(s, "after the remainder", PG_T(1764000100));
    struct walrec_summary out;
    assert_int_equal(walrec_scan(s->buf, SEGSIZE, &out, NULL), 0);
    assert_false(out.truncated);
    assert_int_equal(out.n_points, 1);
    assert_string_equal(out.points[0].name, "after the remainder");
    assert_int_equal(out.points[0].lsn, lsn);
    assert_int_equal(out.points[0].tli, 2);
    walrec_summary_free(&out);
    free(s);
}

static void test_walrec_scan_ignores_a_bad_crc(void **state)
{
    (void)state;
    struct seg *s = calloc(1, sizeof *s);
    assert_non_null(s);
    seg_init(s);
    uint64_t lsn = put_restore_point(s, "damaged", PG_T(1764000000));
    put_restore_point(s, "fine", PG_T(1764000001));
    s->buf[lsn - SEG_LSN + 24 + 2 + 8] ^= 0x01; /* a bit of the name */
    struct walrec_summary out;
    assert_int_equal(walrec_scan(s->buf, SEGSIZE, &out, NULL), 0);
    assert_int_equal(out.n_points, 1);
    assert_string_equal(out.points[0].name, "fine");
    walrec_summary_free(&out);
    free(s);
}

static void test_walrec_scan_stops_at_a_recycled_page(void **state)
{
    (void)state;
    struct seg *s = calloc(1, sizeof *s);
    assert_non_null(s);
    seg_init(s);
    put_restore_point(s, "new", PG_T(1764000000));
    while (s->pos < BLCKSZ + 100)
        put_filler(s, 500);
    put_filler(s, BLCKSZ); /* onto the third page */
    put_restore_point(s, "old", PG_T(1700000000));
    /* the third page is an old segment's: its address says so */
    put64(s->buf + 2 * BLCKSZ + 8, SEG_LSN - SEGSIZE + 2 * BLCKSZ);
    struct walrec_summary out;
    assert_int_equal(walrec_scan(s->buf, SEGSIZE, &out, NULL), 0);
    assert_false(out.truncated);
    assert_int_equal(out.n_points, 1);
    assert_string_equal(out.points[0].name, "new");
    walrec_summary_free(&out);
    free(s);
}

static void test_walrec_scan_refuses_what_is_no_segment(void **state)
{
    (void)state;
    unsigned char b[64] = {0};
    struct walrec_summary out;
    struct cel_err err = {0};
    assert_int_equal(walrec_scan(b, 39, &out, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "only 39 bytes: too short for a WAL segment");
    assert_int_equal(walrec_scan(b, sizeof b, &out, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "not a WAL segment: bad magic 0x0000");
    put16(b, 0xD07E); /* 9.4 */
    assert_int_equal(walrec_scan(b, sizeof b, &out, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "WAL page magic 0xD07E: written before PostgreSQL 9.5, whose "
                                 "record format is not read");
    put16(b, MAGIC_15);
    assert_int_equal(walrec_scan(b, sizeof b, &out, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "not a WAL segment: the first page has no long header");
    put16(b + 2, 0x0002);
    put32(b + 32, 3000);
    put32(b + 36, BLCKSZ);
    assert_int_equal(walrec_scan(b, sizeof b, &out, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "the header announces 3000-byte segments of 8192-byte pages");
    assert_null(out.points);
}

/* Where the 98 bytes of the record at lsn end in the buffer, page headers
 * crossed included. */
static size_t record_end(uint64_t lsn)
{
    size_t off = (size_t)(lsn - SEG_LSN), left = 98;
    while (left) {
        if (off % BLCKSZ == 0)
            off += 24;
        size_t room = BLCKSZ - off % BLCKSZ, k = left < room ? left : room;
        off += k;
        left -= k;
    }
    return off;
}

/* Every cut of a good segment: no crash, never a point that is not there,
 * and every point whose record fits before the cut. */
static void test_walrec_scan_truncated_anywhere(void **state)
{
    (void)state;
    uint64_t rp1, rp2;
    struct seg *s = good_segment(&rp1, &rp2);
    size_t end = s->pos + 8;
    for (size_t len = 0; len <= end; len += (len < 200 ? 1 : 7)) {
        unsigned char *copy = malloc(len ? len : 1); /* exactly len: ASan sees any overread */
        assert_non_null(copy);
        memcpy(copy, s->buf, len);
        struct walrec_summary out;
        int rc = walrec_scan(copy, len, &out, NULL);
        if (len < 40) {
            assert_int_equal(rc, -CEL_E_FORMAT);
        } else {
            assert_int_equal(rc, 0);
            size_t expect = (size_t)(len >= record_end(rp1)) + (size_t)(len >= record_end(rp2));
            assert_int_equal(out.n_points, expect);
        }
        walrec_summary_free(&out);
        free(copy);
    }
    free(s);
}

/* Flipped bytes and random segments: no crash, no read outside the buffer. */
static void test_walrec_scan_garbage(void **state)
{
    (void)state;
    uint64_t rp1, rp2;
    struct seg *s = good_segment(&rp1, &rp2);
    size_t used = s->pos + 64;
    unsigned char *copy = malloc(used);
    assert_non_null(copy);
    srand(15);
    for (int round = 0; round < 400; round++) {
        memcpy(copy, s->buf, used);
        int flips = 1 + rand() % 8;
        for (int k = 0; k < flips; k++)
            copy[40 + (size_t)rand() % (used - 40)] = (unsigned char)rand();
        struct walrec_summary out;
        assert_int_equal(walrec_scan(copy, used, &out, NULL), 0);
        assert_true(out.n_points <= 2);
        walrec_summary_free(&out);
    }
    for (int round = 0; round < 100; round++) {
        for (size_t i = 0; i < used; i++)
            copy[i] = (unsigned char)rand();
        put16(copy, MAGIC_15); /* past the first checks */
        put16(copy + 2, 0x0002 | (uint16_t)(rand() & 1));
        put32(copy + 32, SEGSIZE);
        put32(copy + 36, BLCKSZ);
        put64(copy + 8, SEG_LSN);
        struct walrec_summary out;
        assert_int_equal(walrec_scan(copy, used, &out, NULL), 0);
        walrec_summary_free(&out);
    }
    free(copy);
    free(s);
}

/* ---- records cut by the end of a segment ------------------------------------ */

/* Where a record of tot bytes starting at the physical offset start ends,
 * page headers crossed included. */
static size_t phys_end(size_t start, size_t tot)
{
    size_t off = start;
    while (tot) {
        if (off % BLCKSZ == 0)
            off += off % SEGSIZE == 0 ? 40 : 24;
        size_t room = BLCKSZ - off % BLCKSZ, k = tot < room ? tot : room;
        off += k;
        tot -= k;
    }
    return off;
}

/* Write fillers so that the next record starts at the physical offset
 * target (8-aligned; a segment's start means its first byte after the
 * long header). */
static void fill_to(struct seg *s, size_t target)
{
    for (;;) {
        size_t a = (s->pos + 7) & ~(size_t)7;
        if (a % BLCKSZ == 0)
            a += a % SEGSIZE == 0 ? 40 : 24;
        assert_true(a <= target);
        if (target - a > 3 * BLCKSZ) {
            put_filler(s, 2 * BLCKSZ);
            continue;
        }
        for (size_t main_len = 0; main_len < 4 * BLCKSZ; main_len++) {
            if (((phys_end(a, 29 + main_len) + 7) & ~(size_t)7) == target) {
                put_filler(s, main_len);
                return;
            }
        }
        put_filler(s, 16); /* no size lands there from here: step on */
    }
}

/* Segments 3 and 4 with the restore point "at the boundary" starting held
 * bytes before the end of segment 3 (0: at the start of segment 4), and
 * "after" in segment 4; the first point's LSN through *lsn. */
static struct seg *split_segments(size_t held, uint64_t *lsn)
{
    struct seg *s = calloc(1, sizeof *s);
    assert_non_null(s);
    seg_init(s);
    put_commit(s, PG_T(1764000000), 0x00);
    fill_to(s, held ? SEGSIZE - held : SEGSIZE);
    *lsn = put_restore_point(s, "at the boundary", PG_T(1764000040));
    put_restore_point(s, "after", PG_T(1764000050));
    return s;
}

/* A restore point record (98 bytes, starting 8-aligned) cut at every place
 * the end of a segment can cut it: inside its header (8, 16 bytes held),
 * right after it (24), inside the main data header and the data (32 to 96).
 * Neither segment reports it alone; joined, it is reported by the second,
 * at its LSN in the first, with its time and timeline. */
static void test_walrec_join_a_restore_point_across_segments(void **state)
{
    (void)state;
    for (size_t held = 8; held < 98; held += 8) {
        uint64_t lsn;
        struct seg *s = split_segments(held, &lsn);
        assert_int_equal(lsn, SEG_LSN + SEGSIZE - held);
        struct walrec_summary a, b;
        assert_int_equal(walrec_scan(s->buf, SEGSIZE, &a, NULL), 0);
        assert_false(a.truncated);
        assert_int_equal(a.n_points, 0);
        assert_int_equal(a.n_commits, 1);
        assert_non_null(a.cut);
        assert_int_equal(a.cut->len, held);
        assert_int_equal(a.cut->lsn, lsn);
        assert_int_equal(a.cut->next_lsn, SEG_LSN + SEGSIZE);
        assert_int_equal(a.cut->tli, 1);
        assert_int_equal(walrec_scan(s->buf + SEGSIZE, SEGSIZE, &b, NULL), 0);
        assert_false(b.truncated);
        assert_null(b.cut);
        assert_int_equal(b.cont_len, 98 - held);
        assert_int_equal(b.n_points, 1);
        assert_string_equal(b.points[0].name, "after");
        assert_true(walrec_join(a.cut, s->buf + SEGSIZE, SEGSIZE, &b));
        assert_int_equal(b.n_points, 2);
        assert_string_equal(b.points[0].name, "at the boundary");
        assert_int_equal(b.points[0].lsn, lsn);
        assert_true(b.points[0].time == 1764000040.0);
        assert_int_equal(b.points[0].tli, 1);
        assert_string_equal(b.points[1].name, "after");
        assert_int_equal(b.n_commits, 0);
        walrec_summary_free(&a);
        walrec_summary_free(&b);
        free(s);
    }
}

/* The restore point starting on the first byte of a segment's records, or
 * ending a few bytes before its end, is whole: no cut, no join needed. */
static void test_walrec_join_not_needed_at_the_boundary(void **state)
{
    (void)state;
    uint64_t lsn;
    struct seg *s = split_segments(0, &lsn);
    assert_int_equal(lsn, SEG_LSN + SEGSIZE + 40);
    struct walrec_summary a, b;
    assert_int_equal(walrec_scan(s->buf, SEGSIZE, &a, NULL), 0);
    assert_null(a.cut);
    assert_int_equal(a.n_points, 0);
    assert_int_equal(walrec_scan(s->buf + SEGSIZE, SEGSIZE, &b, NULL), 0);
    assert_int_equal(b.cont_len, 0);
    assert_int_equal(b.n_points, 2);
    assert_int_equal(b.points[0].lsn, lsn);
    assert_false(walrec_join(a.cut, s->buf + SEGSIZE, SEGSIZE, &b));
    walrec_summary_free(&a);
    walrec_summary_free(&b);
    free(s);

    s = split_segments(104, &lsn); /* 98 bytes, then 6 of padding: the end */
    assert_int_equal(walrec_scan(s->buf, SEGSIZE, &a, NULL), 0);
    assert_null(a.cut);
    assert_int_equal(a.n_points, 1);
    assert_int_equal(a.points[0].lsn, lsn);
    walrec_summary_free(&a);
    free(s);
}

/* A joined record is checked as any other: a flipped byte on either side
 * (CRC), a continuation of another segment, a wrong length: not reported. */
static void test_walrec_join_checks_the_record(void **state)
{
    (void)state;
    uint64_t lsn;
    struct seg *s = split_segments(48, &lsn);
    struct walrec_summary a, b;
    assert_int_equal(walrec_scan(s->buf, SEGSIZE, &a, NULL), 0);
    assert_non_null(a.cut);
    struct walrec_cut cut = *a.cut;

    /* a bit of the name, in the second segment */
    s->buf[SEGSIZE + 40 + 10] ^= 0x01;
    assert_int_equal(walrec_scan(s->buf + SEGSIZE, SEGSIZE, &b, NULL), 0);
    assert_false(walrec_join(&cut, s->buf + SEGSIZE, SEGSIZE, &b));
    assert_int_equal(b.n_points, 1);
    walrec_summary_free(&b);
    s->buf[SEGSIZE + 40 + 10] ^= 0x01;

    /* a bit of the time, in the first */
    cut.bytes[30] ^= 0x01;
    assert_int_equal(walrec_scan(s->buf + SEGSIZE, SEGSIZE, &b, NULL), 0);
    assert_false(walrec_join(&cut, s->buf + SEGSIZE, SEGSIZE, &b));
    cut.bytes[30] ^= 0x01;
    /* the length held does not add up with xlp_rem_len */
    cut.len -= 8;
    assert_false(walrec_join(&cut, s->buf + SEGSIZE, SEGSIZE, &b));
    cut.len += 8;
    /* the cut of another segment (where it continues says so) */
    cut.next_lsn += SEGSIZE;
    assert_false(walrec_join(&cut, s->buf + SEGSIZE, SEGSIZE, &b));
    cut.next_lsn -= SEGSIZE;
    /* the first segment does not continue its own cut */
    assert_false(walrec_join(&cut, s->buf, SEGSIZE, &b));
    assert_int_equal(b.n_points, 1);
    /* a too short second segment */
    assert_false(walrec_join(&cut, s->buf + SEGSIZE, 60, &b));
    /* and all is well again */
    assert_true(walrec_join(&cut, s->buf + SEGSIZE, SEGSIZE, &b));
    assert_int_equal(b.n_points, 2);
    walrec_summary_free(&a);
    walrec_summary_free(&b);
    free(s);
}

/* A commit record cut the same way counts as the second segment's first
 * commit; a cut record of no interest is not kept; a partial (shorter)
 * segment keeps no cut: its record does not continue in the next. */
static void test_walrec_join_a_commit_and_what_is_not_kept(void **state)
{
    (void)state;
    struct seg *s = calloc(1, sizeof *s);
    assert_non_null(s);
    seg_init(s);
    fill_to(s, SEGSIZE - 64);
    uint64_t lsn = put_commit(s, PG_T(1764000060), 0x00);
    assert_int_equal(lsn, SEG_LSN + SEGSIZE - 64);
    put_commit(s, PG_T(1764000070), 0x00);
    struct walrec_summary a, b;
    assert_int_equal(walrec_scan(s->buf, SEGSIZE, &a, NULL), 0);
    assert_int_equal(a.n_commits, 0);
    assert_non_null(a.cut);
    assert_int_equal(walrec_scan(s->buf + SEGSIZE, SEGSIZE, &b, NULL), 0);
    assert_int_equal(b.n_commits, 1);
    assert_true(walrec_join(a.cut, s->buf + SEGSIZE, SEGSIZE, &b));
    assert_int_equal(b.n_commits, 2);
    assert_true(b.first_commit == 1764000060.0);
    assert_true(b.last_commit == 1764000070.0);
    walrec_summary_free(&a);
    walrec_summary_free(&b);
    /* a .partial: the same bytes, shorter than the segment size */
    assert_int_equal(walrec_scan(s->buf, SEGSIZE - 8, &a, NULL), 0);
    assert_null(a.cut);
    walrec_summary_free(&a);
    free(s);

    s = calloc(1, sizeof *s);
    assert_non_null(s);
    seg_init(s);
    fill_to(s, SEGSIZE - 64);
    put_filler(s, 200); /* header whole, of no interest */
    assert_int_equal(walrec_scan(s->buf, SEGSIZE, &a, NULL), 0);
    assert_null(a.cut);
    walrec_summary_free(&a);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walrec_crc32c_known_value),
        cmocka_unit_test(test_walrec_scan_finds_points_and_commits),
        cmocka_unit_test(test_walrec_scan_skips_a_record_from_the_previous_segment),
        cmocka_unit_test(test_walrec_scan_ignores_a_bad_crc),
        cmocka_unit_test(test_walrec_scan_stops_at_a_recycled_page),
        cmocka_unit_test(test_walrec_scan_refuses_what_is_no_segment),
        cmocka_unit_test(test_walrec_scan_truncated_anywhere),
        cmocka_unit_test(test_walrec_scan_garbage),
        cmocka_unit_test(test_walrec_join_a_restore_point_across_segments),
        cmocka_unit_test(test_walrec_join_not_needed_at_the_boundary),
        cmocka_unit_test(test_walrec_join_checks_the_record),
        cmocka_unit_test(test_walrec_join_a_commit_and_what_is_not_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
