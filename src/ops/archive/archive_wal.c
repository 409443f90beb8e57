/*
 * archive_wal.c - `cellar archive-wal SERVER|all`: move the WAL files that
 * PostgreSQL's archive_command dropped in incoming/ into the archive.
 *
 * The promise: nothing accepted is ever lost, nothing damaged is ever
 * accepted, and a crash or kill -9 at any point leaves nothing half-done
 * that counts as archived. The run has three stages:
 *
 *  1. Under the server's archive-wal lock (one archiver per server; Barman
 *     uses the same lock), list incoming/ in WAL order. Names that are not
 *     WAL file names go to errors/<name>.<stamp>.unknown.
 *  2. In worker processes, one per CPU (par_run), each file is checked and
 *     compressed: its content must match its name (walcheck: size, header
 *     magic, timeline, page address; a file that arrives compressed is
 *     checked on its decompressed bytes); a file already in the archive is
 *     compared with the archived copy; the rest is compressed with the
 *     server's compression into a hidden temporary file beside its final
 *     place in wals/<hash>/ (a file stored uncompressed is hard-linked
 *     there instead, not copied, when incoming/ is on the same
 *     filesystem and the file is ours with no other name: link_plain),
 *     fsynced, given the incoming file's mtime; the
 *     incoming file's page cache is dropped (it is not read again).
 *  3. In the parent, in WAL order, under the xlogdb lock: each temporary is
 *     renamed into place, the directories are fsynced, the xlog.db lines are
 *     appended and fsynced, and only then are the incoming files removed.
 *
 * Crash analysis: before stage 3 renames, only hidden temporaries exist
 * (reused, never counted). After a rename but before the xlog.db append the
 * archived file exists and the incoming file too: the next run finds an
 * identical duplicate, adds its missing xlog.db line, and drops the incoming
 * copy. After the append, the same. Barman removes the incoming file before
 * writing xlog.db, so a crash there leaves an archived file its index does
 * not know; cellar does not. When xlog.db cannot be written (a full disk),
 * the files this run renamed are removed again: wals/ and xlog.db still
 * agree, and the incoming copies wait for the next run.
 *
 * The streaming archiver's directory (streaming/, where pg_receivewal
 * writes) goes through the same three stages first, as Barman archives it
 * before incoming/, with Barman's rule for what stays: the newest .partial
 * (the segment being received) stays, and older .partial files (the end
 * of an old timeline, left when the server was promoted) are archived as
 * <segment>.partial; with no .partial at all the newest complete segment
 * stays, for pg_receivewal finds its position from the files there.
 * incoming/ is archived only with archiver = on (forced on when
 * streaming_archiver is off, as in Barman).
 *
 * With encryption = gpg (Barman 3.14, doc/encryption.md) the temporary,
 * once compressed, is replaced by its GnuPG message to encryption_key_id
 * (encrypt_tmp) and xlog.db's line says gpg; a failure (no such key) leaves
 * the file in incoming/. An arrival whose name is archived encrypted is not
 * compared (Barman's rule): it goes to errors/ as .duplicate.
 *
 * Rejected files keep their bytes in errors/ with a suffix saying why:
 * .unknown (not a WAL name), .invalid (content does not match the name),
 * .duplicate (a different file of that name is already archived),
 * .symlink (a symbolic link: archive_command delivers files, and following
 * a link planted in incoming/ would archive, then delete, any file cellar
 * can read; the link itself is moved, its target is never opened).
 */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "gpg.h"
#include "hook_script.h"
#include "lock.h"
#include "op_hooks.h"
#include "ops.h"
#include "par.h"
#include "server.h"
#include "server_select.h"
#include "storage.h"
#include "wal_archive.h"
#include "walcheck.h"

/* A segment of the wrong size modified this recently may still be being
 * copied by a non-atomic archive_command (cp): leave it for the next run. */
#define YOUNG_SECONDS 60

enum prep_status {
    PREP_READY,    /* compressed into the temporary file, to be committed */
    PREP_DUP_SAME, /* already archived with the same content */
    PREP_DUP_DIFF, /* a different file of that name is archived */
    PREP_INVALID,  /* the content does not match the name */
    PREP_DEFER,    /* maybe still being written: next run */
    PREP_ERROR,    /* I/O or compression failure: left in incoming */
};

struct item {
    char name[WAL_NAME_MAX];
    struct wal_name w;
    char *src; /* incoming/<name> */
    char *dst; /* wals/<hash>/<name> */
    char *tmp; /* wals/<hash>/.<name>.cellar-tmp */
    char *dir; /* the directory of dst */
};

/* What a worker reports about one item. */
struct prep {
    int status;
    int compression; /* of the archived file */
    bool encrypted;  /* the archived file is a GnuPG message (xlog.db: gpg) */
    uint64_t in_size, out_size;
    double mtime; /* of the archived file (for xlog.db) */
    char reason[400];
};

