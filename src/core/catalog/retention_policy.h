/*
 * retention_policy.h - retention policies: REDUNDANCY n and RECOVERY WINDOW OF n
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

/* ---- classification (Barman 3.4's rules, reference section 8) ---- */

/* A backup's retention mark, as list-backup and show-backup print it. */
enum ret_mark {
    RET_MARK_NONE,        /* not classified: not DONE, or no policy ("-") */
    RET_MARK_VALID,
    RET_MARK_OBSOLETE,
    RET_MARK_POTENTIALLY_OBSOLETE, /* kept only by minimum_redundancy ("OBSOLETE*") */
    RET_MARK_KEEP_FULL,
    RET_MARK_KEEP_STANDALONE,
};

/* What classification needs of one backup, oldest first as in the
 * catalogue (Barman walks backups by ID, newest first). */
struct ret_backup {
    bool done;            /* status DONE: only those are classified */
    double end_time;      /* seconds since the epoch; 0 when unknown */
    enum ret_mark keep;   /* RET_MARK_KEEP_* from annotations/keep, else NONE */
};

/* Classify n backups (oldest first) under policy p with minimum_redundancy
 * min_redundancy at time now (seconds since the epoch); marks[i] gets each
 * one's mark. Returns the effective redundancy for REDUNDANCY (max(n,
 * min_redundancy): *raised is set when minimum_redundancy raised it, for the
 * warning Barman gives), 0 for the other kinds. raised may be NULL.
 *
 * Rules (Barman 3.4's _backup_report): backups that are not DONE get
 * RET_MARK_NONE and are not counted; so does every backup under RET_NONE.
 *  - REDUNDANCY: newest first, every DONE backup counts (kept ones too); a
 *    keep annotation gives its KEEP mark, else the first `effective` ones
 *    are VALID and the rest OBSOLETE.
 *  - WINDOW: the point of recoverability is now - ret_window_seconds(p),
 *    reckoned on the local wall clock as Barman does (ts_local_minus: an hour
 *    off the plain difference across a change of the local offset).
 *    Newest first, backups are VALID (or KEEP) and counted until one that
 *    ended strictly before that point has been marked: it stays VALID, being
 *    needed to recover to the start of the window. Older ones are KEEP or,
 *    while fewer than min_redundancy have been counted, POTENTIALLY_OBSOLETE
 *    (counted, kept ones too), else OBSOLETE.
 *    An unknown end time (0; Barman fails on it) never closes the window:
 *    deleting is the irreversible side, so such a backup keeps the older
 *    ones in play.
 * Never fails, never blocks. */
unsigned ret_classify(const struct ret_policy *p, unsigned min_redundancy, double now,
                      const struct ret_backup *backups, size_t n, enum ret_mark *marks,
                      bool *raised);

/* "VALID", "OBSOLETE", "POTENTIALLY_OBSOLETE", "KEEP:FULL", "KEEP:STANDALONE",
 * "-" for RET_MARK_NONE. Static strings. */
const char *ret_mark_name(enum ret_mark m);
/* Barman's spelling, as list-backup and show-backup print it: the same as
 * ret_mark_name except "OBSOLETE*" for POTENTIALLY_OBSOLETE. Static strings. */
const char *ret_mark_short(enum ret_mark m);

#endif
