/*
 * arena.h - a bump allocator for transient allocations.
 *
 * Each op gets an arena for everything it allocates while it runs (parsed
 * requests, rendered strings, lists read from disk) and frees it in one call
 * when the op ends, success or failure. Memory from an arena is never freed
 * individually; pointers stay valid until arena_free().
 */
#ifndef CEL_ARENA_H
#define CEL_ARENA_H

#include "cel.h"

struct arena;

/* New empty arena; free it with arena_free(). Never returns NULL. */
struct arena *arena_new(void);
/* Release every allocation made from the arena, then the arena. NULL is ok. */
void arena_free(struct arena *a);
/* Allocate size bytes aligned for any type, zero-filled. */
void *arena_alloc(struct arena *a, size_t size);
/* Allocate an array of count zero-filled elements, checking for overflow. */
void *arena_alloc_array(struct arena *a, size_t count, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) CEL_PRINTF(2, 3);

#endif
