#!/usr/bin/python3
"""The systemd units (packaging/systemd) against the real daemon.

PID 1 is not systemd where the tests run, so the units cannot be started.
Instead each test starts the daemon the way systemd would start the unit,
with the unit's sandbox re-created from the unit file itself:

- User=, Group=, AmbientCapabilities=, CapabilityBoundingSet=,
  NoNewPrivileges=: setpriv, as in test_sandbox.py's service-user start;
- SystemCallFilter= (groups expanded by `systemd-analyze syscall-filter`,
  plus @default, which systemd adds to every allow list),
  SystemCallArchitectures=native, RestrictAddressFamilies=,
  MemoryDenyWriteExecute=, RestrictNamespaces=: seccomp filters loaded by
  unitjail (unitjail.c) as systemd loads them;
- ProtectSystem=strict, ProtectHome=yes, InaccessiblePaths=, PrivateTmp=,
  PrivateDevices=, ProtectProc=invisible, ProcSubset=pid,
  ProtectKernelTunables=, ProtectControlGroups=, PrivateMounts=, UMask=: a
  mount namespace of its own, set up the same way;
- the sockets: privident.socket's listening socket as descriptor 3 with
  LISTEN_FDS; for privident-inetd@.service the accepted connection as
  standard input (StandardInput=socket) and as descriptor 3.

Every other setting of the units is listed in NOT_EMULATED with the reason,
and a test fails on a setting that is in neither list. The daemon then
serves real queries, is reloaded with the unit's own ExecReload= (run in
the same sandbox) and stopped; a run under strace checks that every system
call it makes is in the unit's filter, naming any that is not.

The build's programs are copied into the private /tmp before the file
system is locked down, so that the tests work wherever the build lives
(ProtectHome= would hide a build under /home).

Addresses: 127.0.60.1 - 127.0.60.9."""

import ctypes
import errno
import fcntl
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
import identtest  # noqa: E402
from identtest import (PRIVIDENT, SERVICE_USER, USER1, Daemon, ForkedProc,  # noqa: E402
                       Listener, error, userid)

UNITDIR = os.path.join(HERE, '..', '..', 'packaging', 'systemd')
SERVICE = os.path.join(UNITDIR, 'privident.service')
INETD = os.path.join(UNITDIR, 'privident-inetd@.service')
UNITJAIL = os.environ.get('PRIVIDENT_UNITJAIL', '')
SETPRIV = '/usr/bin/setpriv'
STRACE = '/usr/bin/strace'
# Where the units expect the daemon (ExecStart=); the tests run the build's.
INSTALLED = '/usr/sbin/privident'
# The private /tmp's copy of the programs the tests run.
STAGE = '/tmp/privident-unit-test'
# The descriptor strace writes its trace to (above the passed sockets).
TRACE_FD = 9
# Descriptors are parked at this number or above while they are moved.
FD_PARK = 100

D = '127.0.60.1'      # the daemon
Q = '127.0.60.2'      # the querier: the far end of the user's connection

# What each emulated setting is, is in the module docstring; these are
# handled as described there.
EMULATED = {
    'User', 'Group', 'AmbientCapabilities', 'CapabilityBoundingSet',
    'NoNewPrivileges', 'SystemCallFilter', 'SystemCallArchitectures',
    'RestrictAddressFamilies', 'MemoryDenyWriteExecute', 'RestrictNamespaces',
    'ProtectSystem', 'ProtectHome', 'InaccessiblePaths',
    'PrivateTmp', 'PrivateDevices', 'ProtectProc', 'ProcSubset',
    'ProtectKernelTunables', 'ProtectControlGroups', 'PrivateMounts', 'UMask',
    'ExecStart', 'ExecReload', 'StandardInput', 'StandardOutput',
    'StandardError', 'Type',
}
NOT_EMULATED = {
    'DevicePolicy': 'a cgroup setting; the private /dev holds only the '
                    'pseudo devices either way',
    'TasksMax': 'a cgroup setting; the daemon runs 7 tasks',
    'RemoveIPC': 'acts when the service stops; the daemon makes no IPC objects',
    'KeyringMode': 'the daemon uses no kernel keyring (@keyring is not allowed)',
    'ProtectKernelModules': 'its system calls are outside the allow list, '
                            'and the daemon opens nothing under /usr/lib/modules',
    'ProtectKernelLogs': 'syslog(2) is outside the allow list; the daemon '
                         'opens neither /dev/kmsg nor /proc/kmsg',
    'ProtectClock': 'the calls that set clocks are outside the allow list',
    'ProtectHostname': 'sethostname is outside the allow list',
    'RestrictRealtime': 'sched_setscheduler is outside the allow list',
    'LockPersonality': 'the daemon never calls personality()',
    'RestrictSUIDSGID': 'the daemon changes no mode and creates no file but '
                        'the empty root (mkdtemp, mode 0700)',
    'Restart': 'the service manager restarting a failed daemon',
    'CollectMode': 'how the service manager forgets an ended instance',
}
# Service settings that differ between the two services; all others (the
# sandbox) must be the same in both.
PER_UNIT = {'Type', 'ExecStart', 'ExecReload', 'Restart', 'StandardInput',
            'StandardOutput', 'StandardError'}

