/*
 * tests/fuzz/fuzz.h - what every libFuzzer target here shares.
 *
 * A target is one parser of outside input fed arbitrary bytes: the parsers
 * take NUL-terminated text, so fuzz_text() copies the input into a fresh
 * heap buffer with a NUL after it (ASan then catches a read one byte past
 * the end). A target never asserts on the parse result: libFuzzer with
 * AddressSanitizer and UndefinedBehaviorSanitizer reports what matters here,
 * a crash, a leak, an overflow or undefined behaviour, for any input.
 */
#ifndef CEL_FUZZ_H
#define CEL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a NUL-terminated string (an embedded NUL ends it early, as it
 * would for a file read into a string); the caller frees it. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* data as exactly size bytes, without a NUL after them (at least one byte
 * allocated), for the parsers that take a length and must stay inside it;
 * the caller frees it. */
static inline char *fuzz_bytes(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    return s;
}

#endif
