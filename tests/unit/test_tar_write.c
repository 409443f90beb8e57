/*
 * Unit tests of src/core/compress/tar_write.c and comp_stream.c: archives
 * written with tar_header through a streaming compressor (gzip, bzip2,
 * none) into a file, read back through comp_decompress_each and tar_read
 * (which reads as GNU tar): names that fit ustar's name field, that need
 * its prefix, that need a GNU long name; a symbolic link, a directory, a
 * file of several blocks; the checksum as ustar computes it; a size past
 * 8 GiB in base-256; the header errors; the padding.
 */
#include "unit.h"

#include <fcntl.h>
#include <unistd.h>

#include "comp_stream.h"
#include "compress.h"
#include "tar_read.h"
#include "strbuf.h"
#include "tar_write.h"

static int to_fd(void *ctx, const void *buf, size_t len, struct cel_err *err)
{
    (void)err;
    int fd = *(int *)ctx;
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    return 0;
}

struct seen {
    struct strbuf lines;
    uint64_t bytes;
    char name[512];
    char type;
    uint64_t size;
};

static int on_member(void *ctx, const struct tar_member *m, struct cel_err *err)
{
    (void)err;
    struct seen *s = ctx;
    snprintf(s->name, sizeof s->name, "%s", m->name);
    s->type = m->type;
    s->size = m->size;
    s->bytes = 0;
    if (m->type == '2')
        sb_appendf(&s->lines, "%s -> %s\n", m->name, m->link);
    return 0;
}

static int on_data(void *ctx, const unsigned char *buf, size_t len, struct cel_err *err)
{
    (void)err;
    struct seen *s = ctx;
    for (size_t i = 0; i < len; i++)
        assert_int_equal(buf[i], (unsigned char)((s->bytes + i) % 251));
    s->bytes += len;
    return 0;
}

static int on_end(void *ctx, struct cel_err *err)
{
    (void)err;
    struct seen *s = ctx;
    if (s->type != '2')
        sb_appendf(&s->lines, "%s %c %llu\n", s->name, s->type, (unsigned long long)s->bytes);
    return 0;
}

static int feed(void *ctx, const unsigned char *buf, size_t len, struct cel_err *err)
{
    return tar_read_feed(ctx, buf, len, err);
}

static void put(struct comp_stream *cs, const struct tar_entry *e)
{
    unsigned char h[TAR_HEADER_MAX];
    struct cel_err err = {0};
    ssize_t n = tar_header(e, h, &err);
    assert_true(n > 0);
    assert_int_equal(n % TAR_BLOCK, 0);
    assert_int_equal(comp_stream_write(cs, h, (size_t)n, &err), 0);
    if (e->type == '0') {
        unsigned char *data = cel_xmalloc(e->size + TAR_BLOCK);
        for (uint64_t i = 0; i < e->size; i++)
            data[i] = (unsigned char)(i % 251);
        memset(data + e->size, 0, TAR_BLOCK);
        assert_int_equal(comp_stream_write(cs, data, e->size + tar_padding(e->size), &err), 0);
        free(data);
    }
}

/* Write the sample archive with kind, read it back, compare. */
static void round_trip(enum comp_kind kind)
{
    char long_dir[200], long_name[400], prefixed[300];
    memset(long_dir, 'd', 150);
    long_dir[150] = '\0';
    snprintf(prefixed, sizeof prefixed, "%s/file_in_prefixed_dir", long_dir);
    memset(long_name, 'n', 300);
    long_name[300] = '\0';
    const char *path = unit_path(kind == COMP_GZIP ? "a.tar.gz" : "a.tar");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    struct cel_err err = {0};
    struct comp_stream *cs = comp_stream_new(kind, 0, to_fd, &fd, &err);
    assert_non_null(cs);
    put(cs, &(struct tar_entry){.name = ".", .type = '5', .mode = 0700});
    put(cs, &(struct tar_entry){.name = "base", .type = '5', .mode = 0700});
    put(cs, &(struct tar_entry){.name = "base/1/1259", .type = '0', .mode = 0600, .size = 20000});
    put(cs, &(struct tar_entry){.name = "empty", .type = '0', .mode = 0600});
    put(cs, &(struct tar_entry){.name = "link", .type = '2', .mode = 0777, .link = "base/1"});
    put(cs, &(struct tar_entry){.name = prefixed, .type = '0', .mode = 0600, .size = 513});
    put(cs, &(struct tar_entry){.name = long_name, .type = '0', .mode = 0600, .size = 5});
    static const unsigned char end[TAR_END_LEN];
    assert_int_equal(comp_stream_write(cs, end, sizeof end, &err), 0);
    assert_int_equal(comp_stream_finish(cs, &err), 0);
    assert_true(comp_stream_out(cs) > 0);
    comp_stream_free(cs);
    close(fd);

    struct seen s = {0};
    struct tar_read *tr = tar_read_new(
        &(struct tar_read_cb){.member = on_member, .data = on_data, .member_end = on_end,
                              .ctx = &s},
        path);
    assert_int_equal(comp_decompress_each(kind, path, NULL, feed, tr, NULL, &err), 0);
    assert_int_equal(tar_read_finish(tr, &err), 0);
    assert_int_equal(tar_read_members(tr), 7);
    tar_read_free(tr);
    char *want = cel_xasprintf(". 5 0\nbase 5 0\nbase/1/1259 0 20000\nempty 0 0\nlink -> base/1\n"
                               "%s 0 513\n%s 0 5\n",
                               prefixed, long_name);
    assert_string_equal(sb_str(&s.lines), want);
    free(want);
    sb_free(&s.lines);
}

