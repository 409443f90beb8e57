/*
 * wal.c - WAL file names, segment arithmetic and LSNs.
 *
 * Names are parsed by shape, not by regular expression. The name is split at
 * its first dot into a base and a suffix; the suffix decides the kind (none:
 * segment, ".history", ".partial", ".<offset>.backup") and with it how many
 * hex digits the base must have (8 for history, 24 otherwise). Checking in
 * that order (suffix, base length, base digits, label offset, timeline) lets
 * every error say exactly what was wrong, and accepts the same set as Barman's
 * regular expression minus timeline 0 and two Python accidents (a trailing
 * newline, non-ASCII digits), which we refuse. Hex digits are tested with our
 * ASCII-only cel_hex_digit() rather than isxdigit(), which depends on the locale
 * and is undefined for negative chars. The bad name is quoted in messages
 * through cel_show(), which bounds and escapes it, so hostile bytes can neither
 * overflow the message nor put control characters into a log.
 *
 * Segment arithmetic follows PostgreSQL: segno = lsn / segsize and a log
 * (xlogid, the middle 8 digits of a name) holds 2^32 / segsize segments.
 * Barman's xlog.py computes the same split differently: its
 * xlog_segments_per_file() is 0xFFFFFFFF // segsize, which for a power of two
 * is the *last* segment number of a log (count - 1), and its name generator
 * wraps after "seg > that". We name things by what they are: a count here,
 * seg < count for a valid name. With segsize >= 1 MiB a log holds at most
 * 4096 segments, so log * count + seg < 2^45 and segno * segsize stays below
 * 2^64 for every segno of the 64-bit LSN space: nothing here can overflow.
 */
#include <inttypes.h>

#include "wal.h"

#define WAL_MIB (UINT64_C(1) << 20)
#define WAL_GIB (UINT64_C(1) << 30)

static const char name_hint[] =
    "WAL archive files are named <24 hex digits>, <24 hex digits>.partial, "
    "<24 hex digits>.<8 hex digits>.backup or <8 hex digits>.history.";

/* Number of hex digits at the start of s (stops at the NUL, which is not hex). */
static size_t hex_span(const char *s)
{
    size_t n = 0;
    while (cel_hex_digit(s[n]) >= 0)
        n++;
    return n;
}

/* Value of the n (at most 8) hex digits at s, which the caller has checked. */
static uint32_t hex_value(const char *s, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = cel_hex_digit(s[i]);
        v = (v << 4) | (uint32_t)d;
    }
    return v;
}

/* Fail with "<what> '<quoted text>': <reason>" and -CEL_E_INVALID. */
static int invalid(struct cel_err *err, const char *what, const char *text, const char *fmt, ...)
    CEL_PRINTF(4, 5);

