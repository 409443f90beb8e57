/*
 * main.c - cellar's entry point: global options, then the command.
 *
 * Global options come before the command (as with Barman). With a command,
 * the batch front end runs it: the configuration is loaded, the log opened,
 * the op runs with the batch sink, and the outcome becomes the exit status
 * (0 done, 1 failed, 2 usage or configuration, 3 a check failed). This is
 * the only place that decides the exit status.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "priv.h"
#include "tui/tui.h"

struct globals {
    const char *config;
    const char *theme;
    enum batch_format format;
    bool quiet, debug, batch_mode, help, version;
};

static void oom(size_t size)
{
    log_msg(LOG_CRITICAL, "out of memory allocating %zu bytes", size);
    fprintf(stderr, "cellar: out of memory allocating %zu bytes\n", size);
    abort();
}

/* The signal that asked the running op to stop (ops poll it through
 * op_ctx.cancel). An int rather than sig_atomic_t because rsync_opts and
 * op_ctx share the pointer; int stores are atomic on every platform
 * cellar builds on. */
static volatile int cancel_signal;

static void on_cancel(int sig)
{
    if (!cancel_signal)
        cancel_signal = sig;
}

/* For the long ops that watch op_ctx.cancel (backup, recover, and
 * start-recovered, which then stops the server it started, receive-wal,
 * which passes the signal on to pg_receivewal, and cloud-restore): SIGINT,
 * SIGTERM and SIGHUP ask the op to stop cleanly (a backup records FAILED);
 * children run in their own process groups, so the op stops them. No
 * SA_RESTART: a blocking wait returns so the op sees the flag. The handler
 * is reset after the first signal (SA_RESETHAND): a second one ends cellar
 * at once, whatever it is waiting for (a retry hook, a slow checkpoint).
 * Every other command keeps the default action. */
static void install_cancel_handlers(const char *command)
{
    static const char *const cancellable[] = {"backup", "recover", "start-recovered",
                                              "receive-wal", "cloud-restore"};
    bool wanted = false;
    for (size_t i = 0; i < CEL_ARRAY_LEN(cancellable); i++)
        wanted = wanted || strcmp(command, cancellable[i]) == 0;
    if (!wanted)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_cancel;
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < CEL_ARRAY_LEN(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
}

/* Value of an option written "-x V", "-xV", "--name V" or "--name=V";
 * prefix_len is the length of "--name" (a short option is 2 bytes long and
 * must not be read that far). */
static const char *opt_value(int argc, char **argv, int *i, const char *arg, size_t prefix_len)
{
    if (arg[1] == '-' && arg[prefix_len] == '=')
        return arg + prefix_len + 1;
    if (arg[1] != '-' && arg[2])
        return arg + 2;
    if (*i + 1 < argc)
        return argv[++*i];
    return NULL;
}

/* Parse global options; returns the index of the command (argc if none). */
static int parse_globals(int argc, char **argv, struct globals *g, struct cel_err *err)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return i + 1;
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            g->quiet = true;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0) {
            g->debug = true;
        } else if (strcmp(a, "--batch") == 0) {
            g->batch_mode = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            g->help = true;
        } else if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            g->version = true;
        } else if (strncmp(a, "-c", 2) == 0 || cel_str_starts(a, "--config")) {
            if (a[1] == '-' && a[8] != '\0' && a[8] != '=')
                return cel_err_set(err, CEL_E_USAGE, "unknown option '%s'", a);
            g->config = opt_value(argc, argv, &i, a, 8);
            if (!g->config)
                return cel_err_set(err, CEL_E_USAGE, "option '%s' needs a FILE", a);
        } else if (strncmp(a, "-f", 2) == 0 || cel_str_starts(a, "--format")) {
            if (a[1] == '-' && a[8] != '\0' && a[8] != '=')
                return cel_err_set(err, CEL_E_USAGE, "unknown option '%s'", a);
            const char *f = opt_value(argc, argv, &i, a, 8);
            if (f && strcmp(f, "json") == 0)
                g->format = BATCH_JSON;
            else if (f && (strcmp(f, "text") == 0 || strcmp(f, "console") == 0))
                g->format = BATCH_TEXT;
            else
                return cel_err_set(err, CEL_E_USAGE, "invalid format '%s': expected text or json",
                                   f ? f : "");
        } else if (cel_str_starts(a, "--theme")) {
            if (a[7] != '\0' && a[7] != '=')
                return cel_err_set(err, CEL_E_USAGE, "unknown option '%s'", a);
            g->theme = opt_value(argc, argv, &i, a, 7);
            if (!g->theme)
                return cel_err_set(err, CEL_E_USAGE, "option '--theme' needs a NAME");
        } else {
            int rc = cel_err_set(err, CEL_E_USAGE, "unknown option '%s'", a);
            cel_err_hint(err, "Global options go before the command; see 'cellar --help'.");
            return rc;
        }
    }
    return i;
}

