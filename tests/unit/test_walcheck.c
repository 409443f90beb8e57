/* Unit tests of src/core/wal/walcheck.c on synthetic WAL files. */
#include "unit.h"

#include "walcheck.h"

#define MIB (1024u * 1024u)

struct hdr {
    uint16_t magic, info;
    uint32_t tli;
    uint64_t pageaddr;
    uint64_t sysid;
    uint32_t segsize, blcksz;
    uint64_t file_size;
};

/* A segment file whose long page header holds h, zeros elsewhere. */
static const char *write_segment(const char *name, const struct hdr *h)
{
    unsigned char head[40] = {0};
    memcpy(head, &h->magic, 2);
    memcpy(head + 2, &h->info, 2);
    memcpy(head + 4, &h->tli, 4);
    memcpy(head + 8, &h->pageaddr, 8);
    memcpy(head + 24, &h->sysid, 8);
    memcpy(head + 32, &h->segsize, 4);
    memcpy(head + 36, &h->blcksz, 4);
    const char *path = unit_path(name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    size_t n = h->file_size < sizeof head ? (size_t)h->file_size : sizeof head;
    assert_int_equal(fwrite(head, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    if (h->file_size > sizeof head)
        assert_int_equal(truncate(path, (off_t)h->file_size), 0);
    return path;
}

/* A valid 16 MiB segment 000000010000000000000003 of PostgreSQL 15. */
static struct hdr good(void)
{
    return (struct hdr){0xD110, 0x0002, 1, 3ull * 16 * MIB, 7711578238752250018ull, 16 * MIB,
                        8192, 16 * MIB};
}

/* Check path as name; returns rc and leaves the message in err. */
static int check(const char *path, const char *name, struct walcheck_info *info,
                 struct cel_err *err)
{
    struct wal_name w;
    assert_int_equal(wal_name_parse(name, &w, NULL), 0);
    return walcheck_file(path, &w, info, err);
}

static void test_walcheck_file_accepts_a_segment(void **state)
{
    (void)state;
    struct hdr h = good();
    const char *path = write_segment("seg", &h);
    struct walcheck_info info;
    struct cel_err err = {0};
    assert_int_equal(check(path, "000000010000000000000003", &info, &err), 0);
    assert_int_equal(info.size, 16 * MIB);
    assert_int_equal(info.segsize, 16 * MIB);
    assert_int_equal(info.sysid, 7711578238752250018ull);
    assert_int_equal(info.block_size, 8192);
    /* a .partial of the same segment passes the same checks */
    assert_int_equal(check(path, "000000010000000000000003.partial", NULL, &err), 0);
}

/* After a promotion PostgreSQL starts the new timeline's first segment as a
 * copy of the old timeline's segment up to the switch point: the first page
 * carries the parent's timeline (seen with PostgreSQL 15 in
 * t_wal_timeline.sh: 000000020000000000000007 begins with timeline 1). */
static void test_walcheck_file_accepts_the_first_segment_of_a_timeline(void **state)
{
    (void)state;
    struct hdr h = good();
    const char *path = write_segment("seg", &h);
    struct cel_err err = {0};
    assert_int_equal(check(path, "000000020000000000000003", NULL, &err), 0);
    assert_int_equal(check(path, "0000000A0000000000000003", NULL, &err), 0);
}

static void test_walcheck_file_other_segment_sizes(void **state)
{
    (void)state;
    /* 1 MiB segments: 4096 per log, so ...00000FFF exists */
    struct hdr h = good();
    h.segsize = MIB;
    h.file_size = MIB;
    h.pageaddr = 0xFFFull * MIB;
    const char *path = write_segment("small", &h);
    assert_int_equal(check(path, "000000010000000000000FFF", NULL, NULL), 0);
    /* 64 MiB segments, next log */
    h = good();
    h.segsize = 64 * MIB;
    h.file_size = 64 * MIB;
    h.pageaddr = (1ull << 32) + 2ull * 64 * MIB;
    path = write_segment("big", &h);
    assert_int_equal(check(path, "000000010000000100000002", NULL, NULL), 0);
}

static void test_walcheck_file_refusals(void **state)
{
    (void)state;
    struct cel_err err = {0};
    struct hdr h;

    h = good();
    h.file_size = 8 * MIB;
    assert_int_equal(check(write_segment("a", &h), "000000010000000000000003", NULL, &err),
                     -CEL_E_FORMAT);
    assert_string_equal(err.msg, "size is 8388608 bytes, the header announces 16777216-byte segments");

    h = good();
    h.magic = 0;
    check(write_segment("b", &h), "000000010000000000000003", NULL, &err);
    assert_string_equal(err.msg, "not a WAL segment: bad magic 0x0000");

    h = good();
    h.info = 0;
    check(write_segment("c", &h), "000000010000000000000003", NULL, &err);
    assert_string_equal(err.msg, "not a WAL segment: the first page has no long header");

    h = good();
    h.tli = 2;
    check(write_segment("d", &h), "000000010000000000000003", NULL, &err);
    assert_string_equal(err.msg, "timeline 2 in the header, 1 in the name");

    h = good();
    h.tli = 0;
    check(write_segment("d0", &h), "000000010000000000000003", NULL, &err);
    assert_string_equal(err.msg, "timeline 0 in the header, 1 in the name");

    h = good();
    check(write_segment("e", &h), "000000010000000000000004", NULL, &err);
    assert_string_equal(err.msg, "the header says the segment starts at 0/3000000, the name says "
                                 "0/4000000");

    h = good();
    h.segsize = 3 * MIB;
    check(write_segment("f", &h), "000000010000000000000003", NULL, &err);
    assert_string_equal(err.msg,
                        "the header announces 3145728-byte segments, not a valid segment size");

    h = good();
    h.blcksz = 1000;
    check(write_segment("g", &h), "000000010000000000000003", NULL, &err);
    assert_string_equal(err.msg, "the header announces a block size of 1000");

    h = good();
    h.file_size = 12;
    assert_int_equal(check(write_segment("h", &h), "000000010000000000000003", NULL, &err),
                     -CEL_E_FORMAT);
    assert_string_equal(err.msg, "only 12 bytes: too short for a WAL segment");

    /* with 1 GiB segments, seg 4 of a log does not exist */
    h = good();
    h.segsize = 1024 * MIB;
    h.file_size = 1024 * MIB;
    check(write_segment("i", &h), "000000010000000000000004", NULL, &err);
    assert_non_null(strstr(err.msg, "does not exist"));

    assert_int_equal(check(unit_path("none"), "000000010000000000000003", NULL, &err),
                     -CEL_E_NOT_FOUND);
}

static void test_walcheck_history_parse(void **state)
{
    (void)state;
    struct walcheck_history_entry *e = NULL;
    size_t n = 0;
    struct cel_err err = {0};
    assert_int_equal(walcheck_history_parse("1\t0/3000000\tno recovery target specified\n"
                                            "# a comment\n\n"
                                            "2\t1/A0000F8\tbefore 2026-11-24 10:00:00+00\n",
                                            &e, &n, &err),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].tli, 1);
    assert_int_equal(e[0].switchpoint, 0x3000000);
    assert_int_equal(e[1].tli, 2);
    assert_int_equal(e[1].switchpoint, 0x10A0000F8);
    free(e);
    assert_int_equal(walcheck_history_parse("0\t0/3000000\tx\n", &e, &n, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "line 1 is not 'timeline<TAB>LSN<TAB>reason': not a history file");
    assert_null(e);
    assert_int_equal(n, 0);
    assert_int_equal(walcheck_history_parse("1\t0/3000000\tx\n2\tzz\n", &e, &n, &err),
                     -CEL_E_FORMAT);
    assert_string_equal(err.msg, "line 2 has no valid switch LSN: not a history file");
    assert_null(e);
    assert_int_equal(walcheck_history_parse("# nothing\n", &e, &n, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "holds no timeline switch: not a history file");
}

static void test_walcheck_file_history_and_backup_label(void **state)
{
    (void)state;
    struct cel_err err = {0};
    const char *p = unit_write("h1", "1\t0/3000158\tno recovery target specified\n\n"
                                     "2\t0/5000000\tat restore point \"x\"\n");
    assert_int_equal(check(p, "00000003.history", NULL, &err), 0);
    p = unit_write("h2", "# only a comment\n");
    assert_int_equal(check(p, "00000002.history", NULL, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "holds no timeline switch: not a history file");
    p = unit_write("h3", "1\tsomewhere\tbad\n");
    check(p, "00000002.history", NULL, &err);
    assert_string_equal(err.msg, "line 1 has no valid switch LSN: not a history file");
    p = unit_write("h4", "garbage\n");
    check(p, "00000002.history", NULL, &err);
    assert_string_equal(err.msg, "line 1 is not 'timeline<TAB>LSN<TAB>reason': not a history file");

    p = unit_write("b1", "START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\n"
                         "STOP WAL LOCATION: 0/4000100 (file 000000010000000000000004)\n");
    assert_int_equal(check(p, "000000010000000000000004.00000028.backup", NULL, &err), 0);
    p = unit_write("b2", "hello\n");
    check(p, "000000010000000000000004.00000028.backup", NULL, &err);
    assert_string_equal(err.msg, "has no 'START WAL LOCATION:' line: not a backup history file");
    FILE *f = fopen(unit_path("b3"), "w");
    fwrite("START WAL LOCATION:\0x", 1, 21, f);
    fclose(f);
    check(unit_path("b3"), "000000010000000000000004.00000028.backup", NULL, &err);
    assert_string_equal(err.msg, "contains a NUL byte: not a text file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_walcheck_file_accepts_a_segment, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_walcheck_file_accepts_the_first_segment_of_a_timeline,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_walcheck_file_other_segment_sizes, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_walcheck_file_refusals, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_walcheck_history_parse),
        cmocka_unit_test_setup_teardown(test_walcheck_file_history_and_backup_label,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
