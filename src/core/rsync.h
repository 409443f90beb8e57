/*
 * rsync.h - copying directory trees with rsync, locally or over ssh, in
 * parallel, with progress.
 *
 * One copy ("job") takes a source directory and a destination directory;
 * either side may be remote, reached through the DBA's ssh_command (the
 * source for a backup, the destination for a remote recovery). The runner:
 *
 *  1. lists the source tree (locally, or with `rsync --list-only` over ssh),
 *     with each file's size and mtime, applying the job's exclude and include
 *     patterns (rsync filter syntax, anchored with a leading '/');
 *  2. splits the files into `workers` lists balanced by size (the largest
 *     files first, each into the lightest list);
 *  3. runs one rsync per list with --files-from (NUL-separated, --from0), all
 *     at once, through the process runner (argv arrays, never a shell; paths
 *     are passed after "--" or in the file lists; --old-args is never used);
 *  4. reports progress (bytes and files done of the total, rate, current
 *     file) through a callback as files complete;
 *  5. retries a failed worker's list up to retry_times times, retry_sleep
 *     seconds apart; exit status 24 (files vanished during the copy, normal
 *     for a live PGDATA) counts as success, and the vanished files are logged.
 *
 * Reuse (reuse_backup): with reuse_dir set, unchanged files are hard-linked
 * (REUSE_LINK, rsync --link-dest) or copied locally (REUSE_COPY, --copy-dest)
 * from an earlier copy instead of transferred. rsync decides "unchanged" by
 * size and mtime, which cannot see a change made within the mtime granularity
 * of the earlier copy: files whose mtime is at or after safe_horizon (the
 * earlier backup's start) are always transferred in full (--ignore-times).
 *
 * The copy preserves permissions and modification times (and symbolic links
 * as links); directories are created as needed. The destination of a
 * backup is always local; it is fsynced per directory when the copy ends
 * (rsync itself does not fsync).
 */
#ifndef CEL_RSYNC_H
#define CEL_RSYNC_H

#include <time.h>

#include "error.h"

enum rsync_reuse { RSYNC_REUSE_OFF = 0, RSYNC_REUSE_COPY, RSYNC_REUSE_LINK };

struct rsync_progress {
    uint64_t bytes_done, bytes_total;
    uint64_t files_done, files_total;
    double rate;          /* bytes per second since the start */
    const char *current;  /* the file just completed, relative to the job's source */
};

struct rsync_opts {
    const char *ssh_command;      /* NULL: local; the DBA's command, run through the shell */
    bool remote_is_dest;          /* with ssh_command: the destination is remote, not the source */
    const char *const *exclude;   /* NULL-terminated rsync patterns ("/pg_wal/*", "pgsql_tmp*") */
    const char *const *include;   /* NULL-terminated patterns kept despite an exclude */
    int workers;                  /* parallel rsync processes; 0: 1 */
    int bwlimit_kbps;             /* per job, shared among workers; 0: none */
    bool compress;                /* rsync -z (network_compression) */
    enum rsync_reuse reuse;
    const char *reuse_dir;        /* earlier copy of the same tree (local) */
    time_t safe_horizon;          /* files with mtime >= this are always transferred; 0: none */
    int retry_times;              /* retries of a failed list */
    int retry_sleep;              /* seconds between retries */
    const char *path_prefix;      /* where to look for rsync/ssh first */
    void (*on_progress)(void *ctx, const struct rsync_progress *p);
    void (*on_log)(void *ctx, const char *line); /* vanished files, retries */
    void *ctx;
    const volatile int *cancel;   /* when it becomes non-zero, workers are stopped */
};

struct rsync_stats {
    uint64_t files, bytes;        /* what the source listed (after filters) */
    uint64_t transferred_bytes;   /* what was actually sent (not reused) */
    size_t vanished;              /* files that disappeared during the copy */
    double analysis_seconds, copy_seconds;
    int workers;
};

/* Copy src (a directory; remote when ssh_command is set and !remote_is_dest)
 * into dst (a directory, created if missing). Returns 0 and fills *stats
 * (may be NULL); -CEL_E_PROC when rsync failed after the retries (the
 * message names the worker's exit status and rsync's last error lines);
 * -CEL_E_IO for a local file system error; -CEL_E_INTERNAL... when cancelled,
 * -CEL_E_PROC with "cancelled". */
int rsync_copy(const char *src, const char *dst, const struct rsync_opts *opts,
               struct rsync_stats *stats, struct cel_err *err);

/* Copy one file (e.g. global/pg_control, copied last), same options. */
int rsync_copy_file(const char *src, const char *dst, const struct rsync_opts *opts,
                    struct cel_err *err);

/* Run a command on the host of ssh_command (or locally when NULL) from an
 * argv array, e.g. {"mkdir", "-p", "--", dir, NULL}: the arguments are
 * quoted for the remote shell. Output is captured into *out when out is not
 * NULL (caller frees). Used to create remote directories and links. */
int rsync_remote_run(const char *ssh_command, const char *path_prefix, const char *const argv[],
                     char **out, struct cel_err *err);

#endif
