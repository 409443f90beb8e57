/*
 * proc.c - start, feed, read, time out and reap child processes.
 *
 * Starting. Everything the child needs is prepared in the parent before
 * fork(): the files it reads or writes are opened here (so a missing file is
 * our error message, not the child's), its environment is built as a new
 * array (the parent's environment is never touched), and every pipe is made
 * with pipe2(O_CLOEXEC), so a descriptor meant for one child never leaks
 * into another child started later. All signals are blocked across fork();
 * the child puts every disposition back to SIG_DFL, asks the kernel for
 * SIGKILL when we die (PR_SET_PDEATHSIG; it then checks that we are still
 * its parent, since we may have died before the request), joins its own process
 * group, moves its descriptors onto 0, 1 and 2, changes directory, clears its
 * signal mask, points environ at the new array (so execvp searches the PATH
 * the child will see, path_prefix included) and execs. If any of that fails
 * it writes {stage, errno} into a close-on-exec "status pipe" and ends with
 * status 127; the parent reads that pipe until end of file, which comes
 * either from the successful exec closing it or after the report, and so
 * knows before proc_start() returns whether the program really started.
 *
 * Running. proc_poll() builds one poll() set over every unfinished child:
 * the read ends of its stdout/stderr pipes, the non-blocking write end of
 * its stdin pipe while data remains, and a pidfd that becomes readable when
 * the child ends (Linux 5.3 and later; without it the wait is cut into
 * TICK_MS slices and the child is checked with waitid each time). Reading
 * and writing are interleaved, so a child that writes a lot before it reads
 * its input cannot deadlock against us. Writes to the stdin pipe are made
 * with SIGPIPE blocked, and a SIGPIPE they raise is consumed, so a child that
 * stops reading gives EPIPE here and never kills cellar.
 *
 * A child is done when it has been reaped and its output pipes are at end
 * of file. A background process that keeps the output open therefore keeps
 * the child running; the time-out (SIGTERM to the group, SIGKILL after the
 * grace) is what ends such a tree, and once SIGKILL has been sent and the
 * child reaped, pipes still open ABANDON_MS later are drained and closed.
 *
 * Process groups. The pgid of every running child sits in a fixed table of
 * sig_atomic_t slots so that proc_signal_all() can be called from a signal
 * handler. A slot is cleared when the child is seen to have ended (waitid
 * with WNOWAIT) but before it is reaped, so the table never names a process
 * id that the kernel could already have given to someone else.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "ts.h"

#define LIVE_SLOTS 256                /* children proc_signal_all can reach */
#define CHUNK PROC_LINE_PIECE         /* read size and longest line piece */
#define DEFAULT_CAPTURE (1024 * 1024) /* capture_max when 0 */
#define DEFAULT_GRACE_MS 5000         /* kill_grace_ms when 0 */
#define TICK_MS 20                    /* exit check interval without a pidfd */
#define ABANDON_MS 500                /* after SIGKILL, wait this long for EOF */

/* What failed in the child before or at exec, as reported on the status pipe. */
enum child_stage {
    STAGE_SETUP = 1, /* setpgid, dup2 */
    STAGE_CWD,       /* chdir */
    STAGE_EXEC,      /* execvp */
};

/* One of the child's output streams as seen from our side. */
struct stream {
    int fd; /* read end of the pipe; -1 when not a pipe or at end of file */
    enum proc_stream_mode mode;
    int num;   /* 1 or 2, passed to on_line and on_data */
    char *buf; /* capture, or the pending partial line (CHUNK + 1 bytes) */
    size_t len, cap;
    bool truncated;
};

struct proc {
    pid_t pid;
    pid_t target; /* what kill() is given: -pid (its group) or pid */
    int slot;     /* index in live[], -1 when not there */
    char *name;   /* for messages: argv[0], or the shell command */
    struct stream out, err;
    int in_fd; /* non-blocking write end of the stdin pipe, -1 when none or done */
    bool in_stream; /* stdin_stream: the caller writes with proc_write */
    bool in_wait;   /* proc_write waits for room in the pipe */
    const unsigned char *in_data;
    size_t in_len, in_off;
    int pidfd; /* readable when the child ends; -1 when unavailable or reaped */
    void (*on_line)(void *ctx, int stream, const char *line, size_t len, bool more);
    void (*on_data)(void *ctx, int stream, const void *data, size_t len);
    void *ctx;
    size_t capture_max;
    int timeout_ms, grace_ms;
    int64_t started, kill_at; /* CLOCK_MONOTONIC milliseconds */
    bool term_sent, kill_sent, timed_out;
    bool reaped, status_known;
    int wstatus;
};

