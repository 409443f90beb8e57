/*
 * Unit tests of src/core/crypto/gpg.c: recognising an OpenPGP encrypted
 * message by its first bytes (the archived WAL files of encryption = gpg,
 * as gpg writes them for Barman's encryption.py), and reading the
 * passphrase from encryption_passphrase_command.
 */
#include "unit.h"

#include "gpg.h"

#define IS_MSG(...)                                                                                \
    gpg_is_message((const unsigned char[]){__VA_ARGS__},                                          \
                   sizeof((const unsigned char[]){__VA_ARGS__}))

static void test_gpg_messages(void **state)
{
    (void)state;
    /* what gpg 2.2 writes to an RSA key: old-format tag 1, 2-byte length,
     * PKESK version 3 */
    assert_true(IS_MSG(0x85, 0x01, 0x8c, 0x03, 0x91, 0xaf, 0xbf, 0x1f));
    /* to a Curve25519 key: old-format tag 1, 1-byte length */
    assert_true(IS_MSG(0x84, 0x5e, 0x03, 0x12, 0x34, 0x56, 0x78, 0x9a));
    /* new packet format (0xc1) with a one-byte length, and a 5-byte one */
    assert_true(IS_MSG(0xc1, 0x5e, 0x03, 0x12, 0x34, 0x56));
    assert_true(IS_MSG(0xc1, 0xff, 0x00, 0x00, 0x01, 0x00, 0x03, 0x00));
    /* a passphrase-only message: SKESK version 4 */
    assert_true(IS_MSG(0x8c, 0x0d, 0x04, 0x09, 0x03, 0x08));
    static const char armor[] = "-----BEGIN PGP MESSAGE-----\n\nhQGMA...";
    assert_true(gpg_is_message((const unsigned char *)armor, sizeof armor - 1));
}

static void test_gpg_not_messages(void **state)
{
    (void)state;
    /* the WAL formats the archive holds: PostgreSQL 15's page magic, gzip,
     * bzip2, zstd, lz4 */
    assert_false(IS_MSG(0x10, 0xd1, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00));
    assert_false(IS_MSG(0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00));
    assert_false(IS_MSG('B', 'Z', 'h', '9', '1', 'A', 'Y', '&'));
    assert_false(IS_MSG(0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00, 0x00, 0x00));
    assert_false(IS_MSG(0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x00));
    /* a history file, a signature packet (tag 2), a PKESK of an unknown
     * version, and too short to tell */
    static const char hist[] = "1\t0/3000000\tno recovery target specified\n";
    assert_false(gpg_is_message((const unsigned char *)hist, sizeof hist - 1));
    assert_false(IS_MSG(0x89, 0x01, 0x33, 0x04, 0x00, 0x01));
    assert_false(IS_MSG(0x85, 0x01, 0x8c, 0x07, 0x00, 0x00));
    assert_false(IS_MSG(0x85, 0x01, 0x8c));
    assert_false(gpg_is_message((const unsigned char *)"", 0));
    /* a length that runs past what was read */
    assert_false(IS_MSG(0xc1, 0xff, 0x00, 0x00, 0x01));
    static const char half_armor[] = "-----BEGIN PGP MESS";
    assert_false(gpg_is_message((const unsigned char *)half_armor, sizeof half_armor - 1));
}

static void test_gpg_passphrase(void **state)
{
    (void)state;
    char *pass = NULL;
    size_t len = 0;
    struct cel_err err = {0};
    /* the first line, without its newline; stderr is not read */
    assert_int_equal(gpg_passphrase("printf 's3cret word\\nsecond\\n'; echo noise >&2", &pass,
                                    &len, &err),
                     0);
    assert_int_equal(len, 11);
    assert_memory_equal(pass, "s3cret word", 11);
    gpg_pass_free(pass, len);

    assert_int_equal(gpg_passphrase("exit 3", &pass, &len, &err), -CEL_E_PROC);
    assert_non_null(strstr(err.msg, "encryption_passphrase_command failed (exit status 3"));
    assert_null(pass);
    assert_int_equal(gpg_passphrase("true", &pass, &len, &err), -CEL_E_PROC);
    assert_string_equal(err.msg, "encryption_passphrase_command printed no passphrase");
    assert_int_equal(gpg_passphrase("printf '\\nlater'", &pass, &len, &err), -CEL_E_PROC);
    gpg_pass_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpg_messages),
        cmocka_unit_test(test_gpg_not_messages),
        cmocka_unit_test(test_gpg_passphrase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
