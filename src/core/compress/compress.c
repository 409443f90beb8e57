/*
 * compress.c - compress and decompress WAL files, stream by stream.
 *
 * Every codec works on bounded buffers: the source is read in CHUNK-sized
 * pieces (struct input), each piece goes through the library's streaming
 * API, and what comes out is written at once. A 16 MiB segment or a 1 GiB
 * file costs the same memory: two CHUNK buffers plus the library's own state
 * (bzip2 -9 is the largest at about 8 MiB).
 *
 * Compressors write to a descriptor (struct output). Decompressors hand
 * their output to a sink (struct sink), a callback that either writes it to
 * the caller's descriptor (comp_decompress_to_fd) or compares it with the
 * plain file read alongside (comp_same_content), so one piece of code
 * decompresses each format whatever happens to the bytes. A sink may answer
 * SINK_STOP (the comparison found a difference): the decompressor then
 * stops at once and reports success.
 *
 * Decompression is strict. A file is accepted only when its last stream
 * ends exactly at the end of the file: the end of the file inside a stream
 * is "unexpected end of file", a library error is reported with the
 * library's reason, and bytes after a stream that do not start another one
 * are "unexpected data after the end of the compressed data". Concatenated
 * streams are read as the command-line tools read them: gzip members (gzip
 * -d, and Python's gzip module that Barman uses), bzip2 streams (bzip2 -d,
 * pbzip2's output), zstd and lz4 frames including skippable frames.
 *
 * The custom kind runs the DBA's filter commands through the process runner
 * with the file as standard input. Compression writes the filter's output to
 * dst (PROC_FILE); decompression receives it through PROC_DATA and feeds the
 * same sinks, so nothing decompressed ever touches the disk.
 */
#define _GNU_SOURCE /* copy_file_range */

#include <bzlib.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <limits.h>
#include <lz4frame.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "compress.h"
#include "storage.h"
#include "proc.h"
#include "strbuf.h"

#define CHUNK (1024 * 1024) /* read size of every codec */
#define SINK_STOP 1         /* a sink's "the answer is known, stop" */
#define STDERR_KEEP 4096    /* bytes of a filter's stderr kept for the message */

/* ---- descriptors ---------------------------------------------------------- */

static int open_retry(const char *path, int flags, mode_t mode)
{
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

/* Close fd if open; errno is preserved (the error, if any, is not wanted). */
static void close_quiet(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd); /* not retried on EINTR: Linux has released the fd already */
        errno = saved;
        *fd = -1;
    }
}

static ssize_t read_retry(int fd, void *buf, size_t len)
{
    ssize_t n;
    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Read until len bytes or end of file; the bytes read, or -1 (errno set). */
static ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read_retry(fd, (char *)buf + got, len - got);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}


