/* The seccomp allowlists, generated from the policy/ files at build time, and
 * the code that loads them (doc/design.md §6). */
#ifndef PRIVIDENT_SECCOMP_POLICY_H
#define PRIVIDENT_SECCOMP_POLICY_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <seccomp.h>

/* Conditions per rule: enough for every rule we write (libseccomp allows
 * one per argument; pidfd_send_signal pins four). */
#define SECCOMP_CONDS_MAX 4

/* Stand for a descriptor number in a rule (@sock, @pidfd in policy/),
 * replaced by the one in struct seccomp_params when the filter is built;
 * values no real argument can have. */
#define SECCOMP_PARAM_SOCK ((scmp_datum_t)0x7fffc0de00000002ull)
#define SECCOMP_PARAM_PIDFD ((scmp_datum_t)0x7fffc0de00000003ull)
#define SECCOMP_PARAM_NL ((scmp_datum_t)0x7fffc0de00000004ull)

struct seccomp_cond {
	unsigned arg;
	enum scmp_compare op;
	scmp_datum_t a, b;
};

struct seccomp_rule {
	const char *name;
	unsigned nconds;
	struct seccomp_cond conds[SECCOMP_CONDS_MAX];
};

extern const struct seccomp_rule seccomp_netchild_rules[];
extern const size_t seccomp_netchild_count;
extern const struct seccomp_rule seccomp_helper_rules[];
extern const size_t seccomp_helper_count;
extern const struct seccomp_rule seccomp_ctrack_rules[];
extern const size_t seccomp_ctrack_count;
extern const struct seccomp_rule seccomp_forwarder_rules[];
extern const size_t seccomp_forwarder_count;

/* What a filter is built with. A descriptor of 0-2 (the standard streams,
 * or a field left unset) is never one to pin: a rule that names it makes
 * seccomp_apply fail. */
struct seccomp_params {
	int sock;                    /* for @sock: the child's socketpair end */
	int pidfd;                   /* for @pidfd: the helper's pidfd of the child */
	int nl;                      /* for @nl: the conntrack role's netlink socket */
	bool debug;                  /* trap and report instead of killing */
	void (*report)(int nr);      /* with debug: called from the SIGSYS
	                                handler with the call's number, then the
	                                process exits; async-signal-safe */
};

/* Builds the filter from rules and loads it, for every thread of the
 * process (TSYNC). With p->debug, first looks up the names of all system
 * calls, for seccomp_name. Returns 0, or -1 with a message (an unknown
 * call name, a rule naming a descriptor not given, a libseccomp failure). */
int seccomp_apply(const struct seccomp_rule *rules, size_t n,
                  const struct seccomp_params *p, char *err, size_t errsz);

/* The name of system call nr on this architecture, into buf, if a filter
 * with debug was applied in this process, else "#nr". Async-signal-safe:
 * it allocates nothing and makes no system call. */
const char *seccomp_name(int nr, char *buf, size_t size);

/* Exit status of a worker stopped by --debug-sandbox. */
#define EXIT_SECCOMP_TRAP 71

#endif
