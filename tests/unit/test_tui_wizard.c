/*
 * Unit tests of the recovery wizard's model (src/tui/wizard.c), on a
 * temporary catalogue: server "pg" with two DONE backups (A ends at
 * 03:42:25, B at 05:00:05, 2026-11-24 UTC) and WAL archived up to 06:00,
 * server "empty" with none. Keys are fed as the console feeds them; what
 * needs a child process (the dry runs, the recovery) is not started here:
 * the tmux tests drive those. Their outcomes are fed instead as finished
 * jobs (fake_job), with the JSON lines such a child writes.
 */
#include "unit.h"

#include "catalog_fixture.h"

#include "tui/wizard.h"

#define ID_A "20261124T034224"
#define ID_B "20261124T050000"

static struct cfg *cfg;

/* B: the fixture's backup moved to 05:00 and WAL segment 6. */
static char *info_b(void)
{
    struct strbuf sb = {0};
    sb_append(&sb, info_034224);
    char *s = sb_detach(&sb);
    const char *from[] = {"begin_time=2026-11-24 03:42:24.447250+00:00",
                          "end_time=2026-11-24 03:42:25.119529+00:00",
                          "begin_wal=000000010000000000000004", "end_wal=000000010000000000000004",
                          "begin_xlog=0/4000028", "end_xlog=0/4000100"};
    const char *to[] = {"begin_time=2026-11-24 05:00:00.000000+00:00",
                        "end_time=2026-11-24 05:00:05.000000+00:00",
                        "begin_wal=000000010000000000000006", "end_wal=000000010000000000000006",
                        "begin_xlog=0/6000028", "end_xlog=0/6000100"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(from); i++) {
        char *p = strstr(s, from[i]);
        assert_non_null(p);
        memcpy(p, to[i], strlen(to[i])); /* same length */
    }
    return s;
}

static int setup(void **state)
{
    if (unit_setup_tmpdir(state) < 0)
        return -1;
    write_backup("pg", ID_A, info_034224);
    char *b = info_b();
    write_backup("pg", ID_B, b);
    free(b);
    unit_mkdir("pg/wals");
    unit_mkdir("pg/wals/0000000100000000");
    /* segments 4..8, the last archived at 06:00:00 UTC */
    unit_write("pg/wals/xlog.db",
               "000000010000000000000004\t16777216\t1795491780.0\tNone\n"
               "000000010000000000000005\t16777216\t1795492800.0\tNone\n"
               "000000010000000000000006\t16777216\t1795496405.0\tNone\n"
               "000000010000000000000007\t16777216\t1795497000.0\tNone\n"
               "000000010000000000000008\t16777216\t1795500000.0\tNone\n");
    unit_mkdir("empty/base");
    char text[8192];
    snprintf(text, sizeof text,
             "[barman]\nbarman_home = %s\nbarman_user = root\n"
             "[pg]\ndescription = Main DB\nconninfo = host=/nonexistent\n"
             "[empty]\nconninfo = host=/nonexistent\n"
             "[bkt]\ncloud_source = s3://bkt/pg\ncloud_endpoint_url = http://127.0.0.1:1\n",
             unit_tmp);
    struct cel_err err = {0};
    return cfg_load_text(text, "test.conf", &cfg, &err);
}

static int teardown(void **state)
{
    cfg_free(cfg);
    cfg = NULL;
    return unit_teardown_tmpdir(state);
}

static void type(struct wizard *w, const char *s)
{
    for (; *s; s++)
        assert_true(wz_key(w, WZ_KEY_CHAR, (unsigned char)*s));
}

static void clear(struct wizard *w)
{
    while (w->value[0])
        wz_key(w, WZ_KEY_BACKSPACE, 0);
}

static ssize_t server(const char *name)
{
    for (size_t i = 0; i < cfg->n_servers; i++)
        if (strcmp(cfg->servers[i].name, name) == 0)
            return (ssize_t)i;
    fail_msg("no server %s", name);
    return -1;
}

static void test_wz_no_done_backup_stays_on_the_server_step(void **state)
{
    (void)state;
    struct wizard w;
    wz_open(&w, cfg, "cellar", server("empty"));
    assert_true(wz_key(&w, WZ_KEY_ENTER, 0));
    assert_int_equal(w.step, WZ_SERVER);
    assert_int_equal(w.msg_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.msg, "no DONE backup"));
    /* Esc on the first step closes the wizard */
    assert_false(wz_key(&w, WZ_KEY_ESC, 0));
    wz_free(&w);
}

