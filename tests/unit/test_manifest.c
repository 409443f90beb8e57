/*
 * Unit tests of src/core/catalog/manifest.c: CRC-32C and SHA-256 against published
 * vectors, the exact text of a manifest, what is listed and what is not,
 * path encoding, durable writing, errors, and the real pg_verifybackup of
 * PostgreSQL 15 accepting (and rejecting) what manifest_write produced.
 *
 * The pg_verifybackup tests use a data directory made by hand rather than
 * one made by initdb: pg_verifybackup of PostgreSQL 13 to 15 does not read
 * global/pg_control (only manifests of version 2, PostgreSQL 17, carry a
 * system identifier to check), and with -n it parses no WAL, so what it
 * checks is exactly the manifest against the files. This needs no postgres
 * OS user and no second or two of initdb per test; the tests are skipped when
 * pg_verifybackup is not installed (PG_BINDIR, default
 * /usr/lib/postgresql/15/bin).
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>

#include "manifest.h"
#include "proc.h"

/* read as seen by the code under test: fails with EIO while read_fail is
 * set, otherwise the system call itself. */
static int read_fail;

ssize_t read(int fd, void *buf, size_t len)
{
    if (read_fail) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)syscall(SYS_read, fd, buf, len);
}

/* Write len bytes to name inside the temporary directory (binary safe),
 * with modification time mtime (unless it is -1). Returns the path. */
static const char *put(const char *name, const void *data, size_t len, time_t mtime)
{
    const char *path = unit_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    if (mtime != -1) {
        struct timespec ts[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
    return path;
}

static const char *put_text(const char *name, const char *text)
{
    return put(name, text, strlen(text), -1);
}

/* The manifest written in the data directory dd (relative to the temp dir). */
static char *read_manifest(const char *dd)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/backup_manifest", unit_path(dd));
    char *text = unit_read(path);
    assert_non_null(text);
    return text;
}

static const struct manifest_wal_range one_range[] = {{1, 0x2000028, 0x2000100}};

/* ---- CRC-32C ---------------------------------------------------------- */

static void test_manifest_crc32c_known_vectors(void **state)
{
    (void)state;
    static const unsigned char zeros[32],
        ones[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    unsigned char ascending[32];
    for (int i = 0; i < 32; i++)
        ascending[i] = (unsigned char)i;
    uint32_t (*impl[2])(uint32_t, const void *, size_t) = {manifest_crc32c,
                                                           manifest_crc32c_portable};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(impl[k](0, "123456789", 9), 0xE3069283u);
        assert_int_equal(impl[k](0, "", 0), 0);
        assert_int_equal(impl[k](0x12345678u, "", 0), 0x12345678u);
        /* RFC 3720 (iSCSI), appendix B.4 */
        assert_int_equal(impl[k](0, zeros, 32), 0x8A9136AAu);
        assert_int_equal(impl[k](0, ones, 32), 0x62A8AB43u);
        assert_int_equal(impl[k](0, ascending, 32), 0x46DD794Eu);
    }
}

static void test_manifest_crc32c_incremental_equals_one_shot(void **state)
{
    (void)state;
    unsigned char buf[200];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 37 + 11);
    uint32_t whole = manifest_crc32c(0, buf, sizeof buf);
    assert_int_equal(manifest_crc32c_portable(0, buf, sizeof buf), whole);
    /* every split point, so both pieces start at every alignment */
    for (size_t cut = 0; cut <= sizeof buf; cut++) {
        uint32_t c = manifest_crc32c(0, buf, cut);
        assert_int_equal(manifest_crc32c(c, buf + cut, sizeof buf - cut), whole);
        c = manifest_crc32c_portable(0, buf, cut);
        assert_int_equal(manifest_crc32c_portable(c, buf + cut, sizeof buf - cut), whole);
    }
    /* byte by byte */
    uint32_t c = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        c = manifest_crc32c(c, buf + i, 1);
    assert_int_equal(c, whole);
}

