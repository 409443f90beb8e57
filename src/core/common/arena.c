/*
 * arena.c - chunked bump allocation.
 *
 * The arena is a list of chunks; an allocation is carved from the head chunk
 * or, when it does not fit, from a new chunk at least as large as the request.
 * Large requests get a chunk of their own so they do not waste the tail of a
 * normal chunk.
 */
#include "arena.h"

#define ARENA_CHUNK 16384
#define ARENA_ALIGN 16

struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
    struct chunk *head;
};

struct arena *arena_new(void)
{
    return cel_xcalloc(1, sizeof(struct arena));
}

void arena_free(struct arena *a)
{
    if (!a)
        return;
    struct chunk *c = a->head;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

static struct chunk *chunk_new(size_t size)
{
    struct chunk *c = cel_xmalloc(sizeof(struct chunk) + size);
    c->next = NULL;
    c->used = 0;
    c->size = size;
    return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need == 0)
        need = ARENA_ALIGN;
    struct chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        if (need > ARENA_CHUNK / 4) {
            /* a big block of its own, linked behind the head so the head's
             * free tail stays usable */
            struct chunk *big = chunk_new(need);
            big->used = need;
            if (c) {
                big->next = c->next;
                c->next = big;
            } else {
                a->head = big;
            }
            memset(big->data, 0, need);
            return big->data;
        }
        c = chunk_new(ARENA_CHUNK);
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, need);
    return p;
}

void *arena_alloc_array(struct arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return cel_xrealloc_array(NULL, count, size); /* reports out of memory */
    return arena_alloc(a, count * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = arena_alloc(a, len + 1);
    memcpy(p, s, len);
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *tmp = cel_xvasprintf(fmt, ap);
    va_end(ap);
    char *p = arena_strdup(a, tmp);
    free(tmp);
    return p;
}
