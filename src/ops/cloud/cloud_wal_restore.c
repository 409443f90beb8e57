/*
 * cloud_wal_restore.c - cloud-wal-restore: one WAL file from the bucket to
 * the path PostgreSQL gives, for restore_command, as
 * barman-cloud-wal-restore 3.4 finds it, and with --parallel N the next
 * N-1 segments fetched ahead into a spool as barman-wal-restore does.
 *
 * Finding the object costs one LIST (barman-cloud's way too): the segment's
 * hash directory with --parallel, else just the keys that start with the
 * name, which covers every compression at once where HEADs would need one
 * request per extension. The choice of object and of the segments ahead is
 * cloud_wal_pick.c's. A WAL that is not there is -CEL_E_NOT_FOUND, exit 1,
 * what PostgreSQL's restore loop expects at the end of the archive.
 *
 * The spool, SPOOL/<server>-<hash of the source>/ (cloud_wal_pick.h), holds
 * only complete files: each is fetched under a temporary name, fsynced and
 * renamed (cloud_wal_io.h), so a fetch that died midway leaves nothing a
 * later call would serve; a source's files are never served for another
 * source. A call first looks there: a spooled file is moved to the
 * destination (renamed, or copied when the spool is on another file
 * system) and no request is sent. A call that fetches ahead first removes
 * the temporary files of fetches whose process is gone (killed midway).
 * Segments ahead are fetched by threads,
 * each with its own client, while the requested one is fetched; their
 * failures only mean a later call fetches them itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud_wal_io.h"
#include "cloud_wal_pick.h"
#include "ops.h"
#include "storage.h"

#define SPOOL_DEFAULT "/var/tmp/walrestore"

/* Move the spooled file at from to dest atomically: rename, or (another
 * file system) a copy beside dest made durable, renamed, then from
 * removed. */
static int move_from_spool(const char *from, const char *dest, struct cel_err *err)
{
    if (rename(from, dest) == 0)
        return stor_fsync_parent(dest, err);
    if (errno != EXDEV)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot move '%s' to '%s'", from, dest);
    char *data = NULL;
    size_t len = 0;
    int rc = stor_read_file(from, (size_t)1 << 31, &data, &len, err);
    if (rc == 0)
        rc = stor_write_file(dest, data, len, 0600, err);
    free(data);
    if (rc == 0 && unlink(from) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", from);
    return rc;
}

/* Remove the temporary files that fetches killed midway left in the spool
 * (their process is gone); those of running fetches stay. Best effort. */
static void sweep_spool(const char *spool)
{
    DIR *d = opendir(spool);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = 0;
        if (!cloud_spool_tmp_pid(e->d_name, &pid) || pid > INT32_MAX)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char *path = cel_xasprintf("%s/%s", spool, e->d_name);
        unlink(path);
        free(path);
    }
    closedir(d);
}

/* One segment fetched ahead. */
struct ahead {
    struct cloud_target t;
    bool opened;
    const struct cloud_wal_obj *o;
    char *path;
    pthread_t thread;
    bool started;
    int rc;
    struct cel_err err;
};

static void *fetch_ahead(void *arg)
{
    struct ahead *a = arg;
    a->rc = cloud_fetch_to(a->t.s3, a->o->key, a->o->k.comp, a->path, NULL, &a->err);
    return NULL;
}

/* The keys to list: the hash directory of a segment when fetching ahead,
 * else the keys that start with the name. */
static char *list_prefix(const struct cloud_target *t, const char *name, bool dir,
                         struct cel_err *err)
{
    char *plain = cloud_wal_key(t->url.prefix, t->server, name, CLOUD_COMP_NONE, err);
    if (plain && dir) {
        char *slash = strrchr(plain, '/');
        slash[1] = '\0';
    }
    return plain;
}

/* The hash directory after the one of segment w (next log). */
static char *next_dir(const struct cloud_target *t, const struct wal_name *w, struct cel_err *err)
{
    if (w->log == UINT32_MAX)
        return NULL;
    struct wal_name n = {.kind = WAL_KIND_SEGMENT, .tli = w->tli, .log = w->log + 1, .seg = 0};
    char name[WAL_NAME_MAX];
    wal_name_format(&n, name);
    return list_prefix(t, name, true, err);
}

