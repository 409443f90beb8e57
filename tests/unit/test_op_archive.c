/*
 * Unit tests of the WAL archive's way in and way out, through the ops
 * harness (ops_fixture.h), without PostgreSQL: put-wal (archive_command,
 * src/ops/archive/put_wal.c) into incoming/, archive-wal
 * (src/ops/archive/archive_wal.c) from incoming/ into wals/ and xlog.db,
 * get-wal (restore_command, src/ops/archive/get_wal.c) back out, byte for
 * byte; and archive-wal from streaming/ (pg_receivewal's directory, with
 * streaming_archiver = on) with Barman's rule for the files that stay.
 * Segments are ofx_segment's sparse 1 MiB files.
 *
 * The harness sets barman_user to the user running the test, so put-wal
 * runs "as barman_user" whoever runs the suite (root or not): its file in
 * incoming/ stays private (0600). The other case (PostgreSQL's user
 * archiving for barman_user, 0644) needs a second user and is left to the
 * integration tests.
 */
#include "unit.h"

#include "ops_fixture.h"

#include "compress.h"
#include "wal_archive.h"

#define SEG3 "000000010000000000000003"
#define SEG4 "000000010000000000000004"

/* Are the two files (absolute paths) byte for byte the same? */
static bool same_bytes(const char *a, const char *b)
{
    bool same = false;
    struct cel_err err = {0};
    assert_int_equal(comp_same_content(COMP_NONE, a, b, &(struct comp_opts){0}, &same, &err), 0);
    return same;
}

static int put(const char *path, struct cel_err *err)
{
    return op_put_wal(&ofx.ctx, &(struct op_put_wal_req){.server = "pg", .path = path, .in_fd = -1},
                      err);
}

static int archive(struct cel_err *err)
{
    return op_archive_wal(&ofx.ctx, &(struct op_archive_wal_req){.server = "pg", .workers = 1},
                          err);
}

static int setup(void **state)
{
    if (ofx_setup(state) < 0)
        return -1;
    unit_mkdir("pg-data/pg_wal");
    return ofx_config("[pg]\nconninfo = host=/nonexistent\ncompression = gzip\n");
}

