/*
 * tar_read.c - a streaming tar reader: a small state machine over 512-byte
 * blocks, fed whatever piece sizes the decompressor produces.
 *
 * States: HEADER (filling one block), DATA (passing a member's content on),
 * PAD (skipping to the next block boundary), EXT (collecting an extended
 * header: GNU long name 'L', long link 'K', pax 'x'; a pax global header
 * 'g' is collected and ignored) and END (after the first zero block;
 * everything else is ignored, as tar does with the padding of a blocking
 * factor). An extended header applies to the next header only.
 *
 * A header is accepted when its checksum (the byte sum with the checksum
 * field read as spaces) matches, summed unsigned or, as old tars did,
 * signed. Numeric fields are octal, or base-256 when their first byte has
 * the high bit set (GNU; pg_basebackup writes sizes of 8 GiB and more so).
 */
#include "tar_read.h"
#include "strbuf.h"

#define BLOCK 512
#define EXT_MAX (1024 * 1024) /* longest extended header kept */

enum tr_state { TR_HEADER, TR_DATA, TR_PAD, TR_EXT, TR_END };

struct tar_read {
    struct tar_read_cb cb;
    char *what;
    enum tr_state state;
    unsigned char block[BLOCK];
    size_t have;                 /* bytes in block (TR_HEADER) */
    uint64_t offset;             /* bytes of the archive consumed */
    uint64_t size;               /* content bytes of the current member or extended header */
    uint64_t left;               /* of which still to come (TR_DATA, TR_EXT) */
    size_t pad;                  /* padding bytes still to skip (TR_PAD) */
    char ext_type;               /* the extended header being collected */
    struct strbuf ext;           /* its content */
    char *long_name, *long_link; /* from 'L' / 'K' or pax, for the next header */
    bool pax_size_set;
    uint64_t pax_size;
    uint64_t members;
    uint64_t header_at; /* offset of the header being read */
};

struct tar_read *tar_read_new(const struct tar_read_cb *cb, const char *what)
{
    struct tar_read *t = cel_xcalloc(1, sizeof *t);
    if (cb)
        t->cb = *cb;
    t->what = cel_xstrdup(what ? what : "tar archive");
    return t;
}

void tar_read_free(struct tar_read *t)
{
    if (!t)
        return;
    sb_free(&t->ext);
    free(t->long_name);
    free(t->long_link);
    free(t->what);
    free(t);
}

uint64_t tar_read_members(const struct tar_read *t)
{
    return t->members;
}

static int damaged(struct tar_read *t, const char *why, struct cel_err *err)
{
    return cel_err_set(err, CEL_E_FORMAT, "invalid tar data in '%s': %s at offset %llu", t->what,
                       why, (unsigned long long)t->header_at);
}

/* A numeric field: octal digits (leading spaces, ending at a space or NUL),
 * or base-256 big-endian when the high bit of the first byte is set. */
static bool tr_number(const unsigned char *f, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (f[0] & 0x80) {
        if (f[0] & 0x40)
            return false; /* negative */
        v = f[0] & 0x3f;
        for (size_t i = 1; i < n; i++) {
            if (v >> 56)
                return false;
            v = v << 8 | f[i];
        }
        *out = v;
        return true;
    }
    size_t i = 0;
    while (i < n && f[i] == ' ')
        i++;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 61)
            return false;
        v = v << 3 | (uint64_t)(f[i] - '0');
    }
    if (i < n && f[i] != ' ' && f[i] != '\0')
        return false;
    *out = v;
    return true;
}

static bool tr_zero_block(const unsigned char *b)
{
    for (size_t i = 0; i < BLOCK; i++)
        if (b[i])
            return false;
    return true;
}

static bool tr_checksum_ok(const unsigned char *b)
{
    uint64_t want;
    if (!tr_number(b + 148, 8, &want))
        return false;
    uint64_t usum = 0;
    int64_t ssum = 0;
    for (size_t i = 0; i < BLOCK; i++) {
        unsigned char c = i >= 148 && i < 156 ? ' ' : b[i];
        usum += c;
        ssum += (signed char)c;
    }
    return usum == want || (ssum >= 0 && (uint64_t)ssum == want);
}

/* A text field of n bytes, NUL-terminated or full. */
static void tr_field(struct strbuf *sb, const unsigned char *f, size_t n)
{
    size_t len = 0;
    while (len < n && f[len])
        len++;
    sb_appendn(sb, (const char *)f, len);
}

