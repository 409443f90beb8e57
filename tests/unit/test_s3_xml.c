/*
 * Unit tests of src/core/cloud/s3_xml.c: S3's XML replies. The documents
 * marked "Swift" are real replies of OpenStack Swift 2.30's s3api, captured
 * on loopback (also the fuzz seeds in tests/fuzz/corpus/s3_xml/); the
 * others follow the shapes S3 documents (an <Error> inside a 200 reply to
 * CompleteMultipartUpload, a DeleteResult with an <Error>). Then what the
 * parser must refuse, with its exact message.
 */
#include "unit.h"

#include "s3_xml.h"
#include "strbuf.h"

#define XMLDECL "<?xml version='1.0' encoding='UTF-8'?>\n"
#define NS " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

/* Swift: ListObjectsV2 with delimiter=/ and max-keys=2 */
static const char list_delimiter[] =
    XMLDECL "<ListBucketResult" NS "><Name>dev</Name><Prefix/><NextContinuationToken>Ymln"
    "</NextContinuationToken><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter>"
    "<IsTruncated>true</IsTruncated><CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes>"
    "<Contents><Key>big</Key><LastModified>2026-12-07T18:46:38.000Z</LastModified><ETag>"
    "\"7545e8b5e8a0338d13023e077e40e5c0-8\"</ETag><Size>41943040</Size><StorageClass>STANDARD"
    "</StorageClass></Contents></ListBucketResult>";

/* Swift: a key with a space, a non-ASCII letter, '+', '&', '<' and '>' */
static const char list_special[] =
    XMLDECL "<ListBucketResult" NS "><Name>dev</Name><Prefix>sp </Prefix><KeyCount>1</KeyCount>"
    "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>sp ace/\xc3\xbc+x&amp;"
    "y&lt;z&gt;.txt</Key><LastModified>2026-12-07T18:48:50.000Z</LastModified><ETag>"
    "\"b1946ac92492d2347c6235b4d2611184\"</ETag><Size>6</Size><StorageClass>STANDARD"
    "</StorageClass></Contents></ListBucketResult>";

/* Swift: GET of a missing key */
static const char error_nosuchkey[] =
    XMLDECL "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
    "<RequestId>txa96e9bcbcb324f98bebde-006b16ff7c</RequestId><Key>nonexist</Key></Error>";

/* Swift: DeleteObjects with a wrong Content-MD5 */
static const char error_baddigest[] =
    XMLDECL "<Error><Code>BadDigest</Code><Message>The Content-MD5 you specified did not match "
    "what we received.</Message><RequestId>tx62814a4fd84543ba80efe-006b16ff83</RequestId>"
    "<ContentMd5>AAAAAAAAAAAAAAAAAAAAAA==</ContentMd5></Error>";

/* Swift: CreateMultipartUpload */
static const char initiate[] =
    XMLDECL "<InitiateMultipartUploadResult" NS "><Bucket>dev</Bucket><Key>mp &amp;x</Key>"
    "<UploadId>YzliYzQ2YzUtMjU3OS00NmQ4LWFkYTQtZTM1NWM5MTQ1YzVi</UploadId>"
    "</InitiateMultipartUploadResult>";

/* Swift: CompleteMultipartUpload */
static const char complete[] =
    XMLDECL "<CompleteMultipartUploadResult" NS "><Location>http://127.0.0.1:28464/dev/"
    "mp%20%26x</Location><Bucket>dev</Bucket><Key>mp &amp;x</Key><ETag>"
    "\"62109206880d38a4010a98e11243924a-1\"</ETag></CompleteMultipartUploadResult>";

/* Swift: DeleteObjects, not quiet */
static const char delete_result[] =
    XMLDECL "<DeleteResult" NS "><Deleted><Key>nothere</Key></Deleted><Deleted><Key>mp &amp;x"
    "</Key></Deleted></DeleteResult>";

