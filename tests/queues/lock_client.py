"""redis-py's Lock (Lua scripts for release, extend, reacquire) over herald:
two contenders, a release, a timeout, extend and reacquire."""
import os
import threading
import time

from redis import Redis
from redis.exceptions import LockNotOwnedError

r = Redis.from_url(os.environ["HERALD_URL"])
r.delete("lock:res", "lock:short")

a = r.lock("lock:res", timeout=10, thread_local=False)
b = r.lock("lock:res", timeout=10, thread_local=False)
print("contend", a.acquire(blocking=False), b.acquire(blocking=False), a.owned(), b.owned(), b.locked())
a.release()
print("after_release", a.locked(), b.acquire(blocking=False), b.owned())

b.extend(20)
extended = 20000 < r.pttl("lock:res") <= 30000
b.reacquire()
reacquired = 9000 < r.pttl("lock:res") <= 10000
print("extend", extended, reacquired)
# A contender holding someone else's token cannot release or extend.
intruder = r.lock("lock:res", timeout=10)
intruder.local.token = b"not-the-owner"
try:
    intruder.release()
    print("foreign_release", "released")
except LockNotOwnedError:
    print("foreign_release", "LockNotOwnedError")
intruder.local.token = b"not-the-owner"
try:
    intruder.extend(5)
    print("foreign_extend", "extended")
except LockNotOwnedError:
    print("foreign_extend", "LockNotOwnedError")

# A blocking acquire waits for the holder (another thread) to let go.
threading.Timer(0.2, b.release).start()
start = time.time()
got = a.acquire(blocking=True, blocking_timeout=5)
print("blocking", got, time.time() - start >= 0.15)
a.release()

# A lock with a timeout expires by itself.
c = r.lock("lock:short", timeout=1)
d = r.lock("lock:short", timeout=5)
print("timeout", c.acquire(blocking=False), d.acquire(blocking=False))
time.sleep(1.3)
print("expired", c.locked(), d.acquire(blocking=False), c.owned(), d.owned())
try:
    c.extend(1)
    print("stale_extend", "extended")
except LockNotOwnedError:
    print("stale_extend", "LockNotOwnedError")
try:
    c.release()
    print("stale_release", "released")
except LockNotOwnedError:
    print("stale_release", "LockNotOwnedError")
d.release()
print("done", r.exists("lock:res", "lock:short"))
