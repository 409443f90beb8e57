/*
 * retention.h - retention policies: REDUNDANCY n and RECOVERY WINDOW OF n
 * DAYS|WEEKS|MONTHS, parsed as Barman parses them (case-insensitive, an
 * optional plural 's', a month is 31 days).
 *
 * cellar is stricter than Barman in one place: a policy of 0 (REDUNDANCY 0,
 * RECOVERY WINDOW OF 0 DAYS) marks every backup obsolete, so it is refused.
 */
#ifndef CEL_RETENTION_H
#define CEL_RETENTION_H

#include "error.h"

enum ret_kind { RET_NONE = 0, RET_REDUNDANCY, RET_WINDOW };
enum ret_unit { RET_DAYS, RET_WEEKS, RET_MONTHS };

struct ret_policy {
    enum ret_kind kind; /* RET_NONE: no policy */
    unsigned n;
    enum ret_unit unit; /* RET_WINDOW only */
};

/* The accepted forms, for messages and docs. */
#define RET_POLICY_ACCEPTED "'REDUNDANCY n' or 'RECOVERY WINDOW OF n DAYS|WEEKS|MONTHS', n >= 1"

/* Parse text into out. -CEL_E_INVALID with a message quoting the text. */
int ret_policy_parse(const char *text, struct ret_policy *out, struct cel_err *err);
/* "REDUNDANCY 2", "RECOVERY WINDOW OF 4 WEEKS", "" for none. */
void ret_policy_format(const struct ret_policy *p, char *out, size_t size);
/* Length of a recovery window in seconds (0 for other kinds). */
int64_t ret_window_seconds(const struct ret_policy *p);

#endif
