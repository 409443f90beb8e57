/*
 * recover.c - `cellar recover SERVER BACKUP_ID DEST`: a backup, and the WAL
 * up to a target, into a data directory that starts as a recovered copy of
 * the server, locally or on the host of --remote-ssh-command.
 *
 * The target arrives parsed (rc_target_parse, at the command line or in
 * the wizard): this file reads its typed fields and never its text.
 *
 * Every check happens before anything is written: the backup is complete;
 * the target is not before the end of the backup (op_target_fits: a
 * recovery cannot stop before the copy is consistent); it lies within the
 * archived WAL; the segments from the backup's begin_wal to the target are
 * all there; the destination and the tablespace locations are empty (a
 * tablespace recovered over the live server's would destroy it); the
 * destination's filesystem has room for the backup and the WAL copied.
 * --force skips the target, WAL and free space checks, never the emptiness
 * checks. An encrypted backup (Barman 3.14's encryption = gpg) has its
 * passphrase tried on base.tar.*.gpg among the checks, and its archives
 * decrypted as they are extracted (rd_untar). --dry-run stops after the
 * checks and reports the plan (a "recover-plan" result) instead: no hook
 * runs, incoming/ is left alone and nothing is written, not even the
 * scratch directory of a remote recovery.
 * `auto` picks the backup with op_recover_pick (recover_window.c).
 *
 * Then, as Barman 3.4 does (reference section 7.2): the tablespaces are
 * copied to their locations (or the --tablespace relocations) and linked
 * from pg_tblspc; data/ is copied without pg_wal's contents, postmaster.pid,
 * signal files, recovery.conf and tablespace_map; the WAL goes into pg_wal
 * (no target: PostgreSQL replays it as crash recovery) or into barman_wal/
 * with restore_command = 'cp barman_wal/%f %p' (a target), or is left in
 * the archive with restore_command running `cellar get-wal` (--get-wal);
 * the recovery settings are written for the backup's PostgreSQL version,
 * and archive_command is disabled so the copy never archives into the
 * server's archive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "backup_int.h"
#include "bucket_server.h"
#include "copy_report.h"
#include "fmt.h"
#include "gpg.h"
#include "hook_script.h"
#include "manifest.h"
#include "op_hooks.h"
#include "proc.h"
#include "priv.h"
#include "recover_int.h"
#include "server.h"
#include "server_select.h"
#include "storage.h"
#include "ts.h"
#include "wal.h"
#include "wal_archive.h"
#include "walcheck.h"


bool op_recovered_needs_chown(char *user, size_t size)
{
    /* PostgreSQL's OS user is "postgres" on Debian and Red Hat alike, and
     * nothing tells cellar otherwise for a local copy */
    priv_user_name(geteuid(), user, size);
    return strcmp(user, "postgres") != 0;
}
/* One tablespace's way into the destination. */
struct tbs_plan {
    const struct cat_tablespace *t;
    const char *location; /* the original, or the relocation */
};

struct model {
    const char *server, *id, *dest, *remote;
    const char *bucket; /* a bucket server's cloud_source, NULL for the others */
    const struct op_recover_req *req;
    size_t wal_files;
    uint64_t wal_bytes, data_bytes;
    const char *wal_dir; /* "pg_wal", "barman_wal" or NULL (get-wal) */
    const char *settings_file;
    const char *signal_file;
    size_t mangled; /* configuration lines disabled */
    const struct tbs_plan *tbs;
    size_t n_tbs;
};

/* How the summary names the target: its option, or what no target means. */
static const char *target_option(const struct rc_target *t)
{
    const char *option = rc_target_def(t->kind)->option;
    return option ? option : "the end of the archived WAL";
}

/* Append the target line's value: " VALUE" (nothing for a kind without
 * one), " (exclusive)", and then the timeline line when one is given. */
static void target_lines(const struct op_recover_req *req, struct strbuf *out)
{
    const struct rc_target *t = &req->target;
    sb_appendf(out, "  Target                : %s%s%s%s\n", target_option(t),
               t->text[0] ? " " : "", t->text, req->exclusive ? " (exclusive)" : "");
    char buf[RC_TLI_MAX];
    const char *tli = rc_target_tli_text(t, buf);
    if (tli)
        sb_appendf(out, "  Timeline              : %s\n", tli);
}

/* The copied WAL directory as a path: DEST/<dir>, or the absolute one. A
 * new string. */
static char *copied_wal_path(const char *dest, const char *wal_dir)
{
    return wal_dir[0] == '/' ? cel_xstrdup(wal_dir) : cel_xasprintf("%s/%s", dest, wal_dir);
}

static void render_text(const void *p, struct strbuf *out)
{
    const struct model *m = p;
    sb_appendf(out, "Recovery of backup %s of server %s into %s%s%s done.\n", m->id, m->server,
               m->remote ? m->remote : "", m->remote ? ":" : "", m->dest);
    for (size_t i = 0; i < m->n_tbs; i++)
        sb_appendf(out, "  Tablespace %s (oid %lld) : %s\n", m->tbs[i].t->name,
                   (long long)m->tbs[i].t->oid, m->tbs[i].location);
    target_lines(m->req, out);
    if (m->wal_dir) {
        sb_appendf(out, "  WAL prepared          : %zu file%s (", m->wal_files,
                   m->wal_files == 1 ? "" : "s");
        fmt_size((double)m->wal_bytes, out);
        char *dir = copied_wal_path(m->dest, m->wal_dir);
        sb_appendf(out, ") in %s\n", dir);
        free(dir);
    } else if (m->bucket) {
        sb_appendf(out, "  WAL                   : fetched by restore_command (cellar "
                        "cloud-wal-restore from %s)\n",
                   m->bucket);
    } else {
        sb_append(out, "  WAL                   : fetched by restore_command (cellar get-wal)\n");
    }
    if (m->settings_file)
        sb_appendf(out, "  Recovery settings     : %s/%s%s%s\n", m->dest, m->settings_file,
                   m->signal_file ? " and " : "", m->signal_file ? m->signal_file : "");
    if (m->mangled)
        sb_appendf(out, "  Configuration         : %zu line%s disabled (#BARMAN#: archive_command, "
                        "old recovery targets); originals in *.origin\n",
                   m->mangled, m->mangled == 1 ? "" : "s");
    sb_append(out, "\nNext:\n");
    /* commands to paste into a shell: the directory quoted when needed */
    char owner[64];
    if (!m->remote && op_recovered_needs_chown(owner, sizeof owner)) {
        sb_append(out, "  chown -R postgres: ");
        sb_append_shell_word(out, m->dest);
        sb_appendf(out, "%s   # the files belong to %s\n",
                   m->n_tbs ? " and the tablespace directories" : "", owner);
    }
    sb_append(out, "  pg_ctl -D ");
    sb_append_shell_word(out, m->dest);
    sb_append(out, " start\n");
    if (m->req->target.kind != RC_TARGET_NONE && !m->req->target_action)
        sb_append(out, "  PostgreSQL pauses at the target: check the data, then run "
                       "SELECT pg_wal_replay_resume() to end recovery.\n");
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:I, s:o, s:o}", "server", m->server,
                     "backup_id", m->id, "destination", m->dest, "remote",
                     m->remote ? json_string(m->remote) : json_null(), "target",
                     target_option(&m->req->target), "target_value",
                     m->req->target.text[0] ? json_string(m->req->target.text) : json_null(),
                     "wal_files", (json_int_t)m->wal_files, "wal_bytes",
                     (json_int_t)m->wal_bytes, "wal_directory",
                     m->wal_dir ? json_string(m->wal_dir) : json_null(), "settings_file",
                     m->settings_file ? json_string(m->settings_file) : json_null());
}

/* ---- the target ------------------------------------------------------------- */

/* Does the copy run an archive recovery (recovery.signal, WAL fetched by
 * restore_command) rather than a crash recovery from pg_wal? With a target,
 * and with a timeline to follow: crash recovery stays on the backup's
 * timeline, whatever recovery_target_timeline says. */
