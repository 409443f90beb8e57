/*
 * Unit tests of src/core/postgres/recovery_target.c: the table of target
 * kinds and the one parser of a recovery target, for every kind and the
 * timeline: what it accepts, the typed values it keeps, and the messages
 * naming the option for what it refuses.
 *
 * What is valid comes from PostgreSQL (how recovery_target_xid, _lsn,
 * _name, _time and _timeline are read, NAMEDATALEN, FirstNormalTransactionId)
 * and the timestamp forms Barman reads, never from the code under test.
 */
#include "unit.h"

#include "recovery_target.h"

/* rc_target_parse(kind, value) must fail with USAGE, exactly msg and hint. */
#define assert_target_bad(kind, value, msg, hint)                                                  \
    check_target_bad(kind, value, msg, hint, __FILE__, __LINE__)

static void check_target_bad(enum rc_target_kind kind, const char *value, const char *msg,
                             const char *hint, const char *file, int line)
{
    struct cel_err err = {0};
    struct rc_target t;
    _assert_int_equal((uintmax_t)(intmax_t)rc_target_parse(kind, value, NULL, &t, &err),
                      (uintmax_t)(intmax_t)-CEL_E_USAGE, file, line);
    _assert_int_equal((uintmax_t)err.code, CEL_E_USAGE, file, line);
    _assert_string_equal(err.msg, msg, file, line);
    _assert_string_equal(err.hint, hint, file, line);
    /* without an error struct: the same code */
    _assert_int_equal((uintmax_t)(intmax_t)rc_target_parse(kind, value, NULL, &t, NULL),
                      (uintmax_t)(intmax_t)-CEL_E_USAGE, file, line);
}

/* rc_target_parse(kind, value) must succeed, keeping the value as given
 * (none for the kinds without one) and no timeline. */
#define assert_target_ok(kind, value) check_target_ok(kind, value, __FILE__, __LINE__)

static struct rc_target check_target_ok(enum rc_target_kind kind, const char *value,
                                        const char *file, int line)
{
    struct cel_err err = {0};
    struct rc_target t;
    _assert_int_equal((uintmax_t)(intmax_t)rc_target_parse(kind, value, NULL, &t, &err), 0, file,
                      line);
    _assert_int_equal((uintmax_t)err.code, 0, file, line);
    _assert_int_equal((uintmax_t)t.kind, (uintmax_t)kind, file, line);
    bool takes_value = kind != RC_TARGET_NONE && kind != RC_TARGET_IMMEDIATE;
    _assert_string_equal(t.text, takes_value ? value : "", file, line);
    _assert_int_equal((uintmax_t)t.tli_kind, RC_TLI_DEFAULT, file, line);
    return t;
}

#define XID_HINT                                                                                   \
    "Give the transaction ID in decimal, as txid_current() or pg_current_xact_id() shows it (3 "   \
    "or more)."
#define LSN_HINT                                                                                   \
    "Give the LSN as two groups of 1 to 8 hexadecimal digits separated by '/', as "                \
    "pg_current_wal_lsn() shows it (0/3000060)."
#define NAME_HINT "Give the name passed to pg_create_restore_point() (1 to 63 bytes)."
#define TIME_HINT                                                                                  \
    "Give the time as YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]; add the offset (+00:00 for UTC) so "   \
    "that cellar and PostgreSQL read it alike."