static void test_s3_xml_parse_list_swift_delimiter(void **state)
{
    (void)state;
    struct s3_xml_list l;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_list(list_delimiter, strlen(list_delimiter), &l, &err), 0);
    assert_int_equal(l.n_objects, 1);
    assert_string_equal(l.objects[0].key, "big");
    assert_true(l.objects[0].size == 41943040);
    assert_string_equal(l.objects[0].etag, "\"7545e8b5e8a0338d13023e077e40e5c0-8\"");
    assert_string_equal(l.objects[0].last_modified, "2026-12-07T18:46:38.000Z");
    assert_int_equal(l.n_prefixes, 1);
    assert_string_equal(l.prefixes[0], "a/");
    assert_true(l.truncated);
    assert_string_equal(l.next_token, "Ymln");
    s3_xml_list_free(&l);
}

static void test_s3_xml_parse_list_entities_decoded(void **state)
{
    (void)state;
    struct s3_xml_list l;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_list(list_special, strlen(list_special), &l, &err), 0);
    assert_int_equal(l.n_objects, 1);
    assert_string_equal(l.objects[0].key, "sp ace/\xc3\xbc+x&y<z>.txt");
    assert_true(l.objects[0].size == 6);
    assert_false(l.truncated);
    assert_null(l.next_token);
    assert_int_equal(l.n_prefixes, 0);
    s3_xml_list_free(&l);
}

static void test_s3_xml_parse_list_numeric_references(void **state)
{
    (void)state;
    static const char doc[] = "<ListBucketResult><Contents><Key>a&#x2F;b&#233;&#10;c</Key>"
                              "<Size>18446744073709551615</Size></Contents></ListBucketResult>";
    struct s3_xml_list l;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_list(doc, strlen(doc), &l, &err), 0);
    assert_string_equal(l.objects[0].key, "a/b\xc3\xa9\nc");
    assert_true(l.objects[0].size == UINT64_MAX);
    assert_string_equal(l.objects[0].etag, "");
    assert_string_equal(l.objects[0].last_modified, "");
    s3_xml_list_free(&l);
}

static void test_s3_xml_parse_list_empty_bucket(void **state)
{
    (void)state;
    static const char doc[] = XMLDECL "<ListBucketResult" NS "><Name>dev</Name><Prefix/>"
                              "<KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false"
                              "</IsTruncated></ListBucketResult>";
    struct s3_xml_list l;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_list(doc, strlen(doc), &l, &err), 0);
    assert_int_equal(l.n_objects, 0);
    assert_int_equal(l.n_prefixes, 0);
    s3_xml_list_free(&l);
}

/* The document, the parser's message. */
static void assert_list_refused(const char *doc, const char *msg)
{
    struct s3_xml_list l;
    struct cel_err err = {0};
    int rc = s3_xml_parse_list(doc, strlen(doc), &l, &err);
    if (rc != -CEL_E_FORMAT)
        fail_msg("parsed %s: rc %d", doc, rc);
    assert_int_equal(err.code, CEL_E_FORMAT);
    assert_string_equal(err.msg, msg);
    s3_xml_list_free(&l);
}

