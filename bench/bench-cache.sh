#!/usr/bin/env bash
# Benchmark: `ferry cache warm`, region A -> region B on one RGW pair, in ONE run.
#
#   bash bench/bench-cache.sh                                   # full: 3 x 10,000 x 4 KiB, 20 x 64 MiB
#   BENCH_SMALL_N=500 BENCH_BIG_N=2 bash bench/bench-cache.sh  # quick check of the harness
#
# Source (uploaded once into region A with rclone, not timed): BENCH_SMALL_N objects of 4 KiB
# under each of p0/ p1/ p2/, and BENCH_BIG_N objects of 64 MiB under big/. Measured, each into a
# fresh bucket in region B:
#   warm     ferry cache warm ra:SRC --prefix p0/ --prefix p1/ --prefix p2/ --prefix big/ --ttl 24h
#   rewarm   the same request again: everything cached and unchanged (listings only)
#   ferry    ferry sync ra:SRC rb:DST (its defaults)
#   rclone   rclone copy ra:SRC rb:DST --transfers 32 --checkers 32
# Wall/CPU/peak RSS as bench-sync.sh (bench/lib/measure.sh), and for warm and rewarm the S3
# requests by operation from ferry's --metrics-file (the source only reads, the cache only
# writes, so reads per object are the source's and writes per object the cache's). Goal: one
# read and one write per object not cached (a 64 MiB object is 4 parts of 16 MiB: 4 ranged
# GETs, 4 UploadParts + create/complete), none when cached.
#
# Environment: BENCH_SMALL_N (default 10000), BENCH_BIG_N (default 20), BENCH_DIR (default
#   /tmp/ferry-bench), FERRY_BIN (default: build Release into build-release/), FERRY_TEST_S3_*
#   (use that RGW pair; otherwise scripts/rgw-start.sh starts one).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

SMALL_N=${BENCH_SMALL_N:-10000}
SMALL_KB=4
BIG_N=${BENCH_BIG_N:-20}
BIG_MB=64
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=fc$(date +%s)

