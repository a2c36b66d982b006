#!/usr/bin/env bash
# ferry backup / restore / catalog end to end (docs/design/backup.md): 189 objects of region A
# (tiny ones sharing frames, 1-2.5 MiB ones, a 17 MiB one spanning frames, hostile keys,
# metadata and tags) backed up into archives kept on a bucket of region B; a second backup after
# three changes packs only those three; one object restored reading only its frames (ferry's
# counts of ranged reads and bytes, and the S3 GETs in its metrics), byte- and
# metadata-identical; a prefix restored to a folder; an older point in time; a target that
# differs kept unless --force; the catalog exported as CSV and JSON lines; rebuilt from the
# manifests after the state file is gone, then restored from again; bad input: one line,
# non-zero exit. TR_TIMES=1 prints the time of each check.
source "$(dirname "$0")/testlib.bash"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
export WORK FERRY_BIN RA_KEY RA_SECRET RB_KEY RB_SECRET CONF_BASE=$CONF TOOLS
python3 - <<'PY'
import csv, io, json, os, random, subprocess, sys, time
sys.path.insert(0, os.environ["TOOLS"])
import report_check  # noqa: E402
import s3_check  # noqa: E402
from s3_check import FAILS, S3, check, keys  # noqa: E402

WORK, FERRY, CONF = os.environ["WORK"], os.environ["FERRY_BIN"], os.environ["CONF_BASE"]


def bucket(remote):
    return s3_check.bucket(remote, "bk")


def ferry(*args):
    return subprocess.run([FERRY, "--config", CONF, *args], capture_output=True, text=True)


def js(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"stdout": p.stdout, "stderr": p.stderr, "rc": p.returncode}


def described(remote, name, key):
    c = S3[remote]
    h = c.head_object(Bucket=name, Key=key)
    return {"body": c.get_object(Bucket=name, Key=key)["Body"].read(),
            "metadata": {k: v for k, v in h.get("Metadata", {}).items() if not k.startswith("ferry-")},
            "content_type": h.get("ContentType"), "content_encoding": h.get("ContentEncoding"),
            "content_language": h.get("ContentLanguage"),
            "content_disposition": h.get("ContentDisposition"), "cache_control": h.get("CacheControl"),
            "expires": h.get("ExpiresString", h.get("Expires")),
            "storage_class": h.get("StorageClass", "STANDARD"),
            "tags": sorted((t["Key"], t["Value"]) for t in c.get_object_tagging(Bucket=name, Key=key)["TagSet"])}


def one_line(p, pattern, code=None):
    lines = p.stderr.strip().splitlines()
    return (p.returncode != 0 and (code is None or p.returncode == code) and len(lines) == 1
            and pattern in lines[0])


rng = random.Random(7)
HOSTILE = ["spa ce/a b.txt", "plus+and%25/x", "ünïcödé/файл.json", "a/../b", "quote'\"<&>",
           "k" * 1024, "dir/", "deep/" * 20 + "leaf", "empty", "comma,and\"quote.csv"]


def text(n, seed):
    r = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "id", "value", "region", "42", "2026-11-23"]
    out, size = [], 0
    while size < n:
        w = r.choice(words) + ("," if r.random() < 0.8 else "\n")
        out.append(w)
        size += len(w)
    return "".join(out)[:n].encode()


