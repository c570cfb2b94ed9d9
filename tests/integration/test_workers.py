#!/usr/bin/python3
"""What each process of the running daemon holds (doc/design.md §6): the
exact descriptor table of the monitor, the network child and the lookup
helper, started with a descriptor its launcher leaked, logging to syslog
(a /dev/log of the test's own, in a mount namespace of the daemon's own)
or to stderr (-f), listening, socket-activated or under inetd; that the
helper makes its own sockets as the service user, not as root; and that
--debug-sandbox names a forbidden call of either worker in the log.

Every descriptor is told by kind: /dev/null, a pipe, an epoll instance, a
pidfd, an eventfd (the helper's resolver threads wake its loop through
one), and a socket by its protocol (the socket's system.sockprotoname
attribute): a TCP listener or connection (/proc/net/tcp{,6}), a netlink
socket, or an AF_UNIX socket by its peer (ss -x): the other worker's end
of the socketpair, or the test's syslog socket.

Addresses: 127.0.30.1 - 127.0.30.9."""

import collections
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import identtest
from identtest import (PRIVIDENT, SERVICE_USER, USER1, Daemon, ForkedProc,
                       listen_spec, userid)

D = '127.0.30.1'
Q = '127.0.30.2'

# How long the workers may take to appear, sandboxed.
WORKERS_WAIT = 5.0
# How long a log line may take to arrive.
LOG_WAIT = 3.0
PR_SET_CHILD_SUBREAPER = 36
# tests/integration/trapshim.c, built by meson.
TRAPSHIM = os.environ.get('PRIVIDENT_TRAPSHIM', '')

# Mounts a private /dev holding only the device nodes the daemon uses and
# the test's syslog socket as /dev/log, then runs the daemon. $1 is the
# test's directory (with "dev" and the socket "log" in it).
MOUNT_DEV = r'''
set -e
t=$1; shift
mount -t tmpfs -o mode=0755,size=64k privident-test-dev "$t/dev"
for n in null zero full random urandom; do
    : >"$t/dev/$n"
    mount --bind "/dev/$n" "$t/dev/$n"
done
: >"$t/dev/log"
mount --bind "$t/log" "$t/dev/log"
mount --move "$t/dev" /dev
exec "$@"
'''


def become_subreaper():
    """A daemonizing privident's monitor is the grandchild of the process
    the test starts: as a subreaper the test inherits it, and can wait for
    it and see its exit status."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), 'PR_SET_CHILD_SUBREAPER')


def reap_zombie_children(names=('privident',)):
    """Reap the test's children that exited (the daemon's intermediate
    processes, inherited as subreaper), and no others."""
    me = os.getpid()
    for pid in identtest.children(me):
        st = identtest.proc_stat(pid)
        try:
            with open('/proc/%d/comm' % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if st is not None and st[0] == 'Z' and comm in names:
            os.waitpid(pid, os.WNOHANG)


class SyslogDaemon(Daemon):
    """privident without -f: it logs to syslog, which is a socket the test
    binds and mounts as /dev/log in a mount namespace of the daemon's own
    (the host has no /dev/log of its own to share). Unless inetd, it
    becomes a daemon: the test, a subreaper, takes over its monitor."""

    def __init__(self, listen, args=(), inetd=False):
        self.tmp = tempfile.mkdtemp(prefix='privident-workers-')
        os.mkdir(os.path.join(self.tmp, 'dev'))
        self.syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.syslog.bind(os.path.join(self.tmp, 'log'))
        os.chmod(os.path.join(self.tmp, 'log'), 0o666)
        self.syslog.setblocking(False)
        self.syslog_inode = os.fstat(self.syslog.fileno()).st_ino
        self.lines = []
        self.inetd = inetd
        argv = ['/usr/bin/unshare', '--mount', '--propagation', 'private',
                '/bin/sh', '-c', MOUNT_DEV, 'sh', self.tmp, PRIVIDENT, '-u', SERVICE_USER]
        for addr, port in listen:
            argv += ['-l', listen_spec(addr, port)]
        argv += list(args)
        super().__init__(listen, argv=argv)

    def start(self, ready=True, **popen):
        super().start(ready=False, **popen)
        if self.inetd:
            return self
        launcher = self.proc
        if launcher.wait(timeout=identtest.TIMEOUT) != 0:
            raise AssertionError('the daemon did not start: %s\n%s'
                                 % (launcher.returncode, self.log()))
        deadline = time.monotonic() + identtest.TIMEOUT
        while True:
            reap_zombie_children()
            mine = [p for p in identtest.children(os.getpid())
                    if identtest.alive(p) and self._is_ours(p)]
            if len(mine) == 1:
                break
            if time.monotonic() >= deadline:
                raise AssertionError('no monitor found (%r):\n%s' % (mine, self.log()))
            time.sleep(0.02)
        self.proc = ForkedProc(mine[0])
        if ready:
            for addr, port in self.listen:
                identtest.wait_listening(addr, port, self)
            time.sleep(0.2)
        return self

    def _is_ours(self, pid):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                args = f.read().split(b'\0')
        except OSError:
            return False
        return all(a.encode() in args for a in self.argv[9:])

    def log(self):
        while True:
            try:
                self.lines.append(self.syslog.recv(4096).decode('utf-8', 'replace'))
            except BlockingIOError:
                break
        return '\n'.join(self.lines)

    def stop(self, sig=signal.SIGTERM, timeout=identtest.TIMEOUT):
        """As Daemon.stop, reading the log all the while: a syslog socket
        nobody reads fills (ten datagrams), and then the daemon's next
        line blocks it, as a stuck syslog daemon would, and it cannot
        take the signal (a crash-looping daemon writes three lines per
        restart)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                self.log()
                time.sleep(0.02)
        self.log()
        return super().stop(sig, timeout)

    def cleanup(self):
        super().cleanup()
        self.syslog.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def tcp_sockets():
    """inode -> 'listener' or 'tcp', from the kernel's tables."""
    out = {}
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                out[fields[9]] = 'listener' if fields[3] == '0A' else 'tcp'
    return out


