/*
 * proc.h - the one process runner.
 *
 * Every external program cellar runs (rsync, ssh, hooks, compression
 * filters, pg_* tools) starts here, from an argv array: fork, set up the
 * file descriptors asked for, exec, and reap. Nothing is ever pasted into a
 * shell command line. The single exception is proc_run_shell/proc_start_shell,
 * for the command strings a DBA wrote in the configuration (hooks,
 * ssh_command, custom filters): they run through "/bin/sh -c" with every
 * value cellar adds passed in the environment, never in the string.
 *
 * Children run in their own process group so a time-out or cancellation
 * stops the whole tree (rsync and the ssh it spawns). A child is killed
 * (SIGKILL) when cellar dies, even of SIGKILL, so no rsync goes on writing
 * into a FAILED backup or a recovery's destination; what it started itself
 * (rsync's receiver, the ssh it runs) then sees its pipes close and ends,
 * and the remote rsync with the ssh connection. An exec failure is
 * reported to the caller as an error, not as exit status 127, by a
 * close-on-exec pipe between child and parent.
 *
 * Blocking use: proc_run() runs to completion. Several children at once
 * (parallel rsync workers, console operations): proc_start() each, then
 * proc_poll() them until proc_done(), then proc_finish().
 */
#ifndef CEL_PROC_H
#define CEL_PROC_H

#include <sys/types.h>

#include "error.h"
#include "strbuf.h"

/* What happens to a child's stdout or stderr. */
enum proc_stream_mode {
    PROC_CAPTURE = 0, /* collected into struct proc_result (the default) */
    PROC_LINES,       /* each line passed to on_line as it arrives */
    PROC_DISCARD,     /* /dev/null */
    PROC_INHERIT,     /* the parent's own descriptor */
    PROC_FILE,        /* written to out_path / err_path (created 0600, truncated) */
    PROC_DATA,        /* the bytes passed to on_data as they arrive, unchanged */
};

/* The longest line PROC_LINES delivers whole (see on_line). */
#define PROC_LINE_PIECE 65536

struct proc_opts {
    /* NULL-terminated "NAME=VALUE" strings set in the child's environment
     * (replacing a variable of the same name). */
    const char *const *env;
    const char *cwd;         /* working directory of the child; NULL: ours */
    const char *path_prefix; /* colon-separated dirs put in front of PATH (after env
                              * is applied); the program is looked up in that PATH */
    /* stdin: a file, a buffer written by the runner, our own stdin, or
     * (all unset) /dev/null. At most one may be set. stdin_data is borrowed:
     * it must stay valid until proc_finish() (proc_run: until it returns). */
    const char *stdin_path;
    const void *stdin_data;
    size_t stdin_len;
    bool stdin_inherit;
    /* stdin is a pipe the caller fills as it goes with proc_write() and ends
     * with proc_close_stdin() (proc_start and proc_start_shell only): a
     * stream that is produced while the child runs, such as a tar archive
     * decompressed on the fly. */
    bool stdin_stream;
    enum proc_stream_mode out_mode, err_mode;
    const char *out_path, *err_path; /* for PROC_FILE; the same path twice shares one file */
    /* PROC_LINES callback: stream is 1 or 2; line excludes the newline and is
     * NUL-terminated; a last line without newline is delivered at exit. A
     * line longer than PROC_LINE_PIECE (64 KiB) arrives in pieces of exactly
     * that length, each with more set (the next call goes on with the same
     * line), then the rest with more false; a line of exactly that length
     * comes whole, more false. It is called from proc_poll/proc_finish and
     * must not finish or free that child. */
    void (*on_line)(void *ctx, int stream, const char *line, size_t len, bool more);
    /* PROC_DATA callback: stream is 1 or 2; data is every byte the child
     * wrote, in order, in pieces of at most 64 KiB (binary output: a
     * decompression filter). Same rules as on_line. */
    void (*on_data)(void *ctx, int stream, const void *data, size_t len);
    void *ctx;               /* given to on_line and on_data */
    int timeout_ms;          /* 0: no limit; on expiry SIGTERM, then SIGKILL */
    int kill_grace_ms;       /* time between SIGTERM and SIGKILL; 0: 5000 */
    size_t capture_max;      /* first bytes kept per captured stream; 0: 1 MiB */
    bool same_process_group; /* for interactive children that need the terminal */
};

