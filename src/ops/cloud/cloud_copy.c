/*
 * cloud_copy.c - `cellar cloud-upload SERVER [--dry-run]`, and the step of
 * cron that runs it for every server with cloud_destination: keep a copy
 * of the server (its archived WAL and its DONE backups) in the bucket, in
 * barman-cloud 3.4's layout, and apply the server's retention_policy there
 * too.
 *
 * One run, holding the server's .<server>-cloud-upload.lock (a second run
 * leaves at once): read the state file (cloud_copy_state.c); open the
 * bucket's client (no request yet); upload the WAL the bucket lacks
 * (cloud_copy_wal.c), then the backups (cloud_copy_backup.c), then apply
 * retention when something may have become obsolete in the bucket: a
 * backup was uploaded, a backup the bucket holds is no longer in the local
 * catalogue (local retention or delete removed it), or a day has passed
 * since the last time (RECOVERY WINDOW ages backups with nothing else
 * happening). The state records the run's end, and its error if any.
 * A run with nothing new reads xlog.db and the local catalogue and sends
 * no request at all.
 *
 * Also here: the check items of a server with cloud_destination
 * (op_cloud_copy_check, called by check.c) and its upload state for
 * show-server (op_cloud_copy_show).
 */
#include <stdlib.h>

#include "cloud_catalog.h"
#include "cloud_copy.h"
#include "lock.h"
#include "server.h"
#include "server_select.h"
#include "ts.h"

#define RETENTION_EVERY (24 * 3600.0)

static double now_epoch(void)
{
    struct ts now;
    ts_now(&now);
    return ts_epoch(&now);
}

/* Retention in the bucket, when something may have become obsolete. */
static int retention(struct cloud_copy *c, bool uploaded, struct cel_err *err)
{
    const struct cfg_server *s = c->s;
    if (s->retention_policy.kind == RET_NONE)
        return 0;
    bool gone_locally = false;
    struct cat_list list = {0};
    int rc = cat_list_load(s->basebackups_directory, &list, err);
    if (rc < 0)
        return rc;
    struct cloud_ids local = {0};
    for (size_t k = 0; k < list.n; k++)
        cloud_ids_add(&local, list.items[k].id);
    cat_list_free(&list);
    for (size_t i = 0; i < c->st.backups.n && !gone_locally; i++)
        gone_locally = !cloud_ids_has(&local, c->st.backups.v[i]);
    /* a retired backup no longer local needs no remembering */
    for (size_t i = c->st.retired.n; i-- > 0;)
        if (!cloud_ids_has(&local, c->st.retired.v[i]) && !c->dry_run)
            cloud_ids_remove(&c->st.retired, c->st.retired.v[i]);
    cloud_ids_free(&local);
    if (!uploaded && !gone_locally && now_epoch() - c->st.last_retention < RETENTION_EVERY)
        return 0;
    struct cloud_catalog cat = {0};
    rc = cloud_catalog_load(c->ctx, &c->t, &cat, err);
    if (rc == -CEL_E_NOT_FOUND) { /* no bucket, nothing to delete */
        cel_err_clear(err);
        return 0;
    }
    if (rc < 0)
        return rc;
    bool *gone = cel_xcalloc(cat.list.n + 1, sizeof *gone);
    rc = cloud_delete_obsolete(c->ctx, &c->t, &cat, &s->retention_policy,
                               (unsigned)s->minimum_redundancy, c->dry_run, gone, err);
    if (rc < 0)
        cel_err_prefix(err, "retention in %s", s->cloud_destination);
    for (size_t i = 0; i < cat.list.n; i++) {
        if (!gone[i])
            continue;
        c->deleted++;
        if (!c->dry_run) {
            op_log(c->ctx, LOG_INFO, s->name, "deleted obsolete backup %s from %s",
                   cat.list.items[i].id, s->cloud_destination);
            cloud_ids_remove(&c->st.backups, cat.list.items[i].id);
            cloud_ids_add(&c->st.retired, cat.list.items[i].id);
        }
    }
    if (rc == 0 && !c->dry_run) {
        /* the state's list becomes what the bucket holds DONE */
        for (size_t i = c->st.backups.n; i-- > 0;) {
            bool there = false;
            for (size_t k = 0; k < cat.list.n && !there; k++)
                there = !gone[k] && cat.list.items[k].status == CAT_DONE &&
                        strcmp(cat.list.items[k].id, c->st.backups.v[i]) == 0;
            if (!there)
                cloud_ids_remove(&c->st.backups, c->st.backups.v[i]);
        }
        c->st.last_retention = now_epoch();
    }
    free(gone);
    cloud_catalog_free(&cat);
    return rc;
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct op_cloud_upload_summary *m = p;
    sb_appendf(out, "%s: ", m->server);
    op_cloud_upload_summary_text(m, out);
    sb_append(out, "\n");
}

