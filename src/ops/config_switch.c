/*
 * config_switch.c - `cellar config-switch SERVER MODEL | --reset`, Barman
 * 3.10's configuration models: make MODEL (a section with model = true and
 * the server's cluster) the server's active model, or none.
 *
 * The choice is Barman's file, <backup_directory>/.active-model.auto
 * holding the model's name, so Barman and cellar lay the same model over
 * the server when they load the configuration (config.c). What changes is
 * said as Barman says it; a connection string's value is not shown. A
 * running receive-wal is stopped so that the next cron starts it with the
 * new settings, as Barman's restart_processes does.
 */
#include <errno.h>
#include <unistd.h>

#include "ops.h"
#include "server.h"
#include "storage.h"

struct model {
    const char *server, *model; /* model NULL: reset */
    bool already;               /* the model was active already */
    struct strbuf changes;      /* Barman's "Changing value of option ..." lines */
    long receiver_stopped;      /* PID of the receiver stopped, 0 when none */
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    if (!m->model)
        sb_appendf(out, "Resetting the active model for the server %s\n", m->server);
    else if (m->already)
        sb_appendf(out, "Model '%s' is already active for server '%s', skipping...\n", m->model,
                   m->server);
    else
        sb_appendf(out, "Applying model '%s' to server '%s'\n%s", m->model, m->server,
                   sb_str(&m->changes));
    if (m->receiver_stopped)
        sb_appendf(out, "Stopped receive-wal (PID %ld): the next cron starts it with the new "
                        "settings\n",
                   m->receiver_stopped);
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:s?, s:b}", "server", m->server, "active_model", m->model,
                     "changed", !m->already);
}

/* Barman's line for each option the model sets to another value. */
static void describe_changes(const struct cfg_server *s, const struct cfg_model *mod,
                             struct strbuf *out)
{
    for (size_t i = 0; i < mod->n; i++) {
        const struct cfg_option *opt = cfg_option_find(mod->keys[i]);
        if (!opt)
            continue;
        if (opt->type == CFG_T_SECRET) {
            sb_appendf(out, "Changing value of option '%s' for server '%s' through the model "
                            "'%s' (a connection string: not shown)\n",
                       opt->name, s->name, mod->name);
            continue;
        }
        struct strbuf old = {0};
        cfg_format_value(opt, s, false, &old);
        if (strcmp(sb_str(&old), mod->values[i]) != 0)
            sb_appendf(out, "Changing value of option '%s' for server '%s' from '%s' to '%s' "
                            "through the model '%s'\n",
                       opt->name, s->name, sb_str(&old), mod->values[i], mod->name);
        sb_free(&old);
    }
}

int op_config_switch(const struct op_ctx *ctx, const struct op_config_switch_req *req,
                     struct cel_err *err)
{
    /* any configured server, inactive or disabled too (a server disabled
     * because its active model is gone is switched back with --reset) */
    const struct cfg_server *s = cfg_server_find(ctx->cfg, req->server);
    if (!s)
        return cel_err_set(err, CEL_E_NOT_FOUND, "Unknown server '%s'", req->server);
    if (!req->model == !req->reset)
        return cel_err_set(err, CEL_E_USAGE,
                           "Either a model name or '--reset' flag need to be given");
    struct model m = {.server = s->name};
    const struct cfg_model *mod = NULL;
    if (req->model) {
        mod = cfg_model_find(ctx->cfg, req->model);
        if (!mod)
            return cel_err_set(err, CEL_E_NOT_FOUND, "Unknown model '%s'", req->model);
        if (!mod->usable) {
            int rc = cel_err_set(err, CEL_E_CONFIG, "model '%s' cannot be used: its section has "
                                                    "errors",
                                 mod->name);
            cel_err_hint(err, "See the warnings about [%s] in cellar diagnose.", mod->name);
            return rc;
        }
        if (strcmp(mod->cluster, s->cluster) != 0)
            return cel_err_set(err, CEL_E_CONFLICT,
                               "Model '%s' has 'cluster=%s', which is not compatible with "
                               "'cluster=%s' from server '%s'",
                               mod->name, mod->cluster, s->cluster, s->name);
        m.model = mod->name;
        m.already = s->active_model && strcmp(s->active_model, mod->name) == 0;
    }
    char *path = cfg_active_model_path(s);
    int rc = 0;
    if (mod && !m.already) {
        describe_changes(s, mod, &m.changes);
        rc = stor_mkdir_p(s->backup_directory, 0700, err);
        if (rc == 0)
            rc = stor_write_file(path, mod->name, strlen(mod->name), 0600, err);
    } else if (!mod && unlink(path) < 0 && errno != ENOENT) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", path);
    } else if (!mod) {
        /* the removal is done; its durability is best effort */
        (void)stor_fsync_parent(path, NULL);
    }
    free(path);
    if (rc == 0 && !m.already && s->streaming_archiver) {
        pid_t pid = 0;
        struct cel_err serr = {0};
        if (op_server_task_stop(ctx, s, "receive-wal", false, &pid, &serr) < 0)
            op_log(ctx, LOG_WARNING, s->name, "%s", serr.msg);
        m.receiver_stopped = (long)pid;
    }
    if (rc == 0) {
        struct op_result r = {"config-switch", &m, render_text, render_json};
        op_result(ctx, &r);
    }
    sb_free(&m.changes);
    return rc;
}
