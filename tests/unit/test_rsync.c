/* Unit tests of src/core/exec/rsync*.c (the runner, the file list, progress
 * and remote commands): real rsync copies of a small PGDATA-like tree.
 *
 * Every copy runs the installed rsync. "Remote" copies run it through a fake
 * ssh (a script that drops the host and runs the command with sh -c, which is
 * what ssh and the remote shell do), so the ":path" form, -e, -s and the
 * parsing of --list-only output are exercised without an sshd. Retries use a
 * fake rsync put first in PATH with path_prefix. */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "rsync.h"

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define BASE_MTIME 1700000000 /* the tree's files are this old (Nov 2023) */

/* ---- the source tree ------------------------------------------------------ */

struct tfile {
    const char *path;
    size_t size;
    mode_t mode;
};

/* Files that the copy keeps, and what the filters below leave out. */
static const struct tfile kept[] = {
    {"PG_VERSION", 3, 0600},
    {"global/pg_control", 8192, 0600},
    {"global/tmpdir", 5, 0600}, /* a file: "tmpdir/" only matches directories */
    {"base/1/1259", 200000, 0600},
    {"base/1/1259_fsm", 24576, 0600},
    {"base/1/2619", 1000, 0600},
    {"base/1/empty", 0, 0600},
    {"-leading-dash", 7, 0644},
    {"sp ace \xc3\xbcn\xc3\xaf.txt", 11, 0640},
    {"pg_replslot/keep.conf", 4, 0600}, /* the include wins */
};
static const struct tfile dropped[] = {
    {"base/1/pgsql_tmp123", 100, 0600},
    {"base/tmpdir/junk", 10, 0600},
    {"pg_wal/000000010000000000000001", 65536, 0600},
    {"pg_wal/archive_status/000000010000000000000001.done", 0, 0600},
    {"pg_replslot/slot1/state", 200, 0600},
};
static const char *const kept_dirs[] = {".",      "global",      "base",      "base/1",
                                        "pg_wal", "pg_replslot", "pg_notify", "pg_tblspc"};
static const char *const dropped_dirs[] = {"base/tmpdir", "pg_wal/archive_status",
                                           "pg_replslot/slot1"};
#define LINK_PATH "pg_tblspc/16384"
#define LINK_TARGET "../base/1"

static const char *const excludes[] = {"/pg_wal/*", "pgsql_tmp*", "/pg_replslot/*", "tmpdir/",
                                       NULL};
static const char *const includes[] = {"/pg_replslot/keep.conf", NULL};

static char src_dir[4200];

static void set_mtime(const char *path, time_t t)
{
    struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void write_bytes(const char *path, size_t size, unsigned seed, mode_t mode, time_t mtime)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    unsigned char buf[4096];
    for (size_t done = 0; done < size;) {
        size_t n = size - done < sizeof buf ? size - done : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)((done + i) * 31 + seed);
        assert_int_equal(write(fd, buf, n), (ssize_t)n);
        done += n;
    }
    assert_int_equal(close(fd), 0);
    assert_int_equal(chmod(path, mode), 0);
    set_mtime(path, mtime);
}

static void in_src(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", src_dir, rel);
}

static void mkdirs_of(const char *rel)
{
    char dir[256];
    snprintf(dir, sizeof dir, "src/%s", rel);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    unit_mkdir(dir);
}

/* Build src/ in the test's directory: the files above, empty directories, a
 * link, and fixed mtimes everywhere. */
static void build_tree(void)
{
    char path[4400];
    snprintf(src_dir, sizeof src_dir, "%s", unit_path("src"));
    unit_mkdir("src");
    for (size_t i = 0; i < CEL_ARRAY_LEN(kept); i++) {
        mkdirs_of(kept[i].path);
        in_src(path, sizeof path, kept[i].path);
        write_bytes(path, kept[i].size, (unsigned)i, kept[i].mode, BASE_MTIME + (time_t)i);
    }
    for (size_t i = 0; i < CEL_ARRAY_LEN(dropped); i++) {
        mkdirs_of(dropped[i].path);
        in_src(path, sizeof path, dropped[i].path);
        write_bytes(path, dropped[i].size, 99, dropped[i].mode, BASE_MTIME);
    }
    unit_mkdir("src/pg_notify");
    unit_mkdir("src/pg_tblspc");
    in_src(path, sizeof path, LINK_PATH);
    assert_int_equal(symlink(LINK_TARGET, path), 0);
    set_mtime(path, BASE_MTIME + 50);
    in_src(path, sizeof path, "pg_notify");
    assert_int_equal(chmod(path, 0750), 0);
    assert_int_equal(chmod(src_dir, 0750), 0);
    /* directories last, deepest first, so creating files does not move them */
    for (size_t i = CEL_ARRAY_LEN(kept_dirs); i-- > 0;) {
        in_src(path, sizeof path, kept_dirs[i]);
        set_mtime(path, BASE_MTIME + 100 + (time_t)i);
    }
}

