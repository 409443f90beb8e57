/*
 * ts.c - Barman's timestamps: parsing, Python-style formatting, intervals.
 *
 * A struct ts is an instant (seconds and microseconds since the epoch) plus
 * the UTC offset of the wall time it was recorded in. All calendar arithmetic
 * is done here with days_from_civil() / civil_from_days() (proleptic
 * Gregorian, Howard Hinnant's algorithms) on int64 values, so converting a
 * time that carries its offset never consults the process time zone, and
 * formatting is simply "instant + offset, split into fields".
 *
 * Only times written without an offset need the local zone. For those we
 * follow what Barman does (dateutil's tzlocal), which differs from
 * mktime(tm_isdst = -1) in the two hours a year where the wall time is
 * ambiguous or missing:
 *   - a wall time that occurs twice (autumn) is the first occurrence, the one
 *     still in summer time;
 *   - a wall time that does not exist (spring gap) is read with the offset in
 *     force after the change, so "02:30" in Europe/Rome on the spring day is
 *     00:30 UTC, which is 01:30 standard time.
 * We find the candidate offsets by asking localtime_r() for the offsets two
 * days before and after the wall time, keep the candidates that map back to
 * that wall time and take the earliest; with none, the "after" offset. The
 * recorded offset of a naive time is wall - instant, so formatting it gives
 * back exactly the wall time that was read, even inside a gap.
 *
 * Formatting mirrors Python: str(datetime) ("2026-11-24 03:42:19.575053+00:00",
 * microseconds only when non-zero, offset seconds only when non-zero),
 * isoformat() (the same with a "T") and ctime() ("Thu Jan  1 00:00:05 2026").
 * human_readable_timedelta() works on whole microseconds like Python's
 * timedelta.
 */
#include <inttypes.h>
#include <time.h>

#include "ts.h"

#define SECS_PER_DAY 86400

static const char *const weekday_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* The expected forms, quoted in every syntax error. */
#define TS_FORMS                                                                                   \
    "expected YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM] or a ctime() date like "                        \
    "'Thu Jan  1 00:00:05 2026'"

/* ------------------------------------------------------- calendar arithmetic */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian; m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* 0..399 */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* A wall time split into fields. */
struct civil {
    int64_t year;
    int mon, day, hour, min, sec, wday; /* wday 0 = Sunday */
};

/* Seconds since the epoch of a wall time read as if it were UTC. */
static int64_t civil_to_secs(int64_t y, int mon, int day, int hour, int min, int sec)
{
    return days_from_civil(y, mon, day) * SECS_PER_DAY + hour * 3600 + min * 60 + sec;
}

/* The wall time of instant sec at offset seconds east of UTC. Split before
 * adding so that no value can overflow. */
static void secs_to_civil(int64_t sec, int32_t offset, struct civil *c)
{
    int64_t days = floor_div(sec, SECS_PER_DAY);
    int64_t rem = sec - days * SECS_PER_DAY + offset;
    days += floor_div(rem, SECS_PER_DAY);
    rem -= floor_div(rem, SECS_PER_DAY) * SECS_PER_DAY;
    civil_from_days(days, &c->year, &c->mon, &c->day);
    c->hour = (int)(rem / 3600);
    c->min = (int)(rem / 60 % 60);
    c->sec = (int)(rem % 60);
    c->wday = (int)(days - floor_div(days + 4, 7) * 7 + 4); /* 1970-01-01 was a Thursday */
}

/* ------------------------------------------------------------ local time */

/* Local UTC offset at instant t, from localtime_r(). */
static int local_offset(int64_t t, int32_t *offset)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return -1;
    int64_t wall = civil_to_secs((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                 tm.tm_min, tm.tm_sec);
    *offset = (int32_t)(wall - t);
    return 0;
}

/* Whether instant t shows wall time wall in the local zone. */
static bool local_maps_to(int64_t t, int64_t wall)
{
    int32_t off;
    return local_offset(t, &off) == 0 && t + off == wall;
}

/* The instant of local wall time wall (counted as if UTC), resolved as
 * Barman resolves it (see the comment at the top). */
static int local_to_utc(int64_t wall, int64_t *utc)
{
    int32_t before, after;
    if (local_offset(wall - 2 * SECS_PER_DAY, &before) < 0 ||
        local_offset(wall + 2 * SECS_PER_DAY, &after) < 0)
        return -1;
    int64_t t1 = wall - before, t2 = wall - after;
    bool ok1 = local_maps_to(t1, wall), ok2 = local_maps_to(t2, wall);
    if (ok1 && ok2)
        *utc = t1 < t2 ? t1 : t2;
    else if (ok1)
        *utc = t1;
    else
        *utc = t2; /* valid, or in the spring gap: read with the later offset */
    return 0;
}