static int open_src(const char *path, int *fd, struct cel_err *err)
{
    *fd = open_retry(path, O_RDONLY, 0);
    if (*fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", path);
    return 0;
}

/* ---- input: a file read in chunks ----------------------------------------- */

struct input {
    int fd;
    const char *path;
    unsigned char *buf;
    size_t cap;
    size_t pos, end;  /* unread bytes are buf[pos..end) */
    uint64_t end_off; /* file offset of buf[end] */
    bool eof;
};

static size_t input_avail(const struct input *in)
{
    return in->end - in->pos;
}

/* Read at most want more bytes at buf[end]; sets eof at the end of the file. */
static int input_read(struct input *in, size_t want, struct cel_err *err)
{
    ssize_t n = read_retry(in->fd, in->buf + in->end, want);
    if (n < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", in->path);
    if (n == 0)
        in->eof = true;
    in->end += (size_t)n;
    in->end_off += (uint64_t)n;
    return 0;
}

/* When everything buffered has been used, read the next chunk. */
static int input_fill(struct input *in, struct cel_err *err)
{
    if (in->pos < in->end || in->eof)
        return 0;
    in->pos = in->end = 0;
    return input_read(in, in->cap, err);
}

/* Make at least need bytes available, fewer only at the end of the file. */
static int input_peek(struct input *in, size_t need, struct cel_err *err)
{
    if (input_avail(in) >= need)
        return 0;
    memmove(in->buf, in->buf + in->pos, input_avail(in));
    in->end -= in->pos;
    in->pos = 0;
    while (in->end < need && !in->eof) {
        int rc = input_read(in, in->cap - in->end, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- output: compressed bytes to a descriptor ----------------------------- */

struct output {
    int fd;
    const char *path; /* NULL: the caller's descriptor, receiving the data of src */
    const char *src;
    uint64_t bytes;
};

static int output_write(struct output *out, const void *buf, size_t len, struct cel_err *err)
{
    if (len > 0 && stor_write_all(out->fd, buf, len) < 0) {
        if (!out->path)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot write the data decompressed from '%s'",
                               out->src);
        return cel_err_sys(err, CEL_E_IO, errno, "cannot write '%s'", out->path);
    }
    out->bytes += len;
    return 0;
}

/* ---- sinks: where decompressed bytes go ------------------------------------ */

struct sink {
    /* 0: go on; SINK_STOP: stop decompressing; < 0: an error (err is set) */
    int (*write)(void *ctx, const unsigned char *data, size_t len, struct cel_err *err);
    void *ctx;
    uint64_t bytes;
};

static int sink_put(struct sink *s, const unsigned char *data, size_t len, struct cel_err *err)
{
    if (len == 0)
        return 0;
    s->bytes += len;
    return s->write(s->ctx, data, len, err);
}

/* The caller's descriptor (comp_decompress_to_fd). */
struct fd_sink {
    int fd;
    const char *src;
};

static int fd_sink_write(void *ctx, const unsigned char *data, size_t len, struct cel_err *err)
{
    const struct fd_sink *fs = ctx;
    if (stor_write_all(fs->fd, data, len) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot write the data decompressed from '%s'",
                           fs->src);
    return 0;
}

/* The plain file, read in step (comp_same_content). */
struct cmp_sink {
    int fd;
    const char *path;
    unsigned char *buf; /* CHUNK bytes */
    bool differ;
};

static int cmp_sink_write(void *ctx, const unsigned char *data, size_t len, struct cel_err *err)
{
    struct cmp_sink *cs = ctx;
    while (len > 0) {
        size_t n = len < CHUNK ? len : CHUNK;
        ssize_t got = read_full(cs->fd, cs->buf, n);
        if (got < 0)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", cs->path);
        if ((size_t)got < n || memcmp(cs->buf, data, n) != 0) {
            cs->differ = true;
            return SINK_STOP;
        }
        data += n;
        len -= n;
    }
    return 0;
}

/* ---- the codecs' shared pieces --------------------------------------------- */

static int bad_data(struct cel_err *err, enum comp_kind kind, const char *path, const char *why)
{
    return cel_err_set(err, CEL_E_FORMAT, "invalid %s data in '%s': %s", comp_name(kind), path,
                       why);
}

static int truncated(struct cel_err *err, enum comp_kind kind, const char *path)
{
    return bad_data(err, kind, path, "unexpected end of file");
}

static int no_memory(struct cel_err *err, const char *what, const char *path)
{
    return cel_err_set(err, CEL_E_NOMEM, "cannot %s '%s': out of memory", what, path);
}

/* A library reason with its first letter in lower case, as our messages are. */
static int bad_data_lib(struct cel_err *err, enum comp_kind kind, const char *path,
                        const char *reason)
{
    char why[160];
    cel_strlcpy(why, reason && reason[0] ? reason : "corrupt data", sizeof why);
    if (isupper((unsigned char)why[0]) && !isupper((unsigned char)why[1]))
        why[0] = (char)tolower((unsigned char)why[0]);
    return bad_data(err, kind, path, why);
}

static int size_changed(struct cel_err *err, const char *path)
{
    return cel_err_set(err, CEL_E_IO, "'%s' changed size while it was being compressed", path);
}

/* Does p start a gzip member (deflate)? A bzip2 stream? A zstd or lz4 frame,
 * or a skippable frame (magic 0x184D2A50 to 0x184D2A5F, little-endian)? Each
 * is given as many bytes as its magic has. */
static bool gzip_start(const unsigned char *p)
{
    return p[0] == 0x1f && p[1] == 0x8b && p[2] == 0x08;
}

static bool bzip2_start(const unsigned char *p)
{
    return p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9';
}

static bool skippable_start(const unsigned char *p)
{
    return (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18;
}

static bool zstd_start(const unsigned char *p)
{
    return (p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) || skippable_start(p);
}

static bool lz4_start(const unsigned char *p)
{
    return (p[0] == 0x04 && p[1] == 0x22 && p[2] == 0x4d && p[3] == 0x18) || skippable_start(p);
}

/*
 * At the end of a stream: *more is false at the end of the file, true when
 * the next magic_len bytes start another stream; anything else is trailing
 * garbage, -CEL_E_FORMAT with its offset.
 */
static int next_stream(struct input *in, enum comp_kind kind, size_t magic_len,
                       bool (*starts)(const unsigned char *), bool *more, struct cel_err *err)
{
    *more = false;
    int rc = input_peek(in, magic_len, err);
    if (rc < 0 || input_avail(in) == 0)
        return rc;
    if (input_avail(in) >= magic_len && starts(in->buf + in->pos)) {
        *more = true;
        return 0;
    }
    char why[128];
    snprintf(why, sizeof why, "unexpected data after the end of the compressed data at offset %llu",
             (unsigned long long)(in->end_off - input_avail(in)));
    return bad_data(err, kind, in->path, why);
}

/* ---- none ------------------------------------------------------------------- */

/*
 * Copy in to out with copy_file_range (in the kernel, no user buffer), and
 * with read/write where it is not available (another filesystem on older
 * kernels, a pipe, O_APPEND) or fails: the plain loop then meets the error
 * again on the side it belongs to and names that file. The plain loop runs
 * after copy_file_range's end of file too, because some pseudo-files report
 * 0 there before their end; at a real end it costs one read.
 */
static int copy_fd(struct input *in, struct output *out, struct cel_err *err)
{
    for (;;) {
        ssize_t n = copy_file_range(in->fd, NULL, out->fd, NULL, CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        in->end_off += (uint64_t)n;
        out->bytes += (uint64_t)n;
    }
    for (;;) {
        in->pos = in->end = 0;
        int rc = input_read(in, in->cap, err);
        if (rc < 0 || in->eof)
            return rc;
        rc = output_write(out, in->buf, in->end, err);
        if (rc < 0)
            return rc;
    }
}

static int none_decompress(struct input *in, struct sink *out, struct cel_err *err)
{
    for (;;) {
        in->pos = in->end = 0;
        int rc = input_read(in, in->cap, err);
        if (rc < 0 || in->eof)
            return rc;
        rc = sink_put(out, in->buf, in->end, err);
        if (rc != 0)
            return rc;
    }
}

/* ---- gzip (libdeflate for whole files, zlib for streams) ------------------------ */

/* Files up to this size (a WAL segment is at most 1 GiB) are compressed in
 * one call of libdeflate, which at the same level is about twice as fast as
 * zlib and a little smaller (measured on pgbench WAL, level 6: 0.08 s
 * against 0.18 s for a 16 MiB segment); the output is one standard gzip
 * member, which gzip -d and Barman's Python read as zlib's. Larger inputs,
 * and inputs of unknown size (a pipe), stream through zlib. */
#define DEFLATE_WHOLE_MAX ((int64_t)1 << 30)

static int gzip_compress_whole(struct input *in, struct output *out, int level, int64_t size,
                               struct cel_err *err)
{
    size_t cap = (size_t)size + 1, len = 0; /* +1: a file that grew is seen, not cut */
    unsigned char *data = cel_xmalloc(cap);
    int rc = 0;
    while (rc == 0 && !in->eof && len < cap) {
        rc = input_fill(in, err);
        size_t n = input_avail(in);
        if (rc < 0 || n == 0)
            continue;
        if (n > cap - len) /* larger than its size said: stream it instead */
            n = cap - len;
        memcpy(data + len, in->buf + in->pos, n);
        in->pos += n;
        len += n;
    }
    if (rc == 0 && len == cap) {
        free(data);
        return 1; /* grew while read: the caller streams it */
    }
    struct libdeflate_compressor *c = rc == 0 ? libdeflate_alloc_compressor(level) : NULL;
    if (rc == 0 && !c)
        rc = no_memory(err, "compress", in->path);
    unsigned char *o = NULL;
    size_t on = 0;
    if (rc == 0) {
        size_t bound = libdeflate_gzip_compress_bound(c, len);
        o = cel_xmalloc(bound);
        on = libdeflate_gzip_compress(c, data, len, o, bound);
        if (on == 0)
            rc = cel_err_set(err, CEL_E_INTERNAL, "cannot compress '%s': libdeflate failed",
                             in->path);
    }
    if (rc == 0)
        rc = output_write(out, o, on, err);
    if (c)
        libdeflate_free_compressor(c);
    free(o);
    free(data);
    return rc;
}

static int gzip_compress(struct input *in, struct output *out, int level, int64_t size,
                         struct cel_err *err)
{
    if (size >= 0 && size <= DEFLATE_WHOLE_MAX && in->pos == in->end && in->end_off == 0) {
        int rc = gzip_compress_whole(in, out, level, size, err);
        if (rc <= 0)
            return rc;
        /* it grew while read: nothing is written yet; start again, streaming */
        if (lseek(in->fd, 0, SEEK_SET) < 0)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s' again", in->path);
        in->pos = in->end = 0;
        in->end_off = 0;
        in->eof = false;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* windowBits 15 + 16: the gzip wrapper (header, CRC-32, size), as gzip writes */
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return no_memory(err, "compress", in->path);
    unsigned char *ob = cel_xmalloc(CHUNK);
    int rc = 0, zr = Z_OK;
    while (zr != Z_STREAM_END) {
        rc = input_fill(in, err);
        if (rc < 0)
            break;
        int flush = in->eof ? Z_FINISH : Z_NO_FLUSH;
        zs.next_in = in->buf + in->pos;
        zs.avail_in = (uInt)input_avail(in);
        do {
            zs.next_out = ob;
            zs.avail_out = CHUNK;
            zr = deflate(&zs, flush);
            if (zr == Z_STREAM_ERROR) {
                rc = cel_err_set(err, CEL_E_INTERNAL, "cannot compress '%s': zlib: %s", in->path,
                                 zs.msg ? zs.msg : "stream error");
                break;
            }
            rc = output_write(out, ob, CHUNK - zs.avail_out, err);
        } while (rc == 0 && zs.avail_out == 0);
        if (rc < 0)
            break;
        in->pos = in->end; /* deflate takes all input when it has room to write */
    }
    deflateEnd(&zs);
    free(ob);
    return rc;
}

static int gzip_decompress(struct input *in, struct sink *out, struct cel_err *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) /* gzip only, as gzip -d */
        return no_memory(err, "decompress", in->path);
    unsigned char *ob = cel_xmalloc(CHUNK);
    bool flushing = false; /* the last call filled ob: more output may be pending */
    int rc;
    for (;;) {
        if (!flushing) {
            rc = input_fill(in, err);
            if (rc < 0)
                break;
            if (input_avail(in) == 0) {
                rc = truncated(err, COMP_GZIP, in->path);
                break;
            }
        }
        zs.next_in = in->buf + in->pos;
        zs.avail_in = (uInt)input_avail(in);
        zs.next_out = ob;
        zs.avail_out = CHUNK;
        int zr = inflate(&zs, Z_NO_FLUSH);
        in->pos = in->end - zs.avail_in;
        if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) {
            rc = bad_data_lib(err, COMP_GZIP, in->path, zs.msg);
            break;
        }
        if (zr == Z_MEM_ERROR) {
            rc = no_memory(err, "decompress", in->path);
            break;
        }
        flushing = zs.avail_out == 0;
        rc = sink_put(out, ob, CHUNK - zs.avail_out, err);
        if (rc != 0)
            break;
        if (zr == Z_STREAM_END) {
            bool more;
            rc = next_stream(in, COMP_GZIP, 3, gzip_start, &more, err);
            if (rc < 0 || !more)
                break;
            inflateReset(&zs);
        }
    }
    inflateEnd(&zs);
    free(ob);
    return rc;
}

/* ---- bzip2 (libbz2) ------------------------------------------------------------ */

static int bzip2_compress(struct input *in, struct output *out, int level, int64_t size,
                          struct cel_err *err)
{
    (void)size;
    bz_stream bs;
    memset(&bs, 0, sizeof bs);
    if (BZ2_bzCompressInit(&bs, level, 0, 0) != BZ_OK)
        return no_memory(err, "compress", in->path);
    unsigned char *ob = cel_xmalloc(CHUNK);
    int rc = 0, br = BZ_RUN_OK;
    while (br != BZ_STREAM_END) {
        rc = input_fill(in, err);
        if (rc < 0)
            break;
        int action = in->eof ? BZ_FINISH : BZ_RUN;
        bs.next_in = (char *)(in->buf + in->pos);
        bs.avail_in = (unsigned)input_avail(in);
        do {
            bs.next_out = (char *)ob;
            bs.avail_out = CHUNK;
            br = BZ2_bzCompress(&bs, action);
            if (br < 0) {
                rc = cel_err_set(err, CEL_E_INTERNAL, "cannot compress '%s': libbz2 error %d",
                                 in->path, br);
                break;
            }
            rc = output_write(out, ob, CHUNK - bs.avail_out, err);
        } while (rc == 0 && (bs.avail_in > 0 || (action == BZ_FINISH && br != BZ_STREAM_END)));
        if (rc < 0)
            break;
        in->pos = in->end;
    }
    BZ2_bzCompressEnd(&bs);
    free(ob);
    return rc;
}

static int bzip2_decompress(struct input *in, struct sink *out, struct cel_err *err)
{
    bz_stream bs;
    memset(&bs, 0, sizeof bs);
    if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK)
        return no_memory(err, "decompress", in->path);
    bool open_stream = true;
    unsigned char *ob = cel_xmalloc(CHUNK);
    bool flushing = false;
    int rc;
    for (;;) {
        if (!flushing) {
            rc = input_fill(in, err);
            if (rc < 0)
                break;
            if (input_avail(in) == 0) {
                rc = truncated(err, COMP_BZIP2, in->path);
                break;
            }
        }
        bs.next_in = (char *)(in->buf + in->pos);
        bs.avail_in = (unsigned)input_avail(in);
        bs.next_out = (char *)ob;
        bs.avail_out = CHUNK;
        int br = BZ2_bzDecompress(&bs);
        in->pos = in->end - bs.avail_in;
        if (br == BZ_DATA_ERROR_MAGIC) {
            rc = bad_data(err, COMP_BZIP2, in->path, "not a bzip2 stream (bad magic)");
            break;
        }
        if (br == BZ_DATA_ERROR) {
            rc = bad_data(err, COMP_BZIP2, in->path, "corrupt data (checksum or block error)");
            break;
        }
        if (br == BZ_MEM_ERROR) {
            rc = no_memory(err, "decompress", in->path);
            break;
        }
        if (br < 0) {
            rc = cel_err_set(err, CEL_E_INTERNAL, "cannot decompress '%s': libbz2 error %d",
                             in->path, br);
            break;
        }
        flushing = bs.avail_out == 0;
        rc = sink_put(out, ob, CHUNK - bs.avail_out, err);
        if (rc != 0)
            break;
        if (br == BZ_STREAM_END) {
            bool more;
            rc = next_stream(in, COMP_BZIP2, 4, bzip2_start, &more, err);
            if (rc < 0 || !more)
                break;
            BZ2_bzDecompressEnd(&bs);
            memset(&bs, 0, sizeof bs);
            open_stream = BZ2_bzDecompressInit(&bs, 0, 0) == BZ_OK;
            if (!open_stream) {
                rc = no_memory(err, "decompress", in->path);
                break;
            }
            flushing = false;
        }
    }
    if (open_stream)
        BZ2_bzDecompressEnd(&bs);
    free(ob);
    return rc;
}

/* ---- zstd (libzstd) ------------------------------------------------------------ */

static int zstd_compress(struct input *in, struct output *out, int level, int64_t size,
                         struct cel_err *err)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    if (!cc)
        return no_memory(err, "compress", in->path);
    unsigned char *ob = cel_xmalloc(CHUNK);
    int rc = 0;
    /* a checksum, as the zstd tool writes by default */
    size_t zr = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(zr))
        zr = ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    /* the size in the frame header; libzstd checks it and tunes for it */
    if (!ZSTD_isError(zr) && size >= 0)
        zr = ZSTD_CCtx_setPledgedSrcSize(cc, (unsigned long long)size);
    if (ZSTD_isError(zr)) {
        rc = cel_err_set(err, CEL_E_INTERNAL, "cannot compress '%s': zstd: %s", in->path,
                         ZSTD_getErrorName(zr));
        goto out;
    }
    bool last = false;
    while (!last) {
        rc = input_fill(in, err);
        if (rc < 0)
            goto out;
        last = in->eof;
        ZSTD_inBuffer ib = {in->buf + in->pos, input_avail(in), 0};
        size_t left;
        do {
            ZSTD_outBuffer obuf = {ob, CHUNK, 0};
            left = ZSTD_compressStream2(cc, &obuf, &ib, last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left)) {
                if (ZSTD_getErrorCode(left) == ZSTD_error_srcSize_wrong)
                    rc = size_changed(err, in->path);
                else
                    rc = cel_err_set(err, CEL_E_INTERNAL, "cannot compress '%s': zstd: %s",
                                     in->path, ZSTD_getErrorName(left));
                goto out;
            }
            rc = output_write(out, ob, obuf.pos, err);
            if (rc < 0)
                goto out;
        } while (last ? left != 0 : ib.pos < ib.size);
        in->pos = in->end;
    }
out:
    ZSTD_freeCCtx(cc);
    free(ob);
    return rc;
}

static int zstd_decompress(struct input *in, struct sink *out, struct cel_err *err)
{
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    if (!dc)
        return no_memory(err, "decompress", in->path);
    unsigned char *ob = cel_xmalloc(CHUNK);
    bool flushing = false;
    int rc;
    for (;;) {
        if (!flushing) {
            rc = input_fill(in, err);
            if (rc < 0)
                break;
            if (input_avail(in) == 0) {
                rc = truncated(err, COMP_ZSTD, in->path);
                break;
            }
        }
        ZSTD_inBuffer ib = {in->buf + in->pos, input_avail(in), 0};
        ZSTD_outBuffer obuf = {ob, CHUNK, 0};
        size_t zr = ZSTD_decompressStream(dc, &obuf, &ib);
        in->pos += ib.pos;
        if (ZSTD_isError(zr)) {
            if (ZSTD_getErrorCode(zr) == ZSTD_error_memory_allocation)
                rc = no_memory(err, "decompress", in->path);
            else
                rc = bad_data_lib(err, COMP_ZSTD, in->path, ZSTD_getErrorName(zr));
            break;
        }
        flushing = obuf.pos == obuf.size;
        rc = sink_put(out, ob, obuf.pos, err);
        if (rc != 0)
            break;
        if (zr == 0) { /* a frame ended and all its data is out */
            bool more;
            rc = next_stream(in, COMP_ZSTD, 4, zstd_start, &more, err);
            if (rc < 0 || !more)
                break;
            flushing = false;
        }
    }
    ZSTD_freeDCtx(dc);
    free(ob);
    return rc;
}

/* ---- lz4 (liblz4 frame format) ------------------------------------------------- */

/* lz4frame reports errors by name ("ERROR_contentChecksum_invalid"). */
static const char *lz4_reason(size_t code)
{
    static const struct {
        const char *name, *text;
    } reasons[] = {
        {"ERROR_frameType_unknown", "unknown frame type (bad magic)"},
        {"ERROR_headerChecksum_invalid", "frame header checksum mismatch"},
        {"ERROR_contentChecksum_invalid", "content checksum mismatch"},
        {"ERROR_blockChecksum_invalid", "block checksum mismatch"},
        {"ERROR_decompressionFailed", "corrupt block"},
        {"ERROR_frameSize_wrong", "content size does not match the frame header"},
        {"ERROR_maxBlockSize_invalid", "invalid block size in the frame header"},
        {"ERROR_blockMode_invalid", "invalid block mode in the frame header"},
        {"ERROR_reservedFlag_set", "reserved flag set in the frame header"},
        {"ERROR_headerVersion_wrong", "unsupported frame version"},
    };
    const char *name = LZ4F_getErrorName(code);
    for (size_t i = 0; i < CEL_ARRAY_LEN(reasons); i++)
        if (strcmp(name, reasons[i].name) == 0)
            return reasons[i].text;
    return cel_str_starts(name, "ERROR_") ? name + 6 : name;
}

static int lz4_compress(struct input *in, struct output *out, int level, int64_t size,
                        struct cel_err *err)
{
    LZ4F_cctx *cc = NULL;
    if (LZ4F_isError(LZ4F_createCompressionContext(&cc, LZ4F_VERSION)))
        return no_memory(err, "compress", in->path);
    /* the lz4 tool's frame: 4 MiB independent blocks, content checksum; plus
     * the content size when known (0 means unknown), which lz4 -d checks */
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.compressionLevel = level;
    prefs.frameInfo.blockSizeID = LZ4F_max4MB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    prefs.frameInfo.contentSize = size > 0 ? (unsigned long long)size : 0;
    size_t cap = LZ4F_compressBound(CHUNK, &prefs); /* covers the end of frame too */
    if (cap < LZ4F_HEADER_SIZE_MAX)
        cap = LZ4F_HEADER_SIZE_MAX;
    unsigned char *ob = cel_xmalloc(cap);
    int rc = 0;
    bool ended = false;
    size_t n = LZ4F_compressBegin(cc, ob, cap, &prefs);
    while (!LZ4F_isError(n)) {
        rc = output_write(out, ob, n, err);
        if (rc < 0 || ended)
            goto out;
        rc = input_fill(in, err);
        if (rc < 0)
            goto out;
        if (in->eof) {
            n = LZ4F_compressEnd(cc, ob, cap, NULL);
            ended = true;
        } else {
            n = LZ4F_compressUpdate(cc, ob, cap, in->buf + in->pos, input_avail(in), NULL);
            in->pos = in->end;
        }
    }
    if (strcmp(LZ4F_getErrorName(n), "ERROR_frameSize_wrong") == 0)
        rc = size_changed(err, in->path);
    else
        rc = cel_err_set(err, CEL_E_INTERNAL, "cannot compress '%s': lz4: %s", in->path,
                         LZ4F_getErrorName(n));
out:
    LZ4F_freeCompressionContext(cc);
    free(ob);
    return rc;
}

static int lz4_decompress(struct input *in, struct sink *out, struct cel_err *err)
{
    LZ4F_dctx *dc = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)))
        return no_memory(err, "decompress", in->path);
    unsigned char *ob = cel_xmalloc(CHUNK);
    bool flushing = false;
    int rc;
    for (;;) {
        if (!flushing) {
            rc = input_fill(in, err);
            if (rc < 0)
                break;
            if (input_avail(in) == 0) {
                rc = truncated(err, COMP_LZ4, in->path);
                break;
            }
        }
        size_t out_len = CHUNK, in_len = input_avail(in);
        size_t hint = LZ4F_decompress(dc, ob, &out_len, in->buf + in->pos, &in_len, NULL);
        if (LZ4F_isError(hint)) {
            if (strcmp(LZ4F_getErrorName(hint), "ERROR_allocation_failed") == 0)
                rc = no_memory(err, "decompress", in->path);
            else
                rc = bad_data(err, COMP_LZ4, in->path, lz4_reason(hint));
            break;
        }
        in->pos += in_len;
        flushing = out_len == CHUNK;
        rc = sink_put(out, ob, out_len, err);
        if (rc != 0)
            break;
        if (hint == 0) { /* a frame ended and all its data is out */
            bool more;
            rc = next_stream(in, COMP_LZ4, 4, lz4_start, &more, err);
            if (rc < 0 || !more)
                break;
            flushing = false;
        }
    }
    LZ4F_freeDecompressionContext(dc);
    free(ob);
    return rc;
}

