#!/usr/bin/python3
"""Fair share of a full connection table: hundreds of attacker addresses
fill the table with idle connections; a querier from an address that holds
none is still answered at once, because its connection takes the place of
the longest-idle connection of the address that holds the most, and of
nothing else.

Addresses: 127.0.20.1 (daemon), 127.0.20.2 - 127.0.20.99 (newcomers),
127.20.1.1 - 127.20.1.16 (attackers holding --max-per-host connections
each), 127.20.2.1 - 127.20.2.192 (attackers holding one each)."""

import select
import socket
import statistics
import time

import identtest
from identtest import connect_from, error

D = '127.0.20.1'
TABLE = 256                 # --max-connections
PER_HOST = 4                # --max-per-host
HEAVY = ['127.20.1.%d' % k for k in range(1, 17)]
LIGHT = ['127.20.2.%d' % k for k in range(1, 193)]
NEWCOMERS = ['127.0.20.%d' % k for k in range(2, 26)]
# A newcomer's query must be answered within this many seconds.
PROMPT = 1.0
# How long a connection that must stay open is watched for a close.
QUIET = 0.1


class Attacker:
    """One idle connection from the attacker, watched for its close."""

    def __init__(self, source, port, n):
        self.source = source
        self.n = n                 # its number among its address's connections
        self.sock = connect_from(source, D, port)
        self.sock.setblocking(False)
        self.closed = False

    def poll_closed(self):
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return False
        except (ConnectionResetError, ConnectionAbortedError):
            data = b''
        if data:
            raise AssertionError('an idle attacker connection from %s got %r'
                                 % (self.source, data))
        self.closed = True
        return True


class FairnessTest(identtest.DaemonTestCase):

    def start(self, *args):
        self.d = self.daemon([(D, None)], *args)
        self.port = self.d.listen[0][1]

    def fill(self):
        """TABLE idle connections: PER_HOST from each HEAVY address, one
        from each LIGHT one, connected one after another so the daemon
        accepts them in this order. Returns them, heavy ones first."""
        self.assertEqual(len(HEAVY) * PER_HOST + len(LIGHT), TABLE)
        conns = [Attacker(a, self.port, n) for a in HEAVY for n in range(PER_HOST)]
        conns += [Attacker(a, self.port, 0) for a in LIGHT]
        for c in conns:
            self.addCleanup(c.sock.close)
        # The last one answered: the daemon has accepted them all.
        last = conns[-1]
        last.sock.setblocking(True)
        last.sock.settimeout(identtest.TIMEOUT)
        last.sock.sendall(b'1 , 1\r\n')
        self.assertEqual(last.sock.recv(4096), error(1, 1, 'NO-USER').encode())
        last.sock.setblocking(False)
        return conns

    def closed_now(self, conns, wait):
        """The attacker connections closed within `wait` seconds that were
        open before."""
        open_ = {c.sock.fileno(): c for c in conns if not c.closed}
        poller = select.poll()
        for fd in open_:
            poller.register(fd, select.POLLIN | select.POLLRDHUP)
        out = []
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            for fd, _ in poller.poll(int(left * 1000) + 1):
                c = open_[fd]
                if c.poll_closed():
                    out.append(c)
                    poller.unregister(fd)

    def test_newcomers_take_the_biggest_holders_idle_places(self):
        self.start('--max-connections', str(TABLE), '--max-per-host', str(PER_HOST))
        conns = self.fill()
        self.assertEqual(self.closed_now(conns, QUIET), [], 'closed while filling the table')
        heavy = {(c.source, c.n): c for c in conns if c.source in HEAVY}

        answered = []
        for i, source in enumerate(NEWCOMERS):
            # The heavy addresses in the order they came to hold the most:
            # each newcomer takes the longest-idle place of the next one.
            want = heavy[(HEAVY[i % len(HEAVY)], i // len(HEAVY))]
            t0 = time.monotonic()
            q = self.querier(D, self.port, source=source)
            reply = q.query(1000 + i, 7)
            took = time.monotonic() - t0
            self.assertEqual(reply, error(1000 + i, 7, 'NO-USER'),
                             'newcomer %d (%s) with the table full' % (i + 1, source))
            self.assertLess(took, PROMPT, 'newcomer %d answered after %.2f s' % (i + 1, took))
            answered.append(took)
            closed = self.closed_now(conns, QUIET)
            self.assertEqual([(c.source, c.n) for c in closed], [(want.source, want.n)],
                             'attacker connections closed for newcomer %d' % (i + 1))

        # Now the heavy addresses hold 2 or 3: one holding as many as the
        # biggest holder gets no place, and nothing else is closed.
        top = HEAVY[len(NEWCOMERS) % len(HEAVY)]
        extra = self.querier(D, self.port, source=top)
        self.assertEqual(self.assertClosedSoon(extra, within=PROMPT,
                                               msg='a connection from a biggest holder'), b'')
        self.assertEqual(self.closed_now(conns, QUIET), [])
        still = [c for c in conns if not c.closed]
        self.assertEqual(len(still), TABLE - len(NEWCOMERS))
        # ... and the rest of the attacker's connections are still served.
        for c in still[-3:] + still[:3]:
            c.sock.setblocking(True)
            c.sock.settimeout(identtest.TIMEOUT)
            c.sock.sendall(b'2 , 2\r\n')
            self.assertEqual(c.sock.recv(4096), error(2, 2, 'NO-USER').encode())
        self.assertIsNotNone(self.d.wait_log(r'peer=%s (refused: connection limit|evicted)'
                                             % HEAVY[0].replace('.', r'\.')))
        print('\nfairness: table %d (--max-per-host %d), %d attacker addresses '
              '(%d holding %d, %d holding 1); %d newcomers from addresses holding none, '
              'each answered in median %.1f ms, max %.1f ms, each closing exactly one '
              'attacker connection'
              % (TABLE, PER_HOST, len(HEAVY) + len(LIGHT), len(HEAVY), PER_HOST,
                 len(LIGHT), len(NEWCOMERS), 1000 * statistics.median(answered),
                 1000 * max(answered)))


if __name__ == '__main__':
    identtest.main()
