/*
 * Unit tests of the classification in src/core/catalog/retention_policy.c (ret_classify,
 * ret_mark_name, ret_mark_short; policy parsing is tested in test_config.c).
 *
 * Each case is a synthetic catalogue, oldest first as the catalogue lists
 * it, and the marks written out by hand from Barman 3.4's rules
 * (RedundancyRetentionPolicy / RecoveryWindowRetentionPolicy._backup_report):
 * the walk goes newest first, so read each list from the bottom up. Times are
 * UTC (TZ=UTC) except in the test about the local wall clock.
 */
#include "unit.h"

#include <time.h>

#include "retention_policy.h"
#include "ts.h"

#define V RET_MARK_VALID
#define O RET_MARK_OBSOLETE
#define P RET_MARK_POTENTIALLY_OBSOLETE
#define KF RET_MARK_KEEP_FULL
#define KS RET_MARK_KEEP_STANDALONE
#define N RET_MARK_NONE

static void set_tz(const char *tz)
{
    assert_int_equal(setenv("TZ", tz, 1), 0);
    tzset();
}

/* Seconds since the epoch of a UTC time. */
static double utc(int y, int mon, int d, int h, int min, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = min,
                    .tm_sec = s};
    return (double)timegm(&tm);
}

/* A DONE backup that ended at t; a failed one; a kept one. */
static struct ret_backup done(double t)
{
    return (struct ret_backup){.done = true, .end_time = t};
}

static struct ret_backup failed(double t)
{
    return (struct ret_backup){.done = false, .end_time = t};
}

static struct ret_backup kept(double t, enum ret_mark keep)
{
    return (struct ret_backup){.done = true, .end_time = t, .keep = keep};
}

static struct ret_policy policy(const char *text)
{
    struct ret_policy p = {0};
    struct cel_err err = {0};
    if (ret_policy_parse(text, &p, &err) != 0)
        fail_msg("ret_policy_parse(\"%s\"): %s", text, err.msg);
    return p;
}

/* Classify and compare every mark, naming the first that differs. Returns
 * ret_classify's value; *raised_out (when not NULL) gets its flag. */
static unsigned check(const char *text, unsigned min_redundancy, double now,
                      const struct ret_backup *b, size_t n, const enum ret_mark *want,
                      bool *raised_out)
{
    struct ret_policy p = policy(text);
    enum ret_mark got[16];
    assert_true(n <= CEL_ARRAY_LEN(got));
    for (size_t i = 0; i < n; i++)
        got[i] = (enum ret_mark)99; /* every mark must be written */
    bool raised = true;
    unsigned r = ret_classify(&p, min_redundancy, now, b, n, got, &raised);
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("%s, minimum_redundancy %u: backup %zu (oldest = 0) is %s, expected %s", text,
                     min_redundancy, i, ret_mark_name(got[i]), ret_mark_name(want[i]));
    if (raised_out)
        *raised_out = raised;
    return r;
}

#define CHECK(text, minred, now, backups, want, raised)                                            \
    check(text, minred, now, backups, CEL_ARRAY_LEN(backups), want, raised)

static const double NOW = 1772539200.0; /* 2026-03-03 12:00:00 UTC */

static void test_ret_classify_now_constant(void **state)
{
    (void)state;
    assert_true(NOW == utc(2026, 3, 3, 12, 0, 0));
}

/* ---------------------------------------------------------- REDUNDANCY */

static void test_ret_classify_redundancy_1_skips_failed(void **state)
{
    (void)state;
    set_tz("UTC");
    const struct ret_backup b[] = {done(utc(2026, 2, 1, 0, 0, 0)), failed(utc(2026, 2, 2, 0, 0, 0)),
                                   done(utc(2026, 2, 3, 0, 0, 0)),
                                   failed(utc(2026, 2, 4, 0, 0, 0))};
    /* newest first: FAILED -, DONE #0 VALID, FAILED -, DONE #1 OBSOLETE */
    const enum ret_mark want[] = {O, N, V, N};
    bool raised;
    assert_int_equal(CHECK("REDUNDANCY 1", 0, NOW, b, want, &raised), 1);
    assert_false(raised);
}

static void test_ret_classify_redundancy_2_interleaved(void **state)
{
    (void)state;
    const struct ret_backup b[] = {done(1000), done(2000), failed(3000),
                                   done(4000), failed(0),  done(6000)};
    /* newest first: #0 V, -, #1 V, -, #2 O, #3 O */
    const enum ret_mark want[] = {O, O, N, V, N, V};
    assert_int_equal(CHECK("REDUNDANCY 2", 0, NOW, b, want, NULL), 2);
}

