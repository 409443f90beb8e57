/*
 * cloud_target.h - where a cloud-* command reads and writes: a bucket, the
 * path in it, the server's folder, and an S3 client signed with the DBA's
 * credentials.
 *
 * Every cloud-* command takes barman-cloud's SOURCE_URL or DESTINATION_URL
 * (s3://bucket[/path]), a SERVER_NAME, and the options --endpoint-url,
 * --profile and --read-timeout. This module turns them into one opened
 * target, so each command starts from the same typed values and the same
 * rules: path-style addressing when an endpoint is given (an address like
 * 127.0.0.1 has no virtual host), AWS's regional endpoint otherwise; the
 * region from AWS_DEFAULT_REGION or AWS_REGION, else us-east-1; the
 * credentials in boto3's order (cloud_creds.h). The secret never leaves the
 * client and is never in an error.
 */
#ifndef CEL_CLOUD_TARGET_H
#define CEL_CLOUD_TARGET_H

#include "cloud_url.h"
#include "error.h"
#include "s3_client.h"

struct cloud_target_opts {
    const char *url;          /* s3://bucket[/path] */
    const char *server;       /* SERVER_NAME: the objects live under PATH/SERVER/ */
    const char *endpoint_url; /* --endpoint-url; NULL: AWS */
    const char *profile;      /* --profile; NULL: the environment's or "default" */
    int read_timeout;         /* --read-timeout in seconds; 0: the client's default */
    /* how to read the environment; NULL: getenv (tests pass their own) */
    const char *(*getenv)(const char *name);
};

struct cloud_target {
    struct s3_client *s3;
    struct cloud_url url; /* bucket and path */
    char *server;         /* checked by cloud_server_check; keys come from cloud_layout.h */
    char *endpoint;      /* the base URL the client talks to, for messages */
    char *creds_origin;  /* where the credentials came from, for messages */
    char *access_key_id; /* the access key (not secret), for messages */
};

struct cfg_server;
/* The target of a configured server: url (its cloud_destination or
 * cloud_source), its cloud_server_name, cloud_endpoint_url and
 * cloud_profile. The strings stay the configuration's. */
void cloud_target_opts_of_server(const struct cfg_server *s, const char *url,
                                 struct cloud_target_opts *o);

/* Parse and check the options, load the credentials and make the client
 * (nothing is sent yet). Errors name the option at fault. */
int cloud_target_open(const struct cloud_target_opts *opts, struct cloud_target *t,
                      struct cel_err *err);
void cloud_target_close(struct cloud_target *t);

/* After a request of t failed with err: when the store refused the
 * credentials (403), make the hint name the access key ID and where it
 * came from (never the secret), so the DBA knows which key to fix. */
void cloud_target_explain(const struct cloud_target *t, struct cel_err *err);

/* Does the bucket answer, with these credentials? One listing of at most
 * one key under the path. A missing bucket is -CEL_E_NOT_FOUND with a hint;
 * a refusal names the access key ID (cloud_target_explain). */
int cloud_bucket_test(const struct cloud_target *t, struct cel_err *err);

/* Open the store of a cloud-* request (ops.h); with barman-cloud's -t,
 * only probe the bucket (cloud_bucket_test). Returns 0 with *t open (close
 * it with cloud_target_close), 1 when the -t probe passed, or the error;
 * with 1 or an error nothing is left open. */
struct op_cloud_store;
int cloud_store_open(const struct op_cloud_store *s, struct cloud_target *t,
                     struct cel_err *err);

#endif
