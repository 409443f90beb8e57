/*
 * s3_http.c - one S3 request through libcurl, signed, retried when it may be.
 *
 * s3_request() sets up the handle from scratch for every attempt
 * (curl_easy_reset keeps the connection cache, so a client reuses its
 * connections): the URL with the key and the canonical query, SigV4 by
 * libcurl with the access key as CURLOPT_USERNAME (a key such as Swift's
 * "test:tester" holds a colon, which "user:password" would split), and the
 * headers SigV4 covers: x-amz-content-sha256 always, Content-MD5,
 * x-amz-security-token and Range when needed.
 *
 * A body is sent from memory or read from a file with pread at the
 * transfer's own offset, so a retry (or libcurl rewinding) sends it again
 * from the start. A GET's bytes go to the caller's callback only when the
 * reply is 2xx; an error's body is kept (bounded) and parsed as an S3
 * <Error> for the message.
 *
 * Retries: connection errors, time-outs, 5xx (but 501 and 505) and 429 are
 * tried again after
 * base * 2^attempt milliseconds (at most 10 s), half of it fixed and half
 * random ("equal jitter": many clients that failed together do not come
 * back together, and none comes back at once). A GET that had delivered
 * bytes resumes after them with If-Match on the first reply's ETag. The
 * POSTs the client sends are safe to repeat: DeleteObjects deletes what is
 * already deleted again, CompleteMultipartUpload of a completed upload
 * answers as the first time (Swift does; S3 documents it), and a repeated
 * CreateMultipartUpload leaves at worst an upload nobody completes.
 */
#include <curl/curl.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "s3_int.h"
#include "s3_xml.h"

#define S3_MAX_REPLY (16u << 20)     /* a reply read into memory (a listing page) */
#define S3_MAX_ERROR_BODY (64u << 10) /* what is kept of an error's body */

struct xfer {
    const struct s3_req *req;
    struct s3_resp *resp;
    long status;        /* of the last status line (a 100 Continue is replaced) */
    uint64_t sent;      /* body bytes handed to libcurl in this attempt */
    uint64_t delivered; /* GET bytes given to req->write, over all attempts */
    uint64_t attempt_delivered;
    int write_rc; /* the callback stopped the transfer */
    struct cel_err *write_err;
    int read_errno; /* reading the body's file failed */
    bool resuming;  /* a GET asked for the bytes after those delivered */
    bool bad_resume; /* ... and the store sent something else than 206 */
    bool reply_too_big;
};

CURL *s3_handle_new(void)
{
    CURL *h = curl_easy_init();
    if (!h)
        free(cel_xmalloc(SIZE_MAX)); /* libcurl could not allocate: the OOM hook */
    return h;
}

/* Does the header line at buf (len bytes) have this name? */
static const char *header_value(const char *buf, size_t len, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(buf, name, n) != 0 || buf[n] != ':')
        return NULL;
    const char *v = buf + n + 1;
    const char *end = buf + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *vlen = (size_t)(end - v);
    return v;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n, vlen;
    const char *v;
    if (len > 5 && strncmp(buf, "HTTP/", 5) == 0) {
        const char *sp = memchr(buf, ' ', len);
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        x->resp->etag[0] = '\0';
        x->resp->has_length = false;
    } else if ((v = header_value(buf, len, "etag", &vlen))) {
        size_t k = vlen < sizeof x->resp->etag ? vlen : sizeof x->resp->etag - 1;
        memcpy(x->resp->etag, v, k);
        x->resp->etag[k] = '\0';
    } else if ((v = header_value(buf, len, "content-length", &vlen))) {
        char num[32];
        if (vlen && vlen < sizeof num) {
            memcpy(num, v, vlen);
            num[vlen] = '\0';
            char *end;
            errno = 0;
            unsigned long long cl = strtoull(num, &end, 10);
            if (!errno && *end == '\0' && num[0] != '-') {
                x->resp->content_length = cl;
                x->resp->has_length = true;
            }
        }
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    bool ok = x->status >= 200 && x->status < 300;
    if (ok && x->req->write) {
        if (x->resuming && x->status != 206) {
            x->bad_resume = true; /* the bytes would come again from the start */
            return 0;
        }
        int rc = x->req->write(x->req->write_ctx, buf, len, x->write_err);
        if (rc) {
            x->write_rc = rc;
            return 0; /* not len: libcurl stops with CURLE_WRITE_ERROR */
        }
        x->delivered += len;
        x->attempt_delivered += len;
        return len;
    }
    size_t limit = ok ? S3_MAX_REPLY : S3_MAX_ERROR_BODY;
    if (x->resp->body.len + len > limit) {
        if (ok) {
            x->reply_too_big = true;
            return 0;
        }
        return len; /* an error's message is at its start: keep that, drop the rest */
    }
    sb_appendn(&x->resp->body, buf, len);
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    const struct s3_req *r = x->req;
    uint64_t left = r->body_len - x->sent;
    size_t k = size * n;
    if (k > left)
        k = (size_t)left;
    if (k == 0)
        return 0;
    if (r->body_fd >= 0) {
        ssize_t got;
        do
            got = pread(r->body_fd, buf, k, (off_t)x->sent);
        while (got < 0 && errno == EINTR);
        if (got <= 0) {
            x->read_errno = got < 0 ? errno : EIO; /* 0: the file shrank */
            return CURL_READFUNC_ABORT;
        }
        k = (size_t)got;
    } else {
        memcpy(buf, (const char *)r->body + x->sent, k);
    }
    x->sent += k;
    return k;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
    struct xfer *x = ud;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->req->body_len)
        return CURL_SEEKFUNC_FAIL;
    x->sent = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* "PUT 'key'" or "GET on bucket 'name'" for messages. */