static void test_ret_classify_redundancy_3(void **state)
{
    (void)state;
    /* fewer DONE backups than the redundancy: all VALID */
    const struct ret_backup few[] = {failed(1000), done(2000), done(3000), failed(4000)};
    const enum ret_mark want_few[] = {N, V, V, N};
    assert_int_equal(CHECK("REDUNDANCY 3", 0, NOW, few, want_few, NULL), 3);
    /* five DONE with failures between them: the two oldest go */
    const struct ret_backup many[] = {done(1000),   done(2000), failed(2500), done(3000),
                                      failed(3500), done(4000), done(5000)};
    const enum ret_mark want_many[] = {O, O, N, V, N, V, V};
    CHECK("REDUNDANCY 3", 0, NOW, many, want_many, NULL);
}

static void test_ret_classify_redundancy_raised_by_minimum(void **state)
{
    (void)state;
    const struct ret_backup b[] = {done(1000), done(2000), failed(2500), done(3000), done(4000)};
    /* REDUNDANCY 1 enforced as 3 */
    const enum ret_mark want3[] = {O, V, N, V, V};
    bool raised = false;
    assert_int_equal(CHECK("REDUNDANCY 1", 3, NOW, b, want3, &raised), 3);
    assert_true(raised);
    /* a minimum equal to or below the policy changes nothing */
    const enum ret_mark want2[] = {O, O, N, V, V};
    assert_int_equal(CHECK("REDUNDANCY 2", 2, NOW, b, want2, &raised), 2);
    assert_false(raised);
    assert_int_equal(CHECK("REDUNDANCY 2", 1, NOW, b, want2, &raised), 2);
    assert_false(raised);
}

static void test_ret_classify_redundancy_keep_counts(void **state)
{
    (void)state;
    /* newest (kept standalone) uses up place 0, so only one more is VALID;
     * a kept backup past the redundancy stays kept */
    const struct ret_backup b[] = {kept(1000, KF), done(2000), done(3000), kept(4000, KS)};
    const enum ret_mark want[] = {KF, O, V, KS};
    CHECK("REDUNDANCY 2", 0, NOW, b, want, NULL);
}

/* ------------------------------------------------------ RECOVERY WINDOW */

static void test_ret_classify_window_days(void **state)
{
    (void)state;
    set_tz("UTC");
    /* 7 DAYS: the point of recoverability is 2026-02-24 12:00 */
    const struct ret_backup inside[] = {done(utc(2026, 2, 25, 0, 0, 0)),
                                        done(utc(2026, 3, 1, 0, 0, 0)),
                                        done(utc(2026, 3, 3, 11, 0, 0))};
    const enum ret_mark all_valid[] = {V, V, V};
    assert_int_equal(CHECK("RECOVERY WINDOW OF 7 DAYS", 0, NOW, inside, all_valid, NULL), 0);

    /* the newest backup before the point stays VALID: PITR to the start of
     * the window starts from it; the older ones go */
    const struct ret_backup b[] = {done(utc(2026, 2, 1, 0, 0, 0)), done(utc(2026, 2, 8, 0, 0, 0)),
                                   done(utc(2026, 2, 15, 0, 0, 0)), done(utc(2026, 2, 22, 0, 0, 0)),
                                   done(utc(2026, 3, 1, 0, 0, 0))};
    const enum ret_mark want[] = {O, O, O, V, V};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 0, NOW, b, want, NULL);

    /* every backup older than the window: only the newest stays */
    const struct ret_backup old[] = {done(utc(2026, 1, 1, 0, 0, 0)), done(utc(2026, 1, 2, 0, 0, 0)),
                                     done(utc(2026, 1, 3, 0, 0, 0))};
    const enum ret_mark want_old[] = {O, O, V};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 0, NOW, old, want_old, NULL);
}

static void test_ret_classify_window_strictly_before(void **state)
{
    (void)state;
    set_tz("UTC");
    /* 2 WEEKS: point 2026-02-17 12:00:00. A backup ending exactly then is
     * not before it (Barman compares with <), so it does not close the
     * window; the one ending a second earlier does. */
    const struct ret_backup b[] = {done(utc(2026, 2, 1, 0, 0, 0)), done(utc(2026, 2, 10, 0, 0, 0)),
                                   done(utc(2026, 2, 17, 12, 0, 0)),
                                   done(utc(2026, 2, 24, 0, 0, 0))};
    const enum ret_mark want[] = {O, V, V, V};
    CHECK("RECOVERY WINDOW OF 2 WEEKS", 0, NOW, b, want, NULL);

    const struct ret_backup c[] = {done(utc(2026, 2, 1, 0, 0, 0)), done(utc(2026, 2, 10, 0, 0, 0)),
                                   done(utc(2026, 2, 17, 11, 59, 59)),
                                   done(utc(2026, 2, 24, 0, 0, 0))};
    const enum ret_mark want_c[] = {O, O, V, V};
    CHECK("RECOVERY WINDOW OF 2 WEEKS", 0, NOW, c, want_c, NULL);

    /* fractions count: 0.5 s before the point is before it */
    const struct ret_backup d[] = {done(utc(2026, 2, 10, 0, 0, 0)),
                                   done(utc(2026, 2, 17, 12, 0, 0) - 0.5)};
    const enum ret_mark want_d[] = {O, V};
    CHECK("RECOVERY WINDOW OF 2 WEEKS", 0, NOW, d, want_d, NULL);
}

