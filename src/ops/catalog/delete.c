/*
 * delete.c - `cellar delete SERVER BACKUP_ID`: remove one backup and the
 * archived WAL only it needed.
 *
 * Refused, with the reason: a DONE backup when the server has no more DONE
 * backups than minimum_redundancy; a backup Barman's `keep` protects; a
 * STARTED backup while a backup process runs. The directory is first
 * renamed to a hidden name in one atomic step, so a crash in the middle of
 * removing its files never leaves a half-deleted backup that looks whole;
 * the hidden directory is then removed.
 *
 * WAL goes only when the deleted backup was the oldest (no complete
 * backup before it, from which a point-in-time recovery could still need
 * that WAL): what lies before the next backup (or before the deleted one,
 * when it was the last) is removed, with the rules of wal_purge.c.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "backup_int.h"
#include "bucket_server.h"
#include "fmt.h"
#include "hook_script.h"
#include "lock.h"
#include "op_hooks.h"
#include "ops.h"
#include "server.h"
#include "server_catalog.h"
#include "server_select.h"
#include "storage.h"
#include "wal_archive.h"

struct model {
    const char *server, *id;
    uint64_t size;
    size_t wal_removed;
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    sb_appendf(out, "Deleted backup %s of server %s (", m->id, m->server);
    fmt_size((double)m->size, out);
    sb_appendf(out, " freed); %zu WAL file%s removed\n", m->wal_removed,
               m->wal_removed == 1 ? "" : "s");
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:s, s:I, s:I}", "server", m->server, "backup_id", m->id,
                     "size_bytes", (json_int_t)m->size, "wal_removed",
                     (json_int_t)m->wal_removed);
}

/* The reasons a backup must stay. */
static int refuse(const struct op_ctx *ctx, const struct cfg_server *s,
                  const struct op_catalog *cat, size_t i, struct cel_err *err)
{
    const struct cat_backup *b = &cat->list.items[i];
    if (op_keep_mark(ctx, s, b->id) != RET_MARK_NONE) {
        int rc = cel_err_set(err, CEL_E_CONFLICT, "backup %s of server %s is kept (keep): it "
                                                  "cannot be deleted",
                             b->id, s->name);
        cel_err_hint(err, "Release it first: cellar keep --release %s %s", s->name, b->id);
        return rc;
    }
    if (b->status == CAT_STARTED || b->status == CAT_EMPTY) {
        pid_t holder = 0;
        /* an error probing counts as running */
        if (op_server_lock_probe(ctx, s, "backup", &holder, NULL) != 0)
            return cel_err_set(err, CEL_E_CONFLICT,
                               "backup %s of server %s is %s and a backup is running (PID %ld): "
                               "it cannot be deleted now",
                               b->id, s->name, cat_status_name(b->status), (long)holder);
    }
    if (b->status == CAT_DONE) {
        int done = 0;
        for (size_t k = 0; k < cat->list.n; k++)
            done += !cat->list.failed[k] && cat->list.items[k].status == CAT_DONE;
        if (done <= s->minimum_redundancy) {
            int rc = cel_err_set(err, CEL_E_CONFLICT,
                                 "Skipping delete of backup %s for server %s due to minimum "
                                 "redundancy requirements (minimum redundancy = %d, current "
                                 "redundancy = %d)",
                                 b->id, s->name, s->minimum_redundancy, done);
            cel_err_hint(err, "Take a new backup first, or lower minimum_redundancy in [%s].",
                         s->name);
            return rc;
        }
    }
    return 0;
}

static void hook_env(const struct cfg_server *s, const struct op_catalog *cat, size_t i,
                     struct hook_vars *v)
{
    const struct cat_backup *b = &cat->list.items[i];
    int prev = cat_previous(&cat->list, i), next = cat_next(&cat->list, i);
    char *dir = op_backup_dir(s, b->id, NULL);
    op_backup_hook_vars(v, dir, b, prev >= 0 ? cat->list.items[prev].id : NULL,
                        next >= 0 ? cat->list.items[next].id : NULL);
    free(dir);
}

/* keep for stor_list_dir: what a killed deletion left (".ID.deleting") */
static bool is_leftover(const char *dir, const char *name, void *ctx)
{
    (void)dir;
    (void)ctx;
    size_t n = strlen(name);
    return name[0] == '.' && n > 9 && strcmp(name + n - 9, ".deleting") == 0;
}

/* Finish deletions that were killed half-way: their directories were
 * already hidden, so nothing lists them; only their files remain. */