static json_t *render_json(const void *p)
{
    return op_cloud_upload_summary_json(p);
}

void op_cloud_upload_summary_text(const struct op_cloud_upload_summary *m, struct strbuf *out)
{
    if (m->skipped_locked) {
        sb_append(out, "cloud upload skipped (another upload is running)");
        return;
    }
    if (m->dry_run) {
        sb_appendf(out, "dry run: %zu WAL file%s and %zu backup%s would be uploaded to %s",
                   m->wals_waiting, m->wals_waiting == 1 ? "" : "s",
                   m->backups_waiting, m->backups_waiting == 1 ? "" : "s", m->destination);
        if (m->deleted)
            sb_appendf(out, ", retention would delete %zu", m->deleted);
        return;
    }
    sb_appendf(out, "uploaded %zu WAL file%s and %zu backup%s to %s", m->wals,
               m->wals == 1 ? "" : "s", m->backups, m->backups == 1 ? "" : "s", m->destination);
    if (m->deleted)
        sb_appendf(out, ", %zu obsolete backup%s deleted there", m->deleted,
                   m->deleted == 1 ? "" : "s");
    if (m->failed)
        sb_appendf(out, "; failed, %zu WAL file%s and %zu backup%s waiting (see the log)",
                   m->wals_waiting, m->wals_waiting == 1 ? "" : "s", m->backups_waiting,
                   m->backups_waiting == 1 ? "" : "s");
}

json_t *op_cloud_upload_summary_json(const struct op_cloud_upload_summary *m)
{
    return json_pack("{s:s, s:s?, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "server",
                     m->server, "destination", m->destination, "dry_run", m->dry_run,
                     "skipped_locked", m->skipped_locked, "failed", m->failed, "wals",
                     (json_int_t)m->wals, "backups", (json_int_t)m->backups, "deleted",
                     (json_int_t)m->deleted, "wals_waiting", (json_int_t)m->wals_waiting,
                     "backups_waiting", (json_int_t)m->backups_waiting, "bytes",
                     (json_int_t)m->bytes);
}

/* The run once the lock is held. */
static int run(struct cloud_copy *c, struct op_cloud_upload_summary *m, struct cel_err *err)
{
    const struct cfg_server *s = c->s;
    bool found = false;
    struct cel_err lerr = {0};
    if (cloud_copy_state_load(s, &c->st, &found, &lerr) < 0)
        op_log(c->ctx, LOG_WARNING, s->name, "%s: comparing with the bucket instead", lerr.msg);
    if (!cloud_copy_state_matches(&c->st, s)) {
        if (found)
            op_log(c->ctx, LOG_INFO, s->name,
                   "the upload state describes another destination: comparing with the bucket");
        /* what the state says of another bucket says nothing of this one */
        struct cloud_copy_state fresh = {0};
        fresh.last_upload = c->st.last_upload;
        fresh.last_retention = 0;
        cloud_copy_state_free(&c->st);
        c->st = fresh;
        cloud_copy_state_bind(&c->st, s);
        c->reconcile = true;
    }
    struct cloud_target_opts o;
    cloud_target_opts_of_server(s, s->cloud_destination, &o);
    int rc = cloud_target_open(&o, &c->t, err);
    if (rc == 0) {
        size_t before = c->backups;
        rc = cloud_copy_wals(c, err);
        if (rc == 0)
            rc = cloud_copy_backups(c, err);
        if (rc == 0)
            rc = retention(c, c->backups > before, err);
        cloud_target_explain(&c->t, err);
        cloud_target_close(&c->t);
    }
    if (rc < 0 && c->dry_run) /* what could not be counted */
        op_log(c->ctx, LOG_WARNING, s->name, "%s", err->msg);
    if (!c->dry_run) {
        double now = now_epoch();
        c->st.last_attempt = now;
        free(c->st.last_error);
        c->st.last_error = NULL;
        if (rc == 0)
            c->st.last_upload = now;
        else
            c->st.last_error = cel_xstrdup(err->msg);
        struct cel_err serr = {0};
        int src = cloud_copy_state_save(s, &c->st, &serr);
        if (src < 0 && rc == 0) {
            rc = src;
            *err = serr;
        }
    }
    m->wals = c->wals;
    m->backups = c->backups;
    m->deleted = c->deleted;
    m->wals_waiting = c->wal_waiting;
    m->backups_waiting = c->backups_waiting;
    m->bytes = c->bytes;
    m->failed = rc < 0;
    return rc;
}

