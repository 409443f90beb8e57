/* Unit tests of src/core/exec/priv.c. The switches run in forked children (a
 * switch cannot be undone); they need root and the barman and postgres OS
 * users, as the integration tests do, and are skipped without them. */
#include "unit.h"

#include <pwd.h>
#include <sys/wait.h>

#include "priv.h"

/* Run fn in a child process; returns its exit status (0: the child's
 * assertions held). */
static int in_child(void (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static bool have_users(void)
{
    return geteuid() == 0 && getpwnam("barman") && getpwnam("postgres");
}

static void test_priv_become_missing_user_is_config_error(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(priv_become("cellar-no-such-user", &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "barman_user 'cellar-no-such-user' does not exist");
    assert_string_equal(err.hint, "Set barman_user to the system user that owns barman_home, or "
                                  "create that user; nothing was written.");
}

static void test_priv_become_self_or_root_changes_nothing(void **state)
{
    (void)state;
    struct passwd *me = getpwuid(geteuid());
    assert_non_null(me);
    char name[256];
    cel_strlcpy(name, me->pw_name, sizeof name);
    uid_t before = geteuid();
    assert_int_equal(priv_become(name, NULL), 0);
    assert_int_equal(priv_become("root", NULL), 0);
    assert_int_equal(priv_become(NULL, NULL), 0);
    assert_int_equal(geteuid(), before);
}

/* child: root becomes barman, for good, with barman's environment */
static void become_barman(void)
{
    struct passwd *pw = getpwnam("barman");
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    char home[4096];
    cel_strlcpy(home, pw->pw_dir, sizeof home);
    struct cel_err err = {0};
    if (priv_become("barman", &err) != 0)
        _exit(1);
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
        _exit(2);
    if (setuid(0) == 0 || seteuid(0) == 0)
        _exit(3); /* root must be gone for good */
    if (strcmp(getenv("HOME"), home) != 0 || strcmp(getenv("USER"), "barman") != 0 ||
        strcmp(getenv("LOGNAME"), "barman") != 0)
        _exit(4);
    /* and again, now as barman: nothing to do */
    if (priv_become("barman", &err) != 0)
        _exit(5);
}

static void test_priv_become_root_switches_to_barman_user(void **state)
{
    (void)state;
    if (!have_users())
        skip();
    assert_int_equal(in_child(become_barman), 0);
}

/* child: postgres asking to run as barman is refused, naming both */
static void postgres_refused(void)
{
    struct passwd *pw = getpwnam("postgres");
    uid_t uid = pw->pw_uid; /* pw is overwritten by the next getpwnam */
    if (setgid(pw->pw_gid) < 0 || setuid(uid) < 0)
        _exit(10);
    struct cel_err err = {0};
    if (priv_become("barman", &err) != -CEL_E_USAGE)
        _exit(1);
    if (strcmp(err.msg, "cellar runs as barman_user 'barman', not as 'postgres'") != 0)
        _exit(2);
    if (strcmp(err.hint, "Run it as that user (sudo -u barman cellar ...), or as root, which "
                         "switches to it.") != 0)
        _exit(3);
    if (geteuid() != uid)
        _exit(4);
    /* barman_user = root: any user may run cellar */
    if (priv_become("root", &err) != 0)
        _exit(5);
}

static void test_priv_become_other_user_is_refused(void **state)
{
    (void)state;
    if (!have_users())
        skip();
    assert_int_equal(in_child(postgres_refused), 0);
}

/* The home HOME becomes when root switches: barman's; no switch, no home */
static void test_priv_switch_home(void **state)
{
    (void)state;
    assert_null(priv_switch_home(NULL));
    assert_null(priv_switch_home("root"));
    assert_null(priv_switch_home("cellar-no-such-user"));
    if (!have_users())
        skip();
    char want[4096];
    cel_strlcpy(want, getpwnam("barman")->pw_dir, sizeof want);
    char *home = priv_switch_home("barman");
    assert_non_null(home);
    assert_string_equal(home, want);
    free(home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priv_become_missing_user_is_config_error),
        cmocka_unit_test(test_priv_become_self_or_root_changes_nothing),
        cmocka_unit_test(test_priv_become_root_switches_to_barman_user),
        cmocka_unit_test(test_priv_become_other_user_is_refused),
        cmocka_unit_test(test_priv_switch_home),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
