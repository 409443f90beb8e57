/*
 * check.c - `cellar check SERVER|all... [--nagios]`: is each server ready to
 * be backed up and recovered, and if not, what to do about it.
 *
 * The checks are Barman 3.4's, with Barman's names and in Barman's order,
 * so that the scripts DBAs wrote around `barman check` keep working:
 * "Server NAME:" then one "\tNAME: OK|FAILED (reason)" line per check. cellar
 * adds a line under each failure saying how to fix it (the setting to change
 * or the command to run), and a few checks Barman lacks: free disk space,
 * rsync here and on the PostgreSQL host, and a round trip through custom
 * compression filters. Failures of an inactive server are shown and do not
 * count, as in Barman.
 *
 * Each check is a function that appends items to the server's report;
 * none of them prints. The PostgreSQL status and the catalogue are read
 * once, up front, and shared. The run keeps a deadline of check_timeout
 * seconds: every program and connection gets what is left of it, and once
 * it has passed the remaining checks are dropped for a failed "check
 * timeout", as Barman does.
 *
 * --nagios renders every server's report as Barman's NagiosOutputWriter
 * does (op_check_nagios), and the exit class becomes Nagios's CRITICAL (2).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "backup_int.h"
#include "fmt.h"
#include "gpg.h"
#include "lock.h"
#include "ops.h"
#include "pg.h"
#include "proc.h"
#include "priv.h"
#include "rsync.h"
#include "server.h"
#include "server_select.h"
#include "storage.h"
#include "ts.h"
#include "wal_archive.h"

/* ---- the report ------------------------------------------------------------ */

struct run {
    const struct op_ctx *ctx;
    const struct cfg_server *s;
    const struct op_check_opts *opts;
    struct op_check_report *r;
    int64_t deadline_ms; /* CLOCK_MONOTONIC */
    int timeout_s;
    /* PostgreSQL, when it answered */
    struct pg_conn *conn;
    struct pg_status st;
    bool have_status;
    char *role; /* current_user */
    /* the catalogue */
    struct op_catalog cat;
    bool have_cat;
    struct cel_err cat_err;
    int last; /* newest WAITING_FOR_WALS or DONE backup, -1 when none */
};

struct op_check_item *op_check_add(struct op_check_report *rep, const char *name, bool ok)
{
    rep->items = cel_xrealloc_array(rep->items, rep->n + 1, sizeof *rep->items);
    struct op_check_item *it = &rep->items[rep->n++];
    memset(it, 0, sizeof *it);
    it->name = cel_xstrdup(name);
    it->ok = ok;
    return it;
}

static struct op_check_item *add(struct run *r, const char *name, bool ok)
{
    return op_check_add(r->r, name, ok);
}

static char *vformat(const char *fmt, va_list ap) CEL_PRINTF(1, 0);
static char *vformat(const char *fmt, va_list ap)
{
    struct strbuf sb = {0};
    sb_vappendf(&sb, fmt, ap);
    return sb_detach(&sb);
}

/* Set the reason of the item just added. */
static void hint(struct op_check_item *it, const char *fmt, ...) CEL_PRINTF(2, 3);
static void hint(struct op_check_item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(it->hint);
    it->hint = vformat(fmt, ap);
    va_end(ap);
}

/* Set the fix of the item just added. */
static void fix(struct op_check_item *it, const char *fmt, ...) CEL_PRINTF(2, 3);
static void fix(struct op_check_item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(it->fix);
    it->fix = vformat(fmt, ap);
    va_end(ap);
}

/* What is left of check_timeout, in milliseconds (at least 1). */
static int remaining_ms(const struct run *r)
{
    int64_t left = r->deadline_ms - ts_monotonic_ms();
    if (left < 1)
        return 1;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Has check_timeout passed? Then the checks that run programs or connect
 * are left out (op_check_server reports "check timeout"). */
static bool expired(const struct run *r)
{
    return ts_monotonic_ms() >= r->deadline_ms;
}

static double wall_now(void)
{
    struct ts now;
    ts_now(&now);
    return ts_epoch(&now);
}

/* The name of the user cellar runs as, for the fixes. */
static const char *whoami(void)
{
    struct passwd *pw = getpwuid(geteuid());
    return pw ? pw->pw_name : "the user running cellar";
}

/* The public key ssh offers for the user running cellar (the first of
 * ssh's default keys that exists), or where ssh-keygen puts a new one. */
static char *own_public_key(bool *exists)
{
    struct passwd *pw = getpwuid(geteuid());
    const char *home = pw && pw->pw_dir ? pw->pw_dir : "~";
    static const char *const keys[] = {"id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(keys); i++) {
        char *path = cel_xasprintf("%s/.ssh/%s", home, keys[i]);
        if (stor_is_file(path)) {
            *exists = true;
            return path;
        }
        free(path);
    }
    *exists = false;
    return cel_xasprintf("%s/.ssh/id_rsa.pub", home);
}

/* A role name as SQL writes it: bare when it needs no quotes. */
static void sql_ident(const char *name, struct strbuf *out)
{
    bool plain = name[0] && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name) &&
                 !(name[0] >= '0' && name[0] <= '9');
    if (plain) {
        sb_append(out, name);
        return;
    }
    sb_appendc(out, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            sb_appendc(out, '"');
        sb_appendc(out, *p);
    }
    sb_appendc(out, '"');
}

static const char *status_get(const struct run *r, const char *key)
{
    return r->have_status ? pg_status_get(&r->st, key) : NULL;
}

/* The catalogue is needed: when it could not be read, say so as a failure
 * of check name and return false. */
static bool need_catalog(struct run *r, const char *name)
{
    if (r->have_cat)
        return true;
    if (r->s->cloud_source) /* the "bucket" check failed, saying why, once */
        return false;
    struct op_check_item *it = add(r, name, false);
    hint(it, "cannot read the catalogue: %s", r->cat_err.msg);
    if (r->cat_err.code == CEL_E_FORMAT && r->cat_err.hint[0])
        fix(it, "%s", r->cat_err.hint); /* a damaged file: what repairs it */
    else
        fix(it, "make '%s' and '%s' readable by %s", r->s->basebackups_directory,
            r->s->wals_directory, whoami());
    return false;
}

/* ---- the checks, in Barman's order ----------------------------------------- */

/* A damaged xlog.db stops archiving and every command that reads it: say
 * where, and what repairs it. Returns true when it reported a failure. */
static bool check_xlogdb_damage(struct run *r)
{
    if (r->have_cat || r->cat_err.code != CEL_E_FORMAT)
        return false;
    const struct cfg_server *s = r->s;
    struct lock *l = NULL;
    struct xdb db = {0};
    struct xdb_cut cut = {0};
    struct cel_err err = {0};
    if (xdb_lock(r->ctx->cfg->global.barman_lock_directory, s->name, &l, &err) < 0)
        return false;
    struct xdb_home home = op_xdb_home(r->ctx->cfg, s);
    char *path = xdb_path(&home);
    int rc = xdb_read_cut(&home, &db, &cut, &err);
    lock_release(l);
    xdb_free(&db);
    if (rc == 0 && !cut.cut) {
        free(path);
        return false; /* the damage is elsewhere in the catalogue */
    }
    struct op_check_item *it = add(r, "WAL archive", false);
    if (rc == 0) {
        hint(it, "%s:%d: the last line was cut short (a writer was killed)", path, cut.line);
        fix(it,
            "run 'cellar archive-wal %s' (it repairs a last line cut short and keeps the "
            "damaged file) or 'cellar rebuild-xlogdb %s'",
            s->name, s->name);
    } else {
        hint(it, "%s", err.msg);
        fix(it, "run 'cellar rebuild-xlogdb %s': it writes xlog.db anew from the files in '%s'",
            s->name, s->wals_directory);
    }
    free(path);
    return true;
}

/* WAL archive (shown only on failure): xlog.db exists and is not empty,
 * unless a backup waits for its WAL; and it is not damaged. */
