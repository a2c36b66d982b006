#!/usr/bin/env bash
# What deploy/ ships for operators, checked without a cluster or a Grafana:
# - deploy/grafana/ferry-dashboard.json: valid JSON of a Grafana dashboard (unique panel ids,
#   panels inside the 24-column grid and not overlapping, every panel with a query and a unit,
#   the issue's panels there); every query is valid PromQL (promtool, as recording rules) and
#   names only series ferry exports (the names compiled into $FERRY_BIN); the same for the
#   alerting rules and the KEDA query.
# - deploy/kubernetes/*.yaml: every document valid against the Kubernetes API models
#   (kubernetes-models, @kubernetes-models/keda from npm: tests/deploy), with a control that
#   a wrong type is caught; the ConfigMap's ferry.toml accepted by ferry itself; the workers'
#   and serve's command lines accepted by ferry's parser.
# promtool and node are installed by the project's scripts: missing ones fail, never skip.
set -euo pipefail
: "${FERRY_BIN:?FERRY_BIN not set: run through scripts/test-all.sh}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/ferry-cli-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
source "$(dirname "$0")/checklib.bash"
for tool in promtool node npm python3; do
  command -v "$tool" > /dev/null || { echo "FAIL - $tool is not installed"; exit 1; }
done
DASH=$ROOT/deploy/grafana/ferry-dashboard.json
K8S=$ROOT/deploy/kubernetes

# --- the Grafana dashboard ---
# the metric names ferry can export: the string literals of the binary that look like one
strings -n 6 "$FERRY_BIN" | grep -oE '^ferry_[a-z0-9_]+$' | sort -u > "$WORK/exported"
check "the binary names its series (control: ferry_jobs_waiting, ferry_replication_latency_seconds)" \
  grep -qx -e ferry_jobs_waiting "$WORK/exported"
check "  and ferry_replication_latency_seconds" grep -qx ferry_replication_latency_seconds "$WORK/exported"

check "the dashboard's layout and panels" python3 - "$DASH" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
panels = d["panels"]
ids = [p["id"] for p in panels]
assert len(ids) == len(set(ids)), "panel ids repeat"
cells = set()
for p in panels:
    g = p["gridPos"]
    assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24, f"{p['title']}: outside the grid"
    for x in range(g["x"], g["x"] + g["w"]):
        for y in range(g["y"], g["y"] + g["h"]):
            assert (x, y) not in cells, f"{p['title']} overlaps another panel"
            cells.add((x, y))
    if p["type"] == "row":
        continue
    assert p["targets"] and all(t["expr"] for t in p["targets"]), f"{p['title']}: no query"
    assert p["fieldConfig"]["defaults"].get("unit"), f"{p['title']}: no unit"
    assert p["datasource"]["uid"] == "${datasource}", f"{p['title']}: not the chosen datasource"
titles = " | ".join(p["title"] for p in panels).lower()
for want in ["within the threshold", "latency p50 / p99", "operations pending", "bytes pending",
             "oldest pending", "objects copied", "bytes copied", "jobs waiting", "jobs running",
             "failed operations", "events accepted", "events refused", "slowdown", "requests in flight",
             "on the wire", "net saving", "repaired by the scan"]:
    assert want in titles, f"no panel for: {want}"
names = [v["name"] for v in d["templating"]["list"]]
assert names == ["datasource", "rule", "destination"], names
print(len(panels), "panels")
PY

# every query of the dashboard, of the alerting rules and of the KEDA trigger as recording rules:
# promtool parses each; the series they name must be ferry's
python3 - "$DASH" "$K8S/ferry-worker-keda.yaml" > "$WORK/queries.yml" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] if p["type"] != "row" for t in p["targets"]]
for line in open(sys.argv[2]):
    m = re.match(r"\s*query:\s*(.+)$", line)
    if m:
        exprs.append(m.group(1).strip())
print("groups:\n  - name: queries\n    rules:")
for i, e in enumerate(exprs):
    e = e.replace("$__rate_interval", "5m").replace('"$rule"', '".*"').replace('"$destination"', '".*"')
    print(f"      - record: ferry:query_{i}\n        expr: {json.dumps(e)}")
PY
check "promtool parses every dashboard and KEDA query ($(grep -c 'record:' "$WORK/queries.yml"))" \
  promtool check rules "$WORK/queries.yml"