/* Everything the child does between fork and exec, prepared by the parent. */
struct child_plan {
    const char *file;
    char *const *argv;
    char **envp; /* NULL: keep ours */
    const char *cwd;
    int fd[3]; /* becomes 0, 1, 2; -1: leave as inherited */
    int status_fd;
    bool own_group;
    pid_t parent; /* us: the child dies with this process */
};

static volatile sig_atomic_t live[LIVE_SLOTS];

/* ---- small system helpers ------------------------------------------------ */

/* Close *fd if open and mark it closed; errno is preserved. */
static void close_fd(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd); /* not retried on EINTR: Linux has released the fd already */
        errno = saved;
        *fd = -1;
    }
}

static int open_retry(const char *path, int flags, mode_t mode)
{
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

size_t proc_read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* A pidfd for pid, or -1 when the kernel has none (it is close-on-exec). */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -1 : (int)fd;
#else
    (void)pid;
    return -1;
#endif
}

/*
 * write() with SIGPIPE kept away from the process: SIGPIPE is blocked for the
 * call, and if the write raised it (EPIPE) and it was not already pending
 * before, the signal is taken off the pending set again. Pipes have no
 * MSG_NOSIGNAL, and changing the disposition would be process-wide.
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    sigprocmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t n = write(fd, buf, len);
    int saved = errno;
    if (n < 0 && saved == EPIPE && !was_pending) {
        static const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return n;
}

/* ---- the table of running process groups --------------------------------- */

/* Called with all signals blocked, right after fork. A full table only means
 * proc_signal_all cannot reach this child; time-outs and proc_kill still can. */
static void live_add(struct proc *p)
{
    for (int i = 0; i < LIVE_SLOTS; i++) {
        if (live[i] == 0) {
            live[i] = (sig_atomic_t)p->target;
            p->slot = i;
            return;
        }
    }
    p->slot = -1;
}

static void live_remove(struct proc *p)
{
    if (p->slot >= 0) {
        live[p->slot] = 0;
        p->slot = -1;
    }
}

void proc_signal_all(int sig)
{
    int saved = errno;
    for (int i = 0; i < LIVE_SLOTS; i++) {
        pid_t target = (pid_t)live[i];
        if (target != 0)
            kill(target, sig);
    }
    errno = saved;
}

/* ---- the child ------------------------------------------------------------ */

/*
 * glibc refuses sigaction() on the signals it keeps for itself (32 and 33 on
 * Linux), yet an ignored disposition of those is inherited across exec just
 * the same, and some launchers (make, for one) do start us with them ignored.
 * The kernel call takes them; an all-zero kernel sigaction is SIG_DFL, no
 * flags, empty mask on every architecture. Failure changes nothing.
 */
static void reset_reserved_signal(int sig)
{
#ifdef SYS_rt_sigaction
    static const unsigned long zero[8];
    (void)syscall(SYS_rt_sigaction, sig, zero, NULL, (size_t)(NSIG - 1) / 8);
#else
    (void)sig;
#endif
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static CEL_NORETURN void child_main(const struct child_plan *cp)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sigaction(sig, &dfl, NULL) < 0 && sig != SIGKILL && sig != SIGSTOP)
            reset_reserved_signal(sig);

    int report[2] = {STAGE_SETUP, 0};
    int status_fd = cp->status_fd;
    int src[3];
    /* Die with cellar: a cellar killed with SIGKILL must not leave an rsync
     * writing into a FAILED backup or a recovery's destination. If cellar
     * died before the request took effect there is nobody to report to. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        goto fail;
    if (getppid() != cp->parent)
        _exit(127);
    if (cp->own_group && setpgid(0, 0) < 0)
        goto fail;
    /* Nothing we still need may sit on 0, 1 or 2 while those are replaced. */
    if (status_fd < 3 && (status_fd = fcntl(status_fd, F_DUPFD_CLOEXEC, 3)) < 0)
        goto fail;
    for (int i = 0; i < 3; i++) {
        src[i] = cp->fd[i];
        if (src[i] >= 0 && src[i] < 3 && (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3)) < 0)
            goto fail;
    }
    for (int i = 0; i < 3; i++) {
        if (src[i] < 0)
            continue;
        int r;
        do
            r = dup2(src[i], i); /* the copy on i is not close-on-exec */
        while (r < 0 && errno == EINTR);
        if (r < 0)
            goto fail;
    }
    if (cp->cwd && chdir(cp->cwd) < 0) {
        report[0] = STAGE_CWD;
        goto fail;
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (cp->envp)
        environ = cp->envp; /* execvp looks PATH up in environ */
    report[0] = STAGE_EXEC;
    execvp(cp->file, cp->argv);
fail:
    report[1] = errno;
    ssize_t n;
    do
        n = write(status_fd, report, sizeof report);
    while (n < 0 && errno == EINTR);
    _exit(127);
}

