/*
 * ops.h - the commands, one op each: a request struct and an entry point,
 * with the results the front ends read (archive summary and state, check
 * reports, the recovery window the console's wizard plans with).
 *
 * Every op takes the op context (configuration + sink), its request, and
 * an error to fill. It reports through the sink and returns 0 or a negative
 * cel_code; the front end turns that into the exit status. Ops never print.
 *
 * This is the command interface only. What ops share among themselves has
 * its own header: server.h (a server's directories, locks and tools),
 * server_select.h (which servers a command works on), server_catalog.h
 * (a server's catalogue as ops read it), catalog_json.h (its JSON form),
 * wal_archive.h (the WAL archive as ops read and write it), op_hooks.h
 * (hook scripts).
 */
#ifndef CEL_OPS_H
#define CEL_OPS_H

#include <sys/types.h>

#include "catalog.h"
#include "cloud_layout.h"
#include "cloud_target.h"
#include "server_catalog.h"
#include "sink.h"
#include "walidx.h"
#include "xlogdb.h"

struct op_list_server_req {
    bool minimal; /* names only */
};
int op_list_server(const struct op_ctx *ctx, const struct op_list_server_req *req,
                   struct cel_err *err);

struct op_show_server_req {
    const char *server; /* a name or "all" */
    bool no_connect;    /* do not query PostgreSQL */
};
int op_show_server(const struct op_ctx *ctx, const struct op_show_server_req *req,
                   struct cel_err *err);

/* status: one screen about each server, in Barman's layout. */
struct op_status_req {
    const char *server; /* a name or "all" */
};
int op_status(const struct op_ctx *ctx, const struct op_status_req *req, struct cel_err *err);

/* replication-status: the streaming clients attached to a server, live from
 * pg_stat_replication, in Barman's layout (catalog/replication_status.c). */
enum op_repl_target {
    OP_REPL_ALL,          /* every streaming client */
    OP_REPL_HOT_STANDBY,  /* clients that replay WAL: standbys */
    OP_REPL_WAL_STREAMER, /* clients that do not: pg_receivewal and the like */
};
struct op_replication_status_req {
    const char *server; /* a name or "all" */
    enum op_repl_target target;
    bool minimal; /* Barman's one line per client */
};
int op_replication_status(const struct op_ctx *ctx, const struct op_replication_status_req *req,
                          struct cel_err *err);

struct op_list_backup_req {
    const char *server; /* a name or "all" */
    bool minimal;       /* IDs only */
};
int op_list_backup(const struct op_ctx *ctx, const struct op_list_backup_req *req,
                   struct cel_err *err);

struct op_show_backup_req {
    const char *server;
    const char *backup; /* an ID, a shortcut or a backup name */
};
int op_show_backup(const struct op_ctx *ctx, const struct op_show_backup_req *req,
                   struct cel_err *err);
/* Append show-backup's "Copy time" and "Estimated throughput" lines of b
 * (nothing without a copy time), as Barman's render_show_backup_base. */
void op_show_copy_stats(const struct cat_backup *b, struct strbuf *out);

struct op_diagnose_req {
    bool no_connect; /* do not query PostgreSQL */
};
int op_diagnose(const struct op_ctx *ctx, const struct op_diagnose_req *req, struct cel_err *err);

/* archive-wal / cron: move what is in incoming/ into the archive. */
struct op_archive_wal_req {
    const char *server; /* a name or "all" */
    int workers;        /* compression processes; 0: one per CPU */
};
int op_archive_wal(const struct op_ctx *ctx, const struct op_archive_wal_req *req,
                   struct cel_err *err);

/* What one archiver run did for one server (archive_wal.c). */
struct op_archive_summary {
    const char *server;
    bool skipped_locked; /* another archiver holds the server's lock */
    pid_t holder;        /* its PID, 0 if unknown */
    size_t archived, duplicates, rejected, deferred, failed;
    uint64_t bytes_in, bytes_out;
};
/* Archive one server (used by archive-wal, cron and switch-wal). Returns 0
 * unless the run itself failed; files that failed are counted in
 * summary->failed and make the return -CEL_E_IO. */
int op_archive_server(const struct op_ctx *ctx, const struct cfg_server *s, int workers,
                      struct op_archive_summary *summary, struct cel_err *err);
/* The summary as one line of text (no newline) and as JSON. */
void op_archive_summary_text(const struct op_archive_summary *s, struct strbuf *out);
json_t *op_archive_summary_json(const struct op_archive_summary *s);
/* Report a summary as an "archive-wal" result event. */
void op_archive_report(const struct op_ctx *ctx, const struct op_archive_summary *summary);

/* How far behind a server's WAL archive is (archive_state.c), read
 * cheaply: xlog.db's newest file from its last lines only, and the files
 * waiting in incoming/ (and in a Barman home's streaming/ directory). */
