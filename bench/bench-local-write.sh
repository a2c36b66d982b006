#!/usr/bin/env bash
# Benchmark: the cost of small objects written to a local folder (issue 45 §5). Downloads
# BENCH_N x 16 KiB from RGW gateway A into a fresh folder with each tool, in ONE run (compare
# within a run, as ratios):
#
#   bash bench/bench-local-write.sh                       # 2000 x 16 KiB
#   BENCH_N=200 bash bench/bench-local-write.sh           # quick check of the harness
#   BENCH_FERRY_BIN_BEFORE=/tmp/ferry-before bash bench/bench-local-write.sh   # before/after
#
# Tools (each into its own new folder; the source is uploaded once with rclone, not timed):
#   ferry         ferry sync ra:SRC DIR --no-state --no-progress (its defaults: durable writes)
#   ferry-before  the same with BENCH_FERRY_BIN_BEFORE (an earlier build), when set
#   rclone        env -u AWS_CA_BUNDLE rclone copy ra:SRC DIR --transfers 32 --checkers 32
#                 (rclone flushes nothing to disk: its files are not durable when it exits)
#   aws           aws s3 sync s3://SRC DIR --only-show-errors (no flush either)
# Each tool runs twice: once under /usr/bin/time (wall, user, sys, peak RSS: the table's figures)
# and once under `strace -c -f` into another new folder (system call counts only: strace slows
# a run several times over, so its times are not used). After each run the folder must hold
# BENCH_N files of the source's bytes, otherwise the row says FAIL. Prints markdown on stdout;
# deletes its bucket and folders at the end.
#
# Environment: BENCH_N (default 2000), BENCH_TOOLS (default "ferry ferry-before rclone aws";
#   ferry-before only with BENCH_FERRY_BIN_BEFORE), BENCH_DIR (default /tmp/ferry-bench),
#   FERRY_BIN (default: build Release into build-release/), BENCH_STRACE=0 (skip the strace
#   pass), FERRY_TEST_S3_* (the RGW pair to use; else scripts/rgw-start.sh starts one).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

N=${BENCH_N:-2000}
KB=16
TOOLS=${BENCH_TOOLS:-ferry ferry-before rclone aws}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=fl$(date +%s)

log() { ferry_log bench "$@"; }
die() { log "ERROR: $*"; exit 1; }

has_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }
if [ -z "${BENCH_FERRY_BIN_BEFORE:-}" ]; then TOOLS=${TOOLS//ferry-before/}; fi
command -v strace > /dev/null || [ "${BENCH_STRACE:-1}" = 0 ] || die "strace is not installed"
ensure_ferry_bin

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/local.XXXXXX")
RGW_STARTED=0
SRC=$ID-src
cleanup() {
  local rc=$?
  set +e
  [ -z "${S3_ENDPOINT:-}" ] || drop_bucket a "$SRC"
  rm -rf "$WORK"
  if [ "$RGW_STARTED" = 1 ]; then bash scripts/rgw-stop.sh; fi
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

# ------------------------------------------------------------------ source data (not timed)
log "uploading $N x $KB KiB to ra:$SRC (rclone)"
mkdir -p "$WORK/gen"
head -c $((N * KB * 1024)) /dev/urandom | split -b $((KB * 1024)) -a 6 -d - "$WORK/gen/obj-"
make_bucket a "$SRC"
"${RCLONE[@]}" copy "$WORK/gen" "ra:$SRC" --transfers 32 --checkers 32 >&2
rm -rf "$WORK/gen"
BYTES=$((N * KB * 1024))
# read once, not timed: every tool then finds the objects in the servers' cache alike
"${RCLONE[@]}" copy "ra:$SRC" "$WORK/warm" --transfers 32 --checkers 32 >&2
rm -rf "$WORK/warm"

# ------------------------------------------------------------------ measuring
# command_of TOOL DIR: the tool's download of ra:SRC into DIR, in CMD
command_of() {
  case $1 in
    ferry) CMD=("$FERRY_BIN" --config "$CONFIG" sync "ra:$SRC" "$2" --no-state --no-progress) ;;
    ferry-before) CMD=("$BENCH_FERRY_BIN_BEFORE" --config "$CONFIG" sync "ra:$SRC" "$2" --no-state
                       --no-progress) ;;
    rclone) CMD=("${RCLONE[@]}" copy "ra:$SRC" "$2" --transfers 32 --checkers 32) ;;
    aws) CMD=("${AWS_A[@]}" s3 sync --only-show-errors "s3://$SRC" "$2") ;;
    *) die "unknown tool $1" ;;
  esac
}

