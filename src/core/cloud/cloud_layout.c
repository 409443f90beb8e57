/*
 * cloud_layout.c - barman-cloud's object names, built and parsed.
 *
 * Building is string assembly after validation: the server name must be a
 * single key component, the WAL name must parse (wal.c, which also gives its
 * hash directory exactly as Barman's hash_dir does), the backup ID must be
 * YYYYMMDDTHHMMSS. The prefix is joined as os.path.join joins it: nothing
 * when empty, no second '/' when it already ends with one.
 *
 * Parsing splits the key into its components, reads each one and names the
 * first that is wrong; then it builds the key again from what it read and
 * requires the same bytes. That last step makes parsing the exact inverse of
 * building, so there is one definition of the layout (the builders) and a
 * listed object either is one barman-cloud would have written or is refused.
 */
#include <inttypes.h>

#include "cloud_layout.h"
#include "ts.h"

static const struct {
    enum cloud_comp comp;
    const char *ext;
    const char *name;
} comps[] = {
    {CLOUD_COMP_NONE, "", "none"},       {CLOUD_COMP_GZIP, ".gz", "gzip"},
    {CLOUD_COMP_BZIP2, ".bz2", "bzip2"}, {CLOUD_COMP_SNAPPY, ".snappy", "snappy"},
    {CLOUD_COMP_XZ, ".xz", "xz"},        {CLOUD_COMP_ZSTD, ".zst", "zstd"},
    {CLOUD_COMP_LZ4, ".lz4", "lz4"},
};

const char *cloud_comp_ext(enum cloud_comp comp)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(comps); i++)
        if (comps[i].comp == comp)
            return comps[i].ext;
    return "";
}

const char *cloud_comp_name(enum cloud_comp comp)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(comps); i++)
        if (comps[i].comp == comp)
            return comps[i].name;
    return "unknown";
}

/* The compression whose extension is exactly the len bytes at ext; false
 * when none is (the empty extension is CLOUD_COMP_NONE). */
static bool comp_from_ext(const char *ext, size_t len, enum cloud_comp *out)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(comps); i++)
        if (strlen(comps[i].ext) == len && memcmp(comps[i].ext, ext, len) == 0) {
            *out = comps[i].comp;
            return true;
        }
    return false;
}

int cloud_server_check(const char *server, struct cel_err *err)
{
    char q[CEL_SHOW_BUF];
    size_t len = strlen(server);
    const char *why = NULL;
    if (len == 0)
        why = "it is empty";
    else if (len >= CLOUD_SERVER_MAX)
        why = "it is longer than 255 bytes";
    else if (strchr(server, '/'))
        why = "it holds a '/'";
    else if (strcmp(server, ".") == 0 || strcmp(server, "..") == 0)
        why = "\".\" and \"..\" are not names";
    else
        for (size_t i = 0; i < len && !why; i++)
            if ((unsigned char)server[i] < 0x20 || server[i] == 0x7f)
                why = "it holds a control character";
    if (!why)
        return 0;
    return cel_err_set(err, CEL_E_INVALID, "invalid server name '%s' for a bucket: %s",
                       cel_show(server, len, q), why);
}

/* Append "PREFIX/SERVER/" to sb (just "SERVER/" for an empty prefix). */
static void append_server(struct strbuf *sb, const char *prefix, const char *server)
{
    if (*prefix) {
        sb_append(sb, prefix);
        if (!cel_str_ends(prefix, "/"))
            sb_appendc(sb, '/');
    }
    sb_append(sb, server);
    sb_appendc(sb, '/');
}

static char *server_dir(const char *prefix, const char *server, const char *dir,
                        struct cel_err *err)
{
    if (cloud_server_check(server, err) < 0)
        return NULL;
    struct strbuf sb = {0};
    append_server(&sb, prefix, server);
    sb_append(&sb, dir);
    return sb_detach(&sb);
}

char *cloud_wals_prefix(const char *prefix, const char *server, struct cel_err *err)
{
    return server_dir(prefix, server, "wals/", err);
}

char *cloud_base_prefix(const char *prefix, const char *server, struct cel_err *err)
{
    return server_dir(prefix, server, "base/", err);
}

char *cloud_wal_key(const char *prefix, const char *server, const char *wal_name,
                    enum cloud_comp comp, struct cel_err *err)
{
    char hash[17];
    if (cloud_server_check(server, err) < 0 || wal_hash_dir(wal_name, hash, err) < 0)
        return NULL;
    struct strbuf sb = {0};
    append_server(&sb, prefix, server);
    sb_append(&sb, "wals/");
    if (hash[0])
        sb_appendf(&sb, "%s/", hash);
    sb_append(&sb, wal_name);
    sb_append(&sb, cloud_comp_ext(comp));
    return sb_detach(&sb);
}

/* -CEL_E_INVALID unless id is a backup ID. */
static int check_backup_id(const char *id, struct cel_err *err)
{
    char q[CEL_SHOW_BUF];
    if (ts_is_backup_id(id))
        return 0;
    return cel_err_set(err, CEL_E_INVALID, "invalid backup ID '%s': not YYYYMMDDTHHMMSS",
                       cel_show(id, strlen(id), q));
}

