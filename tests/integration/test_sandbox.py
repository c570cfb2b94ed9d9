#!/usr/bin/python3
"""The workers' sandboxes, seen from outside on the running daemon: the
network child's and the lookup helper's /proc status, roots and limits; the
monitor holding no connection to anyone; kill -9 of either worker answered
by a new, identically confined pair within a second, with the reason in the
log; the crash-loop back-off; --debug-sandbox; the start as the service user
(no setuid step); and a connection owned by a uid with no account, which
takes the name service's whole path under the helper's filter.

Addresses: 127.0.7.1 - 127.0.7.9."""

import os
import pwd
import re
import signal
import socket
import subprocess
import time

import identtest
from identtest import (PRIVIDENT, SERVICE_USER, USER1, Daemon, Querier, error,
                       userid)

D = '127.0.7.1'
Q = '127.0.7.2'

CAP_DAC_READ_SEARCH = 2
CAP_SYS_CHROOT = 18
# A uid no account has (and no name-service module knows).
ABSENT_UID = 4000007
# The bound on replacing a killed worker.
RESTART_BOUND = 1.0


def caps(st, key):
    return int(st[key], 16)


def read_limits(pid):
    """'Max processes' -> (soft, hard) as strings."""
    out = {}
    with open('/proc/%d/limits' % pid) as f:
        for line in f.readlines()[1:]:
            m = re.match(r'(.+?)\s{2,}(\S+)\s+(\S+)', line)
            if m:
                out[m.group(1)] = (m.group(2), m.group(3))
    return out


