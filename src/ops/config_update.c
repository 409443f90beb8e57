/*
 * config_update.c - `cellar config-update JSON` (Barman 3.10): create or
 * change servers' and models' options in Barman's
 * <barman_home>/.barman.auto.conf, which every later load reads last.
 *
 * As Barman does it: under the lock .config-update.lock (in the lock
 * directory, Barman's ConfigUpdateLock), the new change sets are checked
 * and added to the queue file (config_changes_queue, Barman's JSON), then
 * the whole queue is applied to the auto file and the queue is left empty
 * ("[]"); cron applies a queue left behind the same way. Before anything
 * is written the result is tried (core/config/config_changes.c): a change
 * that would make the configuration invalid is refused with the loader's
 * reason and no file changes. Every file is written durably (storage.h)
 * by barman_user. A receive-wal of a changed server is stopped so that the
 * next cron starts it with the new settings (Barman's restart_processes).
 */
#include <errno.h>

#include "config_update_json.h"
#include "lock.h"
#include "ops.h"
#include "storage.h"

#define QUEUE_MAX (16u << 20)

struct update {
    const struct cfg_change_list *applied;
    struct strbuf changes; /* Barman's "Changing value of option ..." lines */
    const char *auto_path;
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct update *u = p;
    if (!u->applied->n)
        sb_append(out, "No configuration changes to apply\n");
    sb_append(out, sb_str(&u->changes));
}

static json_t *render_json(const void *p)
{
    const struct update *u = p;
    json_t *sets = json_array();
    for (size_t i = 0; i < u->applied->n; i++) {
        const struct cfg_change_set *set = &u->applied->sets[i];
        json_t *opts = json_object();
        for (size_t j = 0; j < set->n; j++) {
            const struct cfg_option *opt = cfg_option_find(set->changes[j].key);
            json_object_set_new(
                opts, set->changes[j].key,
                json_string(opt && opt->type == CFG_T_SECRET ? "********" : set->changes[j].value));
        }
        json_array_append_new(sets,
                              json_pack("{s:s, s:o}", "section", set->section, "options", opts));
    }
    return json_pack("{s:s, s:o}", "auto_file", u->auto_path, "applied", sets);
}

/* The value key has in section before the change, as show-server says it
 * ("None" when unset); a connection string is not shown. */
static void old_value(const struct cfg *cfg, const char *section, const char *key,
                      struct strbuf *out)
{
    const struct cfg_option *opt = cfg_option_find(key);
    const struct cfg_server *s = cfg_server_find(cfg, section);
    const struct cfg_model *m = cfg_model_find(cfg, section);
    if (opt && opt->type == CFG_T_SECRET) {
        sb_append(out, "********");
    } else if (s && opt && opt->type != CFG_T_IGNORED) {
        cfg_format_value(opt, s, false, out);
    } else {
        for (size_t i = 0; m && i < m->n; i++)
            if (strcmp(m->keys[i], key) == 0) {
                sb_append(out, m->values[i]);
                return;
            }
        sb_append(out, "None");
    }
}

static void describe(const struct cfg *cfg, const struct cfg_change_list *l, struct strbuf *out)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct cfg_change_set *set = &l->sets[i];
        for (size_t j = 0; j < set->n; j++) {
            const struct cfg_change *c = &set->changes[j];
            const struct cfg_option *opt = cfg_option_find(c->key);
            struct strbuf old = {0};
            old_value(cfg, set->section, c->key, &old);
            sb_appendf(out,
                       "Changing value of option '%s' for section '%s' from '%s' to '%s' "
                       "through config-update.\n",
                       c->key, set->section, sb_str(&old),
                       opt && opt->type == CFG_T_SECRET ? "********" : c->value);
            sb_free(&old);
        }
    }
}

/* Read the file path into *text ("" when it does not exist). */
static int read_optional(const char *path, char **text, size_t *len, struct cel_err *err)
{
    int rc = stor_read_file(path, QUEUE_MAX, text, len, err);
    if (rc == -CEL_E_NOT_FOUND) {
        cel_err_clear(err);
        *text = cel_xstrdup("");
        *len = 0;
        return 0;
    }
    return rc;
}

/* Write l as the queue file. */
static int write_queue(const char *path, const struct cfg_change_list *l, const char *auto_path,
                       struct cel_err *err)
{
    struct strbuf q = {0};
    config_update_queue_json(l, auto_path, &q);
    sb_appendc(&q, '\n');
    int rc = stor_write_file(path, sb_str(&q), q.len, 0600, err);
    sb_free(&q);
    return rc;
}

/* Under the lock: the queue plus changes (checked) applied to the auto file,
 * the queue emptied. *pending gets what was applied, u->changes the lines
 * saying so. */
