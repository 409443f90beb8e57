/*
 * cloud_catalog.c - a server's backups in a bucket (see cloud_catalog.h).
 *
 * One recursive listing of PATH/SERVER/base/ gives every object of every
 * backup at once, in key order, so the objects of one backup arrive
 * together: the listing is cut into runs of one directory, and each run
 * says whether the backup has a backup.info, a keep annotation and which
 * tar objects. barman-cloud lists the directories and then each backup's
 * files; the result is the same with one listing instead of 1 + n.
 */
#include <stdlib.h>
#include <string.h>

#include "cloud_catalog.h"
#include "ops.h"

/* backup.info and annotations are small; Barman's are about 1 KiB */
#define INFO_MAX (1u << 20)

struct listed {
    char *key;
    uint64_t size;
    double mtime; /* LastModified in epoch seconds, 0 when unreadable */
};

struct listing {
    struct listed *items;
    size_t n, cap;
};

static int collect(void *ctx, const struct s3_entry *e, struct cel_err *err)
{
    (void)err;
    struct listing *l = ctx;
    if (e->is_prefix)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->items = cel_xrealloc_array(l->items, l->cap, sizeof *l->items);
    }
    l->items[l->n].key = cel_xstrdup(e->key);
    l->items[l->n].size = e->size;
    struct ts t;
    l->items[l->n].mtime =
        e->last_modified && *e->last_modified && ts_parse(e->last_modified, &t, NULL) == 0
            ? ts_epoch(&t)
            : 0;
    l->n++;
    return 0;
}

static void listing_free(struct listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].key);
    free(l->items);
    memset(l, 0, sizeof *l);
}

struct small {
    struct strbuf sb;
    size_t max;
};

static int to_small(void *ctx, const void *buf, size_t len, struct cel_err *err)
{
    struct small *s = ctx;
    if (s->sb.len + len > s->max)
        return cel_err_set(err, CEL_E_FORMAT, "object larger than %zu bytes", s->max);
    sb_appendn(&s->sb, buf, len);
    return 0;
}

int cloud_get_small(struct cloud_target *t, const char *key, size_t max, char **out,
                    struct cel_err *err)
{
    struct small s = {.max = max};
    sb_append(&s.sb, "");
    int rc = s3_get(t->s3, key, 0, 0, to_small, &s, err);
    if (rc == 0 && strlen(sb_str(&s.sb)) != s.sb.len)
        rc = cel_err_set(err, CEL_E_FORMAT, "'%s' holds a NUL byte", key);
    if (rc < 0) {
        sb_free(&s.sb);
        return rc;
    }
    *out = sb_detach(&s.sb);
    return 0;
}

int cloud_catalog_open(const struct op_ctx *ctx, const struct op_cloud_store *s,
                       struct cloud_target *t, struct cloud_catalog *cat, struct cel_err *err)
{
    int rc = cloud_store_open(s, t, err);
    if (rc != 0)
        return rc;
    rc = cloud_bucket_test(t, err);
    if (rc == 0)
        rc = cloud_catalog_load(ctx, t, cat, err);
    if (rc < 0)
        cloud_target_close(t);
    return rc;
}

char *cloud_keep_key(const struct cloud_target *t, const char *id, struct cel_err *err)
{
    char *dir = cloud_backup_prefix(t->url.prefix, t->server, id, err);
    if (!dir)
        return NULL;
    struct strbuf sb = {0};
    sb_appendf(&sb, "%sannotations/keep", dir);
    free(dir);
    return sb_detach(&sb);
}

static int file_cmp(const void *a, const void *b)
{
    const struct cloud_file *x = a, *y = b;
    if (x->oid != y->oid)
        return x->oid < y->oid ? -1 : 1;
    return x->part < y->part ? -1 : x->part > y->part;
}

/* One backup directory: items [from, to) of the listing, all under
 * base/ID/. Adds the backup to c when its backup.info reads. */
