/*
 * catalog_json.h - the catalogue's JSON: a backup.info as show-backup,
 * backup and diagnose report it, and the Python literals inside it
 * (catalog_json.c).
 */
#ifndef CEL_OPS_CATALOG_JSON_H
#define CEL_OPS_CATALOG_JSON_H

#include <jansson.h>

#include "catalog.h"
#include "pyval.h"

/* JSON of every backup.info field (null for None), plus backup_id. */
json_t *op_backup_json(const struct cat_backup *b);
/* JSON of a Python literal tree. */
json_t *op_py_json(const struct py_value *v);
/* A backup.info value in JSON: the string, or null when the key is unset. */
json_t *op_json_str(const char *s);
/* An integer field of backup.info, or null when unset. */
json_t *op_json_int(struct cat_int v);

#endif
