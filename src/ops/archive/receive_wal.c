/*
 * receive_wal.c - `cellar receive-wal SERVER [--create-slot|--drop-slot|
 * --stop|--reset]`: stream WAL into streaming_wals_directory with
 * PostgreSQL's own pg_receivewal, as Barman 3's receive-wal does.
 *
 * The receiver holds Barman's ".<server>-receive-wal.lock" (with its PID
 * inside) for as long as pg_receivewal runs, so Barman and cellar never
 * run two receivers on one server, and `--stop` (of either tool) finds the
 * holder there and sends it SIGINT. cellar forwards that SIGINT to
 * pg_receivewal, which flushes what it received and ends; if cellar itself
 * is killed, the process runner's death signal takes pg_receivewal with it,
 * and the lock is released with cellar's descriptors.
 *
 * Before pg_receivewal starts, the checks Barman makes: the replication
 * connection works (IDENTIFY_SYSTEM), pg_receivewal is installed and not
 * older than the server, the slot exists (created with create_slot = auto)
 * and is not in use; a .partial file of a wrong size (a receiver killed
 * while it was padding the file) is emptied, which is safe because
 * pg_receivewal pads the file before writing into it. pg_receivewal runs
 * with --no-loop (a lost connection ends the receiver, and cron starts a
 * new one), --no-password, the slot, the application name
 * streaming_archiver_name, and --synchronous when synchronous_standby_names
 * names that application (or '*'); unlike Barman's, with
 * --status-interval=1, so that pg_stat_replication (replication-status, the
 * console) knows within a second what the receiver has written.
 *
 * Slots are created and dropped over the replication protocol, as Barman
 * does. cellar creates them with RESERVE_WAL, so the WAL after the slot's
 * creation is kept even before the first receiver connects (Barman's slot
 * reserves WAL only from the receiver's first connection).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "ops.h"
#include "pg.h"
#include "proc.h"
#include "server.h"
#include "server_select.h"
#include "storage.h"
#include "wal.h"

/* What the replication connection told (IDENTIFY_SYSTEM). */
struct stream_info {
    long version; /* server_version_num */
    char systemid[32];
    uint32_t timeline;
    char xlogpos[WAL_LSN_MAX];
};

/* The slot as pg_replication_slots shows it. */
struct slot_info {
    bool exists;
    bool active;
    char restart_lsn[WAL_LSN_MAX]; /* "" when not initialised */
};

static int identify(const struct cfg_server *s, struct pg_conn *c, struct stream_info *out,
                    struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    struct pg_rows rows;
    int rc = pg_query(c, "IDENTIFY_SYSTEM", NULL, 0, &rows, err);
    if (rc < 0)
        return rc;
    if (rows.nrows != 1 || rows.ncols < 3) {
        pg_rows_free(&rows);
        return cel_err_set(err, CEL_E_PG,
                           "server '%s': IDENTIFY_SYSTEM gave no answer on streaming_conninfo: is "
                           "it a replication connection?",
                           s->name);
    }
    const char *v;
    if ((v = pg_rows_get(&rows, 0, "systemid")))
        cel_strlcpy(out->systemid, v, sizeof out->systemid);
    if ((v = pg_rows_get(&rows, 0, "timeline")))
        out->timeline = (uint32_t)strtoul(v, NULL, 10);
    if ((v = pg_rows_get(&rows, 0, "xlogpos")))
        cel_strlcpy(out->xlogpos, v, sizeof out->xlogpos);
    out->version = pg_server_version(c);
    pg_rows_free(&rows);
    return 0;
}

/* Connect with streaming_conninfo for the replication protocol. */
static int stream_connect(const struct cfg_server *s, struct pg_conn **c, struct cel_err *err)
{
    if (!s->streaming_conninfo)
        return cel_err_set(err, CEL_E_CONFIG,
                           "server '%s' has neither streaming_conninfo nor conninfo", s->name);
    int rc = pg_connect_replication(s->streaming_conninfo, s->check_timeout, c, err);
    if (rc < 0)
        cel_err_hint(err,
                     "streaming_conninfo needs a role with REPLICATION and a 'replication' line "
                     "for it in pg_hba.conf, e.g. 'host replication %s 127.0.0.1/32 "
                     "scram-sha-256'.",
                     s->conninfo_user ? s->conninfo_user : "barman");
    return rc;
}

