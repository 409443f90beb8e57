/*
 * Unit tests of src/core/catalog/pyval.c: parsing and printing the Python literals of
 * backup.info. Expected repr() texts were taken from Python 3.11's repr() and
 * are hard-coded here; the backup.info values are the real ones of
 * /work/shared/reference/barman-format.md section 2.
 */
#include "unit.h"

#include <math.h>

#include "pyval.h"

/* Parse text, asserting success. */
static struct py_value *parse_ok(const char *text)
{
    struct py_value *v = NULL;
    struct cel_err err = {0};
    int rc = py_parse(text, &v, &err);
    if (rc != 0)
        fail_msg("py_parse(\"%s\") failed: %s", text, err.msg);
    assert_non_null(v);
    return v;
}

/* repr(v) as a new string. */
static char *repr_of(const struct py_value *v)
{
    struct strbuf sb = {0};
    py_repr(v, &sb);
    return sb_detach(&sb);
}

/* Parse text and check that repr() gives expected back. */
static void assert_repr_after_parse(const char *text, const char *expected)
{
    struct py_value *v = parse_ok(text);
    char *r = repr_of(v);
    assert_string_equal(r, expected);
    free(r);
    py_free(v);
}

/* Parse text and check the exact error. */
static void assert_parse_error(const char *text, const char *msg)
{
    struct py_value *v = (struct py_value *)&v; /* must be reset to NULL */
    struct cel_err err = {0};
    int rc = py_parse(text, &v, &err);
    if (rc != -CEL_E_FORMAT)
        fail_msg("py_parse(\"%s\") returned %d, expected an error", text, rc);
    assert_null(v);
    assert_int_equal(err.code, CEL_E_FORMAT);
    assert_string_equal(err.msg, msg);
}

static char *float_repr(double f)
{
    struct strbuf sb = {0};
    py_repr_float(f, &sb);
    return sb_detach(&sb);
}

static char *str_repr(const char *s, size_t len)
{
    struct strbuf sb = {0};
    py_repr_str(s, len, &sb);
    return sb_detach(&sb);
}

/* ------------------------------------------------ real backup.info values */

static const char COPY_STATS_RSYNC[] =
    "{'total_time': 0.608651, 'number_of_workers': 1, 'analysis_time_per_item': {'tbs1': "
    "0.11794, 'pgdata': 0.132975}, 'copy_time_per_item': {'tbs1': 0.084523, 'pgdata': 0.220001, "
    "'pg_control': 0.0282}, 'serialized_copy_time_per_item': {'tbs1': 0.083799, 'pgdata': "
    "0.217374, 'pg_control': 0.0282}, 'analysis_time': 0.250923, 'copy_time': 0.34123, "
    "'serialized_copy_time': 0.329373}";

static const char BACKUP_LABEL[] =
    "'START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\\nCHECKPOINT LOCATION: "
    "0/4000060\\nBACKUP METHOD: streamed\\nBACKUP FROM: primary\\nSTART TIME: 2026-11-24 "
    "03:42:24 UTC\\nLABEL: Barman backup pglr 20261124T034224\\nSTART TIMELINE: 1\\n'";

static void test_py_parse_tablespaces(void **state)
{
    (void)state;
    const char *text = "[('tbs1', 16384, '/srv/pg/tbs1'), ('tbs2', 16385, '/srv/pg/tbs 2')]";
    struct py_value *v = parse_ok(text);
    assert_int_equal(v->kind, PY_LIST);
    assert_int_equal(v->n, 2);
    const struct py_value *t = v->items[0];
    assert_int_equal(t->kind, PY_TUPLE);
    assert_int_equal(t->n, 3);
    assert_int_equal(t->items[0]->kind, PY_STR);
    assert_string_equal(t->items[0]->s, "tbs1");
    assert_int_equal(t->items[0]->len, 4);
    assert_int_equal(t->items[1]->kind, PY_INT);
    assert_int_equal(t->items[1]->i, 16384);
    assert_string_equal(t->items[2]->s, "/srv/pg/tbs1");
    assert_string_equal(v->items[1]->items[2]->s, "/srv/pg/tbs 2");
    char *r = repr_of(v);
    assert_string_equal(r, text);
    free(r);
    py_free(v);
}

