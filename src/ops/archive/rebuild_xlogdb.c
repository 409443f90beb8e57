/*
 * rebuild_xlogdb.c - `cellar rebuild-xlogdb SERVER|all`: write xlog.db anew
 * from the files in wals/, in Barman's format, sorted.
 *
 * Segments, .partial and .backup files are looked for in the 16-character
 * hash directories, history files at the top of wals/. Each line gets the
 * file's size, mtime and compression (by magic bytes). Hidden files (our
 * temporaries), the catalogue itself under either name (xlog.db*, and
 * <server>-xlog.db* as Barman >= 3.13 skips it), and xlog.db.cellar-targets
 * (the recovery-target index, walidx.h, rebuilt here too: every segment's
 * records are read again) are skipped; anything else is reported
 * and left alone, as Barman does. The catalogue is written where and as
 * xdb_place says (xlogdb.h): a due move to Barman 3.13's name happens
 * here as in Barman's rebuild-xlogdb, which deletes the old wals/xlog.db.
 * The whole scan and the rewrite happen under the xlogdb lock, which the
 * archiver also takes before it moves a file in, so no file can be missed
 * between the scan and the write.
 *
 * A file no magic matches is recorded uncompressed only when its content
 * is the plain file its name says (op_archived_kind); otherwise the old
 * xlog.db's record stands, or it is recorded as custom, as Barman assumes,
 * and a warning names it.
 *
 * op_xdb_read_repair is the same scan on a small scale: the archiver's
 * repair of a last xlog.db line that a killed writer cut short.
 */
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "lock.h"
#include "ops.h"
#include "server.h"
#include "server_select.h"
#include "storage.h"
#include "wal_archive.h"

struct model {
    const char *server;
    size_t history, labels, segments, partials, ignored;
    size_t restore_points; /* in the recovery-target index rebuilt */
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    sb_appendf(out,
               "Done rebuilding xlogdb for server %s (history: %zu, backup_labels: %zu, "
               "wal_file: %zu, partial: %zu)\n",
               m->server, m->history, m->labels, m->segments, m->partials);
    sb_appendf(out, "Recovery-target index rebuilt: %zu restore point%s\n", m->restore_points,
               m->restore_points == 1 ? "" : "s");
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "server", m->server, "history",
                     (json_int_t)m->history, "backup_labels", (json_int_t)m->labels, "wal_file",
                     (json_int_t)m->segments, "partial", (json_int_t)m->partials, "ignored",
                     (json_int_t)m->ignored, "restore_points", (json_int_t)m->restore_points);
}

static bool visible(const char *dir, const char *name, void *ctx)
{
    (void)dir;
    (void)ctx;
    return name[0] != '.';
}

static bool is_hash_dir(const char *name)
{
    if (strlen(name) != 16)
        return false;
    for (const char *p = name; *p; p++)
        if (!strchr("0123456789ABCDEF", *p))
            return false;
    return true;
}

/* Which files a scan adds: all (prefix NULL), or those whose names start
 * with prefix (exact: are prefix) and that db does not list yet. */
struct filter {
    const char *prefix;
    bool exact;
};

static bool wanted(const struct filter *f, const struct xdb *db, const char *name)
{
    if (!f->prefix)
        return true;
    if (f->exact ? strcmp(name, f->prefix) != 0 : !cel_str_starts(name, f->prefix))
        return false;
    return !xdb_find(db, name);
}

/* Could a hash directory hold names starting with prefix? */
static bool dir_wanted(const struct filter *f, const char *dir)
{
    size_t n = f->prefix ? strlen(f->prefix) : 0;
    return strncmp(dir, f->prefix ? f->prefix : "", n < 16 ? n : 16) == 0;
}

/* Add dir/name to db if it is an archive file of an expected kind. */
static int add_file(const struct op_ctx *ctx, const struct cfg_server *s, const char *dir,
                    const char *name, bool top, const struct xdb *old, struct xdb *db,
                    const struct filter *f, struct model *m, struct cel_err *err)
{
    if (!wanted(f, db, name))
        return 0;
    char *path = cel_xasprintf("%s/%s", dir, name);
    struct wal_name w;
    struct stat st;
    int rc = 0;
    bool ok = strlen(name) < WAL_NAME_MAX && wal_name_parse(name, &w, NULL) == 0 &&
              (w.kind == WAL_KIND_HISTORY) == top;
    if (!ok) {
        op_log(ctx, LOG_WARNING, s->name, "unexpected file '%s' in the WAL archive, ignored", path);
        m->ignored++;
        goto out;
    }
    if (stat(path, &st) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", path);
        goto out;
    }
    enum comp_kind kind;
    if ((rc = op_archived_kind(ctx, s, path, name, old, &kind, err)) < 0)
        goto out;
    if (kind == COMP_CUSTOM && s->compression != COMP_CUSTOM)
        op_log(ctx, LOG_WARNING, s->name,
               "'%s' is not a plain WAL file and starts with no known compression magic: "
               "recorded as custom-compressed (reading it needs custom_decompression_filter)",
               path);
    struct xdb_entry e = {0};
    cel_strlcpy(e.name, name, sizeof e.name);
    e.size = (uint64_t)st.st_size;
    e.time = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
    if (kind != COMP_NONE)
        cel_strlcpy(e.compression, comp_name(kind), sizeof e.compression);
    xdb_put(db, &e);
    switch (w.kind) {
    case WAL_KIND_HISTORY:
        m->history++;
        break;
    case WAL_KIND_BACKUP_LABEL:
        m->labels++;
        break;
    case WAL_KIND_PARTIAL:
        m->partials++;
        break;
    case WAL_KIND_SEGMENT:
        m->segments++;
        break;
    }
out:
    free(path);
    return rc;
}

