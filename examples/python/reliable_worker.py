"""Reliable work queue: BLMOVE to a per-worker processing list, LREM when done.

With a plain BRPOP a task is gone from the server the moment a worker takes
it; if the worker dies mid-task, the task is lost. Here a worker takes a task
with BLMOVE, which atomically moves it from the task list to the worker's own
processing list, and removes it from there with LREM once it is finished.
Whatever is left in a dead worker's processing list can be moved back onto
the task list by recover(). Delivery is at-least-once: a worker that dies
after finishing a task but before its LREM gets that task redone.

    python reliable_worker.py work --name w1 --port 6379     # a worker
    python reliable_worker.py recover --dead w1 --port 6379  # after w1 died
    python reliable_worker.py demo --port 6379               # the whole story

The demo queues tasks, lets a worker "crash" in the middle of a task, recovers
the stranded task, finishes the queue with healthy workers and checks that
every task was done exactly once.
"""
import argparse
import collections
import os
import subprocess
import sys
import time
import uuid

import redis


def keys(prefix, worker=None):
    tasks = prefix + ":tasks"
    done = prefix + ":done"
    processing = prefix + ":processing:" + worker if worker else None
    return tasks, done, processing


def work(conn, prefix, name, idle_timeout=5, work_ms=10, crash_after=None):
    """Process tasks until the task list stays empty for idle_timeout seconds."""
    tasks, done_key, processing = keys(prefix, name)
    done = 0
    while True:
        # Oldest task (right end) -> front (left end) of our processing list.
        task = conn.blmove(tasks, processing, idle_timeout, "RIGHT", "LEFT")
        if task is None:
            break
        task = task.decode()
        if crash_after is not None and done >= crash_after:
            print("%s: crashing while working on %s" % (name, task), flush=True)
            os._exit(3)  # die without cleaning up: the task stays in `processing`
        time.sleep(work_ms / 1000.0)  # Pretend to be working
        conn.lpush(done_key, "%s %s" % (task, name))
        conn.lrem(processing, 1, task)
        done += 1
    print("%s: done %d tasks, idle for %ds" % (name, done, idle_timeout), flush=True)
    return done


def recover(conn, prefix, dead_worker):
    """Move the tasks left in a dead worker's processing list back to the task list.

    They go to the right end, the end workers take from, oldest first."""
    tasks, _, processing = keys(prefix, dead_worker)
    moved = []
    while True:
        task = conn.lmove(processing, tasks, "LEFT", "RIGHT")
        if task is None:
            break
        moved.append(task.decode())
    return moved


def demo(conn, args):
    prefix = "%s-demo-%s" % (args.prefix, uuid.uuid4().hex[:8])
    tasks, done_key, _ = keys(prefix)
    names = ["task-%d" % i for i in range(args.tasks)]
    for name in names:
        conn.lpush(tasks, name)
    print("Queued %d tasks on %r" % (len(names), tasks))

    base = [sys.executable, os.path.abspath(__file__), "--host", args.host,
            "--port", str(args.port), "--prefix", prefix]
    crashed = subprocess.run(base + ["work", "--name", "crashy", "--crash-after", "3",
                                     "--idle-timeout", "1"])
    print("crashy exited with status %d" % crashed.returncode)
    stranded = [t.decode() for t in conn.lrange(keys(prefix, "crashy")[2], 0, -1)]
    print("Left in crashy's processing list: %s" % stranded)

    moved = recover(conn, prefix, "crashy")
    print("Recovered %s back onto %r" % (moved, tasks))

    healthy = [subprocess.Popen(base + ["work", "--name", "healthy-%d" % i,
                                        "--idle-timeout", "1"])
               for i in (1, 2)]
    for p in healthy:
        p.wait(timeout=args.tasks * 1.0 + 30)

    finished = []
    while True:
        item = conn.rpop(done_key)
        if item is None:
            break
        finished.append(item.decode().split())
    counts = collections.Counter(task for task, _ in finished)
    by_worker = collections.Counter(worker for _, worker in finished)
    leftover = conn.llen(tasks) + sum(
        conn.llen(keys(prefix, w)[2]) for w in ("crashy", "healthy-1", "healthy-2"))
    print("Done by: %s" % ", ".join("%s=%d" % kv for kv in sorted(by_worker.items())))
    problems = []
    if crashed.returncode != 3 or len(stranded) != 1 or moved != stranded:
        problems.append("the crash did not strand exactly one task")
    missing = [t for t in names if counts[t] == 0]
    dupes = [t for t, n in counts.items() if n > 1]
    if missing or dupes:
        problems.append("missing %s, duplicated %s" % (missing, dupes))
    if leftover:
        problems.append("%d tasks still queued or in processing lists" % leftover)
    if problems:
        print("FAIL: " + "; ".join(problems))
        return 1
    print("OK: %d tasks done exactly once; %d recovered from crashed worker 'crashy'"
          % (len(names), len(moved)))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--prefix", default="reliable",
                        help="key prefix: PREFIX:tasks, PREFIX:processing:NAME, PREFIX:done")
    sub = parser.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("work", help="run a worker")
    w.add_argument("--name", default="worker-%d" % os.getpid())
    w.add_argument("--idle-timeout", type=int, default=5)
    w.add_argument("--work-ms", type=int, default=10)
    w.add_argument("--crash-after", type=int, default=None,
                   help="die in the middle of the task after this many (for the demo)")
    r = sub.add_parser("recover", help="requeue a dead worker's tasks")
    r.add_argument("--dead", required=True, help="name of the dead worker")
    d = sub.add_parser("demo", help="crash, recover and finish a batch")
    d.add_argument("--tasks", type=int, default=20)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # keep order with the child workers

    conn = redis.Redis(host=args.host, port=args.port)
    if args.cmd == "work":
        work(conn, args.prefix, args.name, args.idle_timeout, args.work_ms, args.crash_after)
        return 0
    if args.cmd == "recover":
        moved = recover(conn, args.prefix, args.dead)
        print("Recovered %d tasks from %s: %s" % (len(moved), args.dead, moved))
        return 0
    return demo(conn, args)


if __name__ == "__main__":
    sys.exit(main())
