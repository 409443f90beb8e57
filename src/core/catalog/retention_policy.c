/*
 * retention_policy.c - retention policies: parsing and the classification of a
 * server's backups.
 *
 * Parsing: a tiny word scanner stands in for Barman's regular expressions:
 * words are separated by blanks, compared case-insensitively, and the number
 * must be plain decimal digits.
 *
 * Classification follows Barman 3.4's _backup_report of each policy: one
 * walk over the backups, newest first, with a counter of the backups that
 * count towards redundancy. The caller gathers what the walk needs (status
 * DONE, end time, keep annotation) so this file reads no disk.
 */
#include <ctype.h>
#include <errno.h>
#include <strings.h>

#include "retention_policy.h"
#include "ts.h"

#define MAX_WORDS 6

/* Split text into up to MAX_WORDS blank-separated words in buf. Returns the
 * number of words, or MAX_WORDS + 1 when there are more. */
static int split_words(const char *text, char *buf, size_t size, char *words[MAX_WORDS])
{
    cel_strlcpy(buf, text, size);
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
        if (n == MAX_WORDS)
            return MAX_WORDS + 1;
        words[n++] = w;
    }
    return n;
}

/* Parse a positive decimal count. */
static bool parse_count(const char *s, unsigned *out)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    errno = 0;
    unsigned long v = strtoul(s, NULL, 10);
    if (errno || v > 100000)
        return false;
    *out = (unsigned)v;
    return true;
}

/* Match a unit word with an optional plural 's'. */
static bool unit_is(const char *word, const char *unit)
{
    size_t len = strlen(unit);
    return strncasecmp(word, unit, len) == 0 &&
           (word[len] == '\0' || ((word[len] == 's' || word[len] == 'S') && word[len + 1] == '\0'));
}

int ret_policy_parse(const char *text, struct ret_policy *out, struct cel_err *err)
{
    char buf[256];
    char *w[MAX_WORDS];
    int n = split_words(text, buf, sizeof buf, w);
    struct ret_policy p = {0};
    if (n == 2 && strcasecmp(w[0], "redundancy") == 0 && parse_count(w[1], &p.n)) {
        p.kind = RET_REDUNDANCY;
    } else if (n == 5 && strcasecmp(w[0], "recovery") == 0 && strcasecmp(w[1], "window") == 0 &&
               strcasecmp(w[2], "of") == 0 && parse_count(w[3], &p.n)) {
        p.kind = RET_WINDOW;
        if (unit_is(w[4], "day"))
            p.unit = RET_DAYS;
        else if (unit_is(w[4], "week"))
            p.unit = RET_WEEKS;
        else if (unit_is(w[4], "month"))
            p.unit = RET_MONTHS;
        else
            p.kind = RET_NONE;
    }
    if (p.kind == RET_NONE)
        return cel_err_set(err, CEL_E_INVALID, "invalid retention policy '%s': expected %s", text,
                           RET_POLICY_ACCEPTED);
    if (p.n == 0)
        return cel_err_set(err, CEL_E_INVALID,
                           "invalid retention policy '%s': a policy of 0 marks every backup "
                           "obsolete; use at least 1, or remove retention_policy to keep all "
                           "backups",
                           text);
    *out = p;
    return 0;
}

void ret_policy_format(const struct ret_policy *p, char *out, size_t size)
{
    static const char *const units[] = {"DAYS", "WEEKS", "MONTHS"};
    switch (p->kind) {
    case RET_REDUNDANCY:
        snprintf(out, size, "REDUNDANCY %u", p->n);
        break;
    case RET_WINDOW:
        snprintf(out, size, "RECOVERY WINDOW OF %u %s", p->n, units[p->unit]);
        break;
    default:
        snprintf(out, size, "%s", "");
    }
}

int64_t ret_window_seconds(const struct ret_policy *p)
{
    if (p->kind != RET_WINDOW)
        return 0;
    static const int64_t days[] = {1, 7, 31};
    return (int64_t)p->n * days[p->unit] * 86400;
}

/* The keep mark of b, or `otherwise` when it has none. */
static enum ret_mark keep_or(const struct ret_backup *b, enum ret_mark otherwise)
{
    return b->keep == RET_MARK_KEEP_FULL || b->keep == RET_MARK_KEEP_STANDALONE ? b->keep
                                                                                : otherwise;
}

/* REDUNDANCY: the newest `redundancy` DONE backups are VALID, older ones
 * OBSOLETE; kept backups take their KEEP mark but still use up a place. */
static void classify_redundancy(unsigned redundancy, const struct ret_backup *backups, size_t n,
                                enum ret_mark *marks)
{
    unsigned counted = 0;
    for (size_t k = n; k-- > 0;) {
        if (!backups[k].done)
            continue;
        marks[k] = keep_or(&backups[k], counted < redundancy ? RET_MARK_VALID : RET_MARK_OBSOLETE);
        counted++;
    }
}

/* RECOVERY WINDOW: see the header for the rules. `counted` mirrors Barman's
 * `valid`: backups inside the window, the first one before it, then those
 * kept for minimum_redundancy; the KEEP-marked among them count too. */
static void classify_window(double por, unsigned min_redundancy, const struct ret_backup *backups,
                            size_t n, enum ret_mark *marks)
{
    bool found = false; /* the backup reaching back to the window's start is marked */
    unsigned counted = 0;
    for (size_t k = n; k-- > 0;) {
        const struct ret_backup *b = &backups[k];
        if (!b->done)
            continue;
        if (!found) {
            marks[k] = keep_or(b, RET_MARK_VALID);
            counted++;
            /* strictly before, as Barman compares; unknown never closes */
            if (b->end_time > 0 && b->end_time < por)
                found = true;
        } else if (counted < min_redundancy) {
            marks[k] = keep_or(b, RET_MARK_POTENTIALLY_OBSOLETE);
            counted++;
        } else {
            marks[k] = keep_or(b, RET_MARK_OBSOLETE);
        }
    }
}

unsigned ret_classify(const struct ret_policy *p, unsigned min_redundancy, double now,
                      const struct ret_backup *backups, size_t n, enum ret_mark *marks,
                      bool *raised)
{
    for (size_t k = 0; k < n; k++)
        marks[k] = RET_MARK_NONE;
    if (raised)
        *raised = false;
    switch (p->kind) {
    case RET_REDUNDANCY: {
        unsigned redundancy = p->n;
        if (redundancy < min_redundancy) {
            redundancy = min_redundancy;
            if (raised)
                *raised = true;
        }
        classify_redundancy(redundancy, backups, n, marks);
        return redundancy;
    }
    case RET_WINDOW:
        classify_window(ts_local_minus(now, ret_window_seconds(p)), min_redundancy, backups, n,
                        marks);
        return 0;
    default:
        return 0;
    }
}

const char *ret_mark_name(enum ret_mark m)
{
    switch (m) {
    case RET_MARK_VALID:
        return "VALID";
    case RET_MARK_OBSOLETE:
        return "OBSOLETE";
    case RET_MARK_POTENTIALLY_OBSOLETE:
        return "POTENTIALLY_OBSOLETE";
    case RET_MARK_KEEP_FULL:
        return "KEEP:FULL";
    case RET_MARK_KEEP_STANDALONE:
        return "KEEP:STANDALONE";
    default:
        return "-";
    }
}

const char *ret_mark_short(enum ret_mark m)
{
    return m == RET_MARK_POTENTIALLY_OBSOLETE ? "OBSOLETE*" : ret_mark_name(m);
}
