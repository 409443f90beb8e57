/*
 * xlogdb_int.h - what xlogdb.c, xlogdb_place.c and xlogdb_walinfo.c share and nothing else
 * uses: splitting and parsing a line, and the field count of a file's
 * last line.
 */
#ifndef CEL_XLOGDB_INT_H
#define CEL_XLOGDB_INT_H

#include "xlogdb.h"

/* Split [s, e) into at most 5 whitespace-separated fields: their starts
 * and lengths in fs/fl; returns their number, 6 when there are more. */
int xdb_split_fields(const char *s, const char *e, const char *fs[5], size_t fl[5]);
/* The number of fields of path's last whole line (a last line without its
 * newline is not looked at): 0 when there is none or path is missing,
 * -CEL_E_IO when it cannot be read. Reads only the file's tail. */
int xdb_tail_fields(const char *path, struct cel_err *err);
/* Parse one line [s, le) (line lineno of the file name, for messages)
 * into *e, and its name into *w when w is not NULL: -CEL_E_FORMAT naming
 * file, line and field when it is not "name size time [compression
 * [encryption]]". */
int xdb_parse_line(const char *s, const char *le, const char *name, int lineno,
                   struct xdb_entry *e, struct wal_name *w, struct cel_err *err);

#endif
