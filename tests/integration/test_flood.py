#!/usr/bin/python3
"""Floods: thousands of idle connections from one address and
slow-drip clients from others do not stop another address being answered
promptly; the per-host limit and the idle time-out are what hold.

While the flood runs, a sentinel client on another address asks about its
own real connection of USER1 on a fresh connection every
identtest.SENTINEL_PERIOD s and must get its USERID within
identtest.SENTINEL_PROMPT s every time.

Addresses: 127.0.8.1 (daemon), 127.0.8.2 (the flooding host), 127.0.8.3
(the sentinel), 127.0.8.4 - 127.0.8.7 (slow-drip clients)."""

import errno
import re
import resource
import select
import socket
import time

import identtest
from identtest import USER1, error

D = '127.0.8.1'
FLOOD = '127.0.8.2'
S = '127.0.8.3'
DRIPPERS = ['127.0.8.4', '127.0.8.5', '127.0.8.6', '127.0.8.7']

FLOOD_SIZE = 3000
DRIPS_PER_ADDR = 4
DRIP_EVERY = 0.25        # one byte per connection this often
DRIP = b'1' + b' ' * 100   # a legal prefix of a line, never ended

IP_BIND_ADDRESS_NO_PORT = getattr(socket, 'IP_BIND_ADDRESS_NO_PORT', 24)


class Conn:
    """A non-blocking client connection and what happened to it."""

    def __init__(self, source, port, drip=None):
        self.source = source
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        self.sock.bind((source, 0))
        self.started = time.monotonic()
        err = self.sock.connect_ex((D, port))
        if err not in (0, errno.EINPROGRESS):
            raise OSError(err, 'connect from %s: %s' % (source, errno.errorcode.get(err)))
        self.connected = None      # when the handshake completed
        self.closed = None         # when the daemon's close arrived
        self.data = b''
        self.drip = drip
        self.sent = 0
        self.due = 0.0

    def fileno(self):
        return self.sock.fileno()


class Flood:
    """Many connections watched with one poll() (no FD_SETSIZE limit):
    connects, drips, and notes when each one ends."""

    def __init__(self):
        self.poller = select.poll()
        self.conns = {}
        self.drippers = []

    def add(self, conn):
        self.conns[conn.fileno()] = conn
        if conn.drip is not None:
            self.drippers.append(conn)
        self.poller.register(conn.fileno(), select.POLLOUT)

    def run(self, until, stop=lambda: False):
        """Serves events until the time `until` or stop() is true."""
        while True:
            now = time.monotonic()
            self._drip(now)
            if now >= until or stop():
                return
            wait = min(until - now, 0.05)
            for fd, ev in self.poller.poll(int(wait * 1000) + 1):
                c = self.conns[fd]
                if c.connected is None:
                    self._connected(c, ev)
                else:
                    self._readable(c)

    def _connected(self, c, ev):
        err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        c.connected = time.monotonic()
        if err:
            c.closed = c.connected
            c.data = ('connect failed: %s' % errno.errorcode.get(err)).encode()
            self.poller.unregister(c.fileno())
            return
        c.due = c.connected
        self.poller.modify(c.fileno(), select.POLLIN | select.POLLRDHUP)
        if ev & (select.POLLIN | select.POLLHUP | select.POLLRDHUP):
            self._readable(c)

    def _readable(self, c):
        while c.closed is None:
            try:
                chunk = c.sock.recv(4096)
            except BlockingIOError:
                return
            except (ConnectionResetError, ConnectionAbortedError):
                chunk = b''
            if not chunk:
                c.closed = time.monotonic()
                self.poller.unregister(c.fileno())
                return
            c.data += chunk

    def _drip(self, now):
        for c in self.drippers:
            if c.closed is None and c.connected is not None and now >= c.due \
                    and c.sent < len(c.drip):
                try:
                    c.sock.send(c.drip[c.sent:c.sent + 1])
                except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                    continue
                c.sent += 1
                c.due = now + DRIP_EVERY

    def close(self):
        for c in self.conns.values():
            c.sock.close()
        self.conns = {}


