/* Fuzz target: the records of a WAL segment (walrec_scan), which the
 * recovery-target index reads from the archive. The input is scanned as
 * it is (exactly size bytes, so ASan sees any read past the end), then
 * once more behind a valid long page header, so that mutations are spent
 * in the record walk rather than on the first page's checks: the input's
 * first byte chooses whether the page continues a record from the previous
 * segment, its second byte how long that remainder is. Each scan is
 * followed by a walrec_join with a cut record made of the input's first
 * bytes (its third byte says how many), said to end where the segment
 * starts, so the joining of records across segments is fuzzed too. */
#include "fuzz.h"

#include "walrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *raw = malloc(size ? size : 1);
    if (!raw)
        abort();
    if (size)
        memcpy(raw, data, size);
    struct walrec_cut cut = {.lsn = ((uint64_t)3 << 20) - 64,
                             .next_lsn = (uint64_t)3 << 20,
                             .tli = 1,
                             .len = size > 2 ? 1 + data[2] % 96 : 0};
    if (cut.len > size)
        cut.len = size;
    if (cut.len)
        memcpy(cut.bytes, data, cut.len);
    struct walrec_summary s;
    walrec_scan(raw, size, &s, NULL);
    walrec_join(&cut, raw, size, &s);
    walrec_summary_free(&s);
    free(raw);

    size_t len = 40 + size;
    unsigned char *seg = calloc(1, len);
    if (!seg)
        abort();
    uint16_t magic = 0xD110, info = (uint16_t)(0x0002 | (size && (data[0] & 1)));
    uint32_t tli = 1, segsize = 1u << 20, blcksz = 8192, rem = size > 1 ? data[1] : 0;
    uint64_t pageaddr = (uint64_t)3 << 20, sysid = 7401234567890123456ULL;
    memcpy(seg, &magic, 2);
    memcpy(seg + 2, &info, 2);
    memcpy(seg + 4, &tli, 4);
    memcpy(seg + 8, &pageaddr, 8);
    memcpy(seg + 16, &rem, 4);
    memcpy(seg + 24, &sysid, 8);
    memcpy(seg + 32, &segsize, 4);
    memcpy(seg + 36, &blcksz, 4);
    if (size)
        memcpy(seg + 40, data, size);
    walrec_scan(seg, len, &s, NULL);
    walrec_join(&cut, seg, len, &s);
    walrec_summary_free(&s);
    free(seg);
    return 0;
}
