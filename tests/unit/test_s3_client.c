/*
 * Unit tests of the S3 client's pure parts (src/core/cloud/s3_client.c,
 * s3_http.c): what s3_client_new refuses before any request, and the
 * retry back-off's bounds. Nothing here touches the network.
 *
 * Every request, retry and fault is tested against a real store instead,
 * OpenStack Swift with s3api on 127.0.0.1: round trips, listings across
 * pages, DeleteObjects and credentials in tests/integration/t_s3_client.sh;
 * 503s from a stopped object server, 503 SlowDown from Swift's ratelimit,
 * connections cut by tests/tools/tcp_relay.py, the abort of a failed
 * multipart upload and a 403 that is not retried in
 * tests/integration/t_s3_faults.sh.
 */
#include "unit.h"

#include "s3_client.h"
#include "s3_int.h"

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

static void test_s3_backoff_bounds(void **state)
{
    (void)state;
    /* half fixed, half from the random number: base 200 waits 100..200 */
    assert_int_equal(s3_backoff_ms(200, 0, 0), 100);
    assert_int_equal(s3_backoff_ms(200, 0, 100), 200);
    assert_int_equal(s3_backoff_ms(200, 0, 101), 100); /* rnd is taken modulo half + 1 */
    /* doubling with each attempt */
    assert_int_equal(s3_backoff_ms(200, 1, 0), 200);
    assert_int_equal(s3_backoff_ms(200, 3, 0), 800);
    assert_int_equal(s3_backoff_ms(200, 3, 800), 1600);
    /* capped at S3_MAX_BACKOFF_MS, however many attempts (no overflow) */
    assert_int_equal(s3_backoff_ms(200, 6, 0), S3_MAX_BACKOFF_MS / 2);
    assert_int_equal(s3_backoff_ms(200, 6, S3_MAX_BACKOFF_MS / 2), S3_MAX_BACKOFF_MS);
    assert_int_equal(s3_backoff_ms(200, 1000, 0xffffffffu) <= S3_MAX_BACKOFF_MS, 1);
    assert_int_equal(s3_backoff_ms(200, 1000, 0), S3_MAX_BACKOFF_MS / 2);
    /* a base of 1 ms: the first retry comes at once (half of 1 ms is 0) */
    assert_int_equal(s3_backoff_ms(1, 0, 12345), 0);
    assert_int_equal(s3_backoff_ms(1, 1, 0), 1);
    assert_int_equal(s3_backoff_ms(1, 1, 1), 2);
    for (unsigned r = 0; r < 1000; r++) {
        long ms = s3_backoff_ms(300, 2, r * 7919u);
        assert_true(ms >= 600 && ms <= 1200);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_client_new_refusals),
        cmocka_unit_test(test_s3_backoff_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