static void check_wal_archive(struct run *r)
{
    if (check_xlogdb_damage(r))
        return;
    char *two = op_xdb_ignored_text(r->ctx, r->s);
    if (two) {
        /* Barman's rule decides which one counts, so nothing is broken
         * here: OK with a warning, but the other file means a writer that
         * does not see this one's WAL */
        struct op_check_item *it = add(r, "WAL catalogue", true);
        hint(it, "%s", two);
        free(two);
    }
    struct xdb_home home = op_xdb_home(r->ctx->cfg, r->s);
    char *path = xdb_path(&home);
    struct stat st;
    bool empty = stat(path, &st) != 0 || st.st_size == 0;
    free(path);
    if (!empty)
        return;
    for (size_t i = 0; r->have_cat && i < r->cat.list.n; i++)
        if (!r->cat.list.failed[i] && r->cat.list.items[i].status == CAT_WAITING_FOR_WALS)
            return;
    struct op_check_item *it = add(r, "WAL archive", false);
    hint(it, "please make sure WAL shipping is setup");
    if (r->s->streaming_archiver && !r->s->archiver)
        fix(it,
            "start the receiver (cellar cron, or cellar receive-wal %s), then archive a first "
            "segment: cellar switch-wal --force --archive %s",
            r->s->name, r->s->name);
    else
        fix(it,
        "make PostgreSQL archive into cellar (archive_command = 'cellar put-wal %s %%p', see "
        "the archive checks below), then archive a first segment: cellar switch-wal --force "
        "--archive %s",
        r->s->name, r->s->name);
}

/* An archiver's directory that must stay (nearly) empty while that archiver
 * is off: more than allowed files (temporary ones aside) is a failure
 * named item, shown only then. */
static void check_idle_dir(struct run *r, const char *item, const char *dir, const char *option,
                           size_t allowed)
{
    struct stor_names names;
    if (stor_list_dir(dir, NULL, NULL, &names, NULL) < 0)
        return;
    size_t n = 0;
    for (size_t i = 0; i < names.n; i++)
        if (!cel_str_ends(names.names[i], ".tmp"))
            n++;
    stor_names_free(&names);
    if (n <= allowed)
        return;
    struct op_check_item *it = add(r, item, false);
    hint(it, "'%s' must be empty when %s=off", dir, option);
    fix(it, "set %s = on for server %s, or move the files out of '%s'", option, r->s->name, dir);
}

/* empty incoming directory: with archiver = off nothing must wait in
 * incoming/. */
static void check_incoming(struct run *r)
{
    if (!r->s->archiver)
        check_idle_dir(r, "empty incoming directory", r->s->incoming_wals_directory, "archiver", 0);
}

/* empty streaming directory: with streaming_archiver = off nothing but one
 * file (the .partial a receiver left) may wait in streaming/. */
static void check_streaming_dir(struct run *r)
{
    if (!r->s->streaming_archiver)
        check_idle_dir(r, "empty streaming directory", r->s->streaming_wals_directory,
                       "streaming_archiver", 1);
}

/* The privileges fix for role on a server of version. */
static void privileges_fix(struct run *r, struct op_check_item *it)
{
    struct strbuf role = {0};
    sql_ident(r->role ? r->role : "barman", &role);
    bool v15 = r->conn && pg_server_version(r->conn) >= 150000;
    fix(it,
        "as a superuser, run: GRANT EXECUTE ON FUNCTION %s, %s, pg_switch_wal(), "
        "pg_create_restore_point(text) TO %s; GRANT pg_monitor TO %s;",
        v15 ? "pg_backup_start(text, boolean)" : "pg_start_backup(text, boolean, boolean)",
        v15 ? "pg_backup_stop(boolean)" : "pg_stop_backup(boolean, boolean)", sb_str(&role),
        sb_str(&role));
    sb_free(&role);
}

/* replication slot: with streaming_archiver on, slot_name exists, has been
 * used (restart_lsn) and is active; with it off, a slot left behind is an
 * OK with a warning, as in Barman. */
static void check_slot(struct run *r)
{
    const struct cfg_server *s = r->s;
    struct pg_rows rows = {0};
    const char *params[] = {s->slot_name};
    if (pg_query(r->conn,
                 "SELECT active, restart_lsn FROM pg_catalog.pg_replication_slots "
                 "WHERE slot_type = 'physical' AND slot_name = $1",
                 params, 1, &rows, NULL) < 0)
        return;
    bool exists = rows.nrows > 0;
    const char *active = exists ? pg_rows_get(&rows, 0, "active") : NULL;
    bool is_active = active && strcmp(active, "t") == 0;
    bool initialised = exists && pg_rows_get(&rows, 0, "restart_lsn") != NULL;
    struct op_check_item *it;
    if (!s->streaming_archiver) {
        if (initialised) {
            it = add(r, "replication slot", true);
            hint(it, "WARNING: slot '%s' is %s but not required by the current config",
                 s->slot_name, is_active ? "active" : "initialised");
            fix(it,
                "drop it (cellar receive-wal --drop-slot %s) unless something else uses it: an "
                "unused slot keeps WAL on the PostgreSQL server until its disk fills",
                s->name);
        }
    } else if (!exists) {
        it = add(r, "replication slot", false);
        hint(it, "replication slot '%s' doesn't exist. Please execute 'cellar receive-wal "
                 "--create-slot %s'",
             s->slot_name, s->name);
        fix(it, "run 'cellar receive-wal --create-slot %s' (or set create_slot = auto)", s->name);
    } else if (!initialised || !is_active) {
        it = add(r, "replication slot", false);
        hint(it, "slot '%s' not %s: is 'receive-wal' running?", s->slot_name,
             initialised ? "active" : "initialised");
        fix(it, "run 'cellar cron' (it starts receive-wal), and see the log if it stops again");
    } else {
        add(r, "replication slot", true);
    }
    pg_rows_free(&rows);
}

/* PostgreSQL streaming: the replication connection pg_basebackup
 * (backup_method = postgres) and pg_receivewal (streaming_archiver) open,
 * as Barman checks it, with the fix for each way the server refuses it. */
static void check_streaming(struct run *r)
{
    const struct cfg_server *s = r->s;
    if ((s->backup_method != CFG_BM_POSTGRES && !s->streaming_archiver) || !s->streaming_conninfo ||
        expired(r))
        return;
    struct cel_err err = {0};
    char *sysid = NULL;
    if (pg_replication_identify(s->streaming_conninfo, (remaining_ms(r) + 999) / 1000, &sysid,
                                &err) == 0) {
        const char *mine = status_get(r, "postgres_systemid");
        if (mine && sysid && strcmp(mine, sysid) != 0) {
            struct op_check_item *it = add(r, "PostgreSQL streaming", false);
            hint(it, "streaming_conninfo reaches database system %s, conninfo %s", sysid, mine);
            fix(it, "point streaming_conninfo at the same server as conninfo in [%s]", s->name);
        } else {
            add(r, "PostgreSQL streaming", true);
        }
        free(sysid);
        return;
    }
    struct op_check_item *it = add(r, "PostgreSQL streaming", false);
    hint(it, "%s", err.msg);
    const char *user = r->role ? r->role : "barman";
    if (strstr(err.msg, "replication role") || strstr(err.msg, "permission denied to start WAL"))
        fix(it, "as a superuser, run: ALTER ROLE %s REPLICATION;", user);
    else if (strstr(err.msg, "max_wal_senders"))
        fix(it, "raise max_wal_senders in postgresql.conf (each backup and each pg_receivewal "
                "takes one) and restart PostgreSQL");
    else if (strstr(err.msg, "pg_hba.conf"))
        fix(it, "add a line such as 'host replication %s <barman host>/32 scram-sha-256' to "
                "pg_hba.conf and reload PostgreSQL",
            user);
    else
        fix(it, "check streaming_conninfo in [%s] (it defaults to conninfo): pg_basebackup and "
                "pg_receivewal connect with it through the replication protocol",
            s->name);
}

/* pg_basebackup, pg_basebackup compatible, pg_basebackup supports
 * tablespaces mapping: Barman's checks of backup_method = postgres. */
static void check_pg_basebackup(struct run *r)
{
    const struct cfg_server *s = r->s;
    if (expired(r))
        return;
    const char *v = status_get(r, "server_txt_version");
    long server = r->conn ? pg_server_version(r->conn) : 0;
    char *tool = NULL;
    long version = 0;
    struct cel_err err = {0};
    struct op_check_item *it;
    if (op_pg_program("pg_basebackup", s->path_prefix, server, remaining_ms(r), &tool, &version,
                      &err) < 0) {
        it = add(r, "pg_basebackup", false);
        hint(it, "%s", err.msg);
        fix(it, "%s", err.hint);
        it = add(r, "pg_basebackup compatible", false);
        hint(it, "PostgreSQL version: %s, pg_basebackup version: None", v ? v : "Unknown");
        return;
    }
    add(r, "pg_basebackup", true);
    char have[32];
    op_pg_version_text(version, have);
    if (server && version && version / 10000 < server / 10000) {
        it = add(r, "pg_basebackup compatible", false);
        hint(it, "PostgreSQL version: %s, pg_basebackup version: %s", v ? v : "Unknown", have);
        fix(it, "install postgresql-client-%ld (or newer), or set path_prefix to its bin directory "
                "(/usr/lib/postgresql/%ld/bin)",
            server / 10000, server / 10000);
    } else {
        add(r, "pg_basebackup compatible", true);
    }
    if (server)
        add(r, "pg_basebackup supports tablespaces mapping", true);
    free(tool);
}

