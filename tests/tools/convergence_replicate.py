#!/usr/bin/env python3
"""convergence_replicate: the randomized convergence test of `ferry replicate` (S3 versioned
replication of one bucket to a bucket of another gateway).

Usage:
  convergence_replicate.py --seed N --rounds R --ferry PATH --config FILE --workdir DIR
                 --src-remote ra --src-bucket B --dst-remote rb --dst-bucket B2
                 [--kill-rate 0.3] [--changes 6] [--initial 20] [--big-rate 0.03]
                 [--kinds new,overwrite,delete,undelete,undelete-safe,tags,meta,purge]
                 [--replica-modifications on|off] [--check-every 0]
                 [--fault-proxy PATH --fault-rate 0.2 --fault-kinds 503,reset,...]

Both buckets must be versioned (tests/cli/convergence_replicate_test.sh enables it:
`convergence_lib.py versioning`). A seeded generator puts --initial objects, then runs R
rounds. Each round applies 1..--changes random changes to the source, then runs

  ferry replicate SRC-REMOTE:SRC-BUCKET --config <workdir>/ferry.toml \\
      --replication-config <workdir>/replication.json --state <workdir>/state.db --json

In --kill-rate of the rounds ferry is SIGKILLed after a random short delay and run again
(sometimes killed again), until a run exits; that run must exit 0 (ferry exits 1 when a version
of the pass is FAILED: the test then fails and prints `ferry replicate status`, which lists the
failures). After the rounds, one more clean run, which must replicate nothing (the round runs
left nothing to do), then the comparison below. A failure prints the seed, the round (or
"final") and the differing keys, and exits 1; `--seed N --rounds R` replays it (the changes are
a function of the seed; kill timing and ferry's own concurrency are not). `--check-every K`
also compares after every K-th round (to find the first round that diverges). Output: one line
per round, then "convergence-replicate seed=N: rounds=R kills=K ... versions=V ... ok".

The replication configuration (JSON in the `aws s3api get-bucket-replication` shape): one rule,
Status Enabled, Filter {} or {"Prefix": ""} (drawn from the seed), DeleteMarkerReplication
Enabled, ExistingObjectReplication Enabled (the initial objects predate the first pass; S3's
JSON default is off), SourceSelectionCriteria.ReplicaModifications Enabled unless
--replica-modifications off, Destination Bucket "arn:aws:s3:::<dst-bucket>". The ARN is mapped
to the destination location by `[replication.buckets]` in a copy of --config written to the
workdir (README.md, "Replication: ferry replicate"), which also sets `[transfer]
multipart_threshold` and `part_size` to 5 MiB so that the large versions are written in parts.

Change kinds (--kinds; all by default):
  new        a new key: PutObject with random user metadata, Content-Type and tags (hostile
             names and values, convergence_lib.py); with --big-rate 6..12 MiB by a multipart
             upload of 5 MiB parts (tags put on the version after it completes: RGW ignores
             them at creation), at most 4 such versions; one initial object is one
  overwrite  a new version of an existing key (new bytes, metadata, Content-Type, tags; also of
             a key whose current entry is a delete marker: it comes back)
  delete     DeleteObject without a version: a delete marker (also, now and then, on a key
             whose current entry already is a marker: AWS adds a second marker, RGW none)
  undelete   the newest delete marker of a key deleted by its version id (mostly of a key whose
             current entry is that marker: the version below it is current again)
  undelete-safe  the same, but never of a marker that ferry may have recorded without a marker
             of its own at the destination (BUG_UNDELETE below): on a destination that adds no
             marker over a marker, one replicated right after another marker or in a round
             with kills
  tags       PutObjectTagging (or DeleteObjectTagging) of a key's current version, named by its
             version id (RGW ignores a DeleteObjectTagging without one on a versioned bucket)
  meta       CopyObject of the current version onto itself, MetadataDirective REPLACE: a new
             version with the same bytes and new metadata and Content-Type (RGW drops the tags
             on such a copy; the generator reads back what the new version has)
  purge      a permanent delete of one object version by its version id

What is compared, and why (docs/design/replication.md, "The pass", point 4, and "Replica
modifications"). The generator keeps a ledger of every source entry (version or delete marker)
it made, in the order made, and notes the round whose run first saw each one: an entry that
exists when a round's run succeeds has been replicated by it (every pass covers every listed
version, and each round's last run exits 0); an entry made and removed inside one round, before
the run, never reached the destination.
  1. The source itself must match the ledger (the entries still there, in order; for each
     version its sha256, user metadata, Content-Type and tags). A mismatch is the test's own
     error (exit 2), not ferry's.
  2. For every key, the destination's entries, oldest first (ListObjectVersions), must be
     exactly the ledger's entries that a run saw, in order, *including* those the source has
     since removed: ferry (as S3) never replicates a permanent delete of a version (purge), and
     an undelete (removing a marker) is not replicated to a versioned destination, so the
     replicated marker stays there (the destination's current entry is then a delete marker
     while the source's is a version). For a version: sha256 of the bytes, user metadata
     without ferry's own `ferry-*` keys (the replica marks, ferry-crc32c, ferry-mtime),
     Content-Type, and `ferry-replica-version` naming the source version it is a replica of
     (so no version is written twice or out of order). A delete marker: a marker.
  3. Tags of a destination version: with ReplicaModifications Enabled, the source version's
     tags as of the last round whose run saw it as its key's current entry (ferry reads the
     tags of each key's current version, a version and not a marker, and copies them to its
     replica when they changed: modifications.cc), or else as of the round that first
     replicated it (a replica is written with the tags its version has then). With
     --replica-modifications off: the tags the version had when first replicated.
  4. Delete markers in a row. Before any run the destination is probed: does a DeleteObject
     of a key whose current entry is a marker add another marker? AWS: yes; RGW: no (and
     ferry then records the marker COMPLETED without a destination version). Where it does, a
     run of consecutive markers in the expected history must be as many markers at the
     destination, or more when one of them was first replicated in a round with kills: a run
     killed after a marker was added but before its status row was COMPLETED adds it again on
     the rerun ("A PENDING delete marker is written again (it carries nothing to recognise it
     by)", docs "Crashes"); those are counted ("extra markers tolerated"). Where it does not,
     such a run is exactly one marker at the destination.

Ferry bugs this test found, all mended, each with a regression test of its own (the CLI test's
defaults draw every kind and fault again):

BUG_UNDELETE (kind `undelete`, e.g. --seed 2404 --rounds 10 --check-every 1 on RGW): RGW's
reply to a DELETE over a current marker names no marker; ferry took that for a bucket without
versions, recorded a plain DELETE, and once the source removed the marker (an undelete) wrote
the old version again after the marker. Mended: S3Backend::AddDeleteMarker returns the marker
current there (S3VersionsTest.AMarkerOverAMarkerIsTheCurrentOne).

BUG_RETRY_TWICE (fault kind `truncate`, e.g. --seed 12 --rounds 40 --fault-rate 0.1
--fault-kinds 503,reset,truncate,slow --check-every 1: round 2): a replica PUT stored but whose
reply was cut was sent again: the versioned destination held the version twice. Mended: the S3
client looks for the object with HEAD before a retry
(ClientTest.APutWhoseReplyWasLostIsFoundDoneNotSentAgain).

BUG_FLIP_EXIT (fault kind `flip`, e.g. --seed 11 --rounds 40 --fault-rate 0.05 with all fault
kinds: round 1): one corrupted read failed the version at once and the run exited 1. Mended:
read again, up to three attempts (PassTest.ACorruptedReadIsReadAgainNotFailed).

FLIP_MULTIPART (fault kind `flip`, e.g. --seed 11 --rounds 40 --fault-rate 0.05
--fault-kinds 503,reset,flip,slow: final): a flipped byte in a part of a multipart source
version without ferry-crc32c was written to the destination, exit 0. Mended: such versions are
proven against their multipart ETag (PassTest.AMultipartVersionIsProvenByItsEtag).

S3 access (the changes and the comparison) goes to the gateways directly, never through the
fault proxy (convergence_lib.S3). With --fault-proxy, ferry replicates between the proxied
remotes "f<src-remote>" and "f<dst-remote>" (convergence_lib.Proxies), and the faults injected
are printed at the end.

Python 3 standard library only.
"""

