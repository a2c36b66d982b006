#!/usr/bin/env python3
"""End-to-end checks of `ferry replicate` against the two RGW gateways (run by
tests/cli/replicate_test.sh, which exports FERRY_BIN, CONF_BASE, WORK, RA_* and RB_*).
With the argument `transport` (tests/cli/replicate_transport_test.sh): compressed transport per
destination (transport() below); with `restart` (tests/cli/replicate_restart_test.sh), the
--restart of a transported pass (restart_transport() below). With the argument `durable` (tests/cli/replicate_durable_test.sh, which also exports STATE, a
PostgreSQL URL of a schema of its own): one pass shared by `ferry worker` processes, killed and
resumed (durable_workers below).

S3 clients, check() and RGW's usage log come from s3_check.py (shared with transport_check.py). Every bucket is versioned unless said otherwise; all are purged at the end.
"""
import csv
import glob
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from s3_check import S3, check, finish, usage_put_ops

WORK = os.environ["WORK"]
FERRY = os.environ["FERRY_BIN"]
BASE = open(os.environ["CONF_BASE"]).read()
BUCKETS = []


def bucket(remote, versioned=True):
    name = "ferry-rep-%d-%d" % (os.getpid(), len(BUCKETS))
    S3[remote].create_bucket(Bucket=name)
    if versioned:
        S3[remote].put_bucket_versioning(Bucket=name,
                                         VersioningConfiguration={"Status": "Enabled"})
    BUCKETS.append((remote, name))
    return name


