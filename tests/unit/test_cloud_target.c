/* Unit tests of src/ops/cloud/cloud_target.c: what a cloud-* command's URL,
 * server and options become (nothing is sent: s3_client_new only builds). */
#include "unit.h"

#include <string.h>

#include "cloud_target.h"

/* the environment a test sees: NAME=VALUE pairs, NULL-terminated */
static const char *const *test_env;

static const char *fake_getenv(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = test_env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static const char *const keys_env[] = {"AWS_ACCESS_KEY_ID=test:tester",
                                       "AWS_SECRET_ACCESS_KEY=S3cr3tKey", NULL};

static void test_cloud_target_endpoint_and_region(void **state)
{
    (void)state;
    struct cloud_target t;
    struct cel_err err = {0};
    test_env = keys_env;
    struct cloud_target_opts o = {.url = "s3://cellar/pg/",
                                  .server = "main",
                                  .endpoint_url = "http://127.0.0.1:8080",
                                  .getenv = fake_getenv};
    assert_int_equal(cloud_target_open(&o, &t, &err), 0);
    assert_string_equal(t.url.bucket, "cellar");
    assert_string_equal(t.url.prefix, "pg");
    assert_string_equal(t.server, "main");
    assert_string_equal(t.endpoint, "http://127.0.0.1:8080");
    assert_string_equal(t.creds_origin, "environment");
    cloud_target_close(&t);

    /* no endpoint: AWS's regional one, AWS_REGION before AWS_DEFAULT_REGION */
    static const char *const region_env[] = {"AWS_ACCESS_KEY_ID=AKIA", "AWS_SECRET_ACCESS_KEY=x",
                                             "AWS_DEFAULT_REGION=eu-west-1",
                                             "AWS_REGION=eu-central-1", NULL};
    test_env = region_env;
    o.endpoint_url = NULL;
    assert_int_equal(cloud_target_open(&o, &t, &err), 0);
    assert_string_equal(t.endpoint, "https://s3.eu-central-1.amazonaws.com");
    cloud_target_close(&t);
    static const char *const bare_env[] = {"AWS_ACCESS_KEY_ID=AKIA", "AWS_SECRET_ACCESS_KEY=x",
                                           NULL};
    test_env = bare_env;
    assert_int_equal(cloud_target_open(&o, &t, &err), 0);
    assert_string_equal(t.endpoint, "https://s3.us-east-1.amazonaws.com");
    cloud_target_close(&t);
}

static void test_cloud_target_refusals(void **state)
{
    (void)state;
    struct cloud_target t;
    struct cel_err err = {0};
    test_env = keys_env;
    struct cloud_target_opts o = {.url = "http://cellar", .server = "main",
                                  .getenv = fake_getenv};
    assert_true(cloud_target_open(&o, &t, &err) < 0);
    assert_non_null(strstr(err.msg, "s3://"));
    assert_null(t.s3);

    o.url = "s3://cellar";
    o.server = "../etc";
    memset(&err, 0, sizeof err);
    assert_true(cloud_target_open(&o, &t, &err) < 0);
    assert_null(t.s3);

    o.server = "main";
    o.endpoint_url = "ftp://127.0.0.1";
    memset(&err, 0, sizeof err);
    assert_true(cloud_target_open(&o, &t, &err) < 0);
    assert_non_null(strstr(err.msg, "ftp"));

    /* no credentials anywhere: an error that names where it looked, and
     * never a secret (there is none here to leak, so check the message) */
    static const char *const no_keys[] = {"HOME=/nonexistent", NULL};
    test_env = no_keys;
    o.endpoint_url = NULL;
    memset(&err, 0, sizeof err);
    assert_true(cloud_target_open(&o, &t, &err) < 0);
    assert_true(err.msg[0] != '\0');
    assert_null(t.s3);

    /* the secret never reaches an error: a bad endpoint with good keys */
    test_env = keys_env;
    o.endpoint_url = "http://";
    memset(&err, 0, sizeof err);
    assert_true(cloud_target_open(&o, &t, &err) < 0);
    assert_null(strstr(err.msg, "S3cr3tKey"));
    assert_null(strstr(err.hint, "S3cr3tKey"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cloud_target_endpoint_and_region),
        cmocka_unit_test(test_cloud_target_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
