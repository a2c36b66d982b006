#!/usr/bin/env bash
# Benchmark: ferry against rclone writing into Azure Blob Storage (Azurite), in ONE run (issue 48
# §4; compare within a run, as ratios: Azurite is a single Node.js process sharing the cores).
#
#   bash bench/bench-azure.sh                                    # 2000 x 16 KiB, 2 x 512 MiB
#   BENCH_SMALL_N=200 BENCH_BIG_MB=16 bash bench/bench-azure.sh  # quick check of the harness
#
# Workloads, each from a local folder (generated once, not timed) into a fresh container:
#   small    BENCH_SMALL_N x 16 KiB files (default 2000): Put Blob each
#   big      BENCH_BIG_N x BENCH_BIG_MB MiB files (default 2 x 512): Put Block + Put Block List
# Tools:
#   ferry    ferry cp DIR az:CONTAINER (a remote with type = "azure"; its defaults)
#   rclone   rclone copy DIR az:CONTAINER --transfers 32 --checkers 32 (small), --transfers 2
#            --azureblob-upload-concurrency 8 (big); its azureblob backend (SAS URL)
# Each command is timed with /usr/bin/time (wall, user+sys, peak RSS) and Azurite's own CPU
# over the same span is read from /proc (the server's share of a wall on this 2-core machine).
# After each run the container must hold as many blobs and bytes as the folder (rclone size),
# otherwise the row says FAIL. The containers are removed after each run (Azurite keeps blobs in
# memory). Prints a markdown table on stdout.
#
# Environment: FERRY_TEST_AZURE_ENDPOINT / _ACCOUNT / _KEY (default: start Azurite with
#   scripts/azurite-start.sh and use what it prints), FERRY_BIN (default: build/src/cli/ferry),
#   BENCH_SMALL_N, BENCH_BIG_N, BENCH_BIG_MB, BENCH_TOOLS (default "ferry rclone"),
#   BENCH_WORKLOADS (default "small big"), BENCH_DIR (default /tmp/ferry-bench-azure).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

SMALL_N=${BENCH_SMALL_N:-2000}
BIG_N=${BENCH_BIG_N:-2}
BIG_MB=${BENCH_BIG_MB:-512}
TOOLS=${BENCH_TOOLS:-ferry rclone}
WORKLOADS=${BENCH_WORKLOADS:-small big}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench-azure}
FERRY_BIN=${FERRY_BIN:-$FERRY_ROOT/build/src/cli/ferry}
ID=fa$(date +%s)
WORK=$BENCH_DIR/work
mkdir -p "$WORK"

log() { ferry_log bench-azure "$@"; }
die() { log "ERROR: $*"; exit 1; }

[ -x "$FERRY_BIN" ] || die "no ferry at $FERRY_BIN (build it: cmake --build build --target ferry)"
command -v rclone > /dev/null || die "rclone is not installed (scripts/install-deps.sh bench)"
if [ -z "${FERRY_TEST_AZURE_ENDPOINT:-}" ]; then
  log "starting Azurite (scripts/azurite-start.sh)"
  eval "$(bash scripts/azurite-start.sh | grep -E '^FERRY_TEST_AZURE_[A-Z]+=' | sed 's/^/export /')"
fi
export BENCH_AZ_KEY=$FERRY_TEST_AZURE_KEY

CONFIG=$WORK/ferry.toml
cat > "$CONFIG" <<TOML
[remotes.az]
type = "azure"
account = "$FERRY_TEST_AZURE_ACCOUNT"
endpoint = "$FERRY_TEST_AZURE_ENDPOINT"
account_key_env = "BENCH_AZ_KEY"
TOML
# rclone 1.60's azureblob cannot be pointed at an emulator's address with a key: it goes through
# an account SAS URL (tests/tools/azure_admin.py), as tests/cli/azure_test.sh does
RCLONE_CONF=$WORK/rclone.conf
cat > "$RCLONE_CONF" <<CONF
[az]
type = azureblob
sas_url = $FERRY_TEST_AZURE_ENDPOINT?$(python3 tests/tools/azure_admin.py "$FERRY_TEST_AZURE_ENDPOINT" "$FERRY_TEST_AZURE_ACCOUNT" "$FERRY_TEST_AZURE_KEY" sas)
CONF
RCLONE=(rclone --config "$RCLONE_CONF")

# The Node.js process serving the blob API (Azurite), by the port of the endpoint.
port=$(sed -E 's|^[a-z]+://[^:/]+:([0-9]+).*|\1|' <<< "$FERRY_TEST_AZURE_ENDPOINT")
AZ_PID=$(pgrep -f "azurite-blob.*--blobPort $port" | head -n 1 || true)
[ -n "$AZ_PID" ] || log "warning: no Azurite process found for port $port: its CPU is not reported"
azurite_ticks() {
  [ -n "$AZ_PID" ] || { echo 0; return; }
  sed 's/.*) //' "/proc/$AZ_PID/stat" | awk '{ print $12 + $13 }'
}