/* ---- preparing a start ---------------------------------------------------- */

/* Length of the NAME in "NAME=VALUE". */
static size_t env_name_len(const char *s)
{
    const char *eq = strchr(s, '=');
    return eq ? (size_t)(eq - s) : strlen(s);
}

static bool env_same_name(const char *a, const char *b)
{
    size_t la = env_name_len(a);
    return la == env_name_len(b) && memcmp(a, b, la) == 0;
}

/* Does a later entry of adds than index i set the same variable? */
static bool env_overridden(const char *entry, const char *const *adds, size_t from)
{
    for (size_t i = from; adds && adds[i]; i++)
        if (env_same_name(entry, adds[i]))
            return true;
    return false;
}

/*
 * The child's environment: ours without the variables opts->env sets, then
 * opts->env (the last of duplicates wins), then PATH with path_prefix in
 * front of the PATH so far (the system default when there is none). Every
 * string is a copy; free with env_free().
 */
static char **env_build(const struct proc_opts *o)
{
    size_t n_ours = 0, n_adds = 0;
    while (environ && environ[n_ours])
        n_ours++;
    while (o->env && o->env[n_adds])
        n_adds++;
    char **envp = cel_xcalloc(n_ours + n_adds + 2, sizeof *envp);
    size_t k = 0;
    for (size_t i = 0; i < n_ours; i++)
        if (!env_overridden(environ[i], o->env, 0))
            envp[k++] = cel_xstrdup(environ[i]);
    for (size_t i = 0; i < n_adds; i++)
        if (!env_overridden(o->env[i], o->env, i + 1))
            envp[k++] = cel_xstrdup(o->env[i]);
    if (o->path_prefix) {
        size_t at = k;
        for (size_t i = 0; i < k; i++)
            if (env_same_name(envp[i], "PATH="))
                at = i;
        char deflt[256];
        const char *old = deflt;
        if (at < k) {
            old = envp[at] + 5;
        } else {
            size_t need = confstr(_CS_PATH, deflt, sizeof deflt);
            if (need == 0 || need > sizeof deflt)
                cel_strlcpy(deflt, "/bin:/usr/bin", sizeof deflt);
        }
        char *path = *old ? cel_xasprintf("PATH=%s:%s", o->path_prefix, old)
                          : cel_xasprintf("PATH=%s", o->path_prefix);
        if (at < k)
            free(envp[at]);
        else
            k++;
        envp[at] = path;
    }
    envp[k] = NULL;
    return envp;
}

static void env_free(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* Reject option combinations that are programming errors. */
static int opts_check(const char *name, const struct proc_opts *o, struct cel_err *err)
{
    const char *why = NULL;
    int sources = (o->stdin_path != NULL) + (o->stdin_data != NULL) + (o->stdin_inherit ? 1 : 0) +
                  (o->stdin_stream ? 1 : 0);
    const enum proc_stream_mode modes[2] = {o->out_mode, o->err_mode};
    const char *paths[2] = {o->out_path, o->err_path};

    if (sources > 1)
        why = "more than one source for the standard input";
    else if (o->stdin_len > 0 && !o->stdin_data)
        why = "stdin_len without stdin_data";
    else if (o->timeout_ms < 0 || o->kill_grace_ms < 0)
        why = "negative time-out";
    for (int i = 0; i < 2 && !why; i++) {
        if ((int)modes[i] < (int)PROC_CAPTURE || (int)modes[i] > (int)PROC_DATA)
            why = "unknown output mode";
        else if (modes[i] == PROC_FILE && !paths[i])
            why = "PROC_FILE without a path";
        else if (modes[i] == PROC_LINES && !o->on_line)
            why = "PROC_LINES without on_line";
        else if (modes[i] == PROC_DATA && !o->on_data)
            why = "PROC_DATA without on_data";
    }
    for (size_t i = 0; o->env && o->env[i] && !why; i++)
        if (env_name_len(o->env[i]) == 0 || !strchr(o->env[i], '='))
            why = "environment entry not of the form NAME=VALUE";
    return why ? cel_err_set(err, CEL_E_INTERNAL, "invalid options to run '%s': %s", name, why) : 0;
}

/* A close-on-exec pipe whose end fds[ours] (ours: 0 read, 1 write) is non-blocking. */
static int pipe_open(const struct proc *p, int fds[2], int ours, struct cel_err *err)
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        return cel_err_sys(err, CEL_E_PROC, errno, "cannot run '%s': cannot make a pipe", p->name);
    if (set_nonblock(fds[ours]) < 0) {
        int rc =
            cel_err_sys(err, CEL_E_PROC, errno, "cannot run '%s': cannot set up a pipe", p->name);
        close_fd(&fds[0]);
        close_fd(&fds[1]);
        return rc;
    }
    return 0;
}

