/* Fuzz target: a console colour theme file (role fg bg attributes). */
#include "fuzz.h"

#include "tui/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    struct tui_theme t;
    struct cel_err err = {0};
    (void)tui_theme_parse(text, "fuzz.theme", &t, &err);
    free(text);
    return 0;
}
