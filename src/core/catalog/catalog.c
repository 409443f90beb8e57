/*
 * catalog.c - backup.info in Barman 3's format, and a server's backup list.
 *
 * One table (info_keys) lists every key Barman 3 writes with its type and
 * the field it fills; parsing and formatting both walk it, so a key cannot
 * be read one way and written another. Values are checked as they are read:
 * a backup.info cut short or damaged gives an error naming the line and the
 * key, never a half-filled backup that later code trusts.
 */
#include <errno.h>
#include <stddef.h>

#include "catalog.h"
#include "storage.h"
#include "wal.h"

#define INFO_MAX (1u << 20)

enum key_type {
    K_STR,    /* raw text */
    K_INT,    /* decimal integer */
    K_TIME,   /* timestamp */
    K_WAL,    /* WAL segment name */
    K_LSN,    /* "X/Y" */
    K_LABEL,  /* Python str literal */
    K_TBS,    /* Python list of (name, oid, location) */
    K_PY,     /* any Python literal, kept as a tree */
    K_STATUS, /* status word */
    K_SEGSZ,  /* WAL segment size PostgreSQL accepts */
};

struct key_def {
    const char *key;
    enum key_type type;
    size_t offset;
    bool hidden_when_null; /* written only when set (backup_name, snapshots_info) */
};

#define F(field) offsetof(struct cat_backup, field)

/* Alphabetical, as Barman writes them. */
static const struct key_def info_keys[] = {
    {"backup_label", K_LABEL, F(backup_label), false},
    {"backup_name", K_STR, F(backup_name), true},
    {"begin_offset", K_INT, F(begin_offset), false},
    {"begin_time", K_TIME, F(begin_time), false},
    {"begin_wal", K_WAL, F(begin_wal), false},
    {"begin_xlog", K_LSN, F(begin_xlog), false},
    {"compression", K_STR, F(compression), false},
    {"config_file", K_STR, F(config_file), false},
    {"copy_stats", K_PY, F(copy_stats), false},
    {"deduplicated_size", K_INT, F(deduplicated_size), false},
    {"end_offset", K_INT, F(end_offset), false},
    {"end_time", K_TIME, F(end_time), false},
    {"end_wal", K_WAL, F(end_wal), false},
    {"end_xlog", K_LSN, F(end_xlog), false},
    {"error", K_STR, F(error), false},
    {"hba_file", K_STR, F(hba_file), false},
    {"ident_file", K_STR, F(ident_file), false},
    {"included_files", K_PY, F(included_files), false},
    {"mode", K_STR, F(mode), false},
    {"pgdata", K_STR, F(pgdata), false},
    {"server_name", K_STR, F(server_name), false},
    {"size", K_INT, F(size), false},
    {"snapshots_info", K_PY, F(snapshots_info), true},
    {"status", K_STATUS, F(status), false},
    {"systemid", K_STR, F(systemid), false},
    {"tablespaces", K_TBS, F(tablespaces), false},
    {"timeline", K_INT, F(timeline), false},
    {"version", K_INT, F(version), false},
    {"xlog_segment_size", K_SEGSZ, F(xlog_segment_size), false},
};

static const char *const status_names[] = {"EMPTY",  "STARTED", "WAITING_FOR_WALS",
                                           "DONE",   "FAILED",  "SYNCING"};

const char *cat_status_name(enum cat_status status)
{
    if ((unsigned)status >= CEL_ARRAY_LEN(status_names))
        return "EMPTY";
    return status_names[status];
}

int cat_status_parse(const char *text, enum cat_status *out, struct cel_err *err)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(status_names); i++) {
        if (strcmp(text, status_names[i]) == 0) {
            *out = (enum cat_status)i;
            return 0;
        }
    }
    return cel_err_set(err, CEL_E_INVALID,
                       "unknown status '%s' (expected EMPTY, STARTED, WAITING_FOR_WALS, DONE, "
                       "FAILED or SYNCING)",
                       text);
}

bool cat_status_copy_done(enum cat_status status)
{
    return status == CAT_WAITING_FOR_WALS || status == CAT_DONE;
}

