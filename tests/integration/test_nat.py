#!/usr/bin/python3
"""Relayed connections (doc/design.md §2, §5): privident on a NAT gateway
answers for the connections of the hosts behind it, through its conntrack
role and its forwarder, under their real sandboxes, in namespaces made for
the test (natnet.py: an inner host, a gateway with nftables masquerade, an
outer "IRC server", and a container behind a bridge, as Docker sets it up).

A user on the inner host connects to the outer server; the outer server
asks the gateway about it; the gateway must answer with the name the inner
host's ident server gives (privident with --proxy, over IPv4 and IPv6,
and oidentd from Debian with -P, over IPv4: its proxy mode has no IPv6),
trusting the gateway; the inner errors pass through; an inner host
outside the listed networks, a silent inner server, a garbled one and one
answering other ports each get the documented error within the deadline;
a network with a fixed reply, and one with tokens; the gateway's own users
are answered throughout. Every query and reply goes to standard error: the
transcript."""

import json
import os
import re
import select
import signal
import socket
import sys
import threading
import time
import unittest

import identtest
import natnet
from identtest import USER1, USER2, SERVICE_USER, TIMEOUT
from natnet import (INNER4, INNER6, GW_IN4, GW_IN6, GW_OUT4, GW_OUT6, OUTER4,
                    OUTER6, INNER_NET4, INNER_NET6, CONT4, CONT6, BR4, BR6,
                    CONT_NET4, CONT_NET6)

OIDENTD = os.environ.get('PRIVIDENT_OIDENTD', '')
SERVER_PORT = 6667
FAKE_PORT = 1114          # a fake inner ident server's port
FORWARD_TIMEOUT = 2       # --forward-timeout for these tests
CAP_NET_ADMIN = 12
TOKEN_RX = re.compile(r'^(\d+) , (\d+) : USERID : OTHER : ([a-z2-7]+)\r\n$')


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fd_kinds(pid):
    """A process's descriptors in order: 'null', a socket's protocol
    ('UNIX', 'NETLINK', 'TCP', ...), or the link's target."""
    out = []
    for name in sorted(os.listdir('/proc/%d/fd' % pid), key=int):
        path = '/proc/%d/fd/%s' % (pid, name)
        target = os.readlink(path)
        if target == '/dev/null':
            out.append('null')
        elif target.startswith('socket:['):
            out.append(os.getxattr(path, 'system.sockprotoname').rstrip(b'\0').decode())
        else:
            out.append(target)
    return out


