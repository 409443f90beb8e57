/*
 * first_run.h - what the console shows before there is anything to back
 * up: no configuration file at all, or a configuration without a server.
 *
 * Both screens say what to do next (where cellar looked, a minimal server
 * section, `make demo`, `cellar --help`, the documentation) instead of an
 * error. This header does not include curses; first_run.c draws.
 */
#ifndef CEL_TUI_FIRST_RUN_H
#define CEL_TUI_FIRST_RUN_H

#include <signal.h>

#include "tui/draw.h"

/* The first-run screen, until q (or *stop becomes non-zero): what cellar
 * is, the paths it looked at for a configuration (searched, one per line),
 * a minimal configuration and where to go from there. j/k scroll when the
 * terminal is too short; a resize redraws. curses must be set up (keypad,
 * a getch timeout) by the caller. */
void tui_first_run(const struct tui_draw *d, const char *searched,
                   const volatile sig_atomic_t *stop);

/* In the rectangle y, x, h, w of the main screen: the configuration at
 * path has no server, and how to add one. */
void tui_draw_no_servers(const struct tui_draw *d, int y, int x, int h, int w, const char *path);

#endif
