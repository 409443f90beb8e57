/*
 * hooks.c - running an operation's hook scripts from an op.
 *
 * Each operation X (backup, archive, recovery, delete, wal_delete) has four
 * hooks in Barman's order: pre_X_script, pre_X_retry_script, then the
 * operation, then post_X_retry_script and post_X_script. A plain hook's
 * failure is logged and ignored; a pre retry hook that exits 63 stops the
 * operation (in the post phase 63 counts as 62, as in Barman).
 */
#include "hook.h"
#include "ops.h"

bool op_run_hooks(const struct op_ctx *ctx, const struct cfg_server *s, enum cfg_hook pre_hook,
                  const char *name, bool pre, const struct hook_vars *vars, char **abort_msg)
{
    /* the four hooks of an operation are consecutive in enum cfg_hook */
    const char *plain = s->hooks[pre ? pre_hook : pre_hook + 3];
    const char *retry = s->hooks[pre ? pre_hook + 1 : pre_hook + 2];
    const char *phase = pre ? "pre" : "post";
    if (abort_msg)
        *abort_msg = NULL;
    if (!plain && !retry)
        return false;
    struct hook_ctx hc = {.server = s->name,
                          .config_file = ctx->cfg->path,
                          .path_prefix = s->path_prefix};
    bool stop = false;
    for (int k = 0; k < 2; k++) {
        bool is_retry = pre ? k == 1 : k == 0;
        const char *cmd = is_retry ? retry : plain;
        if (!cmd)
            continue;
        enum hook_outcome out = HOOK_NONE;
        struct cel_err err = {0};
        if (hook_run(&hc, cmd, name, phase, is_retry, vars, &out, &err) < 0) {
            op_log(ctx, LOG_WARNING, s->name, "%s_%s%s_script: %s", phase, name,
                   is_retry ? "_retry" : "", err.msg);
        } else if (out == HOOK_FAILED) {
            op_log(ctx, LOG_WARNING, s->name, "%s_%s_script failed (ignored)", phase, name);
        } else if (out == HOOK_ABORT_STOP && pre) {
            stop = true;
            if (abort_msg && !*abort_msg)
                *abort_msg = cel_xasprintf("Abort '%s_%s_retry_script' retry hook script (%s, "
                                           "exit code: %d)",
                                           phase, name, cmd, HOOK_EXIT_ABORT_STOP);
        }
    }
    return stop;
}
