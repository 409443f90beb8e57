/*
 * xlogdb.c - reading xlog.db fast: one pass over the bytes, fields split by
 * hand (an xlog.db of a busy server has millions of lines), entries in one
 * growing array, sorted only when the file was not. xdb_load_newest reads
 * only the file's tail, for the console's WAL lag. Which file is read and
 * how lines are written is xdb_place's decision (xlogdb_place.c): every
 * function here that touches the file asks it first.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock.h"
#include "pyval.h"
#include "storage.h"
#include "xlogdb.h"
#include "xlogdb_int.h"

#define XLOGDB_MAX ((size_t)1 << 31)

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Split [s, e) into at most 5 whitespace-separated fields (6: more). */
int xdb_split_fields(const char *s, const char *e, const char *fs[5], size_t fl[5])
{
    int n = 0;
    while (s < e) {
        while (s < e && is_ws(*s))
            s++;
        if (s == e)
            break;
        const char *start = s;
        while (s < e && !is_ws(*s))
            s++;
        if (n == 5)
            return 6;
        fs[n] = start;
        fl[n] = (size_t)(s - start);
        n++;
    }
    return n;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct xdb_entry *)a)->name, ((const struct xdb_entry *)b)->name);
}

int xdb_parse_line(const char *s, const char *le, const char *name, int lineno,
                   struct xdb_entry *e, struct wal_name *w, struct cel_err *err)
{
    const char *fs[5] = {0};
    size_t fl[5] = {0};
    memset(e, 0, sizeof *e);
    /* fields are copied as C strings: a NUL would cut one short and let the
     * rest of it pass unchecked */
    if (memchr(s, '\0', (size_t)(le - s)))
        return cel_err_set(err, CEL_E_FORMAT, "%s:%d: contains a NUL byte", name, lineno);
    int nf = xdb_split_fields(s, le, fs, fl);
    if (nf < 3 || nf > 5)
        return cel_err_set(err, CEL_E_FORMAT,
                           "%s:%d: expected 'name size time [compression [encryption]]' "
                           "separated by tabs",
                           name, lineno);
    if (fl[0] >= sizeof e->name)
        goto bad_name;
    memcpy(e->name, fs[0], fl[0]);
    struct wal_name parsed;
    if (wal_name_parse(e->name, w ? w : &parsed, NULL) < 0)
        goto bad_name;
    char num[64];
    if (fl[1] >= sizeof num)
        goto bad_size;
    memcpy(num, fs[1], fl[1]);
    num[fl[1]] = '\0';
    char *stop = NULL;
    errno = 0;
    unsigned long long size = strtoull(num, &stop, 10);
    if (errno || *stop || num[0] == '-')
        goto bad_size;
    e->size = size;
    if (fl[2] >= sizeof num)
        goto bad_time;
    memcpy(num, fs[2], fl[2]);
    num[fl[2]] = '\0';
    e->time = strtod(num, &stop);
    if (*stop || !isfinite(e->time))
        goto bad_time;
    if (nf >= 4 && !(fl[3] == 4 && memcmp(fs[3], "None", 4) == 0)) {
        if (fl[3] >= sizeof e->compression)
            return cel_err_set(err, CEL_E_FORMAT, "%s:%d: invalid compression '%.*s'", name,
                               lineno, (int)(fl[3] > 64 ? 64 : fl[3]), fs[3]);
        memcpy(e->compression, fs[3], fl[3]);
    }
    if (nf == 5 && !(fl[4] == 4 && memcmp(fs[4], "None", 4) == 0)) {
        if (fl[4] >= sizeof e->encryption)
            return cel_err_set(err, CEL_E_FORMAT, "%s:%d: invalid encryption '%.*s'", name,
                               lineno, (int)(fl[4] > 64 ? 64 : fl[4]), fs[4]);
        memcpy(e->encryption, fs[4], fl[4]);
    }
    return 0;

bad_name:
    return cel_err_set(err, CEL_E_FORMAT, "%s:%d: '%.*s' is not a WAL file name", name, lineno,
                       (int)(fl[0] > 64 ? 64 : fl[0]), fs[0]);
bad_size:
    return cel_err_set(err, CEL_E_FORMAT, "%s:%d: invalid size '%.*s'", name, lineno,
                       (int)(fl[1] > 64 ? 64 : fl[1]), fs[1]);
bad_time:
    return cel_err_set(err, CEL_E_FORMAT, "%s:%d: invalid time '%.*s'", name, lineno,
                       (int)(fl[2] > 64 ? 64 : fl[2]), fs[2]);
}

