/*
 * wizard_draw.h - drawing the recovery wizard (wizard_draw.c, curses).
 */
#ifndef CEL_TUI_WIZARD_DRAW_H
#define CEL_TUI_WIZARD_DRAW_H

#include "tui/draw.h"
#include "tui/wizard.h"

/* The whole screen: the wizard's title and steps, the current step, its
 * message and its keys, fitted to the screen. Drawing the review records
 * its page in w (wz_review_view), so that keys can scroll it. */
void tui_wizard_draw(const struct tui_draw *d, struct wizard *w);

#endif
