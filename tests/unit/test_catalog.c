/*
 * Unit tests of src/core/catalog/catalog.c: backup.info in Barman 3's format and a
 * server's list of backups.
 *
 * The three complete examples are those of barman-format.md section 2.6.
 * Each was checked with Barman 3.4 itself while writing the test: loading it
 * with barman.infofile.BackupInfo.load() and saving it again gives the same
 * bytes, so "cellar writes back the same text" means "cellar writes what
 * Barman writes".
 */
#include "unit.h"

#include <dirent.h>
#include <time.h>

#include "catalog.h"

/* ---- the examples --------------------------------------------------------- */

#define RSYNC_LABEL                                                                                \
    "START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\n"                              \
    "CHECKPOINT LOCATION: 0/4000060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\n"              \
    "START TIME: 2026-11-24 03:42:24 UTC\nLABEL: Barman backup pglr 20261124T034224\n"             \
    "START TIMELINE: 1\n"

/* rsync-family backup with a tablespace (local-rsync, concurrent) */
static const char rsync_info[] =
    "backup_label='START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\\n"
    "CHECKPOINT LOCATION: 0/4000060\\nBACKUP METHOD: streamed\\nBACKUP FROM: primary\\n"
    "START TIME: 2026-11-24 03:42:24 UTC\\nLABEL: Barman backup pglr 20261124T034224\\n"
    "START TIMELINE: 1\\n'\n"
    "begin_offset=40\n"
    "begin_time=2026-11-24 03:42:24.447250+00:00\n"
    "begin_wal=000000010000000000000004\n"
    "begin_xlog=0/4000028\n"
    "compression=None\n"
    "config_file=/srv/pg/15/main/postgresql.conf\n"
    "copy_stats={'total_time': 0.608651, 'number_of_workers': 1, 'analysis_time_per_item': "
    "{'tbs1': 0.11794, 'pgdata': 0.132975}, 'copy_time_per_item': {'tbs1': 0.084523, "
    "'pgdata': 0.220001, 'pg_control': 0.0282}, 'serialized_copy_time_per_item': {'tbs1': "
    "0.083799, 'pgdata': 0.217374, 'pg_control': 0.0282}, 'analysis_time': 0.250923, "
    "'copy_time': 0.34123, 'serialized_copy_time': 0.329373}\n"
    "deduplicated_size=23058794\n"
    "end_offset=256\n"
    "end_time=2026-11-24 03:42:25.119529+00:00\n"
    "end_wal=000000010000000000000004\n"
    "end_xlog=0/4000100\n"
    "error=None\n"
    "hba_file=/srv/pg/15/main/pg_hba.conf\n"
    "ident_file=/srv/pg/15/main/pg_ident.conf\n"
    "included_files=None\n"
    "mode=rsync-concurrent\n"
    "pgdata=/srv/pg/15/main\n"
    "server_name=pglr\n"
    "size=23058794\n"
    "status=DONE\n"
    "systemid=7711578238752250018\n"
    "tablespaces=[('tbs1', 16384, '/srv/pg/tbs1')]\n"
    "timeline=1\n"
    "version=150018\n"
    "xlog_segment_size=16777216\n";

/* postgres (pg_basebackup) backup taken with --name pgname, ending on a
 * segment boundary */
static const char postgres_info[] =
    "backup_label='START WAL LOCATION: 0/8000028 (file 000000010000000000000008)\\n"
    "CHECKPOINT LOCATION: 0/8000060\\nBACKUP METHOD: streamed\\nBACKUP FROM: primary\\n"
    "START TIME: 2026-11-24 03:42:50 UTC\\nLABEL: pg_basebackup base backup\\n"
    "START TIMELINE: 1\\n'\n"
    "backup_name=pgname\n"
    "begin_offset=40\n"
    "begin_time=2026-11-24 03:42:50.251102+00:00\n"
    "begin_wal=000000010000000000000008\n"
    "begin_xlog=0/8000028\n"
    "compression=None\n"
    "config_file=/srv/pg/15/main/postgresql.conf\n"
    "copy_stats={'copy_time': 1.250517, 'total_time': 1.250517}\n"
    "deduplicated_size=23101440\n"
    "end_offset=0\n"
    "end_time=2026-11-24 03:42:51.501619+00:00\n"
    "end_wal=000000010000000000000008\n"
    "end_xlog=0/9000000\n"
    "error=None\n"
    "hba_file=/srv/pg/15/main/pg_hba.conf\n"
    "ident_file=/srv/pg/15/main/pg_ident.conf\n"
    "included_files=None\n"
    "mode=postgres\n"
    "pgdata=/srv/pg/15/main\n"
    "server_name=pgpg\n"
    "size=23101440\n"
    "status=DONE\n"
    "systemid=7711578238752250018\n"
    "tablespaces=[('tbs1', 16384, '/srv/pg/tbs1')]\n"
    "timeline=1\n"
    "version=150018\n"
    "xlog_segment_size=16777216\n";

/* FAILED backup (a pre-backup retry hook returned 63): all 27 keys, every
 * data key None */
static const char failed_info[] =
    "backup_label=None\n"
    "begin_offset=None\n"
    "begin_time=None\n"
    "begin_wal=None\n"
    "begin_xlog=None\n"
    "compression=None\n"
    "config_file=None\n"
    "copy_stats=None\n"
    "deduplicated_size=None\n"
    "end_offset=None\n"
    "end_time=None\n"
    "end_wal=None\n"
    "end_xlog=None\n"
    "error=failure starting backup (Abort 'pre_backup_retry_script' retry hook script "
    "(/srv/hooks/pre_retry.sh, exit code: 63))\n"
    "hba_file=None\n"
    "ident_file=None\n"
    "included_files=None\n"
    "mode=rsync-concurrent\n"
    "pgdata=None\n"
    "server_name=pglr\n"
    "size=None\n"
    "status=FAILED\n"
    "systemid=7711578238752250018\n"
    "tablespaces=None\n"
    "timeline=None\n"
    "version=None\n"
    "xlog_segment_size=16777216\n";

/* A backup.info as Barman 1.x wrote it: only the 21 keys of that era. */
static const char legacy_info[] = "backup_label=None\n"
                                  "begin_offset=40\n"
                                  "begin_time=2015-03-02 10:11:12.131415+01:00\n"
                                  "begin_wal=000000010000000000000004\n"
                                  "begin_xlog=0/4000028\n"
                                  "config_file=/var/lib/pgsql/9.4/data/postgresql.conf\n"
                                  "end_offset=184\n"
                                  "end_time=2015-03-02 10:11:19.202122+01:00\n"
                                  "end_wal=000000010000000000000004\n"
                                  "end_xlog=0/40000B8\n"
                                  "error=None\n"
                                  "hba_file=/var/lib/pgsql/9.4/data/pg_hba.conf\n"
                                  "ident_file=/var/lib/pgsql/9.4/data/pg_ident.conf\n"
                                  "mode=default\n"
                                  "pgdata=/var/lib/pgsql/9.4/data\n"
                                  "server_name=old\n"
                                  "size=20935690\n"
                                  "status=DONE\n"
                                  "tablespaces=[('ts_old', 16385, '/srv/ts_old')]\n"
                                  "timeline=1\n"
                                  "version=90400\n";

/* ---- helpers ---------------------------------------------------------------- */

/* Parse text with the name "backup.info"; the result must be success. */
static void parse_ok(const char *text, struct cat_backup *b)
{
    struct cel_err err = {0};
    memset(b, 0, sizeof *b);
    int rc = cat_info_parse(text, "backup.info", b, &err);
    if (rc != 0)
        fail_msg("unexpected error %d: %s", rc, err.msg);
}

