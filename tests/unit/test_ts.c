/*
 * Unit tests of src/core/common/ts.c: parsing Barman's timestamps, formatting them
 * as Python does, backup IDs and human-readable intervals. Expected texts and
 * epochs come from Python 3.11 (str(), isoformat(), ctime(), timestamp()) and
 * from Barman 3.4's load_datetime_tz() and human_readable_timedelta(). Every
 * test that touches local time sets TZ itself.
 */
#include "unit.h"

#include <math.h>
#include <time.h>

#include "ts.h"

static void set_tz(const char *tz)
{
    assert_int_equal(setenv("TZ", tz, 1), 0);
    tzset();
}

static struct ts parse_ok(const char *text)
{
    struct ts t = {0};
    struct cel_err err = {0};
    if (ts_parse(text, &t, &err) != 0)
        fail_msg("ts_parse(\"%s\") failed: %s", text, err.msg);
    return t;
}

static void assert_parse_error(const char *text, const char *msg)
{
    struct ts t = {.sec = 12345, .usec = 6, .offset = 7, .has_offset = true};
    struct cel_err err = {0};
    int rc = ts_parse(text, &t, &err);
    if (rc != -CEL_E_INVALID)
        fail_msg("ts_parse(\"%s\") returned %d, expected an error", text ? text : "(null)", rc);
    assert_int_equal(err.code, CEL_E_INVALID);
    assert_string_equal(err.msg, msg);
    /* the output is untouched on failure */
    assert_int_equal(t.sec, 12345);
    assert_int_equal(t.usec, 6);
}

/* The message of a syntax error for text. */
#define SYNTAX(text)                                                                               \
    "invalid timestamp '" text "': expected YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM] or a ctime() "    \
    "date like 'Thu Jan  1 00:00:05 2026'"

/* Parse text and check str(), isoformat() and ctime() of the result. */
static void assert_formats(const char *text, const char *str, const char *iso, const char *ctime)
{
    struct ts t = parse_ok(text);
    char buf[TS_MAX];
    ts_format(&t, buf);
    assert_string_equal(buf, str);
    ts_format_iso(&t, buf);
    assert_string_equal(buf, iso);
    ts_format_ctime(&t, buf);
    assert_string_equal(buf, ctime);
}

/* ----------------------------------------------------------------- parsing */

static void test_ts_parse_barman_form(void **state)
{
    (void)state;
    set_tz("Europe/Rome"); /* must not matter: the text has an offset */
    struct ts t = parse_ok("2026-11-24 03:42:19.575053+00:00");
    assert_int_equal(t.sec, 1795491739);
    assert_int_equal(t.usec, 575053);
    assert_int_equal(t.offset, 0);
    assert_true(t.has_offset);
    assert_true(ts_epoch(&t) == 1795491739.0 + 575053 / 1e6);
    assert_formats("2026-11-24 03:42:19.575053+00:00", "2026-11-24 03:42:19.575053+00:00",
                   "2026-11-24T03:42:19.575053+00:00", "Tue Nov 24 03:42:19 2026");
    /* microseconds are omitted when zero */
    assert_formats("2026-11-24 03:42:25+00:00", "2026-11-24 03:42:25+00:00",
                   "2026-11-24T03:42:25+00:00", "Tue Nov 24 03:42:25 2026");
}

