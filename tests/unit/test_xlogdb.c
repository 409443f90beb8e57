/*
 * Unit tests of src/core/wal/xlogdb.c: parsing and writing wals/xlog.db lines,
 * loading the file under its lock, and the WAL statistics of a backup
 * (Barman's Server.get_wal_info and get_wal_until_next_backup in
 * barman/server.py). Expected floating point values were computed with
 * Python 3 using Barman's expressions and are compared exactly.
 */
#include "unit.h"

#include <signal.h>
#include <sys/resource.h>

#include "catalog.h"
#include "lock.h"
#include "xlogdb.h"

/* Compare two doubles bit for bit (no epsilon: the arithmetic is Barman's). */
#define assert_double_exact(a, b)                                                                  \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (a_ != b_)                                                                              \
            fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                                    \
    } while (0)

/* A 3.4-style home of server pg whose wals_directory is wals (a path) and
 * lock directory lock, unless the test says otherwise. */
#define HOME(wals, lock)                                                                           \
    (&(struct xdb_home){.server = "pg", .wals_dir = (wals), .lock_dir = (lock)})

/* Parse text (NUL-terminated) with the name "xlog.db". */
static int parse(const char *text, struct xdb *db, struct cel_err *err)
{
    return xdb_parse(text, strlen(text), "xlog.db", db, err);
}

/* Parse text that must be bad; check the code and the message. */
static void assert_parse_error(const char *text, const char *msg)
{
    struct xdb db = {0};
    struct cel_err err = {0};
    assert_int_equal(parse(text, &db, &err), -CEL_E_FORMAT);
    assert_int_equal(err.code, CEL_E_FORMAT);
    assert_string_equal(err.msg, msg);
    assert_null(db.entries);
    assert_int_equal(db.n, 0);
}

static void test_xdb_parse_four_and_three_fields(void **state)
{
    (void)state;
    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(parse("000000010000000000000002\t16485\t1795491742.848235\tgzip\n"
                           "000000010000000000000002.00000028.backup\t198\t1795491742.8766668\t"
                           "bzip2\n"
                           "000000010000000000000003\t16777216\t1795491800\n",
                           &db, &err),
                     0);
    assert_int_equal(db.n, 3);
    assert_string_equal(db.entries[0].name, "000000010000000000000002");
    assert_int_equal(db.entries[0].size, 16485);
    assert_double_exact(db.entries[0].time, 1795491742.848235);
    assert_string_equal(db.entries[0].compression, "gzip");
    assert_string_equal(db.entries[1].name, "000000010000000000000002.00000028.backup");
    assert_int_equal(db.entries[1].size, 198);
    assert_double_exact(db.entries[1].time, 1795491742.8766668);
    assert_string_equal(db.entries[1].compression, "bzip2");
    /* the legacy 3-field form: no compression */
    assert_string_equal(db.entries[2].name, "000000010000000000000003");
    assert_int_equal(db.entries[2].size, 16777216);
    assert_double_exact(db.entries[2].time, 1795491800.0);
    assert_string_equal(db.entries[2].compression, "");
    xdb_free(&db);
    assert_null(db.entries);
    assert_int_equal(db.n, 0);
}

static void test_xdb_parse_none_compression_and_any_whitespace(void **state)
{
    (void)state;
    struct xdb db;
    /* Barman splits on any whitespace; the last line has no newline */
    assert_int_equal(parse("00000002.history\t42\t1795491800.0\tNone\n"
                           "  000000020000000000000004   7  1.5 \t None \r\n"
                           "000000020000000000000005.partial\t16777216\t2.0\tpigz",
                           &db, NULL),
                     0);
    assert_int_equal(db.n, 3);
    assert_string_equal(db.entries[0].name, "00000002.history");
    assert_string_equal(db.entries[0].compression, "");
    assert_int_equal(db.entries[0].size, 42);
    assert_string_equal(db.entries[1].name, "000000020000000000000004");
    assert_string_equal(db.entries[1].compression, "");
    assert_double_exact(db.entries[1].time, 1.5);
    assert_string_equal(db.entries[2].name, "000000020000000000000005.partial");
    assert_string_equal(db.entries[2].compression, "pigz");
    xdb_free(&db);
}

static void test_xdb_parse_unsorted_input_is_sorted(void **state)
{
    (void)state;
    struct xdb db;
    assert_int_equal(parse("000000010000000000000005\t5\t5.0\tNone\n"
                           "000000010000000000000003\t3\t3.0\tNone\n"
                           "00000002.history\t2\t2.0\tNone\n"
                           "000000010000000000000004\t4\t4.0\tgzip\n",
                           &db, NULL),
                     0);
    assert_int_equal(db.n, 4);
    assert_string_equal(db.entries[0].name, "000000010000000000000003");
    assert_int_equal(db.entries[0].size, 3);
    assert_string_equal(db.entries[1].name, "000000010000000000000004");
    assert_string_equal(db.entries[1].compression, "gzip");
    assert_string_equal(db.entries[2].name, "000000010000000000000005");
    assert_string_equal(db.entries[3].name, "00000002.history");
    assert_double_exact(db.entries[3].time, 2.0);
    xdb_free(&db);
}

static void test_xdb_parse_empty_text(void **state)
{
    (void)state;
    struct xdb db = {.n = 99};
    assert_int_equal(parse("", &db, NULL), 0);
    assert_int_equal(db.n, 0);
    assert_null(db.entries);
    assert_int_equal(xdb_lower_bound(&db, "000000010000000000000001"), 0);
    xdb_free(&db);
}

