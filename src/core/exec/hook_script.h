/*
 * hook_script.h - the DBA's hook scripts (pre_/post_<operation>[_retry]_script).
 *
 * A hook is a command string from the configuration, run through the shell
 * (proc_run_shell) with Barman's environment, so hook scripts written for
 * Barman work unchanged:
 *   BARMAN_VERSION (the Barman version cellar is compatible with, 3.4.0),
 *   CELLAR_VERSION, BARMAN_SERVER, BARMAN_CONFIGURATION, BARMAN_HOOK
 *   ("archive_script", "archive_retry_script", ...), BARMAN_PHASE (pre or
 *   post), BARMAN_RETRY (1 for retry hooks), BARMAN_ERROR, plus the
 *   operation's own variables (BARMAN_SEGMENT, BARMAN_FILE ...).
 * What a hook prints goes to the log. A plain hook's exit status is logged
 * and never trusted. A retry hook runs until it exits 0 (success), 62 (give
 * up, carry on) or 63 (give up, stop the operation), pausing 3 s after a
 * failure and 60 s after every 5 failures in a row, as Barman does.
 */
#ifndef CEL_HOOK_H
#define CEL_HOOK_H

#include "error.h"

/* The Barman version whose hook environment cellar reproduces. */
#define HOOK_BARMAN_VERSION "3.4.0"
#define HOOK_EXIT_ABORT_CONTINUE 62
#define HOOK_EXIT_ABORT_STOP 63

enum hook_outcome {
    HOOK_NONE,           /* no hook configured */
    HOOK_OK,             /* exit status 0 */
    HOOK_FAILED,         /* a plain hook failed (logged, ignored) */
    HOOK_ABORT_CONTINUE, /* retry hook exit 62 */
    HOOK_ABORT_STOP,     /* retry hook exit 63 */
};

/* Extra environment: "NAME=value" strings, built with hook_vars_add. */
struct hook_vars {
    char **items;
    size_t n;
};
void hook_vars_add(struct hook_vars *v, const char *name, const char *fmt, ...) CEL_PRINTF(3, 4);
void hook_vars_free(struct hook_vars *v);

struct hook_ctx {
    const char *server;
    const char *config_file;
    const char *path_prefix;
    int retry_pause_ms; /* 0: 3000 */
    int retry_nap_ms;   /* 0: 60000 */
};

/* Run command (NULL: nothing to run, HOOK_NONE) as hook name ("archive")
 * in phase ("pre"/"post"); retry selects retry semantics. Returns 0 with
 * *out set, or -CEL_E_PROC when the shell could not be started at all. */
int hook_run(const struct hook_ctx *ctx, const char *command, const char *name,
             const char *phase, bool retry, const struct hook_vars *vars,
             enum hook_outcome *out, struct cel_err *err);

#endif