static void test_py_parse_copy_stats_rsync(void **state)
{
    (void)state;
    struct py_value *v = parse_ok(COPY_STATS_RSYNC);
    assert_int_equal(v->kind, PY_DICT);
    assert_int_equal(v->n, 8);
    /* keys keep the order of the text */
    assert_string_equal(v->items[0]->s, "total_time");
    assert_string_equal(v->items[7]->s, "serialized_copy_time");

    const struct py_value *workers = py_dict_get(v, "number_of_workers");
    assert_non_null(workers);
    assert_int_equal(workers->kind, PY_INT);
    assert_int_equal(workers->i, 1);

    double d = 0;
    assert_true(py_as_double(py_dict_get(v, "analysis_time"), &d));
    assert_true(d == 0.250923);
    assert_true(py_as_double(py_dict_get(v, "copy_time"), &d));
    assert_true(d == 0.34123);
    assert_true(py_as_double(workers, &d));
    assert_true(d == 1.0);

    const struct py_value *per_item = py_dict_get(v, "copy_time_per_item");
    assert_non_null(per_item);
    assert_int_equal(per_item->kind, PY_DICT);
    assert_int_equal(per_item->n, 3);
    assert_true(py_as_double(py_dict_get(per_item, "pg_control"), &d));
    assert_true(d == 0.0282);
    assert_null(py_dict_get(per_item, "config_file"));
    assert_null(py_dict_get(v, "nope"));
    assert_null(py_dict_get(workers, "x")); /* not a dict */

    char *r = repr_of(v);
    assert_string_equal(r, COPY_STATS_RSYNC);
    free(r);
    py_free(v);
}

static void test_py_parse_copy_stats_postgres(void **state)
{
    (void)state;
    const char *text = "{'copy_time': 4.343581, 'total_time': 4.343581}";
    struct py_value *v = parse_ok(text);
    double d = 0;
    assert_true(py_as_double(py_dict_get(v, "total_time"), &d));
    assert_true(d == 4.343581);
    char *r = repr_of(v);
    assert_string_equal(r, text);
    free(r);
    py_free(v);
}

static void test_py_parse_backup_label(void **state)
{
    (void)state;
    struct py_value *v = parse_ok(BACKUP_LABEL);
    assert_int_equal(v->kind, PY_STR);
    const char *expected = "START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\n"
                           "CHECKPOINT LOCATION: 0/4000060\n"
                           "BACKUP METHOD: streamed\n"
                           "BACKUP FROM: primary\n"
                           "START TIME: 2026-11-24 03:42:24 UTC\n"
                           "LABEL: Barman backup pglr 20261124T034224\n"
                           "START TIMELINE: 1\n";
    assert_string_equal(v->s, expected);
    assert_int_equal(v->len, strlen(expected));
    char *r = repr_of(v);
    assert_string_equal(r, BACKUP_LABEL);
    free(r);
    py_free(v);
}

static void test_py_parse_included_files_and_none(void **state)
{
    (void)state;
    const char *text = "['/etc/postgresql/15/main/conf.d/extra.conf', '/srv/pg/15/tuning.conf']";
    struct py_value *v = parse_ok(text);
    assert_int_equal(v->kind, PY_LIST);
    assert_int_equal(v->n, 2);
    assert_string_equal(v->items[1]->s, "/srv/pg/15/tuning.conf");
    char *r = repr_of(v);
    assert_string_equal(r, text);
    free(r);
    py_free(v);

    v = parse_ok("None");
    assert_int_equal(v->kind, PY_NONE);
    py_free(v);
    assert_repr_after_parse("[]", "[]");
}

/* ---------------------------------------------------------------- scalars */