static void test_ret_classify_window_month_is_31_days(void **state)
{
    (void)state;
    set_tz("UTC");
    /* now 2026-03-03 12:00, 1 MONTHS = 31 days: point 2026-01-31 12:00
     * (a calendar month would put it at 2026-02-03 12:00). The backup of
     * 2026-02-01 is inside the window, so the one of 2026-01-31 10:00 is
     * the first before it and stays VALID; with a calendar month 2026-02-01
     * would close the window and 2026-01-31 would be OBSOLETE. */
    const struct ret_backup b[] = {done(utc(2026, 1, 20, 0, 0, 0)),
                                   done(utc(2026, 1, 31, 10, 0, 0)), done(utc(2026, 2, 1, 0, 0, 0)),
                                   done(utc(2026, 3, 2, 0, 0, 0))};
    const enum ret_mark want[] = {O, V, V, V};
    CHECK("RECOVERY WINDOW OF 1 MONTHS", 0, NOW, b, want, NULL);

    /* now 2026-03-01 00:00 after a 28-day February: point 2026-01-29 00:00
     * (calendar: 2026-02-01 00:00). 2026-01-30 is inside, 2026-01-28
     * closes the window and stays, 2026-01-01 goes. */
    double now = utc(2026, 3, 1, 0, 0, 0);
    const struct ret_backup c[] = {done(utc(2026, 1, 1, 0, 0, 0)), done(utc(2026, 1, 28, 0, 0, 0)),
                                   done(utc(2026, 1, 30, 0, 0, 0)),
                                   done(utc(2026, 2, 20, 0, 0, 0))};
    const enum ret_mark want_c[] = {O, V, V, V};
    CHECK("RECOVERY WINDOW OF 1 MONTH", 0, now, c, want_c, NULL);

    /* 2 MONTHS from 2026-03-31 00:00 is 62 days: 2026-01-28 00:00 (two
     * calendar months: 2026-01-31). 2026-01-29 is inside; 2026-01-27 closes. */
    now = utc(2026, 3, 31, 0, 0, 0);
    const struct ret_backup d[] = {done(utc(2026, 1, 20, 0, 0, 0)), done(utc(2026, 1, 27, 0, 0, 0)),
                                   done(utc(2026, 1, 29, 0, 0, 0)),
                                   done(utc(2026, 3, 30, 0, 0, 0))};
    const enum ret_mark want_d[] = {O, V, V, V};
    CHECK("recovery window of 2 months", 0, now, d, want_d, NULL);
}

static void test_ret_classify_window_weeks(void **state)
{
    (void)state;
    set_tz("UTC");
    /* 1 WEEKS = 7 days: point 2026-02-24 12:00 */
    const struct ret_backup b[] = {done(utc(2026, 2, 10, 0, 0, 0)), done(utc(2026, 2, 17, 0, 0, 0)),
                                   done(utc(2026, 2, 24, 13, 0, 0)),
                                   done(utc(2026, 3, 3, 0, 0, 0))};
    /* 02-24 13:00 is inside, 02-17 closes, 02-10 goes */
    const enum ret_mark want[] = {O, V, V, V};
    CHECK("RECOVERY WINDOW OF 1 WEEKS", 0, NOW, b, want, NULL);
}

static void test_ret_classify_window_failed_ignored(void **state)
{
    (void)state;
    set_tz("UTC");
    /* 7 DAYS (point 02-24 12:00). The FAILED backup ended before the point
     * but is not DONE: it neither closes the window nor counts. */
    const struct ret_backup b[] = {done(utc(2026, 2, 1, 0, 0, 0)), done(utc(2026, 2, 10, 0, 0, 0)),
                                   failed(utc(2026, 2, 20, 0, 0, 0)),
                                   done(utc(2026, 3, 1, 0, 0, 0)),
                                   failed(utc(2026, 3, 2, 0, 0, 0))};
    const enum ret_mark want[] = {O, V, N, V, N};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 0, NOW, b, want, NULL);
}

