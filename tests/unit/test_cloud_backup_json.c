/* Unit tests of src/ops/cloud/cloud_backup_json.c: a backup.info as
 * barman-cloud 3.4 prints it in JSON. The expected text was printed by
 * barman 3.4's own BackupInfo.load + to_json + json.dumps for this file
 * (a quoted label with both quotes, a name, a time with another offset,
 * two tablespaces). */
#include "unit.h"

#include "cloud_catalog.h"

static const char info_text[] =
    "backup_label='START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\\nLABEL:"
    " it\\'s \"quoted\"\\n'\nbackup_name=nightly\nbegin_offset=40\nbegin_time=2026-12-07 "
    "19:17:47.955672+00:00\nbegin_wal=000000010000000000000002\nbegin_xlog=0/2000028\ncom"
    "pression=None\nconfig_file=/data/postgresql.conf\ncopy_stats={'total_time': 10.5, 'n"
    "umber_of_workers': 2, 'copy_time': 0.25}\ndeduplicated_size=None\nend_offset=256\nen"
    "d_time=2026-12-07 19:17:53+01:00\nend_wal=000000010000000000000002\nend_xlog=0/20001"
    "00\nerror=None\nhba_file=/data/pg_hba.conf\nident_file=/data/pg_ident.conf\nincluded"
    "_files=None\nmode=None\npgdata=/data\nserver_name=cloud\nsize=None\nstatus=DONE\nsys"
    "temid=7716643466999170969\ntablespaces=[('tbs1', 16385, '/tbs/one'), ('tbs2', 16386,"
    " '/tbs/two')]\ntimeline=1\nversion=150018\nxlog_segment_size=16777216\n";

static const char want_json[] =
    "{\"backup_label\": \"'START WAL LOCATION: 0/2000028 (file 000000010000000000000002)"
    "\\\\nLABEL: it\\\\'s \\\"quoted\\\"\\\\n'\", \"backup_name\": \"nightly\", \"begin_o"
    "ffset\": 40, \"begin_time\": \"Mon Dec  7 19:17:47 2026\", \"begin_wal\": \"00000001"
    "0000000000000002\", \"begin_xlog\": \"0/2000028\", \"compression\": null, \"config_f"
    "ile\": \"/data/postgresql.conf\", \"copy_stats\": {\"total_time\": 10.5, \"number_of"
    "_workers\": 2, \"copy_time\": 0.25}, \"deduplicated_size\": null, \"end_offset\": 25"
    "6, \"end_time\": \"Mon Dec  7 19:17:53 2026\", \"end_wal\": \"0000000100000000000000"
    "02\", \"end_xlog\": \"0/2000100\", \"error\": null, \"hba_file\": \"/data/pg_hba.con"
    "f\", \"ident_file\": \"/data/pg_ident.conf\", \"included_files\": null, \"mode\": nu"
    "ll, \"pgdata\": \"/data\", \"server_name\": \"cloud\", \"size\": null, \"status\": "
    "\"DONE\", \"systemid\": \"7716643466999170969\", \"tablespaces\": [[\"tbs1\", 16385,"
    " \"/tbs/one\"], [\"tbs2\", 16386, \"/tbs/two\"]], \"timeline\": 1, \"version\": 1500"
    "18, \"xlog_segment_size\": 16777216, \"backup_id\": \"20261207T191747\"}\n";

static void test_cloud_backup_json_as_barman_cloud(void **state)
{
    (void)state;
    struct cat_backup b = {0};
    struct cel_err err = {0};
    assert_int_equal(cat_info_parse(info_text, "backup.info", &b, &err), 0);
    b.id = cel_xstrdup("20261207T191747");
    json_t *o = cloud_backup_json(&b);
    struct strbuf out = {0};
    cloud_json_text(o, &out);
    assert_string_equal(sb_str(&out), want_json);
    json_decref(o);
    sb_free(&out);
    cat_backup_clear(&b);
}

/* No name, no tablespaces, no label: backup_name is left out (as
 * _hide_if_null does), tablespaces and backup_label are null. */
static void test_cloud_backup_json_nulls(void **state)
{
    (void)state;
    struct cat_backup b = {0};
    struct cel_err err = {0};
    assert_int_equal(cat_info_parse("status=FAILED\n", "backup.info", &b, &err), 0);
    b.id = cel_xstrdup("20261207T191747");
    json_t *o = cloud_backup_json(&b);
    assert_null(json_object_get(o, "backup_name"));
    assert_null(json_object_get(o, "snapshots_info"));
    assert_true(json_is_null(json_object_get(o, "tablespaces")));
    assert_true(json_is_null(json_object_get(o, "backup_label")));
    assert_string_equal(json_string_value(json_object_get(o, "status")), "FAILED");
    json_decref(o);
    cat_backup_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cloud_backup_json_as_barman_cloud),
        cmocka_unit_test(test_cloud_backup_json_nulls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
