/*
 * cli.c - the command table and its parser.
 *
 * Each entry names a command as Barman does (with Barman's aliases), its
 * arguments and options, and a small handler that fills the op's request
 * from the parsed line and calls the op. Commands of later issues are added
 * here as their ops land; nothing is listed before it works.
 */
#include "cli.h"

/* ---- handlers ------------------------------------------------------------ */

static int run_list_server(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    struct op_list_server_req req = {.minimal = cli_value(p, "minimal") != NULL};
    return op_list_server(ctx, &req, err);
}

static int run_show_server(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    int rc = 0;
    for (int i = 0; i < p->nargs; i++) {
        struct op_show_server_req req = {.server = p->args[i],
                                         .no_connect = cli_value(p, "no-connect") != NULL};
        int r = op_show_server(ctx, &req, err);
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

static int run_list_backup(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    int rc = 0;
    for (int i = 0; i < p->nargs; i++) {
        struct op_list_backup_req req = {.server = p->args[i],
                                         .minimal = cli_value(p, "minimal") != NULL};
        int r = op_list_backup(ctx, &req, err);
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

static int run_show_backup(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    struct op_show_backup_req req = {.server = p->args[0], .backup = p->args[1]};
    return op_show_backup(ctx, &req, err);
}

static int run_diagnose(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    struct op_diagnose_req req = {.no_connect = cli_value(p, "no-connect") != NULL};
    return op_diagnose(ctx, &req, err);
}

/* ---- the table ------------------------------------------------------------ */

static const struct cli_opt minimal_opts[] = {
    {"minimal", 0, NULL, "print only the names (IDs), one per line"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt show_server_opts[] = {
    {"no-connect", 0, NULL, "do not connect to PostgreSQL; show the configuration only"},
    {NULL, 0, NULL, NULL},
};

const struct cli_cmd cli_commands[] = {
    {"diagnose", {NULL}, "", "print versions, configuration and catalogue as JSON for a bug report",
     0, 0, show_server_opts, true, run_diagnose},
    {"list-backup", {"list-backups", NULL}, "SERVER|all...",
     "list the backups of servers, newest first", 1, CLI_MAX_ARGS, minimal_opts, true,
     run_list_backup},
    {"list-server", {"list-servers", NULL}, "", "list the configured servers", 0, 0, minimal_opts,
     true, run_list_server},
    {"show-backup", {"show-backups", NULL}, "SERVER BACKUP_ID",
     "show everything about one backup (BACKUP_ID may be latest, oldest, last-failed or a name)",
     2, 2, NULL, true, run_show_backup},
    {"show-server", {"show-servers", NULL}, "SERVER|all...",
     "show the effective configuration of servers and what PostgreSQL reports", 1, CLI_MAX_ARGS,
     show_server_opts, true, run_show_server},
};

const size_t cli_command_count = sizeof cli_commands / sizeof cli_commands[0];

const struct cli_cmd *cli_find(const char *name)
{
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        if (strcmp(c->name, name) == 0)
            return c;
        for (size_t a = 0; a < CEL_ARRAY_LEN(c->aliases) && c->aliases[a]; a++)
            if (strcmp(c->aliases[a], name) == 0)
                return c;
    }
    return NULL;
}

/* ---- parsing --------------------------------------------------------------- */

static int find_opt(const struct cli_cmd *cmd, const char *name, size_t len, char short_name)
{
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        if (short_name ? o->short_name == short_name
                       : strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return i;
    }
    return -1;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char *const argv[], struct cli_parsed *out,
              struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0') {
            if (out->nargs == CLI_MAX_ARGS)
                return cel_err_set(err, CEL_E_USAGE, "%s: too many arguments", cmd->name);
            out->args[out->nargs++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        int idx;
        const char *value = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            idx = find_opt(cmd, name, len, 0);
            if (idx < 0)
                return cel_err_set(err, CEL_E_USAGE, "%s: unknown option '--%.*s'", cmd->name,
                                   (int)len, name);
            if (eq)
                value = eq + 1;
        } else {
            idx = find_opt(cmd, NULL, 0, a[1]);
            if (idx < 0)
                return cel_err_set(err, CEL_E_USAGE, "%s: unknown option '-%c'", cmd->name, a[1]);
            if (a[2])
                value = a + 2;
        }
        const struct cli_opt *o = &cmd->opts[idx];
        if (o->arg_name && !value) {
            if (i + 1 >= argc)
                return cel_err_set(err, CEL_E_USAGE, "%s: option '--%s' needs %s", cmd->name,
                                   o->name, o->arg_name);
            value = argv[++i];
        } else if (!o->arg_name && value) {
            return cel_err_set(err, CEL_E_USAGE, "%s: option '--%s' takes no value", cmd->name,
                               o->name);
        }
        out->values[idx] = o->arg_name ? value : "";
    }
    if (out->nargs < cmd->min_args || out->nargs > cmd->max_args) {
        int rc = cel_err_set(err, CEL_E_USAGE, "%s: expected %s%s%s", cmd->name,
                             cmd->synopsis[0] ? cmd->synopsis : "no arguments",
                             out->nargs < cmd->min_args ? ", missing " : ", too many arguments",
                             out->nargs < cmd->min_args ? "arguments" : "");
        cel_err_hint(err, "Run 'cellar %s --help'.", cmd->name);
        return rc;
    }
    return 0;
}

const char *cli_value(const struct cli_parsed *p, const char *name)
{
    int idx = find_opt(p->cmd, name, strlen(name), 0);
    return idx < 0 ? NULL : p->values[idx];
}

/* ---- help -------------------------------------------------------------------- */

void cli_help_general(struct strbuf *out)
{
    sb_append(out,
              "cellar - backup and recovery manager for PostgreSQL (Barman compatible)\n"
              "\n"
              "Usage:\n"
              "  cellar [OPTIONS] COMMAND [ARGS]     run one command and exit\n"
              "  cellar --batch [OPTIONS] COMMAND    the same for cron: no colour, no progress\n"
              "                                      redraw, never reads the terminal\n"
              "\n"
              "Options:\n"
              "  -c, --config FILE     configuration file (default: ~/.cellar.conf,\n"
              "                        /etc/cellar.conf, /etc/cellar/cellar.conf, then Barman's\n"
              "                        ~/.barman.conf, /etc/barman.conf, /etc/barman/barman.conf)\n"
              "  -f, --format FORMAT   text (default) or json: one JSON object per event and line\n"
              "  -q, --quiet           print nothing but errors\n"
              "  -d, --debug           print debug messages on stderr and in the log\n"
              "      --batch           non-interactive mode (see above)\n"
              "      --theme NAME      colour theme of the console\n"
              "      --version         print the version and exit\n"
              "  -h, --help            this help; 'cellar COMMAND --help' for a command's\n"
              "\n"
              "Commands:\n");
    for (size_t i = 0; i < cli_command_count; i++)
        sb_appendf(out, "  %-13s %s\n", cli_commands[i].name, cli_commands[i].summary);
    sb_append(out, "\n"
                   "Exit status: 0 done, 1 the operation failed, 2 usage or configuration error,\n"
                   "3 a check failed.\n");
}

void cli_help_command(const struct cli_cmd *cmd, struct strbuf *out)
{
    sb_appendf(out, "Usage: cellar [OPTIONS] %s%s%s%s\n\n%s.\n", cmd->name,
               cmd->opts ? " [COMMAND OPTIONS]" : "", cmd->synopsis[0] ? " " : "", cmd->synopsis,
               cmd->summary);
    if (cmd->aliases[0]) {
        sb_append(out, "\nAlso called:");
        for (size_t a = 0; a < CEL_ARRAY_LEN(cmd->aliases) && cmd->aliases[a]; a++)
            sb_appendf(out, " %s", cmd->aliases[a]);
        sb_append(out, "\n");
    }
    if (cmd->opts && cmd->opts[0].name) {
        sb_append(out, "\nCommand options:\n");
        for (size_t i = 0; cmd->opts[i].name; i++) {
            const struct cli_opt *o = &cmd->opts[i];
            char head[64];
            if (o->short_name)
                snprintf(head, sizeof head, "-%c, --%s%s%s", o->short_name, o->name,
                         o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
            else
                snprintf(head, sizeof head, "    --%s%s%s", o->name, o->arg_name ? " " : "",
                         o->arg_name ? o->arg_name : "");
            sb_appendf(out, "  %-26s %s\n", head, o->help);
        }
    }
}