class FloodTest(identtest.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.raise_nofile(FLOOD_SIZE + 1024)
        self.sc = self.user_conn(USER1, D, S)

    def raise_nofile(self, need):
        old = resource.getrlimit(resource.RLIMIT_NOFILE)
        soft, hard = old
        if soft != resource.RLIM_INFINITY and soft < need:
            if hard != resource.RLIM_INFINITY and hard < need:
                hard = need           # we are root
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, old)

    def start(self, *args):
        self.d = self.daemon([(D, None)], *args)
        self.port = self.d.listen[0][1]
        self.kids = sorted(identtest.children(self.d.pid))

    def flood(self, timeout):
        """Starts the sentinel and the drippers, then FLOOD_SIZE idle
        connections from FLOOD as fast as they go. Returns the Flood, the
        sentinel and the time the flood began; the flood's connections are
        all established when it returns."""
        f = Flood()
        self.addCleanup(f.close)
        sentinel = self.sentinel(self.d, S, self.sc)
        for addr in DRIPPERS:
            for _ in range(DRIPS_PER_ADDR):
                f.add(Conn(addr, self.port, drip=DRIP))
        f.run(time.monotonic() + 0.3)   # the sentinel and the drips under way
        begun = time.monotonic()
        for _ in range(FLOOD_SIZE):
            f.add(Conn(FLOOD, self.port))
        flooders = self.flooders(f)
        f.run(time.monotonic() + 5.0,
              stop=lambda: all(c.connected is not None for c in flooders))
        failed = [c.data for c in flooders if c.connected is None or c.data]
        self.assertEqual(failed[:5], [], '%d of %d flood connections did not connect'
                         % (len(failed), FLOOD_SIZE))
        done = time.monotonic()
        self.assertLess(done - begun, timeout - 1.0,
                        'the flood took %.2f s to connect: too slow for -t %d'
                        % (done - begun, timeout))
        return f, sentinel, begun

    @staticmethod
    def flooders(f):
        return [c for c in f.conns.values() if c.source == FLOOD]

    def assertClosedByTimeout(self, conns, timeout, what):
        """Every one of conns was closed by the daemon, with no data, between
        timeout - 1 and timeout + 1.5 s after it connected."""
        early, late, noisy = [], [], []
        for c in conns:
            if c.closed is None:
                late.append('still open')
            elif c.closed - c.connected > timeout + 1.5:
                late.append('%.2f s' % (c.closed - c.connected))
            elif c.closed - c.connected < timeout - 1.0:
                early.append('%.2f s' % (c.closed - c.connected))
            if c.data:
                noisy.append(c.data[:80])
        self.assertEqual(late[:5], [], '%d of %d %s not closed within %.1f s with -t %d'
                         % (len(late), len(conns), what, timeout + 1.5, timeout))
        self.assertEqual(early[:5], [], '%d of %d %s closed before the time-out (-t %d)'
                         % (len(early), len(conns), what, timeout))
        self.assertEqual(noisy[:5], [], '%d of %d %s got data' % (len(noisy), len(conns), what))

    def assertServed(self, source, msg=''):
        """A fresh connection from source is answered (NO-USER)."""
        q = self.querier(D, self.port, source=source)
        self.assertEqual(q.query(1000, 7), error(1000, 7, 'NO-USER'), msg)

    # ---------------------------------------------------------------- tests

    def test_idle_flood_within_the_limits(self):
        """3000 idle connections from one host, all let in: they are held
        until the idle time-out and nobody else waits meanwhile."""
        t = 3
        self.start('--max-connections', '4000', '--max-per-host', '3500', '-t', str(t))
        f, sentinel, begun = self.flood(t)
        flooders = self.flooders(f)
        f.run(time.monotonic() + 1.0)
        closed = [c for c in flooders if c.closed is not None]
        self.assertEqual(len(closed), 0, 'connections within --max-per-host closed '
                         'before the time-out')
        # all held now: a fresh connection from the flooding host's neighbour
        # is still answered at once, and so is one from a dripping host
        self.assertServed(DRIPPERS[0], 'with %d idle connections held' % FLOOD_SIZE)
        f.run(begun + t + 4.0, stop=lambda: all(c.closed is not None
                                                for c in f.conns.values()))
        end = time.monotonic()
        self.assertClosedByTimeout(flooders, t, 'idle flood connections')
        self.assertClosedByTimeout(f.drippers, t, 'slow-drip connections')
        self.assertTrue(all(0 < c.sent < len(DRIP) for c in f.drippers),
                        'a dripper had not begun, or had finished, when closed')
        sentinel.stop()
        self.assertEqual(sentinel.problems(begun, end, least=20), [],
                         'another host was not served throughout the flood')
        self.assertServed(FLOOD, 'the flooding host, once its connections are gone')
        self.assertIsNotNone(self.d.wait_log(r'peer=%s idle time-out' % re.escape(FLOOD)))
        self.assertIsNone(self.d.wait_log(r'refused', timeout=0), 'within the limits')
        self.assertWorkersIntact(self.d, self.kids)

    def test_per_host_limit_refuses_the_excess(self):
        """3000 connections from one host with the default --max-per-host
        (32): 32 are held until the idle time-out, every other one is closed
        at once; other hosts, flooding or dripping, are not affected."""
        t = 2
        self.start('-t', str(t))
        f, sentinel, begun = self.flood(t)
        flooders = self.flooders(f)
        f.run(time.monotonic() + 0.8)
        held = [c for c in flooders if c.closed is None]
        refused = [c for c in flooders if c.closed is not None]
        self.assertEqual(len(held), 32, 'connections held from one host with the '
                         'default --max-per-host 32')
        slow = sorted(c.closed - c.connected for c in refused if c.closed - c.connected > 1.0)
        self.assertEqual(slow, [], 'refused connections not closed at once')
        self.assertEqual([c.data for c in refused if c.data][:5], [],
                         'refused connections got data')
        # a new connection from the flooding host is refused too, at once
        extra = self.querier(D, self.port, source=FLOOD)
        data = self.assertClosedSoon(extra, within=1.0, msg='a 33rd connection')
        self.assertEqual(data, b'')
        f.run(begun + t + 4.0, stop=lambda: all(c.closed is not None
                                                for c in f.conns.values()))
        end = time.monotonic()
        self.assertClosedByTimeout(held, t, 'held flood connections')
        self.assertClosedByTimeout(f.drippers, t, 'slow-drip connections')
        sentinel.stop()
        self.assertEqual(sentinel.problems(begun, end, least=15), [],
                         'another host was not served throughout the flood')
        self.assertServed(FLOOD, 'the flooding host, once its connections timed out')
        self.assertIsNotNone(self.d.wait_log(
            r'peer=%s refused: per-host connection limit' % re.escape(FLOOD)))
        self.assertIsNone(self.d.wait_log(r'peer=(%s|%s) refused' % (
            re.escape(S), '|'.join(map(re.escape, DRIPPERS))), timeout=0))
        self.assertWorkersIntact(self.d, self.kids)


if __name__ == '__main__':
    identtest.main()
