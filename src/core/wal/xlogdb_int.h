/*
 * xlogdb_int.h - what xlogdb.c and xlogdb_place.c share and nothing else
 * uses: splitting a line into fields and the field count of a file's
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

#endif
