#!/usr/bin/env bash
# ferry serve reads its config again on SIGHUP, without a restart. A rule taking only `x/` is
# widened to every key with existing_objects = true: the new run's first scan replicates what
# was left out, and events of keys outside `x/` replicate from then on. A config that does not
# check (bad TOML, an unknown remote) is refused: the running config goes on, the refusal is
# logged and counted, and the listener keeps answering. SIGTERM after all that exits 0.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
TOKEN=tok-$RANDOM$RANDOM
export FERRY_EVENTS_TOKEN=$TOKEN
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
aws_side a s3api put-bucket-versioning --bucket "$A" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled
cp "$CONF" "$WORK/remotes.toml"
serve_config() { # PREFIX: the config with one rule taking keys under PREFIX
  cat "$WORK/remotes.toml" > "$CONF"
  cat >> "$CONF" <<EOT
[[replication.rules]]
id = "r"
filter = { prefix = "$1" }
existing_objects = true
destinations = ["rb:$B"]
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
token_env = "FERRY_EVENTS_TOKEN"
EOT
}
serve_config "x/"
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve.out" 2> "$WORK/serve.err" &
pid=$!
wait_until 30 "serve answers" answers "$URL/healthz"
"$FERRY_BIN" --config "$CONF" events setup "ra:$A" --endpoint "$URL/events" \
  --token-env FERRY_EVENTS_TOKEN --no-persistent > /dev/null
on_b() { s3_has b "$B" "$1"; }
metric() { curl -sf "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
test_metric_is() { [ "$(metric "$1")" = "$2" ]; }
echo one | aws_side a s3 cp - "s3://$A/x/1" >/dev/null
echo left | aws_side a s3 cp - "s3://$A/y/1" >/dev/null
check "x/1 replicated by its event" wait_for 30 on_b x/1
# RGW pushes a non-persistent topic's event before the write returns: both events are recorded
# by now (a job each; the rule's filter is the job's to apply). Once y/1's job is done too, its
# absence at B is a fact rather than a race.
check "both events recorded" test_metric_is ferry_events_recorded_total 2
wait_until 30 "their two jobs are done" \
  test_metric_is 'ferry_jobs_finished_total{kind="replicate-event",outcome="done"}' 2
not_on_b() { ! on_b "$1"; }
check "y/1 is not replicated: outside the rule" not_on_b y/1

# widened on SIGHUP: the new rule's first scan brings y/1; y/2's event replicates
serve_config ""
kill -HUP "$pid"
check "y/1 replicated by the new run's scan after SIGHUP" wait_for 30 on_b y/1
check "serve still runs after SIGHUP" kill -0 "$pid"
check "reload counted as applied" [ "$(metric 'ferry_serve_reloads_total{result="applied"}')" = 1 ]
echo two | aws_side a s3 cp - "s3://$A/y/2" >/dev/null
check "y/2 replicated by its event under the new rule" wait_for 30 on_b y/2

# a config that does not check is refused; the running one goes on
printf '[serve\nbroken' >> "$CONF"
kill -HUP "$pid"
check "a broken config is refused and counted" \
  wait_for 10 test_metric_is 'ferry_serve_reloads_total{result="refused"}' 1
check "the refusal is logged" grep -q "config reload refused" "$WORK/serve.err"
check "healthz still answers" curl -sf -o /dev/null "$URL/healthz"
echo three | aws_side a s3 cp - "s3://$A/y/3" >/dev/null
check "y/3 replicated under the running config" wait_for 30 on_b y/3
serve_config ""
sed -i "s|destinations = \\[\"rb:$B\"\\]|destinations = [\"nosuch:$B\"]|" "$CONF"
kill -HUP "$pid"
check "an unknown remote is refused" \
  wait_for 10 test_metric_is 'ferry_serve_reloads_total{result="refused"}' 2

kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]
"$FERRY_BIN" --config "$WORK/remotes.toml" events remove "ra:$A" --delete-topic >/dev/null 2>&1 || true
# versions deleted one request each (RGW 16.2.15 aborts on a DeleteObjects in a bucket that
# notifies a topic), then the bucket
drop_versions ra "$A" --bucket
finish
