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
 */
#include <stdlib.h>

#include "ops.h"
#include "recover_int.h"
#include "server.h"
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

int op_window_load(const struct op_ctx *ctx, const struct cfg_server *s, struct op_window *w,
                   struct cel_err *err)
{
    memset(w, 0, sizeof *w);
    w->oldest_done = w->newest_done = -1;
    w->segsize = WAL_DEFAULT_SEGSIZE;
    int rc = op_catalog_load(ctx, s, true, &w->cat, err);
    if (rc < 0)
        return rc;
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
    const struct xdb *xdb = &w->cat.xdb;
    load_points(w, s);
    for (size_t i = xdb->n; i-- > 0;) {
        struct wal_name name;
        if (wal_name_parse(xdb->entries[i].name, &name, NULL) < 0 ||
            name.kind != WAL_KIND_SEGMENT || wal_name_check_segsize(&name, w->segsize, NULL) < 0)
            continue;
        w->end = xdb->entries[i].time;
        cel_strlcpy(w->last_wal, xdb->entries[i].name, sizeof w->last_wal);
        w->end_lsn = wal_segno_to_lsn(wal_segno(&name, w->segsize) + 1, w->segsize);
        break;
    }
    return 0;
}

void op_window_free(struct op_window *w)
{
    op_catalog_free(&w->cat);
    widx_free(&w->points);
    for (size_t i = 0; i < w->n_restore_points; i++)
        free(w->restore_points[i]);
    free(w->restore_points);
    memset(w, 0, sizeof *w);
    w->oldest_done = w->newest_done = -1;
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