/* True when argv holds -h or --help before a "--"; -h is not help for a
 * command that has an option -h (cloud-backup's -h HOST, as barman-cloud). */
static bool wants_help(const struct cli_cmd *cmd, int argc, char **argv)
{
    bool h_is_option = false;
    for (size_t i = 0; cmd->opts && cmd->opts[i].name; i++)
        h_is_option = h_is_option || cmd->opts[i].short_name == 'h';
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || (!h_is_option && strcmp(argv[i], "-h") == 0))
            return true;
    }
    return false;
}

/* The cloud-* commands stand in for barman-cloud's in archive_command,
 * restore_command and scripts, so they exit as barman-cloud 3.4 does
 * (barman/clients/cloud_cli.py): 1 the operation failed (a WAL not found,
 * a check failed), 2 the store could not be reached or, as argparse exits,
 * a command line refused (options that exclude each other), 3 a value
 * refused (a bad WAL name or URL), 4 any other error. cellar's own
 * cloud-upload (needs_config) exits as cellar's commands do. status is what
 * batch_finish returned (non-zero also when standard output was lost). */
static int cloud_exit_status(const struct cli_cmd *cmd, int rc, const struct cel_err *err,
                             int status)
{
    if (strncmp(cmd->name, "cloud-", 6) != 0 || cmd->needs_config || status == 0)
        return status;
    int code = rc < 0 ? (err->code ? err->code : -rc) : 0;
    switch (code) {
    case CEL_E_USAGE:
        return 2; /* argparse's status for a command line it refuses */
    case CEL_E_INVALID:
    case CEL_E_CONFIG:
        return 3; /* barman-cloud's CLIErrorExit: a value it refuses, as a WAL name */
    case CEL_E_TIMEOUT:
        return 2;
    case CEL_E_IO:
        return err->sys_errno == 0 ? 2 : 4; /* no errno: the connection, not a file */
    case CEL_E_NOT_FOUND:
    case CEL_E_CONFLICT:
    case CEL_E_CHECK:
        return 1;
    default:
        return 4;
    }
}

static int print_and_exit(struct strbuf *text)
{
    fputs(sb_str(text), stdout);
    sb_free(text);
    return CEL_EXIT_OK;
}

/* Mirror the log's debug lines on stderr with --debug (text mode only; op
 * messages already reach the terminal as events). */
static void debug_observer(void *ctx, enum log_level level, const char *msg)
{
    (void)ctx;
    if (level == LOG_DEBUG)
        fprintf(stderr, "DEBUG: %s\n", msg);
}

/* Load the configuration (path NULL: the search list) and become
 * barman_user (core/priv.h). Root that is going to become barman_user
 * reads the same file again first, with HOME already that user's: a '~'
 * in a path (barman_home, log_file, ...) must name what it names for
 * barman_user running the same command (and for the console's operations
 * and restore_command's get-wal, which read the file as barman_user), not
 * root's home. *cfg is set as cfg_load sets it.
 *
 * pg_helper (put-wal): PostgreSQL's archive_command runs it as PostgreSQL's
 * OS user on the same host, which is not barman_user; a user other than
 * root then stays who it is, instead of being refused as for every other
 * command, and needs only write access to incoming/ (put_wal.c makes what it
 * writes there readable by barman_user). Started as root it still becomes
 * barman_user. */
