/*
 * Unit tests of bk_wal_state (src/ops/backup/backup_state.c): when is a backup's
 * WAL complete (DONE), still coming (WAITING_FOR_WALS), or missing for
 * good (FAILED)?
 */
#include "unit.h"

#include "ops/backup/backup_int.h"

/* An index holding the given names (segments of 16 MiB). */
static void index_of(struct xdb *db, const char *const names[])
{
    memset(db, 0, sizeof *db);
    for (size_t i = 0; names[i]; i++) {
        struct xdb_entry e = {.size = 16777216, .time = 1.0};
        snprintf(e.name, sizeof e.name, "%s", names[i]);
        xdb_put(db, &e);
    }
}

static void backup_of(struct cat_backup *b, const char *begin, const char *end)
{
    memset(b, 0, sizeof *b);
    b->begin_wal = cel_xstrdup(begin);
    b->end_wal = cel_xstrdup(end);
    b->xlog_segment_size.set = true;
    b->xlog_segment_size.v = 16777216;
}

static void test_complete_range_across_a_log_boundary(void **state)
{
    (void)state;
    const char *names[] = {"0000000100000000000000FF", "000000010000000100000000",
                           "000000010000000100000000.00000028.backup", NULL};
    struct xdb db;
    index_of(&db, names);
    struct cat_backup b;
    backup_of(&b, "0000000100000000000000FF", "000000010000000100000000");
    char missing[WAL_NAME_MAX];
    assert_int_equal(bk_wal_state(&db, &b, missing), BK_WAL_COMPLETE);
    assert_string_equal(missing, "");
    cat_backup_clear(&b);
    xdb_free(&db);
}

static void test_end_not_yet_archived_is_waiting(void **state)
{
    (void)state;
    const char *names[] = {"000000010000000000000004", NULL};
    struct xdb db;
    index_of(&db, names);
    struct cat_backup b;
    backup_of(&b, "000000010000000000000004", "000000010000000000000005");
    char missing[WAL_NAME_MAX];
    assert_int_equal(bk_wal_state(&db, &b, missing), BK_WAL_WAITING);
    assert_string_equal(missing, "000000010000000000000005");
    cat_backup_clear(&b);
    xdb_free(&db);
}

static void test_hole_with_later_wal_is_missing(void **state)
{
    (void)state;
    /* 05 never came but 07 did: archiving went past the hole */
    const char *names[] = {"000000010000000000000004", "000000010000000000000006",
                           "000000010000000000000007", NULL};
    struct xdb db;
    index_of(&db, names);
    struct cat_backup b;
    backup_of(&b, "000000010000000000000004", "000000010000000000000006");
    char missing[WAL_NAME_MAX];
    assert_int_equal(bk_wal_state(&db, &b, missing), BK_WAL_MISSING);
    assert_string_equal(missing, "000000010000000000000005");
    cat_backup_clear(&b);
    xdb_free(&db);
}

static void test_hole_before_an_archived_end_is_missing(void **state)
{
    (void)state;
    const char *names[] = {"000000010000000000000004", "000000010000000000000006", NULL};
    struct xdb db;
    index_of(&db, names);
    struct cat_backup b;
    backup_of(&b, "000000010000000000000004", "000000010000000000000006");
    char missing[WAL_NAME_MAX];
    assert_int_equal(bk_wal_state(&db, &b, missing), BK_WAL_MISSING);
    assert_string_equal(missing, "000000010000000000000005");
    cat_backup_clear(&b);
    xdb_free(&db);
}

static void test_history_and_backup_files_do_not_count_as_later_wal(void **state)
{
    (void)state;
    const char *names[] = {"000000010000000000000004",
                           "000000010000000000000005.00000028.backup", "00000002.history",
                           NULL};
    struct xdb db;
    index_of(&db, names);
    struct cat_backup b;
    backup_of(&b, "000000010000000000000004", "000000010000000000000005");
    char missing[WAL_NAME_MAX];
    assert_int_equal(bk_wal_state(&db, &b, missing), BK_WAL_WAITING);
    cat_backup_clear(&b);
    xdb_free(&db);
}

static void test_no_wal_range_is_missing(void **state)
{
    (void)state;
    struct xdb db = {0};
    struct cat_backup b = {0};
    char missing[WAL_NAME_MAX];
    assert_int_equal(bk_wal_state(&db, &b, missing), BK_WAL_MISSING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_range_across_a_log_boundary),
        cmocka_unit_test(test_end_not_yet_archived_is_waiting),
        cmocka_unit_test(test_hole_with_later_wal_is_missing),
        cmocka_unit_test(test_hole_before_an_archived_end_is_missing),
        cmocka_unit_test(test_history_and_backup_files_do_not_count_as_later_wal),
        cmocka_unit_test(test_no_wal_range_is_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