/* ---------------------------------------------------------------- parsing */

/* Fields read from the text, before validation. */
struct parsed {
    int year, mon, day, hour, min, sec;
    int32_t usec;
    bool has_offset;
    int off_sign, off_hour, off_min, off_sec;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Read exactly n digits at *p into *out. */
static bool read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* HH:MM:SS */
static bool read_clock(const char **p, struct parsed *f)
{
    return read_digits(p, 2, &f->hour) && expect_char(p, ':') && read_digits(p, 2, &f->min) &&
           expect_char(p, ':') && read_digits(p, 2, &f->sec);
}

/* Outcome of a form parser: syntax error, or a specific message in why. */
enum form_rc { FORM_OK, FORM_SYNTAX, FORM_WHY };

/* YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}][Z|(+|-)HH[:MM[:SS]]|(+|-)HHMM] */
static enum form_rc parse_iso(const char **pp, struct parsed *f, char *why, size_t whylen)
{
    const char *p = *pp;
    if (!read_digits(&p, 4, &f->year) || !expect_char(&p, '-') || !read_digits(&p, 2, &f->mon) ||
        !expect_char(&p, '-') || !read_digits(&p, 2, &f->day))
        return FORM_SYNTAX;
    if (*p != ' ' && *p != 'T')
        return FORM_SYNTAX;
    p++;
    if (!read_clock(&p, f))
        return FORM_SYNTAX;
    if (*p == '.') {
        p++;
        int n = 0;
        f->usec = 0;
        while (is_digit(p[n])) {
            if (n == 6) {
                snprintf(why, whylen, "more than 6 fractional digits");
                return FORM_WHY;
            }
            f->usec = f->usec * 10 + (p[n] - '0');
            n++;
        }
        if (n == 0)
            return FORM_SYNTAX;
        for (int i = n; i < 6; i++)
            f->usec *= 10;
        p += n;
    }
    if (*p == 'Z') {
        f->has_offset = true;
        p++;
    } else if (*p == '+' || *p == '-') {
        f->has_offset = true;
        f->off_sign = *p == '-' ? -1 : 1;
        p++;
        if (!read_digits(&p, 2, &f->off_hour))
            return FORM_SYNTAX;
        if (*p == ':') {
            p++;
            if (!read_digits(&p, 2, &f->off_min))
                return FORM_SYNTAX;
            if (*p == ':') {
                p++;
                if (!read_digits(&p, 2, &f->off_sec))
                    return FORM_SYNTAX;
            }
        } else if (is_digit(*p) && !read_digits(&p, 2, &f->off_min)) {
            return FORM_SYNTAX;
        }
    }
    *pp = p;
    return FORM_OK;
}

/* Index of the three letters at p in names (case-insensitive), or -1. */
static int find_name(const char *p, const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        bool same = true;
        for (int k = 0; k < 3 && same; k++) {
            char c = p[k];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            char n = names[i][k];
            if (n >= 'A' && n <= 'Z')
                n = (char)(n - 'A' + 'a');
            same = c == n;
        }
        if (same)
            return i;
    }
    return -1;
}

static bool is_alpha3(const char *p)
{
    for (int k = 0; k < 3; k++)
        if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z')))
            return false;
    return true;
}

/* At least one blank. */
static bool skip_blanks(const char **p)
{
    if (**p != ' ')
        return false;
    while (**p == ' ')
        (*p)++;
    return true;
}

/* Www Mmm [ d]d HH:MM:SS YYYY. The weekday must be a day name but, as with
 * Barman (dateutil), need not match the date. */
static enum form_rc parse_ctime(const char **pp, struct parsed *f, char *why, size_t whylen)
{
    const char *p = *pp;
    if (!is_alpha3(p))
        return FORM_SYNTAX;
    const char *wday = p;
    p += 3;
    if (!skip_blanks(&p) || !is_alpha3(p))
        return FORM_SYNTAX;
    const char *mon = p;
    p += 3;
    if (!skip_blanks(&p))
        return FORM_SYNTAX;
    if (!read_digits(&p, 2, &f->day) && !read_digits(&p, 1, &f->day))
        return FORM_SYNTAX;
    if (!skip_blanks(&p) || !read_clock(&p, f) || !skip_blanks(&p) || !read_digits(&p, 4, &f->year))
        return FORM_SYNTAX;
    if (find_name(wday, weekday_names, 7) < 0) {
        snprintf(why, whylen, "unknown weekday '%.3s'", wday);
        return FORM_WHY;
    }
    int m = find_name(mon, month_names, 12);
    if (m < 0) {
        snprintf(why, whylen, "unknown month '%.3s'", mon);
        return FORM_WHY;
    }
    f->mon = m + 1;
    *pp = p;
    return FORM_OK;
}

