/*
 * Unit tests of the console's job event parser (tui_job_feed in
 * src/tui/job.c): each JSON event line of a child `cellar --batch --format
 * json` (phase, progress, log, result, end; see src/batch.c) and each of
 * its stderr lines must land in the job's fields and log; malformed JSON,
 * JSON that is not an event and unknown events must not crash and must be
 * kept in the log as they came. Last, a real child run through
 * tui_jobs_poll: its lines reach the parser, and a child that ends without
 * an end event fails with how it ended.
 */
#include "unit.h"

#include "tui/job.h"

static struct tui_job *job(void)
{
    return tui_job_new("backup pg", "backup", "pg");
}

static struct strbuf log_buf;

/* The job's log as one string, lines joined with '\n' (valid until the
 * next call). */
static const char *log_text(const struct tui_job *j)
{
    struct strbuf sb = log_buf;
    sb_reset(&sb);
    for (size_t i = 0; i < j->n_log; i++)
        sb_appendf(&sb, "%s%s", i ? "\n" : "", j->log[i]);
    log_buf = sb;
    return sb_str(&log_buf);
}

static void test_tui_job_new(void **state)
{
    (void)state;
    struct tui_job *j = job();
    assert_string_equal(j->title, "backup pg");
    assert_string_equal(j->command, "backup");
    assert_string_equal(j->server, "pg");
    assert_int_equal(j->state, TUI_JOB_RUNNING);
    assert_null(j->proc);
    assert_int_equal(j->n_log, 0);
    tui_job_free(j);
    j = tui_job_new("check all", "check", NULL);
    assert_null(j->server);
    tui_job_free(j);
    tui_job_free(NULL);
}

static void test_tui_job_feed_phase(void **state)
{
    (void)state;
    struct tui_job *j = job();
    tui_job_feed(j, 1,
                 "{\"event\":\"phase\",\"server\":\"pg\",\"phase\":\"copy\","
                 "\"text\":\"copying PGDATA\"}");
    assert_string_equal(j->phase, "copying PGDATA");
    assert_int_equal(j->phases, 1);
    assert_int_equal(j->changes, 1);
    tui_job_feed(j, 1, "{\"event\":\"phase\",\"phase\":\"stop\",\"text\":\"stopping the backup\"}");
    assert_string_equal(j->phase, "stopping the backup");
    assert_int_equal(j->phases, 2);
    /* a phase without text clears it */
    tui_job_feed(j, 1, "{\"event\":\"phase\",\"phase\":\"x\"}");
    assert_null(j->phase);
    assert_int_equal(j->phases, 3);
    assert_string_equal(log_text(j), "copying PGDATA\nstopping the backup\n");
    assert_int_equal(j->state, TUI_JOB_RUNNING);
    tui_job_free(j);
}

static void test_tui_job_feed_progress(void **state)
{
    (void)state;
    struct tui_job *j = job();
    assert_false(j->has_progress);
    tui_job_feed(j, 1,
                 "{\"event\":\"progress\",\"server\":\"pg\",\"bytes_done\":1048576,"
                 "\"bytes_total\":8388608,\"files_done\":3,\"files_total\":40,"
                 "\"rate\":52428800.5,\"current\":\"base/1/1259\"}");
    assert_true(j->has_progress);
    assert_int_equal(j->bytes_done, 1048576);
    assert_int_equal(j->bytes_total, 8388608);
    assert_int_equal(j->files_done, 3);
    assert_int_equal(j->files_total, 40);
    assert_true(j->rate == 52428800.5);
    assert_string_equal(j->current, "base/1/1259");
    /* the next one replaces every figure; an integer rate is a rate too,
     * and no current file clears it */
    tui_job_feed(j, 1,
                 "{\"event\":\"progress\",\"bytes_done\":8388608,\"bytes_total\":8388608,"
                 "\"files_done\":40,\"files_total\":40,\"rate\":1000}");
    assert_int_equal(j->bytes_done, 8388608);
    assert_int_equal(j->files_done, 40);
    assert_true(j->rate == 1000.0);
    assert_null(j->current);
    /* wrong types and negative numbers read as zero, never as garbage */
    tui_job_feed(j, 1,
                 "{\"event\":\"progress\",\"bytes_done\":\"many\",\"bytes_total\":-5,"
                 "\"files_done\":null,\"rate\":\"fast\",\"current\":7}");
    assert_int_equal(j->bytes_done, 0);
    assert_int_equal(j->bytes_total, 0);
    assert_int_equal(j->files_done, 0);
    assert_int_equal(j->files_total, 0);
    assert_true(j->rate == 0.0);
    assert_null(j->current);
    /* progress is not logged line by line */
    assert_int_equal(j->n_log, 0);
    assert_int_equal(j->changes, 3);
    tui_job_free(j);
}

