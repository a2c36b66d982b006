#!/usr/bin/env python3
"""convergence_lib: what the randomized convergence tests share (tests/tools/convergence.py for
`ferry sync`, tests/tools/convergence_replicate.py for `ferry replicate`, convergence_backup.py
for backups, convergence_transport.py for compressed transport to two regions).

- the hostile name parts and the random names, sizes, metadata and tags built from them
  (RandomNames, a base of each test's generator);
- the remotes of a ferry TOML config and a minimal SigV4 S3 client over http.client that talks
  to the gateways directly (also versioned requests: version listings, reads, deletes and tags
  of one version, multipart uploads, bucket versioning, a purge of every version);
- the fault proxies (tests/tools/fault_proxy.py) in front of the gateways, and the copy of the
  config that names them ("f<remote>");
- KillRunner: one ferry run, SIGKILLed after random short delays and run again until a run
  exits, which must exit 0 (a test's subclass gives the command line).

Also a small command line for the CLI scripts:
  convergence_lib.py versioning --config FILE REMOTE:BUCKET...   versioning Enabled on each
  convergence_lib.py purge --config FILE REMOTE:BUCKET...        every version deleted, then
                                                                 the bucket (errors printed)

Python 3 standard library only.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

MIB = 1 << 20

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
# A local folder ferry wrote


def ferry_entries(p):
    """{entry: bytes} of ferry's details of the file at p (src/storage/local/local_xattr.h): the
    one attribute user.ferry ("1" NUL, then name NUL length NUL value per entry), or, in files an
    older ferry wrote, one user.ferry.<entry> attribute per entry."""
    try:
        names = os.listxattr(p)
    except OSError:
        return {}
    if "user.ferry" not in names:
        return {n[len("user.ferry."):]: os.getxattr(p, n) for n in names
                if n.startswith("user.ferry.")}
    raw, out = os.getxattr(p, "user.ferry"), {}
    if not raw.startswith(b"1\0"):
        return out
    i = 2
    while i < len(raw):
        name_end = raw.index(b"\0", i)
        len_end = raw.index(b"\0", name_end + 1)
        n = int(raw[name_end + 1:len_end])
        out[raw[i:name_end].decode()] = raw[len_end + 1:len_end + 1 + n]
        i = len_end + 1 + n
    return out


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
        """PutObject; returns the new version id ("" from an unversioned bucket)."""
        _, h, _ = self.request("PUT", bucket, key, body=data,
                               headers=object_headers(meta, ctype, tags))
        return h.get("x-amz-version-id", "")

    def put_multipart(self, bucket, key, data, meta=None, ctype="application/octet-stream",
                      tags=None, part=5 * MIB):
        """A multipart upload of `part`-byte parts; returns the new version id. The tags are
        put on the new version after the upload completes (RGW ignores them at creation)."""
        _, _, body = self.request("POST", bucket, key, query={"uploads": ""},
                                  headers=object_headers(meta, ctype, tags))
        upload = _text(ET.fromstring(body), "UploadId")
        parts = []
        for n, off in enumerate(range(0, len(data), part), start=1):
            _, h, _ = self.request("PUT", bucket, key, body=data[off:off + part],
                                   query={"partNumber": str(n), "uploadId": upload})
            parts.append("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (
                n, xml_escape(h["etag"])))
        done = ("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(parts)).encode()
        _, h, body = self.request("POST", bucket, key, query={"uploadId": upload}, body=done,
                                  headers={"content-type": "application/xml"})
        if b"<Error>" in body:  # a 200 whose body is an error (S3 may answer so)
            raise RuntimeError("S3 complete %s/%s: %s" % (bucket, key, body[:300]))
        version = h.get("x-amz-version-id", "")
        if tags:
            self.put_tags(bucket, key, tags, version)
        return version

    def copy_replace(self, bucket, key, meta, ctype):
        """CopyObject onto itself with new metadata (bytes, and tags, kept); returns the new
        version id."""
        h = {"x-amz-copy-source": "/" + bucket + "/" + uri_encode(key, True),
             "x-amz-metadata-directive": "REPLACE", "content-type": ctype}
        for k, v in meta.items():
            h["x-amz-meta-" + k] = v
        _, rh, _ = self.request("PUT", bucket, key, headers=h)
        return rh.get("x-amz-version-id", "")

    def get(self, bucket, key, version=None):
        """(bytes, user metadata dict, content type)."""
        _, h, data = self.request("GET", bucket, key, query=_vq(version))
        return data, user_meta(h), h.get("content-type", "")

    def head(self, bucket, key, version=None):
        _, h, _ = self.request("HEAD", bucket, key, query=_vq(version))
        return user_meta(h), h.get("content-type", "")

    def delete(self, bucket, key, version=None):
        """DeleteObject (of one version with `version`); returns the reply's headers: a delete
        of a versioned bucket's key names the delete marker it made in x-amz-version-id."""
        _, h, _ = self.request("DELETE", bucket, key, query=_vq(version), ok=(200, 204))
        return h

    def get_tags(self, bucket, key, version=None):
        q = {"tagging": ""}
        q.update(_vq(version))
        _, _, data = self.request("GET", bucket, key, query=q)
        tags = {}
        if not data.strip():  # RGW answers an object without tags with an empty body
            return tags
        root = ET.fromstring(data)
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

    def put_tags(self, bucket, key, tags, version=None):
        q = {"tagging": ""}
        q.update(_vq(version))
        if not tags:
            self.request("DELETE", bucket, key, query=q, ok=(200, 204))
            return
        parts = ["<Tagging><TagSet>"]
        for k, v in sorted(tags.items()):
            parts.append("<Tag><Key>%s</Key><Value>%s</Value></Tag>" % (xml_escape(k),
                                                                        xml_escape(v)))
        parts.append("</TagSet></Tagging>")
        body = "".join(parts).encode()
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        self.request("PUT", bucket, key, query=q, body=body,
                     headers={"content-md5": md5, "content-type": "application/xml"})

    def list_versions(self, bucket, prefix=""):
        """Every version and delete marker under prefix, in the listing's order (keys
        ascending, a key's entries newest first): dicts with key, version, marker (bool),
        latest (bool), size, etag and mtime (the LastModified text)."""
        out, km, vm = [], None, None
        while True:
            q = {"versions": "", "prefix": prefix, "max-keys": "1000"}
            if km is not None:
                q["key-marker"] = km
                q["version-id-marker"] = vm
            _, _, data = self.request("GET", bucket, query=q)
            root = ET.fromstring(data)
            ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            for el in root:
                tag = el.tag[len(ns):]
                if tag not in ("Version", "DeleteMarker"):
                    continue
                size = el.find(ns + "Size")
                etag = el.find(ns + "ETag")
                out.append({"key": el.find(ns + "Key").text or "",
                            "version": el.find(ns + "VersionId").text or "",
                            "marker": tag == "DeleteMarker",
                            "latest": (el.find(ns + "IsLatest").text or "") == "true",
                            "size": int(size.text) if size is not None else 0,
                            "etag": etag.text if etag is not None else "",
                            "mtime": el.find(ns + "LastModified").text or ""})
            if _text(root, "IsTruncated") != "true":
                return out
            km = _text(root, "NextKeyMarker")
            vm = _text(root, "NextVersionIdMarker")

    def set_versioning(self, bucket, status="Enabled"):
        body = ('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                "<Status>%s</Status></VersioningConfiguration>" % status).encode()
        self.request("PUT", bucket, query={"versioning": ""}, body=body,
                     headers={"content-type": "application/xml"})

    def purge(self, bucket):
        """Deletes every version, delete marker and unfinished upload, then the bucket."""
        for v in self.list_versions(bucket):
            self.delete(bucket, v["key"], v["version"])
        _, _, data = self.request("GET", bucket, query={"uploads": ""})
        root = ET.fromstring(data)
        for up in root.iter():
            if up.tag.endswith("Upload"):
                key = up_id = None
                for c in up:
                    if c.tag.endswith("Key"):
                        key = c.text or ""
                    elif c.tag.endswith("UploadId"):
                        up_id = c.text
                if key is not None and up_id:
                    self.request("DELETE", bucket, key, query={"uploadId": up_id},
                                 ok=(200, 204, 404))
        self.request("DELETE", bucket, ok=(200, 204))

    def count_uploads(self, bucket):
        _, _, data = self.request("GET", bucket, query={"uploads": ""})
        return sum(1 for el in ET.fromstring(data).iter() if el.tag.endswith("Upload"))


def _vq(version):
    return {"versionId": version} if version else {}


def _text(root, name):
    """The text of root's first descendant element called `name` (any namespace), or None."""
    for el in root.iter():
        if el.tag == name or el.tag.endswith("}" + name):
            return el.text or ""
    return None


def object_headers(meta, ctype, tags):
    h = {"content-type": ctype}
    for k, v in (meta or {}).items():
        h["x-amz-meta-" + k] = v
    if tags:
        h["x-amz-tagging"] = urllib.parse.urlencode(tags, quote_via=urllib.parse.quote)
    return h


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user_meta(h):
    return {k[len("x-amz-meta-"):]: v for k, v in h.items() if k.startswith("x-amz-meta-")}


def without_ferry(meta):
    return {k: v for k, v in meta.items() if not k.startswith("ferry-")}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def client_for(remotes, name, config="the config"):
    """An S3 client of remote `name` of a load_remotes() result (keys from the environment
    variables the remote names)."""
    r = remotes.get(name)
    if r is None:
        raise SystemExit("convergence: no remote %r in %s" % (name, config))
    key = os.environ.get(r.get("access_key_id_env", ""), "")
    secret = os.environ.get(r.get("secret_access_key_env", ""), "")
    if not key or not secret:
        raise SystemExit("convergence: remote %r: keys not in the environment" % name)
    return S3(r["endpoint"], r.get("region", ""), key, secret)



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

    def write_config(self, base, path, remotes):
        """Writes a copy of config `base` to `path` with a remote "f<name>" per proxy (the
        proxy's port, the remote's region and key variables); returns {name: "f<name>"}."""
        shutil.copyfile(base, path)
        via = {}
        with open(path, "a", encoding="utf-8") as f:
            for n, port in self.map.items():
                r = remotes[n]
                f.write('\n[remotes.f%s]\nendpoint = "http://127.0.0.1:%d"\nregion = "%s"\n'
                        'access_key_id_env = "%s"\nsecret_access_key_env = "%s"\n' % (
                            n, port, r.get("region", ""), r["access_key_id_env"],
                            r["secret_access_key_env"]))
                via[n] = "f" + n
        return via

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
# Random names, sizes, metadata and tags


class RandomNames:
    """Draws from self.rng (a random.Random of the test's seed)."""

    def folder_name(self):
        depth = self.rng.choice([0, 0, 1, 1, 1, 2, 3])
        return "".join(self.rng.choice(FOLDERS) + "/" for _ in range(depth))

    def leaf_name(self):
        return "%s%d%s" % (self.rng.choice(STEMS), self.rng.randrange(1000), self.rng.choice(EXTS))

    def data(self, size):
        return self.rng.randbytes(size)

    def meta(self):
        return {n: self.rng.choice(META_VALUES)
                for n in self.rng.sample(META_NAMES, self.rng.randrange(0, 3))}

    def tags(self):
        return {k: self.rng.choice(TAG_VALUES)
                for k in self.rng.sample(TAG_KEYS, self.rng.randrange(0, 3))}


# ---------------------------------------------------------------------------------------------
# Running ferry, killed at random


class KillRunner:
    """Runs ferry (the command line of command(extra), given by a subclass) with its JSON
    summary on stdout in <workdir>/out.json and its stderr in <workdir>/err.txt.

    run(kill, what): with kill, the run is SIGKILLed after a random delay (up to its typical
    time, a moving average) and started again, killed again with probability 0.3, at most 3
    times; the run that exits must exit 0 with a JSON summary, else Failed is raised with
    ferry's stderr and failure_lines(summary)."""

    def __init__(self, args, rng):
        self.args, self.rng = args, rng
        self.kills = 0
        self.kill_misses = 0  # runs that ended before their kill
        self.last_kill = 0.0
        self.runs = 0
        self.typical = 0.5  # seconds a run takes (a moving average), to time the kills
        self.proc = None
        self.env = dict(os.environ, HOME=args.workdir,
                        FERRY_STATE_DIR=os.path.join(args.workdir, "statedir"))

    def command(self, extra=()):
        raise NotImplementedError

    def failure_lines(self, summary):
        """Lines that say why a run with this JSON summary failed."""
        return []

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
        p = self.proc
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
                why += self.failure_lines(summary)
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

    def run(self, kill, what, extra=()):
        """One run; with kill, SIGKILLed after random delays (up to 3 times) and run again.
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


def main(argv):
    """versioning|purge --config FILE REMOTE:BUCKET..."""
    if len(argv) < 4 or argv[0] not in ("versioning", "purge") or argv[1] != "--config":
        raise SystemExit("usage: convergence_lib.py versioning|purge --config FILE "
                         "REMOTE:BUCKET...")
    remotes = load_remotes(argv[2])
    rc = 0
    for loc in argv[3:]:
        remote, _, bucket = loc.partition(":")
        c = client_for(remotes, remote, argv[2])
        try:
            if argv[0] == "versioning":
                c.set_versioning(bucket)
            else:
                c.purge(bucket)
        except (OSError, RuntimeError) as e:
            print("convergence_lib %s %s: %s" % (argv[0], loc, e), file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
