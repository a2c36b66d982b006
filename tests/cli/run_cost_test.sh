#!/usr/bin/env bash
# What a run cost (docs/design/cost.md): a sync into RGW B with [remotes.rb.prices] set; its
# summary and --json count the requests by op class that RGW B's own usage log counted for the
# bucket, and the dollars are those counts times the prices (and keeping the bytes written, the
# STANDARD per GB-month); a dry run prints its estimate before
# anything is sent; a custom endpoint without prices is counted, not priced; `ferry worker
# --metrics-listen` exports ferry_requests_total and ferry_cost_dollars_total.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
B=$(new_bucket rb)
cat >> "$CONF" <<TOML
[remotes.rb.prices]
per_1000_put = 0.005
per_1000_list = 0.006
per_10000_get = 0.004
per_10000_head = 0.007
per_gb_out = 0.09
per_gb_month_STANDARD = 0.023
TOML
mkdir -p "$WORK/up"
for i in $(seq 1 12); do head -c $((1000 + i)) /dev/urandom > "$WORK/up/f$i.bin"; done

# RGW B's ops for the bucket by category, the get_bucket_location markers left out (JSON).
rgw_b_categories() {
  radosgw-admin -c "$FERRY_TEST_CEPH_CONF" --rgw-realm realm-b --rgw-zonegroup region-b \
    --rgw-zone zone-b usage show --uid tester-b 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin); out = {}
for e in d.get('entries', []):
    for k in e.get('buckets', []):
        if k.get('bucket') == sys.argv[1]:
            for c in k.get('categories', []):
                if c['category'] != 'get_bucket_location':
                    out[c['category']] = out.get(c['category'], 0) + c.get('ops', 0)
print(json.dumps(out))" "$1"
}

# a dry run: the estimate of the 12 PUTs before anything is sent
ferry sync "$WORK/up" "rb:$B" --dry-run --no-progress 2> "$WORK/dry.err" || true
check "dry run prints the estimate: 12 PUT at rb, priced by [remotes.rb.prices]" \
  grep -q "^dry run estimate: requests at rb: .*12 PUT.*(prices: \[remotes.rb.prices\])" "$WORK/dry.err"

check "RGW B's usage log caught up (before)" rgw_b_usage_caught_up "$B"
rgw_b_categories "$B" > "$WORK/before.json"
ferry sync "$WORK/up" "rb:$B" --no-progress --no-state --json --metrics-file "$WORK/run.prom" \
  > "$WORK/run.json" 2> "$WORK/run.err"
ferry sync "$WORK/up" "rb:$B" --no-progress --no-state 2> "$WORK/run.txt"
check "RGW B's usage log caught up (after)" rgw_b_usage_caught_up "$B"
rgw_b_categories "$B" > "$WORK/after.json"
echo "  RGW B counted: $(cat "$WORK/before.json") -> $(cat "$WORK/after.json")"
echo "  ferry: $(python3 -c "import json; print(json.load(open('$WORK/run.json'))['cost'])")"
echo "  $(grep '^requests at' "$WORK/run.txt")"

