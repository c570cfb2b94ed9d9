#!/usr/bin/python3
"""Time-outs and limits: idle time-out, --max-queries, --max-per-host,
--max-connections.

Addresses: 127.0.3.1 (daemon), 127.0.3.2 - 127.0.3.6 (queriers)."""

import time

import identtest
from identtest import USER1, userid, error

D = '127.0.3.1'
A = '127.0.3.2'
B = '127.0.3.3'
C = '127.0.3.4'
E = '127.0.3.5'


class LimitsTest(identtest.DaemonTestCase):

    def start(self, *args):
        self.d = self.daemon([(D, None)], *args)
        self.port = self.d.listen[0][1]

    def q(self, source):
        return self.querier(D, self.port, source=source)

    def assertServed(self, q, msg=''):
        """The connection answers a query (NO-USER for unused ports)."""
        sp, cp = 1000 + (q.sock.getsockname()[1] % 1000), 7
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'NO-USER'), msg)

    def assertRefused(self, q, msg=''):
        """Closed at once, with no reply."""
        data = self.assertClosedSoon(q, within=1.0, msg=msg)
        self.assertEqual(data, b'', msg)

    # ---- idle time-out

    def test_idle_connection_times_out(self):
        self.start('-t', '2')
        start = time.monotonic()
        q = self.q(A)
        waited, data = q.wait_closed(6.0)
        self.assertIsNotNone(waited, 'idle connection still open after 6 s with -t 2')
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 1.0, 'closed after %.2f s, before the time-out' % elapsed)
        self.assertLessEqual(elapsed, 3.5, 'closed only after %.2f s with -t 2' % elapsed)
        self.assertEqual(data, b'')

    def test_slow_drip_does_not_extend_the_time_out(self):
        self.start('-t', '2')
        start = time.monotonic()
        q = self.q(A)
        drip = b'1' + b' ' * 40       # a legal prefix of a line, never ended
        closed_at = None
        for ch in drip:                # one byte every 0.25 s: at most 10 s
            if not q.is_open(wait=0.25):
                waited, _ = q.wait_closed(1.0)
                if waited is not None:
                    closed_at = time.monotonic() - start
                    break
            try:
                q.send(bytes([ch]))
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.monotonic() - start
                break
        self.assertIsNotNone(closed_at, 'a dripping connection stayed open for 10 s with -t 2')
        self.assertGreaterEqual(closed_at, 1.0)
        self.assertLessEqual(closed_at, 3.5, 'closed only after %.2f s' % closed_at)

    def test_completed_queries_keep_the_connection(self):
        self.start('-t', '2')
        start = time.monotonic()
        q = self.q(A)
        time.sleep(1.4)
        self.assertServed(q, 'at 1.4 s')
        time.sleep(2.8 - (time.monotonic() - start))
        # 2.8 s after connecting, 1.4 s after the last completed query
        self.assertServed(q, 'at 2.8 s')
        last = time.monotonic()
        waited, _ = q.wait_closed(6.0)
        self.assertIsNotNone(waited, 'still open 6 s after the last query')
        idle = time.monotonic() - last
        self.assertGreaterEqual(idle, 1.0)
        self.assertLessEqual(idle, 3.5)

    # ---- --max-queries

    def test_max_queries_pipelined(self):
        self.start('--max-queries', '3')
        q = self.q(A)
        q.send(''.join('%d,%d\r\n' % (100 + i, 200 + i) for i in range(6)))
        for i in range(3):
            self.assertEqual(q.readline(), error(100 + i, 200 + i, 'NO-USER'))
        waited, data = q.wait_closed(3.0)
        self.assertIsNotNone(waited, 'open after 3 replies with --max-queries 3')
        self.assertEqual(data, b'', 'replied to more than --max-queries queries')

    def test_max_queries_one_at_a_time(self):
        self.start('--max-queries', '2')
        q = self.q(A)
        self.assertEqual(q.query(11, 12), error(11, 12, 'NO-USER'))
        self.assertTrue(q.is_open(), 'closed after 1 of 2 queries')
        self.assertEqual(q.query(13, 14), error(13, 14, 'NO-USER'))
        # closed without waiting for a third query
        self.assertEqual(self.assertClosedSoon(q, within=1.5), b'')

    def test_default_max_queries_is_32(self):
        self.start()
        c = self.user_conn(USER1, D, A)
        q = self.q(A)
        q.send('%d,%d\r\n' % (c.local_port, c.remote_port) * 40)
        for i in range(32):
            self.assertEqual(q.readline(), userid(c.local_port, c.remote_port, USER1),
                             'reply %d' % (i + 1))
        waited, data = q.wait_closed(3.0)
        self.assertIsNotNone(waited)
        self.assertEqual(data, b'')

    # ---- --max-per-host

    def test_max_per_host(self):
        self.start('--max-per-host', '2')
        a1, a2 = self.q(A), self.q(A)
        self.assertServed(a1)
        self.assertServed(a2)
        a3 = self.q(A)
        self.assertRefused(a3, '3rd connection from one host with --max-per-host 2')
        b1 = self.q(B)
        self.assertServed(b1, 'another host is still served')
        self.assertServed(a1, 'the first connections are still served')
        self.assertServed(a2)
        # a slot freed is a slot reusable
        a1.close()
        time.sleep(0.5)
        a4 = self.q(A)
        self.assertServed(a4, 'after one of the two closed')

    def test_max_per_host_counts_pending_connections(self):
        # Connections that have not sent anything yet count too.
        self.start('--max-per-host', '3')
        held = [self.q(A) for _ in range(3)]
        time.sleep(0.3)
        extra = self.q(A)
        self.assertRefused(extra)
        for q in held:
            self.assertServed(q)

    # ---- --max-connections

    def test_max_connections(self):
        """A full table: a host that holds as many connections as any other
        is refused; one that holds fewer takes the place of the longest-idle
        connection of the host that holds the most (among equals, the one
        that has held that many the longest), and nothing else closes."""
        self.start('--max-connections', '3', '--max-per-host', '10')
        a1, b1, c1 = self.q(A), self.q(B), self.q(C)
        for q in (a1, b1, c1):
            self.assertServed(q)
        extra = self.q(A)
        self.assertRefused(extra, '4th connection with --max-connections 3, from a '
                           'host holding as many as any other')
        self.assertIsNotNone(self.d.wait_log(r'peer=127\.0\.3\.2 refused: connection limit'))
        e1 = self.q(E)
        self.assertServed(e1, 'a host holding none, with the table full')
        self.assertRefused(a1, 'the place of the host that came to hold 1 first')
        for q in (b1, c1):
            self.assertServed(q, 'other connections untouched')
        # the place a1 had is taken: a closed connection frees one
        c1.close()
        time.sleep(0.5)
        again = self.q(A)
        self.assertServed(again, 'after one of the three closed')
        self.assertTrue(b1.is_open() and e1.is_open(), 'nothing closed for a free place')

if __name__ == '__main__':
    identtest.main()
