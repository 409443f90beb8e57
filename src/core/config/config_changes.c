/*
 * config_changes.c - checking config-update's changes and trying them on
 * .barman.auto.conf's text.
 *
 * Checks come in two steps. cfg_change_set_check does what Barman's
 * _validate_section does with the names: the section is a server or a
 * model as the scope says, each key is an option that scope may set. Then
 * cfg_changes_try writes every change into a copy of the auto file's text
 * and loads the whole configuration with it (cfg_load_with_auto): each
 * value goes through the loader's parser for its option, with the
 * interpolation, quoting and cross-option checks a later load would do. A
 * problem the change brings is the refusal's reason, in the loader's words
 * (file, line, option); nothing has been written at that point.
 */
#include <ctype.h>
#include <strings.h>

#include "arena.h"
#include "config_changes.h"

void cfg_change_list_init(struct cfg_change_list *l)
{
    memset(l, 0, sizeof *l);
    l->arena = arena_new();
}

void cfg_change_list_free(struct cfg_change_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->sets[i].changes);
    free(l->sets);
    arena_free(l->arena);
    memset(l, 0, sizeof *l);
}

struct cfg_change_set *cfg_change_set_add(struct cfg_change_list *l, enum cfg_change_scope scope,
                                          const char *section)
{
    l->sets = cel_xrealloc_array(l->sets, l->n + 1, sizeof *l->sets);
    struct cfg_change_set *set = &l->sets[l->n++];
    *set = (struct cfg_change_set){.scope = scope, .section = arena_strdup(l->arena, section)};
    return set;
}

void cfg_change_add(struct cfg_change_list *l, struct cfg_change_set *set, const char *key,
                    const char *value, const char *config_file)
{
    struct cfg_change c = {
        .key = arena_strdup(l->arena, key),
        .value = arena_strdup(l->arena, value),
        .config_file = config_file ? arena_strdup(l->arena, config_file) : NULL,
    };
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->changes[i].key, key) == 0) {
            set->changes[i] = c;
            return;
        }
    }
    set->changes = cel_xrealloc_array(set->changes, set->n + 1, sizeof *set->changes);
    set->changes[set->n++] = c;
}

static const struct cfg_change *find_change(const struct cfg_change_set *set, const char *key)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->changes[i].key, key) == 0)
            return &set->changes[i];
    return NULL;
}

/* May a section of scope set key? Barman's ServerConfig.KEYS and
 * ModelConfig.KEYS: server options, and for a model also "model" and
 * "cluster" but no path or hook script. "model" is refused on a server: it
 * would turn the server into a model. */
static bool key_allowed(enum cfg_change_scope scope, const char *key)
{
    if (strcmp(key, "model") == 0)
        return scope != CFG_CHANGE_SERVER;
    const struct cfg_option *opt = cfg_option_find(key);
    if (!opt || !(opt->scope & CFG_SERVER))
        return false;
    return scope != CFG_CHANGE_MODEL || !cfg_model_forbidden(key);
}

int cfg_change_set_check(const struct cfg *cfg, struct cfg_change_list *l,
                         struct cfg_change_set *set, struct cel_err *err)
{
    const char *name = set->section;
    if (cfg_section_name_reserved(name) || !cfg_section_name_valid(name))
        return cel_err_set(err, CEL_E_INVALID,
                           "invalid section name '%s': it must start with a letter, digit or "
                           "'_', contain only letters, digits, '_', '.' and '-', and not be "
                           "all, barman or cellar",
                           name);
    const char *what = set->scope == CFG_CHANGE_MODEL ? "model" : "server";
    for (size_t i = 0; i < set->n; i++)
        if (!key_allowed(set->scope, set->changes[i].key))
            return cel_err_set(err, CEL_E_INVALID, "Invalid option '%s' for %s '%s'",
                               set->changes[i].key, what, name);
    if (set->scope == CFG_CHANGE_QUEUED)
        return 0;
    const struct cfg_server *srv = cfg_server_find(cfg, name);
    const struct cfg_model *model = cfg_model_find(cfg, name);
    if (set->scope == CFG_CHANGE_SERVER) {
        if (model)
            return cel_err_set(err, CEL_E_INVALID, "'%s' is a model, not a server", name);
        if (!srv) {
            int rc = cel_err_set(err, CEL_E_NOT_FOUND, "Unknown server '%s'", name);
            cel_err_hint(err, "config-update changes the servers configured already; add a new "
                              "server's section to the configuration files");
            return rc;
        }
        return 0;
    }
    if (srv)
        return cel_err_set(err, CEL_E_INVALID, "'%s' is a server, not a model", name);
    if (!model) {
        if (!find_change(set, "cluster"))
            return cel_err_set(err, CEL_E_INVALID, "new model '%s' but 'cluster' is missing", name);
        if (!find_change(set, "model"))
            cfg_change_add(l, set, "model", "on", NULL);
    }
    return 0;
}

/* ---- editing the auto file's text ------------------------------------- */

/* Does the INI line [p, p+n) (not indented) set key? */
static bool line_sets(const char *p, size_t n, const char *key)
{
    size_t k = 0;
    while (k < n && p[k] != '=' && p[k] != ':')
        k++;
    if (k == n)
        return false;
    while (k > 0 && isspace((unsigned char)p[k - 1]))
        k--;
    return k == strlen(key) && strncasecmp(p, key, k) == 0;
}

/* Is the line [p, p+n) the header [section]? */
static bool line_is_header(const char *p, size_t n, const char *section)
{
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    size_t len = strlen(section);
    return n == len + 2 && p[0] == '[' && p[n - 1] == ']' && strncmp(p + 1, section, len) == 0;
}

