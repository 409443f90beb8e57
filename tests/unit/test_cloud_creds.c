/* Unit tests of src/core/cloud/cloud_creds.c: AWS credentials as boto3 finds
 * them. The expected results of the file cases were given by botocore 1.29's
 * SharedCredentialProvider (Debian's python3-botocore) on the same texts. */
#include "unit.h"

#include "cloud_creds.h"

/* ---- the credentials file parser ---------------------------------------- */

/* Parse text for profile "default"; expect found credentials. */
static void assert_creds(const char *text, const char *ak, const char *sk, const char *tok)
{
    struct cloud_creds c;
    struct cel_err err = {0};
    bool found = false;
    assert_int_equal(cloud_creds_parse(text, strlen(text), "default", "/c", &c, &found, &err), 0);
    assert_true(found);
    assert_string_equal(c.access_key, ak);
    assert_string_equal(c.secret_key, sk);
    if (tok)
        assert_string_equal(c.session_token, tok);
    else
        assert_null(c.session_token);
    assert_string_equal(c.origin, "'/c' profile 'default'");
    cloud_creds_free(&c);
    assert_null(c.access_key);
}

static void test_cloud_creds_parse_as_configparser(void **state)
{
    (void)state;
    assert_creds("[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n", "AK", "SK",
                 NULL);
    /* ':' delimits too, keys are case-insensitive, the first delimiter splits */
    assert_creds("[default]\nAWS_Access_Key_ID: AK\naws_secret_access_key:SK:x=y\n", "AK", "SK:x=y",
                 NULL);
    /* no inline comments */
    assert_creds("[default]\naws_access_key_id = AK # c\naws_secret_access_key = SK\n", "AK # c",
                 "SK", NULL);
    /* continuation lines, blank lines inside a value, comments skipped */
    assert_creds("[default]\naws_access_key_id = AK\naws_secret_access_key = S\n  K\n\n", "AK",
                 "S\nK", NULL);
    assert_creds("[default]\naws_access_key_id = AK\naws_secret_access_key = S\n\n  K\n", "AK",
                 "S\n\nK", NULL);
    assert_creds("[default]\naws_access_key_id = AK\naws_secret_access_key = S\n# c\n  K\n", "AK",
                 "S\nK", NULL);
    /* an indented "[other]" continues the value before it */
    assert_creds("[default]\naws_access_key_id = AK\n  [other]\naws_secret_access_key = SK\n",
                 "AK\n[other]", "SK", NULL);
    /* [DEFAULT] is inherited; the profile's own keys win */
    assert_creds("[DEFAULT]\naws_secret_access_key = DS\n[default]\naws_access_key_id = AK\n", "AK",
                 "DS", NULL);
    assert_creds("[DEFAULT]\naws_secret_access_key = DS\n[default]\naws_access_key_id = AK\n"
                 "aws_secret_access_key = OWN\n",
                 "AK", "OWN", NULL);
    /* text after the closing ']' is ignored */
    assert_creds("[default] junk\naws_access_key_id = AK\naws_secret_access_key = SK\n", "AK", "SK",
                 NULL);
    /* line ends: \r\n and a lone \r */
    assert_creds("[default]\r\naws_access_key_id = AK\r\naws_secret_access_key = SK\r\n", "AK",
                 "SK", NULL);
    assert_creds("[default]\raws_access_key_id = AK\raws_secret_access_key = SK\r", "AK", "SK",
                 NULL);
    /* aws_security_token before aws_session_token, as botocore looks */
    assert_creds("[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n"
                 "aws_session_token = ST\naws_security_token = XT\n",
                 "AK", "SK", "XT");
    assert_creds("[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n"
                 "aws_session_token = ST\n",
                 "AK", "SK", "ST");
    assert_creds("[default]\n  aws_access_key_id = AK\naws_secret_access_key = SK\n", "AK", "SK",
                 NULL);
    assert_creds("; c\n# d\n[default]\naws_access_key_id=AK\naws_secret_access_key=SK", "AK", "SK",
                 NULL);
    /* the tempauth key of the tests has a colon */
    assert_creds("[default]\naws_access_key_id = test:tester\naws_secret_access_key = testing\n",
                 "test:tester", "testing", NULL);
}

