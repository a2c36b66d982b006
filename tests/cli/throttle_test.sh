#!/usr/bin/env bash
# The adaptive rate (AIMD per endpoint, docs/design/limits.md "Adaptive rate") against a gateway
# that throttles by rate: tests/tools/fault_proxy.py --throttle-rps X in front of gateway A
# answers 503 SlowDown (no Retry-After, as S3) to every request above X per second (a token
# bucket, burst X/10) without forwarding it. N (600) small objects are copied from a folder
# through it at a fixed --concurrency 32 (the executor does not adapt: what holds the rate down
# is the adaptive rate alone), long enough for the rate to climb back to X once after the first
# decreases (about 16 s) and be cut again:
#   - exit 0, every object there and byte-identical (read back through the direct remote);
#   - after the first SETTLE seconds (the first decreases: the run starts with 32 requests at
#     once), fewer than 1% of the requests the proxy saw were throttled, and the requests per
#     second it saw stayed below X on average;
#   - the metrics show the decreases and the rate in force for the proxy's endpoint.
# Then half of the objects copied the same way with --no-adaptive-rate, for comparison (printed;
# a larger part of its requests must be throttled: its 503s are only retried, with backoff, and
# the requests keep coming).
# FERRY_THROTTLE_RPS / FERRY_THROTTLE_N override X and N.
source "$(dirname "$0")/testlib.bash"
PROXY="$FERRY_TEST_TOOLS/fault_proxy.py"
X=${FERRY_THROTTLE_RPS:-30}
N=${FERRY_THROTTLE_N:-600}
SETTLE=5
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

PROXY_PID=""
stop_proxy() {  # SIGTERM: the proxy writes its final counts
  if [ -n "$PROXY_PID" ]; then
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
  fi
  PROXY_PID=""
}
trap 'stop_proxy; cleanup' EXIT
# start_proxy NAME: a throttling proxy in front of gateway A; remote "t" goes through it (the
# config is written again with its port). Counts in $WORK/NAME.stats.
start_proxy() {
  local name=$1 upstream=${FERRY_TEST_S3_ENDPOINT#http://}
  "$PY" "$PROXY" --upstream "${upstream%/}" --port 0 --rate 0 --throttle-rps "$X" \
    --stats "$WORK/$name.stats" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PROXY_PID=$!
  wait_for 30 port_file_written "$WORK/$name.out" || true
  local port
  port=$(head -1 "$WORK/$name.out")
  [ -n "$port" ] || { echo "fault proxy $name did not start: $(cat "$WORK/$name.err")"; exit 1; }
  PROXY_ENDPOINT=127.0.0.1:$port
  cp "$CONF" "$WORK/$name.toml"
  cat >> "$WORK/$name.toml" <<TOML

[remotes.t]
endpoint = "http://$PROXY_ENDPOINT"
region = "${FERRY_TEST_S3_REGION:-region-a}"
access_key_id_env = "RA_KEY"
secret_access_key_env = "RA_SECRET"
TOML
}
# figures NAME: from the proxy's timeline, one line of KEY=VALUE: requests, throttled, the same
# after the first SETTLE seconds, the throttled fraction then (percent), the mean and the most
# requests per second then
figures() {
  "$PY" - "$WORK/$1.stats" "$SETTLE" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
settle = int(sys.argv[2])
timeline = s["timeline"]
late = timeline[settle:]
# the last second is partial: not in the rates
full = late[:-1] if len(late) > 1 else late
req = sum(r for r, _ in late)
thr = sum(t for _, t in late)
print("requests=%d throttled=%d late_requests=%d late_throttled=%d late_pct=%.2f "
      "late_rps=%.1f late_max_rps=%d seconds=%d" % (
          s["requests"], s["throttled"], req, thr, 100.0 * thr / max(1, req),
          sum(r for r, _ in full) / max(1, len(full)), max([r for r, _ in full] or [0]),
          len(timeline)))
EOF
}
field() { tr ' ' '\n' <<< "$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
below() { "$PY" -c "import sys; sys.exit(0 if $1 < $2 else 1)"; }

mkdir -p "$WORK/src"
"$PY" - "$WORK/src" "$N" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(root, "o%04d" % i), "wb") as f:
        f.write(os.urandom(512 + (i * 37) % 1500))
EOF

# --- with the adaptive rate (the default) ----------------------------------------------------
A=$(new_bucket ra)
start_proxy aimd
t0=$(date +%s.%N)
rc=0
"$FERRY_BIN" --config "$WORK/aimd.toml" cp "$WORK/src" "t:$A/" --concurrency 32 --no-progress \
  --metrics-file "$WORK/aimd.prom" > "$WORK/aimd.log" 2>&1 || rc=$?
wall=$("$PY" -c "print(round($(date +%s.%N) - $t0, 1))")
stop_proxy
f=$(figures aimd)
echo "  adaptive rate, gateway at $X/s: $f wall=${wall}s"
check "$N objects through a proxy throttling above $X/s: exit 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -5 "$WORK/aimd.log"
ferry cp "ra:$A" "$WORK/back" --no-progress > /dev/null 2>&1
check "  every object there, byte-identical" diff -r "$WORK/src" "$WORK/back"
check "  after the first ${SETTLE}s, under 1% of the requests throttled" \
  below "$(field "$f" late_pct)" 1
check "  after the first ${SETTLE}s, below $X requests/s on average" \
  below "$(field "$f" late_rps)" "$X"
check "  the run throttled at first (the test can fail)" [ "$(field "$f" throttled)" -gt 0 ]
decreases=$(awk -v k="ferry_limit_adaptive_decreases_total{endpoint=\"$PROXY_ENDPOINT\"}" \
  '$1 == k { print $2 }' "$WORK/aimd.prom")
rate=$(awk -v k="ferry_limit_adaptive_requests_per_second{endpoint=\"$PROXY_ENDPOINT\"}" \
  '$1 == k { print $2 }' "$WORK/aimd.prom")
echo "  metrics: decreases=$decreases adaptive rate at exit=$rate"
check "  the metrics show the decreases of the proxy's endpoint" [ "${decreases:-0}" -ge 1 ]
check "  and its adaptive rate" [ -n "$rate" ]
check "  the first decrease is logged once" \
  [ "$(grep -c "limits: $PROXY_ENDPOINT throttles requests" "$WORK/aimd.log")" -ge 1 ]

# --- without it ------------------------------------------------------------------------------
B=$(new_bucket ra)
mkdir -p "$WORK/half"
for obj in "$WORK"/src/o*; do
  i=${obj##*/o}
  if [ $((10#$i)) -lt $((N / 2)) ]; then ln "$obj" "$WORK/half/${obj##*/}"; fi
done
start_proxy off
t0=$(date +%s.%N)
rc_off=0
"$FERRY_BIN" --config "$WORK/off.toml" cp "$WORK/half" "t:$B/" --concurrency 32 --no-progress \
  --no-adaptive-rate --metrics-file "$WORK/off.prom" > "$WORK/off.log" 2>&1 || rc_off=$?
wall_off=$("$PY" -c "print(round($(date +%s.%N) - $t0, 1))")
stop_proxy
f_off=$(figures off)
echo "  --no-adaptive-rate, $((N / 2)) objects, gateway at $X/s: $f_off wall=${wall_off}s exit=$rc_off"
check "  without the adaptive rate, a larger part of the requests is throttled" \
  below "$(field "$f" late_pct)" "$(field "$f_off" late_pct)"
check "  and no adaptive rate in its metrics" \
  bash -c "! grep -q '^ferry_limit_adaptive_requests_per_second{' '$WORK/off.prom'"
finish
