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
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" /usr/bin/aws --endpoint-url "$FERRY_TEST_S3_ENDPOINT_B" "$@"
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
# kill it once RGW holds at least 20 parts of the upload
for _ in $(seq 1 600); do
  n=$(aws_b s3api list-multipart-uploads --bucket "$B" --query 'Uploads[0].UploadId' --output text 2>/dev/null || true)
  if [ -n "$n" ] && [ "$n" != None ]; then
    parts=$(aws_b s3api list-parts --bucket "$B" --key big.bin --upload-id "$n" --query 'length(Parts)' --output text 2>/dev/null || echo 0)
    [ "${parts:-0}" != None ] && [ "${parts:-0}" -ge 20 ] && break
  fi
  sleep 0.1
done
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
check "upload left on RGW after SIGKILL" [ -n "$n" ] && [ "$n" != None ]
before=$(aws_b s3api list-parts --bucket "$B" --key big.bin --upload-id "$n" --query 'length(Parts)' --output text)
echo "  parts on RGW after the kill: $before of 64"
sleep 2  # usage log flushes every second
ops_before=$(put_ops)

rc=0
"$FERRY_BIN" --config "$CONF" sync "ra:$A" "rb:$B" --state "$STATE" --no-progress --json \
  --concurrency 8 --part-size 16MiB > "$WORK/out" 2> "$WORK/run2.log" || rc=$?
check "rerun succeeds" [ "$rc" = 0 ]
check "rerun resumed the same run" [ "$(python3 -c "import json; print(json.load(open('$WORK/out'))['resumed'])")" = True ]
resumed=$(python3 -c "import json; print(json.load(open('$WORK/out'))['parts_resumed'])")
echo "  parts resumed: $resumed"
check "finished parts were adopted" [ "$resumed" -ge $((before - 8)) ] && [ "$resumed" -gt 0 ]
sleep 2
ops_after=$(put_ops)
sent=$((ops_after - ops_before))
echo "  put_obj requests in the rerun: $sent (64 parts - $resumed resumed, + metadata copy)"
# every part not resumed is sent once; nothing else but the checksum metadata copy
check "no finished part was sent again" [ "$sent" -le $((64 - resumed + 2)) ]
got=$(aws_b s3 cp "s3://$B/big.bin" - | sha256sum | cut -d' ' -f1)
check "byte-identical" [ "$got" = "$SUM" ]
check "no upload left behind" [ "$(aws_b s3api list-multipart-uploads --bucket "$B" --query 'length(Uploads || `[]`)' --output text)" = 0 ]
finish
