/*
 * Unit tests of cloud-backup's pure parts: --max-archive-size as
 * barman-cloud 3.4 reads it (cloud_size_parse), the conninfo of -h/-p/-U/-d
 * as its build_conninfo makes it (pg_conninfo_build), the names of split
 * archives, and what the walk leaves out of PGDATA and a tablespace (the
 * shared exclusions of `cellar backup` through rsync_filter).
 */
#include "unit.h"

#include "backup_int.h"
#include "cloud_layout.h"
#include "cloud_tar.h"
#include "pg.h"
#include "rsync.h"

static void test_cloud_size_parse(void **state)
{
    (void)state;
    struct {
        const char *text;
        uint64_t want;
    } good[] = {
        {"1", 1},
        {"1234", 1234},
        {"1234B", 1234},
        {"1KB", 1024},
        {"4MB", 4ull << 20},
        {"4mb", 4ull << 20},
        {"100GB", 100ull << 30},
        {"1.5GB", 3ull << 29},
        {"1TB", 1ull << 40},
        {"2KiB", 2000},
        {"1GiB", 1000000000},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(good); i++) {
        uint64_t v = 0;
        struct cel_err err = {0};
        assert_int_equal(cloud_size_parse(good[i].text, &v, &err), 0);
        assert_int_equal(v, good[i].want);
    }
    const char *bad[] = {"", "0", "-1", "GB", "B", "1.5", "12XB", "ten", "1 GB", NULL};
    for (size_t i = 0; bad[i]; i++) {
        uint64_t v = 7;
        struct cel_err err = {0};
        assert_int_equal(cloud_size_parse(bad[i], &v, &err), -CEL_E_INVALID);
        assert_int_equal(v, 7);
        assert_non_null(strstr(err.msg, "is not a valid size string"));
    }
}

static void check_conninfo(const char *host, const char *port, const char *user,
                           const char *dbname, const char *want)
{
    char *got = pg_conninfo_build(host, port, user, dbname);
    assert_string_equal(got, want);
    free(got);
}

static void test_pg_conninfo_build(void **state)
{
    (void)state;
    check_conninfo("127.0.0.1", "5432", "postgres", "postgres",
                   "host=127.0.0.1 port=5432 user=postgres dbname=postgres");
    check_conninfo(NULL, NULL, NULL, "postgres", "dbname=postgres");
    check_conninfo(NULL, NULL, NULL, NULL, "");
    check_conninfo("", NULL, "u", "db", "user=u dbname=db");
    /* a dbname holding '=' (or empty) is the whole conninfo */
    check_conninfo("h", "1", "u", "host=x dbname=y", "host=x dbname=y");
    check_conninfo("h", "1", "u", "", "");
    /* blanks quoted, quotes and backslashes escaped inside */
    check_conninfo("/var/run/my pg", NULL, NULL, "my db's",
                   "host='/var/run/my pg' dbname='my db\\'s'");
}

static void test_split_archive_names(void **state)
{
    (void)state;
    struct cel_err err = {0};
    struct {
        enum cloud_key_kind kind;
        uint32_t oid;
        unsigned part;
        enum cloud_comp comp;
        const char *want;
    } cases[] = {
        {CLOUD_KEY_DATA_TAR, 0, 0, CLOUD_COMP_GZIP, "pg/main/base/20261207T101112/data.tar.gz"},
        {CLOUD_KEY_DATA_TAR, 0, 1, CLOUD_COMP_GZIP,
         "pg/main/base/20261207T101112/data_0001.tar.gz"},
        {CLOUD_KEY_DATA_TAR, 0, 12, CLOUD_COMP_NONE, "pg/main/base/20261207T101112/data_0012.tar"},
        {CLOUD_KEY_TBS_TAR, 16384, 2, CLOUD_COMP_BZIP2,
         "pg/main/base/20261207T101112/16384_0002.tar.bz2"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        char *k = cloud_backup_key("pg", "main", "20261207T101112", cases[i].kind, cases[i].oid,
                                   cases[i].part, cases[i].comp, &err);
        assert_non_null(k);
        assert_string_equal(k, cases[i].want);
        free(k);
    }
}

static void test_walk_exclusions(void **state)
{
    (void)state;
    struct cat_tablespace tbs[] = {
        {.name = "inside", .oid = 16390, .location = "/pg/data/my_tbs"},
        {.name = "outside", .oid = 16391, .location = "/srv/tbs"},
    };
    struct bk_server_info info = {.version = 150000, .major = "15", .pgdata = "/pg/data",
                                  .tbs = tbs, .n_tbs = 2};
    struct bk_excludes ex;
    bk_pgdata_excludes(&info, &ex);
    struct rsync_filter *f = rsync_filter_new(NULL, ex.list);
    struct {
        const char *path;
        bool dir, out;
    } pg[] = {
        {"base", true, false},
        {"base/1/1259", false, false},
        {"base/1/pg_internal.init", false, true},
        {"base/pgsql_tmp", true, true},
        {"base/5/pgsql_tmp123.0", false, true},
        {"pg_wal", true, false},
        {"pg_wal/000000010000000000000001", false, true},
        {"pg_wal/archive_status", true, true},
        {"pg_replslot", true, false},
        {"pg_replslot/slot1", true, true},
        {"pg_tblspc", true, false},
        {"pg_tblspc/16391", false, true},
        {"my_tbs", true, true},
        {"postmaster.pid", false, true},
        {"postmaster.opts", false, true},
        {"backup_label", false, true},
        {"standby.signal", false, true},
        {"global/pg_control", false, true},
        {"global/1262", false, false},
        {"postgresql.auto.conf", false, false},
        {"PG_VERSION", false, false},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(pg); i++) {
        if (rsync_filter_excludes(f, pg[i].path, pg[i].dir) != pg[i].out)
            fail_msg("PGDATA %s: expected %s", pg[i].path, pg[i].out ? "out" : "in");
    }
    rsync_filter_free(f);
    bk_excludes_free(&ex);

    char *inc = bk_tablespace_include(&info);
    const char *includes[] = {inc, NULL};
    f = rsync_filter_new(includes, bk_tablespace_exclude);
    struct {
        const char *path;
        bool dir, out;
    } tb[] = {
        {"PG_15_202209061", true, false},
        {"PG_15_202209061/16384", true, false},
        {"PG_15_202209061/16384/16397", false, false},
        {"PG_15_202209061/pgsql_tmp", true, true},
        {"PG_14_202107181", true, true},
        {"lost+found", true, true},
        {"stray_file", false, true},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(tb); i++) {
        if (rsync_filter_excludes(f, tb[i].path, tb[i].dir) != tb[i].out)
            fail_msg("tablespace %s: expected %s", tb[i].path, tb[i].out ? "out" : "in");
    }
    rsync_filter_free(f);
    free(inc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cloud_size_parse),
        cmocka_unit_test(test_pg_conninfo_build),
        cmocka_unit_test(test_split_archive_names),
        cmocka_unit_test(test_walk_exclusions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
