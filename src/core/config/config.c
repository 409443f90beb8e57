/*
 * config.c - loading and resolving the configuration.
 *
 * Loading has two passes. The first reads the main file (and the files of
 * configuration_files_directory) into raw sections: section name -> list of
 * (key, value, file, line), later keys replacing earlier ones as in
 * ConfigParser's non-strict mode. The second resolves each option of the
 * table for the global section and for every server, in Barman's order:
 * server section, then [DEFAULT], then the global section (for options that
 * inherit), then the built-in default. A resolved raw value is interpolated
 * (%(key)s, %%), checked for "none", unquoted, and parsed by its type.
 * Whatever a consumer needs from inside a value (conninfo's user,
 * ssh_command's user and host) is found here too, so no consumer parses a
 * configuration string again.
 *
 * Every problem becomes a struct cfg_diag. Global problems make cfg_load
 * fail; a server's problems disable that server only.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <strings.h>

#include <libpq-fe.h>

#include "arena.h"
#include "config.h"
#include "cloud_url.h"
#include "ini.h"
#include "storage.h"

#define MAX_INTERPOLATION_DEPTH 10

struct raw_entry {
    const char *key;
    const char *value;
    const char *file;
    int line;
};

struct raw_section {
    const char *name;
    const char *file;
    int line;
    struct raw_entry *entries;
    size_t n, cap;
};

struct loader {
    struct cfg *cfg;
    struct arena *a;
    struct raw_section *sections;
    size_t n, cap;
    struct raw_section *cur;
    /* reading a file that may not set global options: NULL for the main
     * file, else what it is ("configuration_files_directory") */
    const char *extra_file;
    /* the text of .barman.auto.conf to use instead of the file (a
     * config-update's trial load), NULL: read the file */
    const char *auto_text;
    size_t diag_cap;
    const char *global_name; /* "cellar" or "barman": the name used in messages */
};

/* ---- diagnostics ---------------------------------------------------- */

static void add_diag(struct loader *L, enum cfg_diag_level level, const char *server,
                     const char *file, int line, const char *option, const char *fmt, ...)
    CEL_PRINTF(7, 8);

static void add_diag(struct loader *L, enum cfg_diag_level level, const char *server,
                     const char *file, int line, const char *option, const char *fmt, ...)
{
    struct cfg *cfg = L->cfg;
    if (cfg->n_diags == L->diag_cap) {
        L->diag_cap = L->diag_cap ? L->diag_cap * 2 : 16;
        cfg->diags = cel_xrealloc_array(cfg->diags, L->diag_cap, sizeof *cfg->diags);
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = cel_xvasprintf(fmt, ap);
    va_end(ap);
    struct strbuf text = {0};
    sb_append(&text, file);
    if (line > 0)
        sb_appendf(&text, ":%d", line);
    sb_append(&text, ": ");
    sb_append(&text, msg);
    struct cfg_diag *d = &cfg->diags[cfg->n_diags++];
    d->level = level;
    d->server = server ? arena_strdup(L->a, server) : NULL;
    d->file = file;
    d->line = line;
    d->option = option ? arena_strdup(L->a, option) : NULL;
    d->text = arena_strdup(L->a, sb_str(&text));
    sb_free(&text);
    free(msg);
}

size_t cfg_diag_count(const struct cfg *cfg, const char *server, enum cfg_diag_level level)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_diags; i++) {
        const struct cfg_diag *d = &cfg->diags[i];
        if (d->level < level)
            continue;
        if (server ? (d->server && strcmp(d->server, server) == 0) : !d->server)
            n++;
    }
    return n;
}

/* ---- raw sections --------------------------------------------------- */

static bool is_global_name(const char *name)
{
    return strcmp(name, "cellar") == 0 || strcmp(name, "barman") == 0;
}

/* The single merged global section is stored under this name. */
#define GLOBAL_SECTION "\001global"
#define DEFAULT_SECTION "DEFAULT"

static struct raw_section *find_section(struct loader *L, const char *name)
{
    for (size_t i = 0; i < L->n; i++)
        if (strcmp(L->sections[i].name, name) == 0)
            return &L->sections[i];
    return NULL;
}

static struct raw_section *get_section(struct loader *L, const char *name, const char *file,
                                       int line)
{
    struct raw_section *s = find_section(L, name);
    if (s)
        return s;
    if (L->n == L->cap) {
        L->cap = L->cap ? L->cap * 2 : 8;
        L->sections = cel_xrealloc_array(L->sections, L->cap, sizeof *L->sections);
    }
    s = &L->sections[L->n++];
    memset(s, 0, sizeof *s);
    s->name = arena_strdup(L->a, name);
    s->file = file;
    s->line = line;
    return s;
}

static const struct raw_entry *find_entry(const struct raw_section *s, const char *key)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}

static void set_entry(struct loader *L, struct raw_section *s, const struct ini_item *item)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->entries[i].key, item->key) == 0) {
            s->entries[i].value = arena_strdup(L->a, item->value);
            s->entries[i].file = item->file;
            s->entries[i].line = item->line;
            return;
        }
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->entries = cel_xrealloc_array(s->entries, s->cap, sizeof *s->entries);
    }
    s->entries[s->n++] = (struct raw_entry){
        .key = arena_strdup(L->a, item->key),
        .value = arena_strdup(L->a, item->value),
        .file = item->file,
        .line = item->line,
    };
}

/* A server name starts with a letter, digit or underscore and goes on with
 * letters, digits, '_', '.' and '-': safe as a path component and in lock
 * file names. */
bool cfg_section_name_reserved(const char *name)
{
    return strcasecmp(name, "all") == 0 || strcasecmp(name, "barman") == 0 ||
           strcasecmp(name, "cellar") == 0;
}

bool cfg_section_name_valid(const char *name)
{
    if (!isalnum((unsigned char)name[0]) && name[0] != '_')
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
            return false;
    return strlen(name) <= 200;
}

static int on_ini_item(void *ctx, const struct ini_item *item, struct cel_err *err)
{
    (void)err;
    struct loader *L = ctx;
    if (!item->key) {
        const char *name = item->section;
        if (is_global_name(name)) {
            L->cur = get_section(L, GLOBAL_SECTION, item->file, item->line);
            if (!L->global_name || strcmp(name, "cellar") == 0)
                L->global_name = strcmp(name, "cellar") == 0 ? "cellar" : "barman";
        } else if (strcmp(name, DEFAULT_SECTION) == 0) {
            L->cur = get_section(L, DEFAULT_SECTION, item->file, item->line);
        } else if (cfg_section_name_reserved(name)) {
            add_diag(L, CFG_ERROR, NULL, item->file, item->line, NULL,
                     "[%s]: '%s' is a reserved word and cannot be a server name", name, name);
            L->cur = NULL;
        } else if (!cfg_section_name_valid(name)) {
            add_diag(L, CFG_ERROR, NULL, item->file, item->line, NULL,
                     "[%s]: invalid server name: it must start with a letter, digit or '_' and "
                     "contain only letters, digits, '_', '.' and '-'",
                     name);
            L->cur = NULL;
        } else {
            L->cur = get_section(L, name, item->file, item->line);
        }
        return 0;
    }
    if (!L->cur)
        return 0; /* keys of a refused section: already reported */
    if (L->extra_file && strcmp(L->cur->name, GLOBAL_SECTION) == 0) {
        add_diag(L, CFG_ERROR, NULL, item->file, item->line, item->key,
                 "[%s] %s: global options belong in the main configuration file, not in "
                 "%s",
                 item->section, item->key, L->extra_file);
        return 0;
    }
    set_entry(L, L->cur, item);
    return 0;
}

/* ---- value processing ----------------------------------------------- */

/* Expand %(key)s and %% in value, looking keys up in sec, then [DEFAULT],
 * then the names every section knows (name, barman_home). */