static int restore(const struct op_ctx *ctx, const struct op_cloud_wal_restore_req *req,
                   const struct cloud_target *t, const struct wal_name *w, const char *spool,
                   struct cel_err *err)
{
    const char *name = req->wal_name;
    size_t want_ahead = spool && w->kind == WAL_KIND_SEGMENT ? (size_t)req->parallel - 1 : 0;
    struct cloud_wal_list l = {0};
    bool no_bucket = false;
    char *prefix = list_prefix(t, name, want_ahead > 0, err);
    int rc = prefix ? cloud_wal_list_keys(t->s3, t->url.prefix, prefix, &l, &no_bucket, err)
                    : -CEL_E_INVALID;
    free(prefix);
    const struct cloud_wal_obj *o = rc == 0 ? cloud_wal_pick(&l, name) : NULL;
    if (rc == 0 && !o) {
        rc = cel_err_set(err, CEL_E_NOT_FOUND, "WAL file %s for server %s is not in s3://%s%s%s%s",
                         name, t->server, t->url.bucket, t->url.prefix[0] ? "/" : "",
                         t->url.prefix, no_bucket ? " (no such bucket)" : "");
        cloud_wal_list_free(&l);
        return rc;
    }
    const struct cloud_wal_obj **next = NULL;
    size_t n_ahead = 0;
    if (rc == 0 && want_ahead > 0) {
        next = cel_xcalloc(want_ahead, sizeof *next);
        n_ahead = cloud_wal_ahead(&l, name, want_ahead, next);
        if (n_ahead < want_ahead) {
            /* the run may go on in the next log's directory */
            struct wal_name last = n_ahead ? next[n_ahead - 1]->k.wal_name : *w;
            struct cel_err ignored = {0};
            char *p2 = next_dir(t, &last, &ignored);
            if (p2 && cloud_wal_list_keys(t->s3, t->url.prefix, p2, &l, NULL, &ignored) == 0) {
                o = cloud_wal_pick(&l, name); /* l may have moved */
                n_ahead = cloud_wal_ahead(&l, name, want_ahead, next);
            }
            free(p2);
        }
    }
    struct ahead *a = n_ahead ? cel_xcalloc(n_ahead, sizeof *a) : NULL;
    if (n_ahead && stor_mkdir_p(spool, 0700, err) < 0) {
        op_log(ctx, LOG_WARNING, t->server, "not fetching ahead: %s", err->msg);
        cel_err_clear(err);
        n_ahead = 0;
    } else if (n_ahead) {
        sweep_spool(spool);
    }
    for (size_t i = 0; i < n_ahead; i++) {
        a[i].o = next[i];
        a[i].path = cel_xasprintf("%s/%s", spool, next[i]->k.wal);
        if (stor_exists(a[i].path)) /* spooled by an earlier call */
            continue;
        /* clients are made here, before any thread starts */
        a[i].opened = cloud_target_open(&req->store.target, &a[i].t, &a[i].err) == 0;
        a[i].started = a[i].opened && pthread_create(&a[i].thread, NULL, fetch_ahead, &a[i]) == 0;
    }
    if (rc == 0) {
        uint64_t bytes = 0;
        rc = cloud_fetch_to(t->s3, o->key, o->k.comp, req->dest, &bytes, err);
        if (rc == 0)
            op_log(ctx, LOG_DEBUG, t->server, "restored '%s' from '%s' (%llu bytes)", req->dest,
                   o->key, (unsigned long long)bytes);
    }
    for (size_t i = 0; i < n_ahead; i++) {
        if (a[i].started)
            pthread_join(a[i].thread, NULL);
        if (a[i].opened && a[i].started && a[i].rc == 0)
            op_log(ctx, LOG_DEBUG, t->server, "fetched %s ahead into '%s'", a[i].o->k.wal,
                   a[i].path);
        else if (a[i].opened || a[i].err.code)
            op_log(ctx, LOG_DEBUG, t->server, "fetching %s ahead failed: %s", a[i].o->k.wal,
                   a[i].err.msg[0] ? a[i].err.msg : "cannot start a thread");
        if (a[i].opened)
            cloud_target_close(&a[i].t);
        free(a[i].path);
    }
    free(a);
    free(next);
    cloud_wal_list_free(&l);
    return rc;
}

int op_cloud_wal_restore(const struct op_ctx *ctx, const struct op_cloud_wal_restore_req *req,
                         struct cel_err *err)
{
    struct wal_name w;
    if (!req->store.test && wal_name_parse(req->wal_name, &w, err) < 0)
        return cel_err_set(err, CEL_E_INVALID, "'%s' is not the name of a WAL file",
                           req->wal_name);
    struct cloud_target t;
    int rc = cloud_store_open(&req->store, &t, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    char *spool = NULL;
    if (req->parallel > 1) {
        spool = cloud_spool_dir(req->spool_dir ? req->spool_dir : SPOOL_DEFAULT, t.url.bucket,
                                t.url.prefix, t.server);
        char *spooled = cel_xasprintf("%s/%s", spool, req->wal_name);
        struct stat st;
        if (lstat(spooled, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = move_from_spool(spooled, req->dest, err);
            if (rc == 0)
                op_log(ctx, LOG_DEBUG, t.server, "restored '%s' from the spool '%s'", req->dest,
                       spooled);
            free(spooled);
            free(spool);
            cloud_target_close(&t);
            return rc;
        }
        free(spooled);
    }
    rc = restore(ctx, req, &t, &w, spool, err);
    cloud_target_explain(&t, err);
    free(spool);
    cloud_target_close(&t);
    return rc;
}
