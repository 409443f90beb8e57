/*
 * backup_basebackup.c - the copy of `backup_method = postgres`: PostgreSQL's
 * own pg_basebackup, driven as Barman 3.4's PgBaseBackup drives it, through
 * the process runner (an argv array, never a shell).
 *
 * The arguments are Barman's: --dbname=streaming_conninfo (its
 * application_name, unless the conninfo sets one, is streaming_backup_name;
 * the conninfo is rewritten in key=value form without its password, which
 * goes to PGPASSWORD: pg_conninfo_with), -v, --no-password,
 * --pgdata=base/<id>/data, --no-slot and --wal-method=none from version 10
 * (the archive already keeps the WAL), one --tablespace-mapping per
 * tablespace to base/<id>/<oid> (where Barman's recovery looks for it),
 * --max-rate from bandwidth_limit, --checkpoint=fast. Unlike Barman, the
 * conninfo's password is taken out of --dbname and given as PGPASSWORD:
 * /proc shows a command line to every local user. cellar adds
 * --progress: pg_basebackup then writes a line such as
 *     "  1234/56789 kB (2%), 0/2 tablespaces (data/base/5/1259   )"
 * about once a second on stderr (a new line each time when stderr is not a
 * terminal), which becomes the op's progress events (bytes, rate, and so
 * the console's ETA). Every other stderr line is logged; the last ones make
 * the error message when pg_basebackup fails. Its -v lines also give the
 * start of the backup ("write-ahead log start point: 0/2000028 on timeline
 * 1"; the end point only when it fetches WAL, which it does not here). The
 * child runs with LC_ALL=C so these lines are always in English.
 *
 * A failed attempt leaves nothing behind: the destination directories are
 * emptied and, with basebackup_retry_times, the copy starts again after
 * basebackup_retry_sleep seconds, as Barman's retry handler does.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_int.h"
#include "pg.h"
#include "proc.h"
#include "storage.h"
#include "ts.h"
#include "wal.h"

/* What one attempt learns from pg_basebackup's stderr. */
struct watch {
    struct bk_basebackup *bb;
    double t0, last;    /* start of the attempt, last progress event */
    struct strbuf tail; /* the last non-progress lines, for the error */
    size_t tail_lines;
};

bool bk_basebackup_parse_progress(const char *line, struct bk_progress_line *out)
{
    int pct;
    memset(out, 0, sizeof *out);
    if (sscanf(line, " %" SCNu64 "/%" SCNu64 " kB (%d%%), %d/%d tablespace", &out->done_kb,
               &out->total_kb, &pct, &out->tbs_done, &out->tbs_total) != 5)
        return false;
    const char *open = strstr(line, "tablespace");
    open = open ? strchr(open, '(') : NULL;
    size_t len = strlen(line);
    if (open && len && line[len - 1] == ')') {
        const char *f = open + 1;
        f += strncmp(f, "...", 3) == 0 ? 3 : 0;
        size_t n = (size_t)(line + len - 1 - f);
        while (n && f[n - 1] == ' ')
            n--;
        out->file = f;
        out->file_len = n;
    }
    return true;
}

static void keep_tail(struct watch *w, const char *line)
{
    /* pg_basebackup's error is in its last lines: keep the last four */
    if (w->tail_lines == 4) {
        const char *nl = strchr(w->tail.buf, '\n');
        size_t cut = nl ? (size_t)(nl - w->tail.buf) + 1 : w->tail.len;
        memmove(w->tail.buf, w->tail.buf + cut, w->tail.len - cut + 1);
        w->tail.len -= cut;
        w->tail_lines--;
    }
    sb_appendf(&w->tail, "%s%s", w->tail.len ? "\n" : "", line);
    w->tail_lines++;
}

static void on_line(void *p, int stream, const char *line, size_t len, bool more)
{
    (void)stream;
    (void)len;
    (void)more; /* pg_basebackup's progress lines are short */
    struct watch *w = p;
    struct bk_basebackup *bb = w->bb;
    struct bk_progress_line pl;
    if (bk_basebackup_parse_progress(line, &pl)) {
        uint64_t done_kb = pl.done_kb, total_kb = pl.total_kb;
        int tbs_done = pl.tbs_done, tbs_total = pl.tbs_total;
        const char *file = pl.file;
        size_t file_len = pl.file_len;
        double now = ts_monotonic();
        bool last = tbs_total > 0 && tbs_done == tbs_total;
        if (!last && now - w->last < 0.25)
            return;
        w->last = now;
        char *cur = file && file_len ? cel_xstrndup(file, file_len) : NULL;
        double elapsed = now - w->t0;
        struct op_progress op = {.bytes_done = done_kb * 1024,
                                 /* the total is PostgreSQL's estimate; it can be passed */
                                 .bytes_total = (total_kb < done_kb ? done_kb : total_kb) * 1024,
                                 .files_done = (uint64_t)tbs_done,
                                 .files_total = (uint64_t)tbs_total,
                                 .rate = elapsed > 0 ? (double)done_kb * 1024 / elapsed : 0,
                                 .current = cur};
        op_progress(bb->ctx, bb->s->name, &op);
        free(cur);
        return;
    }
    const char *text = line;
    if (strncmp(text, "pg_basebackup: ", 15) == 0)
        text += 15;
    char lsn[WAL_LSN_MAX + 1];
    if (sscanf(text, "write-ahead log start point: %18s", lsn) == 1) {
        free(bb->start_lsn);
        bb->start_lsn = cel_xstrdup(lsn);
    } else if (sscanf(text, "write-ahead log end point: %18s", lsn) == 1) {
        free(bb->end_lsn);
        bb->end_lsn = cel_xstrdup(lsn);
    }
    if (text[0]) {
        keep_tail(w, text);
        op_log(bb->ctx, LOG_INFO, bb->s->name, "pg_basebackup: %s", text);
    }
}

