/*
 * Unit tests of src/core/wal/wal.c: WAL names, segment arithmetic and LSNs.
 *
 * Expected values come from PostgreSQL's own behaviour (pg_walfile_name,
 * "%X/%X" LSNs) and Barman's layout (upper-case hash directories), never
 * from the code under test. Error cases assert the exact message, and that
 * the output argument was left alone.
 */
#include "unit.h"

#include "wal.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define SEG16 (16 * MIB)

/* n copies of the string unit into a static buffer (one of 4), for building
 * long hostile inputs and the messages expected for them. */
static const char *rep(const char *unit, size_t n)
{
    static char bufs[4][120000];
    static int next;
    char *b = bufs[next++ % 4];
    size_t ul = strlen(unit), o = 0;
    assert_true(ul * n < sizeof bufs[0]);
    for (size_t i = 0; i < n; i++, o += ul)
        memcpy(b + o, unit, ul);
    b[o] = '\0';
    return b;
}

/* Concatenate up to four strings into a static buffer (one of 4). */
static const char *cat4(const char *a, const char *b, const char *c, const char *d)
{
    static char bufs[4][240000];
    static int next;
    char *out = bufs[next++ % 4];
    snprintf(out, sizeof bufs[0], "%s%s%s%s", a, b, c ? c : "", d ? d : "");
    return out;
}

/*
 * name must be refused by wal_name_parse with exactly msg (and hint, "" for
 * none); the output is untouched, wal_name_is_valid agrees and wal_hash_dir
 * fails the same way with an empty directory. Reported at the caller's line.
 */
#define assert_name_invalid(name, msg, hint) check_name_invalid(name, msg, hint, __FILE__, __LINE__)

static void check_name_invalid(const char *name, const char *msg, const char *hint,
                               const char *file, int line)
{
    struct cel_err err = {0};
    struct wal_name w = {.kind = WAL_KIND_HISTORY, .tli = 77, .log = 78, .seg = 79, .offset = 80};
    _assert_int_equal((uintmax_t)(intmax_t)wal_name_parse(name, &w, &err),
                      (uintmax_t)(intmax_t)-CEL_E_INVALID, file, line);
    _assert_int_equal((uintmax_t)err.code, CEL_E_INVALID, file, line);
    _assert_string_equal(err.msg, msg, file, line);
    _assert_string_equal(err.hint, hint, file, line);
    _assert_true(w.kind == WAL_KIND_HISTORY && w.tli == 77 && w.log == 78 && w.seg == 79 &&
                     w.offset == 80,
                 "output untouched", file, line);
    _assert_true(!wal_name_is_valid(name), "wal_name_is_valid is false", file, line);
    _assert_int_equal((uintmax_t)(intmax_t)wal_name_parse(name, &w, NULL),
                      (uintmax_t)(intmax_t)-CEL_E_INVALID, file, line);

    char dir[17] = "junk";
    struct cel_err herr = {0};
    _assert_int_equal((uintmax_t)(intmax_t)wal_hash_dir(name, dir, &herr),
                      (uintmax_t)(intmax_t)-CEL_E_INVALID, file, line);
    _assert_string_equal(dir, "", file, line);
    _assert_string_equal(herr.msg, msg, file, line);
}

/* text must be refused by wal_lsn_parse with exactly msg, output untouched. */
#define assert_lsn_invalid(text, msg) check_lsn_invalid(text, msg, __FILE__, __LINE__)

static void check_lsn_invalid(const char *text, const char *msg, const char *file, int line)
{
    struct cel_err err = {0};
    uint64_t lsn = 0x1234;
    _assert_int_equal((uintmax_t)(intmax_t)wal_lsn_parse(text, &lsn, &err),
                      (uintmax_t)(intmax_t)-CEL_E_INVALID, file, line);
    _assert_int_equal((uintmax_t)err.code, CEL_E_INVALID, file, line);
    _assert_string_equal(err.msg, msg, file, line);
    _assert_int_equal(lsn, 0x1234, file, line);
    _assert_int_equal((uintmax_t)(intmax_t)wal_lsn_parse(text, &lsn, NULL),
                      (uintmax_t)(intmax_t)-CEL_E_INVALID, file, line);
}

/* Parse name, which must be valid, and return the result. */
static struct wal_name parse_ok(const char *name)
{
    struct cel_err err = {0};
    struct wal_name w;
    memset(&w, 0xAB, sizeof w);
    assert_int_equal(wal_name_parse(name, &w, &err), 0);
    assert_int_equal(err.code, 0);
    return w;
}

/* ---- wal_name_parse: every kind ---- */

static void test_wal_name_parse_segment(void **state)
{
    (void)state;
    struct wal_name w = parse_ok("000000010000000000000002");
    assert_int_equal(w.kind, WAL_KIND_SEGMENT);
    assert_int_equal(w.tli, 1);
    assert_int_equal(w.log, 0);
    assert_int_equal(w.seg, 2);
    assert_int_equal(w.offset, 0);

    w = parse_ok("0000000A00000016000000B3");
    assert_int_equal(w.tli, 10);
    assert_int_equal(w.log, 0x16);
    assert_int_equal(w.seg, 0xB3);
}

static void test_wal_name_parse_lower_case(void **state)
{
    (void)state;
    struct wal_name w = parse_ok("0000000a0000001b000000fe");
    assert_int_equal(w.kind, WAL_KIND_SEGMENT);
    assert_int_equal(w.tli, 0xA);
    assert_int_equal(w.log, 0x1B);
    assert_int_equal(w.seg, 0xFE);

    w = parse_ok("0000000aFFFFFFFFdeadbeef.cafebabe.backup");
    assert_int_equal(w.kind, WAL_KIND_BACKUP_LABEL);
    assert_int_equal(w.log, 0xFFFFFFFF);
    assert_int_equal(w.seg, 0xDEADBEEF);
    assert_int_equal(w.offset, 0xCAFEBABE);
}

static void test_wal_name_parse_partial(void **state)
{
    (void)state;
    struct wal_name w = parse_ok("000000020000000300000004.partial");
    assert_int_equal(w.kind, WAL_KIND_PARTIAL);
    assert_int_equal(w.tli, 2);
    assert_int_equal(w.log, 3);
    assert_int_equal(w.seg, 4);
    assert_int_equal(w.offset, 0);
}