struct run {
    const struct op_ctx *ctx;
    const struct cfg_server *s;
    const char *src_dir; /* incoming_wals_directory or streaming_wals_directory */
    bool streaming;      /* src_dir is the streaming archiver's */
    struct comp_opts opts;
    struct item *items;
    size_t n;
    struct xdb index; /* xlog.db as the run started (read only when items wait) */
    struct stat index_st; /* xlog.db's inode, size and times when index was read */
    bool index_st_ok;
    uint64_t sysid;   /* the server's database system, from identity.json; 0: unknown */
};

/* Set the reason of a result (truncated to fit: it is for a log line). */
static void reason(struct prep *r, const char *fmt, ...) CEL_PRINTF(2, 3);

static void reason(struct prep *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

static double mtime_of(const struct stat *st)
{
    return (double)st->st_mtim.tv_sec + (double)st->st_mtim.tv_nsec / 1e9;
}

/* An uncompressed file needs no copy: link the incoming file as the
 * temporary (the commit renames it into place, as for a compressed one, so
 * the crash analysis above holds: until the incoming name is removed, both
 * names reach the same bytes), make it 0600 as a copy would be, and fsync
 * it. checked is the fstat of the descriptor whose content was checked: the
 * file linked must be that one. 1 when it must be copied instead: incoming/
 * is on another filesystem, the file belongs to another user (the archive
 * holds only files of the user cellar runs as), it has another name
 * besides its incoming one (a hard link from pg_wal or elsewhere: the
 * archive must not share bytes that PostgreSQL recycles and overwrites in
 * place), or the name no longer reaches the regular file that was checked;
 * else 0 or -CEL_E_IO. */
static int link_plain(const struct item *it, const struct stat *checked, uint64_t *size,
                      struct cel_err *err)
{
    struct stat st;
    if (lstat(it->src, &st) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", it->src);
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1 ||
        st.st_dev != checked->st_dev || st.st_ino != checked->st_ino)
        return 1;
    if (link(it->src, it->tmp) < 0) {
        if (errno == EXDEV || errno == EPERM || errno == EMLINK)
            return 1;
        return cel_err_sys(err, CEL_E_IO, errno, "cannot link '%s' to '%s'", it->src, it->tmp);
    }
    int fd = open(it->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int rc = 0;
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", it->tmp);
    } else if (st.st_nlink != 2 || st.st_dev != checked->st_dev || st.st_ino != checked->st_ino) {
        rc = 1; /* replaced or linked again since the check above: copy */
    } else if (fchmod(fd, 0600) < 0 || fsync(fd) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot chmod or fsync '%s'", it->tmp);
    } else {
        *size = (uint64_t)st.st_size;
    }
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(it->tmp);
    return rc;
}

/* A file that arrives compressed is checked on its decompressed bytes:
 * decompress it into a hidden temporary file in incoming/ (*plain, freed and
 * removed by the caller), check that, and fill info. */
static int decompress_incoming(const struct run *run, const struct item *it, enum comp_kind kind,
                               char **plain, struct walcheck_info *info, struct cel_err *err)
{
    const char *dir = run->src_dir;
    char *tmp = cel_xasprintf("%s/.%s.check.XXXXXX", dir, it->name);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create a file in '%s'", dir);
        free(tmp);
        return rc;
    }
    uint64_t size = 0;
    int rc = comp_decompress_to_fd(kind, it->src, fd, &run->opts, &size, err);
    if (rc == 0)
        rc = walcheck_fd(fd, size, &it->w, info, err);
    close(fd);
    *plain = tmp;
    return rc;
}

static void prepare_content(const struct run *run, const struct item *it, struct prep *r,
                            const struct stat *stp, enum comp_kind in_kind, const char *plain,
                            int check, const struct walcheck_info *info, struct cel_err *errp);

