/* Fuzz target: the streaming tar reader (verify-backup and recovery read
 * pg_basebackup's archives with it), fed the input in pieces whose size the
 * first byte chooses, so block boundaries fall everywhere; every member's
 * name, link and content are touched. */
#include "fuzz.h"

#include "tar_read.h"

static int on_member(void *ctx, const struct tar_member *m, struct cel_err *err)
{
    (void)err;
    size_t *sum = ctx;
    *sum += strlen(m->name) + strlen(m->link) + (size_t)m->type;
    return 0;
}

static int on_data(void *ctx, const unsigned char *buf, size_t len, struct cel_err *err)
{
    (void)err;
    size_t *sum = ctx;
    for (size_t i = 0; i < len; i++)
        *sum += buf[i];
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)data[0] * 7 + 1;
    data++;
    size--;
    size_t sum = 0;
    struct tar_read_cb cb = {.member = on_member, .data = on_data, .ctx = &sum};
    struct tar_read *t = tar_read_new(&cb, "fuzz.tar");
    struct cel_err err = {0};
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < size; off += step)
        rc = tar_read_feed(t, data + off, size - off < step ? size - off : step, &err);
    if (rc == 0)
        (void)tar_read_finish(t, &err);
    tar_read_free(t);
    return 0;
}
