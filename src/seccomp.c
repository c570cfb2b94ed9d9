/* Loading the generated allowlists with libseccomp. */
#include "seccomp_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef PRIVIDENT_SANITIZE
#include <sanitizer/common_interface_defs.h>

/* Sanitizer builds only: the sanitizers keep a copy of the memory map,
 * taken at start-up before the network child's root is emptied, and
 * again (if it can still be read) right before a filter loads, for the
 * reports they may have to write under it (policy/sanitizer.policy). */
__attribute__((constructor)) static void sanitizer_map_early(void)
{
	__sanitizer_sandbox_on_notify(NULL);
}
#endif

static void (*trap_report)(int nr);

/* --debug-sandbox: name the call, then stop as the kill action would. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	if (trap_report)
		trap_report(si->si_syscall);
	_exit(EXIT_SECCOMP_TRAP);
}

static int install_trap(const struct seccomp_params *p, char *err, size_t errsz)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	trap_report = p->report;
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, errsz, "seccomp: sigaction: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Kill the whole process where the kernel can (Linux 4.14), else the
 * thread: the workers are single-threaded, so both end them. */
static uint32_t kill_action(void)
{
	return seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_KILL;
}

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *r,
                    const struct seccomp_params *p, char *err, size_t errsz)
{
	struct scmp_arg_cmp cmp[SECCOMP_CONDS_MAX];
	int nr = seccomp_syscall_resolve_name(r->name);

	if (nr == __NR_SCMP_ERROR) {
		snprintf(err, errsz, "seccomp: unknown system call '%s'", r->name);
		return -1;
	}
	for (unsigned i = 0; i < r->nconds; i++) {
		cmp[i].arg = r->conds[i].arg;
		cmp[i].op = r->conds[i].op;
		cmp[i].datum_a = r->conds[i].a == SECCOMP_PARAM_CHILD
		                 ? (scmp_datum_t)p->child : r->conds[i].a;
		cmp[i].datum_b = r->conds[i].b;
	}
	int e = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, r->nconds, cmp);
	if (e < 0) {
		snprintf(err, errsz, "seccomp: rule for %s: %s", r->name, strerror(-e));
		return -1;
	}
	return 0;
}

int seccomp_apply(const struct seccomp_rule *rules, size_t n,
                  const struct seccomp_params *p, char *err, size_t errsz)
{
	uint32_t deny = p->debug ? SCMP_ACT_TRAP : kill_action();
	scmp_filter_ctx ctx;
	int e = 0;

	if (p->debug && install_trap(p, err, errsz) < 0)
		return -1;
	ctx = seccomp_init(deny);
	if (!ctx) {
		snprintf(err, errsz, "seccomp: cannot create a filter");
		return -1;
	}
	/* A call through another architecture's entry point is never allowed. */
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, kill_action());
	/* Every thread gets the filter, also those started before it (the
	 * helper's resolver threads). */
	if ((e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		snprintf(err, errsz, "seccomp: cannot filter every thread: %s", strerror(-e));
	for (size_t i = 0; i < n && e == 0; i++)
		e = add_rule(ctx, &rules[i], p, err, errsz);
#ifdef PRIVIDENT_SANITIZE
	__sanitizer_sandbox_on_notify(NULL);
#endif
	if (e == 0 && (e = seccomp_load(ctx)) < 0)
		snprintf(err, errsz, "seccomp: cannot load the filter: %s", strerror(-e));
	seccomp_release(ctx);
	return e < 0 ? -1 : 0;
}

const char *seccomp_name(int nr, char *buf, size_t size)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "#%d", nr);
	free(name);
	return buf;
}
