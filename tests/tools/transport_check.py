#!/usr/bin/env python3
"""End-to-end checks of compressed transport (`ferry sync --compress --staging`) against the two
RGW gateways (run by tests/cli/transport_test.sh and transport_kill_test.sh, which export
FERRY_BIN, CONF_BASE, WORK, RA_* and RB_*). The first argument picks the checks:

  sync   hostile keys and every kind of metadata through A -> staging on B -> B, compared with
         a plain sync of the same source (bytes, user metadata, content headers, tags, storage
         class); incompressible data not inflated by more than 2%; staging left empty; the
         archive progress rows all done
  kill   a pack-only run SIGKILLed while packing, the full run SIGKILLed while unpacking, then
         rerun: every object exactly once (RGW's usage log counts the PUTs on the destination),
         staging empty (objects and unfinished uploads)

S3 clients, check() and RGW's usage log come from s3_check.py (shared with replicate_check.py);
every bucket is removed at the end.
"""
import json
import os
import sqlite3
import subprocess
import sys
import time

import s3_check
from s3_check import S3, check, finish, keys, pending_uploads, usage_put_ops

WORK = os.environ["WORK"]
FERRY = os.environ["FERRY_BIN"]
CONF = os.environ["CONF_BASE"]


def bucket(remote):
    return s3_check.bucket(remote, "tr")


