/*
 * wizard_draw.c - the recovery wizard on the screen (curses), drawn from
 * struct wizard alone (see wizard.h): a title with the steps, the
 * recoverable window as a timeline where it helps to choose, the step's
 * questions, its message in place, and the keys it takes.
 *
 * Each step draws inside the frame (struct box) and fits what it has,
 * from 80x24 down to the console's smallest screen (60x16): what the DBA
 * must answer comes first, so on a short screen the timeline loses its
 * legend and then goes, blank lines go, and lists and long values scroll
 * to what is selected or typed. The review, which grows with tablespaces,
 * warnings and the command line, scrolls with Up/Down and PgUp/PgDn (the
 * drawing tells the model its page, wz_review_view) and says so on the
 * frame. Messages under the frame take three lines on a tall screen.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Where a step draws: the inside of the frame, w columns from x, rows y to
 * last. */
struct box {
    int y, x, w, last;
};

static int box_rows(struct box b)
{
    return b.last - b.y + 1;
}

static enum tui_role level_role(enum wz_level l)
{
    return l == WZ_MSG_ERROR ? TUI_ROLE_ERROR : l == WZ_MSG_WARN ? TUI_ROLE_WARN : TUI_ROLE_OK;
}

static bool continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* Screen columns of s (a UTF-8 character takes one). */
static int cols(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += !continuation(*s);
    return n;
}

/* The next line of s in at most wd columns (wd >= 1): its length in bytes,
 * breaking at the last space that fits (a longer word is broken at the
 * width, so nothing is lost); *next is where the line after it starts,
 * its leading spaces skipped. */
static size_t next_line(const char *s, int wd, size_t *next)
{
    size_t i = 0, brk = 0;
    int used = 0;
    for (; s[i]; i++) {
        if (continuation(s[i]))
            continue;
        if (used == wd)
            break;
        if (s[i] == ' ')
            brk = i;
        used++;
    }
    size_t n = s[i] && s[i] != ' ' && brk > 0 ? brk : i;
    size_t k = n;
    while (s[k] == ' ')
        k++;
    *next = k;
    return n;
}

/* The lines s takes wrapped at wd columns. */
static int wrap_lines(const char *s, int wd)
{
    int n = 0;
    size_t at = 0, len = strlen(s), next;
    while (at < len && wd > 0) {
        next_line(s + at, wd, &next);
        at += next;
        n++;
    }
    return n;
}

/* Text wrapped at width into lines from y to last, breaking at spaces when
 * it can; returns the next line. */
static int wrap_to(const struct tui_draw *d, int y, int x, int wd, enum tui_role r, const char *s,
                   int last)
{
    size_t len = strlen(s), at = 0, next;
    while (at < len && y <= last && wd > 0) {
        size_t n = next_line(s + at, wd, &next);
        char line[1024];
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, s + at, n);
        line[n] = '\0';
        tui_put(d, y++, x, wd, r, line, true);
        at += next;
    }
    return y;
}

/* wrap_to inside the frame. */
static int wrap(const struct tui_draw *d, int y, int x, int wd, enum tui_role r, const char *s)
{
    return wrap_to(d, y, x, wd, r, s, LINES - 6);
}

/* The end of s that fits in room columns, behind a mark when it is cut:
 * what is being typed stays in sight. */
static void fit_tail(const struct tui_draw *d, const char *s, int room, char *buf, size_t size)
{
    const char *mark = d->utf8 ? "\u2026" : "<";
    int over = cols(s) - room;
    if (over <= 0 || room < 2) {
        snprintf(buf, size, "%s", s);
        return;
    }
    const char *p = s;
    for (int k = 0; k <= over && *p; k++) /* one more for the mark */
        for (p++; continuation(*p); p++)
            ;
    snprintf(buf, size, "%s%s", mark, p);
}

/* The first row of a list of which row sel must show in rows rows. */
static size_t list_top(size_t sel, int rows)
{
    return rows > 0 && sel >= (size_t)rows ? sel - (size_t)rows + 1 : 0;
}

static bool step_shown(const struct wizard *w, int s)
{
    return s != WZ_VALUE || rc_target_defs[w->target].prompt || w->step == WZ_VALUE;
}

/* The steps, the current one standing out; on a narrow screen the first
 * ones give way (behind a mark) so that the current one shows. */
