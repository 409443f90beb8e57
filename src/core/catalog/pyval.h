/*
 * pyval.h - the Python literals Barman keeps in backup.info.
 *
 * Barman writes some backup.info values with Python's repr() and reads them
 * back with ast.literal_eval(): tablespaces, backup_label, copy_stats,
 * included_files, snapshots_info. This module parses that subset of Python
 * literal syntax into a tree of struct py_value and formats a tree back the
 * way Python's repr() does, so Barman reads what cellar writes.
 *
 * Accepted: None, True, False; integers (optional sign, fitting in int64);
 * floats (decimal, exponent, fitting in a double); strings in single or
 * double quotes with the escapes \\ \' \" \n \r \t \a \b \f \v \0 \ooo \xNN
 * \uXXXX \UXXXXXXXX (decoded to UTF-8), adjacent strings concatenated, and
 * an optional b/u/r prefix is NOT accepted (Barman never writes one);
 * lists [..], tuples (..) including (x,) and (), dicts {k: v}; whitespace
 * anywhere between tokens; trailing commas. Nesting deeper than 64 levels is
 * refused so a hostile file cannot exhaust the stack.
 */
#ifndef CEL_PYVAL_H
#define CEL_PYVAL_H

#include "error.h"
#include "strbuf.h"

enum py_kind { PY_NONE, PY_BOOL, PY_INT, PY_FLOAT, PY_STR, PY_LIST, PY_TUPLE, PY_DICT };

struct py_value {
    enum py_kind kind;
    bool b;                   /* PY_BOOL */
    int64_t i;                /* PY_INT */
    double f;                 /* PY_FLOAT */
    char *s;                  /* PY_STR: UTF-8 bytes, NUL-terminated (may hold NULs) */
    size_t len;               /* PY_STR: length of s in bytes */
    struct py_value **items;  /* PY_LIST, PY_TUPLE: elements; PY_DICT: keys */
    struct py_value **values; /* PY_DICT: values[i] is the value of items[i] */
    size_t n;                 /* number of items */
};

/* Parse text, which must hold exactly one literal (surrounding whitespace
 * allowed). On success *out is a new tree the caller frees with py_free().
 * On failure returns -CEL_E_FORMAT with a message giving the byte offset and
 * what was expected ("invalid Python literal at offset 12: unterminated
 * string"). */
int py_parse(const char *text, struct py_value **out, struct cel_err *err);
void py_free(struct py_value *v);

/* Append repr(v) to out, as Python 3 would print it. */
void py_repr(const struct py_value *v, struct strbuf *out);
/* repr() of a str: single quotes unless the text holds ' and no ", escapes
 * for backslash, the quote, \n \r \t and other control bytes (\xNN, also for
 * U+0080..U+00A0 and U+00AD, which Python does not print either). Other valid
 * UTF-8 is kept as it is (Python would also escape the few non-printable
 * characters beyond U+00FF, such as U+2028; literal_eval reads both forms the
 * same). Bytes that are not valid
 * UTF-8 are written as '\udcNN', Python's surrogateescape form, and py_parse
 * turns \udc80..\udcff back into those bytes. */
void py_repr_str(const char *s, size_t len, struct strbuf *out);
/* repr() of a float: the shortest text that reads back to the same double,
 * in Python's layout (1.0, 0.1, 1e-05, 1e+16, inf, nan). */
void py_repr_float(double f, struct strbuf *out);

/* Value of key in a dict whose keys are strings; NULL if absent or v is not a dict. */
const struct py_value *py_dict_get(const struct py_value *dict, const char *key);
/* Numeric value of an int or float; false for other kinds (out untouched). */
bool py_as_double(const struct py_value *v, double *out);

/* Builders: each returns a new node; containers take ownership of what is
 * added to them. */
struct py_value *py_new_none(void);
struct py_value *py_new_bool(bool b);
struct py_value *py_new_int(int64_t i);
struct py_value *py_new_float(double f);
struct py_value *py_new_str(const char *s);
/* A str of len bytes that may hold NULs (a file read into memory). */
struct py_value *py_new_strn(const char *s, size_t len);
struct py_value *py_new_list(void);
struct py_value *py_new_tuple(void);
struct py_value *py_new_dict(void);
void py_append(struct py_value *seq, struct py_value *item);
/* Like Python's dict[key] = value: an existing key keeps its place and its
 * old value is freed. */
void py_dict_set(struct py_value *dict, const char *key, struct py_value *value);

/* How many times py_parse has compared two dict keys for equality in this
 * process (keys of different hashes are never compared). Work, not time: a
 * test parses a large dict and checks that the count stays in proportion to
 * its keys, not to their square. */
uint64_t py_key_compares(void);

#endif
