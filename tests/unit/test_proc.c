/* Unit tests of src/core/exec/proc.c: running real child processes.
 *
 * Every test runs real programs (sh, cat, printf, sleep, printenv ...) and
 * checks what they saw and what we got back. Time-outs use a few hundred
 * milliseconds so the whole program stays within a few seconds. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#include "proc.h"

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Lines recorded by the PROC_LINES callback. */
struct line_log {
    int count;
    int stream[64];
    size_t len[64];
    char *text[64];
    bool more[64];   /* on_line's more: the line goes on in the next call */
    bool terminated; /* every line had a NUL at line[len] */
};

static void record_line(void *ctx, int stream, const char *line, size_t len, bool more)
{
    struct line_log *log = ctx;
    if (line[len] != '\0')
        log->terminated = false;
    if (log->count < 64) {
        log->more[log->count] = more;
        log->stream[log->count] = stream;
        log->len[log->count] = len;
        log->text[log->count] = strndup(line, len);
        log->count++;
    }
}

static void line_log_free(struct line_log *log)
{
    for (int i = 0; i < log->count; i++)
        free(log->text[i]);
}

static bool all_bytes_are(const char *s, size_t len, char c)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != c)
            return false;
    return true;
}

/* ---- output, status, arguments --------------------------------------------- */

static void test_proc_run_captures_stdout_and_stderr_separately(void **state)
{
    (void)state;
    struct proc_result res;
    struct cel_err err = {0};
    int rc = proc_run_shell("echo to-out; echo to-err >&2; echo more-out", NULL, &res, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(res.out, "to-out\nmore-out\n");
    assert_int_equal(res.out_len, 16);
    assert_string_equal(res.err, "to-err\n");
    assert_int_equal(res.err_len, 7);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.signal, 0);
    assert_false(res.timed_out);
    assert_false(res.out_truncated);
    proc_result_free(&res);
    assert_null(res.out);
}