struct op_archive_state {
    bool has_newest;         /* xlog.db lists at least one file */
    struct xdb_entry newest; /* its newest: the latest time among its last lines */
    size_t waiting;          /* files waiting for the archiver */
    double oldest_waiting;   /* mtime of the oldest of them, 0 when none */
    bool streaming;          /* streaming_archiver = on */
    long receiver_pid;       /* the running receive-wal's PID (its lock's holder), 0: none */
};
/* Fill *out for s. Returns 0, or -CEL_E_IO when a directory cannot be
 * read, or -CEL_E_FORMAT / -CEL_E_IO when xlog.db's last lines cannot (the
 * waiting files are counted then). Blocks while another process holds the
 * server's xlogdb lock. */
int op_archive_state(const struct op_ctx *ctx, const struct cfg_server *s,
                     struct op_archive_state *out, struct cel_err *err);
/* {"last_wal": name|null, "last_wal_time": seconds|null, "waiting_wals": n,
 * "oldest_waiting_time": seconds|null, "streaming": bool, "receiver_pid":
 * pid|null} (times since the epoch, floats). */
json_t *op_archive_state_json(const struct op_archive_state *st);

/* put-wal: one WAL file from PostgreSQL's archive_command into incoming/. */
struct op_put_wal_req {
    const char *server;
    const char *path; /* the file (%p); NULL: read in_fd */
    const char *name; /* the file name (%f) when reading in_fd */
    int in_fd;
};
int op_put_wal(const struct op_ctx *ctx, const struct op_put_wal_req *req, struct cel_err *err);

/* get-wal: an archived file's original bytes, for restore_command. */
struct op_get_wal_req {
    const char *server;
    const char *name;
    const char *output_dir; /* write DIR/NAME there; NULL: write out_fd */
    int out_fd;
    bool partial; /* also look for NAME.partial */
};
int op_get_wal(const struct op_ctx *ctx, const struct op_get_wal_req *req, struct cel_err *err);

/* rebuild-xlogdb: xlog.db from the files in wals/. */
struct op_rebuild_xlogdb_req {
    const char *server; /* a name or "all" */
};
int op_rebuild_xlogdb(const struct op_ctx *ctx, const struct op_rebuild_xlogdb_req *req,
                      struct cel_err *err);

/* receive-wal: stream WAL with pg_receivewal into streaming_wals_directory
 * (receive_wal.c); blocks until pg_receivewal ends or SIGINT/SIGTERM
 * (op_ctx.cancel) stops it. At most one of the actions may be set. */
struct op_receive_wal_req {
    const char *server;
    bool stop;        /* SIGINT to the running receiver (the receive-wal lock's holder) */
    bool reset;       /* realign the streaming directory with the server's position */
    bool create_slot; /* CREATE_REPLICATION_SLOT slot_name */
    bool if_not_exists; /* with create_slot: an existing slot is no error */
    bool drop_slot;   /* DROP_REPLICATION_SLOT slot_name */
    bool detach;      /* start it in the background and return once it runs */
};
int op_receive_wal(const struct op_ctx *ctx, const struct op_receive_wal_req *req,
                   struct cel_err *err);
/* Start `cellar -c CONFIG --batch receive-wal SERVER` for s detached from
 * us (cron's and --detach's receiver; it outlives the caller). *pid gets
 * its PID. keep_descriptors: it writes to our standard output and error
 * rather than /dev/null. */
int op_receive_wal_spawn(const struct op_ctx *ctx, const struct cfg_server *s,
                         bool keep_descriptors, pid_t *pid, struct cel_err *err);

/* switch-wal: pg_switch_wal(), and optionally wait for the segment to be
 * archived. */
struct op_switch_wal_req {
    const char *server;
    bool force;          /* CHECKPOINT first, so there is always WAL to switch */
    bool archive;        /* wait until the segment is archived */
    int archive_timeout; /* seconds; 0: 30 */
};
int op_switch_wal(const struct op_ctx *ctx, const struct op_switch_wal_req *req,
                  struct cel_err *err);

/* cron: the maintenance of every server (today: WAL archiving). */
struct op_cron_req {
    int workers;
    bool dry_run; /* change nothing: report what retention would delete */
    /* the receivers cron starts keep cron's standard output and error
     * (Barman's --keep-descriptors); otherwise /dev/null */
    bool keep_descriptors;
};
int op_cron(const struct op_ctx *ctx, const struct op_cron_req *req, struct cel_err *err);

/* backup: a base backup of a server (or of every server). -1 (or NULL)
 * fields take the server's configuration. */
struct op_backup_req {
    const char *server;
    int immediate_checkpoint; /* -1, 0 or 1 */
    int reuse;                /* -1 or enum cfg_reuse */
    int jobs;                 /* 0: parallel_jobs */
    int retry_times;          /* -1: basebackup_retry_times */
    int retry_sleep;          /* -1: basebackup_retry_sleep */
    const char *name;         /* backup_name */
    bool wait;                /* wait until the WAL is archived and the backup DONE */
    int wait_timeout;         /* seconds; 0: no limit */
};
int op_backup(const struct op_ctx *ctx, const struct op_backup_req *req, struct cel_err *err);

/* delete: remove one backup, and the WAL only it needed. */
struct op_delete_req {
    const char *server;
    const char *backup;
};
int op_delete(const struct op_ctx *ctx, const struct op_delete_req *req, struct cel_err *err);

