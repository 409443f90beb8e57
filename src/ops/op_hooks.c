/*
 * op_hooks.c - running an operation's hook scripts from an op.
 *
 * Each operation X (backup, archive, recovery, delete, wal_delete) has four
 * hooks in Barman's order: pre_X_script, pre_X_retry_script, then the
 * operation, then post_X_retry_script and post_X_script. A plain hook's
 * failure is logged and ignored; a pre retry hook that exits 63 stops the
 * operation (in the post phase 63 counts as 62, as in Barman).
 */
#include "hook_script.h"
#include "op_hooks.h"
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

void op_backup_hook_vars(struct hook_vars *v, const char *dir, const struct cat_backup *b,
                         const char *previous_id, const char *next_id)
{
    hook_vars_add(v, "BARMAN_BACKUP_DIR", "%s", dir);
    hook_vars_add(v, "BARMAN_BACKUP_ID", "%s", b->id);
    hook_vars_add(v, "BARMAN_PREVIOUS_ID", "%s", previous_id ? previous_id : "");
    hook_vars_add(v, "BARMAN_NEXT_ID", "%s", next_id ? next_id : "");
    hook_vars_add(v, "BARMAN_STATUS", "%s", cat_status_name(b->status));
    hook_vars_add(v, "BARMAN_ERROR", "%s", b->error ? b->error : "");
}

void op_wal_hook_vars(struct hook_vars *v, const char *name, const char *file, uint64_t size,
                      double mtime, const char *compression, const char *error)
{
    hook_vars_add(v, "BARMAN_SEGMENT", "%s", name);
    hook_vars_add(v, "BARMAN_FILE", "%s", file);
    hook_vars_add(v, "BARMAN_SIZE", "%llu", (unsigned long long)size);
    struct strbuf t = {0};
    py_repr_float(mtime, &t);
    hook_vars_add(v, "BARMAN_TIMESTAMP", "%s", sb_str(&t));
    sb_free(&t);
    hook_vars_add(v, "BARMAN_COMPRESSION", "%s", compression);
    hook_vars_add(v, "BARMAN_ERROR", "%s", error ? error : "");
}
