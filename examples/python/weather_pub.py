"""Weather-update publisher: the ZeroMQ PUB/SUB weather example on herald.

The ZeroMQ tutorial's publisher binds a PUB socket and sends strings
"zipcode temperature humidity"; subscribers filter them by topic prefix.
With herald in the middle the publisher connects to the broker and PUBLISHes
every update on the channel named by its zipcode (e.g. "10001"), and the
subscriber (weather_sub.py) uses PSUBSCRIBE "10001*" as the prefix filter.

The tutorial picks zipcodes from 1..99999 and loops forever; here the zipcodes
come from a smaller range (--zip-range, default 10000-10099) so a subscriber
to one zipcode sees an update about once every hundred, and the publisher
stops after --count updates.

    python weather_pub.py --port 6379 --count 5000
"""
import argparse
import sys
import time
from random import randrange

import redis


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--count", type=int, default=100000,
                        help="number of updates to publish (default 100000)")
    parser.add_argument("--zip-range", default="10000-10099",
                        help="zipcodes to draw from, LOW-HIGH inclusive")
    parser.add_argument("--interval", type=float, default=0.0,
                        help="seconds to sleep between updates (default 0)")
    args = parser.parse_args()
    low, high = (int(x) for x in args.zip_range.split("-"))

    conn = redis.Redis(host=args.host, port=args.port)
    print("Publishing %d weather updates to %s:%d..." % (args.count, args.host, args.port))
    heard = 0
    for _ in range(args.count):
        zipcode = randrange(low, high + 1)
        temperature = randrange(-80, 135)
        relhumidity = randrange(10, 60)
        update = "%i %i %i" % (zipcode, temperature, relhumidity)
        # PUBLISH returns how many subscribers (channel or pattern) got it;
        # an update nobody listens to is simply dropped by the broker.
        receivers = conn.publish(str(zipcode), update)
        if receivers:
            heard += 1
            print("Delivered: %s (to %d subscriber(s))" % (update, receivers))
        if args.interval:
            time.sleep(args.interval)
    print("Published %d updates, %d reached a subscriber" % (args.count, heard))
    return 0


if __name__ == "__main__":
    sys.exit(main())
