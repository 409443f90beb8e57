/*
 * mkman.c - writes the parts of the man pages and of the shell completion
 * that come from cellar's tables, so the documentation cannot drift from
 * the code.
 *
 *   mkman [-D NAME=VALUE]... TEMPLATE OUTPUT
 *
 * It copies TEMPLATE to OUTPUT (through a temp file renamed over OUTPUT, so
 * a failed run never leaves half a page for make to take as up to date),
 * replacing
 *   - a line that is exactly @NAME@, for the generated sections below;
 *   - @VERSION@, @DATE@, @DATADIR@ (CEL_DATADIR, compiled in as in cellar)
 *     and every -D NAME anywhere in a line.
 *
 * Generated sections, each read from one table:
 *   @COMMANDS@         roff: every command of cli_commands with its
 *                      synopsis, summary, aliases and options (cellar.1)
 *   @ERRORS@           roff: the error codes of CEL_CODE_TABLE with their
 *                      numbers and exit statuses (cellar.1)
 *   @CONFIG_OPTIONS@   roff: every option of cfg_options that cellar uses,
 *                      with scope, default, accepted values and an example
 *                      (cellar.conf.5)
 *   @IGNORED_OPTIONS@  roff: the Barman options cellar accepts and ignores
 *   @BASH_TABLES@      bash: command names, each command's options, which
 *                      of them take a value and what values, and the kind
 *                      of each positional argument (completion/cellar.bash.in)
 *
 * Before writing anything it checks the tables: a command or option without
 * help text, or an option example that the configuration loader refuses,
 * stops the build with a message naming it. Built from every object of the
 * cellar binary but main.o (see the Makefile), so it reads the very tables
 * the binary uses. Output goes to files only; errors to stderr, exit 1.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "strbuf.h"

/* The data directory (themes) compiled into cellar, from the Makefile's
 * DATADIR: the man pages name it from the same flag as the binary. */
#ifndef CEL_DATADIR
#error "CEL_DATADIR must be defined by the build (the Makefile's DEFS)"
#endif

#define MKMAN_MAX_DEFINES 16

struct define {
    const char *name; /* without the @ signs */
    const char *value;
};

static struct define defines[MKMAN_MAX_DEFINES];
static size_t n_defines;

/* The characters of a word, for the fonts of synopses and for matching. */
#define ROFF_WORD "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

static void die(const char *fmt, ...) CEL_PRINTF(1, 2) CEL_NORETURN;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mkman: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- roff ------------------------------------------------------------------ */

/* Append s as roff text: backslashes and dashes escaped (so option names
 * render as ASCII hyphen-minus and can be copied), and a '.' or '\'' that
 * would start a line protected by \&. at_line_start says whether the text
 * begins a line. */
static void roff_text(struct strbuf *out, const char *s, bool at_line_start)
{
    for (const char *p = s; *p; p++) {
        if (at_line_start && (*p == '.' || *p == '\''))
            sb_append(out, "\\&");
        at_line_start = false;
        if (*p == '\\')
            sb_append(out, "\\e");
        else if (*p == '-')
            sb_append(out, "\\-");
        else if (*p == '\n') {
            sb_appendc(out, '\n');
            at_line_start = true;
        } else
            sb_appendc(out, *p);
    }
}

/* s as a sentence: first letter upper case (unless keep_case), a full stop
 * at the end. */
static void roff_sentence_case(struct strbuf *out, const char *s, bool keep_case)
{
    char *copy = cel_xstrdup(s);
    if (!keep_case && copy[0] >= 'a' && copy[0] <= 'z')
        copy[0] = (char)(copy[0] - 'a' + 'A');
    roff_text(out, copy, true);
    size_t n = strlen(copy);
    if (n && copy[n - 1] != '.')
        sb_appendc(out, '.');
    sb_appendc(out, '\n');
    free(copy);
}

static void roff_sentence(struct strbuf *out, const char *s)
{
    roff_sentence_case(out, s, false);
}

/* True when the first word of help (up to a blank or ':') is one of the
 * values in accepted, as in "false keeps the server listed": a literal that
 * must keep its case. */