static void test_s3_xml_parse_list_refusals(void **state)
{
    (void)state;
    assert_list_refused("", "S3 listing reply: no element found at line 1");
    assert_list_refused("<html><body>Bad Gateway</body></html>",
                        "S3 listing reply: expected <ListBucketResult>, found <html>");
    assert_list_refused(error_nosuchkey,
                        "S3 listing reply: expected <ListBucketResult>, found <Error>");
    assert_list_refused("<ListBucketResult><Contents><Key>a</Key>",
                        "S3 listing reply: no element found at line 1");
    assert_list_refused("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><ListBucketResult/>",
                        "S3 listing reply: a document type declaration is not allowed");
    assert_list_refused("<ListBucketResult><Contents><Key>&a;</Key></Contents></ListBucketResult>",
                        "S3 listing reply: undefined entity at line 1");
    assert_list_refused("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
                        "S3 listing reply: an object without a <Key>");
    assert_list_refused("<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
                        "S3 listing reply: no <Size> for 'k'");
    assert_list_refused("<ListBucketResult><Contents><Key></Key></Contents></ListBucketResult>",
                        "S3 listing reply: an empty <Key>");
    assert_list_refused("<ListBucketResult><Contents><Key>k</Key><Key>j</Key></Contents>"
                        "</ListBucketResult>",
                        "S3 listing reply: <Contents/Key> given twice");
    assert_list_refused("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents>"
                        "</ListBucketResult>",
                        "S3 listing reply: invalid <Size> '-1'");
    assert_list_refused("<ListBucketResult><Contents><Key>k</Key><Size>18446744073709551616"
                        "</Size></Contents></ListBucketResult>",
                        "S3 listing reply: invalid <Size> '18446744073709551616'");
    assert_list_refused("<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
                        "S3 listing reply: invalid <IsTruncated> 'yes'");
    assert_list_refused("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
                        "S3 listing reply: truncated without a <NextContinuationToken>");
    assert_list_refused("<ListBucketResult><a><b><c><d><e><f><g><h>x</h></g></f></e></d></c></b>"
                        "</a></ListBucketResult>",
                        "S3 listing reply: elements nested deeper than 8");
    assert_list_refused("<ListBucketResult/><ListBucketResult/>",
                        "S3 listing reply: junk after document element at line 1");
}

static void test_s3_xml_parse_list_text_bounded(void **state)
{
    (void)state;
    struct strbuf sb = {0};
    sb_append(&sb, "<ListBucketResult><Contents><Key>");
    sb_pad(&sb, 'k', 70000);
    sb_append(&sb, "</Key><Size>1</Size></Contents></ListBucketResult>");
    assert_list_refused(sb_str(&sb),
                        "S3 listing reply: text longer than 65536 bytes in <Contents/Key>");
    sb_free(&sb);
}

static void test_s3_xml_parse_error_swift(void **state)
{
    (void)state;
    struct s3_xml_error e;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_error(error_nosuchkey, strlen(error_nosuchkey), &e, &err), 0);
    assert_string_equal(e.code, "NoSuchKey");
    assert_string_equal(e.message, "The specified key does not exist.");
    assert_string_equal(e.request_id, "txa96e9bcbcb324f98bebde-006b16ff7c");
    assert_int_equal(s3_xml_parse_error(error_baddigest, strlen(error_baddigest), &e, &err), 0);
    assert_string_equal(e.code, "BadDigest");
    assert_string_equal(e.message,
                        "The Content-MD5 you specified did not match what we received.");
}

static void test_s3_xml_parse_error_refusals(void **state)
{
    (void)state;
    struct s3_xml_error e;
    struct cel_err err = {0};
    static const char nocode[] = "<Error><Message>m</Message></Error>";
    assert_int_equal(s3_xml_parse_error(nocode, strlen(nocode), &e, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "S3 error reply: no <Code>");
    assert_string_equal(e.message, "");
    static const char html[] = "<html>503 Service Unavailable</html>";
    assert_int_equal(s3_xml_parse_error(html, strlen(html), &e, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "S3 error reply: expected <Error>, found <html>");
    assert_int_equal(s3_xml_parse_error(NULL, 0, &e, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "S3 error reply: no element found at line 1");
}

static void test_s3_xml_parse_initiate_swift(void **state)
{
    (void)state;
    char *id = NULL;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_initiate(initiate, strlen(initiate), &id, &err), 0);
    assert_string_equal(id, "YzliYzQ2YzUtMjU3OS00NmQ4LWFkYTQtZTM1NWM5MTQ1YzVi");
    free(id);
    static const char none[] = "<InitiateMultipartUploadResult><Key>k</Key>"
                               "</InitiateMultipartUploadResult>";
    assert_int_equal(s3_xml_parse_initiate(none, strlen(none), &id, &err), -CEL_E_FORMAT);
    assert_null(id);
    assert_string_equal(err.msg, "S3 multipart upload reply: no <UploadId>");
}

static void test_s3_xml_parse_complete_swift(void **state)
{
    (void)state;
    struct s3_xml_complete c;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_complete(complete, strlen(complete), &c, &err), 0);
    assert_false(c.failed);
    assert_string_equal(c.etag, "\"62109206880d38a4010a98e11243924a-1\"");
}

static void test_s3_xml_parse_complete_error_in_200(void **state)
{
    (void)state;
    /* S3 keeps the connection alive with whitespace while it completes, and
     * may then send an <Error> with status 200 */
    static const char doc[] = "\n \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error><Code>"
                              "InternalError</Code><Message>We encountered an internal error. "
                              "Please try again.</Message><RequestId>656c76696e67</RequestId>"
                              "</Error>";
    struct s3_xml_complete c;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_complete(doc, strlen(doc), &c, &err), 0);
    assert_true(c.failed);
    assert_string_equal(c.error.code, "InternalError");
    assert_string_equal(c.error.message, "We encountered an internal error. Please try again.");
    assert_string_equal(c.etag, "");
    static const char other[] = "<ListBucketResult/>";
    assert_int_equal(s3_xml_parse_complete(other, strlen(other), &c, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "S3 multipart completion reply: expected "
                                 "<CompleteMultipartUploadResult>, found <ListBucketResult>");
}

static void test_s3_xml_parse_delete_swift(void **state)
{
    (void)state;
    struct s3_xml_delete d;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_delete(delete_result, strlen(delete_result), &d, &err), 0);
    assert_int_equal(d.n_deleted, 2);
    assert_string_equal(d.deleted[0], "nothere");
    assert_string_equal(d.deleted[1], "mp &x");
    assert_int_equal(d.n_errors, 0);
    s3_xml_delete_free(&d);
}

