/* Unit tests of src/core/common/mem.c, arena.c and strbuf.c. */
#include "unit.h"

#include "arena.h"
#include "strbuf.h"

static void test_cel_xasprintf_formats(void **state)
{
    (void)state;
    char *s = cel_xasprintf("%s-%d", "wal", 42);
    assert_string_equal(s, "wal-42");
    free(s);
}

static void test_cel_strlcpy_truncates_and_terminates(void **state)
{
    (void)state;
    char buf[4];
    assert_int_equal(cel_strlcpy(buf, "abcdef", sizeof buf), 6);
    assert_string_equal(buf, "abc");
    assert_int_equal(cel_strlcpy(buf, "ab", sizeof buf), 2);
    assert_string_equal(buf, "ab");
}

static void test_cel_str_starts_ends(void **state)
{
    (void)state;
    assert_true(cel_str_starts("000000010000000000000001.partial", "00000001"));
    assert_false(cel_str_starts("0001", "00000001"));
    assert_true(cel_str_ends("x.partial", ".partial"));
    assert_false(cel_str_ends("partial", "x.partial"));
}

static void test_arena_alloc_many_and_large(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    char *small[1000];
    for (int i = 0; i < 1000; i++) {
        small[i] = arena_printf(a, "item %d", i);
        assert_int_equal((uintptr_t)small[i] % 16, 0);
    }
    unsigned char *big = arena_alloc(a, 100000);
    for (size_t i = 0; i < 100000; i++)
        assert_int_equal(big[i], 0);
    memset(big, 0xff, 100000);
    char *after = arena_strdup(a, "after big");
    assert_string_equal(small[0], "item 0");
    assert_string_equal(small[999], "item 999");
    assert_string_equal(after, "after big");
    assert_string_equal(arena_strndup(a, "abcdef", 3), "abc");
    arena_free(a);
    arena_free(NULL);
}

static void test_sb_append_grows_and_detaches(void **state)
{
    (void)state;
    struct strbuf sb = {0};
    assert_string_equal(sb_str(&sb), "");
    for (int i = 0; i < 500; i++)
        sb_appendf(&sb, "%03d,", i);
    assert_int_equal(sb.len, 2000);
    assert_memory_equal(sb_str(&sb), "000,001,", 8);
    sb_reset(&sb);
    sb_append(&sb, "a");
    sb_appendc(&sb, 'b');
    sb_pad(&sb, ' ', 3);
    sb_appendn(&sb, "cdef", 2);
    assert_string_equal(sb_str(&sb), "ab   cd");
    char *s = sb_detach(&sb);
    assert_string_equal(s, "ab   cd");
    assert_null(sb.buf);
    free(s);
    char *empty = sb_detach(&sb);
    assert_string_equal(empty, "");
    free(empty);
    sb_free(&sb);
}

static void test_cel_hex_digit(void **state)
{
    (void)state;
    assert_int_equal(cel_hex_digit('0'), 0);
    assert_int_equal(cel_hex_digit('9'), 9);
    assert_int_equal(cel_hex_digit('a'), 10);
    assert_int_equal(cel_hex_digit('F'), 15);
    assert_int_equal(cel_hex_digit('g'), -1);
    assert_int_equal(cel_hex_digit('x'), -1);
    assert_int_equal(cel_hex_digit('\0'), -1);
    assert_int_equal(cel_hex_digit(' '), -1);
    /* a negative char (a byte >= 0x80) is no digit, whatever the locale */
    assert_int_equal(cel_hex_digit((char)0xB2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cel_xasprintf_formats),
        cmocka_unit_test(test_cel_strlcpy_truncates_and_terminates),
        cmocka_unit_test(test_cel_str_starts_ends),
        cmocka_unit_test(test_cel_hex_digit),
        cmocka_unit_test(test_arena_alloc_many_and_large),
        cmocka_unit_test(test_sb_append_grows_and_detaches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