/* ---- the table of codecs ------------------------------------------------------ */

struct codec {
    const char *name;
    unsigned char magic[4]; /* what comp_detect looks for */
    size_t magic_len;
    int level_min, level_max, level_default;
    /* size: the source's size when it is a regular file, else -1 */
    int (*compress)(struct input *in, struct output *out, int level, int64_t size,
                    struct cel_err *err);
    int (*decompress)(struct input *in, struct sink *out, struct cel_err *err);
};

static const struct codec codecs[] = {
    [COMP_NONE] = {"none", {0}, 0, 0, 0, 0, NULL, none_decompress},
    [COMP_GZIP] = {"gzip", {0x1f, 0x8b, 0x08}, 3, 1, 9, 6, gzip_compress, gzip_decompress},
    [COMP_BZIP2] = {"bzip2", {'B', 'Z', 'h'}, 3, 1, 9, 9, bzip2_compress, bzip2_decompress},
    [COMP_ZSTD] = {"zstd", {0x28, 0xb5, 0x2f, 0xfd}, 4, 1, 22, 3, zstd_compress, zstd_decompress},
    /* lz4: levels 1 and 2 are the fast compressor, 3 to 12 the HC one */
    [COMP_LZ4] = {"lz4", {0x04, 0x22, 0x4d, 0x18}, 4, 1, 12, 1, lz4_compress, lz4_decompress},
    [COMP_CUSTOM] = {"custom", {0}, 0, 0, 0, 0, NULL, NULL},
};

