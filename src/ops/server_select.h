/*
 * server_select.h - which servers a command works on: a SERVER argument
 * (a name or "all") resolved against the configuration, the refusals of
 * disabled and inactive servers, and running an op on each selected server
 * (server_select.c).
 */
#ifndef CEL_OPS_SERVER_SELECT_H
#define CEL_OPS_SERVER_SELECT_H

#include "config.h"
#include "error.h"
#include "sink.h"

/* Which servers a command works on (doc/configuration.md, "Inactive and
 * disabled servers"). The values of false and true are those of the bool
 * this replaced: operations, and the reports that show every server. */
enum op_servers {
    OP_SERVERS_ACTIVE = 0,  /* operations: neither disabled nor inactive */
    OP_SERVERS_ALL = 1,     /* reports (check, show-server, status): every server */
    OP_SERVERS_LISTABLE = 2 /* listings of the catalogue: inactive ones too */
};

/* Resolve a SERVER argument: a name, or "all" for every server. *out is a
 * new array of pointers into ctx->cfg (the caller frees the array). Unless
 * which is OP_SERVERS_ALL, a server disabled by configuration errors is
 * refused when named (-CEL_E_CONFIG) and skipped with an error event under
 * "all" (*skipped counts them). With OP_SERVERS_ACTIVE, an inactive server
 * (active = false) is refused when named (-CEL_E_CONFIG) and left out of
 * "all" with an info event only, the DBA's choice being no error. An
 * unknown name is -CEL_E_NOT_FOUND listing the configured servers. */
int op_select_servers(const struct op_ctx *ctx, const char *arg, enum op_servers which,
                      const struct cfg_server ***out, size_t *n, size_t *skipped,
                      struct cel_err *err);

/* Resolve the SERVER argument of a command that works on exactly one
 * server: "all" is a usage error naming command; otherwise as
 * op_select_servers: OP_SERVERS_LISTABLE for the commands that list the
 * catalogue (show-backup, list-files), OP_SERVERS_ACTIVE for the others.
 * A bucket server is refused unless op_bucket_serves(command). */
int op_one_server(const struct op_ctx *ctx, const char *arg, const char *command,
                  const struct cfg_server **out, struct cel_err *err);

/* Bucket servers (cloud_source, doc/cloud.md "A server that is a bucket")
 * have no PostgreSQL connection and no local catalogue: the one rule of
 * which commands serve them. op_bucket_serves: whether command (its name
 * as cli.c spells it) works on a bucket server; op_bucket_refuse: 0 when s
 * is not a bucket server or command serves it, else -CEL_E_USAGE with
 * "server 'x' is a bucket server (cloud_source = URL): <why>". Reports
 * (check, show-server, status, list-server) and the listings serve them.
 * With OP_SERVERS_ACTIVE, op_select_servers refuses a named bucket server
 * unless ctx->command serves it (NULL: none does) and leaves such servers
 * out of "all" with an info event; op_one_server asks about its command. */
bool op_bucket_serves(const char *command);
int op_bucket_refuse(const struct cfg_server *s, const char *command, struct cel_err *err);

/* Work on one server; err is the caller's to fill on failure. */
typedef int (*op_server_fn)(const struct op_ctx *ctx, const struct cfg_server *s, const void *arg,
                            struct cel_err *err);
/* Run fn on each server arg selects (as op_select_servers). A failing
 * server does not stop the others: the first failure is returned with its
 * error, later ones are reported as ERROR events. When servers were skipped
 * under "all" and nothing failed, the result is -CEL_E_CONFIG. */
int op_each_server(const struct op_ctx *ctx, const char *arg, enum op_servers which,
                   op_server_fn fn, const void *fn_arg, struct cel_err *err);

#endif
