/*
 * Unit tests of the pure parts of src/ops/check/check.c: the backup maximum age
 * computation, Barman's summary of errors/, the JSON keys, and the Nagios
 * plugin output of Barman's NagiosOutputWriter.
 */
#include "unit.h"

#include "ops/ops.h"

/* ---- backup maximum age ----------------------------------------------------- */

/* A catalogue of n backups, oldest first: statuses and end times. */
struct fake_list {
    struct cat_list list;
    struct cat_backup items[4];
    struct cel_err errors[4];
    bool failed[4];
};

static void fake_add(struct fake_list *f, const char *id, enum cat_status status, double end)
{
    size_t i = f->list.n++;
    memset(&f->items[i], 0, sizeof f->items[i]);
    f->items[i].id = (char *)(uintptr_t)id;
    f->items[i].status = status;
    if (end > 0) {
        f->items[i].end_time.set = true;
        ts_from_epoch((int64_t)end, 0, &f->items[i].end_time.t);
    }
    f->list.items = f->items;
    f->list.errors = f->errors;
    f->list.failed = f->failed;
}

#define NOW 1790000000.0 /* 2026-09-21, UTC in these tests */

static void test_op_check_backup_age_young_enough(void **state)
{
    (void)state;
    struct fake_list f = {0};
    fake_add(&f, "20260920T000000", CAT_DONE, NOW - 7200);
    struct strbuf hint = {0};
    assert_true(op_check_backup_age(&f.list, NOW, 86400, &hint));
    assert_string_equal(sb_str(&hint), "interval provided: 1 day, latest backup age: 2 hours");
    sb_free(&hint);
}

static void test_op_check_backup_age_too_old(void **state)
{
    (void)state;
    struct fake_list f = {0};
    fake_add(&f, "20260920T000000", CAT_DONE, NOW - 3 * 3600 - 300);
    struct strbuf hint = {0};
    assert_false(op_check_backup_age(&f.list, NOW, 3600, &hint));
    assert_string_equal(sb_str(&hint),
                        "interval provided: 1 hour, latest backup age: 3 hours, 5 minutes");
    sb_free(&hint);
}

static void test_op_check_backup_age_exactly_at_the_limit_passes(void **state)
{
    (void)state;
    /* Barman fails only when end_time < now - age */
    struct fake_list f = {0};
    fake_add(&f, "20260920T000000", CAT_DONE, NOW - 7 * 86400);
    struct strbuf hint = {0};
    assert_true(op_check_backup_age(&f.list, NOW, 7 * 86400, &hint));
    assert_string_equal(sb_str(&hint), "interval provided: 7 days, latest backup age: 7 days");
    sb_free(&hint);
}

static void test_op_check_backup_age_newest_copy_done_counts(void **state)
{
    (void)state;
    /* a newer FAILED or STARTED backup does not refresh the age; a newer
     * WAITING_FOR_WALS one does (its copy is complete) */
    struct fake_list f = {0};
    fake_add(&f, "20260901T000000", CAT_DONE, NOW - 20 * 86400);
    fake_add(&f, "20260918T000000", CAT_FAILED, NOW - 3 * 86400);
    fake_add(&f, "20260920T000000", CAT_STARTED, 0);
    struct strbuf hint = {0};
    assert_false(op_check_backup_age(&f.list, NOW, 86400, &hint));
    assert_string_equal(sb_str(&hint), "interval provided: 1 day, latest backup age: 20 days");
    sb_reset(&hint);
    fake_add(&f, "20260921T000000", CAT_WAITING_FOR_WALS, NOW - 60);
    assert_true(op_check_backup_age(&f.list, NOW, 86400, &hint));
    assert_string_equal(sb_str(&hint), "interval provided: 1 day, latest backup age: 1 minute");
    sb_free(&hint);
}

static void test_op_check_backup_age_no_backup(void **state)
{
    (void)state;
    struct fake_list f = {0};
    struct strbuf hint = {0};
    assert_false(op_check_backup_age(&f.list, NOW, 86400, &hint));
    assert_string_equal(sb_str(&hint),
                        "interval provided: 1 day, latest backup age: No available backups");
    sb_reset(&hint);
    /* an unreadable backup.info is no backup */
    fake_add(&f, "20260920T000000", CAT_DONE, NOW - 60);
    f.failed[0] = true;
    assert_false(op_check_backup_age(&f.list, NOW, 86400, &hint));
    assert_string_equal(sb_str(&hint),
                        "interval provided: 1 day, latest backup age: No available backups");
    sb_free(&hint);
}

