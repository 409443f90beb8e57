/*
 * recover_dest.c - file operations on a recovery's destination: local
 * calls, or commands run on the remote host through rsync_remote_run
 * (argv quoted for the remote shell, never pasted into a string) and files
 * shipped with rsync from a local scratch directory. Tar archives go
 * through neither: rd_untar streams them, decompressed (and decrypted, for
 * an encrypted backup: GnuPG in a thread feeding the decompressor through a
 * pipe), into tar's standard input, locally or over ssh alike.
 */
#define _GNU_SOURCE /* mkdtemp, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "gpg.h"
#include "recover_int.h"
#include "storage.h"

int rd_init(struct rdest *d, const char *ssh, const char *path_prefix, bool stage,
            struct cel_err *err)
{
    memset(d, 0, sizeof *d);
    d->ssh = ssh;
    d->path_prefix = path_prefix;
    if (!ssh || !stage)
        return 0;
    const char *tmp = getenv("TMPDIR");
    d->stage = cel_xasprintf("%s/cellar-recover.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(d->stage)) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create a scratch directory %s",
                             d->stage);
        free(d->stage);
        d->stage = NULL;
        return rc;
    }
    return 0;
}

void rd_free(struct rdest *d)
{
    if (d->stage)
        stor_remove_tree(d->stage, NULL);
    free(d->stage);
    d->stage = NULL;
}

void rd_rsync_opts(const struct rdest *d, struct rsync_opts *o)
{
    o->ssh_command = d->ssh;
    o->remote_is_dest = d->ssh != NULL;
    o->path_prefix = d->path_prefix;
}

/* Run argv where the destination is. */
static int run(const struct rdest *d, const char *const argv[], char **out, struct cel_err *err)
{
    return rsync_remote_run(d->ssh, d->path_prefix, argv, out, err);
}

int rd_check_empty(const struct rdest *d, const char *path, const char *what,
                   struct cel_err *err)
{
    char *listing = NULL;
    int rc = 0;
    if (d->ssh) {
        const char *argv[] = {"sh", "-c", "[ ! -e \"$1\" ] || ls -A -- \"$1\"", "sh", path, NULL};
        rc = run(d, argv, &listing, err);
    } else if (stor_exists(path)) {
        if (!stor_is_dir(path)) {
            listing = cel_xstrdup(path);
        } else {
            struct stor_names names;
            rc = stor_list_dir(path, NULL, NULL, &names, err);
            if (rc == 0 && names.n)
                listing = cel_xstrdup(names.names[0]);
            if (rc == 0)
                stor_names_free(&names);
        }
    }
    if (rc == 0 && listing && listing[strspn(listing, " \n")]) {
        rc = cel_err_set(err, CEL_E_CONFLICT, "the %s %s%s%s is not empty", what,
                         d->ssh ? d->ssh : "", d->ssh ? ":" : "", path);
        cel_err_hint(err, "Recover into a new or empty directory; nothing was written.");
    }
    free(listing);
    return rc;
}

int rd_mkdir(const struct rdest *d, const char *path, struct cel_err *err)
{
    if (!d->ssh)
        return stor_mkdir_p(path, 0700, err);
    const char *argv[] = {"mkdir", "-p", "-m", "700", "--", path, NULL};
    return run(d, argv, NULL, err);
}

