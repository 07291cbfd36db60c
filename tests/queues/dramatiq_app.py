"""Dramatiq actors with herald as the RedisBroker (HERALD_URL).

Each actor counts its runs in a hash on the same server, so the client can
check that every message ran exactly once.
"""
import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from redis import Redis

URL = os.environ["HERALD_URL"]

broker = RedisBroker(url=URL)
dramatiq.set_broker(broker)
results = Redis.from_url(URL)


@dramatiq.actor(queue_name="herald", max_retries=0)
def record(i):
    results.hincrby("dramatiq:seen", str(i), 1)


@dramatiq.actor(queue_name="herald", max_retries=0)
def record_delayed(sent_at, delay_ms):
    ran_late_enough = time.time() - sent_at >= delay_ms / 1000
    results.hincrby("dramatiq:seen", "delayed", 1)
    results.set("dramatiq:delayed-on-time", str(ran_late_enough))