char *bk_basebackup_mapping_arg(const char *from, const char *to)
{
    struct strbuf sb = {0};
    sb_append(&sb, "--tablespace-mapping=");
    for (const char *p = from; *p; p++)
        sb_appendf(&sb, "%s%c", *p == '=' ? "\\" : "", *p);
    sb_append(&sb, "=");
    for (const char *p = to; *p; p++)
        sb_appendf(&sb, "%s%c", *p == '=' ? "\\" : "", *p);
    return sb_detach(&sb);
}

static const char *const bbc_names[] = {NULL, "gzip", "lz4", "zstd"};

const char *bk_basebackup_tar(const struct cfg_server *s)
{
    if (!s->backup_compression || s->backup_compression_format == CFG_BBF_PLAIN)
        return NULL;
    return bbc_names[s->backup_compression];
}

/* The compression arguments, as Barman's PgBaseBackup builds them: from
 * version 15 --compress=[LOCATION-]TYPE[:level=N,workers=N], before
 * --gzip and --compress=LEVEL. Appended to argv at *n; strings it makes
 * go to owned at *k. */
static void compression_args(const struct bk_basebackup *bb, const char **argv, size_t *n,
                             char **owned, size_t *k)
{
    const struct cfg_server *s = bb->s;
    if (!s->backup_compression)
        return;
    argv[(*n)++] =
        s->backup_compression_format == CFG_BBF_PLAIN ? "--format=plain" : "--format=tar";
    if (bb->tool_version == 0 || bb->tool_version >= 150000) {
        struct strbuf sb = {0};
        sb_append(&sb, "--compress=");
        if (s->backup_compression_location)
            sb_append(&sb,
                      s->backup_compression_location == CFG_BBL_SERVER ? "server-" : "client-");
        sb_append(&sb, bbc_names[s->backup_compression]);
        const char *sep = ":";
        if (s->backup_compression_level) {
            sb_appendf(&sb, "%slevel=%d", sep, s->backup_compression_level);
            sep = ",";
        }
        if (s->backup_compression_workers)
            sb_appendf(&sb, "%sworkers=%d", sep, s->backup_compression_workers);
        argv[(*n)++] = owned[(*k)++] = sb_detach(&sb);
    } else {
        argv[(*n)++] = owned[(*k)++] = cel_xasprintf("--%s", bbc_names[s->backup_compression]);
        if (s->backup_compression_level)
            argv[(*n)++] = owned[(*k)++] =
                cel_xasprintf("--compress=%d", s->backup_compression_level);
    }
}

/* The destination directories, empty and 0700: base/<id>/data and one per
 * tablespace (plain format only: a tar backup keeps <oid>.tar.* in data/).
 * A leftover of a failed attempt is removed first. */
