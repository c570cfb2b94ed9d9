#!/usr/bin/python3
"""Ask a daemon with Twisted's twisted.protocols.ident.IdentClient.

usage: twisted_ident.py HOST PORT SOURCE SP,CP [SP,CP ...]

All lookups go over one connection from SOURCE, queued by IdentClient.
Prints one line per lookup: "USERID <opsys> : <userid>" or "ERROR <error>".
"""

import sys

from twisted.internet import protocol, reactor
from twisted.protocols import ident

TIMEOUT = 5


class Client(ident.IdentClient):
    """IdentClient as shipped, only made to speak bytes on Python 3: Twisted
    22.x passes str to sendLine and bytes to parseResponse
    (twisted/twisted#11868). The protocol logic is IdentClient's own."""

    def sendLine(self, line):
        super().sendLine(line.encode('ascii') if isinstance(line, str) else line)

    def lineReceived(self, line):
        super().lineReceived(line.decode('latin-1'))


def main():
    host, port, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    pairs = [tuple(int(x) for x in a.split(',')) for a in sys.argv[4:]]
    results = []
    failed = []

    def connected(client):
        def ok(res):
            # IdentClient hands back (type, rest): ('USERID', 'UNIX : alice')
            results.append('%s %s' % res)

        def bad(f):
            err = f.value
            if isinstance(err, ident.IdentError):
                results.append('ERROR %s' % err.identDescription)
            else:
                results.append('FAILURE %r' % err)

        ds = []
        for sp, cp in pairs:
            ds.append(client.lookup(sp, cp).addCallbacks(ok, bad))
        from twisted.internet import defer
        defer.DeferredList(ds).addBoth(lambda _: reactor.stop())

    def no_connection(f):
        failed.append(repr(f.value))
        reactor.stop()

    creator = protocol.ClientCreator(reactor, Client)
    d = creator.connectTCP(host, port, timeout=TIMEOUT, bindAddress=(source, 0))
    d.addCallbacks(connected, no_connection)
    reactor.callLater(TIMEOUT * 2, reactor.stop)
    reactor.run()
    if failed:
        print('CONNECT-FAILED ' + failed[0])
        return 3
    for line in results:
        print(line)
    return 0 if len(results) == len(pairs) else 1


if __name__ == '__main__':
    sys.exit(main())
