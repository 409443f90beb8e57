/*
 * Unit tests of the catalogue ops (src/ops/catalog/list_backup.c, show_backup.c,
 * list_server.c, catalog_json.c, server_catalog.c, server_select.c, sink.c)
 * driven through two sinks: the ops harness's recorder that keeps every
 * event (ops_fixture.h), and the batch front end's sink
 * (src/batch.c) writing text or JSON lines into temporary files.
 *
 * Each test builds the same catalogue in its temporary directory: server
 * "pg" with six backups of every status and an xlog.db, server "other" with
 * one backup whose backup.info names another server, and server "bad",
 * disabled by a configuration error. The expected text of list-backup and
 * show-backup was produced by Barman 3.4 (`barman -c CONF list-backup pg`,
 * `show-backup pg ID`, run as root with barman_user = root) on a copy of
 * this catalogue, and pasted here.
 */
#include "unit.h"

#include "ops_fixture.h"

#include "batch.h"

/* ---- the catalogue -------------------------------------------------------- */

/* info_034224 (the rsync example of barman-format.md 2.6): catalog_fixture.h */

/* named, two tablespaces, times in +01:00, 2 workers and a slow analysis */
static const char info_034239[] =
    "backup_label='START WAL LOCATION: 0/6000028 (file 000000010000000000000006)\\n"
    "CHECKPOINT LOCATION: 0/6000060\\nBACKUP METHOD: streamed\\nBACKUP FROM: primary\\n"
    "START TIME: 2026-11-24 04:42:39 CET\\nLABEL: Barman backup pg 20261124T034239\\n"
    "START TIMELINE: 1\\n'\n"
    "backup_name=nightly one\n"
    "begin_offset=40\n"
    "begin_time=2026-11-24 04:42:39.574457+01:00\n"
    "begin_wal=000000010000000000000006\n"
    "begin_xlog=0/6000028\n"
    "compression=None\n"
    "config_file=/srv/pg/15/main/postgresql.conf\n"
    "copy_stats={'total_time': 3.9, 'number_of_workers': 2, 'analysis_time': 1.5, "
    "'copy_time': 2.25, 'serialized_copy_time': 4.1}\n"
    "deduplicated_size=3670016\n"
    "end_offset=256\n"
    "end_time=2026-11-24 04:42:40.135314+01:00\n"
    "end_wal=000000010000000000000006\n"
    "end_xlog=0/6000100\n"
    "error=None\n"
    "hba_file=/srv/pg/15/main/pg_hba.conf\n"
    "ident_file=/srv/pg/15/main/pg_ident.conf\n"
    "included_files=None\n"
    "mode=rsync-concurrent\n"
    "pgdata=/srv/pg/15/main\n"
    "server_name=pg\n"
    "size=26633216\n"
    "status=DONE\n"
    "systemid=7711578238752250018\n"
    "tablespaces=[('tbs1', 16384, '/srv/pg/tbs1'), ('tbs2', 16390, '/srv/pg/tbs2')]\n"
    "timeline=1\n"
    "version=150018\n"
    "xlog_segment_size=16777216\n";

/* the FAILED example of barman-format.md 2.6 */
static const char info_034340[] =
    "backup_label=None\nbegin_offset=None\nbegin_time=None\nbegin_wal=None\nbegin_xlog=None\n"
    "compression=None\nconfig_file=None\ncopy_stats=None\ndeduplicated_size=None\n"
    "end_offset=None\nend_time=None\nend_wal=None\nend_xlog=None\n"
    "error=failure starting backup (Abort 'pre_backup_retry_script' retry hook script "
    "(/srv/hooks/pre_retry.sh, exit code: 63))\n"
    "hba_file=None\nident_file=None\nincluded_files=None\nmode=rsync-concurrent\npgdata=None\n"
    "server_name=pg\nsize=None\nstatus=FAILED\nsystemid=7711578238752250018\n"
    "tablespaces=None\ntimeline=None\nversion=None\nxlog_segment_size=16777216\n";

/* waiting for its first WAL, which is not archived yet */
static const char info_034400[] =
    "backup_label='START WAL LOCATION: 0/A000028 (file 00000001000000000000000A)\\n'\n"
    "begin_offset=40\n"
    "begin_time=2026-11-24 03:44:00.5+00:00\n"
    "begin_wal=00000001000000000000000A\n"
    "begin_xlog=0/A000028\n"
    "compression=None\n"
    "config_file=/srv/pg/15/main/postgresql.conf\n"
    "copy_stats={'copy_time': 0.5, 'total_time': 0.6}\n"
    "deduplicated_size=None\n"
    "end_offset=256\n"
    "end_time=2026-11-24 03:44:02+00:00\n"
    "end_wal=00000001000000000000000A\n"
    "end_xlog=0/A000100\n"
    "error=None\n"
    "hba_file=/srv/pg/15/main/pg_hba.conf\n"
    "ident_file=/srv/pg/15/main/pg_ident.conf\n"
    "included_files=None\n"
    "mode=rsync-concurrent\n"
    "pgdata=/srv/pg/15/main\n"
    "server_name=pg\n"
    "size=1000\n"
    "status=WAITING_FOR_WALS\n"
    "systemid=7711578238752250018\n"
    "tablespaces=None\n"
    "timeline=1\n"
    "version=150018\n"
    "xlog_segment_size=16777216\n";

static const char info_034500[] = "status=STARTED\nserver_name=pg\n"
                                  "begin_wal=00000001000000000000000B\n";

/* no server_name: Barman shows the configuration's section name */
static const char info_034600[] = "status=FAILED\nerror=boom\n";

/* server "other": a backup.info copied from a server called "oldname" */
static const char info_other[] = "begin_time=2026-12-01 00:00:01-05:00\n"
                                 "begin_wal=000000030000000200000010\n"
                                 "end_time=2026-12-01 00:10:00-05:00\n"
                                 "end_wal=000000030000000200000011\n"
                                 "server_name=oldname\n"
                                 "size=1536\n"
                                 "status=DONE\n";

static const char xlog_db[] =
    "000000010000000000000003\t16400\t1795491700.25\tgzip\n"
    "000000010000000000000004\t16485\t1795491742.848235\tgzip\n"
    "000000010000000000000004.00000028.backup\t198\t1795491742.8766668\tgzip\n"
    "000000010000000000000005\t16777216\t1795491750.5\tNone\n"
    "000000010000000000000006\t17000\t1795491760.0\tgzip\n"
    "000000010000000000000006.00000028.backup\t200\t1795491760.1\tgzip\n"
    "000000010000000000000007\t20000\t1795491800.0\tgzip\n"
    "000000010000000000000008\t30000\t1795491900.0\tgzip\n"
    "000000010000000000000009\t40000\t1795492000.0\tgzip\n";

/* ---- what Barman 3.4 printed for it ------------------------------------------ */

/* One deliberate difference: backup 20261124T034239 reused the previous one
 * by hard links (deduplicated_size < size), and cellar's line says how much
 * space it really takes, "(deduplicated: 3.5 MiB)" after Size, which
 * Barman's line does not; every other line is Barman's, byte for byte. */

