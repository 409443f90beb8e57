/*
 * cloud_backup.c - `cellar cloud-backup`: a base backup of the local
 * PostgreSQL server straight into an object store, in barman-cloud 3.4's
 * layout and order (barman/cloud.py, CloudBackup._coordinate_backup):
 *
 *   1. connect (libpq, the conninfo of -h/-p/-U/-d) and read the server's
 *      layout (bk_server_info, shared with `cellar backup`);
 *   2. start a non-exclusive backup (bk_start), labelled as Barman labels
 *      its backups;
 *   3. each tablespace into base/ID/OID.tar[.gz|.bz2] (its PG_<major>_*
 *      directory only), then PGDATA into base/ID/data.tar[...] without
 *      what `cellar backup` leaves out (bk_pgdata_excludes), then
 *      global/pg_control and the configuration files kept outside PGDATA;
 *   4. stop the backup (bk_stop, waiting for the archive as barman-cloud
 *      does), create the restore point barman_ID, and add backup_label
 *      (pg_backup_stop's text) to data.tar, which only then is completed;
 *   5. upload base/ID/backup.info, DONE, with copy_stats.
 *
 * backup.info is the last object written: a run that dies leaves tar
 * objects but no backup.info, which barman-cloud-backup-list and cellar
 * do not list. A run that fails uploads backup.info FAILED with the error,
 * as barman-cloud does (when the store still answers).
 *
 * Each archive streams through cloud_tar.h: read, compressed and uploaded
 * as multipart parts in parallel, nothing staged on disk.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup_int.h"
#include "cloud_tar.h"
#include "ops.h"
#include "rsync.h"
#include "ts.h"

struct run {
    const struct op_ctx *ctx;
    const struct op_cloud_backup_req *req;
    struct cloud_target t;
    struct pg_conn *conn;
    struct bk_server_info info;
    struct cat_backup b;
    char id[16];
    const char *server; /* the SERVER_NAME, for messages */
    struct py_value *per_item[3];
    double copy_start, upload_start, upload_end, serialized;
    bool started;  /* the backup is started in PostgreSQL */
    const char *phase; /* for the FAILED error: "uploading data" */
};

static const char *const per_item_keys[] = {"analysis_time_per_item", "copy_time_per_item",
                                             "serialized_copy_time_per_item"};

/* An archive's timings into copy_stats (barman-cloud's statistics()). */
static void add_stats(struct run *r, const char *name, const struct cloud_tar_stats *st)
{
    for (size_t i = 0; i < 3; i++)
        if (!r->per_item[i])
            r->per_item[i] = py_new_dict();
    py_dict_set(r->per_item[0], name, py_new_int(0));
    py_dict_set(r->per_item[1], name, py_new_float(st->end - st->start));
    py_dict_set(r->per_item[2], name, py_new_float(st->serialized));
    if (r->upload_start == 0 || st->start < r->upload_start)
        r->upload_start = st->start;
    if (st->end > r->upload_end)
        r->upload_end = st->end;
    r->serialized += st->serialized;
}

static struct py_value *copy_stats(struct run *r, int workers)
{
    struct py_value *d = py_new_dict();
    py_dict_set(d, "total_time", py_new_float(ts_monotonic() - r->copy_start));
    py_dict_set(d, "number_of_workers", py_new_int(workers));
    py_dict_set(d, "analysis_time", py_new_int(0));
    for (size_t i = 0; i < 3; i++) {
        py_dict_set(d, per_item_keys[i], r->per_item[i] ? r->per_item[i] : py_new_dict());
        r->per_item[i] = NULL;
    }
    py_dict_set(d, "copy_time", py_new_float(r->upload_end - r->upload_start));
    py_dict_set(d, "serialized_copy_time", py_new_float(r->serialized));
    return d;
}

static struct cloud_tar_opts tar_opts(const struct run *r, enum cloud_key_kind kind, uint32_t oid)
{
    return (struct cloud_tar_opts){
        .s3 = r->t.s3,
        .prefix = r->t.url.prefix,
        .server = r->t.server,
        .backup_id = r->id,
        .kind = kind,
        .oid = oid,
        .comp = r->req->comp,
        .max_size = r->req->max_archive_size ? r->req->max_archive_size : 100ull << 30,
        .parallel = r->req->jobs ? r->req->jobs : 2,
        .cancel = r->ctx->cancel,
    };
}

