/*
 * wizard_draw.c - the recovery wizard on the screen (curses), drawn from
 * struct wizard alone (see wizard.h): a title with the steps, the
 * recoverable window as a timeline where it helps to choose, the step's
 * questions, its message in place, and the keys it takes.
 */
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "tui/draw.h"
#include "tui/wizard.h"
#include "tui/wizard_draw.h"

/* curses last: the core headers refuse to be read after it */
#include <curses.h>

static const char *const step_names[WZ_STEP_COUNT] = {
    "Server", "Target", "Value", "Backup", "Destination", "Options", "Review", "Run", "Done"};

static enum tui_role level_role(enum wz_level l)
{
    return l == WZ_MSG_ERROR ? TUI_ROLE_ERROR : l == WZ_MSG_WARN ? TUI_ROLE_WARN : TUI_ROLE_OK;
}

/* Text wrapped at width into lines from y to last, breaking at spaces when
 * it can (a word longer than the width is cut); returns the next line. */
static int wrap_to(const struct tui_draw *d, int y, int x, int wd, enum tui_role r, const char *s,
                   int last)
{
    size_t len = strlen(s), at = 0;
    while (at < len && y <= last && wd > 0) {
        size_t n = len - at;
        if (n > (size_t)wd) {
            n = (size_t)wd;
            size_t sp = n;
            while (sp > 0 && s[at + sp] != ' ')
                sp--;
            if (sp > 0)
                n = sp;
        }
        char line[1024];
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, s + at, n);
        line[n] = '\0';
        tui_put(d, y++, x, wd, r, line, true);
        at += n;
        while (at < len && s[at] == ' ')
            at++;
    }
    return y;
}

/* wrap_to inside the frame. */
static int wrap(const struct tui_draw *d, int y, int x, int wd, enum tui_role r, const char *s)
{
    return wrap_to(d, y, x, wd, r, s, LINES - 6);
}

/* The steps, the current one standing out. */
static void draw_steps(const struct tui_draw *d, const struct wizard *w, int y, int W)
{
    int x = 1;
    for (int s = 0; s < WZ_STEP_COUNT && x < W; s++) {
        if (s == WZ_VALUE && !wz_targets[w->target].prompt && w->step != WZ_VALUE)
            continue;
        enum tui_role r = s == (int)w->step  ? TUI_ROLE_SELECTED
                          : s < (int)w->step ? TUI_ROLE_NORMAL
                                             : TUI_ROLE_DIM;
        x += tui_putf(d, y, x, W - x, r, false, " %s ", step_names[s]);
        if (s + 1 < WZ_STEP_COUNT)
            x += tui_put(d, y, x, W - x, TUI_ROLE_DIM, d->utf8 ? "\u203a" : ">", false);
    }
}

/* The recoverable window with the backups and the target. */
static int draw_timeline(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    if (!w->has_win)
        return 0;
    const struct cat_backup *b = wz_backup(w);
    return tui_timeline(d, y, x, wd, &w->win, b ? b->id : NULL, wz_target_epoch(w), true) + 1;
}

static void draw_servers(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    tui_put(d, y++, x, wd, TUI_ROLE_NORMAL, "Which server's backups do you recover from?", true);
    y++;
    for (size_t i = 0; i < w->cfg->n_servers; i++) {
        const struct cfg_server *s = &w->cfg->servers[i];
        tui_putf(d, y++, x, wd, i == w->server ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL, true,
                 "  %-20s %s", s->name, s->description ? s->description : "");
    }
}

static void draw_targets(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    tui_put(d, y++, x, wd, TUI_ROLE_NORMAL, "How far should the recovery replay the WAL?", true);
    y++;
    for (size_t i = 0; i < wz_n_targets; i++) {
        bool sel = i == w->target;
        tui_putf(d, y, x, 32, sel ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL, true, "  %s",
                 wz_targets[i].label);
        tui_put(d, y++, x + 33, wd - 33, sel ? TUI_ROLE_NORMAL : TUI_ROLE_DIM, wz_targets[i].help,
                true);
    }
}

static void draw_value(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    const struct wz_target *t = &wz_targets[w->target];
    tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "%s (%s):", t->prompt, t->option);
    y++;
    tui_putf(d, y++, x, wd, TUI_ROLE_SELECTED, true, " %s_", w->value);
    y++;
    if (w->value_msg[0])
        y = wrap(d, y, x, wd, level_role(w->value_level), w->value_msg);
    y++;
    if (t->kind == RC_TARGET_NAME && w->has_win && w->win.n_restore_points) {
        tui_put(d, y++, x, wd, TUI_ROLE_HEADER, "Restore points the catalogue knows:", true);
        for (size_t i = w->win.n_restore_points; i-- > 0 && y < LINES - 5;)
            tui_putf(d, y++, x + 2, wd - 2, TUI_ROLE_NORMAL, true, "%s", w->win.restore_points[i]);
    }
}

