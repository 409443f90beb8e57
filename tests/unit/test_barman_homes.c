/*
 * Unit tests of cellar on the homes of newer Barman releases
 * (tests/fixtures/, written from Barman's sources: see its README.md):
 * list-backup, show-backup in text and JSON, and the WAL catalogue read
 * where Barman 3.13 keeps it, in the style each home has (4 or 5 fields),
 * without PostgreSQL. What a real cluster archives into such a home and
 * recovers from it is tests/integration/t_xlogdb_styles.sh.
 */
#include "unit.h"

#include <dirent.h>

#include "ops_fixture.h"
#include "server.h"
#include "xlogdb.h"

static char fixtures[4200]; /* <source tree>/tests/fixtures */

/* Copy the directory src into dst (relative to the temporary directory). */
static void copy_tree(const char *src, const char *dst)
{
    unit_mkdir(dst);
    DIR *d = opendir(src);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *from = cel_xasprintf("%s/%s", src, de->d_name);
        char *to = cel_xasprintf("%s/%s", dst, de->d_name);
        struct stat st;
        assert_int_equal(stat(from, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            copy_tree(from, to);
        } else {
            char *text = unit_read(from);
            assert_non_null(text);
            unit_write(to, text);
            free(text);
        }
        free(from);
        free(to);
    }
    closedir(d);
}

/* A home holding fixture style's server pg, configured with extra. */
static void home(const char *style, const char *extra)
{
    char *src = cel_xasprintf("%s/%s/pg", fixtures, style);
    copy_tree(src, "pg");
    free(src);
    char *conf = cel_xasprintf("[pg]\nconninfo = host=pg\nbackup_method = postgres\n%s", extra);
    assert_int_equal(ofx_config(conf), 0);
    free(conf);
}

static const char list_313[] = "pg 20250310T100000 - Mon Mar 10 10:00:02 2025 - Size: 39.0 MiB - "
                               "WAL Size: 16.0 MiB\n";

static void test_home_3_13_list_and_catalogue(void **state)
{
    (void)state;
    home("barman-3.13", "");
    struct cel_err err = {0};
    assert_int_equal(op_list_backup(&ofx.ctx, &(struct op_list_backup_req){.server = "pg"}, &err),
                     0);
    assert_string_equal(sb_str(&ofx.rec.text), list_313);
    struct xdb_home h = op_xdb_home(ofx.cfg, cfg_server_find(ofx.cfg, "pg"));
    struct xdb_place p;
    assert_int_equal(xdb_place(&h, &p, &err), 0);
    assert_int_equal(p.style, XDB_FORMAT_3_13);
    assert_string_equal(p.path, unit_path("pg/wals/pg-xlog.db"));
    xdb_place_free(&p);
    struct xdb db;
    assert_int_equal(xdb_load(&h, &db, &err), 0);
    assert_int_equal(db.n, 4);
    xdb_free(&db);
}

static const char show_314_incremental[] =
    "Backup 20250602T100000:\n"
    "  Server Name            : pg\n"
    "  System Id              : 7479863012345678901\n"
    "  Status                 : DONE\n"
    "  PostgreSQL Version     : 170004\n"
    "  PGDATA directory       : /var/lib/postgresql/17/main\n"
    "  Estimated Cluster Size : 23.0 MiB\n"
    "\n"
    "  Server information:\n"
    "    Checksums            : on\n"
    "    WAL summarizer       : on\n"
    "\n"
    "  Base backup information:\n"
    "    Backup Type          : incremental\n";

static const char show_314_catalog_incremental[] = "  Catalog information:\n"
                                                   "    Retention Policy     : not enforced\n"
                                                   "    Previous Backup      : 20250601T100000\n"
                                                   "    Next Backup          : 20250603T100000\n"
                                                   "    Root Backup          : 20250601T100000\n"
                                                   "    Parent Backup        : 20250601T100000\n"
                                                   "    Backup chain size    : 2\n";

static void test_home_3_14_show_backup_text(void **state)
{
    (void)state;
    home("barman-3.14", "");
    struct cel_err err = {0};
    assert_int_equal(
        op_show_backup(&ofx.ctx,
                       &(struct op_show_backup_req){.server = "pg", .backup = "20250602T100000"},
                       &err),
        0);
    const char *text = sb_str(&ofx.rec.text);
    assert_true(strncmp(text, show_314_incremental, strlen(show_314_incremental)) == 0);
    assert_non_null(strstr(text, show_314_catalog_incremental));
    ofx_events_clear();
    /* the full backup: its child, and no incremental lines */
    assert_int_equal(
        op_show_backup(&ofx.ctx,
                       &(struct op_show_backup_req){.server = "pg", .backup = "20250601T100000"},
                       &err),
        0);
    text = sb_str(&ofx.rec.text);
    assert_non_null(strstr(text, "    Backup Type          : full\n"));
    assert_non_null(strstr(text, "    Next Backup          : 20250602T100000\n"
                                 "    Children Backup(s)   : ['20250602T100000']\n"));
    assert_null(strstr(text, "Root Backup"));
    assert_null(strstr(text, "Encryption"));
    ofx_events_clear();
    /* the encrypted one */
    assert_int_equal(
        op_show_backup(&ofx.ctx,
                       &(struct op_show_backup_req){.server = "pg", .backup = "20250603T100000"},
                       &err),
        0);
    assert_non_null(strstr(sb_str(&ofx.rec.text), "  Base backup information:\n"
                                                  "    Encryption           : gpg\n"
                                                  "    Backup Type          : full\n"));
}

