#!/usr/bin/env bash
# Kills: three `ferry worker` processes on PostgreSQL copy a run of
# 20,000 small objects (1 KiB) and 16 multipart objects (128 MiB each, 8 MiB parts), 2 GiB in
# all, from region A to region B, while a seeded loop SIGKILLs a random worker 20 times (each
# killed worker is replaced at once by a new process) and PostgreSQL restarts once midway.
# Checked: the run ends done with no dead job and its counts add up; B holds exactly A's keys,
# sizes and bytes (small objects: same MD5 ETags; large ones: downloaded from B, same SHA-256 as
# the generated files, same ferry-crc32c as on A); no upload is left open on B; and RGW's usage
# log of B shows that no part recorded as finished was sent again.
#
# What "sent again" is bounded by. RGW's usage log counts, per bucket, the bytes its put_obj
# operations received (PUTs and UploadPart alike); it cannot say which part a request carried.
# So the test asserts a byte bound instead of a per-part one: received(B) <= data + allowance,
# where the allowance is what a dead (or fenced-off) worker may legitimately have sent without a
# record, taken from the jobs it held (queried right after each kill):
#   - a large object's parts: a part holds its share of the worker's --memory budget from its
#     read until its checkpoint (JobStore::SavePart) is committed, so the parts sent but not
#     recorded are at most --memory bytes (32 MiB here: 4 parts of 8 MiB) for all the large
#     objects the worker held. A part recorded as finished is adopted by the next holder of the
#     job and must never travel again: one such part costs 8 MiB, a whole object 128 MiB.
#   - a batch of small objects (one transfer job): all of it, as the job is redone whole.
# Jobs a live worker gave up because another worker took them over (its log says "lease lost",
# e.g. when PostgreSQL was down longer than the lease) are fenced off with their in-flight parts,
# and are allowed for the same way. The actual overhead is printed.
# Knobs (environment): FERRY_TEST_SEED, FERRY_TEST_KILLS_N (small objects), FERRY_TEST_KILLS_BIG
# (large objects), FERRY_TEST_KILLS_BIG_MIB, FERRY_TEST_KILLS (number of SIGKILLs),
# FERRY_TEST_KILLS_GAP_MS (mean time between kills), FERRY_TEST_KILLS_TIMEOUT (seconds).
source "$(dirname "$0")/testlib.bash"
export TOOLS="$(cd "$(dirname "$0")/../tools" && pwd)"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL not set: run through scripts/test-all.sh}"
: "${FERRY_TEST_PG_CTL_RESTART:?FERRY_TEST_PG_CTL_RESTART not set: run through scripts/test-all.sh}"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
T0=$SECONDS
SEED=${FERRY_TEST_SEED:-$(( $(date +%s%N) % 1000000007 ))}
RANDOM=$SEED
N=${FERRY_TEST_KILLS_N:-20000}
NB=${FERRY_TEST_KILLS_BIG:-16}
BIG_MIB=${FERRY_TEST_KILLS_BIG_MIB:-128}
KILLS=${FERRY_TEST_KILLS:-20}
GAP_MS=${FERRY_TEST_KILLS_GAP_MS:-1200}
TIMEOUT=${FERRY_TEST_KILLS_TIMEOUT:-480}
PART_MIB=8
MEM_MIB=32
CONC=16
echo "  seed $SEED (rerun with FERRY_TEST_SEED=$SEED)"

