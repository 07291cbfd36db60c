"""A job scheduled with enqueue_in, run by a burst worker with the scheduler."""
import os
import time
from datetime import timedelta

from redis import Redis
from rq import Queue, Worker

import rq_jobs

conn = Redis.from_url(os.environ["HERALD_URL"])
queue = Queue("herald-scheduled", connection=conn)
job = queue.enqueue_in(timedelta(seconds=1), rq_jobs.square, 7)
print("scheduled", job.get_status())
time.sleep(1.5)
Worker([queue], connection=conn).work(burst=True, with_scheduler=True)
print("result", job.return_value())
