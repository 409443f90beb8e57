/*
 * Unit tests of src/core/wal/xlogdb_place.c and the catalogue functions
 * that ask it: which file is a server's WAL catalogue (Barman 3.12's
 * wals/xlog.db or 3.13's xlogdb_directory/<server>-xlog.db), the style it
 * is written in (4 or 5 fields), the move from the old name to the new one
 * as Barman 3.13 does it, and both files present. The rules are Barman's
 * (barman/server.py xlogdb_file_path, rebuild_xlogdb; barman/infofile.py
 * to_xlogdb_line, from_xlogdb_line), read from its sources.
 */
#include "unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "xlogdb.h"

#define L4 "000000010000000000000002\t16485\t1795491742.848235\tgzip\n"
#define L5 "000000010000000000000003\t16777216\t1795491800.5\tNone\tNone\n"
#define N4 "000000010000000000000004\t16485\t1795491900.25\tgzip\n"
#define N5 "000000010000000000000004\t16485\t1795491900.25\tgzip\tNone\n"

/* The home of server pg in the temporary directory: wals/, lock/, and
 * xlogdb_directory xdir/ when dir_set (else wals/). */
static struct xdb_home home(bool dir_set, enum xdb_format format)
{
    static char wals[4200], xdir[4200], lock[4200];
    snprintf(wals, sizeof wals, "%s/wals", unit_tmp);
    snprintf(xdir, sizeof xdir, "%s/xdir", unit_tmp);
    snprintf(lock, sizeof lock, "%s/lock", unit_tmp);
    unit_mkdir("wals");
    unit_mkdir("lock");
    return (struct xdb_home){.server = "pg",
                             .wals_dir = wals,
                             .xlogdb_dir = dir_set ? xdir : wals,
                             .xlogdb_dir_set = dir_set,
                             .lock_dir = lock,
                             .format = format};
}

static bool exists_in_tmp(const char *name)
{
    return access(unit_path(name), F_OK) == 0;
}

static struct xdb_entry entry4(void)
{
    struct xdb_entry e = {.name = "000000010000000000000004", .size = 16485, .time = 1795491900.25};
    snprintf(e.compression, sizeof e.compression, "gzip");
    return e;
}

static void assert_place(const struct xdb_home *h, enum xdb_format style, const char *path,
                         bool migrate, const char *ignored)
{
    struct xdb_place p;
    struct cel_err err = {0};
    assert_int_equal(xdb_place(h, &p, &err), 0);
    assert_int_equal(p.style, style);
    assert_string_equal(p.path, unit_path(path));
    assert_int_equal(p.migrate, migrate);
    assert_int_equal(p.ignored, ignored != NULL);
    if (ignored)
        assert_string_equal(p.ignored_path, unit_path(ignored));
    else
        assert_null(p.ignored_path);
    xdb_place_free(&p);
}

/* Nothing there: a 3.4 home unless xlogdb_directory is configured. */
static void test_xdb_place_fresh_home(void **state)
{
    (void)state;
    struct xdb_home h = home(false, XDB_FORMAT_AUTO);
    assert_place(&h, XDB_FORMAT_3_4, "wals/xlog.db", false, NULL);
    assert_false(xdb_exists(&h));
    h = home(true, XDB_FORMAT_AUTO);
    assert_place(&h, XDB_FORMAT_3_13, "xdir/pg-xlog.db", false, NULL);
    h = home(false, XDB_FORMAT_3_14);
    assert_place(&h, XDB_FORMAT_3_14, "wals/pg-xlog.db", false, NULL);
}

/* The style of an existing <server>-xlog.db is its last whole line's. */
static void test_xdb_place_new_name_style_from_its_lines(void **state)
{
    (void)state;
    struct xdb_home h = home(false, XDB_FORMAT_AUTO);
    unit_write("wals/pg-xlog.db", "");
    assert_place(&h, XDB_FORMAT_3_13, "wals/pg-xlog.db", false, NULL);
    assert_true(xdb_exists(&h));
    unit_write("wals/pg-xlog.db", L4);
    assert_place(&h, XDB_FORMAT_3_13, "wals/pg-xlog.db", false, NULL);
    unit_write("wals/pg-xlog.db", L4 L5);
    assert_place(&h, XDB_FORMAT_3_14, "wals/pg-xlog.db", false, NULL);
    /* a last line cut short says nothing: the whole one before it does */
    unit_write("wals/pg-xlog.db", L4 L5 "000000010000000000000004\t16");
    assert_place(&h, XDB_FORMAT_3_14, "wals/pg-xlog.db", false, NULL);
    /* cellar_xlogdb_format wins over the lines */
    h.format = XDB_FORMAT_3_13;
    assert_place(&h, XDB_FORMAT_3_13, "wals/pg-xlog.db", false, NULL);
}

