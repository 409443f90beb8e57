/*
 * backup_int.h - the parts of `cellar backup` shared by its files:
 * backup_pg.c (what PostgreSQL is asked), backup_copy.c (the files),
 * backup_state.c (WAITING_FOR_WALS, dead backups) and backup.c (the flow).
 * Not a public interface: only src/ops/backup*.c, delete.c, cron.c, recover.c,
 * cloud_backup.c and check.c (encryption) use it.
 */
#ifndef CEL_OPS_BACKUP_INT_H
#define CEL_OPS_BACKUP_INT_H

#include "catalog.h"
#include "ops.h"
#include "pg.h"
#include "rsync.h"

/* What the server tells before the copy starts. */
struct bk_server_info {
    int version;  /* server_version_num, 150018 */
    char major[8]; /* "15", "9.6": PG_<major>_ of tablespace directories */
    char *pgdata, *config_file, *hba_file, *ident_file;
    struct py_value *included_files; /* a list, NULL when none */
    char *systemid;
    uint64_t segsize;
    bool in_recovery;
    struct cat_tablespace *tbs; /* user tablespaces, by oid */
    size_t n_tbs;
};

/* Ask the server what a backup needs to know. */
int bk_server_info(struct pg_conn *c, struct bk_server_info *out, struct cel_err *err);
void bk_server_info_free(struct bk_server_info *info);
/* Copy into backup.info what every backup records of the server: PGDATA,
 * the configuration files, the version and the tablespaces. */
void bk_describe_server(const struct bk_server_info *info, struct cat_backup *b);

/* Start a non-exclusive backup labelled label on connection c (held open
 * until bk_stop): pg_backup_start on 15+, pg_start_backup(label, fast,
 * false) before. Fills b's begin_* fields and timeline. */
int bk_start(struct pg_conn *c, const char *label, bool fast, uint64_t segsize,
             struct cat_backup *b, struct cel_err *err);
/* Stop it: pg_backup_stop(wait) / pg_stop_backup(false) (which waits). Fills b's
 * end_* fields and backup_label; *spcmap gets the tablespace map (caller
 * frees, NULL when empty). wait_for_archive: the server returns once the
 * backup's last segment is archived (barman-cloud's way; cellar's backup
 * waits for the WAL itself). */
int bk_stop(struct pg_conn *c, uint64_t segsize, bool wait_for_archive, struct cat_backup *b,
            char **spcmap, struct cel_err *err);

/* backup_method = postgres (Barman's PostgresBackupStrategy): pg_basebackup
 * starts and stops the backup itself, so cellar only records where WAL was
 * before (bk_stream_start: begin_time and a first begin position, the
 * timeline), reads the real start from the copy's backup_label
 * (bk_from_label: begin_xlog/begin_wal/begin_offset, timeline and
 * backup_label), and after the copy the end (bk_stream_stop: end_time, and
 * end_lsn, pg_basebackup's own end point, or when NULL the current position
 * as Barman 3.4 records it), then switches WAL on a primary. */
int bk_stream_start(struct pg_conn *c, uint64_t segsize, struct cat_backup *b,
                    struct cel_err *err);
int bk_from_label(const char *label, uint64_t segsize, struct cat_backup *b, struct cel_err *err);
int bk_stream_stop(struct pg_conn *c, const char *end_lsn, uint64_t segsize,
                   struct cat_backup *b, struct cel_err *err);

/* One run of pg_basebackup (backup_basebackup.c): plain format into
 * backup_dir/data with each tablespace mapped to backup_dir/<oid> (where
 * Barman puts them), or with backup_compression tar format (data/base.tar.*,
 * data/<oid>.tar.*, data/backup_manifest), without WAL (--wal-method=none: the archive has it)
 * and without a replication slot, retried retry_times times. */
struct bk_basebackup {
    const struct op_ctx *ctx;
    const struct cfg_server *s;
    const struct bk_server_info *info;
    const char *backup_dir;
    const char *tool;  /* the pg_basebackup that runs (op_pg_program) */
    long tool_version; /* its version, server_version_num style */
    bool fast;         /* --checkpoint=fast */
    int bwlimit;       /* kB/s, 0: none */
    int retry_times, retry_sleep;
    /* filled: pg_basebackup's own start and end points from its -v output
     * (NULL when it did not say: with --wal-method=none it never gives the
     * end, which backup.c reads in the manifest) and the copy's time */
    char *start_lsn, *end_lsn;
    double copy_seconds;
};
/* Run it. Failures: -CEL_E_PROC with pg_basebackup's last error lines
 * ("pg_basebackup exited with status 1: ... FATAL: ..."), the op's cancel
 * flag ends it. Blocks. */
int bk_basebackup_run(struct bk_basebackup *bb, struct cel_err *err);
void bk_basebackup_free(struct bk_basebackup *bb);
/* One line of pg_basebackup --progress, "  1234/56789 kB (2%), 0/2
 * tablespaces (data/base/5/1259   )": true and its numbers (file points
 * into line, trailing blanks and a leading "..." left out; NULL when the
 * line names none) when line is one. */
struct bk_progress_line {
    uint64_t done_kb, total_kb;
    int tbs_done, tbs_total;
    const char *file;
    size_t file_len;
};
bool bk_basebackup_parse_progress(const char *line, struct bk_progress_line *out);
/* "--tablespace-mapping=FROM=TO", '=' in either path escaped as "\=", as
 * pg_basebackup reads it. Caller frees. */
char *bk_basebackup_mapping_arg(const char *from, const char *to);
/* The compression of s's tar backups ("gzip", "lz4", "zstd": what
 * backup.info's compression says), NULL when they are plain. */