static void test_tui_job_feed_log(void **state)
{
    (void)state;
    struct tui_job *j = job();
    tui_job_feed(j, 1,
                 "{\"event\":\"log\",\"level\":\"WARNING\",\"server\":\"pg\","
                 "\"text\":\"disk almost full\"}");
    tui_job_feed(j, 1, "{\"event\":\"log\",\"level\":\"INFO\",\"text\":\"no server here\"}");
    tui_job_feed(j, 1, "{\"event\":\"log\",\"text\":\"no level\"}");
    tui_job_feed(j, 1, "{\"event\":\"log\",\"level\":\"ERROR\",\"server\":\"pg\"}");
    assert_string_equal(log_text(j), "WARNING: pg: disk almost full\n"
                                     "INFO: no server here\n"
                                     "LOG: no level\n"
                                     "ERROR: pg: ");
    /* what it warned about, as text, for the wizard's review */
    tui_job_feed(j, 1, "{\"event\":\"log\",\"level\":\"CRITICAL\",\"text\":\"on fire\"}");
    assert_int_equal(j->n_warnings, 2);
    assert_string_equal(j->warnings[0], "disk almost full");
    assert_string_equal(j->warnings[1], "on fire");
    assert_null(j->phase);
    assert_int_equal(j->state, TUI_JOB_RUNNING);
    tui_job_free(j);
}

static void test_tui_job_feed_result(void **state)
{
    (void)state;
    struct tui_job *j = job();
    tui_job_feed(j, 1,
                 "{\"event\":\"result\",\"command\":\"check\",\"data\":{\"pg\":"
                 "{\"ssh\":{\"status\":\"OK\"}}}}");
    assert_string_equal(j->result_command, "check");
    assert_non_null(j->result);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(j->result, "pg"), "ssh"), "status")),
                        "OK");
    assert_string_equal(log_text(j), "result check: {\"pg\":{\"ssh\":{\"status\":\"OK\"}}}");
    /* a later result replaces it; one without data or command keeps the line */
    tui_job_feed(j, 1, "{\"event\":\"result\",\"command\":\"backup\",\"data\":[1,2]}");
    assert_string_equal(j->result_command, "backup");
    assert_int_equal(json_array_size(j->result), 2);
    tui_job_feed(j, 1, "{\"event\":\"result\"}");
    assert_null(j->result);
    assert_null(j->result_command);
    assert_int_equal(j->n_log, 3);
    assert_string_equal(j->log[2], "result ?: null");
    assert_int_equal(j->state, TUI_JOB_RUNNING);
    tui_job_free(j);
}

/* `check all` with two servers writes one check result per server: the job
 * keeps both (the console marks every server from it), not only the last. */
static void test_tui_job_feed_result_two_servers(void **state)
{
    (void)state;
    struct tui_job *j = tui_job_new("check all", "check", NULL);
    tui_job_feed(j, 1,
                 "{\"event\":\"result\",\"command\":\"check\",\"data\":{\"alpha\":"
                 "{\"ssh\":{\"status\":\"OK\"}}}}");
    tui_job_feed(j, 1,
                 "{\"event\":\"result\",\"command\":\"check\",\"data\":{\"beta\":"
                 "{\"ssh\":{\"status\":\"FAILED\",\"hint\":\"start it\"}}}}");
    assert_string_equal(j->result_command, "check");
    assert_int_equal(json_object_size(j->result), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(j->result, "alpha"), "ssh"), "status")),
                        "OK");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(j->result, "beta"), "ssh"), "status")),
                        "FAILED");
    /* each result is in the log as it came */
    assert_string_equal(log_text(j), "result check: {\"alpha\":{\"ssh\":{\"status\":\"OK\"}}}\n"
                                     "result check: {\"beta\":{\"ssh\":{\"status\":\"FAILED\","
                                     "\"hint\":\"start it\"}}}");
    /* a result of another command replaces them */
    tui_job_feed(j, 1, "{\"event\":\"result\",\"command\":\"backup\",\"data\":{\"id\":1}}");
    assert_int_equal(json_object_size(j->result), 1);
    assert_non_null(json_object_get(j->result, "id"));
    tui_job_free(j);
}