static void test_ts_parse_offset_forms(void **state)
{
    (void)state;
    set_tz("UTC");
    struct ts t = parse_ok("2026-11-24T03:42:19.5+0530");
    assert_int_equal(t.sec, 1795471939);
    assert_int_equal(t.usec, 500000);
    assert_int_equal(t.offset, 19800);
    assert_formats("2026-11-24T03:42:19.5+0530", "2026-11-24 03:42:19.500000+05:30",
                   "2026-11-24T03:42:19.500000+05:30", "Tue Nov 24 03:42:19 2026");

    t = parse_ok("2026-11-24 03:42:19-03:30");
    assert_int_equal(t.sec, 1795504339);
    assert_int_equal(t.offset, -12600);
    assert_formats("2026-11-24 03:42:19-03:30", "2026-11-24 03:42:19-03:30",
                   "2026-11-24T03:42:19-03:30", "Tue Nov 24 03:42:19 2026");

    t = parse_ok("2026-11-24 03:42:19+05");
    assert_int_equal(t.sec, 1795473739);
    assert_formats("2026-11-24 03:42:19+05", "2026-11-24 03:42:19+05:00",
                   "2026-11-24T03:42:19+05:00", "Tue Nov 24 03:42:19 2026");

    t = parse_ok("2026-11-24 03:42:19Z");
    assert_int_equal(t.sec, 1795491739);
    assert_true(t.has_offset);
    assert_int_equal(t.offset, 0);
    assert_formats("2026-11-24 03:42:19Z", "2026-11-24 03:42:19+00:00", "2026-11-24T03:42:19+00:00",
                   "Tue Nov 24 03:42:19 2026");

    /* offsets with seconds print them, as Python does */
    t = parse_ok("2026-01-01 00:00:00+05:30:15");
    assert_int_equal(t.offset, 19815);
    assert_formats("2026-01-01 00:00:00+05:30:15", "2026-01-01 00:00:00+05:30:15",
                   "2026-01-01T00:00:00+05:30:15", "Thu Jan  1 00:00:00 2026");
    assert_formats("2026-01-01 00:00:00-00:00:30", "2026-01-01 00:00:00-00:00:30",
                   "2026-01-01T00:00:00-00:00:30", "Thu Jan  1 00:00:00 2026");

    /* fractions of 1..6 digits, blanks around */
    t = parse_ok("  2026-01-01 00:00:00.000001+00:00\n");
    assert_int_equal(t.usec, 1);
    t = parse_ok("2026-01-01 00:00:00.123+00:00");
    assert_int_equal(t.usec, 123000);
    /* a wall time near midnight with an offset lands on the previous UTC day */
    assert_formats("2026-01-01 00:30:00+01:00", "2026-01-01 00:30:00+01:00",
                   "2026-01-01T00:30:00+01:00", "Thu Jan  1 00:30:00 2026");
}

static void test_ts_parse_calendar_edges(void **state)
{
    (void)state;
    set_tz("UTC");
    assert_int_equal(parse_ok("2024-02-29 00:00:00+00:00").sec, 1709164800);
    assert_int_equal(parse_ok("2000-02-29 00:00:00Z").sec, 951782400);
    assert_int_equal(parse_ok("1970-01-01 00:00:00Z").sec, 0);
    assert_int_equal(parse_ok("1969-12-31 23:59:59Z").sec, -1);
    assert_int_equal(parse_ok("0001-01-01 00:00:00Z").sec, -62135596800LL);
    assert_int_equal(parse_ok("9999-12-31 23:59:59Z").sec, 253402300799LL);
    assert_formats("0001-01-01 00:00:00Z", "0001-01-01 00:00:00+00:00", "0001-01-01T00:00:00+00:00",
                   "Mon Jan  1 00:00:00 0001");
    assert_formats("9999-12-31 23:59:59Z", "9999-12-31 23:59:59+00:00", "9999-12-31T23:59:59+00:00",
                   "Fri Dec 31 23:59:59 9999");
    assert_formats("2000-02-29 00:00:00Z", "2000-02-29 00:00:00+00:00", "2000-02-29T00:00:00+00:00",
                   "Tue Feb 29 00:00:00 2000");
    assert_formats("1969-12-31 23:59:59Z", "1969-12-31 23:59:59+00:00", "1969-12-31T23:59:59+00:00",
                   "Wed Dec 31 23:59:59 1969");
}

static void test_ts_parse_naive_is_local_utc(void **state)
{
    (void)state;
    set_tz("UTC");
    struct ts t = parse_ok("2026-11-24 03:42:19");
    assert_false(t.has_offset);
    assert_int_equal(t.offset, 0);
    assert_int_equal(t.sec, 1795491739);
    assert_formats("2026-11-24 03:42:19.25", "2026-11-24 03:42:19.250000",
                   "2026-11-24T03:42:19.250000", "Tue Nov 24 03:42:19 2026");
}

