/*
 * wizard.h - the guided point-in-time recovery: its steps, answers and
 * checks (no curses; wizard_draw.c draws it).
 *
 * The wizard builds a `cellar recover` request one step at a time:
 *
 *   server -> target kind -> target value -> backup -> destination ->
 *   options -> review -> run -> end
 *
 * (the value step is skipped for "end of WAL" and "end of a backup"). Enter
 * goes on, Esc goes back, and every answer stays when going back, so
 * changing the target keeps the destination and the options. What can be
 * checked from the catalogue is checked here, as the DBA types (the value
 * against the recoverable window, the backup against the target); what
 * needs the destination's host (emptiness, free space, tablespace
 * locations, the WAL plan, a transaction ID against the backup) is checked
 * by `cellar --batch --format json recover --dry-run ...` run as a child
 * job, so the console never blocks on ssh. The recovery itself is the same
 * command without --dry-run, also a child job, so what the review shows is
 * exactly what runs.
 *
 * The front end feeds keys (wz_key), polls the wizard's jobs
 * (tui_jobs_poll(&w->jobs, 0)) and calls wz_tick, then draws from the
 * struct. Errors never leave a step: they go into msg with what to change.
 */
#ifndef CEL_TUI_WIZARD_H
#define CEL_TUI_WIZARD_H

#include "ops/ops.h"
#include "tui/job.h"
#include "tui/timeline.h"

enum wz_step {
    WZ_SERVER,
    WZ_TARGET,
    WZ_VALUE,
    WZ_BACKUP,
    WZ_DEST,
    WZ_OPTIONS,
    WZ_REVIEW,
    WZ_RUN,
    WZ_END,
    WZ_STEP_COUNT
};

/* A key, as the front end maps it (WZ_KEY_CHAR carries the character). */
enum wz_key {
    WZ_KEY_CHAR,
    WZ_KEY_ENTER,
    WZ_KEY_ESC,
    WZ_KEY_UP,
    WZ_KEY_DOWN,
    WZ_KEY_LEFT,
    WZ_KEY_RIGHT,
    WZ_KEY_TAB,
    WZ_KEY_BACKSPACE,
    WZ_KEY_PGUP,
    WZ_KEY_PGDN,
};

enum wz_level { WZ_MSG_NONE, WZ_MSG_INFO, WZ_MSG_WARN, WZ_MSG_ERROR };

/* Where the end step's check of the recovered copy is. */
enum wz_check {
    WZ_CHECK_NONE,     /* not started (or failed: the message says why) */
    WZ_CHECK_QUERY,    /* editing the check query */
    WZ_CHECK_STARTING, /* start-recovered runs */
    WZ_CHECK_DONE,     /* check_result holds what it found */
    WZ_CHECK_STOPPING, /* stop-recovered runs */
};

/* The options step's choices. */
extern const char *const wz_actions[];   /* "", "pause", "promote", "shutdown" */
extern const char *const wz_timelines[]; /* "", "current", "latest" */
#define WZ_N_ACTIONS 4
#define WZ_N_TIMELINES 3

/* The fields of the destination step, in order (tablespaces follow). */
enum wz_dest_field { WZ_F_WHERE, WZ_F_DEST, WZ_F_SSH, WZ_F_TBS };
/* The fields of the options step. */
enum wz_opt_field { WZ_F_ACTION, WZ_F_EXCLUSIVE, WZ_F_TIMELINE, WZ_F_GETWAL, WZ_N_OPT_FIELDS };

struct wizard {
    const struct cfg *cfg;
    char *exe;        /* this program, for the jobs */
    bool close_quits; /* opened by `recover --wizard`: closing ends cellar */
    enum wz_step step;

    size_t server; /* index in cfg->servers */
    struct op_window win;
    bool has_win;
    struct op_xids xids; /* the backups' NextXIDs, looked up as a target XID needs them */

    size_t target; /* index in rc_target_defs, the order the target step lists them */
    char value[256];
    struct rc_target tgt; /* kind and value as last parsed by wz_check_value, the one parse
                             every check, the backup step and the timeline read */
    bool tgt_ok;          /* tgt holds them (the value parsed) */
    enum wz_level value_level;
    char value_msg[512];

    int backup;         /* index in win.cat.list, -1: none chosen */
    bool backup_picked; /* the DBA chose it (else the auto rule does) */
    char backup_why[512];
    size_t backup_cursor; /* index in the list of DONE backups shown */

    bool remote;
    char dest[1024];
    char ssh[512];
    char (*tbs)[1024]; /* a relocation per tablespace of the backup; "" keeps it */
    char (*tbs_name)[64]; /* the tablespace each relocation is for (kept by name when
                             the backup changes) */
    size_t n_tbs;
    int field; /* the focused field of the destination and options steps */