# Buckets registered in this shell (new_bucket runs in a subshell: its BUCKETS would be lost).
A=ferry-kills-$$-a
B=ferry-kills-$$-b
ferry mb "ra:$A" >/dev/null 2>&1 && BUCKETS+=("ra:$A")
ferry mb "rb:$B" >/dev/null 2>&1 && BUCKETS+=("rb:$B")
[ "${#BUCKETS[@]}" = 2 ] || { echo "cannot create the buckets"; exit 1; }
SCHEMA=ferry_k$$
psql "$FERRY_TEST_PG_URL" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
STATE="$FERRY_TEST_PG_URL?options=-csearch_path%3D$SCHEMA"
pids=(0 0 0)
aws_b() {
  AWS_ACCESS_KEY_ID=$RB_KEY AWS_SECRET_ACCESS_KEY=$RB_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION_B:-region-b} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT_B" "$@"
}
kills_cleanup() {
  local p
  for p in "${pids[@]}"; do if [ "$p" != 0 ]; then kill -9 "$p" 2>/dev/null || true; fi; done
  for p in "${pids[@]}"; do if [ "$p" != 0 ]; then wait "$p" 2>/dev/null || true; fi; done
  # uploads left open would keep the bucket from being removed
  aws_b s3api list-multipart-uploads --bucket "$B" --query 'Uploads[].[Key,UploadId]' \
    --output text 2>/dev/null | while read -r k u; do
    if [ -n "$u" ] && [ "$k" != None ]; then
      aws_b s3api abort-multipart-upload --bucket "$B" --key "$k" --upload-id "$u" >/dev/null 2>&1 || true
    fi
  done || true
  psql "$FERRY_TEST_PG_URL" -q -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true
  return 0
}
trap 'kills_cleanup; cleanup' EXIT

