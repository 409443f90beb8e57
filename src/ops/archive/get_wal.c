/*
 * get_wal.c - `cellar get-wal SERVER NAME [-o DIR]`: an archived WAL file's
 * original bytes, for restore_command = 'cellar get-wal SERVER %f > %p'.
 *
 * The file is found at its archived place (wals/<hash>/NAME, or wals/NAME
 * for a history file), decompressed by its magic bytes (op_archived_kind:
 * a file taken as custom-compressed without custom_decompression_filter is
 * refused, and nothing is written), and written to the
 * descriptor given (standard output) or, with --output-directory, to
 * DIR/NAME through a temporary file, fsync and rename, so PostgreSQL never
 * sees half a segment. A file the archive does not have is NOT_FOUND (exit
 * status 1), which tells PostgreSQL that recovery has reached the end of
 * the archive. Nothing but the WAL bytes is ever written to standard output.
 *
 * With streaming_archiver = on a segment not archived yet is also taken
 * from streaming/, where pg_receivewal completed it, and with --partial the
 * segment pg_receivewal is still receiving (streaming/NAME.partial), then
 * an archived NAME.partial (the end of an old timeline): Barman's places
 * and order, so that a recovery through get-wal replays the streamed WAL
 * up to the last record received. The archived place is looked at again
 * last, for a file the archiver moved meanwhile.
 *
 * An archived file that is a GnuPG message (encryption = gpg) is first
 * decrypted whole into memory with encryption_passphrase_command's
 * passphrase (op_wal_decrypted): a failure writes nothing.
 */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bucket_server.h"
#include "ops.h"
#include "server.h"
#include "server_select.h"
#include "storage.h"
#include "wal_archive.h"

struct model {
    const char *server;
    const char *name;
    const char *path;
    uint64_t bytes;
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    sb_appendf(out, "%s: wrote %s (%llu bytes)\n", m->server, m->path,
               (unsigned long long)m->bytes);
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:s, s:s, s:I}", "server", m->server, "name", m->name, "path",
                     m->path, "bytes", (json_int_t)m->bytes);
}