static int interpolate(struct loader *L, const struct raw_section *sec, const char *server,
                       const char *value, int depth, struct strbuf *out, struct cel_err *err)
{
    if (depth > MAX_INTERPOLATION_DEPTH)
        return cel_err_set(err, CEL_E_CONFIG, "interpolation nested deeper than %d levels",
                           MAX_INTERPOLATION_DEPTH);
    for (const char *p = value; *p; p++) {
        if (*p != '%') {
            sb_appendc(out, *p);
            continue;
        }
        if (p[1] == '%') {
            sb_appendc(out, '%');
            p++;
            continue;
        }
        const char *close = p[1] == '(' ? strchr(p + 2, ')') : NULL;
        if (!close || close[1] != 's')
            return cel_err_set(err, CEL_E_CONFIG,
                               "'%%' must be followed by '%%' or '(name)s'; write '%%%%' for a "
                               "literal '%%'");
        char *key = cel_xstrndup(p + 2, (size_t)(close - p - 2));
        for (char *c = key; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        const struct raw_entry *e = find_entry(sec, key);
        if (!e)
            e = find_entry(find_section(L, DEFAULT_SECTION), key);
        int rc = 0;
        if (e) {
            rc = interpolate(L, sec, server, e->value, depth + 1, out, err);
        } else if (strcmp(key, "name") == 0 && server) {
            sb_append(out, server);
        } else if (strcmp(key, "barman_home") == 0 &&
                   (e = find_entry(find_section(L, GLOBAL_SECTION), "barman_home"))) {
            rc = interpolate(L, sec, server, e->value, depth + 1, out, err);
        } else {
            rc = cel_err_set(err, CEL_E_CONFIG, "'%%(%s)s' refers to an option that is not set",
                             key);
        }
        free(key);
        if (rc < 0)
            return rc;
        p = close + 1;
    }
    return 0;
}

/* ---- type parsers ---------------------------------------------------- */
/* Each returns 0 or -CEL_E_INVALID with a message; the caller adds where. */

static int parse_bool(const char *v, bool *out, struct cel_err *err)
{
    static const char *const yes[] = {"true", "t", "yes", "1", "on"};
    static const char *const no[] = {"false", "f", "no", "0", "off"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return cel_err_set(err, CEL_E_INVALID, "invalid value '%s': expected true or false", v);
}

static int parse_int(const struct cfg_option *opt, const char *v, int *out, struct cel_err *err)
{
    const char *p = v;
    if (*p == '+' || *p == '-')
        p++;
    bool digits = *p != '\0';
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            digits = false;
    errno = 0;
    long n = digits ? strtol(v, NULL, 10) : 0;
    if (!digits || errno || n < opt->min || n > opt->max)
        return cel_err_set(err, CEL_E_INVALID, "invalid value '%s': expected %s", v,
                           opt->accepted);
    *out = (int)n;
    return 0;
}

static int parse_choice(const struct cfg_option *opt, const char *v, int *out,
                        struct cel_err *err)
{
    for (const struct cfg_choice *c = opt->choices; c->name; c++) {
        if (strcasecmp(c->name, v) == 0) {
            *out = c->value;
            return 0;
        }
    }
    return cel_err_set(err, CEL_E_INVALID, "invalid value '%s': expected %s", v, opt->accepted);
}

static int parse_flags(const struct cfg_option *opt, const char *v, unsigned *out,
                       struct cel_err *err)
{
    unsigned flags = 0;
    char *copy = cel_xstrdup(v);
    char *save = NULL;
    int rc = 0;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        const char *s = w, *e = w + strlen(w);
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (s == e)
            continue;
        char *word = cel_xstrndup(s, (size_t)(e - s));
        int value = 0;
        rc = parse_choice(opt, word, &value, NULL);
        if (rc < 0)
            rc = cel_err_set(err, CEL_E_INVALID, "invalid value '%s' in '%s': expected %s", word,
                             v, opt->accepted);
        free(word);
        if (rc < 0)
            break;
        flags |= (unsigned)value;
    }
    free(copy);
    if (rc == 0)
        *out = flags;
    return rc;
}

static int parse_interval(const char *v, struct cfg_interval *out, struct cel_err *err)
{
    char unit[16] = "";
    int used = 0;
    static const struct {
        const char *word;
        char unit;
        int64_t seconds;
    } units[] = {{"hour", 'h', 3600}, {"day", 'd', 86400}, {"week", 'w', 7 * 86400},
                 {"month", 'm', 31 * 86400}};
    /* the count by strtoull, which reports overflow (sscanf's %u wraps
     * 4294967297 around to 1) */
    const char *num = v + strspn(v, " \t");
    char *end = NULL;
    errno = 0;
    unsigned long long n = isdigit((unsigned char)*num) ? strtoull(num, &end, 10) : 0;
    if (n > 0 && n <= 100000 && errno == 0 &&
        sscanf(end, " %15[A-Za-z] %n", unit, &used) == 1 && end[used] == '\0') {
        size_t len = strlen(unit);
        if (len > 1 && (unit[len - 1] == 's' || unit[len - 1] == 'S'))
            unit[--len] = '\0';
        for (size_t i = 0; i < CEL_ARRAY_LEN(units); i++) {
            if (strcasecmp(unit, units[i].word) == 0) {
                out->n = (unsigned)n;
                out->unit = units[i].unit;
                out->seconds = (int64_t)n * units[i].seconds;
                return 0;
            }
        }
    }
    return cel_err_set(err, CEL_E_INVALID,
                       "invalid value '%s': expected N HOURS, DAYS, WEEKS or MONTHS with N from 1 "
                       "to 100000",
                       v);
}

static int parse_tbs_limits(struct loader *L, const char *v, struct cfg_tbs_limits *out,
                            struct cel_err *err)
{
    size_t cap = 4, n = 0;
    struct cfg_tbs_limit *items = arena_alloc_array(L->a, cap, sizeof *items);
    char *copy = cel_xstrdup(v);
    char *save = NULL;
    int rc = 0;
    /* the tutorial separates rules with commas, Barman 3.4 with blanks:
     * both are accepted */
    for (char *w = strtok_r(copy, " \t\n,", &save); w; w = strtok_r(NULL, " \t\n,", &save)) {
        char *colon = strrchr(w, ':');
        char *end = NULL;
        long kbps = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!colon || colon == w || !end || end == colon + 1 || *end != '\0' || kbps < 0 ||
            kbps > 100000000) {
            rc = cel_err_set(err, CEL_E_INVALID,
                             "invalid rule '%s' in '%s': expected NAME:KBPS rules separated by "
                             "spaces or commas, e.g. tbs1:1000, tbs2:500",
                             w, v);
            break;
        }
        if (n == cap) {
            struct cfg_tbs_limit *bigger = arena_alloc_array(L->a, cap * 2, sizeof *items);
            memcpy(bigger, items, n * sizeof *items);
            items = bigger;
            cap *= 2;
        }
        items[n].name = arena_strndup(L->a, w, (size_t)(colon - w));
        items[n].kbps = (int)kbps;
        n++;
    }
    free(copy);
    if (rc == 0) {
        out->items = items;
        out->n = n;
    }
    return rc;
}

static int parse_path(struct loader *L, const char *v, const char **out, struct cel_err *err)
{
    struct strbuf path = {0};
    if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/')
            return cel_err_set(err, CEL_E_INVALID,
                               "invalid path '%s': HOME is not set, so '~' cannot be expanded", v);
        sb_append(&path, home);
        sb_append(&path, v + 1);
    } else {
        sb_append(&path, v);
    }
    int rc = 0;
    if (sb_str(&path)[0] != '/') {
        rc = cel_err_set(err, CEL_E_INVALID, "invalid path '%s': expected an absolute path", v);
    } else {
        while (path.len > 1 && path.buf[path.len - 1] == '/')
            path.buf[--path.len] = '\0';
        *out = arena_strdup(L->a, sb_str(&path));
    }
    sb_free(&path);
    return rc;
}

