/*
 * backup.c - `cellar backup SERVER|all`: a base backup through rsync with
 * PostgreSQL's non-exclusive backup API.
 *
 * The flow, under the server's backup lock (Barman's, so cellar and Barman
 * never back up one server at once):
 *   1. settle the catalogue: backups left STARTED by a killed process
 *      become FAILED;
 *   2. connect, read the server's layout, check it is the database system
 *      this archive belongs to (identity.json, written on the first backup);
 *   3. create base/<id>/ with backup.info EMPTY; pre_backup hooks;
 *   4. start the backup (STARTED), copy the files (backup_copy.c), stop it;
 *   5. write data/backup_label from the stop result, the tablespace links,
 *      backup_manifest (so pg_verifybackup can check the copy), the sizes,
 *      and backup.info WAITING_FOR_WALS; create the restore point
 *      barman_<id>;
 *      from a standby (conninfo in recovery), the restore point is made on
 *      the primary (primary_conninfo) and WAL switched there, since the
 *      standby's stop switches nothing (connect_primary);
 *   6. archive what has arrived and mark the backup DONE when its WAL is
 *      all there (with --wait, wait for it); post_backup hooks.
 * Any failure, SIGINT and SIGTERM included, leaves the backup FAILED with
 * the error; SIGKILL leaves it STARTED, and the next backup or cron marks
 * it FAILED (backup_state.c).
 *
 * The stop's tablespace map is kept as base/<id>/tablespace_map, not in
 * data/: PostgreSQL acts on a tablespace_map it finds at start-up by
 * pointing pg_tblspc at the original locations, so a copy of data/ started
 * on the same host would write into the live server's tablespaces.
 */
#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup_int.h"
#include "catalog_json.h"
#include "fmt.h"
#include "hook_script.h"
#include "lock.h"
#include "manifest.h"
#include "op_hooks.h"
#include "proc.h"
#include "server.h"
#include "server_select.h"
#include "storage.h"
#include "tar_read.h"
#include "wal.h"
#include "wal_archive.h"

/* What one backup run reports. */
struct model {
    const char *server;
    const struct cat_backup *b;
    const char *dir;
    uint64_t size, dedup;
    double copy_seconds, elapsed;
    int workers;
    const char *reuse_mode;
    const char *previous;
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    const struct cat_backup *b = m->b;
    sb_appendf(out, "Backup %s of server %s: %s\n", b->id, m->server, cat_status_name(b->status));
    if (b->status == CAT_FAILED) /* its error was reported as it failed (bk_mark_failed) */
        return;
    sb_appendf(out, "  Directory            : %s\n", m->dir);
    sb_append(out, "  Size                 : ");
    fmt_size((double)m->size, out);
    if (m->dedup != m->size) {
        sb_append(out, " (");
        fmt_size((double)m->dedup, out);
        sb_appendf(out, " new, the rest linked from %s)", m->previous ? m->previous : "-");
    }
    sb_appendf(out, "\n  WAL                  : %s to %s (timeline %lld)\n", b->begin_wal,
               b->end_wal, (long long)b->timeline.v);
    sb_appendf(out, "  Begin LSN / End LSN  : %s / %s\n", b->begin_xlog, b->end_xlog);
    sb_append(out, "  Copy time            : ");
    ts_human_delta(m->copy_seconds, out);
    if (m->copy_seconds > 0) {
        sb_append(out, " (");
        fmt_size((double)m->size / m->copy_seconds, out);
        sb_appendf(out, "/s, %d worker%s)", m->workers, m->workers == 1 ? "" : "s");
    }
    sb_append(out, "\n  Elapsed time         : ");
    ts_human_delta(m->elapsed, out);
    sb_append(out, "\n");
    if (b->status == CAT_WAITING_FOR_WALS)
        sb_appendf(out, "  The backup becomes DONE when %s is archived (cellar cron does it; "
                        "--wait waits for it).\n",
                   b->end_wal);
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    json_t *o = op_backup_json(m->b);
    json_object_set_new(o, "server", json_string(m->server));
    json_object_set_new(o, "directory", json_string(m->dir));
    json_object_set_new(o, "size_bytes", json_integer((json_int_t)m->size));
    json_object_set_new(o, "deduplicated_bytes", json_integer((json_int_t)m->dedup));
    json_object_set_new(o, "copy_seconds", json_real(m->copy_seconds));
    json_object_set_new(o, "elapsed_seconds", json_real(m->elapsed));
    json_object_set_new(o, "workers", json_integer(m->workers));
    json_object_set_new(o, "reuse_backup", json_string(m->reuse_mode));
    json_object_set_new(o, "previous_backup", m->previous ? json_string(m->previous) : json_null());
    return o;
}