/* Decompress src (of kind) into dir/name durably. */
static int write_into_dir(const struct cfg_server *s, enum comp_kind kind, const char *src,
                          const char *dir, const char *name, uint64_t *bytes,
                          struct cel_err *err)
{
    struct comp_opts opts;
    op_comp_opts(s, &opts);
    char *tmp = cel_xasprintf("%s/.%s.get.XXXXXX", dir, name);
    char *dst = cel_xasprintf("%s/%s", dir, name);
    int rc = 0;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create a file in '%s'", dir);
        goto out;
    }
    rc = comp_decompress_to_fd(kind, src, fd, &opts, bytes, err);
    if (rc == 0 && fsync(fd) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", tmp);
    if (close(fd) < 0 && rc == 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot close '%s'", tmp);
    if (rc == 0 && rename(tmp, dst) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot rename '%s' to '%s'", tmp, dst);
    if (rc == 0)
        rc = stor_fsync_dir(dir, err);
    if (rc < 0)
        unlink(tmp);
out:
    free(tmp);
    free(dst);
    return rc;
}

/* Is the archived file path there? NOT_FOUND only when it is truly absent:
 * PostgreSQL takes a failing restore_command for the end of the archive,
 * so a file that cannot be read (permissions) must say so, not "missing". */
static int archived_file(const struct cfg_server *s, const char *path, const char *name,
                         struct cel_err *err)
{
    struct stat st;
    errno = 0;
    int found = stat(path, &st);
    if (found == 0 && S_ISREG(st.st_mode))
        return 0;
    if (found == 0)
        errno = 0; /* something else than a file: as good as absent */
    if (errno == ENOENT || errno == ENOTDIR || errno == 0)
        return cel_err_set(err, CEL_E_NOT_FOUND, "%s is not in the WAL archive of server '%s'",
                           name, s->name);
    int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot reach %s in the WAL archive of server "
                                               "'%s' (%s)",
                         name, s->name, path);
    cel_err_hint(err, "get-wal runs as the PostgreSQL server's user: it must be able to read "
                      "the archive (and the configuration file).");
    return rc;
}

/* A file taken as custom-compressed can be read only through
 * custom_decompression_filter: without one, refuse (rather than hand out
 * bytes nothing decompressed) and say what to set. */
static int readable(const struct cfg_server *s, const char *name, enum comp_kind kind,
                    struct cel_err *err)
{
    if (kind != COMP_CUSTOM || s->custom_decompression_filter)
        return 0;
    int rc = cel_err_set(err, CEL_E_CONFIG,
                         "cannot read %s from the WAL archive of server '%s': it was written by "
                         "a custom compression filter (xlog.db says so, or it is not a plain WAL "
                         "file and starts with no known compression magic), and "
                         "custom_decompression_filter is not set",
                         name, s->name);
    cel_err_hint(err,
                 "Set custom_decompression_filter (and custom_compression_magic) for server "
                 "'%s' to the filter the file was archived with.",
                 s->name);
    return rc;
}

int op_wal_restore(const struct op_ctx *ctx, const struct cfg_server *s, const struct xdb *index,
                   const char *name, const char *dir, uint64_t *bytes, struct cel_err *err)
{
    char *path = op_wal_path(s, name);
    char *plain = NULL;
    int pfd = -1;
    int rc = 0;
    enum comp_kind kind;
    rc = archived_file(s, path, name, err);
    if (rc == 0)
        rc = op_wal_decrypted(s, path, name, &plain, &pfd, err);
    if (rc == 0)
        rc = op_archived_kind(ctx, s, plain, name, index, &kind, err);
    if (rc == 0)
        rc = readable(s, name, kind, err);
    if (rc == 0)
        rc = write_into_dir(s, kind, plain, dir, name, bytes, err);
    if (pfd >= 0)
        close(pfd);
    free(plain);
    free(path);
    return rc;
}

int op_wal_read(const struct op_ctx *ctx, const struct cfg_server *s, const struct xdb *index,
                const char *name, size_t max, unsigned char **buf, size_t *len, struct cel_err *err)
{
    *buf = NULL;
    *len = 0;
    char *path = op_wal_path(s, name);
    enum comp_kind kind;
    int pfd = -1;
    int rc = archived_file(s, path, name, err);
    if (rc == 0) {
        /* an encrypted file is read from its decrypted memory copy */
        char *plain = NULL;
        rc = op_wal_decrypted(s, path, name, &plain, &pfd, err);
        free(path);
        path = plain ? plain : cel_xstrdup("");
    }
    if (rc == 0)
        rc = op_archived_kind(ctx, s, path, name, index, &kind, err);
    if (rc == 0 && kind == COMP_NONE) {
        char *text = NULL;
        rc = stor_read_file(path, max, &text, len, err);
        *buf = (unsigned char *)text;
        if (pfd >= 0)
            close(pfd);
        free(path);
        return rc;
    }
    /* decompressed into an unlinked temporary file, then read back */
    FILE *tmp = rc == 0 ? tmpfile() : NULL;
    if (rc == 0 && !tmp)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create a temporary file");
    struct comp_opts opts;
    op_comp_opts(s, &opts);
    uint64_t bytes = 0;
    if (rc == 0)
        rc = comp_decompress_to_fd(kind, path, fileno(tmp), &opts, &bytes, err);
    if (rc == 0 && bytes > max)
        rc = cel_err_set(err, CEL_E_FORMAT, "'%s' decompresses to %llu bytes, more than %zu", path,
                         (unsigned long long)bytes, max);
    unsigned char *data = rc == 0 ? cel_xmalloc((size_t)bytes + 1) : NULL;
    for (size_t got = 0; rc == 0 && got < bytes;) {
        ssize_t n = pread(fileno(tmp), data + got, (size_t)bytes - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = cel_err_sys(err, CEL_E_IO, n < 0 ? errno : EIO,
                             "cannot read back '%s' decompressed", path);
        else
            got += (size_t)n;
    }
    if (rc == 0) {
        data[bytes] = '\0';
        *buf = data;
        *len = (size_t)bytes;
    } else {
        free(data);
    }
    if (tmp)
        fclose(tmp);
    if (pfd >= 0)
        close(pfd);
    free(path);
    return rc;
}

/* A bucket server's WAL file: fetched from the bucket into DIR/NAME, or
 * into a private temporary directory and from there to out_fd. */
static int bucket_get_wal(const struct op_ctx *ctx, const struct cfg_server *s,
                          const struct op_get_wal_req *req, struct cel_err *err)
{
    if (req->output_dir) {
        char *dst = cel_xasprintf("%s/%s", req->output_dir, req->name);
        int rc = op_bucket_fetch_wal(ctx, s, req->name, dst, err);
        struct stat st;
        if (rc == 0) {
            struct model m = {s->name, req->name, dst,
                              stat(dst, &st) == 0 ? (uint64_t)st.st_size : 0};
            struct op_result result = {"get-wal", &m, render_text, render_json};
            op_result(ctx, &result);
        }
        free(dst);
        return rc;
    }
    const char *tmpdir = getenv("TMPDIR");
    char *dir = cel_xasprintf("%s/cellar-get-wal.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create a directory in '%s'",
                             tmpdir && *tmpdir ? tmpdir : "/tmp");
        free(dir);
        return rc;
    }
    char *tmp = cel_xasprintf("%s/%s", dir, req->name);
    uint64_t bytes = 0;
    int rc = op_bucket_fetch_wal(ctx, s, req->name, tmp, err);
    if (rc == 0)
        rc = comp_decompress_to_fd(COMP_NONE, tmp, req->out_fd, NULL, &bytes, err);
    (void)unlink(tmp);
    (void)rmdir(dir);
    free(tmp);
    free(dir);
    return rc;
}

int op_get_wal(const struct op_ctx *ctx, const struct op_get_wal_req *req, struct cel_err *err)
{
    const struct cfg_server *s = NULL;
    int rc = op_one_server(ctx, req->server, "get-wal", &s, err);
    if (rc < 0)
        return rc;
    struct wal_name w;
    if (strlen(req->name) >= WAL_NAME_MAX || wal_name_parse(req->name, &w, err) < 0)
        return -CEL_E_INVALID;

    if (s->cloud_source)
        return bucket_get_wal(ctx, s, req, err);
    char *path = op_wal_path(s, req->name);
    char *name = cel_xstrdup(req->name);
    int pfd = -1;
    if (!stor_is_file(path)) {
        /* the other places, in Barman's order (see the top of the file) */
        char *places[5] = {0};
        size_t n = 0;
        const char *dir = s->streaming_wals_directory;
        bool segment = w.kind == WAL_KIND_SEGMENT;
        if (s->streaming_archiver)
            places[n++] = cel_xasprintf("%s/%s", dir, req->name);
        if (req->partial && segment && s->streaming_archiver) {
            places[n++] = cel_xasprintf("%s/%s.partial", dir, req->name);
            places[n++] = cel_xasprintf("%s/%s", dir, req->name);
        }
        if (req->partial && segment)
            places[n++] = cel_xasprintf("%s.partial", path);
        places[n++] = cel_xstrdup(path);
        for (size_t i = 0; i < n; i++) {
            if (stor_is_file(places[i]) || i == n - 1) {
                free(path);
                path = places[i];
                places[i] = NULL;
                break;
            }
        }
        for (size_t i = 0; i < n; i++)
            free(places[i]);
    }
    if ((rc = archived_file(s, path, req->name, err)) < 0)
        goto out;
    /* an encrypted file (encryption = gpg) is decrypted whole into memory
     * first: a bad passphrase writes nothing */
    char *plain = NULL;
    if ((rc = op_wal_decrypted(s, path, req->name, &plain, &pfd, err)) < 0)
        goto out;
    free(path);
    path = plain;
    enum comp_kind kind;
    if ((rc = op_archived_kind(ctx, s, path, req->name, NULL, &kind, err)) < 0 ||
        (rc = readable(s, req->name, kind, err)) < 0)
        goto out;
    uint64_t bytes = 0;
    if (req->output_dir) {
        rc = write_into_dir(s, kind, path, req->output_dir, name, &bytes, err);
        if (rc == 0) {
            char *dst = cel_xasprintf("%s/%s", req->output_dir, name);
            struct model m = {s->name, name, dst, bytes};
            struct op_result result = {"get-wal", &m, render_text, render_json};
            op_result(ctx, &result);
            free(dst);
        }
    } else {
        struct comp_opts opts;
        op_comp_opts(s, &opts);
        rc = comp_decompress_to_fd(kind, path, req->out_fd, &opts, &bytes, err);
    }
    if (rc == 0)
        log_msg(LOG_DEBUG, "%s: get-wal %s (%s, %llu bytes)", s->name, req->name,
                comp_name(kind), (unsigned long long)bytes);
out:
    if (rc < 0 && rc != -CEL_E_NOT_FOUND)
        log_msg(LOG_ERROR, "%s: get-wal %s: %s", s->name, req->name, err->msg);
    if (pfd >= 0)
        close(pfd);
    free(path);
    free(name);
    return rc;
}
