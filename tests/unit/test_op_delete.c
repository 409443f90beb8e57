/*
 * Unit tests of `delete` (src/ops/catalog/delete.c) and of retention
 * (src/ops/catalog/retention_apply.c), through the ops harness
 * (ops_fixture.h): a Barman home in the temporary directory, no PostgreSQL.
 *
 * Server "pg" has three DONE backups on timeline 1, A (begin WAL
 * ...02), B (...04) and C (...06), and an archive of segments 01 to 07, a
 * backup label and a history file, every one listed in xlog.db. Each test
 * checks what is on disk afterwards (backup directories, archived files,
 * xlog.db line by line), what the op reported (log lines, its result) and
 * its error code and message.
 */
#include "unit.h"

#include "ops_fixture.h"

#include "lock.h"

#define A "20261101T000000"
#define B "20261102T000000"
#define C "20261103T000000"
#define D "20261104T000000"

#define SEG(n) "0000000100000000000000" n

/* A DONE backup.info beginning at WAL begin_wal on timeline tli. */
static char *done_info(const char *id, const char *begin_wal, int tli)
{
    return cel_xasprintf("backup_label=None\nbegin_offset=40\n"
                         "begin_time=2026-11-%.2s 00:00:00+00:00\n"
                         "begin_wal=%s\nbegin_xlog=0/0\n"
                         "end_time=2026-11-%.2s 00:05:00+00:00\n"
                         "end_wal=%s\nend_xlog=0/0\nend_offset=256\n"
                         "error=None\nmode=rsync-concurrent\nserver_name=pg\nsize=8192\n"
                         "status=DONE\nsystemid=7711578238752250018\ntimeline=%d\n"
                         "version=150018\nxlog_segment_size=16777216\n",
                         id + 6, begin_wal, id + 6, begin_wal, tli);
}

/* Backup id with its backup.info and one 8 KiB data file. */
static void add_backup(const char *id, const char *begin_wal, int tli)
{
    char *info = done_info(id, begin_wal, tli);
    write_backup("pg", id, info);
    free(info);
    char *dir = cel_xasprintf("pg/base/%s/data/base", id);
    unit_mkdir(dir);
    char *file = cel_xasprintf("%s/1", dir);
    char block[8193];
    memset(block, 'x', 8192);
    block[8192] = '\0';
    unit_write(file, block);
    free(file);
    free(dir);
}

/* The archive: every file listed in xlog.db, in name order. */
static const char *const archive[] = {
    SEG("01"), SEG("02"), SEG("02") ".00000028.backup", SEG("03"), SEG("04"),
    SEG("05"), SEG("06"), SEG("07"), "00000002.history",
};

/* The xlog.db line of archive file name. */
static void xlog_line(const char *name, struct strbuf *out)
{
    sb_appendf(out, "%s\t%zu\t1795491700.5\tNone\n", name, strlen(name) + 1);
}

/* xlog.db listing archive[] except the names in drop (NULL-terminated). */
static char *xlogdb_without(const char *const *drop)
{
    struct strbuf sb = {0};
    for (size_t i = 0; i < CEL_ARRAY_LEN(archive); i++) {
        bool dropped = false;
        for (size_t k = 0; drop && drop[k]; k++)
            dropped = dropped || strcmp(drop[k], archive[i]) == 0;
        if (!dropped)
            xlog_line(archive[i], &sb);
    }
    char *text = cel_xstrdup(sb_str(&sb));
    sb_free(&sb);
    return text;
}

static void write_archive(void)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(archive); i++) {
        char content[64];
        snprintf(content, sizeof content, "%s\n", archive[i]);
        ofx_wal("pg", archive[i], content, 0);
    }
    char *db = xlogdb_without(NULL);
    ofx_xlogdb("pg", db);
    free(db);
}

/* Fail unless xlog.db lists archive[] without drop, and exactly the files
 * of drop are gone from the archive. */
