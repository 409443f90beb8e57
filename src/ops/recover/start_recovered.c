/*
 * start_recovered.c - `cellar start-recovered DEST` and `cellar
 * stop-recovered DEST`: start a recovered data directory where only its
 * owner can reach it, wait for its recovery to end, and run a check query
 * (see ops.h).
 *
 * Why command-line settings (pg_ctl -o) and not a file: they win over
 * postgresql.conf and postgresql.auto.conf, and they leave the recovered
 * directory exactly as `recover` wrote it, so the DBA can start it for real
 * afterwards with its own configuration. pg_ctl hands -o to a shell, so every
 * value in it is either a number or a path cellar made, quoted.
 *
 * Why our own wait (pg_ctl -W) and not pg_ctl -w: pg_ctl returns when the
 * server accepts connections, which for a hot standby is long before
 * recovery reaches its target; we poll the server itself, report how far
 * replay has gone, and notice a server that stops on the way.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"
#include "pg.h"
#include "proc.h"
#include "server.h"
#include "storage.h"

const char op_start_recovered_default_query[] =
    "SELECT datname AS database, pg_size_pretty(pg_database_size(datname)) AS size "
    "FROM pg_database WHERE NOT datistemplate ORDER BY datname";

#define ROWS_KEPT 50
#define SOCKET_PREFIX "cellar-check."

/* ---- the data directory and its server -------------------------------------------- */

/* The major version from PG_VERSION, as server_version_num (150000); 0 if unreadable. */
static long pg_version(const char *pgdata)
{
    char *path = cel_xasprintf("%s/PG_VERSION", pgdata);
    char *text = NULL;
    long v = 0;
    if (stor_read_file(path, 64, &text, NULL, NULL) == 0 && text)
        v = strtol(text, NULL, 10) * 10000;
    free(text);
    free(path);
    return v >= 100000 ? v : 0;
}

/* From postmaster.pid: the PID (0 when there is no such file) and, when
 * sockdir is not NULL, the socket directory (line 5). */
static pid_t postmaster_pid(const char *pgdata, char **sockdir)
{
    char *path = cel_xasprintf("%s/postmaster.pid", pgdata);
    char *text = NULL;
    pid_t pid = 0;
    if (sockdir)
        *sockdir = NULL;
    if (stor_read_file(path, 4096, &text, NULL, NULL) == 0 && text) {
        pid = (pid_t)strtol(text, NULL, 10);
        char *line = text;
        for (int i = 1; line && i < 5; i++)
            if ((line = strchr(line, '\n')))
                line++;
        if (sockdir && line && *line && *line != '\n')
            *sockdir = cel_xstrndup(line, strcspn(line, "\n"));
    }
    free(text);
    free(path);
    return pid > 0 ? pid : 0;
}

/* A process that has exited but is not reaped yet (a postmaster whose
 * parent pg_ctl is gone, under a PID 1 that does not reap) is not alive. */
static bool alive(pid_t pid)
{
    if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
        return false;
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *end = strrchr(stat, ')'); /* "PID (comm) STATE ..." */
    return !(end && end[1] == ' ' && end[2] == 'Z');
}

/* The pg_ctl of the data directory's major version. Caller frees. */
static char *pg_ctl_for(const char *pgdata)
{
    char *tool = op_pg_tool("pg_ctl", pg_version(pgdata));
    return tool ? tool : cel_xstrdup("pg_ctl");
}

/* Run pg_ctl ARGS as user (through runuser when we are root and user is
 * not root), the output captured for the error message. */