static void test_wal_name_parse_backup_label(void **state)
{
    (void)state;
    struct wal_name w = parse_ok("000000010000000000000002.00000028.backup");
    assert_int_equal(w.kind, WAL_KIND_BACKUP_LABEL);
    assert_int_equal(w.tli, 1);
    assert_int_equal(w.log, 0);
    assert_int_equal(w.seg, 2);
    assert_int_equal(w.offset, 0x28);
}

static void test_wal_name_parse_history(void **state)
{
    (void)state;
    struct wal_name w = parse_ok("00000002.history");
    assert_int_equal(w.kind, WAL_KIND_HISTORY);
    assert_int_equal(w.tli, 2);
    assert_int_equal(w.log, 0);
    assert_int_equal(w.seg, 0);
    assert_int_equal(w.offset, 0);

    w = parse_ok("fffffffe.history");
    assert_int_equal(w.tli, 0xFFFFFFFE);
}

static void test_wal_name_parse_largest_values(void **state)
{
    (void)state;
    struct wal_name w = parse_ok("FFFFFFFFFFFFFFFFFFFFFFFF.FFFFFFFF.backup");
    assert_int_equal(w.tli, 0xFFFFFFFF);
    assert_int_equal(w.log, 0xFFFFFFFF);
    assert_int_equal(w.seg, 0xFFFFFFFF);
    assert_int_equal(w.offset, 0xFFFFFFFF);
}

/* ---- wal_name_parse: refusals ---- */

static void test_wal_name_parse_wrong_length(void **state)
{
    (void)state;
    assert_name_invalid("00000001000000000000000",
                        "invalid WAL file name '00000001000000000000000': expected 24 "
                        "hexadecimal digits, found 23 characters",
                        "");
    assert_name_invalid("0000000100000000000000001",
                        "invalid WAL file name '0000000100000000000000001': expected 24 "
                        "hexadecimal digits, found 25 characters",
                        "");
    assert_name_invalid("",
                        "invalid WAL file name '': expected 24 hexadecimal digits, found 0 "
                        "characters",
                        "");
    assert_name_invalid("00000001",
                        "invalid WAL file name '00000001': expected 24 hexadecimal "
                        "digits, found 8 characters",
                        "");
    /* Python's "$" lets Barman accept a trailing newline; we do not */
    assert_name_invalid("000000010000000000000001\n",
                        "invalid WAL file name '000000010000000000000001\\x0A': expected 24 "
                        "hexadecimal digits, found 25 characters",
                        "");
    /* a directory is not part of a bare name */
    assert_name_invalid("wals/000000010000000000000001",
                        "invalid WAL file name 'wals/000000010000000000000001': expected 24 "
                        "hexadecimal digits, found 29 characters",
                        "");
}

static void test_wal_name_parse_wrong_length_before_suffix(void **state)
{
    (void)state;
    assert_name_invalid("0000001.history",
                        "invalid WAL file name '0000001.history': expected 8 hexadecimal digits "
                        "before '.history', found 7 characters",
                        "");
    assert_name_invalid("000000010000000000000001.history",
                        "invalid WAL file name '000000010000000000000001.history': expected 8 "
                        "hexadecimal digits before '.history', found 24 characters",
                        "");
    assert_name_invalid("00000001.partial",
                        "invalid WAL file name '00000001.partial': expected 24 hexadecimal digits "
                        "before '.partial', found 8 characters",
                        "");
    assert_name_invalid("00000001000000000000001.00000028.backup",
                        "invalid WAL file name '00000001000000000000001.00000028.backup': "
                        "expected 24 hexadecimal digits before '.00000028.backup', found 23 "
                        "characters",
                        "");
    assert_name_invalid(".history",
                        "invalid WAL file name '.history': expected 8 hexadecimal "
                        "digits before '.history', found 0 characters",
                        "");
}

static void test_wal_name_parse_non_hex(void **state)
{
    (void)state;
    assert_name_invalid("00000001000000000000000G",
                        "invalid WAL file name '00000001000000000000000G': character 24 ('G') is "
                        "not a hexadecimal digit",
                        "");
    assert_name_invalid("0000000100000000g0000001",
                        "invalid WAL file name '0000000100000000g0000001': character 17 ('g') is "
                        "not a hexadecimal digit",
                        "");
    assert_name_invalid(" 00000010000000000000001",
                        "invalid WAL file name ' 00000010000000000000001': character 1 (' ') is "
                        "not a hexadecimal digit",
                        "");
    assert_name_invalid("0000000x.history",
                        "invalid WAL file name '0000000x.history': character 8 ('x') is not a "
                        "hexadecimal digit",
                        "");
    assert_name_invalid("000000010000000000000z01.partial",
                        "invalid WAL file name '000000010000000000000z01.partial': character 22 "
                        "('z') is not a hexadecimal digit",
                        "");
    /* an Arabic-Indic digit zero (U+0660, two bytes): Python's \d takes it,
     * we take ASCII only */
    assert_name_invalid("0000000100000000000000\xd9\xa0",
                        "invalid WAL file name '0000000100000000000000\\xD9\\xA0': character 23 "
                        "('\\xD9') is not a hexadecimal digit",
                        "");
    /* quote and backslash are escaped so the quoting stays unambiguous */
    assert_name_invalid("00000001000000000000000'",
                        "invalid WAL file name '00000001000000000000000\\x27': character 24 "
                        "('\\x27') is not a hexadecimal digit",
                        "");
    assert_name_invalid("0000000100000000000000\\1",
                        "invalid WAL file name '0000000100000000000000\\x5C1': character 23 "
                        "('\\x5C') is not a hexadecimal digit",
                        "");
    assert_name_invalid("\x01"
                        "\x7f"
                        "0000010000000000000000001",
                        "invalid WAL file name '\\x01\\x7F0000010000000000000000001': expected 24 "
                        "hexadecimal digits, found 27 characters",
                        "");
}

