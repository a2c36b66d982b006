#!/usr/bin/env bash
# Google Cloud Storage under hostile replies (issue 48 §4): tests/tools/fault_proxy.py sits in
# front of the GCS emulator (remote gf; remote g goes direct) and faults a fifth of the requests
# with a 503 (uploads; --no-adaptive-rate: these are random, not a rate), a connection reset
# before forwarding, a reply cut short after the request took effect, a slow reply, and
# (downloads) one flipped byte in an alt=media body. The emulator builds a resumable session's
# URI from the Host it was sent, so a session's chunks go through the proxy too.
#   1. local -> GCS through the proxy, 120 small files and two of 12 MiB (one resumable session
#      each, 5 MiB chunks), a listing forced to fail once, a chunk forced to a 503 and the next
#      chunk request cut after the session kept it (ferry must ask the session what it kept,
#      not send the chunk again blindly: the emulator, like GCS, refuses a chunk that does not
#      continue where the session stands): exit 0, and a direct verify that reads both sides
#      finds every object identical;
#   2. GCS -> local through the proxy with flipped bytes: exit 0 and the folder byte-identical
#      to the source (a flipped body is caught by the object's CRC32C/MD5 or ferry's CRC32C and
#      read again, never written);
# each fault kind must have happened.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_GCS_ENDPOINT:?FERRY_TEST_GCS_ENDPOINT not set: start scripts/gcs-emulator-start.sh}"
GCS=$FERRY_TEST_GCS_ENDPOINT
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# the emulator keeps everything in memory and makes a bucket at its first request: no cleanup
G=ferry-faults-$$-$RANDOM

PROXY_PID=""
stop_proxy() {  # SIGTERM: the proxy writes its final counts
  [ -z "$PROXY_PID" ] || { kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; }
  PROXY_PID=""
}
trap 'stop_proxy; cleanup' EXIT
# start_proxy NAME KINDS [OPTION...]: a fresh proxy in front of the emulator on $PORT (0 the
# first time: any free port, kept for the next one so that the remote's endpoint stays right)
PORT=0
start_proxy() {
  local name=$1 kinds=$2 upstream=${GCS#http://}
  shift 2
  stop_proxy
  "$PY" "$FERRY_TEST_TOOLS/fault_proxy.py" --upstream "${upstream%%/*}" --port "$PORT" \
    --seed 7 --rate 0.2 --kinds "$kinds" --slow-ms 100 --stats "$WORK/$name.stats" \
    --log "$WORK/$name.log" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PROXY_PID=$!
  wait_for 30 port_file_written "$WORK/$name.out" || true
  PORT=$(head -n 1 "$WORK/$name.out")
  [ -n "$PORT" ] || { echo "fault proxy $name did not start: $(cat "$WORK/$name.err")"; exit 1; }
}
# faults NAME KIND: how many faults of KIND the proxy NAME injected (its final counts)
faults() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["by_kind"].get(sys.argv[2], 0))' "$WORK/$1.stats" "$2"; }
# forced NAME KIND REGEX: whether the proxy NAME logged a KIND fault on a request line matching REGEX
forced() { grep -Eq "^$2	$3" "$WORK/$1.log"; }

SESSION_PUT='PUT /upload/storage/v1/b/[^ ]*upload_id='
start_proxy up 503,reset,truncate,slow --force "503:GET /storage/v1/b/[^/]+/o\?" \
  --force "503:$SESSION_PUT" --force "truncate:$SESSION_PUT"
cat >> "$CONF" <<TOML

[remotes.g]
type = "gcs"
endpoint = "$GCS"
anonymous = true

[remotes.gf]
type = "gcs"
endpoint = "http://127.0.0.1:$PORT"
anonymous = true
TOML

mkdir -p "$WORK/src/d"
for i in $(seq 1 120); do head -c $((1000 + i * 37)) /dev/urandom > "$WORK/src/d/f$i"; done
head -c $((12 << 20)) /dev/urandom > "$WORK/src/big1.bin"
head -c $((12 << 20)) /dev/urandom > "$WORK/src/big2.bin"

# 1. up, through the faults
check "local -> GCS through 503s, resets, cut replies and slow ones: exit 0" \
  ferry sync "$WORK/src" "gf:$G/up" --no-progress --part-size 5MiB --multipart-threshold 5MiB \
  --json --concurrency 16 \
  --no-adaptive-rate > "$WORK/up.json"
stop_proxy
for kind in 503 reset truncate slow; do
  check "  $kind faults happened ($(faults up "$kind"))" [ "$(faults up "$kind")" -gt 0 ]
done
check "  a listing answered 503 once" forced up 503 'GET /storage/v1/b/[^/]+/o\?'
check "  a session's chunk cut after it was kept" forced up truncate "$SESSION_PUT"
check "  a direct verify that reads both sides: 122 identical" \
  bash -c "'$FERRY_BIN' --config '$CONF' verify '$WORK/src' 'g:$G/up' --download > '$WORK/v.txt' 2>&1; \
           grep -q '^verify: 122 identical, 0 differ, 0 missing, 0 extra, 0 errors' '$WORK/v.txt'"

# 2. down, with flipped bytes in object bodies too
start_proxy down reset,truncate,flip,slow
check "GCS -> local through resets, cut replies, slow ones and flipped bytes: exit 0" \
  ferry sync "gf:$G/up" "$WORK/down" --no-progress --concurrency 16
stop_proxy
for kind in flip truncate; do
  check "  $kind faults happened ($(faults down "$kind"))" [ "$(faults down "$kind")" -gt 0 ]
done
check "  the folder is byte-identical to the source" diff -r "$WORK/src" "$WORK/down"

finish