int op_cloud_upload_server(const struct op_ctx *ctx, const struct cfg_server *s, bool dry_run,
                           struct op_cloud_upload_summary *m, struct cel_err *err)
{
    memset(m, 0, sizeof *m);
    m->server = s->name;
    m->destination = s->cloud_destination;
    m->dry_run = dry_run;
    if (!s->cloud_destination)
        return cel_err_set(err, CEL_E_CONFIG, "server %s has no cloud_destination", s->name);
    if (s->compression == COMP_CUSTOM) {
        int rc = cloud_copy_wal_comp(s, "custom", &(enum cloud_comp){0}, err);
        m->failed = true;
        return rc;
    }
    struct lock *lock = NULL;
    int rc = op_server_lock(ctx, s, "cloud-upload", false, &lock, err);
    if (rc == -CEL_E_LOCKED) {
        op_log(ctx, LOG_INFO, s->name, "cloud upload skipped: %s", err->msg);
        cel_err_clear(err);
        m->skipped_locked = true;
        return 0;
    }
    if (rc < 0)
        return rc;
    struct cloud_copy c = {.ctx = ctx, .s = s, .dry_run = dry_run};
    rc = run(&c, m, err);
    cloud_copy_state_free(&c.st);
    lock_release(lock);
    return rc;
}

int op_cloud_upload(const struct op_ctx *ctx, const struct op_cloud_upload_req *req,
                    struct cel_err *err)
{
    const struct cfg_server **servers = NULL;
    size_t n = 0;
    int rc = op_select_servers(ctx, req->server, OP_SERVERS_ACTIVE, &servers, &n, NULL, err);
    if (rc < 0)
        return rc;
    size_t with = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cfg_server *s = servers[i];
        if (!s->cloud_destination && strcmp(req->server, "all") == 0)
            continue;
        with++;
        struct op_cloud_upload_summary m;
        struct cel_err one = {0};
        /* the first failure is the command's error; later ones are logged */
        int r = op_cloud_upload_server(ctx, s, req->dry_run, &m, rc == 0 ? err : &one);
        if (r < 0 && rc != 0)
            op_log(ctx, LOG_ERROR, s->name, "%s", one.msg);
        if (r == 0 || m.failed) {
            struct op_result res = {"cloud-upload", &m, render_text, render_json};
            op_result(ctx, &res);
        }
        if (r < 0 && rc == 0)
            rc = r;
    }
    free(servers);
    if (rc == 0 && with == 0)
        rc = cel_err_set(err, CEL_E_CONFIG, "no server has cloud_destination");
    return rc;
}

/* ---- check and show-server ---------------------------------------------- */

