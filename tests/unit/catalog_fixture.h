/*
 * catalog_fixture.h - a backup as Barman 3.4 wrote it, shared by the unit
 * tests that build a catalogue in their temporary directory (test_batch.c,
 * test_tui_model.c). Include after unit.h.
 */
#ifndef CEL_TEST_CATALOG_FIXTURE_H
#define CEL_TEST_CATALOG_FIXTURE_H

#include "cel.h"

/* the rsync example of barman-format.md 2.6, server "pg" */
static const char info_034224[] =
    "backup_label='START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\\n"
    "CHECKPOINT LOCATION: 0/4000060\\nBACKUP METHOD: streamed\\nBACKUP FROM: primary\\n"
    "START TIME: 2026-11-24 03:42:24 UTC\\nLABEL: Barman backup pg 20261124T034224\\n"
    "START TIMELINE: 1\\n'\n"
    "begin_offset=40\n"
    "begin_time=2026-11-24 03:42:24.447250+00:00\n"
    "begin_wal=000000010000000000000004\n"
    "begin_xlog=0/4000028\n"
    "compression=None\n"
    "config_file=/srv/pg/15/main/postgresql.conf\n"
    "copy_stats={'total_time': 0.608651, 'number_of_workers': 1, 'analysis_time_per_item': "
    "{'tbs1': 0.11794, 'pgdata': 0.132975}, 'copy_time_per_item': {'tbs1': 0.084523, "
    "'pgdata': 0.220001, 'pg_control': 0.0282}, 'serialized_copy_time_per_item': {'tbs1': "
    "0.083799, 'pgdata': 0.217374, 'pg_control': 0.0282}, 'analysis_time': 0.250923, "
    "'copy_time': 0.34123, 'serialized_copy_time': 0.329373}\n"
    "deduplicated_size=23058794\n"
    "end_offset=256\n"
    "end_time=2026-11-24 03:42:25.119529+00:00\n"
    "end_wal=000000010000000000000004\n"
    "end_xlog=0/4000100\n"
    "error=None\n"
    "hba_file=/srv/pg/15/main/pg_hba.conf\n"
    "ident_file=/srv/pg/15/main/pg_ident.conf\n"
    "included_files=None\n"
    "mode=rsync-concurrent\n"
    "pgdata=/srv/pg/15/main\n"
    "server_name=pg\n"
    "size=23058794\n"
    "status=DONE\n"
    "systemid=7711578238752250018\n"
    "tablespaces=[('tbs1', 16384, '/srv/pg/tbs1')]\n"
    "timeline=1\n"
    "version=150018\n"
    "xlog_segment_size=16777216\n";

/* Write <server>/base/<id>/backup.info (relative to the temporary
 * directory) holding info. */
static inline void write_backup(const char *server, const char *id, const char *info)
{
    char *dir = cel_xasprintf("%s/base/%s", server, id);
    char *file = cel_xasprintf("%s/backup.info", dir);
    unit_mkdir(dir);
    unit_write(file, info);
    free(file);
    free(dir);
}

#endif
