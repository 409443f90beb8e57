/*
 * pyval.c - parse and print the Python literals Barman keeps in backup.info.
 *
 * Parsing is a recursive descent over the text with one byte of lookahead.
 * parse_value() looks at the first byte of a token and hands over to the
 * function for that kind of literal; containers call parse_value() for their
 * elements with the depth increased by one, and refuse to open a level past
 * PY_MAX_DEPTH, so the C stack used is bounded whatever the input. Every
 * function that fails sets the error (with the byte offset where the problem
 * is) and frees whatever it had built, so a failed parse leaks nothing and
 * returns no partial tree.
 *
 * The grammar follows what ast.literal_eval() accepts, restricted to what
 * Barman can write (see pyval.h). Where Python gives a literal a meaning the
 * subset does not cover (triple-quoted strings, b'' prefixes, hex integers,
 * sets), the parser refuses it with a precise message instead of guessing.
 * Dicts behave like Python's: a repeated key keeps its first position and takes
 * the last value, with Python's equality (1 == 1.0 == True), and unhashable
 * keys (lists, dicts) are refused.
 *
 * Strings are UTF-8 bytes. \x, \u, \U and octal escapes name code points,
 * which are stored UTF-8 encoded ('\xe9' is the two bytes C3 A9, as in
 * Python). A py_value string may hold bytes that are not valid UTF-8 (a path
 * read from disk); Python represents such bytes with the "surrogateescape"
 * convention, as os.fsdecode() does: byte 0xNN becomes the lone surrogate
 * U+DCNN. py_repr_str() writes them as '\udcNN' and the parser turns \udc80 ..
 * \udcff back into the raw byte, so such strings survive a trip through
 * Barman, which would fail to read backup.info if it held raw invalid UTF-8.
 *
 * Floats: numbers are converted with strtod() under a "C" locale installed
 * for the calling thread with uselocale(), so a process that has called
 * setlocale() for the TUI still reads "0.5" and never "0,5". repr() of a float
 * needs the shortest digit string that reads back to the same double: for
 * each precision p = 1..17 we take the correctly rounded p-digit decimal from
 * snprintf("%.*e") and, when it does not read back, its neighbour on the other
 * side of the value (at a power of two the rounding interval is lopsided and
 * the farther neighbour may be the only one inside it). The first candidate
 * that reads back is what David Gay's dtoa mode 0, which Python uses, returns.
 * The digits are then laid out as Python's float_repr does.
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>

#include "pyval.h"

/* Deepest nesting of containers the parser accepts. */
#define PY_MAX_DEPTH 64

/* ---------------------------------------------------------------- builders */

static struct py_value *node_new(enum py_kind kind)
{
    struct py_value *v = cel_xcalloc(1, sizeof *v);
    v->kind = kind;
    return v;
}

struct py_value *py_new_none(void)
{
    return node_new(PY_NONE);
}

struct py_value *py_new_bool(bool b)
{
    struct py_value *v = node_new(PY_BOOL);
    v->b = b;
    return v;
}

struct py_value *py_new_int(int64_t i)
{
    struct py_value *v = node_new(PY_INT);
    v->i = i;
    return v;
}

struct py_value *py_new_float(double f)
{
    struct py_value *v = node_new(PY_FLOAT);
    v->f = f;
    return v;
}

struct py_value *py_new_strn(const char *s, size_t len)
{
    struct py_value *v = node_new(PY_STR);
    v->s = cel_xmalloc(len + 1);
    memcpy(v->s, s, len);
    v->s[len] = '\0';
    v->len = len;
    return v;
}

struct py_value *py_new_str(const char *s)
{
    return py_new_strn(s, strlen(s));
}

struct py_value *py_new_list(void)
{
    return node_new(PY_LIST);
}

struct py_value *py_new_tuple(void)
{
    return node_new(PY_TUPLE);
}

struct py_value *py_new_dict(void)
{
    return node_new(PY_DICT);
}

void py_free(struct py_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        py_free(v->items[i]);
        if (v->values)
            py_free(v->values[i]);
    }
    free(v->items);
    free(v->values);
    free(v->s);
    free(v);
}

/*
 * Make room for element number v->n. The struct keeps no capacity: arrays
 * only grow through here, doubling whenever n reaches a power of two, so the
 * capacity is always the smallest power of two >= n.
 */