static void test_ts_parse_naive_is_local_rome(void **state)
{
    (void)state;
    set_tz("Europe/Rome");
    struct ts t = parse_ok("2026-01-15 12:00:00");
    assert_false(t.has_offset);
    assert_int_equal(t.sec, 1768474800);
    assert_int_equal(t.offset, 3600);
    t = parse_ok("2026-07-01 12:00:00");
    assert_int_equal(t.sec, 1782900000);
    assert_int_equal(t.offset, 7200);
    /* a naive time is written back without an offset, unchanged */
    assert_formats("2026-07-01 12:00:00", "2026-07-01 12:00:00", "2026-07-01T12:00:00",
                   "Wed Jul  1 12:00:00 2026");
}

static void test_ts_parse_naive_rome_spring_forward(void **state)
{
    (void)state;
    set_tz("Europe/Rome"); /* 2026-03-29 02:00 CET becomes 03:00 CEST */
    struct ts t = parse_ok("2026-03-29 01:59:59");
    assert_int_equal(t.sec, 1774745999);
    assert_int_equal(t.offset, 3600);
    t = parse_ok("2026-03-29 03:00:00");
    assert_int_equal(t.sec, 1774746000);
    assert_int_equal(t.offset, 7200);
    /* 02:30 does not exist: Barman (dateutil) reads it with +02:00 */
    t = parse_ok("2026-03-29 02:30:00");
    assert_int_equal(t.sec, 1774744200);
    assert_int_equal(t.offset, 7200);
    assert_formats("2026-03-29 02:30:00", "2026-03-29 02:30:00", "2026-03-29T02:30:00",
                   "Sun Mar 29 02:30:00 2026");
}

static void test_ts_parse_naive_rome_fall_back(void **state)
{
    (void)state;
    set_tz("Europe/Rome"); /* 2026-10-25 03:00 CEST becomes 02:00 CET */
    struct ts t = parse_ok("2026-10-25 01:59:59");
    assert_int_equal(t.sec, 1792886399);
    assert_int_equal(t.offset, 7200);
    /* 02:30 happens twice: the first one (summer time), as Barman reads it */
    t = parse_ok("2026-10-25 02:30:00");
    assert_int_equal(t.sec, 1792888200);
    assert_int_equal(t.offset, 7200);
    t = parse_ok("2026-10-25 03:00:00");
    assert_int_equal(t.sec, 1792893600);
    assert_int_equal(t.offset, 3600);
}

static void test_ts_parse_ctime(void **state)
{
    (void)state;
    set_tz("UTC");
    struct ts t = parse_ok("Thu Jan  1 00:00:05 2026");
    assert_int_equal(t.sec, 1767225605);
    assert_false(t.has_offset);
    assert_formats("Thu Jan  1 00:00:05 2026", "2026-01-01 00:00:05", "2026-01-01T00:00:05",
                   "Thu Jan  1 00:00:05 2026");
    /* one blank, a zero-padded day, any case, blanks around */
    assert_int_equal(parse_ok("Thu Jan 1 00:00:05 2026").sec, 1767225605);
    assert_int_equal(parse_ok("Thu Jan 01 00:00:05 2026").sec, 1767225605);
    assert_int_equal(parse_ok(" thu JAN  1 00:00:05 2026 ").sec, 1767225605);
    /* like dateutil, the weekday is not checked against the date */
    assert_int_equal(parse_ok("Fri Jan  1 00:00:05 2026").sec, 1767225605);
    assert_formats("Tue Nov 24 03:42:40 2026", "2026-11-24 03:42:40", "2026-11-24T03:42:40",
                   "Tue Nov 24 03:42:40 2026");

    set_tz("Europe/Rome");
    t = parse_ok("Thu Jan  1 00:00:05 2026");
    assert_int_equal(t.sec, 1767222005);
    assert_int_equal(t.offset, 3600);
}

