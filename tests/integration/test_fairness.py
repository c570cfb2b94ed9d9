#!/usr/bin/python3
"""Fair share of a full connection table: hundreds of attacker addresses
fill the table with idle connections; a querier from an address that holds
none is still answered at once, because its connection takes the place of
the longest-idle connection of the address that holds the most, and of
nothing else.

Addresses: 127.0.20.1 (daemon), 127.0.20.2 - 127.0.20.99 (newcomers),
127.20.1.1 - 127.20.1.16 (attackers holding --max-per-host connections
each), 127.20.2.1 - 127.20.2.192 (attackers holding one each). The IPv6
test runs the daemon in a network namespace of its own, where 2001:db8::/32
and 2002:7f14:100::/40 (6to4 for 127.20.1.0/24) are local."""

import json
import os
import select
import subprocess
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
        self.assertIsNotNone(self.d.wait_log(r'peer=%s closed to make room: its site held the most connections'
                                             % HEAVY[0].replace('.', r'\.')))
        print('\nfairness: table %d (--max-per-host %d), %d attacker addresses '
              '(%d holding %d, %d holding 1); %d newcomers from addresses holding none, '
              'each answered in median %.1f ms, max %.1f ms, each closing exactly one '
              'attacker connection'
              % (TABLE, PER_HOST, len(HEAVY) + len(LIGHT), len(HEAVY), PER_HOST,
                 len(LIGHT), len(NEWCOMERS), 1000 * statistics.median(answered),
                 1000 * max(answered)))


# Run inside the namespace: opens the connections the test names, in
# order, and says what became of each. A step is [label, source, action]:
# 'query' (must be answered), 'hold' (opened, not used), 'refused' (closed
# at once without a reply), or 'closed?' (which of the labels opened so
# far were closed since the last look).
NETNS_CLIENT = r"""
import json, select, socket, sys, time
cfg = json.loads(sys.argv[1])
IPV6_FREEBIND = 78
socks, closed, out = {}, set(), []

def connect(src):
    six = ':' in src
    s = socket.socket(socket.AF_INET6 if six else socket.AF_INET)
    if six:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
    s.bind((src, 0))
    s.settimeout(2.0)
    s.connect((cfg['d6'] if six else cfg['d4'], cfg['port']))
    return s

def ended(s, wait):
    r, _, _ = select.select([s], [], [], wait)
    if not r:
        return False
    try:
        return s.recv(4096) == b''
    except ConnectionResetError:
        return True

deadline = time.monotonic() + 5
while True:
    try:
        connect(cfg['d6']).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)
time.sleep(0.2)
for label, src, action in cfg['steps']:
    if action == 'closed?':
        now = [l for l, s in socks.items() if l not in closed and ended(s, 0.1)]
        closed.update(now)
        out.append([label, sorted(now)])
        continue
    s = connect(src)
    if action == 'query':
        s.sendall(b'1000 , 7\r\n')
        try:
            got = s.recv(4096).decode('latin-1')
        except OSError as e:
            got = repr(e)
        out.append([label, got])
    elif action == 'refused':
        gone = ended(s, 1.0)
        if gone:
            closed.add(label)
        out.append([label, 'refused' if gone else 'held'])
    else:
        out.append([label, 'held'])
    socks[label] = s
print(json.dumps(out))
"""


class Ipv6FairnessTest(identtest.DaemonTestCase):

    PORT = 11300        # the namespace has nothing else listening

    def netns(self):
        name = 'privident-fair-%d' % os.getpid()
        run = lambda *a: subprocess.run(a, check=True, timeout=10, capture_output=True)
        run('ip', 'netns', 'add', name)
        self.addCleanup(subprocess.run, ['ip', 'netns', 'del', name], timeout=10)
        run('ip', '-n', name, 'link', 'set', 'lo', 'up')
        run('ip', '-n', name, '-6', 'addr', 'add', '2001:db8:ff::1/128', 'dev', 'lo', 'nodad')
        run('ip', '-n', name, '-6', 'route', 'add', 'local', '2001:db8::/32', 'dev', 'lo')
        run('ip', '-n', name, '-6', 'route', 'add', 'local', '2002:7f14:100::/40', 'dev', 'lo')
        return name

    def test_ipv6_sites_6to4_and_eviction(self):
        """--max-per-host 2: an IPv6 /64 holds 2, its /48 holds 4 x 2 over
        any number of /64s; a 6to4 address is the IPv4 host it carries; and
        with the table full (16) a newcomer takes the place of the /48 that
        holds the most, not of any of the smaller holders."""
        ns = self.netns()
        argv = ['ip', 'netns', 'exec', ns, identtest.PRIVIDENT, '-f', '-u',
                identtest.SERVICE_USER, '-l', '[2001:db8:ff::1]:%d' % self.PORT,
                '-l', '127.0.0.1:%d' % self.PORT,
                '--max-per-host', '2', '--max-connections', '16']
        d = identtest.Daemon(argv=argv)
        self.daemons.append(d)
        d.start(ready=False)
        no_user = error(1000, 7, 'NO-USER')
        steps = []
        for net in range(4):           # the site 2001:db8:20::/48: 8 in all
            for host in (1, 2):
                steps.append(['20:%d::%d' % (net, host), '2001:db8:20:%d::%d' % (net, host),
                              'query'])
        steps += [['20:0::3', '2001:db8:20:0::3', 'refused'],    # its /64 holds 2
                  ['20:4::1', '2001:db8:20:4::1', 'refused'],    # its /48 holds 8
                  ['21::1', '2001:db8:21::1', 'query'],          # another /48
                  ['v4 a', '127.20.1.1', 'query'],
                  ['v4 b', '127.20.1.1', 'query'],
                  ['6to4 of v4', '2002:7f14:101:9::1', 'refused'],   # 127.20.1.1
                  ['6to4 other', '2002:7f14:102::1', 'query']]       # 127.20.1.2
        steps += [[a, '2001:db8:' + a, 'hold'] for a in ('30:0::1', '30:1::1', '32::1', '33::1')]
        steps += [['full', None, 'closed?'],
                  ['newcomer', '2001:db8:40::1', 'query'],
                  ['evicted', None, 'closed?'],
                  ['v4 c', '127.20.1.3', 'query'],
                  ['evicted again', None, 'closed?']]
        cfg = {'d6': '2001:db8:ff::1', 'd4': '127.0.0.1', 'port': self.PORT, 'steps': steps}
        res = subprocess.run(['ip', 'netns', 'exec', ns, identtest.PYTHON, '-c', NETNS_CLIENT,
                              json.dumps(cfg)], capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr + d.log())
        got = dict(json.loads(res.stdout))
        want = {l: no_user for l, _, a in steps if a == 'query'}
        want.update({l: 'refused' for l, _, a in steps if a == 'refused'})
        want.update({l: 'held' for l, _, a in steps if a == 'hold'})
        # the table full at 16: the first connection of the /48 holding 8
        # (the least recently active) and then its second make room
        want.update({'full': [], 'evicted': ['20:0::1'], 'evicted again': ['20:0::2']})
        self.maxDiff = None
        self.assertEqual(sorted(got.items()), sorted(want.items()), d.log())
        # Each refusal and eviction is logged with its own reason.
        for line in (r'peer=2001:db8:20:4::1 refused: IPv6 /48 connection limit',
                     r'peer=2001:db8:20::3 refused: per-host connection limit',
                     r'peer=2001:db8:20::1 closed to make room: its site held '
                     r'the most connections'):
            self.assertIsNotNone(d.wait_log(line), d.log())


if __name__ == '__main__':
    identtest.main()
