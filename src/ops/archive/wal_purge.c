/*
 * wal_purge.c - removing archived WAL that no backup needs any more, with
 * Barman's rules (reference section 8), so a catalogue cellar trims is the
 * one Barman would have left:
 *   - the boundary is a backup: WAL older than its begin_wal goes;
 *   - history files always stay;
 *   - WAL of a timeline that another remaining backup is on stays (a
 *     backup of another timeline may need it to be recovered);
 *   - everything at or after the boundary's begin_wal stays.
 * xlog.db is rewritten first, then the files are unlinked: a crash in
 * between leaves files xlog.db does not list (rebuild-xlogdb finds them),
 * never an xlog.db that lists files that are gone. pre/post_wal_delete
 * hooks run for each file; a pre retry hook that exits 63 keeps the file.
 */
#include <errno.h>
#include <libgen.h>
#include <unistd.h>

#include "hook_script.h"
#include "lock.h"
#include "op_hooks.h"
#include "ops.h"
#include "server.h"
#include "storage.h"
#include "wal_archive.h"

/* Is timeline tli used by a backup of list other than skip and boundary? */
static bool timeline_in_use(const struct cat_list *list, ssize_t skip, uint32_t tli,
                            uint32_t boundary_tli)
{
    if (tli == boundary_tli)
        return false;
    for (size_t i = 0; i < list->n; i++)
        if ((ssize_t)i != skip && !list->failed[i] &&
            cat_status_copy_done(list->items[i].status) && list->items[i].timeline.set &&
            (uint32_t)list->items[i].timeline.v == tli)
            return true;
    return false;
}

int op_wal_remove_before(const struct op_ctx *ctx, const struct cfg_server *s,
                         const struct cat_backup *boundary, const struct cat_list *list,
                         ssize_t skip, size_t *removed, struct cel_err *err)
{
    *removed = 0;
    if (!boundary->begin_wal)
        return 0;
    /* a backup.info cellar cannot read may be an older backup that needs
     * this WAL: remove nothing rather than guess */
    for (size_t i = 0; i < list->n; i++)
        if (list->failed[i]) {
            op_log(ctx, LOG_WARNING, s->name,
                   "no WAL removed: backup %s cannot be read and may need it (%s)",
                   list->items[i].id, list->errors[i].msg);
            return 0;
        }
    uint32_t boundary_tli = boundary->timeline.set ? (uint32_t)boundary->timeline.v : 0;
    struct lock *lock = NULL;
    int rc = xdb_lock(ctx->cfg->global.barman_lock_directory, s->name, &lock, err);
    if (rc < 0)
        return rc;
    struct xdb db = {0};
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    rc = xdb_read(&home, &db, err);
    struct xdb keep = {0}, gone = {0};
    for (size_t i = 0; rc == 0 && i < db.n; i++) {
        const struct xdb_entry *e = &db.entries[i];
        struct wal_name w;
        bool stays = wal_name_parse(e->name, &w, NULL) < 0 || w.kind == WAL_KIND_HISTORY ||
                     strcmp(e->name, boundary->begin_wal) >= 0 ||
                     timeline_in_use(list, skip, w.tli, boundary_tli);
        if (!stays) {
            char *path = op_wal_path(s, e->name);
            struct hook_vars v = {0};
            op_wal_hook_vars(&v, e->name, path, e->size, e->time, e->compression, NULL);
            stays = op_run_hooks(ctx, s, CFG_HOOK_PRE_WAL_DELETE, "wal_delete", true, &v, NULL);
            hook_vars_free(&v);
            free(path);
        }
        xdb_put(stays ? &keep : &gone, e);
    }
    if (rc == 0 && gone.n)
        rc = xdb_rewrite(&home, &keep, err);
    lock_release(lock);
    for (size_t i = 0; rc == 0 && i < gone.n; i++) {
        char *path = op_wal_path(s, gone.entries[i].name);
        if (unlink(path) < 0 && errno != ENOENT) {
            op_log(ctx, LOG_WARNING, s->name, "cannot remove %s: %s", path, strerror(errno));
        } else {
            (*removed)++;
            /* the hash directory goes when it is empty (ENOTEMPTY otherwise) */
            char *copy = cel_xstrdup(path);
            char *dir = dirname(copy);
            if (strcmp(dir, s->wals_directory) != 0 && rmdir(dir) == 0)
                stor_fsync_dir(s->wals_directory, NULL);
            else
                stor_fsync_dir(dir, NULL);
            free(copy);
        }
        struct hook_vars v = {0};
        op_wal_hook_vars(&v, gone.entries[i].name, path, gone.entries[i].size,
                         gone.entries[i].time, gone.entries[i].compression, NULL);
        op_run_hooks(ctx, s, CFG_HOOK_PRE_WAL_DELETE, "wal_delete", false, &v, NULL);
        hook_vars_free(&v);
        free(path);
    }
    if (rc == 0 && *removed)
        op_log(ctx, LOG_INFO, s->name, "removed %zu WAL file%s older than backup %s (%s)",
               *removed, *removed == 1 ? "" : "s", boundary->id, boundary->begin_wal);
    xdb_free(&keep);
    xdb_free(&gone);
    xdb_free(&db);
    return rc;
}

int op_wal_purge_before_first(const struct op_ctx *ctx, const struct cfg_server *s,
                              struct cel_err *err)
{
    struct cat_list list;
    int rc = cat_list_load(s->basebackups_directory, &list, err);
    if (rc < 0)
        return rc;
    size_t removed = 0;
    for (size_t i = 0; i < list.n; i++) {
        if (list.failed[i] || !cat_status_copy_done(list.items[i].status))
            continue;
        /* only when the oldest complete backup is the only one: Barman
         * purges when a server's first backup completes */
        if (cat_next(&list, i) < 0)
            rc = op_wal_remove_before(ctx, s, &list.items[i], &list, (ssize_t)i, &removed, err);
        break;
    }
    cat_list_free(&list);
    return rc;
}
