/*
 * strbuf.h - a growable, always NUL-terminated string.
 *
 * Renderers build their output in a strbuf and hand it to the caller, which
 * decides where it goes. A zero-initialised struct strbuf is an empty string
 * ready to use: `struct strbuf sb = {0};`. sb.buf may be NULL until the first
 * append, so read it through sb_str().
 */
#ifndef CEL_STRBUF_H
#define CEL_STRBUF_H

#include "cel.h"

struct strbuf {
    char *buf;
    size_t len;
    size_t cap;
};

void sb_append(struct strbuf *sb, const char *s);
void sb_appendn(struct strbuf *sb, const char *s, size_t n);
void sb_appendc(struct strbuf *sb, char c);
void sb_appendf(struct strbuf *sb, const char *fmt, ...) CEL_PRINTF(2, 3);
void sb_vappendf(struct strbuf *sb, const char *fmt, va_list ap) CEL_PRINTF(2, 0);
/* Append n copies of c (padding). */
void sb_pad(struct strbuf *sb, char c, size_t n);
/* s quoted for a POSIX shell: in single quotes, each ' written '\''. */
void sb_append_shell_quoted(struct strbuf *sb, const char *s);
/* s as one word for a POSIX shell: as it is when it holds only characters
 * no shell treats specially (letters, digits and _-./:=@%+,), else quoted
 * as sb_append_shell_quoted does; '' for an empty s. For command lines a
 * person reads. */
void sb_append_shell_word(struct strbuf *sb, const char *s);
/* The contents; "" for an empty buffer. Valid until the next change. */
const char *sb_str(const struct strbuf *sb);
/* Make the buffer empty, keeping its memory. */
void sb_reset(struct strbuf *sb);
/* Give the string to the caller (who frees it) and leave the buffer empty. */
char *sb_detach(struct strbuf *sb);
void sb_free(struct strbuf *sb);

#endif
