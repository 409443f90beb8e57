/* Unit tests of src/core/cloud/cloud_layout.c: barman-cloud's object names.
 * The expected keys were printed by barman-cloud 3.4's own code
 * (CloudWalUploader.retrieve_wal_name, xlog.hash_dir, os.path.join and
 * CloudUploadController._build_dest_name) for these names. */
#include "unit.h"

#include "cloud_layout.h"

#define ID "20261207T184012"
#define SEG "000000010000000000000001"
#define PARTIAL "000000010000000A000000FF.partial"
#define LABEL "000000010000000000000002.00000028.backup"
#define HIST "00000002.history"

/* A WAL key built, then parsed back. */
static void assert_wal(const char *prefix, const char *name, enum cloud_comp comp, const char *key,
                       enum wal_kind wkind)
{
    struct cel_err err = {0};
    char *built = cloud_wal_key(prefix, "main", name, comp, &err);
    assert_non_null(built);
    assert_string_equal(built, key);
    free(built);
    struct cloud_key k;
    assert_int_equal(cloud_key_parse(prefix, key, &k, &err), 0);
    assert_int_equal(k.kind, CLOUD_KEY_WAL);
    assert_string_equal(k.server, "main");
    assert_string_equal(k.wal, name);
    assert_int_equal(k.wal_name.kind, wkind);
    assert_int_equal(k.comp, comp);
    assert_string_equal(k.backup_id, "");
    char *again = cloud_key_format(prefix, &k, &err);
    assert_string_equal(again, key);
    free(again);
}

static void test_cloud_wal_key_every_kind_and_compression(void **state)
{
    (void)state;
    static const struct {
        enum cloud_comp comp;
        const char *ext;
    } c[] = {{CLOUD_COMP_NONE, ""},          {CLOUD_COMP_GZIP, ".gz"}, {CLOUD_COMP_BZIP2, ".bz2"},
             {CLOUD_COMP_SNAPPY, ".snappy"}, {CLOUD_COMP_XZ, ".xz"},   {CLOUD_COMP_ZSTD, ".zst"},
             {CLOUD_COMP_LZ4, ".lz4"}};
    char key[256];
    for (size_t i = 0; i < CEL_ARRAY_LEN(c); i++) {
        snprintf(key, sizeof key, "pg/x/main/wals/0000000100000000/" SEG "%s", c[i].ext);
        assert_wal("pg/x", SEG, c[i].comp, key, WAL_KIND_SEGMENT);
        snprintf(key, sizeof key, "pg/x/main/wals/" HIST "%s", c[i].ext);
        assert_wal("pg/x", HIST, c[i].comp, key, WAL_KIND_HISTORY);
        snprintf(key, sizeof key, "pg/x/main/wals/000000010000000A/" PARTIAL "%s", c[i].ext);
        assert_wal("pg/x", PARTIAL, c[i].comp, key, WAL_KIND_PARTIAL);
        snprintf(key, sizeof key, "pg/x/main/wals/0000000100000000/" LABEL "%s", c[i].ext);
        assert_wal("pg/x", LABEL, c[i].comp, key, WAL_KIND_BACKUP_LABEL);
    }
    /* no path in the bucket URL; a prefix given with a trailing slash */
    assert_wal("", SEG, CLOUD_COMP_NONE, "main/wals/0000000100000000/" SEG, WAL_KIND_SEGMENT);
    struct cel_err err = {0};
    char *k = cloud_wal_key("pg/", "main", SEG, CLOUD_COMP_GZIP, &err);
    assert_string_equal(k, "pg/main/wals/0000000100000000/" SEG ".gz");
    free(k);
    /* a lower-case name keeps its case; its hash directory is upper case, as
     * Barman's "%08X%08X" makes it */
    assert_wal("p", "00000001000000ab000000cd", CLOUD_COMP_NONE,
               "p/main/wals/00000001000000AB/00000001000000ab000000cd", WAL_KIND_SEGMENT);
}

static void test_cloud_prefixes(void **state)
{
    (void)state;
    struct cel_err err = {0};
    char *s = cloud_wals_prefix("pg", "main", &err);
    assert_string_equal(s, "pg/main/wals/");
    free(s);
    s = cloud_base_prefix("", "main", &err);
    assert_string_equal(s, "main/base/");
    free(s);
    s = cloud_backup_prefix("a/b", "main", ID, &err);
    assert_string_equal(s, "a/b/main/base/" ID "/");
    free(s);
    assert_null(cloud_backup_prefix("a", "main", "2026-12-07", &err));
    assert_string_equal(err.msg, "invalid backup ID '2026-12-07': not YYYYMMDDTHHMMSS");
    assert_null(cloud_wals_prefix("a", "", &err));
    assert_string_equal(err.msg, "invalid server name '' for a bucket: it is empty");
}