static bool starts_with_value(const char *help, const char *accepted)
{
    size_t n = strcspn(help, " :");
    for (const char *p = accepted; n && *p; p++)
        if (strncmp(p, help, n) == 0 && (p == accepted || !strchr(ROFF_WORD, p[-1])) &&
            (!p[n] || !strchr(ROFF_WORD, p[n])))
            return true;
    return false;
}

/* A synopsis or argument name in roff fonts: words with a lower-case letter
 * are literal (bold: all, off, copy), upper-case words are placeholders
 * (italic: SERVER, BACKUP_ID, N), punctuation stays roman. */
static void roff_synopsis(struct strbuf *out, const char *s)
{
    const char *p = s;
    while (*p) {
        size_t n = strspn(p, ROFF_WORD);
        if (n == 0) {
            char c[2] = {*p, '\0'};
            roff_text(out, c, false);
            p++;
            continue;
        }
        char *word = cel_xstrndup(p, n);
        bool literal = strpbrk(word, "abcdefghijklmnopqrstuvwxyz") != NULL;
        sb_append(out, literal ? "\\fB" : "\\fI");
        roff_text(out, word, false);
        sb_append(out, "\\fR");
        free(word);
        p += n;
    }
}

static bool has_opts(const struct cli_cmd *c)
{
    return c->opts && c->opts[0].name;
}

static void check_commands(void)
{
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        if (!c->summary || !*c->summary || !c->synopsis)
            die("command %s has no summary or synopsis in cli_commands", c->name);
        for (size_t o = 0; c->opts && c->opts[o].name; o++)
            if (!c->opts[o].help || !*c->opts[o].help)
                die("option --%s of command %s has no help text", c->opts[o].name, c->name);
    }
}

static void gen_commands(struct strbuf *out)
{
    check_commands();
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        sb_append(out, ".SS ");
        roff_text(out, c->name, false);
        sb_append(out, "\n\\fBcellar\\fR [\\fIOPTIONS\\fR] \\fB");
        roff_text(out, c->name, false);
        sb_append(out, "\\fR");
        if (has_opts(c))
            sb_append(out, " [\\fICOMMAND OPTIONS\\fR]");
        if (c->synopsis[0]) {
            sb_appendc(out, ' ');
            roff_synopsis(out, c->synopsis);
        }
        sb_append(out, "\n.PP\n");
        roff_sentence(out, c->summary);
        if (c->aliases[0]) {
            sb_append(out, "Also called");
            for (size_t a = 0; a < CEL_ARRAY_LEN(c->aliases) && c->aliases[a]; a++) {
                sb_append(out, a ? ", \\fB" : " \\fB");
                roff_text(out, c->aliases[a], false);
                sb_append(out, "\\fR");
            }
            sb_append(out, ".\n");
        }
        for (size_t o = 0; c->opts && c->opts[o].name; o++) {
            const struct cli_opt *opt = &c->opts[o];
            sb_append(out, ".TP\n");
            if (opt->short_name)
                sb_appendf(out, "\\fB\\-%c\\fR, ", opt->short_name);
            sb_append(out, "\\fB\\-\\-");
            roff_text(out, opt->name, false);
            sb_append(out, "\\fR");
            if (opt->arg_name) {
                sb_appendc(out, ' ');
                roff_synopsis(out, opt->arg_name);
            }
            sb_appendc(out, '\n');
            roff_sentence(out, opt->help);
        }
    }
}

static const char *exit_meaning(enum cel_exit e)
{
    switch (e) {
    case CEL_EXIT_OK:
        return "done";
    case CEL_EXIT_FAILED:
        return "the operation failed";
    case CEL_EXIT_USAGE:
        return "usage or configuration error";
    case CEL_EXIT_CHECK:
        return "a check failed";
    }
    return "?";
}