static void draw_steps(const struct tui_draw *d, const struct wizard *w, int y, int W)
{
    int cur = (int)w->step, first = 0, upto = 1;
    for (int s = 0; s <= cur && s < WZ_STEP_COUNT; s++)
        upto += step_shown(w, s) ? (int)strlen(step_names[s]) + 3 : 0;
    while (upto + (first ? 2 : 0) > W && first < cur) {
        upto -= step_shown(w, first) ? (int)strlen(step_names[first]) + 3 : 0;
        first++;
    }
    int x = 1;
    if (first)
        x += tui_put(d, y, x, W - x, TUI_ROLE_DIM, d->utf8 ? "\u2026 " : "< ", false);
    for (int s = first; s < WZ_STEP_COUNT && x < W; s++) {
        if (!step_shown(w, s))
            continue;
        enum tui_role r = s == cur ? TUI_ROLE_SELECTED : s < cur ? TUI_ROLE_NORMAL : TUI_ROLE_DIM;
        x += tui_putf(d, y, x, W - x, r, false, " %s ", step_names[s]);
        if (s + 1 < WZ_STEP_COUNT)
            x += tui_put(d, y, x, W - x, TUI_ROLE_DIM, d->utf8 ? "\u203a" : ">", false);
    }
}

/* The recoverable window with the backups and the target, above a step
 * that needs `need` of the box's rows: with its legend when there is room,
 * without it on a shorter screen, and not at all on a short one (the
 * step's own lines come first). Returns the rows it took, a blank one
 * included. */
static int draw_timeline(const struct tui_draw *d, const struct wizard *w, struct box b, int need)
{
    int spare = box_rows(b) - need;
    if (!w->has_win || spare < 4)
        return 0;
    const struct cat_backup *bk = wz_backup(w);
    int n =
        tui_timeline(d, b.y, b.x, b.w, &w->win, bk ? bk->id : NULL, wz_target_epoch(w), spare >= 5);
    return n ? n + 1 : 0;
}

static void draw_servers(const struct tui_draw *d, const struct wizard *w, struct box b)
{
    int n = (int)w->cfg->n_servers;
    int y = wrap_to(d, b.y, b.x, b.w, TUI_ROLE_NORMAL,
                    "Which server's backups do you recover from?", b.last);
    if (b.last - y + 1 > n)
        y++;
    for (size_t i = list_top(w->server, b.last - y + 1); i < (size_t)n && y <= b.last; i++) {
        const struct cfg_server *s = &w->cfg->servers[i];
        tui_putf(d, y++, b.x, b.w, i == w->server ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL, true,
                 "  %-20s %s", s->name, s->description ? s->description : "");
    }
}

/* Each target's help beside it when the screen is wide enough, else the
 * chosen one's under the list. */
static void draw_targets(const struct tui_draw *d, const struct wizard *w, struct box b)
{
    const int lw = 33;
    int longest = 0;
    for (size_t i = 0; i < rc_target_n_defs; i++)
        if (cols(rc_target_defs[i].when) > longest)
            longest = cols(rc_target_defs[i].when);
    bool beside = b.w - lw >= longest;
    const char *help = rc_target_defs[w->target].when;
    int under = beside ? 0 : wrap_lines(help, b.w - 2);
    int need = 1 + (int)rc_target_n_defs + under;
    int gaps = beside ? 1 : 2;
    b.y += draw_timeline(d, w, b, need + gaps);
    bool gap = box_rows(b) >= need + gaps;
    int y = b.y;
    tui_put(d, y++, b.x, b.w, TUI_ROLE_NORMAL, "How far should the recovery replay the WAL?", true);
    y += gap;
    for (size_t i = 0; i < rc_target_n_defs && y <= b.last; i++, y++) {
        bool sel = i == w->target;
        tui_putf(d, y, b.x, beside ? lw - 1 : b.w, sel ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL, true,
                 "  %s", rc_target_defs[i].label);
        if (beside)
            tui_put(d, y, b.x + lw, b.w - lw, sel ? TUI_ROLE_NORMAL : TUI_ROLE_DIM,
                    rc_target_defs[i].when, true);
    }
    if (!beside)
        wrap_to(d, y + gap, b.x + 2, b.w - 2, TUI_ROLE_NORMAL, help, b.last);
}

/* The prompt, the value being typed, what the check says of it, and the
 * window it is held to. */