/* Scan wals/ into db (the files f wants). */
static int scan(const struct op_ctx *ctx, const struct cfg_server *s, const struct xdb *old,
                struct xdb *db, const struct filter *f, struct model *m, struct cel_err *err)
{
    char *own = cel_xasprintf("%s-xlog.db", s->name);
    struct stor_names top;
    int rc = stor_list_dir(s->wals_directory, visible, NULL, &top, err);
    if (rc == -CEL_E_NOT_FOUND)
        return 0;
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < top.n && rc == 0; i++) {
        const char *name = top.names[i];
        if (cel_str_starts(name, "xlog.db") || cel_str_starts(name, own))
            continue;
        char *path = cel_xasprintf("%s/%s", s->wals_directory, name);
        if (stor_is_dir(path) && is_hash_dir(name)) {
            if (dir_wanted(f, name)) {
                struct stor_names files;
                rc = stor_list_dir(path, visible, NULL, &files, err);
                for (size_t k = 0; k < files.n && rc == 0; k++)
                    rc = add_file(ctx, s, path, files.names[k], false, old, db, f, m, err);
                stor_names_free(&files);
            }
        } else {
            rc = add_file(ctx, s, s->wals_directory, name, true, old, db, f, m, err);
        }
        free(path);
    }
    stor_names_free(&top);
    free(own);
    return rc;
}

static int rebuild_one(const struct op_ctx *ctx, const struct cfg_server *s, const void *arg,
                       struct cel_err *err)
{
    (void)arg;
    op_phase(ctx, s->name, "rebuild", "Rebuilding xlogdb for server %s", s->name);
    int rc = stor_mkdir_p(s->wals_directory, 0700, err);
    if (rc < 0)
        return rc;
    struct lock *lock = NULL;
    if ((rc = xdb_lock(ctx->cfg->global.barman_lock_directory, s->name, &lock, err)) < 0)
        return rc;
    /* the old index, read under the lock, settles compressions the magic
     * bytes cannot tell (custom without a magic) */
    struct xdb db = {0}, old = {0};
    struct model m = {.server = s->name};
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    rc = xdb_read(&home, &old, err);
    if (rc == -CEL_E_FORMAT) {
        /* a damaged xlog.db is what rebuilding is for */
        op_log(ctx, LOG_WARNING, s->name, "the old xlog.db is not readable: %s", err->msg);
        cel_err_clear(err);
        rc = 0;
    }
    if (rc == 0)
        rc = scan(ctx, s, &old, &db, &(struct filter){0}, &m, err);
    if (rc == 0)
        rc = xdb_rewrite(&home, &db, err);
    if (rc == 0)
        op_xdb_warn_ignored(ctx, s);
    if (rc == 0) {
        /* the recovery-target index follows xlog.db: read every segment */
        struct widx idx;
        op_targets_refresh(ctx, s, &db, true, &idx, err);
        m.restore_points = idx.n_points;
        widx_free(&idx);
    }
    lock_release(lock);
    xdb_free(&old);
    xdb_free(&db);
    if (rc == 0) {
        struct op_result result = {"rebuild-xlogdb", &m, render_text, render_json};
        op_result(ctx, &result);
    }
    return rc;
}

/* UTC stamp for the damaged copy's name: YYYYMMDDTHHMMSSZ. */
static void utc_stamp(char out[20])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 20, "%Y%m%dT%H%M%SZ", &tm);
}

/* Keep the damaged xlog.db as xlog.db.damaged-<stamp>, durably: the repair
 * must lose nothing, not even the cut line. */
