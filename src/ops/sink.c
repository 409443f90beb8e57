/*
 * sink.c - helpers that build events and send them, shared by every op.
 */
#include "sink.h"

void op_emit(const struct op_ctx *ctx, const struct op_event *ev)
{
    if (ctx->sink && ctx->sink->event)
        ctx->sink->event(ctx->sink->ctx, ev);
}

/* Write a phase or log line to the log file and send it to the sink. */
static void report(const struct op_ctx *ctx, enum op_event_kind kind, enum log_level level,
                   const char *server, const char *phase, const char *fmt, va_list ap)
    CEL_PRINTF(6, 0);

static void report(const struct op_ctx *ctx, enum op_event_kind kind, enum log_level level,
                   const char *server, const char *phase, const char *fmt, va_list ap)
{
    char *text = cel_xvasprintf(fmt, ap);
    log_msg(level, "%s%s%s", server ? server : "", server ? ": " : "", text);
    struct op_event ev = {
        .kind = kind, .server = server, .phase = phase, .text = text, .level = level};
    op_emit(ctx, &ev);
    free(text);
}

void op_phase(const struct op_ctx *ctx, const char *server, const char *phase, const char *fmt,
              ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(ctx, OP_EV_PHASE, LOG_INFO, server, phase, fmt, ap);
    va_end(ap);
}

void op_log(const struct op_ctx *ctx, enum log_level level, const char *server, const char *fmt,
            ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(ctx, OP_EV_LOG, level, server, NULL, fmt, ap);
    va_end(ap);
}

void op_progress(const struct op_ctx *ctx, const char *server, const struct op_progress *p)
{
    struct op_event ev = {.kind = OP_EV_PROGRESS, .server = server, .progress = *p};
    op_emit(ctx, &ev);
}

void op_result(const struct op_ctx *ctx, const struct op_result *result)
{
    struct op_event ev = {.kind = OP_EV_RESULT, .result = result};
    op_emit(ctx, &ev);
}

bool op_cancelled(const struct op_ctx *ctx)
{
    return ctx->cancel && *ctx->cancel;
}
