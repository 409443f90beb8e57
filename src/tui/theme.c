/*
 * theme.c - reading theme files into role tables.
 *
 * The default theme is a table here, so the console has colours even
 * without any theme file; a file overrides the roles it names. Any error
 * leaves the default in place and is reported with its line, so a typo in
 * a theme never leaves the console unreadable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel.h"
#include "strbuf.h"
#include "tui/theme.h"

static const char *const role_names[TUI_ROLE_COUNT] = {
    [TUI_ROLE_NORMAL] = "normal",
    [TUI_ROLE_BORDER] = "border",
    [TUI_ROLE_BORDER_FOCUS] = "border_focus",
    [TUI_ROLE_TITLE] = "title",
    [TUI_ROLE_HEADER] = "header",
    [TUI_ROLE_SELECTED] = "selected",
    [TUI_ROLE_SELECTED_IDLE] = "selected_idle",
    [TUI_ROLE_OK] = "ok",
    [TUI_ROLE_WARN] = "warn",
    [TUI_ROLE_ERROR] = "error",
    [TUI_ROLE_DIM] = "dim",
    [TUI_ROLE_PROGRESS] = "progress",
    [TUI_ROLE_STATUS] = "status",
    [TUI_ROLE_KEY] = "key",
};

static const char *const color_names[] = {"black", "red",     "green", "yellow",
                                          "blue",  "magenta", "cyan",  "white"};

static const struct {
    const char *name;
    unsigned flag;
} attr_names[] = {
    {"bold", TUI_ATTR_BOLD},
    {"reverse", TUI_ATTR_REVERSE},
    {"underline", TUI_ATTR_UNDERLINE},
    {"dim", TUI_ATTR_DIM},
    {"none", 0},
};

void tui_theme_default(struct tui_theme *t)
{
    static const struct tui_style def[TUI_ROLE_COUNT] = {
        [TUI_ROLE_NORMAL] = {TUI_COLOR_DEFAULT, TUI_COLOR_DEFAULT, 0},
        [TUI_ROLE_BORDER] = {TUI_COLOR_BLUE, TUI_COLOR_DEFAULT, 0},
        [TUI_ROLE_BORDER_FOCUS] = {TUI_COLOR_CYAN, TUI_COLOR_DEFAULT, TUI_ATTR_BOLD},
        [TUI_ROLE_TITLE] = {TUI_COLOR_WHITE, TUI_COLOR_BLUE, TUI_ATTR_BOLD},
        [TUI_ROLE_HEADER] = {TUI_COLOR_DEFAULT, TUI_COLOR_DEFAULT, TUI_ATTR_BOLD | TUI_ATTR_UNDERLINE},
        [TUI_ROLE_SELECTED] = {TUI_COLOR_BLACK, TUI_COLOR_CYAN, 0},
        [TUI_ROLE_SELECTED_IDLE] = {TUI_COLOR_CYAN, TUI_COLOR_DEFAULT, 0},
        [TUI_ROLE_OK] = {TUI_COLOR_GREEN, TUI_COLOR_DEFAULT, 0},
        [TUI_ROLE_WARN] = {TUI_COLOR_YELLOW, TUI_COLOR_DEFAULT, TUI_ATTR_BOLD},
        [TUI_ROLE_ERROR] = {TUI_COLOR_RED, TUI_COLOR_DEFAULT, TUI_ATTR_BOLD},
        [TUI_ROLE_DIM] = {TUI_COLOR_DEFAULT, TUI_COLOR_DEFAULT, TUI_ATTR_DIM},
        [TUI_ROLE_PROGRESS] = {TUI_COLOR_BLACK, TUI_COLOR_GREEN, 0},
        [TUI_ROLE_STATUS] = {TUI_COLOR_BLACK, TUI_COLOR_WHITE, 0},
        [TUI_ROLE_KEY] = {TUI_COLOR_YELLOW, TUI_COLOR_DEFAULT, TUI_ATTR_BOLD},
    };
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "default");
    memcpy(t->roles, def, sizeof def);
}

const char *tui_role_name(enum tui_role r)
{
    return (int)r >= 0 && r < TUI_ROLE_COUNT ? role_names[r] : NULL;
}

/* Trim spaces and tabs at both ends of s in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int parse_color(const char *s, int *out)
{
    if (strcmp(s, "default") == 0) {
        *out = TUI_COLOR_DEFAULT;
        return 0;
    }
    for (size_t i = 0; i < CEL_ARRAY_LEN(color_names); i++)
        if (strcmp(s, color_names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    return -1;
}

/* "bold+underline", "bold underline", "none", "" */
static int parse_attrs(char *s, unsigned *out, const char **bad)
{
    *out = 0;
    for (char *tok = strtok(s, "+ \t"); tok; tok = strtok(NULL, "+ \t")) {
        size_t i = 0;
        while (i < CEL_ARRAY_LEN(attr_names) && strcmp(tok, attr_names[i].name) != 0)
            i++;
        if (i == CEL_ARRAY_LEN(attr_names)) {
            *bad = tok;
            return -1;
        }
        *out |= attr_names[i].flag;
    }
    return 0;
}

