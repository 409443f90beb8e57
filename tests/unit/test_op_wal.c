/*
 * Unit tests of the WAL archive's catalogue ops, through the ops harness
 * (ops_fixture.h), without PostgreSQL:
 *   - rebuild-xlogdb (src/ops/archive/rebuild_xlogdb.c): xlog.db written anew
 *     from the files in wals/, line by line as Barman writes it; the repair
 *     of a last line a killed writer cut short (op_xdb_load);
 *   - the WAL purge (src/ops/archive/wal_purge.c): what goes when the first
 *     backup completes, what stays, the hooks' say.
 * Archived segments are ofx_segment's (1 MiB, sparse, a page header that
 * matches the name), plain or compressed with the codecs.
 */
#include "unit.h"

#include "ops_fixture.h"

#include "compress.h"
#include "storage.h"
#include "ops/archive/wal_archive.h"

/* ---- archived files ------------------------------------------------------------ */

/* A plain segment name at rel (relative to the temporary directory). */
static void write_segment(const char *rel, const char *name)
{
    ofx_segment(unit_path(rel), name, "");
}

static void set_mtime(const char *rel, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimensat(AT_FDCWD, unit_path(rel), ts, 0), 0);
}

static off_t size_of(const char *rel)
{
    struct stat st;
    assert_int_equal(stat(unit_path(rel), &st), 0);
    return st.st_size;
}

/* Archive segment name of server "pg", compressed with kind, at mtime. */
static void archive_segment(const char *name, enum comp_kind kind, time_t mtime)
{
    ofx_wal("pg", name, "", 0); /* the hash directory */
    const char *rel = ofx_wal_rel("pg", name);
    if (kind == COMP_NONE) {
        write_segment(rel, name);
    } else {
        write_segment("plain", name);
        struct cel_err err = {0};
        char dst[4200];
        snprintf(dst, sizeof dst, "%s", unit_path(rel));
        if (comp_compress_file(kind, unit_path("plain"), dst, NULL, NULL, &err) < 0)
            fail_msg("compress %s: %s", name, err.msg);
        assert_int_equal(unlink(unit_path("plain")), 0);
    }
    set_mtime(rel, mtime);
}

/* The xlog.db line of archived file name of "pg", as rebuild-xlogdb must
 * write it: its size on disk, its mtime, its compression. */
static void expect_line(struct strbuf *sb, const char *name, time_t mtime, const char *comp)
{
    sb_appendf(sb, "%s\t%lld\t%lld.0\t%s\n", name, (long long)size_of(ofx_wal_rel("pg", name)),
               (long long)mtime, comp);
}

static int rebuild(const char *server, struct cel_err *err)
{
    return op_rebuild_xlogdb(&ofx.ctx, &(struct op_rebuild_xlogdb_req){.server = server}, err);
}

static const struct cfg_server *pg(void)
{
    const struct cfg_server *s = cfg_server_find(ofx.cfg, "pg");
    assert_non_null(s);
    return s;
}

static int setup(void **state)
{
    if (ofx_setup(state) < 0)
        return -1;
    return ofx_config("[pg]\nconninfo = host=/nonexistent\n"
                      "[other]\nconninfo = host=/nonexistent\n");
}

/* ---- rebuild-xlogdb -------------------------------------------------------------- */

static const char history[] = "1\t0/5000000\tno recovery target specified\n";
static const char label[] = "START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\n"
                            "STOP WAL LOCATION: 0/4000100 (file 000000010000000000000004)\n";