/* The slot's state, read through conninfo as Barman reads it. */
static int slot_state(const struct cfg_server *s, struct slot_info *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    if (!s->conninfo)
        return cel_err_set(err, CEL_E_CONFIG, "server '%s' has no conninfo", s->name);
    struct pg_conn *c = NULL;
    int rc = pg_connect(s->conninfo, s->check_timeout, &c, err);
    if (rc < 0)
        return rc;
    struct pg_rows rows;
    const char *params[] = {s->slot_name};
    rc = pg_query(c,
                  "SELECT active, restart_lsn FROM pg_catalog.pg_replication_slots "
                  "WHERE slot_type = 'physical' AND slot_name = $1",
                  params, 1, &rows, err);
    if (rc == 0) {
        if (rows.nrows > 0) {
            out->exists = true;
            const char *a = pg_rows_get(&rows, 0, "active");
            out->active = a && strcmp(a, "t") == 0;
            const char *l = pg_rows_get(&rows, 0, "restart_lsn");
            if (l)
                cel_strlcpy(out->restart_lsn, l, sizeof out->restart_lsn);
        }
        pg_rows_free(&rows);
    }
    pg_close(c);
    return rc;
}

/* ---- --create-slot and --drop-slot ----------------------------------------- */

struct slot_model {
    const char *server;
    const char *slot;
    const char *action; /* "created", "dropped" or "already exists" */
};

static void slot_text(const void *p, struct strbuf *out)
{
    const struct slot_model *m = p;
    sb_appendf(out, "Replication slot '%s' %s\n", m->slot, m->action);
}

static json_t *slot_json(const void *p)
{
    const struct slot_model *m = p;
    return json_pack("{s:s, s:s, s:s}", "server", m->server, "slot", m->slot, "action", m->action);
}

/* create or drop s's slot; if_not_exists: a slot already there is fine
 * (Barman 3.15's --if-not-exists) */
static int slot_command(const struct op_ctx *ctx, const struct cfg_server *s, bool create,
                        bool if_not_exists, struct cel_err *err)
{
    const char *what = create ? "create" : "drop";
    if (!s->slot_name) {
        int rc = cel_err_set(err, CEL_E_CONFIG,
                             "Unable to %s a physical replication slot: slot_name configuration "
                             "option required",
                             what);
        cel_err_hint(err, "Set slot_name = barman (for instance) in the [%s] section.", s->name);
        return rc;
    }
    struct pg_conn *c = NULL;
    int rc = stream_connect(s, &c, err);
    if (rc < 0)
        return rc;
    op_log(ctx, LOG_INFO, s->name, "%s physical replication slot '%s' on server '%s'",
           create ? "Creating" : "Dropping", s->slot_name, s->name);
    /* the name is [0-9a-z_]+ (checked at load): the walsender's grammar
     * takes it bare */
    char *sql = create
                    ? cel_xasprintf("CREATE_REPLICATION_SLOT %s PHYSICAL RESERVE_WAL", s->slot_name)
                    : cel_xasprintf("DROP_REPLICATION_SLOT %s", s->slot_name);
    struct cel_err qerr = {0};
    rc = pg_exec(c, sql, &qerr);
    free(sql);
    if (rc < 0) {
        const char *state = pg_last_sqlstate(c);
        if (create && strcmp(state, "42710") == 0 && if_not_exists) {
            struct slot_model m = {s->name, s->slot_name, "already exists"};
            struct op_result res = {"receive-wal", &m, slot_text, slot_json};
            op_result(ctx, &res);
            rc = 0;
        } else if (create && strcmp(state, "42710") == 0) {
            rc = cel_err_set(err, CEL_E_CONFLICT, "Replication slot '%s' already exists",
                             s->slot_name);
            cel_err_hint(err, "Add --if-not-exists to accept an existing slot.");
        } else if (create && strcmp(state, "53400") == 0) {
            rc = cel_err_set(err, CEL_E_PG, "All replication slots for server '%s' are in use",
                             s->name);
            cel_err_hint(err, "Free one or increase the max_replication_slots value on your "
                              "PostgreSQL server.");
        } else if (!create && strcmp(state, "42704") == 0) {
            rc = cel_err_set(err, CEL_E_NOT_FOUND, "Replication slot '%s' does not exist",
                             s->slot_name);
        } else if (!create && strcmp(state, "55006") == 0) {
            rc = cel_err_set(err, CEL_E_CONFLICT,
                             "Cannot drop replication slot '%s' on server '%s' because it is in "
                             "use.",
                             s->slot_name, s->name);
            cel_err_hint(err, "Stop the receiver first: cellar receive-wal --stop %s", s->name);
        } else {
            rc = cel_err_set(err, CEL_E_PG, "Cannot %s replication slot '%s' on server '%s': %s",
                             what, s->slot_name, s->name, qerr.msg);
        }
    } else {
        struct slot_model m = {s->name, s->slot_name, create ? "created" : "dropped"};
        struct op_result res = {"receive-wal", &m, slot_text, slot_json};
        op_result(ctx, &res);
    }
    pg_close(c);
    return rc;
}

