#!/usr/bin/env bash
# ferry serve's admin paths (/metrics, /api/status, the dashboard: failed keys, error texts,
# lease owners) kept off the listener that bucket notifications must reach
# (docs/design/serve.md, "Listeners"):
# - a listener bound to other hosts (0.0.0.0) without [serve] admin_listen or admin_token_env
#   answers 403 for them, while /healthz and POST /events (its own token) are answered as ever;
# - with admin_listen they are served there only (404 on the listener; /events is not served
#   there), and with admin_token_env only to its bearer token (401 otherwise);
# - a reload that drops admin_listen brings them back to the listener, token still asked;
# - a flood of GET /api/status builds the document (a few SQL statements on the listener's one
#   thread) at most once a second: ferry_serve_status_documents_total;
# - an unset admin_token_env variable or a bad --admin-listen: one error line, exit 2.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
ADMIN_PORT=$(free_port)
URL=http://127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$ADMIN_PORT
export FERRY_EVENTS_TOKEN="events-$RANDOM$RANDOM"
export FERRY_ADMIN_TOKEN="admin-$RANDOM$RANDOM"
pid=
trap '[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true; cleanup' EXIT
code_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
start() {  # start LOG: ferry serve with $CONF, waiting until /healthz answers
  "$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/$1.out" 2> "$WORK/$1.err" &
  pid=$!
  wait_for 30 answers "$URL/healthz" || true
}
stop() {
  kill -TERM "$pid"
  local rc=0; wait "$pid" || rc=$?
  pid=
  check "  SIGTERM ends it with exit 0" [ "$rc" = 0 ]
}

cat >> "$CONF" <<EOT
[[replication.rules]]
id = "all"
destinations = ["rb:$B"]
[serve]
listen = "0.0.0.0:$PORT"
replicate = ["ra:$A"]
scan_interval = "1h"
token_env = "FERRY_EVENTS_TOKEN"
EOT
cp "$CONF" "$WORK/base.toml"

# a listener other hosts reach, nothing else said: the admin paths refused there
start exposed
check "exposed listener: /healthz 200" [ "$(code_of "$URL/healthz")" = 200 ]
check "  POST /events without its token: 401" [ "$(code_of -X POST -d '{}' "$URL/events")" = 401 ]
for path in /api/status /metrics / /api/metrics /assets/app.js; do
  check "  $path: 403" [ "$(code_of "$URL$path")" = 403 ]
done
check "  the refusal says what to set" bash -c "curl -s '$URL/api/status' | grep -q admin_listen"
stop

# an admin listener on loopback, with a token
cat >> "$CONF" <<EOT
admin_listen = "127.0.0.1:$ADMIN_PORT"
admin_token_env = "FERRY_ADMIN_TOKEN"
EOT
start admin
check "with admin_listen: it says where" grep -q "admin paths .* on $ADMIN" "$WORK/admin.out"
for path in /api/status /metrics / /api/metrics; do
  check "  the listener: $path 404" [ "$(code_of "$URL$path")" = 404 ]
done
check "  the listener: /healthz 200" [ "$(code_of "$URL/healthz")" = 200 ]
check "  the admin listener: /healthz 200" [ "$(code_of "$ADMIN/healthz")" = 200 ]
check "  the admin listener: POST /events 404" \
  [ "$(code_of -X POST -H "Authorization: Bearer $FERRY_EVENTS_TOKEN" "$ADMIN/events")" = 404 ]
for path in /api/status /metrics /; do
  check "  the admin listener without the token: $path 401" [ "$(code_of "$ADMIN$path")" = 401 ]
  check "  with a wrong one: 401" \
    [ "$(code_of -H "Authorization: Bearer x$FERRY_ADMIN_TOKEN" "$ADMIN$path")" = 401 ]
done
auth=(-H "Authorization: Bearer $FERRY_ADMIN_TOKEN")
check "  with the token: /metrics is the Prometheus text" \
  bash -c "curl -sf -H 'Authorization: Bearer $FERRY_ADMIN_TOKEN' '$ADMIN/metrics' | grep -q '^# TYPE ferry_'"
check "  /api/status is the store's document" \
  bash -c "curl -sf -H 'Authorization: Bearer $FERRY_ADMIN_TOKEN' '$ADMIN/api/status' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"events_auth\"] == \"token\", d'"
check "  / is the page" [ "$(code_of "${auth[@]}" "$ADMIN/")" = 200 ]

# a flood of /api/status: the document is built at most once a second
built() {
  curl -sf "${auth[@]}" "$ADMIN/metrics" | awk '$1 == "ferry_serve_status_documents_total" {print $2}'
}
before=$(built); before=${before:-0}
started=$SECONDS
for _ in $(seq 1 60); do curl -sf -o /dev/null "${auth[@]}" "$ADMIN/api/status"; done
elapsed=$((SECONDS - started))
after=$(built)
echo "  60 GET /api/status in ~$elapsed s: $((after - before)) documents built"
check "  a flood of /api/status builds at most one document a second" \
  [ $((after - before)) -le $((elapsed + 2)) ]

# a reload that drops admin_listen: the paths on the listener again, the token still asked
sed -i '/^admin_listen = /d' "$CONF"
kill -HUP "$pid"
public_with_token() { [ "$(code_of "${auth[@]}" "$URL/metrics")" = 200 ]; }
check "after a reload without admin_listen: the listener serves /metrics to the token" \
  wait_for 20 public_with_token
check "  and refuses it without: 401" [ "$(code_of "$URL/metrics")" = 401 ]
check "  the admin listener is gone" bash -c "! curl -s -m 2 -o /dev/null '$ADMIN/healthz'"
stop

cp "$WORK/base.toml" "$CONF"
printf 'admin_token_env = "FERRY_NO_SUCH_ADMIN_TOKEN"\n' >> "$CONF"
check "admin_token_env naming an unset variable: one line, exit 2" \
  expect_error 2 "admin_token_env" "$FERRY_BIN" --config "$CONF" serve --state "$WORK/bad.db"
cp "$WORK/base.toml" "$CONF"
check "a bad --admin-listen: one line, exit 2" \
  expect_error 2 "admin-listen" "$FERRY_BIN" --config "$CONF" serve --state "$WORK/bad.db" \
  --admin-listen nope
finish