static void test_s3_xml_parse_delete_errors(void **state)
{
    (void)state;
    static const char doc[] = "<DeleteResult" NS "><Deleted><Key>a&amp;b</Key></Deleted><Error>"
                              "<Key>locked</Key><Code>AccessDenied</Code><Message>Access Denied"
                              "</Message></Error><Error><Key>k2</Key><Code>InternalError</Code>"
                              "</Error></DeleteResult>";
    struct s3_xml_delete d;
    struct cel_err err = {0};
    assert_int_equal(s3_xml_parse_delete(doc, strlen(doc), &d, &err), 0);
    assert_int_equal(d.n_deleted, 1);
    assert_string_equal(d.deleted[0], "a&b");
    assert_int_equal(d.n_errors, 2);
    assert_string_equal(d.errors[0].key, "locked");
    assert_string_equal(d.errors[0].code, "AccessDenied");
    assert_string_equal(d.errors[0].message, "Access Denied");
    assert_string_equal(d.errors[1].message, "");
    s3_xml_delete_free(&d);

    static const char nokey[] = "<DeleteResult><Error><Code>X</Code></Error></DeleteResult>";
    assert_int_equal(s3_xml_parse_delete(nokey, strlen(nokey), &d, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "S3 delete reply: an <Error> without a <Key> or a <Code>");
    s3_xml_delete_free(&d);
    static const char nodel[] = "<DeleteResult><Deleted></Deleted></DeleteResult>";
    assert_int_equal(s3_xml_parse_delete(nodel, strlen(nodel), &d, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "S3 delete reply: a <Deleted> without a <Key>");
    s3_xml_delete_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_xml_parse_list_swift_delimiter),
        cmocka_unit_test(test_s3_xml_parse_list_entities_decoded),
        cmocka_unit_test(test_s3_xml_parse_list_numeric_references),
        cmocka_unit_test(test_s3_xml_parse_list_empty_bucket),
        cmocka_unit_test(test_s3_xml_parse_list_refusals),
        cmocka_unit_test(test_s3_xml_parse_list_text_bounded),
        cmocka_unit_test(test_s3_xml_parse_error_swift),
        cmocka_unit_test(test_s3_xml_parse_error_refusals),
        cmocka_unit_test(test_s3_xml_parse_initiate_swift),
        cmocka_unit_test(test_s3_xml_parse_complete_swift),
        cmocka_unit_test(test_s3_xml_parse_complete_error_in_200),
        cmocka_unit_test(test_s3_xml_parse_delete_swift),
        cmocka_unit_test(test_s3_xml_parse_delete_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