import argparse
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time

from convergence_lib import (CONTENT_TYPES, MIB, Failed, KillRunner, Proxies, RandomNames,
                             client_for, load_remotes, sha, without_ferry)

ALL_KINDS = ("new", "overwrite", "delete", "undelete", "undelete-safe", "tags", "meta", "purge")
# How often each kind is drawn, relative to the others.
WEIGHTS = {"new": 6, "overwrite": 6, "delete": 4, "undelete": 2, "undelete-safe": 2, "tags": 3,
           "meta": 3, "purge": 1}
MAX_BIG = 4  # large versions made in a whole run, to keep the time low


class HarnessError(Exception):
    """The source does not match the generator's ledger: the test's own error."""


class Entry:
    """One source entry: a version or a delete marker, as the generator made it."""

    def __init__(self, vid, marker, data=b"", meta=None, ctype="", tags=None):
        self.vid, self.marker = vid, marker
        self.size = len(data)
        self.sha = sha(data) if not marker else ""
        self.meta = dict(meta or {})
        self.ctype = ctype
        self.tags = dict(tags or {})
        self.gone = False       # removed from the source (undelete, purge)
        self.seen = None        # the round whose run first saw it
        self.seen_kills = 0     # kills in that round
        self.exp_tags = None    # the tags its replica must have

    def describe(self):
        if self.marker:
            return "marker %s" % self.vid
        return "version %s (%d bytes %s)" % (self.vid, self.size, self.sha[:12])