/* Whether a two-digit field is at most max; false with a message in why. */
static bool in_range(char *why, size_t whylen, const char *name, int v, int max)
{
    if (v <= max)
        return true;
    snprintf(why, whylen, "%s %d out of range 0..%d", name, v, max);
    return false;
}

/* Check the ranges of every field; false with a message in why. */
static bool validate(const struct parsed *f, char *why, size_t whylen)
{
    if (f->year < 1) {
        snprintf(why, whylen, "year %d out of range 1..9999", f->year);
        return false;
    }
    if (f->mon < 1 || f->mon > 12) {
        snprintf(why, whylen, "month %d out of range 1..12", f->mon);
        return false;
    }
    int mdays = days_in_month(f->year, f->mon);
    if (f->day < 1 || f->day > mdays) {
        snprintf(why, whylen, "day %d out of range 1..%d for %04d-%02d", f->day, mdays, f->year,
                 f->mon);
        return false;
    }
    return in_range(why, whylen, "hour", f->hour, 23) &&
           in_range(why, whylen, "minute", f->min, 59) &&
           in_range(why, whylen, "second", f->sec, 59) &&
           in_range(why, whylen, "offset hour", f->off_hour, 23) &&
           in_range(why, whylen, "offset minute", f->off_min, 59) &&
           in_range(why, whylen, "offset second", f->off_sec, 59);
}

/* Set the error for text: "invalid timestamp '<text>': <why>". The text is
 * shown up to 64 bytes, control bytes as '?'. */
static int ts_fail(struct cel_err *err, const char *text, const char *why)
{
    char shown[72];
    size_t n = 0;
    for (; text[n] && n < 64; n++)
        shown[n] = (unsigned char)text[n] < 0x20 || text[n] == 0x7F ? '?' : text[n];
    shown[n] = '\0';
    return cel_err_set(err, CEL_E_INVALID, "invalid timestamp '%s%s': %s", shown,
                       text[n] ? "..." : "", why);
}

int ts_parse(const char *text, struct ts *out, struct cel_err *err)
{
    char why[128];
    struct parsed f = {.off_sign = 1};
    if (!text)
        text = "";
    const char *p = text;
    while (is_space(*p))
        p++;
    enum form_rc rc = FORM_SYNTAX;
    if (is_digit(*p))
        rc = parse_iso(&p, &f, why, sizeof why);
    else if (*p)
        rc = parse_ctime(&p, &f, why, sizeof why);
    if (rc == FORM_OK) {
        while (is_space(*p))
            p++;
        if (*p)
            rc = FORM_SYNTAX;
    }
    if (rc == FORM_SYNTAX)
        return ts_fail(err, text, TS_FORMS);
    if (rc == FORM_WHY || !validate(&f, why, sizeof why))
        return ts_fail(err, text, why);

    int64_t wall = civil_to_secs(f.year, f.mon, f.day, f.hour, f.min, f.sec);
    struct ts t = {.usec = f.usec, .has_offset = f.has_offset};
    if (f.has_offset) {
        t.offset = f.off_sign * (f.off_hour * 3600 + f.off_min * 60 + f.off_sec);
        t.sec = wall - t.offset;
    } else {
        /* unreachable on 64-bit time_t for years 1..9999; kept for 32-bit */
        if (local_to_utc(wall, &t.sec) < 0)
            return ts_fail(err, text, "the local time zone cannot convert this date");
        t.offset = (int32_t)(wall - t.sec);
    }
    *out = t;
    return 0;
}

/* -------------------------------------------------------------- formatting */

/* str(datetime) with sep between date and time. */
static void format_with(const struct ts *t, char sep, char out[TS_MAX])
{
    struct civil c;
    secs_to_civil(t->sec, t->offset, &c);
    int n = snprintf(out, TS_MAX, "%04" PRId64 "-%02d-%02d%c%02d:%02d:%02d", c.year, c.mon, c.day,
                     sep, c.hour, c.min, c.sec);
    if (n < 0 || n >= TS_MAX)
        return;
    if (t->usec)
        n += snprintf(out + n, TS_MAX - (size_t)n, ".%06d", (int)t->usec);
    if (!t->has_offset || n >= TS_MAX)
        return;
    int32_t off = t->offset < 0 ? -t->offset : t->offset;
    n += snprintf(out + n, TS_MAX - (size_t)n, "%c%02d:%02d", t->offset < 0 ? '-' : '+',
                  (int)(off / 3600), (int)(off / 60 % 60));
    if (off % 60 && n < TS_MAX)
        snprintf(out + n, TS_MAX - (size_t)n, ":%02d", (int)(off % 60));
}

