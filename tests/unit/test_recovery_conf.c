/*
 * Unit tests of src/core/postgres/recovery_conf.c: recovery setting lines, the files
 * they go to, configuration mangling and quoting (the target's parser is
 * tested in test_recovery_target.c).
 *
 * Expected texts come from Barman 3.4's recovery (reference section 7.2:
 * the lines and their order, "#BARMAN#" and "archive_command = false") and
 * from PostgreSQL's configuration lexer (what counts as setting an option,
 * how string literals are escaped), never from the code under test.
 */
#include "unit.h"

#include <sys/stat.h>

#include "proc.h"
#include "recovery_conf.h"

#define HEAD "# recovery settings written by cellar for backup 20261124T034224\n"
#define RESTORE "restore_command = 'cp barman_wal/%f %p'\n"
#define END "recovery_end_command = 'rm -fr barman_wal'\n"

/* rc_settings_lines of s for backup 20261124T034224 must be exactly want. */
#define assert_lines(s, want) check_lines(s, want, __FILE__, __LINE__)

static void check_lines(const struct rc_settings *s, const char *want, const char *file, int line)
{
    struct strbuf sb = {0};
    rc_settings_lines(s, "20261124T034224", &sb);
    _assert_string_equal(sb_str(&sb), want, file, line);
    sb_free(&sb);
}

/* A target as rc_target_parse makes it (the value must be valid). */
static struct rc_target target(enum rc_target_kind kind, const char *value, const char *tli)
{
    struct rc_target t;
    struct cel_err err = {0};
    if (rc_target_parse(kind, value, tli, &t, &err) < 0)
        fail_msg("target '%s': %s", value ? value : "", err.msg);
    return t;
}

/* Settings as Barman's local recovery writes them, with a target. */
static struct rc_settings pitr(int version, enum rc_target_kind kind, const char *value)
{
    return (struct rc_settings){
        .pg_version = version,
        .restore_command = "cp barman_wal/%f %p",
        .recovery_end_command = "rm -fr barman_wal",
        .target = target(kind, value, NULL),
    };
}

/* s's target following timeline tli ("latest", "3" ...). */
static void set_tli(struct rc_settings *s, const char *tli)
{
    s->target = target(s->target.kind, s->target.text, tli);
}

static void test_rc_settings_lines_each_target_pg15(void **state)
{
    (void)state;
    struct rc_settings s = pitr(150018, RC_TARGET_TIME, "2026-11-24 03:42:30");
    assert_lines(&s, HEAD RESTORE END "recovery_target_time = '2026-11-24 03:42:30'\n");
    s = pitr(150018, RC_TARGET_XID, "1234");
    assert_lines(&s, HEAD RESTORE END "recovery_target_xid = '1234'\n");
    s = pitr(150018, RC_TARGET_LSN, "0/3000060");
    assert_lines(&s, HEAD RESTORE END "recovery_target_lsn = '0/3000060'\n");
    s = pitr(150018, RC_TARGET_NAME, "before upgrade");
    assert_lines(&s, HEAD RESTORE END "recovery_target_name = 'before upgrade'\n");
    s = pitr(150018, RC_TARGET_IMMEDIATE, NULL);
    assert_lines(&s, HEAD RESTORE END "recovery_target = 'immediate'\n");
    s = pitr(150018, RC_TARGET_NONE, NULL);
    assert_lines(&s, HEAD RESTORE END);
}

/* The observed Barman example of section 7.2, step 9, plus our comment. */
static void test_rc_settings_lines_barman_example(void **state)
{
    (void)state;
    struct rc_settings s = pitr(150018, RC_TARGET_TIME, "2026-11-24 03:42:30");
    s.target_action = "promote";
    assert_lines(&s, HEAD RESTORE END "recovery_target_time = '2026-11-24 03:42:30'\n"
                                      "recovery_target_action = 'promote'\n");
}

static void test_rc_settings_lines_all_options_in_order(void **state)
{
    (void)state;
    struct rc_settings s = pitr(120000, RC_TARGET_XID, "1234");
    s.exclusive = true;
    set_tli(&s, "latest");
    s.target_action = "pause";
    s.standby_mode = true; /* 12+: standby.signal, no standby_mode line */
    assert_lines(&s, HEAD RESTORE END "recovery_target_xid = '1234'\n"
                                      "recovery_target_inclusive = 'false'\n"
                                      "recovery_target_timeline = latest\n"
                                      "recovery_target_action = 'pause'\n");
}