static const char barman_list_pg[] =
    "pg 20261124T034600 - FAILED\n"
    "pg 20261124T034500 - STARTED\n"
    "pg 20261124T034400 - Tue Nov 24 03:44:02 2026 - Size: 1000 B - WAL Size: 0 B - "
    "WAITING_FOR_WALS\n"
    "pg 20261124T034340 - FAILED\n"
    "pg 20261124T034239 'nightly one' - Tue Nov 24 04:42:40 2026 - Size: 25.4 MiB "
    "(deduplicated: 3.5 MiB) - WAL Size: 87.9 KiB (tablespaces: tbs1:/srv/pg/tbs1, tbs2:/srv/pg/tbs2)\n"
    "pg 20261124T034224 - Tue Nov 24 03:42:25 2026 - Size: 22.0 MiB - WAL Size: 16.0 MiB "
    "(tablespaces: tbs1:/srv/pg/tbs1)\n";

static const char barman_list_pg_minimal[] = "20261124T034600\n20261124T034500\n"
                                             "20261124T034400\n20261124T034340\n"
                                             "20261124T034239\n20261124T034224\n";

static const char barman_list_other[] =
    "oldname 20261201T000000 - Tue Dec  1 00:10:00 2026 - Size: 1.5 KiB - WAL Size: 0 B\n";

static const char barman_show_034224[] =
    "Backup 20261124T034224:\n"
    "  Server Name            : pg\n"
    "  System Id              : 7711578238752250018\n"
    "  Status                 : DONE\n"
    "  PostgreSQL Version     : 150018\n"
    "  PGDATA directory       : /srv/pg/15/main\n"
    "\n"
    "  Tablespaces:\n"
    "    tbs1                 : /srv/pg/tbs1 (oid: 16384)\n"
    "\n"
    "  Base backup information:\n"
    "    Disk usage           : 22.0 MiB (22.0 MiB with WALs)\n"
    "    Incremental size     : 22.0 MiB (-0.00%)\n"
    "    Timeline             : 1\n"
    "    Begin WAL            : 000000010000000000000004\n"
    "    End WAL              : 000000010000000000000004\n"
    "    WAL number           : 1\n"
    "    WAL compression ratio: 99.90%\n"
    "    Begin time           : 2026-11-24 03:42:24.447250+00:00\n"
    "    End time             : 2026-11-24 03:42:25.119529+00:00\n"
    "    Copy time            : less than one second\n"
    "    Estimated throughput : 64.4 MiB/s\n"
    "    Begin Offset         : 40\n"
    "    End Offset           : 256\n"
    "    Begin LSN            : 0/4000028\n"
    "    End LSN              : 0/4000100\n"
    "\n"
    "  WAL information:\n"
    "    No of files          : 2\n"
    "    Disk usage           : 16.0 MiB\n"
    "    WAL rate             : 629.67/hour\n"
    "    Compression ratio    : 49.95%\n"
    "    Last available       : 000000010000000000000006\n"
    "\n"
    "  Catalog information:\n"
    "    Retention Policy     : not enforced\n"
    "    Previous Backup      : - (this is the oldest base backup)\n"
    "    Next Backup          : 20261124T034239\n";

static const char barman_show_034239[] =
    "Backup 20261124T034239:\n"
    "  Backup Name            : nightly one\n"
    "  Server Name            : pg\n"
    "  System Id              : 7711578238752250018\n"
    "  Status                 : DONE\n"
    "  PostgreSQL Version     : 150018\n"
    "  PGDATA directory       : /srv/pg/15/main\n"
    "\n"
    "  Tablespaces:\n"
    "    tbs1                 : /srv/pg/tbs1 (oid: 16384)\n"
    "    tbs2                 : /srv/pg/tbs2 (oid: 16390)\n"
    "\n"
    "  Base backup information:\n"
    "    Disk usage           : 25.4 MiB (25.4 MiB with WALs)\n"
    "    Incremental size     : 3.5 MiB (-86.22%)\n"
    "    Timeline             : 1\n"
    "    Begin WAL            : 000000010000000000000006\n"
    "    End WAL              : 000000010000000000000006\n"
    "    WAL number           : 1\n"
    "    WAL compression ratio: 99.90%\n"
    "    Begin time           : 2026-11-24 04:42:39.574457+01:00\n"
    "    End time             : 2026-11-24 04:42:40.135314+01:00\n"
    "    Copy time            : 2 seconds + 1 second startup\n"
    "    Estimated throughput : 1.6 MiB/s (2 jobs)\n"
    "    Begin Offset         : 40\n"
    "    End Offset           : 256\n"
    "    Begin LSN            : 0/6000028\n"
    "    End LSN              : 0/6000100\n"
    "\n"
    "  WAL information:\n"
    "    No of files          : 3\n"
    "    Disk usage           : 87.9 KiB\n"
    "    WAL rate             : 60.00/hour\n"
    "    Compression ratio    : 99.82%\n"
    "    Last available       : 000000010000000000000009\n"
    "\n"
    "  Catalog information:\n"
    "    Retention Policy     : not enforced\n"
    "    Previous Backup      : 20261124T034224\n"
    "    Next Backup          : 20261124T034400\n";

static const char barman_show_034340[] =
    "Backup 20261124T034340:\n"
    "  Server Name            : pg\n"
    "  System Id              : 7711578238752250018\n"
    "  Status                 : FAILED\n"
    "  Error                  : failure starting backup (Abort 'pre_backup_retry_script' retry "
    "hook script (/srv/hooks/pre_retry.sh, exit code: 63))\n";

static const char barman_show_034400[] =
    "Backup 20261124T034400:\n"
    "  Server Name            : pg\n"
    "  System Id              : 7711578238752250018\n"
    "  Status                 : WAITING_FOR_WALS\n"
    "  PostgreSQL Version     : 150018\n"
    "  PGDATA directory       : /srv/pg/15/main\n"
    "\n"
    "  Base backup information:\n"
    "    Disk usage           : 1000 B (1000 B with WALs)\n"
    "    Timeline             : 1\n"
    "    Begin WAL            : 00000001000000000000000A\n"
    "    End WAL              : 00000001000000000000000A\n"
    "    WAL number           : 0\n"
    "    Begin time           : 2026-11-24 03:44:00.500000+00:00\n"
    "    End time             : 2026-11-24 03:44:02+00:00\n"
    "    Copy time            : less than one second\n"
    "    Estimated throughput : 2.0 KiB/s\n"
    "    Begin Offset         : 40\n"
    "    End Offset           : 256\n"
    "    Begin LSN            : 0/A000028\n"
    "    End LSN              : 0/A000100\n"
    "\n"
    "  WAL information:\n"
    "    No of files          : 0\n"
    "    Disk usage           : 0 B\n"
    "    Last available       : None\n"
    "\n"
    "  Catalog information:\n"
    "    Retention Policy     : not enforced\n"
    "    Previous Backup      : 20261124T034239\n"
    "    Next Backup          : - (this is the latest base backup)\n";

static const char barman_show_034500[] = "Backup 20261124T034500:\n"
                                         "  Server Name            : pg\n"
                                         "  Status                 : STARTED\n";

static const char barman_show_034600[] = "Backup 20261124T034600:\n"
                                         "  Server Name            : pg\n"
                                         "  Status                 : FAILED\n"
                                         "  Error                  : boom\n";

/* ---- fixture: catalogue, configuration, sinks ---------------------------------- */

static struct cfg *cfg;

/* (Re)load the configuration (ops_fixture.h), pg_extra appended to the [pg]
 * section. */
static int load_cfg(const char *pg_extra)
{
    char text[8192];
    snprintf(text, sizeof text,
             "[pg]\ndescription = Main DB\nconninfo = host=/nonexistent dbname=postgres\n%s"
             "[other]\ndescription = Second DB\nconninfo = host=/nonexistent\n"
             "[bad]\nconninfo = host=/nonexistent\nretention_policy = REDUNDANCY two\n",
             pg_extra);
    return ofx_cfg_load(text, &cfg);
}

