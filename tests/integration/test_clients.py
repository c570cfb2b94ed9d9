#!/usr/bin/python3
"""Real ident clients against the daemon: Perl's Net::Ident, Twisted's
IdentClient, and privident-query (also against scripted servers).

Addresses: 127.0.0.9 (daemon on port 113, for Net::Ident and
privident-query's default port), 127.0.5.1 (daemon), 127.0.5.2 (querier),
127.0.5.4 (scripted servers); 127.0.50.1 and 127.0.50.2 (a scripted server
and privident-query, for what a user id shows)."""

import os
import socket
import subprocess
import time

import identtest
from identtest import (HERE, PRIVIDENT_QUERY, PYTHON, USER1, USER2, Listener,
                       userid)

D113 = '127.0.0.9'
D = '127.0.5.1'
Q = '127.0.5.2'
ESC_SERVER, ESC_QUERIER = '127.0.50.1', '127.0.50.2'


class ClientsTest(identtest.DaemonTestCase):

    def root_conn(self, local, listener):
        s = identtest.connect_from(local, listener.addr, listener.port)
        self.addCleanup(s.close)
        peer = listener.accept()
        self.addCleanup(peer.close)
        return s.getsockname()[1], peer

    # ---- Perl Net::Ident (always asks port 113 of the peer)

    def net_ident(self, accepted):
        r = subprocess.run(['perl', os.path.join(HERE, 'netident.pl'), str(accepted.fileno())],
                           pass_fds=[accepted.fileno()], capture_output=True, text=True,
                           timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def test_port_113_clients(self):
        self.daemon([(D113, 113)])
        listener = Listener(D)          # a server on 127.0.5.1 the users connect to
        self.addCleanup(listener.close)

        c = self.user_conn(USER1, D113, listener)
        self.assertEqual(self.net_ident(c.peer), 'user=%s opsys=UNIX error=' % USER1)

        c2 = self.user_conn(USER2, D113, listener)
        self.assertEqual(self.net_ident(c2.peer), 'user=%s opsys=UNIX error=' % USER2)

        _, peer = self.root_conn(D113, listener)
        self.assertEqual(self.net_ident(peer), 'user= opsys=ERROR error=HIDDEN-USER')

        # privident-query without -p asks port 113
        r = self.pquery('-s', D, D113, c.local_port, c.remote_port)
        self.assertEqual((r.returncode, r.stdout), (0, USER1 + '\n'), r.stderr)

    # ---- Twisted

    def test_twisted_ident_client(self):
        d = self.daemon([(D, None)])
        c1 = self.user_conn(USER1, D, Q)
        c2 = self.user_conn(USER2, D, Q)
        listener = Listener(Q)
        self.addCleanup(listener.close)
        rsp, _ = self.root_conn(D, listener)
        none = (identtest.free_port(D), identtest.free_port(Q))
        pairs = [(c1.local_port, c1.remote_port), (c2.local_port, c2.remote_port),
                 none, (rsp, listener.port), (c1.local_port, c1.remote_port)]
        r = subprocess.run([PYTHON, os.path.join(HERE, 'twisted_ident.py'), D,
                            str(d.listen[0][1]), Q] + ['%d,%d' % p for p in pairs],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.splitlines(),
                         ['USERID UNIX : ' + USER1, 'USERID UNIX : ' + USER2, 'ERROR NO-USER',
                          'ERROR HIDDEN-USER', 'USERID UNIX : ' + USER1])

    def test_twisted_ident_client_uid_mode(self):
        d = self.daemon([(D, None)], '--reply', 'uid')
        c = self.user_conn(USER2, D, Q)
        r = subprocess.run([PYTHON, os.path.join(HERE, 'twisted_ident.py'), D,
                            str(d.listen[0][1]), Q, '%d,%d' % (c.local_port, c.remote_port)],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), 'USERID OTHER : %d' % identtest.uid_of(USER2))

    # ---- privident-query against the daemon

    def pquery(self, *args, timeout=20):
        return subprocess.run([PRIVIDENT_QUERY] + [str(a) for a in args],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)

    def test_privident_query(self):
        d = self.daemon([(D, None)])
        port = d.listen[0][1]
        c = self.user_conn(USER1, D, Q)
        sp, cp = c.local_port, c.remote_port
        r = self.pquery('-p', port, '-s', Q, D, sp, cp)
        self.assertEqual((r.returncode, r.stdout), (0, USER1 + '\n'), r.stderr)
        r = self.pquery('-v', '-p', port, '-s', Q, D, sp, cp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, userid(sp, cp, USER1).replace('\r\n', '\n'))
        # asked from the wrong address: not our connection
        r = self.pquery('-p', port, '-s', '127.0.5.3', D, sp, cp)
        self.assertEqual((r.returncode, r.stdout.strip()), (1, 'NO-USER'), r.stderr)
        none = (identtest.free_port(D), identtest.free_port(Q))
        r = self.pquery('-p', port, '-s', Q, D, *none)
        self.assertEqual((r.returncode, r.stdout.strip()), (1, 'NO-USER'), r.stderr)
        listener = Listener(Q)
        self.addCleanup(listener.close)
        rsp, _ = self.root_conn(D, listener)
        r = self.pquery('-p', port, '-s', Q, D, rsp, listener.port)
        self.assertEqual((r.returncode, r.stdout.strip()), (1, 'HIDDEN-USER'), r.stderr)

    def test_privident_query_uid_mode(self):
        d = self.daemon([(D, None)], '--reply', 'uid')
        c = self.user_conn(USER2, D, Q)
        r = self.pquery('-p', d.listen[0][1], '-s', Q, D, c.local_port, c.remote_port)
        self.assertEqual((r.returncode, r.stdout), (0, '%d\n' % identtest.uid_of(USER2)), r.stderr)

    def test_privident_query_usage_errors(self):
        for args in ([], [D], [D, 1], [D, 'x', 2], [D, 1, 70000], [D, 0, 1],
                     ['-p', 'abc', D, 1, 2], ['--no-such-option', D, 1, 2]):
            r = self.pquery(*args)
            self.assertEqual(r.returncode, 2, '%r: %r %r' % (args, r.stdout, r.stderr))

    def test_privident_query_connection_refused(self):
        port = identtest.free_port(D)
        r = self.pquery('-p', port, '-s', Q, D, 1, 2)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertEqual(r.stdout, '')

    # ---- privident-query against scripted servers

    def scripted(self, reply, client_args=(), server='127.0.5.4', source=Q, text=True):
        """Run privident-query (from source) against a listener on server that
        answers its query line with reply(sp, cp) (bytes, or None for no
        answer at all). text=False: stdout and stderr as bytes."""
        listener = Listener(server)
        self.addCleanup(listener.close)
        args = [PRIVIDENT_QUERY, '-p', str(listener.port), '-s', source] + \
            list(client_args) + [server, '4321', '1234']
        start = time.monotonic()
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=text)
        try:
            conn = listener.accept()
            self.addCleanup(conn.close)
            q = identtest.Querier.__new__(identtest.Querier)
            q.sock, q.buf = conn, b''
            line = q.readline()
            self.assertIsNotNone(line, 'client sent no query')
            self.assertRegex(line, r'^\s*4321\s*,\s*1234\s*\r\n$')
            data = reply(4321, 1234)
            if data is not None:
                conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return proc.returncode, out, err, time.monotonic() - start

    def test_privident_query_tolerates_sloppy_replies(self):
        rc, out, err, _ = self.scripted(lambda sp, cp: b'%d,%d:USERID:UNIX:bob\n' % (sp, cp))
        self.assertEqual((rc, out), (0, 'bob\n'), err)
        rc, out, err, _ = self.scripted(
            lambda sp, cp: b'  %d ,\t%d :  ERROR   : NO-USER  \r\n' % (sp, cp))
        self.assertEqual((rc, out.strip()), (1, 'NO-USER'), err)

    def test_privident_query_malformed_reply(self):
        rc, out, err, _ = self.scripted(lambda sp, cp: b'this is not ident\r\n')
        self.assertEqual(rc, 3, out + err)
        rc, out, err, _ = self.scripted(lambda sp, cp: b'%d , %d : USERID : UNIX' % (sp, cp))
        self.assertEqual(rc, 3, out + err)

    # ---- privident-query shows what a user id holds (fake server on
    # 127.0.50.1, queried from 127.0.50.2)

    def shown(self, userid, verbose=False):
        """What privident-query prints for a USERID reply carrying userid
        (bytes), and its exit status."""
        rc, out, err, _ = self.scripted(
            lambda sp, cp: b'%d , %d : USERID : UNIX,UTF-8 : %s\r\n' % (sp, cp, userid),
            ['-v'] if verbose else [], server=ESC_SERVER, source=ESC_QUERIER, text=False)
        self.assertEqual(rc, 0, out + err)
        return out

    def test_privident_query_escapes_what_hides_or_fakes_a_name(self):
        cases = [
            # "alice" drawn right to left by RLO: looks like alice, is not
            (b'\xe2\x80\xaeecila', b'\\u{202E}ecila'),
            (b'\xe2\x81\xa7alice\xe2\x81\xa9', b'\\u{2067}alice\\u{2069}'),  # RLI, PDI
            (b'ro\xe2\x80\x8bot', b'ro\\u{200B}ot'),                   # zero width space
            (b'\xef\xbb\xbfroot', b'\\u{FEFF}root'),                   # BOM
            (b'r\xd8\x9coot', b'r\\u{061C}oot'),                       # Arabic letter mark
            (b'ro\xe1\xa0\x8eot', b'ro\\u{180E}ot'),                   # Mongolian vowel sep.
            (b'john\xc2\xa0smith', b'john\\u{00A0}smith'),              # no-break space
            (b'\x1b[2J\x1b[Hroot', b'\\u{001B}[2J\\u{001B}[Hroot'),     # terminal escapes
            (b'a\x7fb', b'a\\u{007F}b'),                                # DEL
            (b'\xc2\x9b2Jroot', b'\\u{009B}2Jroot'),                     # C1 CSI
            (b'\xc0\xafroot', b'\\xC0\\xAFroot'),                        # overlong '/'
            (b'caf\xe9', b'caf\\xE9'),                                   # Latin-1, not UTF-8
            (b'\xed\xa0\x80x', b'\\xED\\xA0\\x80x'),                    # a surrogate
            (b'DOMAIN\\user', b'DOMAIN\\\\user'),                         # the escape itself
            (b'j\xc3\xbcrgen \xe5\xb1\xb1\xe7\x94\xb0', b'j\xc3\xbcrgen \xe5\xb1\xb1\xe7\x94\xb0'),
        ]
        for sent, want in cases:
            with self.subTest(sent=sent):
                self.assertEqual(self.shown(sent), want + b'\n')
        self.assertEqual(self.shown(b'\xe2\x80\xaeecila', verbose=True),
                         b'4321 , 1234 : USERID : UNIX,UTF-8 : \\u{202E}ecila\n')

    def test_privident_query_time_out(self):
        rc, out, err, elapsed = self.scripted(lambda sp, cp: None, ['-t', '1'])
        self.assertEqual(rc, 3, out + err)
        self.assertLess(elapsed, 4.0, 'time-out of 1 s took %.1f s' % elapsed)


if __name__ == '__main__':
    identtest.main()
