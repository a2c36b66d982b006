#!/usr/bin/env bash
# Server-side encryption (docs/design/encryption.md) against RGW 16 with its built-in test KMS
# (scripts/rgw-start.sh: `rgw crypt s3 kms backend = testing`, keys testkey-1 and testkey-2):
# bad flags and config refused with one line (exit 2); a bucket whose policy denies PutObject
# without x-amz-server-side-encryption takes cp/sync with --sse aws:kms (whole and multipart) and
# refuses them without; SSE-KMS objects HEAD back with the key id; AES256, which RGW 16.2
# accepts and ignores (bytes stored plain), is refused by ferry with one line and nothing left
# behind; SSE-C round trips (whole and multipart) byte for byte, a read without the key is one
# line; second syncs of SSE-KMS and SSE-C objects copy nothing and report no corruption; a
# server-side copy between two SSE-C keys; the remote's sse_c_key_file; `ferry replicate` with
# SseKmsEncryptedObjects + ReplicaKmsKeyID, and without the criterion (KMS objects left out,
# reported). The customer keys never show in any output.
source "$(dirname "$0")/testlib.bash"
SCRATCH=${FERRY_TEST_TMPDIR:-$WORK}
export HOME=$SCRATCH/home  # no ~/.config/ferry or ~/.aws of the machine
mkdir -p "$HOME"

# test-only keys: base64 of 32 bytes each; ferry takes them from the environment
# (--sse-c-key-env) or a file (--sse-c-key-file: base64, or the raw bytes), never from argv
K1=$(printf 'k1-sse-c-test-key-0123456789abcd' | base64)
K2=$(printf 'k2-sse-c-test-key-9876543210zyxw' | base64)
K1_RAW='k1-sse-c-test-key-0123456789abcd'
export SSE_K1=$K1 SSE_K2=$K2
printf '%s' "$K1_RAW" > "$SCRATCH/k1.raw"      # the 32 raw bytes
printf '%s\n' "$K2" > "$SCRATCH/k2.b64"         # base64 and a newline
all="$WORK/all-output"
: > "$all"
keep() { cat "$WORK/out" "$WORK/err" >> "$all" 2>/dev/null || true; }
# run CMD...: output kept in out/err (and all-output); the exit code in $rc
run() { rc=0; "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?; keep; }
copied() {  # the objects a --json cp/sync copied
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["objects_copied"])' "$WORK/out"
}
json_field() {  # json_field NAME: a field of the --json summary in out
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' \
    "$WORK/out" "$1"
}

mkdir -p "$WORK/src/d"
head -c 200000 /dev/urandom > "$WORK/src/small.bin"
head -c $((11 * 1024 * 1024 + 7)) /dev/urandom > "$WORK/src/d/big.bin"  # 3 parts of 5 MiB
echo hello > "$WORK/src/d/hello.txt"
MP=(--multipart-threshold 5MiB --part-size 5MiB)

# (a) usage errors: one line, exit 2, before any request
A=$(new_bucket ra)
check "(a) --sse-c-key-env not base64: exit 2, one line" \
  expect_error 2 "--sse-c-key-env SSE_BAD: an SSE-C key must be base64 of 32 bytes" \
  env SSE_BAD='not*base64!' "$FERRY_BIN" --config "$CONF" cp "$WORK/src" "ra:$A/x/" \
  --sse-c-key-env SSE_BAD
keep
check "(a) --sse-c-key-env of 16 bytes: exit 2, one line" \
  expect_error 2 "--sse-c-key-env SSE_BAD: an SSE-C key must be 32 bytes (AES-256); this one decodes to 16" \
  env SSE_BAD="$(printf 0123456789abcdef | base64)" "$FERRY_BIN" --config "$CONF" \
  cp "$WORK/src" "ra:$A/x/" --sse-c-key-env SSE_BAD
keep
check "(a) --sse-c-key with the key itself: refused, exit 2, one line" \
  expect_error 2 "--sse-c-key takes the secret itself.*give --sse-c-key-file PATH or --sse-c-key-env NAME" \
  ferry cp "$WORK/src" "ra:$A/x/" --sse-c-key "$K1"