struct proc_result {
    int status;     /* exit status when the child exited, else -1 */
    int signal;     /* signal that ended the child, else 0 */
    bool timed_out; /* the runner killed it at timeout_ms */
    char *out;      /* captured stdout, NUL-terminated (NULL if not captured) */
    size_t out_len;
    bool out_truncated;
    char *err; /* captured stderr, likewise */
    size_t err_len;
    bool err_truncated;
};

/* Run argv[0] (looked up in PATH, with path_prefix) to completion. Returns 0
 * when the program ran and ended, whatever its exit status (look at res);
 * -CEL_E_PROC when it could not be started ("cannot run 'rsync': No such
 * file or directory"); -CEL_E_TIMEOUT when it was killed at the time-out (res
 * is filled as well); -CEL_E_INTERNAL for invalid opts. opts may be NULL; res
 * may be NULL, and is emptied (status -1) when nothing ran. Blocks. Free res
 * with proc_result_free(). */
int proc_run(const char *const argv[], const struct proc_opts *opts, struct proc_result *res,
             struct cel_err *err);
/* Run a DBA-written command string with /bin/sh -c; otherwise as proc_run.
 * A command the shell cannot find is its exit status 127, not an error. */
int proc_run_shell(const char *command, const struct proc_opts *opts, struct proc_result *res,
                   struct cel_err *err);
void proc_result_free(struct proc_result *res);

/* A running child. */
struct proc;

/* Start a child as proc_run does and return at once; *out is valid until
 * proc_finish(), which every started child must go through. */
int proc_start(const char *const argv[], const struct proc_opts *opts, struct proc **out,
               struct cel_err *err);
int proc_start_shell(const char *command, const struct proc_opts *opts, struct proc **out,
                     struct cel_err *err);
pid_t proc_pid(const struct proc *p);
/* Wait up to timeout_ms (-1: until something happens) for output from, or
 * the end of, any of the n children; deliver lines and captures; enforce
 * time-outs. Returns how many of them are done (ended and fully read). It
 * may return early, e.g. when a signal arrives, so call it in a loop. */
size_t proc_poll(struct proc *const procs[], size_t n, int timeout_ms);
bool proc_done(const struct proc *p);
/* Write len bytes to the stdin of a child started with stdin_stream,
 * blocking until the pipe took them all; the child's output is read
 * meanwhile (its callbacks run, its time-out is enforced), so a child that
 * writes before it reads cannot deadlock against us. 0, or -CEL_E_PROC
 * ("'tar' stopped reading its input") when the child closed its input or
 * ended; -CEL_E_INTERNAL when stdin_stream was not set or stdin is closed. */
int proc_write(struct proc *p, const void *buf, size_t len, struct cel_err *err);
/* Close the stdin of a child started with stdin_stream: it reads end of
 * file. proc_finish closes it too. */
void proc_close_stdin(struct proc *p);
/* Send sig to the child's process group (the child alone with same_process_group). */
void proc_kill(struct proc *p, int sig);
/* Wait for the child to end (polling it), fill res, free p. Returns as proc_run. */
int proc_finish(struct proc *p, struct proc_result *res, struct cel_err *err);

/* Start argv[0] (a path, run without a PATH search) detached from cellar:
 * in a session of its own, not our child, not killed when we end, reading
 * /dev/null and writing to /dev/null (keep_output: to our stdout and
 * stderr), in "/". Returns 0 with *pid set once the program has been
 * exec'd, or -CEL_E_PROC when it could not be started. proc_detach.c */
int proc_spawn_detached(const char *const argv[], bool keep_output, pid_t *pid,
                        struct cel_err *err);

/* Send sig to every child started through this module that is still
 * running (the first 256 at any time). Async-signal-safe: a SIGTERM
 * handler may call it. */
void proc_signal_all(int sig);

/* Append to out how the child ended: "exited with status 23", "killed by
 * signal 9 (Killed)", "timed out after 30 s" (timeout_ms is the limit that
 * was set; fractions show as "0.25 s"). */
void proc_describe(const struct proc_result *res, int timeout_ms, struct strbuf *out);

/* Read from fd until len bytes, end of file or an error (EINTR retried);
 * returns the bytes read. For the status pipes of the runner's children. */
size_t proc_read_full(int fd, void *buf, size_t len);

#endif
