/*
 * config_update_json.h - config-update's JSON, both ways: the command's
 * argument and Barman's queue file (config_changes_queue), parsed once into
 * the typed struct cfg_change_list (core/config/config_changes.h), and the
 * queue written back in Barman's shape.
 *
 * The argument (Barman's config-update STRING) is a JSON array of objects,
 * each with "scope" ("server" or "model"), "server_name" or "model_name"
 * as the scope says, and the options to set:
 *   [{"scope": "server", "server_name": "pg", "archiver": "on"}]
 * The queue is what Barman's ConfigChangesQueue writes:
 *   [{"section": "pg", "changes_set": [{"key": "archiver", "value": "on",
 *     "config_file": "/var/lib/barman/.barman.auto.conf"}]}]
 */
#ifndef CEL_OPS_CONFIG_UPDATE_JSON_H
#define CEL_OPS_CONFIG_UPDATE_JSON_H

#include "config_changes.h"

/* Parse config-update's argument (len bytes, need not be NUL-terminated)
 * into out, which the caller has initialised. An option's value is a JSON
 * string, a whole number or true/false (written as the text Barman's
 * parsers read); null, arrays, objects and text with a newline or NUL are
 * refused. Returns 0 or -CEL_E_USAGE naming what is wrong (and where: the
 * document's index, the key). out may hold the sets parsed before an error;
 * the caller frees it either way. */
int config_update_parse_arg(const char *json, size_t len, struct cfg_change_list *out,
                            struct cel_err *err);
/* Parse Barman's queue file's text into out (scope CFG_CHANGE_QUEUED).
 * Empty text (only blanks) is an empty queue. A queue not in Barman's shape
 * is -CEL_E_FORMAT: it is not dropped, so nothing queued is lost. */
int config_update_parse_queue(const char *text, size_t len, struct cfg_change_list *out,
                              struct cel_err *err);
/* Append l in the queue's shape (Barman's json.dump, indent 2) to out; an
 * empty list is "[]". Each change's config_file is the one recorded, or
 * auto_path when it has none. */
void config_update_queue_json(const struct cfg_change_list *l, const char *auto_path,
                              struct strbuf *out);

#endif
