/*
 * s3_xml.c - S3's XML replies walked with expat into plain structs.
 *
 * One small engine (struct walk) drives expat for every reply type: it
 * checks the root element, refuses a document type declaration and any
 * entity declaration (so no entity can expand), keeps the path of the
 * current element relative to the root ("Contents/Key"), and gathers the
 * text of each element (bounded). Each reply type is then a pair of
 * callbacks, start and end, keyed on that path. A callback that finds
 * something wrong records a message and stops the parser; the first
 * message wins.
 *
 * Limits, so a hostile or broken reply cannot make cellar allocate without
 * end: depth WALK_MAX_DEPTH, text per element WALK_MAX_TEXT bytes (an S3
 * key is at most 1,024 bytes), and WALK_MAX_ITEMS objects, prefixes or
 * delete outcomes per reply (S3 sends at most 1,000).
 */
#include <expat.h>
#include <limits.h>

#include "s3_xml.h"
#include "strbuf.h"

#define WALK_MAX_DEPTH 8
#define WALK_MAX_PATH 256
#define WALK_MAX_TEXT 65536
#define WALK_MAX_ITEMS 100000

struct walk;
typedef void (*walk_start_fn)(struct walk *w, const char *path);
typedef void (*walk_end_fn)(struct walk *w, const char *path, const char *text, size_t len);

struct walk {
    XML_Parser parser;
    const char *root;  /* the root element expected */
    const char *root2; /* or this one (NULL: only root) */
    const char *what;  /* the reply's name for messages */
    bool root_is_2;    /* the document's root was root2 */
    bool seen_root;
    int depth; /* 0 outside the root, 1 inside it, ... */
    char path[WALK_MAX_PATH];
    size_t path_len[WALK_MAX_DEPTH + 1];
    struct strbuf text;
    walk_start_fn start;
    walk_end_fn end;
    void *ctx;
    char fail[256]; /* the first failure, "" when none */
};

static void walk_fail(struct walk *w, const char *fmt, ...) CEL_PRINTF(2, 3);