/* Insert line at offset at (<= out->len) of out. */
static void insert_line(struct strbuf *out, size_t at, const char *line)
{
    struct strbuf rest = {0};
    sb_append(&rest, sb_str(out) + at);
    out->len = at;
    if (out->buf)
        out->buf[at] = '\0';
    sb_append(out, line);
    sb_append(out, sb_str(&rest));
    sb_free(&rest);
}

void cfg_auto_text_set(struct strbuf *text, const char *section, const char *key, const char *value)
{
    struct strbuf out = {0};
    char *line = cel_xasprintf("%s = %s\n", key, value);
    const char *p = sb_str(text);
    bool in = false, done = false;
    size_t insert_at = 0; /* in out: after the section's last non-blank line */
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);
        const char *t = p;
        while (t < p + n && (*t == ' ' || *t == '\t'))
            t++;
        bool indented = t > p;
        bool blank = t == p + n || *t == '\n' || *t == '\r';
        if (!done && !indented && *t == '[') {
            if (in) { /* leaving the section without the key: add it at its end */
                insert_line(&out, insert_at, line);
                done = true;
            }
            in = !done && line_is_header(p, n, section);
        } else if (!done && in && !indented && !blank && *t != '#' && *t != ';' &&
                   line_sets(p, n, key)) {
            sb_append(&out, line);
            done = true;
            /* drop the old value's continuation lines */
            for (p += n; *p == ' ' || *p == '\t';) {
                eol = strchr(p, '\n');
                p = eol ? eol + 1 : p + strlen(p);
            }
            continue;
        }
        sb_appendn(&out, p, n);
        if (!eol)
            sb_appendc(&out, '\n');
        if (in && !blank)
            insert_at = out.len;
        p += n;
    }
    if (!done && in) {
        insert_line(&out, insert_at, line);
    } else if (!done) {
        sb_appendf(&out, "[%s]\n%s", section, line);
    }
    free(line);
    sb_free(text);
    *text = out;
}

/* ---- trying the result -------------------------------------------------- */

/* A diagnostic's message without its "file:line: " prefix, so that the same
 * problem moved to another line is still the same problem. */
static const char *diag_message(const struct cfg_diag *d)
{
    const char *m = d->text + strlen(d->file);
    if (*m == ':')
        m++;
    while (isdigit((unsigned char)*m))
        m++;
    if (*m == ':')
        m++;
    while (*m == ' ')
        m++;
    return m;
}

static bool had_problem(const struct cfg *cfg, const struct cfg_diag *d)
{
    for (size_t i = 0; i < cfg->n_diags; i++) {
        const struct cfg_diag *o = &cfg->diags[i];
        if (o->level == d->level && strcmp(o->file, d->file) == 0 &&
            strcmp(diag_message(o), diag_message(d)) == 0)
            return true;
    }
    return false;
}

/* The first error about server in trial that cfg did not have. */
static const struct cfg_diag *new_server_error(const struct cfg *cfg, const struct cfg *trial,
                                               const char *server)
{
    for (size_t i = 0; i < trial->n_diags; i++) {
        const struct cfg_diag *d = &trial->diags[i];
        if (d->level == CFG_ERROR && d->server && strcmp(d->server, server) == 0 &&
            !had_problem(cfg, d))
            return d;
    }
    return NULL;
}

static int refuse(struct cel_err *err, const char *msg)
{
    int rc = cel_err_set(err, CEL_E_CONFIG, "configuration change refused: %s", msg);
    cel_err_hint(err, "Nothing was written; fix the change and run config-update again.");
    return rc;
}

int cfg_changes_try(const struct cfg *cfg, const struct cfg_change_list *l, const char *auto_text,
                    struct strbuf *out, struct cel_err *err)
{
    struct strbuf text = {0};
    sb_append(&text, auto_text ? auto_text : "");
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = 0; j < l->sets[i].n; j++)
            cfg_auto_text_set(&text, l->sets[i].section, l->sets[i].changes[j].key,
                              l->sets[i].changes[j].value);
    struct cfg *trial = NULL;
    struct cel_err terr = {0};
    int trc = cfg_load_with_auto(cfg->path, sb_str(&text), &trial, &terr);
    char *auto_path = cfg_auto_conf_path(&cfg->global);
    int rc = 0;
    if (!trial) {
        rc = refuse(err, terr.msg);
        goto out;
    }
    for (size_t i = 0; i < trial->n_diags; i++) {
        const struct cfg_diag *d = &trial->diags[i];
        if (d->level >= CFG_WARNING && strcmp(d->file, auto_path) == 0 && !had_problem(cfg, d)) {
            rc = refuse(err, d->text);
            goto out;
        }
    }
    if (trc < 0 && cfg_diag_count(cfg, NULL, CFG_ERROR) == 0) {
        rc = refuse(err, terr.msg);
        goto out;
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct cfg_change_set *set = &l->sets[i];
        if (set->scope == CFG_CHANGE_MODEL)
            continue;
        const struct cfg_server *was = cfg_server_find(cfg, set->section);
        const struct cfg_server *now = cfg_server_find(trial, set->section);
        if (was && !now) {
            char *msg = cel_xasprintf("'%s' would no longer be a server", set->section);
            rc = refuse(err, msg);
            free(msg);
            goto out;
        }
        const struct cfg_diag *d = now ? new_server_error(cfg, trial, now->name) : NULL;
        if (d && now->disabled) {
            rc = refuse(err, d->text);
            goto out;
        }
    }
    sb_free(out);
    *out = text;
    text = (struct strbuf){0};
out:
    free(auto_path);
    cfg_free(trial);
    sb_free(&text);
    return rc;
}
