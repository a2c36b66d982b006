#!/usr/bin/env bash
# Benchmark: compressed cross-region transport, region A -> region B of a generated
# compressible corpus (CSV, JSON lines and log text in objects of mixed sizes, a few MiB-sized
# ones, BENCH_PCT_RANDOM % of already-compressed noise), three ways into fresh buckets of B:
#   ferry sync --compress --staging rb:STAGING   (pack near A, archives to B, unpack in B)
#   ferry sync                                   (plain: every object crosses as it is)
#   rclone copy
# Per row: wall s, CPU s (user + sys), peak RSS MiB, the bytes that crossed to B (what RGW's
# usage log counts as received by B's buckets that the copy writes from A: the staging bucket
# for --compress, the destination otherwise), the ratio of the corpus to them, and a check that
# the destination holds every object with the source's bytes (a sample read back).
#
#   bash bench/bench-transport.sh                      # 3,000 objects (~190 MiB)
#   BENCH_OBJECTS=300 bash bench/bench-transport.sh    # quick check of the harness
#
# Environment: BENCH_OBJECTS (3000), BENCH_PCT_RANDOM (5), BENCH_DIR (/tmp/ferry-bench),
#   FERRY_BIN (default: build Release into build-release/), the FERRY_TEST_S3_* pair or
#   scripts/rgw-start.sh, CEPH_CONF / FERRY_TEST_CEPH_CONF for the usage log. Prints a
#   markdown table on stdout. Not a test: the figures depend on the machine.
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

