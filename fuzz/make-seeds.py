#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (the files named
seed-*). The binary ones (ipc, netlink, ctnl) are built here from the structures'
layouts on x86-64 (little-endian), so that they can be read and changed;
reproducers of fixed bugs live beside them under other names (crash-*,
bug-*) and are not touched. Run from anywhere: fuzz/make-seeds.py"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus')

AF_INET, AF_INET6 = 2, 10
OPSYS_MAX, USERID_MAX = 64, 512       # src/limits.h
REPLY_MAX = 32 + OPSYS_MAX + USERID_MAX + 8
FWD_TIMEOUT_MS_MAX, FWD_FAILURE_LAST = 10000, 7   # src/ipc.h


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8')
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)


# ---- request: header byte n % 8, n split lengths, then the stream --------

def request(name, body, splits=()):
    write('request', name, bytes([len(splits)]) + bytes(splits) + body)


def requests():
    request('rfc-example', b'6191, 23\r\n')
    request('rfc-example-lf', b'6193, 23\n')
    request('no-space', b'6195,23\r\n')
    request('tabs', b'\t 1 \t,\t 65535 \t\r\n')
    request('pipelined', b'1,2\r\n3 , 4\n65535,65535\r\n', splits=(3, 1, 7))
    request('byte-at-a-time', b'6193 , 23\r\n113,1130\n', splits=(1,))
    request('empty-feeds', b'22,33\r\n', splits=(0, 2, 0, 1))
    request('bad-port-zero', b'0 , 0\r\n1,2\r\n')
    request('bad-port-big', b'65536,99999\r\n')
    request('six-digits', b'123456,1\r\n')
    request('leading-zeros', b'00001,00002\r\n')
    request('cr-cr', b'1,2\r\r\n')
    request('cr-space', b'1,2\r \n')
    request('nul', b'1,\x002\r\n')
    request('empty-line', b'\r\n')
    request('long-line', b' ' * 300 + b'1,2\r\n', splits=(255, 1, 1))
    request('limit-exact', b' ' * 247 + b'1,2\r\n' + b'3,4\n')
    request('unfinished', b'1,2\r\n33 ,  ', splits=(2,))
    request('http', b'GET / HTTP/1.0\r\n\r\n')
    request('fullwidth-digits', '\uff11,\uff12\r\n'.encode())


# ---- ipc: the messages, as the structs in src/ipc.h ----------------------

def query(t=0x51525931, conn=0, gen=0, sp=6193, cp=23):
    return struct.pack('<IIIHH', t, conn, gen, sp, cp)


def event(t=0x45564e31, kind=1, count=1, family=AF_INET, pad=0,
          addr=b'\x7f\0\0\1', ports=(0, 0), nr=0):
    return struct.pack('<IIIHH16sIII', t, kind, count, family, pad,
                       addr.ljust(16, b'\0'), *ports, nr)


def reply(line, t=0x52504c31, conn=0, gen=0, length=None):
    if length is None:
        length = len(line)
    return struct.pack('<IIII', t, conn, gen, length) + line.ljust(REPLY_MAX, b'\0')


V4_INNER, V4_QUERIER = b'\x0a\0\0\x05', b'\xc0\0\x02\x07'
V6_INNER = bytes.fromhex('20010db8') + b'\0' * 11 + b'\x09'


def ct_ask(t=0x43544131, id=41, family=AF_INET, lport=4711, rport=6667, pad=0,
           local=b'\xcb\0\x71\x01', remote=V4_QUERIER):
    return struct.pack('<IIHHHH16s16s', t, id, family, lport, rport, pad,
                       local.ljust(16, b'\0'), remote.ljust(16, b'\0'))


def ct_answer(result=1, t=0x43544e31, id=41, err=0, family=AF_INET, port=40000,
              inner=V4_INNER):
    return struct.pack('<IIIIHH16s', t, id, result, err, family, port,
                       inner.ljust(16, b'\0'))


def fwd_ask(t=0x46574131, id=9, family=AF_INET, port=113, inner_port=40000,
            server_port=6667, addr=V4_INNER, timeout_ms=3000):
    return struct.pack('<IIHHHH16sI', t, id, family, port, inner_port,
                       server_port, addr.ljust(16, b'\0'), timeout_ms)


def fwd_answer(failure=0, is_userid=1, sp=40000, cp=6667, opsys=b'', charset=b'',
               userid=b'', error=b'', t=0x46574e31, id=9):
    return struct.pack('<IIIIHH65s65s513s65s', t, id, failure, is_userid, sp, cp,
                       opsys, charset, userid, error)