/* Stage 2, in a worker: check, compare, compress one item. */
static int prepare(size_t i, void *ctxp, void *resultp, size_t size)
{
    (void)size;
    const struct run *run = ctxp;
    const struct item *it = &run->items[i];
    struct prep *r = resultp;
    struct cel_err err = {0};
    r->status = PREP_ERROR;

    /* O_NOFOLLOW: an entry replaced by a link since it was listed */
    int fd = open(it->src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        reason(r, "cannot open '%s': %s", it->src, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 0;
    }
    r->in_size = (uint64_t)st.st_size;
    unsigned char head[COMP_MAGIC_MAX];
    ssize_t hn = pread(fd, head, sizeof head, 0);
    enum comp_kind in_kind = hn > 0 ? comp_detect(head, (size_t)hn, &run->opts) : COMP_NONE;
    struct walcheck_info info = {0};
    char *plain = NULL; /* the decompressed copy of a compressed arrival */
    int check = in_kind == COMP_NONE
                    ? walcheck_fd(fd, (uint64_t)st.st_size, &it->w, &info, &err)
                    : decompress_incoming(run, it, in_kind, &plain, &info, &err);
    close(fd);
    prepare_content(run, it, r, &st, in_kind, plain ? plain : it->src, check, &info, &err);
    if (plain) {
        unlink(plain);
        free(plain);
    }
    return 0;
}

/* encryption = gpg: replace the temporary (compressed, or a link to the
 * incoming file) by its GnuPG message to encryption_key_id, synced; *size
 * becomes the message's size. The incoming file is untouched: on failure
 * (no such key) it stays in incoming/ for a later run. */
static int encrypt_tmp(const struct cfg_server *s, const struct item *it, uint64_t *size,
                       struct cel_err *err)
{
    char *enc = cel_xasprintf("%s.gpg", it->tmp);
    int rc = gpg_encrypt_file(it->tmp, enc, s->encryption_key_id, size, err);
    if (rc < 0 && (rc == -CEL_E_CONFIG || rc == -CEL_E_PROC)) {
        cel_err_prefix(err, "cannot encrypt %s", it->name);
    } else if (rc == 0 && rename(enc, it->tmp) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot rename '%s' to '%s'", enc, it->tmp);
        unlink(enc);
    }
    free(enc);
    return rc;
}

/* The rest of prepare(), once the content was checked: refuse, compare with
 * an archived copy, or compress. plain holds the file's plain bytes (the
 * incoming file itself, or its decompressed copy). */
static void prepare_content(const struct run *run, const struct item *it, struct prep *r,
                            const struct stat *stp, enum comp_kind in_kind, const char *plain,
                            int check, const struct walcheck_info *info, struct cel_err *errp)
{
    struct stat st = *stp;
    struct cel_err err = *errp;
    if (check == 0 && run->sysid && info->sysid && info->sysid != run->sysid) {
        r->status = PREP_INVALID;
        reason(r,
               "it belongs to the database system %llu, server '%s' archives %llu "
               "(identity.json)",
               (unsigned long long)info->sysid, run->s->name, (unsigned long long)run->sysid);
        return;
    }
    if (check == -CEL_E_IO || check == -CEL_E_PROC) {
        reason(r, "%s", err.msg);
        return;
    }
    if (check < 0) {
        /* a young segment may still be being copied by a non-atomic
         * archive_command: a plain one whose size is no segment size at all
         * (even before its header is written), or a compressed one that does
         * not decompress yet, gets another chance */
        bool segment = it->w.kind == WAL_KIND_SEGMENT || it->w.kind == WAL_KIND_PARTIAL;
        bool plausible = wal_segsize_check((uint64_t)st.st_size, NULL) == 0;
        if (segment && time(NULL) - st.st_mtim.tv_sec < YOUNG_SECONDS &&
            (in_kind != COMP_NONE || !plausible)) {
            r->status = PREP_DEFER;
            reason(r, "%s (it may still be being written)",
                     err.msg);
            return;
        }
        r->status = PREP_INVALID;
        reason(r, "%s", err.msg);
        return;
    }

    if (stor_exists(it->dst)) {
        enum comp_kind kind;
        bool same = false, enc = false;
        struct stat dst_st;
        if (op_archived_encrypted(it->dst, &enc, &err) < 0) {
            reason(r, "comparing with the archived copy: %s", err.msg);
            return;
        }
        if (enc) {
            /* Barman's rule: an encrypted archived copy is not decrypted
             * to be compared (the passphrase need not be there), so the
             * arrival counts as a different file and goes to errors/ */
            r->status = PREP_DUP_DIFF;
            r->encrypted = true;
            if (stat(it->dst, &dst_st) == 0) {
                r->out_size = (uint64_t)dst_st.st_size;
                r->mtime = mtime_of(&dst_st);
            }
            reason(r, "%s is already archived encrypted and cannot be compared (the incoming "
                      "copy is kept in errors/)", it->name);
            return;
        }
        if (op_archived_kind(run->ctx, run->s, it->dst, it->name, &run->index, &kind, &err) < 0 ||
            stat(it->dst, &dst_st) < 0 ||
            comp_same_content(kind, it->dst, plain, &run->opts, &same, &err) < 0) {
            reason(r, "comparing with the archived copy: %s",
                     err.msg[0] ? err.msg : strerror(errno));
            return;
        }
        r->status = same ? PREP_DUP_SAME : PREP_DUP_DIFF;
        r->compression = (int)kind;
        r->out_size = (uint64_t)dst_st.st_size;
        r->mtime = mtime_of(&dst_st);
        if (!same)
            reason(r, "a different %s is already archived (the incoming copy is kept in errors/)",
                   it->name);
        return;
    }

    if (stor_mkdir_p(it->dir, 0700, &err) < 0) {
        reason(r, "%s", err.msg);
        return;
    }
    /* wals/<hash> is cellar's own directory: a link there would put the
     * archive somewhere else (wals/ itself may be a link the DBA made) */
    struct stat dir_st;
    if (lstat(it->dir, &dir_st) == 0 && S_ISLNK(dir_st.st_mode)) {
        reason(r, "'%s' is a symbolic link: cellar does not archive through links", it->dir);
        return;
    }
    /* a file that arrives compressed is stored as it is */
    enum comp_kind kind = in_kind != COMP_NONE ? COMP_NONE : run->s->compression;
    uint64_t out_size = 0;
    /* first the temporary a killed run left (this run holds the archiver's
     * lock, so it is stale): it may be a hard link to this very file
     * (link_plain), which would then have two names and be refused as
     * compressed into itself, run after run */
    if (unlink(it->tmp) < 0 && errno != ENOENT) {
        reason(r, "cannot remove '%s': %s", it->tmp, strerror(errno));
        return;
    }
    int linked = kind == COMP_NONE ? link_plain(it, stp, &out_size, &err) : 1;
    if (linked < 0) {
        reason(r, "%s", err.msg);
        return;
    }
    if (linked == 1 &&
        comp_compress_file(kind, it->src, it->tmp, &run->opts, &out_size, &err) < 0) {
        reason(r, "%s", err.msg);
        return;
    }
    /* encryption = gpg: after compression, as Barman does */
    if (run->s->encryption == CFG_ENC_GPG && encrypt_tmp(run->s, it, &out_size, &err) < 0) {
        reason(r, "%s", err.msg);
        unlink(it->tmp);
        return;
    }
    /* xlog.db records the incoming file's mtime, kept on the archived copy */
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (utimensat(AT_FDCWD, it->tmp, times, AT_SYMLINK_NOFOLLOW) < 0) {
        reason(r, "cannot set the time of '%s': %s", it->tmp,
                 strerror(errno));
        unlink(it->tmp);
        return;
    }
    /* the incoming file's page cache stays: the commit reads its records
     * once more for the recovery-target index (note_targets), which then
     * gives it back */
    r->status = PREP_READY;
    r->encrypted = run->s->encryption == CFG_ENC_GPG;
    r->compression = (int)(in_kind != COMP_NONE ? in_kind : kind);
    r->out_size = out_size;
    r->mtime = mtime_of(&st);
}

/* UTC stamp for names in errors/: YYYYMMDDTHHMMSSZ. */
static void utc_stamp(char out[20])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 20, "%Y%m%dT%H%M%SZ", &tm);
}