/* Everything one backup run works with. */
struct run {
    const struct op_ctx *ctx;
    const struct cfg_server *s;
    const struct op_backup_req *req;
    struct pg_conn *conn;
    /* a backup from a standby: the primary (primary_conninfo), where WAL is
     * switched after the stop so the backup's last segment is archived;
     * NULL for a primary, or a standby without primary_conninfo */
    struct pg_conn *primary;
    double last_switch; /* ts_monotonic() of the last switch there */
    struct bk_server_info info;
    struct cat_backup b;
    char id[16];
    char *dir;
    char *previous_id; /* the backup reused from (and BARMAN_PREVIOUS_ID) */
    time_t horizon;    /* its begin time: files newer than this are copied again */
    double t0; /* ts_monotonic() at the start */
    double copy_seconds;
    int workers;
    enum cfg_reuse reuse;
    uint64_t size, dedup;
};

static bool run_hooks(struct run *r, bool pre, char **abort_msg)
{
    struct hook_vars v = {0};
    op_backup_hook_vars(&v, r->dir, &r->b, r->previous_id, NULL);
    bool stop = op_run_hooks(r->ctx, r->s, CFG_HOOK_PRE_BACKUP, "backup", pre, &v, abort_msg);
    hook_vars_free(&v);
    return stop;
}

/* Record a failure: "failure <action> (<why>)", as Barman words it. */
static int fail(struct run *r, const char *action, struct cel_err *err)
{
    struct strbuf why = {0};
    if (op_cancelled(r->ctx))
        sb_appendf(&why, "interrupted by signal %d (%s)", *r->ctx->cancel,
                   strsignal(*r->ctx->cancel));
    else
        sb_append(&why, err->msg);
    char *msg = cel_xasprintf("failure %s (%s)", action, sb_str(&why));
    sb_free(&why);
    if (r->s->encryption == CFG_ENC_GPG) /* nothing stays in clear */
        bk_drop_clear_tars(r->ctx, r->s, r->dir);
    bk_mark_failed(r->ctx, r->s, r->dir, &r->b, msg);
    /* The op's error is the line bk_mark_failed has just reported, word for
     * word, so the batch front end does not print it a second time. */
    enum cel_code code = err->code ? (enum cel_code)err->code : CEL_E_PROC;
    char hint[sizeof err->hint];
    snprintf(hint, sizeof hint, "%s", err->hint);
    cel_err_set(err, code, "backup %s FAILED: %s", r->b.id, msg);
    snprintf(err->hint, sizeof err->hint, "%s", hint);
    free(msg);
    return -(int)code;
}

/* identity.json: written on the first backup, checked on every later one. */
static int check_identity(struct run *r, struct cel_err *err)
{
    uint64_t known = op_server_sysid(r->s);
    uint64_t actual = strtoull(r->info.systemid ? r->info.systemid : "0", NULL, 10);
    if (known && known != actual) {
        int rc = cel_err_set(err, CEL_E_CONFLICT,
                             "PostgreSQL at conninfo is database system %llu, but the archive of "
                             "server %s belongs to system %llu",
                             (unsigned long long)actual, r->s->name, (unsigned long long)known);
        cel_err_hint(err, "Check conninfo; a new cluster (initdb) needs its own server section "
                          "or a new backup_directory.");
        return rc;
    }
    if (known)
        return 0;
    char *path = cel_xasprintf("%s/identity.json", r->s->backup_directory);
    char *text = cel_xasprintf("{\n    \"systemid\": \"%s\",\n    \"version\": \"%s\"\n}\n",
                               r->info.systemid, r->info.major);
    int rc = stor_write_file(path, text, strlen(text), 0600, err);
    free(text);
    free(path);
    return rc;
}

/* A new backup ID: the local time, a second later if that one is taken. */
static int new_backup_dir(struct run *r, struct cel_err *err)
{
    for (int tries = 0; tries < 3; tries++) {
        ts_backup_id(time(NULL), r->id);
        free(r->dir);
        r->dir = op_backup_dir(r->s, r->id, NULL);
        if (mkdir(r->dir, 0700) == 0)
            return stor_fsync_dir(r->s->basebackups_directory, err);
        if (errno != EEXIST)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot create %s", r->dir);
        sleep(1);
    }
    return cel_err_set(err, CEL_E_CONFLICT, "cannot create a new backup directory in %s",
                       r->s->basebackups_directory);
}

/* The latest backup whose copy is complete: what reuse_backup reuses. */
static void find_previous(struct run *r)
{
    struct cat_list list;
    struct cel_err err = {0};
    if (cat_list_load(r->s->basebackups_directory, &list, &err) < 0)
        return;
    for (size_t i = list.n; i-- > 0;) {
        const struct cat_backup *b = &list.items[i];
        if (list.failed[i] || !cat_status_copy_done(b->status) || strcmp(b->id, r->id) == 0)
            continue;
        /* files changed during or after the previous copy may keep their
         * size and mtime: they are always copied again. Without a begin
         * time there is no such horizon, and nothing is reused. */
        if (b->begin_time.set) {
            r->previous_id = cel_xstrdup(b->id);
            r->horizon = (time_t)b->begin_time.t.sec;
        }
        break;
    }
    cat_list_free(&list);
}

/* Fill backup.info's fields known once the backup has started. */
static void describe_server(struct run *r)
{
    struct cat_backup *b = &r->b;
    bk_describe_server(&r->info, b);
    if (r->info.included_files) {
        struct strbuf t = {0};
        py_repr(r->info.included_files, &t);
        py_parse(sb_str(&t), &b->included_files, NULL);
        sb_free(&t);
    }
}

