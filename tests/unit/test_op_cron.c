/*
 * Unit tests of `cron` (src/ops/cron.c) through the ops harness
 * (ops_fixture.h), without PostgreSQL: one run archives what waits in
 * incoming/, makes DONE the backup whose WAL has now all arrived, and
 * deletes what the retention policy then makes obsolete; --dry-run changes
 * nothing; a second cron leaves at once.
 *
 * Server "pg" (REDUNDANCY 1) has backup A, DONE (WAL ...02), and backup B,
 * WAITING_FOR_WALS (WAL ...03 to ...04); ...02 and ...03 are archived,
 * ...04 waits in incoming/.
 */
#include "unit.h"

#include "ops_fixture.h"

#include "lock.h"

#define A "20261101T000000"
#define B "20261102T000000"
#define SEG(n) "0000000100000000000000" n

static char *info(const char *status, const char *begin_wal, const char *end_wal)
{
    return cel_xasprintf("begin_time=2026-11-24 00:00:00+00:00\nbegin_wal=%s\n"
                         "end_time=2026-11-24 00:05:00+00:00\nend_wal=%s\n"
                         "server_name=pg\nsize=8192\nstatus=%s\ntimeline=1\n"
                         "xlog_segment_size=%u\n",
                         begin_wal, end_wal, status, OFX_SEGSIZE);
}

static int setup(void **state)
{
    if (ofx_setup(state) < 0)
        return -1;
    char *a = info("DONE", SEG("02"), SEG("02"));
    char *b = info("WAITING_FOR_WALS", SEG("03"), SEG("04"));
    write_backup("pg", A, a);
    write_backup("pg", B, b);
    free(a);
    free(b);
    ofx_wal("pg", SEG("02"), "", 0);
    ofx_segment(unit_path(ofx_wal_rel("pg", SEG("02"))), SEG("02"), "");
    ofx_wal("pg", SEG("03"), "", 0);
    ofx_segment(unit_path(ofx_wal_rel("pg", SEG("03"))), SEG("03"), "");
    ofx_xlogdb("pg", SEG("02") "\t1048576\t1795491700.5\tNone\n" SEG(
                         "03") "\t1048576\t1795491800.5\tNone\n");
    unit_mkdir("pg/incoming");
    ofx_segment(unit_path("pg/incoming/" SEG("04")), SEG("04"), "");
    return ofx_config("[pg]\nconninfo = host=/nonexistent\nretention_policy = REDUNDANCY 1\n");
}

static int cron(bool dry_run, struct cel_err *err)
{
    return op_cron(&ofx.ctx, &(struct op_cron_req){.workers = 1, .dry_run = dry_run}, err);
}

static char *status_of(const char *id)
{
    char *rel = cel_xasprintf("pg/base/%s/backup.info", id);
    char *text = unit_read(unit_path(rel));
    free(rel);
    assert_non_null(text);
    char *line = strstr(text, "\nstatus=");
    assert_non_null(line);
    char *st = cel_xstrndup(line + 8, strcspn(line + 8, "\n"));
    free(text);
    return st;
}