class Generator(RandomNames):
    def __init__(self, rng, c, bucket, kinds, big_rate):
        self.rng, self.c, self.bucket, self.big_rate = rng, c, bucket, big_rate
        self.kinds = [k for k in kinds for _ in range(WEIGHTS[k])]
        self.stacks = True  # whether the destination adds a marker over a marker (probe())
        self.ledger = {}  # key -> [Entry], oldest first
        self.bigs = 0
        self.current = "setup"

    # -- the ledger

    def live(self, key):
        return [e for e in self.ledger.get(key, ()) if not e.gone]

    def head_entry(self, key):
        live = self.live(key)
        return live[-1] if live else None

    def keys_where(self, pred):
        return sorted(k for k in self.ledger if pred(self.head_entry(k)))

    def mark_seen(self, rnd, kills, sync_tags):
        """After round `rnd`'s run succeeded: every entry there now has been replicated."""
        for key in self.ledger:
            for e in self.live(key):
                if e.seen is None:
                    e.seen, e.seen_kills, e.exp_tags = rnd, kills, dict(e.tags)
            cur = self.head_entry(key)
            if sync_tags and cur is not None and not cur.marker:
                cur.exp_tags = dict(cur.tags)

    # -- sizes and writes

    def size(self, force_big=False):
        if force_big or (self.rng.random() < self.big_rate and self.bigs < MAX_BIG):
            return self.rng.randrange(6 * MIB, 12 * MIB)
        r = self.rng.random()
        if r < 0.08:
            return 0
        if r < 0.70:
            return self.rng.randrange(1, 4096)
        return self.rng.randrange(4096, 65536)

    def write(self, key, force_big=False):
        data = self.data(self.size(force_big))
        meta, ctype, tags = self.meta(), self.rng.choice(CONTENT_TYPES), self.tags()
        if len(data) > 5 * MIB:
            self.bigs += 1
            vid = self.c.put_multipart(self.bucket, key, data, meta, ctype, tags)
        else:
            vid = self.c.put(self.bucket, key, data, meta, ctype, tags)
        if not vid:
            raise HarnessError("PUT %r returned no version id: is %s versioned?" % (
                key, self.bucket))
        self.ledger.setdefault(key, []).append(Entry(vid, False, data, meta, ctype, tags))
        return "%r %d bytes%s" % (key, len(data), " (multipart)" if len(data) > 5 * MIB else "")

    def new_name(self):
        for _ in range(50):
            key = self.folder_name() + self.leaf_name()
            if key not in self.ledger and len(key.encode()) < 700:
                return key
        return None

    # -- the change kinds; each returns a short description or None when it could not apply

    def c_new(self, force_big=False):
        key = self.new_name()
        return None if key is None else "new " + self.write(key, force_big)

    def c_overwrite(self):
        live = self.keys_where(lambda e: e is not None and not e.marker)
        cands = live if live and self.rng.random() < 0.8 else sorted(self.ledger)
        if not cands:
            return None
        return "overwrite " + self.write(self.rng.choice(cands))

    def c_delete(self):
        cands = self.keys_where(lambda e: e is not None and not e.marker)
        if not cands or self.rng.random() < 0.1:
            cands = self.keys_where(lambda e: e is not None and e.marker) or cands
        if not cands:
            return None
        key = self.rng.choice(cands)
        was_marker = self.head_entry(key).marker
        h = self.c.delete(self.bucket, key)
        vid = h.get("x-amz-version-id", "")
        if h.get("x-amz-delete-marker") != "true" or not vid:
            if was_marker:  # RGW adds no second marker (AWS does)
                return "delete %r (already deleted: no marker made)" % key
            raise HarnessError("DELETE %r made no delete marker: %s" % (key, h))
        self.ledger[key].append(Entry(vid, True))
        return "delete %r (marker %s)" % (key, vid)

    def stacked(self, key, m):
        """Whether ferry may have recorded marker m of key without a marker version of its own
        at the destination: on a gateway that adds no marker over a marker (RGW), when m was
        replicated right after another marker, or in a round with kills (a PENDING marker is
        added again). See BUG_UNDELETE."""
        if self.stacks or m.seen is None:
            return False
        seen = [e for e in self.ledger[key] if e.seen is not None]
        i = seen.index(m)
        return bool(m.seen_kills) or (i > 0 and seen[i - 1].marker)

    def c_undelete(self, safe=False):
        def newest_marker(k):
            ms = [e for e in self.live(k) if e.marker]
            return ms[-1] if ms else None

        def ok(k):
            m = newest_marker(k)
            return m is not None and not (safe and self.stacked(k, m))
        cands = self.keys_where(lambda e: e is not None and e.marker)
        if not cands or self.rng.random() < 0.2:
            cands = sorted(k for k in self.ledger if newest_marker(k) is not None) or cands
        cands = [k for k in cands if ok(k)]
        if not cands:
            return None
        key = self.rng.choice(cands)
        m = newest_marker(key)
        self.c.delete(self.bucket, key, m.vid)
        m.gone = True
        cur = self.head_entry(key)
        return "undelete%s %r (marker %s removed; current: %s)" % (
            "-safe" if safe else "", key, m.vid, cur.describe() if cur else "nothing")

    def c_undelete_safe(self):
        return self.c_undelete(safe=True)

    def c_tags(self):
        cands = self.keys_where(lambda e: e is not None and not e.marker)
        if not cands:
            return None
        key = self.rng.choice(cands)
        tags = self.tags()
        # by the current version's id: RGW answers a DeleteObjectTagging without one 204 and
        # leaves the current version's tags as they were
        cur = self.head_entry(key)
        self.c.put_tags(self.bucket, key, tags, cur.vid)
        cur.tags = tags
        return "tags %r %s" % (key, tags)

    def c_meta(self):
        cands = self.keys_where(lambda e: e is not None and not e.marker)
        if not cands:
            return None
        key = self.rng.choice(cands)
        old = self.head_entry(key)
        meta, ctype = self.meta(), self.rng.choice(CONTENT_TYPES)
        vid = self.c.copy_replace(self.bucket, key, meta, ctype)
        if not vid:  # RGW names no version in a CopyObject reply: the key's newest one
            vid = next((v["version"] for v in self.c.list_versions(self.bucket, key)
                        if v["key"] == key and v["latest"]), "")
        if not vid or vid in (e.vid for e in self.ledger[key]):
            raise HarnessError("copy of %r: no new version found" % key)
        e = Entry(vid, False, b"", meta, ctype, self.c.get_tags(self.bucket, key, vid))
        e.size, e.sha = old.size, old.sha
        self.ledger[key].append(e)
        return "meta %r %s %s (tags after the copy: %s)" % (key, meta, ctype, e.tags)

    def c_purge(self):
        cands = sorted(k for k in self.ledger if any(not e.marker for e in self.live(k)))
        if not cands:
            return None
        key = self.rng.choice(cands)
        e = self.rng.choice([e for e in self.live(key) if not e.marker])
        self.c.delete(self.bucket, key, e.vid)
        e.gone = True
        return "purge %r %s" % (key, e.describe())

    def round(self, n):
        done = []
        for _ in range(n):
            what = getattr(self, "c_" + self.rng.choice(self.kinds).replace("-", "_"))()
            if what:
                done.append(what)
        return done