static void test_ret_classify_window_minimum_redundancy(void **state)
{
    (void)state;
    set_tz("UTC");
    const struct ret_backup b[] = {done(utc(2026, 2, 1, 0, 0, 0)), done(utc(2026, 2, 8, 0, 0, 0)),
                                   done(utc(2026, 2, 15, 0, 0, 0)), done(utc(2026, 2, 22, 0, 0, 0)),
                                   done(utc(2026, 3, 1, 0, 0, 0))};
    /* minimum 3: 03-01 (1), 02-22 closes (2), 02-15 OBSOLETE* (3), rest go */
    const enum ret_mark want3[] = {O, O, P, V, V};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 3, NOW, b, want3, NULL);
    /* minimum 2 is met by the window itself: nothing potentially obsolete */
    const enum ret_mark want2[] = {O, O, O, V, V};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 2, NOW, b, want2, NULL);
    /* a minimum above the number of backups keeps all of them */
    const enum ret_mark want9[] = {P, P, P, V, V};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 9, NOW, b, want9, NULL);

    /* all backups older than the window, minimum 2: the newest closes it,
     * the next is OBSOLETE* */
    const struct ret_backup old[] = {done(utc(2026, 1, 1, 0, 0, 0)), done(utc(2026, 1, 2, 0, 0, 0)),
                                     done(utc(2026, 1, 3, 0, 0, 0))};
    const enum ret_mark want_old[] = {O, P, V};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 2, NOW, old, want_old, NULL);
}

static void test_ret_classify_window_keep(void **state)
{
    (void)state;
    set_tz("UTC");
    const struct ret_backup b[] = {done(utc(2026, 2, 1, 0, 0, 0)), done(utc(2026, 2, 8, 0, 0, 0)),
                                   kept(utc(2026, 2, 15, 0, 0, 0), KF),
                                   done(utc(2026, 2, 22, 0, 0, 0)),
                                   kept(utc(2026, 3, 1, 0, 0, 0), KS)};
    /* inside the window a kept backup shows its KEEP mark */
    const enum ret_mark want0[] = {O, O, KF, V, KS};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 0, NOW, b, want0, NULL);
    /* minimum 4: 03-01 KS (1), 02-22 closes (2), 02-15 KF counted (3),
     * 02-08 OBSOLETE* (4), 02-01 goes */
    const enum ret_mark want4[] = {O, P, KF, V, KS};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 4, NOW, b, want4, NULL);

    /* a kept backup before the point closes the window like any other */
    const struct ret_backup c[] = {done(utc(2026, 2, 1, 0, 0, 0)),
                                   kept(utc(2026, 2, 20, 0, 0, 0), KF),
                                   done(utc(2026, 3, 1, 0, 0, 0))};
    const enum ret_mark want_c[] = {O, KF, V};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 0, NOW, c, want_c, NULL);
}

static void test_ret_classify_window_unknown_end_time(void **state)
{
    (void)state;
    set_tz("UTC");
    /* Barman fails on a DONE backup without end_time; cellar lets it count
     * as inside the window, so it never makes older backups obsolete */
    const struct ret_backup b[] = {done(utc(2026, 2, 1, 0, 0, 0)), done(utc(2026, 2, 10, 0, 0, 0)),
                                   done(0), done(utc(2026, 3, 1, 0, 0, 0))};
    const enum ret_mark want[] = {O, V, V, V};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 0, NOW, b, want, NULL);
}

static void test_ret_classify_window_local_wall_clock(void **state)
{
    (void)state;
    /* Europe/Rome moved to summer time on 2026-03-29. Barman subtracts the
     * window on the wall clock: from 2026-03-30 12:00+02:00, 7 days back is
     * 2026-03-23 12:00+01:00 = 11:00 UTC: 7 days less one hour before now. */
    set_tz("Europe/Rome");
    struct ts now, por;
    struct cel_err err = {0};
    assert_int_equal(ts_parse("2026-03-30 12:00:00+02:00", &now, &err), 0);
    assert_int_equal(ts_parse("2026-03-23 11:00:00+00:00", &por, &err), 0);
    assert_true(ts_local_minus(ts_epoch(&now), 7 * 86400) == ts_epoch(&por));
    /* a backup ending at 10:30 UTC is before Barman's point and closes the
     * window, though after now - 7 * 86400 (10:00 UTC) */
    const struct ret_backup b[] = {done(ts_epoch(&por) - 86400), done(ts_epoch(&por) - 1800),
                                   done(ts_epoch(&now) - 3600)};
    const enum ret_mark want[] = {O, V, V};
    CHECK("RECOVERY WINDOW OF 7 DAYS", 0, ts_epoch(&now), b, want, NULL);
    /* the fraction of a second of now is kept */
    assert_true(ts_local_minus(ts_epoch(&now) + 0.25, 7 * 86400) == ts_epoch(&por) + 0.25);
    set_tz("UTC");
    assert_true(ts_local_minus(NOW, 86400) == NOW - 86400);
}