static void test_wz_time_target_window_and_backup_choice(void **state)
{
    (void)state;
    struct wizard w;
    wz_open(&w, cfg, "cellar", server("pg"));
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_TARGET);
    assert_true(w.has_win);
    assert_true(w.win.end == 1795500000.0);
    /* a point in time: the value is prefilled with the window's end */
    wz_key(&w, WZ_KEY_DOWN, 0);
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_VALUE);
    assert_true(w.value[0]);
    assert_int_not_equal(w.value_level, WZ_MSG_ERROR);
    /* checked as typed: before the oldest backup's end, after the last WAL */
    clear(&w);
    type(&w, "2026-11-24 03:00:00+00");
    assert_int_equal(w.value_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.value_msg, "before the recoverable window"));
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_VALUE); /* refused in place */
    clear(&w);
    type(&w, "2026-11-24 09:00:00+00");
    assert_int_equal(w.value_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.value_msg, "after the recoverable window"));
    clear(&w);
    type(&w, "2026-11-24 06:00:00+00"); /* the last segment's archive time: nothing after it */
    assert_int_equal(w.value_level, WZ_MSG_ERROR);
    clear(&w);
    type(&w, "2026-11-24 04:30");
    assert_int_equal(w.value_level, WZ_MSG_ERROR); /* not a time yet */
    type(&w, ":00");
    assert_int_equal(w.value_level, WZ_MSG_WARN); /* no time zone */
    type(&w, "+00");
    assert_int_equal(w.value_level, WZ_MSG_INFO);
    /* the backup: the newest DONE one that ended before the target */
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_BACKUP);
    assert_non_null(wz_backup(&w));
    assert_string_equal(wz_backup(&w)->id, ID_A);
    assert_true(w.backup_why[0]);
    /* back, a later target: B is chosen instead */
    wz_key(&w, WZ_KEY_ESC, 0);
    assert_int_equal(w.step, WZ_VALUE);
    assert_string_equal(w.value, "2026-11-24 04:30:00+00"); /* kept */
    clear(&w);
    type(&w, "2026-11-24 05:30:00+00");
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_string_equal(wz_backup(&w)->id, ID_B);
    /* the DBA picks the older one, then goes on to the destination */
    wz_key(&w, WZ_KEY_DOWN, 0);
    assert_string_equal(wz_backup(&w)->id, ID_A);
    assert_true(w.backup_picked);
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_DEST);
    assert_int_equal(w.n_tbs, 1); /* tbs1 of the backup */
    type(&w, "relative/dir");
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_DEST);
    assert_int_equal(w.msg_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.msg, "absolute path"));
    assert_int_equal(w.jobs.n, 0); /* nothing started */
    /* back to the value, which an older target makes refuse the chosen backup */
    wz_key(&w, WZ_KEY_ESC, 0);
    wz_key(&w, WZ_KEY_ESC, 0);
    assert_int_equal(w.step, WZ_VALUE);
    assert_string_equal(w.dest, "relative/dir"); /* every answer kept */
    clear(&w);
    type(&w, "2026-11-24 04:30:00+00");
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_BACKUP);
    assert_string_equal(wz_backup(&w)->id, ID_A); /* the DBA's choice still fits */
    wz_free(&w);
}