/* Only wals/xlog.db: a 3.4 home, moved when the home is new-style. */
static void test_xdb_place_old_name(void **state)
{
    (void)state;
    struct xdb_home h = home(false, XDB_FORMAT_AUTO);
    unit_write("wals/xlog.db", L4);
    assert_place(&h, XDB_FORMAT_3_4, "wals/xlog.db", false, NULL);
    h = home(true, XDB_FORMAT_AUTO);
    assert_place(&h, XDB_FORMAT_3_13, "xdir/pg-xlog.db", true, NULL);
    h = home(false, XDB_FORMAT_3_14);
    assert_place(&h, XDB_FORMAT_3_14, "wals/pg-xlog.db", true, NULL);
}

/* Both: the new name wins, as in Barman >= 3.13; forced 3.4 the old one. */
static void test_xdb_place_both_names(void **state)
{
    (void)state;
    struct xdb_home h = home(false, XDB_FORMAT_AUTO);
    unit_write("wals/xlog.db", L4);
    unit_write("wals/pg-xlog.db", L5);
    assert_place(&h, XDB_FORMAT_3_14, "wals/pg-xlog.db", false, "wals/xlog.db");
    h.format = XDB_FORMAT_3_4;
    assert_place(&h, XDB_FORMAT_3_4, "wals/xlog.db", false, "wals/pg-xlog.db");
    char *path = xdb_path(&h);
    assert_string_equal(path, unit_path("wals/xlog.db"));
    free(path);
}

/* A 3.4 home stays one: appended and rewritten with 4 fields under the old
 * name, and no new file appears. */
static void test_xdb_write_keeps_a_3_4_home(void **state)
{
    (void)state;
    struct xdb_home h = home(false, XDB_FORMAT_AUTO);
    unit_write("wals/xlog.db", L4);
    struct cel_err err = {0};
    struct xdb_entry e = entry4();
    assert_int_equal(xdb_append(&h, &e, 1, &err), 0);
    char *text = unit_read(unit_path("wals/xlog.db"));
    assert_string_equal(text, L4 N4);
    free(text);
    assert_false(exists_in_tmp("wals/pg-xlog.db"));
    struct xdb db;
    assert_int_equal(xdb_read(&h, &db, &err), 0);
    assert_int_equal(xdb_rewrite(&h, &db, &err), 0);
    xdb_free(&db);
    text = unit_read(unit_path("wals/xlog.db"));
    assert_string_equal(text, L4 N4);
    free(text);
}

/* A 3.14 home gets 5 fields, a 3.13 home 4, each under the new name. */
static void test_xdb_write_keeps_new_styles(void **state)
{
    (void)state;
    struct xdb_home h = home(false, XDB_FORMAT_AUTO);
    unit_write("wals/pg-xlog.db", L5);
    struct cel_err err = {0};
    struct xdb_entry e = entry4();
    assert_int_equal(xdb_append(&h, &e, 1, &err), 0);
    char *text = unit_read(unit_path("wals/pg-xlog.db"));
    assert_string_equal(text, L5 N5);
    free(text);
    unit_write("wals/pg-xlog.db", L4);
    assert_int_equal(xdb_append(&h, &e, 1, &err), 0);
    text = unit_read(unit_path("wals/pg-xlog.db"));
    assert_string_equal(text, L4 N4);
    free(text);
    /* a rewrite of a 3.14 home writes every line with 5 fields */
    unit_write("wals/pg-xlog.db", L4 L5);
    struct xdb db;
    assert_int_equal(xdb_read(&h, &db, &err), 0);
    assert_int_equal(xdb_rewrite(&h, &db, &err), 0);
    xdb_free(&db);
    text = unit_read(unit_path("wals/pg-xlog.db"));
    assert_string_equal(text,
                        "000000010000000000000002\t16485\t1795491742.848235\tgzip\tNone\n" L5);
    free(text);
    assert_false(exists_in_tmp("wals/xlog.db"));
}

/* Configured xlogdb_directory and only wals/xlog.db: the first access
 * moves it (bytes as they are) and deletes the old one, as Barman 3.13. */
