#!/usr/bin/python3
"""privident as the inner host's ident server behind a forwarding gateway
(--proxy).

A gateway that relays a connection (NAT, or oidentd -f) asks this host's
ident server about it from its own address, by the two ports: the
connection goes to the IRC server, not to the gateway. For a query from a
configured proxy address the daemon looks the connection up by its local
address (the one the query came to) and both ports, whatever its remote
address; from any other address the usual rule holds (only connections
between the querier and this host).

Addresses (IPv4, 127.0.80.0/24 on loopback): the daemon listens on D; the
gateway queries from GW; users connect from D to the "IRC servers" S1,
S2 and S3; OTHER is a querier that is no proxy; ELSE another local address of
this host. IPv6: the same roles on ULA addresses on the loopback of a
network namespace of the test's own, deleted afterwards."""

import os
import socket
import subprocess

import identtest
from identtest import (USER1, USER2, Listener, Querier, UserSocket,
                       error, userid)
from test_linklocal import run, setns

D, GW, S1, OTHER, S2, ELSE, S3 = ('127.0.80.1', '127.0.80.2', '127.0.80.3',
                                  '127.0.80.4', '127.0.80.5', '127.0.80.6',
                                  '127.0.80.7')
D6, GW6, S6, OTHER6 = 'fd00:80::1', 'fd00:80::2', 'fd00:80::3', 'fd00:80::4'
PORT = 113


class SharedPortUserSocket(UserSocket):
    """A UserSocket whose socket is bound with SO_REUSEADDR, so that two
    users' connections can share one local address and port (to two
    different servers): what Linux's connect also does by itself when it
    runs short of ports."""

    @staticmethod
    def _child(*args):
        class Reusing(socket.socket):
            def bind(self, address):
                self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                return super().bind(address)
        # Only in the forked child, which exits after this.
        socket.socket = Reusing
        return UserSocket._child(*args)