/* ---- --stop ------------------------------------------------------------------ */

struct stop_model {
    const char *server;
    long pid;
};

static void stop_text(const void *p, struct strbuf *out)
{
    const struct stop_model *m = p;
    sb_appendf(out, "Stopped process receive-wal(%ld)\n", m->pid);
}

static json_t *stop_json(const void *p)
{
    const struct stop_model *m = p;
    return json_pack("{s:s, s:I}", "server", m->server, "stopped_pid", (json_int_t)m->pid);
}

/* ---- --reset --------------------------------------------------------------- */

/* Is name a segment or a .partial segment name? */
static bool segment_or_partial(const char *name)
{
    struct wal_name w;
    return wal_name_parse(name, &w, NULL) == 0 &&
           (w.kind == WAL_KIND_SEGMENT || w.kind == WAL_KIND_PARTIAL);
}

/* The newest segment or .partial file of the streaming directory, "" when
 * there is none. */
static void newest_streamed(const struct cfg_server *s, char out[WAL_NAME_MAX])
{
    out[0] = '\0';
    struct stor_names names;
    if (stor_list_dir(s->streaming_wals_directory, NULL, NULL, &names, NULL) < 0)
        return;
    for (size_t i = names.n; i-- > 0;)
        if (strlen(names.names[i]) < WAL_NAME_MAX && segment_or_partial(names.names[i])) {
            cel_strlcpy(out, names.names[i], WAL_NAME_MAX);
            break;
        }
    stor_names_free(&names);
}

/* The segment an LSN falls in, on timeline tli. */
static void lsn_segment(const char *lsn_text, uint32_t tli, uint64_t segsize,
                        char out[WAL_NAME_MAX])
{
    uint64_t lsn = 0;
    wal_lsn_parse(lsn_text, &lsn, NULL);
    wal_segment_name(tli, wal_lsn_to_segno(lsn, segsize), segsize, out);
}

/* Barman's reset: put an empty <restart segment>.partial where the
 * receiver's position is, when the directory's newest file is behind. */
