/* Unit tests of src/core/cloud/cloud_url.c: bucket URLs and endpoint URLs. */
#include "unit.h"

#include "cloud_url.h"

static void assert_url(const char *text, const char *bucket, const char *prefix)
{
    struct cloud_url u;
    struct cel_err err = {0};
    assert_int_equal(cloud_url_parse(text, &u, &err), 0);
    assert_string_equal(u.bucket, bucket);
    assert_string_equal(u.prefix, prefix);
    cloud_url_free(&u);
}

static void test_cloud_url_parse_shapes(void **state)
{
    (void)state;
    assert_url("s3://cellar", "cellar", "");
    assert_url("s3://cellar/", "cellar", "");
    assert_url("s3://cellar/pg", "cellar", "pg");
    assert_url("s3://cellar/pg/", "cellar", "pg");
    /* barman-cloud strips the leading slashes; os.path.join ignores trailing ones */
    assert_url("s3://cellar//pg/main//", "cellar", "pg/main");
    assert_url("s3://my.bucket-1/a b/%20/x", "my.bucket-1", "a b/%20/x");
    assert_url("s3://abc/", "abc", "");
    assert_url("s3://a23456789012345678901234567890123456789012345678901234567890123", /* 63 */
               "a23456789012345678901234567890123456789012345678901234567890123", "");
}

static void assert_url_bad(const char *text, const char *msg)
{
    struct cloud_url u = {(char *)"untouched", NULL};
    struct cel_err err = {0};
    assert_int_equal(cloud_url_parse(text, &u, &err), -CEL_E_INVALID);
    assert_int_equal(err.code, CEL_E_INVALID);
    assert_string_equal(err.msg, msg);
    assert_string_equal(u.bucket, "untouched");
}

static void test_cloud_url_parse_refusals(void **state)
{
    (void)state;
    assert_url_bad("gs://cellar/pg",
                   "invalid bucket URL 'gs://cellar/pg': only s3:// URLs are supported");
    struct cel_err err = {0};
    struct cloud_url u;
    assert_int_equal(cloud_url_parse("cellar", &u, &err), -CEL_E_INVALID);
    assert_string_equal(err.hint, "Write the destination as s3://BUCKET or s3://BUCKET/PATH.");
    assert_url_bad("s3://", "invalid bucket URL 's3://': no bucket name after s3://");
    assert_url_bad("s3:///pg", "invalid bucket URL 's3:///pg': no bucket name after s3://");
    assert_url_bad("s3://ab", "invalid bucket URL 's3://ab': a bucket name has 3 to 63 characters");
    assert_url_bad("s3://a234567890123456789012345678901234567890123456789012345678901234",
                   "invalid bucket URL 's3://a2345678901234567890123456789012345678901234567890"
                   "123456789...': a bucket name has 3 to 63 characters");
    assert_url_bad("s3://Cellar", "invalid bucket URL 's3://Cellar': a bucket name has no "
                                  "upper-case letters");
    assert_url_bad("s3://cel_lar", "invalid bucket URL 's3://cel_lar': a bucket name has only "
                                   "lower-case letters, digits, '.' and '-'");
    assert_url_bad("s3://-cellar", "invalid bucket URL 's3://-cellar': a bucket name begins "
                                   "and ends with a letter or digit");
    assert_url_bad("s3://cellar.", "invalid bucket URL 's3://cellar.': a bucket name begins "
                                   "and ends with a letter or digit");
    assert_url_bad("s3://cel..lar",
                   "invalid bucket URL 's3://cel..lar': a bucket name has no \"..\"");
    assert_url_bad("s3://key@cellar/pg", "invalid bucket URL 's3://key@cellar/pg': a user, "
                                         "password or port has no place in an s3:// URL");
    assert_url_bad("s3://cellar:9000/pg", "invalid bucket URL 's3://cellar:9000/pg': a user, "
                                          "password or port has no place in an s3:// URL");
    assert_url_bad("s3://cellar/pg?x=1", "invalid bucket URL 's3://cellar/pg?x=1': a query or "
                                         "fragment has no place in an s3:// URL");
    assert_url_bad("s3://cellar/pg#x", "invalid bucket URL 's3://cellar/pg#x': a query or "
                                       "fragment has no place in an s3:// URL");
    assert_url_bad("s3://cellar/a//b", "invalid bucket URL 's3://cellar/a//b': the path has an "
                                       "empty component (\"//\")");
    assert_url_bad("s3://cellar/a/../b", "invalid bucket URL 's3://cellar/a/../b': the path has "
                                         "a \".\" or \"..\" component");
    assert_url_bad("s3://cellar/./b", "invalid bucket URL 's3://cellar/./b': the path has a "
                                      "\".\" or \"..\" component");
    assert_url_bad("s3://cellar/a\tb", "invalid bucket URL 's3://cellar/a\\x09b': the path "
                                       "holds a control character");
}

