"""Task ventilator: the ZeroMQ PUSH/PULL pipeline's first stage, on a list.

The tutorial's ventilator PUSHes 100 tasks (a random workload of 1-100 ms
each) to whichever workers are connected. On herald the tasks go onto a list
with LPUSH; workers (pipeline_worker.py) take them off the other end with
BRPOP, so each task reaches exactly one worker, and a worker that joins late
still finds the tasks waiting. The sink (pipeline_sink.py) is told the batch
size first, through the results list, like the tutorial's "0" start message.

After the tasks come --workers "STOP" messages, one for each worker, so the
workers exit once the list is drained.

    python pipeline_ventilator.py --port 6379 --tasks 100 --workers 3
"""
import argparse
import random
import sys

import redis


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3,
                        help="STOP messages to queue after the tasks (default 3)")
    parser.add_argument("--prefix", default="pipeline",
                        help="key prefix: PREFIX:tasks, PREFIX:results")
    args = parser.parse_args()
    tasks_key = args.prefix + ":tasks"
    results_key = args.prefix + ":results"

    conn = redis.Redis(host=args.host, port=args.port)
    random.seed()
    workloads = [random.randint(1, 100) for _ in range(args.tasks)]
    total_msec = sum(workloads)

    # The first message to the sink signals the start of the batch.
    conn.lpush(results_key, "START %d %d" % (args.tasks, total_msec))
    print("Sending tasks to workers...")
    for task_id, workload in enumerate(workloads):
        conn.lpush(tasks_key, "%d %d" % (task_id, workload))
    for _ in range(args.workers):
        conn.lpush(tasks_key, "STOP")
    print("Total expected cost: %d msec" % total_msec)
    print("Queued %d tasks and %d STOP messages on %r" % (args.tasks, args.workers, tasks_key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
