"""Shared fixtures for privident's integration tests.

Every test file imports this module and ends with ``identtest.main()``. The
tests run the real daemon (``$PRIVIDENT``) and client (``$PRIVIDENT_QUERY``)
against real loopback connections owned by other uids, so they need root; run
as anyone else, a file prints one line and exits 77 (meson's SKIP).

Each test file uses its own block of 127.0.0.0/8 addresses so that files run
in parallel never race for the same address and port.
"""

import fcntl
import json
import os
import pwd
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

PRIVIDENT = os.environ.get('PRIVIDENT', '')
PRIVIDENT_QUERY = os.environ.get('PRIVIDENT_QUERY', '')
PYTHON = '/usr/bin/python3'
HERE = os.path.dirname(os.path.abspath(__file__))

SERVICE_USER = '_privident'
USER1 = 'privident-t1'
USER2 = 'privident-t2'

TIMEOUT = 5.0          # default bound on every wait and socket operation
CHILD_LIFETIME = 120   # a forked user process exits by itself after this


# --------------------------------------------------------------------------
# Entry point, users


def skip(reason):
    print('SKIP: ' + reason)
    sys.exit(77)


def main():
    """Run the calling file's unittest cases; exit 77 when not root."""
    if os.geteuid() != 0:
        skip('integration tests need root (other uids, setuid, port 113)')
    for var, path in (('PRIVIDENT', PRIVIDENT), ('PRIVIDENT_QUERY', PRIVIDENT_QUERY)):
        if not path or not os.access(path, os.X_OK):
            print('ERROR: %s=%r is not an executable' % (var, path))
            sys.exit(1)
    ensure_users()
    prog = unittest.main(module='__main__', exit=False, verbosity=2)
    result = prog.result
    if result.testsRun == 0 or result.skipped:
        # A skipped test is not a pass; none of these tests skips itself.
        print('ERROR: %d tests run, %d skipped' % (result.testsRun, len(result.skipped)))
        sys.exit(1)
    sys.exit(0 if result.wasSuccessful() else 1)


