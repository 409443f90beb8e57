/*
 * model.c - the console's model, filled by running ops into a keeping sink.
 *
 * keep_event() is a sink that renders each result record to JSON and keeps
 * it, and keeps the text of the ERROR log lines, so an op's failure detail
 * is not lost. The loaders run one op each (list-server, list-backup,
 * show-backup) and copy what the console needs out of the JSON into plain
 * structs, so drawing never walks JSON trees.
 */
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "tui/model.h"

struct keep {
    json_t *results; /* array of {"command": ..., "data": ...} */
    struct strbuf errors;
};

static void keep_event(void *ctx, const struct op_event *ev)
{
    struct keep *k = ctx;
    if (ev->kind == OP_EV_RESULT) {
        json_t *data = ev->result->render_json(ev->result->model);
        /* and the text the batch front end prints, for the screens that
         * show a result as `cellar COMMAND` does (the details pane) */
        struct strbuf text = {0};
        if (ev->result->render_text)
            ev->result->render_text(ev->result->model, &text);
        json_array_append_new(k->results,
                              json_pack("{s:s, s:o*, s:s}", "command", ev->result->command,
                                        "data", data, "text", sb_str(&text)));
        sb_free(&text);
    } else if (ev->kind == OP_EV_LOG && ev->level >= LOG_ERROR && ev->text) {
        if (k->errors.len)
            sb_append(&k->errors, "; ");
        sb_append(&k->errors, ev->text);
    }
}

static void keep_init(struct keep *k, struct op_sink *sink, struct op_ctx *ctx,
                      const struct cfg *cfg)
{
    memset(k, 0, sizeof *k);
    k->results = json_array();
    *sink = (struct op_sink){keep_event, k};
    *ctx = (struct op_ctx){.cfg = cfg, .sink = sink};
}

static void keep_free(struct keep *k)
{
    json_decref(k->results);
    sb_free(&k->errors);
}

/* The data of the first result of command, borrowed from k. */
static json_t *keep_data(const struct keep *k, const char *command)
{
    size_t i;
    json_t *r;
    json_array_foreach(k->results, i, r) {
        const char *c = json_string_value(json_object_get(r, "command"));
        if (c && strcmp(c, command) == 0)
            return json_object_get(r, "data");
    }
    return NULL;
}

/* The text rendering of the first result of command, borrowed from k. */
static const char *keep_text(const struct keep *k, const char *command)
{
    size_t i;
    json_t *r;
    json_array_foreach(k->results, i, r) {
        const char *c = json_string_value(json_object_get(r, "command"));
        if (c && strcmp(c, command) == 0)
            return json_string_value(json_object_get(r, "text"));
    }
    return NULL;
}

/* A copy of o[key] when it is a string, else NULL. */
static char *dup_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? cel_xstrdup(s) : NULL;
}

static uint64_t get_u64(const json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (uint64_t)v : 0;
}

static void backups_free(struct tui_server *s)
{
    for (size_t i = 0; i < s->n_backups; i++) {
        struct tui_backup *b = &s->backups[i];
        free(b->id);
        free(b->name);
        free(b->status);
        free(b->retention);
        free(b->keep);
        free(b->encryption);
    }
    free(s->backups);
    s->backups = NULL;
    s->n_backups = 0;
    free(s->load_error);
    s->load_error = NULL;
}

void tui_model_take_backups(struct tui_model *m, size_t i, const json_t *data, const char *error)
{
    struct tui_server *s = &m->servers[i];
    backups_free(s);
    s->loading = s->load_gen != s->load_started;
    const json_t *list = json_object_get(data, "backups");
    if (!json_is_array(list)) {
        s->load_error = cel_xstrdup(error ? error : "list-backup gave no result");
        return;
    }
    size_t n = json_array_size(list);
    s->backups = n ? cel_xcalloc(n, sizeof *s->backups) : NULL;
    for (size_t j = 0; j < n; j++) {
        const json_t *o = json_array_get(list, j);
        struct tui_backup *b = &s->backups[s->n_backups];
        b->id = dup_str(o, "backup_id");
        if (!b->id)
            continue;
        s->n_backups++;
        b->name = dup_str(o, "backup_name");
        b->status = dup_str(o, "status");
        if (!b->status)
            b->status = cel_xstrdup("?");
        b->retention = dup_str(o, "retention_status");
        b->keep = dup_str(o, "keep");
        b->encryption = dup_str(o, "encryption");
        const char *end = json_string_value(json_object_get(o, "end_time_timestamp"));
        b->end_ts = end ? strtoll(end, NULL, 10) : 0;
        b->has_size = json_object_get(o, "size_bytes") != NULL;
        b->size = get_u64(o, "size_bytes");
        b->wal_size = get_u64(o, "wal_size_bytes");
        b->has_dedup = json_is_integer(json_object_get(o, "deduplicated_size_bytes"));
        b->dedup_size = get_u64(o, "deduplicated_size_bytes");
    }
}