static void test_wz_lsn_and_name_checks(void **state)
{
    (void)state;
    struct wizard w;
    wz_open(&w, cfg, "cellar", server("pg"));
    wz_key(&w, WZ_KEY_ENTER, 0);
    for (size_t i = 0; i < rc_target_n_defs && rc_target_defs[w.target].kind != RC_TARGET_LSN; i++)
        wz_key(&w, WZ_KEY_DOWN, 0);
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_VALUE);
    type(&w, "0/3000000");
    assert_int_equal(w.value_level, WZ_MSG_ERROR); /* before backup A's end, 0/4000100 */
    clear(&w);
    type(&w, "0/A000000");
    assert_int_equal(w.value_level, WZ_MSG_ERROR); /* the archive ends at 0/9000000 */
    clear(&w);
    type(&w, "zz");
    assert_int_equal(w.value_level, WZ_MSG_ERROR);
    clear(&w);
    type(&w, "0/6800000");
    assert_int_equal(w.value_level, WZ_MSG_INFO);
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_string_equal(wz_backup(&w)->id, ID_B);
    /* a restore point: the backups' barman_ID ones are known */
    wz_key(&w, WZ_KEY_ESC, 0);
    wz_key(&w, WZ_KEY_ESC, 0);
    assert_int_equal(w.step, WZ_TARGET);
    for (size_t i = 0; i < rc_target_n_defs && rc_target_defs[w.target].kind != RC_TARGET_NAME; i++)
        wz_key(&w, WZ_KEY_UP, 0);
    assert_int_equal(rc_target_defs[w.target].kind, RC_TARGET_NAME);
    wz_key(&w, WZ_KEY_ENTER, 0);
    clear(&w);
    type(&w, "barman_" ID_A);
    assert_int_equal(w.value_level, WZ_MSG_INFO);
    /* auto picks A, whose end made that point; the newer B is refused in place */
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_BACKUP);
    assert_string_equal(wz_backup(&w)->id, ID_A);
    wz_key(&w, WZ_KEY_UP, 0); /* the list is newest first: B */
    assert_string_equal(wz_backup(&w)->id, ID_B);
    assert_int_equal(w.msg_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.msg, "started after restore point barman_" ID_A));
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_BACKUP);
    wz_key(&w, WZ_KEY_ESC, 0);
    assert_int_equal(w.step, WZ_VALUE);
    clear(&w);
    type(&w, "before_upgrade");
    assert_int_equal(w.value_level, WZ_MSG_WARN);
    wz_free(&w);
}

/* With the archive's recovery-target index (every segment read): a name it
 * holds is shown with its place, auto preselects the newest backup that
 * ended before it (A: B ends after it), B is refused in place, and a name
 * the archive does not hold, or one before the oldest backup's end, is
 * refused. */
static void test_wz_name_from_the_archive_index(void **state)
{
    (void)state;
    unit_write("pg/wals/" WIDX_FILE,
               "# cellar recovery targets 1\n"
               "S\t000000010000000000000004\t1\t1795491700.000000\t1795491700.000000\n"
               "P\t000000010000000000000004\t0/4000050\t1795491700.000000\t1\ttoo_early\n"
               "S\t000000010000000000000005\t0\t0.000000\t0.000000\n"
               "P\t000000010000000000000005\t0/5000028\t1795492000.000000\t1\tbefore_upgrade\n"
               "S\t000000010000000000000006\t0\t0.000000\t0.000000\n"
               "S\t000000010000000000000007\t0\t0.000000\t0.000000\n"
               "S\t000000010000000000000008\t0\t0.000000\t0.000000\n");
    struct wizard w;
    wz_open(&w, cfg, "cellar", server("pg"));
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.win.points.n_points, 2);
    assert_int_equal(w.win.points_unread, 0);
    for (size_t i = 0; i < rc_target_n_defs && rc_target_defs[w.target].kind != RC_TARGET_NAME; i++)
        wz_key(&w, WZ_KEY_DOWN, 0);
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_VALUE);
    clear(&w);
    type(&w, "before_upgrade");
    assert_int_equal(w.value_level, WZ_MSG_INFO);
    assert_non_null(strstr(w.value_msg, "a restore point in the archived WAL: at 0/5000028"));
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_BACKUP);
    assert_string_equal(wz_backup(&w)->id, ID_A);
    assert_string_equal(w.backup_why, "the newest DONE backup that ended before restore point "
                                      "before_upgrade (at 0/5000028; it ended at 0/4000100)");
    wz_key(&w, WZ_KEY_UP, 0); /* newest first: B */
    assert_string_equal(wz_backup(&w)->id, ID_B);
    assert_int_equal(w.msg_level, WZ_MSG_ERROR);
    /* op_target_fits's message and hint, as on the command line */
    assert_string_equal(w.msg, "--target-name before_upgrade: the restore point (at 0/5000028) is "
                               "before the end of backup " ID_B " (0/6000100): the copy is not "
                               "consistent before then Choose an older backup (BACKUP_ID auto "
                               "picks one), or a later target.");
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_BACKUP);
    wz_key(&w, WZ_KEY_ESC, 0);
    assert_int_equal(w.step, WZ_VALUE);
    clear(&w);
    type(&w, "nope");
    assert_int_equal(w.value_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.value_msg, "no restore point of that name in the archived WAL"));
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_VALUE);
    clear(&w);
    type(&w, "too_early");
    assert_int_equal(w.value_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.value_msg, "before the recoverable window: restore point too_early"));
    wz_free(&w);
}

