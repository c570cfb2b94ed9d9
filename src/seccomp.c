/* Loading the generated allowlists with libseccomp. */
#include "seccomp_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

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

/* --debug-sandbox names a forbidden call from the SIGSYS handler, where
 * libseccomp's lookup (which allocates) must not run: the names are looked
 * up before the filter loads, into this table indexed by number. Every
 * architecture's calls are numbered below 1024 today (x86_64 and arm64
 * below 500); a call above (an x32 one, one added later) is named by its
 * number. */
#define TRAP_NAMES 1024
/* Longest name kept, with its NUL (the longest today has 23 characters). */
#define TRAP_NAME_MAX 32

static char trap_names[TRAP_NAMES][TRAP_NAME_MAX];
static void (*trap_report)(int nr);

static void load_names(void)
{
	for (int nr = 0; nr < TRAP_NAMES; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		size_t len = 0;

		trap_names[nr][0] = '\0';
		if (name != NULL)
			log_cat(trap_names[nr], TRAP_NAME_MAX, &len, name);
		free(name);
	}
}

/* --debug-sandbox: name the call, then stop as the kill action would. Only
 * async-signal-safe work: the report formats from trap_names and makes
 * one write or sendmsg. */
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
	load_names();
	trap_report = p->report;
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, errsz, "seccomp: sigaction: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Kill the whole process (Linux 4.14; privident needs 5.3 for pidfds in
 * any case). Never only the thread: the helper has resolver threads, and
 * killing one would leave the others, and its loop, running. A kernel or
 * libseccomp without it fails the load, and the worker does not start. */
#define KILL_ACTION SCMP_ACT_KILL_PROCESS

/* A rule's value with @sock, @pidfd and @nl replaced by the descriptor given;
 * -1 when the rule names one that was not (0-2 never are: see
 * struct seccomp_params). */
static int param_value(scmp_datum_t v, const struct seccomp_params *p,
                       scmp_datum_t *out)
{
	int fd;

	if (v == SECCOMP_PARAM_SOCK)
		fd = p->sock;
	else if (v == SECCOMP_PARAM_PIDFD)
		fd = p->pidfd;
	else if (v == SECCOMP_PARAM_NL)
		fd = p->nl;
	else {
		*out = v;
		return 0;
	}
	if (fd <= STDERR_FILENO)
		return -1;
	*out = (scmp_datum_t)fd;
	return 0;
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
		if (param_value(r->conds[i].a, p, &cmp[i].datum_a) < 0 ||
		    param_value(r->conds[i].b, p, &cmp[i].datum_b) < 0) {
			snprintf(err, errsz, "seccomp: the rule for %s needs a descriptor "
			         "that was not given", r->name);
			return -1;
		}
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
	uint32_t deny = p->debug ? SCMP_ACT_TRAP : KILL_ACTION;
	scmp_filter_ctx ctx;
	int e = 0;

	if (p->debug && install_trap(p, err, errsz) < 0)
		return -1;
	ctx = seccomp_init(deny);
	if (!ctx) {
		snprintf(err, errsz, "seccomp: cannot create a filter");
		return -1;
	}
	/* A call through another architecture's entry point is never allowed;
	 * threads the worker started before (the helper's name-service
	 * threads) get the same filter, atomically, or the load fails. */
	if ((e = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, KILL_ACTION)) < 0 ||
	    (e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		snprintf(err, errsz, "seccomp: cannot set a filter attribute: %s",
		         strerror(-e));
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
	size_t len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (nr >= 0 && nr < TRAP_NAMES && trap_names[nr][0] != '\0') {
		log_cat(buf, size, &len, trap_names[nr]);
	} else {
		log_cat(buf, size, &len, "#");
		log_cat_uint(buf, size, &len, (unsigned)nr);
	}
	return buf;
}
