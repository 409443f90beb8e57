/*
 * test_config_update.c - config-update (Barman 3.10): the JSON argument and
 * Barman's queue parsed into typed changes, the auto file's text edited as
 * Barman's edit_config does, the loader reading .barman.auto.conf last, and
 * the op applying changes (or refusing them with nothing written).
 */
#include "unit.h"

#include "ops_fixture.h"

#include "config_update_json.h"

/* ---- the JSON argument -------------------------------------------------- */

static void test_parse_arg_documents(void **state)
{
    (void)state;
    struct cfg_change_list l;
    cfg_change_list_init(&l);
    struct cel_err err = {0};
    const char *json = "[{\"scope\": \"server\", \"server_name\": \"pg\", \"archiver\": \"on\", "
                       "\"bandwidth_limit\": 20, \"immediate_checkpoint\": true},"
                       " {\"model_name\": \"fast\", \"scope\": \"model\", \"cluster\": \"c1\"}]";
    assert_int_equal(config_update_parse_arg(json, strlen(json), &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.sets[0].scope, CFG_CHANGE_SERVER);
    assert_string_equal(l.sets[0].section, "pg");
    assert_int_equal(l.sets[0].n, 3);
    assert_string_equal(l.sets[0].changes[0].key, "archiver");
    assert_string_equal(l.sets[0].changes[0].value, "on");
    assert_string_equal(l.sets[0].changes[1].value, "20");
    assert_string_equal(l.sets[0].changes[2].value, "true");
    assert_int_equal(l.sets[1].scope, CFG_CHANGE_MODEL);
    assert_string_equal(l.sets[1].section, "fast");
    assert_int_equal(l.sets[1].n, 1);
    assert_string_equal(l.sets[1].changes[0].key, "cluster");
    cfg_change_list_free(&l);
}

static void test_parse_arg_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"[{\"scope\": \"server\"", "invalid JSON"},
        {"{\"scope\": \"server\", \"server_name\": \"pg\"}", "expected a JSON array"},
        {"[1]", "document 1: expected an object"},
        {"[{\"scope\": \"global\", \"server_name\": \"pg\"}]", "'scope' is invalid"},
        {"[{\"server_name\": \"pg\"}]", "'scope' is invalid"},
        {"[{\"scope\": \"model\", \"server_name\": \"pg\"}]", "'model_name' is missing"},
        {"[{\"scope\": \"server\", \"server_name\": 3}]", "'server_name' is missing or not"},
        {"[{\"scope\": \"server\", \"server_name\": \"pg\", \"archiver\": null}]",
         "document 1: the value of 'archiver' must be a string"},
        {"[{\"scope\": \"server\", \"server_name\": \"pg\", \"description\": \"a\\nb = c\"}]",
         "the value of 'description' must be one line"},
        {"[{\"scope\": \"server\", \"server_name\": \"pg\", \"description\": \"a\\u0000b\"}]",
         "invalid JSON"},
        {"[{\"scope\": \"server\", \"server_name\": \"pg\", \"archiver\": \"on\", "
         "\"archiver\": \"off\"}]",
         "invalid JSON"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        struct cfg_change_list l;
        cfg_change_list_init(&l);
        struct cel_err err = {0};
        assert_int_equal(config_update_parse_arg(cases[i].json, strlen(cases[i].json), &l, &err),
                         -CEL_E_USAGE);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("%s: got '%s', wanted '%s'", cases[i].json, err.msg, cases[i].msg);
        cfg_change_list_free(&l);
    }
}

/* ---- Barman's queue ----------------------------------------------------- */

