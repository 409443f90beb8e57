/*
 * test_bucket_server.c - a server that is a bucket (cloud_source): the one
 * rule of which commands serve it (server_select.c), as the ops apply it,
 * and what bucket_server.c makes of the server's configuration (its store
 * request and the restore_command of a recovery). What reads the bucket is
 * tested on a real store by tests/integration/t_cloud_server.sh.
 */
#include "unit.h"

#include "ops_fixture.h"

#include "bucket_server.h"
#include "server_select.h"

#define URL "s3://bkt/pg"

static int setup(void **state)
{
    if (ofx_setup(state) < 0)
        return -1;
    return ofx_config("[local]\nconninfo = host=/nonexistent\n\n"
                      "[bkt]\ncloud_source = " URL "\n"
                      "cloud_endpoint_url = http://127.0.0.1:9\n"
                      "cloud_server_name = main\ncloud_profile = it's 100%%\n");
}

static const struct cfg_server *server(const char *name)
{
    const struct cfg_server *s = cfg_server_find(ofx.cfg, name);
    assert_non_null(s);
    return s;
}

static void test_op_bucket_serves_table(void **state)
{
    (void)state;
    const char *serve[] = {"list-backup", "show-backup", "recover", "delete", "check",
                           "show-server", "list-server", "status", "cron", "get-wal"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(serve); i++)
        assert_true(op_bucket_serves(serve[i]));
    const char *refuse[] = {"backup",        "archive-wal",     "put-wal",
                            "receive-wal",   "switch-wal",      "list-files", "verify-backup",
                            "rebuild-xlogdb", "replication-status"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(refuse); i++)
        assert_false(op_bucket_serves(refuse[i]));
    assert_false(op_bucket_serves(NULL));
}

static void test_op_bucket_refuse_says_why(void **state)
{
    (void)state;
    struct cel_err err = {0};
    assert_int_equal(op_bucket_refuse(server("local"), "backup", &err), 0);
    assert_int_equal(op_bucket_refuse(server("bkt"), "recover", &err), 0);
    assert_int_equal(op_bucket_refuse(server("bkt"), "backup", &err), -CEL_E_USAGE);
    assert_string_equal(err.msg, "server 'bkt' is a bucket server (cloud_source = " URL
                                 "): backup: its backups are taken on the PostgreSQL host with "
                                 "cellar cloud-backup or barman-cloud-backup");
    assert_string_equal(err.hint, "A bucket server serves list-backup, show-backup, recover, "
                                  "delete, check, show-server, list-server, status, cron, "
                                  "diagnose, get-wal.");
    /* no command (an op run outside the command line): the general reason */
    assert_int_equal(op_bucket_refuse(server("bkt"), NULL, &err), -CEL_E_USAGE);
    assert_string_equal(err.msg, "server 'bkt' is a bucket server (cloud_source = " URL
                                 "): this command needs PostgreSQL or a local archive, which it "
                                 "has not");
}

/* The ops refuse it when named, by the command the context runs. */
static void test_ops_refuse_a_named_bucket_server(void **state)
{
    (void)state;
    struct cel_err err = {0};
    ofx.ctx.command = "switch-wal";
    assert_int_equal(op_switch_wal(&ofx.ctx, &(struct op_switch_wal_req){.server = "bkt"}, &err),
                     -CEL_E_USAGE);
    assert_non_null(strstr(err.msg, "is a bucket server (cloud_source = " URL "): switch-wal: "));
    ofx.ctx.command = "receive-wal";
    assert_int_equal(op_receive_wal(&ofx.ctx, &(struct op_receive_wal_req){.server = "bkt"}, &err),
                     -CEL_E_USAGE);
    assert_non_null(strstr(err.msg, "): receive-wal: cellar does not stream its WAL"));
    ofx.ctx.command = "list-files";
    assert_int_equal(op_list_files(&ofx.ctx,
                                   &(struct op_list_files_req){.server = "bkt", .backup = "latest"},
                                   &err),
                     -CEL_E_USAGE);
    assert_non_null(strstr(err.msg, "): list-files: its backups are tar objects"));
    /* the same ops still work on the local server: refused for other reasons */
    ofx.ctx.command = "rebuild-xlogdb";
    assert_int_equal(
        op_rebuild_xlogdb(&ofx.ctx, &(struct op_rebuild_xlogdb_req){.server = "bkt"}, &err),
        -CEL_E_USAGE);
}

/* op_one_server asks about its own command, whatever the context runs. */
static void test_op_one_server_asks_about_its_command(void **state)
{
    (void)state;
    struct cel_err err = {0};
    const struct cfg_server *s = NULL;
    ofx.ctx.command = NULL;
    assert_int_equal(op_one_server(&ofx.ctx, "bkt", "recover", &s, &err), 0);
    assert_ptr_equal(s, server("bkt"));
    assert_int_equal(op_one_server(&ofx.ctx, "bkt", "switch-wal", &s, &err), -CEL_E_USAGE);
    assert_null(s);
}

/* Under "all", an operation leaves it out with an info event, no error. */
static void test_all_skips_bucket_servers(void **state)
{
    (void)state;
    struct cel_err err = {0};
    ofx.ctx.command = "archive-wal";
    assert_int_equal(op_archive_wal(&ofx.ctx, &(struct op_archive_wal_req){.server = "all"}, &err),
                     0);
    assert_non_null(strstr(sb_str(&ofx.rec.events), "log INFO bkt: skipped: a bucket server"));
    assert_null(strstr(sb_str(&ofx.rec.events), "log INFO local: skipped"));
}

static void test_op_bucket_store_and_restore_command(void **state)
{
    (void)state;
    struct op_cloud_store st;
    op_bucket_store(server("bkt"), &st);
    assert_string_equal(st.target.url, URL);
    assert_string_equal(st.target.server, "main");
    assert_string_equal(st.target.endpoint_url, "http://127.0.0.1:9");
    assert_string_equal(st.target.profile, "it's 100%");
    assert_false(st.test);
    char *c = op_bucket_restore_command("/usr/bin/cellar", server("bkt"), 0);
    assert_string_equal(c, "/usr/bin/cellar cloud-wal-restore --parallel 2 --spool-directory barman_wal "
                           "--endpoint-url "
                           "http://127.0.0.1:9 --profile 'it'\\''s 100%%' " URL " main %f %p");
    free(c);
    c = op_bucket_restore_command("/usr/bin/cellar", server("bkt"), 8);
    assert_non_null(strstr(c, "--parallel 8 "));
    free(c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, ofx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_op_bucket_serves_table),
        T(test_op_bucket_refuse_says_why),
        T(test_ops_refuse_a_named_bucket_server),
        T(test_op_one_server_asks_about_its_command),
        T(test_all_skips_bucket_servers),
        T(test_op_bucket_store_and_restore_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
