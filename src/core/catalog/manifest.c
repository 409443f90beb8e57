/*
 * manifest.c - backup_manifest in PostgreSQL's format (version 1, as
 * PostgreSQL 13 to 15 write it), so pg_verifybackup can check a copy that
 * cellar made with rsync.
 *
 * manifest_write walks the data directory, reads every regular file once
 * (1 MiB reads, sequential read-ahead advised, the cache dropped behind us)
 * computing its CRC-32C, sorts the entries by path (bytewise) so the output
 * is deterministic, and renders the manifest byte for byte as PostgreSQL's
 * backup_manifest.c does:
 *
 *     { "PostgreSQL-Backup-Manifest-Version": 1,\n
 *     "Files": [\n
 *     { "Path": "PG_VERSION", "Size": 3, "Last-Modified": "2024-01-02 03:04:05 GMT",
 *       "Checksum-Algorithm": "CRC32C", "Checksum": "8f8a1f3e" },\n     (one line)
 *     ...last file entry without comma\n
 *     ],\n
 *     "WAL-Ranges": [\n
 *     { "Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100" }\n
 *     ],\n
 *     "Manifest-Checksum": "<64 hex>"}\n
 *
 * The manifest checksum is the SHA-256 of every byte up to and including the
 * newline before the "Manifest-Checksum" line (pg_verifybackup hashes up to
 * the penultimate newline). Paths that are valid UTF-8 (by PostgreSQL's
 * rules: no overlong forms, no surrogates, nothing above U+10FFFF) are JSON
 * strings escaped as escape_json does; others are written as "Encoded-Path"
 * in lower-case hex. The CRC-32C is hex-encoded in the memory order of the
 * uint32, as pg_checksum_final memcpy()s it: little-endian bytes on x86, so
 * CRC 0xE3069283 is written "839206e3".
 *
 * What is listed: every regular file under the data directory, except
 * backup_manifest itself and everything under pg_wal/ (pg_verifybackup
 * ignores both, and pg_basebackup fetches WAL separately). The other files
 * pg_verifybackup ignores by default (postgresql.auto.conf, standby.signal,
 * recovery.signal) are listed like any file, as pg_basebackup lists them: a
 * verifier that does check them finds them right. The symbolic links
 * pg_tblspc/<oid> are followed (that level only) and their files listed as
 * pg_tblspc/<oid>/PG_15_.../...; other symbolic links, and sockets, FIFOs
 * and devices, are not listed and not followed. (pg_verifybackup stat()s
 * every entry, following any link, so a copy holding such links, or special
 * files, does not verify whatever the manifest says; PostgreSQL creates
 * none outside pg_tblspc.)
 *
 * CRC-32C uses the SSE4.2 crc32 instruction when the CPU has it (checked
 * once, at run time) and a portable slicing-by-8 table otherwise. SHA-256
 * is the plain FIPS 180-4 algorithm.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manifest.h"
#include "storage.h"
#include "strbuf.h"

/* ------------------------------------------------------------------------
 * CRC-32C
 * ------------------------------------------------------------------------ */

#define CRC32C_POLY 0x82F63B78u /* Castagnoli, reflected */

/* crc32c_table[k][b]: the CRC contribution of byte b followed by k zero
 * bytes; filled once by crc32c_init. */
static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;
static uint32_t (*crc32c_impl)(uint32_t crc, const unsigned char *p, size_t len);

/* Slicing-by-8: eight bytes per step through eight tables. The words are
 * assembled from bytes, so the result does not depend on the host's byte
 * order (compilers turn the assembly into one load on little-endian hosts).
 * crc is the raw register (already inverted by the caller). */
static uint32_t crc32c_sw(uint32_t crc, const unsigned char *p, size_t len)
{
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        uint32_t hi =
            (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
              crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
              crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
              crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len-- > 0)
        crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The SSE4.2 crc32 instruction computes exactly this CRC (Castagnoli,
 * reflected), eight bytes per instruction. Compiled for SSE4.2 whatever the
 * build's -march; only called once cpuid said the CPU has it. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p,
                                                            size_t len)
{
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        crc = __builtin_ia32_crc32qi(crc, *p++);
        len--;
    }
    unsigned long long c = crc;
    while (len >= 8) {
        unsigned long long v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    crc = (uint32_t)c;
    while (len-- > 0)
        crc = __builtin_ia32_crc32qi(crc, *p++);
    return crc;
}
#define CRC32C_HAVE_HW 1
#endif

