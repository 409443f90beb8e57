/*
 * server_catalog.c - loading a server's catalogue for an op, and the JSON
 * form of a backup, shared by list-backup, show-backup and diagnose.
 */
#include <dirent.h>

#include "ops.h"
#include "proc.h"
#include "storage.h"
#include "walcheck.h"
#include "wal.h"

int op_catalog_load(const struct op_ctx *ctx, const struct cfg_server *s, bool with_wal,
                    struct op_catalog *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = cat_list_load(s->basebackups_directory, &out->list, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < out->list.n; i++)
        if (out->list.failed[i])
            op_log(ctx, LOG_WARNING, s->name, "backup %s cannot be read: %s", out->list.items[i].id,
                   out->list.errors[i].msg);
    if (with_wal) {
        rc = op_xdb_load(ctx, s, &out->xdb, err);
        if (rc < 0) {
            cat_list_free(&out->list);
            return rc;
        }
        out->xdb_loaded = true;
    }
    return 0;
}

void op_catalog_free(struct op_catalog *c)
{
    cat_list_free(&c->list);
    xdb_free(&c->xdb);
}

void op_catalog_wal_info(const struct op_catalog *c, size_t i, struct xdb_wal_info *out)
{
    int next = cat_next(&c->list, i);
    xdb_backup_wal_info(&c->xdb, &c->list.items[i], next >= 0 ? c->list.items[next].end_wal : NULL,
                        out);
}

void op_comp_opts(const struct cfg_server *s, struct comp_opts *out)
{
    /* every value was parsed at load: this only copies */
    const struct cfg_magic *magic = &s->custom_compression_magic;
    *out = (struct comp_opts){
        .custom_compress = s->custom_compression_filter,
        .custom_decompress = s->custom_decompression_filter,
        .custom_magic = magic->len ? magic->bytes : NULL,
        .custom_magic_len = magic->len,
        .path_prefix = s->path_prefix,
    };
}

/* The compression xlog.db records for name (index, else the file read
 * under its lock): 0 with *out set, 1 when xlog.db does not list name. */
static int recorded_kind(const struct op_ctx *ctx, const struct cfg_server *s, const char *name,
                         const struct xdb *index, enum comp_kind *out, struct cel_err *err)
{
    struct xdb loaded = {0};
    if (!index) {
        int rc = op_xdb_load(ctx, s, &loaded, err);
        if (rc < 0)
            return rc;
        index = &loaded;
    }
    const struct xdb_entry *e = xdb_find(index, name);
    int rc = e ? 0 : 1;
    /* xdb_parse accepted only names comp_parse_name knows */
    if (e && comp_parse_name(e->compression, out, NULL) < 0)
        *out = COMP_CUSTOM;
    xdb_free(&loaded);
    return rc;
}

int op_archived_kind(const struct op_ctx *ctx, const struct cfg_server *s, const char *path,
                     const char *name, const struct xdb *index, enum comp_kind *out,
                     struct cel_err *err)
{
    struct comp_opts opts;
    op_comp_opts(s, &opts);
    int rc = comp_detect_file(path, &opts, out, err);
    if (rc < 0 || *out != COMP_NONE)
        return rc;
    if (s->compression == COMP_CUSTOM && !opts.custom_magic) {
        /* Barman's rule: without a magic, what no magic matches is custom,
         * unless xlog.db says otherwise */
        rc = recorded_kind(ctx, s, name, index, out, err);
        if (rc == 1)
            *out = COMP_CUSTOM;
        return rc < 0 ? rc : 0;
    }
    /* No magic matches. Handing out these bytes as they are is right only
     * when they are the plain file: a file written by a custom filter that
     * is no longer configured (or whose magic was changed) must never pass
     * for WAL. So the content must be what its name says (walcheck), or
     * xlog.db's record says how it was compressed, or it is taken as
     * custom (what Barman assumes of a file no magic matches), which needs
     * custom_decompression_filter to be read. */
    struct wal_name w;
    struct cel_err werr = {0};
    if (wal_name_parse(name, &w, NULL) == 0 && walcheck_file(path, &w, NULL, &werr) == 0)
        return 0;
    if (werr.code == CEL_E_IO || werr.code == CEL_E_NOT_FOUND) {
        *err = werr;
        return -werr.code;
    }
    rc = recorded_kind(ctx, s, name, index, out, err);
    if (rc < 0)
        return rc;
    if (rc == 1 || *out == COMP_NONE)
        *out = COMP_CUSTOM;
    return 0;
}

