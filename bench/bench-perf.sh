#!/usr/bin/env bash
# Benchmark: the rows where ferry had to catch up, for ferry, rclone and `aws s3`
# in ONE run (compare within a run, as ratios), with requests per object from RGW's usage log.
#
#   bash bench/bench-perf.sh                                   # 1,000,000 / 5,000 / 1,000 x 40 ms
#   BENCH_DRY_N=20000 BENCH_RESYNC_N=500 BENCH_LAT_N=200 bash bench/bench-perf.sh   # quick
#
# Rows (BENCH_ROWS, default "dry resync latency"):
#   dry      BENCH_DRY_N empty files generated under $BENCH_DIR (removed after) -> an empty
#            folder, dry run: ferry sync --dry-run, rclone sync --dry-run; aws s3 sync --dryrun
#            into an empty bucket (aws has no folder -> folder sync). All print a line per object.
#   resync   BENCH_RESYNC_N x 16 KiB on A, copied to B once by ferry (not timed); each tool then
#            re-syncs A -> B with nothing to do: ferry sync (defaults), rclone sync --checksum
#            --checkers 32 (ETags), aws s3 sync A -> folder and folder -> B (filled untimed).
#   latency  BENCH_LAT_N x 16 KiB copied A -> B across an emulated round trip of each of
#            BENCH_LAT_RTTS ms (bench/lib/delay_proxy.py in front of both gateways), each tool
#            into a fresh bucket: ferry sync with its defaults (adaptive concurrency), rclone copy
#            --transfers 32 --checkers 32, aws s3 sync A -> folder -> B (both timed, summed).
# Columns: wall s, CPU s (user + sys), peak RSS MiB (/usr/bin/time), ratios to ferry, requests
# per object (RGW usage log: every request on the rows' buckets, both gateways, divided by the
# object count; n/a without CEPH_CONF / FERRY_TEST_CEPH_CONF and the usage log), and a check:
# a dry run must report every object, a re-sync must do nothing, a copy must leave B with every
# object and byte.
#
# Environment: BENCH_DRY_N (1000000), BENCH_RESYNC_N (5000), BENCH_LAT_N (1000),
#   BENCH_LAT_RTTS ("40"), BENCH_ROWS, BENCH_TOOLS ("ferry rclone aws"; the latency row also
#   knows "ferry-fixed": ferry with --concurrency BENCH_FIXED_CONCURRENCY, default 64), BENCH_DIR
#   (/tmp/ferry-bench), FERRY_BIN (default: build Release into build-release/), FERRY_BENCH_ARGS
#   (extra ferry flags), FERRY_TEST_S3_* / FERRY_TEST_CEPH_CONF (use that RGW pair).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"
# shellcheck source=bench/lib/usage.sh
source "$FERRY_ROOT/bench/lib/usage.sh"

DRY_N=${BENCH_DRY_N:-1000000}
RESYNC_N=${BENCH_RESYNC_N:-5000}
LAT_N=${BENCH_LAT_N:-1000}
LAT_RTTS=${BENCH_LAT_RTTS:-40}
ROWS=${BENCH_ROWS:-dry resync latency}
TOOLS=${BENCH_TOOLS:-ferry rclone aws}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=fp$(date +%s)

log() { ferry_log bench-perf "$@"; }
die() { log "ERROR: $*"; exit 1; }
has_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }
has_row() { case " $ROWS " in *" $1 "*) return 0 ;; esac; return 1; }