/* check-backup: is every WAL segment a backup needs archived? Its status
 * moves to DONE, WAITING_FOR_WALS or FAILED as Barman's check-backup moves
 * it (backup/check_backup.c). */
struct op_check_backup_req {
    const char *server;
    const char *backup;
};
int op_check_backup(const struct op_ctx *ctx, const struct op_check_backup_req *req,
                    struct cel_err *err);

/* The processes working on a server, by the locks they hold
 * (server_processes.c): list-processes prints them as Barman 3.14 does;
 * terminate-process sends the holder of TASK's lock SIGINT and waits up to
 * 10 s for it to end. */
int op_list_processes(const struct op_ctx *ctx, const char *server, struct cel_err *err);
int op_terminate_process(const struct op_ctx *ctx, const char *server, const char *task,
                         struct cel_err *err);
/* Stop s's process for task (a lock name: receive-wal, backup, ...) as
 * terminate-process does; *stopped gets its PID (0: none ran). No process
 * is -CEL_E_NOT_FOUND when must_exist, else 0. */
int op_server_task_stop(const struct op_ctx *ctx, const struct cfg_server *s, const char *task,
                        bool must_exist, pid_t *stopped, struct cel_err *err);
/* lock-directory-cleanup: remove the lock files nobody holds from
 * barman_lock_directory (a result when report); *removed counts them. */
int op_lock_directory_cleanup(const struct op_ctx *ctx, bool report, size_t *removed,
                              struct cel_err *err);

/* generate-manifest: a backup_manifest for a complete plain backup that
 * has none (backup/generate_manifest.c). */
struct op_generate_manifest_req {
    const char *server;
    const char *backup;
};
int op_generate_manifest(const struct op_ctx *ctx, const struct op_generate_manifest_req *req,
                         struct cel_err *err);

/* config-switch: make a configuration model a server's active one, or
 * none with reset (config_switch.c). */
struct op_config_switch_req {
    const char *server;
    const char *model; /* NULL with reset */
    bool reset;
};
int op_config_switch(const struct op_ctx *ctx, const struct op_config_switch_req *req,
                     struct cel_err *err);

/* config-update: Barman 3.10's changes of servers' and models' options,
 * written to <barman_home>/.barman.auto.conf through Barman's queue
 * (config_update.c). changes is parsed from the command's JSON by
 * config_update_parse_arg (config_update_json.h). A change that would make
 * the configuration invalid is refused and nothing is written. */
struct cfg_change_list;
struct op_config_update_req {
    const struct cfg_change_list *changes;
};
int op_config_update(const struct op_ctx *ctx, const struct op_config_update_req *req,
                     struct cel_err *err);
/* Apply a queue of changes left behind (by Barman, or a config-update
 * that stopped), as Barman's cron does first; no queue file: nothing to
 * do. Reports through op_log. */
int op_config_queue_process(const struct op_ctx *ctx, struct cel_err *err);

/* keep: Barman's keep annotation of a backup (catalog/keep.c). */
enum op_keep_action { OP_KEEP_ADD, OP_KEEP_RELEASE, OP_KEEP_STATUS };
struct op_keep_req {
    const char *server;
    const char *backup;
    enum op_keep_action action;
    const char *target; /* OP_KEEP_ADD: "full" or "standalone" */
};
int op_keep(const struct op_ctx *ctx, const struct op_keep_req *req, struct cel_err *err);

/* recover: a backup (and the WAL to a target) into a data directory. */
#include "recovery_conf.h"
struct op_recover_req {
    const char *server;
    const char *backup;            /* an ID, shortcut, name, or "auto" */
    const char *dest;              /* the data directory to create */
    const char *remote_ssh_command; /* DEST is on that host; NULL: local */
    struct rc_target target;       /* parsed by rc_target_parse (kind, value, timeline) */
    bool exclusive;
    const char *target_action;     /* NULL, pause, promote, shutdown */
    const char *const *tablespaces; /* "NAME:DIR" relocations */
    size_t n_tablespaces;
    int get_wal;                   /* -1: recovery_options; 0; 1 */
    bool standby_mode;
    int jobs;                      /* 0: parallel_jobs */
    int retry_times;               /* -1: basebackup_retry_times */
    int retry_sleep;               /* -1: basebackup_retry_sleep */
    int bwlimit;                   /* KB/s; 0: bandwidth_limit */
    bool force;                    /* skip the target, WAL and free space checks */
    const char *cellar_path;       /* this program, for restore_command with get-wal */
    const char *staging_wal_dir;   /* --staging-wal-directory: an absolute path on the
                                      destination host where a point-in-time recovery's
                                      WAL is copied (NULL: DEST/barman_wal); it must be
                                      absent or empty, as the end of recovery removes it */
    bool dry_run;                  /* --dry-run: every check of a real recovery (target,
                                      backup status, target against the backup, the WAL
                                      plan, tablespace relocations, the destination and
                                      every tablespace location empty, free space), then
                                      a "recover-plan" result; nothing is written, no hook
                                      runs, incoming/ is not archived */
};
/* Besides the checks above, a real recovery (and --dry-run) refuses, unless
 * --force, a destination whose filesystem (that of DEST's nearest existing
 * ancestor: statvfs locally, `df -Pk` over --remote-ssh-command) has less
 * free space than the backup's size plus the WAL it copies, decompressed
 * (none with get-wal): -CEL_E_CONFLICT with both figures and a hint. When
 * the free space cannot be read, a warning is logged and the recovery goes
 * on.
 *
 * The "recover-plan" result's JSON data:
 *   {"server": S, "backup_id": ID, "backup_reason": why (auto) or null,
 *    "destination": DEST, "remote": SSH or null,
 *    "data_bytes": N, "wal_files": N, "wal_bytes": N, "get_wal": bool,
 *    "free_bytes": N or null (unknown), "needed_bytes": N,
 *    "tablespaces": [{"name":..,"oid":..,"location":..}],
 *    "target": "time"|"xid"|"lsn"|"name"|"immediate"|null, "target_value": ..}
 * data_bytes is the backup's size (tablespaces included), wal_bytes what the
 * WAL copied takes once decompressed, needed_bytes their sum. The text form
 * says the same in a few lines ending "Nothing was written (--dry-run)." */
