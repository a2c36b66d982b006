#!/usr/bin/env bash
# S3 Object Lock and ACLs (docs/design/object-lock.md) against the RGW gateways: `ferry mb
# --object-lock` (and --default-retention); cp --preserve-lock carrying a GOVERNANCE retention and
# a legal hold, by server-side copy on one gateway and by GET/PUT and multipart to the other;
# a destination without object lock refused in one line before anything is copied; without the
# flag nothing is carried; `sync --delete` on an object-lock bucket adds delete markers and never
# removes a locked version; --acl public-read lets an anonymous GET through (the default does
# not), --grants read=id=... lets the second account read, unknown ACLs refused in one line;
# replication carries the lock to an object-lock destination, refuses one without, and
# AccessControlTranslation grants the replica to Destination.Account; --preserve-acl carries
# each object's own grants (on the server and through ferry), refused in one line where a side
# keeps no ACLs.
# Needs the second account of gateway A (FERRY_TEST_S3_ACCESS_KEY_OTHER, scripts/rgw-start.sh).
source "$(dirname "$0")/testlib.bash"
SCRATCH=${FERRY_TEST_TMPDIR:-$WORK}
export HOME=$SCRATCH/home  # no ~/.config/ferry or ~/.aws of the machine
mkdir -p "$HOME"
OTHER_KEY=${FERRY_TEST_S3_ACCESS_KEY_OTHER:-}
OTHER_SECRET=${FERRY_TEST_S3_SECRET_KEY_OTHER:-}
OTHER_ID=${FERRY_TEST_S3_OTHER_USER_ID:-tester-other}

source "$(dirname "$0")/locklib.bash"
trap 'unlock_all; cleanup' EXIT

# --- ferry mb --object-lock ---------------------------------------------------------------------
S=$(lock_bucket ra); LOCKED+=("ra:$S")
check "mb --versioning --object-lock: the bucket has object lock" \
  test "$(aws_side a s3api get-object-lock-configuration --bucket "$S" \
          --query ObjectLockConfiguration.ObjectLockEnabled --output text)" = Enabled
check "  and versioning" \
  test "$(aws_side a s3api get-bucket-versioning --bucket "$S" --query Status --output text)" = Enabled
V="ferry-lock-$$-v$RANDOM"; LOCKED+=("ra:$V")
check "mb --versioning (no object lock)" ferry mb "ra:$V" --versioning
check "  versioning enabled, no object lock" \
  test "$(aws_side a s3api get-bucket-versioning --bucket "$V" --query Status --output text)" = Enabled
R=$(lock_bucket ra --default-retention governance:1); LOCKED+=("ra:$R")
check "mb --default-retention GOVERNANCE:1: the rule is set" \
  test "$(aws_side a s3api get-object-lock-configuration --bucket "$R" --query \
          'ObjectLockConfiguration.Rule.DefaultRetention.[Mode,Days]' --output text)" = "GOVERNANCE	1"
check "mb --default-retention without --object-lock: exit 2, one line" \
  expect_error 2 "--default-retention needs --object-lock" \
  ferry mb "ra:ferry-lock-$$-never" --default-retention GOVERNANCE:1
check "mb --default-retention BAD: exit 2, one line" \
  expect_error 2 "is not MODE:DAYS" ferry mb "ra:ferry-lock-$$-never" --object-lock \
  --default-retention LEGAL:3

# --- cp --preserve-lock ---------------------------------------------------------------------------
UNTIL=$(until_in 900)
printf 'locked' > "$WORK/locked.txt"
head -c $((12 * 1024 * 1024 + 3)) /dev/urandom > "$WORK/big.bin"
aws_side a s3api put-object --bucket "$S" --key held.txt --body "$WORK/locked.txt" \
  --object-lock-mode GOVERNANCE --object-lock-retain-until-date "$UNTIL" \
  --object-lock-legal-hold-status ON >/dev/null
aws_side a s3api put-object --bucket "$S" --key big.bin --body "$WORK/big.bin" \
  --object-lock-mode GOVERNANCE --object-lock-retain-until-date "$UNTIL" >/dev/null
aws_side a s3api put-object --bucket "$S" --key plain.txt --body "$WORK/locked.txt" >/dev/null
want_until=$(head_field a "$S" held.txt ObjectLockRetainUntilDate)

D=$(lock_bucket ra); LOCKED+=("ra:$D")
check "cp --preserve-lock, one gateway (server-side copies)" \
  ferry cp "ra:$S" "ra:$D" --preserve-lock --no-progress
check "  retention carried: GOVERNANCE until the source's date" \
  test "$(head_field a "$D" held.txt '[ObjectLockMode,ObjectLockRetainUntilDate]')" = \
       "GOVERNANCE	$want_until"
check "  legal hold carried" test "$(head_field a "$D" held.txt ObjectLockLegalHoldStatus)" = ON
check "  the 12 MiB object's retention carried" \
  test "$(head_field a "$D" big.bin ObjectLockMode)" = GOVERNANCE
