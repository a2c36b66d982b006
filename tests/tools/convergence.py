#!/usr/bin/env python3
"""convergence: the randomized convergence test of `ferry sync --delete` (issue 11, section 4).

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
a final clean sync, then the destination must equal the source: the same keys, the same bytes
(sha256), and for S3 sources the same user metadata, Content-Type and tags (ferry's own
`ferry-*` metadata is ignored). A failure prints the seed, the round, the differing keys, and
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
Metadata, Content-Type and tags of a local destination are read from the user.ferry.*
extended attributes ferry writes (src/storage/local/local_xattr.h). A local source has no
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

Python 3 standard library only.
"""

import argparse
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

MIB = 1 << 20
MP_OPTIONS = ["--multipart-threshold", "5MiB", "--part-size", "5MiB"]
ALL_KINDS = ("new", "same", "resize", "delete", "marker", "rename", "meta", "tags", "trade",
             "stealth")
S3_ONLY_KINDS = ("marker", "meta", "tags")
LOCAL_ONLY_KINDS = ("stealth",)
MAX_BIG = 4  # big objects in the source at once, to keep the time low

# Name parts: hostile but legal everywhere ferry goes (local keys refuse "", ".", "..",
# "//", a trailing '/' and ".ferry-tmp-*"; see src/storage/key.h).
FOLDERS = ["docs", "Fotos 2024", "ünïcødé", "a+b", "100%", "日本語", "sp  ace", "x", "e😀",
           "semi;colon", "amp&er=sand", "hash#tag", "tilde~", "back\\slash", " lead",
           "trail ", ".hidden", "v1.2", "q?mark", "quote'd", "Ω"]
STEMS = ["file", "Résumé", "a b", "c+d", "50%off", "%41", "日記", "naïve", "€uro", "x",
         "plus+plus", "perc%25ent", "dots...", "-dash", "_under", "QUERY?x=1", "emoji🎉",
         "a=b&c", "tab", "z"]
EXTS = ["", ".txt", ".bin", ".dat", ".tar.gz", ".JPG", ".é"]
META_NAMES = ["color", "owner", "project", "x-note", "rev"]
META_VALUES = ["red", "Blue Sky", "a+b=c", "100%", "slash/and:colon", "tilde~", "12345", ""]
TAG_KEYS = ["env", "team", "Projekt", "ünï", "k+1", "cost center"]
TAG_VALUES = ["prod", "dev", "a b", "x+y=z", "ÄÖÜ", "", "path/to:x", "@home"]
CONTENT_TYPES = ["application/octet-stream", "text/plain", "image/jpeg", "application/x-ferry",
                 "text/plain; charset=utf-8"]


class Failed(Exception):
    """A convergence failure: printed with the seed and the round, exit 1."""


# ---------------------------------------------------------------------------------------------
# Config and a minimal SigV4 S3 client


def load_remotes(path):
    """The [remotes.NAME] tables of a ferry TOML config: {name: {key: value}} (strings only)."""
    remotes, current = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^\[remotes\.([^\]]+)\]$", line)
            if m:
                current = remotes.setdefault(m.group(1).strip('"'), {})
                continue
            if line.startswith("["):
                current = None
                continue
            m = re.match(r'^([A-Za-z0-9_]+)\s*=\s*"(.*)"\s*$', line)
            if m and current is not None:
                current[m.group(1)] = m.group(2)
    return remotes


def uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