static int load_config(const char *path, bool pg_helper, struct cfg **cfg, struct cel_err *err)
{
    int rc = cfg_load(path, cfg, err);
    if (rc < 0)
        return rc;
    char *home = priv_switch_home((*cfg)->global.barman_user);
    if (home && (*cfg)->path) {
        setenv("HOME", home, 1);
        char *loaded = cel_xstrdup((*cfg)->path);
        cfg_free(*cfg);
        *cfg = NULL;
        rc = cfg_load(loaded, cfg, err);
        free(loaded);
    }
    free(home);
    if (rc < 0)
        return rc;
    if (pg_helper && geteuid() != 0)
        return 0;
    return priv_become((*cfg)->global.barman_user, err);
}

/* cellar without a command: the console on the loaded configuration.
 * Without -c and with no file in the search list, the console's first-run
 * screen says what to write where. Configuration problems that stop
 * loading are reported as a command's would be; the console shows the
 * others on its status line. With wizard_server (recover --wizard), a
 * recovery the wizard ran and that failed ends cellar with the status the
 * batch recover gave, its error printed as any command's. */
static int run_console(const struct globals *g, struct batch *out, const char *wizard_server)
{
    struct cel_err err = {0};
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        int rc = cel_err_set(&err, CEL_E_USAGE, "the console needs a terminal; give a command");
        cel_err_hint(&err, "Run 'cellar --help' for the commands.");
        return batch_finish(out, rc, &err);
    }
    char *found = NULL;
    if (!g->config) {
        struct strbuf searched = {0};
        found = cfg_find_default(&searched);
        if (!found) {
            int rc = tui_run(&(struct tui_opts){.searched = sb_str(&searched), .theme = g->theme},
                             &err);
            sb_free(&searched);
            return batch_finish(out, rc, &err);
        }
        sb_free(&searched);
    }
    struct cfg *cfg = NULL;
    /* started as root: become barman_user first (core/priv.h) */
    int rc = load_config(found ? found : g->config, false, &cfg, &err);
    free(found);
    if (rc < 0) {
        if (cfg)
            batch_report_config(out, cfg);
        cfg_free(cfg);
        return batch_finish(out, rc, &err);
    }
    log_set_level(g->debug ? LOG_DEBUG : cfg->global.log_level);
    if (cfg->global.log_file)
        log_open(cfg->global.log_file, &(struct cel_err){0});
    if (wizard_server && !cfg_server_find(cfg, wizard_server)) {
        rc = cel_err_set(&err, CEL_E_USAGE, "recover --wizard: no server called '%s' in %s",
                         wizard_server, cfg->path ? cfg->path : "the configuration");
        cel_err_hint(&err, "Run 'cellar list-server' for the configured servers.");
        cfg_free(cfg);
        return batch_finish(out, rc, &err);
    }
    rc = tui_run(&(struct tui_opts){.cfg = cfg, .theme = g->theme, .wizard_server = wizard_server},
                 &err);
    int status = batch_finish(out, rc, &err);
    log_close();
    cfg_free(cfg);
    return status;
}