static void log_archive(struct run *r, const char *label, const char *src, const char *name,
                        const struct cloud_tar_stats *st)
{
    op_log(r->ctx, LOG_INFO, r->server,
           "uploaded '%s' %s as %s: %llu members, %llu bytes stored in %u archive%s, %.1f s%s",
           label, src, name, (unsigned long long)st->members, (unsigned long long)st->stored,
           st->archives, st->archives == 1 ? "" : "s", st->end - st->start,
           st->truncated || st->vanished ? " (files changed during the copy: WAL replay "
                                           "repairs them)"
                                         : "");
}

static int upload_tablespaces(struct run *r, struct cel_err *err)
{
    char *include = bk_tablespace_include(&r->info);
    const char *includes[] = {include, NULL};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->info.n_tbs; i++) {
        const struct cat_tablespace *tb = &r->info.tbs[i];
        char oid[24];
        snprintf(oid, sizeof oid, "%lld", (long long)tb->oid);
        op_phase(r->ctx, r->server, "upload-tablespace", "uploading tablespace '%s' %s as %s.tar",
                 tb->name, tb->location, oid);
        struct cloud_tar_opts o = tar_opts(r, CLOUD_KEY_TBS_TAR, (uint32_t)tb->oid);
        struct cloud_tar *tar = NULL;
        rc = cloud_tar_open(&o, &tar, err);
        if (rc == 0)
            rc = cloud_tar_add_tree(tar, tb->location, includes, bk_tablespace_exclude, err);
        if (rc == 0)
            rc = cloud_tar_close(tar, err);
        if (rc == 0) {
            struct cloud_tar_stats st;
            cloud_tar_get_stats(tar, &st);
            add_stats(r, oid, &st);
            log_archive(r, tb->name, tb->location, oid, &st);
        }
        cloud_tar_free(tar);
    }
    free(include);
    return rc;
}

/* A configuration file outside PGDATA into data.tar under its base name
 * (barman-cloud's _backup_config_files); a missing ident file is no error. */
static int add_config_file(struct run *r, struct cloud_tar *tar, const char *path, bool optional,
                           struct cel_err *err)
{
    size_t n = strlen(r->info.pgdata);
    if (!path || !path[0] || (strncmp(path, r->info.pgdata, n) == 0 && path[n] == '/'))
        return 0;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    bool added = false;
    int rc = cloud_tar_add_path(tar, path, base, &added, err);
    if (rc == 0 && !added && !optional)
        rc = cel_err_set(err, CEL_E_IO, "the configuration file '%s' does not exist", path);
    return rc;
}

/* PGDATA, pg_control and the outside configuration files into data.tar,
 * left open for backup_label. */
static int upload_pgdata(struct run *r, struct cloud_tar **out, struct cel_err *err)
{
    struct cloud_tar_opts o = tar_opts(r, CLOUD_KEY_DATA_TAR, 0);
    op_phase(r->ctx, r->server, "upload-pgdata", "uploading PGDATA %s as data.tar%s",
             r->info.pgdata, cloud_comp_ext(r->req->comp));
    int rc = cloud_tar_open(&o, out, err);
    if (rc < 0)
        return rc;
    struct bk_excludes ex;
    bk_pgdata_excludes(&r->info, &ex);
    rc = cloud_tar_add_tree(*out, r->info.pgdata, NULL, ex.list, err);
    bk_excludes_free(&ex);
    if (rc == 0) {
        char *ctl = cel_xasprintf("%s/global/pg_control", r->info.pgdata);
        bool added = false;
        rc = cloud_tar_add_path(*out, ctl, "global/pg_control", &added, err);
        if (rc == 0 && !added)
            rc = cel_err_set(err, CEL_E_IO, "'%s' does not exist", ctl);
        free(ctl);
    }
    if (rc == 0)
        rc = add_config_file(r, *out, r->info.config_file, false, err);
    if (rc == 0)
        rc = add_config_file(r, *out, r->info.hba_file, false, err);
    if (rc == 0)
        rc = add_config_file(r, *out, r->info.ident_file, true, err);
    if (rc == 0 && r->info.included_files)
        op_log(r->ctx, LOG_WARNING, r->server,
               "the configuration includes files outside PGDATA, which are not backed up "
               "(as with barman-cloud): copy them yourself");
    return rc;
}