static uint64_t kept_bytes(bool with_link)
{
    uint64_t n = with_link ? strlen(LINK_TARGET) : 0;
    for (size_t i = 0; i < CEL_ARRAY_LEN(kept); i++)
        n += kept[i].size;
    return n;
}

/* A whole file, its length in *len. */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char *buf = malloc((size_t)st.st_size + 1);
    ssize_t n = read(fd, buf, (size_t)st.st_size + 1);
    close(fd);
    assert_int_equal(n, st.st_size);
    *len = (size_t)n;
    return buf;
}

static void assert_same_content(const char *a, const char *b)
{
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
}

static void lstat_ok(const char *path, struct stat *st)
{
    if (lstat(path, st) != 0)
        fail_msg("lstat '%s': %s", path, strerror(errno));
}

/* dst holds exactly what the filters keep of src, with equal bytes, modes
 * and mtimes; left-out directories are absent, emptied ones empty. */
static void check_tree(const char *src, const char *dst)
{
    char a[4400], b[4400];
    struct stat sa, sb;
    for (size_t i = 0; i < CEL_ARRAY_LEN(kept); i++) {
        snprintf(a, sizeof a, "%s/%s", src, kept[i].path);
        snprintf(b, sizeof b, "%s/%s", dst, kept[i].path);
        lstat_ok(a, &sa);
        lstat_ok(b, &sb);
        assert_true(S_ISREG(sb.st_mode));
        assert_int_equal(sa.st_mode & 07777, sb.st_mode & 07777);
        assert_int_equal(sa.st_mtime, sb.st_mtime);
        assert_same_content(a, b);
    }
    for (size_t i = 0; i < CEL_ARRAY_LEN(kept_dirs); i++) {
        snprintf(a, sizeof a, "%s/%s", src, kept_dirs[i]);
        snprintf(b, sizeof b, "%s/%s", dst, kept_dirs[i]);
        lstat_ok(a, &sa);
        lstat_ok(b, &sb);
        assert_true(S_ISDIR(sb.st_mode));
        assert_int_equal(sa.st_mode & 07777, sb.st_mode & 07777);
        if (sa.st_mtime != sb.st_mtime)
            fail_msg("mtime of directory '%s': %ld, expected %ld", kept_dirs[i], (long)sb.st_mtime,
                     (long)sa.st_mtime);
    }
    for (size_t i = 0; i < CEL_ARRAY_LEN(dropped); i++) {
        snprintf(b, sizeof b, "%s/%s", dst, dropped[i].path);
        assert_int_equal(lstat(b, &sb), -1);
    }
    for (size_t i = 0; i < CEL_ARRAY_LEN(dropped_dirs); i++) {
        snprintf(b, sizeof b, "%s/%s", dst, dropped_dirs[i]);
        assert_int_equal(lstat(b, &sb), -1);
    }
    snprintf(b, sizeof b, "%s/pg_wal", dst);
    assert_int_equal(unit_count_entries(b), 0);
    snprintf(b, sizeof b, "%s/pg_notify", dst);
    assert_int_equal(unit_count_entries(b), 0);
    snprintf(b, sizeof b, "%s/pg_replslot", dst);
    assert_int_equal(unit_count_entries(b), 1);
    snprintf(b, sizeof b, "%s/%s", dst, LINK_PATH);
    lstat_ok(b, &sb);
    assert_true(S_ISLNK(sb.st_mode));
    char target[256];
    ssize_t n = readlink(b, target, sizeof target - 1);
    assert_int_equal(n, (ssize_t)strlen(LINK_TARGET));
    target[n] = '\0';
    assert_string_equal(target, LINK_TARGET);
}

