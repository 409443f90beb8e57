/*
 * cloud_catalog.h - the backups of one server in a bucket, as barman-cloud
 * 3.4's CloudBackupCatalog sees them: every "directory" under
 * PATH/SERVER/base/, its backup.info read with the catalogue's parser, its
 * tar objects, its keep annotation (base/ID/annotations/keep); and, when a
 * command needs them, the WAL objects under PATH/SERVER/wals/.
 *
 * The readable backups form a struct cat_list, oldest first, so IDs,
 * latest/oldest and backup names resolve with cat_resolve as for a local
 * server. A backup.info that cannot be fetched or parsed is left out with
 * a warning through the op's sink and its ID kept in `unreadable`, as
 * barman-cloud does ("Unable to open backup.info file for ID: why"); a
 * directory with no backup.info is no backup at all and is skipped quietly.
 */
#ifndef CEL_CLOUD_CATALOG_H
#define CEL_CLOUD_CATALOG_H

#include "catalog.h"
#include "cloud_layout.h"
#include "retention_policy.h"
#include "cloud_target.h"
#include "ops.h"
#include "sink.h"

/* One tar object of a backup. */
struct cloud_file {
    char *key;
    uint32_t oid; /* 0: PGDATA (data.tar) */
    unsigned part;
    enum cloud_comp comp;
    uint64_t size;
};

/* What the bucket holds of one readable backup (list.items[i]). */
struct cloud_backup_objs {
    char keep[32];            /* the keep annotation ("full", "standalone"), "" for none */
    struct cloud_file *files; /* by OID (PGDATA first), then part */
    size_t n_files;
    char *info_key; /* PATH/SERVER/base/ID/backup.info */
};

struct cloud_catalog {
    struct cat_list list;            /* readable backups, oldest first */
    struct cloud_backup_objs *objs;  /* parallel to list.items */
    char **unreadable;               /* IDs whose backup.info could not be read */
    size_t n_unreadable;
};

/* Open the store of a cloud-* request (the bucket must answer) and load
 * its catalogue: 0 with *t and *cat open (free with cloud_catalog_free and
 * cloud_target_close); 1 when the request is only barman-cloud's -t and the
 * store answered (nothing left open); or the error, nothing left open. A
 * missing bucket is -CEL_E_NOT_FOUND "bucket 'B' does not exist", as
 * barman-cloud says. */
int cloud_catalog_open(const struct op_ctx *ctx, const struct op_cloud_store *s,
                       struct cloud_target *t, struct cloud_catalog *cat, struct cel_err *err);

/* Load the catalogue of t's server: one listing of base/ (all pages), then
 * one GET per backup.info and per keep annotation. Warnings go to ctx's
 * sink. Errors: the listing's (CEL_E_CLOUD with the store's refusal,
 * CEL_E_NOT_FOUND for a missing bucket, CEL_E_IO when unreachable). Free
 * with cloud_catalog_free. Blocks. */
int cloud_catalog_load(const struct op_ctx *ctx, struct cloud_target *t,
                       struct cloud_catalog *out, struct cel_err *err);
void cloud_catalog_free(struct cloud_catalog *c);
/* Move c's backups into *list (the caller frees it with cat_list_free) and
 * free the rest of c. */
void cloud_catalog_take_list(struct cloud_catalog *c, struct cat_list *list);
/* A keep annotation ("full", "standalone", "") as a retention mark:
 * RET_MARK_KEEP_FULL, RET_MARK_KEEP_STANDALONE or RET_MARK_NONE. */
enum ret_mark cloud_keep_mark(const char *keep);

/* The index of the backup ref names (an ID, latest/last, oldest/first,
 * last-failed or a backup name), as cat_resolve; -CEL_E_NOT_FOUND with a
 * message naming the server otherwise. */
int cloud_catalog_find(const struct cloud_catalog *c, const char *ref, const char *server,
                       struct cel_err *err);

/* Delete from the bucket every backup of cat that policy p (with
 * min_redundancy) makes OBSOLETE, with the WAL no remaining backup needs,
 * by barman-cloud-backup-delete -r's rules (cloud_backup_delete.c); with
 * dry_run only say what would go. gone (room for cat->list.n; may be
 * NULL) gets, per backup of cat, whether it went (or would go). A catalogue with an
 * unreadable backup.info is refused (-CEL_E_FORMAT) and nothing deleted.
 * For cloud-backup-delete -r and a server's copy (cloud_copy.c). */
struct ret_policy;
int cloud_delete_obsolete(const struct op_ctx *ctx, struct cloud_target *t,
                          struct cloud_catalog *cat, const struct ret_policy *p,
                          unsigned min_redundancy, bool dry_run, bool *gone,
                          struct cel_err *err);

/* One WAL object of the server. */
struct cloud_wal {
    char *key;
    char name[WAL_NAME_MAX]; /* without the compression suffix */
    struct wal_name wal;
    enum cloud_comp comp;
    uint64_t size; /* the object's size, compressed */
    double mtime;  /* its LastModified, epoch seconds; 0 when unknown */
};

/* List every WAL object under PATH/SERVER/wals/ (keys that are not WAL
 * files as barman-cloud writes them are left out), in key order. *out is a
 * new array the caller frees with cloud_wals_free. */
int cloud_catalog_wals(struct cloud_target *t, struct cloud_wal **out, size_t *n,
                       struct cel_err *err);
void cloud_wals_free(struct cloud_wal *w, size_t n);

/* The key of backup id's keep annotation: PATH/SERVER/base/ID/annotations/keep
 * (barman-cloud's AnnotationManagerCloud). A new string, or NULL with err for
 * a bad ID. */
char *cloud_keep_key(const struct cloud_target *t, const char *id, struct cel_err *err);

/* Fetch a small object whole into *out (NUL-terminated, caller frees);
 * more than max bytes is -CEL_E_FORMAT. CEL_E_NOT_FOUND when it is absent. */
int cloud_get_small(struct cloud_target *t, const char *key, size_t max, char **out,
                    struct cel_err *err);

/* A backup as barman-cloud 3.4's BackupInfo.to_json gives it: every
 * backup.info field in its order (backup_name and snapshots_info only when
 * set), backup_label as the Python literal the file holds, times in
 * ctime() form, tablespaces as [name, oid, location] lists, then backup_id.
 * A new reference (cloud_backup_json.c). */
json_t *cloud_backup_json(const struct cat_backup *b);
/* Append o as Python's json.dumps writes it (", " and ": " separators,
 * non-ASCII escaped, keys in insertion order) and a newline. */
void cloud_json_text(const json_t *o, struct strbuf *out);

#endif
