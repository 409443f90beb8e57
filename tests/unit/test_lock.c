/* Unit tests of src/core/storage/lock.c, with a second process holding the lock. */
#include "unit.h"

#include <signal.h>
#include <sys/wait.h>

#include "lock.h"

/* Fork a child that takes dir/name, reports on a pipe, and holds it until
 * killed. Returns the child's PID once it holds the lock. */
static pid_t hold_in_child(const char *dir, const char *name)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct lock *l;
        if (lock_acquire(dir, name, false, &l, NULL) < 0)
            _exit(1);
        (void)!write(fds[1], "x", 1);
        pause();
        _exit(0);
    }
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    return pid;
}

static void stop_child(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_lock_name_is_barmans(void **state)
{
    (void)state;
    char name[LOCK_NAME_MAX];
    lock_name("main", "backup", name);
    assert_string_equal(name, ".main-backup.lock");
    lock_name("pg-15", "xlogdb", name);
    assert_string_equal(name, ".pg-15-xlogdb.lock");
}

static void test_lock_acquire_writes_pid_and_release_keeps_file(void **state)
{
    (void)state;
    struct lock *l = NULL;
    struct cel_err err = {0};
    assert_int_equal(lock_acquire(unit_tmp, ".main-backup.lock", false, &l, &err), 0);
    char *text = unit_read(unit_path(".main-backup.lock"));
    char expected[32];
    snprintf(expected, sizeof expected, "%ld\n", (long)getpid());
    assert_string_equal(text, expected);
    free(text);
    lock_release(l);
    struct stat st;
    assert_int_equal(stat(unit_path(".main-backup.lock"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    lock_release(NULL);
}

static void test_lock_acquire_busy_names_holder(void **state)
{
    (void)state;
    pid_t child = hold_in_child(unit_tmp, ".main-cron.lock");
    struct lock *l = NULL;
    struct cel_err err = {0};
    assert_int_equal(lock_acquire(unit_tmp, ".main-cron.lock", false, &l, &err), -CEL_E_LOCKED);
    assert_null(l);
    char expected[4400];
    snprintf(expected, sizeof expected, "'%s/.main-cron.lock' is held by another process (PID %ld)",
             unit_tmp, (long)child);
    assert_string_equal(err.msg, expected);
    pid_t holder = 0;
    assert_int_equal(lock_probe(unit_tmp, ".main-cron.lock", &holder, &err), 1);
    assert_int_equal(holder, child);
    stop_child(child);
    /* the holder died: the kernel released its flock, the lock is free */
    assert_int_equal(lock_probe(unit_tmp, ".main-cron.lock", &holder, &err), 0);
    assert_int_equal(lock_acquire(unit_tmp, ".main-cron.lock", false, &l, &err), 0);
    lock_release(l);
}

static void test_lock_probe_missing_file_is_free(void **state)
{
    (void)state;
    pid_t holder = 42;
    assert_int_equal(lock_probe(unit_tmp, ".x-backup.lock", &holder, NULL), 0);
    assert_int_equal(holder, 0);
}

static void test_lock_acquire_missing_dir_is_io_error(void **state)
{
    (void)state;
    struct lock *l = NULL;
    struct cel_err err = {0};
    assert_int_equal(lock_acquire(unit_path("nodir"), ".a.lock", false, &l, &err), -CEL_E_IO);
    char expected[4400];
    snprintf(expected, sizeof expected,
             "cannot open lock file '%s/.a.lock': No such file or directory", unit_path("nodir"));
    assert_string_equal(err.msg, expected);
}

static void test_lock_acquire_wait_blocks_until_free(void **state)
{
    (void)state;
    pid_t child = hold_in_child(unit_tmp, ".main-xlogdb.lock");
    /* a grandchild kills the holder shortly; our blocking acquire must then
     * succeed */
    pid_t killer = fork();
    assert_true(killer >= 0);
    if (killer == 0) {
        usleep(200000);
        kill(child, SIGKILL);
        _exit(0);
    }
    struct lock *l = NULL;
    assert_int_equal(lock_acquire(unit_tmp, ".main-xlogdb.lock", true, &l, NULL), 0);
    lock_release(l);
    waitpid(killer, NULL, 0);
    waitpid(child, NULL, 0);
}

/* A lock file that is a symbolic link (planted in the lock directory) is
 * not followed: nothing is created or written where it points. */
static void test_lock_acquire_refuses_symlink(void **state)
{
    (void)state;
    assert_int_equal(symlink(unit_path("elsewhere"), unit_path(".main-backup.lock")), 0);
    struct lock *l = NULL;
    struct cel_err err = {0};
    assert_int_equal(lock_acquire(unit_tmp, ".main-backup.lock", false, &l, &err), -CEL_E_IO);
    assert_null(l);
    assert_int_equal(err.sys_errno, ELOOP);
    struct stat st;
    assert_int_equal(lstat(unit_path("elsewhere"), &st), -1);
}

/* lock_cleanup removes the lock files nobody holds and keeps the held one
 * (a child holds it), other files and links; a lock taken afterwards works
 * on a fresh file. */
static void test_lock_cleanup_removes_only_free_files(void **state)
{
    (void)state;
    struct lock *l = NULL;
    assert_int_equal(lock_acquire(unit_tmp, ".main-backup.lock", false, &l, NULL), 0);
    lock_release(l);
    assert_int_equal(lock_acquire(unit_tmp, ".main-cron.lock", false, &l, NULL), 0);
    lock_release(l);
    pid_t child = hold_in_child(unit_tmp, ".main-receive-wal.lock");
    FILE *f = fopen(unit_path("keep.lock"), "w"); /* not a dot-file */
    assert_non_null(f);
    fclose(f);
    assert_int_equal(symlink(unit_path("nowhere"), unit_path(".link.lock")), 0);
    size_t removed = 0;
    assert_int_equal(lock_cleanup(unit_tmp, &removed, NULL), 0);
    assert_int_equal(removed, 2);
    struct stat st;
    assert_int_equal(stat(unit_path(".main-backup.lock"), &st), -1);
    assert_int_equal(stat(unit_path(".main-cron.lock"), &st), -1);
    assert_int_equal(stat(unit_path(".main-receive-wal.lock"), &st), 0);
    assert_int_equal(stat(unit_path("keep.lock"), &st), 0);
    assert_int_equal(lstat(unit_path(".link.lock"), &st), 0);
    pid_t holder = 0;
    assert_int_equal(lock_probe(unit_tmp, ".main-receive-wal.lock", &holder, NULL), 1);
    assert_int_equal(holder, child);
    stop_child(child);
    assert_int_equal(lock_acquire(unit_tmp, ".main-backup.lock", false, &l, NULL), 0);
    assert_int_equal(stat(unit_path(".main-backup.lock"), &st), 0);
    lock_release(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_name_is_barmans),
        cmocka_unit_test_setup_teardown(test_lock_acquire_writes_pid_and_release_keeps_file,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_lock_acquire_busy_names_holder, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_lock_probe_missing_file_is_free, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_lock_acquire_missing_dir_is_io_error,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_lock_acquire_wait_blocks_until_free, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_lock_cleanup_removes_only_free_files,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_lock_acquire_refuses_symlink, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
