/* Fuzz target: config-update's JSON argument and Barman's queue file, parsed
 * into typed changes (the same bytes both ways); what parses is written
 * into an auto file's text as config-update does and written back as a
 * queue. */
#include "fuzz.h"

#include "config_update_json.h"

static void use(const struct cfg_change_list *l)
{
    struct strbuf text = {0}, queue = {0};
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = 0; j < l->sets[i].n; j++)
            cfg_auto_text_set(&text, l->sets[i].section, l->sets[i].changes[j].key,
                              l->sets[i].changes[j].value);
    config_update_queue_json(l, "/var/lib/barman/.barman.auto.conf", &queue);
    sb_free(&text);
    sb_free(&queue);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *bytes = fuzz_bytes(data, size);
    struct cel_err err = {0};
    struct cfg_change_list l;
    cfg_change_list_init(&l);
    if (config_update_parse_arg(bytes, size, &l, &err) == 0)
        use(&l);
    cfg_change_list_free(&l);
    cfg_change_list_init(&l);
    if (config_update_parse_queue(bytes, size, &l, &err) == 0)
        use(&l);
    cfg_change_list_free(&l);
    free(bytes);
    return 0;
}
