/*
 * recovery_conf.h - the recovery settings of a recovered data directory,
 * and the changes to its configuration that keep a recovered copy from
 * harming the server it was taken from. Pure text in, text out: the op
 * reads and writes the files (locally or over ssh).
 *
 * As Barman 3.4 does (reference section 7.2, steps 7 and 9):
 *  - PostgreSQL 12 and later: the settings are appended to
 *    postgresql.auto.conf and an empty recovery.signal (standby.signal in
 *    standby mode) is created; before 12 they go into recovery.conf (with
 *    standby_mode = 'on' in standby mode).
 *  - Lines, in order: restore_command; recovery_end_command; one of
 *    recovery_target_time / _xid / _lsn / _name = '<value>', or
 *    recovery_target = 'immediate'; recovery_target_inclusive = 'false'
 *    when exclusive (time, xid, lsn only); recovery_target_timeline =
 *    <value> (unquoted, as given: current, latest or a number) when given;
 *    recovery_target_action = '<action>' when given (9.5+; pause_at_
 *    recovery_target on 9.1-9.4 is not supported: cellar restores 9.6+).
 *  - Settings a recovered copy must not keep: every line of
 *    postgresql.conf and postgresql.auto.conf that sets archive_command
 *    becomes "#BARMAN#<line>" followed by "archive_command = false" (the
 *    copy would otherwise archive into the backup server's archive), and
 *    every line setting a recovery_target* option is commented out with
 *    "#BARMAN#" (an old target would compete with the new one). The marker
 *    is Barman's, so a DBA who knows Barman's recoveries finds the same.
 * Values are quoted as postgresql.conf string literals ('' for a quote).
 */
#ifndef CEL_RECOVERY_CONF_H
#define CEL_RECOVERY_CONF_H

#include "error.h"
#include "strbuf.h"

enum rc_target_kind {
    RC_TARGET_NONE,      /* to the end of the WAL available */
    RC_TARGET_TIME,
    RC_TARGET_XID,
    RC_TARGET_LSN,
    RC_TARGET_NAME,
    RC_TARGET_IMMEDIATE, /* the end of the backup (consistency) */
};

struct rc_settings {
    int pg_version;                /* server_version_num of the backup (150018) */
    const char *restore_command;   /* NULL: none */
    const char *recovery_end_command; /* NULL: none */
    enum rc_target_kind target;
    const char *target_value;      /* for TIME, XID, LSN, NAME: as the user gave it */
    bool exclusive;                /* recovery_target_inclusive = 'false' */
    const char *target_tli;        /* NULL: not written */
    const char *target_action;     /* pause, promote, shutdown; NULL: not written */
    bool standby_mode;
};

/* The recovery setting lines (each ending in "\n") for s, appended to out,
 * preceded by a comment line naming cellar and the backup ID. */
void rc_settings_lines(const struct rc_settings *s, const char *backup_id, struct strbuf *out);

/* Where the lines go for s->pg_version: "postgresql.auto.conf" (12+) or
 * "recovery.conf"; and the signal file to create (12+: "recovery.signal"
 * or "standby.signal"), NULL before 12. */
const char *rc_settings_file(const struct rc_settings *s);
const char *rc_signal_file(const struct rc_settings *s);

/* Rewrite a postgresql.conf / postgresql.auto.conf text: archive_command
 * lines disabled, recovery_target* lines commented, as described above.
 * Appends the result to out; *changed (may be NULL) counts the lines
 * changed. A line is a setting of name when, after blanks, it starts with
 * name followed by blanks and '=' or by blanks and a value (both forms are
 * valid postgresql.conf), case-insensitively; comments are left alone. */
void rc_mangle_conf(const char *text, struct strbuf *out, size_t *changed);

/* Quote value as a postgresql.conf string literal: 'it''s'. */
void rc_quote(const char *value, struct strbuf *out);

/* Check a target value for its kind: an xid is a whole number above 2; an
 * LSN is X/X hex; a name is not empty and at most 63 bytes; a time is
 * parsed with ts_parse (YYYY-MM-DD HH:MM:SS[.f][+offset]; without an
 * offset, the local time of this machine). -CEL_E_USAGE naming the value
 * and the form expected. */
int rc_check_target(enum rc_target_kind kind, const char *value, struct cel_err *err);

#endif
