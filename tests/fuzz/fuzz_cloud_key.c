/* Fuzz target: the names that come from a bucket and the command line:
 * cloud_key_parse on the input as an object key listed under the prefixes
 * "pg/x" and "" (a listing is written by whoever else uses the bucket), and
 * the bucket and endpoint URL parsers. A key that parses must format back
 * to the same bytes: that is the parser's promise. */
#include "fuzz.h"

#include "cloud_layout.h"
#include "cloud_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    static const char *const prefixes[] = {"pg/x", ""};
    for (size_t i = 0; i < 2; i++) {
        struct cloud_key k;
        if (cloud_key_parse(prefixes[i], text, &k, NULL) == 0) {
            char *again = cloud_key_format(prefixes[i], &k, NULL);
            if (!again || strcmp(again, text) != 0)
                abort();
            free(again);
        }
    }
    struct cloud_url u;
    if (cloud_url_parse(text, &u, NULL) == 0)
        cloud_url_free(&u);
    struct cloud_endpoint ep;
    if (cloud_endpoint_parse(text, &ep, NULL) == 0) {
        free(cloud_endpoint_base(&ep));
        cloud_endpoint_free(&ep);
    }
    free(text);
    return 0;
}
