/*
 * Unit tests of the recoverable-window timeline (src/tui/timeline.c): the
 * span covers every backup and the window, cells are painted in the order
 * window < other backups < DONE backups < selected < target, and times are
 * clamped to the row.
 */
#include "unit.h"

#include "tui/timeline.h"

/* The row as letters: . empty, - window, x other, B done, S selected, P restore
 * point, T target. */
static void row(const struct tui_tl *tl, int width, char *out)
{
    unsigned char cells[256];
    tui_tl_cells(tl, width, cells);
    for (int i = 0; i < width; i++)
        out[i] = ".-xBSPT"[cells[i]];
    out[width] = '\0';
}

static void test_tui_tl_span_covers_backups_and_window(void **state)
{
    (void)state;
    struct tui_tl_backup b[] = {{.begin = 1000, .end = 1100, .done = false},
                                {.begin = 2000, .end = 2100, .done = true}};
    struct tui_tl tl = {.win_begin = 2000, .win_end = 5000, .backups = b, .n_backups = 2};
    tui_tl_span(&tl);
    assert_true(tl.from == 1000);
    assert_true(tl.to == 5000);
    /* a target after the end widens the row, so it can be drawn */
    tl.target = 6000;
    tui_tl_span(&tl);
    assert_true(tl.to == 6000);
    /* nothing known: an empty span and an empty row */
    struct tui_tl none = {0};
    tui_tl_span(&none);
    assert_true(none.from == 0 && none.to == 0);
    char out[16];
    row(&none, 10, out);
    assert_string_equal(out, "..........");
}

static void test_tui_tl_cells_restore_points(void **state)
{
    (void)state;
    struct tui_tl_backup b[] = {{.begin = 300, .end = 350, .done = true}};
    double points[] = {320, 550, 1500, 900};
    struct tui_tl tl = {.from = 0,
                        .to = 1000,
                        .win_begin = 300,
                        .win_end = 1000,
                        .backups = b,
                        .n_backups = 1,
                        .target = 950,
                        .points = points,
                        .n_points = 4};
    char out[16];
    row(&tl, 10, out);
    /* over the backup and the window; the target over a point in its cell;
     * 1500, outside the row, is not drawn on its edge */
    assert_string_equal(out, "...P-P---T");
}

static void test_tui_tl_cells_paint_in_order(void **state)
{
    (void)state;
    /* 0..1000 over 10 cells: each cell is 100 s */
    struct tui_tl_backup b[] = {
        {.begin = 1, .end = 150, .done = false},    /* cells 0-1, not DONE */
        {.begin = 300, .end = 350, .done = true},   /* cell 3 */
        {.begin = 600, .end = 690, .done = true, .selected = true}, /* cell 6 */
    };
    struct tui_tl tl = {.from = 0, .to = 1000, .win_begin = 300, .win_end = 1000,
                        .backups = b, .n_backups = 3, .target = 850};
    char out[16];
    row(&tl, 10, out);
    assert_string_equal(out, "xx.B--S-T-");
    /* the target over a backup still shows */
    tl.target = 320;
    row(&tl, 10, out);
    assert_string_equal(out, "xx.T--S---");
}

static void test_tui_tl_cell_of_clamps(void **state)
{
    (void)state;
    struct tui_tl tl = {.from = 100, .to = 200};
    assert_int_equal(tui_tl_cell_of(&tl, 10, 50), 0);
    assert_int_equal(tui_tl_cell_of(&tl, 10, 150), 5);
    assert_int_equal(tui_tl_cell_of(&tl, 10, 200), 9);
    assert_int_equal(tui_tl_cell_of(&tl, 10, 999), 9);
    /* a zero-length span: everything in the first cell */
    struct tui_tl point = {.from = 100, .to = 100};
    assert_int_equal(tui_tl_cell_of(&point, 10, 100), 0);
    assert_int_equal(tui_tl_cell_of(&tl, 1, 150), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tui_tl_span_covers_backups_and_window),
        cmocka_unit_test(test_tui_tl_cells_paint_in_order),
        cmocka_unit_test(test_tui_tl_cells_restore_points),
        cmocka_unit_test(test_tui_tl_cell_of_clamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