/* Connect, learn the server and check it can be backed up by this run. */
/* A backup from a standby (conninfo answers pg_is_in_recovery() true).
 * PostgreSQL ends it without a WAL switch, so its last segment is only
 * archived once the primary closes that segment: with primary_conninfo,
 * cellar connects to the primary now (it must be a primary of the same
 * system) and switches WAL there after the stop; without it, the backup
 * waits for the primary's own switch (archive_timeout, or traffic), as in
 * Barman 3.4, and says so. primary_conninfo with a conninfo that is not a
 * standby is refused, as Barman refuses it. */
static int connect_primary(struct run *r, struct cel_err *err)
{
    const struct cfg_server *s = r->s;
    if (!r->info.in_recovery) {
        cel_err_set(err, CEL_E_CONFIG,
                    "server %s: primary_conninfo is set but conninfo points at a primary (not "
                    "in recovery): primary_conninfo is for backups from a standby",
                    s->name);
        cel_err_hint(err, "Point conninfo at the standby, or remove primary_conninfo.");
        return -CEL_E_CONFIG;
    }
    if (!s->primary_conninfo) {
        op_log(r->ctx, LOG_WARNING, s->name,
               "PostgreSQL at conninfo is a standby and primary_conninfo is not set: the "
               "backup's last WAL segment is archived only when the primary switches WAL "
               "(archive_timeout or traffic); set primary_conninfo so cellar switches it");
        return 0;
    }
    int rc = op_primary_connect(s, r->info.systemid, &r->primary, err);
    if (rc == 0)
        op_log(r->ctx, LOG_INFO, s->name,
               "backing up a standby: WAL is switched on the primary (primary_conninfo) at the "
               "end");
    return rc;
}

/* Close the segment the primary writes, so the segment a backup from the
 * standby ends in is archived. */
static void switch_primary(struct run *r)
{
    char *name = NULL;
    struct cel_err e = {0};
    r->last_switch = ts_monotonic();
    if (pg_query_value(r->primary, "SELECT pg_walfile_name(pg_switch_wal())", &name, &e) < 0)
        op_log(r->ctx, LOG_WARNING, r->s->name, "switching WAL on the primary: %s", e.msg);
    else
        op_log(r->ctx, LOG_INFO, r->s->name, "switched WAL on the primary (closed %s)",
               name ? name : "?");
    free(name);
}

static int prepare(struct run *r, struct cel_err *err)
{
    const struct cfg_server *s = r->s;
    if (!s->conninfo)
        return cel_err_set(err, CEL_E_CONFIG, "server %s has no conninfo: the backup needs a "
                                              "connection to PostgreSQL", s->name);
    int rc = pg_connect(s->conninfo, s->check_timeout, &r->conn, err);
    if (rc == 0)
        rc = bk_server_info(r->conn, &r->info, err);
    if (rc < 0)
        return rc;
    if ((s->backup_options & CFG_BO_EXCLUSIVE) && s->backup_method == CFG_BM_POSTGRES) {
        /* pg_basebackup's backups are always concurrent: Barman says so
         * and goes on */
        op_log(r->ctx, LOG_WARNING, s->name,
               "'exclusive_backup' is not a valid backup_option using postgres backup_method; "
               "taking a concurrent backup");
    } else if (s->backup_options & CFG_BO_EXCLUSIVE) {
        if (r->info.version >= 150000)
            rc = cel_err_set(err, CEL_E_CONFIG,
                             "backup_options = exclusive_backup: PostgreSQL %s has no exclusive "
                             "backups (they were removed in 15 because a crash during one could "
                             "leave a server that does not start)",
                             r->info.major);
        else
            rc = cel_err_set(err, CEL_E_CONFIG,
                             "backup_options = exclusive_backup: cellar takes concurrent "
                             "(non-exclusive) backups only, which PostgreSQL %s supports",
                             r->info.major);
        cel_err_hint(err, "Set backup_options = concurrent_backup in [%s].", s->name);
        return rc;
    }
    /* files pulled in by include directives outside PGDATA are not
     * copied (as in Barman): say so unless the DBA has said they know */
    const struct py_value *inc = r->info.included_files;
    size_t pglen = strlen(r->info.pgdata);
    for (size_t i = 0; inc && !(s->backup_options & CFG_BO_EXTERNAL_CONFIGURATION) && i < inc->n;
         i++)
        if (strncmp(inc->items[i]->s, r->info.pgdata, pglen) != 0 ||
            inc->items[i]->s[pglen] != '/')
            op_log(r->ctx, LOG_WARNING, s->name,
                   "%s is included by the configuration and lives outside PGDATA: it is not "
                   "copied (backup_options = external_configuration silences this)",
                   inc->items[i]->s);
    rc = r->info.in_recovery || s->primary_conninfo ? connect_primary(r, err) : 0;
    return rc < 0 ? rc : check_identity(r, err);
}