/* Fill the tables and choose the implementation (through pthread_once, so
 * concurrent first calls are safe). */
static void crc32c_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
        crc32c_table[0][b] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int b = 0; b < 256; b++) {
            uint32_t prev = crc32c_table[t - 1][b];
            crc32c_table[t][b] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
        }
    crc32c_impl = crc32c_sw;
#ifdef CRC32C_HAVE_HW
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2"))
        crc32c_impl = crc32c_hw;
#endif
}

uint32_t manifest_crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc32c_once, crc32c_init);
    return ~crc32c_impl(~crc, buf, len);
}

uint32_t manifest_crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc32c_once, crc32c_init);
    return ~crc32c_sw(~crc, buf, len);
}

bool manifest_crc32c_uses_cpu(void)
{
    pthread_once(&crc32c_once, crc32c_init);
    return crc32c_impl != crc32c_sw;
}

/* ------------------------------------------------------------------------
 * SHA-256 (FIPS 180-4)
 * ------------------------------------------------------------------------ */

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* Process one 64-byte block into the state. */
static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t s1 = ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + s1 + ch + sha256_k[i] + w[i];
        uint32_t s0 = ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = s0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void manifest_sha256_init(struct manifest_sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->bytes = 0;
    s->used = 0;
}

void manifest_sha256_update(struct manifest_sha256 *s, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    s->bytes += len;
    if (s->used > 0) {
        size_t take = 64 - s->used < len ? 64 - s->used : len;
        memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        len -= take;
        if (s->used < 64)
            return;
        sha256_block(s->h, s->block);
        s->used = 0;
    }
    while (len >= 64) {
        sha256_block(s->h, p);
        p += 64;
        len -= 64;
    }
    if (len > 0) {
        memcpy(s->block, p, len);
        s->used = len;
    }
}

void manifest_sha256_final(struct manifest_sha256 *s, unsigned char out[32])
{
    uint64_t bits = s->bytes * 8;
    s->block[s->used++] = 0x80;
    if (s->used > 56) {
        memset(s->block + s->used, 0, 64 - s->used);
        sha256_block(s->h, s->block);
        s->used = 0;
    }
    memset(s->block + s->used, 0, 56 - s->used);
    for (int i = 0; i < 8; i++)
        s->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_block(s->h, s->block);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
    /* the context is spent: leave no partial data behind */
    memset(s->block, 0, sizeof s->block);
    s->used = 0;
}

/* ------------------------------------------------------------------------
 * The manifest
 * ------------------------------------------------------------------------ */

#define READ_SIZE (1024 * 1024)

struct mf_entry {
    char *path; /* relative to the data directory */
    uint64_t size;
    time_t mtime;
    uint32_t crc;
};

struct mf_walk {
    const char *datadir;
    struct mf_entry *v;
    size_t n, cap;
    unsigned char *buf; /* READ_SIZE bytes */
    const char *prev_datadir;  /* manifest_write_reusing: the earlier copy */
    struct mf_entry *prev;     /* its manifest's CRC32C entries, sorted by path */
    size_t n_prev;
    uint64_t reused;           /* files whose checksum came from prev */
};

/* Where a directory sits, which decides what is special in it. */
enum mf_level {
    MF_TOP,    /* the data directory: backup_manifest and pg_wal are left out */
    MF_TBLSPC, /* pg_tblspc: its symbolic links are followed */
    MF_INSIDE, /* anywhere else */
};

static const char hexdigits[] = "0123456789abcdef";

static void sb_hex(struct strbuf *sb, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sb_appendc(sb, hexdigits[p[i] >> 4]);
        sb_appendc(sb, hexdigits[p[i] & 0xf]);
    }
}

