/*
 * backup_pg.c - what `cellar backup` asks PostgreSQL: the server's layout
 * before the copy, and the start and stop of a non-exclusive backup.
 *
 * The non-exclusive API ties the backup to the session that started it:
 * the connection stays open for the whole copy, and if cellar dies the
 * server ends the backup by itself. PostgreSQL 15 renamed the functions
 * (pg_backup_start/pg_backup_stop) and dropped exclusive backups; 9.6 to 14
 * have pg_start_backup(label, fast, exclusive => false) and
 * pg_stop_backup(exclusive => false). Both stop functions return the LSN,
 * the backup_label text and the tablespace map.
 *
 * Times are read with to_char so the session's DateStyle cannot change
 * their format; WAL names and offsets are computed here from the LSN, the
 * timeline and the segment size, as Barman does, so they also work where
 * pg_walfile_name cannot be called (a standby).
 */
#include <stdlib.h>

#include "backup_int.h"
#include "wal.h"

#define TIME_SQL "to_char(now(), 'YYYY-MM-DD HH24:MI:SS.USOF')"

int bk_server_info(struct pg_conn *c, struct bk_server_info *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    out->version = pg_server_version(c);
    if (out->version < 90600)
        return cel_err_set(err, CEL_E_PG, "PostgreSQL %d.%d is too old: cellar backs up 9.6 "
                                          "and later (the non-exclusive backup API)",
                           out->version / 10000, out->version / 100 % 100);
    if (out->version >= 100000)
        snprintf(out->major, sizeof out->major, "%d", out->version / 10000);
    else
        snprintf(out->major, sizeof out->major, "%d.%d", out->version / 10000,
                 out->version / 100 % 100);
    struct pg_rows r;
    int rc = pg_query(c,
                      "SELECT current_setting('data_directory') AS pgdata, "
                      "current_setting('config_file') AS config_file, "
                      "current_setting('hba_file') AS hba_file, "
                      "current_setting('ident_file') AS ident_file, "
                      "(SELECT system_identifier::text FROM pg_control_system()) AS systemid, "
                      "(SELECT bytes_per_wal_segment::text FROM pg_control_init()) AS segsize, "
                      "pg_is_in_recovery()::text AS in_recovery",
                      NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    out->pgdata = cel_xstrdup(pg_rows_get(&r, 0, "pgdata") ? pg_rows_get(&r, 0, "pgdata") : "");
    const char *v;
    if ((v = pg_rows_get(&r, 0, "config_file")))
        out->config_file = cel_xstrdup(v);
    if ((v = pg_rows_get(&r, 0, "hba_file")))
        out->hba_file = cel_xstrdup(v);
    if ((v = pg_rows_get(&r, 0, "ident_file")))
        out->ident_file = cel_xstrdup(v);
    if ((v = pg_rows_get(&r, 0, "systemid")))
        out->systemid = cel_xstrdup(v);
    v = pg_rows_get(&r, 0, "segsize");
    out->segsize = v ? strtoull(v, NULL, 10) : 0;
    v = pg_rows_get(&r, 0, "in_recovery");
    out->in_recovery = v && strcmp(v, "true") == 0;
    pg_rows_free(&r);
    if (!out->pgdata[0] || out->pgdata[0] != '/')
        return cel_err_set(err, CEL_E_PG, "cannot read data_directory: the backup needs a "
                                          "superuser or a member of pg_read_all_settings");
    rc = wal_segsize_check(out->segsize, err);
    if (rc < 0)
        return rc;

    rc = pg_query(c,
                  "SELECT spcname, oid::text AS oid, pg_tablespace_location(oid) AS location "
                  "FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global') "
                  "ORDER BY oid",
                  NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    out->tbs = cel_xcalloc(r.nrows ? r.nrows : 1, sizeof *out->tbs);
    for (size_t i = 0; i < r.nrows; i++) {
        const char *loc = pg_rows_get(&r, i, "location");
        struct cat_tablespace *t = &out->tbs[out->n_tbs++];
        t->name = cel_xstrdup(pg_rows_get(&r, i, "spcname"));
        t->oid = strtoll(pg_rows_get(&r, i, "oid"), NULL, 10);
        t->location = cel_xstrdup(loc ? loc : "");
    }
    pg_rows_free(&r);

    /* configuration files brought in by include directives (Barman's
     * included_files); postgresql.auto.conf is part of PGDATA */
    rc = pg_query(c,
                  "SELECT DISTINCT sourcefile FROM pg_settings WHERE sourcefile IS NOT NULL "
                  "AND sourcefile <> current_setting('config_file') "
                  "AND sourcefile <> current_setting('data_directory') || "
                  "'/postgresql.auto.conf' ORDER BY 1",
                  NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    if (r.nrows) {
        out->included_files = py_new_list();
        for (size_t i = 0; i < r.nrows; i++)
            py_append(out->included_files, py_new_str(pg_rows_get(&r, i, "sourcefile")));
    }
    pg_rows_free(&r);
    return 0;
}

void bk_describe_server(const struct bk_server_info *info, struct cat_backup *b)
{
    b->pgdata = cel_xstrdup(info->pgdata);
    if (info->config_file)
        b->config_file = cel_xstrdup(info->config_file);
    if (info->hba_file)
        b->hba_file = cel_xstrdup(info->hba_file);
    if (info->ident_file)
        b->ident_file = cel_xstrdup(info->ident_file);
    b->version.set = true;
    b->version.v = info->version;
    if (info->n_tbs) {
        b->tablespaces = cel_xcalloc(info->n_tbs, sizeof *b->tablespaces);
        for (size_t i = 0; i < info->n_tbs; i++) {
            b->tablespaces[i].name = cel_xstrdup(info->tbs[i].name);
            b->tablespaces[i].oid = info->tbs[i].oid;
            b->tablespaces[i].location = cel_xstrdup(info->tbs[i].location);
        }
        b->n_tablespaces = info->n_tbs;
    }
}

void bk_server_info_free(struct bk_server_info *info)
{
    free(info->pgdata);
    free(info->config_file);
    free(info->hba_file);
    free(info->ident_file);
    free(info->systemid);
    py_free(info->included_files);
    for (size_t i = 0; i < info->n_tbs; i++) {
        free(info->tbs[i].name);
        free(info->tbs[i].location);
    }
    free(info->tbs);
    memset(info, 0, sizeof *info);
}

/* Fill the LSN-derived fields of one end of the backup. */
static int set_position(const char *lsn_text, uint32_t tli, uint64_t segsize, char **xlog,
                        char **wal, struct cat_int *offset, struct cel_err *err)
{
    uint64_t lsn;
    int rc = wal_lsn_parse(lsn_text ? lsn_text : "", &lsn, err);
    if (rc < 0)
        return rc;
    char name[WAL_NAME_MAX];
    wal_segment_name(tli, wal_lsn_to_segno(lsn, segsize), segsize, name);
    char text[WAL_LSN_MAX];
    wal_lsn_format(lsn, text);
    free(*xlog);
    free(*wal);
    *xlog = cel_xstrdup(text);
    *wal = cel_xstrdup(name);
    offset->set = true;
    offset->v = (int64_t)wal_lsn_offset(lsn, segsize);
    return 0;
}

/* The timeline the server is writing (or, on a standby, replaying). */
static const char TIMELINE_SQL[] =
    "(SELECT CASE WHEN pg_is_in_recovery() THEN min_recovery_end_timeline "
    "ELSE timeline_id END FROM pg_control_checkpoint(), pg_control_recovery())::text";

/* The start of b from the server's answers: the timeline (1 when it gave
 * none), the begin LSN with its WAL file and offset, the begin time. */
static int set_begin(struct cat_backup *b, const char *lsn, const char *tl, const char *time,
                     uint64_t segsize, struct cel_err *err)
{
    b->timeline.set = true;
    b->timeline.v = tl ? strtoll(tl, NULL, 10) : 1;
    int rc = set_position(lsn, (uint32_t)b->timeline.v, segsize, &b->begin_xlog, &b->begin_wal,
                          &b->begin_offset, err);
    if (rc == 0) {
        b->begin_time.set = ts_parse(time, &b->begin_time.t, err) == 0;
        if (!b->begin_time.set)
            rc = -CEL_E_PG;
    }
    return rc;
}

/* The end of b, the twin of set_begin: the stop's timeline (the begin's
 * when it gave none; into *tli when asked), the end LSN with its WAL file
 * and offset, the end time. */
static int set_end(struct cat_backup *b, const char *lsn, const char *tl, const char *time,
                   uint64_t segsize, uint32_t *tli, struct cel_err *err)
{
    uint32_t t = tl ? (uint32_t)strtoul(tl, NULL, 10) : (uint32_t)b->timeline.v;
    if (tli)
        *tli = t;
    int rc = set_position(lsn, t, segsize, &b->end_xlog, &b->end_wal, &b->end_offset, err);
    if (rc == 0) {
        b->end_time.set = ts_parse(time, &b->end_time.t, err) == 0;
        if (!b->end_time.set)
            rc = -CEL_E_PG;
    }
    return rc;
}

int bk_start(struct pg_conn *c, const char *label, bool fast, uint64_t segsize,
             struct cat_backup *b, struct cel_err *err)
{
    int version = pg_server_version(c);
    /* the session stays open, mostly idle, for the whole copy: a DBA's
     * statement or idle time-outs must not end it */
    int rc = pg_exec(c, "SET statement_timeout = 0", err);
    if (rc == 0 && version >= 140000)
        rc = pg_exec(c, "SET idle_session_timeout = 0", err);
    if (rc < 0)
        return rc;
    const char *sql = version >= 150000
                          ? "SELECT lsn::text AS lsn, " TIME_SQL " AS time FROM "
                            "pg_backup_start($1, $2::boolean) AS lsn"
                          : "SELECT lsn::text AS lsn, " TIME_SQL " AS time FROM "
                            "pg_start_backup($1, $2::boolean, false) AS lsn";
    const char *params[] = {label, fast ? "true" : "false"};
    struct pg_rows r;
    rc = pg_query(c, sql, params, 2, &r, err);
    if (rc < 0)
        return rc;
    struct pg_rows t;
    char *tsql = cel_xasprintf("SELECT %s AS timeline", TIMELINE_SQL);
    rc = pg_query(c, tsql, NULL, 0, &t, err);
    free(tsql);
    if (rc < 0) {
        pg_rows_free(&r);
        return rc;
    }
    rc = set_begin(b, pg_rows_get(&r, 0, "lsn"), pg_rows_get(&t, 0, "timeline"),
                   pg_rows_get(&r, 0, "time"), segsize, err);
    pg_rows_free(&t);
    pg_rows_free(&r);
    return rc;
}

int bk_stop(struct pg_conn *c, uint64_t segsize, bool wait_for_archive, struct cat_backup *b,
            char **spcmap, struct cel_err *err)
{
    *spcmap = NULL;
    int version = pg_server_version(c);
    /* cellar's backup passes wait_for_archive false: it waits for the WAL
     * itself (the backup is WAITING_FOR_WALS meanwhile) instead of
     * blocking in the server */
    /* before 15, pg_stop_backup(false) waits for the archive (its
     * default), as it always did here */
    char *sql = cel_xasprintf("SELECT s.lsn::text AS lsn, s.labelfile, s.spcmapfile, "
                              "%s AS timeline, " TIME_SQL " AS time FROM %s AS s",
                              TIMELINE_SQL,
                              version < 150000    ? "pg_stop_backup(false)"
                              : wait_for_archive ? "pg_backup_stop(true)"
                                                 : "pg_backup_stop(false)");
    struct pg_rows r;
    int rc = pg_query(c, sql, NULL, 0, &r, err);
    free(sql);
    if (rc < 0)
        return rc;
    const char *label = pg_rows_get(&r, 0, "labelfile");
    const char *map = pg_rows_get(&r, 0, "spcmapfile");
    rc = set_end(b, pg_rows_get(&r, 0, "lsn"), pg_rows_get(&r, 0, "timeline"),
                 pg_rows_get(&r, 0, "time"), segsize, NULL, err);
    if (rc == 0 && !label)
        rc = cel_err_set(err, CEL_E_PG, "the stop of the backup returned no backup_label");
    if (rc == 0) {
        free(b->backup_label);
        b->backup_label = cel_xstrdup(label);
        if (map && map[0])
            *spcmap = cel_xstrdup(map);
    }
    pg_rows_free(&r);
    return rc;
}

/* ---- backup_method = postgres: pg_basebackup does the start and stop ---- */

/* The current WAL position: written on a primary, replayed on a standby. */
static const char CURRENT_LSN_SQL[] =
    "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
    "ELSE pg_current_wal_lsn() END)::text";

int bk_stream_start(struct pg_conn *c, uint64_t segsize, struct cat_backup *b,
                    struct cel_err *err)
{
    char *sql = cel_xasprintf("SELECT %s AS lsn, %s AS timeline, " TIME_SQL " AS time",
                              CURRENT_LSN_SQL, TIMELINE_SQL);
    struct pg_rows r;
    int rc = pg_query(c, sql, NULL, 0, &r, err);
    free(sql);
    if (rc < 0)
        return rc;
    rc = set_begin(b, pg_rows_get(&r, 0, "lsn"), pg_rows_get(&r, 0, "timeline"),
                   pg_rows_get(&r, 0, "time"), segsize, err);
    pg_rows_free(&r);
    return rc;
}

int bk_from_label(const char *label, uint64_t segsize, struct cat_backup *b, struct cel_err *err)
{
    const char *p = strstr(label, "START WAL LOCATION: ");
    char lsn[WAL_LSN_MAX + 1], file[WAL_NAME_MAX + 1];
    if (!p || sscanf(p, "START WAL LOCATION: %17s (file %24[0-9A-F])", lsn, file) != 2 ||
        strlen(file) != 24)
        return cel_err_set(err, CEL_E_FORMAT, "cannot read START WAL LOCATION in backup_label");
    char tli_hex[9];
    memcpy(tli_hex, file, 8);
    tli_hex[8] = '\0';
    b->timeline.set = true;
    b->timeline.v = (int64_t)strtoul(tli_hex, NULL, 16);
    int rc = set_position(lsn, (uint32_t)b->timeline.v, segsize, &b->begin_xlog, &b->begin_wal,
                          &b->begin_offset, err);
    if (rc == 0) {
        free(b->backup_label);
        b->backup_label = cel_xstrdup(label);
    }
    return rc;
}

int bk_stream_stop(struct pg_conn *c, const char *end_lsn, uint64_t segsize,
                   struct cat_backup *b, struct cel_err *err)
{
    char *sql = cel_xasprintf("SELECT %s AS lsn, %s AS timeline, " TIME_SQL " AS time, "
                              "pg_is_in_recovery()::text AS standby",
                              CURRENT_LSN_SQL, TIMELINE_SQL);
    struct pg_rows r;
    int rc = pg_query(c, sql, NULL, 0, &r, err);
    free(sql);
    if (rc < 0)
        return rc;
    uint32_t tli = 0;
    rc = set_end(b, end_lsn ? end_lsn : pg_rows_get(&r, 0, "lsn"), pg_rows_get(&r, 0, "timeline"),
                 pg_rows_get(&r, 0, "time"), segsize, &tli, err);
    /* a current position on a segment boundary belongs to the segment
     * before it, as pg_walfile_name_offset (which Barman reads) says */
    if (rc == 0 && !end_lsn && b->end_offset.v == 0) {
        uint64_t lsn = 0;
        wal_lsn_parse(b->end_xlog, &lsn, NULL);
        uint64_t segno = wal_lsn_to_segno(lsn, segsize);
        if (segno > 0) {
            char name[WAL_NAME_MAX];
            wal_segment_name(tli, segno - 1, segsize, name);
            free(b->end_wal);
            b->end_wal = cel_xstrdup(name);
        }
    }
    const char *standby = pg_rows_get(&r, 0, "standby");
    bool primary = !standby || strcmp(standby, "true") != 0;
    pg_rows_free(&r);
    /* as Barman does: close the segment holding the end so it is archived
     * (a standby cannot switch; its primary's next segment brings it) */
    if (rc == 0 && primary) {
        char *lsn = NULL;
        struct cel_err serr = {0};
        pg_query_value(c, "SELECT pg_switch_wal()::text", &lsn, &serr);
        free(lsn);
    }
    return rc;
}