static void assert_archive_without(const char *const *drop)
{
    char *want = xlogdb_without(drop);
    char *got = ofx_read_xlogdb("pg");
    assert_string_equal(got, want);
    free(got);
    free(want);
    for (size_t i = 0; i < CEL_ARRAY_LEN(archive); i++) {
        bool dropped = false;
        for (size_t k = 0; drop && drop[k]; k++)
            dropped = dropped || strcmp(drop[k], archive[i]) == 0;
        if (ofx_exists(ofx_wal_rel("pg", archive[i])) == dropped)
            fail_msg("%s is %s", archive[i], dropped ? "still there" : "gone");
    }
}

static void assert_backups(const char *const *ids)
{
    size_t n = 0;
    while (ids[n])
        n++;
    assert_int_equal(unit_count_entries(unit_path("pg/base")), (int)n);
    for (size_t i = 0; i < n; i++) {
        char *dir = cel_xasprintf("pg/base/%s/backup.info", ids[i]);
        if (!ofx_exists(dir))
            fail_msg("backup %s is gone", ids[i]);
        free(dir);
    }
}

static int setup_with(const char *extra)
{
    add_backup(A, SEG("02"), 1);
    add_backup(B, SEG("04"), 1);
    add_backup(C, SEG("06"), 1);
    write_archive();
    char *conf = cel_xasprintf("[pg]\nconninfo = host=/nonexistent\n%s", extra);
    int rc = ofx_config(conf);
    free(conf);
    return rc;
}

static int setup(void **state)
{
    if (ofx_setup(state) < 0)
        return -1;
    return setup_with("");
}

static int del(const char *id, struct cel_err *err)
{
    return op_delete(&ofx.ctx, &(struct op_delete_req){.server = "pg", .backup = id}, err);
}

/* ---- delete ------------------------------------------------------------------ */

static void test_op_delete_oldest_removes_the_wal_only_it_needed(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(del(A, &err), 0);
    assert_backups((const char *[]){B, C, NULL});
    /* everything before B's begin WAL but the history file */
    assert_archive_without((const char *[]){SEG("01"), SEG("02"), SEG("02") ".00000028.backup",
                                            SEG("03"), NULL});
    ofx_assert_event("phase delete: deleting backup " A " of server pg");
    ofx_assert_event("log INFO pg: removed 4 WAL files older than backup " B " (" SEG("04") ")");
    ofx_assert_event("log INFO pg: deleted backup " A);
    ofx_assert_event("result delete");
    json_t *j = ofx_result_json(0);
    assert_string_equal(json_string_value(json_object_get(j, "backup_id")), A);
    assert_int_equal(ofx_jint(j, "wal_removed"), 4);
    /* the data file and backup.info were freed */
    assert_true(ofx_jint(j, "size_bytes") >= 8192);
    assert_true(cel_str_starts(sb_str(&ofx.rec.text), "Deleted backup " A " of server pg ("));
    assert_true(cel_str_ends(sb_str(&ofx.rec.text), " freed); 4 WAL files removed\n"));
    /* nothing hidden left behind, and the backup's lock file is gone */
    assert_false(ofx_exists("pg/base/." A ".deleting"));
    assert_false(ofx_exists(".pg-" A ".lock"));
}

static void test_op_delete_newer_backup_keeps_the_wal(void **state)
{
    (void)state;
    /* B and C have an older backup (A) whose recovery may need all of it */
    struct cel_err err = {0};
    assert_int_equal(del(B, &err), 0);
    assert_backups((const char *[]){A, C, NULL});
    assert_archive_without(NULL);
    assert_int_equal(ofx_jint(ofx_result_json(0), "wal_removed"), 0);
    assert_true(cel_str_ends(sb_str(&ofx.rec.text), " freed); 0 WAL files removed\n"));
    assert_int_equal(del(C, &err), 0);
    assert_backups((const char *[]){A, NULL});
    assert_archive_without(NULL);
}

static void test_op_delete_last_backup_removes_the_wal_before_it(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(del(C, &err), 0);
    assert_int_equal(del(B, &err), 0);
    assert_archive_without(NULL);
    /* A is the only one: the WAL before its own begin goes */
    assert_int_equal(del(A, &err), 0);
    assert_backups((const char *[]){NULL});
    assert_archive_without((const char *[]){SEG("01"), NULL});
}