static ino_t inode_of(const char *dir, const char *rel)
{
    char p[4400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    lstat_ok(p, &st);
    return st.st_ino;
}

/* ---- callbacks ------------------------------------------------------------ */

struct rec {
    int calls;
    bool monotonic, totals_fixed;
    struct rsync_progress last;
    int logs;
    char log[16][300];
    const char *unlink_first; /* removed at the first progress report */
};

static void on_progress(void *ctx, const struct rsync_progress *p)
{
    struct rec *r = ctx;
    if (r->calls > 0) {
        if (p->bytes_done < r->last.bytes_done || p->files_done < r->last.files_done)
            r->monotonic = false;
        if (p->bytes_total != r->last.bytes_total || p->files_total != r->last.files_total)
            r->totals_fixed = false;
    }
    if (p->bytes_done > p->bytes_total || p->files_done > p->files_total)
        r->monotonic = false;
    if (r->calls == 0 && r->unlink_first)
        assert_int_equal(unlink(r->unlink_first), 0);
    r->calls++;
    r->last = *p;
    r->last.current = NULL;
}

static void on_log(void *ctx, const char *line)
{
    struct rec *r = ctx;
    if (r->logs < 16)
        snprintf(r->log[r->logs], sizeof r->log[0], "%s", line);
    r->logs++;
}

static struct rsync_opts base_opts(struct rec *r)
{
    *r = (struct rec){.monotonic = true, .totals_fixed = true};
    return (struct rsync_opts){.exclude = excludes,
                               .include = includes,
                               .on_progress = on_progress,
                               .on_log = on_log,
                               .ctx = r};
}

static void assert_progress_complete(const struct rec *r, const struct rsync_stats *st)
{
    assert_true(r->calls >= 2);
    assert_true(r->monotonic);
    assert_true(r->totals_fixed);
    assert_int_equal(r->last.bytes_done, r->last.bytes_total);
    assert_int_equal(r->last.files_done, r->last.files_total);
    assert_int_equal(r->last.bytes_total, st->bytes);
    assert_int_equal(r->last.files_total, st->files);
}

/* A fake ssh: the first argument is the host it was given in ssh_command,
 * then rsync adds an empty host for ":path"; the rest is the remote command. */
static const char *fake_ssh(void)
{
    const char *path = unit_path("fakessh");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nshift\n[ \"$1\" = \"\" ] && shift\nexec /bin/sh -c \"$*\"\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0755), 0);
    static char cmd[4400];
    snprintf(cmd, sizeof cmd, "%s fakehost", path);
    return cmd;
}

/* A fake rsync in bin/ that fails (status 12) the first `fails` times, then
 * runs the real one (found in PATH once bin/ is taken off its front). */
static const char *fake_rsync(int fails)
{
    unit_mkdir("bin");
    const char *script = unit_path("bin/rsync");
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fprintf(f,
            "#!/bin/sh\n"
            "n=$(cat '%s/count' 2>/dev/null || echo 0)\n"
            "echo $((n + 1)) > '%s/count'\n"
            "if [ \"$n\" -lt %d ]; then echo 'rsync: simulated failure' >&2; exit 12; fi\n"
            "PATH=${PATH#*:} exec rsync \"$@\"\n",
            unit_tmp, unit_tmp, fails);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(script, 0755), 0);
    static char dir[4400];
    snprintf(dir, sizeof dir, "%s/bin", unit_tmp);
    return dir;
}

/* ---- copies ------------------------------------------------------------- */

static void copy_and_check(int workers)
{
    build_tree();
    struct rec r;
    struct rsync_opts o = base_opts(&r);
    o.workers = workers;
    struct rsync_stats st;
    struct cel_err err = {0};
    const char *dst = unit_path("dst/data"); /* parents created too */
    int rc = rsync_copy(src_dir, dst, &o, &st, &err);
    if (rc != 0)
        fail_msg("rsync_copy: %s", err.msg);
    check_tree(src_dir, dst);
    assert_int_equal(st.files, CEL_ARRAY_LEN(kept) + 1);
    assert_int_equal(st.bytes, kept_bytes(true));
    assert_int_equal(st.transferred_bytes, kept_bytes(false)); /* a link sends no data */
    assert_int_equal(st.vanished, 0);
    assert_int_equal(st.workers, workers);
    assert_true(st.analysis_seconds >= 0 && st.copy_seconds > 0);
    assert_progress_complete(&r, &st);
    assert_int_equal(r.logs, 0);
}

static void test_rsync_copy_one_worker(void **state)
{
    (void)state;
    copy_and_check(1);
}

static void test_rsync_copy_three_workers(void **state)
{
    (void)state;
    copy_and_check(3);
}

static void test_rsync_copy_more_workers_than_files(void **state)
{
    (void)state;
    unit_mkdir("src/a/empty");
    write_bytes(unit_path("src/a/f"), 10, 1, 0600, BASE_MTIME);
    struct rsync_stats st;
    struct cel_err err = {0};
    assert_int_equal(rsync_copy(unit_path("src"), unit_path("dst"),
                                &(struct rsync_opts){.workers = 8}, &st, &err),
                     0);
    assert_int_equal(st.workers, 1);
    assert_int_equal(st.files, 1);
    assert_int_equal(unit_count_entries(unit_path("dst/a/empty")), 0);

    /* no files at all: no workers, the directories still made */
    unit_mkdir("empty/x/y");
    assert_int_equal(rsync_copy(unit_path("empty"), unit_path("dst2"), NULL, &st, &err), 0);
    assert_int_equal(st.workers, 0);
    assert_int_equal(st.files, 0);
    assert_int_equal(unit_count_entries(unit_path("dst2/x/y")), 0);
}

/* The second copy reuses the first: unchanged files are hard links, a
 * changed file is new, and a file changed without changing size or mtime is
 * only caught when its mtime is at or after safe_horizon. */
static void test_rsync_copy_link_reuse_and_safe_horizon(void **state)
{
    (void)state;
    build_tree();
    struct rec r;
    struct rsync_opts o = base_opts(&r);
    struct rsync_stats st;
    struct cel_err err = {0};
    char first[4400], p[4400];
    /* base/1/1259 is the newest file, at the safe horizon of the next copy */
    time_t horizon = BASE_MTIME + 500;
    in_src(p, sizeof p, "base/1/1259");
    set_mtime(p, horizon);
    snprintf(first, sizeof first, "%s", unit_path("b1"));
    assert_int_equal(rsync_copy(src_dir, first, &o, &st, &err), 0);

    /* base/1/2619: new content and mtime; base/1/1259: same size and mtime,
     * other bytes */
    in_src(p, sizeof p, "base/1/2619");
    write_bytes(p, 1500, 7, 0600, BASE_MTIME + 1000);
    in_src(p, sizeof p, "base/1/1259");
    write_bytes(p, 200000, 42, 0600, horizon);

    o = base_opts(&r);
    o.reuse = RSYNC_REUSE_LINK;
    o.reuse_dir = first;
    o.safe_horizon = horizon;
    o.workers = 2;
    const char *second = unit_path("b2");
    int rc = rsync_copy(src_dir, second, &o, &st, &err);
    if (rc != 0)
        fail_msg("rsync_copy: %s", err.msg);
    check_tree(src_dir, second);
    assert_progress_complete(&r, &st);
    const char *same[] = {"PG_VERSION",
                          "global/pg_control",
                          "base/1/1259_fsm",
                          "-leading-dash",
                          "sp ace \xc3\xbcn\xc3\xaf.txt",
                          LINK_PATH};
    for (size_t i = 0; i < CEL_ARRAY_LEN(same); i++)
        if (inode_of(first, same[i]) != inode_of(second, same[i]))
            fail_msg("'%s' was not hard-linked", same[i]);
    assert_true(inode_of(first, "base/1/2619") != inode_of(second, "base/1/2619"));
    assert_true(inode_of(first, "base/1/1259") != inode_of(second, "base/1/1259"));
    assert_int_equal(st.transferred_bytes, 1500 + 200000);

    /* the same without the horizon: rsync cannot see the change to 1259 */
    o = base_opts(&r);
    o.reuse = RSYNC_REUSE_LINK;
    o.reuse_dir = first;
    const char *third = unit_path("b3");
    assert_int_equal(rsync_copy(src_dir, third, &o, &st, &err), 0);
    assert_true(inode_of(first, "base/1/1259") == inode_of(third, "base/1/1259"));
    assert_int_equal(st.transferred_bytes, 1500);
}

static void test_rsync_copy_copy_reuse(void **state)
{
    (void)state;
    build_tree();
    struct rsync_stats st;
    struct cel_err err = {0};
    char first[4400];
    snprintf(first, sizeof first, "%s", unit_path("b1"));
    struct rec r;
    struct rsync_opts o = base_opts(&r);
    assert_int_equal(rsync_copy(src_dir, first, &o, &st, &err), 0);
    o = base_opts(&r);
    o.reuse = RSYNC_REUSE_COPY;
    o.reuse_dir = "b1"; /* relative to the current directory */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(unit_tmp), 0);
    const char *second = unit_path("b2");
    int rc = rsync_copy(src_dir, second, &o, &st, &err);
    assert_int_equal(chdir(cwd), 0);
    if (rc != 0)
        fail_msg("rsync_copy: %s", err.msg);
    check_tree(src_dir, second);
    assert_int_equal(st.transferred_bytes, 0); /* all copied locally from b1 */
    for (size_t i = 0; i < CEL_ARRAY_LEN(kept); i++)
        assert_true(inode_of(first, kept[i].path) != inode_of(second, kept[i].path));
}

