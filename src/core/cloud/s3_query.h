/*
 * s3_query.h - the request pieces SigV4 signs, encoded the way S3 wants them.
 *
 * libcurl 7.88 signs the URL it is given as it is: it neither encodes nor
 * sorts the query string, so a query with an unencoded '/' or with its
 * parameters out of order is refused with 403. cellar builds the canonical
 * form itself and hands libcurl a URL that is already canonical:
 *   - every name and value percent-encoded except RFC 3986's unreserved
 *     characters (A-Z a-z 0-9 - . _ ~), with upper-case hex digits;
 *   - parameters sorted by encoded name, then encoded value;
 *   - a parameter without a value written "name=" (what the canonical
 *     query string holds, and what S3 accepts on the wire).
 * Object keys in the path are encoded the same way but keep '/': S3 does not
 * encode the path twice.
 *
 * Also here: the digests S3 asks for, SHA-256 of the payload in hex for
 * x-amz-content-sha256 (every request) and Content-MD5 (base64 of the MD5),
 * which DeleteObjects requires and every PUT of cellar's sends so the store
 * checks the bytes it got. Both come from libcrypto's EVP interface.
 */
#ifndef CEL_S3_QUERY_H
#define CEL_S3_QUERY_H

#include "strbuf.h"

/* Append the len bytes at s to sb percent-encoded; keep_slash leaves '/'
 * as it is (for keys in a path). */
void s3_uri_encode(struct strbuf *sb, const char *s, size_t len, bool keep_slash);

/* A query string being built: add parameters in any order, render once. */
struct s3_query {
    struct s3_param {
        char *name;  /* encoded */
        char *value; /* encoded; "" for a parameter without a value */
    } *params;
    size_t n, cap;
};

/* Add name=value (value may be NULL: the parameter has no value). The
 * strings are copied. */
void s3_query_add(struct s3_query *q, const char *name, const char *value);
/* Append the canonical query string (sorted, "a=1&b=2", nothing when there
 * are no parameters, no leading '?') to sb. */
void s3_query_render(const struct s3_query *q, struct strbuf *sb);
void s3_query_free(struct s3_query *q);

/* Lower-case hex SHA-256 of the payload, 64 characters and a NUL. */
#define S3_SHA256_HEX 65
void s3_sha256_hex(const void *buf, size_t len, char out[S3_SHA256_HEX]);
/* The hash of the empty payload, what bodiless requests send. */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Content-MD5: base64 of the MD5, 24 characters and a NUL. */
#define S3_MD5_B64 25

/* The SHA-256 (hex) and the Content-MD5 (base64) of a payload read in
 * pieces (a file sent by PUT). */
struct s3_digest;
struct s3_digest *s3_digest_new(void);
void s3_digest_update(struct s3_digest *d, const void *buf, size_t len);
/* MD5 in lower-case hex, what a single PUT's ETag holds, and a NUL. */
#define S3_MD5_HEX 33
/* Write the digests and free d; md5_hex may be NULL. */
void s3_digest_end(struct s3_digest *d, char sha256[S3_SHA256_HEX], char md5[S3_MD5_B64],
                   char md5_hex[S3_MD5_HEX]);

/* The digests of the first size bytes of the file open at fd, read once
 * from offset 0 (a file to PUT, and to check against its ETag after). */
struct s3_file_digest {
    char sha256[S3_SHA256_HEX];
    char md5_b64[S3_MD5_B64];
    char md5_hex[S3_MD5_HEX];
};
/* 0, or -1 with errno (EIO when the file is shorter than size). */
int s3_file_digest(int fd, uint64_t size, struct s3_file_digest *out);

/* Base64 of the MD5 of the payload (Content-MD5). */
void s3_md5_base64(const void *buf, size_t len, char out[S3_MD5_B64]);

#endif
