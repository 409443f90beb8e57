/*
 * Unit tests of src/core/compress/compress.c: every kind round trip (empty, small,
 * a 16 MiB WAL-like segment), compatibility with gzip, bzip2, zstd and lz4
 * in both directions, detection by magic, strict decompression (truncated,
 * corrupt, trailing garbage, concatenated streams), custom filters,
 * comparison with a plain file, durable and clean output, and the name and
 * magic parsers.
 *
 * The command-line tools are required, not optional: a missing tool fails
 * the test that needs it and names the Debian package `make deps` installs.
 *
 * Sizes are chosen for speed under the sanitizers: each kind makes exactly one
 * full-size (16 MiB) round trip; a test that needs more than one of the
 * codecs' 1 MiB read chunks uses just over 1 MiB (MIB + a few bytes), and
 * every other test uses a few hundred KiB at most.
 */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include "compress.h"
#include "proc.h"

#define MIB (1024 * 1024)

/* ---- the sanitizer's quarantine ---------------------------------------------- */

/* AddressSanitizer keeps freed memory in a quarantine (256 MiB by default)
 * to catch uses after free. The codecs free megabytes per call (buffers,
 * bzip2's and zstd's state), so the quarantine fills and every process
 * the custom filters and tools start then copies the page tables of that
 * memory: about a second of system time here. 64 MiB still holds the
 * blocks of many calls. ASAN_OPTIONS in the environment overrides this. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=64";
}

/* ---- fsync as seen by the code under test ----------------------------------- */

/* Defined here, it takes the place of libc's for the objects linked into this
 * program: it counts calls and descriptors that are not close-on-exec, then
 * syncs through the system call itself. */
static int fsync_calls, fsync_without_cloexec;

int fsync(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    fsync_calls++;
    if (flags < 0 || !(flags & FD_CLOEXEC))
        fsync_without_cloexec++;
    return (int)syscall(SYS_fsync, fd);
}

/* ---- helpers -------------------------------------------------------------- */

/* The path of name in the test's directory. unlike unit_path's rotating
 * buffers, it stays valid for the whole test, however many paths are live. */
static const char *P(const char *name)
{
    static char tmp[sizeof unit_tmp];
    static struct {
        char name[64];
        char path[sizeof unit_tmp + 80];
    } cache[48];
    static size_t n;
    if (strcmp(tmp, unit_tmp) != 0) {
        n = 0;
        snprintf(tmp, sizeof tmp, "%s", unit_tmp);
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(cache[i].name, name) == 0)
            return cache[i].path;
    assert_true(n < CEL_ARRAY_LEN(cache) && strlen(name) < sizeof cache[0].name);
    snprintf(cache[n].name, sizeof cache[n].name, "%s", name);
    snprintf(cache[n].path, sizeof cache[n].path, "%s/%s", unit_tmp, name);
    return cache[n++].path;
}

/* unit_write, returning a lasting path. */
static const char *W(const char *name, const char *text)
{
    unit_write(name, text);
    return P(name);
}

static const enum comp_kind builtin[] = {COMP_GZIP, COMP_BZIP2, COMP_ZSTD, COMP_LZ4};

/* The custom filters of these tests: gzip itself, recognised by its magic
 * (which the custom magic takes over from the built-in gzip). */
static const unsigned char gzip_magic[] = {0x1f, 0x8b, 0x08};
static const struct comp_opts custom_opts = {
    .custom_compress = "gzip -c",
    .custom_decompress = "gzip -dc",
    .custom_magic = gzip_magic,
    .custom_magic_len = sizeof gzip_magic,
};

static const struct comp_opts *opts_for(enum comp_kind kind)
{
    return kind == COMP_CUSTOM ? &custom_opts : NULL;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Page page (its offset) of a WAL-like file, room bytes of it, into b (zeroed
 * by the caller); rng_state carries on from the page before. */
static void wal_like_page(unsigned char *b, size_t page, size_t room)
{
    unsigned char hdr[24] = {0x10, 0xd1, 0x05, 0};
    memcpy(hdr + 8, &page, sizeof page);
    memcpy(b, hdr, room < sizeof hdr ? room : sizeof hdr);
    uint64_t r = rng() % 30;
    size_t fill = r < 3 ? room : r < 13 ? (size_t)(rng() % room) : 0;
    for (size_t i = 24; i < fill; i++)
        b[i] = (unsigned char)(i % 64 < 40 ? rng() : i);
}

/*
 * size bytes shaped like a WAL segment, the same for the same seed: 8 KiB
 * pages, each starting with a page header (magic 0xD110, little-endian, as
 * PostgreSQL 15 writes); a third of the pages carry random records over part
 * of the page, one in ten is random throughout, the rest are zero after the
 * header (a segment switched early).
 */
static unsigned char *wal_like(size_t size, uint64_t seed)
{
    unsigned char *b = calloc(1, size ? size : 1);
    assert_non_null(b);
    rng_state = seed | 1;
    for (size_t page = 0; page < size; page += 8192)
        wal_like_page(b + page, page, size - page < 8192 ? size - page : 8192);
    return b;
}

static const char *write_bytes(const char *name, const void *data, size_t len)
{
    const char *path = P(name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    return path;
}

/* wal_like(size, seed) written to name a page at a time: a 16 MiB buffer
 * would stay in the sanitizer's quarantine, and every process the codecs
 * and tools start afterwards would copy its page tables. */
static const char *write_wal(const char *name, size_t size, uint64_t seed)
{
    const char *path = P(name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    rng_state = seed | 1;
    static unsigned char page[8192];
    for (size_t off = 0; off < size; off += sizeof page) {
        size_t room = size - off < sizeof page ? size - off : sizeof page;
        memset(page, 0, sizeof page);
        wal_like_page(page, off, room);
        assert_int_equal(write(fd, page, room), (ssize_t)room);
    }
    assert_int_equal(close(fd), 0);
    return path;
}

/* The whole file; *len its size. */
static unsigned char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    unsigned char *b = malloc((size_t)st.st_size + 1);
    assert_non_null(b);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return b;
}

/* Compare two files block by block: reading 16 MiB files whole would cost
 * the sanitizers 32 MiB of fresh pages per comparison. */
static void assert_same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    static unsigned char ba[65536], bb[65536];
    size_t off = 0;
    for (;;) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na) != 0)
            fail_msg("'%s' and '%s' differ in the %zu bytes from offset %zu", a, b,
                     na > nb ? na : nb, off);
        if (na == 0)
            break;
        off += na;
    }
    fclose(fa);
    fclose(fb);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* Compress src into dst, which must then hold out_size bytes. */