static void test_wal_name_parse_bad_suffix(void **state)
{
    (void)state;
    const char *hint = "WAL archive files are named <24 hex digits>, <24 hex digits>.partial, "
                       "<24 hex digits>.<8 hex digits>.backup or <8 hex digits>.history.";
    assert_name_invalid("000000010000000000000001.gz",
                        "invalid WAL file name '000000010000000000000001.gz': unknown suffix '.gz'",
                        hint);
    assert_name_invalid("000000010000000000000001.PARTIAL",
                        "invalid WAL file name '000000010000000000000001.PARTIAL': unknown suffix "
                        "'.PARTIAL'",
                        hint);
    assert_name_invalid("000000010000000000000001.",
                        "invalid WAL file name '000000010000000000000001.': unknown suffix '.'",
                        hint);
    assert_name_invalid("000000010000000000000001.partial.gz",
                        "invalid WAL file name '000000010000000000000001.partial.gz': unknown "
                        "suffix '.partial.gz'",
                        hint);
    assert_name_invalid("00000002.history.tmp",
                        "invalid WAL file name '00000002.history.tmp': unknown suffix "
                        "'.history.tmp'",
                        hint);
    assert_name_invalid("00000002.histor\xc3\xbf",
                        "invalid WAL file name '00000002.histor\\xC3\\xBF': unknown suffix "
                        "'.histor\\xC3\\xBF'",
                        hint);
}

static void test_wal_name_parse_backup_bad_offset(void **state)
{
    (void)state;
    assert_name_invalid("000000010000000000000002.0028.backup",
                        "invalid WAL file name '000000010000000000000002.0028.backup': backup "
                        "label offset '0028' is not 8 hexadecimal digits",
                        "");
    assert_name_invalid("000000010000000000000002.000000028.backup",
                        "invalid WAL file name '000000010000000000000002.000000028.backup': "
                        "backup label offset '000000028' is not 8 hexadecimal digits",
                        "");
    assert_name_invalid("000000010000000000000002.0000002G.backup",
                        "invalid WAL file name '000000010000000000000002.0000002G.backup': "
                        "backup label offset '0000002G' is not 8 hexadecimal digits",
                        "");
    assert_name_invalid("000000010000000000000002.backup",
                        "invalid WAL file name '000000010000000000000002.backup': backup label "
                        "offset '' is not 8 hexadecimal digits",
                        "");
    assert_name_invalid("000000010000000000000002..backup",
                        "invalid WAL file name '000000010000000000000002..backup': backup label "
                        "offset '' is not 8 hexadecimal digits",
                        "");
    assert_name_invalid("000000010000000000000002.0000.028.backup",
                        "invalid WAL file name '000000010000000000000002.0000.028.backup': "
                        "backup label offset '0000.028' is not 8 hexadecimal digits",
                        "");
}

static void test_wal_name_parse_timeline_zero(void **state)
{
    (void)state;
    assert_name_invalid("000000000000000000000001",
                        "invalid WAL file name '000000000000000000000001': timeline 0 does not "
                        "exist (timelines start at 1)",
                        "");
    assert_name_invalid("00000000.history",
                        "invalid WAL file name '00000000.history': timeline 0 does not exist "
                        "(timelines start at 1)",
                        "");
    assert_name_invalid("000000000000000000000001.partial",
                        "invalid WAL file name '000000000000000000000001.partial': timeline 0 "
                        "does not exist (timelines start at 1)",
                        "");
    assert_name_invalid("000000000000000000000001.00000028.backup",
                        "invalid WAL file name '000000000000000000000001.00000028.backup': "
                        "timeline 0 does not exist (timelines start at 1)",
                        "");
}

static void test_wal_name_parse_hostile_long_input(void **state)
{
    (void)state;
    /* 100000 hex digits: the count is exact, the quote stops at 64 characters */
    assert_name_invalid(rep("A", 100000),
                        cat4("invalid WAL file name '", rep("A", 64),
                             "...': expected 24 hexadecimal digits, found 100000 characters", NULL),
                        "");
    /* 64 characters are shown whole, 65 are cut */
    assert_name_invalid(rep("B", 64),
                        cat4("invalid WAL file name '", rep("B", 64),
                             "': expected 24 hexadecimal digits, found 64 characters", NULL),
                        "");
    assert_name_invalid(rep("B", 65),
                        cat4("invalid WAL file name '", rep("B", 64),
                             "...': expected 24 hexadecimal digits, found 65 characters", NULL),
                        "");
    /* high-bit bytes are escaped, 4 characters each, so 16 of them fit */
    assert_name_invalid(rep("\xff", 1000),
                        cat4("invalid WAL file name '", rep("\\xFF", 16),
                             "...': expected 24 hexadecimal digits, found 1000 characters", NULL),
                        "");
    /* a long unknown suffix is cut in both quotes */
    const char *name = cat4("000000010000000000000001.", rep("z", 5000), NULL, NULL);
    char msg[600];
    snprintf(msg, sizeof msg,
             "invalid WAL file name '000000010000000000000001.%s...': unknown suffix '.%s...'",
             rep("z", 39), rep("z", 63));
    assert_name_invalid(name, msg,
                        "WAL archive files are named <24 hex digits>, <24 hex digits>.partial, "
                        "<24 hex digits>.<8 hex digits>.backup or <8 hex digits>.history.");
    /* a long control-byte offset of a backup label */
    name = cat4("000000010000000000000002.", rep("\x01", 1000), ".backup", NULL);
    snprintf(msg, sizeof msg,
             "invalid WAL file name '000000010000000000000002.%s...': backup label offset "
             "'%s...' is not 8 hexadecimal digits",
             rep("\\x01", 9), rep("\\x01", 16));
    assert_name_invalid(name, msg, "");
}

/* ---- wal_name_is_valid ---- */

static void test_wal_name_is_valid_each_kind(void **state)
{
    (void)state;
    assert_true(wal_name_is_valid("000000010000000000000002"));
    assert_true(wal_name_is_valid("000000010000000000000002.partial"));
    assert_true(wal_name_is_valid("000000010000000000000002.00000028.backup"));
    assert_true(wal_name_is_valid("00000002.history"));
    assert_true(wal_name_is_valid("0000000a0000000b0000000c"));
    assert_false(wal_name_is_valid("000000000000000000000002"));
    assert_false(wal_name_is_valid("000000010000000000000002.gz"));
    assert_false(wal_name_is_valid("xlog.db"));
    assert_false(wal_name_is_valid(""));
}

/* ---- wal_name_format ---- */

/* Parse in, format it, expect out; then out must parse to the same value. */
static void check_round_trip(const char *in, const char *out)
{
    struct wal_name w = parse_ok(in);
    char name[WAL_NAME_MAX];
    wal_name_format(&w, name);
    assert_string_equal(name, out);
    struct wal_name again = parse_ok(name);
    assert_int_equal(again.kind, w.kind);
    assert_int_equal(again.tli, w.tli);
    assert_int_equal(again.log, w.log);
    assert_int_equal(again.seg, w.seg);
    assert_int_equal(again.offset, w.offset);
}

