/*
 * sink.h - how an op reports: a small struct of callbacks.
 *
 * Ops never print and never ask. Everything they want seen (the phase they
 * are in, progress of a copy, log lines and warnings, and their result
 * record) goes to the sink they are given. The batch front end installs a
 * sink that prints text or JSON lines; the console installs one that feeds
 * its model; tests install a recorder. The same op drives all three.
 *
 * Events and the strings in them are valid only during the callback.
 */
#ifndef CEL_OPS_SINK_H
#define CEL_OPS_SINK_H

#include <jansson.h>

#include "config.h"
#include "log.h"
#include "strbuf.h"

enum op_event_kind {
    OP_EV_PHASE,    /* a step starts: phase (short id) and text (for humans) */
    OP_EV_PROGRESS, /* progress of the current step */
    OP_EV_LOG,      /* a log line at level (WARNING and above are warnings) */
    OP_EV_RESULT,   /* a result record */
};

struct op_progress {
    uint64_t bytes_done, bytes_total; /* total 0: unknown */
    uint64_t files_done, files_total;
    double rate;         /* bytes per second, 0 when unknown */
    const char *current; /* file being worked on, may be NULL */
};

/* A result record: a model and the two ways of rendering it. render_text
 * appends the human form (ending with a newline); render_json returns a new
 * JSON value (the caller decrefs). */
struct op_result {
    const char *command; /* "list-backup" */
    const void *model;
    void (*render_text)(const void *model, struct strbuf *out);
    json_t *(*render_json)(const void *model);
};

struct op_event {
    enum op_event_kind kind;
    const char *server; /* the server concerned, NULL if none */
    const char *phase;  /* OP_EV_PHASE */
    const char *text;   /* OP_EV_PHASE, OP_EV_LOG */
    enum log_level level;
    struct op_progress progress;
    const struct op_result *result;
};

struct op_sink {
    void (*event)(void *ctx, const struct op_event *ev);
    void *ctx;
};

/* What every op receives: the loaded configuration and where to report. */
struct op_ctx {
    const struct cfg *cfg;
    const struct op_sink *sink;
    /* Set non-zero (by the front end's SIGINT/SIGTERM handler) to ask a
     * long op to stop: it ends its children, records the failure (a backup
     * becomes FAILED) and returns. NULL: never cancelled. */
    const volatile int *cancel;
};

/* Has the front end asked the op to stop? */
bool op_cancelled(const struct op_ctx *ctx);

void op_emit(const struct op_ctx *ctx, const struct op_event *ev);
void op_phase(const struct op_ctx *ctx, const char *server, const char *phase, const char *fmt,
              ...) CEL_PRINTF(4, 5);
/* Write a line to the log file and report it to the sink. */
void op_log(const struct op_ctx *ctx, enum log_level level, const char *server, const char *fmt,
            ...) CEL_PRINTF(4, 5);
void op_progress(const struct op_ctx *ctx, const char *server, const struct op_progress *p);
void op_result(const struct op_ctx *ctx, const struct op_result *result);

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
 * catalogue (show-backup, list-files), OP_SERVERS_ACTIVE for the others. */
int op_one_server(const struct op_ctx *ctx, const char *arg, const char *command,
                  const struct cfg_server **out, struct cel_err *err);

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