static void test_py_parse_scalars(void **state)
{
    (void)state;
    struct py_value *v = parse_ok(" True ");
    assert_int_equal(v->kind, PY_BOOL);
    assert_true(v->b);
    py_free(v);
    v = parse_ok("False");
    assert_int_equal(v->kind, PY_BOOL);
    assert_false(v->b);
    py_free(v);

    v = parse_ok("-9223372036854775808");
    assert_int_equal(v->kind, PY_INT);
    assert_true(v->i == INT64_MIN);
    py_free(v);
    v = parse_ok("9223372036854775807");
    assert_true(v->i == INT64_MAX);
    py_free(v);
    v = parse_ok("00");
    assert_int_equal(v->kind, PY_INT);
    assert_int_equal(v->i, 0);
    py_free(v);

    v = parse_ok("1e5");
    assert_int_equal(v->kind, PY_FLOAT);
    assert_true(v->f == 100000.0);
    py_free(v);
    v = parse_ok("1e-400"); /* underflow gives 0.0, as in Python */
    assert_int_equal(v->kind, PY_FLOAT);
    assert_true(v->f == 0.0);
    py_free(v);

    /* Python's spellings, printed back in repr() form */
    assert_repr_after_parse("-0", "0");
    assert_repr_after_parse("+7", "7");
    assert_repr_after_parse("- 1", "-1");
    assert_repr_after_parse("-0.0", "-0.0");
    assert_repr_after_parse("1.", "1.0");
    assert_repr_after_parse(".5", "0.5");
    assert_repr_after_parse("-.5e3", "-500.0");
    assert_repr_after_parse("1E+5", "100000.0");
    assert_repr_after_parse("0.30000000000000004", "0.30000000000000004");
    assert_repr_after_parse("1.7976931348623157e+308", "1.7976931348623157e+308");
    assert_repr_after_parse("5e-324", "5e-324");
    assert_repr_after_parse("4.3435810", "4.343581");
}

/* ---------------------------------------------------------------- strings */

static void test_py_parse_double_quoted(void **state)
{
    (void)state;
    struct py_value *v = parse_ok("\"it's\"");
    assert_string_equal(v->s, "it's");
    py_free(v);
    assert_repr_after_parse("\"it's\"", "\"it's\"");
    assert_repr_after_parse("\"plain\"", "'plain'");
    assert_repr_after_parse("'say \"hi\"'", "'say \"hi\"'");
    assert_repr_after_parse("\"say \\\"hi\\\"\"", "'say \"hi\"'");
    assert_repr_after_parse("'both \\' and \"'", "'both \\' and \"'");
    assert_repr_after_parse("\"both ' and \\\"\"", "'both \\' and \"'");
}

static void test_py_parse_escapes(void **state)
{
    (void)state;
    struct py_value *v =
        parse_ok("'\\\\ \\' \\\" \\a\\b\\f\\n\\r\\t\\v \\0 \\7 \\77 \\101 \\1010 \\x41\\x7e'");
    const char expected[] = "\\ ' \" \a\b\f\n\r\t\v \0 \a ? A A0 A~";
    assert_int_equal(v->len, sizeof expected - 1);
    assert_memory_equal(v->s, expected, sizeof expected - 1);
    assert_int_equal(v->s[v->len], '\0');
    py_free(v);

    /* a backslash before a newline continues the line */
    v = parse_ok("'ab\\\ncd'");
    assert_string_equal(v->s, "abcd");
    py_free(v);
    v = parse_ok("'ab\\\r\ncd'");
    assert_string_equal(v->s, "abcd");
    py_free(v);
}

static void test_py_parse_unicode_escapes(void **state)
{
    (void)state;
    struct py_value *v = parse_ok("'\\xe9|\\u20ac|\\U0001F600|\\777|\\u00E9|\\x00'");
    const char expected[] = "\xc3\xa9|\xe2\x82\xac|\xf0\x9f\x98\x80|\xc7\xbf|\xc3\xa9|";
    assert_int_equal(v->len, sizeof expected); /* the trailing \x00 is a real NUL */
    assert_memory_equal(v->s, expected, sizeof expected);
    py_free(v);

    /* literal UTF-8 passes through */
    v = parse_ok("'caf\xc3\xa9 \xe2\x82\xac'");
    assert_string_equal(v->s, "caf\xc3\xa9 \xe2\x82\xac");
    py_free(v);

    /* surrogateescape: \udcNN is the raw byte NN */
    v = parse_ok("'a\\udcff\\udc80b'");
    assert_int_equal(v->len, 4);
    assert_memory_equal(v->s,
                        "a\xff\x80"
                        "b",
                        4);
    py_free(v);
}

static void test_py_parse_adjacent_strings(void **state)
{
    (void)state;
    struct py_value *v = parse_ok("'a' \"b\"'c'\n\t'd'");
    assert_int_equal(v->kind, PY_STR);
    assert_string_equal(v->s, "abcd");
    py_free(v);
    v = parse_ok("['x' 'y', '']");
    assert_int_equal(v->n, 2);
    assert_string_equal(v->items[0]->s, "xy");
    assert_string_equal(v->items[1]->s, "");
    assert_int_equal(v->items[1]->len, 0);
    py_free(v);
}

