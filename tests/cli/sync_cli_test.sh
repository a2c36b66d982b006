#!/usr/bin/env bash
# The ferry binary end to end: local -> region A -> region B -> local, JSON summaries,
# dry runs, --delete, exit codes for per-object failures.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
mkdir -p "$WORK/src/sub dir" "$WORK/src/ünï"
for i in $(seq 1 50); do head -c $((i * 100)) /dev/urandom > "$WORK/src/f$i"; done
echo "plus" > "$WORK/src/sub dir/a+b%c.txt"
echo "uni" > "$WORK/src/ünï/ß.txt"
: > "$WORK/src/empty"
head -c $((20 * 1024 * 1024 + 7)) /dev/urandom > "$WORK/src/big.bin"
N=54
json() { python3 -c "import json,sys; d=json.load(open('$WORK/out')); print(d$1)"; }

check "cp local -> A" bash -c "'$FERRY_BIN' --config '$CONF' cp '$WORK/src' 'ra:$A/data' --json > '$WORK/out'"
check "  copied $N" [ "$(json "['objects_copied']")" = "$N" ]
check "  ok in JSON" [ "$(json "['ok']")" = "True" ]
check "sync A -> B" bash -c "'$FERRY_BIN' --config '$CONF' sync 'ra:$A/data' 'rb:$B' --json \
  --multipart-threshold 8MiB --part-size 5MiB > '$WORK/out'"
check "  copied $N" [ "$(json "['objects_copied']")" = "$N" ]
check "  big object went multipart" [ "$(json "['multipart_copies']")" = "1" ]
check "re-sync copies nothing" bash -c "'$FERRY_BIN' --config '$CONF' sync 'ra:$A/data' 'rb:$B' --json > '$WORK/out'"
check "  zero copied" [ "$(json "['objects_copied']")" = "0" ]
check "  all unchanged" [ "$(json "['objects_unchanged']")" = "$N" ]
check "sync B -> local" ferry sync "rb:$B" "$WORK/back" --no-progress
check "  identical tree" diff -r "$WORK/src" "$WORK/back"

# dry run + delete
echo extra > "$WORK/back/extra-file"
check "dry-run delete" bash -c "'$FERRY_BIN' --config '$CONF' sync 'rb:$B' '$WORK/back' --delete --dry-run --json > '$WORK/out'"
check "  would delete 1" [ "$(json "['objects_deleted']")" = "1" ]
check "  still there" [ -f "$WORK/back/extra-file" ]
check "real delete" ferry sync "rb:$B" "$WORK/back" --delete --no-progress
check "  gone" [ ! -e "$WORK/back/extra-file" ]
check "  identical tree" diff -r "$WORK/src" "$WORK/back"

# s3:// locations use the standard AWS environment chain
check "s3:// with AWS_* variables" bash -c "AWS_ACCESS_KEY_ID=\$RA_KEY AWS_SECRET_ACCESS_KEY=\$RA_SECRET \
  AWS_ENDPOINT_URL='$FERRY_TEST_S3_ENDPOINT' AWS_REGION=${FERRY_TEST_S3_REGION:-region-a} \
  '$FERRY_BIN' ls 's3://$A/data' > '$WORK/ls'"
check "  lists $N objects" [ "$(wc -l < "$WORK/ls")" = "$N" ]
check "--include filter" bash -c "'$FERRY_BIN' --config '$CONF' cp 'rb:$B' '$WORK/only-sub' --include 'sub dir/**' --json > '$WORK/out'"
check "  one object" [ "$(json "['objects_copied']")" = "1" ]
# only uploads ferry started and no run resumes are aborted (older than --abort-uploads-after);
# another tool's unfinished upload is never touched, however old
aws_b() {
  AWS_ACCESS_KEY_ID=$RB_KEY AWS_SECRET_ACCESS_KEY=$RB_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION_B:-region-b} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT_B" "$@"
}
check "leave an upload unfinished" aws_b s3api create-multipart-upload --bucket "$B" --key orphan
# Kept: the upload's age is what is tested: older than --abort-uploads-after 1s, it would be
# aborted were it ferry's
sleep 1
check "another tool's old upload is kept" bash -c "! '$FERRY_BIN' --config '$CONF' sync 'ra:$A/data' 'rb:$B' --no-progress --abort-uploads-after 1s 2>&1 | grep -q 'aborted'"
check "  still on RGW" [ "$(aws_b s3api list-multipart-uploads --bucket "$B" --query 'length(Uploads || `[]`)' --output text)" = 1 ]
finish
