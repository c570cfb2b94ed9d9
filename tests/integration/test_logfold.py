#!/usr/bin/python3
"""Logs an attacker cannot drown (doc/design.md §7): the real daemon, -f,
its standard error read back. One peer floods queries; past 20 query lines
in its second its lines are counted, and a summary line gives the count,
so that lines plus folded counts are exactly the queries answered. Another
peer's queries in the same second are all logged, and a network child that
breaks the protocol during the flood is still logged.

The protocol violation is real: the test takes a copy of the network
child's end of the socketpair (pidfd_getfd, as root) and sends the helper
a malformed message on it, as a compromised child would.

Each test prints its figures ("figure: ...") for the record.

Addresses: 127.0.41.1 (daemon), 127.0.41.2 (the flooding peer),
127.0.41.3 (another peer)."""

import ctypes
import os
import re
import socket
import time

import identtest
from identtest import error

D = '127.0.41.1'
FLOOD = '127.0.41.2'
OTHER = '127.0.41.3'

BURST = 20                   # src/lograte.h, LOGRATE_BURST
SYS_PIDFD_GETFD = 438        # x86_64 and every architecture since 5.6
SUMMARY = r'peer=%s folded=(\d+) query lines in (\d+) ms'
VIOLATION = r'network child sent a malformed message; stopping it'

libc = ctypes.CDLL(None, use_errno=True)


def figure(text):
    print('figure: ' + text, flush=True)


def pidfd_getfd(pid, fd):
    """A copy of process pid's descriptor fd."""
    pidfd = os.pidfd_open(pid)
    try:
        got = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if got < 0:
            e = ctypes.get_errno()
            raise OSError(e, 'pidfd_getfd: ' + os.strerror(e))
        return got
    finally:
        os.close(pidfd)


def seqpacket_inodes():
    """Inodes of the SOCK_SEQPACKET unix sockets (/proc/net/unix Type 0005)."""
    out = set()
    with open('/proc/net/unix') as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[4] == '0005':
                out.add(fields[6])
    return out


class LogFoldTest(identtest.DaemonTestCase):

    def violate(self, d):
        """Sends the helper a three-byte message through a copy of the
        network child's socketpair end."""
        child = identtest.sandboxed_worker(d, helper=False)
        self.assertIsNotNone(child, 'no sandboxed network child:\n' + d.log())
        inodes = seqpacket_inodes()
        ends = []
        for name in os.listdir('/proc/%d/fd' % child):
            target = os.readlink('/proc/%d/fd/%s' % (child, name))
            m = re.fullmatch(r'socket:\[(\d+)\]', target)
            if m and m.group(1) in inodes:
                ends.append(int(name))
        self.assertEqual(len(ends), 1, 'the child\'s socketpair end: %r' % ends)
        fd = pidfd_getfd(child, ends[0])
        with socket.socket(fileno=fd) as s:
            s.send(b'bad')

    def flood(self, q, n):
        """n queries about no connection, pipelined on q; all answered."""
        q.send(''.join('%d , %d\r\n' % (1000 + i, 2000 + i) for i in range(n)))
        for i in range(n):
            self.assertEqual(q.readline(), error(1000 + i, 2000 + i, 'NO-USER'))

    def counts(self, d, peer):
        """(query lines, folded counts from summaries) for peer in the log."""
        log = d.log()
        lines = len(re.findall(r'query peer=%s ' % re.escape(peer), log))
        folded = [int(m) for m, _ in re.findall(SUMMARY % re.escape(peer), log)]
        return lines, folded

    def test_flood_is_folded_and_alerts_are_not(self):
        d = self.daemon([(D, None)], '--max-queries', '1000')
        port = d.listen[0][1]
        qf = self.querier(D, port, source=FLOOD)
        qo = self.querier(D, port, source=OTHER)

        # A flood and another peer's queries in the same second.
        t0 = time.monotonic()
        self.flood(qf, 100)
        self.flood(qo, 10)
        self.flood(qf, 100)
        took = time.monotonic() - t0
        self.assertIsNotNone(d.wait_log(SUMMARY % re.escape(FLOOD), timeout=3.0),
                             d.log())
        lines, folded = self.counts(d, FLOOD)
        windows = int(took) + 1
        self.assertLessEqual(lines, BURST * windows, d.log())
        self.assertEqual(lines + sum(folded), 200, d.log())
        self.assertEqual(self.counts(d, OTHER), (10, []), d.log())
        figure('200 queries in %.2f s from one peer: %d lines, %d folded into %d '
               'summary line(s); 10 from another peer: 10 lines'
               % (took, lines, sum(folded), len(folded)))

        # A new window, over its burst, and the child breaks the protocol
        # in it: the alert is logged, and the helper, leaving with the
        # child, still says how many lines it folded.
        self.flood(qf, 50)
        self.violate(d)
        self.assertIsNotNone(d.wait_log(VIOLATION), d.log())
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            lines2, folded2 = self.counts(d, FLOOD)
            if lines2 + sum(folded2) == 250:
                break
            time.sleep(0.05)
        self.assertEqual(lines2 + sum(folded2), 250, d.log())
        self.assertLessEqual(lines2 - lines, BURST, d.log())
        figure('50 more in a new second, then a protocol violation: %d lines, '
               '%d folded (summary at the helper\'s exit), and the alert:'
               % (lines2 - lines, sum(folded2) - sum(folded)))
        for line in d.log().splitlines():
            if re.search(VIOLATION + '|folded=', line):
                figure('  ' + line)
        # The pair is restarted and serves again.
        q = identtest.Querier(D, port, source=OTHER)
        self.addCleanup(q.close)
        self.assertEqual(q.query(7, 8), error(7, 8, 'NO-USER'))


if __name__ == '__main__':
    identtest.main()
