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
 *    <value> (unquoted: current, latest or the number in decimal) when given;
 *    recovery_target_action = '<action>' when given (9.5+; pause_at_
 *    recovery_target on 9.1-9.4 is not supported: cellar restores 9.6+);
 *    standby_mode = 'on' last, before 12 in standby mode.
 *  - Settings a recovered copy must not keep: every line of
 *    postgresql.conf and postgresql.auto.conf that sets archive_command
 *    becomes "#BARMAN#<line>" followed by "archive_command = false", and
 *    every line setting recovery_target, recovery_target_time, _xid, _lsn,
 *    _name, _inclusive, _timeline or _action is commented out with
 *    "#BARMAN#" (an old target would compete with the new one). The marker
 *    is Barman's, so a DBA who knows Barman's recoveries finds the same.
 *
 * Why "archive_command = false", Barman's exact line: PostgreSQL reads the
 * unquoted word as the string "false", so the archiver runs the shell
 * command false(1), which fails every time. The copy therefore never
 * writes into the backup server's archive (which would mix its WAL with the
 * original server's, on a timeline the catalogue does not expect), and the
 * failure is visible: pg_stat_archiver.failed_count grows and the log
 * says "archive command failed". archive_mode is deliberately left alone:
 * a DBA may want the recovered server to archive somewhere else later, and
 * turning it off needs a restart. The cost is that with archive_mode = on
 * WAL accumulates in pg_wal until the DBA sets a real archive_command (or
 * turns archiving off). Not handled, as in Barman: archive_library
 * (PostgreSQL 15+; when set it is used instead of archive_command) and
 * settings in files pulled in by include / include_dir, which the op should
 * report.
 *
 * restore_command and recovery_end_command lines of the old configuration
 * are left alone, as Barman does: our lines come after them (appended to
 * postgresql.auto.conf, which PostgreSQL reads after postgresql.conf, or in
 * recovery.conf before 12), and when a setting appears more than once the
 * last one wins.
 *
 * Values are written as postgresql.conf string literals: PostgreSQL's
 * configuration lexer (guc-file.l, the same for recovery.conf before 12)
 * treats a backslash inside quotes as an escape, so backslashes are doubled
 * as well as quotes, as PostgreSQL's own escape_single_quotes_ascii() does
 * for ALTER SYSTEM (Barman quotes nothing).
 */
#ifndef CEL_RECOVERY_CONF_H
#define CEL_RECOVERY_CONF_H

#include "error.h"
#include "recovery_target.h"
#include "strbuf.h"

struct rc_settings {
    int pg_version;                   /* server_version_num of the backup (150018) */
    const char *restore_command;      /* NULL: none */
    const char *recovery_end_command; /* NULL: none */
    struct rc_target target;   /* parsed by rc_target_parse; zero: none, default timeline */
    bool exclusive;            /* recovery_target_inclusive = 'false' (TIME, XID, LSN) */
    const char *target_action; /* pause, promote, shutdown; NULL: not written */
    bool standby_mode;
};

/* The recovery setting lines (each ending in "\n") for s, appended to out,
 * preceded by the comment line "# recovery settings written by cellar for
 * backup <backup_id>" (without " for backup ..." when backup_id is NULL).
 * The target's value is written as given (target.text); its setting and
 * whether recovery_target_inclusive applies come from rc_target_defs.
 * exclusive is ignored for the NAME, IMMEDIATE and NONE targets, as in
 * Barman; the timeline is written unless it is the default. */
void rc_settings_lines(const struct rc_settings *s, const char *backup_id, struct strbuf *out);

/* Where the lines go for s->pg_version: "postgresql.auto.conf" (12+) or
 * "recovery.conf"; and the signal file to create (12+: "recovery.signal"
 * or "standby.signal"), NULL before 12. Static strings. */
const char *rc_settings_file(const struct rc_settings *s);
const char *rc_signal_file(const struct rc_settings *s);

/* Rewrite a postgresql.conf / postgresql.auto.conf text: archive_command
 * lines disabled, recovery_target* lines commented, as described above.
 * Appends the result to out; *changed (may be NULL) is set to the number of
 * original lines changed. Every other byte is kept: line endings (a "\r"
 * before "\n" stays, and the added "archive_command = false" line ends the
 * way the line it follows ended) and a missing final newline (a last line
 * without one becomes "#BARMAN#<line>\narchive_command = false", still
 * without one; the caller appending lines must add a newline first).
 *
 * A line sets name when it does so for PostgreSQL's lexer: after blanks
 * (space, tab, CR), the name, case-insensitively, ending where an
 * identifier ends (not followed by a letter, digit, '_', byte >= 0x80, or
 * one of "-._:/", which would make a longer token: archive_command_foo,
 * archive_command.x and archive_command-x are not archive_command), then
 * blanks and '=' or blanks and a value (both forms are valid
 * postgresql.conf: "archive_command 'x'", "archive_command='x'"). Comment
 * lines, and lines where the name is followed by nothing or a comment
 * (a syntax error for PostgreSQL), are left alone. */
void rc_mangle_conf(const char *text, struct strbuf *out, size_t *changed);

/* Append value quoted as a postgresql.conf string literal: 'it''s',
 * backslashes doubled ('C:\\x'), and newline / carriage return written as
 * the escapes \n and \r, which PostgreSQL decodes (a raw newline would end
 * the line). */
void rc_quote(const char *value, struct strbuf *out);

/* The restore_command of a recovery with --get-wal (caller frees):
 *   CELLAR -c CONF get-wal SERVER %f > %p
 * or, when the recovered server is on another host and reaches this one as
 * ssh_dest (USER@HOST):
 *   ssh -o BatchMode=yes USER@HOST 'CELLAR -c CONF get-wal SERVER %f' > %p
 * Every word we add is quoted for the shell that runs the command when it
 * needs to be (sb_append_shell_word), and the remote command once more as a
 * whole, since the remote shell parses it again; every '%' in them is
 * doubled, since PostgreSQL replaces %f, %p, %r and %% in the whole string
 * before the shell sees it. So a configuration path with spaces, quotes,
 * '%' or "$(...)" reaches cellar as it is, and nothing in it runs. conf may
 * be NULL (no -c). The result is then quoted as a setting by rc_quote. */
char *rc_get_wal_command(const char *cellar, const char *conf, const char *server,
                         const char *ssh_dest);
/* A restore_command that runs argv (NULL-terminated) with "%f %p" after it,
 * each word quoted as rc_get_wal_command quotes its words (a '%' doubled,
 * shell-quoted when needed): `cellar cloud-wal-restore ... URL SERVER %f %p`
 * for a bucket server. Caller frees. */
char *rc_restore_command_argv(const char *const *argv);

#endif