static int parse_conninfo(const char *v, struct cel_err *err)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(v, &errmsg);
    if (opts) {
        PQconninfoFree(opts);
        return 0;
    }
    /* libpq's message may quote the password ("invalid percent-encoded
     * token: ..."): take the message of the masked string instead, and when
     * that one parses, the fault is in the password itself */
    PQfreemem(errmsg);
    errmsg = NULL;
    char *masked = cfg_conninfo_mask(v);
    int rc;
    opts = PQconninfoParse(masked, &errmsg);
    if (opts) {
        PQconninfoFree(opts);
        rc = cel_err_set(err, CEL_E_INVALID,
                         "invalid connection string '%s': the password is not valid in a "
                         "connection string (libpq's message is not shown: it quotes the "
                         "password)",
                         masked);
    } else if (errmsg) {
        size_t len = strlen(errmsg);
        while (len > 0 && (errmsg[len - 1] == '\n' || errmsg[len - 1] == '.'))
            errmsg[--len] = '\0';
        rc = cel_err_set(err, CEL_E_INVALID, "invalid connection string '%s': %s", masked, errmsg);
        PQfreemem(errmsg);
    } else {
        rc = cel_err_set(err, CEL_E_INVALID, "invalid connection string '%s'", masked);
    }
    free(masked);
    return rc;
}

/* Store the built-in "unset" value of opt into base: its default when it
 * has a plain one, zero/NULL otherwise. Derived directory defaults are
 * filled later. */
static void *field(const struct cfg_option *opt, void *base)
{
    return (char *)base + opt->offset;
}

/* Parse text by opt's type into base. */
static int parse_value(struct loader *L, const struct cfg_option *opt, const char *text,
                       void *base, struct cel_err *err)
{
    void *f = field(opt, base);
    switch (opt->type) {
    case CFG_T_STRING:
        *(const char **)f = arena_strdup(L->a, text);
        return 0;
    case CFG_T_SECRET:
        if (parse_conninfo(text, err) < 0)
            return -CEL_E_INVALID;
        *(const char **)f = arena_strdup(L->a, text);
        return 0;
    case CFG_T_PATH:
        return parse_path(L, text, (const char **)f, err);
    case CFG_T_BOOL:
        return parse_bool(text, (bool *)f, err);
    case CFG_T_INT:
        return parse_int(opt, text, (int *)f, err);
    case CFG_T_ENUM:
        return parse_choice(opt, text, (int *)f, err);
    case CFG_T_FLAGS:
        return parse_flags(opt, text, (unsigned *)f, err);
    case CFG_T_RETENTION:
        return ret_policy_parse(text, (struct ret_policy *)f, err);
    case CFG_T_INTERVAL:
        return parse_interval(text, (struct cfg_interval *)f, err);
    case CFG_T_TBS_LIMITS:
        return parse_tbs_limits(L, text, (struct cfg_tbs_limits *)f, err);
    case CFG_T_LOG_LEVEL: {
        enum log_level level;
        int rc = log_level_parse(text, &level, err);
        if (rc == 0)
            *(enum log_level *)f = level;
        return rc;
    }
    case CFG_T_MAGIC: {
        /* the one parser of the magic: consumers read the bytes */
        struct cfg_magic *m = f;
        if (comp_parse_magic(text, m->bytes, &m->len, err) < 0)
            return -CEL_E_INVALID;
        m->text = arena_strdup(L->a, text);
        return 0;
    }
    case CFG_T_IGNORED:
        return 0;
    }
    return cel_err_set(err, CEL_E_INTERNAL, "unknown option type");
}

/* True when the option's default is derived from other values ("%(...)s"). */
static bool derived_default(const struct cfg_option *opt)
{
    return opt->def && strchr(opt->def, '%');
}

/* Resolve and parse one option for the global section (server NULL) or a
 * server section. Returns false when the value was bad (a diag is added). */
static bool resolve_option(struct loader *L, const struct cfg_option *opt,
                           const struct raw_section *sec, const char *server, void *base)
{
    const struct raw_section *global = find_section(L, GLOBAL_SECTION);
    const struct raw_section *defaults = find_section(L, DEFAULT_SECTION);
    const struct raw_section *where = sec;
    const struct raw_entry *e = find_entry(sec, opt->name);
    if (!e && (e = find_entry(defaults, opt->name)))
        where = sec;
    if (!e && server && opt->scope == CFG_BOTH && (e = find_entry(global, opt->name)))
        where = global;
    const char *section_label = server ? server : L->global_name;

    const char *text = NULL;
    struct strbuf expanded = {0};
    struct cel_err err = {0};
    bool ok = true;
    if (e) {
        if (interpolate(L, where, where == global ? NULL : server, e->value, 0, &expanded, &err) <
            0) {
            add_diag(L, CFG_ERROR, server, e->file, e->line, opt->name, "[%s] %s: %s",
                     section_label, opt->name, err.msg);
            ok = false;
            goto out;
        }
        text = sb_str(&expanded);
        size_t len = strlen(text);
        if (strcasecmp(text, "none") == 0 || len == 0) {
            text = NULL; /* unset here, and not inherited */
        } else if (len >= 2 && (text[0] == '"' || text[0] == '\'') && text[len - 1] == text[0]) {
            expanded.buf[len - 1] = '\0';
            text = expanded.buf + 1;
        }
    }
    if (!text && opt->def && !derived_default(opt))
        text = opt->def;
    if (text && parse_value(L, opt, text, base, &err) < 0) {
        if (e)
            add_diag(L, CFG_ERROR, server, e->file, e->line, opt->name, "[%s] %s: %s",
                     section_label, opt->name, err.msg);
        else
            add_diag(L, CFG_ERROR, server, L->cfg->path, 0, opt->name,
                     "[%s] %s: bad built-in default: %s", section_label, opt->name, err.msg);
        ok = false;
    }
out:
    sb_free(&expanded);
    return ok;
}

/* Warn about keys of sec that are not options of scope wanted. */
static void check_keys(struct loader *L, const struct raw_section *sec, const char *server,
                       enum cfg_scope wanted)
{
    const char *label = server ? server : L->global_name;
    for (size_t i = 0; i < sec->n; i++) {
        const struct raw_entry *e = &sec->entries[i];
        const struct cfg_option *opt = cfg_option_find(e->key);
        if (!opt) {
            add_diag(L, CFG_WARNING, server, e->file, e->line, e->key,
                     "[%s] %s: unknown option, ignored", label, e->key);
        } else if (opt->type == CFG_T_IGNORED && opt->min == CFG_IGNORED_WARN) {
            add_diag(L, CFG_WARNING, server, e->file, e->line, e->key,
                     "[%s] %s: Barman option that cellar cannot apply, ignored: %s", label,
                     e->key, opt->help);
        } else if (opt->type == CFG_T_IGNORED) {
            add_diag(L, CFG_NOTE, server, e->file, e->line, e->key,
                     "[%s] %s: Barman option that cellar does not use, ignored: %s", label,
                     e->key, opt->help);
        } else if (!(opt->scope & wanted)) {
            if (wanted == CFG_SERVER)
                add_diag(L, CFG_WARNING, server, e->file, e->line, e->key,
                         "[%s] %s: only valid in the [%s] section, ignored here", label, e->key,
                         L->global_name);
            else
                add_diag(L, CFG_WARNING, server, e->file, e->line, e->key,
                         "[%s] %s: a server option; servers do not inherit it from [%s], set it "
                         "in each server section",
                         label, e->key, L->global_name);
        }
    }
}

/* ---- values found inside other values ---------------------------------- */

/* A copy of the n bytes at s in the arena, NULL when n is 0. */
static const char *arena_word(struct loader *L, const char *s, size_t n)
{
    return n ? arena_strndup(L->a, s, n) : NULL;
}

/* The user= of conninfo (key = value or URI form), NULL when it names none.
 * conninfo has passed parse_conninfo. */