ensure_ferry_bin  # FERRY_BIN, or a Release build in build-release/ (bench/lib/measure.sh)

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/perf.XXXXXX")
buckets_a=() buckets_b=() PROXIES=()
cleanup() {
  local rc=$?
  set +e
  for p in "${PROXIES[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ -n "${DIRECT_A:-}" ]; then use_endpoints "$DIRECT_A" "$DIRECT_B"; fi
  if [ -n "${S3_ENDPOINT:-}" ]; then
    log "deleting the bench buckets"
    mkdir -p "$WORK/empty"
    for b in "${buckets_b[@]}"; do
      "$FERRY_BIN" --config "$CONFIG" sync "$WORK/empty" "rb:$b" --delete --no-state --no-progress >/dev/null 2>&1
      drop_bucket b "$b"
    done
    for b in "${buckets_a[@]}"; do
      "$FERRY_BIN" --config "$CONFIG" sync "$WORK/empty" "ra:$b" --delete --no-state --no-progress >/dev/null 2>&1
      drop_bucket a "$b"
    done
  fi
  rm -rf "$WORK"
  return "$rc"
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
aws_argv a; AWS_A=("${AWS_ARGV[@]}")
aws_argv b; AWS_B=("${AWS_ARGV[@]}")
DIRECT_A=$S3_ENDPOINT DIRECT_B=$S3_ENDPOINT_B
EXTRA=()
[ -z "${FERRY_BENCH_ARGS:-}" ] || read -r -a EXTRA <<< "$FERRY_BENCH_ARGS"

use_endpoints() {  # A B: point ferry's config, rclone and aws at these endpoints
  S3_ENDPOINT=$1 S3_ENDPOINT_B=$2
  write_ferry_config "$CONFIG"
  export_rclone_remotes
  aws_argv a; AWS_A=("${AWS_ARGV[@]}")
  aws_argv b; AWS_B=("${AWS_ARGV[@]}")
}
start_proxy() {  # TARGET_URL ONE_WAY_MS: sets PROXY_URL
  local target=${1#http://} port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 "$FERRY_ROOT/bench/lib/delay_proxy.py" "$port" "$target" "$2" > "$WORK/proxy-$port.out" &
  PROXIES+=($!)
  for _ in $(seq 50); do grep -q ready "$WORK/proxy-$port.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$WORK/proxy-$port.out" || die "delay proxy to $target did not start"
  PROXY_URL=http://127.0.0.1:$port
}
size_of() {  # REMOTE:BUCKET -> "COUNT BYTES"
  "${RCLONE[@]}" size --json --fast-list "$1" \
    | sed -n 's/.*"count":\([0-9]*\).*"bytes":\([0-9]*\).*/\1 \2/p'
}
sum2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }

R_GROUP=() R_TOOL=() R_WALL=() R_CPU=() R_RSS=() R_CHECK=() R_REQ=()
record() {  # GROUP TOOL WALL CPU RSS_KIB REQ_PER_OBJECT CHECK
  R_GROUP+=("$1") R_TOOL+=("$2") R_WALL+=("$3") R_CPU+=("$4") R_RSS+=("$(( $5 / 1024 ))")
  R_REQ+=("$6") R_CHECK+=("$7")
  log "$1 / $2: wall $3 s, CPU $4 s, peak RSS $(( $5 / 1024 )) MiB, requests/object $6, check: $7"
}

# ------------------------------------------------------------------ dry run, local -> local
if has_row dry; then
  group="dry run, $DRY_N local files -> empty folder"
  log "generating $DRY_N empty files in 1,000 folders"
  per=$(( (DRY_N + 999) / 1000 )) left=$DRY_N
  for d in $(seq -w 0 999); do
    n=$(( left < per ? left : per )); left=$(( left - n ))
    [ "$n" -gt 0 ] || break
    mkdir -p "$WORK/dry/d$d"
    (cd "$WORK/dry/d$d" && seq -w 0 $((n - 1)) | xargs touch)
  done
  total=$(find "$WORK/dry" -type f | wc -l)
  mkdir -p "$WORK/dry-empty"
  if has_tool ferry; then
    rc=0
    timed "$WORK/dry-ferry.log" "$FERRY_BIN" sync "$WORK/dry" "$WORK/dry-empty" --dry-run --no-progress "${EXTRA[@]}" || rc=$?
    n=$(grep -c "would copy" "$WORK/dry-ferry.log" || true)
    check=ok; [ "$rc" = 0 ] && [ "$n" = "$total" ] || check="FAIL ($n lines, exit $rc)"
    record "$group" ferry "$T_WALL" "$T_CPU" "$T_RSS" - "$check"
  fi
  if has_tool rclone; then
    rc=0
    timed "$WORK/dry-rclone.log" "${RCLONE[@]}" sync "$WORK/dry" "$WORK/dry-empty" --dry-run || rc=$?
    n=$(grep -c "Skipped copy as --dry-run" "$WORK/dry-rclone.log" || true)
    check=ok; [ "$rc" = 0 ] && [ "$n" = "$total" ] || check="FAIL ($n lines, exit $rc)"
    record "$group" rclone "$T_WALL" "$T_CPU" "$T_RSS" - "$check"
  fi
  if has_tool aws; then
    rc=0
    b=$ID-dry; make_bucket b "$b"; buckets_b+=("$b")
    timed "$WORK/dry-aws.log" "${AWS_B[@]}" s3 sync --dryrun "$WORK/dry" "s3://$b" || rc=$?
    n=$(grep -c "^(dryrun) upload" "$WORK/dry-aws.log" || true)
    check=ok; [ "$rc" = 0 ] && [ "$n" = "$total" ] || check="FAIL ($n lines, exit $rc)"
    record "$group (aws: -> empty bucket)" aws "$T_WALL" "$T_CPU" "$T_RSS" - "$check"
    R_GROUP[-1]=$group
  fi
  rm -rf "$WORK/dry" "$WORK/dry-empty"
fi

# ------------------------------------------------------------------ data on A (not timed)
gen_upload() {  # N BUCKET: N x 16 KiB into ra:BUCKET
  mkdir -p "$WORK/gen"
  head -c $(( $1 * 16384 )) /dev/urandom | split -b 16384 -a 6 -d - "$WORK/gen/obj-"
  make_bucket a "$2"; buckets_a+=("$2")
  "${RCLONE[@]}" copy "$WORK/gen" "ra:$2" --transfers 32 --checkers 32 >&2
  rm -rf "$WORK/gen"
}

# ------------------------------------------------------------------ no-change re-sync
if has_row resync; then
  group="no-change re-sync of $RESYNC_N"
  src=$ID-rs-src dst=$ID-rs-dst
  log "$group: generating, uploading, copying once (not timed)"
  gen_upload "$RESYNC_N" "$src"
  make_bucket b "$dst"; buckets_b+=("$dst")
  "$FERRY_BIN" --config "$CONFIG" sync "ra:$src" "rb:$dst" --no-progress --no-state >&2
  if has_tool aws; then "${AWS_A[@]}" s3 sync --only-show-errors "s3://$src" "$WORK/aws-rs" >&2; fi
  for tool in $TOOLS; do
    [ "$tool" != ferry-fixed ] || continue
    rc=0 check=ok
    before=$(usage_snapshot "a:$src" "b:$dst")
    case $tool in
      ferry)
        timed "$WORK/rs-ferry.log" "$FERRY_BIN" --config "$CONFIG" sync "ra:$src" "rb:$dst" --no-progress --json "${EXTRA[@]}" || rc=$?
        if [ "$rc" = 0 ] && ! python3 -c 'import json,sys; t=open(sys.argv[1]).read(); j=json.loads(t[t.index("{"):]); sys.exit(1 if j["objects_copied"] or j["objects_failed"] else 0)' "$WORK/rs-ferry.log"; then check="FAIL (did work)"; fi ;;
      rclone)
        timed "$WORK/rs-rclone.log" "${RCLONE[@]}" sync "ra:$src" "rb:$dst" --checksum --checkers 32 --transfers 32 -v || rc=$?
        if grep -qE "INFO  : .*: (Copied|Deleted)" "$WORK/rs-rclone.log"; then check="FAIL (did work)"; fi ;;
      aws)
        timed "$WORK/rs-aws1.log" "${AWS_A[@]}" s3 sync "s3://$src" "$WORK/aws-rs" || rc=$?
        w1=$T_WALL c1=$T_CPU r1=$T_RSS
        if [ "$rc" = 0 ]; then timed "$WORK/rs-aws2.log" "${AWS_B[@]}" s3 sync "$WORK/aws-rs" "s3://$dst" || rc=$?; fi
        if grep -qE "^(download|upload|copy|delete):" "$WORK/rs-aws1.log" "$WORK/rs-aws2.log" 2>/dev/null; then check="FAIL (did work)"; fi
        T_WALL=$(sum2 "$w1" "$T_WALL") T_CPU=$(sum2 "$c1" "$T_CPU") T_RSS=$(( r1 > T_RSS ? r1 : T_RSS )) ;;
    esac
    [ "$rc" = 0 ] || check="FAIL (exit $rc)"
    sleep 2  # the usage log is flushed every second
    after=$(usage_snapshot "a:$src" "b:$dst")
    record "$group" "$tool" "$T_WALL" "$T_CPU" "$T_RSS" "$(per_object "$before" "$after" "$RESYNC_N")" "$check"
  done
  rm -rf "$WORK/aws-rs"
