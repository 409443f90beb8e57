/*
 * recovery_target.c - the recovery target's kinds and its one parser.
 *
 * rc_target_defs[] expands the rows of RC_TARGET_KINDS after the row of
 * "no target", so the command line's options and this table cannot drift
 * apart. rc_target_parse is the only place a target's text is read: it
 * validates the value the way PostgreSQL will read it, but stricter where
 * PostgreSQL is lax (an xid such as "12abc" is silently 12 to PostgreSQL),
 * and keeps both the text as given (the recovery settings write it back
 * as the DBA typed it) and its parsed form, which every check reads.
 */
#include <inttypes.h>

#include "recovery_target.h"
#include "wal.h"

/* PostgreSQL's NAMEDATALEN - 1: the longest restore point name. */
#define RC_NAME_MAX 63

#define RC_TARGET_ROW(kind, option, setting, word, metavar, inclusive, help, label, when, prompt)  \
    {kind, "--" option, setting, word, metavar, inclusive, help, label, when, prompt},

const struct rc_target_def rc_target_defs[] = {
    {RC_TARGET_NONE, NULL, NULL, NULL, NULL, false, NULL, "The end of the archived WAL",
     "replay everything archived: the latest state the archive holds", NULL},
    RC_TARGET_KINDS(RC_TARGET_ROW)
};
const size_t rc_target_n_defs = sizeof rc_target_defs / sizeof rc_target_defs[0];

const struct rc_target_def *rc_target_def(enum rc_target_kind kind)
{
    for (size_t i = 0; i < rc_target_n_defs; i++)
        if (rc_target_defs[i].kind == kind)
            return &rc_target_defs[i];
    return &rc_target_defs[0];
}

/* An xid: plain decimal, no leading zero, fits in 64 bits, and its low 32
 * bits (what PostgreSQL keeps) are a normal transaction ID. */
static int parse_xid(const char *value, uint64_t *out, struct cel_err *err)
{
    static const char hint[] =
        "Give the transaction ID in decimal, as txid_current() or pg_current_xact_id() shows "
        "it (3 or more).";
    char q[CEL_SHOW_BUF];
    int rc = 0;
    if (value[0] == '\0') {
        rc = cel_err_set(err, CEL_E_USAGE, "--target-xid: empty transaction ID");
        goto out;
    }
    uint64_t v = 0;
    bool overflow = false;
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9') {
            rc = cel_err_set(err, CEL_E_USAGE,
                             "--target-xid: invalid transaction ID '%s': expected a whole number "
                             "in decimal digits",
                             cel_show(value, strlen(value), q));
            goto out;
        }
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (value[0] == '0' && value[1] != '\0') {
        rc = cel_err_set(err, CEL_E_USAGE,
                         "--target-xid: transaction ID '%s' has a leading zero: PostgreSQL "
                         "would read it as an octal number",
                         cel_show(value, strlen(value), q));
        goto out;
    }
    if (overflow) {
        rc = cel_err_set(err, CEL_E_USAGE,
                         "--target-xid: transaction ID '%s' is out of range: at most "
                         "18446744073709551615",
                         cel_show(value, strlen(value), q));
        goto out;
    }
    uint32_t xid = (uint32_t)v;
    if (xid < 3) {
        if (v >> 32)
            rc = cel_err_set(err, CEL_E_USAGE,
                             "--target-xid: transaction ID '%s' (epoch %" PRIu32 ", xid %" PRIu32
                             ") is not a normal transaction ID: the low 32 bits must be 3 or more",
                             cel_show(value, strlen(value), q), (uint32_t)(v >> 32), xid);
        else
            rc = cel_err_set(err, CEL_E_USAGE,
                             "--target-xid: transaction ID '%s' is reserved: normal transaction "
                             "IDs start at 3",
                             cel_show(value, strlen(value), q));
    }
    *out = v;
out:
    if (rc < 0)
        cel_err_hint(err, "%s", hint);
    return rc;
}

/* A restore point name PostgreSQL can have made. */
static int check_name(const char *value, struct cel_err *err)
{
    char q[CEL_SHOW_BUF];
    size_t len = strlen(value);
    int rc = 0;
    if (len == 0)
        rc = cel_err_set(err, CEL_E_USAGE, "--target-name: empty restore point name");
    else if (len > RC_NAME_MAX)
        rc = cel_err_set(err, CEL_E_USAGE,
                         "--target-name: restore point name '%s' is %zu bytes long, at most "
                         "%d allowed",
                         cel_show(value, len, q), len, RC_NAME_MAX);
    for (size_t i = 0; rc == 0 && i < len; i++)
        /* a newline would end the setting's line for any reader that does
         * not decode our escape, and no DBA types a control character into
         * a restore point name on purpose */
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7F)
            rc = cel_err_set(err, CEL_E_USAGE,
                             "--target-name: restore point name '%s' contains the control "
                             "character 0x%02X at byte %zu",
                             cel_show(value, len, q), (unsigned)value[i], i + 1);
    if (rc < 0)
        cel_err_hint(err, "Give the name passed to pg_create_restore_point() (1 to %d bytes).",
                     RC_NAME_MAX);
    return rc;
}