static void draw_backups(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    const struct cat_backup *b = wz_backup(w);
    if (b && !w->backup_picked) {
        char why[700];
        snprintf(why, sizeof why, "Chosen as `recover ... auto` does: %s.", w->backup_why);
        y = wrap(d, y, x, wd, TUI_ROLE_NORMAL, why);
    } else if (b)
        tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "Chosen by you: backup %s", b->id);
    else
        y++;
    y++;
    tui_putf(d, y++, x, wd, TUI_ROLE_HEADER, true, "  %-17s %-26s %-10s %-14s %s", "Backup",
             "Ended", "Size", "End LSN", "Name");
    size_t n;
    size_t *v = wz_done_backups(w, &n);
    int rows = LINES - y - 5;
    size_t top =
        w->backup_cursor >= (size_t)rows && rows > 0 ? w->backup_cursor - (size_t)rows + 1 : 0;
    for (size_t k = top; k < n && y < LINES - 5; k++) {
        const struct cat_backup *c = &w->win.cat.list.items[v[k]];
        char end[TS_MAX] = "-", size[32] = "-";
        if (c->end_time.set) {
            struct ts t = c->end_time.t;
            t.usec = 0; /* to the second: the list stays in its columns */
            ts_format(&t, end);
        }
        if (c->size.set)
            tui_fmt_bytes((uint64_t)c->size.v, size, sizeof size);
        tui_putf(d, y++, x, wd, (int)v[k] == w->backup ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL, true,
                 "  %-17s %-26s %-10s %-14s %s", c->id, end, size, c->end_xlog ? c->end_xlog : "-",
                 c->backup_name ? c->backup_name : "");
    }
    free(v);
}

static void field(const struct tui_draw *d, const struct wizard *w, int f, int y, int x, int wd,
                  const char *label, const char *value, bool text)
{
    bool sel = w->field == f;
    tui_putf(d, y, x, 28, sel ? TUI_ROLE_KEY : TUI_ROLE_NORMAL, true, "%s %s", sel ? ">" : " ",
             label);
    tui_putf(d, y, x + 28, wd - 28, sel ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL, true, " %s%s", value,
             sel && text ? "_" : "");
}

static void draw_dest(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    tui_put(d, y++, x, wd, TUI_ROLE_NORMAL,
            "Where does the recovered data directory go? It must be absent or empty.", true);
    y++;
    field(d, w, WZ_F_WHERE, y++, x, wd, "Where",
          w->remote ? "< on another host, over ssh >" : "< on this host >", false);
    field(d, w, WZ_F_DEST, y++, x, wd, "Data directory", w->dest, true);
    if (w->remote)
        field(d, w, WZ_F_SSH, y++, x, wd, "SSH command", w->ssh, true);
    const struct cat_backup *b = wz_backup(w);
    for (size_t i = 0; b && i < w->n_tbs && i < b->n_tablespaces; i++) {
        char label[128];
        snprintf(label, sizeof label, "Tablespace %s", b->tablespaces[i].name);
        char val[1200];
        snprintf(val, sizeof val, "%s", w->tbs[i][0] ? w->tbs[i] : "");
        field(d, w, WZ_F_TBS + (int)i, y, x, wd, label, val, true);
        if (!w->tbs[i][0] && w->field != WZ_F_TBS + (int)i)
            tui_putf(d, y, x + 29, wd - 29, TUI_ROLE_DIM, true, "(keep %s)",
                     b->tablespaces[i].location);
        y++;
    }
    y++;
    tui_put(d, y, x, wd, TUI_ROLE_DIM,
            "Enter checks the destination (emptiness, free space, tablespaces) with "
            "cellar recover --dry-run.",
            true);
}