int op_recover(const struct op_ctx *ctx, const struct op_recover_req *req, struct cel_err *err);

/* Whether a copy recovered locally by this process must be given to
 * PostgreSQL's OS user (postgres) before it starts: its files belong to the
 * user cellar runs as (barman_user, root when barman_user is root), and
 * PostgreSQL refuses a data directory it does not own. When so, that user's
 * name is written into user (size bytes) for the advice recover and the
 * wizard print. */
bool op_recovered_needs_chown(char *user, size_t size);

/* start-recovered: start a recovered data directory (on this host) so the
 * DBA can look at it before relying on it, without exposing it: the server
 * listens on 127.0.0.1 only, on a free port, with its socket in a private
 * directory (mode 0700, /tmp/cellar-check.XXXXXX) whose pg_hba.conf lets the
 * owner in through that socket (trust) and asks for passwords on loopback;
 * archive_mode is off, so the copy never archives, and the log goes to the
 * private directory. Command-line settings are used, so nothing in the data
 * directory changes. As root, the data directory and its tablespaces are
 * given to req->user and the server runs as that user (runuser).
 *
 * It waits until recovery has ended: paused at its target, promoted, or shut
 * down at its target (target_action = shutdown), then runs req->query in a
 * read-only transaction and reports its first rows in a "start-recovered"
 * result:
 *   {"pgdata": D, "state": "paused"|"promoted"|"shutdown", "port": N,
 *    "socket_dir": DIR, "user": U, "database": DB, "replay_lsn": LSN|null,
 *    "last_replay_time": T|null, "seconds": S, "query": Q|null,
 *    "columns": [..], "rows": [[..]], "rows_total": N,
 *    "connect": "psql ...", "stop": "cellar stop-recovered D", "log": PATH,
 *    "stopped": bool}
 * A server that stops before its target fails with the end of its log; one
 * that accepts connections but refuses ours (no such role or database)
 * fails at once with libpq's reason and is stopped; one that has not ended
 * recovery after req->timeout seconds is left running and the op fails
 * with how to look at it. Cancelled (ctx->cancel), it stops the server it
 * started. */
struct op_start_recovered_req {
    const char *pgdata;   /* absolute path of the recovered data directory */
    const char *query;    /* the check query; NULL: the databases and their sizes */
    const char *user;     /* as root: the OS user that runs it; NULL: postgres */
    const char *db_user;  /* the role to connect as; NULL: postgres */
    const char *database; /* NULL: postgres */
    int port;             /* 0: a free one */
    int timeout;          /* seconds to wait for the end of recovery; 0: 600 */
    bool stop;            /* stop the server after the query (a drill) */
};
int op_start_recovered(const struct op_ctx *ctx, const struct op_start_recovered_req *req,
                       struct cel_err *err);
/* The query start-recovered runs when none is given. */
extern const char op_start_recovered_default_query[];

/* stop-recovered: stop a server start-recovered started (a fast shutdown
 * as the data directory's owner) and remove its private socket directory.
 * A "stop-recovered" result: {"pgdata": D, "was_running": bool}. */
int op_stop_recovered(const struct op_ctx *ctx, const char *pgdata, struct cel_err *err);

/* Delete backup i of s's catalogue cat (as `delete` does, with its
 * refusals, hooks and WAL removal); the caller reloads cat afterwards. */
int op_delete_backup(const struct op_ctx *ctx, const struct cfg_server *s,
                     struct op_catalog *cat, size_t i, struct cel_err *err);

/* Retention (catalog/retention_apply.c): delete the backups s's retention_policy marks
 * OBSOLETE, oldest first, each as `delete` would (never below
 * minimum_redundancy, never a running backup), logging each decision.
 * With dry_run nothing is removed and the decisions are reported. */
struct op_retention_summary {
    size_t deleted, would_delete, failed;
    char **ids; /* the backups deleted (or, dry run, to delete) */
    size_t n_ids;
};
int op_enforce_retention(const struct op_ctx *ctx, const struct cfg_server *s, bool dry_run,
                         struct op_retention_summary *sum, struct cel_err *err);
