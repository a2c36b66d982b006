#!/usr/bin/env python3
r"""convergence_transport: the randomized convergence test of compressed transport to two
regions: `ferry sync --compress --pack-only --unpack-region A,B` on a shared PostgreSQL state
store, unpacked by `ferry worker --role unpack` of region A and of region B
(docs/design/transport.md, "A run" and "Several regions per archive").

Usage:
  convergence_transport.py --seed N --rounds R --ferry PATH --config FILE --workdir DIR
                 --state URL --src-bucket B --dst-bucket D --staging-bucket S
                 [--src-remote ra] [--a-remote ra] [--b-remote rb] [--staging-remote rb]
                 [--kill-rate 0.3] [--changes 6] [--initial 30] [--big-rate 0.03]
                 [--kinds new,same,resize,delete,meta,tags] [--deletes on|off]
                 [--archive-sizes 1MiB,1MiB,2MiB,64MiB] [--lease-ttl 3]
                 [--pg-restart CMD --pg-restarts 2] [--check-every K] [--timeout 300]
                 [--fault-proxy PATH --fault-rate 0.05 --fault-kinds 503,reset,truncate,flip,slow]
                 [--verbose]

The source is a bucket of gateway A (unversioned); the destination is one bucket name D that
exists on both gateways: region A's copy on gateway A, region B's on gateway B. Staging is a
prefix of a bucket of gateway B. The test writes three configs into the workdir, each the
--config plus the fault proxies' remotes "f<name>" (convergence_lib.Proxies) and a remote
`dst`: on (the proxy of) gateway B for the packer and region B's worker, on gateway A for region
A's worker (as tests/cli/transport_regions_test.sh does). Every ferry request goes through the
proxies; the test's own S3 requests (the changes, the comparison) go to the gateways directly.

Rounds. A seeded generator puts --initial objects, then runs R rounds; each round:
  1. 1..--changes random source changes (below).
  2. The packer:
       ferry --config packer.toml sync SRC dst:D --compress --staging STG/s --pack-only
             --unpack-region A,B --state URL --archive-size SIZE --max-attempts 10 --json
             [--delete]
     (SIZE drawn per round from --archive-sizes, so a round makes one archive or several). In
     --kill-rate of the rounds it is SIGKILLed after a random delay (up to its typical time)
     and run again with the same command line (sometimes killed again, at most 3 times): a
     rerun on the same --state resumes the unfinished run (its JSON names it). The run that
     exits must exit 0. Once the round's run is packed it waits for its unpack: the next
     round's sync, started after the run is done, is a new run (app/durable.h).
  3. The unpack workers of both regions at once:
       ferry --config region-R.toml worker --state URL --role unpack --region R --run N
             --until-done --lease-ttl T
     each, in --kill-rate of the rounds, SIGKILLed after a random delay and started again (a
     killed worker's leases end after T seconds: `ferry worker` does not release them at
     start as a sync rerun does). Both must exit 0: the run is done, with no dead job.
  4. In --pg-restarts rounds (drawn from the seed; none without --pg-restart) PostgreSQL is
     restarted in place (--pg-restart, the CLI test's $FERRY_TEST_PG_CTL_RESTART) while the
     packer or the workers run (no kills in that phase; early in their typical time); they
     must still exit 0. A restart after they had ended anyway is counted "missed"; a process
     that started while PostgreSQL was down exits at once ("cannot reach state store": the
     first connection gets one attempt, docs/design/jobs.md) and is started again, counted
     "refused at start".
After the rounds, a clean pack (no kills), which must pack nothing (every round's run left
both regions up to date), and the unpack of both regions, then the comparison.

Change kinds (--kinds; all by default):
  new     a new object: hostile names (convergence_lib.py), random user metadata, Content-Type
          and tags, sizes mostly 0..64 KiB (half random bytes, half compressible words); with
          --big-rate 6..12 MiB (at most 3 at a time), half of those uploaded as multipart
          uploads of 5 MiB parts (their ETag is no MD5: the planner compares them by HEAD)
  same    a same-size overwrite with new bytes (objects with an MD5 ETag only: two same-size
          writes of a multipart object in one second are indistinguishable by design,
          docs/design/planner.md rule 7a)
  resize  an overwrite with another size, new metadata, Content-Type and tags
  delete  an object deleted (only with --deletes on: the syncs then run with --delete)
  meta    user metadata and Content-Type replaced, bytes kept (a CopyObject onto itself with
          MetadataDirective REPLACE, or a PUT of the same bytes); MD5-ETag objects only
  tags    the tag set replaced or removed (PutObjectTagging / DeleteObjectTagging; RGW moves
          LastModified, so the planner looks at the details); MD5-ETag objects only

What is compared (after the final pass, and every --check-every K rounds after the round's
unpack): the source bucket against the generator's model (keys and sizes: the test's own
bookkeeping), then each destination (D on gateway A and D on gateway B) against the model:
exactly the source's keys, and for each key the same bytes (sha256), user metadata (ferry's
own `ferry-*` entries left out), Content-Type and tags. Then (final only):
  - the whole staging bucket holds nothing: no archive, no marker, no claim, no unfinished
    multipart upload (a killed pack's retry aborts its earlier upload: pack_kind.cc);
  - `ferry jobs list --state URL --json`: every run done, no dead job;
  - with psql on PATH, every progress row of transport_archives is `done`.
A failure prints the seed, the round (or "final") and the differing keys, and exits 1; `--seed
N --rounds R` replays the source changes, archive sizes, kill and restart decisions (their
timing, the faults' interleaving and ferry's own concurrency are not replayed).

Ferry bugs this test found, all mended, each with a regression test of its own (the CLI
test's defaults draw every change and fault kind again):

BUG_DELETE_ONE_REGION (--deletes on; seed 2411, the first round with a delete): a sync packed
  for regions A,B with --delete planned its deletes as delete jobs of no region, so whichever
  region's unpack worker claimed one deleted the keys from its own destination only; the other
  region kept them for good (the next scan compares the source with the packer's view of the
  destination, one region's). Now a run packed for several regions with unpack jobs plans one
  delete job per region (jobs/scan.cc;
  ScanRegionsTest.ASyncPackedForSeveralRegionsDeletesInEachRegion).

BUG_UNPACK_SAME_BYTES (kind `meta` with fault kind `flip`; seed 2411 --check-every 1: round
  2): a retried unpack (its first attempt failed on a corrupted archive read) took an object of
  the same size and CRC32C at the destination for one the failed attempt wrote, and skipped the
  entry: region B kept the key's old metadata and Content-Type (a metadata-only change keeps
  the bytes) while its run was done. Now an entry counts as written only when the destination
  also records its source mtime (ferry-mtime) (transport/unpack_pipeline.cc;
  UnpackTest.ARetryRewritesAnEarlierObjectOfTheSameBytesButNotItsOwnWrite).

BUG_PACK_UNDECIDED (a multipart source object; seed 2411: the final pass): a pack job packed
  every object of its batch as planned, also those the listing could not decide ("need
  details": a multipart ETag, no ferry CRC32C), which a plain copy decides again with both
  sides' details first: every run re-sent each multipart source object to both regions. Now the
  pack job looks first (transport/kinds/pack_kind.cc ObjectsToPack;
  PackKindTest.ObjectsTheListingCouldNotDecideArePackedOnlyWhenTheyDiffer). The final pass
  packing nothing checks it.

BUG_ORPHAN_UPLOAD (fault kind `truncate`; seed 2411 --rounds 30: final): a create of an
  archive's multipart upload whose reply was cut made a second upload when sent again; the
  archive completed through one, the other stayed open on staging for good. Now a pack whose
  archive went up in parts aborts every other upload still pending for its key (the job's
  own) once the archive is complete (transport/kinds/pack_kind.cc;
  tests/cli/transport_worker_test.sh, "a cut reply to an archive's create"). The same lost
  reply on a plain multipart copy to a destination is not mended: there other writers may
  hold uploads of the same key.

BUG_ROWS_LEFT_UNPACKED (kills of the unpack workers; seed 99 --rounds 30 --kill-rate 0.6
  --big-rate 0.1 --changes 10 --fault-rate 0.1: final, "progress rows not done: done 135,
  unpacked 1"): the last region's unpacker killed after it deleted the archive but before it
  recorded the delete for every region's row; its rerun found the archive gone and marked only
  its own row done, the other region's stayed `unpacked` for good. Now the rerun asks the rows
  again and records the delete for all when no region still needs the archive
  (transport/unpack.cc;
  StoreRegionsTest.ACrashBetweenTheDeleteAndItsRecordIsHealedByTheRerun).

Output: one line per round, then "convergence-transport seed=N: rounds=R kills=K ...
faults=F {by kind} pg_restarts=P objects=O compared=C ... ok".

Python 3 standard library only (it imports convergence_lib.py beside it).
"""