/* ------------------------------------------------------------- containers */

static void test_py_parse_containers(void **state)
{
    (void)state;
    assert_repr_after_parse("()", "()");
    assert_repr_after_parse("( 1 , )", "(1,)");
    assert_repr_after_parse("(1)", "1");
    assert_repr_after_parse("((('x')))", "'x'");
    assert_repr_after_parse("(1, 2,)", "(1, 2)");
    assert_repr_after_parse("[1,]", "[1]");
    assert_repr_after_parse("[ ]", "[]");
    assert_repr_after_parse("{}", "{}");
    assert_repr_after_parse("{ 'a' : 1 , }", "{'a': 1}");
    assert_repr_after_parse("\n[\n  1,\r\n  {'k':[(),(None,),(True,False)]}\f]\n",
                            "[1, {'k': [(), (None,), (True, False)]}]");
    assert_repr_after_parse("{1: 'int', 'a': 'str', (1, 'x'): 'tuple', None: 0, 2.5: []}",
                            "{1: 'int', 'a': 'str', (1, 'x'): 'tuple', None: 0, 2.5: []}");

    struct py_value *v = parse_ok("(1,)");
    assert_int_equal(v->kind, PY_TUPLE);
    assert_int_equal(v->n, 1);
    py_free(v);
}

static void test_py_parse_dict_duplicate_keys(void **state)
{
    (void)state;
    /* as in Python: first key's place, last value; 1 == 1.0 == True */
    assert_repr_after_parse("{'a': 1, 'b': 2, 'a': 3}", "{'a': 3, 'b': 2}");
    assert_repr_after_parse("{1: 'a', 1.0: 'b', True: 'c'}", "{1: 'c'}");
    assert_repr_after_parse("{0: 'a', False: 'b', 0.5: 'c'}", "{0: 'b', 0.5: 'c'}");
    assert_repr_after_parse("{(1, 'x'): 2, (1.0, 'x'): 3, (1, 'y'): 4}",
                            "{(1, 'x'): 3, (1, 'y'): 4}");
    assert_repr_after_parse("{None: 1, None: 2}", "{None: 2}");
    /* an int is not equal to a float it rounds to */
    assert_repr_after_parse("{9007199254740993: 1, 9007199254740992.0: 2}",
                            "{9007199254740993: 1, 9007199254740992.0: 2}");
    assert_repr_after_parse("{9223372036854775807: 1, 9.3e18: 2}",
                            "{9223372036854775807: 1, 9.3e+18: 2}");
}

/* A copy_stats of 40,000 files: every key in file order with its value, a
 * repeated key in its first place with the last value, and work in
 * proportion to the keys (the parser used to compare each key with every
 * earlier one: 800 million comparisons here). */
static void test_py_parse_dict_many_keys(void **state)
{
    (void)state;
    enum { N = 40000 };
    struct strbuf text = {0};
    sb_append(&text, "{");
    for (int i = 0; i < N; i++)
        sb_appendf(&text, "'base/16384/%05d': %d.5, ", i, i);
    /* repeats: 1000 of the names, and 7 == 7.0 == the int key 7 */
    for (int i = 0; i < N; i += 40)
        sb_appendf(&text, "'base/16384/%05d': -%d, ", i, i);
    sb_append(&text, "7: 'int', 7.0: 'float', True: 'bool', 1: 'one'}");
    uint64_t before = py_key_compares();
    struct py_value *v = NULL;
    struct cel_err err = {0};
    int rc = py_parse(sb_str(&text), &v, &err);
    if (rc != 0)
        fail_msg("parse failed: %s", err.msg);
    uint64_t compares = py_key_compares() - before;
    assert_int_equal(v->kind, PY_DICT);
    assert_int_equal(v->n, N + 2);
    for (size_t i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "base/16384/%05zu", i);
        assert_string_equal(v->items[i]->s, name);
        double d = 0;
        assert_true(py_as_double(v->values[i], &d));
        if (i % 40 == 0)
            assert_true(d == -(double)i);
        else
            assert_true(d == (double)i + 0.5);
    }
    assert_int_equal(v->items[N]->kind, PY_INT);
    assert_int_equal(v->items[N]->i, 7);
    assert_string_equal(v->values[N]->s, "float");
    assert_int_equal(v->items[N + 1]->kind, PY_BOOL);
    assert_string_equal(v->values[N + 1]->s, "one");
    /* one comparison per repeated key (1002 of them); distinct keys, whose
     * hashes differ, are never compared */
    if (compares > 2 * 1002)
        fail_msg("%llu key comparisons for %d keys", (unsigned long long)compares, N + 1004);
    py_free(v);
    sb_free(&text);
}

