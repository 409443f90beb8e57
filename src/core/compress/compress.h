/*
 * compress.h - the WAL archive's compressions: none, gzip, bzip2, zstd, lz4
 * (each through its library) and custom (the DBA's filter commands).
 *
 * Archived files keep their plain name whatever the compression (Barman's
 * layout), so the compression of a file is recognised by its first bytes:
 * gzip 1f 8b 08, bzip2 "BZh", zstd 28 b5 2f fd, lz4 04 22 4d 18, custom the
 * configured custom_compression_magic. Anything else is stored plain.
 *
 * Files are written in the formats the command-line tools read (gzip -d,
 * bunzip2, zstd -d, lz4 -d), so an archive stays readable without cellar.
 * Barman 3.4 reads gzip and bzip2 natively; it reads zstd and lz4 archives
 * only when configured with compression = custom and the matching
 * custom_decompression_filter ("zstd -dc", "lz4 -dc") and
 * custom_compression_magic.
 *
 * Writing never renames: comp_compress_file writes and fsyncs dst, and the
 * caller moves it into place, so a crash never leaves a half-written file
 * under an archived name.
 *
 * Decompression is strict: a file is accepted only when its last stream ends
 * exactly at the end of the file. Concatenated streams are read as the tools
 * read them (gzip members as gzip -d and Python's gzip module do, bzip2
 * streams, zstd and lz4 frames including skippable frames); anything else
 * after a stream, even zero padding that gzip -d lets pass with a warning, is
 * refused. Every such error is -CEL_E_FORMAT with the message
 * "invalid <kind> data in '<path>': <why>", why being "unexpected end of
 * file", "unexpected data after the end of the compressed data at offset
 * <n>", or the library's reason ("incorrect data check").
 *
 * Memory is bounded whatever the file size: files are streamed in 1 MiB
 * chunks. Nothing here prints; every function blocks until done (custom
 * filters: until the filter ends or timeout_ms passes).
 */
#ifndef CEL_COMPRESS_H
#define CEL_COMPRESS_H

#include "error.h"

enum comp_kind {
    COMP_NONE,
    COMP_GZIP,
    COMP_BZIP2,
    COMP_ZSTD,
    COMP_LZ4,
    COMP_CUSTOM,
};

/* Room for the longest custom magic (16 bytes). */
#define COMP_MAGIC_MAX 16

struct comp_opts {
    int level; /* 0: the tool's default (gzip 6, bzip2 9, zstd 3, lz4 1); else gzip and
                * bzip2 1-9, zstd 1-22, lz4 1-12 (3 and up: lz4 HC); ignored for none
                * and custom */
    const char *custom_compress;       /* COMP_CUSTOM: shell filter stdin -> stdout */
    const char *custom_decompress;     /* COMP_CUSTOM: shell filter stdin -> stdout */
    const unsigned char *custom_magic; /* first bytes of a custom file, may be NULL */
    size_t custom_magic_len;
    const char *path_prefix; /* for the custom filters' PATH */
    const char *const *env;  /* extra environment of the custom filters */
    int timeout_ms;          /* custom filters; 0: none */
};

/* "none", "gzip", "bzip2", "zstd", "lz4", "custom" ("unknown" for a value
 * outside the enum). A static string. */
const char *comp_name(enum comp_kind kind);
/* The kind an xlog.db compression field names: gzip, pigz, pygzip -> gzip;
 * bzip2, pybzip2 -> bzip2; zstd; lz4; custom; "" or "None" -> none.
 * -CEL_E_INVALID for anything else. */
int comp_parse_name(const char *name, enum comp_kind *out, struct cel_err *err);

/* The kind whose magic starts buf (len bytes read from the start of a
 * file); COMP_NONE when none matches. A custom magic (when given) is checked
 * first. opts may be NULL. Barman's rule for compression = custom without a
 * custom_compression_magic (every file not recognised is custom) is the
 * caller's to apply: this function does not know the configured kind. */
enum comp_kind comp_detect(const unsigned char *buf, size_t len, const struct comp_opts *opts);
/* comp_detect on the first bytes of the file at path. -CEL_E_IO naming the
 * file when it cannot be opened or read (err->sys_errno tells ENOENT). */
int comp_detect_file(const char *path, const struct comp_opts *opts, enum comp_kind *out,
                     struct cel_err *err);