def ipcs_forwarding():
    write('ipc', 'ct-ask', ct_ask())
    write('ipc', 'ct-ask-v6', ct_ask(family=AF_INET6, local=V6_INNER,
                                     remote=b'\xff' * 16, lport=1, rport=65535))
    write('ipc', 'ct-ask-v4-tail', ct_ask(local=b'\x0a\0\0\x05\x01'))
    write('ipc', 'ct-ask-pad', ct_ask(pad=1))
    write('ipc', 'ct-ask-port-0', ct_ask(rport=0))
    write('ipc', 'ct-answer-found', ct_answer())
    write('ipc', 'ct-answer-found-v6', ct_answer(family=AF_INET6, inner=V6_INNER,
                                                 port=65535))
    write('ipc', 'ct-answer-not-found', ct_answer(2, family=0, port=0, inner=b''))
    write('ipc', 'ct-answer-mismatch', ct_answer(3, family=0, port=0, inner=b''))
    write('ipc', 'ct-answer-error', ct_answer(4, err=1, family=0, port=0, inner=b''))
    write('ipc', 'ct-answer-errno-max', ct_answer(4, err=4095, family=0, port=0,
                                                  inner=b''))
    write('ipc', 'ct-answer-errno-over', ct_answer(4, err=4096, family=0, port=0,
                                                   inner=b''))
    write('ipc', 'ct-answer-not-found-addr', ct_answer(2, family=0, port=0))
    write('ipc', 'fwd-ask', fwd_ask())
    write('ipc', 'fwd-ask-v6', fwd_ask(family=AF_INET6, addr=V6_INNER, port=65535,
                                       timeout_ms=FWD_TIMEOUT_MS_MAX))
    write('ipc', 'fwd-ask-timeout-over', fwd_ask(timeout_ms=FWD_TIMEOUT_MS_MAX + 1))
    write('ipc', 'fwd-ask-v4-tail', fwd_ask(addr=V4_INNER + b'\0' * 11 + b'\1'))
    write('ipc', 'fwd-answer-userid', fwd_answer(opsys=b'UNIX', charset=b'UTF-8',
                                                 userid=b'alice'))
    write('ipc', 'fwd-answer-userid-max', fwd_answer(opsys=b'O' * OPSYS_MAX,
                                                     userid=b'u' * USERID_MAX))
    write('ipc', 'fwd-answer-error', fwd_answer(is_userid=0, error=b'NO-USER'))
    write('ipc', 'fwd-answer-failed', fwd_answer(failure=2, is_userid=0, sp=0, cp=0))
    write('ipc', 'fwd-answer-failure-over', fwd_answer(failure=FWD_FAILURE_LAST + 1,
                                                       is_userid=0, sp=0, cp=0))
    write('ipc', 'fwd-answer-unterminated', fwd_answer(opsys=b'UNIX',
                                                       userid=b'u' * (USERID_MAX + 1)))
    write('ipc', 'fwd-answer-after-nul', fwd_answer(opsys=b'UNIX\0X', userid=b'a'))


def ipcs():
    write('ipc', 'query', query())
    write('ipc', 'query-port-0', query(sp=0))
    write('ipc', 'query-short', query()[:-1])
    write('ipc', 'query-long', query() + b'\0')
    write('ipc', 'event-invalid', event())
    write('ipc', 'event-bad-port-v6', event(kind=6, family=AF_INET6,
                                             addr=b'\0' * 15 + b'\1', ports=(0, 99999)))
    write('ipc', 'event-seccomp', event(kind=7, family=0, addr=b'', nr=41))
    write('ipc', 'event-kind-end', event(kind=10))
    write('ipc', 'event-pad', event(pad=1))
    write('ipc', 'reply-userid', reply(b'6193 , 23 : USERID : UNIX : alice\r\n'))
    write('ipc', 'reply-error', reply(b'6195 , 23 : ERROR : NO-USER\r\n'))
    write('ipc', 'reply-utf8', reply('1 , 2 : USERID : UNIX,UTF-8 : j\u00fcrgen\r\n'.encode()))
    write('ipc', 'reply-no-crlf', reply(b'1 , 2 : ERROR : NO-USER'))
    write('ipc', 'reply-len-max', reply(b'x' * (REPLY_MAX - 3) + b'\r\n'))
    write('ipc', 'reply-len-over', reply(b'x\r\n', length=REPLY_MAX))
    write('ipc', 'reply-inner-lf', reply(b'1 , 2 :\n ERROR : X\r\n'))


# ---- netlink: flags, seq, [tuple], reply ----------------------------------

NLMSG_ERROR, SOCK_DIAG_BY_FAMILY = 2, 20
TCP_ESTABLISHED, TCP_TIME_WAIT, TCP_LISTEN, TCP_CLOSE = 1, 6, 10, 7
TCP_CLOSE_WAIT = 8
FROM_INPUT, SEQ_FROM_REPLY, FAMILY6, SCOPED, DUMP = 1, 2, 4, 8, 16
NLMSG_DONE, NLM_F_MULTI = 3, 2


def nlmsg(mtype, seq, body, flags=0):
    return struct.pack('<IHHII', 16 + len(body), mtype, flags, seq, 0) + body


