#!/usr/bin/env bash
# Benchmark and proof: one large object of a durable run over two `ferry worker` processes as
# part jobs (--part-jobs-min-parts, docs/design/part-jobs.md), RGW A -> RGW B, one of them
# SIGKILLed mid-object. Issue 46 §3's proof at its size (4 GiB by default); the CLI test
# tests/cli/part_jobs_test.sh proves the same at 100 MiB on every CI run.
#
# Rows, each the same object into its own bucket at B:
#   ferry 1 worker     `ferry cp --state` (durable, no part jobs): the object's own job sends
#                      every part
#   ferry 2 workers    `--part-jobs-min-parts 8 --detach` + two `ferry worker`; worker 1 is
#   killed             SIGKILLed once BENCH_KILL_AT % of the parts are checkpointed; worker 2
#                      finishes
#   rclone             `rclone copyto` of the object (the peer: one process, its own part
#                      concurrency)
# For each: wall, the CPU of the ferry/rclone processes, the gateways' CPU meanwhile, the part
# uploads (put_obj) and bytes RGW B's usage log counted for the bucket, as a ratio to the
# object's, and the destination's ETag against the source's.
#
#   bash bench/bench-part-jobs.sh                         # 4 GiB, 16 MiB parts
#   BENCH_SIZE_MIB=512 bash bench/bench-part-jobs.sh      # quick
# Environment: BENCH_SIZE_MIB (4096), BENCH_PART_MIB (16), BENCH_KILL_AT (30),
#   FERRY_BIN (default: Release build in build-release/), BENCH_DIR (/tmp/ferry-bench),
#   FERRY_TEST_S3_* (use those gateways; else scripts/rgw-start.sh with the usage log on).
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"
SIZE_MIB=${BENCH_SIZE_MIB:-4096}
PART_MIB=${BENCH_PART_MIB:-16}
KILL_AT=${BENCH_KILL_AT:-30}
PARTS=$(( (SIZE_MIB + PART_MIB - 1) / PART_MIB ))
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=pj$(date +%s)
log() { ferry_log bench-part-jobs "$@"; }
die() { log "$*"; exit 1; }

bash scripts/install-deps.sh build rgw bench >/dev/null
if [ -z "${FERRY_BIN:-}" ]; then FERRY_BIN=$(build_release_ferry); fi
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/part-jobs.XXXXXX")
buckets_a=(); buckets_b=(); RGW_STARTED=0; PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for b in "${buckets_b[@]}"; do drop_bucket b "$b"; done
  for b in "${buckets_a[@]}"; do drop_bucket a "$b"; done
  rm -rf "$WORK"
  [ "$RGW_STARTED" = 1 ] && bash scripts/rgw-stop.sh
}
trap cleanup EXIT
rgw_up
CONF=$WORK/ferry.toml
write_ferry_config "$CONF"
export_ferry_keys
export_rclone_remotes
ferry() { "$FERRY_BIN" --config "$CONF" "$@"; }
CEPH_CONF=${CEPH_CONF:-${FERRY_TEST_CEPH_CONF:-}}

# usage_b BUCKET: "PUT_OBJ_OPS BYTES_RECEIVED" RGW B's usage log counted for BUCKET
usage_b() {
  [ -n "$CEPH_CONF" ] || { echo "n/a n/a"; return; }
  radosgw-admin -c "$CEPH_CONF" --rgw-realm realm-b --rgw-zonegroup region-b --rgw-zone zone-b \
    usage show --uid tester-b 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
ops = got = 0
for e in d.get("entries", []):
    for b in e.get("buckets", []):
        if b.get("bucket") == sys.argv[1]:
            for c in b.get("categories", []):
                got += c.get("bytes_received", 0)
                if c.get("category") == "put_obj":
                    ops += c.get("ops", 0)
print(ops, got)' "$1"
}
# usage_settled BUCKET: the usage log of BUCKET at B, once two reads a few seconds apart agree
# (RGW flushes it in the background)
usage_settled() {
  local a b i
  a=$(usage_b "$1")
  for i in $(seq 1 20); do
    sleep 3
    b=$(usage_b "$1")
    [ "$a" = "$b" ] && { echo "$b"; return; }
    a=$b
  done
  echo "$b"
}
etag() { ferry ls --json "$1" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["etag"])'; }

SRC=$ID-src
make_bucket a "$SRC"; buckets_a+=("$SRC")
log "uploading one object of $SIZE_MIB MiB in $PARTS parts of $PART_MIB MiB to A (not timed)"
mkdir -p "$WORK/up"
head -c $((SIZE_MIB << 20)) /dev/urandom > "$WORK/up/big.bin"
ferry cp "$WORK/up" "ra:$SRC" --part-size "${PART_MIB}MiB" --no-progress --no-state >/dev/null
rm -rf "$WORK/up"
SRC_ETAG=$(etag "ra:$SRC")
BYTES=$((SIZE_MIB << 20))

