#!/usr/bin/env bash
# Syncs under injected faults: tests/tools/fault_proxy.py sits in front of each
# gateway (remotes fa and fb = ra and rb through a proxy) and faults 20% of the requests with
# 503 SlowDown, connection resets before forwarding, replies cut short after the request took
# effect upstream, one flipped byte in object GET bodies, and slow replies. Each of
# local -> S3, S3 -> local and A -> B (across gateways) syncs 2,000 objects, a few of them
# multipart, in ONE invocation: exit 0, every object copied, the summary counts retries, and
# the destination holds exactly the source's keys with byte-identical contents (checked
# through the direct remotes). The fault counts per kind are printed, and each kind must have
# happened. Some source objects in A are written by the aws CLI, not ferry (no ferry checksum in
# their metadata; MD5 ETags, one multipart ETag): flipped bytes in those must be caught too.
# The first phase runs with adaptive concurrency (the injected 503s drive its limit down to 1),
# the other two at a fixed --concurrency 16.
# FERRY_FAULT_KINDS / FERRY_FAULT_RATE / FERRY_FAULT_SEED override the proxy's settings.
source "$(dirname "$0")/testlib.bash"
PROXY="$(cd "$(dirname "$0")/../tools" && pwd)/fault_proxy.py"
[ -x /usr/bin/aws ] || { echo "skip: needs the aws CLI (/usr/bin/aws)"; exit 77; }
KINDS=${FERRY_FAULT_KINDS:-503,reset,truncate,flip,slow}
RATE=${FERRY_FAULT_RATE:-0.2}
SEED=${FERRY_FAULT_SEED:-11}
N=2000
PY=/usr/bin/python3  # Debian's: starts much faster than a pyenv shim
[ -x "$PY" ] || PY=python3
MP=(--multipart-threshold 5MiB --part-size 5MiB)
# Adaptive concurrency halves its limit in every window with a 503 SlowDown (docs/design/
# executor.md), and 20% faults of five kinds throttle every window: the first phase runs
# adaptive (a limit driven down to 1 still completes the sync, in about a minute); the two
# larger phases run at a fixed --concurrency, which moves the same requests through the same
# faults (retries, checksum checks, multipart resumes) several times faster.
FIXED=(--concurrency 16)
RETRIES_FIELD=retries  # the --json summary's count of requests retried
export FERRY_STATE_DIR=$WORK/state

