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
    /* The command being run, as cli.c names it ("recover"); NULL when the
     * op is not run for a command (the console's reads). Which servers a
     * command may work on depends on it (server_select.h). */
    const char *command;
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

#endif