static void test_op_delete_keeps_the_wal_of_another_timeline_in_use(void **state)
{
    (void)state;
    /* B moves to timeline 2 (begin ...000000020000000000000005): WAL of
     * timeline 1 before it stays, since C (timeline 1) may need it */
    char *info = done_info(B, "000000020000000000000005", 2);
    write_backup("pg", B, info);
    free(info);
    ofx_wal("pg", "000000020000000000000004", "tli 2 before B\n", 0);
    ofx_wal("pg", "000000020000000000000005", "tli 2 at B\n", 0);
    char *db = xlogdb_without(NULL);
    struct strbuf sb = {0};
    sb_append(&sb, db);
    xlog_line("000000020000000000000004", &sb);
    xlog_line("000000020000000000000005", &sb);
    ofx_xlogdb("pg", sb_str(&sb));
    free(db);
    sb_free(&sb);

    struct cel_err err = {0};
    assert_int_equal(del(A, &err), 0);
    assert_int_equal(ofx_jint(ofx_result_json(0), "wal_removed"), 1);
    assert_false(ofx_exists(ofx_wal_rel("pg", "000000020000000000000004")));
    assert_true(ofx_exists(ofx_wal_rel("pg", "000000020000000000000005")));
    char *got = ofx_read_xlogdb("pg");
    assert_null(strstr(got, "000000020000000000000004"));
    assert_non_null(strstr(got, "000000020000000000000005\t"));
    free(got);
    /* all of timeline 1 stays */
    for (size_t i = 0; i < CEL_ARRAY_LEN(archive); i++)
        assert_true(ofx_exists(ofx_wal_rel("pg", archive[i])));
}

static void test_op_delete_refused_by_minimum_redundancy(void **state)
{
    (void)state;
    assert_int_equal(ofx_config("[pg]\nconninfo = host=/nonexistent\nminimum_redundancy = 3\n"), 0);
    struct cel_err err = {0};
    assert_int_equal(del(A, &err), -CEL_E_CONFLICT);
    assert_string_equal(err.msg, "Skipping delete of backup " A " for server pg due to minimum "
                                 "redundancy requirements (minimum redundancy = 3, current "
                                 "redundancy = 3)");
    assert_string_equal(err.hint,
                        "Take a new backup first, or lower minimum_redundancy in [pg].");
    assert_backups((const char *[]){A, B, C, NULL});
    assert_archive_without(NULL);
    assert_null(strstr(ofx_events(), "result"));
    /* a fourth backup makes room for one deletion */
    add_backup(D, SEG("07"), 1);
    assert_int_equal(del(A, &err), 0);
    assert_backups((const char *[]){B, C, D, NULL});
}

static void test_op_delete_refused_for_a_kept_backup(void **state)
{
    (void)state;
    unit_mkdir("pg/base/" B "/annotations");
    unit_write("pg/base/" B "/annotations/keep", "full");
    struct cel_err err = {0};
    assert_int_equal(del(B, &err), -CEL_E_CONFLICT);
    assert_string_equal(err.msg,
                        "backup " B " of server pg is kept (barman keep): it cannot be deleted");
    assert_string_equal(err.hint, "Release it first: barman keep --release pg " B);
    assert_backups((const char *[]){A, B, C, NULL});
    assert_string_equal(ofx_events(), "");
}

static void test_op_delete_started_backup_only_when_no_backup_runs(void **state)
{
    (void)state;
    write_backup("pg", D, "status=STARTED\nserver_name=pg\nbegin_wal=" SEG("07") "\n");
    /* a backup process holds the server's backup lock */
    char name[LOCK_NAME_MAX];
    lock_name("pg", "backup", name);
    struct lock *running = NULL;
    struct cel_err err = {0};
    assert_int_equal(lock_acquire(unit_tmp, name, false, &running, &err), 0);
    char want[200];
    snprintf(want, sizeof want,
             "backup " D " of server pg is STARTED and a backup is running (PID %ld): it cannot "
             "be deleted now",
             (long)getpid());
    assert_int_equal(del(D, &err), -CEL_E_CONFLICT);
    assert_string_equal(err.msg, want);
    assert_backups((const char *[]){A, B, C, D, NULL});
    lock_release(running);
    /* once it is gone, the STARTED leftover can go */
    cel_err_clear(&err);
    assert_int_equal(del(D, &err), 0);
    assert_backups((const char *[]){A, B, C, NULL});
    assert_archive_without(NULL);
}

