#!/usr/bin/env bash
# ferry estimate on RGW: a generated mixed source (CSV, JSON, log text, random bytes; small
# objects and a few of some MiB) is estimated, then really synced with --compress --staging;
# the predicted wire bytes and PUT-/GET-class requests must be within 15% of the measured ones
# (the run's --json). The estimate writes nothing; bad flags and prices: one line, exit 2.
source "$(dirname "$0")/testlib.bash"

SRC=$(new_bucket ra)
DST=$(new_bucket rb)
STG=$(new_bucket rb)
python3 - "$WORK/data" <<'PY'
import json, os, random, sys
root = sys.argv[1]
rng = random.Random(10)
def put(path, data):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
def lines(n, make):
    out, size = [], 0
    while size < n:
        out.append(make())
        size += len(out[-1])
    return "".join(out).encode()[:n]
def csv(n):
    return lines(n, lambda: "%d,cust-%d,%d.%02d,2026-11-%02d,%s\n" % (
        rng.randrange(10**6), rng.randrange(900), rng.randrange(5000), rng.randrange(100),
        rng.randrange(1, 29), rng.choice(["OK", "LATE", "REFUNDED"])))
def js(n):
    return lines(n, lambda: json.dumps({"user": rng.randrange(10**5), "ok": rng.random() < .9,
        "event": rng.choice(["view", "buy", "cart"]), "tags": [rng.choice("abcdef") for _ in range(3)]}) + "\n")
def log(n):
    return lines(n, lambda: "2026-11-22T10:%02d:%02d INFO worker-%d handled request /api/v1/items/%d in %d ms\n" % (
        rng.randrange(60), rng.randrange(60), rng.randrange(8), rng.randrange(10**4), rng.randrange(500)))
for i in range(250): put("csv/%04d.csv" % i, csv(rng.randrange(500, 40000)))
for i in range(250): put("json/%04d.json" % i, js(rng.randrange(200, 20000)))
for i in range(150): put("logs/%04d.log" % i, log(rng.randrange(1000, 120000)))
for i in range(100): put("bin/%04d.bin" % i, os.urandom(rng.randrange(100, 30000)))
for i in range(3): put("big/%d.csv" % i, csv((2 + i) << 20))
put("big/r.bin", os.urandom(3 << 20))
PY
ferry sync "$WORK/data" "ra:$SRC" --no-progress >/dev/null 2>&1

ferry estimate "ra:$SRC" "rb:$DST" --compress --level 3 --bandwidth 1Gbit --json > "$WORK/est.json"
ferry estimate "ra:$SRC" "rb:$DST" > "$WORK/est.txt"
check "estimate prints both ways and the chosen level" \
  grep -q "compressed, level [0-9]*:.*net saving" "$WORK/est.txt"
check "estimate wrote nothing on the destination" test -z "$(ferry ls "rb:$DST")"

ferry sync "ra:$SRC" "rb:$DST" --compress --staging "rb:$STG/stage" --compress-level 3 \
  --no-progress --json --metrics-file "$WORK/metrics.txt" > "$WORK/run.json"
check "the metrics show the net saving" \
  grep -Eq "^ferry_transport_net_saving_dollars 0\.0[0-9]*[1-9]" "$WORK/metrics.txt"
check "the metrics show the bytes saved" grep -q "^ferry_transport_bytes_saved_total [1-9]" "$WORK/metrics.txt"
ferry sync "ra:$SRC/logs/" "rb:$DST/text/" --compress --staging "rb:$STG/stage" --no-progress \
  2> "$WORK/run.txt" >/dev/null
check "the summary shows the net saving" \
  grep -q "cost model: .* saved across region-a->region-b.*net saving \$0\.0" "$WORK/run.txt"

compare() {  # the estimate against the measured run, each within 15%
  python3 - "$WORK/est.json" "$WORK/run.json" <<'PY'
import json, sys
est = json.load(open(sys.argv[1]))
run = json.load(open(sys.argv[2]))
p, t = est["predicted"], run["transport"]
assert est["objects"] == run["objects_copied"] == 754, (est["objects"], run["objects_copied"])
assert est["sampled_objects"] <= 320, est["sampled_objects"]
assert t["cost"]["net_saving"] > 0 and t["bytes_saved"] > 0 and t["cpu_seconds"] > 0, t
pairs = [("wire bytes", p["wire_bytes"], t["bytes_wire"]),
         ("PUT-class requests", p["requests"]["put"], t["requests"]["put"]),
         ("GET-class requests", p["requests"]["get"], t["requests"]["get"])]
ok = True
for name, predicted, measured in pairs:
    err = abs(predicted - measured) / measured
    print("  %s: predicted %d, measured %d (%.1f%%)" % (name, predicted, measured, 100 * err))
    ok = ok and err <= 0.15
sys.exit(0 if ok else 1)
PY
}
check "predicted wire bytes and requests within 15% of the measured run" compare

BAD=$WORK/bad.toml
cp "$CONF" "$BAD"
printf '[costs]\nper_gb = -1\n' >> "$BAD"
check "a bad bandwidth: one line, exit 2" \
  expect_error 2 "bandwidth" ferry estimate "ra:$SRC" "rb:$DST" --bandwidth fast
check "a bad level: one line, exit 2" \
  expect_error 2 "level" ferry estimate "ra:$SRC" "rb:$DST" --level 30
check "a bad sample: one line, exit 2" \
  expect_error 2 "sample" ferry estimate "ra:$SRC" "rb:$DST" --sample 0
check "a negative price: one line naming it, exit 2" \
  expect_error 2 "per_gb" "$FERRY_BIN" --config "$BAD" estimate "ra:$SRC" "rb:$DST"
finish