static void gen_errors(struct strbuf *out)
{
#define MKMAN_ERROR(num, name, exit, text)                                                         \
    if ((num) != 0) {                                                                              \
        sb_appendf(out, ".TP\n.BR %s \" (%d)\"\n", #name, (num));                                  \
        roff_sentence(out, text);                                                                  \
        sb_appendf(out, "Exit status %d: %s.\n", (int)(exit), exit_meaning(exit));                 \
    }
    CEL_CODE_TABLE(MKMAN_ERROR)
#undef MKMAN_ERROR
}

static const char *scope_text(const struct cfg_option *o)
{
    switch (o->scope) {
    case CFG_GLOBAL:
        return "global";
    case CFG_SERVER:
        return "server";
    case CFG_BOTH:
        return "both";
    }
    return "?";
}

/* Load "option = example" in the section the option belongs to and check
 * that the loader takes it and sets the option; die otherwise. */
static void check_example(const struct cfg_option *o)
{
    struct strbuf text = {0};
    bool global = cfg_option_is_global(o);
    sb_append(&text, "[cellar]\n");
    if (strcmp(o->name, "barman_home") != 0)
        sb_append(&text, "barman_home = /var/lib/cellar-mkman\n");
    if (!global)
        sb_append(&text, "[main]\n");
    sb_appendf(&text, "%s = %s\n", o->name, o->example);
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    int rc = cfg_load_text(sb_str(&text), "example", &cfg, &err);
    for (size_t i = 0; cfg && i < cfg->n_diags; i++)
        if (cfg->diags[i].level == CFG_ERROR)
            die("the example of option %s is refused: %s", o->name, cfg->diags[i].text);
    if (rc < 0)
        die("the example of option %s is refused: %s", o->name, err.msg);
    const void *base =
        global ? (const void *)&cfg->global : (const void *)cfg_server_find(cfg, "main");
    if (!base || cfg_value_is_null(o, base))
        die("the example of option %s leaves it unset", o->name);
    cfg_free(cfg);
    sb_free(&text);
}

static void gen_config_options(struct strbuf *out)
{
    for (size_t i = 0; i < cfg_option_count; i++) {
        const struct cfg_option *o = &cfg_options[i];
        if (o->type == CFG_T_IGNORED)
            continue;
        if (!o->help || !*o->help || !o->accepted || !*o->accepted)
            die("option %s has no help or accepted values in cfg_options", o->name);
        if (!o->example || !*o->example)
            die("option %s has no example in cfg_options", o->name);
        check_example(o);
        sb_appendf(out, ".TP\n.B %s\n.br\n", o->name);
        roff_sentence_case(out, o->help, starts_with_value(o->help, o->accepted));
        sb_append(out, ".br\nScope: ");
        roff_text(out, scope_text(o), false);
        sb_append(out, ".\n.br\nDefault: ");
        if (o->def) {
            sb_append(out, "\\fB");
            roff_text(out, o->def, false);
            sb_append(out, "\\fR");
        } else {
            sb_append(out, "none");
        }
        sb_append(out, ".\n.br\nAccepted: ");
        roff_text(out, o->accepted, false);
        sb_append(out, ".\n.br\nExample: \\fB");
        roff_text(out, o->name, false);
        sb_append(out, " = ");
        roff_text(out, o->example, false);
        sb_append(out, "\\fR\n");
    }
}

static void gen_ignored_options(struct strbuf *out)
{
    bool first = true;
    for (size_t i = 0; i < cfg_option_count; i++) {
        const struct cfg_option *o = &cfg_options[i];
        if (o->type != CFG_T_IGNORED)
            continue;
        sb_appendf(out, "%s\\fB%s\\fR", first ? "" : ",\n", o->name);
        first = false;
    }
    sb_append(out, ".\n");
}

/* ---- bash ------------------------------------------------------------------ */

/* The kind of value a positional argument or option takes, for completion:
 * server, server_all (a server or all), backup, dir, file, or none. */
static const char *arg_kind(const char *word)
{
    if (strstr(word, "SERVER"))
        return strstr(word, "|all") ? "server_all" : "server";
    if (strstr(word, "BACKUP_ID"))
        return "backup";
    if (strcmp(word, "DEST") == 0 || strcmp(word, "DIR") == 0)
        return "dir";
    if (strstr(word, "FILE"))
        return "file";
    return "none";
}

/* "SERVER BACKUP_ID DEST" -> "server backup dir"; a trailing "..." makes
 * the last kind repeat ("server_all+"). */
static void bash_positionals(struct strbuf *out, const char *synopsis)
{
    char *copy = cel_xstrdup(synopsis);
    bool first = true;
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(w);
        bool repeat = n > 3 && strcmp(w + n - 3, "...") == 0;
        if (repeat)
            w[n - 3] = '\0';
        w += strspn(w, "[");
        w[strcspn(w, "]")] = '\0';
        sb_appendf(out, "%s%s%s", first ? "" : " ", arg_kind(w), repeat ? "+" : "");
        first = false;
    }
    free(copy);
}