static void draw_value(const struct tui_draw *d, const struct wizard *w, struct box b)
{
    const struct rc_target_def *t = &rc_target_defs[w->target];
    char prompt[300];
    snprintf(prompt, sizeof prompt, "%s (%s):", t->prompt, t->option);
    struct strbuf win = {0};
    wz_window_text(w, &win);
    int m = w->value_msg[0] ? wrap_lines(w->value_msg, b.w) : 0;
    int wt = win.len ? wrap_lines(sb_str(&win), b.w) : 0;
    int need = wrap_lines(prompt, b.w) + 1 + m + wt;
    int gaps = 1 + (m > 0) + (wt > 0);
    b.y += draw_timeline(d, w, b, need + gaps);
    bool gap = box_rows(b) >= need + gaps;
    int y = wrap_to(d, b.y, b.x, b.w, TUI_ROLE_NORMAL, prompt, b.last) + gap;
    char shown[300];
    fit_tail(d, w->value, b.w - 2, shown, sizeof shown);
    if (y <= b.last)
        tui_putf(d, y++, b.x, b.w, TUI_ROLE_SELECTED, true, " %s_", shown);
    if (m)
        y = wrap_to(d, y + gap, b.x, b.w, level_role(w->value_level), w->value_msg, b.last);
    if (wt)
        y = wrap_to(d, y + gap, b.x, b.w, TUI_ROLE_DIM, sb_str(&win), b.last);
    sb_free(&win);
    if (t->kind == RC_TARGET_NAME && w->has_win && w->win.points.n_points) {
        /* what the archived WAL holds, newest first, with when each was made */
        const struct widx *p = &w->win.points;
        y += gap;
        if (y <= b.last)
            tui_putf(d, y++, b.x, b.w, TUI_ROLE_HEADER, true,
                     "Restore points in the archived WAL%s:",
                     w->win.points_unread ? " (so far: some segments are not read yet)" : "");
        for (size_t i = p->n_points; i-- > 0 && y <= b.last;) {
            char when[TS_MAX + 8], at[WAL_LSN_MAX], name[CEL_SHOW_BUF];
            tui_fmt_epoch(p->points[i].time, when, sizeof when);
            wal_lsn_format(p->points[i].lsn, at);
            /* a name from the WAL may hold any byte: shown escaped */
            cel_show(p->points[i].name, strlen(p->points[i].name), name);
            tui_putf(d, y++, b.x + 2, b.w - 2, TUI_ROLE_NORMAL, true, "%-24s %s  at %s", name, when,
                     at);
        }
    } else if (t->kind == RC_TARGET_NAME && w->has_win && w->win.n_restore_points) {
        y += gap;
        if (y <= b.last)
            tui_put(d, y++, b.x, b.w, TUI_ROLE_HEADER, "Restore points the catalogue knows:", true);
        for (size_t i = w->win.n_restore_points; i-- > 0 && y <= b.last;)
            tui_putf(d, y++, b.x + 2, b.w - 2, TUI_ROLE_NORMAL, true, "%s",
                     w->win.restore_points[i]);
    }
}

/* Why this backup, and the DONE backups (at least three rows of them when
 * there are, the chosen one in sight). */
static void draw_backups(const struct tui_draw *d, const struct wizard *w, struct box b)
{
    const struct cat_backup *bk = wz_backup(w);
    char why[700] = "";
    if (bk && !w->backup_picked)
        snprintf(why, sizeof why, "Chosen as `recover ... auto` does: %s.", w->backup_why);
    else if (bk)
        snprintf(why, sizeof why, "Chosen by you: backup %s", bk->id);
    size_t n;
    size_t *v = wz_done_backups(w, &n);
    int need = (why[0] ? wrap_lines(why, b.w) : 1) + 1 + (n < 3 ? (int)n : 3);
    b.y += draw_timeline(d, w, b, need + 1);
    bool gap = box_rows(b) >= need + 1;
    int y = why[0] ? wrap_to(d, b.y, b.x, b.w, TUI_ROLE_NORMAL, why, b.last) : b.y + 1;
    y += gap;
    if (y <= b.last)
        tui_putf(d, y++, b.x, b.w, TUI_ROLE_HEADER, true, "  %-16s %-25s %-10s %-12s %s", "Backup",
                 "Ended", "Size", "End LSN", "Name");
    for (size_t k = list_top(w->backup_cursor, b.last - y + 1); k < n && y <= b.last; k++) {
        const struct cat_backup *c = &w->win.cat.list.items[v[k]];
        char end[TS_MAX] = "-", size[32] = "-";
        if (c->end_time.set) {
            struct ts t = c->end_time.t;
            t.usec = 0; /* to the second: the list stays in its columns */
            ts_format(&t, end);
        }
        if (c->size.set)
            tui_fmt_bytes((uint64_t)c->size.v, size, sizeof size);
        const char *enc = cat_extra_get(c, "encryption");
        tui_putf(d, y++, b.x, b.w, (int)v[k] == w->backup ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL,
                 true, "  %-16s %-25s %-10s %-12s %s%s%s%s", c->id, end, size,
                 c->end_xlog ? c->end_xlog : "-", enc ? "[" : "", enc ? enc : "",
                 enc ? "] " : "", c->backup_name ? c->backup_name : "");
    }
    free(v);
}