static bool archive_recovery(const struct op_recover_req *req)
{
    return req->target.kind != RC_TARGET_NONE || req->target.tli_kind != RC_TLI_DEFAULT;
}

/* ---- the checks ---------------------------------------------------------------- */

/* The archived history of timeline tli, parsed; -1 (and a warning) when it
 * cannot be read: PostgreSQL reads it again and decides. */
static int read_history(const struct op_ctx *ctx, const struct cfg_server *s, uint32_t tli,
                        struct walcheck_history_entry **h, size_t *n)
{
    char name[WAL_NAME_MAX];
    snprintf(name, sizeof name, "%08X.history", tli);
    unsigned char *text = NULL;
    size_t len = 0;
    struct cel_err why = {0};
    int rc = 0;
    if (op_wal_read(ctx, s, NULL, name, 1u << 20, &text, &len, &why) < 0 ||
        walcheck_history_parse((const char *)text, h, n, &why) < 0) {
        op_log(ctx, LOG_WARNING, s->name, "cannot read %s to check timeline %u: %s", name, tli,
               why.msg);
        rc = -1;
    }
    free(text);
    return rc;
}

/* Timeline tli's history (the archived file name) must pass through the
 * backup's timeline btli, and leave it no earlier than the backup's end:
 * PostgreSQL refuses to follow a timeline that branched off before the
 * copy is consistent ("requested timeline is not a child of this server's
 * history"). A history that cannot be read is a warning: PostgreSQL reads
 * it again and decides. */
static int check_ancestry(const struct op_ctx *ctx, const struct cfg_server *s,
                          const struct cat_backup *b, uint32_t tli, uint32_t btli, const char *name,
                          struct cel_err *err)
{
    struct walcheck_history_entry *h = NULL;
    size_t n = 0;
    if (read_history(ctx, s, tli, &h, &n) < 0)
        return 0;
    const struct walcheck_history_entry *e = NULL;
    for (size_t i = 0; i < n && !e; i++)
        if (h[i].tli == btli)
            e = &h[i];
    uint64_t end = 0;
    int rc = 0;
    if (!e) {
        rc = cel_err_set(err, CEL_E_INVALID,
                         "--target-tli %u does not descend from timeline %u of backup %s: %s "
                         "does not list timeline %u",
                         tli, btli, b->id, name, btli);
        cel_err_hint(err, "Choose a backup taken on an ancestor of timeline %u.", tli);
    } else if (b->end_xlog && wal_lsn_parse(b->end_xlog, &end, NULL) == 0 && e->switchpoint < end) {
        char at[WAL_LSN_MAX];
        wal_lsn_format(e->switchpoint, at);
        rc = cel_err_set(err, CEL_E_INVALID,
                         "--target-tli %u branched off timeline %u at %s, before backup %s ended "
                         "(%s): the copy is not consistent there",
                         tli, btli, at, b->id, b->end_xlog);
        cel_err_hint(err, "Choose a backup that ended before %s, or another timeline.", at);
    }
    free(h);
    return rc;
}

/* A numbered --target-tli the archive can lead to: a timeline is a number
 * from 1 up, not older than the backup's (a recovery never goes back to a
 * parent timeline), and any other timeline than the backup's needs its
 * history file in the archive, which PostgreSQL reads to find where the
 * timeline branched (timeline 1 has none). Checked before anything is
 * written: PostgreSQL would only refuse once the copy is made and started. */
static int check_timeline(const struct op_ctx *ctx, const struct cfg_server *s,
                          const struct cat_backup *b, const struct op_recover_req *req,
                          struct cel_err *err)
{
    if (req->target.tli_kind != RC_TLI_NUMBER)
        return 0;
    uint32_t tli = req->target.tli;
    uint32_t btli = b->timeline.set ? (uint32_t)b->timeline.v : 1;
    if (tli < btli) {
        int rc = cel_err_set(err, CEL_E_INVALID,
                             "--target-tli %u is older than timeline %u of backup %s: a "
                             "recovery cannot go back to a parent timeline",
                             tli, btli, b->id);
        cel_err_hint(err,
                     "Recover an older backup taken on timeline %u, or follow timeline %u "
                     "or a later one.",
                     tli, btli);
        return rc;
    }
    if (tli == btli || tli == 1)
        return 0;
    char name[WAL_NAME_MAX];
    snprintf(name, sizeof name, "%08X.history", tli);
    char *path = op_wal_path(s, name);
    bool there = stor_is_file(path);
    free(path);
    if (there)
        return check_ancestry(ctx, s, b, tli, btli, name, err);
    int rc = cel_err_set(err, CEL_E_NOT_FOUND,
                         "--target-tli %u: the WAL archive of server %s has no %s, so timeline "
                         "%u cannot be followed",
                         tli, s->name, name, tli);
    cel_err_hint(err,
                 "The cluster that wrote timeline %u must archive its history file and WAL "
                 "into this server first. Nothing was written.",
                 tli);
    return rc;
}

/* The WAL a recovery needs and what it copies. */
struct wal_plan {
    char (*names)[WAL_NAME_MAX];
    size_t n;
    uint64_t bytes; /* what the files take restored (decompressed) */
};

/* Add e, which takes restored bytes once decompressed: a segment is a whole
 * segment whatever its compression; a history file is small and counted as
 * archived. */
static void plan_add(struct wal_plan *p, const struct xdb_entry *e, uint64_t restored)
{
    p->names = cel_xrealloc_array(p->names, p->n + 1, sizeof *p->names);
    memcpy(p->names[p->n++], e->name, WAL_NAME_MAX);
    p->bytes += restored;
}

/* The timeline the recovery follows: --target-tli, or the newest archived. */
static uint32_t plan_timeline(const struct op_recover_req *req, const struct cat_backup *b,
                              const struct xdb *xdb)
{
    uint32_t tli = b->timeline.set ? (uint32_t)b->timeline.v : 1;
    if (req->target.tli_kind == RC_TLI_CURRENT)
        return tli;
    if (req->target.tli_kind == RC_TLI_NUMBER)
        return req->target.tli;
    for (size_t i = 0; i < xdb->n; i++) {
        struct wal_name w;
        if (wal_name_parse(xdb->entries[i].name, &w, NULL) == 0 && w.tli > tli)
            tli = w.tli;
    }
    return tli;
}

/* Without a target or --target-tli, recover would make a crash recovery
 * from pg_wal, which stays on the backup's timeline: after a promotion, the
 * copy would come back with the abandoned timeline's data although the
 * archive leads further. When the newest archived timeline descends from
 * the backup's after the backup ended, follow it as --target-tli latest
 * does (an archive recovery with recovery_target_timeline = 'latest',
 * PostgreSQL's default), say so, and fill *follow with req so changed.
 * Returns whether it did. */
static bool follow_newest_timeline(const struct op_ctx *ctx, const struct cfg_server *s,
                                   const struct cat_backup *b, const struct op_recover_req *req,
                                   const struct xdb *xdb, struct op_recover_req *follow)
{
    if (archive_recovery(req))
        return false;
    uint32_t btli = b->timeline.set ? (uint32_t)b->timeline.v : 1;
    uint32_t newest = plan_timeline(req, b, xdb);
    if (newest <= btli)
        return false;
    char name[WAL_NAME_MAX];
    snprintf(name, sizeof name, "%08X.history", newest);
    struct cel_err aerr = {0};
    if (!xdb_find(xdb, name) || check_ancestry(ctx, s, b, newest, btli, name, &aerr) < 0) {
        op_log(ctx, LOG_WARNING, s->name,
               "the archive holds timeline %u, which this recovery cannot follow from backup "
               "%s (%s): the copy stays on timeline %u",
               newest, b->id, aerr.msg[0] ? aerr.msg : "no history file", btli);
        return false;
    }
    *follow = *req;
    follow->target.tli_kind = RC_TLI_LATEST;
    op_log(ctx, LOG_INFO, s->name,
           "the archive holds timeline %u, which branched off timeline %u after backup %s "
           "ended: the copy follows it to the end of the archive (--target-tli latest; "
           "--target-tli current stays on timeline %u)",
           newest, btli, b->id, btli);
    return true;
}