static void assert_ep(const char *text, bool https, const char *host, bool ipv6, unsigned port,
                      bool given, const char *base)
{
    struct cloud_endpoint ep;
    struct cel_err err = {0};
    assert_int_equal(cloud_endpoint_parse(text, &ep, &err), 0);
    assert_int_equal(ep.https, https);
    assert_string_equal(ep.host, host);
    assert_int_equal(ep.ipv6, ipv6);
    assert_int_equal(ep.port, port);
    assert_int_equal(ep.port_given, given);
    char *b = cloud_endpoint_base(&ep);
    assert_string_equal(b, base);
    free(b);
    cloud_endpoint_free(&ep);
}

static void test_cloud_endpoint_parse_shapes(void **state)
{
    (void)state;
    assert_ep("http://127.0.0.1:8080", false, "127.0.0.1", false, 8080, true,
              "http://127.0.0.1:8080");
    assert_ep("http://127.0.0.1:8080/", false, "127.0.0.1", false, 8080, true,
              "http://127.0.0.1:8080");
    assert_ep("https://s3.eu-west-1.amazonaws.com", true, "s3.eu-west-1.amazonaws.com", false, 443,
              false, "https://s3.eu-west-1.amazonaws.com:443");
    assert_ep("http://minio", false, "minio", false, 80, false, "http://minio:80");
    assert_ep("http://[::1]:9000", false, "::1", true, 9000, true, "http://[::1]:9000");
    assert_ep("https://[fe80::1]", true, "fe80::1", true, 443, false, "https://[fe80::1]:443");
    assert_ep("http://Store_1.local:1", false, "Store_1.local", false, 1, true,
              "http://Store_1.local:1");
    assert_ep("http://h:65535", false, "h", false, 65535, true, "http://h:65535");
}

static void assert_ep_bad(const char *text, const char *why)
{
    struct cloud_endpoint ep = {.host = (char *)"untouched"};
    struct cel_err err = {0};
    char msg[512];
    assert_int_equal(cloud_endpoint_parse(text, &ep, &err), -CEL_E_INVALID);
    snprintf(msg, sizeof msg, "invalid endpoint URL '%s': %s", text, why);
    assert_string_equal(err.msg, msg);
    assert_string_equal(ep.host, "untouched");
}

static void test_cloud_endpoint_parse_refusals(void **state)
{
    (void)state;
    assert_ep_bad("127.0.0.1:8080", "only http:// and https:// endpoints are supported");
    assert_ep_bad("s3://cellar", "only http:// and https:// endpoints are supported");
    assert_ep_bad("http://", "no host");
    assert_ep_bad("http://:8080", "no host");
    assert_ep_bad("http://h:0", "the port is not a number from 1 to 65535");
    assert_ep_bad("http://h:65536", "the port is not a number from 1 to 65535");
    assert_ep_bad("http://h:", "the port is not a number from 1 to 65535");
    assert_ep_bad("http://h:80a", "the port is not a number from 1 to 65535");
    assert_ep_bad("http://h:-1", "the port is not a number from 1 to 65535");
    assert_ep_bad("http://h:1:2", "the port is not a number from 1 to 65535");
    assert_ep_bad("http://h/s3", "an endpoint has no path, query or fragment");
    assert_ep_bad("http://h?x", "an endpoint has no path, query or fragment");
    assert_ep_bad("http://h/#x", "an endpoint has no path, query or fragment");
    assert_ep_bad("http://user:pw@h", "a user or password has no place in the endpoint");
    assert_ep_bad("http://h st", "a host name has only letters, digits, '.', '-' and '_'");
    assert_ep_bad("http://-h", "a host name begins with a letter or digit");
    assert_ep_bad("http://[::1", "an IPv6 address lacks its closing ']'");
    assert_ep_bad("http://[]:80", "empty brackets");
    assert_ep_bad("http://[1.2.3.4]", "an address in brackets is an IPv6 address, with ':'");
    assert_ep_bad("http://[::g]", "an IPv6 address in brackets has only hex digits, ':' and '.'");
    assert_ep_bad("http://[::1]x", "only \":PORT\" may follow an IPv6 address");
    struct cloud_endpoint ep;
    struct cel_err err = {0};
    assert_int_equal(cloud_endpoint_parse("http://h\n", &ep, &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "invalid endpoint URL 'http://h\\x0A': the URL holds a control "
                                 "character");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cloud_url_parse_shapes),
        cmocka_unit_test(test_cloud_url_parse_refusals),
        cmocka_unit_test(test_cloud_endpoint_parse_shapes),
        cmocka_unit_test(test_cloud_endpoint_parse_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