static const struct key_def *find_key(const char *key)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(info_keys); i++)
        if (strcmp(info_keys[i].key, key) == 0)
            return &info_keys[i];
    return NULL;
}

static void free_tablespaces(struct cat_backup *b)
{
    for (size_t i = 0; i < b->n_tablespaces; i++) {
        free(b->tablespaces[i].name);
        free(b->tablespaces[i].location);
    }
    free(b->tablespaces);
    b->tablespaces = NULL;
    b->n_tablespaces = 0;
}

/* Reset the field of k in b to null. */
static void clear_field(struct cat_backup *b, const struct key_def *k)
{
    void *f = (char *)b + k->offset;
    switch (k->type) {
    case K_STR:
    case K_WAL:
    case K_LSN:
    case K_LABEL:
        free(*(char **)f);
        *(char **)f = NULL;
        break;
    case K_INT:
    case K_SEGSZ:
        *(struct cat_int *)f = (struct cat_int){0};
        break;
    case K_TIME:
        *(struct cat_time *)f = (struct cat_time){0};
        break;
    case K_PY:
        py_free(*(struct py_value **)f);
        *(struct py_value **)f = NULL;
        break;
    case K_TBS:
        free_tablespaces(b);
        break;
    case K_STATUS:
        b->status = CAT_EMPTY;
        break;
    }
}

void cat_backup_clear(struct cat_backup *b)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(info_keys); i++)
        clear_field(b, &info_keys[i]);
    for (size_t i = 0; i < b->n_extra; i++) {
        free(b->extra[i].key);
        free(b->extra[i].value);
    }
    free(b->extra);
    free(b->id);
    memset(b, 0, sizeof *b);
}

/* Parse a decimal integer as Python's int() would read Barman's output. */
static int parse_int(const char *v, int64_t *out, struct cel_err *err)
{
    const char *p = v;
    if (*p == '-' || *p == '+')
        p++;
    bool ok = *p != '\0';
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            ok = false;
    errno = 0;
    long long n = ok ? strtoll(v, NULL, 10) : 0;
    if (!ok || errno)
        return cel_err_set(err, CEL_E_FORMAT, "invalid integer '%s'", v);
    *out = (int64_t)n;
    return 0;
}

/* tablespaces: a list of 3-element sequences (name str, oid int, location str). */
static int parse_tablespaces(const char *v, struct cat_backup *b, struct cel_err *err)
{
    struct py_value *tree = NULL;
    int rc = py_parse(v, &tree, err);
    if (rc < 0)
        return rc;
    if (tree->kind != PY_LIST && tree->kind != PY_TUPLE) {
        py_free(tree);
        return cel_err_set(err, CEL_E_FORMAT, "expected a list of (name, oid, location)");
    }
    b->tablespaces = cel_xcalloc(tree->n ? tree->n : 1, sizeof *b->tablespaces);
    for (size_t i = 0; i < tree->n; i++) {
        const struct py_value *t = tree->items[i];
        if ((t->kind != PY_TUPLE && t->kind != PY_LIST) || t->n != 3 ||
            t->items[0]->kind != PY_STR || t->items[1]->kind != PY_INT ||
            t->items[2]->kind != PY_STR) {
            rc = cel_err_set(err, CEL_E_FORMAT,
                             "tablespace %zu is not a (name, oid, location) triple", i + 1);
            break;
        }
        b->tablespaces[i].name = cel_xstrdup(t->items[0]->s);
        b->tablespaces[i].oid = t->items[1]->i;
        b->tablespaces[i].location = cel_xstrdup(t->items[2]->s);
        b->n_tablespaces = i + 1;
    }
    py_free(tree);
    if (rc < 0)
        free_tablespaces(b);
    return rc;
}