/* Move an incoming file into errors/ as <name>.<stamp>.<suffix>. */
static int to_errors(const struct cfg_server *s, const char *src, const char *name,
                     const char *suffix, struct cel_err *err)
{
    char stamp[20];
    utc_stamp(stamp);
    char *dst = cel_xasprintf("%s/%s.%s.%s", s->errors_directory, name, stamp, suffix);
    int rc = stor_mkdir_p(s->errors_directory, 0700, err);
    if (rc == 0 && rename(src, dst) < 0) {
        char target[4096];
        ssize_t tn;
        if (errno == EXDEV && (tn = readlink(src, target, sizeof target - 1)) >= 0) {
            /* a link on another filesystem: the same link there */
            target[tn] = '\0';
            if (symlink(target, dst) < 0 || unlink(src) < 0)
                rc = cel_err_sys(err, CEL_E_IO, errno, "cannot move '%s' to '%s'", src, dst);
        } else if (errno == EXDEV) {
            /* another filesystem: copy, make it durable, then remove */
            rc = comp_compress_file(COMP_NONE, src, dst, &(struct comp_opts){0}, NULL, err);
            if (rc == 0 && unlink(src) < 0)
                rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", src);
        } else {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot move '%s' to '%s'", src, dst);
        }
    }
    if (rc == 0)
        rc = stor_fsync_dir(s->errors_directory, err);
    free(dst);
    return rc;
}

/* Temporaries that put-wal or a compressed arrival's check left in
 * incoming/ when they were killed: hidden, named ".<name>.put.XXXXXX" or
 * ".<name>.check.XXXXXX", untouched for an hour (a live one is younger). */
#define STALE_SECONDS 3600

static bool is_stale_temp(const char *dir, const char *name, void *ctx)
{
    (void)ctx;
    if (name[0] != '.' || (!strstr(name, ".put.") && !strstr(name, ".check.")))
        return false;
    char *path = cel_xasprintf("%s/%s", dir, name);
    struct stat st;
    bool stale = lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                 time(NULL) - st.st_mtim.tv_sec > STALE_SECONDS;
    free(path);
    return stale;
}

static void remove_stale_temps(const struct run *run)
{
    const char *dir = run->src_dir;
    struct stor_names names;
    if (stor_list_dir(dir, is_stale_temp, NULL, &names, NULL) < 0)
        return;
    for (size_t i = 0; i < names.n; i++) {
        char *path = cel_xasprintf("%s/%s", dir, names.names[i]);
        if (unlink(path) == 0)
            log_msg(LOG_INFO, "%s: removed '%s', left by an interrupted put-wal", run->s->name,
                    path);
        free(path);
    }
    stor_names_free(&names);
}

/* Run the pre or post archive hooks of one file. Returns true when a pre
 * retry hook asked to stop the batch. */
