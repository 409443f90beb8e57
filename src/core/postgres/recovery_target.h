/*
 * recovery_target.h - a recovery target as one typed value, parsed once
 * where it comes in (the command line or the wizard), and the one table of
 * its kinds.
 *
 * A target is a kind (a time, a transaction ID, an LSN, a restore point
 * name, the end of the backup, or none: the end of the archived WAL), the
 * value as the DBA gave it, that value parsed (the instant, the XID, the
 * LSN), and the timeline to follow (--target-tli). rc_target_parse checks
 * the value the way PostgreSQL will read it and fills the struct; every
 * later reader (the ops' checks and plans, the recovery settings, the
 * wizard's window) reads the typed fields and never parses the text again.
 *
 * The kinds, their command-line options (--target-time ...), the
 * recovery_target_* settings they write and their help texts live in one
 * table, RC_TARGET_KINDS, an X-macro so that the command line's option
 * table (a static initializer) expands the same rows as rc_target_defs[],
 * which the wizard lists and recover reports from. The rows are in the
 * order the wizard lists them, after "the end of the archived WAL".
 */
#ifndef CEL_RECOVERY_TARGET_H
#define CEL_RECOVERY_TARGET_H

#include <stdint.h>

#include "error.h"
#include "ts.h"

enum rc_target_kind {
    RC_TARGET_NONE, /* to the end of the WAL available */
    RC_TARGET_TIME,
    RC_TARGET_XID,
    RC_TARGET_LSN,
    RC_TARGET_NAME,
    RC_TARGET_IMMEDIATE, /* the end of the backup (consistency) */
};

/*
 * X(kind, option, setting, word, metavar, inclusive, help, label, when, prompt)
 *   option    the command-line option without "--" ("target-time")
 *   setting   the PostgreSQL setting it writes ("recovery_target_time";
 *             recovery_target = 'immediate' for the end of the backup)
 *   word      the kind in JSON output ("time"), and the value written for a
 *             kind that takes none ('immediate')
 *   metavar   the value's name in --help ("TIME"); NULL: the option is a flag
 *   inclusive whether recovery_target_inclusive (--exclusive) applies
 *   help      the option's line in --help
 *   label     the wizard's name for the kind ("A point in time")
 *   when      the wizard's line on when to choose it
 *   prompt    what the wizard's value step asks; NULL: no value
 */
#define RC_TARGET_KINDS(X)                                                                         \
    X(RC_TARGET_TIME, "target-time", "recovery_target_time", "time", "TIME", true,                 \
      "stop at this time (YYYY-MM-DD HH:MM:SS[+TZ])", "A point in time",                           \
      "stop before a mistake: the last commit at or before a time",                                \
      "Time (YYYY-MM-DD HH:MM:SS with an offset such as +00)")                                     \
    X(RC_TARGET_XID, "target-xid", "recovery_target_xid", "xid", "XID", true,                      \
      "stop at this transaction's commit", "A transaction ID",                                     \
      "stop at the commit of one transaction (txid_current() showed it)",                          \
      "Transaction ID (a number)")                                                                 \
    X(RC_TARGET_NAME, "target-name", "recovery_target_name", "name", "NAME", false,                \
      "stop at this restore point (pg_create_restore_point); the archived WAL must hold it",       \
      "A named restore point",                                                                     \
      "stop at a pg_create_restore_point() name (each backup makes one)", "Restore point name")    \
    X(RC_TARGET_LSN, "target-lsn", "recovery_target_lsn", "lsn", "LSN", true,                      \
      "stop at this WAL location", "A WAL location (LSN)",                                         \
      "stop at a position in the WAL, such as one pg_current_wal_lsn() gave",                      \
      "LSN (X/X, hexadecimal)")                                                                    \
    X(RC_TARGET_IMMEDIATE, "target-immediate", "recovery_target", "immediate", NULL, false,        \
      "stop as soon as the copy is consistent (the end of the backup)", "The end of a backup",     \
      "only what the backup holds, consistent: the quickest recovery", NULL)