# mount(2), unshare(2) and their flags (linux/mount.h, sched.h).
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MNT_DETACH = 2
CLONE_NEWNS = 0x20000
LIBC = ctypes.CDLL(None, use_errno=True)

# The capabilities the units may name (linux/capability.h).
CAP_NUMBERS = {'CAP_DAC_READ_SEARCH': 2, 'CAP_SETPCAP': 8, 'CAP_SYS_CHROOT': 18}
# Pseudo devices a private /dev holds (systemd.exec, PrivateDevices=).
PSEUDO_DEVICES = ('null', 'zero', 'full', 'random', 'urandom', 'tty')
# Where ProtectHome=yes leaves nothing.
HOMES = ('/home', '/root', '/run/user')


# --------------------------------------------------------------------------
# Reading the units


def parse_unit(path):
    """{section: [(key, value), ...]} of a unit file, in file order."""
    sections, cur, pending = {}, None, ''
    with open(path) as f:
        for raw in f:
            line = (pending + raw.strip()) if pending else raw.strip()
            pending = ''
            if not line or line[0] in '#;':
                continue
            if line.endswith('\\'):
                pending = line[:-1] + ' '
                continue
            if line.startswith('['):
                cur = sections.setdefault(line.strip('[]'), [])
                continue
            key, _, value = line.partition('=')
            cur.append((key.strip(), value.strip()))
    return sections


class Unit:
    def __init__(self, path):
        self.path = path
        self.service = parse_unit(path)['Service']

    def all(self, key):
        return [v for k, v in self.service if k == key]

    def get(self, key, default=''):
        vals = self.all(key)
        return vals[-1] if vals else default

    def yes(self, key):
        return self.get(key).lower() in ('yes', 'true', 'on', '1')

    def words(self, key):
        """The words of every assignment of key; an empty one resets."""
        out = []
        for v in self.all(key):
            out = out + v.split() if v else []
        return out


def syscall_groups():
    """{'@group': [member, ...]} as this systemd defines them."""
    out = subprocess.run(['systemd-analyze', 'syscall-filter'], capture_output=True,
                         text=True, check=True, timeout=30).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith('@'):
            cur = groups.setdefault(line.strip(), [])
        elif line.startswith(' ') and cur is not None:
            word = line.strip()
            if word and not word.startswith('#'):
                cur.append(word)
        else:
            cur = None
    return groups


def expand(names, groups):
    out = set()
    for n in names:
        n = n.split(':')[0]            # an errno suffix
        if n.startswith('@'):
            out |= expand(groups[n], groups)
        else:
            out.add(n)
    return out


def allowed_calls(unit, groups):
    """The system calls SystemCallFilter= allows, applied in order as
    systemd does: the first assignment makes it an allow list (with
    @default added), then plain lists add and ~lists remove."""
    allowed = None
    for value in unit.all('SystemCallFilter'):
        if not value:
            allowed = None
            continue
        deny = value.startswith('~')
        names = expand(value.lstrip('~').split(), groups)
        if allowed is None:
            if deny:
                raise AssertionError('%s: a deny list; the tests expect an allow list'
                                     % unit.path)
            allowed = expand(['@default'], groups)
        allowed = allowed - names if deny else allowed | names
    if allowed is None:
        raise AssertionError('%s: no SystemCallFilter=' % unit.path)
    return allowed


def families(unit):
    """RestrictAddressFamilies= as address family numbers."""
    return [int(getattr(socket, name)) for name in unit.words('RestrictAddressFamilies')]