static void test_op_delete_waits_for_nobody_holding_the_backup(void **state)
{
    (void)state;
    /* another process works on backup B (its lock is held): delete fails
     * at once instead of removing files under it */
    char name[LOCK_NAME_MAX];
    lock_name("pg", B, name);
    struct lock *busy = NULL;
    struct cel_err err = {0};
    assert_int_equal(lock_acquire(unit_tmp, name, false, &busy, &err), 0);
    assert_true(del(B, &err) < 0);
    assert_true(err.msg[0] != '\0');
    assert_backups((const char *[]){A, B, C, NULL});
    assert_null(strstr(ofx_events(), "result"));
    lock_release(busy);
}

static void test_op_delete_unknown_backup_or_server(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(del("20990101T000000", &err), -CEL_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "20990101T000000"));
    cel_err_clear(&err);
    assert_int_equal(op_delete(&ofx.ctx, &(struct op_delete_req){.server = "nope", .backup = A},
                               &err),
                     -CEL_E_NOT_FOUND);
    assert_string_equal(err.msg, "unknown server 'nope'");
    assert_backups((const char *[]){A, B, C, NULL});
    assert_archive_without(NULL);
    assert_string_equal(ofx_events(), "");
}

static void test_op_delete_finishes_an_interrupted_delete(void **state)
{
    (void)state;
    /* a delete killed after hiding its directory left it behind */
    unit_mkdir("pg/base/.20261001T000000.deleting/data");
    unit_write("pg/base/.20261001T000000.deleting/data/file", "left over");
    struct cel_err err = {0};
    assert_int_equal(del(C, &err), 0);
    assert_false(ofx_exists("pg/base/.20261001T000000.deleting"));
    char *line = cel_xasprintf("log INFO pg: removed %s/pg/base/.20261001T000000.deleting, left "
                               "by an interrupted delete",
                               unit_tmp);
    ofx_assert_event(line);
    free(line);
    assert_backups((const char *[]){A, B, NULL});
}

static void test_op_delete_removes_no_wal_when_a_backup_is_unreadable(void **state)
{
    (void)state;
    /* an unreadable backup.info may be an older backup needing the WAL */
    write_backup("pg", "20261020T000000", "status=DONE\nsize=lots\n");
    struct cel_err err = {0};
    assert_int_equal(del(A, &err), 0);
    assert_false(ofx_exists("pg/base/" A));
    assert_archive_without(NULL);
    assert_int_equal(ofx_jint(ofx_result_json(0), "wal_removed"), 0);
    assert_non_null(strstr(ofx_events(), "log WARNING pg: no WAL removed: backup 20261020T000000 "
                                         "cannot be read and may need it ("));
}

static void test_op_delete_runs_the_hooks(void **state)
{
    (void)state;
    /* pre and post delete hooks see the backup; a post wal_delete hook
     * sees each file removed */
    char *conf = cel_xasprintf(
        "[pg]\nconninfo = host=/nonexistent\n"
        "pre_delete_script = echo \"pre $BARMAN_BACKUP_ID $BARMAN_NEXT_ID\" >>%s/hooks\n"
        "post_delete_script = echo \"post $BARMAN_BACKUP_ID $BARMAN_STATUS\" >>%s/hooks\n"
        "post_wal_delete_script = echo \"wal $BARMAN_SEGMENT\" >>%s/hooks\n",
        unit_tmp, unit_tmp, unit_tmp);
    assert_int_equal(ofx_config(conf), 0);
    free(conf);
    struct cel_err err = {0};
    assert_int_equal(del(A, &err), 0);
    char *hooks = unit_read(unit_path("hooks"));
    assert_non_null(hooks);
    assert_string_equal(hooks, "pre " A " " B "\n"
                               "wal " SEG("01") "\n"
                               "wal " SEG("02") "\n"
                               "wal " SEG("02") ".00000028.backup\n"
                               "wal " SEG("03") "\n"
                               "post " A " DONE\n");
    free(hooks);
}

