/*
 * recover_window.c - the planning side of a recovery, read from the
 * catalogue alone: the recoverable window of a server, and the backup a
 * recovery to a target starts from.
 *
 * The window runs from the begin_time of the oldest DONE backup (a recovery
 * cannot stop before a backup began; strictly, before it ended, which the
 * recover checks enforce per backup) to the archive time that xlog.db
 * records for the newest archived segment, the last segment in name order
 * (history files, backup labels and partial files are not WAL to replay).
 * That segment ends at the LSN where the next one starts: no target LSN
 * beyond it can be reached from the archive. The restore points listed are
 * the ones the catalogue can vouch for: every DONE backup's barman_<ID>,
 * which cellar's backup (backup.c, as Barman does) creates once the copy is
 * closed. Everything here reads files and takes only the xlogdb lock, so
 * the console can call it from its loop.
 *
 * op_target_fits is the one rule for whether a backup can reach a target
 * (the target not before the backup's end), with the reason when it
 * cannot: recover's checks, `auto`, --dry-run and the wizard all ask it.
 * op_recover_pick is recover's `auto`: the newest DONE backup that fits
 * the target, with the reason in one sentence for the wizard and --dry-run
 * to show.
 *
 * recover --window SERVER reports the window as JSON (op_window_json), for
 * the console's wizard on a bucket server, whose catalogue it must not read
 * in its own loop: each backup travels as its backup.info text and the
 * index as its file's text, so op_window_from_json rebuilds them with the
 * parsers of those files, and derives the rest as op_window_load does.
 */
#include <stdlib.h>

#include "ops.h"
#include "recover_int.h"
#include "server.h"
#include "server_select.h"
#include "storage.h"
#include "wal.h"

/* The segment size of the catalogue: the newest readable backup's
 * xlog_segment_size, else PostgreSQL's default. */
static uint64_t catalog_segsize(const struct cat_list *list)
{
    for (size_t i = list->n; i-- > 0;) {
        const struct cat_backup *b = &list->items[i];
        if (!list->failed[i]) /* then cat_info_parse checked the size */
            return (uint64_t)b->xlog_segment_size.v;
    }
    return WAL_DEFAULT_SEGSIZE;
}

/* The names of the index's restore points added to w->restore_points
 * (after the barman_<ID> ones, each name once). */
static void add_point_names(struct op_window *w)
{
    for (size_t i = 0; i < w->points.n_points; i++) {
        const char *name = w->points.points[i].name;
        bool known = false;
        for (size_t k = 0; k < w->n_restore_points && !known; k++)
            known = strcmp(w->restore_points[k], name) == 0;
        if (known)
            continue;
        w->restore_points = cel_xrealloc_array(w->restore_points, w->n_restore_points + 1,
                                               sizeof *w->restore_points);
        w->restore_points[w->n_restore_points++] = cel_xstrdup(name);
    }
}

/* The restore points of the saved index (only what it has read: building
 * it is recover's job, not the console loop's), and their names added to
 * w->restore_points. */
static void load_points(struct op_window *w, const struct cfg_server *s)
{
    const struct xdb *xdb = &w->cat.xdb;
    if (widx_read(s->wals_directory, &w->points, NULL) < 0)
        widx_free(&w->points);
    widx_keep_only(&w->points, xdb);
    for (size_t i = 0; i < xdb->n; i++) {
        struct wal_name name;
        if (wal_name_parse(xdb->entries[i].name, &name, NULL) == 0 &&
            (name.kind == WAL_KIND_SEGMENT || name.kind == WAL_KIND_PARTIAL) &&
            !widx_find(&w->points, xdb->entries[i].name))
            w->points_unread++;
    }
    add_point_names(w);
}

/* What the window takes from its catalogue's backups (w->cat.list): the
 * oldest and newest DONE backup, their barman_<ID> restore points, the
 * begin and the segment size. */
static void window_of_backups(struct op_window *w)
{
    const struct cat_list *list = &w->cat.list;
    for (size_t i = 0; i < list->n; i++) {
        if (list->failed[i] || list->items[i].status != CAT_DONE)
            continue;
        if (w->oldest_done < 0)
            w->oldest_done = (int)i;
        w->newest_done = (int)i;
        w->restore_points = cel_xrealloc_array(w->restore_points, w->n_restore_points + 1,
                                               sizeof *w->restore_points);
        w->restore_points[w->n_restore_points++] =
            cel_xasprintf("barman_%s", list->items[i].id);
    }
    if (w->oldest_done >= 0 && list->items[w->oldest_done].begin_time.set)
        w->begin = ts_epoch(&list->items[w->oldest_done].begin_time.t);
    w->segsize = catalog_segsize(list);
}

