"""Weather-update subscriber: the ZeroMQ topic-prefix filter as a PSUBSCRIBE.

The tutorial's subscriber does setsockopt(zmq.SUBSCRIBE, "10001") and averages
the temperature over 5 updates. On herald the prefix filter is the pattern
"10001*" (PSUBSCRIBE), matched against the channel = zipcode the publisher
(weather_pub.py) uses. A shorter prefix ("1000") takes in several zipcodes.

Unlike ZeroMQ there is no slow-joiner race with the publisher, but only updates
published after the PSUBSCRIBE is confirmed arrive: start this first, and start
the publisher once "Collecting updates" is printed.

    python weather_sub.py 10001 --port 6379 --count 5
"""
import argparse
import sys
import time

import redis


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zip_filter", nargs="?", default="10001",
                        help="zipcode prefix to subscribe to (default NYC, 10001)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--count", type=int, default=5,
                        help="number of updates to average (default 5)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="give up (exit 1) after this many seconds")
    args = parser.parse_args()
    zip_filter = args.zip_filter
    pattern = zip_filter + "*"

    conn = redis.Redis(host=args.host, port=args.port)
    sub = conn.pubsub()
    sub.psubscribe(pattern)
    deadline = time.monotonic() + args.timeout

    # Wait for the broker to confirm the subscription before announcing that
    # we are collecting: updates published from now on will reach us.
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print("No psubscribe confirmation within %.0fs" % args.timeout)
            return 1
        msg = sub.get_message(timeout=min(left, 1.0))
        if msg and msg["type"] == "psubscribe":
            print("Subscribed to pattern %r" % pattern)
            break
    print("Collecting updates from weather server...")

    total_temp = 0
    update_nbr = 0
    while update_nbr < args.count:
        left = deadline - time.monotonic()
        if left <= 0:
            print("Timed out after %d of %d updates" % (update_nbr, args.count))
            return 1
        msg = sub.get_message(timeout=min(left, 1.0))
        if not msg or msg["type"] != "pmessage":
            continue
        string = msg["data"].decode()
        zipcode, temperature, relhumidity = string.split()
        if not zipcode.startswith(zip_filter) or msg["channel"].decode() != zipcode:
            print("Unexpected update %r on channel %r" % (string, msg["channel"]))
            return 1
        print("Received: %s" % string)
        total_temp += int(temperature)
        update_nbr += 1
    sub.punsubscribe(pattern)
    sub.close()

    print(
        "Average temperature for zipcode '%s' was %dF"
        % (zip_filter, total_temp / max(update_nbr, 1))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