static void test_rc_settings_lines_exclusive_only_time_xid_lsn(void **state)
{
    (void)state;
    struct rc_settings s = pitr(150000, RC_TARGET_TIME, "2026-11-24 03:42:30+00:00");
    s.exclusive = true;
    assert_lines(&s, HEAD RESTORE END "recovery_target_time = '2026-11-24 03:42:30+00:00'\n"
                                      "recovery_target_inclusive = 'false'\n");
    s = pitr(150000, RC_TARGET_LSN, "16/B374D848");
    s.exclusive = true;
    assert_lines(&s, HEAD RESTORE END "recovery_target_lsn = '16/B374D848'\n"
                                      "recovery_target_inclusive = 'false'\n");
    /* ignored with a name, immediate or no target, as in Barman */
    s = pitr(150000, RC_TARGET_NAME, "rp1");
    s.exclusive = true;
    assert_lines(&s, HEAD RESTORE END "recovery_target_name = 'rp1'\n");
    s = pitr(150000, RC_TARGET_IMMEDIATE, NULL);
    s.exclusive = true;
    assert_lines(&s, HEAD RESTORE END "recovery_target = 'immediate'\n");
    s = pitr(150000, RC_TARGET_NONE, NULL);
    s.exclusive = true;
    assert_lines(&s, HEAD RESTORE END);
    /* inclusive (the default) writes nothing */
    s = pitr(150000, RC_TARGET_XID, "1234");
    assert_lines(&s, HEAD RESTORE END "recovery_target_xid = '1234'\n");
}

static void test_rc_settings_lines_timeline_unquoted(void **state)
{
    (void)state;
    struct rc_settings s = pitr(150000, RC_TARGET_NONE, NULL);
    set_tli(&s, "current");
    assert_lines(&s, HEAD RESTORE END "recovery_target_timeline = current\n");
    set_tli(&s, "3");
    assert_lines(&s, HEAD RESTORE END "recovery_target_timeline = 3\n");
}

static void test_rc_settings_lines_pg11_recovery_conf(void **state)
{
    (void)state;
    struct rc_settings s = pitr(110022, RC_TARGET_NAME, "rp1");
    s.target_action = "shutdown";
    assert_lines(&s, HEAD RESTORE END "recovery_target_name = 'rp1'\n"
                                      "recovery_target_action = 'shutdown'\n");
    /* standby mode: the last line, only before 12 */
    s = pitr(110022, RC_TARGET_NONE, NULL);
    s.standby_mode = true;
    assert_lines(&s, HEAD RESTORE END "standby_mode = 'on'\n");
    s = pitr(110022, RC_TARGET_TIME, "2026-11-24 03:42:30");
    s.exclusive = true;
    set_tli(&s, "2");
    s.target_action = "pause";
    s.standby_mode = true;
    assert_lines(&s, HEAD RESTORE END "recovery_target_time = '2026-11-24 03:42:30'\n"
                                      "recovery_target_inclusive = 'false'\n"
                                      "recovery_target_timeline = 2\n"
                                      "recovery_target_action = 'pause'\n"
                                      "standby_mode = 'on'\n");
    s = pitr(96024, RC_TARGET_IMMEDIATE, NULL);
    s.standby_mode = true;
    assert_lines(&s, HEAD RESTORE END "recovery_target = 'immediate'\nstandby_mode = 'on'\n");
}

/* get-wal: only a restore_command, values quoted; no backup ID: no "for". */
static void test_rc_settings_lines_get_wal_and_quoting(void **state)
{
    (void)state;
    struct rc_settings s = {
        .pg_version = 150000,
        .restore_command = "cellar get-wal 'main' %f > %p",
        .target = target(RC_TARGET_NAME, "it's \\done", NULL),
    };
    struct strbuf sb = {0};
    sb_append(&sb, "keep\n");
    rc_settings_lines(&s, NULL, &sb);
    assert_string_equal(sb_str(&sb), "keep\n"
                                     "# recovery settings written by cellar\n"
                                     "restore_command = 'cellar get-wal ''main'' %f > %p'\n"
                                     "recovery_target_name = 'it''s \\\\done'\n");
    sb_free(&sb);
    /* nothing at all: only the comment */
    s = (struct rc_settings){.pg_version = 150000};
    assert_lines(&s, HEAD);
}