    int action; /* index in wz_actions */
    bool exclusive;
    int timeline; /* index in wz_timelines */
    int get_wal;  /* -1: the server's recovery_options, 0: copy the WAL, 1: get-wal */

    enum wz_level msg_level; /* the step's message, shown in place */
    char msg[1024];

    struct tui_jobs jobs;  /* at most one: a dry run, the recovery, or at the end
                              start-recovered / stop-recovered */
    enum wz_step job_step; /* the step that started it */
    struct tui_jobs runs;  /* the recoveries that ended and whose place in jobs
                              a later job took: kept for the activity pane */
    json_t *plan;          /* the last dry run's plan (recover-plan data) */
    char **plan_warnings;  /* what that dry run warned about (its WARNING lines) */
    size_t n_plan_warnings;
    struct cel_err run_err; /* how the last recovery failed; code 0: it succeeded,
                               or none ran */

    /* The review scrolls when it is longer than the screen: the first line
     * shown, and the lines shown and in all as last drawn (the drawing
     * records them through wz_review_view so keys can page). */
    int review_top;
    int review_rows;
    int review_lines;

    /* The end step: `s` starts the recovered copy on loopback and runs a
     * check query (`cellar start-recovered`, local destinations only); `x`
     * stops it (`cellar stop-recovered`). */
    enum wz_check check;
    char query[1024];      /* the check query, prefilled with start-recovered's default */
    json_t *check_result;  /* the last start-recovered result's data */
    bool copy_running;     /* the copy it started still runs */
};

/* Open the wizard on server index (-1: the first), starting at the server
 * step. exe is this program. Returns 0; the wizard is freed by wz_free. */
int wz_open(struct wizard *w, const struct cfg *cfg, const char *exe, ssize_t server);
void wz_free(struct wizard *w);

/* One key. Returns false when the wizard closes (Esc on the first step, or
 * on the end screen any key but those of the check: s, x, and the query's
 * keys). On the review, Up/Down scroll by a line and PgUp/PgDn by a page
 * (see wz_review_view). */
bool wz_key(struct wizard *w, enum wz_key k, int ch);
/* The review's geometry as drawn: rows lines fit on the screen, and it has
 * lines of them; keeps review_top within them. */
void wz_review_view(struct wizard *w, int rows, int lines);
/* Take what the wizard's job did (after tui_jobs_poll). True when the
 * screen changed. A dry run that passes brings its plan and warnings; a
 * recovery that ends sets run_err (cleared when it succeeded). */
bool wz_tick(struct wizard *w);
/* The recoveries the wizard ran, running or ended, one per call (the
 * oldest first; NULL when there is no other), handed over to the activity
 * pane when the wizard closes, so they show there as any other operation.
 * The caller owns what is returned. */
struct tui_job *wz_take_job(struct wizard *w);

/* The recover command's arguments after the program name: "recover",
 * options, SERVER, BACKUP, DEST (NULL-terminated, each string allocated);
 * with --dry-run when dry_run. Free with wz_argv_free. */
char **wz_argv(const struct wizard *w, bool dry_run);
void wz_argv_free(char **argv);
/* The equivalent command line for a shell: "cellar -c CONF recover ...",
 * each argument quoted when it needs to be. */
void wz_command_line(const struct wizard *w, struct strbuf *out);

/* Parse the value step's text for the target kind into tgt (a kind
 * without a value: the kind alone) and check it against the window; sets
 * value_level and value_msg. Returns false when it cannot be used. */
bool wz_check_value(struct wizard *w);
/* The recoverable window for the target kind in one sentence, with the
 * bounds wz_check_value holds the value to: from the end of the oldest
 * DONE backup to the last archived WAL (times for a time target, LSNs for
 * an LSN target); nothing for the other kinds. */
void wz_window_text(const struct wizard *w, struct strbuf *out);

/* What to do after the recovery, one command or note per line: the chown
 * when cellar ran as root on a local destination, the pg_ctl line (the
 * Debian binary of the backup's major version when there is one), and how
 * to end a recovery that pauses at its target. While the copy the end step
 * started runs: how to connect to it and how to stop it first. */
void wz_next_steps(const struct wizard *w, struct strbuf *out);

/* The server, the chosen backup, and the target's epoch (0: none). */
const struct cfg_server *wz_server(const struct wizard *w);
const struct cat_backup *wz_backup(const struct wizard *w);
double wz_target_epoch(const struct wizard *w);
/* Indices in win.cat.list of the DONE backups, newest first (*n of them;
 * free the array). */
size_t *wz_done_backups(const struct wizard *w, size_t *n);

#endif
