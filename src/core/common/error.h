/*
 * error.h - cellar's errors as values.
 *
 * Every fallible function returns int: 0 on success, a negative cel_code on
 * failure, and when given a struct cel_err fills it with the code, the errno
 * that caused it (if any), a message and an optional hint. Messages are lower
 * case, without a trailing period, with paths in quotes and strerror text at
 * the end; hints are whole sentences telling the DBA what to do.
 *
 * The codes are one table with stable numbers: they appear in JSON output and
 * logs, so never renumber an entry. Each code belongs to an exit class, and
 * only main.c turns a code into the process exit status.
 */
#ifndef CEL_ERROR_H
#define CEL_ERROR_H

#include "cel.h"

/* Exit statuses of the cellar command (DESIGN.md "Command line"). */
enum cel_exit {
    CEL_EXIT_OK = 0,     /* done */
    CEL_EXIT_FAILED = 1, /* the operation failed */
    CEL_EXIT_USAGE = 2,  /* usage or configuration error */
    CEL_EXIT_CHECK = 3,  /* a check failed */
    /* check --nagios: Nagios plugins exit 2 for CRITICAL (the number of
     * CEL_EXIT_USAGE, which a Nagios check cannot tell apart anyway) */
    CEL_EXIT_NAGIOS_CRITICAL = 2,
};

/* X(number, NAME, exit class, default text) */
#define CEL_CODE_TABLE(X)                                                                    \
    X(0, OK, CEL_EXIT_OK, "ok")                                                              \
    X(20, USAGE, CEL_EXIT_USAGE, "invalid command line")                                     \
    X(21, CONFIG, CEL_EXIT_USAGE, "invalid configuration")                                   \
    X(22, INVALID, CEL_EXIT_USAGE, "invalid value")                                          \
    X(30, NOT_FOUND, CEL_EXIT_FAILED, "not found")                                           \
    X(40, IO, CEL_EXIT_FAILED, "input/output error")                                         \
    X(41, FORMAT, CEL_EXIT_FAILED, "malformed file")                                         \
    X(42, LOCKED, CEL_EXIT_FAILED, "locked by another process")                              \
    X(43, PROC, CEL_EXIT_FAILED, "external program failed")                                  \
    X(44, TIMEOUT, CEL_EXIT_FAILED, "timed out")                                             \
    X(45, CONFLICT, CEL_EXIT_FAILED, "conflicts with existing data")                         \
    X(50, PG, CEL_EXIT_FAILED, "PostgreSQL error")                                           \
    X(60, CLOUD, CEL_EXIT_FAILED, "object store error")                                      \
    X(70, CHECK, CEL_EXIT_CHECK, "check failed")                                             \
    X(71, CHECK_CRITICAL, CEL_EXIT_NAGIOS_CRITICAL, "check failed (Nagios CRITICAL)")        \
    X(90, NOMEM, CEL_EXIT_FAILED, "out of memory")                                           \
    X(99, INTERNAL, CEL_EXIT_FAILED, "internal error")

enum cel_code {
#define CEL_CODE_ENUM(num, name, exit, text) CEL_E_##name = num,
    CEL_CODE_TABLE(CEL_CODE_ENUM)
#undef CEL_CODE_ENUM
};

struct cel_err {
    int code;      /* a cel_code, positive; 0 when no error */
    int sys_errno; /* errno behind the failure, 0 if none */
    char msg[512];
    char hint[256];
};

/* Set err (which may be NULL) and return -code. The message is formatted. */
int cel_err_set(struct cel_err *err, enum cel_code code, const char *fmt, ...) CEL_PRINTF(3, 4);
/* Like cel_err_set, and append ": <strerror(errnum)>" and record errnum. */
int cel_err_sys(struct cel_err *err, enum cel_code code, int errnum, const char *fmt, ...)
    CEL_PRINTF(4, 5);
/* Set the hint of an error already set. */
void cel_err_hint(struct cel_err *err, const char *fmt, ...) CEL_PRINTF(2, 3);
/* Put "<context>: " in front of the message of an error already set. */
void cel_err_prefix(struct cel_err *err, const char *fmt, ...) CEL_PRINTF(2, 3);
/* Reset err to "no error". */
void cel_err_clear(struct cel_err *err);

/* The len bytes at s as they go into a message about them: printable ASCII
 * as is, anything else (and ' and \, which would make the quoting
 * ambiguous) as \xNN, stopping before CEL_SHOW_MAX characters would be
 * exceeded and then ending with "...". Hostile input can neither break the
 * message's quotes nor flood it. Returns buf. */
#define CEL_SHOW_MAX 64
#define CEL_SHOW_BUF (CEL_SHOW_MAX + 4)
const char *cel_show(const char *s, size_t len, char buf[CEL_SHOW_BUF]);

/* Name ("NOT_FOUND"), default text and exit class of a code (sign ignored);
 * unknown codes map to INTERNAL. */
const char *cel_code_name(int code);
const char *cel_code_text(int code);
enum cel_exit cel_code_exit(int code);

#endif
