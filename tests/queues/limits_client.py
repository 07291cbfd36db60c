"""The `limits` rate limiters (fixed window, moving window, sliding window
counter) over herald's redis:// storage; prints each limiter's decisions."""
import os

from limits import parse, storage, strategies

store = storage.storage_from_string(os.environ["HERALD_URL"])
assert store.check(), "storage check failed"
store.reset()

five = parse("5/minute")
for name, cls in [
    ("fixed", strategies.FixedWindowRateLimiter),
    ("moving", strategies.MovingWindowRateLimiter),
    ("sliding", strategies.SlidingWindowCounterRateLimiter),
]:
    limiter = cls(store)
    hits = [limiter.hit(five, "user", name) for _ in range(7)]
    other = limiter.hit(five, "other", name)
    stats = limiter.get_window_stats(five, "user", name)
    tested = limiter.test(five, "user", name)
    # Weighted hits: 2 + 2 fit in 5, the next 2 do not, a last 1 does.
    costly = [limiter.hit(five, "costly", name, cost=c) for c in (2, 2, 2, 1)]
    print(name, hits, other, stats.remaining, tested, costly)
    limiter.clear(five, "user", name)
    print(name + "_cleared", limiter.hit(five, "user", name),
          limiter.get_window_stats(five, "user", name).remaining)
