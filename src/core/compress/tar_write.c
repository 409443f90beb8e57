/*
 * tar_write.c - ustar headers, with GNU's long names and base-256 sizes.
 *
 * A name goes, in order of preference: whole into the 100-byte name field;
 * split at a '/' into the 155-byte prefix and the name field (the ustar
 * way, which every reader knows); else as a GNU 'L' member named
 * "././@LongLink" whose content is the name, followed by the ustar header
 * holding the name's first 99 bytes. Numbers are octal, NUL-terminated,
 * zero-padded to the field; a size too big for 11 octal digits is written
 * big-endian with the field's first byte 0x80 (GNU base-256).
 */
#include <string.h>

#include "cel.h"
#include "tar_write.h"

/* Octal into a field of len bytes (len - 1 digits and a NUL); false when
 * v does not fit. */
static bool put_octal(unsigned char *f, size_t len, uint64_t v)
{
    f[len - 1] = '\0';
    for (size_t i = len - 1; i > 0; i--) {
        f[i - 1] = (unsigned char)('0' + (v & 7));
        v >>= 3;
    }
    return v == 0;
}

/* A number into a field: octal when it fits, else GNU base-256. */
static void put_number(unsigned char *f, size_t len, uint64_t v)
{
    if (put_octal(f, len, v))
        return;
    memset(f, 0, len);
    f[0] = 0x80;
    for (size_t i = len; i > 1 && v; i--) {
        f[i - 1] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static void put_string(unsigned char *f, size_t len, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    memcpy(f, s ? s : "", n < len ? n : len);
}

/* The checksum: the sum of the block's bytes with the field as spaces,
 * six octal digits, a NUL and a space. */
static void put_checksum(unsigned char *b)
{
    memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += b[i];
    put_octal(b + 148, 7, sum);
    b[155] = ' ';
}

/* A ustar block: name (and prefix) as given, the rest from e. */
static void ustar_block(unsigned char *b, const struct tar_entry *e, const char *name,
                        size_t name_len, const char *prefix, size_t prefix_len, char type,
                        uint64_t size)
{
    memset(b, 0, TAR_BLOCK);
    memcpy(b, name, name_len);
    put_octal(b + 100, 8, (uint64_t)(e->mode & 07777));
    put_number(b + 108, 8, (uint64_t)e->uid);
    put_number(b + 116, 8, (uint64_t)e->gid);
    put_number(b + 124, 12, size);
    put_number(b + 136, 12, e->mtime > 0 ? (uint64_t)e->mtime : 0);
    b[156] = (unsigned char)type;
    if (e->link)
        put_string(b + 157, 100, e->link);
    memcpy(b + 257, "ustar", 6); /* magic "ustar\0" and version "00" */
    memcpy(b + 263, "00", 2);
    put_string(b + 265, 32, e->uname);
    put_string(b + 297, 32, e->gname);
    if (prefix_len)
        memcpy(b + 345, prefix, prefix_len);
    put_checksum(b);
}

ssize_t tar_header(const struct tar_entry *e, unsigned char *out, struct cel_err *err)
{
    size_t len = e->name ? strlen(e->name) : 0;
    if (len == 0)
        return cel_err_set(err, CEL_E_INVALID, "a tar member needs a name");
    if (len > TAR_NAME_MAX)
        return cel_err_set(err, CEL_E_INVALID, "tar member name too long (%zu bytes): %.80s...",
                           len, e->name);
    if (e->type != '0' && e->type != '2' && e->type != '5')
        return cel_err_set(err, CEL_E_INVALID, "tar member '%s': unknown type '%c'", e->name,
                           e->type);
    if (e->type == '2' && (!e->link || strlen(e->link) > 100))
        return cel_err_set(err, CEL_E_INVALID,
                           "tar member '%s': a symbolic link target of more than 100 bytes",
                           e->name);
    uint64_t size = e->type == '0' ? e->size : 0;
    if (len <= 100) {
        ustar_block(out, e, e->name, len, NULL, 0, e->type, size);
        return TAR_BLOCK;
    }
    /* the last '/' that leaves at most 155 bytes before it and at most 100
     * after it */
    for (size_t i = len - 1; i > 0; i--) {
        if (e->name[i] != '/')
            continue;
        if (len - i - 1 > 100)
            break;
        if (i <= 155 && len - i - 1 > 0) {
            ustar_block(out, e, e->name + i + 1, len - i - 1, e->name, i, e->type, size);
            return TAR_BLOCK;
        }
    }
    /* GNU long name: a member holding the name and its NUL */
    struct tar_entry ln = {.mode = 0644};
    ustar_block(out, &ln, "././@LongLink", 13, NULL, 0, 'L', len + 1);
    size_t blocks = (len + 1 + TAR_BLOCK - 1) / TAR_BLOCK;
    memset(out + TAR_BLOCK, 0, blocks * TAR_BLOCK);
    memcpy(out + TAR_BLOCK, e->name, len);
    unsigned char *h = out + TAR_BLOCK * (1 + blocks);
    ustar_block(h, e, e->name, 99, NULL, 0, e->type, size);
    return (ssize_t)(TAR_BLOCK * (2 + blocks));
}

size_t tar_padding(uint64_t size)
{
    return (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
}