static void test_ts_parse_errors(void **state)
{
    (void)state;
    set_tz("UTC");
    assert_parse_error("", SYNTAX(""));
    assert_parse_error("   ", SYNTAX("   "));
    assert_parse_error(NULL, SYNTAX(""));
    assert_parse_error("garbage", SYNTAX("garbage"));
    assert_parse_error("2026-11-24", SYNTAX("2026-11-24"));
    assert_parse_error("2026-11-24 03:42", SYNTAX("2026-11-24 03:42"));
    assert_parse_error("2026/11/24 03:42:19", SYNTAX("2026/11/24 03:42:19"));
    assert_parse_error("2026-11-24_03:42:19", SYNTAX("2026-11-24_03:42:19"));
    assert_parse_error("26-11-24 03:42:19", SYNTAX("26-11-24 03:42:19"));
    assert_parse_error("2026-1-24 03:42:19", SYNTAX("2026-1-24 03:42:19"));
    assert_parse_error("2026-11-24 3:42:19", SYNTAX("2026-11-24 3:42:19"));
    assert_parse_error("2026-11-24 03:42:19.", SYNTAX("2026-11-24 03:42:19."));
    assert_parse_error("2026-11-24 03:42:19+5", SYNTAX("2026-11-24 03:42:19+5"));
    assert_parse_error("2026-11-24 03:42:19+05:3", SYNTAX("2026-11-24 03:42:19+05:3"));
    assert_parse_error("2026-11-24 03:42:19+05:30:1", SYNTAX("2026-11-24 03:42:19+05:30:1"));
    assert_parse_error("2026-11-24 03:42:19+053", SYNTAX("2026-11-24 03:42:19+053"));
    assert_parse_error("2026-11-24 03:42:19 UTC", SYNTAX("2026-11-24 03:42:19 UTC"));
    assert_parse_error("2026-11-24 03:42:19+00:00 x", SYNTAX("2026-11-24 03:42:19+00:00 x"));
    assert_parse_error("Thursday Jan  1 00:00:05 2026", SYNTAX("Thursday Jan  1 00:00:05 2026"));
    assert_parse_error("Thu Jan  1 00:00:05", SYNTAX("Thu Jan  1 00:00:05"));
    assert_parse_error("Thu Jan  1 00:00:05 26", SYNTAX("Thu Jan  1 00:00:05 26"));
    assert_parse_error("Thu Jan 123 00:00:05 2026", SYNTAX("Thu Jan 123 00:00:05 2026"));
    assert_parse_error("Thu 1 Jan 00:00:05 2026", SYNTAX("Thu 1 Jan 00:00:05 2026"));
    assert_parse_error("Th", SYNTAX("Th"));
    assert_parse_error("+2026-11-24 03:42:19", SYNTAX("+2026-11-24 03:42:19"));

    assert_parse_error("2026-11-24 03:42:19.1234567+00:00",
                       "invalid timestamp '2026-11-24 03:42:19.1234567+00:00': "
                       "more than 6 fractional digits");
    assert_parse_error("0000-01-01 00:00:00",
                       "invalid timestamp '0000-01-01 00:00:00': year 0 out of range 1..9999");
    assert_parse_error("2026-13-01 00:00:00",
                       "invalid timestamp '2026-13-01 00:00:00': month 13 out of range 1..12");
    assert_parse_error("2026-00-01 00:00:00",
                       "invalid timestamp '2026-00-01 00:00:00': month 0 out of range 1..12");
    assert_parse_error("2026-01-00 00:00:00",
                       "invalid timestamp '2026-01-00 00:00:00': day 0 out of range 1..31 for "
                       "2026-01");
    assert_parse_error("2026-04-31 00:00:00",
                       "invalid timestamp '2026-04-31 00:00:00': day 31 out of range 1..30 for "
                       "2026-04");
    assert_parse_error("2026-02-29 00:00:00",
                       "invalid timestamp '2026-02-29 00:00:00': day 29 out of range 1..28 for "
                       "2026-02");
    assert_parse_error("1900-02-29 00:00:00",
                       "invalid timestamp '1900-02-29 00:00:00': day 29 out of range 1..28 for "
                       "1900-02");
    assert_parse_error("2024-02-30 00:00:00",
                       "invalid timestamp '2024-02-30 00:00:00': day 30 out of range 1..29 for "
                       "2024-02");
    assert_parse_error("2026-01-01 24:00:00",
                       "invalid timestamp '2026-01-01 24:00:00': hour 24 out of range 0..23");
    assert_parse_error("2026-01-01 00:60:00",
                       "invalid timestamp '2026-01-01 00:60:00': minute 60 out of range 0..59");
    assert_parse_error("2026-01-01 00:00:60",
                       "invalid timestamp '2026-01-01 00:00:60': second 60 out of range 0..59");
    assert_parse_error("2026-01-01 00:00:00+24:00",
                       "invalid timestamp '2026-01-01 00:00:00+24:00': "
                       "offset hour 24 out of range 0..23");
    assert_parse_error("2026-01-01 00:00:00-0060", "invalid timestamp '2026-01-01 00:00:00-0060': "
                                                   "offset minute 60 out of range 0..59");
    assert_parse_error("2026-01-01 00:00:00+00:00:99",
                       "invalid timestamp '2026-01-01 00:00:00+00:00:99': "
                       "offset second 99 out of range 0..59");
    assert_parse_error("Xyz Jan  1 00:00:05 2026",
                       "invalid timestamp 'Xyz Jan  1 00:00:05 2026': unknown weekday 'Xyz'");
    assert_parse_error("Thu Foo  1 00:00:05 2026",
                       "invalid timestamp 'Thu Foo  1 00:00:05 2026': unknown month 'Foo'");
    assert_parse_error("Thu Jan 32 00:00:05 2026", "invalid timestamp 'Thu Jan 32 00:00:05 2026': "
                                                   "day 32 out of range 1..31 for 2026-01");
    assert_parse_error("Sun Feb 29 00:00:05 2026", "invalid timestamp 'Sun Feb 29 00:00:05 2026': "
                                                   "day 29 out of range 1..28 for 2026-02");
    assert_parse_error("Thu Jan  1 25:00:05 2026", "invalid timestamp 'Thu Jan  1 25:00:05 2026': "
                                                   "hour 25 out of range 0..23");
}