static bool kind_valid(enum comp_kind kind)
{
    return (int)kind >= (int)COMP_NONE && (int)kind <= (int)COMP_CUSTOM;
}

/* Check kind and opts for a compression or decompression; *level (may be
 * NULL) gets the level to use. */
static int check_args(enum comp_kind kind, const struct comp_opts *o, bool compress, int *level,
                      struct cel_err *err)
{
    if (!kind_valid(kind))
        return cel_err_set(err, CEL_E_INTERNAL, "unknown compression kind %d", (int)kind);
    if (kind == COMP_CUSTOM) {
        const char *cmd = compress ? o->custom_compress : o->custom_decompress;
        if (!cmd || !cmd[0])
            return cel_err_set(err, CEL_E_CONFIG, "compression 'custom' needs %s",
                               compress ? "custom_compression_filter"
                                        : "custom_decompression_filter");
        return 0;
    }
    const struct codec *c = &codecs[kind];
    if (compress && c->compress && o->level != 0 &&
        (o->level < c->level_min || o->level > c->level_max))
        return cel_err_set(err, CEL_E_INVALID, "invalid %s compression level %d: expected %d to %d",
                           c->name, o->level, c->level_min, c->level_max);
    if (level)
        *level = o->level != 0 ? o->level : c->level_default;
    return 0;
}

