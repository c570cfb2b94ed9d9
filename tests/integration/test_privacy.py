#!/usr/bin/python3
"""Privacy modes (doc/design.md §5) against the real daemon, with its real
sandbox and seccomp filters: pseudonymous tokens and privident-token, the
key file checks, reply = hidden, ~/.noident and ~/.ident (also in 0700
homes, also planted as symbolic links), hide-uid, mask-errors, and the
combinations refused at start-up.

The per-user files need homes: identtest's users have none, so this file
makes two users of its own (HOME1, HOME2) and points their home directories
at fresh 0700 directories for each run. Nothing else uses them.

Addresses: 127.0.9.1 (daemon), 127.0.9.2 (querier, far end), 127.0.9.3
(a second querier)."""

import fcntl
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import identtest
from identtest import USER1, USER2, userid, error

D = '127.0.9.1'
Q = '127.0.9.2'
Q2 = '127.0.9.3'

PRIVIDENT_TOKEN = os.environ.get('PRIVIDENT_TOKEN', '')

# Users with homes, only for this file.
HOME1 = 'privident-h1'
HOME2 = 'privident-h2'
NO_HOME = identtest.NO_HOME

TOKEN_RX = re.compile(r'^(\d+) , (\d+) : USERID : OTHER : ([a-z2-7]+)\r\n$')
BASE32 = set('abcdefghijklmnopqrstuvwxyz234567')
DAY = 86400
# --token-length when none is given: the ident length IRC servers keep.
DEFAULT_TOKEN_LENGTH = 10
# The default before it was 10: tokens of that length must still reveal.
OLD_DEFAULT_TOKEN_LENGTH = 16


def run(argv, timeout=10, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def keygen(path, *args):
    return run([PRIVIDENT_TOKEN, 'keygen'] + list(args) + [path])


def reveal(key, peer, token, *args):
    # An empty configuration file keeps a host's
    # /etc/privident/privident.conf out of the test.
    return run([PRIVIDENT_TOKEN, 'reveal', '-c', EMPTY_CONF, '--key', key,
                '--period', '7d', '--peer', peer] + list(args) + [token])


EMPTY_CONF = None
LOCK = None     # held for the whole run: see setUpModule
TMP = None      # this run's directory: keys, homes, a config file
KEY = None      # a key made by privident-token keygen
KEY2 = None     # another one


def setUpModule():
    global TMP, KEY, KEY2, EMPTY_CONF, LOCK
    if not PRIVIDENT_TOKEN or not os.access(PRIVIDENT_TOKEN, os.X_OK):
        raise RuntimeError('PRIVIDENT_TOKEN=%r is not an executable' % PRIVIDENT_TOKEN)
    # Two runs of this file at once (two build directories of one tree)
    # would point the same users' homes at different directories, and
    # usermod refuses while the other run's user processes exist: the
    # second run waits for the first.
    LOCK = open('/tmp/privident-integration-privacy.lock', 'w')
    fcntl.flock(LOCK, fcntl.LOCK_EX)
    identtest.ensure_home_users((HOME1, HOME2))
    try:
        pwd.getpwuid(NAMELESS_UID)
        raise RuntimeError('uid %d has an account' % NAMELESS_UID)
    except KeyError:
        pass
    TMP = tempfile.mkdtemp(prefix='privident-it-privacy-')
    os.chmod(TMP, 0o755)    # the homes' own 0700 is the obstacle, not this
    keys = os.path.join(TMP, 'keys')
    os.mkdir(keys, 0o700)
    KEY = os.path.join(keys, 'token.key')
    KEY2 = os.path.join(keys, 'second.key')
    for k in (KEY, KEY2):
        r = keygen(k)
        if r.returncode != 0:
            raise RuntimeError('keygen %s: %s' % (k, r.stderr))
    EMPTY_CONF = os.path.join(TMP, 'empty.conf')
    open(EMPTY_CONF, 'w').close()
    for user in (HOME1, HOME2):
        home = os.path.join(TMP, user)
        os.mkdir(home, 0o700)
        pw = pwd.getpwnam(user)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        os.chmod(home, 0o700)
        identtest.set_home(user, home)


def tearDownModule():
    for user in (HOME1, HOME2):
        try:
            identtest.set_home(user, NO_HOME)
        except Exception:
            pass
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)
    if LOCK:
        LOCK.close()


def home_of(user):
    return os.path.join(TMP, user)