keep
check "(a) --sse-c-copy-source-key with the key itself: refused, exit 2, one line" \
  expect_error 2 "--sse-c-copy-source-key takes the secret itself" \
  ferry cp "ra:$A/" "ra:$A/x/" --sse-c-copy-source-key="$K1"
keep
check "(a) an unset --sse-c-key-env: exit 2, one line" \
  expect_error 2 "--sse-c-key-env: environment variable SSE_UNSET is not set" \
  ferry cp "$WORK/src" "ra:$A/x/" --sse-c-key-env SSE_UNSET
check "(a) a missing --sse-c-key-file: exit 2, one line" \
  expect_error 2 "cannot read --sse-c-key-file $SCRATCH/none.key" \
  ferry cp "$WORK/src" "ra:$A/x/" --sse-c-key-file "$SCRATCH/none.key"
check "(a) --sse-kms-key-id without --sse aws:kms: exit 2" \
  expect_error 2 "--sse-kms-key-id needs --sse aws:kms" \
  ferry cp "$WORK/src" "ra:$A/x/" --sse-kms-key-id testkey-1
check "(a) --sse with a local destination: exit 2" \
  expect_error 2 "--sse applies to an S3 destination" \
  ferry cp "ra:$A/" "$WORK/down" --sse aws:kms
check "(a) --sse of an unknown kind: exit 2" \
  expect_error 2 "unknown server-side encryption 'aws:xyz' (expected AES256 or aws:kms)" \
  ferry cp "$WORK/src" "ra:$A/x/" --sse aws:xyz
check "(a) --sse with --sse-c-key: exit 2" \
  expect_error 2 "--sse and --sse-c-key together" \
  ferry cp "$WORK/src" "ra:$A/x/" --sse aws:kms --sse-c-key-env SSE_K1
keep
check "(a) --sse-c-copy-source-key with a local source: exit 2" \
  expect_error 2 "--sse-c-copy-source-key applies to an S3 source" \
  ferry cp "$WORK/src" "ra:$A/x/" --sse-c-copy-source-key-env SSE_K1
keep
cp "$CONF" "$WORK/secret.toml"
printf '\n[remotes.s]\nendpoint = "%s"\nsse_c_key = "%s"\n' "$FERRY_TEST_S3_ENDPOINT" "$K1" \
  >> "$WORK/secret.toml"
check "(a) a customer key in the config file: exit 2, one line" \
  expect_error 2 "secrets do not belong in the config file; name the SSE-C key's file" \
  "$FERRY_BIN" --config "$WORK/secret.toml" ls "ra:$A"
keep
cp "$CONF" "$WORK/kmsid.toml"
printf '\n[remotes.s]\nendpoint = "%s"\nsse_kms_key_id = "testkey-1"\n' \
  "$FERRY_TEST_S3_ENDPOINT" >> "$WORK/kmsid.toml"
check "(a) sse_kms_key_id without sse = aws:kms in the config: exit 2" \
  expect_error 2 "'sse_kms_key_id' needs sse = \"aws:kms\"" \
  "$FERRY_BIN" --config "$WORK/kmsid.toml" ls "ra:$A"
check "(a)   nothing was written" bash -c "[ -z \"\$('$FERRY_BIN' --config '$CONF' ls 'ra:$A')\" ]"

