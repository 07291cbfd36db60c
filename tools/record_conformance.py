#!/usr/bin/env python3
"""Record memcached's replies to error-producing request streams.

Usage: record_conformance.py PORT > src/protocol/memcache/conformance_table.in
Each stream gets "mn\r\n" appended (memcached answers MN and flushes), so the recorded
bytes are complete. Only inputs whose replies do not depend on the store's contents are used.
"""
import socket, sys

PORT = int(sys.argv[1])
K251 = b"k" * 251
O33 = b"O" + b"1" * 32   # 33-byte opaque token: too long
O32 = b"O" + b"1" * 31   # 32 bytes: accepted
BIG = 2 * 1024 * 1024

STREAMS = [
    # classic storage
    b"set a 0 0\r\nx\r\n",
    b"set a abc 0 1\r\nx\r\n",
    b"set a 0 0 -1\r\nx\r\n",
    b"set a 0 0 1\r\nxy\r\n",
    b"set a 0 0 1\r\nx\rget\r\n",
    b"set a 0 0 1\r\nx\n\n",
    b"set a abc 0 1 noreply\r\nx\r\n",
    b"set a 0 0 1 noreply\r\nxy\r\n",
    b"set a 0 0 noreply\r\nx\r\n",
    b"set a -1 0 1\r\nx\r\n",
    b"set a 0x1 0 1\r\nx\r\n",
    b"set a 0 1.5 1\r\nx\r\n",
    b"set a 0 0 2147483646\r\n",
    b"set a 0 0 2147483647\r\n",
    b"set a 0 0 1 noreply extra\r\nx\r\n",
    b"add a 0 0\r\nx\r\n",
    b"replace a 0 0 x\r\nx\r\n",
    b"append a 0 0 -5\r\nx\r\n",
    b"prepend a 0 0 1 2 3\r\nx\r\n",
    b"cas a 0 0 1\r\nx\r\n",
    b"cas a 0 0 1 x\r\nx\r\n",
    b"cas a 0 0 1 -1\r\nx\r\n",
    b"cas a 0 0 1 5 6 7\r\nx\r\n",
    b"cas a 0 0 1 x noreply\r\nx\r\n",
    b"set " + K251 + b" 0 0 1\r\nx\r\n",
    b"set " + K251 + b" 0 0 1 noreply\r\nx\r\n",
    b"set a 0 0 %d\r\n" % BIG + b"x" * BIG + b"\r\n",
    b"set a 0 0 %d noreply\r\n" % BIG + b"x" * BIG + b"\r\n",
    b"set a 0 0 %d\r\n" % BIG + b"x" * BIG + b"ZZ",
    b"cas a 0 0 %d 1\r\n" % BIG + b"x" * BIG + b"\r\n",
    # retrieval
    b"get\r\n",
    b"gets\r\n",
    b"gat\r\n",
    b"gats\r\n",
    b"bget\r\n",
    b"gat x a\r\n",
    b"gats 1x a\r\n",
    b"get " + K251 + b"\r\n",
    b"get a " + K251 + b" b\r\n",
    b"gets a b " + K251 + b"\r\n",
    b"gat 10 " + K251 + b"\r\n",
    # unknown commands, framing
    b"GET a\r\n",
    b"Set a 0 0 1\r\nx\r\n",
    b"x\r\n",
    b"\r\n",
    b"\n",
    b"   \r\n",
    b"gx a\r\n",
    b"sets a\r\n",
    b"foo bar noreply\r\n",
    b"sfoo HTTP/1.0\r\n",
    b"foo HTTP/1.0\r\n",
    b"GET / HTTP/1.1\r\n",
    b"mgx a HTTP/1.1\r\n",
    b"m HTTP/1.1\r\n",
    b"shutdown\r\n".replace(b"shutdown", b"shutdownx"),
    # incr/decr/touch
    b"incr n\r\n",
    b"incr n x\r\n",
    b"incr n -1\r\n",
    b"incr n 1x\r\n",
    b"incr n 18446744073709551616\r\n",
    b"incr n x noreply\r\n",
    b"incr n 1 2 3\r\n",
    b"decr n x\r\n",
    b"decr\r\n",
    b"incr " + K251 + b" 1\r\n",
    b"decr " + K251 + b" 1 noreply\r\n",
    b"touch n\r\n",
    b"touch n x\r\n",
    b"touch n x noreply\r\n",
    b"touch n 5x\r\n",
    b"touch n 1 2 3\r\n",
    b"touch " + K251 + b" 1\r\n",
    # delete
    b"delete\r\n",
    b"delete n x\r\n",
    b"delete n 1\r\n",
    b"delete n x noreply\r\n",
    b"delete n 0 x\r\n",
    b"delete n 0 noreply x\r\n",
    b"delete n noreply 0\r\n",
    b"delete " + K251 + b"\r\n",
    b"delete " + K251 + b" noreply\r\n",
    b"delete " + K251 + b" 0\r\n",
    # flush_all / verbosity / misc
    b"flush_all x\r\n",
    b"flush_all x noreply\r\n",
    b"flush_all 1 2 3\r\n",
    b"flush_all noreply x\r\n",
    b"verbosity\r\n",
    b"verbosity x\r\n",
    b"verbosity x noreply\r\n",
    b"verbosity noreply\r\n",
    b"verbosity 1 2 3\r\n",
    b"verbosity -1\r\n",
    # meta: general
    b"mn extra tokens\r\n",
    b"mz\r\n",
    b"MG a\r\n",
    b"mgx a\r\n",
    b"mg\r\n",
    b"mg a Z\r\n",
    b"mg a v v\r\n",
    b"mg a !\r\n",
    b"mg a \xff\r\n",
    b"mg a \x7f\r\n",
    b"mg a " + O33 + b" v\r\n",
    b"mg zzmiss " + O33 + b" k\r\n",
    b"mg zzmiss q " + O32 + b" k\r\n",
    b"mg a Tabc\r\n",
    b"mg a T\r\n",
    b"mg a N\r\n",
    b"mg a Rx\r\n",
    b"mg a C\r\n",
    b"mg a Cx v\r\n",
    b"mg a Fx\r\n",
    b"mg a Jx\r\n",
    b"mg a Dx\r\n",
    b"mg a MSS\r\n",
    b"mg a Tx Z\r\n",
    b"mg a Z Tx\r\n",
    b"mg a Tx Jx\r\n",
    b"mg a Jx Tx\r\n",
    b"mg a Tx Fx\r\n",
    b"mg a Fx v v\r\n",
    b"mg YQ= b k v\r\n",
    b"mg !!!! b v\r\n",
    b"mg a b\r\n",
    b"mg a k v O1 b\r\n",
    b"mg a b Tx\r\n",
    b"mg " + K251 + b" v\r\n",
    b"mg a 1 2 3 4 5 6 7 8 9 0 a b c d e f g h\r\n",
    b"mg a s t f k c O1 h l u v q N1 R1 T1 P L Z\r\n",
    b"mg zzmiss q\r\n",
    b"mg zzmiss q v k O5\r\n",
    # meta set
    b"ms a\r\nx\r\n",
    b"ms a x\r\nx\r\n",
    b"ms a -1\r\nx\r\n",
    b"ms a 1x\r\nx\r\n",
    b"ms a 1 MX\r\nx\r\n",
    b"ms a 1 MSS\r\nx\r\n",
    b"ms a 1 M\r\nx\r\n",
    b"ms a 1 Z\r\nx\r\n",
    b"ms a 1 T1 T2\r\nx\r\n",
    b"ms a 1 Fx\r\nx\r\n",
    b"ms a 1 F-1\r\nx\r\n",
    b"ms a 1 Tx\r\nx\r\n",
    b"ms a 1 Cabc\r\nx\r\n",
    b"ms a 1 " + O33 + b"\r\nx\r\n",
    b"ms a 1 " + O33 + b" MX\r\nx\r\n",
    b"ms a 1 MX " + O33 + b"\r\nx\r\n",
    b"ms a 1 c k O5 b\r\nx\r\n",
    b"ms a 1 q Zbad\r\nx\r\n",
    b"ms a 1 q Tx\r\nx\r\n",
    b"ms zzq 1 q\r\nxy\r\n",
    b"ms a S1 T0\r\nx\r\n",
    b"ms a 2147483646\r\n",
    b"ms " + K251 + b" 1\r\nx\r\n",
    b"ms a 1 1 2 3 4 5 6 7 8 9 0 A B C D E F G\r\nx\r\n",
    b"ms a 1 v s t f h l u P L I k O1 c q T1\r\nxyz\r\n",
    b"ms a %d\r\n" % BIG + b"x" * BIG + b"\r\n",
    b"ms a %d q\r\n" % BIG + b"x" * BIG + b"\r\n",
    b"ms a %d Z\r\n" % BIG + b"x" * BIG + b"\r\n",
    # meta delete
    b"md\r\n",
    b"md a Z\r\n",
    b"md a q q\r\n",
    b"md a Tx\r\n",
    b"md a Fx\r\n",
    b"md a MSS\r\n",
    b"md a b\r\n",
    b"md a " + O33 + b"\r\n",
    b"md a 0\r\n",
    b"md " + K251 + b"\r\n",
    b"md a 1 2 3 4 5 6 7 8 9 0 a b c d e f g h\r\n",
    # meta arithmetic
    b"ma\r\n",
    b"ma a MX\r\n",
    b"ma a Mi\r\n",
    b"ma a Dx\r\n",
    b"ma a Jx\r\n",
    b"ma a D-1\r\n",
    b"ma a D18446744073709551616\r\n",
    b"ma a q q\r\n",
    b"ma a MX " + O33 + b"\r\n",
    b"ma a " + O33 + b" MX\r\n",
    b"ma " + K251 + b"\r\n",
    b"ma a 1 2 3 4 5 6 7 8 9 0 a b c d e f g h\r\n",
    # meta debug
    b"me\r\n",
    b"me YQ b\r\n",
    b"me a b\r\n",
    b"me " + K251 + b"\r\n",
    b"me zzmiss\r\n",
    # valid requests whose replies do not depend on the store (keys zz* are never set)
    b"gat 10\r\n",
    b"get zz1 zz2\r\n",
    b"   get zz1\r\n",
    b"get  zz1   zz2  \r\n",
    b"gets zz1\n",
    b"gats 0 zz1 zz2\r\n",
    b"mg zzmiss k O5 v f\r\n",
    b"mg zzmiss\r\n",
    b"mg zzmiss O\r\n",
    b"mg enp6 b k O5 s t\r\n",
    b"md zzmiss O5 k q\r\n",
    b"md enp6 k b\r\n",
    b"ma zzmiss O5 k q v c t\r\n",
    b"ma enp6 b k MD D5\r\n",
    b"me enp6 b\r\n",
    b"mn\r\nmn\r\n",
    # pipelines mixing errors
    b"get\r\nmg a Z\r\nincr n x\r\nset a 0 0 -1\r\nms a 1 Z\r\nx\r\n",
]


