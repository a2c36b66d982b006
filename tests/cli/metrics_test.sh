#!/usr/bin/env bash
# Metrics (docs/design/observability.md): a sync with --metrics-file leaves a Prometheus
# exposition whose series match what was copied (the same numbers as the --json summary), and
# `ferry worker --metrics-listen` serves GET /metrics while it runs. Logs as JSON lines.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
mkdir -p "$WORK/src"
for i in 1 2 3 4 5; do head -c $((i * 1000 + 7)) /dev/urandom > "$WORK/src/o$i"; done
BYTES=$(cat "$WORK"/src/o* | wc -c)

# value FILE SERIES: the sample value of one series (exact name and labels), or nothing
value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
# logged_url VAR LOG: true once LOG (JSON lines) has the worker's 'serving metrics' line; VAR is
# set to its url
logged_url() {
  local found
  found=$(python3 -c "
import json, sys
for line in open(sys.argv[1]):
    try: j = json.loads(line)
    except ValueError: continue
    if j.get('message') == 'serving metrics': print(j['url']); break" "$2" 2>/dev/null || true)
  printf -v "$1" '%s' "$found"
  [ -n "$found" ]
}

rc=0
ferry sync "$WORK/src" "ra:$A" --no-progress --json --metrics-file "$WORK/m1.prom" \
  > "$WORK/out1" 2> "$WORK/err1" || rc=$?
check "sync with --metrics-file succeeds" [ "$rc" = 0 ]
check "  the file has HELP and TYPE lines" \
  grep -q '^# TYPE ferry_s3_requests_total counter$' "$WORK/m1.prom"
check "  objects copied: 5 in the summary and in the registry" \
  [ "$(json "$WORK/out1" objects_copied)" = 5 -a \
    "$(value "$WORK/m1.prom" ferry_transfer_objects_copied_total)" = 5 ]
check "  bytes copied: the bytes of the files, in the summary and in the registry" \
  [ "$(json "$WORK/out1" bytes_copied)" = "$BYTES" -a \
    "$(value "$WORK/m1.prom" ferry_transfer_bytes_copied_total)" = "$BYTES" ]
puts=$(value "$WORK/m1.prom" 'ferry_s3_requests_total{operation="PutObject",status="200"}')
check "  PUT requests ($puts) >= objects copied" [ "${puts:-0}" -ge 5 ]
check "  PUT latency histogram counted them" \
  [ "$(value "$WORK/m1.prom" 'ferry_s3_request_seconds_count{operation="PutObject"}')" -ge 5 ]
check "  +Inf bucket equals the count" [ \
  "$(value "$WORK/m1.prom" 'ferry_s3_request_seconds_bucket{operation="PutObject",le="+Inf"}')" = \
  "$(value "$WORK/m1.prom" 'ferry_s3_request_seconds_count{operation="PutObject"}')" ]
check "  no failures" [ "$(value "$WORK/m1.prom" ferry_transfer_object_failures_total)" = 0 ]

# A second run: nothing to copy, the listing is counted again.
ferry sync "$WORK/src" "ra:$A" --no-progress --metrics-file "$WORK/m2.prom" 2>/dev/null
check "unchanged run: 5 unchanged, 0 copied" [ \
  "$(value "$WORK/m2.prom" ferry_transfer_objects_unchanged_total)" = 5 -a \
  "$(value "$WORK/m2.prom" ferry_transfer_objects_copied_total)" = 0 ]

# A worker serving /metrics while it copies a queued run.
STATE=$WORK/state.db
ferry sync "ra:$A" "rb:$B" --state "$STATE" --detach --no-progress 2>/dev/null
"$FERRY_BIN" worker --state "$STATE" --config "$CONF" --metrics-listen 127.0.0.1:0 \
  --log-format json --metrics-file "$WORK/w.prom" > "$WORK/wout" 2> "$WORK/werr" &
WPID=$!
url=""
wait_until 30 "worker logs where it serves metrics (JSON lines)" logged_url url "$WORK/werr"
scrape_shows_5_copied() {
  curl -sf -m 5 "$url" > "$WORK/scrape" 2>/dev/null || true
  [ "$(value "$WORK/scrape" ferry_transfer_objects_copied_total)" = 5 ]
}
wait_until 30 "  a scrape shows the 5 objects copied" scrape_shows_5_copied
check "  and the bytes" [ "$(value "$WORK/scrape" ferry_transfer_bytes_copied_total)" = "$BYTES" ]
check "  and PUT requests to the destination" \
  [ "$(value "$WORK/scrape" 'ferry_s3_requests_total{operation="PutObject",status="200"}')" -ge 5 ]
check "  served as Prometheus text" bash -c \
  "curl -sfI '$url' | grep -qi '^content-type: text/plain; version=0.0.4'"
check "  other paths are not found" bash -c "! curl -sf '${url%/metrics}/nope' >/dev/null"
check "  /healthz answers 200 ok (the probe of deploy/kubernetes)" bash -c "curl -sf '${url%/metrics}/healthz' | grep -qx ok"
kill -TERM "$WPID"
wrc=0
wait "$WPID" || wrc=$?
check "worker stops on SIGTERM" [ "$wrc" = 0 ]
check "  every stderr line it wrote is JSON or its summary" python3 -c "
import json, sys
for line in open(sys.argv[1]):
    if line.startswith('ferry worker:'): continue
    json.loads(line)" "$WORK/werr"
check "  and it wrote --metrics-file at exit" \
  [ "$(value "$WORK/w.prom" ferry_transfer_objects_copied_total)" = 5 ]
check "bad --metrics-listen is one error line, exit 2" expect_error 2 "metrics-listen" \
  ferry worker --state "$STATE" --metrics-listen nope

# Idle connections to --metrics-listen are capped: they never take the file descriptors a run
# needs. Before, 300 idle connections to a worker limited to 200 open files failed every job of
# the run it then served with "Too many open files".
B2=$(new_bucket rb)
STATE2=$WORK/state2.db
bash -c 'ulimit -n 200; exec "$@"' _ "$FERRY_BIN" worker --state "$STATE2" --config "$CONF" \
  --metrics-listen 127.0.0.1:0 --log-format json > "$WORK/w2out" 2> "$WORK/w2err" &
W2=$!
url2=""
wait_until 30 "a worker limited to 200 open files serves metrics" logged_url url2 "$WORK/w2err"
port2=${url2##*:}
port2=${port2%%/*}
python3 -c "
import socket, sys, time
held = []
for _ in range(300):
    s = socket.socket()
    s.connect(('127.0.0.1', int(sys.argv[1])))
    held.append(s)
open(sys.argv[2], 'w').close()
time.sleep(60)" "$port2" "$WORK/held" &
HOLD=$!
wait_until 30 "  300 idle connections opened to it" test -f "$WORK/held"
# the worker took them all off its listening socket (its accept queue, ss's Recv-Q, is empty):
# the ones past its cap are closed, the others held idle, before the run starts
accept_queue_empty() { [ "$(ss -Hltn "sport = :$1" | awk '{ print $2 }')" = 0 ]; }
wait_until 30 "  the worker accepted every one of them" accept_queue_empty "$port2"
ferry sync "ra:$A" "rb:$B2" --state "$STATE2" --detach --no-progress 2>/dev/null
five_at_b2() { [ "$(ferry ls "rb:$B2" 2>/dev/null | wc -l)" = 5 ]; }
wait_until 30 "  the run it serves meanwhile copies all 5 objects" five_at_b2
fds=$(ls "/proc/$W2/fd" | wc -l)
check "  holding few descriptors ($fds)" [ "$fds" -lt 120 ]
check "  no job failed" bash -c "! grep -qi 'too many open files' '$WORK/w2err'"
kill "$HOLD" 2>/dev/null || true
wait "$HOLD" 2>/dev/null || true
wait_until 10 "  and scrapes work again once they are gone" answers "$url2"
kill -TERM "$W2"
wait "$W2" || true

# --metrics-listen over HTTPS: --metrics-tls-cert/--metrics-tls-key (a self-signed certificate
# for 127.0.0.1)
( cd "$WORK" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem \
    2>/dev/null )
one_line_exit2() {  # CMD...: fails with exit 2 and one line on stderr
  local rc=0; "$@" > /dev/null 2> "$WORK/err" || rc=$?
  [ "$rc" = 2 ] && [ "$(wc -l < "$WORK/err")" = 1 ]
}
check "--metrics-tls-cert without --metrics-tls-key: one line, exit 2" one_line_exit2 \
  "$FERRY_BIN" --config "$CONF" --metrics-listen 127.0.0.1:0 --metrics-tls-cert "$WORK/cert.pem" \
  ls "$WORK"
check "--metrics-tls-cert without --metrics-listen: one line, exit 2" one_line_exit2 \
  "$FERRY_BIN" --config "$CONF" --metrics-tls-cert "$WORK/cert.pem" \
  --metrics-tls-key "$WORK/key.pem" ls "$WORK"
check "  a key that is not the certificate's: one line, exit 2" one_line_exit2 \
  "$FERRY_BIN" --config "$CONF" --metrics-listen 127.0.0.1:0 --metrics-tls-cert "$WORK/cert.pem" \
  --metrics-tls-key "$WORK/cert.pem" ls "$WORK"
"$FERRY_BIN" worker --state "$WORK/tls.db" --config "$CONF" --metrics-listen 127.0.0.1:0 \
  --metrics-tls-cert "$WORK/cert.pem" --metrics-tls-key "$WORK/key.pem" --log-format json \
  > /dev/null 2> "$WORK/w3err" &
W3=$!
url3=""
wait_for 30 logged_url url3 "$WORK/w3err" || true
check "a worker serves its metrics over HTTPS ($url3)" bash -c "[[ '$url3' == https://* ]]"
check "  a scrape with the certificate's CA works" \
  bash -c "curl -sf --cacert '$WORK/cert.pem' '$url3' | grep -q '^ferry_'"
check "  and /healthz" bash -c "curl -sf --cacert '$WORK/cert.pem' '${url3%/metrics}/healthz' | grep -qx ok"
check "  a client that does not trust it is refused" bash -c "! curl -sf '$url3' > /dev/null"
check "  plain HTTP gets no metrics" bash -c "! curl -sf '${url3/https:/http:}' > /dev/null"
kill -TERM "$W3"
wait "$W3" || true
finish