static int write_backup_label(struct run *r, const char *spcmap, struct cel_err *err)
{
    char *path = cel_xasprintf("%s/data/backup_label", r->dir);
    int rc = stor_write_file(path, r->b.backup_label, strlen(r->b.backup_label), 0600, err);
    free(path);
    if (rc == 0 && spcmap) {
        path = cel_xasprintf("%s/tablespace_map", r->dir);
        rc = stor_write_file(path, spcmap, strlen(spcmap), 0600, err);
        free(path);
    }
    return rc;
}

static int write_manifest(struct run *r, struct cel_err *err)
{
    struct manifest_wal_range range;
    int rc = bk_wal_range(&r->b, &range, err);
    if (rc < 0)
        return rc;
    char *data = cel_xasprintf("%s/data", r->dir);
    /* files hard-linked from the previous backup keep the checksums its
     * manifest already has: a linked backup reads only what it copied */
    char *prev = r->reuse == CFG_REUSE_LINK && r->previous_id
                     ? op_backup_dir(r->s, r->previous_id, "data")
                     : NULL;
    op_phase(r->ctx, r->s->name, "manifest", "writing backup_manifest (checksums of every file)");
    uint64_t reused = 0;
    rc = manifest_write_reusing(data, prev, &range, 1, &reused, err);
    if (rc == 0 && prev)
        op_log(r->ctx, LOG_INFO, r->s->name,
               "backup_manifest: %llu checksums taken from backup %s (the same files)",
               (unsigned long long)reused, r->previous_id);
    free(prev);
    free(data);
    return rc;
}

/* Steps 4 and 5: start, copy, stop, and describe the copy. */
/* After the copy: a restore point named after the backup, for recover
 * --target-name (as Barman makes for every method), on the primary when
 * the backup came from a standby (a standby cannot write WAL), then a WAL
 * switch there that closes the backup's last segment. */
static void mark_end(struct run *r)
{
    const struct cfg_server *s = r->s;
    struct pg_conn *writer = r->info.in_recovery ? r->primary : r->conn;
    if (!writer) {
        op_log(r->ctx, LOG_INFO, s->name,
               "no restore point barman_%s: the server is a standby and primary_conninfo is "
               "not set",
               r->id);
        return;
    }
    char *sql = cel_xasprintf("SELECT pg_create_restore_point('barman_%s')::text", r->id);
    char *lsn = NULL;
    struct cel_err rp = {0};
    if (pg_query_value(writer, sql, &lsn, &rp) < 0)
        op_log(r->ctx, LOG_WARNING, s->name, "cannot create restore point barman_%s: %s", r->id,
               rp.msg);
    free(lsn);
    free(sql);
    if (r->primary)
        switch_primary(r);
}

/* Both methods' last step once the files are in place: the sizes,
 * backup.info WAITING_FOR_WALS, the restore point and the WAL switch. */
static int close_backup(struct run *r, struct cel_err *err)
{
    int rc = bk_disk_usage(r->dir, &r->size, &r->dedup, err);
    if (rc < 0)
        return fail(r, "closing the backup", err);
    r->b.size.set = r->b.deduplicated_size.set = true;
    r->b.size.v = (int64_t)r->size;
    r->b.deduplicated_size.v = (int64_t)r->dedup;
    r->b.status = CAT_WAITING_FOR_WALS;
    rc = cat_info_write(r->dir, &r->b, err);
    if (rc < 0)
        return fail(r, "closing the backup", err);
    mark_end(r);
    return 0;
}