const char *bk_basebackup_tar(const struct cfg_server *s);

/* The files of a backup. */
struct bk_copy {
    const struct op_ctx *ctx;
    const struct cfg_server *s;
    const struct bk_server_info *info;
    const char *backup_dir; /* base/<id> */
    const char *prev_dir;   /* base/<previous id> to reuse from, NULL: none */
    time_t safe_horizon;    /* the previous backup's begin time */
    enum rsync_reuse reuse;
    int workers;
    int retry_times, retry_sleep;
    struct py_value *copy_stats; /* filled: Barman's copy_stats dict */
    /* while copying: the per-item dicts and the totals of copy_stats */
    struct py_value *per_item[3];
    double totals[4];
};
/* Copy PGDATA (without what PostgreSQL documents as not to be copied),
 * every tablespace, the configuration files that live outside PGDATA, and
 * global/pg_control last. */
int bk_copy_files(struct bk_copy *cp, struct cel_err *err);
/* What a copy of PGDATA leaves out (the comment atop backup_copy.c): rsync
 * patterns, NULL-terminated in list, with the tablespaces that live inside
 * PGDATA (copied as tablespaces). cloud-backup reads the same. */
struct bk_excludes {
    const char **list;
    char **owned;
    size_t n_owned;
};
void bk_pgdata_excludes(const struct bk_server_info *info, struct bk_excludes *out);
void bk_excludes_free(struct bk_excludes *x);
/* A tablespace's copy: its version directory only ("/PG_15_*", caller
 * frees), without temporary files. */
char *bk_tablespace_include(const struct bk_server_info *info);
extern const char *const bk_tablespace_exclude[];
/* Free what bk_copy_files left in cp (copy_stats included). */
void bk_copy_free(struct bk_copy *cp);
/* After the stop: data/pg_tblspc/<oid> as relative links to ../../<oid>,
 * so the copy is a complete data directory (pg_verifybackup reads it, and
 * a copy of the whole backup directory starts as it is). */
int bk_link_tablespaces(const char *backup_dir, const struct cat_backup *b,
                        struct cel_err *err);
/* size and deduplicated_size (files linked from nowhere else) of dir. */
int bk_disk_usage(const char *dir, uint64_t *size, uint64_t *dedup, struct cel_err *err);

/* The end of a backup's WAL check. */
enum bk_wal_state { BK_WAL_COMPLETE, BK_WAL_WAITING, BK_WAL_MISSING };
/* Are the segments begin_wal..end_wal of b all in xdb? BK_WAL_MISSING
 * when one is absent although later WAL of its timeline was archived
 * (*first_missing names it). */
enum bk_wal_state bk_wal_state(const struct xdb *xdb, const struct cat_backup *b,
                               char first_missing[WAL_NAME_MAX]);
/* Mark FAILED the EMPTY and STARTED backups of s no process is taking
 * (the backup lock is free: the process was killed); and DONE (or FAILED)
 * the WAITING_FOR_WALS ones whose WAL has all arrived (or never will).
 * holding_backup_lock: the caller holds .<server>-backup.lock, so every
 * STARTED backup other than skip_id is dead. Counts what it changed. */
struct bk_settle_summary {
    size_t reaped, completed, failed_wal;
};
int bk_settle(const struct op_ctx *ctx, const struct cfg_server *s, bool holding_backup_lock,
              const char *skip_id, struct bk_settle_summary *sum, struct cel_err *err);

/* The WAL range of b for its backup_manifest: its timeline, begin_xlog and
 * end_xlog; -CEL_E_FORMAT when backup.info lacks one of them. */
struct manifest_wal_range;
int bk_wal_range(const struct cat_backup *b, struct manifest_wal_range *out, struct cel_err *err);

/* Set b FAILED with error text and write it; logs the failure. */
void bk_mark_failed(const struct op_ctx *ctx, const struct cfg_server *s, const char *dir,
                    struct cat_backup *b, const char *error);

/* Encrypted tar backups (backup_encrypt.c, Barman 3.14's encryption = gpg).
 * Is name a clear archive Barman encrypts ("X.tar" or "X.tar.EXT")? */
bool bk_is_clear_tar(const char *name);
/* Can s's backups be encrypted (Barman's _validate_gpg: backup_method =
 * postgres, backup_compression set, backup_compression_format = tar)?
 * -CEL_E_CONFIG naming the option and the fix. */
int bk_check_encryptable(const struct cfg_server *s, struct cel_err *err);
/* Encrypt every clear archive in backup_dir/data to s's encryption_key_id
 * as NAME.gpg and remove it. */
int bk_encrypt_tars(const struct op_ctx *ctx, const struct cfg_server *s, const char *backup_dir,
                    struct cel_err *err);
/* After a failure: remove the clear archives (and temporaries) left in
 * backup_dir/data; problems are warnings. */
void bk_drop_clear_tars(const struct op_ctx *ctx, const struct cfg_server *s,
                        const char *backup_dir);

/* verify-backup of a tar backup (verify_tar.c): every member of the
 * archives in data (base.tar.*, <oid>.tar.*) against data/backup_manifest,
 * streamed through cellar's decompressors, nothing extracted. Problems are
 * appended to out one per line, in pg_verifybackup's words ("error: ...");
 * "backup successfully verified" when there is none, and then *ok is true.
 * Returns 0 whatever it found; -CEL_E_CONFLICT for a compression it cannot
 * read, the cancel flag's error, or an error listing data. Blocks. */
int bk_verify_tar(const struct op_ctx *ctx, const char *server, const struct cat_backup *b,
                  const char *data, struct strbuf *out, bool *ok, struct cel_err *err);

#endif