static void test_op_check_backup_age_unknown_end_time_fails(void **state)
{
    (void)state;
    struct fake_list f = {0};
    fake_add(&f, "20260920T000000", CAT_DONE, 0);
    struct strbuf hint = {0};
    assert_false(op_check_backup_age(&f.list, NOW, 86400, &hint));
    assert_string_equal(sb_str(&hint), "interval provided: 1 day, latest backup age: unknown "
                                       "(backup 20260920T000000 has no end_time)");
    sb_free(&hint);
}

/* ---- errors/ summary ------------------------------------------------------------ */

static void test_op_check_errors_summary_as_barman(void **state)
{
    (void)state;
    const char *names[] = {
        "000000010000000000000003.20260101T000000Z.duplicate",
        "foo.20260101T000000Z.unknown",
        "000000010000000000000004.20260101T000000Z.duplicate",
        "000000010000000000000005.20260101T000000Z.invalid",
        "000000010000000000000006.error",
        "something-else",
    };
    struct strbuf out = {0};
    op_check_errors_summary(names, 6, &out);
    assert_string_equal(sb_str(&out), "duplicates: 2, unknown: 1, invalid: 1, not relevant: 1, "
                                      "unknown failure: 1");
    sb_reset(&out);
    op_check_errors_summary(names, 0, &out);
    assert_string_equal(sb_str(&out), "");
    sb_free(&out);
}

/* ---- reports: JSON and Nagios ------------------------------------------------------ */

static struct op_check_item item(const char *name, bool ok, const char *hint)
{
    return (struct op_check_item){
        .name = (char *)(uintptr_t)name, .ok = ok, .hint = (char *)(uintptr_t)hint};
}

static struct op_check_item perf(const char *name, uint64_t bytes)
{
    return (struct op_check_item){
        .name = (char *)(uintptr_t)name, .ok = true, .has_perf = true, .perf = bytes};
}

static void test_op_check_json_mangles_names_as_barman(void **state)
{
    (void)state;
    struct op_check_item items[] = {
        item("PostgreSQL", true, NULL),
        item("superuser or standard user with backup privileges", true, NULL),
        item("no access to backup functions", false, "privileges are required"),
        item("ssh output clean", false, NULL),
        item("wal_level", true, NULL),
    };
    items[2].fix = (char *)(uintptr_t) "GRANT ...";
    items[3].detail = (char *)(uintptr_t) "line one\nline two";
    struct op_check_report r = {.server = "pg", .active = true, .items = items, .n = 5};
    json_t *j = op_check_json(&r);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text,
                        "{\"postgresql\":{\"status\":\"OK\",\"hint\":\"\"},"
                        "\"superuser_or_standard_user_with_backup_privileges\":{\"status\":\"OK\","
                        "\"hint\":\"\"},"
                        "\"no_access_to_backup_functions\":{\"status\":\"FAILED\",\"hint\":"
                        "\"privileges are required\",\"fix\":\"GRANT ...\"},"
                        "\"ssh_output_clean\":{\"status\":\"FAILED\",\"hint\":\"\",\"details\":"
                        "[\"line one\",\"line two\"]},"
                        "\"wal_level\":{\"status\":\"OK\",\"hint\":\"\"}}");
    free(text);
    json_decref(j);
    assert_int_equal(op_check_failures(&r), 2);
}

static void test_op_check_nagios_one_server_ok(void **state)
{
    (void)state;
    struct op_check_item items[] = {item("PostgreSQL", true, NULL),
                                    perf("backup minimum size", 23125874), perf("wal size", 16384)};
    struct op_check_report r = {.server = "main", .active = true, .items = items, .n = 3};
    struct strbuf out = {0};
    assert_false(op_check_nagios(&r, 1, &out));
    assert_string_equal(sb_str(&out), "BARMAN OK - Ready to serve the Espresso backup for "
                                      "main|main=23125874B main_wals=16384B\n");
    sb_free(&out);
}

