/*
 * s3_client.h - a client of an S3-compatible object store, on libcurl.
 *
 * One struct s3_client talks to one bucket. The caller fills a struct
 * s3_conf with plain strings (where they come from, the environment, a
 * credentials file or the configuration, is not this module's business)
 * and gets a client that keeps one libcurl handle, and so its connections,
 * across requests. Requests are signed by libcurl (CURLOPT_AWS_SIGV4); the
 * canonical query string, the key encoding and the payload hash that SigV4
 * covers are cellar's (s3_query.h), because libcurl 7.88 does not make
 * them. Every request carries x-amz-content-sha256, and every PUT a
 * Content-MD5, so the store refuses bytes that are not those sent.
 *
 * Failures are retried with exponential backoff and full jitter: connection
 * errors, time-outs, 5xx (503 SlowDown included) and 429; never another
 * 4xx. Only idempotent requests are retried, and a retried PUT sends its
 * whole body again (from memory, or read again from the file at its offset).
 * A GET that breaks after delivering bytes resumes with a Range from where
 * it stopped, pinned to the first reply's ETag with If-Match, so the
 * callback never sees a byte twice.
 *
 * Errors come back in struct cel_err: CEL_E_NOT_FOUND for a missing key or
 * bucket, CEL_E_CLOUD with the store's code and message ("403
 * SignatureDoesNotMatch: ...") for other refusals (with a hint on 403),
 * CEL_E_IO when the store cannot be reached, CEL_E_TIMEOUT when a transfer
 * stalled, CEL_E_CONFLICT when an object changed while a GET resumed, and
 * whatever a caller's callback returned. No message ever holds the secret
 * key or the session token. Nothing here prints or exits; every call
 * blocks until done.
 *
 * A client is used by one thread at a time; s3_upload runs its own worker
 * threads, each with its own libcurl handle.
 */
#ifndef CEL_S3_CLIENT_H
#define CEL_S3_CLIENT_H

#include <sys/types.h>

#include "error.h"

struct s3_conf {
    const char *endpoint; /* "http://127.0.0.1:8080" or "https://s3.eu-west-1.amazonaws.com" */
    const char *region;   /* NULL: "us-east-1" */
    const char *bucket;
    bool path_style; /* https://host/bucket/key instead of https://bucket.host/key */
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* NULL or "" when there is none */
    int retries;               /* attempts after the first; 0: 5, negative: none */
    int retry_base_ms;         /* first backoff; 0: 200 ms (doubling, at most 10 s) */
    int timeout_s;             /* a transfer stalled this long fails; 0: 60 s */
};

struct s3_client;

/* A client for conf (copied: the strings need not outlive the call). Sends
 * nothing yet. Returns 0, or -CEL_E_INVALID for an endpoint that is not
 * http:// or https://, or no bucket or credentials. */
int s3_client_new(const struct s3_conf *conf, struct s3_client **out, struct cel_err *err);
void s3_client_free(struct s3_client *c);

/* Create the bucket (PUT on the bucket); one that exists and is the
 * caller's already is no error. */
int s3_bucket_create(struct s3_client *c, struct cel_err *err);

/* Store len bytes at buf under key (one PUT, at most 5 GiB). */
int s3_put(struct s3_client *c, const char *key, const void *buf, size_t len,
           struct cel_err *err);
/* Store the file open at fd, from offset 0 to its end, with one PUT: the
 * file is read twice (the payload hash, then the body) and again on a
 * retry, so it must be a regular file that does not change meanwhile. */
int s3_put_fd(struct s3_client *c, const char *key, int fd, struct cel_err *err);

/* Receives the bytes of a GET in order; returns 0 to go on, or a negative
 * cel_code (with err filled) to stop the transfer, which the GET returns. */
typedef int (*s3_write_fn)(void *ctx, const void *buf, size_t len, struct cel_err *err);

/* GET key: the bytes from offset for length bytes (length 0: to the end;
 * offset 0 and length 0: the whole object) to write. */
int s3_get(struct s3_client *c, const char *key, uint64_t offset, uint64_t length,
           s3_write_fn write, void *ctx, struct cel_err *err);

struct s3_head {
    bool exists;
    uint64_t size;
    char etag[128]; /* as sent, quotes included */
};
/* HEAD key: a missing key is exists = false and returns 0. */
int s3_head(struct s3_client *c, const char *key, struct s3_head *out, struct cel_err *err);

/* DELETE key; deleting a key that does not exist succeeds (as in S3). */
int s3_delete(struct s3_client *c, const char *key, struct cel_err *err);
/* Delete n keys: DeleteObjects in batches of 1,000 (with Content-MD5), or
 * one DELETE per key when the store refuses DeleteObjects (then for the
 * rest of the client's life). Keys that did not exist count as deleted.
 * Stops at the first key that could not be deleted. */
int s3_delete_many(struct s3_client *c, const char *const *keys, size_t n, struct cel_err *err);

/* One entry of a listing, valid during the callback. */
struct s3_entry {
    const char *key; /* the object's key, or the common prefix (ends with the delimiter) */
    bool is_prefix;
    uint64_t size;
    const char *etag;          /* "" for a prefix */
    const char *last_modified; /* "" for a prefix */
};
/* Returns 0 to go on, or a negative cel_code to stop the listing, which
 * s3_list then returns. */
typedef int (*s3_list_fn)(void *ctx, const struct s3_entry *e, struct cel_err *err);

struct s3_list_opts {
    const char *prefix;    /* NULL: every key */
    const char *delimiter; /* NULL: none; "/" groups keys into common prefixes */
    int max_keys;          /* per page; 0: the store's default (1,000) */
};
/* ListObjectsV2 through every page, in the store's (lexicographic) order. */
int s3_list(struct s3_client *c, const struct s3_list_opts *opts, s3_list_fn fn, void *ctx,
            struct cel_err *err);

/* Fills buf with up to len bytes of the stream to upload: returns how
 * many (0 at its end), or a negative cel_code with err filled. Called from
 * s3_upload's worker threads, one at a time. */
typedef ssize_t (*s3_read_fn)(void *ctx, void *buf, size_t len, struct cel_err *err);

#define S3_PART_MIN (5u << 20)          /* S3's (and Swift's) smallest part but the last */
#define S3_MAX_PARTS 1000               /* Swift's limit (AWS allows 10,000) */
#define S3_PART_MAX (5ull << 30)        /* S3's largest part */

struct s3_upload_opts {
    uint64_t expected_size; /* 0: unknown; only chooses the part size */
    size_t part_size;       /* 0: from expected_size, else 16 MiB growing */
    int parallel;           /* parts in flight; 0: 4 */
};

struct s3_upload_result {
    uint64_t size;  /* bytes stored */
    unsigned parts; /* 0 when it went as one PUT */
};

/* Store a stream of any size under key. A stream that fits in the first
 * part goes as one PUT; a longer one as a multipart upload, its parts sent
 * by opts->parallel threads at once. With an expected size the part size is
 * chosen so the parts stay within S3_MAX_PARTS (at least S3_PART_MIN); for a
 * stream of unknown size it starts at 16 MiB and doubles every 200 parts.
 * A failure aborts the multipart upload, so no object appears; the key's
 * previous object, if any, is left as it was. Memory: one part per thread. */
int s3_upload(struct s3_client *c, const char *key, s3_read_fn read, void *ctx,
              const struct s3_upload_opts *opts, struct s3_upload_result *res,
              struct cel_err *err);

/* The size of part n (from 1) of an upload with these options: what
 * s3_upload uses, public for tests. */
uint64_t s3_part_size(const struct s3_upload_opts *opts, unsigned n);

#endif
