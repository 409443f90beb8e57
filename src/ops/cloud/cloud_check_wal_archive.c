/*
 * cloud_check_wal_archive.c - cloud-check-wal-archive: may a (new or
 * promoted) server archive its WAL under this destination and server name?
 * barman-cloud-check-wal-archive 3.4's rule: without --timeline the server
 * must have no WAL file of any kind in the bucket; with --timeline N only
 * files of timelines before N (a history file counts on its own timeline).
 * A bucket that does not exist passes. Keys under wals/ that are not WAL
 * files are ignored, as barman-cloud ignores them. One LIST, paged.
 */
#include <stdlib.h>

#include "cloud_wal_io.h"
#include "ops.h"

int op_cloud_check_wal_archive(const struct op_ctx *ctx,
                               const struct op_cloud_check_wal_archive_req *req,
                               struct cel_err *err)
{
    struct cloud_target t;
    int rc = cloud_store_open(&req->store, &t, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    struct cloud_wal_list l = {0};
    bool no_bucket = false;
    char *prefix = cloud_wals_prefix(t.url.prefix, t.server, err);
    rc = prefix ? cloud_wal_list_keys(t.s3, t.url.prefix, prefix, &l, &no_bucket, err)
                : -CEL_E_INVALID;
    size_t found = 0;
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        if (req->timeline == 0 || l.v[i].k.wal_name.tli >= req->timeline)
            found++;
    if (rc == 0 && found && req->timeline == 0)
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "WAL archive check failed for server %s: expected an empty archive, "
                         "found %zu WAL file%s under '%s'",
                         t.server, found, found == 1 ? "" : "s", prefix);
    else if (rc == 0 && found)
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "WAL archive check failed for server %s: found %zu file%s in the WAL "
                         "archive equal to or newer than timeline %u",
                         t.server, found, found == 1 ? "" : "s", req->timeline);
    if (rc == -CEL_E_CONFLICT)
        cel_err_hint(err, "Archive this server under another SERVER_NAME or destination, or "
                          "give the timeline it will archive on with --timeline.");
    if (rc == 0)
        op_log(ctx, LOG_DEBUG, t.server, "%zu WAL files under s3://%s/%s%s: the check passes",
               l.n, t.url.bucket, prefix, no_bucket ? " (no bucket)" : "");
    cloud_target_explain(&t, err);
    cloud_wal_list_free(&l);
    free(prefix);
    cloud_target_close(&t);
    return rc;
}
