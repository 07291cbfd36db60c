#!/usr/bin/env python3
"""Print memcached's reply to each request of a scripted session (one connection).
Usage: record_encoder.py PORT. Used to build the encoder tables in tests.rs."""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.3)
STEPS = [
    b"set ek1 5 0 3\r\nabc\r\n", b"get ek1\r\n", b"gets ek1\r\n",
    b"set ek2 4294967295 0 0\r\n\r\n", b"get ek2 nokey ek1\r\n",
    b"add ek1 0 0 1\r\nx\r\n", b"cas ek1 0 0 1 999\r\nx\r\n", b"cas nokey 0 0 1 1\r\nx\r\n",
    b"delete ek1\r\n", b"delete ek1\r\n", b"touch ek2 100\r\n", b"touch nokey 100\r\n",
    b"set n 0 0 20\r\n18446744073709551615\r\n", b"incr n 1\r\n", b"incr n 10\r\n", b"decr n 100\r\n",
    b"incr nokey 1\r\n", b"verbosity 0\r\n", b"version\r\n", b"stats reset\r\n",
    b"ms mk1 3 F7 T0\r\nxyz\r\n", b"mg mk1 s v t f c k O9 h l\r\n", b"mg mk1 h\r\n", b"mg mk1 q k\r\n",
    b"ms mk2 2 c k O1 T100\r\nhi\r\n", b"ms mk2 2 q\r\nhi\r\n", b"ms mk2 2 ME O2 c\r\nhi\r\n",
    b"ms mk2 2 C1 q k\r\nhi\r\n", b"ms nokey 2 MR q O3\r\nhi\r\n",
    b"md mk2 O3 k\r\n", b"md mk2 q O4\r\n", b"md mk1 q C1\r\n",
    b"ms cnt 2\r\n10\r\n", b"ma cnt v c t k O4 D5\r\n", b"ma cnt\r\n", b"ma cnt q\r\n", b"ma cnt MD D100 v\r\n",
    b"ma cnt q v\r\n", b"ma nokey N0 J42 v t\r\n",
    b"md mk1 I T30\r\n", b"mg mk1 v c t\r\n", b"mg mk1 v\r\n",
    b"ms rk 1 T10\r\nx\r\n", b"mg rk R30 v t\r\n", b"mg rk R30 v\r\n",
    b"mg vk N30 v c\r\n", b"mg vk N30 v\r\n",
    b"ms enp6 1 b k c\r\nx\r\n", b"mg enp6 b k v\r\n", b"me enp6 b\r\n", b"me ek2\r\n",
    b"mn\r\n", b"flush_all\r\n", b"flush_all 0 noreply\r\nmn\r\n",
]
for st in STEPS:
    s.sendall(st)
    time.sleep(0.05)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    print(repr(st), "->", repr(out))