# (b) a bucket that refuses unencrypted PutObject (bucket policy condition)
P=$(new_bucket ra)
cat > "$WORK/policy.json" <<JSON
{"Version": "2012-10-17", "Statement": [{
  "Sid": "DenyUnencrypted", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
  "Resource": "arn:aws:s3:::$P/*",
  "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}]}
JSON
aws_side a s3api put-bucket-policy --bucket "$P" --policy "file://$WORK/policy.json"
# RGW 16 enforces the condition on PutObject but refuses every CreateMultipartUpload there,
# with the header too (measured: 403): the policy bucket takes whole objects only
run ferry cp "$WORK/src" "ra:$P/plain/" --no-progress
check "(b) policy bucket: cp without --sse is refused (exit 1)" [ "$rc" = 1 ]
check "(b)   with AccessDenied" grep -q "access denied for" "$WORK/err"
run ferry cp "$WORK/src" "ra:$P/kms/" --no-progress --json --sse aws:kms --sse-kms-key-id testkey-1
check "(b) policy bucket: cp --sse aws:kms takes all three" \
  bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"objects_copied\"])')\" = 3 ]"
aws_side a s3api head-object --bucket "$P" --key kms/d/big.bin > "$WORK/head.json"
check "(b)   an object HEADs back SSE-KMS with testkey-1" \
  bash -c "grep -q '\"ServerSideEncryption\": \"aws:kms\"' '$WORK/head.json' &&
           grep -q '\"SSEKMSKeyId\": \"testkey-1\"' '$WORK/head.json'"
run ferry cp "$WORK/src" "ra:$A/kms-mp/" --no-progress --json "${MP[@]}" \
  --sse aws:kms --sse-kms-key-id testkey-1
aws_side a s3api head-object --bucket "$A" --key kms-mp/d/big.bin > "$WORK/head.json"
check "(b) SSE-KMS multipart upload: HEADs back with testkey-1, in parts" \
  bash -c "[ '$rc' = 0 ] && grep -q '\"SSEKMSKeyId\": \"testkey-1\"' '$WORK/head.json' &&
           grep -q 'ETag.*-3' '$WORK/head.json'"
aws_side a s3api head-object --bucket "$P" --key kms/small.bin > "$WORK/head.json"
check "(b)   and the whole one too" grep -q '"SSEKMSKeyId": "testkey-1"' "$WORK/head.json"
run ferry sync "$WORK/src" "ra:$P/sync/" --no-progress --json --sse aws:kms \
  --sse-kms-key-id testkey-2
check "(b) policy bucket: sync --sse aws:kms (testkey-2) copies three" \
  bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"objects_copied\"])')\" = 3 ]"
run ferry sync "$WORK/src" "ra:$P/sync/" --no-progress --json --sse aws:kms \
  --sse-kms-key-id testkey-2
check "(b) second sync of the SSE-KMS objects: nothing copied, no failure" \
  bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"objects_copied\"])')\" = 0 ]"
check "(b)   no corruption reported" bash -c "! grep -qi 'corrupt\|mismatch\|differs' '$WORK/err'"
run ferry cp "ra:$P/sync/" "$WORK/kms-back" --no-progress --json "${MP[@]}"
check "(b) SSE-KMS objects read back byte for byte (no key needed)" \
  bash -c "[ '$rc' = 0 ] && diff -r '$WORK/src' '$WORK/kms-back'"
B=$(new_bucket rb)
run ferry sync "ra:$P/sync/" "rb:$B/kms-copy/" --no-progress --json --sse aws:kms \
  --sse-kms-key-id testkey-1
check "(b) SSE-KMS objects from gateway A to gateway B (read and written)" [ "$rc" = 0 ]
check "(b)   the summary counts them as checked by ferry's CRC32C, not by ETag" \
  bash -c "[ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"objects_etag_encrypted\"])')\" = 3 ]"
run ferry sync "ra:$P/sync/" "rb:$B/kms-text/" --no-progress --sse aws:kms --sse-kms-key-id testkey-1
check "(b)   and says so in the text summary" \
  grep -q "3 objects copied are encrypted at the source (SSE-KMS or SSE-C): their ETags are not MD5s, so ferry's CRC32C checked them" "$WORK/err"
run ferry sync "ra:$P/sync/" "rb:$B/kms-copy/" --no-progress --json --sse aws:kms \
  --sse-kms-key-id testkey-1
check "(b)   a second sync copies nothing" bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"objects_copied\"])')\" = 0 ]"

# (c) AES256 (SSE-S3): RGW 16.2 answers 200 but stores the bytes plain and says nothing
run ferry cp "$WORK/src" "ra:$A/aes/" --include small.bin --no-progress --sse AES256
check "(c) --sse AES256 on RGW 16: exit 1" [ "$rc" = 1 ]
check "(c)   one line: the store did not confirm AES256" \
  grep -q "did not confirm server-side encryption AES256 (its reply has no x-amz-server-side-encryption header): it may have stored the bytes unencrypted; the object written was removed" "$WORK/err"
check "(c)   and the unencrypted object was removed" \
  bash -c "[ -z \"\$('$FERRY_BIN' --config '$CONF' ls 'ra:$A/aes/')\" ]"
run ferry cp "$WORK/src" "ra:$A/aes/" --include big.bin --no-progress --sse AES256 "${MP[@]}"
check "(c) multipart with AES256: refused at CreateMultipartUpload, nothing written" \
  bash -c "[ '$rc' = 1 ] && grep -q 'did not confirm server-side encryption AES256' '$WORK/err' &&
           [ -z \"\$('$FERRY_BIN' --config '$CONF' ls 'ra:$A/aes/')\" ]"

# (d) SSE-C round trip, whole and multipart
C=$(new_bucket ra)
run ferry cp "$WORK/src" "ra:$C/" --no-progress --json "${MP[@]}" --sse-c-key-file "$SCRATCH/k1.raw"
check "(d) cp up with --sse-c-key-file (the raw bytes): three objects" \
  bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"objects_copied\"])')\" = 3 ]"
aws_side a s3api head-object --bucket "$C" --key d/big.bin --sse-customer-algorithm AES256 \
  --sse-customer-key "$K1_RAW" > "$WORK/head.json"
check "(d)   the multipart object is SSE-C (HEAD with the key)" \
  grep -q '"SSECustomerAlgorithm": "AES256"' "$WORK/head.json"
check "(d)   a HEAD without the key is refused" \
  bash -c "! aws_side a s3api head-object --bucket '$C' --key d/big.bin >/dev/null 2>&1"
run ferry cp "ra:$C/" "$WORK/c-back" --no-progress "${MP[@]}" --sse-c-key-env SSE_K1
check "(d) cp down with --sse-c-key-env: byte for byte" \
  bash -c "[ '$rc' = 0 ] && diff -r '$WORK/src' '$WORK/c-back'"
run ferry cp "ra:$C/" "$WORK/c-nokey" --include small.bin --no-progress --no-state
check "(d) a read without the key fails (exit 1)" [ "$rc" = 1 ]
check "(d)   with one line: RGW's message" \
  bash -c "[ \$(grep -c 'Server Side Encryption with Customer provided keys must provide a valid encryption algorithm' '$WORK/err') = 1 ]"
run ferry cp "ra:$C/" "$WORK/c-nokey" --include big.bin --no-progress --no-state "${MP[@]}"
check "(d) a multipart one (a HEAD first, RGW's bare 400): one line naming the key it needs" \
  bash -c "[ '$rc' = 1 ] && [ \$(grep -c 'an SSE-C encrypted object is read only with its customer key' '$WORK/err') = 1 ]"
# the same without the key in a durable run (the default: a state file): every object fails,
# each with its own error (issue 43, item 12: each used to carry the first failure's)
run ferry cp "ra:$C/" "$WORK/c-nokey-durable" --no-progress --json "${MP[@]}"
own_errors() {  # it failed (exit 1), and each failure of its --json summary names its own key
  [ "$rc" = 1 ] || { echo "  exit $rc, not 1"; return 1; }
  python3 - "$WORK/out" <<'PY'
import json, sys
keys = ["small.bin", "d/big.bin", "d/hello.txt"]
f = json.load(open(sys.argv[1]))["failures"]
bad = [x for x in f if [k for k in keys if k in x["error"]] != [x["key"]]]
for x in bad: print("  %s: %s" % (x["key"], x["error"]))
sys.exit(0 if sorted(x["key"] for x in f) == sorted(keys) and not bad else 1)
PY
}
check "(d) a durable read without the key: each object fails with its own error" own_errors
run ferry cp "ra:$C/" "$WORK/c-wrong" --include small.bin --no-progress --no-state --sse-c-key-env SSE_K2
check "(d) a read with another key fails (exit 1)" [ "$rc" = 1 ]
run ferry sync "$WORK/src" "ra:$C/" --no-progress --json "${MP[@]}" --sse-c-key-env SSE_K1
check "(d) second sync of the SSE-C objects: nothing copied, no failure" \
  bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"objects_copied\"])')\" = 0 ]"
check "(d)   no corruption reported" bash -c "! grep -qi 'corrupt\|mismatch\|differs' '$WORK/err'"

# (e) from one SSE-C key to another in one gateway. RGW 16 answers 501 NotImplemented to a
# CopyObject of an encrypted source and ignores the encryption asked of a copy (measured), so
# with encryption on either side ferry copies through itself (S3Backend::CanCopyFrom)
E=$(new_bucket ra)
run ferry cp "ra:$C/" "ra:$E/" --no-progress --json "${MP[@]}" \
  --sse-c-copy-source-key-env SSE_K1 --sse-c-key-file "$SCRATCH/k2.b64"
check "(e) S3 -> S3 SSE-C (K1) to SSE-C (K2): three objects" \
  bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"objects_copied\"])')\" = 3 ]"
check "(e)   through ferry, not on the server" \
  bash -c "[ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"server_side_copies\"])')\" = 0 ]"
run ferry cp "ra:$E/" "$WORK/e-back" --no-progress --sse-c-key-file "$SCRATCH/k2.b64"
check "(e)   read back with K2, byte for byte" \
  bash -c "[ '$rc' = 0 ] && diff -r '$WORK/src' '$WORK/e-back'"
run ferry cp "ra:$E/" "$WORK/e-k1" --include small.bin --no-progress --no-state --sse-c-key-env SSE_K1
check "(e)   and not with K1" [ "$rc" = 1 ]
run ferry sync "ra:$C/" "ra:$E/" --no-progress --json "${MP[@]}" \
  --sse-c-copy-source-key-env SSE_K1 --sse-c-key-file "$SCRATCH/k2.b64"
check "(e) a second sync between the SSE-C buckets copies nothing" \
  bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"objects_copied\"])')\" = 0 ]"

# (f) the remote's sse_c_key_file (the key never in the file itself)
printf '%s\n' "$K2" > "$SCRATCH/k2.key"
cp "$CONF" "$WORK/keyfile.toml"
printf '\n[remotes.rk]\nendpoint = "%s"\nregion = "%s"\naccess_key_id_env = "RA_KEY"\nsecret_access_key_env = "RA_SECRET"\nsse_c_key_file = "%s"\n' \
  "$FERRY_TEST_S3_ENDPOINT" "${FERRY_TEST_S3_REGION:-region-a}" "$SCRATCH/k2.key" >> "$WORK/keyfile.toml"
run "$FERRY_BIN" --config "$WORK/keyfile.toml" cp "rk:$E/" "$WORK/f-back" --no-progress
check "(f) a remote with sse_c_key_file reads the SSE-C objects" \
  bash -c "[ '$rc' = 0 ] && diff -r '$WORK/src' '$WORK/f-back'"
printf '\n[remotes.rm]\nendpoint = "%s"\naccess_key_id_env = "RA_KEY"\nsecret_access_key_env = "RA_SECRET"\nsse_c_key_file = "%s"\n' \
  "$FERRY_TEST_S3_ENDPOINT" "$SCRATCH/missing.key" >> "$WORK/keyfile.toml"
check "(f) an unreadable sse_c_key_file: exit 2, one line naming it" \
  expect_error 2 "remote 'rm': cannot read sse_c_key_file $SCRATCH/missing.key" \
  "$FERRY_BIN" --config "$WORK/keyfile.toml" cp "$WORK/src" "rm:$E/f/"

# (g) replication: SseKmsEncryptedObjects selects SSE-KMS objects, ReplicaKmsKeyID re-encrypts
R=$(new_bucket ra)
D1=$(new_bucket rb)
D2=$(new_bucket rb)
for b in "$R"; do aws_side a s3api put-bucket-versioning --bucket "$b" \
  --versioning-configuration Status=Enabled; done
for b in "$D1" "$D2"; do aws_side b s3api put-bucket-versioning --bucket "$b" \
  --versioning-configuration Status=Enabled; done
aws_side a s3api put-object --bucket "$R" --key kms.bin --body "$WORK/src/small.bin" \
  --server-side-encryption aws:kms --ssekms-key-id testkey-1 > /dev/null
aws_side a s3api put-object --bucket "$R" --key plain.txt --body "$WORK/src/d/hello.txt" > /dev/null
cp "$CONF" "$WORK/rep.toml"
printf '\n[replication.buckets]\n"arn:aws:s3:::%s" = "rb:%s"\n"arn:aws:s3:::%s" = "rb:%s"\n' \
  "$D1" "$D1" "$D2" "$D2" >> "$WORK/rep.toml"
rule() {  # rule DEST_BUCKET CRITERIA_JSON ENCRYPTION_JSON
  cat <<JSON
{"Rules": [{"ID": "r", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
  "DeleteMarkerReplication": {"Status": "Disabled"},
  "ExistingObjectReplication": {"Status": "Enabled"}$2,
  "Destination": {"Bucket": "arn:aws:s3:::$1"$3}}]}
JSON
}
rule "$D1" ', "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}}' \
  ', "EncryptionConfiguration": {"ReplicaKmsKeyID": "testkey-2"}' > "$WORK/kms-rule.json"
run "$FERRY_BIN" --config "$WORK/rep.toml" replicate "ra:$R" --replication-config \
  "$WORK/kms-rule.json" --state "$SCRATCH/rep1.db" --json
check "(g) replicate with SseKmsEncryptedObjects Enabled: both objects" \
  bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"replicated\"])')\" = 2 ]"
aws_side b s3api head-object --bucket "$D1" --key kms.bin > "$WORK/head.json" 2>&1 || true
check "(g)   the KMS object's replica is encrypted with the replica key testkey-2" \
  bash -c "grep -q '\"ServerSideEncryption\": \"aws:kms\"' '$WORK/head.json' &&
           grep -q '\"SSEKMSKeyId\": \"testkey-2\"' '$WORK/head.json'"
aws_side b s3api get-object --bucket "$D1" --key kms.bin "$WORK/rep-kms.bin" > /dev/null
check "(g)   and reads back byte for byte" cmp "$WORK/src/small.bin" "$WORK/rep-kms.bin"
rule "$D2" '' '' > "$WORK/plain-rule.json"
run "$FERRY_BIN" --config "$WORK/rep.toml" replicate "ra:$R" --replication-config \
  "$WORK/plain-rule.json" --state "$SCRATCH/rep2.db" --json
check "(g) replicate without the criterion: the plain object only" \
  bash -c "[ '$rc' = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"replicated\"])')\" = 1 ]"
check "(g)   the KMS object left out and counted" \
  bash -c "[ \"\$(python3 -c 'import json; print(json.load(open(\"$WORK/out\"))[\"kms_not_selected\"])')\" = 1 ]"
check "(g)   and said so" grep -q "not replicating kms.bin .*encrypted (SSE-KMS or SSE-C) and rule 'r' does not select SseKmsEncryptedObjects" "$WORK/err"
check "(g)   it is not at the destination" \
  bash -c "! aws_side b s3api head-object --bucket '$D2' --key kms.bin >/dev/null 2>&1"
run "$FERRY_BIN" --config "$WORK/rep.toml" replicate "ra:$R" --replication-config \
  "$WORK/plain-rule.json" --state "$SCRATCH/rep2.db"
check "(g)   the text summary reports it" \
  grep -q "1 versions not replicated: they are encrypted (SSE-KMS or SSE-C)" "$WORK/out"

# the customer keys never show, in any form
check "no customer key (base64 or raw) in any output" \
  bash -c "! grep -qF -e '$K1' -e '$K2' -e '$K1_RAW' -e 'k2-sse-c-test-key' '$all'"
check "  (and there was output to look at)" grep -q "did not confirm" "$all"
check "no customer key in the state files" \
  bash -c "! grep -rqF -e '$K1' -e '$K2' -e '$K1_RAW' '$WORK/state' '$SCRATCH'/rep*.db 2>/dev/null"
finish
