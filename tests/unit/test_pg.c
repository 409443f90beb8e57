/*
 * Unit tests of src/core/postgres/pg.c that need no server:
 * pg_conninfo_with, which builds the connection string cellar hands to
 * pg_receivewal (application_name added as Barman adds it, the password
 * moved out of the command line).
 */
#include "unit.h"

#include "pg.h"

static void test_pg_conninfo_with_adds_a_missing_key(void **state)
{
    (void)state;
    char *c = pg_conninfo_with("host=pg user=barman", "application_name", "barman_receive_wal",
                               NULL);
    assert_string_equal(c, "user='barman' host='pg' application_name='barman_receive_wal'");
    free(c);
}

static void test_pg_conninfo_with_keeps_the_dba_value(void **state)
{
    (void)state;
    char *c = pg_conninfo_with("host=pg application_name=mine", "application_name", "other", NULL);
    assert_string_equal(c, "host='pg' application_name='mine'");
    free(c);
}

static void test_pg_conninfo_with_uri_quotes_and_password(void **state)
{
    (void)state;
    char *password = NULL;
    char *c = pg_conninfo_with("postgresql://barman:s3cr%27t@pg:5433/postgres?sslmode=require",
                               "application_name", "it's", &password);
    assert_non_null(c);
    assert_string_equal(password, "s3cr't");
    assert_null(strstr(c, "s3cr"));
    assert_non_null(strstr(c, "port='5433'"));
    assert_non_null(strstr(c, "sslmode='require'"));
    assert_non_null(strstr(c, "application_name='it\\'s'"));
    free(c);
    free(password);
    /* no password: *password is NULL */
    c = pg_conninfo_with("host=pg", "application_name", "a", &password);
    assert_null(password);
    free(c);
    /* what libpq cannot parse */
    assert_null(pg_conninfo_with("host='pg", "application_name", "a", &password));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_conninfo_with_adds_a_missing_key),
        cmocka_unit_test(test_pg_conninfo_with_keeps_the_dba_value),
        cmocka_unit_test(test_pg_conninfo_with_uri_quotes_and_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
