/*
 * s3_list.c - ListObjectsV2 through all its pages, and DeleteObjects.
 *
 * A listing asks for a page (list-type=2, prefix, delimiter, max-keys, and
 * from the second page on the continuation-token of the previous one),
 * parses it (s3_xml.c) and calls the caller's function for each object and
 * each common prefix, in key order, until a page is not truncated.
 *
 * DeleteObjects sends up to 1,000 keys in one POST ?delete with a
 * Content-MD5 of the XML body (S3 requires it, and Swift's s3api checks
 * it) and Quiet mode, so the reply lists only the keys that failed. A store
 * that does not implement it (501, 405, or a NotImplemented code) gets one
 * DELETE per key instead, from then on.
 */
#include "s3_int.h"
#include "s3_xml.h"

#define S3_DELETE_BATCH 1000

static int list_page(struct s3_client *c, const struct s3_list_opts *o, const char *token,
                     struct s3_xml_list *page, struct cel_err *err)
{
    struct s3_query q = {0};
    struct s3_resp resp = {0};
    char num[16];
    s3_query_add(&q, "list-type", "2");
    if (o->prefix && *o->prefix)
        s3_query_add(&q, "prefix", o->prefix);
    if (o->delimiter && *o->delimiter)
        s3_query_add(&q, "delimiter", o->delimiter);
    if (o->max_keys > 0) {
        snprintf(num, sizeof num, "%d", o->max_keys);
        s3_query_add(&q, "max-keys", num);
    }
    if (token)
        s3_query_add(&q, "continuation-token", token);
    struct s3_req r = {.method = "GET", .query = &q, .body_fd = -1};
    int rc = s3_request(c, c->curl, &r, &resp, err);
    if (rc == 0)
        rc = s3_xml_parse_list(resp.body.buf, resp.body.len, page, err);
    sb_free(&resp.body);
    s3_query_free(&q);
    return rc;
}

int s3_list(struct s3_client *c, const struct s3_list_opts *opts, s3_list_fn fn, void *ctx,
            struct cel_err *err)
{
    static const struct s3_list_opts none;
    const struct s3_list_opts *o = opts ? opts : &none;
    char *token = NULL;
    int rc = 0;
    for (;;) {
        struct s3_xml_list page = {0};
        rc = list_page(c, o, token, &page, err);
        /* objects and common prefixes merged, so the caller sees one
         * lexicographic order as S3 sorts them */
        size_t i = 0, j = 0;
        while (rc == 0 && (i < page.n_objects || j < page.n_prefixes)) {
            struct s3_entry e;
            if (j == page.n_prefixes ||
                (i < page.n_objects && strcmp(page.objects[i].key, page.prefixes[j]) < 0)) {
                const struct s3_xml_object *ob = &page.objects[i++];
                e = (struct s3_entry){.key = ob->key, .size = ob->size, .etag = ob->etag,
                                      .last_modified = ob->last_modified};
            } else {
                e = (struct s3_entry){.key = page.prefixes[j++], .is_prefix = true, .etag = "",
                                      .last_modified = ""};
            }
            rc = fn(ctx, &e, err);
        }
        bool more = rc == 0 && page.truncated;
        if (more && token && strcmp(token, page.next_token) == 0) {
            rc = cel_err_set(err, CEL_E_CLOUD, "S3 listing: the store sent the same "
                             "continuation token twice");
            more = false;
        }
        free(token);
        token = more ? cel_xstrdup(page.next_token) : NULL;
        s3_xml_list_free(&page);
        if (!more)
            break;
    }
    free(token);
    return rc;
}

/* One DELETE per key. */
static int delete_each(struct s3_client *c, const char *const *keys, size_t n,
                       struct cel_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = s3_delete(c, keys[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Does this refusal say the store has no DeleteObjects? */
static bool not_implemented(const struct s3_resp *resp)
{
    struct s3_xml_error e;
    struct cel_err ignored = {0};
    if (resp->status == 501 || resp->status == 405)
        return true;
    return s3_xml_parse_error(resp->body.buf, resp->body.len, &e, &ignored) == 0 &&
           strcmp(e.code, "NotImplemented") == 0;
}

static int delete_batch(struct s3_client *c, const char *const *keys, size_t n,
                        struct cel_err *err)
{
    struct strbuf body = {0};
    struct s3_query q = {0};
    struct s3_resp resp = {0};
    char md5[S3_MD5_B64];
    sb_append(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
    for (size_t i = 0; i < n; i++) {
        sb_append(&body, "<Object><Key>");
        s3_xml_escape(&body, keys[i]);
        sb_append(&body, "</Key></Object>");
    }
    sb_append(&body, "</Delete>");
    s3_md5_base64(body.buf, body.len, md5);
    s3_query_add(&q, "delete", NULL);
    struct s3_req r = {.method = "POST", .query = &q, .body = body.buf, .body_len = body.len,
                       .body_fd = -1, .content_md5 = md5, .content_type = "application/xml"};
    struct cel_err e = {0};
    int rc = s3_request(c, c->curl, &r, &resp, &e);
    if (rc && not_implemented(&resp)) {
        c->no_multi_delete = true;
        rc = delete_each(c, keys, n, err);
    } else if (rc) {
        if (err)
            *err = e;
    } else {
        struct s3_xml_delete d;
        rc = s3_xml_parse_delete(resp.body.buf, resp.body.len, &d, err);
        for (size_t i = 0; rc == 0 && i < d.n_errors; i++) {
            const struct s3_xml_delete_error *de = &d.errors[i];
            char shown[CEL_SHOW_BUF];
            if (strcmp(de->code, "NoSuchKey") == 0)
                continue;
            rc = cel_err_set(err, CEL_E_CLOUD, "S3 delete '%s': %s: %s",
                             cel_show(de->key, strlen(de->key), shown), de->code, de->message);
        }
        s3_xml_delete_free(&d);
    }
    sb_free(&resp.body);
    sb_free(&body);
    s3_query_free(&q);
    return rc;
}

int s3_delete_many(struct s3_client *c, const char *const *keys, size_t n, struct cel_err *err)
{
    for (size_t at = 0; at < n; at += S3_DELETE_BATCH) {
        size_t k = n - at < S3_DELETE_BATCH ? n - at : S3_DELETE_BATCH;
        int rc = c->no_multi_delete ? delete_each(c, keys + at, k, err)
                                    : delete_batch(c, keys + at, k, err);
        if (rc)
            return rc;
    }
    return 0;
}
