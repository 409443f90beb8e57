/* Unit tests of src/core/config/ (config.c, config_options.c, ini.c) and
 * src/core/catalog/retention_policy.c. */
#include "unit.h"

#include "config.h"
#include "ini.h"
#include "retention_policy.h"

/* Load text as "test.conf"; returns the rc and sets *cfg. */
static int load(const char *text, struct cfg **cfg, struct cel_err *err)
{
    return cfg_load_text(text, "test.conf", cfg, err);
}

/* The formatted value of option name for server srv. */
static const char *value_of(const struct cfg_server *srv, const char *name)
{
    static char buf[1024];
    const struct cfg_option *opt = cfg_option_find(name);
    assert_non_null(opt);
    struct strbuf sb = {0};
    cfg_format_value(opt, srv, false, &sb);
    snprintf(buf, sizeof buf, "%s", sb_str(&sb));
    sb_free(&sb);
    return buf;
}

/* The text of the first diagnostic of at least level, "" if none. */
static const char *first_diag(const struct cfg *cfg, enum cfg_diag_level level)
{
    for (size_t i = 0; i < cfg->n_diags; i++)
        if (cfg->diags[i].level >= level)
            return cfg->diags[i].text;
    return "";
}

static void test_cfg_options_table_sorted_and_documented(void **state)
{
    (void)state;
    for (size_t i = 0; i < cfg_option_count; i++) {
        const struct cfg_option *o = &cfg_options[i];
        assert_non_null(o->help);
        assert_true(strlen(o->help) > 5);
        assert_non_null(o->accepted);
        /* cellar.conf(5) shows an example of every option cellar uses */
        if (o->type == CFG_T_IGNORED)
            assert_null(o->example);
        else if (!o->example || !*o->example)
            fail_msg("option %s has no example", o->name);
        if (i > 0)
            assert_true(strcmp(cfg_options[i - 1].name, o->name) < 0);
        assert_ptr_equal(cfg_option_find(o->name), o);
    }
    assert_null(cfg_option_find("no_such_option"));
}

static void test_cfg_load_text_minimal_defaults_and_derived_dirs(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[barman]\nbarman_home = /srv/barman\n"
                          "[main]\nconninfo = host=pg user=postgres\n",
                          &cfg, &err),
                     0);
    assert_string_equal(cfg->global.barman_home, "/srv/barman");
    assert_string_equal(cfg->global.barman_lock_directory, "/srv/barman");
    assert_string_equal(cfg->global.barman_user, "barman");
    assert_int_equal(cfg->global.log_level, LOG_INFO);
    assert_string_equal(cfg->global.theme, "default");
    assert_int_equal(cfg->n_servers, 1);
    const struct cfg_server *s = cfg_server_find(cfg, "main");
    assert_non_null(s);
    assert_false(s->disabled);
    assert_string_equal(s->backup_directory, "/srv/barman/main");
    assert_string_equal(s->basebackups_directory, "/srv/barman/main/base");
    assert_string_equal(s->wals_directory, "/srv/barman/main/wals");
    assert_string_equal(s->incoming_wals_directory, "/srv/barman/main/incoming");
    assert_string_equal(s->errors_directory, "/srv/barman/main/errors");
    assert_true(s->active);
    assert_true(s->archiver); /* forced on, as Barman does */
    assert_int_equal(s->compression, COMP_NONE);
    assert_int_equal(s->parallel_jobs, 1);
    assert_int_equal(s->basebackup_retry_sleep, 30);
    assert_int_equal(s->check_timeout, 30);
    assert_int_equal(s->backup_options, CFG_BO_CONCURRENT);
    assert_int_equal(s->reuse_backup, CFG_REUSE_OFF);
    assert_int_equal(s->retention_policy.kind, RET_NONE);
    assert_string_equal(value_of(s, "compression"), "None");
    assert_string_equal(value_of(s, "active"), "True");
    assert_string_equal(value_of(s, "backup_options"), "concurrent_backup");
    assert_string_equal(value_of(s, "wal_retention_policy"), "main");
    assert_int_equal(cfg_diag_count(cfg, NULL, CFG_NOTE), 0);
    cfg_free(cfg);
}

static void test_cfg_load_text_cellar_section_and_inheritance(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[cellar]\nbarman_home = /srv/c\ncompression = gzip\n"
                          "retention_policy = redundancy 3\nminimum_redundancy = 1\n"
                          "[b]\ncompression = none\nretention_policy = NONE\n"
                          "[a]\nminimum_redundancy = 2\n",
                          &cfg, NULL),
                     0);
    assert_int_equal(cfg->n_servers, 2);
    /* sorted by name, like Barman's listings */
    assert_string_equal(cfg->servers[0].name, "a");
    assert_string_equal(cfg->servers[1].name, "b");
    const struct cfg_server *a = &cfg->servers[0], *b = &cfg->servers[1];
    assert_int_equal(a->compression, COMP_GZIP);
    assert_int_equal(a->retention_policy.kind, RET_REDUNDANCY);
    assert_int_equal(a->retention_policy.n, 3);
    assert_int_equal(a->minimum_redundancy, 2);
    assert_string_equal(value_of(a, "retention_policy"), "REDUNDANCY 3");
    /* "none" stops inheritance */
    assert_int_equal(b->compression, COMP_NONE);
    assert_int_equal(b->retention_policy.kind, RET_NONE);
    assert_int_equal(b->minimum_redundancy, 1);
    cfg_free(cfg);
}

static void test_cfg_load_text_configparser_syntax(void **state)
{
    (void)state;
    /* a 300-character conninfo, a hook with " ; ", quotes, ':' separator,
     * continuation lines, comments, CRLF, upper-case keys */
    char text[4096];
    char longhost[260];
    memset(longhost, 'h', sizeof longhost - 1);
    longhost[sizeof longhost - 1] = '\0';
    snprintf(text, sizeof text,
             "\xEF\xBB\xBF; comment\n[barman]\r\nbarman_home: /srv/b\r\n"
             "# another comment\n"
             "[pg]\n"
             "Description = \"Main DB\"\n"
             "conninfo = host=%s user=postgres application_name=cellar\n"
             "pre_backup_script = echo a ; echo b\n"
             "post_backup_script = first line\n"
             "   second line\n"
             "# comment inside a value does not end it\n"
             "   third line\n"
             "ssh_command = 'ssh postgres@pg'\n",
             longhost);
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load(text, &cfg, &err), 0);
    const struct cfg_server *s = cfg_server_find(cfg, "pg");
    assert_non_null(s);
    assert_false(s->disabled);
    assert_string_equal(s->description, "Main DB");
    assert_true(strlen(s->conninfo) > 280);
    assert_non_null(strstr(s->conninfo, "application_name=cellar"));
    assert_string_equal(s->hooks[CFG_HOOK_PRE_BACKUP], "echo a ; echo b");
    assert_string_equal(s->hooks[CFG_HOOK_POST_BACKUP], "first line\nsecond line\nthird line");
    assert_string_equal(s->ssh_command, "ssh postgres@pg");
    cfg_free(cfg);
}

static void test_cfg_load_text_interpolation(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[DEFAULT]\nbase = /data\n"
                          "[barman]\nbarman_home = %(base)s/barman\n"
                          "[pg]\nhost = pg1\nconninfo = host=%(host)s password=50%%\n"
                          "description = server %(name)s in %(barman_home)s\n",
                          &cfg, &err),
                     0);
    assert_string_equal(cfg->global.barman_home, "/data/barman");
    const struct cfg_server *s = cfg_server_find(cfg, "pg");
    assert_string_equal(s->conninfo, "host=pg1 password=50%");
    assert_string_equal(s->description, "server pg in /data/barman");
    /* the unknown key "host" (used only for interpolation) is a warning */
    assert_int_equal(cfg_diag_count(cfg, "pg", CFG_WARNING), 1);
    assert_string_equal(first_diag(cfg, CFG_WARNING), "test.conf:6: [pg] host: unknown option, ignored");
    cfg_free(cfg);
}

