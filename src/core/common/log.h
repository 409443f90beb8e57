/*
 * log.h - cellar's log: a file (log_file) with levels, plus an observer.
 *
 * Core and ops never print. What they want a human to see later goes to the
 * log; what the user should see now goes through the op's sink. The front
 * end may install an observer to mirror log lines elsewhere (batch --debug
 * mirrors them on stderr; the console keeps them off the screen).
 *
 * Lines look like Barman's: "2026-11-24 03:42:19,575 [1234] cellar INFO: text".
 * Each line is one write(2) on an O_APPEND descriptor, so lines from
 * concurrent cellar processes never interleave.
 */
#ifndef CEL_LOG_H
#define CEL_LOG_H

#include "error.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR, LOG_CRITICAL };

/* Open (create 0600, append) the log file. Replaces an open one. */
int log_open(const char *path, struct cel_err *err);
void log_close(void);
/* Lines below level are dropped (for the file and the observer). Default INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Called for every line that passes the level, after the file write. */
typedef void (*log_observer)(void *ctx, enum log_level level, const char *msg);
void log_set_observer(log_observer fn, void *ctx);

void log_msg(enum log_level level, const char *fmt, ...) CEL_PRINTF(2, 3);

/* "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL". */
const char *log_level_name(enum log_level level);
/* Parse a level name, case-insensitive (also "warn"). 0 or -CEL_E_INVALID. */
int log_level_parse(const char *text, enum log_level *out, struct cel_err *err);

#endif