# ferry's counts of the --json run against RGW's: RGW counts HEAD/GET of objects as get_obj,
# HEAD of a bucket as stat_bucket, listings as list_bucket, PUTs as put_obj
check_counts() {
  python3 - "$WORK/before.json" "$WORK/after.json" "$WORK/run.json" "$WORK/run.txt" "$WORK/run.prom" <<'PY'
import json, re, sys
before, after = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
# two runs between the snapshots: the --json one copied 12 objects, the text one none
rgw = {k: after.get(k, 0) - before.get(k, 0) for k in after}
run = json.load(open(sys.argv[3]))
stores = {s['remote']: s for s in run['cost']['stores']}
rb = stores['rb']
req = rb['requests']
text = [l for l in open(sys.argv[4]) if l.startswith('requests at rb:')][0]
second = {op: int(n) for n, op in re.findall(r'(\d+) ([A-Z]+)', text.split(';')[0])}
total = lambda d: sum(d.values())
ok = True
def expect(what, got, want):
    global ok
    if got != want:
        print(f"  {what}: ferry {got}, want {want}"); ok = False
expect("PUT", req.get('PUT', 0), 12)
expect("PUT (RGW put_obj)", req.get('PUT', 0) + second.get('PUT', 0), rgw.get('put_obj', 0))
expect("LIST (RGW list_bucket)", req.get('LIST', 0) + second.get('LIST', 0), rgw.get('list_bucket', 0))
expect("every request (RGW's total)", total(req) + total(second), total(rgw))
p = {'PUT': 0.005 / 1000, 'LIST': 0.006 / 1000, 'GET': 0.004 / 10000, 'HEAD': 0.007 / 10000}
want = sum(n * p.get(op, 0) for op, n in req.items()) + rb['bytes_out'] / 2**30 * 0.09
if abs(rb['dollars'] - want) > 1e-12: print(f"  dollars {rb['dollars']} != {want}"); ok = False
expect("prices named", rb['prices'], '[remotes.rb.prices]')
prom = [l for l in open(sys.argv[5]) if l.startswith('ferry_cost_dollars_total{remote="rb"}')]
if not prom or abs(float(prom[0].split()[-1]) - rb['dollars']) > 1e-12:
    print(f"  --metrics-file's ferry_cost_dollars_total: {prom}"); ok = False
expect("bytes written", rb.get('bytes_written'), sum(1000 + i for i in range(1, 13)))
if abs(rb['storage_per_month'] - rb['bytes_written'] / 2**30 * 0.023) > 1e-15:
    print(f"  storage_per_month {rb['storage_per_month']}"); ok = False
sys.exit(0 if ok else 1)
PY
}
check "summary and --json count what RGW's usage log counted; dollars = counts x prices = --metrics-file's" check_counts

# backup, restore and cache warm carry the cost too; restore --dry-run's estimate (nothing
# read) against what the restore then sent, by ferry's own counters (the same estimator as a
# sync's dry run: estimate/planned_requests.h)
ferry backup "$WORK/up" "rb:$B/bk" --state "$WORK/bk.db" 2> "$WORK/backup.txt"
check "backup's summary prices its requests" \
  grep -q "^requests at rb: .*PUT.*(prices: \[remotes.rb.prices\]); keeping the" "$WORK/backup.txt"
ferry restore "rb:$B/bk" --prefix "" --to "$WORK/restored" --state "$WORK/bk.db" --dry-run \
  --json --report "$WORK/restore_dry_report" > "$WORK/restore_dry.json"
check "restore --dry-run writes nothing" [ ! -e "$WORK/restored" ]
check "  its --report: a would-copy row per object" \
  [ "$(python3 "$FERRY_TEST_TOOLS/report_check.py" count "$WORK/restore_dry_report" would-copy)" = 12 ]
ferry restore "rb:$B/bk" --prefix "" --to "$WORK/restored" --state "$WORK/bk.db" --json \
  > "$WORK/restore.json"
check_restore_estimate() {
  python3 - "$WORK/restore_dry.json" "$WORK/restore.json" <<'PY'
import json, sys
dry, run = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
est = {s['remote']: s for s in dry['cost']['stores']}['rb']
got = {s['remote']: s for s in run['cost']['stores']}['rb']
print(f"  restore of {run['objects_written']} objects: estimate {est['requests']}, "
      f"{est['bytes_out']} B out, ${est['dollars']:.9f}; sent {got['requests']}, "
      f"{got['bytes_out']} B out, ${got['dollars']:.9f}")
ok = dry['cost']['estimate'] is True and dry['objects'] == 12 and run['objects_written'] == 12
# the same requests at the backup location: the archive's Stat (HEAD) and its reads (one small
# archive: read whole by one GET) besides the bucket's check both runs sent; the bytes out are
# the archive's, within the few bytes of the check's replies
for op in ('GET', 'HEAD', 'LIST'):
    ok = ok and est['requests'].get(op) == got['requests'].get(op)
ok = ok and abs(est['bytes_out'] - got['bytes_out']) <= 1024
sys.exit(0 if ok else 1)
PY
}
check "restore --dry-run's estimate: the requests the restore sent, its bytes out within 1 KiB" \
  check_restore_estimate
# cache warm --dry-run: the estimate of the PUTs before anything is copied (the warm after it
# still copies all 12: the dry run wrote nothing, to the cache nor its index)
ferry cache warm "$WORK/up" --prefix "" --cache "rb:$B/cache" --state "$WORK/cache.db" --ttl 1h \
  --dry-run --json > "$WORK/warm_dry.json"
