#!/usr/bin/env bash
# Benchmark: ferry against its peers, copying region A -> region B on one RGW pair, in ONE run
# (the numbers are noisy from run to run; compare them within a run, as ratios).
#
#   bash bench/bench-sync.sh                                   # full: 5000 x 16 KiB, 2 x 512 MiB
#   BENCH_SMALL_N=300 BENCH_BIG_MB=32 bash bench/bench-sync.sh # quick check of the harness
#
# Workloads (source uploaded once into region A with rclone, a neutral tool, not timed):
#   small    BENCH_SMALL_N x 16 KiB objects                   (default 5000)
#   resync   the same again, nothing changed (each tool re-syncs into its own bucket)
#   big      BENCH_BIG_N x BENCH_BIG_MB MiB objects           (default 2 x 512)
# Tools, each into its own fresh bucket in region B (as run for docs/BENCHMARKS of the peers):
#   ferry    ferry sync ra:SRC rb:DST (config file with remotes ra / rb; its defaults)
#   rclone   env -u AWS_CA_BUNDLE rclone copy ra:SRC rb:DST --transfers 32 --checkers 32
#            (resync adds --checksum: listing ETags instead of one HEAD per object for the
#            mtime; big uses --transfers 2 --s3-upload-concurrency 8 --multi-thread-streams 8)
#   aws      /usr/bin/aws (v2) cannot copy between two endpoints: `aws s3 sync` A -> local folder,
#            then local folder -> B, both timed, summed (wall, CPU), peak RSS = the larger one
# Every command is timed with /usr/bin/time -f "%e %U %S %M" (wall s, user s, sys s, peak RSS KiB).
# After each run the destination must hold as many objects and bytes as the source
# (rclone size), otherwise the row says FAIL. Prints a markdown table on stdout; progress and
# tool output go to stderr / log files under $BENCH_DIR. Deletes its buckets and files at the end.
#
# Environment: BENCH_SMALL_N, BENCH_BIG_N, BENCH_BIG_MB, BENCH_TOOLS (default "ferry rclone aws"),
#   BENCH_WORKLOADS (default "small resync big"), BENCH_DIR (default /tmp/ferry-bench),
#   FERRY_BIN (default: build Release into build-release/), FERRY_BENCH_ARGS (extra ferry flags),
#   FERRY_BIN_BEFORE (with the tool "ferry-before" in BENCH_TOOLS: an earlier build of ferry
#   run beside the current one, e.g. BENCH_TOOLS="ferry ferry-before rclone"),
#   BENCH_ROUNDS=N (default 1: every workload N times, fresh destinations, the tools' order
#   rotated each round; one table group per workload and round),
#   BENCH_WARM_READ=0 (skip the untimed read of each source before the timed runs),
#   BENCH_KEEP_RGW=1 (do not stop an RGW pair this script started), RGW_DIR / RGW_PORT / ...
#   (scripts/rgw-start.sh), FERRY_TEST_S3_* (use that pair).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

SMALL_N=${BENCH_SMALL_N:-5000}
SMALL_KB=16
BIG_N=${BENCH_BIG_N:-2}
BIG_MB=${BENCH_BIG_MB:-512}
TOOLS=${BENCH_TOOLS:-ferry rclone aws}
WORKLOADS=${BENCH_WORKLOADS:-small resync big}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
# unique bucket names: a run that was killed cannot get in the way of the next one
ID=fb$(date +%s)

log() { ferry_log bench "$@"; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ setup
bash scripts/install-deps.sh build rgw bench
if [ -z "${FERRY_BIN:-}" ]; then
  case " $TOOLS " in
    *" ferry "*)
      log "building ferry (Release, build-release/)"
      build_release_ferry > /dev/null || die "the build of ferry failed" ;;
  esac
  FERRY_BIN=$FERRY_ROOT/build-release/src/cli/ferry
fi

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/run.XXXXXX")    # data, config; always deleted
LOGS=$BENCH_DIR/logs-$ID                     # tool output; kept when something failed
mkdir -p "$LOGS"
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
  rm -rf "$WORK"
  if [ "$rc" = 0 ]; then rm -rf "$LOGS"; else log "tool logs kept in $LOGS"; fi
  if [ "$RGW_STARTED" = 1 ] && [ "${BENCH_KEEP_RGW:-0}" != 1 ]; then
    bash scripts/rgw-stop.sh
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rgw_up
log "region A: $S3_ENDPOINT  region B: $S3_ENDPOINT_B  (work dir $WORK)"
export_rclone_remotes
CONFIG=$WORK/ferry.toml
write_ferry_config "$CONFIG"
export_ferry_keys
RCLONE=(env -u AWS_CA_BUNDLE rclone)
aws_argv a; AWS_A=("${AWS_ARGV[@]}")
aws_argv b; AWS_B=("${AWS_ARGV[@]}")