static int reset_position(const struct op_ctx *ctx, const struct cfg_server *s,
                          const struct stream_info *si, const struct slot_info *slot,
                          struct cel_err *err)
{
    struct pg_conn *c = NULL;
    int rc = pg_connect(s->conninfo, s->check_timeout, &c, err);
    if (rc < 0)
        return rc;
    char *current = NULL, *segsize_text = NULL;
    rc = pg_query_value(c, "SELECT pg_catalog.pg_current_wal_lsn()", &current, err);
    if (rc == 0)
        rc = pg_query_value(c,
                            "SELECT setting FROM pg_catalog.pg_settings WHERE name = "
                            "'wal_segment_size'",
                            &segsize_text, err);
    pg_close(c);
    if (rc < 0)
        goto out;
    uint64_t segsize = segsize_text ? strtoull(segsize_text, NULL, 10) : 0;
    if (segsize < 1024 * 1024) /* pg_settings gives bytes on 11+; 8kB pages before */
        segsize = segsize * 8192;
    if (wal_segsize_check(segsize, NULL) < 0)
        segsize = WAL_DEFAULT_SEGSIZE;
    char current_wal[WAL_NAME_MAX], restart_wal[WAL_NAME_MAX], last[WAL_NAME_MAX];
    lsn_segment(current ? current : "0/0", si->timeline, segsize, current_wal);
    cel_strlcpy(restart_wal, current_wal, sizeof restart_wal);
    if (slot->restart_lsn[0])
        lsn_segment(slot->restart_lsn, si->timeline, segsize, restart_wal);
    newest_streamed(s, last);
    char partial[WAL_NAME_MAX + 8];
    snprintf(partial, sizeof partial, "%s.partial", restart_wal);
    if (!last[0] || strcmp(last, partial) == 0 || strcmp(last, restart_wal) == 0) {
        op_log(ctx, LOG_INFO, s->name, "Nothing to do. Position of receive-wal is aligned.");
        goto out;
    }
    if (strcmp(last, current_wal) > 0) {
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "The receive-wal position is ahead of PostgreSQL current WAL lsn (%s > "
                         "%s)",
                         last, current_wal);
        goto out;
    }
    op_log(ctx, LOG_INFO, s->name, "Resetting receive-wal directory status");
    char *path;
    if (strstr(last, ".partial")) {
        path = cel_xasprintf("%s/%s", s->streaming_wals_directory, last);
        op_log(ctx, LOG_INFO, s->name, "Removing status file %s", path);
        if (unlink(path) < 0 && errno != ENOENT)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", path);
        free(path);
        if (rc < 0)
            goto out;
    }
    path = cel_xasprintf("%s/%s", s->streaming_wals_directory, partial);
    op_log(ctx, LOG_INFO, s->name, "Creating status file %s", path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", path);
    else
        close(fd);
    free(path);
    if (rc == 0)
        rc = stor_fsync_dir(s->streaming_wals_directory, err);
out:
    free(current);
    free(segsize_text);
    return rc;
}

/* ---- running pg_receivewal ---------------------------------------------------- */

/* A .partial of a size other than 0 or a whole segment was left by a
 * receiver killed while padding it: empty it (pg_receivewal pads a new
 * file before writing into it, so nothing received is lost). */
static void truncate_odd_partial(const struct op_ctx *ctx, const struct cfg_server *s)
{
    char last[WAL_NAME_MAX];
    newest_streamed(s, last);
    if (!strstr(last, ".partial"))
        return;
    char *path = cel_xasprintf("%s/%s", s->streaming_wals_directory, last);
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size != 0 &&
        wal_segsize_check((uint64_t)st.st_size, NULL) < 0) {
        op_log(ctx, LOG_INFO, s->name,
               "Truncating partial file %s that has wrong size %lld while a whole segment was "
               "expected.",
               path, (long long)st.st_size);
        if (truncate(path, 0) < 0)
            op_log(ctx, LOG_WARNING, s->name, "cannot truncate '%s': %s", path, strerror(errno));
    }
    free(path);
}

/* Does synchronous_standby_names name the receiver (or '*')? As Barman
 * asks: the list's names, quotes and the FIRST/ANY n (...) syntax aside. */
static bool is_synchronous(const struct cfg_server *s)
{
    if (!s->conninfo)
        return false;
    struct pg_conn *c = NULL;
    if (pg_connect(s->conninfo, s->check_timeout, &c, NULL) < 0)
        return false;
    char *names = NULL;
    pg_query_value(c, "SELECT pg_catalog.current_setting('synchronous_standby_names')", &names,
                   NULL);
    pg_close(c);
    bool sync = false;
    const char *app =
        s->streaming_archiver_name ? s->streaming_archiver_name : "barman_receive_wal";
    for (char *save = NULL, *w = names ? strtok_r(names, " ,()\"", &save) : NULL; w && !sync;
         w = strtok_r(NULL, " ,()\"", &save))
        sync = strcmp(w, "*") == 0 || strcasecmp(w, app) == 0;
    free(names);
    return sync;
}