/* Segment name, archived at time, as the window's end when it is a WAL
 * segment of the window's size (then end_lsn is where it ends); -1 when
 * it is not. */
static int window_end_at(struct op_window *w, const char *name, double time)
{
    struct wal_name wn;
    if (wal_name_parse(name, &wn, NULL) < 0 || wn.kind != WAL_KIND_SEGMENT ||
        wal_name_check_segsize(&wn, w->segsize, NULL) < 0)
        return -1;
    w->end = time;
    cel_strlcpy(w->last_wal, name, sizeof w->last_wal);
    w->end_lsn = wal_segno_to_lsn(wal_segno(&wn, w->segsize) + 1, w->segsize);
    return 0;
}

static void window_init(struct op_window *w)
{
    memset(w, 0, sizeof *w);
    w->oldest_done = w->newest_done = -1;
    w->segsize = WAL_DEFAULT_SEGSIZE;
}

int op_window_load(const struct op_ctx *ctx, const struct cfg_server *s, struct op_window *w,
                   struct cel_err *err)
{
    window_init(w);
    int rc = op_catalog_load(ctx, s, true, &w->cat, err);
    if (rc < 0)
        return rc;
    window_of_backups(w);
    const struct xdb *xdb = &w->cat.xdb;
    load_points(w, s);
    for (size_t i = xdb->n; i-- > 0;)
        if (window_end_at(w, xdb->entries[i].name, xdb->entries[i].time) == 0)
            break;
    return 0;
}

void op_window_free(struct op_window *w)
{
    op_catalog_free(&w->cat);
    widx_free(&w->points);
    for (size_t i = 0; i < w->n_restore_points; i++)
        free(w->restore_points[i]);
    free(w->restore_points);
    window_init(w);
}

/* ---- the window as JSON: recover --window ------------------------------------------ */

json_t *op_window_json(const struct op_window *w, const char *server)
{
    const struct cat_list *list = &w->cat.list;
    json_t *backups = json_array();
    for (size_t i = 0; i < list->n; i++) {
        const struct cat_backup *b = &list->items[i];
        if (list->failed[i]) {
            json_array_append_new(backups, json_pack("{s:s, s:s}", "backup_id", b->id, "error",
                                                     list->errors[i].msg));
            continue;
        }
        struct strbuf info = {0};
        cat_info_format(b, &info);
        json_array_append_new(backups, json_pack("{s:s, s:s}", "backup_id", b->id,
                                                 "backup_info", sb_str(&info)));
        sb_free(&info);
    }
    struct strbuf index = {0};
    widx_format(&w->points, &index);
    char lsn[WAL_LSN_MAX];
    wal_lsn_format(w->end_lsn, lsn);
    json_t *o = json_pack("{s:s, s:o, s:f, s:o, s:o, s:I, s:s}", "server", server, "backups",
                          backups, "end", w->end, "last_wal",
                          w->last_wal[0] ? json_string(w->last_wal) : json_null(), "end_lsn",
                          w->last_wal[0] ? json_string(lsn) : json_null(), "points_unread",
                          (json_int_t)w->points_unread, "targets_index", sb_str(&index));
    sb_free(&index);
    return o;
}

/* Element i of the JSON form's "backups" appended to list (which has room
 * for it): its backup.info text parsed as the file is, or its error kept. */
static int backup_of_json(const json_t *v, size_t i, struct cat_list *list, struct cel_err *err)
{
    const char *id = json_string_value(json_object_get(v, "backup_id"));
    const char *info = json_string_value(json_object_get(v, "backup_info"));
    const char *error = json_string_value(json_object_get(v, "error"));
    struct cel_err why = {0};
    if (!json_is_object(v) || !id || (!info == !error))
        return cel_err_set(err, CEL_E_FORMAT,
                           "backups[%zu]: expected {\"backup_id\": ID, \"backup_info\": TEXT} "
                           "or {\"backup_id\": ID, \"error\": TEXT}",
                           i);
    if (stor_check_component(id, "backup ID", &why) < 0)
        return cel_err_set(err, CEL_E_FORMAT, "backups[%zu]: %s", i, why.msg);
    if (list->n && strcmp(list->items[list->n - 1].id, id) >= 0)
        return cel_err_set(err, CEL_E_FORMAT,
                           "backups[%zu]: backup %s is not after %s (oldest first, each once)", i,
                           id, list->items[list->n - 1].id);
    struct cat_backup *b = &list->items[list->n];
    if (info && cat_info_parse(info, "backup.info", b, &why) < 0) {
        cat_backup_clear(b);
        return cel_err_set(err, CEL_E_FORMAT, "backup %s: %s", id, why.msg);
    }
    b->id = cel_xstrdup(id);
    if (error) {
        list->failed[list->n] = true;
        cel_err_set(&list->errors[list->n], CEL_E_FORMAT, "%s", error);
    }
    list->n++;
    return 0;
}