static void assert_not_found(const char *text, const char *profile)
{
    struct cloud_creds c = {0};
    struct cel_err err = {0};
    bool found = true;
    assert_int_equal(cloud_creds_parse(text, strlen(text), profile, "/c", &c, &found, &err), 0);
    assert_false(found);
    assert_null(c.access_key);
}

static void test_cloud_creds_parse_not_found(void **state)
{
    (void)state;
    assert_not_found("[other]\naws_access_key_id = AK\naws_secret_access_key = SK\n", "default");
    assert_not_found("[a]b]\naws_access_key_id = AK\naws_secret_access_key = SK\n", "default");
    assert_not_found("[default]\nregion = us-east-1\n", "default");
    assert_not_found("", "default");
    /* [DEFAULT] is not a profile of its own */
    assert_not_found("[DEFAULT]\naws_access_key_id = AK\naws_secret_access_key = SK\n", "DEFAULT");
    /* section names are case-sensitive */
    assert_not_found("[Prod]\naws_access_key_id = AK\naws_secret_access_key = SK\n", "prod");
    assert_creds("[prod]\naws_access_key_id = P\naws_secret_access_key = Q\n"
                 "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n",
                 "AK", "SK", NULL);
}

/* Parse text (which holds the secret "SECRETVALUE" somewhere); expect code
 * and message, and no trace of the secret in message or hint. */
static void assert_parse_error(const char *text, size_t len, int code, const char *msg)
{
    struct cloud_creds c = {0};
    struct cel_err err = {0};
    bool found = true;
    assert_int_equal(cloud_creds_parse(text, len, "default", "/c", &c, &found, &err), -code);
    assert_false(found);
    assert_null(c.access_key);
    assert_string_equal(err.msg, msg);
    assert_null(strstr(err.msg, "SECRET"));
    assert_null(strstr(err.hint, "SECRET"));
}
#define PARSE_ERROR(text, code, msg) assert_parse_error(text, sizeof(text) - 1, code, msg)

