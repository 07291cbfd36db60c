"""Sharding keys over several memcached servers with pymemcache's HashClient.

The tutorial shows that hashing the key (rather than, say, its first letter)
spreads data evenly over servers. HashClient does this for real: it hashes
each key to one of the servers (rendezvous hashing), so each server holds
about a third of the keys and no key is on two servers.

This stores --keys keys through a HashClient, reads them all back through it,
then asks each server on its own (a plain Client) which of the keys it holds,
and prints each server's share and its `stats` curr_items. It exits non-zero
if a server holds none of them or a key is missing or on two servers.

    python pymemcache_sharding.py --servers 127.0.0.1:11211,127.0.0.1:11212,127.0.0.1:11213
"""
import argparse
import sys

from pymemcache.client.base import Client
from pymemcache.client.hash import HashClient
from pymemcache.exceptions import MemcacheError


def parse_servers(text):
    servers = []
    for item in text.split(","):
        host, _, port = item.strip().rpartition(":")
        servers.append((host, int(port)))
    return servers


def batches(items, size=500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers",
                        default="127.0.0.1:11211,127.0.0.1:11212,127.0.0.1:11213",
                        help="comma-separated host:port list")
    parser.add_argument("--keys", type=int, default=10000)
    parser.add_argument("--prefix", default="shard")
    args = parser.parse_args()
    servers = parse_servers(args.servers)

    keys = ["%s:%d" % (args.prefix, i) for i in range(args.keys)]
    expected = {k: ("value-%s" % k).encode() for k in keys}

    hc = HashClient(servers, connect_timeout=5, timeout=5)
    for batch in batches(keys):
        failed = hc.set_many({k: expected[k] for k in batch}, noreply=False)
        if failed:
            print("FAIL: could not store %d keys, e.g. %s" % (len(failed), failed[:3]))
            return 1
    print("Stored %d keys through a HashClient over %d servers" % (len(keys), len(servers)))

    got = {}
    for batch in batches(keys):
        got.update(hc.get_many(batch))
    wrong = [k for k in keys if got.get(k) != expected[k]]
    if wrong:
        print("FAIL: %d keys did not read back, e.g. %s" % (len(wrong), wrong[:3]))
        return 1
    hc.close()

    total = 0
    empty = []
    for host, port in servers:
        client = Client((host, port), connect_timeout=5, timeout=5)
        held = 0
        for batch in batches(keys):
            held += sum(1 for k, v in client.get_many(batch).items() if v == expected[k])
        try:
            curr_items = client.stats().get(b"curr_items", "?")
        except Exception as e:  # a server without `stats` still shows its share
            curr_items = "n/a (%s)" % e
        client.close()
        total += held
        print("%s:%d holds %d keys (%.1f%%), stats curr_items %s"
              % (host, port, held, 100.0 * held / len(keys), curr_items))
        if held == 0:
            empty.append("%s:%d" % (host, port))

    if empty:
        print("FAIL: no keys on %s" % ", ".join(empty))
        return 1
    if total != len(keys):
        print("FAIL: servers hold %d keys in all, expected %d (each key on exactly one)"
              % (total, len(keys)))
        return 1
    print("OK: %d keys spread over %d servers, each key on exactly one"
          % (len(keys), len(servers)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, MemcacheError) as e:
        print("FAIL: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
