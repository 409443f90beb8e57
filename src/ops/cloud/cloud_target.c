/*
 * cloud_target.c - turn a cloud-* command's URL, server name and store
 * options into an opened S3 client (see cloud_target.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cloud_creds.h"
#include "cloud_layout.h"
#include "cloud_target.h"
#include "config.h"
#include "ops.h"

static const char *env_get(const struct cloud_target_opts *o, const char *name)
{
    return o->getenv ? o->getenv(name) : getenv(name);
}

/* boto3's order: AWS_REGION is what newer SDKs read first, AWS_DEFAULT_REGION
 * what barman-cloud's users set; neither means us-east-1. */
static const char *region_of(const struct cloud_target_opts *o)
{
    const char *r = env_get(o, "AWS_REGION");
    if (!r || !*r)
        r = env_get(o, "AWS_DEFAULT_REGION");
    return r && *r ? r : "us-east-1";
}

void cloud_target_opts_of_server(const struct cfg_server *s, const char *url,
                                 struct cloud_target_opts *o)
{
    *o = (struct cloud_target_opts){.url = url,
                                    .server = s->cloud_server_name,
                                    .endpoint_url = s->cloud_endpoint_url,
                                    .profile = s->cloud_profile};
}

int cloud_target_open(const struct cloud_target_opts *o, struct cloud_target *t,
                      struct cel_err *err)
{
    memset(t, 0, sizeof *t);
    if (o->read_timeout < 0)
        return cel_err_set(err, CEL_E_USAGE, "--read-timeout: give seconds, 0 or more");
    int rc = cloud_server_check(o->server, err);
    if (rc == 0)
        rc = cloud_url_parse(o->url, &t->url, err);
    if (rc < 0)
        return rc;
    t->server = cel_xstrdup(o->server);
    const char *region = region_of(o);

    if (o->endpoint_url) {
        struct cloud_endpoint ep;
        rc = cloud_endpoint_parse(o->endpoint_url, &ep, err);
        if (rc < 0) {
            cloud_target_close(t);
            return rc;
        }
        t->endpoint = cloud_endpoint_base(&ep);
        cloud_endpoint_free(&ep);
    } else {
        t->endpoint = cel_xasprintf("https://s3.%s.amazonaws.com", region);
    }

    struct cloud_creds creds = {0};
    struct cloud_creds_opts co = {.profile = o->profile, .getenv = o->getenv};
    rc = cloud_creds_load(&co, &creds, err);
    if (rc < 0) {
        cloud_target_close(t);
        return rc;
    }
    t->creds_origin = cel_xstrdup(creds.origin);
    t->access_key_id = cel_xstrdup(creds.access_key ? creds.access_key : "");

    struct s3_conf conf = {
        .endpoint = t->endpoint,
        .region = region,
        .bucket = t->url.bucket,
        /* an endpoint given is most often an address or a private store,
         * where the bucket cannot be a host name; AWS takes both */
        .path_style = o->endpoint_url != NULL,
        .access_key = creds.access_key,
        .secret_key = creds.secret_key,
        .session_token = creds.session_token,
        .timeout_s = o->read_timeout,
    };
    rc = s3_client_new(&conf, &t->s3, err);
    cloud_creds_free(&creds);
    if (rc < 0) {
        cloud_target_close(t);
        return rc;
    }
    return 0;
}

void cloud_target_close(struct cloud_target *t)
{
    s3_client_free(t->s3);
    cloud_url_free(&t->url);
    free(t->server);
    free(t->endpoint);
    free(t->creds_origin);
    free(t->access_key_id);
    memset(t, 0, sizeof *t);
}

void cloud_target_explain(const struct cloud_target *t, struct cel_err *err)
{
    if (!err || err->code != CEL_E_CLOUD || !strstr(err->msg, ": 403 "))
        return;
    char q[CEL_SHOW_BUF];
    const char *id = t->access_key_id ? t->access_key_id : "";
    cel_err_hint(err,
                 "The store refused access key ID '%s' (from %s): check that key's secret, its "
                 "rights on bucket '%s' and the region.",
                 cel_show(id, strlen(id), q), t->creds_origin ? t->creds_origin : "?",
                 t->url.bucket);
}

/* stops the probe's listing at its first key: one key answers the question */
static int stop_at_first(void *ctx, const struct s3_entry *e, struct cel_err *err)
{
    (void)e;
    *(bool *)ctx = true;
    return cel_err_set(err, CEL_E_CONFLICT, "enough");
}

int cloud_bucket_test(const struct cloud_target *t, struct cel_err *err)
{
    bool stopped = false;
    struct s3_list_opts lo = {.prefix = t->url.prefix, .max_keys = 1};
    int rc = s3_list(t->s3, &lo, stop_at_first, &stopped, err);
    if (rc < 0 && stopped) {
        memset(err, 0, sizeof *err);
        rc = 0;
    }
    if (rc == -CEL_E_NOT_FOUND) {
        cel_err_set(err, CEL_E_NOT_FOUND, "bucket '%s' does not exist at %s", t->url.bucket,
                    t->endpoint);
        cel_err_hint(err, "Create the bucket first, or check the URL and --endpoint-url.");
    } else if (rc < 0) {
        cel_err_prefix(err, "cannot list bucket '%s' at %s", t->url.bucket, t->endpoint);
        cloud_target_explain(t, err);
    }
    return rc;
}

int cloud_store_open(const struct op_cloud_store *s, struct cloud_target *t,
                     struct cel_err *err)
{
    int rc = cloud_target_open(&s->target, t, err);
    if (rc < 0 || !s->test)
        return rc;
    rc = cloud_bucket_test(t, err);
    cloud_target_close(t);
    return rc < 0 ? rc : 1;
}
