/*
 * backup_encrypt.c - Barman 3.14's encrypted tar backups (encryption = gpg
 * with backup_method = postgres, backup_compression and
 * backup_compression_format = tar), in Barman's layout
 * (barman/backup.py _encrypt_tar_backup): once pg_basebackup has written
 * the compressed archives, every file of data/ whose name ends in ".tar"
 * or ".tar.EXT" (base.tar.gz, OID.tar.gz) becomes NAME.gpg, a binary
 * OpenPGP message to encryption_key_id made as Barman's gpg command line
 * makes it (no compression inside: gpg.h), and the clear archive is
 * removed. backup_manifest and anything else stay as they are.
 *
 * Each message is written to NAME.gpg.tmp, fsynced and renamed; data/ is
 * fsynced at the end. A failure, here or anywhere in the backup, removes
 * every clear archive and temporary (bk_drop_clear_tars), so a FAILED
 * backup of such a server keeps nothing in clear.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "backup_int.h"
#include "gpg.h"
#include "storage.h"

static const char tmp_suffix[] = ".gpg.tmp";

bool bk_is_clear_tar(const char *name)
{
    /* Barman's re.search(r"\.tar(\.[^.]+)?$", filename): some ".tar" is
     * followed by the end, or by one more extension and the end */
    for (const char *t = strstr(name, ".tar"); t; t = strstr(t + 1, ".tar")) {
        const char *rest = t + 4;
        if (!*rest || (rest[0] == '.' && rest[1] && !strchr(rest + 1, '.')))
            return true;
    }
    return false;
}

static bool is_clear_or_tmp(const char *dir, const char *name, void *ctx)
{
    (void)dir;
    (void)ctx;
    size_t n = strlen(name), k = strlen(tmp_suffix);
    return bk_is_clear_tar(name) || (n > k && strcmp(name + n - k, tmp_suffix) == 0);
}

static bool is_clear(const char *dir, const char *name, void *ctx)
{
    (void)dir;
    (void)ctx;
    return bk_is_clear_tar(name);
}

int bk_encrypt_tars(const struct op_ctx *ctx, const struct cfg_server *s, const char *backup_dir,
                    struct cel_err *err)
{
    char *data = cel_xasprintf("%s/data", backup_dir);
    struct stor_names names = {0};
    int rc = stor_list_dir(data, is_clear, NULL, &names, err);
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        char *src = cel_xasprintf("%s/%s", data, names.names[i]);
        char *tmp = cel_xasprintf("%s%s", src, tmp_suffix);
        char *dst = cel_xasprintf("%s.gpg", src);
        op_log(ctx, LOG_INFO, s->name, "encrypting %s to %s", names.names[i],
               s->encryption_key_id);
        rc = gpg_encrypt_file(src, tmp, s->encryption_key_id, NULL, err);
        if (rc < 0) {
            cel_err_prefix(err, "cannot encrypt %s", names.names[i]);
        } else if (rename(tmp, dst) < 0) {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot rename '%s' to '%s'", tmp, dst);
        } else if (unlink(src) < 0) {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", src);
        }
        free(src);
        free(tmp);
        free(dst);
    }
    if (rc == 0)
        rc = stor_fsync_dir(data, err);
    stor_names_free(&names);
    free(data);
    return rc;
}

void bk_drop_clear_tars(const struct op_ctx *ctx, const struct cfg_server *s,
                        const char *backup_dir)
{
    char *data = cel_xasprintf("%s/data", backup_dir);
    struct stor_names names = {0};
    struct cel_err err = {0};
    if (stor_list_dir(data, is_clear_or_tmp, NULL, &names, &err) < 0 &&
        err.code != CEL_E_NOT_FOUND)
        op_log(ctx, LOG_WARNING, s->name, "cannot list %s to remove its clear archives: %s", data,
               err.msg);
    for (size_t i = 0; i < names.n; i++) {
        char *p = cel_xasprintf("%s/%s", data, names.names[i]);
        if (unlink(p) < 0 && errno != ENOENT)
            op_log(ctx, LOG_WARNING, s->name, "cannot remove the clear archive %s: %s", p,
                   strerror(errno));
        free(p);
    }
    if (names.n)
        stor_fsync_dir(data, NULL);
    stor_names_free(&names);
    free(data);
}

int bk_check_encryptable(const struct cfg_server *s, struct cel_err *err)
{
    /* Barman's EncryptionManager._validate_gpg, in its order and words */
    const char *why = s->backup_method != CFG_BM_POSTGRES ? "backup_method != postgres"
                      : !s->backup_compression          ? "backup_compression is unset"
                      : s->backup_compression_format != CFG_BBF_TAR
                          ? "backup_compression_format != tar"
                          : NULL;
    if (!why)
        return 0;
    int rc = cel_err_set(err, CEL_E_CONFIG, "Encryption is set as gpg, but %s", why);
    cel_err_hint(err, "Barman 3.14 encrypts only the tar files of backup_method = postgres, and "
                      "cellar writes no backup of this server unencrypted: set backup_method = "
                      "postgres, backup_compression = gzip (or lz4, zstd) and "
                      "backup_compression_format = tar, or encryption = none.");
    return rc;
}
