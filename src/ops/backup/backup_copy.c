/*
 * backup_copy.c - the files of a backup: PGDATA, the tablespaces, the
 * configuration files kept outside PGDATA, and global/pg_control last,
 * each copied by the rsync runner (locally, or from the server's host over
 * ssh_command), with reuse of the previous backup, bandwidth limits,
 * retries and progress.
 *
 * What is left out of PGDATA is what PostgreSQL's documentation on base
 * backups says may be omitted, plus what Barman leaves out (log
 * directories): the contents of pg_wal (the backup's WAL comes from the
 * archive), of pg_replslot, pg_dynshmem, pg_notify, pg_serial, pg_snapshots,
 * pg_stat_tmp and pg_subtrans (the directories themselves are kept, empty),
 * postmaster.pid and postmaster.opts, pg_internal.init and pgsql_tmp* files,
 * recovery.conf, standby.signal and recovery.signal (the copy must not
 * start as a standby of the source's upstream by accident), and the
 * tablespace links, which bk_link_tablespaces recreates inside the backup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup_int.h"
#include "copy_report.h"
#include "storage.h"
#include "ts.h"

static const char *const pgdata_exclude[] = {
    "/pg_wal/*",          "/pg_xlog/*",         "/pg_log/*",         "/log/*",
    "/pg_replslot/*",     "/pg_dynshmem/*",     "/pg_notify/*",      "/pg_serial/*",
    "/pg_snapshots/*",    "/pg_stat_tmp/*",     "/pg_subtrans/*",    "/pg_tblspc/*",
    "/postmaster.pid",    "/postmaster.opts",   "/recovery.conf",    "/standby.signal",
    "/recovery.signal",   "/backup_label",      "/backup_label.old", "/tablespace_map",
    "/backup_manifest",   "/global/pg_control", "pg_internal.init",  "pgsql_tmp*",
    "postgresql.auto.conf.tmp", "current_logfiles.tmp",
};

/* Options shared by every item of the backup. */
static void base_opts(const struct bk_copy *cp, struct op_copy_report *pc, struct rsync_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ssh_command = cp->s->ssh_command;
    o->workers = cp->workers;
    o->bwlimit_kbps = cp->s->bandwidth_limit;
    o->compress = cp->s->network_compression;
    o->retry_times = cp->retry_times;
    o->retry_sleep = cp->retry_sleep;
    o->path_prefix = cp->s->path_prefix;
    op_copy_report_opts(pc, o);
}

static const char *const per_item_keys[] = {"analysis_time_per_item", "copy_time_per_item",
                                             "serialized_copy_time_per_item"};
static const char *const total_keys[] = {"analysis_time", "copy_time", "serialized_copy_time",
                                         "total_time"};

/* Record one item's timings for copy_stats (Barman's keys; items copied
 * one after the other, so the serialized time is the copy time). */
static void add_stats(struct bk_copy *cp, const char *label, const struct rsync_stats *st,
                      double copy_seconds)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(per_item_keys); i++)
        if (!cp->per_item[i])
            cp->per_item[i] = py_new_dict();
    double analysis = st ? st->analysis_seconds : 0;
    if (st)
        py_dict_set(cp->per_item[0], label, py_new_float(analysis));
    py_dict_set(cp->per_item[1], label, py_new_float(copy_seconds));
    py_dict_set(cp->per_item[2], label, py_new_float(copy_seconds));
    double add[] = {analysis, copy_seconds, copy_seconds, analysis + copy_seconds};
    for (size_t i = 0; i < CEL_ARRAY_LEN(add); i++)
        cp->totals[i] += add[i];
}

/* Assemble copy_stats in the order Barman writes its keys. */
static void finish_stats(struct bk_copy *cp)
{
    struct py_value *d = py_new_dict();
    py_dict_set(d, "total_time", py_new_float(cp->totals[3]));
    py_dict_set(d, "number_of_workers", py_new_int(cp->workers > 0 ? cp->workers : 1));
    for (size_t i = 0; i < CEL_ARRAY_LEN(per_item_keys); i++) {
        py_dict_set(d, per_item_keys[i], cp->per_item[i] ? cp->per_item[i] : py_new_dict());
        cp->per_item[i] = NULL;
    }
    for (size_t i = 0; i < 3; i++)
        py_dict_set(d, total_keys[i], py_new_float(cp->totals[i]));
    py_free(cp->copy_stats);
    cp->copy_stats = d;
}

void bk_copy_free(struct bk_copy *cp)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(cp->per_item); i++) {
        py_free(cp->per_item[i]);
        cp->per_item[i] = NULL;
    }
    py_free(cp->copy_stats);
    cp->copy_stats = NULL;
}

/* "/<rel>" as an rsync pattern matching exactly that path: the wildcard
 * characters of a directory name are escaped. */
