#!/usr/bin/env bash
# Benchmark: what one key costs when a run is planned from two S3 Inventories (issue 45 §3),
# at 10^5, 10^6 and 10^7 keys, on this machine, in ONE run; results in docs/design/scale.md.
#
#   bash bench/bench-scale.sh                       # 100000 1000000 10000000 keys
#   BENCH_SCALE_SIZES="100000" bash bench/bench-scale.sh
#
# For each size N, two inventories in the AWS layout (tests/tools/make_inventory.py, CSV.gz in
# files of 10^6 rows, local copies: no GET of them is timed) of buckets that hold nothing:
#   source       N keys k/000000000 ... with sizes and MD5-like ETags
#   destination  the same keys written an hour later, the ETags of 1% of them differing, and
#                0.1% of the keys extra (destination-only: deletes for sync --delete)
# and per size, timed with /usr/bin/time (wall, user+sys CPU, peak RSS):
#   plan-equal   `ferry sync --dry-run --delete` against a destination inventory whose rows all
#                say equal (the same keys and ETags, written an hour after the source's): the
#                merge and the comparison alone, no request
#   plan-diff    the same against the destination inventory: the plan, plus the HEADs a key to
#                write or delete costs first (both sides; the buckets are empty, so each key to
#                write is "gone since the inventory" and no delete happens: the requests are
#                what is measured)
#   floor        zcat of both inventories' data files piped into `sort -m` on the key column:
#                reading and merging the same bytes, nothing decided
# Keys/s = N / wall. Prints a markdown table on stdout, progress on stderr.
#
# Environment: BENCH_SCALE_SIZES, BENCH_DIR (default /tmp/ferry-bench-scale; the generated
#   inventories are kept there and reused), FERRY_BIN (default build/src/cli/ferry),
#   FERRY_TEST_S3_* (the gateway the empty buckets are on: RGW gateway A of scripts/rgw-start.sh).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"

SIZES=${BENCH_SCALE_SIZES:-100000 1000000 10000000}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench-scale}
FERRY_BIN=${FERRY_BIN:-$FERRY_ROOT/build/src/cli/ferry}
WORK=$BENCH_DIR/work
mkdir -p "$WORK"
log() { ferry_log bench-scale "$@"; }
die() { log "ERROR: $*"; exit 1; }
[ -x "$FERRY_BIN" ] || die "no ferry at $FERRY_BIN"
: "${FERRY_TEST_S3_ENDPOINT:?FERRY_TEST_S3_ENDPOINT not set: start scripts/rgw-start.sh and export its FERRY_TEST_S3_*}"
export BENCH_KEY=$FERRY_TEST_S3_ACCESS_KEY BENCH_SECRET=$FERRY_TEST_S3_SECRET_KEY
CONFIG=$WORK/ferry.toml
cat > "$CONFIG" <<TOML
[remotes.ra]
endpoint = "$FERRY_TEST_S3_ENDPOINT"
region = "${FERRY_TEST_S3_REGION:-region-a}"
access_key_id_env = "BENCH_KEY"
secret_access_key_env = "BENCH_SECRET"
TOML
FERRY=("$FERRY_BIN" --config "$CONFIG")
ferry() { "${FERRY[@]}" "$@"; }
SRC_BUCKET=bench-scale-src
DST_BUCKET=bench-scale-dst
ferry mb "ra:$SRC_BUCKET" > /dev/null 2>&1 || true
ferry mb "ra:$DST_BUCKET" > /dev/null 2>&1 || true

# rows N SIDE: the listing lines make_inventory.py reads (key,size,etag,last_modified)
rows() {
  awk -v n="$1" -v side="$2" 'BEGIN {
    for (i = 0; i < n; i++) {
      e = (side == "dst" && i % 100 == 3) ? i + 1 : i
      t = side == "src" ? "2026-11-27T00:00:00.000Z" : "2026-11-27T01:00:00.000Z"
      printf "k/%09d,%d,\"%032x\",%s\n", i, 100 + i % 1000, e, t
      if (side == "dst" && i % 1000 == 7) printf "k/%09d.x,%d,\"%032x\",%s\n", i, 5, i, t
    }
  }'
}
# inventory N SIDE BUCKET: makes (once) and prints the configuration prefix of its inventory
inventory() {
  local n=$1 side=$2 bucket=$3 dir=$BENCH_DIR/inv-$1-$2-$3
  if [ ! -f "$dir/.done" ]; then
    log "making the $side inventory of $n keys in $dir"
    rm -rf "$dir"
    rows "$n" "$side" | python3 tests/tools/make_inventory.py --source-bucket "$bucket" \
      --out "$dir" --listing - --rows-per-file 1000000 > /dev/null
    touch "$dir/.done"
  fi
  echo "$dir/inventories/$bucket/daily"
}

# timed OUT CMD...: CMD's stdout to OUT, its stderr to OUT.err; sets T_WALL T_CPU T_RSS (MiB)
timed() {
  local logf=$1 tf=$WORK/time.out user sys rss rc=0
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$tf" "$@" > "$logf" 2> "$logf.err" || rc=$?
  read -r T_WALL user sys rss < <(tail -n 1 "$tf")
  T_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  T_RSS=$((rss / 1024))
  [ "$rc" = 0 ] || { log "failed ($rc): $* (log $logf)"; tail -n 3 "$logf.err" >&2; }
  return "$rc"
}
row() {  # row N WHAT EXTRA
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$T_WALL" "$T_CPU" "$T_RSS" \
    "$(awk -v n="$1" -v w="$T_WALL" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')" "$3"
}
# heads JSON: the HEAD requests a --json summary counts, and its unchanged and gone counts
heads() {
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
r = sum(s["requests"].get("HEAD", 0) for s in d["cost"]["stores"])
print("%d HEADs, %d unchanged, %d gone since" % (r, d["objects_unchanged"], d["listed_not_found"]))' "$1"
}

echo "## Planning from two inventories ($(date -u +%Y-%m-%d), $(nproc) cores; $("$FERRY_BIN" --version | head -n 1))"
echo
echo "| keys | what | wall s | CPU s | peak RSS MiB | keys/s | notes |"
echo "|---|---|---|---|---|---|---|"
for n in $SIZES; do
  src=$(inventory "$n" src "$SRC_BUCKET")
  dst=$(inventory "$n" dst "$DST_BUCKET")
  # a destination whose rows all say equal: the source's keys and ETags, written an hour later
  same=$(inventory "$n" same "$DST_BUCKET")
  log "$n keys: plan-equal"
  timed "$WORK/equal-$n.json" "${FERRY[@]}" sync "ra:$SRC_BUCKET" "ra:$DST_BUCKET" --source-inventory "$src" \
    --dest-inventory "$same" --dry-run --delete --no-state --json --no-progress
  row "$n" plan-equal "$(heads "$WORK/equal-$n.json" 2>/dev/null || echo '?')"
  log "$n keys: plan-diff"
  timed "$WORK/diff-$n.json" "${FERRY[@]}" sync "ra:$SRC_BUCKET" "ra:$DST_BUCKET" --source-inventory "$src" \
    --dest-inventory "$dst" --dry-run --delete --no-state --json --no-progress
  row "$n" plan-diff "$(heads "$WORK/diff-$n.json" 2>/dev/null || echo '?')"
  log "$n keys: floor"
  timed "$WORK/floor-$n.log" bash -c "sort -m -t, -k2,2 <(zcat '$src'/data/*.csv.gz) \
    <(zcat '$dst'/data/*.csv.gz) > /dev/null"
  row "$n" "floor (zcat, sort -m)" ""
done