static int setup(void **state)
{
    if (unit_setup_tmpdir(state) < 0)
        return -1;
    write_backup("pg", "20261124T034224", info_034224);
    write_backup("pg", "20261124T034239", info_034239);
    write_backup("pg", "20261124T034340", info_034340);
    write_backup("pg", "20261124T034400", info_034400);
    write_backup("pg", "20261124T034500", info_034500);
    write_backup("pg", "20261124T034600", info_034600);
    unit_mkdir("pg/base/20261124T034700"); /* being created: no backup.info yet */
    unit_mkdir("pg/wals");
    unit_write("pg/wals/xlog.db", xlog_db);
    write_backup("other", "20261201T000000", info_other);
    return load_cfg("");
}

static int teardown(void **state)
{
    cfg_free(cfg);
    cfg = NULL;
    return unit_teardown_tmpdir(state);
}

/* The recorder sink (struct ofx_recorder): ops_fixture.h. */

/* The batch sink writing into two temporary files. */
struct batch_run {
    struct batch b;
    struct op_sink sink;
    struct op_ctx ctx;
    char *out, *err; /* what was written, after batch_run_end */
    int exit_status;
};

static void batch_run_begin(struct batch_run *run, enum batch_format format, bool quiet)
{
    memset(run, 0, sizeof *run);
    batch_init(&run->b, format, quiet, false, true);
    run->b.out = tmpfile();
    run->b.err = tmpfile();
    assert_non_null(run->b.out);
    assert_non_null(run->b.err);
    run->sink = (struct op_sink){batch_event, &run->b};
    run->ctx = (struct op_ctx){.cfg = cfg, .sink = &run->sink};
}

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    assert_true(n >= 0);
    char *buf = malloc((size_t)n + 1);
    rewind(f);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void batch_run_end(struct batch_run *run, int rc, const struct cel_err *err)
{
    run->exit_status = batch_finish(&run->b, rc, err);
    run->out = slurp(run->b.out);
    run->err = slurp(run->b.err);
}

static void batch_run_free(struct batch_run *run)
{
    free(run->out);
    free(run->err);
}

/* Every line of text is one JSON object with an "event"; returns them as
 * an array (the caller decrefs). The last one must be the "end" event. */
static json_t *json_lines(const char *text)
{
    json_t *all = json_array();
    assert_true(text[0] != '\0');
    assert_true(cel_str_ends(text, "\n"));
    const char *s = text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        assert_non_null(nl);
        json_error_t jerr;
        json_t *o = json_loadb(s, (size_t)(nl - s), 0, &jerr);
        if (!o)
            fail_msg("not JSON: %.*s (%s)", (int)(nl - s), s, jerr.text);
        assert_true(json_is_object(o));
        assert_true(json_is_string(json_object_get(o, "event")));
        json_array_append_new(all, o);
        s = nl + 1;
    }
    json_t *last = json_array_get(all, json_array_size(all) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "event")), "end");
    return all;
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("'%s' is not a string", key);
    return json_string_value(v);
}

static json_int_t jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("'%s' is not an integer", key);
    return json_integer_value(v);
}

/* ---- list-backup ----------------------------------------------------------------- */

static void test_op_list_backup_text_as_barman(void **state)
{
    (void)state;
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    struct cel_err err = {0};
    int rc = op_list_backup(&run.ctx, &(struct op_list_backup_req){.server = "pg"}, &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.out, barman_list_pg);
    assert_string_equal(run.err, "");
    assert_int_equal(run.exit_status, 0);
    batch_run_free(&run);
}

static void test_op_list_backup_minimal_as_barman(void **state)
{
    (void)state;
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    struct cel_err err = {0};
    int rc = op_list_backup(&run.ctx, &(struct op_list_backup_req){.server = "pg", .minimal = true},
                            &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.out, barman_list_pg_minimal);
    assert_string_equal(run.err, "");
    batch_run_free(&run);
}

static void test_op_list_backup_prints_the_backups_server_name(void **state)
{
    (void)state;
    /* Barman prints backup_info.server_name, not the section name */
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    struct cel_err err = {0};
    int rc = op_list_backup(&run.ctx, &(struct op_list_backup_req){.server = "other"}, &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.out, barman_list_other);
    batch_run_free(&run);
}

static void test_op_list_backup_json_lines(void **state)
{
    (void)state;
    struct batch_run run;
    batch_run_begin(&run, BATCH_JSON, false);
    struct cel_err err = {0};
    int rc = op_list_backup(&run.ctx, &(struct op_list_backup_req){.server = "pg"}, &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.err, "");
    json_t *lines = json_lines(run.out);
    assert_int_equal(json_array_size(lines), 2);
    json_t *res = json_array_get(lines, 0);
    assert_string_equal(jstr(res, "event"), "result");
    assert_string_equal(jstr(res, "command"), "list-backup");
    json_t *data = json_object_get(res, "data");
    assert_string_equal(jstr(data, "server"), "pg");
    json_t *backups = json_object_get(data, "backups");
    assert_int_equal(json_array_size(backups), 6);
    /* newest first; the same figures Barman's JSON output gives */
    json_t *b0 = json_array_get(backups, 0);
    assert_string_equal(jstr(b0, "backup_id"), "20261124T034600");
    assert_string_equal(jstr(b0, "status"), "FAILED");
    assert_null(json_object_get(b0, "size"));
    json_t *b4 = json_array_get(backups, 4);
    assert_string_equal(jstr(b4, "backup_id"), "20261124T034239");
    assert_string_equal(jstr(b4, "backup_name"), "nightly one");
    assert_string_equal(jstr(b4, "status"), "DONE");
    assert_string_equal(jstr(b4, "end_time"), "Tue Nov 24 04:42:40 2026");
    assert_string_equal(jstr(b4, "end_time_timestamp"), "1795491760");
    assert_int_equal(jint(b4, "size_bytes"), 26650216);
    assert_int_equal(jint(b4, "wal_size_bytes"), 90000);
    assert_string_equal(jstr(b4, "size"), "25.4 MiB");
    assert_string_equal(jstr(b4, "wal_size"), "87.9 KiB");
    json_t *tbs = json_object_get(b4, "tablespaces");
    assert_int_equal(json_array_size(tbs), 2);
    assert_string_equal(jstr(json_array_get(tbs, 1), "name"), "tbs2");
    assert_string_equal(jstr(json_array_get(tbs, 1), "location"), "/srv/pg/tbs2");
    json_t *b5 = json_array_get(backups, 5);
    assert_int_equal(jint(b5, "size_bytes"), 23075279);
    assert_int_equal(jint(b5, "wal_size_bytes"), 16794216);
    json_t *end = json_array_get(lines, 1);
    assert_string_equal(jstr(end, "status"), "ok");
    assert_int_equal(jint(end, "exit"), 0);
    assert_true(json_is_null(json_object_get(end, "error")));
    json_decref(lines);
    batch_run_free(&run);
}

static void test_op_list_backup_quiet_prints_nothing(void **state)
{
    (void)state;
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, true);
    struct cel_err err = {0};
    int rc = op_list_backup(&run.ctx, &(struct op_list_backup_req){.server = "pg"}, &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.out, "");
    assert_string_equal(run.err, "");
    assert_int_equal(run.exit_status, 0);
    batch_run_free(&run);

    /* but the error, alone, on stderr */
    batch_run_begin(&run, BATCH_TEXT, true);
    rc = op_show_backup(&run.ctx, &(struct op_show_backup_req){.server = "pg", .backup = "nope"},
                        &err);
    assert_int_equal(rc, -CEL_E_NOT_FOUND);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.out, "");
    assert_string_equal(run.err,
                        "ERROR: unknown backup 'nope' for server 'pg'\n"
                        "HINT: 'cellar list-backup pg' lists the backups and their IDs.\n");
    assert_int_equal(run.exit_status, 1);
    batch_run_free(&run);
}