class PrivacyCase(identtest.DaemonTestCase):

    def start(self, *args):
        self.d = self.daemon([(D, None)], *args)
        self.port = self.d.listen[0][1]
        return self.querier(D, self.port, source=Q)

    def ask(self, q, c):
        return q.query(c.local_port, c.remote_port)

    def logs(self):
        return '\n'.join(d.log() for d in self.daemons)

    def assertReveals(self, q, c, name):
        self.assertEqual(self.ask(q, c), userid(c.local_port, c.remote_port, name),
                         self.logs())

    def assertHidden(self, q, c, token='HIDDEN-USER'):
        self.assertEqual(self.ask(q, c), error(c.local_port, c.remote_port, token),
                         self.logs())

    def assertCleanLog(self, d=None):
        """No forbidden system call, no home that could not be read, no
        worker restarted; and both workers run under their seccomp filters
        (the daemon's default, which this file never turns off)."""
        d = d or self.d
        log = d.log()
        self.assertNotRegex(log, r'forbidden system call|cannot tell whether|'
                                 r'restart', log)
        workers = identtest.children(d.pid)
        self.assertEqual(len(workers), 2, log)
        for pid in workers:
            self.assertEqual(identtest.proc_status(pid).get('Seccomp'), '2',
                             'worker %d has no seccomp filter' % pid)

    def refused(self, *args):
        """Start the daemon with args; it must exit 2 at once with one line
        on standard error. Returns that line."""
        argv = [identtest.PRIVIDENT, '-f', '-u', identtest.SERVICE_USER,
                '-l', identtest.listen_spec(D, identtest.free_port(D))] + list(args)
        r = run(argv)
        self.assertEqual(r.returncode, 2, 'argv %s: status %d, stderr %r'
                         % (argv, r.returncode, r.stderr))
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, 'not one line: %r' % r.stderr)
        self.assertEqual(r.stdout, '')
        return lines[0]


# --------------------------------------------------------------------------
# reply = token, and privident-token