static void test_cloud_creds_parse_errors_hide_secrets(void **state)
{
    (void)state;
    PARSE_ERROR("[default]\n[default]\naws_secret_access_key = SECRETVALUE\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 2: a section appears a second time");
    PARSE_ERROR("[default]\naws_secret_access_key=SECRETVALUE\nAWS_SECRET_ACCESS_KEY=x\n",
                CEL_E_FORMAT,
                "cannot read credentials file '/c': line 3: a key appears a second time in its "
                "section");
    PARSE_ERROR("aws_secret_access_key = SECRETVALUE\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 1: a line before the first [section]");
    PARSE_ERROR("[default]\naws_access_key_id = AK\nSECRETVALUE\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 3: neither a [section] nor a key = "
                "value");
    PARSE_ERROR("[default]\n= SECRETVALUE\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 2: no key before the '=' or ':'");
    PARSE_ERROR("[]\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 1: a line before the first [section]");
    PARSE_ERROR("[default]\n[]\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 2: neither a [section] nor a key = "
                "value");
    PARSE_ERROR("[default]\naws_secret_access_key = SECRETVALUE\xff\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 2: not UTF-8 text");
    PARSE_ERROR("[default]\naws_secret_access_key = SECRET\0VALUE\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 2: a NUL byte (not a text file)");
    PARSE_ERROR("[default]\naws_access_key_id = SECRETVALUE\n", CEL_E_CONFIG,
                "profile 'default' in '/c' has aws_access_key_id but no aws_secret_access_key");
    PARSE_ERROR("[default]\naws_access_key_id = AK\naws_secret_access_key =\n  K = SECRETVALUE\n",
                CEL_E_CONFIG,
                "aws_secret_access_key of profile 'default' in '/c' is a nested block, not a "
                "value");
    PARSE_ERROR("[default]\naws_access_key_id =\naws_secret_access_key = SECRETVALUE\n",
                CEL_E_CONFIG, "aws_access_key_id of profile 'default' in '/c' is empty");
    PARSE_ERROR("[default]\naws_access_key_id = AK\naws_secret_access_key = \n", CEL_E_CONFIG,
                "aws_secret_access_key of profile 'default' in '/c' is empty");
    /* valid UTF-8 beyond ASCII is text */
    assert_creds("[default]\naws_access_key_id = \xc3\xa9\naws_secret_access_key = \xe2\x82\xac\n",
                 "\xc3\xa9", "\xe2\x82\xac", NULL);
    /* overlong, surrogate and cut sequences are not */
    PARSE_ERROR("[default]\n\xc0\xaf = SECRETVALUE\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 2: not UTF-8 text");
    PARSE_ERROR("[default]\nk = \xed\xa0\x80 SECRETVALUE\n", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 2: not UTF-8 text");
    PARSE_ERROR("[default]\nk = SECRETVALUE\xe2\x82", CEL_E_FORMAT,
                "cannot read credentials file '/c': line 2: not UTF-8 text");
}

/* ---- the chain: environment, then the file ------------------------------ */

/* A fake environment for the tests: NAME=VALUE strings. */
static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = fake_env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static int load(const char *profile, const char *const *env, struct cloud_creds *c,
                struct cel_err *err)
{
    fake_env = env;
    return cloud_creds_load(&(struct cloud_creds_opts){.profile = profile, .getenv = fake_getenv},
                            c, err);
}

static const char file_text[] = "[default]\naws_access_key_id = FILEAK\n"
                                "aws_secret_access_key = FILESK\n"
                                "[prod]\naws_access_key_id = PRODAK\n"
                                "aws_secret_access_key = PRODSK\naws_session_token = PRODST\n";

static void test_cloud_creds_load_environment_first(void **state)
{
    (void)state;
    char path[4300];
    snprintf(path, sizeof path, "AWS_SHARED_CREDENTIALS_FILE=%s", unit_path("creds"));
    unit_write("creds", file_text);
    struct cloud_creds c;
    struct cel_err err = {0};
    const char *env1[] = {"AWS_ACCESS_KEY_ID=test:tester", "AWS_SECRET_ACCESS_KEY=testing", path,
                          NULL};
    assert_int_equal(load(NULL, env1, &c, &err), 0);
    assert_string_equal(c.access_key, "test:tester");
    assert_string_equal(c.secret_key, "testing");
    assert_null(c.session_token);
    assert_string_equal(c.origin, "environment");
    cloud_creds_free(&c);
    /* AWS_SECURITY_TOKEN before AWS_SESSION_TOKEN; an empty one does not count */
    const char *env2[] = {"AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=S", "AWS_SESSION_TOKEN=ST",
                          "AWS_SECURITY_TOKEN=", NULL};
    assert_int_equal(load(NULL, env2, &c, &err), 0);
    assert_string_equal(c.session_token, "ST");
    cloud_creds_free(&c);
    /* AWS_PROFILE does not outrank the environment's keys */
    const char *env3[] = {"AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=S", "AWS_PROFILE=prod",
                          path, NULL};
    assert_int_equal(load(NULL, env3, &c, &err), 0);
    assert_string_equal(c.access_key, "A");
    cloud_creds_free(&c);
    /* --profile does: the environment's keys are not read */
    assert_int_equal(load("prod", env1, &c, &err), 0);
    assert_string_equal(c.access_key, "PRODAK");
    assert_string_equal(c.session_token, "PRODST");
    cloud_creds_free(&c);
}

static void test_cloud_creds_load_environment_errors(void **state)
{
    (void)state;
    struct cloud_creds c = {0};
    struct cel_err err = {0};
    const char *env1[] = {"AWS_ACCESS_KEY_ID=SECRETAK", NULL};
    assert_int_equal(load(NULL, env1, &c, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    assert_string_equal(err.hint, "Set both, or neither to use the shared credentials file.");
    const char *env2[] = {"AWS_ACCESS_KEY_ID=SECRETAK", "AWS_SECRET_ACCESS_KEY=", NULL};
    assert_int_equal(load(NULL, env2, &c, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is empty");
    assert_null(c.access_key);
}

static void test_cloud_creds_load_file_and_profiles(void **state)
{
    (void)state;
    char home[4300], path[4300];
    snprintf(home, sizeof home, "HOME=%s", unit_tmp);
    snprintf(path, sizeof path, "AWS_SHARED_CREDENTIALS_FILE=%s/other", unit_tmp);
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/.aws", unit_tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    unit_write(".aws/credentials", file_text);
    struct cloud_creds c;
    struct cel_err err = {0};
    const char *env1[] = {home, "AWS_ACCESS_KEY_ID=", NULL};
    assert_int_equal(load(NULL, env1, &c, &err), 0);
    assert_string_equal(c.access_key, "FILEAK");
    char origin[4400];
    snprintf(origin, sizeof origin, "'%s/.aws/credentials' profile 'default'", unit_tmp);
    assert_string_equal(c.origin, origin);
    cloud_creds_free(&c);
    /* AWS_DEFAULT_PROFILE before AWS_PROFILE */
    const char *env2[] = {home, "AWS_PROFILE=default", "AWS_DEFAULT_PROFILE=prod", NULL};
    assert_int_equal(load(NULL, env2, &c, &err), 0);
    assert_string_equal(c.access_key, "PRODAK");
    cloud_creds_free(&c);
    const char *env3[] = {home, "AWS_PROFILE=prod", NULL};
    assert_int_equal(load(NULL, env3, &c, &err), 0);
    assert_string_equal(c.access_key, "PRODAK");
    cloud_creds_free(&c);
    /* AWS_SHARED_CREDENTIALS_FILE with $VAR and ~ expanded, as botocore does */
    unit_write("other", "[default]\naws_access_key_id=O\naws_secret_access_key=P\n");
    const char *env4[] = {home, "AWS_SHARED_CREDENTIALS_FILE=~/other", NULL};
    assert_int_equal(load(NULL, env4, &c, &err), 0);
    assert_string_equal(c.access_key, "O");
    cloud_creds_free(&c);
    const char *env5[] = {home, "AWS_SHARED_CREDENTIALS_FILE=${HOME}/other", NULL};
    assert_int_equal(load(NULL, env5, &c, &err), 0);
    assert_string_equal(c.access_key, "O");
    cloud_creds_free(&c);
    const char *env6[] = {path, NULL};
    assert_int_equal(load(NULL, env6, &c, &err), 0);
    assert_string_equal(c.access_key, "O");
    cloud_creds_free(&c);
}

static void test_cloud_creds_load_config_file(void **state)
{
    (void)state;
    char home[4300];
    snprintf(home, sizeof home, "HOME=%s", unit_tmp);
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/.aws", unit_tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    /* checked with botocore 1.29: a profile without keys in the credentials
     * file lets the config file's [profile prod] answer */
    unit_write(".aws/credentials", "[prod]\nregion = x\n");
    unit_write(".aws/config", "[default]\nregion = us-east-1\n[profile prod]\n"
                              "aws_access_key_id = CA\naws_secret_access_key = CS\n");
    struct cloud_creds c;
    struct cel_err err = {0};
    const char *env[] = {home, NULL};
    assert_int_equal(load("prod", env, &c, &err), 0);
    assert_string_equal(c.access_key, "CA");
    char origin[4400];
    snprintf(origin, sizeof origin, "'%s/.aws/config' profile 'prod'", unit_tmp);
    assert_string_equal(c.origin, origin);
    cloud_creds_free(&c);
    /* [prod] in the config file is not profile prod */
    bool found = true;
    static const char text[] = "[prod]\naws_access_key_id = A\naws_secret_access_key = S\n";
    assert_int_equal(
        cloud_creds_parse_config(text, sizeof text - 1, "prod", "/c", &c, &found, &err), 0);
    assert_false(found);
    /* the default profile: [default], else [profile default] */
    static const char d1[] = "[profile default]\naws_access_key_id = PD\n"
                             "aws_secret_access_key = S\n[default]\naws_access_key_id = D\n"
                             "aws_secret_access_key = S\n";
    assert_int_equal(cloud_creds_parse_config(d1, sizeof d1 - 1, "default", "/c", &c, &found, &err),
                     0);
    assert_true(found);
    assert_string_equal(c.access_key, "D");
    cloud_creds_free(&c);
    static const char d2[] = "[profile default]\naws_access_key_id = PD\n"
                             "aws_secret_access_key = S\n";
    assert_int_equal(cloud_creds_parse_config(d2, sizeof d2 - 1, "default", "/c", &c, &found, &err),
                     0);
    assert_true(found);
    assert_string_equal(c.access_key, "PD");
    cloud_creds_free(&c);
    /* the default profile from the config file, found through AWS_CONFIG_FILE */
    unit_write("conf", "[default]\naws_access_key_id = X\naws_secret_access_key = Y\n");
    char conf[4300];
    snprintf(conf, sizeof conf, "AWS_CONFIG_FILE=%s", unit_path("conf"));
    const char *env2[] = {home, conf, NULL};
    assert_int_equal(load(NULL, env2, &c, &err), 0);
    assert_string_equal(c.access_key, "X");
    cloud_creds_free(&c);
}

static void test_cloud_creds_load_not_found(void **state)
{
    (void)state;
    char home[4300];
    snprintf(home, sizeof home, "HOME=%s", unit_tmp);
    struct cloud_creds c = {0};
    struct cel_err err = {0};
    char msg[9000], hint[4500];
    const char *env1[] = {home, NULL};
    assert_int_equal(load(NULL, env1, &c, &err), -CEL_E_NOT_FOUND);
    snprintf(msg, sizeof msg,
             "no AWS credentials found: AWS_ACCESS_KEY_ID is not set, and neither "
             "'%s/.aws/credentials' nor '%s/.aws/config' has them for profile 'default'",
             unit_tmp, unit_tmp);
    assert_string_equal(err.msg, msg);
    snprintf(hint, sizeof hint,
             "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or write them as "
             "aws_access_key_id and aws_secret_access_key under [default] in "
             "'%s/.aws/credentials'.",
             unit_tmp);
    assert_string_equal(err.hint, hint);
    unit_write("creds", "[default]\nregion = x\n");
    char path[4300];
    snprintf(path, sizeof path, "AWS_SHARED_CREDENTIALS_FILE=%s", unit_path("creds"));
    const char *env2[] = {home, path, "AWS_ACCESS_KEY_ID=SECRETAK", "AWS_CONFIG_FILE=/nonexistent",
                          NULL};
    assert_int_equal(load("prod", env2, &c, &err), -CEL_E_NOT_FOUND);
    snprintf(msg, sizeof msg,
             "no AWS credentials found for profile 'prod': neither '%s' nor '/nonexistent' has "
             "them (the environment's keys are not read when a profile is given)",
             unit_path("creds"));
    assert_string_equal(err.msg, msg);
    assert_null(strstr(err.msg, "SECRET"));
    /* a directory where a file should be is no file, as for boto3 */
    const char *env4[] = {home, "AWS_SHARED_CREDENTIALS_FILE=/", "AWS_CONFIG_FILE=/", NULL};
    assert_int_equal(load(NULL, env4, &c, &err), -CEL_E_NOT_FOUND);
    assert_null(c.access_key);
    /* a broken config file is reported like a broken credentials file */
    unit_write("badconf", "[profile prod]\nSECRETVALUE\n");
    snprintf(path, sizeof path, "AWS_CONFIG_FILE=%s", unit_path("badconf"));
    const char *env5[] = {home, path, NULL};
    assert_int_equal(load("prod", env5, &c, &err), -CEL_E_FORMAT);
    snprintf(msg, sizeof msg,
             "cannot read credentials file '%s': line 2: neither a [section] nor a key = value",
             unit_path("badconf"));
    assert_string_equal(err.msg, msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cloud_creds_parse_as_configparser),
        cmocka_unit_test(test_cloud_creds_parse_not_found),
        cmocka_unit_test(test_cloud_creds_parse_errors_hide_secrets),
        cmocka_unit_test_setup_teardown(test_cloud_creds_load_environment_first, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_cloud_creds_load_environment_errors),
        cmocka_unit_test_setup_teardown(test_cloud_creds_load_file_and_profiles, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_cloud_creds_load_config_file, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_cloud_creds_load_not_found, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
