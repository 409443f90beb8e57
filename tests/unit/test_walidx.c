/* Unit tests of src/core/wal/walidx.c: the recovery-target index beside xlog.db. */
#include "unit.h"

#include "walidx.h"

#define SEG1 "000000010000000000000003"
#define SEG2 "000000010000000000000004"
#define SEG3 "000000020000000000000004"

static void put(struct widx *idx, const char *seg, size_t commits, double first, double last,
                const char *name, uint64_t lsn)
{
    struct walrec_point p = {.lsn = lsn, .time = 1764000000.25, .tli = 1};
    cel_strlcpy(p.name, name ? name : "", sizeof p.name);
    struct walrec_summary s = {.n_commits = commits,
                               .first_commit = first,
                               .last_commit = last,
                               .points = name ? &p : NULL,
                               .n_points = name ? 1 : 0};
    widx_put(idx, seg, &s);
}

static void test_widx_format_and_parse(void **state)
{
    (void)state;
    struct widx idx = {0};
    put(&idx, SEG2, 0, 0, 0, "tab\there 100%\n", 0x4000028);
    put(&idx, SEG1, 3, 1764000000.5, 1764000009.123456, "before upgrade", 0x3000060);
    struct strbuf text = {0};
    widx_format(&idx, &text);
    assert_string_equal(sb_str(&text),
                        "# cellar recovery targets 1\n"
                        "S\t" SEG1 "\t3\t1764000000.500000\t1764000009.123456\n"
                        "P\t" SEG1 "\t0/3000060\t1764000000.250000\t1\tbefore upgrade\n"
                        "S\t" SEG2 "\t0\t0.000000\t0.000000\n"
                        "P\t" SEG2 "\t0/4000028\t1764000000.250000\t1\ttab%09here 100%25%0A\n");
    struct widx back;
    struct cel_err err = {0};
    assert_int_equal(widx_parse(sb_str(&text), text.len, &back, &err), 0);
    assert_int_equal(back.n, 2);
    assert_int_equal(back.n_points, 2);
    assert_string_equal(back.points[1].name, "tab\there 100%\n");
    assert_int_equal(back.points[0].lsn, 0x3000060);
    assert_int_equal(widx_find(&back, SEG1)->n_commits, 3);
    assert_true(widx_find(&back, SEG1)->last_commit == 1764000009.123456);
    assert_null(widx_find(&back, SEG3));
    sb_free(&text);
    widx_free(&back);
    widx_free(&idx);
}

static void test_widx_put_replaces_and_keep_only(void **state)
{
    (void)state;
    struct widx idx = {0};
    put(&idx, SEG1, 1, 1, 1, "a", 0x3000060);
    put(&idx, SEG2, 1, 2, 2, "b", 0x4000060);
    put(&idx, SEG3, 1, 3, 3, "b", 0x4000200);
    put(&idx, SEG1, 2, 1, 5, "c", 0x3000100); /* read again: "a" is gone */
    assert_int_equal(idx.n, 3);
    assert_int_equal(idx.n_points, 3);
    assert_string_equal(idx.points[0].name, "c");
    size_t *at;
    assert_int_equal(widx_points_named(&idx, "b", &at), 2);
    assert_int_equal(idx.points[at[1]].lsn, 0x4000200); /* WAL order: the last is newest */
    free(at);
    assert_int_equal(widx_points_named(&idx, "a", &at), 0);
    assert_null(at);
    struct xdb xdb = {0};
    struct xdb_entry e = {.name = SEG2};
    xdb_put(&xdb, &e);
    assert_int_equal(widx_keep_only(&idx, &xdb), 2);
    assert_int_equal(idx.n, 1);
    assert_int_equal(idx.n_points, 1);
    assert_string_equal(idx.points[0].segment, SEG2);
    xdb_free(&xdb);
    widx_free(&idx);
}

