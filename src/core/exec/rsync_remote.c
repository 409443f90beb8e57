/*
 * rsync_remote.c - running a command on the host of ssh_command (or
 * locally without one).
 *
 * Remote commands (rsync_remote_run) are the one place a command line is
 * built for a shell: the remote one. Each argument is single-quoted, and
 * the quoted line reaches ssh in an environment variable, so the local
 * shell only ever parses the DBA's ssh_command.
 */
#include "rsync_int.h"

/* The first line of a child's stderr, for a message. */
/* The first line of s, without its end (ssh ends its messages with "\r\n"). */
static const char *first_line(const char *s, size_t *len)
{
    if (!s)
        s = "";
    *len = strcspn(s, "\r\n");
    return s;
}

int rsync_remote_run(const char *ssh_command, const char *path_prefix, const char *const argv[],
                     char **out, struct cel_err *err)
{
    return rsync_remote_run_timed(ssh_command, path_prefix, argv, 0, out, err);
}

int rsync_remote_start(const char *ssh_command, const char *const argv[],
                       const struct proc_opts *opts, struct proc **out, struct cel_err *err)
{
    *out = NULL;
    if (!argv || !argv[0])
        return cel_err_set(err, CEL_E_INTERNAL, "invalid call to rsync_remote_start: no command");
    struct proc_opts po = opts ? *opts : (struct proc_opts){0};
    if (po.env)
        return cel_err_set(err, CEL_E_INTERNAL, "invalid call to rsync_remote_start: env set");
    if (!ssh_command || !ssh_command[0])
        return proc_start(argv, &po, out, err);
    /* The remote command line travels in the environment: the local shell
     * expands "$CEL_REMOTE_COMMAND" as one argument of ssh, and only the
     * remote shell parses it. Each word starts with a quote, so ssh never
     * takes one for an option. */
    struct strbuf cmd = {0}, env = {0};
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            sb_appendc(&cmd, ' ');
        sb_append_shell_quoted(&cmd, argv[i]);
    }
    sb_appendf(&env, "CEL_REMOTE_COMMAND=%s", sb_str(&cmd));
    const char *const envv[] = {sb_str(&env), NULL};
    char *line = cel_xasprintf("%s \"$CEL_REMOTE_COMMAND\"", ssh_command);
    po.env = envv;
    int rc = proc_start_shell(line, &po, out, err);
    free(line);
    sb_free(&env);
    sb_free(&cmd);
    return rc;
}

int rsync_remote_result(const char *ssh_command, const char *argv0, int rc,
                        const struct proc_result *res, int timeout_ms, struct cel_err *err)
{
    if (rc < 0 && rc != -CEL_E_TIMEOUT)
        return rc;
    if (rc == 0 && res->status == 0)
        return 0;
    bool remote = ssh_command && ssh_command[0];
    struct strbuf how = {0};
    size_t len;
    const char *e = first_line(res->err, &len);
    proc_describe(res, timeout_ms, &how);
    rc = cel_err_set(err, rc < 0 ? CEL_E_TIMEOUT : CEL_E_PROC, "'%s'%s%s %s%s%.*s", argv0,
                     remote ? " on " : "", remote ? ssh_command : "", sb_str(&how),
                     len ? ": " : "", (int)len, e);
    sb_free(&how);
    return rc;
}

int rsync_remote_run_timed(const char *ssh_command, const char *path_prefix,
                           const char *const argv[], int timeout_ms, char **out,
                           struct cel_err *err)
{
    if (out)
        *out = NULL;
    if (!argv || !argv[0])
        return cel_err_set(err, CEL_E_INTERNAL, "invalid call to rsync_remote_run: no command");
    struct proc_opts po = {.path_prefix = path_prefix, .out_mode = PROC_CAPTURE,
                           .timeout_ms = timeout_ms};
    struct proc_result res = {0};
    struct proc *p = NULL;
    int rc = rsync_remote_start(ssh_command, argv, &po, &p, err);
    if (rc < 0)
        return rc;
    rc = proc_finish(p, &res, err);
    rc = rsync_remote_result(ssh_command, argv[0], rc, &res, timeout_ms, err);
    if (rc == 0 && out) {
        *out = res.out;
        res.out = NULL;
    }
    proc_result_free(&res);
    return rc;
}
