/* Fuzz target: the Python literals Barman writes into backup.info
 * (tablespaces, copy_stats), parsed and printed back with py_repr. */
#include "fuzz.h"

#include "pyval.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    struct py_value *v = NULL;
    struct cel_err err = {0};
    if (py_parse(text, &v, &err) == 0) {
        struct strbuf out = {0};
        py_repr(v, &out);
        sb_free(&out);
        py_free(v);
    }
    free(text);
    return 0;
}