R_GROUP=(); R_TOOL=(); R_WALL=(); R_CPU=(); R_RSS=(); R_SRV=(); R_CHECK=(); NOTES=()
# record TOOL BUCKET: a row from T_* and the destination's state
record() {
  local tool=$1 bucket=$2 check=ok ops got dst_etag
  dst_etag=$(etag "rb:$bucket" 2>/dev/null || echo none)
  [ "$dst_etag" = "$SRC_ETAG" ] || [ "$tool" = rclone ] || check="ETag $dst_etag != $SRC_ETAG"
  [ "$dst_etag" != none ] || check="no object at B"
  read -r ops got < <(usage_settled "$bucket")
  R_GROUP+=("${SIZE_MIB} MiB"); R_TOOL+=("$tool"); R_WALL+=("$T_WALL"); R_CPU+=("$T_CPU")
  R_RSS+=("$((T_RSS / 1024))"); R_SRV+=("$T_SERVERS"); R_CHECK+=("$check")
  NOTES+=("$tool: $ops part/object PUTs at B for $PARTS parts; bytes received at B $(ratio "$got" "$BYTES")x the object")
}

# 1. one durable process, no part jobs
B1=$ID-one; make_bucket b "$B1"; buckets_b+=("$B1")
log "ferry cp --state, one process"
timed "$WORK/one.log" "$FERRY_BIN" --config "$CONF" cp "ra:$SRC" "rb:$B1" --state "$WORK/one.db" \
  --part-size "${PART_MIB}MiB" --no-progress || die "ferry cp failed"
record ferry "$B1"

# 2. part jobs over two workers, one killed
B2=$ID-two; make_bucket b "$B2"; buckets_b+=("$B2")
STATE=$WORK/two.db
ferry cp "ra:$SRC" "rb:$B2" --state "$STATE" --part-size "${PART_MIB}MiB" \
  --part-jobs-min-parts 8 --detach --no-progress >/dev/null 2>&1
checkpointed() { python3 -c "import sqlite3; print(sqlite3.connect('file:$STATE?mode=ro', uri=True, timeout=5).execute('SELECT COUNT(*) FROM part_checkpoints').fetchone()[0])" 2>/dev/null || echo 0; }
log "two ferry workers on part jobs; worker 1 SIGKILLed at $KILL_AT% of the parts"
settle
ticks_before=$(server_ticks)
start=$(date +%s.%N)
/usr/bin/time -f "%e %U %S %M" -o "$WORK/w1.time" "$FERRY_BIN" --config "$CONF" -v worker \
  --state "$STATE" --run 1 --until-done --lease-ttl 5 2> "$WORK/w1.err" & W1=$!; PIDS+=("$W1")
/usr/bin/time -f "%e %U %S %M" -o "$WORK/w2.time" "$FERRY_BIN" --config "$CONF" -v worker \
  --state "$STATE" --run 1 --until-done --lease-ttl 5 2> "$WORK/w2.err" & W2=$!; PIDS+=("$W2")
# /usr/bin/time's child is ferry: kill that one (the time process then reports nothing)
ferry_of() { pgrep -P "$1" -x ferry; }
while [ "$(checkpointed)" -lt $((PARTS * KILL_AT / 100)) ]; do
  kill -0 "$W1" 2>/dev/null || break
  sleep 0.5
done
at_kill=$(checkpointed)
W1_FERRY=$(ferry_of "$W1" || true)
w1_cpu=0
if [ -n "$W1_FERRY" ]; then
  w1_cpu=$(awk -v h="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / h }' "/proc/$W1_FERRY/stat")
  kill -9 "$W1_FERRY"
fi
wait "$W1" 2>/dev/null || true
rc=0; wait "$W2" || rc=$?
end=$(date +%s.%N)
[ "$rc" = 0 ] || { tail -n 20 "$WORK/w2.err" >&2; die "worker 2 failed ($rc)"; }
T_WALL=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
read -r _ u2 s2 T_RSS < <(tail -n 1 "$WORK/w2.time")
T_CPU=$(awk -v a="$w1_cpu" -v u="$u2" -v s="$s2" 'BEGIN { printf "%.2f", a + u + s }')
T_SERVERS=$(awk -v a="$ticks_before" -v b="$(server_ticks)" -v h="$(getconf CLK_TCK)" \
  'BEGIN { printf "%.2f", (b - a) / h }')
record "ferry 2 workers, 1 killed" "$B2"
NOTES+=("killed worker 1 with $at_kill of $PARTS parts checkpointed; ranges sent: worker 1 $(grep -c 'parts sent' "$WORK/w1.err" || true), worker 2 $(grep -c 'parts sent' "$WORK/w2.err" || true)")

# 3. the peer
B3=$ID-rclone; make_bucket b "$B3"; buckets_b+=("$B3")
log "rclone copyto"
timed "$WORK/rclone.log" env -u AWS_CA_BUNDLE rclone copyto "ra:$SRC/big.bin" "rb:$B3/big.bin" \
  --s3-chunk-size "${PART_MIB}M" --s3-upload-cutoff "${PART_MIB}M" || die "rclone failed"
record rclone "$B3"

echo
echo "### One object of $SIZE_MIB MiB ($PARTS parts of $PART_MIB MiB), RGW A -> RGW B$(server_setup)"
echo
echo "| object | tool | wall s | CPU s | peak RSS MiB | gateways' CPU s | wall / ferry | CPU / ferry | check |"
echo "|---|---|---|---|---|---|---|---|---|"
report_rows
echo
for n in "${NOTES[@]}"; do echo "- $n"; done
[ "$FAILURES" = 0 ] || die "$FAILURES row(s) failed their check"
