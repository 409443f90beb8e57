/*
 * Unit tests of src/core/compress/tar_read.c, and of the pieces that feed
 * it: archives made by GNU tar (ustar, gnu and pax formats, long names,
 * symbolic links, empty files, a file of more than one read chunk) read
 * back in pieces of odd sizes through comp_decompress_each (gzip), each
 * member's name, type, size and content checked; a damaged header and an
 * archive cut short refused. Also proc_write: a child fed through
 * stdin_stream gets every byte, and a child that stops reading is an error,
 * not a hang or a SIGPIPE.
 */
#include <fcntl.h>
#include <unistd.h>

#include "unit.h"

#include "compress.h"
#include "manifest.h"
#include "proc.h"
#include "tar_read.h"

/* What the reader saw: "name type size crc" lines. */
struct seen {
    struct strbuf lines;
    uint32_t crc;
    uint64_t bytes;
    char name[512];
    char type;
    uint64_t size;
    int ends;
};

static int on_member(void *ctx, const struct tar_member *m, struct cel_err *err)
{
    (void)err;
    struct seen *s = ctx;
    snprintf(s->name, sizeof s->name, "%s", m->name);
    s->type = m->type;
    s->size = m->size;
    s->crc = 0;
    s->bytes = 0;
    if (m->type == '2')
        sb_appendf(&s->lines, "%s -> %s\n", m->name, m->link);
    return 0;
}

static int on_data(void *ctx, const unsigned char *buf, size_t len, struct cel_err *err)
{
    (void)err;
    struct seen *s = ctx;
    s->crc = manifest_crc32c(s->crc, buf, len);
    s->bytes += len;
    return 0;
}

static int on_end(void *ctx, struct cel_err *err)
{
    (void)err;
    struct seen *s = ctx;
    s->ends++;
    if (s->type != '2')
        sb_appendf(&s->lines, "%s %c %llu %08x\n", s->name, s->type, (unsigned long long)s->bytes,
                   s->crc);
    assert_int_equal(s->bytes, s->size);
    return 0;
}

/* Run a shell command in the test directory; fails the test unless it exits 0. */
static void sh(const char *cmd)
{
    struct proc_result res = {0};
    assert_int_equal(proc_run_shell(cmd, &(struct proc_opts){.cwd = unit_path("")}, &res, NULL), 0);
    if (res.status != 0)
        fail_msg("'%s' exited %d: %s", cmd, res.status, res.err ? res.err : "");
    proc_result_free(&res);
}

/* Feed the whole file at path to t in pieces of size step (the last one
 * shorter). */
static int feed_file(struct tar_read *t, const char *path, size_t step, struct cel_err *err)
{
    char *data = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    data = cel_xmalloc(64 << 20);
    len = fread(data, 1, 64 << 20, f);
    fclose(f);
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < len; off += step)
        rc = tar_read_feed(t, (const unsigned char *)data + off,
                           len - off < step ? len - off : step, err);
    free(data);
    return rc;
}

static struct tar_read_cb cb_for(struct seen *s)
{
    return (struct tar_read_cb){
        .member = on_member, .data = on_data, .member_end = on_end, .ctx = s};
}

/* The tree the archives are made of; the expected lines, names sorted by tar -c's order. */
static void make_tree(void)
{
    sh("mkdir -p src/dir/sub && printf 15 > src/PG_VERSION && : > src/dir/empty && "
       "head -c 1500000 /dev/urandom > src/dir/big && ln -s /somewhere/else src/link && "
       "mkdir -p src/"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb && "
       "echo long > src/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/"
       "cccccccccccccccccccccccccccccccccccccccc");
}

/* What the reader must report for src/, checked against crc32 of each file. */
static void check_seen(const struct seen *s)
{
    const char *l = sb_str(&s->lines);
    assert_non_null(strstr(l, "PG_VERSION 0 2 "));
    assert_non_null(strstr(l, "dir/empty 0 0 00000000\n"));
    assert_non_null(strstr(l, "dir/big 0 1500000 "));
    assert_non_null(strstr(l, "dir/ 5 0 ") ? strstr(l, "dir/ 5 0 ") : strstr(l, "dir 5 0 "));
    assert_non_null(strstr(l, "link -> /somewhere/else\n"));
    assert_non_null(
        strstr(l, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/"
                  "cccccccccccccccccccccccccccccccccccccccc 0 5 "));
    char want[64];
    snprintf(want, sizeof want, "PG_VERSION 0 2 %08x\n", manifest_crc32c(0, "15", 2));
    assert_non_null(strstr(l, want));
}

static int feed(void *ctx, const unsigned char *data, size_t len, struct cel_err *err)
{
    return tar_read_feed(ctx, data, len, err);
}