void op_retention_summary_free(struct op_retention_summary *sum);

/* verify-backup: pg_verifybackup on a backup's copy. */
struct op_verify_backup_req {
    const char *server;
    const char *backup;
};
int op_verify_backup(const struct op_ctx *ctx, const struct op_verify_backup_req *req,
                     struct cel_err *err);

/* list-files: the files of a backup. */
enum op_list_files_target {
    OP_FILES_STANDALONE, /* the base backup and the WAL it needs (default) */
    OP_FILES_DATA,       /* the base backup only */
    OP_FILES_WAL,        /* the WAL from its start to the next backup */
    OP_FILES_FULL,       /* the base backup and all the WAL after it */
};
struct op_list_files_req {
    const char *server;
    const char *backup;
    enum op_list_files_target target;
};
int op_list_files(const struct op_ctx *ctx, const struct op_list_files_req *req,
                  struct cel_err *err);

/* check: Barman's checks of a server (or of every server), each failure
 * with its reason and its fix. check.c */
struct op_check_req {
    const char *const *servers; /* names or "all", as Barman accepts several */
    size_t n_servers;
    bool nagios; /* one Nagios plugin report (and exit class) for all of them */
    int timeout_s; /* --check-timeout: seconds for each server's checks; 0: check_timeout */
};
/* Returns 0 when every check of every active server passed; else
 * -CEL_E_CHECK (-CEL_E_CHECK_CRITICAL with nagios, whose line already says
 * everything); an unknown server is -CEL_E_NOT_FOUND (with nagios: a
 * CRITICAL line naming it). */
int op_check(const struct op_ctx *ctx, const struct op_check_req *req, struct cel_err *err);

/* One check's outcome. */
struct op_check_item {
    char *name;   /* Barman's name: "PostgreSQL", "wal_level", "archiver errors" */
    bool ok;
    char *hint;   /* the reason, printed in parentheses; NULL when none */
    char *fix;    /* for a failure: the setting to change or the command to run */
    char *detail; /* lines printed under the check (configuration errors), or NULL */
    bool has_perf;
    uint64_t perf; /* Nagios performance figure in bytes (backup and WAL size) */
};

/* Every check of one server, in Barman's order. */
struct op_check_report {
    const char *server;
    bool active;   /* active = false: failures are shown but do not count */
    bool disabled; /* configuration errors */
    struct op_check_item *items;
    size_t n;
};

struct op_check_opts {
    bool create_dirs; /* create missing directories, as Barman's check does */
    bool connect;     /* ask PostgreSQL and the ssh host (else those checks are left out) */
    int timeout_s;    /* check --check-timeout (Barman 3.15); 0: the server's check_timeout */
};

/* Run the checks of s into *out (free with op_check_report_free). Never
 * fails: what cannot be done is a failed check. Blocks at most about
 * check_timeout seconds (then a failed "check timeout"). */
void op_check_server(const struct op_ctx *ctx, const struct cfg_server *s,
                     const struct op_check_opts *opts, struct op_check_report *out);
void op_check_report_free(struct op_check_report *r);
/* Append a check item named name to rep (reason and fix unset); returns it
 * for the caller to fill. For checks kept beside their op (cloud_copy.c). */
struct op_check_item *op_check_add(struct op_check_report *rep, const char *name, bool ok);
/* Number of failed checks of r. */
size_t op_check_failures(const struct op_check_report *r);
/* Barman's JSON form: {"<mangled name>": {"status": "OK"|"FAILED", "hint":
 * "..."}, ...} with "fix" and "details" added when set. */
json_t *op_check_json(const struct op_check_report *r);
/* Append the Nagios plugin output for the reports of n servers, as Barman's
 * NagiosOutputWriter writes it: "BARMAN OK - Ready to serve the Espresso
 * backup for main|main=...B main_wals=...B", or "BARMAN CRITICAL - server
 * main has issues * main FAILED: <checks>|<perf>" followed by one
 * "main.<check>: FAILED (<hint>)" line per failure. Failures of inactive
 * servers are IGNORING, not CRITICAL. Returns true for CRITICAL. */
bool op_check_nagios(const struct op_check_report *reports, size_t n, struct strbuf *out);
/* The backup maximum age check on a catalogue (oldest first) at time now
 * (seconds since the epoch): the newest WAITING_FOR_WALS or DONE backup
 * must have ended after now - max_seconds (on the local wall clock, as
 * Barman reckons). *hint gets Barman's "interval provided: 1 day, latest
 * backup age: 2 hours" or "No available backups". Returns true when met. */
bool op_check_backup_age(const struct cat_list *list, double now, int64_t max_seconds,
                         struct strbuf *hint);
/* Barman's summary of the files in errors/: "duplicates: 2, unknown: 1"
 * (kinds in the order first seen; cellar's .invalid counts as "invalid"). */
void op_check_errors_summary(const char *const *names, size_t n, struct strbuf *out);

/* ---- planning a recovery (recover_window.c), for the console's wizard ---- */

