/*
 * s3_client.c - the client object and the single-object requests: PUT
 * (from memory or a file), GET (whole or a range, streamed to a callback),
 * HEAD and DELETE. Each builds a struct s3_req and hands it to s3_request
 * (s3_http.c), which signs, sends and retries it.
 *
 * libcurl's global state is set up once per process, the first time a
 * client is made (pthread_once: s3_upload's threads may make handles).
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3_int.h"
#include "s3_xml.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_ALL);
}

static bool empty(const char *s)
{
    return !s || !*s;
}

int s3_client_new(const struct s3_conf *conf, struct s3_client **out, struct cel_err *err)
{
    *out = NULL;
    const char *ep = conf->endpoint;
    char shown[CEL_SHOW_BUF];
    if (empty(ep) || !(cel_str_starts(ep, "http://") || cel_str_starts(ep, "https://")))
        return cel_err_set(err, CEL_E_INVALID, "invalid S3 endpoint '%s': expected http:// or "
                           "https:// and a host", cel_show(ep ? ep : "", ep ? strlen(ep) : 0, shown));
    if (empty(conf->bucket))
        return cel_err_set(err, CEL_E_INVALID, "no S3 bucket given");
    if (empty(conf->access_key) || empty(conf->secret_key))
        return cel_err_set(err, CEL_E_INVALID, "no S3 credentials given (access key and secret key)");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return cel_err_set(err, CEL_E_INTERNAL, "cannot initialise libcurl: %s",
                           curl_easy_strerror(curl_init_rc));

    struct s3_client *c = cel_xcalloc(1, sizeof *c);
    size_t eplen = strlen(ep);
    while (eplen && ep[eplen - 1] == '/')
        eplen--;
    if (conf->path_style) {
        c->base = cel_xasprintf("%.*s/%s", (int)eplen, ep, conf->bucket);
    } else {
        const char *host = strstr(ep, "://") + 3;
        c->base = cel_xasprintf("%.*s%s.%.*s", (int)(host - ep), ep, conf->bucket,
                                (int)(eplen - (size_t)(host - ep)), host);
    }
    c->bucket = cel_xstrdup(conf->bucket);
    c->sigv4 = cel_xasprintf("aws:amz:%s:s3", empty(conf->region) ? "us-east-1" : conf->region);
    c->access_key = cel_xstrdup(conf->access_key);
    c->secret_key = cel_xstrdup(conf->secret_key);
    if (!empty(conf->session_token))
        c->token_header = cel_xasprintf("x-amz-security-token: %s", conf->session_token);
    c->retries = conf->retries == 0 ? 5 : conf->retries < 0 ? 0 : conf->retries;
    c->retry_base_ms = conf->retry_base_ms > 0 ? conf->retry_base_ms : 200;
    c->timeout_s = conf->timeout_s > 0 ? conf->timeout_s : 60;
    c->curl = s3_handle_new();
    *out = c;
    return 0;
}

/* Overwrite a secret before its memory goes back to malloc. */
static void wipe_free(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
        free(s);
    }
}

void s3_client_free(struct s3_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->base);
    free(c->bucket);
    free(c->sigv4);
    free(c->access_key);
    wipe_free(c->secret_key);
    wipe_free(c->token_header);
    free(c);
}

int s3_bucket_create(struct s3_client *c, struct cel_err *err)
{
    struct s3_resp resp = {0};
    struct s3_xml_error e;
    struct cel_err ignored = {0};
    struct s3_req r = {.method = "PUT", .body = "", .body_fd = -1};
    int rc = s3_request(c, c->curl, &r, &resp, err);
    if (rc && resp.status == 409 &&
        s3_xml_parse_error(resp.body.buf, resp.body.len, &e, &ignored) == 0 &&
        strcmp(e.code, "BucketAlreadyOwnedByYou") == 0) {
        cel_err_clear(err);
        rc = 0;
    }
    sb_free(&resp.body);
    return rc;
}