static void test_queue_round_trip(void **state)
{
    (void)state;
    const char *barman = "[\n  {\n    \"section\": \"pg\",\n    \"changes_set\": [\n      {\n"
                         "        \"key\": \"archiver\",\n        \"value\": \"on\",\n"
                         "        \"config_file\": \"/etc/barman.d/pg.conf\"\n      }\n    ]\n"
                         "  }\n]";
    struct cfg_change_list l;
    cfg_change_list_init(&l);
    struct cel_err err = {0};
    assert_int_equal(config_update_parse_queue(barman, strlen(barman), &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.sets[0].scope, CFG_CHANGE_QUEUED);
    assert_string_equal(l.sets[0].changes[0].config_file, "/etc/barman.d/pg.conf");
    struct strbuf out = {0};
    config_update_queue_json(&l, "/h/.barman.auto.conf", &out);
    assert_string_equal(sb_str(&out), barman); /* Barman's json.dump(indent=2) */
    sb_free(&out);
    cfg_change_list_free(&l);

    cfg_change_list_init(&l);
    assert_int_equal(config_update_parse_queue(" \n", 2, &l, &err), 0);
    assert_int_equal(l.n, 0);
    config_update_queue_json(&l, "/h/.barman.auto.conf", &out);
    assert_string_equal(sb_str(&out), "[]");
    sb_free(&out);
    static const char *const bad[] = {
        "[{\"section\": \"pg\"}]",
        "[{\"section\": \"pg\", \"changes_set\": [{\"key\": \"a\", \"value\": \"b\"}]}]",
        "{}",
        "[",
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(bad); i++)
        assert_int_equal(config_update_parse_queue(bad[i], strlen(bad[i]), &l, &err),
                         -CEL_E_FORMAT);
    cfg_change_list_free(&l);
}

/* ---- editing the auto file's text --------------------------------------- */

static void test_auto_text_set(void **state)
{
    (void)state;
    struct strbuf t = {0};
    cfg_auto_text_set(&t, "pg", "archiver", "on");
    assert_string_equal(sb_str(&t), "[pg]\narchiver = on\n");
    cfg_auto_text_set(&t, "pg", "archiver", "off");
    assert_string_equal(sb_str(&t), "[pg]\narchiver = off\n");
    cfg_auto_text_set(&t, "other", "bandwidth_limit", "5");
    cfg_auto_text_set(&t, "pg", "description", "x");
    assert_string_equal(sb_str(&t), "[pg]\narchiver = off\ndescription = x\n"
                                    "[other]\nbandwidth_limit = 5\n");
    sb_free(&t);
    /* a file edited by hand: "key: value", other case, continuation lines,
     * blank lines and comments kept, no final newline */
    sb_append(&t, "# mine\n[pg]\nDescription: a\n  b\n\n[x]\nk = v");
    cfg_auto_text_set(&t, "pg", "description", "c");
    cfg_auto_text_set(&t, "pg", "archiver", "on");
    cfg_auto_text_set(&t, "x", "k", "w");
    assert_string_equal(sb_str(&t), "# mine\n[pg]\ndescription = c\narchiver = on\n\n[x]\nk = w\n");
    sb_free(&t);
}

/* ---- the loader ----------------------------------------------------------- */

/* Write cellar.conf in the test's directory: barman_home there, barman_user
 * the user running the test, then servers. Returns its path. */
static const char *write_conf(const char *servers)
{
    char user[256];
    priv_user_name(geteuid(), user, sizeof user);
    char *text =
        cel_xasprintf("[barman]\nbarman_home = %s\nbarman_user = %s\n%s", unit_tmp, user, servers);
    const char *path = unit_write("cellar.conf", text);
    free(text);
    return path;
}

static void test_loader_reads_auto_conf_last(void **state)
{
    (void)state;
    const char *conf = write_conf("[pg]\nconninfo = host=/x\nbandwidth_limit = 10\n"
                                  "[other]\nconninfo = host=/y\nbandwidth_limit = 7\n");
    unit_write(".barman.auto.conf", "[pg]\nbandwidth_limit = 20\n");
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(cfg_load(conf, &cfg, &err), 0);
    assert_int_equal(cfg_server_find(cfg, "pg")->bandwidth_limit, 20);
    assert_int_equal(cfg_server_find(cfg, "other")->bandwidth_limit, 7);
    char *q = cel_xasprintf("%s/cfg_changes.queue", unit_tmp);
    assert_string_equal(cfg->global.config_changes_queue, q);
    free(q);
    cfg_free(cfg);

    /* a bad line: the server is disabled, the message names file, line, option */
    const char *auto_path = unit_write(".barman.auto.conf", "[pg]\n\nbandwidth_limit = lots\n");
    assert_int_equal(cfg_load(conf, &cfg, &err), 0);
    assert_true(cfg_server_find(cfg, "pg")->disabled);
    assert_false(cfg_server_find(cfg, "other")->disabled);
    char *want = cel_xasprintf("%s:3: [pg] bandwidth_limit: invalid value 'lots'", auto_path);
    bool found = false;
    for (size_t i = 0; i < cfg->n_diags; i++)
        found |= strncmp(cfg->diags[i].text, want, strlen(want)) == 0;
    assert_true(found);
    free(want);
    cfg_free(cfg);

    /* global options are refused there, as in Barman */
    unit_write(".barman.auto.conf", "[barman]\nlog_level = DEBUG\n");
    assert_int_equal(cfg_load(conf, &cfg, &err), -CEL_E_CONFIG);
    assert_non_null(strstr(err.msg, ".barman.auto.conf:2: [barman] log_level: global options"));
    cfg_free(cfg);
}

/* ---- the op ------------------------------------------------------------------ */

static const char *const servers = "[pg]\nconninfo = host=/x\nbandwidth_limit = 10\n"
                                   "[other]\nconninfo = host=/y\nbandwidth_limit = 7\n"
                                   "[fast]\nmodel = true\ncluster = pg\nbandwidth_limit = 1\n";

/* Load the configuration file written by write_conf into the ops harness. */
static void load(void)
{
    const char *path = write_conf(servers);
    cfg_free(ofx.cfg);
    ofx.cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(cfg_load(path, &ofx.cfg, &err), 0);
    ofx_events_clear();
}

/* Run config-update with json; returns its status, err filled. */
static int update(const char *json, struct cel_err *err)
{
    struct cfg_change_list l;
    cfg_change_list_init(&l);
    int rc = config_update_parse_arg(json, strlen(json), &l, err);
    if (rc == 0)
        rc = op_config_update(&ofx.ctx, &(struct op_config_update_req){.changes = &l}, err);
    cfg_change_list_free(&l);
    return rc;
}

static void test_op_applies_changes(void **state)
{
    (void)state;
    load();
    struct cel_err err = {0};
    assert_int_equal(update("[{\"scope\": \"server\", \"server_name\": \"pg\", "
                            "\"bandwidth_limit\": \"20\"}, {\"scope\": \"model\", "
                            "\"model_name\": \"slow\", \"cluster\": \"pg\", "
                            "\"bandwidth_limit\": \"2\"}]",
                            &err),
                     0);
    char *text = unit_read(unit_path(".barman.auto.conf"));
    assert_string_equal(text, "[pg]\nbandwidth_limit = 20\n[slow]\ncluster = pg\n"
                              "bandwidth_limit = 2\nmodel = on\n");
    free(text);
    text = unit_read(unit_path("cfg_changes.queue"));
    assert_string_equal(text, "[]\n");
    free(text);
    assert_non_null(strstr(sb_str(&ofx.rec.text),
                           "Changing value of option 'bandwidth_limit' for section 'pg' from "
                           "'10' to '20' through config-update.\n"));
    load();
    assert_int_equal(cfg_server_find(ofx.cfg, "pg")->bandwidth_limit, 20);
    assert_int_equal(cfg_server_find(ofx.cfg, "other")->bandwidth_limit, 7);
    const struct cfg_model *m = cfg_model_find(ofx.cfg, "slow");
    assert_non_null(m);
    assert_true(m->usable);
    /* a second change of the same option replaces the line */
    assert_int_equal(update("[{\"scope\": \"server\", \"server_name\": \"pg\", "
                            "\"bandwidth_limit\": 30}]",
                            &err),
                     0);
    text = unit_read(unit_path(".barman.auto.conf"));
    assert_non_null(strstr(text, "[pg]\nbandwidth_limit = 30\n"));
    free(text);
}

static void test_op_refusals_write_nothing(void **state)
{
    (void)state;
    load();
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"[{\"scope\": \"server\", \"server_name\": \"pg\", \"bandwidth_limit\": \"lots\"}]",
         ".barman.auto.conf:2: [pg] bandwidth_limit: invalid value 'lots'"},
        {"[{\"scope\": \"server\", \"server_name\": \"pg\", \"nosuch\": \"1\"}]",
         "Invalid option 'nosuch' for server 'pg'"},
        {"[{\"scope\": \"server\", \"server_name\": \"pg\", \"barman_home\": \"/x\"}]",
         "Invalid option 'barman_home' for server 'pg'"},
        {"[{\"scope\": \"server\", \"server_name\": \"pg\", \"model\": \"on\"}]",
         "Invalid option 'model' for server 'pg'"},
        {"[{\"scope\": \"server\", \"server_name\": \"nope\", \"archiver\": \"on\"}]",
         "Unknown server 'nope'"},
        {"[{\"scope\": \"server\", \"server_name\": \"fast\", \"archiver\": \"on\"}]",
         "'fast' is a model, not a server"},
        {"[{\"scope\": \"model\", \"model_name\": \"pg\", \"archiver\": \"on\"}]",
         "'pg' is a server, not a model"},
        {"[{\"scope\": \"model\", \"model_name\": \"m\", \"archiver\": \"on\"}]",
         "new model 'm' but 'cluster' is missing"},
        {"[{\"scope\": \"model\", \"model_name\": \"fast\", \"wals_directory\": \"/w\"}]",
         "Invalid option 'wals_directory' for model 'fast'"},
        {"[{\"scope\": \"model\", \"model_name\": \"../x\", \"cluster\": \"pg\"}]",
         "invalid section name '../x'"},
        {"[{\"scope\": \"server\", \"server_name\": \"pg\", \"archiver\": \"off\"}, "
         "{\"scope\": \"server\", \"server_name\": \"other\", \"description\": \"%(nope)s\"}]",
         "'%(nope)s' refers to an option that is not set"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        struct cel_err err = {0};
        assert_true(update(cases[i].json, &err) < 0);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("%s: got '%s', wanted '%s'", cases[i].json, err.msg, cases[i].msg);
        assert_false(ofx_exists(".barman.auto.conf"));
        assert_false(ofx_exists("cfg_changes.queue"));
    }
}