static void test_wal_name_format_round_trip_each_kind(void **state)
{
    (void)state;
    check_round_trip("000000010000000000000002", "000000010000000000000002");
    check_round_trip("000000010000000000000002.partial", "000000010000000000000002.partial");
    check_round_trip("000000010000000000000002.00000028.backup",
                     "000000010000000000000002.00000028.backup");
    check_round_trip("00000002.history", "00000002.history");
    check_round_trip("FFFFFFFFFFFFFFFFFFFFFFFF.FFFFFFFF.backup",
                     "FFFFFFFFFFFFFFFFFFFFFFFF.FFFFFFFF.backup");
}

static void test_wal_name_format_lower_case_input_upper_case_output(void **state)
{
    (void)state;
    check_round_trip("0000000a0000001b000000fe", "0000000A0000001B000000FE");
    check_round_trip("0000000a0000001b000000fe.partial", "0000000A0000001B000000FE.partial");
    check_round_trip("0000000a0000001b000000fe.0000abcd.backup",
                     "0000000A0000001B000000FE.0000ABCD.backup");
    check_round_trip("0000001f.history", "0000001F.history");
}

static void test_wal_name_format_from_fields(void **state)
{
    (void)state;
    char name[WAL_NAME_MAX];
    wal_name_format(
        &(struct wal_name){.kind = WAL_KIND_SEGMENT, .tli = 3, .log = 0x16, .seg = 0xB3}, name);
    assert_string_equal(name, "0000000300000016000000B3");
    /* a history name ignores log, seg and offset */
    wal_name_format(
        &(struct wal_name){.kind = WAL_KIND_HISTORY, .tli = 0x1A, .log = 5, .seg = 6, .offset = 7},
        name);
    assert_string_equal(name, "0000001A.history");
    /* a kind outside the enum gives no name rather than garbage */
    struct wal_name bad = {.tli = 1};
    memset(&bad.kind, 0x7f, sizeof bad.kind);
    memcpy(name, "junk", 5);
    wal_name_format(&bad, name);
    assert_string_equal(name, "");
}

/* ---- wal_segsize_check ---- */

/* segsize must be refused with exactly msg and the standard hint. */
static void check_segsize_invalid(uint64_t segsize, const char *msg)
{
    struct cel_err err = {0};
    assert_int_equal(wal_segsize_check(segsize, &err), -CEL_E_INVALID);
    assert_int_equal(err.code, CEL_E_INVALID);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.hint, "PostgreSQL's wal_segment_size is a power of two from 1 MiB "
                                  "to 1 GiB (1048576 to 1073741824 bytes).");
    assert_int_equal(wal_segsize_check(segsize, NULL), -CEL_E_INVALID);
}

static void test_wal_segsize_check_valid_sizes(void **state)
{
    (void)state;
    int valid = 0;
    for (unsigned shift = 20; shift <= 30; shift++) {
        struct cel_err err = {0};
        assert_int_equal(wal_segsize_check(UINT64_C(1) << shift, &err), 0);
        assert_int_equal(err.code, 0);
        valid++;
    }
    assert_int_equal(valid, 11);
    assert_int_equal(wal_segsize_check(WAL_DEFAULT_SEGSIZE, NULL), 0);
}

static void test_wal_segsize_check_zero(void **state)
{
    (void)state;
    check_segsize_invalid(0, "invalid WAL segment size 0 bytes: not a power of two");
}

static void test_wal_segsize_check_not_power_of_two(void **state)
{
    (void)state;
    check_segsize_invalid(3 * MIB, "invalid WAL segment size 3145728 bytes: not a power of two");
    check_segsize_invalid(SEG16 + 1, "invalid WAL segment size 16777217 bytes: not a power of two");
    check_segsize_invalid(
        UINT64_MAX, "invalid WAL segment size 18446744073709551615 bytes: not a power of two");
}

static void test_wal_segsize_check_too_small(void **state)
{
    (void)state;
    check_segsize_invalid(MIB / 2, "invalid WAL segment size 524288 bytes: smaller than 1 MiB");
    check_segsize_invalid(1, "invalid WAL segment size 1 bytes: smaller than 1 MiB");
}

static void test_wal_segsize_check_too_big(void **state)
{
    (void)state;
    check_segsize_invalid(2 * GIB, "invalid WAL segment size 2147483648 bytes: larger than 1 GiB");
    check_segsize_invalid(UINT64_C(1) << 32,
                          "invalid WAL segment size 4294967296 bytes: larger than 1 GiB");
    check_segsize_invalid(UINT64_C(1) << 63,
                          "invalid WAL segment size 9223372036854775808 bytes: larger than 1 GiB");
}

/* ---- wal_segs_per_log ---- */

static void test_wal_segs_per_log_each_size(void **state)
{
    (void)state;
    assert_int_equal(wal_segs_per_log(MIB), 4096);
    assert_int_equal(wal_segs_per_log(SEG16), 256);
    assert_int_equal(wal_segs_per_log(64 * MIB), 64);
    assert_int_equal(wal_segs_per_log(512 * MIB), 8);
    assert_int_equal(wal_segs_per_log(GIB), 4);
}

/* ---- wal_segment_name, wal_from_segno, wal_segno ---- */

/* segno -> name must be expect, and name -> segno must give segno back. */
static void check_segno_name(uint64_t segno, uint64_t segsize, const char *expect)
{
    char name[WAL_NAME_MAX];
    wal_segment_name(1, segno, segsize, name);
    assert_string_equal(name, expect);
    struct wal_name w = parse_ok(name);
    assert_int_equal(wal_name_check_segsize(&w, segsize, NULL), 0);
    assert_int_equal(wal_segno(&w, segsize), segno);
}

static void test_wal_segment_name_16mib(void **state)
{
    (void)state;
    check_segno_name(0, SEG16, "000000010000000000000000");
    check_segno_name(1, SEG16, "000000010000000000000001");
    check_segno_name(255, SEG16, "0000000100000000000000FF");
    check_segno_name(256, SEG16, "000000010000000100000000");
    check_segno_name(257, SEG16, "000000010000000100000001");
    check_segno_name(0x16B3, SEG16, "0000000100000016000000B3");
    /* the last segment of the 64-bit LSN space */
    check_segno_name(UINT64_MAX / SEG16, SEG16, "00000001FFFFFFFF000000FF");
}

