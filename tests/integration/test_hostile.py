#!/usr/bin/python3
"""Hostile input at the daemon: over-long lines, NULs, random
binary, partial lines dripped slowly, thousands of pipelined queries,
numbers that overflow 16, 32 and 64 bits, non-ASCII digits, other protocols
(HTTP, TLS, SSH, ...), connections reset or half-closed behind their
queries.

Every reply is checked against a model of the request grammar of doc/design.md §1
(a port is 1 to 5 ASCII digits, white space is space or tab, a line ends in
LF or CR LF and is at most LINE_MAX bytes; a well-formed line with a port
out of 1..65535 gets INVALID-PORT echoing the ports and the connection
stays; anything else gets "0 , 0 : ERROR : INVALID-PORT" and the
connection closes), and on top of that every line must be RFC-shaped and a
hostile input never gets a USERID. The inputs name the ports of real
connections of USER1 (in overflowing, zero-padded and non-ASCII forms), so
that a parser fooled by any of them would answer with a USERID.

Throughout every test a sentinel client on another address asks about its
own real connection of USER1, over and over, and must get its USERID
promptly *during* the attack; the daemon's workers must never die.

Addresses: 127.0.7.1 (daemon), 127.0.7.2 (attacker), 127.0.7.3 (sentinel).
"""

import os
import random
import re
import select
import socket
import struct
import time

import identtest
from identtest import USER1, MALFORMED, Listener, connect_from, userid, error

D = '127.0.7.1'
A = '127.0.7.2'
S = '127.0.7.3'

# src/limits.h REQUEST_LINE_MAX: the longest request line, line end included.
LINE_MAX = 256

# The seed of the generated inputs; set HOSTILE_SEED to explore others.
SEED = int(os.environ.get('HOSTILE_SEED', '1413'))

RFC_ERROR = re.compile(r'\d{1,5} , \d{1,5} : ERROR : '
                       r'(INVALID-PORT|NO-USER|UNKNOWN-ERROR|HIDDEN-USER)\r\n')
RFC_USERID = re.compile(r'\d{1,5} , \d{1,5} : USERID : UNIX : %s\r\n' % re.escape(USER1))

# How long a connection the model says stays open must stay quiet once it
# has all its replies, to show that nothing more comes.
QUIET = 0.3
# Connections run at once (each batch is settled before the next starts).
BATCH = 25
# Bound on one batch of conversations.
RUN_DEADLINE = 20.0

# src/limits.h MAX_QUERIES_MAX: the largest --max-queries.
MAX_QUERIES_MAX = 100000
# Lines the network child answers itself, pipelined on one connection: the
# child once nested a call per such line and crashed after about 11,000.
PIPELINED_LOCAL = 40000
# Connections pipelining that many lines at once.
PIPELINERS = 16

# --------------------------------------------------------------------------
# The model of doc/design.md §1


_QUERY = re.compile(rb'[ \t]*([0-9]{1,5})[ \t]*,[ \t]*([0-9]{1,5})[ \t]*\r?\n')
# A prefix of a line that can still become a query.
_PREFIX = re.compile(rb'[ \t]*(?:[0-9]{1,5}(?:[ \t]*(?:,(?:[ \t]*'
                     rb'(?:[0-9]{1,5}(?:[ \t]*\r?)?)?)?)?)?)?')


def owed(data, answer, max_queries):
    """What the daemon owes `data` sent on one connection: (the reply
    lines, whether it then closes). answer(sp, cp) is the reply to a query
    with both ports in range."""
    replies = []
    rest = data
    while len(replies) < max_queries:
        nl = rest.find(b'\n')
        if nl < 0:
            if len(rest) <= LINE_MAX and _PREFIX.fullmatch(rest):
                return replies, False
            return replies + [MALFORMED], True
        line, rest = rest[:nl + 1], rest[nl + 1:]
        m = _QUERY.fullmatch(line) if len(line) <= LINE_MAX else None
        if m is None:
            return replies + [MALFORMED], True
        sp, cp = int(m.group(1)), int(m.group(2))
        if 1 <= sp <= 65535 and 1 <= cp <= 65535:
            replies.append(answer(sp, cp))
        else:
            replies.append(error(sp, cp, 'INVALID-PORT'))
    return replies, True


# --------------------------------------------------------------------------
# Conversations from the attacker