static void test_rsync_copy_remote_source(void **state)
{
    (void)state;
    build_tree();
    /* the listing must be read as UTC whatever our time zone */
    setenv("TZ", "XYZ+05", 1);
    tzset();
    struct rec r;
    struct rsync_opts o = base_opts(&r);
    o.ssh_command = fake_ssh();
    o.workers = 2;
    o.compress = true;
    o.bwlimit_kbps = 100000;
    struct rsync_stats st;
    struct cel_err err = {0};
    char first[4400];
    snprintf(first, sizeof first, "%s", unit_path("r1"));
    int rc = rsync_copy(src_dir, first, &o, &st, &err);
    if (rc != 0)
        fail_msg("rsync_copy: %s", err.msg);
    check_tree(src_dir, first);
    assert_int_equal(st.files, CEL_ARRAY_LEN(kept) + 1);
    assert_int_equal(st.bytes, kept_bytes(true));
    assert_progress_complete(&r, &st);

    /* a file exactly at the horizon is checked: its mtime was parsed right */
    char p[4400];
    in_src(p, sizeof p, "base/1/2619");
    write_bytes(p, 1000, 77, 0600, BASE_MTIME + 5);
    o = base_opts(&r);
    o.ssh_command = fake_ssh();
    o.reuse = RSYNC_REUSE_LINK;
    o.reuse_dir = first;
    o.safe_horizon = BASE_MTIME + 5;
    const char *second = unit_path("r2");
    rc = rsync_copy(src_dir, second, &o, &st, &err);
    unsetenv("TZ");
    tzset();
    if (rc != 0)
        fail_msg("rsync_copy: %s", err.msg);
    check_tree(src_dir, second);
    assert_true(inode_of(first, "base/1/2619") != inode_of(second, "base/1/2619"));
    assert_true(inode_of(first, "base/1/1259") == inode_of(second, "base/1/1259"));
}

