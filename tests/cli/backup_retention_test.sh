#!/usr/bin/env bash
# ferry backup's deletions and retention end to end (docs/design/backup.md), region A -> B:
# a backup, then one key deleted and another changed at the source, a second backup records
# the deletion (a tombstone) and packs the change; a prefix restore leaves the deleted key out,
# --as-of before the deletion brings it back, a single-key restore of it says so in one line;
# `catalog ls` hides it unless --include-deleted; `catalog prune --max-delete` past its limit
# forgets nothing (exit 2), and so does the config's [catalog] max_delete (the flag wins over
# it; a bad value refused by `config check` too); `catalog prune --keep-last 1` (a dry run
# first) deletes the archive that held only superseded versions and keeps the other; a restore
# after the prune is byte-identical. The backup run carries the configured [costs] prices; a
# backup of another source into the location is refused.
source "$(dirname "$0")/testlib.bash"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
{ cat "$CONF"; printf '[costs]\nper_gb = 0.09\nper_cpu_second = 0.0001\n'; } > "$WORK/costs.toml"
export WORK FERRY_BIN RA_KEY RA_SECRET RB_KEY RB_SECRET CONF_BASE=$WORK/costs.toml TOOLS
python3 - <<'PY'
import filecmp, json, os, random, sqlite3, subprocess, sys, time
sys.path.insert(0, os.environ["TOOLS"])
import s3_check  # noqa: E402
from s3_check import FAILS, S3, check, keys  # noqa: E402

WORK, FERRY, CONF = os.environ["WORK"], os.environ["FERRY_BIN"], os.environ["CONF_BASE"]


def ferry(*args):
    return subprocess.run([FERRY, "--config", CONF, *args], capture_output=True, text=True)


def js(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"stdout": p.stdout, "stderr": p.stderr, "rc": p.returncode}


