/*
 * keys.c - the key table (see keys.h).
 */
#include "tui/keys.h"

const struct tui_key tui_keys[] = {
    {'k', "k / Up", TUI_ACT_UP, "move up in the pane", NULL},
    {'j', "j / Down", TUI_ACT_DOWN, "move down in the pane", NULL},
    {'\t', "Tab", TUI_ACT_NEXT_PANE, "next pane (servers, backups, details, activity)", NULL},
    {'h', "h / S-Tab", TUI_ACT_PREV_PANE, "previous pane", NULL},
    {'\n', "Enter", TUI_ACT_DETAILS, "open the selected server's backups / a backup's details",
     "cellar show-backup SERVER ID"},
    {'s', "s", TUI_ACT_SORT, "sort the backups by the next column", NULL},
    {'S', "S", TUI_ACT_SORT_REVERSE, "reverse the sort order", NULL},
    {'/', "/", TUI_ACT_FILTER, "filter the backups by a substring (Esc clears)", NULL},
    {'b', "b", TUI_ACT_BACKUP, "back up the selected server", "cellar backup --wait SERVER"},
    {'c', "c", TUI_ACT_CHECK, "check the selected server", "cellar check SERVER"},
    {'a', "a", TUI_ACT_ARCHIVE, "archive the server's WAL now", "cellar archive-wal SERVER"},
    {'w', "w", TUI_ACT_STREAM,
     "start or stop WAL streaming (receive-wal) of the selected server",
     "cellar receive-wal --detach SERVER / --stop SERVER"},
    {'d', "d", TUI_ACT_DELETE, "delete the selected backup (asks first)",
     "cellar delete SERVER ID"},
    {'K', "K", TUI_ACT_KEEP,
     "keep the selected backup whatever the retention policy says, or release its keep (asks "
     "first)",
     "cellar keep SERVER ID --target full / --release"},
    {'r', "r", TUI_ACT_RECOVER, "recover the selected server with the guided wizard",
     "cellar recover --wizard SERVER"},
    {'x', "x", TUI_ACT_DISMISS, "dismiss a finished operation", NULL},
    {'l', "l", TUI_ACT_LOG, "show the log of the selected operation", NULL},
    {'R', "R", TUI_ACT_RELOAD, "reload the catalogue", "cellar list-backup SERVER"},
    {'?', "?", TUI_ACT_HELP, "this help", "cellar --help"},
    {'q', "q", TUI_ACT_QUIT, "quit (asks when operations are running)", NULL},
};

const size_t tui_n_keys = sizeof tui_keys / sizeof tui_keys[0];

enum tui_action tui_key_action(int ch)
{
    for (size_t i = 0; i < tui_n_keys; i++)
        if (tui_keys[i].key == ch)
            return tui_keys[i].action;
    return TUI_ACT_NONE;
}