static void test_manifest_crc32c_cpu_path_equals_portable(void **state)
{
    (void)state;
    size_t n = 1024 * 1024;
    unsigned char *buf = malloc(n + 8);
    uint32_t x = 2463534242u; /* xorshift32: reproducible noise */
    for (size_t i = 0; i < n + 8; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
    for (size_t off = 0; off < 8; off++)
        assert_int_equal(manifest_crc32c(0, buf + off, n - off),
                         manifest_crc32c_portable(0, buf + off, n - off));
    for (size_t len = 0; len < 64; len++)
        assert_int_equal(manifest_crc32c(0xdeadbeefu, buf + 3, len),
                         manifest_crc32c_portable(0xdeadbeefu, buf + 3, len));
    free(buf);
    if (!manifest_crc32c_uses_cpu())
        print_message("# no SSE4.2 crc32 instruction: both paths are the portable one\n");
}

/* ---- SHA-256 ---------------------------------------------------------- */

static void sha256_hex(const void *data, size_t len, char out[65])
{
    struct manifest_sha256 s;
    unsigned char d[32];
    manifest_sha256_init(&s);
    manifest_sha256_update(&s, data, len);
    manifest_sha256_final(&s, d);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_manifest_sha256_known_vectors(void **state)
{
    (void)state;
    char hex[65];
    sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *v448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(v448, strlen(v448), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *v896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    sha256_hex(v896, strlen(v896), hex);
    assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    sha256_hex(million, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

static void test_manifest_sha256_padding_boundaries(void **state)
{
    (void)state;
    /* lengths around the 56-byte point where the length field no longer fits */
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
        {128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
    };
    char a[128], hex[65];
    memset(a, 'a', sizeof a);
    for (size_t i = 0; i < CEL_ARRAY_LEN(v); i++) {
        sha256_hex(a, v[i].n, hex);
        assert_string_equal(hex, v[i].hex);
    }
}

static void test_manifest_sha256_incremental_across_blocks(void **state)
{
    (void)state;
    /* one million 'a's fed in pieces of odd sizes that straddle blocks */
    static const size_t pieces[] = {1, 63, 64, 65, 7, 128, 1000, 56, 9};
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    struct manifest_sha256 s;
    manifest_sha256_init(&s);
    size_t left = 1000000;
    for (size_t i = 0; left > 0; i++) {
        size_t n = pieces[i % CEL_ARRAY_LEN(pieces)];
        if (n > left)
            n = left;
        manifest_sha256_update(&s, chunk, n);
        left -= n;
    }
    unsigned char d[32];
    manifest_sha256_final(&s, d);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* ---- the manifest ----------------------------------------------------- */

static void test_manifest_write_exact_text(void **state)
{
    (void)state;
    unit_mkdir("dd/base/1");
    put("dd/PG_VERSION", "15\n", 3, 1700000000);
    put("dd/base/1/123", "123456789", 9, 0);
    struct manifest_wal_range ranges[] = {{2, 0x103000028, 0x1030000F0},
                                          {1, 0x2000028, 0x103000028}};
    struct cel_err err = {0};
    assert_int_equal(manifest_write(unit_path("dd"), ranges, 2, &err), 0);
    char *text = read_manifest("dd");
    /* byte for byte what PostgreSQL's backup_manifest.c writes; the CRC of
     * "123456789" is 0xE3069283, written in little-endian byte order; the
     * last line's SHA-256 (computed apart, with Python's hashlib) covers
     * every byte before it */
    assert_string_equal(
        text,
        "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n"
        "\"Files\": [\n"
        "{ \"Path\": \"PG_VERSION\", \"Size\": 3, \"Last-Modified\": \"2023-11-14 22:13:20 GMT\", "
        "\"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"8a744722\" },\n"
        "{ \"Path\": \"base/1/123\", \"Size\": 9, \"Last-Modified\": \"1970-01-01 00:00:00 GMT\", "
        "\"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"839206e3\" }\n"
        "],\n"
        "\"WAL-Ranges\": [\n"
        "{ \"Timeline\": 2, \"Start-LSN\": \"1/3000028\", \"End-LSN\": \"1/30000F0\" },\n"
        "{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"1/3000028\" }\n"
        "],\n"
        "\"Manifest-Checksum\": "
        "\"be12663a39642b5c16770be11a853bc5dc688452cfc7ffc38e7aafdd83a296ba\"}\n");
    free(text);
}

/* Recompute the Manifest-Checksum of a doctored manifest text in place. */
static void reseal(char *text)
{
    char *last = strstr(text, "\"Manifest-Checksum\": \"");
    assert_non_null(last);
    struct manifest_sha256 sha;
    unsigned char d[32];
    manifest_sha256_init(&sha);
    manifest_sha256_update(&sha, text, (size_t)(last - text));
    manifest_sha256_final(&sha, d);
    char *hex = last + strlen("\"Manifest-Checksum\": \"");
    for (int i = 0; i < 32; i++) {
        char two[3];
        snprintf(two, sizeof two, "%02x", d[i]);
        memcpy(hex + 2 * i, two, 2);
    }
}

/* A linked copy takes the checksums of hard-linked files from the earlier
 * copy's manifest, and reads every other file. The earlier manifest is
 * doctored (a wrong checksum for both files) to tell the two apart. */
static void test_manifest_write_reusing_takes_checksums_of_hard_links(void **state)
{
    (void)state;
    unit_mkdir("a/base/1");
    unit_mkdir("b/base/1");
    put("a/base/1/linked", "123456789", 9, 0);
    put("a/base/1/copied", "123456789", 9, 0);
    struct cel_err err = {0};
    assert_int_equal(manifest_write(unit_path("a"), one_range, 1, &err), 0);
    char *text = read_manifest("a");
    char *at;
    while ((at = strstr(text, "839206e3")))
        memcpy(at, "deadbeef", 8);
    reseal(text); /* a manifest whose own checksum fails is not trusted */
    put_text("a/backup_manifest", text);
    free(text);
    char b_linked[4400];
    snprintf(b_linked, sizeof b_linked, "%s", unit_path("b/base/1/linked"));
    assert_int_equal(link(unit_path("a/base/1/linked"), b_linked), 0);
    put("b/base/1/copied", "123456789", 9, 0);
    put("b/base/1/new", "123456789", 9, 0);
    uint64_t reused = 0;
    char prev[4400];
    snprintf(prev, sizeof prev, "%s", unit_path("a"));
    assert_int_equal(manifest_write_reusing(unit_path("b"), prev, one_range, 1, &reused, &err), 0);
    assert_int_equal(reused, 1);
    text = read_manifest("b");
    assert_non_null(strstr(text, "\"Path\": \"base/1/linked\", \"Size\": 9, \"Last-Modified\": "
                                 "\"1970-01-01 00:00:00 GMT\", \"Checksum-Algorithm\": \"CRC32C\", "
                                 "\"Checksum\": \"deadbeef\""));
    assert_non_null(strstr(text, "\"Path\": \"base/1/copied\", \"Size\": 9, \"Last-Modified\": "
                                 "\"1970-01-01 00:00:00 GMT\", \"Checksum-Algorithm\": \"CRC32C\", "
                                 "\"Checksum\": \"839206e3\""));
    free(text);
    /* without an earlier manifest everything is read */
    assert_int_equal(manifest_write_reusing(unit_path("b"), unit_path("b/base"), one_range, 1,
                                            &reused, &err),
                     0);
    assert_int_equal(reused, 0);
}

static void test_manifest_write_empty_directory(void **state)
{
    (void)state;
    unit_mkdir("dd");
    assert_int_equal(manifest_write(unit_path("dd"), NULL, 0, NULL), 0);
    char *text = read_manifest("dd");
    assert_string_equal(text,
                        "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n],\n"
                        "\"WAL-Ranges\": [\n\n],\n\"Manifest-Checksum\": "
                        "\"1c8c3f0bd30a0830a4f1e44d04b090e96eda6c1d221cb4c2734512dbdba9b164\"}\n");
    free(text);
}

static void test_manifest_write_reads_large_files_whole(void **state)
{
    (void)state;
    /* more than one 1 MiB read, ending in a partial one */
    size_t n = 3 * 1024 * 1024 + 5;
    unsigned char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 7 + 3);
    unit_mkdir("dd");
    put("dd/big", big, n, -1);
    free(big);
    assert_int_equal(manifest_write(unit_path("dd"), one_range, 1, NULL), 0);
    char *text = read_manifest("dd");
    /* CRC 0x1392CF58, computed apart (bitwise CRC-32C in Python) */
    assert_non_null(strstr(text, "{ \"Path\": \"big\", \"Size\": 3145733, "));
    assert_non_null(strstr(text, "\"Checksum\": \"58cf9213\" }"));
    free(text);
}

/* Number of file entries in a manifest. */
static int count_files(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, "\"Size\": ")); p++)
        n++;
    return n;
}

static void test_manifest_write_lists_what_pg_verifybackup_expects(void **state)
{
    (void)state;
    unit_mkdir("dd/base/1");
    unit_mkdir("dd/global");
    unit_mkdir("dd/pg_wal/archive_status");
    unit_mkdir("dd/pg_tblspc/16390/PG_15_202209061/5"); /* an in-place tablespace */
    unit_mkdir("ts/PG_15_202209061/5");
    unit_mkdir("elsewhere");
    put_text("dd/PG_VERSION", "15\n");
    put_text("dd/backup_manifest", "an older manifest\n");
    put_text("dd/pg_wal/000000010000000000000001", "wal");
    put_text("dd/pg_wal/archive_status/000000010000000000000001.done", "");
    put_text("dd/base/pg_wal", "only the top-level pg_wal is left out\n");
    put_text("dd/base/1/backup_manifest", "nor is this one\n");
    put_text("dd/postgresql.auto.conf", "# Do not edit\n");
    put_text("dd/standby.signal", "");
    put_text("dd/pg_tblspc/16390/PG_15_202209061/5/16391", "in place\n");
    put_text("ts/PG_15_202209061/5/16384", "tablespace data\n");
    put_text("elsewhere/secret", "not part of the backup\n");
    assert_int_equal(symlink("../../ts", unit_path("dd/pg_tblspc/16385")), 0);
    /* not followed: a link elsewhere, a link inside a tablespace */
    assert_int_equal(symlink("../../elsewhere/secret", unit_path("dd/base/1/link")), 0);
    assert_int_equal(symlink("../../../elsewhere", unit_path("ts/PG_15_202209061/5/dirlink")), 0);
    assert_int_equal(mkfifo(unit_path("dd/base/1/fifo"), 0600), 0);

    assert_int_equal(manifest_write(unit_path("dd"), one_range, 1, NULL), 0);
    char *text = read_manifest("dd");
    static const char *listed[] = {
        "PG_VERSION",
        "base/1/backup_manifest",
        "base/pg_wal",
        "pg_tblspc/16385/PG_15_202209061/5/16384",
        "pg_tblspc/16390/PG_15_202209061/5/16391",
        "postgresql.auto.conf",
        "standby.signal",
    };
    char needle[256];
    const char *prev = text;
    for (size_t i = 0; i < CEL_ARRAY_LEN(listed); i++) {
        snprintf(needle, sizeof needle, "{ \"Path\": \"%s\", ", listed[i]);
        const char *at = strstr(text, needle);
        assert_non_null(at);
        assert_true(at > prev); /* sorted by path */
        prev = at;
    }
    assert_int_equal(count_files(text), (int)CEL_ARRAY_LEN(listed));
    assert_null(strstr(text, "\"Path\": \"backup_manifest\""));
    assert_null(strstr(text, "pg_wal/"));
    assert_null(strstr(text, "secret"));
    assert_null(strstr(text, "link"));
    assert_null(strstr(text, "fifo"));
    free(text);
}

static void test_manifest_write_encodes_paths(void **state)
{
    (void)state;
    unit_mkdir("dd");
    put_text("dd/caf\xc3\xa9", "");            /* valid UTF-8: é */
    put_text("dd/smile\xf0\x9f\x98\x80", "");  /* valid UTF-8: U+1F600 */
    put_text("dd/latin1-\xe9", "");            /* not UTF-8 */
    put_text("dd/overlong-\xc0\xaf", "");      /* overlong '/' */
    put_text("dd/surrogate-\xed\xa0\x80", ""); /* UTF-16 surrogate */
    put_text("dd/big-\xf4\x90\x80\x80", "");   /* above U+10FFFF */
    put_text("dd/tab\tq\"b\\s\x01", "");       /* escaped in JSON */
    assert_int_equal(manifest_write(unit_path("dd"), one_range, 1, NULL), 0);
    char *text = read_manifest("dd");
    assert_non_null(strstr(text, "{ \"Path\": \"caf\xc3\xa9\", "));
    assert_non_null(strstr(text, "{ \"Path\": \"smile\xf0\x9f\x98\x80\", "));
    assert_non_null(strstr(text, "{ \"Encoded-Path\": \"6c6174696e312de9\", "));
    assert_non_null(strstr(text, "{ \"Encoded-Path\": \"6f7665726c6f6e672dc0af\", "));
    assert_non_null(strstr(text, "{ \"Encoded-Path\": \"737572726f676174652deda080\", "));
    assert_non_null(strstr(text, "{ \"Encoded-Path\": \"6269672df4908080\", "));
    assert_non_null(strstr(text, "{ \"Path\": \"tab\\tq\\\"b\\\\s\\u0001\", "));
    free(text);
}

static void test_manifest_write_is_durable_and_replaces(void **state)
{
    (void)state;
    unit_mkdir("dd");
    put_text("dd/PG_VERSION", "15\n");
    put_text("dd/backup_manifest", "old");
    assert_int_equal(chmod(unit_path("dd/backup_manifest"), 0644), 0);
    assert_int_equal(manifest_write(unit_path("dd"), one_range, 1, NULL), 0);
    char *text = read_manifest("dd");
    assert_true(cel_str_starts(text, "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n"));
    assert_true(cel_str_ends(text, "\"}\n"));
    free(text);
    struct stat st;
    assert_int_equal(stat(unit_path("dd/backup_manifest"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* PG_VERSION and backup_manifest: no temporary file left behind */
    assert_int_equal(unit_count_entries(unit_path("dd")), 2);
}

static void test_manifest_write_missing_datadir(void **state)
{
    (void)state;
    struct cel_err err = {0};
    const char *dd = unit_path("nothere");
    assert_int_equal(manifest_write(dd, one_range, 1, &err), -CEL_E_IO);
    assert_int_equal(err.code, CEL_E_IO);
    char want[4400];
    snprintf(want, sizeof want, "cannot read directory '%s': No such file or directory", dd);
    assert_string_equal(err.msg, want);
    assert_int_equal(access(dd, F_OK), -1);
}

static void test_manifest_write_dangling_tablespace_link(void **state)
{
    (void)state;
    unit_mkdir("dd/pg_tblspc");
    put_text("dd/backup_manifest", "previous");
    assert_int_equal(symlink("../../gone", unit_path("dd/pg_tblspc/16385")), 0);
    struct cel_err err = {0};
    assert_int_equal(manifest_write(unit_path("dd"), one_range, 1, &err), -CEL_E_IO);
    char want[4400];
    snprintf(want, sizeof want, "cannot follow tablespace link '%s': No such file or directory",
             unit_path("dd/pg_tblspc/16385"));
    assert_string_equal(err.msg, want);
    char *text = read_manifest("dd");
    assert_string_equal(text, "previous"); /* untouched */
    free(text);
}

static void test_manifest_write_read_error(void **state)
{
    (void)state;
    unit_mkdir("dd");
    put_text("dd/PG_VERSION", "15\n");
    struct cel_err err = {0};
    read_fail = 1;
    int rc = manifest_write(unit_path("dd"), one_range, 1, &err);
    read_fail = 0;
    assert_int_equal(rc, -CEL_E_IO);
    assert_int_equal(err.sys_errno, EIO);
    char want[4400];
    snprintf(want, sizeof want, "cannot read '%s': Input/output error", unit_path("dd/PG_VERSION"));
    assert_string_equal(err.msg, want);
    assert_int_equal(unit_count_entries(unit_path("dd")), 1); /* no manifest, no temp */
}

/* ---- the real pg_verifybackup ----------------------------------------- */

static const char *verifybackup(void)
{
    static char path[4096];
    const char *bindir = getenv("PG_BINDIR");
    snprintf(path, sizeof path, "%s/pg_verifybackup",
             bindir && *bindir ? bindir : "/usr/lib/postgresql/15/bin");
    return access(path, X_OK) == 0 ? path : NULL;
}

/* Run pg_verifybackup -n on dd; return its exit status, its output (stdout
 * and stderr) in *out (caller frees). */
static int run_verify(const char *dd, char **out)
{
    const char *argv[] = {verifybackup(), "-n", dd, NULL};
    struct proc_result res;
    struct cel_err err = {0};
    assert_int_equal(proc_run(argv, &(struct proc_opts){.timeout_ms = 60000}, &res, &err), 0);
    *out = cel_xasprintf("%s%s", res.out ? res.out : "", res.err ? res.err : "");
    int status = res.status;
    proc_result_free(&res);
    return status;
}

/* A data directory as cellar's copy has it: files, pg_wal with a segment,
 * a tablespace reached through a relative pg_tblspc/<oid> link, a name
 * that is not UTF-8. */
static void make_datadir(void)
{
    unit_mkdir("backup/data/base/1");
    unit_mkdir("backup/data/global");
    unit_mkdir("backup/data/pg_wal/archive_status");
    unit_mkdir("backup/data/pg_tblspc");
    unit_mkdir("backup/tablespaces/16385/PG_15_202209061/16384");
    unsigned char page[8192];
    for (size_t i = 0; i < sizeof page; i++)
        page[i] = (unsigned char)(i * 13 + 1);
    put_text("backup/data/PG_VERSION", "15\n");
    put("backup/data/global/pg_control", page, sizeof page, -1);
    put("backup/data/base/1/1259", page, sizeof page, -1);
    put_text("backup/data/base/1/PG_VERSION", "15\n");
    put_text("backup/data/base/1/caf\xe9", "latin-1 name\n");
    put_text("backup/data/base/1/tab\tname", "control character in the name\n");
    put_text("backup/data/postgresql.auto.conf", "# Do not edit this file manually!\n");
    put_text("backup/data/pg_wal/000000010000000000000002", "a WAL segment\n");
    put("backup/tablespaces/16385/PG_15_202209061/16384/16386", page, sizeof page, -1);
    assert_int_equal(symlink("../../tablespaces/16385", unit_path("backup/data/pg_tblspc/16385")),
                     0);
}

/* Flip one byte of a file in place (same size). */
static void flip_byte(const char *path, long at)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    int c = fgetc(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    fputc(c ^ 0x40, f);
    assert_int_equal(fclose(f), 0);
}

static void test_manifest_pg_verifybackup_accepts(void **state)
{
    (void)state;
    if (!verifybackup())
        skip();
    make_datadir();
    char dd[4200]; /* unit_path's buffers are reused */
    snprintf(dd, sizeof dd, "%s", unit_path("backup/data"));
    struct cel_err err = {0};
    assert_int_equal(manifest_write(dd, one_range, 1, &err), 0);
    char *text = read_manifest("backup/data");
    assert_non_null(strstr(text, "{ \"Encoded-Path\": \"626173652f312f636166e9\", "));
    assert_non_null(strstr(text, "{ \"Path\": \"base/1/tab\\tname\", "));
    assert_non_null(strstr(text, "\"pg_tblspc/16385/PG_15_202209061/16384/16386\""));
    free(text);
    char *out;
    int status = run_verify(dd, &out);
    if (status != 0)
        print_message("# %s", out);
    assert_int_equal(status, 0);
    assert_string_equal(out, "backup successfully verified\n");
    free(out);
}

static void test_manifest_pg_verifybackup_finds_corruption(void **state)
{
    (void)state;
    if (!verifybackup())
        skip();
    make_datadir();
    char dd[4200]; /* unit_path's buffers are reused */
    snprintf(dd, sizeof dd, "%s", unit_path("backup/data"));
    assert_int_equal(manifest_write(dd, one_range, 1, NULL), 0);
    char *out;

    flip_byte(unit_path("backup/data/base/1/1259"), 4000);
    assert_int_equal(run_verify(dd, &out), 1);
    assert_non_null(strstr(out, "checksum mismatch for file \"base/1/1259\""));
    free(out);
    flip_byte(unit_path("backup/data/base/1/1259"), 4000);

    flip_byte(unit_path("backup/tablespaces/16385/PG_15_202209061/16384/16386"), 0);
    assert_int_equal(run_verify(dd, &out), 1);
    assert_non_null(
        strstr(out, "checksum mismatch for file \"pg_tblspc/16385/PG_15_202209061/16384/16386\""));
    free(out);
    flip_byte(unit_path("backup/tablespaces/16385/PG_15_202209061/16384/16386"), 0);

    int status = run_verify(dd, &out); /* restored */
    if (status != 0)
        print_message("# %s", out);
    free(out);
    assert_int_equal(status, 0);
}

static void test_manifest_pg_verifybackup_finds_added_and_missing_files(void **state)
{
    (void)state;
    if (!verifybackup())
        skip();
    make_datadir();
    char dd[4200]; /* unit_path's buffers are reused */
    snprintf(dd, sizeof dd, "%s", unit_path("backup/data"));
    assert_int_equal(manifest_write(dd, one_range, 1, NULL), 0);
    char *out;

    const char *added = put_text("backup/data/base/1/99999", "came later\n");
    assert_int_equal(run_verify(dd, &out), 1);
    assert_non_null(strstr(out, "\"base/1/99999\" is present on disk but not in the manifest"));
    free(out);
    assert_int_equal(unlink(added), 0);

    assert_int_equal(unlink(unit_path("backup/data/base/1/PG_VERSION")), 0);
    assert_int_equal(run_verify(dd, &out), 1);
    assert_non_null(
        strstr(out, "\"base/1/PG_VERSION\" is present in the manifest but not on disk"));
    free(out);
}

/* manifest_read gives back what manifest_write wrote: the entries sorted,
 * sizes, CRC32C bytes in the order written, the WAL ranges in order. */
static void test_manifest_read_back(void **state)
{
    (void)state;
    unit_mkdir("dd/base/1");
    put("dd/PG_VERSION", "15\n", 3, 1700000000);
    put("dd/base/1/123", "123456789", 9, 0);
    struct manifest_wal_range ranges[] = {{2, 0x103000028, 0x1030000F0},
                                          {1, 0x2000028, 0x103000028}};
    assert_int_equal(manifest_write(unit_path("dd"), ranges, 2, NULL), 0);
    struct manifest m;
    struct cel_err err = {0};
    char *path = cel_xasprintf("%s/backup_manifest", unit_path("dd"));
    assert_int_equal(manifest_read(path, &m, &err), 0);
    assert_int_equal(m.n_files, 2);
    assert_string_equal(m.files[0].path, "PG_VERSION");
    assert_string_equal(m.files[1].path, "base/1/123");
    const struct manifest_file *f = manifest_find(&m, "base/1/123");
    assert_ptr_equal(f, &m.files[1]);
    assert_null(manifest_find(&m, "base/1/124"));
    assert_int_equal(f->size, 9);
    assert_int_equal(f->algo, MANIFEST_ALGO_CRC32C);
    assert_int_equal(f->checksum_len, 4);
    uint32_t crc;
    memcpy(&crc, f->checksum, 4);
    assert_int_equal(crc, manifest_crc32c(0, "123456789", 9));
    assert_int_equal(m.n_ranges, 2);
    assert_int_equal(m.ranges[0].tli, 2);
    assert_true(m.ranges[0].start_lsn == 0x103000028 && m.ranges[0].end_lsn == 0x1030000F0);
    assert_true(m.ranges[1].tli == 1 && m.ranges[1].start_lsn == 0x2000028);
    manifest_free(&m);
    free(path);
}

/* Every path form comes back decoded: JSON escapes, \u sequences (a
 * surrogate pair included), Encoded-Path. */
static void test_manifest_read_decodes_paths(void **state)
{
    (void)state;
    unit_mkdir("dd");
    put_text("dd/latin1-\xe9", "");
    put_text("dd/tab\tq\"b\\s\x01", "");
    put_text("dd/caf\xc3\xa9", "");
    assert_int_equal(manifest_write(unit_path("dd"), one_range, 1, NULL), 0);
    char *path = cel_xasprintf("%s/backup_manifest", unit_path("dd"));
    struct manifest m;
    assert_int_equal(manifest_read(path, &m, NULL), 0);
    assert_int_equal(m.n_files, 3);
    assert_non_null(manifest_find(&m, "latin1-\xe9"));
    assert_non_null(manifest_find(&m, "tab\tq\"b\\s\x01"));
    assert_non_null(manifest_find(&m, "caf\xc3\xa9"));
    manifest_free(&m);
    /* a pg_basebackup-style manifest with \u escapes and SHA256 */
    const char *body =
        "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n"
        "{ \"Path\": \"a\\u00e9\\ud83d\\ude00\", \"Size\": 0, \"Last-Modified\": \"x\", "
        "\"Checksum-Algorithm\": \"SHA256\", \"Checksum\": "
        "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\" },\n"
        "{ \"Path\": \"n\", \"Size\": 7, \"Last-Modified\": \"x\" }\n],\n"
        "\"WAL-Ranges\": [\n{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": "
        "\"0/2000100\" }\n],\n";
    struct manifest_sha256 sha;
    unsigned char d[32];
    manifest_sha256_init(&sha);
    manifest_sha256_update(&sha, body, strlen(body));
    manifest_sha256_final(&sha, d);
    struct strbuf sb = {0};
    sb_append(&sb, body);
    sb_append(&sb, "\"Manifest-Checksum\": \"");
    for (int i = 0; i < 32; i++)
        sb_appendf(&sb, "%02x", d[i]);
    sb_append(&sb, "\"}\n");
    put("pg_manifest", sb_str(&sb), sb.len, -1);
    assert_int_equal(manifest_read(unit_path("pg_manifest"), &m, NULL), 0);
    assert_int_equal(m.n_files, 2);
    const struct manifest_file *f = manifest_find(&m, "a\xc3\xa9\xf0\x9f\x98\x80");
    assert_non_null(f);
    assert_int_equal(f->algo, MANIFEST_ALGO_SHA256);
    assert_int_equal(f->checksum_len, 32);
    f = manifest_find(&m, "n");
    assert_non_null(f);
    assert_int_equal(f->algo, MANIFEST_ALGO_NONE);
    assert_int_equal(f->size, 7);
    manifest_free(&m);
    sb_free(&sb);
    free(path);
}

/* A manifest changed after it was written fails its own checksum; a
 * malformed entry names its line. */
static void test_manifest_read_refuses_damage(void **state)
{
    (void)state;
    unit_mkdir("dd");
    put("dd/PG_VERSION", "15\n", 3, 0);
    assert_int_equal(manifest_write(unit_path("dd"), one_range, 1, NULL), 0);
    char *text = read_manifest("dd");
    char *p = strstr(text, "\"Size\": 3");
    assert_non_null(p);
    p[9 - 1] = '4';
    put("bad", text, strlen(text), -1);
    struct manifest m;
    struct cel_err err = {0};
    assert_int_equal(manifest_read(unit_path("bad"), &m, &err), -CEL_E_FORMAT);
    assert_non_null(strstr(err.msg, "manifest checksum mismatch"));
    p = strstr(text, "\"Size\": 4");
    memcpy(p, "\"Size\"= 3", 9);
    put("bad2", text, strlen(text), -1);
    assert_int_equal(manifest_read(unit_path("bad2"), &m, &err), -CEL_E_FORMAT);
    assert_non_null(strstr(err.msg, "line 3: malformed file entry"));
    put_text("notmf", "hello\n");
    assert_int_equal(manifest_read(unit_path("notmf"), &m, &err), -CEL_E_FORMAT);
    assert_true(manifest_read(unit_path("absent"), &m, &err) < 0);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_crc32c_known_vectors),
        cmocka_unit_test(test_manifest_crc32c_incremental_equals_one_shot),
        cmocka_unit_test(test_manifest_crc32c_cpu_path_equals_portable),
        cmocka_unit_test(test_manifest_sha256_known_vectors),
        cmocka_unit_test(test_manifest_sha256_padding_boundaries),
        cmocka_unit_test(test_manifest_sha256_incremental_across_blocks),
#define T(name) cmocka_unit_test_setup_teardown(name, unit_setup_tmpdir, unit_teardown_tmpdir)
        T(test_manifest_write_exact_text),
        T(test_manifest_write_reusing_takes_checksums_of_hard_links),
        T(test_manifest_write_empty_directory),
        T(test_manifest_write_reads_large_files_whole),
        T(test_manifest_write_lists_what_pg_verifybackup_expects),
        T(test_manifest_write_encodes_paths),
        T(test_manifest_write_is_durable_and_replaces),
        T(test_manifest_write_missing_datadir),
        T(test_manifest_write_dangling_tablespace_link),
        T(test_manifest_write_read_error),
        T(test_manifest_pg_verifybackup_accepts),
        T(test_manifest_pg_verifybackup_finds_corruption),
        T(test_manifest_pg_verifybackup_finds_added_and_missing_files),
        T(test_manifest_read_back),
        T(test_manifest_read_decodes_paths),
        T(test_manifest_read_refuses_damage),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