static const char *conninfo_user(struct loader *L, const char *conninfo)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    const char *user = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "user") == 0 && o->val)
            user = arena_word(L, o->val, strlen(o->val));
    PQconninfoFree(opts);
    return user;
}

/* The user and host ssh_command logs in to, as the tutorial writes it
 * ("ssh postgres@pg", or "ssh -l postgres pg"): the first word after the
 * program that is not an option or an option's value. NULL for what the
 * command does not name (ssh then uses the local user's name). Best effort:
 * it only words advice, so a command it cannot read is no error. */
static void ssh_target(struct loader *L, const char *cmd, const char **user, const char **host)
{
    static const char with_value[] = "BbcDEeFIiJLlmOoPpQRSWw"; /* ssh(1) options taking one */
    *user = *host = NULL;
    char *copy = cel_xstrdup(cmd), *save = NULL;
    bool value_next = false, login_next = false;
    char *w = strtok_r(copy, " \t", &save); /* the program */
    while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
        if (value_next) {
            if (login_next)
                *user = arena_word(L, w, strlen(w));
            value_next = login_next = false;
        } else if (w[0] == '-' && w[1]) {
            /* "-p 22" takes the next word, "-p22" or "-oX=y" do not */
            value_next = w[2] == '\0' && strchr(with_value, w[1]);
            login_next = w[1] == 'l';
            if (login_next && w[2])
                *user = arena_word(L, w + 2, strlen(w + 2));
        } else {
            char *at = strrchr(w, '@');
            if (at) {
                *user = arena_word(L, w, (size_t)(at - w));
                w = at + 1;
            }
            *host = arena_word(L, w, strlen(w));
            break;
        }
    }
    free(copy);
}

/* ---- servers ---------------------------------------------------------- */

/* slot_name as Barman reads it: lower-cased, then only [0-9a-z_]. */
static void check_slot_name(struct loader *L, const struct raw_section *sec,
                            struct cfg_server *srv)
{
    if (!srv->slot_name)
        return;
    char *lower = arena_strndup(L->a, srv->slot_name, strlen(srv->slot_name));
    bool ok = lower[0] != '\0';
    for (char *p = lower; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
        ok = ok && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
    }
    srv->slot_name = lower;
    if (ok)
        return;
    const struct raw_entry *e = find_entry(sec, "slot_name");
    if (!e)
        e = find_entry(find_section(L, GLOBAL_SECTION), "slot_name");
    add_diag(L, CFG_ERROR, srv->name, e ? e->file : srv->file, e ? e->line : srv->line,
             "slot_name",
             "[%s] slot_name: invalid value '%s': replication slot names may only contain lower "
             "case letters, numbers, and the underscore character",
             srv->name, srv->slot_name);
    srv->disabled = true;
}

static const char *join_path(struct loader *L, const char *dir, const char *name)
{
    return arena_printf(L->a, "%s/%s", dir, name);
}

/* backup_method = postgres copies with pg_basebackup, which has no reuse
 * of a previous backup, no network compression and one bandwidth limit
 * for everything: Barman disables a server that sets the rsync-only
 * options with this method, and so does cellar, naming the line. */
static void check_postgres_method(struct loader *L, const struct raw_section *sec,
                                  struct cfg_server *srv)
{
    const char *bad[3];
    size_t n = 0;
    if (srv->reuse_backup != CFG_REUSE_OFF)
        bad[n++] = "reuse_backup";
    if (srv->network_compression)
        bad[n++] = "network_compression";
    if (srv->tablespace_bandwidth_limit.n)
        bad[n++] = "tablespace_bandwidth_limit";
    /* the compression settings Barman 3.4 refuses whatever the versions */
    static const int max_level[] = {0, 9, 12, 22};
    const char *why[3];
    const char *opt[3];
    size_t m = 0;
    if (srv->backup_compression_level && srv->backup_compression &&
        srv->backup_compression_level > max_level[srv->backup_compression]) {
        opt[m] = "backup_compression_level";
        why[m++] = "unsupported by this backup_compression";
    }
    if (srv->backup_compression_workers && srv->backup_compression != CFG_BBC_ZSTD) {
        opt[m] = "backup_compression_workers";
        why[m++] = "only zstd compression has workers";
    }
    if (srv->backup_compression_format == CFG_BBF_PLAIN &&
        srv->backup_compression_location != CFG_BBL_SERVER) {
        opt[m] = "backup_compression_format";
        why[m++] = "plain is only possible with backup_compression_location = server";
    }
    for (size_t i = 0; i < m; i++) {
        const struct raw_entry *e = find_entry(sec, opt[i]);
        if (!e)
            e = find_entry(find_section(L, GLOBAL_SECTION), opt[i]);
        add_diag(L, CFG_ERROR, srv->name, e ? e->file : srv->file, e ? e->line : srv->line,
                 opt[i], "[%s] %s: %s", srv->name, opt[i], why[i]);
        srv->disabled = true;
    }
    for (size_t i = 0; i < n; i++) {
        const struct raw_entry *e = find_entry(sec, bad[i]);
        if (!e)
            e = find_entry(find_section(L, GLOBAL_SECTION), bad[i]);
        add_diag(L, CFG_ERROR, srv->name, e ? e->file : srv->file, e ? e->line : srv->line,
                 bad[i], "[%s] %s: not supported by backup_method = postgres (pg_basebackup); "
                         "remove it from this server or use backup_method = rsync",
                 srv->name, bad[i]);
        srv->disabled = true;
    }
}

/* The line an option of srv was read from: the section's, else the
 * global section's, else NULL. */
static const struct raw_entry *option_entry(struct loader *L, const struct raw_section *sec,
                                            const char *opt)
{
    const struct raw_entry *e = find_entry(sec, opt);
    return e ? e : find_entry(find_section(L, GLOBAL_SECTION), opt);
}

static void server_error(struct loader *L, const struct raw_section *sec, struct cfg_server *srv,
                         const char *opt, const char *why)
{
    const struct raw_entry *e = option_entry(L, sec, opt);
    add_diag(L, CFG_ERROR, srv->name, e ? e->file : srv->file, e ? e->line : srv->line, opt,
             "[%s] %s: %s", srv->name, opt, why);
    srv->disabled = true;
}

/* The object storage options, checked here so that a bad URL names its line
 * at load, not at 3 a.m. in cron: the bucket URLs and the endpoint as the
 * cloud-* commands parse them, the folder name as barman-cloud takes it,
 * and a server that is a bucket is not also copied to one. */
static void check_cloud(struct loader *L, const struct raw_section *sec, struct cfg_server *srv)
{
    static const char *const urls[] = {"cloud_destination", "cloud_source"};
    const char *vals[] = {srv->cloud_destination, srv->cloud_source};
    struct cel_err err = {0};
    for (size_t i = 0; i < 2; i++) {
        struct cloud_url u;
        if (!vals[i])
            continue;
        if (cloud_url_parse(vals[i], &u, &err) < 0)
            server_error(L, sec, srv, urls[i], err.msg);
        else
            cloud_url_free(&u);
    }
    if (srv->cloud_destination && srv->cloud_source)
        server_error(L, sec, srv, "cloud_source",
                     "a server is either a bucket (cloud_source) or copied to one "
                     "(cloud_destination), not both: remove one of them");
    if (srv->cloud_endpoint_url) {
        struct cloud_endpoint ep;
        if (cloud_endpoint_parse(srv->cloud_endpoint_url, &ep, &err) < 0)
            server_error(L, sec, srv, "cloud_endpoint_url", err.msg);
        else
            cloud_endpoint_free(&ep);
    }
    if (!srv->cloud_server_name)
        srv->cloud_server_name = srv->name;
    if ((srv->cloud_destination || srv->cloud_source) &&
        cloud_server_check(srv->cloud_server_name, &err) < 0)
        server_error(L, sec, srv, "cloud_server_name", err.msg);
}

