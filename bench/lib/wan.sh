# WAN emulation for the bench scripts (sourced; needs root, `ip` and `tc`): a tool run with
# wan_exec lives in a network namespace that reaches region A over a fast link and region B
# over a slow one, as a source-side worker does when B is another region:
#
#   namespace WAN_NS ──veth fwa<pid>── host 10.231.0.1:PORT_A ─proxy─> 127.0.0.1 (gateway A)
#                    ──veth fwb<pid>── host 10.232.0.1:PORT_B ─proxy─> 127.0.0.1 (gateway B)
#                        tc htb RATE each way, the proxy adds RTT/2 each way
#
# The gateways listen on loopback only, so bench/lib/delay_proxy.py forwards from each link's
# host address (no delay towards A). Bytes on the B link (both directions, at the host end) are
# what crossed the expensive link, HTTP and TCP included: wan_bytes.
#
# wan_up RATE RTT_MS  (e.g. 100mbit 40): sets WAN_NS, WAN_ENDPOINT_A, WAN_ENDPOINT_B; needs
#                     S3_ENDPOINT / S3_ENDPOINT_B (rgw_up). The caller runs wan_down at exit.
# wan_exec CMD...:    CMD inside the namespace.
# wan_bytes:          bytes that crossed the B link so far, both directions.
# wan_down:           removes the namespace, the links and the proxies (safe to call twice).

WAN_NS="" WAN_PIDS=()

wan_up() {
  local rate=$1 rtt=$2 id=$$ port_a port_b
  command -v tc >/dev/null && command -v ip >/dev/null || { echo "wan: needs ip and tc" >&2; return 1; }
  port_a=${S3_ENDPOINT##*:}; port_a=${port_a%/}
  port_b=${S3_ENDPOINT_B##*:}; port_b=${port_b%/}
  WAN_NS=ferrywan$id WAN_IF_A=fwa$id WAN_IF_B=fwb$id
  ip netns add "$WAN_NS"
  ip -n "$WAN_NS" link set lo up
  local side net
  for side in a b; do
    if [ "$side" = a ]; then net=10.231.0; else net=10.232.0; fi
    local host_if=fw$side$id
    ip link add "$host_if" type veth peer name "${host_if}n"
    ip link set "${host_if}n" netns "$WAN_NS"
    ip addr add "$net.1/30" dev "$host_if"
    ip link set "$host_if" up
    ip -n "$WAN_NS" addr add "$net.2/30" dev "${host_if}n"
    ip -n "$WAN_NS" link set "${host_if}n" up
  done
  # the slow link: htb at RATE in both directions (host egress = downloads from B)
  tc qdisc add dev "$WAN_IF_B" root handle 1: htb default 10
  tc class add dev "$WAN_IF_B" parent 1: classid 1:10 htb rate "$rate" ceil "$rate"
  ip netns exec "$WAN_NS" tc qdisc add dev "${WAN_IF_B}n" root handle 1: htb default 10
  ip netns exec "$WAN_NS" tc class add dev "${WAN_IF_B}n" parent 1: classid 1:10 htb rate "$rate" ceil "$rate"
  local py=/usr/bin/python3 lib
  [ -x "$py" ] || py=python3
  lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  "$py" "$lib/delay_proxy.py" "10.231.0.1:$port_a" "127.0.0.1:$port_a" 0 > "$WORK/wan-a.out" 2>&1 &
  WAN_PIDS+=($!)
  "$py" "$lib/delay_proxy.py" "10.232.0.1:$port_b" "127.0.0.1:$port_b" \
    "$(awk -v r="$rtt" 'BEGIN { print r / 2 }')" > "$WORK/wan-b.out" 2>&1 &
  WAN_PIDS+=($!)
  local i
  for i in $(seq 50); do
    grep -q ready "$WORK/wan-a.out" 2>/dev/null && grep -q ready "$WORK/wan-b.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q ready "$WORK/wan-b.out" || { echo "wan: the proxies did not start" >&2; return 1; }
  WAN_ENDPOINT_A=http://10.231.0.1:$port_a
  WAN_ENDPOINT_B=http://10.232.0.1:$port_b
}

wan_exec() { ip netns exec "$WAN_NS" "$@"; }

wan_bytes() {
  local d=/sys/class/net/$WAN_IF_B/statistics
  echo $(( $(cat "$d/rx_bytes") + $(cat "$d/tx_bytes") ))
}

wan_down() {
  local p
  for p in "${WAN_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${WAN_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  WAN_PIDS=()
  if [ -n "$WAN_NS" ]; then
    ip link del "$WAN_IF_A" 2>/dev/null || true
    ip link del "$WAN_IF_B" 2>/dev/null || true
    ip netns del "$WAN_NS" 2>/dev/null || true
    WAN_NS=""
  fi
}