static void reserve_one(struct py_value *v)
{
    size_t n = v->n;
    if (n != 0 && (n & (n - 1)) != 0)
        return;
    size_t cap = n ? n * 2 : 1;
    v->items = cel_xrealloc_array(v->items, cap, sizeof *v->items);
    if (v->kind == PY_DICT)
        v->values = cel_xrealloc_array(v->values, cap, sizeof *v->values);
}

/* Appending to something that is not a list or tuple is a caller bug; the
 * item is freed, as ownership passed to us, and nothing else happens. */
void py_append(struct py_value *seq, struct py_value *item)
{
    if (!seq || (seq->kind != PY_LIST && seq->kind != PY_TUPLE)) {
        py_free(item);
        return;
    }
    reserve_one(seq);
    seq->items[seq->n++] = item;
}

/* Index of the string key key[0..len) in dict, or -1. */
static ptrdiff_t dict_find_str(const struct py_value *dict, const char *key, size_t len)
{
    for (size_t i = 0; i < dict->n; i++) {
        const struct py_value *k = dict->items[i];
        if (k->kind == PY_STR && k->len == len && memcmp(k->s, key, len) == 0)
            return (ptrdiff_t)i;
    }
    return -1;
}

/* Add key -> value at the end of dict (no duplicate check). */
static void dict_push(struct py_value *dict, struct py_value *key, struct py_value *value)
{
    reserve_one(dict);
    dict->items[dict->n] = key;
    dict->values[dict->n] = value;
    dict->n++;
}

/* Like Python's d[key] = value: an existing key keeps its place and gets the
 * new value. On something that is not a dict the value is freed (caller bug). */
void py_dict_set(struct py_value *dict, const char *key, struct py_value *value)
{
    if (!dict || dict->kind != PY_DICT) {
        py_free(value);
        return;
    }
    ptrdiff_t at = dict_find_str(dict, key, strlen(key));
    if (at >= 0) {
        py_free(dict->values[at]);
        dict->values[at] = value;
        return;
    }
    dict_push(dict, py_new_str(key), value);
}

const struct py_value *py_dict_get(const struct py_value *dict, const char *key)
{
    if (!dict || dict->kind != PY_DICT)
        return NULL;
    ptrdiff_t at = dict_find_str(dict, key, strlen(key));
    return at >= 0 ? dict->values[at] : NULL;
}

bool py_as_double(const struct py_value *v, double *out)
{
    if (!v)
        return false;
    if (v->kind == PY_INT) {
        *out = (double)v->i;
        return true;
    }
    if (v->kind == PY_FLOAT) {
        *out = v->f;
        return true;
    }
    return false;
}

/* ------------------------------------------------------- Python semantics */

/* Integer value of a bool or int, for comparisons. */
static int64_t int_of(const struct py_value *v)
{
    return v->kind == PY_BOOL ? (int64_t)v->b : v->i;
}

/* Python's == between an integer and a float: exact, no rounding. */
static bool int_equals_float(int64_t i, double f)
{
    /* 2^63 is exactly representable; floats in [-2^63, 2^63) convert */
    if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
        return false;
    int64_t t = (int64_t)f; /* truncates: equal only if f was integral */
    return (double)t == f && t == i;
}

/* Python's == for the hashable kinds (None, bool, int, float, str, tuple). */
static bool key_equal(const struct py_value *a, const struct py_value *b)
{
    bool a_int = a->kind == PY_BOOL || a->kind == PY_INT;
    bool b_int = b->kind == PY_BOOL || b->kind == PY_INT;
    if (a_int && b_int)
        return int_of(a) == int_of(b);
    if (a_int && b->kind == PY_FLOAT)
        return int_equals_float(int_of(a), b->f);
    if (a->kind == PY_FLOAT && b_int)
        return int_equals_float(int_of(b), a->f);
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case PY_NONE:
        return true;
    case PY_FLOAT:
        return a->f == b->f;
    case PY_STR:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case PY_TUPLE:
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++)
            if (!key_equal(a->items[i], b->items[i]))
                return false;
        return true;
    default:
        return false;
    }
}

/* Whether Python could use v as a dict key. */
static bool hashable(const struct py_value *v)
{
    if (v->kind == PY_LIST || v->kind == PY_DICT)
        return false;
    if (v->kind == PY_TUPLE)
        for (size_t i = 0; i < v->n; i++)
            if (!hashable(v->items[i]))
                return false;
    return true;
}

/* ------------------------------------------------------------------ floats */

/* strtod() in the "C" locale whatever the process locale is. The locale
 * object is made once; glibc hands out a static object for "C", so there is
 * nothing to free. If it cannot be made we fall back to plain strtod(), which
 * is right unless the program changed LC_NUMERIC. */
