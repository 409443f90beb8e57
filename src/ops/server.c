/*
 * server.c - a server as the ops find it: its directories, created with
 * mode 0700 when missing, the path of a backup and the archived path of a
 * WAL file (Barman's hash directories); its operation locks, named as
 * Barman names them; its system identifier from identity.json; its
 * compression options; and the PostgreSQL tools (pg_controldata,
 * pg_verifybackup, ...) that Debian keeps out of PATH, found by version.
 */
#include <dirent.h>
#include <jansson.h>
#include <unistd.h>

#include "pg.h"
#include "proc.h"
#include "server.h"
#include "storage.h"
#include "wal.h"

struct xdb_home op_xdb_home(const struct cfg *cfg, const struct cfg_server *s)
{
    static const enum xdb_format formats[] = {
        [CFG_XDB_AUTO] = XDB_FORMAT_AUTO,
        [CFG_XDB_3_4] = XDB_FORMAT_3_4,
        [CFG_XDB_3_13] = XDB_FORMAT_3_13,
        [CFG_XDB_3_14] = XDB_FORMAT_3_14,
    };
    return (struct xdb_home){
        .server = s->name,
        .wals_dir = s->wals_directory,
        .xlogdb_dir = s->xlogdb_directory,
        .xlogdb_dir_set = s->xlogdb_directory_set,
        .lock_dir = cfg->global.barman_lock_directory,
        .format = formats[s->cellar_xlogdb_format],
    };
}

void op_comp_opts(const struct cfg_server *s, struct comp_opts *out)
{
    /* every value was parsed at load: this only copies */
    const struct cfg_magic *magic = &s->custom_compression_magic;
    *out = (struct comp_opts){
        .custom_compress = s->custom_compression_filter,
        .custom_decompress = s->custom_decompression_filter,
        .custom_magic = magic->len ? magic->bytes : NULL,
        .custom_magic_len = magic->len,
        .path_prefix = s->path_prefix,
    };
}

uint64_t op_server_sysid(const struct cfg_server *s)
{
    char *path = cel_xasprintf("%s/identity.json", s->backup_directory);
    json_t *doc = json_load_file(path, 0, NULL);
    free(path);
    const char *text = json_string_value(json_object_get(doc, "systemid"));
    uint64_t sysid = text ? strtoull(text, NULL, 10) : 0;
    json_decref(doc);
    return sysid;
}

int op_server_dirs(const struct cfg_server *s, struct cel_err *err)
{
    const char *dirs[] = {s->incoming_wals_directory, s->wals_directory, s->errors_directory,
                          s->basebackups_directory};
    for (size_t i = 0; i < CEL_ARRAY_LEN(dirs); i++) {
        int rc = stor_mkdir_p(dirs[i], 0700, err);
        if (rc < 0)
            return rc;
    }
    if (s->streaming_archiver)
        return stor_mkdir_p(s->streaming_wals_directory, 0700, err);
    return 0;
}

char *op_backup_dir(const struct cfg_server *s, const char *id, const char *sub)
{
    if (sub)
        return cel_xasprintf("%s/%s/%s", s->basebackups_directory, id, sub);
    return cel_xasprintf("%s/%s", s->basebackups_directory, id);
}

int op_server_lock(const struct op_ctx *ctx, const struct cfg_server *s, const char *op,
                   bool wait, struct lock **out, struct cel_err *err)
{
    char name[LOCK_NAME_MAX];
    lock_name(s->name, op, name);
    return lock_acquire(ctx->cfg->global.barman_lock_directory, name, wait, out, err);
}

int op_server_lock_probe(const struct op_ctx *ctx, const struct cfg_server *s, const char *op,
                         pid_t *holder, struct cel_err *err)
{
    char name[LOCK_NAME_MAX];
    lock_name(s->name, op, name);
    return lock_probe(ctx->cfg->global.barman_lock_directory, name, holder, err);
}

void op_server_lock_remove(const struct op_ctx *ctx, const struct cfg_server *s, const char *op)
{
    char name[LOCK_NAME_MAX];
    lock_name(s->name, op, name);
    char *path = cel_xasprintf("%s/%s", ctx->cfg->global.barman_lock_directory, name);
    unlink(path);
    free(path);
}