/* Barman 3.14's encryption = gpg needs the key archived WAL is encrypted
 * to, and the 3.14 catalogue (its fifth field says gpg); without them the
 * server is disabled (nothing would be archived). */
static void check_encryption(struct loader *L, const struct raw_section *sec,
                             struct cfg_server *srv)
{
    if (srv->encryption != CFG_ENC_GPG)
        return;
    if (srv->cellar_xlogdb_format == CFG_XDB_3_4 || srv->cellar_xlogdb_format == CFG_XDB_3_13)
        server_error(L, sec, srv, "cellar_xlogdb_format",
                     "encryption = gpg records 'gpg' in xlog.db's fifth field, which only the "
                     "3.14 catalogue has: set cellar_xlogdb_format = 3.14 or auto");
    if (!srv->encryption_key_id || !*srv->encryption_key_id)
        server_error(L, sec, srv, "encryption",
                     "gpg needs encryption_key_id (the GnuPG key archived WAL files are "
                     "encrypted to), and it is not set");
}

/* A Barman 3.10 configuration model ([name] with model = true) is a set of
 * options config-switch lays over a server, not a server. */
static bool is_model(const struct raw_section *sec)
{
    const struct raw_entry *e = find_entry(sec, "model");
    bool model = false;
    struct cel_err err = {0};
    return e && parse_bool(e->value, &model, &err) == 0 && model;
}

/* The options a model may not set (Barman's ModelConfig._KEYS_BLACKLIST):
 * paths and hooks, which stay the server's own. */
bool cfg_model_forbidden(const char *key)
{
    static const char *const paths[] = {
        "backup_directory",        "basebackups_directory",    "errors_directory",
        "incoming_wals_directory", "streaming_wals_directory", "wals_directory",
        "xlogdb_directory",
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(paths); i++)
        if (strcmp(paths[i], key) == 0)
            return true;
    size_t n = strlen(key);
    return (strncmp(key, "pre_", 4) == 0 || strncmp(key, "post_", 5) == 0) &&
           n > 7 && strcmp(key + n - 7, "_script") == 0;
}

/* Record model section sec (checked: a cluster, only options a model may
 * set, known options). A bad model is unusable (config-switch refuses it,
 * and a server it is active on is disabled) but the other servers load:
 * warnings, not errors. */
static void add_model(struct loader *L, const struct raw_section *sec, struct cfg_model *m)
{
    m->name = sec->name;
    m->file = sec->file;
    m->line = sec->line;
    m->usable = true;
    const char **keys = arena_alloc_array(L->a, sec->n + 1, sizeof *keys);
    const char **values = arena_alloc_array(L->a, sec->n + 1, sizeof *values);
    for (size_t i = 0; i < sec->n; i++) {
        const struct raw_entry *e = &sec->entries[i];
        if (strcmp(e->key, "model") == 0)
            continue;
        if (strcmp(e->key, "cluster") == 0) {
            m->cluster = e->value;
            continue;
        }
        const struct cfg_option *opt = cfg_option_find(e->key);
        if (cfg_model_forbidden(e->key)) {
            add_diag(L, CFG_WARNING, NULL, e->file, e->line, e->key,
                     "[%s] %s: a configuration model may not set paths or hook scripts; the "
                     "model is unusable until the line is removed",
                     sec->name, e->key);
            m->usable = false;
        } else if (!opt || !(opt->scope & CFG_SERVER)) {
            add_diag(L, CFG_WARNING, NULL, e->file, e->line, e->key,
                     "[%s] %s: %s in a configuration model, ignored", sec->name, e->key,
                     opt ? "not a server option" : "unknown option");
        } else {
            keys[m->n] = e->key;
            values[m->n++] = e->value;
        }
    }
    m->keys = keys;
    m->values = values;
    if (!m->cluster || !*m->cluster) {
        add_diag(L, CFG_WARNING, NULL, sec->file, sec->line, "cluster",
                 "[%s] cluster: a configuration model (model = true) needs the cluster of the "
                 "servers it applies to; the model is unusable until it is set",
                 sec->name);
        m->usable = false;
    }
}

char *cfg_active_model_path(const struct cfg_server *s)
{
    return cel_xasprintf("%s/.active-model.auto", s->backup_directory);
}

/* The model config-switch made active for srv, laid over its options (the
 * model's value wins over the server's section, [DEFAULT] and the global
 * section), as Barman applies it when it loads the configuration. */
static void apply_active_model(struct loader *L, struct cfg_server *srv)
{
    char *path = cfg_active_model_path(srv);
    char *text = NULL;
    size_t len = 0;
    struct cel_err err = {0};
    int rc = stor_read_file(path, 4096, &text, &len, &err);
    free(path);
    if (rc < 0) /* none, or unreadable: Barman too goes on without */
        return;
    while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'))
        text[--len] = '\0';
    const char *name = text;
    while (*name == ' ')
        name++;
    const struct cfg_model *m = NULL;
    for (size_t i = 0; *name && i < L->cfg->n_models; i++)
        if (strcmp(L->cfg->models[i].name, name) == 0)
            m = &L->cfg->models[i];
    if (*name && (!m || !m->usable)) {
        add_diag(L, CFG_ERROR, srv->name, srv->file, srv->line, "model",
                 "Model '%s' is set as the active model for the server '%s' but the model "
                 "does not exist%s.",
                 name, srv->name, m ? " as a usable model" : "");
        srv->disabled = true;
    } else if (m) {
        srv->active_model = m->name;
        /* each key is in the model's section, so resolve_option takes it
         * from there, before any [DEFAULT] or global value */
        const struct raw_section *msec = find_section(L, m->name);
        for (size_t i = 0; i < m->n; i++) {
            const struct cfg_option *opt = cfg_option_find(m->keys[i]);
            if (opt && !resolve_option(L, opt, msec, srv->name, srv))
                srv->disabled = true;
        }
    }
    free(text);
}

static void resolve_server(struct loader *L, const struct raw_section *sec,
                           struct cfg_server *srv)
{
    srv->name = sec->name;
    srv->file = sec->file;
    srv->line = sec->line;
    for (size_t i = 0; i < cfg_option_count; i++) {
        const struct cfg_option *opt = &cfg_options[i];
        if (opt->scope & CFG_SERVER)
            if (!resolve_option(L, opt, sec, srv->name, srv))
                srv->disabled = true;
    }
    check_keys(L, sec, srv->name, CFG_SERVER);
    const char *home0 = L->cfg->global.barman_home;
    if (!srv->backup_directory)
        srv->backup_directory = join_path(L, home0, srv->name);
    if (!srv->cluster)
        srv->cluster = srv->name;
    apply_active_model(L, srv);
    if (srv->conninfo)
        srv->conninfo_user = conninfo_user(L, srv->conninfo);
    if (srv->ssh_command)
        ssh_target(L, srv->ssh_command, &srv->ssh_user, &srv->ssh_host);
    const char *home = L->cfg->global.barman_home;
    if (!srv->backup_directory)
        srv->backup_directory = join_path(L, home, srv->name);
    if (!srv->basebackups_directory)
        srv->basebackups_directory = join_path(L, srv->backup_directory, "base");
    if (!srv->wals_directory)
        srv->wals_directory = join_path(L, srv->backup_directory, "wals");
    if (!srv->incoming_wals_directory)
        srv->incoming_wals_directory = join_path(L, srv->backup_directory, "incoming");
    if (!srv->errors_directory)
        srv->errors_directory = join_path(L, srv->backup_directory, "errors");
    if (!srv->streaming_wals_directory)
        srv->streaming_wals_directory = join_path(L, srv->backup_directory, "streaming");
    /* Barman >= 3.13's option: its presence tells what Barman uses the home */
    srv->xlogdb_directory_set = srv->xlogdb_directory != NULL;
    if (!srv->xlogdb_directory)
        srv->xlogdb_directory = srv->wals_directory;
    if (!srv->streaming_conninfo)
        srv->streaming_conninfo = srv->conninfo;
    check_slot_name(L, sec, srv);
    check_cloud(L, sec, srv);
    check_encryption(L, sec, srv);
    if (srv->backup_method == CFG_BM_POSTGRES)
        check_postgres_method(L, sec, srv);
    if (!srv->backup_options)
        srv->backup_options = CFG_BO_CONCURRENT;
    /* Barman forces the file archiver on when no archiver is enabled */
    if (!srv->streaming_archiver)
        srv->archiver = true;
    /* and a streaming-only server without a slot loses WAL whenever the
     * receiver stops. Barman disables such a server; cellar warns, so that
     * it still archives what arrives while the DBA adds the slot */
    if (!srv->archiver && srv->streaming_archiver && !srv->slot_name)
        add_diag(L, CFG_WARNING, srv->name, srv->file, srv->line, "slot_name",
                 "[%s] slot_name: a streaming-only archiver (archiver = off, streaming_archiver "
                 "= on) needs a replication slot, or WAL written while receive-wal is down is "
                 "lost (Barman disables such a server): set slot_name",
                 srv->name);
    if ((srv->backup_options & CFG_BO_CONCURRENT) && (srv->backup_options & CFG_BO_EXCLUSIVE)) {
        const struct raw_entry *e = find_entry(sec, "backup_options");
        if (!e)
            e = find_entry(find_section(L, GLOBAL_SECTION), "backup_options");
        add_diag(L, CFG_ERROR, srv->name, e ? e->file : srv->file, e ? e->line : srv->line,
                 "backup_options",
                 "[%s] backup_options: concurrent_backup and exclusive_backup exclude each other",
                 srv->name);
        srv->disabled = true;
    }
}