def diag(family, state, sport, dport, src, dst, uid, inode, attrs=b'', ifindex=0):
    ident = struct.pack('>HH', sport, dport) + src.ljust(16, b'\0') + \
        dst.ljust(16, b'\0') + struct.pack('<III', ifindex, 0xffffffff, 0xffffffff)
    body = struct.pack('<BBBB', family, state, 0, 0) + ident + \
        struct.pack('<IIIII', 0, 0, 0, uid, inode)
    return body + attrs


def mapped(a4):
    return b'\0' * 10 + b'\xff\xff' + a4


def nl(name, flags, seq, msg, tuple_bytes=b''):
    write('netlink', name, bytes([flags]) + struct.pack('<I', seq) + tuple_bytes + msg)


def netlinks():
    lo, peer = b'\x7f\0\0\1', b'\x7f\0\0\3'
    six = b'\0' * 15 + b'\1'
    est = diag(AF_INET, TCP_ESTABLISHED, 6193, 23, lo, peer, 1000, 4242)
    nl('v4-established', SEQ_FROM_REPLY, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 7, est))
    nl('v4-wrong-seq', 0, 8, nlmsg(SOCK_DIAG_BY_FAMILY, 7, est))
    nl('v4-mapped', SEQ_FROM_REPLY, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 9, diag(
        AF_INET6, TCP_ESTABLISHED, 113, 40000, mapped(lo), mapped(peer), 1001, 77)))
    nl('v6-established', SEQ_FROM_REPLY | FAMILY6, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 3, diag(
        AF_INET6, TCP_ESTABLISHED, 22, 50000, six, six, 0, 5)))
    nl('time-wait', SEQ_FROM_REPLY, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 1, diag(
        AF_INET, TCP_TIME_WAIT, 1, 2, lo, peer, 0, 0)))
    nl('listen', SEQ_FROM_REPLY, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 1, diag(
        AF_INET, TCP_LISTEN, 113, 0, lo, b'', 0, 1)))
    nl('no-inode', SEQ_FROM_REPLY, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 1, diag(
        AF_INET, TCP_ESTABLISHED, 1, 2, lo, peer, 1000, 0)))
    attrs = struct.pack('<HH', 5, 1) + b'\x01\0\0\0' + struct.pack('<HH', 8, 2) + b'abcd'
    nl('attributes', SEQ_FROM_REPLY, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 2, diag(
        AF_INET, TCP_ESTABLISHED, 1, 2, lo, peer, 1000, 9, attrs)))
    bad_attr = struct.pack('<HH', 64, 1) + b'xxxx'
    nl('attribute-too-long', SEQ_FROM_REPLY, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 2, diag(
        AF_INET, TCP_ESTABLISHED, 1, 2, lo, peer, 1000, 9, bad_attr)))
    nl('enoent', 0, 5, nlmsg(NLMSG_ERROR, 5, struct.pack('<i', -2) + b'\0' * 16))
    nl('eperm', 0, 5, nlmsg(NLMSG_ERROR, 5, struct.pack('<i', -1) + b'\0' * 16))
    nl('truncated', SEQ_FROM_REPLY, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 4, est)[:40])
    tup = bytes([0]) + lo.ljust(16, b'\0') + peer.ljust(16, b'\0') + struct.pack('>HH', 6193, 23)
    nl('explicit-tuple', FROM_INPUT, 11, nlmsg(SOCK_DIAG_BY_FAMILY, 11, est), tup)
    tup_other = bytes([0]) + lo.ljust(16, b'\0') + b'\x7f\0\0\2'.ljust(16, b'\0') + \
        struct.pack('>HH', 6193, 23)
    nl('other-peer', FROM_INPUT, 11, nlmsg(SOCK_DIAG_BY_FAMILY, 11, est), tup_other)
    ll1, ll2 = b'\xfe\x80' + b'\0' * 13 + b'\1', b'\xfe\x80' + b'\0' * 13 + b'\2'
    ll = diag(AF_INET6, TCP_ESTABLISHED, 6193, 23, ll1, ll2, 1000, 4242, ifindex=3)
    nl('link-local', SEQ_FROM_REPLY | FAMILY6 | SCOPED, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 6, ll))
    tup_ll = bytes([1]) + ll1 + ll2 + struct.pack('>HH', 6193, 23)
    nl('link-local-other-link', FROM_INPUT | SCOPED, 12, nlmsg(SOCK_DIAG_BY_FAMILY, 12, ll),
       tup_ll + struct.pack('<I', 4))
    # Datagrams of a proxied lookup's dump: sockets on one local end and
    # port pair, any remote address, then NLMSG_DONE.
    done = nlmsg(NLMSG_DONE, 7, b'\0' * 4, NLM_F_MULTI)
    other = diag(AF_INET, TCP_ESTABLISHED, 6193, 23, lo, b'\xc6\x33\x64\x07', 1000, 99)
    rival = diag(AF_INET, TCP_ESTABLISHED, 6193, 23, lo, b'\xc6\x33\x64\x08', 1001, 98)
    multi = lambda m: nlmsg(SOCK_DIAG_BY_FAMILY, 7, m, NLM_F_MULTI)
    nl('dump-one', DUMP | SEQ_FROM_REPLY, 0, multi(est) + done)
    nl('dump-same-owner', DUMP | SEQ_FROM_REPLY, 0, multi(est) + multi(other) + done)
    nl('dump-two-owners', DUMP | SEQ_FROM_REPLY, 0, multi(est) + multi(rival) + done)
    nl('dump-more', DUMP | SEQ_FROM_REPLY, 0, multi(est) + multi(other))
    nl('dump-empty', DUMP | SEQ_FROM_REPLY, 0, done)
    nl('dump-error', DUMP | SEQ_FROM_REPLY, 0,
       nlmsg(NLMSG_ERROR, 7, struct.pack('<i', -16) + b'\0' * 16))
    nl('dump-mapped', DUMP | SEQ_FROM_REPLY, 0, nlmsg(SOCK_DIAG_BY_FAMILY, 9, diag(
        AF_INET6, TCP_CLOSE_WAIT, 113, 40000, mapped(lo), mapped(peer), 1001, 77),
        NLM_F_MULTI) + nlmsg(NLMSG_DONE, 9, b'\0' * 4, NLM_F_MULTI))
    nl('dump-link-local', DUMP | SEQ_FROM_REPLY | FAMILY6 | SCOPED, 0,
       nlmsg(SOCK_DIAG_BY_FAMILY, 6, ll, NLM_F_MULTI) + nlmsg(NLMSG_DONE, 6, b'\0' * 4))


