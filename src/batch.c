/*
 * batch.c - rendering op events for the terminal or as JSON lines.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "batch.h"
#include "fmt.h"

void batch_init(struct batch *b, enum batch_format format, bool quiet, bool debug,
                bool batch_mode)
{
    memset(b, 0, sizeof *b);
    b->format = format;
    b->quiet = quiet;
    b->debug = debug;
    b->batch_mode = batch_mode;
    b->out = stdout;
    b->err = stderr;
    b->out_is_tty = isatty(fileno(stdout)) != 0;
}

/* Length of the valid UTF-8 sequence at p, 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n;
    uint32_t c, min;
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2, c = p[0] & 0x1Fu, min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3, c = p[0] & 0x0Fu, min = 0x800;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4, c = p[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        c = c << 6 | (p[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return n;
}

/* s as a JSON string, NULL for NULL. jansson refuses text that is not
 * UTF-8 (a path in another encoding), which would lose the whole line, even
 * the final "end" one: such bytes become U+FFFD. */
static json_t *json_text(const char *s)
{
    if (!s)
        return NULL;
    json_t *j = json_string(s);
    if (j)
        return j;
    struct strbuf clean = {0};
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_len(p);
        if (n) {
            sb_appendn(&clean, (const char *)p, n);
            p += n;
        } else {
            sb_append(&clean, "\xEF\xBF\xBD");
            p++;
        }
    }
    j = json_string(sb_str(&clean));
    sb_free(&clean);
    return j;
}

/* Flush the output, keeping the first error: the stream forgets it once
 * the lost bytes are dropped. */
static void flush_out(struct batch *b)
{
    errno = 0;
    if (fflush(b->out) != 0 && !b->out_errno)
        b->out_errno = errno ? errno : EIO;
}

/* Print one JSON object as a line and flush, so a reader sees it at once. */
static void json_line(struct batch *b, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (text) {
        fputs(text, b->out);
        fputc('\n', b->out);
        flush_out(b);
        free(text);
    }
    json_decref(o);
}

/* Remove a progress bar from the screen before printing anything else. */
static void clear_progress(struct batch *b)
{
    if (b->progress_line) {
        fputs("\r\033[K", b->out);
        b->progress_line = false;
    }
}

/* Keep an error printed as it happened (its server, "" for none, and its
 * text): it is not printed again, neither as the final error (a
 * configuration error is both a diagnostic and the reason loading failed; a
 * backup reports its failure as it happens) nor as a later log line (backup
 * all logs each server's error after that server has reported it). */
static void remember_error(struct batch *b, const char *server, const char *text)
{
    b->said = cel_xrealloc_array(b->said, b->n_said + 1, sizeof *b->said);
    b->said[b->n_said].server = cel_xstrdup(server ? server : "");
    b->said[b->n_said++].text = cel_xstrdup(text);
}

/* Whether text was printed already as an error of server (NULL: of any
 * server). An op's error that filled struct cel_err's buffer was cut: it
 * counts when a printed text starts with it. */
static bool already_said(const struct batch *b, const char *server, const char *text)
{
    size_t len = strlen(text);
    bool cut = len + 1 == sizeof((struct cel_err *)NULL)->msg;
    for (size_t i = 0; i < b->n_said; i++) {
        const struct batch_said *s = &b->said[i];
        if (server && strcmp(s->server, server) != 0)
            continue;
        if (cut ? strncmp(s->text, text, len) == 0 : strcmp(s->text, text) == 0)
            return true;
    }
    return false;
}

static void text_progress(struct batch *b, const struct op_event *ev)
{
    if (b->quiet || b->batch_mode || !b->out_is_tty)
        return;
    const struct op_progress *p = &ev->progress;
    struct strbuf line = {0};
    if (p->bytes_total) {
        double frac = (double)p->bytes_done / (double)p->bytes_total;
        if (frac > 1)
            frac = 1;
        int filled = (int)(frac * 20);
        sb_appendc(&line, '[');
        sb_pad(&line, '#', (size_t)filled);
        sb_pad(&line, ' ', (size_t)(20 - filled));
        sb_appendf(&line, "] %3.0f%% ", frac * 100);
    }
    fmt_size((double)p->bytes_done, &line);
    if (p->bytes_total) {
        sb_append(&line, " of ");
        fmt_size((double)p->bytes_total, &line);
    }
    if (p->rate > 0) {
        sb_append(&line, ", ");
        fmt_size(p->rate, &line);
        sb_append(&line, "/s");
        double eta = (double)(p->bytes_total - p->bytes_done) / p->rate;
        /* converting an ETA beyond int to int is undefined: leave it out */
        if (p->bytes_total > p->bytes_done && eta < (double)INT_MAX)
            sb_appendf(&line, ", ETA %d:%02d", (int)eta / 60, (int)eta % 60);
    }
    if (p->current)
        sb_appendf(&line, "  %.40s", p->current);
    fprintf(b->out, "\r\033[K%s", sb_str(&line));
    flush_out(b);
    b->progress_line = true;
    sb_free(&line);
}

