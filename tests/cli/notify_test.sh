#!/usr/bin/env bash
# Run-end notifications (docs/design/notify.md) against real receivers on loopback: a webhook
# (a python3 http.server that answers the first POST with 500 and records the bodies), moto's
# SNS and SQS (a queue read directly and a queue subscribed to the topic) and an SMTP server
# (python3's smtpd writing each message to a file). In-memory runs deliver at their end with
# retries; a durable run (SQLite state) whose webhook is down leaves its notification in the
# state store's outbox, its process is SIGKILLed while it waits to try again, and a later
# `ferry worker` of the store delivers it. Bad --notify and [[notify]] are refused in one line.
source "$(dirname "$0")/testlib.bash"
hook_pid="" smtp_pid=""
trap 'kill $hook_pid $smtp_pid ${moto_pid:-} 2>/dev/null; wait ${moto_pid:-} 2>/dev/null; cleanup' EXIT
moto_start

# --- the receivers ---------------------------------------------------------------------------
cat > "$WORK/receivers.py" <<'EOF'
import asyncore, http.server, json, os, smtpd, sys, warnings
warnings.simplefilter("ignore")
mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode.startswith("webhook"):  # webhook: the first POST answered 500 (ferry retries), then 200
    class Hook(http.server.BaseHTTPRequestHandler):
        posts = 0
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            Hook.posts += 1
            with open(out + ".posts", "w") as f: f.write(str(Hook.posts))
            code = 500 if Hook.posts == 1 and mode == "webhook" else 200
            if code == 200:
                with open(out, "a") as f:
                    f.write(json.dumps({"auth": self.headers.get("Authorization"),
                                        "doc": json.loads(body)}) + "\n")
            self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
        def log_message(self, *a): pass
    http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
else:
    class Mail(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kw):
            with open(out, "a") as f:
                f.write(json.dumps({"from": mailfrom, "to": rcpttos,
                                    "data": data.decode()}) + "\n")
    Mail(("127.0.0.1", port), None)
    asyncore.loop()
EOF
cat > "$WORK/moto.py" <<'EOF'
import json, sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from awscli.botocore.session import Session
end, what = sys.argv[1], sys.argv[2]
def client(s):
    return Session().create_client(s, endpoint_url=end, aws_access_key_id="test",
                                   aws_secret_access_key="test", region_name="us-east-1")
sqs = client("sqs")
if what == "setup":  # queue `direct`; topic `runs` with queue `subscribed` subscribed to it
    sqs.create_queue(QueueName="direct")
    q = sqs.create_queue(QueueName="subscribed")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns = client("sns")
    topic = sns.create_topic(Name="runs")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    print(topic)
else:  # bodies of queue sys.argv[3], one JSON document a line
    url = sqs.get_queue_url(QueueName=sys.argv[3])["QueueUrl"]
    for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        print(json.dumps(json.loads(m["Body"])))
EOF
HOOK_PORT=$(free_port)
SMTP_PORT=$(free_port)
python3 -W ignore "$WORK/receivers.py" webhook "$HOOK_PORT" "$WORK/hook" & hook_pid=$!
python3 -W ignore "$WORK/receivers.py" smtp "$SMTP_PORT" "$WORK/mail" & smtp_pid=$!
TOPIC=$(python3 "$WORK/moto.py" "$MOTO" setup)
cp "$CONF" "$WORK/base.toml"  # the remotes, no [[notify]]
# listening PORT: true once something accepts connections on 127.0.0.1:PORT
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_until 10 "the webhook and SMTP receivers listen" \
  bash -c "$(declare -f listening); listening $HOOK_PORT && listening $SMTP_PORT"

mkdir -p "$WORK/src/d"
for i in 1 2 3; do echo "object $i" > "$WORK/src/d/k$i"; done
# field FILE LINE PYTHON-EXPRESSION-OF-d: one field of the LINE-th JSON document of FILE
field() { python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])-1]); print(eval(sys.argv[3]))' "$@"; }

# --- bad input, one line each ----------------------------------------------------------------
check "a --notify that is no webhook, topic or queue is refused" \
  expect_error 2 "--notify: 'mailto:x@y' is not" \
  ferry cp --no-state "$WORK/src" "$WORK/never" --notify mailto:x@y
cp "$CONF" "$WORK/bad.toml"
printf '[[notify]]\nkind = "webhook"\nurl = "http://h/x"\nheaders = { Authorization = "Bearer t" }\n' \
  >> "$WORK/bad.toml"