# ------------------------------------------------------------------ source data (not timed)
make_sources() {
  if [ ! -f "$BENCH_DIR/small-$SMALL_N/.done" ]; then
    log "making $SMALL_N x 16 KiB in $BENCH_DIR/small-$SMALL_N"
    rm -rf "$BENCH_DIR/small-$SMALL_N"; mkdir -p "$BENCH_DIR/small-$SMALL_N/d"
    head -c $((SMALL_N * 16384)) /dev/urandom | split -b 16384 -a 5 -d - "$BENCH_DIR/small-$SMALL_N/d/o"
    touch "$BENCH_DIR/small-$SMALL_N/.done"
  fi
  if [ ! -f "$BENCH_DIR/big-$BIG_N-$BIG_MB/.done" ]; then
    log "making $BIG_N x $BIG_MB MiB in $BENCH_DIR/big-$BIG_N-$BIG_MB"
    rm -rf "$BENCH_DIR/big-$BIG_N-$BIG_MB"; mkdir -p "$BENCH_DIR/big-$BIG_N-$BIG_MB/d"
    for i in $(seq 1 "$BIG_N"); do
      head -c $((BIG_MB << 20)) /dev/urandom > "$BENCH_DIR/big-$BIG_N-$BIG_MB/d/big$i"
    done
    touch "$BENCH_DIR/big-$BIG_N-$BIG_MB/.done"
  fi
}
source_of() { case $1 in small) echo "$BENCH_DIR/small-$SMALL_N/d" ;; big) echo "$BENCH_DIR/big-$BIG_N-$BIG_MB/d" ;; esac; }

# ------------------------------------------------------------------ one run
# run_one WORKLOAD TOOL: prints one table row
run_one() {
  local w=$1 tool=$2 src container lf rc=0 before after az_cpu want got
  src=$(source_of "$w")
  container=$ID-$w-$tool
  lf=$WORK/$w-$tool.log
  "${RCLONE[@]}" mkdir "az:$container"
  before=$(azurite_ticks)
  case $tool in
    ferry) timed "$lf" "$FERRY_BIN" --config "$CONFIG" cp "$src" "az:$container" --no-progress || rc=$? ;;
    rclone)
      local flags=(--transfers 32 --checkers 32)
      [ "$w" = big ] && flags=(--transfers 2 --azureblob-upload-concurrency 8)
      timed "$lf" "${RCLONE[@]}" copy "$src" "az:$container" "${flags[@]}" || rc=$? ;;
    *) die "unknown tool $tool" ;;
  esac
  after=$(azurite_ticks)
  az_cpu=$(awk -v a="$before" -v b="$after" -v h="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / h }')
  want=$(find "$src" -type f -printf "%s\n" | awk "{ s += \$1 } END { print s + 0 }")
  got=$("${RCLONE[@]}" size "az:$container" --json 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"])' || echo "?")
  local state=ok
  [ "$rc" = 0 ] && [ "$got" = "$want" ] || state="FAIL (exit $rc, $got of $want bytes)"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$w" "$tool" "$T_WALL" "$T_CPU" \
    "$((T_RSS / 1024))" "$az_cpu" "$state"
  echo "$w $tool $T_WALL $T_CPU" >> "$WORK/rows"
  "${RCLONE[@]}" purge "az:$container" > /dev/null 2>&1 || log "could not remove container $container"
}

make_sources
: > "$WORK/rows"
echo "## ferry and rclone into Azurite ($(date -u +%Y-%m-%d), $(nproc) cores; ferry $("$FERRY_BIN" --version | head -n 1); $(rclone version | head -n 1))"
echo
echo "| workload | tool | wall s | CPU s (user+sys) | peak RSS MiB | Azurite CPU s | result |"
echo "|---|---|---|---|---|---|---|"
for w in $WORKLOADS; do
  for tool in $TOOLS; do run_one "$w" "$tool"; done
done
echo
echo "Ratios ferry / rclone (below 1: ferry is faster or lighter):"
awk '{ wall[$1" "$2] = $3; cpu[$1" "$2] = $4; ws[$1] = 1 }
     END { for (w in ws) if ((w" ferry") in wall && (w" rclone") in wall && wall[w" rclone"] > 0)
             printf "- %s: wall %.2f, CPU %.2f\n", w, wall[w" ferry"] / wall[w" rclone"],
                    cpu[w" ferry"] / (cpu[w" rclone"] > 0 ? cpu[w" rclone"] : 1) }' "$WORK/rows"
