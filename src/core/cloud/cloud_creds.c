/*
 * cloud_creds.c - finding AWS credentials as boto3 does (see cloud_creds.h).
 *
 * The credentials file parser is a line-by-line transcription of what
 * Python's configparser.RawConfigParser._read does with its defaults
 * (comment prefixes '#' and ';' on whole lines only, delimiters '=' and
 * ':', empty lines kept inside multi-line values, strict duplicates), so a
 * file boto3 accepts gives the same credentials and a file it refuses is
 * refused. Per line: strip it; a comment or blank line is skipped (a blank
 * one adds an empty line to a value being continued); a line indented
 * deeper than the line that started the current key continues its value;
 * otherwise it is a "[section]" (text between the first '[' and the last
 * ']') or "key = value" (split at the first '=' or ':'). Only the four keys
 * we need, in the wanted profile and in [DEFAULT], are kept; the others are
 * tracked only by name, for the duplicate check. Two corners differ from
 * Python and are refused instead: a NUL byte, and Unicode whitespace, which
 * counts as text here (Python's str.strip would strip it).
 *
 * Values that may be secrets live in strbufs wiped before they are freed,
 * and no message quotes the file's text.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud_creds.h"
#include "strbuf.h"

/* A credentials file larger than this is not one. */
#define CREDS_FILE_MAX (1024 * 1024)

enum { K_ACCESS, K_SECRET, K_SECURITY_TOKEN, K_SESSION_TOKEN, K_N };
static const char *const key_names[K_N] = {"aws_access_key_id", "aws_secret_access_key",
                                           "aws_security_token", "aws_session_token"};

/* One kept value, its lines joined with '\n' as configparser joins them. */
struct value {
    bool set;
    struct strbuf sb;
};

/* A list of names (sections seen, keys of one section). */
struct names {
    char **v;
    size_t n;
};

struct parse {
    const char *section;        /* the section holding the profile's keys */
    const char *profile, *path; /* for messages */
    struct value prof[K_N], def[K_N];
    struct names sections, keys, def_keys;
    bool in_section, in_default, in_profile, profile_found;
    bool has_key;      /* a key was read in this section: a deeper line continues it */
    struct value *cur; /* the kept value being continued, or NULL */
    size_t indent_level;
};

static void wipe_sb(struct strbuf *sb)
{
    if (sb->buf)
        explicit_bzero(sb->buf, sb->cap);
    sb_free(sb);
}

static void names_free(struct names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Add name to l; false when it was there already. */
static bool names_add(struct names *l, const char *name, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == len && memcmp(l->v[i], name, len) == 0)
            return false;
    l->v = cel_xrealloc_array(l->v, l->n + 1, sizeof *l->v);
    l->v[l->n++] = cel_xstrndup(name, len);
    return true;
}

static void parse_free(struct parse *p)
{
    for (int k = 0; k < K_N; k++) {
        wipe_sb(&p->prof[k].sb);
        wipe_sb(&p->def[k].sb);
    }
    names_free(&p->sections);
    names_free(&p->keys);
    names_free(&p->def_keys);
}

/* The whitespace Python's str.strip() removes, ASCII part. */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
           (c >= 0x1c && c <= 0x1f);
}

static int bad_line(struct cel_err *err, const char *path, size_t line, const char *why)
{
    return cel_err_set(err, CEL_E_FORMAT, "cannot read credentials file '%s': line %zu: %s", path,
                       line, why);
}

/* Offset of the first byte of text that is not valid UTF-8, or len. */
static size_t utf8_bad_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1, cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2, cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, cp = c & 0x07u;
        } else {
            return i;
        }
        if (len - i <= n)
            return i;
        for (size_t j = 1; j <= n; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + j] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += n + 1;
    }
    return len;
}

/* The kept value for key (len bytes, lower-cased) in the current section. */
static struct value *kept(struct parse *p, const char *key, size_t len)
{
    if (!p->in_default && !p->in_profile)
        return NULL;
    for (int k = 0; k < K_N; k++)
        if (strlen(key_names[k]) == len && memcmp(key_names[k], key, len) == 0)
            return p->in_default ? &p->def[k] : &p->prof[k];
    return NULL;
}