/* Read the open file fd (path for messages) to its end, filling size and
 * crc of e. The page cache is told we read sequentially, and that we will
 * not read these pages again. */
static int mf_checksum_fd(struct mf_walk *w, int fd, const char *path, struct mf_entry *e,
                          struct cel_err *err)
{
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint32_t crc = 0;
    uint64_t size = 0;
    for (;;) {
        ssize_t n = read(fd, w->buf, READ_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", path);
        if (n == 0)
            break;
        crc = manifest_crc32c(crc, w->buf, (size_t)n);
        size += (uint64_t)n;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    e->size = size;
    e->crc = crc;
    return 0;
}

static int mf_cmp_entry(const void *a, const void *b);

/* The checksum of rel when it is the very file (same inode) the earlier
 * copy's manifest describes: a hard link made by reuse_backup = link, whose
 * content cannot have changed without changing the earlier copy too. */
static bool mf_reuse(struct mf_walk *w, const char *rel, const struct stat *st,
                     struct mf_entry *e)
{
    if (!w->n_prev)
        return false;
    struct mf_entry key = {.path = (char *)(uintptr_t)rel};
    const struct mf_entry *p = bsearch(&key, w->prev, w->n_prev, sizeof *w->prev, mf_cmp_entry);
    if (!p || p->size != (uint64_t)st->st_size)
        return false;
    char *full = cel_xasprintf("%s/%s", w->prev_datadir, rel);
    struct stat pst;
    bool same = stat(full, &pst) == 0 && pst.st_dev == st->st_dev && pst.st_ino == st->st_ino;
    free(full);
    if (same) {
        e->size = p->size;
        e->crc = p->crc;
        w->reused++;
    }
    return same;
}

/* Load the CRC32C entries of prev_datadir/backup_manifest; a missing,
 * unreadable or damaged manifest just means nothing is reused. */
static void mf_load_prev(struct mf_walk *w)
{
    char *path = cel_xasprintf("%s/backup_manifest", w->prev_datadir);
    struct manifest m;
    if (manifest_read(path, &m, NULL) == 0) {
        w->prev = cel_xcalloc(m.n_files ? m.n_files : 1, sizeof *w->prev);
        for (size_t i = 0; i < m.n_files; i++) {
            struct manifest_file *f = &m.files[i];
            if (f->algo != MANIFEST_ALGO_CRC32C)
                continue;
            struct mf_entry *e = &w->prev[w->n_prev++];
            e->path = f->path; /* taken over */
            f->path = NULL;
            e->size = f->size;
            memcpy(&e->crc, f->checksum, sizeof e->crc); /* memory order, as written */
        }
        manifest_free(&m); /* files are sorted by path: so is prev */
    }
    free(path);
}

/* Add the regular file at datadir/rel (full) to the list. The size is what
 * was read, the time that of the file opened (not of the name stat'ed). */
static int mf_add_file(struct mf_walk *w, const char *rel, const char *full, bool follow,
                       struct cel_err *err)
{
    int fd = open(full, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", full);
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", full);
        goto out;
    }
    if (!S_ISREG(st.st_mode))
        goto out; /* replaced by something else since it was listed */
    struct mf_entry e = {.mtime = st.st_mtime};
    if (!mf_reuse(w, rel, &st, &e) && (rc = mf_checksum_fd(w, fd, full, &e, err)) < 0)
        goto out;
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        w->v = cel_xrealloc_array(w->v, w->cap, sizeof *w->v);
    }
    e.path = cel_xstrdup(rel);
    w->v[w->n++] = e;
out:
    close(fd);
    return rc;
}

/* List the directory datadir/rel (rel NULL for the data directory itself)
 * into w, recursively. */
static int mf_walk_dir(struct mf_walk *w, const char *rel, enum mf_level level, struct cel_err *err)
{
    char *dir = rel ? cel_xasprintf("%s/%s", w->datadir, rel) : cel_xstrdup(w->datadir);
    struct stor_names names;
    int rc = stor_list_dir(dir, NULL, NULL, &names, err);
    if (rc < 0) {
        if (err)
            err->code = CEL_E_IO; /* a missing directory is an I/O error here */
        free(dir);
        return -CEL_E_IO;
    }
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        const char *name = names.names[i];
        if (level == MF_TOP &&
            (strcmp(name, "backup_manifest") == 0 || strcmp(name, "pg_wal") == 0))
            continue;
        char *crel = rel ? cel_xasprintf("%s/%s", rel, name) : cel_xstrdup(name);
        char *full = cel_xasprintf("%s/%s", dir, name);
        struct stat st;
        bool follow = false;
        if (lstat(full, &st) < 0) {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", full);
        } else if (S_ISLNK(st.st_mode) && level == MF_TBLSPC) {
            follow = true;
            if (stat(full, &st) < 0)
                rc = cel_err_sys(err, CEL_E_IO, errno, "cannot follow tablespace link '%s'", full);
        }
        if (rc == 0) {
            if (S_ISDIR(st.st_mode))
                rc = mf_walk_dir(
                    w, crel,
                    level == MF_TOP && strcmp(name, "pg_tblspc") == 0 ? MF_TBLSPC : MF_INSIDE, err);
            else if (S_ISREG(st.st_mode))
                rc = mf_add_file(w, crel, full, follow, err);
            /* other symbolic links, sockets, FIFOs, devices: not listed */
        }
        free(full);
        free(crel);
    }
    stor_names_free(&names);
    free(dir);
    return rc;
}