static void test_wal_segment_name_1mib(void **state)
{
    (void)state;
    check_segno_name(4095, MIB, "000000010000000000000FFF");
    check_segno_name(4096, MIB, "000000010000000100000000");
    check_segno_name(UINT64_MAX / MIB, MIB, "00000001FFFFFFFF00000FFF");
}

static void test_wal_segment_name_1gib(void **state)
{
    (void)state;
    /* four segments per log: ...03 is followed by the next log's 00 */
    check_segno_name(3, GIB, "000000010000000000000003");
    check_segno_name(4, GIB, "000000010000000100000000");
    check_segno_name(7, GIB, "000000010000000100000003");
    check_segno_name(8, GIB, "000000010000000200000000");
    check_segno_name(UINT64_MAX / GIB, GIB, "00000001FFFFFFFF00000003");
}

static void test_wal_segment_name_keeps_timeline(void **state)
{
    (void)state;
    char name[WAL_NAME_MAX];
    wal_segment_name(0xABCDEF01, 256, SEG16, name);
    assert_string_equal(name, "ABCDEF010000000100000000");
}

static void test_wal_from_segno_fields(void **state)
{
    (void)state;
    struct wal_name w;
    memset(&w, 0xAB, sizeof w);
    wal_from_segno(7, 513, SEG16, &w);
    assert_int_equal(w.kind, WAL_KIND_SEGMENT);
    assert_int_equal(w.tli, 7);
    assert_int_equal(w.log, 2);
    assert_int_equal(w.seg, 1);
    assert_int_equal(w.offset, 0);

    wal_from_segno(1, UINT64_MAX / GIB, GIB, &w);
    assert_int_equal(w.log, 0xFFFFFFFF);
    assert_int_equal(w.seg, 3);
}

static void test_wal_segno_round_trip_every_size(void **state)
{
    (void)state;
    /* walk across two log boundaries for every valid size */
    for (unsigned shift = 20; shift <= 30; shift++) {
        uint64_t segsize = UINT64_C(1) << shift;
        uint64_t per_log = wal_segs_per_log(segsize);
        for (uint64_t segno = per_log - 2; segno < 2 * per_log + 2; segno++) {
            struct wal_name w;
            wal_from_segno(1, segno, segsize, &w);
            assert_true(w.seg < per_log);
            assert_int_equal(w.log, segno / per_log);
            assert_int_equal(wal_segno(&w, segsize), segno);
        }
    }
}

static void test_wal_segno_kinds(void **state)
{
    (void)state;
    struct wal_name w = parse_ok("000000010000000100000002.partial");
    assert_int_equal(wal_segno(&w, SEG16), 258);
    w = parse_ok("000000010000000100000002.00000028.backup");
    assert_int_equal(wal_segno(&w, SEG16), 258);
    assert_int_equal(wal_segno(&w, GIB), 6);
    w = parse_ok("00000005.history");
    assert_int_equal(wal_segno(&w, SEG16), 0);
}

/* ---- wal_name_check_segsize ---- */

/* The segment of name must not exist with segsize; msg is the exact text. */
static void check_segsize_missing(const char *name, uint64_t segsize, const char *msg)
{
    struct wal_name w = parse_ok(name);
    struct cel_err err = {0};
    assert_int_equal(wal_name_check_segsize(&w, segsize, &err), -CEL_E_INVALID);
    assert_int_equal(err.code, CEL_E_INVALID);
    assert_string_equal(err.msg, msg);
    assert_int_equal(wal_name_check_segsize(&w, segsize, NULL), -CEL_E_INVALID);
}

/* The segment of name must exist with segsize. */
static void check_segsize_exists(const char *name, uint64_t segsize)
{
    struct wal_name w = parse_ok(name);
    struct cel_err err = {0};
    assert_int_equal(wal_name_check_segsize(&w, segsize, &err), 0);
    assert_int_equal(err.code, 0);
}

static void test_wal_name_check_segsize_16mib(void **state)
{
    (void)state;
    check_segsize_exists("0000000100000000000000FF", SEG16);
    check_segsize_missing("000000010000000000000100", SEG16,
                          "segment '000000010000000000000100' does not exist with 16 MiB segments "
                          "(the last in each log is 000000FF)");
}

static void test_wal_name_check_segsize_1mib(void **state)
{
    (void)state;
    check_segsize_exists("000000010000000000000FFF", MIB);
    check_segsize_missing("000000010000000000001000", MIB,
                          "segment '000000010000000000001000' does not exist with 1 MiB segments "
                          "(the last in each log is 00000FFF)");
}

static void test_wal_name_check_segsize_1gib(void **state)
{
    (void)state;
    check_segsize_exists("000000010000000000000003", GIB);
    check_segsize_missing("000000010000000000000004", GIB,
                          "segment '000000010000000000000004' does not exist with 1 GiB segments "
                          "(the last in each log is 00000003)");
    check_segsize_missing("0000000100000000FFFFFFFF", GIB,
                          "segment '0000000100000000FFFFFFFF' does not exist with 1 GiB segments "
                          "(the last in each log is 00000003)");
}

static void test_wal_name_check_segsize_512mib(void **state)
{
    (void)state;
    check_segsize_exists("000000010000000000000007", 512 * MIB);
    check_segsize_missing("000000010000000000000008", 512 * MIB,
                          "segment '000000010000000000000008' does not exist with 512 MiB "
                          "segments (the last in each log is 00000007)");
}

static void test_wal_name_check_segsize_partial_and_label(void **state)
{
    (void)state;
    check_segsize_exists("0000000100000000000000FF.partial", SEG16);
    check_segsize_missing("000000010000000000000100.partial", SEG16,
                          "segment '000000010000000000000100' does not exist with 16 MiB segments "
                          "(the last in each log is 000000FF)");
    check_segsize_exists("000000010000000000000003.00000028.backup", GIB);
    check_segsize_missing("0000000a0000000000000004.00000028.backup", GIB,
                          "segment '0000000A0000000000000004' does not exist with 1 GiB segments "
                          "(the last in each log is 00000003)");
}

static void test_wal_name_check_segsize_history(void **state)
{
    (void)state;
    check_segsize_exists("00000002.history", GIB);
    check_segsize_exists("FFFFFFFF.history", MIB);
}

/* ---- wal_lsn_to_segno, wal_lsn_to_prev_segno ---- */