static void test_op_delete_stopped_by_a_pre_retry_hook(void **state)
{
    (void)state;
    /* exit 63 (ABORT_STOP) of a retry hook stops the deletion */
    assert_int_equal(ofx_config("[pg]\nconninfo = host=/nonexistent\n"
                                "pre_delete_retry_script = echo no >&2; exit 63\n"),
                     0);
    struct cel_err err = {0};
    assert_int_equal(del(A, &err), -CEL_E_PROC);
    assert_true(cel_str_starts(err.msg, "delete of backup " A " stopped: "));
    assert_backups((const char *[]){A, B, C, NULL});
    assert_archive_without(NULL);
    assert_null(strstr(ofx_events(), "result"));
}

/* ---- retention ------------------------------------------------------------------ */

static int retention(bool dry_run, struct op_retention_summary *sum, struct cel_err *err)
{
    const struct cfg_server *s = cfg_server_find(ofx.cfg, "pg");
    assert_non_null(s);
    return op_enforce_retention(&ofx.ctx, s, dry_run, sum, err);
}

static void test_op_retention_redundancy_deletes_the_oldest(void **state)
{
    (void)state;
    add_backup(D, SEG("07"), 1);
    assert_int_equal(
        ofx_config("[pg]\nconninfo = host=/nonexistent\nretention_policy = REDUNDANCY 2\n"), 0);
    struct op_retention_summary sum;
    struct cel_err err = {0};
    assert_int_equal(retention(false, &sum, &err), 0);
    assert_int_equal(sum.deleted, 2);
    assert_int_equal(sum.would_delete, 0);
    assert_int_equal(sum.failed, 0);
    assert_int_equal(sum.n_ids, 2);
    assert_string_equal(sum.ids[0], A);
    assert_string_equal(sum.ids[1], B);
    op_retention_summary_free(&sum);
    assert_backups((const char *[]){C, D, NULL});
    /* each deletion removed the WAL before the next backup: all before C */
    assert_archive_without((const char *[]){SEG("01"), SEG("02"), SEG("02") ".00000028.backup",
                                            SEG("03"), SEG("04"), SEG("05"), NULL});
    ofx_assert_event("log INFO pg: retention (REDUNDANCY 2): deleting backup " A " (OBSOLETE)");
    ofx_assert_event("log INFO pg: retention (REDUNDANCY 2): deleting backup " B " (OBSOLETE)");
    assert_null(strstr(ofx_events(), "deleting backup " C));
    /* the A line comes before the B line */
    assert_true(strstr(ofx_events(), "backup " A " (OBSOLETE)") <
                strstr(ofx_events(), "backup " B " (OBSOLETE)"));
    /* enforced again: nothing more is obsolete */
    ofx_events_clear();
    assert_int_equal(retention(false, &sum, &err), 0);
    assert_int_equal(sum.deleted, 0);
    op_retention_summary_free(&sum);
    assert_backups((const char *[]){C, D, NULL});
}

static void test_op_retention_dry_run_removes_nothing(void **state)
{
    (void)state;
    add_backup(D, SEG("07"), 1);
    assert_int_equal(
        ofx_config("[pg]\nconninfo = host=/nonexistent\nretention_policy = REDUNDANCY 2\n"), 0);
    struct op_retention_summary sum;
    struct cel_err err = {0};
    assert_int_equal(retention(true, &sum, &err), 0);
    assert_int_equal(sum.deleted, 0);
    assert_int_equal(sum.would_delete, 2);
    assert_int_equal(sum.n_ids, 2);
    assert_string_equal(sum.ids[0], A);
    assert_string_equal(sum.ids[1], B);
    op_retention_summary_free(&sum);
    assert_backups((const char *[]){A, B, C, D, NULL});
    assert_archive_without(NULL);
    ofx_assert_event("log INFO pg: retention (REDUNDANCY 2): would delete backup " A " (OBSOLETE)");
    ofx_assert_event("log INFO pg: retention (REDUNDANCY 2): would delete backup " B " (OBSOLETE)");
    assert_null(strstr(ofx_events(), "result delete"));
}