/* Every history file, and the segments from begin_wal on timelines up to
 * the target's, up to the target; then check that none is missing. */
static int plan_wal(const struct op_recover_req *req, const struct cat_backup *b,
                    const struct xdb *xdb, struct wal_plan *p, struct cel_err *err)
{
    uint64_t segsize = (uint64_t)b->xlog_segment_size.v; /* checked by cat_info_parse */
    struct wal_name begin, end;
    if (!b->begin_wal || !b->end_wal || wal_name_parse(b->begin_wal, &begin, NULL) < 0 ||
        wal_name_parse(b->end_wal, &end, NULL) < 0)
        return cel_err_set(err, CEL_E_FORMAT, "backup %s has no WAL range in backup.info", b->id);
    uint64_t first = wal_segno(&begin, segsize), last_needed = wal_segno(&end, segsize);
    uint32_t tli = plan_timeline(req, b, xdb);
    const struct rc_target *t = &req->target;
    double when = t->kind == RC_TARGET_TIME ? t->epoch : 0;
    uint64_t lsn_seg = t->kind == RC_TARGET_LSN ? wal_lsn_to_segno(t->lsn, segsize) : UINT64_MAX;
    for (size_t i = 0; i < xdb->n; i++) {
        struct wal_name w;
        if (wal_name_parse(xdb->entries[i].name, &w, NULL) == 0 && w.kind == WAL_KIND_HISTORY)
            plan_add(p, &xdb->entries[i], xdb->entries[i].size);
    }
    /* per timeline, in order: contiguous segments, or the hole is reported */
    uint64_t expect = first, last_seen = 0;
    bool any = false, past_target = false;
    for (size_t i = 0; i < xdb->n && !past_target; i++) {
        const struct xdb_entry *e = &xdb->entries[i];
        struct wal_name w;
        if (wal_name_parse(e->name, &w, NULL) < 0 || w.kind != WAL_KIND_SEGMENT || w.tli > tli)
            continue;
        uint64_t seg = wal_segno(&w, segsize);
        if (seg < first || seg > lsn_seg)
            continue;
        if (any && seg > last_seen + 1 && !req->force) {
            char missing[WAL_NAME_MAX];
            wal_segment_name(w.tli, last_seen + 1, segsize, missing);
            return cel_err_set(err, CEL_E_NOT_FOUND,
                               "WAL segment %s is missing from the archive: the recovery would "
                               "stop there",
                               missing);
        }
        if (!any && seg != expect && !req->force) {
            char missing[WAL_NAME_MAX];
            wal_segment_name(w.tli, expect, segsize, missing);
            return cel_err_set(err, CEL_E_NOT_FOUND, "WAL segment %s, where backup %s starts, is "
                                                     "missing from the archive",
                               missing, b->id);
        }
        plan_add(p, e, segsize);
        any = true;
        last_seen = seg;
        if (when && e->time > when)
            past_target = true; /* this segment holds the target time */
    }
    if (req->force)
        return 0;
    if (!any || last_seen < last_needed) {
        char missing[WAL_NAME_MAX];
        wal_segment_name(end.tli, any ? last_seen + 1 : first, segsize, missing);
        return cel_err_set(err, CEL_E_NOT_FOUND, "WAL segment %s, needed to make backup %s "
                                                 "consistent, is missing from the archive",
                           missing, b->id);
    }
    if (t->kind == RC_TARGET_LSN && lsn_seg > last_seen)
        return cel_err_set(err, CEL_E_INVALID, "--target-lsn %s is beyond the archived WAL (the "
                                               "last archived segment ends at %llX/%llX)",
                           t->text,
                           (unsigned long long)(wal_segno_to_lsn(last_seen + 1, segsize) >> 32),
                           (unsigned long long)(wal_segno_to_lsn(last_seen + 1, segsize) &
                                                0xFFFFFFFFu));
    if (when && !past_target) {
        const struct xdb_entry *lastf = NULL;
        for (size_t i = xdb->n; i-- > 0 && !lastf;)
            if (strcmp(xdb->entries[i].name, p->names[p->n - 1]) == 0)
                lastf = &xdb->entries[i];
        struct ts arrived;
        ts_from_epoch((int64_t)lastf->time, 0, &arrived);
        char at[TS_MAX];
        ts_format(&arrived, at);
        return cel_err_set(err, CEL_E_INVALID, "--target-time %s is after the end of the archived "
                                               "WAL (the last segment, %s, was archived at %s)",
                           t->text, lastf->name, at);
    }
    return 0;
}

/* Is the WAL at (tli, lsn) on the way to timeline target? Its own, or an
 * ancestor the history h of target leaves after lsn. */
static bool on_path(uint32_t tli, uint64_t lsn, uint32_t target,
                    const struct walcheck_history_entry *h, size_t n)
{
    if (tli == target)
        return true;
    for (size_t i = 0; i < n; i++)
        if (h[i].tli == tli)
            return lsn < h[i].switchpoint;
    return false;
}

/* The restore point --target-name reaches on the timeline the recovery
 * follows (--target-tli, else the newest: PostgreSQL's default is latest):
 * its last occurrence on that timeline or on an ancestor before the
 * branch. A restore point made on another timeline, or on an ancestor after
 * the branch, is never replayed, and PostgreSQL would stop at the end of
 * the WAL with an error: refused, naming the timeline to follow. *rp is
 * updated to the occurrence found. */
static int check_point_timeline(const struct op_ctx *ctx, const struct cfg_server *s,
                                const struct op_recover_req *req, const struct cat_backup *b,
                                const struct xdb *xdb, const struct widx *points,
                                const struct widx_point **rp, struct cel_err *err)
{
    uint32_t target = plan_timeline(req, b, xdb);
    struct walcheck_history_entry *h = NULL;
    size_t n = 0;
    if (target > 1 && read_history(ctx, s, target, &h, &n) < 0)
        return 0;
    size_t *at = NULL;
    size_t k = widx_points_named(points, req->target.text, &at);
    const struct widx_point *found = NULL;
    for (size_t i = k; i-- > 0 && !found;)
        if (on_path(points->points[at[i]].tli, points->points[at[i]].lsn, target, h, n))
            found = &points->points[at[i]];
    int rc = 0;
    if (found) {
        *rp = found;
    } else {
        char where[WAL_LSN_MAX];
        wal_lsn_format((*rp)->lsn, where);
        rc = cel_err_set(err, CEL_E_INVALID,
                         "--target-name %s: the restore point (at %s) is on timeline %u, which "
                         "the recovery does not replay: it follows timeline %u%s",
                         req->target.text, where, (*rp)->tli, target,
                         req->target.tli_kind != RC_TLI_DEFAULT
                             ? ""
                             : " (the newest, PostgreSQL's default)");
        cel_err_hint(err,
                     "Add --target-tli %u to follow the timeline the restore point was "
                     "made on.",
                     (*rp)->tli);
    }
    free(at);
    free(h);
    return rc;
}

/* ---- writing --------------------------------------------------------------------- */

struct run {
    const struct op_ctx *ctx;
    const struct cfg_server *s;
    const struct op_recover_req *req;
    const struct cat_backup *b;
    char *backup_dir;
    struct rdest d;
    struct tbs_plan *tbs;
    size_t n_tbs;
    struct wal_plan wal;
    const struct xdb *xdb;
    bool get_wal;
    struct model m;
    struct op_copy_report report;
    /* the plan: what the checks found */
    struct strbuf why;    /* why auto picked the backup; empty otherwise */
    uint64_t data_bytes;  /* the backup's size */
    uint64_t free_bytes;  /* on DEST's filesystem, when free_known */
    bool free_known;
    /* an encrypted backup (encryption = gpg): its archives are NAME.gpg,
     * decrypted with this passphrase as they are extracted */
    char *pass;
    size_t pass_len;
};

