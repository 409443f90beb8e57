/* Fuzz target: the AWS credentials parsers, cloud_creds_parse for
 * ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE) and
 * cloud_creds_parse_config for ~/.aws/config, files cellar does not write.
 * The input is parsed as it is (exactly size bytes, no NUL after it, so
 * ASan sees any read past the end) for the profiles "default" and "prod". */
#include "fuzz.h"

#include "cloud_creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *raw = malloc(size ? size : 1);
    if (!raw)
        abort();
    if (size)
        memcpy(raw, data, size);
    static const char *const profiles[] = {"default", "prod"};
    for (size_t i = 0; i < 4; i++) {
        struct cloud_creds c = {0};
        struct cel_err err = {0};
        bool found = false;
        int rc =
            i < 2 ? cloud_creds_parse(raw, size, profiles[i], "/fuzz", &c, &found, &err)
                  : cloud_creds_parse_config(raw, size, profiles[i - 2], "/fuzz", &c, &found, &err);
        if (rc == 0 && found && (!c.access_key || !c.secret_key || !c.origin))
            abort(); /* a success always has both keys */
        cloud_creds_free(&c);
    }
    free(raw);
    return 0;
}
