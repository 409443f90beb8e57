/*
 * cloud_copy_state.c - the state file of a server's copy in its bucket,
 * <backup_directory>/cloud/upload.state: how far the upload got, so that a
 * cron minute with nothing new sends no request.
 *
 * One "key=value" per line, in this order (unknown keys are skipped, so a
 * later cellar may add some):
 *
 *   destination=s3://bucket/path     the cloud_destination it describes
 *   server_name=main                 the SERVER folder in the bucket
 *   endpoint=http://127.0.0.1:8080   cloud_endpoint_url ("" for AWS)
 *   wal_upto=000000010000000000000012
 *   wal_count=18
 *   backups=20261207T100000 20261207T110000   stored DONE in the bucket
 *   retired=20261201T100000          deleted there by retention: not again
 *   last_upload=1765101234.5         seconds since the epoch
 *   last_attempt=1765101234.5
 *   last_retention=1765101234.5
 *   last_error=text on one line      absent after a run that succeeded
 *
 * The file is cellar's own and written durably (stor_write_file: temp,
 * fsync, rename, directory fsync) by barman_user; it is still read as
 * outside input: every value is checked (a WAL name, backup IDs, numbers)
 * and anything else is -CEL_E_FORMAT naming the line, after which the
 * caller reconciles with one listing of the bucket.
 */
#include <errno.h>
#include <stdlib.h>

#include "cloud_copy.h"
#include "storage.h"
#include "ts.h"

#define STATE_MAX (16u << 20) /* a million backup IDs is already absurd */

static int bad_line(struct cel_err *err, const char *name, int line, const char *what)
{
    return cel_err_set(err, CEL_E_FORMAT, "'%s' line %d: %s", name, line, what);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "ID ID ..." into ids; false on a bad ID. */
static bool parse_ids(const char *v, struct cloud_ids *ids)
{
    const char *p = v;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        char *id = cel_xstrndup(p, n);
        bool good = ts_is_backup_id(id);
        if (good)
            cloud_ids_add(ids, id);
        free(id);
        if (!good)
            return false;
        p += n;
    }
    return true;
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = cel_xstrdup(v);
}

int cloud_copy_state_parse(const char *text, size_t len, const char *name,
                           struct cloud_copy_state *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    if (memchr(text, '\0', len))
        return cel_err_set(err, CEL_E_FORMAT, "'%s' holds a NUL byte", name);
    char *copy = cel_xstrndup(text, len);
    int rc = 0, line = 0;
    char *save = NULL;
    for (char *l = copy; rc == 0 && l; l = save) {
        save = strchr(l, '\n');
        if (save)
            *save++ = '\0';
        line++;
        if (!*l)
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = bad_line(err, name, line, "expected key=value");
            break;
        }
        *eq = '\0';
        const char *k = l, *v = eq + 1;
        if (strcmp(k, "destination") == 0)
            set_str(&out->destination, v);
        else if (strcmp(k, "server_name") == 0)
            set_str(&out->server_name, v);
        else if (strcmp(k, "endpoint") == 0)
            set_str(&out->endpoint, v);
        else if (strcmp(k, "last_error") == 0)
            set_str(&out->last_error, v);
        else if (strcmp(k, "wal_upto") == 0) {
            if (*v && !wal_name_is_valid(v))
                rc = bad_line(err, name, line, "wal_upto is not a WAL file name");
            else
                cel_strlcpy(out->wal_upto, v, sizeof out->wal_upto);
        } else if (strcmp(k, "wal_count") == 0) {
            if (!cel_parse_u64(v, &out->wal_count))
                rc = bad_line(err, name, line, "wal_count is not a number");
        } else if (strcmp(k, "backups") == 0 || strcmp(k, "retired") == 0) {
            if (!parse_ids(v, k[0] == 'b' ? &out->backups : &out->retired))
                rc = bad_line(err, name, line, "holds something that is not a backup ID");
        } else if (strcmp(k, "last_upload") == 0 || strcmp(k, "last_attempt") == 0 ||
                   strcmp(k, "last_retention") == 0) {
            double *t = k[5] == 'u'   ? &out->last_upload
                        : k[5] == 'a' ? &out->last_attempt
                                      : &out->last_retention;
            if (!cel_parse_epoch(v, t))
                rc = bad_line(err, name, line, "not a time in seconds");
        }
    }
    free(copy);
    if (rc < 0)
        cloud_copy_state_free(out);
    return rc;
}

/* A value on one line: newlines of an error message become spaces. */
static void append_line(struct strbuf *out, const char *k, const char *v)
{
    sb_appendf(out, "%s=", k);
    for (const char *p = v; *p; p++)
        sb_appendc(out, *p == '\n' ? ' ' : *p);
    sb_appendc(out, '\n');
}