/* ---- custom filters --------------------------------------------------------- */

/* ": <stderr>" on one line: each line trimmed, empty lines left out, the
 * rest joined by "; " (gzip starts its complaints with an empty line); or
 * nothing when the filter wrote nothing. */
static void append_stderr(struct strbuf *sb, const struct proc_result *res)
{
    const char *p = res->err ? res->err : "";
    const char *end = p + (res->err ? res->err_len : 0);
    bool first = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        const char *b = p, *e = stop;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (e > b) {
            sb_append(sb, first ? ": " : "; ");
            sb_appendn(sb, b, (size_t)(e - b));
            first = false;
        }
        p = nl ? nl + 1 : end;
    }
}

/*
 * Run the custom filter cmd on src (its standard input). rc is what the
 * runner returned: a start failure or a time-out is prefixed with what was
 * being done; a filter that ran and did not exit 0 is -CEL_E_PROC with how
 * it ended and its stderr.
 */
static int filter_result(int rc, const char *what, const char *cmd, const char *src,
                         const struct proc_result *res, int timeout_ms, struct cel_err *err)
{
    if (rc < 0) {
        cel_err_prefix(err, "custom %s filter failed on '%s'", what, src);
        return rc;
    }
    if (res->status == 0)
        return 0;
    struct strbuf how = {0};
    proc_describe(res, timeout_ms, &how);
    append_stderr(&how, res);
    rc = cel_err_set(err, CEL_E_PROC, "custom %s filter '%s' failed on '%s': %s", what, cmd, src,
                     sb_str(&how));
    sb_free(&how);
    return rc;
}

