/*
 * check_backup.c - `cellar check-backup SERVER BACKUP_ID`: is every WAL
 * segment the backup needs to be consistent (begin_wal to end_wal) in the
 * archive? Barman's check-backup, with its rules and its words:
 *
 *   - a backup still running (no end_wal) is not checked;
 *   - nothing archived yet on the backup's timeline, or only WAL older than
 *     begin_wal: WAITING_FOR_WALS;
 *   - a segment up to the newest archived one is missing from disk: FAILED,
 *     "At least one WAL file is missing. The first missing WAL file is X"
 *     (the file, not xlog.db's line, is what recovery needs: a file removed
 *     by hand is found here);
 *   - else DONE when end_wal is archived, WAITING_FOR_WALS when not yet.
 *
 * The new status is written to backup.info when it changed. The exit
 * status is 0 for DONE and 1 otherwise, as Barman 3.21 exits with an error
 * for a backup left WAITING_FOR_WALS.
 */
#include <unistd.h>

#include "backup_int.h"
#include "server.h"
#include "storage.h"
#include "wal.h"

struct model {
    const char *server, *id;
    const char *before, *after; /* status names */
    size_t needed, present;     /* segments begin..end, and how many are on disk */
    const char *missing;        /* the first missing segment, NULL when none */
};

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    sb_appendf(out, "Backup %s of server %s: %s", m->id, m->server, m->after);
    if (strcmp(m->before, m->after) != 0)
        sb_appendf(out, " (was %s)", m->before);
    sb_appendf(out, "; %zu of the %zu WAL segments it needs are archived", m->present, m->needed);
    if (m->missing)
        sb_appendf(out, "; the first missing is %s", m->missing);
    sb_append(out, "\n");
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s?}", "server", m->server, "backup_id",
                     m->id, "status_before", m->before, "status", m->after, "wal_needed",
                     (json_int_t)m->needed, "wal_archived", (json_int_t)m->present,
                     "first_missing_wal", m->missing);
}

/* The newest archived segment of timeline tli in xdb, NULL when none. */
static const char *last_archived(const struct xdb *xdb, uint32_t tli)
{
    for (size_t i = xdb->n; i-- > 0;) {
        struct wal_name w;
        if (wal_name_parse(xdb->entries[i].name, &w, NULL) == 0 &&
            w.kind == WAL_KIND_SEGMENT && w.tli == tli)
            return xdb->entries[i].name;
    }
    return NULL;
}

/* Walk begin_wal..end_wal of b on its timeline up to last (inclusive):
 * counts into m, and names the first segment whose file is not in the
 * archive (into missing). */
static void walk_segments(const struct cfg_server *s, const struct cat_backup *b,
                          const struct wal_name *begin, const struct wal_name *end,
                          const char *last, struct model *m, char missing[WAL_NAME_MAX])
{
    uint64_t segsize = (uint64_t)b->xlog_segment_size.v;
    uint64_t from = wal_segno(begin, segsize), to = wal_segno(end, segsize);
    missing[0] = '\0';
    m->needed = to >= from ? (size_t)(to - from + 1) : 0;
    for (uint64_t seg = from; seg <= to; seg++) {
        char name[WAL_NAME_MAX];
        wal_segment_name(begin->tli, seg, segsize, name);
        if (strcmp(name, last) > 0)
            break;
        char *path = op_wal_path(s, name);
        bool there = access(path, F_OK) == 0;
        free(path);
        if (!there) {
            snprintf(missing, WAL_NAME_MAX, "%s", name);
            break;
        }
        m->present++;
    }
}

int op_check_backup(const struct op_ctx *ctx, const struct op_check_backup_req *req,
                    struct cel_err *err)
{
    const struct cfg_server *s;
    struct op_catalog cat;
    int i = op_backup_open(ctx, req->server, req->backup, "check-backup", true, &s, &cat, err);
    if (i < 0)
        return i;
    struct cat_backup *b = &cat.list.items[i];
    struct model m = {.server = s->name, .id = b->id, .before = cat_status_name(b->status)};
    char missing[WAL_NAME_MAX] = "";
    int rc = 0;
    struct wal_name begin, end;
    if (!b->end_wal) {
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "backup %s of server %s has no end_wal yet (status %s): there is "
                         "nothing to check while it runs",
                         b->id, s->name, m.before);
        goto out;
    }
    if (!b->begin_wal || wal_name_parse(b->begin_wal, &begin, NULL) < 0 ||
        wal_name_parse(b->end_wal, &end, NULL) < 0 || !b->xlog_segment_size.set) {
        rc = cel_err_set(err, CEL_E_FORMAT,
                         "backup %s of server %s: backup.info lacks a valid begin_wal, end_wal "
                         "or xlog_segment_size",
                         b->id, s->name);
        goto out;
    }
    enum cat_status now;
    const char *last = last_archived(&cat.xdb, begin.tli);
    if (!last || strcmp(last, b->begin_wal) < 0) {
        now = CAT_WAITING_FOR_WALS;
    } else {
        walk_segments(s, b, &begin, &end, last, &m, missing);
        now = missing[0]                         ? CAT_FAILED
              : strcmp(b->end_wal, last) <= 0 ? CAT_DONE
                                                 : CAT_WAITING_FOR_WALS;
    }
    char *dir = op_backup_dir(s, b->id, NULL);
    if (now == CAT_FAILED) {
        char *msg = cel_xasprintf("At least one WAL file is missing. The first missing WAL file "
                                  "is %s",
                                  missing);
        bk_mark_failed(ctx, s, dir, b, msg);
        free(msg);
        m.missing = missing;
    } else if (now != b->status) {
        b->status = now;
        rc = cat_info_write(dir, b, err);
    }
    free(dir);
    m.after = cat_status_name(now);
    if (rc == 0) {
        struct op_result r = {"check-backup", &m, render_text, render_json};
        op_result(ctx, &r);
    }
    if (rc == 0 && now == CAT_FAILED)
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "This backup has been marked as FAILED due to the following reason: "
                         "At least one WAL file is missing. The first missing WAL file is %s",
                         missing);
    else if (rc == 0 && now == CAT_WAITING_FOR_WALS)
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "backup %s of server %s is WAITING_FOR_WALS: the WAL up to %s is not "
                         "archived yet",
                         b->id, s->name, b->end_wal);
out:
    op_catalog_free(&cat);
    return rc;
}
