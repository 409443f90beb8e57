/*
 * Unit tests of what backup_basebackup.c reads from and gives to
 * pg_basebackup: its --progress lines (with and without a file name, the
 * singular "tablespace", a name cut short with "...", what is not a
 * progress line) and the --tablespace-mapping argument.
 */
#include "unit.h"

#include "ops/backup/backup_int.h"

static void test_parse_progress_verbose_line(void **state)
{
    (void)state;
    struct bk_progress_line pl;
    const char *line = "  1234/56789 kB (2%), 0/2 tablespaces (data/base/5/1259             )";
    assert_true(bk_basebackup_parse_progress(line, &pl));
    assert_int_equal(pl.done_kb, 1234);
    assert_int_equal(pl.total_kb, 56789);
    assert_int_equal(pl.tbs_done, 0);
    assert_int_equal(pl.tbs_total, 2);
    assert_non_null(pl.file);
    assert_int_equal(pl.file_len, strlen("data/base/5/1259"));
    assert_memory_equal(pl.file, "data/base/5/1259", pl.file_len);
}

static void test_parse_progress_short_forms(void **state)
{
    (void)state;
    struct bk_progress_line pl;
    assert_true(bk_basebackup_parse_progress("22702/22702 kB (100%), 1/1 tablespace", &pl));
    assert_int_equal(pl.done_kb, 22702);
    assert_int_equal(pl.tbs_done, 1);
    assert_int_equal(pl.tbs_total, 1);
    assert_null(pl.file);
    /* a long name is cut at its start */
    assert_true(bk_basebackup_parse_progress(
        "  10/20 kB (50%), 1/2 tablespaces (...ong/path/PG_15_202209061/5/16390)", &pl));
    assert_int_equal(pl.file_len, strlen("ong/path/PG_15_202209061/5/16390"));
    assert_memory_equal(pl.file, "ong/path/PG_15_202209061/5/16390", pl.file_len);
}

static void test_parse_progress_other_lines(void **state)
{
    (void)state;
    struct bk_progress_line pl;
    assert_false(bk_basebackup_parse_progress("pg_basebackup: checkpoint completed", &pl));
    assert_false(bk_basebackup_parse_progress(
        "pg_basebackup: write-ahead log start point: 0/2000028 on timeline 1", &pl));
    assert_false(bk_basebackup_parse_progress("", &pl));
    assert_false(bk_basebackup_parse_progress("12/34 kB", &pl));
}

static void test_mapping_arg_escapes_equals(void **state)
{
    (void)state;
    char *a = bk_basebackup_mapping_arg("/srv/tbs1", "/b/main/base/ID/16384");
    assert_string_equal(a, "--tablespace-mapping=/srv/tbs1=/b/main/base/ID/16384");
    free(a);
    a = bk_basebackup_mapping_arg("/srv/a=b", "/b/x=y/16384");
    assert_string_equal(a, "--tablespace-mapping=/srv/a\\=b=/b/x\\=y/16384");
    free(a);
}

/* Barman's re.search(r"\.tar(\.[^.]+)?$", name): what encryption = gpg
 * encrypts in a tar backup's data/ */
static void test_clear_tar_names(void **state)
{
    (void)state;
    assert_true(bk_is_clear_tar("base.tar"));
    assert_true(bk_is_clear_tar("base.tar.gz"));
    assert_true(bk_is_clear_tar("16385.tar.zst"));
    assert_true(bk_is_clear_tar("pg_wal.tar.lz4"));
    assert_true(bk_is_clear_tar("a.tar.b.tar.gz"));
    assert_false(bk_is_clear_tar("base.tar.gz.gpg"));
    assert_false(bk_is_clear_tar("base.tar.gz.gpg.tmp"));
    assert_false(bk_is_clear_tar("base.tar."));
    assert_false(bk_is_clear_tar("backup_manifest"));
    assert_false(bk_is_clear_tar("base.tarx"));
    assert_false(bk_is_clear_tar("tar"));
    assert_true(bk_is_clear_tar("x.tar.tarz")); /* the regex's first ".tar" */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_progress_verbose_line),
        cmocka_unit_test(test_parse_progress_short_forms),
        cmocka_unit_test(test_parse_progress_other_lines),
        cmocka_unit_test(test_mapping_arg_escapes_equals),
        cmocka_unit_test(test_clear_tar_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
