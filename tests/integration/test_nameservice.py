#!/usr/bin/python3
"""A slow name service delays only the queries that need it (doc/design.md
§4): the real daemon with a real name-service module that hangs for one
uid, as sssd, LDAP or an NFS-backed passwd do when they are down.

The module is tests/integration/nss_slowtest.c, built by meson as
libnss_slowtest.so.2 (PRIVIDENT_NSS_DIR): getpwuid_r(4242) blocks while the
test's gate file exists, everything else is NOTFOUND at once. The daemon
runs in a private mount namespace (unshare) in which an nsswitch.conf
saying "passwd: files slowtest" is bind-mounted over /etc/nsswitch.conf,
with LD_LIBRARY_PATH pointing at the module; nothing on the host changes.

Each test prints its figures ("figure: ...") for the record.

Addresses: 127.0.40.1 (daemon), 127.0.40.2 (querier, far end)."""

import os
import re
import shutil
import signal
import tempfile
import time

import identtest
from identtest import SERVICE_USER, USER1, USER2, userid, error

D = '127.0.40.1'
Q = '127.0.40.2'

NSS_DIR = os.environ.get('PRIVIDENT_NSS_DIR', '')
MODULE = 'libnss_slowtest.so.2'
HUNG_UID = 4242             # nss_slowtest.c, SLOWTEST_UID: no account has it
HUNG_UIDS = 4               # SLOWTEST_UIDS: 4242 to 4245 all hang
FORBIDDEN_UID = 4250        # SLOWTEST_FORBIDDEN_UID: its lookup calls getppid
DEFAULT_LOOKUP_TIMEOUT = 5  # src/config.h
NAME_ERROR_TTL = 10         # src/helper.c, NAME_ERROR_TTL_MS
RESOLVER_THREADS = 4        # src/resolver.h
HELPER_GRACE = 5            # src/netchild.c, HELPER_GRACE_MS
CAP_DAC_READ_SEARCH = 2

# A connection owned by a uid without an account: identtest's UserSocket
# drops to a user by name; this lets it drop to a bare uid as well.
_drop_to_user = identtest.drop_to


def _drop_to(user):
    if isinstance(user, int):
        os.setgroups([])
        os.setgid(user)
        os.setuid(user)
        if os.getuid() != user or os.geteuid() != user:
            raise RuntimeError('could not become uid %d' % user)
    else:
        _drop_to_user(user)


identtest.drop_to = _drop_to


def figure(text):
    print('figure: ' + text, flush=True)