char *op_wal_path(const struct cfg_server *s, const char *name)
{
    char hash[17];
    wal_hash_dir(name, hash, NULL);
    if (hash[0])
        return cel_xasprintf("%s/%s/%s", s->wals_directory, hash, name);
    return cel_xasprintf("%s/%s", s->wals_directory, name);
}

char *op_pg_tool(const char *tool, long version)
{
    if (version >= 100000) {
        char *path = cel_xasprintf("/usr/lib/postgresql/%ld/bin/%s", version / 10000, tool);
        if (stor_is_file(path))
            return path;
        free(path);
    }
    DIR *d = opendir("/usr/lib/postgresql");
    if (!d)
        return NULL;
    long best = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long major = strtol(e->d_name, NULL, 10);
        char *path = cel_xasprintf("/usr/lib/postgresql/%s/bin/%s", e->d_name, tool);
        if (major > best && stor_is_file(path))
            best = major;
        free(path);
    }
    closedir(d);
    return best ? cel_xasprintf("/usr/lib/postgresql/%ld/bin/%s", best, tool) : NULL;
}

char *op_controldata_field(const char *data, long version, const char *path_prefix,
                           const char *field)
{
    char *tool = op_pg_tool("pg_controldata", version);
    const char *argv[] = {tool ? tool : "pg_controldata", "-D", data, NULL};
    struct proc_opts o = {.path_prefix = path_prefix,
                          .err_mode = PROC_DISCARD,
                          .env = (const char *const[]){"LC_ALL=C", NULL}};
    struct proc_result res = {0};
    char *value = NULL;
    if (proc_run(argv, &o, &res, NULL) == 0 && res.status == 0 && res.out) {
        size_t flen = strlen(field);
        for (const char *line = res.out; line && *line; line = strchr(line, '\n')) {
            line += *line == '\n';
            if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
                const char *v = line + flen + 1;
                v += strspn(v, " \t");
                value = cel_xstrndup(v, strcspn(v, "\n"));
                break;
            }
        }
    }
    proc_result_free(&res);
    free(tool);
    return value;
}

int op_pg_tool_find(const char *tool, long version, const char *path_prefix,
                    struct op_pg_tool *out)
{
    memset(out, 0, sizeof *out);
    char *path = NULL;
    long full = 0;
    struct cel_err err = {0};
    if (op_pg_program(tool, path_prefix, version, 0, &path, &full, &err) < 0)
        return -1;
    char text[32];
    op_pg_version_text(full, text);
    out->path = path;
    out->version_text = cel_xasprintf("%s (PostgreSQL) %s", tool, text);
    /* the major release, as a server_version_num: 150000, 90600 */
    out->version = full >= 100000 ? full / 10000 * 10000 : full / 100 * 100;
    return 0;
}

void op_pg_tool_free(struct op_pg_tool *t)
{
    free(t->path);
    free(t->version_text);
    memset(t, 0, sizeof *t);
}

int op_primary_connect(const struct cfg_server *s, const char *standby_sysid,
                       struct pg_conn **out, struct cel_err *err)
{
    *out = NULL;
    struct cel_err perr = {0};
    if (pg_connect(s->primary_conninfo, s->check_timeout, out, &perr) < 0) {
        pg_close(*out);
        *out = NULL;
        return cel_err_set(err, CEL_E_PG, "cannot connect to the primary (primary_conninfo): %s",
                           perr.msg);
    }
    struct pg_rows rows;
    int rc = pg_query(*out,
                      "SELECT pg_is_in_recovery()::text AS in_recovery, "
                      "(SELECT system_identifier::text FROM pg_control_system()) AS systemid",
                      NULL, 0, &rows, err);
    if (rc == 0) {
        const char *rec = pg_rows_get(&rows, 0, "in_recovery");
        const char *sysid = pg_rows_get(&rows, 0, "systemid");
        if (!rec || strcmp(rec, "false") != 0)
            rc = cel_err_set(err, CEL_E_CONFIG,
                             "server %s: primary_conninfo points at a server in recovery: it "
                             "must be the primary of the standby conninfo points at",
                             s->name);
        else if (!sysid || !standby_sysid || strcmp(sysid, standby_sysid) != 0)
            rc = cel_err_set(err, CEL_E_CONFIG,
                             "server %s: primary_conninfo's system identifier %s is not the "
                             "standby's %s: they are not the same cluster",
                             s->name, sysid ? sysid : "(none)",
                             standby_sysid ? standby_sysid : "(none)");
        pg_rows_free(&rows);
    }
    if (rc < 0) {
        pg_close(*out);
        *out = NULL;
    }
    return rc;
}