def unix_peers():
    """AF_UNIX socket inode -> its peer's inode (ss -x)."""
    out = subprocess.run(['ss', '-xanH'], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    peers = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8:
            peers[f[5]] = f[7]
    return peers


def fd_table(pid):
    """[(fd, readlink target)] of a process, by descriptor number."""
    out = []
    for name in os.listdir('/proc/%d/fd' % pid):
        try:
            out.append((int(name), os.readlink('/proc/%d/fd/%s' % (pid, name))))
        except OSError:
            pass
    return sorted(out)


def socket_inodes(pid):
    return {t[8:-1] for _, t in fd_table(pid) if t.startswith('socket:[')}


class Kinds:
    """Names every descriptor of the daemon's processes by kind."""

    def __init__(self, pid, daemon, other_inodes, log_path=None):
        self.pid = pid
        self.tcp = tcp_sockets()
        self.peers = unix_peers()
        self.syslog = str(getattr(daemon, 'syslog_inode', ''))
        self.other = other_inodes       # the other worker's sockets
        self.log_path = log_path

    def of(self, fd, target):
        if target == '/dev/null':
            return 'null'
        if self.log_path and target == os.path.realpath(self.log_path):
            return 'log'
        if target.startswith('pipe:'):
            return 'pipe'
        if target == 'anon_inode:[eventpoll]':
            return 'epoll'
        if target in ('anon_inode:[pidfd]', 'pidfd:') or target.startswith('pidfd:'):
            return 'pidfd'
        if target == 'anon_inode:[eventfd]':
            return 'eventfd'
        if not target.startswith('socket:['):
            return 'other ' + target
        ino = target[8:-1]
        proto = os.getxattr('/proc/%d/fd/%d' % (self.pid, fd),
                            'system.sockprotoname').rstrip(b'\0').decode()
        if proto in ('TCP', 'TCPv6'):
            return self.tcp.get(ino, 'tcp')
        if proto == 'NETLINK':
            return 'netlink'
        if proto != 'UNIX':
            return proto
        peer = self.peers.get(ino)
        if peer is not None and peer == self.syslog:
            return 'syslog'
        if peer is not None and peer in self.other:
            return 'socketpair'
        return 'unix' if peer is not None else 'socket ' + ino


class WorkersTest(identtest.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.svc = identtest.uid_of(SERVICE_USER)

    def workers(self, d):
        """(child, helper): the monitor's two sandboxed children; the child
        is the one whose root is not /."""
        deadline = time.monotonic() + WORKERS_WAIT
        while True:
            kids = [p for p in identtest.children(d.pid) if identtest.alive(p)]
            try:
                if len(kids) == 2 and all(identtest.proc_status(p).get('Seccomp') == '2'
                                          for p in kids):
                    child = [p for p in kids if os.readlink('/proc/%d/root' % p) != '/']
                    helper = [p for p in kids if p not in child]
                    if len(child) == 1:
                        return child[0], helper[0]
            except OSError:
                pass
            if time.monotonic() >= deadline:
                self.fail('no sandboxed worker pair (children %r):\n%s' % (kids, d.log()))
            time.sleep(0.02)

    def leaked_pipe(self):
        """A pipe the launcher leaves open in the daemon (no close-on-exec)."""
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, w)
        return r

    def tables(self, d, log_path=None):
        """{'monitor'|'child'|'helper': (pid, [(fd, target, kind)])}."""
        child, helper = self.workers(d)
        cs, hs = socket_inodes(child), socket_inodes(helper)
        out = {}
        for who, pid, other in (('monitor', d.pid, set()), ('child', child, hs),
                                ('helper', helper, cs)):
            k = Kinds(pid, d, other, log_path)
            out[who] = (pid, [(fd, t, k.of(fd, t)) for fd, t in fd_table(pid)])
        for who, (pid, rows) in out.items():
            print('%s (pid %d):' % (who, pid))
            for fd, t, kind in rows:
                print('  %3d -> %-28s %s' % (fd, t, kind))
        return out

    def assertKinds(self, tables, who, want):
        pid, rows = tables[who]
        got = collections.Counter(kind for _, _, kind in rows)
        self.assertEqual(dict(got), want, '%s (pid %d) holds %r' % (who, pid, rows))

    def assertStreams(self, tables, who, want):
        """fds 0, 1, 2 are exactly the kinds in want."""
        pid, rows = tables[who]
        got = [kind for fd, _, kind in rows if fd <= 2]
        self.assertEqual(got, want, '%s (pid %d) standard streams: %r' % (who, pid, rows))

    def assertPidfdOf(self, tables, child):
        """The helper's pidfd refers to its network child."""
        pid, rows = tables['helper']
        fds = [fd for fd, _, kind in rows if kind == 'pidfd']
        self.assertEqual(len(fds), 1, rows)
        with open('/proc/%d/fdinfo/%d' % (pid, fds[0])) as f:
            info = dict(line.split(':', 1) for line in f if ':' in line)
        self.assertEqual(int(info['Pid']), child, info)

    def assertServes(self, d, port):
        """A query is answered, and its client stays connected: the child
        then holds one client socket ('tcp')."""
        c = self.user_conn(USER1, D, Q)
        q = self.querier(D, port, source=Q)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER1), d.log())

    def syslog_daemon(self, listen, *args, **popen):
        d = SyslogDaemon(listen, args)
        self.daemons.append(d)
        d.start(**popen)
        return d

    # ---- tests

    def test_daemon_with_syslog_and_a_leaked_pipe(self):
        """As a daemon, logging to syslog, started with a stray pipe: the
        monitor keeps its listener, the log and the standard streams on
        /dev/null; the child its listener, its end of the socketpair and
        its epoll; the helper its end of the socketpair, the pidfd of its
        child, netlink, its own syslog socket and its resolvers' eventfd.
        Nobody the pipe."""
        leak = self.leaked_pipe()
        port = identtest.free_port(D)
        d = self.syslog_daemon([(D, port)], pass_fds=(leak,))
        self.assertServes(d, port)
        t = self.tables(d)
        self.assertKinds(t, 'monitor', {'null': 3, 'listener': 1, 'syslog': 1})
        self.assertKinds(t, 'child', {'null': 3, 'listener': 1, 'socketpair': 1,
                                      'epoll': 1, 'tcp': 1})
        self.assertKinds(t, 'helper', {'null': 3, 'socketpair': 1, 'pidfd': 1,
                                       'netlink': 1, 'syslog': 1, 'eventfd': 1})
        for who in ('monitor', 'child', 'helper'):
            self.assertStreams(t, who, ['null'] * 3)
        self.assertPidfdOf(t, t['child'][0])
        # The helper's log works: the query above, and the monitor's.
        self.assertIsNotNone(d.wait_log(r'privident\[%d\]: query peer=%s' % (t['helper'][0], Q),
                                        LOG_WAIT), d.log())
        self.assertIsNotNone(d.wait_log(r'privident\[%d\]: privident .* started' % d.pid,
                                        LOG_WAIT), d.log())

    def test_foreground_with_a_leaked_pipe(self):
        """With -f the helper keeps standard error, its log, and the child
        has /dev/null there as everywhere."""
        leak = self.leaked_pipe()
        d = Daemon([(D, identtest.free_port(D))])
        self.daemons.append(d)
        d.start(pass_fds=(leak,))
        self.assertServes(d, d.listen[0][1])
        self.assertForeground(self.tables(d, d.log_path))

    def assertForeground(self, t):
        """With -f, stdout and stderr on the log (as the test starts it),
        one listener and one client."""
        self.assertKinds(t, 'monitor', {'null': 1, 'log': 2, 'listener': 1})
        self.assertKinds(t, 'child', {'null': 3, 'listener': 1, 'socketpair': 1,
                                      'epoll': 1, 'tcp': 1})
        self.assertKinds(t, 'helper', {'null': 2, 'log': 1, 'socketpair': 1,
                                       'pidfd': 1, 'netlink': 1, 'eventfd': 1})
        self.assertStreams(t, 'child', ['null'] * 3)
        self.assertStreams(t, 'helper', ['null', 'null', 'log'])
        self.assertPidfdOf(t, t['child'][0])

    def test_socket_activation_with_a_leaked_file(self):
        """systemd's socket (LISTEN_FDS, fd 3) is kept, a descriptor the
        launcher left open after it (fd 4, a file) is not."""
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind((D, 0))
        lsock.listen(16)
        port = lsock.getsockname()[1]
        argv = ['/bin/sh', '-c', 'exec "$0" "$@" 4</etc/passwd',
                PRIVIDENT, '-f', '-u', SERVICE_USER]
        d = Daemon([(D, port)], argv=argv)
        self.daemons.append(d)
        try:
            d.start_activated([lsock])
        finally:
            lsock.close()
        self.assertServes(d, port)
        self.assertForeground(self.tables(d, d.log_path))

    def test_inetd_with_a_leaked_pipe(self):
        """Under inetd the child holds the one connection instead of
        listeners."""
        inetd = identtest.Listener(D)
        self.addCleanup(inetd.close)
        c = self.user_conn(USER1, D, Q)
        q = self.querier(D, inetd.port, source=Q)
        conn = inetd.accept()
        conn.setblocking(True)
        leak = self.leaked_pipe()
        d = SyslogDaemon([], ['--inetd'], inetd=True)
        self.daemons.append(d)
        try:
            d.start(stdin=conn, stdout=conn, pass_fds=(leak,))
        finally:
            conn.close()
        t = self.tables(d)
        self.assertKinds(t, 'monitor', {'null': 3, 'syslog': 1})
        self.assertKinds(t, 'child', {'null': 3, 'tcp': 1, 'socketpair': 1, 'epoll': 1})
        self.assertKinds(t, 'helper', {'null': 3, 'socketpair': 1, 'pidfd': 1,
                                       'netlink': 1, 'syslog': 1, 'eventfd': 1})
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER1), d.log())
        q.close()
        self.assertEqual(d.proc.wait(timeout=identtest.TIMEOUT), 0, d.log())

    def test_helper_makes_its_sockets_as_the_service_user(self):
        """The helper drops to the service user before it opens netlink,
        loads the name-service modules or connects to syslog: a socket's
        inode records who created it (its owner in stat), and every
        socket the helper made is the service user's. Only its end of the
        socketpair, made by the monitor, is root's."""
        port = identtest.free_port(D)
        d = self.syslog_daemon([(D, port)])
        self.assertServes(d, port)
        t = self.tables(d)
        pid, rows = t['helper']
        owners = {}
        for fd, target, kind in rows:
            if target.startswith('socket:['):
                owners[kind] = os.stat('/proc/%d/fd/%d' % (pid, fd)).st_uid
        self.assertEqual(owners, {'socketpair': 0, 'netlink': self.svc,
                                  'syslog': self.svc}, rows)

    def test_debug_sandbox_names_the_call(self):
        """--debug-sandbox, in the real workers under their real filters:
        the child's forbidden call, reported to the helper, and the
        helper's own, written from its SIGSYS handler, are both named in
        the log, syslog and stderr alike, and each worker stops with the
        status that says so."""
        self.assertTrue(os.access(TRAPSHIM, os.R_OK), 'PRIVIDENT_TRAPSHIM=%r' % TRAPSHIM)
        for which, who in (('child', 'network child'), ('helper', 'lookup helper')):
            for to_syslog in (True, False):
                with self.subTest(worker=which, syslog=to_syslog):
                    port = identtest.free_port(D)
                    if to_syslog:
                        d = SyslogDaemon([(D, port)], ['--debug-sandbox'])
                    else:
                        d = Daemon([(D, port)], ['--debug-sandbox'])
                    self.daemons.append(d)
                    d.start(env=identtest.trap_env(TRAPSHIM, which))
                    c = self.user_conn(USER1, D, Q)
                    q = self.querier(D, port, source=Q)
                    q.send('%d , %d\r\n' % (c.local_port, c.remote_port))
                    self.assertIsNotNone(
                        d.wait_log(r'privident\[\d+\]: %s made a forbidden system call: '
                                   r'getppid$' % who, LOG_WAIT), d.log())
                    self.assertIsNotNone(
                        d.wait_log(r'%s \(pid \d+\) exited with status 71 \(stopped '
                                   r'by --debug-sandbox\)' % who, LOG_WAIT), d.log())


if __name__ == '__main__':
    become_subreaper()
    identtest.main()
