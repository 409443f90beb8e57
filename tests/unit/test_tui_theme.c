/*
 * Unit tests of the console's themes (src/tui/theme.c): parsing of
 * "element = fg,bg,attrs" lines, the errors (with file and line) that make
 * the default theme come back, the search through theme directories, and
 * that every theme shipped in themes/ parses.
 */
#include "unit.h"

#include "tui/theme.h"

static void test_tui_theme_parse_overrides_named_roles(void **state)
{
    (void)state;
    struct tui_theme t, def;
    struct cel_err err = {0};
    tui_theme_default(&def);
    assert_int_equal(tui_theme_parse("; comment\n[theme]\n  ok = red , blue , bold+underline\n"
                                     "error=white,default\n# more\n",
                                     "x.theme", &t, &err),
                     0);
    assert_string_equal(t.name, "x");
    assert_int_equal(t.roles[TUI_ROLE_OK].fg, TUI_COLOR_RED);
    assert_int_equal(t.roles[TUI_ROLE_OK].bg, TUI_COLOR_BLUE);
    assert_int_equal(t.roles[TUI_ROLE_OK].attrs, TUI_ATTR_BOLD | TUI_ATTR_UNDERLINE);
    assert_int_equal(t.roles[TUI_ROLE_ERROR].fg, TUI_COLOR_WHITE);
    assert_int_equal(t.roles[TUI_ROLE_ERROR].bg, TUI_COLOR_DEFAULT);
    assert_int_equal(t.roles[TUI_ROLE_ERROR].attrs, 0);
    /* roles the file does not name keep the default */
    assert_memory_equal(&t.roles[TUI_ROLE_BORDER], &def.roles[TUI_ROLE_BORDER],
                        sizeof def.roles[0]);
    assert_string_equal(tui_role_name(TUI_ROLE_BORDER_FOCUS), "border_focus");
    assert_null(tui_role_name(TUI_ROLE_COUNT));
}

static void assert_parse_error(const char *text, const char *msg)
{
    struct tui_theme t, def;
    struct cel_err err = {0};
    tui_theme_default(&def);
    assert_int_equal(tui_theme_parse(text, "bad.theme", &t, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, msg);
    assert_memory_equal(&t, &def, sizeof t); /* the default, wholly */
}

static void test_tui_theme_parse_errors(void **state)
{
    (void)state;
    assert_parse_error("ok = red,blue\nnope = red,blue\n", "bad.theme:2: unknown element 'nope'");
    assert_parse_error("ok red blue\n",
                       "bad.theme:1: expected 'element = foreground,background,attributes'");
    assert_parse_error("\n\nok = pink,blue\n",
                       "bad.theme:3: ok: unknown colour 'pink' (default, black, red, green, "
                       "yellow, blue, magenta, cyan or white)");
    assert_parse_error("ok = red,navy\n",
                       "bad.theme:1: ok: unknown colour 'navy' (default, black, red, green, "
                       "yellow, blue, magenta, cyan or white)");
    assert_parse_error("ok = red,blue,blink\n",
                       "bad.theme:1: ok: unknown attribute 'blink' (bold, reverse, underline, "
                       "dim or none)");
    assert_parse_error("ok = red\n", "bad.theme:1: ok: expected foreground,background[,attributes]");
    assert_parse_error("ok = red,blue,bold,x\n",
                       "bad.theme:1: ok: expected foreground,background[,attributes]");
}

static void test_tui_theme_load_searches_dirs(void **state)
{
    (void)state;
    unit_mkdir("a");
    unit_mkdir("b");
    unit_write("b/mine.theme", "warn = magenta,default,reverse\n");
    unit_write("b/broken.theme", "warn = magenta\n");
    char *a = cel_xstrdup(unit_path("a")), *b = cel_xstrdup(unit_path("b"));
    const char *dirs[] = {a, NULL, b};
    struct tui_theme t;
    struct cel_err err = {0};
    assert_int_equal(tui_theme_load("mine", dirs, 3, &t, &err), 0);
    assert_string_equal(t.name, "mine");
    assert_int_equal(t.roles[TUI_ROLE_WARN].fg, TUI_COLOR_MAGENTA);
    assert_int_equal(t.roles[TUI_ROLE_WARN].attrs, TUI_ATTR_REVERSE);

    assert_int_equal(tui_theme_load("broken", dirs, 3, &t, &err), -CEL_E_CONFIG);
    char *want = cel_xasprintf("%s/broken.theme:1: warn: expected "
                               "foreground,background[,attributes]", b);
    assert_string_equal(err.msg, want);
    free(want);
    assert_string_equal(t.name, "default");

    assert_int_equal(tui_theme_load("absent", dirs, 3, &t, &err), -CEL_E_NOT_FOUND);
    want = cel_xasprintf("theme 'absent' not found in '%s', '%s'", a, b);
    assert_string_equal(err.msg, want);
    free(want);
    assert_int_equal(tui_theme_load("../b/mine", dirs, 3, &t, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "invalid theme name '../b/mine'");
    free(a);
    free(b);
}

static void test_tui_theme_shipped_themes_parse(void **state)
{
    (void)state;
    const char *dirs[] = {"themes"};
    const char *names[] = {"default", "dark", "light", "high-contrast", "mono"};
    struct tui_theme def;
    tui_theme_default(&def);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct tui_theme t;
        struct cel_err err = {0};
        int rc = tui_theme_load(names[i], dirs, 1, &t, &err);
        if (rc < 0)
            fail_msg("%s: %s", names[i], err.msg);
        assert_string_equal(t.name, names[i]);
        if (strcmp(names[i], "default") == 0)
            assert_memory_equal(t.roles, def.roles, sizeof def.roles);
        if (strcmp(names[i], "mono") == 0)
            for (int r = 0; r < TUI_ROLE_COUNT; r++)
                assert_true(t.roles[r].fg == TUI_COLOR_DEFAULT &&
                            t.roles[r].bg == TUI_COLOR_DEFAULT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tui_theme_parse_overrides_named_roles),
        cmocka_unit_test(test_tui_theme_parse_errors),
        cmocka_unit_test_setup_teardown(test_tui_theme_load_searches_dirs, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_tui_theme_shipped_themes_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