static void test_xdb_migrate_moves_the_old_file(void **state)
{
    (void)state;
    struct xdb_home h = home(true, XDB_FORMAT_AUTO);
    unit_write("wals/xlog.db", L4);
    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(xdb_load(&h, &db, &err), 0);
    assert_int_equal(db.n, 1);
    xdb_free(&db);
    assert_false(exists_in_tmp("wals/xlog.db"));
    char *text = unit_read(unit_path("xdir/pg-xlog.db"));
    assert_string_equal(text, L4);
    free(text);
    struct stat st;
    assert_int_equal(stat(unit_path("xdir/pg-xlog.db"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* nothing more to do the second time */
    assert_int_equal(xdb_migrate(&h, &err), 0);
    assert_place(&h, XDB_FORMAT_3_13, "xdir/pg-xlog.db", false, NULL);
}

/* Forced 3.14 on a 3.4 home: moved on the first write, new lines with 5
 * fields after the old ones. */
static void test_xdb_migrate_on_append_forced_3_14(void **state)
{
    (void)state;
    struct xdb_home h = home(false, XDB_FORMAT_3_14);
    unit_write("wals/xlog.db", L4);
    struct cel_err err = {0};
    struct xdb_entry e = entry4();
    assert_int_equal(xdb_append(&h, &e, 1, &err), 0);
    assert_false(exists_in_tmp("wals/xlog.db"));
    char *text = unit_read(unit_path("wals/pg-xlog.db"));
    assert_string_equal(text, L4 N5);
    free(text);
}

/* A migration that cannot write leaves the old file where it was. */
static void test_xdb_migrate_failure_keeps_the_old_file(void **state)
{
    (void)state;
    struct xdb_home h = home(true, XDB_FORMAT_AUTO);
    unit_write("wals/xlog.db", L4);
    unit_write("xdir", "a file where the directory should be");
    struct cel_err err = {0};
    assert_int_equal(xdb_migrate(&h, &err), -CEL_E_IO);
    char want[9000];
    snprintf(want, sizeof want,
             "cannot move the WAL catalogue '%s' to '%s' (Barman >= 3.13's place): ",
             unit_path("wals/xlog.db"), unit_path("xdir/pg-xlog.db"));
    assert_true(strncmp(err.msg, want, strlen(want)) == 0);
    char *text = unit_read(unit_path("wals/xlog.db"));
    assert_string_equal(text, L4);
    free(text);
}

/* A damaged line of the new file names that file and the line. */
static void test_xdb_read_new_name_damage_names_file_and_line(void **state)
{
    (void)state;
    struct xdb_home h = home(false, XDB_FORMAT_AUTO);
    unit_write("wals/pg-xlog.db", L5 "000000010000000000000004\t16485\t1.0\tgzip\tNone\tx\n");
    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(xdb_load(&h, &db, &err), -CEL_E_FORMAT);
    char want[4400];
    snprintf(want, sizeof want,
             "%s:2: expected 'name size time [compression [encryption]]' separated by tabs",
             unit_path("wals/pg-xlog.db"));
    assert_string_equal(err.msg, want);
}

/* xdb_load_newest reads the file in use. */
static void test_xdb_load_newest_new_name(void **state)
{
    (void)state;
    struct xdb_home h = home(false, XDB_FORMAT_AUTO);
    unit_write("wals/xlog.db", N4); /* ignored: the new name wins */
    unit_write("wals/pg-xlog.db", L4 L5);
    struct xdb_entry e;
    struct cel_err err = {0};
    assert_int_equal(xdb_load_newest(&h, &e, &err), 1);
    assert_string_equal(e.name, "000000010000000000000003");
}

static void test_xdb_format_name(void **state)
{
    (void)state;
    assert_string_equal(xdb_format_name(XDB_FORMAT_AUTO), "auto");
    assert_string_equal(xdb_format_name(XDB_FORMAT_3_4), "3.4");
    assert_string_equal(xdb_format_name(XDB_FORMAT_3_13), "3.13");
    assert_string_equal(xdb_format_name(XDB_FORMAT_3_14), "3.14");
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup_tmpdir, unit_teardown_tmpdir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_xdb_place_fresh_home),
        T(test_xdb_place_new_name_style_from_its_lines),
        T(test_xdb_place_old_name),
        T(test_xdb_place_both_names),
        T(test_xdb_write_keeps_a_3_4_home),
        T(test_xdb_write_keeps_new_styles),
        T(test_xdb_migrate_moves_the_old_file),
        T(test_xdb_migrate_on_append_forced_3_14),
        T(test_xdb_migrate_failure_keeps_the_old_file),
        T(test_xdb_read_new_name_damage_names_file_and_line),
        T(test_xdb_load_newest_new_name),
        cmocka_unit_test(test_xdb_format_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
