/*
 * model.h - what the console shows, loaded through the ops (no curses).
 *
 * The model is the console's copy of the servers and their backups. It is
 * filled by calling the same ops the batch front end runs (list-server,
 * list-backup, show-backup) with a sink that keeps each result's JSON
 * rendering, so the console shows exactly what `cellar -f json` prints.
 * Reading the catalogue is fast and local (no PostgreSQL connection); work
 * that may take long (check, backup, delete) runs in child processes (see
 * job.h) and only updates the model through tui_model_apply_check and
 * tui_model_reload_server.
 *
 * Drawing code reads the model and never changes it.
 */
#ifndef CEL_TUI_MODEL_H
#define CEL_TUI_MODEL_H

#include <jansson.h>

#include "ops/ops.h"

enum tui_health {
    TUI_HEALTH_UNKNOWN, /* no check has finished yet */
    TUI_HEALTH_OK,      /* every check passed */
    TUI_HEALTH_FAILED,  /* at least one check failed */
};

/* One row of list-backup (strings owned by the model). */
struct tui_backup {
    char *id;
    char *name;      /* backup_name, NULL when none */
    char *status;    /* DONE, FAILED, STARTED, WAITING_FOR_WALS ... */
    char *retention; /* VALID, OBSOLETE, KEEP:FULL ..., NULL when none */
    char *keep;      /* the keep target ("full", "standalone"), NULL when not kept */
    char *encryption; /* "gpg" for an encrypted backup (backup.info), NULL when not */
    int64_t end_ts;  /* end time (seconds since the epoch), 0 when unknown */
    bool has_size;
    uint64_t size, wal_size;
    bool has_dedup;      /* backup.info has deduplicated_size */
    uint64_t dedup_size; /* the space it takes: less than size when it hard-linked
                            files of the previous backup (reuse_backup = link) */
};

struct tui_server {
    char *name;
    char *description; /* NULL when none */
    bool active, disabled;
    int64_t max_age;            /* last_backup_maximum_age in seconds, 0: not set */
    struct tui_backup *backups; /* newest first, as list-backup gives them */
    size_t n_backups;
    char *load_error; /* why the backups could not be listed, NULL when they could */
    char *bucket;     /* a bucket server's cloud_source (s3://...), NULL for the others:
                         its backups are listed by a child job (the console's), never here */
    bool loading;     /* a bucket server whose listing is wanted or under way */
    unsigned load_gen, load_started; /* listings asked for; load_gen when the
                                        running one started: a listing that
                                        started before the last ask is not the
                                        last word */
    enum tui_health health;
    size_t checks_failed;
    char *health_text; /* the first failed check and its hint, NULL when none */
    /* the WAL archive, from list-server's wal_archive (archive_state.c) */
    int64_t wal_max_age;       /* last_wal_maximum_age in seconds, 0: not set */
    bool wal_known;            /* list-server reported it (not for a disabled server) */
    double wal_last_time;      /* time of the newest archived file, 0: nothing archived */
    size_t wal_waiting;        /* files waiting in incoming/ (and streaming/) */
    double wal_oldest_waiting; /* mtime of the oldest of them, 0 when none */
    char *wal_error;           /* why it could not be read, NULL when it could */
    bool streaming;            /* streaming_archiver = on: WAL comes from receive-wal */
    long receiver_pid;         /* the running receive-wal's PID, 0 when none runs */
    /* the receiver's lag behind the server, from replication-status
     * (pg_stat_replication): known only while it streams */
    bool stream_lag_known;
    double stream_lag_bytes, stream_lag_seconds;
    /* its copy in cloud_destination, from list-server's cloud_copy */
    bool cloud_copy;          /* the server has a cloud_destination */
    double cloud_last_upload; /* end of the last upload run that succeeded, 0: never */
    char *cloud_error;        /* the last run's error, NULL when it succeeded */
};

struct tui_model {
    const struct cfg *cfg; /* borrowed */
    struct tui_server *servers;
    size_t n_servers;
};