int op_window_from_json(const json_t *data, struct op_window *w, struct cel_err *err)
{
    window_init(w);
    const json_t *backups = json_object_get(data, "backups");
    const json_t *end = json_object_get(data, "end");
    const json_t *last = json_object_get(data, "last_wal");
    const json_t *unread = json_object_get(data, "points_unread");
    const char *index = json_string_value(json_object_get(data, "targets_index"));
    if (!json_is_object(data) || !json_is_array(backups) || !json_is_number(end) ||
        !(json_is_null(last) || json_is_string(last)) || !json_is_integer(unread) || !index)
        return cel_err_set(err, CEL_E_FORMAT,
                           "not a recoverable window: expected an object with backups, end, "
                           "last_wal, points_unread and targets_index");
    size_t n = json_array_size(backups);
    struct cat_list *list = &w->cat.list;
    list->items = cel_xcalloc(n ? n : 1, sizeof *list->items);
    list->errors = cel_xcalloc(n ? n : 1, sizeof *list->errors);
    list->failed = cel_xcalloc(n ? n : 1, sizeof *list->failed);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = backup_of_json(json_array_get(backups, i), i, list, err);
    if (rc < 0)
        return rc;
    window_of_backups(w);
    double at = json_number_value(end);
    json_int_t u = json_integer_value(unread);
    if (!(at >= 0 && at < 1e11) || u < 0)
        return cel_err_set(err, CEL_E_FORMAT, "end (%g) or points_unread (%lld) out of range",
                           at, (long long)u);
    w->points_unread = (size_t)u;
    const char *name = json_string_value(last);
    if (name && window_end_at(w, name, at) < 0) {
        char shown[CEL_SHOW_BUF];
        return cel_err_set(err, CEL_E_FORMAT,
                           "last_wal '%s' is not a WAL segment name of the catalogue's segment "
                           "size (%llu bytes)",
                           cel_show(name, strlen(name), shown), (unsigned long long)w->segsize);
    }
    struct cel_err why = {0};
    if (widx_parse(index, strlen(index), &w->points, &why) < 0)
        return cel_err_set(err, CEL_E_FORMAT, "targets_index: %s", why.msg);
    add_point_names(w);
    return 0;
}

struct window_model {
    const struct op_window *w;
    const char *server;
};

/* recover --window's text: the window in a few lines. */
static void window_model_text(const void *p, struct strbuf *out)
{
    const struct window_model *m = p;
    const struct op_window *w = m->w;
    sb_appendf(out, "Recoverable window of server %s:\n", m->server);
    const struct cat_list *list = &w->cat.list;
    size_t done = 0;
    for (size_t i = 0; i < list->n; i++)
        done += !list->failed[i] && list->items[i].status == CAT_DONE;
    sb_appendf(out, "Backups: %zu (%zu DONE)\n", list->n, done);
    const struct cat_backup *first = w->oldest_done >= 0 ? &list->items[w->oldest_done] : NULL;
    if (first && first->end_time.set) {
        char at[TS_MAX];
        ts_format(&first->end_time.t, at);
        sb_appendf(out, "Recoverable from: %s (the end of the oldest DONE backup, %s)\n", at,
                   first->id);
    }
    if (w->last_wal[0]) {
        struct ts t;
        char at[TS_MAX], lsn[WAL_LSN_MAX];
        ts_from_epoch((int64_t)w->end, (int32_t)((w->end - (double)(int64_t)w->end) * 1e6), &t);
        ts_format(&t, at);
        wal_lsn_format(w->end_lsn, lsn);
        sb_appendf(out, "Recoverable to: before %s (the last archived WAL %s arrived; it ends at "
                        "%s)\n",
                   at, w->last_wal, lsn);
    } else {
        sb_append(out, "Recoverable to: no WAL is archived\n");
    }
    sb_appendf(out, "Restore points: %zu\n", w->n_restore_points);
    for (size_t i = 0; i < w->n_restore_points; i++)
        sb_appendf(out, "  %s\n", w->restore_points[i]);
}