static int invalid(struct cel_err *err, const char *what, const char *text, const char *fmt, ...)
{
    if (!err)
        return -CEL_E_INVALID;
    char q[CEL_SHOW_BUF];
    char reason[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return cel_err_set(err, CEL_E_INVALID, "%s '%s': %s", what, cel_show(text, strlen(text), q),
                       reason);
}

/* Fail because character at index i of text (name or LSN) is not hex. */
static int bad_digit(struct cel_err *err, const char *what, const char *text, size_t i)
{
    char q[CEL_SHOW_BUF];
    return invalid(err, what, text, "character %zu ('%s') is not a hexadecimal digit", i + 1,
                   cel_show(text + i, 1, q));
}

int wal_name_parse(const char *name, struct wal_name *out, struct cel_err *err)
{
    static const char what[] = "invalid WAL file name";
    char q[CEL_SHOW_BUF];
    size_t len = strlen(name);
    const char *dot = strchr(name, '.');
    size_t base = dot ? (size_t)(dot - name) : len;
    const char *suffix = name + base;
    size_t slen = len - base;
    const char *offset = NULL;
    size_t olen = 0;
    size_t want = 24;
    struct wal_name w = {0};

    if (slen == 0) {
        w.kind = WAL_KIND_SEGMENT;
    } else if (strcmp(suffix, ".history") == 0) {
        w.kind = WAL_KIND_HISTORY;
        want = 8;
    } else if (strcmp(suffix, ".partial") == 0) {
        w.kind = WAL_KIND_PARTIAL;
    } else if (cel_str_ends(suffix, ".backup")) {
        /* ".<offset>.backup"; a bare ".backup" has an empty offset */
        w.kind = WAL_KIND_BACKUP_LABEL;
        offset = suffix + 1;
        olen = slen >= 8 ? slen - 8 : 0;
    } else {
        int rc = invalid(err, what, name, "unknown suffix '%s'", cel_show(suffix, slen, q));
        cel_err_hint(err, "%s", name_hint);
        return rc;
    }

    if (base != want) {
        if (slen == 0)
            return invalid(err, what, name, "expected %zu hexadecimal digits, found %zu characters",
                           want, base);
        return invalid(err, what, name,
                       "expected %zu hexadecimal digits before '%s', found %zu characters", want,
                       cel_show(suffix, slen, q), base);
    }
    size_t digits = hex_span(name);
    if (digits < base)
        return bad_digit(err, what, name, digits);
    if (offset && (olen != 8 || hex_span(offset) < 8))
        return invalid(err, what, name, "backup label offset '%s' is not 8 hexadecimal digits",
                       cel_show(offset, olen, q));

    w.tli = hex_value(name, 8);
    if (w.tli == 0)
        return invalid(err, what, name, "timeline 0 does not exist (timelines start at 1)");
    if (w.kind != WAL_KIND_HISTORY) {
        w.log = hex_value(name + 8, 8);
        w.seg = hex_value(name + 16, 8);
    }
    if (offset)
        w.offset = hex_value(offset, 8);
    *out = w;
    return 0;
}

bool wal_name_is_valid(const char *name)
{
    struct wal_name w;
    return wal_name_parse(name, &w, NULL) == 0;
}

void wal_name_format(const struct wal_name *w, char out[WAL_NAME_MAX])
{
    switch (w->kind) {
    case WAL_KIND_SEGMENT:
        snprintf(out, WAL_NAME_MAX, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32, w->tli, w->log, w->seg);
        return;
    case WAL_KIND_PARTIAL:
        snprintf(out, WAL_NAME_MAX, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32 ".partial", w->tli,
                 w->log, w->seg);
        return;
    case WAL_KIND_BACKUP_LABEL:
        snprintf(out, WAL_NAME_MAX, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32 ".%08" PRIX32 ".backup",
                 w->tli, w->log, w->seg, w->offset);
        return;
    case WAL_KIND_HISTORY:
        snprintf(out, WAL_NAME_MAX, "%08" PRIX32 ".history", w->tli);
        return;
    }
    out[0] = '\0'; /* a kind outside the enum: no name */
}

void wal_segment_name(uint32_t tli, uint64_t segno, uint64_t segsize, char out[WAL_NAME_MAX])
{
    struct wal_name w;
    wal_from_segno(tli, segno, segsize, &w);
    wal_name_format(&w, out);
}

int wal_segsize_check(uint64_t segsize, struct cel_err *err)
{
    const char *why;
    if (segsize == 0 || (segsize & (segsize - 1)) != 0)
        why = "not a power of two";
    else if (segsize < WAL_MIB)
        why = "smaller than 1 MiB";
    else if (segsize > WAL_GIB)
        why = "larger than 1 GiB";
    else
        return 0;
    int rc = cel_err_set(err, CEL_E_INVALID, "invalid WAL segment size %" PRIu64 " bytes: %s",
                         segsize, why);
    cel_err_hint(err, "PostgreSQL's wal_segment_size is a power of two from 1 MiB to 1 GiB "
                      "(1048576 to 1073741824 bytes).");
    return rc;
}

uint64_t wal_segs_per_log(uint64_t segsize)
{
    return (UINT64_C(1) << 32) / segsize;
}

/* A byte count in the largest binary unit that divides it ("16 MiB", "1 GiB"). */
static void size_text(uint64_t bytes, char *out, size_t outsize)
{
    if (bytes != 0 && bytes % WAL_GIB == 0)
        snprintf(out, outsize, "%" PRIu64 " GiB", bytes / WAL_GIB);
    else if (bytes != 0 && bytes % WAL_MIB == 0)
        snprintf(out, outsize, "%" PRIu64 " MiB", bytes / WAL_MIB);
    else
        snprintf(out, outsize, "%" PRIu64 "-byte", bytes);
}

int wal_name_check_segsize(const struct wal_name *w, uint64_t segsize, struct cel_err *err)
{
    if (w->kind == WAL_KIND_HISTORY)
        return 0;
    uint64_t count = wal_segs_per_log(segsize);
    if (w->seg < count)
        return 0;
    char size[32];
    size_text(segsize, size, sizeof size);
    return cel_err_set(err, CEL_E_INVALID,
                       "segment '%08" PRIX32 "%08" PRIX32 "%08" PRIX32
                       "' does not exist with %s segments (the last in each log is %08" PRIX64 ")",
                       w->tli, w->log, w->seg, size, count - 1);
}

uint64_t wal_segno(const struct wal_name *w, uint64_t segsize)
{
    if (w->kind == WAL_KIND_HISTORY)
        return 0;
    return (uint64_t)w->log * wal_segs_per_log(segsize) + w->seg;
}

void wal_from_segno(uint32_t tli, uint64_t segno, uint64_t segsize, struct wal_name *out)
{
    uint64_t count = wal_segs_per_log(segsize);
    *out = (struct wal_name){
        .kind = WAL_KIND_SEGMENT,
        .tli = tli,
        .log = (uint32_t)(segno / count),
        .seg = (uint32_t)(segno % count),
    };
}

uint64_t wal_lsn_to_segno(uint64_t lsn, uint64_t segsize)
{
    return lsn / segsize;
}

uint64_t wal_lsn_to_prev_segno(uint64_t lsn, uint64_t segsize)
{
    return lsn == 0 ? 0 : (lsn - 1) / segsize;
}

uint64_t wal_lsn_offset(uint64_t lsn, uint64_t segsize)
{
    return lsn % segsize;
}

uint64_t wal_segno_to_lsn(uint64_t segno, uint64_t segsize)
{
    return segno * segsize;
}

int wal_hash_dir(const char *name, char out[17], struct cel_err *err)
{
    struct wal_name w;
    out[0] = '\0';
    int rc = wal_name_parse(name, &w, err);
    if (rc < 0)
        return rc;
    if (w.kind != WAL_KIND_HISTORY)
        snprintf(out, 17, "%08" PRIX32 "%08" PRIX32, w.tli, w.log);
    return 0;
}

int wal_lsn_parse(const char *text, uint64_t *out, struct cel_err *err)
{
    static const char what[] = "invalid LSN";
    if (text[0] == '\0')
        return invalid(err, what, text, "empty");
    size_t hi = hex_span(text);
    if (text[hi] == '\0')
        return invalid(err, what, text, "missing '/' between the two halves");
    if (text[hi] != '/')
        return bad_digit(err, what, text, hi);
    if (hi == 0)
        return invalid(err, what, text, "no hexadecimal digits before '/'");
    if (hi > 8)
        return invalid(err, what, text, "%zu hexadecimal digits before '/', at most 8 allowed", hi);
    const char *low = text + hi + 1;
    size_t lo = hex_span(low);
    if (low[lo] != '\0')
        return bad_digit(err, what, text, hi + 1 + lo);
    if (lo == 0)
        return invalid(err, what, text, "no hexadecimal digits after '/'");
    if (lo > 8)
        return invalid(err, what, text, "%zu hexadecimal digits after '/', at most 8 allowed", lo);
    *out = ((uint64_t)hex_value(text, hi) << 32) | hex_value(low, lo);
    return 0;
}

void wal_lsn_format(uint64_t lsn, char out[WAL_LSN_MAX])
{
    snprintf(out, WAL_LSN_MAX, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}
