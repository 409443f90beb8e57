/*
 * Unit tests of the console's model (src/tui/model.c): it is loaded through
 * the ops from a temporary catalogue (server "pg" with a DONE and a FAILED
 * backup, server "empty" with none) and must hold what list-server,
 * list-backup and show-backup report, take health marks from a check
 * result, flag an old last backup and say how far behind the WAL archive
 * is.
 */
#include "unit.h"

#include <fcntl.h>
#include <time.h>

#include "catalog_fixture.h"

#include "tui/model.h"

static struct cfg *cfg;

static int setup(void **state)
{
    if (unit_setup_tmpdir(state) < 0)
        return -1;
    write_backup("pg", "20261124T034224", info_034224);
    write_backup("pg", "20261124T034600", "status=FAILED\nerror=boom\n");
    unit_mkdir("pg/wals");
    unit_mkdir("empty/base");
    char text[8192];
    snprintf(text, sizeof text,
             "[barman]\nbarman_home = %s\nbarman_user = root\n"
             "[pg]\ndescription = Main DB\nconninfo = host=/nonexistent\n"
             "last_backup_maximum_age = 1 day\nretention_policy = REDUNDANCY 1\n"
             "[empty]\nconninfo = host=/nonexistent\n",
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

static void test_tui_model_load_servers_and_backups(void **state)
{
    (void)state;
    struct tui_model m;
    struct cel_err err = {0};
    assert_int_equal(tui_model_load(&m, cfg, &err), 0);
    assert_int_equal(m.n_servers, 2);
    ssize_t pg = tui_model_find(&m, "pg");
    ssize_t empty = tui_model_find(&m, "empty");
    assert_true(pg >= 0 && empty >= 0);
    assert_int_equal(tui_model_find(&m, "nope"), -1);
    const struct tui_server *s = &m.servers[pg];
    assert_string_equal(s->description, "Main DB");
    assert_true(s->active);
    assert_false(s->disabled);
    assert_null(s->load_error);
    assert_int_equal(s->max_age, 86400);
    assert_int_equal(s->health, TUI_HEALTH_UNKNOWN);
    assert_int_equal(s->n_backups, 2);
    /* newest first, as list-backup gives them */
    assert_string_equal(s->backups[0].id, "20261124T034600");
    assert_string_equal(s->backups[0].status, "FAILED");
    assert_false(s->backups[0].has_size);
    const struct tui_backup *b = &s->backups[1];
    assert_string_equal(b->id, "20261124T034224");
    assert_string_equal(b->status, "DONE");
    assert_string_equal(b->retention, "VALID");
    assert_true(b->has_size);
    assert_int_equal(b->size, 23058794);
    assert_true(b->has_dedup);
    assert_int_equal(b->dedup_size, 23058794);
    assert_false(s->backups[0].has_dedup); /* FAILED: list-backup gives no sizes */
    assert_int_equal(b->end_ts, 1795491745);
    assert_int_equal(tui_server_last_backup(s), 1795491745);
    assert_false(tui_server_backup_too_old(s, 1795491745 + 3600));
    assert_true(tui_server_backup_too_old(s, 1795491745 + 2 * 86400));
    const struct tui_server *e = &m.servers[empty];
    assert_null(e->description);
    assert_int_equal(e->n_backups, 0);
    assert_int_equal(tui_server_last_backup(e), 0);
    assert_false(tui_server_backup_too_old(e, 1795491745)); /* no maximum age set */
    tui_model_free(&m);
}

static void test_tui_model_reload_server_sees_new_backup(void **state)
{
    (void)state;
    struct tui_model m;
    struct cel_err err = {0};
    assert_int_equal(tui_model_load(&m, cfg, &err), 0);
    ssize_t empty = tui_model_find(&m, "empty");
    assert_int_equal(m.servers[empty].n_backups, 0);
    write_backup("empty", "20261125T000000", "status=STARTED\nserver_name=empty\n");
    assert_int_equal(tui_model_reload_server(&m, (size_t)empty, &err), 0);
    assert_int_equal(m.servers[empty].n_backups, 1);
    assert_string_equal(m.servers[empty].backups[0].status, "STARTED");
    /* a backup that hard-linked most of its files: the space it takes */
    struct strbuf info = {0};
    const char *dedup = strstr(info_034224, "deduplicated_size=");
    assert_non_null(dedup);
    sb_appendf(&info, "%.*sdeduplicated_size=1048576\n%s", (int)(dedup - info_034224),
               info_034224, strchr(dedup, '\n') + 1);
    write_backup("empty", "20261124T034224", sb_str(&info));
    sb_free(&info);
    assert_int_equal(tui_model_reload_server(&m, (size_t)empty, &err), 0);
    const struct tui_backup *b = &m.servers[empty].backups[1];
    assert_string_equal(b->id, "20261124T034224");
    assert_true(b->has_dedup);
    assert_int_equal(b->dedup_size, 1048576);
    assert_int_equal(b->size, 23058794);
    tui_model_free(&m);
}

static void test_tui_model_show_backup(void **state)
{
    (void)state;
    struct tui_model m;
    struct cel_err err = {0};
    assert_int_equal(tui_model_load(&m, cfg, &err), 0);
    size_t pg = (size_t)tui_model_find(&m, "pg");
    json_t *d = NULL;
    char *text = NULL;
    assert_int_equal(tui_model_show_backup(&m, pg, "20261124T034224", &d, &text, &err), 0);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "backup_id")), "20261124T034224");
    assert_string_equal(json_string_value(json_object_get(d, "status")), "DONE");
    assert_int_equal(json_integer_value(json_object_get(d, "size")), 23058794);
    json_decref(d);
    assert_true(tui_model_show_backup(&m, pg, "20990101T000000", &d, NULL, &err) < 0);
    assert_null(d);
    assert_string_equal(err.msg, "unknown backup '20990101T000000' for server 'pg'");
    /* the details pane's text: show-backup's own rendering, not raw keys */
    assert_non_null(text);
    assert_non_null(strstr(text, "Backup 20261124T034224:\n"));
    assert_non_null(strstr(text, "  Server Name            : pg\n"));
    assert_non_null(strstr(text, "MiB"));
    assert_null(strstr(text, "copy_stats"));
    assert_null(strstr(text, "begin_offset"));
    free(text);
    memset(&err, 0, sizeof err);
    text = (char *)"unchanged";
    assert_true(tui_model_show_backup(&m, pg, "20990101T000000", NULL, &text, &err) < 0);
    assert_null(text);
    assert_string_equal(err.msg, "unknown backup '20990101T000000' for server 'pg'");
    tui_model_free(&m);
}

