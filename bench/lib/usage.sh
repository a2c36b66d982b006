# Requests as RGW counts them (sourced by the bench scripts): its usage log, per user and bucket.
# Needs the gateways' usage log (RGW_USAGE_LOG=true for scripts/rgw-start.sh, as the test pair
# runs) and CEPH_CONF (or FERRY_TEST_CEPH_CONF). Without them usage_ops prints nothing and the
# reports say "n/a".

# usage_ops ZONE BUCKET: requests of every kind RGW logged so far for BUCKET on zone a|b.
usage_ops() {
  local conf=${FERRY_TEST_CEPH_CONF:-${CEPH_CONF:-}} uid=tester
  [ -n "$conf" ] && command -v radosgw-admin >/dev/null || return 0
  [ "$1" = a ] || uid=tester-$1
  radosgw-admin -c "$conf" --rgw-realm "realm-$1" --rgw-zonegroup "region-$1" \
    --rgw-zone "zone-$1" usage show --uid "$uid" 2>/dev/null \
    | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
ops = 0
for e in d.get("entries", []):
    for b in e.get("buckets", []):
        if b.get("bucket") == sys.argv[1]:
            ops += sum(c.get("ops", 0) for c in b.get("categories", []))
print(ops)' "$2"
}

# usage_snapshot ZONE:BUCKET...: prints the total of usage_ops over the pairs ("" if unknown).
usage_snapshot() {
  local total=0 pair n
  for pair in "$@"; do
    n=$(usage_ops "${pair%%:*}" "${pair#*:}")
    [ -n "$n" ] || { echo ""; return 0; }
    total=$((total + n))
  done
  echo "$total"
}

# per_object BEFORE AFTER N: (AFTER - BEFORE) / N with three decimals, or n/a.
per_object() {
  if [ -z "$1" ] || [ -z "$2" ]; then echo n/a; return; fi
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.3f", (b - a) / n }'
}