static void test_op_put_wal_into_incoming(void **state)
{
    (void)state;
    char src[4200]; /* unit_path's buffers are reused: keep the path */
    snprintf(src, sizeof src, "%s", unit_path("pg-data/pg_wal/" SEG3));
    ofx_segment(src, SEG3, "first");
    struct cel_err err = {0};
    assert_int_equal(put(src, &err), 0);
    char *in = cel_xasprintf("%s/pg/incoming/%s", unit_tmp, SEG3);
    assert_true(same_bytes(src, in));
    /* run as barman_user: the file stays private */
    struct stat st;
    assert_int_equal(stat(in, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_uid, geteuid());
    /* only the file: its temporary is gone */
    assert_int_equal(unit_count_entries(unit_path("pg/incoming")), 1);

    /* PostgreSQL retrying after a crash: the same bytes succeed */
    assert_int_equal(put(src, &err), 0);
    assert_int_equal(unit_count_entries(unit_path("pg/incoming")), 1);
    /* other bytes under that name are refused, and the first file stays */
    ofx_segment(unit_path("other"), SEG3, "second");
    char *other = cel_xasprintf("%s/other", unit_tmp);
    assert_int_equal(op_put_wal(&ofx.ctx,
                                &(struct op_put_wal_req){
                                    .server = "pg", .path = other, .name = SEG3, .in_fd = -1},
                                &err),
                     -CEL_E_CONFLICT);
    assert_true(same_bytes(src, in));
    assert_int_equal(unit_count_entries(unit_path("pg/incoming")), 1);
    free(other);
    free(in);
}

static void test_op_put_wal_refuses_what_is_not_its_name(void **state)
{
    (void)state;
    /* the content is segment 3, the name says 4 */
    char src[4200]; /* unit_path's buffers are reused: keep the path */
    snprintf(src, sizeof src, "%s", unit_path("pg-data/pg_wal/" SEG4));
    ofx_segment(src, SEG3, "x");
    struct cel_err err = {0};
    assert_int_equal(put(src, &err), -CEL_E_FORMAT);
    assert_true(cel_str_starts(err.msg, "refusing " SEG4 ": "));
    /* and a name that is no WAL name at all */
    const char *bad = unit_write("pg-data/pg_wal/notawal", "x");
    cel_err_clear(&err);
    assert_int_equal(put(bad, &err), -CEL_E_INVALID);
    /* nothing is left in incoming/, not even a temporary */
    assert_int_equal(unit_count_entries(unit_path("pg/incoming")), 0);
}

static void test_op_archive_wal_then_get_wal(void **state)
{
    (void)state;
    /* unit_path's buffers are reused: keep the paths */
    char src3[4200];
    snprintf(src3, sizeof src3, "%s", unit_path("pg-data/pg_wal/" SEG3));
    ofx_segment(src3, SEG3, "three");
    char src4[4200];
    snprintf(src4, sizeof src4, "%s", unit_path("pg-data/pg_wal/" SEG4));
    ofx_segment(src4, SEG4, "four");
    struct cel_err err = {0};
    assert_int_equal(put(src3, &err), 0);
    assert_int_equal(put(src4, &err), 0);
    unit_write("pg/incoming/junk", "not a WAL file");

    assert_int_equal(archive(&err), 0);
    /* the two segments are archived gzip-compressed and catalogued, the
     * stranger is kept in errors/, incoming/ is empty */
    assert_int_equal(unit_count_entries(unit_path("pg/incoming")), 0);
    assert_int_equal(unit_count_entries(unit_path("pg/errors")), 1);
    char *line = cel_xasprintf("log WARNING pg: 'junk' is not a WAL file name, moved to "
                               "%s/pg/errors: invalid WAL file name 'junk': expected 24 "
                               "hexadecimal digits, found 4 characters",
                               unit_tmp);
    ofx_assert_event(line);
    free(line);
    ofx_assert_event("log INFO pg: archived " SEG3);
    ofx_assert_event("log INFO pg: archived " SEG4);
    enum comp_kind kind = COMP_NONE;
    assert_int_equal(comp_detect_file(unit_path(ofx_wal_rel("pg", SEG3)), NULL, &kind, NULL), 0);
    assert_int_equal(kind, COMP_GZIP);
    char *db = ofx_read_xlogdb("pg");
    struct xdb x = {0};
    assert_int_equal(xdb_parse(db, strlen(db), "xlog.db", &x, &err), 0);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.entries[0].name, SEG3);
    assert_string_equal(x.entries[1].name, SEG4);
    assert_string_equal(x.entries[0].compression, "gzip");
    struct stat st;
    assert_int_equal(stat(unit_path(ofx_wal_rel("pg", SEG4)), &st), 0);
    assert_int_equal(x.entries[1].size, (uint64_t)st.st_size);
    xdb_free(&x);
    free(db);
    json_t *j = ofx_result_json(0);
    assert_int_equal(ofx_jint(j, "archived"), 2);
    assert_int_equal(ofx_jint(j, "rejected"), 1);

    /* a retry of put-wal after archiving: compared with the archived copy */
    assert_int_equal(put(src3, &err), 0);
    assert_int_equal(unit_count_entries(unit_path("pg/incoming")), 0);

    /* get-wal gives the original bytes back */
    unit_mkdir("restore");
    ofx_events_clear();
    assert_int_equal(op_get_wal(&ofx.ctx,
                                &(struct op_get_wal_req){.server = "pg",
                                                         .name = SEG4,
                                                         .output_dir = unit_path("restore"),
                                                         .out_fd = -1},
                                &err),
                     0);
    char *back = cel_xasprintf("%s/restore/%s", unit_tmp, SEG4);
    assert_true(same_bytes(src4, back));
    free(back);
    ofx_assert_event("result get-wal");
    /* a file the archive does not have */
    cel_err_clear(&err);
    assert_int_equal(op_get_wal(&ofx.ctx,
                                &(struct op_get_wal_req){.server = "pg",
                                                         .name = "000000010000000000000009",
                                                         .output_dir = unit_path("restore"),
                                                         .out_fd = -1},
                                &err),
                     -CEL_E_NOT_FOUND);
    assert_int_equal(unit_count_entries(unit_path("restore")), 1);
}

static int setup_streaming(void **state)
{
    if (ofx_setup(state) < 0)
        return -1;
    unit_mkdir("pg/streaming");
    unit_mkdir("pg/incoming");
    return ofx_config("[pg]\nconninfo = host=/nonexistent\narchiver = off\n"
                      "streaming_archiver = on\nslot_name = barman\n");
}

/* get-wal NAME [--partial] into restore/: 0 or the error code. */
static int get_into_restore(const char *name, bool partial)
{
    struct cel_err err = {0};
    return op_get_wal(&ofx.ctx,
                      &(struct op_get_wal_req){.server = "pg",
                                               .name = name,
                                               .output_dir = unit_path("restore"),
                                               .out_fd = -1,
                                               .partial = partial},
                      &err);
}