char *cloud_backup_prefix(const char *prefix, const char *server, const char *backup_id,
                          struct cel_err *err)
{
    if (cloud_server_check(server, err) < 0 || check_backup_id(backup_id, err) < 0)
        return NULL;
    struct strbuf sb = {0};
    append_server(&sb, prefix, server);
    sb_appendf(&sb, "base/%s/", backup_id);
    return sb_detach(&sb);
}

char *cloud_backup_key(const char *prefix, const char *server, const char *backup_id,
                       enum cloud_key_kind kind, uint32_t oid, unsigned part, enum cloud_comp comp,
                       struct cel_err *err)
{
    if (kind != CLOUD_KEY_BACKUP_INFO && kind != CLOUD_KEY_DATA_TAR && kind != CLOUD_KEY_TBS_TAR) {
        cel_err_set(err, CEL_E_INVALID, "a WAL file is not a backup object");
        return NULL;
    }
    if (kind == CLOUD_KEY_TBS_TAR && oid == 0) {
        cel_err_set(err, CEL_E_INVALID, "invalid tablespace OID 0");
        return NULL;
    }
    char *dir = cloud_backup_prefix(prefix, server, backup_id, err);
    if (!dir)
        return NULL;
    struct strbuf sb = {0};
    sb_append(&sb, dir);
    free(dir);
    if (kind == CLOUD_KEY_BACKUP_INFO) {
        sb_append(&sb, "backup.info");
        return sb_detach(&sb);
    }
    if (kind == CLOUD_KEY_DATA_TAR)
        sb_append(&sb, "data");
    else
        sb_appendf(&sb, "%" PRIu32, oid);
    if (part > 0)
        sb_appendf(&sb, "_%04u", part);
    sb_append(&sb, ".tar");
    sb_append(&sb, cloud_comp_ext(comp));
    return sb_detach(&sb);
}

char *cloud_key_format(const char *prefix, const struct cloud_key *k, struct cel_err *err)
{
    if (k->kind == CLOUD_KEY_WAL)
        return cloud_wal_key(prefix, k->server, k->wal, k->comp, err);
    return cloud_backup_key(prefix, k->server, k->backup_id, k->kind, k->oid, k->part, k->comp,
                            err);
}

/* Set err to "invalid object key 'KEY': <why>" and return -CEL_E_INVALID. */
static int bad_key(struct cel_err *err, const char *key, const char *fmt, ...) CEL_PRINTF(3, 4);

static int bad_key(struct cel_err *err, const char *key, const char *fmt, ...)
{
    char q[CEL_SHOW_BUF], why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return cel_err_set(err, CEL_E_INVALID, "invalid object key '%s': %s",
                       cel_show(key, strlen(key), q), why);
}

/* The WAL file under wals/: rest is "<hash>/<file>" or "<file>". */
static int parse_wal(const char *key, const char *rest, struct cloud_key *k, struct cel_err *err)
{
    char q[CEL_SHOW_BUF], hash[17];
    const char *slash = strchr(rest, '/');
    const char *file = slash ? slash + 1 : rest;
    size_t hlen = slash ? (size_t)(slash - rest) : 0;
    if (strchr(file, '/'))
        return bad_key(err, key, "WAL files are at most one directory below wals/");
    size_t flen = strlen(file), stem = flen;
    k->comp = CLOUD_COMP_NONE;
    if (!wal_name_is_valid(file)) {
        const char *dot = strrchr(file, '.');
        stem = dot ? (size_t)(dot - file) : flen;
        char name[WAL_NAME_MAX];
        bool ok = dot && stem < sizeof name && comp_from_ext(dot, flen - stem, &k->comp);
        if (ok) {
            memcpy(name, file, stem);
            name[stem] = '\0';
            ok = wal_name_is_valid(name);
        }
        if (!ok)
            return bad_key(err, key,
                           "'%s' is not a WAL file name with an optional compression suffix",
                           cel_show(file, flen, q));
    }
    memcpy(k->wal, file, stem);
    k->wal[stem] = '\0';
    wal_name_parse(k->wal, &k->wal_name, NULL);
    wal_hash_dir(k->wal, hash, NULL);
    if (!hash[0] && slash)
        return bad_key(err, key, "a history file lives directly under wals/");
    if (hash[0] && (hlen != 16 || memcmp(rest, hash, 16) != 0))
        return bad_key(err, key, "%s belongs in the hash directory %s", k->wal, hash);
    k->kind = CLOUD_KEY_WAL;
    return 0;
}

/* "NNNN" (4 digits or more, at least 1) after a tar name's '_'. */
static bool parse_part(const char *s, size_t len, unsigned *out)
{
    unsigned long v = 0;
    if (len < 4 || len > 9)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *out = (unsigned)v;
    return v >= 1;
}