static void test_op_rebuild_xlogdb_from_the_archive(void **state)
{
    (void)state;
    ofx_wal("pg", "00000002.history", history, 1795491000);
    archive_segment("000000010000000000000003", COMP_NONE, 1795491100);
    archive_segment("000000010000000000000004", COMP_GZIP, 1795491200);
    ofx_wal("pg", "000000010000000000000004.00000028.backup", label, 1795491250);
    archive_segment("000000020000000000000005.partial", COMP_BZIP2, 1795491300);
    archive_segment("000000020000000000000006", COMP_ZSTD, 1795491400);
    /* skipped: a hidden temporary; reported: a stranger */
    unit_write("pg/wals/0000000100000000/.000000010000000000000005.tmp", "partial copy");
    unit_write("pg/wals/0000000100000000/notawal", "what is this");
    /* the old xlog.db lists a file that is gone and misses the others */
    ofx_xlogdb("pg", "000000010000000000000001\t16777216\t1795490000.0\tNone\n");

    struct cel_err err = {0};
    assert_int_equal(rebuild("pg", &err), 0);

    struct strbuf want = {0};
    expect_line(&want, "000000010000000000000003", 1795491100, "None"); /* OFX_SEGSIZE */
    expect_line(&want, "000000010000000000000004", 1795491200, "gzip");
    expect_line(&want, "000000010000000000000004.00000028.backup", 1795491250, "None");
    /* in byte order, as Barman sorts: '.' comes before '0' */
    expect_line(&want, "00000002.history", 1795491000, "None");
    expect_line(&want, "000000020000000000000005.partial", 1795491300, "bzip2");
    expect_line(&want, "000000020000000000000006", 1795491400, "zstd");
    char *got = ofx_read_xlogdb("pg");
    assert_string_equal(got, sb_str(&want));
    free(got);
    sb_free(&want);

    /* every event, in order: the stranger is reported, the temporary not;
     * the recovery-target index is rebuilt from the four segments */
    char *events = cel_xasprintf(
        "phase rebuild: Rebuilding xlogdb for server pg\n"
        "log WARNING pg: unexpected file '%s/pg/wals/0000000100000000/notawal' in the WAL "
        "archive, ignored\n"
        "phase targets: reading 4 archived WAL segments for their restore points and commit "
        "times\n"
        "result rebuild-xlogdb\n",
        unit_tmp);
    assert_string_equal(ofx_events(), events);
    free(events);
    json_t *j = ofx_result_json(0);
    assert_int_equal(ofx_jint(j, "history"), 1);
    assert_int_equal(ofx_jint(j, "backup_labels"), 1);
    assert_int_equal(ofx_jint(j, "wal_file"), 3);
    assert_int_equal(ofx_jint(j, "partial"), 1);
    assert_int_equal(ofx_jint(j, "ignored"), 1);
    assert_true(cel_str_starts(sb_str(&ofx.rec.text),
                               "Done rebuilding xlogdb for server pg (history: 1, backup_labels: "
                               "1, wal_file: 3, partial: 1)\n"));
    /* the stranger and the temporary are left alone */
    assert_true(ofx_exists("pg/wals/0000000100000000/notawal"));
    assert_true(ofx_exists("pg/wals/0000000100000000/.000000010000000000000005.tmp"));
}

static void test_op_rebuild_xlogdb_over_a_damaged_xlogdb(void **state)
{
    (void)state;
    archive_segment("000000010000000000000003", COMP_LZ4, 1795491100);
    ofx_xlogdb("pg", "this is\tnot an\txlog.db\n");
    struct cel_err err = {0};
    assert_int_equal(rebuild("pg", &err), 0);
    struct strbuf want = {0};
    expect_line(&want, "000000010000000000000003", 1795491100, "lz4");
    char *got = ofx_read_xlogdb("pg");
    assert_string_equal(got, sb_str(&want));
    free(got);
    sb_free(&want);
    assert_non_null(strstr(ofx_events(), "log WARNING pg: the old xlog.db is not readable: "));
    ofx_assert_event("result rebuild-xlogdb");
}

static void test_op_rebuild_xlogdb_unknown_content_is_custom(void **state)
{
    (void)state;
    /* no magic, and not the plain segment its name says: Barman's rule
     * records it as custom-compressed, and the DBA is told */
    ofx_wal("pg", "000000010000000000000007", "some other bytes", 1795491700);
    struct cel_err err = {0};
    assert_int_equal(rebuild("pg", &err), 0);
    struct strbuf want = {0};
    expect_line(&want, "000000010000000000000007", 1795491700, "custom");
    char *got = ofx_read_xlogdb("pg");
    assert_string_equal(got, sb_str(&want));
    free(got);
    sb_free(&want);
    char *line = cel_xasprintf(
        "log WARNING pg: '%s/pg/wals/0000000100000000/000000010000000000000007' is not a plain "
        "WAL file and starts with no known compression magic: recorded as custom-compressed "
        "(reading it needs custom_decompression_filter)",
        unit_tmp);
    ofx_assert_event(line);
    free(line);
}