class TokenTest(PrivacyCase):

    def token_of(self, q, c):
        line = self.ask(q, c)
        self.assertIsNotNone(line, 'closed without a reply')
        m = TOKEN_RX.match(line)
        self.assertIsNotNone(m, 'not a token reply: %r' % line)
        self.assertEqual((int(m.group(1)), int(m.group(2))),
                         (c.local_port, c.remote_port))
        return m.group(3)

    def start_token(self, *args):
        return self.start('--reply', 'token', '--token-key', KEY,
                          '--token-period', '7d', *args)

    def assertNotRevealing(self, tok, user):
        uid = str(identtest.uid_of(user))
        self.assertNotIn(uid, tok)
        self.assertNotIn(user, tok)
        for part in re.split(r'[^a-z0-9]+', user):
            if len(part) >= 3:
                self.assertNotIn(part, tok)

    def test_token_reply(self):
        q = self.start_token()
        c1 = self.user_conn(USER1, D, Q)
        c1b = self.user_conn(USER1, D, Q)
        c2 = self.user_conn(USER2, D, Q)
        t1 = self.token_of(q, c1)
        self.assertEqual(len(t1), DEFAULT_TOKEN_LENGTH)
        self.assertLessEqual(set(t1), BASE32)
        self.assertNotRevealing(t1, USER1)
        # same user, same querier, same period: the same token, also on a
        # new query connection
        self.assertEqual(self.token_of(q, c1b), t1)
        qb = self.querier(D, self.port, source=Q)
        self.assertEqual(self.token_of(qb, c1), t1)
        # another user
        t2 = self.token_of(q, c2)
        self.assertNotEqual(t2, t1)
        self.assertNotRevealing(t2, USER2)
        # another querier: the user's connection to it, asked from there
        c1q2 = self.user_conn(USER1, D, Q2)
        q2 = self.querier(D, self.port, source=Q2)
        t1q2 = self.token_of(q2, c1q2)
        self.assertNotEqual(t1q2, t1)
        self.assertNotRevealing(t1q2, USER1)
        # the policy still comes first: no owner, root
        sp, cp = identtest.free_port(D), identtest.free_port(Q)
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'NO-USER'))
        self.assertIn('result=USERID:OTHER:%s' % t1, self.d.log())
        self.assertCleanLog()

        # reveal: the running daemon's token, back to the account
        r = reveal(KEY, Q, t1)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertRegex(lines[0], r'^%s uid=%d period=\S+\.\.\S+$'
                         % (re.escape(USER1), identtest.uid_of(USER1)))
        r = reveal(KEY, Q, t2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'^%s uid=%d ' % (re.escape(USER2),
                                                     identtest.uid_of(USER2)))
        r = reveal(KEY, Q2, t1q2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'^%s uid=%d ' % (re.escape(USER1),
                                                     identtest.uid_of(USER1)))
        # upper case as a report may quote it
        r = reveal(KEY, Q, t1.upper())
        self.assertEqual(r.returncode, 0, r.stderr)
        # the v4-mapped form of the querier is the same querier
        r = reveal(KEY, '::ffff:' + Q, t1)
        self.assertEqual(r.returncode, 0, r.stderr)
        # another key, another peer, a month earlier: nothing
        for key, peer, extra in ((KEY2, Q, ()), (KEY, Q2, ()),
                                 (KEY, '::1', ()),
                                 (KEY, Q, ('--time', str(int(time.time()) - 30 * DAY)))):
            r = reveal(key, peer, t1, *extra)
            self.assertEqual(r.returncode, 1, 'key %s peer %s %s: %r %r'
                             % (key, peer, extra, r.stdout, r.stderr))
            self.assertEqual(r.stdout, '')
        # a time within the period either side still finds it
        r = reveal(KEY, Q, t1, '--time', str(int(time.time()) + 7 * DAY))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_token_lengths(self):
        q = self.start_token()
        c = self.user_conn(USER1, D, Q)
        tdef = self.token_of(q, c)
        self.assertEqual(len(tdef), DEFAULT_TOKEN_LENGTH)
        r = reveal(KEY, Q, tdef)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'^%s uid=%d ' % (re.escape(USER1),
                                                     identtest.uid_of(USER1)))
        told = None
        for n in (8, OLD_DEFAULT_TOKEN_LENGTH, 26):
            d = self.daemon([(D, None)], '--reply', 'token', '--token-key', KEY,
                            '--token-period', '7d', '--token-length', str(n))
            qn = self.querier(D, d.listen[0][1], source=Q)
            tok = self.token_of(qn, c)
            self.assertEqual(len(tok), n)
            self.assertLessEqual(set(tok), BASE32)
            self.assertNotRevealing(tok, USER1)
            # a prefix of one hash: the same pseudonym at any length
            m = min(n, len(tdef))
            self.assertEqual(tok[:m], tdef[:m])
            r = reveal(KEY, Q, tok)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r'^%s uid=%d ' % (re.escape(USER1),
                                                         identtest.uid_of(USER1)))
            r = reveal(KEY2, Q, tok)
            self.assertEqual(r.returncode, 1, r.stdout)
            if n == OLD_DEFAULT_TOKEN_LENGTH:
                told = tok
        # reveal takes the length from the token, not from the configuration:
        # a token made under the old default, with a file that says 10
        conf = os.path.join(TMP, 'length.conf')
        with open(conf, 'w') as f:
            f.write('token-key = %s\ntoken-period = 7d\ntoken-length = %d\n'
                    % (KEY, DEFAULT_TOKEN_LENGTH))
        self.addCleanup(os.unlink, conf)
        r = run([PRIVIDENT_TOKEN, 'reveal', '-c', conf, '--peer', Q, told])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'^%s uid=%d ' % (re.escape(USER1),
                                                     identtest.uid_of(USER1)))

    def test_token_from_config_file(self):
        conf = os.path.join(TMP, 'token.conf')
        with open(conf, 'w') as f:
            f.write('reply = token\ntoken-key = %s\ntoken-period = 7d\n'
                    'token-length = 12\n' % KEY)
        self.addCleanup(os.unlink, conf)
        q = self.start('-c', conf)
        c = self.user_conn(USER2, D, Q)
        tok = self.token_of(q, c)
        self.assertEqual(len(tok), 12)
        r = run([PRIVIDENT_TOKEN, 'reveal', '-c', conf, '--peer', Q, tok])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'^%s uid=%d ' % (re.escape(USER2),
                                                     identtest.uid_of(USER2)))

    def test_token_other_key_other_token(self):
        q = self.start_token()
        c = self.user_conn(USER1, D, Q)
        t1 = self.token_of(q, c)
        d = self.daemon([(D, None)], '--reply', 'token', '--token-key', KEY2,
                        '--token-period', '7d')
        tok = self.token_of(self.querier(D, d.listen[0][1], source=Q), c)
        self.assertNotEqual(tok, t1)
        self.assertEqual(reveal(KEY, Q, tok).returncode, 1)
        self.assertEqual(reveal(KEY2, Q, tok).returncode, 0)


    def test_token_v4_mapped_listener(self):
        """A daemon on a v4-mapped IPv6 address sees the IPv4 querier as
        ::ffff:a.b.c.d; the token must be the IPv4 querier's all the same,
        which is what reveal --peer a.b.c.d looks for."""
        q = self.start_token()
        c = self.user_conn(USER1, D, Q)
        t1 = self.token_of(q, c)
        d = self.daemon([('::ffff:' + D, None)], '--reply', 'token',
                        '--token-key', KEY, '--token-period', '7d')
        qm = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(self.token_of(qm, c), t1)
        self.assertCleanLog(d)

    def test_token_ipv6(self):
        a6 = '::1'
        q4 = self.start_token()
        c4 = self.user_conn(USER1, D, Q)
        t4 = self.token_of(q4, c4)
        d = self.daemon([(a6, None)], '--reply', 'token', '--token-key', KEY,
                        '--token-period', '7d')
        q = self.querier(a6, d.listen[0][1], source=a6)
        c = self.user_conn(USER1, a6, a6)
        c2 = self.user_conn(USER2, a6, a6)
        t = self.token_of(q, c)
        self.assertEqual(self.token_of(q, c), t)
        self.assertNotEqual(t, t4)
        self.assertNotEqual(self.token_of(q, c2), t)
        r = reveal(KEY, a6, t)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'^%s uid=%d ' % (re.escape(USER1),
                                                     identtest.uid_of(USER1)))
        self.assertEqual(reveal(KEY, Q, t).returncode, 1)
        self.assertCleanLog(d)

    def test_reload_key(self):
        """SIGHUP re-reads the key named in the file; a key the checks
        refuse keeps the old configuration (and the old key) running."""
        conf = os.path.join(TMP, 'reload.conf')
        self.addCleanup(os.unlink, conf)

        def write(key):
            with open(conf, 'w') as f:
                f.write('reply = token\ntoken-key = %s\n' % key)

        def token_now():
            q = self.querier(D, self.port, source=Q)
            return self.token_of(q, c)

        write(KEY)
        self.start('-c', conf)
        c = self.user_conn(USER1, D, Q)
        t1 = token_now()
        bad = os.path.join(TMP, 'keys', 'reload-bad.key')
        with open(bad, 'wb') as f:
            f.write(os.urandom(32))
        os.chmod(bad, 0o644)
        self.addCleanup(os.unlink, bad)
        write(bad)
        self.d.proc.send_signal(signal.SIGHUP)
        line = self.d.wait_log(r'configuration not reloaded', identtest.TIMEOUT)
        self.assertIsNotNone(line, self.d.log())
        self.assertIn(bad, line)
        self.assertEqual(token_now(), t1)
        write(KEY2)
        self.d.proc.send_signal(signal.SIGHUP)
        self.assertIsNotNone(self.d.wait_log(r'configuration reloaded', identtest.TIMEOUT),
                             self.d.log())
        deadline = time.monotonic() + identtest.TIMEOUT
        while True:
            try:
                t2 = token_now()
            except (AssertionError, OSError):
                t2 = None   # the workers are restarting
            if t2 is not None and t2 != t1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertIsNotNone(t2)
        self.assertNotEqual(t2, t1)
        self.assertEqual(reveal(KEY2, Q, t2).returncode, 0)
        self.assertEqual(reveal(KEY, Q, t2).returncode, 1)


    def test_uid_without_account(self):
        """A token stands for a uid, account or not: reveal finds one the
        name service does not list only through --uid-range, and 100,000
        uids take well under a second or two."""
        uid = NAMELESS_UID
        q = self.start_token()
        listener = identtest.Listener(Q)
        self.addCleanup(listener.close)
        c = RawUidConn(uid, D, listener)
        self.addCleanup(c.close)
        tok = self.token_of(q, c)
        self.assertNotIn(str(uid), tok)
        self.assertEqual(reveal(KEY, Q, tok).returncode, 1)
        start = time.monotonic()
        r = reveal(KEY, Q, tok, '--uid-range', '%d-%d' % (uid - 50000, uid + 49999))
        took = time.monotonic() - start
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split()[:2], ['-', 'uid=%d' % uid])
        self.assertLess(took, 10.0)
        self.assertEqual(reveal(KEY2, Q, tok, '--uid-range', '%d-%d' % (uid, uid)).returncode, 1)
        # the other modes: no name is an error, never a number posing as one
        d = self.daemon([(D, None)])
        qu = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(self.ask(qu, c), error(c.local_port, c.remote_port, 'UNKNOWN-ERROR'))
        d = self.daemon([(D, None)], '--reply', 'uid')
        qu = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(self.ask(qu, c), userid(c.local_port, c.remote_port, str(uid), 'OTHER'))
        d = self.daemon([(D, None)], '--hide-uid', '%d-%d' % (uid - 1, uid + 1))
        qu = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(self.ask(qu, c), error(c.local_port, c.remote_port, 'HIDDEN-USER'))

    def test_token_periods(self):
        """--token-period never and 1d: reveal finds the token only with the
        daemon's period."""
        c = self.user_conn(USER1, D, Q)
        q = self.start_token()
        t7 = self.token_of(q, c)
        toks = {}
        for period in ('never', '1d'):
            d = self.daemon([(D, None)], '--reply', 'token', '--token-key', KEY,
                            '--token-period', period)
            toks[period] = self.token_of(self.querier(D, d.listen[0][1], source=Q), c)
        self.assertEqual(len({t7, toks['never'], toks['1d']}), 3, toks)
        for period, tok in toks.items():
            r = run([PRIVIDENT_TOKEN, 'reveal', '-c', EMPTY_CONF, '--key', KEY,
                     '--period', period, '--peer', Q, tok])
            self.assertEqual(r.returncode, 0, (period, r.stderr))
            self.assertTrue(r.stdout.startswith('%s uid=%d ' % (USER1, identtest.uid_of(USER1))),
                            r.stdout)
            self.assertEqual(reveal(KEY, Q, tok).returncode, 1, period)  # 7d
        # never: any time at all
        r = run([PRIVIDENT_TOKEN, 'reveal', '-c', EMPTY_CONF, '--key', KEY,
                 '--period', 'never', '--peer', Q, '--time', '2001-01-01', toks['never']])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('period=never', r.stdout)
        # 1d: yesterday and tomorrow are either side, a week ago is not
        now = int(time.time())
        for when, found in ((now - DAY, 0), (now + DAY, 0), (now - 7 * DAY, 1)):
            r = run([PRIVIDENT_TOKEN, 'reveal', '-c', EMPTY_CONF, '--key', KEY,
                     '--period', '1d', '--peer', Q, '--time', str(when), toks['1d']])
            self.assertEqual(r.returncode, found, (when, r.stdout, r.stderr))

    def test_key_only_where_needed(self):
        """The key is in locked, never-dumped memory in the monitor and the
        helper, and not in the network child at all."""
        self.start_token()
        child, helper = None, None
        deadline = time.monotonic() + identtest.TIMEOUT
        while time.monotonic() < deadline:
            kids = [p for p in identtest.children(self.d.pid) if identtest.alive(p)]
            if len(kids) == 2 and all(identtest.proc_status(p).get('Seccomp') == '2'
                                      for p in kids):
                roots = {p: os.readlink('/proc/%d/root' % p) for p in kids}
                child = [p for p in kids if roots[p] != '/']
                helper = [p for p in kids if roots[p] == '/']
                if len(child) == 1 and len(helper) == 1:
                    child, helper = child[0], helper[0]
                    break
            time.sleep(0.02)
        self.assertIsInstance(child, int, self.d.log())
        locked = not sanitized(self.d.pid)
        for pid in (self.d.pid, helper):
            pages = key_pages(pid)
            self.assertEqual(len(pages), 1, pages)
            if locked:
                self.assertTrue(pages[0][1], 'key page of %d not locked' % pid)
        self.assertEqual(key_pages(child), [])
        self.assertEqual(identtest.proc_status(child)['VmLck'], '0 kB')
        # and in user mode, there is no key anywhere
        d = self.daemon([(D, None)])
        self.assertEqual(key_pages(d.pid), [])


