/*
 * s3_upload.c - storing a stream of any size: one PUT, or a multipart
 * upload with its parts sent in parallel.
 *
 * The first part is read before anything is sent. A stream that ends inside
 * it goes as one PUT. Otherwise the upload is started
 * (POST ?uploads -> UploadId) and opts->parallel worker threads, each with
 * its own libcurl handle and part buffer, take parts in turn: under the
 * upload's lock a worker reads the next part from the stream (so the
 * stream is read in order, by one thread at a time, and part numbers follow
 * the bytes), then sends it without the lock (PUT ?partNumber=N&uploadId=
 * with its Content-MD5, retried as any PUT, the whole part again). The first failure stops every
 * worker; the upload is then aborted (DELETE ?uploadId=), so the store keeps
 * no parts and no object appears. When every part is in, the upload is
 * completed with the list of part numbers and ETags; S3 may answer that
 * with status 200 and an <Error> in the body, which is a failure too.
 *
 * Part sizes (s3_part_size): S3 wants every part but the last to be at
 * least 5 MiB, and Swift allows 1,000 parts. From an expected size the
 * part size is chosen so that the object would take 800 parts, which leaves
 * room for a stream longer than announced, and doubles every 800 parts;
 * for a stream of unknown size it starts at 16 MiB and doubles every 200
 * parts (1,000 parts then hold about 99 GiB).
 */
#include <pthread.h>

#include "s3_int.h"
#include "s3_xml.h"

#define S3_PART_UNKNOWN (16u << 20)
#define S3_PARALLEL_DEFAULT 4
#define S3_PARALLEL_MAX 64

