/*
 * xlogdb_place.c - which file is a server's WAL catalogue, in which style,
 * and the move from Barman 3.12's place to Barman 3.13's.
 *
 * Barman 3.13 renamed wals_directory/xlog.db to
 * xlogdb_directory/<server>-xlog.db; on any access where the new file is
 * missing it writes it (from the archive) and deletes the old one, and from
 * then on it never reads the old name. Barman 3.14 added a fifth field
 * (encryption) to every line it writes; 3.13 cannot read such lines, 3.4
 * cannot read them either and knows only the old name. cellar shares a
 * home with any of them by writing each home in the style it finds
 * (xdb_place's rules, in xlogdb.h), unless cellar_xlogdb_format says
 * otherwise, and by migrating only where Barman >= 3.13 would have.
 *
 * The migration carries the old file's bytes over, where Barman rebuilds
 * from the archive: the same lines when the old catalogue was right, and a
 * damaged one stays damaged for rebuild-xlogdb to mend, instead of being
 * silently replaced. It writes the new file durably before deleting the
 * old one, so a crash between the two leaves both, the new one winning as
 * in Barman, with the same content.
 */
#include <errno.h>
#include <unistd.h>

#include "storage.h"
#include "xlogdb.h"
#include "xlogdb_int.h"

const char *xdb_format_name(enum xdb_format f)
{
    switch (f) {
    case XDB_FORMAT_3_4:
        return "3.4";
    case XDB_FORMAT_3_13:
        return "3.13";
    case XDB_FORMAT_3_14:
        return "3.14";
    case XDB_FORMAT_AUTO:
        break;
    }
    return "auto";
}

static char *old_name(const struct xdb_home *h)
{
    return cel_xasprintf("%s/xlog.db", h->wals_dir);
}

static char *new_name(const struct xdb_home *h)
{
    return cel_xasprintf("%s/%s-xlog.db", h->xlogdb_dir ? h->xlogdb_dir : h->wals_dir, h->server);
}

bool xdb_exists(const struct xdb_home *h)
{
    char *o = old_name(h), *n = new_name(h);
    bool any = stor_exists(n) || stor_exists(o);
    free(o);
    free(n);
    return any;
}

int xdb_place(const struct xdb_home *h, struct xdb_place *out, struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    out->old_path = old_name(h);
    out->new_path = new_name(h);
    bool have_old = stor_exists(out->old_path), have_new = stor_exists(out->new_path);
    enum xdb_format style = h->format;
    if (style == XDB_FORMAT_AUTO) {
        if (have_new) {
            int nf = xdb_tail_fields(out->new_path, err);
            if (nf < 0) {
                xdb_place_free(out);
                return nf;
            }
            style = nf == 5 ? XDB_FORMAT_3_14 : XDB_FORMAT_3_13;
        } else {
            style = h->xlogdb_dir_set ? XDB_FORMAT_3_13 : XDB_FORMAT_3_4;
        }
    }
    out->style = style;
    bool old_style = style == XDB_FORMAT_3_4;
    out->path = cel_xstrdup(old_style ? out->old_path : out->new_path);
    out->migrate = !old_style && have_old && !have_new;
    if (have_old && have_new) {
        out->ignored = true;
        out->ignored_path = cel_xstrdup(old_style ? out->new_path : out->old_path);
    }
    return 0;
}

void xdb_place_free(struct xdb_place *p)
{
    free(p->path);
    free(p->old_path);
    free(p->new_path);
    free(p->ignored_path);
    memset(p, 0, sizeof *p);
}

char *xdb_path(const struct xdb_home *h)
{
    struct xdb_place p;
    if (xdb_place(h, &p, NULL) < 0)
        return new_name(h);
    char *path = p.path;
    p.path = NULL;
    xdb_place_free(&p);
    return path;
}

int xdb_migrate(const struct xdb_home *h, struct cel_err *err)
{
    struct xdb_place p;
    int rc = xdb_place(h, &p, err);
    if (rc < 0 || !p.migrate)
        goto out;
    char *text = NULL;
    size_t len = 0;
    rc = stor_read_file(p.old_path, SIZE_MAX, &text, &len, err);
    if (rc == 0)
        rc = stor_mkdir_p(h->xlogdb_dir ? h->xlogdb_dir : h->wals_dir, 0700, err);
    if (rc == 0)
        rc = stor_write_file(p.new_path, text ? text : "", len, 0600, err);
    free(text);
    if (rc == 0 && unlink(p.old_path) < 0 && errno != ENOENT)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot remove '%s'", p.old_path);
    if (rc == 0)
        rc = stor_fsync_parent(p.old_path, err);
    if (rc < 0)
        cel_err_prefix(err, "cannot move the WAL catalogue '%s' to '%s' (Barman >= 3.13's place)",
                       p.old_path, p.new_path);
out:
    xdb_place_free(&p);
    return rc;
}
