/*
 * cli.h - the command line: global options, the command table, parsing and
 * help.
 *
 * The table (cli_commands) is the single source of what cellar accepts:
 * names and aliases (Barman's), arguments, options with their help text, and
 * the handler that turns parsed arguments into an op request. `--help`, the
 * man page and the console's help read the same table.
 */
#ifndef CEL_CLI_H
#define CEL_CLI_H

#include "ops/ops.h"

struct cli_opt {
    const char *name;     /* long name without "--" */
    char short_name;      /* 0 when none */
    const char *arg_name; /* NULL for a flag */
    const char *help;
};

#define CLI_MAX_OPTS 24
#define CLI_MAX_ARGS 8

/* A command line after parsing: the positional arguments and, for each
 * option of the command (same index as in its table), the value given
 * (the last one wins; "" for a flag that was given), NULL when absent. */
#define CLI_MAX_GIVEN 64

struct cli_parsed {
    const struct cli_cmd *cmd;
    const char *args[CLI_MAX_ARGS];
    int nargs;
    const char *values[CLI_MAX_OPTS];
    /* every option given, in order (for options that may repeat) */
    struct {
        int opt;
        const char *value;
    } given[CLI_MAX_GIVEN];
    int ngiven;
};

struct cli_cmd {
    const char *name;
    const char *aliases[3]; /* NULL-terminated */
    const char *synopsis;   /* the arguments: "SERVER|all" */
    const char *summary;    /* one line */
    int min_args, max_args;
    const struct cli_opt *opts; /* NULL-name terminated, may be NULL */
    bool needs_config;
    int (*run)(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err);
};

extern const struct cli_cmd cli_commands[];
extern const size_t cli_command_count;

/* The command called name (or one of its aliases), NULL if none. */
const struct cli_cmd *cli_find(const char *name);
/* Parse argv (after the command name) for cmd. -CEL_E_USAGE with a message
 * on an unknown option, a missing option argument, or a wrong number of
 * arguments. */
int cli_parse(const struct cli_cmd *cmd, int argc, char *const argv[], struct cli_parsed *out,
              struct cel_err *err);
/* The value of option name ("" for a given flag), NULL when absent. */
const char *cli_value(const struct cli_parsed *p, const char *name);

/* Every value given for option name, in order, into out (at most max);
 * returns how many there were. */
size_t cli_values(const struct cli_parsed *p, const char *name, const char **out, size_t max);

/* Help texts: the general one and one command's. */
void cli_help_general(struct strbuf *out);
void cli_help_command(const struct cli_cmd *cmd, struct strbuf *out);

#endif
