#!/usr/bin/env python3
"""fault_proxy: an HTTP/1.1 proxy that injects faults between ferry and one S3 gateway (RGW).

Usage:
  fault_proxy.py --upstream 127.0.0.1:7480 [--port 0] [--seed 1] [--rate 0.2]
                 [--kinds 503,reset,truncate,flip,slow] [--methods GET,PUT,...]
                 [--slow-ms 300] [--stats FILE] [--log FILE] [--force KIND:REGEX ...]
                 [--throttle-rps X [--throttle-burst B]]

It listens on 127.0.0.1:PORT (0 = any free port) and prints the chosen port alone on the first
line of stdout, then relays every client connection to the upstream over its own keep-alive
connection. Requests are forwarded byte for byte (request line, headers, body): ferry signs
with SigV4 over the Host header it sent, which names the proxy, and RGW checks the signature
against that same unchanged Host header, so signatures stay valid.

Messages are parsed, not just relayed: Content-Length and chunked bodies, HEAD replies and
1xx/204/304 replies without a body, interim 1xx replies from upstream (skipped), and
"Expect: 100-continue" from the client (answered by the proxy itself).

A fraction --rate of the requests whose method is in --methods (all methods by default) is
faulted. The decision and the kind are a hash of (seed, method, target, how many times this
proxy saw that method and target before), where the target leaves out the first path segment
(the bucket of a path-style request) and uploadId values: a run on freshly named buckets draws
the same faults whatever the thread interleaving, and a retried request gets a fresh draw, so
retries eventually pass. --force KIND:REGEX (repeatable) also gives KIND to the first request
whose request line matches REGEX, whatever the draw: a test's way to be sure one path is hit.
Kinds:

  503       reply "503 SlowDown" with an S3 <Error> XML body without forwarding (keeps the
            connection). Proves: the client retries throttling replies.
  reset     close the client connection with a TCP RST after reading the request, before
            forwarding it. Proves: network faults before the server saw anything are retried.
  truncate  forward, read the whole upstream reply, send the status line and headers with
            only half of the body (or half of the header block when the body is empty, e.g.
            a PUT), then close. The request DID execute upstream (a PUT stored the object, a
            CompleteMultipartUpload completed the upload, a CreateMultipartUpload opened an
            upload). Proves: retries of requests that already took effect are safe.
  flip      forward and flip one byte of a 2xx object GET body, length and headers kept
            (object GETs only: path /bucket/key, no sub-resource query such as ?uploadId,
            ?tagging or a listing; GCS JSON API reads with alt=media; other requests drawn for flip are relayed unchanged and
            counted as flip_skipped). Proves: corruption in transit is detected (checksums),
            never written silently.
  slow      forward, then hold the reply for --slow-ms (100%..200% of it) before sending.
            Proves: slow replies are waited for, not mistaken for failures.

--throttle-rps X throttles as S3 and RGW do, by rate: a token bucket of X requests per second
holding at most --throttle-burst (default X/10, at least 1) takes one token per request as it
comes in; a request that finds no token is answered "503 SlowDown" (an S3 <Error> XML body, no
Retry-After, as S3 sends it) without forwarding, and takes none. Over any span T at most
X * T + B requests get through. These count as "throttled" (not as faults), and "timeline" has
per second since the first request [requests, throttled], for a test to look at the rate and
the throttles once a run settled. The random faults above apply to what gets through.

Counts (requests, per method, per fault kind, skips, upstream errors) are written as JSON to
--stats (atomically, at most every 0.2 s while they change, and at exit) and printed as one
JSON line on stdout when SIGTERM or SIGINT ends the proxy. --log gets one line per fault:
"KIND<TAB>request line".

Used by tests/cli/faults_test.sh. Python 3 standard library only; one thread per client
connection; every message is held whole in memory (fine for test-sized parts).
"""

import argparse
import hashlib
import json
import os
import re
import signal
import socket
import struct
import threading
import time
import urllib.parse

KINDS = ("503", "reset", "truncate", "flip", "slow")
# Query parameters that leave a GET an object read, besides response-* overrides and presigned
# X-Amz-* ones (anything else is a sub-resource or a listing).
OBJECT_GET_QUERY = {"versionId", "partNumber"}