/* The labels' column of the destination and options steps. */
static int label_width(struct box b)
{
    return b.w >= 70 ? 28 : 18;
}

/* One field: its label, and its value (a text field being typed shows its
 * end and the cursor). */
static void field(const struct tui_draw *d, const struct wizard *w, int f, int y, struct box b,
                  const char *label, const char *value, bool text)
{
    int lw = label_width(b);
    bool sel = w->field == f;
    bool typing = sel && text;
    tui_putf(d, y, b.x, lw, sel ? TUI_ROLE_KEY : TUI_ROLE_NORMAL, true, "%s %s", sel ? ">" : " ",
             label);
    char shown[1200];
    if (text)
        fit_tail(d, value, b.w - lw - 1 - typing, shown, sizeof shown);
    else
        snprintf(shown, sizeof shown, "%s", value);
    tui_putf(d, y, b.x + lw, b.w - lw, sel ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL, true, " %s%s",
             shown, typing ? "_" : "");
}

/* Field i of the destination step (see dest_field_ids). */
static void dest_field(const struct tui_draw *d, const struct wizard *w, int f, int y, struct box b)
{
    if (f == WZ_F_WHERE) {
        field(d, w, f, y, b, "Where",
              w->remote ? "< on another host, over ssh >" : "< on this host >", false);
    } else if (f == WZ_F_DEST) {
        field(d, w, f, y, b, "Data directory", w->dest, true);
    } else if (f == WZ_F_SSH) {
        field(d, w, f, y, b, "SSH command", w->ssh, true);
    } else {
        const struct cat_backup *bk = wz_backup(w);
        size_t i = (size_t)(f - WZ_F_TBS);
        char label[128];
        snprintf(label, sizeof label, "Tablespace %s", bk->tablespaces[i].name);
        field(d, w, f, y, b, label, w->tbs[i], true);
        int lw = label_width(b);
        if (!w->tbs[i][0] && w->field != f)
            tui_putf(d, y, b.x + lw + 1, b.w - lw - 1, TUI_ROLE_DIM, true, "(keep %s)",
                     bk->tablespaces[i].location);
    }
}

/* The destination step's fields in order (the ssh command only for a
 * remote one); *focus: the focused one's place. Free the array. */
static int *dest_field_ids(const struct wizard *w, int *n, int *focus)
{
    const struct cat_backup *bk = wz_backup(w);
    size_t tbs = bk ? (w->n_tbs < bk->n_tablespaces ? w->n_tbs : bk->n_tablespaces) : 0;
    int *ids = cel_xcalloc(3 + tbs, sizeof *ids);
    *n = 0;
    *focus = 0;
    for (int f = WZ_F_WHERE; f < WZ_F_TBS + (int)tbs; f++) {
        if (f == WZ_F_SSH && !w->remote)
            continue;
        if (f == w->field)
            *focus = *n;
        ids[(*n)++] = f;
    }
    return ids;
}

/* The question, the fields (following the focus when there are more
 * tablespaces than rows), and what Enter does (left out before a field). */