def readable_as(user, path):
    """Whether user can open path for reading (tried in a forked process)."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            identtest.drop_to(user)
            try:
                with open(path, 'rb') as f:
                    f.read(1)
                code = 0
            except PermissionError:
                code = 1
        finally:
            os._exit(code)
    status = identtest.reap(pid)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise AssertionError('probe as %s of %s failed: %r' % (user, path, code))
    return code == 0


class AbsentUidSocket:
    """A connection from D to a root-owned listener whose local end belongs
    to a uid with no account."""

    def __init__(self, uid, listener):
        r, w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.close(ctl_w)
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind((D, 0))
                s.connect((listener.addr, listener.port))
                os.write(w, b'%d\n' % s.getsockname()[1])
                os.read(ctl_r, 1)      # hold until the test closes its end
            finally:
                os._exit(0)
        os.close(w)
        os.close(ctl_r)
        self.pid, self._ctl = pid, ctl_w
        data = b''
        while not data.endswith(b'\n'):
            chunk = os.read(r, 32)
            if not chunk:
                raise RuntimeError('the uid %d process died' % uid)
            data += chunk
        os.close(r)
        self.local_port = int(data)
        self.remote_port = listener.port
        self.peer = listener.accept()

    def close(self):
        self.peer.close()
        os.close(self._ctl)
        identtest.reap(self.pid)


class SandboxTest(identtest.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.svc = identtest.uid_of(SERVICE_USER)
        self.svc_gid = pwd.getpwnam(SERVICE_USER).pw_gid

    # ---- finding the workers

    def workers(self, d, exclude=(), timeout=3.0):
        """(child, helper) pids of d's sandboxed pair (identtest.workers)."""
        return identtest.workers(d, exclude, timeout)

    # ---- what a confined worker looks like

    def assertServiceIdentity(self, pid, st, uid=None, gid=None):
        uid = self.svc if uid is None else uid
        gid = self.svc_gid if gid is None else gid
        uids = [int(x) for x in st['Uid'].split()]
        gids = [int(x) for x in st['Gid'].split()]
        self.assertEqual(uids, [uid] * 4, 'pid %d Uid' % pid)
        self.assertEqual(gids, [gid] * 4, 'pid %d Gid' % pid)
        self.assertNotIn(0, uids + gids, 'pid %d runs with uid or gid 0' % pid)
        self.assertEqual(st.get('Groups', ''), '', 'pid %d has supplementary groups' % pid)

    def assertNotDumpable(self, pid, st):
        # The kernel gives a non-dumpable process's /proc files to root, and
        # its own uid can then not read them.
        self.assertEqual(os.stat('/proc/%d/status' % pid).st_uid, 0,
                         'pid %d is dumpable (its /proc files belong to its uid)' % pid)
        self.assertFalse(readable_as(SERVICE_USER, '/proc/%d/environ' % pid),
                         'the service user can read /proc/%d/environ' % pid)

    def assertChildConfined(self, pid, bounding=0):
        st = identtest.proc_status(pid)
        self.assertEqual(st['Seccomp'], '2', st)
        self.assertEqual(st['NoNewPrivs'], '1', st)
        for key in ('CapInh', 'CapPrm', 'CapEff', 'CapAmb'):
            self.assertEqual(caps(st, key), 0, 'child %s: %s' % (key, st[key]))
        self.assertEqual(caps(st, 'CapBnd') & ~bounding, 0, 'child CapBnd: %s' % st['CapBnd'])
        self.assertServiceIdentity(pid, st)
        self.assertNotDumpable(pid, st)
        # An empty root that cannot be written, even by root from outside.
        root = '/proc/%d/root' % pid
        self.assertNotEqual(os.readlink(root), '/')
        self.assertEqual(os.listdir(root), [])
        with self.assertRaises(OSError):
            fd = os.open(os.path.join(root, 'x'), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
        with self.assertRaises(OSError):
            os.mkdir(os.path.join(root, 'd'))
        limits = read_limits(pid)
        self.assertEqual(limits['Max processes'], ('0', '0'), limits)
        self.assertEqual(limits['Max file size'], ('0', '0'), limits)
        self.assertEqual(limits['Max core file size'], ('0', '0'), limits)

    def assertHelperConfined(self, pid, bounding=0):
        st = identtest.proc_status(pid)
        self.assertEqual(st['Seccomp'], '2', st)
        self.assertEqual(st['NoNewPrivs'], '1', st)
        for key in ('CapEff', 'CapPrm'):
            held = caps(st, key)
            self.assertLessEqual(bin(held).count('1'), 1, 'helper %s: %s' % (key, st[key]))
            self.assertEqual(held & ~(1 << CAP_DAC_READ_SEARCH), 0,
                             'helper %s holds more than CAP_DAC_READ_SEARCH: %s' % (key, st[key]))
        self.assertEqual(caps(st, 'CapInh'), 0, st)
        self.assertEqual(caps(st, 'CapAmb'), 0, st)
        self.assertEqual(caps(st, 'CapBnd') & ~bounding & ~(1 << CAP_DAC_READ_SEARCH), 0,
                         'helper CapBnd: %s' % st['CapBnd'])
        self.assertServiceIdentity(pid, st)
        self.assertNotDumpable(pid, st)
        self.assertEqual(read_limits(pid)['Max core file size'], ('0', '0'))

    def assertAnswered(self, d, c, within, since, what):
        """A query about c is answered correctly, and by since + within."""
        deadline = since + within + 2.0       # keep polling past the bound to
        line = None                           # report how late it was
        while line is None and time.monotonic() < deadline:
            try:
                q = Querier(D, d.listen[0][1], source=Q, timeout=1.0)
            except OSError:
                time.sleep(0.01)
                continue
            try:
                q.send('%d , %d\r\n' % (c.local_port, c.remote_port))
                line = q.readline(timeout=max(deadline - time.monotonic(), 0.1))
            except (AssertionError, OSError):
                line = None                   # the dying worker took it
            finally:
                q.close()
        elapsed = time.monotonic() - since
        self.assertEqual(line, userid(c.local_port, c.remote_port, USER1),
                         '%s: no answer\n%s' % (what, d.log()))
        self.assertLess(elapsed, within, '%s: answered only after %.3f s' % (what, elapsed))
        return elapsed

    def kill_and_wait_answer(self, d, c, pid, who):
        os.kill(pid, signal.SIGKILL)
        t0 = time.monotonic()
        elapsed = self.assertAnswered(d, c, RESTART_BOUND, t0, 'after kill -9 of the ' + who)
        self.assertIsNotNone(
            d.wait_log(r'%s \(pid %d\) was killed by signal 9' % (who, pid)),
            'the monitor did not log why the %s died:\n%s' % (who, d.log()))
        return elapsed

    # ---- tests

    def test_workers_are_confined(self):
        d = self.daemon([(D, None)])
        child, helper = self.workers(d)
        self.assertChildConfined(child)
        self.assertHelperConfined(helper)
        c = self.user_conn(USER1, D, Q)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER1), d.log())

    def test_monitor_holds_no_connection_to_anyone(self):
        """The monitor keeps the listening sockets and nothing else that
        could carry bytes: no client connection, no end of the workers'
        socketpair."""
        d = self.daemon([(D, None)])
        self.workers(d)
        c = self.user_conn(USER1, D, Q)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER1))
        listening = set()
        for table in ('/proc/net/tcp', '/proc/net/tcp6'):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[3] == '0A':          # TCP_LISTEN
                        listening.add(fields[9])
        sockets = []
        for fd in os.listdir('/proc/%d/fd' % d.pid):
            try:
                target = os.readlink('/proc/%d/fd/%s' % (d.pid, fd))
            except OSError:
                continue
            m = re.match(r'socket:\[(\d+)\]$', target)
            if m:
                sockets.append(m.group(1))
        self.assertEqual(len(sockets), 1, 'monitor sockets: %r' % sockets)
        self.assertIn(sockets[0], listening, 'the monitor holds a socket that is not a listener')

    def test_killed_workers_are_replaced_within_a_second(self):
        d = self.daemon([(D, None)])
        c = self.user_conn(USER1, D, Q)
        child, helper = self.workers(d)
        old = {child, helper}

        self.kill_and_wait_answer(d, c, child, 'network child')
        child2, helper2 = self.workers(d, exclude=old)
        self.assertChildConfined(child2)
        self.assertHelperConfined(helper2)
        self.assertFalse(identtest.alive(helper), 'the old helper outlived its child')
        old |= {child2, helper2}

        self.kill_and_wait_answer(d, c, helper2, 'lookup helper')
        child3, helper3 = self.workers(d, exclude=old)
        self.assertChildConfined(child3)
        self.assertHelperConfined(helper3)
        self.assertFalse(identtest.alive(child2), 'the old child outlived its helper')

    def test_crash_loop_backs_off(self):
        d = self.daemon([(D, None)])
        seen = set()
        for _ in range(3):
            child, helper = self.workers(d, exclude=seen)
            seen |= {child, helper}
            os.kill(child, signal.SIGKILL)
        self.workers(d, exclude=seen)
        delays = [int(x) for x in re.findall(r'workers keep dying; restarting in (\d+) ms', d.log())]
        self.assertEqual(delays[:3], [100, 200, 400], d.log())

    def test_debug_sandbox_still_serves(self):
        """--debug-sandbox only changes the filters' action: the workers
        are as confined and answer as usual."""
        d = self.daemon([(D, None)], '--debug-sandbox')
        child, helper = self.workers(d)
        self.assertChildConfined(child)
        self.assertHelperConfined(helper)
        c = self.user_conn(USER1, D, Q)
        q = self.querier(D, d.listen[0][1], source=Q)
        for _ in range(3):
            self.assertEqual(q.query(c.local_port, c.remote_port),
                             userid(c.local_port, c.remote_port, USER1), d.log())
        self.assertEqual(q.query(1, 2), error(1, 2, 'NO-USER'))
        self.assertNotIn('forbidden system call', d.log())
        self.assertEqual(self.workers(d), (child, helper))

    def test_owner_without_an_account(self):
        """The name service's full path (every nsswitch module, none of
        which knows the uid) runs under the helper's filter: the answer is
        UNKNOWN-ERROR and the helper survives it."""
        d = self.daemon([(D, None)])
        child, helper = self.workers(d)
        listener = identtest.Listener(Q)
        self.addCleanup(listener.close)
        s = AbsentUidSocket(ABSENT_UID, listener)
        self.addCleanup(s.close)
        q = self.querier(D, d.listen[0][1], source=Q)
        for _ in range(2):          # the second one from the helper's cache
            self.assertEqual(q.query(s.local_port, s.remote_port),
                             error(s.local_port, s.remote_port, 'UNKNOWN-ERROR'), d.log())
        self.assertTrue(identtest.alive(helper), d.log())
        self.assertEqual(self.workers(d), (child, helper), d.log())
        self.assertNotIn('seccomp', d.log())

    @staticmethod
    def as_service_user(caps, *args):
        """argv that runs the daemon as systemd's unit does: the service
        user, no groups, only the capabilities caps (setpriv names)."""
        plus = ','.join('+' + c for c in caps)
        return ['/usr/bin/setpriv', '--reuid', SERVICE_USER, '--regid', SERVICE_USER,
                '--clear-groups', '--bounding-set=-all,' + plus,
                '--inh-caps=' + plus, '--ambient-caps=' + plus, PRIVIDENT, '-f'] + list(args)

    def start_as_service_user(self, caps):
        """The daemon started as_service_user, on a socket passed in."""
        l4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        l4.bind((D, 0))
        l4.listen(64)
        d = Daemon([(D, l4.getsockname()[1])], argv=self.as_service_user(caps))
        self.daemons.append(d)
        try:
            d.start_activated([l4])
        finally:
            l4.close()
        return d

    def test_started_as_the_service_user(self):
        """Started as the service user with CAP_SYS_CHROOT and CAP_SETPCAP
        (so the workers can empty their bounding sets; the units in
        packaging/systemd grant CAP_SYS_CHROOT alone, which
        tests/systemd/test_unit.py covers), the socket passed in. The
        workers are confined the same way as after a setuid step, and a
        killed child is replaced the same way."""
        d = self.start_as_service_user(['sys_chroot', 'setpcap'])
        child, helper = self.workers(d)
        self.assertChildConfined(child)
        self.assertHelperConfined(helper)
        c = self.user_conn(USER1, D, Q)
        self.kill_and_wait_answer(d, c, child, 'network child')
        child2, helper2 = self.workers(d, exclude={child, helper})
        self.assertChildConfined(child2)
        self.assertHelperConfined(helper2)

    def test_service_user_without_setpcap(self):
        """Without CAP_SETPCAP the bounding set stays as the service
        manager left it; everything else is confined all the same."""
        d = self.start_as_service_user(['sys_chroot'])
        chroot_only = 1 << CAP_SYS_CHROOT
        child, helper = self.workers(d)
        self.assertChildConfined(child, bounding=chroot_only)
        self.assertHelperConfined(helper, bounding=chroot_only)

    def test_noident_without_the_capability_is_refused_at_start(self):
        """As the service user without CAP_DAC_READ_SEARCH, --noident could
        never work: one line and exit status 2, not a crash-looping helper."""
        for flag in ('--noident', '--opt-in', '--user-files'):
            argv = self.as_service_user(['sys_chroot', 'setpcap'], '-l',
                                        '%s:%d' % (D, identtest.free_port(D)), flag)
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            lines = r.stderr.strip().split('\n')
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn('CAP_DAC_READ_SEARCH', lines[0])
            self.assertIn(flag[2:], lines[0])


if __name__ == '__main__':
    identtest.main()