/*
 * Decide what the child gets as fd (1 or 2) for one output stream: a pipe
 * whose read end stays in s, a file, /dev/null, or nothing (inherit). *child
 * receives the child's end. share is the child's fd 1 when stderr goes to
 * the same file as stdout, so both use one file offset.
 */
static int stream_open(struct proc *p, struct stream *s, enum proc_stream_mode mode,
                       const char *path, int share, int *child, struct cel_err *err)
{
    s->mode = mode;
    switch (mode) {
    case PROC_CAPTURE:
    case PROC_LINES:
    case PROC_DATA: {
        int fds[2];
        int rc = pipe_open(p, fds, 0, err);
        if (rc == 0) {
            s->fd = fds[0];
            *child = fds[1];
        }
        return rc;
    }
    case PROC_DISCARD:
        path = "/dev/null";
        break;
    case PROC_INHERIT:
        return 0;
    case PROC_FILE:
        if (share >= 0) {
            *child = share;
            return 0;
        }
        break;
    }
    /* a file of ours (a filter's output): never written through a link */
    *child = open_retry(
        path, mode == PROC_FILE ? O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW : O_WRONLY, 0600);
    if (*child < 0)
        return cel_err_sys(err, CEL_E_PROC, errno, "cannot run '%s': cannot open '%s'", p->name,
                           path);
    return 0;
}

/* The child's fd 0: a file, a pipe we write stdin_data into, ours, or /dev/null. */
static int stdin_open(struct proc *p, const struct proc_opts *o, int *child, struct cel_err *err)
{
    const char *path = o->stdin_path;
    if (o->stdin_inherit)
        return 0;
    if (o->stdin_stream) {
        int fds[2];
        int rc = pipe_open(p, fds, 1, err);
        if (rc == 0) {
            *child = fds[0];
            p->in_fd = fds[1];
            p->in_stream = true;
        }
        return rc;
    }
    if (!path && o->stdin_data && o->stdin_len > 0) {
        int fds[2];
        int rc = pipe_open(p, fds, 1, err);
        if (rc == 0) {
            *child = fds[0];
            p->in_fd = fds[1];
            p->in_data = o->stdin_data;
            p->in_len = o->stdin_len;
        }
        return rc;
    }
    if (!path)
        path = "/dev/null";
    *child = open_retry(path, O_RDONLY, 0);
    if (*child < 0)
        return cel_err_sys(err, CEL_E_PROC, errno, "cannot run '%s': cannot open '%s'", p->name,
                           path);
    return 0;
}

/* Close the parent's copies of the child's descriptors (1 and 2 may be one). */
static void plan_close(struct child_plan *plan)
{
    if (plan->fd[2] == plan->fd[1])
        plan->fd[2] = -1;
    for (int i = 0; i < 3; i++)
        close_fd(&plan->fd[i]);
}

static void proc_free(struct proc *p)
{
    if (!p)
        return;
    live_remove(p);
    close_fd(&p->out.fd);
    close_fd(&p->err.fd);
    close_fd(&p->in_fd);
    close_fd(&p->pidfd);
    free(p->out.buf);
    free(p->err.buf);
    free(p->name);
    free(p);
}

/* Reap p, waiting for it when block; see the file comment for the order. */
static void reap(struct proc *p, bool block)
{
    siginfo_t si;
    if (p->reaped)
        return;
    for (;;) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOWAIT | (block ? 0 : WNOHANG)) == 0)
            break;
        if (errno != EINTR) {
            /* ECHILD: reaped behind our back (SIGCHLD ignored); status unknown */
            live_remove(p);
            p->reaped = true;
            close_fd(&p->pidfd);
            return;
        }
    }
    if (si.si_pid != p->pid)
        return; /* still running */
    live_remove(p);
    int st = 0;
    pid_t r;
    do
        r = waitpid(p->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    p->reaped = true;
    p->status_known = r == p->pid;
    p->wstatus = st;
    close_fd(&p->pidfd);
}

static void send_signal(struct proc *p, int sig)
{
    /* A reaped pid may belong to someone else now; a group outlives its
     * leader while any member remains, and those members are ours. */
    if (p->target < 0 || !p->reaped)
        kill(p->target, sig);
}