def fam(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


class NatTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not OIDENTD or not os.access(OIDENTD, os.X_OK):
            raise RuntimeError('PRIVIDENT_OIDENTD=%r is not an executable' % OIDENTD)
        cls.net = natnet.Net()
        cls.addClassCleanup(cls.net.delete)
        cls.net.build()

    def setUp(self):
        self.daemons = []
        self.procs = []
        self.listeners = {}

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=TIMEOUT)
        problems = []
        for d in self.daemons:
            running = d.proc is not None and d.proc.poll() is None
            status = d.stop()
            if running and status != 0:
                problems.append('daemon status %r after SIGTERM\n%s' % (status, d.log()))
            d.cleanup()
        if problems:
            self.fail('\n'.join(problems))

    # ---- sockets in the namespaces ----

    def socket_in(self, ns, family):
        self.net.enter(ns)
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
        finally:
            self.net.leave()
        self.addCleanup(s.close)
        s.settimeout(TIMEOUT)
        return s

    def listener(self, ns, addr, port):
        s = self.socket_in(ns, fam(addr))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(16)
        return s

    def user_conn(self, ns, user, addr, port=SERVER_PORT):
        """A connection of user from namespace ns to the outer server's
        addr:port. Returns (its port on ns's side, the port the outer
        server sees, the outer server's socket)."""
        if (addr, port) not in self.listeners:
            self.listeners[(addr, port)] = self.listener(self.net.outer, addr, port)
        lis = self.listeners[(addr, port)]
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(r)
                self.net.enter(ns)
                identtest.drop_to(user)
                s = socket.socket(fam(addr), socket.SOCK_STREAM)
                s.settimeout(TIMEOUT)
                s.connect((addr, port))
                os.write(w, (json.dumps({'port': s.getsockname()[1]}) + '\n').encode())
                time.sleep(identtest.CHILD_LIFETIME)
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        self.addCleanup(identtest.reap, pid)
        self.addCleanup(os.kill, pid, signal.SIGKILL)
        ready, _, _ = select.select([r], [], [], TIMEOUT)
        line = os.read(r, 256) if ready else b''
        os.close(r)
        if not line:
            self.fail('user process did not connect')
        far, peer = lis.accept()
        self.addCleanup(far.close)
        return json.loads(line)['port'], peer[1], far

    def query(self, gw_addr, sp, cp, source_ns=None, port=113):
        """Asks the gateway (from the outer server) "sp , cp"; the reply
        line and the time it took."""
        s = self.socket_in(source_ns or self.net.outer, fam(gw_addr))
        start = time.monotonic()
        s.settimeout(FORWARD_TIMEOUT + 5)
        s.connect((gw_addr, port))
        s.sendall(b'%d , %d\r\n' % (sp, cp))
        data = b''
        while not data.endswith(b'\n'):
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
        took = time.monotonic() - start
        log('query %s:%d  "%d , %d"  ->  %r  (%.2f s)' % (gw_addr, port, sp, cp,
                                                        data.decode('latin-1'), took))
        return data.decode('latin-1'), took

    # ---- the servers ----

    def wait_listening(self, ns, addr, port, proc):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            s = self.socket_in(ns, fam(addr))
            try:
                s.connect((addr, port))
                s.close()
                time.sleep(0.2)
                return
            except OSError:
                s.close()
                if proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.fail('nothing listens on %s port %d in %s' % (addr, port, ns))

    def gateway(self, *args):
        argv = self.net.exec_argv(self.net.gw) + [
            identtest.PRIVIDENT, '-f', '-u', SERVICE_USER,
            '-l', GW_OUT4 + ':113', '-l', '[%s]:113' % GW_OUT6,
            '--forward-timeout', str(FORWARD_TIMEOUT)] + list(args)
        d = identtest.Daemon(argv=argv)
        self.daemons.append(d)
        d.start(ready=False)
        self.wait_listening(self.net.outer, GW_OUT4, 113, d.proc)
        return d

    def wait_bound(self, ns, port, proc):
        """Until something listens on port in ns, seen with ss: oidentd
        handles one connection at a time, and a probe that connects would
        hold it (its reverse lookup of the prober) while the real query
        waits."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            r = identtest.subprocess.run(self.net.exec_argv(ns) + [
                'ss', '-Hltn', 'sport = :%d' % port], capture_output=True,
                text=True, timeout=TIMEOUT)
            if r.stdout.strip():
                return
            time.sleep(0.05)
        self.fail('nothing listens on port %d in %s' % (port, ns))

    def oidentd(self, ns, addr, gateway_addr):
        p = identtest.subprocess.Popen(
            self.net.exec_argv(ns) + [OIDENTD, '-i', '-S', '-P', gateway_addr,
                                      '-a', addr, '-p', '113'],
            stdin=identtest.subprocess.DEVNULL, stdout=identtest.subprocess.DEVNULL,
            stderr=identtest.subprocess.DEVNULL)
        self.procs.append(p)
        self.wait_bound(ns, 113, p)
        return p

    def fake_inner(self, addr, answer):
        """A fake ident server on addr:FAKE_PORT in the inner host:
        answer(query line) gives the bytes to send (None: say nothing).
        Returns the function that stops it."""
        lis = self.listener(self.net.inner, addr, FAKE_PORT)
        stop = threading.Event()

        def serve():
            lis.settimeout(0.2)
            while not stop.is_set():
                try:
                    c, _ = lis.accept()
                except OSError:
                    continue
                with c:
                    c.settimeout(TIMEOUT)
                    try:
                        q = c.recv(512).decode('latin-1')
                        out = answer(q)
                        if out is None:
                            stop.wait(FORWARD_TIMEOUT + 2)
                        else:
                            c.sendall(out)
                    except OSError:
                        pass

        t = threading.Thread(target=serve, daemon=True)
        t.start()

        def end():
            stop.set()
            t.join(TIMEOUT)
            lis.close()
        self.addCleanup(end)
        return end

    # ---- checks ----

    def assertAnswer(self, got, sp, cp, want):
        self.assertEqual(got, '%d , %d : %s\r\n' % (sp, cp, want), self.logs())

    def logs(self):
        return '\n'.join(d.log() for d in self.daemons)

    def relayed(self, inner_addr, gw_out, outer, net_args=()):
        """An inner user's connection, asked about at the gateway."""
        ip, sp, _ = self.user_conn(self.net.inner, USER1, outer)
        log('inner %s:%d -> outer %s:%d, seen from %s:%d' % (inner_addr, ip, outer,
                                                          SERVER_PORT, gw_out, sp))
        return sp

    def test_inner_oidentd_names_the_user(self):
        """oidentd on the inner host, trusting the gateway (-P). Its proxy
        mode is IPv4 only (it looks the connection up in /proc/net/tcp
        by the two ports when the remote address is the proxy's); IPv6
        is test_inner_privident's."""
        d = self.gateway('--forward-network', INNER_NET4, '--forward-network', INNER_NET6)
        self.oidentd(self.net.inner, INNER4, GW_IN4)
        sp = self.relayed(INNER4, GW_OUT4, OUTER4)
        got, took = self.query(GW_OUT4, sp, SERVER_PORT)
        self.assertAnswer(got, sp, SERVER_PORT, 'USERID : UNIX : ' + USER1)
        self.assertIsNotNone(d.wait_log(r'result=USERID:UNIX:%s relayed=%s,\d+ '
                                        r'inner=USERID:UNIX:%s \(ok\)'
                                        % (USER1, re.escape(INNER4), USER1)), d.log())
        # another port of the same pair: no conntrack entry, NO-USER
        got, _ = self.query(GW_OUT4, sp - 1, SERVER_PORT)
        self.assertAnswer(got, sp - 1, SERVER_PORT, 'ERROR : NO-USER')
        self.assertRoles(d)

    def inner_privident(self, *args, trusting=True):
        """privident on the inner host (IPv4 and IPv6), trusting the
        gateway's inner addresses (--proxy), or no gateway at all."""
        argv = self.net.exec_argv(self.net.inner) + [
            identtest.PRIVIDENT, '-f', '-u', SERVICE_USER, '-l', INNER4 + ':113',
            '-l', '[%s]:113' % INNER6] + list(args)
        if trusting:
            argv += ['--proxy', GW_IN4, '--proxy', GW_IN6]
        d = identtest.Daemon(argv=argv)
        self.daemons.append(d)
        d.start(ready=False)
        self.wait_bound(self.net.inner, 113, d.proc)
        time.sleep(0.2)
        return d

    def test_inner_privident(self):
        """privident on both ends, over IPv4 and IPv6 (NAT66); the inner
        errors pass through."""
        gw = self.gateway('--forward-network', INNER_NET4, '--forward-network', INNER_NET6)
        inner = self.inner_privident('--hide-uid', str(identtest.uid_of(USER2)))
        for inner_addr, gw_out, outer in ((INNER4, GW_OUT4, OUTER4),
                                          (INNER6, GW_OUT6, OUTER6)):
            with self.subTest(family=fam(inner_addr)):
                sp = self.relayed(inner_addr, gw_out, outer)
                got, _ = self.query(gw_out, sp, SERVER_PORT)
                self.assertAnswer(got, sp, SERVER_PORT, 'USERID : UNIX : ' + USER1)
                # HIDDEN-USER passes through
                _, sp2, _ = self.user_conn(self.net.inner, USER2, outer)
                got, _ = self.query(gw_out, sp2, SERVER_PORT)
                self.assertAnswer(got, sp2, SERVER_PORT, 'ERROR : HIDDEN-USER')
        self.assertIn('proxy=yes', inner.log())
        # NO-USER passes through: an inner privident that trusts no gateway
        inner.stop()
        self.inner_privident(trusting=False)
        sp = self.relayed(INNER4, GW_OUT4, OUTER4)
        got, _ = self.query(GW_OUT4, sp, SERVER_PORT)
        self.assertAnswer(got, sp, SERVER_PORT, 'ERROR : NO-USER')
        self.assertIsNotNone(gw.wait_log(r'inner=ERROR:NO-USER'), gw.log())

    def test_errors_and_failures(self):
        """What the inner host says, or fails to say, within the deadline."""
        gw = self.gateway('--forward-network', '%s %d' % (INNER_NET4, FAKE_PORT))
        sp = self.relayed(INNER4, GW_OUT4, OUTER4)
        answers = {
            'NO-USER': lambda q: b'%s : ERROR : NO-USER\r\n' % q.strip().encode(),
            'HIDDEN-USER': lambda q: b'%s : ERROR : HIDDEN-USER\r\n' % q.strip().encode(),
        }
        for err, fn in answers.items():
            with self.subTest(inner=err):
                end = self.fake_inner(INNER4, fn)
                got, _ = self.query(GW_OUT4, sp, SERVER_PORT)
                self.assertAnswer(got, sp, SERVER_PORT, 'ERROR : ' + err)
                end()
        bad = {
            'silent': lambda q: None,
            'garbled': lambda q: b'\x00\xffnot an ident reply at all\r\n',
            'other ports': lambda q: b'1 , 2 : USERID : UNIX : mallory\r\n',
            'cut': lambda q: b'%s : USERID : UNIX : mall' % q.strip().encode(),
        }
        for what, fn in bad.items():
            with self.subTest(inner=what):
                end = self.fake_inner(INNER4, fn)
                got, took = self.query(GW_OUT4, sp, SERVER_PORT)
                self.assertAnswer(got, sp, SERVER_PORT, 'ERROR : UNKNOWN-ERROR')
                self.assertLess(took, FORWARD_TIMEOUT + 1.5)
                end()
        # nothing listens at all
        got, took = self.query(GW_OUT4, sp, SERVER_PORT)
        self.assertAnswer(got, sp, SERVER_PORT, 'ERROR : UNKNOWN-ERROR')

    def test_outside_the_listed_networks(self):
        """An inner host in no forward-network is never asked: NO-USER."""
        self.oidentd(self.net.inner, INNER4, GW_IN4)
        d = self.gateway('--forward-network', '198.18.99.0/24')
        sp = self.relayed(INNER4, GW_OUT4, OUTER4)
        got, _ = self.query(GW_OUT4, sp, SERVER_PORT)
        self.assertAnswer(got, sp, SERVER_PORT, 'ERROR : NO-USER')
        self.assertIsNotNone(d.wait_log(r'inner host in no forward-network'), d.log())

    def test_fixed_reply_and_tokens(self):
        d = self.gateway('--forward-network', '%s reply=lanuser' % INNER_NET4)
        sp = self.relayed(INNER4, GW_OUT4, OUTER4)
        got, _ = self.query(GW_OUT4, sp, SERVER_PORT)
        self.assertAnswer(got, sp, SERVER_PORT, 'USERID : UNIX : lanuser')
        d.stop()
        key = os.path.join(os.path.dirname(d.log_path), 'privident-nat-%d.key' % os.getpid())
        identtest.subprocess.run([os.environ['PRIVIDENT_TOKEN'], 'keygen', key],
                                 check=True, capture_output=True, timeout=30)
        self.addCleanup(os.unlink, key)
        self.oidentd(self.net.inner, INNER4, GW_IN4)
        self.gateway('--forward-network', '%s token' % INNER_NET4, '--token-key', key)
        got, _ = self.query(GW_OUT4, sp, SERVER_PORT)
        self.assertRegex(got, TOKEN_RX)
        self.assertNotIn(USER1, got)

    def test_container_behind_a_bridge(self):
        """A container on a bridge of the gateway host, masqueraded as
        Docker does."""
        self.oidentd(self.net.cont, CONT4, BR4)
        d = self.gateway('--forward-network', CONT_NET4, '--forward-network', CONT_NET6)
        ip, sp, _ = self.user_conn(self.net.cont, USER2, OUTER4)
        log('container %s:%d -> outer, seen from %s:%d' % (CONT4, ip, GW_OUT4, sp))
        got, _ = self.query(GW_OUT4, sp, SERVER_PORT)
        self.assertAnswer(got, sp, SERVER_PORT, 'USERID : UNIX : ' + USER2)

    def test_gateway_answers_for_its_own_users(self):
        """The gateway's own connections never go to conntrack."""
        d = self.gateway('--forward-network', INNER_NET4)
        for gw_out, outer in ((GW_OUT4, OUTER4), (GW_OUT6, OUTER6)):
            lp, sp, _ = self.user_conn(self.net.gw, USER2, outer)
            self.assertEqual(lp, sp)
            got, _ = self.query(gw_out, sp, SERVER_PORT)
            self.assertAnswer(got, sp, SERVER_PORT, 'USERID : UNIX : ' + USER2)
        self.assertNotIn('relayed=', d.log())

    def roles(self, d):
        """The conntrack role's and the forwarder's pids, told apart by
        their capability (the conntrack role's CAP_NET_ADMIN) and their
        descriptors (no epoll, no pidfd, no listener)."""
        ct = fw = None
        for pid in identtest.children(d.pid):
            st = identtest.proc_status(pid)
            kinds = fd_kinds(pid)
            if int(st['CapEff'], 16) == 1 << CAP_NET_ADMIN:
                ct = (pid, kinds)
            elif kinds[3:] == ['UNIX']:
                fw = (pid, kinds)
        return ct, fw

    def test_roles_are_inspected_and_restarted(self):
        """Each role holds its socketpair end (and the conntrack role its
        netlink socket) and nothing else; one that dies takes the other
        workers with it, and a new set serves."""
        d = self.gateway('--forward-network', INNER_NET4)
        self.oidentd(self.net.inner, INNER4, GW_IN4)
        (ct, ct_fds), (fw, fw_fds) = self.roles(d)
        log('conntrack role %d: %s; forwarder %d: %s' % (ct, ct_fds, fw, fw_fds))
        self.assertEqual(ct_fds, ['null', 'null', 'null', 'UNIX', 'NETLINK'])
        self.assertEqual(fw_fds, ['null', 'null', 'null', 'UNIX'])
        before = set(identtest.children(d.pid))
        os.kill(ct, signal.SIGKILL)
        self.assertIsNotNone(d.wait_log(r'conntrack role \(pid %d\) was killed by '
                                        r'signal 9' % ct), d.log())
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            kids = set(identtest.children(d.pid))
            if len(kids) == 4 and not kids & before:
                break
            time.sleep(0.1)
        self.assertEqual(len(kids), 4, d.log())
        self.assertFalse(kids & before, 'a worker outlived the set: %s' % d.log())
        sp = self.relayed(INNER4, GW_OUT4, OUTER4)
        got, _ = self.query(GW_OUT4, sp, SERVER_PORT)
        self.assertAnswer(got, sp, SERVER_PORT, 'USERID : UNIX : ' + USER1)

    def test_debug_sandbox_names_the_roles_calls(self):
        """--debug-sandbox in the real roles under their real filters: the
        forbidden call is reported to the helper, which names it; the role
        stops with status 71, and the workers are restarted."""
        shim = os.environ.get('PRIVIDENT_TRAPSHIM', '')
        self.assertTrue(os.access(shim, os.R_OK), 'PRIVIDENT_TRAPSHIM=%r' % shim)
        self.oidentd(self.net.inner, INNER4, GW_IN4)
        for which, who, call in (('ctrack', 'conntrack role', 'getsockopt'),
                                 ('forwarder', 'forwarder', 'getppid')):
            with self.subTest(role=who):
                argv = self.net.exec_argv(self.net.gw) + [
                    identtest.PRIVIDENT, '-f', '-u', SERVICE_USER, '-l',
                    GW_OUT4 + ':113', '--forward-network', INNER_NET4,
                    '--debug-sandbox']
                d = identtest.Daemon(argv=argv)
                self.daemons.append(d)
                d.start(ready=False, env=identtest.trap_env(shim, which))
                self.wait_listening(self.net.outer, GW_OUT4, 113, d.proc)
                sp = self.relayed(INNER4, GW_OUT4, OUTER4)
                self.query(GW_OUT4, sp, SERVER_PORT)
                self.assertIsNotNone(d.wait_log(r'privident\[\d+\]: %s made a forbidden '
                                                r'system call: %s$' % (who, call)), d.log())
                self.assertIsNotNone(d.wait_log(r'%s \(pid \d+\) exited with status 71 '
                                                r'\(stopped by --debug-sandbox\)' % who),
                                     d.log())
                d.stop()

    def assertRoles(self, d):
        """The four workers: the conntrack role holds CAP_NET_ADMIN alone,
        the forwarder nothing; all under seccomp as the service user."""
        kids = identtest.children(d.pid)
        self.assertEqual(len(kids), 4, d.log())
        uid = identtest.uid_of(SERVICE_USER)
        net_admin = 0
        for pid in kids:
            st = identtest.proc_status(pid)
            log('worker %d: Uid %s CapEff %s CapPrm %s CapBnd %s Seccomp %s NoNewPrivs %s'
                % (pid, st['Uid'], st['CapEff'], st['CapPrm'], st['CapBnd'],
                   st['Seccomp'], st['NoNewPrivs']))
            self.assertEqual(st['Seccomp'], '2')
            self.assertEqual(st['NoNewPrivs'], '1')
            self.assertEqual(int(st['Uid'].split()[0]), uid)
            eff = int(st['CapEff'], 16)
            if eff == 1 << CAP_NET_ADMIN:
                net_admin += 1
            else:
                self.assertEqual(eff, 0, 'worker %d holds %s' % (pid, st['CapEff']))
        self.assertEqual(net_admin, 1)


if __name__ == '__main__':
    identtest.main()
