#!/usr/bin/env bash
# ferry serve taking AWS S3 → SNS → HTTPS notifications, verified, against the RGW pair and a
# fake SNS (tests/tools/fake_sns.py): an HTTPS server with a certificate of a throwaway CA made
# here with openssl, for the name sns.us-east-1.amazonaws.com, serving the signing certificate
# and recording the GETs of SubscribeURLs. ferry serve reaches it through the test-only
# [serve] sns_test_connect_to (every SNS host is reached at that address; the URL rules and the
# TLS check against sns_ca_bundle stay). Envelopes are signed with the signing key as SNS signs
# them, and posted without any token: a subscription of an accepted topic is confirmed (its
# SubscribeURL visited), one of another topic refused (not visited), a Notification of an object
# written to region A gets it replicated to region B (there is no bucket notification and no
# scan meanwhile: only the envelope says so), a forged one is refused and counted in /metrics.
# The certificate fetch and the SubscribeURL visit run in the background (the HTTP server's one
# thread never waits on them): the first delivery of an envelope whose certificate is not kept
# yet is answered 503, and SNS's next delivery finds the work done. Last, an SNS host that
# accepts connections and never answers: /healthz is answered at once all the same.
source "$(dirname "$0")/testlib.bash"
FAKE_SNS="$(dirname "$0")/../tools/fake_sns.py"
A=$(new_bucket ra)
B=$(new_bucket rb)
TOPIC="arn:aws:sns:us-east-1:123456789012:ferry-$A"
OTHER="arn:aws:sns:us-east-1:123456789012:other-$A"
SNS_HOST=sns.us-east-1.amazonaws.com
CERT_URL="https://$SNS_HOST/SimpleNotificationService-ferrytest.pem"

# the PKI: a CA, the fake SNS host's TLS certificate it issued, and SNS's signing key/certificate
cd "$WORK"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj "/CN=ferry test SNS CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj "/CN=$SNS_HOST" 2>/dev/null
printf 'subjectAltName=DNS:%s\n' "$SNS_HOST" > tls.ext
openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile tls.ext -out tls.pem 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout sign.key -out sign.pem -days 2 \
  -subj "/CN=sns.amazonaws.com" 2>/dev/null
cd - >/dev/null

python3 "$FAKE_SNS" serve --cert "$WORK/tls.pem" --key "$WORK/tls.key" \
  --signing-cert "$WORK/sign.pem" --port-file "$WORK/sns.port" --log "$WORK/confirms.log" \
  > "$WORK/sns.out" 2> "$WORK/sns.err" &