static void test_cfg_load_text_bad_percent_disables_server(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[barman]\nbarman_home = /b\n[pg]\nconninfo = password=100%\n", &cfg,
                          NULL),
                     0);
    assert_true(cfg_server_find(cfg, "pg")->disabled);
    assert_string_equal(first_diag(cfg, CFG_ERROR),
                        "test.conf:4: [pg] conninfo: '%' must be followed by '%' or '(name)s'; "
                        "write '%%' for a literal '%'");
    cfg_free(cfg);
}

static void test_cfg_load_text_bad_retention_policy_in_server(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[barman]\nbarman_home = /b\n"
                          "[ok]\nconninfo = host=a\n"
                          "[pg]\nconninfo = host=b\nretention_policy = REDUNDANCY two\n",
                          &cfg, &err),
                     0);
    assert_false(cfg_server_find(cfg, "ok")->disabled);
    assert_true(cfg_server_find(cfg, "pg")->disabled);
    assert_int_equal(cfg_diag_count(cfg, "pg", CFG_ERROR), 1);
    assert_int_equal(cfg_diag_count(cfg, NULL, CFG_ERROR), 0);
    const struct cfg_diag *d = &cfg->diags[0];
    assert_string_equal(d->file, "test.conf");
    assert_int_equal(d->line, 7);
    assert_string_equal(d->option, "retention_policy");
    assert_string_equal(d->text,
                        "test.conf:7: [pg] retention_policy: invalid retention policy "
                        "'REDUNDANCY two': expected 'REDUNDANCY n' or 'RECOVERY WINDOW OF n "
                        "DAYS|WEEKS|MONTHS', n >= 1");
    cfg_free(cfg);
}

static void test_cfg_load_text_bad_value_in_global_fails_load(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[barman]\nbarman_home = /b\ncompression = rar\n[pg]\n", &cfg, &err),
                     -CEL_E_CONFIG);
    assert_non_null(cfg);
    assert_string_equal(err.msg, "test.conf:3: [barman] compression: invalid value 'rar': "
                                 "expected gzip, bzip2, zstd, lz4, custom or none (pigz and "
                                 "pygzip mean gzip, pybzip2 bzip2)");
    assert_int_equal(cfg_diag_count(cfg, NULL, CFG_ERROR), 1);
    cfg_free(cfg);
}

static void test_cfg_load_text_reserved_and_invalid_server_names(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[barman]\nbarman_home = /b\n[all]\nconninfo = x=1\n", &cfg, &err),
                     -CEL_E_CONFIG);
    assert_string_equal(err.msg,
                        "test.conf:3: [all]: 'all' is a reserved word and cannot be a server name");
    cfg_free(cfg);

    assert_int_equal(load("[barman]\nbarman_home = /b\n[Barman]\n", &cfg, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "test.conf:3: [Barman]: 'Barman' is a reserved word and cannot "
                                 "be a server name");
    cfg_free(cfg);

    assert_int_equal(load("[barman]\nbarman_home = /b\n[../etc]\n", &cfg, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "test.conf:3: [../etc]: invalid server name: it must start with "
                                 "a letter, digit or '_' and contain only letters, digits, '_', "
                                 "'.' and '-'");
    cfg_free(cfg);

    assert_int_equal(load("[barman]\nbarman_home = /b\n[pg/main]\n", &cfg, &err), -CEL_E_CONFIG);
    assert_non_null(strstr(err.msg, "[pg/main]: invalid server name"));
    cfg_free(cfg);
}

static void test_cfg_load_text_missing_barman_home(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[barman]\nlog_level = DEBUG\n[pg]\n", &cfg, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "test.conf:1: [barman] barman_home is not set: add 'barman_home "
                                 "= /var/lib/cellar' (or your Barman home) to the [barman] "
                                 "section");
    cfg_free(cfg);
    /* no global section at all */
    assert_int_equal(load("[pg]\nconninfo = host=x\n", &cfg, &err), -CEL_E_CONFIG);
    assert_non_null(strstr(err.msg, "barman_home is not set"));
    cfg_free(cfg);
}

static void test_cfg_load_text_relative_path_refused(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[barman]\nbarman_home = var/lib/barman\n", &cfg, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "test.conf:2: [barman] barman_home: invalid path "
                                 "'var/lib/barman': expected an absolute path");
    cfg_free(cfg);
}

static void test_cfg_load_text_typed_values_and_errors(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[barman]\nbarman_home = /b/\n"
                          "[pg]\nlast_backup_maximum_age = 1 Week\nlast_wal_maximum_age = 6 hours\n"
                          "tablespace_bandwidth_limit = tbs1:1000,  tbs2:500\n"
                          "backup_options = concurrent_backup, external_configuration\n"
                          "reuse_backup = LINK\nbandwidth_limit = 4000\nparallel_jobs = 4\n"
                          "retention_policy = recovery window of 2 months\n"
                          "recovery_options = get-wal\nimmediate_checkpoint = yes\n"
                          "custom_compression_magic = 0x28b52ffd\n",
                          &cfg, NULL),
                     0);
    const struct cfg_server *s = cfg_server_find(cfg, "pg");
    assert_false(s->disabled);
    assert_string_equal(cfg->global.barman_home, "/b");
    assert_int_equal(s->last_backup_maximum_age.seconds, 7 * 86400);
    assert_int_equal(s->last_wal_maximum_age.seconds, 6 * 3600);
    assert_string_equal(value_of(s, "last_backup_maximum_age"), "1 WEEK");
    assert_int_equal(s->tablespace_bandwidth_limit.n, 2);
    assert_string_equal(s->tablespace_bandwidth_limit.items[1].name, "tbs2");
    assert_int_equal(s->tablespace_bandwidth_limit.items[1].kbps, 500);
    assert_string_equal(value_of(s, "tablespace_bandwidth_limit"), "tbs1:1000 tbs2:500");
    assert_int_equal(s->backup_options, CFG_BO_CONCURRENT | CFG_BO_EXTERNAL_CONFIGURATION);
    assert_string_equal(value_of(s, "backup_options"), "concurrent_backup, external_configuration");
    assert_int_equal(s->reuse_backup, CFG_REUSE_LINK);
    assert_int_equal(s->bandwidth_limit, 4000);
    assert_int_equal(s->parallel_jobs, 4);
    assert_int_equal(s->retention_policy.kind, RET_WINDOW);
    assert_int_equal(ret_window_seconds(&s->retention_policy), 62 * 86400);
    assert_string_equal(value_of(s, "retention_policy"), "RECOVERY WINDOW OF 2 MONTHS");
    assert_int_equal(s->recovery_options, CFG_RO_GET_WAL);
    assert_true(s->immediate_checkpoint);
    /* parsed once, at load: consumers read the bytes */
    assert_string_equal(s->custom_compression_magic.text, "0x28b52ffd");
    assert_int_equal(s->custom_compression_magic.len, 4);
    assert_memory_equal(s->custom_compression_magic.bytes, "\x28\xb5\x2f\xfd", 4);
    assert_string_equal(value_of(s, "custom_compression_magic"), "0x28b52ffd");
    cfg_free(cfg);

    /* each bad value: server disabled, message names file, line, option,
     * value and what is accepted */
    static const struct {
        const char *line;
        const char *msg;
    } bad[] = {
        {"parallel_jobs = 0", "[pg] parallel_jobs: invalid value '0': expected a whole number "
                              "from 1 to 64"},
        {"bandwidth_limit = fast", "[pg] bandwidth_limit: invalid value 'fast': expected "
                                   "kilobytes per second, a whole number (0: no limit)"},
        {"active = maybe", "[pg] active: invalid value 'maybe': expected true or false"},
        {"last_backup_maximum_age = 1 fortnight",
         "[pg] last_backup_maximum_age: invalid value '1 fortnight': expected N HOURS, DAYS, "
         "WEEKS or MONTHS with N from 1 to 100000"},
        /* 2^32 + 1 must not wrap around to 1 */
        {"last_backup_maximum_age = 4294967297 days",
         "[pg] last_backup_maximum_age: invalid value '4294967297 days': expected N HOURS, DAYS, "
         "WEEKS or MONTHS with N from 1 to 100000"},
        {"last_wal_maximum_age = 100001 hours",
         "[pg] last_wal_maximum_age: invalid value '100001 hours': expected N HOURS, DAYS, "
         "WEEKS or MONTHS with N from 1 to 100000"},
        {"tablespace_bandwidth_limit = tbs1:1000, tbs2:fast",
         "[pg] tablespace_bandwidth_limit: invalid rule 'tbs2:fast' in "
         "'tbs1:1000, tbs2:fast': expected NAME:KBPS rules separated by spaces or commas, e.g. "
         "tbs1:1000, tbs2:500"},
        {"backup_options = concurrent_backup,fast",
         "[pg] backup_options: invalid value 'fast' in 'concurrent_backup,fast': expected a "
         "comma-separated list of concurrent_backup, exclusive_backup, external_configuration"},
        {"backup_options = exclusive_backup, concurrent_backup",
         "[pg] backup_options: concurrent_backup and exclusive_backup exclude each other"},
        {"reuse_backup = always", "[pg] reuse_backup: invalid value 'always': expected off, copy "
                                  "or link"},
        {"retention_policy = REDUNDANCY 0",
         "[pg] retention_policy: invalid retention policy 'REDUNDANCY 0': a policy of 0 marks "
         "every backup obsolete; use at least 1, or remove retention_policy to keep all backups"},
        {"custom_compression_magic = 28b5", "[pg] custom_compression_magic: invalid value '28b5': "
                                            "expected 0x followed by 1 to 16 bytes in "
                                            "hexadecimal (an even number of digits)"},
        /* an odd number of digits is no whole number of bytes: refused at
         * load, not dropped later where the magic is used */
        {"custom_compression_magic = 0x28b52ff",
         "[pg] custom_compression_magic: invalid value '0x28b52ff': expected 0x followed by 1 to "
         "16 bytes in hexadecimal (an even number of digits)"},
        {"conninfo = host", "[pg] conninfo: invalid connection string 'host': missing \"=\" after "
                            "\"host\" in connection info string"},
        {"conninfo = host=x password=s3cret sslmode", "[pg] conninfo: invalid connection string "
                                                      "'host=x password=******** sslmode': missing "
                                                      "\"=\" after \"sslmode\" in connection info "
                                                      "string"},
        /* libpq's own message would quote the password: it is not shown */
        {"conninfo = postgresql://u:50%%off@pg/db",
         "[pg] conninfo: invalid connection string 'postgresql://u:********@pg/db': the password "
         "is not valid in a connection string (libpq's message is not shown: it quotes the "
         "password)"},
        {"conninfo = host=pg PASSWORD=s3cret", "[pg] conninfo: invalid connection string "
                                               "'host=pg PASSWORD=********': invalid connection "
                                               "option \"PASSWORD\""},
        {"conninfo = postgresql://pg/db?password=a%%zz&foo=bar",
         "[pg] conninfo: invalid connection string 'postgresql://pg/db?password=********&foo=bar': "
         "invalid URI query parameter: \"foo\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512], expected[512];
        snprintf(text, sizeof text, "[barman]\nbarman_home = /b\n[pg]\n%s\n", bad[i].line);
        assert_int_equal(load(text, &cfg, NULL), 0);
        assert_true(cfg_server_find(cfg, "pg")->disabled);
        snprintf(expected, sizeof expected, "test.conf:4: %s", bad[i].msg);
        assert_string_equal(first_diag(cfg, CFG_ERROR), expected);
        cfg_free(cfg);
    }
}