static void sweep_leftovers(const struct op_ctx *ctx, const struct cfg_server *s)
{
    struct stor_names names;
    if (stor_list_dir(s->basebackups_directory, is_leftover, NULL, &names, NULL) < 0)
        return;
    for (size_t i = 0; i < names.n; i++) {
        char *path = cel_xasprintf("%s/%s", s->basebackups_directory, names.names[i]);
        struct cel_err err = {0};
        if (stor_remove_tree(path, &err) < 0)
            op_log(ctx, LOG_WARNING, s->name, "%s", err.msg);
        else
            op_log(ctx, LOG_INFO, s->name, "removed %s, left by an interrupted delete", path);
        free(path);
    }
    stor_names_free(&names);
}

/* Remove the backup's directory: hide it atomically, then remove it. */
static int remove_backup_dir(const struct cfg_server *s, const char *id, struct cel_err *err)
{
    char *dir = op_backup_dir(s, id, NULL);
    char *hidden = cel_xasprintf("%s/.%s.deleting", s->basebackups_directory, id);
    int rc = stor_remove_tree(hidden, err); /* left by a deletion killed earlier */
    if (rc == 0 && rename(dir, hidden) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot rename %s", dir);
    if (rc == 0)
        rc = stor_fsync_dir(s->basebackups_directory, err);
    if (rc == 0)
        rc = stor_remove_tree(hidden, err);
    if (rc == 0)
        rc = stor_fsync_dir(s->basebackups_directory, err);
    free(hidden);
    free(dir);
    return rc;
}

static int delete_locked(const struct op_ctx *ctx, const struct cfg_server *s,
                         struct op_catalog *cat, size_t i, struct cel_err *err)
{
    struct cat_backup *b = &cat->list.items[i];
    struct hook_vars v = {0};
    hook_env(s, cat, i, &v);
    char *abort_msg = NULL;
    bool stop = op_run_hooks(ctx, s, CFG_HOOK_PRE_DELETE, "delete", true, &v, &abort_msg);
    if (stop) {
        int rc = cel_err_set(err, CEL_E_PROC, "delete of backup %s stopped: %s", b->id, abort_msg);
        free(abort_msg);
        hook_vars_free(&v);
        return rc;
    }
    op_phase(ctx, s->name, "delete", "deleting backup %s of server %s", b->id, s->name);
    struct model m = {.server = s->name, .id = b->id};
    int prev = cat_previous(&cat->list, i), next = cat_next(&cat->list, i);
    /* what the deletion frees: the files no other backup links to */
    char *dir = op_backup_dir(s, b->id, NULL);
    uint64_t size = 0;
    if (bk_disk_usage(dir, &size, &m.size, NULL) < 0)
        m.size = 0;
    free(dir);
    int rc = remove_backup_dir(s, b->id, err);
    if (rc == 0 && prev < 0) {
        const struct cat_backup *boundary = next >= 0 ? &cat->list.items[next] : b;
        struct cel_err werr = {0};
        if (op_wal_remove_before(ctx, s, boundary, &cat->list, (ssize_t)i, &m.wal_removed,
                                 &werr) < 0)
            op_log(ctx, LOG_WARNING, s->name, "removing the WAL of backup %s: %s", b->id,
                   werr.msg);
    }
    op_run_hooks(ctx, s, CFG_HOOK_PRE_DELETE, "delete", false, &v, NULL);
    hook_vars_free(&v);
    if (rc == 0) {
        op_log(ctx, LOG_INFO, s->name, "deleted backup %s", b->id);
        struct op_result res = {"delete", &m, render_text, render_json};
        op_result(ctx, &res);
    }
    return rc;
}

int op_delete_backup(const struct op_ctx *ctx, const struct cfg_server *s,
                     struct op_catalog *cat, size_t i, struct cel_err *err)
{
    int rc = refuse(ctx, s, cat, i, err);
    /* a copy: after the deletion the lock file is removed by this ID */
    char *id = cel_xstrdup(cat->list.items[i].id);
    struct lock *lock = NULL;
    if (rc == 0)
        rc = op_server_lock(ctx, s, id, false, &lock, err);
    if (rc == 0) {
        rc = delete_locked(ctx, s, cat, i, err);
        lock_release(lock);
        /* Barman removes a deleted backup's lock file */
        if (rc == 0)
            op_server_lock_remove(ctx, s, id);
    }
    free(id);
    return rc;
}

int op_delete(const struct op_ctx *ctx, const struct op_delete_req *req, struct cel_err *err)
{
    const struct cfg_server *s;
    int rc = op_one_server(ctx, req->server, "delete", &s, err);
    if (rc < 0)
        return rc;
    if (s->cloud_source) /* a bucket server: barman-cloud-backup-delete -b */
        return op_bucket_delete(ctx, s, req->backup, err);
    struct op_catalog cat;
    int i = op_backup_open(ctx, req->server, req->backup, "delete", false, &s, &cat, err);
    if (i < 0)
        return i;
    sweep_leftovers(ctx, s);
    rc = op_delete_backup(ctx, s, &cat, (size_t)i, err);
    op_catalog_free(&cat);
    return rc;
}