/* Two directories of any servers resolving to the same place would mix
 * their WAL or backups: disable both, as Barman does. */
static void check_directory_clashes(struct loader *L)
{
    struct cfg *cfg = L->cfg;
    static const char *const names[] = {"backup_directory", "basebackups_directory",
                                        "wals_directory", "incoming_wals_directory",
                                        "errors_directory", "streaming_wals_directory"};
    size_t n = cfg->n_servers * CEL_ARRAY_LEN(names);
    struct {
        struct cfg_server *srv;
        const char *option;
        const char *path;
    } *dirs = cel_xcalloc(n ? n : 1, sizeof *dirs);
    size_t k = 0;
    for (size_t i = 0; i < cfg->n_servers; i++) {
        for (size_t j = 0; j < CEL_ARRAY_LEN(names); j++) {
            const struct cfg_option *opt = cfg_option_find(names[j]);
            dirs[k].srv = &cfg->servers[i];
            dirs[k].option = names[j];
            dirs[k].path = *(const char *const *)cfg_value_ptr(opt, &cfg->servers[i]);
            k++;
        }
    }
    for (size_t a = 0; a < k; a++) {
        for (size_t b = a + 1; b < k; b++) {
            if (strcmp(dirs[a].path, dirs[b].path) != 0)
                continue;
            for (size_t s = 0; s < 2; s++) {
                size_t me = s ? b : a, other = s ? a : b;
                add_diag(L, CFG_ERROR, dirs[me].srv->name, dirs[me].srv->file, dirs[me].srv->line,
                         dirs[me].option, "[%s] %s: '%s' is also [%s] %s; give each its own",
                         dirs[me].srv->name, dirs[me].option, dirs[me].path,
                         dirs[other].srv->name, dirs[other].option);
                dirs[me].srv->disabled = true;
            }
        }
    }
    free(dirs);
}

static int cmp_server(const void *a, const void *b)
{
    return strcmp(((const struct cfg_server *)a)->name, ((const struct cfg_server *)b)->name);
}

/* ---- loading ---------------------------------------------------------- */

/* Keep the *.conf regular files of a configuration directory. */
static bool is_conf_file(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    if (!cel_str_ends(name, ".conf"))
        return false;
    char *path = cel_xasprintf("%s/%s", dir, name);
    bool regular = stor_is_file(path);
    free(path);
    return regular;
}

/* Read every *.conf regular file of dir, in name order. */
static void read_conf_dir(struct loader *L, const char *dir)
{
    struct stor_names names;
    struct cel_err err = {0};
    if (stor_list_dir(dir, is_conf_file, NULL, &names, &err) < 0) {
        add_diag(L, CFG_WARNING, NULL, L->cfg->path, 0, "configuration_files_directory",
                 "[%s] configuration_files_directory: %s, ignored", L->global_name, err.msg);
        return;
    }
    L->extra_file = "configuration_files_directory";
    for (size_t i = 0; i < names.n; i++) {
        const char *path = join_path(L, dir, names.names[i]);
        L->cur = NULL;
        if (ini_parse_file(path, on_ini_item, L, &err) < 0)
            add_diag(L, CFG_ERROR, NULL, path, 0, NULL, "%s", err.msg);
    }
    L->extra_file = NULL;
    stor_names_free(&names);
}

char *cfg_auto_conf_path(const struct cfg_global *g)
{
    return cel_xasprintf("%s/.barman.auto.conf", g->barman_home);
}

static void add_syntax_diag(struct loader *L, const char *file, const struct cel_err *err);

/* Barman's <barman_home>/.barman.auto.conf, where config-update writes:
 * read after every other file, so its values win (its sections merge into
 * the others, key by key); like a configuration_files_directory file it
 * may not set global options. A missing file is no problem. */
static void read_auto_conf(struct loader *L)
{
    char *path = cfg_auto_conf_path(&L->cfg->global);
    const char *name = arena_strdup(L->a, path);
    free(path);
    struct cel_err err = {0};
    L->cur = NULL;
    L->extra_file = ".barman.auto.conf";
    int rc = L->auto_text ? ini_parse_text(L->auto_text, name, on_ini_item, L, &err)
                          : ini_parse_file(name, on_ini_item, L, &err);
    if (rc < 0 && !L->auto_text && err.sys_errno == EACCES)
        /* a user other than barman_user (a restore_command's, or the
         * wrong user, whom the barman_user check then names) may not read
         * barman_home: not a configuration error */
        add_diag(L, CFG_NOTE, NULL, name, 0, NULL,
                 "cannot be read by this user (permission denied): its settings are not "
                 "applied");
    else if (rc < 0 && !(rc == -CEL_E_NOT_FOUND && !L->auto_text))
        add_syntax_diag(L, name, &err);
    L->extra_file = NULL;
}

/* Strip a "FILE:" prefix the ini reader put in front of its messages, since
 * add_diag adds file and line itself. */
static void add_syntax_diag(struct loader *L, const char *file, const struct cel_err *err)
{
    const char *msg = err->msg;
    int line = 0;
    size_t flen = strlen(file);
    if (strncmp(msg, file, flen) == 0 && msg[flen] == ':') {
        char *end = NULL;
        long l = strtol(msg + flen + 1, &end, 10);
        if (end && end[0] == ':' && end[1] == ' ') {
            line = (int)l;
            msg = end + 2;
        }
    }
    add_diag(L, CFG_ERROR, NULL, file, line, NULL, "%s", msg);
}

/* Order of two diagnostics for the reader: the main file first, then the
 * other files by name (the order they were read), each by line. */
static int diag_before(const struct cfg *cfg, const struct cfg_diag *a, const struct cfg_diag *b)
{
    bool a_main = strcmp(a->file, cfg->path) == 0, b_main = strcmp(b->file, cfg->path) == 0;
    if (a_main != b_main)
        return a_main ? -1 : 1;
    int c = strcmp(a->file, b->file);
    if (c)
        return c;
    /* problems without a line concern the whole file and are often the
     * consequence of one with a line: they come last */
    long la = a->line > 0 ? a->line : LONG_MAX, lb = b->line > 0 ? b->line : LONG_MAX;
    return (la > lb) - (la < lb);
}

