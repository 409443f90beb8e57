/*
 * walrec.c - reading the records of one WAL segment.
 *
 * Layout (PostgreSQL's xlog_internal.h and xlogrecord.h, 9.5 to 17; every
 * constant below was checked against PostgreSQL 15's headers):
 *
 *   page header (XLogPageHeaderData, MAXALIGNed to 24 bytes):
 *     0 uint16 xlp_magic   2 uint16 xlp_info   4 uint32 xlp_tli
 *     8 uint64 xlp_pageaddr   16 uint32 xlp_rem_len
 *   the first page of a segment has the long header (40 bytes: + uint64
 *   xlp_sysid, uint32 xlp_seg_size, uint32 xlp_xlog_blcksz) and
 *   XLP_LONG_HEADER in xlp_info. XLP_FIRST_IS_CONTRECORD says the page
 *   starts with the rest of a record begun earlier, xlp_rem_len bytes of it
 *   (counting the pages after this one too).
 *
 *   record (XLogRecord, 24 bytes, starting on an 8-byte boundary):
 *     0 uint32 xl_tot_len   4 uint32 xl_xid   8 uint64 xl_prev
 *     16 uint8 xl_info   17 uint8 xl_rmid   (2 bytes padding)   20 uint32 xl_crc
 *   then the block headers, an origin (253, 2 bytes) and top-level xid
 *   (252, 4 bytes), and the main data header (255: 1-byte length, 254:
 *   4-byte length); then the blocks' data and images; the main data last.
 *   A record may be split at any byte across pages: the bytes continue after
 *   the next page's header.
 *
 * The scan walks the segment as a stream of record bytes with the page
 * headers taken out (struct reader), checking each page header it crosses:
 * the same magic as the first page, the page address this segment should
 * have there, and the continuation flag exactly when a record is being
 * continued. Only records of interest are copied out; the others are
 * skipped by length.
 *
 * A record of possible interest that runs off the end of a whole segment
 * is handed back (struct walrec_cut); walrec_join reads the next segment's
 * continuation with the same reader and checks the joined record as any
 * other (note).
 */
#include "walrec.h"
#include "walbytes.h"

#define SHORT_PHD 24
#define LONG_PHD 40
#define XLP_FIRST_IS_CONTRECORD 0x0001
#define XLP_LONG_HEADER 0x0002
#define RECORD_HEADER 24
#define CRC_OFFSET 20   /* offsetof(XLogRecord, xl_crc) */
#define MAGIC_95 0xD087 /* PostgreSQL 9.5: the record format read here */
#define MAGIC_14 0xD10D /* PostgreSQL 14: the last with BKPIMAGE_IS_COMPRESSED 0x02 */

#define RM_XLOG_ID 0
#define RM_XACT_ID 1
#define XLOG_RESTORE_POINT 0x70
#define XLOG_XACT_OPMASK 0x70
#define XLOG_XACT_COMMIT 0x00
#define XLOG_XACT_COMMIT_PREPARED 0x30
#define XLR_RMGR_INFO_MASK 0xF0

#define XLR_MAX_BLOCK_ID 32
#define XLR_BLOCK_ID_DATA_SHORT 255
#define XLR_BLOCK_ID_DATA_LONG 254
#define XLR_BLOCK_ID_ORIGIN 253
#define XLR_BLOCK_ID_TOPLEVEL_XID 252
#define BKPBLOCK_HAS_IMAGE 0x10
#define BKPBLOCK_SAME_REL 0x80
#define BKPIMAGE_HAS_HOLE 0x01
#define BKPIMAGE_IS_COMPRESSED_OLD 0x02 /* 9.5 to 14 */
#define BKPIMAGE_COMPRESSED_15 0x1C     /* 15+: PGLZ 0x04 | LZ4 0x08 | ZSTD 0x10 */
#define RELFILENODE_SIZE 12
#define RESTORE_POINT_SIZE (8 + WALREC_NAME_MAX) /* xl_restore_point */

static uint32_t crc_table[256];
static bool crc_ready;

uint32_t walrec_crc32c(uint32_t crc, const unsigned char *p, size_t n)
{
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = true;
    }
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

enum take { TAKE_OK, TAKE_END, TAKE_BAD };

struct reader {
    const unsigned char *buf;
    size_t len;
    size_t blcksz;
    size_t segsize;
    uint64_t start_lsn; /* of the segment */
    uint16_t magic;
    size_t pos; /* physical offset of the next byte */
    size_t got; /* record bytes copied out by take() since it was last zeroed */
};