/* The recoverable window of a server: from the begin of its oldest DONE
 * backup to the archive time of its newest archived WAL segment, with every
 * backup of the catalogue. Reads the catalogue and xlog.db only (no
 * PostgreSQL, no ssh): fast enough to call from the console's loop for one
 * server. */
struct op_window {
    struct op_catalog cat; /* the server's backups (oldest first) and xlog.db (loaded) */
    int oldest_done;       /* index in cat.list of the oldest DONE backup, -1: none */
    int newest_done;       /* index of the newest DONE backup, -1: none */
    double begin;          /* epoch seconds: begin_time of the oldest DONE backup; 0: none */
    double end;            /* epoch seconds: archive time (xlog.db) of the newest WAL
                              segment; 0: none archived */
    char last_wal[WAL_NAME_MAX]; /* that segment's name, "" when none */
    uint64_t end_lsn;      /* the LSN where that segment ends (start of the next one) */
    char **restore_points; /* names a recovery can target that the catalogue knows of:
                              "barman_<ID>" of each DONE backup (cellar's backup creates
                              it, as Barman does), oldest first */
    size_t n_restore_points;
    uint64_t segsize;      /* the WAL segment size used: the newest backup's that records
                              a valid one, else 16 MiB */
    struct widx points;    /* the archive's recovery-target index as saved (walidx.h), for
                              the segments xlog.db lists; empty when there is none or it
                              cannot be read (never built here: that can take long) */
    size_t points_unread;  /* segments xlog.db lists that the index has not read: 0 means
                              points holds every restore point of the archive */
};
/* Load s's window into *w (free with op_window_free, also after a failure).
 * restore_points lists the barman_<ID> points of the DONE backups, then
 * the other names the index holds, in WAL order.
 * "Newest segment" is the last segment (not history, .backup or .partial
 * file) in xlog.db's name order: the highest timeline's last one. Errors
 * are op_catalog_load's (an unreadable base/ or xlog.db, or its lock).
 * Blocks only on the xlogdb lock. */
int op_window_load(const struct op_ctx *ctx, const struct cfg_server *s, struct op_window *w,
                   struct cel_err *err);
void op_window_free(struct op_window *w);
/* The window as the data of a "recover-window" result (recover --window
 * SERVER), for a front end that must not read the catalogue itself (the
 * console's wizard on a bucket server, whose store may not answer):
 *   {"server": S,
 *    "backups": [{"backup_id": ID, "backup_info": TEXT}, ...]   oldest first,
 *                (an unreadable one: {"backup_id": ID, "error": MESSAGE}),
 *    "end": EPOCH (0: none), "last_wal": NAME|null, "end_lsn": "X/X"|null,
 *    "points_unread": N, "targets_index": TEXT}
 * TEXT is backup.info as cat_info_format writes it, and the recovery-target
 * index as widx_format writes its file. New reference. */
json_t *op_window_json(const struct op_window *w, const char *server);
/* That data parsed into *w (free with op_window_free, also after a
 * failure): each backup.info by cat_info_parse, the index by widx_parse;
 * oldest_done, newest_done, begin, segsize, restore_points and end_lsn
 * derived as op_window_load derives them ("server" and "end_lsn" are for
 * readers). xlog.db does not travel: w->cat.xdb stays empty. -CEL_E_FORMAT
 * naming what is wrong: a missing or mistyped field, a backup ID that is no
 * path component or not after the one before, a backup.info or index that
 * does not parse, a last_wal that is no segment of the catalogue's size,
 * end or points_unread out of range. */
int op_window_from_json(const json_t *data, struct op_window *w, struct cel_err *err);
/* recover --window SERVER: s's window (op_window_load) reported as a
 * "recover-window" result. Blocks as op_window_load does (on the store for
 * a bucket server). */
int op_recover_window(const struct op_ctx *ctx, const char *server, struct cel_err *err);

/* The NextXIDs of a catalogue's backups, each looked up once (a
 * pg_controldata run), for picking a backup for a target XID. */
struct op_xids {
    const struct cfg_server *s;
    const struct cat_list *list;
    uint64_t *next; /* per index in list: 0 not looked up yet, UINT64_MAX unknown */
};
void op_xids_init(struct op_xids *x, const struct cfg_server *s, const struct cat_list *list);
void op_xids_free(struct op_xids *x);
/* Backup i's NextXID, looked up now if needed; 0 when it cannot be told. */
uint64_t op_xids_next(struct op_xids *x, size_t i);
/* Whether backup i's NextXID has been looked up and is known. */
bool op_xids_known(const struct op_xids *x, size_t i);