int tui_model_reload_server(struct tui_model *m, size_t i, struct cel_err *err)
{
    struct tui_server *s = &m->servers[i];
    if (s->bucket) { /* the console's child job lists it */
        s->load_gen++;
        s->loading = true;
        return 0;
    }
    struct keep k;
    struct op_sink sink;
    struct op_ctx ctx;
    keep_init(&k, &sink, &ctx, m->cfg);
    struct cel_err e = {0};
    int rc = op_list_backup(&ctx, &(struct op_list_backup_req){.server = s->name}, &e);
    json_t *data = keep_data(&k, "list-backup");
    if (rc >= 0 && !json_is_array(json_object_get(data, "backups")))
        rc = cel_err_set(&e, CEL_E_INTERNAL, "list-backup gave no result");
    tui_model_take_backups(m, i, rc < 0 ? NULL : data, e.msg);
    if (rc < 0 && err)
        *err = e;
    keep_free(&k);
    return rc < 0 ? rc : 0;
}

/* Take s's WAL archive state from list-server's object o of s. */
static void take_archive(struct tui_server *s, const json_t *o)
{
    const json_t *a = json_object_get(o, "wal_archive");
    free(s->wal_error);
    s->wal_error = NULL;
    s->wal_known = json_is_object(a);
    if (!s->wal_known)
        return;
    s->wal_error = dup_str(a, "error");
    s->wal_last_time = json_number_value(json_object_get(a, "last_wal_time"));
    s->wal_waiting = (size_t)get_u64(a, "waiting_wals");
    s->wal_oldest_waiting = json_number_value(json_object_get(a, "oldest_waiting_time"));
    s->streaming = json_is_true(json_object_get(a, "streaming"));
    s->receiver_pid = (long)json_integer_value(json_object_get(a, "receiver_pid"));
}

/* Take s's cloud copy state from list-server's object o of s. */
static void take_cloud_copy(struct tui_server *s, const json_t *o)
{
    const json_t *c = json_object_get(o, "cloud_copy");
    free(s->cloud_error);
    s->cloud_error = NULL;
    s->cloud_copy = json_is_object(c);
    if (!s->cloud_copy)
        return;
    s->cloud_last_upload = json_number_value(json_object_get(c, "last_upload"));
    s->cloud_error = dup_str(c, "last_error");
}

int tui_model_reload_archive(struct tui_model *m, struct cel_err *err)
{
    struct keep k;
    struct op_sink sink;
    struct op_ctx ctx;
    keep_init(&k, &sink, &ctx, m->cfg);
    int rc = op_list_server(&ctx, &(struct op_list_server_req){0}, err);
    json_t *data = keep_data(&k, "list-server");
    if (rc >= 0 && !json_is_object(data))
        rc = cel_err_set(err, CEL_E_INTERNAL, "list-server gave no result");
    for (size_t i = 0; rc >= 0 && i < m->n_servers; i++) {
        const json_t *o = json_object_get(data, m->servers[i].name);
        take_archive(&m->servers[i], o);
        take_cloud_copy(&m->servers[i], o);
    }
    keep_free(&k);
    return rc;
}

