#!/usr/bin/env bash
# A less capable destination: OpenStack Swift's S3 layer has no object tags and no storage class
# but STANDARD. RGW -> Swift copies the bytes and everything Swift can hold of objects that
# carry a class (STANDARD_IA) and tags, small and multipart, reports per run what it could not
# keep (counted, not failed), and an explicit --storage-class Swift refuses still fails loudly.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_SWIFT_ENDPOINT:?FERRY_TEST_SWIFT_ENDPOINT not set: run through scripts/test-all.sh}"
export SW_KEY=$FERRY_TEST_SWIFT_ACCESS_KEY SW_SECRET=$FERRY_TEST_SWIFT_SECRET_KEY
cat >> "$CONF" <<TOML

[remotes.sw]
endpoint = "$FERRY_TEST_SWIFT_ENDPOINT"
region = "us-east-1"
access_key_id_env = "SW_KEY"
secret_access_key_env = "SW_SECRET"
TOML
aws_a() {
  AWS_ACCESS_KEY_ID=$RA_KEY AWS_SECRET_ACCESS_KEY=$RA_SECRET AWS_DEFAULT_REGION=${FERRY_TEST_S3_REGION:-region-a} \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" "$AWS_CLI" --endpoint-url "$FERRY_TEST_S3_ENDPOINT" "$@"
}
json() { python3 -c "import json,sys; d=json.load(open('$WORK/out')); print(d$1)"; }
export FERRY_STATE_DIR=$WORK/state

A=$(new_bucket ra)
S=$(new_bucket sw)
S2=$(new_bucket sw)
mkdir -p "$WORK/src"
head -c 3000 /dev/urandom > "$WORK/src/small-ia"
head -c 12000000 /dev/urandom > "$WORK/src/big-ia"
echo plain > "$WORK/src/plain"
check "an infrequent-access object with tags" aws_a s3api put-object --bucket "$A" --key small-ia \
  --body "$WORK/src/small-ia" --storage-class STANDARD_IA --tagging "team=a&tier=cold"
check "a multipart one with tags" aws_a s3 cp "$WORK/src/big-ia" "s3://$A/big-ia" \
  --storage-class STANDARD_IA
check "  tagged" aws_a s3api put-object-tagging --bucket "$A" --key big-ia \
  --tagging 'TagSet=[{Key=team,Value=b}]'
check "a plain one" aws_a s3api put-object --bucket "$A" --key plain --body "$WORK/src/plain" \
  --metadata owner=me

check "RGW -> Swift copies everything" bash -c "'$FERRY_BIN' --config '$CONF' sync 'ra:$A' 'sw:$S' \
  --multipart-threshold 5MiB --part-size 5MiB --json > '$WORK/out'"
check "  3 copied" [ "$(json "['objects_copied']")" = 3 ]
check "  none failed" [ "$(json "['objects_failed']")" = 0 ]
check "  classes not kept: 2" [ "$(json "['classes_not_kept']")" = 2 ]
check "  tags not kept: 2" [ "$(json "['tags_not_kept']")" = 2 ]
check "  the text summary says so" bash -c "'$FERRY_BIN' --config '$CONF' sync 'ra:$A' 'sw:$S2' \
  --multipart-threshold 5MiB --part-size 5MiB 2>&1 | grep -q 'could not keep the storage class'"
check "Swift -> local" ferry sync "sw:$S" "$WORK/back" --no-progress
check "  the same bytes" diff -r "$WORK/src" "$WORK/back"
check "  metadata kept on Swift" bash -c "'$FERRY_BIN' --config '$CONF' ls 'sw:$S' > '$WORK/ls' && grep -q plain '$WORK/ls'"
check "re-sync copies nothing" bash -c "'$FERRY_BIN' --config '$CONF' sync 'ra:$A' 'sw:$S' --json > '$WORK/out'"
check "  0 copied" [ "$(json "['objects_copied']")" = 0 ]

S3B=$(new_bucket sw)
check "an explicit --storage-class that Swift refuses fails" bash -c "! '$FERRY_BIN' --config '$CONF' \
  sync 'ra:$A' 'sw:$S3B' --storage-class STANDARD_IA --no-progress 2> '$WORK/err'"
check "  naming the class error" grep -q InvalidStorageClass "$WORK/err"
finish