/* One "role = fg,bg,attrs" line into t; returns -1 with msg set. */
static int parse_line(char *line, struct tui_theme *t, struct strbuf *msg)
{
    char *eq = strchr(line, '=');
    if (!eq) {
        sb_append(msg, "expected 'element = foreground,background,attributes'");
        return -1;
    }
    *eq = '\0';
    const char *role = trim(line);
    int r = 0;
    while (r < TUI_ROLE_COUNT && strcmp(role, role_names[r]) != 0)
        r++;
    if (r == TUI_ROLE_COUNT) {
        sb_appendf(msg, "unknown element '%s'", role);
        return -1;
    }
    char *fields[3] = {NULL, NULL, NULL};
    char *p = eq + 1;
    for (int i = 0; i < 3 && p; i++) {
        fields[i] = p;
        p = strchr(p, ',');
        if (p)
            *p++ = '\0';
    }
    if (p || !fields[1]) {
        sb_appendf(msg, "%s: expected foreground,background[,attributes]", role);
        return -1;
    }
    struct tui_style st = {0};
    const char *fg = trim(fields[0]), *bg = trim(fields[1]);
    if (parse_color(fg, &st.fg) < 0 || parse_color(bg, &st.bg) < 0) {
        sb_appendf(msg,
                   "%s: unknown colour '%s' (default, black, red, green, yellow, blue, magenta, "
                   "cyan or white)",
                   role, parse_color(fg, &st.fg) < 0 ? fg : bg);
        return -1;
    }
    const char *bad = NULL;
    if (fields[2] && parse_attrs(fields[2], &st.attrs, &bad) < 0) {
        sb_appendf(msg, "%s: unknown attribute '%s' (bold, reverse, underline, dim or none)",
                   role, bad);
        return -1;
    }
    t->roles[r] = st;
    return 0;
}

int tui_theme_parse(const char *text, const char *name, struct tui_theme *t, struct cel_err *err)
{
    tui_theme_default(t);
    char *copy = cel_xstrdup(text);
    int rc = 0, lineno = 0;
    char *save = NULL;
    for (char *p = copy; p; p = save) {
        save = strchr(p, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        char *line = trim(p);
        if (!*line || *line == ';' || *line == '#' || *line == '[')
            continue;
        struct strbuf msg = {0};
        if (parse_line(line, t, &msg) < 0) {
            rc = cel_err_set(err, CEL_E_CONFIG, "%s:%d: %s", name, lineno, sb_str(&msg));
            sb_free(&msg);
            break;
        }
    }
    free(copy);
    if (rc < 0) {
        tui_theme_default(t);
        return rc;
    }
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t len = strcspn(base, ".");
    snprintf(t->name, sizeof t->name, "%.*s", (int)(len < 63 ? len : 63), base);
    return 0;
}

int tui_theme_load(const char *name, const char *const *dirs, size_t n, struct tui_theme *t,
                   struct cel_err *err)
{
    tui_theme_default(t);
    if (!*name || strchr(name, '/'))
        return cel_err_set(err, CEL_E_CONFIG, "invalid theme name '%s'", name);
    struct strbuf where = {0};
    for (size_t i = 0; i < n; i++) {
        if (!dirs[i])
            continue;
        char *path = cel_xasprintf("%s/%s.theme", dirs[i], name);
        FILE *f = fopen(path, "r");
        if (!f) {
            sb_appendf(&where, "%s'%s'", where.len ? ", " : "", dirs[i]);
            free(path);
            continue;
        }
        struct strbuf text = {0};
        char buf[4096];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0)
            sb_appendn(&text, buf, got);
        int read_err = ferror(f);
        fclose(f);
        int rc = read_err ? cel_err_set(err, CEL_E_IO, "cannot read '%s'", path)
                          : tui_theme_parse(sb_str(&text), path, t, err);
        if (rc == 0)
            snprintf(t->name, sizeof t->name, "%s", name);
        sb_free(&text);
        sb_free(&where);
        free(path);
        return rc;
    }
    int rc = cel_err_set(err, CEL_E_NOT_FOUND, "theme '%s' not found in %s", name,
                         where.len ? sb_str(&where) : "no directory");
    sb_free(&where);
    return rc;
}