static void read_format(const char *format, size_t step)
{
    make_tree();
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tar --format=%s -cf a.tar -C src . && gzip -k a.tar", format);
    sh(cmd);
    /* plain, in pieces */
    struct seen s = {0};
    struct tar_read_cb cb = cb_for(&s);
    struct tar_read *t = tar_read_new(&cb, "a.tar");
    struct cel_err err = {0};
    assert_int_equal(feed_file(t, unit_path("a.tar"), step, &err), 0);
    assert_int_equal(tar_read_finish(t, &err), 0);
    check_seen(&s);
    assert_true(tar_read_members(t) >= 7);
    tar_read_free(t);
    /* through the gzip decompressor: the same lines */
    struct seen z = {0};
    cb = cb_for(&z);
    t = tar_read_new(&cb, "a.tar.gz");
    uint64_t bytes = 0;
    assert_int_equal(
        comp_decompress_each(COMP_GZIP, unit_path("a.tar.gz"), NULL, feed, t, &bytes, &err), 0);
    assert_int_equal(tar_read_finish(t, &err), 0);
    assert_string_equal(sb_str(&z.lines), sb_str(&s.lines));
    assert_true(bytes > 1500000);
    tar_read_free(t);
    /* one member, read from the compressed archive */
    char *text = NULL;
    size_t n = 0;
    assert_int_equal(tar_read_member(unit_path("a.tar.gz"), COMP_GZIP, "PG_VERSION", 100, &text,
                                     &n, &err),
                     0);
    assert_string_equal(text, "15");
    assert_int_equal(n, 2);
    free(text);
    assert_int_equal(tar_read_member(unit_path("a.tar.gz"), COMP_GZIP, "dir/empty", 100, &text,
                                     NULL, &err),
                     0);
    assert_string_equal(text, "");
    free(text);
    assert_int_equal(tar_read_member(unit_path("a.tar"), COMP_NONE, "dir/big", 1000, &text, NULL,
                                     &err),
                     -CEL_E_FORMAT);
    assert_null(text);
    assert_int_equal(tar_read_member(unit_path("a.tar.gz"), COMP_GZIP, "nothing", 100, &text,
                                     NULL, &err),
                     -CEL_E_NOT_FOUND);
    assert_null(text);
    sb_free(&s.lines);
    sb_free(&z.lines);
}

static void test_tar_read_gnu_in_odd_pieces(void **state)
{
    (void)state;
    read_format("gnu", 333);
}

static void test_tar_read_pax_in_big_pieces(void **state)
{
    (void)state;
    read_format("pax", 1 << 20);
}

/* What mode and mtime the reader reports for PG_VERSION. */
struct mode_seen {
    unsigned mode;
    int64_t mtime;
};

static int on_mode(void *ctx, const struct tar_member *m, struct cel_err *err)
{
    (void)err;
    struct mode_seen *ms = ctx;
    if (strcmp(m->name, "PG_VERSION") == 0) {
        ms->mode = m->mode;
        ms->mtime = m->mtime;
    }
    return 0;
}

/* comp_decompress_fd_each reads an open descriptor to its end with the same
 * decompressors (cloud-restore feeds it a download), and the reader gives
 * each member's mode and mtime (cloud-restore sets them). */
static void test_tar_read_from_fd_with_mode(void **state)
{
    (void)state;
    make_tree();
    sh("chmod 0640 src/PG_VERSION && touch -d @1700000000 src/PG_VERSION && "
       "tar --format=gnu -cf - -C src . | bzip2 > a.tar.bz2");
    struct mode_seen ms = {0};
    struct tar_read *t = tar_read_new(&(struct tar_read_cb){.member = on_mode, .ctx = &ms}, "x");
    struct cel_err err = {0};
    int fd = open(unit_path("a.tar.bz2"), O_RDONLY);
    assert_true(fd >= 0);
    uint64_t bytes = 0;
    assert_int_equal(comp_decompress_fd_each(COMP_BZIP2, fd, "a.tar.bz2", feed, t, &bytes, &err),
                     0);
    assert_int_equal(tar_read_finish(t, &err), 0);
    assert_true(bytes > 1500000);
    assert_int_equal(ms.mode, 0640);
    assert_int_equal(ms.mtime, 1700000000);
    tar_read_free(t);
    /* a custom filter reads files only */
    assert_int_equal(comp_decompress_fd_each(COMP_CUSTOM, fd, "a.tar.bz2", feed, NULL, NULL, &err),
                     -CEL_E_INVALID);
    close(fd);
}