/* True if the n bytes at s are valid UTF-8 as PostgreSQL's pg_utf8_islegal
 * sees it: shortest forms only, no UTF-16 surrogates, at most U+10FFFF, and
 * no NUL. */
static bool mf_valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else
            return false;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += len;
    }
    return true;
}

/* Append s as a JSON string, escaped as PostgreSQL's escape_json does. */
static void mf_json_string(struct strbuf *sb, const char *s)
{
    sb_appendc(sb, '"');
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '\b':
            sb_append(sb, "\\b");
            break;
        case '\f':
            sb_append(sb, "\\f");
            break;
        case '\n':
            sb_append(sb, "\\n");
            break;
        case '\r':
            sb_append(sb, "\\r");
            break;
        case '\t':
            sb_append(sb, "\\t");
            break;
        case '"':
            sb_append(sb, "\\\"");
            break;
        case '\\':
            sb_append(sb, "\\\\");
            break;
        default:
            if ((unsigned char)*p < ' ')
                sb_appendf(sb, "\\u%04x", (unsigned)(unsigned char)*p);
            else
                sb_appendc(sb, *p);
        }
    }
    sb_appendc(sb, '"');
}

/* Append the manifest line of one file (without its comma and newline). */
static int mf_render_file(struct strbuf *sb, const struct mf_entry *e, struct cel_err *err)
{
    struct tm tm;
    char when[64];
    if (!gmtime_r(&e->mtime, &tm) || strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S GMT", &tm) == 0)
        return cel_err_set(err, CEL_E_IO, "cannot represent the modification time of '%s'",
                           e->path);
    size_t len = strlen(e->path);
    if (mf_valid_utf8((const unsigned char *)e->path, len)) {
        sb_append(sb, "{ \"Path\": ");
        mf_json_string(sb, e->path);
        sb_append(sb, ", ");
    } else {
        sb_append(sb, "{ \"Encoded-Path\": \"");
        sb_hex(sb, (const unsigned char *)e->path, len);
        sb_append(sb, "\", ");
    }
    /* the CRC in the memory order of a uint32, as pg_checksum_final copies it */
    unsigned char crc[4];
    memcpy(crc, &e->crc, sizeof crc);
    sb_appendf(sb, "\"Size\": %llu, \"Last-Modified\": \"%s\", ", (unsigned long long)e->size,
               when);
    sb_append(sb, "\"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"");
    sb_hex(sb, crc, sizeof crc);
    sb_append(sb, "\" }");
    return 0;
}

static int mf_cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct mf_entry *)a)->path, ((const struct mf_entry *)b)->path);
}