/* One line (len bytes, no line break) numbered lineno. */
static int parse_line(struct parse *p, const char *line, size_t len, size_t lineno,
                      struct cel_err *err)
{
    size_t b = 0, e = len;
    while (b < e && is_space(line[b]))
        b++;
    while (e > b && is_space(line[e - 1]))
        e--;
    const char *v = line + b;
    size_t vlen = e - b;
    if (vlen == 0 || v[0] == '#' || v[0] == ';') {
        /* a blank line inside a value becomes an empty line of it */
        if (vlen == 0 && p->in_section && p->has_key && p->cur)
            sb_appendc(&p->cur->sb, '\n');
        return 0;
    }
    size_t indent = b;
    if (p->in_section && p->has_key && indent > p->indent_level) {
        if (p->cur) {
            sb_appendc(&p->cur->sb, '\n');
            sb_appendn(&p->cur->sb, v, vlen);
        }
        return 0;
    }
    p->indent_level = indent;
    /* "[" + at least one character + the last "]" of the line */
    const char *close = NULL;
    if (vlen >= 3 && v[0] == '[')
        for (size_t i = vlen; i > 2 && !close; i--)
            if (v[i - 1] == ']')
                close = v + i - 1;
    if (close) {
        const char *name = v + 1;
        size_t nlen = (size_t)(close - name);
        p->has_key = false;
        p->cur = NULL;
        p->in_section = true;
        p->in_default = nlen == 7 && memcmp(name, "DEFAULT", 7) == 0;
        p->in_profile = false;
        if (p->in_default)
            return 0;
        if (!names_add(&p->sections, name, nlen))
            return bad_line(err, p->path, lineno, "a section appears a second time");
        names_free(&p->keys);
        p->in_profile = strlen(p->section) == nlen && memcmp(p->section, name, nlen) == 0;
        if (p->in_profile)
            p->profile_found = true;
        return 0;
    }
    if (!p->in_section)
        return bad_line(err, p->path, lineno, "a line before the first [section]");
    size_t d = 0;
    while (d < vlen && v[d] != '=' && v[d] != ':')
        d++;
    if (d == vlen)
        return bad_line(err, p->path, lineno, "neither a [section] nor a key = value");
    size_t klen = d;
    while (klen > 0 && is_space(v[klen - 1]))
        klen--;
    if (klen == 0)
        return bad_line(err, p->path, lineno, "no key before the '=' or ':'");
    char *key = cel_xstrndup(v, klen);
    for (size_t i = 0; i < klen; i++)
        if (key[i] >= 'A' && key[i] <= 'Z')
            key[i] = (char)(key[i] - 'A' + 'a');
    bool fresh = names_add(p->in_default ? &p->def_keys : &p->keys, key, klen);
    struct value *val = kept(p, key, klen);
    explicit_bzero(key, klen);
    free(key);
    if (!fresh)
        return bad_line(err, p->path, lineno, "a key appears a second time in its section");
    size_t vb = d + 1;
    while (vb < vlen && is_space(v[vb]))
        vb++;
    p->has_key = true;
    p->cur = val;
    if (val) {
        val->set = true;
        sb_reset(&val->sb);
        sb_appendn(&val->sb, v + vb, vlen - vb);
    }
    return 0;
}

/* The value of key k in the profile (its own, else [DEFAULT]'s), or NULL. */
static struct value *effective(struct parse *p, int k)
{
    if (p->prof[k].set)
        return &p->prof[k];
    return p->def[k].set ? &p->def[k] : NULL;
}

/* Finish a value as configparser does (rstrip) and check it is one plain,
 * non-empty line of text... or at least not a nested block; copy it out. */
static int take(struct parse *p, int k, char **out, bool may_be_empty, struct cel_err *err)
{
    struct value *val = effective(p, k);
    *out = NULL;
    if (!val)
        return 0;
    struct strbuf *sb = &val->sb;
    while (sb->len > 0 && is_space(sb->buf[sb->len - 1]))
        sb->buf[--sb->len] = '\0';
    if (sb->len > 0 && sb->buf[0] == '\n')
        return cel_err_set(err, CEL_E_CONFIG,
                           "%s of profile '%s' in '%s' is a nested block, not a value",
                           key_names[k], p->profile, p->path);
    if (sb->len == 0) {
        if (may_be_empty)
            return 0;
        return cel_err_set(err, CEL_E_CONFIG, "%s of profile '%s' in '%s' is empty", key_names[k],
                           p->profile, p->path);
    }
    *out = cel_xstrndup(sb_str(sb), sb->len);
    return 0;
}