# ---------------------------------------------------------------------------------------------
# Running ferry


class Runner(KillRunner):
    def __init__(self, args, config, rules, src_loc, rng):
        super().__init__(args, rng)
        self.config, self.rules, self.src_loc = config, rules, src_loc
        self.state = os.path.join(args.workdir, "state.db")

    def command(self, extra=()):
        return [self.args.ferry, "--config", self.config, "replicate", self.src_loc,
                "--replication-config", self.rules, "--state", self.state, "--json"] + list(extra)

    def failure_lines(self, summary):
        why = ["summary: %s" % json.dumps({k: v for k, v in summary.items() if v})]
        p = subprocess.run([self.args.ferry, "--config", self.config, "replicate", "status",
                            "--state", self.state], capture_output=True, text=True,
                           env=self.env, timeout=120)
        why += ["status: " + line for line in (p.stdout + p.stderr).splitlines()[:40]]
        return why


# ---------------------------------------------------------------------------------------------
# The comparison


def by_key(listing):
    """{key: [entry dicts oldest first]} of a list_versions() result (newest first per key)."""
    out = {}
    for v in listing:
        out.setdefault(v["key"], []).append(v)
    for k in out:
        out[k].reverse()
    return out


def check_source(gen, c, bucket):
    """The source against the ledger (HarnessError on a difference); returns the count of
    entries checked."""
    actual = by_key(c.list_versions(bucket))
    bad = []
    for key in sorted(set(actual) | set(gen.ledger)):
        want = gen.live(key)
        have = actual.get(key, [])
        if [(e.vid, e.marker) for e in want] != [(v["version"], v["marker"]) for v in have]:
            bad.append("%r: ledger %s, source %s" % (
                key, [(e.vid, e.marker) for e in want],
                [(v["version"], v["marker"]) for v in have]))
            continue
        for e in want:
            if e.marker:
                continue
            data, meta, ctype = c.get(bucket, key, e.vid)
            got = (sha(data), without_ferry(meta), ctype, c.get_tags(bucket, key, e.vid))
            if got != (e.sha, e.meta, e.ctype, e.tags):
                bad.append("%r %s: ledger %s, source %s" % (
                    key, e.vid, (e.sha[:12], e.meta, e.ctype, e.tags),
                    (got[0][:12],) + got[1:]))
    if bad:
        raise HarnessError("the source differs from the generator's ledger:\n  " +
                           "\n  ".join(bad[:20]))
    return sum(len(v) for v in actual.values())