static void draw_dest(const struct tui_draw *d, const struct wizard *w, struct box b)
{
    static const char q[] =
        "Where does the recovered data directory go? It must be absent or empty.";
    static const char help[] = "Enter checks the destination (emptiness, free space, "
                               "tablespaces) with cellar recover --dry-run.";
    int n, focus;
    int *ids = dest_field_ids(w, &n, &focus);
    int rows = box_rows(b), qn = wrap_lines(q, b.w), hn = wrap_lines(help, b.w);
    bool gap = rows >= qn + n + hn + 2;
    int frows = rows - qn - hn - 2 * gap;
    if (frows < n && frows < 3) { /* the fields first */
        hn = 0;
        frows = rows - qn - gap;
    }
    int y = wrap_to(d, b.y, b.x, b.w, TUI_ROLE_NORMAL, q, b.last) + gap;
    for (size_t i = list_top((size_t)focus, frows); i < (size_t)n && frows-- > 0 && y <= b.last;)
        dest_field(d, w, ids[i++], y++, b);
    if (hn)
        wrap_to(d, y + gap, b.x, b.w, TUI_ROLE_DIM, help, b.last);
    free(ids);
}

static void draw_options(const struct tui_draw *d, const struct wizard *w, struct box b)
{
    int y = wrap_to(d, b.y, b.x, b.w, TUI_ROLE_NORMAL,
                    "Options (Left/Right or Space change a value):", b.last);
    if (box_rows(b) > WZ_N_OPT_FIELDS + 1)
        y++;
    char v[128];
    snprintf(v, sizeof v, "< %s >",
             w->action ? wz_actions[w->action] : "default (PostgreSQL pauses at a target)");
    if (y <= b.last)
        field(d, w, WZ_F_ACTION, y++, b, "Target action", v, false);
    if (y <= b.last && rc_target_defs[w->target].inclusive) {
        snprintf(v, sizeof v, "< %s >",
                 w->exclusive ? "yes: stop just before the target" : "no: include the target");
        field(d, w, WZ_F_EXCLUSIVE, y++, b, "Exclusive", v, false);
    }
    snprintf(v, sizeof v, "< %s >",
             w->timeline ? wz_timelines[w->timeline] : "default (the latest timeline)");
    if (y <= b.last)
        field(d, w, WZ_F_TIMELINE, y++, b, "Timeline", v, false);
    if (wz_server(w) && wz_server(w)->cloud_source) /* recover: never --no-get-wal */
        snprintf(v, sizeof v, "fetched from the bucket while replaying");
    else
        snprintf(v, sizeof v, "< %s >",
                 w->get_wal < 0    ? "as the server's recovery_options say"
                 : w->get_wal == 0 ? "copy the WAL into pg_wal now"
                                   : "fetch it while replaying (cellar get-wal)");
    if (y <= b.last)
        field(d, w, WZ_F_GETWAL, y++, b, "WAL", v, false);
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

/* The review as lines wrapped to the screen's width, drawn from
 * review_top. */
struct rv_line {
    enum tui_role role;
    char *text;
};
struct rv_lines {
    struct rv_line *v;
    size_t n;
    int wd;
};

static void rv_push(struct rv_lines *l, enum tui_role role, char *text)
{
    l->v = cel_xrealloc_array(l->v, l->n + 1, sizeof *l->v);
    l->v[l->n++] = (struct rv_line){role, text};
}

static void rv_add(struct rv_lines *l, enum tui_role role, const char *s)
{
    size_t len = strlen(s), at = 0, next;
    if (!len)
        rv_push(l, role, cel_xstrdup(""));
    while (at < len) {
        size_t n = next_line(s + at, l->wd, &next);
        rv_push(l, role, cel_xstrndup(s + at, n));
        at += next;
    }
}

static void rv_addf(struct rv_lines *l, enum tui_role role, const char *fmt, ...) CEL_PRINTF(3, 4);
static void rv_addf(struct rv_lines *l, enum tui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = cel_xvasprintf(fmt, ap);
    va_end(ap);
    rv_add(l, role, s);
    free(s);
}

static void rv_free(struct rv_lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].text);
    free(l->v);
}

/* What the recovery does, what the dry run found and warned about, and
 * the command line, whole. */