static void test_rsync_copy_remote_dest(void **state)
{
    (void)state;
    build_tree();
    struct rec r;
    struct rsync_opts o = base_opts(&r);
    o.ssh_command = fake_ssh();
    o.remote_is_dest = true;
    o.workers = 3;
    struct rsync_stats st;
    struct cel_err err = {0};
    const char *dst = unit_path("remote/new dir/data");
    int rc = rsync_copy(src_dir, dst, &o, &st, &err);
    if (rc != 0)
        fail_msg("rsync_copy: %s", err.msg);
    check_tree(src_dir, dst);
    assert_progress_complete(&r, &st);
}

static void test_rsync_copy_bad_source(void **state)
{
    (void)state;
    struct cel_err err = {0};
    const char *missing = unit_path("nothing-here");
    assert_int_equal(rsync_copy(missing, unit_path("dst"), NULL, NULL, &err), -CEL_E_IO);
    char want[4400];
    snprintf(want, sizeof want, "cannot read source directory '%s': No such file or directory",
             missing);
    assert_string_equal(err.msg, want);

    /* over ssh, rsync itself reports it */
    struct rsync_opts o = {.ssh_command = fake_ssh()};
    assert_int_equal(rsync_copy(missing, unit_path("dst"), &o, NULL, &err), -CEL_E_PROC);
    assert_true(cel_str_starts(err.msg, "cannot list ':"));
    assert_non_null(strstr(err.msg, "rsync listing exited with status 23: "));
    assert_non_null(strstr(err.msg, "No such file or directory"));
}

static void test_rsync_copy_cancelled_before(void **state)
{
    (void)state;
    build_tree();
    volatile int cancel = 1;
    struct cel_err err = {0};
    struct rsync_opts o = {.cancel = &cancel};
    assert_int_equal(rsync_copy(src_dir, unit_path("dst"), &o, NULL, &err), -CEL_E_PROC);
    assert_string_equal(err.msg, "cancelled");
    assert_int_equal(access(unit_path("dst"), F_OK), -1); /* nothing was done */
    assert_int_equal(rsync_copy_file(src_dir, unit_path("f"), &o, &err), -CEL_E_PROC);
    assert_string_equal(err.msg, "cancelled");
}

