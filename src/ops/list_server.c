/*
 * list_server.c - `cellar list-server`: every configured server, in name
 * order, with its description, as Barman prints it ("name - description",
 * " (inactive)" for active = false, " (WARNING: disabled)" for a server
 * with configuration errors).
 */
#include "ops.h"

struct model {
    const struct cfg *cfg;
    bool minimal;
};

/* Barman's description: the configured text plus the state markers. */
static void describe(const struct cfg_server *s, struct strbuf *out)
{
    sb_append(out, s->description ? s->description : "");
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
        json_object_set_new(root, s->name,
                            json_pack("{s:s?, s:b, s:b}", "description", s->description,
                                      "active", s->active, "disabled", s->disabled));
    }
    return root;
}

int op_list_server(const struct op_ctx *ctx, const struct op_list_server_req *req,
                   struct cel_err *err)
{
    (void)err;
    struct model model = {.cfg = ctx->cfg, .minimal = req->minimal};
    struct op_result result = {"list-server", &model, render_text, render_json};
    op_result(ctx, &result);
    return 0;
}
