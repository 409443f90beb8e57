/*
 * s3_xml.h - the XML replies of S3, read into plain structs.
 *
 * An S3 store answers in XML: a listing (ListBucketResult of ListObjectsV2),
 * an error (Error), the start and the end of a multipart upload
 * (InitiateMultipartUploadResult, CompleteMultipartUploadResult, or an Error
 * sent with status 200 when the completion failed late) and the outcome of
 * a multi-object delete (DeleteResult). These parsers read exactly those
 * documents and nothing else: the root element must be the expected one,
 * a document type declaration is refused (no entity tricks), nesting is
 * shallow and each text is bounded. Entities and character references come
 * back decoded ("a&amp;b" is "a&b"). Elements the parser does not know are
 * skipped, as S3 adds fields over time.
 *
 * The XML itself is read by expat; this module only walks its events.
 * Every function returns 0, or -CEL_E_FORMAT with a message saying what was
 * wrong (the reply's text shown with cel_show, never whole). On failure the
 * output holds nothing the caller must free. Nothing here blocks.
 */
#ifndef CEL_S3_XML_H
#define CEL_S3_XML_H

#include "error.h"

/* <Error>: every field is "" when absent. */
struct s3_xml_error {
    char code[64];
    char message[256];
    char request_id[96];
};

/* The body of an error reply. A body that is not an <Error> document (a
 * proxy's HTML page, nothing at all) is a failure the caller reports with
 * the HTTP status alone. */
int s3_xml_parse_error(const char *xml, size_t len, struct s3_xml_error *out,
                       struct cel_err *err);

/* One object of a listing. */
struct s3_xml_object {
    char *key;
    uint64_t size;
    char *etag;          /* as sent, quotes included; "" when absent */
    char *last_modified; /* ISO 8601 as sent; "" when absent */
};

/* One page of ListObjectsV2. */
struct s3_xml_list {
    struct s3_xml_object *objects;
    size_t n_objects;
    char **prefixes; /* CommonPrefixes/Prefix, when a delimiter was given */
    size_t n_prefixes;
    bool truncated;
    char *next_token; /* NextContinuationToken; NULL when absent */
};

/* Fill out (which the caller frees with s3_xml_list_free, also after a
 * failure). Every Contents needs a Key and a Size. */
int s3_xml_parse_list(const char *xml, size_t len, struct s3_xml_list *out,
                      struct cel_err *err);
void s3_xml_list_free(struct s3_xml_list *l);

/* InitiateMultipartUploadResult: the UploadId, a new string the caller
 * frees. */
int s3_xml_parse_initiate(const char *xml, size_t len, char **upload_id, struct cel_err *err);

/* The reply of CompleteMultipartUpload: either the result (its ETag, quotes
 * included, "" when absent) or, even with status 200, an <Error>. */
struct s3_xml_complete {
    bool failed; /* an <Error>: see error */
    char etag[128];
    struct s3_xml_error error;
};
int s3_xml_parse_complete(const char *xml, size_t len, struct s3_xml_complete *out,
                          struct cel_err *err);

/* DeleteResult: the keys deleted, and the keys that were not with why. */
struct s3_xml_delete {
    char **deleted;
    size_t n_deleted;
    struct s3_xml_delete_error {
        char *key;
        char *code;
        char *message;
    } *errors;
    size_t n_errors;
};
/* Fill out (freed with s3_xml_delete_free, also after a failure). */
int s3_xml_parse_delete(const char *xml, size_t len, struct s3_xml_delete *out,
                        struct cel_err *err);
void s3_xml_delete_free(struct s3_xml_delete *d);

#endif
