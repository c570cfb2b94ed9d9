#!/usr/bin/python3
"""The request protocol on the wire: several queries per connection,
pipelined or not, queries split anywhere, white space and line ends,
out-of-range ports, malformed lines.

Addresses: 127.0.2.1 (daemon), 127.0.2.2 (querier, far end)."""

import time

import identtest
from identtest import USER1, USER2, MALFORMED, userid, error

D = '127.0.2.1'
Q = '127.0.2.2'


class ProtocolTest(identtest.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.d = self.daemon([(D, None)])
        self.port = self.d.listen[0][1]
        self.c1 = self.user_conn(USER1, D, Q)
        self.c2 = self.user_conn(USER2, D, Q)
        # ports with no connection behind them
        self.none = (identtest.free_port(D), identtest.free_port(Q))

    def q(self):
        return self.querier(D, self.port, source=Q)

    def expected(self, which):
        if which is self.none:
            return error(which[0], which[1], 'NO-USER')
        c = which
        return userid(c.local_port, c.remote_port, USER1 if c is self.c1 else USER2)

    @staticmethod
    def ports(which):
        return which if isinstance(which, tuple) else (which.local_port, which.remote_port)

    def assertMalformed(self, q, msg=''):
        """The one malformed-line reply, then the connection closes."""
        self.assertEqual(q.readline(), MALFORMED, msg)
        rest = self.assertClosedSoon(q, within=2.0, msg=msg)
        self.assertEqual(rest, b'', msg)

    # ---- several queries

    def test_sequential_queries_on_one_connection(self):
        q = self.q()
        for which in (self.c1, self.c2, self.none, self.c2, self.c1):
            self.assertEqual(q.query(*self.ports(which)), self.expected(which))
        self.assertTrue(q.is_open(), 'connection closed after 5 queries')

    def test_pipelined_in_one_write(self):
        order = [self.c1, self.none, self.c2, self.c1, self.c2, self.none]
        q = self.q()
        q.send(''.join('%d,%d\r\n' % self.ports(w) for w in order))
        for w in order:
            self.assertEqual(q.readline(), self.expected(w))
        self.assertTrue(q.is_open(), 'no extra data, connection still open')

    def test_pipelined_across_writes(self):
        a, b, c = self.ports(self.c1), self.ports(self.c2), self.ports(self.none)
        q = self.q()
        q.send('%d , %d\r\n%d , ' % (a + b[:1]))
        time.sleep(0.1)
        q.send('%d\r\n%d' % (b[1], c[0]))
        time.sleep(0.1)
        q.send(' , %d\r\n' % c[1])
        self.assertEqual(q.readline(), self.expected(self.c1))
        self.assertEqual(q.readline(), self.expected(self.c2))
        self.assertEqual(q.readline(), self.expected(self.none))

    def test_one_byte_at_a_time(self):
        sp, cp = self.ports(self.c2)
        line = ' %d ,\t%d \r\n' % (sp, cp)
        q = self.q()
        for ch in line:
            q.send(ch)
            time.sleep(0.01)
        self.assertEqual(q.readline(), self.expected(self.c2))
        # and two more queries dripped back to back
        text = '%d,%d\n%d,%d\n' % (self.ports(self.c1) + self.ports(self.none))
        for ch in text:
            q.send(ch)
            time.sleep(0.005)
        self.assertEqual(q.readline(), self.expected(self.c1))
        self.assertEqual(q.readline(), self.expected(self.none))

    def test_every_split_point(self):
        sp, cp = self.ports(self.c1)
        line = '%d , %d\r\n' % (sp, cp)
        q = self.q()
        for i in range(1, len(line)):     # at most 13 queries: under the default 32
            q.send(line[:i])
            time.sleep(0.02)
            q.send(line[i:])
            self.assertEqual(q.readline(), self.expected(self.c1), 'split at %d' % i)

    def test_three_way_splits(self):
        sp, cp = self.ports(self.c2)
        line = '%d,%d\r\n' % (sp, cp)
        n = len(line)
        cuts = [(i, j) for i in range(1, n - 1) for j in range(i + 1, n)]
        q = None
        for k, (i, j) in enumerate(cuts):
            if k % 20 == 0:       # a fresh connection before max-queries
                q = self.q()
            for part in (line[:i], line[i:j], line[j:]):
                q.send(part)
                time.sleep(0.005)
            self.assertEqual(q.readline(), self.expected(self.c2), 'cuts %d,%d' % (i, j))

    # ---- lexical forms

    def test_white_space_and_line_ends(self):
        sp, cp = self.ports(self.c1)
        forms = ['%d,%d\r\n', '%d , %d\r\n', '%d,%d\n', '\t%d\t,\t%d\t\r\n',
                 '   %d   ,   %d   \n', '%d ,%d \r\n', ' %d, %d\n']
        q = self.q()
        for f in forms:
            q.send(f % (sp, cp))
            self.assertEqual(q.readline(), self.expected(self.c1), repr(f))

    def test_long_but_legal_line(self):
        sp, cp = self.ports(self.c1)
        line = '%d%s,%s%d\r\n' % (sp, ' ' * 100, '\t' * 100, cp)    # ~212 bytes
        self.assertLess(len(line), 256)
        q = self.q()
        q.send(line)
        self.assertEqual(q.readline(), self.expected(self.c1))

    # ---- out-of-range ports: answered, connection stays open

    def test_out_of_range_ports(self):
        sp, cp = self.ports(self.c2)
        q = self.q()
        for a, b in ((0, cp), (sp, 0), (0, 0), (65536, cp), (sp, 65536),
                     (99999, 99999), (65535, 70000)):
            self.assertEqual(q.query(a, b), error(a, b, 'INVALID-PORT'), '%d,%d' % (a, b))
        self.assertEqual(q.query(sp, cp), self.expected(self.c2))
        self.assertTrue(q.is_open())

    def test_out_of_range_pipelined_with_good(self):
        a, b = self.ports(self.c1)
        q = self.q()
        q.send('%d,%d\r\n0,%d\r\n%d,%d\r\n' % (a, b, b, a, b))
        self.assertEqual(q.readline(), self.expected(self.c1))
        self.assertEqual(q.readline(), error(0, b, 'INVALID-PORT'))
        self.assertEqual(q.readline(), self.expected(self.c1))

    def test_highest_port_is_valid(self):
        q = self.q()
        self.assertEqual(q.query(65535, 65535), error(65535, 65535, 'NO-USER'))
        self.assertEqual(q.query(1, 1), error(1, 1, 'NO-USER'))

    # ---- malformed lines: one reply, then the connection closes

    def test_malformed_lines(self):
        bad = [b'garbage\r\n', b'12 34\r\n', b'12,\r\n', b',12\r\n', b'12\r\n',
               b'1 2,3\r\n', b'-1,2\r\n', b'+1,2\r\n', b'1,2,3\r\n', b'1:2\r\n',
               b'0x10,20\r\n', b'12,3\x004\r\n', b'\x00\r\n', b'123456,1\r\n',
               b'1,123456\r\n', b'0000001,1\r\n', b'1,2 x\r\n', b'\xff\xfe\r\n']
        for line in bad:
            q = self.q()
            q.send(line)
            self.assertMalformed(q, repr(line))

    def test_garbage_ends_the_connection_without_a_line_end(self):
        for data in (b'hello', b'12\x00', b'12,x', b'1234567'):
            q = self.q()
            q.send(data)
            # nothing more is sent: the daemon must not wait for a line end
            self.assertEqual(q.readline(timeout=3.0), MALFORMED, repr(data))
            self.assertEqual(self.assertClosedSoon(q, within=2.0, msg=repr(data)), b'')

    def test_nul_ends_the_connection_at_once(self):
        q = self.q()
        q.send(b'1\x00')
        self.assertMalformed(q)

    def test_over_long_line_without_line_end(self):
        q = self.q()
        q.send(b' ' * 300)
        self.assertMalformed(q, '300 spaces')

    def test_over_long_line(self):
        sp, cp = self.ports(self.c1)
        q = self.q()
        q.send(('%d%s,%d\r\n' % (sp, ' ' * 300, cp)).encode())
        self.assertMalformed(q, 'padded to 300 bytes')

    def test_malformed_after_good_queries(self):
        a, b = self.ports(self.c1)
        c, d = self.ports(self.c2)
        q = self.q()
        q.send('%d,%d\r\ngarbage\r\n%d,%d\r\n' % (a, b, c, d))
        self.assertEqual(q.readline(), self.expected(self.c1))
        # the query after the garbage is never answered
        self.assertMalformed(q)

    def test_daemon_still_serves_after_malformed(self):
        q = self.q()
        q.send(b'\x00' * 10)
        self.assertEqual(q.readline(), MALFORMED)
        q2 = self.q()
        self.assertEqual(q2.query(*self.ports(self.c1)), self.expected(self.c1))


if __name__ == '__main__':
    identtest.main()