static void test_op_list_backup_unknown_server(void **state)
{
    (void)state;
    struct ofx_recorder r;
    struct op_sink sink;
    struct op_ctx ctx;
    ofx_recorder_init(&r, cfg, &sink, &ctx);
    struct cel_err err = {0};
    assert_int_equal(op_list_backup(&ctx, &(struct op_list_backup_req){.server = "nope"}, &err),
                     -CEL_E_NOT_FOUND);
    assert_int_equal(err.code, CEL_E_NOT_FOUND);
    assert_string_equal(err.msg, "unknown server 'nope'");
    assert_string_equal(err.hint, "Configured servers: bad, other, pg (or 'all').");
    assert_string_equal(sb_str(&r.events), "");
    ofx_recorder_free(&r);

    /* through the batch sink, JSON: only the end line, with the error */
    struct batch_run run;
    batch_run_begin(&run, BATCH_JSON, false);
    int rc = op_show_backup(
        &run.ctx, &(struct op_show_backup_req){.server = "nope", .backup = "latest"}, &err);
    assert_int_equal(rc, -CEL_E_NOT_FOUND);
    batch_run_end(&run, rc, &err);
    json_t *lines = json_lines(run.out);
    assert_int_equal(json_array_size(lines), 1);
    json_t *end = json_array_get(lines, 0);
    assert_string_equal(jstr(end, "status"), "failed");
    assert_int_equal(jint(end, "exit"), 1);
    json_t *e = json_object_get(end, "error");
    assert_string_equal(jstr(e, "code"), "NOT_FOUND");
    assert_int_equal(jint(e, "number"), 30);
    assert_string_equal(jstr(e, "message"), "unknown server 'nope'");
    assert_string_equal(jstr(e, "hint"), "Configured servers: bad, other, pg (or 'all').");
    json_decref(lines);
    batch_run_free(&run);
}

static void test_op_list_backup_disabled_server_named(void **state)
{
    (void)state;
    struct ofx_recorder r;
    struct op_sink sink;
    struct op_ctx ctx;
    ofx_recorder_init(&r, cfg, &sink, &ctx);
    struct cel_err err = {0};
    assert_int_equal(op_list_backup(&ctx, &(struct op_list_backup_req){.server = "bad"}, &err),
                     -CEL_E_CONFIG);
    assert_string_equal(err.msg, "server 'bad' is disabled by configuration errors");
    assert_string_equal(err.hint, "Fix the errors reported for [bad] in 'test.conf'.");
    assert_string_equal(sb_str(&r.events), "");
    cel_err_clear(&err);
    assert_int_equal(
        op_show_backup(&ctx, &(struct op_show_backup_req){.server = "bad", .backup = "latest"},
                       &err),
        -CEL_E_CONFIG);
    assert_string_equal(err.msg, "server 'bad' is disabled by configuration errors");
    assert_string_equal(sb_str(&r.events), "");
    ofx_recorder_free(&r);
}

static void test_op_list_backup_all_skips_disabled_server(void **state)
{
    (void)state;
    struct ofx_recorder r;
    struct op_sink sink;
    struct op_ctx ctx;
    ofx_recorder_init(&r, cfg, &sink, &ctx);
    struct cel_err err = {0};
    assert_int_equal(op_list_backup(&ctx, &(struct op_list_backup_req){.server = "all"}, &err),
                     -CEL_E_CONFIG);
    assert_string_equal(err.msg, "1 server skipped: disabled by configuration errors");
    /* an ERROR event for the skipped one, then the others in name order */
    assert_string_equal(sb_str(&r.events),
                        "log ERROR bad: skipped: the server is disabled by configuration errors\n"
                        "result list-backup\n"
                        "result list-backup\n");
    struct strbuf expected = {0};
    sb_append(&expected, barman_list_other);
    sb_append(&expected, barman_list_pg);
    assert_string_equal(sb_str(&r.text), sb_str(&expected));
    sb_free(&expected);
    assert_string_equal(jstr(json_array_get(r.json, 0), "server"), "other");
    assert_string_equal(jstr(json_array_get(r.json, 1), "server"), "pg");
    ofx_recorder_free(&r);

    /* the batch sink in text mode: the error event on stderr, the lists on
     * stdout, the outcome last */
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    int rc = op_list_backup(&run.ctx, &(struct op_list_backup_req){.server = "all"}, &err);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.err, "ERROR: bad: skipped: the server is disabled by configuration "
                                 "errors\n"
                                 "ERROR: 1 server skipped: disabled by configuration errors\n");
    assert_true(cel_str_starts(run.out, barman_list_other));
    assert_true(cel_str_ends(run.out, barman_list_pg));
    assert_int_equal(run.exit_status, 2);
    batch_run_free(&run);

    /* and in JSON */
    batch_run_begin(&run, BATCH_JSON, false);
    rc = op_list_backup(&run.ctx, &(struct op_list_backup_req){.server = "all"}, &err);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.err, "");
    json_t *lines = json_lines(run.out);
    assert_int_equal(json_array_size(lines), 4);
    json_t *log = json_array_get(lines, 0);
    assert_string_equal(jstr(log, "event"), "log");
    assert_string_equal(jstr(log, "level"), "ERROR");
    assert_string_equal(jstr(log, "server"), "bad");
    assert_string_equal(jstr(log, "text"),
                        "skipped: the server is disabled by configuration errors");
    assert_string_equal(jstr(json_array_get(lines, 1), "event"), "result");
    assert_string_equal(jstr(json_array_get(lines, 2), "event"), "result");
    json_t *end = json_array_get(lines, 3);
    assert_string_equal(jstr(end, "status"), "failed");
    assert_int_equal(jint(end, "exit"), 2);
    json_t *e = json_object_get(end, "error");
    assert_string_equal(jstr(e, "code"), "CONFIG");
    assert_int_equal(jint(e, "number"), 21);
    assert_string_equal(jstr(e, "message"), "1 server skipped: disabled by configuration errors");
    assert_true(json_is_null(json_object_get(e, "hint")));
    json_decref(lines);
    batch_run_free(&run);
}

static void test_op_list_backup_unreadable_backup(void **state)
{
    (void)state;
    unit_write("pg/base/20261124T034500/backup.info", "status=STARTED\nsize=lots\n");
    struct ofx_recorder r;
    struct op_sink sink;
    struct op_ctx ctx;
    ofx_recorder_init(&r, cfg, &sink, &ctx);
    struct cel_err err = {0};
    assert_int_equal(op_list_backup(&ctx, &(struct op_list_backup_req){.server = "pg"}, &err), 0);
    char *expected =
        cel_xasprintf("log WARNING pg: backup 20261124T034500 cannot be read: "
                      "%s/pg/base/20261124T034500/backup.info:2: size: invalid integer 'lots'\n"
                      "result list-backup\n",
                      unit_tmp);
    assert_string_equal(sb_str(&r.events), expected);
    free(expected);
    assert_non_null(strstr(sb_str(&r.text), "\npg 20261124T034500 - UNREADABLE\n"));
    json_t *backups = json_object_get(json_array_get(r.json, 0), "backups");
    assert_string_equal(jstr(json_array_get(backups, 1), "status"), "UNREADABLE");
    ofx_recorder_free(&r);

    /* show-backup of it reports the read error */
    ofx_recorder_init(&r, cfg, &sink, &ctx);
    assert_int_equal(
        op_show_backup(
            &ctx, &(struct op_show_backup_req){.server = "pg", .backup = "20261124T034500"}, &err),
        -CEL_E_FORMAT);
    assert_non_null(strstr(err.msg, "/pg/base/20261124T034500/backup.info:2: size: invalid "
                                    "integer 'lots'"));
    ofx_recorder_free(&r);
}

