// SPDX-License-Identifier: LGPL-2.1-or-later
/* report.c - making a report (every route fills the same struct). */
#include <stdlib.h>

#include "report.h"

struct allthreads_report *at_report_new(unsigned n, unsigned nsteps)
{
	struct allthreads_report *rep = calloc(1, sizeof(*rep));

	if (!rep)
		return NULL;
	rep->nthreads = n;
	rep->nsteps = nsteps;
	rep->t = calloc(n ? n : 1, sizeof(*rep->t));
	rep->res = calloc((size_t)(n ? n : 1) * (nsteps ? nsteps : 1),
			  sizeof(long));
	if (!rep->t || !rep->res) {
		at_report_free(rep);
		return NULL;
	}
	return rep;
}

void at_report_free(struct allthreads_report *rep)
{
	if (!rep)
		return;
	free(rep->t);
	free(rep->res);
	free(rep);
}