check "a secret written in [[notify]] is refused" \
  expect_error 2 "a secret is never written in the config" \
  "$FERRY_BIN" --config "$WORK/bad.toml" cp --no-state "$WORK/src" "$WORK/never"

# --- an in-memory run: webhook (a 500 first), SNS, SQS and SMTP ------------------------------
cat >> "$CONF" <<EOT
[[notify]]
kind = "webhook"
url = "http://127.0.0.1:$HOOK_PORT/hook"
headers = { Authorization = { env = "HOOK_TOKEN" } }
[[notify]]
kind = "sns"
topic_arn = "$TOPIC"
remote = "moto"
[[notify]]
kind = "sqs"
queue_url = "$MOTO/123456789012/direct"
remote = "moto"
[[notify]]
kind = "smtp"
url = "smtp://127.0.0.1:$SMTP_PORT"
from = "ferry@example.org"
to = ["ops@example.org"]
on = ["done", "failed"]
EOT
export HOOK_TOKEN="Bearer hook-secret"
check "an in-memory sync exits 0 whatever its notifications" \
  ferry sync --no-state "$WORK/src" "$WORK/dst" --report "$WORK/report"
check "the webhook got one document after a 500 (two POSTs)" \
  test "$(cat "$WORK/hook.posts")" = 2 -a "$(wc -l < "$WORK/hook")" = 1
check "its header came from the environment" test "$(field "$WORK/hook" 1 'd["auth"]')" = "Bearer hook-secret"
check "the document: sync done, 3 copied, 0 failed, bytes, the report" test \
  "$(field "$WORK/hook" 1 '[d["doc"][k] for k in ("command","state","bytes","report")] + [d["doc"]["objects"]["copied"], d["doc"]["objects"]["failed"]]')" \
  = "['sync', 'done', 27, '$WORK/report', 3, 0]"
python3 "$WORK/moto.py" "$MOTO" read direct > "$WORK/direct"
python3 "$WORK/moto.py" "$MOTO" read subscribed > "$WORK/subscribed"
check "SQS: the document is the queue's message" test "$(field "$WORK/direct" 1 'd["state"]')" = done
check "SNS: the topic's subscribed queue got the document" \
  test "$(field "$WORK/subscribed" 1 'd["objects"]["copied"]')" = 3
check "SMTP: one mail to ops@ with the subject and the document" test \
  "$(field "$WORK/mail" 1 'd["to"][0] + "|" + str("Subject: ferry sync done: 3 copied, 0 failed" in d["data"]) + "|" + str(json.loads(d["data"].split("\n\n", 1)[1])["state"])')" \
  = "ops@example.org|True|done"

# --- a receiver that never answers: warned once, the exit code untouched -----------------------
NOBODY=$(free_port)
rc=0
"$FERRY_BIN" --config "$WORK/base.toml" cp --no-state "$WORK/src" "$WORK/dst3" \
  --notify "http://127.0.0.1:$NOBODY/x" > /dev/null 2> "$WORK/nobody.err" || rc=$?
check "a run whose webhook is down exits 0" test "$rc" = 0
check "with one warning line after its 4 tries" \
  test "$(grep -c 'notification: not delivered after 4 attempts: webhook http://127.0.0.1' "$WORK/nobody.err")" = 1

# --- cache warm, restore and replicate tell their end too: one document each ------------------
RUNS_PORT=$(free_port)
python3 -W ignore "$WORK/receivers.py" webhook-ok "$RUNS_PORT" "$WORK/runs" & runs_pid=$!
hook_pid="$hook_pid $runs_pid"
wait_until 10 "the runs' receiver listens" listening "$RUNS_PORT"
RUNS="http://127.0.0.1:$RUNS_PORT/runs"
# doc_of COMMAND PYTHON-EXPRESSION-OF-d: of the one document whose command is COMMAND
doc_of() { python3 -c 'import json,sys; ds=[json.loads(l)["doc"] for l in open(sys.argv[1])]; m=[d for d in ds if d["command"]==sys.argv[2]]; print(len(m) if len(m)!=1 else eval(sys.argv[3], {"d": m[0]}))' "$WORK/runs" "$@"; }
base() { "$FERRY_BIN" --config "$WORK/base.toml" "$@"; }
check "cache warm into a folder, told" base cache warm "$WORK/src" --prefix "" --cache "$WORK/cached" \
  --state "$WORK/cache.db" --ttl 1h --notify "$RUNS"
