/* Fuzz target: S3's XML replies (src/core/cloud/s3_xml.c), the same bytes
 * through each of the five parsers, as a reply of any kind may come back
 * where another was expected. Seeds: real replies of Swift's s3api. */
#include "fuzz.h"

#include "s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    struct cel_err err = {0};
    struct s3_xml_error e;
    (void)s3_xml_parse_error(xml, size, &e, &err);
    struct s3_xml_list l;
    (void)s3_xml_parse_list(xml, size, &l, &err);
    s3_xml_list_free(&l);
    char *upload_id = NULL;
    if (s3_xml_parse_initiate(xml, size, &upload_id, &err) == 0)
        free(upload_id);
    struct s3_xml_complete c;
    (void)s3_xml_parse_complete(xml, size, &c, &err);
    struct s3_xml_delete d;
    (void)s3_xml_parse_delete(xml, size, &d, &err);
    s3_xml_delete_free(&d);
    return 0;
}