# A uid no account has (checked in setUpModule).
NAMELESS_UID = 4242420


class RawUidConn:
    """A connection from addr to listener owned by a bare uid, which need
    not have an account (identtest's UserSocket needs a name)."""

    def __init__(self, uid, addr, listener):
        r, w = os.pipe()
        ctl_r, self._ctl = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(r)
                os.close(self._ctl)
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                s = identtest.connect_from(addr, listener.addr, listener.port)
                os.write(w, b'%d\n' % s.getsockname()[1])
                os.read(ctl_r, 1)   # until the test closes its end
            finally:
                os._exit(0)
        os.close(w)
        os.close(ctl_r)
        with os.fdopen(r, 'rb') as f:
            line = f.readline()
        if not line:
            self.close()
            raise RuntimeError('uid %d could not connect' % uid)
        self.local_port = int(line)
        self.remote_port = listener.port
        self.peer = listener.accept()

    def close(self):
        if self.peer is not None:
            self.peer.close()
            self.peer = None
        if self._ctl is not None:
            os.close(self._ctl)
            self._ctl = None
            identtest.reap(self.pid)


def key_pages(pid):
    """The mappings of pid that look like sodium_malloc's read-only key
    page: excluded from core dumps, not writable, not the kernel's [vvar].
    Each comes with whether it is locked."""
    out, start = [], None
    with open('/proc/%d/smaps' % pid) as f:
        for line in f:
            if re.match(r'^[0-9a-f]+-[0-9a-f]+ ', line):
                start = line.split()[0]
            elif line.startswith('VmFlags:'):
                flags = line.split()[1:]
                if 'dd' in flags and 'wr' not in flags and 'io' not in flags:
                    out.append((start, 'lo' in flags))
    return out


