#!/usr/bin/env python3
"""Checks for tests/cli/unpack_claims_test.sh (several `ferry unpack` of one region and staging
prefix) on RGW gateway B:

  unpack_claims_check.py versioned BUCKET      turns versioning on
  unpack_claims_check.py once BUCKET N WHAT    every one of N keys has exactly one version, and
                                               RGW's usage log counts exactly N writes (no PUT
                                               sent twice, also none that a later one replaced)
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


def main():
    cmd, bucket = sys.argv[1], sys.argv[2]
    if cmd == "versioned":
        S3["rb"].put_bucket_versioning(Bucket=bucket,
                                       VersioningConfiguration={"Status": "Enabled"})
        return
    if cmd == "count":
        print(len(versions(bucket)))
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