def ferry(*args, check_rc=True):
    p = subprocess.run([FERRY, "--config", CONF, *args], capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        print("  ferry %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p


def summary(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"stdout": p.stdout, "stderr": p.stderr}


def described(remote, name, key):
    """Everything S3 tells of an object, as a comparable dict."""
    c = S3[remote]
    h = c.head_object(Bucket=name, Key=key)
    body = c.get_object(Bucket=name, Key=key)["Body"].read()
    tags = c.get_object_tagging(Bucket=name, Key=key)["TagSet"]
    return {
        "body": body,
        "metadata": h.get("Metadata", {}),
        "content_type": h.get("ContentType"),
        "content_encoding": h.get("ContentEncoding"),
        "content_language": h.get("ContentLanguage"),
        "content_disposition": h.get("ContentDisposition"),
        "cache_control": h.get("CacheControl"),
        "expires": h.get("ExpiresString", h.get("Expires")),
        "storage_class": h.get("StorageClass", "STANDARD"),
        "tags": sorted((t["Key"], t["Value"]) for t in tags),
    }


HOSTILE = ["plain.csv", "spa ce/a b.txt", "plus+and%25/x", "ünïcödé/файл.json", "a/../b",
           "quote'\"<&>", "k" * 1024, "dir/", "deep/" * 20 + "leaf", "empty"]


def sync_checks():
    A, B1, B2, STG = bucket("ra"), bucket("rb"), bucket("rb"), bucket("rb")
    c = S3["ra"]
    for i, key in enumerate(HOSTILE):
        body = b"" if key in ("empty", "dir/") else (("row %d,%s\n" % (i, key)) * (50 + i)).encode()
        extra = {}
        if i % 2 == 0:
            extra = {"ContentEncoding": "identity", "ContentLanguage": "fr-CH",
                     "ContentDisposition": 'attachment; filename="x y.csv"',
                     "CacheControl": "max-age=%d" % i, "Expires": "Wed, 21 Oct 2037 07:28:00 GMT",
                     "StorageClass": "STANDARD_IA"}
        c.put_object(Bucket=A, Key=key, Body=body, ContentType="text/x-%d" % i,
                     Metadata={"owner": "ops", "n": str(i), "spaced": "a b  c"},
                     Tagging="team=data&idx=%d&empty=" % i, **extra)
    big = b"".join(b"%08d,some,csv,text\n" % i for i in range(350000))  # 7 MiB: own frames
    c.put_object(Bucket=A, Key="big/blob", Body=big, Metadata={"kind": "big"})
    n = len(HOSTILE) + 1
    st = os.path.join(WORK, "sync.db")
    p = ferry("sync", "ra:" + A, "rb:" + B1, "--compress", "--staging", "rb:%s/stage" % STG,
              "--state", st, "--json", "--no-progress")
    s = summary(p)
    t = s.get("transport", {})
    check("sync --compress: ok", p.returncode == 0 and s.get("ok"), p.stderr)
    check("  every object packed and verified",
          t.get("entries") == n and t.get("checksums_verified") == n, t)
    check("  bytes on the wire below bytes in (ratio %.2f)" % t.get("ratio", 0),
          0 < t.get("bytes_wire", 0) < t.get("bytes_in", 0), t)
    p2 = ferry("sync", "ra:" + A, "rb:" + B2, "--json", "--no-progress")
    check("plain sync: ok", p2.returncode == 0, p2.stderr)
    k1, k2 = sorted(keys("rb", B1)), sorted(keys("rb", B2))
    check("same keys as a plain sync (hostile ones included)", k1 == k2 and len(k1) == n,
          (len(k1), len(k2)))
    differ = [k for k in k2 if k in k1 and described("rb", B1, k) != described("rb", B2, k)]
    check("byte- and metadata-identical to a plain sync (metadata, content headers, tags, class)",
          not differ, differ[:3] and (described("rb", B1, differ[0]), described("rb", B2, differ[0])))
    src = described("ra", A, "plain.csv")
    got = described("rb", B1, "plain.csv")
    check("  and to the source", all(src[f] == got[f] for f in src if f != "metadata") and
          all(got["metadata"].get(k) == v for k, v in src["metadata"].items()), (src, got))
    check("staging empty after the run", keys("rb", STG) == [] and pending_uploads("rb", STG) == [])
    db = sqlite3.connect(st)
    rows = db.execute("SELECT state, entries, written FROM transport_archives").fetchall()
    check("archive rows: all done, every entry written",
          rows and all(r[0] == "done" and r[1] == r[2] for r in rows), rows)
    p3 = ferry("sync", "ra:" + A, "rb:" + B1, "--compress", "--staging", "rb:%s/stage" % STG,
               "--json", "--no-progress")
    s3 = summary(p3)
    check("a second run finds nothing to pack", p3.returncode == 0 and
          s3.get("transport", {}).get("archives") == 0 and s3.get("objects_unchanged") == n, s3)

    # Incompressible data: raw in the archive, at most 2% over a plain copy.
    R, D = bucket("ra"), bucket("rb")
    c.put_object(Bucket=R, Key="random.bin", Body=os.urandom(5 << 20))
    for i in range(40):
        c.put_object(Bucket=R, Key="small/%02d" % i, Body=os.urandom(3000 + i))
    p = ferry("sync", "ra:" + R, "rb:" + D, "--compress", "--staging", "rb:%s/s2" % STG, "--json",
              "--no-progress")
    t = summary(p).get("transport", {})
    ratio = t.get("bytes_wire", 0) / max(1, t.get("bytes_in", 0))
    check("incompressible data: wire/in = %.4f (at most 1.02)" % ratio,
          p.returncode == 0 and 0 < ratio <= 1.02, t)
    check("  the large random object stored raw", summary(p).get("entries_stored_raw") == 1,
          summary(p).get("entries_stored_raw"))
    check("  copied intact", S3["rb"].get_object(Bucket=D, Key="small/07")["Body"].read() ==
          c.get_object(Bucket=R, Key="small/07")["Body"].read())

    # Flags that make no sense alone: one line, exit 2.
    for args, msg in ((["--compress"], "--compress needs --staging"),
                      (["--staging", "rb:%s/x" % STG], "--staging needs --compress"),
                      (["--compress", "--staging", WORK], "--staging must be an S3 location"),
                      (["--unpack-region", "east"], "--unpack-region needs --compress"),
                      (["--compress", "--staging", "rb:%s/x" % STG, "--no-state"],
                       "--compress needs a durable run"),
                      # staged archives inside DST would be synced (or deleted) with the data
                      (["--compress", "--staging", "rb:%s/stage/" % B1],
                       "overlaps the destination"),
                      (["--compress", "--staging", "ra:%s/" % A], "overlaps the source")):
        p = ferry("sync", "ra:" + A, "rb:" + B1, *args, check_rc=False)
        lines = p.stderr.strip().splitlines()
        check("bad flags %s: exit 2, one line" % " ".join(a for a in args if a.startswith("--")),
              p.returncode == 2 and len(lines) == 1 and msg in lines[0], p.stderr)
    p = ferry("sync", "ra:" + A, "rb:" + B1, "--compress", "--staging", "rb:no-such-bucket-tr/x",
              check_rc=False)
    check("a missing staging bucket: one line before any work",
          p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1 and
          "staging" in p.stderr, p.stderr)


def poll(st, sql, until, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            db = sqlite3.connect("file:%s?mode=ro" % st, uri=True, timeout=5)
            v = db.execute(sql).fetchone()[0]
            db.close()
            if until(v):
                return v
        except sqlite3.Error:
            pass
        time.sleep(0.01)
    return None


def kill_checks():
    A, B, STG = bucket("ra"), bucket("rb"), bucket("rb")
    N = 900
    data = os.path.join(WORK, "kdata")
    os.makedirs(data)
    for i in range(N):
        with open(os.path.join(data, "%04d.json" % i), "wb") as f:
            f.write((json.dumps({"id": i, "name": "user%d" % i, "ok": True}) + "\n").encode() *
                    (30 + i % 20))
    ferry("cp", data, "ra:%s/o" % A, "--no-progress")  # many PUTs at once
    st = os.path.join(WORK, "kill.db")
    base = ["sync", "ra:" + A, "rb:" + B, "--compress", "--staging", "rb:%s/st" % STG,
            "--archive-size", "1MiB", "--state", st, "--no-progress"]
    # 1. SIGKILL while packing (pack-only: nothing is unpacked by this process).
    proc = subprocess.Popen([FERRY, "--config", CONF, *base, "--pack-only"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staged = poll(st, "SELECT COUNT(*) FROM transport_archives", lambda v: v >= 1, proc)
    proc.kill()
    proc.wait()
    db = sqlite3.connect(st)
    packs = db.execute("SELECT state, COUNT(*) FROM jobs WHERE kind = 'pack' GROUP BY state")
    packs = dict(packs.fetchall())
    db.close()
    check("killed while packing (%s archives staged, pack jobs %s)" % (staged, packs),
          staged is not None and proc.returncode == -9 and any(
              k != "done" for k in packs), packs)
    check("  nothing unpacked yet", keys("rb", B) == [])
    # 2. The full run, SIGKILLed while it unpacks an archive (its watermark moved, not done).
    proc = subprocess.Popen([FERRY, "--config", CONF, *base], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    mark = poll(st, "SELECT COUNT(*) FROM transport_archives WHERE state = 'unpacking'"
                " AND written > 0 AND written < entries", lambda v: v >= 1, proc)
    proc.kill()
    proc.wait()
    before = len(keys("rb", B))
    check("killed while unpacking (%d of %d objects written)" % (before, N),
          mark is not None and proc.returncode == -9 and 0 < before < N, (mark, before))
    # 3. Rerun to the end.
    p = ferry(*base, "--json")
    s = summary(p)
    t = s.get("transport", {})
    print("  rerun: %s archives packed, %s unpacked, %s already present" %
          (t.get("archives"), t.get("archives_unpacked"), t.get("already_present")))
    check("rerun: ok", p.returncode == 0 and s.get("ok"), p.stderr)
    got = keys("rb", B)
    check("nothing lost: every object at the destination", len(got) == N, len(got))
    same = all(S3["rb"].head_object(Bucket=B, Key=k)["ETag"] ==
               S3["ra"].head_object(Bucket=A, Key=k)["ETag"] for k in got[::37])
    check("  with the source's bytes (ETags of a sample)", same)
    check("staging cleaned up: no archive, no unfinished upload",
          keys("rb", STG) == [] and pending_uploads("rb", STG) == [],
          (keys("rb", STG), pending_uploads("rb", STG)))
    time.sleep(2)  # RGW's usage log flushes every second
    ops = usage_put_ops(B)
    check("RGW's usage log: %d writes to the destination, none twice" % N, ops == N, ops)


def main():
    try:
        {"sync": sync_checks, "kill": kill_checks}[sys.argv[1]]()
    finally:
        s3_check.purge_buckets()
    finish()


if __name__ == "__main__":
    main()
