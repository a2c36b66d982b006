#!/usr/bin/env bash
# No secret ever printed (issue 29, section 3). Every command family runs against the RGW pair
# with FERRY_CURL_VERBOSE=1 and --log-level debug, every other command with --log-format json:
# cp and sync A -> B (small and multipart objects), ls, verify, replicate between versioned
# buckets (report, status), sync --compress --pack-only + unpack, backup + catalog + restore,
# archive pack/ls/cat, cache warm, estimate, events setup/show/remove (the token from an
# environment variable and from a file), SSE-C copies (up, S3 to S3 between two keys, down)
# with the keys from files and environment variables, runs on PostgreSQL
# (sync, restore and cache warm --detach, backup; a worker with --metrics-listen, jobs
# list/show), ferry serve on PostgreSQL with --metrics-listen (/metrics, /api/metrics,
# /api/status fetched while it runs, POST /events with the token and with a wrong one),
# --metrics-file on every command, and failures: a wrong secret key (SignatureDoesNotMatch), a
# missing bucket, a closed port, a gateway that goes away mid-run (a durable run: its errors in
# the state file, `jobs dlq`), and a server that quotes the request's credentials back in its
# error replies (tests/tools/quoting_server.py: S3's XML <Message> and SQS's JSON message with
# the canonical request, as AWS's query and JSON services send it) met by `ls`, by serve's SQS
# intake at start and by serve replicating to it (the error then in PostgreSQL and
# /api/status). Credentials come in through each path ferry has: a remote's
# access_key_id_env/secret_access_key_env/session_token_env (RGW ignores the made-up session
# tokens of a plain user's key, so they go along on every request), the AWS environment
# variables and an AWS profile in the test's own HOME (~/.aws/credentials). Every flag that
# once took a secret on the command line (--sse-c-key, --sse-c-copy-source-key, events setup
# --token: any local user reads /proc/PID/cmdline) is refused with one line that names the
# -file/-env forms and does not echo the secret (issue 43, item 5), and the /proc/PID/cmdline
# of the SSE-C copies and events setup that use those forms is captured while they run.
# Then everything the run produced is searched: each command's stdout and stderr, metrics
# files and scrapes, reports, every file under the test's HOME (but ~/.aws), state and temp
# folders (SQLite databases as bytes), a pg_dump of the test's PostgreSQL schema and
# /proc/PID/cmdline of the long-running processes, for the secret keys, the session tokens,
# the events token, the SSE-C keys, the PostgreSQL password (where the server lets the test
# choose one), each
# whole and its first 16 characters (a message cut short), and
# the shapes of a request's credentials: an Authorization or x-amz-security-token value that
# is not "<redacted>" (curl_verbose.cc redacts them in traces), a SigV4 "Signature=<hex>" or
# "AWS4-HMAC-SHA256 Credential=". Zero hits; a hit is printed as file:line and the secret's
# name. Control files holding each secret and shape (text and a SQLite database) prove the
# search finds them, and the traces are checked to be there (redacted headers, in both log
# formats), so the test cannot pass by searching nothing.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL not set: run through scripts/test-all.sh}"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
T=${FERRY_TEST_TMPDIR:-$WORK}/secrets
rm -rf "$T"
OUT=$T/out         # what the commands printed and wrote, metrics, scrapes, dumps
CMDS=$T/cmdline    # /proc/PID/cmdline captures
DATA=$T/data       # object bytes in and out
CONTROL=$T/control # the search's own controls (hold the secrets on purpose; never searched)
KEYS=$T/keys       # the key and token files ferry is given (hold the secrets; never searched)
mkdir -p "$OUT" "$CMDS" "$DATA" "$CONTROL" "$KEYS" "$T/home/.aws" "$T/state" "$T/tmp"
export HOME=$T/home FERRY_STATE_DIR=$T/state TMPDIR=$T/tmp
export FERRY_CURL_VERBOSE=1
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL \
  AWS_ENDPOINT_URL_S3 AWS_REGION AWS_DEFAULT_REGION AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE

rand() { python3 -c 'import secrets, sys; print(sys.argv[1] + secrets.token_hex(16))' "$1"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
REG_A=${FERRY_TEST_S3_REGION:-region-a}
REG_B=${FERRY_TEST_S3_REGION_B:-region-b}
KEY_A=$FERRY_TEST_S3_ACCESS_KEY
KEY_B=$FERRY_TEST_S3_ACCESS_KEY_B
TOKEN_CFG=$(rand IQoJcfgTok)    # session_token_env of remote ra
TOKEN_ENV=$(rand IQoJenvTok)    # AWS_SESSION_TOKEN
TOKEN_PROF=$(rand IQoJprofTok)  # aws_session_token of the profile
WRONG=$(rand wrongSecret)       # the secret key of remote rw: refused
EVT=$(rand evtTok)              # ferry serve's events token
EVT_BAD=$(rand badEvtTok)       # a token a client sends that is not serve's
b64key() { python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'; }
SSEC1=$(b64key)  # SSE-C key of the objects uploaded (a file), then the copy's source (a variable)
SSEC2=$(b64key)  # SSE-C key of their copy (a file), read back down (a variable)
export SEC_A_KEY=$KEY_A SEC_A_SECRET=$FERRY_TEST_S3_SECRET_KEY SEC_A_TOKEN=$TOKEN_CFG
export SEC_WRONG=$WRONG SEC_EVT=$EVT SEC_SSEC1=$SSEC1 SEC_SSEC2=$SSEC2
printf '%s\n' "$SSEC1" > "$KEYS/c1.key"
printf '%s\n' "$SSEC2" > "$KEYS/c2.key"
printf '%s\n' "$EVT" > "$KEYS/events.token"
chmod 600 "$KEYS"/*

# PostgreSQL: a schema of the test's own; the password in the URL is one of the test's choosing
# when the server lets any through (trust), else the given URL's and not searched for
SCHEMA=ferry_sec$$
pids=()  # the background processes of this test (ferry's and its servers')
cleanup_secrets() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -z "${VA:-}" ] || drop_versions ra "$VA" --bucket
  [ -z "${VB:-}" ] || drop_versions rb "$VB" --bucket
  psql "$FERRY_TEST_PG_URL" -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  cleanup
}
trap cleanup_secrets EXIT
psql "$FERRY_TEST_PG_URL" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
PGPW=$(rand pgPw)
PG_OWN=$(python3 - "$FERRY_TEST_PG_URL" "$PGPW" <<'PY' || true
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
if p.username:  # else no URL of ours: the fallback below
    host = p.netloc.rsplit("@", 1)[-1]
    netloc = "%s:%s@%s" % (u.quote(p.username, safe=""), sys.argv[2], host)
    print(u.urlunsplit((p.scheme, netloc, p.path, p.query, "")))
PY
)
if [ -n "$PG_OWN" ] && psql "$PG_OWN" -q -At -c 'SELECT 1' >/dev/null 2>&1; then
  PG_BASE=$PG_OWN
else
  PG_BASE=$FERRY_TEST_PG_URL PGPW=""
  echo "  (PostgreSQL checks passwords: the password of FERRY_TEST_PG_URL is not searched for)"
fi
case $PG_BASE in *\?*) PG=$PG_BASE\&;; *) PG=$PG_BASE\?;; esac
PG=${PG}options=-csearch_path%3D$SCHEMA

SECRET_NAMES=(secret-key-A secret-key-B session-token-config session-token-env
  session-token-profile wrong-secret-key events-token wrong-events-token sse-c-key-1 sse-c-key-2)
SECRET_VALUES=("$FERRY_TEST_S3_SECRET_KEY" "$FERRY_TEST_S3_SECRET_KEY_B" "$TOKEN_CFG" "$TOKEN_ENV"
  "$TOKEN_PROF" "$WRONG" "$EVT" "$EVT_BAD" "$SSEC1" "$SSEC2")
if [ -n "$PGPW" ]; then SECRET_NAMES+=(postgres-password); SECRET_VALUES+=("$PGPW"); fi
# and the first 16 characters of each, as a message cut short would leave them
for i in "${!SECRET_NAMES[@]}"; do
  if [ ${#SECRET_VALUES[$i]} -lt 12 ]; then  # a given gateway's secret can be anything
    echo "FAIL - ${SECRET_NAMES[$i]} is too short to be searched for"; exit 1
  fi
  [ ${#SECRET_VALUES[$i]} -gt 16 ] || continue
  SECRET_NAMES+=("${SECRET_NAMES[$i]}-start")
  SECRET_VALUES+=("${SECRET_VALUES[$i]:0:16}")
done
# the shapes of a request's credentials (grep -E, case-insensitive)
SHAPE_NAMES=(header-value sigv4-signature sigv4-credential bearer)
SHAPE_RES=(
  '(authorization|x-amz-security-token|x-amz-s3session-token)"?[:=][[:space:]]*[^<[:space:]]'
  'signature=[0-9a-f]{16}'
  'aws4-hmac-sha256[[:space:]]+credential='
  'bearer[[:space:]]+[^<[:space:]]')

# the AWS profile, in this test's HOME
cat > "$HOME/.aws/credentials" <<EOF
[ferry-sec-b]
aws_access_key_id = $KEY_B
aws_secret_access_key = $FERRY_TEST_S3_SECRET_KEY_B
aws_session_token = $TOKEN_PROF
EOF
CLOSED=$(free_port)  # nothing listens there
PROXY_LOG=$T/proxy.out
python3 "$TOOLS/fault_proxy.py" --upstream "${FERRY_TEST_S3_ENDPOINT_B#http://}" --port 0 \
  --kinds slow --rate 1 --slow-ms 300 > "$PROXY_LOG" 2>&1 &
PROXY=$!
pids+=("$PROXY")
wait_until 30 "the slow proxy to gateway B listens" port_file_written "$PROXY_LOG"
PROXY_PORT=$(head -n 1 "$PROXY_LOG")
# a slow way to gateway A (300 ms a reply): a process talking through it runs long enough for
# its command line to be captured
python3 "$TOOLS/fault_proxy.py" --upstream "${FERRY_TEST_S3_ENDPOINT#http://}" --port 0 \
  --kinds slow --rate 1 --slow-ms 300 > "$T/slow-a.out" 2>&1 &
pids+=("$!")
wait_until 30 "the slow proxy to gateway A listens" port_file_written "$T/slow-a.out"
SLOWA_PORT=$(head -n 1 "$T/slow-a.out")
python3 "$TOOLS/quoting_server.py" > "$T/quoting.out" 2>&1 &
QUOTING=$!
pids+=("$QUOTING")
wait_until 30 "the quoting server listens" port_file_written "$T/quoting.out"
QPORT=$(head -n 1 "$T/quoting.out")
SERVE_PORT=$(free_port)
CONF=$T/ferry.toml
cat > "$CONF" <<EOF
[remotes.ra]
endpoint = "$FERRY_TEST_S3_ENDPOINT"
region = "$REG_A"
access_key_id_env = "SEC_A_KEY"
secret_access_key_env = "SEC_A_SECRET"
session_token_env = "SEC_A_TOKEN"

[remotes.rb]
endpoint = "$FERRY_TEST_S3_ENDPOINT_B"
region = "$REG_B"
profile = "ferry-sec-b"

[remotes.rw]
endpoint = "$FERRY_TEST_S3_ENDPOINT"
region = "$REG_A"
access_key_id_env = "SEC_A_KEY"
secret_access_key_env = "SEC_WRONG"
session_token_env = "SEC_A_TOKEN"

[remotes.rdown]
endpoint = "http://127.0.0.1:$CLOSED"
region = "$REG_A"
access_key_id_env = "SEC_A_KEY"
secret_access_key_env = "SEC_A_SECRET"
session_token_env = "SEC_A_TOKEN"

[remotes.rq]
endpoint = "http://127.0.0.1:$QPORT"
region = "$REG_A"
access_key_id_env = "SEC_A_KEY"
secret_access_key_env = "SEC_A_SECRET"
session_token_env = "SEC_A_TOKEN"

[remotes.rgone]
endpoint = "http://127.0.0.1:$PROXY_PORT"
region = "$REG_B"
profile = "ferry-sec-b"
EOF

# run NAME ARGS...: ferry ARGS with debug logs, every other call as JSON lines, a metrics file;
# stdout, stderr and the metrics go to $OUT/N-NAME.*; returns ferry's exit status
N=0
run() {
  local name=$1 fmt=text; shift
  N=$((N + 1))
  [ $((N % 2)) = 0 ] && fmt=json
  local base
  base=$OUT/$(printf %02d $N)-$name.$fmt
  LAST=$base
  "$FERRY_BIN" --config "${RUN_CONF:-$CONF}" --log-level debug --log-format "$fmt" \
    --metrics-file "$base.prom" "$@" > "$base.out" 2> "$base.err"
}
# rc CODE NAME ARGS...: run, expecting exit status CODE
rc() {
  local want=$1 got=0; shift
  run "$@" || got=$?
  [ "$got" = "$want" ] && return 0
  echo "  exit $got, not $want: $(tail -n 3 "$LAST.err" | cut -c1-300)"
  return 1
}
runs_exe() { [ "$(readlink -f "/proc/$1/exe" 2>/dev/null)" = "$2" ]; }  # runs_exe PID EXE
cmdline() {  # cmdline NAME PID: a copy of ferry's /proc/PID/cmdline, once it runs ferry
  local exe
  exe=$(readlink -f "$FERRY_BIN")
  wait_for 10 runs_exe "$2" "$exe" || true
  tr '\0' ' ' < "/proc/$2/cmdline" > "$CMDS/$1"
  [ -s "$CMDS/$1" ]
}

# ------------------------------------------------------------------ data and buckets
mkdir -p "$DATA/src/s" "$DATA/src/big"
for i in 1 2 3 4 5; do head -c $((i * 3000)) /dev/urandom > "$DATA/src/s/$i.bin"; done
head -c $((11 * 1024 * 1024)) /dev/urandom > "$DATA/src/big/m.bin"
MP=(--multipart-threshold 5MiB --part-size 5MiB --no-progress)
A1=$(new_bucket ra)
B1=$(new_bucket rb)
B2=$(new_bucket rb)
B3=$(new_bucket rb)
B4=$(new_bucket rb)
B5=$(new_bucket rb)
C1=$(new_bucket rb)
EV=$(new_bucket ra)
STG=$(new_bucket rb)
VA=ferry-sec-va-$$-$RANDOM
VB=ferry-sec-vb-$$-$RANDOM
aws_side a s3api create-bucket --bucket "$VA" >/dev/null
aws_side b s3api create-bucket --bucket "$VB" >/dev/null
aws_side a s3api put-bucket-versioning --bucket "$VA" --versioning-configuration Status=Enabled
aws_side b s3api put-bucket-versioning --bucket "$VB" --versioning-configuration Status=Enabled

# ------------------------------------------------------------------ copies, listings, verify
check "cp folder -> A (config env keys + session token; multipart)" \
  rc 0 cp-up cp "$DATA/src" "ra:$A1" "${MP[@]}"
check "sync A -> B (profile on B; small and multipart objects)" \
  rc 0 sync-ab sync "ra:$A1" "rb:$B1" "${MP[@]}"
check "sync A -> B again, a --json summary" rc 0 sync-ab2 sync "ra:$A1" "rb:$B1" "${MP[@]}" --json
check "ls A" rc 0 ls-a ls "ra:$A1"
check "ls B --json" rc 0 ls-b ls "rb:$B1" --json
env_a() {
  AWS_ACCESS_KEY_ID=$KEY_A AWS_SECRET_ACCESS_KEY=$FERRY_TEST_S3_SECRET_KEY \
    AWS_SESSION_TOKEN=$TOKEN_ENV AWS_ENDPOINT_URL=$FERRY_TEST_S3_ENDPOINT AWS_REGION=$REG_A "$@"
}
prof_b() {
  AWS_PROFILE=ferry-sec-b AWS_ENDPOINT_URL=$FERRY_TEST_S3_ENDPOINT_B AWS_REGION=$REG_B "$@"
}
check "ls s3:// with the AWS environment variables" env_a rc 0 ls-env ls "s3://$A1"
check "  its trace shows the session token sent, redacted" \
  grep -q 'x-amz-security-token: <redacted>' "$LAST.err"
check "ls s3:// with AWS_PROFILE" prof_b rc 0 ls-profile ls "s3://$B1"
check "  its trace shows the profile's session token sent, redacted" \
  grep -q 'x-amz-security-token: <redacted>' "$LAST.err"
check "sync s3:// (AWS env) -> folder" env_a rc 0 sync-down sync "s3://$A1" "$DATA/down" "${MP[@]}"
check "  the bytes came down" diff -r "$DATA/src" "$DATA/down"
check "cp A -> B with --no-state, -v" rc 0 cp-nostate cp "ra:$A1" "rb:$B2" "${MP[@]}" --no-state -v
check "verify A B" rc 0 verify verify "ra:$A1" "rb:$B1"
check "verify A B --json --download" rc 0 verify-json verify "ra:$A1" "rb:$B1" --json --download

# ------------------------------------------------------------------ replicate
mkdir -p "$DATA/v1/r" "$DATA/v2/r"
echo "version one" > "$DATA/v1/r/k"
echo "version two" > "$DATA/v2/r/k"
cp "$DATA/src/s/3.bin" "$DATA/v1/r/other"
check "two versions of r/k written to a versioned bucket" \
  rc 0 put-v1 cp "$DATA/v1" "ra:$VA" --no-progress
check "  (the second)" rc 0 put-v2 cp "$DATA/v2" "ra:$VA" --no-progress
cat >> "$CONF" <<EOF

[[replication.rules]]
id = "all"
destinations = ["rb:$VB"]
delete_markers = true

[serve]
listen = "127.0.0.1:$SERVE_PORT"
replicate = ["ra:$VA"]
scan_interval = "1h"
token_env = "SEC_EVT"
EOF
check "replicate A -> B (versions) with a report" \
  rc 0 replicate replicate "ra:$VA" --state "$T/state/repl.db" --report "$OUT/report" --report-format s3-batch --json
check "  the report was written" test -s "$OUT/report.csv"
check "replicate status" rc 0 repl-status replicate status --state "$T/state/repl.db"
check "replicate status --json" \
  rc 0 repl-status-json replicate status --state "$T/state/repl.db" --json
check "verify --versions" rc 0 verify-versions verify "ra:$VA" "rb:$VB" --versions

# ------------------------------------------------------------------ transport, backup, archives
check "sync --compress --pack-only (staging on B)" \
  rc 0 pack-only sync "ra:$A1" "rb:$B3" --compress --staging "rb:$STG/t" --pack-only --no-progress
check "unpack the staged archives into B" rc 0 unpack unpack "rb:$STG/t" "rb:$B3" --json
check "backup A" rc 0 backup backup "ra:$A1" "rb:$STG/bk" --json
check "catalog ls" rc 0 catalog catalog ls "rb:$STG/bk"
check "restore s/ to a folder" \
  rc 0 restore restore "rb:$STG/bk" --prefix s/ --to "$DATA/restored" --json
check "  the bytes came back" diff -r "$DATA/src/s" "$DATA/restored/s"
check "archive pack A -> an object on B" \
  rc 0 archive-pack archive pack "ra:$A1" "rb:$STG/a.fza" --level 1 --threads 1
check "archive ls" rc 0 archive-ls archive ls "rb:$STG/a.fza"
check "archive cat" rc 0 archive-cat archive cat "rb:$STG/a.fza" s/2.bin
check "  printed the entry's bytes" cmp "$LAST.out" "$DATA/src/s/2.bin"
check "cache warm A -> B" \
  rc 0 cache-warm cache warm "ra:$A1" --prefix "" --cache "rb:$C1" --ttl 1h --json
check "estimate --compress" rc 0 estimate estimate "ra:$A1" "rb:$B1" --compress --json --sample 20
check "events setup (the token from an environment variable)" \
  rc 0 events-setup events setup "ra:$EV" --endpoint "http://127.0.0.1:$SERVE_PORT/events" \
  --token-env SEC_EVT --no-persistent
# the token from a file, in a process whose command line is captured while it runs: a slow
# gateway (the fault proxy's 300 ms replies) keeps it running
cat > "$T/slow-a.toml" <<EOF2
[remotes.raslow]
endpoint = "http://127.0.0.1:$SLOWA_PORT"
region = "$REG_A"
access_key_id_env = "SEC_A_KEY"
secret_access_key_env = "SEC_A_SECRET"
session_token_env = "SEC_A_TOKEN"
EOF2
"$FERRY_BIN" --config "$T/slow-a.toml" --log-level debug --log-format text \
  --metrics-file "$OUT/events-setup-file.prom" events setup "raslow:$EV" \
  --endpoint "http://127.0.0.1:$SERVE_PORT/events" --token-file "$KEYS/events.token" \
  --no-persistent > "$OUT/events-setup-file.out" 2> "$OUT/events-setup-file.err" &
EPID=$!
pids+=("$EPID")
check "events setup --token-file: its cmdline captured while it runs" cmdline events-setup "$EPID"
erc=0
wait "$EPID" || erc=$?
check "  and it sets the topic up" [ "$erc" = 0 ]
check "events show" rc 0 events-show events show "ra:$EV"
check "  shows the topic (its token masked)" grep -q "ferry-$EV" "$LAST.out"
check "events remove" rc 0 events-remove events remove "ra:$EV" --delete-topic

# ------------------------------------------------------------------ secrets on the command line
# refused, in one line naming the safe forms, the secret not echoed (the search below looks at
# what these printed)
refused() {  # refused NAME FLAG ARGS...: exit 2, one error line naming FLAG-file and FLAG-env
  local name=$1 flag=$2; shift 2
  rc 2 "$name" "$@" || return 1
  [ "$(grep -c -- "$flag takes the secret itself" "$LAST.err")" = 1 ] &&
    grep -q -- "give $flag-file PATH or $flag-env NAME instead" "$LAST.err" &&
    [ "$(grep -c -i 'error' "$LAST.err")" = 1 ]
}
SC1=$(new_bucket ra)
SC2=$(new_bucket ra)
check "cp --sse-c-key KEY: refused, one line, the key not echoed" \
  refused ssec-argv --sse-c-key cp "$DATA/src" "ra:$SC1" --sse-c-key "$SSEC1"
check "cp --sse-c-copy-source-key=KEY: refused likewise" \
  refused ssec-src-argv --sse-c-copy-source-key cp "ra:$SC1" "ra:$SC2" \
  "--sse-c-copy-source-key=$SSEC1" --sse-c-key-file "$KEYS/c2.key"
check "events setup --token TOKEN: refused likewise" \
  refused events-argv --token events setup "ra:$EV" \
  --endpoint "http://127.0.0.1:$SERVE_PORT/events" --token "$EVT" --no-persistent
check "  nothing was set up" rc 0 events-after-refusal events show "ra:$EV"
check "    (no topic of ours)" bash -c "! grep -q 'ferry-$EV' '$LAST.out'"

# the file and environment forms, end to end; each process's command line captured while it
# runs (--bwlimit keeps it running for seconds)
ssec() {  # ssec NAME ARGS...: ferry in the background, its cmdline captured, its exit status
  local name=$1 p c=0; shift
  "$FERRY_BIN" --config "$CONF" --log-level debug --log-format json --bwlimit 4MiB \
    --metrics-file "$OUT/$name.prom" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" &
  p=$!
  pids+=("$p")
  cmdline "$name" "$p" || { echo "  no cmdline of $name captured"; c=1; }
  wait "$p" || { echo "  $name: exit $?: $(tail -n 2 "$OUT/$name.err" | cut -c1-300)"; c=1; }
  return "$c"
}
check "cp up with --sse-c-key-file (cmdline captured)" \
  ssec ssec-up cp "$DATA/src" "ra:$SC1" --sse-c-key-file "$KEYS/c1.key" "${MP[@]}" --no-state
check "  the objects are SSE-C: a read without the key is refused" \
  rc 1 ssec-nokey cp "ra:$SC1/s/" "$DATA/ssec-nokey" --no-state --no-progress
check "cp S3 -> S3 from key 1 (--sse-c-copy-source-key-env) to key 2 (--sse-c-key-file)" \
  ssec ssec-copy cp "ra:$SC1" "ra:$SC2" --sse-c-copy-source-key-env SEC_SSEC1 \
  --sse-c-key-file "$KEYS/c2.key" "${MP[@]}"
check "cp down with --sse-c-key-env (key 2)" \
  ssec ssec-down cp "ra:$SC2" "$DATA/ssec-down" --sse-c-key-env SEC_SSEC2 "${MP[@]}"
check "  the bytes came back" diff -r "$DATA/src" "$DATA/ssec-down"

# ------------------------------------------------------------------ PostgreSQL: worker, jobs
check "sync --detach on PostgreSQL" \
  rc 0 detach sync "ra:$A1" "rb:$B4" --state "$PG" --detach "${MP[@]}"
WPORT=$(free_port)
"$FERRY_BIN" --config "$CONF" --log-level debug --log-format json worker --state "$PG" \
  --metrics-listen "127.0.0.1:$WPORT" --metrics-file "$OUT/worker.prom" \
  > "$OUT/worker.out" 2> "$OUT/worker.err" &
WPID=$!
pids+=("$WPID")
check "worker's cmdline captured" cmdline worker "$WPID"
check "backup on PostgreSQL" rc 0 backup-pg backup "ra:$A1" "rb:$STG/bk2" --state "$PG"
check "restore --detach on PostgreSQL" \
  rc 0 restore-detach restore "rb:$STG/bk2" --prefix s/ --to "rb:$B5" --state "$PG" --detach
check "cache warm --detach on PostgreSQL" rc 0 warm-detach cache warm "ra:$A1" --prefix s/ \
  --cache "rb:$C1/pg" --ttl 1h --state "$PG" --detach
runs_done() {  # the 4 runs (sync, backup, restore, warm) done
  "$FERRY_BIN" jobs list --state "$PG" --json > "$T/runs" 2>/dev/null || return 1
  [ "$(wc -l < "$T/runs")" = 4 ] && [ "$(grep -c '"state":"done"' "$T/runs")" = 4 ]
}
check "the worker finishes every run" wait_for 60 runs_done
for p in metrics api/metrics api/status; do
  curl -sf "http://127.0.0.1:$WPORT/$p" > "$OUT/worker-${p//\//-}.scrape" || true
done
check "  its /metrics was scraped" grep -q '^ferry_' "$OUT/worker-metrics.scrape"
kill -TERM "$WPID" 2>/dev/null || true
wrc=0
wait "$WPID" || wrc=$?
check "  and it stops on SIGTERM" [ "$wrc" = 0 ]
check "jobs list" rc 0 jobs-list jobs list --state "$PG"
check "jobs list --json" rc 0 jobs-list-json jobs list --state "$PG" --json
run_id=$(grep -o '"run":[0-9]*' "$LAST.out" | head -n 1 | cut -d: -f2)
check "jobs show" rc 0 jobs-show jobs show "${run_id:-1}" --state "$PG" --json

# ------------------------------------------------------------------ serve
SMPORT=$(free_port)
# a second rule replicates to the quoting server: every version fails there, and its error
# (the server's message quoting the request) lands in the status store and /api/status
cp "$CONF" "$T/serve.toml"
cat >> "$T/serve.toml" <<EOF

[[replication.rules]]
id = "quoted"
priority = 2
destinations = ["rq:quoted-bucket"]
EOF
"$FERRY_BIN" --config "$T/serve.toml" --log-level debug --log-format text serve --state "$PG" \
  --metrics-listen "127.0.0.1:$SMPORT" --metrics-file "$OUT/serve.prom" \
  > "$OUT/serve.out" 2> "$OUT/serve.err" &
SPID=$!
pids+=("$SPID")
check "serve's cmdline captured" cmdline serve "$SPID"
check "serve answers /healthz" \
  wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$SERVE_PORT/healthz"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
ev=http://127.0.0.1:$SERVE_PORT/events
check "POST /events with the token: 200" \
  [ "$(code -X POST -H "Authorization: Bearer $EVT" --data '{"Records":[]}' "$ev")" = 200 ]
check "POST /events with a wrong token: 401" \
  [ "$(code -X POST -H "Authorization: Bearer $EVT_BAD" --data '{"Records":[]}' "$ev")" = 401 ]
scan_done() {
  curl -sf "http://127.0.0.1:$SERVE_PORT/metrics" > "$OUT/serve-metrics.scrape" &&
    grep -q '^ferry_jobs_finished_total' "$OUT/serve-metrics.scrape"
}
check "serve's scan finishes a job" wait_for 60 scan_done
for port in "$SERVE_PORT" "$SMPORT"; do
  for p in metrics api/metrics api/status healthz; do
    curl -sf "http://127.0.0.1:$port/$p" > "$OUT/serve-$port-${p//\//-}.scrape" || true
  done
done
check "  --metrics-listen serves /metrics too" \
  grep -q '^ferry_' "$OUT/serve-$SMPORT-metrics.scrape"
check "  /api/status shows the failures at the quoting server" \
  grep -q 'AuthorizationHeaderMalformed' "$OUT/serve-$SERVE_PORT-api-status.scrape"
kill -TERM "$SPID" 2>/dev/null || true
src=0
wait "$SPID" || src=$?
check "  serve stops on SIGTERM" [ "$src" = 0 ]

# ------------------------------------------------------------------ failures
check "a wrong secret key: one clear error" rc 1 wrong-ls ls "rw:$A1"
check "  naming wrong credentials" grep -q 'wrong credentials' "$LAST.err"
check "a wrong secret key on a copy" rc 1 wrong-cp cp "$DATA/src" "rw:$A1" "${MP[@]}" --no-state
check "  naming wrong credentials" grep -q 'wrong credentials' "$LAST.err"
check "a wrong secret key on a GET" rc 1 wrong-get events show "rw:$EV"
check "  says SignatureDoesNotMatch" grep -q 'wrong credentials.*SignatureDoesNotMatch' "$LAST.err"
# a server that quotes the request's credentials in its error replies (S3 XML and SQS JSON)
check "an S3 error quoting the request's credentials" rc 2 quoted-s3 ls "rq:$A1"
check "  is printed, its server message too" \
  grep -q '400 AuthorizationHeaderMalformed: Malformed credentials' "$LAST.err"
cp "$CONF" "$T/sqs.toml"
cat >> "$T/sqs.toml" <<EOF

[[serve.sqs]]
queue_url = "http://127.0.0.1:$QPORT/123456789012/events"
remote = "ra"
dead_letter_queue_url = "http://127.0.0.1:$QPORT/123456789012/refused"
EOF
with_conf() { local RUN_CONF=$1; shift; "$@"; }
check "an SQS error quoting the canonical request" \
  with_conf "$T/sqs.toml" rc 1 quoted-sqs serve --state "$T/state/sqs.db"
check "  is printed" grep -qx \
  'ferry: error: SQS GetQueueAttributes .*InvalidSignatureException: Signature mismatch.*' \
  "$LAST.err"
check "  in one line (every line on stderr is a log line)" \
  bash -c "! grep -v '^ferry: ' '$LAST.err' | grep -v '^{' | grep -q ."
check "a missing bucket" rc 1 missing ls "ra:ferry-sec-missing-$$"
check "  named" grep -q 'bucket not found' "$LAST.err"
check "a missing destination bucket" rc 1 missing-dst sync "ra:$A1" "rb:ferry-sec-missing-$$" \
  "${MP[@]}"
check "a closed port" rc 1 closed ls "rdown:$A1"
# a gateway that goes away mid-run: B through a slow proxy, killed once the copy is under way
B6=$(new_bucket rb)
"$FERRY_BIN" --config "$CONF" --log-level debug --log-format json --metrics-file "$OUT/gone.prom" \
  cp "ra:$A1" "rgone:$B6" "${MP[@]}" --state "$T/state/gone.db" --max-attempts 1 \
  --concurrency 2 \
  > "$OUT/gone.out" 2> "$OUT/gone.err" &
GPID=$!
pids+=("$GPID")
check "the copy's cmdline captured" cmdline gone "$GPID"
puts() { grep -c '"> PUT ' "$OUT/gone.err" 2>/dev/null | grep -qv '^0$'; }
check "  the copy sends PUTs through the proxy" wait_for 30 puts
kill -TERM "$PROXY" 2>/dev/null || true
wait "$PROXY" 2>/dev/null || true
grc=0
wait "$GPID" || grc=$?
check "  and fails once the gateway is gone" [ "$grc" = 1 ]
check "its dead jobs" rc 0 gone-dlq jobs dlq --state "$T/state/gone.db"
check "  say why" grep -q "Couldn't connect" "$LAST.out"

# ------------------------------------------------------------------ the search
pg_dump --no-owner --schema="$SCHEMA" "$FERRY_TEST_PG_URL" > "$OUT/pg_dump.sql"
check "pg_dump of the test's schema holds ferry's tables" \
  grep -q "CREATE TABLE $SCHEMA\." "$OUT/pg_dump.sql"
check "  and the errors recorded there" grep -q 'AuthorizationHeaderMalformed' "$OUT/pg_dump.sql"
# searched for everything; the cmdline captures for all but the PostgreSQL password, which the
# test itself put in the --state URL of the processes whose cmdline it took
ROOTS=("$OUT" "$DATA" "$T/state" "$T/home" "$T/tmp" "$WORK")
# search [--secrets-only] [--skip NAME] PATH...: every hit as "HIT file:line: name", then the
# count of hits on the last line
search() {
  local only=0 skip="" i hits=0 line
  [ "$1" = --secrets-only ] && { only=1; shift; }
  [ "$1" = --skip ] && { skip=$2; shift 2; }
  for i in "${!SECRET_NAMES[@]}"; do
    [ -n "$skip" ] && [[ ${SECRET_NAMES[$i]} == "$skip"* ]] && continue
    while IFS= read -r line; do
      echo "  HIT $line: ${SECRET_NAMES[$i]}"
      hits=$((hits + 1))
    done < <(grep -raFn --exclude-dir=.aws -- "${SECRET_VALUES[$i]}" "$@" | cut -d: -f1,2)
  done
  if [ "$only" = 0 ]; then
    for i in "${!SHAPE_NAMES[@]}"; do
      while IFS= read -r line; do
        echo "  HIT $line: ${SHAPE_NAMES[$i]}"
        hits=$((hits + 1))
      done < <(grep -raEion --exclude-dir=.aws -- "${SHAPE_RES[$i]}" "$@" | cut -c1-200)
    done
  fi
  echo "$hits"
}
# the controls: each secret and each shape is found, in text and in a SQLite database
{
  printf 'a log line quoting %s\n' "${SECRET_VALUES[@]}"
  echo "> Authorization: AWS4-HMAC-SHA256 Credential=$KEY_A/20260101/$REG_A/s3/aws4_request,"
  echo "  SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef"
  echo '{"message":"> x-amz-security-token: abc"}'
  echo "Authorization: Bearer abc"
} > "$CONTROL/leaky.log"
python3 - "$CONTROL/leaky.db" "${SECRET_VALUES[@]}" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE t (v BLOB)")
db.executemany("INSERT INTO t VALUES (?)", [(s.encode(),) for s in sys.argv[2:]])
db.commit()
PY
search "$CONTROL/leaky.log" > "$CONTROL/leaky.hits"
search --secrets-only "$CONTROL/leaky.db" > "$CONTROL/db.hits"
control_ok() {
  local n
  for n in "${SECRET_NAMES[@]}" "${SHAPE_NAMES[@]}"; do
    grep -q ": $n\$" "$CONTROL/leaky.hits" || { echo "  $n not found in leaky.log"; return 1; }
  done
  for n in "${SECRET_NAMES[@]}"; do
    grep -q ": $n\$" "$CONTROL/db.hits" || { echo "  $n not found in leaky.db"; return 1; }
  done
}
check "control: the search finds every secret and shape (text and SQLite)" control_ok
printf '%s\n' '> Authorization: <redacted>' '< x-amz-security-token: <redacted>' \
  '{"message":"> Authorization: <redacted>","trace":"curl"}' > "$CONTROL/clean.log"
check "control: redacted trace lines are no hit" [ "$(search "$CONTROL/clean.log")" = 0 ]
# the run traced its requests in both formats, so the search looked at real traces
check "the traces hold redacted Authorization headers (text)" \
  grep -rqx 'ferry: debug: > Authorization: <redacted> trace=curl' "$OUT"
check "  and as JSON lines" grep -rqF '"message":"> Authorization: <redacted>"' "$OUT"
check "  and redacted session tokens" grep -rqF 'x-amz-security-token: <redacted>' "$OUT"
check "the search covers SQLite state files" \
  bash -c "find '$T/state' -type f -name '*.db' | grep -q ."
nfiles=$(find "${ROOTS[@]}" "$CMDS" -type f ! -path "$HOME/.aws/*" | wc -l)
mib=$(du -scm "${ROOTS[@]}" "$CMDS" | tail -n 1 | cut -f1)
search "${ROOTS[@]}" > "$T/hits"
search --skip postgres-password "$CMDS" > "$T/cmdline-hits"
check "no secret and no request credential in $nfiles files ($mib MiB)" \
  [ "$(tail -n 1 "$T/hits")" = 0 ]
head -n -1 "$T/hits" | head -n 40
check "no secret in the processes' cmdlines ($(find "$CMDS" -type f | wc -l) captured)" \
  [ "$(tail -n 1 "$T/cmdline-hits")" = 0 ]
head -n -1 "$T/cmdline-hits" | head -n 10
finish