static void test_op_list_backup_bad_xlogdb(void **state)
{
    (void)state;
    unit_write("pg/wals/xlog.db", "000000010000000000000003\t1\n");
    struct ofx_recorder r;
    struct op_sink sink;
    struct op_ctx ctx;
    ofx_recorder_init(&r, cfg, &sink, &ctx);
    struct cel_err err = {0};
    assert_int_equal(op_list_backup(&ctx, &(struct op_list_backup_req){.server = "pg"}, &err),
                     -CEL_E_FORMAT);
    char *expected = cel_xasprintf(
        "%s/pg/wals/xlog.db:1: expected 'name size time [compression [encryption]]' separated by tabs", unit_tmp);
    assert_string_equal(err.msg, expected);
    free(expected);
    assert_string_equal(sb_str(&r.events), "");
    /* --minimal does not read xlog.db */
    assert_int_equal(
        op_list_backup(&ctx, &(struct op_list_backup_req){.server = "pg", .minimal = true}, &err),
        0);
    assert_string_equal(sb_str(&r.text), barman_list_pg_minimal);
    ofx_recorder_free(&r);
}

/* ---- retention marks --------------------------------------------------------------- */

/* Barman's list-backup of pg with "REDUNDANCY 1": the same lines, the older
 * DONE backup ending with its mark (the WAITING_FOR_WALS one has none). */
static char *list_with_mark(const char *mark)
{
    int n = (int)strlen(barman_list_pg) - 1; /* up to the newline of the last line */
    return cel_xasprintf("%.*s - %s\n", n, barman_list_pg, mark);
}

/* list-backup pg through the text batch sink. */
static char *list_text(void)
{
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    struct cel_err err = {0};
    int rc = op_list_backup(&run.ctx, &(struct op_list_backup_req){.server = "pg"}, &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.err, "");
    char *out = run.out;
    free(run.err);
    return out;
}

/* The retention_status of each backup of list-backup pg in JSON, newest
 * first, space-separated ("none" when the field is absent). */
