#!/usr/bin/env python3
"""Regenerates the redis-server figures that src/store/stream_log/tests.rs checks.

Replays two deterministic sequences on a running redis-server (7.0):
  splits: 700 XADDs (integers of every listpack width, strings around the
          64/4096-byte encodings, varied ID jumps) per node-limit pair; after
          each, XINFO STREAM radix-tree-keys is folded into an FNV-1a hash.
  ops:    3000 steps of XADD / XDEL / XTRIM (MAXLEN|MINID, =|~, LIMIT); after
          each, (reply, length, radix-tree-keys) is folded into a hash.
The Rust tests generate the same sequences with the same xorshift generator.

usage: bench/stream_log_redis_replay.py PORT   (needs redis-py)
"""
import sys

import redis

MASK = (1 << 64) - 1
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3


class Rng:
    def __init__(self, seed):
        self.x = seed

    def below(self, n):
        x = self.x
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
        self.x = x
        return x % n


def value(rng):
    k = rng.below(8)
    if k == 0:
        return str(rng.below(130))
    if k == 1:
        return str(rng.below(70000) - 35000)
    if k == 2:
        return str(rng.below(1 << 40))
    if k == 3:
        return "x" * rng.below(130)
    if k == 4:
        return "y" * (rng.below(300) + 4000) if rng.below(10) == 0 else "z" * rng.below(70)
    return "v%d" % rng.below(1000)


NAMES = [["a", "b", "c"], ["a", "b", "c"], ["item"], ["a", "b"], ["12", "long-field-name"]]


def sequence(seed, n):
    rng = Rng(seed)
    ms, seq = 1000, 0
    out = []
    for _ in range(n):
        k = rng.below(6)
        if k <= 2:
            seq += 1
        elif k == 3:
            ms += 1 + rng.below(100)
            seq = rng.below(5)
        elif k == 4:
            ms += rng.below(1 << 36) + 1
            seq = 0
        else:
            seq += 1 + rng.below(5000)
        names = NAMES[rng.below(len(NAMES))]
        out.append(("%d-%d" % (ms, seq), [(f, value(rng)) for f in names]))
    return out


class Fnv:
    def __init__(self):
        self.h = FNV_OFFSET

    def fold(self, v):
        self.h = ((self.h ^ (v & MASK)) * FNV_PRIME) & MASK


def xadd(r, id_, fields):
    args = [x for pair in fields for x in pair]
    r.execute_command("XADD", "s", id_, *args)


def splits(r, max_bytes, max_entries):
    h = Fnv()
    for id_, fields in sequence(12345, 700):
        xadd(r, id_, fields)
        keys = r.xinfo_stream("s")["radix-tree-keys"]
        h.fold(keys)
    return "%s %d" % (hex(h.h), keys)


def ops(r, max_bytes, max_entries, n=3000):
    seq, rng, added, h = sequence(777, n), Rng(4242), [], Fnv()
    nxt = 0
    for _ in range(n):
        k = rng.below(10)
        if k <= 5 or not added:
            id_, fields = seq[nxt]
            nxt += 1
            xadd(r, id_, fields)
            added.append(id_)
            reply = 0
        elif k == 6:
            reply = r.execute_command("XDEL", "s", added[rng.below(len(added))])
        else:
            approx = rng.below(2) == 0
            limit = rng.below(150) if approx and rng.below(2) == 0 else None
            if k <= 7:
                how = ["MAXLEN", "~" if approx else "=", rng.below(len(added) // 3 + 3)]
            else:
                how = ["MINID", "~" if approx else "=", added[rng.below(len(added))]]
            if limit is not None:
                how += ["LIMIT", limit]
            reply = r.execute_command("XTRIM", "s", *how)
        h.fold(reply)
        info = r.xinfo_stream("s")
        h.fold(info["length"])
        h.fold(info["radix-tree-keys"])
    return hex(h.h)


def main():
    r = redis.Redis(port=int(sys.argv[1]))
    old = {k: r.config_get(k)[k] for k in ("stream-node-max-bytes", "stream-node-max-entries")}
    runs = [(splits, [(200, 0), (1000, 0), (4096, 100), (100, 3), (9000, 0), (1, 0)]),
            (ops, [(4096, 100), (200, 0), (100, 3), (0, 10), (0, 0)])]
    try:
        for fn, configs in runs:
            for max_bytes, max_entries in configs:
                r.config_set("stream-node-max-bytes", max_bytes)
                r.config_set("stream-node-max-entries", max_entries)
                r.delete("s")
                print(fn.__name__, max_bytes, max_entries, fn(r, max_bytes, max_entries))
    finally:
        r.delete("s")
        for k, v in old.items():
            r.config_set(k, v)


if __name__ == "__main__":
    main()
