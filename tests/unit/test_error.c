/* Unit tests of src/core/common/error.c: setting errors and the code table. */
#include "unit.h"

#include <errno.h>

#include "error.h"

static void test_cel_err_set_formats_and_returns_negative_code(void **state)
{
    (void)state;
    struct cel_err err = {0};
    int rc = cel_err_set(&err, CEL_E_NOT_FOUND, "backup '%s' not found", "20260101T000000");
    assert_int_equal(rc, -CEL_E_NOT_FOUND);
    assert_int_equal(err.code, CEL_E_NOT_FOUND);
    assert_string_equal(err.msg, "backup '20260101T000000' not found");
    assert_int_equal(err.sys_errno, 0);
}

static void test_cel_err_set_null_err_still_returns_code(void **state)
{
    (void)state;
    assert_int_equal(cel_err_set(NULL, CEL_E_IO, "x"), -CEL_E_IO);
    cel_err_hint(NULL, "no crash");
    cel_err_prefix(NULL, "no crash");
}

static void test_cel_err_sys_appends_strerror(void **state)
{
    (void)state;
    struct cel_err err = {0};
    int rc = cel_err_sys(&err, CEL_E_IO, ENOENT, "cannot open '%s'", "/nope");
    assert_int_equal(rc, -CEL_E_IO);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_string_equal(err.msg, "cannot open '/nope': No such file or directory");
}

static void test_cel_err_prefix_and_hint(void **state)
{
    (void)state;
    struct cel_err err = {0};
    cel_err_set(&err, CEL_E_FORMAT, "invalid line 3");
    cel_err_prefix(&err, "reading '%s'", "backup.info");
    cel_err_hint(&err, "Restore the file from %s.", "backup.info.copy");
    assert_string_equal(err.msg, "reading 'backup.info': invalid line 3");
    assert_string_equal(err.hint, "Restore the file from backup.info.copy.");
}

static void test_cel_err_set_truncates_long_messages(void **state)
{
    (void)state;
    struct cel_err err = {0};
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cel_err_set(&err, CEL_E_IO, "%s", big);
    assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
}

static void test_cel_code_table_lookups(void **state)
{
    (void)state;
    assert_string_equal(cel_code_name(CEL_E_CONFIG), "CONFIG");
    assert_string_equal(cel_code_name(-CEL_E_CONFIG), "CONFIG");
    assert_int_equal(cel_code_exit(CEL_E_CONFIG), CEL_EXIT_USAGE);
    assert_int_equal(cel_code_exit(CEL_E_USAGE), CEL_EXIT_USAGE);
    assert_int_equal(cel_code_exit(CEL_E_IO), CEL_EXIT_FAILED);
    assert_int_equal(cel_code_exit(CEL_E_CHECK), CEL_EXIT_CHECK);
    assert_int_equal(cel_code_exit(CEL_E_CHECK), 3);
    /* check --nagios: Nagios plugins exit 2 for CRITICAL */
    assert_int_equal(cel_code_exit(CEL_E_CHECK_CRITICAL), 2);
    assert_string_equal(cel_code_name(CEL_E_CHECK_CRITICAL), "CHECK_CRITICAL");
    assert_int_equal(cel_code_exit(CEL_E_OK), CEL_EXIT_OK);
    assert_string_equal(cel_code_text(CEL_E_LOCKED), "locked by another process");
    /* unknown numbers fall back to INTERNAL rather than crashing */
    assert_string_equal(cel_code_name(12345), "INTERNAL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cel_err_set_formats_and_returns_negative_code),
        cmocka_unit_test(test_cel_err_set_null_err_still_returns_code),
        cmocka_unit_test(test_cel_err_sys_appends_strerror),
        cmocka_unit_test(test_cel_err_prefix_and_hint),
        cmocka_unit_test(test_cel_err_set_truncates_long_messages),
        cmocka_unit_test(test_cel_code_table_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
