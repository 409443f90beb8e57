/*
 * ini.h - reading INI files the way Barman's ConfigParser does.
 *
 * cellar must read a DBA's existing barman.conf unchanged, so this reader
 * follows Python's ConfigParser (the parser Barman uses) rather than a
 * generic INI dialect:
 *   - "[section]" headers; section names are kept verbatim (case matters);
 *   - "key = value" or "key: value", split at the first '=' or ':'; keys are
 *     lower-cased, keys and values are stripped of surrounding blanks;
 *   - full-line comments start with '#' or ';' (after optional blanks);
 *     there are NO inline comments, so "echo a ; echo b" stays whole;
 *   - a line indented deeper than its option's line continues the value
 *     (joined with "\n"; blank lines between are kept, trailing ones
 *     dropped), so options may all be indented alike;
 *   - lines of any length; a UTF-8 byte order mark is skipped; CRLF is fine.
 * Interpolation, quotes and "none" are the configuration layer's business.
 *
 * Why not inih: the Debian build of libinih caps lines at 200 bytes and
 * strips " ;..." as an inline comment, which would silently cut long
 * conninfo strings and hook commands such as "a ; b".
 */
#ifndef CEL_INI_H
#define CEL_INI_H

#include "error.h"

/* One event: a section header (key == NULL) or a complete key/value. */
struct ini_item {
    const char *file;    /* the name given to the parser */
    int line;            /* line of the header or of the key */
    const char *section; /* current section; never NULL for a key */
    const char *key;     /* lower-cased, NULL for a section header */
    const char *value;   /* stripped; continuation lines joined with "\n" */
};

/* Called for each item in file order. Strings are valid only during the
 * call. A negative return stops the parse and is returned by ini_parse_*. */
typedef int (*ini_handler)(void *ctx, const struct ini_item *item, struct cel_err *err);

/* Parse text (NUL-terminated); name is used in messages. Syntax errors are
 * -CEL_E_CONFIG with "NAME:LINE: ..." messages. */
int ini_parse_text(const char *text, const char *name, ini_handler fn, void *ctx,
                   struct cel_err *err);
/* Read and parse a file (at most 16 MiB). */
int ini_parse_file(const char *path, ini_handler fn, void *ctx, struct cel_err *err);

#endif