def run(data):
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(data + b"mn\r\n")
    s.settimeout(1.0)
    out, closed = b"", False
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                closed = True
                break
            out += d
            if out.endswith(b"MN\r\n"):
                s.settimeout(0.2)  # a stream may hold several mn
    except socket.timeout:
        pass
    s.close()
    return out, closed


def lit(b):
    out = []
    for c in b:
        if c == 0x22:
            out.append('\\"')
        elif c == 0x5c:
            out.append("\\\\")
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return 'b"' + "".join(out) + '"'


def compress(b):
    # keep the table small: long runs are rebuilt by the test
    for n, ch in ((BIG, b"x"), (251, b"k")):
        run_ = ch * n
        if run_ in b:
            pre, post = b.split(run_, 1)
            return pre, n, ch, post
    return b, 0, b"", b""


print("// @generated by tools/record_conformance.py against memcached 1.6.18; do not edit.")
print("// (prefix, run length, run byte, suffix) => (memcached reply bytes, connection closed)")
print("&[")
for st in STREAMS:
    out, closed = run(st)
    pre, n, ch, post = compress(st + b"mn\r\n")
    print("    ((%s, %d, %s, %s), (%s, %s))," % (lit(pre), n, lit(ch or b"-"), lit(post), lit(out), "true" if closed else "false"))
print("]")