static int run_pg_ctl(const char *pgdata, const char *user, const char *const args[],
                      struct proc_result *res, struct cel_err *err)
{
    const char *argv[24];
    size_t n = 0;
    char *tool = pg_ctl_for(pgdata);
    if (geteuid() == 0 && user && strcmp(user, "root") != 0) {
        argv[n++] = "runuser";
        argv[n++] = "-u";
        argv[n++] = user;
        argv[n++] = "--";
    }
    argv[n++] = tool;
    for (size_t i = 0; args[i] && n + 1 < CEL_ARRAY_LEN(argv); i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    /* the server pg_ctl starts inherits this cwd: "/" never goes away */
    struct proc_opts o = {.cwd = "/", .timeout_ms = 120 * 1000};
    int rc = proc_run(argv, &o, res, err);
    free(tool);
    return rc;
}

/* What the server's log says about why it stopped, for an error message of
 * at most budget bytes (a struct cel_err holds 512): whole lines only, the
 * ones that carry a cause first (FATAL, PANIC, ERROR: also what a
 * restore_command printed, such as cellar get-wal's refusal), in the log's
 * order; without such lines, the last ones. */
static void log_tail(const char *log, size_t budget, struct strbuf *out)
{
    char *text = NULL;
    size_t len = 0;
    if (stor_read_file(log, 1 << 20, &text, &len, NULL) < 0 || !text)
        return;
    /* the last 64 lines at most, from the end */
    const char *start[64];
    size_t size[64], n = 0;
    for (size_t end = len; end > 0 && n < 64;) {
        if (text[end - 1] == '\n')
            end--;
        size_t at = end;
        while (at > 0 && text[at - 1] != '\n')
            at--;
        if (end > at) {
            start[n] = text + at;
            size[n++] = end - at;
        }
        end = at;
    }
    bool keep[64] = {false};
    size_t used = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            char line[1024];
            snprintf(line, sizeof line, "%.*s", (int)size[i], start[i]);
            bool cause = strstr(line, "FATAL:") || strstr(line, "PANIC:") ||
                         strstr(line, "ERROR:");
            if (keep[i] || (pass == 0 && !cause) || used + size[i] + 1 > budget)
                continue;
            keep[i] = true;
            used += size[i] + 1;
        }
    for (size_t i = n; i-- > 0;)
        if (keep[i])
            sb_appendf(out, "%.*s\n", (int)size[i], start[i]);
    free(text);
}

/* Whether the server's log says it has stopped: a FATAL error, or the last
 * line of a shutdown (what tells when postmaster.pid came and went unseen). */
static bool log_says_stopped(const char *log)
{
    char *text = NULL;
    bool found = stor_read_file(log, 16 << 20, &text, NULL, NULL) == 0 && text &&
                 (strstr(text, "FATAL:") || strstr(text, "database system is shut down"));
    free(text);
    return found;
}

/* Whether pg_control says the cluster was shut down while in recovery, as a
 * server does at its target with recovery_target_action = shutdown (a
 * crash leaves "in archive recovery" instead). */
static bool shut_down_in_recovery(const char *pgdata)
{
    char *state = op_controldata_field(pgdata, pg_version(pgdata), NULL, "Database cluster state");
    bool shut = state && strcmp(state, "shut down in recovery") == 0;
    free(state);
    return shut;
}

/* ---- preparing -------------------------------------------------------------------- */

struct start {
    const struct op_ctx *ctx;
    const struct op_start_recovered_req *req;
    const char *user;    /* the OS user that runs the server */
    const char *db_user; /* the role we connect as */
    const char *database;
    char *sockdir; /* the private directory: socket, pg_hba.conf, server.log */
    char *log;
    int port;
    time_t started;
    bool keep_dir; /* keep sockdir although the server is gone: an error names its log */
};

/* Give path (and what is under it) to user. */
static int chown_tree(const char *path, const char *user, struct cel_err *err)
{
    char *owner = cel_xasprintf("%s:", user); /* "user:": the user's login group */
    const char *argv[] = {"chown", "-R", "--", owner, path, NULL};
    struct proc_result res = {0};
    int rc = proc_run(argv, NULL, &res, err);
    if (rc == 0 && res.status != 0)
        rc = cel_err_set(err, CEL_E_PROC, "cannot give %s to %s: %s", path, user,
                         res.err && *res.err ? res.err : "chown failed");
    proc_result_free(&res);
    free(owner);
    return rc;
}