static void test_wz_argv_and_command_line(void **state)
{
    (void)state;
    struct wizard w;
    wz_open(&w, cfg, "cellar", server("pg"));
    wz_key(&w, WZ_KEY_ENTER, 0);
    wz_key(&w, WZ_KEY_DOWN, 0);
    wz_key(&w, WZ_KEY_ENTER, 0);
    clear(&w);
    type(&w, "2026-11-24 04:30:00+00");
    wz_key(&w, WZ_KEY_ENTER, 0);
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_DEST);
    w.remote = true;
    snprintf(w.ssh, sizeof w.ssh, "ssh postgres@db2");
    snprintf(w.dest, sizeof w.dest, "/srv/restore");
    snprintf(w.tbs[0], sizeof w.tbs[0], "/srv/it's tbs");
    w.action = 2;   /* promote */
    w.exclusive = true;
    w.timeline = 2; /* latest */
    w.get_wal = 0;
    /* another backup with a tablespace of the same name keeps its relocation */
    wz_key(&w, WZ_KEY_ESC, 0);
    assert_int_equal(w.step, WZ_BACKUP);
    wz_key(&w, WZ_KEY_UP, 0);
    assert_string_equal(wz_backup(&w)->id, ID_B);
    wz_key(&w, WZ_KEY_DOWN, 0);
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_DEST);
    assert_string_equal(w.tbs[0], "/srv/it's tbs");
    char **v = wz_argv(&w, true);
    const char *want[] = {"recover", "--dry-run", "--remote-ssh-command", "ssh postgres@db2",
                          "--target-time", "2026-11-24 04:30:00+00", "--exclusive",
                          "--target-tli", "latest", "--target-action", "promote",
                          "--no-get-wal", "--tablespace", "tbs1:/srv/it's tbs", "pg", ID_A,
                          "/srv/restore", NULL};
    for (size_t i = 0; want[i]; i++)
        assert_string_equal(v[i], want[i]);
    assert_null(v[CEL_ARRAY_LEN(want) - 1]);
    wz_argv_free(v);
    struct strbuf cmd = {0};
    wz_command_line(&w, &cmd);
    assert_non_null(strstr(sb_str(&cmd),
                           " recover --remote-ssh-command 'ssh postgres@db2' --target-time "
                           "'2026-11-24 04:30:00+00' --exclusive --target-tli latest "
                           "--target-action promote --no-get-wal --tablespace "
                           "'tbs1:/srv/it'\\''s tbs' pg " ID_A " /srv/restore"));
    assert_null(strstr(sb_str(&cmd), "--dry-run"));
    sb_free(&cmd);
    /* the end of the WAL: no target option, and defaults add nothing */
    w.target = 0;
    w.exclusive = false;
    w.timeline = 0;
    w.action = 2; /* without a target PostgreSQL has nothing to act at: not passed */
    w.get_wal = -1;
    w.remote = false;
    w.tbs[0][0] = '\0';
    v = wz_argv(&w, false);
    const char *plain[] = {"recover", "pg", ID_A, "/srv/restore", NULL};
    for (size_t i = 0; plain[i]; i++)
        assert_string_equal(v[i], plain[i]);
    assert_null(v[4]);
    wz_argv_free(v);
    struct strbuf next = {0};
    wz_next_steps(&w, &next);
    assert_non_null(strstr(sb_str(&next), "-D /srv/restore"));
    sb_free(&next);
    wz_free(&w);
}

/* The end step: s asks for the check query (not for a remote destination),
 * Esc keeps what was typed, a job that cannot start leaves the query in
 * place with the reason, x applies only to a running copy, any other key
 * closes; a running copy puts how to reach and stop it first in the next
 * steps. */
