"""Pipeline sink: collects the workers' results with BRPOP and times the batch.

Like the tutorial's sink it waits for the start-of-batch message, starts its
clock, collects the results, and prints the elapsed time. It also checks what
a queue promises: every task came back exactly once; and it shows how the
load was spread over the workers.

    python pipeline_sink.py --port 6379
"""
import argparse
import collections
import sys
import time

import redis


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--prefix", default="pipeline")
    parser.add_argument("--timeout", type=int, default=30,
                        help="give up (exit 1) when nothing arrives for this many seconds")
    args = parser.parse_args()
    results_key = args.prefix + ":results"

    conn = redis.Redis(host=args.host, port=args.port)
    conn.ping()
    print("Waiting for the batch to start...", flush=True)
    # Wait for start of batch
    item = conn.brpop([results_key], timeout=args.timeout)
    if item is None:
        print("FAIL: no batch started within %ds" % args.timeout)
        return 1
    start = item[1].decode().split()
    if start[0] != "START":
        print("FAIL: expected a START message, got %r" % item[1])
        return 1
    ntasks, expected_msec = int(start[1]), int(start[2])

    # Start our clock now
    t_start = time.time()
    seen = collections.Counter()
    by_worker = collections.Counter()
    order = []
    for _ in range(ntasks):
        item = conn.brpop([results_key], timeout=args.timeout)
        if item is None:
            print("FAIL: only %d of %d results arrived" % (len(order), ntasks))
            return 1
        task_id, workload, worker = item[1].decode().split()
        seen[int(task_id)] += 1
        by_worker[worker] += 1
        order.append((int(task_id), worker))
    t_end = time.time()

    for task_id, worker in order:
        print("task %3d done by %s" % (task_id, worker))
    print("Total expected cost: %d msec" % expected_msec)
    print("Total elapsed time: %d msec" % ((t_end - t_start) * 1000))
    for worker in sorted(by_worker):
        print("%s: %d tasks" % (worker, by_worker[worker]))
    missing = [t for t in range(ntasks) if seen[t] == 0]
    dupes = [t for t, n in seen.items() if n > 1]
    if missing or dupes or len(seen) != ntasks:
        print("FAIL: missing %s, duplicated %s" % (missing, dupes))
        return 1
    spread = " ".join("%s=%d" % (w, by_worker[w]) for w in sorted(by_worker))
    print("OK: %d tasks each done exactly once by %d workers: %s"
          % (ntasks, len(by_worker), spread))
    return 0


if __name__ == "__main__":
    sys.exit(main())
