#!/usr/bin/env python3
"""convergence: the randomized convergence test of `ferry sync --delete`.

Usage:
  convergence.py --seed N --rounds R --direction local-s3|s3-local|s3-s3 --ferry PATH
                 --config FILE --workdir DIR [--src-remote ra] [--dst-remote rb]
                 [--src-bucket B] [--dst-bucket B] [--prefix P]
                 [--fault-proxy PATH --fault-rate 0.2 --fault-kinds 503,reset,...]
                 [--kinds new,same,resize,delete,marker,rename,meta,tags,trade,stealth]
                 [--changes 6] [--initial 40] [--kill-rate 0.3] [--big-rate 0.02]

A seeded generator runs R rounds. Each round applies 1..--changes random changes to the
source, then runs `ferry sync SRC DST --delete --state FILE` (its own SQLite state file in
--workdir). In --kill-rate of the rounds ferry is SIGKILLed after a random short delay, and
run again (sometimes killed again), until a run exits; that run must exit 0. After the rounds,
a final clean sync (no kill, no fault proxy), then the destination must equal the source: the
same keys, the same bytes (sha256), and for S3 sources the same user metadata, Content-Type and
tags (ferry's own `ferry-*` metadata is ignored). A failure prints the seed, the round, the differing keys, and
exits 1, so `--seed N --rounds R` replays it (the source changes are a function of the seed;
kill timing and ferry's own concurrency are not).

Change kinds (--kinds; all by default, each only where it makes sense):
  new      a new object (hostile names: unicode, spaces, '+', '%', '#', '&', '=', '\\', ...;
           sizes mostly 0..64 KiB, with --big-rate 6..12 MiB, above the 5 MiB multipart
           threshold the syncs use: --multipart-threshold 5MiB --part-size 5MiB)
  same     an overwrite that keeps the size and changes the bytes (local: the file's mtime
           becomes the time of the write, as any editor leaves it)
  resize   an overwrite with another size
  delete   an object deleted
  marker   (S3 sources) an empty "folder/" marker object
  rename   a folder renamed: every key under a prefix moved (S3: copied and deleted, keeping
           metadata and tags; local: os.rename of the directory)
  meta     (S3 sources) user metadata and Content-Type replaced, bytes kept: a PUT of the same
           bytes, or a CopyObject onto itself with MetadataDirective REPLACE
  tags     (S3 sources) the tag set replaced or removed (PutObjectTagging/DeleteObjectTagging;
           RGW then changes the object's LastModified, AWS would not)
  trade    a file and a folder of one name trade places: file "a/x" deleted and "a/x/y"
           created, or every key under "a/d/" deleted and a file "a/d" created
  stealth  (local sources) a same-size overwrite whose mtime is set back to the old one
           (os.utime): no listing can see it

Changes no listing can see ("stealth" ones). ferry decides local -> S3 and S3 -> local by
size and whole-second times (docs/design/planner.md), so two writes of one size inside one
second are indistinguishable, and so is a `stealth` edit. The generator records every such
change (a same-size overwrite in the same second as the key's previous write (S3 source) or as
the end of the last sync (local source), and every `stealth` edit). Metadata changes wait for
the next second when needed, since only the new LastModified can show them. The final phase is
therefore two syncs:
  1. `ferry sync --delete` with the rounds' options: the destination must equal the source
     except for the bytes of recorded stealth keys, and a local destination may hold
     .ferry-tmp-* files of killed runs (both counts are printed);
  2. `ferry sync --delete --checksum --abort-uploads-after 1s` (at least 1 s after the last
     kill): the destination must equal the source exactly, with no temporary file left.
A run that defers copies because a file and a folder trade places (conflicts_deferred in its
JSON summary, documented in src/transfer/planner.h) is followed by one more run before
comparing, in both phases. Unfinished multipart uploads on an S3 destination are counted and
printed, not failed: ferry aborts only those its state store recorded (a kill between
CreateMultipartUpload and the checkpoint leaves one it cannot know about).

S3 -> local: folder markers ("dir/", zero bytes) are not files: ferry skips them
(markers_skipped, planner.h), so the expected destination holds the source's other keys.
Metadata, Content-Type and tags of a local destination are read from the user.ferry
extended attribute ferry writes (src/storage/local/local_xattr.h). A local source has no
metadata or tags: its destination objects must carry no user metadata except ferry's own, and
no tags. A local destination must hold no other files (phase 2 above).

S3 access (source changes and the comparison) uses a small SigV4 client over http.client,
talking to the gateways directly (never through the fault proxy), with the endpoint, region
and keys of the remotes named in --config.

Fault proxy: with --fault-proxy PATH (tests/tools/fault_proxy.py) one proxy is started in
front of each gateway involved and ferry syncs through remotes "f<name>" added to a copy of
the config; the faults the proxies injected are printed at the end.

Output: one line per round (changes, kills, ferry's summary counts), then one summary line:
"convergence <direction> seed=N: rounds=R kills=K faults=F objects=O stealth=S ok".

Python 3 standard library only; what convergence_replicate.py shares with it (the S3 client,
the names, the fault proxies, the kill loop) is in convergence_lib.py beside it.
"""

