/* Fuzz target: the JSON events a child `cellar --batch --format json`
 * writes, as the console reads them: the input is split into lines, each
 * fed to one job on stdout (stream 1), and every fourth to stderr (2). */
#include "fuzz.h"

#include "tui/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    struct tui_job *j = tui_job_new("fuzz", "backup", "main");
    size_t n = 0;
    for (char *line = text, *next; line; line = next, n++) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        tui_job_feed(j, n % 4 == 3 ? 2 : 1, line);
    }
    tui_job_free(j);
    free(text);
    return 0;
}