/* Stable insertion sort: problems found at the same line keep the order in
 * which they were found. */
static void sort_diags(struct cfg *cfg)
{
    for (size_t i = 1; i < cfg->n_diags; i++) {
        struct cfg_diag d = cfg->diags[i];
        size_t j = i;
        for (; j > 0 && diag_before(cfg, &d, &cfg->diags[j - 1]) < 0; j--)
            cfg->diags[j] = cfg->diags[j - 1];
        cfg->diags[j] = d;
    }
}

static int finish_load(struct loader *L, struct cel_err *err)
{
    struct cfg *cfg = L->cfg;
    if (!L->global_name)
        L->global_name = "barman";
    const struct raw_section *global = find_section(L, GLOBAL_SECTION);
    if (global)
        check_keys(L, global, NULL, CFG_GLOBAL);

    /* configuration_files_directory first: its files add servers */
    const struct cfg_option *dir_opt = cfg_option_find("configuration_files_directory");
    resolve_option(L, dir_opt, global, NULL, &cfg->global);
    if (cfg->global.configuration_files_directory)
        read_conf_dir(L, cfg->global.configuration_files_directory);

    global = find_section(L, GLOBAL_SECTION);
    for (size_t i = 0; i < cfg_option_count; i++) {
        const struct cfg_option *opt = &cfg_options[i];
        if (opt->scope == CFG_GLOBAL && opt != dir_opt)
            resolve_option(L, opt, global, NULL, &cfg->global);
    }
    /* inheritable options set in the global section are checked once, here,
     * so a bad value is one global error at its own line rather than one
     * error per server */
    if (global) {
        struct cfg_server scratch = {0};
        for (size_t i = 0; i < cfg_option_count; i++)
            if (cfg_options[i].scope == CFG_BOTH && find_entry(global, cfg_options[i].name))
                resolve_option(L, &cfg_options[i], global, NULL, &scratch);
    }
    if (!cfg->global.barman_home) {
        const struct raw_entry *e = find_entry(global, "barman_home");
        if (!e)
            add_diag(L, CFG_ERROR, NULL, global ? global->file : cfg->path,
                     global ? global->line : 0, "barman_home",
                     "[%s] barman_home is not set: add 'barman_home = /var/lib/cellar' (or your "
                     "Barman home) to the [%s] section",
                     L->global_name, L->global_name);
    } else {
        if (!cfg->global.barman_lock_directory)
            cfg->global.barman_lock_directory = cfg->global.barman_home;
        if (!cfg->global.config_changes_queue)
            cfg->global.config_changes_queue =
                arena_printf(L->a, "%s/cfg_changes.queue", cfg->global.barman_home);
        read_auto_conf(L);
    }

    if (cfg_diag_count(cfg, NULL, CFG_ERROR) == 0) {
        size_t n = 0;
        for (size_t i = 0; i < L->n; i++)
            if (strcmp(L->sections[i].name, GLOBAL_SECTION) &&
                strcmp(L->sections[i].name, DEFAULT_SECTION))
                n++;
        cfg->servers = arena_alloc_array(L->a, n ? n : 1, sizeof *cfg->servers);
        /* the models first: a server's active one is laid over it */
        cfg->models = arena_alloc_array(L->a, n ? n : 1, sizeof *cfg->models);
        for (size_t i = 0; i < L->n; i++)
            if (strcmp(L->sections[i].name, GLOBAL_SECTION) &&
                strcmp(L->sections[i].name, DEFAULT_SECTION) && is_model(&L->sections[i]))
                add_model(L, &L->sections[i], &cfg->models[cfg->n_models++]);
        for (size_t i = 0; i < L->n; i++) {
            const struct raw_section *sec = &L->sections[i];
            if (strcmp(sec->name, GLOBAL_SECTION) == 0 ||
                strcmp(sec->name, DEFAULT_SECTION) == 0 || is_model(sec))
                continue;
            resolve_server(L, sec, &cfg->servers[cfg->n_servers++]);
        }
        qsort(cfg->servers, cfg->n_servers, sizeof *cfg->servers, cmp_server);
        check_directory_clashes(L);
    }

    sort_diags(cfg);
    size_t errors = cfg_diag_count(cfg, NULL, CFG_ERROR);
    if (errors == 0)
        return 0;
    for (size_t i = 0; i < cfg->n_diags; i++) {
        if (cfg->diags[i].level == CFG_ERROR && !cfg->diags[i].server) {
            cel_err_set(err, CEL_E_CONFIG, "%s", cfg->diags[i].text);
            break;
        }
    }
    if (errors > 1)
        cel_err_hint(err, "%zu errors in the configuration; fix them and run again", errors);
    return -CEL_E_CONFIG;
}

static struct cfg *cfg_new(struct loader *L, const char *path)
{
    struct cfg *cfg = cel_xcalloc(1, sizeof *cfg);
    cfg->arena = arena_new();
    cfg->path = arena_strdup(cfg->arena, path);
    memset(L, 0, sizeof *L);
    L->cfg = cfg;
    L->a = cfg->arena;
    return cfg;
}

static void loader_free(struct loader *L)
{
    for (size_t i = 0; i < L->n; i++)
        free(L->sections[i].entries);
    free(L->sections);
}

/* Run finish_load and hand the configuration over. */
static int finish(struct loader *L, struct cfg **out, struct cel_err *err)
{
    int rc = finish_load(L, err);
    loader_free(L);
    *out = L->cfg;
    return rc;
}

int cfg_load_text(const char *text, const char *name, struct cfg **out, struct cel_err *err)
{
    struct loader L;
    struct cfg *cfg = cfg_new(&L, name);
    struct cel_err perr = {0};
    if (ini_parse_text(text, cfg->path, on_ini_item, &L, &perr) < 0)
        add_syntax_diag(&L, cfg->path, &perr);
    return finish(&L, out, err);
}

/* The first file of the default search list, or NULL; every path looked
 * at before it is appended to tried, separated by sep. */
static char *search_default(struct strbuf *tried, const char *sep)
{
    const char *home = getenv("HOME");
    const char *const candidates[] = {"~/.cellar.conf",  "/etc/cellar.conf",
                                      "/etc/cellar/cellar.conf", "~/.barman.conf",
                                      "/etc/barman.conf", "/etc/barman/barman.conf"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(candidates); i++) {
        const char *c = candidates[i];
        char *path;
        if (c[0] == '~') {
            if (!home)
                continue;
            path = cel_xasprintf("%s%s", home, c + 1);
        } else {
            path = cel_xstrdup(c);
        }
        if (stor_is_file(path))
            return path;
        sb_appendf(tried, "%s%s", tried->len ? sep : "", path);
        free(path);
    }
    return NULL;
}

char *cfg_find_default(struct strbuf *tried)
{
    return search_default(tried, "\n");
}

/* Load the file path, with auto_text as .barman.auto.conf when not NULL. */
static int load_file(const char *path, const char *auto_text, struct cfg **out,
                     struct cel_err *err)
{
    struct loader L;
    struct cfg *cfg = cfg_new(&L, path);
    L.auto_text = auto_text;
    struct cel_err perr = {0};
    int rc = ini_parse_file(cfg->path, on_ini_item, &L, &perr);
    if (rc == -CEL_E_NOT_FOUND || rc == -CEL_E_IO) {
        loader_free(&L);
        cfg_free(cfg);
        return cel_err_set(err, CEL_E_CONFIG, "cannot read the configuration: %s", perr.msg);
    }
    if (rc < 0)
        add_syntax_diag(&L, cfg->path, &perr);
    return finish(&L, out, err);
}

int cfg_load(const char *path, struct cfg **out, struct cel_err *err)
{
    *out = NULL;
    if (path)
        return load_file(path, NULL, out, err);
    struct strbuf tried = {0};
    char *found = search_default(&tried, ", ");
    if (!found) {
        int rc = cel_err_set(err, CEL_E_CONFIG, "no configuration file found (looked for %s)",
                             sb_str(&tried));
        cel_err_hint(err, "Create one (see doc/cellar.conf.example) or pass -c FILE.");
        sb_free(&tried);
        return rc;
    }
    sb_free(&tried);
    int rc = load_file(found, NULL, out, err);
    free(found);
    return rc;
}

