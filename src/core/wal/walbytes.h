/*
 * walbytes.h - fixed-size fields read out of WAL bytes.
 *
 * PostgreSQL writes its WAL page and record headers in the host's byte
 * order, at offsets that need not be aligned for the type: a field is
 * copied out with memcpy, never read through a cast pointer (which would
 * be undefined behaviour on an unaligned offset). Shared by the header
 * checks (walcheck.c) and the record reader (walrec.c).
 */
#ifndef CEL_WALBYTES_H
#define CEL_WALBYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t wal_get16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t wal_get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t wal_get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#endif
