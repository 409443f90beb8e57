/*
 * proc_detach.c - start a program that outlives us: a daemon such as the
 * WAL receiver cron keeps running.
 *
 * The children of proc.c die with cellar (PR_SET_PDEATHSIG) and belong to
 * its process groups; a receiver cron starts must instead go on after cron
 * ends. So: fork, the child starts a new session (no controlling
 * terminal, its own process group, out of reach of a Ctrl-C or hang-up
 * meant for cron) and forks again, so that the program is nobody's child
 * here and is reaped by init; the middle process ends at once and is
 * reaped below. The grandchild puts its signals back to their defaults,
 * reads /dev/null, writes to /dev/null (or to our stdout and stderr when
 * asked), moves to "/" and execs argv[0] (a path: no PATH search). A
 * close-on-exec pipe carries first the grandchild's PID, from the middle
 * process, then the errno of a failed exec, from the grandchild: end of file
 * after the PID means the program started.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

/* In the grandchild, between fork and exec: async-signal-safe calls only. */
static void exec_detached(const char *const argv[], bool keep_output, int report)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        if (!keep_output) {
            dup2(null, 1);
            dup2(null, 2);
        }
        if (null > 2)
            close(null);
    }
    if (chdir("/") < 0) {
        /* "/" is always there; go on where we are */
    }
    execv(argv[0], (char *const *)(uintptr_t)argv);
    int e = errno;
    ssize_t w = write(report, &e, sizeof e);
    (void)w;
    _exit(127);
}

int proc_spawn_detached(const char *const argv[], bool keep_output, pid_t *pid, struct cel_err *err)
{
    *pid = 0;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return cel_err_sys(err, CEL_E_PROC, errno, "cannot run '%s'", argv[0]);
    pid_t middle = fork();
    if (middle < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        return cel_err_sys(err, CEL_E_PROC, e, "cannot run '%s'", argv[0]);
    }
    if (middle == 0) {
        close(pfd[0]);
        setsid();
        pid_t child = fork();
        if (child == 0)
            exec_detached(argv, keep_output, pfd[1]);
        ssize_t w = write(pfd[1], &child, sizeof child);
        (void)w;
        _exit(child < 0 ? 1 : 0);
    }
    close(pfd[1]);
    int status = 0;
    while (waitpid(middle, &status, 0) < 0 && errno == EINTR)
        ;
    pid_t child = -1;
    int rc = 0;
    int e = 0;
    if (proc_read_full(pfd[0], &child, sizeof child) != sizeof child || child < 0) {
        rc = cel_err_set(err, CEL_E_PROC, "cannot run '%s': fork failed", argv[0]);
    } else if (proc_read_full(pfd[0], &e, sizeof e) == sizeof e) {
        rc = cel_err_sys(err, CEL_E_PROC, e, "cannot run '%s'", argv[0]);
    } else {
        *pid = child;
    }
    close(pfd[0]);
    return rc;
}
