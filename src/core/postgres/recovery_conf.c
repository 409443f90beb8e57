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
 * rc_check_target validates a recovery target the way PostgreSQL will read
 * it, but stricter where PostgreSQL is lax (an xid such as "12abc" is
 * silently 12 to PostgreSQL).
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
#include <inttypes.h>

#include "recovery_conf.h"
#include "ts.h"
#include "wal.h"

/* Barman's marker for a line it disabled. */
#define RC_MARK "#BARMAN#"

/* PostgreSQL's NAMEDATALEN - 1: the longest restore point name. */
#define RC_NAME_MAX 63

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

    bool inclusive_applies = false;
    switch (s->target) {
    case RC_TARGET_TIME:
        quoted_line(out, "recovery_target_time", s->target_value);
        inclusive_applies = true;
        break;
    case RC_TARGET_XID:
        quoted_line(out, "recovery_target_xid", s->target_value);
        inclusive_applies = true;
        break;
    case RC_TARGET_LSN:
        quoted_line(out, "recovery_target_lsn", s->target_value);
        inclusive_applies = true;
        break;
    case RC_TARGET_NAME:
        quoted_line(out, "recovery_target_name", s->target_value);
        break;
    case RC_TARGET_IMMEDIATE:
        quoted_line(out, "recovery_target", "immediate");
        break;
    case RC_TARGET_NONE:
        break;
    }
    if (inclusive_applies && s->exclusive)
        quoted_line(out, "recovery_target_inclusive", "false");
    /* Unquoted, as Barman writes it: current, latest or a number are all
     * single tokens for PostgreSQL's lexer. */
    if (s->target_tli)
        sb_appendf(out, "recovery_target_timeline = %s\n", s->target_tli);
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

/* Check an xid: plain decimal, no leading zero, fits in 64 bits, and its
 * low 32 bits (what PostgreSQL keeps) are a normal transaction ID. */
static int check_xid(const char *value, struct cel_err *err)
{
    static const char hint[] =
        "Give the transaction ID in decimal, as txid_current() or pg_current_xact_id() shows "
        "it (3 or more).";
    char q[CEL_SHOW_BUF];
    int rc = 0;
    if (value[0] == '\0') {
        rc = cel_err_set(err, CEL_E_USAGE, "--target-xid: empty transaction ID");
        goto out;
    }
    uint64_t v = 0;
    bool overflow = false;
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9') {
            rc = cel_err_set(err, CEL_E_USAGE,
                             "--target-xid: invalid transaction ID '%s': expected a whole number "
                             "in decimal digits",
                             cel_show(value, strlen(value), q));
            goto out;
        }
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (value[0] == '0' && value[1] != '\0') {
        rc = cel_err_set(err, CEL_E_USAGE,
                         "--target-xid: transaction ID '%s' has a leading zero: PostgreSQL "
                         "would read it as an octal number",
                         cel_show(value, strlen(value), q));
        goto out;
    }
    if (overflow) {
        rc = cel_err_set(err, CEL_E_USAGE,
                         "--target-xid: transaction ID '%s' is out of range: at most "
                         "18446744073709551615",
                         cel_show(value, strlen(value), q));
        goto out;
    }
    uint32_t xid = (uint32_t)v;
    if (xid < 3) {
        if (v >> 32)
            rc = cel_err_set(err, CEL_E_USAGE,
                             "--target-xid: transaction ID '%s' (epoch %" PRIu32 ", xid %" PRIu32
                             ") is not a normal transaction ID: the low 32 bits must be 3 or more",
                             cel_show(value, strlen(value), q), (uint32_t)(v >> 32), xid);
        else
            rc = cel_err_set(err, CEL_E_USAGE,
                             "--target-xid: transaction ID '%s' is reserved: normal transaction "
                             "IDs start at 3",
                             cel_show(value, strlen(value), q));
    }
out:
    if (rc < 0)
        cel_err_hint(err, "%s", hint);
    return rc;
}

int rc_check_target(enum rc_target_kind kind, const char *value, struct cel_err *err)
{
    char q[CEL_SHOW_BUF];
    struct cel_err why = {0};
    if (kind == RC_TARGET_NONE || kind == RC_TARGET_IMMEDIATE)
        return 0;
    if (!value)
        value = "";
    switch (kind) {
    case RC_TARGET_XID:
        return check_xid(value, err);
    case RC_TARGET_LSN: {
        uint64_t lsn;
        if (wal_lsn_parse(value, &lsn, &why) == 0)
            return 0;
        int rc = cel_err_set(err, CEL_E_USAGE, "--target-lsn: %s", why.msg);
        cel_err_hint(err, "Give the LSN as two groups of 1 to 8 hexadecimal digits separated by "
                          "'/', as pg_current_wal_lsn() shows it (0/3000060).");
        return rc;
    }
    case RC_TARGET_NAME: {
        size_t len = strlen(value);
        int rc = 0;
        if (len == 0)
            rc = cel_err_set(err, CEL_E_USAGE, "--target-name: empty restore point name");
        else if (len > RC_NAME_MAX)
            rc = cel_err_set(err, CEL_E_USAGE,
                             "--target-name: restore point name '%s' is %zu bytes long, at most "
                             "%d allowed",
                             cel_show(value, strlen(value), q), len, RC_NAME_MAX);
        for (size_t i = 0; rc == 0 && i < len; i++)
            /* a newline would end the setting's line for any reader that
             * does not decode our escape, and no DBA types a control
             * character into a restore point name on purpose */
            if ((unsigned char)value[i] < 0x20 || value[i] == 0x7F)
                rc = cel_err_set(err, CEL_E_USAGE,
                                 "--target-name: restore point name '%s' contains the control "
                                 "character 0x%02X at byte %zu",
                                 cel_show(value, strlen(value), q), (unsigned)value[i], i + 1);
        if (rc < 0)
            cel_err_hint(err, "Give the name passed to pg_create_restore_point() (1 to %d bytes).",
                         RC_NAME_MAX);
        return rc;
    }
    case RC_TARGET_TIME: {
        struct ts t;
        if (ts_parse(value, &t, &why) == 0)
            return 0;
        int rc = cel_err_set(err, CEL_E_USAGE, "--target-time: %s", why.msg);
        cel_err_hint(err, "Give the time as YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]; add the offset "
                          "(+00:00 for UTC) so that cellar and PostgreSQL read it alike.");
        return rc;
    }
    case RC_TARGET_NONE:
    case RC_TARGET_IMMEDIATE:
        break;
    }
    return 0;
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