static void load_one(const struct op_ctx *ctx, struct cloud_target *t, struct cloud_catalog *c,
                     const char *base, const char *id, const struct listing *l, size_t from,
                     size_t to)
{
    size_t dirlen = strlen(base) + strlen(id) + 1;
    const char *info_key = NULL;
    const char *keep_key = NULL;
    struct cloud_backup_objs objs = {0};
    for (size_t i = from; i < to; i++) {
        const char *rest = l->items[i].key + dirlen;
        if (strcmp(rest, "backup.info") == 0) {
            info_key = l->items[i].key;
            continue;
        }
        if (strcmp(rest, "annotations/keep") == 0) {
            keep_key = l->items[i].key;
            continue;
        }
        struct cloud_key k;
        struct cel_err ignored = {0};
        if (cloud_key_parse(t->url.prefix, l->items[i].key, &k, &ignored) < 0 ||
            (k.kind != CLOUD_KEY_DATA_TAR && k.kind != CLOUD_KEY_TBS_TAR))
            continue;
        objs.files = cel_xrealloc_array(objs.files, objs.n_files + 1, sizeof *objs.files);
        objs.files[objs.n_files++] = (struct cloud_file){.key = cel_xstrdup(l->items[i].key),
                                                         .oid = k.oid,
                                                         .part = k.part,
                                                         .comp = k.comp,
                                                         .size = l->items[i].size};
    }
    struct cat_backup b = {0};
    struct cel_err e = {0};
    char *text = NULL;
    int rc = 0;
    if (!info_key)
        goto skip; /* no backup.info: barman-cloud's get_backup_info gives None */
    rc = cloud_get_small(t, info_key, INFO_MAX, &text, &e);
    if (rc == 0)
        rc = cat_info_parse(text, info_key, &b, &e);
    free(text);
    if (rc < 0) {
        op_log(ctx, LOG_WARNING, t->server, "Unable to open backup.info file for %s: %s", id,
               e.msg);
        c->unreadable = cel_xrealloc_array(c->unreadable, c->n_unreadable + 1,
                                           sizeof *c->unreadable);
        c->unreadable[c->n_unreadable++] = cel_xstrdup(id);
        cat_backup_clear(&b);
        goto skip;
    }
    b.id = cel_xstrdup(id);
    if (keep_key) {
        char *keep = NULL;
        struct cel_err ke = {0};
        if (cloud_get_small(t, keep_key, INFO_MAX, &keep, &ke) == 0) {
            /* barman-cloud reads the first line */
            keep[strcspn(keep, "\n")] = '\0';
            snprintf(objs.keep, sizeof objs.keep, "%s", keep);
        } else {
            op_log(ctx, LOG_WARNING, t->server, "cannot read the keep annotation of %s: %s", id,
                   ke.msg);
        }
        free(keep);
    }
    qsort(objs.files, objs.n_files, sizeof *objs.files, file_cmp);
    objs.info_key = cel_xstrdup(info_key);
    size_t n = c->list.n;
    c->list.items = cel_xrealloc_array(c->list.items, n + 1, sizeof *c->list.items);
    c->list.errors = cel_xrealloc_array(c->list.errors, n + 1, sizeof *c->list.errors);
    c->list.failed = cel_xrealloc_array(c->list.failed, n + 1, sizeof *c->list.failed);
    c->objs = cel_xrealloc_array(c->objs, n + 1, sizeof *c->objs);
    c->list.items[n] = b;
    memset(&c->list.errors[n], 0, sizeof c->list.errors[n]);
    c->list.failed[n] = false;
    c->objs[n] = objs;
    c->list.n = n + 1;
    return;
skip:
    for (size_t i = 0; i < objs.n_files; i++)
        free(objs.files[i].key);
    free(objs.files);
}