class Conv:
    """One connection from the attacker: sends its data in chunks, `gap`
    seconds apart, reads everything that comes back and notes the end of
    the stream. `hostile`: no USERID may come back, whatever the model says."""

    def __init__(self, name, data, want, closes, chunks=None, gap=0.0, hostile=True,
                 shut=False):
        self.name = name
        self.data = data
        self.want = want
        self.closes = closes
        self.chunks = list(chunks) if chunks is not None else [data]
        self.gap = gap
        self.hostile = hostile
        self.shut = shut           # half-close (SHUT_WR) once all is sent
        self.cur = b''
        self.due = 0.0
        self.got = b''
        self.ended = None
        self.last = 0.0
        self.sock = None
        self.send_error = None

    def lines(self):
        return [l.decode('latin-1') + '\n' for l in self.got.split(b'\n')[:-1]]

    def sending(self):
        return self.ended is None and (self.cur or self.chunks)

    def settled(self, now):
        if self.ended is not None:
            return True
        n = self.got.count(b'\n')
        if n > len(self.want):
            return True
        return (not self.sending() and n == len(self.want)
                and not self.closes and now - self.last >= QUIET)


def describe(data, limit=80):
    return repr(data[:limit]) + ('... (%d bytes)' % len(data) if len(data) > limit else '')