/* Parse value v for key k into b. Errors carry no location: the caller adds it. */
static int parse_field(struct cat_backup *b, const struct key_def *k, const char *v,
                       struct cel_err *err)
{
    void *f = (char *)b + k->offset;
    switch (k->type) {
    case K_STR:
        *(char **)f = cel_xstrdup(v);
        return 0;
    case K_WAL: {
        struct wal_name w;
        if (wal_name_parse(v, &w, err) < 0)
            return -CEL_E_FORMAT;
        if (w.kind != WAL_KIND_SEGMENT)
            return cel_err_set(err, CEL_E_FORMAT, "'%s' is not a WAL segment name", v);
        *(char **)f = cel_xstrdup(v);
        return 0;
    }
    case K_LSN: {
        uint64_t lsn;
        if (wal_lsn_parse(v, &lsn, err) < 0)
            return -CEL_E_FORMAT;
        *(char **)f = cel_xstrdup(v);
        return 0;
    }
    case K_INT: {
        struct cat_int *ci = f;
        if (parse_int(v, &ci->v, err) < 0)
            return -CEL_E_FORMAT;
        ci->set = true;
        return 0;
    }
    case K_SEGSZ: {
        /* checked here, once, so that every reader can divide by it */
        struct cat_int *ci = f;
        if (parse_int(v, &ci->v, err) < 0)
            return -CEL_E_FORMAT;
        if (ci->v < 0) {
            cel_err_set(err, CEL_E_FORMAT,
                        "invalid WAL segment size %lld bytes: not a power of "
                        "two from 1 MiB to 1 GiB",
                        (long long)ci->v);
            return -CEL_E_FORMAT;
        }
        if (wal_segsize_check((uint64_t)ci->v, err) < 0)
            return -CEL_E_FORMAT;
        ci->set = true;
        return 0;
    }
    case K_TIME: {
        struct cat_time *ct = f;
        if (ts_parse(v, &ct->t, err) < 0)
            return -CEL_E_FORMAT;
        ct->set = true;
        return 0;
    }
    case K_LABEL: {
        struct py_value *tree = NULL;
        if (py_parse(v, &tree, err) < 0)
            return -CEL_E_FORMAT;
        int rc = 0;
        if (tree->kind == PY_STR)
            *(char **)f = cel_xstrdup(tree->s);
        else if (tree->kind != PY_NONE)
            rc = cel_err_set(err, CEL_E_FORMAT, "expected a quoted string");
        py_free(tree);
        return rc;
    }
    case K_TBS:
        return parse_tablespaces(v, b, err);
    case K_PY:
        return py_parse(v, (struct py_value **)f, err) < 0 ? -CEL_E_FORMAT : 0;
    case K_STATUS:
        return cat_status_parse(v, &b->status, err) < 0 ? -CEL_E_FORMAT : 0;
    }
    return cel_err_set(err, CEL_E_INTERNAL, "unknown key type");
}

void cat_extra_set(struct cat_backup *b, const char *key, const char *value)
{
    for (size_t i = 0; i < b->n_extra; i++) {
        if (strcmp(b->extra[i].key, key) == 0) {
            free(b->extra[i].value);
            b->extra[i].value = cel_xstrdup(value);
            return;
        }
    }
    b->extra = cel_xrealloc_array(b->extra, b->n_extra + 1, sizeof *b->extra);
    b->extra[b->n_extra].key = cel_xstrdup(key);
    b->extra[b->n_extra].value = cel_xstrdup(value);
    b->n_extra++;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

int cat_info_parse(const char *text, const char *name, struct cat_backup *b,
                   struct cel_err *err)
{
    char *id = b->id;
    b->id = NULL;
    cat_backup_clear(b);
    b->id = id;
    int rc = 0;
    int lineno = 0;
    const char *s = text;
    char *line = NULL;
    while (*s) {
        lineno++;
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        free(line);
        line = cel_xstrndup(s, len);
        s = nl ? nl + 1 : s + len;
        char *p = line;
        while (is_space(*p))
            p++;
        char *end = p + strlen(p);
        while (end > p && is_space(end[-1]))
            *--end = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            rc = cel_err_set(err, CEL_E_FORMAT, "%s:%d: invalid line '%.80s': expected key=value",
                             name, lineno, p);
            goto out;
        }
        char *kend = eq;
        while (kend > p && is_space(kend[-1]))
            kend--;
        *kend = '\0';
        char *v = eq + 1;
        while (is_space(*v))
            v++;
        const struct key_def *k = find_key(p);
        if (!k) {
            cat_extra_set(b, p, v);
            continue;
        }
        clear_field(b, k);
        if (strcmp(v, "None") == 0)
            continue;
        struct cel_err ferr = {0};
        if (parse_field(b, k, v, &ferr) < 0) {
            rc = cel_err_set(err, CEL_E_FORMAT, "%s:%d: %s: %s", name, lineno, k->key, ferr.msg);
            if (ferr.hint[0])
                cel_err_hint(err, "%s", ferr.hint);
            goto out;
        }
    }
    if (!b->xlog_segment_size.set)
        b->xlog_segment_size = (struct cat_int){true, (int64_t)WAL_DEFAULT_SEGSIZE};
out:
    free(line);
    if (rc < 0) {
        id = b->id;
        b->id = NULL;
        cat_backup_clear(b);
        b->id = id;
    }
    return rc;
}