static void test_tar_read_ustar_byte_by_byte_prefix(void **state)
{
    (void)state;
    /* ustar keeps the long path in prefix + name (no extension headers) */
    sh("mkdir -p src/"
       "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp/"
       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq && echo x > src/"
       "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp/"
       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq/file-with-a-fairly-long-name-here-too && "
       "tar --format=ustar -cf u.tar -C src .");
    struct seen s = {0};
    struct tar_read_cb cb = cb_for(&s);
    struct tar_read *t = tar_read_new(&cb, "u.tar");
    assert_int_equal(feed_file(t, unit_path("u.tar"), 1, NULL), 0);
    assert_int_equal(tar_read_finish(t, NULL), 0);
    assert_non_null(strstr(sb_str(&s.lines),
                           "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp/"
                           "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq/"
                           "file-with-a-fairly-long-name-here-too 0 2 "));
    tar_read_free(t);
    sb_free(&s.lines);
}

/* A flipped byte in a header is caught by its checksum; an archive cut in
 * the middle of a member is refused at the end; content bytes are not the
 * reader's to judge (the caller's checksums are). */
static void test_tar_read_damage(void **state)
{
    (void)state;
    sh("mkdir -p src && head -c 5000 /dev/zero > src/f && tar --format=gnu -cf d.tar -C src f");
    char *data = cel_xmalloc(20000);
    FILE *f = fopen(unit_path("d.tar"), "rb");
    size_t len = fread(data, 1, 20000, f);
    fclose(f);
    struct seen s = {0};
    struct tar_read_cb cb = cb_for(&s);
    struct cel_err err = {0};
    /* header byte 0 ('f' of the name) changed */
    data[0] = 'g';
    struct tar_read *t = tar_read_new(&cb, "d.tar");
    assert_int_equal(tar_read_feed(t, (unsigned char *)data, len, &err), -CEL_E_FORMAT);
    assert_non_null(strstr(err.msg, "invalid tar data in 'd.tar': header checksum mismatch at "
                                    "offset 0"));
    tar_read_free(t);
    data[0] = 'f';
    /* cut inside the member */
    t = tar_read_new(&cb, "d.tar");
    assert_int_equal(tar_read_feed(t, (unsigned char *)data, 3000, &err), 0);
    assert_int_equal(tar_read_finish(t, &err), -CEL_E_FORMAT);
    assert_non_null(strstr(err.msg, "unexpected end of archive"));
    tar_read_free(t);
    /* a content byte changed: read as any content */
    data[512 + 100] = 1;
    t = tar_read_new(&cb, "d.tar");
    assert_int_equal(tar_read_feed(t, (unsigned char *)data, len, &err), 0);
    assert_int_equal(tar_read_finish(t, &err), 0);
    assert_int_equal(s.ends, 1);
    tar_read_free(t);
    sb_free(&s.lines);
    free(data);
}

/* proc_write: 3 MiB through cat, more than any pipe holds, while cat's
 * output is read alongside; then a child that reads nothing. */
static void test_proc_write_streams_stdin(void **state)
{
    (void)state;
    size_t n = 3u << 20;
    unsigned char *buf = cel_xmalloc(n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 7);
    const char *argv[] = {"cat", NULL};
    struct proc *p = NULL;
    struct cel_err err = {0};
    assert_int_equal(proc_start(argv,
                                &(struct proc_opts){.stdin_stream = true, .capture_max = 4u << 20},
                                &p, &err),
                     0);
    for (size_t off = 0; off < n; off += 100000)
        assert_int_equal(proc_write(p, buf + off, n - off < 100000 ? n - off : 100000, &err), 0);
    proc_close_stdin(p);
    struct proc_result res = {0};
    assert_int_equal(proc_finish(p, &res, &err), 0);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.out_len, n);
    assert_memory_equal(res.out, buf, n);
    proc_result_free(&res);

    const char *argv2[] = {"true", NULL};
    assert_int_equal(proc_start(argv2, &(struct proc_opts){.stdin_stream = true}, &p, &err), 0);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = proc_write(p, buf, n, &err);
    assert_int_equal(rc, -CEL_E_PROC);
    assert_non_null(strstr(err.msg, "'true' stopped reading its input"));
    assert_int_equal(proc_finish(p, &res, NULL), 0);
    proc_result_free(&res);
    /* proc_run cannot feed a stream */
    assert_int_equal(proc_run(argv, &(struct proc_opts){.stdin_stream = true}, NULL, &err),
                     -CEL_E_INTERNAL);
    free(buf);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, unit_setup_tmpdir, unit_teardown_tmpdir)
    const struct CMUnitTest tests[] = {
        T(test_tar_read_gnu_in_odd_pieces),         T(test_tar_read_pax_in_big_pieces),
        T(test_tar_read_ustar_byte_by_byte_prefix), T(test_tar_read_damage),
        T(test_proc_write_streams_stdin),           T(test_tar_read_from_fd_with_mode),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