static int prepare_dirs(const struct bk_basebackup *bb, struct cel_err *err)
{
    char *data = cel_xasprintf("%s/data", bb->backup_dir);
    int rc = stor_remove_tree(data, err);
    if (rc == 0 && mkdir(data, 0700) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create %s", data);
    free(data);
    for (size_t i = 0; rc == 0 && !bk_basebackup_tar(bb->s) && i < bb->info->n_tbs; i++) {
        char *dir = cel_xasprintf("%s/%lld", bb->backup_dir, (long long)bb->info->tbs[i].oid);
        rc = stor_remove_tree(dir, err);
        if (rc == 0 && mkdir(dir, 0700) < 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create %s", dir);
        free(dir);
    }
    if (rc == 0)
        rc = stor_fsync_dir(bb->backup_dir, err);
    return rc;
}

/* One attempt. */
static int attempt(struct bk_basebackup *bb, struct cel_err *err)
{
    const struct cfg_server *s = bb->s;
    /* the password goes in the environment: a command line is public */
    char *password = NULL;
    char *conninfo =
        pg_conninfo_with(s->streaming_conninfo, "application_name",
                         s->streaming_backup_name ? s->streaming_backup_name
                                                  : "barman_streaming_backup",
                         &password);
    int rc = conninfo ? 0 : cel_err_set(err, CEL_E_CONFIG, "invalid connection string");
    if (rc == 0)
        rc = prepare_dirs(bb, err);
    if (rc < 0) {
        free(conninfo);
        free(password);
        return rc;
    }
    const char **argv = cel_xcalloc(16 + bb->info->n_tbs, sizeof *argv);
    char **owned = cel_xcalloc(8 + bb->info->n_tbs, sizeof *owned);
    size_t n = 0, k = 0;
    argv[n++] = bb->tool;
    argv[n++] = owned[k++] = cel_xasprintf("--dbname=%s", conninfo);
    argv[n++] = "-v";
    argv[n++] = "--no-password";
    argv[n++] = owned[k++] = cel_xasprintf("--pgdata=%s/data", bb->backup_dir);
    if (bb->tool_version == 0 || bb->tool_version >= 100000) {
        argv[n++] = "--no-slot";
        argv[n++] = "--wal-method=none";
    }
    /* pg_basebackup maps tablespaces in plain format only */
    for (size_t i = 0; !bk_basebackup_tar(s) && i < bb->info->n_tbs; i++) {
        char *to = cel_xasprintf("%s/%lld", bb->backup_dir, (long long)bb->info->tbs[i].oid);
        argv[n++] = owned[k++] = bk_basebackup_mapping_arg(bb->info->tbs[i].location, to);
        free(to);
    }
    if (bb->bwlimit > 0)
        argv[n++] = owned[k++] = cel_xasprintf("--max-rate=%d", bb->bwlimit);
    if (bb->fast)
        argv[n++] = "--checkpoint=fast";
    compression_args(bb, argv, &n, owned, &k);
    argv[n++] = "--progress";
    argv[n] = NULL;

    char *pgpassword = password ? cel_xasprintf("PGPASSWORD=%s", password) : NULL;
    const char *env[] = {"LC_ALL=C", pgpassword, NULL};
    struct watch w = {.bb = bb, .t0 = ts_monotonic()};
    struct proc_opts o = {.env = env,
                          .path_prefix = s->path_prefix,
                          .out_mode = PROC_LINES,
                          .err_mode = PROC_LINES,
                          .on_line = on_line,
                          .ctx = &w};
    struct proc *p = NULL;
    struct proc_result res = {0};
    rc = proc_start(argv, &o, &p, err);
    if (rc == 0) {
        bool killed = false;
        while (!proc_done(p)) {
            proc_poll(&p, 1, 200);
            if (op_cancelled(bb->ctx) && !killed) {
                proc_kill(p, SIGTERM);
                killed = true;
            }
        }
        rc = proc_finish(p, &res, err);
    }
    if (rc == 0 && (res.status != 0 || res.signal)) {
        struct strbuf how = {0};
        proc_describe(&res, 0, &how);
        rc = cel_err_set(err, CEL_E_PROC, "pg_basebackup %s%s%s", sb_str(&how),
                         w.tail.len ? ": " : "", w.tail.len ? sb_str(&w.tail) : "");
        sb_free(&how);
    }
    proc_result_free(&res);
    sb_free(&w.tail);
    free(pgpassword);
    free(password);
    free(conninfo);
    for (size_t i = 0; i < k; i++)
        free(owned[i]);
    free(owned);
    free(argv);
    return rc;
}

int bk_basebackup_run(struct bk_basebackup *bb, struct cel_err *err)
{
    double t0 = ts_monotonic();
    int rc = 0;
    for (int i = 0;; i++) {
        cel_err_clear(err);
        free(bb->start_lsn);
        free(bb->end_lsn);
        bb->start_lsn = bb->end_lsn = NULL;
        rc = attempt(bb, err);
        if (rc == 0 || i >= bb->retry_times || op_cancelled(bb->ctx))
            break;
        op_log(bb->ctx, LOG_WARNING, bb->s->name,
               "failure executing a backup using pg_basebackup (attempt %d): %s", i + 1, err->msg);
        op_log(bb->ctx, LOG_WARNING, bb->s->name,
               "the files copied so far will be removed and the backup process will restart in "
               "%d seconds",
               bb->retry_sleep);
        for (int t = 0; t < bb->retry_sleep * 10 && !op_cancelled(bb->ctx); t++)
            usleep(100 * 1000);
        if (op_cancelled(bb->ctx))
            break;
    }
    bb->copy_seconds = ts_monotonic() - t0;
    return rc;
}

void bk_basebackup_free(struct bk_basebackup *bb)
{
    free(bb->start_lsn);
    free(bb->end_lsn);
    bb->start_lsn = bb->end_lsn = NULL;
}
