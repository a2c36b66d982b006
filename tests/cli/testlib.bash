# Shared helpers for the CLI end-to-end tests (sourced). Needs FERRY_BIN and the
# FERRY_TEST_S3_* variables that scripts/test-all.sh exports; fails when they are missing.
set -euo pipefail
: "${FERRY_BIN:?FERRY_BIN not set: run through scripts/test-all.sh}"
: "${FERRY_TEST_S3_ENDPOINT:?}" "${FERRY_TEST_S3_ACCESS_KEY:?}" "${FERRY_TEST_S3_SECRET_KEY:?}"
: "${FERRY_TEST_S3_ENDPOINT_B:?}" "${FERRY_TEST_S3_ACCESS_KEY_B:?}" "${FERRY_TEST_S3_SECRET_KEY_B:?}"

WORK=$(mktemp -d /tmp/ferry-cli-test.XXXXXX)
FERRY_TEST_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)
: > "$WORK/buckets"  # the buckets to remove at the end (new_bucket appends)
# every run's automatic state file lives in this test's own folder, never under the machine's
# ~/.local/state/ferry (a test may set FERRY_STATE_DIR or --state itself)
export FERRY_STATE_DIR=$WORK/state
FAILS=0
# Debian's python3 (the one CI has, with the botocore of Debian's awscli) first in PATH, also for
# child processes: a pyenv shim there costs 0.3 s to seconds per start, which loops that poll
# through python3 pay every time
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
  mkdir -p "$WORK/bin"
  ln -s /usr/bin/python3 "$WORK/bin/python3"
  export PATH="$WORK/bin:$PATH"
fi
# $AWS_CLI: the AWS CLI the scripts check ferry's work with. A call costs a second of CPU in
# Python's imports; tests/tools/aws_zygote.py makes them once per script and forks a warm process
# per call (a third of the CPU: the same awscli code), through tests/tools/aws_client.py. Until it
# answers, or without it (FERRY_TEST_AWS_ZYGOTE=0), a call is /usr/bin/aws itself.
# The zygote costs most of a CPU-second to start: a script that never calls the AWS CLI (half of
# them; what calls it is aws_side, $AWS_CLI, locklib's lock checks and rgw_b_usage_caught_up)
# starts none. Should one call it anyway, the call is /usr/bin/aws itself: slower, still right.
AWS_CLI=/usr/bin/aws
if [ -x /usr/bin/aws ] && [ "${FERRY_TEST_AWS_ZYGOTE:-1}" = 1 ] \
   && grep -qE 'aws_side|AWS_CLI|locklib|rgw_b_usage_caught_up' "$0" 2>/dev/null; then
  export FERRY_AWS_ZYGOTE=$WORK/aws.sock
  /usr/bin/python3 "$FERRY_TEST_TOOLS/aws_zygote.py" "$FERRY_AWS_ZYGOTE" > /dev/null 2> "$WORK/aws-zygote.err" &
  AWS_ZYGOTE_PID=$!
  # not one of the script's jobs: a script's bare `wait` (for its own background processes) must
  # not wait for it; it still ends with this shell (PR_SET_PDEATHSIG) or in cleanup
  disown "$AWS_ZYGOTE_PID"
  AWS_CLI=$FERRY_TEST_TOOLS/aws_client.py
fi
export RA_KEY=$FERRY_TEST_S3_ACCESS_KEY RA_SECRET=$FERRY_TEST_S3_SECRET_KEY
export RB_KEY=$FERRY_TEST_S3_ACCESS_KEY_B RB_SECRET=$FERRY_TEST_S3_SECRET_KEY_B
CONF=$WORK/ferry.toml
cat > "$CONF" <<TOML
[remotes.ra]
endpoint = "$FERRY_TEST_S3_ENDPOINT"
region = "${FERRY_TEST_S3_REGION:-region-a}"
access_key_id_env = "RA_KEY"
secret_access_key_env = "RA_SECRET"