# ---- ctnl: flags, seq, port id, [tuple], reply (conntrack) ---------------

CT_FROM_INPUT, CT_SEQ_FROM_REPLY, CT_PID_FROM_REPLY, CT_FAMILY6 = 1, 2, 4, 8
CT_FROM_REPLY = CT_SEQ_FROM_REPLY | CT_PID_FROM_REPLY
CT_NEW, CT_GET = 0x0100, 0x0101
NLA_F_NESTED = 0x8000
CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, CTA_STATUS, CTA_ZONE = 1, 2, 3, 18
CTA_TUPLE_IP, CTA_TUPLE_PROTO, CTA_TUPLE_ZONE = 1, 2, 3

# Datagrams the real kernel (Linux 6.18) sent ctprobe in
# tests/integration/test_conntrack.py; the same bytes as in
# tests/unit/ctnl_test.c.
REAL = {    'found4-entry': bytes.fromhex(
        'd40000000001020001000000451c000002000000340001801400018008000100'
        'c612010208000200c61202021c000280050001000600000006000200a0aa0000'
        '060003001a0b0000340002801400018008000100c612020208000200c6120201'
        '1c0002800500010006000000060002001a0b000006000300505c000008000300'
        '0000019e080008000000000008000c00c3e5796c08000b000000000208000700'
        '0006977f300004802c0001800500010003000000050002000a00000005000300'
        '0a00000006000400230000000600050023000000'),
    'found4-ack': bytes.fromhex(
        '240000000200000101000000451c000000000000480000000101050001000000'
        '00000000'),
    'enoent4-error': bytes.fromhex(
        '5c0000000200000001000000461c0000feffffff480000000101050001000000'
        '0000000002000000340002801400018008000100c612020208000200c6120201'
        '1c0002800500010006000000060002001a0c000006000300505c0000'),
    'found6-entry': bytes.fromhex(
        '040100000001020001000000481c00000a0000004c0001802c00018014000300'
        'fd00141300000000000000000000000214000400fd0014140000000000000000'
        '000000021c000280050001000600000006000200a0aa0000060003001a0b0000'
        '4c0002802c00018014000300fd00141400000000000000000000000214000400'
        'fd0014140000000000000000000000011c000280050001000600000006000200'
        '1a0b00000600030050010000080003000000019e080008000000000008000c00'
        '287fdbd108000b0000000002080007000006977f300004802c00018005000100'
        '03000000050002000a000000050003000a000000060004002300000006000500'
        '23000000'),
    'mismatch4-entry': bytes.fromhex(
        'd40000000001020001000000421c000002000000340001801400018008000100'
        'c612020208000200c61202011c000280050001000600000006000200c16e0000'
        '060003001b580000340002801400018008000100c612020108000200c6120202'
        '1c0002800500010006000000060002001b58000006000300c16e000008000300'
        '0000018e080008000000000008000c0084ae43ce08000b000000000208000700'
        '0006977f300004802c0001800500010003000000050002000a00000005000300'
        '0a00000006000400230000000600050023000000'),
}