class HostileTest(identtest.DaemonTestCase):

    def setUp(self):
        super().setUp()
        # The attacker's real connections: a query naming one of them with
        # a well-formed line gets USER1; the hostile forms of these ports
        # must not.
        self.c = self.user_conn(USER1, D, A)
        self.small = self.small_port_conn()
        self.real = {(self.c.local_port, self.c.remote_port),
                     (self.small.local_port, self.small.remote_port)}
        # the sentinel's own
        self.sc = self.user_conn(USER1, D, S)

    def small_port_conn(self):
        """A connection of USER1 whose two ports have 4 digits, so that one
        leading zero still makes a legal 5-digit port and two do not."""
        rng = random.Random()
        for _ in range(50):
            lport, uport = rng.randrange(1100, 9999), rng.randrange(1100, 9999)
            try:
                listener = Listener(A, lport)
            except OSError:
                continue
            self.addCleanup(listener.close)
            try:
                return self.user_conn(USER1, D, listener, bind_port=uport)
            except RuntimeError:
                continue
        self.fail('no free pair of 4-digit ports on %s and %s' % (D, A))

    def start(self, *args):
        self.d = self.daemon([(D, None)], '--max-per-host', '1000', *args)
        self.port = self.d.listen[0][1]
        self.max_queries = 32
        if '--max-queries' in args:
            self.max_queries = int(args[args.index('--max-queries') + 1])

    def answer(self, sp, cp):
        if (sp, cp) in self.real:
            return userid(sp, cp, USER1)
        return error(sp, cp, 'NO-USER')

    def conv(self, name, data, chunks=None, gap=0.0, hostile=True, shut=False):
        want, closes = owed(data, self.answer, self.max_queries)
        if hostile:
            self.assertFalse(any('USERID' in l for l in want),
                             'test error: hostile case %s owed a USERID' % name)
        # At the end of its input the daemon answers what it has, then closes.
        return Conv(name, data, want, closes or shut, chunks, gap, hostile, shut)

    # ---- the sentinel and the workers

    def watch(self):
        return _Watch(self)

    # ---- running conversations

    def run_convs(self, convs):
        problems = []
        for i in range(0, len(convs), BATCH):
            problems += self._run_batch(convs[i:i + BATCH])
        if problems:
            wrong = len(set(name for name, _ in problems))
            self.fail('%d of %d inputs answered wrongly:\n%s'
                      % (wrong, len(convs), '\n'.join(p for _, p in problems[:12])))

    def _run_batch(self, convs):
        poller = select.poll()
        by_fd = {}
        try:
            now = time.monotonic()
            for c in convs:
                c.sock = connect_from(A, D, self.port)
                c.sock.setblocking(False)
                c.due = c.last = now
                by_fd[c.sock.fileno()] = c
                poller.register(c.sock, select.POLLIN)
            deadline = now + RUN_DEADLINE
            while True:
                now = time.monotonic()
                for c in convs:
                    self._send_some(c, now)
                if all(c.settled(now) for c in convs) or now >= deadline:
                    break
                wait = 0.05
                for c in convs:
                    if c.sending() and not c.cur:
                        wait = min(wait, max(c.due - now, 0))
                    elif c.sending():
                        wait = 0.005     # a chunk partly sent: the socket was full
                for fd, _ in poller.poll(int(wait * 1000)):
                    c = by_fd[fd]
                    self._receive(c)
                    if c.ended is not None:
                        poller.unregister(fd)
            return [p for c in convs for p in self._check(c)]
        finally:
            for c in convs:
                if c.sock is not None:
                    c.sock.close()

    @staticmethod
    def _send_some(c, now):
        if not c.sending():
            return
        if not c.cur:
            if now < c.due:
                return
            # Do not drip into a connection that has answered and may be
            # closing: the reply is read first (by the poll loop).
            r, _, _ = select.select([c.sock], [], [], 0)
            if r and c.gap:
                return
            c.cur = c.chunks.pop(0)
        try:
            n = c.sock.send(c.cur)
        except BlockingIOError:
            return
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as e:
            # The daemon has closed: what it owes is already on its way.
            c.send_error = e
            c.cur = b''
            c.chunks = []
            return
        c.cur = c.cur[n:]
        if not c.cur:
            c.due = now + c.gap
            if c.shut and not c.chunks:
                c.sock.shutdown(socket.SHUT_WR)

    @staticmethod
    def _receive(c):
        while True:
            try:
                chunk = c.sock.recv(65536)
            except BlockingIOError:
                return
            except (ConnectionResetError, ConnectionAbortedError):
                chunk = b''
            c.last = time.monotonic()
            if not chunk:
                c.ended = c.last
                return
            c.got += chunk

    def _check(self, c):
        out = []
        lines = c.lines()
        rest = c.got[c.got.rfind(b'\n') + 1:]
        head = '%s %s: ' % (c.name, describe(c.data))
        for l in lines:
            if not (RFC_ERROR.fullmatch(l) or RFC_USERID.fullmatch(l)):
                out.append(head + 'not an RFC 1413 reply: %r' % l)
            elif c.hostile and 'USERID' in l:
                out.append(head + 'a USERID for hostile input: %r' % l)
        if rest:
            out.append(head + 'a partial line: %r' % rest[:100])
        if lines != c.want:
            k = next((i for i, (a, b) in enumerate(zip(lines, c.want)) if a != b),
                     min(len(lines), len(c.want)))
            out.append(head + '%d replies, %d owed; from reply %d: %r, owed %r'
                       % (len(lines), len(c.want), k, lines[k:k + 4], c.want[k:k + 4]))
        if (c.ended is not None) != c.closes:
            out.append(head + ('closed' if c.ended is not None else 'still open')
                       + ' (owed: %s)' % ('close' if c.closes else 'stay open'))
        return [(id(c), p) for p in out]

    # ---------------------------------------------------------------- tests

    def test_overflowing_numbers(self):
        self.start()
        sp, cp = self.c.local_port, self.c.remote_port
        s4, c4 = self.small.local_port, self.small.remote_port
        big = [65536, 65537, 99999, 100000, 2**16 + sp, 2**17 + sp,
               2**31 - 1, 2**31, 2**31 + sp, 2**32 - 1, 2**32, 2**32 + 1, 2**32 + sp,
               2**32 + cp, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**64 + 1, 2**64 + sp,
               2**64 + 113, 99999999999999999999, 2**128 + sp, 10**40 + sp]
        texts = ['%d , %d\r\n' % (n, cp) for n in big]
        texts += ['%d , %d\r\n' % (sp, n) for n in big]
        texts += ['%d,%d\n' % (n, n) for n in big]
        texts += ['%d , %d\r\n' % (sp, cp + k * 2**16) for k in (1, 2**16, 2**48)]
        texts += ['%d , %d\r\n' % (sp + k * 2**16, cp) for k in (1, 2**16, 2**48)]
        # zero padding: only 1 to 5 digits make a port
        texts += ['000000000000000000113 , 113\r\n', '113 , 000000000000000000113\r\n',
                  '%s , %d\r\n' % ('0' * 16 + str(sp), cp),
                  '%d , %s\r\n' % (sp, '0' * 16 + str(cp)),
                  '%s , %d\r\n' % (str(sp).zfill(6), cp), '%d , %s\r\n' % (sp, str(cp).zfill(6)),
                  '00%d , %d\r\n' % (s4, c4), '%d , 00%d\r\n' % (s4, c4),
                  '000000 , 1\r\n', '0000000000000000000000000000000000000000 , 1\r\n',
                  '00000 , 1\r\n', '1 , 00000\r\n', '00113 , 00113\r\n', '0 , 0\r\n']
        # signs, exponents, separators inside numbers
        texts += ['-%d , %d\r\n' % (sp, cp), '+%d , %d\r\n' % (sp, cp),
                  '%d , -%d\r\n' % (sp, cp), '%de0 , %d\r\n' % (sp, cp),
                  '%d.0 , %d\r\n' % (sp, cp), '%s_%s , %d\r\n' % (str(sp)[:2], str(sp)[2:], cp),
                  '0x%x , %d\r\n' % (sp, cp), '%d , 0%o\r\n' % (sp, cp)]
        convs = [self.conv('overflow', t.encode()) for t in texts]
        # The legal forms next to them: 5 digits with a leading zero are a port.
        legal = [('0%d , 0%d\r\n' % (s4, c4)).encode(), ('%d , %d\r\n' % (sp, cp)).encode()]
        convs += [self.conv('legal', t, hostile=False) for t in legal]
        self.assertEqual(convs[-2].want, [userid(s4, c4, USER1)])
        # what the model owes, spelt out for a few
        by_text = {c.data: c for c in convs}
        self.assertEqual(by_text[b'65536 , %d\r\n' % cp].want, [error(65536, cp, 'INVALID-PORT')])
        self.assertFalse(by_text[b'65536 , %d\r\n' % cp].closes)
        for t in (b'4294967296 , %d\r\n' % cp, b'4294967297 , %d\r\n' % cp,
                  b'18446744073709551616 , %d\r\n' % cp, b'000000000000000000113 , 113\r\n',
                  b'99999999999999999999,99999999999999999999\n'):
            self.assertEqual((by_text[t].want, by_text[t].closes), ([MALFORMED], True), t)
        self.assertEqual(by_text[b'00113 , 00113\r\n'].want, [error(113, 113, 'NO-USER')])
        with self.watch():
            self.run_convs(convs)

    def test_non_ascii_digits(self):
        self.start()
        sp, cp = self.c.local_port, self.c.remote_port
        line = '%d , %d\r\n' % (sp, cp)

        def digits(zero):
            return lambda ch: chr(zero + int(ch)) if ch.isdigit() else ch

        sup = '\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079'
        scripts = {
            'fullwidth': digits(0xff10), 'arabic-indic': digits(0x0660),
            'extended-arabic-indic': digits(0x06f0), 'devanagari': digits(0x0966),
            'bengali': digits(0x09e6), 'thai': digits(0x0e50),
            'subscript': digits(0x2080), 'math-bold': digits(0x1d7ce),
            'math-monospace': digits(0x1d7f6),
            'superscript': lambda ch: sup[int(ch)] if ch.isdigit() else ch,
        }
        convs = []
        for name, f in scripts.items():
            whole = ''.join(map(f, line))
            last_sp = str(sp)[:-1] + f(str(sp)[-1])
            first_cp = f(str(cp)[0]) + str(cp)[1:]
            for text in (whole, '%s , %d\r\n' % (last_sp, cp), '%d , %s\r\n' % (sp, first_cp)):
                convs.append(self.conv(name, text.encode('utf-8')))
            convs.append(self.conv(name + ' utf-16', whole.encode('utf-16-le')))
        # Other encodings of the ASCII text and of look-alike separators
        convs += [self.conv(n, d) for n, d in (
            ('utf-16-le', line.encode('utf-16-le')),
            ('utf-16-be', line.encode('utf-16-be')),
            ('utf-16 bom', line.encode('utf-16')),
            ('utf-32', line.encode('utf-32')),
            ('utf-8 bom', b'\xef\xbb\xbf' + line.encode()),
            ('latin-1 superscripts', b'\xb9\xb9\xb3 , \xb9\xb9\xb3\r\n'),
            ('overlong digit', line.replace(str(sp)[0], '\x00', 1).encode()
             .replace(b'\x00', b'\xc0' + bytes([0x80 | ord(str(sp)[0]) & 0x3f]))),
            ('overlong comma', line.encode().replace(b',', b'\xc0\xac')),
            ('overlong LF', line.encode().replace(b'\n', b'\xc0\x8a')),
            ('overlong LF 3 bytes', line.encode().replace(b'\n', b'\xe0\x80\x8a')),
            ('fullwidth comma', line.replace(',', '\uff0c').encode()),
            ('arabic comma', line.replace(',', '\u060c').encode()),
            ('small comma', line.replace(',', '\ufe50').encode()),
            ('no-break space', line.replace(' ', '\u00a0').encode()),
            ('ideographic space', line.replace(' ', '\u3000').encode()),
            ('latin-1 no-break space', line.replace(' ', '\u00a0').encode('latin-1')),
            ('vertical tab', line.replace(' ', '\v').encode()),
            ('form feed', line.replace(' ', '\f').encode()),
            ('unicode line separator', line.replace('\r\n', '\u2028').encode()),
            ('next line', line.replace('\r\n', '\u0085').encode()),
            ('next line latin-1', line.replace('\r\n', '\u0085').encode('latin-1')),
        )]
        # Python's own int() takes these: the daemon must not.
        self.assertEqual(int(''.join(map(scripts['fullwidth'], str(sp)))), sp)
        with self.watch():
            self.run_convs(convs)

    def test_nul_bytes(self):
        self.start()
        sp, cp = self.c.local_port, self.c.remote_port
        line = b'%d , %d\r\n' % (sp, cp)
        convs = [self.conv('NUL at %d' % i, line[:i] + b'\x00' + line[i:])
                 for i in range(len(line))]
        convs += [self.conv('NUL for %d' % i, line[:i] + b'\x00' + line[i + 1:])
                  for i in range(len(line))]
        convs += [self.conv(n, d) for n, d in (
            ('one NUL', b'\x00'), ('NUL line', b'\x00\r\n'), ('NULs', b'\x00' * 5000),
            ('NUL-terminated', line[:-2] + b'\x00'),
            ('C string', b'1 , 1\r\n\x00'),
            ('NUL after a query', b'1 , 1\r\n\x00%d , %d\r\n' % (sp, cp)),
            ('NUL padding', b'\x00' * 64 + line),
        )]
        with self.watch():
            self.run_convs(convs)

    def test_over_long_lines(self):
        self.start()
        sp, cp = self.c.local_port, self.c.remote_port
        q = '%d , %d' % (sp, cp)
        pad = LINE_MAX - len(q) - 2     # bytes of white space for exactly LINE_MAX
        convs = [self.conv(n, d) for n, d in (
            ('a byte past the limit', ('%d%s , %d\r\n' % (sp, ' ' * (pad + 1), cp)).encode()),
            ('a byte past, LF', ('%s%s\n' % (q, ' ' * (pad + 2))).encode()),
            ('spaces', b' ' * 300),
            ('tabs, no line end', b'\t' * 100000),
            ('one MB of spaces', b' ' * (1 << 20)),
            ('padded query', ('%s%s\r\n' % (q, ' ' * 5000)).encode()),
            ('padded query, LF', (' ' * 300 + q + '\n').encode()),
            ('digits', b'1' * 100000),
            ('digits and line end', b'9' * 300 + b'\r\n'),
            ('letters', b'x' * 65536 + b'\n'),
            ('many short lines', b'x\n' * 50000),
            ('a long user id', ('%s : USERID : UNIX : %s\r\n' % (q, 'A' * 2000)).encode()),
        )]
        # The boundary: exactly LINE_MAX bytes is a line, one more is not.
        exact = ('%d%s , %d\r\n' % (sp, ' ' * pad, cp)).encode()
        self.assertEqual(len(exact), LINE_MAX)
        convs.append(self.conv('exactly LINE_MAX', exact, hostile=False))
        self.assertEqual(convs[-1].want, [userid(sp, cp, USER1)])
        self.assertEqual((convs[0].want, len(convs[0].data)), ([MALFORMED], LINE_MAX + 1))
        with self.watch():
            self.run_convs(convs)

    def test_other_protocols(self):
        self.start()
        sp, cp = self.c.local_port, self.c.remote_port
        q = b'%d , %d\r\n' % (sp, cp)
        convs = [self.conv(n, d) for n, d in (
            ('HTTP GET', b'GET / HTTP/1.1\r\nHost: 127.0.7.1:113\r\n'
                         b'User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n'),
            ('HTTP GET of a query', b'GET /?%d,%d HTTP/1.0\r\n\r\n' % (sp, cp)),
            ('HTTP POST', b'POST /ident HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s' % (len(q), q)),
            ('HTTP CONNECT', b'CONNECT 127.0.7.1:113 HTTP/1.1\r\n\r\n' + q),
            ('HTTP/2 preface', b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
                               b'\x00\x00\x00\x04\x00\x00\x00\x00\x00'),
            ('TLS ClientHello', tls_client_hello()),
            ('TLS after a query', b'1 , 1\r\n' + tls_client_hello()),
            ('SSLv2 hello', b'\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10' + bytes(range(37))),
            ('SSH banner', b'SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n'),
            ('SSH banner and KEXINIT', b'SSH-2.0-OpenSSH_9.6\r\n' + ssh_kexinit()),
            ('SMTP', b'EHLO attacker.example\r\nMAIL FROM:<a@b>\r\n'),
            ('IRC', b'NICK x\r\nUSER x 0 * :x\r\n' + q),
            ('PROXY v1', b'PROXY TCP4 127.0.7.2 127.0.7.1 %d %d\r\n%s' % (cp, sp, q)),
            ('PROXY v2', b'\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c' + bytes(12) + q),
            ('telnet', b'\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01' + q),
            ('DNS over TCP', b'\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00'
                             b'\x07example\x03com\x00\x00\x01\x00\x01'),
            ('an ident reply', b'%d , %d : USERID : UNIX : root\r\n' % (sp, cp)),
            ('an ident error', b'%d , %d : ERROR : NO-USER\r\n' % (sp, cp)),
            ('shell', b'$(reboot) , `id`\r\n'),
            ('format string', b'%n%n%n%s%s , %x\r\n'),
            ('CR only', q.replace(b'\r\n', b'\r') * 2),
            ('CR CR LF', q.replace(b'\r\n', b'\r\r\n')),
            ('LF CR', b'1 , 1\n\r' + q),
            ('empty line', b'\r\n' + q),
            ('three ports', b'%d , %d , 113\r\n' % (sp, cp)),
            ('colon', b'%d : %d\r\n' % (sp, cp)),
            ('semicolon', b'%d ; %d\r\n' % (sp, cp)),
            ('escape sequence', b'\x1b[2J\x1b]0;owned\x07' + q),
            ('DEL', b'\x7f' + q),
            ('0xff', b'\xff' * 10 + q),
        )]
        with self.watch():
            self.run_convs(convs)

    def test_random_binary(self):
        """Random bytes, and random strings of the grammar's own tokens and
        near misses, against the model; seeded (HOSTILE_SEED)."""
        self.start()
        rng = random.Random(SEED)
        sp, cp = self.c.local_port, self.c.remote_port
        tokens = [b'0', b'1', b'9', b'113', b'%d' % sp, b'%d' % cp, b'65535', b'65536',
                  b'99999', b'123456', b'4294967296', b' ', b'  ', b'\t', b',', b',',
                  b'\r', b'\n', b'\r\n', b'\r\n', b'\x00', b'\xff', b'\x80', b'x',
                  '\uff11'.encode(), '\u0661'.encode(), '\u00b9'.encode(), b':', b'-']
        convs = []
        for i in range(50):
            n = rng.choice((1, 2, 8, 64, 255, 256, 257, 1000, 4000))
            convs.append(self.conv('random %d' % i, bytes(rng.getrandbits(8) for _ in range(n))))
        for i in range(100):
            data = b''.join(rng.choice(tokens) for _ in range(rng.randrange(1, 30)))
            convs.append(self.conv('tokens %d' % i, data, hostile=False))
        base = b'%d , %d\r\n' % (sp, cp)
        for i in range(100):
            data = bytearray(base)
            for _ in range(rng.randrange(1, 4)):
                k = rng.randrange(len(data) + 1)
                op = rng.randrange(3)
                b = rng.choice(tokens)[:1]
                if op == 0:
                    data[k:k] = b
                elif op == 1 and k < len(data):
                    del data[k]
                elif k < len(data):
                    data[k:k + 1] = b
            convs.append(self.conv('mutant %d' % i, bytes(data) * rng.choice((1, 1, 2)),
                                   hostile=False))
        with self.watch():
            self.run_convs(convs)

    def test_partial_lines_dripped_slowly(self):
        """Many connections dripping one byte at a time at once, a legal
        line split inside its UTF-8 and CR LF, hostile ones dying at the
        exact byte that makes them so."""
        self.start()
        sp, cp = self.c.local_port, self.c.remote_port
        s4, c4 = self.small.local_port, self.small.remote_port
        cases = [
            ('over-long', b' ' * 300, 0.004),
            ('overflow', b'4294967296 , %d\r\n' % cp, 0.05),
            ('NUL', b'%d , %d\x00\r\n' % (sp, cp), 0.05),
            ('fullwidth', ('%d , %d\r\n' % (sp, cp))
             .translate({ord(d): 0xff10 + int(d) for d in '0123456789'}).encode(), 0.05),
            ('CR then no LF', b'113 , 113\r113 , 113\r\n', 0.05),
            ('HTTP', b'GET / HTTP/1.0\r\n\r\n', 0.1),
            ('bad port, then garbage', b'65536 , %d\r\nx' % cp, 0.05),
            ('queries, then TLS', b'1,1\n2 , 2\r\n' + tls_client_hello()[:40], 0.02),
            ('a legal prefix, very slowly', b'  1 ,  ', 0.4),
            ('a legal prefix and spaces', b'1' + b' ' * 60, 0.04),
        ]
        convs = [self.conv(n, d, chunks=[d[i:i + 1] for i in range(len(d))], gap=g)
                 for n, d, g in cases]
        legal = b' 0%d ,\t0%d \r\n' % (s4, c4)
        convs.append(self.conv('legal, dripped', legal,
                               chunks=[legal[i:i + 1] for i in range(len(legal))],
                               gap=0.05, hostile=False))
        self.assertEqual(convs[-1].want, [userid(s4, c4, USER1)])
        with self.watch():
            self.run_convs(convs)

    def test_abandoned_connections(self):
        """Connections reset right after their queries (the replies have
        nowhere to go) or before sending anything, and connections that
        half-close after their queries: those are answered, then closed."""
        self.start()
        sp, cp = self.c.local_port, self.c.remote_port
        with self.watch():
            for i in range(300):
                try:
                    s = connect_from(A, D, self.port)
                except OSError:
                    continue
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                    s.sendall(b'%d , %d\r\n' % (sp, cp) * (i % 3))
                except OSError:
                    pass     # refused: more than --max-per-host of them at once
                s.close()    # a reset
            # Their slots come back: the attacker's address is served again.
            deadline = time.monotonic() + 3.0
            while True:
                q = identtest.Querier(D, self.port, A)
                try:
                    if q.query(1, 1) == error(1, 1, 'NO-USER'):
                        break
                except AssertionError:
                    pass
                finally:
                    q.close()
                self.assertLess(time.monotonic(), deadline,
                                'the attacker\'s address still refused 3 s after its resets')
                time.sleep(0.1)
            real = b'%d , %d\r\n' % (sp, cp)
            self.run_convs([self.conv(n, d, hostile=False, shut=True) for n, d in (
                ('half-closed after queries', real * 3),
                ('half-closed inside a line', b'1 , 1\r\n2 , 2'),
                ('half-closed after a prefix', b'1 , 1'),
                ('half-closed at once', b''),
                ('half-closed after a bad port', b'65536 , 1\r\n'),
                ('half-closed after garbage', b'1 , 1\r\nx'),
            )])

    def test_thousands_of_pipelined_queries(self):
        """5200 queries in one write: a mix of the real connection (USERID),
        unused ports (NO-USER) and out-of-range ports (INVALID-PORT). With
        --max-queries 5000 the first 5000 are answered in order and the
        connection closes; 4000 leave it open; the default 32 answers 32."""
        self.start('--max-queries', '5000')
        sp, cp = self.c.local_port, self.c.remote_port

        def query(i):
            return [(sp, cp), (1000 + i % 50, 2000), (0, cp), (65536, 1),
                    (sp, cp + 1), (99999, 99999), (sp, cp)][i % 7]

        def queries(n):
            return b''.join(b'%d,%d\r\n' % query(i) for i in range(n))

        many = self.conv('5200 queries', queries(5200), hostile=False)
        self.assertEqual((len(many.want), many.closes), (5000, True))
        self.assertIn(userid(sp, cp, USER1), many.want)
        fewer = self.conv('4000 queries', queries(4000), hostile=False)
        self.assertEqual((len(fewer.want), fewer.closes), (4000, False))
        with self.watch():
            self.run_convs([many, fewer])

        self.start()        # the default --max-queries: 32
        many = self.conv('5000 queries', queries(5000), hostile=False)
        self.assertEqual((len(many.want), many.closes), (32, True))
        with self.watch():
            self.run_convs([many])

    def test_pipelined_local_answers_at_the_largest_max_queries(self):
        """Tens of thousands of pipelined lines the network child answers
        itself (INVALID-PORT), at the largest --max-queries: every one is
        answered, in order, the connection stays open and the network child
        is the same process afterwards. Also a mix with real queries, whose
        replies come back from the helper in between."""
        self.start('--max-queries', str(MAX_QUERIES_MAX))
        child, _ = identtest.workers(self.d)
        sp, cp = self.c.local_port, self.c.remote_port
        local = self.conv('%d x 0,0' % PIPELINED_LOCAL, b'0,0\r\n' * PIPELINED_LOCAL)
        self.assertEqual((len(local.want), local.closes), (PIPELINED_LOCAL, False))

        def line(i):
            if i % 1000 == 999:
                return b'%d , %d\r\n' % (sp, cp)
            return b'0,0\n' if i % 2 else b'65536 , 1\r\n'

        mixed = self.conv('%d mixed' % PIPELINED_LOCAL,
                          b''.join(line(i) for i in range(PIPELINED_LOCAL)), hostile=False)
        self.assertEqual(mixed.want.count(userid(sp, cp, USER1)), PIPELINED_LOCAL // 1000)
        with self.watch():
            self.run_convs([local, mixed])
        self.assertEqual(identtest.workers(self.d)[0], child,
                         'the network child was replaced:\n' + self.d.log()[-3000:])

    def test_pipelines_take_turns(self):
        """PIPELINERS connections each pipelining PIPELINED_LOCAL lines the
        child answers itself, at once, at the largest --max-queries: all are
        answered, and meanwhile the sentinel on another address is answered
        within its prompt, because no connection keeps the event loop for
        more than a few lines at a time."""
        self.start('--max-queries', str(MAX_QUERIES_MAX))
        convs = [self.conv('pipeline %d' % i, b'0,0\r\n' * PIPELINED_LOCAL)
                 for i in range(PIPELINERS)]
        t0 = time.monotonic()
        with self.watch() as w:
            self.run_convs(convs)
            took = time.monotonic() - t0
        answered = [t1 - t0 for t0, t1, r in w.sentinel.probes if r == w.sentinel.expect]
        print('\npipelines: %d connections x %d lines answered in %.2f s; the sentinel '
              'answered %d times, slowest %.1f ms'
              % (PIPELINERS, PIPELINED_LOCAL, took, len(answered), 1000 * max(answered)))


class _Watch:
    """`with self.watch():` runs a sentinel on the latest daemon for the
    duration, then fails the test unless the sentinel was answered
    throughout and the daemon's workers are the ones it started with."""

    def __init__(self, test):
        self.t = test

    def __enter__(self):
        t = self.t
        self.kids = sorted(identtest.children(t.d.pid))
        self.sentinel = t.sentinel(t.d, S, t.sc)
        time.sleep(0.2)             # answered before the attack, too
        self.start = time.monotonic()
        return self

    def __exit__(self, kind, value, tb):
        time.sleep(0.2)             # and after it
        end = time.monotonic()
        self.sentinel.stop()
        if kind is not None:
            return False
        t = self.t
        problems = self.sentinel.problems(self.start, end)
        t.assertEqual(problems, [], 'another client was not served throughout')
        t.assertWorkersIntact(t.d, self.kids)
        return False


def tls_client_hello():
    """A TLS 1.2/1.3 ClientHello record as a browser sends it (SNI included)."""
    rnd = random.Random(5)
    host = b'ident.example'
    sni = struct.pack('>HHHBH', 0, len(host) + 5, len(host) + 3, 0, len(host)) + host
    versions = struct.pack('>HHB', 43, 5, 4) + b'\x03\x04\x03\x03'
    groups = struct.pack('>HHH', 10, 4, 2) + b'\x00\x1d'
    exts = sni + versions + groups
    body = (b'\x03\x03' + bytes(rnd.getrandbits(8) for _ in range(32))
            + b'\x20' + bytes(rnd.getrandbits(8) for _ in range(32))
            + struct.pack('>H', 6) + b'\x13\x01\x13\x02\xc0\x2f'
            + b'\x01\x00' + struct.pack('>H', len(exts)) + exts)
    hs = b'\x01' + struct.pack('>I', len(body))[1:] + body
    return b'\x16\x03\x01' + struct.pack('>H', len(hs)) + hs


def ssh_kexinit():
    payload = b'\x14' + bytes(16) + b''.join(
        struct.pack('>I', len(n)) + n for n in (
            b'curve25519-sha256', b'ssh-ed25519', b'aes128-ctr', b'aes128-ctr',
            b'hmac-sha2-256', b'hmac-sha2-256', b'none', b'none', b'', b'')) + bytes(5)
    pad = 8 - (len(payload) + 5) % 8 + 8
    return struct.pack('>IB', len(payload) + pad + 1, pad) + payload + bytes(pad)


if __name__ == '__main__':
    identtest.main()