static void test_proc_run_passes_arguments_verbatim(void **state)
{
    (void)state;
    struct proc_result res;
    int rc = proc_run(ARGV("printf", "[%s][%s]", "a b; echo $HOME `id`", "'\"*"), NULL, &res, NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(res.out, "[a b; echo $HOME `id`]['\"*]");
    assert_string_equal(res.err, "");
    proc_result_free(&res);
}

static void test_proc_run_exit_status(void **state)
{
    (void)state;
    struct proc_result res;
    assert_int_equal(proc_run_shell("exit 23", NULL, &res, NULL), 0);
    assert_int_equal(res.status, 23);
    assert_int_equal(res.signal, 0);
    proc_result_free(&res);
    assert_int_equal(proc_run(ARGV("false"), NULL, &res, NULL), 0);
    assert_int_equal(res.status, 1);
    proc_result_free(&res);
}

static void test_proc_run_shell_signal_death(void **state)
{
    (void)state;
    struct proc_result res;
    assert_int_equal(proc_run_shell("kill -9 $$", NULL, &res, NULL), 0);
    assert_int_equal(res.status, -1);
    assert_int_equal(res.signal, SIGKILL);
    assert_false(res.timed_out);
    proc_result_free(&res);
}

static void test_proc_run_shell_values_travel_in_env(void **state)
{
    (void)state;
    struct proc_result res;
    const char *const env[] = {"CELLAR_VALUE=a'b\"; echo injected", NULL};
    int rc = proc_run_shell("printf '%s' \"$CELLAR_VALUE\"", &(struct proc_opts){.env = env}, &res,
                            NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(res.out, "a'b\"; echo injected");
    proc_result_free(&res);
}

static void test_proc_run_shell_command_not_found_is_status_127(void **state)
{
    (void)state;
    struct proc_result res;
    struct cel_err err = {0};
    assert_int_equal(proc_run_shell("cellar-no-such-command-xyz", NULL, &res, &err), 0);
    assert_int_equal(res.status, 127);
    assert_non_null(strstr(res.err, "cellar-no-such-command-xyz"));
    proc_result_free(&res);
}

static void test_proc_run_res_may_be_null(void **state)
{
    (void)state;
    assert_int_equal(proc_run(ARGV("echo", "ignored"), NULL, NULL, NULL), 0);
}

/* ---- starting: exec failure, PATH, env, cwd --------------------------------- */

static void test_proc_run_exec_failure_message(void **state)
{
    (void)state;
    struct proc_result res = {.status = 99, .out = NULL};
    struct cel_err err = {0};
    int rc = proc_run(ARGV("cellar-no-such-program-xyz", "arg"), NULL, &res, &err);
    assert_int_equal(rc, -CEL_E_PROC);
    assert_int_equal(err.code, CEL_E_PROC);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_string_equal(err.msg,
                        "cannot run 'cellar-no-such-program-xyz': No such file or directory");
    assert_int_equal(res.status, -1);
    assert_null(res.out);
    assert_null(res.err);
}

static void test_proc_run_exec_failure_permission_denied(void **state)
{
    (void)state;
    const char *path = unit_write("not-executable", "#!/bin/sh\necho hi\n");
    struct cel_err err = {0};
    int rc = proc_run(ARGV(path), NULL, NULL, &err);
    assert_int_equal(rc, -CEL_E_PROC);
    char want[4400];
    snprintf(want, sizeof want, "cannot run '%s': Permission denied", path);
    assert_string_equal(err.msg, want);
}

static void test_proc_run_path_prefix_finds_script(void **state)
{
    (void)state;
    const char *script = unit_write("cellar-test-tool", "#!/bin/sh\necho \"tool got $1\"\n");
    assert_int_equal(chmod(script, 0755), 0);
    struct proc_result res;
    struct cel_err err = {0};

    /* not found without the prefix ... */
    assert_int_equal(proc_run(ARGV("cellar-test-tool", "x"), NULL, &res, &err), -CEL_E_PROC);
    /* ... found with it */
    assert_int_equal(proc_run(ARGV("cellar-test-tool", "x"),
                              &(struct proc_opts){.path_prefix = unit_tmp}, &res, &err),
                     0);
    assert_string_equal(res.out, "tool got x\n");
    proc_result_free(&res);

    /* the child's PATH is "<prefix>:<our PATH>", ours is unchanged */
    const char *ours = getenv("PATH");
    assert_non_null(ours);
    char *saved = strdup(ours);
    assert_int_equal(proc_run(ARGV("printenv", "PATH"),
                              &(struct proc_opts){.path_prefix = "/opt/a:/opt/b"}, &res, NULL),
                     0);
    char want[8192];
    snprintf(want, sizeof want, "/opt/a:/opt/b:%s\n", saved);
    assert_string_equal(res.out, want);
    assert_string_equal(getenv("PATH"), saved);
    proc_result_free(&res);
    free(saved);
}

static void test_proc_run_path_prefix_applies_after_env(void **state)
{
    (void)state;
    struct proc_result res;
    const char *const env[] = {"PATH=/usr/bin:/bin", NULL};
    assert_int_equal(proc_run(ARGV("printenv", "PATH"),
                              &(struct proc_opts){.env = env, .path_prefix = "/opt/x"}, &res, NULL),
                     0);
    assert_string_equal(res.out, "/opt/x:/usr/bin:/bin\n");
    proc_result_free(&res);
}

static void test_proc_run_env_adds_and_replaces(void **state)
{
    (void)state;
    assert_int_equal(setenv("CELLAR_TEST_VAR", "parent", 1), 0);
    unsetenv("CELLAR_TEST_NEW");
    const char *const env[] = {"CELLAR_TEST_VAR=child", "CELLAR_TEST_NEW=x=y", NULL};
    struct proc_result res;

    assert_int_equal(proc_run(ARGV("printenv", "CELLAR_TEST_VAR", "CELLAR_TEST_NEW"),
                              &(struct proc_opts){.env = env}, &res, NULL),
                     0);
    assert_string_equal(res.out, "child\nx=y\n");
    proc_result_free(&res);

    /* replaced, not added twice */
    assert_int_equal(proc_run(ARGV("env"), &(struct proc_opts){.env = env}, &res, NULL), 0);
    const char *first = strstr(res.out, "CELLAR_TEST_VAR=");
    assert_non_null(first);
    assert_null(strstr(first + 1, "CELLAR_TEST_VAR="));
    proc_result_free(&res);

    /* the parent's environment is untouched */
    assert_string_equal(getenv("CELLAR_TEST_VAR"), "parent");
    assert_null(getenv("CELLAR_TEST_NEW"));
    unsetenv("CELLAR_TEST_VAR");
}

static void test_proc_run_env_last_duplicate_wins(void **state)
{
    (void)state;
    const char *const env[] = {"CELLAR_TEST_DUP=one", "CELLAR_TEST_DUP=two", NULL};
    struct proc_result res;
    assert_int_equal(proc_run(ARGV("env"), &(struct proc_opts){.env = env}, &res, NULL), 0);
    assert_non_null(strstr(res.out, "CELLAR_TEST_DUP=two\n"));
    assert_null(strstr(res.out, "CELLAR_TEST_DUP=one"));
    proc_result_free(&res);
}

static void test_proc_run_cwd(void **state)
{
    (void)state;
    char real[4096];
    assert_non_null(realpath(unit_tmp, real));
    char before[4096];
    assert_non_null(getcwd(before, sizeof before));
    struct proc_result res;
    assert_int_equal(proc_run(ARGV("pwd", "-P"), &(struct proc_opts){.cwd = unit_tmp}, &res, NULL),
                     0);
    char want[4200];
    snprintf(want, sizeof want, "%s\n", real);
    assert_string_equal(res.out, want);
    proc_result_free(&res);
    char after[4096];
    assert_non_null(getcwd(after, sizeof after));
    assert_string_equal(before, after);
}

static void test_proc_run_cwd_missing_fails(void **state)
{
    (void)state;
    struct cel_err err = {0};
    struct proc_result res;
    int rc =
        proc_run(ARGV("pwd"), &(struct proc_opts){.cwd = "/nonexistent-cellar-dir"}, &res, &err);
    assert_int_equal(rc, -CEL_E_PROC);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_string_equal(err.msg,
                        "cannot run 'pwd' in '/nonexistent-cellar-dir': No such file or directory");
    assert_null(res.out);
}

static void test_proc_run_resets_signals_in_child(void **state)
{
    (void)state;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int;
    sigemptyset(&ign.sa_mask);
    assert_int_equal(sigaction(SIGINT, &ign, &old_int), 0);
    sigset_t usr2, old_mask;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    assert_int_equal(sigprocmask(SIG_BLOCK, &usr2, &old_mask), 0);

    struct proc_result res;
    int rc = proc_run(ARGV("cat", "/proc/self/status"), NULL, &res, NULL);

    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    sigaction(SIGINT, &old_int, NULL);
    assert_int_equal(rc, 0);
    char blk[64] = "", ignored[64] = "";
    const char *b = strstr(res.out, "\nSigBlk:"), *i = strstr(res.out, "\nSigIgn:");
    if (b)
        sscanf(b, " SigBlk: %63s", blk);
    if (i)
        sscanf(i, " SigIgn: %63s", ignored);
    proc_result_free(&res);
    assert_string_equal(blk, "0000000000000000");
    assert_string_equal(ignored, "0000000000000000");
}

static void test_proc_start_own_process_group(void **state)
{
    (void)state;
    struct proc *p = NULL;
    struct proc_result res;
    assert_int_equal(proc_start(ARGV("sleep", "30"), NULL, &p, NULL), 0);
    assert_int_equal(getpgid(proc_pid(p)), proc_pid(p));
    proc_kill(p, SIGKILL);
    assert_int_equal(proc_finish(p, &res, NULL), 0);
    assert_int_equal(res.signal, SIGKILL);
    proc_result_free(&res);

    assert_int_equal(
        proc_start(ARGV("sleep", "30"), &(struct proc_opts){.same_process_group = true}, &p, NULL),
        0);
    assert_int_equal(getpgid(proc_pid(p)), getpgrp());
    proc_kill(p, SIGTERM);
    assert_int_equal(proc_finish(p, &res, NULL), 0);
    assert_int_equal(res.signal, SIGTERM);
    proc_result_free(&res);
}

/*
 * A child dies with the process that started it, even of SIGKILL. In a
 * helper process made a subreaper (so the orphaned child is reparented to
 * it and can be waited for), a "cellar" process starts `sleep 30` and
 * reports its pid; the helper kills "cellar" with SIGKILL, then waits for
 * the sleep: it must end by SIGKILL, not by finishing its 30 s. Exit codes
 * of the helper: 0 killed as expected, 1 ended otherwise, 2 set-up failed.
 */
static void test_proc_child_dies_with_its_parent(void **state)
{
    (void)state;
    pid_t helper = fork();
    assert_true(helper >= 0);
    if (helper == 0) {
        int fds[2];
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || pipe(fds) < 0)
            _exit(2);
        pid_t cellar = fork();
        if (cellar < 0)
            _exit(2);
        if (cellar == 0) {
            struct proc *p = NULL;
            pid_t pid = proc_start(ARGV("sleep", "30"), NULL, &p, NULL) == 0 ? proc_pid(p) : -1;
            if (write(fds[1], &pid, sizeof pid) != (ssize_t)sizeof pid)
                _exit(2);
            for (;;)
                pause(); /* until killed */
        }
        pid_t sleeper = -1;
        if (read(fds[0], &sleeper, sizeof sleeper) != (ssize_t)sizeof sleeper || sleeper <= 0)
            _exit(2);
        kill(cellar, SIGKILL);
        int st;
        if (waitpid(cellar, &st, 0) != cellar || waitpid(sleeper, &st, 0) != sleeper)
            _exit(2);
        _exit(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(helper, &st, 0), helper);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_proc_run_invalid_options(void **state)
{
    (void)state;
    struct cel_err err = {0};
    struct proc_result res;
    assert_int_equal(proc_run(ARGV("cat"),
                              &(struct proc_opts){.stdin_path = "/dev/null", .stdin_inherit = true},
                              &res, &err),
                     -CEL_E_INTERNAL);
    assert_string_equal(
        err.msg, "invalid options to run 'cat': more than one source for the standard input");
    assert_int_equal(proc_run(ARGV("cat"), &(struct proc_opts){.out_mode = PROC_LINES}, &res, &err),
                     -CEL_E_INTERNAL);
    assert_string_equal(err.msg, "invalid options to run 'cat': PROC_LINES without on_line");
    assert_int_equal(proc_run(ARGV("cat"), &(struct proc_opts){.out_mode = PROC_DATA}, &res, &err),
                     -CEL_E_INTERNAL);
    assert_string_equal(err.msg, "invalid options to run 'cat': PROC_DATA without on_data");
    assert_int_equal(proc_run(ARGV("cat"), &(struct proc_opts){.err_mode = PROC_FILE}, &res, &err),
                     -CEL_E_INTERNAL);
    assert_string_equal(err.msg, "invalid options to run 'cat': PROC_FILE without a path");
    const char *const env[] = {"NOEQUALS", NULL};
    assert_int_equal(proc_run(ARGV("cat"), &(struct proc_opts){.env = env}, &res, &err),
                     -CEL_E_INTERNAL);
    assert_string_equal(
        err.msg, "invalid options to run 'cat': environment entry not of the form NAME=VALUE");
    assert_int_equal(proc_run((const char *const[]){NULL}, NULL, &res, &err), -CEL_E_INTERNAL);
    struct proc *p = (struct proc *)&err; /* must be reset to NULL */
    assert_int_equal(proc_start_shell(NULL, NULL, &p, &err), -CEL_E_INTERNAL);
    assert_null(p);
}

/* Bytes recorded by the PROC_DATA callback, per stream. */
struct data_log {
    unsigned char *buf[3];
    size_t len[3];
    size_t calls, biggest;
};

static void record_data(void *ctx, int stream, const void *data, size_t len)
{
    struct data_log *log = ctx;
    assert_true(stream == 1 || stream == 2);
    log->buf[stream] = realloc(log->buf[stream], log->len[stream] + len);
    memcpy(log->buf[stream] + log->len[stream], data, len);
    log->len[stream] += len;
    log->calls++;
    if (len > log->biggest)
        log->biggest = len;
}

static void test_proc_run_data_mode_passes_bytes_unchanged(void **state)
{
    (void)state;
    /* 300 KiB of every byte value, newlines and NULs included: binary
     * output must arrive exactly as written, in pieces of at most 64 KiB */
    enum { N = 300 * 1024 };
    unsigned char *in = malloc(N);
    for (size_t i = 0; i < N; i++)
        in[i] = (unsigned char)((i * 7 + i / 251) & 0xff);
    struct data_log log = {0};
    struct proc_result res;
    assert_int_equal(proc_run_shell("cat; printf 'e\\n\\0' >&2",
                                    &(struct proc_opts){.stdin_data = in,
                                                        .stdin_len = N,
                                                        .out_mode = PROC_DATA,
                                                        .err_mode = PROC_DATA,
                                                        .on_data = record_data,
                                                        .ctx = &log},
                                    &res, NULL),
                     0);
    assert_int_equal(res.status, 0);
    assert_null(res.out);
    assert_null(res.err);
    assert_int_equal(log.len[1], N);
    assert_memory_equal(log.buf[1], in, N);
    assert_int_equal(log.len[2], 3);
    assert_memory_equal(log.buf[2], "e\n\0", 3);
    assert_true(log.biggest <= 65536);
    proc_result_free(&res);
    free(log.buf[1]);
    free(log.buf[2]);
    free(in);
}

/* ---- stdin ------------------------------------------------------------------ */

static void test_proc_run_stdin_path(void **state)
{
    (void)state;
    const char *in = unit_write("input.txt", "line one\nline two\n");
    struct proc_result res;
    assert_int_equal(proc_run(ARGV("cat"), &(struct proc_opts){.stdin_path = in}, &res, NULL), 0);
    assert_string_equal(res.out, "line one\nline two\n");
    proc_result_free(&res);

    struct cel_err err = {0};
    assert_int_equal(
        proc_run(ARGV("cat"), &(struct proc_opts){.stdin_path = unit_path("missing")}, &res, &err),
        -CEL_E_PROC);
    char want[4400];
    snprintf(want, sizeof want, "cannot run 'cat': cannot open '%s': No such file or directory",
             unit_path("missing"));
    assert_string_equal(err.msg, want);
}

static void test_proc_run_stdin_default_is_dev_null(void **state)
{
    (void)state;
    struct proc_result res;
    assert_int_equal(proc_run(ARGV("readlink", "/proc/self/fd/0"), NULL, &res, NULL), 0);
    assert_string_equal(res.out, "/dev/null\n");
    proc_result_free(&res);
    assert_int_equal(proc_run(ARGV("cat"), NULL, &res, NULL), 0);
    assert_string_equal(res.out, "");
    assert_int_equal(res.out_len, 0);
    proc_result_free(&res);
}

static void test_proc_run_stdin_inherit(void **state)
{
    (void)state;
    const char *in = unit_write("inherited.txt", "from our stdin\n");
    int saved = dup(0);
    int fd = open(in, O_RDONLY);
    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, 0), 0);
    close(fd);
    struct proc_result res;
    int rc = proc_run(ARGV("cat"), &(struct proc_opts){.stdin_inherit = true}, &res, NULL);
    dup2(saved, 0);
    close(saved);
    assert_int_equal(rc, 0);
    assert_string_equal(res.out, "from our stdin\n");
    proc_result_free(&res);
}

static void test_proc_run_stdin_data_large_through_cat(void **state)
{
    (void)state;
    size_t len = 4 * 1024 * 1024;
    unsigned char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)((i * 7 + i / 4096) & 0xff);
    struct proc_result res;
    int rc = proc_run(
        ARGV("cat"),
        &(struct proc_opts){.stdin_data = data, .stdin_len = len, .capture_max = 8 * 1024 * 1024},
        &res, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.out_len, len);
    assert_false(res.out_truncated);
    assert_memory_equal(res.out, data, len);
    assert_int_equal(res.out[len], '\0');
    proc_result_free(&res);
    free(data);
}

