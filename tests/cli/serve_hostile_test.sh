#!/usr/bin/env bash
# The server is safe to expose (issue 29, section 4). `ferry serve` (the RGW pair, a SQLite
# state store in the test's folder) and a `ferry worker --metrics-listen` are attacked by
# tests/tools/hostile_client.py: 200 connections trickling their headers a byte a second, a
# body of 1 GiB announced and one streamed chunked, 5,000 connections at once, bad paths, bad
# methods, malformed requests, huge headers, and over TLS 200 handshakes never finished. During
# and after, a well-behaved client's GET /healthz (/metrics) is answered within 2 s (a probe the
# listener cut at the height of the flood, to keep room, is sent again at once: 3 such at most),
# the process stays alive within 64 MiB of its resident size before the attacks, and a real
# event POSTed with the token is still recorded and replicated.
#
# The memory bound: serve holds at most 256 connections of 64 KiB of buffers (16 MiB), bodies
# of at most 16 MiB between them, and a TLS session each (a few KiB); 64 MiB leaves room for
# the allocator's arenas on top.
#
# Also: a port alone ([serve] listen, --metrics-listen :PORT) binds 127.0.0.1 only;
# --insecure-no-auth warns once and says so in /api/status and the metrics; TLS mistakes are
# one error line each, exit 2.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
TOKEN=tok-$RANDOM$RANDOM
export FERRY_EVENTS_TOKEN=$TOKEN
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# listening_on PORT: the addresses a socket listens on at PORT (from /proc/net/tcp{,6})
listening_on() {
  python3 - "$1" <<'PY'
import sys
port = int(sys.argv[1])
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(table).readlines()[1:]:
        f = line.split()
        addr, p = f[1].split(":")
        if f[3] == "0A" and int(p, 16) == port:
            print(addr)
PY
}
PORT=$(free_port)
aws_side a s3api put-bucket-versioning --bucket "$A" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Enabled
echo "before" | aws_side a s3 cp - "s3://$A/old.txt" >/dev/null
cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
EOT
cp "$CONF" "$WORK/base.toml"
cat >> "$CONF" <<EOT
[serve]
listen = "$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
token_env = "FERRY_EVENTS_TOKEN"
EOT

# TLS files: a self-signed certificate for 127.0.0.1, its key, another key
( cd "$WORK" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem \
    2>/dev/null && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out other.pem 2>/dev/null )
serve() { "$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" "$@"; }
# (started in the background below without the function, so that $! is ferry's own pid)
check "--tls-cert without --tls-key: one line, exit 2" \
  expect_error 2 "tls-cert needs --tls-key" serve --tls-cert "$WORK/cert.pem"
check "a key that is not the certificate's: one line, exit 2" \
  expect_error 2 "is not the key of the certificate" \
  serve --tls-cert "$WORK/cert.pem" --tls-key "$WORK/other.pem"
check "an unreadable certificate: one line, exit 2" \
  expect_error 2 "cannot read $WORK/none.pem" \
  serve --tls-cert "$WORK/none.pem" --tls-key "$WORK/key.pem"
check "--insecure-no-auth with [serve] token_env: one line, exit 2" \
  expect_error 2 "insecure-no-auth" serve --insecure-no-auth

# 1. plain HTTP with the token, on a port alone
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" \
  > "$WORK/serve.out" 2> "$WORK/serve.err" &
pid=$!
URL=http://127.0.0.1:$PORT
wait_until 30 "serve answers on a port alone" answers "$URL/healthz"
check "  listening on 127.0.0.1 only" [ "$(listening_on "$PORT")" = 0100007F ]
check "  and it says so" grep -q "listening on http://127.0.0.1:$PORT " "$WORK/serve.out"
at_b() { s3_has b "$B" "$1"; }
check "the first scan replicates what existed" wait_for 60 at_b old.txt
python3 "$FERRY_TEST_TOOLS/hostile_client.py" --port "$PORT" --pid "$pid" --label serve \
  --summary "$WORK/serve.json"
