/*
 * comp_stream.h - compression of a stream that is written piece by piece,
 * its output handed to a callback: what a tar archive streamed to an
 * object store needs, where compress.h works on whole files.
 *
 * The output is what the command-line tools and Python's gzip and bz2
 * modules read: a gzip member (zlib's gzip wrapper) or a bzip2 stream;
 * COMP_NONE passes the bytes through. Memory is bounded (one output chunk
 * of 256 KiB and the library's state). Nothing here prints; the callback's
 * error is returned as is.
 */
#ifndef CEL_COMP_STREAM_H
#define CEL_COMP_STREAM_H

#include "compress.h"
#include "error.h"

/* Receives compressed bytes in order; 0 to go on, a negative cel_code with
 * err filled to stop. */
typedef int (*comp_out_fn)(void *ctx, const void *buf, size_t len, struct cel_err *err);

struct comp_stream;

/* A stream compressing with kind (COMP_NONE, COMP_GZIP or COMP_BZIP2) at
 * level (0: the tool's default). NULL with -CEL_E_INVALID in err for
 * another kind or a bad level, -CEL_E_NOMEM when the library cannot start. */
struct comp_stream *comp_stream_new(enum comp_kind kind, int level, comp_out_fn out, void *ctx,
                                    struct cel_err *err);
/* Compress len bytes of buf (output may be held back until later). */
int comp_stream_write(struct comp_stream *s, const void *buf, size_t len, struct cel_err *err);
/* Flush everything and end the stream (its trailer written). */
int comp_stream_finish(struct comp_stream *s, struct cel_err *err);
/* Bytes given to comp_stream_write, and handed to the callback, so far. */
uint64_t comp_stream_in(const struct comp_stream *s);
uint64_t comp_stream_out(const struct comp_stream *s);
void comp_stream_free(struct comp_stream *s);

#endif
