#!/usr/bin/env bash
# Benchmark: the memory and wall of `ferry replicate` of large versions, beside `ferry sync` of
# the same bytes, between the two gateways of one RGW pair (region A -> region B). BENCH_KEYS
# keys of one BENCH_MIB MiB version each, below the 64 MiB multipart threshold (so each version
# is one GET and one PUT), every tool run with --memory BENCH_MEMORY:
#   replicate         the ferry under test (FERRY_BIN)
#   replicate-before  BENCH_FERRY_BIN_BEFORE, when given (the same pass with an older build)
#   sync              ferry sync of the source into another bucket
# Per row: wall s, CPU s, peak RSS MiB, the servers' CPU s meanwhile. Each row is checked: the
# destination holds BENCH_KEYS objects of the right size.
#
#   BENCH_FERRY_BIN_BEFORE=/path/to/old/ferry bash bench/bench-replicate-memory.sh
#
# Environment: BENCH_KEYS (12), BENCH_MIB (48), BENCH_MEMORY (128MiB), BENCH_DIR
#   (/tmp/ferry-bench), FERRY_BIN (default: a Release build in build-release/), RGW_DIR / ...
#   (scripts/rgw-start.sh). Prints a markdown table on stdout.
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

KEYS=${BENCH_KEYS:-12}
MIB=${BENCH_MIB:-48}
MEMORY=${BENCH_MEMORY:-128MiB}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=frm$(date +%s)
log() { ferry_log bench "$@"; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/install-deps.sh build rgw bench
ensure_ferry_bin

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/repmem.XXXXXX")
buckets=()  # "a NAME" / "b NAME": deleted at exit (GiBs each: the test gateways hold 16 GiB)
cleanup() {
  local b
  set +e
  for b in "${buckets[@]}"; do purge_bucket $b; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rgw_up
export_rclone_remotes
CONFIG=$WORK/ferry.toml
write_ferry_config "$CONFIG"
export_ferry_keys

versioned() { # SIDE NAME
  make_bucket "$1" "$2"
  buckets+=("$1 $2")
  "aws_$1" s3api put-bucket-versioning --bucket "$2" --versioning-configuration Status=Enabled
}
SRC=$ID-src
versioned a "$SRC"
mkdir -p "$WORK/gen"
for i in $(seq 1 "$KEYS"); do head -c $((MIB << 20)) /dev/urandom > "$WORK/gen/k$i"; done
env -u AWS_CA_BUNDLE rclone copy "$WORK/gen" "ra:$SRC" --transfers 4 >&2
rm -rf "$WORK/gen"

check() { # SIDE BUCKET -> "ok" when it holds KEYS objects of MIB MiB
  local n
  n=$("aws_$1" s3api list-objects-v2 --bucket "$2" \
    --query "length(Contents[?Size==\`$((MIB << 20))\`] || \`[]\`)" --output text 2>/dev/null || echo 0)
  [ "$n" = "$KEYS" ] && echo ok || echo "FAILED ($n objects)"
}
ROWS=()
replicate_row() { # NAME BIN
  local dst=$ID-${1//_/-}
  versioned b "$dst"
  { cat "$CONFIG"; printf '\n[[replication.rules]]\nid = "bench"\ndestinations = ["rb:%s"]\n' "$dst"; } > "$WORK/$1.toml"
  local memory=(--memory "$MEMORY")  # builds before --memory of replicate ran without it
  "$2" replicate --help 2>/dev/null | grep -q -- --memory || memory=()
  timed "$WORK/$1.log" "$2" --config "$WORK/$1.toml" replicate "ra:$SRC" --state "$WORK/$1.db" \
    "${memory[@]}" --json || true
  ROWS+=("| $1 | $T_WALL | $T_CPU | $((T_RSS / 1024)) | $T_SERVERS | $(check b "$dst") |")
}
replicate_row replicate "$FERRY_BIN"
if [ -n "${BENCH_FERRY_BIN_BEFORE:-}" ]; then replicate_row replicate-before "$BENCH_FERRY_BIN_BEFORE"; fi
make_bucket b "$ID-sync"
buckets+=("b $ID-sync")
timed "$WORK/sync.log" "$FERRY_BIN" --config "$CONFIG" sync "ra:$SRC" "rb:$ID-sync" --no-state \
  --memory "$MEMORY" --no-progress || true
ROWS+=("| sync | $T_WALL | $T_CPU | $((T_RSS / 1024)) | $T_SERVERS | $(check b "$ID-sync") |")

echo "ferry replicate vs sync: $KEYS keys x $MIB MiB, --memory $MEMORY$(server_setup)"
echo
echo "| row | wall s | CPU s | peak RSS MiB | servers' CPU s | check |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