static void test_proc_run_stdin_data_child_writes_before_reading(void **state)
{
    (void)state;
    /* The child fills its stdout pipe many times over before it reads any
     * input: a runner that wrote all of stdin first would deadlock. */
    size_t len = 1024 * 1024;
    char *data = malloc(len);
    memset(data, 'i', len);
    struct proc_result res;
    int rc = proc_run_shell(
        "head -c 1000000 /dev/zero; cat",
        &(struct proc_opts){.stdin_data = data, .stdin_len = len, .capture_max = 4 * 1024 * 1024},
        &res, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.out_len, 1000000 + len);
    assert_true(all_bytes_are(res.out, 1000000, '\0'));
    assert_true(all_bytes_are(res.out + 1000000, len, 'i'));
    proc_result_free(&res);
    free(data);
}

static void test_proc_run_stdin_data_child_stops_reading(void **state)
{
    (void)state;
    size_t len = 4 * 1024 * 1024;
    char *data = malloc(len);
    memset(data, 'x', len);
    struct proc_result res;

    /* never reads: our writes hit EPIPE, and SIGPIPE must not kill us */
    int rc = proc_run(ARGV("true"), &(struct proc_opts){.stdin_data = data, .stdin_len = len}, &res,
                      NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(res.status, 0);
    proc_result_free(&res);

    /* reads a little, then exits */
    rc = proc_run(ARGV("head", "-c", "10"),
                  &(struct proc_opts){.stdin_data = data, .stdin_len = len}, &res, NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(res.out, "xxxxxxxxxx");
    proc_result_free(&res);

    /* no SIGPIPE left pending or blocked behind */
    sigset_t set;
    assert_int_equal(sigpending(&set), 0);
    assert_int_equal(sigismember(&set, SIGPIPE), 0);
    assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &set), 0);
    assert_int_equal(sigismember(&set, SIGPIPE), 0);
    free(data);
}