static int take_backup(struct run *r, struct cel_err *err)
{
    const struct cfg_server *s = r->s;
    const struct op_backup_req *req = r->req;
    bool fast = req->immediate_checkpoint >= 0 ? req->immediate_checkpoint != 0
                                               : s->immediate_checkpoint;
    char *label = cel_xasprintf("Barman backup %s %s", s->name, r->id);
    if (op_cancelled(r->ctx)) {
        cel_err_set(err, CEL_E_PROC, "interrupted before the start");
        return fail(r, "starting backup", err);
    }
    op_phase(r->ctx, s->name, "start", "starting the backup (%s checkpoint)",
             fast ? "immediate" : "spread");
    int rc = bk_start(r->conn, label, fast, r->info.segsize, &r->b, err);
    free(label);
    if (rc < 0)
        return fail(r, "starting backup", err);
    r->b.status = CAT_STARTED;
    rc = cat_info_write(r->dir, &r->b, err);
    if (rc < 0)
        return fail(r, "starting backup", err);
    op_log(r->ctx, LOG_INFO, s->name, "backup start at LSN %s (%s, %08llx)", r->b.begin_xlog,
           r->b.begin_wal, (unsigned long long)r->b.begin_offset.v);

    struct bk_copy cp = {.ctx = r->ctx,
                         .s = s,
                         .info = &r->info,
                         .backup_dir = r->dir,
                         .prev_dir = NULL,
                         .safe_horizon = r->horizon,
                         .reuse = r->reuse == CFG_REUSE_LINK   ? RSYNC_REUSE_LINK
                                  : r->reuse == CFG_REUSE_COPY ? RSYNC_REUSE_COPY
                                                               : RSYNC_REUSE_OFF,
                         .workers = r->workers,
                         .retry_times = req->retry_times >= 0 ? req->retry_times
                                                              : s->basebackup_retry_times,
                         .retry_sleep = req->retry_sleep >= 0 ? req->retry_sleep
                                                              : s->basebackup_retry_sleep};
    char *prev_dir = NULL;
    if (r->previous_id && cp.reuse != RSYNC_REUSE_OFF) {
        prev_dir = op_backup_dir(s, r->previous_id, NULL);
        cp.prev_dir = prev_dir;
        op_log(r->ctx, LOG_INFO, s->name, "reusing unchanged files of backup %s (%s)",
               r->previous_id, r->reuse == CFG_REUSE_LINK ? "hard links" : "local copies");
    }
    double c0 = ts_monotonic();
    rc = bk_copy_files(&cp, err);
    r->copy_seconds = ts_monotonic() - c0;
    free(prev_dir);
    if (rc < 0) {
        bk_copy_free(&cp);
        return fail(r, "copying files", err);
    }
    r->b.copy_stats = cp.copy_stats;
    cp.copy_stats = NULL;
    bk_copy_free(&cp);

    op_phase(r->ctx, s->name, "stop", "asking PostgreSQL to finish the backup");
    char *spcmap = NULL;
    rc = bk_stop(r->conn, r->info.segsize, false, &r->b, &spcmap, err);
    if (rc < 0)
        return fail(r, "issuing stop of the backup", err);
    op_log(r->ctx, LOG_INFO, s->name, "backup end at LSN %s (%s, %08llx)", r->b.end_xlog,
           r->b.end_wal, (unsigned long long)r->b.end_offset.v);
    rc = write_backup_label(r, spcmap, err);
    free(spcmap);
    if (rc == 0)
        rc = bk_link_tablespaces(r->dir, &r->b, err);
    if (rc == 0)
        rc = write_manifest(r, err);
    if (rc < 0)
        return fail(r, "closing the backup", err);
    return close_backup(r, err);
}

/* The end of the backup's WAL in pg_basebackup's backup_manifest (PG 13
 * and later): the last WAL-Ranges entry's End-LSN. NULL when there is no
 * manifest. Caller frees. */
static char *manifest_end_lsn(const char *dir)
{
    char *path = cel_xasprintf("%s/data/backup_manifest", dir);
    struct manifest m;
    char *out = NULL;
    if (manifest_read(path, &m, NULL) == 0) {
        if (m.n_ranges) {
            uint64_t lsn = m.ranges[m.n_ranges - 1].end_lsn;
            out = cel_xasprintf("%X/%X", (unsigned)(lsn >> 32), (unsigned)(uint32_t)lsn);
        }
        manifest_free(&m);
    }
    free(path);
    return out;
}

/* The backup_label inside a tar backup's data/base.tar.*, as Barman reads
 * it (tar -xf ARCHIVE -O backup_label), read by cellar's own decompressor
 * and tar reader (it is among the first members: the rest is not read). */
static int read_tar_label(struct run *r, const char *compression, char **out, struct cel_err *err)
{
    *out = NULL;
    char *archive = cel_xasprintf("%s/data/base.%s", r->dir, op_tar_suffix(compression));
    enum comp_kind kind;
    struct cel_err terr = {0};
    int rc = comp_parse_name(compression, &kind, err);
    if (rc == 0 && (tar_read_member(archive, kind, "backup_label", 1 << 20, out, NULL, &terr) < 0 ||
                    !(*out)[0])) {
        rc = cel_err_set(err, CEL_E_FORMAT, "could not find backup_label in %s%s%s", archive,
                         terr.msg[0] ? ": " : "", terr.msg);
        free(*out);
        *out = NULL;
    }
    free(archive);
    return rc;
}

/* Barman 3.4's checks of the compression against the versions. */
static int check_compression_versions(struct run *r, long tool_version, struct cel_err *err)
{
    const struct cfg_server *s = r->s;
    if (!s->backup_compression)
        return 0;
    if (s->backup_compression != CFG_BBC_GZIP && tool_version && tool_version < 150000)
        return cel_err_set(err, CEL_E_CONFIG,
                           "backup_compression = %s requires pg_basebackup 15 or greater",
                           s->backup_compression == CFG_BBC_LZ4 ? "lz4" : "zstd");
    if (s->backup_compression_location == CFG_BBL_SERVER &&
        ((tool_version && tool_version < 150000) || r->info.version < 150000))
        return cel_err_set(err, CEL_E_CONFIG,
                           "backup_compression_location = server requires pg_basebackup and "
                           "PostgreSQL 15 or greater");
    return 0;
}

/* Steps 4 and 5 for backup_method = postgres: pg_basebackup starts the
 * backup, copies, and stops it; cellar records where WAL was before, reads
 * the real start in the copy's backup_label and the end from pg_basebackup,
 * and keeps the backup_label and backup_manifest pg_basebackup wrote. The
 * connection is closed during the copy, as Barman closes it, so a long copy
 * holds no idle session. */