static char *literal_pattern(const char *rel)
{
    struct strbuf sb = {0};
    sb_appendc(&sb, '/');
    for (const char *p = rel; *p; p++) {
        if (strchr("*?[\\", *p))
            sb_appendc(&sb, '\\');
        sb_appendc(&sb, *p);
    }
    char *out = cel_xstrdup(sb_str(&sb));
    sb_free(&sb);
    return out;
}

/* A path under the server's PGDATA, relative to it ("pg_tbs/x"), or NULL. */
static const char *under_pgdata(const char *pgdata, const char *path)
{
    size_t n = strlen(pgdata);
    if (strncmp(path, pgdata, n) == 0 && path[n] == '/')
        return path + n + 1;
    return NULL;
}

void bk_pgdata_excludes(const struct bk_server_info *info, struct bk_excludes *out)
{
    /* tablespaces created inside PGDATA are copied as tablespaces, once */
    size_t n = CEL_ARRAY_LEN(pgdata_exclude);
    out->list = cel_xcalloc(n + info->n_tbs + 1, sizeof *out->list);
    out->owned = cel_xcalloc(info->n_tbs + 1, sizeof *out->owned);
    out->n_owned = 0;
    for (size_t i = 0; i < n; i++)
        out->list[i] = pgdata_exclude[i];
    for (size_t i = 0; i < info->n_tbs; i++) {
        const char *rel = under_pgdata(info->pgdata, info->tbs[i].location);
        if (rel)
            out->list[n++] = out->owned[out->n_owned++] = literal_pattern(rel);
    }
}

void bk_excludes_free(struct bk_excludes *x)
{
    for (size_t i = 0; i < x->n_owned; i++)
        free(x->owned[i]);
    free(x->owned);
    free(x->list);
    memset(x, 0, sizeof *x);
}

const char *const bk_tablespace_exclude[] = {"pgsql_tmp*", "/*", NULL};

char *bk_tablespace_include(const struct bk_server_info *info)
{
    return cel_xasprintf("/PG_%s_*", info->major);
}

static int copy_pgdata(struct bk_copy *cp, struct op_copy_report *pc, struct cel_err *err)
{
    const struct bk_server_info *info = cp->info;
    struct bk_excludes ex;
    bk_pgdata_excludes(info, &ex);
    struct rsync_opts o;
    base_opts(cp, pc, &o);
    o.exclude = ex.list;
    char *dst = cel_xasprintf("%s/data", cp->backup_dir);
    char *reuse = cp->prev_dir ? cel_xasprintf("%s/data", cp->prev_dir) : NULL;
    o.reuse = reuse ? cp->reuse : RSYNC_REUSE_OFF;
    o.reuse_dir = reuse;
    o.safe_horizon = cp->safe_horizon;
    op_phase(cp->ctx, cp->s->name, "copy-pgdata", "copying PGDATA %s%s%s", info->pgdata,
             cp->s->ssh_command ? " over " : "", cp->s->ssh_command ? cp->s->ssh_command : "");
    struct rsync_stats st = {0};
    double t0 = ts_monotonic();
    int rc = rsync_copy(info->pgdata, dst, &o, &st, err);
    if (rc == 0) {
        add_stats(cp, "pgdata", &st, ts_monotonic() - t0);
        op_log(cp->ctx, LOG_INFO, cp->s->name,
               "PGDATA copied: %llu files, %llu bytes (%llu sent), %d worker%s",
               (unsigned long long)st.files, (unsigned long long)st.bytes,
               (unsigned long long)st.transferred_bytes, st.workers, st.workers == 1 ? "" : "s");
    }
    /* a pg_wal (pg_xlog before 10) that is a link to another disk (initdb
     * -X) was copied as a link to the server's live WAL: the copy gets its
     * own empty directory */
    for (size_t k = 0; rc == 0 && k < 2; k++) {
        char *wal = cel_xasprintf("%s/%s", dst, k == 0 ? "pg_wal" : "pg_xlog");
        struct stat sb;
        if (lstat(wal, &sb) == 0 && S_ISLNK(sb.st_mode) &&
            (unlink(wal) < 0 || mkdir(wal, 0700) < 0))
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot replace the link %s", wal);
        free(wal);
    }
    bk_excludes_free(&ex);
    free(reuse);
    free(dst);
    return rc;
}

static int copy_tablespace(struct bk_copy *cp, struct op_copy_report *pc,
                           const struct cat_tablespace *t, struct cel_err *err)
{
    /* only this server's version directory: another major version's cluster
     * may share the location (during pg_upgrade, say) */
    char *include = bk_tablespace_include(cp->info);
    const char *includes[] = {include, NULL};
    struct rsync_opts o;
    base_opts(cp, pc, &o);
    o.include = includes;
    o.exclude = bk_tablespace_exclude;
    for (size_t i = 0; i < cp->s->tablespace_bandwidth_limit.n; i++)
        if (strcmp(cp->s->tablespace_bandwidth_limit.items[i].name, t->name) == 0)
            o.bwlimit_kbps = cp->s->tablespace_bandwidth_limit.items[i].kbps;
    char *dst = cel_xasprintf("%s/%lld", cp->backup_dir, (long long)t->oid);
    char *reuse = cp->prev_dir ? cel_xasprintf("%s/%lld", cp->prev_dir, (long long)t->oid) : NULL;
    o.reuse = reuse && stor_is_dir(reuse) ? cp->reuse : RSYNC_REUSE_OFF;
    o.reuse_dir = o.reuse ? reuse : NULL;
    o.safe_horizon = cp->safe_horizon;
    op_phase(cp->ctx, cp->s->name, "copy-tablespace", "copying tablespace %s (%s)", t->name,
             t->location);
    struct rsync_stats st = {0};
    double t0 = ts_monotonic();
    int rc = rsync_copy(t->location, dst, &o, &st, err);
    if (rc == 0)
        add_stats(cp, t->name, &st, ts_monotonic() - t0);
    free(reuse);
    free(dst);
    free(include);
    return rc;
}

