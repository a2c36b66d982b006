#!/usr/bin/env python3
"""Load and observation for bench/bench-serve.sh.

  serve_load.py write   SIDE BUCKET N RATE SIZE OUT     N objects at RATE/s; OUT: key<TAB>time done
  serve_load.py observe SIDE BUCKET WRITES OUT TIMEOUT  first time each written key is listed
  serve_load.py latency WRITES SEEN                     p50 p99 max seen/written (one line)
  serve_load.py burst   URL TOKEN BUCKET REGION N PER   N synthetic RGW records, PER per POST
  serve_load.py hist    BEFORE AFTER                    p50 p99 of ferry_replication_latency_seconds
                                                        between two /metrics expositions

SIDE is a or b: endpoint and keys from S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY/S3_REGION (a)
or the same names with _B (b), as scripts/rgw-start.sh prints them.
"""
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, "/usr/lib/python3/dist-packages")  # the botocore of Debian's awscli
from awscli.botocore.config import Config  # noqa: E402
from awscli.botocore.session import Session  # noqa: E402


def client(side):
    suffix = "" if side == "a" else "_B"
    return Session().create_client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT" + suffix],
        aws_access_key_id=os.environ["S3_ACCESS_KEY" + suffix],
        aws_secret_access_key=os.environ["S3_SECRET_KEY" + suffix],
        region_name=os.environ.get("S3_REGION" + suffix, "us-east-1"),
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=16,
                      retries={"max_attempts": 5}),
    )


def key_of(i):
    return "o%06d" % i


def write(side, bucket, n, rate, size, out):
    """PUTs at their due times (i / rate after the start) from 16 threads: one client alone
    cannot keep 50/s against a gateway taking ~50 ms per PUT."""
    s3 = client(side)
    body = os.urandom(size)
    start = time.time()
    done = {}
    lock = threading.Lock()
    nxt = [0]

    def worker():
        while True:
            with lock:
                i = nxt[0]
                if i >= n:
                    return
                nxt[0] += 1
            due = start + i / rate
            now = time.time()
            if due > now:
                time.sleep(due - now)
            s3.put_object(Bucket=bucket, Key=key_of(i), Body=body)
            with lock:
                done[key_of(i)] = time.time()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        for k in sorted(done):
            f.write("%s\t%.3f\n" % (k, done[k]))
    elapsed = time.time() - start
    print("%d objects in %.1f s (%.1f/s)" % (n, elapsed, n / elapsed), file=sys.stderr)


def observe(side, bucket, writes, out, timeout):
    """Lists the written keys (prefix "o") every 0.2 s until every key of WRITES is seen."""
    s3 = client(side)
    seen = {}
    deadline = time.time() + timeout
    expected = None
    while time.time() < deadline:
        if expected is None and os.path.exists(writes):
            with open(writes) as f:
                expected = {line.split("\t")[0] for line in f if line.strip()}
        now = time.time()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="o"):
            for o in page.get("Contents", []):
                seen.setdefault(o["Key"], now)
        if expected is not None and expected <= seen.keys():
            break
        time.sleep(0.2)
    with open(out, "w") as f:
        for k, t in sorted(seen.items()):
            f.write("%s\t%.3f\n" % (k, t))


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    i = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[i]


def latency(writes, seen_file):
    written = dict(line.rstrip("\n").split("\t") for line in open(writes) if line.strip())
    seen = dict(line.rstrip("\n").split("\t") for line in open(seen_file) if line.strip())
    lat = [max(0.0, float(seen[k]) - float(t)) for k, t in written.items() if k in seen]
    print("%.2f %.2f %.2f %d/%d" % (pct(lat, 50), pct(lat, 99), max(lat or [float("nan")]),
                                    len(lat), len(written)))


def burst(url, token, bucket, region, n, per):
    """Posts N RGW-style records (PER per body) from 4 connections; prints events/s and failures."""
    parsed = urllib.parse.urlparse(url)
    bodies = []
    for first in range(0, n, per):
        records = []
        for i in range(first, min(n, first + per)):
            records.append({
                "eventVersion": "2.2", "eventSource": "ceph:s3", "awsRegion": region,
                "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "eventName": "ObjectCreated:Put",
                "s3": {"s3SchemaVersion": "1.0", "configurationId": "bench",
                       "bucket": {"name": bucket},
                       "object": {"key": "burst/%07d" % i, "size": "1", "eTag": "e",
                                  "versionId": "", "sequencer": "%016X" % i}},
                "eventId": "", "opaqueData": token})
        bodies.append(json.dumps({"Records": records}).encode())
    failures = []
    lock = threading.Lock()
    todo = list(range(len(bodies)))

    def post():
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        while True:
            with lock:
                if not todo:
                    return
                b = bodies[todo.pop()]
            conn.request("POST", parsed.path, body=b, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                with lock:
                    failures.append(r.status)

    start = time.time()
    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - start
    print("%.0f %.2f %d" % (n / elapsed, elapsed, len(failures)))


def buckets_of(metrics_file):
    buckets = {}
    for line in open(metrics_file):
        if not line.startswith("ferry_replication_latency_seconds_bucket{"):
            continue
        labels, value = line.rsplit(" ", 1)
        le = re.search(r'[{,]le="([^"]*)"', labels).group(1)
        bound = float("inf") if le == "+Inf" else float(le)
        buckets[bound] = buckets.get(bound, 0) + float(value)
    return buckets


def hist(before_file, after_file):
    """p50 and p99 bucket bounds of what ferry_replication_latency_seconds (all series) counted
    between two expositions."""
    before, after = buckets_of(before_file), buckets_of(after_file)
    buckets = {b: n - before.get(b, 0) for b, n in after.items()}
    if not buckets or buckets[float("inf")] == 0:
        print("- -")
        return
    total = buckets[float("inf")]
    out = []
    for p in (50, 99):
        for bound in sorted(buckets):
            if buckets[bound] >= total * p / 100.0:
                out.append("<=%g" % bound)
                break
    print(" ".join(out))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "write":
        write(args[0], args[1], int(args[2]), float(args[3]), int(args[4]), args[5])
    elif cmd == "observe":
        observe(args[0], args[1], args[2], args[3], float(args[4]))
    elif cmd == "latency":
        latency(args[0], args[1])
    elif cmd == "burst":
        burst(args[0], args[1], args[2], args[3], int(args[4]), int(args[5]))
    elif cmd == "hist":
        hist(args[0], args[1])
    else:
        sys.exit("unknown command " + cmd)