static void test_rc_settings_file_and_signal(void **state)
{
    (void)state;
    struct rc_settings s = {.pg_version = 110022};
    assert_string_equal(rc_settings_file(&s), "recovery.conf");
    assert_null(rc_signal_file(&s));
    s.standby_mode = true;
    assert_string_equal(rc_settings_file(&s), "recovery.conf");
    assert_null(rc_signal_file(&s));

    s = (struct rc_settings){.pg_version = 119999};
    assert_string_equal(rc_settings_file(&s), "recovery.conf");
    assert_null(rc_signal_file(&s));

    s = (struct rc_settings){.pg_version = 120000};
    assert_string_equal(rc_settings_file(&s), "postgresql.auto.conf");
    assert_string_equal(rc_signal_file(&s), "recovery.signal");
    s.standby_mode = true;
    assert_string_equal(rc_signal_file(&s), "standby.signal");

    s = (struct rc_settings){.pg_version = 150018};
    assert_string_equal(rc_settings_file(&s), "postgresql.auto.conf");
    assert_string_equal(rc_signal_file(&s), "recovery.signal");
    s.standby_mode = true;
    assert_string_equal(rc_settings_file(&s), "postgresql.auto.conf");
    assert_string_equal(rc_signal_file(&s), "standby.signal");
}

/* rc_mangle_conf(in) must give exactly want with n lines changed. */
#define assert_mangle(in, want, n) check_mangle(in, want, n, __FILE__, __LINE__)

static void check_mangle(const char *in, const char *want, size_t n, const char *file, int line)
{
    struct strbuf sb = {0};
    size_t changed = 999;
    rc_mangle_conf(in, &sb, &changed);
    _assert_string_equal(sb_str(&sb), want, file, line);
    _assert_int_equal(changed, n, file, line);
    /* changed may be NULL; the output is the same */
    sb_reset(&sb);
    rc_mangle_conf(in, &sb, NULL);
    _assert_string_equal(sb_str(&sb), want, file, line);
    sb_free(&sb);
}

#define OFF "archive_command = false\n"

static void test_rc_mangle_conf_archive_command_forms(void **state)
{
    (void)state;
    assert_mangle("archive_command = 'x'\n", "#BARMAN#archive_command = 'x'\n" OFF, 1);
    assert_mangle("archive_command='x'\n", "#BARMAN#archive_command='x'\n" OFF, 1);
    assert_mangle("archive_command 'x'\n", "#BARMAN#archive_command 'x'\n" OFF, 1);
    assert_mangle("archive_command'x'\n", "#BARMAN#archive_command'x'\n" OFF, 1);
    assert_mangle("ARCHIVE_COMMAND='cp %p /arch/%f'\n",
                  "#BARMAN#ARCHIVE_COMMAND='cp %p /arch/%f'\n" OFF, 1);
    assert_mangle("Archive_Command = x\n", "#BARMAN#Archive_Command = x\n" OFF, 1);
    assert_mangle("   archive_command = 'x'\n", "#BARMAN#   archive_command = 'x'\n" OFF, 1);
    assert_mangle("\tarchive_command\t=\t'x'\t# to the backup server\n",
                  "#BARMAN#\tarchive_command\t=\t'x'\t# to the backup server\n" OFF, 1);
    assert_mangle("archive_command = ''\n", "#BARMAN#archive_command = ''\n" OFF, 1);
    assert_mangle("archive_command = 'a # b'  # note\n",
                  "#BARMAN#archive_command = 'a # b'  # note\n" OFF, 1);
    /* the value of an earlier mangling is mangled again, as Barman does */
    assert_mangle(OFF, "#BARMAN#" OFF OFF, 1);
}

static void test_rc_mangle_conf_not_archive_command(void **state)
{
    (void)state;
    static const char *const keep[] = {
        "#archive_command = 'x'\n",
        "# archive_command = 'x'\n",
        "   #archive_command = 'x'\n",
        "#BARMAN#archive_command = 'x'\n",
        "archive_command_foo = 1\n",
        "archive_commandx = 1\n",
        "archive_command2 = 1\n",
        "archive_command.x = 1\n",
        "archive_command-x = 1\n",
        "archive_command:x = 1\n",
        "archive_command/x = 1\n",
        "archive_command\xc3\xa9 = 1\n",
        "xarchive_command = 'x'\n",
        "my.archive_command = 'x'\n",
        "archive_mode = on\n",
        "archive_timeout = 60\n",
        "archive_library = 'basic_archive'\n",
        "restore_command = 'cp /arch/%f %p'\n",
        "recovery_end_command = 'rm -fr x'\n",
        "recovery_min_apply_delay = 0\n",
        "recovery_targetx = 1\n",
        "recovery_target_timelinex = 1\n",
        /* a name with nothing after it: a syntax error, left alone */
        "archive_command\n",
        "archive_command   \n",
        "archive_command # c\n",
        "\n",
        "   \n",
        "= archive_command\n",
        "shared_buffers = 'archive_command = x'\n",
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(keep); i++) {
        struct strbuf sb = {0};
        size_t changed = 999;
        rc_mangle_conf(keep[i], &sb, &changed);
        if (strcmp(sb_str(&sb), keep[i]) != 0 || changed != 0)
            fail_msg("line %zu \"%s\" changed to \"%s\" (%zu)", i, keep[i], sb_str(&sb), changed);
        sb_free(&sb);
    }
}