/* One row of the table, as rc_target_defs[] holds it. */
struct rc_target_def {
    enum rc_target_kind kind;
    const char *option;  /* "--target-time"; NULL for none */
    const char *setting; /* "recovery_target_time"; NULL for none */
    const char *word;    /* "time"; NULL for none */
    const char *metavar; /* "TIME"; NULL when the kind takes no value */
    bool inclusive;      /* recovery_target_inclusive / --exclusive applies */
    const char *help;
    const char *label;
    const char *when;
    const char *prompt; /* NULL when the kind takes no value */
};

/* Every kind: RC_TARGET_NONE ("The end of the archived WAL") first, then
 * the rows of RC_TARGET_KINDS in order. */
extern const struct rc_target_def rc_target_defs[];
extern const size_t rc_target_n_defs;
/* kind's row (never NULL: an unknown kind gets none's). */
const struct rc_target_def *rc_target_def(enum rc_target_kind kind);

/* The timeline a recovery follows (recovery_target_timeline). */
enum rc_tli_kind {
    RC_TLI_DEFAULT, /* not given: nothing written (PostgreSQL 12+: latest) */
    RC_TLI_CURRENT,
    RC_TLI_LATEST,
    RC_TLI_NUMBER,
};

/* Room for a value as given (the longest valid one is a time: far less). */
#define RC_TARGET_TEXT_MAX 256
/* Room for the timeline as text ("current", "latest" or a number). */
#define RC_TLI_MAX 16

/* A target parsed (zero: no target, the default timeline). */
struct rc_target {
    enum rc_target_kind kind;
    char text[RC_TARGET_TEXT_MAX]; /* the value as given; "" for NONE and IMMEDIATE */
    struct ts time;                /* TIME: has_offset false when read as local time */
    double epoch;                  /* TIME: the instant in epoch seconds */
    uint64_t xid;                  /* XID: as given (an epoch in the high 32 bits) */
    uint64_t lsn;                  /* LSN; NAME: 0 (where it lies is the archive's) */
    enum rc_tli_kind tli_kind;
    uint32_t tli; /* RC_TLI_NUMBER: the timeline, 1 or more */
};

/*
 * Parse a target of kind with value (ignored, may be NULL, for NONE and
 * IMMEDIATE) and the timeline tli (NULL: the default) into *out, checking
 * them as PostgreSQL will read them:
 *  - XID: decimal digits only, without a leading zero, at most 2^64 - 1.
 *    PostgreSQL reads the value with strtoul(..., 0) (strtou64 in newer
 *    releases): "010" would be octal 8, "0x10" hex, and "abc" or "12abc"
 *    are silently taken as 0 or 12, so we accept only the plain form. It
 *    keeps the low 32 bits, so a transaction ID with its epoch, as
 *    txid_current() / pg_current_xact_id() show it, works; those low 32
 *    bits must be a normal transaction ID (3 or more, 3 being
 *    FirstNormalTransactionId).
 *  - LSN: X/X, 1 to 8 hex digits each side (wal_lsn_parse).
 *  - NAME: not empty, at most 63 bytes (NAMEDATALEN - 1, the limit of
 *    pg_create_restore_point() and of recovery_target_name), and without
 *    control characters (bytes below 0x20, DEL).
 *  - TIME: parsed with ts_parse (YYYY-MM-DD HH:MM:SS[.f][+offset] or ctime
 *    text); without an offset it is the local time of this machine for
 *    cellar, while PostgreSQL reads the same text in the recovered server's
 *    timezone setting, so callers should warn when no offset is given
 *    (out->time.has_offset false).
 *  - the timeline: current, latest, or a number from 1 to 2^32 - 1 in
 *    decimal digits.
 * Returns 0, or -CEL_E_USAGE (*out then undefined) with a message naming
 * the option (--target-xid ...), the value (cut at 64 bytes, unprintable
 * bytes as \xNN) and the form expected, and a hint.
 */
int rc_target_parse(enum rc_target_kind kind, const char *value, const char *tli,
                    struct rc_target *out, struct cel_err *err);

/* The timeline as recovery_target_timeline and --target-tli write it
 * ("current", "latest", the number) in buf, or NULL for the default. */
const char *rc_target_tli_text(const struct rc_target *t, char buf[RC_TLI_MAX]);

#endif