/* The value of a kind that takes one, into out's typed fields. */
static int parse_value(const char *value, struct rc_target *out, struct cel_err *err)
{
    struct cel_err why = {0};
    switch (out->kind) {
    case RC_TARGET_XID:
        return parse_xid(value, &out->xid, err);
    case RC_TARGET_LSN: {
        if (wal_lsn_parse(value, &out->lsn, &why) == 0)
            return 0;
        int rc = cel_err_set(err, CEL_E_USAGE, "--target-lsn: %s", why.msg);
        cel_err_hint(err, "Give the LSN as two groups of 1 to 8 hexadecimal digits separated by "
                          "'/', as pg_current_wal_lsn() shows it (0/3000060).");
        return rc;
    }
    case RC_TARGET_NAME:
        return check_name(value, err);
    case RC_TARGET_TIME: {
        if (ts_parse(value, &out->time, &why) == 0) {
            out->epoch = ts_epoch(&out->time);
            return 0;
        }
        int rc = cel_err_set(err, CEL_E_USAGE, "--target-time: %s", why.msg);
        cel_err_hint(err, "Give the time as YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]; add the offset "
                          "(+00:00 for UTC) so that cellar and PostgreSQL read it alike.");
        return rc;
    }
    case RC_TARGET_NONE:
    case RC_TARGET_IMMEDIATE:
        break;
    }
    return 0;
}

/* --target-tli: current, latest, or a timeline number. */
static int parse_tli(const char *v, struct rc_target *out, struct cel_err *err)
{
    if (!v)
        return 0;
    if (strcmp(v, "current") == 0) {
        out->tli_kind = RC_TLI_CURRENT;
        return 0;
    }
    if (strcmp(v, "latest") == 0) {
        out->tli_kind = RC_TLI_LATEST;
        return 0;
    }
    uint64_t n = 0;
    bool digits = *v != '\0';
    for (const char *p = v; digits && *p; p++) {
        digits = *p >= '0' && *p <= '9';
        if (n <= UINT32_MAX) /* stops growing once out of range */
            n = n * 10 + (uint64_t)(*p - '0');
    }
    if (!digits || n == 0 || n > UINT32_MAX) {
        char q[CEL_SHOW_BUF];
        int rc = cel_err_set(err, CEL_E_USAGE,
                             "--target-tli %s is not a timeline: expected current, latest or a "
                             "number from 1 to %" PRIu32,
                             cel_show(v, strlen(v), q), UINT32_MAX);
        cel_err_hint(err, "Timelines are numbered from 1, as the first 8 hex digits of WAL "
                          "file names show (00000002... is timeline 2).");
        return rc;
    }
    out->tli_kind = RC_TLI_NUMBER;
    out->tli = (uint32_t)n;
    return 0;
}

int rc_target_parse(enum rc_target_kind kind, const char *value, const char *tli,
                    struct rc_target *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    if (rc_target_def(kind)->metavar) {
        if (!value)
            value = "";
        int rc = parse_value(value, out, err);
        if (rc < 0)
            return rc;
        size_t len = strlen(value);
        if (len >= sizeof out->text) { /* valid values are far shorter */
            char q[CEL_SHOW_BUF];
            rc = cel_err_set(err, CEL_E_USAGE, "%s: '%s' is %zu bytes long, at most %zu allowed",
                             rc_target_def(kind)->option, cel_show(value, len, q), len,
                             sizeof out->text - 1);
            return rc;
        }
        memcpy(out->text, value, len + 1);
    }
    return parse_tli(tli, out, err);
}

const char *rc_target_tli_text(const struct rc_target *t, char buf[RC_TLI_MAX])
{
    switch (t->tli_kind) {
    case RC_TLI_CURRENT:
        return "current";
    case RC_TLI_LATEST:
        return "latest";
    case RC_TLI_NUMBER:
        snprintf(buf, RC_TLI_MAX, "%" PRIu32, t->tli);
        return buf;
    case RC_TLI_DEFAULT:
        break;
    }
    return NULL;
}