static void text_event(struct batch *b, const struct op_event *ev)
{
    switch (ev->kind) {
    case OP_EV_PROGRESS:
        text_progress(b, ev);
        return;
    case OP_EV_PHASE:
        if (b->quiet)
            return;
        clear_progress(b);
        fprintf(b->out, "%s\n", ev->text);
        flush_out(b);
        return;
    case OP_EV_LOG: {
        if (ev->level < LOG_WARNING && (b->quiet || (ev->level == LOG_DEBUG && !b->debug)))
            return;
        if (ev->level == LOG_WARNING && b->quiet)
            return;
        if (ev->level >= LOG_ERROR && already_said(b, ev->server ? ev->server : "", ev->text))
            return;
        clear_progress(b);
        FILE *f = ev->level >= LOG_WARNING || ev->level == LOG_DEBUG ? b->err : b->out;
        if (ev->level == LOG_INFO)
            fprintf(f, "%s%s%s\n", ev->server ? ev->server : "", ev->server ? ": " : "",
                    ev->text);
        else
            fprintf(f, "%s: %s%s%s\n", log_level_name(ev->level), ev->server ? ev->server : "",
                    ev->server ? ": " : "", ev->text);
        if (f == b->out)
            flush_out(b);
        else if (ev->level >= LOG_ERROR)
            remember_error(b, ev->server, ev->text);
        return;
    }
    case OP_EV_RESULT: {
        if (b->quiet)
            return;
        clear_progress(b);
        struct strbuf text = {0};
        ev->result->render_text(ev->result->model, &text);
        fputs(sb_str(&text), b->out);
        flush_out(b);
        sb_free(&text);
        return;
    }
    }
}

static void json_event(struct batch *b, const struct op_event *ev)
{
    json_t *o = NULL;
    switch (ev->kind) {
    case OP_EV_PHASE:
        o = json_pack("{s:s, s:o?, s:o?, s:o?}", "event", "phase", "server",
                      json_text(ev->server), "phase", json_text(ev->phase), "text",
                      json_text(ev->text));
        break;
    case OP_EV_PROGRESS: {
        const struct op_progress *p = &ev->progress;
        o = json_pack("{s:s, s:o?, s:I, s:I, s:I, s:I, s:f, s:o?}", "event", "progress", "server",
                      json_text(ev->server), "bytes_done", (json_int_t)p->bytes_done,
                      "bytes_total", (json_int_t)p->bytes_total, "files_done",
                      (json_int_t)p->files_done, "files_total", (json_int_t)p->files_total,
                      "rate", p->rate, "current", json_text(p->current));
        break;
    }
    case OP_EV_LOG:
        if (ev->level == LOG_DEBUG && !b->debug)
            return;
        o = json_pack("{s:s, s:s, s:o?, s:o?}", "event", "log", "level",
                      log_level_name(ev->level), "server", json_text(ev->server), "text",
                      json_text(ev->text));
        break;
    case OP_EV_RESULT:
        o = json_pack("{s:s, s:s, s:o}", "event", "result", "command", ev->result->command,
                      "data", ev->result->render_json(ev->result->model));
        break;
    }
    if (o)
        json_line(b, o);
}

void batch_event(void *ctx, const struct op_event *ev)
{
    struct batch *b = ctx;
    if (b->format == BATCH_JSON)
        json_event(b, ev);
    else
        text_event(b, ev);
}

void batch_report_config(struct batch *b, const struct cfg *cfg)
{
    for (size_t i = 0; i < cfg->n_diags; i++) {
        const struct cfg_diag *d = &cfg->diags[i];
        if (d->level == CFG_NOTE)
            continue;
        struct op_event ev = {.kind = OP_EV_LOG,
                              .level = d->level == CFG_ERROR ? LOG_ERROR : LOG_WARNING,
                              .server = NULL,
                              .text = d->text};
        batch_event(b, &ev);
    }
}

/* Flush the output; if anything written to it was lost (a full disk, a
 * closed pipe), say so on stderr and return the failed exit status, else
 * status unchanged: a report cut short must not look like success. */
static int check_output(struct batch *b, int status)
{
    flush_out(b);
    if (!b->out_errno && !ferror(b->out))
        return status;
    if (b->out_errno)
        fprintf(b->err, "ERROR: cannot write to standard output: %s\n", strerror(b->out_errno));
    else
        fprintf(b->err, "ERROR: cannot write to standard output\n");
    return status ? status : (int)cel_code_exit(CEL_E_IO);
}

int batch_finish(struct batch *b, int rc, const struct cel_err *err)
{
    int code = rc < 0 ? (err->code ? err->code : -rc) : 0;
    int status = (int)cel_code_exit(code);
    if (b->format == BATCH_JSON) {
        json_t *error = json_null();
        if (rc < 0)
            error = json_pack("{s:s, s:i, s:o, s:o?}", "code", cel_code_name(code), "number",
                              code, "message", json_text(err->msg), "hint",
                              json_text(err->hint[0] ? err->hint : NULL));
        json_line(b, json_pack("{s:s, s:s, s:i, s:o}", "event", "end", "status",
                               rc < 0 ? "failed" : "ok", "exit", status, "error", error));
        return check_output(b, status);
    }
    clear_progress(b);
    status = check_output(b, status);
    /* check --nagios: the plugin line on stdout is the whole report */
    if (rc < 0 && code != CEL_E_CHECK_CRITICAL) {
        const char *msg = err->msg[0] ? err->msg : cel_code_text(code);
        if (!already_said(b, NULL, msg))
            fprintf(b->err, "ERROR: %s\n", msg);
        if (err->hint[0])
            fprintf(b->err, "HINT: %s\n", err->hint);
    }
    for (size_t i = 0; i < b->n_said; i++) {
        free(b->said[i].server);
        free(b->said[i].text);
    }
    free(b->said);
    b->said = NULL;
    b->n_said = 0;
    return status;
}