static void test_op_retention_without_policy_does_nothing(void **state)
{
    (void)state;
    struct op_retention_summary sum;
    struct cel_err err = {0};
    assert_int_equal(retention(false, &sum, &err), 0);
    assert_int_equal(sum.deleted + sum.would_delete + sum.failed + sum.n_ids, 0);
    assert_backups((const char *[]){A, B, C, NULL});
    assert_archive_without(NULL);
    assert_string_equal(ofx_events(), "");
}

static void test_op_retention_respects_minimum_redundancy(void **state)
{
    (void)state;
    add_backup(D, SEG("07"), 1);
    /* REDUNDANCY 1 would leave D alone; minimum_redundancy keeps three */
    assert_int_equal(ofx_config("[pg]\nconninfo = host=/nonexistent\n"
                                "retention_policy = REDUNDANCY 1\nminimum_redundancy = 3\n"),
                     0);
    struct op_retention_summary sum;
    struct cel_err err = {0};
    assert_int_equal(retention(false, &sum, &err), 0);
    assert_int_equal(sum.deleted, 1);
    assert_int_equal(sum.failed, 0); /* B and C were not even tried */
    assert_int_equal(sum.n_ids, 1);
    assert_string_equal(sum.ids[0], A);
    op_retention_summary_free(&sum);
    assert_backups((const char *[]){B, C, D, NULL});
    assert_null(strstr(ofx_events(), "not deleted"));
    assert_null(strstr(ofx_events(), "deleting backup " B));
}

static void test_op_retention_spares_kept_and_unfinished_backups(void **state)
{
    (void)state;
    /* A is kept (barman keep), a FAILED backup is older than every other */
    unit_mkdir("pg/base/" A "/annotations");
    unit_write("pg/base/" A "/annotations/keep", "full");
    write_backup("pg", "20261020T000000", "status=FAILED\nserver_name=pg\nerror=boom\n");
    assert_int_equal(
        ofx_config("[pg]\nconninfo = host=/nonexistent\nretention_policy = REDUNDANCY 1\n"), 0);
    struct op_retention_summary sum;
    struct cel_err err = {0};
    assert_int_equal(retention(false, &sum, &err), 0);
    assert_int_equal(sum.deleted, 1);
    assert_int_equal(sum.failed, 0);
    assert_int_equal(sum.n_ids, 1);
    assert_string_equal(sum.ids[0], B);
    op_retention_summary_free(&sum);
    assert_true(ofx_exists("pg/base/" A "/backup.info"));
    assert_true(ofx_exists("pg/base/20261020T000000/backup.info"));
    assert_true(ofx_exists("pg/base/" C "/backup.info"));
    assert_false(ofx_exists("pg/base/" B));
    /* B was not the oldest backup: no WAL went */
    assert_archive_without(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, ofx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_op_delete_oldest_removes_the_wal_only_it_needed),
        T(test_op_delete_newer_backup_keeps_the_wal),
        T(test_op_delete_last_backup_removes_the_wal_before_it),
        T(test_op_delete_keeps_the_wal_of_another_timeline_in_use),
        T(test_op_delete_refused_by_minimum_redundancy),
        T(test_op_delete_refused_for_a_kept_backup),
        T(test_op_delete_started_backup_only_when_no_backup_runs),
        T(test_op_delete_waits_for_nobody_holding_the_backup),
        T(test_op_delete_unknown_backup_or_server),
        T(test_op_delete_finishes_an_interrupted_delete),
        T(test_op_delete_removes_no_wal_when_a_backup_is_unreadable),
        T(test_op_delete_runs_the_hooks),
        T(test_op_delete_stopped_by_a_pre_retry_hook),
        T(test_op_retention_redundancy_deletes_the_oldest),
        T(test_op_retention_dry_run_removes_nothing),
        T(test_op_retention_without_policy_does_nothing),
        T(test_op_retention_respects_minimum_redundancy),
        T(test_op_retention_spares_kept_and_unfinished_backups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
