/*
 * recover_dest.c - file operations on a recovery's destination: local
 * calls, or commands run on the remote host through rsync_remote_run
 * (argv quoted for the remote shell, never pasted into a string) and files
 * shipped with rsync from a local scratch directory.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <unistd.h>

#include "recover_int.h"
#include "storage.h"

int rd_init(struct rdest *d, const char *ssh, const char *path_prefix, struct cel_err *err)
{
    memset(d, 0, sizeof *d);
    d->ssh = ssh;
    d->path_prefix = path_prefix;
    if (!ssh)
        return 0;
    const char *tmp = getenv("TMPDIR");
    d->stage = cel_xasprintf("%s/cellar-recover.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(d->stage)) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create a scratch directory %s",
                             d->stage);
        free(d->stage);
        d->stage = NULL;
        return rc;
    }
    return 0;
}

void rd_free(struct rdest *d)
{
    if (d->stage)
        stor_remove_tree(d->stage, NULL);
    free(d->stage);
    d->stage = NULL;
}

void rd_rsync_opts(const struct rdest *d, struct rsync_opts *o)
{
    o->ssh_command = d->ssh;
    o->remote_is_dest = d->ssh != NULL;
    o->path_prefix = d->path_prefix;
}

/* Run argv where the destination is. */
static int run(const struct rdest *d, const char *const argv[], char **out, struct cel_err *err)
{
    return rsync_remote_run(d->ssh, d->path_prefix, argv, out, err);
}

int rd_check_empty(const struct rdest *d, const char *path, const char *what,
                   struct cel_err *err)
{
    char *listing = NULL;
    int rc = 0;
    if (d->ssh) {
        const char *argv[] = {"sh", "-c", "[ ! -e \"$1\" ] || ls -A -- \"$1\"", "sh", path, NULL};
        rc = run(d, argv, &listing, err);
    } else if (stor_exists(path)) {
        if (!stor_is_dir(path)) {
            listing = cel_xstrdup(path);
        } else {
            struct stor_names names;
            rc = stor_list_dir(path, NULL, NULL, &names, err);
            if (rc == 0 && names.n)
                listing = cel_xstrdup(names.names[0]);
            if (rc == 0)
                stor_names_free(&names);
        }
    }
    if (rc == 0 && listing && listing[strspn(listing, " \n")]) {
        rc = cel_err_set(err, CEL_E_CONFLICT, "the %s %s%s%s is not empty", what,
                         d->ssh ? d->ssh : "", d->ssh ? ":" : "", path);
        cel_err_hint(err, "Recover into a new or empty directory; nothing was written.");
    }
    free(listing);
    return rc;
}

int rd_mkdir(const struct rdest *d, const char *path, struct cel_err *err)
{
    if (!d->ssh)
        return stor_mkdir_p(path, 0700, err);
    const char *argv[] = {"mkdir", "-p", "-m", "700", "--", path, NULL};
    return run(d, argv, NULL, err);
}

int rd_symlink(const struct rdest *d, const char *target, const char *link, struct cel_err *err)
{
    if (d->ssh) {
        const char *argv[] = {"ln", "-sfn", "--", target, link, NULL};
        return run(d, argv, NULL, err);
    }
    if ((unlink(link) < 0 && errno != ENOENT) || symlink(target, link) < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot link %s to %s", link, target);
    char *copy = cel_xstrdup(link);
    int rc = stor_fsync_dir(dirname(copy), err);
    free(copy);
    return rc;
}

int rd_read(const struct rdest *d, const char *path, char **out, struct cel_err *err)
{
    *out = NULL;
    if (d->ssh) {
        const char *argv[] = {"sh", "-c", "[ ! -e \"$1\" ] || cat -- \"$1\"", "sh", path, NULL};
        char *text = NULL;
        int rc = run(d, argv, &text, err);
        if (rc == 0 && text && *text)
            *out = text;
        else
            free(text);
        return rc;
    }
    if (!stor_exists(path))
        return 0;
    size_t len = 0;
    return stor_read_file(path, 64u << 20, out, &len, err);
}

int rd_write(const struct rdest *d, const char *path, const char *data, size_t len,
             struct cel_err *err)
{
    if (!d->ssh)
        return stor_write_file(path, data, len, 0600, err);
    char *copy = cel_xstrdup(path);
    char *local = cel_xasprintf("%s/%s", d->stage, basename(copy));
    int rc = stor_write_file(local, data, len, 0600, err);
    if (rc == 0) {
        struct rsync_opts o = {0};
        rd_rsync_opts(d, &o);
        rc = rsync_copy_file(local, path, &o, err);
    }
    unlink(local);
    free(local);
    free(copy);
    return rc;
}