int cat_info_read(const char *dir, struct cat_backup *b, struct cel_err *err)
{
    char *path = cel_xasprintf("%s/backup.info", dir);
    char *text = NULL;
    size_t len = 0;
    int rc = stor_read_file(path, INFO_MAX, &text, &len, err);
    if (rc == 0 && strlen(text) != len) {
        /* cat_info_parse reads a C string: a NUL would silently end the
         * file early, so refuse it here, naming its line */
        int lineno = 1;
        for (const char *c = text; *c; c++)
            lineno += *c == '\n';
        rc = cel_err_set(err, CEL_E_FORMAT, "%s:%d: contains a NUL byte", path, lineno);
    }
    if (rc == 0)
        rc = cat_info_parse(text, path, b, err);
    free(text);
    free(path);
    return rc;
}

/* Python's truth value of v. Barman writes literals with null_repr(), which
 * gives None for a false value: '', [], {}, 0 are written None. */
static bool py_truthy(const struct py_value *v)
{
    switch (v->kind) {
    case PY_NONE:
        return false;
    case PY_BOOL:
        return v->b;
    case PY_INT:
        return v->i != 0;
    case PY_FLOAT:
        return v->f != 0;
    case PY_STR:
        return v->len != 0;
    case PY_LIST:
    case PY_TUPLE:
    case PY_DICT:
        return v->n != 0;
    }
    return true;
}

/* Append "key=value\n" for field k of b; false when it is null and hidden. */
static bool format_field(const struct cat_backup *b, const struct key_def *k,
                         struct strbuf *out)
{
    const void *f = (const char *)b + k->offset;
    struct strbuf v = {0};
    bool null = false;
    switch (k->type) {
    case K_STR:
    case K_WAL:
    case K_LSN: {
        const char *s = *(const char *const *)f;
        if (!s) {
            null = true;
            break;
        }
        /* a newline would split the value into a line Barman cannot read */
        for (const char *c = s; *c; c++)
            sb_appendc(&v, *c == '\n' || *c == '\r' ? ' ' : *c);
        break;
    }
    case K_LABEL: {
        const char *s = *(const char *const *)f;
        if (s && *s)
            py_repr_str(s, strlen(s), &v);
        else
            null = true;
        break;
    }
    case K_INT:
    case K_SEGSZ: {
        const struct cat_int *ci = f;
        if (ci->set)
            sb_appendf(&v, "%lld", (long long)ci->v);
        else
            null = true;
        break;
    }
    case K_TIME: {
        const struct cat_time *ct = f;
        if (ct->set) {
            char text[TS_MAX];
            ts_format(&ct->t, text);
            sb_append(&v, text);
        } else {
            null = true;
        }
        break;
    }
    case K_PY: {
        const struct py_value *pv = *(const struct py_value *const *)f;
        if (pv && py_truthy(pv))
            py_repr(pv, &v);
        else
            null = true;
        break;
    }
    case K_TBS:
        if (b->n_tablespaces == 0) {
            null = true;
            break;
        }
        sb_appendc(&v, '[');
        for (size_t i = 0; i < b->n_tablespaces; i++) {
            const struct cat_tablespace *t = &b->tablespaces[i];
            if (i)
                sb_append(&v, ", ");
            sb_appendc(&v, '(');
            py_repr_str(t->name, strlen(t->name), &v);
            sb_appendf(&v, ", %lld, ", (long long)t->oid);
            py_repr_str(t->location, strlen(t->location), &v);
            sb_appendc(&v, ')');
        }
        sb_appendc(&v, ']');
        break;
    case K_STATUS:
        sb_append(&v, cat_status_name(b->status));
        break;
    }
    if (null && k->hidden_when_null) {
        sb_free(&v);
        return false;
    }
    sb_appendf(out, "%s=%s\n", k->key, null ? "None" : sb_str(&v));
    sb_free(&v);
    return true;
}

