/* Fuzz target: a configuration file (Barman's INI dialect, every option's
 * value parser, server sections) through cfg_load_text. */
#include "fuzz.h"

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    /* *out is set even when the configuration has errors (config.h) */
    (void)cfg_load_text(text, "fuzz.conf", &cfg, &err);
    if (cfg)
        cfg_free(cfg);
    free(text);
    return 0;
}
