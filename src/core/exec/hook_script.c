/*
 * hook_script.c - running hook scripts with Barman's environment.
 */
#include <time.h>

#include "hook_script.h"
#include "log.h"
#include "proc.h"
#include "strbuf.h"

void hook_vars_add(struct hook_vars *v, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *value = cel_xvasprintf(fmt, ap);
    va_end(ap);
    v->items = cel_xrealloc_array(v->items, v->n + 1, sizeof *v->items);
    v->items[v->n++] = cel_xasprintf("%s=%s", name, value);
    free(value);
}

void hook_vars_free(struct hook_vars *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->items[i]);
    free(v->items);
    v->items = NULL;
    v->n = 0;
}

struct line_ctx {
    const char *label;
};

/* A hook's output goes to the log, one line at a time. */
static void log_line(void *ctx, int stream, const char *line, size_t len, bool more)
{
    const struct line_ctx *l = ctx;
    (void)more; /* a longer line is logged in pieces */
    log_msg(LOG_INFO, "%s%s: %.*s", l->label, stream == 2 ? " (stderr)" : "", (int)len, line);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0)
        ;
}

/* One run; returns 0 with *status the exit status (-1 when killed). */
static int run_once(const struct hook_ctx *ctx, const char *command, const char *const *env,
                    const char *label, int *status, struct cel_err *err)
{
    struct line_ctx lc = {label};
    struct proc_result res = {0};
    int rc = proc_run_shell(command,
                            &(struct proc_opts){.env = env,
                                                .path_prefix = ctx->path_prefix,
                                                .out_mode = PROC_LINES,
                                                .err_mode = PROC_LINES,
                                                .on_line = log_line,
                                                .ctx = &lc},
                            &res, err);
    *status = res.status;
    proc_result_free(&res);
    return rc;
}

int hook_run(const struct hook_ctx *ctx, const char *command, const char *name,
             const char *phase, bool retry, const struct hook_vars *vars,
             enum hook_outcome *out, struct cel_err *err)
{
    *out = HOOK_NONE;
    if (!command || !*command)
        return 0;
    char *hook_name = cel_xasprintf("%s%s_script", name, retry ? "_retry" : "");
    struct hook_vars env = {0};
    hook_vars_add(&env, "BARMAN_VERSION", "%s", HOOK_BARMAN_VERSION);
    hook_vars_add(&env, "CELLAR_VERSION", "%s", CEL_VERSION);
    hook_vars_add(&env, "BARMAN_SERVER", "%s", ctx->server ? ctx->server : "");
    hook_vars_add(&env, "BARMAN_CONFIGURATION", "%s", ctx->config_file ? ctx->config_file : "");
    hook_vars_add(&env, "BARMAN_HOOK", "%s", hook_name);
    hook_vars_add(&env, "BARMAN_PHASE", "%s", phase);
    hook_vars_add(&env, "BARMAN_RETRY", "%d", retry ? 1 : 0);
    hook_vars_add(&env, "BARMAN_ERROR", "%s", "");
    /* the operation's variables come last so that they win (BARMAN_ERROR) */
    for (size_t i = 0; i < (vars ? vars->n : 0); i++) {
        env.items = cel_xrealloc_array(env.items, env.n + 1, sizeof *env.items);
        env.items[env.n++] = cel_xstrdup(vars->items[i]);
    }
    env.items = cel_xrealloc_array(env.items, env.n + 1, sizeof *env.items);
    env.items[env.n] = NULL;
    char *label = cel_xasprintf("%s %s", phase, hook_name);
    const char *const *envp = (const char *const *)env.items;

    int rc = 0, status = 0, failures = 0;
    for (;;) {
        rc = run_once(ctx, command, envp, label, &status, err);
        if (rc < 0 && rc != -CEL_E_TIMEOUT)
            break;
        if (!retry) {
            *out = status == 0 ? HOOK_OK : HOOK_FAILED;
            if (status != 0)
                log_msg(LOG_WARNING, "%s '%s' failed with exit status %d (ignored)", label,
                        command, status);
            rc = 0;
            break;
        }
        if (status == 0 || status == HOOK_EXIT_ABORT_CONTINUE ||
            status == HOOK_EXIT_ABORT_STOP) {
            *out = status == 0 ? HOOK_OK
                   : status == HOOK_EXIT_ABORT_CONTINUE ? HOOK_ABORT_CONTINUE
                                                        : HOOK_ABORT_STOP;
            if (status)
                log_msg(LOG_WARNING, "%s '%s' asked to %s (exit status %d)", label, command,
                        status == HOOK_EXIT_ABORT_STOP ? "stop" : "continue", status);
            rc = 0;
            break;
        }
        failures++;
        log_msg(LOG_WARNING, "%s '%s' failed with exit status %d, attempt %d; retrying", label,
                command, status, failures);
        if (failures % 5 == 0)
            sleep_ms(ctx->retry_nap_ms > 0 ? ctx->retry_nap_ms : 60000);
        else
            sleep_ms(ctx->retry_pause_ms > 0 ? ctx->retry_pause_ms : 3000);
    }
    free(label);
    env.items[env.n] = NULL;
    hook_vars_free(&env);
    free(hook_name);
    return rc;
}