/* Parse text that must fail with CEL_E_FORMAT and exactly msg. */
static void assert_parse_error(const char *text, const char *msg)
{
    struct cat_backup b;
    memset(&b, 0, sizeof b);
    struct cel_err err = {0};
    assert_int_equal(cat_info_parse(text, "backup.info", &b, &err), -CEL_E_FORMAT);
    assert_int_equal(err.code, CEL_E_FORMAT);
    assert_string_equal(err.msg, msg);
    /* nothing half-filled is left behind */
    assert_null(b.begin_wal);
    assert_null(b.server_name);
    assert_null(b.tablespaces);
    assert_int_equal(b.n_extra, 0);
    cat_backup_clear(&b);
}

/* cat_info_format(b) must equal expected exactly. */
static void assert_formats_as(const struct cat_backup *b, const char *expected)
{
    struct strbuf sb = {0};
    cat_info_format(b, &sb);
    assert_string_equal(sb_str(&sb), expected);
    sb_free(&sb);
}

/* The formatted timestamp of t ("" when not set). */
static const char *time_text(struct cat_time t)
{
    static char buf[TS_MAX];
    buf[0] = '\0';
    if (t.set)
        ts_format(&t.t, buf);
    return buf;
}

/* repr() of a Python value, for comparing literals. */
static const char *repr_of(const struct py_value *v)
{
    static char buf[1024];
    struct strbuf sb = {0};
    py_repr(v, &sb);
    snprintf(buf, sizeof buf, "%s", sb_str(&sb));
    sb_free(&sb);
    return buf;
}

static void assert_int_field(struct cat_int f, int64_t v)
{
    assert_true(f.set);
    assert_int_equal(f.v, v);
}

/* ---- the three examples ------------------------------------------------------ */

static void test_cat_info_parse_rsync_example(void **state)
{
    (void)state;
    struct cat_backup b;
    parse_ok(rsync_info, &b);
    assert_null(b.id);
    assert_string_equal(b.backup_label, RSYNC_LABEL);
    assert_null(b.backup_name);
    assert_int_field(b.begin_offset, 40);
    assert_string_equal(time_text(b.begin_time), "2026-11-24 03:42:24.447250+00:00");
    assert_int_equal(b.begin_time.t.sec, 1795491744);
    assert_int_equal(b.begin_time.t.usec, 447250);
    assert_int_equal(b.begin_time.t.offset, 0);
    assert_true(b.begin_time.t.has_offset);
    assert_string_equal(b.begin_wal, "000000010000000000000004");
    assert_string_equal(b.begin_xlog, "0/4000028");
    assert_null(b.compression);
    assert_string_equal(b.config_file, "/srv/pg/15/main/postgresql.conf");
    assert_non_null(b.copy_stats);
    assert_int_equal(b.copy_stats->kind, PY_DICT);
    assert_int_equal(b.copy_stats->n, 8);
    double d = 0;
    assert_true(py_as_double(py_dict_get(b.copy_stats, "copy_time"), &d));
    assert_true(d == 0.34123);
    assert_true(py_as_double(py_dict_get(b.copy_stats, "analysis_time"), &d));
    assert_true(d == 0.250923);
    assert_true(py_as_double(py_dict_get(b.copy_stats, "number_of_workers"), &d));
    assert_true(d == 1);
    assert_string_equal(repr_of(py_dict_get(b.copy_stats, "copy_time_per_item")),
                        "{'tbs1': 0.084523, 'pgdata': 0.220001, 'pg_control': 0.0282}");
    assert_int_field(b.deduplicated_size, 23058794);
    assert_int_field(b.end_offset, 256);
    assert_string_equal(time_text(b.end_time), "2026-11-24 03:42:25.119529+00:00");
    assert_string_equal(b.end_wal, "000000010000000000000004");
    assert_string_equal(b.end_xlog, "0/4000100");
    assert_null(b.error);
    assert_string_equal(b.hba_file, "/srv/pg/15/main/pg_hba.conf");
    assert_string_equal(b.ident_file, "/srv/pg/15/main/pg_ident.conf");
    assert_null(b.included_files);
    assert_string_equal(b.mode, "rsync-concurrent");
    assert_string_equal(b.pgdata, "/srv/pg/15/main");
    assert_string_equal(b.server_name, "pglr");
    assert_int_field(b.size, 23058794);
    assert_null(b.snapshots_info);
    assert_int_equal(b.status, CAT_DONE);
    assert_string_equal(b.systemid, "7711578238752250018");
    assert_int_equal(b.n_tablespaces, 1);
    assert_string_equal(b.tablespaces[0].name, "tbs1");
    assert_int_equal(b.tablespaces[0].oid, 16384);
    assert_string_equal(b.tablespaces[0].location, "/srv/pg/tbs1");
    assert_int_field(b.timeline, 1);
    assert_int_field(b.version, 150018);
    assert_int_field(b.xlog_segment_size, 16777216);
    assert_int_equal(b.n_extra, 0);
    cat_backup_clear(&b);
    assert_null(b.backup_label);
    assert_null(b.tablespaces);
    assert_false(b.size.set);
}

static void test_cat_info_parse_postgres_example(void **state)
{
    (void)state;
    struct cat_backup b;
    parse_ok(postgres_info, &b);
    assert_string_equal(b.backup_label,
                        "START WAL LOCATION: 0/8000028 (file 000000010000000000000008)\n"
                        "CHECKPOINT LOCATION: 0/8000060\nBACKUP METHOD: streamed\n"
                        "BACKUP FROM: primary\nSTART TIME: 2026-11-24 03:42:50 UTC\n"
                        "LABEL: pg_basebackup base backup\nSTART TIMELINE: 1\n");
    assert_string_equal(b.backup_name, "pgname");
    assert_int_field(b.begin_offset, 40);
    assert_string_equal(time_text(b.begin_time), "2026-11-24 03:42:50.251102+00:00");
    assert_string_equal(b.begin_wal, "000000010000000000000008");
    assert_string_equal(b.begin_xlog, "0/8000028");
    assert_null(b.compression);
    assert_string_equal(b.config_file, "/srv/pg/15/main/postgresql.conf");
    assert_string_equal(repr_of(b.copy_stats), "{'copy_time': 1.250517, 'total_time': 1.250517}");
    assert_int_field(b.deduplicated_size, 23101440);
    assert_int_field(b.end_offset, 0);
    assert_string_equal(time_text(b.end_time), "2026-11-24 03:42:51.501619+00:00");
    assert_int_equal(b.end_time.t.sec, 1795491771);
    assert_int_equal(b.end_time.t.usec, 501619);
    assert_string_equal(b.end_wal, "000000010000000000000008");
    assert_string_equal(b.end_xlog, "0/9000000");
    assert_null(b.error);
    assert_string_equal(b.hba_file, "/srv/pg/15/main/pg_hba.conf");
    assert_string_equal(b.ident_file, "/srv/pg/15/main/pg_ident.conf");
    assert_null(b.included_files);
    assert_string_equal(b.mode, "postgres");
    assert_string_equal(b.pgdata, "/srv/pg/15/main");
    assert_string_equal(b.server_name, "pgpg");
    assert_int_field(b.size, 23101440);
    assert_null(b.snapshots_info);
    assert_int_equal(b.status, CAT_DONE);
    assert_string_equal(b.systemid, "7711578238752250018");
    assert_int_equal(b.n_tablespaces, 1);
    assert_string_equal(b.tablespaces[0].name, "tbs1");
    assert_int_equal(b.tablespaces[0].oid, 16384);
    assert_string_equal(b.tablespaces[0].location, "/srv/pg/tbs1");
    assert_int_field(b.timeline, 1);
    assert_int_field(b.version, 150018);
    assert_int_field(b.xlog_segment_size, 16777216);
    assert_int_equal(b.n_extra, 0);
    cat_backup_clear(&b);
}

