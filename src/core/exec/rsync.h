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
 *  3. runs one rsync per list with --files-from (NUL-separated, --from0), at
 *     most `workers` at once, through the process runner (argv arrays, never
 *     a shell; paths are passed after "--" or in the file lists; --old-args
 *     is never used);
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
 * as links); directories are created as needed, empty ones included. The
 * destination of a backup is always local; when the destination is local the
 * copy ends with syncfs(2) on its file system (rsync itself does not fsync).
 */
#ifndef CEL_RSYNC_H
#define CEL_RSYNC_H

#include <time.h>

#include "error.h"
#include "proc.h"

enum rsync_reuse { RSYNC_REUSE_OFF = 0, RSYNC_REUSE_COPY, RSYNC_REUSE_LINK };

struct rsync_progress {
    uint64_t bytes_done, bytes_total;
    uint64_t files_done, files_total;
    double rate;         /* bytes per second since the start */
    const char *current; /* the file just completed, relative to the job's source;
                          * NULL in the first report (after the listing); valid
                          * during the callback only */
};

struct rsync_opts {
    const char *ssh_command;    /* NULL: local; the DBA's command, run through the shell */
    bool remote_is_dest;        /* with ssh_command: the destination is remote, not the source */
    const char *const *exclude; /* NULL-terminated rsync patterns, e.g. "pgsql_tmp*" */
    const char *const *include; /* NULL-terminated patterns kept despite an exclude */
    int workers;                /* parallel rsync processes; 0: 1 */
    int bwlimit_kbps;           /* per job, shared among workers; 0: none */
    bool compress;              /* rsync -z (network_compression) */
    enum rsync_reuse reuse;
    const char *reuse_dir;   /* earlier copy of the same tree (local) */
    time_t safe_horizon;     /* files with mtime >= this are always transferred; 0: none */
    int retry_times;         /* retries of a failed list */
    int retry_sleep;         /* seconds between retries */
    const char *path_prefix; /* where to look for rsync/ssh first */
    void (*on_progress)(void *ctx, const struct rsync_progress *p);
    void (*on_log)(void *ctx, const char *line); /* vanished files, retries */
    void *ctx;
    const volatile int *cancel; /* when it becomes non-zero, workers are stopped */
};

struct rsync_stats {
    uint64_t files, bytes;      /* what the source listed (after filters) */
    uint64_t transferred_bytes; /* what was actually sent (not reused) */
    size_t vanished;            /* files that disappeared during the copy */
    double analysis_seconds, copy_seconds;
    int workers;
};

/* Copy src (a directory; remote when ssh_command is set and !remote_is_dest)
 * into dst (a directory, created with its parents if missing). opts may be
 * NULL (all defaults). Returns 0 and fills *stats (may be NULL); -CEL_E_PROC
 * when rsync failed after the retries (the message names the worker's exit
 * status and rsync's last error lines); -CEL_E_FORMAT when a remote listing
 * cannot be parsed; -CEL_E_IO for a local file system error (a missing local
 * source included); -CEL_E_PROC with the message "cancelled" when *cancel
 * was or became non-zero (running workers get SIGTERM). Blocks; callbacks
 * run in the calling thread. */
int rsync_copy(const char *src, const char *dst, const struct rsync_opts *opts,
               struct rsync_stats *stats, struct cel_err *err);

/* Copy one file (e.g. global/pg_control, copied last) to the file path dst,
 * same options (ssh side, bwlimit, compress, retries, cancel; not filters or
 * reuse). A local dst is fsynced with its directory. Errors as rsync_copy. */
int rsync_copy_file(const char *src, const char *dst, const struct rsync_opts *opts,
                    struct cel_err *err);

