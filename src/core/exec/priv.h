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
 *   - started as root: switch to barman_user, for every command that reads
 *     the configuration (recover too: it archives what waits in incoming/
 *     and takes barman_home's locks before it copies);
 *   - started as another user: refused, with a message naming both users
 *     (Barman refuses too: that user could not write barman_home anyway).
 */
#ifndef CEL_PRIV_H
#define CEL_PRIV_H

#include <sys/types.h>

#include "error.h"

/* uid's user name into buf (size bytes), "uid N" when it has none: for
 * messages. */
void priv_user_name(uid_t uid, char *buf, size_t size);

/* Become barman_user (name) following the rule above. Returns 0;
 * -CEL_E_CONFIG when the user does not exist or the switch fails (nothing
 * has been written); -CEL_E_USAGE when a user other than root and
 * barman_user runs cellar. Not thread-safe (getpwnam, setenv): call it
 * before any thread or child. */
int priv_become(const char *name, struct cel_err *err);

/* The home directory priv_become(name) will set HOME to, when it is going
 * to switch users (we are root, and name is another user that exists and
 * is not root); NULL when it will not switch. The caller frees. For the
 * configuration's '~', which must be barman_user's home even while root
 * still reads the file. */
char *priv_switch_home(const char *name);

#endif