def describe_dest(c, bucket, key, v):
    """A destination entry for a failure message: a version names its replica marks."""
    if v["marker"]:
        return "marker " + v["version"]
    meta, _ = c.head(bucket, key, v["version"])
    return "version %s (%d bytes, replica of %s%s)" % (
        v["version"], v["size"], meta.get("ferry-replica-version", "-"),
        ", kept copy" if meta.get("ferry-replica-kept") else "")


def compare(gen, c, bucket):
    """The destination against the ledger: (difference lines, versions compared, markers
    compared, extra markers tolerated)."""
    actual = by_key(c.list_versions(bucket))
    diffs, versions, markers, extra = [], 0, 0, 0
    for key in sorted(set(actual) | set(gen.ledger)):
        want = [e for e in gen.ledger.get(key, ()) if e.seen is not None]
        have = actual.get(key, [])
        lines = []
        i = j = 0  # i: in have, j: in want
        while j < len(want) and not lines:
            e = want[j]
            if i >= len(have):
                lines.append("missing at the destination: %s and %d more" % (
                    e.describe(), len(want) - j - 1))
                break
            if e.marker:
                # a run of expected markers: as many at the destination, or more when one of
                # them was first replicated in a round with kills (point 4 of the header)
                run = [m for m in want[j:j + 1]]
                while j + len(run) < len(want) and want[j + len(run)].marker:
                    run.append(want[j + len(run)])
                n = 0
                while i + n < len(have) and have[i + n]["marker"]:
                    n += 1
                killed = any(m.seen_kills for m in run)
                if gen.stacks:
                    bad = n < len(run) or (n > len(run) and not killed)
                else:  # a marker over a marker adds none: one for the run (header, point 4)
                    bad = n != 1
                if bad:
                    lines.append("entries %d..: expected %s marker(s) (%s), found %d" % (
                        i, len(run) if gen.stacks else "1 (no stacked markers at the "
                        "destination) of %d" % len(run), ", ".join(m.describe() for m in run),
                        n))
                    break
                markers += n
                extra += max(0, n - len(run))
                i += n
                j += len(run)
                continue
            v = have[i]
            if v["marker"]:
                lines.append("entry %d: expected %s, found marker %s" % (
                    i, e.describe(), v["version"]))
                break
            data, meta, ctype = c.get(bucket, key, v["version"])
            tags = c.get_tags(bucket, key, v["version"])
            versions += 1
            got = {"replica of": meta.get("ferry-replica-version", "(none)"),
                   "sha256": sha(data)[:12], "metadata": without_ferry(meta),
                   "content type": ctype, "tags": tags}
            exp = {"replica of": e.vid, "sha256": e.sha[:12], "metadata": e.meta,
                   "content type": e.ctype, "tags": e.exp_tags}
            for what in got:
                if got[what] != exp[what]:
                    lines.append("entry %d (%s, first replicated in round %s): %s: expected "
                                 "%s, found %s" % (i, e.describe(), e.seen, what, exp[what],
                                                   got[what]))
            i += 1
            j += 1
        if i < len(have) and not lines:
            lines.append("extra at the destination: %s" % ", ".join(
                ("marker " if v["marker"] else "version ") + v["version"] for v in have[i:]))
        if lines:
            diffs.append("%r:\n      %s\n      source ledger: %s\n      destination: %s" % (
                key, "\n      ".join(lines),
                ", ".join(e.describe() + (" (gone)" if e.gone else "") +
                          ("" if e.seen is not None else " (never seen by a run)")
                          for e in gen.ledger.get(key, ())),
                ", ".join(describe_dest(c, bucket, key, v) for v in have)))
    return diffs, versions, markers, extra