static void test_wal_lsn_to_segno_boundaries(void **state)
{
    (void)state;
    assert_int_equal(wal_lsn_to_segno(0, SEG16), 0);
    assert_int_equal(wal_lsn_to_segno(SEG16 - 1, SEG16), 0);
    assert_int_equal(wal_lsn_to_segno(SEG16, SEG16), 1);
    assert_int_equal(wal_lsn_to_segno(SEG16 + 1, SEG16), 1);
    assert_int_equal(wal_lsn_to_segno(0x4000028, SEG16), 4);
    assert_int_equal(wal_lsn_to_segno(0x100000000, SEG16), 256);
    assert_int_equal(wal_lsn_to_segno(0x16B374D848, SEG16), 0x16B3);
    assert_int_equal(wal_lsn_to_segno(GIB - 1, GIB), 0);
    assert_int_equal(wal_lsn_to_segno(GIB, GIB), 1);
    assert_int_equal(wal_lsn_to_segno(UINT64_MAX, SEG16), UINT64_C(0xFFFFFFFFFF));
    assert_int_equal(wal_lsn_to_segno(UINT64_MAX, MIB), UINT64_C(0xFFFFFFFFFFF));
    assert_int_equal(wal_lsn_to_segno(UINT64_MAX, GIB), UINT64_C(0x3FFFFFFFF));
}

static void test_wal_lsn_to_prev_segno_boundaries(void **state)
{
    (void)state;
    /* lsn 0 has no byte before it: 0, not a wrapped-around segment */
    assert_int_equal(wal_lsn_to_prev_segno(0, SEG16), 0);
    assert_int_equal(wal_lsn_to_prev_segno(1, SEG16), 0);
    assert_int_equal(wal_lsn_to_prev_segno(SEG16 - 1, SEG16), 0);
    /* exactly on a boundary: the previous segment */
    assert_int_equal(wal_lsn_to_prev_segno(SEG16, SEG16), 0);
    assert_int_equal(wal_lsn_to_prev_segno(SEG16 + 1, SEG16), 1);
    assert_int_equal(wal_lsn_to_prev_segno(0x4000000, SEG16), 3);
    assert_int_equal(wal_lsn_to_prev_segno(0x4000028, SEG16), 4);
    assert_int_equal(wal_lsn_to_prev_segno(GIB, GIB), 0);
    assert_int_equal(wal_lsn_to_prev_segno(GIB + 1, GIB), 1);
    assert_int_equal(wal_lsn_to_prev_segno(UINT64_MAX, SEG16), UINT64_C(0xFFFFFFFFFF));
}

static void test_wal_lsn_to_prev_segno_names_as_pg_walfile_name(void **state)
{
    (void)state;
    char name[WAL_NAME_MAX];
    /* pg_walfile_name('0/4000000') on timeline 1 */
    wal_segment_name(1, wal_lsn_to_prev_segno(0x4000000, SEG16), SEG16, name);
    assert_string_equal(name, "000000010000000000000003");
    /* pg_walfile_name('0/4000028') */
    wal_segment_name(1, wal_lsn_to_prev_segno(0x4000028, SEG16), SEG16, name);
    assert_string_equal(name, "000000010000000000000004");
    /* pg_walfile_name('1/0'): the last segment of log 0 */
    wal_segment_name(1, wal_lsn_to_prev_segno(0x100000000, SEG16), SEG16, name);
    assert_string_equal(name, "0000000100000000000000FF");
    /* while the segment that contains 1/0 is the first of log 1 */
    wal_segment_name(1, wal_lsn_to_segno(0x100000000, SEG16), SEG16, name);
    assert_string_equal(name, "000000010000000100000000");
    /* pg_walfile_name('16/B374D848') */
    wal_segment_name(1, wal_lsn_to_prev_segno(0x16B374D848, SEG16), SEG16, name);
    assert_string_equal(name, "0000000100000016000000B3");
    /* 1 GiB segments: 1/0 ends segment 3 of log 0 */
    wal_segment_name(1, wal_lsn_to_prev_segno(0x100000000, GIB), GIB, name);
    assert_string_equal(name, "000000010000000000000003");
    /* the top of the LSN space */
    wal_segment_name(1, wal_lsn_to_prev_segno(UINT64_MAX, GIB), GIB, name);
    assert_string_equal(name, "00000001FFFFFFFF00000003");
}

/* ---- wal_lsn_offset ---- */

static void test_wal_lsn_offset_values(void **state)
{
    (void)state;
    assert_int_equal(wal_lsn_offset(0, SEG16), 0);
    assert_int_equal(wal_lsn_offset(0x4000028, SEG16), 0x28);
    assert_int_equal(wal_lsn_offset(SEG16, SEG16), 0);
    assert_int_equal(wal_lsn_offset(SEG16 - 1, SEG16), SEG16 - 1);
    assert_int_equal(wal_lsn_offset(0x16B374D848, SEG16), 0x74D848);
    assert_int_equal(wal_lsn_offset(0x16B374D848, GIB), 0x3374D848);
    assert_int_equal(wal_lsn_offset(0x16B374D848, MIB), 0x4D848);
    assert_int_equal(wal_lsn_offset(UINT64_MAX, SEG16), SEG16 - 1);
    assert_int_equal(wal_lsn_offset(UINT64_MAX, GIB), GIB - 1);
}

/* ---- wal_segno_to_lsn ---- */

static void test_wal_segno_to_lsn_values(void **state)
{
    (void)state;
    assert_int_equal(wal_segno_to_lsn(0, SEG16), 0);
    assert_int_equal(wal_segno_to_lsn(1, SEG16), SEG16);
    assert_int_equal(wal_segno_to_lsn(256, SEG16), 0x100000000);
    assert_int_equal(wal_segno_to_lsn(4, GIB), 0x100000000);
    /* the last segment starts exactly one segment below 2^64 */
    assert_int_equal(wal_segno_to_lsn(UINT64_MAX / SEG16, SEG16), UINT64_C(0xFFFFFFFFFF000000));
    assert_int_equal(wal_segno_to_lsn(UINT64_MAX / GIB, GIB), UINT64_C(0xFFFFFFFFC0000000));
    assert_int_equal(wal_segno_to_lsn(UINT64_MAX / MIB, MIB), UINT64_C(0xFFFFFFFFFFF00000));
}