/* A backup key built, then parsed back. */
static void assert_backup(const char *prefix, enum cloud_key_kind kind, uint32_t oid, unsigned part,
                          enum cloud_comp comp, const char *key)
{
    struct cel_err err = {0};
    char *built = cloud_backup_key(prefix, "main", ID, kind, oid, part, comp, &err);
    assert_non_null(built);
    assert_string_equal(built, key);
    free(built);
    struct cloud_key k;
    assert_int_equal(cloud_key_parse(prefix, key, &k, &err), 0);
    assert_int_equal(k.kind, kind);
    assert_string_equal(k.server, "main");
    assert_string_equal(k.backup_id, ID);
    assert_int_equal(k.oid, kind == CLOUD_KEY_TBS_TAR ? oid : 0);
    assert_int_equal(k.part, kind == CLOUD_KEY_BACKUP_INFO ? 0 : part);
    assert_int_equal(k.comp, kind == CLOUD_KEY_BACKUP_INFO ? CLOUD_COMP_NONE : comp);
    assert_string_equal(k.wal, "");
}

static void test_cloud_backup_keys(void **state)
{
    (void)state;
    const char *base = "pg/x/main/base/" ID "/";
    char key[256];
    assert_backup("pg/x", CLOUD_KEY_BACKUP_INFO, 0, 0, CLOUD_COMP_NONE,
                  "pg/x/main/base/" ID "/backup.info");
    static const struct {
        enum cloud_comp comp;
        const char *ext;
    } c[] = {{CLOUD_COMP_NONE, ""},
             {CLOUD_COMP_GZIP, ".gz"},
             {CLOUD_COMP_BZIP2, ".bz2"},
             {CLOUD_COMP_SNAPPY, ".snappy"}};
    for (size_t i = 0; i < CEL_ARRAY_LEN(c); i++) {
        snprintf(key, sizeof key, "%sdata.tar%s", base, c[i].ext);
        assert_backup("pg/x", CLOUD_KEY_DATA_TAR, 0, 0, c[i].comp, key);
        snprintf(key, sizeof key, "%s16385_0001.tar%s", base, c[i].ext);
        assert_backup("pg/x", CLOUD_KEY_TBS_TAR, 16385, 1, c[i].comp, key);
        snprintf(key, sizeof key, "%sdata_12345.tar%s", base, c[i].ext);
        assert_backup("pg/x", CLOUD_KEY_DATA_TAR, 0, 12345, c[i].comp, key);
        snprintf(key, sizeof key, "%s4294967295.tar%s", base, c[i].ext);
        assert_backup("pg/x", CLOUD_KEY_TBS_TAR, 4294967295u, 0, c[i].comp, key);
    }
    assert_backup("", CLOUD_KEY_DATA_TAR, 0, 9999, CLOUD_COMP_NONE,
                  "main/base/" ID "/data_9999.tar");
    struct cel_err err = {0};
    assert_null(cloud_backup_key("p", "main", ID, CLOUD_KEY_TBS_TAR, 0, 0, CLOUD_COMP_NONE, &err));
    assert_string_equal(err.msg, "invalid tablespace OID 0");
    assert_null(cloud_backup_key("p", "main", ID, CLOUD_KEY_WAL, 0, 0, CLOUD_COMP_NONE, &err));
    assert_string_equal(err.msg, "a WAL file is not a backup object");
}

static void test_cloud_builders_refuse_bad_input(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_null(cloud_wal_key("p", "main", "00000001000000000000001", CLOUD_COMP_NONE, &err));
    assert_int_equal(err.code, CEL_E_INVALID);
    assert_null(cloud_wal_key("p", "a/b", SEG, CLOUD_COMP_NONE, &err));
    assert_string_equal(err.msg, "invalid server name 'a/b' for a bucket: it holds a '/'");
    assert_null(cloud_wal_key("p", "..", SEG, CLOUD_COMP_NONE, &err));
    assert_string_equal(err.msg,
                        "invalid server name '..' for a bucket: \".\" and \"..\" are not names");
    assert_null(cloud_wal_key("p", "a\nb", SEG, CLOUD_COMP_NONE, &err));
    assert_string_equal(err.msg,
                        "invalid server name 'a\\x0Ab' for a bucket: it holds a control character");
    char longname[300];
    memset(longname, 's', 256);
    longname[256] = '\0';
    assert_null(cloud_wal_key("p", longname, SEG, CLOUD_COMP_NONE, &err));
    assert_true(cel_str_ends(err.msg, ": it is longer than 255 bytes"));
    longname[255] = '\0';
    assert_int_equal(cloud_server_check(longname, &err), 0);
    assert_string_equal(cloud_comp_name(CLOUD_COMP_SNAPPY), "snappy");
    assert_string_equal(cloud_comp_name((enum cloud_comp)99), "unknown");
    assert_string_equal(cloud_comp_ext((enum cloud_comp)99), "");
}

static void assert_key_bad(const char *prefix, const char *key, const char *why)
{
    struct cloud_key k = {.part = 77};
    struct cel_err err = {0};
    char msg[600];
    assert_int_equal(cloud_key_parse(prefix, key, &k, &err), -CEL_E_INVALID);
    snprintf(msg, sizeof msg, "invalid object key '%s': %s", key, why);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("%s\n  got: %s\n want: %s", key, err.msg, msg);
    assert_int_equal(k.part, 77); /* untouched */
}

