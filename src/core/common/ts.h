/*
 * ts.h - timestamps as Barman records them, and the time formats it prints.
 *
 * backup.info holds times as Python's str() of a time-zone aware datetime:
 * "2026-11-24 03:42:19.575053+00:00" (microseconds omitted when zero, offset
 * of the PostgreSQL session). Barman also reads values without an offset
 * (taken as local time), ISO 8601 with a "T", and ctime() text
 * ("Thu Jan  1 00:00:05 2026"). A struct ts keeps the instant and the offset
 * it was recorded in, so a time read and written back is unchanged, and
 * list-backup can print the wall time as recorded, as Barman does.
 */
#ifndef CEL_TS_H
#define CEL_TS_H

#include <time.h>

#include "error.h"
#include "strbuf.h"

/* Room for the longest text any ts_format* writes, with its NUL. */
#define TS_MAX 40

struct ts {
    int64_t sec;     /* seconds since the epoch (UTC) */
    int32_t usec;    /* 0..999999 */
    int32_t offset;  /* seconds east of UTC of the recorded wall time */
    bool has_offset; /* false when the text carried no offset (local time) */
};

/* Parse any of the accepted forms:
 *   YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}][Z|(+|-)HH[:MM[:SS]]|(+|-)HHMM]
 *   Www Mmm [ d]d HH:MM:SS YYYY          (ctime)
 * with optional surrounding whitespace. A time without an offset is local
 * time at that date (has_offset false, offset = the local offset then). As in
 * Barman (dateutil), a local time that occurs twice when clocks go back is
 * the first occurrence, and one that falls in the gap when clocks go forward
 * is read with the offset in force after the change. Like Barman, the ctime
 * weekday must be a day name but is not checked against the date.
 * Returns 0 or -CEL_E_INVALID naming the text and the expected form (or the
 * field out of range); *out is untouched on error. */
int ts_parse(const char *text, struct ts *out, struct cel_err *err);

/* Python str(datetime): "YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]" in the
 * recorded offset; the offset is omitted when !has_offset. */
void ts_format(const struct ts *t, char out[TS_MAX]);
/* Python isoformat(): as ts_format with a "T" between date and time. */
void ts_format_iso(const struct ts *t, char out[TS_MAX]);
/* Python ctime() of the recorded wall time: "Tue Nov 24 03:42:40 2026". */
void ts_format_ctime(const struct ts *t, char out[TS_MAX]);

/* Seconds since the epoch as a double (sec + usec / 1e6). */
double ts_epoch(const struct ts *t);
/* The current time, in the local offset (has_offset true). */
void ts_now(struct ts *out);
/* The instant sec.usec, recorded in the local offset (has_offset true).
 * usec outside 0..999999 is carried into sec. */
void ts_from_epoch(int64_t sec, int32_t usec, struct ts *out);
/* The instant whose local wall time is that of instant now minus seconds:
 * Python's datetime.now(tzlocal()) - timedelta(seconds=...), which does its
 * arithmetic on the wall clock, so across a change of the local offset the
 * result is an hour nearer or farther than now - seconds. A wall time that
 * occurs twice is the first occurrence, one in the spring gap is read with
 * the later offset (as dateutil does). Falls back to now - seconds when the
 * local time cannot be computed. */
double ts_local_minus(double now, int64_t seconds);
/* Order of two instants: <0, 0, >0 (offsets do not matter). */
int ts_cmp(const struct ts *a, const struct ts *b);

/* Time on the monotonic clock, for durations and deadlines (never for
 * dates: it does not jump with the wall clock): seconds, and milliseconds. */
double ts_monotonic(void);
int64_t ts_monotonic_ms(void);

/* Backup ID "YYYYMMDDTHHMMSS" of sec in local time. out holds 16 bytes. A time
 * whose local year is outside 0..9999 gives "00000000T000000". */
void ts_backup_id(time_t sec, char out[16]);
/* True when id is exactly 8 digits, 'T', 6 digits (Barman's backup ID). */
bool ts_is_backup_id(const char *id);

/* Barman's human_readable_timedelta(): "2 days, 1 hour, 5 seconds",
 * "less than one second", with " ago" appended for negative intervals.
 * Appends to out. seconds is rounded to whole microseconds first, like a
 * Python timedelta; NaN counts as 0 and magnitudes beyond Python's
 * timedelta range are clamped to it (999999999 days, 23:59:59). */
void ts_human_delta(double seconds, struct strbuf *out);

#endif