static void test_tar_write_round_trip_plain(void **state)
{
    (void)state;
    round_trip(COMP_NONE);
}

static void test_tar_write_round_trip_gzip(void **state)
{
    (void)state;
    round_trip(COMP_GZIP);
}

static void test_tar_write_round_trip_bzip2(void **state)
{
    (void)state;
    round_trip(COMP_BZIP2);
}

/* The header's fields as ustar defines them. */
static void test_tar_write_fields(void **state)
{
    (void)state;
    unsigned char h[TAR_HEADER_MAX];
    struct cel_err err = {0};
    struct tar_entry e = {.name = "PG_VERSION", .type = '0', .mode = 0600, .uid = 26,
                          .gid = 27, .uname = "postgres", .gname = "postgres", .size = 3,
                          .mtime = 1700000000};
    assert_int_equal(tar_header(&e, h, &err), TAR_BLOCK);
    assert_string_equal((char *)h, "PG_VERSION");
    assert_string_equal((char *)h + 100, "0000600");
    assert_string_equal((char *)h + 108, "0000032");
    assert_string_equal((char *)h + 124, "00000000003");
    assert_string_equal((char *)h + 136, "14524770400");
    assert_int_equal(h[156], '0');
    assert_memory_equal(h + 257, "ustar\0" "00", 8);
    assert_string_equal((char *)h + 265, "postgres");
    /* the checksum: the sum of the bytes with its own field as spaces */
    unsigned sum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += i >= 148 && i < 156 ? ' ' : h[i];
    char want[8];
    snprintf(want, sizeof want, "%06o", sum);
    assert_memory_equal(h + 148, want, 6);
    assert_int_equal(h[154], '\0');
    assert_int_equal(h[155], ' ');

    /* 9 GiB: past 11 octal digits, GNU base-256 */
    e.size = 9ull << 30;
    assert_int_equal(tar_header(&e, h, &err), TAR_BLOCK);
    assert_int_equal(h[124], 0x80);
    uint64_t v = 0;
    for (size_t i = 125; i < 136; i++)
        v = v << 8 | h[i];
    assert_int_equal(v, 9ull << 30);
}

static void test_tar_write_errors(void **state)
{
    (void)state;
    unsigned char h[TAR_HEADER_MAX];
    struct cel_err err = {0};
    assert_int_equal(tar_header(&(struct tar_entry){.name = "", .type = '0'}, h, &err),
                     -CEL_E_INVALID);
    assert_int_equal(tar_header(&(struct tar_entry){.name = "x", .type = 'x'}, h, &err),
                     -CEL_E_INVALID);
    char target[200];
    memset(target, 't', 150);
    target[150] = '\0';
    assert_int_equal(
        tar_header(&(struct tar_entry){.name = "l", .type = '2', .link = target}, h, &err),
        -CEL_E_INVALID);
    assert_non_null(strstr(err.msg, "more than 100 bytes"));
    char *huge = cel_xmalloc(TAR_NAME_MAX + 2);
    memset(huge, 'h', TAR_NAME_MAX + 1);
    huge[TAR_NAME_MAX + 1] = '\0';
    assert_int_equal(tar_header(&(struct tar_entry){.name = huge, .type = '0'}, h, &err),
                     -CEL_E_INVALID);
    /* the longest name fits the buffer */
    huge[TAR_NAME_MAX] = '\0';
    ssize_t n = tar_header(&(struct tar_entry){.name = huge, .type = '0'}, h, &err);
    assert_true(n > 0 && n <= TAR_HEADER_MAX);
    free(huge);
    assert_int_equal(tar_padding(0), 0);
    assert_int_equal(tar_padding(1), 511);
    assert_int_equal(tar_padding(512), 0);
    assert_int_equal(tar_padding(513), 511);
}

static void test_comp_stream_refusals(void **state)
{
    (void)state;
    struct cel_err err = {0};
    int fd = -1;
    assert_null(comp_stream_new(COMP_ZSTD, 0, to_fd, &fd, &err));
    assert_int_equal(err.code, CEL_E_INVALID);
    assert_null(comp_stream_new(COMP_GZIP, 10, to_fd, &fd, &err));
    struct comp_stream *cs = comp_stream_new(COMP_NONE, 0, to_fd, &fd, &err);
    assert_int_equal(comp_stream_finish(cs, &err), 0);
    assert_int_equal(comp_stream_write(cs, "x", 1, &err), -CEL_E_INTERNAL);
    comp_stream_free(cs);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, unit_setup_tmpdir, unit_teardown_tmpdir)
    const struct CMUnitTest tests[] = {
        T(test_tar_write_round_trip_plain), T(test_tar_write_round_trip_gzip),
        T(test_tar_write_round_trip_bzip2), T(test_tar_write_fields),
        T(test_tar_write_errors),           T(test_comp_stream_refusals),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
