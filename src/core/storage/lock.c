/*
 * lock.c - Barman-compatible flock files.
 *
 * Acquire: open(O_CREAT|O_RDWR|O_CLOEXEC, 0600), flock(LOCK_EX[|LOCK_NB]),
 * then rewrite the file with "<pid>\n". Probe: a non-blocking flock that is
 * dropped at once, reading the PID from the file when it is busy; this is
 * what Barman's lockfile.py does too, so both tools read each other's
 * holders.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock.h"

struct lock {
    int fd;
    char *path;
};

void lock_name(const char *server, const char *op, char out[LOCK_NAME_MAX])
{
    snprintf(out, LOCK_NAME_MAX, ".%s-%s.lock", server, op);
}

/* The PID written in an open lock file, 0 when there is none. */
static pid_t read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? (pid_t)pid : 0;
}

/* Is the file fd was opened from no longer at path (removed, or replaced
 * by a new file)? */
static bool lock_file_replaced(int fd, const char *path)
{
    struct stat held, named;
    if (fstat(fd, &held) < 0 || lstat(path, &named) < 0)
        return true;
    return held.st_ino != named.st_ino || held.st_dev != named.st_dev;
}

int lock_acquire(const char *dir, const char *name, bool wait, struct lock **out,
                 struct cel_err *err)
{
    *out = NULL;
    char *path = cel_xasprintf("%s/%s", dir, name);
    /* O_NOFOLLOW: a link planted in the lock directory must not make us
     * create or write (the PID) a file elsewhere */
    int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot open lock file '%s'", path);
        free(path);
        return rc;
    }
    int r;
    for (;;) {
        do
            r = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
        while (r < 0 && errno == EINTR);
        if (r < 0 || !lock_file_replaced(fd, path))
            break;
        /* lock_cleanup removed the file between our open and our flock:
         * the lock we hold is on a name nobody else will open again */
        close(fd);
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot open lock file '%s'", path);
            free(path);
            return rc;
        }
    }
    if (r < 0) {
        int rc;
        if (errno == EWOULDBLOCK) {
            pid_t holder = read_pid(fd);
            if (holder)
                rc = cel_err_set(err, CEL_E_LOCKED, "'%s' is held by another process (PID %ld)",
                                 path, (long)holder);
            else
                rc = cel_err_set(err, CEL_E_LOCKED, "'%s' is held by another process", path);
        } else {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot lock '%s'", path);
        }
        close(fd);
        free(path);
        return rc;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot write the PID into '%s'", path);
        close(fd);
        free(path);
        return rc;
    }
    struct lock *l = cel_xmalloc(sizeof *l);
    l->fd = fd;
    l->path = path;
    *out = l;
    return 0;
}

void lock_release(struct lock *l)
{
    if (!l)
        return;
    flock(l->fd, LOCK_UN);
    close(l->fd);
    free(l->path);
    free(l);
}

int lock_probe(const char *dir, const char *name, pid_t *holder, struct cel_err *err)
{
    *holder = 0;
    char *path = cel_xasprintf("%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(path);
        if (e == ENOENT)
            return 0;
        return cel_err_sys(err, CEL_E_IO, e, "cannot open lock file '%s/%s'", dir, name);
    }
    free(path);
    int held = 0;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            held = 1;
            *holder = read_pid(fd);
        }
    } else {
        flock(fd, LOCK_UN);
    }
    close(fd);
    return held;
}

int lock_cleanup(const char *dir, size_t *removed, struct cel_err *err)
{
    *removed = 0;
    DIR *d = opendir(dir);
    if (!d)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot read the lock directory '%s'", dir);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] != '.' || n < 7 || strcmp(e->d_name + n - 5, ".lock") != 0)
            continue;
        char *path = cel_xasprintf("%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && !lock_file_replaced(fd, path)) {
            /* unlinked while we hold it: an acquirer that opened it before
             * sees the name gone once it gets the lock, and opens anew */
            if (unlink(path) == 0)
                (*removed)++;
            else if (errno != ENOENT)
                rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", path);
        }
        if (fd >= 0)
            close(fd);
        free(path);
    }
    closedir(d);
    return rc;
}