/* pg_receivewal's output goes to the log and the sink, line by line. */
struct line_ctx {
    const struct op_ctx *ctx;
    const struct cfg_server *s;
};

static void on_line(void *p, int stream, const char *line, size_t len, bool more)
{
    (void)stream;
    (void)more; /* a longer line is logged in pieces */
    const struct line_ctx *lc = p;
    op_log(lc->ctx, LOG_INFO, lc->s->name, "%.*s", (int)len, line);
}

static int run_receiver(const struct op_ctx *ctx, const struct cfg_server *s,
                        const struct op_pg_tool *tool, bool synchronous, struct cel_err *err)
{
    const char *app =
        s->streaming_archiver_name ? s->streaming_archiver_name : "barman_receive_wal";
    char *password = NULL;
    char *conninfo = pg_conninfo_with(s->streaming_conninfo, "application_name", app, &password);
    if (!conninfo)
        return cel_err_set(err, CEL_E_CONFIG, "server '%s': streaming_conninfo cannot be parsed",
                           s->name);
    /* a password goes in the environment: a command line is public */
    char *pgpassword = password ? cel_xasprintf("PGPASSWORD=%s", password) : NULL;
    const char *env[] = {pgpassword, NULL};
    char *dbname = cel_xasprintf("--dbname=%s", conninfo);
    char *directory = cel_xasprintf("--directory=%s", s->streaming_wals_directory);
    char *slot = s->slot_name ? cel_xasprintf("--slot=%s", s->slot_name) : NULL;
    const char *argv[10];
    size_t n = 0;
    argv[n++] = tool->path;
    argv[n++] = dbname;
    argv[n++] = "--verbose";
    argv[n++] = "--no-loop";
    argv[n++] = "--no-password";
    argv[n++] = directory;
    if (slot)
        argv[n++] = slot;
    if (synchronous)
        argv[n++] = "--synchronous";
    /* pg_stat_replication then says every second how far the receiver has
     * written (the default, 10 s, made the console's lag ten times too
     * large; bench/streaming.sh measured it) */
    argv[n++] = "--status-interval=1";
    argv[n] = NULL;
    struct line_ctx lc = {ctx, s};
    struct proc_opts o = {.out_mode = PROC_LINES,
                          .err_mode = PROC_LINES,
                          .on_line = on_line,
                          .ctx = &lc,
                          .path_prefix = s->path_prefix,
                          .env = pgpassword ? env : NULL};
    op_log(ctx, LOG_INFO, s->name, "Activating WAL archiving through streaming protocol");
    struct proc *p = NULL;
    int rc = proc_start(argv, &o, &p, err);
    bool forwarded = false;
    if (rc == 0) {
        while (!proc_done(p)) {
            proc_poll(&p, 1, 500);
            if (!forwarded && op_cancelled(ctx)) {
                proc_kill(p, SIGINT);
                forwarded = true;
            }
        }
        struct proc_result res = {0};
        rc = proc_finish(p, &res, err);
        if (rc == 0 && forwarded) {
            op_log(ctx, LOG_INFO, s->name, "SIGINT received. Terminate gracefully.");
        } else if (rc == 0 && res.signal) {
            rc = cel_err_set(err, CEL_E_PROC, "%s terminated by signal: %d", "pg_receivewal",
                             res.signal);
        } else if (rc == 0 && res.status != 0) {
            rc = cel_err_set(err, CEL_E_PROC, "%s terminated with error code: %d", "pg_receivewal",
                             res.status);
            cel_err_hint(err, "Its messages are in the log; cron starts a new receiver.");
        }
        proc_result_free(&res);
    }
    free(slot);
    free(directory);
    free(dbname);
    free(conninfo);
    free(pgpassword);
    free(password);
    return rc;
}

struct start_model {
    const char *server;
    const char *message;
};

static void start_text(const void *p, struct strbuf *out)
{
    const struct start_model *m = p;
    sb_appendf(out, "%s\n", m->message);
}

static json_t *start_json(const void *p)
{
    const struct start_model *m = p;
    return json_pack("{s:s, s:s}", "server", m->server, "message", m->message);
}

