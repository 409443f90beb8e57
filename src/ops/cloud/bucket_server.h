/*
 * bucket_server.h - a server that is a bucket (cloud_source = s3://B[/P]):
 * no PostgreSQL connection and no local catalogue, its backups and WAL
 * those barman-cloud (or cellar cloud-backup and cloud-wal-archive) stored
 * under P/<cloud_server_name>/. The ordinary commands reach it through
 * these few entry points (bucket_server.c), which open the bucket with the
 * server's cloud_endpoint_url and cloud_profile and call the cloud-* ops:
 * its catalogue as an op_catalog (list-backup, show-backup, recover, check,
 * status), a deletion and retention (delete, cron), the restore of a
 * backup's tar objects and the restore_command of a recovery. Which
 * commands serve a bucket server is server_select.h's rule.
 */
#ifndef CEL_OPS_BUCKET_SERVER_H
#define CEL_OPS_BUCKET_SERVER_H

#include "ops.h"

/* The store request of bucket server s: its cloud_source, cloud_server_name,
 * cloud_endpoint_url and cloud_profile (strings stay the configuration's). */
void op_bucket_store(const struct cfg_server *s, struct op_cloud_store *out);

/* s's catalogue read from its bucket (one listing of base/, one GET per
 * backup.info and keep annotation; with_wal, one listing of wals/ into
 * out->xdb: each WAL object's name, stored size, LastModified as its time
 * and compression). out->keep gets each backup's keep annotation. A
 * backup.info that cannot be read is left out with a warning, as
 * barman-cloud does. Errors are the store's (the bucket missing, the
 * credentials refused: the hint names the access key ID and where it came
 * from, never the secret), prefixed with the server's name. Free with
 * op_catalog_free. Blocks. */
int op_bucket_catalog_load(const struct op_ctx *ctx, const struct cfg_server *s, bool with_wal,
                           struct op_catalog *out, struct cel_err *err);

/* delete SERVER ID on a bucket server: barman-cloud-backup-delete -b ID
 * (op_cloud_backup_delete): the backup's objects and the WAL no remaining
 * backup needs; a kept backup is refused. Reports a "delete" result. */
int op_bucket_delete(const struct op_ctx *ctx, const struct cfg_server *s, const char *backup,
                     struct cel_err *err);

/* cron's retention on a bucket server: the backups s's retention_policy
 * makes OBSOLETE (never below minimum_redundancy, never a kept one) go, as
 * barman-cloud-backup-delete -r POLICY -m minimum_redundancy deletes them;
 * sum->ids lists them (dry_run: those that would go, nothing deleted). */
int op_bucket_retention(const struct op_ctx *ctx, const struct cfg_server *s, bool dry_run,
                        struct op_retention_summary *sum, struct cel_err *err);

/* recover's copy on a bucket server: backup id's tar objects streamed into
 * dest and the tablespaces' locations (the "NAME:DIR" relocations), jobs
 * at once (0: 2), as cloud-restore does. Blocks. */
int op_bucket_restore(const struct op_ctx *ctx, const struct cfg_server *s, const char *id,
                      const char *dest, const char *const *tablespaces, size_t n_tablespaces,
                      int jobs, struct cel_err *err);

/* Where a recovery's restore_command spools the WAL it fetches ahead:
 * relative to the recovered data directory, the directory a local
 * recovery's WAL goes to, so its recovery_end_command removes it. */
#define OP_BUCKET_SPOOL "barman_wal"

/* The restore_command of a recovery from s's bucket:
 * `CELLAR cloud-wal-restore --parallel N --spool-directory barman_wal
 * [--endpoint-url E] [--profile P] SOURCE_URL SERVER_NAME %f %p`, every
 * value quoted for the shell and its '%' doubled (rc_restore_command_argv).
 * parallel below 2 is 2. Caller frees. */
char *op_bucket_restore_command(const char *cellar, const struct cfg_server *s, int parallel);

/* get-wal on a bucket server: WAL file name (a segment missing from the
 * bucket is served by its .partial, as barman-cloud-wal-restore does)
 * fetched and decompressed into the file dest, atomically (cloud-wal-restore
 * without fetching ahead). -CEL_E_NOT_FOUND when the bucket does not hold
 * it. Blocks. */
int op_bucket_fetch_wal(const struct op_ctx *ctx, const struct cfg_server *s, const char *name,
                        const char *dest, struct cel_err *err);

#endif
