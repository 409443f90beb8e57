/*
 * par.c - a small fork-based worker pool.
 *
 * Protocol: each worker has a request pipe (parent -> child, item indexes as
 * size_t) and a reply pipe (child -> parent: the item index, the job's int
 * status and result_size bytes of result, in one write below PIPE_BUF, so it
 * arrives whole). The parent polls the reply pipes and answers a reply with
 * the next index, or by closing the request pipe when there is no more
 * work, which makes the child leave. EOF on a reply pipe with an item still
 * outstanding means the child died: that item is marked failed.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "par.h"
#include "storage.h"

struct worker {
    pid_t pid;
    int req_fd;     /* parent writes indexes; -1 once closed */
    int reply_fd;   /* parent reads replies; -1 at EOF */
    size_t current; /* item being worked on */
    bool busy;
};

int par_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}


/* Read exactly len bytes; 0 on success, 1 at EOF before any byte, -1 else. */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return got == 0 ? 1 : -1;
        got += (size_t)n;
    }
    return 0;
}

/* The child's loop: read an index, run the job, reply; leave at EOF. */
static void child_loop(int req_fd, int reply_fd, par_job job, void *ctx, size_t result_size)
{
    size_t msg_size = sizeof(size_t) + sizeof(int) + result_size;
    char *msg = cel_xmalloc(msg_size);
    /* the job gets a buffer of its own: malloc'd memory is aligned for any
     * type, a place inside the message is not */
    void *result = cel_xmalloc(result_size ? result_size : 1);
    for (;;) {
        size_t item;
        if (read_all(req_fd, &item, sizeof item) != 0)
            break;
        memset(result, 0, result_size);
        int status = job(item, ctx, result, result_size);
        memcpy(msg, &item, sizeof item);
        memcpy(msg + sizeof item, &status, sizeof status);
        memcpy(msg + sizeof item + sizeof status, result, result_size);
        if (stor_write_all(reply_fd, msg, msg_size) < 0)
            break;
    }
    free(result);
    free(msg);
}

static int send_item(struct worker *w, size_t item)
{
    w->current = item;
    w->busy = true;
    return stor_write_all(w->req_fd, &item, sizeof item);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int par_run(size_t n, int workers, par_job job, void *ctx, void *results, size_t result_size,
            int *status, struct cel_err *err)
{
    if (result_size > PAR_RESULT_MAX)
        return cel_err_set(err, CEL_E_INTERNAL, "par_run: result of %zu bytes is too large",
                           result_size);
    char *res = results;
    if (workers <= 0)
        workers = par_cpus();
    if ((size_t)workers > n)
        workers = (int)n;
    if (workers <= 1) {
        for (size_t i = 0; i < n; i++) {
            memset(res + i * result_size, 0, result_size);
            status[i] = job(i, ctx, res + i * result_size, result_size);
        }
        return 0;
    }

    struct worker *w = cel_xcalloc((size_t)workers, sizeof *w);
    int started = 0, rc = 0;
    fflush(NULL); /* children must not inherit unwritten output */
    pid_t parent = getpid();
    for (; started < workers; started++) {
        int req[2], reply[2];
        if (pipe2(req, O_CLOEXEC) < 0) {
            rc = cel_err_sys(err, CEL_E_INTERNAL, errno, "cannot create a pipe for a worker");
            break;
        }
        if (pipe2(reply, O_CLOEXEC) < 0) {
            rc = cel_err_sys(err, CEL_E_INTERNAL, errno, "cannot create a pipe for a worker");
            close(req[0]);
            close(req[1]);
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            rc = cel_err_sys(err, CEL_E_INTERNAL, errno, "cannot start a worker process");
            close(req[0]);
            close(req[1]);
            close(reply[0]);
            close(reply[1]);
            break;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1); /* the parent died before PDEATHSIG was armed */
            close(req[1]);
            close(reply[0]);
            /* the other workers' pipe ends were inherited: drop them */
            for (int j = 0; j < started; j++) {
                close_fd(&w[j].req_fd);
                close_fd(&w[j].reply_fd);
            }
            child_loop(req[0], reply[1], job, ctx, result_size);
            _exit(0);
        }
        close(req[0]);
        close(reply[1]);
        w[started] = (struct worker){.pid = pid, .req_fd = req[1], .reply_fd = reply[0]};
    }

    /* a failed start is fatal only when no worker runs */
    size_t next = 0;
    if (started == 0)
        goto out;
    rc = 0;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigaction(SIGPIPE, &ign, &old_pipe);
    for (int i = 0; i < started; i++) {
        if (next < n) {
            if (send_item(&w[i], next) == 0)
                next++;
        } else {
            close_fd(&w[i].req_fd);
        }
    }
    size_t msg_size = sizeof(size_t) + sizeof(int) + result_size;
    char *msg = cel_xmalloc(msg_size);
    struct pollfd *pfd = cel_xcalloc((size_t)started, sizeof *pfd);
    for (;;) {
        int live = 0;
        for (int i = 0; i < started; i++) {
            pfd[i].fd = w[i].reply_fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
            if (w[i].reply_fd >= 0)
                live++;
        }
        if (live == 0)
            break;
        if (poll(pfd, (nfds_t)started, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = cel_err_sys(err, CEL_E_INTERNAL, errno, "poll on workers failed");
            break;
        }
        for (int i = 0; i < started; i++) {
            if (w[i].reply_fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int r = read_all(w[i].reply_fd, msg, msg_size);
            if (r != 0) {
                /* EOF: the worker left or died; its item, if any, failed */
                if (w[i].busy) {
                    status[w[i].current] = -CEL_E_INTERNAL;
                    memset(res + w[i].current * result_size, 0, result_size);
                    w[i].busy = false;
                }
                close_fd(&w[i].reply_fd);
                close_fd(&w[i].req_fd);
                continue;
            }
            size_t item;
            int st;
            memcpy(&item, msg, sizeof item);
            memcpy(&st, msg + sizeof item, sizeof st);
            if (item < n) {
                status[item] = st;
                memcpy(res + item * result_size, msg + sizeof item + sizeof st, result_size);
            }
            w[i].busy = false;
            if (next < n && send_item(&w[i], next) == 0)
                next++;
            else
                close_fd(&w[i].req_fd);
        }
    }
    free(pfd);
    free(msg);
    sigaction(SIGPIPE, &old_pipe, NULL);
out:
    for (int i = 0; i < started; i++) {
        close_fd(&w[i].req_fd);
        close_fd(&w[i].reply_fd);
        while (waitpid(w[i].pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    /* items never handed out (workers died early) failed too */
    for (size_t i = next; i < n; i++) {
        status[i] = -CEL_E_INTERNAL;
        memset(res + i * result_size, 0, result_size);
    }
    free(w);
    return started == 0 ? rc : 0;
}