static int custom_compress(const char *src, const char *dst, const struct comp_opts *o,
                           uint64_t *out_size, struct cel_err *err)
{
    struct proc_result res;
    int fd = -1;
    int rc = proc_run_shell(o->custom_compress,
                            &(struct proc_opts){.env = o->env,
                                                .path_prefix = o->path_prefix,
                                                .stdin_path = src,
                                                .out_mode = PROC_FILE,
                                                .out_path = dst,
                                                .err_mode = PROC_CAPTURE,
                                                .capture_max = STDERR_KEEP,
                                                .timeout_ms = o->timeout_ms},
                            &res, err);
    rc = filter_result(rc, "compression", o->custom_compress, src, &res, o->timeout_ms, err);
    proc_result_free(&res);
    if (rc < 0)
        goto fail;
    /* the runner created dst (0600, truncated); make it durable */
    fd = open_retry(dst, O_WRONLY, 0);
    struct stat st;
    if (fd < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", dst);
        goto fail;
    }
    if (fsync(fd) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", dst);
        goto fail;
    }
    if (fstat(fd, &st) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", dst);
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot close '%s'", dst);
        goto fail;
    }
    if (out_size)
        *out_size = (uint64_t)st.st_size;
    return 0;
fail:
    close_quiet(&fd);
    {
        int saved = errno;
        unlink(dst);
        errno = saved;
    }
    return rc;
}

/* The custom decompression filter's output, fed to a sink as it arrives. A
 * sink that fails or stops gets nothing more; the filter is left to finish
 * (its exit status still counts). */
struct filter_feed {
    struct sink *sink;
    int rc;
    struct cel_err err;
};

static void filter_on_data(void *ctx, int stream, const void *data, size_t len)
{
    struct filter_feed *ff = ctx;
    if (stream == 1 && ff->rc == 0)
        ff->rc = sink_put(ff->sink, data, len, &ff->err);
}

