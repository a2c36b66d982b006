#!/usr/bin/env bash
# Durable runs on the embedded SQLite store: a sync of a 1 GiB object is SIGKILLed midway; the
# same command run again resumes the run and, as RGW's own ListParts and request counts show,
# sends none of the parts that had been finished; the result is byte-identical.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
A=$(new_bucket ra)
B=$(new_bucket rb)
STATE=$WORK/state.db
mkdir -p "$WORK/up"
head -c $((1024 * 1024 * 1024)) /dev/urandom > "$WORK/up/big.bin"
ferry cp "$WORK/up" "ra:$A" --no-progress >/dev/null 2>&1 || { echo "upload failed"; exit 1; }
SUM=$(sha256sum < "$WORK/up/big.bin" | cut -d' ' -f1)
rm -rf "$WORK/up"
aws_b() {
  AWS_ACCESS_KEY_ID=$RB_KEY AWS_SECRET_ACCESS_KEY=$RB_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION_B:-region-b} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT_B" "$@"
}
# put_obj operations RGW counted for bucket B (upload parts included)
put_ops() {
  radosgw-admin -c "$FERRY_TEST_CEPH_CONF" --rgw-realm realm-b --rgw-zonegroup region-b \
    --rgw-zone zone-b usage show --uid tester-b 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin); n = 0
for e in d.get('entries', []):
    for b in e.get('buckets', []):
        if b.get('bucket') == '$B':
            for c in b.get('categories', []):
                if c.get('category') == 'put_obj': n += c.get('ops', 0)
print(n)"
}

"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --state "$STATE" --no-progress \
  --concurrency 8 --part-size 16MiB > "$WORK/run1.log" 2>&1 &
pid=$!
# kill it once ferry has checkpointed 12 finished parts (of 64) in its state file
parts_done() {
  python3 -c "import sqlite3,sys; print(sqlite3.connect('file:$STATE?mode=ro', uri=True, timeout=5).execute('SELECT COUNT(*) FROM part_checkpoints').fetchone()[0])" 2>/dev/null || echo 0
}
twelve_parts() { [ "$(parts_done)" -ge 12 ]; }
wait_for 60 twelve_parts || true
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
n=$(aws_b s3api list-multipart-uploads --bucket "$B" --query 'Uploads[0].UploadId' --output text 2>/dev/null || true)
check "upload left on RGW after SIGKILL" [ -n "$n" -a "$n" != None ]
before=$(aws_b s3api list-parts --bucket "$B" --key big.bin --upload-id "$n" --query 'length(Parts)' --output text)
echo "  parts on RGW after the kill: $before of 64"
check "RGW B's usage log caught up (after the kill)" rgw_b_usage_caught_up "$B"
ops_before=$(put_ops)

rc=0
"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --state "$STATE" --no-progress --json \
  --concurrency 8 --part-size 16MiB > "$WORK/out" 2> "$WORK/run2.log" || rc=$?
check "rerun succeeds" [ "$rc" = 0 ]
check "rerun resumed the same run" [ "$(python3 -c "import json; print(json.load(open('$WORK/out'))['resumed'])")" = True ]
resumed=$(python3 -c "import json; print(json.load(open('$WORK/out'))['parts_resumed'])")
echo "  parts resumed: $resumed"
# parts on RGW but not yet checkpointed when the process died (at most the 8 in flight) are
# sent again; every checkpointed one is adopted
check "finished parts were adopted" [ "$resumed" -ge $((before - 8)) -a "$resumed" -ge 12 ]
check "  and some were left to send" [ "$resumed" -lt 64 ]
check "RGW B's usage log caught up (after the rerun)" rgw_b_usage_caught_up "$B"
ops_after=$(put_ops)
sent=$((ops_after - ops_before))
echo "  put_obj requests in the rerun: $sent (64 parts - $resumed resumed, + metadata copy)"
# RGW's own request count: every part not resumed is sent exactly once, plus at most the
# completion's metadata copy; none of the resumed parts travels again
check "no finished part was sent again" [ "$sent" -ge $((64 - resumed)) -a "$sent" -le $((64 - resumed + 2)) ]
got=$(aws_b s3 cp "s3://$B/big.bin" - | sha256sum | cut -d' ' -f1)
check "byte-identical" [ "$got" = "$SUM" ]
check "no upload left behind" [ "$(aws_b s3api list-multipart-uploads --bucket "$B" --query 'length(Uploads || `[]`)' --output text)" = 0 ]
finish