/* argv as execvp wants it: its prototype predates const, it does not write. */
static char *const *argv_for_exec(const char *const argv[])
{
    union {
        const char *const *c;
        char *const *m;
    } u = {.c = argv};
    return u.m;
}

static int start(const char *const argv[], const char *name, const struct proc_opts *opts,
                 struct proc **out, struct cel_err *err)
{
    static const struct proc_opts defaults;
    const struct proc_opts *o = opts ? opts : &defaults;
    struct child_plan plan = {.fd = {-1, -1, -1}, .status_fd = -1};
    int status[2] = {-1, -1};
    char **envp = NULL;
    struct proc *p = NULL;
    int rc, saved_errno;

    if (out)
        *out = NULL;
    if (!out || !argv || !argv[0] || !argv[0][0] || !name)
        return cel_err_set(err, CEL_E_INTERNAL, "invalid call to start a process: no program");
    rc = opts_check(name, o, err);
    if (rc < 0)
        return rc;

    p = cel_xcalloc(1, sizeof *p);
    p->name = cel_xstrdup(name);
    p->slot = -1;
    p->out = (struct stream){.fd = -1, .num = 1};
    p->err = (struct stream){.fd = -1, .num = 2};
    p->in_fd = -1;
    p->pidfd = -1;
    p->on_line = o->on_line;
    p->on_data = o->on_data;
    p->ctx = o->ctx;
    p->capture_max = o->capture_max ? o->capture_max : DEFAULT_CAPTURE;
    if (p->capture_max > SIZE_MAX / 4)
        p->capture_max = SIZE_MAX / 4; /* keeps the growth arithmetic from overflowing */
    p->timeout_ms = o->timeout_ms;
    p->grace_ms = o->kill_grace_ms ? o->kill_grace_ms : DEFAULT_GRACE_MS;

    rc = stdin_open(p, o, &plan.fd[0], err);
    if (rc == 0)
        rc = stream_open(p, &p->out, o->out_mode, o->out_path, -1, &plan.fd[1], err);
    if (rc == 0) {
        bool same_file = o->out_mode == PROC_FILE && o->err_mode == PROC_FILE &&
                         strcmp(o->out_path, o->err_path) == 0;
        rc = stream_open(p, &p->err, o->err_mode, o->err_path, same_file ? plan.fd[1] : -1,
                         &plan.fd[2], err);
    }
    if (rc < 0)
        goto fail;
    if (pipe2(status, O_CLOEXEC) < 0) {
        rc = cel_err_sys(err, CEL_E_PROC, errno, "cannot run '%s': cannot make a pipe", name);
        goto fail;
    }
    if (o->env || o->path_prefix)
        envp = env_build(o);

    plan.file = argv[0];
    plan.argv = argv_for_exec(argv);
    plan.envp = envp;
    plan.cwd = o->cwd;
    plan.status_fd = status[1];
    plan.own_group = !o->same_process_group;
    plan.parent = getpid();

    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        child_main(&plan);
    int fork_errno = errno;
    if (pid > 0) {
        p->pid = pid;
        p->target = plan.own_group ? -pid : pid;
        if (plan.own_group)
            setpgid(pid, pid); /* also done by the child; whoever is first wins */
        live_add(p);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        rc = cel_err_sys(err, CEL_E_PROC, fork_errno, "cannot run '%s': cannot fork", name);
        goto fail;
    }

    /* The child's ends belong to the child now. */
    plan_close(&plan);
    close_fd(&status[1]);

    int report[2];
    size_t got = proc_read_full(status[0], report, sizeof report);
    close_fd(&status[0]);
    if (got == sizeof report) {
        reap(p, true);
        if (report[0] == STAGE_EXEC)
            rc = cel_err_sys(err, CEL_E_PROC, report[1], "cannot run '%s'", argv[0]);
        else if (report[0] == STAGE_CWD)
            rc = cel_err_sys(err, CEL_E_PROC, report[1], "cannot run '%s' in '%s'", name, o->cwd);
        else
            rc = cel_err_sys(err, CEL_E_PROC, report[1],
                             "cannot run '%s': cannot set up the child process", name);
        errno = report[1];
        goto fail;
    }

    p->pidfd = open_pidfd(pid);
    p->started = ts_monotonic_ms();
    env_free(envp);
    *out = p;
    return 0;

fail:
    saved_errno = errno;
    plan_close(&plan);
    close_fd(&status[0]);
    close_fd(&status[1]);
    env_free(envp);
    proc_free(p);
    errno = saved_errno;
    return rc;
}

/* ---- running -------------------------------------------------------------- */

