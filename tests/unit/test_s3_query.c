/*
 * Unit tests of src/core/cloud/s3_query.c (the canonical query string, key
 * encoding, payload digests) and of the part sizes of s3_upload.c. Digest
 * vectors are FIPS 180-2's "abc" and the empty string (also what `printf
 * abc | sha256sum` and `openssl md5 -binary | base64` print); the encoding
 * follows the SigV4 rules in s3_query.h.
 */
#include "unit.h"

#include <errno.h>
#include <stdio.h>

#include "s3_client.h"
#include "s3_query.h"

static void assert_encoded(const char *in, bool keep_slash, const char *out)
{
    struct strbuf sb = {0};
    s3_uri_encode(&sb, in, strlen(in), keep_slash);
    assert_string_equal(sb_str(&sb), out);
    sb_free(&sb);
}

static void test_s3_uri_encode_unreserved_only(void **state)
{
    (void)state;
    assert_encoded("AZaz09-._~", false, "AZaz09-._~");
    assert_encoded("wals/0000000100000000/", false, "wals%2F0000000100000000%2F");
    assert_encoded("wals/0000000100000000/", true, "wals/0000000100000000/");
    assert_encoded("a b+c&d=e?f#g%h", true, "a%20b%2Bc%26d%3De%3Ff%23g%25h");
    assert_encoded("\xc3\xbc\x01\x7f\xff", true, "%C3%BC%01%7F%FF");
    assert_encoded("", true, "");
}

static void test_s3_query_render_sorted_and_encoded(void **state)
{
    (void)state;
    struct s3_query q = {0};
    struct strbuf sb = {0};
    s3_query_render(&q, &sb);
    assert_string_equal(sb_str(&sb), "");
    s3_query_add(&q, "prefix", "wals/");
    s3_query_add(&q, "list-type", "2");
    s3_query_add(&q, "continuation-token", "a+b=");
    s3_query_add(&q, "delimiter", "/");
    s3_query_render(&q, &sb);
    assert_string_equal(sb_str(&sb), "continuation-token=a%2Bb%3D&delimiter=%2F&list-type=2&"
                                     "prefix=wals%2F");
    s3_query_free(&q);
    assert_int_equal(q.n, 0);

    /* a parameter without a value gets "=", as the canonical form has it */
    sb_reset(&sb);
    s3_query_add(&q, "uploads", NULL);
    s3_query_render(&q, &sb);
    assert_string_equal(sb_str(&sb), "uploads=");
    s3_query_free(&q);

    /* by name, then by value, byte by byte (upper case before lower) */
    sb_reset(&sb);
    s3_query_add(&q, "a", "2");
    s3_query_add(&q, "b", "");
    s3_query_add(&q, "a", "1");
    s3_query_add(&q, "B", "x");
    s3_query_add(&q, "partNumber", "10");
    s3_query_add(&q, "uploadId", "Yz/+=");
    s3_query_render(&q, &sb);
    assert_string_equal(sb_str(&sb), "B=x&a=1&a=2&b=&partNumber=10&uploadId=Yz%2F%2B%3D");
    s3_query_free(&q);
    sb_free(&sb);
}

static void test_s3_sha256_vectors(void **state)
{
    (void)state;
    char hex[S3_SHA256_HEX];
    s3_sha256_hex("", 0, hex);
    assert_string_equal(hex, S3_EMPTY_SHA256);
    s3_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char b64[S3_MD5_B64];
    struct s3_digest *d = s3_digest_new();
    s3_digest_update(d, "a", 1);
    s3_digest_update(d, "bc", 2);
    s3_digest_end(d, hex, b64, NULL);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(b64, "kAFQmDzST7DWlj99KOF/cg==");

    /* a file's digests in one read, with the MD5 in hex as an ETag has it */
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs("abc", f);
    fflush(f);
    struct s3_file_digest fd;
    assert_int_equal(s3_file_digest(fileno(f), 3, &fd), 0);
    assert_string_equal(fd.sha256, hex);
    assert_string_equal(fd.md5_b64, "kAFQmDzST7DWlj99KOF/cg==");
    assert_string_equal(fd.md5_hex, "900150983cd24fb0d6963f7d28e17f72");
    /* a file shorter than the size asked for is an error, not a digest */
    errno = 0;
    assert_int_equal(s3_file_digest(fileno(f), 4, &fd), -1);
    assert_int_equal(errno, EIO);
    fclose(f);
}

static void test_s3_md5_base64_vectors(void **state)
{
    (void)state;
    char b64[S3_MD5_B64];
    s3_md5_base64("", 0, b64);
    assert_string_equal(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
    s3_md5_base64("abc", 3, b64);
    assert_string_equal(b64, "kAFQmDzST7DWlj99KOF/cg==");
}

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static void test_s3_part_size_choices(void **state)
{
    (void)state;
    /* unknown size: 16 MiB, doubling every 200 parts */
    struct s3_upload_opts o = {0};
    assert_true(s3_part_size(&o, 1) == 16 * MiB);
    assert_true(s3_part_size(&o, 200) == 16 * MiB);
    assert_true(s3_part_size(&o, 201) == 32 * MiB);
    assert_true(s3_part_size(&o, 1000) == 256 * MiB);
    uint64_t total = 0;
    for (unsigned n = 1; n <= S3_MAX_PARTS; n++)
        total += s3_part_size(&o, n);
    assert_true(total == 200 * (16 + 32 + 64 + 128 + 256) * MiB); /* 96.9 GiB */
    /* a part size asked for, never below S3's minimum */
    o.part_size = 8 * MiB;
    assert_true(s3_part_size(&o, 1) == 8 * MiB);
    o.part_size = 1 * MiB;
    assert_true(s3_part_size(&o, 1) == S3_PART_MIN);

    /* expected size: 800 parts' worth, rounded up to a MiB, at least 5 MiB */
    o = (struct s3_upload_opts){.expected_size = 40 * MiB};
    assert_true(s3_part_size(&o, 1) == 5 * MiB);
    o.expected_size = 100 * GiB;
    assert_true(s3_part_size(&o, 1) == 128 * MiB);
    assert_true(s3_part_size(&o, 800) == 128 * MiB);
    assert_true(s3_part_size(&o, 801) == 256 * MiB); /* longer than announced: room left */
    o.part_size = 8 * MiB; /* smaller than the expected size needs: the larger wins */
    assert_true(s3_part_size(&o, 1) == 128 * MiB);
    o = (struct s3_upload_opts){.expected_size = 40 * MiB, .part_size = 8 * MiB};
    assert_true(s3_part_size(&o, 1) == 8 * MiB);
    /* never above S3's largest part */
    o = (struct s3_upload_opts){.expected_size = 10000 * GiB};
    assert_true(s3_part_size(&o, 1) == S3_PART_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_uri_encode_unreserved_only),
        cmocka_unit_test(test_s3_query_render_sorted_and_encoded),
        cmocka_unit_test(test_s3_sha256_vectors),
        cmocka_unit_test(test_s3_md5_base64_vectors),
        cmocka_unit_test(test_s3_part_size_choices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