/* ------------------------------------------------------- edges, no policy */

static void test_ret_classify_single_and_empty(void **state)
{
    (void)state;
    set_tz("UTC");
    const struct ret_backup one[] = {done(utc(2025, 1, 1, 0, 0, 0))};
    const enum ret_mark valid[] = {V};
    CHECK("REDUNDANCY 1", 0, NOW, one, valid, NULL);
    CHECK("RECOVERY WINDOW OF 1 DAYS", 0, NOW, one, valid, NULL);
    const struct ret_backup one_failed[] = {failed(utc(2025, 1, 1, 0, 0, 0))};
    const enum ret_mark none[] = {N};
    CHECK("REDUNDANCY 1", 0, NOW, one_failed, none, NULL);
    CHECK("RECOVERY WINDOW OF 1 DAYS", 3, NOW, one_failed, none, NULL);

    struct ret_policy p = policy("REDUNDANCY 2");
    bool raised = true;
    assert_int_equal(ret_classify(&p, 0, NOW, NULL, 0, NULL, &raised), 2);
    assert_false(raised);
    assert_int_equal(ret_classify(&p, 5, NOW, NULL, 0, NULL, &raised), 5);
    assert_true(raised);
    p = policy("RECOVERY WINDOW OF 2 DAYS");
    assert_int_equal(ret_classify(&p, 5, NOW, NULL, 0, NULL, NULL), 0);
}

static void test_ret_classify_no_policy(void **state)
{
    (void)state;
    struct ret_policy none = {.kind = RET_NONE};
    const struct ret_backup b[] = {done(1000), failed(2000), kept(3000, KF), done(4000)};
    enum ret_mark got[4] = {V, V, V, V};
    bool raised = true;
    assert_int_equal(ret_classify(&none, 3, NOW, b, 4, got, &raised), 0);
    assert_false(raised);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(got[i], N);
}

static void test_ret_mark_names(void **state)
{
    (void)state;
    assert_string_equal(ret_mark_name(RET_MARK_NONE), "-");
    assert_string_equal(ret_mark_name(V), "VALID");
    assert_string_equal(ret_mark_name(O), "OBSOLETE");
    assert_string_equal(ret_mark_name(P), "POTENTIALLY_OBSOLETE");
    assert_string_equal(ret_mark_name(KF), "KEEP:FULL");
    assert_string_equal(ret_mark_name(KS), "KEEP:STANDALONE");
    assert_string_equal(ret_mark_short(RET_MARK_NONE), "-");
    assert_string_equal(ret_mark_short(V), "VALID");
    assert_string_equal(ret_mark_short(O), "OBSOLETE");
    assert_string_equal(ret_mark_short(P), "OBSOLETE*");
    assert_string_equal(ret_mark_short(KF), "KEEP:FULL");
    assert_string_equal(ret_mark_short(KS), "KEEP:STANDALONE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ret_classify_now_constant),
        cmocka_unit_test(test_ret_classify_redundancy_1_skips_failed),
        cmocka_unit_test(test_ret_classify_redundancy_2_interleaved),
        cmocka_unit_test(test_ret_classify_redundancy_3),
        cmocka_unit_test(test_ret_classify_redundancy_raised_by_minimum),
        cmocka_unit_test(test_ret_classify_redundancy_keep_counts),
        cmocka_unit_test(test_ret_classify_window_days),
        cmocka_unit_test(test_ret_classify_window_strictly_before),
        cmocka_unit_test(test_ret_classify_window_month_is_31_days),
        cmocka_unit_test(test_ret_classify_window_weeks),
        cmocka_unit_test(test_ret_classify_window_failed_ignored),
        cmocka_unit_test(test_ret_classify_window_minimum_redundancy),
        cmocka_unit_test(test_ret_classify_window_keep),
        cmocka_unit_test(test_ret_classify_window_unknown_end_time),
        cmocka_unit_test(test_ret_classify_window_local_wall_clock),
        cmocka_unit_test(test_ret_classify_single_and_empty),
        cmocka_unit_test(test_ret_classify_no_policy),
        cmocka_unit_test(test_ret_mark_names),
    };
    set_tz("UTC");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