has_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }
has_workload() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }
if has_tool ferry; then [ -x "$FERRY_BIN" ] || die "no ferry binary at $FERRY_BIN"; fi
# resync re-runs each tool into the bucket it filled in "small"
if has_workload resync && ! has_workload small; then die "BENCH_WORKLOADS: resync needs small"; fi

# ------------------------------------------------------------------ source data (not timed)
# size_of REMOTE:BUCKET -> "COUNT BYTES" (rclone size: a listing, the same for every tool)
size_of() {
  "${RCLONE[@]}" size --json --fast-list "$1" \
    | sed -n 's/.*"count":\([0-9]*\).*"bytes":\([0-9]*\).*/\1 \2/p'
}

SRC_SMALL=$ID-small
SRC_BIG=$ID-big
if has_workload small || has_workload resync; then
  log "generating $SMALL_N x $SMALL_KB KiB"
  mkdir -p "$WORK/gen-small"
  # one stream cut into pieces: much faster than one `head` process per file
  head -c $((SMALL_N * SMALL_KB * 1024)) /dev/urandom \
    | split -b $((SMALL_KB * 1024)) -a 6 -d - "$WORK/gen-small/obj-"
  make_bucket a "$SRC_SMALL"; buckets_a+=("$SRC_SMALL")
  log "uploading them to ra:$SRC_SMALL (rclone)"
  "${RCLONE[@]}" copy "$WORK/gen-small" "ra:$SRC_SMALL" --transfers 32 --checkers 32 >&2
  rm -rf "$WORK/gen-small"
  read -r SMALL_COUNT SMALL_BYTES < <(size_of "ra:$SRC_SMALL")
  [ "$SMALL_COUNT" = "$SMALL_N" ] || die "source ra:$SRC_SMALL has $SMALL_COUNT objects, expected $SMALL_N"
fi
if has_workload big; then
  log "generating $BIG_N x $BIG_MB MiB"
  mkdir -p "$WORK/gen-big"
  for i in $(seq 1 "$BIG_N"); do head -c $((BIG_MB * 1024 * 1024)) /dev/urandom > "$WORK/gen-big/big-$i.bin"; done
  make_bucket a "$SRC_BIG"; buckets_a+=("$SRC_BIG")
  log "uploading them to ra:$SRC_BIG (rclone)"
  "${RCLONE[@]}" copy "$WORK/gen-big" "ra:$SRC_BIG" --transfers 2 --s3-upload-concurrency 8 \
    --s3-chunk-size 16M >&2
  rm -rf "$WORK/gen-big"
  read -r BIG_COUNT BIG_BYTES < <(size_of "ra:$SRC_BIG")
  [ "$BIG_COUNT" = "$BIG_N" ] || die "source ra:$SRC_BIG has $BIG_COUNT objects, expected $BIG_N"
fi

# Read each source once before anything is timed (rclone, not timed, into a scratch folder
# deleted at once): the first read of freshly written objects comes from the OSD's disk, later
# ones from its cache, so without this the tool that runs first pays for every other one (2 x
# 512 MiB: 19.0 s for the first tool, 13.5 s for the same tool run second).
warm_read() { # REMOTE:BUCKET FLAGS...
  local src=$1; shift
  log "reading $src once (rclone, not timed) so that every tool finds it cached alike"
  "${RCLONE[@]}" copy "$src" "$WORK/warm" "$@" >&2
  rm -rf "$WORK/warm"
}
if [ "${BENCH_WARM_READ:-1}" = 1 ]; then
  if has_workload small || has_workload resync; then warm_read "ra:$SRC_SMALL" --transfers 32 --checkers 32; fi
  if has_workload big; then warm_read "ra:$SRC_BIG" --transfers 2 --multi-thread-streams 8; fi
fi

# ------------------------------------------------------------------ measuring
R_WORK=() R_TOOL=() R_WALL=() R_CPU=() R_RSS=() R_SRV=() R_CHECK=()