static void test_cat_info_parse_failed_example(void **state)
{
    (void)state;
    struct cat_backup b;
    parse_ok(failed_info, &b);
    assert_null(b.backup_label);
    assert_null(b.backup_name);
    assert_false(b.begin_offset.set);
    assert_false(b.begin_time.set);
    assert_null(b.begin_wal);
    assert_null(b.begin_xlog);
    assert_null(b.compression);
    assert_null(b.config_file);
    assert_null(b.copy_stats);
    assert_false(b.deduplicated_size.set);
    assert_false(b.end_offset.set);
    assert_false(b.end_time.set);
    assert_null(b.end_wal);
    assert_null(b.end_xlog);
    assert_string_equal(b.error, "failure starting backup (Abort 'pre_backup_retry_script' retry "
                                 "hook script (/srv/hooks/pre_retry.sh, exit code: 63))");
    assert_null(b.hba_file);
    assert_null(b.ident_file);
    assert_null(b.included_files);
    assert_string_equal(b.mode, "rsync-concurrent");
    assert_null(b.pgdata);
    assert_string_equal(b.server_name, "pglr");
    assert_false(b.size.set);
    assert_null(b.snapshots_info);
    assert_int_equal(b.status, CAT_FAILED);
    assert_string_equal(b.systemid, "7711578238752250018");
    assert_null(b.tablespaces);
    assert_int_equal(b.n_tablespaces, 0);
    assert_false(b.timeline.set);
    assert_false(b.version.set);
    assert_int_field(b.xlog_segment_size, 16777216);
    cat_backup_clear(&b);
}

static void test_cat_info_format_examples_byte_identical(void **state)
{
    (void)state;
    const char *const examples[] = {rsync_info, postgres_info, failed_info};
    for (size_t i = 0; i < CEL_ARRAY_LEN(examples); i++) {
        struct cat_backup b;
        parse_ok(examples[i], &b);
        assert_formats_as(&b, examples[i]);
        /* and the output reads back to the same thing again */
        struct strbuf sb = {0};
        cat_info_format(&b, &sb);
        struct cat_backup again;
        parse_ok(sb_str(&sb), &again);
        assert_formats_as(&again, examples[i]);
        sb_free(&sb);
        cat_backup_clear(&again);
        cat_backup_clear(&b);
    }
}

/* ---- parsing rules ---------------------------------------------------------- */

static void test_cat_info_parse_skips_blank_and_comment_lines(void **state)
{
    (void)state;
    struct cat_backup b;
    parse_ok("# written by hand\n\n   \n\t\nstatus=DONE\n#status=FAILED\n   # size=1\n"
             "size=5\n\n",
             &b);
    assert_int_equal(b.status, CAT_DONE);
    assert_int_field(b.size, 5);
    assert_int_equal(b.n_extra, 0);
    cat_backup_clear(&b);
}

static void test_cat_info_parse_strips_spaces_around_equals(void **state)
{
    (void)state;
    struct cat_backup b;
    /* split at the first '=': the value keeps later ones */
    parse_ok("  status = DONE \n"
             "size\t=\t42\r\n"
             "error = a = b \n"
             "begin_wal =   000000010000000000000004\n"
             "pgdata=\n",
             &b);
    assert_int_equal(b.status, CAT_DONE);
    assert_int_field(b.size, 42);
    assert_string_equal(b.error, "a = b");
    assert_string_equal(b.begin_wal, "000000010000000000000004");
    /* an empty value is an empty string, not None */
    assert_non_null(b.pgdata);
    assert_string_equal(b.pgdata, "");
    cat_backup_clear(&b);
}

static void test_cat_info_parse_later_duplicate_wins(void **state)
{
    (void)state;
    struct cat_backup b;
    parse_ok("status=FAILED\nsize=1\nerror=first\n"
             "tablespaces=[('a', 1, '/a'), ('b', 2, '/b')]\n"
             "status=DONE\nsize=None\nerror=second\ntablespaces=[('c', 3, '/c')]\n"
             "copy_stats={'copy_time': 1.0}\ncopy_stats={'copy_time': 2.5}\n",
             &b);
    assert_int_equal(b.status, CAT_DONE);
    assert_false(b.size.set);
    assert_string_equal(b.error, "second");
    assert_int_equal(b.n_tablespaces, 1);
    assert_string_equal(b.tablespaces[0].name, "c");
    assert_string_equal(repr_of(b.copy_stats), "{'copy_time': 2.5}");
    cat_backup_clear(&b);
}

static void test_cat_info_parse_none_is_null(void **state)
{
    (void)state;
    struct cat_backup b;
    parse_ok("backup_label=None\nbegin_offset=None\nbegin_time=None\nbegin_wal=None\n"
             "begin_xlog=None\ncopy_stats=None\ntablespaces=None\nstatus=None\n"
             "xlog_segment_size=None\nmode=none\n",
             &b);
    assert_null(b.backup_label);
    assert_false(b.begin_offset.set);
    assert_false(b.begin_time.set);
    assert_null(b.begin_wal);
    assert_null(b.begin_xlog);
    assert_null(b.copy_stats);
    assert_null(b.tablespaces);
    assert_int_equal(b.status, CAT_EMPTY);
    /* None read for xlog_segment_size is the default too */
    assert_int_field(b.xlog_segment_size, 16777216);
    /* only the exact word is None */
    assert_string_equal(b.mode, "none");
    cat_backup_clear(&b);
    assert_parse_error("begin_offset=NONE\n",
                       "backup.info:1: begin_offset: invalid integer 'NONE'");
}

static void test_cat_info_parse_unknown_keys_kept_in_alphabetical_position(void **state)
{
    (void)state;
    struct cat_backup b;
    /* children_backup_ids is a key of later Barman versions, unknown to 3.4 */
    parse_ok("zz_last = 1\nstatus=DONE\nfoo = bar baz\naaa=None\nfoo=again\n"
             "children_backup_ids=None\n",
             &b);
    assert_int_equal(b.status, CAT_DONE);
    /* kept in file order, verbatim ("None" too), a duplicate replaced */
    assert_int_equal(b.n_extra, 4);
    assert_string_equal(b.extra[0].key, "zz_last");
    assert_string_equal(b.extra[0].value, "1");
    assert_string_equal(b.extra[1].key, "foo");
    assert_string_equal(b.extra[1].value, "again");
    assert_string_equal(b.extra[2].key, "aaa");
    assert_string_equal(b.extra[2].value, "None");
    assert_string_equal(b.extra[3].key, "children_backup_ids");
    assert_string_equal(b.extra[3].value, "None");
    cat_backup_clear(&b);
    assert_null(b.extra);
    assert_int_equal(b.n_extra, 0);
}

static void test_cat_info_parse_missing_keys_and_defaults(void **state)
{
    (void)state;
    struct cat_backup b;
    parse_ok("", &b);
    assert_int_equal(b.status, CAT_EMPTY);
    assert_int_field(b.xlog_segment_size, 16777216);
    assert_null(b.server_name);
    assert_null(b.mode);
    assert_false(b.size.set);
    assert_formats_as(&b, "backup_label=None\nbegin_offset=None\nbegin_time=None\n"
                          "begin_wal=None\nbegin_xlog=None\ncompression=None\n"
                          "config_file=None\ncopy_stats=None\ndeduplicated_size=None\n"
                          "end_offset=None\nend_time=None\nend_wal=None\nend_xlog=None\n"
                          "error=None\nhba_file=None\nident_file=None\n"
                          "included_files=None\nmode=None\npgdata=None\n"
                          "server_name=None\nsize=None\nstatus=EMPTY\nsystemid=None\n"
                          "tablespaces=None\ntimeline=None\nversion=None\n"
                          "xlog_segment_size=16777216\n");
    cat_backup_clear(&b);

    parse_ok("xlog_segment_size=67108864\n", &b);
    assert_int_field(b.xlog_segment_size, 67108864);
    cat_backup_clear(&b);
}