OBJECTS=${BENCH_OBJECTS:-3000}
PCT_RANDOM=${BENCH_PCT_RANDOM:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=ft$(date +%s)
log() { ferry_log bench "$@"; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/install-deps.sh build rgw bench
ensure_ferry_bin  # FERRY_BIN, or a Release build in build-release/ (bench/lib/measure.sh)

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/transport.XXXXXX")
buckets=()  # "a NAME" / "b NAME"
RGW_STARTED=0
cleanup() {
  local rc=$? b
  set +e
  if [ -n "${S3_ENDPOINT:-}" ]; then
    log "deleting the bench buckets"
    for b in "${buckets[@]}"; do drop_bucket $b; done
  fi
  rm -rf "$WORK"
  if [ "$RGW_STARTED" = 1 ] && [ "${BENCH_KEEP_RGW:-0}" != 1 ]; then bash scripts/rgw-stop.sh; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rgw_up
export_rclone_remotes
CONFIG=$WORK/ferry.toml
write_ferry_config "$CONFIG"
export_ferry_keys
RCLONE=(env -u AWS_CA_BUNDLE rclone)
bucket() { make_bucket "$1" "$2"; buckets+=("$1 $2"); }

# bytes_in ZONE BUCKET: bytes RGW's usage log says BUCKET received so far ("" if unknown)
bytes_in() {
  local conf=${FERRY_TEST_CEPH_CONF:-${CEPH_CONF:-}} uid=tester
  [ -n "$conf" ] && command -v radosgw-admin >/dev/null || return 0
  [ "$1" = a ] || uid=tester-$1
  radosgw-admin -c "$conf" --rgw-realm "realm-$1" --rgw-zonegroup "region-$1" \
    --rgw-zone "zone-$1" usage show --uid "$uid" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
n = 0
for e in d.get("entries", []):
    for b in e.get("buckets", []):
        if b.get("bucket") == sys.argv[1]:
            n += sum(c.get("bytes_received", 0) for c in b.get("categories", []))
print(n)' "$2"
}

# ------------------------------------------------------------------ source (not timed)
SRC=$ID-src
bucket a "$SRC"
log "generating $OBJECTS objects"
python3 - "$WORK/gen" "$OBJECTS" "$PCT_RANDOM" <<'PY'
import json, os, random, sys
d, n, pct = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(10)
os.makedirs(d)
cities = ["Zurich", "Basel", "Geneva", "Bern", "Lugano", "Chur", "Sion", "Aarau"]
def csv(size):
    rows, n = ["id,ts,city,amount,status,user_agent"], 0
    while n < size:
        rows.append("%d,2026-11-%02dT%02d:%02d:%02dZ,%s,%.2f,%s,Mozilla/5.0 (X11; Linux x86_64)"
                    % (random.randint(1, 10**9), random.randint(1, 28), random.randint(0, 23),
                       random.randint(0, 59), random.randint(0, 59), random.choice(cities),
                       random.random() * 1000, random.choice(["ok", "refunded", "failed"])))
        n += len(rows[-1]) + 1
    return "\n".join(rows).encode()
def jsonl(size):
    out, n = [], 0
    while n < size:
        out.append(json.dumps({"id": random.randint(1, 10**6), "city": random.choice(cities),
                               "tags": random.sample(cities, 3), "score": random.random()}))
        n += len(out[-1]) + 1
    return "\n".join(out).encode()
def logs(size):
    out, n = [], 0
    while n < size:
        out.append("2026-11-22 %02d:%02d:%02d INFO worker-%d request id=%08x path=/api/v1/items/%d status=200 ms=%d"
                   % (random.randint(0, 23), random.randint(0, 59), random.randint(0, 59),
                      random.randint(1, 16), random.getrandbits(32), random.randint(1, 99999),
                      random.randint(1, 900)))
        n += len(out[-1]) + 1
    return "\n".join(out).encode()
for i in range(n):
    size = random.choice([2, 8, 16, 32, 64, 128]) * 1024
    if i % 200 == 199:
        size = 8 << 20
    kind = i % 3
    if random.randint(1, 100) <= pct:
        body, ext = os.urandom(size), "bin"
    else:
        body, ext = ([csv, jsonl, logs][kind](size))[:size], ["csv", "json", "log"][kind]
    sub = os.path.join(d, "part%02d" % (i % 20))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "obj%06d.%s" % (i, ext)), "wb") as f:
        f.write(body)
PY
CORPUS=$(find "$WORK/gen" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
"$FERRY_BIN" --config "$CONFIG" cp "$WORK/gen" "ra:$SRC" --no-progress >&2
rm -rf "$WORK/gen"
log "corpus: $OBJECTS objects, $CORPUS bytes"

R_ROWS=()
row() { # tool crossed_bucket dst_bucket
  local crossed=$1 check
  local got
  got=$(count_objects b "$3")
  check=ok
  [ "$got" = "$OBJECTS" ] || check="FAIL ($got objects)"
  if [ "$check" = ok ]; then
    local k
    k=$(aws_a s3 ls --recursive "s3://$SRC" | awk 'NR % 97 == 1 { print $4 }' | head -5)
    for key in $k; do
      cmp -s <(aws_a s3 cp "s3://$SRC/$key" - 2>/dev/null) \
        <(aws_b s3 cp "s3://$3/$key" - 2>/dev/null) || check="FAIL (bytes of $key)"
    done
  fi
  local ratio_s=n/a crossed_s=n/a
  if [ -n "$crossed" ]; then
    crossed_s=$crossed
    ratio_s=$(ratio "$CORPUS" "$crossed")
  fi
  R_ROWS+=("| $2 | $T_WALL | $T_CPU | $((T_RSS / 1024)) | $crossed_s | $ratio_s | $check |")
}

DC=$ID-dst-compress STG=$ID-staging
bucket b "$DC"
bucket b "$STG"
log "ferry sync --compress"
timed "$WORK/compress.log" "$FERRY_BIN" --config "$CONFIG" sync "ra:$SRC" "rb:$DC" --compress \
  --staging "rb:$STG/st" --json --no-progress || true
sleep 2  # RGW's usage log flushes every second
row "$(bytes_in b "$STG")" "ferry sync --compress" "$DC"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["transport"]; print("  archives %d, bytes in %d, on the wire %d (ratio %.2f)" % (t["archives"], t["bytes_in"], t["bytes_wire"], t["ratio"]))' "$WORK/compress.log" >&2 || true

DP=$ID-dst-plain
bucket b "$DP"
log "ferry sync (plain)"
timed "$WORK/plain.log" "$FERRY_BIN" --config "$CONFIG" sync "ra:$SRC" "rb:$DP" --no-progress || true
sleep 2
row "$(bytes_in b "$DP")" "ferry sync" "$DP"

DR=$ID-dst-rclone
bucket b "$DR"
log "rclone copy"
timed "$WORK/rclone.log" "${RCLONE[@]}" copy "ra:$SRC" "rb:$DR" --transfers 32 --checkers 32 || true
sleep 2
row "$(bytes_in b "$DR")" "rclone copy" "$DR"

echo
echo "compressed transport, $OBJECTS objects ($CORPUS bytes, $PCT_RANDOM% random), region A -> region B ($(date -u +%F))"
echo
echo "| tool | wall s | CPU s | peak RSS MiB | bytes crossed to B | corpus / crossed | check |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${R_ROWS[@]}"
for r in "${R_ROWS[@]}"; do case "$r" in *FAIL*) exit 1 ;; esac; done