/* The records "LEN key=value\n" of a pax extended header. */
static int tr_pax(struct tar_read *t, struct cel_err *err)
{
    const char *p = t->ext.buf ? t->ext.buf : "";
    const char *end = p + t->ext.len;
    while (p < end) {
        char *stop;
        unsigned long len = strtoul(p, &stop, 10);
        if (stop == p || *stop != ' ' || len == 0 || len > (unsigned long)(end - p) ||
            p[len - 1] != '\n')
            return damaged(t, "malformed pax extended header", err);
        const char *kv = stop + 1, *rec_end = p + len - 1;
        const char *eq = memchr(kv, '=', (size_t)(rec_end - kv));
        if (!eq)
            return damaged(t, "malformed pax extended header", err);
        size_t klen = (size_t)(eq - kv);
        char *value = cel_xstrndup(eq + 1, (size_t)(rec_end - eq - 1));
        if (klen == 4 && memcmp(kv, "path", 4) == 0) {
            free(t->long_name);
            t->long_name = value;
            value = NULL;
        } else if (klen == 8 && memcmp(kv, "linkpath", 8) == 0) {
            free(t->long_link);
            t->long_link = value;
            value = NULL;
        } else if (klen == 4 && memcmp(kv, "size", 4) == 0) {
            char *e;
            t->pax_size = strtoull(value, &e, 10);
            t->pax_size_set = e != value && *e == '\0';
        }
        free(value);
        p += len;
    }
    return 0;
}

/* The extended header collected in t->ext is complete. */
static int tr_ext_done(struct tar_read *t, struct cel_err *err)
{
    int rc = 0;
    if (t->ext_type == 'L' || t->ext_type == 'K') {
        char *v = cel_xstrndup(t->ext.buf ? t->ext.buf : "", t->ext.len);
        char **slot = t->ext_type == 'L' ? &t->long_name : &t->long_link;
        free(*slot);
        *slot = v;
    } else if (t->ext_type == 'x') {
        rc = tr_pax(t, err);
    }
    sb_free(&t->ext);
    t->ext = (struct strbuf){0};
    return rc;
}

/* The content of size bytes that follows a header is then padded to a block. */
static void tr_after(struct tar_read *t, uint64_t size)
{
    t->pad = (size_t)((BLOCK - size % BLOCK) % BLOCK);
    t->state = t->pad ? TR_PAD : TR_HEADER;
}

/* A complete header block. */
static int tr_header(struct tar_read *t, struct cel_err *err)
{
    const unsigned char *b = t->block;
    if (tr_zero_block(b)) {
        t->state = TR_END;
        return 0;
    }
    if (!tr_checksum_ok(b))
        return damaged(t, "header checksum mismatch", err);
    uint64_t size;
    if (!tr_number(b + 124, 12, &size))
        return damaged(t, "invalid size field", err);
    char type = (char)b[156];
    if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
        if (size > EXT_MAX)
            return damaged(t, "extended header too long", err);
        t->ext_type = type;
        t->size = t->left = size;
        sb_free(&t->ext);
        t->ext = (struct strbuf){0};
        if (size == 0) {
            int rc = tr_ext_done(t, err);
            tr_after(t, 0);
            return rc;
        }
        t->state = TR_EXT;
        return 0;
    }
    if (t->pax_size_set)
        size = t->pax_size;
    if (type == '\0' || type == '7')
        type = '0';
    if (type == '1' || type == '2' || type == '5' || type == '3' || type == '4' || type == '6')
        size = 0; /* no content, whatever the field says */

    struct strbuf name = {0}, link = {0};
    if (t->long_name) {
        sb_append(&name, t->long_name);
    } else {
        if (memcmp(b + 257, "ustar", 5) == 0 && b[345]) {
            tr_field(&name, b + 345, 155);
            sb_appendc(&name, '/');
        }
        tr_field(&name, b, 100);
    }
    if (t->long_link)
        sb_append(&link, t->long_link);
    else
        tr_field(&link, b + 157, 100);
    const char *n = sb_str(&name);
    while (n[0] == '.' && n[1] == '/')
        n += 2;
    /* mode and mtime matter to an extractor only: a bad field reads as 0 */
    uint64_t mode = 0, mtime = 0;
    if (!tr_number(b + 100, 8, &mode))
        mode = 0;
    if (!tr_number(b + 136, 12, &mtime))
        mtime = 0;
    struct tar_member m = {.name = n,
                           .link = sb_str(&link),
                           .type = type,
                           .size = size,
                           .offset = t->header_at,
                           .mode = (unsigned)(mode & 07777),
                           .mtime = (int64_t)mtime};
    free(t->long_name);
    free(t->long_link);
    t->long_name = t->long_link = NULL;
    t->pax_size_set = false;
    t->members++;
    int rc = t->cb.member ? t->cb.member(t->cb.ctx, &m, err) : 0;
    sb_free(&name);
    sb_free(&link);
    if (rc < 0)
        return rc;
    if (size == 0) {
        if (t->cb.member_end && (rc = t->cb.member_end(t->cb.ctx, err)) < 0)
            return rc;
        t->state = TR_HEADER;
        return 0;
    }
    t->size = t->left = size;
    t->state = TR_DATA;
    return 0;
}

