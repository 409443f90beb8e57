/*
 * storage.c - durable writes, as in Redis's rdbSave and pgBackRest's posix
 * storage driver: temp file beside the target (so rename is atomic on the
 * same filesystem), full writes with EINTR handling, fsync before rename,
 * directory fsync after. A failure at any step unlinks the temp file and
 * preserves errno for the message. Every descriptor is close-on-exec from
 * the moment it exists (mkostemp, hence _GNU_SOURCE), so no child program
 * inherits one.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage.h"

/* Split path into a newly allocated directory part ("." when none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return cel_xstrdup(".");
    if (slash == path)
        return cel_xstrdup("/");
    return cel_xstrndup(path, (size_t)(slash - path));
}

int stor_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO; /* a regular file or pipe never does this; do not spin */
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int stor_fsync_dir(const char *dir, struct cel_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open directory '%s'", dir);
    int rc = 0;
    if (fsync(fd) < 0 && errno != EINVAL) /* EINVAL: the filesystem cannot sync dirs */
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync directory '%s'", dir);
    close(fd);
    return rc;
}

int stor_fsync_parent(const char *path, struct cel_err *err)
{
    char *dir = dir_of(path);
    int rc = stor_fsync_dir(dir, err);
    free(dir);
    return rc;
}

int stor_write_file(const char *path, const void *data, size_t len, mode_t mode,
                    struct cel_err *err)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *dir = dir_of(path);
    char *tmp = cel_xasprintf("%s/.%s.tmp.XXXXXX", dir, base);
    int rc = 0;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create a temporary file for '%s'", path);
        goto out;
    }
    if (fchmod(fd, mode ? mode : 0600) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot set the mode of '%s'", tmp);
        goto fail;
    }
    if (stor_write_all(fd, data, len) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot write '%s'", tmp);
        goto fail;
    }
    if (fsync(fd) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", tmp);
        goto fail;
    }
    int close_rc = close(fd);
    fd = -1;
    if (close_rc < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot close '%s'", tmp);
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot rename '%s' to '%s'", tmp, path);
        goto fail;
    }
    rc = stor_fsync_dir(dir, err);
    goto out;
fail: {
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
}
out:
    free(tmp);
    free(dir);
    return rc;
}

/* keep for stor_list_dir: names starting with the prefix in ctx */
static bool has_prefix(const char *dir, const char *name, void *ctx)
{
    (void)dir;
    return strncmp(name, ctx, strlen(ctx)) == 0;
}

int stor_append_file(const char *path, const void *data, size_t len, struct cel_err *err)
{
    bool existed = stor_exists(path);
    int rc = 0;
    /* never through a symbolic link planted in barman_home: it would
     * append to whatever file it points to */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;
    if (fd < 0 && errno == ELOOP) {
        rc = cel_err_sys(err, CEL_E_IO, errno,
                         "'%s' is a symbolic link: cellar does not write through links", path);
        cel_err_hint(err, "Remove the link; 'cellar rebuild-xlogdb' writes a new index.");
        return rc;
    }
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", path);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    if (stor_write_all(fd, data, len) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot append to '%s'", path);
    if (rc == 0 && fsync(fd) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot fsync '%s'", path);
    /* a write cut short (a full disk) leaves half a line, which would make
     * the whole file unreadable: take back what was appended */
    if (rc < 0 && ftruncate(fd, st.st_size) < 0)
        cel_err_hint(err,
                     "It could not be truncated back (%s): cut it to its first %lld bytes "
                     "before the next run.",
                     strerror(errno), (long long)st.st_size);
    if (close(fd) < 0 && rc == 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot close '%s'", path);
    if (rc == 0 && !existed)
        rc = stor_fsync_parent(path, err);
    return rc;
}

int stor_remove_stale_tmp(const char *path, struct cel_err *err)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *dir = dir_of(path);
    char *prefix = cel_xasprintf(".%s.tmp.", base); /* stor_write_file's template */
    struct stor_names names;
    int rc = stor_list_dir(dir, has_prefix, prefix, &names, err);
    if (rc == 0) {
        for (size_t i = 0; rc == 0 && i < names.n; i++) {
            char *tmp = cel_xasprintf("%s/%s", dir, names.names[i]);
            if (unlink(tmp) < 0 && errno != ENOENT)
                rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", tmp);
            free(tmp);
        }
        stor_names_free(&names);
    } else if (rc == -CEL_E_NOT_FOUND) {
        cel_err_clear(err);
        rc = 0;
    }
    free(prefix);
    free(dir);
    return rc;
}

