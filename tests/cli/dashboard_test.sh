#!/usr/bin/env bash
# The dashboard (docs/design/dashboard.md) in a real browser. `ferry serve` replicates a
# versioned bucket of RGW region A to one of region B, its events brought by a topic that
# `ferry events setup` points at its /events; objects are written before and during the test.
# tests/web/dashboard.mjs drives Debian's chromium (headless, playwright-core): the page loads
# with no console error and no failed request, shows figures that lie between /metrics (and
# /api/status) read just before and just after one of its polls, follows more writes, draws its
# charts, says when the server cannot be reached, lists a failure (B removed, one more object
# written) with its key and reason; a screenshot is saved to
# ${FERRY_TEST_ARTIFACTS:-$FERRY_TEST_TMPDIR}/dashboard.png. Then, with curl: serve's routes
# (/, assets with ETag and 304, /api/metrics as JSON, /api/status), and a `ferry worker
# --metrics-listen` (no state store of its own to show) serving the same page and API.
# The buckets are emptied one version per request by this script (RGW 16.2 aborts on a
# DeleteObjects in a bucket that notifies a topic; see events_setup_test.sh).
source "$(dirname "$0")/testlib.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "FAIL - no $CHROMIUM: run bash scripts/install-deps.sh browser"; exit 1
fi
command -v node >/dev/null || { echo "FAIL - no node: run bash scripts/install-deps.sh build"; exit 1; }
ARTIFACTS=${FERRY_TEST_ARTIFACTS:-${FERRY_TEST_TMPDIR:-$WORK}}
mkdir -p "$ARTIFACTS"
A=ferry-cli-dash-$$-$RANDOM-a
B=ferry-cli-dash-$$-$RANDOM-b
TOKEN=tok-$RANDOM$RANDOM$RANDOM
export FERRY_EVENTS_TOKEN=$TOKEN
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
pid=
wpid=
export PYTHONPATH="$ROOT/tests/tools"

rgw() {  # rgw prepare|count-b|cleanup
  python3 - "$A" "$B" "$@" <<'PY'
import os, sys
from s3_check import S3
from awscli.botocore.session import Session
a, b, what = sys.argv[1:4]
if what == "prepare":
    for remote, name in (("ra", a), ("rb", b)):
        S3[remote].create_bucket(Bucket=name)
        S3[remote].put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
elif what == "count-b":
    print(S3["rb"].list_objects_v2(Bucket=b).get("KeyCount", 0))
elif what == "cleanup":
    sns = Session().create_client(
        "sns", endpoint_url=os.environ["FERRY_TEST_S3_ENDPOINT"], aws_access_key_id=os.environ["RA_KEY"],
        aws_secret_access_key=os.environ["RA_SECRET"],
        region_name=os.environ.get("FERRY_TEST_S3_REGION", "region-a"))
    for remote, name in (("ra", a), ("rb", b)):
        try:
            listed = S3[remote].list_object_versions(Bucket=name)
        except Exception:
            continue
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
            S3[remote].delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        S3[remote].delete_bucket(Bucket=name)
    for t in sns.list_topics().get("Topics", []):
        if t["TopicArn"].rsplit(":", 1)[-1] == "ferry-" + a:
            sns.delete_topic(TopicArn=t["TopicArn"])
PY
}
cleanup_dash() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "$wpid" ]; then kill -TERM "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true; fi
  rgw cleanup || echo "cleanup of $A, $B and the topic failed"
  cleanup
}
trap cleanup_dash EXIT
rgw prepare

# the browser driver: installed from tests/web/package-lock.json when missing
if [ ! -d "$ROOT/tests/web/node_modules/playwright-core" ]; then
  (cd "$ROOT/tests/web" && npm ci --no-audit --no-fund --loglevel=error) || { echo "FAIL - npm ci in tests/web"; exit 1; }
fi

cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
replication_time = "15m"
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
token_env = "FERRY_EVENTS_TOKEN"
EOT
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve.out" 2> "$WORK/serve.err" &
pid=$!
wait_until 30 "ferry serve answers" answers "$URL/healthz"
ferry events setup "ra:$A" --endpoint "$URL/events" --token-env FERRY_EVENTS_TOKEN --no-persistent \
  > /dev/null