/* Copy one file of the server into the backup (pg_control, a
 * configuration file kept outside PGDATA). */
static int copy_one(struct bk_copy *cp, struct op_copy_report *pc, const char *label,
                    const char *src, const char *dst, struct cel_err *err)
{
    struct rsync_opts o;
    base_opts(cp, pc, &o);
    double t0 = ts_monotonic();
    int rc = rsync_copy_file(src, dst, &o, err);
    if (rc == 0)
        add_stats(cp, label, NULL, ts_monotonic() - t0);
    return rc;
}

int bk_copy_files(struct bk_copy *cp, struct cel_err *err)
{
    struct op_copy_report pc = {.ctx = cp->ctx, .server = cp->s->name};
    int rc = copy_pgdata(cp, &pc, err);
    for (size_t i = 0; rc == 0 && i < cp->info->n_tbs; i++)
        rc = copy_tablespace(cp, &pc, &cp->info->tbs[i], err);

    /* configuration files outside PGDATA (Debian keeps them in /etc) go
     * flat into data/, where Barman puts them */
    const struct {
        const char *label, *path;
    } conf[] = {{"config_file", cp->info->config_file},
                {"hba_file", cp->info->hba_file},
                {"ident_file", cp->info->ident_file}};
    for (size_t i = 0; rc == 0 && i < CEL_ARRAY_LEN(conf); i++) {
        if (!conf[i].path || under_pgdata(cp->info->pgdata, conf[i].path))
            continue;
        char *copy = cel_xstrdup(conf[i].path);
        char *dst = cel_xasprintf("%s/data/%s", cp->backup_dir, basename(copy));
        op_phase(cp->ctx, cp->s->name, "copy-config", "copying %s", conf[i].path);
        rc = copy_one(cp, &pc, conf[i].label, conf[i].path, dst, err);
        free(dst);
        free(copy);
    }
    if (rc == 0) {
        /* pg_control last: a copy whose pg_control is older than any other
         * file is what a base backup must be */
        char *src = cel_xasprintf("%s/global/pg_control", cp->info->pgdata);
        char *dst = cel_xasprintf("%s/data/global/pg_control", cp->backup_dir);
        op_phase(cp->ctx, cp->s->name, "copy-control", "copying global/pg_control");
        rc = copy_one(cp, &pc, "pg_control", src, dst, err);
        free(dst);
        free(src);
    }
    if (rc == 0)
        finish_stats(cp);
    return rc;
}

int bk_link_tablespaces(const char *backup_dir, const struct cat_backup *b, struct cel_err *err)
{
    char *dir = cel_xasprintf("%s/data/pg_tblspc", backup_dir);
    int rc = stor_mkdir_p(dir, 0700, err);
    for (size_t i = 0; rc == 0 && i < b->n_tablespaces; i++) {
        char *link = cel_xasprintf("%s/%lld", dir, (long long)b->tablespaces[i].oid);
        char *target = cel_xasprintf("../../%lld", (long long)b->tablespaces[i].oid);
        if ((unlink(link) < 0 && errno != ENOENT) || symlink(target, link) < 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot link %s to %s", link, target);
        free(target);
        free(link);
    }
    if (rc == 0)
        rc = stor_fsync_dir(dir, err);
    free(dir);
    return rc;
}

/* Add the sizes under dir (not following links) to *size and *dedup. */
static int usage_walk(const char *dir, uint64_t *size, uint64_t *dedup, struct cel_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot read %s", dir);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat %s/%s", dir, e->d_name);
        } else if (S_ISDIR(st.st_mode)) {
            char *sub = cel_xasprintf("%s/%s", dir, e->d_name);
            rc = usage_walk(sub, size, dedup, err);
            free(sub);
        } else if (S_ISREG(st.st_mode)) {
            *size += (uint64_t)st.st_size;
            if (st.st_nlink == 1)
                *dedup += (uint64_t)st.st_size;
        }
    }
    closedir(d);
    return rc;
}

int bk_disk_usage(const char *dir, uint64_t *size, uint64_t *dedup, struct cel_err *err)
{
    *size = *dedup = 0;
    return usage_walk(dir, size, dedup, err);
}
