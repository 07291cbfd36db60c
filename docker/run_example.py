"""Run one of examples/python/*.py, unchanged, against herald on another host.

    python run_example.py redis_sub.py [args...]

The examples connect with redis.Redis() and its defaults (localhost:6379), as
a script on herald's own machine would. In a container herald is another host
(the compose service `herald`), so this wrapper changes those defaults to
$REDIS_HOST:$REDIS_PORT (default herald:6379) and then runs the script as
__main__; the script's own code is untouched. A host or port the script passes
itself still wins.

WAIT_FOR_SUBSCRIBERS=chan1,chan2 makes it first wait (up to
WAIT_FOR_SUBSCRIBERS_TIMEOUT seconds, default 30) until every channel has a
subscriber (PUBSUB NUMSUB): a broker keeps nothing published before a
subscription exists, so a publisher started beside its subscriber waits for it.
"""
import functools
import os
import runpy
import sys
import time

import redis

HOST = os.environ.get("REDIS_HOST", "herald")
PORT = int(os.environ.get("REDIS_PORT", "6379"))

_init = redis.Redis.__init__


@functools.wraps(_init)
def _init_with_defaults(self, host=HOST, port=PORT, *args, **kwargs):
    _init(self, host, port, *args, **kwargs)


redis.Redis.__init__ = _init_with_defaults


def wait_for_subscribers(channels, timeout):
    conn = redis.Redis()
    deadline = time.monotonic() + timeout
    while True:
        try:
            counts = dict(conn.pubsub_numsub(*channels))
            missing = [c for c in channels if counts.get(c.encode(), 0) < 1]
        except redis.ConnectionError as e:
            missing = ["(herald not reachable: %s)" % e]
        if not missing:
            return
        if time.monotonic() > deadline:
            sys.exit("run_example: no subscriber on %s after %ss" % (", ".join(missing), timeout))
        time.sleep(0.2)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    channels = [c for c in os.environ.get("WAIT_FOR_SUBSCRIBERS", "").split(",") if c]
    if channels:
        wait_for_subscribers(channels, float(os.environ.get("WAIT_FOR_SUBSCRIBERS_TIMEOUT", "30")))
    script = sys.argv[1]
    if not os.path.isabs(script):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), script)
    sys.argv = [script] + sys.argv[2:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
