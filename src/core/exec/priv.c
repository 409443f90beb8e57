/*
 * priv.c - becoming barman_user (see priv.h for the rule).
 *
 * The switch is the classic order: initgroups (needs root), setgid, setuid.
 * setuid as root sets the real, effective and saved IDs, so there is no way
 * back; that is then verified (setuid(0) must fail), so that a kernel or a
 * container that silently refuses part of the switch cannot leave cellar
 * writing as root. HOME, USER and LOGNAME follow, because ssh and rsync find
 * barman_user's keys and known_hosts through them.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "priv.h"

void priv_user_name(uid_t uid, char *buf, size_t size)
{
    struct passwd *pw = getpwuid(uid);
    if (pw)
        cel_strlcpy(buf, pw->pw_name, size);
    else
        snprintf(buf, size, "uid %ld", (long)uid);
}

static int switch_to(const struct passwd *pw, struct cel_err *err)
{
    const char *step = NULL;
    if (initgroups(pw->pw_name, pw->pw_gid) < 0)
        step = "initgroups";
    else if (setgid(pw->pw_gid) < 0)
        step = "setgid";
    else if (setuid(pw->pw_uid) < 0)
        step = "setuid";
    else if (setuid(0) == 0 || geteuid() != pw->pw_uid || getegid() != pw->pw_gid) {
        errno = EPERM;
        step = "dropping root for good";
    }
    if (step) {
        int rc = cel_err_sys(err, CEL_E_CONFIG, errno, "cannot switch to barman_user '%s' (%s)",
                             pw->pw_name, step);
        cel_err_hint(err, "cellar stops rather than write in barman_home as root.");
        return rc;
    }
    setenv("HOME", pw->pw_dir, 1);
    setenv("USER", pw->pw_name, 1);
    setenv("LOGNAME", pw->pw_name, 1);
    return 0;
}

int priv_become(const char *name, struct cel_err *err)
{
    if (!name || !*name)
        return 0;
    errno = 0;
    struct passwd *pw = getpwnam(name);
    /* getpwnam(3): these errno values also mean "no such user" with some
     * name-service modules; only another error is a failed look-up */
    bool missing = errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF ||
                   errno == EPERM;
    if (!pw) {
        int rc =
            !missing ? cel_err_sys(err, CEL_E_CONFIG, errno, "cannot look up barman_user '%s'", name)
                  : cel_err_set(err, CEL_E_CONFIG, "barman_user '%s' does not exist", name);
        cel_err_hint(err, "Set barman_user to the system user that owns barman_home, or create "
                          "that user; nothing was written.");
        return rc;
    }
    if (pw->pw_uid == geteuid() || pw->pw_uid == 0)
        return 0; /* already barman_user, or barman_user is root: nothing changes */
    if (geteuid() == 0)
        return switch_to(pw, err);
    /* pw points into getpwnam's static storage, which whoami's getpwuid
     * may reuse: keep the name first */
    char want[64], me[64];
    cel_strlcpy(want, pw->pw_name, sizeof want);
    priv_user_name(geteuid(), me, sizeof me);
    int rc = cel_err_set(err, CEL_E_USAGE, "cellar runs as barman_user '%s', not as '%s'", want,
                         me);
    cel_err_hint(err,
                 "Run it as that user (sudo -u %s cellar ...), or as root, which switches to it.",
                 want);
    return rc;
}

char *priv_switch_home(const char *name)
{
    if (!name || !*name || geteuid() != 0)
        return NULL;
    struct passwd *pw = getpwnam(name);
    if (!pw || pw->pw_uid == 0 || !pw->pw_dir)
        return NULL;
    return cel_xstrdup(pw->pw_dir);
}