static void compress_ok(enum comp_kind kind, const char *src, const char *dst,
                        const struct comp_opts *opts)
{
    struct cel_err err = {0};
    uint64_t size = 12345;
    int rc = comp_compress_file(kind, src, dst, opts, &size, &err);
    if (rc != 0)
        fail_msg("compress %s '%s': %d %s", comp_name(kind), src, rc, err.msg);
    assert_int_equal(size, (uint64_t)file_size(dst));
}

/* Decompress src into the new file dst; returns comp_decompress_to_fd's result. */
static int decompress_to_file(enum comp_kind kind, const char *src, const char *dst,
                              const struct comp_opts *opts, uint64_t *bytes, struct cel_err *err)
{
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    int rc = comp_decompress_to_fd(kind, src, fd, opts, bytes, err);
    assert_int_equal(close(fd), 0);
    return rc;
}

static void decompress_ok(enum comp_kind kind, const char *src, const char *dst,
                          const struct comp_opts *opts)
{
    struct cel_err err = {0};
    uint64_t bytes = 12345;
    int rc = decompress_to_file(kind, src, dst, opts, &bytes, &err);
    if (rc != 0)
        fail_msg("decompress %s '%s': %d %s", comp_name(kind), src, rc, err.msg);
    assert_int_equal(bytes, (uint64_t)file_size(dst));
}

/* Decompressing path (of kind) must fail with -CEL_E_FORMAT and the message
 * "invalid <kind> data in '<path>': <why>"; nothing may be left claimed. */
static void assert_bad_data(enum comp_kind kind, const char *path, const char *why)
{
    struct cel_err err = {0};
    uint64_t bytes = 0;
    int rc = decompress_to_file(kind, path, P("out"), NULL, &bytes, &err);
    char want[4600];
    snprintf(want, sizeof want, "invalid %s data in '%s': %s", comp_name(kind), path, why);
    if (rc != -CEL_E_FORMAT || strcmp(err.msg, want) != 0)
        fail_msg("%s: got %d '%s', expected '%s'", comp_name(kind), rc, err.msg, want);
    assert_int_equal(err.code, CEL_E_FORMAT);
    assert_int_equal(bytes, 0);
    /* comp_same_content meets the same error */
    bool same = true;
    memset(&err, 0, sizeof err);
    assert_int_equal(comp_same_content(kind, path, P("out"), NULL, &same, &err), -CEL_E_FORMAT);
    assert_false(same);
}

/* Fail unless the program is installed: the tests need it, `make deps`
 * installs it. */
static void require_tool(const char *tool)
{
    char var[128];
    snprintf(var, sizeof var, "TOOL=%s", tool);
    const char *const env[] = {var, NULL};
    struct proc_result res;
    assert_int_equal(
        proc_run_shell("command -v \"$TOOL\"", &(struct proc_opts){.env = env}, &res, NULL), 0);
    int status = res.status;
    proc_result_free(&res);
    if (status != 0)
        fail_msg("'%s' is not installed: it comes with the Debian package '%s', which "
                 "`make deps` installs (scripts/deps.sh)",
                 tool, tool);
}

/* Run "tool args" with stdin from in and stdout to out; it must exit 0. */
static void run_tool(const char *command, const char *in, const char *out)
{
    struct proc_result res;
    struct cel_err err = {0};
    int rc = proc_run_shell(
        command,
        &(struct proc_opts){
            .stdin_path = in, .out_mode = PROC_FILE, .out_path = out, .timeout_ms = 20000},
        &res, &err);
    if (rc != 0 || res.status != 0)
        fail_msg("'%s' < '%s': rc %d status %d: %s %s", command, in, rc, res.status, err.msg,
                 res.err ? res.err : "");
    proc_result_free(&res);
}

static void append_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

/* Overwrite the byte at offset (from the end when negative) with its
 * complement. */
static void flip_byte(const char *path, off_t offset)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    if (offset < 0)
        offset += file_size(path);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, offset), 1);
    c = (unsigned char)~c;
    assert_int_equal(pwrite(fd, &c, 1, offset), 1);
    assert_int_equal(close(fd), 0);
}

static void copy_prefix(const char *from, const char *to, size_t len)
{
    size_t n;
    unsigned char *b = slurp(from, &n);
    assert_true(len <= n);
    write_bytes(to, b, len);
    free(b);
}

static void concat(const char *a, const char *b, const char *to)
{
    size_t la, lb;
    unsigned char *da = slurp(a, &la), *db = slurp(b, &lb);
    unsigned char *all = malloc(la + lb + 1);
    memcpy(all, da, la);
    memcpy(all + la, db, lb);
    write_bytes(to, all, la + lb);
    free(all);
    free(da);
    free(db);
}

/* ---- round trips ------------------------------------------------------------ */