static void test_wz_end_check_keys(void **state)
{
    (void)state;
    struct wizard w;
    wz_open(&w, cfg, "/nonexistent/cellar", server("pg"));
    w.step = WZ_END;
    snprintf(w.dest, sizeof w.dest, "/srv/restore");
    w.remote = true;
    snprintf(w.ssh, sizeof w.ssh, "ssh postgres@db2");
    assert_true(wz_key(&w, WZ_KEY_CHAR, 's'));
    assert_int_equal(w.check, WZ_CHECK_NONE);
    assert_int_equal(w.msg_level, WZ_MSG_WARN);
    assert_non_null(strstr(w.msg, "this host only"));

    w.remote = false;
    assert_true(wz_key(&w, WZ_KEY_CHAR, 's'));
    assert_int_equal(w.check, WZ_CHECK_QUERY);
    assert_string_equal(w.query, op_start_recovered_default_query);
    assert_true(wz_key(&w, WZ_KEY_CHAR, 0x15)); /* Ctrl-U */
    assert_string_equal(w.query, "");
    type(&w, "SELECT 1");
    assert_true(wz_key(&w, WZ_KEY_CHAR, 'x')); /* text while typing, not "stop" */
    assert_string_equal(w.query, "SELECT 1x");
    assert_true(wz_key(&w, WZ_KEY_ESC, 0));
    assert_int_equal(w.check, WZ_CHECK_NONE);
    assert_true(wz_key(&w, WZ_KEY_CHAR, 's'));
    assert_string_equal(w.query, "SELECT 1x"); /* kept, not prefilled again */
    assert_true(wz_key(&w, WZ_KEY_ENTER, 0));
    assert_int_equal(w.check, WZ_CHECK_QUERY); /* the job could not start */
    assert_int_equal(w.msg_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.msg, "cannot start"));
    assert_int_equal(w.jobs.n, 0);
    assert_true(wz_key(&w, WZ_KEY_ESC, 0));

    struct strbuf next = {0};
    wz_next_steps(&w, &next);
    assert_null(strstr(sb_str(&next), "stop-recovered"));
    sb_reset(&next);
    w.check = WZ_CHECK_DONE;
    w.copy_running = true;
    w.check_result = json_pack("{s:s, s:s}", "connect", "psql -h /tmp/cellar-check.a -p 5",
                               "stop", "cellar stop-recovered /srv/restore");
    wz_next_steps(&w, &next);
    const char *text = sb_str(&next);
    assert_non_null(strstr(text, "psql -h /tmp/cellar-check.a -p 5"));
    assert_true(strstr(text, "cellar stop-recovered /srv/restore") < strstr(text, "-D /srv/restore"));
    sb_free(&next);
    assert_false(wz_key(&w, WZ_KEY_CHAR, 'q')); /* closes; the copy keeps running */
    w.copy_running = false;
    assert_false(wz_key(&w, WZ_KEY_CHAR, 'x')); /* nothing to stop: closes */
    wz_free(&w);
}

/* Open the wizard on pg and walk to the destination step with a time
 * target (backup A), as the DBA would. */
static void to_dest(struct wizard *w)
{
    wz_open(w, cfg, "cellar", server("pg"));
    wz_key(w, WZ_KEY_ENTER, 0);
    wz_key(w, WZ_KEY_DOWN, 0);
    wz_key(w, WZ_KEY_ENTER, 0);
    clear(w);
    type(w, "2026-11-24 04:30:00+00");
    wz_key(w, WZ_KEY_ENTER, 0);
    wz_key(w, WZ_KEY_ENTER, 0);
    assert_int_equal(w->step, WZ_DEST);
    snprintf(w->dest, sizeof w->dest, "/srv/restore");
}

/* A finished job of the wizard's, started at step, fed the lines a child
 * `cellar --batch --format json recover` writes: the dry runs and the
 * recovery without a process. Replaces the previous job, as a new start
 * does. */
static void fake_job(struct wizard *w, enum wz_step step, const char *const lines[])
{
    while (w->jobs.n)
        tui_jobs_remove(&w->jobs, 0);
    struct tui_job *j = tui_job_new("recover pg /srv/restore", "recover", "pg");
    for (size_t i = 0; lines[i]; i++)
        tui_job_feed(j, 1, lines[i]);
    assert_int_not_equal(j->state, TUI_JOB_RUNNING);
    tui_jobs_add(&w->jobs, j);
    w->job_step = step;
}

#define END_OK "{\"event\":\"end\",\"status\":\"ok\",\"exit\":0,\"error\":null}"
#define PLAN                                                                                       \
    "{\"event\":\"result\",\"command\":\"recover-plan\",\"data\":{\"backup_id\":\"" ID_A           \
    "\",\"data_bytes\":1024}}"