sns_pid=$!
pid=
mute_pid=
stop_all() {  # what this test started, by PID
  [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
  [ -z "$mute_pid" ] || kill "$mute_pid" 2>/dev/null || true
  kill "$sns_pid" 2>/dev/null || true
}
trap 'stop_all; cleanup' EXIT
: > "$WORK/confirms.log"
wait_until 30 "the fake SNS host listens" port_file_written "$WORK/sns.port"
SNS_PORT=$(cat "$WORK/sns.port")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
mkdir -p "$WORK/old"
echo before > "$WORK/old/1.txt"
ferry cp "$WORK/old" "ra:$A/old" --no-progress >/dev/null 2>&1

# the test-only override is refused without a CA bundle
cp "$CONF" "$WORK/bad.toml"
printf '[serve]\nreplicate = ["ra:%s"]\nsns_topics = ["%s"]\nsns_test_connect_to = "127.0.0.1:1"\n' \
  "$A" "$TOPIC" >> "$WORK/bad.toml"
check "sns_test_connect_to without sns_ca_bundle is refused" expect_error 2 "needs 'sns_ca_bundle'" \
  "$FERRY_BIN" --config "$WORK/bad.toml" serve --state "$WORK/bad.db"

cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
sns_topics = ["$TOPIC"]
sns_ca_bundle = "$WORK/ca.pem"
sns_test_connect_to = "127.0.0.1:$SNS_PORT"
EOT
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve.out" 2> "$WORK/serve.err" &
pid=$!
wait_until 30 "healthz answers once it serves" answers "$URL/healthz"
at_b() { ferry ls "rb:$B/${1%/*}/" 2>/dev/null | grep -q " ${1##*/}\$"; }  # at_b DIR/NAME
check "the first scan replicates what existed" wait_for 20 at_b old/1.txt

envelope() { python3 "$FAKE_SNS" envelope --key "$WORK/sign.key" --cert-url "$CERT_URL" "$@"; }
post() { curl -s -o "$WORK/answer" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' \
  -H 'x-amz-sns-message-type: Notification' --data-binary @- "$URL/events"; }
confirm_url() { echo "https://$SNS_HOST/?Action=ConfirmSubscription&TopicArn=$1&Token=$2"; }

# subscriptions: confirmed for the accepted topic only; the first delivery is answered at once
# (503: the certificate is fetched and the SubscribeURL visited in the background), SNS's next
# delivery gets the outcome
envelope --type SubscriptionConfirmation --topic "$TOPIC" --token tok-good \
  --subscribe-url "$(confirm_url "$TOPIC" tok-good)" > "$WORK/sub.json"
code=$(post < "$WORK/sub.json")
check "a subscription of the accepted topic: 503 at first" [ "$code" = 503 ]
visited() { grep -q "^$SNS_HOST Action=ConfirmSubscription.*Token=tok-good" "$WORK/confirms.log"; }
check "  its SubscribeURL is visited in the background" wait_for 10 visited
delivered_ok() { [ "$(post < "$WORK/sub.json")" = 200 ]; }
check "  SNS's next delivery: 200" wait_for 10 delivered_ok
check "  visited once" [ "$(grep -c tok-good "$WORK/confirms.log")" = 1 ]
code=$(envelope --type SubscriptionConfirmation --topic "$OTHER" --token tok-other \
  --subscribe-url "$(confirm_url "$OTHER" tok-other)" | post)
check "a subscription of another topic: 403" [ "$code" = 403 ]
check "  and its SubscribeURL was not visited" [ "$(grep -c tok-other "$WORK/confirms.log")" = 0 ]

# notifications: a forged one is refused, a signed one replicates its object
record() {  # record KEY: AWS S3's notification of a new object KEY in A
  printf '{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",'
  printf '"eventTime":"%s","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",' "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
  printf '"configurationId":"ferry","bucket":{"name":"%s","arn":"arn:aws:s3:::%s"},' "$A" "$A"
  printf '"object":{"key":"%s","size":6,"sequencer":"0A"}}}]}' "$1"
}
mkdir -p "$WORK/new"
echo evented > "$WORK/new/evented.txt"
echo forged > "$WORK/new/forged.txt"
ferry cp "$WORK/new" "ra:$A/new" --no-progress >/dev/null 2>&1
code=$(envelope --type Notification --topic "$TOPIC" --message "$(record new/other.txt)" \
  --replace-message "$(record new/forged.txt)" | post)
check "a forged notification: 403" [ "$code" = 403 ]
code=$(envelope --type Notification --topic "$OTHER" --message "$(record new/forged.txt)" | post)
check "a notification of another topic: 403" [ "$code" = 403 ]
written=$(date +%s.%N)
code=$(envelope --type Notification --topic "$TOPIC" --message "$(record new/evented.txt)" | post)
check "a signed notification: 200" [ "$code" = 200 ]
check "  its object is replicated to B" wait_for 20 at_b new/evented.txt
echo "  at B $(python3 -c "print(round($(date +%s.%N) - $written, 1))") s after the notification"
not_at_b() { ! at_b "$1"; }
check "  the forged one's object is not" not_at_b new/forged.txt
code=$(envelope --type UnsubscribeConfirmation --topic "$TOPIC" --token tok-bye \
  --subscribe-url "$(confirm_url "$TOPIC" tok-bye)" | post)
check "an unsubscribe confirmation: 200, nothing visited" \
  [ "$code" = 200 -a "$(grep -c tok-bye "$WORK/confirms.log")" = 0 ]
check "a body that is not SNS still needs a token: 401" \
  [ "$(record new/forged.txt | post)" = 401 ]

metrics=$(curl -sf "$URL/metrics")
check "metrics count the refusals: signature" grep -q 'ferry_events_refused_total{reason="sns_signature"} 1' <<< "$metrics"
check "  topic" grep -q 'ferry_events_refused_total{reason="sns_topic"} 2' <<< "$metrics"
check "  and the handshakes" grep -q 'ferry_events_ignored_total{reason="sns_subscribed"} 1' <<< "$metrics"
check "  and the event" grep -q 'ferry_events_received_total{store="aws",kind="created"} 1' <<< "$metrics"
check "the confirmation is logged" grep -q "SNS subscription confirmed" "$WORK/serve.err"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -5 "$WORK/serve.err"

# the fake SNS host's TLS certificate is checked: with a CA bundle that does not hold its CA,
# the signing certificate cannot be fetched (503, for SNS to retry) and nothing is recorded
sed -i "s|^sns_ca_bundle = .*|sns_ca_bundle = \"$WORK/sign.pem\"|" "$CONF"
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve2.out" 2> "$WORK/serve2.err" &
pid=$!
wait_until 30 "serve answers again (a CA that signs no SNS host)" answers "$URL/healthz"
code=$(envelope --type Notification --topic "$TOPIC" --message "$(record new/forged.txt)" | post)
check "an SNS host whose TLS certificate does not verify: 503" [ "$code" = 503 ]
check "  counted as sns_cert" grep -q 'ferry_events_refused_total{reason="sns_cert"} 1' <<< "$(curl -sf "$URL/metrics")"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]

# an SNS host that accepts connections and never answers: the envelope is answered 503 at once
# and /healthz stays answered while the fetch waits (it used to run on the server's thread:
# everything behind it waited for the fetch's timeouts)
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$WORK/mute.port" &
mute_pid=$!
wait_until 30 "a mute SNS host listens" port_file_written "$WORK/mute.port"
sed -i "s|^sns_ca_bundle = .*|sns_ca_bundle = \"$WORK/ca.pem\"|; s|^sns_test_connect_to = .*|sns_test_connect_to = \"127.0.0.1:$(cat "$WORK/mute.port")\"|" "$CONF"
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve3.out" 2> "$WORK/serve3.err" &
pid=$!
wait_until 30 "serve answers again (the SNS host mute)" answers "$URL/healthz"
envelope --type Notification --topic "$TOPIC" --message "$(record new/evented.txt)" > "$WORK/n.json"
started=$(date +%s.%N)
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST --data-binary @"$WORK/n.json" "$URL/events")
answered=$(python3 -c "print(round($(date +%s.%N) - $started, 2))")
check "a certificate host that never answers: 503 within 1 s (took $answered s)" \
  python3 -c "import sys; sys.exit(0 if '$code' == '503' and $answered < 1 else 1)"
posts=()
for _ in 1 2 3; do  # more of them while the fetch waits on the mute host
  curl -s -m 10 -o /dev/null -X POST --data-binary @"$WORK/n.json" "$URL/events" &
  posts+=($!)
done
healthz_at_once() { curl -sf -m 1 -o /dev/null "$URL/healthz"; }
check "  /healthz answered within 1 s while the fetch waits" healthz_at_once
check "  and again" healthz_at_once
wait "${posts[@]}" 2>/dev/null || true
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0 (the fetch cancelled)" [ "$rc" = 0 ]
kill "$mute_pid" 2>/dev/null || true
wait "$mute_pid" 2>/dev/null || true
kill "$sns_pid" 2>/dev/null || true
wait "$sns_pid" 2>/dev/null || true
finish
