// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-ctl-landlock.c - the helper's AT_CTL_REQ_LANDLOCK on hostile input,
 * in process: every malformed request gets an error reply and changes
 * nothing (this process keeps NO_NEW_PRIVS 0 and no domain); a path
 * missing here is named in the reply.  The last case is a good request:
 * this process's threads end up in the domain.
 */
#include <linux/landlock.h>
#include <sys/prctl.h>

#include "../tap.h"
#include "ctl.h"
#include "hutil.h"

struct capture {
	int op, err, n;
	char msg[120];
};

static int capture_send(void *ctx, const void *buf, size_t len)
{
	struct capture *c = ctx;
	const struct at_ctl_rep_error *e = buf;

	if (c->n++ == 0) {
		c->op = e->hdr.op;
		if (e->hdr.op == AT_CTL_REP_ERROR && len == sizeof(*e)) {
			c->err = e->err;
			snprintf(c->msg, sizeof(c->msg), "%s", e->msg);
		}
	}
	return 0;
}

static int serve(void *msg, size_t len, char *why, size_t whylen)
{
	static struct at_ctl_scratch scratch;
	static char out[AT_CTL_MAX_DGRAM];
	struct capture c = { -1, 0, 0, "" };

	at_ctl_serve(msg, len, true, NULL, false, &scratch, out, capture_send,
		     &c);
	snprintf(why, whylen, "%s", c.msg);
	return c.op == AT_CTL_REP_ERROR ? c.err : c.op;
}

/* A request with one rule for PATH into BUF; its length. */
static size_t one_rule(char *buf, const char *path, uint64_t handled,
		       uint64_t access)
{
	struct at_ctl_landlock_req *req = (void *)buf;
	struct at_ctl_landlock_rule *rule = (void *)(req + 1);
	size_t plen = strlen(path) + 1;
	size_t len = sizeof(*req) + sizeof(*rule) + plen;

	memset(buf, 0, len);
	req->hdr.magic = AT_CTL_MAGIC;
	req->hdr.version = AT_CTL_VERSION;
	req->hdr.op = AT_CTL_REQ_LANDLOCK;
	req->hdr.len = (uint32_t)len;
	req->handled = handled;
	req->nrules = 1;
	req->ll_flags = AT_CTL_LL_PROVE;
	req->data_len = (uint32_t)plen;
	rule->access = access;
	rule->off = 0;
	rule->len = (uint32_t)plen;
	memcpy(rule + 1, path, plen);
	return len;
}

static int nnp(void)
{
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
}

int main(void)
{
	static char buf[AT_CTL_MAX_MSG];
	struct at_ctl_landlock_req *req = (void *)buf;
	struct at_ctl_landlock_rule *rule = (void *)(req + 1);
	const uint64_t rd = LANDLOCK_ACCESS_FS_READ_FILE |
			    LANDLOCK_ACCESS_FS_READ_DIR;
	char why[160];
	size_t len;
	int r;

	alarm(50);
	if (syscall(SYS_landlock_create_ruleset, NULL, 0,
		    LANDLOCK_CREATE_RULESET_VERSION) < 0)
		tap_skip_all("Landlock is not enabled in this kernel");

	len = one_rule(buf, "/usr", rd, rd);
	req->hdr.magic ^= 1;
	tap_ok(serve(buf, len, why, sizeof(why)) == -EBADMSG,
	       "bad magic: refused (%s)", why);
	len = one_rule(buf, "/usr", rd, rd);
	req->hdr.len++;
	tap_ok(serve(buf, len, why, sizeof(why)) == -EBADMSG,
	       "length mismatch: refused (%s)", why);
	len = one_rule(buf, "/usr", rd, rd);
	req->nrules = AT_CTL_LL_MAX_RULES + 1;
	tap_ok(serve(buf, len, why, sizeof(why)) == -EBADMSG,
	       "too many rules: refused (%s)", why);
	len = one_rule(buf, "/usr", rd, rd);
	((char *)(rule + 1))[4] = 'x'; /* no NUL */
	tap_ok(serve(buf, len, why, sizeof(why)) == -EINVAL,
	       "a path without its NUL: refused (%s)", why);
	len = one_rule(buf, "/usr", rd, rd);
	rule->off = 3;
	tap_ok(serve(buf, len, why, sizeof(why)) == -EINVAL,
	       "a path past the data: refused (%s)", why);
	len = one_rule(buf, "usr", rd, rd);
	tap_ok(serve(buf, len, why, sizeof(why)) == -EINVAL,
	       "a relative path: refused (%s)", why);
	len = one_rule(buf, "/usr", LANDLOCK_ACCESS_FS_READ_FILE, rd);
	tap_ok(serve(buf, len, why, sizeof(why)) == -EINVAL,
	       "a rule's right not handled: refused (%s)", why);
	len = one_rule(buf, "/usr", 0, 0);
	tap_ok(serve(buf, len, why, sizeof(why)) == -EINVAL,
	       "nothing handled: refused (%s)", why);
	len = one_rule(buf, "/usr", rd, rd);
	req->ll_flags = 0x80;
	tap_ok(serve(buf, len, why, sizeof(why)) == -EINVAL,
	       "unknown flags: refused (%s)", why);
	len = one_rule(buf, "/nonexistent-at-ll", rd, rd);
	r = serve(buf, len, why, sizeof(why));
	tap_ok(r == -ENOENT && strstr(why, "/nonexistent-at-ll"),
	       "a path missing here: -ENOENT naming it (%s)", why);
	tap_ok(nnp() == 0, "after all of these, NO_NEW_PRIVS is still 0");

	len = one_rule(buf, "/usr", rd, rd);
	r = serve(buf, len, why, sizeof(why));
	tap_ok(r == AT_CTL_REP_HEAD, "a good request: a run's reply");
	tap_ok(nnp() == 1 && open("/etc/passwd", O_RDONLY | O_CLOEXEC) < 0 &&
		       errno == EACCES,
	       "and this process is in the domain: /etc/passwd EACCES");
	return tap_done();
}