check "cache warm --dry-run's estimate: 12 objects, 12 PUTs into the cache" python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); rb = {s["remote"]: s for s in d["cost"]["stores"]}["rb"]
sys.exit(0 if d["would_copy"] == 12 and d["cost"]["estimate"] and rb["requests"].get("PUT") == 12 else 1)' \
  "$WORK/warm_dry.json"
ferry cache warm "$WORK/up" --prefix "" --cache "rb:$B/cache" --state "$WORK/cache.db" --ttl 1h \
  > "$WORK/warm.txt"
check "cache warm's summary: the 12 PUTs into the cache, priced" \
  grep -q "^requests at rb: 12 PUT.*(prices: \[remotes.rb.prices\])" "$WORK/warm.txt"

# replicate --dry-run: per version it would replicate, a CopyObject (one store), estimated
# before anything is written; the pass then sent that many
D=$(new_bucket rb)
cat >> "$CONF" <<TOML
[replication.buckets]
"arn:aws:s3:::$D" = "rb:$D"
TOML
cat > "$WORK/rules.json" <<JSON
{"ReplicationConfiguration": {"Role": "arn:aws:iam::1:role/r", "Rules": [{"ID": "f",
 "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "f"},
 "DeleteMarkerReplication": {"Status": "Disabled"}, "ExistingObjectReplication": {"Status": "Enabled"},
 "Destination": {"Bucket": "arn:aws:s3:::$D"}}]}}
JSON
ferry replicate "rb:$B" --replication-config "$WORK/rules.json" --state "$WORK/rep.db" \
  --dry-run > "$WORK/rep_dry.txt"
check "replicate --dry-run prints its estimate: 12 COPY at rb, priced" \
  grep -q "^dry run estimate: requests at rb: 12 COPY.*(prices: \[remotes.rb.prices\])" \
  "$WORK/rep_dry.txt"
ferry replicate "rb:$B" --replication-config "$WORK/rules.json" --state "$WORK/rep.db" \
  --json > "$WORK/rep.json"
echo "  $(grep '^dry run estimate' "$WORK/rep_dry.txt")"
echo "  replicate sent: $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cost'])" "$WORK/rep.json")"
rep_copies() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s={x['remote']: x for x in d['cost']['stores']}
sys.exit(0 if d['replicated'] == 12 and s['rb']['requests'].get('COPY') == 12 else 1)" "$WORK/rep.json"
}
check "replicate's --json: the 12 CopyObjects the estimate foresaw" rep_copies
sed -i '/^\[replication.buckets\]/,+1d' "$CONF"

# a custom endpoint without prices: counted, "no prices set" rather than a made-up number
sed -i '/^\[remotes.rb.prices\]/,$d' "$CONF"
ferry ls "rb:$B" > /dev/null 2> /dev/null
ferry sync "$WORK/up" "rb:$B" --no-progress --no-state 2> "$WORK/noprice.txt"
check "no prices: counted, not priced" grep -q "^requests at rb: .*no prices set" "$WORK/noprice.txt"

# /metrics of a worker: the clients' counts and the cost of AWS stores (defaults for s3://)
PORT=$(free_port)
"$FERRY_BIN" --config "$CONF" worker --state "$WORK/worker.db" --metrics-listen "127.0.0.1:$PORT" \
  > "$WORK/worker.log" 2>&1 &
worker_pid=$!
# (the endpoint answers before the worker has opened its store and registered its series)
metrics_up() {
  curl -sf "http://127.0.0.1:$PORT/metrics" > "$WORK/metrics" 2>/dev/null &&
    grep -q '^ferry_cost_dollars_total' "$WORK/metrics"
}
wait_for 20 metrics_up || true
kill "$worker_pid"; wait "$worker_pid" 2>/dev/null || true
check "worker /metrics: ferry_cost_dollars_total of s3 (AWS defaults)" \
  grep -q '^ferry_cost_dollars_total{remote="s3"} 0' "$WORK/metrics"
check "worker /metrics: ferry_requests_total" grep -q '^# TYPE ferry_requests_total counter' "$WORK/metrics"
finish