/* The pending line (or, more, its first CHUNK bytes) to on_line. */
static void line_deliver(struct proc *p, struct stream *s, bool more)
{
    s->buf[s->len] = '\0';
    p->on_line(p->ctx, s->num, s->buf, s->len, more);
    s->len = 0;
}

/*
 * Split data into lines for on_line. The pending buffer holds at most CHUNK
 * bytes: when it is full, the next byte decides whether it was a whole line
 * (a newline) or the first piece of a longer one, so a line of exactly CHUNK
 * bytes is delivered once however the reads split it.
 */
static void lines_feed(struct proc *p, struct stream *s, const char *data, size_t n)
{
    if (!s->buf) {
        s->buf = cel_xmalloc(CHUNK + 1);
        s->cap = CHUNK + 1;
    }
    while (n > 0) {
        if (s->len == CHUNK) {
            line_deliver(p, s, *data != '\n');
            if (*data == '\n') {
                data++;
                n--;
            }
            continue;
        }
        size_t room = CHUNK - s->len;
        size_t look = n < room ? n : room;
        const char *nl = memchr(data, '\n', look);
        size_t take = nl ? (size_t)(nl - data) : look;
        memcpy(s->buf + s->len, data, take);
        s->len += take;
        data += take;
        n -= take;
        if (nl) {
            line_deliver(p, s, false);
            data++;
            n--;
        }
    }
}

/* Keep the first capture_max bytes, drop and flag the rest. */
static void capture_feed(struct proc *p, struct stream *s, const char *data, size_t n)
{
    size_t room = p->capture_max - s->len;
    size_t take = n < room ? n : room;
    if (take < n)
        s->truncated = true;
    if (take == 0)
        return;
    if (s->len + take + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + take + 1)
            cap *= 2;
        if (cap > p->capture_max + 1)
            cap = p->capture_max + 1;
        s->buf = cel_xrealloc(s->buf, cap);
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, take);
    s->len += take;
}

static void stream_eof(struct proc *p, struct stream *s)
{
    close_fd(&s->fd);
    if (s->mode == PROC_LINES && s->len > 0)
        line_deliver(p, s, false);
}

/* One read from an output pipe: 1 when data came, 0 when it would block or
 * was interrupted, -1 when the stream is (now) closed. */
static int stream_read(struct proc *p, struct stream *s)
{
    char buf[CHUNK];
    if (s->fd < 0)
        return -1;
    ssize_t n = read(s->fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n <= 0) {
        stream_eof(p, s); /* a read error ends the stream like end of file */
        return -1;
    }
    if (s->mode == PROC_LINES)
        lines_feed(p, s, buf, (size_t)n);
    else if (s->mode == PROC_DATA)
        p->on_data(p->ctx, s->num, buf, (size_t)n);
    else
        capture_feed(p, s, buf, (size_t)n);
    return 1;
}

/* Take what is in the pipe now, then close it as if at end of file. */
static void stream_abandon(struct proc *p, struct stream *s)
{
    while (stream_read(p, s) > 0)
        ;
    if (s->fd >= 0)
        stream_eof(p, s);
}

/* One write of stdin_data; closing the pipe at the end gives the child EOF. */
static void stdin_write(struct proc *p)
{
    size_t left = p->in_len - p->in_off;
    ssize_t n = write_nosigpipe(p->in_fd, p->in_data + p->in_off, left < CHUNK ? left : CHUNK);
    if (n > 0) {
        p->in_off += (size_t)n;
        if (p->in_off == p->in_len)
            close_fd(&p->in_fd);
    } else if (!(n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))) {
        close_fd(&p->in_fd); /* EPIPE: the child stopped reading; that is its business */
    }
}

bool proc_done(const struct proc *p)
{
    return p->reaped && p->out.fd < 0 && p->err.fd < 0;
}

/* The next moment at which settle() has time-out work to do, or -1. */
static int64_t next_deadline(const struct proc *p)
{
    if (p->timeout_ms <= 0)
        return -1;
    if (!p->term_sent)
        return p->started + p->timeout_ms;
    if (!p->kill_sent)
        return p->kill_at;
    if (p->reaped)
        return p->kill_at + ABANDON_MS;
    return -1;
}

/* Reap if ended, apply the time-out, give up on orphaned pipes; true when done. */
static bool settle(struct proc *p, int64_t now)
{
    reap(p, false);
    if (!proc_done(p) && p->timeout_ms > 0) {
        if (!p->term_sent && now >= p->started + p->timeout_ms) {
            p->term_sent = p->timed_out = true;
            p->kill_at = now + p->grace_ms;
            send_signal(p, SIGTERM);
        }
        if (p->term_sent && !p->kill_sent && now >= p->kill_at) {
            p->kill_sent = true;
            send_signal(p, SIGKILL);
        }
        if (p->kill_sent && p->reaped && now >= p->kill_at + ABANDON_MS) {
            /* whatever holds the pipes left the group: keep what is there */
            stream_abandon(p, &p->out);
            stream_abandon(p, &p->err);
        }
    }
    if (!proc_done(p))
        return false;
    close_fd(&p->in_fd);
    return true;
}

