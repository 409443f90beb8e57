/*
 * first_run.c - the screens of a console with nothing to show yet (see
 * first_run.h).
 *
 * The first-run screen is a list of lines (text, role, indent) built once
 * and drawn from a scroll offset, so it reads the same at 80x24 and at any
 * larger size and scrolls on a smaller one. The example server section is
 * shared with the no-servers pane of the main screen: one text to keep
 * right. The paths cellar looked at are wrapped to the width, two spaces
 * apart, so the six of them take two lines at 80 columns.
 */
#include <stdlib.h>
#include <string.h>

#include "cel.h"
#include "strbuf.h"
#include "tui/first_run.h"

/* curses last: the core headers refuse to be read after it */
#include <curses.h>

/* A minimal server section, as the tutorial starts (doc/tutorial.md). */
static const char *const example_server[] = {
    "[pg]",
    "description = \"main PostgreSQL server\"",
    "conninfo = host=127.0.0.1 user=postgres dbname=postgres",
    "backup_method = local-rsync",
};

/* What PostgreSQL needs for it (postgresql.conf), 76 columns at most. */
static const char archive_hint[] =
    "and archive: archive_mode = on, archive_command = 'cellar put-wal pg %p'";

struct line {
    char *text;
    enum tui_role role;
    int indent;
};

struct lines {
    struct line *v;
    size_t n;
};

static void add(struct lines *ls, enum tui_role role, int indent, const char *text)
{
    ls->v = cel_xrealloc_array(ls->v, ls->n + 1, sizeof *ls->v);
    ls->v[ls->n++] = (struct line){cel_xstrdup(text), role, indent};
}

static void lines_free(struct lines *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->v[i].text);
    free(ls->v);
    ls->v = NULL;
    ls->n = 0;
}

/* The words of list (one per line) wrapped into lines of at most w
 * columns, two spaces apart, indented by indent. */
static void add_wrapped(struct lines *ls, int indent, int w, const char *list)
{
    struct strbuf cur = {0};
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, "\n");
        if (cur.len && (int)(cur.len + 2 + len) > w) {
            add(ls, TUI_ROLE_NORMAL, indent, sb_str(&cur));
            sb_reset(&cur);
        }
        sb_appendf(&cur, "%s%.*s", cur.len ? "  " : "", (int)len, p);
        p += len;
        if (*p == '\n')
            p++;
    }
    if (cur.len)
        add(ls, TUI_ROLE_NORMAL, indent, sb_str(&cur));
    sb_free(&cur);
}

static void build(struct lines *ls, const char *searched, int w)
{
    add(ls, TUI_ROLE_NORMAL, 0, "");
    add(ls, TUI_ROLE_NORMAL, 2,
        "cellar backs up PostgreSQL servers: base backups, a compressed WAL archive");
    add(ls, TUI_ROLE_NORMAL, 2,
        "and point-in-time recovery, with Barman's configuration files and catalogue.");
    add(ls, TUI_ROLE_NORMAL, 0, "");
    add(ls, TUI_ROLE_WARN, 2, "No configuration file was found. cellar looked for:");
    add_wrapped(ls, 4, w - 5, searched && *searched ? searched : "(nowhere: HOME is not set)");
    add(ls, TUI_ROLE_NORMAL, 0, "");
    add(ls, TUI_ROLE_NORMAL, 2, "Create the first of them (or run cellar -c FILE); a minimal one:");
    add(ls, TUI_ROLE_KEY, 4, "[cellar]");
    add(ls, TUI_ROLE_KEY, 4, "barman_home = /var/lib/cellar");
    for (size_t i = 0; i < CEL_ARRAY_LEN(example_server); i++)
        add(ls, TUI_ROLE_KEY, 4, example_server[i]);
    add(ls, TUI_ROLE_NORMAL, 2, archive_hint);
    add(ls, TUI_ROLE_NORMAL, 0, "");
    add(ls, TUI_ROLE_NORMAL, 2, "make demo        try cellar on a sandbox PostgreSQL cluster");
    add(ls, TUI_ROLE_NORMAL, 2, "cellar --help    the commands; man cellar.conf: every option");
    add(ls, TUI_ROLE_NORMAL, 2,
        "doc/tutorial.md  from a configuration to a point-in-time recovery");
}

static void draw_first_run(const struct tui_draw *d, const char *searched, size_t *top)
{
    erase();
    int H = LINES, W = COLS;
    struct lines ls = {0};
    build(&ls, searched, W);
    tui_putf(d, 0, 0, W, TUI_ROLE_TITLE, true, " cellar %s  no configuration file", CEL_VERSION);
    int rows = H - 2; /* between the title and the status line */
    if (rows < 1)
        rows = 1;
    if (*top + (size_t)rows > ls.n)
        *top = ls.n > (size_t)rows ? ls.n - (size_t)rows : 0;
    for (int r = 0; r < rows && *top + (size_t)r < ls.n; r++) {
        const struct line *l = &ls.v[*top + (size_t)r];
        tui_put(d, 1 + r, l->indent, W - l->indent, l->role, l->text, false);
    }
    bool more = ls.n > (size_t)rows;
    tui_putf(d, H - 1, 0, W, TUI_ROLE_STATUS, true, "q quit%s", more ? "  j/k scroll" : "");
    lines_free(&ls);
    wnoutrefresh(stdscr);
    doupdate();
}

void tui_first_run(const struct tui_draw *d, const char *searched,
                   const volatile sig_atomic_t *stop)
{
    size_t top = 0;
    while (!*stop) {
        draw_first_run(d, searched, &top);
        int ch = getch();
        if (ch == ERR || ch == KEY_RESIZE)
            continue;
        if (ch == 'q' || ch == 'Q')
            return;
        if ((ch == 'j' || ch == KEY_DOWN) && top < 1000)
            top++;
        else if ((ch == 'k' || ch == KEY_UP) && top)
            top--;
    }
}

void tui_draw_no_servers(const struct tui_draw *d, int y, int x, int h, int w, const char *path)
{
    tui_frame(d, y, x, h, w, "Getting started", true);
    int iw = w - 4, r = y + 1, end = y + h - 1;
    struct strbuf sb = {0};
    sb_appendf(&sb, "No server is configured in %s.", path ? path : "the configuration");
    const struct {
        enum tui_role role;
        int indent;
        const char *text;
    } text[] = {
        {TUI_ROLE_WARN, 0, sb_str(&sb)},
        {TUI_ROLE_NORMAL, 0, "Add a section for each PostgreSQL server, for example:"},
        {TUI_ROLE_KEY, 2, example_server[0]},
        {TUI_ROLE_KEY, 2, example_server[1]},
        {TUI_ROLE_KEY, 2, example_server[2]},
        {TUI_ROLE_KEY, 2, example_server[3]},
        {TUI_ROLE_NORMAL, 0, archive_hint},
        {TUI_ROLE_NORMAL, 0, "then quit (q) and run cellar again: the server shows here."},
        {TUI_ROLE_DIM, 0, "cellar --help, man cellar.conf and doc/tutorial.md say more; make demo"},
        {TUI_ROLE_DIM, 0, "tries it on a sandbox PostgreSQL cluster."},
    };
    for (size_t i = 0; i < CEL_ARRAY_LEN(text) && r < end; i++, r++)
        tui_put(d, r, x + 2 + text[i].indent, iw - text[i].indent, text[i].role, text[i].text,
                false);
    sb_free(&sb);
}