int stor_mkdir_p(const char *dir, mode_t mode, struct cel_err *err)
{
    if (stor_is_dir(dir))
        return 0;
    if (mode == 0)
        mode = 0700;
    char *path = cel_xstrdup(dir);
    int rc = 0;
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    /* create each missing level from the top down (the first byte is skipped
     * so "/" is not a level of its own; "" has none to skip) */
    for (char *p = path + (len > 0);; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, mode) == 0) {
            if ((rc = stor_fsync_parent(path, err)) < 0)
                goto out;
        } else if (errno != EEXIST) {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot create directory '%s'", path);
            goto out;
        } else if (!stor_is_dir(path)) {
            rc = cel_err_set(err, CEL_E_IO, "cannot create directory '%s': a file of that name exists",
                             path);
            goto out;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
out:
    free(path);
    return rc;
}

int stor_read_file(const char *path, size_t max, char **out, size_t *len, struct cel_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cel_err_sys(err, errno == ENOENT ? CEL_E_NOT_FOUND : CEL_E_IO, errno,
                           "cannot open '%s'", path);
    size_t cap = 4096, used = 0;
    char *buf = cel_xmalloc(cap);
    int rc = 0;
    for (;;) {
        if (cap - used < 2) {
            cap *= 2;
            buf = cel_xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", path);
            break;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > max) {
            rc = cel_err_set(err, CEL_E_FORMAT, "'%s' is larger than %zu bytes", path, max);
            break;
        }
    }
    close(fd);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[used] = '\0';
    *out = buf;
    if (len)
        *len = used;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int stor_list_dir(const char *dir, stor_keep_fn keep, void *ctx, struct stor_names *out,
                  struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return cel_err_sys(err, errno == ENOENT ? CEL_E_NOT_FOUND : CEL_E_IO, errno,
                           "cannot read directory '%s'", dir);
    size_t cap = 0;
    struct dirent *de;
    /* readdir ends with NULL both at the end and on an error; only errno
     * tells them apart (keep may change it, so it is reset each time) */
    while ((errno = 0, de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (keep && !keep(dir, de->d_name, ctx))
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 32;
            out->names = cel_xrealloc_array(out->names, cap, sizeof *out->names);
        }
        out->names[out->n++] = cel_xstrdup(de->d_name);
    }
    int read_errno = errno;
    closedir(d);
    if (read_errno) {
        stor_names_free(out);
        return cel_err_sys(err, CEL_E_IO, read_errno, "cannot read directory '%s'", dir);
    }
    if (out->n > 1) /* names is NULL when nothing was kept */
        qsort(out->names, out->n, sizeof *out->names, cmp_name);
    return 0;
}

void stor_names_free(struct stor_names *names)
{
    for (size_t i = 0; i < names->n; i++)
        free(names->names[i]);
    free(names->names);
    memset(names, 0, sizeof *names);
}

void stor_drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

bool stor_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

bool stor_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool stor_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int stor_check_component(const char *name, const char *what, struct cel_err *err)
{
    size_t len = strlen(name);
    if (len == 0)
        return cel_err_set(err, CEL_E_INVALID, "%s is empty", what);
    if (len > 255)
        return cel_err_set(err, CEL_E_INVALID, "%s is longer than 255 bytes", what);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return cel_err_set(err, CEL_E_INVALID, "%s '%s' is not allowed", what, name);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '/')
            return cel_err_set(err, CEL_E_INVALID, "%s '%s' must not contain '/'", what, name);
        if (*p < 0x20 || *p == 0x7f)
            return cel_err_set(err, CEL_E_INVALID, "%s contains a control character", what);
    }
    return 0;
}

/* nftw gives no context pointer: the first failure is kept here (one
 * removal at a time; cellar is single-threaded). */
static int remove_errno;
static const char *remove_failed;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = type == FTW_DP ? rmdir(path) : unlink(path);
    if (rc < 0 && errno != ENOENT) {
        remove_errno = errno;
        remove_failed = path;
        return 1;
    }
    return 0;
}

int stor_remove_tree(const char *path, struct cel_err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : cel_err_sys(err, CEL_E_IO, errno, "cannot remove %s", path);
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 || errno == ENOENT
                   ? 0
                   : cel_err_sys(err, CEL_E_IO, errno, "cannot remove %s", path);
    remove_errno = 0;
    remove_failed = NULL;
    int rc = nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
    if (rc == 1)
        return cel_err_sys(err, CEL_E_IO, remove_errno, "cannot remove %s", remove_failed);
    if (rc < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot remove %s", path);
    return 0;
}