static void test_cat_info_format_hides_null_name_and_snapshots(void **state)
{
    (void)state;
    struct cat_backup b;
    /* rsync example with explicit None for the two hidden keys */
    struct strbuf text = {0};
    sb_append(&text, rsync_info);
    sb_append(&text, "backup_name=None\nsnapshots_info=None\n");
    parse_ok(sb_str(&text), &b);
    assert_null(b.backup_name);
    assert_null(b.snapshots_info);
    assert_formats_as(&b, rsync_info);
    cat_backup_clear(&b);

    /* set, they are written in their alphabetical places */
    parse_ok("status=DONE\nbackup_name=nightly one\n"
             "snapshots_info={'provider': 'gcp', 'provider_info': {'project': 'p'}, "
             "'snapshots': []}\n",
             &b);
    assert_string_equal(b.backup_name, "nightly one");
    struct strbuf sb = {0};
    cat_info_format(&b, &sb);
    assert_non_null(strstr(sb_str(&sb), "backup_label=None\nbackup_name=nightly one\n"
                                        "begin_offset=None\n"));
    assert_non_null(strstr(sb_str(&sb), "size=None\nsnapshots_info={'provider': 'gcp', "
                                        "'provider_info': {'project': 'p'}, 'snapshots': []}\n"
                                        "status=DONE\n"));
    sb_free(&sb);
    sb_free(&text);
    cat_backup_clear(&b);
}

static void test_cat_info_format_unknown_keys_in_alphabetical_position(void **state)
{
    (void)state;
    struct cat_backup b;
    parse_ok("status=DONE\nzz_last = 1\nfoo = bar baz\naaa=None\nbackup_labels=x\n"
             "snapshots_infoo=y\n",
             &b);
    assert_int_equal(b.n_extra, 5);
    assert_formats_as(&b, "aaa=None\n"
                          "backup_label=None\n"
                          "backup_labels=x\n"
                          "begin_offset=None\nbegin_time=None\n"
                          "begin_wal=None\nbegin_xlog=None\ncompression=None\n"
                          "config_file=None\ncopy_stats=None\ndeduplicated_size=None\n"
                          "end_offset=None\nend_time=None\nend_wal=None\nend_xlog=None\n"
                          "error=None\n"
                          "foo=bar baz\n"
                          "hba_file=None\nident_file=None\n"
                          "included_files=None\nmode=None\npgdata=None\n"
                          "server_name=None\nsize=None\n"
                          "snapshots_infoo=y\n"
                          "status=DONE\nsystemid=None\n"
                          "tablespaces=None\ntimeline=None\nversion=None\n"
                          "xlog_segment_size=16777216\n"
                          "zz_last=1\n");
    cat_backup_clear(&b);
}

static void test_cat_info_parse_barman_1_x_file(void **state)
{
    (void)state;
    struct cat_backup b;
    parse_ok(legacy_info, &b);
    assert_null(b.backup_label);
    assert_int_field(b.begin_offset, 40);
    assert_string_equal(time_text(b.begin_time), "2015-03-02 10:11:12.131415+01:00");
    assert_int_equal(b.begin_time.t.offset, 3600);
    assert_string_equal(b.begin_wal, "000000010000000000000004");
    assert_string_equal(b.begin_xlog, "0/4000028");
    assert_string_equal(b.config_file, "/var/lib/pgsql/9.4/data/postgresql.conf");
    assert_int_field(b.end_offset, 184);
    assert_string_equal(time_text(b.end_time), "2015-03-02 10:11:19.202122+01:00");
    assert_string_equal(b.end_wal, "000000010000000000000004");
    assert_string_equal(b.end_xlog, "0/40000B8");
    assert_null(b.error);
    assert_string_equal(b.hba_file, "/var/lib/pgsql/9.4/data/pg_hba.conf");
    assert_string_equal(b.ident_file, "/var/lib/pgsql/9.4/data/pg_ident.conf");
    assert_string_equal(b.mode, "default");
    assert_string_equal(b.pgdata, "/var/lib/pgsql/9.4/data");
    assert_string_equal(b.server_name, "old");
    assert_int_field(b.size, 20935690);
    assert_int_equal(b.status, CAT_DONE);
    assert_int_equal(b.n_tablespaces, 1);
    assert_string_equal(b.tablespaces[0].name, "ts_old");
    assert_int_equal(b.tablespaces[0].oid, 16385);
    assert_string_equal(b.tablespaces[0].location, "/srv/ts_old");
    assert_int_field(b.timeline, 1);
    assert_int_field(b.version, 90400);
    /* the keys 3.x added are null, the segment size is the default */
    assert_false(b.deduplicated_size.set);
    assert_null(b.included_files);
    assert_null(b.copy_stats);
    assert_null(b.systemid);
    assert_null(b.compression);
    assert_null(b.backup_name);
    assert_int_field(b.xlog_segment_size, 16777216);
    assert_int_equal(b.n_extra, 0);
    cat_backup_clear(&b);
}

static void test_cat_info_format_python_literals(void **state)
{
    (void)state;
    struct cat_backup b;
    /* a label holding a quote is written in double quotes, as repr() does;
     * tablespaces written with double-quoted strings come back single */
    parse_ok("backup_label=\"LABEL: it's mine\\n\"\n"
             "tablespaces=[(\"tbs 1\", 16384, \"/srv/o'neil\"), ['t2', 16385, '/t2']]\n"
             "included_files=['/etc/pg/extra.conf']\n",
             &b);
    assert_string_equal(b.backup_label, "LABEL: it's mine\n");
    assert_int_equal(b.n_tablespaces, 2);
    assert_string_equal(b.tablespaces[1].location, "/t2");
    struct strbuf sb = {0};
    cat_info_format(&b, &sb);
    assert_true(cel_str_starts(sb_str(&sb), "backup_label=\"LABEL: it's mine\\n\"\n"));
    assert_non_null(strstr(sb_str(&sb), "\nincluded_files=['/etc/pg/extra.conf']\n"));
    assert_non_null(strstr(sb_str(&sb), "\ntablespaces=[('tbs 1', 16384, \"/srv/o'neil\"), "
                                        "('t2', 16385, '/t2')]\n"));
    sb_free(&sb);
    cat_backup_clear(&b);
}

static void test_cat_info_format_empty_literals_as_none(void **state)
{
    (void)state;
    struct cat_backup b;
    /* Barman's null_repr(): an empty label, list or dict is written None
     * (checked with Barman 3.4's BackupInfo.load() + save()) */
    parse_ok("backup_label=''\ncopy_stats={}\nincluded_files=[]\ntablespaces=[]\n", &b);
    assert_int_equal(b.n_tablespaces, 0);
    struct strbuf sb = {0};
    cat_info_format(&b, &sb);
    assert_true(cel_str_starts(sb_str(&sb), "backup_label=None\nbegin_offset=None\n"));
    assert_non_null(strstr(sb_str(&sb), "\ncopy_stats=None\n"));
    assert_non_null(strstr(sb_str(&sb), "\nincluded_files=None\n"));
    assert_non_null(strstr(sb_str(&sb), "\ntablespaces=None\n"));
    sb_free(&sb);
    cat_backup_clear(&b);
}

static void test_cat_info_format_keeps_values_on_one_line(void **state)
{
    (void)state;
    /* a newline inside a raw value would split it into a line Barman
     * cannot read: it is written as a space */
    struct cat_backup b = {0};
    b.status = CAT_FAILED;
    b.error = cel_xstrdup("first line\nsecond\rline");
    b.xlog_segment_size = (struct cat_int){true, 16777216};
    struct strbuf sb = {0};
    cat_info_format(&b, &sb);
    assert_non_null(strstr(sb_str(&sb), "\nerror=first line second line\n"));
    sb_free(&sb);
    cat_backup_clear(&b);
}

/* ---- bad input ---------------------------------------------------------------- */

static void test_cat_info_parse_line_without_equals(void **state)
{
    (void)state;
    assert_parse_error("status=DONE\nsize 42\n",
                       "backup.info:2: invalid line 'size 42': expected key=value");
    assert_parse_error("server_name=pg\n\n   begin_wal  \n",
                       "backup.info:3: invalid line 'begin_wal': expected key=value");
}