static void test_tui_model_apply_check(void **state)
{
    (void)state;
    struct tui_model m;
    struct cel_err err = {0};
    assert_int_equal(tui_model_load(&m, cfg, &err), 0);
    json_t *data = json_loads("{\"pg\": {\"postgresql\": {\"status\": \"FAILED\", \"hint\": "
                              "\"cannot connect\"}, \"directories\": {\"status\": \"OK\"}, "
                              "\"wal_archive\": {\"status\": \"FAILED\"}},"
                              " \"empty\": {\"directories\": {\"status\": \"OK\"}},"
                              " \"gone\": {\"x\": {\"status\": \"OK\"}}}",
                              0, NULL);
    assert_non_null(data);
    tui_model_apply_check(&m, data);
    json_decref(data);
    const struct tui_server *pg = &m.servers[tui_model_find(&m, "pg")];
    assert_int_equal(pg->health, TUI_HEALTH_FAILED);
    assert_int_equal(pg->checks_failed, 2);
    assert_string_equal(pg->health_text, "postgresql: cannot connect");
    const struct tui_server *e = &m.servers[tui_model_find(&m, "empty")];
    assert_int_equal(e->health, TUI_HEALTH_OK);
    assert_null(e->health_text);
    tui_model_free(&m);
}

/* A bucket server (cloud_source) is never listed by the model itself: it is
 * left loading (the console's child list-backup job lists it), and takes
 * the job's JSON data, or its error, with tui_model_take_backups. */