/* As root, the data directory and every tablespace behind pg_tblspc/ go to
 * the user that will run the server; PostgreSQL refuses a directory that is
 * not its own, or is open to others. */
static int give_to_user(const struct start *st, const struct passwd *pw, struct cel_err *err)
{
    const char *pgdata = st->req->pgdata;
    if (geteuid() == 0) {
        int rc = chown_tree(pgdata, st->user, err);
        char *tbs = cel_xasprintf("%s/pg_tblspc", pgdata);
        struct stor_names links = {0};
        if (rc == 0 && stor_is_dir(tbs))
            rc = stor_list_dir(tbs, NULL, NULL, &links, err);
        for (size_t i = 0; rc == 0 && i < links.n; i++) {
            char *link = cel_xasprintf("%s/%s", tbs, links.names[i]);
            char *target = realpath(link, NULL);
            if (target)
                rc = chown_tree(target, st->user, err);
            free(target);
            free(link);
        }
        stor_names_free(&links);
        free(tbs);
        if (rc < 0)
            return rc;
    } else if (pw->pw_uid != geteuid()) {
        return cel_err_set(err, CEL_E_USAGE,
                           "only root can run the server as another user ('%s')", st->user);
    }
    if (chmod(pgdata, 0700) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot set the mode of %s to 0700", pgdata);
    return 0;
}

/* A TCP port on 127.0.0.1 nobody listens on now (the kernel's choice). */
static int free_port(struct cel_err *err)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot create a socket to find a free port");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    else
        port = cel_err_sys(err, CEL_E_IO, errno, "cannot find a free port on 127.0.0.1");
    close(fd);
    return port;
}

/* The private directory: the socket, the pg_hba.conf the server reads, its
 * log. Under TMPDIR when its path is plain and short (a socket path has a
 * limit of 107 bytes, and the path goes into pg_ctl's shell line), else
 * under /tmp. */
static int make_sockdir(struct start *st, const struct passwd *pw, struct cel_err *err)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 60 || tmp[strspn(tmp, "abcdefghijklmnopqrstuvwxyz"
                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789/._-")])
        tmp = "/tmp";
    st->sockdir = cel_xasprintf("%s/" SOCKET_PREFIX "XXXXXX", tmp);
    if (!mkdtemp(st->sockdir)) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create a directory %s", st->sockdir);
        free(st->sockdir);
        st->sockdir = NULL;
        return rc;
    }
    st->log = cel_xasprintf("%s/server.log", st->sockdir);
    /* Trust only through the socket, which only its owner (and root) can
     * reach; passwords on loopback; nothing else. */
    struct strbuf hba = {0};
    sb_append(&hba, "# written by cellar start-recovered: the owner through the socket, "
                    "passwords on loopback\n"
                    "local all all trust\n"
                    "host  all all 127.0.0.1/32 scram-sha-256\n"
                    "host  all all 127.0.0.1/32 md5\n");
    char *path = cel_xasprintf("%s/pg_hba.conf", st->sockdir);
    int rc = stor_write_file(path, sb_str(&hba), hba.len, 0600, err);
    sb_free(&hba);
    if (rc == 0 && geteuid() == 0 && pw->pw_uid != 0 &&
        (chown(path, pw->pw_uid, pw->pw_gid) < 0 ||
         chown(st->sockdir, pw->pw_uid, pw->pw_gid) < 0))
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot give %s to %s", st->sockdir, st->user);
    free(path);
    return rc;
}

/* ---- starting and waiting ---------------------------------------------------------- */