/* ------------------------------------------------------------------ errors */

static void test_py_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"", "empty input"},
        {" \t\n", "empty input"},
        {"'abc", "unterminated string"},
        {"[1, 'abc\\'", "unterminated string"},
        {"\"abc'", "unterminated string"},
        {"'ab\ncd'", "unterminated string"},
        {"'a\\qb'", "invalid escape '\\q'"},
        {"'a\\\x01'", "invalid escape '\\' followed by byte 0x01"},
        {"'\\x4'", "truncated \\xXX escape"},
        {"'\\u12'", "truncated \\uXXXX escape"},
        {"'\\U0001F60'", "truncated \\UXXXXXXXX escape"},
        {"'\\U00110000'", "illegal Unicode character \\U00110000"},
        {"'\\ud800'", "lone surrogate \\ud800 cannot be stored as UTF-8"},
        {"'\\N{DASH}'", "\\N{...} escapes are not supported"},
        {"'''x'''", "triple-quoted strings are not supported"},
        {"b'x'", "string prefix 'b' is not supported"},
        {"Rb\"x\"", "string prefix 'Rb' is not supported"},
        {"[1 2]", "expected ',' or ']', found '2'"},
        {"(1 2)", "expected ',' or ')', found '2'"},
        {"(1, 2 3)", "expected ',' or ')', found '3'"},
        {"{'a' 1}", "expected ':', found '1'"},
        {"{'a': 1 'b': 2}", "expected ',' or '}', found '''"},
        {"{1, 2}", "expected ':', found ','"},
        {"[1,,2]", "expected a value, found ','"},
        {"(,)", "expected a value, found ','"},
        {"{:1}", "expected a value, found ':'"},
        {"{'a':}", "expected a value, found '}'"},
        {"[", "expected a value, found end of input"},
        {"[1,", "expected a value, found end of input"},
        {"[1", "expected ',' or ']', found end of input"},
        {"{'a'", "expected ':', found end of input"},
        {"[\x01]", "expected a value, found byte 0x01"},
        {"# comment", "expected a value, found '#'"},
        {"{[1]: 2}", "unhashable dict key"},
        {"{(1, {}): 2}", "unhashable dict key"},
        {"1 2", "unexpected '2' after the literal"},
        {"[1] x", "unexpected 'x' after the literal"},
        {"'a' \xc3\xa9", "unexpected byte 0xc3 after the literal"},
        {"Nonesuch", "unknown name 'Nonesuch'"},
        {"none", "unknown name 'none'"},
        {"inf", "unknown name 'inf'"},
        {"abcdefghijklmnopqrstuvwxyzabcdefghij",
         "unknown name 'abcdefghijklmnopqrstuvwxyzabcdef...'"},
        {"9223372036854775808", "integer out of range for 64 bits"},
        {"-9223372036854775809", "integer out of range for 64 bits"},
        {"123456789012345678901234567890", "integer out of range for 64 bits"},
        {"1e400", "float out of range"},
        {"-1e400", "float out of range"},
        {"01", "leading zeros in integer"},
        {"1_000", "invalid number"},
        {"0x10", "invalid number"},
        {"1j", "invalid number"},
        {"1.5.3", "invalid number"},
        {"1e", "invalid number"},
        {"1e+", "invalid number"},
        {".", "invalid number"},
        {"-", "expected a number after '-'"},
        {"+ x", "expected a number after '+'"},
        {"--1", "expected a number after '-'"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        /* the offset is part of the message: check it per case below */
        struct py_value *v = NULL;
        struct cel_err err = {0};
        assert_int_equal(py_parse(cases[i].text, &v, &err), -CEL_E_FORMAT);
        assert_null(v);
        const char *colon = strstr(err.msg, ": ");
        if (!colon || !cel_str_starts(err.msg, "invalid Python literal at offset "))
            fail_msg("bad message for \"%s\": %s", cases[i].text, err.msg);
        if (strcmp(colon + 2, cases[i].msg) != 0)
            fail_msg("for \"%s\": got \"%s\", expected \"%s\"", cases[i].text, colon + 2,
                     cases[i].msg);
    }
}