/* Words of a bash case pattern for a command: its name and aliases. */
static void bash_pattern(struct strbuf *out, const struct cli_cmd *c)
{
    sb_append(out, c->name);
    for (size_t a = 0; a < CEL_ARRAY_LEN(c->aliases) && c->aliases[a]; a++)
        sb_appendf(out, "|%s", c->aliases[a]);
}

static void check_bash_word(const char *what, const char *s)
{
    if (strpbrk(s, "'\\\"$`"))
        die("%s '%s' holds a character the completion cannot quote", what, s);
}

static void gen_bash_tables(struct strbuf *out)
{
    check_commands();
    sb_append(out, "_cellar_commands='");
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        check_bash_word("command", c->name);
        sb_appendf(out, "%s%s", i ? " " : "", c->name);
        for (size_t a = 0; a < CEL_ARRAY_LEN(c->aliases) && c->aliases[a]; a++)
            sb_appendf(out, " %s", c->aliases[a]);
    }
    sb_append(out, "'\n\n");

    sb_append(out,
              "# _cellar_command_info COMMAND - set _cellar_opts (every option), _cellar_valopts\n"
              "# (those that take a value) and _cellar_pos (the kinds of the positional\n"
              "# arguments; a trailing + repeats the last); return 1 for an unknown command.\n"
              "_cellar_command_info() {\n"
              "    case $1 in\n");
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        struct strbuf opts = {0}, valopts = {0};
        for (size_t o = 0; c->opts && c->opts[o].name; o++) {
            const struct cli_opt *opt = &c->opts[o];
            check_bash_word("option", opt->name);
            sb_appendf(&opts, "%s--%s", opts.len ? " " : "", opt->name);
            if (opt->short_name)
                sb_appendf(&opts, " -%c", opt->short_name);
            if (opt->arg_name) {
                sb_appendf(&valopts, "%s--%s", valopts.len ? " " : "", opt->name);
                if (opt->short_name)
                    sb_appendf(&valopts, " -%c", opt->short_name);
            }
        }
        sb_append(out, "    ");
        bash_pattern(out, c);
        sb_appendf(out,
                   ")\n        _cellar_opts='%s'\n        _cellar_valopts='%s'\n"
                   "        _cellar_pos='",
                   sb_str(&opts), sb_str(&valopts));
        bash_positionals(out, c->synopsis);
        sb_append(out, "' ;;\n");
        sb_free(&opts);
        sb_free(&valopts);
    }
    sb_append(out, "    *) return 1 ;;\n    esac\n}\n\n");

    sb_append(out, "# _cellar_option_kind COMMAND OPTION - what the option's value is: a list\n"
                   "# of words (\"words off copy link\"), \"dir\", \"file\" or \"none\".\n"
                   "_cellar_option_kind() {\n"
                   "    case $1:$2 in\n");
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        for (size_t o = 0; c->opts && c->opts[o].name; o++) {
            const struct cli_opt *opt = &c->opts[o];
            if (!opt->arg_name)
                continue;
            check_bash_word("option argument", opt->arg_name);
            const char *kind = arg_kind(opt->arg_name);
            bool words = strchr(opt->arg_name, '|') && strcmp(kind, "none") == 0;
            if (!words && strcmp(kind, "none") == 0)
                continue;
            for (size_t a = 0; a < 1 + CEL_ARRAY_LEN(c->aliases); a++) {
                const char *name = a == 0 ? c->name : c->aliases[a - 1];
                if (!name)
                    break;
                sb_appendf(out, "    %s:--%s", name, opt->name);
                if (opt->short_name)
                    sb_appendf(out, " | %s:-%c", name, opt->short_name);
                if (words) {
                    /* the literal choices of "off|copy|link", not placeholders */
                    sb_append(out, ") echo 'words");
                    char *copy = cel_xstrdup(opt->arg_name);
                    for (char *save = NULL, *w = strtok_r(copy, "|", &save); w;
                         w = strtok_r(NULL, "|", &save))
                        if (!strpbrk(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
                            sb_appendf(out, " %s", w);
                    free(copy);
                    sb_append(out, "' ;;\n");
                } else {
                    sb_appendf(out, ") echo %s ;;\n", kind);
                }
            }
        }
    }
    sb_append(out, "    *) echo none ;;\n    esac\n}\n");
}

