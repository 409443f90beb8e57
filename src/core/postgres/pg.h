/*
 * pg.h - talking to PostgreSQL through libpq.
 *
 * A thin layer: connect with a time-out and cellar's application_name, run
 * a query that returns one value or one row, and collect the server status
 * that show-server, diagnose and check report. Every failure is a
 * -CEL_E_PG error carrying libpq's message; passwords never appear in it.
 */
#ifndef CEL_PG_H
#define CEL_PG_H

#include "error.h"

struct pg_conn;

/* Connect using conninfo (key=value or URI). timeout_s 0: 10 s. */
int pg_connect(const char *conninfo, int timeout_s, struct pg_conn **out, struct cel_err *err);
/* Connect for the replication protocol (replication=true added after the
 * conninfo): the walsender's commands only (IDENTIFY_SYSTEM,
 * CREATE_REPLICATION_SLOT ...), through pg_exec, pg_query_value and
 * pg_query without parameters. */
int pg_connect_replication(const char *conninfo, int timeout_s, struct pg_conn **out,
                           struct cel_err *err);
void pg_close(struct pg_conn *c);
/* The SQLSTATE of the last statement on c that failed ("" when unknown):
 * "42710" duplicate object, "42704" undefined object, "55006" object in
 * use, "53400" configuration limit exceeded. */
const char *pg_last_sqlstate(const struct pg_conn *c);
/* conninfo (key=value or URI) as a key=value string with key=value added
 * when conninfo does not set key already (e.g. application_name, as Barman
 * adds it). With password not NULL, a password is taken out of the string
 * into *password (NULL when there is none), so that a child program gets it
 * in its environment (PGPASSWORD), not in its command line, which every
 * user can read. NULL when conninfo cannot be parsed. Caller frees both. */
char *pg_conninfo_with(const char *conninfo, const char *key, const char *value,
                       char **password);
/* The conninfo of barman-cloud's -h/--host, -p/--port, -U/--user and
 * -d/--dbname (each may be NULL), built as its build_conninfo does: a
 * dbname that is "" or holds '=' is a whole conninfo and is returned as
 * is; otherwise "host=H port=P user=U dbname=D" for those given, a value
 * with a blank quoted ('...' with \ and ' escaped), an empty one as ''.
 * Caller frees. */
char *pg_conninfo_build(const char *host, const char *port, const char *user, const char *dbname);
/* Whether the server at conninfo accepts connections (libpq's PQping says
 * OK): it runs and is past start-up, so a connection it refuses is refused
 * for good (a role or database that does not exist, a password), not
 * because it is not ready yet. Blocks up to timeout_s (0: 10 s). */
bool pg_accepting(const char *conninfo, int timeout_s);
/* Open a replication connection (replication=true, as pg_basebackup and
 * pg_receivewal open theirs) with conninfo and run IDENTIFY_SYSTEM: 0 and
 * *systemid (caller frees; may be NULL) when the server accepts it. A
 * refusal is -CEL_E_PG with the server's words ("must be superuser or
 * replication role to start walsender", "number of requested standby
 * connections exceeds max_wal_senders", "no pg_hba.conf entry for
 * replication connection"). Blocks up to timeout_s (0: 10 s). */
int pg_replication_identify(const char *conninfo, int timeout_s, char **systemid,
                            struct cel_err *err);
/* server_version_num of the connected server. */
int pg_server_version(const struct pg_conn *c);

/* Run sql, which returns at most one row and one column; *out is a new
 * string (NULL for SQL NULL or no row), freed by the caller. */
int pg_query_value(struct pg_conn *c, const char *sql, char **out, struct cel_err *err);

/* Run a statement that returns no rows (CHECKPOINT, SET ...). */
int pg_exec(struct pg_conn *c, const char *sql, struct cel_err *err);

/* The rows of a query: values[row * ncols + col], NULL for SQL NULL. */
struct pg_rows {
    size_t nrows, ncols;
    char **names;  /* column names */
    char **values;
};
/* Run sql with text parameters $1..$n (params may hold NULL for SQL NULL)
 * and keep every row. Free with pg_rows_free(). */
int pg_query(struct pg_conn *c, const char *sql, const char *const params[], size_t nparams,
             struct pg_rows *out, struct cel_err *err);
/* The value of column name in row (NULL for SQL NULL or no such column). */
const char *pg_rows_get(const struct pg_rows *r, size_t row, const char *name);
void pg_rows_free(struct pg_rows *r);

/* A name/value pair of the server's status; value NULL means unknown. */
struct pg_kv {
    char *key;
    char *value;
};
struct pg_status {
    struct pg_kv *items; /* sorted by key */
    size_t n;
};

/* Collect the status Barman's show-server reports (settings such as
 * archive_command and wal_level, pg_stat_archiver counters, system id,
 * current LSN and WAL file, superuser, recovery state, versions). Works on
 * PostgreSQL 10 and later; keys a server cannot answer are left out.
 * Booleans read "True"/"False", as Barman prints them; among them
 * has_backup_privileges (a superuser, or a role with pg_monitor and the
 * backup, WAL switch and restore point functions) and is_archiving
 * (archive_mode on and pg_stat_archiver showing no failure since the last
 * success), both computed as Barman 3.4 does. */
int pg_get_status(struct pg_conn *c, struct pg_status *out, struct cel_err *err);
const char *pg_status_get(const struct pg_status *st, const char *key);
void pg_status_free(struct pg_status *st);

#endif