/* The server [pg] of a configuration whose server section is body. */
static const struct cfg_server *load_pg(const char *body, struct cfg **cfg)
{
    char text[512];
    snprintf(text, sizeof text, "[barman]\nbarman_home = /b\n[pg]\n%s\n", body);
    assert_int_equal(load(text, cfg, NULL), 0);
    const struct cfg_server *s = cfg_server_find(*cfg, "pg");
    assert_non_null(s);
    assert_false(s->disabled);
    return s;
}

/* Whether expr has type T (an int field does not pass for an enum one). */
#define HAS_TYPE(expr, T) _Generic((expr), T: 1, default: 0)
#define SRV_FIELD(f) (((const struct cfg_server *)0)->f)
_Static_assert(HAS_TYPE(SRV_FIELD(compression), enum comp_kind), "compression typed");
_Static_assert(HAS_TYPE(SRV_FIELD(backup_method), enum cfg_backup_method), "backup_method typed");
_Static_assert(HAS_TYPE(SRV_FIELD(reuse_backup), enum cfg_reuse), "reuse_backup typed");
_Static_assert(HAS_TYPE(SRV_FIELD(retention_policy_mode), enum cfg_retention_mode),
               "retention_policy_mode typed");
_Static_assert(HAS_TYPE(SRV_FIELD(wal_retention_policy), enum cfg_wal_retention),
               "wal_retention_policy typed");
_Static_assert(HAS_TYPE(((const struct cfg_global *)0)->log_level, enum log_level),
               "log_level typed");

/* Enum options land in fields of their enum type, from any spelling the
 * option accepts, and show-server names them back. */
static void test_cfg_load_text_enum_fields_typed(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    static const struct {
        const char *line;
        enum comp_kind kind;
        const char *shown;
    } comps[] = {
        {"", COMP_NONE, "None"},
        {"compression = none", COMP_NONE, "None"},
        {"compression = gzip", COMP_GZIP, "gzip"},
        {"compression = PIGZ", COMP_GZIP, "gzip"},
        {"compression = pygzip", COMP_GZIP, "gzip"},
        {"compression = bzip2", COMP_BZIP2, "bzip2"},
        {"compression = pybzip2", COMP_BZIP2, "bzip2"},
        {"compression = zstd", COMP_ZSTD, "zstd"},
        {"compression = lz4", COMP_LZ4, "lz4"},
        {"compression = custom", COMP_CUSTOM, "custom"},
    };
    for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++) {
        const struct cfg_server *s = load_pg(comps[i].line, &cfg);
        enum comp_kind kind = s->compression;
        assert_int_equal(kind, comps[i].kind);
        assert_string_equal(value_of(s, "compression"), comps[i].shown);
        cfg_free(cfg);
    }

    static const struct {
        const char *line;
        enum cfg_backup_method method;
    } methods[] = {
        {"", CFG_BM_RSYNC},
        {"backup_method = rsync", CFG_BM_RSYNC},
        {"backup_method = Local-Rsync", CFG_BM_LOCAL_RSYNC},
        {"backup_method = postgres", CFG_BM_POSTGRES},
        {"backup_method = snapshot", CFG_BM_SNAPSHOT},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        const struct cfg_server *s = load_pg(methods[i].line, &cfg);
        enum cfg_backup_method method = s->backup_method;
        assert_int_equal(method, methods[i].method);
        cfg_free(cfg);
    }

    static const struct {
        const char *line;
        enum cfg_reuse reuse;
    } reuses[] = {
        {"", CFG_REUSE_OFF},
        {"reuse_backup = off", CFG_REUSE_OFF},
        {"reuse_backup = copy", CFG_REUSE_COPY},
        {"reuse_backup = Link", CFG_REUSE_LINK},
    };
    for (size_t i = 0; i < sizeof reuses / sizeof reuses[0]; i++) {
        const struct cfg_server *s = load_pg(reuses[i].line, &cfg);
        enum cfg_reuse reuse = s->reuse_backup;
        assert_int_equal(reuse, reuses[i].reuse);
        cfg_free(cfg);
    }

    const struct cfg_server *s =
        load_pg("retention_policy_mode = AUTO\nwal_retention_policy = Main\n", &cfg);
    enum cfg_retention_mode mode = s->retention_policy_mode;
    enum cfg_wal_retention wal = s->wal_retention_policy;
    assert_int_equal(mode, CFG_RETENTION_MODE_AUTO);
    assert_int_equal(wal, CFG_WAL_RETENTION_MAIN);
    assert_string_equal(value_of(s, "retention_policy_mode"), "auto");
    assert_string_equal(value_of(s, "wal_retention_policy"), "main");
    assert_string_equal(value_of(s, "backup_method"), "rsync");
    assert_string_equal(value_of(s, "reuse_backup"), "off");
    cfg_free(cfg);

    static const struct {
        const char *text;
        enum log_level level;
        const char *shown;
    } levels[] = {
        {"", LOG_INFO, "INFO"},
        {"log_level = debug", LOG_DEBUG, "DEBUG"},
        {"log_level = WARNING", LOG_WARNING, "WARNING"},
        {"log_level = warn", LOG_WARNING, "WARNING"},
        {"log_level = Error", LOG_ERROR, "ERROR"},
        {"log_level = CRITICAL", LOG_CRITICAL, "CRITICAL"},
    };
    const struct cfg_option *opt = cfg_option_find("log_level");
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "[barman]\nbarman_home = /b\n%s\n", levels[i].text);
        assert_int_equal(load(text, &cfg, NULL), 0);
        enum log_level level = cfg->global.log_level;
        assert_int_equal(level, levels[i].level);
        struct strbuf v = {0};
        cfg_format_value(opt, &cfg->global, false, &v);
        assert_string_equal(sb_str(&v), levels[i].shown);
        sb_free(&v);
        cfg_free(cfg);
    }
}

