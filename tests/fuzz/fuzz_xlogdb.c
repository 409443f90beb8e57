/* Fuzz target: the WAL catalogue xlog.db (name, size, time, compression
 * and, since Barman 3.14, encryption per line: 3, 4 or 5 fields), parsed
 * from a length-counted buffer as it is read from disk; every entry parsed
 * is formatted back into a line in both styles (4 fields, 5 fields), and
 * each line must parse again into the same entry: what cellar writes it
 * reads back, whatever it read. */
#include "fuzz.h"

#include "strbuf.h"
#include "xlogdb.h"

/* Format e in one style and parse it back: anything else than the same
 * entry is a bug, reported as a crash. */
static void round_trip(const struct xdb_entry *e, bool five, struct strbuf *line)
{
    sb_reset(line);
    xdb_format_line(e, five, line);
    struct xdb again = {0};
    struct cel_err err = {0};
    if (xdb_parse(line->buf, line->len, "line", &again, &err) != 0 || again.n != 1)
        abort();
    const struct xdb_entry *a = &again.entries[0];
    if (strcmp(a->name, e->name) != 0 || a->size != e->size ||
        strcmp(a->compression, e->compression) != 0 || strcmp(a->encryption, e->encryption) != 0)
        abort();
    xdb_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes, without a NUL: xdb_parse must stay
     * inside len */
    char *text = fuzz_bytes(data, size);
    struct xdb db = {0};
    struct cel_err err = {0};
    if (xdb_parse(text, size, "xlog.db", &db, &err) == 0) {
        struct strbuf line = {0};
        for (size_t i = 0; i < db.n; i++) {
            round_trip(&db.entries[i], false, &line);
            round_trip(&db.entries[i], true, &line);
        }
        sb_free(&line);
    }
    xdb_free(&db);
    free(text);
    return 0;
}