int main(int argc, char **argv)
{
    cel_set_oom_hook(oom);
    struct globals g = {.format = BATCH_TEXT};
    struct cel_err err = {0};
    struct batch out;
    int cmd_index = parse_globals(argc, argv, &g, &err);
    batch_init(&out, g.format, g.quiet, g.debug, g.batch_mode);
    if (cmd_index < 0)
        return batch_finish(&out, cmd_index, &err);

    struct strbuf text = {0};
    if (g.version) {
        sb_appendf(&text, "cellar %s\n", CEL_VERSION);
        return print_and_exit(&text);
    }
    const char *name = cmd_index < argc ? argv[cmd_index] : NULL;
    if (name && strcmp(name, "help") == 0) {
        const struct cli_cmd *c = cmd_index + 1 < argc ? cli_find(argv[cmd_index + 1]) : NULL;
        if (c)
            cli_help_command(c, &text);
        else
            cli_help_general(&text);
        return print_and_exit(&text);
    }
    if (g.help || !name) {
        if (!name && !g.help)
            return run_console(&g, &out, NULL);
        cli_help_general(&text);
        return print_and_exit(&text);
    }
    const struct cli_cmd *cmd = cli_find(name);
    if (!cmd) {
        int rc = cel_err_set(&err, CEL_E_USAGE, "unknown command '%s'", name);
        cel_err_hint(&err, "Run 'cellar --help' for the commands.");
        return batch_finish(&out, rc, &err);
    }
    if (wants_help(cmd, argc - cmd_index - 1, argv + cmd_index + 1)) {
        cli_help_command(cmd, &text);
        return print_and_exit(&text);
    }
    struct cli_parsed parsed;
    int rc = cli_parse(cmd, argc - cmd_index - 1, argv + cmd_index + 1, &parsed, &err);
    if (rc < 0)
        return cloud_exit_status(cmd, rc, &err, batch_finish(&out, rc, &err));
    /* recover --wizard SERVER: the guided recovery, in the console */
    if (strcmp(cmd->name, "recover") == 0 && cli_value(&parsed, "wizard")) {
        if (parsed.nargs != 1) {
            rc = cel_err_set(&err, CEL_E_USAGE,
                             "recover --wizard takes the SERVER only: the "
                             "wizard asks for the backup and destination");
            return batch_finish(&out, rc, &err);
        }
        return run_console(&g, &out, parsed.args[0]);
    }

    /* get-wal's result is the WAL itself on standard output: JSON lines
     * there would corrupt it */
    if (g.format == BATCH_JSON && strcmp(cmd->name, "get-wal") == 0 &&
        !cli_value(&parsed, "output-directory")) {
        rc = cel_err_set(&err, CEL_E_USAGE,
                         "get-wal writes the WAL file on standard output: --format json needs "
                         "--output-directory");
        return batch_finish(&out, rc, &err);
    }
    struct cfg *cfg = NULL;
    bool was_root = geteuid() == 0;
    if (cmd->needs_config) {
        /* started as root: become barman_user before the log or
         * barman_home is touched (core/priv.h) */
        rc = load_config(g.config, strcmp(cmd->name, "put-wal") == 0, &cfg, &err);
        if (cfg)
            batch_report_config(&out, cfg);
        if (rc < 0) {
            cfg_free(cfg);
            return batch_finish(&out, rc, &err);
        }
        log_set_level(g.debug ? LOG_DEBUG : cfg->global.log_level);
        if (cfg->global.log_file) {
            struct cel_err log_err = {0};
            if (log_open(cfg->global.log_file, &log_err) < 0) {
                struct op_event ev = {.kind = OP_EV_LOG, .level = LOG_WARNING, .text = log_err.msg};
                batch_event(&out, &ev);
            }
        }
    }
    if (g.debug && g.format == BATCH_TEXT)
        log_set_observer(debug_observer, NULL);
    log_msg(LOG_DEBUG, "running '%s' (pid %ld)", cmd->name, (long)getpid());

    struct op_sink sink = {batch_event, &out};
    install_cancel_handlers(cmd->name);
    struct op_ctx ctx = {
        .cfg = cfg, .sink = &sink, .cancel = &cancel_signal, .command = cmd->name};
    rc = cmd->run(&ctx, &parsed, &err);
    /* root that became barman_user and was then refused somewhere: say who
     * was refused, or root reads "Permission denied" and wonders */
    if (rc < 0 && was_root && geteuid() != 0 && err.sys_errno == EACCES && !err.hint[0])
        cel_err_hint(&err,
                     "Started as root, cellar runs as barman_user '%s': give that user access, "
                     "or choose a place it can write.",
                     cfg->global.barman_user);
    int status = cloud_exit_status(cmd, rc, &err, batch_finish(&out, rc, &err));
    if (rc < 0)
        log_msg(LOG_ERROR, "%s: %s", cmd->name, err.msg);
    log_close();
    cfg_free(cfg);
    return status;
}