static double c_strtod(const char *s, char **end)
{
    static locale_t c_locale;
    if (!c_locale)
        c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!c_locale)
        return strtod(s, end);
    locale_t old = uselocale(c_locale);
    double d = strtod(s, end);
    uselocale(old);
    return d;
}

/* A decimal candidate: digits d[0..n) meaning d0.d1d2... * 10^exp. */
struct decimal {
    char d[24];
    int n;
    int exp;
};

/* The decimal as C text ("1.2345e-7"), read back as a double. */
static double decimal_value(const struct decimal *dec)
{
    char buf[48];
    int at = 0;
    buf[at++] = dec->d[0];
    buf[at++] = '.';
    for (int i = 1; i < dec->n; i++)
        buf[at++] = dec->d[i];
    snprintf(buf + at, sizeof buf - (size_t)at, "e%d", dec->exp);
    return c_strtod(buf, NULL);
}

/* x > 0 correctly rounded to p significant digits, via "%.*e". Only digits,
 * 'e' and the exponent are taken from the text, so the locale's decimal
 * separator does not matter. */
static void decimal_round(double x, int p, struct decimal *dec)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*e", p - 1, x);
    const char *c = buf;
    dec->n = 0;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9' && dec->n < p)
            dec->d[dec->n++] = *c;
    dec->exp = *c == 'e' ? atoi(c + 1) : 0;
}

/* Move dec by one unit in its last digit, up or down, keeping n digits. */
static void decimal_step(struct decimal *dec, bool up)
{
    int i = dec->n - 1;
    if (up) {
        while (i >= 0 && dec->d[i] == '9')
            dec->d[i--] = '0';
        if (i >= 0) {
            dec->d[i]++;
        } else { /* 999 + 1 = 1000: one more power of ten */
            dec->d[0] = '1';
            dec->exp++;
        }
    } else {
        while (i >= 0 && dec->d[i] == '0')
            dec->d[i--] = '9';
        dec->d[i]--;            /* d[0] >= 1, so the borrow stops at i >= 0 */
        if (dec->d[0] == '0') { /* 1000 - 1 = 0999 = 9990 * 10^(exp-1) */
            memmove(dec->d, dec->d + 1, (size_t)(dec->n - 1));
            dec->d[dec->n - 1] = '0';
            dec->exp--;
        }
    }
}

/* The shortest decimal that reads back as x (finite, > 0); nearest to x when
 * two of that length do. Trailing zeros are dropped. */
static void shortest_decimal(double x, struct decimal *dec)
{
    for (int p = 1; p <= 17; p++) {
        decimal_round(x, p, dec);
        double back = decimal_value(dec);
        if (back == x)
            break;
        struct decimal other = *dec;
        decimal_step(&other, back < x);
        if (decimal_value(&other) == x) {
            *dec = other;
            break;
        }
        /* 17 digits always read back, so the loop ends with a match */
    }
    while (dec->n > 1 && dec->d[dec->n - 1] == '0')
        dec->n--;
}

void py_repr_float(double f, struct strbuf *out)
{
    if (isnan(f)) {
        sb_append(out, "nan");
        return;
    }
    if (signbit(f))
        sb_appendc(out, '-');
    if (isinf(f)) {
        sb_append(out, "inf");
        return;
    }
    if (f == 0) {
        sb_append(out, "0.0");
        return;
    }
    struct decimal dec;
    shortest_decimal(fabs(f), &dec);
    if (dec.exp < -4 || dec.exp >= 16) {
        /* d.ddde+XX, at least two exponent digits, no ".0" for one digit */
        sb_appendc(out, dec.d[0]);
        if (dec.n > 1) {
            sb_appendc(out, '.');
            sb_appendn(out, dec.d + 1, (size_t)(dec.n - 1));
        }
        sb_appendf(out, "e%c%02d", dec.exp < 0 ? '-' : '+', abs(dec.exp));
        return;
    }
    int point = dec.exp + 1; /* digits before the decimal point */
    if (point <= 0) {
        sb_append(out, "0.");
        sb_pad(out, '0', (size_t)-point);
        sb_appendn(out, dec.d, (size_t)dec.n);
    } else if (point < dec.n) {
        sb_appendn(out, dec.d, (size_t)point);
        sb_appendc(out, '.');
        sb_appendn(out, dec.d + point, (size_t)(dec.n - point));
    } else {
        sb_appendn(out, dec.d, (size_t)dec.n);
        sb_pad(out, '0', (size_t)(point - dec.n));
        sb_append(out, ".0");
    }
}