const char *cat_extra_get(const struct cat_backup *b, const char *key)
{
    for (size_t i = 0; i < b->n_extra; i++)
        if (strcmp(b->extra[i].key, key) == 0)
            return strcmp(b->extra[i].value, "None") == 0 || !b->extra[i].value[0]
                       ? NULL
                       : b->extra[i].value;
    return NULL;
}

bool cat_has_newer_keys(const struct cat_backup *b)
{
    static const char *const keys[] = {"cluster_size", "data_checksums", "summarize_wal",
                                       "parent_backup_id", "children_backup_ids"};
    for (size_t i = 0; i < b->n_extra; i++)
        for (size_t k = 0; k < CEL_ARRAY_LEN(keys); k++)
            if (strcmp(b->extra[i].key, keys[k]) == 0)
                return true;
    return false;
}

static int cmp_extra(const void *a, const void *b)
{
    return strcmp((*(const struct cat_extra *const *)a)->key,
                  (*(const struct cat_extra *const *)b)->key);
}

void cat_info_format(const struct cat_backup *b, struct strbuf *out)
{
    /* merge the known keys with the kept unknown ones, all alphabetical */
    const struct cat_extra **extra = cel_xcalloc(b->n_extra + 1, sizeof *extra);
    for (size_t i = 0; i < b->n_extra; i++)
        extra[i] = &b->extra[i];
    qsort(extra, b->n_extra, sizeof *extra, cmp_extra);
    size_t e = 0;
    for (size_t i = 0; i < CEL_ARRAY_LEN(info_keys); i++) {
        for (; e < b->n_extra && strcmp(extra[e]->key, info_keys[i].key) < 0; e++)
            sb_appendf(out, "%s=%s\n", extra[e]->key, extra[e]->value);
        format_field(b, &info_keys[i], out);
    }
    for (; e < b->n_extra; e++)
        sb_appendf(out, "%s=%s\n", extra[e]->key, extra[e]->value);
    free(extra);
}

int cat_info_write(const char *dir, const struct cat_backup *b, struct cel_err *err)
{
    struct strbuf text = {0};
    cat_info_format(b, &text);
    char *path = cel_xasprintf("%s/backup.info", dir);
    int rc = stor_write_file(path, text.buf, text.len, 0600, err);
    free(path);
    sb_free(&text);
    return rc;
}

/* ---- the list of a server's backups ------------------------------------- */

/* Keep entries that are backup directories: not hidden (Barman's glob
 * "*" /backup.info skips them) and holding a backup.info. */
static bool is_backup_dir(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    if (name[0] == '.')
        return false;
    char *info = cel_xasprintf("%s/%s/backup.info", dir, name);
    bool present = stor_is_file(info);
    free(info);
    return present;
}

int cat_list_load(const char *basebackups_dir, struct cat_list *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    struct stor_names names;
    int rc = stor_list_dir(basebackups_dir, is_backup_dir, NULL, &names, err);
    if (rc == -CEL_E_NOT_FOUND)
        return 0;
    if (rc < 0)
        return rc;
    size_t n = names.n;
    out->items = cel_xcalloc(n ? n : 1, sizeof *out->items);
    out->errors = cel_xcalloc(n ? n : 1, sizeof *out->errors);
    out->failed = cel_xcalloc(n ? n : 1, sizeof *out->failed);
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        char *dir = cel_xasprintf("%s/%s", basebackups_dir, names.names[i]);
        out->items[i].id = names.names[i]; /* the list takes the name */
        names.names[i] = NULL;
        if (cat_info_read(dir, &out->items[i], &out->errors[i]) < 0)
            out->failed[i] = true;
        free(dir);
    }
    stor_names_free(&names);
    return 0;
}