check "  an object without lock stays without" \
  test "$(head_field a "$D" plain.txt ObjectLockMode)" = None

DB=$(lock_bucket rb); LOCKED+=("rb:$DB")
check "cp --preserve-lock to the other gateway (GET/PUT; multipart above 5 MiB)" \
  ferry cp "ra:$S" "rb:$DB" --preserve-lock --no-progress --multipart-threshold 5MiB \
  --part-size 5MiB
check "  retention and legal hold carried" \
  test "$(head_field b "$DB" held.txt '[ObjectLockMode,ObjectLockRetainUntilDate,ObjectLockLegalHoldStatus]')" = \
       "GOVERNANCE	$want_until	ON"
check "  the multipart object's retention carried" \
  test "$(head_field b "$DB" big.bin '[ObjectLockMode,ObjectLockRetainUntilDate]')" = \
       "GOVERNANCE	$want_until"
aws_side b s3 cp "s3://$DB/big.bin" "$WORK/big.back" >/dev/null
check "  bytes intact" cmp -s "$WORK/big.back" "$WORK/big.bin"

P=$(new_bucket ra)
check "cp --preserve-lock to a bucket without object lock: exit 1, one line naming it" \
  expect_error 1 "destination s3://$P.* has no object lock" \
  ferry cp "ra:$S" "ra:$P" --preserve-lock --no-progress
check "  nothing was copied" test -z "$(ferry ls "ra:$P")"
check "cp --preserve-lock to a local folder: refused the same way" \
  expect_error 1 "has no object lock" ferry cp "ra:$S" "$WORK/local" --preserve-lock --no-progress
check "cp without --preserve-lock: copied, nothing carried (opt-in)" \
  ferry cp "ra:$S" "ra:$P" --no-progress
check "  no retention on the copy" test "$(head_field a "$P" held.txt ObjectLockMode)" = None

# --- sync --delete on an object-lock bucket ------------------------------------------------------
mkdir -p "$WORK/only-plain"
cp "$WORK/locked.txt" "$WORK/only-plain/plain.txt"
check "sync --delete to an object-lock bucket with locked versions: exit 0" \
  ferry sync "$WORK/only-plain" "ra:$D" --delete --no-progress
versions_of() {  # versions_of BUCKET KEY: "VERSIONS MARKERS" of KEY on gateway A
  aws_side a s3api list-object-versions --bucket "$1" --prefix "$2" --output json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d.get("Versions",[])), len(d.get("DeleteMarkers",[])))'
}
check "  the locked version is kept under a delete marker" test "$(versions_of "$D" held.txt)" = "1 1"
held_version=$(aws_side a s3api list-object-versions --bucket "$D" --prefix held.txt \
  --query 'Versions[0].VersionId' --output text)
check "  the locked version still has its legal hold" \
  test "$(aws_side a s3api head-object --bucket "$D" --key held.txt --version-id "$held_version" \
    --query ObjectLockLegalHoldStatus --output text)" = ON

# --- ACLs ------------------------------------------------------------------------------------------
echo public > "$WORK/pub.txt"
mkdir -p "$WORK/acl"; cp "$WORK/pub.txt" "$WORK/acl/pub.txt"
check "cp --acl public-read" ferry cp "$WORK/acl" "ra:$P/pub/" --acl public-read --no-progress
check "  an anonymous GET succeeds" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$FERRY_TEST_S3_ENDPOINT/$P/pub/pub.txt")" = 200
check "cp without --acl" ferry cp "$WORK/acl" "ra:$P/priv/" --no-progress
check "  an anonymous GET is refused (403)" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$FERRY_TEST_S3_ENDPOINT/$P/priv/pub.txt")" = 403
check "server-side cp --acl public-read (one gateway: CopyObject)" \
  ferry cp "ra:$P/priv/" "ra:$P/pub2/" --acl public-read --no-progress
check "  an anonymous GET succeeds" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$FERRY_TEST_S3_ENDPOINT/$P/pub2/pub.txt")" = 200
check "--acl unknown: exit 2, one line" \
  expect_error 2 'unknown canned ACL "world"' ferry cp "$WORK/acl" "ra:$P/x/" --acl world --no-progress
check "--grants bad: exit 2, one line" \
  expect_error 2 'grant "write=id=x"' ferry cp "$WORK/acl" "ra:$P/x/" --grants write=id=x --no-progress