/* The backup `recover SERVER auto DEST` recovers for a target: the newest
 * DONE backup that ended before the target time / LSN; for a target XID,
 * with xids, the newest DONE backup that started before the transaction was
 * assigned (found by bisection, as NextXID grows with the backups: a few
 * pg_controldata runs, remembered in xids; a backup whose NextXID is unknown
 * counts as fitting), and -CEL_E_NOT_FOUND when even the oldest started
 * after it; for --target-name with points (the archive's index), the
 * newest DONE backup that ended (end_xlog) before the restore point's LSN
 * (its last occurrence), and -CEL_E_INVALID as op_restore_point_find when
 * the archive holds no such restore point; for --target-name without
 * points, barman_<ID> of a DONE backup, that backup (the restore point was
 * created as it ended, so a newer backup starts past it and could never
 * reach it); for the other kinds (xid, another name, immediate, none) the newest DONE
 * backup (also for an XID without xids). Unreadable backups are skipped.
 * Returns the index in list and
 * appends to why (when not NULL) the reason in one sentence, without a
 * period ("the newest DONE backup that ended before 2026-11-24 10:00:00+00
 * (it ended at 2026-11-24 09:12:03+00:00)"), or returns -CEL_E_NOT_FOUND
 * with err set ("server S has no DONE backup that ended before VALUE",
 * VALUE "now" without a target). recover.c's auto uses this very
 * function. */
int op_recover_pick(const struct cat_list *list, const struct rc_target *t, const char *server,
                    struct op_xids *xids, const struct widx *points, struct strbuf *why,
                    struct cel_err *err);

/* Can backup i of list reach target t? A recovery cannot stop before the
 * copy is consistent, at the backup's end: t's time or LSN, or the restore
 * point rp (t's name as the archive's index places it; NULL when not
 * known) must not be before the backup's end (end_time, end_xlog; a backup
 * that records none cannot be vouched for); a backup newer than backup X
 * never reaches restore point barman_X (made as X ended); and with xids, a
 * target XID must not have been assigned before the backup started (its
 * NextXID; an unknown one fits). Returns 0, or -CEL_E_INVALID with the
 * reason, naming the option, the value, the backup and its end, and a hint
 * (err may be NULL). The command line, `auto`, --dry-run and the wizard all
 * ask this, so they say the same. */
int op_target_fits(const struct cat_list *list, size_t i, const struct rc_target *t,
                   struct op_xids *xids, const struct widx_point *rp, struct cel_err *err);

/* The restore point called name in idx: its last occurrence in the WAL
 * (PostgreSQL allows a name twice), in *out. -CEL_E_INVALID when the
 * archived WAL holds no restore point of that name, the message naming the
 * server and the names that exist (at most 10, newest last, or "it holds
 * none"). */
int op_restore_point_find(const struct widx *idx, const char *name, const char *server,
                          const struct widx_point **out, struct cel_err *err);

/* ---- cloud: the backups in a bucket, barman-cloud 3.4's commands ---- */

/* Every request starts with the store (URL, SERVER_NAME, store options);
 * test: only check that the bucket answers (barman-cloud's -t). */
struct op_cloud_store {
    struct cloud_target_opts target;
    bool test;
};


/* cloud-wal-archive: one WAL file into the bucket, for archive_command
 * (cloud_wal_archive.c). */
struct op_cloud_wal_archive_req {
    struct op_cloud_store store;
    const char *wal_path;  /* %p */
    enum cloud_comp comp;  /* NONE, GZIP, BZIP2, ZSTD or LZ4 */
};
int op_cloud_wal_archive(const struct op_ctx *ctx, const struct op_cloud_wal_archive_req *req,
                         struct cel_err *err);

/* cloud-wal-restore: one WAL file from the bucket, for restore_command
 * (cloud_wal_restore.c). A WAL that is not there is -CEL_E_NOT_FOUND. */
struct op_cloud_wal_restore_req {
    struct op_cloud_store store;
    const char *wal_name; /* %f */
    const char *dest;     /* %p */
    int parallel;         /* 1 or less: no fetching ahead */
    const char *spool_dir; /* NULL: /var/tmp/walrestore, barman-wal-restore's */
};
int op_cloud_wal_restore(const struct op_ctx *ctx, const struct op_cloud_wal_restore_req *req,
                         struct cel_err *err);

/* cloud-check-wal-archive: is the bucket free for this server's WAL
 * (cloud_check_wal_archive.c)? -CEL_E_CONFLICT when not. */
struct op_cloud_check_wal_archive_req {
    struct op_cloud_store store;
    uint32_t timeline; /* 0: the server must have no WAL at all */
};
int op_cloud_check_wal_archive(const struct op_ctx *ctx,
                               const struct op_cloud_check_wal_archive_req *req,
                               struct cel_err *err);

/* cloud-backup-list: barman-cloud-backup-list's table of the DONE backups,
 * or with json its {"backups_list": [...]} of every readable backup. */
struct op_cloud_list_req {
    struct op_cloud_store store;
    bool json;
};
int op_cloud_backup_list(const struct op_ctx *ctx, const struct op_cloud_list_req *req,
                         struct cel_err *err);

/* cloud-backup-show: one backup as barman-cloud-backup-show prints it. */
struct op_cloud_show_req {
    struct op_cloud_store store;
    const char *backup; /* an ID, latest/oldest or a backup name */
    bool json;
};
int op_cloud_backup_show(const struct op_ctx *ctx, const struct op_cloud_show_req *req,
                         struct cel_err *err);

/* cloud-restore: the tar objects of a backup streamed into dest (and the
 * tablespaces to their locations), as barman-cloud-restore leaves them. */
