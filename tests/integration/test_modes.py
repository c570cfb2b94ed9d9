#!/usr/bin/python3
"""Reply modes (user, uid, fixed) and the per-query log line.

Addresses: 127.0.6.1 (daemon), 127.0.6.2 (querier, far end), 127.0.6.3."""

import re

import identtest
from identtest import USER1, USER2, userid, error

D = '127.0.6.1'
Q = '127.0.6.2'
OTHER = '127.0.6.3'


class ModesTest(identtest.DaemonTestCase):

    def start(self, *args):
        self.d = self.daemon([(D, None)], *args)
        return self.querier(D, self.d.listen[0][1], source=Q)

    def test_reply_user_explicit(self):
        q = self.start('--reply', 'user')
        c = self.user_conn(USER2, D, Q)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER2))

    def test_reply_uid(self):
        q = self.start('--reply', 'uid')
        c1 = self.user_conn(USER1, D, Q)
        c2 = self.user_conn(USER2, D, Q)
        self.assertEqual(q.query(c1.local_port, c1.remote_port),
                         userid(c1.local_port, c1.remote_port,
                                str(identtest.uid_of(USER1)), 'OTHER'))
        self.assertEqual(q.query(c2.local_port, c2.remote_port),
                         userid(c2.local_port, c2.remote_port,
                                str(identtest.uid_of(USER2)), 'OTHER'))
        # the policy still applies before the mode: no connection, no uid
        sp, cp = identtest.free_port(D), identtest.free_port(Q)
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'NO-USER'))

    def test_reply_uid_hides_root(self):
        q = self.start('--reply', 'uid')
        listener = identtest.Listener(Q)
        self.addCleanup(listener.close)
        s = identtest.connect_from(D, Q, listener.port)
        self.addCleanup(s.close)
        peer = listener.accept()
        self.addCleanup(peer.close)
        sp = s.getsockname()[1]
        self.assertEqual(q.query(sp, listener.port), error(sp, listener.port, 'HIDDEN-USER'))

    def test_reply_fixed(self):
        q = self.start('--reply', 'fixed:ircuser')
        c = self.user_conn(USER1, D, Q)
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(q.query(sp, cp), userid(sp, cp, 'ircuser'))
        # no lookup at all: any ports, any querier
        self.assertEqual(q.query(4242, 2424), userid(4242, 2424, 'ircuser'))
        q2 = self.querier(D, self.d.listen[0][1], source=OTHER)
        self.assertEqual(q2.query(sp, cp), userid(sp, cp, 'ircuser'))
        # ranges are still checked
        self.assertEqual(q.query(0, 5), error(0, 5, 'INVALID-PORT'))

    def test_log_lines(self):
        q = self.start()
        c = self.user_conn(USER1, D, Q)
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(q.query(sp, cp), userid(sp, cp, USER1))
        line = self.d.wait_log(
            r'peer=\S*%s\S*\s+local=\S*%s\S*\s+ports=%d,%d\s+result=USERID:UNIX:%s\b'
            % (re.escape(Q), re.escape(D), sp, cp, re.escape(USER1)))
        self.assertIsNotNone(line, 'no log line for the USERID query:\n' + self.d.log())
        self.assertIn('uid=%d' % identtest.uid_of(USER1), line)
        sp2, cp2 = identtest.free_port(D), identtest.free_port(Q)
        self.assertEqual(q.query(sp2, cp2), error(sp2, cp2, 'NO-USER'))
        line = self.d.wait_log(r'peer=\S*%s\S*\s+local=\S*%s\S*\s+ports=%d,%d\s+result=NO-USER\b'
                               % (re.escape(Q), re.escape(D), sp2, cp2))
        self.assertIsNotNone(line, 'no log line for the NO-USER query:\n' + self.d.log())


if __name__ == '__main__':
    identtest.main()
