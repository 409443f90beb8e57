/*
 * server.h - a server as the ops find it on disk and on the host: its
 * directories (created, and the paths of its backups and WAL files), its
 * operation locks, its identity, its
 * compression options, and the PostgreSQL tools that read its data
 * directories (server.c).
 */
#ifndef CEL_OPS_SERVER_H
#define CEL_OPS_SERVER_H

#include <stdint.h>
#include <sys/types.h>

#include "compress.h"
#include "config.h"
#include "error.h"
#include "lock.h"
#include "sink.h"
#include "xlogdb.h"

/* Where s's WAL catalogue may be (xlogdb.h), from its configuration; the
 * strings point into cfg and s. */
struct xdb_home op_xdb_home(const struct cfg *cfg, const struct cfg_server *s);

/* The compression options of server s (they point into s). */
void op_comp_opts(const struct cfg_server *s, struct comp_opts *out);

/* The database system identifier in backup_directory/identity.json (which
 * Barman writes, as cellar's backups will), 0 when there is none. */
uint64_t op_server_sysid(const struct cfg_server *s);
/* Create the server's directories that are missing (incoming, wals,
 * errors, base, and streaming with streaming_archiver) with mode 0700. */
int op_server_dirs(const struct cfg_server *s, struct cel_err *err);

/* A PostgreSQL program that Debian keeps out of PATH: tool in
 * /usr/lib/postgresql/<major of version>/bin, else in the newest version
 * installed; NULL when none. Callers try PATH (with path_prefix) first.
 * Caller frees. */
char *op_pg_tool(const char *tool, long version);
/* A PostgreSQL client program found and asked its version, as Barman's
 * PostgreSQLClient.find_command does. */
struct op_pg_tool {
    char *path;         /* as run: a path, or the bare name found in PATH */
    char *version_text; /* its --version line, "pg_receivewal (PostgreSQL) 15.13" */
    long version;       /* major as server_version_num: 150000, 90600; 0 unknown */
};
/* Find tool for a server of version (0: unknown) as op_pg_program does,
 * its version as a major release. 0, or -1 when none answers. Free *out
 * with op_pg_tool_free. Blocks (runs the candidates). */
int op_pg_tool_find(const char *tool, long version, const char *path_prefix,
                    struct op_pg_tool *out);
void op_pg_tool_free(struct op_pg_tool *t);

/* A PostgreSQL client program (pg_basebackup, pg_receivewal) that works:
 * tool in PATH with path_prefix first, as Barman looks for it, else
 * op_pg_tool(tool, server_version). Runs "tool --version": *path gets what
 * ran and *version its version as a server_version_num (150018; 0 when the
 * output cannot be read). Returns 0, or -CEL_E_NOT_FOUND when no copy of
 * tool runs (err says which were tried, with a hint). timeout_ms 0: 10 s.
 * Caller frees *path. */
int op_pg_program(const char *tool, const char *path_prefix, long server_version, int timeout_ms,
                  char **path, long *version, struct cel_err *err);
/* "15.18" for 150018, "9.6.24" for 90624, into out. */
void op_pg_version_text(long version, char out[32]);

/* Tar backups of backup_method = postgres (backup.info compression=gzip,
 * lz4 or zstd): the archives' suffix ("tar.gz", "tar.lz4", "tar.zst");
 * NULL for another compression. cellar reads them with its own
 * decompressors (compress.h) and tar reader (tar_read.h). */
const char *op_tar_suffix(const char *compression);

/* One line of pg_controldata's report on the data directory data, the text
 * after "field:" ("Database cluster state" -> "in production"), run in the
 * C locale with the pg_controldata of version (op_pg_tool, else PATH with
 * path_prefix); NULL when it cannot be read. Caller frees. */
char *op_controldata_field(const char *data, long version, const char *path_prefix,
                           const char *field);
/* The directory of backup id of s, basebackups_directory/<id>, or the path
 * sub inside it when sub is not NULL ("data", "annotations/keep"). The one
 * place a backup's path is built. Caller frees. */
char *op_backup_dir(const struct cfg_server *s, const char *id, const char *sub);

/* A server's operation locks: ".<server>-<op>.lock" in barman_lock_directory,
 * the files and flock(2) locks Barman 3 uses, so cellar and Barman never run
 * the same operation on a server at once. op is "backup", "archive-wal",
 * "cron" or a backup ID (its deletion). */
/* Take s's lock for op. Without wait a lock held elsewhere is -CEL_E_LOCKED
 * naming the holder's PID; with wait this blocks until it is free. Release
 * *out with lock_release. */
int op_server_lock(const struct op_ctx *ctx, const struct cfg_server *s, const char *op,
                   bool wait, struct lock **out, struct cel_err *err);
/* Is s's lock for op held? As lock_probe: 0 free (or no file), 1 held
 * (*holder gets the PID in the file, 0 if unreadable), <0 an error. */
int op_server_lock_probe(const struct op_ctx *ctx, const struct cfg_server *s, const char *op,
                         pid_t *holder, struct cel_err *err);
/* Remove the file of s's lock for op (released), as Barman removes a
 * deleted backup's lock file. */
void op_server_lock_remove(const struct op_ctx *ctx, const struct cfg_server *s, const char *op);

/* The archived path of a WAL file: wals_directory/<hash dir>/<name>, or
 * wals_directory/<name> for history files. Caller frees. */
char *op_wal_path(const struct cfg_server *s, const char *name);

/* Connect to s's primary_conninfo for a standby whose system identifier
 * is standby_sysid, and check the pairing: the server there must be a
 * primary (not in recovery) of the same system. *out is the open
 * connection (the caller closes it); on failure NULL, with err naming what
 * is wrong (-CEL_E_PG: cannot connect; -CEL_E_CONFIG: not a primary, or
 * another system). */
struct pg_conn;
int op_primary_connect(const struct cfg_server *s, const char *standby_sysid,
                       struct pg_conn **out, struct cel_err *err);

#endif
