/*
 * Unit tests of src/cli.c: the command table, the parser of a command's
 * arguments and options, and the help texts built from the table.
 *
 * No command of the table takes an option with a value yet, so the parsing
 * of valued options ("--opt=value", "--opt value", "-oVALUE", "-o VALUE") is
 * tested on a command defined here; flags are tested on the real commands.
 */
#include "unit.h"

#include "cli.h"

/* A command that exists only for these tests, with valued options. */
static const struct cli_opt probe_opts[] = {
    {"target-time", 't', "TIME", "stop at TIME"},
    {"jobs", 'j', "N", "run N jobs"},
    {"verbose", 'v', NULL, "say more"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_cmd probe = {
    "probe", {NULL}, "SERVER [DEST]", "a command for the tests", 1, 2, probe_opts, true, NULL,
};

/* cli_parse over a NULL-terminated list of words. */
static int parse_words(const struct cli_cmd *cmd, struct cli_parsed *p, struct cel_err *err,
                       const char *const *words)
{
    int argc = 0;
    while (words[argc])
        argc++;
    return cli_parse(cmd, argc, (char *const *)words, p, err);
}

#define PARSE(cmd, p, err, ...) parse_words(cmd, p, err, (const char *const[]){__VA_ARGS__, NULL})

/* Parse must fail with CEL_E_USAGE and exactly msg. */
#define ASSERT_USAGE(cmd, expected, ...)                                                           \
    do {                                                                                           \
        struct cli_parsed p_;                                                                      \
        struct cel_err e_ = {0};                                                                   \
        assert_int_equal(PARSE(cmd, &p_, &e_, __VA_ARGS__), -CEL_E_USAGE);                         \
        assert_int_equal(e_.code, CEL_E_USAGE);                                                    \
        assert_string_equal(e_.msg, expected);                                                     \
    } while (0)

static const struct cli_cmd *must_find(const char *name)
{
    const struct cli_cmd *c = cli_find(name);
    assert_non_null(c);
    return c;
}

static void test_cli_find_names_and_barman_aliases(void **state)
{
    (void)state;
    /* Barman 3.4 names these in the plural with a singular alias (or the
     * reverse, show-backup / show-backups): both forms work */
    assert_string_equal(must_find("list-backup")->name, "list-backup");
    assert_string_equal(must_find("list-backups")->name, "list-backup");
    assert_string_equal(must_find("list-server")->name, "list-server");
    assert_string_equal(must_find("list-servers")->name, "list-server");
    assert_string_equal(must_find("show-backup")->name, "show-backup");
    assert_string_equal(must_find("show-backups")->name, "show-backup");
    assert_string_equal(must_find("show-server")->name, "show-server");
    assert_string_equal(must_find("show-servers")->name, "show-server");
    assert_string_equal(must_find("diagnose")->name, "diagnose");
    assert_null(cli_find("list"));
    assert_null(cli_find(""));
    assert_null(cli_find("LIST-BACKUP"));
    assert_null(cli_find("list-backup "));
    assert_string_equal(must_find("backup")->name, "backup");
    assert_string_equal(must_find("recover")->name, "recover");
    assert_string_equal(must_find("check")->name, "check");
    assert_string_equal(must_find("status")->name, "status");
    assert_string_equal(must_find("keep")->name, "keep");
}

static void test_cli_commands_table_is_consistent(void **state)
{
    (void)state;
    assert_true(cli_command_count >= 5);
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        assert_ptr_equal(cli_find(c->name), c);
        assert_non_null(c->run);
        assert_non_null(c->synopsis);
        assert_true(strlen(c->summary) > 10);
        assert_true(c->min_args <= c->max_args);
        assert_true(c->max_args <= CLI_MAX_ARGS);
        /* sorted, so help lists them in order */
        if (i > 0)
            assert_true(strcmp(cli_commands[i - 1].name, c->name) < 0);
        for (size_t a = 0; a < CEL_ARRAY_LEN(c->aliases) && c->aliases[a]; a++)
            assert_ptr_equal(cli_find(c->aliases[a]), c);
        for (size_t o = 0; c->opts && c->opts[o].name; o++) {
            assert_true(o < CLI_MAX_OPTS);
            assert_true(strlen(c->opts[o].help) > 5);
        }
    }
}

static void test_cli_parse_positional_args(void **state)
{
    (void)state;
    struct cli_parsed p;
    struct cel_err err = {0};
    const struct cli_cmd *sb = must_find("show-backup");
    assert_int_equal(PARSE(sb, &p, &err, "pg", "latest"), 0);
    assert_ptr_equal(p.cmd, sb);
    assert_int_equal(p.nargs, 2);
    assert_string_equal(p.args[0], "pg");
    assert_string_equal(p.args[1], "latest");

    /* a lone "-" is an argument, not an option */
    const struct cli_cmd *lb = must_find("list-backup");
    assert_int_equal(PARSE(lb, &p, &err, "pg", "-", "all"), 0);
    assert_int_equal(p.nargs, 3);
    assert_string_equal(p.args[1], "-");
    assert_string_equal(p.args[2], "all");
    assert_null(cli_value(&p, "minimal"));
}

static void test_cli_parse_flag_minimal(void **state)
{
    (void)state;
    struct cli_parsed p;
    struct cel_err err = {0};
    const struct cli_cmd *lb = must_find("list-backup");
    /* options may come before, between or after the arguments */
    assert_int_equal(PARSE(lb, &p, &err, "--minimal", "pg"), 0);
    assert_string_equal(cli_value(&p, "minimal"), "");
    assert_int_equal(p.nargs, 1);
    assert_int_equal(PARSE(lb, &p, &err, "pg", "--minimal", "other"), 0);
    assert_string_equal(cli_value(&p, "minimal"), "");
    assert_int_equal(p.nargs, 2);
    assert_string_equal(p.args[1], "other");
    assert_int_equal(PARSE(lb, &p, &err, "pg"), 0);
    assert_null(cli_value(&p, "minimal"));
    /* an option the command does not have is simply absent */
    assert_null(cli_value(&p, "no-connect"));

    const struct cli_cmd *ls = must_find("list-server");
    assert_int_equal(PARSE(ls, &p, &err, "--minimal"), 0);
    assert_string_equal(cli_value(&p, "minimal"), "");
    assert_int_equal(p.nargs, 0);

    const struct cli_cmd *ss = must_find("show-server");
    assert_int_equal(PARSE(ss, &p, &err, "all", "--no-connect"), 0);
    assert_string_equal(cli_value(&p, "no-connect"), "");
}

static void test_cli_parse_flag_refuses_a_value(void **state)
{
    (void)state;
    ASSERT_USAGE(must_find("list-backup"), "list-backup: option '--minimal' takes no value",
                 "--minimal=yes", "pg");
    ASSERT_USAGE(&probe, "probe: option '--verbose' takes no value", "-vx", "pg");
}

static void test_cli_parse_valued_option_forms(void **state)
{
    (void)state;
    struct cli_parsed p;
    struct cel_err err = {0};
    assert_int_equal(PARSE(&probe, &p, &err, "pg", "--target-time=2026-11-24 03:42:00"), 0);
    assert_string_equal(cli_value(&p, "target-time"), "2026-11-24 03:42:00");
    assert_int_equal(p.nargs, 1);

    assert_int_equal(PARSE(&probe, &p, &err, "--target-time", "2026-11-24 03:42:00", "pg"), 0);
    assert_string_equal(cli_value(&p, "target-time"), "2026-11-24 03:42:00");
    assert_int_equal(p.nargs, 1);
    assert_string_equal(p.args[0], "pg");

    /* the value after a space is taken even when it looks like an option */
    assert_int_equal(PARSE(&probe, &p, &err, "pg", "--jobs", "--verbose"), 0);
    assert_string_equal(cli_value(&p, "jobs"), "--verbose");
    assert_null(cli_value(&p, "verbose"));

    /* "--opt=" gives an empty value; "=" inside the value is kept */
    assert_int_equal(PARSE(&probe, &p, &err, "pg", "--target-time=", "--jobs=a=b"), 0);
    assert_string_equal(cli_value(&p, "target-time"), "");
    assert_string_equal(cli_value(&p, "jobs"), "a=b");

    /* short forms: -tVALUE and -t VALUE; the last one given wins */
    assert_int_equal(PARSE(&probe, &p, &err, "-j4", "pg", "dest", "-t", "now", "-j", "8", "-v"), 0);
    assert_string_equal(cli_value(&p, "jobs"), "8");
    assert_string_equal(cli_value(&p, "target-time"), "now");
    assert_string_equal(cli_value(&p, "verbose"), "");
    assert_int_equal(p.nargs, 2);
    assert_string_equal(p.args[1], "dest");
}

static void test_cli_parse_missing_option_value(void **state)
{
    (void)state;
    ASSERT_USAGE(&probe, "probe: option '--target-time' needs TIME", "pg", "--target-time");
    ASSERT_USAGE(&probe, "probe: option '--jobs' needs N", "pg", "-j");
}

static void test_cli_parse_double_dash_ends_options(void **state)
{
    (void)state;
    struct cli_parsed p;
    struct cel_err err = {0};
    const struct cli_cmd *lb = must_find("list-backup");
    assert_int_equal(PARSE(lb, &p, &err, "--", "--minimal", "-x"), 0);
    assert_int_equal(p.nargs, 2);
    assert_string_equal(p.args[0], "--minimal");
    assert_string_equal(p.args[1], "-x");
    assert_null(cli_value(&p, "minimal"));
    /* options before it still count; a second "--" is an argument */
    assert_int_equal(PARSE(lb, &p, &err, "--minimal", "--", "pg", "--"), 0);
    assert_string_equal(cli_value(&p, "minimal"), "");
    assert_int_equal(p.nargs, 2);
    assert_string_equal(p.args[1], "--");
    /* a server name beginning with '-' */
    const struct cli_cmd *sb = must_find("show-backup");
    assert_int_equal(PARSE(sb, &p, &err, "--", "-pg", "latest"), 0);
    assert_string_equal(p.args[0], "-pg");
}

static void test_cli_parse_unknown_option(void **state)
{
    (void)state;
    ASSERT_USAGE(must_find("list-backup"), "list-backup: unknown option '--minimum'", "pg",
                 "--minimum");
    ASSERT_USAGE(must_find("list-backup"), "list-backup: unknown option '--minimal-x'",
                 "--minimal-x=1", "pg");
    ASSERT_USAGE(must_find("list-backup"), "list-backup: unknown option '-m'", "-m", "pg");
    /* show-backup has no option at all */
    ASSERT_USAGE(must_find("show-backup"), "show-backup: unknown option '--minimal'", "pg",
                 "latest", "--minimal");
    ASSERT_USAGE(must_find("diagnose"), "diagnose: unknown option '--'", "--=x");
}

static void test_cli_parse_argument_count(void **state)
{
    (void)state;
    struct cli_parsed p;
    struct cel_err err = {0};
    const struct cli_cmd *sb = must_find("show-backup");
    assert_int_equal(PARSE(sb, &p, &err, "pg"), -CEL_E_USAGE);
    assert_string_equal(err.msg, "show-backup: expected SERVER BACKUP_ID, missing arguments");
    assert_string_equal(err.hint, "Run 'cellar show-backup --help'.");
    assert_int_equal(PARSE(sb, &p, &err, "pg", "latest", "oldest"), -CEL_E_USAGE);
    assert_string_equal(err.msg, "show-backup: expected SERVER BACKUP_ID, too many arguments");
    assert_string_equal(err.hint, "Run 'cellar show-backup --help'.");

    const struct cli_cmd *lb = must_find("list-backup");
    assert_int_equal(cli_parse(lb, 0, NULL, &p, &err), -CEL_E_USAGE);
    assert_string_equal(err.msg, "list-backup: expected SERVER|all..., missing arguments");
    assert_int_equal(PARSE(lb, &p, &err, "--minimal"), -CEL_E_USAGE);
    assert_string_equal(err.msg, "list-backup: expected SERVER|all..., missing arguments");
    /* up to CLI_MAX_ARGS servers, not one more */
    assert_int_equal(PARSE(lb, &p, &err, "a", "b", "c", "d", "e", "f", "g", "h"), 0);
    assert_int_equal(p.nargs, CLI_MAX_ARGS);
    assert_int_equal(PARSE(lb, &p, &err, "a", "b", "c", "d", "e", "f", "g", "h", "i"),
                     -CEL_E_USAGE);
    assert_string_equal(err.msg, "list-backup: too many arguments");

    const struct cli_cmd *ls = must_find("list-server");
    assert_int_equal(PARSE(ls, &p, &err, "pg"), -CEL_E_USAGE);
    assert_string_equal(err.msg, "list-server: expected no arguments, too many arguments");
    assert_string_equal(err.hint, "Run 'cellar list-server --help'.");
    assert_int_equal(cli_parse(ls, 0, NULL, &p, &err), 0);
}

static void test_cli_help_general_lists_every_command(void **state)
{
    (void)state;
    struct strbuf sb = {0};
    cli_help_general(&sb);
    const char *text = sb_str(&sb);
    assert_true(cel_str_starts(text, "cellar - backup and recovery manager for PostgreSQL"));
    for (size_t i = 0; i < cli_command_count; i++) {
        char line[256];
        snprintf(line, sizeof line, "\n  %-13s %s\n", cli_commands[i].name,
                 cli_commands[i].summary);
        if (!strstr(text, line))
            fail_msg("general help lacks the line of %s", cli_commands[i].name);
    }
    /* in table order, after the "Commands:" heading */
    const char *cmds = strstr(text, "\nCommands:\n");
    assert_non_null(cmds);
    const char *prev = cmds;
    for (size_t i = 0; i < cli_command_count; i++) {
        char head[64];
        snprintf(head, sizeof head, "\n  %s ", cli_commands[i].name);
        const char *at = strstr(prev, head);
        assert_non_null(at);
        prev = at + 1;
    }
    assert_non_null(strstr(text, "  -c, --config FILE"));
    assert_non_null(strstr(text, "  -f, --format FORMAT"));
    assert_true(cel_str_ends(text, "3 a check failed.\n"));
    sb_free(&sb);
}

static void test_cli_help_command_names_every_option(void **state)
{
    (void)state;
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        struct strbuf sb = {0};
        cli_help_command(c, &sb);
        const char *text = sb_str(&sb);
        char usage[256];
        snprintf(usage, sizeof usage, "Usage: cellar [OPTIONS] %s", c->name);
        assert_true(cel_str_starts(text, usage));
        assert_non_null(strstr(text, c->summary));
        for (size_t a = 0; a < CEL_ARRAY_LEN(c->aliases) && c->aliases[a]; a++)
            assert_non_null(strstr(text, c->aliases[a]));
        for (size_t o = 0; c->opts && c->opts[o].name; o++) {
            char name[64];
            snprintf(name, sizeof name, "--%s ", c->opts[o].name);
            if (!strstr(text, name) || !strstr(text, c->opts[o].help))
                fail_msg("help of %s lacks option --%s", c->name, c->opts[o].name);
        }
        sb_free(&sb);
    }
}