/* PostgreSQL, superuser or standard user with backup privileges, wal_level. */
static void check_postgres(struct run *r)
{
    if (!r->opts->connect)
        return;
    const struct cfg_server *s = r->s;
    struct op_check_item *it;
    if (!s->conninfo && s->disabled) {
        /* an invalid value was refused at load: the configuration item
         * names the line; "not set" would send the DBA the wrong way */
        it = add(r, "PostgreSQL", false);
        hint(it, "no usable conninfo: the [%s] section has configuration errors", s->name);
        fix(it, "correct the lines the 'configuration' item names");
        return;
    }
    if (!s->conninfo) {
        it = add(r, "PostgreSQL", false);
        hint(it, "conninfo is not set");
        fix(it,
            "set conninfo in the [%s] section of '%s' (e.g. conninfo = host=pg user=barman "
            "dbname=postgres)",
            s->name, s->file ? s->file : r->ctx->cfg->path);
        return;
    }
    if (expired(r))
        return;
    struct cel_err err = {0};
    int rc = pg_connect(s->conninfo, (remaining_ms(r) + 999) / 1000, &r->conn, &err);
    if (rc == 0)
        rc = pg_get_status(r->conn, &r->st, &err);
    if (rc < 0) {
        it = add(r, "PostgreSQL", false);
        bool old = r->conn != NULL; /* connected: the version was refused */
        hint(it, "%s%s", old ? "unsupported version: " : "", err.msg);
        if (old)
            fix(it, "cellar needs PostgreSQL 10 or later: upgrade the server");
        else
            fix(it,
                "check conninfo in [%s], that PostgreSQL is running and that pg_hba.conf "
                "lets this host in",
                s->name);
        pg_status_free(&r->st);
        pg_close(r->conn);
        r->conn = NULL;
        return;
    }
    r->have_status = true;
    add(r, "PostgreSQL", true);
    pg_query_value(r->conn, "SELECT current_user", &r->role, NULL);

    const char *v = status_get(r, "has_backup_privileges");
    if (v && strcmp(v, "True") == 0) {
        add(r, "superuser or standard user with backup privileges", true);
    } else if (v) {
        it = add(r, "no access to backup functions", false);
        hint(it, "privileges for PostgreSQL backup functions are required (see documentation)");
        privileges_fix(r, it);
    }
    check_streaming(r);
    v = status_get(r, "wal_level");
    if (v && strcmp(v, "minimal") != 0) {
        add(r, "wal_level", true);
    } else if (v) {
        it = add(r, "wal_level", false);
        hint(it, "please set it to a higher level than 'minimal'");
        fix(it, "set wal_level = replica in postgresql.conf and restart PostgreSQL");
    }
    if (s->slot_name)
        check_slot(r);
}

/* directories: each exists (created when missing, as Barman does) and is
 * writable. */
/* stor_list_dir's keep: an entry another user owns (lstat: a link is
 * judged by its own owner) */
struct foreign {
    const char *prefix; /* only names starting with it (NULL: all) */
    uid_t uid;
    char *first;     /* the first such entry's path (caller frees) */
    uid_t first_uid; /* and its owner */
    size_t n;
};

static bool note_foreign(const char *dir, const char *name, void *ctx)
{
    struct foreign *f = ctx;
    if (f->prefix && strncmp(name, f->prefix, strlen(f->prefix)) != 0)
        return false;
    char *path = cel_xasprintf("%s/%s", dir, name);
    struct stat st;
    if (lstat(path, &st) == 0 && st.st_uid != f->uid) {
        if (!f->first) {
            f->first = path;
            f->first_uid = st.st_uid;
            path = NULL;
        }
        f->n++;
    }
    free(path);
    return false;
}

/* Files of cellar's that another user owns: what an earlier version run by
 * root (cron, check) left in barman_home, root's and 0600, which every run
 * as barman_user then fails to read or replace ("Permission denied") while
 * WAL piles up in incoming/. Looked at: the entries of the wals and base
 * backups directories (xlog.db, the hash directories, backups) and the
 * server's lock files; not every archived file, so that check stays
 * quick. Returns true when it reported a failure. */
static bool check_foreign_files(struct run *r)
{
    const struct cfg_server *s = r->s;
    if (geteuid() == 0)
        return false; /* root reads and replaces anyone's files */
    char *lock_prefix = cel_xasprintf(".%s-", s->name);
    const struct {
        const char *dir, *prefix;
    } where[] = {{s->wals_directory, NULL},
                 {s->basebackups_directory, NULL},
                 {r->ctx->cfg->global.barman_lock_directory, lock_prefix}};
    struct foreign f = {.uid = geteuid()};
    for (size_t i = 0; i < CEL_ARRAY_LEN(where); i++) {
        if (!where[i].dir)
            continue;
        f.prefix = where[i].prefix;
        struct stor_names names = {0};
        if (stor_list_dir(where[i].dir, note_foreign, &f, &names, NULL) == 0)
            stor_names_free(&names);
    }
    free(lock_prefix);
    if (!f.n)
        return false;
    char owner[64];
    priv_user_name(f.first_uid, owner, sizeof owner);
    struct op_check_item *it = add(r, "directories", false);
    char others[48] = "";
    if (f.n > 1)
        snprintf(others, sizeof others, " and %zu other entr%s", f.n - 1, f.n == 2 ? "y" : "ies");
    hint(it, "'%s'%s belong%s to %s, not to %s", f.first, others, f.n > 1 ? "" : "s", owner,
         whoami());
    fix(it, "give them back (as root): chown -R %s: '%s'%s", whoami(),
        s->backup_directory ? s->backup_directory : s->wals_directory,
        r->ctx->cfg->global.barman_lock_directory ? " and the server's lock files" : "");
    free(f.first);
    return true;
}

static void check_directories(struct run *r)
{
    const struct cfg_server *s = r->s;
    const struct {
        const char *option, *path;
    } dirs[] = {{"backup_directory", s->backup_directory},
                {"basebackups_directory", s->basebackups_directory},
                {"wals_directory", s->wals_directory},
                {"incoming_wals_directory", s->incoming_wals_directory},
                {"errors_directory", s->errors_directory}};
    struct strbuf created = {0};
    struct op_check_item *it;
    for (size_t i = 0; i < CEL_ARRAY_LEN(dirs); i++) {
        const char *d = dirs[i].path;
        if (!d)
            continue;
        if (!stor_is_dir(d)) {
            if (!r->opts->create_dirs) {
                it = add(r, "directories", false);
                hint(it, "'%s' does not exist", d);
                fix(it, "run 'cellar check %s', which creates it", s->name);
                goto out;
            }
            struct cel_err err = {0};
            if (stor_mkdir_p(d, 0700, &err) < 0) {
                it = add(r, "directories", false);
                hint(it, "%s", err.msg);
                fix(it,
                    "create '%s' as a directory %s can write, or set %s (or barman_home) to "
                    "a place where it can be created",
                    d, whoami(), dirs[i].option);
                goto out;
            }
            sb_appendf(&created, "%s'%s'", created.len ? ", " : "", d);
        }
        if (access(d, W_OK | X_OK) != 0) {
            int e = errno;
            it = add(r, "directories", false);
            hint(it, "'%s' is not writable: %s", d, strerror(e));
            fix(it, "give '%s' to %s (chown %s '%s'; chmod 0700 '%s')", d, whoami(), whoami(), d,
                d);
            goto out;
        }
    }
    if (check_foreign_files(r))
        goto out;
    it = add(r, "directories", true);
    if (created.len)
        hint(it, "created %s", sb_str(&created));
out:
    sb_free(&created);
}

/* free disk space (cellar's): room for another backup as large as the
 * last one on the file system of the base backups. */