/* ---- the template ------------------------------------------------------------ */

static void gen_date(struct strbuf *out)
{
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    time_t t = epoch && *epoch ? (time_t)strtoll(epoch, NULL, 10) : time(NULL);
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d", &tm))
        die("cannot format the date");
    sb_append(out, buf);
}

/* Copy one template line, replacing @VERSION@, @DATE@ and the -D names. */
static void substitute_line(struct strbuf *out, const char *line, const char *template, int lineno)
{
    const char *p = line;
    while (*p) {
        const char *at = strchr(p, '@');
        const char *end = at ? strchr(at + 1, '@') : NULL;
        if (!at || !end) {
            sb_append(out, p);
            return;
        }
        sb_appendn(out, p, (size_t)(at - p));
        size_t n = (size_t)(end - at - 1);
        bool known = true;
        if (n == 7 && strncmp(at + 1, "VERSION", n) == 0) {
            sb_append(out, CEL_VERSION);
        } else if (n == 4 && strncmp(at + 1, "DATE", n) == 0) {
            gen_date(out);
        } else if (n == 7 && strncmp(at + 1, "DATADIR", n) == 0) {
            sb_append(out, CEL_DATADIR);
        } else {
            known = false;
            for (size_t i = 0; i < n_defines && !known; i++)
                if (strlen(defines[i].name) == n && strncmp(at + 1, defines[i].name, n) == 0) {
                    sb_append(out, defines[i].value);
                    known = true;
                }
        }
        if (!known && n > 0 && strspn(at + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == n)
            die("%s:%d: unknown placeholder @%.*s@", template, lineno, (int)n, at + 1);
        if (!known) {
            /* an @ that is no placeholder (an e-mail address, say) */
            sb_appendc(out, '@');
            p = at + 1;
            continue;
        }
        p = end + 1;
    }
}

static const struct {
    const char *name;
    void (*gen)(struct strbuf *out);
} sections[] = {
    {"@COMMANDS@", gen_commands},
    {"@ERRORS@", gen_errors},
    {"@CONFIG_OPTIONS@", gen_config_options},
    {"@IGNORED_OPTIONS@", gen_ignored_options},
    {"@BASH_TABLES@", gen_bash_tables},
};

static void render(const char *template, struct strbuf *out)
{
    FILE *in = fopen(template, "r");
    if (!in)
        die("cannot open '%s': %s", template, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        bool done = false;
        for (size_t i = 0; i < CEL_ARRAY_LEN(sections) && !done; i++)
            if (strcmp(line, sections[i].name) == 0) {
                sections[i].gen(out);
                done = true;
            }
        if (!done) {
            substitute_line(out, line, template, lineno);
            sb_appendc(out, '\n');
        }
    }
    bool failed = ferror(in);
    free(line);
    fclose(in);
    if (failed)
        die("cannot read '%s'", template);
}

static void write_output(const char *path, const struct strbuf *text)
{
    char *tmp = cel_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        die("cannot create '%s': %s", tmp, strerror(errno));
    bool ok = fwrite(sb_str(text), 1, text->len, f) == text->len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        die("cannot write '%s': %s", path, strerror(e));
    }
    free(tmp);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i + 1 < argc && strcmp(argv[i], "-D") == 0; i += 2) {
        char *eq = strchr(argv[i + 1], '=');
        if (!eq || n_defines == MKMAN_MAX_DEFINES)
            die("-D expects NAME=VALUE (at most %d)", MKMAN_MAX_DEFINES);
        *eq = '\0';
        defines[n_defines].name = argv[i + 1];
        defines[n_defines].value = eq + 1;
        n_defines++;
    }
    if (argc - i != 2) {
        fputs("usage: mkman [-D NAME=VALUE]... TEMPLATE OUTPUT\n", stderr);
        return 2;
    }
    struct strbuf out = {0};
    render(argv[i], &out);
    write_output(argv[i + 1], &out);
    sb_free(&out);
    return 0;
}