def sanitized(pid):
    """AddressSanitizer makes mlock a no-op: nothing is locked there."""
    with open('/proc/%d/maps' % pid) as f:
        return 'libasan' in f.read()


class KeyFileTest(PrivacyCase):

    def key_copy(self, name, data=None, mode=0o600, owner=0):
        path = os.path.join(TMP, 'keys', name)
        with open(KEY, 'rb') as f:
            key = f.read()
        with open(path, 'wb') as f:
            f.write(key if data is None else data)
        os.chown(path, owner, 0)
        os.chmod(path, mode)
        self.addCleanup(os.unlink, path)
        return path

    def assertKeyRefused(self, path, why):
        line = self.refused('--reply', 'token', '--token-key', path)
        self.assertIn(path, line)
        self.assertRegex(line, why)

    def test_good_key_copy_works(self):
        path = self.key_copy('copy.key')
        q = self.start('--reply', 'token', '--token-key', path)
        c = self.user_conn(USER1, D, Q)
        self.assertRegex(self.ask(q, c), TOKEN_RX)

    def test_missing(self):
        self.assertKeyRefused(os.path.join(TMP, 'keys', 'absent.key'),
                              r'No such file|keygen')

    def test_wrong_owner(self):
        path = self.key_copy('user1.key', owner=identtest.uid_of(USER1))
        self.assertKeyRefused(path, r'owned by uid %d' % identtest.uid_of(USER1))

    def test_group_readable(self):
        self.assertKeyRefused(self.key_copy('group.key', mode=0o640), r'0640')
        self.assertKeyRefused(self.key_copy('world.key', mode=0o604), r'0604')

    def test_empty(self):
        self.assertKeyRefused(self.key_copy('empty.key', data=b''), r'empty')

    def test_short(self):
        self.assertKeyRefused(self.key_copy('short.key', data=os.urandom(16)),
                              r'16 bytes')
        self.assertKeyRefused(self.key_copy('long.key', data=os.urandom(33)),
                              r'33 bytes')

    def test_not_a_file(self):
        d = os.path.join(TMP, 'keys', 'dir.key')
        os.mkdir(d, 0o700)
        self.addCleanup(os.rmdir, d)
        self.assertKeyRefused(d, r'not a regular file|directory')
        fifo = os.path.join(TMP, 'keys', 'fifo.key')
        os.mkfifo(fifo, 0o600)
        self.addCleanup(os.unlink, fifo)
        self.assertKeyRefused(fifo, r'not a regular file')   # and no hang

    def test_reveal_refuses_bad_key(self):
        path = self.key_copy('group2.key', mode=0o640)
        r = reveal(path, Q, 'aaaaaaaa')
        self.assertEqual(r.returncode, 2)
        self.assertIn(path, r.stderr)

    def test_keygen(self):
        d = os.path.join(TMP, 'keygen')
        os.mkdir(d, 0o700)
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, 'k')
        # 0600 whatever the umask
        r = run([PRIVIDENT_TOKEN, 'keygen', path], preexec_fn=lambda: os.umask(0))
        self.assertEqual(r.returncode, 0, r.stderr)
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_uid, 0)
        self.assertEqual(st.st_size, 32)
        with open(path, 'rb') as f:
            first = f.read()
        # an existing file is kept without --force
        r = keygen(path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(path, r.stderr)
        self.assertIn('--force', r.stderr)
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), first)
        # --force replaces it, still 0600
        os.chmod(path, 0o644)
        r = run([PRIVIDENT_TOKEN, 'keygen', '--force', path],
                preexec_fn=lambda: os.umask(0))
        self.assertEqual(r.returncode, 0, r.stderr)
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_size, 32)
        with open(path, 'rb') as f:
            self.assertNotEqual(f.read(), first)
        self.assertEqual(sorted(os.listdir(d)), ['k'])  # no temporary left
        # a symbolic link at the path is not followed
        target = os.path.join(d, 'target')
        link = os.path.join(d, 'link')
        os.symlink(target, link)
        r = keygen(link)
        self.assertEqual(r.returncode, 2)
        self.assertFalse(os.path.exists(target))