static void test_wal_segno_to_lsn_round_trip(void **state)
{
    (void)state;
    const uint64_t lsns[] = {0,         1, 0x4000028, 0x100000000, 0x16B374D848, UINT64_MAX - 1,
                             UINT64_MAX};
    for (unsigned shift = 20; shift <= 30; shift++) {
        uint64_t segsize = UINT64_C(1) << shift;
        for (size_t i = 0; i < sizeof lsns / sizeof lsns[0]; i++) {
            uint64_t segno = wal_lsn_to_segno(lsns[i], segsize);
            uint64_t start = wal_segno_to_lsn(segno, segsize);
            assert_true(start <= lsns[i]);
            assert_int_equal(start + wal_lsn_offset(lsns[i], segsize), lsns[i]);
            assert_int_equal(wal_lsn_to_segno(start, segsize), segno);
        }
    }
}

/* ---- wal_hash_dir ---- */

static void test_wal_hash_dir_each_kind(void **state)
{
    (void)state;
    char dir[17];
    struct cel_err err = {0};
    assert_int_equal(wal_hash_dir("000000010000000200000003", dir, &err), 0);
    assert_string_equal(dir, "0000000100000002");
    assert_int_equal(wal_hash_dir("0000000100000002000000FF.partial", dir, &err), 0);
    assert_string_equal(dir, "0000000100000002");
    assert_int_equal(wal_hash_dir("0000000A00000016000000B3.00000028.backup", dir, &err), 0);
    assert_string_equal(dir, "0000000A00000016");
    memcpy(dir, "junk", 5);
    assert_int_equal(wal_hash_dir("00000002.history", dir, &err), 0);
    assert_string_equal(dir, "");
    assert_int_equal(err.code, 0);
    assert_int_equal(wal_hash_dir("000000010000000200000003", dir, NULL), 0);
    assert_string_equal(dir, "0000000100000002");
}

static void test_wal_hash_dir_lower_case_name(void **state)
{
    (void)state;
    /* Barman formats the directory with "%08X%08X": always upper case */
    char dir[17];
    assert_int_equal(wal_hash_dir("0000000a0000001b000000fe", dir, NULL), 0);
    assert_string_equal(dir, "0000000A0000001B");
}

static void test_wal_hash_dir_invalid_name(void **state)
{
    (void)state;
    char dir[17];
    struct cel_err err = {0};
    memcpy(dir, "junk", 5);
    assert_int_equal(wal_hash_dir("../../etc/passwd", dir, &err), -CEL_E_INVALID);
    assert_string_equal(dir, "");
    assert_int_equal(err.code, CEL_E_INVALID);
    assert_string_equal(
        err.msg, "invalid WAL file name '../../etc/passwd': unknown suffix '../../etc/passwd'");
    memcpy(dir, "junk", 5);
    assert_int_equal(wal_hash_dir("xlog.db", dir, NULL), -CEL_E_INVALID);
    assert_string_equal(dir, "");
}

/* ---- wal_lsn_parse, wal_lsn_format ---- */

/* text parses to lsn. */
static void check_lsn_parse(const char *text, uint64_t lsn)
{
    struct cel_err err = {0};
    uint64_t got = 0x5555;
    assert_int_equal(wal_lsn_parse(text, &got, &err), 0);
    assert_int_equal(err.code, 0);
    assert_int_equal(got, lsn);
}

static void test_wal_lsn_parse_values(void **state)
{
    (void)state;
    check_lsn_parse("0/4000028", 0x4000028);
    check_lsn_parse("16/B374D848", 0x16B374D848);
    check_lsn_parse("16/b374d848", 0x16B374D848);
    check_lsn_parse("0/0", 0);
    check_lsn_parse("1/0", 0x100000000);
    check_lsn_parse("00000000/00000001", 1);
    check_lsn_parse("FFFFFFFF/FFFFFFFF", UINT64_MAX);
    check_lsn_parse("ffffffff/0", UINT64_C(0xFFFFFFFF00000000));
}

static void test_wal_lsn_parse_round_trip(void **state)
{
    (void)state;
    const char *texts[] = {"0/0",         "0/4000028",  "16/B374D848",      "1/0",
                           "FFFFFFFF/FF", "A/FFFFFFFF", "FFFFFFFF/FFFFFFFF"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        uint64_t lsn;
        char out[WAL_LSN_MAX];
        assert_int_equal(wal_lsn_parse(texts[i], &lsn, NULL), 0);
        wal_lsn_format(lsn, out);
        assert_string_equal(out, texts[i]);
    }
    /* lower case and leading zeros come back canonical */
    uint64_t lsn;
    char out[WAL_LSN_MAX];
    assert_int_equal(wal_lsn_parse("0016/00b374d8", &lsn, NULL), 0);
    wal_lsn_format(lsn, out);
    assert_string_equal(out, "16/B374D8");
}

static void test_wal_lsn_parse_empty_and_missing_parts(void **state)
{
    (void)state;
    assert_lsn_invalid("", "invalid LSN '': empty");
    assert_lsn_invalid("4000028", "invalid LSN '4000028': missing '/' between the two halves");
    assert_lsn_invalid("/4000028", "invalid LSN '/4000028': no hexadecimal digits before '/'");
    assert_lsn_invalid("0/", "invalid LSN '0/': no hexadecimal digits after '/'");
    assert_lsn_invalid("/", "invalid LSN '/': no hexadecimal digits before '/'");
}

static void test_wal_lsn_parse_too_many_digits(void **state)
{
    (void)state;
    assert_lsn_invalid("123456789/0",
                       "invalid LSN '123456789/0': 9 hexadecimal digits before '/', at most 8 "
                       "allowed");
    assert_lsn_invalid("0/123456789",
                       "invalid LSN '0/123456789': 9 hexadecimal digits after '/', at most 8 "
                       "allowed");
    assert_lsn_invalid("000000000/0",
                       "invalid LSN '000000000/0': 9 hexadecimal digits before '/', at most 8 "
                       "allowed");
}