/* The version in "pg_basebackup (PostgreSQL) 15.18 (Debian 15.18-1.pgdg120+1)"
 * as a server_version_num; 0 when there is none. */
static long parse_tool_version(const char *out)
{
    const char *p = strstr(out, ") ");
    if (!p)
        return 0;
    p += 2;
    char *end;
    long major = strtol(p, &end, 10);
    if (end == p || major <= 0)
        return 0;
    long minor = 0, patch = 0;
    if (*end == '.') {
        minor = strtol(end + 1, &end, 10);
        if (*end == '.')
            patch = strtol(end + 1, &end, 10);
    }
    /* 10 and later: major.minor; before: major.minor.patch */
    return major >= 10 ? major * 10000 + minor : major * 10000 + minor * 100 + patch;
}

/* Run "path --version"; 0 and *version when it ran and said who it is. */
static int try_program(const char *path, const char *path_prefix, int timeout_ms, long *version,
                       struct cel_err *err)
{
    const char *argv[] = {path, "--version", NULL};
    struct proc_opts o = {.path_prefix = path_prefix,
                          .err_mode = PROC_CAPTURE,
                          .timeout_ms = timeout_ms > 0 ? timeout_ms : 10000,
                          .env = (const char *const[]){"LC_ALL=C", NULL}};
    struct proc_result res = {0};
    int rc = proc_run(argv, &o, &res, err);
    if (rc == 0 && res.status != 0) {
        /* Debian's pg_wrapper is in PATH even where the program is not */
        rc = cel_err_set(err, CEL_E_NOT_FOUND, "'%s --version' exited with status %d%s%s", path,
                         res.status, res.err && res.err[0] ? ": " : "", res.err ? res.err : "");
    }
    if (rc == 0)
        *version = res.out ? parse_tool_version(res.out) : 0;
    proc_result_free(&res);
    return rc;
}

int op_pg_program(const char *tool, const char *path_prefix, long server_version, int timeout_ms,
                  char **path, long *version, struct cel_err *err)
{
    *path = NULL;
    *version = 0;
    struct cel_err first = {0};
    if (try_program(tool, path_prefix, timeout_ms, version, &first) == 0) {
        *path = cel_xstrdup(tool);
        return 0;
    }
    char *alt = op_pg_tool(tool, server_version);
    if (alt && try_program(alt, NULL, timeout_ms, version, NULL) == 0) {
        *path = alt;
        return 0;
    }
    int rc = cel_err_set(err, CEL_E_NOT_FOUND, "%s not found: %s%s%s", tool, first.msg,
                         alt ? "; nor does " : "", alt ? alt : "");
    char major[32];
    op_pg_version_text(server_version ? server_version / 10000 * 10000 : 150000, major);
    major[strcspn(major, ".")] = '\0';
    cel_err_hint(err,
                 "Install PostgreSQL's client programs (apt-get install postgresql-client-%s), or "
                 "set path_prefix to the directory that holds %s.",
                 major, tool);
    free(alt);
    return rc;
}

void op_pg_version_text(long version, char out[32])
{
    int major = (int)(version / 10000 % 10000);
    if (version >= 100000)
        snprintf(out, 32, "%d.%d", major, (int)(version % 10000));
    else
        snprintf(out, 32, "%d.%d.%d", major, (int)(version / 100 % 100), (int)(version % 100));
}

static const struct {
    const char *name, *suffix;
} tar_kinds[] = {
    {"gzip", "tar.gz"},
    {"lz4", "tar.lz4"},
    {"zstd", "tar.zst"},
};

const char *op_tar_suffix(const char *compression)
{
    for (size_t i = 0; compression && i < CEL_ARRAY_LEN(tar_kinds); i++)
        if (strcmp(compression, tar_kinds[i].name) == 0)
            return tar_kinds[i].suffix;
    return NULL;
}
