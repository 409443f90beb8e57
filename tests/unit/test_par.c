/* Unit tests of src/core/exec/par.c: results, several processes, a dying worker. */
#include "unit.h"

#include <signal.h>

#include "par.h"

struct res {
    long square;
    pid_t pid;
};

static int square_job(size_t item, void *ctx, void *result, size_t size)
{
    (void)ctx;
    assert_int_equal(size, sizeof(struct res));
    struct res *r = result;
    r->square = (long)(item * item);
    r->pid = getpid();
    usleep(2000); /* long enough for the work to spread over the workers */
    return (int)item % 3;
}

static void test_par_run_results_in_item_order(void **state)
{
    (void)state;
    struct res r[100];
    int status[100];
    assert_int_equal(par_run(100, 4, square_job, NULL, r, sizeof r[0], status, NULL), 0);
    int others = 0;
    for (size_t i = 0; i < 100; i++) {
        assert_int_equal(r[i].square, (long)(i * i));
        assert_int_equal(status[i], (int)i % 3);
        if (r[i].pid != getpid())
            others++;
        else
            fail_msg("item %zu ran in the parent", i);
    }
    assert_int_equal(others, 100);
    /* more than one worker took part */
    int distinct = 0;
    for (size_t i = 1; i < 100; i++)
        if (r[i].pid != r[0].pid)
            distinct = 1;
    assert_int_equal(distinct, 1);
}

static void test_par_run_one_worker_runs_inline(void **state)
{
    (void)state;
    struct res r[3];
    int status[3];
    assert_int_equal(par_run(3, 1, square_job, NULL, r, sizeof r[0], status, NULL), 0);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(r[i].pid, getpid());
    assert_int_equal(par_run(0, 4, square_job, NULL, r, sizeof r[0], status, NULL), 0);
}

static int dying_job(size_t item, void *ctx, void *result, size_t size)
{
    (void)ctx;
    (void)size;
    if (item == 5)
        raise(SIGKILL);
    ((struct res *)result)->square = (long)item;
    return 0;
}

static void test_par_run_dead_worker_fails_its_item_only(void **state)
{
    (void)state;
    struct res r[20];
    int status[20];
    assert_int_equal(par_run(20, 3, dying_job, NULL, r, sizeof r[0], status, NULL), 0);
    for (size_t i = 0; i < 20; i++) {
        if (i == 5) {
            assert_int_equal(status[i], -CEL_E_INTERNAL);
            assert_int_equal(r[i].square, 0);
        } else {
            assert_int_equal(status[i], 0);
            assert_int_equal(r[i].square, (long)i);
        }
    }
}

static void test_par_run_result_too_large(void **state)
{
    (void)state;
    static char big[2][PAR_RESULT_MAX + 1];
    int status[2];
    struct cel_err err = {0};
    assert_int_equal(par_run(2, 2, square_job, NULL, big, sizeof big[0], status, &err),
                     -CEL_E_INTERNAL);
    assert_string_equal(err.msg, "par_run: result of 3073 bytes is too large");
}

static void test_par_cpus_positive(void **state)
{
    (void)state;
    assert_true(par_cpus() >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_par_run_results_in_item_order),
        cmocka_unit_test(test_par_run_one_worker_runs_inline),
        cmocka_unit_test(test_par_run_dead_worker_fails_its_item_only),
        cmocka_unit_test(test_par_run_result_too_large),
        cmocka_unit_test(test_par_cpus_positive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