static void test_wal_lsn_parse_bad_characters(void **state)
{
    (void)state;
    assert_lsn_invalid(" 0/1", "invalid LSN ' 0/1': character 1 (' ') is not a hexadecimal digit");
    assert_lsn_invalid("0/1 ", "invalid LSN '0/1 ': character 4 (' ') is not a hexadecimal digit");
    assert_lsn_invalid("0 /1", "invalid LSN '0 /1': character 2 (' ') is not a hexadecimal digit");
    assert_lsn_invalid("0/ 1", "invalid LSN '0/ 1': character 3 (' ') is not a hexadecimal digit");
    assert_lsn_invalid("0x1/2",
                       "invalid LSN '0x1/2': character 2 ('x') is not a hexadecimal digit");
    assert_lsn_invalid("1/0x2",
                       "invalid LSN '1/0x2': character 4 ('x') is not a hexadecimal digit");
    assert_lsn_invalid("-1/0", "invalid LSN '-1/0': character 1 ('-') is not a hexadecimal digit");
    assert_lsn_invalid("+1/0", "invalid LSN '+1/0': character 1 ('+') is not a hexadecimal digit");
    assert_lsn_invalid("1/-0", "invalid LSN '1/-0': character 3 ('-') is not a hexadecimal digit");
    assert_lsn_invalid("g/0", "invalid LSN 'g/0': character 1 ('g') is not a hexadecimal digit");
    assert_lsn_invalid("0/1/2",
                       "invalid LSN '0/1/2': character 4 ('/') is not a hexadecimal digit");
    assert_lsn_invalid("0/1\n",
                       "invalid LSN '0/1\\x0A': character 4 ('\\x0A') is not a hexadecimal digit");
    assert_lsn_invalid("0/\xff",
                       "invalid LSN '0/\\xFF': character 3 ('\\xFF') is not a hexadecimal digit");
    assert_lsn_invalid("0.1", "invalid LSN '0.1': character 2 ('.') is not a hexadecimal digit");
}

static void test_wal_lsn_parse_hostile_long_input(void **state)
{
    (void)state;
    assert_lsn_invalid(rep("F", 100000), cat4("invalid LSN '", rep("F", 64),
                                              "...': missing '/' between the two halves", NULL));
    assert_lsn_invalid(cat4(rep("0", 100000), "/0", NULL, NULL),
                       cat4("invalid LSN '", rep("0", 64),
                            "...': 100000 hexadecimal digits before '/', at most 8 allowed", NULL));
    assert_lsn_invalid(cat4("0/", rep("\x80", 5000), NULL, NULL),
                       cat4("invalid LSN '0/", rep("\\x80", 15),
                            "...': character 3 ('\\x80') is not a hexadecimal digit", NULL));
}

static void test_wal_lsn_format_values(void **state)
{
    (void)state;
    char out[WAL_LSN_MAX];
    wal_lsn_format(0, out);
    assert_string_equal(out, "0/0");
    wal_lsn_format(0x4000028, out);
    assert_string_equal(out, "0/4000028");
    wal_lsn_format(0x16B374D848, out);
    assert_string_equal(out, "16/B374D848");
    wal_lsn_format(0x100000000, out);
    assert_string_equal(out, "1/0");
    wal_lsn_format(UINT64_MAX, out);
    assert_string_equal(out, "FFFFFFFF/FFFFFFFF");
    assert_int_equal(strlen(out) + 1, WAL_LSN_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wal_name_parse_segment),
        cmocka_unit_test(test_wal_name_parse_lower_case),
        cmocka_unit_test(test_wal_name_parse_partial),
        cmocka_unit_test(test_wal_name_parse_backup_label),
        cmocka_unit_test(test_wal_name_parse_history),
        cmocka_unit_test(test_wal_name_parse_largest_values),
        cmocka_unit_test(test_wal_name_parse_wrong_length),
        cmocka_unit_test(test_wal_name_parse_wrong_length_before_suffix),
        cmocka_unit_test(test_wal_name_parse_non_hex),
        cmocka_unit_test(test_wal_name_parse_bad_suffix),
        cmocka_unit_test(test_wal_name_parse_backup_bad_offset),
        cmocka_unit_test(test_wal_name_parse_timeline_zero),
        cmocka_unit_test(test_wal_name_parse_hostile_long_input),
        cmocka_unit_test(test_wal_name_is_valid_each_kind),
        cmocka_unit_test(test_wal_name_format_round_trip_each_kind),
        cmocka_unit_test(test_wal_name_format_lower_case_input_upper_case_output),
        cmocka_unit_test(test_wal_name_format_from_fields),
        cmocka_unit_test(test_wal_segsize_check_valid_sizes),
        cmocka_unit_test(test_wal_segsize_check_zero),
        cmocka_unit_test(test_wal_segsize_check_not_power_of_two),
        cmocka_unit_test(test_wal_segsize_check_too_small),
        cmocka_unit_test(test_wal_segsize_check_too_big),
        cmocka_unit_test(test_wal_segs_per_log_each_size),
        cmocka_unit_test(test_wal_segment_name_16mib),
        cmocka_unit_test(test_wal_segment_name_1mib),
        cmocka_unit_test(test_wal_segment_name_1gib),
        cmocka_unit_test(test_wal_segment_name_keeps_timeline),
        cmocka_unit_test(test_wal_from_segno_fields),
        cmocka_unit_test(test_wal_segno_round_trip_every_size),
        cmocka_unit_test(test_wal_segno_kinds),
        cmocka_unit_test(test_wal_name_check_segsize_16mib),
        cmocka_unit_test(test_wal_name_check_segsize_1mib),
        cmocka_unit_test(test_wal_name_check_segsize_1gib),
        cmocka_unit_test(test_wal_name_check_segsize_512mib),
        cmocka_unit_test(test_wal_name_check_segsize_partial_and_label),
        cmocka_unit_test(test_wal_name_check_segsize_history),
        cmocka_unit_test(test_wal_lsn_to_segno_boundaries),
        cmocka_unit_test(test_wal_lsn_to_prev_segno_boundaries),
        cmocka_unit_test(test_wal_lsn_to_prev_segno_names_as_pg_walfile_name),
        cmocka_unit_test(test_wal_lsn_offset_values),
        cmocka_unit_test(test_wal_segno_to_lsn_values),
        cmocka_unit_test(test_wal_segno_to_lsn_round_trip),
        cmocka_unit_test(test_wal_hash_dir_each_kind),
        cmocka_unit_test(test_wal_hash_dir_lower_case_name),
        cmocka_unit_test(test_wal_hash_dir_invalid_name),
        cmocka_unit_test(test_wal_lsn_parse_values),
        cmocka_unit_test(test_wal_lsn_parse_round_trip),
        cmocka_unit_test(test_wal_lsn_parse_empty_and_missing_parts),
        cmocka_unit_test(test_wal_lsn_parse_too_many_digits),
        cmocka_unit_test(test_wal_lsn_parse_bad_characters),
        cmocka_unit_test(test_wal_lsn_parse_hostile_long_input),
        cmocka_unit_test(test_wal_lsn_format_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
