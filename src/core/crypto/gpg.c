/*
 * gpg.c - OpenPGP encryption of archived WAL files through gpgme (gpg.h).
 */
#define _GNU_SOURCE /* explicit_bzero */
#include "gpg.h"

#include <errno.h>
#include <fcntl.h>
#include <gpgme.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "cel.h"

bool gpg_is_message(const unsigned char *head, size_t len)
{
    static const char armor[] = "-----BEGIN PGP MESSAGE-----";
    if (len >= sizeof armor - 1 && memcmp(head, armor, sizeof armor - 1) == 0)
        return true;
    if (len < 4)
        return false;
    unsigned char b = head[0];
    if ((b & 0x80) == 0)
        return false;
    int tag;
    size_t body; /* where the packet body starts */
    if (b & 0x40) { /* new format: tag in 6 bits, length 1, 2 or 5 bytes */
        tag = b & 0x3f;
        body = head[1] < 192 ? 2 : head[1] < 224 ? 3 : 6;
    } else { /* old format: tag in 4 bits, length type in 2 */
        tag = (b >> 2) & 0x0f;
        int lt = b & 3;
        body = lt == 0 ? 2 : lt == 1 ? 3 : lt == 2 ? 5 : 1;
    }
    /* a public-key (1) or symmetric-key (3) encrypted session key, whose
     * body starts with its version: 3 (PKESK v3), 4 or 5/6 (SKESK) */
    if (body >= len || (tag != 1 && tag != 3))
        return false;
    unsigned char v = head[body];
    return tag == 1 ? (v == 3 || v == 6) : (v == 4 || v == 5 || v == 6);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static gpgme_error_t init_error;

static void init(void)
{
    (void)gpgme_check_version(NULL);
    init_error = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
}

static int gpg_fail(struct cel_err *err, enum cel_code code, gpgme_error_t e, const char *what)
{
    return cel_err_set(err, code, "%s: %s", what, gpgme_strerror(e));
}

/* A context for OpenPGP with a loopback pinentry: a passphrase asked for
 * comes from the callback, never from a terminal or an agent's dialog. */
static int new_ctx(gpgme_ctx_t *ctx, struct cel_err *err)
{
    pthread_once(&init_once, init);
    if (init_error)
        return gpg_fail(err, CEL_E_PROC, init_error, "GnuPG (gpg) cannot be used");
    gpgme_error_t e = gpgme_new(ctx);
    if (e)
        return gpg_fail(err, CEL_E_PROC, e, "cannot start GnuPG");
    gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP);
    gpgme_set_armor(*ctx, 0);
    if ((e = gpgme_set_pinentry_mode(*ctx, GPGME_PINENTRY_MODE_LOOPBACK)) != 0) {
        gpgme_release(*ctx);
        return gpg_fail(err, CEL_E_PROC, e, "GnuPG cannot take a passphrase by loopback");
    }
    return 0;
}

/* The one usable encryption key key_id names. */
static int find_key(gpgme_ctx_t ctx, const char *key_id, gpgme_key_t *out, struct cel_err *err)
{
    *out = NULL;
    gpgme_error_t e = gpgme_op_keylist_start(ctx, key_id, 0);
    gpgme_key_t key;
    while (!e && (e = gpgme_op_keylist_next(ctx, &key)) == 0) {
        if (!*out && key->can_encrypt && !key->revoked && !key->expired && !key->disabled &&
            !key->invalid)
            *out = key;
        else
            gpgme_key_unref(key);
    }
    gpgme_op_keylist_end(ctx);
    if (*out)
        return 0;
    if (e && gpgme_err_code(e) != GPG_ERR_EOF)
        return gpg_fail(err, CEL_E_PROC, e, "cannot list GnuPG's keys");
    return cel_err_set(err, CEL_E_CONFIG,
                       "GnuPG has no usable public key '%s' to encrypt to (encryption_key_id); "
                       "import it into the keyring of the user cellar runs as (GNUPGHOME)",
                       key_id);
}

/* Encrypt in_fd into out_fd, or (in_fd -1) Barman's test message into
 * nothing kept. */