PROXY_PIDS=()
stop_proxies() {  # SIGTERM: each proxy writes its final counts
  for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PROXY_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PROXY_PIDS=()
}
trap 'stop_proxies; cleanup' EXIT
# start_proxy NAME ENDPOINT PORT [OPTION...]: a proxy in front of ENDPOINT on PORT (0: any);
# the port it took goes to PORT. Counts in $WORK/NAME.stats, faults logged to $WORK/NAME.log.
start_proxy() {
  local name=$1 upstream=${2#http://} port=$3
  shift 3
  "$PY" "$PROXY" --upstream "${upstream%/}" --port "$port" --seed "$SEED" --rate "$RATE" \
    --kinds "$KINDS" --stats "$WORK/$name.stats" --log "$WORK/$name.log" "$@" \
    > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PROXY_PIDS+=($!)
  wait_for 30 port_file_written "$WORK/$name.out" || true
  PORT=$(head -1 "$WORK/$name.out")
  [ -n "$PORT" ] || { echo "fault proxy $name did not start: $(cat "$WORK/$name.err")"; exit 1; }
}
# phase_proxies PHASE [OPTION...]: fresh proxies for one phase, on the ports of remotes fa and
# fb; OPTIONs go to the proxy in front of A.
PORT_A=0
PORT_B=0
phase_proxies() {
  local phase=$1
  shift
  stop_proxies
  start_proxy "pa-$phase" "$FERRY_TEST_S3_ENDPOINT" "$PORT_A" "$@"
  PORT_A=$PORT
  start_proxy "pb-$phase" "$FERRY_TEST_S3_ENDPOINT_B" "$PORT_B"
  PORT_B=$PORT
}
phase_proxies 0
cat >> "$CONF" <<TOML

[remotes.fa]
endpoint = "http://127.0.0.1:$PORT_A"
region = "${FERRY_TEST_S3_REGION:-region-a}"
access_key_id_env = "RA_KEY"
secret_access_key_env = "RA_SECRET"

[remotes.fb]
endpoint = "http://127.0.0.1:$PORT_B"
region = "${FERRY_TEST_S3_REGION_B:-region-b}"
access_key_id_env = "RB_KEY"
secret_access_key_env = "RB_SECRET"
TOML
echo "fault proxies: A on $PORT_A, B on $PORT_B (rate $RATE, kinds $KINDS, seed $SEED)"

# The source tree: N objects, mostly small; five multipart ones (one with a 1-byte last part);
# F of them under foreign/ (one multipart) that the aws CLI, not ferry, writes to A.
F=241
"$PY" - "$WORK/src" "$N" "$F" <<'PY'
import os, random, sys
root, n, foreign = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(11)
big = [12 << 20, (14 << 20) + 12345, (17 << 20) + 1, 20 << 20, (5 << 20) + 1]
for i in range(n):
    if i < len(big):
        path, size = "large/l%d.bin" % i, big[i]
    elif i == len(big):
        path, size = "foreign/big.bin", (17 << 20) + 3
    elif i < len(big) + foreign:
        path, size = "foreign/g%04d.dat" % i, rng.randrange(1, 16384)
    else:
        path = "d%02d/%s%04d.dat" % (i % 20, "f " if i % 97 == 0 else "f", i)
        size = 0 if i % 250 == 0 else rng.randrange(1, 16384)
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(rng.randbytes(size))
PY
# manifest DIR: "key size sha256" lines, sorted; ls_keys REMOTE:BUCKET: "key size" lines.
manifest() {
  "$PY" - "$1" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
out = []
for d, _, files in os.walk(root):
    for name in files:
        p = os.path.join(d, name)
        with open(p, "rb") as f:
            out.append("%s %d %s" % (os.path.relpath(p, root), os.path.getsize(p),
                                     hashlib.sha256(f.read()).hexdigest()))
print("\n".join(sorted(out)))
PY
}
ls_keys() {
  ferry ls "$1" --json | "$PY" -c '
import json, sys
print("\n".join(sorted("%s %d" % (o["key"], o["size"]) for o in map(json.loads, sys.stdin))))'
}
manifest "$WORK/src" > "$WORK/src.manifest"
"$PY" -c '
import sys
for l in open(sys.argv[1]): k, s, _ = l.rstrip("\n").rsplit(" ", 2); print(k, s)' \
  "$WORK/src.manifest" > "$WORK/src.keys"
check "source has $N files" [ "$(wc -l < "$WORK/src.manifest")" = "$N" ]

# phase_faults PHASE: prints the faults of one phase (both proxies, stopped), returns 1 when
# there were none.
phase_faults() {
  "$PY" - "$WORK/pa-$1.stats" "$WORK/pb-$1.stats" <<'PY'
import json, sys
t = {"requests": 0, "faults": 0, "flip_skipped": 0, "upstream_errors": 0}
kinds = {}
for path in sys.argv[1:]:
    s = json.load(open(path))
    for k in t:
        t[k] += s[k]
    for k, v in s["by_kind"].items():
        kinds[k] = kinds.get(k, 0) + v
print("  proxies: %d requests, %d faulted (%s), %d flips skipped, %d upstream errors" % (
    t["requests"], t["faults"], ", ".join("%s=%d" % kv for kv in sorted(kinds.items())),
    t["flip_skipped"], t["upstream_errors"]))
sys.exit(0 if t["faults"] > 0 else 1)
PY
}
equal() { [ "$1" = "$2" ] || { echo "    got '$1', want '$2'"; return 1; }; }
at_least() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] || { echo "    got '$1', want >= $2"; return 1; }; }
positive() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
# summary_ok COPIED MULTIPART: exit 0 and the JSON summary says COPIED objects were copied
# (MULTIPART of them in parts), none failed, and the retries the faults caused were counted.
summary_ok() {
  check "  exit 0" [ "$RC" = 0 ]
  if [ "$RC" != 0 ]; then tail -5 "$WORK/err" | sed 's/^/    /'; fi
  local ok copied failed multipart retries
  read -r ok copied failed multipart retries < <("$PY" - "$WORK/out" "$RETRIES_FIELD" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    d = {}
print(*(d.get(k, "-") for k in ("ok", "objects_copied", "objects_failed", "multipart_copies",
                                 sys.argv[2])))
for f in d.get("failures", [])[:5]:
    print("    failed:", f, file=sys.stderr)
for k in ("checksum_retries", "objects_unverified"):
    if k in d:
        print("    summary: %s=%s" % (k, d[k]), file=sys.stderr)
PY
  )
  check "  ok in JSON" equal "$ok" True
  check "  copied $1" equal "$copied" "$1"
  check "  none failed" equal "$failed" 0
  # multipart_copies counts started uploads: a faulted one started again counts twice
  check "  at least $2 multipart copies" at_least "$multipart" "$2"
  check "  summary counts retries ($RETRIES_FIELD=$retries)" positive "$retries"
}
# run_faulted PHASE WHAT COPIED MULTIPART SRC DST [OPTION...]: one sync through the proxies
# started for PHASE, JSON summary in $WORK/out.
run_faulted() {
  local phase=$1 what=$2 copied=$3 multipart=$4
  shift 4
  echo "$what"
  RC=0
  local start=$SECONDS
  timeout 200 "$FERRY_BIN" --config "$CONF" sync "$@" --json "${MP[@]}" \
    > "$WORK/out" 2> "$WORK/err" || RC=$?
  echo "  ferry took $((SECONDS - start)) s"
  stop_proxies
  check "  faults were injected" phase_faults "$phase"
  summary_ok "$copied" "$multipart"
}
aws_a() {
  AWS_ACCESS_KEY_ID=$RA_KEY AWS_SECRET_ACCESS_KEY=$RA_SECRET \
    AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION:-region-a} AWS_EC2_METADATA_DISABLED=true \
    AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT" "$@"
}
# same_lines FILE1 FILE2: equal, or prints how many lines differ and the first few.
same_lines() {
  diff "$1" "$2" > "$WORK/diff" && return 0
  echo "    $(grep -c '^[<>]' "$WORK/diff") lines differ (< got, > want), first:"
  grep '^[<>]' "$WORK/diff" | head -6 | sed 's/^/    /'
  return 1
}
# same_as_source DIR: byte-identical to the source tree, same keys.
same_as_source() {
  manifest "$1" > "$WORK/got.manifest"
  check "  same keys and bytes as the source" same_lines "$WORK/got.manifest" "$WORK/src.manifest"
  check "  diff -r" bash -c "diff -r -q '$WORK/src' '$1' > '$WORK/diff-r'"
}

