#!/usr/bin/env bash
# Durable runs (the default) with keys a folder cannot hold and entries that cannot be read:
# S3 folder markers ("dir/", and one named like the source prefix) synced to a folder with
# --delete are skipped and counted, twice, exit 0, and deletes still run; a dangling symbolic
# link in a local source fails the run (exit 1) and its copy in the destination survives;
# --no-fsync is accepted.
source "$(dirname "$0")/testlib.bash"
export FERRY_STATE_DIR=$WORK/state
A=$(new_bucket ra)
aws_a() {
  AWS_ACCESS_KEY_ID=$RA_KEY AWS_SECRET_ACCESS_KEY=$RA_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION:-region-a} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT" "$@" >/dev/null
}
echo -n A > "$WORK/a.txt"
for key in data/ data/dir/ data/dir/sub/; do
  check "put marker $key" aws_a s3api put-object --bucket "$A" --key "$key" --output text
done
check "put data/dir/a.txt" aws_a s3api put-object --bucket "$A" --key data/dir/a.txt \
  --body "$WORK/a.txt" --output text
json() { python3 -c "import json,sys; d=json.load(open('$WORK/out')); print(d$1)"; }
mkdir -p "$WORK/down"
echo stale > "$WORK/down/stale.txt"
for run in 1 2; do
  rc=0
  "$FERRY_BIN" --config "$CONF" sync "ra:$A/data" "$WORK/down" --delete --no-progress --json \
    > "$WORK/out" 2> "$WORK/err" || rc=$?
  check "run $run: markers to a folder exit 0" [ "$rc" = 0 ]
  check "  3 markers skipped" [ "$(json "['markers_skipped']")" = 3 ]
  check "  nothing failed" [ "$(json "['objects_failed']")" = 0 ]
done
check "  the file arrived" [ "$(cat "$WORK/down/dir/a.txt")" = A ]
check "  the destination-only file was deleted" [ ! -e "$WORK/down/stale.txt" ]
check "text summary names the markers" bash -c "'$FERRY_BIN' --config '$CONF' sync 'ra:$A/data' \
  '$WORK/down' --no-progress 2>&1 | grep -q '3 folder markers skipped'"

# local -> S3: a dangling symbolic link is a failure, not an absence
mkdir -p "$WORK/up"
echo keep > "$WORK/up/keep.txt"
echo old > "$WORK/up/link"
check "first copy of the link's file" ferry sync "$WORK/up" "ra:$A/up" --no-progress
rm "$WORK/up/link"
ln -s "$WORK/nowhere" "$WORK/up/link"
echo extra-in-s3 > "$WORK/extra"
check "destination-only object" aws_a s3api put-object --bucket "$A" --key up/extra \
  --body "$WORK/extra" --output text
rc=0
"$FERRY_BIN" --config "$CONF" sync "$WORK/up" "ra:$A/up" --delete --max-attempts 1 \
  --no-progress > "$WORK/out" 2> "$WORK/err" || rc=$?
check "dangling link fails the run" [ "$rc" = 1 ]
check "  the error says why" grep -q "symbolic link whose target does not exist" "$WORK/err"
check "  its copy survives" bash -c "aws_a() { AWS_ACCESS_KEY_ID=\$RA_KEY AWS_SECRET_ACCESS_KEY=\$RA_SECRET \
  AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION:-region-a} AWS_EC2_METADATA_DISABLED=true \
  /usr/bin/aws --endpoint-url '$FERRY_TEST_S3_ENDPOINT' \"\$@\"; }; \
  aws_a s3api head-object --bucket '$A' --key up/link >/dev/null && \
  aws_a s3api head-object --bucket '$A' --key up/extra >/dev/null"

check "--no-fsync is accepted" ferry sync "ra:$A/data" "$WORK/fast" --no-fsync --no-state --no-progress
check "  and writes the file" [ "$(cat "$WORK/fast/dir/a.txt")" = A ]
finish
