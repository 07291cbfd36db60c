"""Request/reply client over lists: the ZeroMQ REQ socket on herald.

Each request carries a unique reply key; the client LPUSHes the request onto
the server's list and BRPOPs its reply key with a timeout, so a missing server
shows up as a timeout instead of a hang.

    python reqrep_client.py --port 6379 --requests 5
"""
import argparse
import json
import sys
import uuid

import redis


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--queue", default="reqrep:requests")
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--timeout", type=int, default=5,
                        help="seconds to wait for each reply (default 5)")
    args = parser.parse_args()

    conn = redis.Redis(host=args.host, port=args.port)
    print("Connecting to hello world server...")
    answered = 0
    for num in range(1, args.requests + 1):
        request_str = "message #%d" % num
        reply_key = "reqrep:reply:%s" % uuid.uuid4().hex
        request = json.dumps({"reply_to": reply_key, "body": request_str})
        conn.lpush(args.queue, request)
        # Get the reply.
        item = conn.brpop([reply_key], timeout=args.timeout)
        if item is None:
            # Withdraw the request if no server has taken it yet.
            withdrawn = conn.lrem(args.queue, 1, request)
            print("No reply to %r within %ds%s" % (
                request_str, args.timeout, " (request withdrawn)" if withdrawn else ""))
            break
        reply_str = item[1].decode()
        print("Sent %s, received %s" % (request_str, reply_str))
        if reply_str != "stop saying: %s" % request_str:
            print("FAIL: wrong reply")
            return 1
        answered += 1
    print("Sent %d requests, received %d replies" % (args.requests, answered))
    return 0 if answered == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
