#!/usr/bin/python3
"""Lookups of real loopback connections: who owns them, over IPv4, IPv6 and
v4-mapped; the querier-address rule; TIME_WAIT, root, listeners.

Addresses: 127.0.0.1 (daemon), 127.0.0.2, 127.0.0.3 (queriers), ::1."""

import time

import identtest
from identtest import USER1, USER2, userid, error

D = '127.0.0.1'       # the daemon's address, the near end of the connections
OTHER = '127.0.0.2'   # a host with no part in the connection
Q = '127.0.0.3'       # the far end of the connections, and the querier
D6 = '::1'


class LookupTest(identtest.DaemonTestCase):

    def test_ipv4_connections_of_two_users(self):
        d = self.daemon([(D, None)])
        c1 = self.user_conn(USER1, D, Q)
        c2 = self.user_conn(USER2, D, Q)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(c1.local_port, c1.remote_port),
                         userid(c1.local_port, c1.remote_port, USER1))
        self.assertEqual(q.query(c2.local_port, c2.remote_port),
                         userid(c2.local_port, c2.remote_port, USER2))
        self.assertEqual(q.query(c1.local_port, c1.remote_port),
                         userid(c1.local_port, c1.remote_port, USER1))

    def test_ipv6_connection(self):
        d = self.daemon([(D6, None)])
        c = self.user_conn(USER2, D6, D6)
        q = self.querier(D6, d.listen[0][1], source=D6)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER2))

    def test_dual_stack_daemon_ipv4_querier(self):
        # Daemon on [::]: the IPv4 query connection arrives v4-mapped.
        d = self.daemon([('::', None)])
        port = d.listen[0][1]
        c = self.user_conn(USER1, D, Q)
        q = self.querier(D, port, source=Q)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER1))
        # and the same daemon still answers over IPv6
        c6 = self.user_conn(USER2, D6, D6)
        q6 = self.querier(D6, port, source=D6)
        self.assertEqual(q6.query(c6.local_port, c6.remote_port),
                         userid(c6.local_port, c6.remote_port, USER2))

    def test_ipv4_connection_of_an_ipv6_socket(self):
        # The user's socket is AF_INET6 talking IPv4 (v4-mapped addresses).
        d = self.daemon([(D, None)])
        c = self.user_conn(USER2, D, Q, v6=True)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER2))

    def test_querier_must_be_the_far_end(self):
        d = self.daemon([(D, None)])
        c = self.user_conn(USER1, D, Q)
        sp, cp = c.local_port, c.remote_port
        q_other = self.querier(D, d.listen[0][1], source=OTHER)
        self.assertEqual(q_other.query(sp, cp), error(sp, cp, 'NO-USER'))
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(sp, cp), userid(sp, cp, USER1))

    def test_swapped_ports_are_not_the_connection(self):
        # (D:cp) <-> (Q:sp) does not exist; the reverse direction (root's
        # accepted end, Q:cp <-> D:sp) must not be matched either.
        d = self.daemon([(D, None)])
        c = self.user_conn(USER1, D, Q)
        sp, cp = c.local_port, c.remote_port
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(cp, sp), error(cp, sp, 'NO-USER'))

    def test_time_wait_is_no_user(self):
        d = self.daemon([(D, None)])
        c = self.user_conn(USER1, D, Q)
        sp, cp = c.local_port, c.remote_port
        c.close_user_side()
        c.peer.settimeout(identtest.TIMEOUT)
        self.assertEqual(c.peer.recv(16), b'', 'peer did not see the user close')
        c.peer.close()
        c.peer = None
        deadline = time.monotonic() + identtest.TIMEOUT
        while not identtest.time_wait_exists(D, sp, Q, cp):
            self.assertLess(time.monotonic(), deadline, 'no TIME-WAIT socket appeared')
            time.sleep(0.05)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'NO-USER'))
        self.assertTrue(identtest.time_wait_exists(D, sp, Q, cp),
                        'TIME-WAIT vanished before the query')

    def test_root_connection_is_hidden(self):
        d = self.daemon([(D, None)])
        listener = identtest.Listener(Q)
        self.addCleanup(listener.close)
        s = identtest.connect_from(D, Q, listener.port)
        self.addCleanup(s.close)
        peer = listener.accept()
        self.addCleanup(peer.close)
        sp, cp = s.getsockname()[1], listener.port
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'HIDDEN-USER'))

    def test_listener_without_that_connection_is_no_user(self):
        d = self.daemon([(D, None)])
        lst = self.user_listener(USER1, D)
        cp = identtest.free_port(Q)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(lst.local_port, cp), error(lst.local_port, cp, 'NO-USER'))

    def test_no_connection_at_all_is_no_user(self):
        d = self.daemon([(D, None)])
        sp, cp = identtest.free_port(D), identtest.free_port(Q)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'NO-USER'))


if __name__ == '__main__':
    identtest.main()