static int apply_locked(const struct op_ctx *ctx, const struct cfg_change_list *changes,
                        struct cfg_change_list *pending, struct update *u, struct cel_err *err)
{
    const struct cfg *cfg = ctx->cfg;
    const char *queue_path = cfg->global.config_changes_queue;
    char *text = NULL, *auto_text = NULL;
    size_t len = 0;
    struct strbuf new_auto = {0};
    int rc = read_optional(queue_path, &text, &len, err);
    if (rc == 0 && (rc = config_update_parse_queue(text, len, pending, err)) < 0)
        cel_err_prefix(err, "the queue '%s'", queue_path);
    size_t queued = pending->n;
    for (size_t i = 0; rc == 0 && changes && i < changes->n; i++) {
        const struct cfg_change_set *src = &changes->sets[i];
        struct cfg_change_set *set = cfg_change_set_add(pending, src->scope, src->section);
        for (size_t j = 0; j < src->n; j++)
            cfg_change_add(pending, set, src->changes[j].key, src->changes[j].value,
                           src->changes[j].config_file);
    }
    for (size_t i = 0; rc == 0 && i < pending->n; i++)
        rc = cfg_change_set_check(cfg, pending, &pending->sets[i], err);
    if (rc < 0 || pending->n == 0)
        goto out;
    if ((rc = read_optional(u->auto_path, &auto_text, &len, err)) < 0 ||
        (rc = cfg_changes_try(cfg, pending, auto_text, &new_auto, err)) < 0)
        goto out;
    describe(cfg, pending, &u->changes);
    /* as Barman: the new sets join the queue first, so that a crash before
     * the auto file is written leaves them for the next cron */
    if (pending->n > queued && (rc = write_queue(queue_path, pending, u->auto_path, err)) < 0)
        goto out;
    if ((rc = stor_write_file(u->auto_path, sb_str(&new_auto), new_auto.len, 0600, err)) < 0)
        goto out;
    struct cfg_change_list none = {0};
    rc = write_queue(queue_path, &none, u->auto_path, err);
out:
    free(text);
    free(auto_text);
    sb_free(&new_auto);
    return rc;
}

/* Stop the receive-wal of every changed server, so that the next cron
 * starts it with the new settings. */
static void stop_receivers(const struct op_ctx *ctx, const struct cfg_change_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct cfg_server *s = cfg_server_find(ctx->cfg, l->sets[i].section);
        if (!s)
            continue;
        pid_t pid = 0;
        struct cel_err serr = {0};
        if (op_server_task_stop(ctx, s, "receive-wal", false, &pid, &serr) < 0)
            op_log(ctx, LOG_WARNING, s->name, "%s", serr.msg);
        else if (pid)
            op_log(ctx, LOG_INFO, s->name,
                   "stopped receive-wal (PID %ld): the next cron starts it with the new "
                   "settings",
                   (long)pid);
    }
}

/* Apply the queue plus changes (NULL: the queue alone); result says what
 * was done. */
static int update(const struct op_ctx *ctx, const struct cfg_change_list *changes, bool result,
                  struct cel_err *err)
{
    const char *lock_dir = ctx->cfg->global.barman_lock_directory;
    struct lock *lock = NULL;
    int rc = stor_mkdir_p(lock_dir, 0700, err);
    if (rc == 0 &&
        (rc = lock_acquire(lock_dir, ".config-update.lock", false, &lock, err)) == -CEL_E_LOCKED)
        cel_err_prefix(err, "another process is updating the configuration");
    if (rc < 0)
        return rc;
    struct cfg_change_list pending;
    cfg_change_list_init(&pending);
    char *auto_path = cfg_auto_conf_path(&ctx->cfg->global);
    struct update u = {.applied = &pending, .auto_path = auto_path};
    rc = apply_locked(ctx, changes, &pending, &u, err);
    lock_release(lock);
    if (rc == 0) {
        stop_receivers(ctx, &pending);
        if (result) {
            struct op_result r = {"config-update", &u, render_text, render_json};
            op_result(ctx, &r);
        } else if (pending.n) {
            op_log(ctx, LOG_INFO, NULL, "config-update: %s", sb_str(&u.changes));
        }
    }
    sb_free(&u.changes);
    free(auto_path);
    cfg_change_list_free(&pending);
    return rc;
}

int op_config_update(const struct op_ctx *ctx, const struct op_config_update_req *req,
                     struct cel_err *err)
{
    return update(ctx, req->changes, true, err);
}

int op_config_queue_process(const struct op_ctx *ctx, struct cel_err *err)
{
    if (!stor_exists(ctx->cfg->global.config_changes_queue))
        return 0;
    return update(ctx, NULL, false, err);
}