def ensure_users():
    """Create the service user and the two test users if they are missing.

    Files run in parallel, so creation is serialised with a lock file."""
    with open('/tmp/privident-integration-users.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in (SERVICE_USER, USER1, USER2):
            try:
                pwd.getpwnam(name)
            except KeyError:
                subprocess.run(['useradd', '--system', '--no-create-home',
                                '--shell', '/usr/sbin/nologin', name],
                               check=True, timeout=30)


# The home of a user that has none (users with homes are made per file).
NO_HOME = '/nonexistent'


def ensure_home_users(names):
    """Create users (without a home yet) for a file that gives them homes
    with set_home; files run in parallel, so creation is serialised."""
    with open('/tmp/privident-integration-users.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in names:
            try:
                pwd.getpwnam(name)
            except KeyError:
                subprocess.run(['useradd', '--system', '--no-create-home',
                                '--home-dir', NO_HOME,
                                '--shell', '/usr/sbin/nologin', name],
                               check=True, timeout=30)


def set_home(user, home):
    """Point user's home directory at home (usermod, serialised)."""
    with open('/tmp/privident-integration-users.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(['usermod', '-d', home, user], check=True,
                       capture_output=True, timeout=30)


def uid_of(name):
    return pwd.getpwnam(name).pw_uid


def drop_to(user):
    pw = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
    if os.getuid() != pw.pw_uid or os.geteuid() != pw.pw_uid:
        raise RuntimeError('could not become %s' % user)


# --------------------------------------------------------------------------
# Addresses and sockets


def trap_env(shim, which):
    """The environment that makes worker which (child, helper, ctrack,
    forwarder) make one forbidden call through trapshim.c (shim)."""
    env = dict(os.environ, LD_PRELOAD=shim, PRIVIDENT_TEST_TRAP=which)
    # Sanitizer builds: their runtime need not come first in the list.
    env['ASAN_OPTIONS'] = ':'.join(
        x for x in (os.environ.get('ASAN_OPTIONS'), 'verify_asan_link_order=0') if x)
    return env


def family_of(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def sockaddr(addr, port):
    return (addr, port, 0, 0) if ':' in addr else (addr, port)


def listen_spec(addr, port):
    return ('[%s]:%d' if ':' in addr else '%s:%d') % (addr, port)


def free_port(addr):
    """A port that is free on addr right now (bind port 0, then release)."""
    with socket.socket(family_of(addr), socket.SOCK_STREAM) as s:
        s.bind(sockaddr(addr, 0))
        return s.getsockname()[1]


class Listener:
    """A listening TCP socket owned by root (the test)."""

    def __init__(self, addr, port=0):
        self.addr = addr
        self.sock = socket.socket(family_of(addr), socket.SOCK_STREAM)
        self.sock.bind(sockaddr(addr, port))
        self.sock.listen(64)
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]

    def accept(self, timeout=TIMEOUT):
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        conn.settimeout(TIMEOUT)
        return conn

    def close(self):
        self.sock.close()


def connect_from(source, addr, port, timeout=TIMEOUT):
    """A TCP connection from source (address, any port) to addr:port."""
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source is not None:
            s.bind(sockaddr(source, 0))
        s.connect(sockaddr(addr, port))
    except BaseException:
        s.close()
        raise
    return s


def _close_fds_except(keep):
    for name in os.listdir('/proc/self/fd'):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def time_wait_exists(local_addr, local_port, remote_addr, remote_port):
    """Whether ss lists that exact connection in TIME-WAIT."""
    out = subprocess.run(
        ['ss', '-Htn', 'state', 'time-wait',
         'src', listen_spec(local_addr, local_port),
         'dst', listen_spec(remote_addr, remote_port)],
        capture_output=True, text=True, timeout=10).stdout
    return out.strip() != ''


# --------------------------------------------------------------------------
# Sockets owned by other uids


class UserSocket:
    """A TCP socket owned by another uid: a forked child drops to `user`,
    then either connects (mode 'connect') from bind_addr[:bind_port] to a
    root-owned Listener, or listens (mode 'listen') on bind_addr. It sends its
    port back over a pipe and holds the socket until told otherwise.

    In 'connect' mode the test accepts, so the connection is ESTABLISHED:
    self.local_port is the user's port, self.remote_port the listener's,
    self.peer the root-owned accepted end.

    v6 = True makes the child use an AF_INET6 socket for an IPv4 connection
    (v4-mapped addresses)."""

    def __init__(self, user, bind_addr, listener=None, bind_port=0,
                 mode='connect', v6=False):
        self.user = user
        self.bind_addr = bind_addr
        self.listener = listener
        self.peer = None
        self.pid = None
        family = family_of(bind_addr)
        bind = bind_addr
        target = None
        if mode == 'connect':
            target = listener.addr
            if v6 and family == socket.AF_INET:
                family = socket.AF_INET6
                bind = '::ffff:' + bind_addr
                target = '::ffff:' + target
        ctl_r, ctl_w = os.pipe()
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(ctl_w)
                os.close(res_r)
                _close_fds_except({ctl_r, res_w})
                code = self._child(user, mode, family, bind, bind_port,
                                   target, listener.port if listener else 0,
                                   ctl_r, res_w)
            except BaseException as e:  # never return into unittest
                try:
                    os.write(res_w, (json.dumps({'error': repr(e)}) + '\n').encode())
                except BaseException:
                    pass
            finally:
                os._exit(code)
        self.pid = pid
        os.close(ctl_r)
        os.close(res_w)
        self._ctl = ctl_w
        self._res = res_r
        try:
            msg = self._result()
            if 'error' in msg:
                raise RuntimeError('user process (%s): %s' % (user, msg['error']))
            self.local_port = msg['port']
            if mode == 'connect':
                self.remote_port = listener.port
                self.peer = listener.accept()
                got = self.peer.getpeername()[1]
                if got != self.local_port:
                    raise RuntimeError('accepted the wrong connection (%d != %d)'
                                       % (got, self.local_port))
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _child(user, mode, family, bind, bind_port, target, target_port, ctl_r, res_w):
        drop_to(user)
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.bind(sockaddr(bind, bind_port))
        if mode == 'connect':
            s.connect(sockaddr(target, target_port))
        else:
            s.listen(8)
        os.write(res_w, (json.dumps({'port': s.getsockname()[1]}) + '\n').encode())
        deadline = time.monotonic() + CHILD_LIFETIME
        while time.monotonic() < deadline:
            r, _, _ = select.select([ctl_r], [], [], 1.0)
            if not r:
                continue
            cmd = os.read(ctl_r, 1)
            if cmd == b'c' and s is not None:
                s.close()
                s = None
                os.write(res_w, b'{"closed": true}\n')
            else:
                break
        if s is not None:
            s.close()
        return 0

    def _result(self, timeout=TIMEOUT):
        data = b''
        deadline = time.monotonic() + timeout
        while not data.endswith(b'\n'):
            left = deadline - time.monotonic()
            r, _, _ = select.select([self._res], [], [], max(left, 0))
            if not r:
                raise RuntimeError('user process did not answer')
            chunk = os.read(self._res, 512)
            if not chunk:
                raise RuntimeError('user process died')
            data += chunk
        return json.loads(data)

    def close_user_side(self):
        """The user closes its end first (the user side ends up in TIME_WAIT
        once the peer closes too)."""
        os.write(self._ctl, b'c')
        msg = self._result()
        if not msg.get('closed'):
            raise RuntimeError('user process could not close: %r' % msg)

    def close(self):
        if self.peer is not None:
            self.peer.close()
            self.peer = None
        if self._ctl is not None:
            os.close(self._ctl)
            self._ctl = None
        if self._res is not None:
            os.close(self._res)
            self._res = None
        if self.pid is not None:
            reap(self.pid)
            self.pid = None


def reap(pid, timeout=TIMEOUT):
    """Wait for a child; SIGKILL it when it does not exit in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


# --------------------------------------------------------------------------
# The daemon


class ForkedProc:
    """The parts of subprocess.Popen's interface Daemon uses, for a child
    started with fork and exec."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else 3600)
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, sig):
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class Daemon:
    """The real privident, run in the foreground, stderr in a log file."""

    def __init__(self, listen=(), args=(), user=SERVICE_USER, foreground=True,
                 argv=None):
        self.listen = list(listen)          # [(addr, port)]
        if argv is None:
            argv = [PRIVIDENT] + (['-f'] if foreground else []) + ['-u', user]
            for addr, port in self.listen:
                argv += ['-l', listen_spec(addr, port)]
            argv += list(args)
        self.argv = argv
        fd, self.log_path = tempfile.mkstemp(prefix='privident-it-', suffix='.log')
        os.close(fd)
        self.proc = None
        self.status = None

    def start(self, ready=True, **popen):
        with open(self.log_path, 'ab') as log:
            kw = dict(stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            kw.update(popen)
            self.proc = subprocess.Popen(self.argv, **kw)
        if ready:
            for addr, port in self.listen:
                wait_listening(addr, port, self)
            # Let the daemon see the probes close, so they never count
            # against a connection limit.
            time.sleep(0.2)
        return self

    def start_activated(self, socks, ready=True):
        """Start it the way systemd does: the listening sockets as fds 3..,
        LISTEN_FDS=n and LISTEN_PID=the daemon's own pid."""
        log = os.open(self.log_path, os.O_WRONLY | os.O_APPEND)
        null = os.open('/dev/null', os.O_RDONLY)
        fds = [s.fileno() for s in socks]
        pid = os.fork()
        if pid == 0:
            try:
                high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
                os.dup2(null, 0)
                os.dup2(log, 1)
                os.dup2(log, 2)
                for i, fd in enumerate(high):
                    os.dup2(fd, 3 + i)
                _close_fds_except(set(range(3, 3 + len(fds))))
                env = dict(os.environ, LISTEN_FDS=str(len(fds)), LISTEN_PID=str(os.getpid()))
                env.pop('LISTEN_FDNAMES', None)
                os.execve(self.argv[0], self.argv, env)
            finally:
                os._exit(127)
        os.close(log)
        os.close(null)
        self.proc = ForkedProc(pid)
        if ready:
            for addr, port in self.listen:
                wait_listening(addr, port, self)
            time.sleep(0.2)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def exited(self):
        return self.proc.poll() is not None

    def log(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_log(self, pattern, timeout=3.0):
        """The first log line matching the regular expression, or None."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log().splitlines():
                if rx.search(line):
                    return line
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=TIMEOUT):
        """Signal the daemon and wait; SIGKILL after timeout. Returns the exit
        status (negative: killed by that signal; None: it needed SIGKILL)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.status = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
                self.status = None
        else:
            self.status = self.proc.returncode
        return self.status

    def cleanup(self):
        try:
            os.unlink(self.log_path)
        except OSError:
            pass


def wait_listening(addr, port, daemon=None, timeout=TIMEOUT):
    """Poll-connect until addr:port accepts; fail early if the daemon died."""
    deadline = time.monotonic() + timeout
    while True:
        if daemon is not None and daemon.exited():
            raise AssertionError('daemon exited with status %s before listening on %s:\n%s'
                                 % (daemon.proc.returncode, listen_spec(addr, port), daemon.log()))
        try:
            with socket.create_connection(sockaddr(addr, port)[:2], timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            raise AssertionError('nothing listens on %s after %.0f s:\n%s'
                                 % (listen_spec(addr, port), timeout,
                                    daemon.log() if daemon else ''))
        time.sleep(0.05)


# --------------------------------------------------------------------------
# Process tree


def proc_stat(pid):
    """(state, ppid) of a process, or None when it does not exist."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(')') + 2:].split()
    return rest[0], int(rest[1])


def children(pid):
    out = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            st = proc_stat(int(name))
            if st is not None and st[1] == pid:
                out.append(int(name))
    return out


def descendants(pid):
    out = []
    todo = [pid]
    while todo:
        kids = children(todo.pop())
        out += kids
        todo += kids
    return out


def alive(pid):
    """Exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] != 'Z'


def workers(daemon, exclude=(), timeout=3.0):
    """(network child, lookup helper) pids of a running daemon: the pair of
    the monitor's children that is running and fully sandboxed, none of
    them in exclude; the network child is the one whose root is not /.
    Raises AssertionError when no such pair shows up within timeout."""
    deadline = time.monotonic() + timeout
    while True:
        kids = [p for p in children(daemon.pid) if alive(p) and p not in exclude]
        try:
            if len(kids) == 2 and all(proc_status(p).get('Seccomp') == '2' for p in kids):
                roots = {p: os.readlink('/proc/%d/root' % p) for p in kids}
                child = [p for p in kids if roots[p] != '/']
                helper = [p for p in kids if roots[p] == '/']
                if len(child) == 1 and len(helper) == 1:
                    return child[0], helper[0]
        except OSError:
            pass            # one of them went away meanwhile
        if time.monotonic() >= deadline:
            raise AssertionError('no sandboxed worker pair (children %r):\n%s'
                                 % (kids, daemon.log()))
        time.sleep(0.02)


def proc_status(pid):
    fields = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            key, _, value = line.partition(':')
            fields[key] = value.strip()
    return fields


def sandboxed_worker(d, helper, timeout=3.0):
    """The pid of the daemon's running, sandboxed lookup helper (helper
    True; its root is /) or network child (its root is empty), or None
    when there is none within timeout."""
    deadline = time.monotonic() + timeout
    while True:
        for pid in children(d.pid):
            try:
                if (alive(pid) and proc_status(pid).get('Seccomp') == '2' and
                        (os.readlink('/proc/%d/root' % pid) == '/') == helper):
                    return pid
            except OSError:
                pass            # gone meanwhile
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)


# --------------------------------------------------------------------------
# The querier side


def userid(sp, cp, name, opsys='UNIX'):
    return '%d , %d : USERID : %s : %s\r\n' % (sp, cp, opsys, name)


def error(sp, cp, token):
    return '%d , %d : ERROR : %s\r\n' % (sp, cp, token)


MALFORMED = '0 , 0 : ERROR : INVALID-PORT\r\n'


class Querier:
    """A client connection to the daemon, from a chosen source address."""

    def __init__(self, addr, port, source=None, timeout=TIMEOUT):
        self.sock = connect_from(source, addr, port, timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''

    def send(self, data):
        if isinstance(data, str):
            data = data.encode('latin-1')
        self.sock.sendall(data)

    def readline(self, timeout=TIMEOUT):
        """One reply line including its CR LF, or None at end of stream."""
        deadline = time.monotonic() + timeout
        while b'\n' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('no reply line within %.1f s (have %r)' % (timeout, self.buf))
            if len(self.buf) > 2048:
                raise AssertionError('reply line too long: %r' % self.buf[:100])
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                if self.buf:
                    raise AssertionError('connection closed inside a line: %r' % self.buf)
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b'\n')
        return (line + b'\n').decode('latin-1')

    def query(self, sp, cp):
        self.send('%d , %d\r\n' % (sp, cp))
        return self.readline()

    def wait_closed(self, timeout=TIMEOUT):
        """Wait for end of stream. Returns (seconds waited or None if still
        open after timeout, bytes received meanwhile)."""
        start = time.monotonic()
        deadline = start + timeout
        data = self.buf
        self.buf = b''
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, data
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                return time.monotonic() - start, data
            data += chunk

    def is_open(self, wait=0.2):
        """True if nothing (no data, no end of stream) arrives within wait."""
        r, _, _ = select.select([self.sock], [], [], wait)
        return not r

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------
# The sentinel: another client, answered throughout an attack

# A probe every SENTINEL_PERIOD s; each must be answered within
# SENTINEL_PROMPT s, and no stretch of more than SENTINEL_MAX_GAP s may pass
# without an answer.
SENTINEL_PERIOD = 0.05
SENTINEL_PROMPT = 1.0
SENTINEL_MAX_GAP = 1.5


class Sentinel:
    """From its own address `source`, asks the daemon at addr:port about a
    real connection of USER1 (ports sp, cp) on a fresh connection every
    SENTINEL_PERIOD s, in a thread, and records (start, end, reply or
    error) for every probe. Its sockets use time-outs, not select(), as the
    flood tests hold thousands of descriptors."""

    def __init__(self, addr, port, source, sp, cp):
        self.addr = addr
        self.port = port
        self.source = source
        self.query = ('%d , %d\r\n' % (sp, cp)).encode()
        self.expect = userid(sp, cp, USER1)
        self.probes = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(10)

    def _probe(self):
        wait = 3 * SENTINEL_PROMPT
        deadline = time.monotonic() + wait
        with connect_from(self.source, self.addr, self.port, timeout=wait) as s:
            s.sendall(self.query)
            data = b''
            while b'\n' not in data:
                left = deadline - time.monotonic()
                if left <= 0:
                    return 'no reply within %.1f s (%r)' % (wait, data)
                s.settimeout(left)
                chunk = s.recv(4096)
                if not chunk:
                    return 'closed without a reply (%r)' % data
                data += chunk
            return data.decode('latin-1')

    def _run(self):
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                reply = self._probe()
            except OSError as e:
                reply = 'error: %r' % e
            self.probes.append((start, time.monotonic(), reply))
            self._stop.wait(SENTINEL_PERIOD)

    def problems(self, start, end, least=2):
        """What went wrong (empty: served throughout): any probe, whenever
        it ran, that got a wrong or late answer; a gap of more than
        SENTINEL_MAX_GAP s between start and end without an answer; fewer
        than `least` answers between start and end."""
        out = []
        probes = list(self.probes)
        for t0, t1, reply in probes:
            if reply != self.expect:
                out.append('probe at +%.2f s: %r' % (t0 - start, reply))
            elif t1 - t0 > SENTINEL_PROMPT:
                out.append('probe at +%.2f s answered after %.2f s' % (t0 - start, t1 - t0))
        done = [start] + sorted(t1 for _, t1, r in probes
                                if r == self.expect and start <= t1 <= end) + [end]
        gap, at = max((b - a, a) for a, b in zip(done, done[1:]))
        if gap > SENTINEL_MAX_GAP:
            out.append('no answer for %.2f s from +%.2f s' % (gap, at - start))
        if len(done) - 2 < least:
            out.append('only %d probes answered in %.1f s' % (len(done) - 2, end - start))
        return out


# --------------------------------------------------------------------------
# Test case base


class DaemonTestCase(unittest.TestCase):
    """Starts daemons and user sockets, and always tears them down; a daemon
    that was running at tearDown must exit with status 0 on SIGTERM."""

    def setUp(self):
        self.daemons = []

    def tearDown(self):
        problems = []
        for d in self.daemons:
            running = d.proc is not None and d.proc.poll() is None
            status = d.stop()
            if running and status != 0:
                problems.append('daemon %s: status %r after SIGTERM\n%s'
                                % (' '.join(d.argv), status, d.log()))
            d.cleanup()
        self.daemons = []
        if problems:
            self.fail('\n'.join(problems))

    def daemon(self, listen, *args, **kw):
        """Start privident listening on [(addr, port)] (port None: a free one)."""
        listen = [(a, p if p is not None else free_port(a)) for a, p in listen]
        d = Daemon(listen, args, **kw)
        self.daemons.append(d)
        d.start()
        return d

    def user_conn(self, user, local, remote, **kw):
        """An ESTABLISHED connection local -> remote whose local end belongs
        to user; remote is an address (a new Listener) or a Listener."""
        if isinstance(remote, Listener):
            listener = remote
        else:
            listener = Listener(remote)
            self.addCleanup(listener.close)
        c = UserSocket(user, local, listener, **kw)
        self.addCleanup(c.close)
        return c

    def user_listener(self, user, addr):
        c = UserSocket(user, addr, mode='listen')
        self.addCleanup(c.close)
        return c

    def querier(self, addr, port, source=None):
        q = Querier(addr, port, source)
        self.addCleanup(q.close)
        return q

    def sentinel(self, d, source, conn):
        """A Sentinel started against daemon d (its first listening
        address) from source, asking about conn (a user_conn of USER1);
        stopped at cleanup."""
        addr, port = d.listen[0]
        s = Sentinel(addr, port, source, conn.local_port, conn.remote_port).start()
        self.addCleanup(s.stop)
        return s

    def assertWorkersIntact(self, d, kids):
        """Daemon d still runs, its workers are the processes `kids` (the
        sorted pids of its children when it started), and its log names no
        dead or killed worker."""
        self.assertFalse(d.exited(), 'the daemon exited:\n' + d.log()[-3000:])
        now = sorted(p for p in children(d.pid) if alive(p))
        self.assertEqual(now, kids, 'a worker died and was replaced:\n' + d.log()[-3000:])
        bad = [l for l in d.log().splitlines()
               if re.search(r'exited|killed|seccomp|keep dying|stopping it', l)]
        self.assertEqual(bad, [], 'the log')

    def assertClosedSoon(self, q, within=1.5, msg=''):
        waited, data = q.wait_closed(TIMEOUT)
        self.assertIsNotNone(waited, 'connection still open after %.0f s %s' % (TIMEOUT, msg))
        self.assertLess(waited, within, 'connection closed only after %.2f s %s' % (waited, msg))
        return data
