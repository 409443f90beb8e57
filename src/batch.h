/*
 * batch.h - the batch front end's sink: op events rendered as text for a
 * human, or as JSON lines for a program (the console, scripts).
 *
 * Text: results on stdout; phases and info lines on stdout; warnings and
 * errors on stderr; a progress bar on stdout only when it is a terminal and
 * --batch was not given. -q leaves only errors.
 *
 * JSON (--format json): one object per line on stdout, for every event:
 *   {"event":"phase","server":"pg","phase":"copy","text":"..."}
 *   {"event":"progress","server":"pg","bytes_done":N,"bytes_total":N,...}
 *   {"event":"log","level":"WARNING","server":"pg","text":"..."}
 *   {"event":"result","command":"list-backup","data":{...}}
 * and always a last line
 *   {"event":"end","status":"ok"|"failed","exit":N,"error":{...}|null}
 * so a reader knows the operation ended and how.
 */
#ifndef CEL_BATCH_H
#define CEL_BATCH_H

#include <stdio.h>

#include "ops/ops.h"

enum batch_format { BATCH_TEXT, BATCH_JSON };

/* An error printed as it happened: its server ("" for none) and text. */
struct batch_said {
    char *server, *text;
};

struct batch {
    enum batch_format format;
    bool quiet, debug, batch_mode;
    FILE *out, *err;
    bool out_is_tty;
    bool progress_line; /* a progress bar is on screen and must be cleared */
    int out_errno;      /* the first error writing to out, 0 when none */
    struct batch_said *said; /* text mode: the errors printed so far, which
                                are not printed again */
    size_t n_said;
};

void batch_init(struct batch *b, enum batch_format format, bool quiet, bool debug,
                bool batch_mode);
/* The sink callback (ctx is a struct batch). */
void batch_event(void *ctx, const struct op_event *ev);
/* Report configuration diagnostics: errors always, warnings unless quiet. */
void batch_report_config(struct batch *b, const struct cfg *cfg);
/* Report the outcome (rc, err) and return the process exit status; output
 * that could not be written (a full disk, a closed pipe) is reported on
 * stderr and makes a successful run fail. In text mode an error is printed
 * on stderr, except CEL_E_CHECK_CRITICAL: check --nagios has already said
 * everything in its one line, and Nagios reads nothing else; and an error
 * whose text was already printed as it happened (a configuration error, a
 * failed backup) is not printed again, only its hint. */
int batch_finish(struct batch *b, int rc, const struct cel_err *err);

#endif