static volatile int alarm_cancel;

static void on_alarm(int sig)
{
    (void)sig;
    alarm_cancel = 1;
}

/* Set alarm_cancel after ms milliseconds. */
static void cancel_after(int ms)
{
    alarm_cancel = 0;
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {.it_value = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000}};
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A slow copy (bwlimit) is stopped within a poll interval of the cancel,
 * and no child is left behind. */
static void test_rsync_copy_cancelled_during_copy(void **state)
{
    (void)state;
    unit_mkdir("src");
    write_bytes(unit_path("src/big"), 4 << 20, 3, 0600, BASE_MTIME);
    write_bytes(unit_path("src/big2"), 4 << 20, 4, 0600, BASE_MTIME);
    struct cel_err err = {0};
    struct rsync_opts o = {.cancel = &alarm_cancel, .bwlimit_kbps = 2000, .workers = 2};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cancel_after(300);
    assert_int_equal(rsync_copy(unit_path("src"), unit_path("dst"), &o, NULL, &err), -CEL_E_PROC);
    assert_string_equal(err.msg, "cancelled");
    /* rsync itself takes about 0.4 s to obey SIGTERM */
    assert_true(ms_since(&t0) < 1500);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* every child reaped */
    assert_int_equal(errno, ECHILD);
}

/* A failed worker is run again; the retries are logged. */
static void test_rsync_copy_retries(void **state)
{
    (void)state;
    build_tree();
    struct rec r;
    struct rsync_opts o = base_opts(&r);
    o.path_prefix = fake_rsync(2);
    o.retry_times = 2;
    struct rsync_stats st;
    struct cel_err err = {0};
    int rc = rsync_copy(src_dir, unit_path("dst"), &o, &st, &err);
    if (rc != 0)
        fail_msg("rsync_copy: %s", err.msg);
    check_tree(src_dir, unit_path("dst"));
    assert_int_equal(r.logs, 2);
    assert_string_equal(
        r.log[0], "rsync directory pass exited with status 12; retrying in 0 s (retry 1 of 2)");
    assert_string_equal(
        r.log[1], "rsync directory pass exited with status 12; retrying in 0 s (retry 2 of 2)");
}

static void test_rsync_copy_retries_exhausted(void **state)
{
    (void)state;
    build_tree();
    struct rec r;
    struct rsync_opts o = base_opts(&r);
    o.path_prefix = fake_rsync(1000);
    o.retry_times = 1;
    struct cel_err err = {0};
    const char *dst = unit_path("dst");
    assert_int_equal(rsync_copy(src_dir, dst, &o, NULL, &err), -CEL_E_PROC);
    char want[9000];
    snprintf(want, sizeof want,
             "cannot copy '%s/' to '%s/': rsync directory pass exited with status 12 after 2 "
             "attempts: rsync: simulated failure",
             src_dir, dst);
    assert_string_equal(err.msg, want);
    assert_int_equal(r.logs, 1);
}

/* A retry waits retry_sleep seconds, and a cancel ends the wait. */
static void test_rsync_copy_cancel_during_retry_sleep(void **state)
{
    (void)state;
    build_tree();
    struct rsync_opts o = {.path_prefix = fake_rsync(1000),
                           .retry_times = 3,
                           .retry_sleep = 30,
                           .cancel = &alarm_cancel};
    struct cel_err err = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cancel_after(300);
    assert_int_equal(rsync_copy(src_dir, unit_path("dst"), &o, NULL, &err), -CEL_E_PROC);
    assert_string_equal(err.msg, "cancelled");
    assert_true(ms_since(&t0) < 1500);
}

/* A file removed between the listing and the copy: not an error, logged,
 * counted, and the progress still ends at the total. */
static void test_rsync_copy_vanished_file(void **state)
{
    (void)state;
    build_tree();
    struct rec r;
    struct rsync_opts o = base_opts(&r);
    char gone[4400];
    in_src(gone, sizeof gone, "base/1/2619");
    r.unlink_first = gone;
    struct rsync_stats st;
    struct cel_err err = {0};
    const char *dst = unit_path("dst");
    int rc = rsync_copy(src_dir, dst, &o, &st, &err);
    if (rc != 0)
        fail_msg("rsync_copy: %s", err.msg);
    assert_int_equal(st.vanished, 1);
    assert_int_equal(r.logs, 1);
    assert_non_null(strstr(r.log[0], "base/1/2619"));
    assert_non_null(strstr(r.log[0], "No such file or directory"));
    assert_progress_complete(&r, &st);
    char p[4400];
    snprintf(p, sizeof p, "%s/base/1/2619", dst);
    assert_int_equal(access(p, F_OK), -1);
}