static void test_ts_parse_error_shows_text_safely(void **state)
{
    (void)state;
    /* control bytes are shown as '?', long texts are cut at 64 bytes */
    assert_parse_error("2026\x01\n", SYNTAX("2026??"));
    char long_text[200];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    struct ts t;
    struct cel_err err = {0};
    assert_int_equal(ts_parse(long_text, &t, &err), -CEL_E_INVALID);
    assert_string_equal(
        err.msg, SYNTAX("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."));
    /* a NULL err is allowed */
    assert_int_equal(ts_parse("nope", &t, NULL), -CEL_E_INVALID);
}

/* -------------------------------------------------------------- formatting */

static void test_ts_format_built_values(void **state)
{
    (void)state;
    char buf[TS_MAX];
    struct ts t = {.sec = 5, .usec = 0, .offset = 0, .has_offset = true};
    ts_format_ctime(&t, buf);
    assert_string_equal(buf, "Thu Jan  1 00:00:05 1970");
    ts_format(&t, buf);
    assert_string_equal(buf, "1970-01-01 00:00:05+00:00");

    t = (struct ts){.sec = 1767225605, .usec = 1, .offset = -36000, .has_offset = true};
    ts_format(&t, buf);
    assert_string_equal(buf, "2025-12-31 14:00:05.000001-10:00");
    ts_format_iso(&t, buf);
    assert_string_equal(buf, "2025-12-31T14:00:05.000001-10:00");
    ts_format_ctime(&t, buf);
    assert_string_equal(buf, "Wed Dec 31 14:00:05 2025");

    t.has_offset = false;
    ts_format(&t, buf);
    assert_string_equal(buf, "2025-12-31 14:00:05.000001");

    /* the longest text fits TS_MAX */
    t = (struct ts){
        .sec = 253402300799LL - 86399, .usec = 999999, .offset = -86399, .has_offset = true};
    ts_format_iso(&t, buf);
    assert_string_equal(buf, "9999-12-30T00:00:01.999999-23:59:59");
    assert_true(strlen(buf) < TS_MAX);
}

/* ---------------------------------------------------------------- instants */

static void test_ts_from_epoch_local_offsets(void **state)
{
    (void)state;
    char buf[TS_MAX];
    struct ts t;
    set_tz("Europe/Rome");
    /* the two 02:30 of the autumn change, told apart by their offsets */
    ts_from_epoch(1792888200, 0, &t);
    assert_true(t.has_offset);
    assert_int_equal(t.offset, 7200);
    ts_format(&t, buf);
    assert_string_equal(buf, "2026-10-25 02:30:00+02:00");
    ts_from_epoch(1792891800, 0, &t);
    assert_int_equal(t.offset, 3600);
    ts_format(&t, buf);
    assert_string_equal(buf, "2026-10-25 02:30:00+01:00");

    /* and they read back as the same instants */
    assert_int_equal(parse_ok("2026-10-25 02:30:00+01:00").sec, 1792891800);

    set_tz("UTC");
    ts_from_epoch(1795491739, 575053, &t);
    ts_format(&t, buf);
    assert_string_equal(buf, "2026-11-24 03:42:19.575053+00:00");
}

