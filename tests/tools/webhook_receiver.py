#!/usr/bin/env python3
"""A webhook receiver for tests: records the JSON bodies POSTed to it.

webhook_receiver.py --port PORT --out FILE [--token TOKEN] [--fail N]

Each POST whose body parses as JSON is appended to FILE as one line and answered 200; with
--token, a request without `Authorization: Bearer TOKEN` is answered 401 and not recorded; the
first N POSTs (--fail) are answered 503 and not recorded. Anything else: 404/400. Prints
"listening" once bound. Runs until killed.
"""
import argparse
import http.server
import json
import sys
import threading


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--token", default="")
    p.add_argument("--fail", type=int, default=0)
    args = p.parse_args()
    lock = threading.Lock()
    state = {"fail": args.fail}

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, code):
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if args.token and self.headers.get("Authorization", "") != "Bearer " + args.token:
                return self.answer(401)
            with lock:
                if state["fail"] > 0:
                    state["fail"] -= 1
                    return self.answer(503)
            try:
                doc = json.loads(body)
            except ValueError:
                return self.answer(400)
            with lock, open(args.out, "a") as f:
                f.write(json.dumps(doc, separators=(",", ":")) + "\n")
            self.answer(200)

        def log_message(self, fmt, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