static void draw_options(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    tui_put(d, y++, x, wd, TUI_ROLE_NORMAL, "Options (Left/Right or Space change a value):", true);
    y++;
    char v[128];
    snprintf(v, sizeof v, "< %s >",
             w->action ? wz_actions[w->action] : "default (PostgreSQL pauses at a target)");
    field(d, w, WZ_F_ACTION, y++, x, wd, "Target action", v, false);
    enum rc_target_kind k = wz_targets[w->target].kind;
    if (k == RC_TARGET_TIME || k == RC_TARGET_XID || k == RC_TARGET_LSN) {
        snprintf(v, sizeof v, "< %s >",
                 w->exclusive ? "yes: stop just before the target" : "no: include the target");
        field(d, w, WZ_F_EXCLUSIVE, y++, x, wd, "Exclusive", v, false);
    }
    snprintf(v, sizeof v, "< %s >",
             w->timeline ? wz_timelines[w->timeline] : "default (the latest timeline)");
    field(d, w, WZ_F_TIMELINE, y++, x, wd, "Timeline", v, false);
    snprintf(v, sizeof v, "< %s >",
             w->get_wal < 0    ? "as the server's recovery_options say"
             : w->get_wal == 0 ? "copy the WAL into pg_wal now"
                               : "fetch it while replaying (cellar get-wal)");
    field(d, w, WZ_F_GETWAL, y++, x, wd, "WAL", v, false);
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static void draw_review(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    const struct cat_backup *b = wz_backup(w);
    const struct wz_target *t = &wz_targets[w->target];
    tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "Server       %s", wz_server(w)->name);
    tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "Backup       %s%s%s", b ? b->id : "-",
             w->backup_picked ? " (chosen by you)" : " (", w->backup_picked ? "" : "auto)");
    tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "Target       %s%s%s%s", t->label,
             t->prompt ? ": " : "", t->prompt ? w->value : "",
             w->exclusive && t->prompt && t->kind != RC_TARGET_NAME ? " (exclusive)" : "");
    tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "Destination  %s%s%s", w->remote ? w->ssh : "",
             w->remote ? ":" : "", w->dest);
    for (size_t i = 0; b && i < w->n_tbs && i < b->n_tablespaces; i++)
        tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "Tablespace   %s -> %s",
                 b->tablespaces[i].name, w->tbs[i][0] ? w->tbs[i] : b->tablespaces[i].location);
    if (w->plan) {
        char data[32], wal[32], freeb[32] = "unknown";
        tui_fmt_bytes((uint64_t)json_integer_value(json_object_get(w->plan, "data_bytes")), data,
                      sizeof data);
        tui_fmt_bytes((uint64_t)json_integer_value(json_object_get(w->plan, "wal_bytes")), wal,
                      sizeof wal);
        if (json_is_integer(json_object_get(w->plan, "free_bytes")))
            tui_fmt_bytes((uint64_t)json_integer_value(json_object_get(w->plan, "free_bytes")),
                          freeb, sizeof freeb);
        bool get_wal = json_is_true(json_object_get(w->plan, "get_wal"));
        tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "Copies       %s of data%s%s%s%s", data,
                 get_wal ? "; WAL fetched by get-wal while replaying" : " and ", get_wal ? "" : wal,
                 get_wal ? "" : " of WAL", "");
        tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "Free space   %s at the destination", freeb);
        tui_putf(d, y++, x, wd, TUI_ROLE_DIM, true, "Checked by   cellar recover --dry-run (%s)",
                 jstr(w->plan, "backup_id"));
    }
    y++;
    tui_put(d, y++, x, wd, TUI_ROLE_HEADER, "The same recovery from a shell:", true);
    struct strbuf cmd = {0};
    wz_command_line(w, &cmd);
    y = wrap(d, y, x, wd, TUI_ROLE_KEY, sb_str(&cmd));
    sb_free(&cmd);
    y++;
    tui_put(d, y, x, wd, TUI_ROLE_NORMAL, "Enter starts the recovery; Esc goes back to change it.",
            true);
}

static void draw_run(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    const struct tui_job *j = w->jobs.n ? w->jobs.v[w->jobs.n - 1] : NULL;
    if (!j)
        return;
    tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "%s: %s", j->title,
             j->state == TUI_JOB_RUNNING ? (j->phase ? j->phase : "starting")
             : j->state == TUI_JOB_OK    ? "done"
                                         : "FAILED");
    if (j->has_progress)
        tui_progress(d, y, x, wd, j);
    y += 2;
    tui_put(d, y++, x, wd, TUI_ROLE_HEADER, "Log:", true);
    int rows = LINES - y - 5;
    size_t first = j->n_log > (size_t)(rows > 0 ? rows : 0) ? j->n_log - (size_t)rows : 0;
    for (size_t i = first; i < j->n_log && y < LINES - 5; i++)
        tui_put(d, y++, x, wd, TUI_ROLE_DIM, j->log[i], true);
}