static void test_op_rebuild_xlogdb_every_server(void **state)
{
    (void)state;
    archive_segment("000000010000000000000003", COMP_GZIP, 1795491100);
    struct cel_err err = {0};
    /* "other" has no wals/ yet: it gets an empty xlog.db */
    assert_int_equal(rebuild("all", &err), 0);
    assert_int_equal(json_array_size(ofx.rec.json), 2);
    assert_string_equal(json_string_value(json_object_get(ofx_result_json(0), "server")), "other");
    assert_string_equal(json_string_value(json_object_get(ofx_result_json(1), "server")), "pg");
    char *got = ofx_read_xlogdb("other");
    assert_string_equal(got, "");
    free(got);
    got = ofx_read_xlogdb("pg");
    assert_true(cel_str_starts(got, "000000010000000000000003\t"));
    free(got);
    /* an unknown server changes nothing */
    ofx_events_clear();
    assert_int_equal(rebuild("nope", &err), -CEL_E_NOT_FOUND);
    assert_string_equal(err.msg, "unknown server 'nope'");
    assert_string_equal(ofx_events(), "");
}

/* A Barman 3.14 home (wals/pg-xlog.db, 5 fields): rebuilt in place, in its
 * style; the catalogue's own name in wals/ is no stranger (Barman >= 3.13
 * skips <server>-xlog.db* as it used to skip xlog.db*). */
static void test_op_rebuild_xlogdb_new_style_home(void **state)
{
    (void)state;
    archive_segment("000000010000000000000003", COMP_GZIP, 1795491100);
    unit_write("pg/wals/pg-xlog.db", "000000010000000000000001\t1\t1.0\tNone\tNone\n");
    struct cel_err err = {0};
    assert_int_equal(rebuild("pg", &err), 0);
    char *got = unit_read(unit_path("pg/wals/pg-xlog.db"));
    char *want = cel_xasprintf("000000010000000000000003\t%lld\t1795491100.0\tgzip\tNone\n",
                               (long long)size_of(ofx_wal_rel("pg", "000000010000000000000003")));
    assert_string_equal(got, want);
    free(got);
    free(want);
    assert_false(ofx_exists("pg/wals/xlog.db"));
    assert_null(strstr(ofx_events(), "unexpected file"));
}

/* xlogdb_directory set and only wals/xlog.db: rebuild-xlogdb writes the
 * new file and deletes the old one, as Barman 3.13's does. */
static void test_op_rebuild_xlogdb_moves_to_xlogdb_directory(void **state)
{
    (void)state;
    assert_int_equal(ofx_config("[pg]\nconninfo = host=/nonexistent\n"
                                "xlogdb_directory = %(barman_home)s/xlogdb\n"),
                     0);
    archive_segment("000000010000000000000003", COMP_NONE, 1795491100);
    ofx_xlogdb("pg", "000000010000000000000001\t16777216\t1795490000.0\tNone\n");
    struct cel_err err = {0};
    assert_int_equal(rebuild("pg", &err), 0);
    assert_false(ofx_exists("pg/wals/xlog.db"));
    struct strbuf want = {0};
    expect_line(&want, "000000010000000000000003", 1795491100, "None");
    char *got = unit_read(unit_path("xlogdb/pg-xlog.db"));
    assert_string_equal(got, sb_str(&want));
    free(got);
    sb_free(&want);
}

/* Both names: the new one is rebuilt, the old one left, and a warning says
 * which is which. */