static char *list_json_marks(void)
{
    struct batch_run run;
    batch_run_begin(&run, BATCH_JSON, false);
    struct cel_err err = {0};
    int rc = op_list_backup(&run.ctx, &(struct op_list_backup_req){.server = "pg"}, &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    json_t *lines = json_lines(run.out);
    json_t *backups = json_object_get(json_object_get(json_array_get(lines, 0), "data"), "backups");
    struct strbuf sb = {0};
    for (size_t i = 0; i < json_array_size(backups); i++) {
        const json_t *v = json_object_get(json_array_get(backups, i), "retention_status");
        sb_appendf(&sb, "%s%s", i ? " " : "", v ? json_string_value(v) : "none");
    }
    json_decref(lines);
    batch_run_free(&run);
    char *out = cel_xstrdup(sb_str(&sb));
    sb_free(&sb);
    return out;
}

/* The "Retention Policy" value in show-backup pg ref. */
static char *show_retention(const char *ref)
{
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    struct cel_err err = {0};
    int rc =
        op_show_backup(&run.ctx, &(struct op_show_backup_req){.server = "pg", .backup = ref}, &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    const char *label = "    Retention Policy     : ";
    const char *at = strstr(run.out, label);
    assert_non_null(at);
    at += strlen(label);
    char *out = cel_xstrndup(at, strcspn(at, "\n"));
    batch_run_free(&run);
    return out;
}

static void assert_owned_string(char *got, const char *want)
{
    assert_string_equal(got, want);
    free(got);
}

static void test_op_list_backup_no_policy_marks(void **state)
{
    (void)state;
    /* no policy: nothing printed (the text tests above), "-" in JSON for the
     * complete backups, no field for the others, as Barman */
    assert_owned_string(list_json_marks(), "none none - none - -");
    assert_owned_string(show_retention("20261124T034224"), "not enforced");
}

static void test_op_list_backup_redundancy_marks(void **state)
{
    (void)state;
    assert_int_equal(load_cfg("retention_policy = REDUNDANCY 1\n"), 0);
    char *want = list_with_mark("OBSOLETE");
    assert_owned_string(list_text(), want);
    free(want);
    assert_owned_string(list_json_marks(), "none none - none VALID OBSOLETE");
    assert_owned_string(show_retention("20261124T034224"), "OBSOLETE");
    assert_owned_string(show_retention("20261124T034239"), "VALID");
    /* WAITING_FOR_WALS is not classified: Barman shows "-" */
    assert_owned_string(show_retention("20261124T034400"), "-");

    /* REDUNDANCY 2 keeps both DONE backups: Barman's lines unchanged */
    assert_int_equal(load_cfg("retention_policy = REDUNDANCY 2\n"), 0);
    assert_owned_string(list_text(), barman_list_pg);
    /* and so does minimum_redundancy 2 raising REDUNDANCY 1 */
    assert_int_equal(load_cfg("retention_policy = REDUNDANCY 1\nminimum_redundancy = 2\n"), 0);
    assert_owned_string(list_text(), barman_list_pg);
    assert_owned_string(list_json_marks(), "none none - none VALID VALID");
}

static void test_op_list_backup_keep_marks(void **state)
{
    (void)state;
    assert_int_equal(load_cfg("retention_policy = REDUNDANCY 1\n"), 0);
    unit_mkdir("pg/base/20261124T034224/annotations");
    /* Barman reads the whole file: exactly "standalone" is KEEP:STANDALONE */
    unit_write("pg/base/20261124T034224/annotations/keep", "standalone");
    char *want = list_with_mark("KEEP:STANDALONE");
    assert_owned_string(list_text(), want);
    free(want);
    assert_owned_string(list_json_marks(), "none none - none VALID KEEP:STANDALONE");
    assert_owned_string(show_retention("20261124T034224"), "KEEP:STANDALONE");
    /* any other content is KEEP:FULL, for safety (a trailing newline too) */
    unit_write("pg/base/20261124T034224/annotations/keep", "standalone\n");
    want = list_with_mark("KEEP:FULL");
    assert_owned_string(list_text(), want);
    free(want);
    unit_write("pg/base/20261124T034224/annotations/keep", "full");
    assert_owned_string(show_retention("20261124T034224"), "KEEP:FULL");
    /* an empty keep file is no keep target: Barman's get_keep_target is "" */
    unit_write("pg/base/20261124T034224/annotations/keep", "");
    assert_owned_string(show_retention("20261124T034224"), "OBSOLETE");
    /* a kept newest backup still takes the one VALID place */
    unlink(unit_path("pg/base/20261124T034224/annotations/keep"));
    unit_mkdir("pg/base/20261124T034239/annotations");
    unit_write("pg/base/20261124T034239/annotations/keep", "full");
    assert_owned_string(list_json_marks(), "none none - none KEEP:FULL OBSOLETE");
}

/* Rewrite pg's backup id (info is its fixture text) to end secs_ago
 * seconds before now. */
static void set_end_time(const char *id, const char *info, int64_t secs_ago)
{
    struct ts now, end;
    ts_now(&now);
    ts_from_epoch(now.sec - secs_ago, 0, &end);
    char text[TS_MAX];
    ts_format(&end, text);
    const char *at = strstr(info, "end_time=");
    assert_non_null(at);
    const char *eol = strchr(at, '\n');
    char *changed =
        cel_xasprintf("%.*send_time=%s%s", (int)(at - info), info, text, eol);
    write_backup("pg", id, changed);
    free(changed);
}

static void test_op_list_backup_window_marks(void **state)
{
    (void)state;
    set_end_time("20261124T034224", info_034224, 10 * 86400);
    set_end_time("20261124T034239", info_034239, 3 * 86400);
    /* 7 days: the newer is inside, the older the first before the window */
    assert_int_equal(load_cfg("retention_policy = RECOVERY WINDOW OF 7 DAYS\n"), 0);
    assert_owned_string(list_json_marks(), "none none - none VALID VALID");
    /* 1 day: the newer reaches back to the window's start, the older goes */
    assert_int_equal(load_cfg("retention_policy = RECOVERY WINDOW OF 1 DAYS\n"), 0);
    assert_owned_string(list_json_marks(), "none none - none VALID OBSOLETE");
    char *text = list_text();
    assert_true(cel_str_ends(text, " - OBSOLETE\n"));
    free(text);
    /* unless minimum_redundancy wants it */
    assert_int_equal(
        load_cfg("retention_policy = RECOVERY WINDOW OF 1 DAYS\nminimum_redundancy = 2\n"), 0);
    assert_owned_string(list_json_marks(), "none none - none VALID POTENTIALLY_OBSOLETE");
    text = list_text();
    assert_true(cel_str_ends(text, " - OBSOLETE*\n"));
    free(text);
    assert_owned_string(show_retention("20261124T034224"), "OBSOLETE*");
    assert_owned_string(show_retention("20261124T034239"), "VALID");
}

/* ---- show-backup ---------------------------------------------------------------- */

/* show-backup pg ref through the text batch sink must print expected. */
static void assert_show_backup(const char *ref, const char *expected)
{
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    struct cel_err err = {0};
    int rc =
        op_show_backup(&run.ctx, &(struct op_show_backup_req){.server = "pg", .backup = ref}, &err);
    if (rc != 0)
        fail_msg("show-backup pg %s: %s", ref, err.msg);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.out, expected);
    assert_string_equal(run.err, "");
    assert_int_equal(run.exit_status, 0);
    batch_run_free(&run);
}

static void test_op_show_backup_text_as_barman(void **state)
{
    (void)state;
    assert_show_backup("20261124T034224", barman_show_034224);
    assert_show_backup("20261124T034239", barman_show_034239);
    assert_show_backup("20261124T034340", barman_show_034340);
    assert_show_backup("20261124T034400", barman_show_034400);
    assert_show_backup("20261124T034500", barman_show_034500);
}

static void test_op_show_backup_shortcuts_and_name(void **state)
{
    (void)state;
    assert_show_backup("oldest", barman_show_034224);
    assert_show_backup("first", barman_show_034224);
    assert_show_backup("latest", barman_show_034400);
    assert_show_backup("nightly one", barman_show_034239);
    /* no server_name in backup.info: the section name, as Barman */
    assert_show_backup("last-failed", barman_show_034600);
}

static void test_op_show_backup_json(void **state)
{
    (void)state;
    struct batch_run run;
    batch_run_begin(&run, BATCH_JSON, false);
    struct cel_err err = {0};
    int rc = op_show_backup(
        &run.ctx, &(struct op_show_backup_req){.server = "pg", .backup = "nightly one"}, &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    json_t *lines = json_lines(run.out);
    assert_int_equal(json_array_size(lines), 2);
    json_t *res = json_array_get(lines, 0);
    assert_string_equal(jstr(res, "command"), "show-backup");
    json_t *d = json_object_get(res, "data");
    assert_string_equal(jstr(d, "backup_id"), "20261124T034239");
    assert_string_equal(jstr(d, "server"), "pg");
    assert_string_equal(jstr(d, "backup_name"), "nightly one");
    assert_string_equal(jstr(d, "status"), "DONE");
    assert_string_equal(jstr(d, "begin_time"), "2026-11-24T04:42:39.574457+01:00");
    assert_int_equal(jint(d, "size"), 26633216);
    assert_true(json_is_null(json_object_get(d, "compression")));
    assert_string_equal(jstr(d, "previous_backup_id"), "20261124T034224");
    assert_string_equal(jstr(d, "next_backup_id"), "20261124T034400");
    assert_int_equal(jint(json_object_get(d, "copy_stats"), "number_of_workers"), 2);
    json_t *wal = json_object_get(d, "wal");
    assert_int_equal(jint(wal, "wal_num"), 1);
    assert_int_equal(jint(wal, "wal_size"), 17000);
    assert_int_equal(jint(wal, "wal_until_next_num"), 3);
    assert_int_equal(jint(wal, "wal_until_next_size"), 90000);
    assert_string_equal(jstr(wal, "wal_last"), "000000010000000000000009");
    json_t *tbs = json_object_get(d, "tablespaces");
    assert_int_equal(json_array_size(tbs), 2);
    assert_int_equal(jint(json_array_get(tbs, 0), "oid"), 16384);
    assert_string_equal(jstr(json_array_get(lines, 1), "status"), "ok");
    json_decref(lines);
    batch_run_free(&run);
}

static void test_op_show_backup_errors(void **state)
{
    (void)state;
    struct ofx_recorder r;
    struct op_sink sink;
    struct op_ctx ctx;
    ofx_recorder_init(&r, cfg, &sink, &ctx);
    struct cel_err err = {0};
    assert_int_equal(
        op_show_backup(&ctx, &(struct op_show_backup_req){.server = "all", .backup = "latest"},
                       &err),
        -CEL_E_USAGE);
    assert_string_equal(err.msg, "show-backup needs one server, not 'all'");
    /* a directory without backup.info is no backup */
    assert_int_equal(
        op_show_backup(
            &ctx, &(struct op_show_backup_req){.server = "pg", .backup = "20261124T034700"}, &err),
        -CEL_E_NOT_FOUND);
    assert_string_equal(err.msg, "unknown backup '20261124T034700' for server 'pg'");
    /* a name that is ambiguous */
    write_backup("pg", "20261124T035000", "status=DONE\nbackup_name=nightly one\n");
    assert_int_equal(
        op_show_backup(&ctx, &(struct op_show_backup_req){.server = "pg", .backup = "nightly one"},
                       &err),
        -CEL_E_INVALID);
    assert_string_equal(err.msg, "backup name 'nightly one' is ambiguous in server 'pg': it names "
                                 "20261124T034239, 20261124T035000");
    /* "other" has no backup named so */
    assert_int_equal(
        op_show_backup(
            &ctx, &(struct op_show_backup_req){.server = "other", .backup = "nightly one"}, &err),
        -CEL_E_NOT_FOUND);
    assert_string_equal(err.msg, "unknown backup 'nightly one' for server 'other'");
    assert_string_equal(err.hint, "'cellar list-backup other' lists the backups and their IDs.");
    assert_string_equal(sb_str(&r.events), "");
    ofx_recorder_free(&r);
}

/* ---- list-server ------------------------------------------------------------------ */

static void test_op_list_server_text(void **state)
{
    (void)state;
    /* as Barman's list_servers(): "name - description", the disabled mark
     * appended to an empty description (hence two spaces) */
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    struct cel_err err = {0};
    int rc = op_list_server(&run.ctx, &(struct op_list_server_req){0}, &err);
    assert_int_equal(rc, 0);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.out, "bad -  (WARNING: disabled)\n"
                                 "other - Second DB\n"
                                 "pg - Main DB\n");
    assert_string_equal(run.err, "");
    batch_run_free(&run);

    batch_run_begin(&run, BATCH_TEXT, false);
    rc = op_list_server(&run.ctx, &(struct op_list_server_req){.minimal = true}, &err);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.out, "bad\nother\npg\n");
    batch_run_free(&run);

    batch_run_begin(&run, BATCH_TEXT, true);
    rc = op_list_server(&run.ctx, &(struct op_list_server_req){0}, &err);
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.out, "");
    assert_string_equal(run.err, "");
    batch_run_free(&run);
}