fig() {  # fig FILE EXPR: a Python expression over the summary's figures f
  python3 -c "import json,sys; f=json.load(open(sys.argv[1])); print($2)" "$1"
}
ok() { [ "$(fig "$1" "$2")" = True ]; }
J=$WORK/serve.json
check "serve is alive after the attacks" kill -0 "$pid"
check "  /healthz answered throughout, each within 2 s (at most 3 on a second try)" \
  ok "$J" "f['probe_during_failed'] == 0 and f['probe_during_max_s'] < 2 and
           f['probe_during_retried'] <= 3 and f['probe_during'] > 20"
check "  and after" ok "$J" "f['probe_after_failed'] == 0 and f['probe_after'] > 0"
check "  resident memory within 64 MiB of its size before" \
  ok "$J" "f['rss_peak_mib'] - f['rss_baseline_mib'] < 64"
check "  every trickling head cut, none held past 13 s (10 s deadline)" \
  ok "$J" "f['slowloris_cut'] == f['slowloris_opened'] == 200 and f['slowloris_held_max_s'] < 13"
check "  1 GiB announced: 413 before the body" ok "$J" "f['announced_1gib_status'] == 413"
check "  1 GiB chunked: closed within 64 MiB" ok "$J" "f['chunked_1gib_sent_mib'] < 64"
check "  no 5xx for bad paths, methods, requests, headers; nothing read from disk" \
  ok "$J" "sum(f[k + '_5xx'] + f[k + '_leaks'] for k in ('paths', 'methods', 'malformed',
                                                          'headers')) == 0"
check "  (HTTP/9.9 is answered 505, the one 5xx meant for it)" \
  ok "$J" "f['malformed_codes'].get('505') == 1"
check "  5,000 connections at once were all tried" ok "$J" "f['flood_tried'] == 5000"
metrics=$(curl -sf "$URL/metrics")
check "  the cuts are counted: head deadline and eviction" \
  grep -qE 'ferry_http_server_cut_total\{listener="serve",reason="evicted"\} [1-9]' <<< "$metrics"
check "    (head deadline)" \
  grep -qE 'ferry_http_server_cut_total\{listener="serve",reason="header_timeout"\} [1-9]' \
  <<< "$metrics"
# a real event, with the token, still recorded and replicated (no scan for an hour)
echo "after the attacks" | aws_side a s3 cp - "s3://$A/after.txt" >/dev/null
event() {  # event KEY: an RGW notification body for KEY in A
  printf '{"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","awsRegion":"%s",' \
    "${FERRY_TEST_S3_REGION:-region-a}"
  printf '"eventTime":"%s","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",' \
    "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
  printf '"configurationId":"c","bucket":{"name":"%s","ownerIdentity":{"principalId":"u"},' "$A"
  printf '"arn":"arn:aws:s3:::%s","id":"b"},"object":{"key":"%s","size":18,"eTag":"e",' "$A" "$1"
  printf '"versionId":"","sequencer":"0A","metadata":[],"tags":[]}},"eventId":"1",'
  printf '"opaqueData":""}]}'
}
check "an event without the token is still refused (401)" \
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data "$(event after.txt)" \
    "$URL/events")" = 401 ]
check "an event with the token is recorded" \
  grep -q "recorded 1" <<< "$(curl -s -X POST -H "Authorization: Bearer $TOKEN" \
    --data "$(event after.txt)" "$URL/events")"
check "  and replicated" wait_for 30 at_b after.txt
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]

# 2. HTTPS with --insecure-no-auth
cp "$WORK/base.toml" "$CONF"
cat >> "$CONF" <<EOT
[serve]
listen = "127.0.0.1:$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
EOT
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" --insecure-no-auth \
  --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" > "$WORK/serve2.out" 2> "$WORK/serve2.err" &