# ---------------------------------------------------------------------------------------------


def probe_stacking(c, bucket):
    """Whether a DeleteObject of a key whose current entry is a delete marker adds another
    marker at `bucket` (AWS does, RGW does not). A probe key is written, deleted twice and
    removed with every version of it, before any run."""
    key = "convergence-probe/stacked-markers"
    c.put(bucket, key, b"")
    c.delete(bucket, key)
    c.delete(bucket, key)
    entries = [v for v in c.list_versions(bucket, key) if v["key"] == key]
    for v in entries:
        c.delete(bucket, key, v["version"])
    return sum(1 for v in entries if v["marker"]) > 1


def write_files(args, remotes, proxies):
    """The config copy and the replication JSON; returns (config, rules, source location)."""
    config = os.path.join(args.workdir, "ferry.toml")
    via = {args.src_remote: args.src_remote, args.dst_remote: args.dst_remote}
    if proxies:
        via.update(proxies.write_config(args.config, config, remotes))
    else:
        with open(args.config, encoding="utf-8") as f:
            base = f.read()
        with open(config, "w", encoding="utf-8") as f:
            f.write(base)
    with open(config, "a", encoding="utf-8") as f:
        f.write('\n[transfer]\nmultipart_threshold = "5MiB"\npart_size = "5MiB"\n'
                '\n[replication.buckets]\n"arn:aws:s3:::%s" = "%s:%s"\n' % (
                    args.dst_bucket, via[args.dst_remote], args.dst_bucket))
    rule = {"ID": "all", "Priority": 1, "Status": "Enabled",
            "Filter": {} if random.Random(args.seed).random() < 0.5 else {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "ExistingObjectReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": "arn:aws:s3:::" + args.dst_bucket}}
    if args.replica_modifications == "on":
        rule["SourceSelectionCriteria"] = {"ReplicaModifications": {"Status": "Enabled"}}
    rules = os.path.join(args.workdir, "replication.json")
    with open(rules, "w", encoding="utf-8") as f:
        json.dump({"ReplicationConfiguration": {"Role": "arn:aws:iam::1:role/ferry-test",
                                                "Rules": [rule]}}, f, indent=1)
    return config, rules, "%s:%s" % (via[args.src_remote], args.src_bucket)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--workdir", required=True, help="an empty folder of this test's own")
    ap.add_argument("--src-remote", default="ra")
    ap.add_argument("--src-bucket", required=True)
    ap.add_argument("--dst-remote", default="rb")
    ap.add_argument("--dst-bucket", required=True)
    ap.add_argument("--fault-proxy", default="", help="tests/tools/fault_proxy.py")
    ap.add_argument("--fault-rate", type=float, default=0.2)
    ap.add_argument("--fault-kinds", default="503,reset,truncate,flip,slow")
    ap.add_argument("--kinds", default=",".join(ALL_KINDS))
    ap.add_argument("--changes", type=int, default=6, help="at most this many changes a round")
    ap.add_argument("--initial", type=int, default=20, help="objects created before round 1")
    ap.add_argument("--kill-rate", type=float, default=0.3)
    ap.add_argument("--big-rate", type=float, default=0.03)
    ap.add_argument("--replica-modifications", choices=["on", "off"], default="on")
    ap.add_argument("--check-every", type=int, default=0,
                    help="also compare after every K-th round (0: only at the end)")
    ap.add_argument("--timeout", type=int, default=300, help="seconds one ferry run may take")
    ap.add_argument("--verbose", action="store_true", help="print every change")
    args = ap.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    for k in kinds:
        if k not in ALL_KINDS:
            raise SystemExit("convergence_replicate: unknown change kind %r" % k)
    if "new" not in kinds:
        kinds.append("new")  # the growth of the source

    remotes = load_remotes(args.config)
    src = client_for(remotes, args.src_remote, args.config)
    dst = client_for(remotes, args.dst_remote, args.config)
    os.makedirs(args.workdir, exist_ok=True)
    proxies = None
    if args.fault_proxy:
        proxies = Proxies(args.fault_proxy, args, remotes,
                          sorted({args.src_remote, args.dst_remote}))

    def log(msg):
        print(msg, flush=True)

    gen = Generator(random.Random(args.seed), src, args.src_bucket, kinds, args.big_rate)
    run_rng = random.Random(args.seed * 7919 + 1)  # kills: apart from the changes' draws
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runner = None
    try:
        config, rules, src_loc = write_files(args, remotes, proxies)
        runner = Runner(args, config, rules, src_loc, run_rng)
        return run(args, gen, runner, src, dst, proxies, run_rng, log)
    except Failed as e:
        log("FAIL convergence-replicate seed=%d %s: %s" % (args.seed, gen.current, e))
        log("replay (with empty buckets and workdir): %s" % shlex.join(sys.argv))
        return 1
    except HarnessError as e:
        log("ERROR convergence-replicate seed=%d %s: the test's own error: %s" % (
            args.seed, gen.current, e))
        return 2
    except Exception:
        log("ERROR convergence-replicate seed=%d %s: the test itself failed:" % (
            args.seed, gen.current))
        raise
    finally:
        if runner:
            runner.stop()
        if proxies:
            proxies.stop()