def cap_names(unit, key):
    """CAP_SYS_CHROOT -> sys_chroot, as setpriv names capabilities."""
    return [c.lower()[len('cap_'):] for c in unit.words(key)]


def cap_mask(unit, key):
    """The capabilities of key as a bit mask, as /proc/PID/status shows
    them."""
    return sum(1 << CAP_NUMBERS[c] for c in unit.words(key))


def command(unit, key, mainpid=None):
    """The argv of an Exec*= line, the installed daemon replaced by the
    staged copy of the build's."""
    words = unit.get(key).split()
    words[0] = words[0].lstrip('-@:+!')
    if words[0] == INSTALLED:
        words[0] = STAGE + '/privident'
    return [w.replace('$MAINPID', str(mainpid)) for w in words]


# --------------------------------------------------------------------------
# Re-creating the sandbox


def mount(src, target, fstype, flags, data=None):
    enc = (lambda s: s.encode() if s is not None else None)
    if LIBC.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, 'mount %s: %s' % (target, os.strerror(e)))


def mount_points():
    """[(mount point, its flags for a read-only remount)] in mount order."""
    out = []
    keep = {'nosuid': MS_NOSUID, 'nodev': MS_NODEV, 'noexec': MS_NOEXEC}
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            path = fields[4].encode().decode('unicode_escape')
            flags = 0
            for opt in fields[5].split(','):
                flags |= keep.get(opt, 0)
            out.append((path, flags))
    return out


def inaccessible(path, stage):
    """Covers path with something empty that nobody may open, as
    InaccessiblePaths= does."""
    if os.path.isdir(path):
        mount('tmpfs', path, 'tmpfs', MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              'mode=000')
    elif os.path.lexists(path):
        mount(stage + '/inaccessible', path, None, MS_BIND)


def private_dev(stage):
    """A /dev with the pseudo devices only, moved over the real one."""
    new = stage + '/dev'
    os.mkdir(new)
    mount('tmpfs', new, 'tmpfs', MS_NOSUID | MS_NOEXEC, 'mode=755')
    for name in PSEUDO_DEVICES:
        if os.path.exists('/dev/' + name):
            open(new + '/' + name, 'w').close()
            mount('/dev/' + name, new + '/' + name, None, MS_BIND)
    os.mkdir(new + '/shm', 0o1777)
    for name, target in (('fd', '/proc/self/fd'), ('stdin', '/proc/self/fd/0'),
                         ('stdout', '/proc/self/fd/1'), ('stderr', '/proc/self/fd/2')):
        os.symlink(target, new + '/' + name)
    mount(new, '/dev', None, MS_MOVE)


