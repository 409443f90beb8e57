/*
 * archived_kind.c - how an archived WAL file is compressed. Magic bytes
 * decide first; a file no magic matches is plain only when its content is
 * the WAL file its name says (walcheck), else xlog.db's record decides, and
 * a file nothing vouches for is custom, as Barman assumes: plain bytes are
 * never handed out for WAL that a filter no longer configured wrote.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gpg.h"
#include "server.h"
#include "wal_archive.h"
#include "walcheck.h"
#include "wal.h"

/* The compression xlog.db records for name (index, else the file read
 * under its lock): 0 with *out set, 1 when xlog.db does not list name. */
static int recorded_kind(const struct op_ctx *ctx, const struct cfg_server *s, const char *name,
                         const struct xdb *index, enum comp_kind *out, struct cel_err *err)
{
    struct xdb loaded = {0};
    if (!index) {
        int rc = op_xdb_load(ctx, s, &loaded, err);
        if (rc < 0)
            return rc;
        index = &loaded;
    }
    const struct xdb_entry *e = xdb_find(index, name);
    int rc = e ? 0 : 1;
    /* xdb_parse accepted only names comp_parse_name knows */
    if (e && comp_parse_name(e->compression, out, NULL) < 0)
        *out = COMP_CUSTOM;
    xdb_free(&loaded);
    return rc;
}

int op_archived_kind(const struct op_ctx *ctx, const struct cfg_server *s, const char *path,
                     const char *name, const struct xdb *index, enum comp_kind *out,
                     struct cel_err *err)
{
    struct comp_opts opts;
    op_comp_opts(s, &opts);
    int rc = comp_detect_file(path, &opts, out, err);
    if (rc < 0 || *out != COMP_NONE)
        return rc;
    if (s->compression == COMP_CUSTOM && !opts.custom_magic) {
        /* Barman's rule: without a magic, what no magic matches is custom,
         * unless xlog.db says otherwise */
        rc = recorded_kind(ctx, s, name, index, out, err);
        if (rc == 1)
            *out = COMP_CUSTOM;
        return rc < 0 ? rc : 0;
    }
    /* No magic matches. Handing out these bytes as they are is right only
     * when they are the plain file: a file written by a custom filter that
     * is no longer configured (or whose magic was changed) must never pass
     * for WAL. So the content must be what its name says (walcheck), or
     * xlog.db's record says how it was compressed, or it is taken as
     * custom (what Barman assumes of a file no magic matches), which needs
     * custom_decompression_filter to be read. */
    struct wal_name w;
    struct cel_err werr = {0};
    if (wal_name_parse(name, &w, NULL) == 0 && walcheck_file(path, &w, NULL, &werr) == 0)
        return 0;
    if (werr.code == CEL_E_IO || werr.code == CEL_E_NOT_FOUND) {
        *err = werr;
        return -werr.code;
    }
    rc = recorded_kind(ctx, s, name, index, out, err);
    if (rc < 0)
        return rc;
    if (rc == 1 || *out == COMP_NONE)
        *out = COMP_CUSTOM;
    return 0;
}

int op_archived_encrypted(const char *path, bool *yes, struct cel_err *err)
{
    *yes = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", path);
    unsigned char head[32];
    ssize_t n;
    do
        n = pread(fd, head, sizeof head, 0);
    while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0)
        return cel_err_sys(err, CEL_E_IO, saved, "cannot read '%s'", path);
    *yes = gpg_is_message(head, (size_t)n);
    return 0;
}

/* The passphrase, asked once per process and command (as Barman caches it
 * for one command run): a recovery decrypts many files. */
static pthread_mutex_t pass_mu = PTHREAD_MUTEX_INITIALIZER;
static char *pass_cmd, *pass_val;
static size_t pass_len;

int op_gpg_passphrase(const struct cfg_server *s, const char *what, char **pass, size_t *len,
                      struct cel_err *err)
{
    if (!s->encryption_passphrase_command || !*s->encryption_passphrase_command) {
        int rc = cel_err_set(err, CEL_E_CONFIG,
                             "encrypted %s detected, but no encryption_passphrase_command is "
                             "configured for server '%s'",
                             what, s->name);
        cel_err_hint(err, "Set encryption_passphrase_command to a command that prints the "
                          "passphrase of the private key it was encrypted to.");
        return rc;
    }
    pthread_mutex_lock(&pass_mu);
    int rc = 0;
    if (!pass_cmd || strcmp(pass_cmd, s->encryption_passphrase_command) != 0) {
        gpg_pass_free(pass_val, pass_len);
        free(pass_cmd);
        pass_cmd = NULL;
        pass_val = NULL;
        pass_len = 0;
        rc = gpg_passphrase(s->encryption_passphrase_command, &pass_val, &pass_len, err);
        if (rc == 0)
            pass_cmd = cel_xstrdup(s->encryption_passphrase_command);
    }
    if (rc == 0) {
        *pass = cel_xmalloc(pass_len + 1);
        memcpy(*pass, pass_val, pass_len + 1);
        *len = pass_len;
    }
    pthread_mutex_unlock(&pass_mu);
    return rc;
}

int op_wal_decrypted(const struct cfg_server *s, const char *path, const char *name,
                     char **plain, int *fd, struct cel_err *err)
{
    *plain = NULL;
    *fd = -1;
    bool enc = false;
    int rc = op_archived_encrypted(path, &enc, err);
    if (rc < 0)
        return rc;
    if (!enc) {
        *plain = cel_xstrdup(path);
        return 0;
    }
    char *pass = NULL;
    size_t len = 0;
    char what[WAL_NAME_MAX + 64];
    snprintf(what, sizeof what, "WAL file '%s'", name);
    if ((rc = op_gpg_passphrase(s, what, &pass, &len, err)) < 0)
        return rc;
    int in = open(path, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : memfd_create("cellar-wal", MFD_CLOEXEC);
    if (in < 0 || out < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, in < 0 ? "cannot open '%s'" :
                         "cannot create a memory file to decrypt '%s'", path);
    } else {
        snprintf(what, sizeof what, "WAL file %s", name);
        rc = gpg_decrypt_fd(in, out, pass, len, what, err);
    }
    gpg_pass_free(pass, len);
    if (in >= 0)
        close(in);
    if (rc < 0) {
        if (out >= 0)
            close(out);
        return rc;
    }
    *fd = out;
    *plain = cel_xasprintf("/proc/self/fd/%d", out);
    return 0;
}
