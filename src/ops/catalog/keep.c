/*
 * keep.c - Barman's keep annotation of a backup, and `cellar keep SERVER
 * BACKUP_ID (--target full|standalone | --status | --release)`.
 *
 * A kept backup is never made obsolete by retention nor deleted. Barman
 * has kept the annotation in two places: before 3.13.3 in
 * base/<ID>/annotations/keep, since then in <backup_directory>/meta/<ID>-keep
 * (it moves an old one there when it reads it). cellar reads both, so a
 * backup kept by either Barman is protected, and writes the old place,
 * which every Barman reads (a newer one moves it). The file's whole
 * content, unstripped, is the target, as Barman reads it: exactly
 * "standalone" is KEEP:STANDALONE, an empty file is no keep at all,
 * anything else KEEP:FULL.
 */
#include <errno.h>
#include <unistd.h>

#include "log.h"
#include "ops.h"
#include "server.h"
#include "server_catalog.h"
#include "storage.h"

/* The two places of backup id's annotation: [0] Barman < 3.13.3's, [1]
 * Barman >= 3.13.3's. */
static void keep_paths(const struct cfg_server *s, const char *id, char *paths[2])
{
    paths[0] = op_backup_dir(s, id, "annotations/keep");
    paths[1] = cel_xasprintf("%s/meta/%s-keep", s->backup_directory, id);
}

static void free_paths(char *paths[2])
{
    free(paths[0]);
    free(paths[1]);
}

/* Backup id's keep target, from either place: 0 with *target a new
 * string, or NULL when the backup is not kept; -CEL_E_IO when a file cannot
 * be read. */
static int keep_target(const struct cfg_server *s, const char *id, char **target,
                       struct cel_err *err)
{
    char *paths[2];
    keep_paths(s, id, paths);
    int rc = 0;
    *target = NULL;
    for (int i = 0; i < 2 && rc == 0 && !*target; i++) {
        char *text = NULL;
        size_t len = 0;
        struct cel_err rerr = {0};
        if (stor_read_file(paths[i], 4096, &text, &len, &rerr) == 0) {
            if (len > 0)
                *target = text;
            else
                free(text);
        } else if (rerr.sys_errno != ENOENT) {
            *err = rerr;
            rc = -rerr.code;
        }
    }
    free_paths(paths);
    return rc;
}

enum ret_mark op_keep_mark(const struct op_ctx *ctx, const struct cfg_server *s, const char *id)
{
    char *target = NULL;
    struct cel_err err = {0};
    if (keep_target(s, id, &target, &err) < 0) {
        /* Barman would fail here; the safe side is to keep */
        op_log(ctx, LOG_WARNING, s->name, "backup %s: %s; treating the backup as kept (KEEP:FULL)",
               id, err.msg);
        return RET_MARK_KEEP_FULL;
    }
    enum ret_mark mark = !target                             ? RET_MARK_NONE
                         : strcmp(target, "standalone") == 0 ? RET_MARK_KEEP_STANDALONE
                                                             : RET_MARK_KEEP_FULL;
    free(target);
    return mark;
}

struct model {
    const char *server, *id;
    const char *action; /* "status", "kept", "released" */
    const char *target; /* the keep target, NULL for none */
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    if (strcmp(m->action, "status") == 0)
        sb_appendf(out, "Server %s:\n\tKeep: %s\n", m->server,
                   m->target ? m->target : "nokeep"); /* as Barman prints it */
    else if (m->target)
        sb_appendf(out, "Backup %s of server %s is kept (target: %s)\n", m->id, m->server,
                   m->target);
    else
        sb_appendf(out, "Backup %s of server %s is no longer kept\n", m->id, m->server);
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:s, s:s, s:s?}", "server", m->server, "backup_id", m->id, "action",
                     m->action, "keep", m->target);
}

/* Remove both places' files (and an annotations/ or meta/ directory left
 * empty, as Barman does); a missing one is fine. */
static int release(const struct cfg_server *s, const char *id, struct cel_err *err)
{
    char *paths[2];
    keep_paths(s, id, paths);
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (unlink(paths[i]) < 0) {
            if (errno != ENOENT)
                rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", paths[i]);
            continue;
        }
        if (stor_fsync_parent(paths[i], err) < 0) {
            rc = -err->code;
            continue;
        }
        char *dir = cel_xstrdup(paths[i]);
        *strrchr(dir, '/') = '\0';
        if (rmdir(dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", dir);
        free(dir);
    }
    free_paths(paths);
    return rc;
}

static int add(const struct cfg_server *s, const struct cat_backup *b, const char *target,
               struct cel_err *err)
{
    if (b->status != CAT_DONE)
        return cel_err_set(err, CEL_E_CONFLICT,
                           "Cannot add keep to backup %s because it has status %s. Only backups "
                           "with status DONE can be kept.",
                           b->id, cat_status_name(b->status));
    char *paths[2];
    keep_paths(s, b->id, paths);
    char *dir = cel_xstrdup(paths[0]);
    *strrchr(dir, '/') = '\0';
    int rc = stor_mkdir_p(dir, 0755, err);
    if (rc == 0)
        rc = stor_write_file(paths[0], target, strlen(target), 0644, err);
    /* one keep, in the old place: a newer Barman's copy would win over it */
    if (rc == 0 && unlink(paths[1]) < 0 && errno != ENOENT)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", paths[1]);
    free(dir);
    free_paths(paths);
    return rc;
}

int op_keep(const struct op_ctx *ctx, const struct op_keep_req *req, struct cel_err *err)
{
    const struct cfg_server *s;
    struct op_catalog cat;
    int i = op_backup_open(ctx, req->server, req->backup, "keep", false, &s, &cat, err);
    if (i < 0)
        return i;
    const struct cat_backup *b = &cat.list.items[i];
    struct model m = {.server = s->name, .id = b->id};
    char *target = NULL;
    int rc = 0;
    switch (req->action) {
    case OP_KEEP_STATUS:
        m.action = "status";
        rc = keep_target(s, b->id, &target, err);
        m.target = target;
        break;
    case OP_KEEP_RELEASE:
        m.action = "released";
        rc = release(s, b->id, err);
        break;
    case OP_KEEP_ADD:
        m.action = "kept";
        m.target = req->target;
        rc = add(s, b, req->target, err);
        break;
    }
    if (rc == 0) {
        struct op_result r = {"keep", &m, render_text, render_json};
        op_result(ctx, &r);
    }
    free(target);
    op_catalog_free(&cat);
    return rc;
}