static void test_op_applies_queue_left_behind(void **state)
{
    (void)state;
    load();
    struct cel_err err = {0};
    /* nothing queued: nothing done, no file */
    assert_int_equal(op_config_queue_process(&ofx.ctx, &err), 0);
    assert_false(ofx_exists(".barman.auto.conf"));
    /* Barman queued a change naming the server's own file: it goes to the
     * auto file, which wins */
    unit_write("cfg_changes.queue",
               "[{\"section\": \"other\", \"changes_set\": [{\"key\": \"bandwidth_limit\", "
               "\"value\": \"9\", \"config_file\": \"/etc/barman.d/other.conf\"}]}]");
    assert_int_equal(op_config_queue_process(&ofx.ctx, &err), 0);
    char *text = unit_read(unit_path(".barman.auto.conf"));
    assert_string_equal(text, "[other]\nbandwidth_limit = 9\n");
    free(text);
    text = unit_read(unit_path("cfg_changes.queue"));
    assert_string_equal(text, "[]\n");
    free(text);
    /* a queue cellar cannot read is kept, and the command says so */
    unit_write("cfg_changes.queue", "{\"x\": 1}");
    assert_int_equal(update("[{\"scope\": \"server\", \"server_name\": \"pg\", "
                            "\"archiver\": \"on\"}]",
                            &err),
                     -CEL_E_FORMAT);
    assert_non_null(strstr(err.msg, "cfg_changes.queue': not a queue"));
    text = unit_read(unit_path("cfg_changes.queue"));
    assert_string_equal(text, "{\"x\": 1}");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_arg_documents),
        cmocka_unit_test(test_parse_arg_refusals),
        cmocka_unit_test(test_queue_round_trip),
        cmocka_unit_test(test_auto_text_set),
        cmocka_unit_test_setup_teardown(test_loader_reads_auto_conf_last, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_op_applies_changes, ofx_setup, ofx_teardown),
        cmocka_unit_test_setup_teardown(test_op_refusals_write_nothing, ofx_setup, ofx_teardown),
        cmocka_unit_test_setup_teardown(test_op_applies_queue_left_behind, ofx_setup, ofx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