# --------------------------------------------------------------------------
# hidden, hide-uid, mask-errors


class HidingTest(PrivacyCase):

    def root_conn(self, remote=Q):
        listener = identtest.Listener(remote)
        self.addCleanup(listener.close)
        s = identtest.connect_from(D, remote, listener.port)
        self.addCleanup(s.close)
        peer = listener.accept()
        self.addCleanup(peer.close)
        return s.getsockname()[1], listener.port

    def test_reply_hidden(self):
        q = self.start('--reply', 'hidden')
        c1 = self.user_conn(USER1, D, Q)
        c2 = self.user_conn(USER2, D, Q)
        self.assertHidden(q, c1)
        self.assertHidden(q, c2)
        sp, cp = identtest.free_port(D), identtest.free_port(Q)
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'NO-USER'))
        sp, cp = self.root_conn()
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'HIDDEN-USER'))

    def test_hide_uid(self):
        uid1 = identtest.uid_of(USER1)
        q = self.start('--hide-uid', str(uid1))
        c1 = self.user_conn(USER1, D, Q)
        c2 = self.user_conn(USER2, D, Q)
        self.assertHidden(q, c1)
        self.assertReveals(q, c2, USER2)
        # root stays hidden when the list no longer holds 0
        sp, cp = self.root_conn()
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'HIDDEN-USER'))

    def test_hide_uid_ranges(self):
        uid1, uid2 = identtest.uid_of(USER1), identtest.uid_of(USER2)
        lo, hi = min(uid1, uid2), max(uid1, uid2)
        c1 = self.user_conn(USER1, D, Q)
        c2 = self.user_conn(USER2, D, Q)
        # a range holding both
        q = self.start('--hide-uid', '%d-%d' % (lo, hi))
        self.assertHidden(q, c1)
        self.assertHidden(q, c2)
        # ranges beside them, and one holding only one of them
        only2 = '%d-%d' % (uid2, uid2 + (1 if uid2 + 1 != uid1 else 0))
        d = self.daemon([(D, None)], '--hide-uid', '%d-%d' % (hi + 1, hi + 100),
                        '--hide-uid', '1-%d' % (lo - 1), '--hide-uid', only2)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertReveals(q, c1, USER1)
        self.assertHidden(q, c2)
        d = self.daemon([(D, None)], '--hide-uid', '%d-%d' % (hi + 1, hi + 100),
                        '--hide-uid', '1-%d' % (lo - 1))
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertReveals(q, c1, USER1)
        self.assertReveals(q, c2, USER2)
        # hide-uid applies whatever the mode
        d = self.daemon([(D, None)], '--hide-uid', str(uid1), '--reply', 'uid')
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertHidden(q, c1)
        self.assertEqual(self.ask(q, c2), userid(c2.local_port, c2.remote_port,
                                                 str(uid2), 'OTHER'))
        d = self.daemon([(D, None)], '--hide-uid', str(uid1), '--reply', 'token',
                        '--token-key', KEY)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertHidden(q, c1)
        self.assertRegex(self.ask(q, c2), TOKEN_RX)
        # malformed ranges
        for bad in ('%d-%d' % (hi, lo) if hi != lo else '5-4', 'x', '-1', '1-'):
            line = self.refused('--hide-uid', bad)
            self.assertIn('hide-uid', line)

    def test_mask_errors(self):
        uid1 = identtest.uid_of(USER1)
        c1 = self.user_conn(USER1, D, Q)
        c2 = self.user_conn(USER2, D, Q)
        free = identtest.free_port(D), identtest.free_port(Q)
        # without: every error is itself (RFC 1413)
        q = self.start('--hide-uid', str(uid1))
        self.assertHidden(q, c1)
        self.assertEqual(q.query(*free), error(free[0], free[1], 'NO-USER'))
        self.assertEqual(q.query(0, 5), error(0, 5, 'INVALID-PORT'))
        self.assertEqual(q.query(70000, 5), error(70000, 5, 'INVALID-PORT'))
        self.assertReveals(q, c2, USER2)
        # with: all of them UNKNOWN-ERROR; a user id is still a user id
        d = self.daemon([(D, None)], '--hide-uid', str(uid1), '--mask-errors')
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertHidden(q, c1, 'UNKNOWN-ERROR')
        self.assertEqual(q.query(*free), error(free[0], free[1], 'UNKNOWN-ERROR'))
        self.assertEqual(q.query(0, 5), error(0, 5, 'UNKNOWN-ERROR'))
        self.assertEqual(q.query(70000, 5), error(70000, 5, 'UNKNOWN-ERROR'))
        sp, cp = self.root_conn()
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'UNKNOWN-ERROR'))
        self.assertReveals(q, c2, USER2)
        # the log keeps what was masked
        self.assertIsNotNone(d.wait_log(r'result=UNKNOWN-ERROR masked=HIDDEN-USER'),
                             d.log())
        self.assertIsNotNone(d.wait_log(r'result=UNKNOWN-ERROR masked=NO-USER'),
                             d.log())
        self.assertIsNotNone(d.wait_log(r'result=UNKNOWN-ERROR masked=INVALID-PORT'),
                             d.log())
        # reply = hidden too
        d = self.daemon([(D, None)], '--reply', 'hidden', '--mask-errors')
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertHidden(q, c2, 'UNKNOWN-ERROR')