/* ---- output modes ----------------------------------------------------------- */

static void test_proc_run_lines_split(void **state)
{
    (void)state;
    struct line_log log = {.terminated = true};
    struct proc_result res;
    int rc = proc_run_shell(
        "printf 'one\\ntwo\\r\\n\\nlast'; printf 'e1\\ne2' >&2",
        &(struct proc_opts){
            .out_mode = PROC_LINES, .err_mode = PROC_LINES, .on_line = record_line, .ctx = &log},
        &res, NULL);
    assert_int_equal(rc, 0);
    assert_null(res.out);
    assert_null(res.err);
    assert_true(log.terminated);
    assert_int_equal(log.count, 6);
    /* stdout in order; stderr in order; the two may interleave */
    const char *want_out[] = {"one", "two\r", "", "last"};
    const char *want_err[] = {"e1", "e2"};
    int o = 0, e = 0;
    for (int i = 0; i < log.count; i++) {
        if (log.stream[i] == 1) {
            assert_true(o < 4);
            assert_string_equal(log.text[i], want_out[o]);
            assert_int_equal(log.len[i], strlen(want_out[o]));
            o++;
        } else {
            assert_int_equal(log.stream[i], 2);
            assert_true(e < 2);
            assert_string_equal(log.text[i], want_err[e++]);
        }
    }
    assert_int_equal(o, 4);
    assert_int_equal(e, 2);
    line_log_free(&log);
    proc_result_free(&res);
}

