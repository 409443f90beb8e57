/*
 * bucket_server.c - the ordinary commands on a server that is a bucket
 * (see bucket_server.h). Nothing here reads the bucket by itself: the
 * catalogue is cloud_catalog's, deletion and retention are
 * op_cloud_backup_delete's (barman-cloud-backup-delete's rules), the copy
 * is op_cloud_restore's. This file only turns the server's configuration
 * into their requests and their results into what the local commands
 * work with (an op_catalog, a retention summary, a restore_command).
 */
#include <stdlib.h>
#include <string.h>

#include "bucket_server.h"
#include "cloud_catalog.h"
#include "recovery_conf.h"

void op_bucket_store(const struct cfg_server *s, struct op_cloud_store *out)
{
    memset(out, 0, sizeof *out);
    cloud_target_opts_of_server(s, s->cloud_source, &out->target);
}

/* The bucket's WAL objects as an xlog.db: name, stored size, LastModified
 * and compression, sorted by name as xdb keeps them. */
static int load_wals(struct cloud_target *t, struct xdb *out, struct cel_err *err)
{
    struct cloud_wal *w = NULL;
    size_t n = 0;
    int rc = cloud_catalog_wals(t, &w, &n, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct xdb_entry e = {.size = w[i].size, .time = w[i].mtime};
        snprintf(e.name, sizeof e.name, "%s", w[i].name);
        if (w[i].comp != CLOUD_COMP_NONE)
            snprintf(e.compression, sizeof e.compression, "%s", cloud_comp_name(w[i].comp));
        xdb_put(out, &e);
    }
    cloud_wals_free(w, n);
    return 0;
}

int op_bucket_catalog_load(const struct op_ctx *ctx, const struct cfg_server *s, bool with_wal,
                           struct op_catalog *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    struct op_cloud_store store;
    op_bucket_store(s, &store);
    struct cloud_target t;
    struct cloud_catalog cat;
    int rc = cloud_catalog_open(ctx, &store, &t, &cat, err);
    if (rc < 0) {
        cel_err_prefix(err, "bucket server %s", s->name);
        return rc;
    }
    out->keep = cel_xcalloc(cat.list.n + 1, sizeof *out->keep);
    for (size_t i = 0; i < cat.list.n; i++) {
        out->keep[i] = cloud_keep_mark(cat.objs[i].keep);
        /* barman-cloud records no size: what the backup takes is what its
         * tar objects take in the bucket (compressed) */
        struct cat_int *size = &cat.list.items[i].size;
        for (size_t f = 0; !size->set && f < cat.objs[i].n_files; f++)
            size->v += (int64_t)cat.objs[i].files[f].size;
        size->set = size->set || cat.objs[i].n_files > 0;
    }
    cloud_catalog_take_list(&cat, &out->list);
    if (with_wal) {
        rc = load_wals(&t, &out->xdb, err);
        if (rc < 0) {
            cel_err_prefix(err, "bucket server %s: cannot list its WAL", s->name);
            op_catalog_free(out);
        } else {
            out->xdb_loaded = true;
        }
    }
    cloud_target_close(&t);
    return rc;
}

/* ---- delete ------------------------------------------------------------- */

struct deleted {
    const char *server, *id, *url;
};

static void deleted_text(const void *p, struct strbuf *out)
{
    const struct deleted *m = p;
    sb_appendf(out, "Deleted backup %s of server %s from bucket %s\n", m->id, m->server, m->url);
}

static json_t *deleted_json(const void *p)
{
    const struct deleted *m = p;
    return json_pack("{s:s, s:s, s:s}", "server", m->server, "backup_id", m->id, "bucket",
                     m->url);
}

/* Barman's refusal, which barman-cloud-backup-delete does not make: a DONE
 * backup is not deleted when no more than minimum_redundancy are left. */
static int refuse_redundancy(const struct cfg_server *s, const struct op_catalog *cat, size_t i,
                             struct cel_err *err)
{
    size_t done = 0;
    for (size_t k = 0; k < cat->list.n; k++)
        done += cat->list.items[k].status == CAT_DONE;
    if (cat->list.items[i].status != CAT_DONE || s->minimum_redundancy <= 0 ||
        done > (size_t)s->minimum_redundancy)
        return 0;
    int rc = cel_err_set(err, CEL_E_CONFLICT,
                         "skipping delete of backup %s for server %s due to minimum redundancy "
                         "requirements (minimum redundancy = %d, current redundancy = %zu)",
                         cat->list.items[i].id, s->name, s->minimum_redundancy, done);
    cel_err_hint(err, "Lower minimum_redundancy, or take another backup first.");
    return rc;
}