/* A bad enum value disables its server (or fails the load, in the global
 * section) with a message naming file, line, option, value and choices. */
static void test_cfg_load_text_enum_bad_values_name_file_line_option(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *msg;
    } bad[] = {
        {"compression = brotli",
         "[pg] compression: invalid value 'brotli': expected gzip, bzip2, zstd, lz4, custom or "
         "none (pigz and pygzip mean gzip, pybzip2 bzip2)"},
        {"backup_method = pg_basebackup",
         "[pg] backup_method: invalid value 'pg_basebackup': expected rsync, local-rsync, "
         "postgres or snapshot"},
        {"retention_policy_mode = manual",
         "[pg] retention_policy_mode: invalid value 'manual': expected auto"},
        {"wal_retention_policy = simple",
         "[pg] wal_retention_policy: invalid value 'simple': expected main"},
        {"reuse_backup = hardlink",
         "[pg] reuse_backup: invalid value 'hardlink': expected off, copy or link"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cfg *cfg = NULL;
        char text[512], expected[512];
        /* the bad line is line 5: after an option that is fine */
        snprintf(text, sizeof text, "[barman]\nbarman_home = /b\n[pg]\nactive = true\n%s\n",
                 bad[i].line);
        assert_int_equal(load(text, &cfg, NULL), 0);
        const struct cfg_server *s = cfg_server_find(cfg, "pg");
        assert_true(s->disabled);
        snprintf(expected, sizeof expected, "test.conf:5: %s", bad[i].msg);
        assert_string_equal(first_diag(cfg, CFG_ERROR), expected);
        assert_int_equal(cfg_diag_count(cfg, "pg", CFG_ERROR), 1);
        const struct cfg_diag *d = &cfg->diags[0];
        assert_string_equal(d->file, "test.conf");
        assert_int_equal(d->line, 5);
        assert_string_equal(d->server, "pg");
        assert_non_null(d->option);
        assert_true(strncmp(bad[i].line, d->option, strlen(d->option)) == 0);
        cfg_free(cfg);
    }

    /* log_level lives in the global section: the load fails */
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[barman]\nbarman_home = /b\n\nlog_level = LOUD\n", &cfg, &err),
                     -CEL_E_CONFIG);
    assert_string_equal(err.msg, "test.conf:4: [barman] log_level: invalid log level 'LOUD': "
                                 "expected DEBUG, INFO, WARNING, ERROR or CRITICAL");
    assert_int_equal(cfg->diags[0].line, 4);
    assert_string_equal(cfg->diags[0].option, "log_level");
    assert_null(cfg->diags[0].server);
    cfg_free(cfg);
}

/* The user of conninfo and the user and host of ssh_command are found at
 * load, so no consumer parses either string again. */
static void test_cfg_load_text_conninfo_user_and_ssh_target(void **state)
{
    (void)state;
    static const struct {
        const char *conninfo;
        const char *user; /* NULL: none */
    } users[] = {
        {"host=pg user=barman dbname=postgres", "barman"},
        {"host=pg user='a b' dbname=postgres", "a b"},
        {"postgresql://bob@pg:5432/db", "bob"},
        {"postgresql://pg/db?user=carol", "carol"},
        {"host=pg dbname=postgres", NULL},
        {"host=pg user=''", NULL},
    };
    struct cfg *cfg = NULL;
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "conninfo = %s", users[i].conninfo);
        const struct cfg_server *s = load_pg(line, &cfg);
        if (users[i].user)
            assert_string_equal(s->conninfo_user, users[i].user);
        else
            assert_null(s->conninfo_user);
        cfg_free(cfg);
    }
    const struct cfg_server *s = load_pg("", &cfg);
    assert_null(s->conninfo);
    assert_null(s->conninfo_user);
    assert_null(s->ssh_command);
    assert_null(s->ssh_user);
    assert_null(s->ssh_host);
    cfg_free(cfg);

    static const struct {
        const char *cmd;
        const char *user, *host; /* NULL: not named */
    } ssh[] = {
        {"ssh postgres@pg", "postgres", "pg"},
        {"ssh -l postgres pg", "postgres", "pg"},
        {"ssh -lpostgres pg.example.com", "postgres", "pg.example.com"},
        {"ssh -p 2222 -q postgres@10.0.0.5", "postgres", "10.0.0.5"},
        {"ssh -o StrictHostKeyChecking=no -i /k/id pg", NULL, "pg"},
        {"ssh -oBatchMode=yes\tpg", NULL, "pg"},
        {"ssh a@b@pg", "a@b", "pg"},
        {"ssh @pg", NULL, "pg"},
        {"ssh postgres@", "postgres", NULL},
        {"ssh", NULL, NULL},
        {"ssh -p 22", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof ssh / sizeof ssh[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "ssh_command = %s", ssh[i].cmd);
        s = load_pg(line, &cfg);
        assert_string_equal(s->ssh_command, ssh[i].cmd);
        if (ssh[i].user)
            assert_string_equal(s->ssh_user, ssh[i].user);
        else
            assert_null(s->ssh_user);
        if (ssh[i].host)
            assert_string_equal(s->ssh_host, ssh[i].host);
        else
            assert_null(s->ssh_host);
        cfg_free(cfg);
    }
}

static void test_cfg_load_text_unknown_ignored_and_misplaced_options(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[barman]\nbarman_home = /b\nssh_command = ssh x\nfrobnicate = 1\n"
                          "forward_config_path = on\n"
                          "[pg]\nbarman_home = /other\nrecovery_staging_path = /x\n",
                          &cfg, NULL),
                     0);
    const struct cfg_server *s = cfg_server_find(cfg, "pg");
    assert_false(s->disabled);
    assert_null(s->ssh_command); /* server-only options are not inherited */
    const char *expected[] = {
        "test.conf:3: [barman] ssh_command: a server option; servers do not inherit it from "
        "[barman], set it in each server section",
        "test.conf:4: [barman] frobnicate: unknown option, ignored",
        "test.conf:5: [barman] forward_config_path: Barman option that cellar does not use, "
        "ignored: cellar runs on the Barman host only (no barman-cli forwarding)",
        "test.conf:7: [pg] barman_home: only valid in the [barman] section, ignored here",
        "test.conf:8: [pg] recovery_staging_path: Barman option that cellar does not use, "
        "ignored: cellar decompresses tar backups while it streams them, with no staging",
    };
    assert_int_equal(cfg->n_diags, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(cfg->diags[i].text, expected[i]);
    assert_int_equal(cfg->diags[2].level, CFG_NOTE);
    assert_int_equal(cfg->diags[1].level, CFG_WARNING);
    cfg_free(cfg);
}

