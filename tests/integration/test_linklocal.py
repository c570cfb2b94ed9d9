#!/usr/bin/python3
"""Link-local IPv6: a user's connection and the query on one link.

A link-local address is an address only together with its link, and the
kernel finds a socket of a link-local connection only when asked on that
link's interface. Each test makes a network namespace of its own (deleted
afterwards, even on failure) with two veth pairs, links A (pi-lla0, peer
pi-lla1) and B (pi-llb0, peer pi-llb1), and the link-local addresses
fe80::1 and fe80::2 on both pi-lla0 and pi-llb0. The daemon runs in the
namespace (ip netns exec); the test process enters it (setns) for its own
sockets and for privident-query."""

import ctypes
import os
import select
import socket
import subprocess
import time

import identtest
from identtest import (PRIVIDENT, PRIVIDENT_QUERY, SERVICE_USER, TIMEOUT, USER1,
                       Daemon, Querier, drop_to, reap, userid)

CLONE_NEWNET = 0x40000000
LINK_A, LINK_B = 'pi-lla0', 'pi-llb0'
D, Q = 'fe80::1', 'fe80::2'   # the daemon's side, the querier's side
PORT = 1130                   # the namespace is ours: any port is free


def setns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, 'setns: ' + os.strerror(e))


def run(*argv):
    subprocess.run(argv, check=True, timeout=30, capture_output=True)


def addr(a, link, port=0):
    """The socket address of a on link: (address, port, flowinfo, scope)."""
    return (a, port, 0, socket.if_nametoindex(link))


def bind_when_ready(s, sa):
    """A new address is tentative for a moment even without DAD."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            s.bind(sa)
            return
        except OSError as e:
            if e.errno != 99 or time.monotonic() >= deadline:  # EADDRNOTAVAIL
                raise
            time.sleep(0.02)


class UserConn:
    """An ESTABLISHED connection from D%link to a root-owned listener on
    Q%link whose D end belongs to user: a forked child drops to user,
    connects, sends its port back and holds the socket until the pipe
    closes (or CHILD_LIFETIME passes)."""

    def __init__(self, user, link):
        self.listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.listener.settimeout(TIMEOUT)
        bind_when_ready(self.listener, addr(Q, link))
        self.listener.listen(4)
        self.remote_port = self.listener.getsockname()[1]
        ctl_r, ctl_w = os.pipe()
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(ctl_w)
                os.close(res_r)
                drop_to(user)
                s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                s.settimeout(TIMEOUT)
                bind_when_ready(s, addr(D, link))
                s.connect(addr(Q, link, self.remote_port))
                os.write(res_w, b'%d\n' % s.getsockname()[1])
                select.select([ctl_r], [], [], identtest.CHILD_LIFETIME)
            finally:
                os._exit(0)
        self.pid = pid
        os.close(ctl_r)
        os.close(res_w)
        self.ctl = ctl_w
        try:
            with os.fdopen(res_r, 'rb') as f:
                line = f.readline()
            if not line:
                raise RuntimeError('user process died before connecting')
            self.local_port = int(line)
            self.peer, _ = self.listener.accept()
        except BaseException:
            self.close()
            raise

    def close(self):
        if getattr(self, 'peer', None) is not None:
            self.peer.close()
            self.peer = None
        if self.ctl is not None:
            os.close(self.ctl)
            self.ctl = None
        if self.pid is not None:
            reap(self.pid)
            self.pid = None
        self.listener.close()


class LinkLocalTest(identtest.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.ns = 'privident-ll-%d' % os.getpid()
        subprocess.run(['ip', 'netns', 'del', self.ns], capture_output=True,
                       timeout=30)  # left over from a killed run
        run('ip', 'netns', 'add', self.ns)
        self.addCleanup(subprocess.run, ['ip', 'netns', 'del', self.ns],
                        timeout=30)
        inns = ['ip', 'netns', 'exec', self.ns]
        run(*inns, 'ip', 'link', 'set', 'lo', 'up')
        for link in (LINK_A, LINK_B):
            peer = link[:-1] + '1'
            run(*inns, 'ip', 'link', 'add', link, 'type', 'veth', 'peer', 'name', peer)
            run(*inns, 'ip', 'link', 'set', link, 'up')
            run(*inns, 'ip', 'link', 'set', peer, 'up')
            for a in (D, Q):
                run(*inns, 'ip', '-6', 'addr', 'add', a + '/64', 'dev', link, 'nodad')
        home = os.open('/proc/self/ns/net', os.O_RDONLY)
        self.addCleanup(os.close, home)
        self.addCleanup(setns, home)
        with open('/run/netns/' + self.ns, 'rb') as f:
            setns(f.fileno())

    def start(self, listen):
        argv = ['ip', 'netns', 'exec', self.ns, PRIVIDENT, '-f', '-u', SERVICE_USER,
                '-l', listen]
        d = Daemon([], argv=argv)
        self.daemons.append(d)
        d.start(ready=False)
        deadline = time.monotonic() + TIMEOUT
        while True:
            self.assertFalse(d.exited(), d.log())
            try:
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                    s.settimeout(0.5)
                    s.connect(addr(D, LINK_A, PORT))
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline, d.log())
                time.sleep(0.05)
        time.sleep(0.2)   # the probe's close reaches the daemon
        return d

    def user_conn(self, link):
        c = UserConn(USER1, link)
        self.addCleanup(c.close)
        return c

    def ask(self, link, sp, cp):
        """One query from Q%link to the daemon on D%link."""
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.settimeout(TIMEOUT)
        bind_when_ready(s, addr(Q, link))
        s.connect(addr(D, link, PORT))
        q = Querier.__new__(Querier)
        q.sock, q.buf = s, b''
        return q.query(sp, cp)

    def pquery(self, link, sp, cp):
        return subprocess.run(
            [PRIVIDENT_QUERY, '-p', str(PORT), '-s', '%s%%%s' % (Q, link),
             '%s%%%s' % (D, link), str(sp), str(cp)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)

    def test_userid_on_all_addresses(self):
        d = self.start(':%d' % PORT)
        c = self.user_conn(LINK_A)
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(self.ask(LINK_A, sp, cp), userid(sp, cp, USER1), d.log())
        r = self.pquery(LINK_A, sp, cp)
        self.assertEqual((r.returncode, r.stdout), (0, USER1 + '\n'), r.stderr + d.log())

    def test_userid_on_a_link_local_listen_address(self):
        d = self.start('[%s%%%s]:%d' % (D, LINK_A, PORT))
        self.assertIsNotNone(d.wait_log(r'listening on \[fe80::1%%%s\]:%d,'
                                        % (LINK_A, PORT)), d.log())
        c = self.user_conn(LINK_A)
        sp, cp = c.local_port, c.remote_port
        r = self.pquery(LINK_A, sp, cp)
        self.assertEqual((r.returncode, r.stdout), (0, USER1 + '\n'), r.stderr + d.log())
        # bound to link A's fe80::1 only: nothing listens on link B's
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.settimeout(TIMEOUT)
            with self.assertRaises(ConnectionRefusedError):
                s.connect(addr(D, LINK_B, PORT))

    def test_same_addresses_on_another_link_are_another_connection(self):
        """The connection is on link A; the same addresses and ports asked
        about from link B name no connection there."""
        d = self.start(':%d' % PORT)
        c = self.user_conn(LINK_A)
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(self.ask(LINK_B, sp, cp),
                         identtest.error(sp, cp, 'NO-USER'), d.log())
        self.assertEqual(self.ask(LINK_A, sp, cp), userid(sp, cp, USER1), d.log())


if __name__ == '__main__':
    identtest.main()