check "  its document: cache warm, done, 3 copied, its bytes" \
  test "$(doc_of "cache warm" '[d["state"], d["objects"]["copied"], d["bytes"], d["durable"]]')" = "['done', 3, 27, False]"
BK=$(new_bucket rb)
base backup "$WORK/src" "rb:$BK" --state "$WORK/bk.db" > /dev/null 2>&1
check "restore of the backup into a folder, told" base restore "rb:$BK" --prefix "" \
  --to "$WORK/restored" --state "$WORK/bk.db" --notify "$RUNS"
check "  its document: restore, done, 3 copied" \
  test "$(doc_of restore '[d["state"], d["objects"]["copied"], d["objects"]["failed"]]')" = "['done', 3, 0]"
VA="ferry-cli-$$-nv-a" VB="ferry-cli-$$-nv-b"
ferry mb "ra:$VA" --versioning > /dev/null && ferry mb "rb:$VB" --versioning > /dev/null
printf 'ra:%s\nrb:%s\n' "$VA" "$VB" >> "$WORK/buckets"; BUCKETS+=("ra:$VA" "rb:$VB")
base cp --no-state "$WORK/src" "ra:$VA" > /dev/null 2>&1
cp "$WORK/base.toml" "$WORK/repl.toml"
printf '[[replication.rules]]\nid = "all"\ndestinations = ["rb:%s"]\n' "$VB" >> "$WORK/repl.toml"
check "a replication pass (a durable run), told" "$FERRY_BIN" --config "$WORK/repl.toml" \
  replicate "ra:$VA" --state "$WORK/repl.db" --notify "$RUNS"
check "  its document: replicate, done, durable, 3 copied" \
  test "$(doc_of replicate '[d["state"], d["durable"], d["objects"]["copied"]]')" = "['done', True, 3]"

# --- a durable run whose webhook is down: the outbox survives a SIGKILL -------------------------
DEAD_PORT=$(free_port)
STATE=$WORK/durable.db
cp "$WORK/base.toml" "$WORK/durable.toml"
printf '[[notify]]\nkind = "webhook"\nurl = "http://127.0.0.1:%s/late"\n' "$DEAD_PORT" >> "$WORK/durable.toml"
# outbox COLUMN: the outbox rows' COLUMN, comma-separated ("" when none)
outbox() { python3 -c 'import sqlite3,sys; print(",".join(str(r[0]) for r in sqlite3.connect(sys.argv[1]).execute("SELECT %s FROM notify_outbox ORDER BY id" % sys.argv[2])))' "$STATE" "$1" 2>/dev/null; }
webhook_row_tried() { [ "$(outbox attempts)" = 1 ]; }
"$FERRY_BIN" --config "$WORK/durable.toml" cp --state "$STATE" "$WORK/src" "$WORK/dst2" \
  > "$WORK/durable.out" 2> "$WORK/durable.err" & cp_pid=$!
wait_until 20 "the run ended and its webhook row failed once (receiver down)" webhook_row_tried
kill -9 "$cp_pid" 2>/dev/null || true; wait "$cp_pid" 2>/dev/null || true
check "the copy was done before the kill" test -s "$WORK/dst2/d/k3"
late_rows=$(outbox "run")
check "the outbox still holds the dead webhook's row after the SIGKILL" test -n "$late_rows"
# due again within the run's backoff (4 s at most); the receiver comes up on the dead port
python3 -W ignore "$WORK/receivers.py" webhook-ok "$DEAD_PORT" "$WORK/late" & late_pid=$!
hook_pid="$hook_pid $late_pid"
wait_until 10 "the late receiver listens" listening "$DEAD_PORT"
# the row's backoff (at most the run's 4 s ceiling) over: the worker finds it due
row_due() { [ -n "$(outbox lease_until)" ] && [ "$(outbox lease_until | cut -d, -f1)" -le "$(date +%s%3N)" ]; }
check "the row's backoff ends" wait_for 10 row_due
run=${late_rows%%,*}
check "a later ferry worker of the store delivers it and exits" \
  "$FERRY_BIN" --config "$WORK/durable.toml" worker --state "$STATE" --run "$run" --until-done
check "the late webhook got the durable run's document" test -s "$WORK/late"
check "the durable document: cp, done, durable, run id, copied 3" test \
  "$(field "$WORK/late" 1 '[d["doc"][k] for k in ("command","state","durable","run_id")] + [d["doc"]["objects"]["copied"]]')" \
  = "['cp', 'done', True, '$run', 3]"
check "the outbox is empty" test -z "$(outbox id)"
finish