def nla(t, payload):
    n = 4 + len(payload)
    return struct.pack('<HH', n, t) + payload + b'\0' * (-n % 4)


def ct_tuple(t, family, src, sport, dst, dport, proto=6, extra=b''):
    s = 1 if family == AF_INET else 3
    ip = nla(CTA_TUPLE_IP | NLA_F_NESTED, nla(s, src) + nla(s + 1, dst))
    pr = nla(CTA_TUPLE_PROTO | NLA_F_NESTED, nla(1, bytes([proto])) +
             nla(2, struct.pack('>H', sport)) + nla(3, struct.pack('>H', dport)))
    return nla(t | NLA_F_NESTED, ip + pr + extra)


def ct_entry(family, inner, gw, server, iport=41130, gport=20572, sport=6667,
             seq=7, pid=0x1c45, extra=b'', orig_dst=None, proto=6):
    body = struct.pack('<BBH', family, 0, 0)
    body += ct_tuple(CTA_TUPLE_ORIG, family, inner, iport, orig_dst or server, sport, proto)
    body += ct_tuple(CTA_TUPLE_REPLY, family, server, sport, gw, gport, proto)
    body += nla(CTA_STATUS, struct.pack('>I', 0x19e)) + extra
    return struct.pack('<IHHII', 16 + len(body), CT_NEW, 2, seq, pid) + body


def ct_error(err, seq=7, pid=0x1c45, echo_type=CT_GET):
    echo = struct.pack('<IHHII', 72, echo_type, 5, seq, 0)
    return struct.pack('<IHHII', 36, 2, 0x100, seq, pid) + struct.pack('<i', err) + echo


def ct(name, flags, seq, pid, msg, tuple_bytes=b''):
    write('ctnl', name, bytes([flags]) + struct.pack('<II', seq, pid) + tuple_bytes + msg)


def ctnls():
    for name, data in REAL.items():
        six = CT_FAMILY6 if name.endswith('6-entry') else 0
        ct('real-' + name, CT_FROM_REPLY | six, 0, 0, data)
    in4, gw4, srv4 = bytes([198, 18, 1, 2]), bytes([198, 18, 2, 1]), bytes([198, 18, 2, 2])
    in6 = bytes.fromhex('fd001413000000000000000000000002')
    gw6 = bytes.fromhex('fd001414000000000000000000000001')
    srv6 = bytes.fromhex('fd001414000000000000000000000002')
    ct('v4', CT_FROM_REPLY, 0, 0, ct_entry(AF_INET, in4, gw4, srv4))
    ct('v6', CT_FROM_REPLY | CT_FAMILY6, 0, 0, ct_entry(AF_INET6, in6, gw6, srv6))
    ct('zone', CT_FROM_REPLY, 0, 0, ct_entry(AF_INET, in4, gw4, srv4,
                                             extra=nla(CTA_ZONE, b'\0\1')))
    ct('dnat', CT_FROM_REPLY, 0, 0, ct_entry(AF_INET, in4, gw4, srv4,
                                             orig_dst=bytes([198, 18, 9, 9])))
    ct('own', CT_FROM_REPLY, 0, 0, ct_entry(AF_INET, gw4, gw4, srv4))
    ct('udp', CT_FROM_REPLY, 0, 0, ct_entry(AF_INET, in4, gw4, srv4, proto=17))
    ct('dup-status', CT_FROM_REPLY, 0, 0, ct_entry(
        AF_INET, in4, gw4, srv4, extra=nla(CTA_STATUS, b'\0\0\0\1')))
    ct('truncated', CT_FROM_REPLY, 0, 0, ct_entry(AF_INET, in4, gw4, srv4)[:70])
    ct('enoent', 0, 7, 0x1c45, ct_error(-2))
    ct('ack', 0, 7, 0x1c45, ct_error(0))
    ct('eperm', 0, 7, 0x1c45, ct_error(-1))
    ct('echo-other-type', 0, 7, 0x1c45, ct_error(-2, echo_type=CT_NEW))
    tup = bytes([0]) + gw4.ljust(16, b'\0') + srv4.ljust(16, b'\0') + struct.pack('>HH', 20572, 6667)
    ct('explicit-tuple', CT_FROM_INPUT, 7, 0x1c45, ct_entry(AF_INET, in4, gw4, srv4), tup)
    ct('explicit-other-port', CT_FROM_INPUT, 7, 0x1c45,
       ct_entry(AF_INET, in4, gw4, srv4, gport=20573), tup)


# ---- config: configuration text, also read as key=value lines ------------