int tui_model_load(struct tui_model *m, const struct cfg *cfg, struct cel_err *err)
{
    memset(m, 0, sizeof *m);
    m->cfg = cfg;
    struct keep k;
    struct op_sink sink;
    struct op_ctx ctx;
    keep_init(&k, &sink, &ctx, cfg);
    int rc = op_list_server(&ctx, &(struct op_list_server_req){0}, err);
    json_t *data = keep_data(&k, "list-server");
    if (rc >= 0 && !json_is_object(data))
        rc = cel_err_set(err, CEL_E_INTERNAL, "list-server gave no result");
    if (rc < 0) {
        keep_free(&k);
        return rc;
    }
    size_t n = json_object_size(data);
    m->servers = n ? cel_xcalloc(n, sizeof *m->servers) : NULL;
    const char *name;
    json_t *o;
    json_object_foreach(data, name, o) {
        struct tui_server *s = &m->servers[m->n_servers++];
        s->name = cel_xstrdup(name);
        s->description = dup_str(o, "description");
        s->active = !json_is_false(json_object_get(o, "active"));
        s->disabled = json_is_true(json_object_get(o, "disabled"));
        for (size_t i = 0; i < cfg->n_servers; i++)
            if (strcmp(cfg->servers[i].name, name) == 0) {
                s->max_age = cfg->servers[i].last_backup_maximum_age.seconds;
                s->wal_max_age = cfg->servers[i].last_wal_maximum_age.seconds;
                if (cfg->servers[i].cloud_source)
                    s->bucket = cel_xstrdup(cfg->servers[i].cloud_source);
            }
        take_archive(s, o);
        take_cloud_copy(s, o);
    }
    keep_free(&k);
    for (size_t i = 0; i < m->n_servers; i++)
        if (!m->servers[i].disabled)
            tui_model_reload_server(m, i, NULL);
        else
            m->servers[i].load_error = cel_xstrdup("disabled by configuration errors");
    return 0;
}

void tui_model_free(struct tui_model *m)
{
    for (size_t i = 0; i < m->n_servers; i++) {
        struct tui_server *s = &m->servers[i];
        backups_free(s);
        free(s->name);
        free(s->description);
        free(s->health_text);
        free(s->wal_error);
        free(s->bucket);
        free(s->cloud_error);
    }
    free(m->servers);
    memset(m, 0, sizeof *m);
}