static void test_cloud_key_parse_refusals(void **state)
{
    (void)state;
    assert_key_bad("pg", "other/main/wals/" HIST, "not under 'pg/'");
    assert_key_bad("pg", "pgx/main/wals/" HIST, "not under 'pg/'");
    assert_key_bad("pg", "pg", "not under 'pg/'");
    assert_key_bad("pg", "pg/main", "no server directory");
    assert_key_bad("pg", "pg//wals/" HIST, "'' is not a server name");
    assert_key_bad("pg", "pg/main/xlog/" HIST, "neither under SERVER/wals/ nor under SERVER/base/");
    assert_key_bad("pg", "pg/main/wals", "neither under SERVER/wals/ nor under SERVER/base/");
    /* WAL keys */
    assert_key_bad("", "main/wals/0000000100000000/" SEG ".lzma",
                   "'" SEG ".lzma' is not a WAL file name with an optional compression suffix");
    assert_key_bad("", "main/wals/0000000100000000/" SEG ".gz.gz",
                   "'" SEG ".gz.gz' is not a WAL file name with an optional compression suffix");
    assert_key_bad("", "main/wals/0000000100000000/xlog.db",
                   "'xlog.db' is not a WAL file name with an optional compression suffix");
    assert_key_bad("", "main/wals/0000000100000000/",
                   "'' is not a WAL file name with an optional compression suffix");
    assert_key_bad("", "main/wals/" SEG, SEG " belongs in the hash directory 0000000100000000");
    assert_key_bad("", "main/wals/0000000100000001/" SEG ".gz",
                   SEG " belongs in the hash directory 0000000100000000");
    assert_key_bad("", "main/wals/0000000100000000/" HIST,
                   "a history file lives directly under wals/");
    assert_key_bad("", "main/wals/a/b/" SEG, "WAL files are at most one directory below wals/");
    /* the hash directory is upper case even for a lower-case name */
    assert_key_bad("", "main/wals/00000001000000ab/00000001000000ab000000cd",
                   "00000001000000ab000000cd belongs in the hash directory 00000001000000AB");
    /* backup keys */
    assert_key_bad("", "main/base/" ID, "no object inside the backup directory");
    assert_key_bad("", "main/base/latest/backup.info",
                   "'latest' is not a backup ID (YYYYMMDDTHHMMSS)");
    assert_key_bad("", "main/base/20261207T184012Z/backup.info",
                   "'20261207T184012Z' is not a backup ID (YYYYMMDDTHHMMSS)");
    assert_key_bad("", "main/base/" ID "/",
                   "'' is neither backup.info nor a tar file (data.tar, "
                   "OID.tar)");
    assert_key_bad("", "main/base/" ID "/backup_label",
                   "'backup_label' is neither backup.info nor a tar file (data.tar, OID.tar)");
    assert_key_bad("", "main/base/" ID "/sub/data.tar",
                   "backup objects are directly inside the backup directory");
    assert_key_bad("", "main/base/" ID "/data.tar.lzma", "unknown compression suffix '.lzma'");
    assert_key_bad("", "main/base/" ID "/data.tarx", "unknown compression suffix 'x'");
    assert_key_bad("", "main/base/" ID "/data_0000.tar",
                   "'0000' is not a part number (0001 and up)");
    assert_key_bad("", "main/base/" ID "/data_01.tar", "'01' is not a part number (0001 and up)");
    assert_key_bad("", "main/base/" ID "/data_.tar", "'' is not a part number (0001 and up)");
    assert_key_bad("", "main/base/" ID "/data_00x1.tar",
                   "'00x1' is not a part number (0001 and up)");
    assert_key_bad("", "main/base/" ID "/pgdata.tar",
                   "'pgdata' is neither \"data\" nor a "
                   "tablespace OID");
    assert_key_bad("", "main/base/" ID "/0.tar", "'0' is neither \"data\" nor a tablespace OID");
    assert_key_bad("", "main/base/" ID "/016385.tar",
                   "'016385' is neither \"data\" nor a tablespace OID");
    assert_key_bad("", "main/base/" ID "/4294967296.tar",
                   "'4294967296' is neither \"data\" nor a tablespace OID");
    assert_key_bad("", "main/base/" ID "/.tar", "'' is neither \"data\" nor a tablespace OID");
    /* parsed, but not as barman-cloud writes it */
    assert_key_bad("", "main/base/" ID "/data_00001.tar",
                   "not written the way barman-cloud writes it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cloud_wal_key_every_kind_and_compression),
        cmocka_unit_test(test_cloud_prefixes),
        cmocka_unit_test(test_cloud_backup_keys),
        cmocka_unit_test(test_cloud_builders_refuse_bad_input),
        cmocka_unit_test(test_cloud_key_parse_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