static int start_server(struct start *st, struct cel_err *err)
{
    struct strbuf o = {0};
    sb_appendf(&o, "-c port=%d -c listen_addresses=127.0.0.1 -c unix_socket_directories=",
               st->port);
    sb_append_shell_quoted(&o, st->sockdir);
    sb_append(&o, " -c hba_file=");
    char *hba = cel_xasprintf("%s/pg_hba.conf", st->sockdir);
    sb_append_shell_quoted(&o, hba);
    free(hba);
    /* no archiving from a copy; the log where we can read it; read-only
     * queries while paused at the target */
    sb_append(&o, " -c archive_mode=off -c logging_collector=off -c hot_standby=on"
                  " -c lc_messages=C");
    const char *args[] = {"-D", st->req->pgdata, "-l", st->log, "-W", "-o", sb_str(&o),
                          "start", NULL};
    struct proc_result res = {0};
    int rc = run_pg_ctl(st->req->pgdata, st->user, args, &res, err);
    if (rc == 0 && res.status != 0) {
        struct strbuf why = {0};
        sb_append(&why, res.err && *res.err ? res.err : res.out ? res.out : "");
        rc = cel_err_set(err, CEL_E_PROC, "pg_ctl could not start %s: %s", st->req->pgdata,
                         sb_str(&why));
        sb_free(&why);
    }
    proc_result_free(&res);
    sb_free(&o);
    st->started = time(NULL);
    return rc;
}

struct state {
    char *recovering; /* "t"/"f" */
    char *pause;      /* "paused", "pause requested", "not paused", NULL */
    char *lsn;
    char *last_time;
};

static void state_free(struct state *s)
{
    free(s->recovering);
    free(s->pause);
    free(s->lsn);
    free(s->last_time);
    memset(s, 0, sizeof *s);
}

static int read_state(struct pg_conn *c, struct state *s, struct cel_err *err)
{
    state_free(s);
    const char *sql =
        pg_server_version(c) >= 140000
            ? "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN "
              "pg_get_wal_replay_pause_state() END, pg_last_wal_replay_lsn()::text, "
              "pg_last_xact_replay_timestamp()::text"
            : "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() AND "
              "pg_is_wal_replay_paused() THEN 'paused' END, pg_last_wal_replay_lsn()::text, "
              "pg_last_xact_replay_timestamp()::text";
    struct pg_rows r = {0};
    int rc = pg_query(c, sql, NULL, 0, &r, err);
    if (rc == 0 && r.nrows == 1 && r.ncols == 4) {
        s->recovering = r.values[0] ? cel_xstrdup(r.values[0]) : NULL;
        s->pause = r.values[1] ? cel_xstrdup(r.values[1]) : NULL;
        s->lsn = r.values[2] ? cel_xstrdup(r.values[2]) : NULL;
        s->last_time = r.values[3] ? cel_xstrdup(r.values[3]) : NULL;
    }
    pg_rows_free(&r);
    return rc;
}

static char *conninfo(const struct start *st)
{
    return cel_xasprintf("host=%s port=%d user=%s dbname=%s", st->sockdir, st->port,
                         st->db_user, st->database);
}

static void pause_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Wait until recovery has ended. *conn is the connection to query (NULL
 * when the server shut down at its target); *state says how it ended. */