static void test_wz_dry_run_warnings_and_review_scroll(void **state)
{
    (void)state;
    struct wizard w;
    to_dest(&w);
    w.step = WZ_OPTIONS; /* as the destination's dry run leaves it */
    fake_job(&w, WZ_OPTIONS,
             (const char *const[]){
                 "{\"event\":\"log\",\"level\":\"INFO\",\"server\":\"pg\",\"text\":\"planning\"}",
                 "{\"event\":\"log\",\"level\":\"WARNING\",\"server\":\"pg\",\"text\":"
                 "\"cannot tell the free space for /srv/restore (df failed): the copy fails if "
                 "the disk fills up\"}",
                 PLAN, END_OK, NULL});
    assert_true(wz_tick(&w));
    assert_int_equal(w.step, WZ_REVIEW);
    assert_non_null(w.plan);
    /* the warning goes to the review, the info line does not */
    assert_int_equal(w.n_plan_warnings, 1);
    assert_string_equal(w.plan_warnings[0], "cannot tell the free space for /srv/restore (df "
                                            "failed): the copy fails if the disk fills up");
    assert_int_equal(w.review_top, 0);

    /* 25 lines on a screen of 10: a line, a page (keeping one line), the end */
    wz_review_view(&w, 10, 25);
    assert_true(wz_key(&w, WZ_KEY_DOWN, 0));
    assert_int_equal(w.review_top, 1);
    wz_key(&w, WZ_KEY_PGDN, 0);
    assert_int_equal(w.review_top, 10);
    wz_key(&w, WZ_KEY_PGDN, 0);
    assert_int_equal(w.review_top, 15); /* the last page, not past it */
    wz_key(&w, WZ_KEY_DOWN, 0);
    assert_int_equal(w.review_top, 15);
    wz_key(&w, WZ_KEY_PGUP, 0);
    assert_int_equal(w.review_top, 6);
    wz_key(&w, WZ_KEY_UP, 0);
    assert_int_equal(w.review_top, 5);
    wz_key(&w, WZ_KEY_PGUP, 0);
    assert_int_equal(w.review_top, 0);
    wz_key(&w, WZ_KEY_UP, 0);
    assert_int_equal(w.review_top, 0);
    assert_int_equal(w.step, WZ_REVIEW); /* scrolling stays on the review */
    /* a taller screen keeps the top within the review */
    w.review_top = 15;
    wz_review_view(&w, 20, 25);
    assert_int_equal(w.review_top, 5);
    wz_review_view(&w, 30, 25);
    assert_int_equal(w.review_top, 0);
    wz_key(&w, WZ_KEY_PGDN, 0);
    assert_int_equal(w.review_top, 0); /* it all fits: nothing to scroll */

    /* back, and a dry run without warnings: the review has none, from its top */
    wz_review_view(&w, 10, 25);
    wz_key(&w, WZ_KEY_PGDN, 0);
    assert_true(wz_key(&w, WZ_KEY_ESC, 0));
    assert_int_equal(w.step, WZ_OPTIONS);
    fake_job(&w, WZ_OPTIONS, (const char *const[]){PLAN, END_OK, NULL});
    assert_true(wz_tick(&w));
    assert_int_equal(w.step, WZ_REVIEW);
    assert_int_equal(w.n_plan_warnings, 0);
    assert_null(w.plan_warnings);
    assert_int_equal(w.review_top, 0);
    wz_free(&w);
}

static void test_wz_run_outcome(void **state)
{
    (void)state;
    struct wizard w;
    to_dest(&w);
    assert_int_equal(w.run_err.code, 0); /* no recovery yet */
    w.step = WZ_RUN;                     /* as Enter on the review, without its child */
    fake_job(&w, WZ_RUN,
             (const char *const[]){
                 "{\"event\":\"end\",\"status\":\"failed\",\"exit\":1,\"error\":{\"code\":"
                 "\"CONFLICT\",\"number\":45,\"message\":\"the destination /srv/restore is not "
                 "empty\",\"hint\":\"Recover into a new or empty directory; nothing was "
                 "written.\"}}",
                 NULL});
    assert_true(wz_tick(&w));
    assert_int_equal(w.step, WZ_RUN);
    assert_int_equal(w.msg_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.msg, "the recovery failed: the destination /srv/restore"));
    /* kept for recover --wizard's exit status: the batch recover's */
    assert_int_equal(w.run_err.code, CEL_E_CONFLICT);
    assert_int_equal(cel_code_exit(w.run_err.code), CEL_EXIT_FAILED);
    assert_string_equal(w.run_err.msg, "the recovery failed: the destination /srv/restore is not "
                                       "empty (HINT: Recover into a new or empty directory; "
                                       "nothing was written.)");
    /* back to the review (the failure stays), and again: it succeeds */
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_REVIEW);
    assert_int_equal(w.run_err.code, CEL_E_CONFLICT);
    w.step = WZ_RUN;
    fake_job(&w, WZ_RUN, (const char *const[]){END_OK, NULL});
    assert_true(wz_tick(&w));
    assert_int_equal(w.step, WZ_END);
    assert_int_equal(w.run_err.code, 0);
    assert_string_equal(w.run_err.msg, "");
    /* a run that ends without an error number: a failed program */
    w.step = WZ_RUN;
    fake_job(&w, WZ_RUN, (const char *const[]){"{\"event\":\"end\",\"status\":\"failed\"}", NULL});
    wz_tick(&w);
    assert_int_equal(w.run_err.code, CEL_E_PROC);
    assert_string_equal(w.run_err.msg, "the recovery failed: failed");
    wz_free(&w);
}