static bool run_hooks(const struct run *run, const char *phase, const char *name,
                      const char *file, uint64_t size, double mtime, const char *compression,
                      const char *error)
{
    const struct cfg_server *s = run->s;
    if (!s->hooks[CFG_HOOK_PRE_ARCHIVE] && !s->hooks[CFG_HOOK_PRE_ARCHIVE_RETRY] &&
        !s->hooks[CFG_HOOK_POST_ARCHIVE] && !s->hooks[CFG_HOOK_POST_ARCHIVE_RETRY])
        return false;
    struct hook_vars vars = {0};
    op_wal_hook_vars(&vars, name, file, size, mtime, compression, error);
    bool stop = op_run_hooks(run->ctx, s, CFG_HOOK_PRE_ARCHIVE, "archive",
                             strcmp(phase, "pre") == 0, &vars, NULL);
    hook_vars_free(&vars);
    return stop;
}

static void free_items(struct item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].src);
        free(items[i].dst);
        free(items[i].tmp);
        free(items[i].dir);
    }
    free(items);
}

/* Stage 1: the files of incoming/ as items, in WAL order; files with names
 * that are not WAL names go straight to errors/. */
static int collect(struct run *run, struct op_archive_summary *sum, struct cel_err *err)
{
    const struct cfg_server *s = run->s;
    struct stor_names names;
    /* regular, visible, non-.tmp files (what Barman keeps), the rule
     * show-server and list-server count with */
    int rc = stor_list_dir(run->src_dir, op_wal_is_waiting, NULL, &names, err);
    if (rc < 0)
        return rc;
    if (run->streaming)
        op_wal_streaming_keep(&names);
    run->items = cel_xcalloc(names.n + 1, sizeof *run->items);
    int batch = run->streaming ? s->streaming_archiver_batch_size : s->archiver_batch_size;
    size_t limit = batch > 0 ? (size_t)batch : SIZE_MAX;
    for (size_t i = 0; i < names.n && run->n < limit; i++) {
        const char *name = names.names[i];
        if (!name)
            continue; /* kept in streaming/ */
        char *src = cel_xasprintf("%s/%s", run->src_dir, name);
        struct wal_name w;
        struct cel_err nerr = {0};
        struct stat lst;
        if (lstat(src, &lst) == 0 && S_ISLNK(lst.st_mode)) {
            struct cel_err merr = {0};
            if (to_errors(s, src, name, "symlink", &merr) < 0) {
                op_log(run->ctx, LOG_ERROR, s->name, "%s", merr.msg);
                sum->failed++;
            } else {
                op_log(run->ctx, LOG_WARNING, s->name,
                       "'%s' is a symbolic link, not a WAL file: moved to %s without following "
                       "it",
                       name, s->errors_directory);
                sum->rejected++;
            }
            free(src);
            continue;
        }
        if (strlen(name) >= WAL_NAME_MAX || wal_name_parse(name, &w, &nerr) < 0) {
            struct cel_err merr = {0};
            if (to_errors(s, src, name, "unknown", &merr) < 0) {
                op_log(run->ctx, LOG_ERROR, s->name, "%s", merr.msg);
                sum->failed++;
            } else {
                op_log(run->ctx, LOG_WARNING, s->name,
                       "'%s' is not a WAL file name, moved to %s: %s", name,
                       s->errors_directory, nerr.msg);
                sum->rejected++;
            }
            free(src);
            continue;
        }
        struct item *it = &run->items[run->n++];
        cel_strlcpy(it->name, name, sizeof it->name);
        it->w = w;
        it->src = src;
        it->dst = op_wal_path(s, name);
        const char *slash = strrchr(it->dst, '/');
        it->dir = cel_xstrndup(it->dst, (size_t)(slash - it->dst));
        it->tmp = cel_xasprintf("%s/.%s.cellar-tmp", it->dir, name);
    }
    stor_names_free(&names);
    return 0;
}

/* The index could not be written after some files were renamed into wals/:
 * take those out again, so that wals/ and xlog.db keep agreeing. Their
 * incoming copies are still there (they go only once the index is written),
 * and the next run archives them anew. */
static void unrename(const struct run *run, const struct prep *res, const bool *renamed,
                     struct op_archive_summary *sum)
{
    const struct op_ctx *ctx = run->ctx;
    const struct cfg_server *s = run->s;
    const char *synced_dir = NULL;
    for (size_t i = 0; i < run->n; i++) {
        const struct item *it = &run->items[i];
        if (!renamed[i])
            continue;
        if (unlink(it->dst) < 0) {
            op_log(ctx, LOG_WARNING, s->name, "cannot remove '%s': %s", it->dst, strerror(errno));
            continue;
        }
        sum->archived--;
        sum->bytes_in -= res[i].in_size;
        sum->bytes_out -= res[i].out_size;
        sum->failed++;
        op_log(ctx, LOG_ERROR, s->name,
               "cannot archive %s (left in %s): xlog.db could not be written", it->name,
               run->streaming ? "streaming" : "incoming");
        struct cel_err derr = {0};
        if ((!synced_dir || strcmp(synced_dir, it->dir) != 0) && stor_fsync_dir(it->dir, &derr) < 0)
            op_log(ctx, LOG_WARNING, s->name, "%s", derr.msg);
        synced_dir = it->dir;
    }
}