import argparse
import json
import os
import random
import shlex
import signal
import sys
import time

from convergence_lib import (CONTENT_TYPES, FOLDERS, MIB, Failed, KillRunner, Proxies,
                             RandomNames, client_for, ferry_entries, load_remotes, sha,
                             without_ferry)

MP_OPTIONS = ["--multipart-threshold", "5MiB", "--part-size", "5MiB"]
ALL_KINDS = ("new", "same", "resize", "delete", "marker", "rename", "meta", "tags", "trade",
             "stealth")
S3_ONLY_KINDS = ("marker", "meta", "tags")
LOCAL_ONLY_KINDS = ("stealth",)
MAX_BIG = 4  # big objects in the source at once, to keep the time low

# ---------------------------------------------------------------------------------------------
# Sides: the source the generator changes, and what the comparison reads




class LocalSide:
    is_s3 = False

    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def location(self):
        return self.root

    def path(self, key):
        return os.path.join(self.root, *key.split("/"))

    def keys(self):
        """{key: size} of the files, and the set of folder keys ("a/b/"). Temp files too."""
        files, folders = {}, set()
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            base = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            for d in dirnames:
                folders.add(base + d + "/")
            for f in filenames:
                files[base + f] = os.path.getsize(os.path.join(dirpath, f))
        return files, folders

    def write(self, key, data, keep_mtime=False):
        p = self.path(key)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        old = os.stat(p).st_mtime_ns if keep_mtime and os.path.exists(p) else None
        with open(p, "wb") as f:
            f.write(data)
        if old is not None:
            os.utime(p, ns=(old, old))

    def read(self, key):
        with open(self.path(key), "rb") as f:
            return f.read()

    def delete(self, key):
        os.unlink(self.path(key))
        self.prune(os.path.dirname(self.path(key)))

    def prune(self, d):
        """Removes empty folders from d up to the root."""
        while os.path.abspath(d) != os.path.abspath(self.root):
            try:
                os.rmdir(d)
            except OSError:
                return
            d = os.path.dirname(d)

    def rename_folder(self, old, new):
        src, dst = self.path(old.rstrip("/")), self.path(new.rstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.rename(src, dst)
        self.prune(os.path.dirname(src))

    def details(self, key):
        """(user metadata, content type, tags) from ferry's user.ferry attribute."""
        meta, ctype, tags = {}, "", {}
        for n, v in ferry_entries(self.path(key)).items():
            if n.startswith("meta."):
                meta[n[len("meta."):]] = v.decode()
            elif n == "content-type":
                ctype = v.decode()
            elif n == "tags":
                raw = v.split(b"\0")
                for i in range(0, len(raw) - 1, 2):
                    tags[raw[i].decode()] = raw[i + 1].decode()
        return meta, ctype, tags


class S3Side:
    is_s3 = True

    def __init__(self, client, remote, bucket, prefix, via):
        self.c, self.remote, self.bucket, self.prefix, self.via = client, remote, bucket, prefix, via

    def location(self):
        return "%s:%s/%s" % (self.via, self.bucket, self.prefix)

    def keys(self):
        files = {}
        for k, size in self.c.list(self.bucket, self.prefix):
            files[k[len(self.prefix):]] = size
        return files, set()

    def put(self, key, data, meta=None, ctype="application/octet-stream", tags=None):
        self.c.put(self.bucket, self.prefix + key, data, meta, ctype, tags)

    def get(self, key):
        return self.c.get(self.bucket, self.prefix + key)

    def head(self, key):
        return self.c.head(self.bucket, self.prefix + key)

    def delete(self, key):
        self.c.delete(self.bucket, self.prefix + key)

    def tags(self, key):
        return self.c.get_tags(self.bucket, self.prefix + key)

    def put_tags(self, key, tags):
        self.c.put_tags(self.bucket, self.prefix + key, tags)

    def copy_replace(self, key, meta, ctype):
        self.c.copy_replace(self.bucket, self.prefix + key, meta, ctype)


# ---------------------------------------------------------------------------------------------
# The generator


class Generator(RandomNames):
    def __init__(self, rng, src, kinds, big_rate):
        self.rng, self.src, self.kinds, self.big_rate = rng, src, kinds, big_rate
        self.files = {}        # key -> size (markers included, for S3)
        self.folders = set()   # "a/b/" folder keys implied by files (and local empty dirs)
        self.last_write = {}   # key -> wall time after its last write
        self.last_sync_end = 0.0
        self.stealth = set()   # keys whose last change no listing can see
        self.current = "setup"  # the stage, for failure messages

    def refresh(self):
        """Reads the source's keys (and a local source's folders) again."""
        self.files, extra = self.src.keys()
        self.derive_folders(extra)

    def derive_folders(self, extra=()):
        """self.folders from self.files: every ancestor folder of a key, and markers."""
        self.folders = set(extra)
        for k in self.files:
            parts = k.rstrip("/").split("/")
            for i in range(1, len(parts)):
                self.folders.add("/".join(parts[:i]) + "/")
            if k.endswith("/"):
                self.folders.add(k)

    # -- names

    def fits(self, key):
        """True when key can be added: not there, no ancestor is a file, and for a file no
        folder of its name (for a marker "d/": no file "d")."""
        name = key.rstrip("/")
        if key in self.files or name in self.files:
            return False
        if not key.endswith("/") and key + "/" in self.folders:
            return False
        parts = name.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in self.files:
                return False
        return True

    def new_key(self, folder=None):
        for _ in range(50):
            f = folder if folder is not None else (
                self.rng.choice(sorted(self.folders)) if self.folders and self.rng.random() < 0.6
                else self.folder_name())
            key = f + self.leaf_name()
            if self.fits(key) and len(key.encode()) < 700:
                return key
        return None

    # -- sizes and bytes

    def size(self, old=None):
        bigs = sum(1 for s in self.files.values() if s > 5 * MIB)
        if self.rng.random() < self.big_rate and bigs < MAX_BIG:
            return self.rng.randrange(6 * MIB, 12 * MIB)
        r = self.rng.random()
        if r < 0.08:
            s = 0
        elif r < 0.70:
            s = self.rng.randrange(1, 4096)
        else:
            s = self.rng.randrange(4096, 65536)
        return s if s != old else s + 1

    # -- writes (they keep self.files/folders/last_write current)

    def _write(self, key, data, meta=None, ctype=None, tags=None, keep_mtime=False):
        if self.src.is_s3:
            self.src.put(key, data, meta if meta is not None else self.meta(),
                         ctype or self.rng.choice(CONTENT_TYPES),
                         tags if tags is not None else self.tags())
        else:
            self.src.write(key, data, keep_mtime=keep_mtime)
        self.files[key] = len(data)
        parts = key.split("/")
        for i in range(1, len(parts)):
            self.folders.add("/".join(parts[:i]) + "/")
        self.last_write[key] = time.time()

    def _delete(self, key):
        self.src.delete(key)
        del self.files[key]
        self.stealth.discard(key)
        self.last_write.pop(key, None)
        self._forget_folders()

    def _forget_folders(self):
        """After deletes and renames: a local source re-reads its folders (empty ones were
        removed), an S3 source derives them from its keys."""
        if self.src.is_s3:
            self.derive_folders()
        else:
            self.refresh()

    def _same_second(self, key, before):
        """True when a same-size write of key starting at `before` may be invisible to ferry's
        time rules: from a local source, when the last sync (which may have uploaded the old
        bytes; the upload time is what rule 7(b) compares) ended in this second or later; from
        an S3 source, when the key's previous write was in this second (the destination records
        that LastModified, as a file's mtime or as ferry-mtime)."""
        sec = int(before)
        if self.src.is_s3:
            return sec <= int(self.last_write.get(key, 0))
        return sec <= int(self.last_sync_end)

    def _next_second(self, key):
        """Waits until a write of key lands in another second than its previous write."""
        last = self.last_write.get(key, 0)
        if int(time.time()) <= int(last):
            time.sleep(int(last) + 1.02 - time.time())

    def objects(self):
        return [k for k in self.files if not k.endswith("/")]

    # -- the change kinds; each returns a short description or None when it could not apply

    def c_new(self):
        key = self.new_key()
        if key is None:
            return None
        self._write(key, self.data(self.size()))
        self.stealth.discard(key)
        return "new %r (%d)" % (key, self.files[key])

    def c_same(self, stealth=False):
        cands = sorted(k for k in self.objects() if self.files[k] > 0)
        if not cands:
            return None
        key = self.rng.choice(cands)
        before = time.time()
        kept = {}
        if self.src.is_s3:
            meta, ctype = self.src.head(key)
            kept = {"meta": meta, "ctype": ctype, "tags": self.src.tags(key)}
        self._write(key, self.data(self.files[key]), keep_mtime=stealth, **kept)
        if stealth or self._same_second(key, before):
            self.stealth.add(key)
        else:
            self.stealth.discard(key)
        return "%s %r (%d)" % ("stealth" if stealth else "same", key, self.files[key])

    def c_stealth(self):
        return self.c_same(stealth=True)

    def c_resize(self):
        cands = sorted(self.objects())
        if not cands:
            return None
        key = self.rng.choice(cands)
        size = self.size(self.files[key])
        self._write(key, self.data(size))
        self.stealth.discard(key)
        return "resize %r (%d)" % (key, size)

    def c_delete(self):
        if not self.files:
            return None
        key = self.rng.choice(sorted(self.files))
        self._delete(key)
        return "delete %r" % key

    def c_marker(self):
        if self.folders and self.rng.random() < 0.5:
            key = self.rng.choice(sorted(self.folders))
            if key in self.files:
                return None
        else:
            key = self.folder_name() + self.rng.choice(FOLDERS) + "/"
            if not self.fits(key):
                return None
        self._write(key, b"", meta={}, ctype="application/x-directory", tags={})
        return "marker %r" % key

    def c_rename(self):
        folders = sorted(f for f in self.folders
                         if 0 < sum(1 for k in self.files if k.startswith(f)) <= 25)
        if not folders:
            return None
        old = self.rng.choice(folders)
        parent = old.rstrip("/").rpartition("/")[0]
        new = (parent + "/" if parent else "") + self.rng.choice(FOLDERS) + \
            str(self.rng.randrange(100)) + "/"
        if new.startswith(old) or not self.fits(new) or new in self.folders:
            return None
        moved = sorted(k for k in self.files if k.startswith(old))
        if self.src.is_s3:
            for k in moved:
                data, meta, ctype = self.src.get(k)
                tags = self.src.tags(k)
                self.src.put(new + k[len(old):], data, meta, ctype, tags)
                self.src.delete(k)
        else:
            self.src.rename_folder(old, new)
        now = time.time()
        for k in moved:
            nk = new + k[len(old):]
            self.files[nk] = self.files.pop(k)
            self.last_write[nk] = now if self.src.is_s3 else self.last_write.get(k, 0)
            self.last_write.pop(k, None)
            if k in self.stealth:  # a local rename keeps the file: its stealth edit moves too
                self.stealth.discard(k)
                if not self.src.is_s3:
                    self.stealth.add(nk)
        self._forget_folders()
        return "rename %r -> %r (%d keys)" % (old, new, len(moved))

    def c_meta(self):
        cands = sorted(self.objects())
        if not cands:
            return None
        key = self.rng.choice(cands)
        meta, ctype = self.meta(), self.rng.choice(CONTENT_TYPES)
        # A metadata change keeps the bytes, so only the object's new LastModified can show it
        # to ferry; make it one that differs from the old one (no --checksum would help).
        self._next_second(key)
        if self.rng.random() < 0.5:
            self.src.copy_replace(key, meta, ctype)
            how = "copy"
        else:
            data, _, _ = self.src.get(key)
            self.src.put(key, data, meta, ctype, self.src.tags(key))
            how = "put"
        self.last_write[key] = time.time()
        return "meta(%s) %r %s %s" % (how, key, meta, ctype)

    def c_tags(self):
        cands = sorted(self.objects())
        if not cands:
            return None
        key = self.rng.choice(cands)
        tags = self.tags()
        # RGW gives the object a new LastModified (AWS does not): as for metadata, make it
        # one that differs from the old one.
        self._next_second(key)
        self.src.put_tags(key, tags)
        self.last_write[key] = time.time()
        return "tags %r %s" % (key, tags)

    def c_trade(self):
        if self.rng.random() < 0.5:
            cands = sorted(k for k in self.objects() if self.files[k] < 5 * MIB)
            if not cands:
                return None
            key = self.rng.choice(cands)
            self._delete(key)
            inner = self.new_key(key + "/")
            if inner is None:
                return "trade: delete %r" % key
            self._write(inner, self.data(self.size()))
            return "trade %r -> %r" % (key, inner)
        folders = sorted(f for f in self.folders
                         if 0 < sum(1 for k in self.files if k.startswith(f)) <= 5)
        if not folders:
            return None
        f = self.rng.choice(folders)
        for k in sorted(k for k in self.files if k.startswith(f)):
            self._delete(k)
        key = f.rstrip("/")
        if not self.fits(key):
            return "trade: emptied %r" % f
        self._write(key, self.data(self.size()))
        return "trade %r -> %r" % (f, key)

    def round(self, n):
        done = []
        for _ in range(n):
            kind = self.rng.choice(self.kinds)
            what = getattr(self, "c_" + kind)()
            if what:
                done.append(what)
        return done


# ---------------------------------------------------------------------------------------------
# Running ferry


class Runner(KillRunner):
    def __init__(self, args, config, src, dst, rng):
        super().__init__(args, rng)
        self.config, self.src, self.dst = config, src, dst
        self.state = os.path.join(args.workdir, "state.db")

    def command(self, extra=()):
        return [self.args.ferry, "--config", self.config, "sync", self.src.location(),
                self.dst.location(), "--delete", "--state", self.state, "--json",
                "--no-progress"] + MP_OPTIONS + list(extra)

    def failure_lines(self, summary):
        why = []
        if summary.get("error"):
            why.append("error: %s" % summary["error"])
        for f in summary.get("failures", [])[:10]:
            why.append("failed: %s %r: %s" % (f.get("action"), f.get("key"), f.get("error")))
        return why

    def sync(self, kill, what, extra=()):
        return self.run(kill, what, extra)


# ---------------------------------------------------------------------------------------------
# The comparison


def is_temp(key):
    """A local backend's temporary file (src/storage/key.h, kLocalTempPrefix)."""
    return key.rpartition("/")[2].startswith(".ferry-tmp-")


def snapshot(side):
    """{key: (size, sha256, meta-without-ferry, content type, tags)} of a side."""
    files, _ = side.keys()
    out = {}
    for k in sorted(files):
        if side.is_s3:
            data, meta, ctype = side.get(k)
            tags = side.tags(k)
        else:
            if k.endswith("/"):
                continue
            data = side.read(k)
            meta, ctype, tags = side.details(k)
        out[k] = (len(data), sha(data), without_ferry(meta), ctype, tags)
    return out


def compare(direction, src_snap, dst_snap, tolerate):
    """Differences as lines; `tolerate` is the set of keys whose bytes may differ."""
    expected = dict(src_snap)
    if direction == "s3-local":
        expected = {k: v for k, v in expected.items() if not (k.endswith("/") and v[0] == 0)}
    diffs = []
    for k in sorted(set(expected) | set(dst_snap)):
        e, d = expected.get(k), dst_snap.get(k)
        if d is None:
            diffs.append("missing in destination: %r (%d bytes)" % (k, e[0]))
            continue
        if e is None:
            diffs.append("extra in destination: %r (%d bytes)" % (k, d[0]))
            continue
        if e[1] != d[1] and k not in tolerate:
            diffs.append("bytes differ: %r: source %d bytes %s, destination %d bytes %s" % (
                k, e[0], e[1][:12], d[0], d[1][:12]))
        if direction == "local-s3":
            if d[2]:
                diffs.append("metadata on %r from a local source: %s" % (k, d[2]))
            if d[4]:
                diffs.append("tags on %r from a local source: %s" % (k, d[4]))
            continue
        if e[2] != d[2]:
            diffs.append("metadata differs: %r: source %s, destination %s" % (k, e[2], d[2]))
        if e[3] != d[3]:
            diffs.append("content type differs: %r: source %r, destination %r" % (k, e[3], d[3]))
        if e[4] != d[4]:
            diffs.append("tags differ: %r: source %s, destination %s" % (k, e[4], d[4]))
    return diffs


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--direction", required=True, choices=["local-s3", "s3-local", "s3-s3"])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--workdir", required=True, help="an empty folder of this test's own")
    ap.add_argument("--src-remote", default="ra")
    ap.add_argument("--dst-remote", default="rb")
    ap.add_argument("--src-bucket", default="")
    ap.add_argument("--dst-bucket", default="")
    ap.add_argument("--prefix", default="", help="prefix of the S3 sides (ends with '/')")
    ap.add_argument("--fault-proxy", default="", help="tests/tools/fault_proxy.py")
    ap.add_argument("--fault-rate", type=float, default=0.2)
    ap.add_argument("--fault-kinds", default="503,reset,truncate,flip,slow")
    ap.add_argument("--kinds", default=",".join(ALL_KINDS))
    ap.add_argument("--changes", type=int, default=6, help="at most this many changes a round")
    ap.add_argument("--initial", type=int, default=40, help="objects created before round 1")
    ap.add_argument("--kill-rate", type=float, default=0.3)
    ap.add_argument("--big-rate", type=float, default=0.02)
    ap.add_argument("--timeout", type=int, default=300, help="seconds one ferry run may take")
    ap.add_argument("--verbose", action="store_true", help="print every change")
    args = ap.parse_args()
    if args.prefix and not args.prefix.endswith("/"):
        args.prefix += "/"

    remotes = load_remotes(args.config)
    src_s3 = args.direction.startswith("s3")
    dst_s3 = args.direction.endswith("s3")
    kinds = [k for k in args.kinds.split(",") if k]
    for k in kinds:
        if k not in ALL_KINDS:
            raise SystemExit("convergence: unknown change kind %r" % k)
    kinds = [k for k in kinds if not (k in S3_ONLY_KINDS and not src_s3)
             and not (k in LOCAL_ONLY_KINDS and src_s3)]
    # "new" carries the growth of the source; keep it the most likely change.
    kinds = kinds + ["new"] * 2 if "new" in kinds else kinds

    def client(name):
        return client_for(remotes, name, args.config)

    os.makedirs(args.workdir, exist_ok=True)
    config = args.config
    names = ([args.src_remote] if src_s3 else []) + ([args.dst_remote] if dst_s3 else [])
    proxies = None
    via = {n: n for n in names}
    if args.fault_proxy:
        proxies = Proxies(args.fault_proxy, args, remotes, sorted(set(names)))
        config = os.path.join(args.workdir, "ferry.toml")
        via.update(proxies.write_config(args.config, config, remotes))
    src = (S3Side(client(args.src_remote), args.src_remote, args.src_bucket, args.prefix,
                  via[args.src_remote]) if src_s3
           else LocalSide(os.path.join(args.workdir, "src")))
    dst = (S3Side(client(args.dst_remote), args.dst_remote, args.dst_bucket, args.prefix,
                  via[args.dst_remote]) if dst_s3
           else LocalSide(os.path.join(args.workdir, "dst")))

    def log(msg):
        print(msg, flush=True)

    gen = Generator(random.Random(args.seed), src, kinds, args.big_rate)
    run_rng = random.Random(args.seed * 7919 + 1)  # kills: apart from the changes' draws
    runner = Runner(args, config, src, dst, run_rng)
    gen.current = "setup"
    t0 = time.time()
    # SIGTERM (the test script interrupted): stop ferry and the proxies on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(args, gen, runner, src, dst, src_s3, proxies, run_rng, log, t0)
    except Failed as e:
        log("FAIL convergence %s seed=%d: %s" % (args.direction, args.seed, e))
        log("replay (with an empty bucket and workdir): %s" % shlex.join(sys.argv))
        return 1
    except Exception:
        log("ERROR convergence %s seed=%d %s: the test itself failed:" % (
            args.direction, args.seed, gen.current))
        raise
    finally:
        runner.stop()
        if proxies:
            proxies.stop()