static int keep_damaged(const struct xdb_home *home, char **copy, struct cel_err *err)
{
    char *path = xdb_path(home);
    char stamp[20];
    utc_stamp(stamp);
    /* two repairs in one second keep both damaged files */
    *copy = cel_xasprintf("%s.damaged-%s", path, stamp);
    for (int n = 2; stor_exists(*copy); n++) {
        free(*copy);
        *copy = cel_xasprintf("%s.damaged-%s.%d", path, stamp, n);
    }
    char *text = NULL;
    size_t len = 0;
    int rc = stor_read_file(path, SIZE_MAX, &text, &len, err);
    if (rc == 0)
        rc = stor_write_file(*copy, text, len, 0600, err);
    free(text);
    free(path);
    return rc;
}

int op_xdb_read_repair(const struct op_ctx *ctx, const struct cfg_server *s, struct xdb *out,
                       struct cel_err *err)
{
    struct xdb_cut cut;
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    int rc = xdb_read_cut(&home, out, &cut, err);
    if (rc == -CEL_E_FORMAT)
        cel_err_hint(err,
                     "Run 'cellar rebuild-xlogdb %s': it writes xlog.db anew from the files "
                     "in '%s'.",
                     s->name, s->wals_directory);
    if (rc < 0 || !cut.cut)
        return rc;
    char *copy = NULL;
    char *path = xdb_path(&home);
    size_t before = out->n;
    struct model m = {.server = s->name};
    /* the cut line's file may be archived: catalogue it (and, when the cut
     * left only part of the name, any file of the archive starting with
     * that part that xlog.db lacks), from the file, as rebuild-xlogdb does */
    struct filter f = {.prefix = cut.prefix, .exact = cut.whole_name};
    if (cut.prefix[0])
        rc = scan(ctx, s, out, out, &f, &m, err);
    if (rc == 0)
        rc = keep_damaged(&home, &copy, err);
    if (rc == 0)
        rc = xdb_rewrite(&home, out, err);
    if (rc < 0) {
        cel_err_prefix(err, "cannot repair '%s' (its line %d was cut short)", path, cut.line);
        xdb_free(out);
    } else {
        size_t added = out->n - before;
        op_log(ctx, LOG_WARNING, s->name,
               "'%s' line %d was cut short (a writer was killed) and is repaired: the "
               "damaged file is kept as '%s'; %zu archived file%s named '%s%s' catalogued "
               "again from the archive",
               path, cut.line, copy, added, added == 1 ? "" : "s", cut.prefix,
               cut.whole_name ? "" : "...");
    }
    free(copy);
    free(path);
    return rc;
}

int op_xdb_load(const struct op_ctx *ctx, const struct cfg_server *s, struct xdb *out,
                struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    if (!xdb_exists(&home))
        return 0; /* nothing archived yet (and barman_home may not exist yet) */
    struct lock *lock = NULL;
    int rc = xdb_lock(ctx->cfg->global.barman_lock_directory, s->name, &lock, err);
    if (rc < 0)
        return rc;
    rc = op_xdb_read_repair(ctx, s, out, err);
    lock_release(lock);
    return rc;
}

char *op_xdb_ignored_text(const struct op_ctx *ctx, const struct cfg_server *s)
{
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    struct xdb_place p;
    if (xdb_place(&home, &p, NULL) < 0)
        return NULL;
    char *text = NULL;
    if (p.ignored && p.style == XDB_FORMAT_3_4)
        text = cel_xasprintf(
            "two WAL catalogues: '%s' is used (cellar_xlogdb_format = 3.4) and '%s' is ignored; "
            "a Barman >= 3.13 working on this home reads only the ignored one. Remove it once "
            "no such Barman uses the home",
            p.path, p.ignored_path);
    else if (p.ignored)
        text = cel_xasprintf(
            "two WAL catalogues: '%s' is used (a %s-style home) and '%s' is ignored, as Barman "
            ">= 3.13 ignores wals/xlog.db once <server>-xlog.db exists; a Barman older than "
            "3.13 still archiving into this home writes only the ignored one. Stop that "
            "Barman's archiving (or set cellar_xlogdb_format = 3.4), then remove '%s' and run "
            "'cellar rebuild-xlogdb %s'",
            p.path, xdb_format_name(p.style), p.ignored_path, p.ignored_path, s->name);
    xdb_place_free(&p);
    return text;
}

void op_xdb_warn_ignored(const struct op_ctx *ctx, const struct cfg_server *s)
{
    char *text = op_xdb_ignored_text(ctx, s);
    if (text)
        op_log(ctx, LOG_WARNING, s->name, "%s", text);
    free(text);
}

int op_rebuild_xlogdb(const struct op_ctx *ctx, const struct op_rebuild_xlogdb_req *req,
                      struct cel_err *err)
{
    return op_each_server(ctx, req->server, false, rebuild_one, NULL, err);
}