static void roundtrip(enum comp_kind kind)
{
    const struct comp_opts *o = opts_for(kind);
    static const struct {
        const char *name;
        size_t size; /* a WAL-like file of this size; SIZE_MAX: the text */
    } inputs[] = {{"empty", 0}, {"text", SIZE_MAX}, {"segment", 16 * MIB}};
    for (size_t i = 0; i < CEL_ARRAY_LEN(inputs); i++) {
        const char *plain =
            inputs[i].size == SIZE_MAX
                ? W(inputs[i].name,
                    "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
                    "CHECKPOINT LOCATION: 0/2000060\nBACKUP METHOD: streamed\n")
                : write_wal(inputs[i].name, inputs[i].size, 42 + i);
        const char *packed = P("packed");
        const char *back = P("back");
        compress_ok(kind, plain, packed, o);
        decompress_ok(kind, packed, back, o);
        assert_same_file(plain, back);

        struct stat st;
        assert_int_equal(stat(packed, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        if (kind != COMP_NONE && inputs[i].size == 16 * MIB)
            assert_true(st.st_size < 8 * MIB); /* it did compress */

        enum comp_kind seen = COMP_CUSTOM;
        assert_int_equal(comp_detect_file(packed, o, &seen, NULL), 0);
        assert_int_equal(seen, kind);

        /* comparing would decompress the segment a second time: the
         * same_content tests compare a file of more than one chunk */
        if (inputs[i].size == 16 * MIB)
            continue;
        bool same = false;
        struct cel_err err = {0};
        assert_int_equal(comp_same_content(kind, packed, plain, o, &same, &err), 0);
        assert_true(same);
    }
}

static void test_comp_roundtrip_none(void **state)
{
    (void)state;
    roundtrip(COMP_NONE);
}

static void test_comp_roundtrip_gzip(void **state)
{
    (void)state;
    roundtrip(COMP_GZIP);
}

static void test_comp_roundtrip_bzip2(void **state)
{
    (void)state;
    roundtrip(COMP_BZIP2);
}

static void test_comp_roundtrip_zstd(void **state)
{
    (void)state;
    roundtrip(COMP_ZSTD);
}

static void test_comp_roundtrip_lz4(void **state)
{
    (void)state;
    roundtrip(COMP_LZ4);
}

static void test_comp_roundtrip_custom(void **state)
{
    (void)state;
    require_tool("gzip");
    roundtrip(COMP_CUSTOM);
}

static void test_comp_compress_levels(void **state)
{
    (void)state;
    const char *plain = write_wal("seg", 256 * 1024, 7);
    static const struct {
        enum comp_kind kind;
        int low, high;
    } levels[] = {{COMP_GZIP, 1, 9}, {COMP_BZIP2, 1, 9}, {COMP_ZSTD, 1, 19}, {COMP_LZ4, 1, 12}};
    for (size_t i = 0; i < CEL_ARRAY_LEN(levels); i++) {
        compress_ok(levels[i].kind, plain, P("low"), &(struct comp_opts){.level = levels[i].low});
        compress_ok(levels[i].kind, plain, P("high"), &(struct comp_opts){.level = levels[i].high});
        if (levels[i].kind != COMP_BZIP2) /* bzip2 levels are block sizes: no gain here */
            assert_true(file_size(P("high")) < file_size(P("low")));
        decompress_ok(levels[i].kind, P("high"), P("back"), NULL);
        assert_same_file(plain, P("back"));
    }
}

static void test_comp_compress_level_out_of_range(void **state)
{
    (void)state;
    const char *plain = W("plain", "x");
    const char *dst = P("dst");
    static const struct {
        enum comp_kind kind;
        int level;
        const char *msg;
    } bad[] = {
        {COMP_GZIP, 10, "invalid gzip compression level 10: expected 1 to 9"},
        {COMP_BZIP2, -1, "invalid bzip2 compression level -1: expected 1 to 9"},
        {COMP_ZSTD, 23, "invalid zstd compression level 23: expected 1 to 22"},
        {COMP_LZ4, 13, "invalid lz4 compression level 13: expected 1 to 12"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(bad); i++) {
        struct cel_err err = {0};
        assert_int_equal(comp_compress_file(bad[i].kind, plain, dst,
                                            &(struct comp_opts){.level = bad[i].level}, NULL, &err),
                         -CEL_E_INVALID);
        assert_string_equal(err.msg, bad[i].msg);
        assert_false(exists(dst));
    }
}

/* ---- the command-line tools ---------------------------------------------------- */

static const struct {
    enum comp_kind kind;
    const char *tool, *compress, *decompress;
} tools[] = {
    {COMP_GZIP, "gzip", "gzip -c", "gzip -dc"},
    {COMP_BZIP2, "bzip2", "bzip2 -c", "bzip2 -dc"},
    {COMP_ZSTD, "zstd", "zstd -q -c", "zstd -q -dc"},
    {COMP_LZ4, "lz4", "lz4 -q -c", "lz4 -q -dc"},
};

/* Our files read by the tool, the tool's files read by us: a segment of
 * just over 1 MiB (more than one of our chunks) and an empty file. */
static void tool_compat(enum comp_kind kind)
{
    size_t t = 0;
    while (tools[t].kind != kind)
        t++;
    require_tool(tools[t].tool);
    const char *plains[] = {write_wal("seg", MIB + 4096 + 17, 99), W("empty", "")};
    for (size_t i = 0; i < CEL_ARRAY_LEN(plains); i++) {
        compress_ok(kind, plains[i], P("ours"), NULL);
        run_tool(tools[t].decompress, P("ours"), P("by-tool"));
        assert_same_file(plains[i], P("by-tool"));

        run_tool(tools[t].compress, plains[i], P("theirs"));
        decompress_ok(kind, P("theirs"), P("by-us"), NULL);
        assert_same_file(plains[i], P("by-us"));
        enum comp_kind seen = COMP_NONE;
        assert_int_equal(comp_detect_file(P("theirs"), NULL, &seen, NULL), 0);
        assert_int_equal(seen, kind);
        bool same = false;
        assert_int_equal(comp_same_content(kind, P("theirs"), plains[i], NULL, &same, NULL), 0);
        assert_true(same);
    }
}

static void test_comp_tool_compat_gzip(void **state)
{
    (void)state;
    tool_compat(COMP_GZIP);
}

static void test_comp_tool_compat_bzip2(void **state)
{
    (void)state;
    tool_compat(COMP_BZIP2);
}

static void test_comp_tool_compat_zstd(void **state)
{
    (void)state;
    tool_compat(COMP_ZSTD);
}

static void test_comp_tool_compat_lz4(void **state)
{
    (void)state;
    tool_compat(COMP_LZ4);
}

/* ---- strict decompression ------------------------------------------------------ */

static void test_comp_decompress_truncated(void **state)
{
    (void)state;
    const char *plain = write_wal("seg", MIB + 5, 3);
    const char *cut = P("cut");
    for (size_t k = 0; k < CEL_ARRAY_LEN(builtin); k++) {
        compress_ok(builtin[k], plain, P("packed"), NULL);
        size_t size = (size_t)file_size(P("packed"));
        const size_t cuts[] = {0, 1, 3, 12, size / 2, size - 4, size - 1};
        for (size_t c = 0; c < CEL_ARRAY_LEN(cuts); c++) {
            copy_prefix(P("packed"), "cut", cuts[c]);
            assert_bad_data(builtin[k], cut, "unexpected end of file");
        }
    }
}

static void test_comp_decompress_corrupt_checksums(void **state)
{
    (void)state;
    const char *plain = write_wal("seg", 64 * 1024, 4);
    const char *packed = P("packed");
    /* the stored checksum of the content no longer matches */
    compress_ok(COMP_GZIP, plain, packed, NULL);
    flip_byte(packed, -8); /* CRC-32, then the size */
    assert_bad_data(COMP_GZIP, packed, "incorrect data check");
    compress_ok(COMP_GZIP, plain, packed, NULL);
    flip_byte(packed, -1);
    assert_bad_data(COMP_GZIP, packed, "incorrect length check");
    compress_ok(COMP_ZSTD, plain, packed, NULL);
    flip_byte(packed, -1); /* XXH64 checksum */
    assert_bad_data(COMP_ZSTD, packed, "restored data doesn't match checksum");
    compress_ok(COMP_LZ4, plain, packed, NULL);
    flip_byte(packed, -1); /* content checksum */
    assert_bad_data(COMP_LZ4, packed, "content checksum mismatch");
    compress_ok(COMP_BZIP2, plain, packed, NULL);
    flip_byte(packed, -3); /* combined stream CRC */
    assert_bad_data(COMP_BZIP2, packed, "corrupt data (checksum or block error)");
}

static void test_comp_decompress_corrupt_headers(void **state)
{
    (void)state;
    /* a plain file given as compressed: the magic is wrong */
    const char *plain = W("plain", "this is not compressed at all, not even a little\n");
    assert_bad_data(COMP_GZIP, plain, "incorrect header check");
    assert_bad_data(COMP_BZIP2, plain, "not a bzip2 stream (bad magic)");
    assert_bad_data(COMP_ZSTD, plain, "unknown frame descriptor");
    assert_bad_data(COMP_LZ4, plain, "unknown frame type (bad magic)");
    /* gzip's compression method byte */
    const char *packed = P("packed");
    compress_ok(COMP_GZIP, plain, packed, NULL);
    flip_byte(packed, 2);
    assert_bad_data(COMP_GZIP, packed, "unknown compression method");
    /* lz4's frame header checksum: after the magic, FLG, BD and the
     * content size */
    compress_ok(COMP_LZ4, plain, packed, NULL);
    flip_byte(packed, 4 + 2 + 8);
    assert_bad_data(COMP_LZ4, packed, "frame header checksum mismatch");
}

static void test_comp_decompress_corrupt_middle(void **state)
{
    (void)state;
    /* damage in the compressed body: the reason depends on what the byte
     * was, the code and the start of the message do not */
    const char *plain = write_wal("seg", 256 * 1024, 5);
    const char *packed = P("packed");
    for (size_t k = 0; k < CEL_ARRAY_LEN(builtin); k++) {
        compress_ok(builtin[k], plain, packed, NULL);
        for (int i = 1; i <= 3; i++) {
            flip_byte(packed, file_size(packed) * i / 4);
            struct cel_err err = {0};
            assert_int_equal(decompress_to_file(builtin[k], packed, P("out"), NULL, NULL, &err),
                             -CEL_E_FORMAT);
            char want[4400];
            snprintf(want, sizeof want, "invalid %s data in '%s': ", comp_name(builtin[k]), packed);
            if (!cel_str_starts(err.msg, want))
                fail_msg("%s: '%s'", comp_name(builtin[k]), err.msg);
        }
    }
}

static void test_comp_decompress_trailing_garbage(void **state)
{
    (void)state;
    const char *plain = write_wal("seg", 300000, 6);
    const char *packed = P("packed");
    static const struct {
        const char *bytes;
        size_t len;
    } tails[] = {
        {"garbage", 7},
        {"\0\0\0\0\0\0\0\0", 8}, /* zero padding, which gzip -d would let pass */
        {"\x1f", 1},             /* shorter than any magic */
        {"\x1f\x8b\x09", 3},     /* almost a gzip member */
        {"BZh0", 4},             /* almost a bzip2 stream */
    };
    for (size_t k = 0; k < CEL_ARRAY_LEN(builtin); k++) {
        compress_ok(builtin[k], plain, P("clean"), NULL);
        off_t size = file_size(P("clean"));
        for (size_t t = 0; t < CEL_ARRAY_LEN(tails); t++) {
            copy_prefix(P("clean"), "packed", (size_t)size);
            append_bytes(packed, tails[t].bytes, tails[t].len);
            char why[200];
            snprintf(why, sizeof why,
                     "unexpected data after the end of the compressed data at offset %lld",
                     (long long)size);
            assert_bad_data(builtin[k], packed, why);
        }
    }
}

static void test_comp_decompress_concatenated_streams(void **state)
{
    (void)state;
    /* gzip members, bzip2 streams, zstd and lz4 frames one after the other
     * read as the concatenation of their contents, as the tools read them */
    const char *a = write_wal("a", MIB + 3, 11);
    const char *b = W("b", "a second, short stream\n");
    concat(a, b, "ab");
    for (size_t k = 0; k < CEL_ARRAY_LEN(builtin); k++) {
        compress_ok(builtin[k], a, P("a.c"), NULL);
        compress_ok(builtin[k], b, P("b.c"), NULL);
        concat(P("a.c"), P("b.c"), "ab.c");
        decompress_ok(builtin[k], P("ab.c"), P("back"), NULL);
        assert_same_file(P("ab"), P("back"));
        bool same = false;
        assert_int_equal(comp_same_content(builtin[k], P("ab.c"), P("ab"), NULL, &same, NULL), 0);
        assert_true(same);
        /* the second stream cut short */
        copy_prefix(P("ab.c"), "cut", (size_t)file_size(P("ab.c")) - 2);
        assert_bad_data(builtin[k], P("cut"), "unexpected end of file");
    }
}

static void test_comp_decompress_skippable_frames(void **state)
{
    (void)state;
    /* zstd and lz4 frames may be followed by skippable frames (magic
     * 0x184D2A5?, a 32-bit length, that many bytes), which hold no data */
    static const unsigned char skip[] = {0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'x', 'y', 'z'};
    const char *plain = write_wal("seg", 100000, 12);
    const char *packed = P("packed");
    enum comp_kind kinds[] = {COMP_ZSTD, COMP_LZ4};
    for (size_t k = 0; k < CEL_ARRAY_LEN(kinds); k++) {
        compress_ok(kinds[k], plain, packed, NULL);
        append_bytes(packed, skip, sizeof skip);
        decompress_ok(kinds[k], packed, P("back"), NULL);
        assert_same_file(plain, P("back"));
    }
}

/* ---- comparing with a plain file -------------------------------------------------- */

static void same_content(enum comp_kind kind)
{
    const struct comp_opts *o = opts_for(kind);
    size_t size = MIB + 100; /* two chunks, a short last one */
    unsigned char *data = wal_like(size, 21);
    const char *plain = write_bytes("plain", data, size);
    const char *packed = P("packed");
    compress_ok(kind, plain, packed, o);
    struct cel_err err = {0};
    bool same = false;
    assert_int_equal(comp_same_content(kind, packed, plain, o, &same, &err), 0);
    assert_true(same);

    /* the last byte differs */
    data[size - 1] ^= 1;
    write_bytes("other", data, size);
    same = true;
    assert_int_equal(comp_same_content(kind, packed, P("other"), o, &same, &err), 0);
    assert_false(same);
    /* the first byte differs */
    data[size - 1] ^= 1;
    data[0] ^= 0x80;
    write_bytes("other", data, size);
    same = true;
    assert_int_equal(comp_same_content(kind, packed, P("other"), o, &same, &err), 0);
    assert_false(same);
    data[0] ^= 0x80;
    /* one byte longer, one byte shorter, empty */
    write_bytes("other", data, size - 1);
    same = true;
    assert_int_equal(comp_same_content(kind, packed, P("other"), o, &same, &err), 0);
    assert_false(same);
    write_bytes("other", data, size);
    append_bytes(P("other"), "\0", 1);
    same = true;
    assert_int_equal(comp_same_content(kind, packed, P("other"), o, &same, &err), 0);
    assert_false(same);
    write_bytes("other", data, 0);
    same = true;
    assert_int_equal(comp_same_content(kind, packed, P("other"), o, &same, &err), 0);
    assert_false(same);
    /* an empty archived file against empty and non-empty plain files */
    compress_ok(kind, P("other"), packed, o);
    assert_int_equal(comp_same_content(kind, packed, P("other"), o, &same, &err), 0);
    assert_true(same);
    assert_int_equal(comp_same_content(kind, packed, plain, o, &same, &err), 0);
    assert_false(same);
    /* nothing was written next to them */
    assert_int_equal(unit_count_entries(unit_tmp), 3);
    free(data);
}

static void test_comp_same_content_none(void **state)
{
    (void)state;
    same_content(COMP_NONE);
}

static void test_comp_same_content_gzip(void **state)
{
    (void)state;
    same_content(COMP_GZIP);
}

static void test_comp_same_content_bzip2(void **state)
{
    (void)state;
    same_content(COMP_BZIP2);
}

static void test_comp_same_content_zstd(void **state)
{
    (void)state;
    same_content(COMP_ZSTD);
}

static void test_comp_same_content_lz4(void **state)
{
    (void)state;
    same_content(COMP_LZ4);
}

static void test_comp_same_content_custom(void **state)
{
    (void)state;
    require_tool("gzip");
    same_content(COMP_CUSTOM);
}

static void test_comp_same_content_missing_files(void **state)
{
    (void)state;
    const char *plain = W("plain", "data\n");
    compress_ok(COMP_GZIP, plain, P("packed"), NULL);
    struct cel_err err = {0};
    bool same = true;
    char want[4400];
    assert_int_equal(comp_same_content(COMP_GZIP, P("packed"), P("nope"), NULL, &same, &err),
                     -CEL_E_IO);
    snprintf(want, sizeof want, "cannot open '%s': No such file or directory", P("nope"));
    assert_string_equal(err.msg, want);
    assert_false(same);
    assert_int_equal(comp_same_content(COMP_GZIP, P("nope"), plain, NULL, &same, &err), -CEL_E_IO);
    assert_string_equal(err.msg, want);
}

/* ---- detection ---------------------------------------------------------------- */

static void test_comp_detect_magics(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        enum comp_kind kind;
    } cases[] = {
        {"\x1f\x8b\x08\x00", 4, COMP_GZIP},
        {"\x1f\x8b\x08", 3, COMP_GZIP},
        {"\x1f\x8b", 2, COMP_NONE},         /* too short */
        {"\x1f\x8b\x07\x00", 4, COMP_NONE}, /* not deflate */
        {"BZh91AY&SY", 10, COMP_BZIP2},
        {"BZh", 3, COMP_BZIP2},
        {"BZ", 2, COMP_NONE},
        {"\x28\xb5\x2f\xfd\x24", 5, COMP_ZSTD},
        {"\x28\xb5\x2f", 3, COMP_NONE},
        {"\x04\x22\x4d\x18\x64", 5, COMP_LZ4},
        {"\x04\x22\x4d", 3, COMP_NONE},
        {"\x10\xd1\x05\x00", 4, COMP_NONE}, /* a WAL page */
        {"", 0, COMP_NONE},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        const unsigned char *b = (const unsigned char *)cases[i].bytes;
        if (comp_detect(b, cases[i].len, NULL) != cases[i].kind)
            fail_msg("case %zu: %s", i, comp_name(comp_detect(b, cases[i].len, NULL)));
    }
    /* a custom magic is checked first, and only when long enough */
    struct comp_opts o = {.custom_magic = gzip_magic, .custom_magic_len = 3};
    assert_int_equal(comp_detect((const unsigned char *)"\x1f\x8b\x08\x00", 4, &o), COMP_CUSTOM);
    assert_int_equal(comp_detect((const unsigned char *)"BZh9", 4, &o), COMP_BZIP2);
    static const unsigned char long_magic[16] = {'C', 'E', 'L', 'L', 'A', 'R', 0, 1,
                                                 2,   3,   4,   5,   6,   7,   8, 9};
    o.custom_magic = long_magic;
    o.custom_magic_len = sizeof long_magic;
    assert_int_equal(comp_detect(long_magic, 16, &o), COMP_CUSTOM);
    assert_int_equal(comp_detect(long_magic, 15, &o), COMP_NONE);
    o.custom_magic_len = 0; /* no magic configured */
    assert_int_equal(comp_detect(long_magic, 16, &o), COMP_NONE);
}

static void test_comp_detect_file(void **state)
{
    (void)state;
    const char *plain = write_wal("seg", 70000, 8);
    enum comp_kind seen;
    for (size_t k = 0; k < CEL_ARRAY_LEN(builtin); k++) {
        compress_ok(builtin[k], plain, P("packed"), NULL);
        seen = COMP_NONE;
        assert_int_equal(comp_detect_file(P("packed"), NULL, &seen, NULL), 0);
        assert_int_equal(seen, builtin[k]);
    }
    seen = COMP_GZIP;
    assert_int_equal(comp_detect_file(plain, NULL, &seen, NULL), 0);
    assert_int_equal(seen, COMP_NONE);
    seen = COMP_GZIP;
    assert_int_equal(comp_detect_file(W("empty", ""), NULL, &seen, NULL), 0);
    assert_int_equal(seen, COMP_NONE);
    seen = COMP_GZIP;
    assert_int_equal(comp_detect_file(W("short", "BZ"), NULL, &seen, NULL), 0);
    assert_int_equal(seen, COMP_NONE);

    struct cel_err err = {0};
    assert_int_equal(comp_detect_file(P("nope"), NULL, &seen, &err), -CEL_E_IO);
    char want[4400];
    snprintf(want, sizeof want, "cannot open '%s': No such file or directory", P("nope"));
    assert_string_equal(err.msg, want);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_int_equal(comp_detect_file(unit_tmp, NULL, &seen, &err), -CEL_E_IO);
    snprintf(want, sizeof want, "cannot read '%s': Is a directory", unit_tmp);
    assert_string_equal(err.msg, want);
}

/* ---- custom filters ------------------------------------------------------------ */

static void test_comp_custom_output_is_the_filters(void **state)
{
    (void)state;
    require_tool("gzip");
    /* what the filter wrote is the archived file: gzip reads it */
    const char *plain = write_wal("seg", 500000, 13);
    compress_ok(COMP_CUSTOM, plain, P("packed"), &custom_opts);
    run_tool("gzip -dc", P("packed"), P("back"));
    assert_same_file(plain, P("back"));
    /* and without the custom magic, it is simply gzip */
    enum comp_kind seen;
    assert_int_equal(comp_detect_file(P("packed"), NULL, &seen, NULL), 0);
    assert_int_equal(seen, COMP_GZIP);
}

static void test_comp_custom_env_and_path_prefix(void **state)
{
    (void)state;
    require_tool("gzip");
    unit_mkdir("bin");
    const char *script = W("bin/walpack", "#!/bin/sh\nexec gzip -c -\"$WALPACK_LEVEL\"\n");
    assert_int_equal(chmod(script, 0700), 0);
    char prefix[4400];
    snprintf(prefix, sizeof prefix, "%s/bin", unit_tmp);
    const char *const env[] = {"WALPACK_LEVEL=1", NULL};
    struct comp_opts o = custom_opts;
    o.custom_compress = "walpack";
    o.path_prefix = prefix;
    o.env = env;
    const char *plain = write_wal("seg", 200000, 14);
    compress_ok(COMP_CUSTOM, plain, P("packed"), &o);
    decompress_ok(COMP_CUSTOM, P("packed"), P("back"), &o);
    assert_same_file(plain, P("back"));
    /* level 1 shows in the gzip header's extra flags (4: fastest) */
    size_t n;
    unsigned char *b = slurp(P("packed"), &n);
    assert_int_equal(b[8], 4);
    free(b);
}

static void test_comp_custom_failing_filters(void **state)
{
    (void)state;
    const char *plain = W("plain", "some WAL\n");
    const char *dst = P("dst");
    char want[4600];
    static const struct {
        const char *command, *how;
    } cases[] = {
        {"false", "exited with status 1"},
        {"echo 'walpack: no space left on device' >&2; exit 3",
         "exited with status 3: walpack: no space left on device"},
        {"cat; printf 'line one\\r\\nline two\\n\\n' >&2; exit 2",
         "exited with status 2: line one; line two"},
        {"kill -9 $$", "killed by signal 9 (Killed)"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        /* an old dst is gone too: the failed output replaced it */
        W("dst", "an older file");
        struct cel_err err = {0};
        struct comp_opts o = custom_opts;
        o.custom_compress = cases[i].command;
        uint64_t size = 99;
        assert_int_equal(comp_compress_file(COMP_CUSTOM, plain, dst, &o, &size, &err), -CEL_E_PROC);
        snprintf(want, sizeof want, "custom compression filter '%s' failed on '%s': %s",
                 cases[i].command, plain, cases[i].how);
        assert_string_equal(err.msg, want);
        assert_int_equal(size, 0);
        assert_false(exists(dst));

        o.custom_decompress = cases[i].command;
        uint64_t bytes = 99;
        assert_int_equal(decompress_to_file(COMP_CUSTOM, plain, P("out"), &o, &bytes, &err),
                         -CEL_E_PROC);
        snprintf(want, sizeof want, "custom decompression filter '%s' failed on '%s': %s",
                 cases[i].command, plain, cases[i].how);
        assert_string_equal(err.msg, want);
        assert_int_equal(bytes, 0);
        bool same = true;
        assert_int_equal(comp_same_content(COMP_CUSTOM, plain, plain, &o, &same, &err),
                         -CEL_E_PROC);
        assert_string_equal(err.msg, want);
        assert_false(same);
    }
}

static void test_comp_custom_gzip_refuses_bad_input(void **state)
{
    (void)state;
    require_tool("gzip");
    const char *plain = W("plain", "not gzip\n");
    struct cel_err err = {0};
    assert_int_equal(decompress_to_file(COMP_CUSTOM, plain, P("out"), &custom_opts, NULL, &err),
                     -CEL_E_PROC);
    char want[4600];
    snprintf(want, sizeof want,
             "custom decompression filter 'gzip -dc' failed on '%s': exited with status 1: "
             "gzip: stdin: not in gzip format",
             plain);
    assert_string_equal(err.msg, want);
}

static void test_comp_custom_timeout(void **state)
{
    (void)state;
    const char *plain = W("plain", "x");
    struct comp_opts o = custom_opts;
    o.custom_compress = "sleep 5";
    o.timeout_ms = 200;
    struct cel_err err = {0};
    assert_int_equal(comp_compress_file(COMP_CUSTOM, plain, P("dst"), &o, NULL, &err),
                     -CEL_E_TIMEOUT);
    char want[4600];
    snprintf(want, sizeof want,
             "custom compression filter failed on '%s': 'sleep 5' timed out after 0.2 s", plain);
    assert_string_equal(err.msg, want);
    assert_false(exists(P("dst")));
}

static void test_comp_custom_needs_filters(void **state)
{
    (void)state;
    const char *plain = W("plain", "x");
    struct cel_err err = {0};
    struct comp_opts o = {.custom_decompress = "gzip -dc"};
    assert_int_equal(comp_compress_file(COMP_CUSTOM, plain, P("dst"), &o, NULL, &err),
                     -CEL_E_CONFIG);
    assert_string_equal(err.msg, "compression 'custom' needs custom_compression_filter");
    o = (struct comp_opts){.custom_compress = "gzip -c", .custom_decompress = ""};
    assert_int_equal(comp_decompress_to_fd(COMP_CUSTOM, plain, 1, &o, NULL, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "compression 'custom' needs custom_decompression_filter");
    bool same = true;
    assert_int_equal(comp_same_content(COMP_CUSTOM, plain, plain, NULL, &same, &err),
                     -CEL_E_CONFIG);
    assert_false(same);
    assert_false(exists(P("dst")));
}

/* ---- output files ------------------------------------------------------------- */

static void test_comp_compress_fsyncs_close_on_exec(void **state)
{
    (void)state;
    const char *plain = write_wal("seg", 100000, 15);
    for (int k = COMP_NONE; k <= COMP_LZ4; k++) {
        fsync_calls = fsync_without_cloexec = 0;
        compress_ok((enum comp_kind)k, plain, P("dst"), NULL);
        assert_int_equal(fsync_calls, 1);
        assert_int_equal(fsync_without_cloexec, 0);
    }
    require_tool("gzip");
    fsync_calls = fsync_without_cloexec = 0;
    compress_ok(COMP_CUSTOM, plain, P("dst"), &custom_opts);
    assert_int_equal(fsync_calls, 1);
    assert_int_equal(fsync_without_cloexec, 0);
}

static void test_comp_compress_replaces_dst_not_its_links(void **state)
{
    (void)state;
    /* an existing dst is replaced by a new 0600 file; another name of the
     * old file keeps its content */
    const char *plain = write_wal("seg", 100000, 16);
    for (int k = COMP_NONE; k <= COMP_CUSTOM; k++) {
        const char *dst = W("dst", "old content");
        assert_int_equal(chmod(dst, 0644), 0);
        unlink(P("other-name"));
        assert_int_equal(link(dst, P("other-name")), 0);
        compress_ok((enum comp_kind)k, plain, dst, opts_for((enum comp_kind)k));
        struct stat st;
        assert_int_equal(stat(dst, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(st.st_nlink, 1);
        char *old = unit_read(P("other-name"));
        assert_string_equal(old, "old content");
        free(old);
    }
}

static void test_comp_compress_failure_removes_dst(void **state)
{
    (void)state;
    /* src is a directory: it opens, then cannot be read */
    unit_mkdir("src");
    const char *src = P("src");
    const char *dst = P("dst");
    char want[4600];
    snprintf(want, sizeof want, "cannot read '%s': Is a directory", src);
    for (int k = COMP_NONE; k <= COMP_LZ4; k++) {
        W("dst", "an older file");
        struct cel_err err = {0};
        uint64_t size = 5;
        assert_int_equal(comp_compress_file((enum comp_kind)k, src, dst, NULL, &size, &err),
                         -CEL_E_IO);
        assert_string_equal(err.msg, want);
        assert_int_equal(err.sys_errno, EISDIR);
        assert_int_equal(size, 0);
        assert_false(exists(dst));
    }
}

static void test_comp_compress_missing_src_leaves_dst(void **state)
{
    (void)state;
    /* nothing was started: dst is not touched */
    const char *dst = W("dst", "keep me");
    char want[4600];
    snprintf(want, sizeof want, "cannot open '%s': No such file or directory", P("nope"));
    for (int k = COMP_NONE; k <= COMP_CUSTOM; k++) {
        struct cel_err err = {0};
        assert_int_equal(comp_compress_file((enum comp_kind)k, P("nope"), dst,
                                            opts_for((enum comp_kind)k), NULL, &err),
                         -CEL_E_IO);
        assert_string_equal(err.msg, want);
        assert_int_equal(err.sys_errno, ENOENT);
    }
    char *text = unit_read(dst);
    assert_string_equal(text, "keep me");
    free(text);
}

static void test_comp_compress_into_itself_refused(void **state)
{
    (void)state;
    const char *path = W("f", "precious");
    assert_int_equal(link(path, P("g")), 0);
    struct cel_err err = {0};
    assert_int_equal(comp_compress_file(COMP_GZIP, path, P("g"), NULL, NULL, &err), -CEL_E_IO);
    char want[4600];
    snprintf(want, sizeof want, "cannot compress '%s' into itself ('%s')", path, P("g"));
    assert_string_equal(err.msg, want);
    char *text = unit_read(path);
    assert_string_equal(text, "precious");
    free(text);
}

static void test_comp_compress_dst_dir_missing(void **state)
{
    (void)state;
    const char *plain = W("plain", "x");
    struct cel_err err = {0};
    const char *dst = P("nodir/dst");
    assert_int_equal(comp_compress_file(COMP_ZSTD, plain, dst, NULL, NULL, &err), -CEL_E_IO);
    char want[4600];
    snprintf(want, sizeof want, "cannot create '%s': No such file or directory", dst);
    assert_string_equal(err.msg, want);
}

static void test_comp_decompress_write_failure(void **state)
{
    (void)state;
    /* the caller's descriptor refuses writes */
    const char *plain = write_wal("seg", 100000, 17);
    int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(ro >= 0);
    for (int k = COMP_NONE; k <= COMP_CUSTOM; k++) {
        if (k == COMP_CUSTOM)
            require_tool("gzip");
        const struct comp_opts *o = opts_for((enum comp_kind)k);
        compress_ok((enum comp_kind)k, plain, P("packed"), o);
        struct cel_err err = {0};
        uint64_t bytes = 7;
        assert_int_equal(comp_decompress_to_fd((enum comp_kind)k, P("packed"), ro, o, &bytes, &err),
                         -CEL_E_IO);
        char want[4600];
        snprintf(want, sizeof want,
                 "cannot write the data decompressed from '%s': Bad file descriptor", P("packed"));
        assert_string_equal(err.msg, want);
        assert_int_equal(bytes, 0);
    }
    close(ro);
}

static void test_comp_decompress_to_pipe(void **state)
{
    (void)state;
    /* a pipe as the output (restore through get-wal): copy_file_range may
     * refuse it, the plain loop takes over */
    const char *plain = W("plain", "through a pipe\n");
    for (int k = COMP_NONE; k <= COMP_LZ4; k++) {
        compress_ok((enum comp_kind)k, plain, P("packed"), NULL);
        int p[2];
        assert_int_equal(pipe(p), 0);
        uint64_t bytes = 0;
        assert_int_equal(
            comp_decompress_to_fd((enum comp_kind)k, P("packed"), p[1], NULL, &bytes, NULL), 0);
        close(p[1]);
        char buf[64] = {0};
        assert_int_equal(read(p[0], buf, sizeof buf), 15);
        close(p[0]);
        assert_string_equal(buf, "through a pipe\n");
        assert_int_equal(bytes, 15);
    }
}

static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void test_comp_no_descriptor_leaks(void **state)
{
    (void)state;
    /* success and every kind of failure give back what they opened */
    require_tool("gzip");
    const char *plain = write_wal("seg", 200000, 18);
    int before = count_open_fds();
    for (int k = COMP_NONE; k <= COMP_CUSTOM; k++) {
        const struct comp_opts *o = opts_for((enum comp_kind)k);
        bool same;
        compress_ok((enum comp_kind)k, plain, P("packed"), o);
        decompress_ok((enum comp_kind)k, P("packed"), P("back"), o);
        assert_int_equal(comp_same_content((enum comp_kind)k, P("packed"), plain, o, &same, NULL),
                         0);
        append_bytes(P("packed"), "junk", 4);
        (void)comp_same_content((enum comp_kind)k, P("packed"), plain, o, &same, NULL);
        copy_prefix(P("packed"), "cut", 10);
        (void)decompress_to_file((enum comp_kind)k, P("cut"), P("back"), o, NULL, NULL);
        (void)comp_compress_file((enum comp_kind)k, unit_tmp, P("dst"), o, NULL, NULL);
        (void)comp_compress_file((enum comp_kind)k, P("nope"), P("dst"), o, NULL, NULL);
        enum comp_kind seen;
        (void)comp_detect_file(P("packed"), o, &seen, NULL);
    }
    assert_int_equal(count_open_fds(), before);
}

/* ---- names and magic ------------------------------------------------------------- */

static void test_comp_parse_name(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum comp_kind kind;
    } good[] = {
        {"gzip", COMP_GZIP},   {"pigz", COMP_GZIP},     {"pygzip", COMP_GZIP},
        {"bzip2", COMP_BZIP2}, {"pybzip2", COMP_BZIP2}, {"zstd", COMP_ZSTD},
        {"lz4", COMP_LZ4},     {"custom", COMP_CUSTOM}, {"None", COMP_NONE},
        {"", COMP_NONE},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(good); i++) {
        enum comp_kind k = COMP_CUSTOM;
        if (good[i].kind == COMP_CUSTOM)
            k = COMP_NONE;
        assert_int_equal(comp_parse_name(good[i].name, &k, NULL), 0);
        assert_int_equal(k, good[i].kind);
    }
    const char *bad[] = {"xz", "GZIP", "none", "gzip ", "bz2"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(bad); i++) {
        struct cel_err err = {0};
        enum comp_kind k = COMP_LZ4;
        assert_int_equal(comp_parse_name(bad[i], &k, &err), -CEL_E_INVALID);
        char want[300];
        snprintf(want, sizeof want,
                 "unknown compression '%s': expected gzip, pigz, pygzip, bzip2, pybzip2, zstd, "
                 "lz4, custom or None",
                 bad[i]);
        assert_string_equal(err.msg, want);
        assert_int_equal(k, COMP_LZ4);
    }
}

static void test_comp_name(void **state)
{
    (void)state;
    assert_string_equal(comp_name(COMP_NONE), "none");
    assert_string_equal(comp_name(COMP_GZIP), "gzip");
    assert_string_equal(comp_name(COMP_BZIP2), "bzip2");
    assert_string_equal(comp_name(COMP_ZSTD), "zstd");
    assert_string_equal(comp_name(COMP_LZ4), "lz4");
    assert_string_equal(comp_name(COMP_CUSTOM), "custom");
    assert_string_equal(comp_name((enum comp_kind)42), "unknown");
    /* every name but none's reads back as its kind */
    for (int k = COMP_GZIP; k <= COMP_CUSTOM; k++) {
        enum comp_kind back;
        assert_int_equal(comp_parse_name(comp_name((enum comp_kind)k), &back, NULL), 0);
        assert_int_equal(back, k);
    }
    struct cel_err err = {0};
    assert_int_equal(comp_compress_file((enum comp_kind)42, "a", "b", NULL, NULL, &err),
                     -CEL_E_INTERNAL);
    assert_string_equal(err.msg, "unknown compression kind 42");
}

static void test_comp_parse_magic(void **state)
{
    (void)state;
    unsigned char m[COMP_MAGIC_MAX];
    size_t len = 0;
    assert_int_equal(comp_parse_magic("0x28b52ffd", m, &len, NULL), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(m, "\x28\xb5\x2f\xfd", 4);
    assert_int_equal(comp_parse_magic("0X1F8B", m, &len, NULL), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(m, "\x1f\x8b", 2);
    assert_int_equal(comp_parse_magic("0x00", m, &len, NULL), 0);
    assert_int_equal(len, 1);
    assert_int_equal(m[0], 0);
    assert_int_equal(comp_parse_magic("0x000102030405060708090a0b0c0d0eFF", m, &len, NULL), 0);
    assert_int_equal(len, 16);
    assert_int_equal(m[15], 0xff);

    const char *bad[] = {"",       "0x",      "28b52ffd", "0x28b52ff",
                         "0x28g5", "0x 28b5", "x28b5",    "0x000102030405060708090a0b0c0d0e0f10"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(bad); i++) {
        struct cel_err err = {0};
        len = 9;
        assert_int_equal(comp_parse_magic(bad[i], m, &len, &err), -CEL_E_INVALID);
        char want[300];
        snprintf(want, sizeof want,
                 "invalid value '%s': expected 0x followed by 1 to 16 bytes in hexadecimal (an "
                 "even number of digits)",
                 bad[i]);
        assert_string_equal(err.msg, want);
        assert_int_equal(len, 0);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup_tmpdir, unit_teardown_tmpdir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_comp_roundtrip_none),
        T(test_comp_roundtrip_gzip),
        T(test_comp_roundtrip_bzip2),
        T(test_comp_roundtrip_zstd),
        T(test_comp_roundtrip_lz4),
        T(test_comp_roundtrip_custom),
        T(test_comp_compress_levels),
        T(test_comp_compress_level_out_of_range),
        T(test_comp_tool_compat_gzip),
        T(test_comp_tool_compat_bzip2),
        T(test_comp_tool_compat_zstd),
        T(test_comp_tool_compat_lz4),
        T(test_comp_decompress_truncated),
        T(test_comp_decompress_corrupt_checksums),
        T(test_comp_decompress_corrupt_headers),
        T(test_comp_decompress_corrupt_middle),
        T(test_comp_decompress_trailing_garbage),
        T(test_comp_decompress_concatenated_streams),
        T(test_comp_decompress_skippable_frames),
        T(test_comp_same_content_none),
        T(test_comp_same_content_gzip),
        T(test_comp_same_content_bzip2),
        T(test_comp_same_content_zstd),
        T(test_comp_same_content_lz4),
        T(test_comp_same_content_custom),
        T(test_comp_same_content_missing_files),
        T(test_comp_detect_magics),
        T(test_comp_detect_file),
        T(test_comp_custom_output_is_the_filters),
        T(test_comp_custom_env_and_path_prefix),
        T(test_comp_custom_failing_filters),
        T(test_comp_custom_gzip_refuses_bad_input),
        T(test_comp_custom_timeout),
        T(test_comp_custom_needs_filters),
        T(test_comp_compress_fsyncs_close_on_exec),
        T(test_comp_compress_replaces_dst_not_its_links),
        T(test_comp_compress_failure_removes_dst),
        T(test_comp_compress_missing_src_leaves_dst),
        T(test_comp_compress_into_itself_refused),
        T(test_comp_compress_dst_dir_missing),
        T(test_comp_decompress_write_failure),
        T(test_comp_decompress_to_pipe),
        T(test_comp_no_descriptor_leaks),
        T(test_comp_parse_name),
        T(test_comp_name),
        T(test_comp_parse_magic),
    };
    /* TEST_FILTER=test_comp_roundtrip_* runs only the tests that match */
    if (getenv("TEST_FILTER"))
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