def purge_all():
    def purge(remote, name):
        try:
            entries = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                       for v in all_versions(remote, name)]
            # DeleteObjects of 100 versions, 8 at a time: the gateway deletes one by one
            chunks = [entries[i:i + 100] for i in range(0, len(entries), 100)]
            threads = [threading.Thread(target=lambda part=chunks[t::8]: [
                S3[remote].delete_objects(Bucket=name, Delete={"Objects": c, "Quiet": True})
                for c in part]) for t in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            S3[remote].delete_bucket(Bucket=name)
        except Exception as e:  # cleanup goes on
            print("  cleanup of %s:%s: %s" % (remote, name, e))
    threads = [threading.Thread(target=purge, args=b) for b in BUCKETS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def all_versions(remote, name, prefix=""):
    """Versions and delete markers (Marker=True), in S3's order: keys, then newest first."""
    out, kw = [], {}
    while True:
        page = S3[remote].list_object_versions(Bucket=name, Prefix=prefix, **kw)
        entries = [dict(v, Marker=False) for v in page.get("Versions", [])]
        entries += [dict(m, Marker=True) for m in page.get("DeleteMarkers", [])]
        # the page holds two lists: S3's order is keys ascending, within a key newest first
        entries.sort(key=lambda e: (e["Key"].encode(), -e["LastModified"].timestamp()))
        out += entries
        if not page.get("IsTruncated"):
            return out
        kw = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}


def versions(remote, name, key):
    """The key's versions (no markers), oldest first, in the order S3 lists them."""
    page = S3[remote].list_object_versions(Bucket=name, Prefix=key)
    return [v for v in reversed(page.get("Versions", [])) if v["Key"] == key]


def markers(remote, name, key):
    page = S3[remote].list_object_versions(Bucket=name, Prefix=key)
    return sum(1 for m in page.get("DeleteMarkers", []) if m["Key"] == key)


def etags(remote, name, key):
    return [v["ETag"] for v in versions(remote, name, key)]


def bodies(remote, name, key):
    return [hashlib.sha256(S3[remote].get_object(Bucket=name, Key=key, VersionId=v["VersionId"])
                           ["Body"].read()).hexdigest() for v in versions(remote, name, key)]


def put(remote, name, key, data, tagging=None):
    kw = {"Tagging": tagging} if tagging else {}
    return S3[remote].put_object(Bucket=name, Key=key, Body=data, **kw).get("VersionId")


def put_multipart(remote, name, key, data, part=8 << 20):
    c = S3[remote]
    up = c.create_multipart_upload(Bucket=name, Key=key)["UploadId"]
    parts = []
    for i, off in enumerate(range(0, len(data), part), start=1):
        r = c.upload_part(Bucket=name, Key=key, UploadId=up, PartNumber=i, Body=data[off:off + part])
        parts.append({"PartNumber": i, "ETag": r["ETag"]})
    c.complete_multipart_upload(Bucket=name, Key=key, UploadId=up,
                                MultipartUpload={"Parts": parts})


def config(name, text):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(BASE + text)
    return path


def ferry(conf, *args, check_rc=True):
    p = subprocess.run([FERRY, "--config", conf, *args], capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        print("  ferry %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p


def summary(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"stdout": p.stdout, "stderr": p.stderr}


def main():
    A, B, C = bucket("ra"), bucket("rb"), bucket("rb")
    st = os.path.join(WORK, "replication.db")
    k1 = "docs/ünï cødé + space"
    for data in (b"one", b"two", b""):
        put("ra", A, k1, data)
    big = os.urandom(12 << 20)
    put_multipart("ra", A, "docs/big", big)
    put("ra", A, "docs/big", b"small")
    put("ra", A, "docs/gone", b"x")
    S3["ra"].delete_object(Bucket=A, Key="docs/gone")
    put("ra", A, "docs/pruned", b"p1")
    pruned_v2 = put("ra", A, "docs/pruned", b"p2")
    put("ra", A, "other/gone2", b"y")
    S3["ra"].delete_object(Bucket=A, Key="other/gone2")
    put("ra", A, "logs/x", b"lx", "team=x")
    put("ra", A, "logs/y", b"ly", "team=y")
    conf = config("rules.toml", f"""
[transfer]
multipart_threshold = "5MiB"
part_size = "5MiB"

[[replication.rules]]
id = "docs"
priority = 1
filter = {{ prefix = "docs/" }}
destinations = [ {{ location = "rb:{B}", storage_class = "STANDARD_IA" }},
                 {{ location = "rb:{C}", storage_class = "REDUCED_REDUNDANCY" }} ]
delete_markers = true

[[replication.rules]]
id = "all"
destinations = ["rb:{C}"]

[[replication.rules]]
id = "team-x"
priority = 2
filter = {{ prefix = "logs/", tags = {{ team = "x" }} }}
destinations = ["rb:{B}"]
""")
    # dry run: what each rule would replicate, nothing written
    p = ferry(conf, "replicate", "ra:" + A, "--dry-run")
    check("dry run names rule, destination, key and version",
          f"would replicate: docs -> rb:{B}/: {k1} (version " in p.stdout, p.stdout[:300])
    check("dry run: 22 versions would be replicated",
          "dry run: 22 versions would be replicated" in p.stdout, p.stdout[-200:])
    check("dry run wrote nothing", etags("rb", B, k1) == [])

    p = ferry(conf, "replicate", "ra:" + A, "--state", st, "--report", WORK + "/rep", "--report-format", "s3-batch", "--json")
    s = summary(p)
    check("pass 1 replicated 22 versions incl. 2 delete markers",
          (s.get("replicated"), s.get("delete_markers")) == (22, 2), s)
    check("versions in order at B (unicode, space, +, zero-byte)",
          etags("rb", B, k1) == etags("ra", A, k1) and len(etags("rb", B, k1)) == 3)
    check("versions in order at C", etags("rb", C, k1) == etags("ra", A, k1))
    check("multipart version and its successor: same bytes, same order",
          bodies("rb", B, "docs/big") == bodies("ra", A, "docs/big") ==
          [hashlib.sha256(big).hexdigest(), hashlib.sha256(b"small").hexdigest()])
    check("delete marker replicated by the rule that says so", markers("rb", B, "docs/gone") == 1)
    check("delete marker not replicated by the rule that does not",
          markers("rb", C, "other/gone2") == 0 and len(versions("rb", C, "other/gone2")) == 1)
    sc_b = S3["rb"].head_object(Bucket=B, Key="docs/pruned").get("StorageClass")
    sc_c = S3["rb"].head_object(Bucket=C, Key="docs/pruned").get("StorageClass")
    check("two destinations, two storage classes",
          (sc_b, sc_c) == ("STANDARD_IA", "REDUCED_REDUNDANCY"), (sc_b, sc_c))
    check("tag filter: team=x to B, team=y not",
          len(versions("rb", B, "logs/x")) == 1 and versions("rb", B, "logs/y") == [])
    report = open(WORK + "/rep.csv", encoding="utf-8").read().splitlines()
    check("priority overlap: docs/ to C by rule docs, logs/ by rule all",
          any(line.startswith(f"{A},logs/y,") and f"rule all to rb:{C}/" in line for line in report)
          and any(line.startswith(f"{A},docs/pruned,") and f"rule docs to rb:{C}/" in line
                  for line in report)
          and not any(f"rule all to rb:{C}/" in line and ",docs/" in line for line in report))
    meta = S3["rb"].head_object(Bucket=B, Key="docs/pruned")["Metadata"]
    check("replica metadata: origin, source version, source time",
          meta.get("ferry-replica-origin") == f"ra:{A}/" and
          meta.get("ferry-replica-version") == pruned_v2 and meta.get("ferry-replica-time"), meta)
    check("report: S3 Batch Operations columns, 22 rows succeeded",
          report[0] == "Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage" and
          sum(1 for line in report[1:] if ",succeeded,,200," in line) == 22, report[:3])
    rows = json.load(open(WORK + "/rep.json"))["rows"]
    check("report JSON has the same rows", len(rows) == 22 and rows[0]["TaskStatus"] == "succeeded")

    # a version-specific delete is not replicated; a second pass costs the listing only
    S3["ra"].delete_object(Bucket=A, Key="docs/pruned", VersionId=pruned_v2)
    s = summary(ferry(conf, "replicate", "ra:" + A, "--state", st, "--json"))
    check("pass 2 (one version deleted at the source): nothing replicated, 20 already completed",
          (s.get("replicated"), s.get("already_completed")) == (0, 20), s)
    check("version-specific delete not replicated", len(versions("rb", B, "docs/pruned")) == 2)
    out = ferry(conf, "replicate", "status", "--state", st).stdout
    check("status: counts per rule and destination",
          any(line.split() == [f"ra:{A}/", "docs", f"rb:{B}/", "COMPLETED", "9"]
              for line in out.splitlines()), out)

    # bad configs: one line, exit 2
    bad = config("bad1.toml", f"""
[[replication.rules]]
id = "t"
destinations = ["rb:{B}"]
filter = {{ tags = {{ a = "1" }} }}
delete_markers = true
""")
    p = ferry(bad, "replicate", "ra:" + A, "--state", st, check_rc=False)
    check("delete_markers with a tag filter refused (one line, exit 2)",
          p.returncode == 2 and len(p.stderr.splitlines()) == 1 and
          "replication rule 't': 'delete_markers' cannot be replicated with a tag filter" in p.stderr,
          p.stderr)
    bad = config("bad2.toml", f"""
[[replication.rules]]
id = "a"
destinations = ["rb:{B}"]
[[replication.rules]]
id = "b"
destinations = ["rb:{C}"]
filter = {{ prefix = "x/" }}
""")
    p = ferry(bad, "replicate", "ra:" + A, "--state", st, check_rc=False)
    check("equal priorities on overlapping filters refused (one line, exit 2)",
          p.returncode == 2 and len(p.stderr.splitlines()) == 1 and
          "replication rule 'b': 'priority' 0 equals that of rule 'a'" in p.stderr, p.stderr)

    # the S3 JSON configuration, bucket ARNs mapped to locations in the config
    D = bucket("rb")
    jconf = config("json.toml", f'[replication.buckets]\n"arn:aws:s3:::{D}" = "rb:{D}"\n')
    rules = {"ReplicationConfiguration": {"Role": "arn:aws:iam::1:role/r", "Rules": [{
        "ID": "logs", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "logs/"},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "ExistingObjectReplication": {"Status": "Enabled"},
        "Destination": {"Bucket": "arn:aws:s3:::" + D, "StorageClass": "STANDARD_IA",
                        "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                        "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}}]}}
    with open(WORK + "/rules.json", "w") as f:
        json.dump(rules, f)
    s = summary(ferry(jconf, "replicate", "ra:" + A, "--replication-config", WORK + "/rules.json",
                      "--state", st, "--json"))
    check("S3 JSON config accepted (ReplicationTime and Metrics too): logs/ replicated with its "
          "storage class",
          s.get("replicated") == 2 and
          S3["rb"].head_object(Bucket=D, Key="logs/y").get("StorageClass") == "STANDARD_IA", s)
    rules["ReplicationConfiguration"]["Rules"][0]["Destination"]["Bucket"] = "arn:aws:s3:::else"
    with open(WORK + "/rules.json", "w") as f:
        json.dump(rules, f)
    p = ferry(jconf, "replicate", "ra:" + A, "--replication-config", WORK + "/rules.json",
              check_rc=False)
    check("S3 JSON with an unmapped bucket ARN refused (one line, exit 2)",
          p.returncode == 2 and len(p.stderr.splitlines()) == 1 and
          "'Destination.Bucket' arn:aws:s3:::else is not mapped" in p.stderr, p.stderr)

    # a non-versioned source; server-side copies on one gateway (N -> E, both on ra)
    N, E = bucket("ra", versioned=False), bucket("ra")
    put("ra", N, "a", b"1")
    put("ra", N, "b", b"2")
    nconf = config("n.toml", f'[[replication.rules]]\nid = "n"\ndestinations = ["ra:{E}"]\n')
    s1 = summary(ferry(nconf, "replicate", "ra:" + N, "--state", st, "--json"))
    put("ra", N, "a", b"11")
    s2 = summary(ferry(nconf, "replicate", "ra:" + N, "--state", st, "--json"))
    check("non-versioned source: current objects, then the rewrite",
          (s1.get("replicated"), s2.get("replicated")) == (2, 1) and
          len(versions("ra", E, "a")) == 2, (s1, s2))
    check("same gateway: copied on the server", s1.get("server_side_copies") == 2, s1)
    check("a server-side copy carries the replica metadata",
          "ferry-replica-origin" in S3["ra"].head_object(Bucket=E, Key="a")["Metadata"])

    per_object_report()
    sla_metrics()
    part_copies()
    tag_changes()
    kill_and_rerun()
    two_way()


def read_report(folder):
    """The rows of a per-object report in a local folder (every part-*.csv), and its summary."""
    rows = []
    for part in sorted(glob.glob(os.path.join(folder, "part-*.csv"))):
        with open(part, newline="", encoding="utf-8") as f:
            rows += list(csv.DictReader(f))
    summary_path = os.path.join(folder, "summary.json")
    return rows, (json.load(open(summary_path)) if os.path.exists(summary_path) else None)


def per_object_report():
    """`replicate --report LOCATION` (docs/design/report.md): a row per status row of the
    source, a failed version's row with its error code, a second pass reporting what the first
    copied as skipped, --report-level errors keeping only the failures; bad --report flags
    refused in one line, exit 2."""
    S, T = bucket("ra"), bucket("rb")
    for i in range(3):
        put("ra", S, "ok/k%d" % i, b"v%d" % i)
    put("ra", S, "ok/k0", b"again")
    put("ra", S, "deny/x", b"no")
    # the destination refuses writes under deny/: that version fails, with its error code
    S3["rb"].put_bucket_policy(Bucket=T, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::%s/deny/*" % T}]}))
    conf = config("prep.toml", f'[[replication.rules]]\nid = "r"\ndestinations = ["rb:{T}"]\n')
    st = os.path.join(WORK, "prep.db")
    p = ferry(conf, "replicate", "ra:" + S, "--state", st, "--report", WORK + "/prep-all",
              "--report-level", "all", "--json", check_rc=False)
    s = summary(p)
    rows, summ = read_report(WORK + "/prep-all")
    copied = [r for r in rows if r["action"] == "copied" and r["result"] == "ok"]
    failed = [r for r in rows if r["action"] == "failed"]
    check("replicate --report: one row per version, copied rows = versions replicated",
          len(rows) == 5 and len(copied) == s.get("replicated") == 4, (s, rows[:2]))
    check("  a failed version's row has its error code, rule and destination",
          len(failed) == 1 and failed[0]["key"] == "deny/x" and
          failed[0]["error_code"] == "PermissionDenied" and
          f"rule r to rb:{T}/" in failed[0]["error_message"] and p.returncode == 1,
          (p.returncode, failed))
    check("  checksum none (the status store does not record it), version ids, sizes",
          all(r["checksum"] == "none" and r["version_id"] for r in rows) and
          sorted(r["size"] for r in copied) == ["2", "2", "2", "5"], rows[:2])
    check("  summary.json written", summ is not None, summ)
    first = {(r["key"], r["version_id"]) for r in copied}
    p = ferry(conf, "replicate", "ra:" + S, "--state", st, "--report", WORK + "/prep-again",
              "--report-level", "all", "--json", check_rc=False)
    rows, _ = read_report(WORK + "/prep-again")
    again = {(r["key"], r["version_id"]): r for r in rows}
    check("replicate again: the versions the first pass copied are skipped, not copied",
          len(rows) == 5 and set(again) >= first and
          all(again[k]["action"] == "skipped" and again[k]["result"] == "skipped" and
              "replicated by an earlier pass" in again[k]["error_message"] for k in first) and
          summary(p).get("replicated") == 0, rows)
    check("  the version that failed is reported failed again",
          [(r["key"], r["action"]) for r in rows if r["action"] != "skipped"] ==
          [("deny/x", "failed")] and p.returncode == 1, (p.returncode, rows))
    p = ferry(conf, "replicate", "ra:" + S, "--state", st, "--report", WORK + "/prep-err",
              "--report-level", "errors", "--json", check_rc=False)
    rows, _ = read_report(WORK + "/prep-err")
    check("replicate --report-level errors: only the failed version",
          [(r["key"], r["action"]) for r in rows] == [("deny/x", "failed")], rows)
    p = ferry(conf, "replicate", "ra:" + S, "--state", st, "--report", WORK + "/prep-b",
              "--report-format", "s3-batch", check_rc=False)
    check("--report-format s3-batch: the Batch Operations files",
          os.path.exists(WORK + "/prep-b.csv") and os.path.exists(WORK + "/prep-b.json"))
    for args, text in ((["--report-format", "xml"], "--report-format: csv, json or s3-batch"),
                       (["--report-format", "s3-batch", "--report-level", "errors"],
                        "--report-level: not taken by --report-format s3-batch")):
        p = ferry(conf, "replicate", "ra:" + S, "--state", st, "--report", WORK + "/prep-x",
                  *args, check_rc=False)
        check("bad report flags refused (one line, exit 2): " + " ".join(args),
              p.returncode == 2 and len(p.stderr.splitlines()) == 1 and text in p.stderr,
              p.stderr)
    S3["rb"].delete_bucket_policy(Bucket=T)


def sla_metrics():
    """The SLA metrics (docs/design/replication.md, "Latency and SLA metrics"): a pass's
    --metrics-file has the latency histogram with one observation per version replicated, nothing
    pending, the rule's threshold; versions written after the rule was first seen count within
    it; `ferry replicate status` (text and --json) shows the figures."""
    S, D = bucket("ra"), bucket("rb")
    st = os.path.join(WORK, "sla.db")
    for key, data in (("k0", b"a"), ("k1", b"bb"), ("k2", b"ccc"), ("k0", b"dddd")):
        put("ra", S, key, data)
    conf = config("sla.toml", f'[[replication.rules]]\nid = "sla"\ndestinations = ["rb:{D}"]\n'
                              'replication_time = "15m"\n')
    labels = f'rule="sla",destination="rb:{D}/"'

    def metric(text, name):
        for line in text.splitlines():
            if line.startswith(name + "{" + labels + "}") or line.startswith(name + "{" + labels +
                                                                                ",le="):
                return float(line.split()[-1])
        return None

    def run(tag):
        path = os.path.join(WORK, "sla-%s.prom" % tag)
        s = summary(ferry(conf, "--metrics-file", path, "replicate", "ra:" + S, "--state", st,
                          "--json"))
        return s, open(path).read() if os.path.exists(path) else ""

    s, text = run("1")
    check("SLA pass 1 replicated 4 versions", s.get("replicated") == 4, s)
    check("metrics: the latency histogram counts every version replicated",
          metric(text, "ferry_replication_latency_seconds_count") == 4 and
          f'ferry_replication_latency_seconds_bucket{{{labels},le="900"}}' in text, text[:2000])
    check("metrics: nothing pending after the pass",
          (metric(text, "ferry_replication_operations_pending"),
           metric(text, "ferry_replication_bytes_pending"),
           metric(text, "ferry_replication_oldest_pending_seconds")) == (0, 0, 0))
    check("metrics: the rule's threshold; versions older than the rule held to none",
          metric(text, "ferry_replication_threshold_seconds") == 900 and
          metric(text, "ferry_replication_within_threshold_ratio") == 1 and
          metric(text, "ferry_replication_replicated_within_threshold_total") in (None, 0))
    put("ra", S, "k1", b"new")
    s, text = run("2")
    check("a version written after the rule was first seen: replicated within the threshold",
          s.get("replicated") == 1 and
          metric(text, "ferry_replication_latency_seconds_count") == 1 and
          metric(text, "ferry_replication_replicated_within_threshold_total") == 1 and
          metric(text, "ferry_replication_within_threshold_ratio") == 1, s)
    out = json.loads(ferry(conf, "replicate", "status", "--state", st, "--json").stdout)
    sla = [e for e in out.get("sla", []) if e["destination"] == f"rb:{D}/"]
    want = {"rule": "sla", "pending_operations": 0, "pending_bytes": 0,
            "oldest_pending_seconds": 0, "failed_by_reason": {}, "threshold_seconds": 900,
            "missed_threshold": 0, "completed_under_threshold": 1,
            "completed_within_threshold": 1, "within_threshold_ratio": 1.0}
    check("status --json: pending, failures by reason, threshold, missed, within share",
          len(sla) == 1 and all(sla[0].get(k) == v for k, v in want.items()), sla)
    out = ferry(conf, "replicate", "status", "--state", st).stdout
    check("status: the SLA line of the rule and destination",
          f"sla: ra:{S}/ sla -> rb:{D}/: pending 0 (0 bytes); threshold 900s: missed 0, "
          "within 100.0% (1 of 1)" in out, out)


def part_copies():
    """Same gateway, versions above the single-copy limit (5 MiB here, 5 GiB on S3): copied in
    UploadPartCopy parts of that version, with metadata, content type and tags set at the start."""
    P, Q = bucket("rb"), bucket("rb")
    v1 = os.urandom(12 << 20)
    put_multipart("rb", P, "big", v1, part=6 << 20)
    S3["rb"].put_object_tagging(Bucket=P, Key="big", Tagging={"TagSet": [
        {"Key": "team", "Value": "x"}, {"Key": "tier", "Value": "gold"}]})
    put("rb", P, "big", b"small")
    v3 = os.urandom(6 << 20)
    S3["rb"].put_object(Bucket=P, Key="big", Body=v3, ContentType="image/png",
                        Metadata={"color": "blue"}, Tagging="team=y")
    conf = config("parts.toml", f"""
[transfer]
part_size = "5MiB"

[replication]
server_side_copy_limit = "5MiB"

[[replication.rules]]
id = "p"
destinations = ["rb:{Q}"]
""")
    s = summary(ferry(conf, "replicate", "rb:" + P, "--state", os.path.join(WORK, "parts.db"),
                      "--json"))
    check("above the single-copy limit: UploadPartCopy (2 versions), below it: CopyObject",
          (s.get("replicated"), s.get("server_side_copies"), s.get("server_side_part_copies")) ==
          (3, 3, 2), s)
    want = [hashlib.sha256(d).hexdigest() for d in (v1, b"small", v3)]
    check("part copies: versions in order, same bytes", bodies("rb", Q, "big") == want)
    vq = versions("rb", Q, "big")
    tags = [{t["Key"]: t["Value"] for t in S3["rb"].get_object_tagging(
        Bucket=Q, Key="big", VersionId=v["VersionId"])["TagSet"]} for v in vq]
    check("part copies: tags of each version", len(tags) == 3 and
          tags[0] == {"team": "x", "tier": "gold"} and tags[2] == {"team": "y"}, tags)
    head = S3["rb"].head_object(Bucket=Q, Key="big", VersionId=vq[2]["VersionId"])
    check("part copies: metadata, content type and replica marks",
          head["Metadata"].get("color") == "blue" and head.get("ContentType") == "image/png" and
          head["Metadata"].get("ferry-replica-version") ==
          versions("rb", P, "big")[2]["VersionId"], head)


def tag_changes():
    """replica_modifications on a two-way pair: a tag change at A reaches B's replica, one made
    at B's replica reaches A's original; a quiet pass copies no tags."""
    X, Y = bucket("ra"), bucket("rb")
    rule = 'replica_modifications = true\n'
    xy = config("tx.toml", f'[[replication.rules]]\nid = "xy"\ndestinations = ["rb:{Y}"]\n' + rule)
    yx = config("ty.toml", f'[[replication.rules]]\nid = "yx"\ndestinations = ["ra:{X}"]\n' + rule)
    st = os.path.join(WORK, "tags.db")

    def tags(remote, name, key, version=None):
        kw = {"VersionId": version} if version else {}
        return {t["Key"]: t["Value"] for t in
                S3[remote].get_object_tagging(Bucket=name, Key=key, **kw)["TagSet"]}

    def set_tags(remote, name, key, tagset):
        S3[remote].put_object_tagging(Bucket=name, Key=key, Tagging={"TagSet": [
            {"Key": k, "Value": v} for k, v in tagset.items()]})
    original = put("ra", X, "t", b"tagged", "team=x")
    ferry(xy, "replicate", "ra:" + X, "--state", st)
    ferry(yx, "replicate", "rb:" + Y, "--state", st)
    set_tags("ra", X, "t", {"team": "y"})
    s = summary(ferry(xy, "replicate", "ra:" + X, "--state", st, "--json"))
    check("replica_modifications: a tag changed at A reaches B's replica",
          s.get("tags_synced") == 1 and tags("rb", Y, "t") == {"team": "y"}, (s, tags("rb", Y, "t")))
    s = summary(ferry(yx, "replicate", "rb:" + Y, "--state", st, "--json"))
    check("replica_modifications: nothing changed at B, nothing copied back",
          s.get("tags_synced") == 0, s)
    set_tags("rb", Y, "t", {"team": "z", "tier": "gold"})
    s = summary(ferry(yx, "replicate", "rb:" + Y, "--state", st, "--json"))
    check("replica_modifications: a tag changed at B's replica reaches A's original",
          s.get("tags_synced") == 1 and
          tags("ra", X, "t", original) == {"team": "z", "tier": "gold"},
          (s, tags("ra", X, "t", original)))
    s = summary(ferry(xy, "replicate", "ra:" + X, "--state", st, "--json"))
    check("replica_modifications: both sides agree, a quiet pass copies no tags",
          s.get("tags_synced") == 0 and s.get("replicated") == 0, s)


def kill_and_rerun():
    K, F = bucket("ra"), bucket("rb")
    for i in range(150):
        put("ra", K, "o%03d" % i, b"object %d" % i)
    conf = config("k.toml", f'[[replication.rules]]\nid = "k"\ndestinations = ["rb:{F}"]\n')
    st = os.path.join(WORK, "kill.db")
    proc = subprocess.Popen([FERRY, "--config", conf, "replicate", "ra:" + K, "--state", st,
                             "--concurrency", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def completed():
        try:
            db = sqlite3.connect("file:%s?mode=ro" % st, uri=True, timeout=5)
            return db.execute("SELECT COUNT(*) FROM replication_status"
                              " WHERE state = 'COMPLETED'").fetchone()[0]
        except sqlite3.Error:
            return 0
    deadline = time.time() + 60
    while completed() < 40 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    before = completed()
    s = summary(ferry(conf, "replicate", "ra:" + K, "--state", st, "--report", WORK + "/krep", "--report-format", "s3-batch",
                      "--json"))
    print("  killed after %d of 150 completed; the rerun replicated %s, recovered %s"
          % (before, s.get("replicated"), s.get("recovered")))
    check("killed midway", before < 150)
    n = len([v for v in all_versions("rb", F) if not v["Marker"]])
    check("every version exactly once at the destination", n == 150, n)
    report = open(WORK + "/krep.csv", encoding="utf-8").read().splitlines()[1:]
    check("report complete after the rerun",
          len(report) == 150 and all(",succeeded," in line for line in report), len(report))
    time.sleep(2)  # RGW's usage log flushes every second
    ops = usage_put_ops(F)
    check("RGW's usage log: 150 writes to the destination, none twice", ops == 150, ops)


def two_way():
    X, Y = bucket("ra"), bucket("rb")
    xy = config("xy.toml", f'[[replication.rules]]\nid = "xy"\ndestinations = ["rb:{Y}"]\n'
                           'delete_markers = true\n')
    yx = config("yx.toml", f'[[replication.rules]]\nid = "yx"\ndestinations = ["ra:{X}"]\n'
                           'delete_markers = true\n')
    st = os.path.join(WORK, "xy.db")
    stop = threading.Event()

    def writer(remote, name, tag):
        i = 0
        while not stop.is_set():
            put(remote, name, "w%d" % (i % 3), ("%s %d" % (tag, i)).encode())
            i += 1
            time.sleep(0.15)
    threads = [threading.Thread(target=writer, args=("ra", X, "x")),
               threading.Thread(target=writer, args=("rb", Y, "y"))]
    for t in threads:
        t.start()
    for _ in range(3):
        ferry(xy, "replicate", "ra:" + X, "--state", st)
        ferry(yx, "replicate", "rb:" + Y, "--state", st)
    stop.set()
    for t in threads:
        t.join()
    ferry(xy, "replicate", "ra:" + X, "--state", st)
    ferry(yx, "replicate", "rb:" + Y, "--state", st)
    same = [S3["ra"].get_object(Bucket=X, Key=k)["Body"].read() ==
            S3["rb"].get_object(Bucket=Y, Key=k)["Body"].read() for k in ("w0", "w1", "w2")]
    check("two-way converged: the same current object on both sides for every key", all(same),
          same)
    for k, ok in zip(("w0", "w1", "w2"), same):
        if ok:
            continue
        for remote, name in (("ra", X), ("rb", Y)):  # what each side holds, newest first
            print("    %s %s, oldest first:" % (remote, k))
            for v in versions(remote, name, k):
                meta = {} if v.get("Marker") else S3[remote].head_object(
                    Bucket=name, Key=k, VersionId=v["VersionId"])["Metadata"]
                body = b"<marker>" if v.get("Marker") else S3[remote].get_object(
                    Bucket=name, Key=k, VersionId=v["VersionId"])["Body"].read()
                print("      %s %s %s origin=%s version=%s time=%s" % (
                    v["VersionId"], v["LastModified"].isoformat(), body.decode(),
                    meta.get("ferry-replica-origin", "-"), meta.get("ferry-replica-version", "-"),
                    meta.get("ferry-replica-time", "-")))
    # No replica of a replica: every replica names a version that is an original at its origin
    # (the other side, or, for a later version kept current, its own side).
    metas, originals = {}, {}
    for remote, name in (("ra", X), ("rb", Y)):
        metas[remote] = {v["VersionId"]: S3[remote].head_object(
            Bucket=name, Key=v["Key"], VersionId=v["VersionId"])["Metadata"]
            for v in all_versions(remote, name) if not v["Marker"]}
        originals[f"{remote}:{name}/"] = {vid for vid, m in metas[remote].items()
                                          if "ferry-replica-origin" not in m}
    for remote in ("ra", "rb"):
        bad = [m for m in metas[remote].values() if "ferry-replica-origin" in m and
               m.get("ferry-replica-version") not in originals.get(m["ferry-replica-origin"], ())]
        check("no replica of a replica at %s (%d versions)" % (remote, len(metas[remote])),
              not bad, bad[:2])


def pg(sql):
    """One psql query on the test's state store: its first row's columns, or None."""
    p = subprocess.run(["psql", os.environ["STATE"], "-tAc", sql], capture_output=True, text=True)
    row = p.stdout.strip().splitlines()
    return row[0].split("|") if p.returncode == 0 and row else None


def durable_workers():
    K, F = bucket("ra"), bucket("rb")
    keys = ["k%03d/%s" % (i, "ünï + space" if i % 50 == 0 else "o") for i in range(300)]

    def writer(part):
        for k in keys[part::8]:
            for v in range(3):
                put("ra", K, k, ("%s version %d" % (k, v)).encode())
    t0 = time.time()
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("  900 versions written in %.1f s" % (time.time() - t0))
    conf = config("d.toml", f'[[replication.rules]]\nid = "d"\ndestinations = ["rb:{F}"]\n')
    state = os.environ["STATE"]
    start = time.time()
    cmd = [FERRY, "--config", conf, "replicate", "ra:" + K, "--state", state, "--concurrency", "2",
           "--batch-versions", "30", "--scan-chunk", "40", "--json"]
    # A pass SIGKILLed as soon as its run exists leaves it unfinished: a pass of the source with
    # other rules is refused then (one line, exit 2), and --restart discards it.
    early = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline and early.poll() is None:
        row = pg("SELECT count(*) FROM runs")
        if row and int(row[0]) > 0:
            break
        time.sleep(0.02)
    early.kill()
    early.wait()
    other = config("d2.toml", f'[[replication.rules]]\nid = "other"\ndestinations = ["rb:{F}"]\n')
    p = subprocess.run([FERRY, "--config", other, "replicate", "ra:" + K, "--state", state],
                       capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    check("other rules while the pass is unfinished: refused (one line, exit 2)",
          p.returncode == 2 and len(lines) == 1 and "unfinished run 1 " in lines[0] and
          "other rules" in lines[0] and "--restart" in lines[0], (p.returncode, lines))
    first = subprocess.Popen(cmd + ["--restart"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    # The workers start once the new run exists (a worker still on a job of a run being
    # discarded may write a version the new run writes too: docs/design/replication.md).
    deadline = time.time() + 30
    while time.time() < deadline and first.poll() is None:
        row = pg("SELECT count(*) FROM runs")
        if row and int(row[0]) > 1:
            break
        time.sleep(0.02)
    workers = [subprocess.Popen([FERRY, "--config", conf, "worker", "--state", state,
                                 "--lease-ttl", "3", "--concurrency", "8", "--scan-chunk", "40"],
                                stdout=subprocess.DEVNULL, stderr=open(WORK + "/w%d.log" % i, "w"))
               for i in range(3)]

    def completed_and_owners():
        row = pg("SELECT (SELECT count(*) FROM replication_status WHERE state = 'COMPLETED'),"
                 " (SELECT string_agg(lease_owner, ' ') FROM jobs WHERE state = 'leased'"
                 " AND kind = 'replicate-keys')")
        if row is None or len(row) < 2:
            return 0, set()
        return int(row[0] or 0), {o.split(":")[1] for o in row[1].split()}

    def kill_when(proc, at_least):
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            n, pids = completed_and_owners()
            if n >= at_least and str(proc.pid) in pids:
                proc.kill()
                proc.wait()
                return n
            time.sleep(0.05)
        return None
    # a worker SIGKILLed while it holds a job, then the command itself
    killed_worker_at = kill_when(workers[0], 150)
    killed_cmd_at = kill_when(first, 400)
    check("a worker SIGKILLed holding a replicate-keys job midway",
          killed_worker_at is not None and killed_worker_at < 900, killed_worker_at)
    check("the replicate command SIGKILLed holding a job midway",
          killed_cmd_at is not None and killed_cmd_at < 900, killed_cmd_at)
    if first.poll() is None:
        first.kill()
        first.wait()
    p = subprocess.run(cmd + ["--report", WORK + "/drep", "--report-format", "s3-batch"], capture_output=True, text=True,
                       timeout=120)
    s = summary(p)
    check("the rerun resumed the run and finished it", p.returncode == 0 and s.get("resumed"),
          (p.returncode, s, p.stderr[-300:]))
    copied = []
    for w in workers[1:]:
        w.terminate()
        w.wait()
    for i in (1, 2):
        log = open(WORK + "/w%d.log" % i).read()
        copied += [int(x.split()[2]) for x in log.splitlines()
                   if x.startswith("ferry worker: ") and "objects copied" in x]
    print("  pass of 900 versions in %.1f s: worker killed at %s completed, command at %s; the "
          "surviving workers replicated %s, the rerun %s (%s recovered)"
          % (time.time() - start, killed_worker_at, killed_cmd_at, copied, s.get("replicated"),
             s.get("recovered")))
    check("the workers shared the pass", len(copied) == 2 and all(c > 0 for c in copied), copied)
    src, dst = {}, {}
    for remote, name, into in (("ra", K, src), ("rb", F, dst)):
        for v in all_versions(remote, name):
            into.setdefault(v["Key"], []).insert(0, v["ETag"])  # oldest first
    check("every version at B in the source's order (300 keys x 3)",
          dst == src and len(src) == 300 and all(len(v) == 3 for v in src.values()),
          [k for k in src if dst.get(k) != src[k]][:3])
    report = open(WORK + "/drep.csv", encoding="utf-8").read().splitlines()[1:]
    check("report complete: 900 versions succeeded, whichever process replicated them",
          len(report) == 900 and all(",succeeded," in line for line in report), len(report))
    row = pg("SELECT count(*) FROM replication_status WHERE state <> 'COMPLETED'")
    check("status store: every version COMPLETED", row == ["0"], row)
    time.sleep(2)  # RGW's usage log flushes every second
    ops = usage_put_ops(F)
    check("RGW's usage log: 900 writes to the destination, none twice", ops == 900, ops)
    out = subprocess.run([FERRY, "jobs", "list", "--state", state, "--json"], capture_output=True,
                         text=True).stdout.splitlines()
    check("the run is done", out and json.loads(out[0]).get("state") == "done", out[:1])
    runs = pg("SELECT string_agg(state, ',' ORDER BY id) FROM runs")
    check("--restart discarded the unfinished run (failed), the pass's own run is done",
          runs == ["failed,done"], runs)
    row = pg("SELECT count(*) FROM jobs WHERE kind = 'replicate-scan'")
    check("the listing was cut into key ranges (8 or more replicate-scan jobs of 40 keys)",
          row is not None and int(row[0]) >= 8, row)
    again = summary(subprocess.run(cmd, capture_output=True, text=True, timeout=60))
    check("a new pass replicates nothing: 900 already completed",
          again.get("replicated") == 0 and again.get("already_completed") == 900, again)


def restart_under_workers():
    """`ferry replicate --restart` discards an unfinished run while `ferry worker` processes
    still hold jobs of it and go on claiming: no version is written twice (session 7's fix:
    the restart waits for the leases the discarded run's jobs held)."""
    K, F = bucket("ra"), bucket("rb")
    keys = ["r%03d" % i for i in range(120)]

    def writer(part):
        for k in keys[part::8]:
            for v in range(2):
                put("ra", K, k, ("%s version %d" % (k, v)).encode())
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = os.environ["STATE"]
    conf = config("r.toml", f'[[replication.rules]]\nid = "r"\ndestinations = ["rb:{F}"]\n')
    # The workers run first and claim whatever comes, the discarded run's jobs included.
    workers = [subprocess.Popen([FERRY, "--config", conf, "worker", "--state", state,
                                 "--lease-ttl", "3", "--concurrency", "2"],
                                stdout=subprocess.DEVNULL, stderr=open(WORK + "/rw%d.log" % i, "w"))
               for i in range(3)]
    cmd = [FERRY, "--config", conf, "replicate", "ra:" + K, "--state", state, "--concurrency", "1",
           "--batch-versions", "6", "--json"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def progress():
        row = pg("SELECT (SELECT count(*) FROM replication_status WHERE destination LIKE '%%%s%%'"
                 " AND state = 'COMPLETED'), (SELECT count(*) FROM jobs j JOIN runs r ON j.run = r.id"
                 " WHERE r.source LIKE '%%%s%%' AND j.state = 'leased' AND j.kind = 'replicate-keys'"
                 " AND j.lease_owner NOT LIKE '%%:%d:%%')" % (F, K, first.pid))
        return (int(row[0]), int(row[1])) if row and len(row) == 2 else (0, 0)
    deadline = time.time() + 60
    done, held = 0, 0
    while time.time() < deadline and first.poll() is None:
        done, held = progress()
        if done >= 30 and held > 0:
            break
        time.sleep(0.02)
    # Measured just before the kill: the workers go on meanwhile, and on a loaded machine may
    # have finished what they held by the time a second look comes.
    first.kill()
    first.wait()
    check("the workers hold jobs of the unfinished run when --restart discards it "
          "(%d of 240 versions done, %d jobs held)" % (done, held), done < 240 and held > 0,
          (done, held))
    p = subprocess.run(cmd + ["--restart"], capture_output=True, text=True, timeout=120)
    s = summary(p)
    check("--restart under running workers: a new pass finishes",
          p.returncode == 0 and not s.get("resumed"), (p.returncode, s, p.stderr[-300:]))
    for w in workers:
        w.terminate()
        w.wait()
    src, dst = {}, {}
    for remote, name, into in (("ra", K, src), ("rb", F, dst)):
        for v in all_versions(remote, name):
            into.setdefault(v["Key"], []).insert(0, v["ETag"])  # oldest first
    check("every version at B in the source's order (120 keys x 2)",
          dst == src and len(src) == 120, [k for k in src if dst.get(k) != src[k]][:3])
    time.sleep(2)  # RGW's usage log flushes every second
    ops = usage_put_ops(F)
    check("RGW's usage log: 240 writes to the destination, none twice", ops == 240, ops)
    runs = pg("SELECT string_agg(state, ',' ORDER BY id) FROM runs WHERE source LIKE '%%%s%%'" % K)
    check("the discarded run failed, the new one is done", runs == ["failed,done"], runs)


def transport():
    """Compressed transport per destination (tests/cli/replicate_transport_test.sh): X (gateway
    A, region A) and Y (gateway B, region B) share one staging bucket on B; Z (B) is direct."""
    A, X, Y, Z = bucket("ra"), bucket("ra"), bucket("rb"), bucket("rb")
    STG = bucket("rb", versioned=False)
    text = (b"date,region,amount\n" + b"2026-11-23,west,42\n" * 3000)
    for k in ("csv/a.csv", "csv/b c+d.csv", "logs/x.log"):
        for n in range(3):
            S3["ra"].put_object(Bucket=A, Key=k, Body=text + b"%d" % n, ContentType="text/csv",
                                Metadata={"n": str(n)}, Tagging="team=t%d" % n)
    put("ra", A, "gone", b"g1")
    put("ra", A, "gone", b"g2")
    S3["ra"].delete_object(Bucket=A, Key="gone")  # a delete marker: its key goes directly
    put("ra", A, "big", os.urandom(2 << 20))      # incompressible, in its own frames
    dest = ('{{ location = "{loc}", transport = {{ compress = true, staging = "rb:%s/x", '
            'region = "{region}", level = 3 }} }}' % STG)
    rules = ('[[replication.rules]]\nid = "t"\ndelete_markers = true\ndestinations = [ %s, %s, '
             '"rb:%s" ]\n' % (dest.format(loc="ra:" + X, region="A"),
                              dest.format(loc="rb:" + Y, region="B"), Z))
    conf = config("transport.toml", rules)
    st = os.path.join(WORK, "transport.db")
    bad = config("bad.toml", '[[replication.rules]]\nid = "b"\ndestinations = [ { location = '
                 '"rb:%s", transport = { compress = true } } ]\n' % Y)
    p = ferry(bad, "replicate", "ra:" + A, "--state", st, check_rc=False)
    check("transport without staging: exit 2, one line naming rule and field",
          p.returncode == 2 and p.stderr.count("\n") == 1 and "'b'" in p.stderr
          and "staging" in p.stderr, p.stderr)
    same = config("same.toml", '[[replication.rules]]\nid = "s"\ndestinations = [ { location = '
                  '"rb:%s/", transport = { compress = true, staging = "rb:%s/stage" } } ]\n'
                  % (Y, Y))
    p = ferry(same, "replicate", "ra:" + A, "--state", st, check_rc=False)
    check("staging in the destination's bucket: exit 2, one line",
          p.returncode == 2 and "destination's bucket" in p.stderr, p.stderr)
    start = time.time()
    p = ferry(conf, "replicate", "ra:" + A, "--state", st, "--json")
    s = summary(p)
    print("  pass: %.1f s, %s" % (time.time() - start,
                                  {k: s.get(k) for k in ("replicated", "transported",
                                                         "transport_archives",
                                                         "transport_bytes_in",
                                                         "transport_bytes_wire")}))
    check("the pass succeeded", p.returncode == 0 and s.get("ok"), p.stderr)
    # 10 versions x 2 transported destinations; "gone" (2 versions + marker) went directly
    check("versions transported to both regions, one archive per keys job",
          s.get("transported") == 20 and s.get("transport_archives", 0) >= 1, s)
    check("fewer bytes on the wire than in",
          0 < s.get("transport_bytes_wire", 0) < s.get("transport_bytes_in", 0), s)
    check("direct writes: Z's 13, and the marked key's 3 at X and Y",
          s.get("replicated") == 19 and s.get("delete_markers") == 3, s)
    for label, remote, name in (("X", "ra", X), ("Y", "rb", Y), ("Z", "rb", Z)):
        for k in ("csv/a.csv", "csv/b c+d.csv", "logs/x.log", "gone", "big"):
            check("%s: %s: every version, in order, same bytes" % (label, k),
                  bodies(remote, name, k) == bodies("ra", A, k), k)
        check("%s: the delete marker" % label, markers(remote, name, "gone") == 1)
        vs = versions(remote, name, "csv/b c+d.csv")
        for n, v in enumerate(vs):
            h = S3[remote].head_object(Bucket=name, Key="csv/b c+d.csv", VersionId=v["VersionId"])
            tags = S3[remote].get_object_tagging(Bucket=name, Key="csv/b c+d.csv",
                                                 VersionId=v["VersionId"])["TagSet"]
            check("%s: version %d's metadata, content type, tags and replica marks" % (label, n),
                  h["Metadata"].get("n") == str(n) and h["ContentType"] == "text/csv"
                  and tags == [{"Key": "team", "Value": "t%d" % n}]
                  and h["Metadata"].get("ferry-replica-origin", "").endswith(A + "/")
                  and "ferry-crc32c" in h["Metadata"], (h["Metadata"], tags))
    staged = S3["rb"].list_objects_v2(Bucket=STG).get("KeyCount")
    pending = S3["rb"].list_multipart_uploads(Bucket=STG).get("Uploads", [])
    check("staging empty at the end", staged == 0 and not pending, (staged, pending))
    db = sqlite3.connect(st)
    rows = db.execute("SELECT state, COUNT(*) FROM replication_status GROUP BY state").fetchall()
    check("every status row COMPLETED", rows == [("COMPLETED", 39)], rows)
    time.sleep(2)  # RGW's usage log flushes every second
    before = (usage_put_ops(Y), usage_put_ops(Z))
    p = ferry(conf, "replicate", "ra:" + A, "--state", st, "--json")
    s = summary(p)
    check("a second pass writes nothing",
          p.returncode == 0 and s.get("replicated") == 0 and s.get("transported") == 0, s)
    time.sleep(2)
    after = (usage_put_ops(Y), usage_put_ops(Z))
    check("RGW's usage log: no write at Y or Z in the second pass", before == after,
          (before, after))
    # 12 versions (the marker is a DELETE, not a put_obj)
    check("  and Y took one write per version (none twice)", before[0] == 12, before)


def restart_transport(interrupted):
    """`ferry replicate --restart` of a transported pass killed after packing
    (tests/cli/replicate_restart_test.sh): the discarded run's archives leave staging (none is
    left for an unpack job that no longer exists), and the new pass brings every version to
    both destinations exactly once. `interrupted`: the pass is frozen (alive, its leases held),
    a first --restart abandons its run and is interrupted (SIGINT) while it waits for those
    leases, before it could delete the archives; the pass is killed, and a plain pass (no
    --restart) deletes them."""
    A, X, Y = bucket("ra"), bucket("ra"), bucket("rb")
    STG = bucket("rb", versioned=False)
    keys = ["k%03d" % i for i in range(100)]

    def writer(part):
        for k in keys[part::8]:
            for v in range(2):
                put("ra", A, k, ("%s version %d " % (k, v)).encode() * 40)
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dest = ('{{ location = "{loc}", transport = {{ compress = true, staging = "rb:%s/s", '
            'region = "{region}", level = 3 }} }}' % STG)
    conf = config("restart%d.toml" % interrupted, '[[replication.rules]]\nid = "t"\ndestinations = [ %s, %s ]\n'
                  % (dest.format(loc="ra:" + X, region="A"), dest.format(loc="rb:" + Y,
                                                                         region="B")))
    st = os.path.join(WORK, "restart%d.db" % interrupted)
    cmd = [FERRY, "--config", conf, "replicate", "ra:" + A, "--state", st, "--concurrency", "1",
           "--batch-versions", "20", "--json"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def in_flight():
        """Archives staged (complete) whose unpack is not done, from the progress rows."""
        try:
            db = sqlite3.connect("file:%s?mode=ro" % st, uri=True, timeout=1)
            return db.execute("SELECT COUNT(DISTINCT archive) FROM transport_archives"
                              " WHERE state IN ('staged', 'unpacking')").fetchone()[0]
        except sqlite3.Error:
            return 0
    def unlocked():
        """No write transaction of the frozen process holds the database."""
        try:
            db = sqlite3.connect(st, timeout=0.2, isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
            return True
        except sqlite3.Error:
            return False
    staged = 0
    deadline = time.time() + 60
    while time.time() < deadline and first.poll() is None:
        if in_flight() > 0:
            first.send_signal(signal.SIGSTOP)  # frozen: what it left is what the restart finds
            staged = in_flight()
            if staged > 0 and unlocked():
                break
            staged = 0
            first.send_signal(signal.SIGCONT)
        time.sleep(0.005)
    if interrupted and staged > 0:
        restart = subprocess.Popen(cmd + ["--restart"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)

        def run_state():
            try:
                db = sqlite3.connect("file:%s?mode=ro" % st, uri=True, timeout=1)
                return db.execute("SELECT state FROM runs WHERE id = 1").fetchone()[0]
            except (sqlite3.Error, TypeError):
                return ""
        deadline = time.time() + 30
        while run_state() != "failed" and time.time() < deadline and restart.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)
        waiting = restart.poll() is None
        restart.send_signal(signal.SIGINT)
        restart.wait()
        check("a first --restart abandoned the run and was interrupted while it waited",
              run_state() == "failed" and waiting and restart.returncode != 0,
              (run_state(), waiting, restart.returncode))
    first.kill()
    first.wait()
    on_staging = S3["rb"].list_objects_v2(Bucket=STG).get("KeyCount", 0)
    check("killed after packing: %d archives staged, not unpacked (%d objects on staging)"
          % (staged, on_staging), staged > 0 and on_staging > 0, (staged, on_staging))
    # After an interrupted --restart, a plain pass (no --restart) settles the abandoned run: it
    # waits for the leases its jobs held and deletes its archives (their versions would
    # otherwise count as in transit with no unpack job left).
    again = cmd if interrupted else cmd + ["--restart"]
    p = subprocess.run(again, capture_output=True, text=True, timeout=180)
    s = summary(p)
    check("%s: a new pass finishes" % ("a plain pass" if interrupted else "--restart"),
          p.returncode == 0 and s.get("ok") and not s.get("resumed"),
          (p.returncode, s, p.stderr[-400:]))
    left = [o["Key"] for o in S3["rb"].list_objects_v2(Bucket=STG).get("Contents", [])]
    pending = S3["rb"].list_multipart_uploads(Bucket=STG).get("Uploads", [])
    check("staging empty after the restarted pass (no archive of the discarded run left)",
          not left and not pending, (left[:4], len(pending)))
    src = {}
    for v in all_versions("ra", A):
        src.setdefault(v["Key"], []).insert(0, v["ETag"])
    for label, remote, name in (("X", "ra", X), ("Y", "rb", Y)):
        dst = {}
        for v in all_versions(remote, name):
            dst.setdefault(v["Key"], []).insert(0, v["ETag"])
        check("%s: every version once, in the source's order (100 keys x 2)" % label,
              dst == src and len(src) == 100,
              [(k, len(dst.get(k, []))) for k in src if dst.get(k) != src[k]][:3])
    db = sqlite3.connect(st)
    rows = db.execute("SELECT state, COUNT(*) FROM replication_status GROUP BY state").fetchall()
    check("every status row COMPLETED", rows == [("COMPLETED", 400)], rows)
    open_rows = db.execute("SELECT COUNT(*) FROM transport_archives WHERE state != 'done'"
                           ).fetchone()[0]
    check("every archive's progress row done", open_rows == 0, open_rows)


if __name__ == "__main__":
    try:
        if sys.argv[1:] == ["durable"]:
            durable_workers()
            restart_under_workers()
        elif sys.argv[1:] == ["sla"]:
            sla_metrics()
        elif sys.argv[1:] == ["transport"]:
            transport()
        elif sys.argv[1:] == ["restart"]:
            restart_transport(False)
            restart_transport(True)
        else:
            main()
    finally:
        purge_all()
    finish()
