/*
 * pane_details.c - the details pane: the server's recoverable window as a
 * timeline, then what `cellar show-backup` prints about the backup Enter
 * was pressed on (its text rendering, kept by the model: sizes humanised,
 * times as the catalogue has them, the WAL range), one line a line.
 * Up/Down scroll.
 */
#include <string.h>

#include "tui/console.h"

struct details_state {
    size_t top;     /* first line of the text shown */
    unsigned shown; /* the console's details_gen it is about: a new one starts on top */
};

static void details_draw(struct console *c, struct pane *p, struct tui_rect rc, bool focused)
{
    struct details_state *st = p->state;
    const struct tui_draw *d = &c->dr;
    char title[128];
    snprintf(title, sizeof title, "Details%s%s", c->details_id ? " of " : "",
             c->details_id ? c->details_id : "");
    int y = rc.y, x = rc.x;
    tui_pane_frame(d, y, x, rc.h, rc.w, title, focused);
    int iw = rc.w - 2, rows = rc.h - 2;
    if (!c->details) {
        tui_put(d, y + 1, x + 2, iw - 1, TUI_ROLE_DIM,
                "Enter on a backup shows everything show-backup knows", false);
        return;
    }
    /* the server's recoverable window on top, when there is room for it */
    if (c->has_win && rows >= 8) {
        int used = tui_timeline(d, y + 1, x + 2, iw - 2, &c->win, c->details_id, 0, rows >= 14);
        y += used + 1;
        rows -= used + 1;
    }
    /* show-backup's lines; its first ("Backup ID:") is the pane's title */
    if (st->shown != c->details_gen) {
        st->shown = c->details_gen;
        st->top = 0;
    }
    const char *text = c->details;
    if (strncmp(text, "Backup ", 7) == 0 && strchr(text, '\n'))
        text = strchr(text, '\n') + 1;
    size_t n = 0;
    for (const char *q = text; *q; q++)
        n += *q == '\n';
    if (st->top + (size_t)rows > n)
        st->top = n > (size_t)rows ? n - (size_t)rows : 0;
    const char *line = text;
    for (size_t i = 0; i < st->top && line; i++) {
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    for (int r = 0; r < rows && line && *line; r++) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        tui_putf(d, y + 1 + r, x + 1, iw, TUI_ROLE_NORMAL, true, "%.*s", (int)len, line);
        line = nl ? nl + 1 : NULL;
    }
}

static unsigned details_key(struct console *c, struct pane *p, enum tui_action a, int ch)
{
    (void)c, (void)ch;
    struct details_state *st = p->state;
    switch (a) {
    case TUI_ACT_UP:
        if (st->top > 0)
            st->top--;
        return PANE_HANDLED | PANE_REDRAW;
    case TUI_ACT_DOWN:
        st->top++; /* the drawing keeps it within the text */
        return PANE_HANDLED | PANE_REDRAW;
    case TUI_ACT_DETAILS:
        return PANE_HANDLED;
    default:
        return 0;
    }
}

const struct pane_ops pane_details = {
    .name = "details",
    .slot = PANE_SLOT_SIDE,
    .state_size = sizeof(struct details_state),
    .draw = details_draw,
    .key = details_key,
};