static void test_tui_job_feed_end_ok(void **state)
{
    (void)state;
    struct tui_job *j = job();
    tui_job_feed(j, 1, "{\"event\":\"end\",\"status\":\"ok\",\"exit\":0,\"error\":null}");
    assert_true(j->end_seen);
    assert_int_equal(j->state, TUI_JOB_OK);
    assert_string_equal(j->outcome, "ok");
    assert_int_equal(j->code, 0);
    assert_true(j->ended >= j->started);
    assert_string_equal(log_text(j), "end: ok");
    /* the first end decides: a second one is logged, not obeyed */
    tui_job_feed(j, 1,
                 "{\"event\":\"end\",\"status\":\"failed\",\"exit\":1,"
                 "\"error\":{\"message\":\"late\"}}");
    assert_int_equal(j->state, TUI_JOB_OK);
    assert_string_equal(j->outcome, "ok");
    assert_int_equal(j->code, 0);
    assert_string_equal(log_text(j), "end: ok\nend: late");
    tui_job_free(j);
}

static void test_tui_job_feed_end_failed(void **state)
{
    (void)state;
    struct tui_job *j = job();
    tui_job_feed(j, 1,
                 "{\"event\":\"end\",\"status\":\"failed\",\"exit\":1,\"error\":"
                 "{\"code\":\"CONFLICT\",\"number\":45,\"message\":\"Skipping delete "
                 "of backup X\",\"hint\":\"Take a new backup first.\"}}");
    assert_int_equal(j->state, TUI_JOB_FAILED);
    assert_string_equal(j->outcome, "Skipping delete of backup X (HINT: Take a new backup first.)");
    assert_int_equal(j->code, CEL_E_CONFLICT); /* its error number */
    assert_string_equal(log_text(j),
                        "end: Skipping delete of backup X (HINT: Take a new backup first.)");
    tui_job_free(j);

    /* no hint; no error at all; no status: failed all the same */
    j = job();
    tui_job_feed(j, 1,
                 "{\"event\":\"end\",\"status\":\"failed\",\"error\":{\"message\":\"boom\","
                 "\"hint\":null}}");
    assert_string_equal(j->outcome, "boom");
    assert_int_equal(j->code, CEL_E_PROC); /* no number: a failed program */
    tui_job_free(j);
    j = job();
    tui_job_feed(j, 1, "{\"event\":\"end\",\"status\":\"failed\",\"error\":null}");
    assert_int_equal(j->state, TUI_JOB_FAILED);
    assert_string_equal(j->outcome, "failed");
    tui_job_free(j);
    j = job();
    tui_job_feed(j, 1, "{\"event\":\"end\"}");
    assert_int_equal(j->state, TUI_JOB_FAILED);
    assert_string_equal(j->outcome, "failed");
    tui_job_free(j);
}

static void test_tui_job_feed_stderr(void **state)
{
    (void)state;
    struct tui_job *j = job();
    tui_job_feed(j, 2, "rsync: some warning");
    /* stderr is never parsed, even when it looks like an event */
    tui_job_feed(j, 2, "{\"event\":\"end\",\"status\":\"ok\"}");
    tui_job_feed(j, 2, "");
    assert_string_equal(log_text(j), "stderr: rsync: some warning\n"
                                     "stderr: {\"event\":\"end\",\"status\":\"ok\"}\n"
                                     "stderr: ");
    assert_int_equal(j->state, TUI_JOB_RUNNING);
    assert_false(j->end_seen);
    assert_int_equal(j->changes, 3);
    tui_job_free(j);
}

static void test_tui_job_feed_malformed_and_unknown(void **state)
{
    (void)state;
    struct tui_job *j = job();
    static const char *const lines[] = {
        "{\"event\":\"phase\",\"text\":", /* cut short */
        "not json at all",
        "",
        "[1,2,3]", /* JSON, not an object */
        "\"a string\"",
        "42",
        "{}",                                       /* no event */
        "{\"event\":5,\"text\":\"x\"}",             /* an event that is not a string */
        "{\"event\":\"weird\",\"text\":\"hello\"}", /* an event this console does not know */
        "{\"event\":\"\"}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        tui_job_feed(j, 1, lines[i]);
    /* every one is kept as it came, nothing else changed */
    assert_int_equal(j->n_log, sizeof lines / sizeof lines[0]);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        assert_string_equal(j->log[i], lines[i]);
    assert_int_equal(j->state, TUI_JOB_RUNNING);
    assert_int_equal(j->phases, 0);
    assert_null(j->phase);
    assert_false(j->has_progress);
    assert_null(j->result);
    assert_false(j->end_seen);
    tui_job_free(j);
}

/* A real child: its stdout lines are events, its stderr lines log lines;
 * ending without an end event is a failure saying how it ended. */
static void run_child(struct tui_job *j, const char *script)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    struct cel_err err = {0};
    assert_int_equal(tui_job_start(j, argv, &err), 0);
    struct tui_jobs js = {0};
    tui_jobs_add(&js, j);
    /* a bound against a hang only, far above what a loaded machine needs */
    for (int i = 0; i < 12000 && j->proc; i++)
        tui_jobs_poll(&js, 10);
    assert_null(j->proc);
    assert_int_equal(tui_jobs_running(&js), 0);
    js.n = 0; /* the caller frees j */
    free(js.v);
}

