/* Unit tests of src/ops/cloud/cloud_wal_pick.c: which listed object serves
 * a WAL name, which segments cloud-wal-restore --parallel fetches ahead,
 * and the spool directory's name; and of cloud_wal_io.c's ETag check. */
#include "unit.h"

#include "cloud_wal_io.h"
#include "cloud_wal_pick.h"

#define W "pg/main/wals/"

/* A listing of the given keys (prefix "pg"), each 16 bytes. */
static void listing(struct cloud_wal_list *l, const char *const *keys)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; keys[i]; i++)
        cloud_wal_list_add(l, "pg", keys[i], 16, "\"x\"");
}

static void test_pick_any_compression_and_partial(void **state)
{
    (void)state;
    static const char *const keys[] = {
        W "0000000100000000/000000010000000000000003.bz2",
        W "0000000100000000/000000010000000000000004.00000028.backup",
        W "0000000100000000/000000010000000000000004.partial.gz",
        W "0000000100000000/000000010000000000000005",
        W "0000000100000000/000000010000000000000005.partial",
        W "0000000100000000/not-a-wal",
        W "00000002.history.gz",
        NULL,
    };
    struct cloud_wal_list l;
    listing(&l, keys);
    assert_int_equal(l.n, 6); /* the key that is no WAL file is left out */
    const struct cloud_wal_obj *o = cloud_wal_pick(&l, "000000010000000000000003");
    assert_non_null(o);
    assert_int_equal(o->k.comp, CLOUD_COMP_BZIP2);
    assert_string_equal(o->etag, "\"x\"");
    /* a segment that is missing is served by its partial, never its label */
    o = cloud_wal_pick(&l, "000000010000000000000004");
    assert_non_null(o);
    assert_string_equal(o->k.wal, "000000010000000000000004.partial");
    assert_int_equal(o->k.comp, CLOUD_COMP_GZIP);
    /* a segment that is there is preferred to its partial */
    o = cloud_wal_pick(&l, "000000010000000000000005");
    assert_string_equal(o->k.wal, "000000010000000000000005");
    o = cloud_wal_pick(&l, "00000002.history");
    assert_non_null(o);
    assert_int_equal(o->k.comp, CLOUD_COMP_GZIP);
    assert_null(cloud_wal_pick(&l, "000000010000000000000006"));
    assert_null(cloud_wal_pick(&l, "00000003.history"));
    /* a partial asked for by name is not looked for as "<partial>.partial" */
    assert_null(cloud_wal_pick(&l, "000000010000000000000006.partial"));
    cloud_wal_list_free(&l);
}

static void test_ahead_follows_segments_without_gaps(void **state)
{
    (void)state;
    static const char *const keys[] = {
        W "0000000100000000/000000010000000000000001.gz",
        W "0000000100000000/000000010000000000000002.gz",
        W "0000000100000000/000000010000000000000003.gz",
        W "0000000100000000/000000010000000000000003.00000028.backup",
        W "0000000100000000/000000010000000000000004.partial",
        W "0000000100000000/000000010000000000000005.gz",
        W "0000000200000000/000000020000000000000002.gz",
        NULL,
    };
    struct cloud_wal_list l;
    listing(&l, keys);
    const struct cloud_wal_obj *out[8];
    size_t n = cloud_wal_ahead(&l, "000000010000000000000001", 8, out);
    /* 2 and 3; the label and the partial are not segments, 4 is a gap */
    assert_int_equal(n, 2);
    assert_string_equal(out[0]->k.wal, "000000010000000000000002");
    assert_string_equal(out[1]->k.wal, "000000010000000000000003");
    assert_int_equal(cloud_wal_ahead(&l, "000000010000000000000001", 1, out), 1);
    assert_int_equal(cloud_wal_ahead(&l, "000000010000000000000005", 8, out), 0);
    /* only its own timeline: timeline 2's segment 2 does not follow 1's 1 */
    assert_int_equal(cloud_wal_ahead(&l, "000000020000000000000001", 8, out), 1);
    /* nothing ahead of a history file, partial or label */
    assert_int_equal(cloud_wal_ahead(&l, "00000002.history", 8, out), 0);
    assert_int_equal(cloud_wal_ahead(&l, "000000010000000000000004.partial", 8, out), 0);
    assert_int_equal(cloud_wal_ahead(&l, "000000010000000000000003.00000028.backup", 8, out), 0);
    cloud_wal_list_free(&l);
}

