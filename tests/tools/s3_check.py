"""What the end-to-end check scripts (replicate_check.py, transport_check.py) share: S3 clients
of the two RGW gateways (the botocore that Debian's awscli ships: one process instead of one
`aws` process per call), check() and its list of failures, RGW's usage log of a bucket of B, and
the end of a run (exit 1 when a check failed).

Reads FERRY_TEST_S3_ENDPOINT(_B), FERRY_TEST_S3_REGION(_B), RA_KEY/RA_SECRET, RB_KEY/RB_SECRET
and, for usage_put_ops, FERRY_TEST_CEPH_CONF.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from awscli.botocore.config import Config  # noqa: E402
from awscli.botocore.session import Session  # noqa: E402

FAILS = []
T0 = time.time()


def client(endpoint, key, secret, region):
    return Session().create_client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
        region_name=region, config=Config(s3={"addressing_style": "path"}))


S3 = {
    "ra": client(os.environ["FERRY_TEST_S3_ENDPOINT"], os.environ["RA_KEY"], os.environ["RA_SECRET"],
                 os.environ.get("FERRY_TEST_S3_REGION", "region-a")),
    "rb": client(os.environ["FERRY_TEST_S3_ENDPOINT_B"], os.environ["RB_KEY"],
                 os.environ["RB_SECRET"], os.environ.get("FERRY_TEST_S3_REGION_B", "region-b")),
}


def check(what, ok, detail=""):
    """Prints one ok/FAIL line (with the seconds since start when TR_TIMES is set)."""
    print("[%5.1fs] " % (time.time() - T0) if os.environ.get("TR_TIMES") else "", end="")
    print(("ok   - " if ok else "FAIL - ") + what + ("" if ok or not detail else ": " + str(detail)))
    if not ok:
        FAILS.append(what)


def usage_put_ops(bucket_name):
    """Writes (put_obj operations) RGW's usage log counts for `bucket_name` of gateway B."""
    out = subprocess.run(
        ["radosgw-admin", "-c", os.environ["FERRY_TEST_CEPH_CONF"], "--rgw-realm", "realm-b",
         "--rgw-zonegroup", "region-b", "--rgw-zone", "zone-b", "usage", "show", "--uid",
         "tester-b"], capture_output=True, text=True).stdout
    n = 0
    for e in json.loads(out).get("entries", []):
        for b in e.get("buckets", []):
            if b.get("bucket") == bucket_name:
                n += sum(c.get("ops", 0) for c in b.get("categories", [])
                         if c.get("category") == "put_obj")
    return n


BUCKETS = []  # (remote, name) of the buckets bucket() made, for purge_buckets()


def bucket(remote, tag):
    """A new bucket on `remote` ("ra" or "rb"), named after `tag`, this process and a counter."""
    name = "ferry-%s-%d-%d" % (tag, os.getpid(), len(BUCKETS))
    S3[remote].create_bucket(Bucket=name)
    BUCKETS.append((remote, name))
    return name


def keys(remote, name):
    """Every key of a bucket, in listing order."""
    out = []
    for page in S3[remote].get_paginator("list_objects_v2").paginate(Bucket=name):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def pending_uploads(remote, name):
    return S3[remote].list_multipart_uploads(Bucket=name).get("Uploads", [])


def purge_buckets():
    """Removes every bucket bucket() made (objects and unfinished uploads first); a failure is
    printed, never raised."""
    for remote, name in BUCKETS:
        try:
            ks = keys(remote, name)
            for i in range(0, len(ks), 1000):
                S3[remote].delete_objects(Bucket=name, Delete={
                    "Objects": [{"Key": k} for k in ks[i:i + 1000]], "Quiet": True})
            for u in pending_uploads(remote, name):
                S3[remote].abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])
            S3[remote].delete_bucket(Bucket=name)
        except Exception as e:  # noqa: BLE001
            print("  cleanup of %s:%s: %s" % (remote, name, e))


def finish():
    """Ends the script: exit 1 naming how many checks failed, else 'all checks passed'."""
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)
    print("all checks passed")