struct op_cloud_restore_req {
    struct op_cloud_store store;
    const char *backup;
    const char *dest;
    const char *const *tablespaces; /* "NAME:LOCATION" rules */
    size_t n_tablespaces;
    int parallel; /* tar objects fetched at once; 0: one per CPU */
};
int op_cloud_restore(const struct op_ctx *ctx, const struct op_cloud_restore_req *req,
                     struct cel_err *err);

/* cloud-backup-delete: one backup (backup) or every backup a retention
 * policy (policy) makes OBSOLETE, with the WAL no remaining backup needs,
 * by barman-cloud-backup-delete's rules. */
struct op_cloud_delete_req {
    struct op_cloud_store store;
    const char *backup;       /* -b; NULL with policy */
    const char *policy;       /* -r; NULL with backup */
    unsigned min_redundancy;  /* -m */
    bool dry_run;
};
int op_cloud_backup_delete(const struct op_ctx *ctx, const struct op_cloud_delete_req *req,
                           struct cel_err *err);

/* cloud-backup-keep: add (target "full" or "standalone"), release or show
 * the keep annotation of a backup. */
enum op_cloud_keep_action { OP_CLOUD_KEEP_ADD, OP_CLOUD_KEEP_RELEASE, OP_CLOUD_KEEP_STATUS };
struct op_cloud_keep_req {
    struct op_cloud_store store;
    const char *backup;
    enum op_cloud_keep_action action;
    const char *target; /* ADD: "full" or "standalone" */
};
int op_cloud_backup_keep(const struct op_ctx *ctx, const struct op_cloud_keep_req *req,
                         struct cel_err *err);

/* cloud-upload (cloud/cloud_copy.c): a configured server's copy in its
 * cloud_destination, in barman-cloud 3.4's layout: the archived WAL and the
 * DONE backups the bucket lacks, then the server's retention_policy applied
 * there; cron runs it for every server with cloud_destination. */
struct op_cloud_upload_req {
    const char *server; /* a name or "all" (the servers with cloud_destination) */
    bool dry_run;       /* count what waits, upload and delete nothing */
};
int op_cloud_upload(const struct op_ctx *ctx, const struct op_cloud_upload_req *req,
                    struct cel_err *err);
/* What one server's run did (or, dry, would do). */
struct op_cloud_upload_summary {
    const char *server, *destination;
    bool dry_run, skipped_locked, failed;
    size_t wals, backups, deleted;          /* uploaded (deleted: by retention) */
    size_t wals_waiting, backups_waiting;   /* left to upload */
    uint64_t bytes;                         /* sent */
};
/* One server (cron's step). A failure is returned with err and counted in
 * *summary; the state file records it for check and show-server. */
int op_cloud_upload_server(const struct op_ctx *ctx, const struct cfg_server *s, bool dry_run,
                           struct op_cloud_upload_summary *summary, struct cel_err *err);
/* "uploaded 3 WAL files and 1 backup to s3://b/p" (no server name, no
 * newline), and the JSON form. */
void op_cloud_upload_summary_text(const struct op_cloud_upload_summary *s, struct strbuf *out);
json_t *op_cloud_upload_summary_json(const struct op_cloud_upload_summary *s);
/* check's items for a server with cloud_destination ("cloud destination":
 * the bucket answers these credentials; "cloud upload age" with
 * cloud_last_upload_maximum_age), appended to rep; nothing without it. */
struct op_check_report;
void op_cloud_copy_check(const struct op_ctx *ctx, const struct cfg_server *s,
                         struct op_check_report *rep);
/* The state of s's copy as list-server's JSON gives it (cloud_copy.c),
 * from the state file only (no request, no catalogue read, so the console
 * can ask every few seconds): {"destination", "wal_upto", "last_upload",
 * "last_attempt" (epochs, null: never), "last_error"}; NULL without
 * cloud_destination. A new reference. */
json_t *op_cloud_copy_json(const struct cfg_server *s);
/* show-server's cloud_upload_* lines (the state of the copy), through add. */
void op_cloud_copy_show(const struct op_ctx *ctx, const struct cfg_server *s,
                        void (*add)(void *m, const char *key, const char *value), void *m);

/* cloud-backup (cloud_backup.c): a base backup of the PostgreSQL server
 * conninfo reaches, read from its PGDATA and tablespaces on this host and
 * streamed as tar archives into the store, in barman-cloud 3.4's layout;
 * backup.info (DONE, or FAILED with the error) is written last. With
 * store.test, only checks that the store answers. Blocks; ctx->cancel stops it (the
 * backup is then FAILED). */
struct op_cloud_backup_req {
    struct op_cloud_store store;
    const char *conninfo;      /* libpq's; NULL or "": its defaults */
    enum cloud_comp comp;      /* none, gzip or bzip2 */
    bool immediate_checkpoint;
    int jobs;                  /* parts uploaded at once; 0: 2 */
    uint64_t max_archive_size; /* split archives past this; 0: 100 GiB */
    const char *name;          /* backup_name, NULL: none */
};
int op_cloud_backup(const struct op_ctx *ctx, const struct op_cloud_backup_req *req,
                    struct cel_err *err);

#endif