/* The check query's rows as a table: a header, then as many rows as fit. */
static int draw_rows(const struct tui_draw *d, const json_t *res, int y, int x, int wd, int last)
{
    const json_t *cols = json_object_get(res, "columns"), *rows = json_object_get(res, "rows");
    size_t nc = json_array_size(cols), nr = json_array_size(rows);
    if (!nc)
        return y;
    int width[16] = {0};
    nc = nc > 16 ? 16 : nc;
    for (size_t c = 0; c < nc; c++) {
        width[c] = (int)strlen(json_string_value(json_array_get(cols, c)));
        for (size_t r = 0; r < nr; r++) {
            const char *v = json_string_value(json_array_get(json_array_get(rows, r), c));
            int n = v ? (int)strlen(v) : 4;
            width[c] = n > width[c] ? n : width[c];
        }
        width[c] = width[c] > 40 ? 40 : width[c];
    }
    struct strbuf line = {0};
    for (size_t r = 0; r <= nr && y <= last; r++) {
        sb_reset(&line);
        for (size_t c = 0; c < nc; c++) {
            const char *v = r == 0 ? json_string_value(json_array_get(cols, c))
                                   : json_string_value(json_array_get(json_array_get(rows, r - 1), c));
            sb_appendf(&line, "%s%-*.*s", c ? " | " : "", width[c], width[c], v ? v : "NULL");
        }
        tui_put(d, y++, x, wd, r == 0 ? TUI_ROLE_HEADER : TUI_ROLE_NORMAL, sb_str(&line), true);
    }
    sb_free(&line);
    json_int_t total = json_integer_value(json_object_get(res, "rows_total"));
    if (y <= last)
        tui_putf(d, y++, x, wd, TUI_ROLE_DIM, true, "(%lld row%s%s)", (long long)total,
                 total == 1 ? "" : "s", (json_int_t)nr < total ? ", the first ones shown" : "");
    return y;
}

/* The end step's check of the copy: the query being typed, the job, or
 * what it found. */
static void draw_check(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    int last = LINES - 6;
    const struct tui_job *j = w->jobs.n ? w->jobs.v[w->jobs.n - 1] : NULL;
    switch (w->check) {
    case WZ_CHECK_NONE:
        if (w->remote)
            return;
        tui_put(d, y++, x, wd, TUI_ROLE_HEADER, "Check the copy before relying on it:", true);
        wrap_to(d, y, x + 2, wd - 2, TUI_ROLE_NORMAL,
                "s starts it on 127.0.0.1 (a free port, its socket in a private directory, no "
                "archiving), waits until its recovery has ended, and runs a read-only query.",
                last);
        return;
    case WZ_CHECK_QUERY:
        tui_put(d, y++, x, wd, TUI_ROLE_HEADER,
                "Check query (run read-only once the recovery has ended):", true);
        tui_putf(d, y, x, wd, TUI_ROLE_SELECTED, true, "> %s", w->query);
        return;
    case WZ_CHECK_STARTING:
    case WZ_CHECK_STOPPING:
        if (!j)
            return;
        tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "%s: %s", j->title,
                 j->phase ? j->phase : "starting");
        for (size_t i = j->n_log > 3 ? j->n_log - 3 : 0; i < j->n_log && y <= last; i++)
            tui_put(d, y++, x + 2, wd - 2, TUI_ROLE_DIM, j->log[i], true);
        return;
    case WZ_CHECK_DONE:
        break;
    }
    const json_t *r = w->check_result;
    const char *state = json_string_value(json_object_get(r, "state"));
    const char *lsn = json_string_value(json_object_get(r, "replay_lsn"));
    const char *when = json_string_value(json_object_get(r, "last_replay_time"));
    tui_putf(d, y++, x, wd, TUI_ROLE_OK, true, "The copy %s%s%s%s%s.",
             !state                           ? "ran"
             : strcmp(state, "paused") == 0   ? "is paused at its target (read-only)"
             : strcmp(state, "promoted") == 0 ? "is promoted (recovery ended)"
                                              : "shut down at its target",
             lsn ? ", replayed up to " : "", lsn ? lsn : "", when ? ", last commit " : "",
             when ? when : "");
    const char *query = json_string_value(json_object_get(r, "query"));
    if (query) {
        tui_putf(d, y++, x, wd, TUI_ROLE_DIM, true, "%s", query);
        y = draw_rows(d, r, y, x + 2, wd - 2, last - 2);
    }
    if (w->copy_running) /* how to connect is among the next steps above */
        tui_put(d, y, x, wd, TUI_ROLE_KEY, "x stops it (cellar stop-recovered)", true);
}

