/*
 * archive_state.c - how far behind a server's WAL archive is, read cheaply
 * enough to be asked every few seconds: the newest file xlog.db lists (from
 * its last lines only, xdb_load_newest, so a million-line xlog.db costs a
 * 4 KiB read) and the files waiting for the archiver in incoming/, with the
 * age of the oldest. list-server's JSON carries it for the console's
 * servers pane.
 *
 * Which files wait is one rule (op_wal_is_waiting) shared with archive-wal,
 * which picks its files with it, and show-server, which counts them: a
 * regular file or a symbolic link (which archive-wal moves to errors/
 * without following it) whose name starts with no '.' (put-wal and rsync
 * write their temporary files so) and does not end in ".tmp".
 *
 * The streaming archiver's directory (streaming_wals_directory, where
 * pg_receivewal writes) is counted too, without what archive-wal leaves
 * there (op_wal_streaming_keep, Barman's rule): the newest .partial, the
 * segment pg_receivewal is still writing (or, with none, the newest
 * complete segment). An older .partial, the end of a promoted server's old
 * timeline, waits like any segment.
 */
#include <sys/stat.h>

#include "ops.h"
#include "server.h"
#include "storage.h"
#include "wal_archive.h"

static bool waiting_name(const char *name)
{
    return name[0] != '.' && !cel_str_ends(name, ".tmp");
}

bool op_wal_is_waiting(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    if (!waiting_name(name))
        return false;
    char *path = cel_xasprintf("%s/%s", dir, name);
    struct stat st;
    bool waiting = lstat(path, &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode));
    free(path);
    return waiting;
}

void op_wal_streaming_keep(struct stor_names *names)
{
    size_t keep = SIZE_MAX, last_segment = SIZE_MAX;
    for (size_t i = 0; i < names->n; i++) {
        struct wal_name w;
        if (!names->names[i] || strlen(names->names[i]) >= WAL_NAME_MAX ||
            wal_name_parse(names->names[i], &w, NULL) < 0)
            continue;
        if (w.kind == WAL_KIND_PARTIAL)
            keep = i; /* names are sorted: the last one is the newest */
        else if (w.kind == WAL_KIND_SEGMENT)
            last_segment = i;
    }
    if (keep == SIZE_MAX)
        keep = last_segment;
    if (keep != SIZE_MAX) {
        free(names->names[keep]);
        names->names[keep] = NULL;
    }
}

struct counter {
    size_t n;
    double oldest;
};

/* A stor_keep_fn that counts the waiting files (one stat each) and keeps
 * nothing. */
static bool count_one(const char *dir, const char *name, void *ctx)
{
    struct counter *c = ctx;
    if (!waiting_name(name))
        return false;
    char *path = cel_xasprintf("%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        double mtime = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
        if (!c->n++ || mtime < c->oldest)
            c->oldest = mtime;
    }
    free(path);
    return false;
}

int op_wal_waiting_count(const char *dir, bool streaming, size_t *n, double *oldest,
                         struct cel_err *err)
{
    struct counter c = {0};
    struct stor_names names;
    int rc;
    if (streaming) {
        /* the names first: what stays depends on the newest of them */
        rc = stor_list_dir(dir, op_wal_is_waiting, NULL, &names, err);
        if (rc == 0) {
            op_wal_streaming_keep(&names);
            for (size_t i = 0; i < names.n; i++)
                if (names.names[i])
                    count_one(dir, names.names[i], &c);
        }
    } else {
        /* incoming/ may hold a long backlog: counted as listed, no names kept */
        rc = stor_list_dir(dir, count_one, &c, &names, err);
    }
    if (rc == -CEL_E_NOT_FOUND)
        rc = 0;
    else if (rc == 0)
        stor_names_free(&names);
    *n = rc < 0 ? 0 : c.n;
    if (oldest)
        *oldest = rc < 0 ? 0 : c.oldest;
    return rc;
}

int op_archive_state(const struct op_ctx *ctx, const struct cfg_server *s,
                     struct op_archive_state *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    double oldest = 0;
    int rc = op_wal_waiting_count(s->incoming_wals_directory, false, &n, &oldest, err);
    if (rc < 0)
        return rc;
    out->waiting = n;
    out->oldest_waiting = oldest;
    rc = op_wal_waiting_count(s->streaming_wals_directory, true, &n, &oldest, err);
    if (rc < 0)
        return rc;
    if (n && (!out->waiting || oldest < out->oldest_waiting))
        out->oldest_waiting = oldest;
    out->waiting += n;
    /* the receiver, by its lock, as cron and Barman find it: no PostgreSQL */
    out->streaming = s->streaming_archiver;
    pid_t holder = 0;
    if (op_server_lock_probe(ctx, s, "receive-wal", &holder, NULL) == 1)
        out->receiver_pid = (long)holder;
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    rc = xdb_load_newest(&home, &out->newest, err);
    out->has_newest = rc == 1;
    return rc < 0 ? rc : 0;
}

json_t *op_archive_state_json(const struct op_archive_state *st)
{
    return json_pack("{s:s?, s:o, s:I, s:o, s:b, s:o}", "last_wal",
                     st->has_newest ? st->newest.name : NULL, "last_wal_time",
                     st->has_newest ? json_real(st->newest.time) : json_null(), "waiting_wals",
                     (json_int_t)st->waiting, "oldest_waiting_time",
                     st->waiting ? json_real(st->oldest_waiting) : json_null(), "streaming",
                     st->streaming, "receiver_pid",
                     st->receiver_pid ? json_integer(st->receiver_pid) : json_null());
}