static void test_ahead_crosses_into_the_next_log_at_its_first_segment(void **state)
{
    (void)state;
    static const char *const keys[] = {
        W "0000000100000000/0000000100000000000000FF",
        W "0000000100000001/000000010000000100000000",
        W "0000000100000001/000000010000000100000001",
        W "0000000100000002/000000010000000200000001",
        NULL,
    };
    struct cloud_wal_list l;
    listing(&l, keys);
    const struct cloud_wal_obj *out[8];
    size_t n = cloud_wal_ahead(&l, "0000000100000000000000FE", 8, out);
    assert_int_equal(n, 3);
    assert_string_equal(out[0]->k.wal, "0000000100000000000000FF");
    assert_string_equal(out[1]->k.wal, "000000010000000100000000");
    assert_string_equal(out[2]->k.wal, "000000010000000100000001");
    cloud_wal_list_free(&l);
}

static void test_spool_dir_per_source(void **state)
{
    (void)state;
    char *a = cloud_spool_dir("/var/tmp/walrestore/", "bucket", "pg", "main");
    char *b = cloud_spool_dir("/var/tmp/walrestore", "bucket", "pg", "main");
    char *c = cloud_spool_dir("/var/tmp/walrestore", "bucket", "pg/main", "");
    char *d = cloud_spool_dir("/var/tmp/walrestore", "bucketpg", "", "main");
    char *e = cloud_spool_dir("/var/tmp/walrestore", "bucket", "", "main");
    assert_string_equal(a, b); /* stable, and the trailing '/' does not count */
    assert_int_equal(strncmp(a, "/var/tmp/walrestore/main-", 25), 0);
    assert_int_equal(strlen(a), 25 + 16);
    assert_string_not_equal(a, d);
    assert_string_not_equal(a, e);
    assert_string_not_equal(strrchr(a, '-'), strrchr(c, '-'));
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
}

static void test_spool_tmp_names(void **state)
{
    (void)state;
    long pid = 0;
    assert_true(cloud_spool_tmp_pid(".000000010000000000000003.1234.part", &pid));
    assert_int_equal(pid, 1234);
    assert_true(cloud_spool_tmp_pid(".RECOVERYXLOG.77.z", &pid));
    assert_int_equal(pid, 77);
    assert_false(cloud_spool_tmp_pid("000000010000000000000003", &pid));
    assert_false(cloud_spool_tmp_pid(".000000010000000000000003.part", &pid));
    assert_false(cloud_spool_tmp_pid(".000000010000000000000003.0.part", &pid));
    assert_false(cloud_spool_tmp_pid(".12.part", &pid));
    assert_false(cloud_spool_tmp_pid(".a.1234.tmp", &pid));
    assert_false(cloud_spool_tmp_pid(".a.12345678901.part", &pid));
}

static void test_etag_and_md5(void **state)
{
    (void)state;
    assert_true(cloud_etag_is("\"d41d8cd98f00b204e9800998ecf8427e\"",
                              "d41d8cd98f00b204e9800998ecf8427e"));
    assert_true(cloud_etag_is("D41D8CD98F00B204E9800998ECF8427E",
                              "d41d8cd98f00b204e9800998ecf8427e"));
    assert_false(cloud_etag_is("\"d41d8cd98f00b204e9800998ecf8427e-2\"",
                               "d41d8cd98f00b204e9800998ecf8427e"));
    assert_false(cloud_etag_is("\"\"", "d41d8cd98f00b204e9800998ecf8427e"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_any_compression_and_partial),
        cmocka_unit_test(test_ahead_follows_segments_without_gaps),
        cmocka_unit_test(test_ahead_crosses_into_the_next_log_at_its_first_segment),
        cmocka_unit_test(test_spool_dir_per_source),
        cmocka_unit_test(test_spool_tmp_names),
        cmocka_unit_test(test_etag_and_md5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
