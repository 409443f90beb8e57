/*
 * fmt.h - numbers as Barman prints them, so outputs match line for line.
 */
#ifndef CEL_FMT_H
#define CEL_FMT_H

#include "strbuf.h"

/* Barman's pretty_size(): "%d B" below 1024, else "%.1f KiB|MiB|GiB|...". */
void fmt_size(double bytes, struct strbuf *out);
/* Python's "{:.2%}": 0.999 -> "99.90%". */
void fmt_percent(double ratio, struct strbuf *out);

#endif
