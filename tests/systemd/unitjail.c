/* Test-only, never installed: runs a program under the seccomp filters a
 * systemd unit's settings make, loaded the way systemd 252 loads them,
 * for tests/systemd/test_unit.py (PID 1 is not systemd where the tests
 * run, so the unit itself cannot be started).
 *
 * usage: unitjail [-s FILE] [-f FAMILIES] [-w] [-n] -- PROGRAM [ARG]...
 *
 *   -s FILE      SystemCallFilter= as an allow list, already expanded: the
 *                names of the calls allowed, one a line. Any other call,
 *                or a call of another architecture
 *                (SystemCallArchitectures=native), kills the process.
 *   -f FAMILIES  RestrictAddressFamilies=: address family numbers, comma
 *                separated. socket() with any other fails (EAFNOSUPPORT).
 *   -w           MemoryDenyWriteExecute=yes: a mapping both writable and
 *                executable, or making memory executable afterwards, fails
 *                (EPERM).
 *   -n           RestrictNamespaces=yes: clone, unshare or setns with a
 *                namespace fails (EPERM); clone3, whose flags a filter
 *                cannot read, fails with ENOSYS, so that the C library
 *                falls back to clone.
 *
 * no_new_privs is set first (NoNewPrivileges=yes; an unprivileged process
 * needs it to load a filter). Each setting is a filter of its own, as in
 * systemd; the kernel applies the strictest answer of all of them. Exits
 * 127 with a message when it cannot set up or run PROGRAM. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

/* Exit status when unitjail itself fails (as a shell's "cannot run"). */
#define EXIT_SETUP 127
/* A system call name in the -s file is never longer than this. */
#define NAME_MAX_LEN 64
/* Address family numbers from 0 up to this are covered one by one, any
 * above at once (AF_MAX is 46 in Linux 6.x); also the most -f takes. */
#define FAMILY_LIMIT 64

/* The namespace flags RestrictNamespaces=yes denies to clone and unshare. */
static const unsigned long ns_flags[] = {
	CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS,
	CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS,
};
#define N_NS_FLAGS (sizeof(ns_flags) / sizeof(ns_flags[0]))

static int load(scmp_filter_ctx ctx)
{
	int r = seccomp_load(ctx);

	seccomp_release(ctx);
	return r;
}

/* The allow list: one name a line; a name this architecture does not have
 * is skipped, as systemd skips it. */
static int allow_list(const char *path)
{
	char name[NAME_MAX_LEN + 2];
	FILE *f = fopen(path, "r");
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r = 0;

	if (!f || !ctx ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0) {
		if (f)
			fclose(f);
		seccomp_release(ctx);
		return -1;
	}
	while (r == 0 && fgets(name, sizeof(name), f)) {
		name[strcspn(name, "\n")] = '\0';
		int nr = seccomp_syscall_resolve_name(name);
		if (name[0] != '\0' && nr >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	fclose(f);
	if (r < 0) {
		seccomp_release(ctx);
		return -1;
	}
	return load(ctx);
}

static int restrict_families(const char *list)
{
	unsigned long fam[FAMILY_LIMIT];
	unsigned n = 0;
	char *copy = strdup(list), *save = NULL;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r = copy && ctx ? 0 : -1;

	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL;
	     t && r == 0; t = strtok_r(NULL, ",", &save)) {
		if (n == FAMILY_LIMIT)
			r = -1;
		else
			fam[n++] = strtoul(t, NULL, 10);
	}
	free(copy);
	/* Every family not in the list: EAFNOSUPPORT. */
	for (unsigned long af = 0; af < FAMILY_LIMIT && r == 0; af++) {
		unsigned i = 0;
		while (i < n && fam[i] != af)
			i++;
		if (i == n)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
			                     SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, af, 0));
	}
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket),
		                     1, SCMP_A0(SCMP_CMP_GE, FAMILY_LIMIT, 0));
	if (r < 0) {
		seccomp_release(ctx);
		return -1;
	}
	return load(ctx);
}

static int deny_write_execute(void)
{
	const scmp_datum_t wx = PROT_WRITE | PROT_EXEC;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
	                     SCMP_A2(SCMP_CMP_MASKED_EQ, wx, wx)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
	                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 1,
	                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(shmat), 1,
	                     SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC)) < 0) {
		seccomp_release(ctx);
		return -1;
	}
	return load(ctx);
}

static int restrict_namespaces(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r = ctx ? 0 : -1;

	for (unsigned i = 0; i < N_NS_FLAGS && r == 0; i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		                     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
			                     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	}
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0) {
		seccomp_release(ctx);
		return -1;
	}
	return load(ctx);
}

static int usage(void)
{
	fputs("usage: unitjail [-s FILE] [-f FAMILIES] [-w] [-n] -- PROGRAM [ARG]...\n",
	      stderr);
	return EXIT_SETUP;
}

int main(int argc, char **argv)
{
	const char *calls = NULL, *families = NULL;
	int wx = 0, ns = 0, opt;

	while ((opt = getopt(argc, argv, "+s:f:wn")) != -1) {
		switch (opt) {
		case 's': calls = optarg; break;
		case 'f': families = optarg; break;
		case 'w': wx = 1; break;
		case 'n': ns = 1; break;
		default: return usage();
		}
	}
	if (optind >= argc)
		return usage();
	/* The allow list last: loading a filter after it would need seccomp()
	 * and whatever libseccomp calls, which the list need not allow. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    (families && restrict_families(families) < 0) ||
	    (wx && deny_write_execute() < 0) ||
	    (ns && restrict_namespaces() < 0) ||
	    (calls && allow_list(calls) < 0)) {
		fprintf(stderr, "unitjail: cannot set up the filters: %s\n", strerror(errno));
		return EXIT_SETUP;
	}
	execv(argv[optind], argv + optind);
	fprintf(stderr, "unitjail: %s: %s\n", argv[optind], strerror(errno));
	return EXIT_SETUP;
}
