/*
 * cloud_copy.h - a configured server's copy in its cloud_destination
 * (`cellar cloud-upload SERVER`, and cron): what the upload jobs share.
 *
 * Three jobs, one file each, run in this order by cloud_copy.c:
 *   cloud_copy_wal.c     every archived WAL file xlog.db lists and the
 *                        bucket lacks, its bytes as stored (already
 *                        compressed by the server's `compression`);
 *   cloud_copy_backup.c  every DONE backup the bucket lacks, as
 *                        barman-cloud-backup lays one out, backup.info
 *                        last;
 *   cloud_copy.c         the server's retention_policy on the bucket.
 *
 * How far the copy got is cellar's own state file,
 * <backup_directory>/cloud/upload.state (key=value lines, written durably),
 * so a run with nothing new sends no request at all. Its parser is pure
 * and unit-tested (tests/unit/test_cloud_copy_state.c) and fuzzed.
 */
#ifndef CEL_CLOUD_COPY_H
#define CEL_CLOUD_COPY_H

#include "cloud_target.h"
#include "config.h"
#include "ops.h"
#include "wal.h"

/* A sorted set of backup IDs. */
struct cloud_ids {
    char **v;
    size_t n;
};
/* Whether id is in ids; add and remove keep the set sorted. */
bool cloud_ids_has(const struct cloud_ids *ids, const char *id);
void cloud_ids_add(struct cloud_ids *ids, const char *id);
void cloud_ids_remove(struct cloud_ids *ids, const char *id);
void cloud_ids_free(struct cloud_ids *ids);

/* The state file's contents. */
struct cloud_copy_state {
    char *destination;   /* cloud_destination it describes */
    char *server_name;   /* the SERVER folder in the bucket */
    char *endpoint;      /* cloud_endpoint_url, "" for AWS */
    char wal_upto[WAL_NAME_MAX]; /* every xlog.db entry named up to this one is in
                                  * the bucket; "" when none yet */
    uint64_t wal_count;  /* how many xlog.db entries were named up to wal_upto then */
    struct cloud_ids backups; /* the backups stored DONE in the bucket */
    struct cloud_ids retired; /* deleted from the bucket by its retention: never
                               * uploaded again (kept while they are local) */
    double last_upload;  /* end of the last run that failed nothing (epoch), 0: never */
    double last_attempt; /* end of the last run, 0: never */
    double last_retention; /* the last retention run on the bucket, 0: never */
    char *last_error;    /* the last run's error, NULL when it succeeded */
};

/* Parse the state file's text (len bytes; name for messages). Unknown keys
 * are ignored (a later cellar may add some); a line that is not key=value,
 * a bad number, WAL name or backup ID is -CEL_E_FORMAT naming the line.
 * Free with cloud_copy_state_free. */
int cloud_copy_state_parse(const char *text, size_t len, const char *name,
                           struct cloud_copy_state *out, struct cel_err *err);
void cloud_copy_state_format(const struct cloud_copy_state *st, struct strbuf *out);
void cloud_copy_state_free(struct cloud_copy_state *st);

/* <backup_directory>/cloud/upload.state. Caller frees. */
char *cloud_copy_state_path(const struct cfg_server *s);
/* Read s's state: a missing file is 0 with *out empty (and *found false).
 * An unreadable or damaged one is an error (the caller reconciles). */
int cloud_copy_state_load(const struct cfg_server *s, struct cloud_copy_state *out, bool *found,
                          struct cel_err *err);
/* Write it durably (temp, fsync, rename, directory fsync), 0600. */
int cloud_copy_state_save(const struct cfg_server *s, const struct cloud_copy_state *st,
                          struct cel_err *err);
/* Does st describe the copy in t (same destination, server folder and
 * endpoint)? When not, the copy is reconciled with one listing. */
bool cloud_copy_state_matches(const struct cloud_copy_state *st, const struct cfg_server *s);
/* Set st's destination, server folder and endpoint to s's. */
void cloud_copy_state_bind(struct cloud_copy_state *st, const struct cfg_server *s);

/* One run's shared context. */
struct cloud_copy {
    const struct op_ctx *ctx;
    const struct cfg_server *s;
    struct cloud_target t;
    struct cloud_copy_state st;
    bool dry_run;
    bool reconcile; /* the state did not match: list the bucket once */
    /* what the run did (or, dry, would do) */
    size_t wals, wal_waiting, backups, backups_waiting, deleted;
    uint64_t bytes;
};

/* Upload the WAL files the bucket lacks (cloud_copy_wal.c), saving the
 * state as it goes. */
int cloud_copy_wals(struct cloud_copy *c, struct cel_err *err);
/* Upload the DONE backups the bucket lacks (cloud_copy_backup.c). */
int cloud_copy_backups(struct cloud_copy *c, struct cel_err *err);
/* How many local DONE backups and xlog.db entries wait for upload by st,
 * without any request (for check and show-server). */
int cloud_copy_waiting(const struct op_ctx *ctx, const struct cfg_server *s,
                       const struct cloud_copy_state *st, size_t *wals, size_t *backups,
                       struct cel_err *err);

/* Map an xlog.db compression field to the object suffix barman-cloud
 * uses; custom (and an unknown name) is -CEL_E_INVALID: barman-cloud
 * cannot read such files. */
int cloud_copy_wal_comp(const struct cfg_server *s, const char *xdb_compression,
                        enum cloud_comp *out, struct cel_err *err);

#endif