static void test_op_rebuild_xlogdb_both_names_warns(void **state)
{
    (void)state;
    archive_segment("000000010000000000000003", COMP_NONE, 1795491100);
    ofx_xlogdb("pg", "000000010000000000000001\t16777216\t1795490000.0\tNone\n");
    unit_write("pg/wals/pg-xlog.db", "");
    struct cel_err err = {0};
    assert_int_equal(rebuild("pg", &err), 0);
    char *old = ofx_read_xlogdb("pg");
    assert_string_equal(old, "000000010000000000000001\t16777216\t1795490000.0\tNone\n");
    free(old);
    char *line = cel_xasprintf("log WARNING pg: two WAL catalogues: '%s' is used (a 3.13-style "
                               "home) and '%s' is ignored, as Barman >= 3.13 ignores "
                               "wals/xlog.db once <server>-xlog.db exists; a Barman older than "
                               "3.13 still archiving into this home writes only the ignored one. "
                               "Stop that Barman's archiving (or set cellar_xlogdb_format = 3.4), "
                               "then remove '%s' and run 'cellar rebuild-xlogdb pg'",
                               unit_path("pg/wals/pg-xlog.db"), unit_path("pg/wals/xlog.db"),
                               unit_path("pg/wals/xlog.db"));
    ofx_assert_event(line);
    free(line);
}

/* cellar_xlogdb_format = 3.4 beside a <server>-xlog.db: the old file is
 * used, and the sentence says the new one is what Barman >= 3.13 reads. */
static void test_op_xdb_ignored_text_forced_3_4(void **state)
{
    (void)state;
    assert_int_equal(ofx_config("[pg]\nconninfo = host=/nonexistent\n"
                                "cellar_xlogdb_format = 3.4\n"),
                     0);
    ofx_xlogdb("pg", "000000010000000000000001\t16777216\t1795490000.0\tNone\n");
    assert_null(op_xdb_ignored_text(&ofx.ctx, pg()));
    unit_write("pg/wals/pg-xlog.db", "");
    char *text = op_xdb_ignored_text(&ofx.ctx, pg());
    char *want = cel_xasprintf(
        "two WAL catalogues: '%s' is used (cellar_xlogdb_format = 3.4) and '%s' is ignored; a "
        "Barman >= 3.13 working on this home reads only the ignored one. Remove it once no "
        "such Barman uses the home",
        unit_path("pg/wals/xlog.db"), unit_path("pg/wals/pg-xlog.db"));
    assert_string_equal(text, want);
    free(text);
    free(want);
}

static void test_op_xdb_load_repairs_a_cut_last_line(void **state)
{
    (void)state;
    /* a writer killed while appending the line of ...04 */
    archive_segment("000000010000000000000003", COMP_GZIP, 1795491100);
    archive_segment("000000010000000000000004", COMP_GZIP, 1795491200);
    struct strbuf old = {0};
    expect_line(&old, "000000010000000000000003", 1795491100, "gzip");
    sb_append(&old, "000000010000000000000004\t16");
    ofx_xlogdb("pg", sb_str(&old));

    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(op_xdb_load(&ofx.ctx, pg(), &db, &err), 0);
    assert_int_equal(db.n, 2);
    assert_string_equal(db.entries[1].name, "000000010000000000000004");
    assert_string_equal(db.entries[1].compression, "gzip");
    xdb_free(&db);

    struct strbuf want = {0};
    expect_line(&want, "000000010000000000000003", 1795491100, "gzip");
    expect_line(&want, "000000010000000000000004", 1795491200, "gzip");
    char *got = ofx_read_xlogdb("pg");
    assert_string_equal(got, sb_str(&want));
    free(got);
    sb_free(&want);
    /* the damaged file is kept, byte for byte */
    struct stor_names names;
    assert_int_equal(stor_list_dir(unit_path("pg/wals"), NULL, NULL, &names, NULL), 0);
    const char *copy = NULL;
    for (size_t i = 0; i < names.n; i++)
        if (cel_str_starts(names.names[i], "xlog.db.damaged-"))
            copy = names.names[i];
    assert_non_null(copy);
    char *rel = cel_xasprintf("pg/wals/%s", copy);
    char *kept = unit_read(unit_path(rel));
    assert_string_equal(kept, sb_str(&old));
    free(kept);
    free(rel);
    stor_names_free(&names);
    sb_free(&old);
    assert_non_null(strstr(ofx_events(), "line 2 was cut short (a writer was killed) and is "
                                         "repaired"));
    assert_non_null(strstr(ofx_events(), "1 archived file named '000000010000000000000004' "
                                         "catalogued again from the archive"));
}