static int take_stream_backup(struct run *r, struct cel_err *err)
{
    const struct cfg_server *s = r->s;
    const struct op_backup_req *req = r->req;
    if (op_cancelled(r->ctx)) {
        cel_err_set(err, CEL_E_PROC, "interrupted before the start");
        return fail(r, "starting backup", err);
    }
    struct bk_basebackup bb = {
        .ctx = r->ctx,
        .s = s,
        .info = &r->info,
        .backup_dir = r->dir,
        .fast = req->immediate_checkpoint >= 0 ? req->immediate_checkpoint != 0
                                               : s->immediate_checkpoint,
        .bwlimit = s->bandwidth_limit,
        .retry_times = req->retry_times >= 0 ? req->retry_times : s->basebackup_retry_times,
        .retry_sleep = req->retry_sleep >= 0 ? req->retry_sleep : s->basebackup_retry_sleep};
    char *tool = NULL;
    int rc = op_pg_program("pg_basebackup", s->path_prefix, r->info.version, 0, &tool,
                           &bb.tool_version, err);
    if (rc == 0 && bb.tool_version && bb.tool_version / 10000 < r->info.version / 10000) {
        char have[32];
        op_pg_version_text(bb.tool_version, have);
        rc = cel_err_set(err, CEL_E_CONFIG,
                         "%s is version %s, older than PostgreSQL %s: it cannot back it up", tool,
                         have, r->info.major);
        cel_err_hint(err, "Install postgresql-client-%s, or set path_prefix to its bin directory "
                          "(/usr/lib/postgresql/%s/bin).",
                     r->info.major, r->info.major);
    }
    if (rc == 0)
        rc = check_compression_versions(r, bb.tool_version, err);
    if (rc == 0)
        rc = bk_stream_start(r->conn, r->info.segsize, &r->b, err);
    if (rc < 0) {
        free(tool);
        return fail(r, "starting backup", err);
    }
    r->b.status = CAT_STARTED;
    rc = cat_info_write(r->dir, &r->b, err);
    if (rc < 0) {
        free(tool);
        return fail(r, "starting backup", err);
    }
    pg_close(r->conn);
    r->conn = NULL;

    bb.tool = tool;
    op_phase(r->ctx, s->name, "copy", "copying with %s (%s checkpoint)", tool,
             bb.fast ? "immediate" : "spread");
    rc = bk_basebackup_run(&bb, err);
    free(tool);
    r->copy_seconds = bb.copy_seconds;
    if (rc < 0) {
        char *data = cel_xasprintf("%s/data", r->dir);
        char *what = cel_xasprintf("copying files (data transfer failure on directory '%s')", data);
        free(data);
        bk_basebackup_free(&bb);
        rc = fail(r, what, err);
        free(what);
        return rc;
    }
    r->b.copy_stats = py_new_dict();
    py_dict_set(r->b.copy_stats, "copy_time", py_new_float(r->copy_seconds));
    py_dict_set(r->b.copy_stats, "total_time", py_new_float(r->copy_seconds));

    op_phase(r->ctx, s->name, "stop", "reading the backup label and the end of the backup");
    char *label = NULL;
    const char *tar = bk_basebackup_tar(s);
    if (tar) {
        r->b.compression = cel_xstrdup(tar);
        rc = read_tar_label(r, tar, &label, err);
    } else {
        char *path = cel_xasprintf("%s/data/backup_label", r->dir);
        rc = stor_read_file(path, 1 << 20, &label, NULL, err);
        free(path);
    }
    if (rc == 0)
        rc = bk_from_label(label, r->info.segsize, &r->b, err);
    free(label);
    if (rc == 0 && !bb.end_lsn)
        bb.end_lsn = manifest_end_lsn(r->dir);
    if (rc == 0)
        rc = pg_connect(s->conninfo, s->check_timeout, &r->conn, err);
    if (rc == 0)
        rc = bk_stream_stop(r->conn, bb.end_lsn, r->info.segsize, &r->b, err);
    bk_basebackup_free(&bb);
    if (rc < 0)
        return fail(r, "stopping postgres backup_method", err);
    op_log(r->ctx, LOG_INFO, s->name, "backup start at LSN %s (%s, %08llx), end at LSN %s (%s, %08llx)",
           r->b.begin_xlog, r->b.begin_wal, (unsigned long long)r->b.begin_offset.v,
           r->b.end_xlog, r->b.end_wal, (unsigned long long)r->b.end_offset.v);
    /* pg_basebackup links pg_tblspc to the absolute paths of the copies:
     * relative links, as in rsync backups, survive a move of the home */
    rc = tar ? 0 : bk_link_tablespaces(r->dir, &r->b, err);
    if (rc < 0)
        return fail(r, "closing the backup", err);
    if (s->encryption == CFG_ENC_GPG) { /* Barman 3.14: once the copy is complete */
        op_phase(r->ctx, s->name, "encrypt", "encrypting the backup using gpg encryption to %s",
                 s->encryption_key_id);
        rc = bk_encrypt_tars(r->ctx, s, r->dir, err);
        if (rc < 0)
            return fail(r, "encrypting the backup", err);
        cat_extra_set(&r->b, "encryption", "gpg");
    }
    return close_backup(r, err);
}

