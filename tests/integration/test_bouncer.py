#!/usr/bin/python3
"""A bouncer end to end (doc/design.md §5, §9): Debian's ZNC, with its
identfile module, connects to Debian's ngircd, which asks ident (port 113)
of ZNC's address, where privident runs with --user-files and
--user-replies. WHOIS on the IRC server must show the ident the ZNC user
was given, not the account ZNC runs under; once ZNC has put the account's
~/.oidentd.conf back, a connection the account makes itself shows the
account's own name again.

Nothing here is simulated: the real ZNC writes the real file in a real
home, the real ngircd asks the real daemon (with its sandbox) through
libident, and a raw IRC client reads the answer from WHOIS.

The bouncer account (ACCOUNT) is this file's own; its home is pointed at
a fresh 0700 directory for each run and back at NO_HOME afterwards, as
test_privacy.py does with its users. znc and ngircd are Debian packages
that CI installs (tests/run-all): when they are missing, the file fails.

Addresses: 127.0.70.1 (ngircd), 127.0.70.2 (ZNC's and the account's
outgoing connections, and privident on port 113, where ngircd asks),
127.0.70.3 (ZNC's own listener, which ZNC insists on and nobody uses),
127.0.70.4 (the IRC client that asks WHOIS)."""

import fcntl
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import traceback

import identtest
from identtest import NO_HOME, set_home

IRCD = '127.0.70.1'
BOUNCER = '127.0.70.2'
ZNC_LISTEN = '127.0.70.3'
CLIENT = '127.0.70.4'
IDENT_PORT = 113

# The account ZNC runs as. Letters and digits only: ngircd ignores an ident
# reply with any other character (a '-' included) and shows "~" and the
# USER parameter instead, which would hide what this file checks.
ACCOUNT = 'pvdbouncer'
# What the ZNC user is to be known as; not the account's name, and not
# what any client here sends in USER, so only an ident reply can show it.
ZNC_IDENT = 'zncid42'
ZNC_NICK = 'zncbnc'
WATCH_NICK = 'pvdwatch'     # the client asking WHOIS (root, CLIENT)
SELF_NICK = 'pvdself'       # the account's own connection
SELF_USER = 'selfuser'      # its USER parameter: shown "~selfuser" without ident

# The account's own file, there before ZNC starts and to be there again
# once ZNC has connected: it chooses nothing, so the account's own
# connections are answered with the account's name.
OWN_FILE = '# the bouncer account\'s own file: no reply chosen\n'

# Bound on each wait for ZNC or ngircd: ZNC connects ConnectDelay (1 s)
# after it starts, ngircd resolves and asks ident (each bounded by its own
# time-outs, ident 10 s) before it lets a client register.
DEADLINE = 20.0
# Pause between two WHOIS polls: ngircd counts each command against the
# client's flood penalty.
POLL = 0.5
# Longest IRC line read (RFC 2812: 512 with CR LF); a longer one fails.
IRC_LINE_MAX = 512
# Bound on the output kept of ngircd, ZNC and the daemon in a failure
# message.
LOG_TAIL = 4000


