/*
 * fuzz_walrec.c - libFuzzer target for the two parsers of outside input
 * behind recovery targets: walrec_scan (a WAL segment's bytes, which come
 * from the archive) and widx_parse (the index file beside xlog.db, which
 * anyone with write access to wals/ can change).
 *
 * The input is used twice: as a segment, once as it is and once with a
 * valid long page header put in front of it (so the fuzzer spends its time
 * in the record walk rather than in the first checks), and as index text.
 * Build and run (clang): make fuzz && build/fuzz/fuzz_walrec -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "walidx.h"
#include "walrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct walrec_summary s;
    walrec_scan(data, size, &s, NULL);
    walrec_summary_free(&s);

    /* a valid first page header, then the input as the rest of the segment */
    size_t len = 40 + size;
    unsigned char *seg = malloc(len);
    if (!seg)
        return 0;
    uint16_t magic = 0xD110, info = (uint16_t)(0x0002 | (size && (data[0] & 1)));
    uint32_t tli = 1, segsize = 1u << 20, blcksz = 8192, rem = size > 1 ? data[1] : 0;
    uint64_t pageaddr = (uint64_t)3 << 20, sysid = 1;
    memset(seg, 0, 40);
    memcpy(seg, &magic, 2);
    memcpy(seg + 2, &info, 2);
    memcpy(seg + 4, &tli, 4);
    memcpy(seg + 8, &pageaddr, 8);
    memcpy(seg + 16, &rem, 4);
    memcpy(seg + 24, &sysid, 8);
    memcpy(seg + 32, &segsize, 4);
    memcpy(seg + 36, &blcksz, 4);
    memcpy(seg + 40, data, size);
    walrec_scan(seg, len, &s, NULL);
    walrec_summary_free(&s);
    free(seg);

    struct widx idx;
    if (widx_parse((const char *)data, size, &idx, NULL) == 0) {
        struct strbuf out = {0};
        widx_format(&idx, &out);
        sb_free(&out);
        widx_free(&idx);
    }
    return 0;
}