static void test_wz_window_text_holds_the_check_bounds(void **state)
{
    (void)state;
    struct wizard w;
    wz_open(&w, cfg, "cellar", server("pg"));
    wz_key(&w, WZ_KEY_ENTER, 0);
    wz_key(&w, WZ_KEY_DOWN, 0); /* a point in time */
    wz_key(&w, WZ_KEY_ENTER, 0);
    struct strbuf text = {0};
    wz_window_text(&w, &text);
    char end[TS_MAX];
    tui_fmt_epoch(1795500000.0, end, sizeof end); /* segment 8's arrival */
    char *want = cel_xasprintf(
        "Recoverable from 2026-11-24 03:42:25.119529+00:00, when the oldest DONE backup (" ID_A
        ") ended, to before %s, when the last archived WAL (000000010000000000000008) arrived.",
        end);
    assert_string_equal(sb_str(&text), want);
    free(want);
    /* its first bound is where the check starts accepting */
    clear(&w);
    type(&w, "2026-11-24 03:42:25.119529+00:00");
    assert_int_equal(w.value_level, WZ_MSG_INFO);
    clear(&w);
    type(&w, "2026-11-24 03:42:25.119528+00:00");
    assert_int_equal(w.value_level, WZ_MSG_ERROR);
    assert_non_null(strstr(w.value_msg, "ended at 2026-11-24 03:42:25.119529+00:00"));

    /* an LSN target: the window in LSNs, the same bounds as its check */
    wz_key(&w, WZ_KEY_ESC, 0);
    for (int i = 0; i < 3; i++)
        wz_key(&w, WZ_KEY_DOWN, 0);
    assert_int_equal(rc_target_defs[w.target].kind, RC_TARGET_LSN);
    wz_key(&w, WZ_KEY_ENTER, 0);
    sb_reset(&text);
    wz_window_text(&w, &text);
    assert_string_equal(sb_str(&text),
                        "Recoverable from 0/4000100, where the oldest DONE backup (" ID_A
                        ") ends, to before 0/9000000, where the archived WAL ends (segment "
                        "000000010000000000000008).");
    clear(&w); /* the time typed before stays */
    type(&w, "0/4000100");
    assert_int_equal(w.value_level, WZ_MSG_INFO);
    clear(&w);
    type(&w, "0/40000FF");
    assert_int_equal(w.value_level, WZ_MSG_ERROR);
    clear(&w);
    type(&w, "0/9000000");
    assert_int_equal(w.value_level, WZ_MSG_ERROR);

    /* a transaction ID: no window to state (the dry run checks it) */
    wz_key(&w, WZ_KEY_ESC, 0);
    wz_key(&w, WZ_KEY_UP, 0);
    wz_key(&w, WZ_KEY_UP, 0);
    assert_int_equal(rc_target_defs[w.target].kind, RC_TARGET_XID);
    sb_reset(&text);
    wz_window_text(&w, &text);
    assert_string_equal(sb_str(&text), "");
    sb_free(&text);
    wz_free(&w);
}

/* A bucket server's window comes from a child `recover --window SERVER`:
 * the wizard waits for it on the server step (keys do nothing but Esc,
 * which stops it), then opens the target step on what it brought; a child
 * that fails leaves its error on the server step. The child here is
 * /bin/true (its argv is what counts); its outcomes are fed as finished
 * jobs. */