static void test_rc_target_parse_xid(void **state)
{
    (void)state;
    assert_target_ok(RC_TARGET_XID, "3");
    assert_target_ok(RC_TARGET_XID, "1234");
    assert_target_ok(RC_TARGET_XID, "4294967295");
    /* with an epoch: epoch 1, xid 3 */
    assert_target_ok(RC_TARGET_XID, "4294967299");
    assert_target_ok(RC_TARGET_XID, "18446744073709551615");

    assert_target_bad(RC_TARGET_XID, "", "--target-xid: empty transaction ID", XID_HINT);
    assert_target_bad(RC_TARGET_XID, NULL, "--target-xid: empty transaction ID", XID_HINT);
    assert_target_bad(RC_TARGET_XID, "0",
                      "--target-xid: transaction ID '0' is reserved: normal transaction IDs "
                      "start at 3",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, "2",
                      "--target-xid: transaction ID '2' is reserved: normal transaction IDs "
                      "start at 3",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, "4294967298",
                      "--target-xid: transaction ID '4294967298' (epoch 1, xid 2) is not a normal "
                      "transaction ID: the low 32 bits must be 3 or more",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, "12abc",
                      "--target-xid: invalid transaction ID '12abc': expected a whole number in "
                      "decimal digits",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, "0x10",
                      "--target-xid: invalid transaction ID '0x10': expected a whole number in "
                      "decimal digits",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, "-5",
                      "--target-xid: invalid transaction ID '-5': expected a whole number in "
                      "decimal digits",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, " 5",
                      "--target-xid: invalid transaction ID ' 5': expected a whole number in "
                      "decimal digits",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, "12'\n",
                      "--target-xid: invalid transaction ID '12\\x27\\x0A': expected a whole "
                      "number in decimal digits",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, "010",
                      "--target-xid: transaction ID '010' has a leading zero: PostgreSQL would "
                      "read it as an octal number",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, "18446744073709551616",
                      "--target-xid: transaction ID '18446744073709551616' is out of range: at "
                      "most 18446744073709551615",
                      XID_HINT);
    assert_target_bad(RC_TARGET_XID, "99999999999999999999999",
                      "--target-xid: transaction ID '99999999999999999999999' is out of range: at "
                      "most 18446744073709551615",
                      XID_HINT);
}

static void test_rc_target_parse_lsn(void **state)
{
    (void)state;
    assert_target_ok(RC_TARGET_LSN, "0/3000060");
    assert_target_ok(RC_TARGET_LSN, "16/b374d848");
    assert_target_ok(RC_TARGET_LSN, "FFFFFFFF/FFFFFFFF");
    assert_target_bad(RC_TARGET_LSN, "3000060",
                      "--target-lsn: invalid LSN '3000060': missing '/' between the two halves",
                      LSN_HINT);
    assert_target_bad(RC_TARGET_LSN, "", "--target-lsn: invalid LSN '': empty", LSN_HINT);
    assert_target_bad(RC_TARGET_LSN, "0/123456789",
                      "--target-lsn: invalid LSN '0/123456789': 9 hexadecimal digits after '/', "
                      "at most 8 allowed",
                      LSN_HINT);
}

static void test_rc_target_parse_name(void **state)
{
    (void)state;
    char max[64], over[65];
    memset(max, 'n', 63);
    max[63] = '\0';
    memset(over, 'n', 64);
    over[64] = '\0';
    assert_target_ok(RC_TARGET_NAME, "before upgrade");
    assert_target_ok(RC_TARGET_NAME, "it's");
    assert_target_ok(RC_TARGET_NAME, max);
    assert_target_bad(RC_TARGET_NAME, "", "--target-name: empty restore point name", NAME_HINT);
    assert_target_bad(RC_TARGET_NAME, NULL, "--target-name: empty restore point name", NAME_HINT);
    assert_target_bad(RC_TARGET_NAME, over,
                      "--target-name: restore point name "
                      "'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn' is 64 "
                      "bytes long, at most 63 allowed",
                      NAME_HINT);
    char longer[200];
    memset(longer, 'x', 199);
    longer[199] = '\0';
    assert_target_bad(RC_TARGET_NAME, longer,
                      "--target-name: restore point name "
                      "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is "
                      "199 bytes long, at most 63 allowed",
                      NAME_HINT);
    /* control characters: a newline would end the setting's line */
    assert_target_bad(RC_TARGET_NAME, "rp\nrecovery_target_action = promote",
                      "--target-name: restore point name 'rp\\x0Arecovery_target_action = "
                      "promote' contains the control character 0x0A at byte 3",
                      NAME_HINT);
    assert_target_bad(RC_TARGET_NAME, "a\tb",
                      "--target-name: restore point name 'a\\x09b' contains the control "
                      "character 0x09 at byte 2",
                      NAME_HINT);
    assert_target_bad(RC_TARGET_NAME, "del\x7f",
                      "--target-name: restore point name 'del\\x7F' contains the control "
                      "character 0x7F at byte 4",
                      NAME_HINT);
}

