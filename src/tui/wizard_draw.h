/*
 * wizard_draw.h - drawing the recovery wizard (wizard_draw.c, curses).
 */
#ifndef CEL_TUI_WIZARD_DRAW_H
#define CEL_TUI_WIZARD_DRAW_H

#include "tui/draw.h"
#include "tui/wizard.h"

/* The whole screen: the wizard's title and steps, the current step, its
 * message and its keys. */
void tui_wizard_draw(const struct tui_draw *d, const struct wizard *w);

#endif