static void test_py_parse_error_offsets(void **state)
{
    (void)state;
    assert_parse_error("", "invalid Python literal at offset 0: empty input");
    assert_parse_error("   ", "invalid Python literal at offset 3: empty input");
    assert_parse_error("[1, 'abc", "invalid Python literal at offset 4: unterminated string");
    assert_parse_error("['x', 'a\\qb']",
                       "invalid Python literal at offset 8: invalid escape '\\q'");
    assert_parse_error("[('tbs1', 16384 '/srv')]",
                       "invalid Python literal at offset 16: expected ',' or ')', found '''");
    assert_parse_error("{'a': 1, 'b' 2}",
                       "invalid Python literal at offset 13: expected ':', found '2'");
    assert_parse_error("[1, 99999999999999999999]",
                       "invalid Python literal at offset 4: integer out of range for 64 bits");
    assert_parse_error("{'a': [1]} ]",
                       "invalid Python literal at offset 11: unexpected ']' after the literal");
    assert_parse_error("{'k': {[]: 1}}", "invalid Python literal at offset 7: unhashable dict key");
    assert_parse_error(NULL, "invalid Python literal at offset 0: empty input");
    /* a NULL err is allowed: the code alone comes back */
    struct py_value *v;
    assert_int_equal(py_parse("[", &v, NULL), -CEL_E_FORMAT);
    assert_null(v);
}

static void test_py_parse_depth_limit(void **state)
{
    (void)state;
    char text[300];
    /* 64 nested lists are accepted */
    memset(text, '[', 64);
    memset(text + 64, ']', 64);
    text[128] = '\0';
    struct py_value *v = parse_ok(text);
    const struct py_value *inner = v;
    for (int i = 1; i < 64; i++) {
        assert_int_equal(inner->kind, PY_LIST);
        assert_int_equal(inner->n, 1);
        inner = inner->items[0];
    }
    assert_int_equal(inner->n, 0);
    py_free(v);

    /* the 65th level is refused where it opens */
    memset(text, '[', 65);
    memset(text + 65, ']', 65);
    text[130] = '\0';
    assert_parse_error(text, "invalid Python literal at offset 64: nesting deeper than 64 levels");

    /* every kind of bracket counts, parentheses that only group too */
    for (int i = 0; i < 65; i++)
        text[i] = "[({"[i % 3];
    text[65] = '\0';
    assert_parse_error(text, "invalid Python literal at offset 64: nesting deeper than 64 levels");
    for (int i = 0; i < 65; i++)
        text[i] = "[("[i % 2];
    assert_parse_error(text, "invalid Python literal at offset 64: nesting deeper than 64 levels");

    /* a hostile line of brackets is refused without deep recursion */
    char *big = cel_xmalloc(100001);
    memset(big, '(', 100000);
    big[100000] = '\0';
    assert_parse_error(big, "invalid Python literal at offset 64: nesting deeper than 64 levels");
    free(big);
}

/* Every strict prefix of a valid literal is an error, unless listed as valid;
 * each prefix is parsed from its own allocation so ASan sees overreads. */
