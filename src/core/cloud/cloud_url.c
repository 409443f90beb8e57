/*
 * cloud_url.c - parsing barman-cloud's bucket URL and --endpoint-url.
 *
 * Both parsers walk the text once by hand: scheme, then the authority up to
 * the first '/', '?' or '#', then the rest. Python's urlparse, which
 * barman-cloud uses, accepts nearly anything and leaves the store to refuse
 * it later with an obscure error; we refuse early and name the part that is
 * wrong. The URL is quoted in every message through cel_show(), so a hostile
 * or binary argument cannot break the message or flood a log.
 *
 * Bucket names follow the DNS-compliant rules that S3 and Swift's s3api (by
 * default) enforce: 3 to 63 characters of lower-case letters, digits, '.'
 * and '-', beginning and ending with a letter or digit, no "..".
 */
#include "cloud_url.h"

#define CLOUD_BUCKET_MIN 3
#define CLOUD_BUCKET_MAX 63
#define CLOUD_HOST_MAX 253

/* Set err to "invalid <what> 'TEXT': <why>" and return -CEL_E_INVALID. */
static int bad(struct cel_err *err, const char *what, const char *text, const char *why)
{
    char q[CEL_SHOW_BUF];
    return cel_err_set(err, CEL_E_INVALID, "invalid %s '%s': %s", what,
                       cel_show(text, strlen(text), q), why);
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* True when the len bytes at s hold a control character (or DEL). */
static bool has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/* The reason the len bytes at b are not a valid bucket name, or NULL. */
static const char *bucket_fault(const char *b, size_t len)
{
    if (len == 0)
        return "no bucket name after s3://";
    if (len < CLOUD_BUCKET_MIN || len > CLOUD_BUCKET_MAX)
        return "a bucket name has 3 to 63 characters";
    for (size_t i = 0; i < len; i++) {
        char c = b[i];
        if (c == '@' || c == ':')
            return "a user, password or port has no place in an s3:// URL";
        if (c >= 'A' && c <= 'Z')
            return "a bucket name has no upper-case letters";
        if (!is_lower_alnum(c) && c != '.' && c != '-')
            return "a bucket name has only lower-case letters, digits, '.' and '-'";
        if (c == '.' && i > 0 && b[i - 1] == '.')
            return "a bucket name has no \"..\"";
    }
    if (!is_lower_alnum(b[0]) || !is_lower_alnum(b[len - 1]))
        return "a bucket name begins and ends with a letter or digit";
    return NULL;
}

/* The reason path (after the bucket's '/', leading slashes removed) is not
 * a usable key prefix, or NULL. Trailing slashes were removed by the caller. */
static const char *prefix_fault(const char *p, size_t len)
{
    size_t start = 0;
    if (has_control(p, len))
        return "the path holds a control character";
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '/')
            continue;
        size_t n = i - start;
        if (n == 0 && len > 0)
            return "the path has an empty component (\"//\")";
        if ((n == 1 && p[start] == '.') || (n == 2 && p[start] == '.' && p[start + 1] == '.'))
            return "the path has a \".\" or \"..\" component";
        start = i + 1;
    }
    return NULL;
}

int cloud_url_parse(const char *text, struct cloud_url *out, struct cel_err *err)
{
    static const char what[] = "bucket URL";
    if (!cel_str_starts(text, "s3://")) {
        int rc = bad(err, what, text, "only s3:// URLs are supported");
        cel_err_hint(err, "Write the destination as s3://BUCKET or s3://BUCKET/PATH.");
        return rc;
    }
    const char *b = text + 5;
    if (strpbrk(b, "?#"))
        return bad(err, what, text, "a query or fragment has no place in an s3:// URL");
    size_t blen = strcspn(b, "/");
    const char *why = bucket_fault(b, blen);
    if (why)
        return bad(err, what, text, why);
    const char *p = b + blen;
    while (*p == '/')
        p++;
    size_t plen = strlen(p);
    while (plen > 0 && p[plen - 1] == '/')
        plen--;
    why = prefix_fault(p, plen);
    if (why)
        return bad(err, what, text, why);
    out->bucket = cel_xstrndup(b, blen);
    out->prefix = cel_xstrndup(p, plen);
    return 0;
}