static void test_op_xdb_load_refuses_other_damage(void **state)
{
    (void)state;
    ofx_xlogdb("pg", "000000010000000000000003\tbig\t1795491100.0\tgzip\n"
                     "000000010000000000000004\t16\t1795491200.0\tgzip\n");
    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(op_xdb_load(&ofx.ctx, pg(), &db, &err), -CEL_E_FORMAT);
    assert_non_null(strstr(err.msg, "xlog.db"));
    char *hint = cel_xasprintf("Run 'cellar rebuild-xlogdb pg': it writes xlog.db anew from the "
                               "files in '%s/pg/wals'.",
                               unit_tmp);
    assert_string_equal(err.hint, hint);
    free(hint);
    /* nothing was rewritten */
    char *got = ofx_read_xlogdb("pg");
    assert_true(cel_str_starts(got, "000000010000000000000003\tbig\t"));
    free(got);
    assert_int_equal(unit_count_entries(unit_path("pg/wals")), 1);
}

/* ---- the WAL purge ---------------------------------------------------------------- */

/* A DONE backup of "pg" beginning at begin_wal. */
static void done_backup(const char *id, const char *begin_wal)
{
    char *info = cel_xasprintf("begin_time=2026-11-24 00:00:00+00:00\nbegin_wal=%s\n"
                               "end_time=2026-11-24 00:05:00+00:00\nend_wal=%s\n"
                               "server_name=pg\nsize=8192\nstatus=DONE\ntimeline=1\n",
                               begin_wal, begin_wal);
    write_backup("pg", id, info);
    free(info);
}

/* Archive of "pg" for the purge: two segments in hash directory
 * 0000000100000000, three in 0000000100000001, a history file. */
static const char *const purge_files[] = {
    "0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000001",
    "000000010000000100000002", "000000010000000100000003", "00000002.history",
};

static char *purge_xlogdb(size_t from)
{
    struct strbuf sb = {0};
    for (size_t i = from; i < CEL_ARRAY_LEN(purge_files); i++)
        sb_appendf(&sb, "%s\t100\t1795491700.5\tgzip\n", purge_files[i]);
    char *text = cel_xstrdup(sb_str(&sb));
    sb_free(&sb);
    return text;
}

static void write_purge_archive(void)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(purge_files); i++)
        ofx_wal("pg", purge_files[i], "x", 0);
    char *db = purge_xlogdb(0);
    ofx_xlogdb("pg", db);
    free(db);
}

static void test_op_wal_purge_when_the_first_backup_completes(void **state)
{
    (void)state;
    write_backup("pg", "20261123T000000", "status=FAILED\nserver_name=pg\nerror=boom\n");
    done_backup("20261124T000000", "000000010000000100000002");
    write_purge_archive();
    struct cel_err err = {0};
    assert_int_equal(op_wal_purge_before_first(&ofx.ctx, pg(), &err), 0);
    /* what lies before the backup's begin WAL goes, the history stays */
    char *want = purge_xlogdb(3);
    char *got = ofx_read_xlogdb("pg");
    assert_string_equal(got, want);
    free(got);
    free(want);
    for (size_t i = 0; i < CEL_ARRAY_LEN(purge_files); i++)
        assert_true(ofx_exists(ofx_wal_rel("pg", purge_files[i])) == (i >= 3));
    /* the emptied hash directory goes, the other stays */
    assert_false(ofx_exists("pg/wals/0000000100000000"));
    assert_true(ofx_exists("pg/wals/0000000100000001"));
    ofx_assert_event("log INFO pg: removed 3 WAL files older than backup 20261124T000000 "
                     "(000000010000000100000002)");
}

static void test_op_wal_purge_only_for_the_first_backup(void **state)
{
    (void)state;
    /* a second complete backup: the WAL may serve the first one's PITR */
    done_backup("20261124T000000", "000000010000000100000002");
    done_backup("20261125T000000", "000000010000000100000003");
    write_purge_archive();
    struct cel_err err = {0};
    assert_int_equal(op_wal_purge_before_first(&ofx.ctx, pg(), &err), 0);
    char *want = purge_xlogdb(0);
    char *got = ofx_read_xlogdb("pg");
    assert_string_equal(got, want);
    free(got);
    free(want);
    for (size_t i = 0; i < CEL_ARRAY_LEN(purge_files); i++)
        assert_true(ofx_exists(ofx_wal_rel("pg", purge_files[i])));
    assert_string_equal(ofx_events(), "");
}

