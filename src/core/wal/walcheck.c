/*
 * walcheck.c - content checks of WAL archive files.
 *
 * Layout of the long page header at the start of every segment (PostgreSQL
 * 9.x to 17, xlog_internal.h), host byte order:
 *
 *   0  uint16 xlp_magic        2  uint16 xlp_info     4  uint32 xlp_tli
 *   8  uint64 xlp_pageaddr    16  uint32 xlp_rem_len  (4 bytes padding)
 *  24  uint64 xlp_sysid       32  uint32 xlp_seg_size 36  uint32 xlp_xlog_blcksz
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "walcheck.h"
#include "walbytes.h"

#define LONG_HEADER_SIZE 40
#define XLP_LONG_HEADER 0x0002
#define TEXT_MAX (1u << 20)

/* Read up to len bytes at offset 0; returns the count or -1 (errno set). */
static ssize_t read_head(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int check_segment(int fd, uint64_t size, const struct wal_name *w,
                         struct walcheck_info *info, struct cel_err *err)
{
    unsigned char h[LONG_HEADER_SIZE];
    ssize_t n = read_head(fd, h, sizeof h);
    if (n < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot read the WAL page header");
    if ((size_t)n < sizeof h)
        return cel_err_set(err, CEL_E_FORMAT,
                           "only %llu bytes: too short for a WAL segment",
                           (unsigned long long)size);
    uint16_t magic = wal_get16(h), flags = wal_get16(h + 2);
    uint32_t tli = wal_get32(h + 4), segsize = wal_get32(h + 32), blcksz = wal_get32(h + 36);
    uint64_t pageaddr = wal_get64(h + 8);
    if ((magic >> 8) != 0xD0 && (magic >> 8) != 0xD1)
        return cel_err_set(err, CEL_E_FORMAT, "not a WAL segment: bad magic 0x%04X", magic);
    if (!(flags & XLP_LONG_HEADER))
        return cel_err_set(err, CEL_E_FORMAT,
                           "not a WAL segment: the first page has no long header");
    if (wal_segsize_check(segsize, NULL) < 0)
        return cel_err_set(err, CEL_E_FORMAT,
                           "the header announces %u-byte segments, not a valid segment size",
                           segsize);
    if (size != segsize)
        return cel_err_set(err, CEL_E_FORMAT,
                           "size is %llu bytes, the header announces %u-byte segments",
                           (unsigned long long)size, segsize);
    if (blcksz < 1024 || blcksz > 65536 || (blcksz & (blcksz - 1)))
        return cel_err_set(err, CEL_E_FORMAT, "the header announces a block size of %u",
                           blcksz);
    /* the first segment of a new timeline is a copy of its parent's segment
     * up to the switch point: its first page keeps the parent's timeline */
    if (tli == 0 || tli > w->tli)
        return cel_err_set(err, CEL_E_FORMAT, "timeline %u in the header, %u in the name", tli,
                           w->tli);
    struct cel_err serr = {0};
    if (wal_name_check_segsize(w, segsize, &serr) < 0)
        return cel_err_set(err, CEL_E_FORMAT, "%s", serr.msg);
    uint64_t expected = wal_segno_to_lsn(wal_segno(w, segsize), segsize);
    if (pageaddr != expected) {
        char got[WAL_LSN_MAX], want[WAL_LSN_MAX];
        wal_lsn_format(pageaddr, got);
        wal_lsn_format(expected, want);
        return cel_err_set(err, CEL_E_FORMAT,
                           "the header says the segment starts at %s, the name says %s", got,
                           want);
    }
    if (info) {
        info->segsize = segsize;
        info->sysid = wal_get64(h + 24);
        info->block_size = blcksz;
    }
    return 0;
}

/* Read a small text file whole (NUL-terminated) into *out. */
static int read_text(int fd, uint64_t size, char **out, struct cel_err *err)
{
    if (size > TEXT_MAX)
        return cel_err_set(err, CEL_E_FORMAT, "%llu bytes: too large for this kind of file",
                           (unsigned long long)size);
    char *buf = cel_xmalloc((size_t)size + 1);
    ssize_t n = read_head(fd, (unsigned char *)buf, (size_t)size);
    if (n < 0) {
        int rc = cel_err_sys(err, CEL_E_IO, errno, "cannot read the file");
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', (size_t)n)) {
        free(buf);
        return cel_err_set(err, CEL_E_FORMAT, "contains a NUL byte: not a text file");
    }
    *out = buf;
    return 0;
}

int walcheck_history_parse(const char *text, struct walcheck_history_entry **out, size_t *n,
                           struct cel_err *err)
{
    *out = NULL;
    *n = 0;
    char *copy = cel_xstrdup(text);
    int rc = 0, lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        char *end = NULL;
        errno = 0;
        unsigned long tli = strtoul(p, &end, 10);
        if (end == p || (*end != ' ' && *end != '\t') || errno || tli == 0 || tli > UINT32_MAX) {
            rc = cel_err_set(err, CEL_E_FORMAT,
                             "line %d is not 'timeline<TAB>LSN<TAB>reason': not a history file",
                             lineno);
            break;
        }
        while (*end == ' ' || *end == '\t')
            end++;
        char lsn[WAL_LSN_MAX + 1];
        size_t len = strcspn(end, " \t\r");
        uint64_t v;
        if (len == 0 || len > WAL_LSN_MAX - 1 ||
            (memcpy(lsn, end, len), lsn[len] = '\0', wal_lsn_parse(lsn, &v, NULL) < 0)) {
            rc = cel_err_set(err, CEL_E_FORMAT,
                             "line %d has no valid switch LSN: not a history file", lineno);
            break;
        }
        *out = cel_xrealloc_array(*out, *n + 1, sizeof **out);
        (*out)[*n].tli = (uint32_t)tli;
        (*out)[(*n)++].switchpoint = v;
    }
    if (rc == 0 && *n == 0)
        rc = cel_err_set(err, CEL_E_FORMAT, "holds no timeline switch: not a history file");
    free(copy);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* A history file: see walcheck_history_parse. */
static int check_history(int fd, uint64_t size, struct cel_err *err)
{
    char *text = NULL;
    int rc = read_text(fd, size, &text, err);
    if (rc < 0)
        return rc;
    struct walcheck_history_entry *e = NULL;
    size_t n = 0;
    rc = walcheck_history_parse(text, &e, &n, err);
    free(e);
    free(text);
    return rc;
}

static int check_backup_label(int fd, uint64_t size, struct cel_err *err)
{
    char *text = NULL;
    int rc = read_text(fd, size, &text, err);
    if (rc < 0)
        return rc;
    if (!strstr(text, "START WAL LOCATION:"))
        rc = cel_err_set(err, CEL_E_FORMAT,
                         "has no 'START WAL LOCATION:' line: not a backup history file");
    free(text);
    return rc;
}

int walcheck_fd(int fd, uint64_t size, const struct wal_name *w, struct walcheck_info *info,
                struct cel_err *err)
{
    if (info)
        memset(info, 0, sizeof *info);
    int rc;
    switch (w->kind) {
    case WAL_KIND_SEGMENT:
    case WAL_KIND_PARTIAL:
        rc = check_segment(fd, size, w, info, err);
        break;
    case WAL_KIND_HISTORY:
        rc = check_history(fd, size, err);
        break;
    case WAL_KIND_BACKUP_LABEL:
        rc = check_backup_label(fd, size, err);
        break;
    default:
        rc = cel_err_set(err, CEL_E_INTERNAL, "unknown WAL file kind");
    }
    if (rc == 0 && info)
        info->size = size;
    return rc;
}

int walcheck_file(const char *path, const struct wal_name *w, struct walcheck_info *info,
                  struct cel_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cel_err_sys(err, errno == ENOENT ? CEL_E_NOT_FOUND : CEL_E_IO, errno,
                           "cannot open '%s'", path);
    struct stat st;
    int rc;
    if (fstat(fd, &st) < 0)
        rc = cel_err_sys(err, CEL_E_IO, errno, "cannot stat '%s'", path);
    else
        rc = walcheck_fd(fd, (uint64_t)st.st_size, w, info, err);
    close(fd);
    return rc;
}
