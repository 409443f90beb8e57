/*
 * Unit tests of the S3 client's request machinery (src/core/cloud/
 * s3_http.c, s3_client.c, s3_list.c, s3_upload.c) against a fake store: a
 * child process serving a fixed script of HTTP replies on a loopback port,
 * one connection per request ("Connection: close"), writing every request
 * it got (request line, headers, body length) to a log. What a real store
 * does not do on demand is scripted here: 503 SlowDown, 500 until the
 * retries run out, a 403 that must not be retried, a reply broken after a
 * few bytes, a store without DeleteObjects, a part refused in the middle
 * of a multipart upload. The real store's behaviour is in
 * tests/integration/t_s3_client.sh.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "s3_client.h"
#include "s3_query.h"
#include "strbuf.h"

#define SECRET "SECRETKEY123"

struct reply {
    const char *status;  /* "200 OK" */
    const char *headers; /* extra header lines, each ending in \r\n; NULL: none */
    const char *body;    /* NULL: none */
    size_t cut;          /* send only this many body bytes, then close; 0: all */
};

static pid_t fake_pid;
static int fake_port;

/* Read one request from fd and log it; false when the peer went away. */
static bool serve_one(int fd, FILE *log)
{
    struct strbuf req = {0};
    char buf[65536];
    char *end = NULL;
    while (!(end = strstr(sb_str(&req), "\r\n\r\n"))) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0) {
            sb_free(&req);
            return false;
        }
        sb_appendn(&req, buf, (size_t)n);
    }
    size_t head_len = (size_t)(end - req.buf) + 4;
    size_t have = req.len - head_len, want = 0;
    for (char *p = req.buf; p < req.buf + head_len; p = strstr(p, "\r\n") + 2) {
        if (strncasecmp(p, "content-length:", 15) == 0)
            want = strtoul(p + 15, NULL, 10);
        if (strncasecmp(p, "expect: 100-continue", 20) == 0)
            (void)!write(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
    while (have < want) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        if (req.len < 8192)
            sb_appendn(&req, buf, (size_t)n);
        have += (size_t)n;
    }
    fprintf(log, "%.*s--body %zu--\n", (int)head_len, req.buf, have);
    if (have && have < 4096)
        fprintf(log, "%.*s\n--end--\n", (int)have, req.buf + head_len);
    fflush(log);
    sb_free(&req);
    return true;
}

/* Start the fake store with these replies; its log is unit_path("log"). */
static void fake_start(const struct reply *replies, size_t n)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 16), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    fake_port = ntohs(a.sin_port);
    fflush(NULL);
    fake_pid = fork();
    assert_true(fake_pid >= 0);
    if (fake_pid == 0) {
        alarm(30); /* a test that failed before fake_stop leaves no server behind */
        FILE *log = fopen(unit_path("log"), "w");
        for (size_t i = 0; log && i < n; i++) {
            int fd = accept(lfd, NULL, NULL);
            if (fd < 0)
                _exit(1);
            if (!serve_one(fd, log)) {
                close(fd);
                i--;
                continue;
            }
            const struct reply *r = &replies[i];
            size_t blen = r->body ? strlen(r->body) : 0;
            char head[1024];
            int hl = snprintf(head, sizeof head,
                              "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                              r->status, r->headers ? r->headers : "", blen);
            (void)!write(fd, head, (size_t)hl);
            if (blen)
                (void)!write(fd, r->body, r->cut ? r->cut : blen);
            shutdown(fd, SHUT_WR);
            char drain[256];
            while (read(fd, drain, sizeof drain) > 0)
                ;
            close(fd);
        }
        _exit(0);
    }
    close(lfd);
}

/* Stop the fake store (it may still wait for a request that never comes)
 * and return its log, which the caller frees. */
