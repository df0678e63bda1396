/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recipe.h - set's options compiled into one step program (recipe.c), for
 * set, seccomp and the one-change commands (setuid, caps, drop...).
 */
#ifndef AT_CLI_RECIPE_H
#define AT_CLI_RECIPE_H

#include "cli.h"
#include "plan.h"
#include "target.h"

/* Compile ARGS (set's options) into PLAN for TGT. */
int compile_recipe(const struct set_args *args, struct plan *plan,
		   const struct target *tgt);

#endif /* AT_CLI_RECIPE_H */