/* Step over the header of the page starting at r->pos, checking it.
 * continuing: a record is being continued onto this page. */
static enum take enter_page(struct reader *r, bool continuing)
{
    if (r->pos + SHORT_PHD > r->len)
        return TAKE_END;
    const unsigned char *h = r->buf + r->pos;
    uint16_t info = wal_get16(h + 2);
    if (wal_get16(h) != r->magic || wal_get64(h + 8) != r->start_lsn + r->pos)
        return r->pos == 0 ? TAKE_BAD : TAKE_END; /* not this segment's page: the end */
    if (((info & XLP_FIRST_IS_CONTRECORD) != 0) != continuing)
        return TAKE_BAD;
    r->pos += (r->pos == 0 && (info & XLP_LONG_HEADER)) ? LONG_PHD : SHORT_PHD;
    return TAKE_OK;
}

/* The next n record bytes into dst (NULL: skip them). first: these are the
 * first bytes of a record (a page boundary before them is no continuation). */
static enum take take(struct reader *r, unsigned char *dst, size_t n, bool first)
{
    while (n) {
        if (r->pos % r->blcksz == 0) {
            enum take t = enter_page(r, !first);
            if (t != TAKE_OK)
                return t;
        }
        first = false;
        size_t room = r->blcksz - r->pos % r->blcksz;
        if (room > r->len - r->pos)
            room = r->len - r->pos;
        if (room == 0)
            return TAKE_END;
        size_t k = n < room ? n : room;
        if (dst) {
            memcpy(dst, r->buf + r->pos, k);
            dst += k;
            r->got += k;
        }
        r->pos += k;
        n -= k;
    }
    return TAKE_OK;
}

/* The main data of a whole record rec (tot bytes): *data and *len, after
 * walking its headers; false when they do not add up to tot. */
static bool main_data(const unsigned char *rec, size_t tot, uint16_t magic,
                      const unsigned char **data, size_t *len)
{
    size_t off = RECORD_HEADER;
    uint64_t payload = 0, main_len = 0;
    while (off < tot && tot - off > payload) {
        unsigned id = rec[off++];
        if (id == XLR_BLOCK_ID_DATA_SHORT || id == XLR_BLOCK_ID_DATA_LONG) {
            size_t w = id == XLR_BLOCK_ID_DATA_SHORT ? 1 : 4;
            if (tot - off < w)
                return false;
            main_len = w == 1 ? rec[off] : wal_get32(rec + off);
            off += w;
            payload += main_len;
            break;
        }
        size_t skip;
        if (id == XLR_BLOCK_ID_ORIGIN) {
            skip = 2;
        } else if (id == XLR_BLOCK_ID_TOPLEVEL_XID) {
            skip = 4;
        } else if (id <= XLR_MAX_BLOCK_ID) {
            if (tot - off < 3)
                return false;
            unsigned flags = rec[off];
            payload += wal_get16(rec + off + 1);
            off += 3;
            if (flags & BKPBLOCK_HAS_IMAGE) {
                if (tot - off < 5)
                    return false;
                unsigned bimg = rec[off + 4];
                payload += wal_get16(rec + off);
                off += 5;
                unsigned compressed = magic > MAGIC_14 ? (bimg & BKPIMAGE_COMPRESSED_15)
                                                       : (bimg & BKPIMAGE_IS_COMPRESSED_OLD);
                if ((bimg & BKPIMAGE_HAS_HOLE) && compressed) {
                    if (tot - off < 2)
                        return false;
                    off += 2;
                }
            }
            skip = ((flags & BKPBLOCK_SAME_REL) ? 0 : RELFILENODE_SIZE) + 4;
        } else {
            return false;
        }
        if (tot - off < skip)
            return false;
        off += skip;
    }
    if (off > tot || tot - off != payload)
        return false;
    *data = rec + tot - main_len;
    *len = (size_t)main_len;
    return true;
}

static double pg_time(const unsigned char *p)
{
    int64_t us;
    memcpy(&us, p, sizeof us);
    return (double)WALREC_PG_EPOCH + (double)us / 1e6;
}

/* Note what the whole record rec says, if anything; false when its CRC or
 * its headers are wrong. */