def text(n, seed):
    r = random.Random(seed)
    words = ["alpha", "beta", "gamma", "id", "value", "2026-11-23"]
    return "".join(r.choice(words) + ("," if r.random() < 0.8 else "\n") for _ in range(n // 5))[:n].encode()


def now_text():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def same_tree(folder, expected):
    got = {}
    for root, _, files in os.walk(folder):
        for f in files:
            path = os.path.join(root, f)
            got[os.path.relpath(path, folder)] = path
    if sorted(got) != sorted(expected):
        return False
    for key, body in expected.items():
        ref = os.path.join(WORK, "ref", key)
        os.makedirs(os.path.dirname(ref), exist_ok=True)
        with open(ref, "wb") as f:
            f.write(body)
        if not filecmp.cmp(ref, got[key], shallow=False):  # cmp, byte for byte
            return False
    return True


try:
    A, BK = s3_check.bucket("ra", "bk"), s3_check.bucket("rb", "bk")
    LOC = "rb:%s/r" % BK
    ST = os.path.join(WORK, "retention.db")
    a = S3["ra"]
    bodies = {}

    def put(key, body):
        a.put_object(Bucket=A, Key=key, Body=body)
        bodies[key] = body

    # In key order, 1 MiB archives: [a/chg, a/del] and [b/keep, b/small].
    put("a/chg.csv", text(400000, 1))
    put("a/del.csv", text(400000, 2))
    put("b/keep.csv", text(400000, 3))
    put("b/small.csv", text(3000, 4))
    p = ferry("backup", "ra:" + A, LOC, "--state", ST, "--archive-size", "1MiB", "--json")
    s1 = js(p)
    check("first backup: 4 objects in 2 archives",
          p.returncode == 0 and s1.get("objects_packed") == 4 and s1.get("archives") == 2 and
          s1.get("deleted") == 0, p.stderr or s1)
    opts = json.loads(sqlite3.connect(ST).execute("SELECT options FROM runs ORDER BY id").fetchone()[0])
    check("  the backup run carries the configured [costs] prices",
          opts.get("transport", {}).get("prices") == {"per_gib": 0.09, "per_cpu_second": 0.0001}, opts)
    first_archives = set(keys("rb", BK))
    time.sleep(0.05)
    T1 = now_text()
    time.sleep(0.05)
    old = dict(bodies)
    a.delete_object(Bucket=A, Key="a/del.csv")
    del bodies["a/del.csv"]
    put("a/chg.csv", text(390000, 5))

    p = ferry("backup", "ra:" + A, LOC, "--state", ST, "--archive-size", "1MiB", "--json")
    s2 = js(p)
    check("second backup: the change packed, the deletion recorded",
          p.returncode == 0 and s2.get("objects_packed") == 1 and s2.get("deleted") == 1 and
          s2.get("unchanged") == 2, p.stderr or s2)
    p = ferry("backup", "ra:" + A, LOC, "--state", ST, "--json")
    check("  a third backup records nothing new",
          p.returncode == 0 and js(p).get("objects_packed") == 0 and js(p).get("deleted") == 0,
          p.stderr or p.stdout)

    other = s3_check.bucket("ra", "bk")
    p = ferry("backup", "ra:" + other, LOC, "--state", ST, "--json")
    lines = p.stderr.strip().splitlines()
    check("a backup of another source into the location: refused (one line, exit 2)",
          p.returncode == 2 and len(lines) == 1 and "holds the backups of ra:%s/" % A in lines[0],
          p.stderr)

    out = os.path.join(WORK, "now")
    p = ferry("restore", LOC, "--prefix", "a/", "--to", out, "--state", ST, "--json")
    check("restore --prefix a/: the deleted key left out, the changed one's new bytes",
          p.returncode == 0 and js(p).get("deleted_left_out") == 1 and
          same_tree(out, {"a/chg.csv": bodies["a/chg.csv"]}), p.stderr or p.stdout)
    out = os.path.join(WORK, "then")
    p = ferry("restore", LOC, "--prefix", "a/", "--as-of", T1, "--to", out, "--state", ST, "--json")
    check("restore --prefix a/ --as-of before the deletion: both, as they were",
          p.returncode == 0 and js(p).get("objects_written") == 2 and
          same_tree(out, {"a/chg.csv": old["a/chg.csv"], "a/del.csv": old["a/del.csv"]}),
          p.stderr or p.stdout)
    p = ferry("restore", LOC, "a/del.csv", "--to", os.path.join(WORK, "one"), "--state", ST)
    lines = p.stderr.strip().splitlines()
    check("restore of the deleted key: one line saying so, exit 1",
          p.returncode == 1 and len(lines) == 1 and "was deleted from the source" in lines[0], p.stderr)
    p = ferry("restore", LOC, "a/del.csv", "--include-deleted", "--to", os.path.join(WORK, "one"),
              "--state", ST)
    check("  --include-deleted restores its last version",
          p.returncode == 0 and open(os.path.join(WORK, "one", "a", "del.csv"), "rb").read() ==
          old["a/del.csv"], p.stderr)
    p = ferry("catalog", "ls", LOC, "--state", ST)
    check("catalog ls leaves the deleted key out (and says so)",
          p.returncode == 0 and "a/del.csv" not in p.stdout and "a/chg.csv" in p.stdout and
          "1 keys deleted at the source left out" in p.stderr, (p.stdout, p.stderr))
    p = ferry("catalog", "ls", LOC, "--state", ST, "--include-deleted")
    check("  --include-deleted lists it under a line saying when",
          p.returncode == 0 and "a/del.csv  (deleted at the source)" in p.stdout, p.stdout)

    # Retention: --keep-last 1 drops the old a/chg and a/del (deleted: its deletion is the newest
    # state); their archive holds nothing else and goes; [b/keep, b/small] and the new one stay.
    before = set(keys("rb", BK))
    p = ferry("catalog", "prune", LOC, "--state", ST, "--keep-last", "1", "--dry-run")
    check("prune --dry-run: says what would go, changes nothing",
          p.returncode == 0 and p.stdout.count("would drop: ") == 2 and
          p.stdout.count("would delete: ") == 1 and set(keys("rb", BK)) == before,
          (p.stdout, p.stderr))
    # --max-delete: the prune would forget 2 versions of the location's; past the limit it
    # forgets and deletes nothing and says so, exit 2 (a dry run too)
    for limit, dry in (("1", []), ("10%", []), ("1", ["--dry-run"])):
        p = ferry("catalog", "prune", LOC, "--state", ST, "--keep-last", "1",
                  "--max-delete", limit, *dry)
        check("prune --max-delete %s %s: refused in one line, exit 2, nothing gone" % (limit, dry),
              p.returncode == 2 and "2 versions to forget" in p.stderr and
              "over --max-delete " + limit in p.stderr and len(p.stderr.strip().splitlines()) == 1
              and set(keys("rb", BK)) == before, (p.returncode, p.stderr))
    p = ferry("catalog", "prune", LOC, "--state", ST, "--keep-last", "1", "--max-delete", "x")
    check("prune --max-delete x: a bad value refused, exit 2",
          p.returncode == 2 and "--max-delete" in p.stderr, p.stderr)
    p = ferry("catalog", "prune", LOC, "--state", ST, "--keep-last", "1", "--dry-run",
              "--max-delete", "2")
    check("prune --max-delete 2 (the plan's count): not past it", p.returncode == 0, p.stderr)
    # The config's [catalog] max_delete: the prune's limit without the flag (checked by `config
    # check`, a bad value in one line naming the file, the section and the key); the flag wins.
    def with_catalog(name, value):
        path = os.path.join(WORK, name + ".toml")
        with open(CONF) as base, open(path, "w") as f:
            f.write(base.read() + "\n[catalog]\nmax_delete = %s\n" % value)
        return path
    limited, bad = with_catalog("catalog", "1"), with_catalog("catalog-bad", '"lots"')
    p = subprocess.run([FERRY, "--config", limited, "config", "check"], capture_output=True, text=True)
    check("config check accepts [catalog] max_delete", p.returncode == 0, p.stderr)
    for args in (["config", "check"], ["catalog", "prune", LOC, "--state", ST, "--keep-last", "1"]):
        p = subprocess.run([FERRY, "--config", bad, *args], capture_output=True, text=True)
        check("%s refuses [catalog] max_delete = \"lots\" in one line, exit 2"
              % " ".join(args[:2]),
              p.returncode == 2 and "catalog-bad.toml: [catalog]: 'max_delete'" in p.stderr and
              len(p.stderr.strip().splitlines()) == 1, (p.returncode, p.stderr))
    p = subprocess.run([FERRY, "--config", limited, "catalog", "prune", LOC, "--state", ST,
                        "--keep-last", "1"], capture_output=True, text=True)
    check("prune under [catalog] max_delete = 1: refused in one line, exit 2, nothing gone",
          p.returncode == 2 and "2 versions to forget, over [catalog] max_delete 1: nothing was "
          "forgotten or deleted" in p.stderr and len(p.stderr.strip().splitlines()) == 1 and
          set(keys("rb", BK)) == before, (p.returncode, p.stderr))
    p = subprocess.run([FERRY, "--config", limited, "catalog", "prune", LOC, "--state", ST,
                        "--keep-last", "1", "--max-delete", "2", "--dry-run"],
                       capture_output=True, text=True)
    check("  --max-delete 2 wins over the key", p.returncode == 0, p.stderr)
    p = ferry("catalog", "prune", LOC, "--state", ST, "--keep-last", "1", "--json")
    r = js(p)
    after = set(keys("rb", BK))
    gone = before - after
    check("prune --keep-last 1: 2 versions dropped, the archive of superseded versions deleted",
          p.returncode == 0 and r.get("versions_dropped") == 2 and r.get("archives_deleted") == 1 and
          r.get("bytes_freed", 0) > 0 and r.get("archives_kept_whole") == 0 and len(gone) == 1 and
          gone <= first_archives and len(after) == 2, (r, sorted(before), sorted(after)))
    out = os.path.join(WORK, "pruned")
    ok = True
    for prefix in ("a/", "b/"):
        p = ferry("restore", LOC, "--prefix", prefix, "--to", out, "--state", ST)
        ok = ok and p.returncode == 0
    check("restore after the prune: every live key, byte-identical (cmp)",
          ok and same_tree(out, bodies), p.stderr)
    p = ferry("catalog", "prune", LOC, "--state", ST)
    lines = p.stderr.strip().splitlines()
    check("prune without a rule: one line, exit 2",
          p.returncode == 2 and len(lines) == 1 and "--keep-last" in lines[0], p.stderr)
    # A location never backed up (another prefix of the bucket) has no catalog to prune: one
    # line that says so, not "0 versions dropped".
    p = ferry("catalog", "prune", "rb:%s/never" % BK, "--state", ST, "--keep-last", "1")
    lines = p.stderr.strip().splitlines()
    check("prune of a location never backed up: one line, no catalog, exit 1",
          p.returncode == 1 and len(lines) == 1 and "no backup recorded" in lines[0]
          and p.stdout.strip() == "", p.stdout + p.stderr)

    # A folder of a local source replaced by a symbolic link to it (moved to another disk):
    # its keys are unknown to the listing (links to folders are not followed), not deleted.
    # Before, the backup recorded them deleted and prune --keep-last 1 deleted their only
    # backups; a sync --delete removed them from the destination.
    src = os.path.join(WORK, "local-src")
    os.makedirs(os.path.join(src, "sub"))
    local = {"sub/one.csv": text(3000, 6), "sub/two.csv": text(2000, 7), "top.csv": text(1000, 8)}
    for key, body in local.items():
        with open(os.path.join(src, key), "wb") as f:
            f.write(body)
    LOC2 = "rb:%s/local" % BK
    ST2 = os.path.join(WORK, "local.db")
    p = ferry("backup", src, LOC2, "--state", ST2, "--json")
    check("backup of a local folder: 3 objects", p.returncode == 0 and
          js(p).get("objects_packed") == 3, p.stderr or p.stdout)
    SYNC = s3_check.bucket("rb", "sy")
    p = ferry("sync", src, "rb:" + SYNC, "--delete", "--state", os.path.join(WORK, "sync.db"))
    check("  and a sync --delete of it", p.returncode == 0 and len(keys("rb", SYNC)) == 3, p.stderr)
    moved = os.path.join(WORK, "other-disk", "sub")
    os.makedirs(os.path.dirname(moved))
    os.rename(os.path.join(src, "sub"), moved)
    os.symlink(moved, os.path.join(src, "sub"))
    p = ferry("backup", src, LOC2, "--state", ST2, "--json")
    check("the folder replaced by a link to it: nothing recorded deleted",
          p.returncode == 0 and js(p).get("deleted") == 0, p.stderr or p.stdout)
    p = ferry("catalog", "prune", LOC2, "--state", ST2, "--keep-last", "1", "--json")
    check("  prune --keep-last 1 keeps every version and archive",
          p.returncode == 0 and js(p).get("versions_dropped") == 0 and
          js(p).get("archives_deleted") == 0, p.stderr or p.stdout)
    out = os.path.join(WORK, "linked")
    p = ferry("restore", LOC2, "--prefix", "sub/", "--to", out, "--state", ST2)
    check("  and its keys restore byte-identical",
          p.returncode == 0 and same_tree(out, {k: v for k, v in local.items()
                                                if k.startswith("sub/")}), p.stderr)
    p = ferry("sync", src, "rb:" + SYNC, "--delete", "--state", os.path.join(WORK, "sync.db"))
    check("sync --delete keeps the destination's keys under the link, and says so",
          p.returncode == 0 and len(keys("rb", SYNC)) == 3 and
          "1 symbolic links to folders not followed" in p.stderr, p.stderr)
finally:
    s3_check.purge_buckets()
sys.exit(1 if FAILS else 0)
PY
