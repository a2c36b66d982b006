#!/usr/bin/env bash
# Benchmark: what stamping a large write costs at the destination (issue 43 §1.14), RGW pair,
# in ONE run. Until the fix, a chunked write whose CRC32C ferry learnt while streaming (a source
# that declares none: objects uploaded in parts by another tool) was completed and then copied
# onto itself (CopyObject, metadata REPLACE, pinned to the completed version) to record
# x-amz-meta-ferry-crc32c; on a versioned bucket the completed version was then deleted.
#
#   bash bench/bench-stamp.sh                      # 4 x 64 MiB
#   BENCH_N=2 BENCH_MB=16 bash bench/bench-stamp.sh
#
# Source (uploaded once into region A by the AWS CLI, in 8 MiB parts: multipart ETags, no
# ferry-crc32c): BENCH_N objects of BENCH_MB MiB. Measured for an unversioned and a versioned
# bucket in region B:
#   write   ferry sync ra:SRC rb:DST (the ferry under test: since the fix, no stamp), and the
#           same with BENCH_FERRY_BEFORE when given (a ferry built before the fix: its stamp)
#   stamp   the stamp as the old commit made it, for every object: CopyObject of the object
#           onto itself with REPLACE and the ferry-* metadata, pinned to its version and ETag;
#           on the versioned bucket a HEAD for the copy's version and the DeleteObject of the
#           completed version
# For each: wall time, RGW's usage log for the destination bucket (requests by category, bytes
# received), and what the bucket holds in RADOS (objects and bytes of the data pool under the
# bucket's marker: whether RGW copied the data or only the manifest), then per object byte.
#
# Environment: BENCH_N (default 4), BENCH_MB (default 64), BENCH_DIR (default /tmp/ferry-bench),
#   BENCH_FERRY_BEFORE (optional: another ferry binary measured beside FERRY_BIN),
#   FERRY_BIN (default: build Release into build-release/), FERRY_TEST_S3_* and
#   FERRY_TEST_CEPH_CONF (that RGW pair; the usage log must be on, as the test pair runs it).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

N=${BENCH_N:-4}
MB=${BENCH_MB:-64}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
CEPH=${FERRY_TEST_CEPH_CONF:-${CEPH_CONF:-}}
ID=fs$(date +%s)
log() { ferry_log bench-stamp "$@"; }
die() { log "ERROR: $*"; exit 1; }
[ -n "$CEPH" ] || die "FERRY_TEST_CEPH_CONF (or CEPH_CONF) is needed for RGW's usage log"
ensure_ferry_bin

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/stamp.XXXXXX")
buckets_a=()
buckets_b=()
cleanup() {
  local rc=$?
  set +e
  for b in "${buckets_b[@]}"; do purge_bucket b "$b"; done
  for b in "${buckets_a[@]}"; do drop_bucket a "$b"; done
  if [ "$rc" = 0 ]; then rm -rf "$WORK"; else log "logs kept in $WORK"; fi
}
trap cleanup EXIT
rgw_up || die "no RGW pair"
CONFIG=$WORK/ferry.toml
write_ferry_config "$CONFIG"
export_ferry_keys
radmin_b() {
  radosgw-admin -c "$CEPH" --rgw-realm realm-b --rgw-zonegroup region-b --rgw-zone zone-b "$@"
}

# usage BUCKET: "category ops bytes_received" lines of zone B's usage log for BUCKET
usage() {
  radmin_b usage show --uid tester-b 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin); c = {}
for e in d.get("entries", []):
    for b in e.get("buckets", []):
        if b.get("bucket") == sys.argv[1]:
            for x in b.get("categories", []):
                o, r = c.get(x["category"], (0, 0))
                c[x["category"]] = (o + x.get("ops", 0), r + x.get("bytes_received", 0))