int cloud_catalog_load(const struct op_ctx *ctx, struct cloud_target *t,
                       struct cloud_catalog *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    char *base = cloud_base_prefix(t->url.prefix, t->server, err);
    if (!base)
        return -CEL_E_INVALID;
    struct listing l = {0};
    int rc = s3_list(t->s3, &(struct s3_list_opts){.prefix = base}, collect, &l, err);
    if (rc < 0)
        goto out;
    size_t blen = strlen(base);
    for (size_t i = 0; i < l.n;) {
        const char *rest = l.items[i].key + blen;
        const char *slash = strchr(rest, '/');
        if (!slash || slash == rest) { /* an object right under base/: no backup */
            i++;
            continue;
        }
        char id[256];
        snprintf(id, sizeof id, "%.*s", (int)(slash - rest), rest);
        size_t idlen = strlen(id);
        size_t j = i + 1;
        while (j < l.n && strncmp(l.items[j].key + blen, id, idlen) == 0 &&
               l.items[j].key[blen + idlen] == '/')
            j++;
        load_one(ctx, t, out, base, id, &l, i, j);
        i = j;
    }
out:
    listing_free(&l);
    free(base);
    if (rc < 0)
        cloud_catalog_free(out);
    return rc;
}

/* the objects of c's backups */
static void objs_free(struct cloud_catalog *c)
{
    for (size_t i = 0; i < c->list.n; i++) {
        for (size_t f = 0; f < c->objs[i].n_files; f++)
            free(c->objs[i].files[f].key);
        free(c->objs[i].files);
        free(c->objs[i].info_key);
    }
    free(c->objs);
    c->objs = NULL;
}

void cloud_catalog_free(struct cloud_catalog *c)
{
    objs_free(c);
    cat_list_free(&c->list);
    for (size_t i = 0; i < c->n_unreadable; i++)
        free(c->unreadable[i]);
    free(c->unreadable);
    memset(c, 0, sizeof *c);
}

void cloud_catalog_take_list(struct cloud_catalog *c, struct cat_list *list)
{
    objs_free(c);
    *list = c->list;
    memset(&c->list, 0, sizeof c->list);
    cloud_catalog_free(c);
}

enum ret_mark cloud_keep_mark(const char *keep)
{
    if (strcmp(keep, "full") == 0)
        return RET_MARK_KEEP_FULL;
    if (strcmp(keep, "standalone") == 0)
        return RET_MARK_KEEP_STANDALONE;
    return RET_MARK_NONE;
}

int cloud_catalog_find(const struct cloud_catalog *c, const char *ref, const char *server,
                       struct cel_err *err)
{
    return cat_resolve(&c->list, ref, server, err);
}

int cloud_catalog_wals(struct cloud_target *t, struct cloud_wal **out, size_t *n,
                       struct cel_err *err)
{
    *out = NULL;
    *n = 0;
    char *prefix = cloud_wals_prefix(t->url.prefix, t->server, err);
    if (!prefix)
        return -CEL_E_INVALID;
    struct listing l = {0};
    int rc = s3_list(t->s3, &(struct s3_list_opts){.prefix = prefix}, collect, &l, err);
    free(prefix);
    if (rc < 0) {
        listing_free(&l);
        return rc;
    }
    struct cloud_wal *w = cel_xcalloc(l.n ? l.n : 1, sizeof *w);
    size_t k = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct cloud_key key;
        struct cel_err ignored = {0};
        if (cloud_key_parse(t->url.prefix, l.items[i].key, &key, &ignored) < 0 ||
            key.kind != CLOUD_KEY_WAL)
            continue;
        w[k].key = l.items[i].key;
        l.items[i].key = NULL;
        snprintf(w[k].name, sizeof w[k].name, "%s", key.wal);
        w[k].wal = key.wal_name;
        w[k].comp = key.comp;
        w[k].size = l.items[i].size;
        w[k].mtime = l.items[i].mtime;
        k++;
    }
    listing_free(&l);
    *out = w;
    *n = k;
    return 0;
}

void cloud_wals_free(struct cloud_wal *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(w[i].key);
    free(w);
}