/* A tablespace OID in decimal: 1 to 4294967295, no sign or leading zero. */
static bool parse_oid(const char *s, size_t len, uint32_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 10 || s[0] == '0')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* A backup object under base/: rest is "<ID>/<file>". */
static int parse_backup(const char *key, const char *rest, struct cloud_key *k, struct cel_err *err)
{
    char q[CEL_SHOW_BUF];
    const char *slash = strchr(rest, '/');
    if (!slash)
        return bad_key(err, key, "no object inside the backup directory");
    size_t idlen = (size_t)(slash - rest);
    if (idlen >= sizeof k->backup_id)
        return bad_key(err, key, "'%s' is not a backup ID (YYYYMMDDTHHMMSS)",
                       cel_show(rest, idlen, q));
    memcpy(k->backup_id, rest, idlen);
    k->backup_id[idlen] = '\0';
    if (!ts_is_backup_id(k->backup_id))
        return bad_key(err, key, "'%s' is not a backup ID (YYYYMMDDTHHMMSS)",
                       cel_show(rest, idlen, q));
    const char *file = slash + 1;
    size_t flen = strlen(file);
    if (strchr(file, '/'))
        return bad_key(err, key, "backup objects are directly inside the backup directory");
    if (strcmp(file, "backup.info") == 0) {
        k->kind = CLOUD_KEY_BACKUP_INFO;
        return 0;
    }
    const char *tar = strstr(file, ".tar");
    if (!tar)
        return bad_key(err, key, "'%s' is neither backup.info nor a tar file (data.tar, OID.tar)",
                       cel_show(file, flen, q));
    const char *ext = tar + 4;
    if (!comp_from_ext(ext, strlen(ext), &k->comp))
        return bad_key(err, key, "unknown compression suffix '%s'", cel_show(ext, strlen(ext), q));
    size_t nlen = (size_t)(tar - file);
    const char *under = memchr(file, '_', nlen);
    size_t blen = under ? (size_t)(under - file) : nlen;
    k->part = 0;
    if (under && !parse_part(under + 1, nlen - blen - 1, &k->part))
        return bad_key(err, key, "'%s' is not a part number (0001 and up)",
                       cel_show(under + 1, nlen - blen - 1, q));
    if (blen == 4 && memcmp(file, "data", 4) == 0) {
        k->kind = CLOUD_KEY_DATA_TAR;
    } else if (parse_oid(file, blen, &k->oid)) {
        k->kind = CLOUD_KEY_TBS_TAR;
    } else {
        return bad_key(err, key, "'%s' is neither \"data\" nor a tablespace OID",
                       cel_show(file, blen, q));
    }
    return 0;
}

int cloud_key_parse(const char *prefix, const char *key, struct cloud_key *out, struct cel_err *err)
{
    char q[CEL_SHOW_BUF];
    struct cloud_key k = {0};
    const char *rest = key;
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    if (plen > 0) {
        if (strncmp(key, prefix, plen) != 0 || key[plen] != '/')
            return bad_key(err, key, "not under '%s/'", cel_show(prefix, plen, q));
        rest = key + plen + 1;
    }
    const char *slash = strchr(rest, '/');
    if (!slash)
        return bad_key(err, key, "no server directory");
    size_t slen = (size_t)(slash - rest);
    if (slen >= sizeof k.server)
        return bad_key(err, key, "the server name is longer than 255 bytes");
    memcpy(k.server, rest, slen);
    k.server[slen] = '\0';
    if (cloud_server_check(k.server, NULL) < 0)
        return bad_key(err, key, "'%s' is not a server name", cel_show(rest, slen, q));
    rest = slash + 1;
    int rc;
    if (cel_str_starts(rest, "wals/"))
        rc = parse_wal(key, rest + 5, &k, err);
    else if (cel_str_starts(rest, "base/"))
        rc = parse_backup(key, rest + 5, &k, err);
    else
        return bad_key(err, key, "neither under SERVER/wals/ nor under SERVER/base/");
    if (rc < 0)
        return rc;
    /* the inverse check: only what barman-cloud would write is accepted */
    char *again = cloud_key_format(prefix, &k, NULL);
    bool same = again && strcmp(again, key) == 0;
    free(again);
    if (!same)
        return bad_key(err, key, "not written the way barman-cloud writes it");
    *out = k;
    return 0;
}

int cloud_comp_kind(enum cloud_comp comp, enum comp_kind *out, struct cel_err *err)
{
    switch (comp) {
    case CLOUD_COMP_NONE:
        *out = COMP_NONE;
        return 0;
    case CLOUD_COMP_GZIP:
        *out = COMP_GZIP;
        return 0;
    case CLOUD_COMP_BZIP2:
        *out = COMP_BZIP2;
        return 0;
    case CLOUD_COMP_ZSTD:
        *out = COMP_ZSTD;
        return 0;
    case CLOUD_COMP_LZ4:
        *out = COMP_LZ4;
        return 0;
    case CLOUD_COMP_SNAPPY:
    case CLOUD_COMP_XZ:
        break;
    }
    return cel_err_set(err, CEL_E_INVALID, "%s compression is not supported by cellar",
                       cloud_comp_name(comp));
}
