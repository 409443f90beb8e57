/*
 * server_catalog.h - a server's catalogue as ops read it: its backups and
 * its WAL index loaded together, the backup a command names, each backup's
 * retention mark and WAL statistics (server_catalog.c, retention_marks.c).
 */
#ifndef CEL_OPS_SERVER_CATALOG_H
#define CEL_OPS_SERVER_CATALOG_H

#include "catalog.h"
#include "retention_policy.h"
#include "sink.h"
#include "xlogdb.h"

/* A server's catalogue as ops read it: its backups and its WAL index. */
struct op_catalog {
    struct cat_list list;
    struct xdb xdb;
    bool xdb_loaded;
    /* a bucket server's (cloud_source): each backup's keep annotation as
     * the bucket holds it (RET_MARK_NONE, _KEEP_FULL or _KEEP_STANDALONE),
     * parallel to list. For a local server list-backup fills it
     * (op_keep_mark), so that each keep file is read once; elsewhere it is
     * NULL and op_retention_marks reads the keep files itself */
    enum ret_mark *keep;
};

/* Load the backups of s; with_wal also loads xlog.db (under its lock).
 * Backups whose backup.info is unreadable are reported as warnings. A
 * bucket server's catalogue is read from its bucket (bucket_server.h):
 * xdb then lists the WAL objects there (size as stored, LastModified as
 * the time). */
int op_catalog_load(const struct op_ctx *ctx, const struct cfg_server *s, bool with_wal,
                    struct op_catalog *out, struct cel_err *err);
void op_catalog_free(struct op_catalog *c);
/* The WAL of the backups of scans (each filled by op_catalog_scan_of) as
 * op_catalog_wal_info counts it, into scans[k].info, for a catalogue
 * loaded with or without its WAL: without, one streaming pass over xlog.db
 * (xdb_scan_wal_info; first/last then point into scans), or where that
 * cannot answer, the index loaded into c (which repairs a last line cut
 * short; first/last then point into c). Returns 0 or the load's error. */
int op_catalog_wal_scan(const struct op_ctx *ctx, const struct cfg_server *s,
                        struct op_catalog *c, struct xdb_wal_scan *scans, size_t n,
                        struct cel_err *err);
/* Backup i of c and the end of its WAL range (the next backup's end_wal). */
void op_catalog_scan_of(const struct op_catalog *c, size_t i, struct xdb_wal_scan *out);
/* The commands about one backup (show-backup, list-files, delete,
 * verify-backup): resolve SERVER (as op_one_server) and the backup
 * reference (an ID, name or shortcut) in its catalogue. Returns the index
 * of the backup in cat (then free cat with op_catalog_free), or a negative
 * code with err set and nothing to free (an unreadable backup.info too). */
int op_backup_open(const struct op_ctx *ctx, const char *server, const char *backup,
                   const char *command, bool with_wal, const struct cfg_server **s,
                   struct op_catalog *cat, struct cel_err *err);
/* Backup id's keep as a retention mark: RET_MARK_NONE, _KEEP_FULL or
 * _KEEP_STANDALONE; an unreadable annotation warns and counts as KEEP:FULL,
 * the safe side. */
enum ret_mark op_keep_mark(const struct op_ctx *ctx, const struct cfg_server *s, const char *id);

/* The retention mark of every backup of cat (a server's catalogue, oldest
 * first) under s's retention_policy and minimum_redundancy, now: marks[i]
 * for cat->list.items[i] (cat->list.n of them). All RET_MARK_NONE without a
 * policy; unreadable and non-DONE backups are RET_MARK_NONE. Reads each DONE
 * backup's keep annotation (cat->keep for a bucket server; an unreadable
 * file is reported as a warning and counts as KEEP:FULL). Logs Barman's
 * warning when minimum_redundancy raises a REDUNDANCY policy.
 * retention_marks.c */
void op_retention_marks(const struct op_ctx *ctx, const struct cfg_server *s,
                        const struct op_catalog *cat, enum ret_mark *marks);
/* WAL statistics of backup i as Barman computes them. */
void op_catalog_wal_info(const struct op_catalog *c, size_t i, struct xdb_wal_info *out);

#endif