static int wait_for_end(struct start *st, struct pg_conn **conn, struct state *state,
                        struct cel_err *err)
{
    const struct op_ctx *ctx = st->ctx;
    int timeout = st->req->timeout > 0 ? st->req->timeout : 600;
    time_t deadline = st->started + timeout, last_report = 0;
    char *reported = NULL;
    pid_t pid = 0;
    int rc = 0;
    char *ci = conninfo(st);
    for (;;) {
        if (op_cancelled(ctx)) {
            rc = cel_err_set(err, CEL_E_PROC, "stopped before the recovery ended");
            break;
        }
        pid_t now = postmaster_pid(st->req->pgdata, NULL);
        bool gone = pid && !now; /* it removes postmaster.pid as it exits */
        if (now)
            pid = now;
        /* a short recovery can start and end between two looks: then only
         * the log tells */
        if (gone || (pid && !alive(pid)) ||
            (!pid && (time(NULL) - st->started > 30 || log_says_stopped(st->log)))) {
            if (shut_down_in_recovery(st->req->pgdata)) {
                free(state->recovering);
                state->recovering = cel_xstrdup("shutdown");
                break;
            }
            struct strbuf tail = {0};
            char head[256];
            int hl = snprintf(head, sizeof head,
                              "the server stopped before its recovery ended; from %s:\n",
                              st->log);
            size_t room = sizeof err->msg - 1;
            log_tail(st->log, hl > 0 && (size_t)hl < room ? room - (size_t)hl : 0, &tail);
            rc = cel_err_set(err, CEL_E_PG, "%s%s", head, sb_str(&tail));
            sb_free(&tail);
            st->keep_dir = true; /* the error names the log in it */
            break;
        }
        if (!*conn && pid) {
            struct cel_err cerr = {0};
            /* refused while it is not consistent yet; but once it accepts
             * connections, a refusal (no such role) will not go away. It
             * may have begun to accept them between our attempt and the
             * ping, so it must refuse a second attempt too */
            bool refused = pg_connect(ci, 2, conn, &cerr) < 0 && pg_accepting(ci, 2);
            if (refused) {
                cel_err_clear(&cerr);
                refused = pg_connect(ci, 2, conn, &cerr) < 0;
            }
            if (refused) {
                const char *why = cerr.msg;
                if (cel_str_starts(why, "cannot connect to PostgreSQL: "))
                    why += strlen("cannot connect to PostgreSQL: ");
                rc = cel_err_set(err, CEL_E_PG,
                                 "cannot connect to the recovered server as role '%s' to "
                                 "database '%s': %s",
                                 st->db_user, st->database, why);
                cel_err_hint(err, "Give a role of the backed-up cluster with --db-user (the "
                                  "default is postgres) and a database with --dbname.");
                break;
            }
        }
        if (*conn) {
            struct cel_err qerr = {0};
            if (read_state(*conn, state, &qerr) < 0) {
                pg_close(*conn); /* it may have restarted its connections; reconnect */
                *conn = NULL;
            } else if (state->recovering && (strcmp(state->recovering, "f") == 0 ||
                                             (state->pause && strcmp(state->pause, "paused") == 0)))
                break;
            else if (state->lsn && (!reported || strcmp(reported, state->lsn) != 0) &&
                     time(NULL) - last_report >= 2) {
                op_log(ctx, LOG_INFO, NULL, "replaying the WAL: at %s%s%s", state->lsn,
                       state->last_time ? ", last commit " : "",
                       state->last_time ? state->last_time : "");
                free(reported);
                reported = cel_xstrdup(state->lsn);
                last_report = time(NULL);
            }
        }
        if (time(NULL) >= deadline) {
            rc = cel_err_set(err, CEL_E_TIMEOUT,
                             "the recovery of %s has not ended after %d s (replayed up to %s); "
                             "the server still runs",
                             st->req->pgdata, timeout, state->lsn ? state->lsn : "unknown");
            st->keep_dir = true;
            cel_err_hint(err, "Follow it in %s; connect with psql -h %s -p %d; stop it with "
                              "cellar stop-recovered %s. --timeout waits longer.",
                         st->log, st->sockdir, st->port, st->req->pgdata);
            break;
        }
        pause_ms(250);
    }
    free(reported);
    free(ci);
    return rc;
}

/* ---- the check query and the result ----------------------------------------------- */

struct model {
    const struct start *st;
    const char *state;
    struct state *s;
    const char *query;
    struct pg_rows rows;
    bool ran;
    bool stopped;
    bool dir_kept; /* the private directory (and the log in it) stays */
    double seconds;
    char *connect;
    char *stop;
};

static int run_query(struct pg_conn *c, const struct start *st, const char *query,
                     struct pg_rows *rows, struct cel_err *err)
{
    char *limits = cel_xasprintf("SET statement_timeout = '%ds'",
                                 st->req->timeout > 0 ? st->req->timeout : 600);
    int rc = pg_exec(c, "SET default_transaction_read_only = on", err);
    if (rc == 0)
        rc = pg_exec(c, limits, err);
    if (rc == 0)
        rc = pg_query(c, query, NULL, 0, rows, err);
    if (rc < 0)
        cel_err_prefix(err, "the check query failed");
    free(limits);
    return rc;
}