static void check_disk(struct run *r)
{
    const char *dir = r->s->basebackups_directory;
    struct statvfs v;
    if (!dir || statvfs(dir, &v) != 0)
        return; /* the directories check has said why */
    uint64_t avail = (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
    uint64_t needed = 0;
    if (r->have_cat && r->last >= 0 && r->cat.list.items[r->last].size.set &&
        r->cat.list.items[r->last].size.v > 0)
        needed = (uint64_t)r->cat.list.items[r->last].size.v;
    struct op_check_item *it = add(r, "free disk space", avail >= needed);
    struct strbuf h = {0};
    fmt_size((double)avail, &h);
    sb_appendf(&h, " free in '%s'", dir);
    if (needed) {
        sb_append(&h, ", the last backup takes ");
        fmt_size((double)needed, &h);
    }
    it->hint = sb_detach(&h);
    if (!it->ok)
        fix(it,
            "make room on the file system of '%s': delete backups you no longer need (cellar "
            "delete %s BACKUP_ID) or move barman_home to a larger disk",
            dir, r->s->name);
}

/* retention policy settings: the policy options parsed. */
static void check_retention(struct run *r)
{
    const struct cfg *cfg = r->ctx->cfg;
    for (size_t i = 0; i < cfg->n_diags; i++) {
        const struct cfg_diag *d = &cfg->diags[i];
        if (d->level != CFG_ERROR || !d->server || strcmp(d->server, r->s->name) != 0 ||
            !d->option || !strstr(d->option, "retention_policy"))
            continue;
        struct op_check_item *it = add(r, "retention policy settings", false);
        hint(it, "%s", d->text);
        if (strcmp(d->option, "retention_policy") == 0)
            fix(it, "set retention_policy to " RET_POLICY_ACCEPTED);
        else
            fix(it, "correct %s (see 'cellar show-server %s' for the accepted values)", d->option,
                r->s->name);
        return;
    }
    add(r, "retention policy settings", true);
}

/* encryption (Barman 3.14's check_encryption, with encryption = gpg): the
 * settings can encrypt a backup, and GnuPG encrypts a test message to
 * encryption_key_id in the keyring of the user cellar runs as. */
static void check_encryption(struct run *r)
{
    const struct cfg_server *s = r->s;
    if (s->encryption != CFG_ENC_GPG)
        return;
    struct cel_err err = {0};
    struct op_check_item *it;
    if (bk_check_encryptable(s, &err) < 0) {
        it = add(r, "encryption", false);
        hint(it, "%s", err.msg);
        fix(it, "%s", err.hint);
        return;
    }
    int rc = gpg_encrypt_test(s->encryption_key_id, &err);
    if (rc == 0) {
        hint(add(r, "encryption", true), "encryption test succeeded");
        return;
    }
    it = add(r, "encryption", false);
    hint(it, "encryption test failed: %s", err.msg);
    fix(it, "import the public key '%s' (encryption_key_id) into the keyring of %s (its "
            "GNUPGHOME or ~/.gnupg) and trust it",
        s->encryption_key_id, whoami());
}

/* backup maximum age, backup minimum size. */
static void check_backups_age_size(struct run *r)
{
    const struct cfg_server *s = r->s;
    struct op_check_item *it;
    if (!s->last_backup_maximum_age.seconds) {
        it = add(r, "backup maximum age", true);
        hint(it, "no last_backup_maximum_age provided");
    } else if (need_catalog(r, "backup maximum age")) {
        struct strbuf h = {0};
        bool ok =
            op_check_backup_age(&r->cat.list, wall_now(), s->last_backup_maximum_age.seconds, &h);
        it = add(r, "backup maximum age", ok);
        it->hint = sb_detach(&h);
        if (!ok) {
            struct strbuf every = {0};
            ts_human_delta((double)s->last_backup_maximum_age.seconds, &every);
            if (s->cloud_source)
                fix(it,
                    "take a backup now (cellar cloud-backup or barman-cloud-backup on the "
                    "PostgreSQL host) and schedule backups more often than every %s "
                    "(last_backup_maximum_age)",
                    sb_str(&every));
            else
                fix(it,
                    "take a backup now (cellar backup %s) and schedule backups more often than "
                    "every %s (last_backup_maximum_age)",
                    s->name, sb_str(&every));
            sb_free(&every);
        }
    }
    uint64_t size = 0;
    if (r->have_cat && r->last >= 0 && r->cat.list.items[r->last].size.set &&
        r->cat.list.items[r->last].size.v > 0)
        size = (uint64_t)r->cat.list.items[r->last].size.v;
    it = add(r, "backup minimum size", true);
    struct strbuf h = {0};
    fmt_size((double)size, &h);
    it->hint = sb_detach(&h);
    it->has_perf = true;
    it->perf = size;
}

/* wal maximum age, wal size: the WAL archived after the last backup. */
static void check_wal_validity(struct run *r)
{
    const struct cfg_server *s = r->s;
    struct xdb_wal_info wi = {0};
    bool have = r->have_cat && r->last >= 0;
    if (have)
        op_catalog_wal_info(&r->cat, (size_t)r->last, &wi);
    struct op_check_item *it;
    if (s->last_wal_maximum_age.seconds) {
        if (!have || !wi.last) {
            it = add(r, "wal maximum age", false);
            hint(it, "No WAL files archived for last backup");
        } else {
            double age = wall_now() - wi.last_time;
            it = add(r, "wal maximum age", age <= (double)s->last_wal_maximum_age.seconds);
            struct strbuf h = {0};
            sb_append(&h, "interval provided: ");
            ts_human_delta((double)s->last_wal_maximum_age.seconds, &h);
            sb_append(&h, ", latest wal age: ");
            ts_human_delta(age, &h);
            it->hint = sb_detach(&h);
        }
        if (!it->ok)
            fix(it,
                "check that PostgreSQL archives (see 'continuous archiving') and that cellar "
                "cron runs every minute; 'cellar switch-wal --force --archive %s' archives a "
                "segment now",
                s->name);
    } else {
        it = add(r, "wal maximum age", true);
        hint(it, "no last_wal_maximum_age provided");
    }
    it = add(r, "wal size", true);
    struct strbuf h = {0};
    fmt_size((double)wi.until_next_size, &h);
    it->hint = sb_detach(&h);
    it->has_perf = true;
    it->perf = wi.until_next_size;
}

/* Run a custom filter on data; *out gets its output (caller frees). On
 * failure *why says what happened. */
static bool run_filter(struct run *r, const char *option, const char *command, const void *data,
                       size_t len, char **out, size_t *out_len, struct strbuf *why)
{
    struct proc_opts po = {.stdin_data = data,
                           .stdin_len = len,
                           .path_prefix = r->s->path_prefix,
                           .timeout_ms = remaining_ms(r)};
    struct proc_result res = {0};
    struct cel_err err = {0};
    int rc = proc_run_shell(command, &po, &res, &err);
    bool ok = rc == 0 && res.status == 0;
    if (!ok) {
        sb_appendf(why, "%s '%s' ", option, command);
        if (rc < 0 && !res.timed_out) {
            sb_append(why, err.msg);
        } else {
            proc_describe(&res, po.timeout_ms, why);
            if (res.err && res.err[0])
                sb_appendf(why, ": %.*s", (int)strcspn(res.err, "\r\n"), res.err);
        }
    } else {
        *out = res.out;
        *out_len = res.out_len;
        res.out = NULL;
    }
    proc_result_free(&res);
    return ok;
}

/* The archived files xlog.db records as custom-compressed: how many, and
 * the first one's name. */
static size_t custom_archived(const struct run *r, const char **first)
{
    size_t n = 0;
    *first = NULL;
    for (size_t i = 0; r->have_cat && i < r->cat.xdb.n; i++) {
        enum comp_kind kind;
        const struct xdb_entry *e = &r->cat.xdb.entries[i];
        if (comp_parse_name(e->compression, &kind, NULL) == 0 && kind == COMP_CUSTOM) {
            if (!n)
                *first = e->name;
            n++;
        }
    }
    return n;
}

/* compression settings: compression = custom has both filters, and they
 * give back what they were given; and whatever the compression now, files
 * archived with custom compression can still be read (a
 * custom_decompression_filter is set). */
static void check_compression(struct run *r)
{
    const struct cfg_server *s = r->s;
    struct op_check_item *it;
    const char *first = NULL;
    size_t n_custom = custom_archived(r, &first);
    if (n_custom && !s->custom_decompression_filter) {
        it = add(r, "compression settings", false);
        hint(it,
             "%zu archived WAL file%s %s custom-compressed (%s%s) and no "
             "custom_decompression_filter is set: get-wal and recover cannot read %s",
             n_custom, n_custom == 1 ? "" : "s", n_custom == 1 ? "is" : "are", first,
             n_custom == 1 ? "" : ", ...", n_custom == 1 ? "it" : "them");
        fix(it,
            "set custom_decompression_filter (and custom_compression_magic) for server %s to "
            "the filter the files were written with (e.g. custom_decompression_filter = zstd "
            "-dc), keeping compression as it is",
            s->name);
        return;
    }
    if (s->compression != COMP_CUSTOM) {
        add(r, "compression settings", true);
        return;
    }
    if (!s->custom_compression_filter || !s->custom_decompression_filter) {
        it = add(r, "compression settings", false);
        hint(it, "compression = custom needs custom_compression_filter and "
                 "custom_decompression_filter");
        fix(it, "set both filters (e.g. custom_compression_filter = zstd -c, "
                "custom_decompression_filter = zstd -dc), or choose gzip, bzip2, zstd or lz4");
        return;
    }
    if (expired(r))
        return;
    static const char sample[] = "cellar check: a compression round trip\n";
    struct strbuf why = {0};
    char *packed = NULL, *unpacked = NULL;
    size_t packed_len = 0, unpacked_len = 0;
    bool ok = run_filter(r, "custom_compression_filter", s->custom_compression_filter, sample,
                         sizeof sample - 1, &packed, &packed_len, &why);
    const struct cfg_magic *magic = &s->custom_compression_magic;
    if (ok && magic->len &&
        (packed_len < magic->len || memcmp(packed, magic->bytes, magic->len) != 0)) {
        ok = false;
        sb_appendf(&why,
                   "what custom_compression_filter writes does not start with "
                   "custom_compression_magic %s",
                   magic->text);
    }
    if (ok)
        ok = run_filter(r, "custom_decompression_filter", s->custom_decompression_filter, packed,
                        packed_len, &unpacked, &unpacked_len, &why);
    if (ok && (unpacked_len != sizeof sample - 1 || memcmp(unpacked, sample, unpacked_len) != 0)) {
        ok = false;
        sb_append(&why, "custom_decompression_filter does not give back what "
                        "custom_compression_filter was given");
    }
    it = add(r, "compression settings", ok);
    if (!ok) {
        it->hint = sb_detach(&why);
        fix(it, "the filters read standard input and write standard output: correct "
                "custom_compression_filter and custom_decompression_filter (and "
                "custom_compression_magic), or choose gzip, bzip2, zstd or lz4");
    }
    sb_free(&why);
    free(packed);
    free(unpacked);
}

/* failed backups, minimum redundancy requirements. */
static void check_catalog_counts(struct run *r)
{
    const struct cfg_server *s = r->s;
    if (!need_catalog(r, "failed backups"))
        return;
    size_t failed = 0, done = 0;
    for (size_t i = 0; i < r->cat.list.n; i++) {
        if (r->cat.list.failed[i])
            continue;
        if (r->cat.list.items[i].status == CAT_FAILED)
            failed++;
        if (r->cat.list.items[i].status == CAT_DONE)
            done++;
    }
    struct op_check_item *it = add(r, "failed backups", failed == 0);
    hint(it, "there are %zu failed backups", failed);
    if (failed)
        fix(it,
            "see why with 'cellar show-backup %s last-failed', then remove each failed backup "
            "with 'cellar delete %s BACKUP_ID'",
            s->name, s->name);
    size_t want = s->minimum_redundancy > 0 ? (size_t)s->minimum_redundancy : 0;
    it = add(r, "minimum redundancy requirements", done >= want);
    hint(it, "have %zu backups, expected at least %zu", done, want);
    if (done < want && s->cloud_source)
        fix(it, "take %zu more backup%s with cellar cloud-backup or barman-cloud-backup on the "
                "PostgreSQL host", want - done, want - done == 1 ? "" : "s");
    else if (done < want)
        fix(it, "take %zu more backup%s: cellar backup %s", want - done,
            want - done == 1 ? "" : "s", s->name);
}

/* remote rsync: rsync runs on the host of ssh_command. */
static void remote_rsync(struct run *r)
{
    if (expired(r))
        return;
    const char *argv[] = {"rsync", "--version", NULL};
    struct cel_err err = {0};
    if (rsync_remote_run_timed(r->s->ssh_command, NULL, argv, remaining_ms(r), NULL, &err) < 0) {
        struct op_check_item *it = add(r, "remote rsync", false);
        hint(it, "%s", err.msg);
        fix(it, "install rsync on the PostgreSQL host (apt-get install rsync)");
    } else {
        add(r, "remote rsync", true);
    }
}

/* The copy: ssh (+ ssh output clean, remote rsync) or local PGDATA, and
 * rsync here. */
static void check_method(struct run *r)
{
    const struct cfg_server *s = r->s;
    struct op_check_item *it;
    if (s->backup_method == CFG_BM_SNAPSHOT) {
        it = add(r, "backup method", false);
        hint(it, "backup_method = snapshot is not supported by cellar yet");
        fix(it, "set backup_method = rsync (with ssh_command), local-rsync or postgres");
        return;
    }
    if (s->backup_method == CFG_BM_POSTGRES) {
        /* pg_basebackup copies through the replication connection: no
         * ssh, no rsync */
        if (r->opts->connect)
            check_pg_basebackup(r);
        return;
    }
    if (s->ssh_command && s->ssh_command[0]) {
        if (!r->opts->connect || expired(r))
            return;
        const char *true_argv[] = {"true", NULL};
        char *out = NULL;
        struct cel_err err = {0};
        if (rsync_remote_run_timed(s->ssh_command, s->path_prefix, true_argv, remaining_ms(r), &out,
                                   &err) < 0) {
            bool have_key = false;
            char *key = own_public_key(&have_key);
            const char *me = whoami();
            it = add(r, "ssh", false);
            hint(it, "%s", err.msg);
            /* as the tutorial sets it up: the key of the user running
             * cellar (barman) in the authorized_keys of the remote user
             * (postgres) on the database host */
            fix(it,
                "run '%s true' by hand as %s: it must log in without a password or a "
                "question: %s%s's public key %s to ~%s/.ssh/authorized_keys on %s and accept "
                "its host key, or correct ssh_command",
                s->ssh_command, me,
                have_key ? "append " : "make a key without a passphrase (ssh-keygen), append ", me,
                key, s->ssh_user ? s->ssh_user : me,
                s->ssh_host ? s->ssh_host : "the remote host");
            free(key);
        } else {
            it = add(r, "ssh", true);
            hint(it, "PostgreSQL server");
            if (out && out[0]) {
                it = add(r, "ssh output clean", false);
                hint(it, "the configured ssh_command must not add anything to the remote command "
                         "output");
                fix(it, "remove what prints text at login from the remote user's shell startup "
                        "files (~/.bashrc, ~/.profile)");
            }
            free(out);
            remote_rsync(r);
        }
    } else {
        const char *pgdata = status_get(r, "data_directory");
        if (pgdata) {
            if (access(pgdata, R_OK | X_OK) == 0) {
                it = add(r, "local PGDATA", true);
                hint(it, "Access to local PGDATA");
            } else {
                int e = errno;
                it = add(r, "local PGDATA", false);
                hint(it, "'%s': %s", pgdata, strerror(e));
                fix(it,
                    "let %s read '%s' (initdb --allow-group-access or chmod -R g+rX, and %s "
                    "in PostgreSQL's group), or copy over ssh: set ssh_command = ssh "
                    "postgres@localhost and backup_method = rsync",
                    whoami(), pgdata, whoami());
            }
        }
    }
    if (expired(r))
        return;
    const char *argv[] = {"rsync", "--version", NULL};
    struct proc_result res = {0};
    struct cel_err err = {0};
    int rc = proc_run(argv,
                      &(struct proc_opts){.path_prefix = s->path_prefix,
                                          .out_mode = PROC_DISCARD,
                                          .timeout_ms = remaining_ms(r)},
                      &res, &err);
    if (rc < 0 || res.status != 0) {
        it = add(r, "rsync", false);
        if (rc < 0)
            hint(it, "%s", err.msg);
        else
            hint(it, "'rsync --version' exited with status %d", res.status);
        fix(it, "install rsync (apt-get install rsync), or set path_prefix to the directory that "
                "holds it");
    } else {
        add(r, "rsync", true);
    }
    proc_result_free(&res);
}

/* configuration (shown only on failure): the server's configuration errors. */
static void check_configuration(struct run *r)
{
    const struct cfg *cfg = r->ctx->cfg;
    struct strbuf lines = {0};
    for (size_t i = 0; i < cfg->n_diags; i++) {
        const struct cfg_diag *d = &cfg->diags[i];
        if (d->level == CFG_ERROR && d->server && strcmp(d->server, r->s->name) == 0)
            sb_appendf(&lines, "%s%s", lines.len ? "\n" : "", d->text);
    }
    if (lines.len || r->s->disabled) {
        struct op_check_item *it = add(r, "configuration", false);
        if (lines.len)
            it->detail = sb_detach(&lines);
        fix(it, "correct these settings of [%s]; the server is disabled until then", r->s->name);
    }
    sb_free(&lines);
}

/* systemid coherence: the server is the one whose backups are here. */
static void check_identity(struct run *r)
{
    if (!r->opts->connect)
        return;
    struct op_check_item *it;
    const char *live = status_get(r, "postgres_systemid");
    if (!live) {
        it = add(r, "systemid coherence", true);
        hint(it, "no system Id available");
        return;
    }
    uint64_t stored = op_server_sysid(r->s);
    if (!stored) {
        it = add(r, "systemid coherence", true);
        hint(it, "no system Id stored on disk");
        return;
    }
    if (strtoull(live, NULL, 10) == stored) {
        add(r, "systemid coherence", true);
        return;
    }
    it = add(r, "systemid coherence", false);
    hint(it,
         "the system Id of the connected PostgreSQL server changed, stored in "
         "\"%s/identity.json\"",
         r->s->backup_directory);
    fix(it, "conninfo reaches another cluster than the one backed up so far: correct conninfo, or "
            "give that cluster a server section of its own");
}

/* primary_conninfo (backups from a standby): conninfo must reach a
 * standby, and primary_conninfo its primary, of the same system. */
static void check_primary(struct run *r)
{
    const struct cfg_server *s = r->s;
    if (!s->primary_conninfo || !r->opts->connect || !r->have_status)
        return;
    struct op_check_item *it;
    const char *rec = status_get(r, "is_in_recovery");
    if (!rec || strcmp(rec, "True") != 0) {
        it = add(r, "primary_conninfo", false);
        hint(it, "conninfo points at a primary, not a standby");
        fix(it, "point conninfo at the standby to back up, or remove primary_conninfo from [%s]",
            s->name);
        return;
    }
    struct pg_conn *primary = NULL;
    struct cel_err err = {0};
    if (op_primary_connect(s, status_get(r, "postgres_systemid"), &primary, &err) < 0) {
        it = add(r, "primary_conninfo", false);
        hint(it, "%s", err.msg);
        fix(it, "point primary_conninfo at the primary the standby streams from");
        return;
    }
    pg_close(primary);
    add(r, "primary_conninfo", true);
}

/* archive_mode, archive_command, continuous archiving. */
static void check_archiver(struct run *r)
{
    const struct cfg_server *s = r->s;
    const char *mode = status_get(r, "archive_mode");
    if (!s->archiver || !mode)
        return;
    struct op_check_item *it;
    bool mode_on = strcmp(mode, "on") == 0 || strcmp(mode, "always") == 0;
    if (mode_on) {
        add(r, "archive_mode", true);
    } else {
        it = add(r, "archive_mode", false);
        hint(it, "please set it to 'on' or 'always'");
        fix(it, "set archive_mode = on in postgresql.conf and restart PostgreSQL");
    }
    const char *command = status_get(r, "archive_command");
    if (!command || !command[0] || strcmp(command, "(disabled)") == 0) {
        it = add(r, "archive_command", false);
        hint(it, "please set it accordingly to documentation");
        /* PostgreSQL shows "(disabled)" while archive_mode is off */
        if (command && strcmp(command, "(disabled)") == 0 && !mode_on)
            fix(it, "archive_mode is off: set archive_mode = on in postgresql.conf and restart "
                    "PostgreSQL");
        else
            fix(it,
                "set archive_command = 'cellar put-wal %s %%p' in postgresql.conf and reload "
                "PostgreSQL (SELECT pg_reload_conf())",
                s->name);
        return;
    }
    add(r, "archive_command", true);
    const char *archiving = status_get(r, "is_archiving");
    if (!archiving)
        return;
    if (strcmp(archiving, "True") == 0) {
        add(r, "continuous archiving", true);
        return;
    }
    it = add(r, "continuous archiving", false);
    if (!mode_on) {
        hint(it, "archive_mode is %s", mode);
        fix(it, "set archive_mode = on in postgresql.conf and restart PostgreSQL");
        return;
    }
    const char *failed = status_get(r, "last_failed_wal");
    const char *failed_at = status_get(r, "last_failed_time");
    const char *done = status_get(r, "last_archived_wal");
    const char *done_at = status_get(r, "last_archived_time");
    hint(it, "last failure: %s at %s; last success: %s%s%s", failed ? failed : "-",
         failed_at ? failed_at : "-", done ? done : "none", done_at ? " at " : "",
         done_at ? done_at : "");
    fix(it,
        "read the archive_command errors in PostgreSQL's log and remove their cause; then "
        "'cellar switch-wal --force --archive %s' shows whether archiving works",
        s->name);
}

/* The streaming archiver's checks, Barman's names: pg_receivexlog (found),
 * pg_receivexlog compatible (not older than the server), receive-wal
 * running (someone holds the receive-wal lock); and cellar's
 * max_wal_senders (the receiver needs a WAL sender of its own). */
static void check_streaming_archiver(struct run *r)
{
    const struct cfg_server *s = r->s;
    if (!s->streaming_archiver)
        return;
    long version = 0;
    const char *v = status_get(r, "version");
    if (v)
        version = strtol(v, NULL, 10);
    const char *tool_name = version && version < 100000 ? "pg_receivexlog" : "pg_receivewal";
    struct op_check_item *it;
    struct op_pg_tool tool;
    if (expired(r))
        return;
    if (op_pg_tool_find(tool_name, version, s->path_prefix, &tool) < 0) {
        it = add(r, "pg_receivexlog", false);
        fix(it,
            "install PostgreSQL's client programs (postgresql-client-%ld on Debian), or add "
            "the directory of %s to path_prefix",
            version ? version / 10000 : 15, tool_name);
    } else {
        add(r, "pg_receivexlog", true);
        bool compatible = !version || !tool.version || tool.version / 100 >= version / 100;
        it = add(r, "pg_receivexlog compatible", compatible);
        if (!compatible) {
            hint(it, "PostgreSQL version: %s, pg_receivexlog version: %s",
                 status_get(r, "server_txt_version") ? status_get(r, "server_txt_version")
                                                     : "unknown",
                 tool.version_text);
            fix(it,
                "install the client programs of PostgreSQL %ld or later and put their "
                "directory in path_prefix",
                version / 10000);
        }
        op_pg_tool_free(&tool);
    }
    pid_t holder = 0;
    if (op_server_lock_probe(r->ctx, s, "receive-wal", &holder, NULL) == 1) {
        add(r, "receive-wal running", true);
    } else {
        it = add(r, "receive-wal running", false);
        hint(it, "See the Barman log file for more details");
        fix(it,
            "run 'cellar cron' (from cron every minute: it starts and restarts the receiver), "
            "and read the receiver's messages in the log");
    }
    const char *senders = status_get(r, "max_wal_senders");
    if (senders) {
        long n = strtol(senders, NULL, 10);
        it = add(r, "max_wal_senders", n > 0);
        if (n <= 0) {
            hint(it, "max_wal_senders is %s: no WAL sender is left for receive-wal", senders);
            fix(it, "set max_wal_senders = 10 in postgresql.conf and restart PostgreSQL");
        }
    }
}

/* archiver errors: nothing rejected into errors/ since the last backup
 * started (files stay there until the DBA moves them; older ones are
 * counted in the reason, not as a failure). */
static void check_archiver_errors(struct run *r)
{
    const char *dir = r->s->errors_directory;
    struct stor_names names = {0};
    if (!dir || stor_list_dir(dir, NULL, NULL, &names, NULL) < 0) {
        add(r, "archiver errors", true);
        return;
    }
    double since = 0;
    if (r->have_cat && r->last >= 0 && r->cat.list.items[r->last].begin_time.set)
        since = ts_epoch(&r->cat.list.items[r->last].begin_time.t);
    const char **recent = cel_xcalloc(names.n + 1, sizeof *recent);
    size_t n_recent = 0, older = 0;
    for (size_t i = 0; i < names.n; i++) {
        char *path = cel_xasprintf("%s/%s", dir, names.names[i]);
        struct stat st;
        /* the ctime of a file moved into errors/ is when it was moved */
        if (stat(path, &st) == 0 && (double)st.st_ctime < since)
            older++;
        else
            recent[n_recent++] = names.names[i];
        free(path);
    }
    struct op_check_item *it = add(r, "archiver errors", n_recent == 0);
    if (n_recent) {
        struct strbuf h = {0};
        op_check_errors_summary(recent, n_recent, &h);
        it->hint = sb_detach(&h);
        fix(it,
            "look at the files in '%s' (.duplicate: differs from the archived WAL of that "
            "name; .invalid: content does not match the name; .unknown: not a WAL file name) "
            "and move them out once understood",
            dir);
    } else if (older) {
        hint(it, "%zu older file%s, from before the last backup", older, older == 1 ? "" : "s");
    }
    free(recent);
    stor_names_free(&names);
}

/* The copy in cloud_destination (cloud/cloud_copy.c): the bucket answers,
 * the last upload is recent enough. */
static void check_cloud(struct run *r)
{
    op_cloud_copy_check(r->ctx, r->s, r->r);
}

/* ---- running them ------------------------------------------------------------ */

/* ---- a bucket server (cloud_source) ---------------------------------------- */

/* bucket: its catalogue read from the store with the server's credentials. */
static void check_bucket(struct run *r)
{
    struct op_check_item *it = add(r, "bucket", r->have_cat);
    if (r->have_cat) {
        hint(it, "%s", r->s->cloud_source);
        return;
    }
    hint(it, "%s", r->cat_err.msg);
    if (r->cat_err.hint[0])
        fix(it, "%s", r->cat_err.hint);
    else
        fix(it, "check cloud_source, cloud_endpoint_url, cloud_profile and the credentials of "
                "%s",
            whoami());
}

/* WAL archive: the bucket holds WAL, and the segments of the newest backup
 * (its begin_wal and end_wal) are there. */
static void check_bucket_wal(struct run *r)
{
    if (!r->have_cat)
        return;
    const struct xdb *x = &r->cat.xdb;
    const struct cat_backup *b = r->last >= 0 ? &r->cat.list.items[r->last] : NULL;
    const char *missing = NULL;
    if (b && b->begin_wal && !xdb_find(x, b->begin_wal))
        missing = b->begin_wal;
    else if (b && b->end_wal && !xdb_find(x, b->end_wal))
        missing = b->end_wal;
    struct op_check_item *it = add(r, "WAL archive", x->n > 0 && !missing);
    if (x->n == 0)
        hint(it, "no WAL file in the bucket");
    else if (missing)
        hint(it, "WAL file %s of backup %s is not in the bucket", missing, b->id);
    else
        hint(it, "%zu WAL files", x->n);
    if (!it->ok)
        fix(it, "make PostgreSQL archive into the bucket (archive_command = 'cellar "
                "cloud-wal-archive ... %s %s %%p' or barman-cloud-wal-archive)",
            r->s->cloud_source, r->s->cloud_server_name);
}

typedef void (*check_fn)(struct run *r);

void op_check_server(const struct op_ctx *ctx, const struct cfg_server *s,
                     const struct op_check_opts *opts, struct op_check_report *out)
{
    static const check_fn checks[] = {
        check_wal_archive,      check_incoming,     check_streaming_dir,
        check_postgres,         check_directories,  check_disk,
        check_retention,        check_backups_age_size, check_encryption,
        check_wal_validity,     check_compression,  check_catalog_counts,
        check_method,           check_configuration, check_identity,
        check_primary,          check_streaming_archiver, check_archiver,
        check_archiver_errors,  check_cloud,
    };
    /* a bucket server: no PostgreSQL and no local directory to check */
    static const check_fn bucket_checks[] = {
        check_bucket,           check_retention,      check_backups_age_size,
        check_wal_validity,     check_catalog_counts, check_bucket_wal,
    };
    const check_fn *list = s->cloud_source ? bucket_checks : checks;
    size_t n_checks = s->cloud_source ? CEL_ARRAY_LEN(bucket_checks) : CEL_ARRAY_LEN(checks);
    memset(out, 0, sizeof *out);
    out->server = s->name;
    out->active = s->active;
    out->disabled = s->disabled;
    struct run r = {.ctx = ctx, .s = s, .opts = opts, .r = out, .last = -1};
    r.timeout_s = opts->timeout_s > 0       ? opts->timeout_s
                  : s->check_timeout > 0 ? s->check_timeout
                                         : 30;
    r.deadline_ms = ts_monotonic_ms() + (int64_t)r.timeout_s * 1000;
    if (op_catalog_load(ctx, s, true, &r.cat, &r.cat_err) == 0) {
        r.have_cat = true;
        for (size_t i = r.cat.list.n; i-- > 0;)
            if (!r.cat.list.failed[i] && cat_status_copy_done(r.cat.list.items[i].status)) {
                r.last = (int)i;
                break;
            }
    }
    bool timed_out = false;
    for (size_t i = 0; i < n_checks; i++) {
        if (ts_monotonic_ms() >= r.deadline_ms) {
            timed_out = true;
            break;
        }
        list[i](&r);
    }
    if (timed_out || ts_monotonic_ms() > r.deadline_ms) {
        struct op_check_item *it = add(&r, "check timeout", false);
        hint(it, "cellar check timed out after %d s", r.timeout_s);
        fix(it,
            "find what is slow (PostgreSQL, ssh, a compression filter), or raise "
            "check_timeout or --check-timeout (now %d s)",
            r.timeout_s);
    }
    if (r.have_cat)
        op_catalog_free(&r.cat);
    pg_status_free(&r.st);
    pg_close(r.conn);
    free(r.role);
}

void op_check_report_free(struct op_check_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].name);
        free(r->items[i].hint);
        free(r->items[i].fix);
        free(r->items[i].detail);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

