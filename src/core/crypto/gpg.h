/*
 * gpg.h - Barman 3.14's `encryption = gpg` for archived WAL files, through
 * GnuPG's library gpgme (which runs gpg itself; the passphrase reaches it
 * through gpgme's loopback pinentry pipe, never an argument or a file).
 *
 * The format is the one Barman's encryption.py writes with the gpg command
 * line (`gpg --yes --batch --pinentry-mode loopback --compress-level 0
 * --recipient KEY --encrypt`): a binary (not armored) OpenPGP message,
 * public-key encrypted to one recipient, with no compression inside. The
 * archived file keeps the WAL name, without a ".gpg" suffix; compression,
 * when configured, comes first. GNUPGHOME is the running user's.
 */
#ifndef CEL_GPG_H
#define CEL_GPG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Is the start of a file an OpenPGP encrypted message? head is the file's
 * first len bytes (16 are enough): a binary message starts with a public-key
 * or symmetric-key encrypted session key packet (old or new packet format),
 * an armored one with "-----BEGIN PGP MESSAGE-----". */
bool gpg_is_message(const unsigned char *head, size_t len);

/* Encrypt the file in_fd (read from its current offset) to key_id into
 * out_fd. Nothing is synced: the caller renames the result into place.
 * -CEL_E_CONFIG when GnuPG has no usable public key key_id, -CEL_E_PROC for
 * GnuPG's other failures. */
int gpg_encrypt_fd(int in_fd, int out_fd, const char *key_id, struct cel_err *err);

/* Encrypt a short test message to key_id and throw the result away (as
 * Barman's check_encryption does): 0 when GnuPG can encrypt to the key.
 * Errors as gpg_encrypt_fd. */
int gpg_encrypt_test(const char *key_id, struct cel_err *err);

/* Encrypt the file src to key_id into the new file dst (mode 0600, fsynced,
 * not renamed; an existing dst is replaced). *size (may be NULL) gets dst's
 * size. On failure dst is removed. Errors as gpg_encrypt_fd, -CEL_E_IO for
 * the files. */
int gpg_encrypt_file(const char *src, const char *dst, const char *key_id, uint64_t *size,
                     struct cel_err *err);

/* Decrypt in_fd into out_fd with the private key's passphrase (len bytes,
 * not NUL-terminated). -CEL_E_CONFIG for a bad passphrase or a missing
 * private key, -CEL_E_FORMAT when in_fd is no encrypted message, -CEL_E_PROC
 * otherwise. out_fd may hold partial output on failure: decrypt into a
 * temporary. what names the file in messages. */
int gpg_decrypt_fd(int in_fd, int out_fd, const char *pass, size_t len, const char *what,
                   struct cel_err *err);

/* Does the passphrase open the message in_fd? Decrypts only until the first
 * plaintext byte and writes nothing (gpg reads no further than the start of
 * the data). 0 when it opens; otherwise gpg_decrypt_fd's errors. */
int gpg_check_passphrase(int in_fd, const char *pass, size_t len, const char *what,
                         struct cel_err *err);

/* Run the DBA's encryption_passphrase_command (sh -c, through the process
 * runner; its stderr is discarded, as Barman does, in case it prints the
 * secret there) and return its first line in *pass (*len bytes, malloc'd;
 * free with gpg_pass_free). -CEL_E_PROC when it fails or prints nothing. */
int gpg_passphrase(const char *command, char **pass, size_t *len, struct cel_err *err);

/* Wipe and free a passphrase. */
void gpg_pass_free(char *pass, size_t len);

#endif