# --- data: small objects of random bytes; large ones made of one 16 MiB random block, each
# MiB stamped with its object, position and the seed (every part of every object is distinct)
mkdir -p "$WORK/src/small" "$WORK/src/big"
python3 - "$WORK/src" "$N" "$NB" "$BIG_MIB" "$SEED" > "$WORK/big.sha256" <<'PY'
import hashlib, os, sys
root, n, nb, mib, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
for i in range(n):
    d = os.path.join(root, "small", "d%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "o%05d" % i), "wb") as f:
        f.write(os.urandom(1024))
M = 1 << 20
block = os.urandom(16 * M)
for i in range(nb):
    size = mib * M + i * 4097  # the last part is a partial one, of a different size each time
    h = hashlib.sha256()
    with open(os.path.join(root, "big", "b%02d.bin" % i), "wb") as f:
        j = 0
        while j * M < size:
            head = ("ferry-kills object %04d MiB %06d seed %s\n" % (i, j, seed)).encode().ljust(64, b".")
            off = ((i * 7 + j) % 16) * M
            chunk = (head + block[off:off + M - 64])[: size - j * M]
            f.write(chunk)
            h.update(chunk)
            j += 1
    print(h.hexdigest(), "big/b%02d.bin" % i)
PY
DATA=$(( N * 1024 + NB * BIG_MIB * 1024 * 1024 + 4097 * NB * (NB - 1) / 2 ))
TOTAL=$((N + NB))
echo "  generated $N small + $NB large objects, $DATA bytes ($((SECONDS - T0)) s)"
ferry cp "$WORK/src" "ra:$A" --no-progress > "$WORK/upload.log" 2>&1 || { echo "upload failed"; cat "$WORK/upload.log"; exit 1; }
rm -rf "$WORK/src"
echo "  uploaded to region A ($((SECONDS - T0)) s)"

# --- the run: enqueued, then worked by three workers that are killed at random
# --max-attempts 10: a job whose holder is killed again and again is retried, not dead. Twenty
# random kills of three workers that hold up to four jobs each hit the same job five times often
# enough on a loaded machine (the store's dead-letter threshold has its own unit tests); what
# this test asserts is that no kill loses or resends data.
check "enqueue with --detach" bash -c "'$FERRY_BIN' --config '$CONF' sync 'ra:$A' 'rb:$B' --state '$STATE' --detach \
  --multipart-threshold 16MiB --part-size ${PART_MIB}MiB --max-attempts 10 2>'$WORK/detach.log'"
gen=0; logs=("" "" "")
start_worker() { # slot: a new worker process in it, with a log of its own
  gen=$((gen + 1)); logs[$1]=$WORK/w$1.$gen.log
  "$FERRY_BIN" --config "$CONF" worker --state "$STATE" --concurrency $CONC --memory ${MEM_MIB}MiB \
    --lease-ttl 5 --scan-chunk 2000 > "${logs[$1]}" 2>&1 &
  pids[$1]=$!
}
# the run's counts; empty while the store cannot be reached (other tests restart PostgreSQL too)
run_state() { { "$FERRY_BIN" jobs list --state "$STATE" --json 2>/dev/null || true; } | head -1; }
# field NAME: a number of the run_state line on stdin (0 when absent); no process per call, so
# that the loop below keeps its kill schedule on a loaded machine
field() { local line; line=$(cat); [[ $line =~ \"$1\":([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo 0; }
ended() { grep -q '"state":"\(done\|failed\)"' <<<"$1"; }  # failed: blocked on dead jobs
R0=$SECONDS
for w in 0 1 2; do start_worker $w; done
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
killed=0; restarted=0; self_exits=0; state=""; next=$(now_ms)
while [ $killed -lt "$KILLS" ]; do
  # kill times: gaps uniform in [GAP/4, 7 GAP/4] (mean GAP), whatever the loop itself costs
  next=$(( next + GAP_MS / 4 + (RANDOM * 32768 + RANDOM) % (GAP_MS * 3 / 2 + 1) ))
  ms=$(( next - $(now_ms) ))
  if [ $ms -gt 0 ]; then sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"; fi
  for w in 0 1 2; do  # a worker that ended by itself is a failure (and is replaced)
    if ! kill -0 "${pids[$w]}" 2>/dev/null; then
      rc=0; wait "${pids[$w]}" || rc=$?
      self_exits=$((self_exits + 1)); echo "  worker $w (pid ${pids[$w]}) exited by itself, status $rc: $(tail -3 "${logs[$w]}" | tr '\n' ' ')"
      start_worker $w
    fi
  done
  state=$(run_state)
  ended "$state" && break
  w=$((RANDOM % 3)); pid=${pids[$w]}
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  killed=$((killed + 1))
  start_worker $w
  # the sizes of the jobs the dead worker held: what its death may cause to be sent again
  held=$(psql "$FERRY_TEST_PG_URL" -At -c "SELECT COALESCE(string_agg(bytes::text, ' '), '') FROM $SCHEMA.jobs
    WHERE state = 'leased' AND split_part(lease_owner, ':', 2) = '$pid'" 2>/dev/null) || held="?"
  echo "$held" >> "$WORK/held.txt"
  echo "  kill $killed at $((SECONDS - R0)) s: worker $w (held $(wc -w <<<"$held") jobs), objects done $(field objects_done <<<"$state")/$(field objects_total <<<"$state")"
  if [ $restarted = 0 ] && [ $killed -ge $((KILLS / 2)) ]; then
    $FERRY_TEST_PG_CTL_RESTART; restarted=1; echo "  restarted PostgreSQL at $((SECONDS - R0)) s"
  fi
done
KILL_END=$((SECONDS - R0))
run_ended() { state=$(run_state); ended "$state"; }
WAIT_EVERY=0.5 wait_for $((TIMEOUT - (SECONDS - R0))) run_ended || true
RUN_SECS=$((SECONDS - R0))
for w in 0 1 2; do
  if ! kill -0 "${pids[$w]}" 2>/dev/null; then self_exits=$((self_exits + 1)); echo "  worker $w exited by itself: $(tail -3 "${logs[$w]}" | tr '\n' ' ')"; fi
  kill -TERM "${pids[$w]}" 2>/dev/null || true
done
for w in 0 1 2; do wait "${pids[$w]}" 2>/dev/null || true; pids[$w]=0; done
echo "  run ended after $RUN_SECS s (kills over the first $KILL_END s)"
run_state > "$WORK/run.json"
ferry jobs show 0 --state "$STATE" --json --limit 1000000 > "$WORK/jobs.jsonl" || true
check "$KILLS workers were SIGKILLed during the run" [ $killed = "$KILLS" ]
check "PostgreSQL was restarted midway" [ $restarted = 1 ]
check "no worker ended by itself" [ $self_exits = 0 ]
check "run is done within ${TIMEOUT} s" grep -q '"state":"done"' "$WORK/run.json"
if ! grep -q '"state":"done"' "$WORK/run.json"; then
  echo "  run: $(cat "$WORK/run.json")"
  { grep -v '"state":"done"' "$WORK/jobs.jsonl" || true; } | head -20 | sed 's/^/  /'
fi
check "no dead jobs" python3 -c "import json; d=json.load(open('$WORK/run.json')); assert d['jobs_dead']==0, d"
{ grep '"state":"dead"' "$WORK/jobs.jsonl" || true; } | head -5 | sed 's/^/  dead: /'
check "job counts add up" python3 -c "import json; d=json.load(open('$WORK/run.json')); assert d['objects_done']==d['objects_total']==$TOTAL and d['bytes_done']==d['bytes_total']==$DATA, d"
python3 - "$WORK/jobs.jsonl" <<'PY'
import collections, json, sys
jobs = [json.loads(l) for l in open(sys.argv[1])]
by = collections.Counter((j["kind"], j["attempts"]) for j in jobs)
print("  jobs by kind and attempts: " + ", ".join("%s x%d: %d" % (k, a, n) for (k, a), n in sorted(by.items())))
PY
cat "$WORK"/w*.log | sed -n 's/^ferry: warn: lease lost, stopping its work job=\([0-9]*\).*/\1/p' > "$WORK/lost.txt"
LOST=$(wc -l < "$WORK/lost.txt")
echo "  leases lost by live workers: $LOST"

# --- B holds A's objects, byte for byte
ferry ls "ra:$A" --json > "$WORK/a.jsonl"
ferry ls "rb:$B" --json > "$WORK/b.jsonl"
check "every object arrived, none missing or extra" [ "$(wc -l < "$WORK/b.jsonl")" = "$TOTAL" ]
check "same keys and sizes; small objects: same MD5 ETags" python3 - "$WORK/a.jsonl" "$WORK/b.jsonl" <<'PY'
import json, sys
a = {j["key"]: j for j in map(json.loads, open(sys.argv[1]))}
b = {j["key"]: j for j in map(json.loads, open(sys.argv[2]))}
assert a.keys() == b.keys(), (len(a), len(b), sorted(a.keys() ^ b.keys())[:5])
bad = [k for k in a if a[k]["size"] != b[k]["size"] or
       (not k.startswith("big/") and a[k]["etag"] != b[k]["etag"])]
assert not bad, bad[:5]
PY
# Large objects, through one botocore process (tests/tools/s3_check.py; an `aws` process per
# call cost half a minute): their ferry-crc32c on A and on B ("KEY CRC_A CRC_B" lines), and the
# SHA-256 of the bytes B serves, three downloads at a time ("SHA256 KEY" lines).
python3 - "$A" "$B" "$WORK/big.sha256" "$WORK/crcs" "$WORK/got.sha256" <<'PY' || true
import concurrent.futures, hashlib, os, sys
sys.path.insert(0, os.environ["TOOLS"])
from s3_check import S3  # noqa: E402
a, b, sums, crcs_out, sha_out = sys.argv[1:6]
keys = [line.split()[1] for line in open(sums)]
def crc(remote, bucket, key):
    try:
        return S3[remote].head_object(Bucket=bucket, Key=key)["Metadata"].get("ferry-crc32c", "None")
    except Exception as e:  # noqa: BLE001
        return "error(%s)" % str(e).replace(" ", "_")
def sha256(key):
    h = hashlib.sha256()
    try:
        body = S3["rb"].get_object(Bucket=b, Key=key)["Body"]
        for chunk in iter(lambda: body.read(1 << 20), b""):
            h.update(chunk)
    except Exception as e:  # noqa: BLE001
        return "error(%s)" % str(e).replace(" ", "_")
    return h.hexdigest()
with open(crcs_out, "w") as f:
    for k in keys:
        print(k, crc("ra", a, k), crc("rb", b, k), file=f)
with concurrent.futures.ThreadPoolExecutor(3) as pool, open(sha_out, "w") as f:
    for k, digest in zip(keys, pool.map(sha256, keys)):
        print(digest, k, file=f)
PY
same_crcs() {
  local k a b bad=0
  while read -r k a b; do
    if [ "$a" != "$b" ] || [ "$a" = None ] || [[ "$a" == error* ]]; then echo "  $k: A $a, B $b"; bad=1; fi
  done < "$WORK/crcs"
  [ "$bad" = 0 ] && [ "$(wc -l < "$WORK/crcs")" = "$NB" ]
}
check "large objects: same ferry-crc32c on A and B" same_crcs
# the bytes B serves, against the SHA-256 of the generated files
check "large objects: byte-identical at B (SHA-256)" cmp <(sort -k2 "$WORK/big.sha256") <(sort -k2 "$WORK/got.sha256")
# Uploads left open on B: none. A worker killed (or fenced off by a lost lease) between its
# CreateMultipartUpload and the checkpoint of the upload id left a "creating" record, and the
# job's next attempt aborted the key's uploads started since (transfer/journal.h); a worker
# whose checkpoint was refused aborted its own.
OPEN=$(aws_b s3api list-multipart-uploads --bucket "$B" --query 'length(Uploads || `[]`)' --output text)
echo "  uploads left open on B: $OPEN (kills: $killed, leases lost: $LOST)"
check "no upload left open on B" [ "$OPEN" -eq 0 ]

# --- finished parts were not sent again: bytes RGW B received for the bucket
check "RGW B's usage log caught up" rgw_b_usage_caught_up "$B"
radosgw-admin -c "$FERRY_TEST_CEPH_CONF" --rgw-realm realm-b --rgw-zonegroup region-b \
  --rgw-zone zone-b usage show --uid tester-b 2>/dev/null > "$WORK/usage.json"
read -r RECEIVED PUT_OPS < <(python3 - "$WORK/usage.json" "$B" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); got = ops = 0
for e in d.get("entries", []):
    for b in e.get("buckets", []):
        if b.get("bucket") == sys.argv[2]:
            for c in b.get("categories", []):
                if c.get("category") == "put_obj":
                    got += c.get("bytes_received", 0); ops += c.get("ops", 0)
print(got, ops)
PY
)
# What may legitimately travel twice: for each kill, the jobs the dead worker held (a large
# object's unrecorded parts: at most --memory for all of them; a batch of small objects: all of
# it); for each lease lost by a live worker, that job likewise (see the header).
BOUND=$(python3 - "$WORK/held.txt" "$WORK/lost.txt" "$WORK/jobs.jsonl" <<PY
import json, sys
mem, large, unknown = $MEM_MIB << 20, 16 << 20, ($MEM_MIB << 20) + (2 * $CONC + 800) * 1024
allow = 0
for line in open(sys.argv[1]):
    if line.strip() == "?":
        allow += unknown  # the store was unreachable right after the kill
        continue
    sizes = [int(x) for x in line.split()]
    allow += (mem if any(b >= large for b in sizes) else 0) + sum(b for b in sizes if b < large)
jobs = {j["id"]: j for j in map(json.loads, open(sys.argv[3]))}
for line in open(sys.argv[2]):
    b = jobs.get(int(line), {}).get("bytes", unknown)
    allow += mem if b >= large else b
print($DATA + allow)
PY
)
PARTS=$(python3 -c "print(sum(-(-($BIG_MIB * 2**20 + i * 4097) // ($PART_MIB * 2**20)) for i in range($NB)))")
python3 - <<PY
data, got, bound = $DATA, $RECEIVED, $BOUND
print("  seed $SEED: $killed kills, $LOST leases lost, $restarted PostgreSQL restart, $TOTAL objects, %d bytes" % data)
print("  B received %d bytes in $PUT_OPS put requests (%d objects + %d parts planned): overhead %.2f%% (%.1f MiB), bound %.2f%%"
      % (got, $N, $PARTS, 100.0 * (got - data) / data, (got - data) / 2**20, 100.0 * (bound - data) / data))
PY
check "B received at least the data (usage log works)" [ "$RECEIVED" -ge "$DATA" ]
check "no finished part sent again: received <= data + what the kills and lost leases allow" [ "$RECEIVED" -le "$BOUND" ]
echo "  total time $((SECONDS - T0)) s"
finish