size_t op_check_failures(const struct op_check_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += !r->items[i].ok;
    return n;
}

/* ---- pure parts (unit-tested) ----------------------------------------------- */

bool op_check_backup_age(const struct cat_list *list, double now, int64_t max_seconds,
                         struct strbuf *hint_out)
{
    sb_append(hint_out, "interval provided: ");
    ts_human_delta((double)max_seconds, hint_out);
    sb_append(hint_out, ", latest backup age: ");
    const struct cat_backup *last = NULL;
    for (size_t i = list->n; i-- > 0;)
        if (!list->failed[i] && cat_status_copy_done(list->items[i].status)) {
            last = &list->items[i];
            break;
        }
    if (!last) {
        sb_append(hint_out, "No available backups");
        return false;
    }
    if (!last->end_time.set) {
        sb_appendf(hint_out, "unknown (backup %s has no end_time)", last->id ? last->id : "?");
        return false;
    }
    double end = ts_epoch(&last->end_time.t);
    ts_human_delta(now - end, hint_out);
    return end >= ts_local_minus(now, max_seconds);
}

void op_check_errors_summary(const char *const *names, size_t n, struct strbuf *out)
{
    static const struct {
        const char *suffix, *label;
    } kinds[] = {{".error", "not relevant"},
                 {".duplicate", "duplicates"},
                 {".unknown", "unknown"},
                 {".invalid", "invalid"}};
    const char *labels[CEL_ARRAY_LEN(kinds) + 1];
    size_t counts[CEL_ARRAY_LEN(kinds) + 1] = {0};
    size_t order[CEL_ARRAY_LEN(kinds) + 1], n_order = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < CEL_ARRAY_LEN(kinds) && !cel_str_ends(names[i], kinds[k].suffix))
            k++;
        labels[k] = k < CEL_ARRAY_LEN(kinds) ? kinds[k].label : "unknown failure";
        if (counts[k]++ == 0)
            order[n_order++] = k;
    }
    for (size_t i = 0; i < n_order; i++)
        sb_appendf(out, "%s%s: %zu", i ? ", " : "", labels[order[i]], counts[order[i]]);
}

