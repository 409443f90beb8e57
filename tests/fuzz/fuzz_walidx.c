/* Fuzz target: the recovery-target index beside xlog.db
 * (xlog.db.cellar-targets), parsed from a length-counted buffer as it is
 * read from disk; an index that parses is formatted back. */
#include "fuzz.h"

#include "strbuf.h"
#include "walidx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exactly size bytes, without a NUL: widx_parse must stay inside len */
    char *text = fuzz_bytes(data, size);
    struct widx idx;
    struct cel_err err = {0};
    if (widx_parse(text, size, &idx, &err) == 0) {
        struct strbuf out = {0};
        widx_format(&idx, &out);
        sb_free(&out);
        widx_free(&idx);
    }
    free(text);
    return 0;
}