/* ----------------------------------------------------------------- strings */

/* Length of the valid UTF-8 sequence at s (at most len bytes), 0 if the bytes
 * there are not one (bad lead byte, truncated, overlong, surrogate, or past
 * U+10FFFF). */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

void py_repr_str(const char *s, size_t len, struct strbuf *out)
{
    bool has_sq = memchr(s, '\'', len) != NULL;
    bool has_dq = memchr(s, '"', len) != NULL;
    char quote = has_sq && !has_dq ? '"' : '\'';
    const unsigned char *u = (const unsigned char *)s;

    sb_appendc(out, quote);
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        if (c == (unsigned char)quote || c == '\\') {
            sb_appendc(out, '\\');
            sb_appendc(out, (char)c);
        } else if (c == '\t') {
            sb_append(out, "\\t");
        } else if (c == '\n') {
            sb_append(out, "\\n");
        } else if (c == '\r') {
            sb_append(out, "\\r");
        } else if (c < 0x20 || c == 0x7F) {
            sb_appendf(out, "\\x%02x", c);
        } else if (c < 0x80) {
            sb_appendc(out, (char)c);
        } else {
            size_t n = utf8_seq_len(u + i, len - i);
            if (n == 2 && c == 0xC2 && (u[i + 1] <= 0xA0 || u[i + 1] == 0xAD)) {
                /* U+0080..U+00A0 and U+00AD (C1 controls, no-break space, soft
                 * hyphen) are the non-printable Latin-1 characters Python escapes */
                sb_appendf(out, "\\x%02x", u[i + 1]);
            } else if (n > 0) {
                /* other non-ASCII text is kept as it is (see pyval.h) */
                sb_appendn(out, s + i, n);
            } else {
                sb_appendf(out, "\\udc%02x", c); /* surrogateescape */
                n = 1;
            }
            i += n;
            continue;
        }
        i++;
    }
    sb_appendc(out, quote);
}

void py_repr(const struct py_value *v, struct strbuf *out)
{
    switch (v->kind) {
    case PY_NONE:
        sb_append(out, "None");
        break;
    case PY_BOOL:
        sb_append(out, v->b ? "True" : "False");
        break;
    case PY_INT:
        sb_appendf(out, "%" PRId64, v->i);
        break;
    case PY_FLOAT:
        py_repr_float(v->f, out);
        break;
    case PY_STR:
        py_repr_str(v->s, v->len, out);
        break;
    case PY_LIST:
    case PY_TUPLE:
        sb_appendc(out, v->kind == PY_LIST ? '[' : '(');
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                sb_append(out, ", ");
            py_repr(v->items[i], out);
        }
        if (v->kind == PY_TUPLE && v->n == 1)
            sb_appendc(out, ',');
        sb_appendc(out, v->kind == PY_LIST ? ']' : ')');
        break;
    case PY_DICT:
        sb_appendc(out, '{');
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                sb_append(out, ", ");
            py_repr(v->items[i], out);
            sb_append(out, ": ");
            py_repr(v->values[i], out);
        }
        sb_appendc(out, '}');
        break;
    }
}

/* ------------------------------------------------------------------ parser */

struct parser {
    const char *text;
    size_t pos;
    struct cel_err *err;
};

static int fail(struct parser *p, size_t at, const char *fmt, ...) CEL_PRINTF(3, 4);

/* Set the error "invalid Python literal at offset <at>: <what>". */
static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cel_err_set(p->err, CEL_E_FORMAT, "invalid Python literal at offset %zu: %s", at, what);
}

static unsigned char peek(const struct parser *p)
{
    return (unsigned char)p->text[p->pos];
}

/* Fail with "expected <what>, found <the byte at pos>". */
static int fail_expected(struct parser *p, const char *what)
{
    unsigned char c = peek(p);
    if (c == '\0')
        return fail(p, p->pos, "expected %s, found end of input", what);
    if (c > ' ' && c < 0x7F)
        return fail(p, p->pos, "expected %s, found '%c'", what, c);
    return fail(p, p->pos, "expected %s, found byte 0x%02x", what, c);
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Bytes that may continue a Python name (non-ASCII counts, as identifiers
 * may be Unicode); used to find the end of names and of numbers. */
static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c >= 0x80;
}

static void skip_ws(struct parser *p)
{
    while (is_ws(peek(p)))
        p->pos++;
}

static int parse_value(struct parser *p, int depth, struct py_value **out);

