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
    int level;                       /* 0: the tool's default (gzip 6, bzip2 9, zstd 3, lz4 1) */
    const char *custom_compress;     /* COMP_CUSTOM: shell filter stdin -> stdout */
    const char *custom_decompress;   /* COMP_CUSTOM: shell filter stdin -> stdout */
    const unsigned char *custom_magic; /* first bytes of a custom file, may be NULL */
    size_t custom_magic_len;
    const char *path_prefix; /* for the custom filters' PATH */
    const char *const *env;  /* extra environment of the custom filters */
    int timeout_ms;          /* custom filters; 0: none */
};

/* "none", "gzip", "bzip2", "zstd", "lz4", "custom". */
const char *comp_name(enum comp_kind kind);
/* The kind an xlog.db compression field names: gzip, pigz, pygzip -> gzip;
 * bzip2, pybzip2 -> bzip2; zstd; lz4; custom; "" or "None" -> none.
 * -CEL_E_INVALID for anything else. */
int comp_parse_name(const char *name, enum comp_kind *out, struct cel_err *err);

/* The kind whose magic starts buf (len bytes read from the start of a
 * file); COMP_NONE when none matches. A custom magic (when given) is checked
 * first. */
enum comp_kind comp_detect(const unsigned char *buf, size_t len, const struct comp_opts *opts);
/* comp_detect on the first bytes of the file at path. */
int comp_detect_file(const char *path, const struct comp_opts *opts, enum comp_kind *out,
                     struct cel_err *err);

/* Compress the file src into dst with kind (COMP_NONE copies). dst is
 * created 0600 (an existing dst is replaced), written in full and fsynced;
 * it is not renamed. *out_size (may be NULL) gets dst's size. On failure dst
 * is removed. Errors: -CEL_E_IO naming the file, -CEL_E_PROC for a failed
 * custom filter (with its stderr). */
int comp_compress_file(enum comp_kind kind, const char *src, const char *dst,
                       const struct comp_opts *opts, uint64_t *out_size, struct cel_err *err);

/* Decompress the file src, written with kind, onto the open descriptor
 * out_fd (which is not closed or fsynced). *out_bytes (may be NULL) gets the
 * number of bytes written. A file that does not decompress cleanly (bad
 * data, truncated, trailing garbage) is -CEL_E_FORMAT naming src. */
int comp_decompress_to_fd(enum comp_kind kind, const char *src, int out_fd,
                          const struct comp_opts *opts, uint64_t *out_bytes, struct cel_err *err);

/* Whether the archived file archived (written with kind) holds exactly the
 * bytes of the plain file plain. *same is set; errors as above. */
int comp_same_content(enum comp_kind kind, const char *archived, const char *plain,
                      const struct comp_opts *opts, bool *same, struct cel_err *err);

/* Parse custom_compression_magic ("0x28b52ffd") into bytes. 0 or
 * -CEL_E_INVALID. */
int comp_parse_magic(const char *hex, unsigned char out[COMP_MAGIC_MAX], size_t *len,
                     struct cel_err *err);

#endif