/* Re-read this backup's status after bk_settle may have changed it. */
static void reload_status(struct run *r)
{
    struct cat_backup now = {0};
    if (cat_info_read(r->dir, &now, NULL) == 0) {
        r->b.status = now.status;
        free(r->b.error);
        r->b.error = now.error ? cel_xstrdup(now.error) : NULL;
    }
    cat_backup_clear(&now);
}

/* The backup's own archiving step failed (the last attempt, with --wait):
 * the copy is complete and kept, but the command fails, saying why. */
static int archive_failed(struct run *r, const struct cel_err *aerr, struct cel_err *err)
{
    int rc = cel_err_set(err, aerr->code ? (enum cel_code)aerr->code : CEL_E_IO,
                         "backup %s of server %s is complete (%s), but archiving its WAL failed: "
                         "%s",
                         r->id, r->s->name, cat_status_name(r->b.status), aerr->msg);
    cel_err_hint(err,
                 "Remove the cause, then run 'cellar archive-wal %s' (cellar cron does too): the "
                 "backup becomes DONE once its WAL is archived.",
                 r->s->name);
    return rc;
}

/* Step 6: archive what has come in and see whether the WAL is complete;
 * with --wait, until it is (or wait_timeout). A failure of the archiving
 * is the command's failure (when the last attempt failed). */
static int finish_wal(struct run *r, struct cel_err *err)
{
    const struct cfg_server *s = r->s;
    double w0 = ts_monotonic();
    bool announced = false;
    for (;;) {
        struct op_archive_summary sum;
        struct cel_err aerr = {0};
        bool archived = op_archive_server(r->ctx, s, 0, &sum, &aerr) == 0;
        if (!archived)
            op_log(r->ctx, LOG_WARNING, s->name, "archiving WAL: %s", aerr.msg);
        struct bk_settle_summary settle;
        struct cel_err serr = {0};
        if (bk_settle(r->ctx, s, true, NULL, &settle, &serr) < 0) {
            /* the copy is complete and kept (cron checks its WAL again), but
             * the WAL catalogue cannot be read (a damaged xlog.db, which
             * archive-wal with nothing waiting no longer reads): until that
             * is fixed the backup cannot become DONE, so the command fails */
            return archive_failed(r, archived ? &serr : &aerr, err);
        }
        reload_status(r);
        if (r->b.status != CAT_WAITING_FOR_WALS || !r->req->wait)
            return archived ? 0 : archive_failed(r, &aerr, err);
        if (!announced) {
            op_phase(r->ctx, s->name, "wait-wal", "waiting for %s to be archived", r->b.end_wal);
            announced = true;
        }
        if (op_cancelled(r->ctx))
            return 0;
        /* a quiet primary may not have reached the standby's end segment
         * at the first switch: switch again now and then while waiting */
        if (r->primary && ts_monotonic() - r->last_switch >= 10)
            switch_primary(r);
        if (r->req->wait_timeout > 0 && ts_monotonic() - w0 >= r->req->wait_timeout) {
            op_log(r->ctx, LOG_WARNING, s->name,
                   "%s was not archived within %d s: the backup stays WAITING_FOR_WALS",
                   r->b.end_wal, r->req->wait_timeout);
            return archived ? 0 : archive_failed(r, &aerr, err);
        }
        usleep(500 * 1000);
    }
}

static void report(struct run *r)
{
    struct model m = {.server = r->s->name,
                      .b = &r->b,
                      .dir = r->dir,
                      .size = r->size,
                      .dedup = r->dedup,
                      .copy_seconds = r->copy_seconds,
                      .elapsed = ts_monotonic() - r->t0,
                      .workers = r->workers,
                      .reuse_mode = r->reuse == CFG_REUSE_LINK   ? "link"
                                    : r->reuse == CFG_REUSE_COPY ? "copy"
                                                                 : "off",
                      .previous = r->reuse != CFG_REUSE_OFF ? r->previous_id : NULL};
    struct op_result res = {"backup", &m, render_text, render_json};
    op_result(r->ctx, &res);
}