/* Fill b with what the server said, as barman's _pg_get_metadata does. */
static void describe(struct run *r)
{
    struct cat_backup *b = &r->b;
    b->id = cel_xstrdup(r->id);
    b->server_name = cel_xstrdup("cloud"); /* what barman-cloud writes */
    b->status = CAT_STARTED;
    b->systemid = r->info.systemid ? cel_xstrdup(r->info.systemid) : NULL;
    bk_describe_server(&r->info, b);
    b->xlog_segment_size.set = true;
    b->xlog_segment_size.v = (int64_t)r->info.segsize;
}

/* The backup itself, from the start to the completed data.tar. */
static int take(struct run *r, struct cel_err *err)
{
    char *label = cel_xasprintf("Barman backup cloud %s", r->id);
    op_log(r->ctx, LOG_INFO, r->server, "starting backup '%s'", r->id);
    int rc = bk_start(r->conn, label, r->req->immediate_checkpoint, r->info.segsize, &r->b, err);
    free(label);
    if (rc < 0)
        return rc;
    r->started = true;
    op_log(r->ctx, LOG_INFO, r->server, "backup start at LSN: %s (%s, %08llX)", r->b.begin_xlog,
           r->b.begin_wal, (unsigned long long)r->b.begin_offset.v);
    struct cloud_tar *data = NULL;
    rc = upload_tablespaces(r, err);
    if (rc == 0)
        rc = upload_pgdata(r, &data, err);
    if (rc == 0) {
        op_phase(r->ctx, r->server, "stop", "stopping backup '%s'", r->id);
        char *spcmap = NULL;
        rc = bk_stop(r->conn, r->info.segsize, true, &r->b, &spcmap, err);
        free(spcmap);
        r->started = rc < 0;
    }
    if (rc == 0) {
        char *sql = cel_xasprintf("SELECT pg_create_restore_point('barman_%s')::text", r->id);
        char *lsn = NULL;
        struct cel_err rp = {0};
        if (!r->info.in_recovery && pg_query_value(r->conn, sql, &lsn, &rp) < 0)
            op_log(r->ctx, LOG_WARNING, r->server, "cannot create restore point barman_%s: %s",
                   r->id, rp.msg);
        free(lsn);
        free(sql);
        struct stat st;
        if (stat(r->info.pgdata, &st) < 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", r->info.pgdata);
        if (rc == 0)
            rc = cloud_tar_add_data(data, "backup_label", r->b.backup_label,
                                    strlen(r->b.backup_label), &st, err);
    }
    if (rc == 0) {
        op_phase(r->ctx, r->server, "complete", "completing the upload of data.tar%s",
                 cloud_comp_ext(r->req->comp));
        rc = cloud_tar_close(data, err);
    }
    if (rc == 0) {
        struct cloud_tar_stats st;
        cloud_tar_get_stats(data, &st);
        add_stats(r, "data", &st);
        log_archive(r, "pgdata", r->info.pgdata, "data", &st);
    }
    cloud_tar_free(data);
    return rc;
}

static int upload_info(struct run *r, struct cel_err *err)
{
    char *key = cloud_backup_key(r->t.url.prefix, r->t.server, r->id, CLOUD_KEY_BACKUP_INFO, 0,
                                 0, CLOUD_COMP_NONE, err);
    if (!key)
        return -CEL_E_INVALID;
    struct strbuf text = {0};
    cat_info_format(&r->b, &text);
    op_log(r->ctx, LOG_INFO, r->server, "uploading '%s'", key);
    int rc = s3_put(r->t.s3, key, sb_str(&text), text.len, err);
    sb_free(&text);
    free(key);
    return rc;
}

/* The connection and the server's layout: before any object is written. */
static int connect_server(struct run *r, struct cel_err *err)
{
    const char *conninfo = r->req->conninfo ? r->req->conninfo : "";
    char *ci = pg_conninfo_with(conninfo, "application_name", "barman_cloud_backup", NULL);
    if (!ci)
        return cel_err_set(err, CEL_E_USAGE, "cannot parse the connection string '%s'",
                           conninfo);
    int rc = pg_connect(ci, 0, &r->conn, err);
    free(ci);
    if (rc < 0) {
        cel_err_prefix(err, "cannot connect to postgres");
        return rc;
    }
    rc = bk_server_info(r->conn, &r->info, err);
    if (rc == 0 && r->info.in_recovery)
        rc = cel_err_set(err, CEL_E_PG, "the server is a standby: cloud-backup backs up a "
                                        "primary (as barman-cloud-backup 3.4)");
    return rc;
}

int op_cloud_backup(const struct op_ctx *ctx, const struct op_cloud_backup_req *req,
                    struct cel_err *err)
{
    struct run r = {.ctx = ctx, .req = req, .server = req->store.target.server};
    int rc = cloud_target_open(&req->store.target, &r.t, err);
    if (rc < 0)
        return rc;
    /* -t: the store answers, the credentials are accepted, the bucket is
     * there (cloud_bucket_test, as every cloud command's -t) */
    if (req->store.test) {
        rc = cloud_bucket_test(&r.t, err);
        if (rc == 0)
            op_log(ctx, LOG_INFO, r.server, "the store at %s answers for bucket %s",
                   r.t.endpoint, r.t.url.bucket);
        cloud_target_close(&r.t);
        return rc;
    }
    /* barman-cloud creates the bucket when it is missing (setup_bucket):
     * creating one that is ours already is no error, so one request does */
    rc = s3_bucket_create(r.t.s3, err);
    if (rc < 0) {
        cloud_target_close(&r.t);
        return rc;
    }
    rc = connect_server(&r, err);
    if (rc < 0)
        goto out;
    ts_backup_id(time(NULL), r.id);
    describe(&r);
    r.copy_start = ts_monotonic();
    rc = take(&r, err);
    if (rc == 0) {
        r.b.copy_stats = copy_stats(&r, req->jobs ? req->jobs : 2);
        r.b.status = CAT_DONE;
    } else {
        r.b.status = CAT_FAILED;
        free(r.b.error);
        r.b.error = cel_xasprintf("failure uploading data (%s)", err->msg);
        op_log(ctx, LOG_ERROR, r.server, "backup failed uploading data (%s)", err->msg);
    }
    if (req->name) {
        free(r.b.backup_name);
        r.b.backup_name = cel_xstrdup(req->name);
    }
    /* the error that failed the backup is the one reported; a failure to
     * upload the FAILED backup.info is only logged */
    struct cel_err ierr = {0};
    int irc = upload_info(&r, rc == 0 ? err : &ierr);
    if (rc == 0 && irc < 0) {
        rc = irc;
        cel_err_prefix(err, "backup failed uploading backup.info file");
    } else if (irc < 0) {
        op_log(ctx, LOG_ERROR, r.server, "cannot upload backup.info FAILED: %s", ierr.msg);
    }
    if (rc == 0) {
        op_log(ctx, LOG_INFO, r.server, "backup end at LSN: %s (%s, %08llX)", r.b.end_xlog,
               r.b.end_wal, (unsigned long long)r.b.end_offset.v);
        op_log(ctx, LOG_INFO, r.server, "backup completed: %s (%.1f s)", r.id,
               ts_monotonic() - r.copy_start);
    }
out:
    for (size_t i = 0; i < 3; i++)
        py_free(r.per_item[i]);
    cat_backup_clear(&r.b);
    bk_server_info_free(&r.info);
    /* closing the session ends a backup still started in PostgreSQL */
    pg_close(r.conn);
    cloud_target_close(&r.t);
    return rc;
}