ssize_t tui_model_find(const struct tui_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_servers; i++)
        if (strcmp(m->servers[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

int tui_model_show_backup(const struct tui_model *m, size_t i, const char *id, json_t **data,
                          char **text, struct cel_err *err)
{
    struct keep k;
    struct op_sink sink;
    struct op_ctx ctx;
    keep_init(&k, &sink, &ctx, m->cfg);
    int rc = op_show_backup(
        &ctx, &(struct op_show_backup_req){.server = m->servers[i].name, .backup = id}, err);
    json_t *d = keep_data(&k, "show-backup");
    const char *t = keep_text(&k, "show-backup");
    if (rc >= 0 && (!d || !t)) {
        cel_err_set(err, CEL_E_INTERNAL, "show-backup gave no result");
        rc = -CEL_E_INTERNAL;
    }
    if (data)
        *data = rc >= 0 ? json_incref(d) : NULL;
    if (text)
        *text = rc >= 0 ? cel_xstrdup(t) : NULL;
    keep_free(&k);
    return rc < 0 ? rc : 0;
}

void tui_model_apply_replication(struct tui_model *m, const json_t *data)
{
    const char *name = json_string_value(json_object_get(data, "server"));
    ssize_t i = name ? tui_model_find(m, name) : -1;
    const struct cfg_server *cs = name ? cfg_server_find(m->cfg, name) : NULL;
    if (i < 0 || !cs)
        return;
    struct tui_server *s = &m->servers[i];
    s->stream_lag_known = false;
    const json_t *clients = json_object_get(data, "clients");
    size_t k;
    const json_t *c;
    json_array_foreach(clients, k, c) {
        const char *app = json_string_value(json_object_get(c, "application_name"));
        if (!app || !cs->streaming_archiver_name || strcmp(app, cs->streaming_archiver_name) != 0)
            continue;
        /* written, not flushed: pg_receivewal flushes a segment at its end */
        const json_t *bytes = json_object_get(c, "write_lag_bytes");
        const json_t *secs = json_object_get(c, "write_lag_seconds");
        s->stream_lag_known = json_is_number(bytes);
        s->stream_lag_bytes = json_number_value(bytes);
        /* NULL in pg_stat_replication: no WAL to wait for lately */
        s->stream_lag_seconds = json_is_number(secs) ? json_number_value(secs) : 0;
        break;
    }
}

void tui_model_forget_replication(struct tui_model *m, size_t i)
{
    if (i < m->n_servers)
        m->servers[i].stream_lag_known = false;
}

void tui_model_apply_check(struct tui_model *m, json_t *data)
{
    const char *name;
    json_t *checks;
    json_object_foreach(data, name, checks) {
        ssize_t i = tui_model_find(m, name);
        if (i < 0 || !json_is_object(checks))
            continue;
        struct tui_server *s = &m->servers[i];
        free(s->health_text);
        s->health_text = NULL;
        s->checks_failed = 0;
        const char *check;
        json_t *c;
        json_object_foreach(checks, check, c) {
            const char *st = json_string_value(json_object_get(c, "status"));
            if (st && strcmp(st, "OK") == 0)
                continue;
            if (!s->checks_failed++) {
                const char *hint = json_string_value(json_object_get(c, "hint"));
                s->health_text = hint && *hint ? cel_xasprintf("%s: %s", check, hint)
                                               : cel_xstrdup(check);
            }
        }
        s->health = s->checks_failed ? TUI_HEALTH_FAILED : TUI_HEALTH_OK;
    }
}

int64_t tui_server_last_backup(const struct tui_server *s)
{
    int64_t last = 0;
    for (size_t i = 0; i < s->n_backups; i++) {
        const struct tui_backup *b = &s->backups[i];
        if ((strcmp(b->status, "DONE") == 0 || strcmp(b->status, "WAITING_FOR_WALS") == 0) &&
            b->end_ts > last)
            last = b->end_ts;
    }
    return last;
}

bool tui_server_backup_too_old(const struct tui_server *s, int64_t now)
{
    if (s->max_age <= 0)
        return false;
    int64_t last = tui_server_last_backup(s);
    return !last || now - last > s->max_age;
}

bool tui_server_wal_lag(const struct tui_server *s, double now, struct strbuf *out)
{
    if (!s->wal_known) {
        sb_append(out, "-");
        return false;
    }
    bool warn = false;
    if (s->wal_error) {
        sb_append(out, "?");
        warn = true;
    } else if (s->wal_last_time > 0) {
        double age = now - s->wal_last_time;
        tui_fmt_age((int64_t)age, out);
        warn = age > (double)(s->wal_max_age > 0 ? s->wal_max_age : TUI_WAL_QUIET_WARN);
    } else {
        sb_append(out, "none");
        warn = true;
    }
    /* a streaming server: whether its receiver runs; one that does not
     * lets the slot hold WAL on the server and the archive fall behind */
    if (s->streaming && !s->receiver_pid) {
        sb_append(out, " stream DOWN");
        warn = true;
    } else if (s->streaming && s->stream_lag_known) {
        /* what the receiver has written behind the server: bytes, seconds */
        sb_append(out, " stream ");
        fmt_size(s->stream_lag_bytes, out);
        sb_appendf(out, " %.0fs", s->stream_lag_seconds);
    } else if (s->streaming) {
        sb_append(out, " stream");
    }
    if (s->wal_waiting) {
        sb_appendf(out, " +%zu waiting", s->wal_waiting);
        warn = warn || now - s->wal_oldest_waiting > TUI_WAL_WAIT_WARN;
    }
    return warn && s->active;
}

void tui_fmt_age(int64_t seconds, struct strbuf *out)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 60)
        sb_appendf(out, "%llds", (long long)seconds);
    else if (seconds < 3600)
        sb_appendf(out, "%lldm", (long long)(seconds / 60));
    else if (seconds < 86400)
        sb_appendf(out, "%lldh %lldm", (long long)(seconds / 3600),
                   (long long)(seconds % 3600 / 60));
    else
        sb_appendf(out, "%lldd %lldh", (long long)(seconds / 86400),
                   (long long)(seconds % 86400 / 3600));
}