static void test_rc_mangle_conf_recovery_targets(void **state)
{
    (void)state;
    static const char *const names[] = {
        "recovery_target",          "recovery_target_time",   "recovery_target_xid",
        "recovery_target_name",     "recovery_target_lsn",    "recovery_target_inclusive",
        "recovery_target_timeline", "recovery_target_action",
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(names); i++) {
        char in[128], want[160];
        snprintf(in, sizeof in, "%s = 'v'\n", names[i]);
        snprintf(want, sizeof want, "#BARMAN#%s = 'v'\n", names[i]);
        assert_mangle(in, want, 1);
    }
    assert_mangle("RECOVERY_TARGET_TIME='2026-01-01'\n",
                  "#BARMAN#RECOVERY_TARGET_TIME='2026-01-01'\n", 1);
    assert_mangle("  recovery_target_timeline latest  # old\n",
                  "#BARMAN#  recovery_target_timeline latest  # old\n", 1);
}

/* A whole file: every other byte kept, the count of changed lines. */
static void test_rc_mangle_conf_whole_file(void **state)
{
    (void)state;
    const char *in =
        "# -----------------------------\n"
        "# PostgreSQL configuration file\n"
        "\n"
        "listen_addresses = '*'\t\t# what IP address(es) to listen on;\n"
        "wal_level = replica\n"
        "archive_mode = on\n"
        "archive_command = 'rsync -a %p barman@backup:/var/lib/barman/main/incoming/%f'\n"
        "#archive_command = ''\t\t# command to use to archive a logfile segment\n"
        "restore_command = 'cp /old/%f %p'\n"
        "recovery_target_name = 'old'\n"
        "recovery_target_inclusive = off\n"
        "include_if_exists = 'local.conf'\n";
    const char *want =
        "# -----------------------------\n"
        "# PostgreSQL configuration file\n"
        "\n"
        "listen_addresses = '*'\t\t# what IP address(es) to listen on;\n"
        "wal_level = replica\n"
        "archive_mode = on\n"
        "#BARMAN#archive_command = 'rsync -a %p barman@backup:/var/lib/barman/main/incoming/%f'\n"
        "archive_command = false\n"
        "#archive_command = ''\t\t# command to use to archive a logfile segment\n"
        "restore_command = 'cp /old/%f %p'\n"
        "#BARMAN#recovery_target_name = 'old'\n"
        "#BARMAN#recovery_target_inclusive = off\n"
        "include_if_exists = 'local.conf'\n";
    assert_mangle(in, want, 3);
    /* appends */
    struct strbuf sb = {0};
    sb_append(&sb, "X");
    rc_mangle_conf("a = 1\n", &sb, NULL);
    assert_string_equal(sb_str(&sb), "Xa = 1\n");
    sb_free(&sb);
}

