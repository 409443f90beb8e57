/*
 * golden_screens.c - draw the console's screens off-screen from a fixed
 * catalogue and write each one as text (tests/tui/t_golden.sh compares
 * them with tests/tui/golden/).
 *
 * Usage: tui_golden OUTDIR WORKDIR
 *        tui_golden --keys   (the key table: label TAB help, a line per key,
 *                             for t_console_screens.sh's check of the help)
 *
 * It builds a barman_home in WORKDIR (an empty directory the caller
 * removes): two servers, fixed backups and xlog.db. It loads a
 * configuration there by the relative name cellar.conf (so the title line
 * shows no machine path) and draws the console as it opens, every pane of
 * pane.h's list focused, the help, the filter prompt, the Getting started
 * pane of a configuration without servers and the recovery wizard's steps
 * up to the review, at 80x24 and 120x40. The terminal is curses' newterm()
 * on /dev/null with a fixed size (resize_term), the clock is fixed (the
 * console's fixed_now, TZ=UTC), the theme is the built-in default with
 * colours on and UTF-8 frames, so the screens depend on nothing of the
 * machine. Each screen is written as OUTDIR/NAME-WxH.txt: the text, one
 * line per row with trailing blanks cut, then a line "--- roles" and the
 * same rows with one letter per cell saying how it is drawn (the theme
 * role, see role_mark), so a changed focus look or colour shows in a diff
 * as much as changed text.
 *
 * The wizard reaches its options and review steps when a `recover
 * --dry-run` child passes; here no child runs: the screen is drawn as the
 * wizard is after a dry run that passed with a fixed plan (dry_run_plan),
 * the child itself is the tmux tests' (t_wizard.sh).
 */
#include <errno.h>
#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "tui/console.h"
#include "tui/job.h"
#include "tui/keys.h"
#include "tui/theme.h"

/* curses last: the core headers refuse to be read after it */
#include <curses.h>

/* 2026-11-24 12:00:00 UTC: the fixed "now" of every screen */
#define GOLDEN_NOW 1795521600

static void die(const char *what)
{
    fprintf(stderr, "tui_golden: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die(path);
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        die(path);
}

/* A DONE backup of server as Barman writes backup.info (encrypted: as
 * Barman 3.14 writes an encrypted one). */
static void write_backup(const char *server, const char *id, const char *begin, const char *end,
                         const char *wal, unsigned lsn, long long size, long long dedup,
                         const char *name, bool encrypted)
{
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "home/%s/base/%s", server, id);
    make_dir(dir);
    snprintf(path, sizeof path, "%s/backup.info", dir);
    char *text = cel_xasprintf(
        "backup_label='START WAL LOCATION: 0/%X000028 (file %s)\\nBACKUP METHOD: streamed\\n'\n"
        "%s%s%s"
        "begin_offset=40\n"
        "begin_time=%s+00:00\n"
        "begin_wal=%s\n"
        "begin_xlog=0/%X000028\n"
        "compression=None\n"
        "config_file=/srv/pg/15/main/postgresql.conf\n"
        "copy_stats={'copy_time': 42.25, 'analysis_time': 0.5, 'total_time': 43.0}\n"
        "deduplicated_size=%lld\n"
        "end_offset=256\n"
        "end_time=%s+00:00\n"
        "end_wal=%s\n"
        "end_xlog=0/%X000100\n"
        "%s"
        "error=None\n"
        "hba_file=/srv/pg/15/main/pg_hba.conf\n"
        "ident_file=/srv/pg/15/main/pg_ident.conf\n"
        "mode=rsync-concurrent\n"
        "pgdata=/srv/pg/15/main\n"
        "server_name=%s\n"
        "size=%lld\n"
        "status=DONE\n"
        "systemid=7311578238752250018\n"
        "tablespaces=None\n"
        "timeline=1\n"
        "version=150018\n"
        "xlog_segment_size=16777216\n",
        lsn, wal, name ? "backup_name=" : "", name ? name : "", name ? "\n" : "", begin, wal, lsn,
        dedup, end, wal, lsn, encrypted ? "encryption=gpg\n" : "", server, size);
    write_file(path, text);
    free(text);
}

static void write_failed(const char *server, const char *id, const char *begin)
{
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "home/%s/base/%s", server, id);
    make_dir(dir);
    snprintf(path, sizeof path, "%s/backup.info", dir);
    char *text = cel_xasprintf("begin_time=%s+00:00\nerror=failure copying files (rsync exit 23)\n"
                               "server_name=%s\nstatus=FAILED\nversion=150018\n",
                               begin, server);
    write_file(path, text);
    free(text);
}