void ts_format(const struct ts *t, char out[TS_MAX])
{
    format_with(t, ' ', out);
}

void ts_format_iso(const struct ts *t, char out[TS_MAX])
{
    format_with(t, 'T', out);
}

void ts_format_ctime(const struct ts *t, char out[TS_MAX])
{
    struct civil c;
    secs_to_civil(t->sec, t->offset, &c);
    snprintf(out, TS_MAX, "%s %s %2d %02d:%02d:%02d %04" PRId64, weekday_names[c.wday],
             month_names[c.mon - 1], c.day, c.hour, c.min, c.sec, c.year);
}

/* ----------------------------------------------------------------- instants */

double ts_epoch(const struct ts *t)
{
    return (double)t->sec + (double)t->usec / 1e6;
}

void ts_from_epoch(int64_t sec, int32_t usec, struct ts *out)
{
    /* carry microseconds outside 0..999999 into the seconds */
    sec += floor_div(usec, 1000000);
    usec = (int32_t)(usec - floor_div(usec, 1000000) * 1000000);
    int32_t offset = 0;
    if (local_offset(sec, &offset) < 0)
        offset = 0; /* far outside what localtime() covers: show UTC */
    *out = (struct ts){.sec = sec, .usec = usec, .offset = offset, .has_offset = true};
}

void ts_now(struct ts *out)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ts_from_epoch((int64_t)now.tv_sec, (int32_t)(now.tv_nsec / 1000), out);
}

double ts_local_minus(double now, int64_t seconds)
{
    int64_t sec = (int64_t)now;
    if ((double)sec > now)
        sec--; /* floor, for instants before the epoch */
    int32_t offset;
    int64_t utc;
    if (local_offset(sec, &offset) < 0 || local_to_utc(sec + offset - seconds, &utc) < 0)
        return now - (double)seconds;
    return (double)utc + (now - (double)sec);
}

int ts_cmp(const struct ts *a, const struct ts *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->usec != b->usec)
        return a->usec < b->usec ? -1 : 1;
    return 0;
}

/* ------------------------------------------------------------ backup IDs */

void ts_backup_id(time_t sec, char out[16])
{
    struct tm tm;
    if (!localtime_r(&sec, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        /* only for times localtime() cannot show in 4 digits; still an ID */
        memcpy(out, "00000000T000000", 16);
        return;
    }
    /* the "% 100u" only tell the compiler each field fits its width */
    snprintf(out, 16, "%04u%02u%02uT%02u%02u%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

bool ts_is_backup_id(const char *id)
{
    if (!id)
        return false;
    for (int i = 0; i < 15; i++) {
        bool ok = i == 8 ? id[i] == 'T' : is_digit(id[i]);
        if (!ok)
            return false; /* also stops at a NUL before 15 bytes */
    }
    return id[15] == '\0';
}

/* ---------------------------------------------------------------- intervals */

/* Append "<n> <unit>" or "<n> <unit>s" after a ", " when not first. */
static void delta_part(struct strbuf *out, int64_t n, const char *unit)
{
    if (n <= 0)
        return;
    if (out->len)
        sb_append(out, ", ");
    sb_appendf(out, "%" PRId64 " %s%s", n, unit, n == 1 ? "" : "s");
}

void ts_human_delta(double seconds, struct strbuf *out)
{
    /* Python's timedelta stops at 999999999 days; NaN counts as zero */
    const double max = 999999999.0 * SECS_PER_DAY + 86399.0; /* exact in a double */
    bool negative = seconds < 0;
    double a = seconds != seconds ? 0 : negative ? -seconds : seconds;
    if (a > max)
        a = max;
    /* whole seconds and microseconds, rounded to the nearest microsecond */
    int64_t whole = (int64_t)a;
    int64_t usec = (int64_t)((a - (double)whole) * 1e6 + 0.5);
    if (usec >= 1000000) {
        whole++;
        usec -= 1000000;
    }

    struct strbuf parts = {0};
    int64_t day_secs = whole % SECS_PER_DAY;
    delta_part(&parts, whole / SECS_PER_DAY, "day");
    delta_part(&parts, day_secs / 3600, "hour");
    delta_part(&parts, day_secs / 60 % 60, "minute");
    delta_part(&parts, day_secs % 60, "second");
    sb_append(out, whole == 0 ? "less than one second" : sb_str(&parts));
    sb_free(&parts);
    /* a negative interval that is not zero once rounded */
    if (negative && (whole || usec))
        sb_append(out, " ago");
}

double ts_monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int64_t ts_monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
