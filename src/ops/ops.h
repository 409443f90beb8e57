/*
 * ops.h - the commands, one op each: a request struct and an entry point.
 *
 * Every op takes the op context (configuration + sink), its request, and
 * an error to fill. It reports through the sink and returns 0 or a negative
 * cel_code; the front end turns that into the exit status. Ops never print.
 */
#ifndef CEL_OPS_H
#define CEL_OPS_H

#include "sink.h"

struct op_list_server_req {
    bool minimal; /* names only */
};
int op_list_server(const struct op_ctx *ctx, const struct op_list_server_req *req,
                   struct cel_err *err);

struct op_show_server_req {
    const char *server; /* a name or "all" */
    bool no_connect;    /* do not query PostgreSQL */
};
int op_show_server(const struct op_ctx *ctx, const struct op_show_server_req *req,
                   struct cel_err *err);

struct op_list_backup_req {
    const char *server; /* a name or "all" */
    bool minimal;       /* IDs only */
};
int op_list_backup(const struct op_ctx *ctx, const struct op_list_backup_req *req,
                   struct cel_err *err);

struct op_show_backup_req {
    const char *server;
    const char *backup; /* an ID, a shortcut or a backup name */
};
int op_show_backup(const struct op_ctx *ctx, const struct op_show_backup_req *req,
                   struct cel_err *err);

struct op_diagnose_req {
    bool no_connect; /* do not query PostgreSQL */
};
int op_diagnose(const struct op_ctx *ctx, const struct op_diagnose_req *req, struct cel_err *err);

/* ---- helpers shared by ops (server_catalog.c) ---- */

#include "catalog.h"
#include "xlogdb.h"

/* A server's catalogue as ops read it: its backups and its WAL index. */
struct op_catalog {
    struct cat_list list;
    struct xdb xdb;
    bool xdb_loaded;
};

/* Load the backups of s; with_wal also loads xlog.db (under its lock).
 * Backups whose backup.info is unreadable are reported as warnings. */
int op_catalog_load(const struct op_ctx *ctx, const struct cfg_server *s, bool with_wal,
                    struct op_catalog *out, struct cel_err *err);
void op_catalog_free(struct op_catalog *c);
/* WAL statistics of backup i as Barman computes them. */
void op_catalog_wal_info(const struct op_catalog *c, size_t i, struct xdb_wal_info *out);

/* JSON of every backup.info field (null for None), plus backup_id. */
json_t *op_backup_json(const struct cat_backup *b);
/* JSON of a Python literal tree. */
json_t *op_py_json(const struct py_value *v);

#endif