int s3_put(struct s3_client *c, const char *key, const void *buf, size_t len, struct cel_err *err)
{
    struct s3_resp resp = {0};
    char md5[S3_MD5_B64];
    s3_md5_base64(len ? buf : "", len, md5);
    struct s3_req r = {.method = "PUT", .key = key, .body = len ? buf : "", .body_len = len,
                       .body_fd = -1, .content_md5 = md5};
    int rc = s3_request(c, c->curl, &r, &resp, err);
    sb_free(&resp.body);
    return rc;
}

int s3_put_fd(struct s3_client *c, const char *key, int fd, struct cel_err *err)
{
    struct stat st;
    char shown[CEL_SHOW_BUF];
    if (fstat(fd, &st) != 0)
        return cel_err_sys(err, CEL_E_IO, errno, "S3 PUT '%s': cannot stat the file",
                           cel_show(key, strlen(key), shown));
    if (!S_ISREG(st.st_mode))
        return cel_err_set(err, CEL_E_INVALID, "S3 PUT '%s': not a regular file",
                           cel_show(key, strlen(key), shown));
    /* the digests first: SigV4 signs the hash before the body goes */
    struct s3_file_digest dg;
    uint64_t size = (uint64_t)st.st_size;
    if (s3_file_digest(fd, size, &dg) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "S3 PUT '%s': cannot read the file",
                           cel_show(key, strlen(key), shown));

    struct s3_resp resp = {0};
    struct s3_req r = {.method = "PUT", .key = key, .body_fd = fd, .body_len = size,
                       .payload_sha256 = dg.sha256, .content_md5 = dg.md5_b64};
    int rc = s3_request(c, c->curl, &r, &resp, err);
    sb_free(&resp.body);
    return rc;
}

int s3_get(struct s3_client *c, const char *key, uint64_t offset, uint64_t length,
           s3_write_fn write, void *ctx, struct cel_err *err)
{
    struct s3_resp resp = {0};
    struct s3_req r = {.method = "GET", .key = key, .body_fd = -1, .write = write,
                       .write_ctx = ctx, .range_start = offset, .range_len = length,
                       .ranged = offset || length};
    int rc = s3_request(c, c->curl, &r, &resp, err);
    sb_free(&resp.body);
    return rc;
}

int s3_head(struct s3_client *c, const char *key, struct s3_head *out, struct cel_err *err)
{
    struct s3_resp resp = {0};
    struct s3_req r = {.method = "HEAD", .key = key, .body_fd = -1};
    struct cel_err e = {0};
    *out = (struct s3_head){0};
    int rc = s3_request(c, c->curl, &r, &resp, &e);
    sb_free(&resp.body);
    if (rc == -CEL_E_NOT_FOUND)
        return 0;
    if (rc) {
        if (err)
            *err = e;
        return rc;
    }
    out->exists = true;
    out->size = resp.has_length ? resp.content_length : 0;
    cel_strlcpy(out->etag, resp.etag, sizeof out->etag);
    return 0;
}

int s3_delete(struct s3_client *c, const char *key, struct cel_err *err)
{
    struct s3_resp resp = {0};
    struct s3_req r = {.method = "DELETE", .key = key, .body_fd = -1};
    struct s3_xml_error e;
    struct cel_err ignored = {0};
    int rc = s3_request(c, c->curl, &r, &resp, err);
    /* S3 answers 204 for a key that is not there; a store that says 404
     * NoSuchKey means the same, a missing bucket does not */
    if (rc == -CEL_E_NOT_FOUND &&
        !(s3_xml_parse_error(resp.body.buf, resp.body.len, &e, &ignored) == 0 &&
          strcmp(e.code, "NoSuchBucket") == 0)) {
        cel_err_clear(err);
        rc = 0;
    }
    sb_free(&resp.body);
    return rc;
}