static int custom_decompress(const char *src, const struct comp_opts *o, struct sink *sink,
                             struct cel_err *err)
{
    struct filter_feed ff = {.sink = sink};
    struct proc_result res;
    int rc = proc_run_shell(o->custom_decompress,
                            &(struct proc_opts){.env = o->env,
                                                .path_prefix = o->path_prefix,
                                                .stdin_path = src,
                                                .out_mode = PROC_DATA,
                                                .on_data = filter_on_data,
                                                .ctx = &ff,
                                                .err_mode = PROC_CAPTURE,
                                                .capture_max = STDERR_KEEP,
                                                .timeout_ms = o->timeout_ms},
                            &res, err);
    if (rc == 0 && ff.rc < 0) {
        rc = ff.rc; /* our side failed (a write): that is the cause */
        if (err)
            *err = ff.err;
    } else {
        rc =
            filter_result(rc, "decompression", o->custom_decompress, src, &res, o->timeout_ms, err);
        if (rc == 0)
            rc = ff.rc; /* 0 or SINK_STOP */
    }
    proc_result_free(&res);
    return rc;
}

/* ---- decompressing into a sink ------------------------------------------------ */

/* Decompress src (of kind) into sink: 0 at the end, SINK_STOP when the sink
 * stopped it, or an error. */
static int decompress_stream(enum comp_kind kind, const char *src, const struct comp_opts *o,
                             struct sink *sink, struct cel_err *err)
{
    int fd;
    int rc = open_src(src, &fd, err);
    if (rc < 0)
        return rc;
    if (kind == COMP_CUSTOM) {
        close_quiet(&fd); /* opened for the message naming src; the runner opens it again */
        return custom_decompress(src, o, sink, err);
    }
    struct input in = {.fd = fd, .path = src, .buf = cel_xmalloc(CHUNK), .cap = CHUNK};
    rc = codecs[kind].decompress(&in, sink, err);
    free(in.buf);
    close_quiet(&fd);
    return rc;
}

/* ---- public functions ----------------------------------------------------------- */

const char *comp_name(enum comp_kind kind)
{
    return kind_valid(kind) ? codecs[kind].name : "unknown";
}

int comp_parse_name(const char *name, enum comp_kind *out, struct cel_err *err)
{
    static const struct {
        const char *name;
        enum comp_kind kind;
    } names[] = {
        {"", COMP_NONE},         {"None", COMP_NONE},   {"gzip", COMP_GZIP},
        {"pigz", COMP_GZIP},     {"pygzip", COMP_GZIP}, {"bzip2", COMP_BZIP2},
        {"pybzip2", COMP_BZIP2}, {"zstd", COMP_ZSTD},   {"lz4", COMP_LZ4},
        {"custom", COMP_CUSTOM},
    };
    for (size_t i = 0; name && i < CEL_ARRAY_LEN(names); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].kind;
            return 0;
        }
    }
    return cel_err_set(err, CEL_E_INVALID,
                       "unknown compression '%s': expected gzip, pigz, pygzip, bzip2, pybzip2, "
                       "zstd, lz4, custom or None",
                       name ? name : "(null)");
}

enum comp_kind comp_detect(const unsigned char *buf, size_t len, const struct comp_opts *opts)
{
    if (opts && opts->custom_magic && opts->custom_magic_len > 0 && len >= opts->custom_magic_len &&
        memcmp(buf, opts->custom_magic, opts->custom_magic_len) == 0)
        return COMP_CUSTOM;
    for (int k = COMP_GZIP; k <= COMP_LZ4; k++) {
        const struct codec *c = &codecs[k];
        if (len >= c->magic_len && memcmp(buf, c->magic, c->magic_len) == 0)
            return (enum comp_kind)k;
    }
    return COMP_NONE;
}

int comp_detect_file(const char *path, const struct comp_opts *opts, enum comp_kind *out,
                     struct cel_err *err)
{
    unsigned char buf[COMP_MAGIC_MAX];
    int fd;
    *out = COMP_NONE;
    int rc = open_src(path, &fd, err);
    if (rc < 0)
        return rc;
    ssize_t n = read_full(fd, buf, sizeof buf);
    if (n < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", path);
    else
        *out = comp_detect(buf, (size_t)n, opts);
    close_quiet(&fd);
    return rc;
}

int comp_compress_file(enum comp_kind kind, const char *src, const char *dst,
                       const struct comp_opts *opts, uint64_t *out_size, struct cel_err *err)
{
    static const struct comp_opts defaults;
    const struct comp_opts *o = opts ? opts : &defaults;
    int in_fd = -1, out_fd = -1, level = 0;
    struct stat st, dst_st;
    struct input in = {.fd = -1, .path = src};
    if (out_size)
        *out_size = 0;

    int rc = check_args(kind, o, true, &level, err);
    if (rc < 0)
        return rc;
    rc = open_src(src, &in_fd, err);
    if (rc < 0)
        return rc;
    if (fstat(in_fd, &st) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", src);
        close_quiet(&in_fd);
        return rc;
    }
    /* truncating dst would destroy src: refuse before touching anything */
    if (stat(dst, &dst_st) == 0 && dst_st.st_dev == st.st_dev && dst_st.st_ino == st.st_ino) {
        close_quiet(&in_fd);
        return cel_err_set(err, CEL_E_IO, "cannot compress '%s' into itself ('%s')", src, dst);
    }
    /* replace dst, never write through it: it may be a link to another file */
    if (unlink(dst) < 0 && errno != ENOENT) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot replace '%s'", dst);
        close_quiet(&in_fd);
        return rc;
    }
    if (kind == COMP_CUSTOM) {
        close_quiet(&in_fd); /* the runner opens src as the filter's stdin */
        return custom_compress(src, dst, o, out_size, err);
    }

