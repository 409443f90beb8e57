/*
 * cloud_creds.h - AWS credentials found the way boto3 (and so barman-cloud)
 * finds them, minus the providers a backup tool on a server does not need.
 *
 * The order, as botocore's default credential chain has it:
 *   1. the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with
 *      AWS_SECURITY_TOKEN or AWS_SESSION_TOKEN (the first one set) as the
 *      session token. Skipped when a profile is given explicitly
 *      (--profile), as boto3 skips it for Session(profile_name=...).
 *   2. the shared credentials file, AWS_SHARED_CREDENTIALS_FILE or
 *      ~/.aws/credentials, section [PROFILE], where PROFILE is --profile,
 *      else AWS_DEFAULT_PROFILE, else AWS_PROFILE, else "default"; keys
 *      aws_access_key_id, aws_secret_access_key and aws_security_token or
 *      aws_session_token (the first present), with [DEFAULT]'s keys
 *      inherited as Python's configparser does.
 *   3. the config file, AWS_CONFIG_FILE or ~/.aws/config, with the same
 *      keys in section [profile PROFILE] ([default] or [profile default]
 *      for the default profile).
 * Not read (botocore would go on to them): SSO, web identity, assume-role,
 * credential_process, container and instance metadata.
 *
 * The credentials file is parsed as Python's configparser.RawConfigParser
 * reads it (botocore's raw_config_parse): full-line comments with '#' or
 * ';', "key = value" or "key: value" split at the first '=' or ':', keys
 * case-insensitive, values stripped, indented lines continuing a value,
 * duplicate sections or keys an error, and no inline comments (a '#' after
 * a value is part of it). A file configparser refuses is refused here.
 *
 * Secrets never reach a message: errors name the file, the line number,
 * the profile and the variable or key, never a value or a line's text.
 * cloud_creds_free wipes the strings before freeing them.
 */
#ifndef CEL_CLOUD_CREDS_H
#define CEL_CLOUD_CREDS_H

#include "error.h"

struct cloud_creds {
    char *access_key;    /* never NULL after a successful load */
    char *secret_key;    /* never NULL after a successful load; never printed */
    char *session_token; /* NULL when there is none; never printed */
    char *origin;        /* where they came from, for messages and diagnose:
                          * "environment" or "'PATH' profile 'NAME'" */
};

struct cloud_creds_opts {
    const char *profile; /* --profile; NULL: from the environment, else "default" */
    /* how to read the environment; NULL: getenv (tests pass their own) */
    const char *(*getenv)(const char *name);
};

/* Find credentials in the order above. Returns 0 with *out filled (free it
 * with cloud_creds_free), or:
 *   -CEL_E_CONFIG  AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is
 *                  not (or empty), or the profile has aws_access_key_id
 *                  without aws_secret_access_key, or a value is empty or is
 *                  a nested block; the message names the variable or key
 *   -CEL_E_FORMAT  the credentials file is not what configparser reads (the
 *                  message has the path and line number)
 *   -CEL_E_IO      a file exists but cannot be read
 *   -CEL_E_NOT_FOUND  nothing found: the message names both files, the
 *                  hint says where to write the keys
 * Reads one small file; does not block otherwise. */
int cloud_creds_load(const struct cloud_creds_opts *opts, struct cloud_creds *out,
                     struct cel_err *err);

/* Parse the len bytes of a credentials file's text (which need not end in
 * a NUL) and take profile's credentials. path is only for messages. Returns
 * 0 with *found true and *out filled (origin set from path and profile),
 * 0 with *found false when the file has no [profile] section or the
 * section has no aws_access_key_id (boto3 then looks further), or the
 * -CEL_E_FORMAT / -CEL_E_CONFIG errors of cloud_creds_load. Any bytes are
 * safe: the function is pure and is the fuzz target's entry. */
int cloud_creds_parse(const char *text, size_t len, const char *profile, const char *path,
                      struct cloud_creds *out, bool *found, struct cel_err *err);

/* cloud_creds_parse for the config file (~/.aws/config), where profile
 * NAME is section [profile NAME], and "default" is [default] (else
 * [profile default]). */
int cloud_creds_parse_config(const char *text, size_t len, const char *profile, const char *path,
                             struct cloud_creds *out, bool *found, struct cel_err *err);

/* Wipe and free the strings; out is left zeroed. NULL is fine. */
void cloud_creds_free(struct cloud_creds *creds);

#endif
