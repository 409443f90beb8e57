/* Fuzz target: the first bytes of an archived WAL file, which get-wal and
 * archive-wal look at to tell a GnuPG message (encryption = gpg) from a
 * plain or compressed file. */
#include "fuzz.h"

#include "gpg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)gpg_is_message(data, size);
    return 0;
}