static void test_op_check_nagios_one_server_critical(void **state)
{
    (void)state;
    struct op_check_item items[] = {
        item("PostgreSQL", true, NULL), perf("backup minimum size", 10),
        item("minimum redundancy requirements", false, "have 1 backups, expected at least 2"),
        item("WAL archive", false, NULL), perf("wal size", 0)};
    struct op_check_report r = {.server = "main", .active = true, .items = items, .n = 5};
    struct strbuf out = {0};
    assert_true(op_check_nagios(&r, 1, &out));
    assert_string_equal(sb_str(&out),
                        "BARMAN CRITICAL - server main has issues * main FAILED: minimum "
                        "redundancy requirements, WAL archive|main=10B main_wals=0B\n"
                        "main.minimum redundancy requirements: FAILED (have 1 backups, expected "
                        "at least 2)\n"
                        "main.WAL archive: FAILED\n");
    sb_free(&out);
}

static void test_op_check_nagios_several_servers(void **state)
{
    (void)state;
    struct op_check_item good[] = {item("PostgreSQL", true, NULL)};
    struct op_check_item bad[] = {item("PostgreSQL", false, "down")};
    struct op_check_report r[] = {
        {.server = "a", .active = true, .items = good, .n = 1},
        {.server = "b", .active = true, .items = bad, .n = 1},
        {.server = "c", .active = true, .items = good, .n = 1},
    };
    struct strbuf out = {0};
    assert_true(op_check_nagios(r, 3, &out));
    assert_string_equal(sb_str(&out), "BARMAN CRITICAL - 1 server out of 3 have issues * b FAILED: "
                                      "PostgreSQL\n"
                                      "b.PostgreSQL: FAILED (down)\n");
    sb_reset(&out);
    r[1].items = good;
    assert_false(op_check_nagios(r, 3, &out));
    assert_string_equal(
        sb_str(&out), "BARMAN OK - Ready to serve the Espresso backup for 3 servers * a * b * c\n");
    sb_free(&out);
}

static void test_op_check_nagios_inactive_server_is_ignored(void **state)
{
    (void)state;
    struct op_check_item good[] = {item("PostgreSQL", true, NULL)};
    struct op_check_item bad[] = {item("PostgreSQL", false, "down")};
    struct op_check_report r[] = {
        {.server = "a", .active = true, .items = good, .n = 1},
        {.server = "b", .active = false, .items = bad, .n = 1},
    };
    struct strbuf out = {0};
    assert_false(op_check_nagios(r, 2, &out));
    assert_string_equal(sb_str(&out),
                        "BARMAN OK - Ready to serve the Espresso backup for a * IGNORING: b\n");
    sb_reset(&out);
    /* only an inactive server, failing */
    assert_false(op_check_nagios(&r[1], 1, &out));
    assert_string_equal(sb_str(&out), "BARMAN OK - No server configured * IGNORING: b\n");
    sb_reset(&out);
    /* an active one failing as well: CRITICAL, and both are listed */
    r[0].items = bad;
    assert_true(op_check_nagios(r, 2, &out));
    assert_string_equal(sb_str(&out), "BARMAN CRITICAL - 2 server out of 2 have issues * a FAILED: "
                                      "PostgreSQL * b FAILED: PostgreSQL\n"
                                      "a.PostgreSQL: FAILED (down)\n"
                                      "b.PostgreSQL: FAILED (down)\n");
    sb_free(&out);
}

static void test_op_check_nagios_no_server(void **state)
{
    (void)state;
    struct strbuf out = {0};
    assert_false(op_check_nagios(NULL, 0, &out));
    assert_string_equal(sb_str(&out), "BARMAN OK - No server configured\n");
    sb_free(&out);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_check_backup_age_young_enough),
        cmocka_unit_test(test_op_check_backup_age_too_old),
        cmocka_unit_test(test_op_check_backup_age_exactly_at_the_limit_passes),
        cmocka_unit_test(test_op_check_backup_age_newest_copy_done_counts),
        cmocka_unit_test(test_op_check_backup_age_no_backup),
        cmocka_unit_test(test_op_check_backup_age_unknown_end_time_fails),
        cmocka_unit_test(test_op_check_errors_summary_as_barman),
        cmocka_unit_test(test_op_check_json_mangles_names_as_barman),
        cmocka_unit_test(test_op_check_nagios_one_server_ok),
        cmocka_unit_test(test_op_check_nagios_one_server_critical),
        cmocka_unit_test(test_op_check_nagios_several_servers),
        cmocka_unit_test(test_op_check_nagios_inactive_server_is_ignored),
        cmocka_unit_test(test_op_check_nagios_no_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
