"""The tutorial's memcached demo: a slow computation cached under sq:<n>.

fetch_square() first looks the square up in memcached; on a miss it "computes"
it slowly (1 ms) and stores it. Ten timed rounds of random requests get faster
as the cache fills. python-memcached stores an int with a flag that marks it as
an integer, so the value comes back as an int, not as a string.

    python memcache_fetch_square.py --server 127.0.0.1:11211
"""
import argparse
import random
import sys
import time
import timeit

import memcache

misses = 0


def fetch_square(mc, n):
    global misses
    data = mc.get('sq:{}'.format(n))
    if data is None:
        misses += 1
        time.sleep(0.001)
        data = n * n
        mc.set('sq:{}'.format(n), data)
    elif not isinstance(data, int) or data != n * n:
        raise SystemExit('FAIL: sq:{} came back as {!r}'.format(n, data))
    return data


def main():
    global misses
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--server', default='127.0.0.1:11211')
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--requests', type=int, default=2000,
                        help='requests per round (default 2000)')
    parser.add_argument('--keys', type=int, default=5000,
                        help='squares of 0..KEYS are asked for (default 5000)')
    args = parser.parse_args()

    mc = memcache.Client([args.server])
    if not mc.set('sq:probe', 1) or mc.get('sq:probe') != 1:
        print('FAIL: cannot use memcached at {}'.format(args.server))
        return 1
    mc.delete('sq:probe')

    def make_request():
        fetch_square(mc, random.randint(0, args.keys))

    per_round = []
    print('Ten successive runs:' if args.rounds == 10 else
          '{} successive runs:'.format(args.rounds))
    for i in range(1, args.rounds + 1):
        misses = 0
        print('{:.2f}s '.format(timeit.timeit(make_request, number=args.requests)),
              end='', flush=True)
        per_round.append(misses)
    print()
    print('Cache misses per round: {}'.format(' '.join(map(str, per_round))))
    # A cache that was already warm (a second run) has nothing left to speed up.
    if per_round[0] and per_round[-1] >= per_round[0]:
        print('FAIL: the cache did not fill up')
        return 1
    print('OK: misses went from {} in the first round to {} in the last'
          .format(per_round[0], per_round[-1]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