/* The restore points and commit times of the segments just archived, read
 * from their plain copies still in incoming/ (lock held). */
static void note_targets(const struct run *run, const bool *renamed)
{
    const char **names = cel_xcalloc(run->n + 1, sizeof *names);
    const char **plain = cel_xcalloc(run->n + 1, sizeof *plain);
    size_t n = 0;
    for (size_t i = 0; i < run->n; i++)
        if (renamed[i]) {
            names[n] = run->items[i].name;
            plain[n++] = run->items[i].src;
        }
    if (n)
        op_targets_note_archived(run->ctx, run->s, names, plain, n);
    free(names);
    free(plain);
}

/* xlog.db's state (stat), false when it cannot be had (then the index is
 * read again). */
static bool xdb_stat(const struct op_ctx *ctx, const struct cfg_server *s, struct stat *st)
{
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    char *path = xdb_path(&home);
    bool ok = path && stat(path, st) == 0;
    free(path);
    return ok;
}

/* The same file, unchanged: inode, size, and modification and change
 * times to the nanosecond (an append changes the size and times, a rewrite
 * the inode or its times). */
static bool same_file_state(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Stage 3, in the parent: commit the prepared items in WAL order. */
static int commit(struct run *run, const struct prep *res, const int *status,
                  struct op_archive_summary *sum, struct cel_err *err)
{
    const struct op_ctx *ctx = run->ctx;
    const struct cfg_server *s = run->s;
    struct lock *lock = NULL;
    int rc = xdb_lock(ctx->cfg->global.barman_lock_directory, s->name, &lock, err);
    if (rc < 0)
        return rc;
    /* the index read as the run started is still xlog.db's when no other
     * writer (retention's WAL purge, rebuild-xlogdb) has touched the file
     * since: then it is not read a second time */
    struct xdb index = {0};
    struct stat now;
    if (run->index_st_ok && xdb_stat(ctx, s, &now) && same_file_state(&now, &run->index_st)) {
        index = run->index;
        memset(&run->index, 0, sizeof run->index);
    } else {
        rc = op_xdb_read_repair(ctx, s, &index, err);
        if (rc < 0) {
            lock_release(lock);
            return rc;
        }
    }
    bool *drop = cel_xcalloc(run->n + 1, sizeof *drop);
    bool *renamed = cel_xcalloc(run->n + 1, sizeof *renamed);
    struct xdb_entry *added = cel_xcalloc(run->n + 1, sizeof *added);
    size_t n_added = 0;
    bool in_order = true;
    const char *last = index.n ? index.entries[index.n - 1].name : "";
    char *synced_dir = NULL;

    for (size_t i = 0; i < run->n; i++) {
        const struct item *it = &run->items[i];
        const struct prep *r = &res[i];
        int st = status[i] < 0 ? PREP_ERROR : r->status;
        const char *why = status[i] < 0 ? "the worker process died" : r->reason;
        struct cel_err merr = {0};
        switch (st) {
        case PREP_DEFER:
            sum->deferred++;
            log_msg(LOG_INFO, "%s: %s left in %s for now: %s", s->name, it->name,
                    run->streaming ? "streaming" : "incoming", why);
            continue;
        case PREP_ERROR:
            sum->failed++;
            op_log(ctx, LOG_ERROR, s->name, "cannot archive %s (left in %s): %s", it->name,
                   run->streaming ? "streaming" : "incoming", why);
            continue;
        case PREP_INVALID:
        case PREP_DUP_DIFF:
            if (to_errors(s, it->src, it->name, st == PREP_INVALID ? "invalid" : "duplicate",
                          &merr) < 0) {
                sum->failed++;
                op_log(ctx, LOG_ERROR, s->name, "%s", merr.msg);
            } else {
                sum->rejected++;
                op_log(ctx, LOG_WARNING, s->name, "%s rejected, moved to %s: %s", it->name,
                       s->errors_directory, why);
            }
            continue;
        case PREP_DUP_SAME:
            sum->duplicates++;
            drop[i] = true;
            log_msg(LOG_INFO, "%s: %s is already archived with the same content", s->name,
                    it->name);
            if (xdb_find(&index, it->name))
                continue;
            break; /* archived but not indexed (a crash): add its line */
        case PREP_READY:
            if (rename(it->tmp, it->dst) < 0) {
                sum->failed++;
                op_log(ctx, LOG_ERROR, s->name, "cannot rename '%s' to '%s': %s", it->tmp,
                       it->dst, strerror(errno));
                continue;
            }
            /* items come in WAL order, so one hash directory follows
             * another: fsync each once */
            if (!synced_dir || strcmp(synced_dir, it->dir) != 0) {
                if (synced_dir && stor_fsync_dir(synced_dir, &merr) < 0)
                    op_log(ctx, LOG_ERROR, s->name, "%s", merr.msg);
                free(synced_dir);
                synced_dir = cel_xstrdup(it->dir);
            }
            drop[i] = true;
            renamed[i] = true;
            sum->archived++;
            sum->bytes_in += r->in_size;
            sum->bytes_out += r->out_size;
            break;
        }
        struct xdb_entry *e = &added[n_added++];
        cel_strlcpy(e->name, it->name, sizeof e->name);
        e->size = r->out_size;
        e->time = r->mtime;
        if (r->compression != COMP_NONE)
            cel_strlcpy(e->compression, comp_name((enum comp_kind)r->compression),
                        sizeof e->compression);
        if (r->encrypted)
            cel_strlcpy(e->encryption, "gpg", sizeof e->encryption);
        if (strcmp(e->name, last) <= 0 || xdb_find(&index, e->name))
            in_order = false;
        last = e->name;
    }
    if (synced_dir && stor_fsync_dir(synced_dir, err) < 0) {
        rc = -err->code;
        memset(drop, 0, (run->n + 1) * sizeof *drop);
    }
    free(synced_dir);

    /* the index, then (only then) the incoming copies */
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    if (rc == 0 && n_added) {
        if (in_order) {
            rc = xdb_append(&home, added, n_added, err);
        } else {
            for (size_t k = 0; k < n_added; k++)
                xdb_put(&index, &added[k]);
            rc = xdb_rewrite(&home, &index, err);
        }
    }
    if (rc < 0)
        unrename(run, res, renamed, sum);
    else
        note_targets(run, renamed);
    lock_release(lock);
    /* the incoming files have been read for the last time (they are removed
     * below, or wait for the next run): give their page cache back */
    for (size_t i = 0; i < run->n; i++)
        if (res[i].status == PREP_READY)
            stor_drop_cache(run->items[i].src);
    if (rc == 0) {
        for (size_t i = 0; i < run->n; i++)
            if (renamed[i])
                op_log(ctx, LOG_INFO, s->name, "archived %s", run->items[i].name);
        for (size_t i = 0; i < run->n; i++)
            if (drop[i] && unlink(run->items[i].src) < 0 && errno != ENOENT)
                op_log(ctx, LOG_WARNING, s->name, "cannot remove '%s': %s",
                       run->items[i].src, strerror(errno));
        struct cel_err derr = {0};
        if (stor_fsync_dir(run->src_dir, &derr) < 0)
            op_log(ctx, LOG_WARNING, s->name, "%s", derr.msg);
        for (size_t i = 0; i < run->n; i++) {
            const struct prep *r = &res[i];
            if (renamed[i])
                run_hooks(run, "post", run->items[i].name, run->items[i].dst, r->out_size,
                          r->mtime,
                          r->compression != COMP_NONE ? comp_name((enum comp_kind)r->compression)
                                                      : "",
                          NULL);
        }
    }
    free(added);
    free(renamed);
    free(drop);
    xdb_free(&index);
    return rc;
}

/* One source directory (streaming/ or incoming/) through the three
 * stages; the server's archive-wal lock is held. */
static int archive_source(struct run *run, int workers, struct op_archive_summary *sum,
                          struct cel_err *err)
{
    const struct op_ctx *ctx = run->ctx;
    const struct cfg_server *s = run->s;
    remove_stale_temps(run);
    op_xdb_warn_ignored(ctx, s);
    int rc = collect(run, sum, err);
    /* xlog.db is read only when there is something to archive, or its last
     * line was cut short (then it is repaired at once): a cron minute with
     * nothing waiting costs a directory listing and one byte, not a parse of
     * the whole catalogue (Barman's archiver does not read it either) */
    struct xdb_home home = op_xdb_home(ctx->cfg, s);
    if (rc == 0 && (run->n > 0 || xdb_is_cut(&home))) {
        struct lock *xlock = NULL;
        rc = xdb_lock(ctx->cfg->global.barman_lock_directory, s->name, &xlock, err);
        if (rc == 0) {
            /* a last line cut short by a killed writer is repaired here, so
             * that one damaged line does not stop archiving */
            rc = op_xdb_read_repair(ctx, s, &run->index, err);
            if (rc == 0)
                run->index_st_ok = xdb_stat(ctx, s, &run->index_st);
            lock_release(xlock);
        }
    }
    if (rc == 0 && run->n > 0) {
        /* pre hooks in WAL order; a retry hook's "stop" ends the batch there */
        for (size_t i = 0; i < run->n; i++) {
            struct stat st;
            if (stat(run->items[i].src, &st) < 0)
                continue;
            if (run_hooks(run, "pre", run->items[i].name, run->items[i].src,
                          (uint64_t)st.st_size, mtime_of(&st), "", NULL)) {
                op_log(ctx, LOG_WARNING, s->name,
                       "pre_archive_retry_script asked to stop: archiving ends before %s",
                       run->items[i].name);
                run->n = i;
                break;
            }
        }
        struct prep *res = cel_xcalloc(run->n + 1, sizeof *res);
        int *status = cel_xcalloc(run->n + 1, sizeof *status);
        rc = par_run(run->n, workers, prepare, run, res, sizeof *res, status, err);
        if (rc == 0)
            rc = commit(run, res, status, sum, err);
        free(status);
        free(res);
    }
    free_items(run->items, run->n);
    run->items = NULL;
    run->n = 0;
    xdb_free(&run->index);
    return rc;
}

int op_archive_server(const struct op_ctx *ctx, const struct cfg_server *s, int workers,
                      struct op_archive_summary *sum, struct cel_err *err)
{
    memset(sum, 0, sizeof *sum);
    sum->server = s->name;
    int rc = op_server_dirs(s, err);
    if (rc < 0)
        return rc;
    struct lock *lock = NULL;
    rc = op_server_lock(ctx, s, "archive-wal", false, &lock, err);
    if (rc == -CEL_E_LOCKED) {
        sum->skipped_locked = true;
        op_server_lock_probe(ctx, s, "archive-wal", &sum->holder, NULL);
        return 0;
    }
    if (rc < 0)
        return rc;

    struct run run = {.ctx = ctx, .s = s};
    op_comp_opts(s, &run.opts);
    run.sysid = op_server_sysid(s);
    /* streaming/ first, as Barman's archivers run */
    if (s->streaming_archiver) {
        run.src_dir = s->streaming_wals_directory;
        run.streaming = true;
        rc = archive_source(&run, workers, sum, err);
    }
    if (rc == 0 && s->archiver) {
        run.src_dir = s->incoming_wals_directory;
        run.streaming = false;
        rc = archive_source(&run, workers, sum, err);
    }
    lock_release(lock);
    if (rc == 0 && sum->failed)
        rc = cel_err_set(err, CEL_E_IO, "%zu WAL file%s of server '%s' could not be archived",
                         sum->failed, sum->failed == 1 ? "" : "s", s->name);
    return rc;
}

/* ---- the command ---------------------------------------------------------------- */

void op_archive_summary_text(const struct op_archive_summary *s, struct strbuf *out)
{
    if (s->skipped_locked) {
        sb_appendf(out, "%s: skipped: another archiver is running", s->server);
        if (s->holder)
            sb_appendf(out, " (PID %ld)", (long)s->holder);
        return;
    }
    sb_appendf(out, "%s: %zu WAL file%s archived", s->server, s->archived,
               s->archived == 1 ? "" : "s");
    if (s->archived) {
        sb_append(out, " (");
        fmt_size((double)s->bytes_in, out);
        sb_append(out, " stored in ");
        fmt_size((double)s->bytes_out, out);
        sb_append(out, ")");
    }
    sb_appendf(out, ", %zu duplicate%s dropped, %zu rejected", s->duplicates,
               s->duplicates == 1 ? "" : "s", s->rejected);
    if (s->deferred)
        sb_appendf(out, ", %zu left for the next run", s->deferred);
    if (s->failed)
        sb_appendf(out, ", %zu failed", s->failed);
}

static void render_text(const void *p, struct strbuf *out)
{
    op_archive_summary_text(p, out);
    sb_append(out, "\n");
}

static json_t *render_json(const void *p)
{
    return op_archive_summary_json(p);
}

json_t *op_archive_summary_json(const struct op_archive_summary *s)
{
    return json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "server", s->server,
                     "skipped_locked", s->skipped_locked, "archived", (json_int_t)s->archived,
                     "duplicates", (json_int_t)s->duplicates, "rejected",
                     (json_int_t)s->rejected, "deferred", (json_int_t)s->deferred, "failed",
                     (json_int_t)s->failed, "bytes_in", (json_int_t)s->bytes_in, "bytes_out",
                     (json_int_t)s->bytes_out);
}

void op_archive_report(const struct op_ctx *ctx, const struct op_archive_summary *sum)
{
    struct op_result result = {"archive-wal", sum, render_text, render_json};
    op_result(ctx, &result);
}

/* archive-wal on one server: a phase line, the run, its summary. */
static int archive_one(const struct op_ctx *ctx, const struct cfg_server *s, const void *arg,
                       struct cel_err *err)
{
    const struct op_archive_wal_req *req = arg;
    if (s->streaming_archiver)
        op_phase(ctx, s->name, "archive", "Processing WAL files in %s",
                 s->streaming_wals_directory);
    if (s->archiver)
        op_phase(ctx, s->name, "archive", "Processing WAL files in %s",
                 s->incoming_wals_directory);
    struct op_archive_summary sum;
    int rc = op_archive_server(ctx, s, req->workers, &sum, err);
    op_archive_report(ctx, &sum);
    return rc;
}

int op_archive_wal(const struct op_ctx *ctx, const struct op_archive_wal_req *req,
                   struct cel_err *err)
{
    return op_each_server(ctx, req->server, false, archive_one, req, err);
}