static void describe(const struct s3_client *c, const struct s3_req *r, char *out, size_t size)
{
    char shown[CEL_SHOW_BUF];
    if (r->key)
        snprintf(out, size, "%s '%s'", r->method, cel_show(r->key, strlen(r->key), shown));
    else
        snprintf(out, size, "%s on bucket '%s'", r->method,
                 cel_show(c->bucket, strlen(c->bucket), shown));
}

static char *request_url(const struct s3_client *c, const struct s3_req *r)
{
    struct strbuf sb = {0};
    sb_append(&sb, c->base);
    sb_appendc(&sb, '/');
    if (r->key)
        s3_uri_encode(&sb, r->key, strlen(r->key), true);
    if (r->query && r->query->n) {
        sb_appendc(&sb, '?');
        s3_query_render(r->query, &sb);
    }
    return sb_detach(&sb);
}

/* Replace every occurrence of secret in the message by ********: the
 * store's message should never hold it, and cellar's promise does not rest
 * on that. */
static void redact(struct cel_err *err, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (!err || n == 0 || !strstr(err->msg, secret))
        return;
    struct strbuf sb = {0};
    const char *p = err->msg, *at;
    while ((at = strstr(p, secret))) {
        sb_appendn(&sb, p, (size_t)(at - p));
        sb_append(&sb, "********");
        p = at + n;
    }
    sb_append(&sb, p);
    cel_strlcpy(err->msg, sb_str(&sb), sizeof err->msg);
    sb_free(&sb);
}

static int refused(const struct s3_client *c, const struct s3_req *r,
                   const struct s3_resp *resp, struct cel_err *err)
{
    char what[2 * CEL_SHOW_BUF + 32];
    struct s3_xml_error e;
    struct cel_err ignored = {0};
    int rc;
    describe(c, r, what, sizeof what);
    enum cel_code code = resp->status == 404 ? CEL_E_NOT_FOUND : CEL_E_CLOUD;
    if (resp->body.len && s3_xml_parse_error(resp->body.buf, resp->body.len, &e, &ignored) == 0)
        rc = cel_err_set(err, code, "S3 %s: %ld %s: %s", what, resp->status, e.code, e.message);
    else
        rc = cel_err_set(err, code, "S3 %s: HTTP status %ld", what, resp->status);
    if (err) {
        if (resp->status == 403)
            cel_err_hint(err, "Check the access key, the secret key and the region; the store "
                              "refused the request's signature or its rights.");
    }
    return rc;
}

static bool curl_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
        return false;
    default:
        return true;
    }
}

long s3_backoff_ms(long base_ms, int attempt, unsigned rnd)
{
    long ms = base_ms;
    for (int i = 0; i < attempt && ms < S3_MAX_BACKOFF_MS; i++)
        ms *= 2;
    if (ms > S3_MAX_BACKOFF_MS)
        ms = S3_MAX_BACKOFF_MS;
    long half = ms / 2;
    return half + (long)((unsigned long)rnd % (unsigned long)(half + 1));
}