static void test_rsync_copy_file(void **state)
{
    (void)state;
    build_tree();
    char src[4400];
    in_src(src, sizeof src, "global/pg_control");
    struct cel_err err = {0};
    const char *dst = unit_path("pg_control.copy");
    assert_int_equal(rsync_copy_file(src, dst, NULL, &err), 0);
    assert_same_content(src, dst);
    struct stat a, b;
    lstat_ok(src, &a);
    lstat_ok(dst, &b);
    assert_int_equal(a.st_mtime, b.st_mtime);
    assert_int_equal(a.st_mode & 07777, b.st_mode & 07777);

    /* from the ssh host */
    struct rsync_opts o = {.ssh_command = fake_ssh()};
    const char *dst2 = unit_path("-dash copy");
    assert_int_equal(rsync_copy_file(src, dst2, &o, &err), 0);
    assert_same_content(src, dst2);

    /* a missing file is an error, not a vanished file */
    assert_int_equal(rsync_copy_file(unit_path("missing"), unit_path("x"), NULL, &err),
                     -CEL_E_PROC);
    assert_non_null(strstr(err.msg, "rsync copy exited with status 23: "));
}

/* ---- remote commands ---------------------------------------------------- */

static void test_rsync_remote_run_local(void **state)
{
    (void)state;
    char *out = NULL;
    struct cel_err err = {0};
    assert_int_equal(rsync_remote_run(NULL, NULL, ARGV("printf", "%s", "a b'c"), &out, &err), 0);
    assert_string_equal(out, "a b'c");
    free(out);
    assert_int_equal(
        rsync_remote_run(NULL, NULL, ARGV("sh", "-c", "echo no >&2; exit 3"), &out, &err),
        -CEL_E_PROC);
    assert_null(out);
    assert_string_equal(err.msg, "'sh' exited with status 3: no");
}

/* Over the (fake) ssh, each argument reaches the program as it was, however
 * the remote shell would have read it unquoted. */
static void test_rsync_remote_run_ssh_quotes(void **state)
{
    (void)state;
    char *out = NULL;
    struct cel_err err = {0};
    const char *ssh = fake_ssh();
    assert_int_equal(rsync_remote_run(ssh, NULL,
                                      ARGV("printf", "[%s]", "a b'c", "$HOME", "`id`;*", "", "-n"),
                                      &out, &err),
                     0);
    assert_string_equal(out, "[a b'c][$HOME][`id`;*][][-n]");
    free(out);
    assert_int_equal(
        rsync_remote_run(ssh, NULL, ARGV("mkdir", "-p", "--", unit_path("r/a b")), NULL, &err), 0);
    assert_true(access(unit_path("r/a b"), F_OK) == 0);
    assert_int_equal(rsync_remote_run(ssh, NULL, ARGV("false"), NULL, &err), -CEL_E_PROC);
    char want[4500];
    snprintf(want, sizeof want, "'false' on %s exited with status 1", ssh);
    assert_string_equal(err.msg, want);
}

/* ---- building blocks ---------------------------------------------------- */

static void test_rsync_split_balances_largest_first(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1, 10, 5, 7, 3};
    int group[5];
    /* 10 -> 0; 7 -> 1; 5 -> 1 (7 < 10); 3 -> 0 (10 < 12); 1 -> 1 (12 < 13) */
    assert_int_equal(rsync_split(sizes, 5, 2, group), 2);
    assert_int_equal(group[0], 1);
    assert_int_equal(group[1], 0);
    assert_int_equal(group[2], 1);
    assert_int_equal(group[3], 1);
    assert_int_equal(group[4], 0);

    assert_int_equal(rsync_split(sizes, 5, 8, group), 5); /* never more lists than items */
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            assert_true(group[i] != group[j]);
    assert_int_equal(rsync_split(sizes, 5, 0, group), 1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(group[i], 0);
    assert_int_equal(rsync_split(sizes, 0, 4, group), 0);

    /* equal sizes go round in input order */
    const uint64_t eq[] = {4, 4, 4, 4};
    int g[4];
    assert_int_equal(rsync_split(eq, 4, 3, g), 3);
    assert_int_equal(g[0], 0);
    assert_int_equal(g[1], 1);
    assert_int_equal(g[2], 2);
    assert_int_equal(g[3], 0);
}

