/* Fuzz target: backup.info (key = value lines, Python literals for
 * tablespaces and copy_stats, times, WAL names, LSNs), then written back
 * out, so a parsed value that the writer cannot format is found too. */
#include "fuzz.h"

#include "catalog.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    struct cat_backup b = {0};
    struct cel_err err = {0};
    if (cat_info_parse(text, "backup.info", &b, &err) == 0) {
        struct strbuf out = {0};
        cat_info_format(&b, &out);
        sb_free(&out);
    }
    cat_backup_clear(&b);
    free(text);
    return 0;
}
