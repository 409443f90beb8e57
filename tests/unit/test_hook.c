/* Unit tests of src/core/exec/hook_script.c: environment, outcomes, retries, logging. */
#include "unit.h"

#include "hook_script.h"
#include "log.h"

static struct hook_ctx ctx(void)
{
    return (struct hook_ctx){.server = "main",
                             .config_file = "/etc/cellar.conf",
                             .retry_pause_ms = 5,
                             .retry_nap_ms = 20};
}

static void test_hook_run_environment(void **state)
{
    (void)state;
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "env | grep -E '^(BARMAN|CELLAR)_' | sort > '%s'",
             unit_path("env"));
    struct hook_vars vars = {0};
    hook_vars_add(&vars, "BARMAN_SEGMENT", "%s", "000000010000000000000002");
    hook_vars_add(&vars, "BARMAN_SIZE", "%d", 16485);
    hook_vars_add(&vars, "BARMAN_ERROR", "%s", "disk full");
    struct hook_ctx c = ctx();
    enum hook_outcome out;
    assert_int_equal(hook_run(&c, cmd, "archive", "pre", false, &vars, &out, NULL), 0);
    assert_int_equal(out, HOOK_OK);
    char *env = unit_read(unit_path("env"));
    assert_string_equal(env, "BARMAN_CONFIGURATION=/etc/cellar.conf\n"
                             "BARMAN_ERROR=disk full\n"
                             "BARMAN_HOOK=archive_script\n"
                             "BARMAN_PHASE=pre\n"
                             "BARMAN_RETRY=0\n"
                             "BARMAN_SEGMENT=000000010000000000000002\n"
                             "BARMAN_SERVER=main\n"
                             "BARMAN_SIZE=16485\n"
                             "BARMAN_VERSION=3.4.0\n"
                             "CELLAR_VERSION=" CEL_VERSION "\n");
    free(env);
    hook_vars_free(&vars);
}

static void test_hook_run_none_and_failure(void **state)
{
    (void)state;
    struct hook_ctx c = ctx();
    enum hook_outcome out = HOOK_OK;
    assert_int_equal(hook_run(&c, NULL, "archive", "post", false, NULL, &out, NULL), 0);
    assert_int_equal(out, HOOK_NONE);
    assert_int_equal(hook_run(&c, "exit 3", "archive", "post", false, NULL, &out, NULL), 0);
    assert_int_equal(out, HOOK_FAILED);
    /* a plain hook is run once even when it exits 63 */
    assert_int_equal(hook_run(&c, "exit 63", "backup", "pre", false, NULL, &out, NULL), 0);
    assert_int_equal(out, HOOK_FAILED);
}

static void test_hook_run_retry_until_success(void **state)
{
    (void)state;
    /* fails twice, then succeeds; the counter file shows three runs and
     * BARMAN_RETRY=1 */
    char cmd[4400];
    snprintf(cmd, sizeof cmd,
             "n=$(cat '%1$s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%1$s'; "
             "echo $BARMAN_RETRY $BARMAN_HOOK >> '%2$s'; [ $n -ge 3 ]",
             unit_path("count"), unit_path("seen"));
    struct hook_ctx c = ctx();
    enum hook_outcome out;
    assert_int_equal(hook_run(&c, cmd, "archive", "pre", true, NULL, &out, NULL), 0);
    assert_int_equal(out, HOOK_OK);
    char *count = unit_read(unit_path("count"));
    assert_string_equal(count, "3\n");
    free(count);
    char *seen = unit_read(unit_path("seen"));
    assert_string_equal(seen, "1 archive_retry_script\n1 archive_retry_script\n"
                              "1 archive_retry_script\n");
    free(seen);
}

static void test_hook_run_retry_abort_codes(void **state)
{
    (void)state;
    struct hook_ctx c = ctx();
    enum hook_outcome out;
    assert_int_equal(hook_run(&c, "exit 62", "archive", "pre", true, NULL, &out, NULL), 0);
    assert_int_equal(out, HOOK_ABORT_CONTINUE);
    assert_int_equal(hook_run(&c, "exit 63", "archive", "pre", true, NULL, &out, NULL), 0);
    assert_int_equal(out, HOOK_ABORT_STOP);
    /* six failures then success: the nap after the fifth is taken */
    char cmd[4400];
    snprintf(cmd, sizeof cmd,
             "n=$(cat '%1$s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%1$s'; [ $n -ge 7 ]",
             unit_path("count"));
    assert_int_equal(hook_run(&c, cmd, "backup", "post", true, NULL, &out, NULL), 0);
    assert_int_equal(out, HOOK_OK);
    char *count = unit_read(unit_path("count"));
    assert_string_equal(count, "7\n");
    free(count);
}

static void test_hook_run_output_goes_to_log(void **state)
{
    (void)state;
    assert_int_equal(log_open(unit_path("cellar.log"), NULL), 0);
    struct hook_ctx c = ctx();
    enum hook_outcome out;
    assert_int_equal(hook_run(&c, "echo hello; echo oops >&2; exit 4", "archive", "post", false,
                              NULL, &out, NULL),
                     0);
    log_close();
    char *log = unit_read(unit_path("cellar.log"));
    assert_non_null(strstr(log, "INFO: post archive_script: hello\n"));
    assert_non_null(strstr(log, "INFO: post archive_script (stderr): oops\n"));
    assert_non_null(strstr(log, "WARNING: post archive_script 'echo hello; echo oops >&2; exit "
                                "4' failed with exit status 4 (ignored)\n"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hook_run_environment, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_hook_run_none_and_failure),
        cmocka_unit_test_setup_teardown(test_hook_run_retry_until_success, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_hook_run_retry_abort_codes, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_hook_run_output_goes_to_log, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
