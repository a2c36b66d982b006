#!/usr/bin/env bash
# Azure Blob Storage under hostile replies (issue 48 §4): tests/tools/fault_proxy.py sits in front
# of Azurite (remote azf; remote az goes direct) and faults a fifth of the requests with a 503
# (uploads; --no-adaptive-rate: these are random, not a rate, and the adaptive rate's answer to
# them is faults_test's), a connection reset before forwarding, a
# reply cut short after the request took effect, a slow reply, and (downloads) one flipped byte
# in a blob's body. Shared Key signs the path and the
# x-ms-* headers, not the Host, so the proxy relays signed requests unchanged.
#   1. local -> Azure through the proxy, 120 small files and two of 12 MiB (Put Block + Put Block
#      List), a listing forced to fail once: exit 0, and a direct verify that reads both sides
#      finds every blob identical;
#   2. Azure -> local through the proxy with flipped bytes: exit 0 and the folder byte-identical
#      to the source (a flipped body is caught by the blob's Content-MD5 or ferry's CRC32C and
#      read again, never written);
# each fault kind must have happened.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_AZURE_ENDPOINT:?FERRY_TEST_AZURE_ENDPOINT not set: start scripts/azurite-start.sh}"
: "${FERRY_TEST_AZURE_ACCOUNT:?}" "${FERRY_TEST_AZURE_KEY:?}"
export AZ_KEY=$FERRY_TEST_AZURE_KEY
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
az() { "$PY" "$FERRY_TEST_TOOLS/azure_admin.py" "$FERRY_TEST_AZURE_ENDPOINT" "$FERRY_TEST_AZURE_ACCOUNT" "$AZ_KEY" "$@"; }
C=ferry-faults-$$-$RANDOM

PROXY_PID=""
stop_proxy() {  # SIGTERM: the proxy writes its final counts
  [ -z "$PROXY_PID" ] || { kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; }
  PROXY_PID=""
}
trap 'stop_proxy; az rmcontainer "$C" || true; cleanup' EXIT
# start_proxy NAME KINDS [OPTION...]: a fresh proxy in front of Azurite on $PORT (0 the first
# time: any free port, kept for the next one so that the remote's endpoint stays right)
PORT=0
start_proxy() {
  local name=$1 kinds=$2 upstream=${FERRY_TEST_AZURE_ENDPOINT#http://}
  shift 2
  stop_proxy
  "$PY" "$FERRY_TEST_TOOLS/fault_proxy.py" --upstream "${upstream%%/*}" --port "$PORT" \
    --seed 5 --rate 0.2 --kinds "$kinds" --slow-ms 100 --stats "$WORK/$name.stats" \
    --log "$WORK/$name.log" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PROXY_PID=$!
  wait_for 30 port_file_written "$WORK/$name.out" || true
  PORT=$(head -n 1 "$WORK/$name.out")
  [ -n "$PORT" ] || { echo "fault proxy $name did not start: $(cat "$WORK/$name.err")"; exit 1; }
}
# faults NAME KIND: how many faults of KIND the proxy NAME injected (its final counts)
faults() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["by_kind"].get(sys.argv[2], 0))' "$WORK/$1.stats" "$2"; }

start_proxy up 503,reset,truncate,slow --force "503:comp=list"
account_path=${FERRY_TEST_AZURE_ENDPOINT#http://*/}
cat >> "$CONF" <<TOML

[remotes.az]
type = "azure"
account = "$FERRY_TEST_AZURE_ACCOUNT"
endpoint = "$FERRY_TEST_AZURE_ENDPOINT"
account_key_env = "AZ_KEY"

[remotes.azf]
type = "azure"
account = "$FERRY_TEST_AZURE_ACCOUNT"
endpoint = "http://127.0.0.1:$PORT/$account_path"
account_key_env = "AZ_KEY"
TOML
check "a container" az mkcontainer "$C"

mkdir -p "$WORK/src/d"
for i in $(seq 1 120); do head -c $((1000 + i * 37)) /dev/urandom > "$WORK/src/d/f$i"; done
head -c $((12 << 20)) /dev/urandom > "$WORK/src/big1.bin"
head -c $((12 << 20)) /dev/urandom > "$WORK/src/big2.bin"

# 1. up, through the faults
check "local -> Azure through 503s, resets, cut replies and slow ones: exit 0" \
  ferry sync "$WORK/src" "azf:$C/up" --no-progress --part-size 5MiB --json --concurrency 16 \
  --no-adaptive-rate \
  > "$WORK/up.json"
stop_proxy
for kind in 503 reset truncate slow; do
  check "  $kind faults happened ($(faults up "$kind"))" [ "$(faults up "$kind")" -gt 0 ]
done
check "  a direct verify that reads both sides: 122 identical" \
  bash -c "'$FERRY_BIN' --config '$CONF' verify '$WORK/src' 'az:$C/up' --download > '$WORK/v.txt' 2>&1; \
           grep -q '^verify: 122 identical, 0 differ, 0 missing, 0 extra, 0 errors' '$WORK/v.txt'"

# 2. down, with flipped bytes in blob bodies too
start_proxy down reset,truncate,flip,slow
check "Azure -> local through resets, cut replies, slow ones and flipped bytes: exit 0" \
  ferry sync "azf:$C/up" "$WORK/down" --no-progress --concurrency 16
stop_proxy
for kind in flip truncate; do
  check "  $kind faults happened ($(faults down "$kind"))" [ "$(faults down "$kind")" -gt 0 ]
done
check "  the folder is byte-identical to the source" diff -r "$WORK/src" "$WORK/down"

finish