int op_receive_wal_spawn(const struct op_ctx *ctx, const struct cfg_server *s,
                          bool keep_descriptors, pid_t *pid, struct cel_err *err)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        return cel_err_sys(err, CEL_E_PROC, errno, "cannot find the cellar program to start "
                                                   "receive-wal");
    exe[n] = '\0';
    /* the receiver runs in "/": the configuration's path must not be relative */
    char *config = ctx->cfg->path ? realpath(ctx->cfg->path, NULL) : NULL;
    const char *argv[8];
    size_t k = 0;
    argv[k++] = exe;
    if (config) {
        argv[k++] = "-c";
        argv[k++] = config;
    }
    argv[k++] = "--batch";
    argv[k++] = "receive-wal";
    argv[k++] = s->name;
    argv[k] = NULL;
    int rc = proc_spawn_detached(argv, keep_descriptors, pid, err);
    free(config);
    return rc;
}

/* --detach: start the receiver in the background (as cron does) and return
 * once it holds the receive-wal lock, so whoever asked (the console) sees
 * it running; one already running is said and left alone. */
static int detach(const struct op_ctx *ctx, const struct cfg_server *s, struct cel_err *err)
{
    pid_t pid = 0;
    int held = op_server_lock_probe(ctx, s, "receive-wal", &pid, err);
    if (held < 0)
        return held;
    char *msg;
    if (held == 1) {
        msg = cel_xasprintf("receive-wal is already running for server %s (PID %ld)", s->name,
                            (long)pid);
    } else {
        int rc = op_receive_wal_spawn(ctx, s, false, &pid, err);
        if (rc < 0)
            return rc;
        /* it takes the lock at once, unless its checks failed: then it has
         * ended, and its error is in the log */
        pid_t holder = 0;
        int i = 0;
        for (; i < 100; i++) {
            if (op_server_lock_probe(ctx, s, "receive-wal", &holder, NULL) == 1 && holder == pid)
                break;
            if (kill(pid, 0) < 0 && errno == ESRCH)
                i = 100;
            struct timespec pause = {0, 100 * 1000000L};
            nanosleep(&pause, NULL);
        }
        if (i >= 100)
            return cel_err_set(err, CEL_E_PROC,
                               "receive-wal for server %s did not start (PID %ld): see the log "
                               "file for its error",
                               s->name, (long)pid);
        msg = cel_xasprintf("receive-wal started in the background for server %s (PID %ld)",
                            s->name, (long)pid);
    }
    struct start_model m = {s->name, msg};
    struct op_result res = {"receive-wal", &m, start_text, start_json};
    op_result(ctx, &res);
    free(msg);
    return 0;
}

/* Receive (or, with reset, realign the receiver's position): the checks,
 * then pg_receivewal until it ends. The lock is held by the caller. */
static int receive(const struct op_ctx *ctx, const struct cfg_server *s, bool reset,
                   struct cel_err *err)
{
    int rc = stor_mkdir_p(s->streaming_wals_directory, 0700, err);
    if (rc < 0)
        return rc;
    struct pg_conn *c = NULL;
    struct stream_info si;
    if ((rc = stream_connect(s, &c, err)) < 0)
        return rc;
    rc = identify(s, c, &si, err);
    pg_close(c);
    if (rc < 0)
        return rc;
    const char *command = si.version < 100000 ? "pg_receivexlog" : "pg_receivewal";
    struct op_pg_tool tool;
    if (op_pg_tool_find(command, si.version, s->path_prefix, &tool) < 0) {
        rc = cel_err_set(err, CEL_E_PROC, "%s not present in $PATH", command);
        cel_err_hint(err,
                     "Install PostgreSQL's client programs (postgresql-client-%ld), or add "
                     "their directory to path_prefix.",
                     si.version / 10000);
        return rc;
    }
    if (tool.version && tool.version / 100 < si.version / 100) {
        rc = cel_err_set(err, CEL_E_PROC,
                         "%s version not compatible with PostgreSQL server version", command);
        cel_err_hint(err, "'%s' is %s; PostgreSQL is %ld: install a %s of that version or newer.",
                     tool.path, tool.version_text, si.version / 10000, command);
        op_pg_tool_free(&tool);
        return rc;
    }
    struct slot_info slot = {0};
    if (s->slot_name) {
        if ((rc = slot_state(s, &slot, err)) < 0)
            goto out;
        if (!slot.exists) {
            if (s->create_slot != CFG_CREATE_SLOT_AUTO) {
                rc = cel_err_set(err, CEL_E_CONFIG,
                                 "replication slot '%s' doesn't exist. Please execute 'cellar "
                                 "receive-wal --create-slot %s'",
                                 s->slot_name, s->name);
                goto out;
            }
            if (!reset) {
                op_log(ctx, LOG_INFO, s->name, "Creating replication slot '%s'", s->slot_name);
                if ((rc = slot_command(ctx, s, true, false, err)) < 0)
                    goto out;
            }
        } else if (slot.active) {
            rc = cel_err_set(err, CEL_E_CONFLICT, "replication slot '%s' is already in use",
                             s->slot_name);
            goto out;
        }
    }
    if (reset) {
        rc = reset_position(ctx, s, &si, &slot, err);
        goto out;
    }
    truncate_odd_partial(ctx, s);
    rc = run_receiver(ctx, s, &tool, is_synchronous(s), err);
out:
    op_pg_tool_free(&tool);
    return rc;
}