static void test_proc_run_lines_long_line_in_chunks(void **state)
{
    (void)state;
    struct line_log log = {.terminated = true};
    int rc = proc_run_shell(
        "head -c 200000 /dev/zero | tr '\\0' a; printf '\\nend\\n';"
        "head -c 65536 /dev/zero | tr '\\0' b; echo",
        &(struct proc_opts){
            .out_mode = PROC_LINES, .err_mode = PROC_DISCARD, .on_line = record_line, .ctx = &log},
        NULL, NULL);
    assert_int_equal(rc, 0);
    assert_true(log.terminated);
    assert_int_equal(log.count, 6);
    const size_t want_len[] = {65536, 65536, 65536, 200000 - 3 * 65536, 3, 65536};
    const char want_c[] = {'a', 'a', 'a', 'a', 0, 'b'};
    /* the pieces of the long line say it goes on; its rest, and a line of
     * exactly a piece's length, do not */
    const bool want_more[] = {true, true, true, false, false, false};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(log.len[i], want_len[i]);
        assert_int_equal(log.more[i], want_more[i]);
        if (want_c[i])
            assert_true(all_bytes_are(log.text[i], log.len[i], want_c[i]));
    }
    assert_string_equal(log.text[4], "end");
    line_log_free(&log);
}

static void test_proc_run_file_output(void **state)
{
    (void)state;
    const char *out = unit_write("out.txt", "old content that is longer than the new one\n");
    const char *errp = unit_path("err.txt");
    struct proc_result res;
    int rc = proc_run_shell(
        "echo new; echo oops >&2",
        &(struct proc_opts){
            .out_mode = PROC_FILE, .out_path = out, .err_mode = PROC_FILE, .err_path = errp},
        &res, NULL);
    assert_int_equal(rc, 0);
    assert_null(res.out);
    assert_null(res.err);
    char *text = unit_read(out);
    assert_string_equal(text, "new\n");
    free(text);
    text = unit_read(errp);
    assert_string_equal(text, "oops\n");
    free(text);
    struct stat st;
    assert_int_equal(stat(errp, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    proc_result_free(&res);
}

static void test_proc_run_file_output_shared_path(void **state)
{
    (void)state;
    const char *path = unit_path("both.log");
    int rc = proc_run_shell(
        "echo out; echo err >&2; echo out2",
        &(struct proc_opts){
            .out_mode = PROC_FILE, .out_path = path, .err_mode = PROC_FILE, .err_path = path},
        NULL, NULL);
    assert_int_equal(rc, 0);
    char *text = unit_read(path);
    assert_string_equal(text, "out\nerr\nout2\n");
    free(text);
}

static void test_proc_run_file_output_unopenable_fails(void **state)
{
    (void)state;
    struct cel_err err = {0};
    int rc = proc_run(ARGV("true"),
                      &(struct proc_opts){.out_mode = PROC_FILE, .out_path = "/nonexistent/dir/x"},
                      NULL, &err);
    assert_int_equal(rc, -CEL_E_PROC);
    assert_string_equal(
        err.msg, "cannot run 'true': cannot open '/nonexistent/dir/x': No such file or directory");
}

static void test_proc_run_discard(void **state)
{
    (void)state;
    struct proc_result res;
    int rc = proc_run_shell("echo out; echo err >&2; t=$(readlink /proc/$$/fd/1); echo \"$t\" >&2",
                            &(struct proc_opts){.out_mode = PROC_DISCARD}, &res, NULL);
    assert_int_equal(rc, 0);
    assert_null(res.out);
    assert_string_equal(res.err, "err\n/dev/null\n");
    proc_result_free(&res);
}

static void test_proc_run_inherit_stderr(void **state)
{
    (void)state;
    const char *path = unit_path("our-stderr.txt");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int saved = dup(2);
    assert_true(fd >= 0 && saved >= 0);
    dup2(fd, 2);
    close(fd);
    struct proc_result res;
    int rc = proc_run_shell("echo to-our-stderr >&2; echo captured",
                            &(struct proc_opts){.err_mode = PROC_INHERIT}, &res, NULL);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(rc, 0);
    assert_string_equal(res.out, "captured\n");
    assert_null(res.err);
    char *text = unit_read(path);
    assert_string_equal(text, "to-our-stderr\n");
    free(text);
    proc_result_free(&res);
}

static void test_proc_run_capture_truncated(void **state)
{
    (void)state;
    struct proc_result res;
    /* 300 KiB through a 10-byte capture: the child must not block on a full pipe */
    int rc = proc_run_shell("printf 0123456789abcdef; head -c 300000 /dev/zero; echo e >&2",
                            &(struct proc_opts){.capture_max = 10}, &res, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.out_len, 10);
    assert_string_equal(res.out, "0123456789");
    assert_true(res.out_truncated);
    assert_string_equal(res.err, "e\n");
    assert_false(res.err_truncated);
    proc_result_free(&res);
}

/* ---- time-outs and signals -------------------------------------------------- */

static void test_proc_run_timeout_kills_sleep(void **state)
{
    (void)state;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct proc_result res;
    struct cel_err err = {0};
    int rc = proc_run(ARGV("sleep", "30"), &(struct proc_opts){.timeout_ms = 200}, &res, &err);
    long ms = elapsed_ms(&t0);
    assert_int_equal(rc, -CEL_E_TIMEOUT);
    assert_int_equal(err.code, CEL_E_TIMEOUT);
    assert_string_equal(err.msg, "'sleep' timed out after 0.2 s");
    assert_true(res.timed_out);
    assert_int_equal(res.signal, SIGTERM);
    assert_int_equal(res.status, -1);
    assert_string_equal(res.out, "");
    assert_true(ms >= 190);
    proc_result_free(&res);
}

static void test_proc_run_timeout_sigkill_after_grace(void **state)
{
    (void)state;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct proc_result res;
    struct cel_err err = {0};
    int rc =
        proc_run_shell("trap '' TERM; echo ready; sleep 30",
                       &(struct proc_opts){.timeout_ms = 200, .kill_grace_ms = 300}, &res, &err);
    long ms = elapsed_ms(&t0);
    assert_int_equal(rc, -CEL_E_TIMEOUT);
    assert_true(res.timed_out);
    assert_int_equal(res.signal, SIGKILL);
    assert_string_equal(res.out, "ready\n");
    assert_true(ms >= 480);
    proc_result_free(&res);
}

/* True when pid is gone or a zombie (pid 1 of a container may not reap). */
static bool process_gone(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = unit_read(path);
    if (!stat)
        return true;
    const char *close_paren = strrchr(stat, ')');
    bool zombie = close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
    free(stat);
    return zombie;
}

static void test_proc_run_timeout_kills_grandchild(void **state)
{
    (void)state;
    struct proc_result res;
    int rc = proc_run_shell("sleep 30 & echo $!; wait", &(struct proc_opts){.timeout_ms = 200},
                            &res, NULL);
    assert_int_equal(rc, -CEL_E_TIMEOUT);
    pid_t grandchild = (pid_t)atoi(res.out);
    assert_true(grandchild > 0);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; i++) {
        gone = process_gone(grandchild);
        if (!gone)
            usleep(10000);
    }
    assert_true(gone);
    proc_result_free(&res);
}

static void test_proc_run_timeout_abandons_escaped_pipe_holder(void **state)
{
    (void)state;
    /* setsid takes the background sleep out of the process group, with our
     * stdout pipe: after SIGKILL and a short wait the runner stops reading */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct proc_result res;
    int rc =
        proc_run_shell("setsid sleep 30 & echo $!; wait",
                       &(struct proc_opts){.timeout_ms = 100, .kill_grace_ms = 100}, &res, NULL);
    long ms = elapsed_ms(&t0);
    assert_int_equal(rc, -CEL_E_TIMEOUT);
    pid_t escaped = (pid_t)atoi(res.out);
    assert_true(escaped > 0);
    kill(escaped, SIGKILL);
    assert_true(ms >= 650);
    proc_result_free(&res);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void test_proc_run_survives_eintr(void **state)
{
    (void)state;
    /* a timer signal without SA_RESTART every 2 ms interrupts every call */
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval every = {{0, 2000}, {0, 2000}}, off = {{0, 0}, {0, 0}};
    alarms = 0;
    assert_int_equal(setitimer(ITIMER_REAL, &every, NULL), 0);

    size_t len = 2 * 1024 * 1024;
    char *data = malloc(len);
    memset(data, 'z', len);
    struct proc_result res, res2;
    int rc = proc_run_shell(
        "sleep 0.1; cat",
        &(struct proc_opts){.stdin_data = data, .stdin_len = len, .capture_max = 4 * 1024 * 1024},
        &res, NULL);
    struct cel_err err = {0};
    int rc2 = proc_run(ARGV("cellar-no-such-program-xyz"), NULL, &res2, &err);

    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    assert_true(alarms > 10);
    assert_int_equal(rc, 0);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.out_len, len);
    assert_true(all_bytes_are(res.out, len, 'z'));
    assert_int_equal(rc2, -CEL_E_PROC);
    assert_string_equal(err.msg,
                        "cannot run 'cellar-no-such-program-xyz': No such file or directory");
    proc_result_free(&res);
    free(data);
}

static void test_proc_poll_several_children(void **state)
{
    (void)state;
    /* Three children meet: each leaves its mark in the test's directory and
     * waits for the other two, which only ends if they run side by side
     * (one after another, the first would wait in vain and say "alone").
     * What is checked is that outcome, not how long it took. */
    static char meet[3][4400];
    for (int i = 0; i < 3; i++) {
        static const char *const says[] = {"echo first", "echo third >&2", "echo fourth"};
        snprintf(meet[i], sizeof meet[i],
                 "cd '%s' && touch m%d && n=0; "
                 "until [ -e m0 ] && [ -e m1 ] && [ -e m2 ]; do "
                 "n=$((n+1)); [ $n -gt 6000 ] && { echo alone; exit 9; }; sleep 0.01; done; %s",
                 unit_tmp, i, says[i]);
    }
    const char *cmds[] = {meet[0], "echo second; exit 4", meet[1], meet[2]};
    struct proc *procs[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(proc_start_shell(cmds[i], NULL, &procs[i], NULL), 0);
    size_t done = 0;
    int rounds = 0;
    while ((done = proc_poll(procs, 4, -1)) < 4)
        rounds++;
    assert_true(rounds < 100000);
    for (int i = 0; i < 4; i++)
        assert_true(proc_done(procs[i]));
    /* all done already: returns at once */
    assert_int_equal(proc_poll(procs, 4, -1), 4);

    struct proc_result res[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(proc_finish(procs[i], &res[i], NULL), 0);
    assert_string_equal(res[0].out, "first\n");
    assert_int_equal(res[0].status, 0);
    assert_string_equal(res[1].out, "second\n");
    assert_int_equal(res[1].status, 4);
    assert_string_equal(res[2].err, "third\n");
    assert_int_equal(res[2].status, 0);
    assert_string_equal(res[3].out, "fourth\n");
    assert_int_equal(res[3].status, 0);
    for (int i = 0; i < 4; i++)
        proc_result_free(&res[i]);
}

static void test_proc_poll_returns_at_timeout(void **state)
{
    (void)state;
    struct proc *p;
    assert_int_equal(proc_start(ARGV("sleep", "30"), NULL, &p, NULL), 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(proc_poll(&p, 1, 100), 0);
    long ms = elapsed_ms(&t0);
    /* it waited its time-out (a lower bound no load can break) and came
     * back with the child still running */
    assert_true(ms >= 99);
    assert_false(proc_done(p));
    proc_kill(p, SIGKILL);
    struct proc_result res;
    assert_int_equal(proc_finish(p, &res, NULL), 0);
    assert_int_equal(res.signal, SIGKILL);
    proc_result_free(&res);
}

static void on_usr1(int sig)
{
    (void)sig;
    proc_signal_all(SIGTERM);
}

static void test_proc_signal_all_from_a_handler(void **state)
{
    (void)state;
    struct proc *procs[2];
    assert_int_equal(proc_start(ARGV("sleep", "30"), NULL, &procs[0], NULL), 0);
    assert_int_equal(proc_start_shell("sleep 30; echo unreachable", NULL, &procs[1], NULL), 0);
    struct sigaction sa = {.sa_handler = on_usr1}, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    raise(SIGUSR1);
    sigaction(SIGUSR1, &old, NULL);
    for (int i = 0; i < 2; i++) {
        struct proc_result res;
        assert_int_equal(proc_finish(procs[i], &res, NULL), 0);
        assert_int_equal(res.signal, SIGTERM);
        assert_false(res.timed_out);
        proc_result_free(&res);
    }
}

/* ---- hygiene ---------------------------------------------------------------- */

/* Every kind of run once, successes and failures alike. */
static void run_everything_once(void)
{
    struct proc_result res;
    struct line_log log = {.terminated = true};
    char data[1000];
    memset(data, 'd', sizeof data);
    const char *in = unit_write("in.txt", "input\n");
    const struct proc_opts opts[] = {
        {0},
        {.stdin_data = data, .stdin_len = sizeof data},
        {.stdin_path = in},
        {.out_mode = PROC_LINES, .err_mode = PROC_LINES, .on_line = record_line, .ctx = &log},
        {.out_mode = PROC_FILE,
         .out_path = unit_path("f"),
         .err_mode = PROC_FILE,
         .err_path = unit_path("f")},
        {.out_mode = PROC_DISCARD, .env = ARGV("A=1"), .path_prefix = "/x"},
        {.cwd = "/nonexistent"},
        {.stdin_path = "/nonexistent"},
        {.timeout_ms = 50},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        proc_run(ARGV("cat"), &opts[i], &res, NULL);
        proc_result_free(&res);
    }
    line_log_free(&log);
    proc_run(ARGV("cellar-no-such-program-xyz"), NULL, &res, NULL);
    proc_result_free(&res);
    proc_run(ARGV("sleep", "30"), &(struct proc_opts){.timeout_ms = 50}, &res, NULL);
    proc_result_free(&res);
    struct proc *p;
    if (proc_start_shell("echo x", NULL, &p, NULL) == 0)
        proc_finish(p, NULL, NULL);
}

static void test_proc_run_no_fd_leaks(void **state)
{
    (void)state;
    run_everything_once(); /* let libraries open what they keep open */
    int before = count_open_fds();
    run_everything_once();
    run_everything_once();
    assert_int_equal(count_open_fds(), before);
}

static void test_proc_run_no_zombies(void **state)
{
    (void)state;
    run_everything_once();
    int st;
    errno = 0;
    assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_proc_describe_texts(void **state)
{
    (void)state;
    struct strbuf sb = {0};
    proc_describe(&(struct proc_result){.status = 23}, 0, &sb);
    assert_string_equal(sb_str(&sb), "exited with status 23");
    sb_reset(&sb);
    proc_describe(&(struct proc_result){.status = -1, .signal = SIGKILL}, 0, &sb);
    assert_string_equal(sb_str(&sb), "killed by signal 9 (Killed)");
    sb_reset(&sb);
    proc_describe(&(struct proc_result){.status = -1, .signal = SIGTERM, .timed_out = true}, 30000,
                  &sb);
    assert_string_equal(sb_str(&sb), "timed out after 30 s");
    sb_reset(&sb);
    proc_describe(&(struct proc_result){.status = -1, .timed_out = true}, 2500, &sb);
    assert_string_equal(sb_str(&sb), "timed out after 2.5 s");
    sb_reset(&sb);
    proc_describe(&(struct proc_result){.status = -1, .timed_out = true}, 250, &sb);
    assert_string_equal(sb_str(&sb), "timed out after 0.25 s");
    sb_reset(&sb);
    /* appends */
    sb_append(&sb, "rsync ");
    proc_describe(&(struct proc_result){.status = 0}, 0, &sb);
    assert_string_equal(sb_str(&sb), "rsync exited with status 0");
    sb_free(&sb);
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup_tmpdir, unit_teardown_tmpdir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_proc_run_captures_stdout_and_stderr_separately),
        T(test_proc_run_passes_arguments_verbatim),
        T(test_proc_run_exit_status),
        T(test_proc_run_shell_signal_death),
        T(test_proc_run_shell_values_travel_in_env),
        T(test_proc_run_shell_command_not_found_is_status_127),
        T(test_proc_run_res_may_be_null),
        T(test_proc_run_exec_failure_message),
        T(test_proc_run_exec_failure_permission_denied),
        T(test_proc_run_path_prefix_finds_script),
        T(test_proc_run_path_prefix_applies_after_env),
        T(test_proc_run_env_adds_and_replaces),
        T(test_proc_run_env_last_duplicate_wins),
        T(test_proc_run_cwd),
        T(test_proc_run_cwd_missing_fails),
        T(test_proc_run_resets_signals_in_child),
        T(test_proc_start_own_process_group),
        T(test_proc_child_dies_with_its_parent),
        T(test_proc_run_invalid_options),
        T(test_proc_run_data_mode_passes_bytes_unchanged),
        T(test_proc_run_stdin_path),
        T(test_proc_run_stdin_default_is_dev_null),
        T(test_proc_run_stdin_inherit),
        T(test_proc_run_stdin_data_large_through_cat),
        T(test_proc_run_stdin_data_child_writes_before_reading),
        T(test_proc_run_stdin_data_child_stops_reading),
        T(test_proc_run_lines_split),
        T(test_proc_run_lines_long_line_in_chunks),
        T(test_proc_run_file_output),
        T(test_proc_run_file_output_shared_path),
        T(test_proc_run_file_output_unopenable_fails),
        T(test_proc_run_discard),
        T(test_proc_run_inherit_stderr),
        T(test_proc_run_capture_truncated),
        T(test_proc_run_timeout_kills_sleep),
        T(test_proc_run_timeout_sigkill_after_grace),
        T(test_proc_run_timeout_kills_grandchild),
        T(test_proc_run_timeout_abandons_escaped_pipe_holder),
        T(test_proc_run_survives_eintr),
        T(test_proc_poll_several_children),
        T(test_proc_poll_returns_at_timeout),
        T(test_proc_signal_all_from_a_handler),
        T(test_proc_run_no_fd_leaks),
        T(test_proc_run_no_zombies),
        T(test_proc_describe_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