import argparse
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convergence_lib as conv  # noqa: E402

MIB = conv.MIB
MAX_BIG = 3  # big objects in the source at once, to keep the time low
REGIONS = ("A", "B")
Failed = conv.Failed
ALL_KINDS = ("new", "same", "resize", "delete", "meta", "tags")
WEIGHTS = {"new": 5, "same": 2, "resize": 2, "delete": 2, "meta": 2, "tags": 1}


# ---------------------------------------------------------------------------------------------
# The source: an S3 bucket and the generator's model of it


class Obj:
    __slots__ = ("size", "sha", "meta", "ctype", "tags", "multipart")

    def __init__(self, size, digest, meta, ctype, tags, multipart):
        self.size, self.sha, self.meta, self.ctype = size, digest, dict(meta), ctype
        self.tags, self.multipart = dict(tags), multipart


class Source(conv.RandomNames):
    """The source bucket (direct to its gateway) and {key: Obj}."""

    def __init__(self, s3, bucket, rng, big_rate, kinds):
        self.s3, self.bucket, self.rng, self.big_rate = s3, bucket, rng, big_rate
        self.kinds = [k for k in kinds for _ in range(WEIGHTS[k])]
        self.objs = {}
        self.deleted = 0

    def bigs(self):
        return sum(1 for o in self.objs.values() if o.size > 5 * MIB)

    def size(self, old=None):
        r = self.rng.random()
        if r < 0.08:
            s = 0
        elif r < 0.70:
            s = self.rng.randrange(1, 4096)
        else:
            s = self.rng.randrange(4096, 65536)
        return s if s != old else s + 1

    def data(self, size):
        if self.rng.random() < 0.5:
            return self.rng.randbytes(size)
        words = [b"alpha", b"beta", b"gamma", b"delta", b"2026-11-25", b"id", b"value"]
        out = bytearray()
        while len(out) < size:
            out += self.rng.choice(words) + (b"," if self.rng.random() < 0.8 else b"\n")
        return bytes(out[:size])

    def write(self, key, data, meta, ctype, tags, multipart=False):
        if multipart:
            self.s3.put_multipart(self.bucket, key, data, meta, ctype, tags)
        else:
            self.s3.put(self.bucket, key, data, meta, ctype, tags)
        self.objs[key] = Obj(len(data), conv.sha(data), meta, ctype, tags, multipart)

    def new_key(self):
        for _ in range(50):
            key = self.folder_name() + self.leaf_name()
            if key not in self.objs and len(key.encode()) < 700:
                return key
        return None

    def plain(self):
        """Keys of the objects with an MD5 ETag (written in one PUT)."""
        return sorted(k for k, o in self.objs.items() if not o.multipart)

    # -- change kinds: each returns a short description, or None when it could not apply

    def c_new(self, big=False):
        key = self.new_key()
        if key is None:
            return None
        multipart = False
        if big or (self.rng.random() < self.big_rate and self.bigs() < MAX_BIG):
            size = self.rng.randrange(6 * MIB, 12 * MIB)
            multipart = self.rng.random() < 0.5
        else:
            size = self.size()
        self.write(key, self.data(size), self.meta(), self.rng.choice(conv.CONTENT_TYPES),
                   self.tags(), multipart)
        return "new %r (%d%s)" % (key, size, ", multipart" if multipart else "")

    def c_same(self):
        cands = [k for k in self.plain() if self.objs[k].size > 0]
        if not cands:
            return None
        key = self.rng.choice(cands)
        o = self.objs[key]
        self.write(key, self.data(o.size), o.meta, o.ctype, o.tags)
        return "same %r (%d)" % (key, o.size)

    def c_resize(self):
        if not self.objs:
            return None
        key = self.rng.choice(sorted(self.objs))
        size = self.size(self.objs[key].size)
        self.write(key, self.data(size), self.meta(), self.rng.choice(conv.CONTENT_TYPES),
                   self.tags())
        return "resize %r (%d)" % (key, size)

    def c_delete(self):
        if not self.objs:
            return None
        key = self.rng.choice(sorted(self.objs))
        self.s3.delete(self.bucket, key)
        del self.objs[key]
        self.deleted += 1
        return "delete %r" % key

    def c_meta(self):
        cands = [k for k in self.plain() if self.objs[k].size <= 5 * MIB]
        if not cands:
            return None
        key = self.rng.choice(cands)
        o = self.objs[key]
        meta, ctype = self.meta(), self.rng.choice(conv.CONTENT_TYPES)
        if self.rng.random() < 0.5:
            # S3 copies the tags along by default, RGW drops them: what the copy has is read
            # back (convergence_replicate.py's `meta` does the same).
            self.s3.copy_replace(self.bucket, key, meta, ctype)
            o.tags = self.s3.get_tags(self.bucket, key)
            how = "copy"
        else:
            data, _, _ = self.s3.get(self.bucket, key)
            self.s3.put(self.bucket, key, data, meta, ctype, o.tags)
            how = "put"
        o.meta, o.ctype = dict(meta), ctype
        return "meta(%s) %r %s %r" % (how, key, meta, ctype)

    def c_tags(self):
        cands = self.plain()
        if not cands:
            return None
        key = self.rng.choice(cands)
        tags = self.tags()
        self.s3.put_tags(self.bucket, key, tags)
        self.objs[key].tags = dict(tags)
        return "tags %r %s" % (key, tags)

    def round(self, n):
        done = []
        for _ in range(n):
            what = getattr(self, "c_" + self.rng.choice(self.kinds))()
            if what:
                done.append(what)
        return done


