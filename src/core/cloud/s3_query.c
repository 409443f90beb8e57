/*
 * s3_query.c - percent-encoding, the canonical query string, and the
 * payload digests (see s3_query.h for why cellar does this and not libcurl).
 *
 * The digests use libcrypto's one-shot EVP_Digest and an EVP_MD_CTX for
 * the incremental case. libcrypto only fails here when it cannot allocate,
 * which cellar treats as it treats any allocation failure: the out-of-memory
 * hook, which does not return.
 */
#include <errno.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "s3_query.h"

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

void s3_uri_encode(struct strbuf *sb, const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            sb_appendc(sb, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_appendn(sb, e, 3);
        }
    }
}

static char *encoded(const char *s)
{
    struct strbuf sb = {0};
    s3_uri_encode(&sb, s, strlen(s), false);
    if (!sb.buf)
        return cel_xstrdup("");
    return sb_detach(&sb);
}

void s3_query_add(struct s3_query *q, const char *name, const char *value)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 8;
        q->params = cel_xrealloc_array(q->params, q->cap, sizeof *q->params);
    }
    q->params[q->n].name = encoded(name);
    q->params[q->n].value = encoded(value ? value : "");
    q->n++;
}

/* SigV4 sorts by name and then value, byte by byte (strcmp on the encoded
 * text, which is ASCII). */
static int param_cmp(const void *a, const void *b)
{
    const struct s3_param *pa = a, *pb = b;
    int c = strcmp(pa->name, pb->name);
    return c ? c : strcmp(pa->value, pb->value);
}

void s3_query_render(const struct s3_query *q, struct strbuf *sb)
{
    if (q->n == 0)
        return;
    struct s3_param *sorted = cel_xcalloc(q->n, sizeof *sorted);
    memcpy(sorted, q->params, q->n * sizeof *sorted);
    qsort(sorted, q->n, sizeof *sorted, param_cmp);
    for (size_t i = 0; i < q->n; i++) {
        if (i)
            sb_appendc(sb, '&');
        sb_append(sb, sorted[i].name);
        sb_appendc(sb, '=');
        sb_append(sb, sorted[i].value);
    }
    free(sorted);
}

void s3_query_free(struct s3_query *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->params[i].name);
        free(q->params[i].value);
    }
    free(q->params);
    *q = (struct s3_query){0};
}

/* libcrypto failed to allocate: cellar's one answer to that is the
 * out-of-memory hook, reached by an allocation that cannot succeed (the hook
 * does not return). */
static void digest_failed(void)
{
    free(cel_xmalloc(SIZE_MAX));
}

static void hex_of(const unsigned char *md, unsigned int n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * n] = '\0';
}

void s3_sha256_hex(const void *buf, size_t len, char out[S3_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL))
        digest_failed();
    hex_of(md, n, out);
}

struct s3_digest {
    EVP_MD_CTX *sha256;
    EVP_MD_CTX *md5;
};

static EVP_MD_CTX *digest_begin(const EVP_MD *md)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL))
        digest_failed();
    return ctx;
}

struct s3_digest *s3_digest_new(void)
{
    struct s3_digest *d = cel_xcalloc(1, sizeof *d);
    d->sha256 = digest_begin(EVP_sha256());
    d->md5 = digest_begin(EVP_md5());
    return d;
}

void s3_digest_update(struct s3_digest *d, const void *buf, size_t len)
{
    if (!EVP_DigestUpdate(d->sha256, buf, len) || !EVP_DigestUpdate(d->md5, buf, len))
        digest_failed();
}

void s3_digest_end(struct s3_digest *d, char sha256[S3_SHA256_HEX], char md5[S3_MD5_B64],
                   char md5_hex[S3_MD5_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_DigestFinal_ex(d->sha256, md, &n))
        digest_failed();
    hex_of(md, n, sha256);
    if (!EVP_DigestFinal_ex(d->md5, md, &n))
        digest_failed();
    EVP_EncodeBlock((unsigned char *)md5, md, (int)n);
    if (md5_hex)
        hex_of(md, n, md5_hex);
    EVP_MD_CTX_free(d->sha256);
    EVP_MD_CTX_free(d->md5);
    free(d);
}

int s3_file_digest(int fd, uint64_t size, struct s3_file_digest *out)
{
    struct s3_digest *h = s3_digest_new();
    size_t bufsize = 1u << 20;
    char *buf = cel_xmalloc(bufsize);
    uint64_t done = 0;
    int rc = 0;
    while (done < size) {
        size_t want = size - done < bufsize ? (size_t)(size - done) : bufsize;
        ssize_t got = pread(fd, buf, want, (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO;
            rc = -1;
            break;
        }
        s3_digest_update(h, buf, (size_t)got);
        done += (uint64_t)got;
    }
    free(buf);
    int saved = errno;
    s3_digest_end(h, out->sha256, out->md5_b64, out->md5_hex);
    errno = saved;
    return rc;
}

void s3_md5_base64(const void *buf, size_t len, char out[S3_MD5_B64])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(buf, len, md, &n, EVP_md5(), NULL))
        digest_failed();
    /* 16 bytes give 24 characters with padding, and EVP_EncodeBlock adds
     * the NUL */
    EVP_EncodeBlock((unsigned char *)out, md, (int)n);
}