def check(args, gen, src, dst, log):
    """Source against the ledger, destination against the ledger; raises on a difference.
    Returns (versions, markers, extra markers)."""
    check_source(gen, src, args.src_bucket)
    diffs, versions, markers, extra = compare(gen, dst, args.dst_bucket)
    if diffs:
        raise Failed("the destination differs from the source's replicated history after %s "
                     "(%d key(s)):\n  %s" % (gen.current, len(diffs), "\n  ".join(diffs[:30])))
    return versions, markers, extra


def run(args, gen, runner, src, dst, proxies, run_rng, log):
    t0 = time.time()
    sync_tags = args.replica_modifications == "on"
    gen.stacks = probe_stacking(dst, args.dst_bucket)
    log("the destination %s" % ("adds a delete marker over a delete marker" if gen.stacks
                                 else "adds no delete marker over a delete marker"))
    for i in range(args.initial):
        gen.c_new(force_big=(i == 0 and args.big_rate > 0))
    for r in range(1, args.rounds + 1):
        gen.current = "round %d" % r
        t_round = time.time()
        changes = gen.round(gen.rng.randrange(1, args.changes + 1))
        kill = run_rng.random() < args.kill_rate
        t_run = time.time()
        summary, kills = runner.run(kill, gen.current)
        gen.mark_seen(r, kills, sync_tags)
        log("%s: %d change(s) in %.2f s, %d kill(s), ferry %.2f s: replicated %d, markers %d, "
            "tags synced %d, recovered %d%s" % (
                gen.current, len(changes), t_run - t_round, kills, time.time() - t_run,
                summary.get("replicated", 0), summary.get("delete_markers", 0),
                summary.get("tags_synced", 0), summary.get("recovered", 0),
                ", FAILED %d (exit 0)" % summary["failed"] if summary.get("failed") else ""))
        if args.verbose:
            for c in changes:
                log("    " + c)
        if args.check_every and r % args.check_every == 0:
            check(args, gen, src, dst, log)
    gen.current = "final"
    summary, _ = runner.run(False, "final")
    if summary.get("replicated") or summary.get("delete_markers"):
        raise Failed("the final clean run replicated again what the rounds' runs had "
                     "replicated: %s" % json.dumps({k: v for k, v in summary.items() if v}))
    versions, markers, extra = check(args, gen, src, dst, log)
    faults, by_kind = 0, {}
    if proxies:
        proxies.stop()
        faults, by_kind = proxies.faults()
    gone = sum(1 for es in gen.ledger.values() for e in es if e.gone and e.seen is not None)
    log("convergence-replicate seed=%d: rounds=%d kills=%d (missed %d) runs=%d faults=%d%s "
        "keys=%d versions=%d markers=%d (extra markers tolerated %d) removed-at-source=%d "
        "seconds=%.0f ok" % (
            args.seed, args.rounds, runner.kills, runner.kill_misses, runner.runs, faults,
            " " + json.dumps(by_kind, sort_keys=True) if by_kind else "", len(gen.ledger),
            versions, markers, extra, gone, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
