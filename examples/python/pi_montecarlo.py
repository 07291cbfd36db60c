"""Monte-Carlo estimate of pi from three messaging patterns at once, on herald.

The tutorial builds this from ZeroMQ sockets; here every socket becomes a
herald primitive:

  bitsource   PUBLISHes random points (2 x B random bits) on the channel
              "points.<bits>" -- PUB
  always_yes  PSUBSCRIBEs "points.00*": both coordinates below one half, so
              the point is inside the unit circle -- SUB with prefix b'00'
  judge       PSUBSCRIBEs "points.01*", "points.10*", "points.11*" and asks
              pythagoras for n*n + m*m -- SUB + REQ
  pythagoras  BRPOPs requests {"reply_to": KEY, "numbers": [...]} and LPUSHes
              the sum of squares to KEY -- REP
  tally       BRPOPs the Y/N decisions that always_yes and judge LPUSH, and
              estimates pi = 4 * inside / total -- PUSH/PULL

Every point matches exactly one prefix, so the tally gets exactly one decision
per point. The publisher starts only after the subscribers' PSUBSCRIBEs are
confirmed: with a broker there is no slow-joiner race, but nothing published
before a subscription exists is kept.

The roles run as threads; the run is bounded by --points and --duration.

    python pi_montecarlo.py --port 6379 --points 1000
"""
import argparse
import json
import random
import sys
import threading
import time
import uuid

import redis

B = 32  # number of bits of precision in each random integer


def ones_and_zeros(digits):
    """Express `n` in at least `d` binary digits, with no special prefix."""
    return bin(random.getrandbits(digits)).lstrip('0b').zfill(digits)


class Run:
    """What the threads share: connection settings, key names and stop signal."""

    def __init__(self, args):
        self.args = args
        tag = uuid.uuid4().hex[:8]
        self.requests = "pi:%s:requests" % tag
        self.decisions = "pi:%s:decisions" % tag
        self.reply_prefix = "pi:%s:reply:" % tag
        self.stop = threading.Event()
        self.ready = {"always_yes": threading.Event(), "judge": threading.Event()}
        self.undelivered = 0
        self.result = None
        self.errors = []

    def conn(self):
        return redis.Redis(host=self.args.host, port=self.args.port)


def subscribe(run, conn, patterns):
    """PSUBSCRIBE and wait until every pattern is confirmed."""
    sub = conn.pubsub()
    sub.psubscribe(*patterns)
    confirmed = 0
    deadline = time.monotonic() + 10
    while confirmed < len(patterns):
        if time.monotonic() > deadline:
            raise RuntimeError("psubscribe %s not confirmed" % (patterns,))
        msg = sub.get_message(timeout=0.5)
        if msg and msg["type"] == "psubscribe":
            confirmed += 1
    return sub


def messages(run, sub):
    """Yield published payloads until the run stops."""
    while not run.stop.is_set():
        msg = sub.get_message(timeout=0.2)
        if msg and msg["type"] == "pmessage":
            yield msg["data"].decode()


def bitsource(run):
    """Produce random points in the unit square."""
    conn = run.conn()
    for name, event in run.ready.items():
        if not event.wait(10):
            run.errors.append("%s never subscribed" % name)
            run.stop.set()
            return
    for _ in range(run.args.points):
        if run.stop.is_set():
            return
        bits = ones_and_zeros(B * 2)
        if conn.publish("points." + bits, bits) != 1:
            run.undelivered += 1
        if run.args.interval:
            time.sleep(run.args.interval)


def always_yes(run):
    """Coordinates in the lower-left quadrant are inside the unit circle."""
    conn = run.conn()
    sub = subscribe(run, conn, ["points.00*"])
    run.ready["always_yes"].set()
    for _ in messages(run, sub):
        conn.lpush(run.decisions, "Y")
    sub.close()


def judge(run):
    """Determine whether each input coordinate is inside the unit circle."""
    conn = run.conn()
    sub = subscribe(run, conn, ["points.01*", "points.10*", "points.11*"])
    run.ready["judge"].set()
    reply_key = run.reply_prefix + uuid.uuid4().hex
    unit = 2 ** (B * 2)
    for bits in messages(run, sub):
        n, m = int(bits[::2], 2), int(bits[1::2], 2)
        conn.lpush(run.requests, json.dumps({"reply_to": reply_key, "numbers": [n, m]}))
        reply = conn.brpop([reply_key], timeout=5)
        if reply is None:
            run.errors.append("pythagoras did not answer")
            run.stop.set()
            break
        sumsquares = json.loads(reply[1])
        conn.lpush(run.decisions, "Y" if sumsquares < unit else "N")
    sub.close()


def pythagoras(run):
    """Return the sum-of-squares of number sequences."""
    conn = run.conn()
    while not run.stop.is_set():
        item = conn.brpop([run.requests], timeout=1)
        if item is None:
            continue
        request = json.loads(item[1])
        conn.lpush(request["reply_to"], json.dumps(sum(n * n for n in request["numbers"])))
        conn.expire(request["reply_to"], 10)


def tally(run):
    """Tally how many points fall within the unit circle, and print pi."""
    conn = run.conn()
    deadline = time.monotonic() + run.args.duration
    p = q = 0
    while q < run.args.points and time.monotonic() < deadline and not run.stop.is_set():
        item = conn.brpop([run.decisions], timeout=1)
        if item is None:
            continue
        decision = item[1].decode()
        q += 1
        if decision == 'Y':
            p += 4
        if q % run.args.report_every == 0:
            print(decision, p / q, flush=True)
    run.result = (p, q)
    run.stop.set()


def start_thread(function, *args):
    thread = threading.Thread(target=function, args=args)
    thread.daemon = True  # so you can easily Ctrl-C the whole program
    thread.start()
    return thread


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=0.001,
                        help="seconds between points (the tutorial uses 0.01)")
    parser.add_argument("--duration", type=float, default=30.0,
                        help="stop after this many seconds even if points are missing")
    parser.add_argument("--report-every", type=int, default=100)
    args = parser.parse_args()

    run = Run(args)
    threads = [start_thread(f, run)
               for f in (pythagoras, tally, always_yes, judge, bitsource)]
    threads[1].join(args.duration + 5)
    run.stop.set()
    for t in threads:
        t.join(5)

    p, q = run.result or (0, 0)
    for error in run.errors:
        print("error: %s" % error)
    if run.undelivered:
        print("error: %d points reached no subscriber" % run.undelivered)
    if q != args.points or run.errors or run.undelivered:
        print("FAIL: tallied %d of %d points" % (q, args.points))
        return 1
    print("pi is approximately %.4f from %d points (%d inside the unit circle)"
          % (p / q, q, p // 4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