int tar_read_feed(struct tar_read *t, const unsigned char *buf, size_t len, struct cel_err *err)
{
    int rc = 0;
    while (len > 0 && rc == 0) {
        size_t take;
        switch (t->state) {
        case TR_END:
            t->offset += len;
            return 0;
        case TR_HEADER:
            if (t->have == 0)
                t->header_at = t->offset;
            take = BLOCK - t->have < len ? BLOCK - t->have : len;
            memcpy(t->block + t->have, buf, take);
            t->have += take;
            if (t->have == BLOCK) {
                t->have = 0;
                rc = tr_header(t, err);
            }
            break;
        case TR_DATA:
        case TR_EXT:
            take = t->left < len ? (size_t)t->left : len;
            if (t->state == TR_EXT)
                sb_appendn(&t->ext, (const char *)buf, take);
            else if (t->cb.data)
                rc = t->cb.data(t->cb.ctx, buf, take, err);
            t->left -= take;
            if (rc == 0 && t->left == 0) {
                if (t->state == TR_EXT)
                    rc = tr_ext_done(t, err);
                else if (t->cb.member_end)
                    rc = t->cb.member_end(t->cb.ctx, err);
                tr_after(t, t->size);
            }
            break;
        case TR_PAD:
            take = t->pad < len ? t->pad : len;
            t->pad -= take;
            if (t->pad == 0)
                t->state = TR_HEADER;
            break;
        default:
            return cel_err_set(err, CEL_E_INTERNAL, "tar reader in an unknown state");
        }
        buf += take;
        len -= take;
        t->offset += take;
    }
    return rc;
}

int tar_read_finish(struct tar_read *t, struct cel_err *err)
{
    if (t->state == TR_END || (t->state == TR_HEADER && t->have == 0 && !t->long_name &&
                               !t->long_link && !t->pax_size_set))
        return 0;
    t->header_at = t->offset;
    return damaged(t, "unexpected end of archive", err);
}

/* ---- one member of an archive file ----------------------------------------- */

struct tr_pick {
    struct tar_read *t;
    const char *name, *path;
    size_t max;
    bool in, done, too_long;
    struct strbuf content;
};

static int tr_pick_member(void *ctx, const struct tar_member *m, struct cel_err *err)
{
    (void)err;
    struct tr_pick *pk = ctx;
    pk->in = !pk->done && m->type == '0' && strcmp(m->name, pk->name) == 0;
    if (pk->in && m->size > pk->max)
        pk->too_long = true;
    return 0;
}

static int tr_pick_data(void *ctx, const unsigned char *buf, size_t len, struct cel_err *err)
{
    (void)err;
    struct tr_pick *pk = ctx;
    if (pk->in && !pk->too_long)
        sb_appendn(&pk->content, (const char *)buf, len);
    return 0;
}

static int tr_pick_end(void *ctx, struct cel_err *err)
{
    (void)err;
    struct tr_pick *pk = ctx;
    if (pk->in)
        pk->done = true;
    pk->in = false;
    return 0;
}

/* Decompressed bytes into the reader; a positive value stops the
 * decompression once the member has been read. */
static int tr_pick_feed(void *ctx, const unsigned char *data, size_t len, struct cel_err *err)
{
    struct tr_pick *pk = ctx;
    int rc = tar_read_feed(pk->t, data, len, err);
    return rc < 0 ? rc : (pk->done || pk->too_long) ? 1 : 0;
}

int tar_read_member(const char *path, enum comp_kind kind, const char *name, size_t max,
                    char **out, size_t *len, struct cel_err *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    struct tr_pick pk = {.name = name, .path = path, .max = max};
    struct tar_read_cb cb = {.member = tr_pick_member, .data = tr_pick_data,
                             .member_end = tr_pick_end, .ctx = &pk};
    pk.t = tar_read_new(&cb, path);
    int rc = comp_decompress_each(kind, path, NULL, tr_pick_feed, &pk, NULL, err);
    if (rc == 0)
        rc = tar_read_finish(pk.t, err);
    if (rc >= 0) {
        if (pk.too_long)
            rc = cel_err_set(err, CEL_E_FORMAT, "'%s' in '%s' is longer than %zu bytes", name,
                             path, max);
        else if (!pk.done)
            rc = cel_err_set(err, CEL_E_NOT_FOUND, "'%s' has no member '%s'", path, name);
        else
            rc = 0;
    }
    if (rc == 0) {
        sb_append(&pk.content, ""); /* an empty member is "" */
        if (len)
            *len = pk.content.len;
        *out = sb_detach(&pk.content);
    }
    sb_free(&pk.content);
    tar_read_free(pk.t);
    return rc;
}
