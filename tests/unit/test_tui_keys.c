/*
 * Unit tests of the console's key table (src/tui/keys.c), which the help
 * screen and doc/console.md are made from: every entry has a label and a
 * help text, no key is bound twice, every action is bound to a key and
 * tui_key_action finds it, and the commands named are batch command lines.
 * (t_console_screens.sh checks that the help screen shows them all.)
 */
#include "unit.h"

#include "tui/keys.h"

static void test_tui_keys_have_label_and_help(void **state)
{
    (void)state;
    assert_true(tui_n_keys >= 10);
    for (size_t i = 0; i < tui_n_keys; i++) {
        const struct tui_key *k = &tui_keys[i];
        assert_non_null(k->label);
        assert_true(strlen(k->label) > 0 && strlen(k->label) <= 12); /* the help's key column */
        assert_non_null(k->help);
        assert_true(strlen(k->help) > 0);
        assert_true(k->action > TUI_ACT_NONE && k->action < TUI_ACT_COUNT);
        if (k->batch)
            assert_true(strncmp(k->batch, "cellar ", 7) == 0);
    }
}

static void test_tui_keys_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < tui_n_keys; i++)
        for (size_t j = i + 1; j < tui_n_keys; j++) {
            if (tui_keys[i].key == tui_keys[j].key)
                fail_msg("key %d is bound twice (%s, %s)", tui_keys[i].key, tui_keys[i].label,
                         tui_keys[j].label);
            if (strcmp(tui_keys[i].label, tui_keys[j].label) == 0)
                fail_msg("label %s is shown twice", tui_keys[i].label);
        }
}

static void test_tui_keys_every_action_bound(void **state)
{
    (void)state;
    for (int a = TUI_ACT_NONE + 1; a < TUI_ACT_COUNT; a++) {
        size_t n = 0;
        for (size_t i = 0; i < tui_n_keys; i++)
            n += tui_keys[i].action == (enum tui_action)a;
        if (n != 1)
            fail_msg("action %d has %zu keys in the table (one expected)", a, n);
    }
}

static void test_tui_key_action_finds_each_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < tui_n_keys; i++)
        assert_int_equal(tui_key_action(tui_keys[i].key), tui_keys[i].action);
    assert_int_equal(tui_key_action('Z'), TUI_ACT_NONE);
    assert_int_equal(tui_key_action(0), TUI_ACT_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tui_keys_have_label_and_help),
        cmocka_unit_test(test_tui_keys_unique),
        cmocka_unit_test(test_tui_keys_every_action_bound),
        cmocka_unit_test(test_tui_key_action_finds_each_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
