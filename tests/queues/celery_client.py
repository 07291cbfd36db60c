"""Sends work to a running Celery worker through herald and prints each
outcome on one line, for tests/job_queues.rs to compare."""
import time

from celery import chord, group

from celery_app import add, tsum

results = [add.delay(i, i) for i in range(20)]
print("tasks", [r.get(timeout=60) for r in results])

print("group", group(add.s(i, 1) for i in range(5))().get(timeout=60))

print("chord", chord((add.s(i, i) for i in range(5)), tsum.s())().get(timeout=60))

started = time.monotonic()
value = add.apply_async((40, 2), countdown=2).get(timeout=60)
print("countdown", value, time.monotonic() - started >= 1.9)
