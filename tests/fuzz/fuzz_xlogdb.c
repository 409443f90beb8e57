/* Fuzz target: the WAL catalogue xlog.db (name, size, time and compression
 * per line), parsed from a length-counted buffer as it is read from disk;
 * every entry parsed is formatted back into a line. */
#include "fuzz.h"

#include "strbuf.h"
#include "xlogdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes, without a NUL: xdb_parse must stay
     * inside len */
    char *text = malloc(size ? size : 1);
    if (!text)
        abort();
    if (size)
        memcpy(text, data, size);
    struct xdb db = {0};
    struct cel_err err = {0};
    if (xdb_parse(text, size, "xlog.db", &db, &err) == 0) {
        struct strbuf line = {0};
        for (size_t i = 0; i < db.n; i++) {
            sb_reset(&line);
            xdb_format_line(&db.entries[i], &line);
        }
        sb_free(&line);
    }
    xdb_free(&db);
    free(text);
    return 0;
}