static void copy_opts(struct run *r, struct rsync_opts *o)
{
    memset(o, 0, sizeof *o);
    rd_rsync_opts(&r->d, o);
    o->workers = r->req->jobs > 0 ? r->req->jobs
                                  : (r->s->parallel_jobs > 0 ? r->s->parallel_jobs : 1);
    o->bwlimit_kbps = r->req->bwlimit > 0 ? r->req->bwlimit : r->s->bandwidth_limit;
    o->compress = r->s->network_compression && r->d.ssh;
    o->retry_times = r->req->retry_times >= 0 ? r->req->retry_times
                                               : r->s->basebackup_retry_times;
    o->retry_sleep = r->req->retry_sleep >= 0 ? r->req->retry_sleep : r->s->basebackup_retry_sleep;
    o->path_prefix = r->s->path_prefix;
    op_copy_report_opts(&r->report, o);
}

/* DEST/pg_tblspc/OID links to each tablespace's location, when rc is 0;
 * returns rc or the failure. */
static int link_tablespaces(struct run *r, int rc, struct cel_err *err)
{
    char *dir = cel_xasprintf("%s/pg_tblspc", r->req->dest);
    if (rc == 0 && r->n_tbs)
        rc = rd_mkdir(&r->d, dir, err);
    for (size_t i = 0; rc == 0 && i < r->n_tbs; i++) {
        char *link = cel_xasprintf("%s/%lld", dir, (long long)r->tbs[i].t->oid);
        rc = rd_symlink(&r->d, r->tbs[i].location, link, err);
        free(link);
    }
    free(dir);
    return rc;
}

/* Progress of a tar extraction: the bytes of every archive so far against
 * the files' total from the manifest (check_space), four times a second. */
struct untar_progress {
    struct run *r;
    const char *current;
    uint64_t before; /* bytes of the archives already extracted */
    double last;
};

static void untar_progress(void *ctx, uint64_t bytes)
{
    struct untar_progress *u = ctx;
    double now = ts_monotonic();
    if (now - u->last < 0.25)
        return;
    u->last = now;
    uint64_t done = u->before + bytes;
    struct op_progress pr = {.bytes_done = done,
                             .bytes_total = u->r->data_bytes > done ? u->r->data_bytes : done,
                             .current = u->current};
    op_progress(u->r->ctx, u->r->s->name, &pr);
}

/* A tar backup (Barman's postgres method with backup_compression): each
 * tablespace's OID.tar.* into its location, base.tar.* into DEST without
 * recovery.conf and tablespace_map, as Barman's TarballRecoveryExecutor
 * does; but decompressed here and streamed into tar on the destination's
 * host (rd_untar), so neither a local nor a remote recovery stages a copy. */
static int untar_files(struct run *r, struct cel_err *err)
{
    char *suffix = cel_xasprintf("%s%s", op_tar_suffix(r->b->compression), r->pass ? ".gpg" : "");
    enum comp_kind kind = COMP_NONE;
    int rc = comp_parse_name(r->b->compression, &kind, err);
    if (rc == 0)
        rc = rd_mkdir(&r->d, r->req->dest, err);
    const char *where = r->d.ssh ? r->d.ssh : "";
    const char *colon = r->d.ssh ? ":" : "";
    struct untar_progress u = {.r = r};
    struct rd_untar_opts o = {.progress = untar_progress, .ctx = &u, .pass = r->pass,
                              .pass_len = r->pass_len};
    for (size_t i = 0; rc == 0 && i < r->n_tbs; i++) {
        const struct tbs_plan *t = &r->tbs[i];
        char *src = cel_xasprintf("%s/data/%lld.%s", r->backup_dir, (long long)t->t->oid, suffix);
        op_phase(r->ctx, r->s->name, "copy-tablespace", "extracting tablespace %s to %s%s%s",
                 t->t->name, where, colon, t->location);
        rc = rd_mkdir(&r->d, t->location, err);
        uint64_t bytes = 0;
        u.current = src + strlen(r->backup_dir) + 1;
        if (rc == 0)
            rc = rd_untar(&r->d, src, kind, t->location, &o, &bytes, err);
        r->m.data_bytes += bytes;
        u.before += bytes;
        free(src);
    }
    if (rc == 0) {
        char *src = cel_xasprintf("%s/data/base.%s", r->backup_dir, suffix);
        op_phase(r->ctx, r->s->name, "copy-data", "extracting the data directory to %s%s%s",
                 where, colon, r->req->dest);
        static const char *const exclude[] = {"recovery.conf", "tablespace_map", NULL};
        o.exclude = exclude;
        u.current = src + strlen(r->backup_dir) + 1;
        uint64_t bytes = 0;
        rc = rd_untar(&r->d, src, kind, r->req->dest, &o, &bytes, err);
        r->m.data_bytes += bytes;
        free(src);
    }
    free(suffix);
    return rc;
}

/* An encrypted backup (Barman 3.14's encryption = gpg): the passphrase
 * (Barman's DecryptOperation asks encryption_passphrase_command), tried on
 * data/base.tar.*.gpg before anything is written, so a missing or wrong
 * one writes nothing into the destination. */