for k in sorted(c):
    print(k, *c[k])' "$1"
}
# flushed BUCKET: one get_bucket_location of BUCKET (left out of the figures), then waits (at most 60 s) until the usage
# log counts it: RGW flushes its records in order, so everything before it is counted then
flushed() {
  local before
  before=$(usage "$1" | awk '$1 == "get_bucket_location" { print $2 }')
  aws_b s3api get-bucket-location --bucket "$1" >/dev/null
  for _ in $(seq 1 600); do
    [ "$(usage "$1" | awk '$1 == "get_bucket_location" { print $2 }')" != "${before:-}" ] && return 0
    sleep 0.1
  done
  die "the usage log of $1 did not catch up in 60 s"
}
# rados_size BUCKET: "objects bytes" the data pool holds under the bucket's marker
rados_size() {
  local marker
  marker=$(radmin_b bucket stats --bucket "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["marker"])')
  rados -c "$CEPH" -p zone-b.rgw.buckets.data ls 2>/dev/null | { grep -F "${marker}_" || true; } \
    | while read -r o; do rados -c "$CEPH" -p zone-b.rgw.buckets.data stat "$o" 2>/dev/null; done \
    | awk '{ n++; b += $NF } END { printf "%d %d\n", n, b }'
}
# delta BEFORE AFTER: usage lines of AFTER minus BEFORE ("category ops bytes"), changed only
delta() {
  join -a 2 -e 0 -o 0,1.2,1.3,2.2,2.3 <(sort "$1") <(sort "$2") \
    | awk '$4 - $2 != 0 || $5 - $3 != 0 { print $1, $4 - $2, $5 - $3 }'
}

# ------------------------------------------------------------------ source (not timed)
SRC=$ID-src
make_bucket a "$SRC"; buckets_a+=("$SRC")
mkdir -p "$WORK/gen"
for i in $(seq 1 "$N"); do head -c $((MB * 1024 * 1024)) /dev/urandom > "$WORK/gen/big-$i.bin"; done
log "uploading $N x $MB MiB to ra:$SRC (AWS CLI, 8 MiB parts)"
aws_a s3 cp "$WORK/gen" "s3://$SRC/" --recursive >/dev/null
rm -rf "$WORK/gen"
OBJ_BYTES=$((N * MB * 1024 * 1024))

REPORT=$WORK/report.txt
: > "$REPORT"
phase() {  # NAME BUCKET WALL USAGE_BEFORE USAGE_AFTER RADOS_BEFORE RADOS_AFTER
  local reqs bytes
  {
    echo "$2 $1: wall $3 s; RADOS objects/bytes under the bucket: $6 -> $7"
    delta "$4" "$5" | grep -v '^get_bucket_location ' | awk -v ob="$OBJ_BYTES" '
      { printf "  %-22s %6d requests %12d bytes received\n", $1, $2, $3; n += $2; b += $3 }
      END { printf "  total %d requests (%.3f per MiB of objects), %d bytes received (%.3fx the objects)\n",
            n, n / (ob / 1048576), b, b / ob }'
  } | tee -a "$REPORT" >&2
}

for kind in plain versioned; do
  for tool in ferry-before ferry; do
    bin=$FERRY_BIN
    if [ "$tool" = ferry-before ]; then
      [ -n "${BENCH_FERRY_BEFORE:-}" ] || continue
      bin=$BENCH_FERRY_BEFORE
    fi
    DST=$ID-$kind-$tool
    make_bucket b "$DST"; buckets_b+=("$DST")
    [ "$kind" = versioned ] && aws_b s3api put-bucket-versioning --bucket "$DST" \
      --versioning-configuration Status=Enabled
    flushed "$DST"; usage "$DST" > "$WORK/u0"; r0=$(rados_size "$DST")
    log "$kind: $tool sync ra:$SRC -> rb:$DST"
    t0=$(date +%s.%N)
    "$bin" --config "$CONFIG" sync "ra:$SRC" "rb:$DST" --no-progress --no-state \
      > "$WORK/sync-$kind.log" 2>&1 || die "sync failed: $(tail -3 "$WORK/sync-$kind.log")"
    wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    flushed "$DST"; usage "$DST" > "$WORK/u1"; r1=$(rados_size "$DST")
    phase "write ($tool sync)" "$DST" "$wall" "$WORK/u0" "$WORK/u1" "$r0" "$r1"
  done

  log "$kind: the stamp, as the old commit made it, of each object"
  t0=$(date +%s.%N)
  for i in $(seq 1 "$N"); do
    key=big-$i.bin
    head=$(aws_b s3api head-object --bucket "$DST" --key "$key" --output json)
    read -r etag version < <(python3 -c 'import json,sys; h=json.loads(sys.argv[1]); print(h["ETag"].strip("\""), h.get("VersionId") or "null")' "$head")
    meta=$(python3 -c 'import json,sys; m=json.loads(sys.argv[1]).get("Metadata", {}); m["ferry-crc32c"]="0badf00d"; print(json.dumps(m))' "$head")
    source="$DST/$key"; [ "$version" != null ] && source="$source?versionId=$version"
    aws_b s3api copy-object --bucket "$DST" --key "$key" --copy-source "$source" \
      --copy-source-if-match "\"$etag\"" --metadata-directive REPLACE --metadata "$meta" >/dev/null
    if [ "$version" != null ]; then
      aws_b s3api head-object --bucket "$DST" --key "$key" >/dev/null  # the copy's version
      aws_b s3api delete-object --bucket "$DST" --key "$key" --version-id "$version" >/dev/null
    fi
  done
  wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  flushed "$DST"; usage "$DST" > "$WORK/u2"; r2=$(rados_size "$DST")
  # the stamp's requests without this script's HEADs of the sources' metadata (ferry had it)
  # (its wall time is the AWS CLI's, a process per request: not comparable with ferry's)
  phase "stamp (CopyObject REPLACE onto itself$([ "$kind" = versioned ] && echo ', HEAD, DeleteObject of the completed version'); AWS CLI" \
    "$DST" "$wall" "$WORK/u1" "$WORK/u2" "$r1" "$r2"
done
echo "== $N x $MB MiB, ferry $("$FERRY_BIN" --version 2>/dev/null | head -1)"
cat "$REPORT"