def run(args, gen, runner, src, dst, src_s3, proxies, run_rng, log, t0):
    """The rounds and the final comparison; raises Failed (gen.current names the stage)."""
    gen.refresh()
    for _ in range(args.initial):
        gen.c_new()
    for r in range(1, args.rounds + 1):
        gen.current = "round %d" % r
        t_round = time.time()
        gen.refresh()
        changes = gen.round(gen.rng.randrange(1, args.changes + 1))
        kill = run_rng.random() < args.kill_rate
        t_sync = time.time()
        summary, kills = runner.sync(kill, gen.current)
        gen.last_sync_end = time.time()
        log("%s: %d change(s) in %.2f s, %d kill(s), ferry %.2f s: copied %d, deleted %d, "
            "unchanged %d%s" % (
                gen.current, len(changes), t_sync - t_round, kills, gen.last_sync_end - t_sync,
                summary.get("objects_copied", 0), summary.get("objects_deleted", 0),
                summary.get("objects_unchanged", 0),
                ", deferred %d" % summary["conflicts_deferred"]
                if summary.get("conflicts_deferred") else ""))
        if args.verbose:
            for c in changes:
                log("    " + c)
    gen.refresh()
    # The final passes are clean: no kills, and no fault proxy (a byte flipped in a listing, a
    # LastModified made earlier, say, is a fault no tool can tell: listings carry no checksum).
    # The rounds had the faults.
    for side in (src, dst):
        if side.is_s3:
            side.via = side.remote
    # Phase 1: the rounds' options; only the recorded stealth keys may keep old bytes, and a
    # local destination may hold temporary files of killed runs (ferry removes abandoned
    # writes only once they are older than --abort-uploads-after, 24h by default).
    # Phase 2: --checksum --abort-uploads-after 1s: everything must be equal, no temporary
    # file left.
    for phase, extra, tolerate in (
            ("final", (), set(gen.stealth)),
            ("final --checksum", ("--checksum", "--abort-uploads-after", "1s"), set())):
        gen.current = phase
        if extra:
            time.sleep(max(0.0, runner.last_kill + 1.1 - time.time()))
        for _ in range(3):  # a deferred file/folder trade needs one more run (planner.h)
            summary, _ = runner.sync(False, phase, extra)
            if not summary.get("conflicts_deferred"):
                break
        src_snap = snapshot(src)
        dst_snap = snapshot(dst)
        temps = sorted(k for k in dst_snap if is_temp(k))
        if not extra:
            for k in temps:
                del dst_snap[k]
        diffs = compare(args.direction, src_snap, dst_snap, tolerate)
        if diffs:
            raise Failed("destination differs from source after the %s sync (%d difference(s)"
                         "):\n  %s" % (phase, len(diffs), "\n  ".join(diffs[:40])))
        notes = []
        if tolerate:
            notes.append("stealth keys tolerated: %d" % len(tolerate))
        if temps and not extra:
            notes.append("temporary files tolerated: %d" % len(temps))
        if dst.is_s3:
            notes.append("unfinished uploads on the destination bucket: %d" %
                         dst.c.count_uploads(dst.bucket))
        log("%s: %d objects compared, copied %d%s" % (
            phase, len(dst_snap), summary.get("objects_copied", 0),
            " (%s)" % ", ".join(notes) if notes else ""))
    faults, by_kind = 0, {}
    if proxies:
        proxies.stop()
        faults, by_kind = proxies.faults()
    log("convergence %s seed=%d: rounds=%d kills=%d (missed %d) runs=%d faults=%d%s "
        "objects=%d stealth=%d seconds=%.0f ok" % (
            args.direction, args.seed, args.rounds, runner.kills, runner.kill_misses,
            runner.runs, faults, " " + json.dumps(by_kind, sort_keys=True) if by_kind else "",
            len(dst_snap), len(gen.stealth), time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
