/*
 * Unit tests of the planning side of recovery (src/ops/recover/recover_window.c and
 * rd_parse_df of src/ops/recover/recover_dest.c): which backup `recover ... auto`
 * picks for each kind of target and the reason it gives, the recoverable
 * window of a prepared catalogue and xlog.db, and the Available figure of
 * `df -Pk` output.
 *
 * The catalogue of server "pg", in the test's temporary directory, varies
 * the Barman rsync example of catalog_fixture.h:
 *   20261124T034224  DONE     ended 03:42:25+00:00 at 0/4000100
 *   20261124T034239  DONE     ended 04:42:40+01:00 (03:42:40 UTC) at 0/6000100
 *   20261124T034340  FAILED
 *   20261124T034400  WAITING_FOR_WALS, ended 03:44:02+00:00 at 0/A000100
 *   20261124T050000  unreadable (a bad status)
 * with an xlog.db whose newest segment is on timeline 2, followed by a
 * .partial file. Server "small" has 1 MiB segments, server "empty" nothing.
 */
#include "unit.h"

#include "catalog_fixture.h"

#include <math.h>

#include "ops/ops.h"
#include "ops/recover/recover_int.h"

/* info with the line "key=..." replaced by "key=value" (caller frees). */
static char *info_with(const char *info, const char *key, const char *value)
{
    char *start_key = cel_xasprintf("\n%s=", key);
    const char *at = strstr(info, start_key);
    assert_non_null(at);
    at++;
    const char *eol = strchr(at, '\n');
    assert_non_null(eol);
    char *out = cel_xasprintf("%.*s%s=%s%s", (int)(at - info), info, key, value, eol);
    free(start_key);
    return out;
}

static void write_variant(const char *server, const char *id, const char *const *kv, size_t n)
{
    char *info = cel_xstrdup(info_034224);
    for (size_t i = 0; i + 1 < n; i += 2) {
        char *next = info_with(info, kv[i], kv[i + 1]);
        free(info);
        info = next;
    }
    write_backup(server, id, info);
    free(info);
}

static const char xlog_db[] =
    "000000010000000000000004\t16777216\t1795491745.5\tNone\n"
    "000000010000000000000004.00000028.backup\t300\t1795491745.6\tNone\n"
    "000000010000000000000005\t16777216\t1795491800.0\tNone\n"
    "000000010000000000000006\t16777216\t1795491860.25\tNone\n"
    "00000002.history\t42\t1795491900.0\tNone\n"
    "000000020000000000000007\t16777216\t1795491960.75\tNone\n"
    "000000020000000000000008.partial\t16777216\t1795492000.0\tNone\n";

/* 1 MiB segments: 0x1000 is no segment of that size, so 0x23 is the newest */
static const char xlog_db_small[] = "000000010000000000000022\t1048576\t1796000000.0\tNone\n"
                                    "000000010000000000000023\t1048576\t1796000060.5\tNone\n"
                                    "000000010000000000001000\t1048576\t1796000120.0\tNone\n";

static struct cfg *cfg;