def enter_sandbox_mounts(unit):
    """In the started process, as root: a private mount namespace laid out
    as the unit's settings say, with the build's programs staged in the
    private /tmp."""
    if LIBC.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), 'unshare')
    mount(None, '/', None, MS_REC | MS_PRIVATE)
    before = mount_points()
    if unit.yes('PrivateTmp'):
        for tmp in ('/tmp', '/var/tmp'):
            if os.path.isdir(tmp):
                mount('tmpfs', tmp, 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777')
    os.mkdir(STAGE, 0o755)
    for prog in (PRIVIDENT, UNITJAIL):
        subprocess.run(['cp', prog, STAGE + '/'], check=True, timeout=30)
    work = tempfile.mkdtemp(dir='/tmp')
    mount('tmpfs', work, 'tmpfs', 0, 'mode=700')
    open(work + '/inaccessible', 'w').close()
    os.chmod(work + '/inaccessible', 0)
    if unit.yes('PrivateDevices'):
        private_dev(work)
    # A /proc of its own, as systemd mounts it for these two settings.
    opts = []
    if unit.get('ProtectProc', 'default') != 'default':
        opts.append('hidepid=' + unit.get('ProtectProc'))
    if unit.get('ProcSubset', 'all') != 'all':
        opts.append('subset=' + unit.get('ProcSubset'))
    if opts:
        mount('proc', '/proc', 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, ','.join(opts))
    if unit.get('ProtectHome') not in ('', 'no', 'yes'):
        raise AssertionError('ProtectHome=%s is not re-created here' % unit.get('ProtectHome'))
    hidden = [h for h in HOMES if unit.yes('ProtectHome')]
    hidden += [p.lstrip('-') for p in unit.words('InaccessiblePaths')]
    for path in hidden:
        inaccessible(path, work)
    LIBC.umount2(work.encode(), MNT_DETACH)
    os.rmdir(work)
    if unit.get('ProtectSystem') == 'strict':
        # Everything read-only but the API file systems and the private
        # /tmp; /sys too (ProtectKernelTunables=, ProtectControlGroups=).
        for path, flags in before:
            if path.startswith(('/proc', '/dev', '/tmp', '/var/tmp')) or path in hidden:
                continue
            try:
                mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
            except OSError as e:
                # Gone since it was listed: other tests' namespaces
                # (/run/netns) come and go meanwhile.
                if path == '/' or e.errno not in (errno.ENOENT, errno.EINVAL):
                    raise
    elif unit.get('ProtectSystem'):
        raise AssertionError('ProtectSystem=%s is not re-created here' % unit.get('ProtectSystem'))
    os.umask(int(unit.get('UMask', '0022'), 8))


def jailed(unit, argv, fams, jail=True, trace=False):
    """argv run as the unit runs its commands: setpriv for the identity
    and capabilities, unitjail for the seccomp filters (jail), or strace
    in their place (trace)."""
    caps = cap_names(unit, 'AmbientCapabilities')
    bound = cap_names(unit, 'CapabilityBoundingSet')
    plus = ''.join(',+' + c for c in caps)
    out = [SETPRIV, '--reuid', unit.get('User'), '--regid', unit.get('Group'),
           '--clear-groups', '--bounding-set=-all' + ''.join(',+' + c for c in bound),
           '--inh-caps=-all' + plus, '--ambient-caps=-all' + plus]
    if unit.yes('NoNewPrivileges'):
        out.append('--no-new-privs')
    out.append('--')
    if jail:
        out += [STAGE + '/unitjail', '-s', STAGE + '/calls',
                '-f', ','.join(str(f) for f in fams)]
        if unit.yes('MemoryDenyWriteExecute'):
            out.append('-w')
        if unit.yes('RestrictNamespaces'):
            out.append('-n')
        if unit.get('SystemCallArchitectures') != 'native':
            raise AssertionError('SystemCallArchitectures=%s is not re-created here'
                                 % unit.get('SystemCallArchitectures'))
        out.append('--')
    if trace:
        out = [STRACE, '-D', '-f', '-qq', '-o', '/proc/self/fd/%d' % TRACE_FD, '--'] + out
    return out + argv


def service_env(unit, nfds, pid):
    """The environment systemd gives a service's command (no inheritance
    from the test)."""
    env = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
           'LANG': 'C.UTF-8', 'USER': unit.get('User'), 'LOGNAME': unit.get('User'),
           'HOME': '/', 'SHELL': '/usr/sbin/nologin',
           # LeakSanitizer stops the world with ptrace at exit, which the
           # filter forbids; a sanitizer build is never what the unit runs.
           'ASAN_OPTIONS': 'detect_leaks=0'}
    if nfds:
        env.update(LISTEN_FDS=str(nfds), LISTEN_PID=str(pid))
    return env