static const char *state_text(const char *state)
{
    return strcmp(state, "paused") == 0     ? "paused at its recovery target (read-only)"
           : strcmp(state, "promoted") == 0 ? "promoted: recovery ended, it accepts writes"
                                            : "shut down at its recovery target";
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    const struct start *st = m->st;
    sb_appendf(out, "Recovered server %s\n", st->req->pgdata);
    sb_appendf(out, "  State                : %s\n", state_text(m->state));
    if (m->s->lsn)
        sb_appendf(out, "  Replayed up to       : %s\n", m->s->lsn);
    if (m->s->last_time)
        sb_appendf(out, "  Last replayed commit : %s\n", m->s->last_time);
    sb_appendf(out, "  Time to that state   : %.1f s\n", m->seconds);
    if (m->ran) {
        sb_appendf(out, "  Check query          : %s\n", m->query);
        const struct pg_rows *r = &m->rows;
        for (size_t c = 0; c < r->ncols; c++)
            sb_appendf(out, "%s%s", c ? " | " : "    ", r->names[c]);
        sb_append(out, "\n");
        for (size_t i = 0; i < r->nrows && i < ROWS_KEPT; i++) {
            for (size_t c = 0; c < r->ncols; c++) {
                const char *v = r->values[i * r->ncols + c];
                sb_appendf(out, "%s%s", c ? " | " : "    ", v ? v : "");
            }
            sb_append(out, "\n");
        }
        sb_appendf(out, "    (%zu row%s%s)\n", r->nrows, r->nrows == 1 ? "" : "s",
                   r->nrows > ROWS_KEPT ? ", the first 50 shown" : "");
    }
    if (m->stopped) {
        sb_append(out, "  Stopped after the check.\n");
        return;
    }
    if (m->connect)
        sb_appendf(out, "  Connect with         : %s\n", m->connect);
    if (m->connect)
        sb_appendf(out, "  Stop with            : %s\n", m->stop);
    if (m->dir_kept)
        sb_appendf(out, "  Server log           : %s\n", st->log);
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    const struct start *st = m->st;
    json_t *cols = json_array(), *rows = json_array();
    for (size_t c = 0; m->ran && c < m->rows.ncols; c++)
        json_array_append_new(cols, json_string(m->rows.names[c]));
    for (size_t i = 0; m->ran && i < m->rows.nrows && i < ROWS_KEPT; i++) {
        json_t *row = json_array();
        for (size_t c = 0; c < m->rows.ncols; c++) {
            const char *v = m->rows.values[i * m->rows.ncols + c];
            json_array_append_new(row, v ? json_string(v) : json_null());
        }
        json_array_append_new(rows, row);
    }
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s?, s:s?, s:f, s:s?, s:o, s:o, s:I, "
                     "s:s?, s:s?, s:s?, s:b}",
                     "pgdata", st->req->pgdata, "state", m->state, "port", st->port,
                     "socket_dir", st->sockdir, "user", st->user, "database", st->database,
                     "replay_lsn", m->s->lsn, "last_replay_time", m->s->last_time, "seconds",
                     m->seconds, "query", m->ran ? m->query : NULL, "columns", cols, "rows", rows,
                     "rows_total", (json_int_t)(m->ran ? m->rows.nrows : 0), "connect",
                     m->connect, "stop", m->stop, "log", m->dir_kept ? st->log : NULL, "stopped",
                     m->stopped);
}

/* ---- stopping ---------------------------------------------------------------------- */

/* The name of the OS user that owns path, NULL if unknown. Caller frees. */
static char *owner_of(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return NULL;
    struct passwd *pw = getpwuid(sb.st_uid);
    return pw ? cel_xstrdup(pw->pw_name) : NULL;
}

/* Whether dir (a server's socket directory, from postmaster.pid) is one of
 * the private directories start-recovered makes: the mark of a server it
 * started, the only kind stop-recovered stops. */
static bool is_our_sockdir(const char *dir)
{
    const char *base = dir ? strrchr(dir, '/') : NULL;
    return base && strncmp(base + 1, SOCKET_PREFIX, strlen(SOCKET_PREFIX)) == 0;
}