static void test_tui_model_bucket_server_is_left_to_a_job(void **state)
{
    (void)state;
    char text[8192];
    snprintf(text, sizeof text,
             "[barman]\nbarman_home = %s\nbarman_user = root\n"
             "[pg]\nconninfo = host=/nonexistent\n"
             "[bkt]\ncloud_source = s3://nowhere/pg\n"
             "cloud_endpoint_url = http://127.0.0.1:1\n",
             unit_tmp);
    struct cfg *bcfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(cfg_load_text(text, "bucket.conf", &bcfg, &err), 0);
    struct tui_model m;
    assert_int_equal(tui_model_load(&m, bcfg, &err), 0);
    ssize_t b = tui_model_find(&m, "bkt");
    ssize_t pg = tui_model_find(&m, "pg");
    assert_true(b >= 0 && pg >= 0);
    struct tui_server *s = &m.servers[b];
    assert_string_equal(s->bucket, "s3://nowhere/pg");
    assert_true(s->loading);
    assert_int_equal(s->n_backups, 0);
    assert_null(s->load_error);
    assert_null(m.servers[pg].bucket);
    assert_false(m.servers[pg].loading);
    assert_int_equal(m.servers[pg].n_backups, 2);

    json_t *data =
        json_loads("{\"backups\": [{\"backup_id\": \"20261124T034224\", "
                   "\"status\": \"DONE\", \"end_time_timestamp\": \"1795000000\", "
                   "\"size_bytes\": 100, \"wal_size_bytes\": 10}, {\"status\": \"DONE\"}]}",
                   0, NULL);
    assert_non_null(data);
    s->load_started = s->load_gen; /* the console started its job */
    assert_int_equal(tui_model_reload_server(&m, (size_t)b, &err), 0); /* asked again */
    tui_model_take_backups(&m, (size_t)b, data, NULL);
    assert_true(s->loading); /* that listing started before the last ask */
    s->load_started = s->load_gen;
    tui_model_take_backups(&m, (size_t)b, data, NULL);
    json_decref(data);
    assert_false(s->loading);
    assert_int_equal(s->n_backups, 1); /* a row without an ID is skipped */
    assert_string_equal(s->backups[0].id, "20261124T034224");
    assert_int_equal(s->backups[0].end_ts, 1795000000);
    assert_int_equal(s->backups[0].size, 100);

    /* a reload marks it loading and keeps the rows until the job answers */
    assert_int_equal(tui_model_reload_server(&m, (size_t)b, &err), 0);
    assert_true(s->loading);
    assert_int_equal(s->n_backups, 1);
    s->load_started = s->load_gen;
    tui_model_take_backups(&m, (size_t)b, NULL, "cannot list bucket 'nowhere'");
    assert_false(s->loading);
    assert_int_equal(s->n_backups, 0);
    assert_string_equal(s->load_error, "cannot list bucket 'nowhere'");
    tui_model_free(&m);
    cfg_free(bcfg);
}

/* The WAL cell of server i of m at now, and whether it warns. */
static bool wal_cell(const struct tui_model *m, const char *name, double now, char *buf, size_t n)
{
    struct strbuf sb = {0};
    bool warn = tui_server_wal_lag(&m->servers[tui_model_find(m, name)], now, &sb);
    snprintf(buf, n, "%s", sb_str(&sb));
    sb_free(&sb);
    return warn;
}