static int encrypt(int in_fd, int out_fd, const char *key_id, struct cel_err *err)
{
    gpgme_ctx_t ctx;
    int rc = new_ctx(&ctx, err);
    if (rc < 0)
        return rc;
    static const char test[] = "I am a secret message. Encrypt me!"; /* Barman's */
    gpgme_key_t keys[2] = {NULL, NULL};
    gpgme_data_t in = NULL, out = NULL;
    gpgme_error_t e;
    if ((rc = find_key(ctx, key_id, &keys[0], err)) < 0)
        goto done;
    if ((e = in_fd >= 0 ? gpgme_data_new_from_fd(&in, in_fd)
                        : gpgme_data_new_from_mem(&in, test, sizeof test - 1, 0)) != 0 ||
        (e = out_fd >= 0 ? gpgme_data_new_from_fd(&out, out_fd) : gpgme_data_new(&out)) != 0) {
        rc = gpg_fail(err, CEL_E_PROC, e, "cannot set up GnuPG's data");
        goto done;
    }
    /* Barman's --compress-level 0: WAL is compressed by compression = */
    e = gpgme_op_encrypt(ctx, keys, GPGME_ENCRYPT_NO_COMPRESS, in, out);
    if (e) {
        gpgme_encrypt_result_t r = gpgme_op_encrypt_result(ctx);
        if (r && r->invalid_recipients)
            rc = cel_err_set(err, CEL_E_CONFIG,
                             "GnuPG refuses the key '%s' (encryption_key_id): %s; a key "
                             "imported from elsewhere must be trusted (gpg --edit-key ... trust)",
                             key_id, gpgme_strerror(r->invalid_recipients->reason));
        else
            rc = gpg_fail(err, CEL_E_PROC, e, "GnuPG cannot encrypt");
    }
done:
    gpgme_data_release(in);
    gpgme_data_release(out);
    if (keys[0])
        gpgme_key_unref(keys[0]);
    gpgme_release(ctx);
    return rc;
}

int gpg_encrypt_fd(int in_fd, int out_fd, const char *key_id, struct cel_err *err)
{
    return encrypt(in_fd, out_fd, key_id, err);
}

int gpg_encrypt_test(const char *key_id, struct cel_err *err)
{
    return encrypt(-1, -1, key_id, err);
}

struct secret {
    const char *pass;
    size_t len;
    int asked;
};

/* gpgme asks for the passphrase: write it and a newline to gpg's pipe.
 * Asked again (it was wrong), cancel rather than loop. */
static gpgme_error_t pass_cb(void *hook, const char *uid_hint, const char *info, int prev_bad,
                             int fd)
{
    (void)uid_hint;
    (void)info;
    struct secret *s = hook;
    if (prev_bad || s->asked++ > 0)
        return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
    if (gpgme_io_writen(fd, s->pass, s->len) < 0 || gpgme_io_writen(fd, "\n", 1) < 0)
        return gpgme_error_from_syserror();
    return 0;
}

/* The message of a failed decryption (0 for none). */
static int decrypt_result(gpgme_error_t e, const char *what, struct cel_err *err)
{
    switch (e ? gpgme_err_code(e) : GPG_ERR_NO_ERROR) {
    case GPG_ERR_NO_ERROR:
        return 0;
    case GPG_ERR_BAD_PASSPHRASE:
    case GPG_ERR_CANCELED:
        return cel_err_set(err, CEL_E_CONFIG,
                           "cannot decrypt %s: bad passphrase (encryption_passphrase_command)",
                           what);
    case GPG_ERR_NO_SECKEY:
        return cel_err_set(err, CEL_E_CONFIG,
                           "cannot decrypt %s: GnuPG has no private key it was encrypted to "
                           "(import it into the keyring of the user cellar runs as)",
                           what);
    case GPG_ERR_NO_DATA:
        return cel_err_set(err, CEL_E_FORMAT, "cannot decrypt %s: it is no OpenPGP message",
                           what);
    default:
        return cel_err_set(err, CEL_E_PROC, "cannot decrypt %s: %s", what, gpgme_strerror(e));
    }
}

/* The probe's output: the first plaintext byte shows the passphrase
 * opened the message; stop there. */
static ssize_t probe_write(void *hook, const void *buf, size_t size)
{
    (void)buf;
    (void)size;
    *(bool *)hook = true;
    errno = ECANCELED;
    return -1;
}

