#!/usr/bin/python3
"""How the daemon is started and stopped: inetd mode, systemd socket
activation, SIGTERM, the process tree, start-up errors, configuration file.

Addresses: 127.0.4.1 - 127.0.4.9, 127.0.4.99 and ::1."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import identtest
from identtest import (PRIVIDENT, SERVICE_USER, USER1, USER2, Daemon, Listener,
                       Querier, listen_spec, userid, error)

D = '127.0.4.1'
Q = '127.0.4.2'
D6 = '::1'


def listening_socket(addr):
    s = socket.socket(identtest.family_of(addr), socket.SOCK_STREAM)
    s.bind(identtest.sockaddr(addr, 0))
    s.listen(64)
    return s


class LaunchTest(identtest.DaemonTestCase):

    def wait_workers(self, d, n=2, timeout=3.0, sandboxed=False):
        """The daemon's descendants once there are n of them (and, with
        sandboxed, once each has its seccomp filter)."""
        deadline = time.monotonic() + timeout
        while True:
            kids = [p for p in identtest.descendants(d.pid) if identtest.alive(p)]
            try:
                ready = not sandboxed or all(identtest.proc_status(p).get('Seccomp') == '2'
                                             for p in kids)
            except OSError:
                ready = False       # one of them went away meanwhile
            if (len(kids) >= n and ready) or time.monotonic() >= deadline:
                return kids
            time.sleep(0.05)

    def assertAllGone(self, pids, timeout=3.0):
        deadline = time.monotonic() + timeout
        while True:
            left = [p for p in pids if identtest.alive(p)]
            if not left:
                return
            if time.monotonic() >= deadline:
                self.fail('privident processes still running: %r' % left)
            time.sleep(0.05)

    # ---- inetd

    def test_inetd_mode(self):
        inetd = Listener(D)          # plays inetd: accepts, hands over the socket
        self.addCleanup(inetd.close)
        c = self.user_conn(USER1, D, Q)
        q = self.querier(D, inetd.port, source=Q)
        conn = inetd.accept()
        conn.setblocking(True)       # as inetd hands it over (O_NONBLOCK off)
        d = Daemon(argv=[PRIVIDENT, '--inetd', '-u', SERVICE_USER])
        self.daemons.append(d)
        try:
            d.start(ready=False, stdin=conn, stdout=conn)
        finally:
            conn.close()
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(q.query(sp, cp), userid(sp, cp, USER1), d.log())
        tree = identtest.descendants(d.pid)
        sp2, cp2 = identtest.free_port(D), identtest.free_port(Q)
        q.send('%d,%d\r\n%d,%d\r\n' % (sp2, cp2, sp, cp))
        self.assertEqual(q.readline(), error(sp2, cp2, 'NO-USER'))
        self.assertEqual(q.readline(), userid(sp, cp, USER1))
        q.sock.shutdown(socket.SHUT_WR)
        waited, data = q.wait_closed(identtest.TIMEOUT)
        self.assertIsNotNone(waited, 'inetd-mode daemon kept the connection open after EOF')
        self.assertEqual(data, b'')
        status = d.proc.wait(timeout=identtest.TIMEOUT)
        self.assertEqual(status, 0, d.log())
        self.assertAllGone(tree)

    def test_inetd_mode_stalled_helper(self):
        """In inetd mode too, a helper that stops answering ends the
        instance: the child gives up on it (status 72) and the monitor
        ends the helper and exits, rather than waiting for it for ever."""
        inetd = Listener(D)
        self.addCleanup(inetd.close)
        q = self.querier(D, inetd.port, source=Q)
        conn = inetd.accept()
        conn.setblocking(True)
        d = Daemon(argv=[PRIVIDENT, '--inetd', '-f', '-u', SERVICE_USER,
                         '--lookup-timeout', '1'])
        self.daemons.append(d)
        try:
            d.start(ready=False, stdin=conn)
        finally:
            conn.close()
        child, helper = identtest.workers(d)
        os.kill(helper, signal.SIGSTOP)
        q.send('1,2\r\n')
        # lookup-timeout 1 s + 5 s grace, then at most 2 s to end the helper
        status = d.proc.wait(timeout=15)
        self.assertEqual(status, 72, d.log())
        self.assertIsNotNone(d.wait_log(r'exited with status 72 \(its lookup helper '
                                        r'stopped answering\)'), d.log())
        self.assertFalse(identtest.alive(helper), 'the stopped helper was left behind')

    def test_sigchld_ignored_by_the_launcher(self):
        """A launcher that ignores SIGCHLD (ignored signals survive exec)
        must not make the monitor lose its workers: a killed child is
        still replaced and SIGTERM still stops the daemon."""
        c = self.user_conn(USER1, D, Q)
        port = identtest.free_port(D)
        d = Daemon([(D, port)], argv=[PRIVIDENT, '-f', '-u', SERVICE_USER,
                                      '-l', listen_spec(D, port)])
        self.daemons.append(d)
        d.start(preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
        child, helper = identtest.workers(d)
        os.kill(child, signal.SIGKILL)
        identtest.workers(d, exclude=(child, helper), timeout=5)
        q = self.querier(D, port, source=Q)
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(q.query(sp, cp), userid(sp, cp, USER1), d.log())
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=identtest.TIMEOUT), 0, d.log())

    def test_inetd_mode_checks_the_querier_address(self):
        inetd = Listener(D)
        self.addCleanup(inetd.close)
        c = self.user_conn(USER2, D, Q)
        q = self.querier(D, inetd.port, source='127.0.4.3')   # not the far end
        conn = inetd.accept()
        conn.setblocking(True)       # as inetd hands it over (O_NONBLOCK off)
        d = Daemon(argv=[PRIVIDENT, '--inetd', '-u', SERVICE_USER])
        self.daemons.append(d)
        try:
            d.start(ready=False, stdin=conn, stdout=conn)
        finally:
            conn.close()
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'NO-USER'), d.log())
        q.close()
        self.assertEqual(d.proc.wait(timeout=identtest.TIMEOUT), 0, d.log())

    def socket_inodes(self, pid):
        """The socket inodes a process holds open."""
        out = set()
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                target = os.readlink('/proc/%d/fd/%s' % (pid, fd))
            except OSError:
                continue
            if target.startswith('socket:['):
                out.add(target[8:-1])
        return out

    def test_inetd_mode_silent_client(self):
        """A client that says nothing, or half a line, meets the time-out,
        and meanwhile only the sandboxed child holds its connection."""
        inetd = Listener(D)
        self.addCleanup(inetd.close)
        q = self.querier(D, inetd.port, source=Q)
        conn = inetd.accept()
        conn.setblocking(True)       # as inetd hands it over (O_NONBLOCK off)
        inode = str(os.fstat(conn.fileno()).st_ino)
        d = Daemon(argv=[PRIVIDENT, '--inetd', '-u', SERVICE_USER, '-t', '2'])
        self.daemons.append(d)
        try:
            d.start(ready=False, stdin=conn, stdout=conn)
        finally:
            conn.close()
        q.send('1,')                 # half a query, then silence
        # Once both workers are sandboxed (before, the child has not yet
        # loaded its filter, and the helper may not yet have closed the
        # descriptors it inherited).
        kids = self.wait_workers(d, sandboxed=True)
        self.assertEqual(len(kids), 2, d.log())
        holders = [p for p in [d.pid] + kids if inode in self.socket_inodes(p)]
        self.assertEqual(len(holders), 1, 'connection held by %r' % holders)
        st = identtest.proc_status(holders[0])
        self.assertEqual(st['Seccomp'], '2', 'the process holding the client is not confined')
        self.assertNotEqual(st['Uid'].split()[0], '0')
        start = time.monotonic()
        waited, data = q.wait_closed(6.0)
        self.assertIsNotNone(waited, 'inetd-mode daemon ignored its idle time-out')
        self.assertGreater(time.monotonic() - start, 1.0, 'closed before the time-out')
        self.assertEqual(data, b'')
        self.assertEqual(d.proc.wait(timeout=identtest.TIMEOUT), 0, d.log())

    # ---- systemd socket activation

    def test_socket_activation(self):
        l4 = listening_socket('127.0.4.4')
        l6 = listening_socket(D6)
        listen = [('127.0.4.4', l4.getsockname()[1]), (D6, l6.getsockname()[1])]
        d = Daemon(listen, argv=[PRIVIDENT, '-f', '-u', SERVICE_USER])
        self.daemons.append(d)
        try:
            d.start_activated([l4, l6])
        finally:
            l4.close()
            l6.close()
        c = self.user_conn(USER1, '127.0.4.4', Q)
        q = self.querier('127.0.4.4', listen[0][1], source=Q)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER1), d.log())
        c6 = self.user_conn(USER2, D6, D6)
        q6 = self.querier(D6, listen[1][1], source=D6)
        self.assertEqual(q6.query(c6.local_port, c6.remote_port),
                         userid(c6.local_port, c6.remote_port, USER2), d.log())
        # it did not also bind the default port 113 on all addresses
        with socket.socket() as s:
            try:
                s.bind(('127.0.4.99', 113))
            except OSError as e:
                self.fail('port 113 taken although sockets were passed in: %s' % e)
        self.assertFalse(d.exited())

    def test_several_listen_addresses(self):
        """-l repeated: every address is served, each answering about the
        connections of its own address, and nothing else is bound."""
        d = self.daemon([('127.0.4.10', None), (D6, None), ('127.0.4.11', None)])
        for (addr, port), user in zip(d.listen, (USER1, USER2, USER1)):
            c = self.user_conn(user, addr, addr)
            q = self.querier(addr, port, source=addr)
            self.assertEqual(q.query(c.local_port, c.remote_port),
                             userid(c.local_port, c.remote_port, user), d.log())
        self.assertIn('127.0.4.10:%d' % d.listen[0][1], d.log())
        self.assertIn('127.0.4.11:%d' % d.listen[2][1], d.log())
        with socket.socket() as s:
            try:
                s.bind(('127.0.4.99', 113))
            except OSError as e:
                self.fail('port 113 taken although -l was given: %s' % e)

    # ---- SIGTERM and the process tree

    def test_sigterm_stops_all_three_processes(self):
        d = self.daemon([(D, None)])
        kids = self.wait_workers(d)
        self.assertEqual(len(kids), 2, 'expected monitor + 2 workers, got children %r' % kids)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(1111, 2222), error(1111, 2222, 'NO-USER'))
        # SIGTERM with a client connection open
        d.proc.send_signal(signal.SIGTERM)
        status = d.proc.wait(timeout=identtest.TIMEOUT)
        self.assertEqual(status, 0, d.log())
        self.assertAllGone([d.pid] + kids)
        waited, _ = q.wait_closed(3.0)
        self.assertIsNotNone(waited, 'client connection survived the daemon')
        with self.assertRaises(OSError):
            Querier(D, d.listen[0][1], timeout=1.0).close()

    def test_workers_run_as_the_service_user(self):
        d = self.daemon([(D, None)])
        kids = self.wait_workers(d)
        self.assertEqual(len(kids), 2, kids)
        svc = identtest.uid_of(SERVICE_USER)
        sandboxed = 0
        for pid in kids:
            st = identtest.proc_status(pid)
            self.assertEqual(st['Uid'].split(), [str(svc)] * 4, 'worker %d Uid' % pid)
            self.assertNotIn('0', st['Gid'].split(), 'worker %d Gid' % pid)
            if (st.get('Seccomp') == '2' and st.get('NoNewPrivs') == '1'
                    and int(st['CapEff'], 16) == 0 and int(st['CapPrm'], 16) == 0):
                sandboxed += 1
        self.assertGreaterEqual(sandboxed, 1,
                                'no worker has seccomp, no_new_privs and no capabilities')

    def test_worker_restarted_after_being_killed(self):
        d = self.daemon([(D, None)])
        kids = self.wait_workers(d)
        self.assertEqual(len(kids), 2, kids)
        os.kill(kids[0], signal.SIGKILL)
        deadline = time.monotonic() + 3.0
        while True:
            now = [p for p in identtest.descendants(d.pid) if identtest.alive(p)]
            if len(now) == 2 and kids[0] not in now:
                break
            self.assertLess(time.monotonic(), deadline, 'worker not replaced: %r' % now)
            time.sleep(0.05)
        c = self.user_conn(USER1, D, Q)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER1), d.log())

    # ---- start-up errors and the configuration file

    def run_privident(self, *args):
        return subprocess.run([PRIVIDENT] + list(args), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=5)

    def test_bad_options_exit_2(self):
        # Each would otherwise be a valid foreground daemon on a free port.
        port = str(identtest.free_port('127.0.4.5'))
        base = ['-f', '-u', SERVICE_USER, '-l', '127.0.4.5:' + port]
        for extra in (['--no-such-option'], ['--max-queries', 'banana'],
                      ['--reply', 'nonsense'], ['-t', '-3'], ['-l', '127.0.4.5:99999']):
            r = self.run_privident(*(base + extra))
            self.assertEqual(r.returncode, 2, '%r: %r' % (extra, r.stderr))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, '%r: %r' % (extra, r.stderr))

    def test_bad_configuration_line(self):
        port = identtest.free_port('127.0.4.8')
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as f:
            f.write('# privident test\nlisten = 127.0.4.8:%d\nuser = %s\nno-such-key = 1\n'
                    % (port, SERVICE_USER))
            f.flush()
            r = self.run_privident('-f', '-c', f.name)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn(f.name, r.stderr)
        self.assertTrue(re.search(r'\b4\b', r.stderr), 'line number missing: %r' % r.stderr)

    def test_configuration_file(self):
        addr = '127.0.4.6'
        port = identtest.free_port(addr)
        with tempfile.NamedTemporaryFile('w', suffix='.conf', delete=False) as f:
            f.write('# privident test configuration\n'
                    'listen = %s:%d\n'
                    'user = %s\n'
                    'reply = fixed:fromconfig   # comment\n' % (addr, port, SERVICE_USER))
        self.addCleanup(os.unlink, f.name)
        d = Daemon([(addr, port)], argv=[PRIVIDENT, '-f', '-c', f.name])
        self.daemons.append(d)
        d.start()
        q = self.querier(addr, port, source=Q)
        self.assertEqual(q.query(5, 6), userid(5, 6, 'fromconfig'))

    # ---- SIGHUP

    def write_config(self, path, addr, port, reply, extra=''):
        with open(path, 'w') as f:
            f.write('listen = %s:%d\nuser = %s\nreply = %s\n%s'
                    % (addr, port, SERVICE_USER, reply, extra))

    def wait_answer(self, addr, port, expected, timeout=3.0):
        """Queries until the reply is expected (a restart is under way);
        returns the last reply."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                q = Querier(addr, port, source=Q)
                got = q.query(5, 6)
                q.close()
            except (OSError, AssertionError) as e:
                got = repr(e)
            if got == expected or time.monotonic() >= deadline:
                return got
            time.sleep(0.05)

    def start_with_config(self, addr, reply):
        """A daemon whose settings all come from a configuration file
        (listen on addr, a free port; reply); (daemon, file, port)."""
        port = identtest.free_port(addr)
        fd, path = tempfile.mkstemp(suffix='.conf')
        os.close(fd)
        self.addCleanup(os.unlink, path)
        self.write_config(path, addr, port, reply)
        d = Daemon([(addr, port)], argv=[PRIVIDENT, '-f', '-c', path])
        self.daemons.append(d)
        d.start()
        return d, path, port

    def test_sighup_rereads_the_configuration(self):
        addr = '127.0.4.7'
        d, path, port = self.start_with_config(addr, 'fixed:before')
        self.assertEqual(self.wait_answer(addr, port, userid(5, 6, 'before'), 0), userid(5, 6, 'before'))
        self.write_config(path, addr, port, 'fixed:after')
        d.proc.send_signal(signal.SIGHUP)
        self.assertEqual(self.wait_answer(addr, port, userid(5, 6, 'after')), userid(5, 6, 'after'), d.log())
        self.assertIsNotNone(d.wait_log(r'configuration reloaded'), d.log())
        # A reload soon after the start is no crash loop: no back-off.
        self.assertNotIn('keep dying', d.log())
        # A broken file on SIGHUP is refused; the running configuration stays.
        self.write_config(path, addr, port, 'fixed:broken', 'no-such-key = 1\n')
        d.proc.send_signal(signal.SIGHUP)
        self.assertIsNotNone(d.wait_log(r'configuration not reloaded: .*:4: '), d.log())
        self.assertEqual(self.wait_answer(addr, port, userid(5, 6, 'after'), 0), userid(5, 6, 'after'), d.log())
        self.assertFalse(d.exited())

    def test_sighup_changes_the_listen_addresses(self):
        """A reload that keeps one address and adds another serves both (the
        kept socket is handed on, not bound again while the old child still
        holds it); one that drops an address stops serving it; one whose
        new address cannot be bound leaves the old set in force."""
        a, b = '127.0.4.12', '127.0.4.13'
        d, path, port = self.start_with_config(a, 'fixed:one')
        self.assertEqual(self.wait_answer(a, port, userid(5, 6, 'one'), 0), userid(5, 6, 'one'))
        self.write_config(path, a, port, 'fixed:two', 'listen = %s:%d\n' % (b, port))
        d.proc.send_signal(signal.SIGHUP)
        for addr in (a, b):
            self.assertEqual(self.wait_answer(addr, port, userid(5, 6, 'two')),
                             userid(5, 6, 'two'), d.log())
        self.write_config(path, b, port, 'fixed:three')
        d.proc.send_signal(signal.SIGHUP)
        self.assertEqual(self.wait_answer(b, port, userid(5, 6, 'three')),
                         userid(5, 6, 'three'), d.log())
        with socket.socket() as s:  # no one listens on a any more
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a, port))       # (time-wait of the queries is no obstacle)
            s.listen(1)
        # A port someone else holds: not reloaded, b still served as before.
        with socket.socket() as busy:
            busy.bind((a, 0))
            busy.listen(1)
            self.write_config(path, b, port, 'fixed:four',
                              'listen = %s:%d\n' % (a, busy.getsockname()[1]))
            d.proc.send_signal(signal.SIGHUP)
            self.assertIsNotNone(d.wait_log(r'configuration not reloaded: cannot listen'), d.log())
        self.assertEqual(self.wait_answer(b, port, userid(5, 6, 'three'), 0),
                         userid(5, 6, 'three'), d.log())
        self.assertNotIn('cannot reopen', d.log())
        self.assertFalse(d.exited())

    # ---- started as the service user, as the systemd unit does

    def test_started_as_the_service_user_with_socket_activation(self):
        """No setuid step: started as _privident with only CAP_SYS_CHROOT
        (ambient), the sockets passed in, like packaging/systemd."""
        addr = '127.0.4.9'
        l4 = listening_socket(addr)
        port = l4.getsockname()[1]
        argv = ['/usr/bin/setpriv', '--reuid', SERVICE_USER, '--regid', SERVICE_USER,
                '--clear-groups', '--inh-caps=+sys_chroot', '--ambient-caps=+sys_chroot',
                PRIVIDENT, '-f']
        d = Daemon([(addr, port)], argv=argv)
        self.daemons.append(d)
        try:
            d.start_activated([l4])
        finally:
            l4.close()
        c = self.user_conn(USER1, addr, Q)
        q = self.querier(addr, port, source=Q)
        self.assertEqual(q.query(c.local_port, c.remote_port),
                         userid(c.local_port, c.remote_port, USER1), d.log())
        service_uid = identtest.uid_of(SERVICE_USER)
        kids = self.wait_workers(d)
        self.assertEqual(len(kids), 2, kids)
        for pid in [d.pid] + kids:
            st = identtest.proc_status(pid)
            self.assertEqual(int(st['Uid'].split()[0]), service_uid, st)
        for pid in kids:
            st = identtest.proc_status(pid)
            self.assertEqual(st['Seccomp'], '2', st)
            self.assertEqual(int(st['CapEff'], 16), 0, st)
            self.assertEqual(int(st['CapPrm'], 16), 0, st)
            self.assertEqual(int(st['CapAmb'], 16), 0, st)
        roots = sorted(os.readlink('/proc/%d/root' % pid) for pid in kids)
        self.assertEqual(roots[0], '/', roots)            # the helper
        self.assertNotEqual(roots[1], '/', roots)         # the child's empty root

    # ---- the default: port 113 on every address

    def test_default_listens_on_port_113_everywhere(self):
        """Without -l the daemon takes port 113 on all addresses, IPv4 and
        IPv6 alike. Run in a network namespace of our own, where port 113
        is free whatever else runs on this host."""
        ns = 'privident-it-%d' % os.getpid()
        subprocess.run(['ip', 'netns', 'add', ns], check=True)
        self.addCleanup(subprocess.run, ['ip', 'netns', 'del', ns])
        inns = ['ip', 'netns', 'exec', ns]
        subprocess.run(inns + ['ip', 'link', 'set', 'lo', 'up'], check=True)
        d = Daemon([], argv=inns + [PRIVIDENT, '-f', '-u', SERVICE_USER])
        self.daemons.append(d)
        d.start()
        results = {}
        deadline = time.monotonic() + 5
        for host in ('127.0.0.1', '::1'):
            while True:
                r = subprocess.run(inns + [identtest.PRIVIDENT_QUERY, '-t', '2', host, '1', '2'],
                                   capture_output=True, text=True, timeout=10)
                if r.returncode != 3 or time.monotonic() >= deadline:
                    break
                time.sleep(0.1)
            results[host] = (r.returncode, r.stdout.strip())
        self.assertEqual(results, {'127.0.0.1': (1, 'NO-USER'), '::1': (1, 'NO-USER')}, d.log())
        self.assertIsNotNone(d.wait_log(r'listening on \[::\]:113'), d.log())


if __name__ == '__main__':
    identtest.main()
