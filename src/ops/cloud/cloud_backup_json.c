/*
 * cloud_backup_json.c - a backup.info as barman-cloud 3.4 prints it in
 * JSON (barman/infofile.py BackupInfo.to_json): the fields of the file as
 * FieldListFile.items() yields them, then backup_id. Unlike show-backup's
 * JSON (catalog_json.c) the label stays the quoted literal of the file and
 * times are ctime() strings, because that is what barman-cloud-backup-list
 * --format json scripts already parse.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_json.h"
#include "cloud_catalog.h"

static json_t *ctime_or_null(struct cat_time t)
{
    if (!t.set)
        return json_null();
    char text[TS_MAX];
    ts_format_ctime(&t.t, text);
    return json_string(text);
}

json_t *cloud_backup_json(const struct cat_backup *b)
{
    json_t *o = json_object();
    json_t *label = json_null();
    if (b->backup_label && *b->backup_label) {
        struct strbuf sb = {0};
        py_repr_str(b->backup_label, strlen(b->backup_label), &sb);
        label = json_string(sb_str(&sb));
        sb_free(&sb);
    }
    json_object_set_new(o, "backup_label", label);
    if (b->backup_name)
        json_object_set_new(o, "backup_name", json_string(b->backup_name));
    json_object_set_new(o, "begin_offset", op_json_int(b->begin_offset));
    json_object_set_new(o, "begin_time", ctime_or_null(b->begin_time));
    json_object_set_new(o, "begin_wal", op_json_str(b->begin_wal));
    json_object_set_new(o, "begin_xlog", op_json_str(b->begin_xlog));
    json_object_set_new(o, "compression", op_json_str(b->compression));
    json_object_set_new(o, "config_file", op_json_str(b->config_file));
    json_object_set_new(o, "copy_stats", op_py_json(b->copy_stats));
    json_object_set_new(o, "deduplicated_size", op_json_int(b->deduplicated_size));
    json_object_set_new(o, "end_offset", op_json_int(b->end_offset));
    json_object_set_new(o, "end_time", ctime_or_null(b->end_time));
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
    if (b->snapshots_info)
        json_object_set_new(o, "snapshots_info", op_py_json(b->snapshots_info));
    json_object_set_new(o, "status", json_string(cat_status_name(b->status)));
    json_object_set_new(o, "systemid", op_json_str(b->systemid));
    json_t *tbs = json_null();
    if (b->n_tablespaces) {
        tbs = json_array();
        for (size_t i = 0; i < b->n_tablespaces; i++)
            json_array_append_new(tbs, json_pack("[s, I, s]", b->tablespaces[i].name,
                                                 (json_int_t)b->tablespaces[i].oid,
                                                 b->tablespaces[i].location));
    }
    json_object_set_new(o, "tablespaces", tbs);
    json_object_set_new(o, "timeline", op_json_int(b->timeline));
    json_object_set_new(o, "version", op_json_int(b->version));
    json_object_set_new(o, "xlog_segment_size", op_json_int(b->xlog_segment_size));
    json_object_set_new(o, "backup_id", op_json_str(b->id));
    return o;
}

void cloud_json_text(const json_t *o, struct strbuf *out)
{
    /* without JSON_COMPACT jansson separates as Python does */
    char *text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    sb_appendf(out, "%s\n", text ? text : "{}");
    free(text);
}