static void test_op_cron_archives_settles_and_enforces_retention(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(cron(false, &err), 0);
    /* ...04 is archived and catalogued */
    assert_int_equal(unit_count_entries(unit_path("pg/incoming")), 0);
    assert_true(ofx_exists(ofx_wal_rel("pg", SEG("04"))));
    char *db = ofx_read_xlogdb("pg");
    assert_non_null(strstr(db, SEG("04") "\t1048576\t"));
    /* B has all its WAL: DONE; A became obsolete and is deleted with the
     * WAL only it needed (...02) */
    char *st = status_of(B);
    assert_string_equal(st, "DONE");
    free(st);
    assert_false(ofx_exists("pg/base/" A));
    assert_false(ofx_exists(ofx_wal_rel("pg", SEG("02"))));
    assert_null(strstr(db, SEG("02")));
    free(db);
    db = ofx_read_xlogdb("pg");
    assert_true(cel_str_starts(db, SEG("03") "\t"));
    free(db);
    /* one summary for the server */
    json_t *j = ofx_result_json(json_array_size(ofx.rec.json) - 1);
    assert_string_equal(json_string_value(json_object_get(j, "server")), "pg");
    assert_false(json_is_true(json_object_get(j, "dry_run")));
    assert_int_equal(ofx_jint(j, "backups_done"), 1);
    json_t *deleted = json_object_get(j, "deleted");
    assert_int_equal(json_array_size(deleted), 1);
    assert_string_equal(json_string_value(json_array_get(deleted, 0)), A);
    assert_int_equal(ofx_jint(json_object_get(j, "archive"), "archived"), 1);
    assert_true(
        cel_str_ends(sb_str(&ofx.rec.text), "; 1 backup DONE; obsolete backups deleted: " A "\n"));
    ofx_assert_event("log INFO pg: retention (REDUNDANCY 1): deleting backup " A " (OBSOLETE)");

    /* the next minute: nothing left to do */
    ofx_events_clear();
    assert_int_equal(cron(false, &err), 0);
    j = ofx_result_json(0);
    assert_int_equal(ofx_jint(j, "backups_done"), 0);
    assert_int_equal(json_array_size(json_object_get(j, "deleted")), 0);
    assert_int_equal(ofx_jint(json_object_get(j, "archive"), "archived"), 0);
    assert_true(ofx_exists("pg/base/" B "/backup.info"));
}

static void test_op_cron_dry_run_changes_nothing(void **state)
{
    (void)state;
    /* B is still waiting for WAL: A is the only DONE backup and stays */
    struct cel_err err = {0};
    assert_int_equal(cron(true, &err), 0);
    assert_string_equal(sb_str(&ofx.rec.text), "pg: dry run: retention would delete nothing\n");
    assert_true(ofx_exists("pg/incoming/" SEG("04")));
    char *st = status_of(B);
    assert_string_equal(st, "WAITING_FOR_WALS");
    free(st);
    /* with B DONE, the dry run names A, and still removes nothing */
    char *b = info("DONE", SEG("03"), SEG("03"));
    write_backup("pg", B, b);
    free(b);
    ofx_events_clear();
    assert_int_equal(cron(true, &err), 0);
    assert_string_equal(sb_str(&ofx.rec.text), "pg: dry run: retention would delete " A "\n");
    json_t *would = json_object_get(ofx_result_json(0), "would_delete");
    assert_string_equal(json_string_value(json_array_get(would, 0)), A);
    assert_true(ofx_exists("pg/base/" A "/backup.info"));
    assert_true(ofx_exists(ofx_wal_rel("pg", SEG("02"))));
    assert_true(ofx_exists("pg/incoming/" SEG("04")));
}

static void test_op_cron_leaves_when_another_runs(void **state)
{
    (void)state;
    struct lock *other = NULL;
    struct cel_err err = {0};
    assert_int_equal(lock_acquire(unit_tmp, ".cron.lock", false, &other, &err), 0);
    assert_int_equal(cron(false, &err), 0);
    assert_true(cel_str_starts(ofx_events(), "log INFO -: another cron is running: "));
    assert_null(strstr(ofx_events(), "result"));
    assert_true(ofx_exists("pg/incoming/" SEG("04")));
    assert_true(ofx_exists("pg/base/" A "/backup.info"));
    lock_release(other);
    /* once it has gone, cron runs */
    ofx_events_clear();
    assert_int_equal(cron(false, &err), 0);
    assert_false(ofx_exists("pg/incoming/" SEG("04")));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, ofx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_op_cron_archives_settles_and_enforces_retention),
        T(test_op_cron_dry_run_changes_nothing),
        T(test_op_cron_leaves_when_another_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
