"""Request/reply server over lists: the ZeroMQ REP socket on herald.

Clients (reqrep_client.py) LPUSH a request onto the request list; each
request is JSON {"reply_to": KEY, "body": TEXT} where KEY is a list only that
client waits on. The server BRPOPs a request, does some 'work', LPUSHes the
answer onto KEY and gives KEY an expiry, so a reply nobody collects (the
client timed out and went away) does not stay in the server forever.
Any number of servers can BRPOP the same request list: each request is
answered by exactly one of them.

It exits after --max-requests requests or when idle for --idle-timeout seconds.

    python reqrep_server.py --port 6379
"""
import argparse
import json
import sys
import time

import redis


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--queue", default="reqrep:requests")
    parser.add_argument("--work-ms", type=int, default=100,
                        help="pretend each request takes this long (default 100)")
    parser.add_argument("--reply-ttl", type=int, default=30,
                        help="seconds a reply waits for its client (default 30)")
    parser.add_argument("--max-requests", type=int, default=1000000)
    parser.add_argument("--idle-timeout", type=int, default=10,
                        help="exit after this many seconds without a request")
    args = parser.parse_args()

    conn = redis.Redis(host=args.host, port=args.port)
    conn.ping()
    print("Waiting for requests on %r..." % args.queue, flush=True)
    served = 0
    while served < args.max_requests:
        # Wait for next request from client
        item = conn.brpop([args.queue], timeout=args.idle_timeout)
        if item is None:
            break
        request = json.loads(item[1])
        print("Received request: %s" % request["body"])
        # Do some 'work'
        time.sleep(args.work_ms / 1000.0)
        # Send reply back to client
        reply = "stop saying: %s" % request["body"]
        conn.lpush(request["reply_to"], reply)
        conn.expire(request["reply_to"], args.reply_ttl)
        served += 1
    print("Server done: answered %d requests" % served)
    return 0


if __name__ == "__main__":
    sys.exit(main())
