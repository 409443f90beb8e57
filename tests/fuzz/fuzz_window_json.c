/* Fuzz target: the recoverable window as recover --window writes it and
 * the console's wizard reads it (op_window_from_json: a JSON object with
 * backup.info texts, WAL names and the recovery-target index), then written
 * back out, so a window read that the writer cannot render is found too. */
#include "fuzz.h"

#include "ops/ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    struct op_window w;
    struct cel_err err = {0};
    if (op_window_from_json(j, &w, &err) == 0)
        json_decref(op_window_json(&w, "fuzz"));
    op_window_free(&w);
    json_decref(j);
    return 0;
}
