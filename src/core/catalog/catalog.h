/*
 * catalog.h - the backup catalogue: backup.info files and the list of a
 * server's backups, in Barman 3's format.
 *
 * A backup lives in <basebackups_directory>/<backup_id>/ and is described by
 * backup.info, a key=value file that Barman 3 reads and writes (see
 * shared/reference/barman-format.md section 2). cellar reads every form
 * Barman writes, keeps keys it does not know so a rewrite loses nothing, and
 * writes exactly Barman 3's layout: the 27 base keys in alphabetical order,
 * backup_name and snapshots_info only when set, "None" for nulls (and, as
 * Barman's null_repr, for an empty label, list or dict), Python literals for
 * tablespaces, backup_label, copy_stats and included_files.
 * Barman aborts on a key it does not know, so cellar never adds one: its own
 * metadata goes into cellar.info beside backup.info.
 *
 * The backup ID is the name of the directory, not a field of the file.
 */
#ifndef CEL_CATALOG_H
#define CEL_CATALOG_H

#include "error.h"
#include "pyval.h"
#include "strbuf.h"
#include "ts.h"

enum cat_status {
    CAT_EMPTY,
    CAT_STARTED,
    CAT_WAITING_FOR_WALS,
    CAT_DONE,
    CAT_FAILED,
    CAT_SYNCING,
};

/* A nullable integer and time: set is false for "None" or a missing key. */
struct cat_int {
    bool set;
    int64_t v;
};
struct cat_time {
    bool set;
    struct ts t;
};

struct cat_tablespace {
    char *name;
    int64_t oid;
    char *location;
};

/* A key of backup.info cellar does not know, kept verbatim. */
struct cat_extra {
    char *key;
    char *value;
};

struct cat_backup {
    char *id; /* directory name under base/; NULL until set */

    /* backup.info: every Barman 3 key; NULL / !set means None */
    char *backup_label; /* the decoded text */
    char *backup_name;
    struct cat_int begin_offset;
    struct cat_time begin_time;
    char *begin_wal;
    char *begin_xlog;
    char *compression;
    char *config_file;
    struct py_value *copy_stats;
    struct cat_int deduplicated_size;
    struct cat_int end_offset;
    struct cat_time end_time;
    char *end_wal;
    char *end_xlog;
    char *error;
    char *hba_file;
    char *ident_file;
    struct py_value *included_files;
    char *mode;
    char *pgdata;
    char *server_name;
    struct cat_int size;
    struct py_value *snapshots_info;
    enum cat_status status;
    char *systemid;
    struct cat_tablespace *tablespaces; /* NULL and 0 for None */
    size_t n_tablespaces;
    struct cat_int timeline;
    struct cat_int version;
    struct cat_int xlog_segment_size;

    struct cat_extra *extra; /* unknown keys, in file order */
    size_t n_extra;
};

/* The value of a key cellar keeps verbatim (struct cat_extra): Barman's
 * newer keys (3.11: cluster_size, data_checksums, summarize_wal,
 * parent_backup_id, children_backup_ids; 3.14: encryption) among them.
 * NULL when the key is absent or "None"; borrowed from b. */
const char *cat_extra_get(const struct cat_backup *b, const char *key);
/* Set key to value (a copy) among b's kept keys, replacing its value when
 * it is there: how cellar writes a newer key it does not model, such as
 * 3.14's encryption. */
void cat_extra_set(struct cat_backup *b, const char *key, const char *value);
/* Was b written by a Barman that knows 3.11's keys (any of them present,
 * None or not)? Barman >= 3.11 writes them all. */
bool cat_has_newer_keys(const struct cat_backup *b);

/* "DONE", "WAITING_FOR_WALS", ... */
const char *cat_status_name(enum cat_status status);
/* Parse a status word (case-sensitive, as Barman). 0 or -CEL_E_INVALID. */
int cat_status_parse(const char *text, enum cat_status *out, struct cel_err *err);
/* WAITING_FOR_WALS or DONE: the copy is complete ("copy done" in Barman). */
bool cat_status_copy_done(enum cat_status status);

/* Parse backup.info text into b (zeroed first; b->id untouched). name is
 * used in messages. Rules: blank and '#' lines skipped; key and value split
 * at the first '=' and stripped; "None" is null; later keys win. Errors are
 * -CEL_E_FORMAT naming the line and key: a line without '=', a bad integer,
 * time, WAL name, status or Python literal, an xlog_segment_size that is
 * not a power of two from 1 MiB to 1 GiB. A missing status is EMPTY, a
 * missing xlog_segment_size 16 MiB, as in Barman: so a parsed backup's
 * xlog_segment_size is always set and valid, and readers use it as is. */
int cat_info_parse(const char *text, const char *name, struct cat_backup *b,
                   struct cel_err *err);
/* Read dir/backup.info (at most 1 MiB). A NUL byte in the file is
 * -CEL_E_FORMAT naming its line; otherwise as cat_info_parse. */
int cat_info_read(const char *dir, struct cat_backup *b, struct cel_err *err);
/* Append b as Barman 3 writes backup.info. */
void cat_info_format(const struct cat_backup *b, struct strbuf *out);
/* Write dir/backup.info durably (temp, fsync, rename, dir fsync), mode 0600. */
int cat_info_write(const char *dir, const struct cat_backup *b, struct cel_err *err);
/* Free every member of b and zero it (b itself is the caller's). */
void cat_backup_clear(struct cat_backup *b);

/* A server's backups, oldest first (IDs in string order, as Barman sorts
 * them). A backup whose backup.info cannot be read is kept with
 * failed[i] set and its error in errors[i], so listings can show it. */
struct cat_list {
    struct cat_backup *items;
    struct cel_err *errors;
    bool *failed;
    size_t n;
};

/* Load every <basebackups_dir>/<id>/backup.info. A missing directory is an
 * empty list; an unreadable one is -CEL_E_IO. Free with cat_list_free(). */
int cat_list_load(const char *basebackups_dir, struct cat_list *out, struct cel_err *err);
void cat_list_free(struct cat_list *list);

/* Find a backup by reference, as Barman's parse_backup_id does:
 *   latest, last    the newest WAITING_FOR_WALS or DONE backup
 *   oldest, first   the oldest WAITING_FOR_WALS or DONE backup
 *   last-failed     the newest FAILED backup
 *   an ID           that backup, whatever its status
 *   anything else   the WAITING_FOR_WALS or DONE backup with that name
 * Returns the index in list, or -CEL_E_NOT_FOUND / -CEL_E_INVALID (a name
 * shared by several backups) with a message. */
int cat_resolve(const struct cat_list *list, const char *ref, const char *server,
                struct cel_err *err);
/* Index of the previous / next WAITING_FOR_WALS or DONE backup of list[i],
 * -1 when there is none. */
int cat_previous(const struct cat_list *list, size_t i);
int cat_next(const struct cat_list *list, size_t i);

/* Name rules of backup --name: not empty, not an ID, not a shortcut.
 * 0 or -CEL_E_INVALID. */
int cat_check_backup_name(const char *name, struct cel_err *err);

#endif
