/*
 * priv.h - running as barman_user.
 *
 * Everything cellar writes in barman_home must belong to barman_user, so
 * that the next run, as that user, can read and replace it. Started as root,
 * cellar therefore becomes barman_user (supplementary groups, group, user,
 * then HOME/USER/LOGNAME) before it opens the log or touches the home, as
 * Barman does. The rule, decided in one place (priv_become):
 *
 *   - barman_user is the user running cellar: nothing to do;
 *   - barman_user is root: nothing changes, whoever runs cellar;
 *   - started as root: switch to barman_user, unless the caller keeps root
 *     (the commands that write a PostgreSQL data directory for another
 *     user: recover and start-recovered, which write nothing in barman_home);
 *   - started as another user: refused, with a message naming both users
 *     (Barman refuses too: that user could not write barman_home anyway).
 */
#ifndef CEL_PRIV_H
#define CEL_PRIV_H

#include <sys/types.h>

#include "error.h"

/* What priv_become found and did. */
struct priv_user {
    uid_t uid; /* barman_user's */
    gid_t gid;
    bool switched;  /* the process is now barman_user (was root) */
    bool kept_root; /* root stayed root although barman_user is another user */
};

/* Become barman_user (name) following the rule above; keep_root asks root
 * to stay root. Fills out (may be NULL). Returns 0; -CEL_E_CONFIG when the
 * user does not exist or the switch fails (the process is then unchanged or
 * exits through the caller; nothing has been written); -CEL_E_USAGE when a
 * user other than root and barman_user runs cellar. Not thread-safe
 * (getpwnam, setenv): call it first thing, before any thread or child. */
int priv_become(const char *name, bool keep_root, struct priv_user *out, struct cel_err *err);

/* For a command that kept root: give path (a file cellar created as root in
 * a place barman_user owns, the log) to barman_user when root owns it. A
 * symbolic link is left alone. Best effort: returns 0 or -1 with errno. */
int priv_give(const struct priv_user *u, const char *path);

#endif
