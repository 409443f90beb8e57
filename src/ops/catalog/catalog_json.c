/*
 * catalog_json.c - the catalogue's JSON: every backup.info field of a
 * backup (null for None, times in ISO form) and the Python literal trees
 * some fields hold (copy_stats, included_files, snapshots_info), as
 * show-backup, backup and diagnose report them.
 */
#include "catalog_json.h"

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

json_t *op_json_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *op_json_int(struct cat_int v)
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

/* Barman >= 3.11's keys, kept verbatim by the catalogue, typed as Barman's
 * to_json types them (cluster_size an integer, children_backup_ids a
 * list), and only when the backup.info has them: a Barman 3.4 one shows
 * what Barman 3.4 shows. */
static void add_newer_keys(const struct cat_backup *b, json_t *o)
{
    static const char *const strings[] = {"data_checksums", "encryption", "parent_backup_id",
                                          "summarize_wal"};
    for (size_t i = 0; i < b->n_extra; i++) {
        const char *key = b->extra[i].key;
        const char *v = cat_extra_get(b, key);
        if (strcmp(key, "cluster_size") == 0) {
            char *stop = NULL;
            long long n = v ? strtoll(v, &stop, 10) : 0;
            json_object_set_new(o, key, v && !*stop ? json_integer((json_int_t)n) : json_null());
        } else if (strcmp(key, "children_backup_ids") == 0) {
            if (!v) {
                json_object_set_new(o, key, json_null());
                continue;
            }
            json_t *ids = json_array();
            for (const char *p = v;;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                json_array_append_new(ids, json_stringn(p, n));
                if (!comma)
                    break;
                p = comma + 1;
            }
            json_object_set_new(o, key, ids);
        } else {
            for (size_t k = 0; k < CEL_ARRAY_LEN(strings); k++)
                if (strcmp(key, strings[k]) == 0)
                    json_object_set_new(o, key, op_json_str(v));
        }
    }
}

json_t *op_backup_json(const struct cat_backup *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "backup_id", op_json_str(b->id));
    json_object_set_new(o, "backup_label", op_json_str(b->backup_label));
    json_object_set_new(o, "backup_name", op_json_str(b->backup_name));
    json_object_set_new(o, "begin_offset", op_json_int(b->begin_offset));
    json_object_set_new(o, "begin_time", time_or_null(b->begin_time));
    json_object_set_new(o, "begin_wal", op_json_str(b->begin_wal));
    json_object_set_new(o, "begin_xlog", op_json_str(b->begin_xlog));
    json_object_set_new(o, "compression", op_json_str(b->compression));
    json_object_set_new(o, "config_file", op_json_str(b->config_file));
    json_object_set_new(o, "copy_stats", op_py_json(b->copy_stats));
    json_object_set_new(o, "deduplicated_size", op_json_int(b->deduplicated_size));
    json_object_set_new(o, "end_offset", op_json_int(b->end_offset));
    json_object_set_new(o, "end_time", time_or_null(b->end_time));
    json_object_set_new(o, "end_wal", op_json_str(b->end_wal));
    json_object_set_new(o, "end_xlog", op_json_str(b->end_xlog));
    json_object_set_new(o, "error", op_json_str(b->error));
    json_object_set_new(o, "hba_file", op_json_str(b->hba_file));
    json_object_set_new(o, "ident_file", op_json_str(b->ident_file));
    json_object_set_new(o, "included_files", op_py_json(b->included_files));
    json_object_set_new(o, "mode", op_json_str(b->mode));
    json_object_set_new(o, "pgdata", op_json_str(b->pgdata));
    json_object_set_new(o, "server_name", op_json_str(b->server_name));
    json_object_set_new(o, "size", op_json_int(b->size));
    json_object_set_new(o, "snapshots_info", op_py_json(b->snapshots_info));
    json_object_set_new(o, "status", json_string(cat_status_name(b->status)));
    json_object_set_new(o, "systemid", op_json_str(b->systemid));
    json_t *tbs = json_array();
    for (size_t i = 0; i < b->n_tablespaces; i++)
        json_array_append_new(tbs, json_pack("{s:s, s:I, s:s}", "name", b->tablespaces[i].name,
                                             "oid", (json_int_t)b->tablespaces[i].oid, "location",
                                             b->tablespaces[i].location));
    json_object_set_new(o, "tablespaces", tbs);
    json_object_set_new(o, "timeline", op_json_int(b->timeline));
    json_object_set_new(o, "version", op_json_int(b->version));
    json_object_set_new(o, "xlog_segment_size", op_json_int(b->xlog_segment_size));
    add_newer_keys(b, o);
    return o;
}