class UnitRun:
    """One command line of a unit, started as systemd would start it,
    sandbox and all. calls and fams override the unit's filter and
    address families (to see that a missing one is caught)."""

    def __init__(self, unit, groups, calls=None, fams=None):
        self.unit = unit
        self.calls = allowed_calls(unit, groups) if calls is None else calls
        self.fams = families(unit) if fams is None else fams

    def start(self, argv, log_path, socks=(), stdin=None, jail=True, trace_fd=None):
        """Forks; the child sets up descriptors (socks as 3.., stdin),
        the mount namespace and the staged programs, and execs argv in
        the sandbox. Returns a ForkedProc."""
        log = os.open(log_path, os.O_WRONLY | os.O_APPEND)
        null = os.open('/dev/null', os.O_RDWR)
        fds = [s.fileno() for s in socks]
        in_fd = stdin.fileno() if stdin is not None else null
        pid = os.fork()
        if pid == 0:
            try:
                # Out of the way of the numbers they are moved to.
                high = [fcntl.fcntl(fd, fcntl.F_DUPFD, FD_PARK) for fd in fds]
                moved_in = fcntl.fcntl(in_fd, fcntl.F_DUPFD, FD_PARK)
                moved_trace = (fcntl.fcntl(trace_fd, fcntl.F_DUPFD, FD_PARK)
                               if trace_fd is not None else None)
                os.dup2(moved_in, 0)
                os.dup2(log, 1)            # StandardOutput=journal
                os.dup2(log, 2)
                for i, fd in enumerate(high):
                    os.dup2(fd, 3 + i)
                keep = set(range(3, 3 + len(fds)))
                if moved_trace is not None:
                    os.dup2(moved_trace, TRACE_FD)
                    keep.add(TRACE_FD)
                identtest._close_fds_except(keep)
                enter_sandbox_mounts(self.unit)
                with open(STAGE + '/calls', 'w') as f:
                    f.write(''.join(c + '\n' for c in sorted(self.calls)))
                os.chmod(STAGE + '/calls', 0o644)
                cmd = jailed(self.unit, argv, self.fams, jail=jail,
                             trace=trace_fd is not None)
                os.execve(cmd[0], cmd, service_env(self.unit, len(fds), os.getpid()))
            except BaseException as e:
                os.write(2, ('unit sandbox: %r\n' % e).encode())
            finally:
                os._exit(127)
        os.close(log)
        os.close(null)
        return ForkedProc(pid)


class UnitDaemon(Daemon):
    """The daemon as a unit runs it: the Daemon interface (log, stop,
    cleanup) over a UnitRun."""

    def __init__(self, run, listen=()):
        super().__init__(list(listen), argv=['(unit)'])
        self.run = run

    def start_unit(self, argv, ready=True, **kw):
        self.argv = argv
        self.proc = self.run.start(argv, self.log_path, **kw)
        if ready:
            for addr, port in self.listen:
                identtest.wait_listening(addr, port, self)
            time.sleep(0.2)
        return self

    def reload(self, unit, **kw):
        """The unit's ExecReload=, run in the same sandbox; its status."""
        cmd = command(unit, 'ExecReload', mainpid=self.pid)
        p = self.run.start(cmd, self.log_path, **kw)
        return p.wait(timeout=identtest.TIMEOUT)


def syscall_names(trace_path, commands):
    """The system calls a strace -f log shows being made, leaving out those
    of setpriv, which runs before a command (systemd does that part
    itself): a process that executes setpriv counts from its execve of
    one of commands on."""
    names, launching = set(), set()
    rx = re.compile(r'^(\d+)\s+(?:<\.\.\. ([a-z0-9_]+) resumed>|([a-z0-9_]+)\((.*))')
    with open(trace_path) as f:
        for line in f:
            m = rx.match(line)
            if not m:
                continue
            pid, name, args = m.group(1), m.group(2) or m.group(3), m.group(4) or ''
            if name == 'execve' and args.startswith('"%s"' % SETPRIV):
                launching.add(pid)
            elif name == 'execve' and pid in launching and \
                    any(args.startswith('"%s"' % c) for c in commands):
                launching.discard(pid)
            if pid not in launching:
                names.add(name)
    return names


# --------------------------------------------------------------------------
# The tests


