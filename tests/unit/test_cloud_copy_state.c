/* Unit tests of src/ops/cloud/cloud_copy_state.c: the state file of a
 * server's copy in its bucket, parsed, formatted back and matched against
 * the configuration; and of cloud_copy_wal.c's map from xlog.db's
 * compression to barman-cloud's object suffix. */
#include "unit.h"

#include "cloud_copy.h"

static const char good[] = "destination=s3://bkt/pg\n"
                           "server_name=main\n"
                           "endpoint=http://127.0.0.1:8080\n"
                           "wal_upto=000000010000000000000012\n"
                           "wal_count=18\n"
                           "backups=20261207T110000 20261207T100000\n"
                           "retired=20261201T100000\n"
                           "last_upload=1765101234.500\n"
                           "last_attempt=1765101240.000\n"
                           "last_retention=0.000\n"
                           "some_later_key=ignored\n"
                           "last_error=cannot upload WAL file X: 503\n";

static void test_parse_and_format_round_trip(void **state)
{
    (void)state;
    struct cloud_copy_state st;
    struct cel_err err = {0};
    assert_int_equal(cloud_copy_state_parse(good, strlen(good), "upload.state", &st, &err), 0);
    assert_string_equal(st.destination, "s3://bkt/pg");
    assert_string_equal(st.server_name, "main");
    assert_string_equal(st.endpoint, "http://127.0.0.1:8080");
    assert_string_equal(st.wal_upto, "000000010000000000000012");
    assert_int_equal(st.wal_count, 18);
    assert_int_equal(st.backups.n, 2);
    assert_string_equal(st.backups.v[0], "20261207T100000"); /* sorted */
    assert_true(cloud_ids_has(&st.backups, "20261207T110000"));
    assert_false(cloud_ids_has(&st.backups, "20261207T120000"));
    assert_true(cloud_ids_has(&st.retired, "20261201T100000"));
    assert_true(st.last_upload > 1765101234.4 && st.last_upload < 1765101234.6);
    assert_string_equal(st.last_error, "cannot upload WAL file X: 503");
    struct strbuf text = {0};
    cloud_copy_state_format(&st, &text);
    struct cloud_copy_state again;
    assert_int_equal(cloud_copy_state_parse(text.buf, text.len, "x", &again, &err), 0);
    struct strbuf text2 = {0};
    cloud_copy_state_format(&again, &text2);
    assert_string_equal(text.buf, text2.buf);
    assert_null(strstr(text.buf, "some_later_key"));
    sb_free(&text);
    sb_free(&text2);
    cloud_copy_state_free(&again);
    cloud_copy_state_free(&st);
}

static void test_add_remove_keep_order(void **state)
{
    (void)state;
    struct cloud_ids ids = {0};
    cloud_ids_add(&ids, "20261207T120000");
    cloud_ids_add(&ids, "20261207T100000");
    cloud_ids_add(&ids, "20261207T120000");
    assert_int_equal(ids.n, 2);
    assert_string_equal(ids.v[0], "20261207T100000");
    cloud_ids_remove(&ids, "20261207T100000");
    assert_int_equal(ids.n, 1);
    assert_string_equal(ids.v[0], "20261207T120000");
    cloud_ids_remove(&ids, "20261207T100000");
    assert_int_equal(ids.n, 1);
    cloud_ids_free(&ids);
}

static void refused(const char *text, const char *msg)
{
    struct cloud_copy_state st;
    struct cel_err err = {0};
    assert_int_equal(cloud_copy_state_parse(text, strlen(text), "upload.state", &st, &err),
                     -CEL_E_FORMAT);
    assert_string_equal(err.msg, msg);
    assert_null(st.destination);
}

static void test_parse_refuses_what_is_not_ours(void **state)
{
    (void)state;
    refused("destination=s3://b\nno equals sign\n", "'upload.state' line 2: expected key=value");
    refused("wal_upto=../../etc/passwd\n", "'upload.state' line 1: wal_upto is not a WAL file name");
    refused("wal_count=-1\n", "'upload.state' line 1: wal_count is not a number");
    refused("wal_count=12x\n", "'upload.state' line 1: wal_count is not a number");
    refused("backups=20261207T100000 ../x\n",
            "'upload.state' line 1: holds something that is not a backup ID");
    refused("retired=x\n", "'upload.state' line 1: holds something that is not a backup ID");
    refused("last_upload=inf\n", "'upload.state' line 1: not a time in seconds");
    refused("\n\nlast_attempt=nan\n", "'upload.state' line 3: not a time in seconds");
    struct cloud_copy_state st;
    struct cel_err err = {0};
    assert_int_equal(cloud_copy_state_parse("a=b\0c", 5, "s", &st, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "'s' holds a NUL byte");
}

static void test_matches_the_configuration(void **state)
{
    (void)state;
    struct cfg_server s = {.name = "main", .cloud_destination = "s3://bkt/pg"};
    struct cloud_copy_state st = {0};
    assert_false(cloud_copy_state_matches(&st, &s)); /* no state: reconcile */
    cloud_copy_state_bind(&st, &s);
    assert_true(cloud_copy_state_matches(&st, &s));
    s.cloud_server_name = "pg-main";
    assert_false(cloud_copy_state_matches(&st, &s)); /* another folder */
    cloud_copy_state_bind(&st, &s);
    s.cloud_endpoint_url = "http://127.0.0.1:1";
    assert_false(cloud_copy_state_matches(&st, &s)); /* another store */
    cloud_copy_state_bind(&st, &s);
    s.cloud_destination = "s3://other";
    assert_false(cloud_copy_state_matches(&st, &s)); /* another bucket */
    cloud_copy_state_free(&st);
}

static void test_wal_comp_map(void **state)
{
    (void)state;
    struct cfg_server s = {.name = "main"};
    enum cloud_comp c;
    struct cel_err err = {0};
    assert_int_equal(cloud_copy_wal_comp(&s, "", &c, &err), 0);
    assert_int_equal(c, CLOUD_COMP_NONE);
    assert_int_equal(cloud_copy_wal_comp(&s, "gzip", &c, &err), 0);
    assert_int_equal(c, CLOUD_COMP_GZIP);
    assert_int_equal(cloud_copy_wal_comp(&s, "pybzip2", &c, &err), 0);
    assert_int_equal(c, CLOUD_COMP_BZIP2);
    assert_int_equal(cloud_copy_wal_comp(&s, "custom", &c, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "server main: WAL compressed with compression = custom cannot be "
                                 "read by barman-cloud: nothing is uploaded to cloud_destination");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format_round_trip),
        cmocka_unit_test(test_add_remove_keep_order),
        cmocka_unit_test(test_parse_refuses_what_is_not_ours),
        cmocka_unit_test(test_matches_the_configuration),
        cmocka_unit_test(test_wal_comp_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