def configs():
    write('config', 'empty', '')
    write('config', 'comments', '# privident.conf\n\n   # indented comment\n')
    write('config', 'all-keys',
          'listen = 127.0.0.1:113\nlisten = [::1]:1130\nuser = _privident\n'
          'timeout = 60\nmax-connections = 1024\nmax-per-host = 32\n'
          'max-queries = 32\nreply = user\nforeground = yes\ninetd = no\n'
          'debug-sandbox = off\n')
    write('config', 'fixed', 'reply = fixed:ircuser # trailing comment\n')
    write('config', 'uid-crlf', 'reply = uid\r\ntimeout = 3600\r\n')
    write('config', 'listen-forms', 'listen = :113\nlisten = *:1130\nlisten = ::\n'
          'listen = 0.0.0.0\nlisten = [fe80::1]\n')
    write('config', 'overlap', 'listen = :113\nlisten = 127.0.0.1:113\n')
    write('config', 'bad-number', 'timeout = 99999999999999999999\n')
    write('config', 'bad-key', 'no-such-key = 1\n')
    write('config', 'no-equals', 'timeout\n')
    write('config', 'cli-only', 'config = /etc/passwd\nhelp\n')
    write('config', 'nul', 'user = a\0b\n')
    write('config', 'long-line', 'user = ' + 'a' * 1100 + '\n')
    write('config', 'cli-short', '-t\n5\n-f\n-l127.0.0.2:1130\n-V\n')
    write('config', 'many-lines', 'foreground\n' * 70)
    write('config', 'inetd-listen', 'inetd = yes\nlisten = 127.0.0.1\n')


# ---- replyparse: reply lines from servers ---------------------------------

def replies():
    w = lambda name, text: write('replyparse', name, text)
    w('rfc-userid', '6193, 23 : USERID : UNIX : stjohns\r\n')
    w('rfc-error', '6195, 23 : ERROR : NO-USER\r\n')
    w('oidentd', '113,1130:USERID:UNIX:alice\n')
    w('twisted', '6191, 23 : USERID : UNIX : bob\r\n')
    w('other-token', '1 , 2 : USERID : OTHER : ABCDEFGH234567\r\n')
    w('utf8', '1 , 2 : USERID : UNIX,UTF-8 : j\u00fcrgen\r\n')
    w('lower-case', '1,2:userid:unix:x\r\n')
    w('os2', '1 , 2 : USERID : OS/2 : some user : with colons \r\n')
    w('hidden', '1 , 2 : ERROR : HIDDEN-USER')
    w('x-error', '1 , 2 : ERROR : X-MY-ERROR\n')
    w('userid-512', '1 , 2 : USERID : UNIX : ' + 'u' * 512 + '\r\n')
    w('userid-513', '1 , 2 : USERID : UNIX : ' + 'u' * 513 + '\r\n')
    w('nul', '1 , 2 : USERID : UNIX : a\0b\r\n')
    w('control', '1 , 2 : USERID : UNIX : a\x1b[2Jb\r\n')
    w('six-digit-port', '123456 , 2 : ERROR : NO-USER\r\n')
    w('bare-cr', '1 , 2 : ERROR : NO-USER\r')
    w('bidi-override', '1 , 2 : USERID : UNIX,UTF-8 : \u202eecila \u2067x\u2069\r\n')
    w('invisible', '1 , 2 : USERID : UNIX,UTF-8 : ro\u200bot\ufeff\U000e0041\\\r\n')
    write('replyparse', 'not-utf8',
          b'1 , 2 : USERID : UNIX : \xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x80caf\xe9\r\n')


# ---- token: lines of text (tokens, periods, times), also read as bytes ----

def tokens():
    w = lambda name, text: write('token', name, text)
    # token text, as quoted in an abuse report
    w('token-16', 'mfrggzdfmztwq2lk')
    w('token-min', 'abcdefgh')
    w('token-max', 'abcdefghijklmnopqrstuvwxyz')
    w('token-short', 'abcdefg')
    w('token-long', 'abcdefghijklmnopqrstuvwxyz2')
    w('token-upper', 'MFRGGZDFMZTWQ2LK')
    w('token-bad-digits', 'abcdefgh01890000')
    w('token-nul', 'abcdefgh\0ijklmnop')
    # periods
    w('periods', 'never\n1h\n24h\n1d\n7d\n1w\n52w\n366d\n8784h\n')
    w('periods-bad', 'Never\n0h\n59m\n367d\n53w\n8785h\n1H\n 1h\n1h \n1hh\nh\n'
      '-1h\n+1h\n')
    w('period-overflow', '99999999999999999999999w\n4294967296h\n000000000000000000001h\n')
    # times
    w('times-epoch', '0\n1795255200\n253402300799\n00000000000000000000001\n')
    w('times-epoch-bad', '253402300800\n18446744073709551616\n-1\n+5\n1e9\n\n')
    w('times-dates', '1970-01-01\n2024-02-29\n2000-02-29\n9999-12-31\n1970-01-05\n')
    w('times-dates-bad', '1969-12-31\n2023-02-29\n1900-02-29\n2024-13-01\n'
      '2024-00-10\n2024-04-31\n2024-1-01\n10000-01-01\n2024-01-01Z\n')
    w('times-clock', '2026-11-21T10:00:00Z\n2026-11-21T10:00:00\n'
      '9999-12-31T23:59:59Z\n1970-01-01T00:00:01\n2024-02-29T00:00:00Z\n')
    w('times-clock-bad', '2024-01-01T24:00:00\n2024-01-01T23:60:00\n'
      '2024-01-01T23:59:60Z\n2024-01-01T1:00:00\n2024-01-01 10:00:00\n'
      '2024-01-01T10:00:00ZZ\n2024-01-01T10:00:00z\n2024-01-01T\n')
    w('fullwidth', '\uff11\uff48\n\uff12\uff10\uff12\uff14-01-01\n')
    # a report: the time, the period, the token
    w('report', '2026-11-21T10:00:00Z\n1w\nmfrggzdfmztwq2lk\n')
    w('report-never', '1970-01-01\nnever\n')
    # binary: a count, then bytes for base32 and the token's inputs
    write('token', 'b32-exact', bytes([16]) + bytes(range(10)))
    write('token', 'b32-over', bytes([255]) + bytes(range(200, 232)))
    write('token', 'b32-empty', bytes([0]))
    write('token', 'b32-one', bytes([2, 0xff]))
    write('token', 'make-v6', bytes([26, 1]) + bytes(range(40)))


