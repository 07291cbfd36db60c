"""Sends 20 Dramatiq messages and a delayed one, waits for the worker (a
separate `dramatiq dramatiq_app` process) to run them, prints what ran."""
import time

from dramatiq_app import record, record_delayed, results

DELAY_MS = 1500

results.delete("dramatiq:seen", "dramatiq:delayed-on-time")
for i in range(20):
    record.send(i)
record_delayed.send_with_options(args=(time.time(), DELAY_MS), delay=DELAY_MS)
print("sent 21", flush=True)

deadline = time.time() + 30
while time.time() < deadline and results.hlen("dramatiq:seen") < 21:
    time.sleep(0.05)
# Long enough for a duplicate delivery to show up as a count of 2.
time.sleep(0.5)
seen = {k.decode(): int(v) for k, v in results.hgetall("dramatiq:seen").items()}
print("runs", [seen.get(str(i)) for i in range(20)], seen.get("delayed"), len(seen))
print("delayed_on_time", results.get("dramatiq:delayed-on-time").decode())