fi

# ------------------------------------------------------------------ small objects, slow link
if has_row latency; then
  src=$ID-lat-src
  log "latency: generating and uploading $LAT_N x 16 KiB (not timed)"
  gen_upload "$LAT_N" "$src"
  read -r want_count want_bytes < <(size_of "ra:$src")
  for rtt in $LAT_RTTS; do
    group="$LAT_N × 16 KiB A -> B, $rtt ms RTT"
    half=$(awk -v r="$rtt" 'BEGIN { print r / 2 }')
    start_proxy "$DIRECT_A" "$half"; pa=$PROXY_URL
    start_proxy "$DIRECT_B" "$half"; pb=$PROXY_URL
    for tool in $TOOLS; do
      dst=$ID-lat$rtt-$tool rc=0
      use_endpoints "$DIRECT_A" "$DIRECT_B"
      make_bucket b "$dst"; buckets_b+=("$dst")
      before=$(usage_snapshot "a:$src" "b:$dst")
      use_endpoints "$pa" "$pb"
      case $tool in
        ferry)
          timed "$WORK/lat-ferry.log" "$FERRY_BIN" --config "$CONFIG" sync "ra:$src" "rb:$dst" --no-progress "${EXTRA[@]}" || rc=$? ;;
        ferry-fixed)  # the same with a fixed --concurrency (not adapted)
          timed "$WORK/lat-ferry.log" "$FERRY_BIN" --config "$CONFIG" sync "ra:$src" "rb:$dst" --no-progress \
            --concurrency "${BENCH_FIXED_CONCURRENCY:-64}" "${EXTRA[@]}" || rc=$? ;;
        rclone)
          timed "$WORK/lat-rclone.log" "${RCLONE[@]}" copy "ra:$src" "rb:$dst" --transfers 32 --checkers 32 || rc=$? ;;
        aws)
          timed "$WORK/lat-aws1.log" "${AWS_A[@]}" s3 sync --only-show-errors "s3://$src" "$WORK/aws-lat" || rc=$?
          w1=$T_WALL c1=$T_CPU r1=$T_RSS
          if [ "$rc" = 0 ]; then timed "$WORK/lat-aws2.log" "${AWS_B[@]}" s3 sync --only-show-errors "$WORK/aws-lat" "s3://$dst" || rc=$?; fi
          T_WALL=$(sum2 "$w1" "$T_WALL") T_CPU=$(sum2 "$c1" "$T_CPU") T_RSS=$(( r1 > T_RSS ? r1 : T_RSS ))
          rm -rf "$WORK/aws-lat" ;;
      esac
      use_endpoints "$DIRECT_A" "$DIRECT_B"
      check=ok
      if [ "$rc" != 0 ]; then check="FAIL (exit $rc)"
      else
        read -r count bytes < <(size_of "rb:$dst")
        [ "$count" = "$want_count" ] && [ "$bytes" = "$want_bytes" ] || check="FAIL ($count objects, $bytes bytes)"
      fi
      sleep 2
      after=$(usage_snapshot "a:$src" "b:$dst")
      # the check's listing of B (rclone size) is not the tool's: take it out (1 per 1,000 keys)
      [ -z "$after" ] || after=$(( after - (want_count + 999) / 1000 ))
      record "$group" "$tool" "$T_WALL" "$T_CPU" "$T_RSS" "$(per_object "$before" "$after" "$LAT_N")" "$check"
    done
  done
fi

# ------------------------------------------------------------------ report
first_line() { local out; out=$("$@" 2>/dev/null) || true; echo "${out%%$'\n'*}"; }
echo
echo "RGW A -> B on $(nproc) cores$(server_setup); $(first_line "$FERRY_BIN" --version), $(first_line "${RCLONE[@]}" version), $(first_line /usr/bin/aws --version | cut -d' ' -f1); $(date -u +%F)"
echo
echo "| workload | tool | wall s | CPU s | peak RSS MiB | wall / ferry | CPU / ferry | requests / object | check |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
# report_rows prints 8 columns; the requests column goes in before the check
report_rows > "$WORK/rows.md"
failures=$FAILURES
awk -F' [|] ' -v OFS=' | ' -v reqs="${R_REQ[*]}" 'BEGIN { split(reqs, r, " ") }
  { i++; check = $NF; $NF = r[i] " | " check; print }' "$WORK/rows.md"
echo
[ "$failures" = 0 ] || die "$failures run(s) failed"