static void test_cat_info_parse_bad_integer(void **state)
{
    (void)state;
    assert_parse_error("size=12a\n", "backup.info:1: size: invalid integer '12a'");
    assert_parse_error("status=DONE\nbegin_offset=\n",
                       "backup.info:2: begin_offset: invalid integer ''");
    assert_parse_error("timeline=1.0\n", "backup.info:1: timeline: invalid integer '1.0'");
    assert_parse_error("version=-\n", "backup.info:1: version: invalid integer '-'");
    assert_parse_error("size=99999999999999999999\n",
                       "backup.info:1: size: invalid integer '99999999999999999999'");
    struct cat_backup b;
    parse_ok("size=+7\nend_offset=-1\n", &b);
    assert_int_field(b.size, 7);
    assert_int_field(b.end_offset, -1);
    cat_backup_clear(&b);
}

/* Every reader divides by xlog_segment_size (segment numbers, segments per
 * log): a value PostgreSQL cannot have is refused where backup.info is read,
 * naming the file, the line and the key, with the hint of the valid range. */
static void test_cat_info_parse_bad_xlog_segment_size(void **state)
{
    (void)state;
    assert_parse_error("status=DONE\nxlog_segment_size=0\n",
                       "backup.info:2: xlog_segment_size: invalid WAL segment size 0 bytes: not "
                       "a power of two");
    assert_parse_error("xlog_segment_size=-16777216\n",
                       "backup.info:1: xlog_segment_size: invalid WAL segment size -16777216 "
                       "bytes: not a power of two from 1 MiB to 1 GiB");
    assert_parse_error("xlog_segment_size=16777215\n",
                       "backup.info:1: xlog_segment_size: invalid WAL segment size 16777215 "
                       "bytes: not a power of two");
    assert_parse_error("xlog_segment_size=524288\n",
                       "backup.info:1: xlog_segment_size: invalid WAL segment size 524288 bytes: "
                       "smaller than 1 MiB");
    assert_parse_error("xlog_segment_size=2147483648\n",
                       "backup.info:1: xlog_segment_size: invalid WAL segment size 2147483648 "
                       "bytes: larger than 1 GiB");
    assert_parse_error("xlog_segment_size=16M\n",
                       "backup.info:1: xlog_segment_size: invalid integer '16M'");
    struct cat_backup b;
    memset(&b, 0, sizeof b);
    struct cel_err err = {0};
    assert_int_equal(cat_info_parse("xlog_segment_size=0\n", "x/backup.info", &b, &err),
                     -CEL_E_FORMAT);
    assert_string_equal(err.hint, "PostgreSQL's wal_segment_size is a power of two from 1 MiB to "
                                  "1 GiB (1048576 to 1073741824 bytes).");
    cat_backup_clear(&b);
    /* the bounds themselves are valid */
    parse_ok("xlog_segment_size=1048576\n", &b);
    assert_int_field(b.xlog_segment_size, 1048576);
    cat_backup_clear(&b);
    parse_ok("xlog_segment_size=1073741824\n", &b);
    assert_int_field(b.xlog_segment_size, 1073741824);
    struct strbuf sb = {0};
    cat_info_format(&b, &sb);
    assert_non_null(strstr(sb_str(&sb), "\nxlog_segment_size=1073741824\n"));
    sb_free(&sb);
    cat_backup_clear(&b);
}

static void test_cat_info_parse_bad_timestamp(void **state)
{
    (void)state;
    assert_parse_error(
        "begin_time=yesterday\n",
        "backup.info:1: begin_time: invalid timestamp 'yesterday': expected "
        "YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM] or a ctime() date like 'Thu Jan  1 00:00:05 2026'");
    assert_parse_error("status=DONE\nend_time=2026-13-24 03:42:25+00:00\n",
                       "backup.info:2: end_time: invalid timestamp '2026-13-24 03:42:25+00:00': "
                       "month 13 out of range 1..12");
}

static void test_cat_info_parse_bad_wal_name(void **state)
{
    (void)state;
    assert_parse_error("begin_wal=00000001000000000000000G\n",
                       "backup.info:1: begin_wal: invalid WAL file name "
                       "'00000001000000000000000G': character 24 ('G') is not a "
                       "hexadecimal digit");
    assert_parse_error("end_wal=0000000100000000000004\n",
                       "backup.info:1: end_wal: invalid WAL file name "
                       "'0000000100000000000004': expected 24 hexadecimal digits, found 22 "
                       "characters");
    /* a valid archive name that is not a segment */
    assert_parse_error("begin_wal=00000002.history\n",
                       "backup.info:1: begin_wal: '00000002.history' is not a WAL segment name");
    assert_parse_error("end_wal=000000010000000000000004.partial\n",
                       "backup.info:1: end_wal: '000000010000000000000004.partial' is not a "
                       "WAL segment name");
}

static void test_cat_info_parse_bad_lsn(void **state)
{
    (void)state;
    assert_parse_error("begin_xlog=0-4000028\n",
                       "backup.info:1: begin_xlog: invalid LSN '0-4000028': character 2 ('-') is "
                       "not a hexadecimal digit");
    assert_parse_error("status=DONE\nend_xlog=0/\n",
                       "backup.info:2: end_xlog: invalid LSN '0/': no hexadecimal digits after "
                       "'/'");
}

static void test_cat_info_parse_unknown_status(void **state)
{
    (void)state;
    assert_parse_error("status=done\n",
                       "backup.info:1: status: unknown status 'done' (expected EMPTY, STARTED, "
                       "WAITING_FOR_WALS, DONE, FAILED or SYNCING)");
    assert_parse_error("status=DONE \n# x\nstatus=OBSOLETE\n",
                       "backup.info:3: status: unknown status 'OBSOLETE' (expected EMPTY, "
                       "STARTED, WAITING_FOR_WALS, DONE, FAILED or SYNCING)");
}

static void test_cat_info_parse_bad_tablespaces(void **state)
{
    (void)state;
    assert_parse_error("tablespaces=[('tbs1', 16384)]\n",
                       "backup.info:1: tablespaces: tablespace 1 is not a (name, oid, location) "
                       "triple");
    assert_parse_error("tablespaces=[('a', 1, '/a'), ('tbs1', 16384, '/x', 'extra')]\n",
                       "backup.info:1: tablespaces: tablespace 2 is not a (name, oid, location) "
                       "triple");
    assert_parse_error("tablespaces=[('tbs1', '16384', '/srv/pg/tbs1')]\n",
                       "backup.info:1: tablespaces: tablespace 1 is not a (name, oid, location) "
                       "triple");
    assert_parse_error("tablespaces=[('tbs1', 16384.0, '/srv/pg/tbs1')]\n",
                       "backup.info:1: tablespaces: tablespace 1 is not a (name, oid, location) "
                       "triple");
    assert_parse_error("tablespaces=['tbs1']\n",
                       "backup.info:1: tablespaces: tablespace 1 is not a (name, oid, location) "
                       "triple");
    assert_parse_error("tablespaces={'tbs1': 16384}\n",
                       "backup.info:1: tablespaces: expected a list of (name, oid, location)");
    assert_parse_error("tablespaces=[('tbs1', 16384, '/srv/pg/tbs1')\n",
                       "backup.info:1: tablespaces: invalid Python literal at offset 32: "
                       "expected ',' or ']', found end of input");
}

static void test_cat_info_parse_bad_python_literal(void **state)
{
    (void)state;
    assert_parse_error("backup_label=START WAL LOCATION\n",
                       "backup.info:1: backup_label: invalid Python literal at offset 0: "
                       "unknown name 'START'");
    assert_parse_error("backup_label=42\n",
                       "backup.info:1: backup_label: expected a quoted string");
    assert_parse_error("copy_stats={'copy_time': 1.0\n",
                       "backup.info:1: copy_stats: invalid Python literal at offset 17: "
                       "expected ',' or '}', found end of input");
}