static void test_home_3_14_show_backup_json(void **state)
{
    (void)state;
    home("barman-3.14", "");
    struct cel_err err = {0};
    assert_int_equal(
        op_show_backup(&ofx.ctx,
                       &(struct op_show_backup_req){.server = "pg", .backup = "20250602T100000"},
                       &err),
        0);
    json_t *d = ofx_result_json(0);
    assert_string_equal(json_string_value(json_object_get(d, "parent_backup_id")),
                        "20250601T100000");
    assert_true(json_is_null(json_object_get(d, "children_backup_ids")));
    assert_int_equal(ofx_jint(d, "cluster_size"), 24117248);
    assert_string_equal(json_string_value(json_object_get(d, "data_checksums")), "on");
    assert_string_equal(json_string_value(json_object_get(d, "summarize_wal")), "on");
    assert_true(json_is_null(json_object_get(d, "encryption")));
    assert_string_equal(json_string_value(json_object_get(d, "backup_type")), "incremental");
    assert_string_equal(json_string_value(json_object_get(d, "root_backup_id")), "20250601T100000");
    assert_int_equal(ofx_jint(d, "chain_size"), 2);
    ofx_events_clear();
    assert_int_equal(
        op_show_backup(&ofx.ctx,
                       &(struct op_show_backup_req){.server = "pg", .backup = "20250601T100000"},
                       &err),
        0);
    d = ofx_result_json(0);
    json_t *children = json_object_get(d, "children_backup_ids");
    assert_int_equal(json_array_size(children), 1);
    assert_string_equal(json_string_value(json_array_get(children, 0)), "20250602T100000");
}

/* A 3.14 home's catalogue is read with its 5 fields, appended to with 5,
 * and backup.info is written back with the newer keys it had. */
static void test_home_3_14_catalogue_and_backup_info_kept(void **state)
{
    (void)state;
    home("barman-3.14", "");
    struct cel_err err = {0};
    struct xdb_home h = op_xdb_home(ofx.cfg, cfg_server_find(ofx.cfg, "pg"));
    struct xdb db;
    assert_int_equal(xdb_load(&h, &db, &err), 0);
    assert_int_equal(db.n, 9);
    const struct xdb_entry *e = xdb_find(&db, "000000010000000000000006");
    assert_non_null(e);
    assert_string_equal(e->encryption, "gpg");
    xdb_free(&db);
    struct xdb_entry n = {.name = "000000010000000000000007", .size = 16777216, .time = 1.5};
    assert_int_equal(xdb_append(&h, &n, 1, &err), 0);
    char *text = unit_read(unit_path("pg/wals/pg-xlog.db"));
    assert_non_null(strstr(text,
                           "000000010000000000000006.00000028.backup\t1077\t1748944804.8\tNone"
                           "\tgpg\n000000010000000000000007\t16777216\t1.5\tNone\tNone\n"));
    free(text);
    assert_false(ofx_exists("pg/wals/xlog.db"));
    /* backup.info read and written again: byte for byte what Barman wrote */
    char *dir = cel_xasprintf("%s/%s", unit_tmp, "pg/base/20250602T100000");
    char *before = unit_read(unit_path("pg/base/20250602T100000/backup.info"));
    struct cat_backup b = {0};
    assert_int_equal(cat_info_read(dir, &b, &err), 0);
    assert_string_equal(cat_extra_get(&b, "parent_backup_id"), "20250601T100000");
    assert_null(cat_extra_get(&b, "children_backup_ids"));
    assert_true(cat_has_newer_keys(&b));
    assert_int_equal(cat_info_write(dir, &b, &err), 0);
    char *after = unit_read(unit_path("pg/base/20250602T100000/backup.info"));
    assert_string_equal(after, before);
    cat_backup_clear(&b);
    free(before);
    free(after);
    free(dir);
}

int main(void)
{
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(fixtures, sizeof fixtures, "%s/tests/fixtures", cwd);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_home_3_13_list_and_catalogue, ofx_setup, ofx_teardown),
        cmocka_unit_test_setup_teardown(test_home_3_14_show_backup_text, ofx_setup, ofx_teardown),
        cmocka_unit_test_setup_teardown(test_home_3_14_show_backup_json, ofx_setup, ofx_teardown),
        cmocka_unit_test_setup_teardown(test_home_3_14_catalogue_and_backup_info_kept, ofx_setup,
                                        ofx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