static bool note(struct walrec_summary *out, const unsigned char *rec, size_t tot, uint16_t magic,
                 uint64_t lsn, uint32_t tli)
{
    uint32_t crc = walrec_crc32c(0xFFFFFFFFu, rec + RECORD_HEADER, tot - RECORD_HEADER);
    crc = ~walrec_crc32c(crc, rec, CRC_OFFSET);
    const unsigned char *data;
    size_t len;
    if (crc != wal_get32(rec + CRC_OFFSET) || !main_data(rec, tot, magic, &data, &len))
        return false;
    unsigned info = rec[16], rmid = rec[17];
    if (rmid == RM_XLOG_ID && (info & XLR_RMGR_INFO_MASK) == XLOG_RESTORE_POINT &&
        len >= RESTORE_POINT_SIZE) {
        out->points = cel_xrealloc_array(out->points, out->n_points + 1, sizeof *out->points);
        struct walrec_point *p = &out->points[out->n_points++];
        memcpy(p->name, data + 8, WALREC_NAME_MAX);
        p->name[WALREC_NAME_MAX - 1] = '\0';
        p->lsn = lsn;
        p->time = pg_time(data);
        p->tli = tli;
    } else if (rmid == RM_XACT_ID && len >= 8 &&
               ((info & XLOG_XACT_OPMASK) == XLOG_XACT_COMMIT ||
                (info & XLOG_XACT_OPMASK) == XLOG_XACT_COMMIT_PREPARED)) {
        double t = pg_time(data);
        if (!out->n_commits++)
            out->first_commit = t;
        out->last_commit = t;
    }
    return true;
}

static bool interesting(unsigned info, unsigned rmid)
{
    return (rmid == RM_XLOG_ID && (info & XLR_RMGR_INFO_MASK) == XLOG_RESTORE_POINT) ||
           (rmid == RM_XACT_ID && ((info & XLOG_XACT_OPMASK) == XLOG_XACT_COMMIT ||
                                   (info & XLOG_XACT_OPMASK) == XLOG_XACT_COMMIT_PREPARED));
}

/* Check the first page of the segment in buf and set up r to read it; its
 * first page's xlp_info in *info. -CEL_E_FORMAT when it is no segment. */
static int open_segment(const unsigned char *buf, size_t len, struct reader *r, uint16_t *info,
                        struct cel_err *err)
{
    if (len < LONG_PHD)
        return cel_err_set(err, CEL_E_FORMAT, "only %zu bytes: too short for a WAL segment", len);
    uint16_t magic = wal_get16(buf);
    uint32_t segsize = wal_get32(buf + 32), blcksz = wal_get32(buf + 36);
    *info = wal_get16(buf + 2);
    if ((magic >> 8) != 0xD0 && (magic >> 8) != 0xD1)
        return cel_err_set(err, CEL_E_FORMAT, "not a WAL segment: bad magic 0x%04X", magic);
    if (magic < MAGIC_95)
        return cel_err_set(err, CEL_E_FORMAT,
                           "WAL page magic 0x%04X: written before PostgreSQL 9.5, whose record "
                           "format is not read",
                           magic);
    if (!(*info & XLP_LONG_HEADER))
        return cel_err_set(err, CEL_E_FORMAT,
                           "not a WAL segment: the first page has no long header");
    if (blcksz < 1024 || blcksz > 65536 || (blcksz & (blcksz - 1)) || segsize < blcksz ||
        (segsize & (segsize - 1)) || segsize > (1u << 30))
        return cel_err_set(err, CEL_E_FORMAT,
                           "the header announces %u-byte segments of %u-byte pages", segsize,
                           blcksz);
    *r = (struct reader){.buf = buf,
                         .len = len < segsize ? len : segsize,
                         .blcksz = blcksz,
                         .segsize = segsize,
                         .start_lsn = wal_get64(buf + 8),
                         .magic = magic};
    return 0;
}

/* Keep the n bytes of the record at lsn that the segment ends inside of,
 * when the record may be of interest: its header is cut too (nobody can
 * tell yet), or it says restore point or commit and is short enough. */
static void keep_cut(struct walrec_summary *out, const struct reader *r, const unsigned char *rec,
                     size_t n, uint64_t lsn, uint32_t tli)
{
    if (r->len != r->segsize || r->pos != r->len || n == 0 || n >= WALREC_CUT_MAX)
        return; /* not cut by the end of a whole segment */
    if (n >= 4 && wal_get32(rec) > WALREC_CUT_MAX)
        return;
    if (n > 17 && !interesting(rec[16], rec[17])) /* xl_info and xl_rmid held */
        return;
    out->cut = cel_xcalloc(1, sizeof *out->cut);
    out->cut->lsn = lsn;
    out->cut->next_lsn = r->start_lsn + r->segsize;
    out->cut->tli = tli;
    out->cut->len = n;
    memcpy(out->cut->bytes, rec, n);
}