static json_t *window_model_json(const void *p)
{
    const struct window_model *m = p;
    return op_window_json(m->w, m->server);
}

int op_recover_window(const struct op_ctx *ctx, const char *server, struct cel_err *err)
{
    const struct cfg_server *s;
    int rc = op_one_server(ctx, server, "recover", &s, err);
    if (rc < 0)
        return rc;
    struct op_window w;
    rc = op_window_load(ctx, s, &w, err);
    if (rc == 0) {
        struct window_model m = {&w, s->name};
        struct op_result res = {"recover-window", &m, window_model_text, window_model_json};
        op_result(ctx, &res);
    }
    op_window_free(&w);
    return rc;
}

/* A backup time as the reason shows it: to the second, in its offset. */
static void format_end(const struct cat_backup *b, char out[TS_MAX])
{
    struct ts t = b->end_time.t;
    t.usec = 0;
    ts_format(&t, out);
}

/* The DONE backup whose restore point barman_<ID> name is, -1 if none. */
static int restore_point_backup(const struct cat_list *list, const char *name)
{
    if (!name || !cel_str_starts(name, "barman_"))
        return -1;
    for (size_t i = 0; i < list->n; i++)
        if (!list->failed[i] && list->items[i].status == CAT_DONE &&
            strcmp(list->items[i].id, name + strlen("barman_")) == 0)
            return (int)i;
    return -1;
}

uint64_t op_backup_next_xid(const struct cfg_server *s, const struct cat_backup *b)
{
    char *data = op_backup_dir(s, b->id, "data");
    char *v = op_controldata_field(data, b->version.set ? (long)b->version.v : 0, s->path_prefix,
                                   "Latest checkpoint's NextXID"); /* "0:745" */
    unsigned long long epoch = 0, xid = 0;
    uint64_t next = v && sscanf(v, "%llu:%llu", &epoch, &xid) == 2 && epoch == 0 ? xid : 0;
    free(v);
    free(data);
    return next;
}

void op_xids_init(struct op_xids *x, const struct cfg_server *s, const struct cat_list *list)
{
    x->s = s;
    x->list = list;
    x->next = cel_xcalloc(list->n ? list->n : 1, sizeof *x->next);
}

void op_xids_free(struct op_xids *x)
{
    free(x->next);
    memset(x, 0, sizeof *x);
}

uint64_t op_xids_next(struct op_xids *x, size_t i)
{
    if (!x->next[i]) {
        uint64_t v = op_backup_next_xid(x->s, &x->list->items[i]);
        x->next[i] = v ? v : UINT64_MAX;
    }
    return x->next[i] == UINT64_MAX ? 0 : x->next[i];
}

bool op_xids_known(const struct op_xids *x, size_t i)
{
    return x->next && i < x->list->n && x->next[i] && x->next[i] != UINT64_MAX;
}

/* For a target XID: the newest DONE backup that started before it was
 * assigned, by bisection over the DONE backups (oldest first), asking
 * op_target_fits; -1 when the oldest started after it. */
static int pick_xid(const struct cat_list *list, struct op_xids *x, const struct rc_target *t,
                    size_t *oldest)
{
    size_t *done = cel_xcalloc(list->n ? list->n : 1, sizeof *done), n = 0;
    for (size_t i = 0; i < list->n; i++)
        if (!list->failed[i] && list->items[i].status == CAT_DONE)
            done[n++] = i;
    int pick = -1;
    if (n) {
        *oldest = done[0];
        if (op_target_fits(list, done[n - 1], t, x, NULL, NULL) == 0) {
            pick = (int)done[n - 1];
        } else if (op_target_fits(list, done[0], t, x, NULL, NULL) == 0) {
            size_t lo = 0, hi = n - 1; /* lo fits, hi does not */
            while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (op_target_fits(list, done[mid], t, x, NULL, NULL) == 0)
                    lo = mid;
                else
                    hi = mid;
            }
            pick = (int)done[lo];
        }
    }
    free(done);
    return pick;
}

