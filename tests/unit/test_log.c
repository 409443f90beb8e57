/* Unit tests of src/core/common/log.c: file lines, levels, observer. */
#include "unit.h"

#include "log.h"

static int observed;
static char last_msg[256];
static enum log_level last_level;

static void observe(void *ctx, enum log_level level, const char *msg)
{
    (void)ctx;
    observed++;
    last_level = level;
    snprintf(last_msg, sizeof last_msg, "%s", msg);
}

static void test_log_msg_writes_barman_style_lines(void **state)
{
    (void)state;
    const char *path = unit_path("cellar.log");
    assert_int_equal(log_open(path, NULL), 0);
    log_set_level(LOG_INFO);
    log_msg(LOG_DEBUG, "hidden %d", 1);
    log_msg(LOG_INFO, "archived %s", "000000010000000000000002");
    log_msg(LOG_WARNING, "second");
    log_close();
    char *text = unit_read(path);
    assert_non_null(text);
    assert_null(strstr(text, "hidden"));
    char *first = strstr(text, " cellar INFO: archived 000000010000000000000002\n");
    assert_non_null(first);
    assert_non_null(strstr(text, " cellar WARNING: second\n"));
    /* "YYYY-MM-DD HH:MM:SS,mmm [pid] " in front */
    char pid[32];
    snprintf(pid, sizeof pid, " [%ld]", (long)getpid());
    assert_non_null(strstr(text, pid));
    assert_int_equal(text[4], '-');
    assert_int_equal(text[19], ',');
    free(text);
}

static void test_log_observer_sees_lines_at_level(void **state)
{
    (void)state;
    observed = 0;
    log_set_observer(observe, NULL);
    log_set_level(LOG_WARNING);
    log_msg(LOG_INFO, "dropped");
    assert_int_equal(observed, 0);
    log_msg(LOG_ERROR, "kept %s", "this");
    assert_int_equal(observed, 1);
    assert_int_equal(last_level, LOG_ERROR);
    assert_string_equal(last_msg, "kept this");
    log_set_observer(NULL, NULL);
    log_set_level(LOG_INFO);
}

static void test_log_level_parse(void **state)
{
    (void)state;
    enum log_level l;
    struct cel_err err = {0};
    assert_int_equal(log_level_parse("debug", &l, &err), 0);
    assert_int_equal(l, LOG_DEBUG);
    assert_int_equal(log_level_parse("Warning", &l, &err), 0);
    assert_int_equal(l, LOG_WARNING);
    assert_int_equal(log_level_parse("warn", &l, &err), 0);
    assert_int_equal(l, LOG_WARNING);
    assert_int_equal(log_level_parse("loud", &l, &err), -CEL_E_INVALID);
    assert_string_equal(err.msg,
                        "invalid log level 'loud': expected DEBUG, INFO, WARNING, ERROR or CRITICAL");
    assert_string_equal(log_level_name(LOG_CRITICAL), "CRITICAL");
}

static void test_log_open_bad_path(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(log_open("/nonexistent-dir/x.log", &err), -CEL_E_IO);
    assert_string_equal(err.msg,
                        "cannot open log file '/nonexistent-dir/x.log': No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_msg_writes_barman_style_lines, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_log_observer_sees_lines_at_level),
        cmocka_unit_test(test_log_level_parse),
        cmocka_unit_test(test_log_open_bad_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