# check_dir DIR: "ok" when DIR holds N files of BYTES bytes in all
check_dir() {
  local count bytes
  read -r count bytes < <(find "$1" -type f -printf '%s\n' | awk '{ n++; b += $1 } END { print n + 0, b + 0 }')
  if [ "$count" = "$N" ] && [ "$bytes" = "$BYTES" ]; then echo ok; else echo "FAIL ($count files, $bytes bytes)"; fi
}

# strace_counts FILE: "all fsync+fdatasync syncfs fsetxattr rename* utimensat open*" calls from
# strace -c's table (column 4 of each system call's row: calls)
strace_counts() {
  awk '
    $1 ~ /^[0-9.]+$/ && $NF != "total" {
      all += $4
      if ($NF == "fsync" || $NF == "fdatasync") fsync += $4
      if ($NF == "syncfs") syncfs += $4
      if ($NF == "fsetxattr") xattr += $4
      if ($NF ~ /^rename/) rename += $4
      if ($NF == "utimensat") utim += $4
      if ($NF ~ /^open/) open += $4
    }
    END { printf "%d %d %d %d %d %d %d\n", all, fsync, syncfs, xattr, rename, utim, open }
  ' "$1"
}

R_TOOL=() R_WALL=() R_USER=() R_SYS=() R_CPU=() R_RSS=() R_SRV=() R_CHECK=() R_STRACE=()
read -r -a TOOL_LIST <<< "$TOOLS"
for tool in "${TOOL_LIST[@]}"; do
  dir=$WORK/$tool
  command_of "$tool" "$dir"
  log "$tool: ra:$SRC -> $dir"
  rc=0
  timed "$WORK/$tool.log" "${CMD[@]}" || rc=$?
  read -r _ user sys _ < <(tail -n 1 "$WORK/time.out")
  check=$(check_dir "$dir")
  [ "$rc" = 0 ] || check="FAIL (exit $rc)"
  R_TOOL+=("$tool") R_WALL+=("$T_WALL") R_USER+=("$user") R_SYS+=("$sys") R_CPU+=("$T_CPU")
  R_RSS+=("$((T_RSS / 1024))") R_SRV+=("$T_SERVERS") R_CHECK+=("$check")
  log "$tool: wall $T_WALL s, user $user s, sys $sys s, servers $T_SERVERS CPU s: $check"
  rm -rf "$dir"
  counts="- - - - - - -"
  if [ "${BENCH_STRACE:-1}" != 0 ]; then
    command_of "$tool" "$dir-strace"
    settle
    if strace -c -f -o "$WORK/$tool.strace" "${CMD[@]}" > "$WORK/$tool.strace.log" 2>&1; then
      counts=$(strace_counts "$WORK/$tool.strace")
    fi
    rm -rf "$dir-strace"
  fi
  R_STRACE+=("$counts")
done

# ------------------------------------------------------------------ report
first_line() { local out; out=$("$@" 2>/dev/null) || true; echo "${out%%$'\n'*}"; }
echo
echo "RGW A -> local folder ($(df -T "$WORK" | awk 'NR == 2 { print $2 }')), $N x $KB KiB, on $(nproc) cores$(server_setup);" \
  "$(first_line "$FERRY_BIN" --version), $(first_line "${RCLONE[@]}" version), $(first_line /usr/bin/aws --version | cut -d' ' -f1); $(date -u +%F)"
echo
echo "| tool | wall s | user s | sys s | CPU s | peak RSS MiB | servers' CPU s | wall / rclone | CPU / rclone | check |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
rw="" rc_cpu=""
for i in "${!R_TOOL[@]}"; do
  if [ "${R_TOOL[$i]}" = rclone ]; then rw=${R_WALL[$i]} rc_cpu=${R_CPU[$i]}; fi
done
FAILURES=0
for i in "${!R_TOOL[@]}"; do
  [ "${R_CHECK[$i]}" = ok ] || FAILURES=$((FAILURES + 1))
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${R_TOOL[$i]}" "${R_WALL[$i]}" \
    "${R_USER[$i]}" "${R_SYS[$i]}" "${R_CPU[$i]}" "${R_RSS[$i]}" "${R_SRV[$i]}" \
    "$(ratio "${R_WALL[$i]}" "${rw:-0}")" "$(ratio "${R_CPU[$i]}" "${rc_cpu:-0}")" "${R_CHECK[$i]}"
done
echo
echo "System calls (strace -c -f, a separate run of each tool):"
echo
echo "| tool | all calls | fsync + fdatasync | syncfs | fsetxattr | rename | utimensat | open |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for i in "${!R_TOOL[@]}"; do
  read -r -a c <<< "${R_STRACE[$i]}"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "${R_TOOL[$i]}" "${c[@]}"
done
[ "$FAILURES" = 0 ] || die "$FAILURES tool run(s) failed"