static void append_ids(struct strbuf *out, const char *k, const struct cloud_ids *ids)
{
    sb_appendf(out, "%s=", k);
    for (size_t i = 0; i < ids->n; i++)
        sb_appendf(out, "%s%s", i ? " " : "", ids->v[i]);
    sb_appendc(out, '\n');
}

void cloud_copy_state_format(const struct cloud_copy_state *st, struct strbuf *out)
{
    append_line(out, "destination", st->destination ? st->destination : "");
    append_line(out, "server_name", st->server_name ? st->server_name : "");
    append_line(out, "endpoint", st->endpoint ? st->endpoint : "");
    append_line(out, "wal_upto", st->wal_upto);
    sb_appendf(out, "wal_count=%llu\n", (unsigned long long)st->wal_count);
    append_ids(out, "backups", &st->backups);
    append_ids(out, "retired", &st->retired);
    sb_appendf(out, "last_upload=%.3f\n", st->last_upload);
    sb_appendf(out, "last_attempt=%.3f\n", st->last_attempt);
    sb_appendf(out, "last_retention=%.3f\n", st->last_retention);
    if (st->last_error)
        append_line(out, "last_error", st->last_error);
}

void cloud_copy_state_free(struct cloud_copy_state *st)
{
    free(st->destination);
    free(st->server_name);
    free(st->endpoint);
    cloud_ids_free(&st->backups);
    cloud_ids_free(&st->retired);
    free(st->last_error);
    memset(st, 0, sizeof *st);
}

bool cloud_ids_has(const struct cloud_ids *ids, const char *id)
{
    return ids->n && bsearch(&id, ids->v, ids->n, sizeof *ids->v, cmp_str) != NULL;
}

void cloud_ids_add(struct cloud_ids *ids, const char *id)
{
    if (cloud_ids_has(ids, id))
        return;
    ids->v = cel_xrealloc_array(ids->v, ids->n + 1, sizeof *ids->v);
    ids->v[ids->n++] = cel_xstrdup(id);
    qsort(ids->v, ids->n, sizeof *ids->v, cmp_str);
}

void cloud_ids_remove(struct cloud_ids *ids, const char *id)
{
    for (size_t i = 0; i < ids->n; i++)
        if (strcmp(ids->v[i], id) == 0) {
            free(ids->v[i]);
            memmove(&ids->v[i], &ids->v[i + 1], (ids->n - i - 1) * sizeof *ids->v);
            ids->n--;
            return;
        }
}

void cloud_ids_free(struct cloud_ids *ids)
{
    for (size_t i = 0; i < ids->n; i++)
        free(ids->v[i]);
    free(ids->v);
    memset(ids, 0, sizeof *ids);
}

char *cloud_copy_state_path(const struct cfg_server *s)
{
    return cel_xasprintf("%s/cloud/upload.state", s->backup_directory);
}

int cloud_copy_state_load(const struct cfg_server *s, struct cloud_copy_state *out, bool *found,
                          struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    *found = false;
    char *path = cloud_copy_state_path(s);
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (stor_exists(path)) {
        rc = stor_read_file(path, STATE_MAX, &text, &len, err);
        if (rc == 0)
            rc = cloud_copy_state_parse(text, len, path, out, err);
        *found = rc == 0;
    }
    free(text);
    free(path);
    return rc;
}

int cloud_copy_state_save(const struct cfg_server *s, const struct cloud_copy_state *st,
                          struct cel_err *err)
{
    char *path = cloud_copy_state_path(s);
    char *dir = cel_xasprintf("%s/cloud", s->backup_directory);
    struct strbuf text = {0};
    cloud_copy_state_format(st, &text);
    int rc = stor_mkdir_p(dir, 0700, err);
    if (rc == 0)
        rc = stor_write_file(path, sb_str(&text), text.len, 0600, err);
    sb_free(&text);
    free(dir);
    free(path);
    return rc;
}

static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static const char *folder(const struct cfg_server *s)
{
    return s->cloud_server_name ? s->cloud_server_name : s->name;
}

bool cloud_copy_state_matches(const struct cloud_copy_state *st, const struct cfg_server *s)
{
    return st->destination && same(st->destination, s->cloud_destination) &&
           same(st->server_name, folder(s)) && same(st->endpoint, s->cloud_endpoint_url);
}

void cloud_copy_state_bind(struct cloud_copy_state *st, const struct cfg_server *s)
{
    set_str(&st->destination, s->cloud_destination ? s->cloud_destination : "");
    set_str(&st->server_name, folder(s));
    set_str(&st->endpoint, s->cloud_endpoint_url ? s->cloud_endpoint_url : "");
}