try:
    A, BK, D, D2 = bucket("ra"), bucket("rb"), bucket("rb"), bucket("rb")
    LOC = "rb:%s/b" % BK
    ST = os.path.join(WORK, "backup.db")
    a = S3["ra"]
    bodies = {}

    def put(key, body, i, **extra):
        a.put_object(Bucket=A, Key=key, Body=body, ContentType="text/x-%d" % i,
                     Metadata={"owner": "ops", "n": str(i)}, Tagging="team=data&idx=%d" % i, **extra)
        bodies[key] = body

    for i, key in enumerate(HOSTILE):
        extra = {"ContentDisposition": 'attachment; filename="x y.csv"', "CacheControl": "max-age=9",
                 "ContentLanguage": "fr-CH", "StorageClass": "STANDARD_IA"} if i % 2 == 0 else {}
        put(key, b"" if key in ("dir/", "empty") else text(200 + 37 * i, i), i, **extra)
    for i in range(170):
        put("mix/%03d.json" % i, text(100 + rng.randrange(2900), 1000 + i), i)
    for i in range(8):  # above 1 MiB: frames of their own, beside the tiny ones' shared frame
        put("mid/%02d.csv" % i, os.urandom(1200000 + i * 150000) + text(200000, 2000 + i), i)
    put("big/a.csv", text(17 << 20, 3), 1)  # spans two 16 MiB frames
    N = len(bodies)

    # First backup: everything packed, every archive recorded.
    p = ferry("backup", "ra:" + A, LOC, "--state", ST, "--archive-size", "8MiB", "--json")
    s1 = js(p)
    check("backup of %d objects: ok" % N, p.returncode == 0 and s1.get("ok"), p.stderr)
    check("  every object packed, every entry in the catalog",
          s1.get("objects_packed") == N and s1.get("catalog_entries") == N, s1)
    check("  several archives, smaller than the objects (ratio %.2f)" % s1.get("ratio", 0),
          s1.get("archives", 0) >= 4 and 0 < s1.get("archive_bytes", 0) < s1.get("bytes_in", 0), s1)
    kept_keys = keys("rb", BK)
    check("  only archives at the backup location", kept_keys and
          all(k.startswith("b/") and k.endswith(".fza") for k in kept_keys), kept_keys[:3])
    time.sleep(0.05)
    t1 = time.time()  # one reading for both parts (two could straddle a second: 1 s early)
    T1 = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t1)) + ".%03dZ" % (int(t1 * 1000) % 1000)
    time.sleep(0.05)
    old = {k: bodies[k] for k in ("mix/005.json", "mid/03.csv", "spa ce/a b.txt")}
    put("mix/005.json", text(900, 77), 5)
    put("mid/03.csv", text(50000, 78), 3)
    put("spa ce/a b.txt", b"changed\n", 0)

    # Second backup: only the three changes.
    p = ferry("backup", "ra:" + A, LOC, "--state", ST, "--archive-size", "8MiB", "--json")
    s2 = js(p)
    check("second backup packs only the 3 changed objects",
          p.returncode == 0 and s2.get("objects_packed") == 3 and s2.get("unchanged") == N - 3
          and s2.get("archives") == 1 and s2.get("catalog_entries") == N + 3, s2)

    # One object: only its frames read. The object is one of an archive of several frames (the
    # last archives of a backup are small, cut for the slow stop: some hold one frame only).
    p = ferry("catalog", "export", LOC, "--state", ST, "--format", "json")
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    frames, ends = {}, {}
    for row in rows:
        frames.setdefault(row["archive"], set()).add(row["first_frame"])
        ends[row["archive"]] = max(ends.get(row["archive"], 0), row["data_offset"] + row["data_bytes"])
    picks = [row for row in rows if len(frames[row["archive"]]) >= 3 and row["frame_count"] == 1
             and row["key"] not in old and 0 < row["size"] < (1 << 20)]
    # The largest such archive, and the first object in it: an archive of more than 1 MiB is
    # opened by two ranged reads (header; trailer and manifest in its last 64 KiB), one of at
    # most 1 MiB is read whole by one.
    picks.sort(key=lambda row: (-ends[row["archive"]], row["data_offset"]))
    check("  an object of an archive of 3 or more frames to restore", picks, len(rows))
    ONE = picks[0]["key"] if picks else "mix/042.json"
    metrics = os.path.join(WORK, "restore.prom")
    p = ferry("--metrics-file", metrics, "restore", LOC, ONE, "--to", "rb:" + D,
              "--state", ST, "--json")
    r = js(p)
    check("restore of one object: ok, written", p.returncode == 0 and r.get("objects_written") == 1, p.stderr)
    # The header is a few bytes and the tail 64 KiB: the bytes read are its frame and little more.
    frame = picks[0]["data_bytes"] if picks else 0
    size = r.get("archive_bytes", 0)
    if size <= (1 << 20):
        want_reads, fits = 1, r.get("bytes_read") == size
    else:
        in_tail = picks[0]["data_offset"] >= size - (64 << 10) if picks else False
        want_reads = 2 if in_tail else 3
        fits = frame <= r.get("bytes_read", 0) <= frame + (68 << 10) < size
    check("  read %d of %d archive bytes (opening and one frame of %d: %d ranged GETs, %d expected)"
          % (r.get("bytes_read", 0), size, frame, r.get("ranged_reads", 0), want_reads),
          r.get("archives_read") == 1 and r.get("ranged_reads") == want_reads and fits, r)
    gets = 0
    for line in open(metrics):
        if line.startswith('ferry_s3_requests_total{') and 'operation="GetObject"' in line:
            gets += int(float(line.split()[-1]))
    check("  ferry's metrics: the same %d GETs, nothing else read" % gets,
          gets == r.get("ranged_reads"), gets)
    src, got = described("ra", A, ONE), described("rb", D, ONE)
    check("  byte-identical, metadata, content headers and tags kept", src == got, (src, got))

    # Large objects spanning frames, and the hostile keys: bytes and metadata.
    p = ferry("restore", LOC, "big/a.csv", "--to", "rb:" + D, "--state", ST, "--json")
    check("restore of a 17 MiB object (two frames, a multipart write)",
          p.returncode == 0 and S3["rb"].get_object(Bucket=D, Key="big/a.csv")["Body"].read() ==
          bodies["big/a.csv"], p.stderr)
    bad = []
    for key in ("k" * 1024, "ünïcödé/файл.json", "quote'\"<&>", "dir/", "empty"):
        p = ferry("restore", LOC, key, "--to", "rb:" + D, "--state", ST)
        if p.returncode != 0 or described("ra", A, key) != described("rb", D, key):
            bad.append((key[:40], p.returncode, p.stderr.strip()[:200]))
    check("hostile keys restored one by one, identical with their metadata", not bad, bad)

    # A prefix into a local folder: each archive needed read once.
    out = os.path.join(WORK, "restored")
    p = ferry("restore", LOC, "--prefix", "mix/", "--to", out, "--state", ST, "--json",
              "--report", os.path.join(WORK, "rep1"), "--report-format", "json")
    r = js(p)
    files = sorted(os.listdir(os.path.join(out, "mix"))) if os.path.isdir(os.path.join(out, "mix")) else []
    check("restore --prefix mix/ into a folder: 170 objects from the 2 archives holding them",
          p.returncode == 0 and r.get("objects_written") == 170 and r.get("archives_read") == 2 and
          len(files) == 170, r)
    check("  the latest bytes of each", all(open(os.path.join(out, "mix", f), "rb").read() ==
                                           bodies["mix/" + f] for f in files))
    # --report (docs/design/report.md): a row per object, the summary's counts the run's
    summary, rows = report_check.load(os.path.join(WORK, "rep1"))
    check("  --report: a copied row per object written, each proved by its CRC32C",
          len(rows) == 170 and {(x["action"], x["result"], x["checksum"]) for x in rows} ==
          {("copied", "ok", "crc32c")} and summary["counts"] == {"copied": {"ok": 170}}, summary)

    # An older point in time, and a target that differs.
    p = ferry("restore", LOC, "mix/005.json", "--at", T1, "--to", "rb:" + D2, "--state", ST, "--json")
    check("restore --at (before the second backup): the old bytes",
          p.returncode == 0 and S3["rb"].get_object(Bucket=D2, Key="mix/005.json")["Body"].read() ==
          old["mix/005.json"], p.stderr)
    p = ferry("restore", LOC, "--prefix", "mid/0", "--at", T1, "--to", "rb:" + D2, "--state", ST, "--json")
    check("restore --prefix --at: the old version of the changed one",
          p.returncode == 0 and js(p).get("objects_written") == 8 and
          S3["rb"].get_object(Bucket=D2, Key="mid/03.csv")["Body"].read() == old["mid/03.csv"], p.stderr)
    p = ferry("restore", LOC, "mix/005.json", "--to", "rb:" + D2, "--state", ST,
              "--report", os.path.join(WORK, "rep2"))
    summary, rows = report_check.load(os.path.join(WORK, "rep2"))
    check("  --report: the kept target is a failed row saying why",
          [(x["action"], x["error_code"], x["key"]) for x in rows] ==
          [("failed", "AlreadyExists", "mix/005.json")] and "--force" in rows[0]["error_message"],
          rows)
    check("the latest onto a target that differs: kept, said, exit 1",
          p.returncode == 1 and "kept: mix/005.json exists at the target and differs (--force overwrites)"
          in p.stderr and S3["rb"].get_object(Bucket=D2, Key="mix/005.json")["Body"].read() ==
          old["mix/005.json"], p.stderr)
    p = ferry("restore", LOC, "mix/005.json", "--to", "rb:" + D2, "--state", ST, "--force", "--json")
    check("  --force overwrites it", p.returncode == 0 and js(p).get("overwritten") == 1 and
          S3["rb"].get_object(Bucket=D2, Key="mix/005.json")["Body"].read() == bodies["mix/005.json"],
          p.stderr)
    p = ferry("restore", LOC, "mix/005.json", "--to", "rb:" + D2, "--state", ST, "--json",
              "--report", os.path.join(WORK, "rep3"), "--report-level", "all")
    check("  identical now: left as it is, nothing read",
          p.returncode == 0 and js(p).get("identical") == 1 and js(p).get("bytes_read") == 0, p.stdout)
    summary, rows = report_check.load(os.path.join(WORK, "rep3"))
    check("  --report-level all: its skipped row, the target read back against the CRC32C",
          [(x["action"], x["result"], x["checksum"]) for x in rows] == [("skipped", "skipped", "crc32c")],
          rows)

    # The catalog, exported.
    p = ferry("catalog", "export", LOC, "--state", ST)
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    check("catalog export: CSV with a header, one row per object version (%d)" % len(rows),
          p.returncode == 0 and len(rows) == N + 3 and
          {r["key"] for r in rows} == set(bodies) and
          all(r["archive"].endswith(".fza") for r in rows), p.stderr or p.stdout[:300])
    p = ferry("catalog", "export", LOC, "--state", ST, "--format", "json", "--prefix", "mid/")
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    check("catalog export --format json --prefix: JSON lines (9 for mid/)",
          p.returncode == 0 and len(lines) == 9 and
          all(l["key"].startswith("mid/") and l["size"] > 0 for l in lines), p.stdout[:300])
    p = ferry("catalog", "ls", LOC, "--state", ST, "--prefix", "spa ce/")
    check("catalog ls: newest first, the older version marked",
          p.returncode == 0 and len(p.stdout.splitlines()) == 2 and
          "(older)" in p.stdout.splitlines()[1], p.stdout)

    # The state file lost: the catalog rebuilt from the manifests, then restored from again.
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(ST + suffix):
            os.remove(ST + suffix)
    p = ferry("catalog", "rebuild", LOC, "--state", ST, "--json")
    rb = js(p)
    check("catalog rebuild after the state file is gone: every archive and entry",
          p.returncode == 0 and rb.get("entries") == N + 3 and
          rb.get("archives") == s1.get("archives", 0) + 1, rb)
    p = ferry("restore", LOC, "mid/03.csv", "--to", "rb:" + D, "--state", ST, "--json")
    check("  restore from the rebuilt catalog: the latest version",
          p.returncode == 0 and
          S3["rb"].get_object(Bucket=D, Key="mid/03.csv")["Body"].read() == bodies["mid/03.csv"],
          p.stderr)
    p = ferry("backup", "ra:" + A, LOC, "--state", ST, "--json")
    check("  a backup after the rebuild packs nothing",
          p.returncode == 0 and js(p).get("objects_packed") == 0 and js(p).get("unchanged") == N,
          p.stdout or p.stderr)

    # A local folder, without --state: the catalog in the backup location's own state file,
    # kept; unchanged files (same mtime) are not packed again.
    folder = os.path.join(WORK, "local")
    os.makedirs(os.path.join(folder, "sub"))
    for name in ("a.txt", "sub/b.txt", "sub/c d.txt"):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(text(5000, len(name)))
    auto = "rb:%s/auto" % BK
    p = ferry("backup", folder, auto, "--json")
    p2 = ferry("backup", folder, auto, "--json")
    state_files = os.listdir(os.environ["FERRY_STATE_DIR"])
    check("a folder backed up without --state: its state file kept, a second backup packs nothing",
          p.returncode == 0 and js(p).get("objects_packed") == 3 and p2.returncode == 0 and
          js(p2).get("objects_packed") == 0 and js(p2).get("unchanged") == 3 and
          len(state_files) == 1, (p.stderr, p2.stdout, state_files))
    p = ferry("restore", auto, "sub/c d.txt", "--to", os.path.join(WORK, "back"))
    check("  restore without --state finds that catalog",
          p.returncode == 0 and open(os.path.join(WORK, "back", "sub", "c d.txt"), "rb").read() ==
          open(os.path.join(folder, "sub", "c d.txt"), "rb").read(), p.stderr)

    # Bad input: one line, non-zero.
    p = ferry("restore", LOC, "no/such/key", "--to", "rb:" + D, "--state", ST)
    check("unknown key: one line, exit 1", one_line(p, "no backup of no/such/key in", 1), p.stderr)
    p = ferry("restore", LOC, "mix/001.json", "--version", "v-nope", "--to", "rb:" + D, "--state", ST)
    check("unknown version: one line, exit 1", one_line(p, "with version v-nope", 1), p.stderr)
    p = ferry("restore", "rb:ferry-bk-missing-%d/b" % os.getpid(), "mix/001.json", "--to", "rb:" + D,
              "--state", ST)
    check("missing backup location: one line, non-zero", one_line(p, "backup location"), p.stderr)
    p = ferry("backup", "ra:" + A, "rb:ferry-bk-missing-%d/b" % os.getpid(), "--state", ST)
    check("backup to a missing location: one line, non-zero", one_line(p, "backup location"), p.stderr)
    p = ferry("backup", "ra:" + A, os.path.join(WORK, "folder"), "--state", ST)
    check("a folder as backup location: one line, exit 2", one_line(p, "must be an S3 location", 2), p.stderr)
    p = ferry("restore", LOC, "mix/001.json", "--prefix", "mix/", "--to", "rb:" + D, "--state", ST)
    check("KEY and --prefix: one line, exit 2", one_line(p, "either KEY or --prefix", 2), p.stderr)
    p = ferry("restore", LOC, "mix/001.json", "--at", "yesterday", "--to", "rb:" + D, "--state", ST)
    check("a bad --at: one line, exit 2", one_line(p, "--at", 2), p.stderr)

    # --detach with --report: the worker that serves the restore writes its rows and the
    # summary (docs/design/report.md); a restore that keeps a target fails its run, and the
    # summary, written before the run fails, says so.
    p = ferry("restore", LOC, "--prefix", "mix/00", "--detach", "--json", "--to",
              os.path.join(WORK, "det"), "--state", ST, "--report", os.path.join(WORK, "rep4"))
    run = js(p).get("run")
    check("restore --detach --report: queued", p.returncode == 0 and run, p.stderr)
    w = ferry("worker", "--state", ST, "--run", str(run), "--until-done")
    summary, rows = report_check.load(os.path.join(WORK, "rep4"))
    check("  the worker wrote a copied row per object and the summary",
          len(rows) == 10 and {(x["action"], x["result"]) for x in rows} == {("copied", "ok")} and
          summary["counts"] == {"copied": {"ok": 10}} and summary.get("complete") is True and
          not summary.get("not_checked"), (w.returncode, w.stderr[-400:], summary))
    p = ferry("restore", LOC, "mix/005.json", "--at", T1, "--detach", "--json", "--to", "rb:" + D2,
              "--state", ST, "--report", os.path.join(WORK, "rep5"))
    run = js(p).get("run")
    w = ferry("worker", "--state", ST, "--run", str(run), "--until-done")
    summary, rows = report_check.load(os.path.join(WORK, "rep5"))
    check("  a detached restore that keeps a target: its failed row, the summary says the run "
          "failed", [(x["action"], x["error_code"]) for x in rows] == [("failed", "AlreadyExists")]
          and "the run failed: 1 of its jobs are dead" in json.dumps(summary.get("not_checked")),
          (w.returncode, w.stderr[-400:], summary))
    p = ferry("jobs", "list", "--state", ST, "--json")  # a JSON document per line, per run
    states = {r.get("run"): r.get("state") for r in map(json.loads, p.stdout.splitlines())}
    check("  and the run is failed", str(states.get(run, "")).startswith("failed"), states)
finally:
    s3_check.purge_buckets()
sys.exit(1 if FAILS else 0)
PY
