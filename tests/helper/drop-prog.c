// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * drop-prog.c - programs that drop privileges the way daemons do,
 * changing capabilities on their own thread only (issue 11.2); each
 * prints "dropped UID GID" and exits 0 when it worked:
 *   drop-prog daemon   prctl(PR_SET_KEEPCAPS, 1), setuid(1234), capset()
 *                      to get CAP_SETGID back in the effective set,
 *                      setgid(1234)
 *   drop-prog capng    libcap-ng's capng_change_id(1234, 1234, ...)
 *                      keeping CAP_NET_BIND_SERVICE (when built with it)
 */
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#ifdef HAVE_CAPNG
#include <cap-ng.h>
#endif

int capset(cap_user_header_t hdr, const cap_user_data_t data);
int capget(cap_user_header_t hdr, cap_user_data_t data);

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "daemon")) {
		struct __user_cap_header_struct h = {
			_LINUX_CAPABILITY_VERSION_3, 0
		};
		struct __user_cap_data_struct d[2];

		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setuid(1234) < 0)
			return 1;
		if (capget(&h, d) < 0)
			return 2;
		d[0].effective = d[0].permitted;
		d[1].effective = d[1].permitted;
		if (capset(&h, d) < 0 || setgid(1234) < 0)
			return 3;
	} else if (!strcmp(mode, "capng")) {
#ifdef HAVE_CAPNG
		capng_clear(CAPNG_SELECT_BOTH);
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
			     CAP_NET_BIND_SERVICE);
		if (capng_change_id(1234, 1234,
				    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING))
			return 4;
#else
		return 77;
#endif
	} else {
		return 64;
	}
	printf("dropped %d %d\n", (int)getuid(), (int)getgid());
	return 0;
}
