#!/usr/bin/env bash
# Benchmark: one `ferry replicate` pass of BENCH_KEYS keys x BENCH_VERSIONS versions (mixed
# sizes) from a versioned bucket in region A to one in region B, on one RGW pair:
#   pass1    every version (versions = "all"), from nothing
#   pass2    after BENCH_NEW_PCT % of the keys got a new version: should cost the listing plus
#            the new versions
#   latest   versions = "latest" into a fresh bucket, beside `rclone copy` of the same current
#            objects into another (rclone has no versions)
# Per row: wall s, CPU s (user + sys), peak RSS MiB, versions written, versions/s, S3 requests
# ferry sent (ferry_s3_requests_total from --metrics-file, every operation and attempt) and
# requests per version written. Each row is checked: the destination holds the expected number
# of versions (ListObjectVersions).
#
#   bash bench/bench-replicate.sh                           # 5,000 keys x 4 versions
#   BENCH_KEYS=300 bash bench/bench-replicate.sh            # quick check of the harness
#
# Environment: BENCH_KEYS (5000), BENCH_VERSIONS (4), BENCH_NEW_PCT (1), BENCH_DIR
#   (/tmp/ferry-bench), FERRY_BIN (default: build Release into build-release/),
#   BENCH_FERRY_BIN_BEFORE (an earlier build: its first pass too, in the same run), RGW_DIR / ...
#   (scripts/rgw-start.sh), BENCH_KEEP_RGW=1. Prints a markdown table on stdout.
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