/* The streaming archiver's options, with Barman's defaults and rules:
 * archiver is forced on only when streaming_archiver is off, slot_name is
 * lower-cased and checked, streaming_conninfo defaults to conninfo. */
static void test_cfg_load_text_streaming_options(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[barman]\nbarman_home = /b\n"
                          "[plain]\nconninfo = host=pg\n"
                          "[stream]\nconninfo = host=pg\nstreaming_archiver = on\n"
                          "slot_name = Barman_1\ncreate_slot = AUTO\n"
                          "streaming_archiver_batch_size = 7\n"
                          "[noslot]\nstreaming_archiver = on\n"
                          "streaming_wals_directory = /s\nstreaming_conninfo = host=standby\n"
                          "[badslot]\nslot_name = bad-name\n",
                          &cfg, NULL),
                     0);
    const struct cfg_server *plain = cfg_server_find(cfg, "plain");
    assert_true(plain->archiver);
    assert_false(plain->streaming_archiver);
    assert_string_equal(plain->streaming_wals_directory, "/b/plain/streaming");
    assert_string_equal(plain->streaming_conninfo, "host=pg");
    assert_string_equal(plain->streaming_archiver_name, "barman_receive_wal");
    assert_int_equal(plain->create_slot, CFG_CREATE_SLOT_MANUAL);
    const struct cfg_server *st = cfg_server_find(cfg, "stream");
    assert_false(st->archiver);
    assert_true(st->streaming_archiver);
    assert_false(st->disabled);
    assert_string_equal(st->slot_name, "barman_1");
    assert_int_equal(st->create_slot, CFG_CREATE_SLOT_AUTO);
    assert_int_equal(st->streaming_archiver_batch_size, 7);
    const struct cfg_server *ns = cfg_server_find(cfg, "noslot");
    assert_false(ns->disabled);
    assert_string_equal(ns->streaming_wals_directory, "/s");
    assert_string_equal(ns->streaming_conninfo, "host=standby");
    assert_int_equal(cfg_diag_count(cfg, "noslot", CFG_WARNING), 1);
    assert_true(cfg_server_find(cfg, "badslot")->disabled);
    assert_string_equal(first_diag(cfg, CFG_ERROR),
                        "test.conf:16: [badslot] slot_name: invalid value 'bad-name': replication "
                        "slot names may only contain lower case letters, numbers, and the "
                        "underscore character");
    cfg_free(cfg);
}

/* Barman 3.21's options: each is accepted; those whose effect cellar cannot
 * give warn with the reason, the harmless ones leave a note; encryption =
 * gpg is typed (with its key; without one the server is disabled, naming
 * the line; with a 3.4 or 3.13 catalogue too) and a configuration model is
 * not a server. */
static void test_cfg_load_text_barman_321_options(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[barman]\nbarman_home = /b\nlock_directory_cleanup = true\n"
                          "[pg]\nworm_mode = on\nencryption = none\naws_region = eu-west-1\n"
                          "[enc]\nencryption = gpg\nencryption_key_id = k@x\n"
                          "encryption_passphrase_command = cat /p\n"
                          "[m1]\nmodel = true\ncluster = pg\nconninfo = host=other\n"
                          "[nokey]\nencryption = gpg\n"
                          "[old]\nencryption = gpg\nencryption_key_id = k@x\n"
                          "cellar_xlogdb_format = 3.4\n",
                          &cfg, NULL),
                     0);
    assert_int_equal(cfg->n_servers, 4);
    assert_null(cfg_server_find(cfg, "m1"));
    assert_false(cfg_server_find(cfg, "pg")->disabled);
    assert_int_equal(cfg_server_find(cfg, "pg")->encryption, CFG_ENC_NONE);
    const struct cfg_server *enc = cfg_server_find(cfg, "enc");
    assert_false(enc->disabled);
    assert_int_equal(enc->encryption, CFG_ENC_GPG);
    assert_string_equal(enc->encryption_key_id, "k@x");
    assert_string_equal(enc->encryption_passphrase_command, "cat /p");
    assert_int_equal(cfg_diag_count(cfg, "enc", CFG_ERROR), 0);
    assert_true(cfg_server_find(cfg, "nokey")->disabled);
    assert_true(cfg_server_find(cfg, "old")->disabled);
    assert_int_equal(cfg_diag_count(cfg, "pg", CFG_WARNING), 1);
    assert_int_equal(cfg_diag_count(cfg, "pg", CFG_NOTE), 2); /* and notes */
    bool worm = false, nokey = false, old = false;
    for (size_t i = 0; i < cfg->n_diags; i++) {
        const char *t = cfg->diags[i].text;
        if (strstr(t, "[pg] worm_mode: Barman option that cellar cannot apply, ignored: cellar "
                      "has no WORM mode"))
            worm = cfg->diags[i].level == CFG_WARNING;
        if (strstr(t, "test.conf:17: [nokey] encryption: gpg needs encryption_key_id"))
            nokey = cfg->diags[i].level == CFG_ERROR;
        if (strstr(t, "test.conf:21: [old] cellar_xlogdb_format: encryption = gpg records"))
            old = cfg->diags[i].level == CFG_ERROR;
    }
    assert_true(worm);
    assert_true(nokey);
    assert_true(old);
    assert_int_equal(cfg->n_models, 1); /* m1 is a model, not a server */
    assert_string_equal(cfg->models[0].cluster, "pg");
    cfg_free(cfg);
}

/* Configuration models (Barman 3.10): a model section is not a server;
 * the model named in <backup_directory>/.active-model.auto is laid over
 * its server (its values win); a model without a cluster, or setting a
 * path, is unusable, and a server whose active model is unusable or gone
 * is disabled with Barman's message. */
static void test_cfg_load_text_models(void **state)
{
    (void)state;
    char *conf = cel_xasprintf(
        "[barman]\nbarman_home = %s\n"
        "[pg]\nconninfo = host=a\nbandwidth_limit = 10\ncluster = c1\n"
        "[other]\nconninfo = host=o\n"
        "[gone]\nconninfo = host=g\n"
        "[fast]\nmodel = true\ncluster = c1\nbandwidth_limit = 0\nconninfo = host=b\n"
        "[nocluster]\nmodel = true\nconninfo = host=x\n"
        "[badpath]\nmodel = true\ncluster = c1\nwals_directory = /w\n",
        unit_tmp);
    assert_int_equal(mkdir(unit_path("pg"), 0700), 0);
    assert_int_equal(mkdir(unit_path("gone"), 0700), 0);
    FILE *f = fopen(unit_path("pg/.active-model.auto"), "w");
    fputs("fast", f);
    fclose(f);
    f = fopen(unit_path("gone/.active-model.auto"), "w");
    fputs("nosuchmodel\n", f);
    fclose(f);
    struct cfg *cfg = NULL;
    assert_int_equal(load(conf, &cfg, NULL), 0);
    assert_int_equal(cfg->n_servers, 3);
    assert_int_equal(cfg->n_models, 3);
    const struct cfg_server *pg = cfg_server_find(cfg, "pg");
    assert_false(pg->disabled);
    assert_string_equal(pg->active_model, "fast");
    assert_string_equal(pg->conninfo, "host=b");
    assert_int_equal(pg->bandwidth_limit, 0);
    assert_string_equal(pg->cluster, "c1");
    const struct cfg_server *o = cfg_server_find(cfg, "other");
    assert_null(o->active_model);
    assert_string_equal(o->cluster, "other");
    assert_string_equal(o->conninfo, "host=o");
    assert_true(cfg_server_find(cfg, "gone")->disabled);
    assert_true(cfg_model_find(cfg, "fast")->usable);
    assert_false(cfg_model_find(cfg, "nocluster")->usable);
    assert_false(cfg_model_find(cfg, "badpath")->usable);
    bool gone = false, path = false;
    for (size_t i = 0; i < cfg->n_diags; i++) {
        gone |= strstr(cfg->diags[i].text, "Model 'nosuchmodel' is set as the active model for "
                                           "the server 'gone' but the model does not exist.") !=
                NULL;
        path |= strstr(cfg->diags[i].text, "[badpath] wals_directory: a configuration model may "
                                           "not set paths or hook scripts") != NULL;
    }
    assert_true(gone);
    assert_true(path);
    cfg_free(cfg);
    free(conf);
}

