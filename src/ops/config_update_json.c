/*
 * config_update_json.c - config-update's JSON argument and Barman's queue file,
 * parsed at the edge into a struct cfg_change_list, and the queue written
 * back (config_update_json.h).
 *
 * Everything from outside is checked here once: the shapes, the scope, the
 * names being strings, and every value being one line of text. Whether a
 * name is a server, an option or a valid value is the configuration's
 * business (core/config/config_changes.c and the loader).
 */
#include <inttypes.h>
#include <jansson.h>

#include "config_update_json.h"

/* The text of an option's value: a string, a whole number or a boolean, on
 * one line. Returns NULL (with err set) otherwise; the result is borrowed
 * from v or from buf. */
static const char *value_text(json_t *v, char *buf, size_t size, const char *key,
                              struct cel_err *err)
{
    const char *s = NULL;
    if (json_is_string(v)) {
        s = json_string_value(v);
        if (strlen(s) != json_string_length(v) || strpbrk(s, "\n\r")) {
            cel_err_set(err, CEL_E_USAGE, "the value of '%s' must be one line of text", key);
            return NULL;
        }
    } else if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = buf;
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
    } else {
        cel_err_set(err, CEL_E_USAGE,
                    "the value of '%s' must be a string, a whole number or true/false", key);
    }
    return s;
}

/* One document of the argument: {"scope": ..., "<scope>_name": ..., options}. */
static int parse_document(json_t *doc, size_t idx, struct cfg_change_list *out, struct cel_err *err)
{
    if (!json_is_object(doc))
        return cel_err_set(err, CEL_E_USAGE, "document %zu: expected an object", idx);
    json_t *scope = json_object_get(doc, "scope");
    const char *sc = json_is_string(scope) ? json_string_value(scope) : NULL;
    enum cfg_change_scope kind;
    const char *name_key;
    if (sc && strcmp(sc, "server") == 0) {
        kind = CFG_CHANGE_SERVER;
        name_key = "server_name";
    } else if (sc && strcmp(sc, "model") == 0) {
        kind = CFG_CHANGE_MODEL;
        name_key = "model_name";
    } else {
        return cel_err_set(err, CEL_E_USAGE,
                           "document %zu: 'scope' is invalid: it should be either 'server' or "
                           "'model'",
                           idx);
    }
    json_t *name = json_object_get(doc, name_key);
    if (!json_is_string(name) || strlen(json_string_value(name)) != json_string_length(name))
        return cel_err_set(err, CEL_E_USAGE, "document %zu: '%s' is missing or not a string", idx,
                           name_key);
    struct cfg_change_set *set = cfg_change_set_add(out, kind, json_string_value(name));
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "scope") == 0 || strcmp(key, name_key) == 0)
            continue;
        char buf[32];
        const char *text = value_text(v, buf, sizeof buf, key, err);
        if (!text) {
            cel_err_prefix(err, "document %zu", idx);
            return -CEL_E_USAGE;
        }
        cfg_change_add(out, set, key, text, NULL);
    }
    return 0;
}

int config_update_parse_arg(const char *json, size_t len, struct cfg_change_list *out,
                            struct cel_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cel_err_set(err, CEL_E_USAGE, "invalid JSON at line %d, column %d: %s", jerr.line,
                           jerr.column, jerr.text);
    int rc = 0;
    if (!json_is_array(root)) {
        rc = cel_err_set(err, CEL_E_USAGE,
                         "expected a JSON array of changes, e.g. '[{\"scope\": \"server\", "
                         "\"server_name\": \"pg\", \"archiver\": \"on\"}]'");
    } else {
        size_t i;
        json_t *doc;
        json_array_foreach(root, i, doc)
        {
            if ((rc = parse_document(doc, i + 1, out, err)) < 0)
                break;
        }
    }
    json_decref(root);
    return rc;
}

/* A string member of o, NULL when missing or not a clean string. */
static const char *str_member(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

/* One {"section": ..., "changes_set": [{"key", "value", "config_file"}]}. */
static int parse_queued(json_t *o, struct cfg_change_list *out)
{
    const char *section = str_member(o, "section");
    json_t *changes = json_object_get(o, "changes_set");
    if (!section || !json_is_array(changes) || json_object_size(o) != 2)
        return -1;
    struct cfg_change_set *set = cfg_change_set_add(out, CFG_CHANGE_QUEUED, section);
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        const char *key = str_member(c, "key"), *value = str_member(c, "value");
        json_t *file = json_object_get(c, "config_file");
        if (!key || !value || strpbrk(value, "\n\r") ||
            !(json_is_string(file) || json_is_null(file)) || json_object_size(c) != 3)
            return -1;
        cfg_change_add(out, set, key, value, json_is_string(file) ? json_string_value(file) : NULL);
    }
    return 0;
}

int config_update_parse_queue(const char *text, size_t len, struct cfg_change_list *out,
                              struct cel_err *err)
{
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", text[i]))
        i++;
    if (i == len)
        return 0;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return cel_err_set(err, CEL_E_FORMAT, "invalid JSON at line %d, column %d: %s", jerr.line,
                           jerr.column, jerr.text);
    int rc = 0;
    json_t *o;
    if (!json_is_array(root)) {
        rc = -1;
    } else {
        json_array_foreach(root, i, o)
        {
            if ((rc = parse_queued(o, out)) < 0)
                break;
        }
    }
    json_decref(root);
    if (rc < 0)
        return cel_err_set(err, CEL_E_FORMAT,
                           "not a queue of configuration changes in Barman's shape (a list of "
                           "{\"section\", \"changes_set\": [{\"key\", \"value\", "
                           "\"config_file\"}]})");
    return 0;
}

void config_update_queue_json(const struct cfg_change_list *l, const char *auto_path,
                              struct strbuf *out)
{
    json_t *root = json_array();
    for (size_t i = 0; i < l->n; i++) {
        const struct cfg_change_set *set = &l->sets[i];
        json_t *changes = json_array();
        for (size_t j = 0; j < set->n; j++) {
            const struct cfg_change *c = &set->changes[j];
            json_array_append_new(changes, json_pack("{s:s, s:s, s:s}", "key", c->key, "value",
                                                     c->value, "config_file",
                                                     c->config_file ? c->config_file : auto_path));
        }
        json_array_append_new(
            root, json_pack("{s:s, s:o}", "section", set->section, "changes_set", changes));
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    sb_append(out, text);
    free(text);
    json_decref(root);
}