uint64_t s3_part_size(const struct s3_upload_opts *o, unsigned n)
{
    uint64_t base;
    unsigned step;
    if (o->expected_size) {
        unsigned planned = S3_MAX_PARTS * 4 / 5;
        base = (o->expected_size + planned - 1) / planned;
        base = (base + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
        step = planned;
    } else {
        base = S3_PART_UNKNOWN;
        step = 200;
    }
    if (o->part_size > base || (o->part_size && !o->expected_size))
        base = o->part_size;
    if (base < S3_PART_MIN)
        base = S3_PART_MIN;
    unsigned shift = n ? (n - 1) / step : 0;
    if (shift > 10)
        shift = 10;
    uint64_t size = base << shift;
    return size > S3_PART_MAX ? S3_PART_MAX : size;
}

struct upload {
    struct s3_client *c;
    const char *key;
    const struct s3_upload_opts *opts;
    s3_read_fn read;
    void *ctx;
    const char *upload_id;
    pthread_mutex_t lock;
    char *first; /* part 1, read before the upload started */
    size_t first_len;
    bool first_taken;
    unsigned next_part; /* the last part number handed out */
    bool eof;
    bool failed;
    int rc; /* the first failure */
    struct cel_err err;
    char (*etags)[128]; /* by part number - 1 */
    uint64_t total;
};

/* Read up to len bytes, as many as the stream gives before its end. */
static ssize_t read_full(struct upload *u, char *buf, size_t len, struct cel_err *err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = u->read(u->ctx, buf + got, len - got, err);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Record the first failure (called with the lock held). */
static void fail(struct upload *u, int rc, const struct cel_err *e)
{
    if (u->failed)
        return;
    u->failed = true;
    u->rc = rc;
    u->err = *e;
}

static int put_part(struct upload *u, CURL *h, unsigned part, const char *data, size_t len,
                    char etag[128], struct cel_err *err)
{
    struct s3_query q = {0};
    struct s3_resp resp = {0};
    char num[16];
    char md5[S3_MD5_B64];
    snprintf(num, sizeof num, "%u", part);
    s3_query_add(&q, "partNumber", num);
    s3_query_add(&q, "uploadId", u->upload_id);
    s3_md5_base64(len ? data : "", len, md5);
    struct s3_req r = {.method = "PUT", .key = u->key, .query = &q, .body = len ? data : "",
                       .body_len = len, .body_fd = -1, .content_md5 = md5};
    int rc = s3_request(u->c, h, &r, &resp, err);
    if (rc == 0 && !resp.etag[0])
        rc = cel_err_set(err, CEL_E_CLOUD, "S3 upload of part %u: the store sent no ETag", part);
    if (rc == 0)
        cel_strlcpy(etag, resp.etag, 128);
    sb_free(&resp.body);
    s3_query_free(&q);
    return rc;
}

static void *worker(void *arg)
{
    struct upload *u = arg;
    CURL *h = s3_handle_new();
    char *buf = NULL;
    size_t cap = 0;
    for (;;) {
        struct cel_err e = {0};
        const char *data;
        size_t len;
        unsigned part;
        pthread_mutex_lock(&u->lock);
        if (u->failed || u->eof) {
            pthread_mutex_unlock(&u->lock);
            break;
        }
        if (!u->first_taken) {
            u->first_taken = true;
            part = u->next_part = 1;
            data = u->first;
            len = u->first_len;
        } else {
            part = u->next_part + 1;
            size_t want = (size_t)s3_part_size(u->opts, part);
            if (want > cap) {
                free(buf);
                buf = cel_xmalloc(want);
                cap = want;
            }
            ssize_t got = read_full(u, buf, want, &e);
            if (got < 0) {
                fail(u, (int)got, &e);
                pthread_mutex_unlock(&u->lock);
                break;
            }
            if ((size_t)got < want)
                u->eof = true;
            if (got == 0) {
                pthread_mutex_unlock(&u->lock);
                break;
            }
            if (part > S3_MAX_PARTS) {
                int rc = cel_err_set(&e, CEL_E_CLOUD, "S3 upload: the stream needs more than "
                                     "%d parts", S3_MAX_PARTS);
                fail(u, rc, &e);
                pthread_mutex_unlock(&u->lock);
                break;
            }
            u->next_part = part;
            data = buf;
            len = (size_t)got;
        }
        pthread_mutex_unlock(&u->lock);

        char etag[128];
        int rc = put_part(u, h, part, data, len, etag, &e);
        pthread_mutex_lock(&u->lock);
        if (rc) {
            fail(u, rc, &e);
        } else {
            memcpy(u->etags[part - 1], etag, sizeof etag);
            u->total += len;
        }
        pthread_mutex_unlock(&u->lock);
        if (rc)
            break;
    }
    free(buf);
    curl_easy_cleanup(h);
    return NULL;
}

static int initiate(struct s3_client *c, const char *key, char **upload_id, struct cel_err *err)
{
    struct s3_query q = {0};
    struct s3_resp resp = {0};
    s3_query_add(&q, "uploads", NULL);
    struct s3_req r = {.method = "POST", .key = key, .query = &q, .body_fd = -1};
    int rc = s3_request(c, c->curl, &r, &resp, err);
    if (rc == 0)
        rc = s3_xml_parse_initiate(resp.body.buf, resp.body.len, upload_id, err);
    sb_free(&resp.body);
    s3_query_free(&q);
    return rc;
}

static int complete(struct upload *u, unsigned parts, struct cel_err *err)
{
    struct strbuf body = {0};
    struct s3_query q = {0};
    struct s3_resp resp = {0};
    char shown[CEL_SHOW_BUF];
    sb_append(&body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (unsigned i = 0; i < parts; i++) {
        sb_appendf(&body, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
        s3_xml_escape(&body, u->etags[i]);
        sb_append(&body, "</ETag></Part>");
    }
    sb_append(&body, "</CompleteMultipartUpload>");
    s3_query_add(&q, "uploadId", u->upload_id);
    struct s3_req r = {.method = "POST", .key = u->key, .query = &q, .body = body.buf,
                       .body_len = body.len, .body_fd = -1, .content_type = "application/xml"};
    int rc = s3_request(u->c, u->c->curl, &r, &resp, err);
    if (rc == 0) {
        struct s3_xml_complete res;
        rc = s3_xml_parse_complete(resp.body.buf, resp.body.len, &res, err);
        if (rc == 0 && res.failed)
            rc = cel_err_set(err, CEL_E_CLOUD, "S3 completing the upload of '%s': %s: %s",
                             cel_show(u->key, strlen(u->key), shown), res.error.code,
                             res.error.message);
    }
    sb_free(&resp.body);
    sb_free(&body);
    s3_query_free(&q);
    return rc;
}

/* Best effort: the upload already failed, and its error is the one to
 * report; a store that is down keeps the parts until its own clean-up. */
static void abort_upload(struct s3_client *c, const char *key, const char *upload_id)
{
    struct s3_query q = {0};
    struct s3_resp resp = {0};
    struct cel_err ignored = {0};
    s3_query_add(&q, "uploadId", upload_id);
    struct s3_req r = {.method = "DELETE", .key = key, .query = &q, .body_fd = -1};
    (void)s3_request(c, c->curl, &r, &resp, &ignored);
    sb_free(&resp.body);
    s3_query_free(&q);
}

int s3_upload(struct s3_client *c, const char *key, s3_read_fn read, void *ctx,
              const struct s3_upload_opts *opts, struct s3_upload_result *res,
              struct cel_err *err)
{
    static const struct s3_upload_opts none;
    const struct s3_upload_opts *o = opts ? opts : &none;
    struct s3_upload_result ignored_res;
    if (!res)
        res = &ignored_res;
    *res = (struct s3_upload_result){0};

    size_t size1 = (size_t)s3_part_size(o, 1);
    char *first = cel_xmalloc(size1);
    struct upload u = {.c = c, .key = key, .opts = o, .read = read, .ctx = ctx, .first = first};
    ssize_t got = read_full(&u, first, size1, err);
    if (got < 0) {
        free(first);
        return (int)got;
    }
    if ((size_t)got < size1) {
        int rc = s3_put(c, key, first, (size_t)got, err);
        if (rc == 0)
            res->size = (uint64_t)got;
        free(first);
        return rc;
    }

    char *upload_id = NULL;
    int rc = initiate(c, key, &upload_id, err);
    if (rc) {
        free(first);
        return rc;
    }
    u.upload_id = upload_id;
    u.first_len = size1;
    u.etags = cel_xcalloc(S3_MAX_PARTS, sizeof *u.etags);
    pthread_mutex_init(&u.lock, NULL);

    int n = o->parallel > 0 ? o->parallel : S3_PARALLEL_DEFAULT;
    if (n > S3_PARALLEL_MAX)
        n = S3_PARALLEL_MAX;
    pthread_t *threads = cel_xcalloc((size_t)n, sizeof *threads);
    int started = 0;
    for (; started < n; started++) {
        int e = pthread_create(&threads[started], NULL, worker, &u);
        if (e) {
            pthread_mutex_lock(&u.lock);
            struct cel_err te = {0};
            int trc = cel_err_sys(&te, CEL_E_INTERNAL, e, "S3 upload: cannot start a thread");
            if (started == 0)
                fail(&u, trc, &te);
            pthread_mutex_unlock(&u.lock);
            break;
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);

    if (u.failed) {
        rc = u.rc;
        if (err)
            *err = u.err;
    } else {
        rc = complete(&u, u.next_part, err);
    }
    if (rc) {
        abort_upload(c, key, upload_id);
    } else {
        res->size = u.total;
        res->parts = u.next_part;
    }
    pthread_mutex_destroy(&u.lock);
    free(u.etags);
    free(upload_id);
    free(first);
    return rc;
}