/* Remove dir when it is one of our private directories. */
static void remove_sockdir(const char *dir)
{
    if (is_our_sockdir(dir))
        stor_remove_tree(dir, NULL);
}

static int stop_server(const char *pgdata, struct cel_err *err)
{
    char *user = owner_of(pgdata);
    const char *args[] = {"-D", pgdata, "-m", "fast", "-w", "-t", "60", "stop", NULL};
    struct proc_result res = {0};
    int rc = run_pg_ctl(pgdata, user, args, &res, err);
    if (rc == 0 && res.status != 0)
        rc = cel_err_set(err, CEL_E_PROC, "pg_ctl could not stop %s: %s", pgdata,
                         res.err && *res.err ? res.err : res.out ? res.out : "");
    proc_result_free(&res);
    free(user);
    return rc;
}

static void render_stop_text(const void *p, struct strbuf *out)
{
    const json_t *m = p;
    const char *d = json_string_value(json_object_get(m, "pgdata"));
    if (json_is_true(json_object_get(m, "was_running")))
        sb_appendf(out, "Stopped the server of %s\n", d);
    else
        sb_appendf(out, "No server was running in %s\n", d);
}

static json_t *render_stop_json(const void *p)
{
    return json_deep_copy(p);
}

int op_stop_recovered(const struct op_ctx *ctx, const char *pgdata, struct cel_err *err)
{
    if (!pgdata || pgdata[0] != '/')
        return cel_err_set(err, CEL_E_USAGE, "stop-recovered: give the data directory as an "
                                             "absolute path");
    char *sockdir = NULL;
    pid_t pid = postmaster_pid(pgdata, &sockdir);
    bool running = alive(pid);
    int rc = 0;
    if (running && !is_our_sockdir(sockdir)) {
        /* a production cluster, a standby, anything start-recovered did not
         * start: never ours to stop */
        cel_err_set(err, CEL_E_CONFLICT,
                    "the server (PID %ld) in %s was not started by start-recovered (its "
                    "socket directory is '%s'): cellar does not stop it",
                    (long)pid, pgdata, sockdir ? sockdir : "unknown");
        cel_err_hint(err, "If it is yours to stop: pg_ctl -D %s stop", pgdata);
        free(sockdir);
        return -CEL_E_CONFLICT;
    }
    if (running) {
        op_phase(ctx, NULL, "stop", "Stopping the server of %s", pgdata);
        rc = stop_server(pgdata, err);
    }
    if (rc == 0) {
        remove_sockdir(sockdir);
        json_t *m = json_pack("{s:s, s:b}", "pgdata", pgdata, "was_running", running);
        struct op_result result = {"stop-recovered", m, render_stop_text, render_stop_json};
        op_result(ctx, &result);
        json_decref(m);
    }
    free(sockdir);
    return rc;
}

/* ---- start-recovered --------------------------------------------------------------- */

static int check_pgdata(const char *pgdata, struct cel_err *err)
{
    if (!pgdata || pgdata[0] != '/')
        return cel_err_set(err, CEL_E_USAGE, "start-recovered: give the recovered data "
                                             "directory as an absolute path");
    char *v = cel_xasprintf("%s/PG_VERSION", pgdata);
    bool is_pg = stor_is_file(v);
    free(v);
    if (!is_pg)
        return cel_err_set(err, CEL_E_NOT_FOUND, "%s is not a PostgreSQL data directory (no "
                                                 "PG_VERSION)",
                           pgdata);
    char *sockdir = NULL;
    pid_t pid = postmaster_pid(pgdata, &sockdir);
    int rc = 0;
    if (alive(pid)) {
        rc = cel_err_set(err, CEL_E_CONFLICT, "a server (PID %ld) already runs in %s", (long)pid,
                         pgdata);
        if (is_our_sockdir(sockdir))
            cel_err_hint(err, "start-recovered started it: cellar stop-recovered %s", pgdata);
        else
            cel_err_hint(err, "start-recovered starts a recovered copy that no server runs "
                              "on; this one was not started by it (a live cluster?)");
    }
    free(sockdir);
    return rc;
}