int xdb_parse(const char *text, size_t len, const char *name, struct xdb *out,
              struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    int lineno = 0;
    bool sorted = true;
    const char *s = text, *end = text + len;
    while (s < end) {
        lineno++;
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 1024;
            out->entries = cel_xrealloc_array(out->entries, cap, sizeof *out->entries);
        }
        struct xdb_entry *e = &out->entries[out->n];
        if (xdb_parse_line(s, le, name, lineno, e, NULL, err) < 0) {
            xdb_free(out);
            return -CEL_E_FORMAT;
        }
        s = nl ? nl + 1 : end;
        if (out->n > 0 && strcmp(out->entries[out->n - 1].name, e->name) >= 0)
            sorted = false;
        out->n++;
    }
    if (!sorted)
        qsort(out->entries, out->n, sizeof *out->entries, cmp_entry);
    return 0;
}

int xdb_lock(const char *lock_dir, const char *server, struct lock **out, struct cel_err *err)
{
    char name[LOCK_NAME_MAX];
    lock_name(server, "xlogdb", name);
    return lock_acquire(lock_dir, name, true, out, err);
}

/* Where the text's last line starts when it has no newline: len when the
 * text ends with one, or is empty, or when that line holds a NUL byte (NUL
 * bytes are not what a killed append leaves but what a crash of the machine
 * may: damage for rebuild-xlogdb, which xdb_parse reports). */
static size_t cut_start(const char *text, size_t len)
{
    if (len == 0 || text[len - 1] == '\n')
        return len;
    size_t i = len;
    while (i > 0 && text[i - 1] != '\n')
        i--;
    return memchr(text + i, '\0', len - i) ? len : i;
}

/* Describe the cut last line [s, e) (line number line) in *cut. */
static void describe_cut(const char *s, const char *e, int line, struct xdb_cut *cut)
{
    memset(cut, 0, sizeof *cut);
    cut->cut = true;
    cut->line = line;
    while (s < e && is_ws(*s))
        s++;
    const char *f = s;
    while (f < e && !is_ws(*f))
        f++;
    size_t n = (size_t)(f - s);
    if (n >= sizeof cut->prefix)
        n = sizeof cut->prefix - 1;
    memcpy(cut->prefix, s, n);
    cut->whole_name = f < e && is_ws(*f) && wal_name_is_valid(cut->prefix);
}

static int read_text(const struct xdb_home *h, struct xdb *out, struct xdb_cut *cut,
                     struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    if (cut)
        memset(cut, 0, sizeof *cut);
    struct xdb_place place;
    int rc = xdb_migrate(h, err);
    if (rc < 0)
        return rc;
    if ((rc = xdb_place(h, &place, err)) < 0)
        return rc;
    const char *path = place.path;
    char *text = NULL;
    size_t len = 0;
    rc = stor_read_file(path, XLOGDB_MAX, &text, &len, err);
    if (rc == -CEL_E_NOT_FOUND) {
        rc = 0;
    } else if (rc == 0) {
        size_t keep = cut ? cut_start(text, len) : len;
        rc = xdb_parse(text, keep, path, out, err);
        if (rc == 0 && keep < len) {
            int lines = 1;
            for (size_t i = 0; i < keep; i++)
                lines += text[i] == '\n';
            describe_cut(text + keep, text + len, lines, cut);
        }
        if (rc == -CEL_E_FORMAT)
            cel_err_hint(err,
                         "Run 'cellar rebuild-xlogdb' for this server: it writes xlog.db "
                         "anew from the files in '%s'.",
                         h->wals_dir);
    }
    free(text);
    xdb_place_free(&place);
    return rc;
}

int xdb_read(const struct xdb_home *h, struct xdb *out, struct cel_err *err)
{
    return read_text(h, out, NULL, err);
}