static void test_tui_model_wal_lag(void **state)
{
    (void)state;
    unit_write("pg/wals/xlog.db", "000000010000000000000003\t16400\t1795491700.25\tgzip\n"
                                  "000000010000000000000004\t16485\t1795491742.5\tgzip\n");
    struct tui_model m;
    struct cel_err err = {0};
    assert_int_equal(tui_model_load(&m, cfg, &err), 0);
    const struct tui_server *pg = &m.servers[tui_model_find(&m, "pg")];
    assert_true(pg->wal_known);
    assert_null(pg->wal_error);
    assert_true(pg->wal_last_time == 1795491742.5);
    assert_int_equal(pg->wal_waiting, 0);
    char cell[64];
    /* an hour without archiving is fine, more is not (no last_wal_maximum_age) */
    assert_false(wal_cell(&m, "pg", 1795491742.5 + 120, cell, sizeof cell));
    assert_string_equal(cell, "2m");
    assert_false(wal_cell(&m, "pg", 1795491742.5 + TUI_WAL_QUIET_WARN, cell, sizeof cell));
    assert_true(wal_cell(&m, "pg", 1795491742.5 + TUI_WAL_QUIET_WARN + 60, cell, sizeof cell));
    assert_string_equal(cell, "1h 1m");
    /* nothing archived at all */
    assert_true(wal_cell(&m, "empty", 1795491742.5, cell, sizeof cell));
    assert_string_equal(cell, "none");

    /* three files arrive in incoming/: warned about once the oldest has
     * waited longer than TUI_WAL_WAIT_WARN */
    unit_mkdir("pg/incoming");
    const char *names[] = {"000000010000000000000005", "000000010000000000000006",
                           "000000010000000000000007"};
    for (size_t i = 0; i < 3; i++) {
        char path[64];
        snprintf(path, sizeof path, "pg/incoming/%s", names[i]);
        unit_write(path, "x");
        struct timespec ts[2] = {{1795491800 + (time_t)i, 0}, {1795491800 + (time_t)i, 0}};
        assert_int_equal(utimensat(AT_FDCWD, unit_path(path), ts, 0), 0);
    }
    assert_int_equal(pg->wal_waiting, 0); /* not seen before a reload */
    assert_int_equal(tui_model_reload_archive(&m, &err), 0);
    assert_int_equal(pg->wal_waiting, 3);
    assert_true(pg->wal_oldest_waiting == 1795491800.0);
    assert_false(wal_cell(&m, "pg", 1795491800 + 60, cell, sizeof cell));
    assert_string_equal(cell, "1m +3 waiting");
    assert_true(wal_cell(&m, "pg", 1795491800 + TUI_WAL_WAIT_WARN + 1, cell, sizeof cell));
    assert_string_equal(cell, "5m +3 waiting");

    /* an unreadable xlog.db: "?" and a warning, the reason kept */
    unit_write("pg/wals/xlog.db", "garbage\n");
    assert_int_equal(tui_model_reload_archive(&m, &err), 0);
    assert_non_null(pg->wal_error);
    assert_non_null(strstr(pg->wal_error, "xlog.db, last lines:1: expected"));
    assert_true(wal_cell(&m, "pg", 1795491800, cell, sizeof cell));
    assert_string_equal(cell, "? +3 waiting");
    tui_model_free(&m);
}

static void test_tui_model_wal_lag_maximum_age_and_inactive(void **state)
{
    (void)state;
    cfg_free(cfg);
    char text[8192];
    snprintf(text, sizeof text,
             "[barman]\nbarman_home = %s\nbarman_user = root\n"
             "[pg]\nconninfo = host=/nonexistent\nlast_wal_maximum_age = 1 day\n"
             "[empty]\nconninfo = host=/nonexistent\nactive = false\n",
             unit_tmp);
    struct cel_err err = {0};
    assert_int_equal(cfg_load_text(text, "test.conf", &cfg, &err), 0);
    unit_write("pg/wals/xlog.db", "000000010000000000000004\t16485\t1795491742.5\tgzip\n");
    struct tui_model m;
    assert_int_equal(tui_model_load(&m, cfg, &err), 0);
    char cell[64];
    /* last_wal_maximum_age replaces the hour */
    assert_false(wal_cell(&m, "pg", 1795491742.5 + 2 * 3600, cell, sizeof cell));
    assert_string_equal(cell, "2h 0m");
    assert_true(wal_cell(&m, "pg", 1795491742.5 + 86400 + 60, cell, sizeof cell));
    /* an inactive server is never flagged */
    assert_false(wal_cell(&m, "empty", 1795491742.5, cell, sizeof cell));
    assert_string_equal(cell, "none");
    tui_model_free(&m);
}

static void test_tui_fmt_age(void **state)
{
    (void)state;
    struct strbuf sb = {0};
    const int64_t ages[] = {-5, 45, 720, 3 * 3600 + 20 * 60, 2 * 86400 + 4 * 3600};
    for (size_t i = 0; i < sizeof ages / sizeof ages[0]; i++) {
        tui_fmt_age(ages[i], &sb);
        sb_append(&sb, "|");
    }
    assert_string_equal(sb_str(&sb), "0s|45s|12m|3h 20m|2d 4h|");
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tui_model_load_servers_and_backups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_model_reload_server_sees_new_backup, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tui_model_show_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_model_apply_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_model_bucket_server_is_left_to_a_job, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tui_model_wal_lag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tui_model_wal_lag_maximum_age_and_inactive, setup,
                                        teardown),
        cmocka_unit_test(test_tui_fmt_age),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