int cfg_load_with_auto(const char *path, const char *auto_text, struct cfg **out,
                       struct cel_err *err)
{
    *out = NULL;
    return load_file(path, auto_text, out, err);
}

void cfg_free(struct cfg *cfg)
{
    if (!cfg)
        return;
    free(cfg->diags);
    arena_free(cfg->arena);
    free(cfg);
}

/* ---- lookups and formatting ------------------------------------------ */

const struct cfg_option *cfg_option_find(const char *name)
{
    size_t lo = 0, hi = cfg_option_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, cfg_options[mid].name);
        if (c == 0)
            return &cfg_options[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct cfg_model *cfg_model_find(const struct cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_models; i++)
        if (strcmp(cfg->models[i].name, name) == 0)
            return &cfg->models[i];
    return NULL;
}

const struct cfg_server *cfg_server_find(const struct cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_servers; i++)
        if (strcmp(cfg->servers[i].name, name) == 0)
            return &cfg->servers[i];
    return NULL;
}

bool cfg_option_is_global(const struct cfg_option *opt)
{
    return opt->scope == CFG_GLOBAL;
}

const void *cfg_value_ptr(const struct cfg_option *opt, const void *base)
{
    return (const char *)base + opt->offset;
}

bool cfg_value_is_null(const struct cfg_option *opt, const void *base)
{
    const void *f = cfg_value_ptr(opt, base);
    switch (opt->type) {
    case CFG_T_STRING:
    case CFG_T_SECRET:
    case CFG_T_PATH:
        return *(const char *const *)f == NULL;
    case CFG_T_MAGIC:
        return ((const struct cfg_magic *)f)->text == NULL;
    case CFG_T_RETENTION:
        return ((const struct ret_policy *)f)->kind == RET_NONE;
    case CFG_T_INTERVAL:
        return ((const struct cfg_interval *)f)->seconds == 0;
    case CFG_T_TBS_LIMITS:
        return ((const struct cfg_tbs_limits *)f)->n == 0;
    case CFG_T_ENUM:
        return opt->def == NULL && *(const int *)f == 0;
    case CFG_T_FLAGS:
        return *(const unsigned *)f == 0;
    case CFG_T_IGNORED:
        return true;
    default:
        return false;
    }
}

static const char *choice_name(const struct cfg_option *opt, int value)
{
    for (const struct cfg_choice *c = opt->choices; c->name; c++)
        if (c->value == value)
            return c->name;
    return "?";
}

void cfg_format_value(const struct cfg_option *opt, const void *base, bool reveal,
                      struct strbuf *out)
{
    if (cfg_value_is_null(opt, base)) {
        sb_append(out, "None");
        return;
    }
    const void *f = cfg_value_ptr(opt, base);
    switch (opt->type) {
    case CFG_T_STRING:
    case CFG_T_PATH:
        sb_append(out, *(const char *const *)f);
        break;
    case CFG_T_MAGIC:
        sb_append(out, ((const struct cfg_magic *)f)->text);
        break;
    case CFG_T_SECRET:
        if (reveal) {
            sb_append(out, *(const char *const *)f);
        } else {
            char *masked = cfg_conninfo_mask(*(const char *const *)f);
            sb_append(out, masked);
            free(masked);
        }
        break;
    case CFG_T_BOOL:
        sb_append(out, *(const bool *)f ? "True" : "False");
        break;
    case CFG_T_INT:
        sb_appendf(out, "%d", *(const int *)f);
        break;
    case CFG_T_ENUM:
        sb_append(out, choice_name(opt, *(const int *)f));
        break;
    case CFG_T_FLAGS: {
        unsigned flags = *(const unsigned *)f;
        bool first = true;
        for (const struct cfg_choice *c = opt->choices; c->name; c++) {
            if (flags & (unsigned)c->value) {
                sb_appendf(out, "%s%s", first ? "" : ", ", c->name);
                first = false;
            }
        }
        break;
    }
    case CFG_T_RETENTION: {
        char text[64];
        ret_policy_format((const struct ret_policy *)f, text, sizeof text);
        sb_append(out, text);
        break;
    }
    case CFG_T_INTERVAL: {
        const struct cfg_interval *iv = f;
        const char *unit = iv->unit == 'h' ? "HOUR" : iv->unit == 'd' ? "DAY"
                                                   : iv->unit == 'w' ? "WEEK"
                                                                     : "MONTH";
        sb_appendf(out, "%u %s%s", iv->n, unit, iv->n == 1 ? "" : "S");
        break;
    }
    case CFG_T_TBS_LIMITS: {
        const struct cfg_tbs_limits *t = f;
        for (size_t i = 0; i < t->n; i++)
            sb_appendf(out, "%s%s:%d", i ? " " : "", t->items[i].name, t->items[i].kbps);
        break;
    }
    case CFG_T_LOG_LEVEL:
        sb_append(out, log_level_name(*(const enum log_level *)f));
        break;
    case CFG_T_IGNORED:
        sb_append(out, "None");
        break;
    }
}

/* ---- masking ------------------------------------------------------------ */

#define MASK "********"

/* Mask the password in a postgresql:// URI: user:PASS@ and ?password=PASS. */
static void mask_uri(const char *s, struct strbuf *out)
{
    const char *scheme_end = strstr(s, "://");
    const char *auth = scheme_end + 3;
    /* libpq's user info ends at the first '@' before any '/': a '?' in
     * it belongs to the password */
    const char *at = strpbrk(auth, "@/");
    const char *colon = NULL;
    if (at && *at == '@') {
        colon = memchr(auth, ':', (size_t)(at - auth));
    }
    const char *p = s;
    if (colon) {
        sb_appendn(out, s, (size_t)(colon + 1 - s));
        sb_append(out, MASK);
        p = at;
    }
    /* query parameters */
    while (*p) {
        const char *key = NULL;
        if ((*p == '?' || *p == '&') && strncasecmp(p + 1, "password=", 9) == 0)
            key = p + 10;
        if (!key) {
            sb_appendc(out, *p++);
            continue;
        }
        sb_appendn(out, p, (size_t)(key - p));
        sb_append(out, MASK);
        p = key;
        while (*p && *p != '&')
            p++;
    }
}

char *cfg_conninfo_mask(const char *conninfo)
{
    struct strbuf out = {0};
    const char *s = conninfo;
    if (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0) {
        mask_uri(s, &out);
        return sb_detach(&out);
    }
    /* key = value pairs; values may be 'quoted' with \' and \\ escapes */
    const char *p = s;
    while (*p) {
        if (isspace((unsigned char)*p)) {
            sb_appendc(&out, *p++);
            continue;
        }
        const char *ks = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        /* any case: libpq refuses "PASSWORD", and its refusal is shown with
         * the (masked) string */
        bool is_password = (size_t)(p - ks) == 8 && strncasecmp(ks, "password", 8) == 0;
        sb_appendn(&out, ks, (size_t)(p - ks));
        while (*p && isspace((unsigned char)*p))
            sb_appendc(&out, *p++);
        if (*p != '=')
            continue;
        sb_appendc(&out, *p++);
        while (*p && isspace((unsigned char)*p))
            sb_appendc(&out, *p++);
        const char *vs = p;
        if (*p == '\'') {
            p++;
            while (*p && *p != '\'') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p == '\'')
                p++;
        } else {
            while (*p && !isspace((unsigned char)*p)) {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
        }
        if (is_password)
            sb_append(&out, *vs == '\'' ? "'" MASK "'" : MASK);
        else
            sb_appendn(&out, vs, (size_t)(p - vs));
    }
    return sb_detach(&out);
}