/* cloud_creds_parse, for the keys in section (which names profile). */
static int parse_text(const char *text, size_t len, const char *section, const char *profile,
                      const char *path, struct cloud_creds *out, bool *found, struct cel_err *err)
{
    struct parse p = {.section = section, .profile = profile, .path = path};
    struct cloud_creds c = {0};
    int rc = 0;
    *found = false;
    size_t bad = utf8_bad_at((const unsigned char *)text, len);
    const char *nul = memchr(text, '\0', len);
    if (nul && (size_t)(nul - text) < bad)
        bad = (size_t)(nul - text);
    size_t lineno = 1, start = 0;
    for (size_t i = 0; i <= len && rc == 0; i++) {
        if (i == bad && bad < len) {
            rc = bad_line(err, path, lineno,
                          text[i] ? "not UTF-8 text" : "a NUL byte (not a text file)");
            break;
        }
        if (i < len && text[i] != '\n' && text[i] != '\r')
            continue;
        rc = parse_line(&p, text + start, i - start, lineno, err);
        if (i + 1 < len && text[i] == '\r' && text[i + 1] == '\n')
            i++;
        start = i + 1;
        lineno++;
    }
    if (rc < 0 || !p.profile_found || !effective(&p, K_ACCESS))
        goto out;
    if ((rc = take(&p, K_ACCESS, &c.access_key, false, err)) < 0)
        goto out;
    if (!effective(&p, K_SECRET)) {
        rc = cel_err_set(err, CEL_E_CONFIG,
                         "profile '%s' in '%s' has aws_access_key_id but no "
                         "aws_secret_access_key",
                         profile, path);
        goto out;
    }
    if ((rc = take(&p, K_SECRET, &c.secret_key, false, err)) < 0)
        goto out;
    int tk = effective(&p, K_SECURITY_TOKEN) ? K_SECURITY_TOKEN : K_SESSION_TOKEN;
    if ((rc = take(&p, tk, &c.session_token, true, err)) < 0)
        goto out;
    c.origin = cel_xasprintf("'%s' profile '%s'", path, profile);
    *out = c;
    *found = true;
    memset(&c, 0, sizeof c);
out:
    cloud_creds_free(&c);
    parse_free(&p);
    return rc < 0 ? rc : 0;
}

int cloud_creds_parse(const char *text, size_t len, const char *profile, const char *path,
                      struct cloud_creds *out, bool *found, struct cel_err *err)
{
    return parse_text(text, len, profile, profile, path, out, found, err);
}

int cloud_creds_parse_config(const char *text, size_t len, const char *profile, const char *path,
                             struct cloud_creds *out, bool *found, struct cel_err *err)
{
    if (strcmp(profile, "default") == 0) {
        int rc = parse_text(text, len, "default", profile, path, out, found, err);
        if (rc < 0 || *found)
            return rc;
    }
    char *section = cel_xasprintf("profile %s", profile);
    int rc = parse_text(text, len, section, profile, path, out, found, err);
    free(section);
    return rc;
}

void cloud_creds_free(struct cloud_creds *creds)
{
    if (!creds)
        return;
    char *s[] = {creds->access_key, creds->secret_key, creds->session_token, creds->origin};
    for (size_t i = 0; i < CEL_ARRAY_LEN(s); i++)
        if (s[i]) {
            explicit_bzero(s[i], strlen(s[i]));
            free(s[i]);
        }
    memset(creds, 0, sizeof *creds);
}

static const char *env_getenv(const char *name)
{
    return getenv(name);
}

/* The home directory: HOME, else the password database (as expanduser). */
static const char *home_dir(const char *(*ge)(const char *))
{
    const char *h = ge("HOME");
    if (h && *h)
        return h;
    struct passwd *pw = getpwuid(getuid());
    return pw && pw->pw_dir ? pw->pw_dir : "";
}

/* path with os.path.expandvars and os.path.expanduser applied, in that
 * order, as botocore does: $NAME and ${NAME} replaced when set (left as
 * they are otherwise), then a leading "~" or "~/" replaced by the home
 * directory ("~user" is left as it is). A new string. */
static char *expand_path(const char *path, const char *(*ge)(const char *))
{
    struct strbuf sb = {0};
    for (const char *s = path; *s;) {
        if (*s != '$') {
            sb_appendc(&sb, *s++);
            continue;
        }
        bool brace = s[1] == '{';
        const char *n = s + 1 + brace, *e = n;
        while ((*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') ||
               *e == '_')
            e++;
        if (e == n || (brace && *e != '}')) {
            sb_appendc(&sb, *s++);
            continue;
        }
        char *name = cel_xstrndup(n, (size_t)(e - n));
        const char *val = ge(name);
        free(name);
        const char *end = e + brace;
        if (val)
            sb_append(&sb, val);
        else
            sb_appendn(&sb, s, (size_t)(end - s));
        s = end;
    }
    char *p = sb_detach(&sb);
    if (p[0] == '~' && (p[1] == '\0' || p[1] == '/')) {
        char *q = cel_xasprintf("%s%s", home_dir(ge), p + 1);
        free(p);
        p = q;
    }
    return p;
}

/* Read the credentials file into *text (NULL when it is absent or not a
 * regular file, which boto3 treats as no file). */
static int read_file(const char *path, char **text, size_t *len, struct cel_err *err)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open credentials file '%s'", path);
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat credentials file '%s'", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode))
        goto out;
    if (st.st_size > CREDS_FILE_MAX) {
        rc = cel_err_set(err, CEL_E_FORMAT, "credentials file '%s' is larger than 1 MiB", path);
        goto out;
    }
    char *buf = cel_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read credentials file '%s'", path);
            explicit_bzero(buf, got);
            free(buf);
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
out:
    close(fd);
    return rc;
}

