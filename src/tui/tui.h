/*
 * tui.h - the interactive console (`cellar` without a command).
 */
#ifndef CEL_TUI_H
#define CEL_TUI_H

#include "config.h"

struct tui_opts {
    const struct cfg *cfg; /* loaded by main; borrowed. NULL: there is no
                              configuration file, show the first-run screen */
    const char *searched;  /* with cfg NULL: the paths looked at, one per line */
    const char *theme;     /* --theme, NULL: the configuration's theme or "default" */
    const char *wizard_server; /* recover --wizard SERVER: open the recovery wizard on it,
                                  and end when it closes; NULL: the main screen */
};

/* Run the console until the user quits (without a configuration: the
 * first-run screen). Returns 0, or a negative code with err set when the
 * terminal could not be used, or, with wizard_server, when the last
 * recovery the wizard ran failed (the code the batch recover ended with,
 * err saying "the recovery failed: ..."). Blocks (it is the UI loop). */
int tui_run(const struct tui_opts *opts, struct cel_err *err);

#endif