# ---- userconf: ~/.oidentd.conf files as bouncers write them ---------------

LOUNGE = '# Warning: file generated by The Lounge: changes will be overwritten!\n'
USERCONF_FILE_MAX = 65536            # src/userconf.h
USERCONF_RULES_MAX = 128             # src/userconf.h


def conn_prefix(local4, remote4, lport, rport):
    """The fuzzer's connection in the first 38 octets, as a comment line:
    '#' (odd: IPv6), IPv4-mapped local and remote address, the ports."""
    b = (b'#' + bytes(10) + b'\xff\xff' + bytes(local4) +
         bytes(10) + b'\xff\xff' + bytes(remote4) +
         struct.pack('>HH', lport, rport) + b'\n')
    assert len(b) == 38 and b'\n' not in b[:-1]
    return b


def lounge_lines(first, last):
    """The Lounge's lines for its connections first..last-1 (one a port)."""
    return ''.join('to 192.0.2.7 fport 6697 from 11.0.0.1 lport %d'
                   ' { reply "u%d" }\n' % (40000 + i, i)
                   for i in range(first, last)).encode()


def userconfs():
    w = lambda name, text: write('userconf', name, text)
    w('znc', 'global { reply "alice" }')
    w('znc-user', 'global { reply "bob" }\n')
    w('lounge-empty', LOUNGE)
    w('lounge', LOUNGE +
      'to 192.0.2.7 fport 6697 from 10.0.0.1 lport 40000 { reply "alice" }\n'
      'to 2001:db8::7 fport 6667 from 2001:db8::1 lport 50000 { reply "bob" }\n'
      'to ::ffff:198.51.100.1 fport 6697 from ::ffff:10.0.0.1 lport 40001'
      ' { reply "carol" }\n')
    w('oidentd-forms', 'global {\n\treply "UNKNOWN"\n}\n'
      'to 192.0.2.1 {\n\thide\n}\n'
      'fport 6667:7000 {\n\treply "ircuser" "other" "x"\n}\n'
      'lport 1024: { reply "high" }\nfport :1023 from 127.0.0.1 { reply low }\n')
    w('comments-case', '/* c */GLOBAL{REPLY "a"}To "192.0.2.1" LPORT 7{Reply b}'
      '# to 1.2.3.4 { reply "no" }\r\n/* multi\nline */ from ::1 {hide}')
    w('unsupported', 'lport 1 { random }\nlport 2 { numeric }\n'
      'lport 3 { forward 10.0.0.1 113 }\nlport 4 { force reply "x" }\n'
      'lport 5 { allow spoof }\nlport 6 { hide reply "x" }\nlport 7 { }\n'
      'to irc.example.net { reply "b" }\nfrom localhost lport ircd { hide }\n'
      'default { reply "x" }\nuser "bob" { default { allow spoof } }\n'
      'frob 1 2 { x { y } }\n')
    w('many-replies', 'global { reply ' + ' '.join('r%d' % i for i in range(25)) + ' }')
    w('long-reply', 'global { reply "' + 'a' * 40 + '" "a\\"b" }')
    w('many-rules', 'lport 1{hide}' * 129)
    w('errors', 'global { reply "a" }}')
    w('unterminated', 'global { reply "a }')
    w('bad-address', 'to 1.2.3.256 { hide }')
    w('bad-port', 'lport 7:6 { hide }')
    w('out-of-order', 'lport 1 to 1.2.3.4 { hide }')
    w('open-comment', 'global {}\n/* open')
    w('nul', 'global { reply "ab\0cd" } to 1.2.3.4\0x { hide }')
    # One octet past USERCONF_FILE_MAX: refused whole.
    w('too-long', 'global{hide}' + ' ' * (USERCONF_FILE_MAX + 1 - 12))
    # A connection in the first 38 octets: the family bit, local and
    # remote address, ports (the file then starts with a comment).
    write('userconf', 'conn-match',
          b'#' + bytes(10) + b'\xff\xff' + bytes([11, 0, 0, 1]) +
          bytes(10) + b'\xff\xff' + bytes([192, 0, 2, 7]) +
          struct.pack('>HH', 40000, 6697) + b'\n'
          b'to 192.0.2.7 fport 6697 from 11.0.0.1 lport 40000 { reply "alice" }\n')
    # Big Lounge files, the fuzzed connection one of their lines: more
    # rules than userconf_parse keeps (only userconf_parse_for reads them),
    # a syntax error past them, and one of exactly USERCONF_FILE_MAX octets.
    big = conn_prefix((11, 0, 0, 1), (192, 0, 2, 7), 40300, 6697) + \
        LOUNGE.encode() + lounge_lines(0, 500)
    write('userconf', 'lounge-big', big)
    write('userconf', 'lounge-rules-max',
          conn_prefix((11, 0, 0, 1), (192, 0, 2, 7), 40000 + USERCONF_RULES_MAX, 6697) +
          lounge_lines(0, USERCONF_RULES_MAX + 1))
    write('userconf', 'lounge-big-broken', big + b'lport 1 { reply "x"\n')
    full = conn_prefix((11, 0, 0, 1), (192, 0, 2, 7), 40600, 6697) + lounge_lines(0, 800)
    full = full[:full.rindex(b'\n', 0, USERCONF_FILE_MAX - 1) + 1]
    full += b'#' * (USERCONF_FILE_MAX - len(full))
    assert len(full) == USERCONF_FILE_MAX
    write('userconf', 'lounge-max', full)