# ---------------------------------------------------------------------------------------------
# Running ferry


class Ferry:
    """Starts ferry processes (stdout and stderr in <workdir>/<name>.out|.err), kills them, and
    keeps the counts."""

    def __init__(self, args):
        self.args = args
        self.kills = {"pack": 0, "unpack": 0}
        self.kill_misses = 0  # processes that ended before their kill
        self.runs = 0
        self.typical = {}  # name -> seconds a run takes (a moving average), to time the kills
        self.procs = {}    # name -> the live Popen
        self.env = dict(os.environ, HOME=args.workdir,
                        FERRY_STATE_DIR=os.path.join(args.workdir, "statedir"))

    def path(self, name, ext):
        return os.path.join(self.args.workdir, "%s.%s" % (name, ext))

    def start(self, name, config, argv):
        self.runs += 1
        out, err = open(self.path(name, "out"), "wb"), open(self.path(name, "err"), "wb")
        p = subprocess.Popen([self.args.ferry, "--config", config] + argv, stdout=out,
                             stderr=err, env=self.env)
        out.close()
        err.close()
        self.procs[name] = p
        return p

    def kill(self, name, p, kind):
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.kills[kind] += 1

    def stop_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()

    def text(self, name, ext, tail=3000):
        try:
            with open(self.path(name, ext), "rb") as f:
                t = f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""
        return t[-tail:] if tail else t

    def typical_of(self, name):
        return self.typical.get(name, 1.0)

    def learn(self, name, seconds):
        self.typical[name] = 0.8 * self.typical.get(name, seconds) + 0.2 * seconds

    def run_once(self, argv, config):
        """A short command (jobs list): (exit code, stdout, stderr)."""
        p = subprocess.run([self.args.ferry, "--config", config] + argv, capture_output=True,
                           env=self.env, timeout=self.args.timeout)
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))


