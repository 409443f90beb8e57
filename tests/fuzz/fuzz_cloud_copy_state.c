/* Fuzz target: the state file of a server's copy in its bucket
 * (<backup_directory>/cloud/upload.state), parsed from a length-counted
 * buffer as it is read from disk. What parses is formatted, parsed again
 * and formatted again: the two texts must be the same (what cellar writes
 * it reads back), and every backup ID and WAL name kept must be valid. */
#include "fuzz.h"

#include "cloud_copy.h"
#include "ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_bytes(data, size);
    struct cloud_copy_state st;
    struct cel_err err = {0};
    if (cloud_copy_state_parse(text, size, "upload.state", &st, &err) == 0) {
        if (st.wal_upto[0] && !wal_name_is_valid(st.wal_upto))
            abort();
        for (size_t i = 0; i < st.backups.n; i++)
            if (!ts_is_backup_id(st.backups.v[i]))
                abort();
        for (size_t i = 0; i < st.retired.n; i++)
            if (!ts_is_backup_id(st.retired.v[i]))
                abort();
        struct strbuf a = {0}, b = {0};
        cloud_copy_state_format(&st, &a);
        struct cloud_copy_state again;
        if (cloud_copy_state_parse(a.buf, a.len, "again", &again, &err) != 0)
            abort();
        cloud_copy_state_format(&again, &b);
        if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0)
            abort();
        sb_free(&a);
        sb_free(&b);
        cloud_copy_state_free(&again);
        cloud_copy_state_free(&st);
    }
    free(text);
    return 0;
}