# record WORKLOAD TOOL WALL CPU RSS_KIB DST EXPECTED_COUNT EXPECTED_BYTES RC [SERVERS_CPU]
record() {
  local check=ok got count bytes
  if [ "$9" != 0 ]; then
    check="FAIL (exit $9)"
  else
    got=$(size_of "rb:$6")
    read -r count bytes <<< "$got"
    if [ "$count" != "$7" ] || [ "$bytes" != "$8" ]; then check="FAIL ($count objects, $bytes bytes)"; fi
  fi
  R_WORK+=("$1") R_TOOL+=("$2") R_WALL+=("$3") R_CPU+=("$4") R_RSS+=("$(( $5 / 1024 ))") R_CHECK+=("$check")
  R_SRV+=("${10:-$T_SERVERS}")
  log "$1 / $2: wall $3 s, CPU $4 s, peak RSS $(( $5 / 1024 )) MiB, servers ${10:-$T_SERVERS} CPU s, check: $check"
}

# run_tool WORKLOAD TOOL SRC_BUCKET EXPECTED_COUNT EXPECTED_BYTES
run_tool() {
  local w=$1 tool=$2 src=$3 count=$4 bytes=$5 dst rc=0 lf
  # resync goes again into the bucket the same tool filled in "small"
  if [ "$w" = resync ]; then dst=$ID-small-$tool$SUFFIX; else dst=$ID-$w-$tool$SUFFIX; fi
  if [ "$w" != resync ]; then make_bucket b "$dst"; buckets_b+=("$dst"); fi
  lf=$LOGS/$w-$tool.log
  local rclone_flags=(--transfers 32 --checkers 32)
  if [ "$w" = resync ]; then rclone_flags+=(--checksum); fi
  if [ "$w" = big ]; then rclone_flags=(--transfers 2 --s3-upload-concurrency 8 --multi-thread-streams 8); fi
  local extra=()
  [ -z "${FERRY_BENCH_ARGS:-}" ] || read -r -a extra <<< "$FERRY_BENCH_ARGS"
  log "$w / $tool: ra:$src -> rb:$dst"
  case $tool in
    ferry)
      timed "$lf" "$FERRY_BIN" --config "$CONFIG" sync "ra:$src" "rb:$dst" --no-progress "${extra[@]}" || rc=$?
      record "$w" ferry "$T_WALL" "$T_CPU" "$T_RSS" "$dst" "$count" "$bytes" "$rc" ;;
    ferry-before)  # another build of ferry (FERRY_BIN_BEFORE), for before/after figures
      timed "$lf" "$FERRY_BIN_BEFORE" --config "$CONFIG" sync "ra:$src" "rb:$dst" --no-progress "${extra[@]}" || rc=$?
      record "$w" ferry-before "$T_WALL" "$T_CPU" "$T_RSS" "$dst" "$count" "$bytes" "$rc" ;;
    rclone)
      timed "$lf" "${RCLONE[@]}" copy "ra:$src" "rb:$dst" "${rclone_flags[@]}" || rc=$?
      record "$w" rclone "$T_WALL" "$T_CPU" "$T_RSS" "$dst" "$count" "$bytes" "$rc" ;;
    aws)
      # the local folder stays between small and resync, as it would for a real re-sync
      local dir=$WORK/aws-${w/resync/small} w1 c1 r1 s1
      mkdir -p "$dir"
      timed "$lf" "${AWS_A[@]}" s3 sync --only-show-errors "s3://$src" "$dir" || rc=$?
      w1=$T_WALL c1=$T_CPU r1=$T_RSS s1=$T_SERVERS
      if [ "$rc" = 0 ]; then
        timed "$lf.2" "${AWS_B[@]}" s3 sync --only-show-errors "$dir" "s3://$dst" || rc=$?
      else
        T_WALL=0 T_CPU=0 T_RSS=0 T_SERVERS=0
      fi
      record "$w" aws "$(awk -v a="$w1" -v b="$T_WALL" 'BEGIN { printf "%.2f", a + b }')" \
        "$(awk -v a="$c1" -v b="$T_CPU" 'BEGIN { printf "%.2f", a + b }')" \
        "$(( r1 > T_RSS ? r1 : T_RSS ))" "$dst" "$count" "$bytes" "$rc" \
        "$(awk -v a="$s1" -v b="$T_SERVERS" 'BEGIN { if (a == "n/a") print "n/a"; else printf "%.2f", a + b }')"
      if [ "$w" = big ]; then rm -rf "$dir"; fi ;;
    *) die "unknown tool $tool" ;;
  esac
}