static void test_op_wal_purge_a_retry_hook_keeps_a_file(void **state)
{
    (void)state;
    /* pre_wal_delete_retry_script exit 63 (ABORT_STOP) keeps that file */
    char *conf = cel_xasprintf(
        "[pg]\nconninfo = host=/nonexistent\n"
        "pre_wal_delete_retry_script = [ \"$BARMAN_SEGMENT\" = 0000000100000000000000FF ] && exit "
        "63; exit 0\n"
        "post_wal_delete_script = echo \"$BARMAN_SEGMENT $BARMAN_COMPRESSION\" >>%s/hooks\n",
        unit_tmp);
    assert_int_equal(ofx_config(conf), 0);
    free(conf);
    done_backup("20261124T000000", "000000010000000100000002");
    write_purge_archive();
    struct cel_err err = {0};
    assert_int_equal(op_wal_purge_before_first(&ofx.ctx, pg(), &err), 0);
    assert_false(ofx_exists(ofx_wal_rel("pg", purge_files[0])));
    assert_true(ofx_exists(ofx_wal_rel("pg", purge_files[1])));
    assert_false(ofx_exists(ofx_wal_rel("pg", purge_files[2])));
    char *got = ofx_read_xlogdb("pg");
    assert_true(cel_str_starts(got, "0000000100000000000000FF\t100\t"));
    assert_null(strstr(got, purge_files[0]));
    assert_null(strstr(got, purge_files[2]));
    free(got);
    /* its hash directory still holds it */
    assert_true(ofx_exists("pg/wals/0000000100000000"));
    char *hooks = unit_read(unit_path("hooks"));
    assert_non_null(hooks);
    assert_string_equal(hooks, "0000000100000000000000FE gzip\n000000010000000100000001 gzip\n");
    free(hooks);
    ofx_assert_event("log INFO pg: removed 2 WAL files older than backup 20261124T000000 "
                     "(000000010000000100000002)");
}

static void test_op_wal_purge_nothing_when_a_backup_is_unreadable(void **state)
{
    (void)state;
    write_backup("pg", "20261123T000000", "status=DONE\nsize=lots\n");
    done_backup("20261124T000000", "000000010000000100000002");
    write_purge_archive();
    const struct cfg_server *s = pg();
    struct cat_list list;
    struct cel_err err = {0};
    assert_int_equal(cat_list_load(s->basebackups_directory, &list, &err), 0);
    assert_int_equal(list.n, 2);
    size_t removed = 99;
    assert_int_equal(op_wal_remove_before(&ofx.ctx, s, &list.items[1], &list, -1, &removed, &err),
                     0);
    cat_list_free(&list);
    assert_int_equal(removed, 0);
    char *want = purge_xlogdb(0);
    char *got = ofx_read_xlogdb("pg");
    assert_string_equal(got, want);
    free(got);
    free(want);
    assert_non_null(strstr(ofx_events(), "log WARNING pg: no WAL removed: backup "
                                         "20261123T000000 cannot be read and may need it ("));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, ofx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_op_rebuild_xlogdb_from_the_archive),
        T(test_op_rebuild_xlogdb_over_a_damaged_xlogdb),
        T(test_op_rebuild_xlogdb_unknown_content_is_custom),
        T(test_op_rebuild_xlogdb_every_server),
        T(test_op_rebuild_xlogdb_new_style_home),
        T(test_op_rebuild_xlogdb_moves_to_xlogdb_directory),
        T(test_op_rebuild_xlogdb_both_names_warns),
        T(test_op_xdb_ignored_text_forced_3_4),
        T(test_op_xdb_load_repairs_a_cut_last_line),
        T(test_op_xdb_load_refuses_other_damage),
        T(test_op_wal_purge_when_the_first_backup_completes),
        T(test_op_wal_purge_only_for_the_first_backup),
        T(test_op_wal_purge_a_retry_hook_keeps_a_file),
        T(test_op_wal_purge_nothing_when_a_backup_is_unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
