#!/usr/bin/env bash
# Dead letters: a destination that refuses writes makes the transfer job fail; access denied
# is final (base/status.h Classify), so it is dead after its first attempt, not after
# --max-attempts, with its error (`ferry jobs dlq`), deletes stay parked and
# the command exits 1. Once the cause is fixed, `ferry jobs redrive` and the same command again
# complete the run. Also: malformed and unreachable state URLs give one clear line.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
STATE=$WORK/state.db
mkdir -p "$WORK/src"
for i in $(seq 1 30); do echo "object $i" > "$WORK/src/o$i"; done
ferry cp "$WORK/src" "ra:$A" --no-progress >/dev/null 2>&1
aws_b() {
  AWS_ACCESS_KEY_ID=$RB_KEY AWS_SECRET_ACCESS_KEY=$RB_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION_B:-region-b} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" /usr/bin/aws --endpoint-url "$FERRY_TEST_S3_ENDPOINT_B" "$@"
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
