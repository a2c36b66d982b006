#!/usr/bin/env python3
"""Checks for tests/cli/unpack_claims_test.sh (several `ferry unpack` of one region and staging
prefix) on RGW gateway B:

  unpack_claims_check.py versioned BUCKET      turns versioning on
  unpack_claims_check.py once BUCKET N WHAT    every one of N keys has exactly one version, and
                                               RGW's usage log counts exactly N writes (no PUT
                                               sent twice, also none that a later one replaced)
  unpack_claims_check.py same BUCKET N EXTRA WHAT
                                               every one of N keys has a version, all versions of
                                               a key the same bytes (ETag), and at most EXTRA
                                               versions and writes (usage log) beyond N: a paused
                                               owner's writes that left after a takeover
                                               (docs/design/transport.md, "Not yet")
  unpack_claims_check.py count BUCKET          prints the number of versions (for progress)
"""
import sys
import time

from s3_check import S3, check, finish, usage_put_ops


def versions(bucket):
    out = []
    for page in S3["rb"].get_paginator("list_object_versions").paginate(Bucket=bucket):
        out += [v["Key"] for v in page.get("Versions", [])]
        out += ["(delete marker) " + m["Key"] for m in page.get("DeleteMarkers", [])]
    return out


def etags(bucket):
    out = {}
    for page in S3["rb"].get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            out.setdefault(v["Key"], []).append(v["ETag"])
    return out


def same(bucket, n, extra, what):
    e = etags(bucket)
    total = sum(len(v) for v in e.values())
    differ = sorted(k for k, v in e.items() if len(set(v)) > 1)
    check(what + ": %d keys, every version of a key the same bytes" % n,
          len(e) == n and not differ, "%d keys, differing: %s" % (len(e), differ[:5]))
    check(what + ": at most %d versions beyond the %d keys" % (extra, n),
          n <= total <= n + extra, "%d versions" % total)
    time.sleep(2)  # RGW's usage log flushes every second
    ops = usage_put_ops(bucket)
    check(what + ": RGW's usage log counts %d to %d writes" % (n, n + extra),
          n <= ops <= n + extra, ops)
    print("     %s: %d versions, %d writes for %d keys" % (what, total, ops, n))
    finish()


def main():
    cmd, bucket = sys.argv[1], sys.argv[2]
    if cmd == "versioned":
        S3["rb"].put_bucket_versioning(Bucket=bucket,
                                       VersioningConfiguration={"Status": "Enabled"})
        return
    if cmd == "count":
        print(len(versions(bucket)))
        return
    if cmd == "same":
        same(bucket, int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return
    n, what = int(sys.argv[3]), sys.argv[4]
    v = versions(bucket)
    twice = sorted({k for k in v if v.count(k) > 1})
    check(what + ": %d keys, one version each" % n, len(v) == n and not twice,
          "%d versions, %d keys more than once: %s" % (len(v), len(twice), twice[:5]))
    time.sleep(2)  # RGW's usage log flushes every second
    ops = usage_put_ops(bucket)
    check(what + ": RGW's usage log counts %d writes to the destination" % n, ops == n, ops)
    finish()


main()