int op_receive_wal(const struct op_ctx *ctx, const struct op_receive_wal_req *req,
                   struct cel_err *err)
{
    const struct cfg_server *s = NULL;
    int rc;
    if (req->stop || req->reset || req->create_slot || req->drop_slot) {
        /* as Barman: these also serve an inactive server (a receiver left
         * running, a slot left behind) */
        if (strcmp(req->server, "all") == 0)
            return cel_err_set(err, CEL_E_USAGE, "receive-wal needs one server, not 'all'");
        const struct cfg_server **list = NULL;
        size_t n = 0;
        rc = op_select_servers(ctx, req->server, OP_SERVERS_LISTABLE, &list, &n, NULL, err);
        if (rc == 0)
            s = list[0];
        free(list);
    } else {
        rc = op_one_server(ctx, req->server, "receive-wal", &s, err);
    }
    if (rc < 0)
        return rc;
    if (req->stop && req->reset)
        return cel_err_set(err, CEL_E_USAGE, "--stop and --reset options are not compatible");
    if (req->stop) {
        pid_t pid = 0;
        rc = op_server_task_stop(ctx, s, "receive-wal", true, &pid, err);
        if (rc == 0) {
            struct stop_model m = {s->name, (long)pid};
            struct op_result res = {"receive-wal", &m, stop_text, stop_json};
            op_result(ctx, &res);
        }
        return rc;
    }
    if (req->create_slot || req->drop_slot)
        return slot_command(ctx, s, req->create_slot, req->if_not_exists, err);
    if (!s->streaming_archiver) {
        rc = cel_err_set(err, CEL_E_CONFIG,
                         "Unable to start receive-wal process: streaming_archiver option set to "
                         "'off' in the configuration file");
        cel_err_hint(err, "Set streaming_archiver = on in the [%s] section.", s->name);
        return rc;
    }
    if (req->detach)
        return detach(ctx, s, err);
    struct lock *lock = NULL;
    rc = op_server_lock(ctx, s, "receive-wal", false, &lock, err);
    if (rc == -CEL_E_LOCKED) {
        cel_err_clear(err);
        struct start_model m = {s->name, NULL};
        char *msg = cel_xasprintf(req->reset ? "Unable to reset the status of receive-wal for "
                                               "server %s. Process is still running"
                                             : "Another receive-wal process is already running "
                                               "for server %s.",
                                  s->name);
        m.message = msg;
        struct op_result res = {"receive-wal", &m, start_text, start_json};
        op_result(ctx, &res);
        free(msg);
        return 0;
    }
    if (rc < 0)
        return rc;
    if (!req->reset)
        op_log(ctx, LOG_INFO, s->name, "Starting receive-wal for server %s", s->name);
    rc = receive(ctx, s, req->reset, err);
    lock_release(lock);
    return rc;
}