class ProxyTest(identtest.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.socks = []
        self.addCleanup(self.close_all)

    def close_all(self):
        for s in reversed(self.socks):
            s.close()

    def keep(self, s):
        self.socks.append(s)
        return s

    def listener(self, addr, port=0):
        return self.keep(Listener(addr, port))

    def user(self, cls, user, local, listener, bind_port=0, v6=False):
        return self.keep(cls(user, local, listener, bind_port=bind_port, v6=v6))

    def ask(self, d_addr, source, sp, cp):
        q = self.keep(Querier(d_addr, PORT, source=source))
        return q.query(sp, cp)

    def start(self, d_addr=D, proxy=GW):
        return self.daemon([(d_addr, PORT)], '--proxy', proxy)

    def test_gateway_names_the_user(self):
        """The gateway's query about a connection to another host names its
        user, and the log says the query came through a proxy; the same
        query from an address that is no proxy is NO-USER; the server's own
        query works as ever."""
        d = self.start()
        srv = self.listener(S1)
        u = self.user(UserSocket, USER1, D, srv)
        self.assertEqual(self.ask(D, GW, u.local_port, srv.port),
                         userid(u.local_port, srv.port, USER1))
        self.assertIsNotNone(d.wait_log(r'query peer=%s local=%s ports=%d,%d '
                                        r'proxy=yes result=USERID:UNIX:%s'
                                        % (GW, D, u.local_port, srv.port, USER1)),
                             d.log())
        self.assertEqual(self.ask(D, OTHER, u.local_port, srv.port),
                         error(u.local_port, srv.port, 'NO-USER'))
        self.assertEqual(self.ask(D, S1, u.local_port, srv.port),
                         userid(u.local_port, srv.port, USER1))
        # Other ports: nothing to find.
        self.assertEqual(self.ask(D, GW, u.local_port, srv.port + 1 if
                                  srv.port < 65535 else 1),
                         error(u.local_port, srv.port + 1 if srv.port < 65535
                               else 1, 'NO-USER'))
        # The helper's filter allows the dump: it is still the same one.
        self.assertNotRegex(d.log(), 'forbidden system call|stopping it')
        self.assertEqual(self.ask(D, GW, u.local_port, srv.port),
                         userid(u.local_port, srv.port, USER1))

    def test_without_proxy_option(self):
        """Without --proxy the gateway is an ordinary querier: NO-USER."""
        self.daemon([(D, PORT)])
        srv = self.listener(S1)
        u = self.user(UserSocket, USER1, D, srv)
        self.assertEqual(self.ask(D, GW, u.local_port, srv.port),
                         error(u.local_port, srv.port, 'NO-USER'))

    def test_dual_stack_socket(self):
        """An IPv4 connection made from an AF_INET6 socket (v4-mapped) is
        found too."""
        self.start()
        srv = self.listener(S1)
        u = self.user(UserSocket, USER2, D, srv, v6=True)
        self.assertEqual(self.ask(D, GW, u.local_port, srv.port),
                         userid(u.local_port, srv.port, USER2))

    def test_only_the_address_asked_at(self):
        """The connection must be from the address the gateway reached:
        one from another address of this host is not found."""
        self.start()
        srv = self.listener(S1)
        u = self.user(UserSocket, USER1, ELSE, srv)
        self.assertEqual(self.ask(D, GW, u.local_port, srv.port),
                         error(u.local_port, srv.port, 'NO-USER'))

    def test_policy_still_applies(self):
        """Root's connection is hidden as ever."""
        self.start()
        srv = self.listener(S1)
        c = self.keep(identtest.connect_from(D, S1, srv.port))
        self.keep(srv.accept())
        lp = c.getsockname()[1]
        self.assertEqual(self.ask(D, GW, lp, srv.port),
                         error(lp, srv.port, 'HIDDEN-USER'))

    def test_two_connections_on_one_port_pair(self):
        """Two connections from the same address and port to two servers on
        the same port: one owner is that owner, two owners are
        UNKNOWN-ERROR, never one of them."""
        d = self.start()
        srv1 = self.listener(S1)
        srv2 = self.listener(S2, srv1.port)
        a = self.user(SharedPortUserSocket, USER1, D, srv1)
        b = self.user(SharedPortUserSocket, USER1, D, srv2, bind_port=a.local_port)
        self.assertEqual(b.local_port, a.local_port)
        self.assertEqual(self.ask(D, GW, a.local_port, srv1.port),
                         userid(a.local_port, srv1.port, USER1))
        srv3 = self.listener(S3, srv1.port)
        c = self.user(SharedPortUserSocket, USER2, D, srv3, bind_port=a.local_port)
        self.assertEqual(c.local_port, a.local_port)
        self.assertEqual(self.ask(D, GW, a.local_port, srv1.port),
                         error(a.local_port, srv1.port, 'UNKNOWN-ERROR'))
        # Each server's own query is exact, and so still names its user.
        self.assertEqual(self.ask(D, S1, a.local_port, srv1.port),
                         userid(a.local_port, srv1.port, USER1))
        self.assertEqual(self.ask(D, S2, a.local_port, srv1.port),
                         userid(a.local_port, srv1.port, USER1))
        self.assertEqual(self.ask(D, S3, a.local_port, srv1.port),
                         userid(a.local_port, srv1.port, USER2))
        self.assertNotRegex(d.log(), 'forbidden system call|stopping it')

    def enter_namespace(self):
        """A network namespace of our own with D6, GW6, S6 and OTHER6 on its
        loopback; the test (and so the daemon it starts) runs in it."""
        ns = 'privident-proxy-%d' % os.getpid()
        subprocess.run(['ip', 'netns', 'del', ns], capture_output=True,
                       timeout=30)  # left over from a killed run
        run('ip', 'netns', 'add', ns)
        self.addCleanup(subprocess.run, ['ip', 'netns', 'del', ns], timeout=30)
        inns = ['ip', 'netns', 'exec', ns]
        run(*inns, 'ip', 'link', 'set', 'lo', 'up')
        for a in (D6, GW6, S6, OTHER6):
            run(*inns, 'ip', '-6', 'addr', 'add', a + '/128', 'dev', 'lo', 'nodad')
        home = os.open('/proc/self/ns/net', os.O_RDONLY)
        self.addCleanup(os.close, home)
        self.addCleanup(setns, home)
        with open('/run/netns/' + ns, 'rb') as f:
            setns(f.fileno())

    def test_ipv6(self):
        self.enter_namespace()
        d = self.start(D6, GW6)
        srv = self.listener(S6)
        u = self.user(UserSocket, USER1, D6, srv)
        self.assertEqual(self.ask(D6, GW6, u.local_port, srv.port),
                         userid(u.local_port, srv.port, USER1))
        self.assertIsNotNone(d.wait_log(r'peer=%s .*proxy=yes result=USERID'
                                        % GW6), d.log())
        self.assertEqual(self.ask(D6, OTHER6, u.local_port, srv.port),
                         error(u.local_port, srv.port, 'NO-USER'))


if __name__ == '__main__':
    identtest.main()