int rd_symlink(const struct rdest *d, const char *target, const char *link, struct cel_err *err)
{
    if (d->ssh) {
        const char *argv[] = {"ln", "-sfn", "--", target, link, NULL};
        return run(d, argv, NULL, err);
    }
    if ((unlink(link) < 0 && errno != ENOENT) || symlink(target, link) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot link %s to %s", link, target);
    char *copy = cel_xstrdup(link);
    int rc = stor_fsync_dir(dirname(copy), err);
    free(copy);
    return rc;
}

int rd_read(const struct rdest *d, const char *path, char **out, struct cel_err *err)
{
    *out = NULL;
    if (d->ssh) {
        const char *argv[] = {"sh", "-c", "[ ! -e \"$1\" ] || cat -- \"$1\"", "sh", path, NULL};
        char *text = NULL;
        int rc = run(d, argv, &text, err);
        if (rc == 0 && text && *text)
            *out = text;
        else
            free(text);
        return rc;
    }
    if (!stor_exists(path))
        return 0;
    size_t len = 0;
    return stor_read_file(path, 64u << 20, out, &len, err);
}

int rd_write(const struct rdest *d, const char *path, const char *data, size_t len,
             struct cel_err *err)
{
    if (!d->ssh)
        return stor_write_file(path, data, len, 0600, err);
    char *copy = cel_xstrdup(path);
    char *local = cel_xasprintf("%s/%s", d->stage, basename(copy));
    int rc = stor_write_file(local, data, len, 0600, err);
    if (rc == 0) {
        struct rsync_opts o = {0};
        rd_rsync_opts(d, &o);
        rc = rsync_copy_file(local, path, &o, err);
    }
    unlink(local);
    free(local);
    free(copy);
    return rc;
}

struct untar_feed {
    struct proc *p;
    const struct rd_untar_opts *o;
    uint64_t bytes;
};

/* The decompressed archive, piece by piece, into tar's standard input. */
static int untar_feed(void *ctx, const unsigned char *data, size_t len, struct cel_err *err)
{
    struct untar_feed *f = ctx;
    int rc = proc_write(f->p, data, len, err);
    f->bytes += len;
    if (rc == 0 && f->o->progress)
        f->o->progress(f->o->ctx, f->bytes);
    return rc;
}

/* An encrypted archive: GnuPG decrypts it in a thread into a pipe, which
 * cellar's decompressor reads (nothing touches the disk). */
struct decryptor {
    int in, out; /* the archive, the pipe's writing end */
    const struct rd_untar_opts *o;
    const char *what;
    int rc;
    struct cel_err err;
};

static void *decrypt_main(void *arg)
{
    struct decryptor *d = arg;
    /* a reader that stopped makes the write fail with EPIPE, not kill us */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    d->rc = gpg_decrypt_fd(d->in, d->out, d->o->pass, d->o->pass_len, d->what, &d->err);
    close(d->out);
    return NULL;
}

static int decrypted_each(const char *archive, enum comp_kind kind,
                          const struct rd_untar_opts *o,
                          int (*fn)(void *ctx, const unsigned char *data, size_t len,
                                    struct cel_err *err),
                          void *ctx, uint64_t *bytes, struct cel_err *err)
{
    const char *slash = strrchr(archive, '/');
    struct decryptor d = {.o = o, .what = slash ? slash + 1 : archive};
    int fds[2];
    d.in = open(archive, O_RDONLY | O_CLOEXEC);
    if (d.in < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", archive);
    if (pipe2(fds, O_CLOEXEC) < 0) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot make a pipe to decrypt '%s'", archive);
        close(d.in);
        return rc;
    }
    d.out = fds[1];
    pthread_t t;
    if (pthread_create(&t, NULL, decrypt_main, &d) != 0) {
        close(fds[0]);
        close(fds[1]);
        close(d.in);
        return cel_err_set(err, CEL_E_NOMEM, "cannot start a decryption thread");
    }
    int rc = comp_decompress_fd_each(kind, fds[0], archive, fn, ctx, bytes, err);
    close(fds[0]); /* a decryption still writing stops */
    pthread_join(t, NULL);
    close(d.in);
    /* GnuPG's failure (bad passphrase, damaged message) is the cause of a
     * stream that ended short */
    if (d.rc < 0 && (rc == 0 || d.err.code != CEL_E_PROC)) {
        if (err)
            *err = d.err;
        return d.rc;
    }
    return rc;
}

int rd_untar(const struct rdest *d, const char *archive, enum comp_kind kind, const char *dir,
             const struct rd_untar_opts *opts, uint64_t *bytes, struct cel_err *err)
{
    static const struct rd_untar_opts defaults;
    const struct rd_untar_opts *o = opts ? opts : &defaults;
    const char *const *exclude = o->exclude;
    if (bytes)
        *bytes = 0;
    size_t n_ex = 0;
    while (exclude && exclude[n_ex])
        n_ex++;
    const char **argv = cel_xcalloc(8 + 2 * n_ex, sizeof *argv);
    size_t n = 0;
    argv[n++] = "tar";
    argv[n++] = "-x";
    argv[n++] = "-f";
    argv[n++] = "-";
    argv[n++] = "-C";
    argv[n++] = dir;
    for (size_t i = 0; i < n_ex; i++) {
        argv[n++] = "--exclude";
        argv[n++] = exclude[i];
    }
    argv[n] = NULL;
    struct proc_opts po = {.path_prefix = d->path_prefix, .stdin_stream = true,
                           .err_mode = PROC_CAPTURE, .out_mode = PROC_CAPTURE};
    struct proc *p = NULL;
    int rc = rsync_remote_start(d->ssh, argv, &po, &p, err);
    if (rc == 0) {
        struct cel_err feed_err = {0};
        struct untar_feed f = {.p = p, .o = o};
        int frc = o->pass ? decrypted_each(archive, kind, o, untar_feed, &f, bytes, &feed_err)
                          : comp_decompress_each(kind, archive, NULL, untar_feed, &f, bytes,
                                                 &feed_err);
        struct proc_result res = {0};
        rc = proc_finish(p, &res, err);
        rc = rsync_remote_result(d->ssh, "tar", rc, &res, 0, err);
        /* the archive's own damage is the cause of whatever tar then says;
         * a write tar stopped reading is explained by tar's complaint */
        if (frc < 0 && (rc == 0 || frc != -CEL_E_PROC)) {
            rc = frc;
            if (err)
                *err = feed_err;
        }
        proc_result_free(&res);
    }
    free(argv);
    return rc;
}

/* Is text (up to len bytes) a run of decimal digits? */
static bool all_digits(const char *text, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    return true;
}

int rd_parse_df(const char *text, uint64_t *out, struct cel_err *err)
{
    /* the last non-empty line */
    const char *line = NULL;
    size_t line_len = 0;
    for (const char *p = text ? text : ""; *p;) {
        size_t n = strcspn(p, "\n");
        if (n > strspn(p, " \t")) {
            line = p;
            line_len = n;
        }
        p += n + (p[n] == '\n');
    }
    /* its fields; Available is the one before the first "NN%" preceded by
     * three numbers (1024-blocks, Used, Available) */
    const char *field[64];
    size_t flen[64], nf = 0;
    for (size_t i = 0; line && i < line_len && nf < CEL_ARRAY_LEN(field);) {
        i += strspn(line + i, " \t");
        size_t n = 0;
        while (i + n < line_len && line[i + n] != ' ' && line[i + n] != '\t')
            n++;
        if (n) {
            field[nf] = line + i;
            flen[nf++] = n;
        }
        i += n;
    }
    for (size_t k = 3; k < nf; k++) {
        if (flen[k] < 2 || field[k][flen[k] - 1] != '%' || !all_digits(field[k], flen[k] - 1) ||
            !all_digits(field[k - 1], flen[k - 1]) || !all_digits(field[k - 2], flen[k - 2]) ||
            !all_digits(field[k - 3], flen[k - 3]) || flen[k - 1] > 15)
            continue;
        uint64_t kib = strtoull(field[k - 1], NULL, 10);
        *out = kib * 1024;
        return 0;
    }
    return cel_err_set(err, CEL_E_FORMAT, "cannot read the free space from df's output '%.*s'",
                       (int)(line_len > 200 ? 200 : line_len), line ? line : "");
}

int rd_free_space(const struct rdest *d, const char *path, uint64_t *out, struct cel_err *err)
{
    if (d->ssh) {
        const char *argv[] = {"sh", "-c",
                              "p=$1; while [ ! -e \"$p\" ]; do p=$(dirname -- \"$p\"); done; "
                              "df -Pk -- \"$p\"",
                              "sh", path, NULL};
        char *text = NULL;
        int rc = run(d, argv, &text, err);
        if (rc == 0)
            rc = rd_parse_df(text, out, err);
        free(text);
        return rc;
    }
    char *cur = cel_xstrdup(path);
    struct stat st;
    while (stat(cur, &st) < 0 && strcmp(cur, "/") != 0 && strcmp(cur, ".") != 0) {
        char *up = cel_xstrdup(dirname(cur));
        free(cur);
        cur = up;
    }
    struct statvfs v;
    int rc = 0;
    if (statvfs(cur, &v) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read the free space of %s", cur);
    else
        *out = (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
    free(cur);
    return rc;
}