def output(argv):
    """argv's standard output (bounded: these are quick local commands)."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL).stdout


def program(name):
    """The path of a Debian program; a missing one is a failure (CI
    installs it), never a skip."""
    for d in ('/usr/sbin', '/usr/bin'):
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            return path
    raise RuntimeError('%s is not installed (apt-get install %s, as tests/run-all does)'
                       % (name, name))


def tail(path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        return '(%s)' % e
    return data[-LOG_TAIL:].decode('utf-8', 'replace')


def listening(addr, port):
    """Whether a socket listens on addr:port (ss: no probe connection,
    which ngircd would take for a client and ask ident about)."""
    return output(['ss', '-Htln', 'src', identtest.listen_spec(addr, port)]).strip() != ''


# --------------------------------------------------------------------------
# A raw IRC client


class IrcClient:
    """One IRC connection from `source`, line by line; answers PING."""

    def __init__(self, source, addr, port):
        self.sock = identtest.connect_from(source, addr, port, timeout=DEADLINE)
        self.buf = b''
        self.seen = []      # every line read, for failure messages

    def send(self, line):
        self.sock.sendall((line + '\r\n').encode('latin-1'))

    def readline(self, deadline):
        while b'\n' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('no IRC line in time; read so far:\n'
                                     + '\n'.join(self.seen))
            if len(self.buf) > IRC_LINE_MAX:
                raise AssertionError('IRC line too long: %r' % self.buf[:100])
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                raise AssertionError('the IRC server closed the connection:\n'
                                     + '\n'.join(self.seen))
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b'\n')
        line = line.rstrip(b'\r').decode('latin-1')
        self.seen.append(line)
        if line.startswith('PING '):
            self.send('PONG ' + line[5:])
        return line

    def numeric(self, line):
        """The command of a server line (':server 311 ...' -> '311')."""
        parts = line.split(' ')
        return parts[1] if line.startswith(':') and len(parts) > 1 else parts[0]

    def register(self, nick, user, deadline):
        self.send('NICK ' + nick)
        self.send('USER %s 0 * :privident bouncer test' % user)
        while True:
            line = self.readline(deadline)
            cmd = self.numeric(line)
            if cmd == '001':
                return
            if cmd in ('432', '433', 'ERROR'):
                raise AssertionError('registration refused: ' + line)

    def whois(self, nick, deadline):
        """The RPL_WHOISUSER (311) line about nick, or None when the server
        says there is no such nick (401) yet."""
        self.send('WHOIS ' + nick)
        found = None
        while True:
            line = self.readline(deadline)
            cmd = self.numeric(line)
            if cmd == '311' and line.split(' ')[3:4] == [nick]:
                found = line
            elif cmd == '318':          # end of WHOIS
                return found
            elif cmd == '401':          # no such nick; 318 follows
                found = None

    def close(self):
        try:
            self.send('QUIT')
        except OSError:
            pass
        self.sock.close()


def whois_user(line):
    """The user field of a 311 line: ':srv 311 me NICK USER HOST * :real'."""
    return line.split(' ')[4]


def whois_as_account(port):
    """The 311 line about the bouncer account's own connection to ngircd
    (from BOUNCER), made by a forked child that drops to ACCOUNT and
    WHOISes its own nick; the child is reaped when this returns. (Not this
    file run again as ACCOUNT: the account may not be able to read it.)"""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(r)
            signal.alarm(int(DEADLINE) + 10)    # a bound whatever hangs
            identtest.drop_to(ACCOUNT)
            deadline = time.monotonic() + DEADLINE
            c = IrcClient(BOUNCER, IRCD, port)
            c.register(SELF_NICK, SELF_USER, deadline)
            os.write(w, (c.whois(SELF_NICK, deadline) or '').encode())
            c.close()
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)        # never return into unittest
    os.close(w)
    with os.fdopen(r, 'rb') as f:
        line = f.read().decode('latin-1')   # the child's alarm bounds this
    status = identtest.reap(pid, timeout=identtest.TIMEOUT)
    if status != 0:
        raise AssertionError('the account\'s IRC client failed (status %#x): '
                             'its traceback is above' % status)
    return line


# --------------------------------------------------------------------------
# Module set-up: the programs, and one run at a time

LOCK = None     # held for the whole run: two runs would share ACCOUNT's home
NGIRCD = None
ZNC = None


def setUpModule():
    global LOCK, NGIRCD, ZNC
    NGIRCD = program('ngircd')
    ZNC = program('znc')
    # ngircd asks ident only where it was built with it. Its first line
    # lists the features: 'ngIRCd 26.1-IDENT+IPv6+...'.
    version = output([NGIRCD, '--version'])
    if not re.search(r'[-+]IDENT\b', version.split('\n')[0]):
        raise RuntimeError('ngircd is built without IDENT: %r' % version)
    LOCK = open('/tmp/privident-integration-bouncer.lock', 'w')
    fcntl.flock(LOCK, fcntl.LOCK_EX)
    identtest.ensure_home_users([ACCOUNT])


def tearDownModule():
    if LOCK:
        LOCK.close()


def account_file(path, text, mode=0o644):
    """Writes a file in ACCOUNT's home, owned by ACCOUNT."""
    with open(path, 'w') as f:
        f.write(text)
    pw = pwd.getpwnam(ACCOUNT)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)