int op_restore_point_find(const struct widx *idx, const char *name, const char *server,
                          const struct widx_point **out, struct cel_err *err)
{
    size_t *at = NULL;
    size_t n = widx_points_named(idx, name ? name : "", &at);
    if (n) {
        *out = &idx->points[at[n - 1]];
        free(at);
        return 0;
    }
    char q[CEL_SHOW_BUF];
    /* what does exist, newest last: the name the DBA meant is likely there */
    struct strbuf known = {0};
    size_t from = idx->n_points > 10 ? idx->n_points - 10 : 0;
    sb_append(&known, !idx->n_points ? "it holds none" : from ? "the newest: " : "it holds: ");
    for (size_t i = from; i < idx->n_points; i++) {
        char shown[CEL_SHOW_BUF];
        sb_appendf(&known, "%s%s", i > from ? ", " : "",
                   cel_show(idx->points[i].name, strlen(idx->points[i].name), shown));
    }
    int rc =
        cel_err_set(err, CEL_E_INVALID,
                    "--target-name %s: the archived WAL of server %s holds no restore "
                    "point of that name (%s)",
                    cel_show(name ? name : "", name ? strlen(name) : 0, q), server, sb_str(&known));
    cel_err_hint(err, "Give the name passed to pg_create_restore_point(); the restore point "
                      "must have been archived (pg_switch_wal() closes its segment).");
    sb_free(&known);
    return rc;
}

/* The reason target t does not fit backup b: the target is before the
 * copy is consistent. */
static int before_end(const struct cat_backup *b, const struct rc_target *t, const char *end,
                      struct cel_err *err)
{
    return cel_err_set(err, CEL_E_INVALID,
                       "%s %s is before the end of backup %s (%s): the copy is not consistent "
                       "before then",
                       rc_target_def(t->kind)->option, t->text, b->id, end);
}

/* A backup that records no end cannot be vouched for. */
static int no_end(const struct cat_backup *b, const struct rc_target *t, const char *key,
                  struct cel_err *err)
{
    return cel_err_set(err, CEL_E_INVALID,
                       "%s %s: backup %s records no %s, so whether the target is after its end "
                       "cannot be told",
                       rc_target_def(t->kind)->option, t->text, b->id, key);
}

int op_target_fits(const struct cat_list *list, size_t i, const struct rc_target *t,
                   struct op_xids *xids, const struct widx_point *rp, struct cel_err *err)
{
    const struct cat_backup *b = &list->items[i];
    uint64_t b_end = 0;
    bool has_end_lsn = b->end_xlog && wal_lsn_parse(b->end_xlog, &b_end, NULL) == 0;
    int rc = 0;
    if (t->kind == RC_TARGET_TIME) {
        char end[TS_MAX];
        if (!b->end_time.set)
            rc = no_end(b, t, "end_time", err);
        else if (t->epoch < ts_epoch(&b->end_time.t))
            rc = before_end(b, t, (ts_format(&b->end_time.t, end), end), err);
    } else if (t->kind == RC_TARGET_LSN) {
        if (!has_end_lsn)
            rc = no_end(b, t, "end_xlog", err);
        else if (t->lsn < b_end)
            rc = before_end(b, t, b->end_xlog, err);
    } else if (t->kind == RC_TARGET_NAME && rp) {
        char at[WAL_LSN_MAX];
        wal_lsn_format(rp->lsn, at);
        if (!has_end_lsn)
            rc = no_end(b, t, "end_xlog", err);
        else if (rp->lsn < b_end)
            rc = cel_err_set(err, CEL_E_INVALID,
                             "--target-name %s: the restore point (at %s) is before the end of "
                             "backup %s (%s): the copy is not consistent before then",
                             t->text, at, b->id, b->end_xlog);
    } else if (t->kind == RC_TARGET_NAME) {
        /* barman_<ID> is made as backup ID ends: a newer backup starts after it */
        int maker = restore_point_backup(list, t->text);
        if (maker >= 0 && strcmp(list->items[maker].id, b->id) < 0) {
            rc = cel_err_set(err, CEL_E_INVALID,
                             "--target-name %s: backup %s started after restore point %s was "
                             "made, as backup %s ended",
                             t->text, b->id, t->text, list->items[maker].id);
            cel_err_hint(err, "Choose backup %s or an older one.", list->items[maker].id);
        }
    } else if (t->kind == RC_TARGET_XID && xids) {
        uint64_t next = op_xids_next(xids, i);
        if (next && t->xid < next) {
            rc = cel_err_set(err, CEL_E_INVALID,
                             "--target-xid %s was assigned before backup %s started (its first "
                             "free transaction ID was %llu): its commit is older than the backup",
                             t->text, b->id, (unsigned long long)next);
            cel_err_hint(err, "Choose an older backup, or --force if that transaction ran "
                              "across the whole backup and committed after its end.");
        }
    }
    if (rc < 0 && err && !*err->hint)
        cel_err_hint(err, "Choose an older backup (BACKUP_ID auto picks one), or a later "
                          "target.");
    return rc;
}