class Closed(Exception):
    """The peer closed the connection (or the bytes could not be parsed)."""


class Reader:
    """Buffered reads from a socket: lines, header blocks, exact byte counts."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise Closed()
        self.buf += data

    def idle_and_empty(self):
        return not self.buf

    def until(self, delim, limit=1 << 20):
        start = 0
        while True:
            i = self.buf.find(delim, start)
            if i >= 0:
                end = i + len(delim)
                out = bytes(self.buf[:end])
                del self.buf[:end]
                return out
            if len(self.buf) > limit:
                raise Closed()
            start = max(0, len(self.buf) - len(delim) + 1)
            self._fill()

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def rest(self):
        """Everything until the peer closes."""
        try:
            while True:
                self._fill()
        except (Closed, OSError):
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out


class Message:
    """One parsed HTTP message: raw head bytes, start line, headers, raw body bytes and the
    (offset, length) spans of the body that carry payload (differs from the raw body when
    chunked)."""

    def __init__(self, head):
        self.head = head
        lines = head.decode("latin-1").split("\r\n")
        self.start = lines[0]
        self.headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            self.headers.append((name.strip().lower(), value.strip()))
        self.body = b""
        self.spans = []

    def header(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def has_token(self, name, token):
        v = self.header(name)
        return v is not None and token in [t.strip().lower() for t in v.split(",")]

    def raw(self):
        return self.head + self.body


def read_body(reader, msg, has_body=True, until_close=False):
    """Reads msg's body (raw bytes kept). Returns True when the body ran until close."""
    if not has_body:
        return False
    if msg.has_token("transfer-encoding", "chunked"):
        raw = bytearray()
        spans = []
        while True:
            line = reader.until(b"\r\n")
            raw += line
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    t = reader.until(b"\r\n")
                    raw += t
                    if t == b"\r\n":
                        break
                break
            spans.append((len(raw), size))
            raw += reader.exact(size + 2)
        msg.body = bytes(raw)
        msg.spans = spans
        return False
    length = msg.header("content-length")
    if length is not None:
        n = int(length)
        msg.body = reader.exact(n) if n else b""
        msg.spans = [(0, n)] if n else []
        return False
    if until_close:
        msg.body = reader.rest()
        msg.spans = [(0, len(msg.body))] if msg.body else []
        return True
    return False


class Stats:
    def __init__(self, path):
        self.path = path
        self.lock = threading.RLock()
        self.counts = {"requests": 0, "faults": 0, "flip_skipped": 0, "upstream_errors": 0,
                       "by_method": {}, "by_kind": {k: 0 for k in KINDS}, "throttled": 0,
                       "timeline": []}
        self.start = None  # time.monotonic() of the first request
        self.seen = {}  # draw key -> times seen
        self.dirty = False
        self.write_lock = threading.RLock()  # the writer thread and the SIGTERM handler

    def _second(self):
        """The timeline's entry for now. REQUIRES: lock held."""
        now = time.monotonic()
        if self.start is None:
            self.start = now
        second = int(now - self.start)
        timeline = self.counts["timeline"]
        while len(timeline) <= second:
            timeline.append([0, 0])
        return timeline[second]

    def throttled(self):
        with self.lock:
            self.counts["throttled"] += 1
            self._second()[1] += 1
            self.dirty = True

    def request(self, method, key):
        with self.lock:
            self.counts["requests"] += 1
            self._second()[0] += 1
            m = self.counts["by_method"]
            m[method] = m.get(method, 0) + 1
            n = self.seen.get(key, 0)
            self.seen[key] = n + 1
            self.dirty = True
            return n

    def bump(self, name, kind=None):
        with self.lock:
            if kind is not None:
                self.counts["by_kind"][kind] += 1
                self.counts["faults"] += 1
            else:
                self.counts[name] += 1
            self.dirty = True

    def snapshot(self):
        with self.lock:
            self.dirty = False
            return json.loads(json.dumps(self.counts))

    def write(self):
        if not self.path:
            return
        with self.write_lock:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.snapshot(), f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)

    def writer_loop(self):
        while True:
            time.sleep(0.2)
            if self.dirty:
                self.write()


def slowdown_reply():
    body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
            b"<Message>Please reduce your request rate. (fault_proxy)</Message></Error>")
    head = ("HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
            "Content-Length: %d\r\nRetry-After: 0\r\n\r\n" % len(body)).encode()
    return head + body


