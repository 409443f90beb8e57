/*
 * recovery_conf.c - recovery settings and configuration mangling for a
 * recovered data directory.
 *
 * Three small pieces of text processing. rc_settings_lines writes the
 * recovery lines in Barman's order, every string value through rc_quote.
 * rc_mangle_conf walks a configuration text line by line and decides for
 * each line whether it sets one of the options a recovered copy must not
 * keep; it copies every other byte through untouched, so a file written
 * with CRLF line endings or without a final newline comes back the same.
 * The target arrives parsed (recovery_target.c): its text is written as
 * given, under the setting its kind's row names.
 *
 * Recognising a setting follows PostgreSQL's configuration lexer
 * (src/backend/utils/misc/guc-file.l) rather than Barman's regular
 * expression "^\s*([^\s=]+)\s*=?\s*(.*)$": the lexer's blanks are space,
 * tab and CR; a name is an identifier ([A-Za-z_\200-\377] then also
 * digits), and flex takes the longest token, so an identifier directly
 * followed by one of "-._:/" is a qualified name or an unquoted string,
 * not the option; the name is followed by an optional '=' and a value.
 * Names are compared ASCII case-insensitively, as guc_name_compare() does
 * (Barman compares exactly, so it misses ARCHIVE_COMMAND = ...). Character
 * classes are our own ASCII helpers, not <ctype.h>, which depends on the
 * locale.
 */
#include "recovery_conf.h"

/* Barman's marker for a line it disabled. */
#define RC_MARK "#BARMAN#"

/* The options whose lines are commented out (Barman's OPTIONS_TO_MANGLE
 * with a None value). archive_command is handled apart. */
static const char *const rc_target_options[] = {
    "recovery_target",          "recovery_target_name",   "recovery_target_time",
    "recovery_target_xid",      "recovery_target_lsn",    "recovery_target_inclusive",
    "recovery_target_timeline", "recovery_target_action",
};

/* The lexer's blanks inside a line. */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* LETTER of guc-file.l: ASCII letters, '_' and every byte >= 0x80. */
static bool is_letter(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
}

/* LETTER_OR_DIGIT of guc-file.l. */
static bool is_letter_or_digit(char c)
{
    return is_letter(c) || (c >= '0' && c <= '9');
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* True when the n bytes at s are name, ASCII case-insensitively. */
static bool name_equals(const char *s, size_t n, const char *name)
{
    if (strlen(name) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(s[i]) != name[i])
            return false;
    return true;
}

enum rc_line_kind {
    RC_LINE_KEEP,            /* anything else: copied as is */
    RC_LINE_ARCHIVE_COMMAND, /* commented, then archive_command = false */
    RC_LINE_TARGET,          /* commented */
};

/*
 * Classify the line [p, end) (without its "\n"). Returns KEEP unless the
 * line sets archive_command or a recovery_target* option in a form
 * PostgreSQL accepts: blanks, the option name as a whole token, blanks, and
 * '=' or the start of a value.
 */
static enum rc_line_kind classify(const char *p, const char *end)
{
    while (p < end && is_blank(*p))
        p++;
    if (p == end || !is_letter(*p))
        return RC_LINE_KEEP; /* empty, comment, or not a name */
    const char *name = p;
    while (p < end && is_letter_or_digit(*p))
        p++;
    size_t len = (size_t)(p - name);
    /* A longer token (qualified name or unquoted string): not an option. */
    if (p < end && strchr("-._:/", *p))
        return RC_LINE_KEEP;
    while (p < end && is_blank(*p))
        p++;
    /* No '=' and no value: a syntax error for PostgreSQL; leave it. */
    if (p == end || *p == '#')
        return RC_LINE_KEEP;
    if (name_equals(name, len, "archive_command"))
        return RC_LINE_ARCHIVE_COMMAND;
    for (size_t i = 0; i < CEL_ARRAY_LEN(rc_target_options); i++)
        if (name_equals(name, len, rc_target_options[i]))
            return RC_LINE_TARGET;
    return RC_LINE_KEEP;
}

void rc_mangle_conf(const char *text, struct strbuf *out, size_t *changed)
{
    size_t count = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p); /* end of the content */
        const char *next = nl ? nl + 1 : end;      /* start of the next line */
        enum rc_line_kind kind = classify(p, end);
        if (kind != RC_LINE_KEEP) {
            sb_append(out, RC_MARK);
            count++;
        }
        sb_appendn(out, p, (size_t)(next - p));
        if (kind == RC_LINE_ARCHIVE_COMMAND) {
            /* The new line ends as the original did: "\r\n", "\n", or (last
             * line without a newline) nothing, after a "\n" separating it. */
            bool crlf = nl && end > p && end[-1] == '\r';
            if (!nl)
                sb_appendc(out, '\n');
            sb_append(out, "archive_command = false");
            if (nl)
                sb_append(out, crlf ? "\r\n" : "\n");
        }
        p = next;
    }
    if (changed)
        *changed = count;
}