static void review_lines(const struct wizard *w, struct rv_lines *l)
{
    const struct cat_backup *b = wz_backup(w);
    const struct rc_target_def *t = &rc_target_defs[w->target];
    rv_addf(l, TUI_ROLE_NORMAL, "Server       %s", wz_server(w)->name);
    rv_addf(l, TUI_ROLE_NORMAL, "Backup       %s%s%s", b ? b->id : "-",
            w->backup_picked ? " (chosen by you)" : " (", w->backup_picked ? "" : "auto)");
    const char *enc = b ? cat_extra_get(b, "encryption") : NULL;
    if (enc) /* nothing is asked here: the command asks the configuration */
        rv_addf(l, TUI_ROLE_NORMAL,
                "Encrypted    %s: decrypted with encryption_passphrase_command of %s", enc,
                wz_server(w)->name);
    rv_addf(l, TUI_ROLE_NORMAL, "Target       %s%s%s%s", t->label, t->prompt ? ": " : "",
            t->prompt ? w->tgt.text : "", w->exclusive && t->inclusive ? " (exclusive)" : "");
    rv_addf(l, TUI_ROLE_NORMAL, "Destination  %s%s%s", w->remote ? w->ssh : "",
            w->remote ? ":" : "", w->dest);
    for (size_t i = 0; b && i < w->n_tbs && i < b->n_tablespaces; i++)
        rv_addf(l, TUI_ROLE_NORMAL, "Tablespace   %s -> %s", b->tablespaces[i].name,
                w->tbs[i][0] ? w->tbs[i] : b->tablespaces[i].location);
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
        rv_addf(l, TUI_ROLE_NORMAL, "Copies       %s of data%s%s%s", data,
                get_wal ? "; WAL fetched by get-wal while replaying" : " and ", get_wal ? "" : wal,
                get_wal ? "" : " of WAL");
        rv_addf(l, TUI_ROLE_NORMAL, "Free space   %s at the destination", freeb);
        rv_addf(l, TUI_ROLE_DIM, "Checked by   cellar recover --dry-run (%s)",
                jstr(w->plan, "backup_id"));
    }
    if (w->n_plan_warnings) {
        rv_add(l, TUI_ROLE_NORMAL, "");
        rv_add(l, TUI_ROLE_HEADER, "The dry run warned:");
        for (size_t i = 0; i < w->n_plan_warnings; i++)
            rv_addf(l, TUI_ROLE_WARN, "WARNING: %s", w->plan_warnings[i]);
    }
    rv_add(l, TUI_ROLE_NORMAL, "");
    rv_add(l, TUI_ROLE_HEADER, "The same recovery from a shell:");
    struct strbuf cmd = {0};
    wz_command_line(w, &cmd);
    rv_add(l, TUI_ROLE_KEY, sb_str(&cmd));
    sb_free(&cmd);
    rv_add(l, TUI_ROLE_NORMAL, "");
    rv_add(l, TUI_ROLE_NORMAL, "Enter starts the recovery; Esc goes back to change it.");
}

/* A mark on the frame's border at row y, at its right end. */
static void border_mark(const struct tui_draw *d, int y, struct box b, const char *text)
{
    int n = cols(text);
    if (n < b.w)
        tui_put(d, y, b.x + b.w - n, n, TUI_ROLE_KEY, text, false);
}

/* The review from review_top, as many lines as fit; the frame says when
 * there are more above or below. Tells the model the page (for PgUp/PgDn). */
static void draw_review(const struct tui_draw *d, struct wizard *w, struct box b)
{
    struct rv_lines l = {.wd = b.w > 0 ? b.w : 1};
    review_lines(w, &l);
    int rows = box_rows(b);
    wz_review_view(w, rows, (int)l.n);
    size_t top = (size_t)w->review_top;
    for (int i = 0; i < rows && top + (size_t)i < l.n; i++)
        tui_put(d, b.y + i, b.x, b.w, l.v[top + (size_t)i].role, l.v[top + (size_t)i].text, true);
    if (top > 0)
        border_mark(d, b.y - 1, b, d->utf8 ? " more above \u2191 " : " more above ^ ");
    if (top + (size_t)rows < l.n)
        border_mark(d, b.last + 1, b, d->utf8 ? " more below \u2193 " : " more below v ");
    rv_free(&l);
}