/* Run a command on the host of ssh_command (or locally when NULL) from an
 * argv array, e.g. {"mkdir", "-p", "--", dir, NULL}: the arguments are
 * quoted for the remote shell (POSIX single quotes). The shell runs
 * `SSH_COMMAND "$CEL_REMOTE_COMMAND"`: the quoted line travels in the
 * environment, never inside the command string. Output is captured into *out when out is not NULL
 * (caller frees; stdout beyond 1 MiB is cut). Returns 0, or -CEL_E_PROC when
 * the program cannot run or exits non-zero (the message has its status and
 * first stderr line). Blocks. Used to create remote directories and links. */
int rsync_remote_run(const char *ssh_command, const char *path_prefix, const char *const argv[],
                     char **out, struct cel_err *err);

/* rsync_remote_run with a time limit (timeout_ms 0: none): a command still
 * running then is stopped (its process group gets SIGTERM, then SIGKILL)
 * and the result is -CEL_E_TIMEOUT ("'sh' timed out after 5 s"). Used by
 * check, which must answer within check_timeout whatever ssh does. */
int rsync_remote_run_timed(const char *ssh_command, const char *path_prefix,
                           const char *const argv[], int timeout_ms, char **out,
                           struct cel_err *err);

/* Start argv on the host of ssh_command (locally when NULL), quoted as
 * rsync_remote_run quotes it, with the runner options opts (stdin_stream
 * for a command fed as it runs, such as `tar -x` receiving a decompressed
 * archive; opts->env must be NULL: the remote command line travels there).
 * The caller writes, then ends it with proc_finish and rsync_remote_result. */
int rsync_remote_start(const char *ssh_command, const char *const argv[],
                       const struct proc_opts *opts, struct proc **out, struct cel_err *err);
/* How a remote command started with rsync_remote_start ended, as
 * rsync_remote_run reports it: rc is proc_finish's, res its result; 0 when
 * the command exited 0, else -CEL_E_PROC or -CEL_E_TIMEOUT naming argv0, the
 * ssh command, how it ended and its first stderr line. */
int rsync_remote_result(const char *ssh_command, const char *argv0, int rc,
                        const struct proc_result *res, int timeout_ms, struct cel_err *err);

/* ---- building blocks, exposed for the unit tests ------------------------ */


/* The job's include and exclude patterns as a matcher of its own, for a
 * reader that walks a tree itself with the same rules (cloud-backup reads
 * PGDATA into tar archives). Built from NULL-terminated lists (either may
 * be NULL); free with rsync_filter_free. */
struct rsync_filter;
struct rsync_filter *rsync_filter_new(const char *const *include, const char *const *exclude);
/* Is the entry at path (relative to the walked root, no leading '/') left
 * out? Its parents are not looked at: a walker does not descend into an
 * excluded directory. */
bool rsync_filter_excludes(const struct rsync_filter *f, const char *path, bool is_dir);
void rsync_filter_free(struct rsync_filter *f);

/* Split n items of the given sizes into at most `lists` groups balanced by
 * size: the largest item first (equal sizes in input order), each into the
 * group with the fewest bytes so far (the lowest index on a tie). Stores the
 * group of item i in group_of[i] and returns the number of groups used,
 * min(lists, n), 0 when n is 0 (lists < 1 counts as 1). Never fails. */
int rsync_split(const uint64_t *sizes, size_t n, int lists, int *group_of);

/* One line of `rsync -r --list-only --no-human-readable` output. */
struct rsync_entry {
    char type; /* first letter of the mode: 'd', '-' (file), 'l' (link), others */
    uint64_t size;
    time_t mtime; /* read as UTC: the listing must be made with TZ=UTC0 */
    char *path;   /* relative to the listed directory ("." for itself), with
                   * rsync's \#ooo escapes decoded; the caller frees it */
};

/* Parse one line (without its newline). Both date formats rsync prints are
 * read ("2024/05/01 12:00:00" and "Wed May  1 12:00:00 2024"); the name is
 * everything after the single space that follows the time. Returns 0, or
 * -CEL_E_FORMAT naming the line (e->path is then NULL). */
int rsync_parse_list_line(const char *line, struct rsync_entry *e, struct cel_err *err);

#endif