static void test_rc_mangle_conf_line_endings(void **state)
{
    (void)state;
    /* CRLF: the \r is kept, and the new line ends in \r\n too */
    assert_mangle("a = 1\r\narchive_command = 'x'\r\nb = 2\r\n",
                  "a = 1\r\n#BARMAN#archive_command = 'x'\r\narchive_command = false\r\nb = 2\r\n",
                  1);
    assert_mangle("recovery_target_xid = '5'\r\n", "#BARMAN#recovery_target_xid = '5'\r\n", 1);
    /* a name followed by only \r is a bare name: left alone */
    assert_mangle("archive_command\r\n", "archive_command\r\n", 0);
    /* no final newline: kept missing */
    assert_mangle("a = 1\narchive_command = 'x'",
                  "a = 1\n#BARMAN#archive_command = 'x'\narchive_command = false", 1);
    assert_mangle("a = 1\nrecovery_target = 'immediate'",
                  "a = 1\n#BARMAN#recovery_target = 'immediate'", 1);
    assert_mangle("a = 1", "a = 1", 0);
    assert_mangle("", "", 0);
    assert_mangle("\n\n", "\n\n", 0);
    /* a lone \r inside a line is a blank for PostgreSQL */
    assert_mangle("\rarchive_command\r=\r'x'\n", "#BARMAN#\rarchive_command\r=\r'x'\n" OFF, 1);
    /* several settings, mixed endings */
    assert_mangle("archive_command = 'a'\narchive_command = 'b'\r\narchive_command = 'c'",
                  "#BARMAN#archive_command = 'a'\n" OFF
                  "#BARMAN#archive_command = 'b'\r\narchive_command = false\r\n"
                  "#BARMAN#archive_command = 'c'\narchive_command = false",
                  3);
}

static void test_rc_quote(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", "''"},
        {"plain", "'plain'"},
        {"it's", "'it''s'"},
        {"''", "''''''"},
        {"C:\\x", "'C:\\\\x'"},
        {"\\'", "'\\\\'''"},
        {"a\nb\rc", "'a\\nb\\rc'"},
        {"tab\there", "'tab\there'"},
        {"cp %p /arch/%f # x", "'cp %p /arch/%f # x'"},
        {"caf\xc3\xa9", "'caf\xc3\xa9'"},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(cases); i++) {
        struct strbuf sb = {0};
        rc_quote(cases[i].in, &sb);
        assert_string_equal(sb_str(&sb), cases[i].out);
        sb_free(&sb);
    }
    /* appends; NULL is the empty string */
    struct strbuf sb = {0};
    sb_append(&sb, "x = ");
    rc_quote(NULL, &sb);
    assert_string_equal(sb_str(&sb), "x = ''");
    sb_free(&sb);
}

/* ---- rc_get_wal_command ----------------------------------------------------- */

/* A configuration path a shell would split, unquote and run "$(...)" in. */
#define HOSTILE "/t/a b $(touch pwned) it's/100%/c.conf"

static void test_rc_get_wal_command_text(void **state)
{
    (void)state;
    char *c = rc_get_wal_command("/usr/bin/cellar", "/etc/cellar.conf", "main", NULL);
    assert_string_equal(c, "/usr/bin/cellar -c /etc/cellar.conf get-wal main %f > %p");
    free(c);
    c = rc_get_wal_command("/usr/bin/cellar", NULL, "main", NULL);
    assert_string_equal(c, "/usr/bin/cellar get-wal main %f > %p");
    free(c);
    c = rc_get_wal_command("/usr/bin/cellar", "/etc/cellar.conf", "main", "barman@db1");
    assert_string_equal(c, "ssh -o BatchMode=yes barman@db1 '/usr/bin/cellar -c /etc/cellar.conf "
                           "get-wal main %f' > %p");
    free(c);
    /* quoted for the shell when needed; '%' doubled for PostgreSQL */
    c = rc_get_wal_command("/usr/bin/cellar", HOSTILE, "main", NULL);
    assert_string_equal(c, "/usr/bin/cellar -c '/t/a b $(touch pwned) it'\\''s/100%%/c.conf' "
                           "get-wal main %f > %p");
    free(c);
    /* and quoted once more as a whole for the remote shell */
    c = rc_get_wal_command("/usr/bin/cellar", HOSTILE, "main", "barman@db1");
    assert_string_equal(c, "ssh -o BatchMode=yes barman@db1 '/usr/bin/cellar -c '\\''/t/a b "
                           "$(touch pwned) it'\\''\\'\\'''\\''s/100%%/c.conf'\\'' get-wal main "
                           "%f' > %p");
    free(c);
}

/* ---- rc_restore_command_argv ------------------------------------------------- */

static void test_rc_restore_command_argv_quoting(void **state)
{
    (void)state;
    const char *plain[] = {"/usr/bin/cellar", "cloud-wal-restore", "--parallel", "4",
                           "s3://bkt/pg", "main", NULL};
    char *c = rc_restore_command_argv(plain);
    assert_string_equal(c, "/usr/bin/cellar cloud-wal-restore --parallel 4 s3://bkt/pg main "
                           "%f %p");
    free(c);
    /* every value one shell word, '%' doubled for PostgreSQL */
    const char *hostile[] = {"/usr/bin/cellar", "--profile", "it's 100%", "s3://b/$(x)", NULL};
    c = rc_restore_command_argv(hostile);
    assert_string_equal(c, "/usr/bin/cellar --profile 'it'\\''s 100%%' 's3://b/$(x)' %f %p");
    free(c);
}

