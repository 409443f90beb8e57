/*
 * ini.c - a line-oriented ConfigParser work-alike.
 *
 * The parser walks the text line by line keeping one pending key: a key's
 * value is only complete once the next non-continuation line (or the end of
 * the text) is seen, because lines indented deeper than the key's own line
 * may extend it. Comment lines are skipped without ending a pending value,
 * and blank lines are kept inside it when a continuation follows, as
 * ConfigParser does.
 */
#include <ctype.h>

#include "ini.h"
#include "storage.h"
#include "strbuf.h"

struct parser {
    const char *name;
    ini_handler fn;
    void *ctx;
    char *section;
    char *key; /* pending key, NULL when none */
    int key_line;
    size_t key_indent; /* blanks before the pending key */
    int blanks;        /* blank lines seen since the pending value's last line */
    struct strbuf value;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* [start, end) trimmed of blanks on both sides. */
static void trim(const char **start, const char **end)
{
    while (*start < *end && is_blank(**start))
        (*start)++;
    while (*end > *start && is_blank((*end)[-1]))
        (*end)--;
}

/* Deliver the pending key, if any. */
static int flush(struct parser *p, struct cel_err *err)
{
    if (!p->key)
        return 0;
    struct ini_item item = {.file = p->name,
                            .line = p->key_line,
                            .section = p->section,
                            .key = p->key,
                            .value = sb_str(&p->value)};
    int rc = p->fn(p->ctx, &item, err);
    free(p->key);
    p->key = NULL;
    p->blanks = 0;
    sb_reset(&p->value);
    return rc;
}

/* Handle one line [s, e) numbered lineno (newline and CR already removed). */
static int parse_line(struct parser *p, const char *s, const char *e, int lineno,
                      struct cel_err *err)
{
    const char *ts = s, *te = e;
    trim(&ts, &te);
    if (ts == te) {
        /* part of the value if a continuation line follows, else dropped */
        if (p->key)
            p->blanks++;
        return 0;
    }
    if (*ts == '#' || *ts == ';')
        return 0;
    size_t indent = (size_t)(ts - s);
    if (p->key && indent > p->key_indent) {
        for (; p->blanks > 0; p->blanks--)
            sb_appendc(&p->value, '\n');
        sb_appendc(&p->value, '\n');
        sb_appendn(&p->value, ts, (size_t)(te - ts));
        return 0;
    }
    int rc = flush(p, err);
    if (rc < 0)
        return rc;
    if (*ts == '[') {
        if (te[-1] != ']' || te - ts < 3)
            return cel_err_set(err, CEL_E_CONFIG,
                               "%s:%d: invalid section header '%.*s': expected '[name]'", p->name,
                               lineno, (int)(te - ts), ts);
        free(p->section);
        p->section = cel_xstrndup(ts + 1, (size_t)(te - ts - 2));
        struct ini_item item = {.file = p->name, .line = lineno, .section = p->section};
        return p->fn(p->ctx, &item, err);
    }
    const char *sep = ts;
    while (sep < te && *sep != '=' && *sep != ':')
        sep++;
    if (sep == te)
        return cel_err_set(err, CEL_E_CONFIG,
                           "%s:%d: cannot parse '%.*s': expected 'option = value', '[section]' "
                           "or a comment",
                           p->name, lineno, (int)(te - ts), ts);
    const char *ks = ts, *ke = sep, *vs = sep + 1, *ve = te;
    trim(&ks, &ke);
    trim(&vs, &ve);
    if (ks == ke)
        return cel_err_set(err, CEL_E_CONFIG, "%s:%d: option name missing before '%c'", p->name,
                           lineno, *sep);
    if (!p->section)
        return cel_err_set(err, CEL_E_CONFIG,
                           "%s:%d: option '%.*s' comes before the first [section]", p->name,
                           lineno, (int)(ke - ks), ks);
    p->key = cel_xstrndup(ks, (size_t)(ke - ks));
    for (char *c = p->key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    p->key_line = lineno;
    p->key_indent = indent;
    sb_appendn(&p->value, vs, (size_t)(ve - vs));
    return 0;
}

int ini_parse_text(const char *text, const char *name, ini_handler fn, void *ctx,
                   struct cel_err *err)
{
    struct parser p = {.name = name, .fn = fn, .ctx = ctx};
    int rc = 0;
    const char *s = text;
    if ((unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
        s += 3;
    for (int lineno = 1; *s; lineno++) {
        const char *nl = strchr(s, '\n');
        const char *e = nl ? nl : s + strlen(s);
        const char *le = e;
        if (le > s && le[-1] == '\r')
            le--;
        if ((rc = parse_line(&p, s, le, lineno, err)) < 0)
            goto out;
        s = nl ? nl + 1 : e;
    }
    rc = flush(&p, err);
out:
    free(p.key);
    free(p.section);
    sb_free(&p.value);
    return rc;
}

int ini_parse_file(const char *path, ini_handler fn, void *ctx, struct cel_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = stor_read_file(path, 16u << 20, &text, &len, err);
    if (rc < 0)
        return rc;
    if (memchr(text, '\0', len))
        rc = cel_err_set(err, CEL_E_CONFIG, "%s: contains a NUL byte: not a configuration file",
                         path);
    else
        rc = ini_parse_text(text, path, fn, ctx, err);
    free(text);
    return rc;
}