# ---- forward: a forward-network value, a LF, a split octet, the answer ----

def forwards():
    def w(name, value, answer=b'', split=0):
        if isinstance(answer, str):
            answer = answer.encode('utf-8')
        write('forward', name, value.encode() + b'\n' + bytes([split]) + answer)
    w('userid', '10.0.0.0/8', '40000 , 6667 : USERID : UNIX : alice\r\n', 3)
    w('oidentd', '192.168.0.0/16 1130', '40000,6667:USERID:UNIX:bob\n', 1)
    w('no-user', 'fd00::/8 token', '40000 , 6667 : ERROR : NO-USER\r\n', 5)
    w('hidden', '172.16.0.0/12', '40000 , 6667 : ERROR : HIDDEN-USER\r\n')
    w('invalid-port', '10.0.0.0/8', '40000 , 6667 : ERROR : INVALID-PORT\r\n')
    w('other-ports', '10.0.0.0/8', '40001 , 6667 : USERID : UNIX : alice\r\n')
    w('other-os', '10.0.0.0/8', '40000 , 6667 : USERID : WIN32 : Bob Smith\r\n')
    w('utf8', '10.0.0.0/8', '40000 , 6667 : USERID : UNIX,UTF-8 : j\u00fcrgen\r\n')
    w('latin1', '10.0.0.0/8',
      b'40000 , 6667 : USERID : UNIX,ISO-8859-1 : j\xfcrgen\r\n')
    w('cut', '10.0.0.0/8', '40000 , 6667 : USERID : UNIX : alic')
    w('empty', '10.0.0.0/8')
    w('two-lines', '10.0.0.0/8 token',
      '40000 , 6667 : ERROR : NO-USER\r\n40000 , 6667 : USERID : UNIX : x\r\n', 2)
    w('too-long', '10.0.0.0/8', '40000 , 6667 : USERID : UNIX : ' + 'u' * 1000)
    w('padded', '10.0.0.0/8', '40000 , 6667 : USERID : UNIX :' + ' ' * 963 +
      'alice\r\n', 7)
    w('fixed', '10.0.0.0/8 reply=guest token', 'garbage\r\n')
    w('bad-host-bits', '10.0.0.1/8')
    w('bad-mapped', '::ffff:10.0.0.0/104')
    w('bad-loopback', '127.0.0.0/8 token')
    w('bad-port-and-reply', '10.0.0.0/8 113 reply=x')
    w('bad-word', '10.0.0.0/8 ask')
    w('v6-host', '2001:db8::1/128 65535 token',
      '40000 , 6667 : USERID : OTHER : 12345\r\n')


def main():
    if sys.byteorder != 'little':
        sys.exit('the binary seeds are laid out for little-endian hosts')
    requests()
    ipcs()
    ipcs_forwarding()
    netlinks()
    ctnls()
    configs()
    replies()
    tokens()
    userconfs()
    forwards()


main()