static void test_op_list_server_json(void **state)
{
    (void)state;
    struct batch_run run;
    batch_run_begin(&run, BATCH_JSON, false);
    struct cel_err err = {0};
    int rc = op_list_server(&run.ctx, &(struct op_list_server_req){0}, &err);
    batch_run_end(&run, rc, &err);
    json_t *lines = json_lines(run.out);
    assert_int_equal(json_array_size(lines), 2);
    json_t *d = json_object_get(json_array_get(lines, 0), "data");
    assert_int_equal(json_object_size(d), 3);
    json_t *bad = json_object_get(d, "bad");
    assert_true(json_is_null(json_object_get(bad, "description")));
    assert_true(json_is_true(json_object_get(bad, "disabled")));
    assert_true(json_is_true(json_object_get(bad, "active")));
    json_t *pg = json_object_get(d, "pg");
    assert_string_equal(jstr(pg, "description"), "Main DB");
    assert_true(json_is_false(json_object_get(pg, "disabled")));
    json_t *end = json_array_get(lines, 1);
    assert_string_equal(jstr(end, "status"), "ok");
    assert_int_equal(jint(end, "exit"), 0);
    json_decref(lines);
    batch_run_free(&run);
}

/* Set the mtime of the file name (under the test's directory) to t. */
static void set_mtime(const char *name, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimensat(AT_FDCWD, unit_path(name), ts, 0), 0);
}

/* The data of list-server's result, rendered to JSON (caller decrefs). */
static json_t *list_server_data(void)
{
    struct batch_run run;
    batch_run_begin(&run, BATCH_JSON, false);
    struct cel_err err = {0};
    int rc = op_list_server(&run.ctx, &(struct op_list_server_req){0}, &err);
    batch_run_end(&run, rc, &err);
    assert_int_equal(rc, 0);
    json_t *lines = json_lines(run.out);
    json_t *d = json_incref(json_object_get(json_array_get(lines, 0), "data"));
    json_decref(lines);
    batch_run_free(&run);
    return d;
}

static void test_op_list_server_json_wal_archive(void **state)
{
    (void)state;
    /* waiting: one segment in incoming/, one whole segment pg_receivewal
     * left in a Barman streaming/ directory; not waiting: temporary files,
     * the segment being streamed, a directory */
    unit_mkdir("pg/incoming/sub");
    unit_write("pg/incoming/00000001000000000000000A", "x");
    unit_write("pg/incoming/.00000001000000000000000B.put.abc", "x");
    unit_write("pg/incoming/00000001000000000000000B.tmp", "x");
    unit_mkdir("pg/streaming");
    unit_write("pg/streaming/00000001000000000000000B", "x");
    unit_write("pg/streaming/00000001000000000000000C.partial", "x");
    set_mtime("pg/incoming/00000001000000000000000A", 1795492100);
    set_mtime("pg/streaming/00000001000000000000000B", 1795492050);
    set_mtime("pg/streaming/00000001000000000000000C.partial", 1795492000);
    json_t *d = list_server_data();
    json_t *a = json_object_get(json_object_get(d, "pg"), "wal_archive");
    assert_string_equal(jstr(a, "last_wal"), "000000010000000000000009");
    assert_true(json_real_value(json_object_get(a, "last_wal_time")) == 1795492000.0);
    assert_int_equal(jint(a, "waiting_wals"), 2);
    assert_true(json_real_value(json_object_get(a, "oldest_waiting_time")) == 1795492050.0);
    /* nothing archived, nothing waiting */
    a = json_object_get(json_object_get(d, "other"), "wal_archive");
    assert_true(json_is_null(json_object_get(a, "last_wal")));
    assert_true(json_is_null(json_object_get(a, "last_wal_time")));
    assert_int_equal(jint(a, "waiting_wals"), 0);
    assert_true(json_is_null(json_object_get(a, "oldest_waiting_time")));
    /* a disabled server is not read */
    assert_null(json_object_get(json_object_get(d, "bad"), "wal_archive"));
    json_decref(d);

    /* show-server counts incoming/ with the same rule */
    struct batch_run run;
    batch_run_begin(&run, BATCH_JSON, false);
    struct cel_err err = {0};
    int rc = op_show_server(
        &run.ctx, &(struct op_show_server_req){.server = "pg", .no_connect = true}, &err);
    batch_run_end(&run, rc, &err);
    json_t *lines = json_lines(run.out);
    json_t *settings =
        json_object_get(json_object_get(json_array_get(lines, 0), "data"), "settings");
    assert_string_equal(jstr(settings, "incoming_wal_count"), "1");
    json_decref(lines);
    batch_run_free(&run);

    /* an xlog.db whose last line is broken: the error, not a guess, and
     * the waiting files all the same */
    unit_write("pg/wals/xlog.db", "000000010000000000000009\t40000\tsoon\tgzip\n");
    d = list_server_data();
    a = json_object_get(json_object_get(d, "pg"), "wal_archive");
    char msg[4400];
    snprintf(msg, sizeof msg, "%s, last lines:1: invalid time 'soon'",
             unit_path("pg/wals/xlog.db"));
    assert_string_equal(jstr(a, "error"), msg);
    assert_true(json_is_null(json_object_get(a, "last_wal")));
    assert_int_equal(jint(a, "waiting_wals"), 2); /* still counted */
    json_decref(d);
}

static void test_batch_report_config(void **state)
{
    (void)state;
    /* the configuration error that disabled "bad" is reported as an ERROR */
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, true);
    batch_report_config(&run.b, cfg);
    struct cel_err err = {0};
    batch_run_end(&run, 0, &err);
    assert_string_equal(run.out, "");
    assert_string_equal(run.err, "ERROR: test.conf:12: [bad] retention_policy: invalid retention "
                                 "policy 'REDUNDANCY two': expected 'REDUNDANCY n' or 'RECOVERY "
                                 "WINDOW OF n DAYS|WEEKS|MONTHS', n >= 1\n");
    batch_run_free(&run);
}

static void test_batch_json_lines_survive_invalid_utf8(void **state)
{
    (void)state;
    /* a path in another encoding (Latin-1 'caf\xe9') in a log line and in
     * the final error: jansson refuses such strings, and the lines, the
     * "end" line included, must still be written, the bad byte as U+FFFD */
    struct batch_run run;
    batch_run_begin(&run, BATCH_JSON, false);
    struct op_event ev = {.kind = OP_EV_LOG, .level = LOG_WARNING, .server = "pg",
                          .text = "cannot read '/srv/caf\xe9'"};
    batch_event(&run.b, &ev);
    struct cel_err err = {0};
    int rc = cel_err_set(&err, CEL_E_CONFIG, "cannot open '/srv/caf\xe9.conf'");
    cel_err_hint(&err, "check '\xff\xfe' and '\xc3\xa9t\xc3'");
    batch_run_end(&run, rc, &err);
    json_t *lines = json_lines(run.out);
    assert_int_equal(json_array_size(lines), 2);
    json_t *log = json_array_get(lines, 0);
    assert_string_equal(jstr(log, "event"), "log");
    assert_string_equal(jstr(log, "text"), "cannot read '/srv/caf\xef\xbf\xbd'");
    json_t *e = json_object_get(json_array_get(lines, 1), "error");
    assert_string_equal(jstr(e, "message"), "cannot open '/srv/caf\xef\xbf\xbd.conf'");
    assert_string_equal(jstr(e, "hint"),
                        "check '\xef\xbf\xbd\xef\xbf\xbd' and '\xc3\xa9t\xef\xbf\xbd'");
    json_decref(lines);
    batch_run_free(&run);
}