# --------------------------------------------------------------------------
# ~/.noident and ~/.ident


class HomeFileTest(PrivacyCase):
    """The helper runs under its real seccomp filter with CAP_DAC_READ_SEARCH
    only: the homes are 0700 and owned by their users."""

    def setUp(self):
        super().setUp()
        for user in (HOME1, HOME2):
            home = home_of(user)
            for name in os.listdir(home):
                p = os.path.join(home, name)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.unlink(p)
            st = os.stat(home)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
            self.assertEqual(st.st_uid, identtest.uid_of(user))

    def put(self, user, name, owner=None, link=None):
        """Make ~user/name as user (a regular file, or a symbolic link)."""
        path = os.path.join(home_of(user), name)
        if link is not None:
            os.symlink(link, path)
        else:
            open(path, 'w').close()
        pw = pwd.getpwnam(owner or user)
        os.lchown(path, pw.pw_uid, pw.pw_gid)
        return path

    def conns(self):
        return self.user_conn(HOME1, D, Q), self.user_conn(HOME2, D, Q)

    def test_noident(self):
        self.put(HOME1, '.noident')
        q = self.start('--noident')
        c1, c2 = self.conns()
        self.assertHidden(q, c1)
        self.assertReveals(q, c2, HOME2)
        # a user without a home at all is revealed
        c = self.user_conn(USER1, D, Q)
        self.assertReveals(q, c, USER1)
        # the choice takes effect at once, both ways
        os.unlink(os.path.join(home_of(HOME1), '.noident'))
        self.put(HOME2, '.noident')
        self.assertReveals(q, c1, HOME1)
        self.assertHidden(q, c2)
        # with other modes
        d = self.daemon([(D, None)], '--noident', '--reply', 'uid')
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertEqual(self.ask(q, c1), userid(c1.local_port, c1.remote_port,
                                                 str(identtest.uid_of(HOME1)), 'OTHER'))
        self.assertHidden(q, c2)
        d = self.daemon([(D, None)], '--noident', '--reply', 'token',
                        '--token-key', KEY)
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertRegex(self.ask(q, c1), TOKEN_RX)
        self.assertHidden(q, c2)
        self.assertCleanLog()

    def test_closed_homes(self):
        """Homes of mode 0000 under a parent only root may enter: the
        helper's one capability still reads them, and nothing else."""
        os.chmod(TMP, 0o700)
        self.addCleanup(os.chmod, TMP, 0o755)
        for user in (HOME1, HOME2):
            os.chmod(home_of(user), 0)
            self.addCleanup(os.chmod, home_of(user), 0o700)
        self.put(HOME1, '.noident')
        q = self.start('--noident')
        c1, c2 = self.conns()
        self.assertHidden(q, c1)
        self.assertReveals(q, c2, HOME2)
        self.put(HOME2, '.ident')
        d = self.daemon([(D, None)], '--opt-in')
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertHidden(q, c1)
        self.assertReveals(q, c2, HOME2)
        self.assertCleanLog()
        self.assertCleanLog(d)

    def test_noident_off_ignores_the_file(self):
        self.put(HOME1, '.noident')
        q = self.start()
        c1, c2 = self.conns()
        self.assertReveals(q, c1, HOME1)

    def test_noident_symlink_tells_nothing(self):
        """policy_file_counts: a .noident entry counts whatever it is, a
        symbolic link included, and is never followed, so the answer is the
        same wherever the link points: it cannot probe for other files."""
        secret = self.put(HOME2, 'secret')
        q = self.start('--noident')
        c1, c2 = self.conns()
        for target in (secret,                                    # exists, 0700 dir
                       os.path.join(home_of(HOME2), 'absent'),    # does not
                       '/etc/shadow', '/nonexistent/x', home_of(HOME2),
                       '.noident'):                               # a loop
            link = self.put(HOME1, '.noident', link=target)
            self.assertHidden(q, c1)
            os.unlink(link)
            self.assertReveals(q, c1, HOME1)
        self.assertReveals(q, c2, HOME2)
        # a directory, or a file the user does not own, also hides
        os.mkdir(os.path.join(home_of(HOME1), '.noident'))
        self.assertHidden(q, c1)
        os.rmdir(os.path.join(home_of(HOME1), '.noident'))
        self.put(HOME1, '.noident', owner='root')
        self.assertHidden(q, c1)
        self.assertCleanLog()

    def test_opt_in(self):
        self.put(HOME1, '.ident')
        q = self.start('--opt-in')
        c1, c2 = self.conns()
        self.assertReveals(q, c1, HOME1)
        self.assertHidden(q, c2)
        # no home at all: not opted in
        c = self.user_conn(USER1, D, Q)
        self.assertHidden(q, c)
        # a .noident means nothing here
        self.put(HOME2, '.noident')
        self.assertHidden(q, c2)
        # at once
        self.put(HOME2, '.ident')
        self.assertReveals(q, c2, HOME2)
        os.unlink(os.path.join(home_of(HOME1), '.ident'))
        self.assertHidden(q, c1)
        # no owner is still NO-USER
        sp, cp = identtest.free_port(D), identtest.free_port(Q)
        self.assertEqual(q.query(sp, cp), error(sp, cp, 'NO-USER'))
        self.assertCleanLog()

    def test_opt_in_symlink_reveals_no_one(self):
        """Only a regular file the user owns opts in: an .ident link to
        another user's .ident (or anything else) proves nothing, and the
        answer does not depend on where it points."""
        other = self.put(HOME2, '.ident')
        q = self.start('--opt-in')
        c1, c2 = self.conns()
        self.assertReveals(q, c2, HOME2)
        for target in (other, os.path.join(home_of(HOME2), 'absent'),
                       '/etc/passwd', home_of(HOME1), '.ident'):
            link = self.put(HOME1, '.ident', link=target)
            self.assertHidden(q, c1)
            os.unlink(link)
        # a file someone else owns, a directory: not the user's choice
        self.put(HOME1, '.ident', owner=HOME2)
        self.assertHidden(q, c1)
        os.unlink(os.path.join(home_of(HOME1), '.ident'))
        os.mkdir(os.path.join(home_of(HOME1), '.ident'))
        self.assertHidden(q, c1)
        os.rmdir(os.path.join(home_of(HOME1), '.ident'))
        self.put(HOME1, '.ident')
        self.assertReveals(q, c1, HOME1)
        self.assertCleanLog()

    def test_home_symlink_to_other_home(self):
        """A home that is a link to someone else's directory is not the
        user's home: another user's .ident does not opt them in."""
        self.put(HOME2, '.ident')
        link = os.path.join(TMP, 'linked-home')
        os.symlink(home_of(HOME2), link)
        self.addCleanup(os.unlink, link)
        identtest.set_home(HOME1, link)
        self.addCleanup(identtest.set_home, HOME1, home_of(HOME1))
        q = self.start('--opt-in')
        c1, c2 = self.conns()
        self.assertHidden(q, c1)
        self.assertReveals(q, c2, HOME2)
        # a link to the user's own home is followed (homes may be moved)
        os.unlink(link)
        os.symlink(home_of(HOME1), link)
        self.put(HOME1, '.ident')
        d = self.daemon([(D, None)], '--opt-in')
        q = self.querier(D, d.listen[0][1], source=Q)
        self.assertReveals(q, c1, HOME1)

    def test_mask_errors_with_noident(self):
        self.put(HOME1, '.noident')
        q = self.start('--noident', '--mask-errors')
        c1, c2 = self.conns()
        self.assertHidden(q, c1, 'UNKNOWN-ERROR')
        self.assertReveals(q, c2, HOME2)