# N objects of 1 KB, 2 KB, ... written under PREFIX of A
write_objects() {  # write_objects PREFIX N
  mkdir -p "$WORK/$1"
  for i in $(seq 1 "$2"); do head -c $((1000 * i)) /dev/urandom > "$WORK/$1/$i.bin"; done
  ferry cp "$WORK/$1" "ra:$A/$1" --no-progress >/dev/null 2>&1
}
at_b() { [ "$(rgw count-b)" = "$1" ]; }
write_objects first 5
check "5 objects reach B from their events" wait_for 60 at_b 5
# serve's routes, with curl
hdr() { curl -s -D - -o /dev/null "$@"; }
check "GET / is the page, HTML" grep -qi '^content-type: text/html' <<< "$(hdr "$URL/")"
etag=$(hdr "$URL/assets/app.js" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
check "an asset has an ETag ($etag)" [ -n "$etag" ]
check "  which gives 304" [ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL/assets/app.js")" = 304 ]
check "uPlot is served from the binary" [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/assets/uPlot.iife.min.js")" = 200 ]
check "an unknown asset is 404" [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/assets/nope.js")" = 404 ]
check "POST /api/metrics is 405" [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/metrics")" = 405 ]
curl -sf "$URL/api/metrics" > "$WORK/api.json"
check "/api/metrics is JSON with the replication latency histogram" python3 -c "
import json, sys
doc = json.load(open(sys.argv[1]))
f = {x['name']: x for x in doc['families']}['ferry_replication_latency_seconds']
s = f['samples'][0]
assert f['type'] == 'histogram' and s['labels']['rule'] == 'all', f
assert len(s['cumulative']) == len(s['le']) + 1 and s['cumulative'][-1] == s['count'] >= 5, s
" "$WORK/api.json"
curl -sf "$URL/api/status" > "$WORK/status.json"
check "/api/status has the runs' jobs, next round, failures, workers and errors" python3 -c "
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc['store'] is True
run = doc['runs'][0]
assert run['source'] == 'ra:$A/', run
assert run['jobs']['replicate-event']['done'] >= 1, run
assert run['failures'] == {'last_minute': 0, 'last_hour': 0, 'total': 0}, run
import datetime
due = datetime.datetime.strptime(run['next_due'], '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc)
ahead = (due - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
assert 3000 < ahead <= 3600, run  # the next round's scan, scan_interval (1 h) after the first
assert isinstance(doc['workers'], list) and doc['errors'] == [], doc
" "$WORK/status.json"
# what the browser test runs mid-way
cat > "$WORK/write_more.sh" <<EOT
set -e
mkdir -p "$WORK/second"
for i in 1 2 3 4 5 6 7; do head -c \$((2000 * i)) /dev/urandom > "$WORK/second/\$i.bin"; done
"$FERRY_BIN" --config "$CONF" cp "$WORK/second" "ra:$A/second" --no-progress >/dev/null 2>&1
EOT
# what it runs at the end: B removed, one more object written to A (its replication fails)
cat > "$WORK/break_b.sh" <<EOT
set -e
cd "$ROOT/tests/tools"
python3 - "$B" <<'PY' >&2
import sys
from s3_check import S3
listed = S3["rb"].list_object_versions(Bucket=sys.argv[1])
for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
    S3["rb"].delete_object(Bucket=sys.argv[1], Key=v["Key"], VersionId=v["VersionId"])
S3["rb"].delete_bucket(Bucket=sys.argv[1])
PY
mkdir -p "$WORK/broken"
echo lost > "$WORK/broken/lost.txt"
"$FERRY_BIN" --config "$CONF" cp "$WORK/broken" "ra:$A/broken" --no-progress >&2
echo broken/lost.txt
EOT
echo "  browser: $CHROMIUM, $(node --version)"
fails_before=$FAILS
check "the page in chromium (tests/web/dashboard.mjs)" \
  node "$ROOT/tests/web/dashboard.mjs" "$URL" "$ARTIFACTS/dashboard.png" "$WORK/write_more.sh" 7 \
  "$WORK/break_b.sh"
if [ "$FAILS" != "$fails_before" ]; then
  # what tells a late event from a lost one (RGW drops a non-persistent push that fails) apart
  # from a slow serve: its event counters, what reached B, and the end of its log
  echo "  serve's events: $(curl -s -m 5 "$URL/metrics" | grep -E '^ferry_events_(received|recorded)_total' | tr '\n' ' ')"
  echo "  objects at B: $(rgw count-b)"
  tail -n 30 "$WORK/serve.err" | sed 's/^/    serve: /'
fi
check "  the screenshot is a PNG" bash -c "head -c 8 '$ARTIFACTS/dashboard.png' | grep -q PNG"
echo "  screenshot: $ARTIFACTS/dashboard.png"
curl -sf "$URL/api/status" > "$WORK/status2.json"
check "/api/status then lists the failed version's error with its key" python3 -c "
import json, sys
doc = json.load(open(sys.argv[1]))
errors = [e for e in doc['errors'] if e['key'] == 'broken/lost.txt']
assert errors and errors[0]['error'] and errors[0]['time'].endswith('Z'), doc['errors']
print('  ', errors[0]['state'], errors[0]['error'][:100], 'failures:', doc['runs'][0]['failures'])
" "$WORK/status2.json"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
check "ferry serve ends with exit 0" [ "$rc" = 0 ]

# any command with --metrics-listen: the same page and API, no state store to show
WPORT=$(free_port)
WURL=http://127.0.0.1:$WPORT
"$FERRY_BIN" --config "$CONF" worker --state "$WORK/worker.db" --metrics-listen "127.0.0.1:$WPORT" \
  > "$WORK/worker.out" 2> "$WORK/worker.err" &
wpid=$!
wait_until 30 "worker --metrics-listen answers" answers "$WURL/metrics"
check "worker --metrics-listen serves the page at /" \
  bash -c "curl -sf '$WURL/' | grep -q '<script type=\"module\" src=\"assets/app.js\">'"
check "  and its assets" [ "$(curl -s -o /dev/null -w '%{http_code}' "$WURL/assets/style.css")" = 200 ]
check "  /api/metrics as JSON" python3 -c "
import json, sys, urllib.request
doc = json.load(urllib.request.urlopen(sys.argv[1]))
assert isinstance(doc['families'], list) and doc['families'], doc
" "$WURL/api/metrics"
check "  /api/status says there is no store" python3 -c "
import json, sys, urllib.request
doc = json.load(urllib.request.urlopen(sys.argv[1]))
assert doc['store'] is False and doc['command'] == 'worker' and doc['pid'] > 0, doc
" "$WURL/api/status"
check "  /metrics still the Prometheus text" bash -c "curl -sf '$WURL/metrics' | grep -q '^# TYPE '"
kill -TERM "$wpid"
rc=0; wait "$wpid" || rc=$?
wpid=
check "the worker ends with exit 0" [ "$rc" = 0 ]
finish