static void backoff(const struct s3_client *c, int attempt)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    unsigned seed = (unsigned)now.tv_nsec ^ (unsigned)getpid() ^ (unsigned)attempt;
    long ms = s3_backoff_ms(c->retry_base_ms, attempt, (unsigned)rand_r(&seed));
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Set up h for one attempt of r; *headers is the list to free after it. */
static void setup(struct s3_client *c, CURL *h, const struct s3_req *r, struct xfer *x,
                  const char *url, const char *sha, const char *if_match,
                  struct curl_slist **headers)
{
    struct curl_slist *hl = NULL;
    char line[512];
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", sha);
    hl = curl_slist_append(hl, line);
    if (r->content_md5) {
        snprintf(line, sizeof line, "Content-MD5: %s", r->content_md5);
        hl = curl_slist_append(hl, line);
    }
    if (r->content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", r->content_type);
        hl = curl_slist_append(hl, line);
    }
    if (c->token_header)
        hl = curl_slist_append(hl, c->token_header);
    uint64_t start = r->range_start + x->delivered;
    if (r->ranged || x->delivered) {
        if (r->ranged && r->range_len)
            snprintf(line, sizeof line, "Range: bytes=%llu-%llu", (unsigned long long)start,
                     (unsigned long long)(r->range_start + r->range_len - 1));
        else
            snprintf(line, sizeof line, "Range: bytes=%llu-", (unsigned long long)start);
        hl = curl_slist_append(hl, line);
    }
    if (if_match && if_match[0]) {
        snprintf(line, sizeof line, "If-Match: %s", if_match);
        hl = curl_slist_append(hl, line);
    }
    if (!hl)
        free(cel_xmalloc(SIZE_MAX));
    *headers = hl;

    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_key);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->timeout_s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, x);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
    } else if (strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

int s3_request(struct s3_client *c, CURL *h, const struct s3_req *r, struct s3_resp *resp,
               struct cel_err *err)
{
    char sha[S3_SHA256_HEX];
    char first_etag[128] = "";
    char what[2 * CEL_SHOW_BUF + 32];
    int rc = 0;
    struct xfer x = {.req = r, .resp = resp, .write_err = err};
    char *url = request_url(c, r);

    describe(c, r, what, sizeof what);
    if (r->payload_sha256)
        cel_strlcpy(sha, r->payload_sha256, sizeof sha);
    else
        s3_sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0, sha);

    for (int attempt = 0;; attempt++) {
        struct curl_slist *headers = NULL;
        bool resuming = x.delivered > 0;
        sb_reset(&resp->body);
        resp->status = 0;
        x.status = 0;
        x.sent = 0;
        x.attempt_delivered = 0;
        x.reply_too_big = false;
        x.resuming = resuming;
        x.bad_resume = false;
        setup(c, h, r, &x, url, sha, resuming ? first_etag : NULL, &headers);
        CURLcode cc = curl_easy_perform(h);
        curl_slist_free_all(headers);
        resp->status = x.status;
        if (!first_etag[0] && x.status >= 200 && x.status < 300)
            cel_strlcpy(first_etag, resp->etag, sizeof first_etag);

        if (x.write_rc) {
            rc = x.write_rc;
            break;
        }
        if (x.read_errno) {
            rc = cel_err_sys(err, CEL_E_IO, x.read_errno, "S3 %s: cannot read the body", what);
            break;
        }
        if (x.reply_too_big) {
            rc = cel_err_set(err, CEL_E_CLOUD, "S3 %s: reply larger than %u bytes", what,
                             S3_MAX_REPLY);
            break;
        }
        if (x.bad_resume) {
            rc = cel_err_set(err, CEL_E_CLOUD, "S3 %s: the store ignored the range of a resumed "
                             "read", what);
            break;
        }
        bool retry;
        if (cc != CURLE_OK) {
            retry = curl_retryable(cc);
            rc = cel_err_set(err, cc == CURLE_OPERATION_TIMEDOUT ? CEL_E_TIMEOUT : CEL_E_IO,
                             "S3 %s: cannot reach the store at '%s': %s", what, c->base,
                             curl_easy_strerror(cc));
        } else if (resuming && x.status == 412) {
            retry = false;
            rc = cel_err_set(err, CEL_E_CONFLICT, "S3 %s: the object changed while it was read",
                             what);
        } else if (x.status >= 200 && x.status < 300) {
            rc = 0;
            break;
        } else {
            /* 501 Not Implemented and 505 will not change on a retry */
            retry = (x.status >= 500 && x.status != 501 && x.status != 505) || x.status == 429;
            rc = refused(c, r, resp, err);
        }
        if (!retry || attempt >= c->retries)
            break;
        backoff(c, attempt);
    }
    if (rc) {
        redact(err, c->secret_key);
        if (c->token_header)
            redact(err, strchr(c->token_header, ' ') + 1);
    }
    free(url);
    return rc;
}

void s3_xml_escape(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_append(sb, "&amp;"); break;
        case '<': sb_append(sb, "&lt;"); break;
        case '>': sb_append(sb, "&gt;"); break;
        case '"': sb_append(sb, "&quot;"); break;
        case '\'': sb_append(sb, "&apos;"); break;
        default: sb_appendc(sb, *s);
        }
    }
}