/* Barman's JSON key for a check name. */
static void mangle(const char *name, struct strbuf *out)
{
    for (const char *p = name; *p; p++) {
        if (*p == '.')
            continue;
        char c = *p == ' ' || *p == '-' ? '_' : *p;
        sb_appendc(out, (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
}

json_t *op_check_json(const struct op_check_report *r)
{
    json_t *o = json_object();
    for (size_t i = 0; i < r->n; i++) {
        const struct op_check_item *it = &r->items[i];
        json_t *c = json_pack("{s:s, s:s}", "status", it->ok ? "OK" : "FAILED", "hint",
                              it->hint ? it->hint : "");
        if (it->fix)
            json_object_set_new(c, "fix", json_string(it->fix));
        if (it->detail) {
            json_t *lines = json_array();
            for (const char *p = it->detail; *p;) {
                size_t len = strcspn(p, "\n");
                json_array_append_new(lines, json_stringn(p, len));
                p += len + (p[len] == '\n');
            }
            json_object_set_new(c, "details", lines);
        }
        struct strbuf key = {0};
        mangle(it->name, &key);
        json_object_set_new(o, sb_str(&key), c);
        sb_free(&key);
    }
    return o;
}

bool op_check_nagios(const struct op_check_report *reports, size_t n, struct strbuf *out)
{
    struct strbuf perf = {0}, summary = {0}, details = {0}, ignoring = {0}, good = {0};
    size_t issues = 0, n_good = 0;
    bool critical = false;
    const char *first_good = NULL, *first_issue = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct op_check_report *r = &reports[i];
        for (size_t j = 0; j < r->n; j++) {
            const struct op_check_item *it = &r->items[j];
            if (it->has_perf && strcmp(it->name, "backup minimum size") == 0)
                sb_appendf(&perf, "%s%s=%" PRIu64 "B", perf.len ? " " : "", r->server, it->perf);
            if (it->has_perf && strcmp(it->name, "wal size") == 0)
                sb_appendf(&perf, "%s%s_wals=%" PRIu64 "B", perf.len ? " " : "", r->server,
                           it->perf);
        }
        if (op_check_failures(r) == 0) {
            sb_appendf(&good, "%s%s", n_good ? " * " : "", r->server);
            if (!n_good++)
                first_good = r->server;
            continue;
        }
        if (!issues++)
            first_issue = r->server;
        if (r->active)
            critical = true;
        sb_appendf(&ignoring, " * IGNORING: %s", r->server);
        sb_appendf(&summary, "%s%s FAILED: ", summary.len ? " * " : "", r->server);
        size_t k = 0;
        for (size_t j = 0; j < r->n; j++) {
            const struct op_check_item *it = &r->items[j];
            if (it->ok)
                continue;
            sb_appendf(&summary, "%s%s", k++ ? ", " : "", it->name);
            sb_appendf(&details, "%s.%s: FAILED", r->server, it->name);
            if (it->hint)
                sb_appendf(&details, " (%s)", it->hint);
            sb_appendc(&details, '\n');
        }
    }
    const char *perf_sep = perf.len ? "|" : "";
    if (critical) {
        if (n == 1)
            sb_appendf(out, "BARMAN CRITICAL - server %s has issues * %s%s%s\n", first_issue,
                       sb_str(&summary), perf_sep, sb_str(&perf));
        else
            sb_appendf(out, "BARMAN CRITICAL - %zu server out of %zu have issues * %s%s%s\n",
                       issues, n, sb_str(&summary), perf_sep, sb_str(&perf));
        sb_append(out, sb_str(&details));
    } else if (n_good == 0) {
        sb_appendf(out, "BARMAN OK - No server configured%s\n", sb_str(&ignoring));
    } else if (n_good == 1) {
        sb_appendf(out, "BARMAN OK - Ready to serve the Espresso backup for %s%s%s%s\n", first_good,
                   sb_str(&ignoring), perf_sep, sb_str(&perf));
    } else {
        sb_appendf(out,
                   "BARMAN OK - Ready to serve the Espresso backup for %zu servers * %s%s%s%s\n",
                   n_good, sb_str(&good), sb_str(&ignoring), perf_sep, sb_str(&perf));
    }
    sb_free(&perf);
    sb_free(&summary);
    sb_free(&details);
    sb_free(&ignoring);
    sb_free(&good);
    return critical;
}

/* ---- the command ----------------------------------------------------------------- */

static void render_text(const void *p, struct strbuf *out)
{
    const struct op_check_report *r = p;
    sb_appendf(out, "Server %s%s:\n", r->server,
               !r->active    ? " (inactive)"
               : r->disabled ? " (WARNING: disabled)"
                             : "");
    for (size_t i = 0; i < r->n; i++) {
        const struct op_check_item *it = &r->items[i];
        sb_appendf(out, "\t%s: %s", it->name, it->ok ? "OK" : "FAILED");
        if (it->hint)
            sb_appendf(out, " (%s)", it->hint);
        sb_appendc(out, '\n');
        for (const char *d = it->detail; d && *d;) {
            size_t len = strcspn(d, "\n");
            sb_appendf(out, "\t\t%.*s\n", (int)len, d);
            d += len + (d[len] == '\n');
        }
        if (it->fix && !it->ok)
            sb_appendf(out, "\t\tfix: %s\n", it->fix);
    }
}

static json_t *render_json(const void *p)
{
    const struct op_check_report *r = p;
    return json_pack("{s:o}", r->server, op_check_json(r));
}

struct nagios_model {
    const char *text;
    bool critical;
};

static void nagios_text(const void *p, struct strbuf *out)
{
    sb_append(out, ((const struct nagios_model *)p)->text);
}

static json_t *nagios_json(const void *p)
{
    const struct nagios_model *m = p;
    return json_pack("{s:s, s:s}", "status", m->critical ? "CRITICAL" : "OK", "output", m->text);
}

static void nagios_result(const struct op_ctx *ctx, const char *text, bool critical)
{
    struct nagios_model m = {text, critical};
    struct op_result result = {"check", &m, nagios_text, nagios_json};
    op_result(ctx, &result);
}

int op_check(const struct op_ctx *ctx, const struct op_check_req *req, struct cel_err *err)
{
    const struct cfg_server **servers = NULL;
    size_t n = 0;
    int rc = 0;
    for (size_t a = 0; rc == 0 && a < req->n_servers; a++) {
        const struct cfg_server **some = NULL;
        size_t k = 0;
        rc = op_select_servers(ctx, req->servers[a], true, &some, &k, NULL, err);
        servers = cel_xrealloc_array(servers, n + k + 1, sizeof *servers);
        for (size_t i = 0; i < k; i++)
            servers[n++] = some[i];
        free(some);
    }
    if (rc < 0) {
        free(servers);
        if (!req->nagios)
            return rc;
        char *msg = cel_xstrdup(err->msg);
        char *line = cel_xasprintf("BARMAN CRITICAL - %s\n", msg);
        nagios_result(ctx, line, true);
        rc = cel_err_set(err, CEL_E_CHECK_CRITICAL, "%s", msg);
        free(line);
        free(msg);
        return rc;
    }
    struct op_check_report *reports = cel_xcalloc(n + 1, sizeof *reports);
    const struct op_check_opts opts = {
        .create_dirs = true, .connect = true, .timeout_s = req->timeout_s};
    struct strbuf failing = {0};
    size_t n_failing = 0, n_failed_checks = 0;
    for (size_t i = 0; i < n; i++) {
        op_check_server(ctx, servers[i], &opts, &reports[i]);
        size_t f = op_check_failures(&reports[i]);
        if (f && reports[i].active) {
            sb_appendf(&failing, "%s%s", n_failing++ ? ", " : "", reports[i].server);
            n_failed_checks += f;
        }
        if (!req->nagios) {
            struct op_result result = {"check", &reports[i], render_text, render_json};
            op_result(ctx, &result);
        }
    }
    rc = 0;
    if (req->nagios) {
        struct strbuf text = {0};
        bool critical = op_check_nagios(reports, n, &text);
        nagios_result(ctx, sb_str(&text), critical);
        sb_free(&text);
        if (critical)
            rc = cel_err_set(err, CEL_E_CHECK_CRITICAL, "check failed on %s", sb_str(&failing));
    } else if (n_failing) {
        rc = cel_err_set(err, CEL_E_CHECK, "%zu check%s failed on %s %s", n_failed_checks,
                         n_failed_checks == 1 ? "" : "s", n_failing == 1 ? "server" : "servers",
                         sb_str(&failing));
        cel_err_hint(err, "The line under each FAILED check says how to fix it.");
    }
    sb_free(&failing);
    for (size_t i = 0; i < n; i++)
        op_check_report_free(&reports[i]);
    free(reports);
    free(servers);
    return rc;
}