void op_cloud_copy_check(const struct op_ctx *ctx, const struct cfg_server *s,
                         struct op_check_report *rep)
{
    if (!s->cloud_destination)
        return;
    if (s->compression == COMP_CUSTOM) {
        struct op_check_item *it = op_check_add(rep, "cloud WAL compression", false);
        it->hint = cel_xstrdup("compression = custom: barman-cloud cannot read such WAL");
        it->fix = cel_xstrdup("use compression = gzip or bzip2 (or none) for a server with "
                              "cloud_destination");
    }
    struct cloud_target_opts o;
    cloud_target_opts_of_server(s, s->cloud_destination, &o);
    struct cloud_target t;
    struct cel_err err = {0};
    int rc = cloud_target_open(&o, &t, &err);
    struct op_check_item *it;
    if (rc < 0) {
        it = op_check_add(rep, "cloud destination", false);
        it->hint = cel_xstrdup(err.msg);
        it->fix = cel_xstrdup("see doc/cloud.md, \"Credentials\"");
    } else {
        rc = cloud_bucket_test(&t, &err);
        it = op_check_add(rep, "cloud destination", rc == 0);
        if (rc == 0) {
            it->hint = cel_xasprintf("%s", s->cloud_destination);
        } else {
            cloud_target_explain(&t, &err);
            it->hint = cel_xasprintf("%s at %s, access key ID '%s' from %s: %s",
                                     s->cloud_destination, t.endpoint,
                                     t.access_key_id ? t.access_key_id : "",
                                     t.creds_origin ? t.creds_origin : "?", err.msg);
            it->fix = cel_xstrdup(err.hint[0] ? err.hint
                                              : "check that the store answers, the bucket "
                                                "exists and these credentials may use it");
        }
        cloud_target_close(&t);
    }
    if (!s->cloud_last_upload_maximum_age.seconds)
        return;
    struct cloud_copy_state st;
    bool found = false;
    size_t wals = 0, backups = 0;
    cel_err_clear(&err);
    rc = cloud_copy_state_load(s, &st, &found, &err);
    if (rc == 0 && !cloud_copy_state_matches(&st, s)) {
        /* nothing uploaded there yet: everything waits */
        cloud_copy_state_free(&st);
        found = false;
    }
    if (rc == 0)
        rc = cloud_copy_waiting(ctx, s, &st, &wals, &backups, &err);
    double now = now_epoch();
    double max = (double)s->cloud_last_upload_maximum_age.seconds;
    bool ok = rc == 0 && (wals + backups == 0 || (found && now - st.last_upload <= max));
    it = op_check_add(rep, "cloud upload age", ok);
    struct strbuf h = {0};
    if (rc < 0) {
        sb_append(&h, err.msg);
    } else {
        sb_append(&h, "interval provided: ");
        ts_human_delta(max, &h);
        sb_append(&h, ", last upload: ");
        if (found && st.last_upload > 0) {
            ts_human_delta(now - st.last_upload, &h);
            sb_append(&h, " ago");
        } else {
            sb_append(&h, "never");
        }
        sb_appendf(&h, ", waiting: %zu WAL file%s, %zu backup%s", wals, wals == 1 ? "" : "s",
                   backups, backups == 1 ? "" : "s");
        if (st.last_error)
            sb_appendf(&h, ", last error: %s", st.last_error);
    }
    it->hint = sb_detach(&h);
    if (!ok)
        it->fix = cel_xasprintf("run 'cellar cloud-upload %s' and look at its error (cron runs "
                                "it every minute)",
                                s->name);
    cloud_copy_state_free(&st);
}

json_t *op_cloud_copy_json(const struct cfg_server *s)
{
    if (!s->cloud_destination)
        return NULL;
    struct cloud_copy_state st;
    bool found = false;
    struct cel_err err = {0};
    json_t *o = json_pack("{s:s}", "destination", s->cloud_destination);
    if (cloud_copy_state_load(s, &st, &found, &err) < 0) {
        json_object_set_new(o, "last_error", json_string(err.msg));
        return o;
    }
    bool ours = found && cloud_copy_state_matches(&st, s);
    json_object_set_new(o, "wal_upto",
                        ours && st.wal_upto[0] ? json_string(st.wal_upto) : json_null());
    json_object_set_new(o, "last_upload",
                        ours && st.last_upload > 0 ? json_real(st.last_upload) : json_null());
    json_object_set_new(o, "last_attempt",
                        ours && st.last_attempt > 0 ? json_real(st.last_attempt) : json_null());
    json_object_set_new(o, "last_error",
                        ours && st.last_error ? json_string(st.last_error) : json_null());
    cloud_copy_state_free(&st);
    return o;
}

void op_cloud_copy_show(const struct op_ctx *ctx, const struct cfg_server *s,
                        void (*add)(void *m, const char *key, const char *value), void *m)
{
    if (!s->cloud_destination)
        return;
    struct cloud_copy_state st;
    bool found = false;
    struct cel_err err = {0};
    int rc = cloud_copy_state_load(s, &st, &found, &err);
    if (rc < 0) {
        add(m, "cloud_upload_state", err.msg);
        return;
    }
    if (!found || !cloud_copy_state_matches(&st, s)) {
        add(m, "cloud_upload_state", "nothing uploaded to this destination yet");
        cloud_copy_state_free(&st);
        return;
    }
    add(m, "cloud_upload_state", "ok");
    add(m, "cloud_upload_wal_upto", st.wal_upto[0] ? st.wal_upto : NULL);
    size_t wals = 0, backups = 0;
    if (cloud_copy_waiting(ctx, s, &st, &wals, &backups, &err) == 0) {
        char n[32];
        snprintf(n, sizeof n, "%zu", wals);
        add(m, "cloud_upload_wals_waiting", n);
        snprintf(n, sizeof n, "%zu", backups);
        add(m, "cloud_upload_backups_waiting", n);
    }
    char when[TS_MAX];
    struct ts t;
    if (st.last_upload > 0) {
        ts_from_epoch((int64_t)st.last_upload, 0, &t);
        ts_format(&t, when);
        add(m, "cloud_upload_last", when);
    } else {
        add(m, "cloud_upload_last", NULL);
    }
    add(m, "cloud_upload_last_error", st.last_error);
    cloud_copy_state_free(&st);
}
