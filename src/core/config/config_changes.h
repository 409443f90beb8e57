/*
 * config_changes.h - config-update's changes (Barman 3.10), applied to
 * Barman's <barman_home>/.barman.auto.conf.
 *
 * A change set names a section (a server or a configuration model) and
 * the options to set there. The command's JSON argument and Barman's queue
 * file are parsed into these by the front end's edge (ops/config_changes.c,
 * which has the JSON library); this module checks them against the
 * configuration and the option table, edits the auto file's text as
 * Barman's edit_config does, and proves the result by loading the whole
 * configuration with it: a value is parsed by the loader's own per-option
 * parser, never by a second one here.
 */
#ifndef CEL_CONFIG_CHANGES_H
#define CEL_CONFIG_CHANGES_H

#include "config.h"

enum cfg_change_scope {
    CFG_CHANGE_SERVER, /* "scope": "server" */
    CFG_CHANGE_MODEL,  /* "scope": "model" */
    CFG_CHANGE_QUEUED, /* read back from the queue, which records no scope */
};

struct cfg_change {
    const char *key;   /* an option name, lower case */
    const char *value; /* one line: no newline, no NUL */
    /* the file Barman's queue names for it (NULL: none recorded); cellar
     * writes every change to .barman.auto.conf whatever this says */
    const char *config_file;
};

struct cfg_change_set {
    enum cfg_change_scope scope;
    const char *section;
    struct cfg_change *changes;
    size_t n;
};

struct cfg_change_list {
    struct cfg_change_set *sets;
    size_t n;
    struct arena *arena; /* owns every string and array above */
};

/* An empty list with its own arena; free with cfg_change_list_free. */
void cfg_change_list_init(struct cfg_change_list *l);
void cfg_change_list_free(struct cfg_change_list *l);
/* Append a set for section (copied) and return it, to fill with
 * cfg_change_add. */
struct cfg_change_set *cfg_change_set_add(struct cfg_change_list *l, enum cfg_change_scope scope,
                                          const char *section);
/* Append key = value (copied) to set, replacing an earlier value of key.
 * set belongs to l. */
void cfg_change_add(struct cfg_change_list *l, struct cfg_change_set *set, const char *key,
                    const char *value, const char *config_file);

/* Check set against cfg as Barman's _validate_section does, before anything
 * is queued: the section's name, the scope (a server that is a model, a
 * model that is a server: refused), a new model must set cluster (and gets
 * model = on), every key is an option the scope may set. A server must
 * exist (Barman would create it). set may get model = on added. Returns 0
 * or -CEL_E_INVALID / -CEL_E_NOT_FOUND with Barman's message. */
int cfg_change_set_check(const struct cfg *cfg, struct cfg_change_list *l,
                         struct cfg_change_set *set, struct cel_err *err);

/* Set key = value in section of the INI text in *text, as Barman's
 * edit_config: the key's line in the section is replaced, or the line is
 * added at the end of the section, or the section is appended. */
void cfg_auto_text_set(struct strbuf *text, const char *section, const char *key,
                       const char *value);

/* Apply every set of l to the current text of .barman.auto.conf (auto_text,
 * "" when there is none) into *out, then load cfg's file with it: a change
 * that makes the configuration worse (a problem in the auto file that was
 * not there, a global error, a changed server disabled) is refused with
 * the loader's message, naming file, line and option. Nothing is written.
 * Returns 0 or -CEL_E_CONFIG. */
int cfg_changes_try(const struct cfg *cfg, const struct cfg_change_list *l, const char *auto_text,
                    struct strbuf *out, struct cel_err *err);

#endif