int op_recover_pick(const struct cat_list *list, const struct rc_target *t, const char *server,
                    struct op_xids *xids, const struct widx *points, struct strbuf *why,
                    struct cel_err *err)
{
    const char *value = t->text;
    const struct widx_point *rp = NULL;
    if (t->kind == RC_TARGET_NAME && points) {
        int rc = op_restore_point_find(points, value, server, &rp, err);
        if (rc < 0)
            return rc;
    }
    if (t->kind == RC_TARGET_XID && xids) {
        size_t oldest = 0;
        int i = pick_xid(list, xids, t, &oldest);
        if (i < 0 && list->n && op_xids_next(xids, oldest)) {
            cel_err_set(err, CEL_E_NOT_FOUND,
                        "transaction %s was assigned before the oldest DONE backup of server %s "
                        "started (its first free transaction ID was %llu)",
                        value, server, (unsigned long long)op_xids_next(xids, oldest));
            return -CEL_E_NOT_FOUND;
        }
        if (i >= 0 && op_xids_next(xids, (size_t)i)) {
            if (why)
                sb_appendf(why, "the newest DONE backup that started before transaction %s "
                                "(its first free transaction ID was %llu)",
                           value, (unsigned long long)op_xids_next(xids, (size_t)i));
            return i;
        }
    }
    if (t->kind == RC_TARGET_NAME && !rp) {
        int i = restore_point_backup(list, value);
        if (i >= 0) {
            if (why)
                sb_appendf(why, "backup %s created restore point %s as it ended: a newer "
                                "backup starts after it",
                           list->items[i].id, value);
            return i;
        }
    }
    for (size_t i = list->n; i-- > 0;) {
        const struct cat_backup *b = &list->items[i];
        if (list->failed[i] || b->status != CAT_DONE ||
            op_target_fits(list, i, t, xids, rp, NULL) < 0)
            continue;
        if (!why)
            return (int)i;
        if (t->kind == RC_TARGET_TIME) {
            char at[TS_MAX];
            format_end(b, at);
            sb_appendf(why, "the newest DONE backup that ended before %s (it ended at %s)",
                       value, at);
        } else if (t->kind == RC_TARGET_LSN) {
            sb_appendf(why, "the newest DONE backup that ended before %s (it ended at %s)",
                       value, b->end_xlog);
        } else if (rp) {
            char at[WAL_LSN_MAX];
            wal_lsn_format(rp->lsn, at);
            sb_appendf(why,
                       "the newest DONE backup that ended before restore point %s (at %s; "
                       "it ended at %s)",
                       value, at, b->end_xlog);
        } else if (t->kind == RC_TARGET_XID) {
            sb_appendf(why, "the newest DONE backup (the catalogue cannot tell when transaction "
                            "%s ran: choose an older backup if it is older)",
                       value);
        } else if (t->kind == RC_TARGET_NAME) {
            sb_appendf(why, "the newest DONE backup (restore point %s is not one the catalogue "
                            "knows, so where it lies is not known)",
                       value);
        } else if (t->kind == RC_TARGET_IMMEDIATE) {
            sb_append(why, "the newest DONE backup (--target-immediate stops where it ends)");
        } else {
            sb_append(why, "the newest DONE backup (no target: the recovery replays all the "
                           "archived WAL)");
        }
        return (int)i;
    }
    if (rp) {
        char at[WAL_LSN_MAX];
        wal_lsn_format(rp->lsn, at);
        return cel_err_set(err, CEL_E_NOT_FOUND,
                           "server %s has no DONE backup that ended before restore point %s "
                           "(at %s)",
                           server, value, at);
    }
    return cel_err_set(err, CEL_E_NOT_FOUND, "server %s has no DONE backup that ended before %s",
                       server, value[0] ? value : "now");
}
