/* Unit tests of src/core/storage/storage.c: durable writes, mkdir -p, reads, names. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "unit.h"

#include <dirent.h>
#include <errno.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include "storage.h"

/*
 * fsync as seen by the code under test: defined here, it takes the place of
 * libc's for the objects linked into this program. It records whether each
 * descriptor it is given is close-on-exec, then syncs through the system
 * call itself.
 */
static int fsync_calls, fsync_without_cloexec;

int fsync(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    fsync_calls++;
    if (flags < 0 || !(flags & FD_CLOEXEC))
        fsync_without_cloexec++;
    return (int)syscall(SYS_fsync, fd);
}

/* readdir as seen by the code under test, failing with EIO once it has
 * returned readdir_fail_after entries (never when negative). */
static int readdir_fail_after = -1;

struct dirent *readdir(DIR *d)
{
    static struct dirent *(*real)(DIR *);
    if (!real)
        real = (struct dirent * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir");
    if (readdir_fail_after == 0) {
        errno = EIO;
        return NULL;
    }
    if (readdir_fail_after > 0)
        readdir_fail_after--;
    return real(d);
}


static void test_stor_write_file_creates_with_mode_and_no_temp_left(void **state)
{
    (void)state;
    struct cel_err err = {0};
    const char *path = unit_path("backup.info");
    assert_int_equal(stor_write_file(path, "status=DONE\n", 12, 0600, &err), 0);
    char *text = unit_read(path);
    assert_string_equal(text, "status=DONE\n");
    free(text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(unit_count_entries(unit_tmp), 1);
}

static void test_stor_write_file_descriptors_are_close_on_exec(void **state)
{
    (void)state;
    /* a program started while the file is open (by another thread, or a
     * hook later) must not inherit it */
    fsync_calls = fsync_without_cloexec = 0;
    assert_int_equal(stor_write_file(unit_path("f"), "x", 1, 0600, NULL), 0);
    assert_int_equal(fsync_calls, 2); /* the file, then its directory */
    assert_int_equal(fsync_without_cloexec, 0);
}

static void test_stor_write_file_replaces_existing(void **state)
{
    (void)state;
    const char *path = unit_write("f", "old content that is longer");
    assert_int_equal(stor_write_file(path, "new", 3, 0644, NULL), 0);
    char *text = unit_read(path);
    assert_string_equal(text, "new");
    free(text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_stor_write_file_missing_dir_fails_and_keeps_nothing(void **state)
{
    (void)state;
    struct cel_err err = {0};
    const char *path = unit_path("nodir/f");
    assert_int_equal(stor_write_file(path, "x", 1, 0600, &err), -CEL_E_IO);
    assert_int_equal(err.sys_errno, ENOENT);
    char expected[4400];
    snprintf(expected, sizeof expected,
             "cannot create a temporary file for '%s': No such file or directory", path);
    assert_string_equal(err.msg, expected);
}

static void test_stor_write_file_rename_failure_keeps_old_file(void **state)
{
    (void)state;
    /* the target is a non-empty directory: rename must fail, the temp file
     * must be removed and the directory left as it was */
    unit_mkdir("target/child");
    struct cel_err err = {0};
    assert_int_equal(stor_write_file(unit_path("target"), "x", 1, 0600, &err), -CEL_E_IO);
    assert_true(strstr(err.msg, "cannot rename") != NULL);
    assert_int_equal(unit_count_entries(unit_tmp), 1);
    assert_true(stor_is_dir(unit_path("target/child")));
}

static void test_stor_mkdir_p_creates_levels_with_mode(void **state)
{
    (void)state;
    struct cel_err err = {0};
    const char *dir = unit_path("a/b/c/");
    assert_int_equal(stor_mkdir_p(dir, 0, &err), 0);
    assert_true(stor_is_dir(unit_path("a/b/c")));
    struct stat st;
    assert_int_equal(stat(unit_path("a/b"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* existing is fine */
    assert_int_equal(stor_mkdir_p(dir, 0, &err), 0);
}

static void test_stor_mkdir_p_refuses_file_in_the_way(void **state)
{
    (void)state;
    unit_write("file", "x");
    struct cel_err err = {0};
    assert_int_equal(stor_mkdir_p(unit_path("file/sub"), 0, &err), -CEL_E_IO);
    char expected[4400];
    snprintf(expected, sizeof expected,
             "cannot create directory '%s': a file of that name exists", unit_path("file"));
    assert_string_equal(err.msg, expected);
}

static void test_stor_mkdir_p_empty_name(void **state)
{
    (void)state;
    /* "" has no first level to skip: it must fail, not read past its end */
    struct cel_err err = {0};
    assert_int_equal(stor_mkdir_p("", 0, &err), -CEL_E_IO);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_string_equal(err.msg, "cannot create directory '': No such file or directory");
}

static void test_stor_read_file_reads_and_limits(void **state)
{
    (void)state;
    struct cel_err err = {0};
    char big[10000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *path = unit_write("big", big);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(stor_read_file(path, 1 << 20, &out, &len, &err), 0);
    assert_int_equal(len, sizeof big - 1);
    assert_string_equal(out, big);
    free(out);
    assert_int_equal(stor_read_file(path, 100, &out, &len, &err), -CEL_E_FORMAT);
    assert_null(out);
    char expected[4400];
    snprintf(expected, sizeof expected, "'%s' is larger than 100 bytes", path);
    assert_string_equal(err.msg, expected);
    assert_int_equal(stor_read_file(unit_path("none"), 100, &out, NULL, &err), -CEL_E_NOT_FOUND);
}

static void test_stor_check_component_accepts_and_refuses(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(stor_check_component("main", "server name", &err), 0);
    assert_int_equal(stor_check_component("20261124T034219", "backup ID", &err), 0);
    assert_int_equal(stor_check_component("", "server name", &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "server name is empty");
    assert_int_equal(stor_check_component("..", "backup ID", &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "backup ID '..' is not allowed");
    assert_int_equal(stor_check_component("a/b", "server name", &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "server name 'a/b' must not contain '/'");
    assert_int_equal(stor_check_component("a\nb", "WAL file name", &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "WAL file name contains a control character");
    char longname[300];
    memset(longname, 'a', 299);
    longname[299] = '\0';
    assert_int_equal(stor_check_component(longname, "server name", &err), -CEL_E_INVALID);
    assert_string_equal(err.msg, "server name is longer than 255 bytes");
}

static bool keep_no_x(const char *dir, const char *name, void *ctx)
{
    assert_string_equal(dir, unit_tmp);
    (*(int *)ctx)++;
    return name[0] != 'x';
}

static void test_stor_list_dir_sorted_filtered(void **state)
{
    (void)state;
    unit_write("b", "");
    unit_write("a10", "");
    unit_write("a9", "");
    unit_write("x1", "");
    unit_mkdir("C");
    struct stor_names names;
    int calls = 0;
    assert_int_equal(stor_list_dir(unit_tmp, keep_no_x, &calls, &names, NULL), 0);
    assert_int_equal(calls, 5);
    assert_int_equal(names.n, 4);
    assert_string_equal(names.names[0], "C");
    assert_string_equal(names.names[1], "a10");
    assert_string_equal(names.names[2], "a9");
    assert_string_equal(names.names[3], "b");
    stor_names_free(&names);
    assert_int_equal(names.n, 0);
}

static void test_stor_list_dir_read_error(void **state)
{
    (void)state;
    /* a listing cut short by an I/O error is an error, not a shorter list
     * (a backup missing from the catalogue looks deleted) */
    unit_write("a", "");
    unit_write("b", "");
    unit_write("c", "");
    struct stor_names names;
    struct cel_err err = {0};
    readdir_fail_after = 3;
    int rc = stor_list_dir(unit_tmp, NULL, NULL, &names, &err);
    readdir_fail_after = -1;
    assert_int_equal(rc, -CEL_E_IO);
    assert_int_equal(err.sys_errno, EIO);
    char expected[4400];
    snprintf(expected, sizeof expected, "cannot read directory '%s': Input/output error",
             unit_tmp);
    assert_string_equal(err.msg, expected);
    assert_int_equal(names.n, 0);
    assert_null(names.names);
}

static void test_stor_remove_stale_tmp_removes_only_its_temporaries(void **state)
{
    (void)state;
    unit_write("xlog.db", "");
    unit_write(".xlog.db.tmp.AbC123", "stale");
    unit_write(".xlog.db.tmp.zzzzzz", "stale");
    unit_write(".other.tmp.AbC123", "");
    unit_write("xlog.db.tmp.AbC123", "");
    unit_write(".xlog.db.tmpx", "");
    struct cel_err err = {0};
    assert_int_equal(stor_remove_stale_tmp(unit_path("xlog.db"), &err), 0);
    assert_false(stor_exists(unit_path(".xlog.db.tmp.AbC123")));
    assert_false(stor_exists(unit_path(".xlog.db.tmp.zzzzzz")));
    assert_true(stor_exists(unit_path("xlog.db")));
    assert_true(stor_exists(unit_path(".other.tmp.AbC123")));
    assert_true(stor_exists(unit_path("xlog.db.tmp.AbC123")));
    assert_true(stor_exists(unit_path(".xlog.db.tmpx")));
    assert_int_equal(stor_remove_stale_tmp(unit_path("nodir/xlog.db"), &err), 0);
}

static void test_stor_list_dir_empty_and_missing(void **state)
{
    (void)state;
    struct stor_names names;
    struct cel_err err = {0};
    assert_int_equal(stor_list_dir(unit_tmp, NULL, NULL, &names, &err), 0);
    assert_int_equal(names.n, 0);
    stor_names_free(&names);
    assert_int_equal(stor_list_dir(unit_path("none"), NULL, NULL, &names, &err), -CEL_E_NOT_FOUND);
    char expected[4400];
    snprintf(expected, sizeof expected, "cannot read directory '%s': No such file or directory",
             unit_path("none"));
    assert_string_equal(err.msg, expected);
}

static void test_stor_drop_cache_keeps_the_file(void **state)
{
    (void)state;
    const char *path = unit_write("consumed", "16 MiB of WAL, say");
    stor_drop_cache(path);
    char *out = NULL;
    struct cel_err err = {0};
    assert_int_equal(stor_read_file(path, 100, &out, NULL, &err), 0);
    assert_string_equal(out, "16 MiB of WAL, say");
    free(out);
    stor_drop_cache(unit_path("none")); /* nothing to do, nothing reported */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stor_remove_stale_tmp_removes_only_its_temporaries,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_write_file_creates_with_mode_and_no_temp_left,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_write_file_descriptors_are_close_on_exec,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_write_file_replaces_existing, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_write_file_missing_dir_fails_and_keeps_nothing,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_write_file_rename_failure_keeps_old_file,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_mkdir_p_creates_levels_with_mode,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_mkdir_p_refuses_file_in_the_way,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test(test_stor_mkdir_p_empty_name),
        cmocka_unit_test_setup_teardown(test_stor_read_file_reads_and_limits, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_stor_check_component_accepts_and_refuses),
        cmocka_unit_test_setup_teardown(test_stor_list_dir_sorted_filtered, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_list_dir_read_error, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_list_dir_empty_and_missing, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_stor_drop_cache_keeps_the_file, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
