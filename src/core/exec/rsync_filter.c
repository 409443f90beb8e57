/*
 * rsync_filter.c - the job's include and exclude patterns, applied as
 * rsync applies them.
 *
 * Our own matcher applies the job's patterns with rsync's rules: the
 * includes first, then the excludes, the first match deciding; a leading
 * '/' anchors a pattern at the source root, a trailing '/' makes it match
 * directories only, a pattern without '/' matches a name at any depth, one
 * with '/' the last components of the path; '*' stops at '/', '**' does
 * not, and "dir/" followed by three stars is "dir/" plus everything under
 * it. An excluded directory is not descended into, so excluding
 * "everything in /pg_wal/" keeps pg_wal (created empty) and leaves out all
 * of its contents. The remote listing also gets the patterns (so rsync
 * prunes excluded trees over the wire), and the result is filtered again
 * here so both kinds of source agree. The file lists are authoritative:
 * the copying workers get no filters.
 */
#include "rsync_int.h"

static void filters_add(struct filters *f, const char *pattern, bool include)
{
    size_t len = strlen(pattern);
    if (len == 0)
        return;
    /* "dir/" and three stars is "dir/" and "dir/" with two stars at once
     * (rsync's shorthand). */
    if (len > 4 && cel_str_ends(pattern, "/***")) {
        char *dir = cel_xstrndup(pattern, len - 3);
        filters_add(f, dir, include);
        free(dir);
    }
    struct rule r = {.include = include};
    const char *p = pattern;
    if (*p == '/') {
        r.anchored = true;
        p++;
        len--;
    }
    if (len > 0 && p[len - 1] == '/') {
        r.dir_only = true;
        len--;
    }
    r.pat = cel_xstrndup(p, len);
    r.dblstar = strstr(r.pat, "**") != NULL;
    for (const char *c = r.pat; *c; c++)
        r.slashes += *c == '/';
    f->r = cel_xrealloc_array(f->r, f->n + 1, sizeof *f->r);
    f->r[f->n++] = r;
}

/* Includes first: with rsync's first-match rule, an include wins. */
void rsync_filters_build(struct filters *f, const struct rsync_opts *o)
{
    for (const char *const *p = o->include; p && *p; p++)
        filters_add(f, *p, true);
    for (const char *const *p = o->exclude; p && *p; p++)
        filters_add(f, *p, false);
}

void rsync_filters_free(struct filters *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->r[i].pat);
    free(f->r);
    memset(f, 0, sizeof *f);
}

/* A bracket expression at p ('[') against c: 1 match, 0 no match, -1 when
 * it is not a well-formed class (then '[' is an ordinary character). *end
 * is set to its closing ']'. */
static int class_match(const char *p, unsigned char c, const char **end)
{
    const char *q = p + 1;
    bool neg = *q == '!' || *q == '^';
    bool hit = false;
    if (neg)
        q++;
    for (bool first = true; *q && (first || *q != ']'); first = false) {
        if (*q == '\\' && q[1])
            q++;
        unsigned char lo = (unsigned char)*q;
        if (q[1] == '-' && q[2] && q[2] != ']') {
            unsigned char hi = (unsigned char)q[2];
            hit = hit || (c >= lo && c <= hi);
            q += 3;
        } else {
            hit = hit || c == lo;
            q++;
        }
    }
    if (*q != ']')
        return -1;
    *end = q;
    return hit != neg;
}

/* rsync-style wildcard match of the whole text t against pattern p: '*'
 * any run of characters but '/', "**" any run, '?' one character but '/',
 * "[...]" a class, '\' quotes the next character. Patterns are short; the
 * backtracking is fine. */
static bool wild(const char *p, const char *t)
{
    for (; *p; p++, t++) {
        if (*p == '*') {
            bool any = p[1] == '*';
            while (*p == '*')
                p++;
            if (!*p)
                return any || !strchr(t, '/');
            for (;; t++) {
                if (wild(p, t))
                    return true;
                if (!*t || (!any && *t == '/'))
                    return false;
            }
        }
        if (!*t)
            return false;
        if (*p == '?') {
            if (*t == '/')
                return false;
            continue;
        }
        if (*p == '[' && *t != '/') {
            const char *end;
            int m = class_match(p, (unsigned char)*t, &end);
            if (m == 0)
                return false;
            if (m == 1) {
                p = end;
                continue;
            }
        }
        if (*p == '\\' && p[1])
            p++;
        if (*p != *t)
            return false;
    }
    return !*t;
}

static bool rule_matches(const struct rule *r, const char *path, bool is_dir)
{
    if (r->dir_only && !is_dir)
        return false;
    if (r->anchored)
        return wild(r->pat, path);
    if (r->dblstar) {
        for (const char *s = path; s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL)
            if (wild(r->pat, s))
                return true;
        return false;
    }
    /* The last slashes+1 components of path. */
    int need = r->slashes + 1, seen = 0;
    const char *q = path + strlen(path);
    while (q > path && !(q[-1] == '/' && ++seen == need))
        q--;
    if (q == path && seen + 1 < need)
        return false;
    return wild(r->pat, q);
}

/* True when the entry itself is excluded (its parents are not looked at). */
bool rsync_filtered_out(const struct filters *f, const char *path, bool is_dir)
{
    for (size_t i = 0; i < f->n; i++)
        if (rule_matches(&f->r[i], path, is_dir))
            return !f->r[i].include;
    return false;
}

/* True when the entry or one of its parent directories is excluded (for a
 * listing that came from rsync, which may not have pruned as we do). */
bool rsync_filtered_out_path(const struct filters *f, char *path, bool is_dir)
{
    for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        bool out = rsync_filtered_out(f, path, true);
        *s = '/';
        if (out)
            return true;
    }
    return rsync_filtered_out(f, path, is_dir);
}

/* ---- the public matcher ---------------------------------------------------- */

struct rsync_filter {
    struct filters f;
};

struct rsync_filter *rsync_filter_new(const char *const *include, const char *const *exclude)
{
    struct rsync_filter *rf = cel_xcalloc(1, sizeof *rf);
    struct rsync_opts o = {.include = include, .exclude = exclude};
    rsync_filters_build(&rf->f, &o);
    return rf;
}

bool rsync_filter_excludes(const struct rsync_filter *f, const char *path, bool is_dir)
{
    return rsync_filtered_out(&f->f, path, is_dir);
}

void rsync_filter_free(struct rsync_filter *f)
{
    if (!f)
        return;
    rsync_filters_free(&f->f);
    free(f);
}