def pg_restart(args, log):
    t = time.time()
    p = subprocess.run(args.pg_restart, shell=True, capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 0:
        raise Failed("the PostgreSQL restart (%s) exited %d: %s" % (
            args.pg_restart, p.returncode, (p.stdout + p.stderr).strip()[-2000:]))
    return time.time() - t


class Test:
    def __init__(self, args, ferry, src, configs, locs, rng, log):
        self.args, self.ferry, self.src, self.configs = args, ferry, src, configs
        self.src_loc, self.stg_loc = locs
        self.rng, self.log = rng, log
        self.current = "setup"
        self.pg_restarts = 0
        self.pg_missed = 0  # restarts after which the process had ended already
        self.pg_refused = 0  # processes that started while PostgreSQL was down (run again)
        self.packed_objects = 0
        self.archives = 0

    # -- the packer

    def pack_argv(self, size):
        argv = ["sync", self.src_loc, "dst:" + self.args.dst_bucket, "--compress", "--staging",
                self.stg_loc, "--pack-only", "--unpack-region", ",".join(REGIONS), "--state",
                self.args.state, "--archive-size", size, "--max-attempts", "10", "--json",
                "--no-progress"]
        if self.args.deletes == "on":
            argv.append("--delete")
        return argv

    def pack_result(self, p, what):
        try:
            rc = p.wait(timeout=self.args.timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Failed("%s: the packer did not finish within %d s: %s" % (
                what, self.args.timeout, self.ferry.text("pack", "err")))
        try:
            summary = json.loads(self.ferry.text("pack", "out", tail=0))
        except ValueError:
            summary = None
        if rc != 0 or summary is None or "run" not in summary:
            raise Failed("%s: the packer exited %d: %s%s" % (
                what, rc, self.ferry.text("pack", "err"),
                "" if summary is None else "\n  summary: " +
                json.dumps(summary, sort_keys=True)[:2000]))
        return summary

    def pack(self, kill, restart, size):
        """Returns (summary, kills, seconds of the PostgreSQL restart or None)."""
        argv, config, what = self.pack_argv(size), self.configs["pack"], self.current + ": pack"
        kills = 0
        while kill and kills < 3:
            t = time.time()
            p = self.ferry.start("pack", config, argv)
            time.sleep(self.rng.uniform(0.05, 1.0) * self.ferry.typical_of("pack"))
            if p.poll() is not None:
                self.ferry.kill_misses += 1
                summary = self.pack_result(p, what)
                self.ferry.learn("pack", time.time() - t)
                return summary, kills, None
            self.ferry.kill("pack", p, "pack")
            kills += 1
            kill = self.rng.random() < 0.3
        t = time.time()
        p = self.ferry.start("pack", config, argv)
        pg = None
        if restart:
            time.sleep(self.rng.uniform(0.02, 0.4) * self.ferry.typical_of("pack"))
            if p.poll() is not None:
                self.pg_missed += 1
            pg = pg_restart(self.args, self.log)
            self.pg_restarts += 1
        what += (" (rerun after %d kill(s))" % kills if kills else "") + (
            " (PostgreSQL restarted)" if restart else "")
        try:
            summary = self.pack_result(p, what)
        except Failed:
            if not (restart and self.refused("pack")):
                raise
            # Down when it opened the store: one attempt, by design (docs/design/jobs.md,
            # "PostgreSQL driver"); run again, as an operator would.
            self.pg_refused += 1
            summary = self.pack_result(self.ferry.start("pack", config, argv),
                                       what + " (started again: the store was down)")
        if not kills and not restart:
            self.ferry.learn("pack", time.time() - t)
        return summary, kills, pg

    # -- the unpack workers of both regions, at once

    def refused(self, name):
        """Whether the process ended because PostgreSQL was down when it opened the store."""
        return "cannot reach state store" in self.ferry.text(name, "err")

    def worker_argv(self, region, run):
        return ["worker", "--state", self.args.state, "--role", "unpack", "--region", region,
                "--run", str(run), "--until-done", "--lease-ttl", str(self.args.lease_ttl)]

    def unpack(self, run, kill, restart):
        """Returns ({region: kills}, {region: seconds}, seconds of the restart or None)."""
        t0 = time.time()
        state = {}
        for r in REGIONS:
            name = "unpack-" + r
            k = kill and self.rng.random() < 0.7  # each region killed or not
            state[r] = {"name": name, "kill_at": None, "kills": 0, "done": None,
                        "start": t0, "p": self.ferry.start(name, self.configs[r],
                                                           self.worker_argv(r, run))}
            if k:
                state[r]["kill_at"] = t0 + self.rng.uniform(0.05, 1.0) * \
                    self.ferry.typical_of(name)
        if kill and all(s["kill_at"] is None for s in state.values()):
            r = self.rng.choice(REGIONS)
            state[r]["kill_at"] = t0 + self.rng.uniform(0.05, 1.0) * \
                self.ferry.typical_of(state[r]["name"])
        pg = None
        restart_at = t0 + self.rng.uniform(0.02, 0.4) * max(
            self.ferry.typical_of("unpack-" + r) for r in REGIONS) if restart else None
        deadline = t0 + self.args.timeout
        while any(s["done"] is None for s in state.values()):
            now = time.time()
            if restart_at is not None and now >= restart_at:
                restart_at = None
                if all(s["done"] is not None for s in state.values()):
                    self.pg_missed += 1
                pg = pg_restart(self.args, self.log)
                self.pg_restarts += 1
                continue
            for r, s in state.items():
                if s["done"] is not None:
                    continue
                p = s["p"]
                rc = p.poll()
                if rc is not None:
                    if rc != 0 and restart and self.refused(s["name"]):
                        self.pg_refused += 1  # down at its start (pack() says why)
                        s["p"] = self.ferry.start(s["name"], self.configs[r],
                                                  self.worker_argv(r, run))
                        continue
                    if rc != 0:
                        raise Failed("%s: the unpack worker of region %s exited %d%s: %s\n%s" % (
                            self.current, r, rc, " (after %d kill(s))" % s["kills"]
                            if s["kills"] else "", self.ferry.text(s["name"], "err"),
                            self.jobs_report(run)))
                    if s["kill_at"] is not None:
                        self.ferry.kill_misses += 1
                    s["done"] = time.time()
                    if not s["kills"] and not restart:
                        self.ferry.learn(s["name"], s["done"] - s["start"])
                    continue
                if s["kill_at"] is not None and now >= s["kill_at"]:
                    self.ferry.kill(s["name"], p, "unpack")
                    s["kills"] += 1
                    s["kill_at"] = None
                    if s["kills"] < 3 and self.rng.random() < 0.3:
                        s["kill_at"] = time.time() + self.rng.uniform(0.05, 1.0) * \
                            self.ferry.typical_of(s["name"])
                    s["p"] = self.ferry.start(s["name"], self.configs[r],
                                              self.worker_argv(r, run))
            if now > deadline:
                raise Failed("%s: the unpack workers did not finish within %d s: %s\n%s" % (
                    self.current, self.args.timeout, "; ".join(
                        "%s: %s" % (r, self.ferry.text(s["name"], "err", 1500))
                        for r, s in state.items() if s["done"] is None),
                    self.jobs_report(run)))
            time.sleep(0.02)
        return ({r: s["kills"] for r, s in state.items()},
                {r: s["done"] - t0 for r, s in state.items()}, pg)

    def jobs_report(self, run):
        lines = []
        for argv in (["jobs", "list", "--state", self.args.state],
                     ["jobs", "dlq", str(run), "--state", self.args.state]):
            try:
                rc, out, err = self.ferry.run_once(argv, self.configs["pack"])
            except subprocess.TimeoutExpired:
                continue
            lines += ["  %s: %s" % (" ".join(argv[:2]), line)
                      for line in (out + err).splitlines()[:20]]
        return "\n".join(lines)

    # -- one round

    def round(self, r, kill_pack, kill_unpack, restart):
        size = self.rng.choice(self.args.archive_sizes)
        t = time.time()
        summary, pkills, pg_pack = self.pack(kill_pack, restart == "pack", size)
        t_pack = time.time() - t
        run = summary["run"]
        tr = summary.get("transport") or {}
        self.packed_objects += tr.get("entries", 0)
        self.archives += tr.get("archives", 0)
        ukills, useconds, pg_unpack = self.unpack(run, kill_unpack, restart == "unpack")
        pg = pg_pack if pg_pack is not None else pg_unpack
        return ("archive size %s; pack run %d%s, %d kill(s), %.2f s: %d object(s) in %d "
                "archive(s); unpack %s%s" % (
                    size, run, " (resumed)" if summary.get("resumed") else "", pkills, t_pack,
                    tr.get("entries", 0), tr.get("archives", 0),
                    ", ".join("%s %d kill(s) %.2f s" % (x, ukills[x], useconds[x])
                              for x in REGIONS),
                    "; PostgreSQL restarted during the %s (%.1f s)" % (restart, pg)
                    if pg is not None else "")), summary


# ---------------------------------------------------------------------------------------------
# The comparison


def check_source(src):
    real = dict(src.s3.list(src.bucket))
    model = {k: o.size for k, o in src.objs.items()}
    if real != model:
        diff = sorted(set(real.items()) ^ set(model.items()))
        raise RuntimeError("the test's model of the source is wrong (%d): %s" % (
            len(diff), diff[:10]))


def compare(src, s3, bucket, region):
    """Difference lines of one destination against the model; and the objects compared."""
    listed = dict(s3.list(bucket))
    diffs = []
    for key in sorted(set(listed) - set(src.objs)):
        diffs.append("region %s: %r: at the destination, not at the source (%d bytes)" % (
            region, key, listed[key]))
    for key in sorted(set(src.objs) - set(listed)):
        diffs.append("region %s: %r: missing at the destination" % (region, key))
    compared = 0
    for key in sorted(set(src.objs) & set(listed)):
        o = src.objs[key]
        data, meta, ctype = s3.get(bucket, key)
        tags = s3.get_tags(bucket, key)
        compared += 1
        got = {"sha256": conv.sha(data)[:16], "size": len(data),
               "metadata": conv.without_ferry(meta), "content type": ctype, "tags": tags}
        exp = {"sha256": o.sha[:16], "size": o.size, "metadata": o.meta,
               "content type": o.ctype, "tags": o.tags}
        for what in got:
            if got[what] != exp[what]:
                diffs.append("region %s: %r: %s: expected %s, found %s" % (
                    region, key, what, exp[what], got[what]))
    return diffs, compared


def check_model_details(src):
    """The source's metadata, Content-Type and tags against the model (the test's own
    bookkeeping; RuntimeError on a difference)."""
    bad = []
    for key, o in sorted(src.objs.items()):
        meta, ctype = src.s3.head(src.bucket, key)
        tags = src.s3.get_tags(src.bucket, key)
        if (conv.without_ferry(meta), ctype, tags) != (o.meta, o.ctype, o.tags):
            bad.append("%r: model %s, source %s" % (key, (o.meta, o.ctype, o.tags),
                                                    (meta, ctype, tags)))
    if bad:
        raise RuntimeError("the source's details differ from the model:\n  " +
                           "\n  ".join(bad[:20]))


def verify(test, src, dests):
    """Both destinations against the source's model; returns the objects compared."""
    check_source(src)
    diffs, compared = [], 0
    for region, (s3, bucket) in dests.items():
        d, n = compare(src, s3, bucket, region)
        diffs += d
        compared += n
    if diffs:
        raise Failed("%s: the destinations differ from the source (%d):\n  %s" % (
            test.current, len(diffs), "\n  ".join(diffs[:40])))
    return compared


def list_uploads(s3, bucket):
    """[(key, initiated)] of the bucket's unfinished multipart uploads."""
    _, _, data = s3.request("GET", bucket, query={"uploads": ""})
    out = []
    for up in ET.fromstring(data).iter():
        if up.tag.endswith("Upload"):
            key = when = None
            for c in up:
                if c.tag.endswith("Key"):
                    key = c.text or ""
                elif c.tag.endswith("Initiated"):
                    when = c.text or ""
            out.append((key, when))
    return out


def check_leftovers(test, args, stg_s3):
    """Staging, the runs and the progress rows after the final pass."""
    problems = []
    left = stg_s3.list(args.staging_bucket)
    if left:
        problems.append("staging holds %d object(s): %s" % (
            len(left), ", ".join("%r (%d bytes)" % kv for kv in left[:15])))
    uploads = list_uploads(stg_s3, args.staging_bucket)
    if uploads:
        problems.append("staging holds %d unfinished multipart upload(s): %s" % (
            len(uploads), ", ".join("%r (started %s)" % u for u in uploads[:15])))
    rc, out, err = test.ferry.run_once(["jobs", "list", "--state", args.state, "--json",
                                        "--limit", "100000"], test.configs["pack"])
    runs = []
    if rc != 0:
        problems.append("ferry jobs list exited %d: %s" % (rc, err.strip()[-1000:]))
    else:
        for line in out.splitlines():
            if line.strip():
                runs.append(json.loads(line))
        for v in runs:
            if v.get("state") != "done" or v.get("jobs_dead"):
                problems.append("run %s: %s, %s dead job(s) (%s)" % (
                    v.get("run"), v.get("state"), v.get("jobs_dead"), v.get("status")))
    rows = "psql not found"
    if shutil.which("psql"):
        p = subprocess.run(["psql", args.state, "-At", "-c",
                            "SELECT state, COUNT(*) FROM transport_archives GROUP BY state "
                            "ORDER BY state"], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            problems.append("psql exited %d: %s" % (p.returncode, p.stderr.strip()[-500:]))
        else:
            counts = dict(line.split("|") for line in p.stdout.split() if "|" in line)
            rows = ", ".join("%s %s" % kv for kv in sorted(counts.items())) or "none"
            if set(counts) - {"done"}:
                problems.append("progress rows not done: %s" % rows)
    if problems:
        raise Failed("%s: after the final pass:\n  %s" % (test.current, "\n  ".join(problems)))
    return len(runs), rows


# ---------------------------------------------------------------------------------------------


def write_configs(args, remotes, proxies):
    """The packer's and the two regions' configs; returns (configs, (source, staging))."""
    base = os.path.join(args.workdir, "base.toml")
    via = {n: n for n in remotes}
    if proxies:
        via.update(proxies.write_config(args.config, base, remotes))
    else:
        shutil.copyfile(args.config, base)
    with open(base, encoding="utf-8") as f:
        text = f.read()
    endpoints = {}
    for n in (args.a_remote, args.b_remote):
        r = remotes[n]
        endpoints[n] = ("http://127.0.0.1:%d" % proxies.map[n]) if proxies else r["endpoint"]
    configs = {}
    for name, remote in (("pack", args.b_remote), ("A", args.a_remote), ("B", args.b_remote)):
        r = remotes[remote]
        path = os.path.join(args.workdir, "%s.toml" % (
            "packer" if name == "pack" else "region-" + name))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
            f.write('\n[remotes.dst]\nendpoint = "%s"\nregion = "%s"\naccess_key_id_env = "%s"\n'
                    'secret_access_key_env = "%s"\n' % (
                        endpoints[remote], r.get("region", ""), r["access_key_id_env"],
                        r["secret_access_key_env"]))
        configs[name] = path
    return configs, ("%s:%s" % (via[args.src_remote], args.src_bucket),
                     "%s:%s/s" % (via[args.staging_remote], args.staging_bucket))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--workdir", required=True, help="an empty folder of this test's own")
    ap.add_argument("--state", required=True, help="the shared state store (postgres://...)")
    ap.add_argument("--src-remote", default="ra")
    ap.add_argument("--src-bucket", required=True)
    ap.add_argument("--a-remote", default="ra", help="region A's gateway")
    ap.add_argument("--b-remote", default="rb", help="region B's gateway")
    ap.add_argument("--dst-bucket", required=True, help="a bucket of this name on both")
    ap.add_argument("--staging-remote", default="rb")
    ap.add_argument("--staging-bucket", required=True)
    ap.add_argument("--kinds", default=",".join(ALL_KINDS))
    ap.add_argument("--deletes", choices=["on", "off"], default="on",
                    help="off: no `delete` changes and no --delete")
    ap.add_argument("--changes", type=int, default=6, help="at most this many changes a round")
    ap.add_argument("--initial", type=int, default=30, help="objects created before round 1")
    ap.add_argument("--kill-rate", type=float, default=0.3)
    ap.add_argument("--big-rate", type=float, default=0.03)
    ap.add_argument("--archive-sizes", default="1MiB,1MiB,2MiB,64MiB")
    ap.add_argument("--lease-ttl", type=int, default=3, help="the unpack workers' --lease-ttl")
    ap.add_argument("--pg-restart", default="", help="a command that restarts PostgreSQL")
    ap.add_argument("--pg-restarts", type=int, default=2, help="rounds with a restart")
    ap.add_argument("--check-every", type=int, default=0,
                    help="also compare after every K-th round (0: only at the end)")
    ap.add_argument("--fault-proxy", default="", help="tests/tools/fault_proxy.py")
    ap.add_argument("--fault-rate", type=float, default=0.05)
    ap.add_argument("--fault-kinds", default="503,reset,truncate,flip,slow")
    ap.add_argument("--timeout", type=int, default=300, help="seconds one ferry phase may take")
    ap.add_argument("--verbose", action="store_true", help="print every change")
    args = ap.parse_args()
    args.archive_sizes = [s for s in args.archive_sizes.split(",") if s]
    kinds = [k for k in args.kinds.split(",") if k]
    for k in kinds:
        if k not in ALL_KINDS:
            raise SystemExit("convergence_transport: unknown change kind %r" % k)
    if args.deletes == "off" and "delete" in kinds:
        kinds.remove("delete")
    if "new" not in kinds:
        kinds.append("new")

    remotes = conv.load_remotes(args.config)
    os.makedirs(args.workdir, exist_ok=True)
    src_s3 = conv.client_for(remotes, args.src_remote, args.config)
    dests = {"A": (conv.client_for(remotes, args.a_remote, args.config), args.dst_bucket),
             "B": (conv.client_for(remotes, args.b_remote, args.config), args.dst_bucket)}
    stg_s3 = conv.client_for(remotes, args.staging_remote, args.config)

    def log(msg):
        print(msg, flush=True)

    proxies = None
    if args.fault_proxy:
        proxies = conv.Proxies(args.fault_proxy, args, remotes,
                               sorted({args.src_remote, args.a_remote, args.b_remote,
                                       args.staging_remote}))
    src = Source(src_s3, args.src_bucket, random.Random(args.seed), args.big_rate, kinds)
    ferry = Ferry(args)
    test = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.time()
    try:
        configs, locs = write_configs(args, remotes, proxies)
        test = Test(args, ferry, src, configs, locs, random.Random(args.seed * 7919 + 1), log)
        return run(args, test, src, dests, stg_s3, proxies, log, t0)
    except Failed as e:
        log("FAIL convergence-transport seed=%d %s: %s" % (
            args.seed, test.current if test else "setup", e))
        log("replay (with empty buckets, a fresh schema and workdir): %s" % shlex.join(sys.argv))
        return 1
    except Exception:
        log("ERROR convergence-transport seed=%d %s: the test itself failed:" % (
            args.seed, test.current if test else "setup"))
        raise
    finally:
        ferry.stop_all()
        if proxies:
            proxies.stop()


def run(args, test, src, dests, stg_s3, proxies, log, t0):
    for i in range(args.initial):
        src.c_new(big=(i == 0 and args.big_rate > 0))
    plan = random.Random(args.seed * 31 + 7)  # which rounds kill and restart
    restarts = {}
    if args.pg_restart and args.pg_restarts > 0 and args.rounds > 0:
        for r in plan.sample(range(1, args.rounds + 1), min(args.pg_restarts, args.rounds)):
            restarts[r] = plan.choice(["pack", "unpack"])
    compared = 0
    for r in range(1, args.rounds + 1):
        test.current = "round %d" % r
        t_round = time.time()
        changes = src.round(src.rng.randrange(1, args.changes + 1))
        t_changes = time.time() - t_round
        restart = restarts.get(r)
        kill_pack = plan.random() < args.kill_rate and restart != "pack"
        kill_unpack = plan.random() < args.kill_rate and restart != "unpack"
        line, _ = test.round(r, kill_pack, kill_unpack, restart)
        log("%s: %d change(s) in %.2f s; %s; %.1f s" % (
            test.current, len(changes), t_changes, line, time.time() - t_round))
        if args.verbose:
            for c in changes:
                log("    " + c)
        if args.check_every and r % args.check_every == 0 and r != args.rounds:
            compared += verify(test, src, dests)
    test.current = "final"
    summary, _, _ = test.pack(False, False, args.archive_sizes[0])
    tr = summary.get("transport") or {}
    if tr.get("entries") or tr.get("archives"):
        raise Failed("final: the clean pass packed %d object(s) into %d archive(s) again: the "
                     "rounds' runs had left them behind" % (tr.get("entries", 0),
                                                             tr.get("archives", 0)))
    test.unpack(summary["run"], False, False)
    try:
        check_model_details(src)
    except RuntimeError as e:
        log("ERROR convergence-transport seed=%d final: the test's own error: %s" % (
            args.seed, e))
        return 2
    compared += verify(test, src, dests)
    runs, rows = check_leftovers(test, args, stg_s3)
    faults, by_kind = 0, {}
    if proxies:
        proxies.stop()
        faults, by_kind = proxies.faults()
    f = test.ferry
    log("convergence-transport seed=%d: rounds=%d kills=%d (pack %d, unpack %d; missed %d) "
        "processes=%d faults=%d%s pg_restarts=%d (missed %d, refused at start %d) runs=%d archives=%d packed=%d "
        "objects=%d deleted=%d compared=%d (both regions) progress rows: %s seconds=%.0f ok" % (
            args.seed, args.rounds, sum(f.kills.values()), f.kills["pack"], f.kills["unpack"],
            f.kill_misses, f.runs, faults,
            " " + json.dumps(by_kind, sort_keys=True) if by_kind else "", test.pg_restarts,
            test.pg_missed, test.pg_refused, runs, test.archives, test.packed_objects, len(src.objs),
            src.deleted, compared, rows, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
