#!/usr/bin/env bash
# One alert end to end (docs/design/alerts.md): a run's job dies, `ferry worker
# --metrics-listen` exports it from the state store (ferry_jobs_dead), a real Prometheus scrapes
# it every second and evaluates the shipped rules (deploy/prometheus/ferry-alerts.yml) every
# second, a real Alertmanager routes the alert with the shipped example's routes
# (deploy/prometheus/alertmanager.yml: critical to the webhook), and a webhook receiver
# (tests/tools/webhook_receiver.py) records the notification: FerryDeadJob with its run,
# command, kind and severity. Everything on 127.0.0.1; each process started here is ended by its
# PID. The job that dies is a local copy's: the destination holds a folder where the source's
# one file must go, so its write fails, and --max-attempts 1 makes the job dead at once.
# prometheus and prometheus-alertmanager come from scripts/install-deps.sh's prom group: missing
# ones fail, never skip. No S3 gateway is used.
export FERRY_TEST_AWS_ZYGOTE=0  # no AWS CLI call here
source "$(dirname "$0")/testlib.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
for tool in prometheus prometheus-alertmanager; do
  command -v "$tool" > /dev/null || { echo "FAIL - $tool is not installed (bash scripts/install-deps.sh prom)"; exit 1; }
done

PIDS=()
gone() { ! kill -0 "$1" 2>/dev/null; }
stop_started() {  # every process this script started, by PID: TERM, then KILL after 5 s
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    WAIT_EVERY=0.1 wait_for 5 gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  done
}
trap 'stop_started; cleanup' EXIT

HOOK_PORT=$(free_port)
AM_PORT=$(free_port)
PROM_PORT=$(free_port)
FERRY_PORT=$(free_port)
STATE=$WORK/state.db

# the webhook receiver: one JSON line per notification
python3 "$FERRY_TEST_TOOLS/webhook_receiver.py" --port "$HOOK_PORT" --out "$WORK/notified" \
  > "$WORK/hook.out" 2>&1 &
PIDS+=($!)

# Alertmanager with the shipped example's routes and receivers: the webhook's URL is the
# receiver's, the groups are sent at once, the e-mail goes nowhere (no warning fires here)
printf 'unused\n' > "$WORK/smtp-password"
python3 - "$ROOT/deploy/prometheus/alertmanager.yml" "$WORK/alertmanager.yml" \
  "http://127.0.0.1:$HOOK_PORT/" "$WORK/smtp-password" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = text.replace("https://hooks.example.com/ferry-alerts", sys.argv[3])
text = text.replace("/etc/alertmanager/smtp-password", sys.argv[4])
text = text.replace("smtp.example.com:587", "127.0.0.1:9")
text = re.sub(r"group_wait: \w+", "group_wait: 0s", text)
text = re.sub(r"group_interval: \w+", "group_interval: 1s", text)
assert sys.argv[3] in text and "group_wait: 0s" in text
open(sys.argv[2], "w").write(text)
PY
prometheus-alertmanager --config.file="$WORK/alertmanager.yml" --storage.path="$WORK/am" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
  > "$WORK/am.log" 2>&1 &
PIDS+=($!)

# Prometheus: the shipped rules, scraping the worker and evaluating every second
cat > "$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/deploy/prometheus/ferry-alerts.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$AM_PORT']
scrape_configs:
  - job_name: ferry
    static_configs:
      - targets: ['127.0.0.1:$FERRY_PORT']
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address="127.0.0.1:$PROM_PORT" > "$WORK/prom.log" 2>&1 &
PIDS+=($!)

# a worker of the store, exporting its runs' gauges
"$FERRY_BIN" worker --state "$STATE" --metrics-listen "127.0.0.1:$FERRY_PORT" \
  > "$WORK/worker.out" 2> "$WORK/worker.err" &
PIDS+=($!)

wait_until 20 "the webhook receiver, Alertmanager, Prometheus and the worker answer" \
  bash -c "grep -q listening '$WORK/hook.out' && curl -sf -m 2 -o /dev/null http://127.0.0.1:$AM_PORT/-/ready &&
    curl -sf -m 2 -o /dev/null http://127.0.0.1:$PROM_PORT/-/ready &&
    curl -sf -m 2 -o /dev/null http://127.0.0.1:$FERRY_PORT/metrics"

# the run whose job dies: "a" cannot be written where the destination has a folder "a"
mkdir -p "$WORK/src" "$WORK/dst/a"
echo data > "$WORK/src/a"
echo kept > "$WORK/dst/a/x"
rc=0
"$FERRY_BIN" sync "$WORK/src" "$WORK/dst" --state "$STATE" --max-attempts 1 --no-progress \
  > "$WORK/sync.out" 2> "$WORK/sync.err" || rc=$?
check "the sync fails (exit 1: an object not copied)" [ "$rc" = 1 ]
RUN=$("$FERRY_BIN" jobs list --state "$STATE" --json |
  python3 -c "import json, sys; print(json.loads(sys.stdin.readline())['run'])")
check "  its transfer job is dead (ferry jobs dlq)" \
  bash -c "'$FERRY_BIN' jobs dlq '$RUN' --state '$STATE' | grep -q transfer"

scraped_dead() { curl -sf -m 2 "http://127.0.0.1:$FERRY_PORT/metrics" |
  grep -qx "ferry_jobs_dead{run=\"$RUN\",command=\"sync\",kind=\"transfer\"} 1"; }
wait_until 15 "the worker exports ferry_jobs_dead{run=\"$RUN\",command=\"sync\",kind=\"transfer\"} 1" \
  scraped_dead

notified_dead_job() { [ -s "$WORK/notified" ] && python3 - "$WORK/notified" "$RUN" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    doc = json.loads(line)
    for a in doc.get("alerts", []):
        l = a["labels"]
        if (l.get("alertname") == "FerryDeadJob" and a["status"] == "firing"
                and l.get("run") == sys.argv[2] and l.get("kind") == "transfer"
                and l.get("command") == "sync" and l.get("severity") == "critical"
                and doc.get("receiver") == "ops-pager"):
            sys.exit(0)
sys.exit(1)
PY
}
wait_until 30 "the webhook received FerryDeadJob (firing; run $RUN, sync, transfer, critical; receiver ops-pager)" \
  notified_dead_job
check "  with its description naming the command to look at it" \
  grep -q "ferry jobs dlq $RUN" "$WORK/notified"
finish