static void walk_fail(struct walk *w, const char *fmt, ...)
{
    if (w->fail[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->fail, sizeof w->fail, fmt, ap);
    va_end(ap);
    if (!w->fail[0])
        cel_strlcpy(w->fail, "invalid reply", sizeof w->fail);
    XML_StopParser(w->parser, XML_FALSE);
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct walk *w = data;
    char shown[CEL_SHOW_BUF];
    (void)attrs;
    if (w->fail[0])
        return;
    if (w->depth == 0) {
        if (w->seen_root) {
            walk_fail(w, "more than one root element");
            return;
        }
        if (strcmp(name, w->root) != 0 && !(w->root2 && strcmp(name, w->root2) == 0)) {
            walk_fail(w, "expected <%s>, found <%s>", w->root, cel_show(name, strlen(name), shown));
            return;
        }
        w->seen_root = true;
        w->root_is_2 = w->root2 && strcmp(name, w->root2) == 0;
        w->path[0] = '\0';
        w->path_len[0] = 0;
    } else {
        if (w->depth >= WALK_MAX_DEPTH) {
            walk_fail(w, "elements nested deeper than %d", WALK_MAX_DEPTH);
            return;
        }
        size_t at = w->path_len[w->depth - 1];
        size_t n = strlen(name);
        size_t need = at + (at ? 1 : 0) + n;
        if (need >= WALK_MAX_PATH) {
            walk_fail(w, "element path longer than %d bytes", WALK_MAX_PATH - 1);
            return;
        }
        if (at)
            w->path[at++] = '/';
        memcpy(w->path + at, name, n + 1);
        w->path_len[w->depth] = need;
    }
    w->depth++;
    sb_reset(&w->text);
    if (w->start && w->depth > 1)
        w->start(w, w->path);
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    struct walk *w = data;
    (void)name;
    if (w->fail[0])
        return;
    if (w->depth > 1 && w->end)
        w->end(w, w->path, sb_str(&w->text), w->text.len);
    w->depth--;
    if (w->depth > 0)
        w->path[w->path_len[w->depth - 1]] = '\0';
    sb_reset(&w->text);
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
    struct walk *w = data;
    if (w->fail[0] || w->depth == 0 || len <= 0)
        return;
    if (w->text.len + (size_t)len > WALK_MAX_TEXT) {
        walk_fail(w, "text longer than %d bytes in <%s>", WALK_MAX_TEXT, w->path);
        return;
    }
    sb_appendn(&w->text, s, (size_t)len);
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    walk_fail(data, "a document type declaration is not allowed");
}

static void XMLCALL on_entity(void *data, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_len, const XML_Char *base,
                              const XML_Char *sysid, const XML_Char *pubid,
                              const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
    (void)pubid, (void)notation;
    walk_fail(data, "an entity declaration is not allowed");
}

/* Parse len bytes at xml with w's callbacks. */
static int walk_run(struct walk *w, const char *xml, size_t len, struct cel_err *err)
{
    int rc = 0;
    /* S3 sends whitespace before a slow reply's XML declaration (to keep
     * the connection alive while it completes an upload); XML allows
     * nothing there, so skip it */
    while (len && xml && (*xml == ' ' || *xml == '\n' || *xml == '\r' || *xml == '\t')) {
        xml++;
        len--;
    }
    if (len > INT_MAX)
        return cel_err_set(err, CEL_E_FORMAT, "S3 %s reply: too large (%zu bytes)", w->what, len);
    w->parser = XML_ParserCreate(NULL);
    if (!w->parser)
        return cel_err_set(err, CEL_E_NOMEM, "S3 %s reply: cannot create an XML parser", w->what);
    XML_SetUserData(w->parser, w);
    XML_SetElementHandler(w->parser, on_start, on_end);
    XML_SetCharacterDataHandler(w->parser, on_text);
    XML_SetStartDoctypeDeclHandler(w->parser, on_doctype);
    XML_SetEntityDeclHandler(w->parser, on_entity);
    enum XML_Status st = XML_Parse(w->parser, xml ? xml : "", (int)len, XML_TRUE);
    if (w->fail[0]) {
        rc = cel_err_set(err, CEL_E_FORMAT, "S3 %s reply: %s", w->what, w->fail);
    } else if (st != XML_STATUS_OK) {
        rc = cel_err_set(err, CEL_E_FORMAT, "S3 %s reply: %s at line %lu", w->what,
                         XML_ErrorString(XML_GetErrorCode(w->parser)),
                         (unsigned long)XML_GetCurrentLineNumber(w->parser));
    } else if (!w->seen_root) {
        rc = cel_err_set(err, CEL_E_FORMAT, "S3 %s reply: no <%s> element", w->what, w->root);
    }
    XML_ParserFree(w->parser);
    w->parser = NULL;
    sb_free(&w->text);
    return rc;
}

/* Set *slot to a copy of text, refusing a second occurrence. */
static void set_once(struct walk *w, char **slot, const char *text, size_t len)
{
    if (*slot) {
        walk_fail(w, "<%s> given twice", w->path);
        return;
    }
    *slot = cel_xstrndup(text, len);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* ---- Error ------------------------------------------------------------------- */

/* One field of an <Error> (also inside a multipart completion reply). */
static void error_field(struct s3_xml_error *e, const char *path, const char *text)
{
    if (strcmp(path, "Code") == 0)
        cel_strlcpy(e->code, text, sizeof e->code);
    else if (strcmp(path, "Message") == 0)
        cel_strlcpy(e->message, text, sizeof e->message);
    else if (strcmp(path, "RequestId") == 0)
        cel_strlcpy(e->request_id, text, sizeof e->request_id);
}

static void error_end(struct walk *w, const char *path, const char *text, size_t len)
{
    (void)len;
    error_field(w->ctx, path, text);
}

int s3_xml_parse_error(const char *xml, size_t len, struct s3_xml_error *out, struct cel_err *err)
{
    *out = (struct s3_xml_error){0};
    struct walk w = {.root = "Error", .what = "error", .end = error_end, .ctx = out};
    int rc = walk_run(&w, xml, len, err);
    if (rc == 0 && !out->code[0])
        rc = cel_err_set(err, CEL_E_FORMAT, "S3 error reply: no <Code>");
    if (rc)
        *out = (struct s3_xml_error){0};
    return rc;
}

/* ---- ListBucketResult ---------------------------------------------------------- */

struct list_ctx {
    struct s3_xml_list *l;
    size_t cap_objects, cap_prefixes;
    bool have_size; /* the current Contents had a Size */
    bool have_truncated;
};

static void list_start(struct walk *w, const char *path)
{
    struct list_ctx *c = w->ctx;
    struct s3_xml_list *l = c->l;
    if (strcmp(path, "Contents") == 0) {
        if (l->n_objects >= WALK_MAX_ITEMS) {
            walk_fail(w, "more than %d objects", WALK_MAX_ITEMS);
            return;
        }
        if (l->n_objects == c->cap_objects) {
            c->cap_objects = c->cap_objects ? 2 * c->cap_objects : 64;
            l->objects = cel_xrealloc_array(l->objects, c->cap_objects, sizeof *l->objects);
        }
        l->objects[l->n_objects++] = (struct s3_xml_object){0};
        c->have_size = false;
    }
}

static void list_end(struct walk *w, const char *path, const char *text, size_t len)
{
    struct list_ctx *c = w->ctx;
    struct s3_xml_list *l = c->l;
    struct s3_xml_object *o = l->n_objects ? &l->objects[l->n_objects - 1] : NULL;
    char shown[CEL_SHOW_BUF];
    if (strcmp(path, "Contents/Key") == 0) {
        if (!len)
            walk_fail(w, "an empty <Key>");
        else
            set_once(w, &o->key, text, len);
    } else if (strcmp(path, "Contents/Size") == 0) {
        if (c->have_size || !parse_u64(text, &o->size))
            walk_fail(w, "invalid <Size> '%s'", cel_show(text, len, shown));
        c->have_size = true;
    } else if (strcmp(path, "Contents/ETag") == 0) {
        set_once(w, &o->etag, text, len);
    } else if (strcmp(path, "Contents/LastModified") == 0) {
        set_once(w, &o->last_modified, text, len);
    } else if (strcmp(path, "Contents") == 0) {
        if (!o->key)
            walk_fail(w, "an object without a <Key>");
        else if (!c->have_size)
            walk_fail(w, "no <Size> for '%s'", cel_show(o->key, strlen(o->key), shown));
        if (o->key && !o->etag)
            o->etag = cel_xstrdup("");
        if (o->key && !o->last_modified)
            o->last_modified = cel_xstrdup("");
    } else if (strcmp(path, "CommonPrefixes/Prefix") == 0) {
        if (l->n_prefixes >= WALK_MAX_ITEMS) {
            walk_fail(w, "more than %d prefixes", WALK_MAX_ITEMS);
            return;
        }
        if (l->n_prefixes == c->cap_prefixes) {
            c->cap_prefixes = c->cap_prefixes ? 2 * c->cap_prefixes : 16;
            l->prefixes = cel_xrealloc_array(l->prefixes, c->cap_prefixes, sizeof *l->prefixes);
        }
        l->prefixes[l->n_prefixes++] = cel_xstrndup(text, len);
    } else if (strcmp(path, "IsTruncated") == 0) {
        if (c->have_truncated)
            walk_fail(w, "<IsTruncated> given twice");
        else if (strcmp(text, "true") == 0)
            l->truncated = true;
        else if (strcmp(text, "false") != 0)
            walk_fail(w, "invalid <IsTruncated> '%s'", cel_show(text, len, shown));
        c->have_truncated = true;
    } else if (strcmp(path, "NextContinuationToken") == 0) {
        if (!len)
            walk_fail(w, "an empty <NextContinuationToken>");
        else
            set_once(w, &l->next_token, text, len);
    }
}

int s3_xml_parse_list(const char *xml, size_t len, struct s3_xml_list *out, struct cel_err *err)
{
    *out = (struct s3_xml_list){0};
    struct list_ctx c = {.l = out};
    struct walk w = {.root = "ListBucketResult", .what = "listing", .start = list_start,
                     .end = list_end, .ctx = &c};
    int rc = walk_run(&w, xml, len, err);
    if (rc == 0 && out->truncated && !out->next_token)
        rc = cel_err_set(err, CEL_E_FORMAT,
                         "S3 listing reply: truncated without a <NextContinuationToken>");
    return rc;
}

void s3_xml_list_free(struct s3_xml_list *l)
{
    for (size_t i = 0; i < l->n_objects; i++) {
        free(l->objects[i].key);
        free(l->objects[i].etag);
        free(l->objects[i].last_modified);
    }
    free(l->objects);
    for (size_t i = 0; i < l->n_prefixes; i++)
        free(l->prefixes[i]);
    free(l->prefixes);
    free(l->next_token);
    *l = (struct s3_xml_list){0};
}

/* ---- InitiateMultipartUploadResult --------------------------------------------- */

static void initiate_end(struct walk *w, const char *path, const char *text, size_t len)
{
    if (strcmp(path, "UploadId") == 0)
        set_once(w, w->ctx, text, len);
}

int s3_xml_parse_initiate(const char *xml, size_t len, char **upload_id, struct cel_err *err)
{
    *upload_id = NULL;
    struct walk w = {.root = "InitiateMultipartUploadResult", .what = "multipart upload",
                     .end = initiate_end, .ctx = upload_id};
    int rc = walk_run(&w, xml, len, err);
    if (rc == 0 && (!*upload_id || !**upload_id))
        rc = cel_err_set(err, CEL_E_FORMAT, "S3 multipart upload reply: no <UploadId>");
    if (rc) {
        free(*upload_id);
        *upload_id = NULL;
    }
    return rc;
}

/* ---- CompleteMultipartUploadResult or Error ------------------------------------- */

static void complete_end(struct walk *w, const char *path, const char *text, size_t len)
{
    struct s3_xml_complete *c = w->ctx;
    (void)len;
    if (w->root_is_2)
        error_field(&c->error, path, text);
    else if (strcmp(path, "ETag") == 0)
        cel_strlcpy(c->etag, text, sizeof c->etag);
}

int s3_xml_parse_complete(const char *xml, size_t len, struct s3_xml_complete *out,
                          struct cel_err *err)
{
    *out = (struct s3_xml_complete){0};
    struct walk w = {.root = "CompleteMultipartUploadResult", .root2 = "Error",
                     .what = "multipart completion", .end = complete_end, .ctx = out};
    int rc = walk_run(&w, xml, len, err);
    if (rc == 0 && w.root_is_2) {
        out->failed = true;
        if (!out->error.code[0])
            rc = cel_err_set(err, CEL_E_FORMAT, "S3 multipart completion reply: no <Code>");
    }
    if (rc)
        *out = (struct s3_xml_complete){0};
    return rc;
}

/* ---- DeleteResult ----------------------------------------------------------------- */

struct delete_ctx {
    struct s3_xml_delete *d;
    size_t cap_deleted, cap_errors;
    char *key; /* the key of the current Deleted */
};

static void delete_start(struct walk *w, const char *path)
{
    struct delete_ctx *c = w->ctx;
    struct s3_xml_delete *d = c->d;
    if (d->n_deleted + d->n_errors >= WALK_MAX_ITEMS) {
        if (strcmp(path, "Deleted") == 0 || strcmp(path, "Error") == 0)
            walk_fail(w, "more than %d outcomes", WALK_MAX_ITEMS);
        return;
    }
    if (strcmp(path, "Deleted") == 0) {
        free(c->key);
        c->key = NULL;
    } else if (strcmp(path, "Error") == 0) {
        if (d->n_errors == c->cap_errors) {
            c->cap_errors = c->cap_errors ? 2 * c->cap_errors : 16;
            d->errors = cel_xrealloc_array(d->errors, c->cap_errors, sizeof *d->errors);
        }
        d->errors[d->n_errors++] = (struct s3_xml_delete_error){0};
    }
}

static void delete_end(struct walk *w, const char *path, const char *text, size_t len)
{
    struct delete_ctx *c = w->ctx;
    struct s3_xml_delete *d = c->d;
    struct s3_xml_delete_error *e = d->n_errors ? &d->errors[d->n_errors - 1] : NULL;
    if (strcmp(path, "Deleted/Key") == 0) {
        set_once(w, &c->key, text, len);
    } else if (strcmp(path, "Deleted") == 0) {
        if (!c->key || !c->key[0]) {
            walk_fail(w, "a <Deleted> without a <Key>");
            return;
        }
        if (d->n_deleted == c->cap_deleted) {
            c->cap_deleted = c->cap_deleted ? 2 * c->cap_deleted : 64;
            d->deleted = cel_xrealloc_array(d->deleted, c->cap_deleted, sizeof *d->deleted);
        }
        d->deleted[d->n_deleted++] = c->key;
        c->key = NULL;
    } else if (strcmp(path, "Error/Key") == 0) {
        set_once(w, &e->key, text, len);
    } else if (strcmp(path, "Error/Code") == 0) {
        set_once(w, &e->code, text, len);
    } else if (strcmp(path, "Error/Message") == 0) {
        set_once(w, &e->message, text, len);
    } else if (strcmp(path, "Error") == 0) {
        if (!e->key || !e->key[0] || !e->code)
            walk_fail(w, "an <Error> without a <Key> or a <Code>");
        else if (!e->message)
            e->message = cel_xstrdup("");
    }
}

int s3_xml_parse_delete(const char *xml, size_t len, struct s3_xml_delete *out,
                        struct cel_err *err)
{
    *out = (struct s3_xml_delete){0};
    struct delete_ctx c = {.d = out};
    struct walk w = {.root = "DeleteResult", .what = "delete", .start = delete_start,
                     .end = delete_end, .ctx = &c};
    int rc = walk_run(&w, xml, len, err);
    free(c.key);
    return rc;
}

void s3_xml_delete_free(struct s3_xml_delete *d)
{
    for (size_t i = 0; i < d->n_deleted; i++)
        free(d->deleted[i]);
    free(d->deleted);
    for (size_t i = 0; i < d->n_errors; i++) {
        free(d->errors[i].key);
        free(d->errors[i].code);
        free(d->errors[i].message);
    }
    free(d->errors);
    *d = (struct s3_xml_delete){0};
}