other_get() {  # other_get BUCKET/KEY: the HTTP status of a GET signed by the second account
  curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:${FERRY_TEST_S3_REGION:-region-a}:s3" \
    --user "$OTHER_KEY:$OTHER_SECRET" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "$FERRY_TEST_S3_ENDPOINT/$1"
}
if [ -n "$OTHER_KEY" ]; then
  check "cp --grants read=id=$OTHER_ID" \
    ferry cp "$WORK/acl" "ra:$P/granted/" --grants "read=id=$OTHER_ID" --no-progress
  check "  the second account reads it" test "$(other_get "$P/granted/pub.txt")" = 200
  check "  but not an object written without the grant" test "$(other_get "$P/priv/pub.txt")" = 403
  # --preserve-acl: each object's own grants go with it, on the server (CopyObject) and through
  # ferry (gateway S serves zone A on another endpoint: another client, so GET then PUT)
  # (the source grants its owner full control too: grants replace the default ACL, and the
  # owner reads the source to copy it)
  OWNER_ID=$(aws_side a s3api get-bucket-acl --bucket "$P" --query Owner.ID --output text)
  ferry cp "$WORK/acl" "ra:$P/shared/" --grants "read=id=$OTHER_ID" "full=id=$OWNER_ID" \
    --no-progress >/dev/null 2>&1
  check "cp --preserve-acl (server-side)" \
    ferry cp "ra:$P/shared/" "ra:$P/kept/" --preserve-acl --no-progress
  check "  the second account reads the copy" test "$(other_get "$P/kept/pub.txt")" = 200
  ferry cp "ra:$P/shared/" "ra:$P/notkept/" --no-progress >/dev/null 2>&1
  check "  and not a copy made without --preserve-acl" test "$(other_get "$P/notkept/pub.txt")" = 403
  if [ -n "${FERRY_TEST_S3_STS_ENDPOINT:-}" ]; then
    cat >> "$CONF" <<TOML

[remotes.rs]
endpoint = "$FERRY_TEST_S3_STS_ENDPOINT"
region = "${FERRY_TEST_S3_REGION:-region-a}"
access_key_id_env = "RA_KEY"
secret_access_key_env = "RA_SECRET"
TOML
    check "cp --preserve-acl through ferry (gateway A to gateway S)" \
      ferry cp "ra:$P/shared/" "rs:$P/kept2/" --preserve-acl --no-progress
    check "  the second account reads that copy too" test "$(other_get "$P/kept2/pub.txt")" = 200
  else
    echo "FAIL - --preserve-acl through ferry: no gateway S (FERRY_TEST_S3_STS_ENDPOINT)"
    FAILS=$((FAILS + 1))
  fi
  check "--preserve-acl with --acl: exit 2, one line" \
    expect_error 2 'exclude each other' ferry cp "ra:$P/shared/" "ra:$P/x/" --preserve-acl --acl private
  check "--preserve-acl to a folder: exit 2, one line" \
    expect_error 2 'keeps no ACLs' ferry cp "ra:$P/shared/" "$WORK/noacl" --preserve-acl
else
  echo "skip - --grants and AccessControlTranslation: no second account (FERRY_TEST_S3_ACCESS_KEY_OTHER)"
fi

# --- replication: the lock goes to an object-lock destination; AccessControlTranslation ----------
RL=$(lock_bucket ra); LOCKED+=("ra:$RL")
RP=$(new_bucket ra)
aws_side a s3api put-bucket-versioning --bucket "$RP" --versioning-configuration Status=Enabled
cat > "$WORK/rep.toml" <<TOML
$(cat "$CONF")

[replication.buckets]
"arn:aws:s3:::$RL" = "ra:$RL"
"arn:aws:s3:::$RP" = "ra:$RP"
TOML
rules() {  # rules DEST_BUCKET [DESTINATION_EXTRA_JSON]
  printf '{"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {}, "ExistingObjectReplication": {"Status": "Enabled"}, "Destination": {"Bucket": "arn:aws:s3:::%s"%s}}]}' \
    "$1" "${2:+, $2}" > "$WORK/rules.json"
}
rules "$RL"
check "replicate to an object-lock destination" \
  "$FERRY_BIN" --config "$WORK/rep.toml" replicate "ra:$S" --replication-config "$WORK/rules.json" \
  --state "$WORK/rep1.db"
check "  the replica has the retention and legal hold" \
  test "$(head_field a "$RL" held.txt '[ObjectLockMode,ObjectLockRetainUntilDate,ObjectLockLegalHoldStatus]')" = \
       "GOVERNANCE	$want_until	ON"
if [ -n "$OTHER_KEY" ]; then
  rules "$RP" "\"Account\": \"$OTHER_ID\", \"AccessControlTranslation\": {\"Owner\": \"Destination\"}"
  "$FERRY_BIN" --config "$WORK/rep.toml" replicate "ra:$S" --replication-config "$WORK/rules.json" \
    --state "$WORK/rep2.db" >"$WORK/rep.out" 2>"$WORK/rep.err" || true
  check "replicate to a destination without object lock: the locked versions fail, one line each" \
    grep -q "has no object lock: the retention or legal hold of held.txt cannot be carried" \
    "$WORK/rep.err" "$WORK/rep.out"
  check "  the version without lock replicated, readable by Destination.Account" \
    test "$(other_get "$RP/plain.txt")" = 200
fi

finish