static void test_rc_target_parse_time(void **state)
{
    (void)state;
    assert_target_ok(RC_TARGET_TIME, "2026-11-24 03:42:30");
    assert_target_ok(RC_TARGET_TIME, "2026-11-24 03:42:30.5+01:00");
    assert_target_ok(RC_TARGET_TIME, "2026-11-24T03:42:30Z");
    assert_target_ok(RC_TARGET_TIME, "Tue Nov 24 03:42:40 2026");
    assert_target_bad(RC_TARGET_TIME, "yesterday",
                      "--target-time: invalid timestamp 'yesterday': expected YYYY-MM-DD "
                      "HH:MM:SS[.ffffff][+HH:MM] or a ctime() date like 'Thu Jan  1 00:00:05 2026'",
                      TIME_HINT);
    assert_target_bad(RC_TARGET_TIME, "2026-13-01 00:00:00",
                      "--target-time: invalid timestamp '2026-13-01 00:00:00': month 13 out of "
                      "range 1..12",
                      TIME_HINT);
}

static void test_rc_target_parse_none_and_immediate(void **state)
{
    (void)state;
    assert_target_ok(RC_TARGET_NONE, NULL);
    assert_target_ok(RC_TARGET_NONE, "anything");
    assert_target_ok(RC_TARGET_IMMEDIATE, NULL);
    assert_target_ok(RC_TARGET_IMMEDIATE, "");
}


/* The typed values kept beside the text. */
static void test_rc_target_parse_typed_values(void **state)
{
    (void)state;
    struct rc_target t = assert_target_ok(RC_TARGET_XID, "4294967299");
    assert_true(t.xid == 4294967299u);
    t = assert_target_ok(RC_TARGET_LSN, "16/b374d848");
    assert_true(t.lsn == 0x16B374D848u);
    t = assert_target_ok(RC_TARGET_TIME, "2026-11-24 03:42:30.5+01:00");
    assert_true(t.time.has_offset);
    assert_true(t.epoch == 1795488150.5); /* 02:42:30.5 UTC */
    t = assert_target_ok(RC_TARGET_TIME, "2026-11-24 03:42:30");
    assert_false(t.time.has_offset); /* the caller warns */
    t = assert_target_ok(RC_TARGET_NAME, "before upgrade");
    assert_true(t.lsn == 0 && t.xid == 0 && t.epoch == 0);
    /* a value given with a kind that takes none is not kept */
    t = assert_target_ok(RC_TARGET_IMMEDIATE, "anything");
    assert_string_equal(t.text, "");
}

/* A value longer than the struct keeps is refused, naming the option. */
static void test_rc_target_parse_too_long(void **state)
{
    (void)state;
    char v[400];
    memcpy(v, "2026-11-24 03:42:30.", 20);
    memset(v + 20, '5', sizeof v - 21);
    v[sizeof v - 1] = '\0';
    struct rc_target t;
    struct cel_err err = {0};
    assert_int_equal(rc_target_parse(RC_TARGET_TIME, v, NULL, &t, &err), -CEL_E_USAGE);
    assert_true(cel_str_starts(err.msg, "--target-time: "));
}

#define TLI_HINT                                                                                   \
    "Timelines are numbered from 1, as the first 8 hex digits of WAL file names show "             \
    "(00000002... is timeline 2)."