class S3:
    """Path-style S3 requests signed with SigV4, one connection each: RGW on a kept-alive
    connection answers small requests ~40 ms late (delayed ACKs against its split writes),
    a fresh local connection in ~5 ms."""

    def __init__(self, endpoint, region, access_key, secret_key):
        u = urllib.parse.urlsplit(endpoint)
        self.host = u.netloc
        self.https = u.scheme == "https"
        self.region = region or "us-east-1"
        self.access_key = access_key
        self.secret_key = secret_key
        self.conn = None

    def _connect(self):
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        self.conn = cls(self.host, timeout=120)

    def request(self, method, bucket, key=None, query=None, body=b"", headers=None, ok=(200,)):
        """Returns (status, headers dict with lower-case names, body bytes)."""
        path = "/" + bucket + ("/" + uri_encode(key, True) if key is not None else "")
        query = query or {}
        cq = "&".join("%s=%s" % (uri_encode(k, False), uri_encode(v, False))
                      for k, v in sorted(query.items()))
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        date = amz_date[:8]
        payload_hash = hashlib.sha256(body).hexdigest()
        hdrs = {"host": self.host, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
        for k, v in (headers or {}).items():
            hdrs[k.lower()] = v
        if body or method in ("PUT", "POST"):
            hdrs["content-length"] = str(len(body))
        signed = sorted(hdrs)
        canonical = "\n".join([method, path, cq,
                               "".join("%s:%s\n" % (k, str(hdrs[k]).strip()) for k in signed),
                               ";".join(signed), payload_hash])
        scope = "%s/%s/s3/aws4_request" % (date, self.region)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        k = ("AWS4" + self.secret_key).encode()
        for part in (date, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        hdrs["authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                                 "Signature=%s" % (self.access_key, scope, ";".join(signed), sig))
        target = path + ("?" + cq if cq else "")
        for attempt in range(5):
            self._connect()
            try:
                self.conn.request(method, target, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (OSError, http.client.HTTPException):
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
            finally:
                self.conn.close()
        rh = {k.lower(): v for k, v in resp.getheaders()}
        if resp.status not in ok:
            raise RuntimeError("S3 %s %s/%s: HTTP %d %s" % (method, bucket, key, resp.status,
                                                          data[:300].decode("utf-8", "replace")))
        return resp.status, rh, data

    def list(self, bucket, prefix=""):
        """[(key, size)] of every object under prefix, ascending."""
        out, token = [], None
        while True:
            q = {"list-type": "2", "prefix": prefix, "max-keys": "1000"}
            if token:
                q["continuation-token"] = token
            _, _, data = self.request("GET", bucket, query=q)
            root = ET.fromstring(data)
            ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            for c in root.findall(ns + "Contents"):
                out.append((c.find(ns + "Key").text, int(c.find(ns + "Size").text)))
            trunc = root.find(ns + "IsTruncated")
            if trunc is None or trunc.text != "true":
                return out
            token = root.find(ns + "NextContinuationToken").text

    def put(self, bucket, key, data, meta=None, ctype="application/octet-stream", tags=None):
        h = {"content-type": ctype}
        for k, v in (meta or {}).items():
            h["x-amz-meta-" + k] = v
        if tags:
            h["x-amz-tagging"] = urllib.parse.urlencode(tags, quote_via=urllib.parse.quote)
        self.request("PUT", bucket, key, body=data, headers=h)

    def copy_replace(self, bucket, key, meta, ctype):
        """CopyObject onto itself with new metadata (bytes, and tags, kept)."""
        h = {"x-amz-copy-source": "/" + bucket + "/" + uri_encode(key, True),
             "x-amz-metadata-directive": "REPLACE", "content-type": ctype}
        for k, v in meta.items():
            h["x-amz-meta-" + k] = v
        self.request("PUT", bucket, key, headers=h)

    def get(self, bucket, key):
        """(bytes, user metadata dict, content type)."""
        _, h, data = self.request("GET", bucket, key)
        return data, user_meta(h), h.get("content-type", "")

    def head(self, bucket, key):
        _, h, _ = self.request("HEAD", bucket, key)
        return user_meta(h), h.get("content-type", "")

    def delete(self, bucket, key):
        self.request("DELETE", bucket, key, ok=(200, 204))

    def get_tags(self, bucket, key):
        _, _, data = self.request("GET", bucket, key, query={"tagging": ""})
        root = ET.fromstring(data)
        tags = {}
        for el in root.iter():
            if el.tag.endswith("Tag"):
                k = v = None
                for c in el:
                    if c.tag.endswith("Key"):
                        k = c.text or ""
                    elif c.tag.endswith("Value"):
                        v = c.text or ""
                if k is not None:
                    tags[k] = v or ""
        return tags

    def put_tags(self, bucket, key, tags):
        if not tags:
            self.request("DELETE", bucket, key, query={"tagging": ""}, ok=(200, 204))
            return
        parts = ["<Tagging><TagSet>"]
        for k, v in sorted(tags.items()):
            parts.append("<Tag><Key>%s</Key><Value>%s</Value></Tag>" % (xml_escape(k),
                                                                        xml_escape(v)))
        parts.append("</TagSet></Tagging>")
        body = "".join(parts).encode()
        md5 = __import__("base64").b64encode(hashlib.md5(body).digest()).decode()
        self.request("PUT", bucket, key, query={"tagging": ""}, body=body,
                     headers={"content-md5": md5, "content-type": "application/xml"})

    def count_uploads(self, bucket):
        _, _, data = self.request("GET", bucket, query={"uploads": ""})
        return sum(1 for el in ET.fromstring(data).iter() if el.tag.endswith("Upload"))


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user_meta(h):
    return {k[len("x-amz-meta-"):]: v for k, v in h.items() if k.startswith("x-amz-meta-")}


def without_ferry(meta):
    return {k: v for k, v in meta.items() if not k.startswith("ferry-")}


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
        """(user metadata, content type, tags) from ferry's user.ferry.* attributes."""
        p = self.path(key)
        meta, ctype, tags = {}, "", {}
        try:
            names = os.listxattr(p)
        except OSError:
            return meta, ctype, tags
        for n in names:
            if n.startswith("user.ferry.meta."):
                meta[n[len("user.ferry.meta."):]] = os.getxattr(p, n).decode()
            elif n == "user.ferry.content-type":
                ctype = os.getxattr(p, n).decode()
            elif n == "user.ferry.tags":
                raw = os.getxattr(p, n).split(b"\0")
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


class Generator:
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

    def folder_name(self):
        depth = self.rng.choice([0, 0, 1, 1, 1, 2, 3])
        return "".join(self.rng.choice(FOLDERS) + "/" for _ in range(depth))

    def leaf_name(self):
        return "%s%d%s" % (self.rng.choice(STEMS), self.rng.randrange(1000), self.rng.choice(EXTS))

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

    def data(self, size):
        return self.rng.randbytes(size)

    def meta(self):
        return {n: self.rng.choice(META_VALUES)
                for n in self.rng.sample(META_NAMES, self.rng.randrange(0, 3))}

    def tags(self):
        return {k: self.rng.choice(TAG_VALUES)
                for k in self.rng.sample(TAG_KEYS, self.rng.randrange(0, 3))}

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


class Runner:
    def __init__(self, args, config, src, dst, rng):
        self.args, self.config, self.src, self.dst, self.rng = args, config, src, dst, rng
        self.state = os.path.join(args.workdir, "state.db")
        self.kills = 0
        self.kill_misses = 0  # runs that ended before their kill
        self.last_kill = 0.0
        self.runs = 0
        self.typical = 0.5  # seconds a run takes (a moving average), to time the kills
        self.env = dict(os.environ, HOME=args.workdir,
                        FERRY_STATE_DIR=os.path.join(args.workdir, "statedir"))

    def command(self, extra=()):
        return [self.args.ferry, "--config", self.config, "sync", self.src.location(),
                self.dst.location(), "--delete", "--state", self.state, "--json",
                "--no-progress"] + MP_OPTIONS + list(extra)

    def start(self, extra=()):
        self.runs += 1
        out = open(os.path.join(self.args.workdir, "out.json"), "wb")
        err = open(os.path.join(self.args.workdir, "err.txt"), "wb")
        p = subprocess.Popen(self.command(extra), stdout=out, stderr=err, env=self.env)
        out.close()
        err.close()
        self.proc = p
        return p

    def stop(self):
        """Kills a ferry still running (the test was interrupted)."""
        p = getattr(self, "proc", None)
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()

    def finish(self, p, what):
        try:
            rc = p.wait(timeout=self.args.timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Failed("%s: ferry did not finish within %d s: %s" % (
                what, self.args.timeout, self.stderr()))
        summary = self.summary()
        if rc != 0:
            why = [self.stderr()]
            if summary:
                if summary.get("error"):
                    why.append("error: %s" % summary["error"])
                for f in summary.get("failures", [])[:10]:
                    why.append("failed: %s %r: %s" % (f.get("action"), f.get("key"),
                                                     f.get("error")))
            raise Failed("%s: ferry exited %d:\n  %s" % (what, rc, "\n  ".join(why)))
        if summary is None:
            raise Failed("%s: ferry printed no JSON summary: %s" % (what, self.stderr()))
        return summary

    def summary(self):
        try:
            with open(os.path.join(self.args.workdir, "out.json"), "rb") as f:
                return json.loads(f.read().decode("utf-8", "replace"))
        except ValueError:
            return None

    def stderr(self):
        with open(os.path.join(self.args.workdir, "err.txt"), "rb") as f:
            text = f.read().decode("utf-8", "replace").strip()
        return text[-3000:] if text else "(no stderr)"

    def sync(self, kill, what, extra=()):
        """One sync; with kill, SIGKILLed after random delays (up to 3 times) and run again.
        Returns (summary, kills)."""
        kills = 0
        while kill and kills < 3:
            t = time.time()
            p = self.start(extra)
            # Anywhere in a run: starting, listing, copying, deleting.
            time.sleep(self.rng.uniform(0.05, 1.0) * self.typical)
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
                self.last_kill = time.time()
                kills += 1
            else:
                # It finished before the kill: that run must have succeeded.
                self.kill_misses += 1
                summary = self.finish(p, what)
                self.learn(time.time() - t)
                self.kills += kills
                return summary, kills
            kill = self.rng.random() < 0.3
        t = time.time()
        summary = self.finish(self.start(extra), what + (" (rerun after %d kill(s))" % kills
                                                        if kills else ""))
        if not kills:
            self.learn(time.time() - t)
        self.kills += kills
        return summary, kills

    def learn(self, seconds):
        self.typical = 0.8 * self.typical + 0.2 * seconds


# ---------------------------------------------------------------------------------------------
# The comparison


def is_temp(key):
    """A local backend's temporary file (src/storage/key.h, kLocalTempPrefix)."""
    return key.rpartition("/")[2].startswith(".ferry-tmp-")


def sha(data):
    return hashlib.sha256(data).hexdigest()


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
# Fault proxies


class Proxies:
    def __init__(self, path, args, remotes, names):
        self.procs, self.stats, self.map = [], [], {}
        for name in names:
            upstream = urllib.parse.urlsplit(remotes[name]["endpoint"]).netloc
            stats = os.path.join(args.workdir, "proxy-%s.json" % name)
            out = open(os.path.join(args.workdir, "proxy-%s.out" % name), "wb")
            err = open(os.path.join(args.workdir, "proxy-%s.err" % name), "wb")
            p = subprocess.Popen([sys.executable, path, "--upstream", upstream, "--seed",
                                  str(args.seed), "--rate", str(args.fault_rate), "--kinds",
                                  args.fault_kinds, "--stats", stats], stdout=out, stderr=err)
            out.close()
            err.close()
            self.procs.append(p)
            self.stats.append(stats)
            port = None
            for _ in range(100):
                with open(os.path.join(args.workdir, "proxy-%s.out" % name)) as f:
                    line = f.readline()
                if line.endswith("\n"):
                    port = int(line)
                    break
                if p.poll() is not None:
                    break
                time.sleep(0.1)
            if port is None:
                self.stop()
                with open(os.path.join(args.workdir, "proxy-%s.err" % name)) as f:
                    raise SystemExit("convergence: fault proxy for %s did not start: %s" % (
                        name, f.read()))
            self.map[name] = port

    def faults(self):
        n, kinds = 0, {}
        for s in self.stats:
            try:
                with open(s) as f:
                    d = json.load(f)
            except (OSError, ValueError):
                continue
            n += d.get("faults", 0)
            for k, v in d.get("by_kind", {}).items():
                kinds[k] = kinds.get(k, 0) + v
        return n, kinds

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


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
        r = remotes.get(name)
        if r is None:
            raise SystemExit("convergence: no remote %r in %s" % (name, args.config))
        key = os.environ.get(r.get("access_key_id_env", ""), "")
        secret = os.environ.get(r.get("secret_access_key_env", ""), "")
        if not key or not secret:
            raise SystemExit("convergence: remote %r: keys not in the environment" % name)
        return S3(r["endpoint"], r.get("region", ""), key, secret)

    os.makedirs(args.workdir, exist_ok=True)
    config = args.config
    names = ([args.src_remote] if src_s3 else []) + ([args.dst_remote] if dst_s3 else [])
    proxies = None
    via = {n: n for n in names}
    if args.fault_proxy:
        proxies = Proxies(args.fault_proxy, args, remotes, sorted(set(names)))
        config = os.path.join(args.workdir, "ferry.toml")
        shutil.copyfile(args.config, config)
        with open(config, "a", encoding="utf-8") as f:
            for n, port in proxies.map.items():
                r = remotes[n]
                f.write('\n[remotes.f%s]\nendpoint = "http://127.0.0.1:%d"\nregion = "%s"\n'
                        'access_key_id_env = "%s"\nsecret_access_key_env = "%s"\n' % (
                            n, port, r.get("region", ""), r["access_key_id_env"],
                            r["secret_access_key_env"]))
                via[n] = "f" + n
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