uint64_t op_server_sysid(const struct cfg_server *s)
{
    char *path = cel_xasprintf("%s/identity.json", s->backup_directory);
    json_t *doc = json_load_file(path, 0, NULL);
    free(path);
    const char *text = json_string_value(json_object_get(doc, "systemid"));
    uint64_t sysid = text ? strtoull(text, NULL, 10) : 0;
    json_decref(doc);
    return sysid;
}

int op_server_dirs(const struct cfg_server *s, struct cel_err *err)
{
    const char *dirs[] = {s->incoming_wals_directory, s->wals_directory, s->errors_directory,
                          s->basebackups_directory};
    for (size_t i = 0; i < CEL_ARRAY_LEN(dirs); i++) {
        int rc = stor_mkdir_p(dirs[i], 0700, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

char *op_wal_path(const struct cfg_server *s, const char *name)
{
    char hash[17];
    wal_hash_dir(name, hash, NULL);
    if (hash[0])
        return cel_xasprintf("%s/%s/%s", s->wals_directory, hash, name);
    return cel_xasprintf("%s/%s", s->wals_directory, name);
}

json_t *op_py_json(const struct py_value *v)
{
    if (!v)
        return json_null();
    switch (v->kind) {
    case PY_NONE:
        return json_null();
    case PY_BOOL:
        return json_boolean(v->b);
    case PY_INT:
        return json_integer((json_int_t)v->i);
    case PY_FLOAT:
        return json_real(v->f);
    case PY_STR:
        return json_stringn(v->s, v->len);
    case PY_LIST:
    case PY_TUPLE: {
        json_t *a = json_array();
        for (size_t i = 0; i < v->n; i++)
            json_array_append_new(a, op_py_json(v->items[i]));
        return a;
    }
    case PY_DICT: {
        json_t *o = json_object();
        for (size_t i = 0; i < v->n; i++) {
            struct strbuf key = {0};
            if (v->items[i]->kind == PY_STR)
                sb_append(&key, v->items[i]->s);
            else
                py_repr(v->items[i], &key);
            json_object_set_new(o, sb_str(&key), op_py_json(v->values[i]));
            sb_free(&key);
        }
        return o;
    }
    }
    return json_null();
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *int_or_null(struct cat_int v)
{
    return v.set ? json_integer((json_int_t)v.v) : json_null();
}

static json_t *time_or_null(struct cat_time t)
{
    if (!t.set)
        return json_null();
    char text[TS_MAX];
    ts_format_iso(&t.t, text);
    return json_string(text);
}

json_t *op_backup_json(const struct cat_backup *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "backup_id", str_or_null(b->id));
    json_object_set_new(o, "backup_label", str_or_null(b->backup_label));
    json_object_set_new(o, "backup_name", str_or_null(b->backup_name));
    json_object_set_new(o, "begin_offset", int_or_null(b->begin_offset));
    json_object_set_new(o, "begin_time", time_or_null(b->begin_time));
    json_object_set_new(o, "begin_wal", str_or_null(b->begin_wal));
    json_object_set_new(o, "begin_xlog", str_or_null(b->begin_xlog));
    json_object_set_new(o, "compression", str_or_null(b->compression));
    json_object_set_new(o, "config_file", str_or_null(b->config_file));
    json_object_set_new(o, "copy_stats", op_py_json(b->copy_stats));
    json_object_set_new(o, "deduplicated_size", int_or_null(b->deduplicated_size));
    json_object_set_new(o, "end_offset", int_or_null(b->end_offset));
    json_object_set_new(o, "end_time", time_or_null(b->end_time));
    json_object_set_new(o, "end_wal", str_or_null(b->end_wal));
    json_object_set_new(o, "end_xlog", str_or_null(b->end_xlog));
    json_object_set_new(o, "error", str_or_null(b->error));
    json_object_set_new(o, "hba_file", str_or_null(b->hba_file));
    json_object_set_new(o, "ident_file", str_or_null(b->ident_file));
    json_object_set_new(o, "included_files", op_py_json(b->included_files));
    json_object_set_new(o, "mode", str_or_null(b->mode));
    json_object_set_new(o, "pgdata", str_or_null(b->pgdata));
    json_object_set_new(o, "server_name", str_or_null(b->server_name));
    json_object_set_new(o, "size", int_or_null(b->size));
    json_object_set_new(o, "snapshots_info", op_py_json(b->snapshots_info));
    json_object_set_new(o, "status", json_string(cat_status_name(b->status)));
    json_object_set_new(o, "systemid", str_or_null(b->systemid));
    json_t *tbs = json_array();
    for (size_t i = 0; i < b->n_tablespaces; i++)
        json_array_append_new(tbs, json_pack("{s:s, s:I, s:s}", "name", b->tablespaces[i].name,
                                             "oid", (json_int_t)b->tablespaces[i].oid, "location",
                                             b->tablespaces[i].location));
    json_object_set_new(o, "tablespaces", tbs);
    json_object_set_new(o, "timeline", int_or_null(b->timeline));
    json_object_set_new(o, "version", int_or_null(b->version));
    json_object_set_new(o, "xlog_segment_size", int_or_null(b->xlog_segment_size));
    return o;
}

char *op_pg_tool(const char *tool, long version)
{
    if (version >= 100000) {
        char *path = cel_xasprintf("/usr/lib/postgresql/%ld/bin/%s", version / 10000, tool);
        if (stor_is_file(path))
            return path;
        free(path);
    }
    DIR *d = opendir("/usr/lib/postgresql");
    if (!d)
        return NULL;
    long best = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long major = strtol(e->d_name, NULL, 10);
        char *path = cel_xasprintf("/usr/lib/postgresql/%s/bin/%s", e->d_name, tool);
        if (major > best && stor_is_file(path))
            best = major;
        free(path);
    }
    closedir(d);
    return best ? cel_xasprintf("/usr/lib/postgresql/%ld/bin/%s", best, tool) : NULL;
}

char *op_controldata_field(const char *data, long version, const char *path_prefix,
                           const char *field)
{
    char *tool = op_pg_tool("pg_controldata", version);
    const char *argv[] = {tool ? tool : "pg_controldata", "-D", data, NULL};
    struct proc_opts o = {.path_prefix = path_prefix,
                          .err_mode = PROC_DISCARD,
                          .env = (const char *const[]){"LC_ALL=C", NULL}};
    struct proc_result res = {0};
    char *value = NULL;
    if (proc_run(argv, &o, &res, NULL) == 0 && res.status == 0 && res.out) {
        size_t flen = strlen(field);
        for (const char *line = res.out; line && *line; line = strchr(line, '\n')) {
            line += *line == '\n';
            if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
                const char *v = line + flen + 1;
                v += strspn(v, " \t");
                value = cel_xstrndup(v, strcspn(v, "\n"));
                break;
            }
        }
    }
    proc_result_free(&res);
    free(tool);
    return value;
}

int op_backup_open(const struct op_ctx *ctx, const char *server, const char *backup,
                   const char *command, bool with_wal, const struct cfg_server **s,
                   struct op_catalog *cat, struct cel_err *err)
{
    int rc = op_one_server(ctx, server, command, s, err);
    if (rc == 0)
        rc = op_catalog_load(ctx, *s, with_wal, cat, err);
    if (rc < 0)
        return rc;
    int i = cat_resolve(&cat->list, backup, (*s)->name, err);
    if (i >= 0 && cat->list.failed[i]) {
        *err = cat->list.errors[i];
        i = -(int)err->code;
    }
    if (i < 0)
        op_catalog_free(cat);
    return i;
}