static int setup(void **state)
{
    if (unit_setup_tmpdir(state) < 0)
        return -1;
    write_backup("pg", "20261124T034224", info_034224);
    static const char *const b2[] = {
        "begin_time", "2026-11-24 04:42:39.574457+01:00", "end_time",
        "2026-11-24 04:42:40.135314+01:00", "begin_wal", "000000010000000000000006",
        "end_wal", "000000010000000000000006", "begin_xlog", "0/6000028",
        "end_xlog", "0/6000100"};
    write_variant("pg", "20261124T034239", b2, CEL_ARRAY_LEN(b2));
    static const char *const b3[] = {"status", "FAILED"};
    write_variant("pg", "20261124T034340", b3, CEL_ARRAY_LEN(b3));
    static const char *const b4[] = {"status", "WAITING_FOR_WALS", "end_time",
                                     "2026-11-24 03:44:02+00:00", "end_xlog", "0/A000100"};
    write_variant("pg", "20261124T034400", b4, CEL_ARRAY_LEN(b4));
    static const char *const b5[] = {"status", "BOGUS"};
    write_variant("pg", "20261124T050000", b5, CEL_ARRAY_LEN(b5));
    unit_mkdir("pg/wals");
    unit_write("pg/wals/xlog.db", xlog_db);

    static const char *const small[] = {"xlog_segment_size", "1048576", "begin_time",
                                        "2026-12-01 00:00:00+00:00", "end_time",
                                        "2026-12-01 00:00:05+00:00"};
    write_variant("small", "20261201T000000", small, CEL_ARRAY_LEN(small));
    unit_mkdir("small/wals");
    unit_write("small/wals/xlog.db", xlog_db_small);

    char text[8192];
    snprintf(text, sizeof text,
             "[barman]\nbarman_home = %s\nbarman_user = root\n"
             "[pg]\nconninfo = host=/nonexistent\n"
             "[small]\nconninfo = host=/nonexistent\n"
             "[empty]\nconninfo = host=/nonexistent\n",
             unit_tmp);
    struct cel_err err = {0};
    if (cfg_load_text(text, "test.conf", &cfg, &err) < 0) {
        fprintf(stderr, "configuration: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    cfg_free(cfg);
    cfg = NULL;
    return unit_teardown_tmpdir(state);
}

/* ---- op_recover_pick ----------------------------------------------------------- */

/* kind and value parsed, as the command line does (the value must be
 * valid); the result stays valid until the next call. */
static const struct rc_target *tgt(enum rc_target_kind kind, const char *value)
{
    static struct rc_target t;
    struct cel_err err = {0};
    if (rc_target_parse(kind, value, NULL, &t, &err) < 0)
        fail_msg("target '%s': %s", value ? value : "", err.msg);
    return &t;
}

/* The ID auto picks for kind/value on server pg, and its reason in *why
 * (caller frees); NULL (and the error message in *why) when none. */
static char *pick(enum rc_target_kind kind, const char *value, char **why, int *code)
{
    struct cat_list list;
    struct cel_err err = {0};
    assert_int_equal(cat_list_load(unit_path("pg/base"), &list, &err), 0);
    assert_int_equal(list.n, 5);
    struct strbuf sb = {0};
    int i = op_recover_pick(&list, tgt(kind, value), "pg", NULL, NULL, &sb, &err);
    char *id = NULL;
    if (i >= 0) {
        id = cel_xstrdup(list.items[i].id);
        *why = sb_detach(&sb);
        *code = 0;
    } else {
        assert_int_equal(sb.len, 0);
        *why = cel_xstrdup(err.msg);
        *code = -i;
        assert_int_equal(err.code, -i);
    }
    sb_free(&sb);
    cat_list_free(&list);
    return id;
}

static void expect_pick(enum rc_target_kind kind, const char *value, const char *id,
                        const char *why)
{
    char *got_why = NULL;
    int code = -1;
    char *got = pick(kind, value, &got_why, &code);
    assert_int_equal(code, 0);
    assert_string_equal(got, id);
    assert_string_equal(got_why, why);
    free(got);
    free(got_why);
}

static void expect_none(enum rc_target_kind kind, const char *value, const char *msg)
{
    char *got_why = NULL;
    int code = -1;
    char *got = pick(kind, value, &got_why, &code);
    assert_null(got);
    assert_int_equal(code, CEL_E_NOT_FOUND);
    assert_string_equal(got_why, msg);
    free(got_why);
}

static void test_op_recover_pick_time(void **state)
{
    (void)state;
    expect_pick(RC_TARGET_TIME, "2026-11-24 03:42:30+00:00", "20261124T034224",
                "the newest DONE backup that ended before 2026-11-24 03:42:30+00:00 (it ended "
                "at 2026-11-24 03:42:25+00:00)");
    /* 034400 ended before, but is not DONE; 034239's end is shown in its offset */
    expect_pick(RC_TARGET_TIME, "2026-11-24 03:50:00+00:00", "20261124T034239",
                "the newest DONE backup that ended before 2026-11-24 03:50:00+00:00 (it ended "
                "at 2026-11-24 04:42:40+01:00)");
    /* 034224 ended at 03:42:25.119529: not before 03:42:25 */
    expect_none(RC_TARGET_TIME, "2026-11-24 03:42:25+00:00",
                "server pg has no DONE backup that ended before 2026-11-24 03:42:25+00:00");
}

static void test_op_recover_pick_lsn(void **state)
{
    (void)state;
    expect_pick(RC_TARGET_LSN, "0/5000000", "20261124T034224",
                "the newest DONE backup that ended before 0/5000000 (it ended at 0/4000100)");
    expect_pick(RC_TARGET_LSN, "0/6000100", "20261124T034239",
                "the newest DONE backup that ended before 0/6000100 (it ended at 0/6000100)");
    expect_none(RC_TARGET_LSN, "0/40000FF",
                "server pg has no DONE backup that ended before 0/40000FF");
}

static void test_op_recover_pick_name(void **state)
{
    (void)state;
    /* the restore point of an older DONE backup: that backup, not the newest */
    expect_pick(RC_TARGET_NAME, "barman_20261124T034224", "20261124T034224",
                "backup 20261124T034224 created restore point barman_20261124T034224 as it "
                "ended: a newer backup starts after it");
    /* a FAILED backup's, or any other name: the newest DONE backup */
    expect_pick(RC_TARGET_NAME, "barman_20261124T034340", "20261124T034239",
                "the newest DONE backup (restore point barman_20261124T034340 is not one the "
                "catalogue knows, so where it lies is not known)");
    expect_pick(RC_TARGET_NAME, "before_upgrade", "20261124T034239",
                "the newest DONE backup (restore point before_upgrade is not one the catalogue "
                "knows, so where it lies is not known)");
}

/* With the archive's index of restore points: the newest DONE backup that
 * ended before the point (backups end at 0/4000100 and 0/6000100), and an
 * unknown name refused with the names that exist. */
static void test_op_recover_pick_name_indexed(void **state)
{
    (void)state;
    struct widx idx = {0};
    struct walrec_point p[2] = {{.name = "before_upgrade", .lsn = 0x5000028, .tli = 1},
                                {.name = "before_upgrade", .lsn = 0x6000200, .tli = 1}};
    struct walrec_summary one = {.points = p, .n_points = 1},
                          two = {.points = p + 1, .n_points = 1};
    widx_put(&idx, "000000010000000000000005", &one);
    struct cat_list list;
    struct cel_err err = {0};
    assert_int_equal(cat_list_load(unit_path("pg/base"), &list, &err), 0);
    struct strbuf why = {0};
    int i = op_recover_pick(&list, tgt(RC_TARGET_NAME, "before_upgrade"), "pg", NULL, &idx, &why, &err);
    assert_true(i >= 0);
    assert_string_equal(list.items[i].id, "20261124T034224");
    assert_string_equal(sb_str(&why), "the newest DONE backup that ended before restore point "
                                      "before_upgrade (at 0/5000028; it ended at 0/4000100)");
    /* the same name again, later: the last occurrence decides */
    widx_put(&idx, "000000010000000000000006", &two);
    sb_reset(&why);
    i = op_recover_pick(&list, tgt(RC_TARGET_NAME, "before_upgrade"), "pg", NULL, &idx, &why, &err);
    assert_true(i >= 0);
    assert_string_equal(list.items[i].id, "20261124T034239");
    sb_reset(&why);
    assert_int_equal(op_recover_pick(&list, tgt(RC_TARGET_NAME, "nope"), "pg", NULL, &idx, &why, &err),
                     -CEL_E_INVALID);
    assert_string_equal(err.msg, "--target-name nope: the archived WAL of server pg holds no "
                                 "restore point of that name (it holds: before_upgrade, "
                                 "before_upgrade)");
    assert_int_equal(sb_str(&why)[0], '\0');
    struct widx none = {0};
    assert_int_equal(op_recover_pick(&list, tgt(RC_TARGET_NAME, "x"), "pg", NULL, &none, &why, &err),
                     -CEL_E_INVALID);
    assert_string_equal(err.msg, "--target-name x: the archived WAL of server pg holds no "
                                 "restore point of that name (it holds none)");
    sb_free(&why);
    widx_free(&idx);
    cat_list_free(&list);
}

static void test_op_recover_pick_other_kinds(void **state)
{
    (void)state;
    expect_pick(RC_TARGET_XID, "745", "20261124T034239",
                "the newest DONE backup (the catalogue cannot tell when transaction 745 ran: "
                "choose an older backup if it is older)");
    expect_pick(RC_TARGET_IMMEDIATE, NULL, "20261124T034239",
                "the newest DONE backup (--target-immediate stops where it ends)");
    expect_pick(RC_TARGET_NONE, NULL, "20261124T034239",
                "the newest DONE backup (no target: the recovery replays all the archived WAL)");
}

static void test_op_recover_pick_no_why_and_empty(void **state)
{
    (void)state;
    struct cat_list list;
    struct cel_err err = {0};
    assert_int_equal(cat_list_load(unit_path("pg/base"), &list, &err), 0);
    int i = op_recover_pick(&list, tgt(RC_TARGET_NONE, NULL), "pg", NULL, NULL, NULL, &err);
    assert_true(i >= 0);
    assert_string_equal(list.items[i].id, "20261124T034239");
    cat_list_free(&list);

    assert_int_equal(cat_list_load(unit_path("empty/base"), &list, &err), 0);
    assert_int_equal(list.n, 0);
    struct strbuf why = {0};
    assert_int_equal(op_recover_pick(&list, tgt(RC_TARGET_NONE, NULL), "empty", NULL, NULL, &why, &err),
                     -CEL_E_NOT_FOUND);
    assert_string_equal(err.msg, "server empty has no DONE backup that ended before now");
    assert_int_equal(why.len, 0);
    cat_list_free(&list);
}

/* ---- op_target_fits ------------------------------------------------------------- */

#define FITS_HINT "Choose an older backup (BACKUP_ID auto picks one), or a later target."

/* op_target_fits of backup i must refuse with exactly msg and hint, also
 * without an error struct. */
static void expect_unfit(const struct cat_list *list, size_t i, const struct rc_target *t,
                         struct op_xids *x, const struct widx_point *rp, const char *msg,
                         const char *hint)
{
    struct cel_err err = {0};
    assert_int_equal(op_target_fits(list, i, t, x, rp, &err), -CEL_E_INVALID);
    assert_int_equal(err.code, CEL_E_INVALID);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.hint, hint);
    assert_int_equal(op_target_fits(list, i, t, x, rp, NULL), -CEL_E_INVALID);
}

/* Each reason a backup cannot reach a target (034224 ended at
 * 03:42:25.119529+00:00, 0/4000100; 034239 at 03:42:40 UTC, 0/6000100),
 * and the targets at or after a backup's end, which fit. */
static void test_op_target_fits_each_reason(void **state)
{
    (void)state;
    struct cat_list list;
    struct cel_err err = {0};
    assert_int_equal(cat_list_load(unit_path("pg/base"), &list, &err), 0);
    /* a time before the end */
    expect_unfit(&list, 0, tgt(RC_TARGET_TIME, "2026-11-24 03:42:25+00:00"), NULL, NULL,
                 "--target-time 2026-11-24 03:42:25+00:00 is before the end of backup "
                 "20261124T034224 (2026-11-24 03:42:25.119529+00:00): the copy is not consistent "
                 "before then",
                 FITS_HINT);
    assert_int_equal(op_target_fits(&list, 0, tgt(RC_TARGET_TIME, "2026-11-24 03:42:25.119529+00"),
                                    NULL, NULL, &err),
                     0);
    /* an LSN before the end */
    expect_unfit(&list, 0, tgt(RC_TARGET_LSN, "0/40000FF"), NULL, NULL,
                 "--target-lsn 0/40000FF is before the end of backup 20261124T034224 "
                 "(0/4000100): the copy is not consistent before then",
                 FITS_HINT);
    assert_int_equal(op_target_fits(&list, 0, tgt(RC_TARGET_LSN, "0/4000100"), NULL, NULL, &err),
                     0);
    /* a restore point the archive places before the end */
    struct widx_point rp = {.lsn = 0x5000028, .tli = 1};
    expect_unfit(&list, 1, tgt(RC_TARGET_NAME, "before_upgrade"), NULL, &rp,
                 "--target-name before_upgrade: the restore point (at 0/5000028) is before the "
                 "end of backup 20261124T034239 (0/6000100): the copy is not consistent before "
                 "then",
                 FITS_HINT);
    assert_int_equal(op_target_fits(&list, 0, tgt(RC_TARGET_NAME, "before_upgrade"), NULL, &rp,
                                    &err),
                     0);
    /* not placed: a name unknown to the catalogue cannot be judged */
    assert_int_equal(op_target_fits(&list, 1, tgt(RC_TARGET_NAME, "before_upgrade"), NULL, NULL,
                                    &err),
                     0);
    /* barman_<ID>, made as backup ID ended: a newer backup started after it */
    expect_unfit(&list, 1, tgt(RC_TARGET_NAME, "barman_20261124T034224"), NULL, NULL,
                 "--target-name barman_20261124T034224: backup 20261124T034239 started after "
                 "restore point barman_20261124T034224 was made, as backup 20261124T034224 "
                 "ended",
                 "Choose backup 20261124T034224 or an older one.");
    assert_int_equal(op_target_fits(&list, 0, tgt(RC_TARGET_NAME, "barman_20261124T034224"), NULL,
                                    NULL, &err),
                     0);
    /* an XID assigned before the backup started (its NextXID) */
    const struct cfg_server *s = cfg_server_find(cfg, "pg");
    struct op_xids x;
    op_xids_init(&x, s, &list);
    x.next[0] = 700;
    x.next[1] = 900;
    expect_unfit(&list, 1, tgt(RC_TARGET_XID, "800"), &x, NULL,
                 "--target-xid 800 was assigned before backup 20261124T034239 started (its "
                 "first free transaction ID was 900): its commit is older than the backup",
                 "Choose an older backup, or --force if that transaction ran across the whole "
                 "backup and committed after its end.");
    assert_int_equal(op_target_fits(&list, 1, tgt(RC_TARGET_XID, "900"), &x, NULL, &err), 0);
    assert_int_equal(op_target_fits(&list, 0, tgt(RC_TARGET_XID, "800"), &x, NULL, &err), 0);
    /* without the NextXIDs, or an unknown one: it cannot be told, so it fits */
    assert_int_equal(op_target_fits(&list, 1, tgt(RC_TARGET_XID, "800"), NULL, NULL, &err), 0);
    x.next[1] = UINT64_MAX;
    assert_int_equal(op_target_fits(&list, 1, tgt(RC_TARGET_XID, "800"), &x, NULL, &err), 0);
    op_xids_free(&x);
    /* no target, or the end of the backup: every backup */
    assert_int_equal(op_target_fits(&list, 1, tgt(RC_TARGET_NONE, NULL), NULL, NULL, &err), 0);
    assert_int_equal(op_target_fits(&list, 1, tgt(RC_TARGET_IMMEDIATE, NULL), NULL, NULL, &err),
                     0);
    /* a backup that records no end cannot be vouched for */
    list.items[0].end_time.set = false;
    expect_unfit(&list, 0, tgt(RC_TARGET_TIME, "2026-11-24 05:00:00+00:00"), NULL, NULL,
                 "--target-time 2026-11-24 05:00:00+00:00: backup 20261124T034224 records no "
                 "end_time, so whether the target is after its end cannot be told",
                 FITS_HINT);
    char *end_xlog = list.items[0].end_xlog;
    list.items[0].end_xlog = NULL;
    expect_unfit(&list, 0, tgt(RC_TARGET_LSN, "0/9000000"), NULL, NULL,
                 "--target-lsn 0/9000000: backup 20261124T034224 records no end_xlog, so whether "
                 "the target is after its end cannot be told",
                 FITS_HINT);
    list.items[0].end_xlog = end_xlog;
    cat_list_free(&list);
}

/* A target XID with the backups' NextXIDs: the newest DONE backup that
 * started before it; none when even the oldest started after it; the
 * newest when they cannot be read (the fixture's backups have no
 * pg_control: pg_controldata fails, and that is remembered). */
static void test_op_recover_pick_xid(void **state)
{
    (void)state;
    struct cat_list list;
    struct cel_err err = {0};
    assert_int_equal(cat_list_load(unit_path("pg/base"), &list, &err), 0);
    const struct cfg_server *s = cfg_server_find(cfg, "pg");
    assert_non_null(s);
    struct op_xids x;
    op_xids_init(&x, s, &list);
    x.next[0] = 700; /* 034224 */
    x.next[1] = 900; /* 034239 */
    struct strbuf why = {0};
    int i = op_recover_pick(&list, tgt(RC_TARGET_XID, "800"), "pg", &x, NULL, &why, &err);
    assert_int_equal(i, 0);
    assert_string_equal(sb_str(&why), "the newest DONE backup that started before transaction "
                                      "800 (its first free transaction ID was 700)");
    sb_reset(&why);
    assert_int_equal(op_recover_pick(&list, tgt(RC_TARGET_XID, "900"), "pg", &x, NULL, &why, &err), 1);
    sb_reset(&why);
    assert_int_equal(op_recover_pick(&list, tgt(RC_TARGET_XID, "650"), "pg", &x, NULL, &why, &err),
                     -CEL_E_NOT_FOUND);
    assert_string_equal(err.msg, "transaction 650 was assigned before the oldest DONE backup of "
                                 "server pg started (its first free transaction ID was 700)");
    assert_true(op_xids_known(&x, 0));
    assert_int_equal(op_xids_next(&x, 1), 900);

    x.next[0] = x.next[1] = 0; /* not looked up: pg_controldata finds no pg_control */
    sb_reset(&why);
    assert_int_equal(op_recover_pick(&list, tgt(RC_TARGET_XID, "650"), "pg", &x, NULL, &why, &err), 1);
    assert_non_null(strstr(sb_str(&why), "cannot tell when transaction 650 ran"));
    assert_int_equal(x.next[1], UINT64_MAX); /* unknown, and not looked up again */
    assert_false(op_xids_known(&x, 1));
    sb_free(&why);
    op_xids_free(&x);
    cat_list_free(&list);
}

/* ---- op_window_load ---------------------------------------------------------- */

static void load_window(const char *server, struct op_window *w)
{
    struct op_ctx ctx = {.cfg = cfg};
    const struct cfg_server *s = cfg_server_find(cfg, server);
    assert_non_null(s);
    struct cel_err err = {0};
    assert_int_equal(op_window_load(&ctx, s, w, &err), 0);
}

static void test_op_window_load(void **state)
{
    (void)state;
    struct op_window w;
    load_window("pg", &w);
    assert_int_equal(w.cat.list.n, 5);
    assert_true(w.cat.xdb_loaded);
    assert_int_equal(w.oldest_done, 0);
    assert_int_equal(w.newest_done, 1);
    /* begin_time of 034224: 2026-11-24 03:42:24.447250+00:00 */
    assert_true(fabs(w.begin - 1795491744.44725) < 1e-6);
    /* the newest segment is the timeline 2 one; the .partial after it is not one */
    assert_string_equal(w.last_wal, "000000020000000000000007");
    assert_true(w.end == 1795491960.75);
    assert_int_equal(w.end_lsn, 0x8000000);
    assert_int_equal(w.segsize, 16u << 20);
    assert_int_equal(w.n_restore_points, 2);
    assert_string_equal(w.restore_points[0], "barman_20261124T034224");
    assert_string_equal(w.restore_points[1], "barman_20261124T034239");
    op_window_free(&w);
    assert_int_equal(w.n_restore_points, 0);
    assert_null(w.restore_points);
    op_window_free(&w); /* twice is harmless */
}

static void test_op_window_load_segment_size(void **state)
{
    (void)state;
    struct op_window w;
    load_window("small", &w);
    assert_int_equal(w.segsize, 1u << 20);
    /* 000000010000000000001000 is no 1 MiB segment: 0x23 is the newest */
    assert_string_equal(w.last_wal, "000000010000000000000023");
    assert_true(w.end == 1796000060.5);
    assert_int_equal(w.end_lsn, 0x24u << 20);
    assert_int_equal(w.oldest_done, 0);
    assert_int_equal(w.newest_done, 0);
    assert_int_equal(w.n_restore_points, 1);
    assert_string_equal(w.restore_points[0], "barman_20261201T000000");
    op_window_free(&w);
}

static void test_op_window_load_empty(void **state)
{
    (void)state;
    struct op_window w;
    load_window("empty", &w);
    assert_int_equal(w.cat.list.n, 0);
    assert_int_equal(w.oldest_done, -1);
    assert_int_equal(w.newest_done, -1);
    assert_true(w.begin == 0);
    assert_true(w.end == 0);
    assert_string_equal(w.last_wal, "");
    assert_int_equal(w.end_lsn, 0);
    assert_int_equal(w.n_restore_points, 0);
    op_window_free(&w);
}

static void test_op_window_load_unreadable_xlogdb(void **state)
{
    (void)state;
    unit_write("small/wals/xlog.db", "not a line of xlog.db\n");
    struct op_ctx ctx = {.cfg = cfg};
    struct op_window w;
    struct cel_err err = {0};
    assert_int_equal(op_window_load(&ctx, cfg_server_find(cfg, "small"), &w, &err),
                     -CEL_E_FORMAT);
    assert_non_null(strstr(err.msg, "xlog.db"));
    assert_int_equal(w.oldest_done, -1);
    op_window_free(&w);
    unit_write("small/wals/xlog.db", xlog_db_small);
}

/* ---- the window as JSON (recover --window) ------------------------------------ */

/* pg's window (five backups, one unreadable; an index with a restore point
 * in segment 5) through op_window_json, its text as the child writes it,
 * and op_window_from_json: the same backups, end, restore points and index,
 * and the same JSON again. */
static void test_op_window_json_round_trip(void **state)
{
    (void)state;
    struct widx idx = {0};
    struct walrec_point p = {.name = "before_upgrade", .lsn = 0x5000028, .time = 1795491790.5,
                             .tli = 1};
    struct walrec_summary one = {.n_commits = 2, .first_commit = 1795491780.25,
                                 .last_commit = 1795491795.75, .points = &p, .n_points = 1};
    widx_put(&idx, "000000010000000000000005", &one);
    struct cel_err err = {0};
    assert_int_equal(widx_write(unit_path("pg/wals"), &idx, &err), 0);
    widx_free(&idx);

    struct op_window a, b;
    load_window("pg", &a);
    assert_int_equal(a.points.n_points, 1);
    json_t *j = op_window_json(&a, "pg");
    char *text = json_dumps(j, JSON_COMPACT);
    json_t *back = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_int_equal(op_window_from_json(back, &b, &err), 0);

    assert_int_equal(b.cat.list.n, a.cat.list.n);
    for (size_t i = 0; i < a.cat.list.n; i++) {
        assert_string_equal(b.cat.list.items[i].id, a.cat.list.items[i].id);
        assert_int_equal(b.cat.list.failed[i], a.cat.list.failed[i]);
        if (a.cat.list.failed[i]) {
            assert_string_equal(b.cat.list.errors[i].msg, a.cat.list.errors[i].msg);
            continue;
        }
        struct strbuf fa = {0}, fb = {0};
        cat_info_format(&a.cat.list.items[i], &fa);
        cat_info_format(&b.cat.list.items[i], &fb);
        assert_string_equal(sb_str(&fb), sb_str(&fa));
        sb_free(&fa);
        sb_free(&fb);
    }
    assert_true(a.cat.list.failed[4]); /* 20261124T050000: status BOGUS */
    assert_int_equal(b.oldest_done, 0);
    assert_int_equal(b.newest_done, 1);
    assert_true(b.begin == a.begin);
    assert_true(b.end == 1795491960.75);
    assert_string_equal(b.last_wal, "000000020000000000000007");
    assert_int_equal(b.end_lsn, 0x8000000);
    assert_int_equal(b.segsize, 16u << 20);
    assert_int_equal(b.points_unread, a.points_unread);
    assert_int_equal(b.points_unread, 4); /* 4, 6, 7 and the .partial are not indexed */
    assert_int_equal(b.n_restore_points, 3);
    assert_string_equal(b.restore_points[0], "barman_20261124T034224");
    assert_string_equal(b.restore_points[1], "barman_20261124T034239");
    assert_string_equal(b.restore_points[2], "before_upgrade");
    assert_int_equal(b.points.n, 1);
    assert_int_equal(b.points.n_points, 1);
    assert_string_equal(b.points.points[0].name, "before_upgrade");
    assert_int_equal(b.points.points[0].lsn, 0x5000028);
    assert_true(b.points.points[0].time == 1795491790.5);
    assert_false(b.cat.xdb_loaded); /* xlog.db does not travel */
    json_t *again = op_window_json(&b, "pg");
    assert_true(json_equal(again, j));
    json_decref(again);
    json_decref(back);
    free(text);
    json_decref(j);
    op_window_free(&a);
    op_window_free(&b);
    unlink(unit_path("pg/wals/" WIDX_FILE));

    /* a server without WAL: no end */
    load_window("empty", &a);
    j = op_window_json(&a, "empty");
    assert_true(json_is_null(json_object_get(j, "last_wal")));
    assert_int_equal(op_window_from_json(j, &b, &err), 0);
    assert_int_equal(b.cat.list.n, 0);
    assert_int_equal(b.oldest_done, -1);
    assert_true(b.end == 0);
    assert_string_equal(b.last_wal, "");
    json_decref(j);
    op_window_free(&a);
    op_window_free(&b);
}

/* What op_window_from_json refuses, and the message naming it. */
static void expect_bad_window(const char *json, const char *msg)
{
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    struct op_window w;
    struct cel_err err = {0};
    assert_int_equal(op_window_from_json(j, &w, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, msg);
    op_window_free(&w);
    json_decref(j);
}

#define WINDOW_TAIL "\"end\":0,\"last_wal\":null,\"points_unread\":0,\"targets_index\":\"\"}"

static void test_op_window_from_json_refusals(void **state)
{
    (void)state;
    expect_bad_window("[]", "not a recoverable window: expected an object with backups, end, "
                            "last_wal, points_unread and targets_index");
    expect_bad_window("{\"backups\":[]," "\"end\":\"x\",\"last_wal\":null,\"points_unread\":0,"
                      "\"targets_index\":\"\"}",
                      "not a recoverable window: expected an object with backups, end, "
                      "last_wal, points_unread and targets_index");
    expect_bad_window("{\"backups\":[{\"backup_id\":\"a\"}]," WINDOW_TAIL,
                      "backups[0]: expected {\"backup_id\": ID, \"backup_info\": TEXT} or "
                      "{\"backup_id\": ID, \"error\": TEXT}");
    expect_bad_window("{\"backups\":[{\"backup_id\":\"..\",\"error\":\"x\"}]," WINDOW_TAIL,
                      "backups[0]: backup ID '..' is not allowed");
    expect_bad_window("{\"backups\":[{\"backup_id\":\"b\",\"error\":\"x\"},"
                      "{\"backup_id\":\"a\",\"error\":\"x\"}]," WINDOW_TAIL,
                      "backups[1]: backup a is not after b (oldest first, each once)");
    expect_bad_window("{\"backups\":[{\"backup_id\":\"a\",\"backup_info\":\"status=BOGUS\"}]," WINDOW_TAIL,
                      "backup a: backup.info:1: status: unknown status 'BOGUS' (expected EMPTY, "
                      "STARTED, WAITING_FOR_WALS, DONE, FAILED or SYNCING)");
    expect_bad_window("{\"backups\":[],\"end\":-1,\"last_wal\":null,\"points_unread\":0,"
                      "\"targets_index\":\"\"}",
                      "end (-1) or points_unread (0) out of range");
    expect_bad_window("{\"backups\":[],\"end\":5,\"last_wal\":\"00000001.history\","
                      "\"points_unread\":0,\"targets_index\":\"\"}",
                      "last_wal '00000001.history' is not a WAL segment name of the catalogue's "
                      "segment size (16777216 bytes)");
    expect_bad_window("{\"backups\":[],\"end\":0,\"last_wal\":null,\"points_unread\":0,"
                      "\"targets_index\":\"P\\tnope\"}",
                      "targets_index: line 1 is not understood");
}

/* ---- rd_parse_df ------------------------------------------------------------------ */

static void test_rd_parse_df(void **state)
{
    (void)state;
    uint64_t avail = 0;
    struct cel_err err = {0};
    assert_int_equal(
        rd_parse_df("Filesystem     1024-blocks  Used Available Capacity Mounted on\n"
                    "tmpfs                 1024    12      1012       2% /mnt/small\n",
                    &avail, &err),
        0);
    assert_int_equal(avail, 1012u * 1024);
    /* spaces in the filesystem and mount point names do not shift the figure */
    assert_int_equal(rd_parse_df("Filesystem 1024-blocks Used Available Capacity Mounted on\n"
                                 "my disk 3 9000 100 8900 2% /mnt/with 5 space\n\n",
                                 &avail, &err),
                     0);
    assert_int_equal(avail, 8900u * 1024);
}

static void test_rd_parse_df_garbage(void **state)
{
    (void)state;
    uint64_t avail = 7;
    struct cel_err err = {0};
    assert_int_equal(rd_parse_df("", &avail, &err), -CEL_E_FORMAT);
    assert_string_equal(err.msg, "cannot read the free space from df's output ''");
    assert_int_equal(
        rd_parse_df("Filesystem 1024-blocks Used Available Capacity Mounted on\n", &avail, &err),
        -CEL_E_FORMAT);
    assert_string_equal(err.msg, "cannot read the free space from df's output 'Filesystem "
                                 "1024-blocks Used Available Capacity Mounted on'");
    assert_int_equal(avail, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_recover_pick_time),
        cmocka_unit_test(test_op_recover_pick_lsn),
        cmocka_unit_test(test_op_recover_pick_name),
        cmocka_unit_test(test_op_recover_pick_name_indexed),
        cmocka_unit_test(test_op_recover_pick_other_kinds),
        cmocka_unit_test(test_op_recover_pick_no_why_and_empty),
        cmocka_unit_test(test_op_recover_pick_xid),
        cmocka_unit_test(test_op_target_fits_each_reason),
        cmocka_unit_test(test_op_window_load),
        cmocka_unit_test(test_op_window_load_segment_size),
        cmocka_unit_test(test_op_window_load_empty),
        cmocka_unit_test(test_op_window_load_unreadable_xlogdb),
        cmocka_unit_test(test_op_window_json_round_trip),
        cmocka_unit_test(test_op_window_from_json_refusals),
        cmocka_unit_test(test_rd_parse_df),
        cmocka_unit_test(test_rd_parse_df_garbage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