static void test_ts_from_epoch_normalizes_usec(void **state)
{
    (void)state;
    set_tz("UTC");
    struct ts t;
    ts_from_epoch(10, -1, &t);
    assert_int_equal(t.sec, 9);
    assert_int_equal(t.usec, 999999);
    ts_from_epoch(10, 2500000, &t);
    assert_int_equal(t.sec, 12);
    assert_int_equal(t.usec, 500000);
    ts_from_epoch(-1, -1000000, &t);
    assert_int_equal(t.sec, -2);
    assert_int_equal(t.usec, 0);
}

static void test_ts_now_is_now(void **state)
{
    (void)state;
    set_tz("Europe/Rome");
    time_t before = time(NULL);
    struct ts t;
    ts_now(&t);
    time_t after = time(NULL);
    assert_true(t.sec >= (int64_t)before && t.sec <= (int64_t)after);
    assert_true(t.usec >= 0 && t.usec <= 999999);
    assert_true(t.has_offset);
    assert_true(t.offset == 3600 || t.offset == 7200);
}

/* ts_local_minus: datetime.now(tzlocal()) - timedelta(days=7) in
 * Europe/Rome; expected epochs printed by Python 3.11 with dateutil. */
static void test_ts_local_minus_rome(void **state)
{
    (void)state;
    set_tz("Europe/Rome");
    /* across the spring change: 7 days less one hour */
    assert_true(ts_local_minus(1774864800.0, 7 * 86400) == 1774263600.0);
    /* lands in the spring gap (2026-03-29 02:30): read with +02:00 */
    assert_true(ts_local_minus(1775349000.0, 7 * 86400) == 1774744200.0);
    /* lands on a wall time that occurs twice (2026-10-25 02:30): the first */
    assert_true(ts_local_minus(1793496600.0, 7 * 86400) == 1792888200.0);
    /* no change in between: the plain difference, fraction kept */
    assert_true(ts_local_minus(1780293600.5, 7 * 86400) == 1779688800.5);
    set_tz("UTC");
    assert_true(ts_local_minus(1774864800.25, 86400) == 1774778400.25);
}

static void test_ts_cmp_and_epoch(void **state)
{
    (void)state;
    struct ts a = parse_ok("2026-11-24 04:42:19+01:00");
    struct ts b = parse_ok("2026-11-24 03:42:19+00:00");
    assert_int_equal(ts_cmp(&a, &b), 0); /* same instant, different offsets */
    struct ts c = parse_ok("2026-11-24 03:42:19.000001+00:00");
    assert_int_equal(ts_cmp(&b, &c), -1);
    assert_int_equal(ts_cmp(&c, &b), 1);
    struct ts d = parse_ok("2026-11-24 03:42:20-00:00");
    assert_int_equal(ts_cmp(&c, &d), -1);
    assert_int_equal(ts_cmp(&d, &a), 1);
    assert_true(fabs(ts_epoch(&c) - 1795491739.000001) < 5e-7);
    assert_true(ts_epoch(&c) > ts_epoch(&b));
    struct ts e = parse_ok("1969-12-31 23:59:59.5+00:00");
    assert_true(ts_epoch(&e) == -0.5);
}

/* -------------------------------------------------------------- backup IDs */

static void test_ts_backup_id_local_time(void **state)
{
    (void)state;
    char id[16];
    set_tz("Europe/Rome");
    ts_backup_id(1795491739, id);
    assert_string_equal(id, "20261124T044219");
    ts_backup_id(1782000000, id);
    assert_string_equal(id, "20260621T020000");
    assert_true(ts_is_backup_id(id));
    set_tz("UTC");
    ts_backup_id(1795491739, id);
    assert_string_equal(id, "20261124T034219");
    ts_backup_id(0, id);
    assert_string_equal(id, "19700101T000000");
    /* beyond year 9999 there is no 15-character ID */
    ts_backup_id((time_t)253402300800LL, id);
    assert_string_equal(id, "00000000T000000");
    ts_backup_id((time_t)INT64_MAX, id);
    assert_string_equal(id, "00000000T000000");
}