/* Is restore/NAME the same bytes as the file rel (under the test dir)? */
static bool restored_as(const char *name, const char *rel)
{
    char *a = cel_xasprintf("%s/restore/%s", unit_tmp, name);
    char *b = cel_xasprintf("%s/%s", unit_tmp, rel);
    bool same = same_bytes(a, b);
    free(a);
    free(b);
    return same;
}

/* A streamed segment (or .partial file) named file, for segment seg. */
static void stream(const char *file, const char *seg)
{
    char *path = cel_xasprintf("%s/pg/streaming/%s", unit_tmp, file);
    ofx_segment(path, seg, file);
    free(path);
}

/* How many files of streaming/ wait for archive-wal, as list-server and
 * the console count them. */
static size_t streaming_waiting(void)
{
    size_t n = 99;
    struct cel_err err = {0};
    assert_int_equal(op_wal_waiting_count(unit_path("pg/streaming"), true, &n, NULL, &err), 0);
    return n;
}

#define SEG5 "000000010000000000000005"
#define TLI2_SEG5 "000000020000000000000005"

static void test_op_archive_wal_from_streaming(void **state)
{
    (void)state;
    struct cel_err err = {0};
    /* complete segments and no .partial: the newest stays, pg_receivewal
     * finds its position there */
    stream(SEG3, SEG3);
    stream(SEG4, SEG4);
    ofx_segment(unit_path("pg/incoming/" SEG3), SEG3, "incoming");
    /* one waits: the other stays for pg_receivewal */
    assert_int_equal(streaming_waiting(), 1);
    assert_int_equal(archive(&err), 0);
    ofx_assert_event("log INFO pg: archived " SEG3);
    assert_true(ofx_exists(ofx_wal_rel("pg", SEG3)));
    assert_false(ofx_exists(ofx_wal_rel("pg", SEG4)));
    assert_true(ofx_exists("pg/streaming/" SEG4));
    /* archiver = off: incoming/ is not archived (Barman runs no file
     * archiver then) */
    assert_true(ofx_exists("pg/incoming/" SEG3));
    /* get-wal finds a segment not archived yet in streaming/ */
    unit_mkdir("restore");
    assert_int_equal(get_into_restore(SEG4, false), 0);
    assert_true(restored_as(SEG4, "pg/streaming/" SEG4));

    /* the receiver has begun the next segment: the last complete one goes,
     * the .partial stays */
    stream(SEG5 ".partial", SEG5);
    assert_int_equal(streaming_waiting(), 1);
    ofx_events_clear();
    assert_int_equal(archive(&err), 0);
    ofx_assert_event("log INFO pg: archived " SEG4);
    assert_int_equal(unit_count_entries(unit_path("pg/streaming")), 1);
    assert_true(ofx_exists("pg/streaming/" SEG5 ".partial"));
    /* get-wal --partial gives the segment being received; without
     * --partial it is not there */
    assert_int_equal(get_into_restore(SEG5, false), -CEL_E_NOT_FOUND);
    assert_int_equal(get_into_restore(SEG5, true), 0);
    assert_true(restored_as(SEG5, "pg/streaming/" SEG5 ".partial"));

    /* a promotion: the old timeline's .partial is no longer the newest; it
     * is archived under its .partial name, the new timeline's stays */
    stream(TLI2_SEG5 ".partial", TLI2_SEG5);
    assert_int_equal(streaming_waiting(), 1); /* the old timeline's .partial waits */
    ofx_events_clear();
    assert_int_equal(archive(&err), 0);
    ofx_assert_event("log INFO pg: archived " SEG5 ".partial");
    assert_true(ofx_exists(ofx_wal_rel("pg", SEG5 ".partial")));
    assert_true(ofx_exists("pg/streaming/" TLI2_SEG5 ".partial"));
    assert_int_equal(unit_count_entries(unit_path("pg/streaming")), 1);
    assert_int_equal(streaming_waiting(), 0);
    /* and then get-wal --partial finds it archived */
    unlink(unit_path("restore/" SEG5));
    assert_int_equal(get_into_restore(SEG5, true), 0);
    assert_int_equal(unit_count_entries(unit_path("restore")), 2);
    char *db = ofx_read_xlogdb("pg");
    struct xdb x = {0};
    assert_int_equal(xdb_parse(db, strlen(db), "xlog.db", &x, &err), 0);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.entries[0].name, SEG3);
    assert_string_equal(x.entries[1].name, SEG4);
    assert_string_equal(x.entries[2].name, SEG5 ".partial");
    xdb_free(&x);
    free(db);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, ofx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_op_put_wal_into_incoming),
        T(test_op_put_wal_refuses_what_is_not_its_name),
        T(test_op_archive_wal_then_get_wal),
        cmocka_unit_test_setup_teardown(test_op_archive_wal_from_streaming, setup_streaming,
                                        ofx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