/* The catalogue: main (three DONE backups, the middle one encrypted, a
 * FAILED one, WAL archived up to two minutes before now) and reports (one backup, a day old WAL). */
static void make_fixture(void)
{
    struct passwd *pw = getpwuid(getuid());
    make_dir("home");
    const char *servers[] = {"main", "reports"};
    for (size_t i = 0; i < 2; i++) {
        char p[128];
        snprintf(p, sizeof p, "home/%s", servers[i]);
        make_dir(p);
        snprintf(p, sizeof p, "home/%s/base", servers[i]);
        make_dir(p);
        snprintf(p, sizeof p, "home/%s/wals", servers[i]);
        make_dir(p);
        snprintf(p, sizeof p, "home/%s/incoming", servers[i]);
        make_dir(p);
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        die("getcwd");
    char *conf = cel_xasprintf(
        "[cellar]\nbarman_home = %s/home\nbarman_user = %s\n\n"
        "[main]\ndescription = \"orders database\"\nconninfo = host=127.0.0.1 port=1\n"
        "retention_policy = REDUNDANCY 2\n\n"
        "[reports]\ndescription = \"reporting replica\"\nconninfo = host=127.0.0.1 port=1\n"
        "streaming_archiver = on\nslot_name = barman\n",
        cwd, pw ? pw->pw_name : "postgres");
    write_file("cellar.conf", conf);
    free(conf);
    conf = cel_xasprintf("[cellar]\nbarman_home = %s/home\nbarman_user = %s\n", cwd,
                         pw ? pw->pw_name : "postgres");
    write_file("empty.conf", conf);
    free(conf);
    write_backup("main", "20261120T010000", "2026-11-20 01:00:00.100000",
                 "2026-11-20 01:00:42.500000", "000000010000000000000002", 2, 734003200, 734003200,
                 NULL, false);
    write_backup("main", "20261122T010000", "2026-11-22 01:00:00.100000",
                 "2026-11-22 01:01:10.250000", "000000010000000000000006", 6, 754974720, 83886080,
                 "before-upgrade", true);
    write_failed("main", "20261123T010000", "2026-11-23 01:00:00.000000");
    write_backup("main", "20261124T010000", "2026-11-24 01:00:00.100000",
                 "2026-11-24 01:00:55.750000", "00000001000000000000000A", 10, 775946240, 104857600,
                 NULL, false);
    write_file("home/main/wals/xlog.db",
               "000000010000000000000002\t16777216\t1795136443.0\tNone\n"
               "000000010000000000000003\t16777216\t1795200000.0\tNone\n"
               "000000010000000000000004\t16777216\t1795260000.0\tNone\n"
               "000000010000000000000005\t16777216\t1795300000.0\tNone\n"
               "000000010000000000000006\t16777216\t1795309271.0\tNone\n"
               "000000010000000000000007\t16777216\t1795400000.0\tNone\n"
               "000000010000000000000008\t16777216\t1795450000.0\tNone\n"
               "000000010000000000000009\t16777216\t1795470000.0\tNone\n"
               "00000001000000000000000A\t16777216\t1795482056.0\tNone\n"
               "00000001000000000000000B\t16777216\t1795521480.0\tNone\n");
    write_backup("reports", "20261123T020000", "2026-11-23 02:00:00.000000",
                 "2026-11-23 02:00:30.000000", "000000010000000000000003", 3, 52428800, 52428800,
                 NULL, false);
    write_file("home/reports/wals/xlog.db",
               "000000010000000000000003\t16777216\t1795399230.0\tNone\n"
               "000000010000000000000004\t16777216\t1795435200.0\tNone\n");
}

/* One letter per theme role; blank for normal text and the background. */
static char role_mark(short pair)
{
    static const char marks[TUI_ROLE_COUNT] = {
        [TUI_ROLE_NORMAL] = ' ',        [TUI_ROLE_BORDER] = 'b', [TUI_ROLE_BORDER_FOCUS] = 'F',
        [TUI_ROLE_TITLE] = 'T',         [TUI_ROLE_HEADER] = 'h', [TUI_ROLE_SELECTED] = 'S',
        [TUI_ROLE_SELECTED_IDLE] = 's', [TUI_ROLE_OK] = 'o',     [TUI_ROLE_WARN] = 'w',
        [TUI_ROLE_ERROR] = 'e',         [TUI_ROLE_DIM] = 'd',    [TUI_ROLE_PROGRESS] = 'p',
        [TUI_ROLE_STATUS] = 't',        [TUI_ROLE_KEY] = 'k',
    };
    int r = pair - 1; /* draw.c: role r is colour pair r + 1 */
    return r >= 0 && r < TUI_ROLE_COUNT ? marks[r] : '?';
}

static void rstrip(char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
}

/* Write stdscr as text and roles to dir/name-WxH.txt. */
static void dump(const char *dir, const char *name)
{
    char *path = cel_xasprintf("%s/%s-%dx%d.txt", dir, name, COLS, LINES);
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    size_t cap = (size_t)COLS * MB_CUR_MAX + 1;
    char *text = cel_xcalloc((size_t)LINES, cap);
    char *roles = cel_xcalloc((size_t)LINES, (size_t)COLS + 1);
    for (int y = 0; y < LINES; y++) {
        char *t = text + (size_t)y * cap, *r = roles + (size_t)y * ((size_t)COLS + 1);
        size_t used = 0;
        for (int x = 0; x < COLS; x++) {
            cchar_t cc;
            wchar_t wch[CCHARW_MAX + 1] = {0};
            attr_t attrs = 0;
            short pair = 0;
            mvin_wch(y, x, &cc);
            getcchar(&cc, wch, &attrs, &pair, NULL);
            mbstate_t st;
            memset(&st, 0, sizeof st);
            size_t n = wcrtomb(t + used, wch[0] ? wch[0] : L' ', &st);
            used += n == (size_t)-1 ? 0 : n;
            r[x] = role_mark(pair);
        }
        t[used] = '\0';
        /* the version in the title line: a new release changes no screen */
        for (char *v = strstr(t, " cellar " CEL_VERSION); v; v = NULL)
            memset(v + 8, '#', strlen(CEL_VERSION));
        rstrip(t);
        rstrip(r);
        fprintf(f, "%s\n", t);
    }
    fprintf(f, "--- roles\n");
    for (int y = 0; y < LINES; y++)
        fprintf(f, "%s\n", roles + (size_t)y * ((size_t)COLS + 1));
    free(text);
    free(roles);
    if (fclose(f) != 0)
        die(path);
    free(path);
}

/* A screen: the keys that lead to it from the console just opened, as
 * text ('\x02' is the Down arrow, '\x15' Ctrl-U; the rest go to con_key as they are). */
struct screen {
    const char *name;
    const char *keys;
    bool jobs;   /* with two finished operations in the activity pane */
    bool wizard; /* the recovery wizard opened on the first server */
    /* then, for the steps behind a `recover --dry-run` child: the step the
     * wizard goes to when that dry run passes with the plan below */
    enum wz_step after_dry_run;
    bool no_servers;   /* on a configuration without servers (empty.conf) */
    const char *focus; /* then give the focus to this pane */
};

/* a point in time within main's window, typed at the value step */
#define WZ_TO_BACKUP "\n\x02\n\x15" WZ_TIME "\n"
#define WZ_TIME "2026-11-23 06:00:00+00"

/* (clang-format leaves the table as written: it cannot read TUI_PANES) */
/* clang-format off */
static const struct screen screens[] = {
    {.name = "open", .keys = ""},
/* every pane of pane.h's list focused, on the same state: the second DONE
 * backup's details open, two finished operations (a new pane gets its
 * screens here without a line of its own) */
#define GOLDEN_PANE(pane) {.name = "pane-" #pane, .keys = "\tjj\n", .jobs = true, .focus = #pane},
    TUI_PANES(GOLDEN_PANE)
#undef GOLDEN_PANE
    {.name = "help", .keys = "?"},
    {.name = "filter", .keys = "\t/22"},
    {.name = "getting-started", .keys = "", .no_servers = true},
    {.name = "wizard-server", .keys = "", .wizard = true},
    {.name = "wizard-target", .keys = "\n", .wizard = true},
    {.name = "wizard-value", .keys = "\n\x02\n", .wizard = true},
    {.name = "wizard-backup", .keys = WZ_TO_BACKUP, .wizard = true},
    {.name = "wizard-dest", .keys = WZ_TO_BACKUP "\n/srv/restore/main", .wizard = true},
    {.name = "wizard-options", .keys = WZ_TO_BACKUP "\n/srv/restore/main", .wizard = true,
     .after_dry_run = WZ_OPTIONS},
    {.name = "wizard-review", .keys = WZ_TO_BACKUP "\n/srv/restore/main", .wizard = true,
     .after_dry_run = WZ_REVIEW},
};
/* clang-format on */

/* What a passing `cellar recover --dry-run` of the steps above reports
 * (recover-plan data; the free space would be the machine's). */
static const char dry_run_plan[] =
    "{\"backup_id\": \"20261122T010000\", \"data_bytes\": 754974720, \"wal_bytes\": 83886080,"
    " \"free_bytes\": 53687091200, \"get_wal\": false}";

/* As wz_tick does when the dry run a step started passes. */
static void dry_run_passed(struct wizard *w, enum wz_step next)
{
    json_decref(w->plan);
    w->plan = json_loads(dry_run_plan, 0, NULL);
    w->msg[0] = '\0';
    w->msg_level = WZ_MSG_NONE;
    w->step = next;
    w->field = 0;
    w->review_top = 0;
}

static void add_job(struct console *c, const char *title, const char *command, bool ok,
                    const char *outcome, double secs)
{
    struct tui_job *j = tui_job_new(title, command, "main");
    j->state = ok ? TUI_JOB_OK : TUI_JOB_FAILED;
    j->started = 1000;
    j->ended = 1000 + secs;
    j->outcome = cel_xstrdup(outcome);
    j->seen_end = true;
    j->seen_phases = j->phases;
    tui_jobs_add(&c->jobs, j);
}

static void type(struct console *c, const char *s)
{
    for (; *s; s++)
        con_key(c, *s == '\x02' ? KEY_DOWN : (unsigned char)*s);
}

static void draw_screen(const struct cfg *cfg, const struct cfg *empty, const struct screen *s,
                        const char *dir)
{
    struct console c;
    memset(&c, 0, sizeof c);
    snprintf(c.exe, sizeof c.exe, "/nonexistent/cellar"); /* no job may start */
    tui_theme_default(&c.dr.theme);
    c.dr.colors = true;
    c.dr.utf8 = true;
    tui_draw_apply_theme(&c.dr);
    c.fixed_now = GOLDEN_NOW;
    struct cel_err err = {0};
    if (con_open(&c, s->no_servers ? empty : cfg, &err) < 0) {
        fprintf(stderr, "tui_golden: %s\n", err.msg);
        exit(1);
    }
    if (s->jobs) {
        add_job(&c, "check main", "check", true, "ok", 3);
        add_job(&c, "backup main", "backup", false,
                "cannot connect to PostgreSQL: connection refused (check conninfo)", 65);
    }
    if (s->wizard)
        con_open_wizard(&c, 0);
    type(&c, s->keys);
    if (s->after_dry_run)
        dry_run_passed(&c.wz, s->after_dry_run);
    if (s->focus)
        con_focus_pane(&c, s->focus);
    con_draw(&c);
    dump(dir, s->name);
    con_close(&c);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--keys") == 0) {
        for (size_t i = 0; i < tui_n_keys; i++)
            printf("%s\t%s\n", tui_keys[i].label, tui_keys[i].help);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: tui_golden OUTDIR WORKDIR\n");
        return 2;
    }
    char out[PATH_MAX];
    if (!realpath(argv[1], out))
        die(argv[1]);
    setenv("TZ", "UTC", 1);
    tzset();
    if (!setlocale(LC_ALL, "C.UTF-8"))
        die("setlocale C.UTF-8");
    if (chdir(argv[2]) < 0)
        die(argv[2]);
    make_fixture();
    struct cfg *cfg = NULL, *empty = NULL;
    struct cel_err err = {0};
    if (cfg_load("cellar.conf", &cfg, &err) < 0 || cfg_load("empty.conf", &empty, &err) < 0) {
        fprintf(stderr, "tui_golden: %s\n", err.msg);
        return 1;
    }
    FILE *tty_out = fopen("/dev/null", "w"), *tty_in = fopen("/dev/null", "r");
    if (!tty_out || !tty_in)
        die("/dev/null");
    SCREEN *scr = newterm("xterm-256color", tty_out, tty_in);
    if (!scr) {
        fprintf(stderr, "tui_golden: no terminfo entry for xterm-256color\n");
        return 1;
    }
    set_term(scr);
    start_color();
    use_default_colors();
    static const int sizes[][2] = {{80, 24}, {120, 40}};
    for (size_t k = 0; k < CEL_ARRAY_LEN(sizes); k++) {
        resize_term(sizes[k][1], sizes[k][0]);
        for (size_t i = 0; i < CEL_ARRAY_LEN(screens); i++)
            draw_screen(cfg, empty, &screens[i], out);
    }
    endwin();
    delscreen(scr);
    fclose(tty_out);
    fclose(tty_in);
    cfg_free(cfg);
    cfg_free(empty);
    return 0;
}
