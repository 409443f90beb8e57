/*
 * op_hooks.h - an operation's hook scripts run from an op, and the
 * variables backup, delete, archive and wal_delete hooks get (op_hooks.c).
 */
#ifndef CEL_OPS_OP_HOOKS_H
#define CEL_OPS_OP_HOOKS_H

#include "catalog.h"
#include "config.h"
#include "sink.h"

/* Run the pre (pre true) or post hooks of an operation: pre_hook is its
 * CFG_HOOK_PRE_* value, name its Barman name ("backup", "archive",
 * "delete"). Returns true when a pre retry hook asked to stop the
 * operation; *abort_msg (when not NULL) then gets Barman's message
 * (caller frees). op_hooks.c */
struct hook_vars;
bool op_run_hooks(const struct op_ctx *ctx, const struct cfg_server *s, enum cfg_hook pre_hook,
                  const char *name, bool pre, const struct hook_vars *vars, char **abort_msg);

/* The variables of backup and delete hooks: BARMAN_BACKUP_DIR (dir),
 * _BACKUP_ID, _PREVIOUS_ID, _NEXT_ID ("" for NULL), _STATUS and _ERROR of
 * b. op_hooks.c */
void op_backup_hook_vars(struct hook_vars *v, const char *dir, const struct cat_backup *b,
                         const char *previous_id, const char *next_id);

/* The variables of archive and wal_delete hooks: BARMAN_SEGMENT (name),
 * _FILE, _SIZE, _TIMESTAMP (mtime, as Python prints a float),
 * _COMPRESSION ("" when none) and _ERROR ("" for NULL). op_hooks.c */
void op_wal_hook_vars(struct hook_vars *v, const char *name, const char *file, uint64_t size,
                      double mtime, const char *compression, const char *error);

#endif