/* Decrypt in_fd into out_fd, or, with out_fd -1, only until the first
 * plaintext byte (a probe of the passphrase: nothing is written). */
static int decrypt(int in_fd, int out_fd, const char *pass, size_t len, const char *what,
                   struct cel_err *err)
{
    gpgme_ctx_t ctx;
    int rc = new_ctx(&ctx, err);
    if (rc < 0)
        return rc;
    struct secret s = {pass, len, 0};
    gpgme_set_passphrase_cb(ctx, pass_cb, &s);
    gpgme_data_t in = NULL, out = NULL;
    static struct gpgme_data_cbs probe_cbs = {.write = probe_write};
    bool opened = false;
    gpgme_error_t e;
    if ((e = gpgme_data_new_from_fd(&in, in_fd)) != 0 ||
        (e = out_fd >= 0 ? gpgme_data_new_from_fd(&out, out_fd)
                         : gpgme_data_new_from_cbs(&out, &probe_cbs, &opened)) != 0) {
        rc = gpg_fail(err, CEL_E_PROC, e, "cannot set up GnuPG's data");
        goto done;
    }
    e = gpgme_op_decrypt(ctx, in, out);
    rc = opened ? 0 : decrypt_result(e, what, err);
done:
    gpgme_data_release(in);
    gpgme_data_release(out);
    gpgme_release(ctx);
    return rc;
}

int gpg_decrypt_fd(int in_fd, int out_fd, const char *pass, size_t len, const char *what,
                   struct cel_err *err)
{
    return decrypt(in_fd, out_fd, pass, len, what, err);
}

int gpg_check_passphrase(int in_fd, const char *pass, size_t len, const char *what,
                         struct cel_err *err)
{
    return decrypt(in_fd, -1, pass, len, what, err);
}

int gpg_encrypt_file(const char *src, const char *dst, const char *key_id, uint64_t *size,
                     struct cel_err *err)
{
    int rc = 0;
    int out = -1;
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", src);
    if (unlink(dst) < 0 && errno != ENOENT) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", dst);
        goto out;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", dst);
        goto out;
    }
    struct stat st;
    if ((rc = gpg_encrypt_fd(in, out, key_id, err)) < 0)
        goto out;
    if (fsync(out) < 0 || fstat(out, &st) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", dst);
    else if (size)
        *size = (uint64_t)st.st_size;
out:
    close(in);
    if (out >= 0)
        close(out);
    if (rc < 0 && out >= 0)
        unlink(dst);
    return rc;
}

int gpg_passphrase(const char *command, char **pass, size_t *len, struct cel_err *err)
{
    *pass = NULL;
    *len = 0;
    struct proc_opts o = {.out_mode = PROC_CAPTURE, .err_mode = PROC_DISCARD,
                          .capture_max = 64 * 1024, .timeout_ms = 60000};
    struct proc_result res = {0};
    int rc = proc_run_shell(command, &o, &res, err);
    if (rc == 0 && (res.status != 0 || res.signal || res.timed_out))
        rc = cel_err_set(err, CEL_E_PROC,
                         "encryption_passphrase_command failed (exit status %d%s)", res.status,
                         res.timed_out ? ", timed out" : "");
    size_t n = 0;
    if (rc == 0 && res.out)
        while (n < res.out_len && res.out[n] != '\n' && res.out[n] != '\r')
            n++;
    if (rc == 0 && n == 0)
        rc = cel_err_set(err, CEL_E_PROC, "encryption_passphrase_command printed no passphrase");
    if (rc == 0) {
        *pass = cel_xmalloc(n + 1);
        memcpy(*pass, res.out, n);
        (*pass)[n] = '\0';
        *len = n;
    } else if (rc < 0 && err->code != CEL_E_PROC) {
        char why[sizeof err->msg];
        cel_strlcpy(why, err->msg, sizeof why);
        rc = cel_err_set(err, CEL_E_PROC, "cannot run encryption_passphrase_command: %s", why);
    }
    if (res.out)
        explicit_bzero(res.out, res.out_len);
    proc_result_free(&res);
    return rc;
}

void gpg_pass_free(char *pass, size_t len)
{
    if (!pass)
        return;
    explicit_bzero(pass, len);
    free(pass);
}