static void assert_bad(const char *text, const char *msg)
{
    struct widx idx;
    struct cel_err err = {0};
    assert_int_equal(widx_parse(text, strlen(text), &idx, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, msg);
    assert_int_equal(idx.n, 0);
    assert_null(idx.segs);
}

/* A promotion's first segment begins with the parent timeline's pages:
 * a point on them is recorded on the segment file's timeline. */
static void test_widx_put_takes_the_timeline_of_the_file(void **state)
{
    (void)state;
    struct widx idx = {0};
    put(&idx, SEG3, 0, 0, 0, "on_tl2", 0x4000178); /* its page header says timeline 1 */
    put(&idx, SEG2, 0, 0, 0, "on_tl1", 0x4000100);
    assert_int_equal(idx.n_points, 2);
    for (size_t i = 0; i < idx.n_points; i++)
        assert_int_equal(idx.points[i].tli,
                         strcmp(idx.points[i].name, "on_tl2") == 0 ? 2 : 1);
    widx_free(&idx);
}

static void test_widx_parse_refuses_garbage(void **state)
{
    (void)state;
    assert_bad("S\tnot-a-segment\t0\t0\t0\n", "line 1 is not understood");
    assert_bad("# c\nS\t" SEG1 "\t0\t0\n", "line 2 is not understood");
    assert_bad("S\t" SEG1 "\t0\t0\t0\t0\n", "line 1 is not understood");
    assert_bad("S\t" SEG1 "\t-1\t0\t0\n", "line 1 is not understood");
    assert_bad("P\t" SEG1 "\t0/1\t0\t1\tx\n", "line 1 is not understood"); /* no S line */
    assert_bad("S\t" SEG1 "\t0\t0\t0\nP\t" SEG1 "\t0/1\t0\t0\tx\n", "line 2 is not understood");
    assert_bad("S\t" SEG1 "\t0\t0\t0\nP\t" SEG1 "\t0/1\t0\t1\t%0\n", "line 2 is not understood");
    assert_bad("S\t" SEG1 "\t0\t0\t0\nP\t" SEG1 "\t0/1\t0\t1\ta%00b\n", "line 2 is not understood");
    assert_bad("S\t" SEG1 "\t0\t0\t0\nP\t" SEG1 "\t0/1\t0\t1\t\n", "line 2 is not understood");
    assert_bad("garbage\n", "line 1 is not understood");
    struct widx idx;
    struct cel_err err = {0};
    assert_int_equal(widx_parse("S\0", 2, &idx, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "contains a NUL byte");
}

/* A segment read again is appended again: the later lines win. */
static void test_widx_parse_a_segment_read_again(void **state)
{
    (void)state;
    const char *text = "S\t" SEG1 "\t1\t1.000000\t1.000000\n"
                       "P\t" SEG1 "\t0/3000060\t1.000000\t1\told\n"
                       "S\t" SEG2 "\t0\t0\t0\n"
                       "S\t" SEG1 "\t2\t1.000000\t5.000000\n"
                       "P\t" SEG1 "\t0/3000100\t5.000000\t1\tnew\n";
    struct widx idx;
    struct cel_err err = {0};
    assert_int_equal(widx_parse(text, strlen(text), &idx, &err), 0);
    assert_int_equal(idx.n, 2);
    assert_int_equal(widx_find(&idx, SEG1)->n_commits, 2);
    assert_int_equal(idx.n_points, 1);
    assert_string_equal(idx.points[0].name, "new");
    widx_free(&idx);
}

static void test_widx_append(void **state)
{
    (void)state;
    struct walrec_point p = {.name = "rp", .lsn = 0x3000060, .time = 2, .tli = 1};
    struct walrec_summary sums[2] = {{.n_commits = 1, .first_commit = 1, .last_commit = 1},
                                     {.points = &p, .n_points = 1}};
    const char *names[2] = {SEG1, SEG2};
    struct cel_err err = {0};
    assert_int_equal(widx_append(unit_tmp, names, sums, 2, &err), 0);
    char *text = unit_read(unit_path(WIDX_FILE));
    assert_string_equal(text, "# cellar recovery targets 1\n"
                              "S\t" SEG1 "\t1\t1.000000\t1.000000\n"
                              "S\t" SEG2 "\t0\t0.000000\t0.000000\n"
                              "P\t" SEG2 "\t0/3000060\t2.000000\t1\trp\n");
    free(text);
    /* the next batch: appended, no second header; SEG1 read again replaces */
    names[0] = SEG3;
    names[1] = SEG1;
    assert_int_equal(widx_append(unit_tmp, names, sums, 2, &err), 0);
    struct widx idx;
    assert_int_equal(widx_read(unit_tmp, &idx, &err), 0);
    assert_int_equal(idx.n, 3);
    assert_int_equal(idx.n_points, 2);
    assert_string_equal(idx.points[0].segment, SEG1);
    assert_string_equal(idx.points[1].segment, SEG2);
    assert_int_equal(widx_find(&idx, SEG1)->n_commits, 0);
    widx_free(&idx);
    struct stat st;
    assert_int_equal(stat(unit_path(WIDX_FILE), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* nothing to add: nothing written */
    assert_int_equal(widx_append(unit_tmp, names, sums, 0, &err), 0);
}

/* The archiver's path (widx_append) records a point on its file's timeline
 * too, whatever its page header said. */
static void test_widx_append_takes_the_timeline_of_the_file(void **state)
{
    (void)state;
    struct walrec_point p = {.name = "on_tl2", .lsn = 0x4000178, .time = 2, .tli = 1};
    struct walrec_summary sum = {.points = &p, .n_points = 1};
    const char *names[1] = {SEG3};
    struct cel_err err = {0};
    assert_int_equal(widx_append(unit_tmp, names, &sum, 1, &err), 0);
    struct widx idx;
    assert_int_equal(widx_read(unit_tmp, &idx, &err), 0);
    assert_int_equal(idx.n_points, 1);
    assert_int_equal(idx.points[0].tli, 2);
    widx_free(&idx);
}

static void test_widx_read_and_write(void **state)
{
    (void)state;
    struct widx idx;
    struct cel_err err = {0};
    assert_int_equal(widx_read(unit_tmp, &idx, &err), 0); /* missing: empty */
    assert_int_equal(idx.n, 0);
    put(&idx, SEG1, 1, 1, 1, "rp", 0x3000060);
    assert_int_equal(widx_write(unit_tmp, &idx, &err), 0);
    widx_free(&idx);
    struct stat st;
    assert_int_equal(stat(unit_path(WIDX_FILE), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(widx_read(unit_tmp, &idx, &err), 0);
    assert_int_equal(idx.n_points, 1);
    assert_string_equal(idx.points[0].name, "rp");
    widx_free(&idx);
    unit_write(WIDX_FILE, "nonsense\n");
    assert_int_equal(widx_read(unit_tmp, &idx, &err), -CEL_E_FORMAT);
    char want[5000];
    snprintf(want, sizeof want, "'%s': line 1 is not understood", unit_path(WIDX_FILE));
    assert_string_equal(err.msg, want);
    assert_string_equal(err.hint, "cellar rebuild-xlogdb rebuilds it from the archive.");
}

/* A cut record of SEG1 (its first 8 bytes), as walrec_scan hands it back. */
static struct walrec_cut a_cut(void)
{
    struct walrec_cut c = {.lsn = 0x3FFFFF8, .next_lsn = 0x4000000, .tli = 1, .len = 8};
    const unsigned char b[8] = {0x62, 0, 0, 0, 0xab, 0x02, 0, 0xff};
    memcpy(c.bytes, b, sizeof b);
    return c;
}

#define TAIL1 "#T\t" SEG1 "\t0/3FFFFF8\t0/4000000\t1\t62000000ab0200ff\n"

/* The tail of a segment that ends inside a record: written after its S and
 * P lines as a comment line (older readers skip it), read back, and found
 * by the next segment. */
static void test_widx_tail_lines(void **state)
{
    (void)state;
    struct widx idx = {0};
    struct walrec_cut c = a_cut();
    struct walrec_summary s = {.cut = &c};
    widx_put(&idx, SEG1, &s);
    put(&idx, SEG2, 0, 0, 0, "rp", 0x3FFFFF8);
    struct strbuf text = {0};
    widx_format(&idx, &text);
    assert_string_equal(sb_str(&text), "# cellar recovery targets 1\n"
                                       "S\t" SEG1 "\t0\t0.000000\t0.000000\n" TAIL1 "S\t" SEG2
                                       "\t0\t0.000000\t0.000000\n"
                                       "P\t" SEG2 "\t0/3FFFFF8\t1764000000.250000\t1\trp\n");
    struct widx back;
    struct cel_err err = {0};
    assert_int_equal(widx_parse(sb_str(&text), text.len, &back, &err), 0);
    const struct walrec_cut *got = widx_cut_before(&back, SEG2);
    assert_non_null(got);
    assert_int_equal(got->lsn, c.lsn);
    assert_int_equal(got->next_lsn, c.next_lsn);
    assert_int_equal(got->tli, 1);
    assert_int_equal(got->len, 8);
    assert_memory_equal(got->bytes, c.bytes, 8);
    assert_null(widx_cut_before(&back, SEG1));                       /* nothing before it */
    assert_null(widx_cut_before(&back, "000000010000000000000005")); /* SEG2 has none */
    /* a .partial between them is not the segment before */
    struct walrec_summary none = {0};
    widx_put(&back, SEG1 ".partial", &none);
    assert_non_null(widx_cut_before(&back, SEG2));
    /* the segment read again without a cut: the tail goes */
    widx_put(&back, SEG1, &none);
    assert_null(widx_cut_before(&back, SEG2));
    widx_free(&back);
    /* an S line read again drops the tail too */
    sb_append(&text, "S\t" SEG1 "\t0\t0\t0\n");
    assert_int_equal(widx_parse(sb_str(&text), text.len, &back, &err), 0);
    assert_null(widx_cut_before(&back, SEG2));
    widx_free(&back);
    /* dropping the segment frees its tail (ASan would see a leak) */
    struct xdb xdb = {0};
    assert_int_equal(widx_keep_only(&idx, &xdb), 2);
    sb_free(&text);
    widx_free(&idx);
}

static void test_widx_tail_lines_refused(void **state)
{
    (void)state;
    const char *s1 = "S\t" SEG1 "\t0\t0\t0\n";
    char bad[4096];
    assert_bad(TAIL1, "line 1 is not understood"); /* no S line before it */
    const char *lines[] = {
        "#T\t" SEG1 "\t0/3FFFFF8\t0/4000000\t1\t62000000ab0200f\n",  /* odd */
        "#T\t" SEG1 "\t0/3FFFFF8\t0/4000000\t1\t62000000ab0200fg\n", /* not hex */
        "#T\t" SEG1 "\t0/3FFFFF8\t0/4000000\t1\t\n",                 /* empty */
        "#T\t" SEG1 "\t0/4000000\t0/4000000\t1\t62\n",               /* ends where it starts */
        "#T\t" SEG1 "\t0/3FFFFF8\t0/4000000\t0\t62\n",               /* timeline 0 */
        "#T\t" SEG1 "\tx\t0/4000000\t1\t62\n",                       /* LSN */
        "#T\t" SEG1 "\t0/3FFFFF8\t0/4000000\t1\n",                   /* a field short */
        "#T\t" SEG2 "\t0/3FFFFF8\t0/4000000\t1\t62\n",               /* another segment */
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        snprintf(bad, sizeof bad, "%s%s", s1, lines[i]);
        assert_bad(bad, "line 2 is not understood");
    }
    snprintf(bad, sizeof bad, "%s%s%s", s1, TAIL1, TAIL1); /* two tails */
    assert_bad(bad, "line 3 is not understood");
    /* WALREC_CUT_MAX bytes: one too many */
    struct strbuf t = {0};
    sb_appendf(&t, "%s#T\t" SEG1 "\t0/3FFFFF8\t0/4000000\t1\t", s1);
    for (size_t i = 0; i < WALREC_CUT_MAX; i++)
        sb_append(&t, "ab");
    sb_append(&t, "\n");
    assert_bad(sb_str(&t), "line 2 is not understood");
    sb_free(&t);
    /* other comment lines are still comments */
    snprintf(bad, sizeof bad, "#Tx\n#\n%s%s", s1, TAIL1);
    struct widx idx;
    struct cel_err err = {0};
    assert_int_equal(widx_parse(bad, strlen(bad), &idx, &err), 0);
    assert_non_null(widx_cut_before(&idx, SEG2));
    widx_free(&idx);
}

static void test_widx_append_a_tail(void **state)
{
    (void)state;
    struct walrec_cut c = a_cut();
    struct walrec_summary sums[1] = {{.cut = &c}};
    const char *names[1] = {SEG1};
    struct cel_err err = {0};
    assert_int_equal(widx_append(unit_tmp, names, sums, 1, &err), 0);
    char *text = unit_read(unit_path(WIDX_FILE));
    assert_string_equal(text, "# cellar recovery targets 1\n"
                              "S\t" SEG1 "\t0\t0.000000\t0.000000\n" TAIL1);
    free(text);
    struct widx idx;
    assert_int_equal(widx_read(unit_tmp, &idx, &err), 0);
    assert_non_null(widx_cut_before(&idx, SEG2));
    widx_free(&idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_widx_format_and_parse),
        cmocka_unit_test(test_widx_put_replaces_and_keep_only),
        cmocka_unit_test(test_widx_put_takes_the_timeline_of_the_file),
        cmocka_unit_test(test_widx_parse_refuses_garbage),
        cmocka_unit_test(test_widx_parse_a_segment_read_again),
        cmocka_unit_test(test_widx_tail_lines),
        cmocka_unit_test(test_widx_tail_lines_refused),
        cmocka_unit_test_setup_teardown(test_widx_append_a_tail, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_widx_append, unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_widx_append_takes_the_timeline_of_the_file,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_widx_read_and_write, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