static int check_decryption(struct run *r, struct cel_err *err)
{
    const char *enc = cat_extra_get(r->b, "encryption");
    if (!enc)
        return 0;
    if (strcmp(enc, "gpg") != 0 || !op_tar_suffix(r->b->compression))
        return cel_err_set(err, CEL_E_CONFLICT,
                           "backup %s of server %s is encrypted with '%s'%s: cellar decrypts "
                           "gpg tar backups only",
                           r->b->id, r->s->name, enc, r->b->compression ? "" : " (not tar)");
    char *what = cel_xasprintf("backup '%s'", r->b->id);
    int rc = op_gpg_passphrase(r->s, what, &r->pass, &r->pass_len, err);
    free(what);
    if (rc < 0)
        return rc;
    char *base = cel_xasprintf("%s/data/base.%s.gpg", r->backup_dir,
                               op_tar_suffix(r->b->compression));
    int fd = open(base, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        rc = cel_err_sys(err, CEL_E_NOT_FOUND, errno, "backup %s of server %s is encrypted, but "
                                                      "'%s' cannot be opened",
                         r->b->id, r->s->name, base);
    else
        rc = gpg_check_passphrase(fd, r->pass, r->pass_len, strrchr(base, '/') + 1, err);
    if (fd >= 0)
        close(fd);
    free(base);
    if (rc < 0)
        cel_err_hint(err, "Nothing was written. encryption_passphrase_command prints the "
                          "passphrase of the private key backup %s was encrypted to, which must "
                          "be in the keyring of the user cellar runs as.",
                     r->b->id);
    return rc;
}

static int copy_files(struct run *r, struct cel_err *err)
{
    if (r->s->cloud_source) /* a bucket server: its tar objects, as cloud-restore */
        return op_bucket_restore(r->ctx, r->s, r->b->id, r->req->dest, r->req->tablespaces,
                                 r->req->n_tablespaces, r->req->jobs > 0 ? r->req->jobs
                                                                         : r->s->parallel_jobs,
                                 err);
    if (r->b->compression)
        return link_tablespaces(r, untar_files(r, err), err);
    static const char *const data_exclude[] = {
        "/pg_wal/*",       "/pg_xlog/*",       "/postmaster.pid", "/postmaster.opts",
        "/recovery.conf",  "/recovery.signal", "/standby.signal", "/tablespace_map",
        "/pg_tblspc/*",    "/backup_manifest", NULL};
    int rc = rd_mkdir(&r->d, r->req->dest, err);
    for (size_t i = 0; rc == 0 && i < r->n_tbs; i++) {
        const struct tbs_plan *t = &r->tbs[i];
        char *src = cel_xasprintf("%s/%lld", r->backup_dir, (long long)t->t->oid);
        /* Barman's oldest layout kept tablespaces under pgdata/pg_tblspc */
        op_phase(r->ctx, r->s->name, "copy-tablespace", "copying tablespace %s to %s",
                 t->t->name, t->location);
        struct rsync_opts o;
        copy_opts(r, &o);
        rc = rd_mkdir(&r->d, t->location, err);
        if (rc == 0)
            rc = rsync_copy(src, t->location, &o, NULL, err);
        free(src);
    }
    if (rc == 0) {
        char *src = cel_xasprintf("%s/data", r->backup_dir);
        op_phase(r->ctx, r->s->name, "copy-data", "copying the data directory to %s%s%s",
                 r->d.ssh ? r->d.ssh : "", r->d.ssh ? ":" : "", r->req->dest);
        struct rsync_opts o;
        copy_opts(r, &o);
        o.exclude = data_exclude;
        struct rsync_stats st = {0};
        rc = rsync_copy(src, r->req->dest, &o, &st, err);
        r->m.data_bytes = st.bytes;
        free(src);
    }
    return link_tablespaces(r, rc, err);
}

/* Where the copied WAL goes: "pg_wal" (crash recovery) or "barman_wal"
 * (archive recovery), relative to DEST, or --staging-wal-directory's
 * absolute path. */
static const char *copied_wal_dir(const struct op_recover_req *req)
{
    return !archive_recovery(req)  ? "pg_wal"
           : req->staging_wal_dir ? req->staging_wal_dir
                                  : "barman_wal";
}

/* The planned WAL, decompressed, into DEST/<wal_dir> (through a local
 * scratch directory when the destination is remote). */
static int copy_wal(struct run *r, struct cel_err *err)
{
    const char *wal_dir = copied_wal_dir(r->req);
    r->m.wal_dir = wal_dir;
    char *dst = copied_wal_path(r->req->dest, wal_dir);
    char *local = r->d.ssh ? cel_xasprintf("%s/wal", r->d.stage) : cel_xstrdup(dst);
    int rc = stor_mkdir_p(local, 0700, err);
    op_phase(r->ctx, r->s->name, "wal", "preparing %zu WAL files in %s", r->wal.n, dst);
    for (size_t i = 0; rc == 0 && i < r->wal.n; i++) {
        if (op_cancelled(r->ctx))
            rc = cel_err_set(err, CEL_E_PROC, "interrupted by signal %d", *r->ctx->cancel);
        uint64_t bytes = 0;
        if (rc == 0)
            rc = op_wal_restore(r->ctx, r->s, r->xdb, r->wal.names[i], local, &bytes, err);
        r->m.wal_bytes += bytes;
        struct op_progress pr = {.bytes_done = r->m.wal_bytes,
                                 .files_done = i + 1,
                                 .files_total = r->wal.n,
                                 .current = r->wal.names[i]};
        if (rc == 0)
            op_progress(r->ctx, r->s->name, &pr);
    }
    r->m.wal_files = r->wal.n;
    /* segments put in pg_wal are marked archived, so the copy does not
     * archive them again */
    if (rc == 0 && strcmp(wal_dir, "pg_wal") == 0) {
        char *status = cel_xasprintf("%s/archive_status", local);
        rc = stor_mkdir_p(status, 0700, err);
        for (size_t i = 0; rc == 0 && i < r->wal.n; i++) {
            char *done = cel_xasprintf("%s/%s.done", status, r->wal.names[i]);
            rc = stor_write_file(done, "", 0, 0600, err);
            free(done);
        }
        free(status);
    }
    if (rc == 0 && r->d.ssh) {
        struct rsync_opts o;
        copy_opts(r, &o);
        rc = rsync_copy(local, dst, &o, NULL, err);
    }
    free(local);
    free(dst);
    return rc;
}

/* Disable archive_command (and old targets) in a configuration file. */
static int mangle(struct run *r, const char *name, struct cel_err *err)
{
    char *path = cel_xasprintf("%s/%s", r->req->dest, name);
    char *text = NULL;
    int rc = rd_read(&r->d, path, &text, err);
    if (rc == 0 && text) {
        struct strbuf out = {0};
        size_t changed = 0;
        rc_mangle_conf(text, &out, &changed);
        r->m.mangled += changed;
        if (changed) {
            char *origin = cel_xasprintf("%s.origin", path);
            rc = rd_write(&r->d, origin, text, strlen(text), err);
            if (rc == 0)
                rc = rd_write(&r->d, path, sb_str(&out), out.len, err);
            free(origin);
        }
        sb_free(&out);
    }
    free(text);
    free(path);
    return rc;
}

/* Where the copied WAL of an archive recovery waits for restore_command:
 * "barman_wal" (relative to the data directory) or --staging-wal-directory,
 * shell-quoted (PostgreSQL runs these commands through a shell). */
static void staged_wal_dir(const struct run *r, struct strbuf *out)
{
    if (r->req->staging_wal_dir)
        sb_append_shell_quoted(out, r->req->staging_wal_dir);
    else
        sb_append(out, "barman_wal");
}

static char *restore_command(const struct run *r)
{
    if (r->s->cloud_source) /* WAL from the bucket, fetched ahead */
        return op_bucket_restore_command(r->req->cellar_path, r->s,
                                         r->req->jobs > 0 ? r->req->jobs : r->s->parallel_jobs);
    if (!r->get_wal) {
        struct strbuf cmd = {0};
        sb_append(&cmd, "cp ");
        staged_wal_dir(r, &cmd);
        sb_append(&cmd, "/%f %p");
        return sb_detach(&cmd);
    }
    /* run by the PostgreSQL server's user on its host: locally, this
     * program; remotely, this program on this host over ssh (the recovered
     * server's user needs a key this host accepts, as Barman's
     * barman-wal-restore does) */
    if (!r->d.ssh)
        return rc_get_wal_command(r->req->cellar_path, r->ctx->cfg->path, r->s->name, NULL);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    const char *user = r->ctx->cfg->global.barman_user ? r->ctx->cfg->global.barman_user
                                                       : getenv("USER");
    char *dest = cel_xasprintf("%s%s%s", user ? user : "", user ? "@" : "", host);
    char *cmd = rc_get_wal_command(r->req->cellar_path, r->ctx->cfg->path, r->s->name, dest);
    free(dest);
    return cmd;
}

static int write_settings(struct run *r, struct cel_err *err)
{
    int rc = mangle(r, "postgresql.conf", err);
    if (rc == 0)
        rc = mangle(r, "postgresql.auto.conf", err);
    if (rc < 0)
        return rc;
    bool needed = archive_recovery(r->req) || r->get_wal || r->req->standby_mode;
    if (!needed)
        return 0;
    char *restore = restore_command(r);
    struct strbuf end = {0};
    sb_append(&end, "rm -fr ");
    staged_wal_dir(r, &end);
    struct rc_settings st = {.pg_version = r->b->version.set ? (int)r->b->version.v : 150000,
                             .restore_command = restore,
                             /* a bucket server's spool is barman_wal too */
                             .recovery_end_command = r->s->cloud_source ? "rm -fr " OP_BUCKET_SPOOL
                                                     : r->get_wal       ? NULL
                                                                        : sb_str(&end),
                             .target = r->req->target,
                             .exclusive = r->req->exclusive,
                             .target_action = r->req->target_action,
                             .standby_mode = r->req->standby_mode};
    const char *file = rc_settings_file(&st);
    const char *signal = rc_signal_file(&st);
    char *path = cel_xasprintf("%s/%s", r->req->dest, file);
    char *old = NULL;
    struct strbuf text = {0};
    /* postgresql.auto.conf keeps what it has; recovery.conf is ours */
    if (signal)
        rc = rd_read(&r->d, path, &old, err);
    if (rc == 0) {
        if (old) {
            sb_append(&text, old);
            if (text.len && old[text.len - 1] != '\n')
                sb_appendc(&text, '\n');
        }
        rc_settings_lines(&st, r->b->id, &text);
        rc = rd_write(&r->d, path, sb_str(&text), text.len, err);
    }
    if (rc == 0 && signal) {
        char *sig = cel_xasprintf("%s/%s", r->req->dest, signal);
        rc = rd_write(&r->d, sig, "", 0, err);
        free(sig);
    }
    r->m.settings_file = file;
    r->m.signal_file = signal;
    sb_free(&text);
    free(old);
    free(path);
    free(restore);
    sb_free(&end);
    return rc;
}

/* .barman-recover.info: which backup this directory came from. */
static int write_marker(struct run *r, struct cel_err *err)
{
    struct strbuf info = {0};
    cat_info_format(r->b, &info);
    char *path = cel_xasprintf("%s/.barman-recover.info", r->req->dest);
    int rc = rd_write(&r->d, path, sb_str(&info), info.len, err);
    free(path);
    sb_free(&info);
    return rc;
}

/* --tablespace NAME:DIR relocations, each naming a tablespace of b. */
static int plan_tablespaces(struct run *r, struct cel_err *err)
{
    const struct cat_backup *b = r->b;
    r->tbs = cel_xcalloc(b->n_tablespaces ? b->n_tablespaces : 1, sizeof *r->tbs);
    r->n_tbs = b->n_tablespaces;
    for (size_t i = 0; i < b->n_tablespaces; i++) {
        r->tbs[i].t = &b->tablespaces[i];
        r->tbs[i].location = b->tablespaces[i].location;
    }
    for (size_t k = 0; k < r->req->n_tablespaces; k++) {
        const char *spec = r->req->tablespaces[k];
        const char *colon = strchr(spec, ':');
        size_t i = 0;
        while (colon && i < r->n_tbs &&
               (strlen(r->tbs[i].t->name) != (size_t)(colon - spec) ||
                strncmp(r->tbs[i].t->name, spec, (size_t)(colon - spec)) != 0))
            i++;
        if (!colon || colon[1] != '/')
            return cel_err_set(err, CEL_E_USAGE, "--tablespace %s: expected NAME:/absolute/dir",
                               spec);
        if (i == r->n_tbs)
            return cel_err_set(err, CEL_E_USAGE, "--tablespace %s: backup %s has no tablespace "
                                                 "called %.*s",
                               spec, b->id, (int)(colon - spec), spec);
        r->tbs[i].location = colon + 1;
    }
    return 0;
}

/* Whether path, which may not exist yet, lies under dir (both resolved
 * through the deepest ancestor of path that exists, so a link or "..":
 * cannot hide it). */
static bool path_under(const char *path, const char *dir)
{
    char *real_dir = realpath(dir, NULL);
    if (!real_dir)
        return false;
    /* "." and ".." first, as text: a ".." after a directory that does not
     * exist yet is where mkdir -p would go too */
    char *probe = cel_xmalloc(strlen(path) + 2), *real = NULL;
    size_t len = 0;
    for (const char *c = path; *c;) {
        while (*c == '/')
            c++;
        size_t n = strcspn(c, "/");
        if (n == 0)
            break;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            while (len > 0 && probe[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
        } else if (!(n == 1 && c[0] == '.')) {
            probe[len++] = '/';
            memcpy(probe + len, c, n);
            len += n;
        }
        c += n;
    }
    if (len == 0)
        probe[len++] = '/';
    probe[len] = '\0';
    while (!(real = realpath(probe, NULL))) {
        char *slash = strrchr(probe, '/');
        if (!slash || slash == probe)
            break;
        *slash = '\0';
    }
    size_t n = strlen(real_dir);
    bool under = real && strncmp(real, real_dir, n) == 0 && (real[n] == '/' || real[n] == '\0');
    free(real);
    free(probe);
    free(real_dir);
    return under;
}

/* A local copy inside barman_home would be taken for part of the catalogue
 * (or ignored by it), and a later delete or retention could remove it. */
static int check_outside_home(const struct run *r, const char *path, const char *what,
                              struct cel_err *err)
{
    const char *home = r->ctx->cfg->global.barman_home;
    if (r->d.ssh || !home || !path_under(path, home))
        return 0;
    cel_err_set(err, CEL_E_USAGE, "the %s '%s' is inside barman_home '%s'", what, path, home);
    cel_err_hint(err, "Recover outside the backup catalogue, e.g. into /var/tmp/restore.");
    return -CEL_E_USAGE;
}

/* --staging-wal-directory: only where WAL is copied for an archive
 * recovery, an absolute path, outside the catalogue, and absent or empty:
 * the end of recovery removes it (rm -fr), as Barman's does. */
static int check_staging(struct run *r, struct cel_err *err)
{
    const char *dir = r->req->staging_wal_dir;
    if (!dir)
        return 0;
    if (r->s->cloud_source)
        return cel_err_set(err, CEL_E_USAGE,
                           "--staging-wal-directory: server %s is a bucket server, whose "
                           "recovery fetches WAL from the bucket as PostgreSQL asks for it",
                           r->s->name);
    if (r->get_wal || !archive_recovery(r->req))
        return cel_err_set(err, CEL_E_USAGE,
                           "--staging-wal-directory is for a point-in-time recovery whose WAL "
                           "is copied (a target, without get-wal); this recovery %s",
                           r->get_wal ? "fetches WAL with get-wal"
                                      : "replays the WAL from pg_wal (no target)");
    if (dir[0] != '/' || strcmp(dir, "/") == 0)
        return cel_err_set(err, CEL_E_USAGE,
                           "--staging-wal-directory '%s': give an absolute path other than /",
                           dir);
    for (const char *p = dir; *p; p++)
        if ((unsigned char)*p < 0x20)
            return cel_err_set(err, CEL_E_USAGE,
                               "--staging-wal-directory: a control character in the path");
    int rc = check_outside_home(r, dir, "staging WAL directory", err);
    if (rc == 0)
        rc = rd_check_empty(&r->d, dir, "staging WAL directory", err);
    if (rc < 0 && err->code == CEL_E_CONFLICT)
        cel_err_hint(err, "The end of recovery removes this directory: give a new or empty one.");
    return rc;
}

static int check_destination(struct run *r, struct cel_err *err)
{
    int rc = check_outside_home(r, r->req->dest, "destination", err);
    if (rc == 0)
        rc = check_staging(r, err);
    for (size_t i = 0; rc == 0 && i < r->n_tbs; i++)
        rc = check_outside_home(r, r->tbs[i].location, "tablespace location", err);
    if (rc == 0)
        rc = rd_check_empty(&r->d, r->req->dest, "destination", err);
    for (size_t i = 0; rc == 0 && i < r->n_tbs; i++) {
        char *what = cel_xasprintf("location of tablespace %s", r->tbs[i].t->name);
        rc = rd_check_empty(&r->d, r->tbs[i].location, what, err);
        if (rc < 0)
            cel_err_hint(err, "Relocate it with --tablespace %s:/an/empty/dir (recovering over "
                              "the live server's tablespace would destroy it).",
                         r->tbs[i].t->name);
        free(what);
    }
    return rc;
}

/* What the recovery writes: the whole backup (tablespaces included, all
 * counted against DEST's filesystem) and the WAL it copies, decompressed. */
static uint64_t needed_bytes(const struct run *r)
{
    return r->data_bytes + (r->get_wal ? 0 : r->wal.bytes);
}

/* Enough free space on DEST's filesystem for the copy? A copy that fills
 * the disk fails halfway and leaves a partial data directory behind (and
 * may hurt whatever else lives there), so say so before anything is
 * written. Free space that cannot be read is a warning, not a refusal. */
static int check_space(struct run *r, struct cel_err *err)
{
    const struct cat_backup *b = r->b;
    struct manifest m;
    char *mpath = cel_xasprintf("%s/data/backup_manifest", r->backup_dir);
    if (b->compression && manifest_read(mpath, &m, NULL) == 0) {
        /* a tar backup is extracted: it needs its files' size, not the archives' */
        r->data_bytes = 0;
        for (size_t i = 0; i < m.n_files; i++)
            r->data_bytes += m.files[i].size;
        manifest_free(&m);
    } else if (b->size.set && b->size.v >= 0) {
        r->data_bytes = (uint64_t)b->size.v;
    } else if (!r->s->cloud_source) { /* a bucket's backup can only be measured by its size */
        uint64_t dedup = 0;
        struct cel_err uerr = {0};
        if (bk_disk_usage(r->backup_dir, &r->data_bytes, &dedup, &uerr) < 0)
            op_log(r->ctx, LOG_WARNING, r->s->name,
                   "backup %s records no size, and measuring it failed: %s", b->id, uerr.msg);
    }
    free(mpath);
    struct cel_err ferr = {0};
    const char *where = r->d.ssh ? r->d.ssh : "";
    const char *colon = r->d.ssh ? ":" : "";
    if (rd_free_space(&r->d, r->req->dest, &r->free_bytes, &ferr) < 0) {
        op_log(r->ctx, LOG_WARNING, r->s->name, "cannot tell the free space for %s%s%s (%s): the "
                                                "copy fails if the disk fills up",
               where, colon, r->req->dest, ferr.msg);
        return 0;
    }
    r->free_known = true;
    uint64_t needed = needed_bytes(r);
    if (r->free_bytes >= needed)
        return 0;
    struct strbuf have = {0}, need = {0}, data = {0}, wal = {0};
    fmt_size((double)r->free_bytes, &have);
    fmt_size((double)needed, &need);
    fmt_size((double)r->data_bytes, &data);
    fmt_size((double)(r->get_wal ? 0 : r->wal.bytes), &wal);
    int rc = 0;
    if (r->req->force) {
        op_log(r->ctx, LOG_WARNING, r->s->name, "--force: the recovery goes on into %s%s%s with "
                                                "%s free, although it needs %s",
               where, colon, r->req->dest, sb_str(&have), sb_str(&need));
    } else {
        rc = cel_err_set(err, CEL_E_CONFLICT, "not enough free space for %s%s%s: %s free, the "
                                              "recovery needs %s (backup %s: %s, WAL: %s)",
                         where, colon, r->req->dest, sb_str(&have), sb_str(&need), b->id,
                         sb_str(&data), sb_str(&wal));
        cel_err_hint(err, "Free space on that filesystem or recover elsewhere; --force skips "
                          "this check (the copy then fails if the disk fills up). Nothing was "
                          "written.");
    }
    sb_free(&have);
    sb_free(&need);
    sb_free(&data);
    sb_free(&wal);
    return rc;
}

/* ---- the plan (--dry-run) ------------------------------------------------------- */

static void render_plan_text(const void *p, struct strbuf *out)
{
    const struct run *r = p;
    const struct op_recover_req *req = r->req;
    sb_appendf(out, "Recovery plan: backup %s of server %s into %s%s%s\n", r->b->id, r->s->name,
               r->d.ssh ? r->d.ssh : "", r->d.ssh ? ":" : "", req->dest);
    if (r->why.len)
        sb_appendf(out, "  Backup chosen         : %s\n", sb_str(&r->why));
    target_lines(req, out);
    for (size_t i = 0; i < r->n_tbs; i++)
        sb_appendf(out, "  Tablespace %s (oid %lld) : %s\n", r->tbs[i].t->name,
                   (long long)r->tbs[i].t->oid, r->tbs[i].location);
    sb_append(out, "  Data                  : ");
    fmt_size((double)r->data_bytes, out);
    sb_appendc(out, '\n');
    if (r->get_wal && r->s->cloud_source) {
        sb_appendf(out, "  WAL                   : fetched by restore_command (cellar "
                        "cloud-wal-restore from %s)\n",
                   r->s->cloud_source);
    } else if (r->get_wal) {
        sb_append(out, "  WAL                   : fetched by restore_command (cellar get-wal)\n");
    } else {
        sb_appendf(out, "  WAL                   : %zu file%s (", r->wal.n,
                   r->wal.n == 1 ? "" : "s");
        fmt_size((double)r->wal.bytes, out);
        char *dir = copied_wal_path(req->dest, copied_wal_dir(req));
        sb_appendf(out, ") copied into %s\n", dir);
        free(dir);
    }
    sb_append(out, "  Space needed          : ");
    fmt_size((double)needed_bytes(r), out);
    if (r->free_known) {
        sb_append(out, " (");
        fmt_size((double)r->free_bytes, out);
        sb_append(out, " free on DEST's filesystem)\n");
    } else {
        sb_append(out, " (free space unknown)\n");
    }
    sb_append(out, "Nothing was written (--dry-run).\n");
}

static json_t *render_plan_json(const void *p)
{
    const struct run *r = p;
    const struct op_recover_req *req = r->req;
    json_t *tbs = json_array();
    for (size_t i = 0; i < r->n_tbs; i++)
        json_array_append_new(tbs, json_pack("{s:s, s:I, s:s}", "name", r->tbs[i].t->name, "oid",
                                             (json_int_t)r->tbs[i].t->oid, "location",
                                             r->tbs[i].location));
    const char *target = rc_target_def(req->target.kind)->word;
    uint64_t wal_bytes = r->get_wal ? 0 : r->wal.bytes;
    return json_pack(
        "{s:s, s:s, s:o, s:s, s:o, s:I, s:I, s:I, s:b, s:o, s:I, s:o, s:o, s:o}", "server",
        r->s->name, "backup_id", r->b->id, "backup_reason",
        r->why.len ? json_string(sb_str(&r->why)) : json_null(), "destination", req->dest,
        "remote", r->d.ssh ? json_string(r->d.ssh) : json_null(), "data_bytes",
        (json_int_t)r->data_bytes, "wal_files", (json_int_t)(r->get_wal ? 0 : r->wal.n),
        "wal_bytes", (json_int_t)wal_bytes, "get_wal", r->get_wal, "free_bytes",
        r->free_known ? json_integer((json_int_t)r->free_bytes) : json_null(), "needed_bytes",
        (json_int_t)needed_bytes(r), "tablespaces", tbs, "target",
        target ? json_string(target) : json_null(), "target_value",
        req->target.text[0] ? json_string(req->target.text) : json_null());
}

/* ---- running it ------------------------------------------------------------------- */

static void hook_env(const struct run *r, struct hook_vars *v, const char *error)
{
    hook_vars_add(v, "BARMAN_BACKUP_DIR", "%s", r->backup_dir);
    hook_vars_add(v, "BARMAN_BACKUP_ID", "%s", r->b->id);
    hook_vars_add(v, "BARMAN_DESTINATION_DIRECTORY", "%s", r->req->dest);
    hook_vars_add(v, "BARMAN_REMOTE_COMMAND", "%s", r->d.ssh ? r->d.ssh : "");
    hook_vars_add(v, "BARMAN_ERROR", "%s", error ? error : "");
}

/* The checks passed: the hooks, the copy and the settings. */
static int recover_backup(struct run *r, struct cel_err *err)
{
    struct hook_vars v = {0};
    hook_env(r, &v, NULL);
    char *abort_msg = NULL;
    int rc = 0;
    if (op_run_hooks(r->ctx, r->s, CFG_HOOK_PRE_RECOVERY, "recovery", true, &v, &abort_msg)) {
        rc = cel_err_set(err, CEL_E_PROC, "recovery stopped: %s", abort_msg);
        free(abort_msg);
        hook_vars_free(&v);
        return rc;
    }
    hook_vars_free(&v);
    rc = copy_files(r, err);
    if (rc == 0 && !r->get_wal)
        rc = copy_wal(r, err);
    if (rc == 0) {
        char *status = cel_xasprintf("%s/pg_wal/archive_status", r->req->dest);
        rc = rd_mkdir(&r->d, status, err);
        free(status);
    }
    if (rc == 0)
        rc = write_settings(r, err);
    if (rc == 0)
        rc = write_marker(r, err);
    hook_env(r, &v, rc < 0 ? err->msg : NULL);
    op_run_hooks(r->ctx, r->s, CFG_HOOK_PRE_RECOVERY, "recovery", false, &v, NULL);
    hook_vars_free(&v);
    return rc;
}

/* The files waiting in incoming/, which a real recovery archives first. */
static size_t incoming_files(const struct cfg_server *s)
{
    struct stor_names names;
    if (!s->incoming_wals_directory ||
        stor_list_dir(s->incoming_wals_directory, NULL, NULL, &names, NULL) < 0)
        return 0;
    size_t n = names.n;
    stor_names_free(&names);
    return n;
}

int op_recover(const struct op_ctx *ctx, const struct op_recover_req *req, struct cel_err *err)
{
    const struct cfg_server *s;
    int rc = op_one_server(ctx, req->server, "recover", &s, err);
    if (rc < 0)
        return rc;
    if (req->target.kind == RC_TARGET_TIME && !req->target.time.has_offset)
        op_log(ctx, LOG_WARNING, s->name,
               "--target-time %s has no time zone: cellar checked it as this machine's local "
               "time, PostgreSQL reads it in the recovered server's TimeZone setting; add an "
               "offset (+00) if they differ",
               req->target.text);
    if (req->dest[0] != '/')
        return cel_err_set(err, CEL_E_USAGE, "recover: DEST must be an absolute path, not '%s'",
                           req->dest);
    if (s->cloud_source && (req->remote_ssh_command || req->get_wal == 0)) {
        rc = cel_err_set(err, CEL_E_USAGE,
                         "server '%s' is a bucket server (cloud_source = %s): %s", s->name,
                         s->cloud_source,
                         req->remote_ssh_command
                             ? "its backups are restored on this host, not over "
                               "--remote-ssh-command"
                             : "its WAL is fetched from the bucket by restore_command, "
                               "--no-get-wal does not apply");
        cel_err_hint(err, "Run cellar on the host to recover on (or cellar cloud-restore "
                          "there), without --remote-ssh-command or --no-get-wal.");
        return rc;
    }
    /* what is waiting in incoming/ may be the WAL this recovery needs; a
     * dry run leaves it there and says so; a bucket server has none */
    if (req->dry_run && !s->cloud_source) {
        size_t waiting = incoming_files(s);
        if (waiting)
            op_log(ctx, LOG_WARNING, s->name,
                   "--dry-run leaves incoming/ alone: the recovery archives the %zu file%s "
                   "waiting there first, which this plan leaves out",
                   waiting, waiting == 1 ? "" : "s");
    } else if (!s->cloud_source) {
        struct op_archive_summary sum;
        struct cel_err aerr = {0};
        if (op_archive_server(ctx, s, 0, &sum, &aerr) < 0)
            op_log(ctx, LOG_WARNING, s->name, "archiving incoming WAL first: %s", aerr.msg);
    }
    struct op_catalog cat;
    rc = op_catalog_load(ctx, s, true, &cat, err);
    if (rc < 0)
        return rc;
    struct run r = {.ctx = ctx, .s = s, .req = req, .xdb = &cat.xdb,
                    .report = {.ctx = ctx, .server = s->name}};
    /* a restore point must be in the archived WAL: the index knows */
    struct widx points = {0};
    const struct widx_point *rp = NULL;
    bool have_points = false;
    if (req->target.kind == RC_TARGET_NAME && s->cloud_source) {
        op_log(ctx, LOG_INFO, s->name,
               "--target-name %s is not checked: the restore points of a bucket server's WAL "
               "are not indexed; PostgreSQL stops there if the WAL holds it",
               req->target.text);
    } else if (req->target.kind == RC_TARGET_NAME) {
        struct cel_err ierr = {0};
        have_points = op_targets_load(ctx, s, &points, &ierr) == 0;
        if (!have_points)
            op_log(ctx, LOG_WARNING, s->name, "the restore points cannot be checked: %s", ierr.msg);
        else if (!req->force)
            rc = op_restore_point_find(&points, req->target.text, s->name, &rp, err);
    }
    struct op_xids xids;
    op_xids_init(&xids, s, &cat.list);
    int i = rc < 0 ? rc
            : strcmp(req->backup, "auto") == 0
                ? op_recover_pick(&cat.list, &req->target, s->name, &xids,
                                  have_points && !req->force ? &points : NULL, &r.why, err)
                : cat_resolve(&cat.list, req->backup, s->name, err);
    if (i >= 0 && cat.list.failed[i]) {
        /* its backup.info cannot be read: say why; --force must not go on
         * with an empty backup */
        *err = cat.list.errors[i];
        i = -(int)err->code;
    }
    struct op_recover_req follow; /* req, following the newest timeline */
    if (i >= 0) {
        r.b = &cat.list.items[i];
        r.backup_dir = op_backup_dir(s, r.b->id, NULL);
        /* a bucket server's recovery is always an archive recovery from
         * the bucket, which follows the newest timeline by itself */
        if (!req->force && !s->cloud_source &&
            follow_newest_timeline(ctx, s, r.b, req, &cat.xdb, &follow))
            r.req = req = &follow;
        r.get_wal = s->cloud_source || (req->get_wal >= 0
                                            ? req->get_wal != 0
                                            : (s->recovery_options & CFG_RO_GET_WAL) != 0);
        if (r.b->status != CAT_DONE && !req->force)
            rc = cel_err_set(err, CEL_E_CONFLICT, "backup %s of server %s is %s: only DONE "
                                                  "backups are recovered",
                             r.b->id, s->name, cat_status_name(r.b->status));
        /* a tar backup (Barman's postgres method with backup_compression)
         * is tarballs in data/: copied as they are, they would be no data
         * directory, whatever --force says */
        if (rc == 0 && !s->cloud_source && r.b->compression && !op_tar_suffix(r.b->compression)) {
            rc = cel_err_set(err, CEL_E_CONFLICT,
                             "backup %s of server %s is in tar format (compression=%s): cellar "
                             "recovers tar backups of gzip, lz4 or zstd only",
                             r.b->id, s->name, r.b->compression);
            cel_err_hint(err, "Recover it with Barman (barman recover), which knows this "
                              "compression.");
        }
        if (rc == 0 && !req->force && rp)
            rc = check_point_timeline(ctx, s, req, r.b, &cat.xdb, &points, &rp, err);
        if (rc == 0 && !req->force)
            rc = op_target_fits(&cat.list, (size_t)i, &req->target, &xids, rp, err);
        if (rc == 0 && !req->force && !s->cloud_source) /* no local history files */
            rc = check_timeline(ctx, s, r.b, req, err);
        if (rc == 0 && !r.get_wal)
            rc = plan_wal(req, r.b, &cat.xdb, &r.wal, err);
        if (rc == 0)
            rc = rd_init(&r.d, req->remote_ssh_command, s->path_prefix, !req->dry_run, err);
        if (rc == 0)
            rc = plan_tablespaces(&r, err);
        if (rc == 0)
            rc = check_destination(&r, err);
        if (rc == 0)
            rc = check_space(&r, err);
        if (rc == 0 && !s->cloud_source)
            rc = check_decryption(&r, err);
        if (rc == 0 && req->dry_run) {
            struct op_result res = {"recover-plan", &r, render_plan_text, render_plan_json};
            op_result(ctx, &res);
        } else if (rc == 0) {
            op_phase(ctx, s->name, "recover", "recovering backup %s of server %s into %s%s%s",
                     r.b->id, s->name, r.d.ssh ? r.d.ssh : "", r.d.ssh ? ":" : "", req->dest);
            rc = recover_backup(&r, err);
        }
        if (rc == 0 && !req->dry_run) {
            r.m = (struct model){.server = s->name,
                                 .id = r.b->id,
                                 .dest = req->dest,
                                 .remote = r.d.ssh,
                                 .bucket = s->cloud_source,
                                 .req = req,
                                 .wal_files = r.m.wal_files,
                                 .wal_bytes = r.m.wal_bytes,
                                 .data_bytes = r.m.data_bytes,
                                 .wal_dir = r.m.wal_dir,
                                 .settings_file = r.m.settings_file,
                                 .signal_file = r.m.signal_file,
                                 .mangled = r.m.mangled,
                                 .tbs = r.tbs,
                                 .n_tbs = r.n_tbs};
            struct op_result res = {"recover", &r.m, render_text, render_json};
            op_result(ctx, &res);
        }
        rd_free(&r.d);
    } else {
        rc = i;
    }
    op_xids_free(&xids);
    sb_free(&r.why);
    widx_free(&points);
    free(r.wal.names);
    free(r.tbs);
    free(r.backup_dir);
    gpg_pass_free(r.pass, r.pass_len);
    op_catalog_free(&cat);
    return rc;
}