static size_t settle_all(struct proc *const procs[], size_t n, int64_t now)
{
    size_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += settle(procs[i], now) ? 1 : 0;
    return done;
}

/* Lower the poll wait to the moment `at`, or leave it. */
static int64_t wait_until(int64_t wait, int64_t at, int64_t now)
{
    int64_t w = at - now < 0 ? 0 : at - now;
    return wait < 0 || w < wait ? w : wait;
}

enum fd_role { ROLE_OUT, ROLE_ERR, ROLE_IN, ROLE_PID };

size_t proc_poll(struct proc *const procs[], size_t n, int timeout_ms)
{
    int64_t now = ts_monotonic_ms();
    size_t done = settle_all(procs, n, now);
    if (done == n)
        return n;

    struct pollfd *fds = cel_xcalloc(n * 4, sizeof *fds);
    struct {
        struct proc *p;
        enum fd_role role;
    } *map = cel_xcalloc(n * 4, sizeof *map);
    nfds_t nf = 0;
    int64_t wait = timeout_ms < 0 ? -1 : timeout_ms;

    for (size_t i = 0; i < n; i++) {
        struct proc *p = procs[i];
        if (proc_done(p))
            continue;
        const struct {
            int fd;
            short events;
            enum fd_role role;
        } want[4] = {{p->out.fd, POLLIN, ROLE_OUT},
                     {p->err.fd, POLLIN, ROLE_ERR},
                     {!p->in_stream || p->in_wait ? p->in_fd : -1, POLLOUT, ROLE_IN},
                     {p->pidfd, POLLIN, ROLE_PID}};
        for (int k = 0; k < 4; k++) {
            if (want[k].fd < 0)
                continue;
            fds[nf].fd = want[k].fd;
            fds[nf].events = want[k].events;
            map[nf].p = p;
            map[nf].role = want[k].role;
            nf++;
        }
        if (!p->reaped && p->pidfd < 0)
            wait = wait_until(wait, now + TICK_MS, now);
        int64_t at = next_deadline(p);
        if (at >= 0)
            wait = wait_until(wait, at, now);
    }

    int r = poll(fds, nf, wait > INT_MAX ? INT_MAX : (int)wait);
    /* r < 0 is EINTR (or ENOMEM): return, so the caller can look at its flags */
    for (nfds_t k = 0; r > 0 && k < nf; k++) {
        if (fds[k].revents == 0)
            continue;
        struct proc *p = map[k].p;
        switch (map[k].role) {
        case ROLE_OUT:
            stream_read(p, &p->out);
            break;
        case ROLE_ERR:
            stream_read(p, &p->err);
            break;
        case ROLE_IN:
            if (p->in_fd >= 0 && !p->in_stream)
                stdin_write(p); /* a stream's writer, proc_write, retries itself */
            break;
        case ROLE_PID:
            break; /* settle_all reaps it */
        }
    }
    free(map);
    free(fds);
    return settle_all(procs, n, ts_monotonic_ms());
}

/* ---- public entry points -------------------------------------------------- */

int proc_start(const char *const argv[], const struct proc_opts *opts, struct proc **out,
               struct cel_err *err)
{
    return start(argv, argv ? argv[0] : NULL, opts, out, err);
}

/* The one place a command string is given to a shell. "--" keeps a command
 * that starts with '-' from being read as shell options. */
int proc_start_shell(const char *command, const struct proc_opts *opts, struct proc **out,
                     struct cel_err *err)
{
    const char *const argv[] = {"/bin/sh", "-c", "--", command, NULL};
    if (!command)
        return start(NULL, NULL, opts, out, err);
    return start(argv, command, opts, out, err);
}

pid_t proc_pid(const struct proc *p)
{
    return p->pid;
}

void proc_kill(struct proc *p, int sig)
{
    send_signal(p, sig);
}