pid=$!
URL=https://127.0.0.1:$PORT
tls() { curl --cacert "$WORK/cert.pem" "$@"; }
wait_until 30 "serve answers over HTTPS" answers "$URL/healthz" --cacert "$WORK/cert.pem"
check "  and says so" grep -q "listening on https://127.0.0.1:$PORT " "$WORK/serve2.out"
no_plain_answer() { ! curl -sf -m 5 -o /dev/null "http://127.0.0.1:$PORT/healthz"; }
check "  plain HTTP to it gets no answer" no_plain_answer
check "--insecure-no-auth: one warning line at start" \
  [ "$(grep -c 'insecure-no-auth: POST /events takes events without a token' \
    "$WORK/serve2.err")" = 1 ]
check "  /api/status says events_auth none" \
  grep -q '"events_auth": "none"' <<< "$(tls -sf "$URL/api/status")"
check "  and the metrics" grep -q '^ferry_serve_insecure_no_auth 1' <<< "$(tls -sf "$URL/metrics")"
python3 "$FERRY_TEST_TOOLS/hostile_client.py" --port "$PORT" --pid "$pid" --label "serve over TLS" \
  --tls --cafile "$WORK/cert.pem" --attacks stall,paths,malformed --summary "$WORK/tls.json"
J=$WORK/tls.json
check "serve over TLS is alive after the attacks" kill -0 "$pid"
check "  /healthz answered throughout, each within 2 s (at most 3 on a second try)" \
  ok "$J" "f['probe_during_failed'] == 0 and f['probe_during_max_s'] < 2 and
           f['probe_during_retried'] <= 3 and
           f['probe_after_failed'] == 0"
check "  every handshake never finished cut, none held past 12 s (10 s deadline)" \
  ok "$J" "f['stall_cut'] == f['stall_opened'] == 200 and f['stall_held_max_s'] < 12"
check "  resident memory within 64 MiB of its size before" \
  ok "$J" "f['rss_peak_mib'] - f['rss_baseline_mib'] < 64"
echo "over TLS" | aws_side a s3 cp - "s3://$A/tls.txt" >/dev/null
check "an event without a token over TLS is recorded" \
  grep -q "recorded 1" <<< "$(tls -s -X POST --data "$(event tls.txt)" "$URL/events")"
check "  and replicated" wait_for 30 at_b tls.txt
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]

# 3. any command's --metrics-listen, given a port alone
MPORT=$(free_port)
"$FERRY_BIN" --config "$CONF" worker --state "$WORK/worker.db" --metrics-listen ":$MPORT" \
  > "$WORK/worker.out" 2> "$WORK/worker.err" &
wpid=$!
wait_until 30 "worker --metrics-listen answers" answers "http://127.0.0.1:$MPORT/metrics"
check "worker --metrics-listen :PORT serves /metrics on 127.0.0.1 only" \
  [ "$(listening_on "$MPORT")" = 0100007F ]
python3 "$FERRY_TEST_TOOLS/hostile_client.py" --port "$MPORT" --pid "$wpid" --probe /metrics \
  --label "worker --metrics-listen" --slowloris 100 --attacks slowloris,big,paths,methods,flood \
  --summary "$WORK/worker.json"
J=$WORK/worker.json
check "the worker is alive after the attacks" kill -0 "$wpid"
check "  /metrics answered throughout, each within 2 s (at most 3 on a second try)" \
  ok "$J" "f['probe_during_failed'] == 0 and f['probe_during_max_s'] < 2 and
           f['probe_during_retried'] <= 3 and
           f['probe_after_failed'] == 0"
check "  resident memory within 64 MiB of its size before" \
  ok "$J" "f['rss_peak_mib'] - f['rss_baseline_mib'] < 64"
kill -TERM "$wpid" 2>/dev/null || true
wait "$wpid" 2>/dev/null || true

# the figures, side by side
python3 "$FERRY_TEST_TOOLS/hostile_client.py" --table "$WORK/serve.json" "$WORK/tls.json" \
  "$WORK/worker.json"
finish
