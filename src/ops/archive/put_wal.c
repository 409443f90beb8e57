/*
 * put_wal.c - `cellar put-wal SERVER PATH` and `cellar put-wal SERVER --name
 * NAME < PATH`: PostgreSQL's archive_command.
 *
 * PostgreSQL counts a WAL file as archived when archive_command exits 0, and
 * may then recycle it. So put-wal exits 0 only when the file is safely in
 * incoming/ (or already in the archive) with exactly these bytes, and on any
 * doubt fails, so PostgreSQL keeps the file and tries again:
 *
 *  1. the name must be a WAL file name, the bytes must match it (walcheck);
 *  2. they are copied to a hidden temporary file in incoming/ and fsynced;
 *  3. when the file is already archived it is compared with the archived
 *     copy: the same bytes count as success (PostgreSQL retrying after a
 *     crash), other bytes as an error;
 *  4. otherwise link(2) gives the temporary its real name (link never
 *     replaces an existing file, unlike rename); a file of that name already
 *     waiting in incoming/ is compared in the same way;
 *  5. the directory is fsynced; the temporary is removed.
 */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops.h"
#include "server.h"
#include "server_select.h"
#include "storage.h"
#include "wal_archive.h"
#include "walcheck.h"

/* Copy everything from in_fd into out_fd. */
static int copy_fd(int in_fd, int out_fd, const char *what, struct cel_err *err)
{
    char *buf = cel_xmalloc(1 << 20);
    int rc = 0;
    for (;;) {
        ssize_t n = read(in_fd, buf, 1 << 20);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read %s", what);
            break;
        }
        if (n == 0)
            break;
        if (stor_write_all(out_fd, buf, (size_t)n) < 0) {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot write into incoming/");
            break;
        }
    }
    free(buf);
    return rc;
}

/* Whether the plain file a holds the same bytes as the plain file b. */
static int same_plain(const char *a, const char *b, bool *same, struct cel_err *err)
{
    return comp_same_content(COMP_NONE, a, b, &(struct comp_opts){0}, same, err);
}

/* Whether this process is barman_user (or root, which reads anything): not
 * so when PostgreSQL's archive_command runs put-wal as its own user. */
static bool runs_as_barman_user(const struct op_ctx *ctx)
{
    if (geteuid() == 0)
        return true;
    const char *name = ctx->cfg->global.barman_user;
    struct passwd *pw = name ? getpwnam(name) : NULL;
    return !pw || pw->pw_uid == geteuid();
}

int op_put_wal(const struct op_ctx *ctx, const struct op_put_wal_req *req, struct cel_err *err)
{
    const struct cfg_server *s = NULL;
    int rc = op_one_server(ctx, req->server, "put-wal", &s, err);
    if (rc < 0)
        return rc;

    const char *name = req->name;
    if (!name && req->path) {
        const char *slash = strrchr(req->path, '/');
        name = slash ? slash + 1 : req->path;
    }
    if (!name)
        return cel_err_set(err, CEL_E_USAGE, "put-wal needs a file or --name NAME");
    struct wal_name w;
    if (strlen(name) >= WAL_NAME_MAX || wal_name_parse(name, &w, err) < 0)
        return -CEL_E_INVALID;
    if ((rc = stor_mkdir_p(s->incoming_wals_directory, 0700, err)) < 0)
        return rc;

    int in_fd = req->in_fd;
    if (req->path) {
        in_fd = open(req->path, O_RDONLY | O_CLOEXEC);
        if (in_fd < 0)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", req->path);
    }
    char *tmp = cel_xasprintf("%s/.%s.put.XXXXXX", s->incoming_wals_directory, name);
    char *dst = cel_xasprintf("%s/%s", s->incoming_wals_directory, name);
    char *archived = op_wal_path(s, name);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create a file in '%s'",
                         s->incoming_wals_directory);
        tmp[0] = '\0';
        goto out;
    }
    /* Run by PostgreSQL's user (archive_command on the same host, main.c),
     * not by barman_user: the archiver, as barman_user, must read the file.
     * incoming/ itself (2770, a group shared with PostgreSQL's user) keeps
     * other users out. */
    if (!runs_as_barman_user(ctx) && fchmod(fd, 0644) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot make '%s' readable by barman_user", tmp);
        goto out;
    }
    struct stat st;
    if ((rc = copy_fd(in_fd, fd, req->path ? req->path : "standard input", err)) < 0)
        goto out;
    if (fsync(fd) < 0 || fstat(fd, &st) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", tmp);
        goto out;
    }
    struct walcheck_info info;
    if ((rc = walcheck_fd(fd, (uint64_t)st.st_size, &w, &info, err)) < 0) {
        cel_err_prefix(err, "refusing %s", name);
        goto out;
    }
    uint64_t sysid = op_server_sysid(s);
    if (sysid && info.sysid && info.sysid != sysid) {
        rc = cel_err_set(err, CEL_E_CONFLICT,
                         "refusing %s: it belongs to the database system %llu, server '%s' "
                         "archives %llu (identity.json)",
                         name, (unsigned long long)info.sysid, s->name,
                         (unsigned long long)sysid);
        cel_err_hint(err, "Check that archive_command names the right server.");
        goto out;
    }

    /* already archived: the same bytes are a retry that succeeded before
     * (success), other bytes mean PostgreSQL and the archive disagree */
    bool same = false;
    if (stor_exists(archived)) {
        enum comp_kind kind;
        struct comp_opts opts;
        op_comp_opts(s, &opts);
        if ((rc = op_archived_kind(ctx, s, archived, name, NULL, &kind, err)) == 0 &&
            (rc = comp_same_content(kind, archived, tmp, &opts, &same, err)) == 0 && !same)
            rc = cel_err_set(err, CEL_E_CONFLICT, "a different %s is already archived as '%s'",
                             name, archived);
    } else if (link(tmp, dst) == 0) {
        rc = stor_fsync_dir(s->incoming_wals_directory, err);
    } else if (errno == EEXIST) {
        if ((rc = same_plain(dst, tmp, &same, err)) == 0 && !same)
            rc = cel_err_set(err, CEL_E_CONFLICT, "a different %s is already waiting in '%s'",
                             name, s->incoming_wals_directory);
    } else {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create '%s'", dst);
    }
    if (rc == -CEL_E_CONFLICT)
        cel_err_hint(err, "PostgreSQL will retry; compare the two files, and move the wrong "
                          "one away, to let archiving go on.");
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    if (req->path && in_fd >= 0)
        close(in_fd);
    if (rc == 0)
        log_msg(LOG_DEBUG, "%s: put-wal %s into %s", s->name, name, s->incoming_wals_directory);
    else
        log_msg(LOG_ERROR, "%s: put-wal %s: %s", s->name, name, err->msg);
    free(tmp);
    free(dst);
    free(archived);
    return rc;
}