int manifest_write(const char *datadir, const struct manifest_wal_range *ranges, size_t n,
                   struct cel_err *err)
{
    return manifest_write_reusing(datadir, NULL, ranges, n, NULL, err);
}

int manifest_write_reusing(const char *datadir, const char *prev_datadir,
                           const struct manifest_wal_range *ranges, size_t n, uint64_t *reused,
                           struct cel_err *err)
{
    struct mf_walk w = {.datadir = datadir, .buf = cel_xmalloc(READ_SIZE),
                        .prev_datadir = prev_datadir};
    struct strbuf sb = {0};
    char *path = NULL;
    if (prev_datadir)
        mf_load_prev(&w);
    int rc = mf_walk_dir(&w, NULL, MF_TOP, err);
    if (reused)
        *reused = w.reused;
    if (rc < 0)
        goto out;
    if (w.n > 1)
        qsort(w.v, w.n, sizeof *w.v, mf_cmp_entry);

    sb_append(&sb, "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [");
    for (size_t i = 0; i < w.n; i++) {
        sb_append(&sb, i == 0 ? "\n" : ",\n");
        if ((rc = mf_render_file(&sb, &w.v[i], err)) < 0)
            goto out;
    }
    sb_append(&sb, "\n],\n\"WAL-Ranges\": [\n");
    for (size_t i = 0; i < n; i++) {
        const struct manifest_wal_range *r = &ranges[i];
        sb_appendf(&sb, "%s{ \"Timeline\": %u, \"Start-LSN\": \"%X/%X\", \"End-LSN\": \"%X/%X\" }",
                   i == 0 ? "" : ",\n", (unsigned)r->tli, (unsigned)(r->start_lsn >> 32),
                   (unsigned)(uint32_t)r->start_lsn, (unsigned)(r->end_lsn >> 32),
                   (unsigned)(uint32_t)r->end_lsn);
    }
    sb_append(&sb, "\n],\n");

    /* everything so far, up to this newline, is what the checksum covers */
    struct manifest_sha256 sha;
    unsigned char digest[32];
    manifest_sha256_init(&sha);
    manifest_sha256_update(&sha, sb_str(&sb), sb.len);
    manifest_sha256_final(&sha, digest);
    sb_append(&sb, "\"Manifest-Checksum\": \"");
    sb_hex(&sb, digest, sizeof digest);
    sb_append(&sb, "\"}\n");

    path = cel_xasprintf("%s/backup_manifest", datadir);
    rc = stor_write_file(path, sb_str(&sb), sb.len, 0600, err);
out:
    for (size_t i = 0; i < w.n; i++)
        free(w.v[i].path);
    free(w.v);
    for (size_t i = 0; i < w.n_prev; i++)
        free(w.prev[i].path);
    free(w.prev);
    free(w.buf);
    sb_free(&sb);
    free(path);
    return rc;
}

/* ------------------------------------------------------------------------
 * Reading a manifest back
 *
 * PostgreSQL writes one file entry, and one WAL range, per line, each a
 * flat JSON object of strings and numbers; the lines in between are fixed
 * text. So the reader parses those objects line by line (a manifest of a
 * million files is read in one pass, holding only its entries) and checks
 * the rest only as far as it needs: the version line, and the manifest's
 * SHA-256 over every byte up to the newline before its last line.
 * ------------------------------------------------------------------------ */

#define MF_MAX_KEYS 8

struct mf_kv {
    char *key, *value; /* value: a decoded string, or a number's text */
    bool is_string;
};