void cat_list_free(struct cat_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        cat_backup_clear(&list->items[i]);
    free(list->items);
    free(list->errors);
    free(list->failed);
    memset(list, 0, sizeof *list);
}

/* Usable as a "copy done" backup: loaded and WAITING_FOR_WALS or DONE. */
static bool copy_done(const struct cat_list *list, size_t i)
{
    return !list->failed[i] && cat_status_copy_done(list->items[i].status);
}

int cat_previous(const struct cat_list *list, size_t i)
{
    for (size_t j = i; j-- > 0;)
        if (copy_done(list, j))
            return (int)j;
    return -1;
}

int cat_next(const struct cat_list *list, size_t i)
{
    for (size_t j = i + 1; j < list->n; j++)
        if (copy_done(list, j))
            return (int)j;
    return -1;
}

int cat_resolve(const struct cat_list *list, const char *ref, const char *server,
                struct cel_err *err)
{
    int found = -1;
    if (strcmp(ref, "latest") == 0 || strcmp(ref, "last") == 0) {
        found = cat_previous(list, list->n);
    } else if (strcmp(ref, "oldest") == 0 || strcmp(ref, "first") == 0) {
        for (size_t i = 0; i < list->n && found < 0; i++)
            if (copy_done(list, i))
                found = (int)i;
    } else if (strcmp(ref, "last-failed") == 0) {
        for (size_t j = list->n; j-- > 0 && found < 0;)
            if (!list->failed[j] && list->items[j].status == CAT_FAILED)
                found = (int)j;
    } else if (ts_is_backup_id(ref)) {
        for (size_t i = 0; i < list->n && found < 0; i++)
            if (strcmp(list->items[i].id, ref) == 0)
                found = (int)i;
    } else {
        struct strbuf ids = {0};
        size_t matches = 0;
        for (size_t i = 0; i < list->n; i++) {
            const struct cat_backup *b = &list->items[i];
            if (copy_done(list, i) && b->backup_name && strcmp(b->backup_name, ref) == 0) {
                found = (int)i;
                sb_appendf(&ids, "%s%s", matches++ ? ", " : "", b->id);
            }
        }
        if (matches > 1) {
            int rc = cel_err_set(err, CEL_E_INVALID,
                                 "backup name '%s' is ambiguous in server '%s': it names %s", ref,
                                 server, sb_str(&ids));
            cel_err_hint(err, "Use the backup ID instead of the name.");
            sb_free(&ids);
            return rc;
        }
        sb_free(&ids);
    }
    if (found < 0) {
        /* a shortcut that names nothing yet is not an unknown name */
        const char *what = strcmp(ref, "last-failed") == 0                        ? "failed"
                           : strcmp(ref, "latest") == 0 || strcmp(ref, "last") == 0 ||
                                   strcmp(ref, "oldest") == 0 || strcmp(ref, "first") == 0
                               ? "complete"
                               : NULL;
        int rc = what ? cel_err_set(err, CEL_E_NOT_FOUND, "server '%s' has no %s backup (%s)",
                                    server, what, ref)
                      : cel_err_set(err, CEL_E_NOT_FOUND, "unknown backup '%s' for server '%s'",
                                    ref, server);
        cel_err_hint(err, "'cellar list-backup %s' lists the backups and their IDs.", server);
        return rc;
    }
    return found;
}

int cat_check_backup_name(const char *name, struct cel_err *err)
{
    static const char *const reserved[] = {"latest", "last", "oldest", "first", "last-failed"};
    if (!*name)
        return cel_err_set(err, CEL_E_INVALID, "a backup name must not be empty");
    if (ts_is_backup_id(name))
        return cel_err_set(err, CEL_E_INVALID,
                           "backup name '%s' looks like a backup ID; choose another name", name);
    for (size_t i = 0; i < CEL_ARRAY_LEN(reserved); i++)
        if (strcmp(name, reserved[i]) == 0)
            return cel_err_set(err, CEL_E_INVALID,
                               "backup name '%s' is reserved for a backup ID shortcut", name);
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20)
            return cel_err_set(err, CEL_E_INVALID,
                               "a backup name must not contain control characters");
    return 0;
}
