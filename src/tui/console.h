/*
 * console.h - the main screen's state, shared by console.c (the loop, the
 * layout, the focus ring and the modes) and the panes (pane_*.c).
 *
 * The state is what more than one pane or mode reads: the model, the jobs,
 * the selected server and the view of its backups (filtered and sorted),
 * the backup the details are about, the selected job. Each pane keeps its
 * own scrolling in its private state (pane.h). The helpers below are the
 * only way panes change the shared state, so a selection change always
 * rebuilds what depends on it.
 */
#ifndef CEL_TUI_CONSOLE_H
#define CEL_TUI_CONSOLE_H

#include <limits.h>

#include "tui/draw.h"
#include "tui/job.h"
#include "tui/model.h"
#include "tui/pane.h"
#include "tui/wizard.h"

enum con_mode {
    MODE_NORMAL,
    MODE_FILTER,
    MODE_CONFIRM_DELETE,
    MODE_CONFIRM_KEEP,
    MODE_CONFIRM_QUIT,
    MODE_HELP,
    MODE_LOG,
    MODE_WIZARD
};

/* The backups' columns, also the sort keys (s cycles through them). */
enum con_sort {
    SORT_ID,
    SORT_END,
    SORT_SIZE,
    SORT_DEDUP,
    SORT_WAL,
    SORT_STATUS,
    SORT_RET,
    SORT_COUNT
};

/* how many panes TUI_PANES lists */
#define TUI_PANE_COUNT(name) +1
enum { CON_N_PANES = 0 TUI_PANES(TUI_PANE_COUNT) };
#undef TUI_PANE_COUNT

struct console {
    const struct cfg *cfg;
    char exe[PATH_MAX];
    struct tui_model model;
    struct tui_jobs jobs;
    struct tui_draw dr; /* theme, colours, UTF-8 */
    struct pane panes[CON_N_PANES];
    size_t focus; /* index in panes */
    enum con_mode mode;
    int64_t fixed_now; /* the wall clock for tests (seconds), 0: time(NULL) */
    /* the selection: a server, and the view of its backups */
    size_t srv_sel;
    size_t *view; /* indices into the selected server's backups, filtered and sorted */
    size_t n_view;
    size_t bk_sel;
    enum con_sort sort;
    bool sort_rev;
    char filter[128];
    char input[128];
    /* what the details pane shows: show-backup's text of details_id */
    char *details;
    char *details_id;
    char *details_server;
    unsigned details_gen; /* bumped each time the details open */
    struct op_window win; /* the recoverable window of details_server */
    bool has_win;
    size_t act_sel; /* the selected job */
    size_t log_top;
    char *pending_delete;
    char *pending_keep;        /* the backup K asks about */
    bool pending_keep_release; /* it is kept: K releases it */
    struct wizard wz;      /* the recovery wizard, while mode is MODE_WIZARD */
    bool wz_quits;         /* opened by recover --wizard: closing it ends the console */
    char *wz_command;      /* the wizard's last reviewed command line, printed on exit */
    struct cel_err wz_err; /* recover --wizard: how its recovery failed (its exit status) */
    char status[512];
    enum tui_role status_role;
    double status_at;
    double archive_at; /* when the WAL lag was last read */
};

/* Set up c on cfg (loaded, borrowed) with the theme's drawing (c->dr must
 * be set: theme, colours, UTF-8): the model, the panes, the backups view.
 * No terminal is needed and no job is started. Free with con_close. */
int con_open(struct console *c, const struct cfg *cfg, struct cel_err *err);
void con_close(struct console *c);
/* Draw the whole screen into stdscr (curses must be set up). */
void con_draw(struct console *c);
/* One key (a curses key code, '\r' already mapped to '\n'); false: quit. */
bool con_key(struct console *c, int ch);
/* Open the recovery wizard on server index server (-1: the first). */
void con_open_wizard(struct console *c, ssize_t server);

/* The wall clock: fixed_now, or the time. */
int64_t con_now(const struct console *c);
void con_status(struct console *c, enum tui_role role, const char *fmt, ...) CEL_PRINTF(3, 4);
/* The selected server and backup (NULL when none). */
struct tui_server *con_server(struct console *c);
const struct tui_backup *con_backup(struct console *c);
/* Select server i (its backups' view is rebuilt, the first selected). */
void con_select_server(struct console *c, size_t i);
/* Rebuild the backups view (filter and sort) of the selected server. */
void con_rebuild_view(struct console *c);
/* Show the selected backup in the details pane (and focus it). */
void con_open_details(struct console *c);
/* Give the focus to the pane called name (nothing when there is none). */
void con_focus_pane(struct console *c, const char *name);
/* Open the log of the selected job (MODE_LOG); false when there is none. */
bool con_open_log(struct console *c);

#endif
