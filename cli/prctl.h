/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prctl.h - prctl(2) as a step, for `prctl` (prctl.c) and for `set`'s
 * recipe (recipe.c): its arguments, and its undo.
 */
#ifndef AT_CLI_PRCTL_H
#define AT_CLI_PRCTL_H

#include "names.h"
#include "plan.h"

/* A prctl step passes all five arguments: several options want the unused
 * ones zero, and a step's unused arguments are whatever the thread has. */
#define PRCTL_NARGS 5

/* ARGS for prctl(OP, A2, A3, 0, 0). */
void prctl_args(long args[PRCTL_NARGS], long op, long a2, long a3);
/* Give ST (when not NULL) the undo of D's SET: its GET saves the value
 * before the step, and the SET puts the saved value back. */
void prctl_undo_by_get(struct step *st, const struct prctl_desc *d);

#endif /* AT_CLI_PRCTL_H */
