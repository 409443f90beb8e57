/*
 * list_server.c - `cellar list-server`: every configured server, in name
 * order, with its description, as Barman prints it ("name - description",
 * " (inactive)" for active = false, " (WARNING: disabled)" for a server
 * with configuration errors).
 *
 * The JSON form adds, for each server without configuration errors, the
 * state of its WAL archive ("wal_archive": the newest archived file and
 * what waits in incoming/, see archive_state.c; with "error" when some of
 * it cannot be read): the console's servers pane shows it as the WAL lag.
 * A server with cloud_destination adds "cloud_copy", the state of its copy
 * (op_cloud_copy_json). The text keeps Barman's lines; --minimal reads
 * nothing.
 */
#include "ops.h"

struct model {
    const struct cfg *cfg;
    bool minimal;
    json_t **archive; /* per server: its wal_archive object, NULL when not read */
};

/* Barman's description: the configured text plus the state markers. */
static void describe(const struct cfg_server *s, struct strbuf *out)
{
    sb_append(out, s->description ? s->description : "");
    if (s->cloud_source) /* cellar's marker: Barman has no such server */
        sb_appendf(out, "%sbucket server: %s", s->description ? " - " : "", s->cloud_source);
    if (!s->active)
        sb_append(out, " (inactive)");
    else if (s->disabled)
        sb_append(out, " (WARNING: disabled)");
}

static void render_text(const void *m, struct strbuf *out)
{
    const struct model *model = m;
    for (size_t i = 0; i < model->cfg->n_servers; i++) {
        const struct cfg_server *s = &model->cfg->servers[i];
        struct strbuf d = {0};
        describe(s, &d);
        if (model->minimal || d.len == 0)
            sb_appendf(out, "%s\n", s->name);
        else
            sb_appendf(out, "%s - %s\n", s->name, sb_str(&d));
        sb_free(&d);
    }
}

static json_t *render_json(const void *m)
{
    const struct model *model = m;
    json_t *root = json_object();
    for (size_t i = 0; i < model->cfg->n_servers; i++) {
        const struct cfg_server *s = &model->cfg->servers[i];
        json_t *o = json_pack("{s:s?, s:b, s:b}", "description", s->description, "active",
                              s->active, "disabled", s->disabled);
        if (model->archive && model->archive[i])
            json_object_set(o, "wal_archive", model->archive[i]);
        if (s->cloud_source)
            json_object_set_new(o, "cloud_source", json_string(s->cloud_source));
        if (!model->minimal && s->cloud_destination) /* the state file only: cheap */
            json_object_set_new(o, "cloud_copy", op_cloud_copy_json(s));
        json_object_set_new(root, s->name, o);
    }
    return root;
}

int op_list_server(const struct op_ctx *ctx, const struct op_list_server_req *req,
                   struct cel_err *err)
{
    (void)err;
    const struct cfg *cfg = ctx->cfg;
    struct model model = {.cfg = cfg, .minimal = req->minimal};
    if (!req->minimal) {
        model.archive = cel_xcalloc(cfg->n_servers + 1, sizeof *model.archive);
        for (size_t i = 0; i < cfg->n_servers; i++) {
            const struct cfg_server *s = &cfg->servers[i];
            if (s->disabled || s->cloud_source) /* a bucket server archives nothing here */
                continue;
            struct op_archive_state st;
            struct cel_err e = {0};
            int rc = op_archive_state(ctx, s, &st, &e);
            model.archive[i] = op_archive_state_json(&st);
            if (rc < 0)
                json_object_set_new(model.archive[i], "error", json_string(e.msg));
        }
    }
    struct op_result result = {"list-server", &model, render_text, render_json};
    op_result(ctx, &result);
    for (size_t i = 0; model.archive && i < cfg->n_servers; i++)
        json_decref(model.archive[i]);
    free(model.archive);
    return 0;
}