    out_fd = open_retry(dst, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW, 0600);
    if (out_fd < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", dst);
        close_quiet(&in_fd);
        return rc;
    }
    in.fd = in_fd;
    in.buf = cel_xmalloc(CHUNK);
    in.cap = CHUNK;
    struct output out = {.fd = out_fd, .path = dst, .src = src};
    int64_t size = S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    if (kind == COMP_NONE)
        rc = copy_fd(&in, &out, err);
    else
        rc = codecs[kind].compress(&in, &out, level, size, err);
    if (rc == 0 && size >= 0 && in.end_off != (uint64_t)size)
        rc = size_changed(err, src);
    if (rc < 0)
        goto fail;
    if (fsync(out_fd) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", dst);
        goto fail;
    }
    int cr = close(out_fd);
    out_fd = -1;
    if (cr < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot close '%s'", dst);
        goto fail;
    }
    if (out_size)
        *out_size = out.bytes;
    free(in.buf);
    close_quiet(&in_fd);
    return 0;

fail:
    close_quiet(&out_fd);
    {
        int saved = errno;
        unlink(dst);
        errno = saved;
    }
    free(in.buf);
    close_quiet(&in_fd);
    return rc;
}

int comp_decompress_to_fd(enum comp_kind kind, const char *src, int out_fd,
                          const struct comp_opts *opts, uint64_t *out_bytes, struct cel_err *err)
{
    static const struct comp_opts defaults;
    const struct comp_opts *o = opts ? opts : &defaults;
    if (out_bytes)
        *out_bytes = 0;
    int rc = check_args(kind, o, false, NULL, err);
    if (rc < 0)
        return rc;

    if (kind == COMP_NONE) {
        /* a plain copy: let the kernel do it where it can */
        int fd;
        rc = open_src(src, &fd, err);
        if (rc < 0)
            return rc;
        struct input in = {.fd = fd, .path = src, .buf = cel_xmalloc(CHUNK), .cap = CHUNK};
        struct output out = {.fd = out_fd, .src = src};
        rc = copy_fd(&in, &out, err);
        free(in.buf);
        close_quiet(&fd);
        if (rc == 0 && out_bytes)
            *out_bytes = out.bytes;
        return rc;
    }

    struct fd_sink fs = {.fd = out_fd, .src = src};
    struct sink sink = {.write = fd_sink_write, .ctx = &fs};
    rc = decompress_stream(kind, src, o, &sink, err);
    if (rc < 0)
        return rc;
    if (out_bytes)
        *out_bytes = sink.bytes;
    return 0;
}

int comp_decompress_each(enum comp_kind kind, const char *src, const struct comp_opts *opts,
                         int (*fn)(void *ctx, const unsigned char *data, size_t len,
                                   struct cel_err *err),
                         void *ctx, uint64_t *out_bytes, struct cel_err *err)
{
    static const struct comp_opts defaults;
    const struct comp_opts *o = opts ? opts : &defaults;
    if (out_bytes)
        *out_bytes = 0;
    int rc = check_args(kind, o, false, NULL, err);
    if (rc < 0)
        return rc;
    struct sink sink = {.write = fn, .ctx = ctx};
    rc = decompress_stream(kind, src, o, &sink, err);
    if (out_bytes)
        *out_bytes = sink.bytes;
    return rc;
}

int comp_decompress_fd_each(enum comp_kind kind, int fd, const char *what,
                            int (*fn)(void *ctx, const unsigned char *data, size_t len,
                                      struct cel_err *err),
                            void *ctx, uint64_t *out_bytes, struct cel_err *err)
{
    static const struct comp_opts defaults;
    if (out_bytes)
        *out_bytes = 0;
    if (kind == COMP_CUSTOM)
        return cel_err_set(err, CEL_E_INVALID, "cannot decompress '%s': custom filters read "
                                               "files only", what);
    int rc = check_args(kind, &defaults, false, NULL, err);
    if (rc < 0)
        return rc;
    /* the same readers as for a file: input reads fd in chunks to its end */
    struct sink sink = {.write = fn, .ctx = ctx};
    struct input in = {.fd = fd, .path = what, .buf = cel_xmalloc(CHUNK), .cap = CHUNK};
    rc = codecs[kind].decompress(&in, &sink, err);
    free(in.buf);
    if (out_bytes)
        *out_bytes = sink.bytes;
    return rc;
}

int comp_same_content(enum comp_kind kind, const char *archived, const char *plain,
                      const struct comp_opts *opts, bool *same, struct cel_err *err)
{
    static const struct comp_opts defaults;
    const struct comp_opts *o = opts ? opts : &defaults;
    *same = false;
    int rc = check_args(kind, o, false, NULL, err);
    if (rc < 0)
        return rc;
    struct cmp_sink cs = {.path = plain};
    rc = open_src(plain, &cs.fd, err);
    if (rc < 0)
        return rc;
    cs.buf = cel_xmalloc(CHUNK);
    struct sink sink = {.write = cmp_sink_write, .ctx = &cs};
    rc = decompress_stream(kind, archived, o, &sink, err);
    if (rc == 0) {
        /* everything decompressed matched: plain must end here too */
        ssize_t n = read_full(cs.fd, cs.buf, 1);
        if (n < 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", plain);
        else
            *same = n == 0;
    } else if (rc == SINK_STOP) {
        rc = 0; /* a difference: *same stays false */
    }
    free(cs.buf);
    close_quiet(&cs.fd);
    return rc;
}

int comp_parse_magic(const char *hex, unsigned char out[COMP_MAGIC_MAX], size_t *len,
                     struct cel_err *err)
{
    *len = 0;
    size_t digits = hex && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X') ? strlen(hex + 2) : 0;
    bool ok = digits > 0 && digits % 2 == 0 && digits <= 2 * COMP_MAGIC_MAX;
    for (size_t i = 0; ok && i < digits; i++)
        ok = cel_hex_digit(hex[2 + i]) >= 0;
    if (!ok)
        return cel_err_set(err, CEL_E_INVALID,
                           "invalid value '%s': expected 0x followed by 1 to %d bytes in "
                           "hexadecimal (an even number of digits)",
                           hex ? hex : "(null)", COMP_MAGIC_MAX);
    for (size_t i = 0; i < digits / 2; i++)
        out[i] =
            (unsigned char)(cel_hex_digit(hex[2 + 2 * i]) * 16 + cel_hex_digit(hex[3 + 2 * i]));
    *len = digits / 2;
    return 0;
}
