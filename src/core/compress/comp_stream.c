/*
 * comp_stream.c - streaming gzip and bzip2 on zlib and libbz2.
 *
 * Each write feeds the library until it has taken all the input, handing
 * every full output chunk to the callback; finish drives the library to its
 * end (Z_FINISH, BZ_FINISH). A stream that failed stays failed: later
 * calls return -CEL_E_INTERNAL without touching the library.
 */
#include <bzlib.h>
#include <zlib.h>

#include "cel.h"
#include "comp_stream.h"

#define OUT_CHUNK (256u << 10)

struct comp_stream {
    enum comp_kind kind;
    comp_out_fn out;
    void *ctx;
    z_stream zs;
    bz_stream bs;
    unsigned char *buf;
    uint64_t in_bytes, out_bytes;
    bool failed, finished;
};

struct comp_stream *comp_stream_new(enum comp_kind kind, int level, comp_out_fn out, void *ctx,
                                    struct cel_err *err)
{
    if (kind != COMP_NONE && kind != COMP_GZIP && kind != COMP_BZIP2) {
        cel_err_set(err, CEL_E_INVALID, "%s cannot compress a stream", comp_name(kind));
        return NULL;
    }
    if (level < 0 || level > 9) {
        cel_err_set(err, CEL_E_INVALID, "compression level %d out of range 1-9", level);
        return NULL;
    }
    struct comp_stream *s = cel_xcalloc(1, sizeof *s);
    s->kind = kind;
    s->out = out;
    s->ctx = ctx;
    int ok = 1;
    if (kind == COMP_GZIP)
        /* windowBits 15 + 16: the gzip wrapper */
        ok = deflateInit2(&s->zs, level ? level : 6, Z_DEFLATED, 15 + 16, 8,
                          Z_DEFAULT_STRATEGY) == Z_OK;
    else if (kind == COMP_BZIP2)
        ok = BZ2_bzCompressInit(&s->bs, level ? level : 9, 0, 0) == BZ_OK;
    if (!ok) {
        free(s);
        cel_err_set(err, CEL_E_NOMEM, "cannot start the %s compressor", comp_name(kind));
        return NULL;
    }
    if (kind != COMP_NONE)
        s->buf = cel_xmalloc(OUT_CHUNK);
    return s;
}

/* Hand the n bytes the library wrote in buf to the callback. */
static int emit(struct comp_stream *s, size_t n, struct cel_err *err)
{
    if (n == 0)
        return 0;
    s->out_bytes += n;
    return s->out(s->ctx, s->buf, n, err);
}

/* Run the library over the pending input with flush (Z_NO_FLUSH or
 * Z_FINISH, as BZ_RUN or BZ_FINISH for bzip2) until it is taken (or, when
 * finishing, the stream is ended). */
static int drive(struct comp_stream *s, bool finish, struct cel_err *err)
{
    for (;;) {
        int rc;
        bool done;
        if (s->kind == COMP_GZIP) {
            s->zs.next_out = s->buf;
            s->zs.avail_out = OUT_CHUNK;
            int zr = deflate(&s->zs, finish ? Z_FINISH : Z_NO_FLUSH);
            if (zr == Z_STREAM_ERROR)
                return cel_err_set(err, CEL_E_INTERNAL, "zlib: %s",
                                   s->zs.msg ? s->zs.msg : "stream error");
            rc = emit(s, OUT_CHUNK - s->zs.avail_out, err);
            done = finish ? zr == Z_STREAM_END : s->zs.avail_in == 0 && s->zs.avail_out != 0;
        } else {
            s->bs.next_out = (char *)s->buf;
            s->bs.avail_out = OUT_CHUNK;
            int br = BZ2_bzCompress(&s->bs, finish ? BZ_FINISH : BZ_RUN);
            if (br < 0)
                return cel_err_set(err, CEL_E_INTERNAL, "libbz2 error %d", br);
            rc = emit(s, OUT_CHUNK - s->bs.avail_out, err);
            done = finish ? br == BZ_STREAM_END : s->bs.avail_in == 0;
        }
        if (rc < 0 || done)
            return rc;
    }
}

int comp_stream_write(struct comp_stream *s, const void *buf, size_t len, struct cel_err *err)
{
    if (s->failed || s->finished)
        return cel_err_set(err, CEL_E_INTERNAL, "write to a %s compressor",
                           s->failed ? "failed" : "finished");
    s->in_bytes += len;
    if (s->kind == COMP_NONE) {
        s->out_bytes += len;
        int rc = len ? s->out(s->ctx, buf, len, err) : 0;
        s->failed = rc < 0;
        return rc;
    }
    const unsigned char *p = buf;
    while (len > 0) {
        /* the libraries count input in unsigned int */
        size_t n = len > (1u << 30) ? (1u << 30) : len;
        if (s->kind == COMP_GZIP) {
            s->zs.next_in = (unsigned char *)(uintptr_t)p;
            s->zs.avail_in = (uInt)n;
        } else {
            s->bs.next_in = (char *)(uintptr_t)p;
            s->bs.avail_in = (unsigned)n;
        }
        int rc = drive(s, false, err);
        if (rc < 0) {
            s->failed = true;
            return rc;
        }
        p += n;
        len -= n;
    }
    return 0;
}

int comp_stream_finish(struct comp_stream *s, struct cel_err *err)
{
    if (s->failed || s->finished)
        return cel_err_set(err, CEL_E_INTERNAL, "finish a %s compressor",
                           s->failed ? "failed" : "finished");
    s->finished = true;
    if (s->kind == COMP_NONE)
        return 0;
    if (s->kind == COMP_GZIP)
        s->zs.avail_in = 0;
    else
        s->bs.avail_in = 0;
    int rc = drive(s, true, err);
    s->failed = rc < 0;
    return rc;
}

uint64_t comp_stream_in(const struct comp_stream *s)
{
    return s->in_bytes;
}

uint64_t comp_stream_out(const struct comp_stream *s)
{
    return s->out_bytes;
}

void comp_stream_free(struct comp_stream *s)
{
    if (!s)
        return;
    if (s->kind == COMP_GZIP)
        deflateEnd(&s->zs);
    else if (s->kind == COMP_BZIP2)
        BZ2_bzCompressEnd(&s->bs);
    free(s->buf);
    free(s);
}