static void test_py_parse_every_prefix(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *valid; /* prefix lengths that parse, as a string of chars 'a'+len */
    } cases[] = {
        {"[('tbs1', 16384, '/srv/pg/tbs1')]", ""},
        {"{'copy_time': 4.343581, 'total_time': 4.343581}", ""},
        {"{'a': {'b': [1, (2,), None, True, False]}, 'c': ()}", ""},
        {"'\\u00e9\\x41\\n\\'\\\\' \"it's\"", "\x12\x13"}, /* "'...'" and "'...' " */
        {"-12.5e+3", "\x02\x03\x04\x05"},                  /* -1 -12 -12. -12.5 */
        {"None", ""},
        {"False", ""},
    };
    for (size_t c = 0; c < CEL_ARRAY_LEN(cases); c++) {
        const char *text = cases[c].text;
        size_t len = strlen(text);
        for (size_t n = 0; n < len; n++) {
            char *prefix = cel_xstrndup(text, n);
            struct py_value *v = NULL;
            struct cel_err err = {0};
            int rc = py_parse(prefix, &v, &err);
            bool expect_ok = memchr(cases[c].valid, (int)n, strlen(cases[c].valid)) != NULL;
            if (expect_ok) {
                if (rc != 0)
                    fail_msg("prefix \"%s\" should parse: %s", prefix, err.msg);
                assert_non_null(v);
            } else {
                if (rc != -CEL_E_FORMAT)
                    fail_msg("prefix \"%s\" of \"%s\" parsed (rc %d)", prefix, text, rc);
                assert_null(v);
                assert_true(cel_str_starts(err.msg, "invalid Python literal at offset "));
            }
            py_free(v);
            free(prefix);
        }
        /* and the whole text parses */
        py_free(parse_ok(text));
    }
}

/* ------------------------------------------------------------------- repr */

static void test_py_repr_str_quotes_and_escapes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"", 0, "''"},
        {"plain", 5, "'plain'"},
        {"it's", 4, "\"it's\""},
        {"say \"hi\"", 8, "'say \"hi\"'"},
        {"both ' and \"", 12, "'both \\' and \"'"},
        {"\\", 1, "'\\\\'"},
        {"a\\'b", 4, "\"a\\\\'b\""},
        {"\x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f\t\n\r\\", 13,
         "'\\x00\\x01\\x07\\x08\\x0b\\x0c\\x1b\\x1f\\x7f\\t\\n\\r\\\\'"},
        /* printable non-ASCII stays literal, like Python 3 */
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xbf", 17,
         "'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xbf'"},
        /* U+0080, U+009F, U+00A0, U+00AD are escaped; U+00A1 is not */
        {"\xc2\x80\xc2\x9f\xc2\xa0\xc2\xad\xc2\xa1", 10, "'\\x80\\x9f\\xa0\\xad\xc2\xa1'"},
        /* invalid UTF-8 becomes surrogateescape: lone, truncated, overlong, surrogate */
        {"a\xff"
         "b\xc3",
         4, "'a\\udcffb\\udcc3'"},
        {"\xc0\xaf", 2, "'\\udcc0\\udcaf'"},
        {"\xed\xa0\x80", 3, "'\\udced\\udca0\\udc80'"},
        {"\xf4\x90\x80\x80", 4, "'\\udcf4\\udc90\\udc80\\udc80'"},
        {"\xe2\x82", 2, "'\\udce2\\udc82'"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        char *r = str_repr(cases[i].in, cases[i].len);
        assert_string_equal(r, cases[i].out);
        /* and the parser reads the repr back to the same bytes */
        struct py_value *v = parse_ok(r);
        assert_int_equal(v->len, cases[i].len);
        assert_memory_equal(v->s, cases[i].in, cases[i].len);
        py_free(v);
        free(r);
    }
}