# BENCH_ROUNDS > 1: every workload again with fresh destinations, the tools' order rotated one
# place per round, so that no tool always runs first (or right after another's writes).
ROUNDS=${BENCH_ROUNDS:-1}
read -r -a TOOL_LIST <<< "$TOOLS"
R_ROUND=()
for round in $(seq 1 "$ROUNDS"); do
  SUFFIX=""
  [ "$ROUNDS" = 1 ] || SUFFIX=-r$round
  for w in small resync big; do
    has_workload "$w" || continue
    for i in "${!TOOL_LIST[@]}"; do
      tool=${TOOL_LIST[$(( (i + round - 1) % ${#TOOL_LIST[@]} ))]}
      if [ "$w" = big ]; then run_tool big "$tool" "$SRC_BIG" "$BIG_COUNT" "$BIG_BYTES"
      else run_tool "$w" "$tool" "$SRC_SMALL" "$SMALL_COUNT" "$SMALL_BYTES"; fi
      R_ROUND+=("$round")
    done
  done
done

# ------------------------------------------------------------------ report
# first line of a version banner (no `| head`: with pipefail, the writer's SIGPIPE fails the pipe)
first_line() { local out; out=$("$@" 2>/dev/null) || true; echo "${out%%$'\n'*}"; }
ferry_version=$(first_line "$FERRY_BIN" --version)
rclone_version=$(first_line "${RCLONE[@]}" version)
aws_version=$(first_line /usr/bin/aws --version)
aws_version=${aws_version%% *}
label() {
  case $1 in
    small) echo "$SMALL_N × $SMALL_KB KiB" ;;
    resync) echo "no-change re-sync of $SMALL_N" ;;
    big) echo "$BIG_N × $BIG_MB MiB" ;;
  esac
}

echo
echo "RGW A -> B on $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)$(server_setup); $ferry_version, $rclone_version, $aws_version; $(date -u +%F)"
echo
echo "| workload | tool | wall s | CPU s | peak RSS MiB | servers' CPU s | wall / ferry | CPU / ferry | check |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
R_GROUP=()
for i in "${!R_WORK[@]}"; do
  if [ "$ROUNDS" = 1 ]; then R_GROUP+=("$(label "${R_WORK[$i]}")")
  else R_GROUP+=("$(label "${R_WORK[$i]}"), round ${R_ROUND[$i]}"); fi
done
report_rows
failures=$FAILURES
echo

# summary: per workload and peer, ferry's wall and CPU as fractions of the peer's, one figure per
# round and their median (the goals are written this way round: ferry / peer).
median() { tr ' ' '\n' <<< "$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
if [ "$ROUNDS" -gt 1 ]; then
  for w in small resync big; do
    has_workload "$w" || continue
    for peer in "${TOOL_LIST[@]}"; do
      [ "$peer" != ferry ] || continue
      walls="" cpus=""
      for round in $(seq 1 "$ROUNDS"); do
        fw="" fc="" pw="" pc=""
        for i in "${!R_WORK[@]}"; do
          [ "${R_WORK[$i]}" = "$w" ] && [ "${R_ROUND[$i]}" = "$round" ] && [ "${R_CHECK[$i]}" = ok ] || continue
          if [ "${R_TOOL[$i]}" = ferry ]; then fw=${R_WALL[$i]} fc=${R_CPU[$i]}; fi
          if [ "${R_TOOL[$i]}" = "$peer" ]; then pw=${R_WALL[$i]} pc=${R_CPU[$i]}; fi
        done
        [ -n "$fw" ] && [ -n "$pw" ] || continue
        walls="$walls $(ratio "$fw" "$pw")" cpus="$cpus $(ratio "$fc" "$pc")"
      done
      [ -n "$walls" ] || continue
      echo "- $(label "$w"), ferry / $peer: wall$walls (median $(median "$walls")), CPU$cpus (median $(median "$cpus"))"
    done
  done
  echo
fi
if [ "$failures" -gt 0 ]; then
  log "$failures run(s) failed or left a wrong destination"
  exit 1
fi