static void test_ts_is_backup_id(void **state)
{
    (void)state;
    assert_true(ts_is_backup_id("20261124T034219"));
    assert_true(ts_is_backup_id("00000000T000000"));
    assert_true(ts_is_backup_id("99999999T999999")); /* Barman checks the shape only */
    assert_false(ts_is_backup_id(""));
    assert_false(ts_is_backup_id(NULL));
    assert_false(ts_is_backup_id("20261124T03421"));
    assert_false(ts_is_backup_id("20261124T0342190"));
    assert_false(ts_is_backup_id("20261124t034219"));
    assert_false(ts_is_backup_id("2026112aT034219"));
    assert_false(ts_is_backup_id("20261124T03421x"));
    assert_false(ts_is_backup_id(" 20261124T034219"));
    assert_false(ts_is_backup_id("20261124T034219 "));
    assert_false(ts_is_backup_id("20261124-034219"));
    assert_false(ts_is_backup_id("2026-11-24T03:42:19"));
    assert_false(ts_is_backup_id("latest"));
}

/* --------------------------------------------------------------- intervals */

static void test_ts_human_delta(void **state)
{
    (void)state;
    static const struct {
        double seconds;
        const char *text;
    } cases[] = {
        {0, "less than one second"},
        {0.5, "less than one second"},
        {-0.5, "less than one second ago"},
        {-0.0, "less than one second"},
        {-1e-7, "less than one second"}, /* zero once rounded to microseconds */
        {0.9999996, "1 second"},
        {1, "1 second"},
        {2, "2 seconds"},
        {61, "1 minute, 1 second"},
        {120, "2 minutes"},
        {3600, "1 hour"},
        {3661, "1 hour, 1 minute, 1 second"},
        {7322, "2 hours, 2 minutes, 2 seconds"},
        {86400, "1 day"},
        {86400.5, "1 day"},
        {90061, "1 day, 1 hour, 1 minute, 1 second"},
        {180122, "2 days, 2 hours, 2 minutes, 2 seconds"},
        {172800 + 59, "2 days, 59 seconds"},
        {-90061, "1 day, 1 hour, 1 minute, 1 second ago"},
        {-3600.25, "1 hour ago"},
        /* beyond Python's timedelta range: clamped to its maximum */
        {1e20, "999999999 days, 23 hours, 59 minutes, 59 seconds"},
        {-INFINITY, "999999999 days, 23 hours, 59 minutes, 59 seconds ago"},
        {NAN, "less than one second"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        struct strbuf sb = {0};
        ts_human_delta(cases[i].seconds, &sb);
        if (strcmp(sb_str(&sb), cases[i].text) != 0)
            fail_msg("ts_human_delta(%g) = \"%s\", expected \"%s\"", cases[i].seconds, sb_str(&sb),
                     cases[i].text);
        sb_free(&sb);
    }
    /* it appends */
    struct strbuf sb = {0};
    sb_append(&sb, "took ");
    ts_human_delta(3601, &sb);
    assert_string_equal(sb_str(&sb), "took 1 hour, 1 second");
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ts_parse_barman_form),
        cmocka_unit_test(test_ts_parse_offset_forms),
        cmocka_unit_test(test_ts_parse_calendar_edges),
        cmocka_unit_test(test_ts_parse_naive_is_local_utc),
        cmocka_unit_test(test_ts_parse_naive_is_local_rome),
        cmocka_unit_test(test_ts_parse_naive_rome_spring_forward),
        cmocka_unit_test(test_ts_parse_naive_rome_fall_back),
        cmocka_unit_test(test_ts_parse_ctime),
        cmocka_unit_test(test_ts_parse_errors),
        cmocka_unit_test(test_ts_parse_error_shows_text_safely),
        cmocka_unit_test(test_ts_format_built_values),
        cmocka_unit_test(test_ts_from_epoch_local_offsets),
        cmocka_unit_test(test_ts_from_epoch_normalizes_usec),
        cmocka_unit_test(test_ts_now_is_now),
        cmocka_unit_test(test_ts_local_minus_rome),
        cmocka_unit_test(test_ts_cmp_and_epoch),
        cmocka_unit_test(test_ts_backup_id_local_time),
        cmocka_unit_test(test_ts_is_backup_id),
        cmocka_unit_test(test_ts_human_delta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