/* One backup of one server, the lock held. */
static int backup_locked(struct run *r, struct cel_err *err)
{
    const struct cfg_server *s = r->s;
    struct bk_settle_summary settle;
    struct cel_err serr = {0};
    if (bk_settle(r->ctx, s, true, NULL, &settle, &serr) < 0)
        op_log(r->ctx, LOG_WARNING, s->name, "%s", serr.msg);
    int rc = prepare(r, err);
    if (rc < 0)
        return rc;
    rc = new_backup_dir(r, err);
    if (rc < 0)
        return rc;
    r->b.id = cel_xstrdup(r->id);
    r->b.status = CAT_EMPTY;
    r->b.mode = cel_xstrdup(s->backup_method == CFG_BM_POSTGRES ? "postgres" : "rsync-concurrent");
    r->b.server_name = cel_xstrdup(s->name);
    r->b.systemid = cel_xstrdup(r->info.systemid);
    r->b.xlog_segment_size.set = true;
    r->b.xlog_segment_size.v = (int64_t)r->info.segsize;
    if (r->req->name)
        r->b.backup_name = cel_xstrdup(r->req->name);
    describe_server(r);
    rc = cat_info_write(r->dir, &r->b, err);
    if (rc < 0) {
        rmdir(r->dir); /* empty: nothing to keep */
        return rc;
    }
    op_phase(r->ctx, s->name, "begin", "starting backup %s of server %s in %s", r->id, s->name,
             r->dir);

    /* BARMAN_PREVIOUS_ID for the hooks, and what the copy may reuse */
    find_previous(r);
    char *abort_msg = NULL;
    if (run_hooks(r, true, &abort_msg)) {
        cel_err_set(err, CEL_E_PROC, "%s", abort_msg);
        free(abort_msg);
        rc = fail(r, "starting backup", err);
    } else if (s->backup_method == CFG_BM_POSTGRES) {
        rc = take_stream_backup(r, err);
    } else {
        rc = take_backup(r, err);
    }
    pg_close(r->conn);
    r->conn = NULL;
    if (rc == 0 && !op_cancelled(r->ctx))
        rc = finish_wal(r, err);
    pg_close(r->primary);
    r->primary = NULL;
    if (rc == 0 && op_cancelled(r->ctx) && r->b.status == CAT_WAITING_FOR_WALS)
        rc = cel_err_set(err, CEL_E_PROC, "interrupted while waiting for the WAL: backup %s is "
                                          "complete and stays WAITING_FOR_WALS until cellar cron "
                                          "finds %s archived",
                         r->id, r->b.end_wal);
    if (rc == 0 && r->b.status == CAT_DONE) {
        struct cel_err perr = {0};
        if (op_wal_purge_before_first(r->ctx, s, &perr) < 0)
            op_log(r->ctx, LOG_WARNING, s->name, "%s", perr.msg);
    }
    run_hooks(r, false, NULL);
    report(r);
    if (rc == 0 && r->b.status == CAT_FAILED)
        rc = cel_err_set(err, CEL_E_PROC, "backup %s FAILED: %s", r->id,
                         r->b.error ? r->b.error : "unknown error");
    return rc;
}

static int backup_one(const struct op_ctx *ctx, const struct cfg_server *s, const void *arg,
                      struct cel_err *err)
{
    const struct op_backup_req *req = arg;
    if (s->backup_method == CFG_BM_SNAPSHOT)
        return cel_err_set(err, CEL_E_CONFIG,
                           "server %s: backup_method = snapshot is not supported by cellar yet; "
                           "use rsync (over ssh_command), local-rsync or postgres",
                           s->name);
    if (s->backup_method == CFG_BM_POSTGRES && req->reuse > 0) {
        int rc = cel_err_set(err, CEL_E_USAGE,
                             "server %s: --reuse-backup is not supported by backup_method = "
                             "postgres (pg_basebackup always copies everything)",
                             s->name);
        cel_err_hint(err, "Leave --reuse-backup out, or use backup_method = rsync.");
        return rc;
    }
    if (s->encryption == CFG_ENC_GPG) {
        int rc = bk_check_encryptable(s, err);
        if (rc < 0) {
            cel_err_prefix(err, "server %s", s->name);
            return rc;
        }
    }
    if (req->name) {
        int rc = cat_check_backup_name(req->name, err);
        if (rc < 0)
            return rc;
    }
    int rc = op_server_dirs(s, err);
    if (rc < 0)
        return rc;
    struct lock *lock = NULL;
    rc = op_server_lock(ctx, s, "backup", false, &lock, err);
    if (rc < 0) {
        if (rc == -CEL_E_LOCKED)
            cel_err_hint(err, "Another backup of server %s is running.", s->name);
        return rc;
    }
    struct run r = {.ctx = ctx, .s = s, .req = req};
    r.t0 = ts_monotonic();
    r.workers = req->jobs > 0 ? req->jobs : (s->parallel_jobs > 0 ? s->parallel_jobs : 1);
    if (s->backup_method == CFG_BM_POSTGRES) {
        if (r.workers > 1)
            op_log(ctx, LOG_WARNING, s->name,
                   "%s = %d ignored: pg_basebackup copies through one connection",
                   req->jobs > 0 ? "--jobs" : "parallel_jobs", r.workers);
        r.workers = 1;
    }
    r.reuse = req->reuse >= 0 ? (enum cfg_reuse)req->reuse : s->reuse_backup;
    rc = backup_locked(&r, err);
    pg_close(r.conn);
    pg_close(r.primary);
    bk_server_info_free(&r.info);
    cat_backup_clear(&r.b);
    free(r.dir);
    free(r.previous_id);
    lock_release(lock);
    return rc;
}

int op_backup(const struct op_ctx *ctx, const struct op_backup_req *req, struct cel_err *err)
{
    return op_each_server(ctx, req->server, false, backup_one, req, err);
}