def throttle_reply():
    body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
            b"<Message>Please reduce your request rate. (fault_proxy --throttle-rps)</Message>"
            b"</Error>")
    head = ("HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
            "Content-Length: %d\r\n\r\n" % len(body)).encode()
    return head + body


class RateBucket:
    """--throttle-rps: `rate` tokens a second, at most `burst` kept; take() takes one or says
    there is none."""

    def __init__(self, rate, burst):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


def draw_key(method, target):
    """What the fault draw hashes: method and target without the bucket or upload ids."""
    url = urllib.parse.urlsplit(target)
    path = url.path.lstrip("/").split("/", 1)
    query = [(k, "" if k == "uploadId" else v)
             for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True)]
    return "%s /%s?%s" % (method, path[1] if len(path) > 1 else "",
                          urllib.parse.urlencode(query))


def is_object_get(method, target):
    if method != "GET":
        return False
    url = urllib.parse.urlsplit(target)
    parts = url.path.lstrip("/").split("/", 1)
    if len(parts) < 2 or not parts[1]:
        return False
    query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
    if url.path.startswith("/storage/v1/"):  # GCS's JSON API: only alt=media reads bytes
        return ("alt", "media") in query
    return all(k in OBJECT_GET_QUERY or k.startswith(("response-", "X-Amz-", "x-amz-"))
               for k, _ in query)


