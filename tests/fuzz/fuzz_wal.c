/* Fuzz target: WAL from outside. The first byte picks the parser: a WAL
 * file name (archive_command's %f, incoming/ entries), an LSN (backup.info,
 * recovery targets) or a WAL file's content, checked by walcheck_fd against
 * a name, as archive-wal checks every segment it is given. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "walcheck.h"

static void fuzz_wal_content(const uint8_t *data, size_t size)
{
    /* the file a segment or history file would be, behind an fd as
     * archive-wal reads it */
    int fd = memfd_create("wal", 0);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    static const char *const names[] = {
        "000000010000000000000001",
        "000000020000000A000000FF",
        "00000001000000000000000A.00000028.backup",
        "00000002.history",
        "000000010000000000000001.partial",
    };
    struct cel_err err = {0};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct wal_name w;
        if (wal_name_parse(names[i], &w, &err) != 0)
            abort(); /* the names above are valid: the harness is wrong */
        struct walcheck_info info;
        (void)walcheck_fd(fd, size, &w, &info, &err);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t kind = data[0] % 3;
    data++;
    size--;
    struct cel_err err = {0};
    if (kind == 0) {
        char *text = fuzz_text(data, size);
        struct wal_name w;
        if (wal_name_parse(text, &w, &err) == 0) {
            char back[WAL_NAME_MAX];
            wal_name_format(&w, back);
        }
        free(text);
    } else if (kind == 1) {
        char *text = fuzz_text(data, size);
        uint64_t lsn;
        if (wal_lsn_parse(text, &lsn, &err) == 0) {
            char back[WAL_LSN_MAX];
            wal_lsn_format(lsn, back);
        }
        free(text);
    } else {
        fuzz_wal_content(data, size);
    }
    return 0;
}
