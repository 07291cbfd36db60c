"""Pipeline worker: takes tasks with BRPOP, "works", LPUSHes the result.

The tutorial's worker PULLs a workload, sleeps that many milliseconds and
PUSHes a result to the sink. Here the worker BRPOPs "TASK_ID WORKLOAD" from
the task list, sleeps, and LPUSHes "TASK_ID WORKLOAD WORKER" to the results
list. It exits on a STOP message, after --max-tasks tasks, or when the task
list has stayed empty for --idle-timeout seconds.

    python pipeline_worker.py --port 6379 --name worker-1
"""
import argparse
import os
import sys
import time

import redis


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--name", default="worker-%d" % os.getpid())
    parser.add_argument("--prefix", default="pipeline")
    parser.add_argument("--idle-timeout", type=int, default=10,
                        help="exit after this many seconds without a task")
    parser.add_argument("--max-tasks", type=int, default=1000000)
    args = parser.parse_args()
    tasks_key = args.prefix + ":tasks"
    results_key = args.prefix + ":results"

    conn = redis.Redis(host=args.host, port=args.port)
    conn.ping()
    print("%s waiting for tasks on %r" % (args.name, tasks_key), flush=True)
    done = 0
    reason = "max-tasks reached"
    while done < args.max_tasks:
        item = conn.brpop([tasks_key], timeout=args.idle_timeout)
        if item is None:
            reason = "idle for %ds" % args.idle_timeout
            break
        task = item[1].decode()
        if task == "STOP":
            reason = "STOP received"
            break
        task_id, workload = task.split()
        sys.stdout.write("#")
        sys.stdout.flush()
        time.sleep(int(workload) * 0.001)  # Pretend to be working
        conn.lpush(results_key, "%s %s %s" % (task_id, workload, args.name))
        done += 1
    print()
    print("%s done: %d tasks (%s)" % (args.name, done, reason))
    return 0


if __name__ == "__main__":
    sys.exit(main())