class Proxy:
    def __init__(self, args):
        host, _, port = args.upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.seed = args.seed
        self.rate = args.rate
        self.kinds = [k for k in args.kinds.split(",") if k]
        for k in self.kinds:
            if k not in KINDS:
                raise SystemExit("fault_proxy: unknown kind %r (known: %s)" % (k, ",".join(KINDS)))
        self.methods = set(m.upper() for m in args.methods.split(",")) if args.methods else None
        self.slow_s = args.slow_ms / 1000.0
        self.stats = Stats(args.stats)
        self.force = []  # [kind, regex] pairs not used yet
        for spec in args.force:
            kind, _, regex = spec.partition(":")
            if kind not in KINDS or not regex:
                raise SystemExit("fault_proxy: --force wants KIND:REGEX, got %r" % spec)
            self.force.append([kind, re.compile(regex)])
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.lock = threading.RLock()
        self.bucket = None
        if args.throttle_rps > 0:
            burst = args.throttle_burst if args.throttle_burst > 0 else max(1.0, args.throttle_rps / 10)
            self.bucket = RateBucket(args.throttle_rps, burst)

    def draw(self, method, key, n, line):
        """(fault kind or None, a second uniform number) for the n-th sight of `key`."""
        h = hashlib.sha256(("%d|%s|%d" % (self.seed, key, n)).encode("utf-8", "replace"))
        a, b, c = struct.unpack(">QQQ", h.digest()[:24])
        with self.lock:
            for i, (kind, regex) in enumerate(self.force):
                if regex.search(line):
                    del self.force[i]
                    return kind, c / 2.0**64
        if not self.kinds or (self.methods is not None and method not in self.methods):
            return None, 0.0
        if a / 2.0**64 >= self.rate:
            return None, 0.0
        return self.kinds[b % len(self.kinds)], c / 2.0**64

    def fault(self, kind, line):
        """Counts (and logs) one injected fault."""
        self.stats.bump(None, kind)
        if self.log is not None:
            with self.lock:
                self.log.write("%s\t%s\n" % (kind, line))

    def serve(self, client):
        up = None
        up_reader = None
        creader = Reader(client)
        try:
            while True:
                try:
                    head = creader.until(b"\r\n\r\n")
                except (Closed, OSError):
                    return
                req = Message(head)
                parts = req.start.split(" ")
                if len(parts) != 3:
                    return
                method, target = parts[0].upper(), parts[1]
                if req.has_token("expect", "100-continue"):
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                read_body(creader, req)
                key = draw_key(method, target)
                n = self.stats.request(method, key)
                if self.bucket is not None and not self.bucket.take():
                    self.stats.throttled()
                    client.sendall(throttle_reply())
                    continue
                kind, u = self.draw(method, key, n, req.start)
                if kind == "503":
                    self.fault(kind, req.start)
                    client.sendall(slowdown_reply())
                    continue
                if kind == "reset":
                    self.fault(kind, req.start)
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if kind == "flip" and not is_object_get(method, target):
                    self.stats.bump("flip_skipped")
                    kind = None
                # forward, on the kept upstream connection unless the upstream closed it
                if up is not None and not up_reader.idle_and_empty():
                    up.close()
                    up = None
                if up is not None:
                    up.setblocking(False)
                    try:
                        stale = up.recv(1, socket.MSG_PEEK) == b""
                    except BlockingIOError:
                        stale = False
                    except OSError:
                        stale = True
                    up.setblocking(True)
                    if stale:
                        up.close()
                        up = None
                try:
                    if up is None:
                        up = socket.create_connection(self.upstream)
                        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        up_reader = Reader(up)
                    up.sendall(req.raw())
                    while True:
                        resp = Message(up_reader.until(b"\r\n\r\n"))
                        status = int(resp.start.split(" ")[1])
                        if status >= 200:
                            break
                    has_body = method != "HEAD" and status not in (204, 304)
                    up_closed = read_body(up_reader, resp, has_body, until_close=True)
                except (Closed, OSError, ValueError, IndexError):
                    self.stats.bump("upstream_errors")
                    return
                close_after = (up_closed or resp.has_token("connection", "close")
                               or req.has_token("connection", "close"))
                if up_closed or resp.has_token("connection", "close"):
                    up.close()
                    up = None
                if kind == "flip" and not (200 <= status < 300 and resp.spans):
                    self.stats.bump("flip_skipped")
                    kind = None
                if kind == "truncate":
                    self.fault(kind, req.start)
                    if len(resp.body) >= 2:
                        client.sendall(resp.head + resp.body[: len(resp.body) // 2])
                    else:
                        client.sendall(resp.head[: len(resp.head) // 2])
                    return
                if kind == "flip":
                    self.fault(kind, req.start)
                    total = sum(length for _, length in resp.spans)
                    pos = int(u * total)
                    for off, length in resp.spans:
                        if pos < length:
                            body = bytearray(resp.body)
                            body[off + pos] ^= 0x01 << (pos % 8)
                            resp.body = bytes(body)
                            break
                        pos -= length
                if kind == "slow":
                    self.fault(kind, req.start)
                    time.sleep(self.slow_s * (1.0 + u))
                client.sendall(resp.raw())
                if close_after:
                    return
        except OSError:
            return
        finally:
            if up is not None:
                up.close()
            client.close()

    def run(self, port):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(256)
        print(listener.getsockname()[1], flush=True)
        threading.Thread(target=self.stats.writer_loop, daemon=True).start()
        self.stats.write()
        while True:
            client, _ = listener.accept()
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description="HTTP/1.1 fault-injecting proxy for S3 tests")
    p.add_argument("--upstream", required=True, help="HOST:PORT of the S3 gateway")
    p.add_argument("--port", type=int, default=0, help="listening port (0 = pick one)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate", type=float, default=0.2, help="fraction of requests faulted")
    p.add_argument("--kinds", default=",".join(KINDS), help="comma list of: " + ",".join(KINDS))
    p.add_argument("--methods", default="", help="comma list of methods to fault (default all)")
    p.add_argument("--slow-ms", type=int, default=300)
    p.add_argument("--stats", default="", help="JSON counts file")
    p.add_argument("--log", default="", help="file of one line per fault")
    p.add_argument("--throttle-rps", type=float, default=0,
                   help="answer 503 SlowDown above this many requests per second (token bucket)")
    p.add_argument("--throttle-burst", type=float, default=0,
                   help="requests the --throttle-rps bucket holds (default X/10, at least 1)")
    p.add_argument("--force", action="append", default=[], metavar="KIND:REGEX",
                   help="give KIND to the first request whose request line matches REGEX")
    args = p.parse_args()
    if not 0.0 <= args.rate <= 1.0:
        raise SystemExit("fault_proxy: --rate must be within [0, 1]")
    proxy = Proxy(args)

    def stop(signum, frame):
        proxy.stats.write()
        print(json.dumps(proxy.stats.snapshot(), sort_keys=True), flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    proxy.run(args.port)


if __name__ == "__main__":
    main()