/* --target-tli, with any kind: current, latest or a number from 1 to 2^32-1. */
static void test_rc_target_parse_timeline(void **state)
{
    (void)state;
    struct rc_target t;
    struct cel_err err = {0};
    char buf[RC_TLI_MAX];
    assert_int_equal(rc_target_parse(RC_TARGET_NONE, NULL, "current", &t, &err), 0);
    assert_int_equal(t.tli_kind, RC_TLI_CURRENT);
    assert_string_equal(rc_target_tli_text(&t, buf), "current");
    assert_int_equal(rc_target_parse(RC_TARGET_LSN, "0/3000060", "latest", &t, &err), 0);
    assert_int_equal(t.tli_kind, RC_TLI_LATEST);
    assert_true(t.lsn == 0x3000060);
    assert_string_equal(rc_target_tli_text(&t, buf), "latest");
    assert_int_equal(rc_target_parse(RC_TARGET_NONE, NULL, "3", &t, &err), 0);
    assert_int_equal(t.tli_kind, RC_TLI_NUMBER);
    assert_int_equal(t.tli, 3);
    assert_string_equal(rc_target_tli_text(&t, buf), "3");
    assert_int_equal(rc_target_parse(RC_TARGET_NONE, NULL, "4294967295", &t, &err), 0);
    assert_int_equal(t.tli, 4294967295u);
    assert_int_equal(rc_target_parse(RC_TARGET_NONE, NULL, NULL, &t, &err), 0);
    assert_int_equal(t.tli_kind, RC_TLI_DEFAULT);
    assert_null(rc_target_tli_text(&t, buf));
    static const char *const bad[] = {"0", "", "-1", "2x", "4294967296", "99999999999999999999",
                                      "Latest", " 2"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(bad); i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(rc_target_parse(RC_TARGET_NONE, NULL, bad[i], &t, &err), -CEL_E_USAGE);
        char *want = cel_xasprintf("--target-tli %s is not a timeline: expected current, latest "
                                   "or a number from 1 to 4294967295",
                                   bad[i]);
        assert_string_equal(err.msg, want);
        assert_string_equal(err.hint, TLI_HINT);
        free(want);
    }
    /* the value is checked first */
    assert_int_equal(rc_target_parse(RC_TARGET_XID, "x", "0", &t, &err), -CEL_E_USAGE);
    assert_true(cel_str_starts(err.msg, "--target-xid: "));
}

/* The table: none first, then every kind once, with its option and the
 * setting it writes; --exclusive applies to time, xid and lsn only. */
static void test_rc_target_defs(void **state)
{
    (void)state;
    assert_int_equal(rc_target_n_defs, 6);
    assert_int_equal(rc_target_defs[0].kind, RC_TARGET_NONE);
    assert_null(rc_target_defs[0].option);
    assert_null(rc_target_defs[0].prompt);
    static const struct {
        enum rc_target_kind kind;
        const char *option, *setting, *word;
        bool value, inclusive;
    } want[] = {
        {RC_TARGET_TIME, "--target-time", "recovery_target_time", "time", true, true},
        {RC_TARGET_XID, "--target-xid", "recovery_target_xid", "xid", true, true},
        {RC_TARGET_LSN, "--target-lsn", "recovery_target_lsn", "lsn", true, true},
        {RC_TARGET_NAME, "--target-name", "recovery_target_name", "name", true, false},
        {RC_TARGET_IMMEDIATE, "--target-immediate", "recovery_target", "immediate", false, false},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(want); i++) {
        const struct rc_target_def *d = rc_target_def(want[i].kind);
        assert_int_equal(d->kind, want[i].kind);
        assert_string_equal(d->option, want[i].option);
        assert_string_equal(d->setting, want[i].setting);
        assert_string_equal(d->word, want[i].word);
        assert_int_equal(d->metavar != NULL, want[i].value);
        assert_int_equal(d->prompt != NULL, want[i].value);
        assert_int_equal(d->inclusive, want[i].inclusive);
        assert_non_null(d->help);
        assert_non_null(d->label);
        assert_non_null(d->when);
    }
    /* an unknown kind gets none's row */
    assert_ptr_equal(rc_target_def((enum rc_target_kind)99), &rc_target_defs[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rc_target_parse_xid),
        cmocka_unit_test(test_rc_target_parse_lsn),
        cmocka_unit_test(test_rc_target_parse_name),
        cmocka_unit_test(test_rc_target_parse_time),
        cmocka_unit_test(test_rc_target_parse_none_and_immediate),
        cmocka_unit_test(test_rc_target_parse_typed_values),
        cmocka_unit_test(test_rc_target_parse_too_long),
        cmocka_unit_test(test_rc_target_parse_timeline),
        cmocka_unit_test(test_rc_target_defs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