/* The object storage options: checked at load with the file and line of
 * the option at fault, cloud_server_name defaulting to the section's name,
 * and a server is a bucket or copied to one, not both. */
static void test_cfg_load_text_cloud_options(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[barman]\nbarman_home = /b\n"
                          "[copy]\ncloud_destination = s3://bkt/pg\ncloud_compression = gzip\n"
                          "cloud_endpoint_url = http://127.0.0.1:8080\ncloud_profile = p1\n"
                          "[bucket]\ncloud_source = s3://bkt\ncloud_server_name = pg1\n"
                          "[badurl]\ncloud_destination = http://bkt/pg\n"
                          "[both]\ncloud_destination = s3://bkt\ncloud_source = s3://bkt\n"
                          "[badep]\ncloud_source = s3://bkt\ncloud_endpoint_url = ftp://x\n",
                          &cfg, NULL),
                     0);
    const struct cfg_server *c = cfg_server_find(cfg, "copy");
    assert_false(c->disabled);
    assert_string_equal(c->cloud_destination, "s3://bkt/pg");
    assert_string_equal(c->cloud_server_name, "copy");
    assert_int_equal(c->cloud_compression, CLOUD_COMP_GZIP);
    assert_string_equal(c->cloud_profile, "p1");
    const struct cfg_server *b = cfg_server_find(cfg, "bucket");
    assert_false(b->disabled);
    assert_string_equal(b->cloud_server_name, "pg1");
    assert_int_equal(b->cloud_compression, CLOUD_COMP_NONE);
    assert_true(cfg_server_find(cfg, "badurl")->disabled);
    assert_true(cfg_server_find(cfg, "both")->disabled);
    assert_true(cfg_server_find(cfg, "badep")->disabled);
    const char *first = first_diag(cfg, CFG_ERROR);
    assert_string_equal(first, "test.conf:12: [badurl] cloud_destination: invalid bucket URL "
                               "'http://bkt/pg': only s3:// URLs are supported");
    cfg_free(cfg);
}

/* xlogdb_directory (Barman >= 3.13) defaults to wals_directory and is
 * interpolated like the other paths; cellar_xlogdb_format picks the
 * catalogue's style. */
static void test_cfg_load_text_xlogdb_options(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[barman]\nbarman_home = /b\n"
                          "[plain]\nconninfo = host=pg\n"
                          "[moved]\nwals_directory = /w/moved\n"
                          "xlogdb_directory = %(wals_directory)s/../xlogdb\n"
                          "cellar_xlogdb_format = 3.14\n"
                          "[forced]\ncellar_xlogdb_format = 3.4\n"
                          "[bad]\ncellar_xlogdb_format = 3.15\n",
                          &cfg, NULL),
                     0);
    const struct cfg_server *plain = cfg_server_find(cfg, "plain");
    assert_string_equal(plain->xlogdb_directory, "/b/plain/wals");
    assert_false(plain->xlogdb_directory_set);
    assert_int_equal(plain->cellar_xlogdb_format, CFG_XDB_AUTO);
    assert_string_equal(value_of(plain, "cellar_xlogdb_format"), "auto");
    const struct cfg_server *moved = cfg_server_find(cfg, "moved");
    assert_string_equal(moved->xlogdb_directory, "/w/moved/../xlogdb");
    assert_true(moved->xlogdb_directory_set);
    assert_int_equal(moved->cellar_xlogdb_format, CFG_XDB_3_14);
    assert_int_equal(cfg_server_find(cfg, "forced")->cellar_xlogdb_format, CFG_XDB_3_4);
    assert_true(cfg_server_find(cfg, "bad")->disabled);
    assert_int_equal(cfg_diag_count(cfg, "plain", CFG_WARNING), 0);
    assert_int_equal(cfg_diag_count(cfg, "moved", CFG_WARNING), 0);
    cfg_free(cfg);
}

static void test_cfg_load_text_directory_clash_disables_both(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[barman]\nbarman_home = /b\n[a]\nwals_directory = /x/wals\n"
                          "[b]\nincoming_wals_directory = /x/wals\n[c]\n",
                          &cfg, NULL),
                     0);
    assert_true(cfg_server_find(cfg, "a")->disabled);
    assert_true(cfg_server_find(cfg, "b")->disabled);
    assert_false(cfg_server_find(cfg, "c")->disabled);
    assert_string_equal(first_diag(cfg, CFG_ERROR),
                        "test.conf:3: [a] wals_directory: '/x/wals' is also [b] "
                        "incoming_wals_directory; give each its own");
    cfg_free(cfg);
}

static void test_cfg_load_text_syntax_error_names_line(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[barman]\nbarman_home = /b\nthis line is wrong\n", &cfg, &err),
                     -CEL_E_CONFIG);
    assert_string_equal(err.msg, "test.conf:3: cannot parse 'this line is wrong': expected "
                                 "'option = value', '[section]' or a comment");
    cfg_free(cfg);
    assert_int_equal(load("barman_home = /b\n[barman]\n", &cfg, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg, "test.conf:1: option 'barman_home' comes before the first "
                                 "[section]");
    cfg_free(cfg);
    assert_int_equal(load("[barman\n", &cfg, &err), -CEL_E_CONFIG);
    assert_string_equal(err.msg,
                        "test.conf:1: invalid section header '[barman': expected '[name]'");
    cfg_free(cfg);
}

static void test_cfg_load_files_and_conf_dir(void **state)
{
    (void)state;
    unit_mkdir("conf.d");
    unit_write("conf.d/b.conf", "[beta]\ndescription = from b\n");
    unit_write("conf.d/a.conf", "[alpha]\ndescription = from a\n[beta]\ndescription = early\n");
    unit_write("conf.d/ignored.txt", "[gamma]\n");
    char main_text[4400];
    snprintf(main_text, sizeof main_text,
             "[barman]\nbarman_home = /b\nconfiguration_files_directory = %s\n",
             unit_path("conf.d"));
    const char *path = unit_write("barman.conf", main_text);
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(cfg_load(path, &cfg, &err), 0);
    assert_string_equal(cfg->path, path);
    assert_int_equal(cfg->n_servers, 2);
    assert_string_equal(cfg_server_find(cfg, "alpha")->description, "from a");
    /* files are read in name order, later values win */
    assert_string_equal(cfg_server_find(cfg, "beta")->description, "from b");
    assert_null(cfg_server_find(cfg, "gamma"));
    cfg_free(cfg);

    /* a global section in the directory is an error */
    unit_write("conf.d/c.conf", "[barman]\nbarman_home = /elsewhere\n");
    assert_int_equal(cfg_load(path, &cfg, &err), -CEL_E_CONFIG);
    char expected[4400];
    snprintf(expected, sizeof expected,
             "%s:2: [barman] barman_home: global options belong in the main configuration file, "
             "not in configuration_files_directory",
             unit_path("conf.d/c.conf"));
    assert_string_equal(err.msg, expected);
    cfg_free(cfg);
}

static void test_cfg_load_empty_and_missing_conf_dir(void **state)
{
    (void)state;
    unit_mkdir("empty.d");
    char text[4400];
    snprintf(text, sizeof text, "[barman]\nbarman_home = /b\nconfiguration_files_directory = %s\n",
             unit_path("empty.d"));
    struct cfg *cfg = NULL;
    assert_int_equal(cfg_load_text(text, "main.conf", &cfg, NULL), 0);
    assert_int_equal(cfg->n_servers, 0);
    assert_int_equal(cfg->n_diags, 0);
    cfg_free(cfg);
    snprintf(text, sizeof text, "[barman]\nbarman_home = /b\nconfiguration_files_directory = %s\n",
             unit_path("missing.d"));
    assert_int_equal(cfg_load_text(text, "main.conf", &cfg, NULL), 0);
    char expected[4400];
    snprintf(expected, sizeof expected,
             "main.conf: [barman] configuration_files_directory: cannot read directory '%s': No "
             "such file or directory, ignored",
             unit_path("missing.d"));
    assert_string_equal(first_diag(cfg, CFG_WARNING), expected);
    cfg_free(cfg);
}