int op_bucket_delete(const struct op_ctx *ctx, const struct cfg_server *s, const char *backup,
                     struct cel_err *err)
{
    struct op_catalog cat;
    int rc = op_bucket_catalog_load(ctx, s, false, &cat, err);
    if (rc < 0)
        return rc;
    int i = cat_resolve(&cat.list, backup, s->name, err);
    rc = i < 0 ? i : refuse_redundancy(s, &cat, (size_t)i, err);
    if (rc == 0) {
        char *id = cel_xstrdup(cat.list.items[i].id);
        struct op_cloud_delete_req req = {.backup = id};
        op_bucket_store(s, &req.store);
        op_phase(ctx, s->name, "delete", "deleting backup %s of server %s from %s", id, s->name,
                 s->cloud_source);
        rc = op_cloud_backup_delete(ctx, &req, err);
        if (rc == 0) {
            op_log(ctx, LOG_INFO, s->name, "deleted backup %s from %s", id, s->cloud_source);
            struct deleted m = {s->name, id, s->cloud_source};
            struct op_result res = {"delete", &m, deleted_text, deleted_json};
            op_result(ctx, &res);
        }
        free(id);
    }
    op_catalog_free(&cat);
    return rc;
}

/* ---- retention ------------------------------------------------------------ */

int op_bucket_retention(const struct op_ctx *ctx, const struct cfg_server *s, bool dry_run,
                        struct op_retention_summary *sum, struct cel_err *err)
{
    memset(sum, 0, sizeof *sum);
    if (s->retention_policy.kind == RET_NONE)
        return 0;
    struct op_catalog cat;
    int rc = op_bucket_catalog_load(ctx, s, false, &cat, err);
    if (rc < 0)
        return rc;
    /* the marks list-backup shows, from the same inputs as the deletion's
     * (the policy, minimum_redundancy, each backup's end and keep) */
    enum ret_mark *marks = cel_xcalloc(cat.list.n + 1, sizeof *marks);
    op_retention_marks(ctx, s, &cat, marks);
    char policy[64];
    ret_policy_format(&s->retention_policy, policy, sizeof policy);
    for (size_t i = 0; i < cat.list.n; i++) {
        if (marks[i] != RET_MARK_OBSOLETE)
            continue;
        op_log(ctx, LOG_INFO, s->name, "retention (%s): %s backup %s (OBSOLETE) in %s", policy,
               dry_run ? "would delete" : "deleting", cat.list.items[i].id, s->cloud_source);
        sum->ids = cel_xrealloc_array(sum->ids, sum->n_ids + 1, sizeof *sum->ids);
        sum->ids[sum->n_ids++] = cel_xstrdup(cat.list.items[i].id);
    }
    free(marks);
    op_catalog_free(&cat);
    if (dry_run) {
        sum->would_delete = sum->n_ids;
        return 0;
    }
    if (sum->n_ids == 0)
        return 0;
    struct op_cloud_delete_req req = {
        .policy = policy,
        .min_redundancy = s->minimum_redundancy > 0 ? (unsigned)s->minimum_redundancy : 0};
    op_bucket_store(s, &req.store);
    rc = op_cloud_backup_delete(ctx, &req, err);
    if (rc < 0) {
        sum->failed = sum->n_ids;
        cel_err_prefix(err, "retention on bucket %s", s->cloud_source);
    } else {
        sum->deleted = sum->n_ids;
    }
    return rc;
}

/* ---- recover ---------------------------------------------------------------- */

int op_bucket_restore(const struct op_ctx *ctx, const struct cfg_server *s, const char *id,
                      const char *dest, const char *const *tablespaces, size_t n_tablespaces,
                      int jobs, struct cel_err *err)
{
    struct op_cloud_restore_req req = {.backup = id,
                                       .dest = dest,
                                       .tablespaces = tablespaces,
                                       .n_tablespaces = n_tablespaces,
                                       .parallel = jobs};
    op_bucket_store(s, &req.store);
    op_phase(ctx, s->name, "copy-data", "restoring backup %s from %s into %s", id,
             s->cloud_source, dest);
    return op_cloud_restore(ctx, &req, err);
}

int op_bucket_fetch_wal(const struct op_ctx *ctx, const struct cfg_server *s, const char *name,
                        const char *dest, struct cel_err *err)
{
    struct op_cloud_wal_restore_req req = {.wal_name = name, .dest = dest, .parallel = 1};
    op_bucket_store(s, &req.store);
    return op_cloud_wal_restore(ctx, &req, err);
}

char *op_bucket_restore_command(const char *cellar, const struct cfg_server *s, int parallel)
{
    char n[16];
    snprintf(n, sizeof n, "%d", parallel > 2 ? parallel : 2);
    const char *argv[14];
    size_t k = 0;
    argv[k++] = cellar;
    argv[k++] = "cloud-wal-restore";
    argv[k++] = "--parallel";
    argv[k++] = n;
    /* the segments fetched ahead wait in the copy's own barman_wal/ (the
     * restore_command runs in the data directory), which the
     * recovery_end_command removes as for a local recovery: never a file
     * left in a shared spool for the next recovery from this bucket */
    argv[k++] = "--spool-directory";
    argv[k++] = OP_BUCKET_SPOOL;
    if (s->cloud_endpoint_url) {
        argv[k++] = "--endpoint-url";
        argv[k++] = s->cloud_endpoint_url;
    }
    if (s->cloud_profile) {
        argv[k++] = "--profile";
        argv[k++] = s->cloud_profile;
    }
    argv[k++] = s->cloud_source;
    argv[k++] = s->cloud_server_name;
    argv[k] = NULL;
    return rc_restore_command_argv(argv);
}