/* PostgreSQL's substitution in restore_command: %f, %p and %%. */
static char *pg_substitute(const char *cmd, const char *f, const char *p)
{
    struct strbuf sb = {0};
    for (const char *c = cmd; *c; c++) {
        if (c[0] != '%' || (c[1] != 'f' && c[1] != 'p' && c[1] != '%')) {
            sb_appendc(&sb, *c);
            continue;
        }
        c++;
        if (*c == 'f')
            sb_append(&sb, f);
        else if (*c == 'p')
            sb_append(&sb, p);
        else
            sb_appendc(&sb, '%');
    }
    return sb_detach(&sb);
}

/* What the shells make of it: the command, with PostgreSQL's substitution
 * done, run by /bin/sh as PostgreSQL runs it, with "cellar" a script that
 * prints its arguments and "ssh" one that hands its command to another
 * shell, as sshd does. The program gets every argument as it was, and the
 * "$(touch pwned)" in the paths never runs. */
static void test_rc_get_wal_command_through_the_shells(void **state)
{
    (void)state;
    unit_mkdir("bin");
    unit_mkdir("it's $(touch pwned) 100%");
    char *prog = cel_xstrdup(unit_write("it's $(touch pwned) 100%/cellar",
                                        "#!/bin/sh\nfor a; do printf '[%s]\\n' \"$a\"; done\n"));
    char *ssh = cel_xstrdup(unit_write("bin/ssh", "#!/bin/sh\n# ssh -o BatchMode=yes DEST COMMAND\n"
                                                  "shift 3\nexec /bin/sh -c \"$*\"\n"));
    assert_int_equal(chmod(prog, 0755), 0);
    assert_int_equal(chmod(ssh, 0755), 0);
    char *bin = cel_xstrdup(unit_path("bin"));
    for (int remote = 0; remote < 2; remote++) {
        const char *out = remote ? "out-remote" : "out-local";
        char *cmd = rc_get_wal_command(prog, HOSTILE, "main", remote ? "barman@db1" : NULL);
        char *line = pg_substitute(cmd, "000000010000000000000002", out);
        struct proc_result res;
        assert_int_equal(proc_run((const char *const[]){"/bin/sh", "-c", line, NULL},
                                  &(struct proc_opts){.cwd = unit_tmp, .path_prefix = bin}, &res,
                                  NULL),
                         0);
        assert_int_equal(res.status, 0);
        proc_result_free(&res);
        /* %p is a relative path without spaces, as PostgreSQL's */
        char *got = unit_read(unit_path(out));
        assert_non_null(got);
        assert_string_equal(got, "[-c]\n[" HOSTILE "]\n[get-wal]\n[main]\n"
                                 "[000000010000000000000002]\n");
        free(got);
        free(line);
        free(cmd);
    }
    free(bin);
    free(ssh);
    free(prog);
    struct stat st;
    assert_int_equal(stat(unit_path("pwned"), &st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rc_settings_lines_each_target_pg15),
        cmocka_unit_test(test_rc_settings_lines_barman_example),
        cmocka_unit_test(test_rc_settings_lines_all_options_in_order),
        cmocka_unit_test(test_rc_settings_lines_exclusive_only_time_xid_lsn),
        cmocka_unit_test(test_rc_settings_lines_timeline_unquoted),
        cmocka_unit_test(test_rc_settings_lines_pg11_recovery_conf),
        cmocka_unit_test(test_rc_settings_lines_get_wal_and_quoting),
        cmocka_unit_test(test_rc_settings_file_and_signal),
        cmocka_unit_test(test_rc_mangle_conf_archive_command_forms),
        cmocka_unit_test(test_rc_mangle_conf_not_archive_command),
        cmocka_unit_test(test_rc_mangle_conf_recovery_targets),
        cmocka_unit_test(test_rc_mangle_conf_whole_file),
        cmocka_unit_test(test_rc_mangle_conf_line_endings),
        cmocka_unit_test(test_rc_quote),
        cmocka_unit_test(test_rc_get_wal_command_text),
        cmocka_unit_test(test_rc_restore_command_argv_quoting),
        cmocka_unit_test_setup_teardown(test_rc_get_wal_command_through_the_shells,
                                        unit_setup_tmpdir, unit_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
