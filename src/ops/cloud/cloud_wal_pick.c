/*
 * cloud_wal_pick.c - which listed WAL object serves a name, which segments
 * follow it, and the spool's names (see cloud_wal_pick.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud_wal_pick.h"

void cloud_wal_list_add(struct cloud_wal_list *l, const char *prefix, const char *key,
                        uint64_t size, const char *etag)
{
    struct cloud_key k;
    struct cel_err ignored = {0};
    if (cloud_key_parse(prefix, key, &k, &ignored) < 0 || k.kind != CLOUD_KEY_WAL)
        return;
    l->v = cel_xrealloc_array(l->v, l->n + 1, sizeof *l->v);
    struct cloud_wal_obj *o = &l->v[l->n++];
    *o = (struct cloud_wal_obj){.key = cel_xstrdup(key), .k = k, .size = size};
    snprintf(o->etag, sizeof o->etag, "%s", etag ? etag : "");
}

void cloud_wal_list_free(struct cloud_wal_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].key);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* The first object stored under exactly name, whatever its compression. */
static const struct cloud_wal_obj *find_exact(const struct cloud_wal_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].k.wal, name) == 0)
            return &l->v[i];
    return NULL;
}

const struct cloud_wal_obj *cloud_wal_pick(const struct cloud_wal_list *l, const char *want)
{
    const struct cloud_wal_obj *o = find_exact(l, want);
    struct wal_name w;
    if (o || wal_name_parse(want, &w, NULL) < 0 || w.kind != WAL_KIND_SEGMENT)
        return o;
    char partial[WAL_NAME_MAX + 8];
    snprintf(partial, sizeof partial, "%s.partial", want);
    return find_exact(l, partial);
}

/* Whether segment b comes right after segment a on the same timeline. */
static bool follows(const struct wal_name *a, const struct wal_name *b)
{
    if (a->tli != b->tli)
        return false;
    if (b->log == a->log)
        return a->seg != UINT32_MAX && b->seg == a->seg + 1;
    return a->log != UINT32_MAX && b->log == a->log + 1 && b->seg == 0;
}

size_t cloud_wal_ahead(const struct cloud_wal_list *l, const char *want, size_t max,
                       const struct cloud_wal_obj **out)
{
    struct wal_name prev;
    if (wal_name_parse(want, &prev, NULL) < 0 || prev.kind != WAL_KIND_SEGMENT)
        return 0;
    size_t n = 0;
    while (n < max) {
        const struct cloud_wal_obj *next = NULL;
        for (size_t i = 0; i < l->n && !next; i++) {
            const struct cloud_wal_obj *o = &l->v[i];
            if (o->k.wal_name.kind == WAL_KIND_SEGMENT && follows(&prev, &o->k.wal_name))
                next = o;
        }
        if (!next)
            break;
        out[n++] = next;
        prev = next->k.wal_name;
    }
    return n;
}

/* FNV-1a, 64 bits: a stable name for a source, not a secret. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h * 0x100000001b3ull; /* and a separator, so "a"+"bc" differs from "ab"+"c" */
}

char *cloud_spool_dir(const char *base, const char *bucket, const char *path,
                      const char *server)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv1a(h, bucket);
    h = fnv1a(h, path ? path : "");
    h = fnv1a(h, server);
    size_t blen = strlen(base);
    while (blen > 1 && base[blen - 1] == '/')
        blen--;
    return cel_xasprintf("%.*s/%s-%016llx", (int)blen, base, server, (unsigned long long)h);
}

bool cloud_spool_tmp_pid(const char *fname, long *pid)
{
    if (fname[0] != '.')
        return false;
    const char *dot = strrchr(fname, '.');
    if (!dot || dot == fname || (strcmp(dot, ".part") != 0 && strcmp(dot, ".z") != 0))
        return false;
    const char *digits = dot;
    while (digits > fname + 1 && digits[-1] >= '0' && digits[-1] <= '9')
        digits--;
    if (digits == dot || digits[-1] != '.' || digits - 1 == fname || dot - digits > 9)
        return false;
    long n = 0;
    for (const char *d = digits; d < dot; d++)
        n = n * 10 + (*d - '0');
    if (n <= 0)
        return false;
    *pid = n;
    return true;
}