/* Credentials from the environment; 0 with *found false when
 * AWS_ACCESS_KEY_ID is unset or empty. */
static int from_env(const char *(*ge)(const char *), struct cloud_creds *out, bool *found,
                    struct cel_err *err)
{
    const char *ak = ge("AWS_ACCESS_KEY_ID"), *sk = ge("AWS_SECRET_ACCESS_KEY");
    *found = false;
    if (!ak || !*ak)
        return 0;
    if (!sk || !*sk) {
        int rc = cel_err_set(err, CEL_E_CONFIG,
                             "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is %s",
                             sk ? "empty" : "not");
        cel_err_hint(err, "Set both, or neither to use the shared credentials file.");
        return rc;
    }
    const char *tok = ge("AWS_SECURITY_TOKEN");
    if (!tok || !*tok)
        tok = ge("AWS_SESSION_TOKEN");
    out->access_key = cel_xstrdup(ak);
    out->secret_key = cel_xstrdup(sk);
    out->session_token = tok && *tok ? cel_xstrdup(tok) : NULL;
    out->origin = cel_xstrdup("environment");
    *found = true;
    return 0;
}

typedef int (*creds_parser)(const char *text, size_t len, const char *profile, const char *path,
                            struct cloud_creds *out, bool *found, struct cel_err *err);

/* Read the file named by variable var (else dflt), expanded as botocore
 * expands it, with parse. *path_out gets the path (the caller frees it). */
static int from_file(const char *(*ge)(const char *), const char *var, const char *dflt,
                     creds_parser parse, const char *profile, struct cloud_creds *out, bool *found,
                     char **path_out, struct cel_err *err)
{
    const char *file = ge(var);
    char *path = expand_path(file ? file : dflt, ge);
    char *text = NULL;
    size_t len = 0;
    *found = false;
    *path_out = path;
    int rc = read_file(path, &text, &len, err);
    if (rc == 0 && text)
        rc = parse(text, len, profile, path, out, found, err);
    if (text) {
        explicit_bzero(text, len);
        free(text);
    }
    return rc;
}

int cloud_creds_load(const struct cloud_creds_opts *opts, struct cloud_creds *out,
                     struct cel_err *err)
{
    const char *(*ge)(const char *) = opts && opts->getenv ? opts->getenv : env_getenv;
    bool explicit_profile = opts && opts->profile;
    const char *profile = explicit_profile ? opts->profile : ge("AWS_DEFAULT_PROFILE");
    if (!explicit_profile && !profile)
        profile = ge("AWS_PROFILE");
    if (!profile || !*profile)
        profile = "default";
    bool found = false;
    int rc;
    if (!explicit_profile) {
        rc = from_env(ge, out, &found, err);
        if (rc < 0 || found)
            return rc;
    }
    char *cred_path = NULL, *conf_path = NULL;
    rc = from_file(ge, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials", cloud_creds_parse,
                   profile, out, &found, &cred_path, err);
    if (rc == 0 && !found)
        rc = from_file(ge, "AWS_CONFIG_FILE", "~/.aws/config", cloud_creds_parse_config, profile,
                       out, &found, &conf_path, err);
    if (rc == 0 && !found) {
        if (explicit_profile)
            rc = cel_err_set(err, CEL_E_NOT_FOUND,
                             "no AWS credentials found for profile '%s': neither '%s' nor '%s' "
                             "has them (the environment's keys are not read when a profile is "
                             "given)",
                             profile, cred_path, conf_path);
        else
            rc = cel_err_set(err, CEL_E_NOT_FOUND,
                             "no AWS credentials found: AWS_ACCESS_KEY_ID is not set, and "
                             "neither '%s' nor '%s' has them for profile '%s'",
                             cred_path, conf_path, profile);
        cel_err_hint(err,
                     "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or write them as "
                     "aws_access_key_id and aws_secret_access_key under [%s] in '%s'.",
                     profile, cred_path);
    }
    free(cred_path);
    free(conf_path);
    return rc;
}