class NameServiceTest(identtest.DaemonTestCase):

    def setUp(self):
        super().setUp()
        if not os.path.exists(os.path.join(NSS_DIR, MODULE)):
            self.fail('PRIVIDENT_NSS_DIR=%r holds no %s' % (NSS_DIR, MODULE))
        self.tmp = tempfile.mkdtemp(prefix='privident-nss-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)        # the helper looks at the gate
        self.gate = os.path.join(self.tmp, 'gate')
        open(self.gate, 'w').close()
        self.addCleanup(self.release)    # no helper thread stays blocked
        self.nsswitch = os.path.join(self.tmp, 'nsswitch.conf')
        with open(self.nsswitch, 'w') as f:
            f.write('passwd: files slowtest\ngroup: files\nshadow: files\n')

    def release(self):
        """The module stops hanging: uid 4242 is then NOTFOUND."""
        try:
            os.unlink(self.gate)
        except FileNotFoundError:
            pass

    def start(self, *args):
        listen = [(D, identtest.free_port(D))]
        argv = ['unshare', '--mount', '--propagation', 'private', '--',
                'sh', '-c', 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"',
                self.nsswitch, identtest.PRIVIDENT, '-f', '-u', SERVICE_USER,
                '-l', identtest.listen_spec(*listen[0])] + list(args)
        d = identtest.Daemon(listen, argv=argv)
        self.daemons.append(d)
        env = dict(os.environ, LD_LIBRARY_PATH=NSS_DIR,
                   PRIVIDENT_SLOWTEST_GATE=self.gate)
        d.start(env=env)
        return d

    def helper_pid(self, d):
        pid = identtest.sandboxed_worker(d, helper=True)
        self.assertIsNotNone(pid, 'no sandboxed lookup helper:\n' + d.log())
        return pid

    def hung_conn(self):
        return self.user_conn(HUNG_UID, D, Q)

    def ask(self, d, c):
        """Sends a query about c on a new connection; the querier."""
        q = self.querier(D, d.listen[0][1], source=Q)
        q.send('%d , %d\r\n' % (c.local_port, c.remote_port))
        return q

    def timed_query(self, d, c, timeout=identtest.TIMEOUT):
        """(reply line, seconds) of one query about c."""
        t0 = time.monotonic()
        line = self.ask(d, c).readline(timeout=timeout)
        return line, time.monotonic() - t0

    # ---- tests

    def test_module_is_loaded_before_the_filter(self):
        """The helper's preload walks the whole passwd chain, so the test
        module is mapped before the filter forbids mapping code; the
        other tests would prove nothing without it."""
        d = self.start()
        helper = self.helper_pid(d)
        with open('/proc/%d/maps' % helper) as f:
            self.assertIn(MODULE, f.read(), d.log())

    def test_slow_uid_delays_only_its_own_queries(self):
        d = self.start()
        hung, c1 = self.hung_conn(), self.user_conn(USER1, D, Q)
        sp, cp = hung.local_port, hung.remote_port

        t0 = time.monotonic()
        qh = self.ask(d, hung)
        time.sleep(0.2)                   # its lookup is under way
        line, other = self.timed_query(d, c1)
        self.assertEqual(line, userid(c1.local_port, c1.remote_port, USER1), d.log())
        self.assertLess(other, 1.0, 'another user waited %.3f s behind uid %d'
                        % (other, HUNG_UID))

        line = qh.readline(timeout=DEFAULT_LOOKUP_TIMEOUT + 3)
        hung_s = time.monotonic() - t0
        self.assertEqual(line, error(sp, cp, 'UNKNOWN-ERROR'))
        self.assertGreater(hung_s, DEFAULT_LOOKUP_TIMEOUT - 0.2)
        self.assertLess(hung_s, DEFAULT_LOOKUP_TIMEOUT + 1.0)
        self.assertIsNotNone(d.wait_log(
            r'no answer from the name service about uid %d within %d s'
            % (HUNG_UID, DEFAULT_LOOKUP_TIMEOUT)), d.log())

        # Within the error-cache time: answered at once, and the
        # module is still hanging.
        line, again = self.timed_query(d, hung)
        self.assertEqual(line, error(sp, cp, 'UNKNOWN-ERROR'))
        self.assertLess(again, 0.5, 'the failure was not remembered')
        figure('another user answered in %.0f ms while uid %d\'s lookup hung'
               % (other * 1000, HUNG_UID))
        figure('the hung query answered UNKNOWN-ERROR after %.2f s '
               '(lookup-timeout %d s, the default)' % (hung_s, DEFAULT_LOOKUP_TIMEOUT))
        figure('the same uid again, within the error-cache time: %.0f ms'
               % (again * 1000))

    def test_stopped_helper_is_replaced(self):
        """A helper that stops answering altogether (here: stopped with
        SIGSTOP, as a deadlock would leave it) is replaced: the network
        child gives up on it --lookup-timeout plus a grace period after
        the oldest unanswered query, and the monitor starts a new pair,
        which answers."""
        d = self.start('--lookup-timeout', '1')
        child, helper = identtest.workers(d)
        c1 = self.user_conn(USER1, D, Q)
        os.kill(helper, signal.SIGSTOP)
        self.addCleanup(self.cont, helper)
        t0 = time.monotonic()
        q = self.ask(d, c1)
        gone, data = q.wait_closed(timeout=1 + HELPER_GRACE + 5)
        self.assertIsNotNone(gone, 'the child kept waiting for a stopped helper:\n'
                             + d.log())
        self.assertEqual(data, b'', 'a reply from a stopped helper?')
        self.assertGreater(gone, 1 + HELPER_GRACE - 0.5)
        new_child, new_helper = identtest.workers(d, exclude=(child, helper),
                                                  timeout=10)
        line, took = self.timed_query(d, c1)
        replaced = time.monotonic() - t0
        self.assertEqual(line, userid(c1.local_port, c1.remote_port, USER1), d.log())
        self.assertIsNotNone(d.wait_log(r'network child \(pid %d\) exited with '
                                        r'status 72 \(its lookup helper stopped '
                                        r'answering\)' % child), d.log())
        figure('a stopped helper: the query\'s connection closed after %.2f s '
               '(lookup-timeout 1 s + %d s grace, then up to 2 s for the monitor '
               'to end the helper, which held it in flight); the new pair '
               'answered %.2f s after the query' % (gone, HELPER_GRACE, replaced))

    @staticmethod
    def cont(pid):
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass

    def test_one_lookup_per_uid(self):
        """More queries about the hung uid than there are resolver threads:
        they share one lookup, so the other threads stay free, and a user
        asked about for the first time is still answered at once."""
        d = self.start()
        hung, c2 = self.hung_conn(), self.user_conn(USER2, D, Q)
        sp, cp = hung.local_port, hung.remote_port
        t0 = time.monotonic()
        waiting = [self.ask(d, hung) for _ in range(RESOLVER_THREADS + 2)]
        time.sleep(0.2)
        line, other = self.timed_query(d, c2)
        self.assertEqual(line, userid(c2.local_port, c2.remote_port, USER2), d.log())
        self.assertLess(other, 1.0, 'a new user waited %.3f s' % other)
        for q in waiting:
            self.assertEqual(q.readline(timeout=DEFAULT_LOOKUP_TIMEOUT + 3),
                             error(sp, cp, 'UNKNOWN-ERROR'))
        last = time.monotonic() - t0
        self.assertLess(last, DEFAULT_LOOKUP_TIMEOUT + 1.0)
        self.assertEqual(len(re.findall(r'no answer from the name service about uid %d'
                                        % HUNG_UID, d.log())), 1, d.log())
        figure('%d queries about the hung uid, a new user answered in %.0f ms; '
               'the last hung query answered after %.2f s'
               % (len(waiting), other * 1000, last))

    def test_every_thread_hung(self):
        """As many hung uids as resolver threads: every thread is held.
        An account in the cache is still answered at once; one that is
        not waits in the queue and fails at its deadline, and the log
        says why."""
        self.assertEqual(HUNG_UIDS, RESOLVER_THREADS)
        d = self.start('--lookup-timeout', '1')
        c1, c2 = self.user_conn(USER1, D, Q), self.user_conn(USER2, D, Q)
        self.assertEqual(self.timed_query(d, c2)[0],
                         userid(c2.local_port, c2.remote_port, USER2))   # cached now
        hung = [self.user_conn(HUNG_UID + i, D, Q) for i in range(HUNG_UIDS)]
        for c in hung:
            self.ask(d, c)
        time.sleep(0.2)
        line, cached = self.timed_query(d, c2)
        self.assertEqual(line, userid(c2.local_port, c2.remote_port, USER2))
        self.assertLess(cached, 0.5)
        line, queued = self.timed_query(d, c1)
        self.assertEqual(line, error(c1.local_port, c1.remote_port, 'UNKNOWN-ERROR'))
        self.assertGreater(queued, 0.8)
        self.assertLess(queued, 2.0)
        self.assertIsNotNone(d.wait_log(
            r'every resolver thread busy, no lookup about uid %d within 1 s'
            % identtest.uid_of(USER1)), d.log())
        figure('every thread hung: a cached user answered in %.0f ms, an uncached '
               'one failed after %.2f s' % (cached * 1000, queued))

    def test_lookup_timeout_option(self):
        d = self.start('--lookup-timeout', '1')
        hung = self.hung_conn()
        line, hung_s = self.timed_query(d, hung)
        self.assertEqual(line, error(hung.local_port, hung.remote_port, 'UNKNOWN-ERROR'))
        self.assertGreater(hung_s, 0.8)
        self.assertLess(hung_s, 2.0)
        figure('--lookup-timeout 1: the hung query answered after %.2f s' % hung_s)

    def test_late_answer_ends_the_failure(self):
        """With --noident a lookup that cannot be made hides the user
        (HIDDEN-USER, doc/design.md §5); once the module answers (no such
        account: nothing to hide, no name: UNKNOWN-ERROR), the remembered
        failure ends at once, not after the error-cache time."""
        d = self.start('--noident', '--lookup-timeout', '1')
        hung = self.hung_conn()
        sp, cp = hung.local_port, hung.remote_port
        self.assertEqual(self.timed_query(d, hung)[0], error(sp, cp, 'HIDDEN-USER'))
        self.assertEqual(self.timed_query(d, hung)[0], error(sp, cp, 'HIDDEN-USER'))
        self.release()
        q = self.querier(D, d.listen[0][1], source=Q)
        for _ in range(20):             # 2 s, a fifth of the error-cache time
            t0 = time.monotonic()
            line = q.query(sp, cp)
            self.assertLess(time.monotonic() - t0, 0.5)
            if line != error(sp, cp, 'HIDDEN-USER'):
                break
            time.sleep(0.1)
        self.assertEqual(line, error(sp, cp, 'UNKNOWN-ERROR'), d.log())

    def test_resolver_threads_are_filtered(self):
        """A resolver thread's forbidden call stops the whole helper, as
        the first thread's would: the filter covers every thread (TSYNC),
        and the monitor restarts the pair."""
        d = self.start()
        helper = self.helper_pid(d)
        c = self.user_conn(FORBIDDEN_UID, D, Q)
        self.ask(d, c)
        self.assertIsNotNone(d.wait_log(
            r'lookup helper \(pid %d\) was killed by seccomp' % helper), d.log())

    def test_debug_sandbox_names_a_resolver_threads_call(self):
        d = self.start('--debug-sandbox')
        c = self.user_conn(FORBIDDEN_UID, D, Q)
        self.ask(d, c)
        self.assertIsNotNone(d.wait_log(
            r'lookup helper made a forbidden system call: getppid'), d.log())

    def test_resolver_threads_are_confined(self):
        """Every thread of the helper, not only the first, runs as the
        service user under the filter with the same capabilities (none,
        or CAP_DAC_READ_SEARCH for --noident)."""
        d = self.start('--noident')
        helper = self.helper_pid(d)
        tasks = os.listdir('/proc/%d/task' % helper)
        self.assertEqual(len(tasks), RESOLVER_THREADS + 1, tasks)
        main = identtest.proc_status(helper)
        svc = str(identtest.uid_of(SERVICE_USER))
        for tid in tasks:
            st = identtest.proc_status(int(tid))
            self.assertEqual(st['Seccomp'], '2', 'thread %s' % tid)
            self.assertEqual(st['NoNewPrivs'], '1', 'thread %s' % tid)
            self.assertEqual(st['Uid'].split(), [svc] * 4, 'thread %s' % tid)
            for key in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'):
                self.assertEqual(st[key], main[key], 'thread %s %s' % (tid, key))
        self.assertEqual(int(main['CapEff'], 16), 1 << CAP_DAC_READ_SEARCH)


if __name__ == '__main__':
    identtest.main()