static void test_xdb_parse_field_count_errors(void **state)
{
    (void)state;
    assert_parse_error(
        "000000010000000000000002\t16485\n",
        "xlog.db:1: expected 'name size time [compression [encryption]]' separated by tabs");
    assert_parse_error(
        "000000010000000000000002\t1\t1.0\tNone\n"
        "000000010000000000000003\t1\t1.0\tNone\tNone\textra\n",
        "xlog.db:2: expected 'name size time [compression [encryption]]' separated by tabs");
    /* a blank line is an error for Barman too ("cannot parse line") */
    assert_parse_error(
        "000000010000000000000002\t1\t1.0\tNone\n\n"
        "000000010000000000000003\t1\t1.0\tNone\n",
        "xlog.db:2: expected 'name size time [compression [encryption]]' separated by tabs");
    assert_parse_error(
        "   \n",
        "xlog.db:1: expected 'name size time [compression [encryption]]' separated by tabs");
    /* the NUL bytes a crash can leave at the end of an appended file */
    struct xdb db = {0};
    struct cel_err err = {0};
    static const char zeros[] = "000000010000000000000002\t1\t1.0\tNone\n\0\0\0\0";
    assert_int_equal(xdb_parse(zeros, sizeof zeros - 1, "xlog.db", &db, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "xlog.db:2: contains a NUL byte");
    assert_null(db.entries);
}

static void test_xdb_parse_nul_inside_a_field(void **state)
{
    (void)state;
    /* a NUL must not cut a field short and let the rest of it pass */
#define LINE(text)                                                                                 \
    {                                                                                              \
        text, sizeof text - 1                                                                      \
    }
    static const struct {
        const char *s;
        size_t n;
    } lines[] = {
        LINE("000000010000000000000002\0junk\t1\t1.0\tNone\n"),
        LINE("000000010000000000000002\t12\0x\t1.0\tNone\n"),
        LINE("000000010000000000000002\t1\t1.5\0x\tNone\n"),
        LINE("000000010000000000000002\t1\t1.0\tgz\0ip\n"),
    };
#undef LINE
    for (size_t i = 0; i < CEL_ARRAY_LEN(lines); i++) {
        struct xdb db = {0};
        struct cel_err err = {0};
        struct strbuf text = {0};
        sb_append(&text, "000000010000000000000001\t1\t1.0\tNone\n");
        sb_appendn(&text, lines[i].s, lines[i].n);
        assert_int_equal(xdb_parse(text.buf, text.len, "xlog.db", &db, &err), -CEL_E_FORMAT);
        assert_string_equal(err.msg, "xlog.db:2: contains a NUL byte");
        assert_null(db.entries);
        sb_free(&text);
    }
}

static void test_xdb_parse_bad_name(void **state)
{
    (void)state;
    assert_parse_error("000000010000000000000002\t1\t1.0\tNone\n"
                       "00000001000000000000000G\t1\t1.0\tNone\n",
                       "xlog.db:2: '00000001000000000000000G' is not a WAL file name");
    assert_parse_error("xlog.db.tmp\t1\t1.0\tNone\n", "xlog.db:1: 'xlog.db.tmp' is not a WAL "
                                                      "file name");
    /* too long for any WAL name: the message shows at most 64 characters */
    char line[256];
    char name[101];
    memset(name, 'A', 100);
    name[100] = '\0';
    snprintf(line, sizeof line, "%s\t1\t1.0\tNone\n", name);
    char msg[256];
    snprintf(msg, sizeof msg, "xlog.db:1: '%.64s' is not a WAL file name", name);
    assert_parse_error(line, msg);
}

static void test_xdb_parse_bad_size(void **state)
{
    (void)state;
    assert_parse_error("000000010000000000000002\t12a\t1.0\tNone\n",
                       "xlog.db:1: invalid size '12a'");
    assert_parse_error("000000010000000000000002\t1.5\t1.0\tNone\n",
                       "xlog.db:1: invalid size '1.5'");
    assert_parse_error("000000010000000000000002\t0x10\t1.0\tNone\n",
                       "xlog.db:1: invalid size '0x10'");
    assert_parse_error("000000010000000000000002\t99999999999999999999\t1.0\tNone\n",
                       "xlog.db:1: invalid size '99999999999999999999'");
}

static void test_xdb_parse_negative_size(void **state)
{
    (void)state;
    assert_parse_error("000000010000000000000002\t-1\t1.0\tNone\n", "xlog.db:1: invalid size '-1'");
}

static void test_xdb_parse_bad_time(void **state)
{
    (void)state;
    assert_parse_error("000000010000000000000002\t1\tyesterday\tNone\n",
                       "xlog.db:1: invalid time 'yesterday'");
    assert_parse_error("000000010000000000000002\t1\t1795491742.8x\tNone\n",
                       "xlog.db:1: invalid time '1795491742.8x'");
    assert_parse_error("000000010000000000000002\t1\tinf\tNone\n", "xlog.db:1: invalid time 'inf'");
    assert_parse_error("000000010000000000000002\t1\tnan\tgzip\n", "xlog.db:1: invalid time 'nan'");
}

static void test_xdb_parse_bad_compression(void **state)
{
    (void)state;
    assert_parse_error("000000010000000000000002\t1\t1.0\tsupercompressor2000\n",
                       "xlog.db:1: invalid compression 'supercompressor2000'");
}

/* Barman >= 3.14 (infofile.py to_xlogdb_line): "%s\t%s\t%s\t%s\t%s\n" %
 * (name, size, time, compression, encryption), None written as "None";
 * from_xlogdb_line reads 3, 4 or 5 fields. */
static void test_xdb_parse_five_fields(void **state)
{
    (void)state;
    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(parse("000000010000000000000002\t16485\t1795491742.848235\tgzip\tNone\n"
                           "000000010000000000000003\t16777216\t1795491800.5\tNone\tgpg\n"
                           "000000010000000000000004\t16777216\t1795491801.5\tNone\tNone\n",
                           &db, &err),
                     0);
    assert_int_equal(db.n, 3);
    assert_string_equal(db.entries[0].compression, "gzip");
    assert_string_equal(db.entries[0].encryption, "");
    assert_string_equal(db.entries[1].compression, "");
    assert_string_equal(db.entries[1].encryption, "gpg");
    assert_int_equal(db.entries[1].size, 16777216);
    assert_double_exact(db.entries[1].time, 1795491800.5);
    assert_string_equal(db.entries[2].encryption, "");
    xdb_free(&db);
}

/* One file with every field count: what a home gets when Barman 3.4, 3.13
 * and 3.14 took turns appending to it. */
static void test_xdb_parse_mixed_field_counts(void **state)
{
    (void)state;
    struct xdb db;
    assert_int_equal(parse("000000010000000000000001\t16777216\t1.0\n"
                           "000000010000000000000002\t16485\t2.0\tgzip\n"
                           "000000010000000000000003\t16485\t3.0\tgzip\tNone\n",
                           &db, NULL),
                     0);
    assert_int_equal(db.n, 3);
    assert_string_equal(db.entries[0].compression, "");
    assert_string_equal(db.entries[1].compression, "gzip");
    assert_string_equal(db.entries[2].compression, "gzip");
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(db.entries[i].encryption, "");
    xdb_free(&db);
}

/* Every field count from 1 to 6 on line 2: 3, 4 and 5 are read (Barman
 * >= 3.14's from_xlogdb_line), the others name the file and the line. */
static void test_xdb_parse_every_field_count(void **state)
{
    (void)state;
    static const char *const fields[] = {
        "000000010000000000000003", "16777216", "1.5", "gzip", "None", "extra"};
    for (size_t nf = 1; nf <= 6; nf++) {
        struct strbuf text = {0};
        sb_append(&text, "000000010000000000000002\t1\t1.0\tNone\n");
        for (size_t i = 0; i < nf; i++)
            sb_appendf(&text, "%s%s", i ? "\t" : "", fields[i]);
        sb_appendc(&text, '\n');
        struct xdb db = {0};
        struct cel_err err = {0};
        int rc = xdb_parse(text.buf, text.len, "the/xlog.db", &db, &err);
        if (nf >= 3 && nf <= 5) {
            assert_int_equal(rc, 0);
            assert_int_equal(db.n, 2);
            assert_string_equal(db.entries[1].compression, nf >= 4 ? "gzip" : "");
            assert_string_equal(db.entries[1].encryption, "");
        } else {
            assert_int_equal(rc, -CEL_E_FORMAT);
            assert_string_equal(err.msg, "the/xlog.db:2: expected 'name size time [compression "
                                         "[encryption]]' separated by tabs");
            assert_null(db.entries);
        }
        xdb_free(&db);
        sb_free(&text);
    }
}

static void test_xdb_parse_bad_encryption(void **state)
{
    (void)state;
    assert_parse_error("000000010000000000000001\t1\t1.0\tNone\tNone\n"
                       "000000010000000000000002\t1\t1.0\tNone\tsuperencryptor2000\n",
                       "xlog.db:2: invalid encryption 'superencryptor2000'");
    /* six fields: too many for every Barman */
    assert_parse_error("000000010000000000000002\t1\t1.0\tNone\tNone\tNone\n",
                       "xlog.db:1: expected 'name size time [compression [encryption]]' "
                       "separated by tabs");
}

static void test_xdb_format_line_five_fields(void **state)
{
    (void)state;
    struct xdb_entry e = {.name = "000000010000000000000002",
                          .size = 16485,
                          .time = 1795491742.848235,
                          .compression = "gzip"};
    struct strbuf sb = {0};
    xdb_format_line(&e, true, &sb);
    assert_string_equal(sb_str(&sb),
                        "000000010000000000000002\t16485\t1795491742.848235\tgzip\tNone\n");
    /* an encrypted file's line keeps its 5th field in a 4-field home too */
    sb_reset(&sb);
    struct xdb_entry g = {.name = "000000010000000000000003",
                          .size = 9000,
                          .time = 1795491800.5,
                          .encryption = "gpg"};
    xdb_format_line(&g, false, &sb);
    assert_string_equal(sb_str(&sb), "000000010000000000000003\t9000\t1795491800.5\tNone\tgpg\n");
    sb_free(&sb);
}

static void test_xdb_lower_bound(void **state)
{
    (void)state;
    struct xdb db;
    assert_int_equal(parse("000000010000000000000002\t1\t1.0\tNone\n"
                           "000000010000000000000003\t1\t1.0\tNone\n"
                           "000000010000000000000003.00000028.backup\t1\t1.0\tNone\n"
                           "000000010000000000000005\t1\t1.0\tNone\n",
                           &db, NULL),
                     0);
    assert_int_equal(xdb_lower_bound(&db, "000000010000000000000001"), 0);
    assert_int_equal(xdb_lower_bound(&db, "000000010000000000000002"), 0);
    assert_int_equal(xdb_lower_bound(&db, "000000010000000000000003"), 1);
    assert_int_equal(xdb_lower_bound(&db, "000000010000000000000004"), 3);
    assert_int_equal(xdb_lower_bound(&db, "000000010000000000000005"), 3);
    assert_int_equal(xdb_lower_bound(&db, "000000010000000000000006"), 4);
    assert_int_equal(xdb_lower_bound(&db, "00000002.history"), 4);
    xdb_free(&db);
}

static void test_xdb_format_line_as_barman(void **state)
{
    (void)state;
    /* Barman: "%s\t%s\t%s\t%s\n" % (name, size, time, compression) */
    struct xdb_entry e = {.name = "000000010000000000000002",
                          .size = 16485,
                          .time = 1795491742.848235,
                          .compression = "gzip"};
    struct strbuf sb = {0};
    xdb_format_line(&e, false, &sb);
    assert_string_equal(sb_str(&sb), "000000010000000000000002\t16485\t1795491742.848235\tgzip\n");
    sb_reset(&sb);
    struct xdb_entry h = {.name = "00000002.history", .size = 42, .time = 1795491800.0};
    xdb_format_line(&h, false, &sb);
    assert_string_equal(sb_str(&sb), "00000002.history\t42\t1795491800.0\tNone\n");
    sb_free(&sb);
}

static void test_xdb_format_line_round_trip(void **state)
{
    (void)state;
    /* lines exactly as Barman wrote them read back and print identically */
    const char *text = "000000010000000000000002\t16485\t1795491742.848235\tgzip\n"
                       "000000010000000000000002.00000028.backup\t198\t1795491742.8766668\tgzip\n"
                       "000000010000000000000003\t16777216\t1795491743.1\tNone\n"
                       "000000010000000000000004.partial\t0\t0.0\tNone\n"
                       "00000002.history\t42\t1795491800.0\tNone\n";
    struct xdb db;
    assert_int_equal(parse(text, &db, NULL), 0);
    assert_int_equal(db.n, 5);
    struct strbuf sb = {0};
    for (size_t i = 0; i < db.n; i++)
        xdb_format_line(&db.entries[i], false, &sb);
    assert_string_equal(sb_str(&sb), text);
    sb_free(&sb);
    xdb_free(&db);
}

static void test_xdb_load_missing_file_is_empty_without_lock(void **state)
{
    (void)state;
    unit_mkdir("wals");
    unit_mkdir("lock");
    struct xdb db = {.n = 7};
    struct cel_err err = {0};
    assert_int_equal(xdb_load(HOME(unit_path("wals"), unit_path("lock")), &db, &err), 0);
    assert_int_equal(db.n, 0);
    assert_null(db.entries);
    struct stat st;
    assert_int_equal(stat(unit_path("lock/.pg-xlogdb.lock"), &st), -1);
    /* nothing is created in wals/ either (Barman's "a+" would create it) */
    assert_int_equal(stat(unit_path("wals/xlog.db"), &st), -1);
    /* a lock directory that does not exist is fine when there is no file */
    assert_int_equal(xdb_load(HOME(unit_path("wals"), unit_path("nolock")), &db, &err), 0);
    assert_int_equal(stat(unit_path("nolock"), &st), -1);
}

static void test_xdb_load_present_file_takes_lock(void **state)
{
    (void)state;
    unit_mkdir("wals");
    unit_mkdir("lock");
    unit_write("wals/xlog.db", "000000010000000000000003\t3\t3.0\tNone\n"
                               "000000010000000000000002\t2\t2.0\tgzip\n");
    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(xdb_load(HOME(unit_path("wals"), unit_path("lock")), &db, &err), 0);
    assert_int_equal(db.n, 2);
    assert_string_equal(db.entries[0].name, "000000010000000000000002");
    assert_string_equal(db.entries[0].compression, "gzip");
    assert_string_equal(db.entries[1].name, "000000010000000000000003");
    xdb_free(&db);
    struct stat st;
    assert_int_equal(stat(unit_path("lock/.pg-xlogdb.lock"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    /* released after the read */
    pid_t holder = -1;
    assert_int_equal(lock_probe(unit_path("lock"), ".pg-xlogdb.lock", &holder, &err), 0);
}

static void test_xdb_load_bad_file_names_path_and_line(void **state)
{
    (void)state;
    unit_mkdir("wals");
    unit_mkdir("lock");
    unit_write("wals/xlog.db", "000000010000000000000002\t2\t2.0\tgzip\n"
                               "000000010000000000000003\t3\n");
    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(xdb_load(HOME(unit_path("wals"), unit_path("lock")), &db, &err),
                     -CEL_E_FORMAT);
    char msg[4400];
    snprintf(msg, sizeof msg,
             "%s:2: expected 'name size time [compression [encryption]]' separated by tabs",
             unit_path("wals/xlog.db"));
    assert_string_equal(err.msg, msg);
    assert_int_equal(db.n, 0);
    assert_null(db.entries);
}

/* ---- damaged files: what a killed writer leaves, and worse ------------------ */

#define L1 "000000010000000000000002\t16485\t1795491742.848235\tgzip\n"
#define L2 "000000010000000000000003\t16777216\t1795491800.5\tNone\n"

/* Write n bytes of text as wals/xlog.db (NUL bytes included). */
static void write_xlogdb(const char *text, size_t n)
{
    unit_mkdir("wals");
    FILE *f = fopen(unit_path("wals/xlog.db"), "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* xdb_read_cut on text: 0, the whole lines in *db, the cut line in *cut. */
static void read_cut_ok(const char *text, struct xdb *db, struct xdb_cut *cut)
{
    write_xlogdb(text, strlen(text));
    struct cel_err err = {0};
    assert_int_equal(xdb_read_cut(HOME(unit_path("wals"), NULL), db, cut, &err), 0);
}

static void test_xdb_read_cut_last_line_cut_in_its_fields(void **state)
{
    (void)state;
    struct xdb db;
    struct xdb_cut cut;
    /* "a size of 167" would parse: a line without its newline is never trusted */
    read_cut_ok(L1 "000000010000000000000003\t167", &db, &cut);
    assert_int_equal(db.n, 1);
    assert_string_equal(db.entries[0].name, "000000010000000000000002");
    assert_true(cut.cut);
    assert_int_equal(cut.line, 2);
    assert_string_equal(cut.prefix, "000000010000000000000003");
    assert_true(cut.whole_name);
    xdb_free(&db);
    read_cut_ok(L1 "000000010000000000000003\t16777216\t1795491800.5\tNo", &db, &cut);
    assert_int_equal(db.n, 1);
    assert_true(cut.cut);
    assert_true(cut.whole_name);
    xdb_free(&db);
}

static void test_xdb_read_cut_last_line_cut_in_its_name(void **state)
{
    (void)state;
    struct xdb db;
    struct xdb_cut cut;
    read_cut_ok(L1 "00000001000000000000", &db, &cut);
    assert_int_equal(db.n, 1);
    assert_true(cut.cut);
    assert_int_equal(cut.line, 2);
    assert_string_equal(cut.prefix, "00000001000000000000");
    assert_false(cut.whole_name);
    xdb_free(&db);
    /* 24 digits, not followed by a tab: maybe the start of a .partial name */
    read_cut_ok(L1 "000000010000000000000003", &db, &cut);
    assert_string_equal(cut.prefix, "000000010000000000000003");
    assert_false(cut.whole_name);
    xdb_free(&db);
    /* a lone line, cut */
    read_cut_ok("0000000100000000000000", &db, &cut);
    assert_int_equal(db.n, 0);
    assert_true(cut.cut);
    assert_int_equal(cut.line, 1);
    xdb_free(&db);
}

static void test_xdb_read_cut_whole_file_is_not_cut(void **state)
{
    (void)state;
    struct xdb db;
    struct xdb_cut cut = {.cut = true};
    read_cut_ok(L1 L2, &db, &cut);
    assert_int_equal(db.n, 2);
    assert_false(cut.cut);
    xdb_free(&db);
    read_cut_ok("", &db, &cut);
    assert_int_equal(db.n, 0);
    assert_false(cut.cut);
}

/* Every worse damage: -CEL_E_FORMAT naming the file and line, with the
 * hint to run rebuild-xlogdb, through xdb_read_cut and xdb_read alike. */
static void assert_damage_from(int first, const char *text, size_t n, const char *what)
{
    write_xlogdb(text, n);
    for (int strict = first; strict < 2; strict++) {
        struct xdb db = {.n = 3};
        struct xdb_cut cut;
        struct cel_err err = {0};
        int rc = strict ? xdb_read(HOME(unit_path("wals"), NULL), &db, &err)
                        : xdb_read_cut(HOME(unit_path("wals"), NULL), &db, &cut, &err);
        assert_int_equal(rc, -CEL_E_FORMAT);
        char want[4400];
        snprintf(want, sizeof want, "%s:%s", unit_path("wals/xlog.db"), what);
        assert_string_equal(err.msg, want);
        assert_non_null(strstr(err.hint, "Run 'cellar rebuild-xlogdb' for this server"));
        assert_int_equal(db.n, 0);
        assert_null(db.entries);
    }
}

static void assert_damage(const char *text, size_t n, const char *what)
{
    assert_damage_from(0, text, n, what);
}

static void test_xdb_read_damaged_forms(void **state)
{
    (void)state;
#define DAMAGE(text, what) assert_damage(text, sizeof text - 1, what)
    DAMAGE(L1 "\n" L2, "2: expected 'name size time [compression [encryption]]' separated by tabs");
    DAMAGE(L1 "000000010000000000000003\t-16777216\t1795491800.5\tNone\n" L2,
           "2: invalid size '-16777216'");
    DAMAGE(L1 "000000010000000000000003\t16777216\tnan\tNone\n", "2: invalid time 'nan'");
    DAMAGE(L1 "000000010000000000000003\tnan\t1.0\tNone\n", "2: invalid size 'nan'");
    DAMAGE(L1 "000000010000000000000003\t16777216\t-inf\tNone\n", "2: invalid time '-inf'");
    DAMAGE(L1 "000000010000000000000003\t1677\0"
              "7216\t1.0\tNone\n",
           "2: contains a NUL byte");
    /* the NUL bytes a crash of the machine leaves after the last line: not
     * what a killed writer leaves, so not repaired */
    DAMAGE(L1 "\0\0\0\0\0\0\0\0", "2: contains a NUL byte");
    /* a truncated line before the last one is no cut tail */
    DAMAGE(L1 "000000010000000000000003\t167\n" L2,
           "2: expected 'name size time [compression [encryption]]' separated by tabs");
#undef DAMAGE
}

/* xdb_read (every reader but the archiver): a cut last line that no
 * longer parses is damage, with the same hint. */
static void test_xdb_read_strict_on_a_cut_line(void **state)
{
    (void)state;
    assert_damage_from(1, L1 "000000010000000000000003\t167", strlen(L1) + 28,
                       "2: expected 'name size time [compression [encryption]]' separated by tabs");
}

static void test_xdb_load_hint_names_the_server(void **state)
{
    (void)state;
    write_xlogdb(L1 "\n", strlen(L1) + 1);
    unit_mkdir("lock");
    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(xdb_load(HOME(unit_path("wals"), unit_path("lock")), &db, &err),
                     -CEL_E_FORMAT);
    char want[4400];
    snprintf(want, sizeof want,
             "Run 'cellar rebuild-xlogdb pg': it writes xlog.db anew from the files in '%s'.",
             unit_path("wals"));
    assert_string_equal(err.hint, want);
}

static void test_xdb_load_newest_skips_a_cut_last_line(void **state)
{
    (void)state;
    write_xlogdb(L1 L2 "000000010000000000000004\t16", strlen(L1 L2) + 27);
    unit_mkdir("lock");
    struct xdb_entry e;
    struct cel_err err = {0};
    assert_int_equal(xdb_load_newest(HOME(unit_path("wals"), unit_path("lock")), &e, &err), 1);
    assert_string_equal(e.name, "000000010000000000000003");
}

/* ---- xdb_load_newest ------------------------------------------------------- */

static void test_xdb_load_newest_missing_and_empty(void **state)
{
    (void)state;
    unit_mkdir("wals");
    unit_mkdir("lock");
    struct xdb_entry e = {.size = 7};
    struct cel_err err = {0};
    assert_int_equal(xdb_load_newest(HOME(unit_path("wals"), unit_path("lock")), &e, &err), 0);
    assert_int_equal(e.size, 0);
    struct stat st;
    assert_int_equal(stat(unit_path("lock/.pg-xlogdb.lock"), &st), -1);
    unit_write("wals/xlog.db", "");
    assert_int_equal(xdb_load_newest(HOME(unit_path("wals"), unit_path("lock")), &e, &err), 0);
    /* an existing file is read under the lock, released afterwards */
    assert_int_equal(stat(unit_path("lock/.pg-xlogdb.lock"), &st), 0);
    pid_t holder = -1;
    assert_int_equal(lock_probe(unit_path("lock"), ".pg-xlogdb.lock", &holder, &err), 0);
}

static void test_xdb_load_newest_latest_time_of_the_last_lines(void **state)
{
    (void)state;
    unit_mkdir("wals");
    unit_mkdir("lock");
    /* a rewrite put 05 before 06, but 05 was archived last */
    unit_write("wals/xlog.db", "000000010000000000000004\t4\t400.0\tgzip\n"
                               "000000010000000000000005\t5\t700.5\tgzip\n"
                               "000000010000000000000006\t6\t600.0\tNone\n");
    struct xdb_entry e;
    struct cel_err err = {0};
    assert_int_equal(xdb_load_newest(HOME(unit_path("wals"), unit_path("lock")), &e, &err), 1);
    assert_string_equal(e.name, "000000010000000000000005");
    assert_int_equal(e.size, 5);
    assert_true(e.time == 700.5);
    assert_string_equal(e.compression, "gzip");
}

/* n lines of segments 1..n on timeline 1, time = segment number */
static void append_segments(struct strbuf *sb, unsigned from, unsigned n)
{
    for (unsigned i = from; i < from + n; i++)
        sb_appendf(sb, "00000001%016X\t%u\t%u.0\tNone\n", i, i, i);
}

static void test_xdb_load_newest_reads_only_the_tail(void **state)
{
    (void)state;
    unit_mkdir("wals");
    unit_mkdir("lock");
    /* a broken first line: xdb_load refuses the file, the tail never sees it */
    struct strbuf sb = {0};
    sb_append(&sb, "this is not an xlog.db line\n");
    append_segments(&sb, 1, 2000);
    unit_write("wals/xlog.db", sb_str(&sb));
    struct xdb db;
    struct cel_err err = {0};
    assert_int_equal(xdb_load(HOME(unit_path("wals"), unit_path("lock")), &db, &err),
                     -CEL_E_FORMAT);
    struct xdb_entry e;
    assert_int_equal(xdb_load_newest(HOME(unit_path("wals"), unit_path("lock")), &e, &err), 1);
    assert_string_equal(e.name, "0000000100000000000007D0");
    assert_true(e.time == 2000.0);
    /* a last line longer than the first chunk read: the chunk grows */
    sb_reset(&sb);
    append_segments(&sb, 1, 100);
    sb_append(&sb, "000000010000000000000065\t101\t");
    for (int i = 0; i < 9000; i++)
        sb_appendc(&sb, ' ');
    sb_append(&sb, "101.0\tNone\n");
    unit_write("wals/xlog.db", sb_str(&sb));
    assert_int_equal(xdb_load_newest(HOME(unit_path("wals"), unit_path("lock")), &e, &err), 1);
    assert_string_equal(e.name, "000000010000000000000065");
    assert_true(e.time == 101.0);
    /* a broken last line is an error naming the file */
    sb_reset(&sb);
    append_segments(&sb, 1, 1000);
    sb_append(&sb, "000000010000000000000FFF\t1\tlater\tNone\n");
    unit_write("wals/xlog.db", sb_str(&sb));
    assert_int_equal(xdb_load_newest(HOME(unit_path("wals"), unit_path("lock")), &e, &err),
                     -CEL_E_FORMAT);
    assert_non_null(strstr(err.msg, "wals/xlog.db, last lines:"));
    assert_non_null(strstr(err.msg, ": invalid time 'later'"));
    sb_free(&sb);
}

/* ---- xdb_backup_wal_info ---------------------------------------------------- */

/* An archive with every kind of file around two backups on timeline 1:
 * backup A (begin 03, end 04) and the next backup B (end 06). */
static const char archive[] = "000000010000000000000002\t1000\t100.0\tgzip\n"
                              "000000010000000000000003\t2000\t200.0\tgzip\n"
                              "000000010000000000000003.00000028.backup\t300\t201.0\tgzip\n"
                              "000000010000000000000004\t4000\t300.0\tgzip\n"
                              "000000010000000000000005\t5000\t400.0\tgzip\n"
                              "000000010000000000000005.partial\t16777216\t401.0\tNone\n"
                              "000000010000000000000006\t6000\t500.0\tgzip\n"
                              "000000010000000000000007\t7000\t600.0\tgzip\n"
                              "00000002.history\t42\t550.0\tNone\n"
                              "000000020000000000000006\t8000\t550.0\tgzip\n"
                              "000000020000000000000007\t9000\t650.0\tgzip\n";

static void backup_with(struct cat_backup *b, const char *begin, const char *end)
{
    memset(b, 0, sizeof *b);
    b->begin_wal = begin ? cel_xstrdup(begin) : NULL;
    b->end_wal = end ? cel_xstrdup(end) : NULL;
    b->xlog_segment_size = (struct cat_int){true, 16777216};
    b->status = CAT_DONE;
}

static void test_xdb_backup_wal_info_split_at_end_and_stop_at_next(void **state)
{
    (void)state;
    struct xdb db;
    assert_int_equal(parse(archive, &db, NULL), 0);
    struct cat_backup b;
    backup_with(&b, "000000010000000000000003", "000000010000000000000004");
    struct xdb_wal_info wi;
    xdb_backup_wal_info(&db, &b, "000000010000000000000006", &wi);
    /* needed by the backup: 03 and 04 (the .backup label is not counted) */
    assert_int_equal(wi.wal_num, 2);
    assert_int_equal(wi.wal_size, 6000);
    /* after it, up to and including the next backup's end_wal: 05 and 06
     * (the .partial is not counted, 07 is past the next backup) */
    assert_int_equal(wi.until_next_num, 2);
    assert_int_equal(wi.until_next_size, 11000);
    assert_string_equal(wi.first, "000000010000000000000003");
    assert_string_equal(wi.last, "000000010000000000000006");
    assert_double_exact(wi.first_time, 200.0);
    assert_double_exact(wi.last_time, 500.0);
    /* 4 files in 300 seconds */
    assert_double_exact(wi.wals_per_second, 0.013333333333333334);
    /* 1 - 6000 / (2 * 16 MiB), 1 - 11000 / (2 * 16 MiB) */
    assert_double_exact(wi.compression_ratio, 0.9998211860656738);
    assert_double_exact(wi.until_next_compression_ratio, 0.9996721744537354);
    cat_backup_clear(&b);
    xdb_free(&db);
}

static void test_xdb_backup_wal_info_newest_backup_excludes_higher_timelines(void **state)
{
    (void)state;
    struct xdb db;
    assert_int_equal(parse(archive, &db, NULL), 0);
    struct cat_backup b;
    backup_with(&b, "000000010000000000000003", "000000010000000000000004");
    struct xdb_wal_info wi;
    /* no next backup: everything after end_wal on timeline 1, but neither
     * the timeline 2 segments nor the history file */
    xdb_backup_wal_info(&db, &b, NULL, &wi);
    assert_int_equal(wi.wal_num, 2);
    assert_int_equal(wi.wal_size, 6000);
    assert_int_equal(wi.until_next_num, 3);
    assert_int_equal(wi.until_next_size, 18000);
    assert_string_equal(wi.last, "000000010000000000000007");
    assert_double_exact(wi.last_time, 600.0);
    assert_double_exact(wi.wals_per_second, 0.0125);
    assert_double_exact(wi.until_next_compression_ratio, 0.9996423721313477);
    cat_backup_clear(&b);
    xdb_free(&db);
}

static void test_xdb_backup_wal_info_backup_on_timeline_2(void **state)
{
    (void)state;
    struct xdb db;
    assert_int_equal(parse(archive, &db, NULL), 0);
    struct cat_backup b;
    /* a backup on timeline 2: only names from its begin_wal on count, so the
     * timeline 1 files (which sort before) and the history file do not */
    backup_with(&b, "000000020000000000000006", "000000020000000000000006");
    struct xdb_wal_info wi;
    xdb_backup_wal_info(&db, &b, NULL, &wi);
    assert_int_equal(wi.wal_num, 1);
    assert_int_equal(wi.wal_size, 8000);
    assert_int_equal(wi.until_next_num, 1);
    assert_int_equal(wi.until_next_size, 9000);
    assert_string_equal(wi.first, "000000020000000000000006");
    assert_string_equal(wi.last, "000000020000000000000007");
    assert_double_exact(wi.wals_per_second, 2.0 / 100.0);
    cat_backup_clear(&b);

    /* timeline 3 segments sort after a timeline 2 backup and are skipped */
    struct xdb db3;
    assert_int_equal(parse("000000020000000000000008\t100\t10.0\tNone\n"
                           "000000030000000000000007\t200\t20.0\tNone\n"
                           "000000030000000000000008\t300\t30.0\tNone\n",
                           &db3, NULL),
                     0);
    backup_with(&b, "000000020000000000000007", "000000020000000000000008");
    xdb_backup_wal_info(&db3, &b, NULL, &wi);
    /* begin 07 is not archived: 08 is counted, but without a first WAL
     * Barman computes no rate and no ratio */
    assert_int_equal(wi.wal_num, 1);
    assert_int_equal(wi.wal_size, 100);
    assert_int_equal(wi.until_next_num, 0);
    assert_null(wi.first);
    assert_string_equal(wi.last, "000000020000000000000008");
    assert_double_exact(wi.compression_ratio, 0.0);
    assert_double_exact(wi.wals_per_second, 0.0);
    cat_backup_clear(&b);
    xdb_free(&db3);
    xdb_free(&db);
}

static void test_xdb_backup_wal_info_begin_not_archived(void **state)
{
    (void)state;
    struct xdb db;
    assert_int_equal(parse(archive, &db, NULL), 0);
    struct cat_backup b;
    /* Barman still counts the files but computes no rate nor ratio when
     * the first WAL of the backup is missing */
    backup_with(&b, "000000010000000000000001", "000000010000000000000002");
    struct xdb_wal_info wi;
    xdb_backup_wal_info(&db, &b, "000000010000000000000004", &wi);
    assert_int_equal(wi.wal_num, 1);
    assert_int_equal(wi.wal_size, 1000);
    assert_int_equal(wi.until_next_num, 2);
    assert_int_equal(wi.until_next_size, 6000);
    assert_null(wi.first);
    assert_string_equal(wi.last, "000000010000000000000004");
    assert_double_exact(wi.wals_per_second, 0.0);
    assert_double_exact(wi.compression_ratio, 0.0);
    assert_double_exact(wi.until_next_compression_ratio, 0.0);
    cat_backup_clear(&b);
    xdb_free(&db);
}

static void test_xdb_backup_wal_info_single_wal_and_segment_size(void **state)
{
    (void)state;
    struct xdb db;
    assert_int_equal(parse("000000010000000000000003\t6000\t200.0\tgzip\n"
                           "000000010000000000000004\t16777216\t210.0\tNone\n",
                           &db, NULL),
                     0);
    struct cat_backup b;
    backup_with(&b, "000000010000000000000003", "000000010000000000000003");
    b.xlog_segment_size.v = 33554432; /* 32 MiB segments */
    struct xdb_wal_info wi;
    xdb_backup_wal_info(&db, &b, "000000010000000000000003", &wi);
    /* the next backup ends where this one does: nothing after it */
    assert_int_equal(wi.wal_num, 1);
    assert_int_equal(wi.until_next_num, 0);
    assert_string_equal(wi.first, "000000010000000000000003");
    assert_string_equal(wi.last, "000000010000000000000003");
    /* first and last are the same file: no time span, no rate */
    assert_double_exact(wi.wals_per_second, 0.0);
    /* 1 - 6000 / (1 * 32 MiB) */
    assert_double_exact(wi.compression_ratio, 1.0 - 6000.0 / 33554432.0);
    assert_double_exact(wi.until_next_compression_ratio, 0.0);
    cat_backup_clear(&b);

    /* an uncompressed WAL has ratio 0 */
    backup_with(&b, "000000010000000000000004", "000000010000000000000004");
    xdb_backup_wal_info(&db, &b, NULL, &wi);
    assert_int_equal(wi.wal_num, 1);
    assert_int_equal(wi.wal_size, 16777216);
    assert_double_exact(wi.compression_ratio, 0.0);
    cat_backup_clear(&b);
    xdb_free(&db);
}

static void test_xdb_backup_wal_info_missing_begin_or_end(void **state)
{
    (void)state;
    struct xdb db;
    assert_int_equal(parse(archive, &db, NULL), 0);
    struct cat_backup b;
    struct xdb_wal_info wi;
    backup_with(&b, NULL, "000000010000000000000004");
    memset(&wi, 0xff, sizeof wi);
    xdb_backup_wal_info(&db, &b, NULL, &wi);
    assert_int_equal(wi.wal_num, 0);
    assert_int_equal(wi.until_next_num, 0);
    assert_int_equal(wi.wal_size, 0);
    assert_null(wi.first);
    assert_null(wi.last);
    assert_double_exact(wi.wals_per_second, 0.0);
    cat_backup_clear(&b);

    backup_with(&b, "000000010000000000000003", NULL);
    memset(&wi, 0xff, sizeof wi);
    xdb_backup_wal_info(&db, &b, NULL, &wi);
    assert_int_equal(wi.wal_num, 0);
    assert_int_equal(wi.until_next_size, 0);
    assert_null(wi.last);
    cat_backup_clear(&b);

    /* an empty archive */
    struct xdb empty = {0};
    backup_with(&b, "000000010000000000000003", "000000010000000000000004");
    xdb_backup_wal_info(&empty, &b, NULL, &wi);
    assert_int_equal(wi.wal_num, 0);
    assert_null(wi.first);
    assert_null(wi.last);
    cat_backup_clear(&b);
    xdb_free(&db);
}

static struct xdb_entry entry(const char *name, uint64_t size, double time, const char *comp)
{
    struct xdb_entry e = {0};
    snprintf(e.name, sizeof e.name, "%s", name);
    e.size = size;
    e.time = time;
    snprintf(e.compression, sizeof e.compression, "%s", comp);
    return e;
}

static void test_xdb_append_creates_and_appends(void **state)
{
    (void)state;
    struct xdb_entry e[2] = {entry("000000010000000000000002", 16485, 1795491742.848235, "gzip"),
                             entry("000000010000000000000003", 16777216, 1795491800.5, "")};
    struct cel_err err = {0};
    assert_int_equal(xdb_append(HOME(unit_tmp, NULL), e, 1, &err), 0);
    assert_int_equal(xdb_append(HOME(unit_tmp, NULL), e + 1, 1, &err), 0);
    assert_int_equal(xdb_append(HOME(unit_tmp, NULL), e, 0, &err), 0);
    char *text = unit_read(unit_path("xlog.db"));
    assert_string_equal(text, "000000010000000000000002\t16485\t1795491742.848235\tgzip\n"
                              "000000010000000000000003\t16777216\t1795491800.5\tNone\n");
    free(text);
    struct stat st;
    assert_int_equal(stat(unit_path("xlog.db"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    struct xdb db;
    assert_int_equal(xdb_read(HOME(unit_tmp, NULL), &db, &err), 0);
    assert_int_equal(db.n, 2);
    assert_non_null(xdb_find(&db, "000000010000000000000003"));
    assert_null(xdb_find(&db, "000000010000000000000004"));
    xdb_free(&db);
    assert_int_equal(xdb_append(HOME(unit_path("nodir"), NULL), e, 1, &err), -CEL_E_IO);
}

/* xlog.db that is a symbolic link (planted in barman_home) is not appended
 * through: the file it points to stays as it was. */
static void test_xdb_append_refuses_symlink(void **state)
{
    (void)state;
    struct xdb_entry e = entry("000000010000000000000002", 16485, 1795491742.848235, "gzip");
    unit_write("victim", "precious\n");
    assert_int_equal(symlink(unit_path("victim"), unit_path("xlog.db")), 0);
    struct cel_err err = {0};
    assert_int_equal(xdb_append(HOME(unit_tmp, NULL), &e, 1, &err), -CEL_E_IO);
    char *expected =
        cel_xasprintf("'%s/xlog.db' is a symbolic link: cellar does not write through links: %s",
                      unit_tmp, strerror(ELOOP));
    assert_string_equal(err.msg, expected);
    free(expected);
    assert_string_equal(err.hint, "Remove the link; 'cellar rebuild-xlogdb' writes a new index.");
    char *text = unit_read(unit_path("victim"));
    assert_string_equal(text, "precious\n");
    free(text);
}

/* A write cut short (here by RLIMIT_FSIZE, as a full disk would cut it)
 * leaves no half line behind: the file is truncated back. */
static void test_xdb_append_cut_short_is_taken_back(void **state)
{
    (void)state;
    struct xdb_entry e[2] = {entry("000000010000000000000002", 16485, 1795491742.848235, "gzip"),
                             entry("000000010000000000000003", 16777216, 1795491800.5, "")};
    struct cel_err err = {0};
    assert_int_equal(xdb_append(HOME(unit_tmp, NULL), e, 1, &err), 0);
    const char *first = "000000010000000000000002\t16485\t1795491742.848235\tgzip\n";
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = strlen(first) + 10; /* room for 10 bytes of the next line */
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = xdb_append(HOME(unit_tmp, NULL), e + 1, 1, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, -CEL_E_IO);
    assert_non_null(strstr(err.msg, "cannot append to '"));
    assert_non_null(strstr(err.msg, "xlog.db': File too large"));
    char *text = unit_read(unit_path("xlog.db"));
    assert_string_equal(text, first);
    free(text);
}

static void test_xdb_put_and_rewrite_keep_order(void **state)
{
    (void)state;
    struct xdb db = {0};
    struct xdb_entry a = entry("000000010000000000000005", 1, 5.0, ""),
                     b = entry("000000010000000000000003", 2, 3.0, "zstd"),
                     c = entry("00000002.history", 42, 9.0, "");
    xdb_put(&db, &a);
    xdb_put(&db, &c);
    xdb_put(&db, &b);
    b.size = 7;
    xdb_put(&db, &b); /* replaces */
    assert_int_equal(db.n, 3);
    assert_string_equal(db.entries[0].name, "000000010000000000000003");
    assert_int_equal(db.entries[0].size, 7);
    assert_string_equal(db.entries[1].name, "000000010000000000000005");
    assert_string_equal(db.entries[2].name, "00000002.history");
    struct cel_err err = {0};
    unit_write(".xlog.db.tmp.Xy12Zq", "left by a rewrite killed before its rename");
    assert_int_equal(xdb_rewrite(HOME(unit_tmp, NULL), &db, &err), 0);
    assert_int_equal(access(unit_path(".xlog.db.tmp.Xy12Zq"), F_OK), -1);
    char *text = unit_read(unit_path("xlog.db"));
    assert_string_equal(text, "000000010000000000000003\t7\t3.0\tzstd\n"
                              "000000010000000000000005\t1\t5.0\tNone\n"
                              "00000002.history\t42\t9.0\tNone\n");
    free(text);
    xdb_free(&db);
    /* missing file reads as empty */
    unit_mkdir("empty");
    assert_int_equal(xdb_read(HOME(unit_path("empty"), NULL), &db, &err), 0);
    assert_int_equal(db.n, 0);
}

/* ---- xdb_scan_wal_info: the streaming pass gives the loaded way's answer -------------- */

/* Compare, for backups (chained: each one's next_end_wal is the next's
 * end_wal), the streaming pass over the file wals/xlog.db holding text
 * with xdb_backup_wal_info over the parsed text. */
static void assert_scan_equals_loaded(const char *text, struct cat_backup *b, size_t n)
{
    unit_mkdir("wals");
    unit_mkdir("lock");
    unit_write("wals/xlog.db", text);
    struct xdb db;
    assert_int_equal(parse(text, &db, NULL), 0);
    struct xdb_wal_scan *scans = cel_xcalloc(n, sizeof *scans);
    for (size_t i = 0; i < n; i++) {
        scans[i].b = &b[i];
        scans[i].next_end_wal = i + 1 < n ? b[i + 1].end_wal : NULL;
    }
    assert_true(xdb_scan_wal_info(HOME(unit_path("wals"), unit_path("lock")), scans, n));
    for (size_t i = 0; i < n; i++) {
        struct xdb_wal_info want;
        xdb_backup_wal_info(&db, &b[i], scans[i].next_end_wal, &want);
        const struct xdb_wal_info *got = &scans[i].info;
        assert_int_equal(got->wal_num, want.wal_num);
        assert_int_equal(got->wal_size, want.wal_size);
        assert_int_equal(got->until_next_num, want.until_next_num);
        assert_int_equal(got->until_next_size, want.until_next_size);
        if (want.first)
            assert_string_equal(got->first, want.first);
        else
            assert_null(got->first);
        if (want.last)
            assert_string_equal(got->last, want.last);
        else
            assert_null(got->last);
        assert_double_exact(got->first_time, want.first_time);
        assert_double_exact(got->last_time, want.last_time);
        assert_double_exact(got->wals_per_second, want.wals_per_second);
        assert_double_exact(got->compression_ratio, want.compression_ratio);
        assert_double_exact(got->until_next_compression_ratio, want.until_next_compression_ratio);
    }
    free(scans);
    xdb_free(&db);
}

static void test_xdb_scan_wal_info_fixture_sorted_and_not(void **state)
{
    (void)state;
    struct cat_backup b[3];
    backup_with(&b[0], "000000010000000000000002", "000000010000000000000003");
    backup_with(&b[1], "000000010000000000000003", "000000010000000000000004");
    backup_with(&b[2], "000000020000000000000006", "000000020000000000000006");
    assert_scan_equals_loaded(archive, b, 3);
    /* the same lines in another order (Barman appends in archive order) */
    static const char shuffled[] = "00000002.history\t42\t550.0\tNone\n"
                                   "000000010000000000000006\t6000\t500.0\tgzip\n"
                                   "000000020000000000000007\t9000\t650.0\tgzip\n"
                                   "000000010000000000000002\t1000\t100.0\tgzip\n"
                                   "000000010000000000000005.partial\t16777216\t401.0\tNone\n"
                                   "000000010000000000000004\t4000\t300.0\tgzip\n"
                                   "000000020000000000000006\t8000\t550.0\tgzip\n"
                                   "000000010000000000000003\t2000\t200.0\tgzip\n"
                                   "000000010000000000000007\t7000\t600.0\tgzip\n"
                                   "000000010000000000000005\t5000\t400.0\tgzip\n"
                                   "000000010000000000000003.00000028.backup\t300\t201.0\tgzip\n";
    assert_scan_equals_loaded(shuffled, b, 3);
    for (size_t i = 0; i < 3; i++)
        cat_backup_clear(&b[i]);
}

/* Many backups over a long archive on two timelines, the file longer than
 * the pass's 1 MiB chunk, lines in a scrambled order. */
static void test_xdb_scan_wal_info_long_archive(void **state)
{
    (void)state;
    enum { SEGS = 40000, BACKUPS = 37 };
    struct strbuf text = {0};
    for (unsigned k = 0; k < SEGS; k++) {
        unsigned n = (k * 7919u) % SEGS; /* 7919 is prime: a permutation */
        unsigned tli = n < SEGS / 2 ? 1 : 2;
        sb_appendf(&text, "%08X%08X%08X\t%u\t%u.5\t%s\n", tli, n / 256, n % 256, 1000 + n % 97,
                   100 + n * 10, n % 3 ? "gzip" : "None");
    }
    struct cat_backup b[BACKUPS];
    for (unsigned i = 0; i < BACKUPS; i++) {
        unsigned first = i * (SEGS / BACKUPS), last = first + 3;
        unsigned tli = first < SEGS / 2 ? 1 : 2;
        char begin[WAL_NAME_MAX], end[WAL_NAME_MAX];
        snprintf(begin, sizeof begin, "%08X%08X%08X", tli, first / 256, first % 256);
        snprintf(end, sizeof end, "%08X%08X%08X", tli, last / 256, last % 256);
        backup_with(&b[i], begin, end);
    }
    assert_true(text.len > ((size_t)1 << 20));
    assert_scan_equals_loaded(sb_str(&text), b, BACKUPS);
    for (unsigned i = 0; i < BACKUPS; i++)
        cat_backup_clear(&b[i]);
    sb_free(&text);
}

/* What the pass leaves to the loaded way, which repairs or reports. */
static void test_xdb_scan_wal_info_gives_up(void **state)
{
    (void)state;
    unit_mkdir("wals");
    unit_mkdir("lock");
    struct cat_backup b[2];
    backup_with(&b[0], "000000010000000000000002", "000000010000000000000003");
    backup_with(&b[1], "000000010000000000000004", "000000010000000000000005");
    struct xdb_wal_scan scans[2] = {{.b = &b[0], .next_end_wal = b[1].end_wal}, {.b = &b[1]}};
    char *wals = cel_xstrdup(unit_path("wals")), *lock = cel_xstrdup(unit_path("lock"));
    const struct xdb_home *h = HOME(wals, lock); /* unit_path's buffers are reused */
    /* no catalogue yet: nothing archived, every count 0 */
    assert_true(xdb_scan_wal_info(h, scans, 2));
    assert_int_equal(scans[0].info.wal_num, 0);
    /* a last line cut short by a killed writer */
    assert_false(xdb_is_cut(h));
    unit_write("wals/xlog.db", "000000010000000000000002\t1\t1.0\tNone\n000000010000000000000003\t2");
    assert_true(xdb_is_cut(h));
    assert_false(xdb_scan_wal_info(h, scans, 2));
    /* with no backup to count for too: the loaded way repairs the line */
    assert_false(xdb_scan_wal_info(h, scans, 0));
    /* a line that does not parse */
    unit_write("wals/xlog.db", "000000010000000000000002\t1\t1.0\tNone\nnot a line\n");
    assert_false(xdb_scan_wal_info(h, scans, 2));
    /* a whole file answers */
    unit_write("wals/xlog.db", "000000010000000000000002\t1\t1.0\tNone\n");
    assert_false(xdb_is_cut(h));
    assert_true(xdb_scan_wal_info(h, scans, 0));
    assert_true(xdb_scan_wal_info(h, scans, 2));
    assert_int_equal(scans[0].info.wal_num, 1);
    /* ranges out of order: the older backup's range ends after the newer's */
    scans[0].next_end_wal = "000000010000000000000009";
    scans[1].next_end_wal = "000000010000000000000006";
    assert_false(xdb_scan_wal_info(h, scans, 2));
    cat_backup_clear(&b[0]);
    cat_backup_clear(&b[1]);
    free(wals);
    free(lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_xdb_append_creates_and_appends, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_append_refuses_symlink, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_append_cut_short_is_taken_back, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_put_and_rewrite_keep_order, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_read_cut_last_line_cut_in_its_fields,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_read_cut_last_line_cut_in_its_name,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_read_cut_whole_file_is_not_cut, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_read_damaged_forms, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_read_strict_on_a_cut_line, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_load_hint_names_the_server, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_load_newest_skips_a_cut_last_line,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test(test_xdb_parse_four_and_three_fields),
        cmocka_unit_test(test_xdb_parse_none_compression_and_any_whitespace),
        cmocka_unit_test(test_xdb_parse_unsorted_input_is_sorted),
        cmocka_unit_test(test_xdb_parse_empty_text),
        cmocka_unit_test(test_xdb_parse_field_count_errors),
        cmocka_unit_test(test_xdb_parse_nul_inside_a_field),
        cmocka_unit_test(test_xdb_parse_bad_name),
        cmocka_unit_test(test_xdb_parse_bad_size),
        cmocka_unit_test(test_xdb_parse_negative_size),
        cmocka_unit_test(test_xdb_parse_bad_time),
        cmocka_unit_test(test_xdb_parse_bad_compression),
        cmocka_unit_test(test_xdb_parse_five_fields),
        cmocka_unit_test(test_xdb_parse_mixed_field_counts),
        cmocka_unit_test(test_xdb_parse_bad_encryption),
        cmocka_unit_test(test_xdb_parse_every_field_count),
        cmocka_unit_test(test_xdb_format_line_five_fields),
        cmocka_unit_test(test_xdb_lower_bound),
        cmocka_unit_test(test_xdb_format_line_as_barman),
        cmocka_unit_test(test_xdb_format_line_round_trip),
        cmocka_unit_test_setup_teardown(test_xdb_load_missing_file_is_empty_without_lock,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_load_present_file_takes_lock, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_load_bad_file_names_path_and_line,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_load_newest_missing_and_empty, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_load_newest_latest_time_of_the_last_lines,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_load_newest_reads_only_the_tail, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_xdb_backup_wal_info_split_at_end_and_stop_at_next),
        cmocka_unit_test(test_xdb_backup_wal_info_newest_backup_excludes_higher_timelines),
        cmocka_unit_test(test_xdb_backup_wal_info_backup_on_timeline_2),
        cmocka_unit_test(test_xdb_backup_wal_info_begin_not_archived),
        cmocka_unit_test(test_xdb_backup_wal_info_single_wal_and_segment_size),
        cmocka_unit_test(test_xdb_backup_wal_info_missing_begin_or_end),
        cmocka_unit_test_setup_teardown(test_xdb_scan_wal_info_fixture_sorted_and_not, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_scan_wal_info_long_archive, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_xdb_scan_wal_info_gives_up, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
