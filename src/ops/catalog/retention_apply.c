/*
 * retention_apply.c - enforcing a server's retention policy (cron's last step):
 * the backups the policy marks OBSOLETE are deleted, oldest first, each
 * the way `cellar delete` deletes one (hooks, the WAL only it needed,
 * Barman's minimum_redundancy refusal), and every decision is logged.
 *
 * Only exactly OBSOLETE goes, as in Barman's retention_policy_mode = auto:
 * never POTENTIALLY_OBSOLETE (kept by minimum_redundancy), never a kept
 * backup, never one that is not DONE (a running backup is STARTED). The
 * marks are computed again after each deletion, from the catalogue on
 * disk, so a deletion never rests on a stale view.
 */
#include "ops.h"

static void add_id(struct op_retention_summary *sum, const char *id)
{
    sum->ids = cel_xrealloc_array(sum->ids, sum->n_ids + 1, sizeof *sum->ids);
    sum->ids[sum->n_ids++] = cel_xstrdup(id);
}

void op_retention_summary_free(struct op_retention_summary *sum)
{
    for (size_t i = 0; i < sum->n_ids; i++)
        free(sum->ids[i]);
    free(sum->ids);
    memset(sum, 0, sizeof *sum);
}

/* The oldest OBSOLETE backup of cat not in skip (the dry run's list), or -1. */
static int oldest_obsolete(const struct op_ctx *ctx, const struct cfg_server *s,
                           const struct op_catalog *cat, const struct op_retention_summary *skip)
{
    enum ret_mark *marks = cel_xcalloc(cat->list.n ? cat->list.n : 1, sizeof *marks);
    op_retention_marks(ctx, s, cat, marks);
    int found = -1;
    for (size_t i = 0; i < cat->list.n && found < 0; i++) {
        bool skipped = false;
        for (size_t k = 0; skip && k < skip->n_ids; k++)
            skipped = skipped || strcmp(skip->ids[k], cat->list.items[i].id) == 0;
        if (marks[i] == RET_MARK_OBSOLETE && !cat->list.failed[i] && !skipped)
            found = (int)i;
    }
    free(marks);
    return found;
}

int op_enforce_retention(const struct op_ctx *ctx, const struct cfg_server *s, bool dry_run,
                         struct op_retention_summary *sum, struct cel_err *err)
{
    memset(sum, 0, sizeof *sum);
    if (s->retention_policy.kind == RET_NONE)
        return 0;
    char policy[64];
    ret_policy_format(&s->retention_policy, policy, sizeof policy);
    int rc = 0;
    for (;;) {
        struct op_catalog cat;
        rc = op_catalog_load(ctx, s, false, &cat, err);
        if (rc < 0)
            break;
        /* the dry run removes nothing: later marks are what they are now */
        int i = oldest_obsolete(ctx, s, &cat, dry_run ? sum : NULL);
        if (i < 0) {
            op_catalog_free(&cat);
            break;
        }
        const char *id = cat.list.items[i].id;
        if (dry_run) {
            op_log(ctx, LOG_INFO, s->name, "retention (%s): would delete backup %s (OBSOLETE)",
                   policy, id);
            add_id(sum, id);
            sum->would_delete++;
            op_catalog_free(&cat);
            continue;
        }
        op_log(ctx, LOG_INFO, s->name, "retention (%s): deleting backup %s (OBSOLETE)", policy,
               id);
        struct cel_err one = {0};
        char *copy = cel_xstrdup(id);
        int drc = op_delete_backup(ctx, s, &cat, (size_t)i, &one);
        op_catalog_free(&cat);
        if (drc < 0) {
            /* stop here: the next attempt would meet the same refusal */
            op_log(ctx, LOG_WARNING, s->name, "retention: backup %s not deleted: %s", copy,
                   one.msg);
            sum->failed++;
            free(copy);
            break;
        }
        add_id(sum, copy);
        sum->deleted++;
        free(copy);
    }
    return rc;
}