static void parse_ok(const char *line, char type, uint64_t size, time_t mtime, const char *path)
{
    struct rsync_entry e;
    struct cel_err err = {0};
    if (rsync_parse_list_line(line, &e, &err) != 0)
        fail_msg("'%s': %s", line, err.msg);
    assert_int_equal(e.type, type);
    assert_int_equal(e.size, size);
    assert_int_equal(e.mtime, mtime);
    assert_string_equal(e.path, path);
    free(e.path);
}

static void test_rsync_parse_list_line(void **state)
{
    (void)state;
    /* captured from rsync 3.5.0 -r --list-only --no-human-readable */
    parse_ok("drwxr-xr-x        4096 2026/11/24 08:27:06 .", 'd', 4096, 1795508826, ".");
    parse_ok("-rw-------    16777216 2024/02/29 23:59:59 pg_wal/000000010000000000000001", '-',
             16777216, 1709251199, "pg_wal/000000010000000000000001");
    parse_ok("lrwxrwxrwx           9 2024/01/01 00:00:00 pg_tblspc/16384", 'l', 9, 1704067200,
             "pg_tblspc/16384");
    parse_ok("-rw-r--r--           1 2026/11/24 08:27:06 new\\#012line", '-', 1, 1795508826,
             "new\nline");
    parse_ok("-rw-r--r--           1 2026/11/24 08:27:06 back\\#134#123x", '-', 1, 1795508826,
             "back\\#123x");
    parse_ok("-rw-r--r--           1 2026/11/24 08:27:06 \\#303\\#274n\\#303\\#257", '-', 1,
             1795508826, "\xc3\xbcn\xc3\xaf");
    parse_ok("-rw-r--r--           2 2026/11/24 08:27:06  leading space", '-', 2, 1795508826,
             " leading space");
    parse_ok("-rw-r--r--           2 2026/11/24 08:27:06 -dash -> x", '-', 2, 1795508826,
             "-dash -> x");
    parse_ok("-rw-r--r-- 18446744073709551615 2024/01/01 00:00:00 big", '-', UINT64_MAX, 1704067200,
             "big");
    /* the format of an rsync built without strftime */
    parse_ok("-rw-r--r--           5 Thu Feb 29 23:59:59 2024 old format", '-', 5, 1709251199,
             "old format");

    const char *bad[] = {
        "",
        "garbage",
        "-rw-r--r-- x 2024/01/01 00:00:00 a",
        "-rw-r--r-- 1 2024/01/01 00:00:00",
        "-rw-r--r-- 1 2024/01/01 00:00:00 ",
        "-rw-r--r-- 1 2024/13/01 00:00:00 a",
        "-rw-r--r-- 1 Thu Foo 29 23:59:59 2024 a",
        "-rw-r--r-- 18446744073709551616 2024/01/01 00:00:00 a",
        "rsync: change_dir \"/x\" failed: No such file or directory (2)",
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(bad); i++) {
        struct rsync_entry e;
        struct cel_err err = {0};
        assert_int_equal(rsync_parse_list_line(bad[i], &e, &err), -CEL_E_FORMAT);
        assert_null(e.path);
        char want[600];
        snprintf(want, sizeof want, "cannot parse rsync --list-only output line '%s'", bad[i]);
        assert_string_equal(err.msg, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, unit_setup_tmpdir, unit_teardown_tmpdir)
        T(test_rsync_copy_one_worker),
        T(test_rsync_copy_three_workers),
        T(test_rsync_copy_more_workers_than_files),
        T(test_rsync_copy_link_reuse_and_safe_horizon),
        T(test_rsync_copy_copy_reuse),
        T(test_rsync_copy_remote_source),
        T(test_rsync_copy_remote_dest),
        T(test_rsync_copy_bad_source),
        T(test_rsync_copy_cancelled_before),
        T(test_rsync_copy_cancelled_during_copy),
        T(test_rsync_copy_retries),
        T(test_rsync_copy_retries_exhausted),
        T(test_rsync_copy_cancel_during_retry_sleep),
        T(test_rsync_copy_vanished_file),
        T(test_rsync_copy_file),
        T(test_rsync_remote_run_local),
        T(test_rsync_remote_run_ssh_quotes),
        T(test_rsync_split_balances_largest_first),
        T(test_rsync_parse_list_line),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