/* Append code point cp to sb as UTF-8; cp is <= 0x10FFFF and not a surrogate. */
static void put_utf8(struct strbuf *sb, uint32_t cp)
{
    if (cp < 0x80) {
        sb_appendc(sb, (char)cp);
    } else if (cp < 0x800) {
        sb_appendc(sb, (char)(0xC0 | (cp >> 6)));
        sb_appendc(sb, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        sb_appendc(sb, (char)(0xE0 | (cp >> 12)));
        sb_appendc(sb, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_appendc(sb, (char)(0x80 | (cp & 0x3F)));
    } else {
        sb_appendc(sb, (char)(0xF0 | (cp >> 18)));
        sb_appendc(sb, (char)(0x80 | ((cp >> 12) & 0x3F)));
        sb_appendc(sb, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_appendc(sb, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Decode the escape whose backslash is at p->pos into sb; p->pos ends after
 * it. The caller has checked that a byte follows the backslash. */
static int parse_escape(struct parser *p, struct strbuf *sb)
{
    size_t at = p->pos;
    unsigned char c = (unsigned char)p->text[at + 1];
    p->pos = at + 2;
    switch (c) {
    case '\n': /* backslash-newline continues the line */
        return 0;
    case '\r':
        if (peek(p) == '\n')
            p->pos++;
        return 0;
    case '\\':
    case '\'':
    case '"':
        sb_appendc(sb, (char)c);
        return 0;
    case 'a':
        sb_appendc(sb, '\a');
        return 0;
    case 'b':
        sb_appendc(sb, '\b');
        return 0;
    case 'f':
        sb_appendc(sb, '\f');
        return 0;
    case 'n':
        sb_appendc(sb, '\n');
        return 0;
    case 'r':
        sb_appendc(sb, '\r');
        return 0;
    case 't':
        sb_appendc(sb, '\t');
        return 0;
    case 'v':
        sb_appendc(sb, '\v');
        return 0;
    case 'x':
    case 'u':
    case 'U': {
        int ndig = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        const char *form = c == 'x' ? "\\xXX" : c == 'u' ? "\\uXXXX" : "\\UXXXXXXXX";
        uint32_t cp = 0;
        for (int i = 0; i < ndig; i++) {
            int h = cel_hex_digit(peek(p));
            if (h < 0)
                return fail(p, at, "truncated %s escape", form);
            cp = cp * 16 + (uint32_t)h;
            p->pos++;
        }
        if (cp > 0x10FFFF)
            return fail(p, at, "illegal Unicode character \\U%08" PRIX32, cp);
        if (cp >= 0xDC80 && cp <= 0xDCFF) {
            sb_appendc(sb, (char)(cp - 0xDC00)); /* surrogateescape: a raw byte */
            return 0;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return fail(p, at, "lone surrogate \\u%04" PRIx32 " cannot be stored as UTF-8", cp);
        put_utf8(sb, cp);
        return 0;
    }
    case 'N':
        return fail(p, at, "\\N{...} escapes are not supported");
    default:
        if (c >= '0' && c <= '7') {
            uint32_t cp = (uint32_t)(c - '0');
            for (int i = 0; i < 2 && peek(p) >= '0' && peek(p) <= '7'; i++)
                cp = cp * 8 + (uint32_t)(p->text[p->pos++] - '0');
            put_utf8(sb, cp);
            return 0;
        }
        if (c > ' ' && c < 0x7F)
            return fail(p, at, "invalid escape '\\%c'", c);
        return fail(p, at, "invalid escape '\\' followed by byte 0x%02x", c);
    }
}

/* One string literal or several adjacent ones ('a' "b" is 'ab'). */
static int parse_str(struct parser *p, struct py_value **out)
{
    struct strbuf sb = {0};
    int rc = 0;
    do {
        size_t start = p->pos;
        char quote = p->text[start];
        if (p->text[start + 1] == quote && p->text[start + 2] == quote) {
            rc = fail(p, start, "triple-quoted strings are not supported");
            goto out;
        }
        p->pos++;
        for (;;) {
            unsigned char c = peek(p);
            if (c == '\0' || c == '\n' || c == '\r') {
                rc = fail(p, start, "unterminated string");
                goto out;
            }
            if (c == (unsigned char)quote) {
                p->pos++;
                break;
            }
            if (c == '\\') {
                if (p->text[p->pos + 1] == '\0') {
                    rc = fail(p, start, "unterminated string");
                    goto out;
                }
                rc = parse_escape(p, &sb);
                if (rc < 0)
                    goto out;
            } else {
                sb_appendc(&sb, (char)c);
                p->pos++;
            }
        }
        skip_ws(p);
    } while (peek(p) == '\'' || peek(p) == '"');

    size_t len = sb.len;
    struct py_value *v = node_new(PY_STR);
    v->s = sb_detach(&sb);
    v->len = len;
    *out = v;
out:
    sb_free(&sb);
    return rc;
}

/* An integer or float, with an optional sign (which Python allows to be
 * followed by blanks, "- 1"). */
static int parse_number(struct parser *p, struct py_value **out)
{
    size_t start = p->pos;
    bool neg = false;
    if (peek(p) == '-' || peek(p) == '+') {
        neg = peek(p) == '-';
        p->pos++;
        skip_ws(p);
        if (!is_digit(peek(p)) && !(peek(p) == '.' && is_digit((unsigned char)p->text[p->pos + 1])))
            return fail(p, start, "expected a number after '%c'", neg ? '-' : '+');
    }
    size_t num = p->pos;
    size_t int_digits = 0, frac_digits = 0;
    bool is_float = false;
    while (is_digit(peek(p))) {
        p->pos++;
        int_digits++;
    }
    if (peek(p) == '.') {
        is_float = true;
        p->pos++;
        while (is_digit(peek(p))) {
            p->pos++;
            frac_digits++;
        }
    }
    if (int_digits == 0 && frac_digits == 0)
        return fail(p, start, "invalid number");
    if (peek(p) == 'e' || peek(p) == 'E') {
        is_float = true;
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (!is_digit(peek(p)))
            return fail(p, start, "invalid number");
        while (is_digit(peek(p)))
            p->pos++;
    }
    /* 1x, 1_000, 0x1f, 1j, 1.2.3: forms Python reads differently or not at all */
    if (is_name_char(peek(p)) || peek(p) == '.')
        return fail(p, start, "invalid number");

    if (is_float) {
        char *tok = cel_xstrndup(p->text + num, p->pos - num);
        double d = c_strtod(tok, NULL);
        free(tok);
        if (isinf(d))
            return fail(p, start, "float out of range");
        *out = py_new_float(neg ? -d : d);
        return 0;
    }

    const char *digits = p->text + num;
    if (digits[0] == '0' && int_digits > 1 && strspn(digits, "0") < int_digits)
        return fail(p, start, "leading zeros in integer");
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t mag = 0;
    for (size_t i = 0; i < int_digits; i++) {
        uint64_t dig = (uint64_t)(digits[i] - '0');
        if (mag > (limit - dig) / 10)
            return fail(p, start, "integer out of range for 64 bits");
        mag = mag * 10 + dig;
    }
    /* -(2^63) has no positive int64 counterpart, hence the special case */
    if (neg)
        *out = py_new_int(mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag);
    else
        *out = py_new_int((int64_t)mag);
    return 0;
}

/* None, True, False; any other name is refused. */
static int parse_name(struct parser *p, struct py_value **out)
{
    size_t start = p->pos;
    while (is_name_char(peek(p)))
        p->pos++;
    size_t len = p->pos - start;
    const char *name = p->text + start;
    if (len == 4 && memcmp(name, "None", 4) == 0) {
        *out = py_new_none();
        return 0;
    }
    if (len == 4 && memcmp(name, "True", 4) == 0) {
        *out = py_new_bool(true);
        return 0;
    }
    if (len == 5 && memcmp(name, "False", 5) == 0) {
        *out = py_new_bool(false);
        return 0;
    }
    if (len <= 2 && strspn(name, "bBrRuUfF") >= len && (peek(p) == '\'' || peek(p) == '"'))
        return fail(p, start, "string prefix '%.*s' is not supported", (int)len, name);
    if (len > 32)
        return fail(p, start, "unknown name '%.32s...'", name);
    return fail(p, start, "unknown name '%.*s'", (int)len, name);
}

/* Refuse to open a container that would be level depth + 1. */
static int check_depth(struct parser *p, int depth)
{
    if (depth >= PY_MAX_DEPTH)
        return fail(p, p->pos, "nesting deeper than %d levels", PY_MAX_DEPTH);
    return 0;
}

/* The elements of a list or tuple up to the closing bracket, appended to seq;
 * p->pos is just after the opening bracket or after the first element's
 * comma. Trailing commas are allowed. */
static int parse_items(struct parser *p, int depth, struct py_value *seq, char close)
{
    const char *expect = close == ']' ? "',' or ']'" : "',' or ')'";
    for (;;) {
        skip_ws(p);
        if (peek(p) == (unsigned char)close) {
            p->pos++;
            return 0;
        }
        struct py_value *item;
        int rc = parse_value(p, depth + 1, &item);
        if (rc < 0)
            return rc;
        py_append(seq, item);
        skip_ws(p);
        if (peek(p) == ',') {
            p->pos++;
        } else if (peek(p) != (unsigned char)close) {
            return fail_expected(p, expect);
        }
    }
}

static int parse_list(struct parser *p, int depth, struct py_value **out)
{
    int rc = check_depth(p, depth);
    if (rc < 0)
        return rc;
    p->pos++;
    struct py_value *list = py_new_list();
    rc = parse_items(p, depth, list, ']');
    if (rc < 0) {
        py_free(list);
        return rc;
    }
    *out = list;
    return 0;
}

/* "(" starts a tuple, "()" or "(x,)" or "(x, y)", or just groups: "(x)" is x. */
static int parse_paren(struct parser *p, int depth, struct py_value **out)
{
    int rc = check_depth(p, depth);
    if (rc < 0)
        return rc;
    p->pos++;
    skip_ws(p);
    if (peek(p) == ')') {
        p->pos++;
        *out = py_new_tuple();
        return 0;
    }
    struct py_value *first;
    rc = parse_value(p, depth + 1, &first);
    if (rc < 0)
        return rc;
    skip_ws(p);
    if (peek(p) == ')') {
        p->pos++;
        *out = first;
        return 0;
    }
    if (peek(p) != ',') {
        py_free(first);
        return fail_expected(p, "',' or ')'");
    }
    p->pos++;
    struct py_value *tuple = py_new_tuple();
    py_append(tuple, first);
    rc = parse_items(p, depth, tuple, ')');
    if (rc < 0) {
        py_free(tuple);
        return rc;
    }
    *out = tuple;
    return 0;
}

/*
 * The keys of a dict being parsed, for finding a repeated key. Comparing
 * each new key with every earlier one made a dict of n keys cost n(n-1)/2
 * comparisons: 800 million for a copy_stats of 40,000 files, seconds of
 * show-backup. An open-addressing hash table instead compares a key only
 * with the earlier keys of the same hash, so distinct keys cost O(1) each
 * and a dict O(n). The table is only the parser's: a parsed dict stays two
 * plain arrays.
 */
struct key_index {
    size_t *slots;    /* dict index + 1 of a key, 0 when free; cap of them */
    size_t cap;       /* a power of two, more than twice the keys */
    uint64_t *hashes; /* hashes[i]: key_hash(dict->items[i]) */
    size_t hcap;
};

/* How many times the parser compared two dict keys (see pyval.h). */
static uint64_t key_compares;

uint64_t py_key_compares(void)
{
    return key_compares;
}

/* splitmix64's finaliser: spreads every input bit over the result. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* A hash that agrees with key_equal: equal keys (1, 1.0, True; 0.0 and
 * -0.0) hash alike. Only for hashable values. */
static uint64_t key_hash(const struct py_value *v)
{
    switch (v->kind) {
    case PY_BOOL:
    case PY_INT:
        return mix((uint64_t)int_of(v));
    case PY_FLOAT: {
        double f = v->f;
        if (f >= -9223372036854775808.0 && f < 9223372036854775808.0 && (double)(int64_t)f == f)
            return mix((uint64_t)(int64_t)f); /* equal to that int */
        uint64_t bits;
        memcpy(&bits, &f, sizeof bits);
        return mix(bits ^ 0x2545f4914f6cdd1du);
    }
    case PY_STR: {
        uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
        for (size_t i = 0; i < v->len; i++)
            h = (h ^ (unsigned char)v->s[i]) * 0x100000001b3u;
        return mix(h);
    }
    case PY_TUPLE: {
        uint64_t h = mix(v->n ^ 0x7475706cu);
        for (size_t i = 0; i < v->n; i++)
            h = mix(h ^ key_hash(v->items[i]));
        return h;
    }
    default:
        return mix(0x4e6f6e65u); /* None */
    }
}

/* Index in dict of the key equal to key (whose hash is h), or -1. */
static ptrdiff_t index_find(const struct key_index *x, const struct py_value *dict,
                            const struct py_value *key, uint64_t h)
{
    if (!x->cap)
        return -1;
    for (size_t at = (size_t)h & (x->cap - 1);; at = (at + 1) & (x->cap - 1)) {
        size_t i = x->slots[at];
        if (i == 0)
            return -1;
        if (x->hashes[i - 1] == h) {
            key_compares++;
            if (key_equal(dict->items[i - 1], key))
                return (ptrdiff_t)(i - 1);
        }
    }
}

/* Put the slot of dict's key number i (hash h) into the table. */
static void index_slot(struct key_index *x, size_t i, uint64_t h)
{
    size_t at = (size_t)h & (x->cap - 1);
    while (x->slots[at])
        at = (at + 1) & (x->cap - 1);
    x->slots[at] = i + 1;
}

/* Record dict's last key (hash h), which dict_push has just added. */
static void index_add(struct key_index *x, const struct py_value *dict, uint64_t h)
{
    size_t n = dict->n;
    if (n > x->hcap) {
        x->hcap = x->hcap ? x->hcap * 2 : 8;
        x->hashes = cel_xrealloc_array(x->hashes, x->hcap, sizeof *x->hashes);
    }
    x->hashes[n - 1] = h;
    if (2 * n >= x->cap) {
        /* grow and re-place every key: amortised O(1) per key */
        free(x->slots);
        x->cap = x->cap ? x->cap * 2 : 16;
        x->slots = cel_xcalloc(x->cap, sizeof *x->slots);
        for (size_t i = 0; i + 1 < n; i++)
            index_slot(x, i, x->hashes[i]);
    }
    index_slot(x, n - 1, h);
}

static void index_free(struct key_index *x)
{
    free(x->slots);
    free(x->hashes);
}

/* {k: v, ...}; a repeated key keeps its place and takes the later value. */
static int parse_dict(struct parser *p, int depth, struct py_value **out)
{
    int rc = check_depth(p, depth);
    if (rc < 0)
        return rc;
    p->pos++;
    struct py_value *dict = py_new_dict();
    struct py_value *key = NULL, *value = NULL;
    struct key_index index = {0};
    for (;;) {
        skip_ws(p);
        if (peek(p) == '}') {
            p->pos++;
            break;
        }
        size_t key_at = p->pos;
        rc = parse_value(p, depth + 1, &key);
        if (rc < 0)
            goto fail;
        if (!hashable(key)) {
            rc = fail(p, key_at, "unhashable dict key");
            goto fail;
        }
        skip_ws(p);
        if (peek(p) != ':') {
            rc = fail_expected(p, "':'");
            goto fail;
        }
        p->pos++;
        rc = parse_value(p, depth + 1, &value);
        if (rc < 0)
            goto fail;
        uint64_t h = key_hash(key);
        ptrdiff_t at = index_find(&index, dict, key, h);
        if (at >= 0) {
            py_free(key);
            py_free(dict->values[at]);
            dict->values[at] = value;
        } else {
            dict_push(dict, key, value);
            index_add(&index, dict, h);
        }
        key = value = NULL;
        skip_ws(p);
        if (peek(p) == ',') {
            p->pos++;
        } else if (peek(p) != '}') {
            rc = fail_expected(p, "',' or '}'");
            goto fail;
        }
    }
    index_free(&index);
    *out = dict;
    return 0;
fail:
    index_free(&index);
    py_free(key);
    py_free(value);
    py_free(dict);
    return rc;
}

/* Any literal; depth is the number of containers around it. */
static int parse_value(struct parser *p, int depth, struct py_value **out)
{
    skip_ws(p);
    unsigned char c = peek(p);
    if (c == '[')
        return parse_list(p, depth, out);
    if (c == '(')
        return parse_paren(p, depth, out);
    if (c == '{')
        return parse_dict(p, depth, out);
    if (c == '\'' || c == '"')
        return parse_str(p, out);
    if (is_digit(c) || c == '-' || c == '+' || c == '.')
        return parse_number(p, out);
    if (is_name_char(c))
        return parse_name(p, out);
    return fail_expected(p, "a value");
}

int py_parse(const char *text, struct py_value **out, struct cel_err *err)
{
    struct parser p = {.text = text ? text : "", .pos = 0, .err = err};
    struct py_value *v;
    *out = NULL;
    skip_ws(&p);
    if (peek(&p) == '\0')
        return fail(&p, p.pos, "empty input");
    int rc = parse_value(&p, 0, &v);
    if (rc < 0)
        return rc;
    skip_ws(&p);
    if (peek(&p) != '\0') {
        py_free(v);
        unsigned char c = peek(&p);
        if (c > ' ' && c < 0x7F)
            return fail(&p, p.pos, "unexpected '%c' after the literal", c);
        return fail(&p, p.pos, "unexpected byte 0x%02x after the literal", c);
    }
    *out = v;
    return 0;
}
