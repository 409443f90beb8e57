/*
 * mem.c - checked allocation and small string helpers.
 *
 * cellar treats running out of memory as fatal: a backup manager that cannot
 * allocate a few kilobytes cannot do anything useful, and threading NULL
 * checks through every caller would hide the real error paths. The hook lets
 * the binary log the failure first and lets tests observe it.
 */
#include <errno.h>

#include "cel.h"

static void default_oom(size_t size)
{
    fprintf(stderr, "cellar: out of memory allocating %zu bytes\n", size);
    abort();
}

static cel_oom_hook oom_hook = default_oom;

void cel_set_oom_hook(cel_oom_hook hook)
{
    oom_hook = hook ? hook : default_oom;
}

/* Calls the hook and makes sure we never come back into the caller. */
static CEL_NORETURN void out_of_memory(size_t size)
{
    oom_hook(size);
    abort();
}

void *cel_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

void *cel_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *cel_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

void *cel_xrealloc_array(void *ptr, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        out_of_memory(SIZE_MAX);
    return cel_xrealloc(ptr, count * size);
}

char *cel_xstrdup(const char *s)
{
    return cel_xstrndup(s, strlen(s));
}

char *cel_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = cel_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *cel_xvasprintf(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len < 0)
        out_of_memory(0);
    char *p = cel_xmalloc((size_t)len + 1);
    vsnprintf(p, (size_t)len + 1, fmt, ap);
    return p;
}

char *cel_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = cel_xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

size_t cel_strlcpy(char *dst, const char *src, size_t dstsize)
{
    size_t len = strlen(src);
    if (dstsize > 0) {
        size_t n = len < dstsize - 1 ? len : dstsize - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

bool cel_str_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool cel_str_ends(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool cel_parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool cel_parse_epoch(const char *s, double *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || v < 0 || v > 1e11)
        return false;
    *out = v;
    return true;
}
