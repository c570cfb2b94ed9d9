#!/usr/bin/python3
"""The conntrack codec (src/ctnl.c) against the real kernel.

Three network namespaces made for the test (deleted afterwards, even on
failure; nothing on the host changes): an inner host, a NAT gateway and an
outer server, like a home network's PC, its router and an IRC server:

    inner  198.18.1.2   fd00:1413::2  (default route via the gateway)
      |  pct-in / pct-gw
    gateway  198.18.1.1 fd00:1413::1 | 198.18.2.1 fd00:1414::1
      |  pct-out / pct-srv            (forwarding on; nftables masquerade
    outer  198.18.2.2   fd00:1414::2   out of pct-out, IPv4 and NAT66)

The inner host connects to a listener on the outer server. The server sees
the connection coming from the gateway's outer address; ctprobe, run in the
gateway's namespace with that tuple as the lookup helper would have it
(local = the gateway's outer address and the connection's port there,
remote = the server's address and port), must print the inner host's
address and port. A tuple with no entry is NOT_FOUND; an entry found by its
original direction (the server connected to the gateway itself) is
MISMATCH. Each probe's tuple and output go to standard error."""

import os
import socket
import subprocess
import sys
import unittest

import identtest
from identtest import TIMEOUT
from natnet import run, setns

CTPROBE = os.environ.get('PRIVIDENT_CTPROBE', '')

INNER4, GW_IN4, GW_OUT4, SERVER4 = '198.18.1.2', '198.18.1.1', '198.18.2.1', '198.18.2.2'
INNER6, GW_IN6, GW_OUT6, SERVER6 = 'fd00:1413::2', 'fd00:1413::1', 'fd00:1414::1', 'fd00:1414::2'
SERVER_PORT = 6667     # the namespaces are ours: any port is free
GW_PORT = 7000         # a listener in the gateway, for the MISMATCH case
NO_SUCH_PORT = 1       # tcpmux: nothing in these namespaces uses it
# The gateway maps every connection to a port of its own, never the inner
# one (INNER_PORT is outside the range), so a FOUND line that named the
# gateway's port instead of the inner host's would be seen.
NAT_PORT_MIN, NAT_PORT_MAX = 20000, 20999
INNER_PORT = 41130

NFT_RULES = '''
table inet privident_ct {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "pct-out" meta l4proto tcp masquerade to :%d-%d
    }
}
''' % (NAT_PORT_MIN, NAT_PORT_MAX)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Netns:
    """The three namespaces and their links."""

    def __init__(self):
        tag = os.getpid()
        self.inner = 'privident-ct-in-%d' % tag
        self.gw = 'privident-ct-gw-%d' % tag
        self.outer = 'privident-ct-out-%d' % tag
        self.names = (self.inner, self.gw, self.outer)

    def delete(self):
        for ns in self.names:
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True, timeout=30)

    def ip(self, ns, *args):
        run('ip', '-n', ns, *args)

    def sysctl(self, ns, key, value):
        run('ip', 'netns', 'exec', ns, 'sysctl', '-qw', '%s=%s' % (key, value))

    def build(self):
        self.delete()   # left over from a killed run
        for ns in self.names:
            run('ip', 'netns', 'add', ns)
            self.ip(ns, 'link', 'set', 'lo', 'up')
        self.ip(self.gw, 'link', 'add', 'pct-in', 'type', 'veth',
                'peer', 'name', 'pct-gw', 'netns', self.inner)
        self.ip(self.gw, 'link', 'add', 'pct-out', 'type', 'veth',
                'peer', 'name', 'pct-srv', 'netns', self.outer)
        for ns, dev, a4, a6 in ((self.inner, 'pct-gw', INNER4, INNER6),
                                (self.gw, 'pct-in', GW_IN4, GW_IN6),
                                (self.gw, 'pct-out', GW_OUT4, GW_OUT6),
                                (self.outer, 'pct-srv', SERVER4, SERVER6)):
            self.ip(ns, 'addr', 'add', a4 + '/24', 'dev', dev)
            self.ip(ns, '-6', 'addr', 'add', a6 + '/64', 'dev', dev, 'nodad')
            self.ip(ns, 'link', 'set', dev, 'up')
        self.ip(self.inner, 'route', 'add', 'default', 'via', GW_IN4)
        self.ip(self.inner, '-6', 'route', 'add', 'default', 'via', GW_IN6)
        self.sysctl(self.gw, 'net.ipv4.ip_forward', 1)
        self.sysctl(self.gw, 'net.ipv6.conf.all.forwarding', 1)
        run('ip', 'netns', 'exec', self.gw, 'nft', '-f', '-', input=NFT_RULES)

    def enter(self, ns):
        with open('/run/netns/' + ns, 'rb') as f:
            setns(f.fileno())

    def probe(self, local, lport, remote, rport):
        """ctprobe in the gateway for the tuple as the helper has it."""
        r = subprocess.run(['ip', 'netns', 'exec', self.gw, CTPROBE, '-v',
                            local, str(lport), remote, str(rport)],
                           capture_output=True, text=True, timeout=30)
        log('ctprobe %s %d %s %d -> exit %d: %s' % (local, lport, remote, rport,
                                                  r.returncode, r.stdout.strip()))
        log(r.stderr.rstrip())   # the kernel's datagrams, in hex
        return r


class ConntrackTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not CTPROBE or not os.access(CTPROBE, os.X_OK):
            raise RuntimeError('PRIVIDENT_CTPROBE=%r is not an executable' % CTPROBE)
        cls.net = Netns()
        cls.addClassCleanup(cls.net.delete)
        cls.net.build()
        cls.home = os.open('/proc/self/ns/net', os.O_RDONLY)
        cls.addClassCleanup(os.close, cls.home)

    def socket_in(self, ns, family):
        """A TCP socket of namespace ns (a socket stays in the namespace it
        was made in); the test process returns home at once."""
        self.net.enter(ns)
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
        finally:
            setns(self.home)
        self.addCleanup(s.close)
        s.settimeout(TIMEOUT)
        return s

    def connect(self, family, from_ns, to_ns, addr, port, sport=0):
        """An established connection from from_ns (from port sport, if
        given) to a listener on addr:port in to_ns: (client socket,
        server's accepted socket)."""
        lis = self.socket_in(to_ns, family)
        lis.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lis.bind((addr, port))
        lis.listen(4)
        c = self.socket_in(from_ns, family)
        if sport:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            c.bind(('0.0.0.0' if family == socket.AF_INET else '::', sport))
        c.connect((addr, port))
        srv, _ = lis.accept()
        self.addCleanup(srv.close)
        return c, srv

    def conntrack_table(self):
        r = subprocess.run(['ip', 'netns', 'exec', self.net.gw, 'conntrack', '-L'],
                           capture_output=True, text=True, timeout=30)
        log('gateway conntrack -L:\n' + r.stdout.rstrip())

    def check_masqueraded(self, family, inner, gw_out, server):
        c, srv = self.connect(family, self.net.inner, self.net.outer, server,
                              SERVER_PORT, INNER_PORT)
        inner_addr, inner_port = c.getsockname()[:2]
        seen_addr, seen_port = srv.getpeername()[:2]
        log('inner %s:%d -> server %s:%d, the server sees it from %s:%d'
            % (inner_addr, inner_port, server, SERVER_PORT, seen_addr, seen_port))
        self.assertEqual((inner_addr, seen_addr), (inner, gw_out))  # masqueraded
        self.assertEqual(inner_port, INNER_PORT)
        self.assertTrue(NAT_PORT_MIN <= seen_port <= NAT_PORT_MAX, seen_port)
        self.conntrack_table()
        # The ident query would reach the gateway at seen_addr from the
        # server, asking "seen_port , SERVER_PORT".
        r = self.net.probe(seen_addr, seen_port, server, SERVER_PORT)
        self.assertEqual((r.returncode, r.stdout),
                         (0, 'FOUND %s %d %s %d\n' % (inner, inner_port,
                                                      server, SERVER_PORT)),
                         r.stderr)
        # The same connection asked with the querier's port wrong: no entry.
        r = self.net.probe(seen_addr, seen_port, server, SERVER_PORT + 1)
        self.assertEqual((r.returncode, r.stdout), (1, 'NOT_FOUND\n'), r.stderr)

    def test_ipv4_masquerade(self):
        self.check_masqueraded(socket.AF_INET, INNER4, GW_OUT4, SERVER4)

    def test_ipv6_nat66(self):
        self.check_masqueraded(socket.AF_INET6, INNER6, GW_OUT6, SERVER6)

    def test_no_such_entry(self):
        for gw_out, server in ((GW_OUT4, SERVER4), (GW_OUT6, SERVER6)):
            r = self.net.probe(gw_out, NO_SUCH_PORT, server, SERVER_PORT)
            self.assertEqual((r.returncode, r.stdout), (1, 'NOT_FOUND\n'), r.stderr)

    def test_entry_found_by_its_original_direction_is_refused(self):
        """The server connects to the gateway itself (no NAT). The tuple
        asked as a reply tuple is this entry's original tuple; the kernel
        looks up both directions and returns it; the codec refuses it."""
        for family, gw_out, server in ((socket.AF_INET, GW_OUT4, SERVER4),
                                       (socket.AF_INET6, GW_OUT6, SERVER6)):
            c, _ = self.connect(family, self.net.outer, self.net.gw, gw_out, GW_PORT)
            sport = c.getsockname()[1]
            r = self.net.probe(gw_out, GW_PORT, server, sport)
            self.assertEqual((r.returncode, r.stdout), (2, 'MISMATCH\n'), r.stderr)


if __name__ == '__main__':
    identtest.main()
