"""Reliable work queue on a stream: XREADGROUP to take a task, XACK when done,
XAUTOCLAIM to take over the tasks of a worker that died.

Pub/sub forgets a message the moment it is published, and a list pop forgets
a task the moment a worker takes it. A stream keeps every task; a consumer
group hands each one to a single worker and remembers it as pending (the
group's PEL) until the worker acknowledges it. A worker that dies leaves its
tasks pending; any other worker can claim those that have been idle long
enough (XAUTOCLAIM) and finish them. Delivery is at-least-once: a worker
that dies after finishing a task but before its XACK gets that task redone.

    python reliable_queue.py work --name w1 --port 6379   # a worker
    python reliable_queue.py demo --port 6379             # the whole story

The demo queues tasks, lets a worker "crash" in the middle of a task, has two
healthy workers finish the queue (one of them claims the stranded task) and
checks that every task was done exactly once and nothing is left pending.
"""
import argparse
import collections
import os
import subprocess
import sys
import time
import uuid

import redis

GROUP = "workers"


def keys(prefix):
    return prefix + ":tasks", prefix + ":done"


def work(conn, prefix, name, idle_timeout=2.0, min_idle_ms=200, work_ms=10, crash_after=None):
    """Process tasks until none comes for idle_timeout seconds.

    Before asking for new tasks (">"), the worker claims tasks other workers
    have left pending for at least min_idle_ms."""
    stream, done_key = keys(prefix)
    done = 0
    last_work = time.time()
    while True:
        _cursor, messages, _deleted = conn.xautoclaim(
            stream, GROUP, name, min_idle_ms, "0-0", count=10)
        claimed = bool(messages)
        if not messages:
            reply = conn.xreadgroup(GROUP, name, {stream: ">"}, count=1, block=200)
            messages = reply[0][1] if reply else []
        if not messages:
            if time.time() - last_work > idle_timeout:
                break
            continue
        for message_id, fields in messages:
            task = fields[b"task"].decode()
            if crash_after is not None and done >= crash_after:
                print("%s: crashing while working on %s" % (name, task), flush=True)
                os._exit(3)  # die without XACK: the task stays pending, ours
            if claimed:
                print("%s: claimed %s from a dead worker with XAUTOCLAIM" % (name, task),
                      flush=True)
            time.sleep(work_ms / 1000.0)  # Pretend to be working
            conn.lpush(done_key, "%s %s" % (task, name))
            conn.xack(stream, GROUP, message_id)
            done += 1
        last_work = time.time()
    print("%s: done %d tasks" % (name, done), flush=True)
    return done


def demo(conn, args):
    prefix = "%s-demo-%s" % (args.prefix, uuid.uuid4().hex[:8])
    stream, done_key = keys(prefix)
    conn.xgroup_create(stream, GROUP, id="$", mkstream=True)
    names = ["task-%d" % i for i in range(args.tasks)]
    for task in names:
        conn.xadd(stream, {"task": task})
    print("Queued %d tasks on %r for group %r" % (len(names), stream, GROUP))

    base = [sys.executable, os.path.abspath(__file__), "--host", args.host,
            "--port", str(args.port), "--prefix", prefix]
    crashed = subprocess.run(base + ["work", "--name", "crashy", "--crash-after", "3"])
    print("crashy exited with status %d" % crashed.returncode)
    pending = conn.xpending(stream, GROUP)
    stranded = {c["name"].decode(): c["pending"] for c in pending["consumers"]}
    print("Pending after the crash: %s" % stranded)

    healthy = [subprocess.Popen(base + ["work", "--name", "healthy-%d" % i],
                                stdout=subprocess.PIPE, text=True)
               for i in (1, 2)]
    outputs = []
    for p in healthy:
        out, _ = p.communicate(timeout=args.tasks * 1.0 + 30)
        sys.stdout.write(out)
        outputs.append(out)
    claims = sum(out.count("with XAUTOCLAIM") for out in outputs)

    finished = []
    while True:
        item = conn.rpop(done_key)
        if item is None:
            break
        finished.append(item.decode().split())
    counts = collections.Counter(task for task, _ in finished)
    by_worker = collections.Counter(worker for _, worker in finished)
    left = conn.xpending(stream, GROUP)["pending"]
    print("Done by: %s" % ", ".join("%s=%d" % kv for kv in sorted(by_worker.items())))
    problems = []
    if crashed.returncode != 3 or stranded != {"crashy": 1}:
        problems.append("the crash did not strand exactly one task")
    if claims != 1:
        problems.append("%d tasks were claimed with XAUTOCLAIM, not 1" % claims)
    missing = [t for t in names if counts[t] == 0]
    dupes = [t for t, n in counts.items() if n > 1]
    if missing or dupes:
        problems.append("missing %s, duplicated %s" % (missing, dupes))
    if left:
        problems.append("%d tasks still pending" % left)
    if problems:
        print("FAIL: " + "; ".join(problems))
        return 1
    print("OK: %d tasks done exactly once; %d claimed from crashed worker 'crashy' "
          "with XAUTOCLAIM" % (len(names), claims))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--prefix", default="reliable-queue")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("work", help="process tasks until idle")
    w.add_argument("--name", required=True)
    w.add_argument("--crash-after", type=int, default=None,
                   help="die (without XACK) while working on the task after this many")
    w.add_argument("--idle-timeout", type=float, default=2.0)
    d = sub.add_parser("demo", help="queue tasks, crash a worker, claim, check")
    d.add_argument("--tasks", type=int, default=20)
    args = parser.parse_args()

    conn = redis.Redis(host=args.host, port=args.port)
    if args.command == "work":
        work(conn, args.prefix, args.name, idle_timeout=args.idle_timeout,
             crash_after=args.crash_after)
        return 0
    return demo(conn, args)


if __name__ == "__main__":
    sys.exit(main())