static void test_tui_job_child_events_and_exit(void **state)
{
    (void)state;
    struct tui_job *j = job();
    run_child(j, "printf '%s\\n' '{\"event\":\"phase\",\"text\":\"copying\"}' "
                 "'{\"event\":\"progress\",\"bytes_done\":5,\"bytes_total\":10}'; "
                 "echo oops >&2; "
                 "printf '%s\\n' '{\"event\":\"end\",\"status\":\"ok\",\"exit\":0}'");
    assert_int_equal(j->state, TUI_JOB_OK);
    assert_string_equal(j->outcome, "ok");
    assert_int_equal(j->phases, 1);
    assert_int_equal(j->bytes_done, 5);
    /* the command line first; stderr and stdout may interleave */
    assert_string_equal(j->log[0], "$ /bin/sh -c printf '%s\\n' '{\"event\":\"phase\",\"text\":"
                                   "\"copying\"}' '{\"event\":\"progress\",\"bytes_done\":5,"
                                   "\"bytes_total\":10}'; echo oops >&2; printf '%s\\n' "
                                   "'{\"event\":\"end\",\"status\":\"ok\",\"exit\":0}'");
    assert_non_null(strstr(log_text(j), "stderr: oops"));
    assert_non_null(strstr(log_text(j), "end: ok"));
    tui_job_free(j);

    j = job();
    run_child(j, "echo '{\"event\":\"phase\",\"text\":\"starting\"}'; exit 3");
    assert_int_equal(j->state, TUI_JOB_FAILED);
    assert_string_equal(j->outcome, "exited with status 3 without reporting an outcome");
    assert_int_equal(j->code, CEL_E_PROC);
    assert_string_equal(j->log[j->n_log - 1],
                        "end: exited with status 3 without reporting an outcome");
    tui_job_free(j);
}

/* A result line longer than the runner's pieces (PROC_LINE_PIECE) is put
 * together again: a list of 3000 backups, then a line of exactly one piece,
 * which is whole. */
static void test_tui_job_child_long_lines(void **state)
{
    (void)state;
    struct tui_job *j = job();
    /* {"event":"result","command":"list-backup","data":{"backups":["x...",...]}} */
    run_child(j, "printf '{\"event\":\"result\",\"command\":\"list-backup\",\"data\":"
                 "{\"backups\":['; "
                 "awk 'BEGIN { for (i = 0; i < 3000; i++) printf \"%s\\\"%050d\\\"\", "
                 "(i ? \",\" : \"\"), i }'; "
                 "printf ']}}\\n'; "
                 /* {"event":"log","level":"INFO","text":"yyy..."} of 65536 bytes */
                 "printf '{\"event\":\"log\",\"level\":\"INFO\",\"text\":\"'; "
                 "head -c 65496 /dev/zero | tr '\\0' y; printf '\"}\\n'; "
                 "printf '%s\\n' '{\"event\":\"end\",\"status\":\"ok\",\"exit\":0}'");
    assert_int_equal(j->state, TUI_JOB_OK);
    assert_string_equal(j->result_command, "list-backup");
    const json_t *list = json_object_get(j->result, "backups");
    assert_int_equal(json_array_size(list), 3000);
    assert_string_equal(json_string_value(json_array_get(list, 2999)),
                        "00000000000000000000000000000000000000000000002999");
    const char *logged = NULL;
    for (size_t i = 0; i < j->n_log; i++)
        if (strncmp(j->log[i], "INFO: ", 6) == 0)
            logged = j->log[i];
    assert_non_null(logged);
    assert_int_equal(strlen(logged), strlen("INFO: ") + 65496);
    assert_int_equal(j->pending.len, 0);
    tui_job_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tui_job_new),
        cmocka_unit_test(test_tui_job_feed_phase),
        cmocka_unit_test(test_tui_job_feed_progress),
        cmocka_unit_test(test_tui_job_feed_log),
        cmocka_unit_test(test_tui_job_feed_result),
        cmocka_unit_test(test_tui_job_feed_result_two_servers),
        cmocka_unit_test(test_tui_job_feed_end_ok),
        cmocka_unit_test(test_tui_job_feed_end_failed),
        cmocka_unit_test(test_tui_job_feed_stderr),
        cmocka_unit_test(test_tui_job_feed_malformed_and_unknown),
        cmocka_unit_test(test_tui_job_child_events_and_exit),
        cmocka_unit_test(test_tui_job_child_long_lines),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sb_free(&log_buf);
    return rc;
}
