/*
 * cloud_url.h - barman-cloud's two addresses: the bucket URL
 * (DESTINATION_URL / SOURCE_URL, "s3://bucket[/path]") and --endpoint-url
 * ("http[s]://host[:port][/]").
 *
 * The bucket URL is read as barman-cloud 3.4 reads it (urlparse, netloc =
 * bucket, path with its leading slashes removed), so that cellar and
 * barman-cloud given the same URL use the same object names: the path is
 * kept as written except for its leading and trailing slashes, which
 * os.path.join makes irrelevant in the keys. What barman-cloud would pass on
 * silently and then fail on at the store (a query, a fragment, a user or port
 * in the bucket part, a bucket name S3 refuses) is refused here with a
 * message naming the part that is wrong.
 *
 * Nothing here touches the network; parsing is pure and allocates only the
 * strings of the result, which the caller frees with the matching _free.
 */
#ifndef CEL_CLOUD_URL_H
#define CEL_CLOUD_URL_H

#include "error.h"

/* A bucket and the path inside it, from "s3://bucket[/path]". */
struct cloud_url {
    char *bucket; /* 3 to 63 of [a-z0-9.-], first and last a letter or digit */
    char *prefix; /* the path without leading or trailing '/', "" for none */
};

/* An S3 API endpoint, from --endpoint-url. */
struct cloud_endpoint {
    bool https;      /* scheme https (else http) */
    char *host;      /* name, IPv4 address, or IPv6 address without brackets */
    bool ipv6;       /* host is an IPv6 literal (written in brackets in URLs) */
    uint16_t port;   /* the port given, else 80 or 443 */
    bool port_given; /* the URL named the port */
};

/* Parse "s3://bucket[/path]". Returns 0, or -CEL_E_INVALID with a message
 * quoting the URL (bounded and escaped) and saying what is wrong: the scheme
 * ("only s3:// URLs are supported"), an empty or invalid bucket name, a
 * user, password or port in the bucket part, a query or fragment, an empty
 * path component ("a//b"), "." or "..", or a control character. *out is
 * written only on success; free it with cloud_url_free. */
int cloud_url_parse(const char *text, struct cloud_url *out, struct cel_err *err);
void cloud_url_free(struct cloud_url *url);

/* Parse "http://host[:port][/]" or "https://...". Returns 0, or
 * -CEL_E_INVALID with a message quoting the URL and naming the fault: the
 * scheme, an empty or invalid host, an unterminated "[", a port that is not
 * a number from 1 to 65535, a user or password, a path other than "/", a
 * query or fragment. *out is written only on success; free it with
 * cloud_endpoint_free. */
int cloud_endpoint_parse(const char *text, struct cloud_endpoint *out, struct cel_err *err);
void cloud_endpoint_free(struct cloud_endpoint *ep);
/* "http://host:port" (the port always written, the IPv6 host in brackets):
 * the base every request URL starts with. A new string the caller frees. */
char *cloud_endpoint_base(const struct cloud_endpoint *ep);

#endif
