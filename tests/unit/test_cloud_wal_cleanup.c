/*
 * Unit tests of src/ops/cloud/cloud_wal_cleanup.c: which WAL goes with a
 * deleted backup, by barman-cloud-backup-delete 3.4's rules. The cases
 * follow BackupManager.should_remove_wals' docstring: no previous backup;
 * a previous one without keep; kept standalone ones (whose ranges stay),
 * with -r and with -b; the newest backup deleted; another timeline's WAL
 * protected; history files never removed.
 */
#include "unit.h"

#include "cloud_wal_cleanup.h"

#define N 3

struct fixture {
    struct cat_backup items[N];
    struct cloud_backup_objs objs[N];
    bool failed[N];
    struct cloud_catalog c;
    bool gone[N];
    struct cloud_wal wals[16];
    size_t n_wals;
    bool wal_gone[16];
};

static void add_wal(struct fixture *f, const char *name)
{
    struct cloud_wal *w = &f->wals[f->n_wals++];
    struct cel_err err = {0};
    snprintf(w->name, sizeof w->name, "%s", name);
    assert_int_equal(wal_name_parse(name, &w->wal, &err), 0);
    w->key = (char *)name; /* borrowed: never freed here */
}

/* Backups A (begin 02, end 02), B (05..05), C (07..07) on timeline 1, all
 * DONE; WAL 01..08, the three backup labels, a history file. */
static void setup(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    static const char *const begin[N] = {"000000010000000000000002", "000000010000000000000005",
                                         "000000010000000000000007"};
    for (size_t i = 0; i < N; i++) {
        f->items[i].status = CAT_DONE;
        f->items[i].begin_wal = (char *)begin[i];
        f->items[i].end_wal = (char *)begin[i];
        f->items[i].timeline = (struct cat_int){true, 1};
    }
    f->c.list = (struct cat_list){.items = f->items, .failed = f->failed, .n = N};
    f->c.objs = f->objs;
    static const char *const names[] = {
        "000000010000000000000001", "000000010000000000000002",
        "000000010000000000000002.00000028.backup", "000000010000000000000003",
        "000000010000000000000004", "000000010000000000000005",
        "000000010000000000000005.00000028.backup", "000000010000000000000006",
        "000000010000000000000007", "000000010000000000000007.00000028.backup",
        "000000010000000000000008", "00000002.history", "000000020000000000000004"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(names); i++)
        add_wal(f, names[i]);
}

/* The WAL removed for deleting backup del, as "a b c" of the last two hex
 * digits (and ".b" for a label, "h" for history, "t2:" for timeline 2);
 * "-" when should_remove_wals says no. */
static void expect(struct fixture *f, size_t del, bool skip, const char *want)
{
    struct cloud_wal_range ranges[N];
    size_t n_ranges = 0;
    int until = cloud_wal_cleanup_until(&f->c, f->gone, del, skip, ranges, &n_ranges);
    char got[256] = "-";
    if (until >= 0) {
        const char *keys[16];
        size_t n = cloud_wal_cleanup_select(&f->c, f->gone, del, (size_t)until, ranges, n_ranges,
                                            f->wals, f->n_wals, f->wal_gone, keys);
        got[0] = '\0';
        for (size_t k = 0; k < n; k++) {
            size_t len = strlen(got);
            const char *name = keys[k];
            snprintf(got + len, sizeof got - len, "%s%s%.2s%s", k ? " " : "",
                     strncmp(name, "00000002", 8) == 0 ? "t2:" : "", name + 22,
                     strlen(name) > 24 ? ".b" : "");
        }
    }
    assert_string_equal(got, want);
}

static void test_oldest_deleted_removes_up_to_the_next(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f);
    /* no previous backup: everything before B's begin (timeline 2's names
     * sort after it), the history file never */
    expect(&f, 0, true, "01 02 02.b 03 04");
}

static void test_previous_without_keep_keeps_everything(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f);
    expect(&f, 1, false, "-");
    snprintf(f.objs[0].keep, sizeof f.objs[0].keep, "full");
    expect(&f, 1, false, "-");
}

static void test_standalone_previous_keeps_its_range(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f);
    snprintf(f.objs[0].keep, sizeof f.objs[0].keep, "standalone");
    /* -b: skip_wal_cleanup_if_standalone */
    expect(&f, 1, true, "-");
    /* -r: up to C's begin, A's 02 and its label kept */
    expect(&f, 1, false, "01 03 04 05 05.b 06");
}

static void test_newest_deleted_removes_up_to_its_own_begin(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f);
    f.gone[0] = f.gone[1] = true;
    expect(&f, 2, true, "01 02 02.b 03 04 05 05.b 06");
}

static void test_other_timelines_are_protected(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f);
    f.items[0].status = CAT_FAILED; /* not in the walk, but its timeline counts */
    f.items[2].timeline.v = 2;      /* C is on timeline 2 */
    f.items[2].begin_wal = "000000020000000000000007";
    /* deleting B up to C: A's timeline 1 is protected, timeline 2's goes */
    expect(&f, 1, true, "t2:04");
    /* already removed files are not listed again */
    expect(&f, 1, true, "");
}

static void test_failed_backups_are_skipped_in_the_walk(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f);
    f.items[0].status = CAT_FAILED; /* A does not count as a previous backup */
    expect(&f, 1, true, "01 02 02.b 03 04 05 05.b 06");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oldest_deleted_removes_up_to_the_next),
        cmocka_unit_test(test_previous_without_keep_keeps_everything),
        cmocka_unit_test(test_standalone_previous_keeps_its_range),
        cmocka_unit_test(test_newest_deleted_removes_up_to_its_own_begin),
        cmocka_unit_test(test_other_timelines_are_protected),
        cmocka_unit_test(test_failed_backups_are_skipped_in_the_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