KEYS=${BENCH_KEYS:-5000}
VERSIONS=${BENCH_VERSIONS:-4}
NEW_PCT=${BENCH_NEW_PCT:-1}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=fr$(date +%s)
log() { ferry_log bench "$@"; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/install-deps.sh build rgw bench
ensure_ferry_bin  # FERRY_BIN, or a Release build in build-release/ (bench/lib/measure.sh)

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/rep.XXXXXX")
buckets=()  # "a NAME" / "b NAME"
RGW_STARTED=0
cleanup() {
  local rc=$? b
  set +e
  if [ -n "${S3_ENDPOINT:-}" ]; then
    log "deleting the bench buckets"
    for b in "${buckets[@]}"; do purge_bucket $b; done
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
versioned() { # SIDE NAME
  make_bucket "$1" "$2"
  "aws_$1" s3api put-bucket-versioning --bucket "$2" --versioning-configuration Status=Enabled
  buckets+=("$1 $2")
}
# count_versions SIDE NAME: versions (not delete markers) in a bucket
count_versions() {
  # the CLI pages: one number per page of 1,000
  "aws_$1" s3api list-object-versions --bucket "$2" --query 'length(Versions)' --output text |
    awk '{ n += $1 } END { printf "%d", n }'
}

# ------------------------------------------------------------------ source (not timed)
SRC=$ID-src
versioned a "$SRC"
# gen DIR N: N objects of mixed sizes (most 1-32 KiB, every 50th 1 MiB, every 500th 0 bytes)
gen() {
  python3 - "$1" "$2" <<'PY'
import os, random, shutil, sys
d, n = sys.argv[1], int(sys.argv[2])
shutil.rmtree(d, ignore_errors=True)
os.makedirs(d)
for i in range(n):
    size = 0 if i % 500 == 499 else 1 << 20 if i % 50 == 49 else random.randint(1, 32) * 1024
    with open(os.path.join(d, "k%06d" % i), "wb") as f:
        f.write(os.urandom(size))
PY
}
for v in $(seq 1 "$VERSIONS"); do
  log "source version $v of $KEYS keys (rclone)"
  gen "$WORK/gen" "$KEYS"
  "${RCLONE[@]}" copy "$WORK/gen" "ra:$SRC" --ignore-times --transfers 32 --checkers 32 >&2
done
rm -rf "$WORK/gen"
TOTAL=$((KEYS * VERSIONS))
have=$(count_versions a "$SRC")
[ "$have" = "$TOTAL" ] || die "source holds $have versions, expected $TOTAL"

# rules NAME DEST MODE: a config with one rule
rules() {
  { cat "$CONFIG"; printf '\n[[replication.rules]]\nid = "bench"\ndestinations = ["rb:%s"]\nversions = "%s"\n' "$2" "$3"; } > "$WORK/$1.toml"
}
requests() { # METRICS_FILE -> total S3 requests sent
  awk '/^ferry_s3_requests_total\{/ { n += $NF } END { printf "%d", n }' "$1"
}
BY_OP=()
by_operation() { # NAME METRICS_FILE: "NAME: GetObject 19960, PutObject 20000, ..." for the notes
  BY_OP+=("$1: $(awk '/^ferry_s3_requests_total\{/ {
      match($0, /operation="[^"]*"/); op = substr($0, RSTART + 11, RLENGTH - 12); n[op] += $NF }
    END { sep = ""; for (op in n) { printf "%s%s %d", sep, op, n[op]; sep = ", " } }' "$2")")
}
R_ROWS=()
row() { # workload tool versions_written requests check
  local vps rpv
  vps=$(awk -v n="$3" -v w="$T_WALL" 'BEGIN { if (w > 0) printf "%.0f", n / w; else print "n/a" }')
  rpv=$(awk -v r="$4" -v n="$3" 'BEGIN { if (n > 0 && r != "-") printf "%.2f", r / n; else print "-" }')
  R_ROWS+=("| $1 | $2 | $T_WALL | $T_CPU | $((T_RSS / 1024)) | $3 | $vps | $4 | $rpv | $5 |")
}
replicate() { # NAME SOURCE: a timed pass; sets REQ
  timed "$WORK/$1.log" "$FERRY_BIN" --config "$WORK/$1.toml" --metrics-file "$WORK/$1.prom" \
    replicate "ra:$2" --state "$WORK/state.db" --json || true
  REQ=$(requests "$WORK/$1.prom")
  by_operation "$1" "$WORK/$1.prom"
}

DST=$ID-dst
versioned b "$DST"
rules all "$DST" all
log "pass 1: $TOTAL versions"
replicate all "$SRC"
got=$(count_versions b "$DST")
row pass1 ferry "$TOTAL" "$REQ" "$([ "$got" = "$TOTAL" ] && echo ok || echo "FAIL ($got)")"
if [ -n "${BENCH_FERRY_BIN_BEFORE:-}" ]; then
  # the same first pass with an earlier build, into a bucket and state of its own
  BEFORE=$ID-before
  versioned b "$BEFORE"
  rules before "$BEFORE" all
  log "pass 1 with BENCH_FERRY_BIN_BEFORE"
  timed "$WORK/before.log" "$BENCH_FERRY_BIN_BEFORE" --config "$WORK/before.toml" \
    --metrics-file "$WORK/before.prom" replicate "ra:$SRC" --state "$WORK/before.db" --json || true
  REQ=$(requests "$WORK/before.prom")
  by_operation before "$WORK/before.prom"
  got=$(count_versions b "$BEFORE")
  row pass1 ferry-before "$TOTAL" "$REQ" "$([ "$got" = "$TOTAL" ] && echo ok || echo "FAIL ($got)")"
fi

NEW=$((KEYS * NEW_PCT / 100))
log "adding a version to $NEW keys"
gen "$WORK/gen" "$NEW"
"${RCLONE[@]}" copy "$WORK/gen" "ra:$SRC" --ignore-times --transfers 32 >&2
log "pass 2"
cp "$WORK/all.toml" "$WORK/again.toml"
replicate again "$SRC"
got=$(count_versions b "$DST")
row "pass2 (+$NEW_PCT%)" ferry "$NEW" "$REQ" "$([ "$got" = $((TOTAL + NEW)) ] && echo ok || echo "FAIL ($got)")"

LATEST=$ID-latest
versioned b "$LATEST"
rules latest "$LATEST" latest
log "latest mode"
replicate latest "$SRC"
got=$(count_versions b "$LATEST")
row latest ferry "$KEYS" "$REQ" "$([ "$got" = "$KEYS" ] && echo ok || echo "FAIL ($got)")"
RC=$ID-rclone
versioned b "$RC"
log "rclone copy of the current objects"
timed "$WORK/rclone.log" "${RCLONE[@]}" copy "ra:$SRC" "rb:$RC" --transfers 32 --checkers 32 || true
got=$(count_versions b "$RC")
row latest rclone "$KEYS" - "$([ "$got" = "$KEYS" ] && echo ok || echo "FAIL ($got)")"

echo
echo "ferry replicate, $KEYS keys x $VERSIONS versions, region A -> region B$(server_setup) ($(date -u +%F))"
echo
echo "| workload | tool | wall s | CPU s | peak RSS MiB | versions written | versions/s | S3 requests | requests/version | check |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${R_ROWS[@]}"
echo
echo "S3 requests by operation (all attempts):"
printf -- '- %s\n' "${BY_OP[@]}"
for r in "${R_ROWS[@]}"; do case "$r" in *FAIL*) exit 1 ;; esac; done