class UnitTest(identtest.DaemonTestCase):

    @classmethod
    def setUpClass(cls):
        for prog in (SETPRIV, 'systemd-analyze', STRACE, UNITJAIL):
            if not prog or not (os.access(prog, os.X_OK) or
                                subprocess.run(['sh', '-c', 'command -v ' + prog],
                                               capture_output=True).returncode == 0):
                raise AssertionError('%s is needed and not installed' % (prog or 'unitjail'))
        cls.groups = syscall_groups()
        cls.service = Unit(SERVICE)
        cls.inetd = Unit(INETD)

    # ---- the settings themselves

    def test_every_setting_is_recreated_or_accounted_for(self):
        """A setting added to a unit must be re-created here, or listed in
        NOT_EMULATED with the reason it need not be."""
        for unit in (self.service, self.inetd):
            unknown = sorted({k for k, _ in unit.service} - EMULATED - set(NOT_EMULATED))
            self.assertEqual(unknown, [], '%s: settings these tests do not know' % unit.path)

    def test_both_services_have_the_same_sandbox(self):
        def sandbox(unit):
            return [(k, v) for k, v in unit.service if k not in PER_UNIT]
        self.assertEqual(sandbox(self.service), sandbox(self.inetd),
                         'privident.service and privident-inetd@.service differ')

    def test_the_filter_holds_what_the_monitor_needs_beyond_system_service(self):
        """The calls @system-service lacks, which the daemon makes: chroot
        (the child's empty root) and seccomp (the workers' filters)."""
        calls = allowed_calls(self.service, self.groups)
        self.assertLessEqual({'chroot', 'seccomp', 'capset', 'setuid', 'pidfd_open',
                              'close_range', 'rt_sigtimedwait', 'prctl', 'socketpair'},
                             calls)
        self.assertFalse(calls & {'ptrace', 'mount', 'setresuid', 'setgroups', 'bpf',
                                  'process_vm_readv', 'userfaultfd', 'setrlimit', 'kexec_load'},
                         'calls the daemon never makes')

    # ---- the daemon under the unit's sandbox

    def user_conn_here(self):
        return self.user_conn(USER1, D, Q)

    def start_service(self, run=None, **kw):
        """privident.service on privident.socket's socket (here: D, a free
        port)."""
        run = run or UnitRun(self.service, self.groups)
        l4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        l4.bind((D, 0))
        l4.listen(64)
        d = UnitDaemon(run, [(D, l4.getsockname()[1])])
        self.daemons.append(d)
        try:
            d.start_unit(command(self.service, 'ExecStart'), socks=[l4], **kw)
        finally:
            l4.close()
        return d

    def assertServes(self, d, c):
        q = self.querier(D, d.listen[0][1], source=Q)
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(q.query(sp, cp), userid(sp, cp, USER1), d.log())
        self.assertEqual(q.query(1, 2), error(1, 2, 'NO-USER'), d.log())
        q.close()

    def assertConfinedByTheUnit(self, pid):
        st = identtest.proc_status(pid)
        self.assertEqual(int(st['Uid'].split()[0]), identtest.uid_of(SERVICE_USER), st)
        self.assertEqual(st['NoNewPrivs'], '1', st)
        self.assertEqual(st['Seccomp'], '2', st)
        return st

    def assertMountsOfTheUnit(self, pid):
        """The process lives in the re-created file system: / read-only,
        /proc with the unit's hidepid and subset, /home hidden."""
        mounts = {}
        with open('/proc/%d/mountinfo' % pid) as f:
            for line in f:
                fields = line.split()
                mounts[fields[4]] = fields[5] + ',' + line.split(' - ')[1].split()[-1]
        self.assertIn('ro', mounts['/'].split(','), mounts)
        proc = mounts['/proc'].split(',')
        self.assertIn('hidepid=invisible', proc, mounts)
        self.assertIn('subset=pid', proc, mounts)
        if os.path.isdir('/home'):
            self.assertIn('ro', mounts['/home'].split(','), mounts)

    def assertCleanLog(self, d):
        bad = [l for l in d.log().splitlines()
               if re.search(r'killed|seccomp|exited with|cannot|could not|unit sandbox', l)]
        self.assertEqual(bad, [], d.log())

    def test_service_serves_reloads_and_stops_in_its_sandbox(self):
        """privident.service: answers, its processes carry the unit's
        filter and capabilities, ExecReload= restarts the workers, and
        SIGTERM (systemctl stop) ends it with status 0."""
        d = self.start_service()
        c = self.user_conn_here()
        self.assertServes(d, c)
        st = self.assertConfinedByTheUnit(d.pid)
        self.assertEqual(int(st['CapEff'], 16), cap_mask(self.service, 'AmbientCapabilities'),
                         st['CapEff'])
        self.assertEqual(int(st['CapBnd'], 16), cap_mask(self.service, 'CapabilityBoundingSet'),
                         st['CapBnd'])
        self.assertMountsOfTheUnit(d.pid)
        child, helper = identtest.workers(d)
        for pid in (child, helper):
            self.assertConfinedByTheUnit(pid)
        self.assertEqual(d.reload(self.service), 0, d.log())
        self.assertIsNotNone(d.wait_log('configuration reloaded'), d.log())
        identtest.workers(d, exclude={child, helper})
        self.assertServes(d, c)
        self.assertEqual(d.stop(), 0, d.log())
        self.assertCleanLog(d)

    def start_inetd(self, run=None, **kw):
        """privident-inetd@.service for one connection accepted on D, as
        privident-inetd.socket (Accept=yes) hands it over; the querier's
        end is returned with the daemon."""
        run = run or UnitRun(self.inetd, self.groups)
        sock = Listener(D)
        self.addCleanup(sock.close)
        q = self.querier(D, sock.port, source=Q)
        conn = sock.accept()
        conn.setblocking(True)
        d = UnitDaemon(run)
        self.daemons.append(d)
        self.assertEqual(self.inetd.get('StandardInput'), 'socket')
        self.assertEqual(self.inetd.get('StandardOutput'), 'journal')
        try:
            d.start_unit(command(self.inetd, 'ExecStart'), ready=False, socks=[conn],
                         stdin=conn, **kw)
        finally:
            conn.close()
        return d, q

    def test_inetd_instance_serves_in_its_sandbox(self):
        c = self.user_conn_here()
        d, q = self.start_inetd()
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(q.query(1, 2), error(1, 2, 'NO-USER'), d.log())
        self.assertEqual(q.query(sp, cp), userid(sp, cp, USER1), d.log())
        self.assertConfinedByTheUnit(d.pid)
        q.sock.shutdown(socket.SHUT_WR)
        waited, data = q.wait_closed(identtest.TIMEOUT)
        self.assertIsNotNone(waited, 'the connection stayed open after EOF')
        self.assertEqual(d.proc.wait(timeout=identtest.TIMEOUT), 0, d.log())
        self.assertCleanLog(d)

    def test_a_call_or_family_left_out_is_caught(self):
        """The re-created sandbox is enforced: without chroot in the filter
        the network child is killed, without AF_NETLINK the helper cannot
        set up, and the log says so. (What the tests above would show if
        the unit lacked what the daemon needs.)"""
        run = UnitRun(self.service, self.groups)
        run.calls = run.calls - {'chroot'}
        d = self.start_service(run, ready=False)
        self.assertIsNotNone(
            d.wait_log(r'network child .* killed by seccomp', timeout=identtest.TIMEOUT), d.log())
        d.stop()
        run = UnitRun(self.service, self.groups)
        run.fams = [f for f in run.fams if f != socket.AF_NETLINK]
        d = self.start_service(run, ready=False)
        self.assertIsNotNone(
            d.wait_log(r'lookup helper .*could not enter its sandbox', timeout=identtest.TIMEOUT),
            d.log())
        d.stop()

    def test_every_call_the_daemon_makes_is_in_the_filter(self):
        """Both services under strace (sandbox as above, but no filter, so
        nothing is stopped): serve, reload, stop. Every call made by any of
        their processes, and by ExecReload='s kill, must be in the filter;
        the message names those that are not."""
        # One file a run: two tracers writing to one file mix their lines.
        traces = [tempfile.NamedTemporaryFile(prefix='privident-unit-trace-')
                  for _ in range(3)]
        for t in traces:
            self.addCleanup(t.close)
        c = self.user_conn_here()
        d = self.start_service(jail=False, trace_fd=traces[0].fileno())
        self.assertServes(d, c)
        child, helper = identtest.workers(d)
        self.assertEqual(d.reload(self.service, jail=False, trace_fd=traces[1].fileno()), 0,
                         d.log())
        self.assertIsNotNone(d.wait_log('configuration reloaded'), d.log())
        identtest.workers(d, exclude={child, helper})
        self.assertServes(d, c)
        self.assertEqual(d.stop(), 0, d.log())
        di, q = self.start_inetd(jail=False, trace_fd=traces[2].fileno())
        sp, cp = c.local_port, c.remote_port
        self.assertEqual(q.query(sp, cp), userid(sp, cp, USER1), di.log())
        q.close()
        self.assertEqual(di.proc.wait(timeout=identtest.TIMEOUT), 0, di.log())
        time.sleep(0.2)             # strace's detached tracer writes its last lines
        commands = [STAGE + '/privident', command(self.service, 'ExecReload')[0]]
        made = set()
        for t in traces:
            made |= syscall_names(t.name, commands)
        self.assertIn('chroot', made, 'the trace holds the workers\' start')
        missing = sorted(made - allowed_calls(self.service, self.groups))
        self.assertEqual(missing, [], 'calls the daemon makes that SystemCallFilter= lacks')


if __name__ == '__main__':
    if not UNITJAIL:
        print('ERROR: PRIVIDENT_UNITJAIL is not set')
        sys.exit(1)
    identtest.main()
