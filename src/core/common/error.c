/*
 * error.c - filling struct cel_err, looking codes up in the code table, and
 * showing untrusted text inside a message.
 *
 * Every setter tolerates a NULL err so that callers which only need the
 * return code can pass NULL. Messages are truncated, never overflowed.
 */
#include "error.h"

struct code_info {
    int num;
    const char *name;
    enum cel_exit exit;
    const char *text;
};

static const struct code_info codes[] = {
#define CEL_CODE_INFO(num, name, exit, text) {num, #name, exit, text},
    CEL_CODE_TABLE(CEL_CODE_INFO)
#undef CEL_CODE_INFO
};

static const struct code_info *lookup(int code)
{
    if (code < 0)
        code = -code;
    for (size_t i = 0; i < CEL_ARRAY_LEN(codes); i++)
        if (codes[i].num == code)
            return &codes[i];
    return lookup(CEL_E_INTERNAL);
}

const char *cel_code_name(int code)
{
    return lookup(code)->name;
}

const char *cel_code_text(int code)
{
    return lookup(code)->text;
}

enum cel_exit cel_code_exit(int code)
{
    return lookup(code)->exit;
}

static int vset(struct cel_err *err, enum cel_code code, int errnum, const char *fmt, va_list ap)
    CEL_PRINTF(4, 0);

static int vset(struct cel_err *err, enum cel_code code, int errnum, const char *fmt, va_list ap)
{
    if (err) {
        err->code = (int)code;
        err->sys_errno = errnum;
        err->hint[0] = '\0';
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        if (errnum) {
            size_t len = strlen(err->msg);
            snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(errnum));
        }
    }
    return -(int)code;
}

int cel_err_set(struct cel_err *err, enum cel_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vset(err, code, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int cel_err_sys(struct cel_err *err, enum cel_code code, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vset(err, code, errnum, fmt, ap);
    va_end(ap);
    return rc;
}

void cel_err_hint(struct cel_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
}

void cel_err_prefix(struct cel_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[256];
    char old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    cel_strlcpy(old, err->msg, sizeof old);
    char *joined = cel_xasprintf("%s: %s", prefix, old);
    cel_strlcpy(err->msg, joined, sizeof err->msg); /* truncation is acceptable */
    free(joined);
}

void cel_err_clear(struct cel_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *cel_show(const char *s, size_t len, char buf[CEL_SHOW_BUF])
{
    size_t o = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool esc = c < 0x20 || c > 0x7e || c == '\'' || c == '\\';
        if (o + (esc ? 4 : 1) > CEL_SHOW_MAX)
            break;
        if (esc) {
            snprintf(buf + o, 5, "\\x%02X", (unsigned)c);
            o += 4;
        } else {
            buf[o++] = (char)c;
        }
    }
    if (i < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}