static void test_batch_progress_eta(void **state)
{
    (void)state;
    /* on a terminal: a bar, sizes, rate and ETA; an ETA too long to count
     * in seconds (a stalled copy) is left out, not printed as garbage */
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    run.b.batch_mode = false;
    run.b.out_is_tty = true;
    struct op_event ev = {.kind = OP_EV_PROGRESS, .server = "pg"};
    ev.progress = (struct op_progress){.bytes_done = 512 * 1024, .bytes_total = 1024 * 1024,
                                       .rate = 1024};
    batch_event(&run.b, &ev);
    ev.progress = (struct op_progress){.bytes_total = 1000000000000, .rate = 1e-6};
    batch_event(&run.b, &ev);
    struct cel_err err = {0};
    batch_run_end(&run, 0, &err);
    assert_string_equal(run.out, "\r\033[K[##########          ]  50% 512.0 KiB of 1.0 MiB, "
                                 "1.0 KiB/s, ETA 8:32"
                                 "\r\033[K[                    ]   0% 0 B of 931.3 GiB, 0 B/s"
                                 "\r\033[K");
    batch_run_free(&run);
}

static void test_batch_finish_output_write_error(void **state)
{
    (void)state;
    /* stdout on a full disk: the report is lost, so the run failed (Barman
     * exits 1 too), in text and in JSON */
    for (int format = BATCH_TEXT; format <= BATCH_JSON; format++) {
        struct batch_run run;
        batch_run_begin(&run, (enum batch_format)format, false);
        fclose(run.b.out);
        run.b.out = fopen("/dev/full", "w");
        assert_non_null(run.b.out);
        struct cel_err err = {0};
        int rc = op_list_server(&run.ctx, &(struct op_list_server_req){0}, &err);
        assert_int_equal(rc, 0);
        assert_int_equal(batch_finish(&run.b, rc, &err), CEL_EXIT_FAILED);
        fclose(run.b.out);
        char *text = slurp(run.b.err);
        assert_string_equal(text, "ERROR: cannot write to standard output: No space left on "
                                  "device\n");
        free(text);
    }
}

static void test_batch_finish_check_errors(void **state)
{
    (void)state;
    /* a failed check: exit 3 and the sum on stderr */
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    struct cel_err err = {0};
    int rc = cel_err_set(&err, CEL_E_CHECK, "1 check failed on server pg");
    batch_run_end(&run, rc, &err);
    assert_int_equal(run.exit_status, 3);
    assert_string_equal(run.err, "ERROR: 1 check failed on server pg\n");
    batch_run_free(&run);
    /* check --nagios CRITICAL: exit 2, and nothing but the plugin line the
     * op printed (Nagios reads stdout only, and a stray line would confuse
     * wrappers that merge stderr) */
    batch_run_begin(&run, BATCH_TEXT, false);
    cel_err_clear(&err);
    rc = cel_err_set(&err, CEL_E_CHECK_CRITICAL, "check failed on pg");
    batch_run_end(&run, rc, &err);
    assert_int_equal(run.exit_status, 2);
    assert_string_equal(run.out, "");
    assert_string_equal(run.err, "");
    batch_run_free(&run);
    /* in JSON the end event still carries the error */
    batch_run_begin(&run, BATCH_JSON, false);
    batch_run_end(&run, rc, &err);
    assert_int_equal(run.exit_status, 2);
    assert_string_equal(run.out, "{\"event\":\"end\",\"status\":\"failed\",\"exit\":2,\"error\":"
                                 "{\"code\":\"CHECK_CRITICAL\",\"number\":71,\"message\":\"check "
                                 "failed on pg\",\"hint\":null}}\n");
    batch_run_free(&run);
}

static void test_batch_errors_printed_once(void **state)
{
    (void)state;
    /* an error is printed once: the same text again for the same server is
     * not repeated (backup all logs a server's error after the server did),
     * nor as the final error (of any server); the same text for another
     * server is its own error; the final hint still follows */
    struct batch_run run;
    batch_run_begin(&run, BATCH_TEXT, false);
    op_log(&run.ctx, LOG_ERROR, "pg", "backup X FAILED: disk full");
    op_log(&run.ctx, LOG_ERROR, "pg", "backup X FAILED: disk full");
    op_log(&run.ctx, LOG_ERROR, "other", "backup X FAILED: disk full");
    op_log(&run.ctx, LOG_WARNING, "pg", "low on space");
    op_log(&run.ctx, LOG_WARNING, "pg", "low on space"); /* warnings are not errors */
    struct cel_err err = {0};
    int rc = cel_err_set(&err, CEL_E_PROC, "backup X FAILED: disk full");
    cel_err_hint(&err, "Free some space.");
    batch_run_end(&run, rc, &err);
    assert_int_equal(run.exit_status, 1);
    assert_string_equal(run.err, "ERROR: pg: backup X FAILED: disk full\n"
                                 "ERROR: other: backup X FAILED: disk full\n"
                                 "WARNING: pg: low on space\n"
                                 "WARNING: pg: low on space\n"
                                 "HINT: Free some space.\n");
    batch_run_free(&run);
    /* a final error not printed before is printed */
    batch_run_begin(&run, BATCH_TEXT, false);
    op_log(&run.ctx, LOG_ERROR, "pg", "one thing");
    cel_err_clear(&err);
    rc = cel_err_set(&err, CEL_E_PROC, "another thing");
    batch_run_end(&run, rc, &err);
    assert_string_equal(run.err, "ERROR: pg: one thing\nERROR: another thing\n");
    batch_run_free(&run);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_op_list_backup_text_as_barman),
        T(test_op_list_backup_minimal_as_barman),
        T(test_op_list_backup_prints_the_backups_server_name),
        T(test_op_list_backup_json_lines),
        T(test_op_list_backup_quiet_prints_nothing),
        T(test_op_list_backup_unknown_server),
        T(test_op_list_backup_disabled_server_named),
        T(test_op_list_backup_all_skips_disabled_server),
        T(test_op_list_backup_unreadable_backup),
        T(test_op_list_backup_bad_xlogdb),
        T(test_op_list_backup_no_policy_marks),
        T(test_op_list_backup_redundancy_marks),
        T(test_op_list_backup_keep_marks),
        T(test_op_list_backup_window_marks),
        T(test_op_show_backup_text_as_barman),
        T(test_op_show_backup_shortcuts_and_name),
        T(test_op_show_backup_json),
        T(test_op_show_backup_errors),
        T(test_op_list_server_text),
        T(test_op_list_server_json),
        T(test_op_list_server_json_wal_archive),
        T(test_batch_report_config),
        T(test_batch_json_lines_survive_invalid_utf8),
        T(test_batch_progress_eta),
        T(test_batch_finish_output_write_error),
        T(test_batch_finish_check_errors),
        T(test_batch_errors_printed_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