int xdb_read_cut(const struct xdb_home *h, struct xdb *out, struct xdb_cut *cut,
                 struct cel_err *err)
{
    return read_text(h, out, cut, err);
}

/* Where to write, in which style, after a due migration: *place filled
 * (free it) when 0. */
static int place_for_write(const struct xdb_home *h, struct xdb_place *place, struct cel_err *err)
{
    int rc = xdb_migrate(h, err);
    if (rc == 0)
        rc = xdb_place(h, place, err);
    if (rc == 0 && place->style != XDB_FORMAT_3_4)
        rc = stor_mkdir_p(h->xlogdb_dir ? h->xlogdb_dir : h->wals_dir, 0700, err);
    if (rc < 0 && place->path)
        xdb_place_free(place);
    return rc;
}

int xdb_append(const struct xdb_home *h, const struct xdb_entry *entries, size_t n,
               struct cel_err *err)
{
    if (n == 0)
        return 0;
    struct xdb_place place = {0};
    int rc = place_for_write(h, &place, err);
    if (rc < 0)
        return rc;
    struct strbuf text = {0};
    for (size_t i = 0; i < n; i++)
        xdb_format_line(&entries[i], place.style == XDB_FORMAT_3_14, &text);
    rc = stor_append_file(place.path, text.buf, text.len, err);
    sb_free(&text);
    xdb_place_free(&place);
    return rc;
}

int xdb_rewrite(const struct xdb_home *h, const struct xdb *db, struct cel_err *err)
{
    struct xdb_place place = {0};
    int rc = place_for_write(h, &place, err);
    if (rc < 0)
        return rc;
    struct strbuf text = {0};
    for (size_t i = 0; i < db->n; i++)
        xdb_format_line(&db->entries[i], place.style == XDB_FORMAT_3_14, &text);
    /* a rewrite killed before its rename left its temporary file: with the
     * lock held, no other rewrite runs, so any such file is stale */
    rc = stor_remove_stale_tmp(place.path, err);
    if (rc == 0)
        rc = stor_write_file(place.path, sb_str(&text), text.len, 0600, err);
    xdb_place_free(&place);
    sb_free(&text);
    return rc;
}

const struct xdb_entry *xdb_find(const struct xdb *db, const char *name)
{
    size_t i = xdb_lower_bound(db, name);
    return i < db->n && strcmp(db->entries[i].name, name) == 0 ? &db->entries[i] : NULL;
}

void xdb_put(struct xdb *db, const struct xdb_entry *e)
{
    size_t i = xdb_lower_bound(db, e->name);
    if (i < db->n && strcmp(db->entries[i].name, e->name) == 0) {
        db->entries[i] = *e;
        return;
    }
    db->entries = cel_xrealloc_array(db->entries, db->n + 1, sizeof *db->entries);
    memmove(&db->entries[i + 1], &db->entries[i], (db->n - i) * sizeof *db->entries);
    db->entries[i] = *e;
    db->n++;
}

int xdb_load(const struct xdb_home *h, struct xdb *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    if (!xdb_exists(h)) {
        /* nothing archived yet: no need to lock (and barman_home may not
         * exist yet on a server that was never checked) */
        return 0;
    }
    struct lock *l = NULL;
    int rc = xdb_lock(h->lock_dir, h->server, &l, err);
    if (rc < 0)
        return rc;
    rc = xdb_read(h, out, err);
    lock_release(l);
    if (rc == -CEL_E_FORMAT)
        cel_err_hint(err,
                     "Run 'cellar rebuild-xlogdb %s': it writes xlog.db anew from the files "
                     "in '%s'.",
                     h->server, h->wals_dir);
    return rc;
}

void xdb_free(struct xdb *db)
{
    free(db->entries);
    db->entries = NULL;
    db->n = 0;
}

/* The lines of path's tail: from the first line that starts inside its
 * last chunk bytes (growing the chunk until it holds a whole line) to the
 * end, in *text (caller frees). */