static void test_cfg_load_missing_file(void **state)
{
    (void)state;
    struct cfg *cfg = (struct cfg *)1;
    struct cel_err err = {0};
    assert_int_equal(cfg_load(unit_path("none.conf"), &cfg, &err), -CEL_E_CONFIG);
    assert_null(cfg);
    char expected[4400];
    snprintf(expected, sizeof expected,
             "cannot read the configuration: cannot open '%s': No such file or directory",
             unit_path("none.conf"));
    assert_string_equal(err.msg, expected);
}

static void test_cfg_load_searches_home(void **state)
{
    (void)state;
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", unit_tmp, 1);
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    /* ~/.barman.conf is found when there is no cellar file */
    unit_write(".barman.conf", "[barman]\nbarman_home = /from/barman\n");
    assert_int_equal(cfg_load(NULL, &cfg, &err), 0);
    assert_string_equal(cfg->global.barman_home, "/from/barman");
    cfg_free(cfg);
    /* ~/.cellar.conf comes first */
    unit_write(".cellar.conf", "[cellar]\nbarman_home = /from/cellar\n");
    assert_int_equal(cfg_load(NULL, &cfg, &err), 0);
    assert_string_equal(cfg->global.barman_home, "/from/cellar");
    cfg_free(cfg);
    if (old_home) {
        setenv("HOME", old_home, 1);
        free(old_home);
    }
}

static void test_cfg_find_default(void **state)
{
    (void)state;
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", unit_tmp, 1);
    /* nothing in HOME: the first path looked at is ~/.cellar.conf, then
     * /etc/cellar.conf, one per line (what /etc holds depends on the host) */
    struct strbuf tried = {0};
    char *found = cfg_find_default(&tried);
    char expected[4400];
    snprintf(expected, sizeof expected, "%s\n/etc/cellar.conf", unit_path(".cellar.conf"));
    assert_true(tried.len >= strlen(expected));
    assert_memory_equal(sb_str(&tried), expected, strlen(expected));
    assert_false(cel_str_ends(sb_str(&tried), "\n"));
    free(found);
    sb_reset(&tried);
    /* ~/.cellar.conf is the first place: found, nothing tried before it */
    unit_write(".cellar.conf", "[cellar]\n");
    found = cfg_find_default(&tried);
    assert_string_equal(found, unit_path(".cellar.conf"));
    assert_int_equal(tried.len, 0);
    free(found);
    sb_free(&tried);
    if (old_home) {
        setenv("HOME", old_home, 1);
        free(old_home);
    }
}

static void test_cfg_conninfo_mask(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"host=pg user=postgres", "host=pg user=postgres"},
        {"host=pg password=secret user=x", "host=pg password=******** user=x"},
        {"host=pg password = 'se cr\\'et' user=x", "host=pg password = '********' user=x"},
        {"postgresql://bob:secret@pg:5432/db", "postgresql://bob:********@pg:5432/db"},
        {"postgres://bob@pg/db?password=secret&sslmode=require",
         "postgres://bob@pg/db?password=********&sslmode=require"},
        {"postgresql://pg/db", "postgresql://pg/db"},
        {"passwordx=1 password=2", "passwordx=1 password=********"},
        /* libpq ends the user info at '@' or '/', not at '?' */
        {"postgresql://bob:se?cret@pg/db", "postgresql://bob:********@pg/db"},
        {"postgresql://pg?password=secret", "postgresql://pg?password=********"},
        /* libpq refuses these spellings, and the refusal quotes the string */
        {"host=pg PASSWORD=secret", "host=pg PASSWORD=********"},
        {"postgresql://pg/db?Password=secret", "postgresql://pg/db?Password=********"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *m = cfg_conninfo_mask(cases[i][0]);
        assert_string_equal(m, cases[i][1]);
        free(m);
    }
}

static void test_cfg_format_value_masks_conninfo(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    assert_int_equal(load("[barman]\nbarman_home = /b\n[pg]\nconninfo = host=pg password=pw\n",
                          &cfg, NULL),
                     0);
    const struct cfg_server *s = cfg_server_find(cfg, "pg");
    assert_string_equal(value_of(s, "conninfo"), "host=pg password=********");
    struct strbuf sb = {0};
    cfg_format_value(cfg_option_find("conninfo"), s, true, &sb);
    assert_string_equal(sb_str(&sb), "host=pg password=pw");
    sb_free(&sb);
    cfg_free(cfg);
}

static void test_ret_policy_parse_and_format(void **state)
{
    (void)state;
    struct ret_policy p;
    struct cel_err err = {0};
    char text[64];
    assert_int_equal(ret_policy_parse("  Redundancy   2 ", &p, &err), 0);
    ret_policy_format(&p, text, sizeof text);
    assert_string_equal(text, "REDUNDANCY 2");
    assert_int_equal(ret_policy_parse("RECOVERY WINDOW OF 1 DAY", &p, &err), 0);
    ret_policy_format(&p, text, sizeof text);
    assert_string_equal(text, "RECOVERY WINDOW OF 1 DAYS");
    assert_int_equal(ret_window_seconds(&p), 86400);
    assert_int_equal(ret_policy_parse("recovery window of 3 weeks", &p, &err), 0);
    assert_int_equal(ret_window_seconds(&p), 21 * 86400);
    static const char *const bad[] = {"REDUNDANCY", "REDUNDANCY -1", "REDUNDANCY 2 3",
                                      "RECOVERY WINDOW 3 DAYS", "RECOVERY WINDOW OF 3 YEARS",
                                      "RECOVERY WINDOW OF 3 DAYSS", "", "REDUNDANCY 2x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ret_policy_parse(bad[i], &p, &err), -CEL_E_INVALID);
        char expected[256];
        snprintf(expected, sizeof expected, "invalid retention policy '%s': expected %s", bad[i],
                 RET_POLICY_ACCEPTED);
        assert_string_equal(err.msg, expected);
    }
    assert_int_equal(ret_policy_parse("recovery window of 0 days", &p, &err), -CEL_E_INVALID);
}

/* ini reader: items seen in order */
static char seen[2048];
static int record(void *ctx, const struct ini_item *item, struct cel_err *err)
{
    (void)ctx;
    (void)err;
    size_t len = strlen(seen);
    if (item->key)
        snprintf(seen + len, sizeof seen - len, "%d:%s.%s=%s|", item->line, item->section,
                 item->key, item->value);
    else
        snprintf(seen + len, sizeof seen - len, "%d:[%s]|", item->line, item->section);
    return 0;
}

static void test_ini_parse_text_events(void **state)
{
    (void)state;
    seen[0] = '\0';
    assert_int_equal(ini_parse_text("[s]\nKey=v\n\n  \nk2 : a = b\n  c\n[t]\nempty =\n", "x",
                                    record, NULL, NULL),
                     0);
    assert_string_equal(seen, "1:[s]|2:s.key=v|5:s.k2=a = b\nc|7:[t]|8:t.empty=|");
}

static void test_ini_parse_text_indented_options_and_blank_lines(void **state)
{
    (void)state;
    /* ConfigParser: a line continues a value only when it is indented more
     * than the option's own line, so a file with every option indented
     * reads as separate options; blank lines inside a value are kept when
     * an indented line follows, and dropped at its end */
    seen[0] = '\0';
    assert_int_equal(ini_parse_text("[barman]\n    barman_home = /srv/b\n    log_level = DEBUG\n"
                                    "[pg]\n  a = 1\n      more\n  b = 2\n"
                                    "c = x\n\n  y\n\n\nd = z\n\n",
                                    "x", record, NULL, NULL),
                     0);
    assert_string_equal(seen, "1:[barman]|2:barman.barman_home=/srv/b|3:barman.log_level=DEBUG|"
                              "4:[pg]|5:pg.a=1\nmore|7:pg.b=2|8:pg.c=x\n\ny|13:pg.d=z|");
}

