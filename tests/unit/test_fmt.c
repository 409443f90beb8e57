/*
 * Unit tests of src/core/common/fmt.c: sizes and percentages as Barman prints them.
 *
 * Every expected string was produced by Barman 3.4 itself while writing the
 * test: barman.utils.pretty_size(v) for sizes and "{:.2%}".format(r) for
 * ratios (run with /usr/bin/python3).
 */
#include "unit.h"

#include "fmt.h"

/* fmt_size(v) as a static string. */
static const char *size_of(double v)
{
    static char buf[64];
    struct strbuf sb = {0};
    fmt_size(v, &sb);
    snprintf(buf, sizeof buf, "%s", sb_str(&sb));
    sb_free(&sb);
    return buf;
}

/* fmt_percent(r) as a static string. */
static const char *percent_of(double r)
{
    static char buf[64];
    struct strbuf sb = {0};
    fmt_percent(r, &sb);
    snprintf(buf, sizeof buf, "%s", sb_str(&sb));
    sb_free(&sb);
    return buf;
}

static void test_fmt_size_bytes_below_1024(void **state)
{
    (void)state;
    assert_string_equal(size_of(0), "0 B");
    assert_string_equal(size_of(1), "1 B");
    assert_string_equal(size_of(1023), "1023 B");
    /* "%d" of a float truncates toward zero */
    assert_string_equal(size_of(1023.999), "1023 B");
    assert_string_equal(size_of(0.5), "0 B");
}

static void test_fmt_size_unit_boundaries(void **state)
{
    (void)state;
    assert_string_equal(size_of(1024), "1.0 KiB");
    assert_string_equal(size_of(1025), "1.0 KiB");
    assert_string_equal(size_of(1536), "1.5 KiB");
    assert_string_equal(size_of(1048575), "1024.0 KiB");
    assert_string_equal(size_of(1048576), "1.0 MiB");
    assert_string_equal(size_of(10.0 * 1024 * 1024 - 1), "10.0 MiB");
    assert_string_equal(size_of(10.0 * 1024 * 1024), "10.0 MiB");
    assert_string_equal(size_of(1073741824.0), "1.0 GiB");
    assert_string_equal(size_of(1099511627775.0), "1024.0 GiB");
    assert_string_equal(size_of(1099511627776.0), "1.0 TiB");
}

static void test_fmt_size_rounding_like_python(void **state)
{
    (void)state;
    /* "%.1f" rounds the binary value, as Python's % operator does */
    assert_string_equal(size_of(1075.2), "1.1 KiB");
    assert_string_equal(size_of(1177.6), "1.1 KiB");
    assert_string_equal(size_of(1280), "1.2 KiB");
    assert_string_equal(size_of(1310720), "1.2 MiB");
    assert_string_equal(size_of(10291.2), "10.1 KiB");
    assert_string_equal(size_of(10496), "10.2 KiB");
    assert_string_equal(size_of(10598.4), "10.3 KiB");
}

static void test_fmt_size_negative(void **state)
{
    (void)state;
    assert_string_equal(size_of(-1), "-1 B");
    assert_string_equal(size_of(-1023), "-1023 B");
    assert_string_equal(size_of(-1023.5), "-1023 B");
    assert_string_equal(size_of(-1024), "-1.0 KiB");
    assert_string_equal(size_of(-1536), "-1.5 KiB");
}

static void test_fmt_size_last_unit_is_open_ended(void **state)
{
    (void)state;
    double yib = 1208925819614629174706176.0; /* 1024^8 */
    assert_string_equal(size_of(yib), "1.0 YiB");
    assert_string_equal(size_of(yib * 1023), "1023.0 YiB");
    assert_string_equal(size_of(yib * 1024), "1024.0 YiB");
    assert_string_equal(size_of(yib * 1024 * 1024), "1048576.0 YiB");
}

static void test_fmt_size_appends(void **state)
{
    (void)state;
    struct strbuf sb = {0};
    sb_append(&sb, "Size: ");
    fmt_size(1536, &sb);
    sb_append(&sb, " - ");
    fmt_size(7, &sb);
    assert_string_equal(sb_str(&sb), "Size: 1.5 KiB - 7 B");
    sb_free(&sb);
}

static void test_fmt_percent(void **state)
{
    (void)state;
    assert_string_equal(percent_of(0), "0.00%");
    assert_string_equal(percent_of(0.999), "99.90%");
    assert_string_equal(percent_of(0.99904), "99.90%");
    assert_string_equal(percent_of(0.9999), "99.99%");
    assert_string_equal(percent_of(0.99995), "100.00%");
    assert_string_equal(percent_of(1), "100.00%");
    assert_string_equal(percent_of(1.5), "150.00%");
    assert_string_equal(percent_of(0.5), "50.00%");
    assert_string_equal(percent_of(0.125), "12.50%");
    assert_string_equal(percent_of(0.123456), "12.35%");
    assert_string_equal(percent_of(0.86206896), "86.21%");
    assert_string_equal(percent_of(-0.8621), "-86.21%");
    assert_string_equal(percent_of(-0.001), "-0.10%");
    /* the ratio is multiplied by 100 as a double first, as Python does */
    assert_string_equal(percent_of(0.00005), "0.01%");
    assert_string_equal(percent_of(0.000049), "0.00%");
    assert_string_equal(percent_of(0.00015), "0.01%");
    assert_string_equal(percent_of(0.00025), "0.03%");
    assert_string_equal(percent_of(0.00125), "0.12%");
    assert_string_equal(percent_of(0.00375), "0.38%");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_size_bytes_below_1024),
        cmocka_unit_test(test_fmt_size_unit_boundaries),
        cmocka_unit_test(test_fmt_size_rounding_like_python),
        cmocka_unit_test(test_fmt_size_negative),
        cmocka_unit_test(test_fmt_size_last_unit_is_open_ended),
        cmocka_unit_test(test_fmt_size_appends),
        cmocka_unit_test(test_fmt_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
