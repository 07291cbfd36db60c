"""Enqueues RQ jobs on herald, runs a burst worker, prints the outcomes."""
import os

from redis import Redis
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, FinishedJobRegistry

import rq_jobs

conn = Redis.from_url(os.environ["HERALD_URL"])
queue = Queue("herald", connection=conn)
jobs = [queue.enqueue(rq_jobs.square, i) for i in range(20)]
bad = queue.enqueue(rq_jobs.broken)
print("queued", len(queue))

Worker([queue], connection=conn).work(burst=True)

print("results", [job.return_value() for job in jobs])
print("failed", bad.get_status(), bad.id in FailedJobRegistry(queue=queue).get_job_ids())
print("finished", len(FinishedJobRegistry(queue=queue)))
print("left", len(queue))