static int read_tail(const char *path, char **text, size_t *len, struct cel_err *err)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", path);
    }
    int rc = 0;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", path);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    for (size_t chunk = 4096;; chunk *= 2) {
        size_t want = chunk < size ? chunk : size;
        off_t at = (off_t)(size - want);
        char *buf = cel_xrealloc_array(*text, want + 1, 1);
        *text = buf;
        size_t got = 0;
        while (got < want) {
            ssize_t n = pread(fd, buf + got, want - got, at + (off_t)got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read '%s'", path);
                goto out;
            }
            if (n == 0)
                break; /* shorter than it was: take what there is */
            got += (size_t)n;
        }
        size_t start = 0;
        if (at > 0) {
            /* the first line is cut unless the byte before it ends a line:
             * skip to the first line that starts inside the chunk */
            char *nl = memchr(buf, '\n', got);
            if (!nl || nl + 1 == buf + got)
                continue; /* no whole line after it yet: read more */
            start = (size_t)(nl + 1 - buf);
        }
        memmove(buf, buf + start, got - start);
        *len = got - start;
        buf[*len] = '\0';
        break;
    }
out:
    close(fd);
    if (rc < 0) {
        free(*text);
        *text = NULL;
        *len = 0;
    }
    return rc;
}

int xdb_tail_fields(const char *path, struct cel_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_tail(path, &text, &len, err);
    if (rc < 0)
        return rc;
    /* the last whole line: a cut one (a killed writer's) says nothing */
    size_t end = cut_start(text, len);
    while (end > 0 && text[end - 1] == '\n')
        end--;
    size_t start = end;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    const char *fs[5];
    size_t fl[5];
    rc = end > start ? xdb_split_fields(text + start, text + end, fs, fl) : 0;
    free(text);
    return rc;
}

int xdb_load_newest(const struct xdb_home *h, struct xdb_entry *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    struct xdb_place place = {0};
    const char *path = NULL;
    char *text = NULL;
    size_t len = 0;
    struct lock *l = NULL;
    int rc = 0;
    if (!xdb_exists(h))
        goto out; /* nothing archived yet: no lock, as xdb_load */
    if ((rc = xdb_lock(h->lock_dir, h->server, &l, err)) < 0)
        goto out;
    rc = xdb_migrate(h, err);
    if (rc == 0)
        rc = xdb_place(h, &place, err);
    path = place.path;
    if (rc == 0)
        rc = read_tail(path, &text, &len, err);
    lock_release(l);
    if (rc < 0 || len == 0)
        goto out;
    char *name = cel_xasprintf("%s, last lines", path);
    struct xdb db;
    /* a last line cut short by a killed writer is left out here: the
     * archiver repairs it on its next run */
    rc = xdb_parse(text, cut_start(text, len), name, &db, err);
    free(name);
    if (rc < 0)
        goto out;
    const struct xdb_entry *newest = NULL;
    for (size_t i = 0; i < db.n; i++)
        if (!newest || db.entries[i].time >= newest->time)
            newest = &db.entries[i];
    if (newest) {
        *out = *newest;
        rc = 1;
    }
    xdb_free(&db);
out:
    free(text);
    xdb_place_free(&place);
    return rc;
}

size_t xdb_lower_bound(const struct xdb *db, const char *name)
{
    size_t lo = 0, hi = db->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(db->entries[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void xdb_format_line(const struct xdb_entry *e, bool five, struct strbuf *out)
{
    sb_appendf(out, "%s\t%llu\t", e->name, (unsigned long long)e->size);
    py_repr_float(e->time, out);
    sb_appendf(out, "\t%s", e->compression[0] ? e->compression : "None");
    /* an encrypted file's line needs its 5th field whatever the home's
     * style: without it the file would read as plain */
    if (five || e->encryption[0])
        sb_appendf(out, "\t%s", e->encryption[0] ? e->encryption : "None");
    sb_appendc(out, '\n');
}

bool xdb_is_cut(const struct xdb_home *h)
{
    struct xdb_place place;
    if (xdb_place(h, &place, NULL) < 0)
        return false;
    char last = '\n';
    int fd = open(place.path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 &&
        pread(fd, &last, 1, st.st_size - 1) != 1)
        last = '\n';
    if (fd >= 0)
        close(fd);
    xdb_place_free(&place);
    return last != '\n';
}