/* Append code point cp as UTF-8. */
static void mf_utf8(struct strbuf *sb, uint32_t cp)
{
    if (cp < 0x80) {
        sb_appendc(sb, (char)cp);
    } else if (cp < 0x800) {
        sb_appendc(sb, (char)(0xc0 | cp >> 6));
        sb_appendc(sb, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        sb_appendc(sb, (char)(0xe0 | cp >> 12));
        sb_appendc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
        sb_appendc(sb, (char)(0x80 | (cp & 0x3f)));
    } else {
        sb_appendc(sb, (char)(0xf0 | cp >> 18));
        sb_appendc(sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
        sb_appendc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
        sb_appendc(sb, (char)(0x80 | (cp & 0x3f)));
    }
}

static bool mf_hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = cel_hex_digit((unsigned char)p[i]);
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* A JSON string starting at *p (at its opening quote): decoded into a new
 * string, *p moved past the closing quote. NULL when malformed (a \u0000
 * included: no path holds a NUL). */
static char *mf_json_decode(const char **p)
{
    const char *s = *p;
    if (*s != '"')
        return NULL;
    s++;
    struct strbuf sb = {0};
    sb_append(&sb, "");
    for (;;) {
        char c = *s++;
        if (c == '"')
            break;
        if (c == '\0' || (unsigned char)c < ' ')
            goto bad;
        if (c != '\\') {
            sb_appendc(&sb, c);
            continue;
        }
        c = *s++;
        uint32_t cp;
        switch (c) {
        case '"': case '\\': case '/':
            sb_appendc(&sb, c);
            break;
        case 'b': sb_appendc(&sb, '\b'); break;
        case 'f': sb_appendc(&sb, '\f'); break;
        case 'n': sb_appendc(&sb, '\n'); break;
        case 'r': sb_appendc(&sb, '\r'); break;
        case 't': sb_appendc(&sb, '\t'); break;
        case 'u':
            if (!mf_hex4(s, &cp))
                goto bad;
            s += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                uint32_t lo;
                if (s[0] != '\\' || s[1] != 'u' || !mf_hex4(s + 2, &lo) || lo < 0xdc00 ||
                    lo > 0xdfff)
                    goto bad;
                s += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if ((cp >= 0xdc00 && cp < 0xe000) || cp == 0) {
                goto bad;
            }
            mf_utf8(&sb, cp);
            break;
        default:
            goto bad;
        }
    }
    *p = s;
    return sb_detach(&sb);
bad:
    sb_free(&sb);
    return NULL;
}

static void mf_kvs_free(struct mf_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
}

/* A flat object `{ "k": "v", "n": 12 }` (optionally followed by a comma)
 * at line into kv (at most MF_MAX_KEYS pairs). false when malformed. */
static bool mf_parse_object(const char *line, struct mf_kv *kv, size_t *n)
{
    const char *p = line;
    *n = 0;
    p += strspn(p, " \t");
    if (*p++ != '{')
        return false;
    for (;;) {
        p += strspn(p, " \t");
        if (*n == MF_MAX_KEYS)
            goto bad;
        struct mf_kv *e = &kv[*n];
        *e = (struct mf_kv){0};
        e->key = mf_json_decode(&p);
        if (!e->key)
            goto bad;
        (*n)++;
        p += strspn(p, " \t");
        if (*p++ != ':')
            goto bad;
        p += strspn(p, " \t");
        if (*p == '"') {
            e->value = mf_json_decode(&p);
            e->is_string = true;
        } else {
            size_t len = strspn(p, "0123456789-+.eE");
            if (len)
                e->value = cel_xstrndup(p, len);
            p += len;
        }
        if (!e->value)
            goto bad;
        p += strspn(p, " \t");
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p++ != '}')
            goto bad;
        break;
    }
    p += strspn(p, " \t");
    if (*p == ',')
        p++;
    p += strspn(p, " \t\r");
    if (*p == '\0')
        return true;
bad:
    mf_kvs_free(kv, *n);
    *n = 0;
    return false;
}

static const struct mf_kv *mf_get(const struct mf_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return &kv[i];
    return NULL;
}

static bool mf_u64(const struct mf_kv *v, uint64_t *out)
{
    if (!v || v->is_string || !v->value[0] || strspn(v->value, "0123456789") != strlen(v->value))
        return false;
    errno = 0;
    *out = strtoull(v->value, NULL, 10);
    return errno == 0;
}

/* Decode n hex digits pairs of text into out (at most max bytes). */
static bool mf_unhex(const char *text, unsigned char *out, size_t max, size_t *len)
{
    size_t n = strlen(text);
    if (n % 2 || n / 2 > max)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = cel_hex_digit((unsigned char)text[2 * i]);
        int lo = cel_hex_digit((unsigned char)text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return true;
}

static bool mf_lsn(const struct mf_kv *v, uint64_t *out)
{
    unsigned hi, lo;
    char extra;
    if (!v || !v->is_string || sscanf(v->value, "%X/%X%c", &hi, &lo, &extra) != 2)
        return false;
    *out = (uint64_t)hi << 32 | lo;
    return true;
}

/* One file entry into f; false when malformed. */
static bool mf_file_entry(const struct mf_kv *kv, size_t n, struct manifest_file *f)
{
    memset(f, 0, sizeof *f);
    const struct mf_kv *path = mf_get(kv, n, "Path");
    const struct mf_kv *enc = mf_get(kv, n, "Encoded-Path");
    const struct mf_kv *algo = mf_get(kv, n, "Checksum-Algorithm");
    const struct mf_kv *sum = mf_get(kv, n, "Checksum");
    if (!!path == !!enc || !mf_u64(mf_get(kv, n, "Size"), &f->size))
        return false;
    if (path) {
        if (!path->is_string)
            return false;
        f->path = cel_xstrdup(path->value);
    } else {
        size_t len;
        unsigned char *raw = cel_xmalloc(strlen(enc->value) / 2 + 1);
        if (!enc->is_string || !mf_unhex(enc->value, raw, strlen(enc->value) / 2, &len) ||
            memchr(raw, 0, len)) {
            free(raw);
            return false;
        }
        raw[len] = '\0';
        f->path = (char *)raw;
    }
    const char *a = algo && algo->is_string ? algo->value : "NONE";
    snprintf(f->algo_name, sizeof f->algo_name, "%s", a);
    if (strcmp(a, "NONE") == 0)
        f->algo = MANIFEST_ALGO_NONE;
    else if (strcmp(a, "CRC32C") == 0)
        f->algo = MANIFEST_ALGO_CRC32C;
    else if (strcmp(a, "SHA256") == 0)
        f->algo = MANIFEST_ALGO_SHA256;
    else
        f->algo = MANIFEST_ALGO_OTHER;
    if (f->algo != MANIFEST_ALGO_NONE &&
        (!sum || !sum->is_string ||
         !mf_unhex(sum->value, f->checksum, sizeof f->checksum, &f->checksum_len) ||
         (f->algo == MANIFEST_ALGO_CRC32C && f->checksum_len != 4) ||
         (f->algo == MANIFEST_ALGO_SHA256 && f->checksum_len != 32))) {
        free(f->path);
        f->path = NULL;
        return false;
    }
    return true;
}

static int mf_cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct manifest_file *)a)->path,
                  ((const struct manifest_file *)b)->path);
}