int proc_write(struct proc *p, const void *buf, size_t len, struct cel_err *err)
{
    if (!p || !p->in_stream || p->in_fd < 0)
        return cel_err_set(err, CEL_E_INTERNAL, "invalid call to write to '%s': no input stream",
                           p ? p->name : "(none)");
    const unsigned char *b = buf;
    while (len > 0) {
        ssize_t n = write_nosigpipe(p->in_fd, b, len);
        if (n > 0) {
            b += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !proc_done(p)) {
            /* the pipe is full: read what the child says until it has room */
            p->in_wait = true;
            proc_poll(&p, 1, 1000);
            p->in_wait = false;
            if (p->in_fd >= 0)
                continue;
        }
        close_fd(&p->in_fd);
        return cel_err_set(err, CEL_E_PROC, "'%s' stopped reading its input", p->name);
    }
    return 0;
}

void proc_close_stdin(struct proc *p)
{
    if (p)
        close_fd(&p->in_fd);
}

/* Hand a stream's capture to the result; NULL unless it was captured. */
static char *capture_take(struct stream *s, size_t *len, bool *truncated)
{
    if (s->mode != PROC_CAPTURE)
        return NULL;
    char *buf = s->buf ? s->buf : cel_xmalloc(1);
    buf[s->len] = '\0';
    *len = s->len;
    *truncated = s->truncated;
    s->buf = NULL;
    s->len = s->cap = 0;
    return buf;
}

int proc_finish(struct proc *p, struct proc_result *res, struct cel_err *err)
{
    struct proc_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    res->status = -1;
    if (!p)
        return cel_err_set(err, CEL_E_INTERNAL, "invalid call to finish a process: no process");

    if (p->in_stream)
        close_fd(&p->in_fd); /* the writer is done: the child reads end of file */
    while (!proc_done(p))
        proc_poll(&p, 1, -1);

    if (p->status_known && WIFEXITED(p->wstatus))
        res->status = WEXITSTATUS(p->wstatus);
    else if (p->status_known && WIFSIGNALED(p->wstatus))
        res->signal = WTERMSIG(p->wstatus);
    res->timed_out = p->timed_out;
    res->out = capture_take(&p->out, &res->out_len, &res->out_truncated);
    res->err = capture_take(&p->err, &res->err_len, &res->err_truncated);

    int rc = 0;
    if (p->timed_out) {
        struct strbuf how = {0};
        proc_describe(res, p->timeout_ms, &how);
        rc = cel_err_set(err, CEL_E_TIMEOUT, "'%s' %s", p->name, sb_str(&how));
        sb_free(&how);
    }
    if (res == &local)
        proc_result_free(&local);
    proc_free(p);
    return rc;
}

/* proc_run and proc_run_shell after the start: finish, or a failed result. */
static int run_to_end(int rc, struct proc *p, struct proc_result *res, struct cel_err *err)
{
    if (rc == 0)
        return proc_finish(p, res, err);
    if (res) {
        memset(res, 0, sizeof *res);
        res->status = -1;
    }
    return rc;
}

int proc_run(const char *const argv[], const struct proc_opts *opts, struct proc_result *res,
             struct cel_err *err)
{
    if (opts && opts->stdin_stream)
        return run_to_end(cel_err_set(err, CEL_E_INTERNAL, "stdin_stream needs proc_start"),
                          NULL, res, err);
    struct proc *p = NULL;
    int rc = proc_start(argv, opts, &p, err);
    return run_to_end(rc, p, res, err);
}

int proc_run_shell(const char *command, const struct proc_opts *opts, struct proc_result *res,
                   struct cel_err *err)
{
    if (opts && opts->stdin_stream)
        return run_to_end(cel_err_set(err, CEL_E_INTERNAL, "stdin_stream needs proc_start"),
                          NULL, res, err);
    struct proc *p = NULL;
    int rc = proc_start_shell(command, opts, &p, err);
    return run_to_end(rc, p, res, err);
}

void proc_result_free(struct proc_result *res)
{
    if (!res)
        return;
    free(res->out);
    free(res->err);
    memset(res, 0, sizeof *res);
    res->status = -1;
}

/* "2 s", "0.25 s": milliseconds as seconds without trailing zeros. */
static void append_seconds(struct strbuf *out, int ms)
{
    if (ms < 0)
        ms = 0;
    sb_appendf(out, "%d", ms / 1000);
    int frac = ms % 1000;
    if (frac) {
        int digits = 3;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        sb_appendf(out, ".%0*d", digits, frac);
    }
    sb_append(out, " s");
}

void proc_describe(const struct proc_result *res, int timeout_ms, struct strbuf *out)
{
    if (res->timed_out) {
        sb_append(out, "timed out after ");
        append_seconds(out, timeout_ms);
    } else if (res->signal > 0) {
        sb_appendf(out, "killed by signal %d (%s)", res->signal, strsignal(res->signal));
    } else if (res->status >= 0) {
        sb_appendf(out, "exited with status %d", res->status);
    } else {
        sb_append(out, "ended with an unknown status");
    }
}