/* Take list-backup's JSON data ({"backups": [...]}) as server i's backups;
 * data NULL or not a listing: error (NULL: "list-backup gave no result")
 * becomes its load_error. Server i stays loading only when a listing was
 * asked for after the one that gave this started (load_started). */
void tui_model_take_backups(struct tui_model *m, size_t i, const json_t *data, const char *error);

/* The WAL lag flags (tui_server_wal_lag): files waiting in incoming/ for
 * longer than TUI_WAL_WAIT_WARN seconds mean the archiver (cron) is not
 * running; nothing archived for longer than last_wal_maximum_age, or
 * TUI_WAL_QUIET_WARN seconds when it is not set, means PostgreSQL is not
 * archiving (an hour: archive_timeout is rarely set higher on a server
 * whose backups matter, and cron runs the archiver every minute). */
#define TUI_WAL_WAIT_WARN 300
#define TUI_WAL_QUIET_WARN 3600

/* Load every configured server and its backups from cfg (which must
 * outlive the model); a bucket server's are left loading. A server whose
 * backups cannot be listed keeps its load_error; only a failing
 * list-server fails the load. Free with tui_model_free (also after a
 * failure). */
int tui_model_load(struct tui_model *m, const struct cfg *cfg, struct cel_err *err);
/* List server i's backups again (after a backup or delete). A bucket
 * server's are not listed here (that would wait on its object store): it
 * is only marked loading, for the console's child list-backup job. */
int tui_model_reload_server(struct tui_model *m, size_t i, struct cel_err *err);
/* Run list-server again for every server's WAL archive state (cheap: the
 * tail of each xlog.db and a listing of incoming/; blocks while an archiver
 * holds a server's xlogdb lock). */
int tui_model_reload_archive(struct tui_model *m, struct cel_err *err);
void tui_model_free(struct tui_model *m);

/* Index of the server called name, -1 when there is none. */
ssize_t tui_model_find(const struct tui_model *m, const char *name);

/* Run show-backup for backup id of server i, reading the catalogue only (no
 * PostgreSQL; the model does not change): *data gets its JSON data (a new
 * reference the caller decrefs) and *text what `cellar show-backup SERVER
 * ID` prints (sizes humanised, times, the WAL range; allocated), either
 * pointer NULL when not wanted. 0, or <0 with err set and both set to NULL. */
int tui_model_show_backup(const struct tui_model *m, size_t i, const char *id, json_t **data,
                          char **text, struct cel_err *err);

/* Take a streaming server's receiver lag from the data of a
 * replication-status result ({"server": NAME, "clients": [...]}): the
 * client whose application_name is the server's streaming_archiver_name
 * (cellar's and Barman's receiver). No such client: the lag is unknown. */
void tui_model_apply_replication(struct tui_model *m, const json_t *data);
/* Forget every streaming lag of server i (its replication-status failed). */
void tui_model_forget_replication(struct tui_model *m, size_t i);

/* Take the health marks from the data of a check result ({"server":
 * {"check": {"status": "OK"|"FAILED", "hint": ...}}}); servers it does not
 * name keep their mark. */
void tui_model_apply_check(struct tui_model *m, json_t *data);

/* End time of the server's newest DONE or WAITING_FOR_WALS backup, 0 when
 * there is none. */
int64_t tui_server_last_backup(const struct tui_server *s);
/* True when the last backup is older than last_backup_maximum_age at now
 * (or there is none and an age is set). */
bool tui_server_backup_too_old(const struct tui_server *s, int64_t now);

/* The servers pane's WAL cell of s at now (seconds since the epoch)
 * appended to out: the age of the newest archived file ("2m", "none" when
 * nothing is archived, "?" when it cannot be read), then " +N waiting"
 * when files wait. Returns true when it deserves a warning (see
 * TUI_WAL_WAIT_WARN); never for an inactive server. */
bool tui_server_wal_lag(const struct tui_server *s, double now, struct strbuf *out);

/* Append a short age ("45s", "12m", "3h 20m", "2d 4h") to out. */
void tui_fmt_age(int64_t seconds, struct strbuf *out);

#endif
