#!/usr/bin/env bash
# Dead letters: a destination that refuses writes makes the transfer job fail; access denied
# is final (base/status.h Classify), so it is dead after its first attempt, not after
# --max-attempts, with its error (`ferry jobs dlq`), deletes stay parked and
# the command exits 1. Each failed object is reported with its own error, not its job's first
# one (issue 43, item 12), in the --json summary, the text summary's `failed:` lines and
# `ferry jobs dlq` (text and --json). Once the cause is fixed, `ferry jobs redrive` and the same
# command again complete the run. Also: malformed and unreachable state URLs give one clear line.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
STATE=$WORK/state.db
mkdir -p "$WORK/src"
for i in $(seq 1 30); do echo "object $i" > "$WORK/src/o$i"; done
ferry cp "$WORK/src" "ra:$A" --no-progress >/dev/null 2>&1
aws_b() {
  AWS_ACCESS_KEY_ID=$RB_KEY AWS_SECRET_ACCESS_KEY=$RB_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION_B:-region-b} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT_B" "$@"
}
cat > "$WORK/deny.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject",
 "Resource":"arn:aws:s3:::$B/*"}]}
JSON
check "deny writes on the destination" aws_b s3api put-bucket-policy --bucket "$B" --policy "file://$WORK/deny.json"

rc=0
"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --state "$STATE" --max-attempts 3 --no-progress \
  --json > "$WORK/out" 2> "$WORK/err" || rc=$?
check "refused run exits 1" [ "$rc" = 1 ]
check "  its transfer job is dead" [ "$(python3 -c "import json; print(json.load(open('$WORK/out'))['jobs_dead'])")" -ge 1 ]
ferry jobs dlq --state "$STATE" --json > "$WORK/dlq"
check "  dlq lists it with its error" grep -q '"state":"dead"' "$WORK/dlq"
check "  after 1 attempt: access denied is not retried" grep -q '"attempts":1,' "$WORK/dlq"
check "  error says access denied" grep -qi 'denied' "$WORK/dlq"
# own_errors KIND FILE: each failure FILE reports (KIND json: the --json summary's "failures";
# text: the summary's `failed: copy KEY: ERROR` lines; dlq: `jobs dlq`'s `    failed: KEY: ERROR`
# lines; dlq-json: the "failures" of `jobs dlq --json`) names its own object in its error and no
# other one; 30 of them
own_errors() {
  python3 - "$1" "$2" <<'PY'
import json, re, sys
kind, path = sys.argv[1], sys.argv[2]
found = []
if kind == "json":
    found = [(x["key"], x["error"]) for x in json.load(open(path))["failures"]]
elif kind == "dlq-json":
    for line in open(path):
        found += [(x["key"], x["error"]) for x in json.loads(line).get("failures", [])]
else:
    lead = r"^failed: copy " if kind == "text" else r"^    failed: "
    for line in open(path):
        m = re.match(lead + r"(o[0-9]+): (.*)$", line)
        if m: found.append((m.group(1), m.group(2)))
bad = [(k, e) for k, e in found if set(re.findall(r"\bo[0-9]+\b", e)) != {k}]
print("  %d failures, %d with another object's error" % (len(found), len(bad)))
for k, e in bad[:3]: print("  %s: %s" % (k, e))
sys.exit(0 if len(found) == 30 and not bad else 1)
PY
}
check "  each of the 30 failures in --json carries its own error" own_errors json "$WORK/out"
check "  and in jobs dlq --json" own_errors dlq-json "$WORK/dlq"
ferry jobs dlq --state "$STATE" > "$WORK/dlq.txt"
check "  and in jobs dlq" own_errors dlq "$WORK/dlq.txt"
rc=0
"$FERRY_BIN" --config "$CONF" cp "ra:$A" "rb:$B" --state "$WORK/text.db" --no-progress \
  > "$WORK/text.out" 2> "$WORK/text.err" || rc=$?
check "a refused run in text: exits 1" [ "$rc" = 1 ]
check "  its failed: lines each carry their own object's error" own_errors text "$WORK/text.err"

check "fix the cause" aws_b s3api delete-bucket-policy --bucket "$B"
check "redrive" ferry jobs redrive --state "$STATE"
rc=0
"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --state "$STATE" --max-attempts 3 --no-progress \
  --json > "$WORK/out" 2> "$WORK/err" || rc=$?
check "rerun completes the run" [ "$rc" = 0 ]
check "  resumed, not restarted" [ "$(python3 -c "import json; print(json.load(open('$WORK/out'))['resumed'])")" = True ]
check "  same options: no warning about them" bash -c "! grep -q 'keeps the options' '$WORK/err'"
check "  all 30 objects arrived" [ "$(ferry ls "rb:$B" | wc -l)" = 30 ]
ferry jobs list --state "$STATE" --json > "$WORK/runs"
check "  run is done" grep -q '"state":"done"' "$WORK/runs"

check "malformed state URL" expect_error 2 "malformed state URL" \
  ferry sync "ra:$A" "rb:$B" --state "mysql://x/y"
check "unreachable state store" expect_error 1 "cannot reach state store" \
  ferry sync "ra:$A" "rb:$B" --state "postgres://ferry:secretpw@127.0.0.1:1/none"
check "  password not printed" bash -c "! grep -q secretpw '$WORK/err'"
finish