static char *fake_stop(void)
{
    int status;
    kill(fake_pid, SIGKILL);
    waitpid(fake_pid, &status, 0);
    FILE *f = fopen(unit_path("log"), "r");
    struct strbuf sb = {0};
    char buf[4096];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_appendn(&sb, buf, n);
    if (f)
        fclose(f);
    sb_append(&sb, "");
    return sb_detach(&sb);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static struct s3_client *client(int port)
{
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", port);
    struct s3_conf conf = {.endpoint = ep, .bucket = "b", .path_style = true,
                           .access_key = "test:tester", .secret_key = SECRET,
                           .session_token = "T0KEN/+=",
                           .retries = 3, .retry_base_ms = 1, .timeout_s = 5};
    struct s3_client *c = NULL;
    struct cel_err err = {0};
    assert_int_equal(s3_client_new(&conf, &c, &err), 0);
    return c;
}

static void test_s3_put_retried_after_503(void **state)
{
    (void)state;
    static const struct reply replies[] = {
        {"503 Slow Down", NULL, "<Error><Code>SlowDown</Code><Message>Please reduce your "
                                "request rate.</Message></Error>", 0},
        {"503 Service Unavailable", NULL, NULL, 0},
        {"200 OK", "ETag: \"5d41402abc4b2a76b9719d911017c592\"\r\n", NULL, 0},
    };
    fake_start(replies, 3);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    assert_int_equal(s3_put(c, "dir/k 1", "hello", 5, &err), 0);
    s3_client_free(c);
    char *log = fake_stop();
    /* the whole body each time, signed, with its hash */
    assert_int_equal(count(log, "PUT /b/dir/k%201 HTTP/1.1\r\n"), 3);
    assert_int_equal(count(log, "--body 5--\nhello\n"), 3);
    assert_int_equal(count(log, "Content-MD5: XUFAKrxLKna5cZ2REBfFkg==\r\n"), 3);
    assert_int_equal(count(log, "x-amz-content-sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c"
                                "1fa7425e73043362938b9824\r\n"), 3);
    assert_int_equal(count(log, "Authorization: AWS4-HMAC-SHA256 Credential=test:tester/"), 3);
    assert_int_equal(count(log, "/us-east-1/s3/aws4_request"), 3);
    /* a session token travels in its header, and is signed */
    assert_int_equal(count(log, "x-amz-security-token: T0KEN/+=\r\n"), 3);
    assert_int_equal(count(log, "SignedHeaders=content-md5;host;x-amz-content-sha256;"
                                "x-amz-date;x-amz-security-token,"), 3);
    assert_null(strstr(log, SECRET));
    free(log);
}

static void test_s3_get_403_not_retried_secret_hidden(void **state)
{
    (void)state;
    static const struct reply replies[] = {
        {"403 Forbidden", NULL, "<Error><Code>AccessDenied</Code><Message>no access with "
                                SECRET "</Message></Error>", 0},
        {"200 OK", NULL, "x", 0},
    };
    fake_start(replies, 2);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    struct strbuf out = {0};
    assert_int_equal(s3_get(c, "k", 0, 0, NULL, NULL, &err), -CEL_E_CLOUD);
    assert_string_equal(err.msg, "S3 GET 'k': 403 AccessDenied: no access with ********");
    assert_string_equal(err.hint, "Check the access key, the secret key and the region; the "
                                  "store refused the request's signature or its rights.");
    s3_client_free(c);
    char *log = fake_stop();
    assert_int_equal(count(log, "GET /b/k HTTP/1.1"), 1);
    free(log);
    sb_free(&out);
}

static int collect(void *ctx, const void *buf, size_t len, struct cel_err *err)
{
    (void)err;
    sb_appendn(ctx, buf, len);
    return 0;
}

static void test_s3_get_resumes_after_a_break(void **state)
{
    (void)state;
    static const struct reply replies[] = {
        {"200 OK", "ETag: \"e1\"\r\n", "0123456789", 4},
        {"206 Partial Content", "ETag: \"e1\"\r\n", "456789", 0},
    };
    fake_start(replies, 2);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    struct strbuf out = {0};
    assert_int_equal(s3_get(c, "k", 0, 0, collect, &out, &err), 0);
    assert_string_equal(sb_str(&out), "0123456789");
    s3_client_free(c);
    char *log = fake_stop();
    assert_int_equal(count(log, "GET /b/k HTTP/1.1"), 2);
    assert_int_equal(count(log, "Range: bytes=4-\r\n"), 1);
    assert_int_equal(count(log, "If-Match: \"e1\"\r\n"), 1);
    free(log);
    sb_free(&out);
}

static void test_s3_get_range_resume_ignored_by_store(void **state)
{
    (void)state;
    /* a store that answers a resumed read with the whole object again:
     * refused, so no byte reaches the callback twice */
    static const struct reply replies[] = {
        {"206 Partial Content", NULL, "2345", 2},
        {"200 OK", NULL, "0123456789", 0},
    };
    fake_start(replies, 2);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    struct strbuf out = {0};
    assert_int_equal(s3_get(c, "k", 2, 4, collect, &out, &err), -CEL_E_CLOUD);
    assert_string_equal(err.msg, "S3 GET 'k': the store ignored the range of a resumed read");
    assert_string_equal(sb_str(&out), "23");
    s3_client_free(c);
    char *log = fake_stop();
    assert_int_equal(count(log, "Range: bytes=2-5\r\n"), 1);
    assert_int_equal(count(log, "Range: bytes=4-5\r\n"), 1);
    free(log);
    sb_free(&out);
}

static void test_s3_retries_run_out(void **state)
{
    (void)state;
    static const struct reply r500 = {"500 Internal Server Error", NULL,
                                      "<Error><Code>InternalError</Code><Message>We encountered "
                                      "an internal error.</Message></Error>", 0};
    const struct reply replies[] = {r500, r500, r500, r500, r500};
    fake_start(replies, 5);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    assert_int_equal(s3_delete(c, "k", &err), -CEL_E_CLOUD);
    assert_string_equal(err.msg, "S3 DELETE 'k': 500 InternalError: We encountered an internal "
                                 "error.");
    s3_client_free(c);
    char *log = fake_stop();
    assert_int_equal(count(log, "DELETE /b/k HTTP/1.1"), 4); /* the first and 3 retries */
    free(log);
}

static void test_s3_unreachable_store(void **state)
{
    (void)state;
    /* a port nobody listens on: bind one, then close it */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    int port = ntohs(a.sin_port);
    struct s3_client *c = client(port);
    struct cel_err err = {0};
    struct s3_head h;
    char want[256];
    assert_int_equal(s3_head(c, "k", &h, &err), -CEL_E_IO);
    snprintf(want, sizeof want, "S3 HEAD 'k': cannot reach the store at 'http://127.0.0.1:%d/b': "
             "Couldn't connect to server", port);
    assert_string_equal(err.msg, want);
    s3_client_free(c);
}

static int keys_of(void *ctx, const struct s3_entry *e, struct cel_err *err)
{
    (void)err;
    sb_appendf(ctx, "%s%s=%llu;", e->key, e->is_prefix ? "(prefix)" : "",
               (unsigned long long)e->size);
    return 0;
}

static void test_s3_list_follows_continuation_tokens(void **state)
{
    (void)state;
    static const struct reply replies[] = {
        {"200 OK", NULL, "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuation"
                         "Token>t+1/</NextContinuationToken><Contents><Key>w/a</Key><Size>1</Size>"
                         "</Contents><CommonPrefixes><Prefix>w/b/</Prefix></CommonPrefixes>"
                         "<Contents><Key>w/c</Key><Size>3</Size></Contents></ListBucketResult>", 0},
        {"200 OK", NULL, "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>w/d"
                         "</Key><Size>4</Size></Contents></ListBucketResult>", 0},
    };
    fake_start(replies, 2);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    struct strbuf out = {0};
    struct s3_list_opts o = {.prefix = "w/", .delimiter = "/", .max_keys = 3};
    assert_int_equal(s3_list(c, &o, keys_of, &out, &err), 0);
    assert_string_equal(sb_str(&out), "w/a=1;w/b/(prefix)=0;w/c=3;w/d=4;");
    s3_client_free(c);
    char *log = fake_stop();
    assert_int_equal(count(log, "GET /b/?delimiter=%2F&list-type=2&max-keys=3&prefix=w%2F "), 1);
    assert_int_equal(count(log, "GET /b/?continuation-token=t%2B1%2F&delimiter=%2F&list-type=2&"
                                "max-keys=3&prefix=w%2F "), 1);
    free(log);
    sb_free(&out);
}

static void test_s3_delete_many_falls_back_to_single_deletes(void **state)
{
    (void)state;
    static const struct reply replies[] = {
        {"501 Not Implemented", NULL, "<Error><Code>NotImplemented</Code><Message>no"
                                      "</Message></Error>", 0},
        {"204 No Content", NULL, NULL, 0},
        {"404 Not Found", NULL, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>", 0},
        {"204 No Content", NULL, NULL, 0},
    };
    fake_start(replies, 4);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    const char *keys[] = {"a&b", "gone"};
    int rc = s3_delete_many(c, keys, 2, &err);
    if (rc) {
        char *l = fake_stop();
        fail_msg("%s\n%s", err.msg, l);
    }
    /* from then on, single deletes straight away */
    const char *more[] = {"c"};
    assert_int_equal(s3_delete_many(c, more, 1, &err), 0);
    s3_client_free(c);
    char *log = fake_stop();
    static const char body[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"http:/"
                               "/s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet><Object>"
                               "<Key>a&amp;b</Key></Object><Object><Key>gone</Key></Object>"
                               "</Delete>";
    assert_non_null(strstr(log, body));
    assert_int_equal(count(log, "POST /b/?delete= HTTP/1.1"), 1);
    char md5[32];
    char line[64];
    s3_md5_base64(body, strlen(body), md5);
    snprintf(line, sizeof line, "Content-MD5: %s\r\n", md5);
    assert_int_equal(count(log, line), 1);
    assert_int_equal(count(log, "DELETE /b/a%26b HTTP/1.1"), 1);
    assert_int_equal(count(log, "DELETE /b/gone HTTP/1.1"), 1);
    assert_int_equal(count(log, "DELETE /b/c HTTP/1.1"), 1);
    free(log);
}

/* A stream of len bytes of a repeating pattern. */
struct pattern {
    size_t len, at;
};

static ssize_t pattern_read(void *ctx, void *buf, size_t len, struct cel_err *err)
{
    struct pattern *p = ctx;
    (void)err;
    size_t k = p->len - p->at < len ? p->len - p->at : len;
    for (size_t i = 0; i < k; i++)
        ((char *)buf)[i] = (char)('a' + (p->at + i) % 26);
    p->at += k;
    return (ssize_t)k;
}

static void test_s3_upload_multipart_in_parts(void **state)
{
    (void)state;
    static const struct reply replies[] = {
        {"200 OK", NULL, "<InitiateMultipartUploadResult><UploadId>U+1</UploadId>"
                         "</InitiateMultipartUploadResult>", 0},
        {"200 OK", "ETag: \"p1\"\r\n", NULL, 0},
        {"200 OK", "ETag: \"p2\"\r\n", NULL, 0},
        {"200 OK", "ETag: \"p3\"\r\n", NULL, 0},
        {"200 OK", NULL, "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>"
                         "</CompleteMultipartUploadResult>", 0},
    };
    fake_start(replies, 5);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    struct pattern p = {.len = 2 * S3_PART_MIN + 1000};
    struct s3_upload_result res;
    struct s3_upload_opts o = {.part_size = S3_PART_MIN, .parallel = 1};
    assert_int_equal(s3_upload(c, "big", pattern_read, &p, &o, &res, &err), 0);
    assert_true(res.size == 2 * S3_PART_MIN + 1000);
    assert_int_equal(res.parts, 3);
    s3_client_free(c);
    char *log = fake_stop();
    assert_int_equal(count(log, "POST /b/big?uploads= HTTP/1.1"), 1);
    assert_int_equal(count(log, "PUT /b/big?partNumber=1&uploadId=U%2B1 HTTP/1.1"), 1);
    assert_int_equal(count(log, "PUT /b/big?partNumber=3&uploadId=U%2B1 HTTP/1.1"), 1);
    assert_int_equal(count(log, "--body 5242880--"), 2);
    assert_int_equal(count(log, "--body 1000--"), 1);
    assert_non_null(strstr(log, "POST /b/big?uploadId=U%2B1 HTTP/1.1"));
    assert_non_null(strstr(log, "<Part><PartNumber>1</PartNumber><ETag>&quot;p1&quot;</ETag>"
                                "</Part><Part><PartNumber>2</PartNumber><ETag>&quot;p2&quot;"
                                "</ETag></Part><Part><PartNumber>3</PartNumber><ETag>&quot;p3"
                                "&quot;</ETag></Part></CompleteMultipartUpload>"));
    free(log);
}

static void test_s3_upload_small_stream_is_one_put(void **state)
{
    (void)state;
    static const struct reply replies[] = {{"200 OK", "ETag: \"x\"\r\n", NULL, 0}};
    fake_start(replies, 1);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    struct pattern p = {.len = 1000};
    struct s3_upload_result res;
    assert_int_equal(s3_upload(c, "small", pattern_read, &p, NULL, &res, &err), 0);
    assert_true(res.size == 1000);
    assert_int_equal(res.parts, 0);
    s3_client_free(c);
    char *log = fake_stop();
    assert_int_equal(count(log, "PUT /b/small HTTP/1.1"), 1);
    free(log);
}

static void test_s3_upload_aborted_when_a_part_fails(void **state)
{
    (void)state;
    static const struct reply replies[] = {
        {"200 OK", NULL, "<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                         "</InitiateMultipartUploadResult>", 0},
        {"200 OK", "ETag: \"p1\"\r\n", NULL, 0},
        {"400 Bad Request", NULL, "<Error><Code>EntityTooSmall</Code><Message>Your proposed "
                                  "upload is smaller than the minimum allowed object size."
                                  "</Message></Error>", 0},
        {"204 No Content", NULL, NULL, 0},
    };
    fake_start(replies, 4);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    struct pattern p = {.len = 3 * S3_PART_MIN};
    struct s3_upload_opts o = {.part_size = S3_PART_MIN, .parallel = 1};
    assert_int_equal(s3_upload(c, "big", pattern_read, &p, &o, NULL, &err), -CEL_E_CLOUD);
    assert_string_equal(err.msg, "S3 PUT 'big': 400 EntityTooSmall: Your proposed upload is "
                                 "smaller than the minimum allowed object size.");
    s3_client_free(c);
    char *log = fake_stop();
    assert_int_equal(count(log, "PUT /b/big?partNumber=2&uploadId=U1 HTTP/1.1"), 1);
    assert_int_equal(count(log, "partNumber=3"), 0);
    assert_int_equal(count(log, "DELETE /b/big?uploadId=U1 HTTP/1.1"), 1);
    free(log);
}

static void test_s3_upload_completion_error_in_200(void **state)
{
    (void)state;
    static const struct reply replies[] = {
        {"200 OK", NULL, "<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                         "</InitiateMultipartUploadResult>", 0},
        {"200 OK", "ETag: \"p1\"\r\n", NULL, 0},
        {"200 OK", "ETag: \"p2\"\r\n", NULL, 0},
        {"200 OK", NULL, "  <Error><Code>InternalError</Code><Message>try again</Message>"
                         "</Error>", 0},
        {"204 No Content", NULL, NULL, 0},
    };
    fake_start(replies, 5);
    struct s3_client *c = client(fake_port);
    struct cel_err err = {0};
    struct pattern p = {.len = S3_PART_MIN + 1};
    struct s3_upload_opts o = {.part_size = S3_PART_MIN, .parallel = 2};
    assert_int_equal(s3_upload(c, "k", pattern_read, &p, &o, NULL, &err), -CEL_E_CLOUD);
    assert_string_equal(err.msg, "S3 completing the upload of 'k': InternalError: try again");
    s3_client_free(c);
    char *log = fake_stop();
    assert_int_equal(count(log, "DELETE /b/k?uploadId=U1 HTTP/1.1"), 1);
    free(log);
}

static void test_s3_virtual_hosted_addressing(void **state)
{
    (void)state;
    /* libcurl resolves *.localhost to the loopback address itself, so the
     * bucket can go in the host name without DNS */
    static const struct reply replies[] = {{"200 OK", NULL, "data", 0}};
    fake_start(replies, 1);
    char ep[64];
    snprintf(ep, sizeof ep, "http://localhost:%d/", fake_port);
    struct s3_conf conf = {.endpoint = ep, .region = "eu-west-3", .bucket = "my-bucket",
                           .access_key = "AKID", .secret_key = SECRET, .retry_base_ms = 1};
    struct s3_client *c = NULL;
    struct cel_err err = {0};
    struct strbuf out = {0};
    assert_int_equal(s3_client_new(&conf, &c, &err), 0);
    assert_int_equal(s3_get(c, "a/b", 0, 0, collect, &out, &err), 0);
    assert_string_equal(sb_str(&out), "data");
    s3_client_free(c);
    char *log = fake_stop();
    char host[64];
    snprintf(host, sizeof host, "GET /a/b HTTP/1.1\r\nHost: my-bucket.localhost:%d\r\n",
             fake_port);
    assert_non_null(strstr(log, host));
    assert_non_null(strstr(log, "Credential=AKID/"));
    assert_non_null(strstr(log, "/eu-west-3/s3/aws4_request"));
    free(log);
    sb_free(&out);
}

static void test_s3_client_new_refusals(void **state)
{
    (void)state;
    struct s3_client *c = NULL;
    struct cel_err err = {0};
    struct s3_conf conf = {.endpoint = "ftp://x", .bucket = "b", .access_key = "a",
                           .secret_key = "s"};
    assert_int_equal(s3_client_new(&conf, &c, &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "invalid S3 endpoint 'ftp://x': expected http:// or https:// "
                                 "and a host");
    conf.endpoint = "http://h";
    conf.secret_key = "";
    assert_int_equal(s3_client_new(&conf, &c, &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "no S3 credentials given (access key and secret key)");
    conf.secret_key = "s";
    conf.bucket = NULL;
    assert_int_equal(s3_client_new(&conf, &c, &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "no S3 bucket given");
    assert_null(c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_s3_put_retried_after_503, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_get_403_not_retried_secret_hidden,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_get_resumes_after_a_break, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_get_range_resume_ignored_by_store,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_retries_run_out, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_unreachable_store, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_list_follows_continuation_tokens,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_delete_many_falls_back_to_single_deletes,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_upload_multipart_in_parts, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_upload_small_stream_is_one_put,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_upload_aborted_when_a_part_fails,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_upload_completion_error_in_200,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_s3_virtual_hosted_addressing, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_s3_client_new_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