static void test_cfg_load_text_indented_options(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct cel_err err = {0};
    assert_int_equal(load("[barman]\n    barman_home = /srv/b\n    log_level = DEBUG\n"
                          "[pg]\n    description = \"Main DB\"\n    conninfo = host=pg\n",
                          &cfg, &err),
                     0);
    assert_string_equal(cfg->global.barman_home, "/srv/b");
    assert_int_equal(cfg->global.log_level, LOG_DEBUG);
    const struct cfg_server *s = cfg_server_find(cfg, "pg");
    assert_non_null(s);
    assert_string_equal(s->description, "Main DB");
    assert_string_equal(s->conninfo, "host=pg");
    assert_string_equal(s->backup_directory, "/srv/b/pg");
    cfg_free(cfg);
}

static void test_ini_parse_file_rejects_nul(void **state)
{
    (void)state;
    const char *path = unit_path("bin.conf");
    FILE *f = fopen(path, "w");
    fwrite("[a]\0x", 1, 5, f);
    fclose(f);
    struct cel_err err = {0};
    assert_int_equal(ini_parse_file(path, record, NULL, &err), -CEL_E_CONFIG);
    char expected[4400];
    snprintf(expected, sizeof expected, "%s: contains a NUL byte: not a configuration file", path);
    assert_string_equal(err.msg, expected);
}

/* backup_method = postgres: streaming_conninfo defaults to conninfo, the
 * compression options are typed, and what Barman refuses with this method
 * disables the server, naming the line. */
static void test_cfg_load_text_postgres_method(void **state)
{
    (void)state;
    struct cfg *cfg;
    assert_int_equal(load("[barman]\nbarman_home = /b\n[pg]\nconninfo = host=pg user=b\n"
                          "backup_method = postgres\n[st]\nconninfo = host=pg\n"
                          "streaming_conninfo = host=standby user=s\nstreaming_backup_name = bb\n"
                          "backup_compression = zstd\nbackup_compression_level = 19\n"
                          "backup_compression_workers = 2\nbackup_compression_location = server\n"
                          "backup_compression_format = plain\n",
                          &cfg, NULL),
                     0);
    const struct cfg_server *s = cfg_server_find(cfg, "pg");
    assert_false(s->disabled);
    assert_int_equal(s->backup_method, CFG_BM_POSTGRES);
    assert_string_equal(s->streaming_conninfo, "host=pg user=b");
    assert_string_equal(s->streaming_backup_name, "barman_streaming_backup");
    assert_int_equal(s->backup_compression, CFG_BBC_NONE);
    s = cfg_server_find(cfg, "st");
    assert_false(s->disabled);
    assert_string_equal(s->streaming_conninfo, "host=standby user=s");
    assert_string_equal(s->streaming_backup_name, "bb");
    assert_int_equal(s->backup_compression, CFG_BBC_ZSTD);
    assert_int_equal(s->backup_compression_level, 19);
    assert_int_equal(s->backup_compression_workers, 2);
    assert_int_equal(s->backup_compression_location, CFG_BBL_SERVER);
    assert_int_equal(s->backup_compression_format, CFG_BBF_PLAIN);
    cfg_free(cfg);

    static const struct {
        const char *line;
        const char *msg;
    } bad[] = {
        {"reuse_backup = link", "[pg] reuse_backup: not supported by backup_method = postgres "
                                "(pg_basebackup); remove it from this server or use "
                                "backup_method = rsync"},
        {"network_compression = on", "[pg] network_compression: not supported by backup_method "
                                     "= postgres (pg_basebackup); remove it from this server or "
                                     "use backup_method = rsync"},
        {"tablespace_bandwidth_limit = tbs1:100",
         "[pg] tablespace_bandwidth_limit: not supported by backup_method = postgres "
         "(pg_basebackup); remove it from this server or use backup_method = rsync"},
        {"backup_compression = gzip\nbackup_compression_level = 12",
         "[pg] backup_compression_level: unsupported by this backup_compression"},
        {"backup_compression = lz4\nbackup_compression_workers = 2",
         "[pg] backup_compression_workers: only zstd compression has workers"},
        {"backup_compression = gzip\nbackup_compression_format = plain",
         "[pg] backup_compression_format: plain is only possible with "
         "backup_compression_location = server"},
        {"backup_compression = bzip2",
         "[pg] backup_compression: invalid value 'bzip2': expected gzip, lz4 or zstd (none: no "
         "compression)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512], expected[512];
        snprintf(text, sizeof text,
                 "[barman]\nbarman_home = /b\n[pg]\nbackup_method = postgres\n%s\n", bad[i].line);
        assert_int_equal(load(text, &cfg, NULL), 0);
        assert_true(cfg_server_find(cfg, "pg")->disabled);
        snprintf(expected, sizeof expected, "test.conf:%d: %s", strchr(bad[i].line, '\n') ? 6 : 5,
                 bad[i].msg);
        assert_string_equal(first_diag(cfg, CFG_ERROR), expected);
        cfg_free(cfg);
    }
    /* the rsync options are fine with the rsync method */
    assert_int_equal(load("[barman]\nbarman_home = /b\n[pg]\nreuse_backup = link\n", &cfg, NULL),
                     0);
    assert_false(cfg_server_find(cfg, "pg")->disabled);
    cfg_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cfg_options_table_sorted_and_documented),
        cmocka_unit_test(test_cfg_load_text_minimal_defaults_and_derived_dirs),
        cmocka_unit_test(test_cfg_load_text_cellar_section_and_inheritance),
        cmocka_unit_test(test_cfg_load_text_configparser_syntax),
        cmocka_unit_test(test_cfg_load_text_interpolation),
        cmocka_unit_test(test_cfg_load_text_bad_percent_disables_server),
        cmocka_unit_test(test_cfg_load_text_bad_retention_policy_in_server),
        cmocka_unit_test(test_cfg_load_text_bad_value_in_global_fails_load),
        cmocka_unit_test(test_cfg_load_text_reserved_and_invalid_server_names),
        cmocka_unit_test(test_cfg_load_text_missing_barman_home),
        cmocka_unit_test(test_cfg_load_text_relative_path_refused),
        cmocka_unit_test(test_cfg_load_text_typed_values_and_errors),
        cmocka_unit_test(test_cfg_load_text_enum_fields_typed),
        cmocka_unit_test(test_cfg_load_text_postgres_method),
        cmocka_unit_test(test_cfg_load_text_enum_bad_values_name_file_line_option),
        cmocka_unit_test(test_cfg_load_text_conninfo_user_and_ssh_target),
        cmocka_unit_test(test_cfg_load_text_unknown_ignored_and_misplaced_options),
        cmocka_unit_test(test_cfg_load_text_streaming_options),
        cmocka_unit_test(test_cfg_load_text_xlogdb_options),
        cmocka_unit_test(test_cfg_load_text_directory_clash_disables_both),
        cmocka_unit_test(test_cfg_load_text_syntax_error_names_line),
        cmocka_unit_test_setup_teardown(test_cfg_load_files_and_conf_dir, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_cfg_load_empty_and_missing_conf_dir,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_cfg_load_missing_file, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_cfg_load_searches_home, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_cfg_find_default, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_cfg_conninfo_mask),
        cmocka_unit_test(test_cfg_format_value_masks_conninfo),
        cmocka_unit_test(test_ret_policy_parse_and_format),
        cmocka_unit_test(test_cfg_load_text_cloud_options),
        cmocka_unit_test(test_cfg_load_text_barman_321_options),
        cmocka_unit_test_setup_teardown(test_cfg_load_text_models, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
        cmocka_unit_test(test_ini_parse_text_events),
        cmocka_unit_test(test_ini_parse_text_indented_options_and_blank_lines),
        cmocka_unit_test(test_cfg_load_text_indented_options),
        cmocka_unit_test_setup_teardown(test_ini_parse_file_rejects_nul, unit_setup_tmpdir,
                                        unit_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