log() { ferry_log bench-cache "$@"; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/install-deps.sh build rgw bench
ensure_ferry_bin  # FERRY_BIN, or a Release build in build-release/ (bench/lib/measure.sh)

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/cache.XXXXXX")
buckets_a=()
buckets_b=()
RGW_STARTED=0
cleanup() {
  local rc=$?
  set +e
  if [ -n "${S3_ENDPOINT:-}" ]; then
    log "deleting the bench buckets"
    for b in "${buckets_b[@]}"; do drop_bucket b "$b"; done
    for b in "${buckets_a[@]}"; do drop_bucket a "$b"; done
  fi
  if [ "$rc" = 0 ]; then rm -rf "$WORK"; else log "logs kept in $WORK"; fi
  if [ "$RGW_STARTED" = 1 ]; then bash scripts/rgw-stop.sh; fi
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
size_of() {
  "${RCLONE[@]}" size --json --fast-list "$1" \
    | sed -n 's/.*"count":\([0-9]*\).*"bytes":\([0-9]*\).*/\1 \2/p'
}

# ------------------------------------------------------------------ source (not timed)
SRC=$ID-src
make_bucket a "$SRC"; buckets_a+=("$SRC")
log "generating 3 x $SMALL_N x $SMALL_KB KiB and $BIG_N x $BIG_MB MiB"
for p in p0 p1 p2; do
  mkdir -p "$WORK/gen/$p"
  head -c $((SMALL_N * SMALL_KB * 1024)) /dev/urandom \
    | split -b $((SMALL_KB * 1024)) -a 6 -d - "$WORK/gen/$p/obj-"
done
mkdir -p "$WORK/gen/big"
for i in $(seq 1 "$BIG_N"); do
  head -c $((BIG_MB * 1024 * 1024)) /dev/urandom > "$WORK/gen/big/big-$i.bin"
done
log "uploading them to ra:$SRC (rclone)"
"${RCLONE[@]}" copy "$WORK/gen" "ra:$SRC" --transfers 32 --checkers 32 >&2
rm -rf "$WORK/gen"
read -r COUNT BYTES < <(size_of "ra:$SRC")
[ "$COUNT" = $((3 * SMALL_N + BIG_N)) ] || die "source has $COUNT objects"

# ------------------------------------------------------------------ measuring
R_GROUP=() R_TOOL=() R_WALL=() R_CPU=() R_RSS=() R_CHECK=()
record() {  # NAME WALL CPU RSS_KIB DST RC
  local check=ok count bytes
  if [ "$6" != 0 ]; then
    check="FAIL (exit $6)"
  else
    read -r count bytes < <(size_of "rb:$5")
    if [ "$count" != "$COUNT" ] || [ "$bytes" != "$BYTES" ]; then
      check="FAIL ($count objects, $bytes bytes)"
    fi
  fi
  R_GROUP+=("copy $COUNT objects") R_TOOL+=("$1") R_WALL+=("$2") R_CPU+=("$3")
  R_RSS+=("$(( $4 / 1024 ))") R_CHECK+=("$check")
  log "$1: wall $2 s, CPU $3 s, peak RSS $(( $4 / 1024 )) MiB, check: $check"
}
# ops FILE: "operation count" lines summed over statuses
ops() {
  sed -n 's/^ferry_s3_requests_total{operation="\([A-Za-z0-9]*\)",status="[^"]*"} \([0-9]*\)$/\1 \2/p' "$1" \
    | awk '{ n[$1] += $2 } END { for (o in n) print o, n[o] }' | sort
}

CACHE=$ID-cache
make_bucket b "$CACHE"; buckets_b+=("$CACHE")
for run in warm rewarm; do
  log "$run: ra:$SRC -> rb:$CACHE"
  rc=0
  timed "$WORK/$run.log" "$FERRY_BIN" --config "$CONFIG" --metrics-file "$WORK/$run.prom" \
    cache warm "ra:$SRC" --prefix p0/ --prefix p1/ --prefix p2/ --prefix big/ \
    --cache "rb:$CACHE" --ttl 24h --state "$WORK/cache.db" --json || rc=$?
  record "ferry cache $run" "$T_WALL" "$T_CPU" "$T_RSS" "$CACHE" "$rc"
done
DST=$ID-sync
make_bucket b "$DST"; buckets_b+=("$DST")
log "ferry sync: ra:$SRC -> rb:$DST"
rc=0; timed "$WORK/sync.log" "$FERRY_BIN" --config "$CONFIG" sync "ra:$SRC" "rb:$DST" \
  --no-progress --state "$WORK/sync.db" || rc=$?
record "ferry sync" "$T_WALL" "$T_CPU" "$T_RSS" "$DST" "$rc"
DST=$ID-rclone
make_bucket b "$DST"; buckets_b+=("$DST")
log "rclone copy: ra:$SRC -> rb:$DST"
rc=0; timed "$WORK/rclone.log" "${RCLONE[@]}" copy "ra:$SRC" "rb:$DST" --transfers 32 \
  --checkers 32 || rc=$?
record "rclone copy" "$T_WALL" "$T_CPU" "$T_RSS" "$DST" "$rc"

# ------------------------------------------------------------------ report
echo
echo "RGW A -> B on $(nproc) cores$(server_setup); $("$FERRY_BIN" --version); $(date -u +%F);" \
  "3 × $SMALL_N × $SMALL_KB KiB + $BIG_N × $BIG_MB MiB"
echo
echo "| run | wall s | CPU s | peak RSS MiB | check |"
echo "|---|---:|---:|---:|---|"
for i in "${!R_TOOL[@]}"; do
  echo "| ${R_TOOL[$i]} | ${R_WALL[$i]} | ${R_CPU[$i]} | ${R_RSS[$i]} | ${R_CHECK[$i]} |"
done
echo
echo "S3 requests of ferry cache warm ($COUNT objects; per object in brackets):"
echo
echo "| operation | warm | rewarm |"
echo "|---|---:|---:|"
join -a1 -a2 -e 0 -o 0,1.2,2.2 <(ops "$WORK/warm.prom") <(ops "$WORK/rewarm.prom") \
  | while read -r op a b; do
      printf '| %s | %s (%s) | %s (%s) |\n' "$op" "$a" "$(ratio "$a" "$COUNT")" "$b" "$(ratio "$b" "$COUNT")"
    done
echo
# the warm's own count of state database transactions (claims and records are batched)
for run in warm rewarm; do
  n=$(sed -n 's/.*"index_transactions":\([0-9]*\).*/\1/p' "$WORK/$run.log" | tail -n 1)
  echo "Index transactions of ferry cache $run: ${n:-?} for $COUNT objects"
done
for i in "${!R_CHECK[@]}"; do [ "${R_CHECK[$i]}" = ok ] || exit 1; done