void rc_quote(const char *value, struct strbuf *out)
{
    sb_appendc(out, '\'');
    for (const char *p = value ? value : ""; *p; p++) {
        switch (*p) {
        case '\'':
            sb_append(out, "''");
            break;
        case '\\':
            sb_append(out, "\\\\");
            break;
        case '\n':
            sb_append(out, "\\n");
            break;
        case '\r':
            sb_append(out, "\\r");
            break;
        default:
            sb_appendc(out, *p);
        }
    }
    sb_appendc(out, '\'');
}

/* Append "name = 'value'\n". */
static void quoted_line(struct strbuf *out, const char *name, const char *value)
{
    sb_append(out, name);
    sb_append(out, " = ");
    rc_quote(value, out);
    sb_appendc(out, '\n');
}

void rc_settings_lines(const struct rc_settings *s, const char *backup_id, struct strbuf *out)
{
    sb_append(out, "# recovery settings written by cellar");
    if (backup_id)
        sb_appendf(out, " for backup %s", backup_id);
    sb_appendc(out, '\n');

    if (s->restore_command)
        quoted_line(out, "restore_command", s->restore_command);
    if (s->recovery_end_command)
        quoted_line(out, "recovery_end_command", s->recovery_end_command);

    const struct rc_target *t = &s->target;
    const struct rc_target_def *def = rc_target_def(t->kind);
    /* a kind without a value writes its word: recovery_target = 'immediate' */
    if (def->setting)
        quoted_line(out, def->setting, def->metavar ? t->text : def->word);
    if (def->inclusive && s->exclusive)
        quoted_line(out, "recovery_target_inclusive", "false");
    /* Unquoted, as Barman writes it: current, latest or a number are all
     * single tokens for PostgreSQL's lexer. */
    char buf[RC_TLI_MAX];
    const char *tli = rc_target_tli_text(t, buf);
    if (tli)
        sb_appendf(out, "recovery_target_timeline = %s\n", tli);
    if (s->target_action)
        quoted_line(out, "recovery_target_action", s->target_action);
    if (s->pg_version < 120000 && s->standby_mode)
        quoted_line(out, "standby_mode", "on");
}

const char *rc_settings_file(const struct rc_settings *s)
{
    return s->pg_version >= 120000 ? "postgresql.auto.conf" : "recovery.conf";
}

const char *rc_signal_file(const struct rc_settings *s)
{
    if (s->pg_version < 120000)
        return NULL;
    return s->standby_mode ? "standby.signal" : "recovery.signal";
}

/* w as one shell word, its '%' doubled for PostgreSQL's substitution. */
static void command_word(struct strbuf *out, const char *w)
{
    struct strbuf pct = {0};
    for (const char *c = w; *c; c++) {
        if (*c == '%')
            sb_appendc(&pct, '%');
        sb_appendc(&pct, *c);
    }
    sb_append_shell_word(out, sb_str(&pct));
    sb_free(&pct);
}

char *rc_restore_command_argv(const char *const *argv)
{
    struct strbuf out = {0};
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            sb_appendc(&out, ' ');
        command_word(&out, argv[i]);
    }
    sb_append(&out, " %f %p");
    return sb_detach(&out);
}

char *rc_get_wal_command(const char *cellar, const char *conf, const char *server,
                         const char *ssh_dest)
{
    struct strbuf get = {0}, out = {0};
    command_word(&get, cellar);
    if (conf) {
        sb_append(&get, " -c ");
        command_word(&get, conf);
    }
    sb_append(&get, " get-wal ");
    command_word(&get, server);
    sb_append(&get, " %f");
    if (!ssh_dest) {
        sb_append(&out, sb_str(&get));
    } else {
        sb_append(&out, "ssh -o BatchMode=yes ");
        command_word(&out, ssh_dest);
        sb_appendc(&out, ' ');
        /* quoted whole, even when no word needed it, so the remote
         * command stays one argument of ssh */
        sb_append_shell_quoted(&out, sb_str(&get));
    }
    sb_append(&out, " > %p");
    sb_free(&get);
    return sb_detach(&out);
}