/* The manifest's own checksum: SHA-256 of text up to and including the
 * newline before the last line, against the hex of "Manifest-Checksum". */
static bool mf_checksum_matches(const char *text, size_t len, const char *hex)
{
    if (len < 2 || text[len - 1] != '\n')
        return false;
    size_t cut = len - 1;
    while (cut > 0 && text[cut - 1] != '\n')
        cut--;
    if (cut == 0)
        return false;
    struct manifest_sha256 sha;
    unsigned char digest[32], want[32];
    size_t n;
    manifest_sha256_init(&sha);
    manifest_sha256_update(&sha, text, cut);
    manifest_sha256_final(&sha, digest);
    return mf_unhex(hex, want, sizeof want, &n) && n == 32 && memcmp(digest, want, 32) == 0;
}

int manifest_read(const char *path, struct manifest *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    int rc = stor_read_file(path, (size_t)4 << 30, &text, &len, err);
    if (rc == 0)
        rc = manifest_parse(text, len, path, out, err);
    free(text);
    return rc;
}

int manifest_parse(const char *data, size_t len, const char *path, struct manifest *out,
                   struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    /* a copy, NUL-terminated, cut into lines in place; an embedded NUL
     * ends the text (no manifest holds one) */
    char *text = cel_xmalloc(len + 1);
    if (len)
        memcpy(text, data, len);
    text[len] = '\0';
    len = strlen(text);
    int rc = 0;
    size_t cap_files = 0, cap_ranges = 0, lineno = 0;
    const char *why = NULL;
    bool version = false;
    char *checksum = NULL;
    for (char *line = text; line && *line && !why;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        const char *p = line + strspn(line, " \t");
        struct mf_kv kv[MF_MAX_KEYS];
        size_t n = 0;
        if (lineno == 1) {
            static const char head[] = "{ \"PostgreSQL-Backup-Manifest-Version\": ";
            version = strncmp(p, head, sizeof head - 1) == 0 &&
                      (p[sizeof head - 1] == '1' || p[sizeof head - 1] == '2') &&
                      p[sizeof head] == ',';
            if (!version)
                why = "not a backup manifest of version 1 or 2";
        } else if (strncmp(p, "{ \"Path\"", 8) == 0 || strncmp(p, "{ \"Encoded-Path\"", 16) == 0) {
            if (!mf_parse_object(p, kv, &n)) {
                why = "malformed file entry";
            } else {
                if (out->n_files == cap_files) {
                    cap_files = cap_files ? cap_files * 2 : 1024;
                    out->files = cel_xrealloc_array(out->files, cap_files, sizeof *out->files);
                }
                if (mf_file_entry(kv, n, &out->files[out->n_files]))
                    out->n_files++;
                else
                    why = "malformed file entry";
                mf_kvs_free(kv, n);
            }
        } else if (strncmp(p, "{ \"Timeline\"", 12) == 0) {
            struct manifest_wal_range r;
            uint64_t tli = 0;
            if (!mf_parse_object(p, kv, &n)) {
                why = "malformed WAL range";
            } else {
                if (!mf_u64(mf_get(kv, n, "Timeline"), &tli) || tli == 0 || tli > UINT32_MAX ||
                    !mf_lsn(mf_get(kv, n, "Start-LSN"), &r.start_lsn) ||
                    !mf_lsn(mf_get(kv, n, "End-LSN"), &r.end_lsn)) {
                    why = "malformed WAL range";
                } else {
                    r.tli = (uint32_t)tli;
                    if (out->n_ranges == cap_ranges) {
                        cap_ranges = cap_ranges ? cap_ranges * 2 : 4;
                        out->ranges =
                            cel_xrealloc_array(out->ranges, cap_ranges, sizeof *out->ranges);
                    }
                    out->ranges[out->n_ranges++] = r;
                }
                mf_kvs_free(kv, n);
            }
        } else if (strncmp(p, "\"Manifest-Checksum\": ", 21) == 0) {
            const char *q = p + 21;
            free(checksum);
            checksum = mf_json_decode(&q);
            if (!checksum || strcmp(q, "}") != 0)
                why = "malformed manifest checksum";
        }
        if (nl)
            *nl = '\n';
        line = nl ? nl + 1 : NULL;
    }
    if (!why && !checksum) {
        why = "no manifest checksum";
        lineno = 0;
    }
    if (!why && !mf_checksum_matches(text, len, checksum)) {
        why = "manifest checksum mismatch";
        lineno = 0;
    }
    if (why) {
        if (lineno)
            rc = cel_err_set(err, CEL_E_FORMAT, "invalid backup manifest '%s': line %zu: %s",
                             path, lineno, why);
        else
            rc = cel_err_set(err, CEL_E_FORMAT, "invalid backup manifest '%s': %s", path, why);
        manifest_free(out);
    } else if (out->n_files > 1) {
        qsort(out->files, out->n_files, sizeof *out->files, mf_cmp_file);
    }
    free(checksum);
    free(text);
    return rc;
}

void manifest_free(struct manifest *m)
{
    for (size_t i = 0; i < m->n_files; i++)
        free(m->files[i].path);
    free(m->files);
    free(m->ranges);
    memset(m, 0, sizeof *m);
}

const struct manifest_file *manifest_find(const struct manifest *m, const char *path)
{
    if (!m->n_files)
        return NULL;
    struct manifest_file key = {.path = (char *)(uintptr_t)path};
    return bsearch(&key, m->files, m->n_files, sizeof *m->files, mf_cmp_file);
}