static void draw_end(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    const struct cat_backup *b = wz_backup(w);
    tui_putf(d, y++, x, wd, TUI_ROLE_OK, true, "Backup %s of server %s is recovered into %s%s%s.",
             b ? b->id : "-", wz_server(w)->name, w->remote ? w->ssh : "", w->remote ? ":" : "",
             w->dest);
    y++;
    tui_put(d, y++, x, wd, TUI_ROLE_HEADER, "Next:", true);
    struct strbuf next = {0};
    wz_next_steps(w, &next);
    char *save = NULL;
    for (char *line = strtok_r(next.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        y = wrap(d, y, x + 2, wd - 2, TUI_ROLE_KEY, line);
    sb_free(&next);
    draw_check(d, w, y + 1, x, wd);
}

/* The end step's keys, which depend on where its check is. */
static const char *end_keys(const struct wizard *w)
{
    switch (w->check) {
    case WZ_CHECK_QUERY:
        return "type the query  Ctrl-U erase  Enter start and check  Esc cancel";
    case WZ_CHECK_STARTING:
        return "Esc stops the check and the copy";
    case WZ_CHECK_STOPPING:
        return "stopping the copy ...";
    default:
        if (w->copy_running)
            return "x stop the copy  any other key closes (the copy keeps running)";
        return w->remote ? "any key closes" : "s start and check the copy  any other key closes";
    }
}

static const char *step_keys(const struct wizard *w)
{
    switch (w->step) {
    case WZ_SERVER:
        return "Up/Down choose  Enter next  Esc close";
    case WZ_TARGET:
    case WZ_BACKUP:
        return "Up/Down choose  Enter next  Esc back";
    case WZ_VALUE:
        return "type the value  Backspace / Ctrl-U erase  Enter next  Esc back";
    case WZ_DEST:
        return "Up/Down field  type / Ctrl-U to edit  Left/Right local/remote  Enter check  Esc "
               "back";
    case WZ_OPTIONS:
        return "Up/Down field  Left/Right change  Enter review  Esc back";
    case WZ_REVIEW:
        return "Enter run  Esc back";
    case WZ_RUN:
        if (w->jobs.n && w->jobs.v[w->jobs.n - 1]->state != TUI_JOB_RUNNING)
            return "Enter or Esc: back to the review";
        return w->close_quits ? "the recovery is running: its end screen follows"
                              : "Esc hides the wizard (the recovery goes on in the activity pane)";
    default:
        return end_keys(w);
    }
}

void tui_wizard_draw(const struct tui_draw *d, const struct wizard *w)
{
    int H = LINES, W = COLS;
    const struct cfg_server *s = wz_server(w);
    tui_putf(d, 0, 0, W, TUI_ROLE_TITLE, true, " cellar recovery wizard%s%s", s ? ": server " : "",
             s ? s->name : "");
    draw_steps(d, w, 1, W);
    /* rows: title, steps, the frame down to H-4, two for the message, keys */
    tui_frame(d, 2, 0, H - 5, W, step_names[w->step], true);
    int y = 3, x = 2, wd = W - 4;
    if (w->step == WZ_TARGET || w->step == WZ_VALUE || w->step == WZ_BACKUP)
        y += draw_timeline(d, w, y, x, wd);
    switch (w->step) {
    case WZ_SERVER:
        draw_servers(d, w, y, x, wd);
        break;
    case WZ_TARGET:
        draw_targets(d, w, y, x, wd);
        break;
    case WZ_VALUE:
        draw_value(d, w, y, x, wd);
        break;
    case WZ_BACKUP:
        draw_backups(d, w, y, x, wd);
        break;
    case WZ_DEST:
        draw_dest(d, w, y, x, wd);
        break;
    case WZ_OPTIONS:
        draw_options(d, w, y, x, wd);
        break;
    case WZ_REVIEW:
        draw_review(d, w, y, x, wd);
        break;
    case WZ_RUN:
        draw_run(d, w, y, x, wd);
        break;
    default:
        draw_end(d, w, y, x, wd);
        break;
    }
    /* the step's message, in place under the frame (two lines at most) */
    if (w->msg[0])
        wrap_to(d, H - 3, 1, W - 2, level_role(w->msg_level), w->msg, H - 2);
    tui_put(d, H - 1, 0, W, TUI_ROLE_STATUS, step_keys(w), true);
}