void cloud_url_free(struct cloud_url *url)
{
    if (!url)
        return;
    free(url->bucket);
    free(url->prefix);
    url->bucket = url->prefix = NULL;
}

/* The reason the len bytes at h are not a host name or IPv4 address, or NULL. */
static const char *host_fault(const char *h, size_t len)
{
    if (len == 0)
        return "no host";
    if (len > CLOUD_HOST_MAX)
        return "the host name is longer than 253 characters";
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(h[i]) && h[i] != '.' && h[i] != '-' && h[i] != '_')
            return "a host name has only letters, digits, '.', '-' and '_'";
    if (h[0] == '.' || h[0] == '-')
        return "a host name begins with a letter or digit";
    return NULL;
}

/* The reason the len bytes at h (inside brackets) are not an IPv6 address, or NULL. */
static const char *ipv6_fault(const char *h, size_t len)
{
    bool colon = false;
    if (len == 0)
        return "empty brackets";
    for (size_t i = 0; i < len; i++) {
        if (h[i] == ':')
            colon = true;
        else if (cel_hex_digit(h[i]) < 0 && h[i] != '.')
            return "an IPv6 address in brackets has only hex digits, ':' and '.'";
    }
    return colon ? NULL : "an address in brackets is an IPv6 address, with ':'";
}

/* Parse the port digits at s (len bytes) into *port: 1 to 65535, decimal. */
static bool parse_port(const char *s, size_t len, uint16_t *port)
{
    unsigned long v = 0;
    if (len == 0 || len > 5)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

int cloud_endpoint_parse(const char *text, struct cloud_endpoint *out, struct cel_err *err)
{
    static const char what[] = "endpoint URL";
    struct cloud_endpoint ep = {0};
    const char *a;
    if (cel_str_starts(text, "https://")) {
        ep.https = true;
        a = text + 8;
    } else if (cel_str_starts(text, "http://")) {
        a = text + 7;
    } else {
        int rc = bad(err, what, text, "only http:// and https:// endpoints are supported");
        cel_err_hint(err, "Write the endpoint as http://HOST:PORT or https://HOST.");
        return rc;
    }
    if (has_control(text, strlen(text)))
        return bad(err, what, text, "the URL holds a control character");
    size_t alen = strcspn(a, "/?#");
    const char *rest = a + alen;
    if (*rest == '?' || *rest == '#' || (*rest == '/' && rest[1] != '\0'))
        return bad(err, what, text, "an endpoint has no path, query or fragment");
    if (memchr(a, '@', alen))
        return bad(err, what, text, "a user or password has no place in the endpoint");
    const char *host = a, *port = NULL, *why;
    size_t hlen, plen = 0;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', alen);
        if (!close)
            return bad(err, what, text, "an IPv6 address lacks its closing ']'");
        host = a + 1;
        hlen = (size_t)(close - host);
        why = ipv6_fault(host, hlen);
        if (why)
            return bad(err, what, text, why);
        ep.ipv6 = true;
        const char *after = close + 1;
        if (after < a + alen) {
            if (*after != ':')
                return bad(err, what, text, "only \":PORT\" may follow an IPv6 address");
            port = after + 1;
            plen = (size_t)(a + alen - port);
        }
    } else {
        const char *colon = memchr(a, ':', alen);
        hlen = colon ? (size_t)(colon - a) : alen;
        why = host_fault(host, hlen);
        if (why)
            return bad(err, what, text, why);
        if (colon) {
            port = colon + 1;
            plen = (size_t)(a + alen - port);
        }
    }
    if (port) {
        if (!parse_port(port, plen, &ep.port))
            return bad(err, what, text, "the port is not a number from 1 to 65535");
        ep.port_given = true;
    } else {
        ep.port = ep.https ? 443 : 80;
    }
    ep.host = cel_xstrndup(host, hlen);
    *out = ep;
    return 0;
}

void cloud_endpoint_free(struct cloud_endpoint *ep)
{
    if (!ep)
        return;
    free(ep->host);
    ep->host = NULL;
}

char *cloud_endpoint_base(const struct cloud_endpoint *ep)
{
    return cel_xasprintf("%s://%s%s%s:%u", ep->https ? "https" : "http", ep->ipv6 ? "[" : "",
                         ep->host, ep->ipv6 ? "]" : "", (unsigned)ep->port);
}
