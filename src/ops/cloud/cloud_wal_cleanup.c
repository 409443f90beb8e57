/*
 * cloud_wal_cleanup.c - the WAL that goes with a deleted backup, by
 * barman-cloud 3.4's rules (see cloud_wal_cleanup.h). Names are compared
 * as strings, as barman-cloud compares them: within a timeline the
 * fixed-width hexadecimal names sort in WAL order.
 */
#include <stdio.h>
#include <string.h>

#include "cloud_wal_cleanup.h"

static bool usable(const struct cloud_catalog *c, const bool *gone, size_t i)
{
    return !gone[i] && cat_status_copy_done(c->list.items[i].status);
}

int cloud_wal_cleanup_until(const struct cloud_catalog *c, const bool *gone, size_t del,
                            bool skip_if_standalone, struct cloud_wal_range *ranges,
                            size_t *n_ranges)
{
    *n_ranges = 0;
    for (size_t p = del; p-- > 0;) {
        if (!usable(c, gone, p))
            continue;
        if (strcmp(c->objs[p].keep, "standalone") != 0 || skip_if_standalone) {
            *n_ranges = 0;
            return -1; /* an older backup needs every WAL after it */
        }
        ranges[(*n_ranges)++] =
            (struct cloud_wal_range){c->list.items[p].begin_wal, c->list.items[p].end_wal};
    }
    for (size_t j = del + 1; j < c->list.n; j++)
        if (usable(c, gone, j))
            return (int)j;
    return (int)del;
}

size_t cloud_wal_cleanup_select(const struct cloud_catalog *c, const bool *gone, size_t del,
                                size_t until, const struct cloud_wal_range *ranges,
                                size_t n_ranges, const struct cloud_wal *wals, size_t n,
                                bool *wal_gone, const char **keys)
{
    const struct cat_backup *u = &c->list.items[until];
    if (!u->begin_wal)
        return 0;
    size_t k = 0;
    for (size_t w = 0; w < n; w++) {
        const struct cloud_wal *wal = &wals[w];
        if (wal_gone[w] || wal->wal.kind == WAL_KIND_HISTORY)
            continue;
        /* get_timelines_to_protect: those of the other backups but until's */
        bool protected_tli = false;
        for (size_t b = 0; b < c->list.n && !protected_tli; b++) {
            const struct cat_backup *o = &c->list.items[b];
            protected_tli = !gone[b] && b != del && o->timeline.set &&
                            !(u->timeline.set && o->timeline.v == u->timeline.v) &&
                            (uint32_t)o->timeline.v == wal->wal.tli;
        }
        if (protected_tli)
            continue;
        char check[WAL_NAME_MAX];
        snprintf(check, sizeof check, "%s", wal->name);
        if (wal->wal.kind == WAL_KIND_BACKUP_LABEL)
            check[24] = '\0';
        bool in_range = false;
        for (size_t r = 0; r < n_ranges && !in_range; r++)
            in_range = ranges[r].begin && ranges[r].end && strcmp(check, ranges[r].begin) >= 0 &&
                       strcmp(check, ranges[r].end) <= 0;
        if (in_range || strcmp(wal->name, u->begin_wal) >= 0)
            continue;
        keys[k++] = wal->key;
        wal_gone[w] = true;
    }
    return k;
}