def read_or_none(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


NGIRCD_CONF = """\
[Global]
	Name = irc.privident.test
	Info = privident bouncer test
	AdminInfo1 = privident's integration tests
	AdminInfo2 = tests/integration/test_bouncer.py
	AdminEMail = root@localhost
	Listen = {addr}
	Ports = {port}
	MotdPhrase = privident bouncer test
	PidFile = {dir}/ngircd.pid
	# The user it runs as already (it would try "nobody" otherwise).
	ServerUID = {uid}
	ServerGID = {gid}
[Limits]
	MaxConnectionsIP = 10
[Options]
	# ngircd asks ident only in its resolver, which runs only with DNS.
	DNS = yes
	Ident = yes
	PAM = no
	ConnectIPv6 = no
"""

ZNC_CONF = """\
Version = 1.8.2
ConnectDelay = 1
LoadModule = identfile
<Listener unused>
	Host = {listen}
	Port = {listen_port}
	IPv4 = true
	IPv6 = false
	SSL = false
	AllowWeb = false
</Listener>
<User bouncer>
	Pass = plain#{password}
	Nick = {nick}
	AltNick = {nick}_
	Ident = {ident}
	RealName = privident bouncer test
	<Network ngircd>
		Server = {ircd} {ircd_port}
		BindHost = {bindhost}
	</Network>
</User>
"""


class BouncerTest(identtest.DaemonTestCase):

    def setUp(self):
        """A fresh 0700 home for ACCOUNT, under a 0755 directory that also
        holds ngircd's; both go, and the home is pointed back at NO_HOME,
        whatever happens."""
        super().setUp()
        self.procs = []         # (name, Popen, log path)
        tmp = tempfile.mkdtemp(prefix='privident-it-bouncer-')
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        os.chmod(tmp, 0o755)
        self.home = os.path.join(tmp, ACCOUNT)
        os.mkdir(self.home, 0o700)
        pw = pwd.getpwnam(ACCOUNT)
        os.chown(self.home, pw.pw_uid, pw.pw_gid)
        set_home(ACCOUNT, self.home)
        self.addCleanup(set_home, ACCOUNT, NO_HOME)
        self.work = os.path.join(tmp, 'ngircd')
        os.mkdir(self.work, 0o755)

    def tearDown(self):
        for name, proc, _ in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=identtest.TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=identtest.TIMEOUT)
        self.procs = []
        super().tearDown()

    def spawn(self, name, argv, user, **kw):
        """Starts argv as user, its output in a log file in self.work."""
        log_path = os.path.join(self.work, name + '.log')
        pw = pwd.getpwnam(user)
        with open(log_path, 'ab') as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=log, user=pw.pw_uid, group=pw.pw_gid,
                                    extra_groups=[], **kw)
        self.procs.append((name, proc, log_path))
        return proc

    def logs(self):
        out = []
        for name, proc, path in self.procs:
            out.append('---- %s (status %r):\n%s' % (name, proc.poll(), tail(path)))
        for d in self.daemons:
            out.append('---- privident:\n' + d.log()[-LOG_TAIL:])
        return '\n'.join(out)

    def start_ngircd(self):
        """ngircd on IRCD:free port, in the foreground, as identtest's USER1
        (it needs no privilege: the port is high, and ident queries come
        from an ordinary socket)."""
        port = identtest.free_port(IRCD)
        user = pwd.getpwnam(identtest.USER1)
        os.chown(self.work, user.pw_uid, user.pw_gid)
        conf = os.path.join(self.work, 'ngircd.conf')
        with open(conf, 'w') as f:
            f.write(NGIRCD_CONF.format(addr=IRCD, port=port, dir=self.work,
                                      uid=user.pw_uid, gid=user.pw_gid))
        proc = self.spawn('ngircd', [NGIRCD, '--nodaemon', '--config', conf],
                          identtest.USER1)
        deadline = time.monotonic() + DEADLINE
        while not listening(IRCD, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.fail('ngircd does not listen on %s:%d\n%s'
                          % (IRCD, port, self.logs()))
            time.sleep(0.1)
        return port

    def start_znc(self, ircd_port):
        """ZNC as ACCOUNT, in the foreground, its data directory in the
        account's home, its user's network pointing at ngircd, bound to
        BOUNCER, and the identfile module at its defaults (~/.oidentd.conf,
        'global { reply "%ident%" }')."""
        datadir = os.path.join(self.home, '.znc')
        configs = os.path.join(datadir, 'configs')
        pw = pwd.getpwnam(ACCOUNT)
        for d in (datadir, configs):
            os.mkdir(d, 0o700)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        account_file(os.path.join(configs, 'znc.conf'), ZNC_CONF.format(
            listen=ZNC_LISTEN, listen_port=identtest.free_port(ZNC_LISTEN),
            password=secrets.token_hex(16), nick=ZNC_NICK, ident=ZNC_IDENT,
            ircd=IRCD, ircd_port=ircd_port, bindhost=BOUNCER), mode=0o600)
        env = {'HOME': self.home, 'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8'}
        return self.spawn('znc', [ZNC, '--foreground', '--no-color',
                                  '--datadir', datadir], ACCOUNT, env=env, cwd=self.home)

    def test_znc_ident_reaches_whois(self):
        oidentd = os.path.join(self.home, '.oidentd.conf')
        account_file(oidentd, OWN_FILE)
        d = self.daemon([(BOUNCER, IDENT_PORT)], '--user-files',
                        '--user-replies', ACCOUNT)
        ircd_port = self.start_ngircd()
        self.start_znc(ircd_port)

        # The client asking WHOIS: root, from its own address (ngircd asks
        # ident there too, and finds nothing: "~watch").
        watch = IrcClient(CLIENT, IRCD, ircd_port)
        self.addCleanup(watch.close)
        deadline = time.monotonic() + DEADLINE
        watch.register(WATCH_NICK, 'watch', deadline)
        line = None
        while line is None:
            if time.monotonic() > deadline:
                self.fail('ZNC did not register with ngircd within %.0f s\n%s'
                          % (DEADLINE, self.logs()))
            line = watch.whois(ZNC_NICK, deadline)
            if line is None:
                time.sleep(POLL)
        print('WHOIS of ZNC\'s connection: ' + line)
        self.assertEqual(whois_user(line), ZNC_IDENT,
                         'the user ZNC chose, from ZNC\'s file:\n' + self.logs())
        uid = identtest.uid_of(ACCOUNT)
        self.assertRegex(d.log(), r'query peer=%s local=%s ports=\d+,%d '
                         r'result=USERID:UNIX:%s uid=%d'
                         % (IRCD, BOUNCER, ircd_port, ZNC_IDENT, uid))

        # ZNC puts the account's own file back once it has connected.
        deadline = time.monotonic() + DEADLINE
        while read_or_none(oidentd) != OWN_FILE:
            if time.monotonic() > deadline:
                self.fail('ZNC did not restore %s: %r\n%s'
                          % (oidentd, read_or_none(oidentd), self.logs()))
            time.sleep(0.1)
        line = whois_as_account(ircd_port)
        print('WHOIS of the account\'s own connection: ' + line)
        self.assertEqual(whois_user(line), ACCOUNT,
                         'the account\'s own connection:\n' + self.logs())
        self.assertRegex(d.log(), r'query peer=%s local=%s ports=\d+,%d '
                         r'result=USERID:UNIX:%s uid=%d'
                         % (IRCD, BOUNCER, ircd_port, ACCOUNT, uid))
        for name, proc, _ in self.procs:
            self.assertIsNone(proc.poll(), '%s exited\n%s' % (name, self.logs()))
        print('privident\'s queries:\n' + '\n'.join(
            l for l in d.log().splitlines() if ' query ' in l))


if __name__ == '__main__':
    identtest.main()
