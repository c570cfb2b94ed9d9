"""Network namespaces for the tests of relayed connections (NAT): a small
internet of our own, made and deleted by the test; nothing on the host
changes.

    inner      198.18.10.2  fd00:1410::2   (default route via the gateway)
      | pvn-in0 / pvn-gw0
    gateway    198.18.10.1  fd00:1410::1 | 198.19.20.1 fd00:1420::1
      | pvn-gw1 / pvn-out0                 (forwarding on; nftables
    outer      198.19.20.2  fd00:1420::2    masquerade out of pvn-gw1,
                                            IPv4 and NAT66)
    container  198.18.30.2  fd00:1430::2   behind a bridge on the gateway
      | pvn-c0 / pvn-cb (in pvn-br0, 198.18.30.1 fd00:1430::1), masqueraded
        as Docker does: from its network, out of any other interface

Programs run with "ip netns exec" see /etc/netns/NAME/resolv.conf over
/etc/resolv.conf: a name server on the namespace's own loopback, where
nothing listens, so a reverse lookup (oidentd makes one of every peer)
fails at once instead of waiting for a name server the namespace cannot
reach (the kernel rate-limits the ICMP errors that would end the wait,
except on loopback). That directory is made and removed with the
namespaces.

Sockets are made inside a namespace with setns (a socket stays in the
namespace it was made in), so the test process itself can listen, connect
and query in any of them."""

import ctypes
import os
import subprocess

CLONE_NEWNET = 0x40000000
# Where "ip netns exec" looks for a namespace's own files.
NETNS_ETC = '/etc/netns'

INNER4, GW_IN4, GW_OUT4, OUTER4 = '198.18.10.2', '198.18.10.1', '198.19.20.1', '198.19.20.2'
INNER6, GW_IN6, GW_OUT6, OUTER6 = 'fd00:1410::2', 'fd00:1410::1', 'fd00:1420::1', 'fd00:1420::2'
INNER_NET4, INNER_NET6 = '198.18.10.0/24', 'fd00:1410::/64'
CONT4, BR4, CONT6, BR6 = '198.18.30.2', '198.18.30.1', 'fd00:1430::2', 'fd00:1430::1'
CONT_NET4, CONT_NET6 = '198.18.30.0/24', 'fd00:1430::/64'

NFT_RULES = '''
table inet privident_nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "pvn-gw1" ip saddr 198.18.10.0/24 masquerade
        oifname "pvn-gw1" ip6 saddr fd00:1410::/64 masquerade
        ip saddr 198.18.30.0/24 oifname != "pvn-br0" masquerade
        ip6 saddr fd00:1430::/64 oifname != "pvn-br0" masquerade
    }
}
'''


def run(*argv, **kw):
    return subprocess.run(argv, check=True, timeout=30, capture_output=True,
                          text=True, **kw)


def setns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, 'setns: ' + os.strerror(e))


class Net:
    """The namespaces, their links and the gateway's rules."""

    def __init__(self):
        tag = os.getpid()
        self.inner = 'privident-nat-in-%d' % tag
        self.gw = 'privident-nat-gw-%d' % tag
        self.outer = 'privident-nat-out-%d' % tag
        self.cont = 'privident-nat-ct-%d' % tag
        self.names = (self.inner, self.gw, self.outer, self.cont)
        self.home = None

    def delete(self):
        for ns in self.names:
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True, timeout=30)
            conf = os.path.join(NETNS_ETC, ns)
            for name in ('resolv.conf',):
                try:
                    os.unlink(os.path.join(conf, name))
                except FileNotFoundError:
                    pass
            for d in (conf, NETNS_ETC):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        if self.home is not None:
            os.close(self.home)
            self.home = None

    def ip(self, ns, *args):
        run('ip', '-n', ns, *args)

    def addrs(self, ns, dev, a4, a6):
        self.ip(ns, 'addr', 'add', a4 + '/24', 'dev', dev)
        self.ip(ns, '-6', 'addr', 'add', a6 + '/64', 'dev', dev, 'nodad')
        self.ip(ns, 'link', 'set', dev, 'up')

    def build(self):
        self.delete()   # left over from a killed run
        self.home = os.open('/proc/self/ns/net', os.O_RDONLY)
        for ns in self.names:
            run('ip', 'netns', 'add', ns)
            self.ip(ns, 'link', 'set', 'lo', 'up')
            conf = os.path.join(NETNS_ETC, ns)
            os.makedirs(conf, exist_ok=True)
            with open(os.path.join(conf, 'resolv.conf'), 'w') as f:
                f.write('nameserver 127.0.0.1\noptions timeout:1 attempts:1\n')
        self.ip(self.gw, 'link', 'add', 'pvn-gw0', 'type', 'veth',
                'peer', 'name', 'pvn-in0', 'netns', self.inner)
        self.ip(self.gw, 'link', 'add', 'pvn-gw1', 'type', 'veth',
                'peer', 'name', 'pvn-out0', 'netns', self.outer)
        self.ip(self.gw, 'link', 'add', 'pvn-br0', 'type', 'bridge')
        self.ip(self.gw, 'link', 'add', 'pvn-cb', 'type', 'veth',
                'peer', 'name', 'pvn-c0', 'netns', self.cont)
        self.ip(self.gw, 'link', 'set', 'pvn-cb', 'master', 'pvn-br0')
        self.ip(self.gw, 'link', 'set', 'pvn-cb', 'up')
        for ns, dev, a4, a6 in ((self.inner, 'pvn-in0', INNER4, INNER6),
                                (self.gw, 'pvn-gw0', GW_IN4, GW_IN6),
                                (self.gw, 'pvn-gw1', GW_OUT4, GW_OUT6),
                                (self.outer, 'pvn-out0', OUTER4, OUTER6),
                                (self.gw, 'pvn-br0', BR4, BR6),
                                (self.cont, 'pvn-c0', CONT4, CONT6)):
            self.addrs(ns, dev, a4, a6)
        for ns, v4, v6 in ((self.inner, GW_IN4, GW_IN6), (self.cont, BR4, BR6)):
            self.ip(ns, 'route', 'add', 'default', 'via', v4)
            self.ip(ns, '-6', 'route', 'add', 'default', 'via', v6)
        run('ip', 'netns', 'exec', self.gw, 'sysctl', '-qw', 'net.ipv4.ip_forward=1',
            'net.ipv6.conf.all.forwarding=1')
        run('ip', 'netns', 'exec', self.gw, 'nft', '-f', '-', input=NFT_RULES)

    def enter(self, ns):
        with open('/run/netns/' + ns, 'rb') as f:
            setns(f.fileno())

    def leave(self):
        setns(self.home)

    def exec_argv(self, ns):
        return ['ip', 'netns', 'exec', ns]