static void draw_run(const struct tui_draw *d, const struct wizard *w, struct box b)
{
    const struct tui_job *j = w->jobs.n ? w->jobs.v[w->jobs.n - 1] : NULL;
    if (!j)
        return;
    int y = b.y;
    tui_putf(d, y++, b.x, b.w, TUI_ROLE_NORMAL, true, "%s: %s", j->title,
             j->state == TUI_JOB_RUNNING ? (j->phase ? j->phase : "starting")
             : j->state == TUI_JOB_OK    ? "done"
                                         : "FAILED");
    if (j->has_progress && y <= b.last)
        tui_progress(d, y, b.x, b.w, j);
    y += 2;
    if (y <= b.last)
        tui_put(d, y++, b.x, b.w, TUI_ROLE_HEADER, "Log:", true);
    /* the end of the log, wrapped: the last lines say why a run failed */
    struct rv_lines l = {.wd = b.w > 0 ? b.w : 1};
    int rows = b.last - y + 1;
    for (size_t i = j->n_log > 50 ? j->n_log - 50 : 0; i < j->n_log; i++)
        rv_add(&l, TUI_ROLE_DIM, j->log[i]);
    for (size_t i = l.n > (size_t)(rows > 0 ? rows : 0) ? l.n - (size_t)rows : 0; i < l.n; i++)
        tui_put(d, y++, b.x, b.w, l.v[i].role, l.v[i].text, true);
    rv_free(&l);
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
 * what it found. Returns the next line. */
static int draw_check(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    int last = LINES - 6;
    const struct tui_job *j = w->jobs.n ? w->jobs.v[w->jobs.n - 1] : NULL;
    switch (w->check) {
    case WZ_CHECK_NONE:
        if (w->remote)
            return y;
        tui_put(d, y++, x, wd, TUI_ROLE_HEADER, "Check the copy before relying on it:", true);
        return wrap_to(d, y, x + 2, wd - 2, TUI_ROLE_NORMAL,
                       "s starts it on 127.0.0.1 (a free port, its socket in a private "
                       "directory, no archiving), waits until its recovery has ended, and runs a "
                       "read-only query.",
                       last);
    case WZ_CHECK_QUERY:
        tui_put(d, y++, x, wd, TUI_ROLE_HEADER,
                "Check query (run read-only once the recovery has ended):", true);
        tui_putf(d, y++, x, wd, TUI_ROLE_SELECTED, true, "> %s", w->query);
        return y;
    case WZ_CHECK_STARTING:
    case WZ_CHECK_STOPPING:
        if (!j)
            return y;
        tui_putf(d, y++, x, wd, TUI_ROLE_NORMAL, true, "%s: %s", j->title,
                 j->phase ? j->phase : "starting");
        for (size_t i = j->n_log > 3 ? j->n_log - 3 : 0; i < j->n_log && y <= last; i++)
            tui_put(d, y++, x + 2, wd - 2, TUI_ROLE_DIM, j->log[i], true);
        return y;
    case WZ_CHECK_DONE:
        break;
    }
    const json_t *r = w->check_result;
    const char *state = json_string_value(json_object_get(r, "state"));
    const char *lsn = json_string_value(json_object_get(r, "replay_lsn"));
    const char *when = json_string_value(json_object_get(r, "last_replay_time"));
    char *text = cel_xasprintf("The copy %s%s%s%s%s.",
                               !state                           ? "ran"
                               : strcmp(state, "paused") == 0   ? "is paused at its target (read-only)"
                               : strcmp(state, "promoted") == 0 ? "is promoted (recovery ended)"
                                                                : "shut down at its target",
                               lsn ? ", replayed up to " : "", lsn ? lsn : "",
                               when ? ", last commit " : "", when ? when : "");
    y = wrap_to(d, y, x, wd, TUI_ROLE_OK, text, last);
    free(text);
    const char *query = json_string_value(json_object_get(r, "query"));
    if (query && y <= last) {
        tui_putf(d, y++, x, wd, TUI_ROLE_DIM, true, "%s", query);
        y = draw_rows(d, r, y, x + 2, wd - 2, last - (w->copy_running ? 1 : 0));
    }
    if (w->copy_running && y <= last) /* how to connect is among the next steps */
        tui_put(d, y++, x, wd, TUI_ROLE_KEY, "x stops it (cellar stop-recovered)", true);
    return y;
}

/* The next steps, one wrapped line each. */
static int draw_next(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    tui_put(d, y++, x, wd, TUI_ROLE_HEADER, "Next:", true);
    struct strbuf next = {0};
    wz_next_steps(w, &next);
    char *save = NULL;
    for (char *line = strtok_r(next.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        y = wrap(d, y, x + 2, wd - 2, TUI_ROLE_KEY, line);
    sb_free(&next);
    return y;
}

/* Once a check has started, what it found comes first: on a small screen
 * the next steps give way to it. */
static void draw_end(const struct tui_draw *d, const struct wizard *w, int y, int x, int wd)
{
    const struct cat_backup *b = wz_backup(w);
    char *done = cel_xasprintf("Backup %s of server %s is recovered into %s%s%s.", b ? b->id : "-",
                               wz_server(w)->name, w->remote ? w->ssh : "",
                               w->remote ? ":" : "", w->dest);
    y = wrap(d, y, x, wd, TUI_ROLE_OK, done) + 1;
    free(done);
    if (w->check == WZ_CHECK_NONE) {
        y = draw_next(d, w, y, x, wd);
        draw_check(d, w, y + 1, x, wd);
    } else {
        y = draw_check(d, w, y, x, wd);
        if (y + 1 <= LINES - 6)
            draw_next(d, w, y + 1, x, wd);
    }
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

/* The longer text when it fits in W columns, else the shorter one. */
static const char *fit(const char *longer, const char *shorter, int W)
{
    return cols(longer) <= W ? longer : shorter;
}

static const char *step_keys(const struct wizard *w, int W)
{
    switch (w->step) {
    case WZ_SERVER:
        if (w->jobs.n && w->jobs.v[w->jobs.n - 1]->state == TUI_JOB_RUNNING)
            return "Esc stops reading the catalogue";
        return "Up/Down choose  Enter next  Esc close";
    case WZ_TARGET:
    case WZ_BACKUP:
        return "Up/Down choose  Enter next  Esc back";
    case WZ_VALUE:
        return fit("type the value  Backspace / Ctrl-U erase  Enter next  Esc back",
                   "Ctrl-U erase  Enter next  Esc back", W);
    case WZ_DEST:
        return fit("Up/Down field  Ctrl-U erase  Left/Right local/remote  Enter check  Esc back",
                   "Up/Down field  Left/Right where  Enter check  Esc back", W);
    case WZ_OPTIONS:
        return "Up/Down field  Left/Right change  Enter review  Esc back";
    case WZ_REVIEW:
        if (w->review_lines > w->review_rows)
            return "Up/Down PgUp/PgDn scroll  Enter run  Esc back";
        return "Enter run  Esc back";
    case WZ_RUN:
        if (w->jobs.n && w->jobs.v[w->jobs.n - 1]->state != TUI_JOB_RUNNING)
            return "Enter or Esc: back to the review";
        return w->close_quits ? "the recovery is running: its end screen follows"
                              : fit("Esc hides the wizard (the recovery goes on in the activity "
                                    "pane)",
                                    "Esc hides the wizard (the recovery goes on)", W);
    default:
        return end_keys(w);
    }
}

void tui_wizard_draw(const struct tui_draw *d, struct wizard *w)
{
    int H = LINES, W = COLS;
    const struct cfg_server *s = wz_server(w);
    tui_putf(d, 0, 0, W, TUI_ROLE_TITLE, true, " cellar recovery wizard%s%s", s ? ": server " : "",
             s ? s->name : "");
    draw_steps(d, w, 1, W);
    /* rows: title, steps, the frame, the step's message under it (two
     * lines, three for a long one on a tall screen: the end step draws
     * down to LINES - 6, which stays inside the frame), keys */
    int m = 2;
    if (w->msg[0] && H >= 24 && wrap_lines(w->msg, W - 2) > 2)
        m = 3;
    int fh = H - 3 - m;
    tui_frame(d, 2, 0, fh, W, step_names[w->step], true);
    struct box b = {.y = 3, .x = 2, .w = W - 4, .last = fh};
    int y = 3, x = 2, wd = W - 4;
    switch (w->step) {
    case WZ_SERVER:
        draw_servers(d, w, b);
        break;
    case WZ_TARGET:
        draw_targets(d, w, b);
        break;
    case WZ_VALUE:
        draw_value(d, w, b);
        break;
    case WZ_BACKUP:
        draw_backups(d, w, b);
        break;
    case WZ_DEST:
        draw_dest(d, w, b);
        break;
    case WZ_OPTIONS:
        draw_options(d, w, b);
        break;
    case WZ_REVIEW:
        draw_review(d, w, b);
        break;
    case WZ_RUN:
        draw_run(d, w, b);
        break;
    default:
        draw_end(d, w, y, x, wd);
        break;
    }
    /* the step's message, in place under the frame */
    if (w->msg[0])
        wrap_to(d, H - 1 - m, 1, W - 2, level_role(w->msg_level), w->msg, H - 2);
    tui_put(d, H - 1, 0, W, TUI_ROLE_STATUS, step_keys(w, W), true);
}