static int start_and_check(struct start *st, struct model *m, struct cel_err *err)
{
    const struct op_ctx *ctx = st->ctx;
    const struct op_start_recovered_req *req = st->req;
    struct passwd *pw = getpwnam(st->user);
    if (!pw)
        return cel_err_set(err, CEL_E_USAGE, "no OS user called '%s' to run the server",
                           st->user);
    int rc = give_to_user(st, pw, err);
    if (rc == 0)
        rc = make_sockdir(st, pw, err);
    if (rc < 0)
        return rc;
    st->port = req->port > 0 ? req->port : free_port(err);
    if (st->port < 0)
        return st->port;
    op_phase(ctx, NULL, "start", "Starting %s on 127.0.0.1 port %d as %s", req->pgdata, st->port,
             st->user);
    if ((rc = start_server(st, err)) < 0)
        return rc;
    op_phase(ctx, NULL, "wait", "Waiting for the end of its recovery (at most %d s)",
             req->timeout > 0 ? req->timeout : 600);
    struct pg_conn *conn = NULL;
    struct state *s = m->s;
    rc = wait_for_end(st, &conn, s, err);
    m->seconds = difftime(time(NULL), st->started);
    if (rc == 0) {
        bool shut = s->recovering && strcmp(s->recovering, "shutdown") == 0;
        m->state = shut ? "shutdown" : strcmp(s->recovering, "f") == 0 ? "promoted" : "paused";
        if (!shut) {
            op_phase(ctx, NULL, "query", "Running the check query");
            rc = run_query(conn, st, m->query, &m->rows, err);
            m->ran = rc == 0;
        }
    }
    pg_close(conn);
    return rc;
}

int op_start_recovered(const struct op_ctx *ctx, const struct op_start_recovered_req *req,
                       struct cel_err *err)
{
    int rc = check_pgdata(req->pgdata, err);
    if (rc < 0)
        return rc;
    struct passwd *me = getpwuid(geteuid());
    struct start st = {.ctx = ctx, .req = req};
    char *me_name = me ? cel_xstrdup(me->pw_name) : cel_xstrdup("postgres");
    st.user = req->user ? req->user : geteuid() == 0 ? "postgres" : me_name;
    /* the OS user's name is no role of a cluster made with initdb -U postgres */
    st.db_user = req->db_user ? req->db_user : "postgres";
    st.database = req->database ? req->database : "postgres";
    struct state s = {0};
    struct model m = {.st = &st, .s = &s,
                      .query = req->query && *req->query ? req->query
                                                         : op_start_recovered_default_query};
    rc = start_and_check(&st, &m, err);
    bool running = alive(postmaster_pid(req->pgdata, NULL));
    if (rc < 0 && rc != -CEL_E_TIMEOUT && running) {
        /* a failed check (a wrong query, a cancel) must not leave a server behind */
        struct cel_err serr = {0};
        stop_server(req->pgdata, &serr);
        running = false;
    }
    if (rc == 0 && req->stop && running) {
        op_phase(ctx, NULL, "stop", "Stopping the server");
        rc = stop_server(req->pgdata, err);
        running = rc < 0;
        m.stopped = rc == 0;
    }
    m.dir_kept = running || st.keep_dir;
    if (rc == 0) {
        if (running)
            m.connect = cel_xasprintf("psql -h %s -p %d -U %s %s", st.sockdir, st.port, st.db_user,
                                      st.database);
        if (running)
            m.stop = cel_xasprintf("cellar stop-recovered %s", req->pgdata);
        struct op_result result = {"start-recovered", &m, render_text, render_json};
        op_result(ctx, &result);
    }
    if (!m.dir_kept && st.sockdir)
        stor_remove_tree(st.sockdir, NULL);
    pg_rows_free(&m.rows);
    state_free(&s);
    free(m.connect);
    free(m.stop);
    free(st.sockdir);
    free(st.log);
    free(me_name);
    return rc;
}