static void test_py_repr_float_layout(void **state)
{
    (void)state;
    static const struct {
        double f;
        const char *out;
    } cases[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.0, "1.0"},
        {-1.5, "-1.5"},
        {0.1, "0.1"},
        {0.5, "0.5"},
        {100.0, "100.0"},
        {12345.678, "12345.678"},
        {4.343581, "4.343581"},
        {0.0282, "0.0282"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1e15, "1000000000000000.0"},
        {1e16, "1e+16"},
        {9007199254740993.0, "9007199254740992.0"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {9223372036854775808.0, "9.223372036854776e+18"},
        {1e22, "1e+22"},
        {1e23, "1e+23"},
        {1.5e300, "1.5e+300"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {0.0001, "0.0001"},
        {0.00012, "0.00012"},
        {1e-05, "1e-05"},
        {2.5e-05, "2.5e-05"},
        {5e-324, "5e-324"},
        /* a power of two whose shortest form is the upper neighbour of the
         * correctly rounded 16-digit value: printf alone would give 17 digits */
        {0x1p-788, "6.142758149716505e-238"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {NAN, "nan"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        char *r = float_repr(cases[i].f);
        assert_string_equal(r, cases[i].out);
        if (isfinite(cases[i].f)) { /* reads back to the very same double */
            struct py_value *v = parse_ok(r);
            assert_int_equal(v->kind, PY_FLOAT);
            assert_memory_equal(&v->f, &cases[i].f, sizeof(double));
            py_free(v);
        }
        free(r);
    }
}

static void test_py_repr_built_tree(void **state)
{
    (void)state;
    struct py_value *root = py_new_dict();
    struct py_value *ts = py_new_list();
    struct py_value *t = py_new_tuple();
    py_append(t, py_new_str("tbs1"));
    py_append(t, py_new_int(16384));
    py_append(t, py_new_str("/srv/pg/tbs1"));
    py_append(ts, t);
    py_dict_set(root, "tablespaces", ts);
    struct py_value *one = py_new_tuple();
    py_append(one, py_new_none());
    py_dict_set(root, "one", one);
    py_dict_set(root, "empty", py_new_tuple());
    py_dict_set(root, "flags", py_new_bool(true));
    py_dict_set(root, "f", py_new_float(2.0));
    py_dict_set(root, "neg", py_new_int(INT64_MIN));
    py_dict_set(root, "nul", py_new_strn("a\0b", 3));
    /* setting an existing key keeps its place and frees the old value */
    py_dict_set(root, "flags", py_new_bool(false));
    char *r = repr_of(root);
    assert_string_equal(r, "{'tablespaces': [('tbs1', 16384, '/srv/pg/tbs1')], 'one': (None,), "
                           "'empty': (), 'flags': False, 'f': 2.0, "
                           "'neg': -9223372036854775808, 'nul': 'a\\x00b'}");
    free(r);
    assert_int_equal(root->n, 7);
    py_free(root);
}

static void test_py_builders_many_items(void **state)
{
    (void)state;
    struct py_value *list = py_new_list();
    struct py_value *dict = py_new_dict();
    for (int i = 0; i < 1000; i++) {
        py_append(list, py_new_int(i));
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        py_dict_set(dict, key, py_new_int(i * 2));
    }
    assert_int_equal(list->n, 1000);
    assert_int_equal(list->items[999]->i, 999);
    assert_int_equal(dict->n, 1000);
    assert_int_equal(py_dict_get(dict, "k777")->i, 1554);
    py_free(list);
    py_free(dict);
}

static void test_py_misuse_is_harmless(void **state)
{
    (void)state;
    /* wrong container kinds: the item is freed (ASan checks for leaks) */
    struct py_value *n = py_new_int(1);
    py_append(n, py_new_str("lost"));
    py_dict_set(n, "k", py_new_str("lost"));
    py_append(NULL, py_new_none());
    assert_int_equal(n->n, 0);
    py_free(n);
    py_free(NULL);

    double d = 42;
    struct py_value *s = py_new_str("1.5");
    assert_false(py_as_double(s, &d));
    assert_false(py_as_double(NULL, &d));
    assert_true(d == 42);
    py_free(s);
    struct py_value *b = py_new_bool(true);
    assert_false(py_as_double(b, &d));
    py_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_py_parse_tablespaces),
        cmocka_unit_test(test_py_parse_copy_stats_rsync),
        cmocka_unit_test(test_py_parse_copy_stats_postgres),
        cmocka_unit_test(test_py_parse_backup_label),
        cmocka_unit_test(test_py_parse_included_files_and_none),
        cmocka_unit_test(test_py_parse_scalars),
        cmocka_unit_test(test_py_parse_double_quoted),
        cmocka_unit_test(test_py_parse_escapes),
        cmocka_unit_test(test_py_parse_unicode_escapes),
        cmocka_unit_test(test_py_parse_adjacent_strings),
        cmocka_unit_test(test_py_parse_containers),
        cmocka_unit_test(test_py_parse_dict_duplicate_keys),
        cmocka_unit_test(test_py_parse_dict_many_keys),
        cmocka_unit_test(test_py_parse_errors),
        cmocka_unit_test(test_py_parse_error_offsets),
        cmocka_unit_test(test_py_parse_depth_limit),
        cmocka_unit_test(test_py_parse_every_prefix),
        cmocka_unit_test(test_py_repr_str_quotes_and_escapes),
        cmocka_unit_test(test_py_repr_float_layout),
        cmocka_unit_test(test_py_repr_built_tree),
        cmocka_unit_test(test_py_builders_many_items),
        cmocka_unit_test(test_py_misuse_is_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