static void test_cat_info_read_nul_byte(void **state)
{
    (void)state;
    unit_mkdir("b");
    const char *path = unit_path("b/backup.info");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    static const char text[] = "status=DONE\nsize=42\nserver_name=pg\0garbage\nmode=x\n";
    assert_int_equal(fwrite(text, 1, sizeof text - 1, f), sizeof text - 1);
    assert_int_equal(fclose(f), 0);
    struct cat_backup b = {0};
    struct cel_err err = {0};
    assert_int_equal(cat_info_read(unit_path("b"), &b, &err), -CEL_E_FORMAT);
    assert_int_equal(err.code, CEL_E_FORMAT);
    char msg[4400];
    snprintf(msg, sizeof msg, "%s:3: contains a NUL byte", path);
    assert_string_equal(err.msg, msg);
    assert_int_equal(b.status, CAT_EMPTY);
    assert_null(b.server_name);
    cat_backup_clear(&b);
}

static void test_cat_info_parse_error_keeps_id(void **state)
{
    (void)state;
    struct cat_backup b = {0};
    b.id = cel_xstrdup("20261124T034224");
    b.mode = cel_xstrdup("stale");
    struct cel_err err = {0};
    assert_int_equal(cat_info_parse("server_name=pg\nsize=x\n", "f", &b, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "f:2: size: invalid integer 'x'");
    assert_string_equal(b.id, "20261124T034224");
    assert_null(b.mode);
    assert_null(b.server_name);
    /* success replaces every field but keeps the id too */
    b.mode = cel_xstrdup("stale");
    assert_int_equal(cat_info_parse("server_name=pg\n", "f", &b, &err), 0);
    assert_string_equal(b.id, "20261124T034224");
    assert_null(b.mode);
    assert_string_equal(b.server_name, "pg");
    cat_backup_clear(&b);
    assert_null(b.id);
}

/* ---- truncation ----------------------------------------------------------------- */

static void test_cat_info_parse_every_truncation(void **state)
{
    (void)state;
    size_t len = strlen(rsync_info);
    char *prefix = malloc(len + 1);
    size_t ok = 0, bad = 0;
    for (size_t n = 0; n <= len; n++) {
        memcpy(prefix, rsync_info, n);
        prefix[n] = '\0';
        struct cat_backup b;
        memset(&b, 0, sizeof b);
        struct cel_err err = {0};
        int rc = cat_info_parse(prefix, "backup.info", &b, &err);
        if (rc == 0) {
            ok++;
            /* what was read formats without trouble */
            struct strbuf sb = {0};
            cat_info_format(&b, &sb);
            assert_true(sb.len > 0);
            sb_free(&sb);
        } else {
            bad++;
            if (rc != -CEL_E_FORMAT || err.code != CEL_E_FORMAT)
                fail_msg("prefix of %zu bytes: rc %d code %d: %s", n, rc, err.code, err.msg);
            assert_true(strncmp(err.msg, "backup.info:", 12) == 0);
        }
        cat_backup_clear(&b);
    }
    free(prefix);
    /* both outcomes happen: cuts at line ends parse, cuts in a literal fail */
    assert_true(ok > 27);
    assert_true(bad > 100);
}

/* Parse rsync_info cut right after the first occurrence of marker. */
static int parse_cut_after(const char *marker, struct cel_err *err)
{
    const char *at = strstr(rsync_info, marker);
    assert_non_null(at);
    size_t n = (size_t)(at - rsync_info) + strlen(marker);
    char *prefix = cel_xstrndup(rsync_info, n);
    struct cat_backup b;
    memset(&b, 0, sizeof b);
    int rc = cat_info_parse(prefix, "backup.info", &b, err);
    cat_backup_clear(&b);
    free(prefix);
    return rc;
}

static void test_cat_info_parse_truncation_messages(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(parse_cut_after("end_time=2026-11-24 03:4", &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "backup.info:11: end_time: invalid timestamp '2026-11-24 03:4': "
                                 "expected YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM] or a ctime() "
                                 "date like 'Thu Jan  1 00:00:05 2026'");
    assert_int_equal(parse_cut_after("tablespaces=[('tbs1', 16384, '/srv/pg/tb", &err),
                     -CEL_E_FORMAT);
    assert_string_equal(err.msg, "backup.info:24: tablespaces: invalid Python literal at offset "
                                 "17: unterminated string");
    assert_int_equal(parse_cut_after("tablespaces=[('tbs1', 16", &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "backup.info:24: tablespaces: invalid Python literal at offset "
                                 "12: expected ',' or ')', found end of input");
    assert_int_equal(parse_cut_after("status=DO", &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "backup.info:22: status: unknown status 'DO' (expected EMPTY, "
                                 "STARTED, WAITING_FOR_WALS, DONE, FAILED or SYNCING)");
    assert_int_equal(parse_cut_after("\nbegin_wal=00000001000000000", &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "backup.info:4: begin_wal: invalid WAL file name "
                                 "'00000001000000000': expected 24 hexadecimal digits, found 17 "
                                 "characters");
    assert_int_equal(parse_cut_after("backup_label='START WAL", &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "backup.info:1: backup_label: invalid Python literal at offset "
                                 "0: unterminated string");
    assert_int_equal(parse_cut_after("\nhba_fi", &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "backup.info:15: invalid line 'hba_fi': expected key=value");
    /* a cut inside a value that is still valid is not detected: the file
     * simply says less (Barman cannot tell either) */
    assert_int_equal(parse_cut_after("\nsize=2305", &err), 0);
}

/* ---- writing ------------------------------------------------------------------- */


static void test_cat_info_write_and_read_back(void **state)
{
    (void)state;
    unit_mkdir("base/20261124T034224");
    const char *dir = unit_path("base/20261124T034224");
    struct cat_backup b;
    parse_ok(postgres_info, &b);
    struct cel_err err = {0};
    assert_int_equal(cat_info_write(dir, &b, &err), 0);
    const char *path = unit_path("base/20261124T034224/backup.info");
    char *written = unit_read(path);
    assert_non_null(written);
    struct strbuf formatted = {0};
    cat_info_format(&b, &formatted);
    assert_string_equal(written, sb_str(&formatted));
    assert_string_equal(written, postgres_info);
    sb_free(&formatted);
    free(written);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    /* no temporary file is left beside it */
    assert_int_equal(unit_count_entries(dir), 1);

    /* read back: same values, and the ID is not a field of the file */
    struct cat_backup r = {0};
    assert_int_equal(cat_info_read(dir, &r, &err), 0);
    assert_null(r.id);
    assert_string_equal(r.backup_name, "pgname");
    assert_string_equal(r.end_xlog, "0/9000000");
    assert_int_field(r.end_offset, 0);
    assert_formats_as(&r, postgres_info);

    /* overwriting replaces the content */
    r.status = CAT_FAILED;
    free(r.error);
    r.error = cel_xstrdup("gone");
    assert_int_equal(cat_info_write(dir, &r, &err), 0);
    cat_backup_clear(&r);
    assert_int_equal(cat_info_read(dir, &r, &err), 0);
    assert_int_equal(r.status, CAT_FAILED);
    assert_string_equal(r.error, "gone");
    cat_backup_clear(&r);
    cat_backup_clear(&b);
}

static void test_cat_info_read_and_write_errors(void **state)
{
    (void)state;
    struct cat_backup b = {0};
    struct cel_err err = {0};
    unit_mkdir("empty");
    int rc = cat_info_read(unit_path("empty"), &b, &err);
    assert_int_equal(rc, -CEL_E_NOT_FOUND);
    char msg[4400];
    snprintf(msg, sizeof msg, "cannot open '%s': No such file or directory",
             unit_path("empty/backup.info"));
    assert_string_equal(err.msg, msg);
    /* writing into a directory that does not exist fails with CEL_E_IO */
    b.status = CAT_DONE;
    rc = cat_info_write(unit_path("nodir"), &b, &err);
    assert_int_equal(rc, -CEL_E_IO);
    assert_int_equal(err.code, CEL_E_IO);
    assert_non_null(strstr(err.msg, "nodir/backup.info"));
    cat_backup_clear(&b);
}

/* ---- status ----------------------------------------------------------------------- */

static void test_cat_status_names(void **state)
{
    (void)state;
    static const char *const names[] = {"EMPTY", "STARTED", "WAITING_FOR_WALS",
                                        "DONE",  "FAILED",  "SYNCING"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(names); i++) {
        enum cat_status s = CAT_EMPTY;
        assert_int_equal(cat_status_parse(names[i], &s, NULL), 0);
        assert_int_equal(s, (enum cat_status)i);
        assert_string_equal(cat_status_name(s), names[i]);
        assert_int_equal(cat_status_copy_done(s), s == CAT_DONE || s == CAT_WAITING_FOR_WALS);
    }
    struct cel_err err = {0};
    enum cat_status s = CAT_DONE;
    assert_int_equal(cat_status_parse("Done", &s, &err), -CEL_E_INVALID);
    assert_int_equal(s, CAT_DONE);
    assert_string_equal(err.msg, "unknown status 'Done' (expected EMPTY, STARTED, "
                                 "WAITING_FOR_WALS, DONE, FAILED or SYNCING)");
    assert_string_equal(cat_status_name((enum cat_status)42), "EMPTY");
}

/* ---- the list of backups ------------------------------------------------------------ */

/* A server's base/ directory:
 *   20261101T000000  DONE, named "nightly"
 *   20261102T000000  no backup.info (a directory being created)
 *   20261103T000000  unreadable (status DONE but a bad size)
 *   20261104T000000  FAILED, named "broken"
 *   20261105T000000  WAITING_FOR_WALS, named "nightly" too
 *   20261106T000000  STARTED
 *   20261107T000000  FAILED
 *   notanid          no status (EMPTY)
 *   .hidden          DONE, but a dot-directory
 *   a-file           a regular file */
static void make_catalogue(void)
{
    unit_mkdir("base/20261101T000000");
    unit_write("base/20261101T000000/backup.info",
               "status=DONE\nbackup_name=nightly\nbegin_wal=000000010000000000000002\n"
               "end_wal=000000010000000000000002\n");
    unit_mkdir("base/20261102T000000/data");
    unit_mkdir("base/20261103T000000");
    unit_write("base/20261103T000000/backup.info", "status=DONE\nsize=big\n");
    unit_mkdir("base/20261104T000000");
    unit_write("base/20261104T000000/backup.info", "status=FAILED\nbackup_name=broken\n");
    unit_mkdir("base/20261105T000000");
    unit_write("base/20261105T000000/backup.info",
               "status=WAITING_FOR_WALS\nbackup_name=nightly\n");
    unit_mkdir("base/20261106T000000");
    unit_write("base/20261106T000000/backup.info", "status=STARTED\n");
    unit_mkdir("base/20261107T000000");
    unit_write("base/20261107T000000/backup.info", "status=FAILED\n");
    unit_mkdir("base/notanid");
    unit_write("base/notanid/backup.info", "server_name=pg\n");
    unit_mkdir("base/.hidden");
    unit_write("base/.hidden/backup.info", "status=DONE\n");
    unit_write("base/a-file", "x");
}

static void load_catalogue(struct cat_list *list)
{
    struct cel_err err = {0};
    assert_int_equal(cat_list_load(unit_path("base"), list, &err), 0);
    assert_int_equal(list->n, 7);
}

static void test_cat_list_load_order_and_failures(void **state)
{
    (void)state;
    struct cat_list list;
    make_catalogue();
    load_catalogue(&list);
    static const char *const ids[] = {"20261101T000000", "20261103T000000", "20261104T000000",
                                      "20261105T000000", "20261106T000000", "20261107T000000",
                                      "notanid"};
    for (size_t i = 0; i < list.n; i++)
        assert_string_equal(list.items[i].id, ids[i]);
    assert_false(list.failed[0]);
    assert_int_equal(list.items[0].status, CAT_DONE);
    assert_string_equal(list.items[0].backup_name, "nightly");
    assert_int_equal(list.errors[0].code, 0);
    /* the broken one is kept, flagged, with its error naming the file */
    assert_true(list.failed[1]);
    assert_int_equal(list.errors[1].code, CEL_E_FORMAT);
    char msg[4400];
    snprintf(msg, sizeof msg, "%s:2: size: invalid integer 'big'",
             unit_path("base/20261103T000000/backup.info"));
    assert_string_equal(list.errors[1].msg, msg);
    assert_int_equal(list.items[1].status, CAT_EMPTY);
    assert_false(list.failed[2]);
    assert_int_equal(list.items[2].status, CAT_FAILED);
    assert_int_equal(list.items[3].status, CAT_WAITING_FOR_WALS);
    assert_int_equal(list.items[4].status, CAT_STARTED);
    assert_int_equal(list.items[5].status, CAT_FAILED);
    assert_false(list.failed[6]);
    assert_int_equal(list.items[6].status, CAT_EMPTY);
    assert_string_equal(list.items[6].server_name, "pg");
    cat_list_free(&list);
    assert_int_equal(list.n, 0);
    assert_null(list.items);
}

static void test_cat_list_load_missing_and_unreadable_directory(void **state)
{
    (void)state;
    struct cat_list list;
    struct cel_err err = {0};
    assert_int_equal(cat_list_load(unit_path("no-such-dir"), &list, &err), 0);
    assert_int_equal(list.n, 0);
    cat_list_free(&list);
    unit_write("plain", "x");
    assert_int_equal(cat_list_load(unit_path("plain"), &list, &err), -CEL_E_IO);
    char msg[4400];
    snprintf(msg, sizeof msg, "cannot read directory '%s': Not a directory", unit_path("plain"));
    assert_string_equal(err.msg, msg);
    assert_int_equal(list.n, 0);
    cat_list_free(&list);
    /* an empty directory */
    unit_mkdir("base");
    assert_int_equal(cat_list_load(unit_path("base"), &list, &err), 0);
    assert_int_equal(list.n, 0);
    cat_list_free(&list);
}

/* cat_resolve(list, ref) must find the backup with that ID. */
static void assert_resolves(const struct cat_list *list, const char *ref, const char *id)
{
    struct cel_err err = {0};
    int i = cat_resolve(list, ref, "pg", &err);
    if (i < 0)
        fail_msg("'%s' did not resolve: %s", ref, err.msg);
    assert_string_equal(list->items[i].id, id);
}

static void assert_unknown(const struct cat_list *list, const char *ref)
{
    struct cel_err err = {0};
    assert_int_equal(cat_resolve(list, ref, "pg", &err), -CEL_E_NOT_FOUND);
    assert_int_equal(err.code, CEL_E_NOT_FOUND);
    char msg[256];
    snprintf(msg, sizeof msg, "unknown backup '%s' for server 'pg'", ref);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.hint, "'cellar list-backup pg' lists the backups and their IDs.");
}

static void test_cat_resolve_shortcuts(void **state)
{
    (void)state;
    struct cat_list list;
    make_catalogue();
    load_catalogue(&list);
    /* newest and oldest WAITING_FOR_WALS or DONE: not STARTED, FAILED,
     * EMPTY nor the unreadable one */
    assert_resolves(&list, "latest", "20261105T000000");
    assert_resolves(&list, "last", "20261105T000000");
    assert_resolves(&list, "oldest", "20261101T000000");
    assert_resolves(&list, "first", "20261101T000000");
    assert_resolves(&list, "last-failed", "20261107T000000");
    cat_list_free(&list);
}

static void test_cat_resolve_ids_and_names(void **state)
{
    (void)state;
    struct cat_list list;
    make_catalogue();
    load_catalogue(&list);
    /* an ID whatever its status, even unreadable (the caller reports it) */
    assert_resolves(&list, "20261106T000000", "20261106T000000");
    assert_resolves(&list, "20261104T000000", "20261104T000000");
    assert_resolves(&list, "20261103T000000", "20261103T000000");
    /* a name of a WAITING_FOR_WALS or DONE backup only */
    unit_write("base/20261105T000000/backup.info", "status=WAITING_FOR_WALS\nbackup_name=weekly\n");
    cat_list_free(&list);
    load_catalogue(&list);
    assert_resolves(&list, "nightly", "20261101T000000");
    assert_resolves(&list, "weekly", "20261105T000000");
    assert_unknown(&list, "broken"); /* the name of a FAILED backup */
    /* a directory that is not an ID cannot be named */
    assert_unknown(&list, "notanid");
    cat_list_free(&list);
}

static void test_cat_resolve_ambiguous_name(void **state)
{
    (void)state;
    struct cat_list list;
    make_catalogue();
    load_catalogue(&list);
    struct cel_err err = {0};
    assert_int_equal(cat_resolve(&list, "nightly", "pg", &err), -CEL_E_INVALID);
    assert_int_equal(err.code, CEL_E_INVALID);
    assert_string_equal(err.msg, "backup name 'nightly' is ambiguous in server 'pg': it names "
                                 "20261101T000000, 20261105T000000");
    assert_string_equal(err.hint, "Use the backup ID instead of the name.");
    cat_list_free(&list);
}

static void test_cat_resolve_unknown(void **state)
{
    (void)state;
    struct cat_list list;
    make_catalogue();
    load_catalogue(&list);
    assert_unknown(&list, "20991231T235959");
    assert_unknown(&list, "20261102T000000"); /* a directory without backup.info */
    assert_unknown(&list, "no-such-name");
    cat_list_free(&list);

    /* on an empty list every shortcut names nothing, and says so */
    struct cat_list empty = {0};
    struct cel_err err = {0};
    assert_int_equal(cat_list_load(unit_path("none"), &empty, &err), 0);
    const char *const shortcuts[][2] = {{"latest", "complete"},
                                        {"oldest", "complete"},
                                        {"last-failed", "failed"}};
    for (size_t i = 0; i < 3; i++) {
        char msg[128];
        snprintf(msg, sizeof msg, "server 'pg' has no %s backup (%s)", shortcuts[i][1],
                 shortcuts[i][0]);
        assert_int_equal(cat_resolve(&empty, shortcuts[i][0], "pg", &err), -CEL_E_NOT_FOUND);
        assert_string_equal(err.msg, msg);
    }
    cat_list_free(&empty);
}

static void test_cat_previous_and_next(void **state)
{
    (void)state;
    struct cat_list list;
    make_catalogue();
    load_catalogue(&list);
    /* index: 0 DONE, 1 unreadable DONE, 2 FAILED, 3 WAITING, 4 STARTED,
     * 5 FAILED, 6 EMPTY */
    assert_int_equal(cat_previous(&list, 0), -1);
    assert_int_equal(cat_next(&list, 0), 3);
    assert_int_equal(cat_previous(&list, 3), 0);
    assert_int_equal(cat_next(&list, 3), -1);
    /* from a backup that is not copy-done itself */
    assert_int_equal(cat_previous(&list, 2), 0);
    assert_int_equal(cat_next(&list, 2), 3);
    assert_int_equal(cat_previous(&list, 6), 3);
    assert_int_equal(cat_next(&list, 6), -1);
    assert_int_equal(cat_next(&list, 1), 3);
    cat_list_free(&list);
}

static void test_cat_check_backup_name(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(cat_check_backup_name("nightly one", &err), 0);
    assert_int_equal(cat_check_backup_name("20261124T0342", &err), 0);
    assert_int_equal(cat_check_backup_name("x20261124T034224", &err), 0);
    assert_int_equal(cat_check_backup_name("failed", &err), 0);
    assert_int_equal(cat_check_backup_name("Latest", &err), 0);

    assert_int_equal(cat_check_backup_name("", &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "a backup name must not be empty");
    assert_int_equal(cat_check_backup_name("20261124T034224", &err), -CEL_E_INVALID);
    assert_string_equal(
        err.msg, "backup name '20261124T034224' looks like a backup ID; choose another name");
    static const char *const reserved[] = {"latest", "last", "oldest", "first", "last-failed"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(reserved); i++) {
        cel_err_clear(&err);
        assert_int_equal(cat_check_backup_name(reserved[i], &err), -CEL_E_INVALID);
        char msg[128];
        snprintf(msg, sizeof msg, "backup name '%s' is reserved for a backup ID shortcut",
                 reserved[i]);
        assert_string_equal(err.msg, msg);
    }
    assert_int_equal(cat_check_backup_name("two\nlines", &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "a backup name must not contain control characters");
    assert_int_equal(cat_check_backup_name("tab\there", &err), -CEL_E_INVALID);
}

int main(void)
{
    /* timestamps without an offset are local time: make that fixed */
    setenv("TZ", "UTC", 1);
    tzset();
#define TMP(t) cmocka_unit_test_setup_teardown(t, unit_setup_tmpdir, unit_teardown_tmpdir)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cat_info_parse_rsync_example),
        cmocka_unit_test(test_cat_info_parse_postgres_example),
        cmocka_unit_test(test_cat_info_parse_failed_example),
        cmocka_unit_test(test_cat_info_format_examples_byte_identical),
        cmocka_unit_test(test_cat_info_parse_skips_blank_and_comment_lines),
        cmocka_unit_test(test_cat_info_parse_strips_spaces_around_equals),
        cmocka_unit_test(test_cat_info_parse_later_duplicate_wins),
        cmocka_unit_test(test_cat_info_parse_none_is_null),
        cmocka_unit_test(test_cat_info_parse_unknown_keys_kept_in_alphabetical_position),
        cmocka_unit_test(test_cat_info_parse_missing_keys_and_defaults),
        cmocka_unit_test(test_cat_info_format_hides_null_name_and_snapshots),
        cmocka_unit_test(test_cat_info_format_unknown_keys_in_alphabetical_position),
        cmocka_unit_test(test_cat_info_parse_barman_1_x_file),
        cmocka_unit_test(test_cat_info_format_python_literals),
        cmocka_unit_test(test_cat_info_format_empty_literals_as_none),
        cmocka_unit_test(test_cat_info_format_keeps_values_on_one_line),
        cmocka_unit_test(test_cat_info_parse_line_without_equals),
        cmocka_unit_test(test_cat_info_parse_bad_integer),
        cmocka_unit_test(test_cat_info_parse_bad_xlog_segment_size),
        cmocka_unit_test(test_cat_info_parse_bad_timestamp),
        cmocka_unit_test(test_cat_info_parse_bad_wal_name),
        cmocka_unit_test(test_cat_info_parse_bad_lsn),
        cmocka_unit_test(test_cat_info_parse_unknown_status),
        cmocka_unit_test(test_cat_info_parse_bad_tablespaces),
        cmocka_unit_test(test_cat_info_parse_bad_python_literal),
        TMP(test_cat_info_read_nul_byte),
        cmocka_unit_test(test_cat_info_parse_error_keeps_id),
        cmocka_unit_test(test_cat_info_parse_every_truncation),
        cmocka_unit_test(test_cat_info_parse_truncation_messages),
        TMP(test_cat_info_write_and_read_back),
        TMP(test_cat_info_read_and_write_errors),
        cmocka_unit_test(test_cat_status_names),
        TMP(test_cat_list_load_order_and_failures),
        TMP(test_cat_list_load_missing_and_unreadable_directory),
        TMP(test_cat_resolve_shortcuts),
        TMP(test_cat_resolve_ids_and_names),
        TMP(test_cat_resolve_ambiguous_name),
        TMP(test_cat_resolve_unknown),
        TMP(test_cat_previous_and_next),
        cmocka_unit_test(test_cat_check_backup_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