# --------------------------------------------------------------------------
# combinations refused at start-up


class RefusalTest(PrivacyCase):

    def test_refused_combinations(self):
        cases = [
            (('--reply', 'token', '--token-key', os.path.join(TMP, 'nokey')),
             r'nokey'),
            (('--reply', 'token', '--token-key', 'relative.key'), r'token-key'),
            (('--reply', 'fixed:x', '--noident'), r'noident.*fixed'),
            (('--reply', 'fixed:x', '--opt-in'), r'opt-in.*fixed'),
            (('--reply', 'fixed:x', '--hide-uid', '1000'), r'hide-uid.*fixed'),
            (('--reply', 'hidden', '--noident'), r'noident.*hidden'),
            (('--noident', '--opt-in'), r'noident.*opt-in'),
            (('--reply', 'token', '--token-key', KEY, '--token-length', '7'),
             r'token-length'),
            (('--reply', 'token', '--token-key', KEY, '--token-length', '27'),
             r'token-length'),
            (('--reply', 'token', '--token-key', KEY, '--token-period', '30m'),
             r'token-period'),
            (('--reply', 'token', '--token-key', KEY, '--token-period', '367d'),
             r'token-period'),
            (('--reply', 'pseudonym'), r'pseudonym'),
        ]
        for args, why in cases:
            line = self.refused(*args)
            self.assertRegex(line, why, args)

    def test_refused_in_config_file(self):
        conf = os.path.join(TMP, 'bad.conf')
        self.addCleanup(os.unlink, conf)
        for text, why in (('reply = fixed:x\nnoident = yes\n', r'noident.*fixed'),
                          ('reply = token\ntoken-key = %s\n' % os.path.join(TMP, 'nokey'),
                           r'nokey'),
                          ('token-length = 5\n', r'token-length'),
                          ('mask-errors = maybe\n', r'mask-errors')):
            with open(conf, 'w') as f:
                f.write(text)
            line = self.refused('-c', conf)
            self.assertRegex(line, why, text)


if __name__ == '__main__':
    identtest.main()