static void test_wz_bucket_server_window_from_a_child(void **state)
{
    (void)state;
    struct wizard w;
    wz_open(&w, cfg, "/bin/true", server("bkt"));
    assert_true(wz_key(&w, WZ_KEY_ENTER, 0));
    assert_int_equal(w.step, WZ_SERVER);
    assert_false(w.has_win);
    assert_int_equal(w.msg_level, WZ_MSG_INFO);
    assert_string_equal(w.msg, "reading the catalogue of bkt from s3://bkt/pg ...");
    assert_int_equal(w.jobs.n, 1);
    assert_int_equal(w.job_step, WZ_SERVER);
    assert_string_equal(w.jobs.v[0]->log[0], "$ /bin/true --batch --format json -c test.conf "
                                             "recover --window bkt");
    /* while it reads, the server and Enter do nothing; Esc stops it */
    size_t at = w.server;
    assert_true(wz_key(&w, WZ_KEY_DOWN, 0));
    assert_true(wz_key(&w, WZ_KEY_ENTER, 0));
    assert_int_equal(w.server, at);
    assert_int_equal(w.jobs.n, 1);
    assert_true(wz_key(&w, WZ_KEY_ESC, 0));
    assert_string_equal(w.msg, "stopped reading the catalogue: Enter reads it again");
    while (w.jobs.v[0]->state == TUI_JOB_RUNNING)
        tui_jobs_poll(&w.jobs, 100);
    wz_tick(&w); /* its end no longer counts */
    assert_int_equal(w.step, WZ_SERVER);
    assert_string_equal(w.msg, "stopped reading the catalogue: Enter reads it again");

    /* the child failed: its error, on the server step */
    fake_job(&w, WZ_SERVER,
             (const char *const[]){
                 "{\"event\":\"end\",\"status\":\"failed\",\"exit\":1,\"error\":{\"code\":"
                 "\"CLOUD\",\"number\":60,\"message\":\"bucket server bkt: cannot list bucket "
                 "'bkt'\",\"hint\":null}}",
                 NULL});
    assert_true(wz_tick(&w));
    assert_int_equal(w.step, WZ_SERVER);
    assert_int_equal(w.msg_level, WZ_MSG_ERROR);
    assert_string_equal(w.msg, "cannot read the catalogue of bkt: bucket server bkt: cannot list "
                               "bucket 'bkt'");
    assert_false(w.has_win);

    /* the window arrives (pg's, as recover --window writes it): the target step */
    struct op_window win;
    struct op_ctx ctx = {.cfg = cfg};
    struct cel_err err = {0};
    assert_int_equal(op_window_load(&ctx, cfg_server_find(cfg, "pg"), &win, &err), 0);
    json_t *data = op_window_json(&win, "bkt");
    json_t *ev = json_pack("{s:s, s:s, s:o}", "event", "result", "command", "recover-window",
                           "data", data);
    char *line = json_dumps(ev, JSON_COMPACT);
    fake_job(&w, WZ_SERVER, (const char *const[]){line, END_OK, NULL});
    assert_true(wz_tick(&w));
    assert_int_equal(w.step, WZ_TARGET);
    assert_true(w.has_win);
    assert_int_equal(w.win.cat.list.n, 2);
    assert_string_equal(w.win.cat.list.items[1].id, ID_B);
    assert_true(w.win.end == win.end);
    assert_string_equal(w.win.last_wal, "000000010000000000000008");
    /* and the steps go on as for a local server: the backup for a time */
    wz_key(&w, WZ_KEY_DOWN, 0);
    wz_key(&w, WZ_KEY_ENTER, 0);
    clear(&w);
    type(&w, "2026-11-24 04:30:00+00");
    wz_key(&w, WZ_KEY_ENTER, 0);
    assert_int_equal(w.step, WZ_BACKUP);
    assert_string_equal(wz_backup(&w)->id, ID_A);
    free(line);
    json_decref(ev);
    op_window_free(&win);

    /* a result that is not a window */
    w.step = WZ_SERVER;
    fake_job(&w, WZ_SERVER,
             (const char *const[]){"{\"event\":\"result\",\"command\":\"recover-window\","
                                   "\"data\":{\"backups\":7}}",
                                   END_OK, NULL});
    assert_true(wz_tick(&w));
    assert_int_equal(w.step, WZ_SERVER);
    assert_string_equal(w.msg, "cannot read the catalogue of bkt: recover --window: not a "
                               "recoverable window: expected an object with backups, end, "
                               "last_wal, points_unread and targets_index");
    wz_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wz_bucket_server_window_from_a_child, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wz_no_done_backup_stays_on_the_server_step, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wz_time_target_window_and_backup_choice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wz_lsn_and_name_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wz_name_from_the_archive_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wz_argv_and_command_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wz_end_check_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wz_dry_run_warnings_and_review_scroll, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wz_run_outcome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wz_window_text_holds_the_check_bounds, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
