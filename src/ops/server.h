/*
 * server.h - a server as the ops find it on disk and on the host: its
 * directories (created, and the paths of its WAL files), its identity, its
 * compression options, and the PostgreSQL tools that read its data
 * directories (server.c).
 */
#ifndef CEL_OPS_SERVER_H
#define CEL_OPS_SERVER_H

#include <stdint.h>

#include "compress.h"
#include "config.h"
#include "error.h"

/* The compression options of server s (they point into s). */
void op_comp_opts(const struct cfg_server *s, struct comp_opts *out);

/* The database system identifier in backup_directory/identity.json (which
 * Barman writes, as cellar's backups will), 0 when there is none. */
uint64_t op_server_sysid(const struct cfg_server *s);
/* Create the server's directories that are missing (incoming, wals,
 * errors, base) with mode 0700. */
int op_server_dirs(const struct cfg_server *s, struct cel_err *err);

/* A PostgreSQL program that Debian keeps out of PATH: tool in
 * /usr/lib/postgresql/<major of version>/bin, else in the newest version
 * installed; NULL when none. Callers try PATH (with path_prefix) first.
 * Caller frees. */
char *op_pg_tool(const char *tool, long version);
/* One line of pg_controldata's report on the data directory data, the text
 * after "field:" ("Database cluster state" -> "in production"), run in the
 * C locale with the pg_controldata of version (op_pg_tool, else PATH with
 * path_prefix); NULL when it cannot be read. Caller frees. */
char *op_controldata_field(const char *data, long version, const char *path_prefix,
                           const char *field);
/* The archived path of a WAL file: wals_directory/<hash dir>/<name>, or
 * wals_directory/<name> for history files. Caller frees. */
char *op_wal_path(const struct cfg_server *s, const char *name);

#endif
