/*
 * verify_backup.c - `cellar verify-backup SERVER BACKUP_ID`: PostgreSQL's
 * own pg_verifybackup checks a backup's copy against the backup_manifest
 * cellar wrote: every file present, none added, sizes and CRC-32C
 * checksums equal. WAL is not parsed (-n): the backup's WAL lives
 * compressed in the archive, where archive-wal checked each segment's
 * header as it arrived.
 *
 * pg_verifybackup is looked for in path_prefix, then in PATH, then in
 * Debian's /usr/lib/postgresql/<major>/bin of the backup's version and of
 * every installed version (a newer one reads older manifests).
 *
 * A tar backup (backup_method = postgres with backup_compression), which
 * PostgreSQL 15's pg_verifybackup cannot read, is checked by cellar itself
 * (verify_tar.c): the same checks on the archives as they are, reported in
 * the same words.
 */
#include <stdlib.h>

#include "backup_int.h"
#include "ops.h"
#include "proc.h"
#include "server.h"
#include "storage.h"

struct model {
    const char *server, *id, *tool;
    bool ok;
    bool tar; /* checked by cellar itself */
    const char *output;
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    if (m->output && m->output[0]) {
        sb_append(out, m->output);
        if (m->output[strlen(m->output) - 1] != '\n')
            sb_append(out, "\n");
    }
    if (m->tar)
        sb_appendf(out, "Backup %s of server %s: %s\n", m->id, m->server,
                   m->ok ? "every file of its tar archives verified against backup_manifest"
                         : "its tar archives do not match backup_manifest");
    else
        sb_appendf(out, "Backup %s of server %s: %s\n", m->id, m->server,
                   m->ok ? "verified by pg_verifybackup" : "pg_verifybackup found problems");
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:s, s:b, s:s, s:s}", "server", m->server, "backup_id", m->id, "ok",
                     m->ok, "tool", m->tool, "output", m->output ? m->output : "");
}

int op_verify_backup(const struct op_ctx *ctx, const struct op_verify_backup_req *req,
                     struct cel_err *err)
{
    const struct cfg_server *s;
    struct op_catalog cat;
    int i = op_backup_open(ctx, req->server, req->backup, "verify-backup", false, &s, &cat, err);
    if (i < 0)
        return i;
    int rc = 0;
    const struct cat_backup *b = &cat.list.items[i];
    char *data = op_backup_dir(s, b->id, "data");
    char *manifest = cel_xasprintf("%s/backup_manifest", data);
    char *tool = NULL;
    if (!cat_status_copy_done(b->status)) {
        rc = cel_err_set(err, CEL_E_CONFLICT, "backup %s of server %s is %s: only a complete "
                                              "backup can be verified",
                         b->id, s->name, cat_status_name(b->status));
    } else if (cat_extra_get(b, "encryption")) {
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "backup %s of server %s is encrypted (encryption = %s): verify-backup "
                         "does not decrypt its archives",
                         b->id, s->name, cat_extra_get(b, "encryption"));
        cel_err_hint(err, "cellar recover decrypts it (with encryption_passphrase_command); "
                          "check the recovered copy by starting it.");
    } else if (!stor_is_file(manifest)) {
        rc = cel_err_set(err, CEL_E_NOT_FOUND, "backup %s of server %s has no backup_manifest "
                                               "(%s): it was not taken by cellar",
                         b->id, s->name, manifest);
        cel_err_hint(err, "Barman's rsync backups have no manifest; take a new backup with "
                          "cellar to verify it.");
    }
    struct proc_result res = {0};
    if (rc == 0 && b->compression) {
        struct strbuf text = {0};
        bool ok = false;
        rc = bk_verify_tar(ctx, s->name, b, data, &text, &ok, err);
        if (rc == 0) {
            struct model m = {.server = s->name, .id = b->id, .tool = "cellar", .ok = ok,
                              .tar = true, .output = sb_str(&text)};
            struct op_result r = {"verify-backup", &m, render_text, render_json};
            op_result(ctx, &r);
            if (!ok)
                rc = cel_err_set(err, CEL_E_CHECK, "backup %s of server %s failed verification",
                                 b->id, s->name);
        }
        sb_free(&text);
        goto out;
    }
    if (rc == 0) {
        /* PATH (with path_prefix) first; Debian keeps the tool out of PATH */
        tool = cel_xstrdup("pg_verifybackup");
        const char *argv[] = {tool, "-n", "--", data, NULL};
        struct proc_opts o = {.path_prefix = s->path_prefix, .err_mode = PROC_CAPTURE};
        op_phase(ctx, s->name, "verify", "running pg_verifybackup on %s", data);
        rc = proc_run(argv, &o, &res, err);
        if (rc < 0) {
            char *alt = op_pg_tool("pg_verifybackup", b->version.set ? (long)b->version.v : 0);
            if (alt) {
                cel_err_clear(err);
                free(tool);
                tool = alt;
                argv[0] = tool;
                proc_result_free(&res);
                rc = proc_run(argv, &o, &res, err);
            } else {
                cel_err_hint(err, "Install PostgreSQL's client programs (postgresql-15), or "
                                  "add their directory to path_prefix.");
            }
        }
    }
    if (rc == 0) {
        struct strbuf text = {0};
        if (res.out)
            sb_append(&text, res.out);
        if (res.err)
            sb_append(&text, res.err);
        struct model m = {.server = s->name, .id = b->id, .tool = tool,
                          .ok = res.status == 0, .output = sb_str(&text)};
        struct op_result r = {"verify-backup", &m, render_text, render_json};
        op_result(ctx, &r);
        if (!m.ok)
            rc = cel_err_set(err, CEL_E_CHECK, "backup %s of server %s failed verification",
                             b->id, s->name);
        sb_free(&text);
    }
out:
    proc_result_free(&res);
    free(tool);
    free(manifest);
    free(data);
    op_catalog_free(&cat);
    return rc;
}
