/*
 * s3_int.h - what the files of the S3 client share (not for other modules).
 *
 * s3_http.c sends one request, retrying it as s3_client.h describes;
 * s3_client.c holds the client and the single-object operations,
 * s3_list.c listing and multi-object delete, s3_upload.c the multipart
 * upload. Each request is described by a struct s3_req and answered in a
 * struct s3_resp.
 */
#ifndef CEL_S3_INT_H
#define CEL_S3_INT_H

#include <curl/curl.h>
#include <sys/types.h>

#include "s3_client.h"
#include "s3_query.h"
#include "strbuf.h"

struct s3_client {
    char *base;    /* "http://host:port/bucket" (path style) or "http://bucket.host:port" */
    char *bucket;
    char *sigv4;   /* "aws:amz:REGION:s3" */
    char *access_key;
    char *secret_key;
    char *token_header; /* "x-amz-security-token: ..." or NULL */
    int retries;
    int retry_base_ms;
    int timeout_s;
    bool no_multi_delete; /* the store refused DeleteObjects once */
    CURL *curl;           /* the handle of the client's own requests */
};

struct s3_req {
    const char *method; /* "GET", "PUT", "POST", "DELETE", "HEAD" */
    const char *key;    /* NULL: the bucket itself */
    const struct s3_query *query;
    /* the body, from memory ... */
    const void *body;
    size_t body_len;
    /* ... or from a file (body_fd >= 0): body_len bytes from offset 0 */
    int body_fd;
    const char *payload_sha256; /* NULL: computed from body */
    const char *content_md5;    /* NULL: none */
    const char *content_type;   /* NULL: none */
    /* GET: where the bytes go (NULL: into resp->body, up to 16 MiB), and
     * the range asked for (range_len 0: to the end) */
    s3_write_fn write;
    void *write_ctx;
    uint64_t range_start;
    uint64_t range_len;
    bool ranged;
};

struct s3_resp {
    long status;
    struct strbuf body; /* an error's body, or the reply when req->write is NULL */
    char etag[128];
    uint64_t content_length;
    bool has_length;
};

/* Send req through handle h (c->curl, or a worker's own) with retries.
 * Returns 0 when the store answered 2xx (resp filled), else the error: a
 * 404 is -CEL_E_NOT_FOUND (resp->status says so), other refusals
 * -CEL_E_CLOUD with the store's code and message, unreachable -CEL_E_IO.
 * what names the request in messages ("PUT 'key'"). The caller frees
 * resp->body with sb_free, whatever the result. */
int s3_request(struct s3_client *c, CURL *h, const struct s3_req *req, struct s3_resp *resp,
               struct cel_err *err);

/* The wait before retry attempt+1, in milliseconds: base * 2^attempt,
 * at most S3_MAX_BACKOFF_MS, of which half is fixed and half taken from
 * rnd ("equal jitter"). Pure, so the unit tests pin its bounds. */
#define S3_MAX_BACKOFF_MS 10000
long s3_backoff_ms(long base_ms, int attempt, unsigned rnd);

/* A fresh libcurl handle (or the OOM hook). */
CURL *s3_handle_new(void);

/* Append s to sb with XML's special characters escaped. */
void s3_xml_escape(struct strbuf *sb, const char *s);

#endif