A=$(new_bucket ra)
B=$(new_bucket rb)
run_faulted 0 "sync local -> A through the proxy" $((N - F)) 5 "$WORK/src" "fa:$A" \
  --exclude 'foreign/**'
check "write foreign/ to A with the aws CLI" aws_a s3 cp --quiet --recursive "$WORK/src/foreign" "s3://$A/foreign/"
ls_keys "ra:$A" > "$WORK/got.keys"
check "  A lists the source's keys and sizes" same_lines "$WORK/got.keys" "$WORK/src.keys"
check "  download A directly" ferry sync "ra:$A" "$WORK/check-a" --no-progress 2>/dev/null
same_as_source "$WORK/check-a"

# A byte flipped in a part of the aws-written multipart object (no ferry checksum, an ETag of
# another part size) is certain in the next two phases, whatever the draw.
FORCE=()
BIG_FLIPPED=(true)
if [[ ",$KINDS," == *,flip,* ]]; then
  FORCE=(--force 'flip:^GET /[^/]+/foreign/big\.bin ')
  BIG_FLIPPED=(grep -q $'^flip\tGET /[^/]*/foreign/big\\.bin ')
fi
phase_proxies 1 "${FORCE[@]}"
run_faulted 1 "sync A -> local through the proxy" "$N" 6 "fa:$A" "$WORK/back" "${FIXED[@]}"
check "  foreign/big.bin had a flipped byte" "${BIG_FLIPPED[@]}" "$WORK/pa-1.log"
same_as_source "$WORK/back"

phase_proxies 2 "${FORCE[@]}"
run_faulted 2 "sync A -> B across gateways, both through proxies" "$N" 6 "fa:$A" "fb:$B" \
  "${FIXED[@]}"
check "  foreign/big.bin had a flipped byte" "${BIG_FLIPPED[@]}" "$WORK/pa-2.log"
ls_keys "rb:$B" > "$WORK/got.keys"
check "  B lists the source's keys and sizes" same_lines "$WORK/got.keys" "$WORK/src.keys"
check "  download B directly" ferry sync "rb:$B" "$WORK/check-b" --no-progress 2>/dev/null
same_as_source "$WORK/check-b"

echo "fault counts per kind over the whole test:"
"$PY" - "$KINDS" "$WORK"/p[ab]-[0-9].stats <<'PY' | tee "$WORK/kinds"
import json, sys
total = {}
for path in sys.argv[2:]:
    for k, v in json.load(open(path))["by_kind"].items():
        total[k] = total.get(k, 0) + v
for k in sys.argv[1].split(","):
    print("  %-9s %d" % (k, total.get(k, 0)))
PY
while read -r kind count; do
  check "kind $kind happened" [ "$count" -gt 0 ]
done < "$WORK/kinds"
finish