unknown_series() { # FILE...: the ferry_* series named in them that the binary does not export
  grep -ohE 'ferry_[a-z0-9_]+' "$@" | grep -v '^ferry_query_' | sed -E 's/_(bucket|count|sum)$//' |
    sort -u | while read -r name; do grep -qx "$name" "$WORK/exported" || echo "$name"; done
}
grep -vE 'record:' "$WORK/queries.yml" > "$WORK/exprs"
unknown=$(unknown_series "$WORK/exprs")
check "every series the queries name is one ferry exports (unknown: ${unknown:-none})" [ -z "$unknown" ]
unknown=$(unknown_series "$ROOT/deploy/prometheus/ferry-alerts.yml")
check "  and so are the alerting rules' (unknown: ${unknown:-none})" [ -z "$unknown" ]
echo 'expr: sum(ferry_no_such_series_at_all)' > "$WORK/control"
check "  control: an unknown name is found" [ "$(unknown_series "$WORK/control")" = ferry_no_such_series_at_all ]

# --- the Kubernetes manifests ---
if [ ! -d "$ROOT/tests/deploy/node_modules/kubernetes-models" ]; then
  (cd "$ROOT/tests/deploy" && npm ci --no-audit --no-fund --loglevel=error) ||
    { echo "FAIL - npm ci in tests/deploy"; exit 1; }
fi
check "every manifest is valid against the Kubernetes API models" \
  node "$ROOT/tests/deploy/validate.mjs" "$K8S"/*.yaml
sed 's/containerPort: 9464/containerPort: "metrics"/' "$K8S/ferry-worker.yaml" > "$WORK/bad.yaml"
check "  control: a port given as text is refused" \
  bash -c "! node '$ROOT/tests/deploy/validate.mjs' '$WORK/bad.yaml'"
check "the manifests name a serve Deployment, a worker Deployment, a Service, an HPA and a KEDA ScaledObject" \
  bash -c "cat '$K8S'/*.yaml | grep -c '^kind: \(Deployment\|Service\|HorizontalPodAutoscaler\|ScaledObject\)$' | grep -qx 5"
check "the KEDA ScaledObject scales the workers to zero" grep -q 'minReplicaCount: 0' "$K8S/ferry-worker-keda.yaml"

# the ConfigMap's ferry.toml, as ferry reads it (its keys from the Secret's variable names)
python3 - "$K8S/ferry-config.yaml" "$WORK/ferry.toml" <<'PY'
import sys
text = open(sys.argv[1]).read().split("---")[0]
body = text.split("  ferry.toml: |\n", 1)[1]
lines = []
for line in body.splitlines():
    if line and not line.startswith("    "):
        break
    lines.append(line[4:])
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
export SRC_ACCESS_KEY=k SRC_SECRET_KEY=s DST_ACCESS_KEY=k DST_SECRET_KEY=s FERRY_EVENTS_TOKEN=t
check "ferry config check accepts the ConfigMap's ferry.toml, the Secret's variables set" \
  "$FERRY_BIN" --config "$WORK/ferry.toml" config check --env
printf '[serve]\nlisten = "0.0.0.0:9380"\nno_such_key = 1\n' > "$WORK/bad.toml"
check "  control: a config with an unknown key is refused" \
  bash -c "! '$FERRY_BIN' --config '$WORK/bad.toml' config check"
unset DST_SECRET_KEY
check "  control: --env names a variable the config needs that is not set" \
  bash -c "'$FERRY_BIN' --config '$WORK/ferry.toml' config check --env 2>&1 | grep -q DST_SECRET_KEY"

# the containers' command lines, as ferry's own parser takes them ("--help" after them: parsed,
# not run)
for f in ferry-serve.yaml ferry-worker.yaml; do
  args=$(python3 - "$K8S/$f" <<'PY'
import re, sys, json
text = open(sys.argv[1]).read()
m = re.search(r'args: (\[.*?\])', text, re.S)
args = json.loads(m.group(1).replace("\n", " "))
print("\n".join(a.replace("$(FERRY_STATE_URL)", "sqlite:///nonexistent/x.db") for a in args))
PY
)
  mapfile -t argv <<< "$args"
  argv=("${argv[@]/\/etc\/ferry\/ferry.toml/$WORK/ferry.toml}")
  check "ferry parses $f's command line (its values)" "$FERRY_BIN" "${argv[@]}" --help
  # --help stops at the first unknown flag without a word: every flag must be in the help of
  # ferry or of the command
  cmd=$(printf '%s\n' "${argv[@]}" | grep -m1 -xE 'serve|worker')
  known=$("$FERRY_BIN" --help; "$FERRY_BIN" help "$cmd")
  unknown=$(printf '%s\n' "${argv[@]}" | grep -E '^--' | while read -r flag; do
    grep -qE -- "(^|[ ,])$flag( |,|$)" <<< "$known" || echo "$flag"; done)
  check "  every flag of $f is one ferry knows (unknown: ${unknown:-none})" [ -z "$unknown" ]
done
check "  control: an unknown flag is found" bash -c "! '$FERRY_BIN' help worker | grep -qE -- '(^|[ ,])--no-such-flag( |,|$)'"

checks_done
