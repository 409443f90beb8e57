/*
 * cel.h - the base header of every cellar source file.
 *
 * It pulls in the C library headers almost every module needs, then poisons
 * the functions we never want to see again (unbounded string copies and the
 * shell-spawning calls: external programs go through proc.c from argv arrays).
 * Poisoning must come after the system headers, so include this header after
 * every system or library header of the including file.
 *
 * It also declares the checked allocators. Every allocation in cellar goes
 * through them so that running out of memory is handled in one place: the
 * binary installs a hook that logs and aborts, tests may install a recorder.
 */
#ifndef CEL_H
#define CEL_H

#ifdef NCURSES_VERSION
#error "src/core and src/ops must not include curses: only src/tui draws"
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC poison system popen sprintf vsprintf strcpy strcat strncpy gets

#define CEL_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#define CEL_NORETURN __attribute__((noreturn))
#define CEL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The version string of cellar, shown by --version and in diagnose. */
#define CEL_VERSION "0.1.0"

/*
 * Out-of-memory hook: called with the size that could not be allocated. It
 * must not return (the allocators abort if it does). The default hook writes
 * one line to stderr and aborts; this is the only place core may write to a
 * terminal, because there is nothing else it can do.
 */
typedef void (*cel_oom_hook)(size_t size);
void cel_set_oom_hook(cel_oom_hook hook);

/* Allocators that never return NULL. A zero size allocates one byte, so the
 * result is always a unique pointer the caller frees with free(). */
void *cel_xmalloc(size_t size);
void *cel_xcalloc(size_t count, size_t size);
void *cel_xrealloc(void *ptr, size_t size);
/* Reallocate an array of count elements, checking count * size for overflow. */
void *cel_xrealloc_array(void *ptr, size_t count, size_t size);
char *cel_xstrdup(const char *s);
char *cel_xstrndup(const char *s, size_t n);
/* Formatted allocation: the result is a new string the caller frees. */
char *cel_xasprintf(const char *fmt, ...) CEL_PRINTF(1, 2);
char *cel_xvasprintf(const char *fmt, va_list ap) CEL_PRINTF(1, 0);

/* Bounded copy that always terminates dst (when dstsize > 0); returns
 * strlen(src), so a result >= dstsize means the copy was truncated. */
size_t cel_strlcpy(char *dst, const char *src, size_t dstsize);

/* True when s starts with prefix / ends with suffix. */
bool cel_str_starts(const char *s, const char *prefix);
bool cel_str_ends(const char *s, const char *suffix);

/* The value (0-15) of the ASCII hexadecimal digit c, or -1: the one
 * hex-digit reader, independent of the locale and of the sign of char. */
static inline int cel_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A whole decimal number (digits only, no sign or space) that fits in 64
 * bits into *out; false for anything else. For the key=value files cellar
 * writes and reads back (walidx, the cloud upload state). */
bool cel_parse_u64(const char *s, uint64_t *out);
/* Seconds since the epoch as written with "%.3f" (a number from 0 to 1e11,
 * starting with a digit) into *out; false for anything else. */
bool cel_parse_epoch(const char *s, double *out);

#endif