/* Compress the file src into dst with kind (COMP_NONE copies). dst is
 * created 0600 (an existing dst is unlinked first, so a file linked to it
 * elsewhere is left alone), written in full and fsynced; it is not renamed.
 * *out_size (may be NULL) gets dst's size. Once dst has been created, any
 * failure removes it; a failure before (src cannot be opened, bad options,
 * src and dst the same file) leaves dst untouched.
 * Errors: -CEL_E_IO naming the file (also when src changed size while it was
 * read); -CEL_E_PROC for a custom filter that did not exit 0 ("custom
 * compression filter '<cmd>' failed on '<src>': exited with status 1:
 * <its stderr on one line>") or could not start; -CEL_E_TIMEOUT when it ran
 * past opts->timeout_ms; -CEL_E_INVALID for a level out of range;
 * -CEL_E_CONFIG for custom without custom_compress; -CEL_E_NOMEM when a
 * library cannot allocate; -CEL_E_INTERNAL for a kind outside the enum. */
int comp_compress_file(enum comp_kind kind, const char *src, const char *dst,
                       const struct comp_opts *opts, uint64_t *out_size, struct cel_err *err);

/* Decompress the file src, written with kind, onto the open descriptor
 * out_fd (which is not closed or fsynced; it may be a pipe). *out_bytes (may
 * be NULL) gets the number of bytes written, 0 on failure (when part of the
 * data may have been written already). A file that does not decompress
 * cleanly (bad data, truncated, trailing garbage) is -CEL_E_FORMAT naming
 * src; other errors as comp_compress_file's, with "decompression" for custom
 * (custom_decompress runs with src as its stdin and its stdout read through
 * a pipe). */
int comp_decompress_to_fd(enum comp_kind kind, const char *src, int out_fd,
                          const struct comp_opts *opts, uint64_t *out_bytes, struct cel_err *err);

/* Decompress the file src, written with kind, handing the bytes to fn as
 * they come (in pieces of at most 1 MiB, in order), so a reader can consume
 * a whole archive without it touching the disk (verify-backup reads tar
 * backups so). fn returns 0 to go on, a positive value to stop (then
 * returned as is: the decompression ends early, without reading the rest),
 * or a negative CEL_E code with err set (returned as is). *out_bytes (may
 * be NULL) gets the bytes handed to fn. Errors as comp_decompress_to_fd's. */
int comp_decompress_each(enum comp_kind kind, const char *src, const struct comp_opts *opts,
                         int (*fn)(void *ctx, const unsigned char *data, size_t len,
                                   struct cel_err *err),
                         void *ctx, uint64_t *out_bytes, struct cel_err *err);

/* As comp_decompress_each, the compressed bytes read from the open
 * descriptor fd (a pipe fed by a download, say) to its end instead of from
 * a file; fd is not closed. what names the stream in messages. COMP_CUSTOM
 * is -CEL_E_INVALID (its filters read files). Blocks on fd. */
int comp_decompress_fd_each(enum comp_kind kind, int fd, const char *what,
                            int (*fn)(void *ctx, const unsigned char *data, size_t len,
                                      struct cel_err *err),
                            void *ctx, uint64_t *out_bytes, struct cel_err *err);

/* Whether the archived file archived (written with kind) holds exactly the
 * bytes of the plain file plain. *same is set (false on error). Nothing is
 * written anywhere: the decompressed bytes are compared with plain as they
 * come, and the first difference ends the work (custom: the filter still
 * runs to its end, and its failure is still an error). Errors as above. */
int comp_same_content(enum comp_kind kind, const char *archived, const char *plain,
                      const struct comp_opts *opts, bool *same, struct cel_err *err);

/* Parse custom_compression_magic ("0x28b52ffd", or "0X...") into bytes:
 * 1 to COMP_MAGIC_MAX of them, so an even number of hexadecimal digits, as
 * Barman's unhexlify needs. 0 or -CEL_E_INVALID ("invalid value '<hex>':
 * expected ..."; *len is then 0). The configuration loader is its one
 * caller: everything else reads the bytes from struct cfg_magic. */
int comp_parse_magic(const char *hex, unsigned char out[COMP_MAGIC_MAX], size_t *len,
                     struct cel_err *err);

#endif