/* recover's target options are the rows of the target table, in its
 * order, with their value names and help. */
static void test_cli_recover_target_options_from_the_table(void **state)
{
    (void)state;
    const struct cli_cmd *c = must_find("recover");
    size_t o = 0;
    while (c->opts[o].name && strcmp(c->opts[o].name, "target-time") != 0)
        o++;
    for (size_t i = 0; i < rc_target_n_defs; i++) {
        const struct rc_target_def *d = &rc_target_defs[i];
        if (!d->option)
            continue;
        const struct cli_opt *opt = &c->opts[o++];
        assert_non_null(opt->name);
        assert_string_equal(opt->name, d->option + 2);
        assert_int_equal(opt->arg_name != NULL, d->metavar != NULL);
        if (d->metavar)
            assert_string_equal(opt->arg_name, d->metavar);
        assert_string_equal(opt->help, d->help);
    }
}

/* recover parses the target at the edge: a bad value, two targets or a
 * bad timeline are refused before the op runs, naming the option. */
static void test_cli_recover_refuses_bad_targets(void **state)
{
    (void)state;
    const struct cli_cmd *c = must_find("recover");
    static const struct {
        const char *words[5];
        const char *msg;
    } cases[] = {
        {{"--target-lsn", "zz", NULL}, "--target-lsn: invalid LSN 'zz': character 1 ('z') is "
                                       "not a hexadecimal digit"},
        {{"--target-xid", "010", NULL}, "--target-xid: transaction ID '010' has a leading zero: "
                                        "PostgreSQL would read it as an octal number"},
        {{"--target-xid", "800", "--target-name", "rp"}, "recover: give one target, not "
                                                         "--target-name as well"},
        {{"--target-tli", "0", NULL}, "--target-tli 0 is not a timeline: expected current, "
                                      "latest or a number from 1 to 4294967295"},
        {{"--target-name", "rp", "--exclusive", NULL}, "recover: --exclusive goes with "
                                                       "--target-time, --target-xid or "
                                                       "--target-lsn"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        const char *words[9] = {"pg", "auto", "/srv/restore"};
        size_t n = 3;
        for (size_t k = 0; k < CEL_ARRAY_LEN(cases[i].words) && cases[i].words[k]; k++)
            words[n++] = cases[i].words[k];
        struct cli_parsed p;
        struct cel_err err = {0};
        assert_int_equal(cli_parse(c, (int)n, (char *const *)words, &p, &err), 0);
        struct op_ctx ctx = {0}; /* never reached: refused before the op */
        assert_int_equal(c->run(&ctx, &p, &err), -CEL_E_USAGE);
        assert_string_equal(err.msg, cases[i].msg);
    }
}

static void test_cli_help_command_exact_text(void **state)
{
    (void)state;
    struct strbuf sb = {0};
    cli_help_command(must_find("list-backups"), &sb);
    assert_string_equal(sb_str(&sb),
                        "Usage: cellar [OPTIONS] list-backup [COMMAND OPTIONS] SERVER|all...\n"
                        "\n"
                        "list the backups of servers, newest first.\n"
                        "\n"
                        "Also called: list-backups\n"
                        "\n"
                        "Command options:\n"
                        "      --minimal              print only the names (IDs), one per line\n");
    sb_reset(&sb);
    cli_help_command(must_find("show-backup"), &sb);
    assert_string_equal(sb_str(&sb),
                        "Usage: cellar [OPTIONS] show-backup SERVER BACKUP_ID\n"
                        "\n"
                        "show everything about one backup (BACKUP_ID may be latest, oldest, "
                        "last-failed or a name).\n"
                        "\n"
                        "Also called: show-backups\n");
    sb_reset(&sb);
    /* valued options show their argument; short names come first */
    cli_help_command(&probe, &sb);
    assert_string_equal(sb_str(&sb), "Usage: cellar [OPTIONS] probe [COMMAND OPTIONS] SERVER "
                                     "[DEST]\n"
                                     "\n"
                                     "a command for the tests.\n"
                                     "\n"
                                     "Command options:\n"
                                     "  -t, --target-time TIME     stop at TIME\n"
                                     "  -j, --jobs N               run N jobs\n"
                                     "  -v, --verbose              say more\n");
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_find_names_and_barman_aliases),
        cmocka_unit_test(test_cli_commands_table_is_consistent),
        cmocka_unit_test(test_cli_parse_positional_args),
        cmocka_unit_test(test_cli_parse_flag_minimal),
        cmocka_unit_test(test_cli_parse_flag_refuses_a_value),
        cmocka_unit_test(test_cli_parse_valued_option_forms),
        cmocka_unit_test(test_cli_parse_missing_option_value),
        cmocka_unit_test(test_cli_parse_double_dash_ends_options),
        cmocka_unit_test(test_cli_parse_unknown_option),
        cmocka_unit_test(test_cli_parse_argument_count),
        cmocka_unit_test(test_cli_help_general_lists_every_command),
        cmocka_unit_test(test_cli_help_command_names_every_option),
        cmocka_unit_test(test_cli_help_command_exact_text),
        cmocka_unit_test(test_cli_recover_target_options_from_the_table),
        cmocka_unit_test(test_cli_recover_refuses_bad_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