int walrec_scan(const unsigned char *buf, size_t len, struct walrec_summary *out,
                struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    struct reader r;
    uint16_t info;
    int rc = open_segment(buf, len, &r, &info, err);
    if (rc < 0)
        return rc;
    uint32_t blcksz = (uint32_t)r.blcksz;
    uint16_t magic = r.magic;
    out->segsize = r.segsize;
    out->start_lsn = r.start_lsn;
    if (r.start_lsn % r.segsize) {
        out->truncated = true;
        return 0;
    }
    /* the rest of a record begun in the previous segment */
    enum take t = TAKE_OK;
    uint32_t rem = wal_get32(buf + 16);
    if (info & XLP_FIRST_IS_CONTRECORD) {
        out->cont_len = rem;
        if ((t = enter_page(&r, true)) == TAKE_OK)
            t = take(&r, NULL, rem, false);
    }
    unsigned char hdr[RECORD_HEADER];
    while (t == TAKE_OK) {
        r.pos = (r.pos + 7) & ~(size_t)7;
        if (r.pos >= r.len)
            break;
        /* the record's LSN and timeline: of its first byte, after any page header */
        if (r.pos % blcksz == 0 && (t = enter_page(&r, false)) != TAKE_OK)
            break;
        size_t start = r.pos;
        uint32_t tli = wal_get32(buf + start - start % blcksz + 4);
        r.got = 0;
        if ((t = take(&r, hdr, sizeof hdr, false)) != TAKE_OK) {
            if (t == TAKE_END)
                keep_cut(out, &r, hdr, r.got, r.start_lsn + start, tli);
            break;
        }
        uint32_t tot = wal_get32(hdr);
        if (tot == 0)
            break; /* the unused end of the WAL written so far */
        if (tot < RECORD_HEADER || tot > r.len) {
            t = TAKE_BAD;
            break;
        }
        if (!interesting(hdr[16], hdr[17])) {
            t = take(&r, NULL, tot - RECORD_HEADER, false);
            continue;
        }
        unsigned char *rec = cel_xmalloc(tot);
        memcpy(rec, hdr, sizeof hdr);
        r.got = 0;
        t = take(&r, rec + RECORD_HEADER, tot - RECORD_HEADER, false);
        if (t == TAKE_OK)
            note(out, rec, tot, magic, r.start_lsn + start, tli);
        else if (t == TAKE_END)
            keep_cut(out, &r, rec, RECORD_HEADER + r.got, r.start_lsn + start, tli);
        free(rec);
    }
    out->truncated = t == TAKE_BAD;
    return 0;
}

bool walrec_join(const struct walrec_cut *prev, const unsigned char *buf, size_t len,
                 struct walrec_summary *out)
{
    struct reader r;
    uint16_t info;
    if (!prev || prev->len == 0 || prev->len >= WALREC_CUT_MAX ||
        open_segment(buf, len, &r, &info, NULL) < 0 || r.start_lsn != prev->next_lsn ||
        !(info & XLP_FIRST_IS_CONTRECORD))
        return false;
    /* the continuation must be exactly the rest of the record */
    uint32_t rem = wal_get32(buf + 16);
    if (rem == 0 || rem > WALREC_CUT_MAX - prev->len)
        return false;
    size_t tot = prev->len + rem;
    unsigned char rec[WALREC_CUT_MAX];
    memcpy(rec, prev->bytes, prev->len);
    if (enter_page(&r, true) != TAKE_OK || take(&r, rec + prev->len, rem, false) != TAKE_OK)
        return false;
    if (tot < RECORD_HEADER || wal_get32(rec) != tot || !interesting(rec[16], rec[17]))
        return false;
    struct walrec_summary one = {0};
    if (!note(&one, rec, tot, r.magic, prev->lsn, prev->tli))
        return false;
    if (one.n_points) { /* it comes before every record the segment starts */
        out->points = cel_xrealloc_array(out->points, out->n_points + 1, sizeof *out->points);
        memmove(out->points + 1, out->points, out->n_points * sizeof *out->points);
        out->points[0] = one.points[0];
        out->n_points++;
    }
    if (one.n_commits) {
        if (!out->n_commits)
            out->last_commit = one.first_commit;
        out->first_commit = one.first_commit;
        out->n_commits++;
    }
    walrec_summary_free(&one);
    return true;
}

void walrec_summary_free(struct walrec_summary *s)
{
    free(s->points);
    free(s->cut);
    memset(s, 0, sizeof *s);
}
