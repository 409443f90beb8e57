/* Fuzz target: backup_manifest as manifest_parse reads it (pg_basebackup's
 * and cellar's), from a length-counted buffer; every entry found is looked
 * up again by its path. */
#include "fuzz.h"

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct manifest m;
    struct cel_err err = {0};
    if (manifest_parse((const char *)data, size, "backup_manifest", &m, &err) == 0) {
        for (size_t i = 0; i < m.n_files; i++)
            if (!manifest_find(&m, m.files[i].path))
                abort();
        manifest_free(&m);
    }
    return 0;
}