[remotes.rb]
endpoint = "$FERRY_TEST_S3_ENDPOINT_B"
region = "${FERRY_TEST_S3_REGION_B:-region-b}"
access_key_id_env = "RB_KEY"
secret_access_key_env = "RB_SECRET"
TOML
ferry() { "$FERRY_BIN" --config "$CONF" "$@"; }
BUCKETS=()
# new_bucket remote -> prints a fresh bucket name. It is usually called as B=$(new_bucket ra), in
# a subshell, so the bucket is also written to a list file that cleanup reads.
new_bucket() {
  local b
  b="ferry-cli-$$-$RANDOM-$(wc -l < "$WORK/buckets")"
  ferry mb "$1:$b" 2>/dev/null
  BUCKETS+=("$1:$b")
  echo "$1:$b" >> "$WORK/buckets"
  echo "$b"
}
# FERRY_TEST_THROWAWAY_SERVERS=1 (scripts/test-all.sh sets it when it started the servers itself
# and deletes their state at the end, as on CI): the buckets are left as they are, which spares
# the gateways the deletes of tens of thousands of objects
cleanup() {
  local listed=()
  [ -f "$WORK/buckets" ] && mapfile -t listed < "$WORK/buckets"
  [ "${FERRY_TEST_THROWAWAY_SERVERS:-0}" = 1 ] && BUCKETS=() listed=()
  for loc in $(printf '%s\n' "${BUCKETS[@]}" "${listed[@]}" | sort -u); do
    # empty the bucket by syncing an empty folder with --delete, then remove it
    mkdir -p "$WORK/empty"
    ferry sync "$WORK/empty" "$loc" --delete --no-progress >/dev/null 2>&1 || true
    ferry rb "$loc" >/dev/null 2>&1 || true
  done
  if [ -n "${AWS_ZYGOTE_PID:-}" ]; then  # ended before this shell: its calls' CPU counts to it
    kill -TERM "$AWS_ZYGOTE_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 40); do kill -0 "$AWS_ZYGOTE_PID" 2>/dev/null || break; sleep 0.05; done
  fi
  [ "${FERRY_TEST_KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"  # FERRY_TEST_KEEP_WORK=1: kept, to look into
}
trap cleanup EXIT

aws_side() {  # aws_side a|b ARGS...: the AWS CLI on gateway A or B
  local side=$1; shift
  if [ "$side" = a ]; then
    AWS_ACCESS_KEY_ID=$RA_KEY AWS_SECRET_ACCESS_KEY=$RA_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION:-region-a} \
      AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT" "$@"
  else
    AWS_ACCESS_KEY_ID=$RB_KEY AWS_SECRET_ACCESS_KEY=$RB_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION_B:-region-b} \
      AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT_B" "$@"
  fi
}
# The checks a wait_for polls, through ferry's listing: one costs a few hundredths of a CPU-second
# where an AWS CLI call costs about half of one even from the warm zygote, and wait_for tries twice
# a second (measured: serve_kill_test's 66 AWS CLI calls, polls, writes and reads, were 29 of its
# 41 CPU-seconds). What the scripts then assert (bytes, versions, metadata) stays with the AWS CLI,
# the independent client.
# They read a copy of the remotes ra and rb made now: a script may break its $CONF on purpose.
cp "$CONF" "$WORK/polls.toml"
# s3_count a|b BUCKET [PREFIX]: how many objects the bucket holds under PREFIX (a folder: "new/");
# "?" and false when it cannot be listed, so that "nothing arrived" (a count of 0) never passes on
# a failed listing
s3_count() {
  local out
  out=$("$FERRY_BIN" --config "$WORK/polls.toml" ls "r$1:$2/${3:-}" 2>/dev/null) || { echo "?"; return 1; }
  if [ -z "$out" ]; then echo 0; else printf '%s\n' "$out" | wc -l; fi
}
# s3_has a|b BUCKET KEY: true when the bucket's listing holds KEY (its folder is listed; ls prints
# keys relative to the location it lists, size first and the key last)
s3_has() {
  local dir=""
  case $3 in */*) dir=${3%/*}/ ;; esac
  "$FERRY_BIN" --config "$WORK/polls.toml" ls "r$1:$2/$dir" 2>/dev/null | awk -v k="${3##*/}" '$NF == k { f = 1 } END { exit !f }'
}
# drop_versions ra|rb BUCKET [--bucket]: every version and delete marker of BUCKET deleted one
# request each (the common cleanup's sync --delete leaves a versioned bucket's history), with
# --bucket the bucket too (a few hundred versions at most: the big buckets are left to the
# servers' removal at the end). Never fails the test: a cleanup that goes wrong prints one line.
drop_versions() {
  PYTHONPATH="$FERRY_TEST_TOOLS" python3 "$FERRY_TEST_TOOLS/drop_versions.py" "$@" \
    || echo "  (cleanup: the versions of $2 could not all be deleted)"
}
# The scripts wait on a condition with a bound, never on a fixed sleep: a loaded CI machine gets
# the whole bound, an idle one goes on as soon as the condition holds.
# wait_for SECONDS CMD...: true once CMD succeeds, false when SECONDS passed first (CMD is always
# tried at least once). CMD runs again every 0.1 s for a second, every 0.2 s for two more, then
# every 0.5 s (a check is often an AWS CLI or ferry call: a long wait polled at 10 a second would
# take a core from the others); every $WAIT_EVERY s when that is set. CMD runs in this shell: it
# may set variables.
wait_for() {
  local deadline=$((SECONDS + $1)) every=${WAIT_EVERY:-0.1} polls=0; shift
  while true; do
    "$@" && return 0
    [ $SECONDS -lt "$deadline" ] || return 1
    sleep "$every"
    polls=$((polls + 1))
    [ -n "${WAIT_EVERY:-}" ] || case $polls in 10) every=0.2 ;; 20) every=0.5 ;; esac
  done
}
check() { # description, then a command that must succeed
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; FAILS=$((FAILS + 1)); fi
}
# wait_until SECONDS DESCRIPTION CMD...: a check that CMD succeeds within SECONDS (see wait_for)
wait_until() {
  local bound=$1 what=$2; shift 2
  check "$what (within $bound s)" wait_for "$bound" "$@"
}
# answers URL [CURL ARGS...]: true when URL answers 2xx (curl -sf, 5 s at most)
answers() { local url=$1; shift; curl -sf -m 5 -o /dev/null "$@" "$url" 2>/dev/null; }
# port_file_written FILE: true once a helper server started in the background wrote its port
# there (tests/tools/*.py print the port they listen on as their first line)
port_file_written() { [ -s "$1" ] && [ -n "$(head -n 1 "$1")" ]; }
# rgw_b_usage_ops BUCKET CATEGORY: the operations of CATEGORY (put_obj, copy_obj, ...) that RGW B's
# usage log (radosgw-admin usage show: the only record of the requests a gateway served) counted
# for BUCKET, 0 when none. Needs FERRY_TEST_CEPH_CONF.
rgw_b_usage_ops() {
  radosgw-admin -c "$FERRY_TEST_CEPH_CONF" --rgw-realm realm-b --rgw-zonegroup region-b \
    --rgw-zone zone-b usage show --uid tester-b 2>/dev/null | python3 -c "
import json, sys
try: d = json.load(sys.stdin)
except ValueError: d = {}
n = 0
for e in d.get('entries', []):
    for k in e.get('buckets', []):
        if k.get('bucket') == sys.argv[1]:
            for c in k.get('categories', []):
                if c.get('category') == sys.argv[2]: n += c.get('ops', 0)
print(n)" "$1" "$2"
}
rgw_b_usage_counted_more() { [ "$(rgw_b_usage_ops "$1" get_bucket_location)" -gt "$2" ]; }
# rgw_b_usage_caught_up BUCKET: waits until RGW B's usage log counts every request made to BUCKET
# before this call (the log is flushed about every second). It asks one GetBucketLocation of
# BUCKET and waits (30 s at most) until the log counts it: RGW flushes its records in order, so
# everything before it is in the log by then. A script that counts get_bucket_location itself
# takes the markers into account.
rgw_b_usage_caught_up() {
  local before
  before=$(rgw_b_usage_ops "$1" get_bucket_location)
  aws_side b s3api get-bucket-location --bucket "$1" >/dev/null
  wait_for 30 rgw_b_usage_counted_more "$1" "$before" && return 0
  echo "  RGW B's usage log did not count the marker request to $1 in 30 s" >&2
  return 1
}
# expect_error CODE PATTERN cmd...: exit code CODE, exactly one stderr line matching PATTERN
expect_error() {
  local code=$1 pattern=$2; shift 2
  local rc=0
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  if [ "$rc" != "$code" ]; then
    echo "  expected exit $code, got $rc: $(cat "$WORK/err")"; return 1
  fi
  if [ "$(wc -l < "$WORK/err")" != 1 ] || ! grep -q -- "$pattern" "$WORK/err"; then
    echo "  expected one line matching '$pattern', got: $(cat "$WORK/err")"; return 1
  fi
}
# webhook_start PORT FILE: a loopback webhook on PORT that answers 200 and appends each POSTed
# JSON document to FILE, one per line; its pid in HOOK_PID (the caller kills it)
webhook_start() {
  cat > "$WORK/webhook.py" <<'PY'
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(out, "a") as f: f.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
  python3 -W ignore "$WORK/webhook.py" "$1" "$2" & HOOK_PID=$!
}
# free_port: a TCP port that is free on 127.0.0.1 now
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# moto_start: a moto_server on a free port (the test fails when it is missing, never skips):
# MOTO is its URL and moto_pid its process, which the caller's EXIT trap stops (set the trap
# first, with ${moto_pid:-}); its log is $WORK/moto.log; the remote `moto` in $CONF names it
# (moto checks no credentials)
moto_start() {
  local server=${MOTO_SERVER:-$(command -v moto_server || echo /root/.pyenv/shims/moto_server)}
  if [ ! -x "$server" ]; then
    echo "FAIL - moto_server not found (set MOTO_SERVER)"
    exit 1
  fi
  local port
  port=$(free_port)
  MOTO=http://127.0.0.1:$port
  "$server" -H 127.0.0.1 -p "$port" > "$WORK/moto.log" 2>&1 &
  moto_pid=$!
  wait_until 60 "moto_server answers" curl -s -m 5 -o /dev/null "$MOTO/"
  export MOTO_KEY=test MOTO_SECRET=test
  cat >> "$CONF" <<EOT

[remotes.moto]
endpoint = "$MOTO"
region = "us-east-1"
access_key_id_env = "MOTO_KEY"
secret_access_key_env = "MOTO_SECRET"
EOT
}
finish() {
  if [ "$FAILS" -gt 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
  echo "all checks passed"
}
